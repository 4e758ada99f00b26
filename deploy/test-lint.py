#!/usr/bin/env python3
"""deploy/lint.sh must fail on broken packaging, not only pass on this one.

Runs the lint on an unchanged copy of docker/ and deploy/kubernetes/ (it must pass), then on
copies each broken in one way (it must fail, and say why). Each break is a text replacement that
must apply, so a break that no longer matches the files fails this test instead of passing
vacuously.

    deploy/test-lint.py
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
K8S = "deploy/kubernetes"

# (what is broken, file, text, replacement, what the lint must say)
BREAKS = [
    ("one replica", f"{K8S}/deployment.yaml", "replicas: 2", "replicas: 1", "fewer than 2 replicas"),
    ("a misspelt field", f"{K8S}/deployment.yaml", "readinessProbe:", "readinesProbe:",
     "'readinesProbe' was unexpected"),
    ("a field of the wrong type", f"{K8S}/service.yaml", "port: 80", "port: eighty", "is not of type"),
    ("readiness on the liveness path", f"{K8S}/deployment.yaml", "path: /readyz", "path: /healthz",
     "readinessProbe is not GET /readyz"),
    ("a probe on a port the pod lacks", f"{K8S}/deployment.yaml",
     "path: /readyz\n              port: http", "path: /readyz\n              port: metrics",
     "readinessProbe names a port"),
    ("a rollout that may take a replica down", f"{K8S}/deployment.yaml", "maxUnavailable: 0",
     "maxUnavailable: 1", "maxUnavailable 0"),
    ("root allowed", f"{K8S}/deployment.yaml", "runAsNonRoot: true", "runAsNonRoot: false",
     "runAsNonRoot"),
    ("a writable root filesystem", f"{K8S}/deployment.yaml", "readOnlyRootFilesystem: true",
     "readOnlyRootFilesystem: false", "root filesystem not read-only"),
    ("the Secret's key misnamed", f"{K8S}/deployment.yaml", "key: url", "key: uri",
     "does not come from a key of the Secret"),
    ("a PodDisruptionBudget selecting no pod", f"{K8S}/pdb.yaml", "component: server",
     "component: web", "PodDisruptionBudget: selector"),
    ("a Service selecting no pod", f"{K8S}/service.yaml", "app.kubernetes.io/name: payer-sandbox\n    app",
     "app.kubernetes.io/name: payer-sandbox-web\n    app", "Service: selector"),
    ("the Secret template in the kustomization", f"{K8S}/kustomization.yaml", "  - pdb.yaml",
     "  - pdb.yaml\n  - secret.yaml", "lists the Secret template"),
    ("an unknown compose key", "docker/compose.hosted.yaml", "restart: unless-stopped\n  # Hosted",
     "restrat: unless-stopped\n  # Hosted", "additional properties 'restrat' not allowed"),
    ("a database without a healthcheck", "docker/compose.hosted.yaml",
     "pg_isready -h 127.0.0.1", "true", "no pg_isready healthcheck"),
    ("replicas not waiting for the database", "docker/compose.hosted.yaml",
     "condition: service_healthy", "condition: service_started", "does not wait for a healthy database"),
    ("a public URL that is not the balancer's", "docker/compose.hosted.yaml",
     "http://localhost:${PAYER_SANDBOX_PORT:-8080}", "http://localhost:8080",
     "(PAYER_SANDBOX_PORT=9090): replica-1 announces"),
    ("the database URL inline", "docker/compose.hosted.yaml", "PAYER_SANDBOX_LOG_FORMAT: json",
     "PAYER_SANDBOX_LOG_FORMAT: json\n    PAYER_SANDBOX_DATABASE: postgres://sandbox:pw@db:5432/payer",
     "written inline"),
    ("sticky sessions", "docker/haproxy.cfg", "balance roundrobin",
     "balance roundrobin\n    cookie SERVERID insert indirect nocache", "sticky sessions"),
    ("balancing by client address", "docker/haproxy.cfg", "balance roundrobin", "balance source",
     "not round-robin"),
    ("the balancer checking liveness", "docker/haproxy.cfg", "option httpchk GET /readyz",
     "option httpchk GET /healthz", "does not check /readyz"),
    ("a replica out of the balancer", "docker/haproxy.cfg", "    server replica-2 replica-2:8080\n", "",
     "no server line for replica-2"),
]


def copy_tree(into):
    shutil.copytree(HERE / "docker", into / "docker")
    shutil.copytree(HERE / K8S, into / K8S)


def lint(root):
    return subprocess.run([str(HERE / "deploy/lint.sh"), str(root)], capture_output=True, text=True)


def main():
    passed, failed = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        pristine = Path(tmp) / "pristine"
        copy_tree(pristine)
        result = lint(pristine)
        if result.returncode == 0:
            passed += 1
            print("ok   unchanged copy: lint passes")
        else:
            failed += 1
            print(f"FAIL unchanged copy: lint failed\n{result.stdout}{result.stderr}")
        for number, (what, path, text, replacement, expected) in enumerate(BREAKS):
            root = Path(tmp) / f"break-{number}"
            copy_tree(root)
            target = root / path
            content = target.read_text()
            if content.count(text) < 1:
                failed += 1
                print(f"FAIL {what}: {text!r} is not in {path}: the break no longer applies")
                continue
            target.write_text(content.replace(text, replacement, 1))
            result = lint(root)
            output = result.stdout + result.stderr
            if result.returncode != 0 and expected in output:
                passed += 1
                print(f"ok   {what}: lint fails ({expected})")
            else:
                failed += 1
                print(f"FAIL {what}: exit {result.returncode}, expected a failure saying {expected!r}\n{output}")
    print(f"deploy-lint: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
