"""The promises docs/hosted.md makes about the hosted-mode packaging, checked on the files.

Schemas say a manifest is well formed; this says it does what it is for: the properties a schema
cannot see, most of them relations between files (a probe's path, a selector and the labels it
must match, a Secret and its reference, the balancer's address and the URL the replicas
announce). deploy/lint.sh runs it after the schema checks:

    check_packaging.py ROOT COMPOSE_JSON [COMPOSE_JSON_ON_OTHER_PORT OTHER_PORT]

ROOT holds docker/ and deploy/kubernetes/; COMPOSE_JSON is `docker compose config --format json`
of docker/compose.hosted.yaml, so compose's own interpolation and env files are already applied.
The optional second rendering was made with PAYER_SANDBOX_PORT=OTHER_PORT. Every broken promise
is printed; the exit status is 1 if there was one.
"""

import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# The paths the server serves them on (docs/hosted.md#readiness).
READINESS = "/readyz"
LIVENESS = "/healthz"
# /readyz gives the database query this long; a probe must wait longer than that.
READYZ_QUERY_SECONDS = 2

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def subset(labels, of):
    return bool(labels) and all(of.get(k) == v for k, v in labels.items())


def dockerfile_facts(root):
    """The image's user id and the port its entrypoint listens on."""
    text = (root / "docker/Dockerfile").read_text()
    user = re.search(r"^USER\s+(\d+)", text, re.M)
    listen = re.search(r'"--listen",\s*"[^"]*:(\d+)"', text)
    check(user and listen, "docker/Dockerfile: no numeric USER or no --listen in ENTRYPOINT")
    return (int(user.group(1)) if user else None, int(listen.group(1)) if listen else None)


def load_manifests(directory):
    by_kind = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                by_kind.setdefault(doc["kind"], []).append((path.name, doc))
    return by_kind


def one(by_kind, kind):
    found = by_kind.get(kind, [])
    check(len(found) == 1, f"kubernetes: expected one {kind}, found {len(found)}")
    return found[0][1] if found else {}


def probe_port_ok(probe, container):
    port = probe.get("httpGet", {}).get("port")
    return any(port in (p.get("name"), p.get("containerPort")) for p in container.get("ports", []))


def check_kubernetes(root, image_user, image_port):
    directory = root / "deploy/kubernetes"
    by_kind = load_manifests(directory)
    deployment = one(by_kind, "Deployment")
    service = one(by_kind, "Service")
    pdb = one(by_kind, "PodDisruptionBudget")
    secret = one(by_kind, "Secret")
    configmap = one(by_kind, "ConfigMap")

    spec = deployment.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    pod_labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    check(spec.get("replicas", 1) >= 2, "Deployment: fewer than 2 replicas")
    check(
        subset(spec.get("selector", {}).get("matchLabels", {}), pod_labels),
        "Deployment: selector does not match the pod template's labels",
    )
    strategy = spec.get("strategy", {})
    rolling = strategy.get("rollingUpdate", {})
    check(
        strategy.get("type") == "RollingUpdate" and rolling.get("maxUnavailable") in (0, "0%"),
        "Deployment: not a rolling update with maxUnavailable 0",
    )
    check(rolling.get("maxSurge") not in (0, "0%"), "Deployment: maxSurge 0 with maxUnavailable 0 cannot roll")
    check(pod.get("enableServiceLinks") is False,
          "Deployment: service links on (they set PAYER_SANDBOX_* variables for the Service)")

    containers = [c for c in pod.get("containers", []) if c.get("name") == "payer-sandbox"]
    if not check(len(containers) == 1, "Deployment: no container named payer-sandbox"):
        return
    container = containers[0]
    check(
        any(p.get("containerPort") == image_port for p in container.get("ports", [])),
        f"Deployment: no containerPort {image_port}, the port the image listens on",
    )
    for name, path in (("readinessProbe", READINESS), ("livenessProbe", LIVENESS), ("startupProbe", LIVENESS)):
        probe = container.get(name)
        if name == "startupProbe" and probe is None:
            continue
        if check(probe is not None, f"Deployment: no {name}"):
            check(probe.get("httpGet", {}).get("path") == path, f"Deployment: {name} is not GET {path}")
            check(probe_port_ok(probe, container), f"Deployment: {name} names a port the container does not have")
    readiness = container.get("readinessProbe") or {}
    check(readiness.get("timeoutSeconds", 1) > READYZ_QUERY_SECONDS,
          f"Deployment: readinessProbe times out before /readyz's {READYZ_QUERY_SECONDS} s database query")

    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    check(security.get("runAsNonRoot") is True, "Deployment: runAsNonRoot is not true")
    check(security.get("runAsUser") == image_user, f"Deployment: runAsUser is not the image's user {image_user}")
    check(security.get("readOnlyRootFilesystem") is True, "Deployment: root filesystem not read-only")
    check(security.get("allowPrivilegeEscalation") is False, "Deployment: privilege escalation allowed")
    check("ALL" in security.get("capabilities", {}).get("drop", []), "Deployment: capabilities not all dropped")
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        check({"cpu", "memory"} <= set(resources.get(kind, {})), f"Deployment: no cpu and memory {kind}")

    env = {e["name"]: e for e in container.get("env", [])}
    database = env.get("PAYER_SANDBOX_DATABASE", {})
    ref = database.get("valueFrom", {}).get("secretKeyRef", {})
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    check("value" not in database, "Deployment: the database URL is written inline")
    check(
        ref.get("name") == secret.get("metadata", {}).get("name") and ref.get("key") in secret_keys,
        "Deployment: PAYER_SANDBOX_DATABASE does not come from a key of the Secret",
    )
    check("PAYER_SANDBOX_DATABASE" not in configmap.get("data", {}), "ConfigMap: holds the database URL")
    env_from = [e.get("configMapRef", {}).get("name") for e in container.get("envFrom", [])]
    check(configmap.get("metadata", {}).get("name") in env_from, "Deployment: does not read the ConfigMap")
    public_url = configmap.get("data", {}).get("PAYER_SANDBOX_PUBLIC_URL", "")
    check(urlsplit(public_url).scheme in ("http", "https") and urlsplit(public_url).netloc,
          "ConfigMap: PAYER_SANDBOX_PUBLIC_URL is not an absolute http(s) URL")

    service_spec = service.get("spec", {})
    check(subset(service_spec.get("selector", {}), pod_labels),
          "Service: selector does not match the Deployment's pods")
    check(service_spec.get("sessionAffinity", "None") == "None", "Service: session affinity on")
    for port in service_spec.get("ports", []):
        target = port.get("targetPort", port.get("port"))
        check(any(target in (p.get("name"), p.get("containerPort")) for p in container.get("ports", [])),
              f"Service: targetPort {target!r} is not a port of the container")

    pdb_spec = pdb.get("spec", {})
    check(subset(pdb_spec.get("selector", {}).get("matchLabels", {}), pod_labels),
          "PodDisruptionBudget: selector does not match the Deployment's pods")
    check(pdb_spec.get("minAvailable") == 1, "PodDisruptionBudget: minAvailable is not 1")

    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    listed = set(kustomization.get("resources", []))
    files = {p.name for p in directory.glob("*.yaml")} - {"kustomization.yaml", "secret.yaml"}
    check("secret.yaml" not in listed, "kustomization.yaml: lists the Secret template (re-applying would put the placeholder back)")
    check(listed == files, f"kustomization.yaml: resources {sorted(listed)} are not the manifests {sorted(files)}")
    check(any(i.get("name") == container.get("image") for i in kustomization.get("images", [])),
          "kustomization.yaml: `images` does not name the Deployment's image")


def haproxy_config(root):
    """The non-comment lines of docker/haproxy.cfg, by section."""
    sections, current = {}, None
    for raw in (root / "docker/haproxy.cfg").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not raw[0].isspace():
            current = line
            sections[current] = []
        elif current is not None:
            sections[current].append(" ".join(line.split()))
    return sections


def check_compose(root, compose, image_port, port=None):
    where = f"compose.hosted.yaml (PAYER_SANDBOX_PORT={port})" if port else "compose.hosted.yaml"
    # As written, before compose merges the env file in: the URL, password and all, must not be.
    written = yaml.safe_load((root / "docker/compose.hosted.yaml").read_text())
    for name, service in written.get("services", {}).items():
        environment = service.get("environment") or {}
        names = environment if isinstance(environment, dict) else [e.split("=")[0] for e in environment]
        check("PAYER_SANDBOX_DATABASE" not in names,
              f"{where}: {name}'s database URL is written inline, not in an env file")
    services = compose.get("services", {})
    db = services.get("db", {})
    if not check(db.get("image", "").startswith("postgres:"), f"{where}: no `db` service on the postgres image"):
        return
    check("pg_isready" in " ".join(db.get("healthcheck", {}).get("test", [])), f"{where}: db has no pg_isready healthcheck")
    check(
        any(v.get("type") == "volume" and v.get("source") in compose.get("volumes", {})
            and v.get("target") == "/var/lib/postgresql/data" for v in db.get("volumes", [])),
        f"{where}: db's data is not on a named volume",
    )

    replicas = {name: s for name, s in services.items()
                if s.get("build", {}).get("dockerfile") == "docker/Dockerfile"}
    check(len(replicas) >= 2, f"{where}: fewer than two replicas built from docker/Dockerfile")
    balancers = [s for s in services.values() if s.get("image", "").startswith("haproxy:")]
    if not check(len(balancers) == 1, f"{where}: no HAProxy service"):
        return
    balancer = balancers[0]
    published = [p for p in balancer.get("ports", []) if p.get("published")]
    check(len(published) == 1, f"{where}: the balancer publishes not exactly one port")
    check(any(v.get("source", "").endswith("/docker/haproxy.cfg") for v in balancer.get("volumes", [])),
          f"{where}: the balancer does not mount docker/haproxy.cfg")
    check(set(balancer.get("depends_on", {})) >= set(replicas), f"{where}: the balancer does not start after the replicas")
    public = f"http://localhost:{published[0]['published']}" if published else None

    for name, replica in replicas.items():
        env = replica.get("environment", {})
        check(replica.get("depends_on", {}).get("db", {}).get("condition") == "service_healthy",
              f"{where}: {name} does not wait for a healthy database")
        url = urlsplit(env.get("PAYER_SANDBOX_DATABASE") or "")
        check(url.scheme in ("postgres", "postgresql") and url.hostname == "db",
              f"{where}: {name}'s PAYER_SANDBOX_DATABASE is not a postgres:// URL of the db service")
        check(env.get("PAYER_SANDBOX_PUBLIC_URL") == public,
              f"{where}: {name} announces {env.get('PAYER_SANDBOX_PUBLIC_URL')!r}, not the balancer's {public!r}")
        check(replica.get("read_only") is True, f"{where}: {name}'s root filesystem is writable")

    sections = haproxy_config(root)
    backends = [lines for head, lines in sections.items() if head.startswith("backend ")]
    frontends = [lines for head, lines in sections.items() if head.startswith("frontend ")]
    if not check(len(backends) == 1 and len(frontends) == 1, "haproxy.cfg: not one frontend and one backend"):
        return
    backend = backends[0]
    targets = {p.get("target") for p in published}
    check(any(re.fullmatch(rf"bind \S*:{t}", line) for line in frontends[0] for t in targets),
          "haproxy.cfg: the frontend does not bind the port the balancer publishes")
    check("balance roundrobin" in backend, "haproxy.cfg: not round-robin")
    check(f"option httpchk GET {READINESS}" in backend, f"haproxy.cfg: does not check {READINESS}")
    check("http-check expect status 200" in backend, "haproxy.cfg: a check does not require 200")
    sticky = [line for line in backend if line.split()[0] in ("cookie", "stick", "stick-table", "hash-type")
              or line.startswith("balance source")]
    check(not sticky, f"haproxy.cfg: sticky sessions ({sticky})")
    checked = any(line.startswith("default-server") and " check" in f" {line} " for line in backend)
    for name, replica in replicas.items():
        servers = [line for line in backend if re.fullmatch(rf"server \S+ {re.escape(name)}:(\d+)( .*)?", line)]
        check(len(servers) == 1, f"haproxy.cfg: no server line for {name}")
        for line in servers:
            check(checked or " check" in line, f"haproxy.cfg: {name} is not health-checked")
            # The port the image listens on (docker/Dockerfile's --listen).
            check(line.split()[2].endswith(f":{image_port}"), f"haproxy.cfg: {name} is not addressed on port {image_port}")


if __name__ == "__main__":
    root = Path(sys.argv[1])
    image_user, image_port = dockerfile_facts(root)
    check_kubernetes(root, image_user, image_port)
    check_compose(root, json.loads(Path(sys.argv[2]).read_text()), image_port)
    if len(sys.argv) > 3:
        check_compose(root, json.loads(Path(sys.argv[3]).read_text()), image_port, port=sys.argv[4])
    for failure in failures:
        print(f"FAIL {failure}")
    if failures:
        sys.exit(1)
    print("packaging: Deployment, Service, PodDisruptionBudget, Secret, ConfigMap, kustomization, "
          "compose file and HAProxy configuration keep their promises")
