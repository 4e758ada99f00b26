#!/usr/bin/env python3
"""docker/haproxy.cfg in front of two real replicas sharing a real PostgreSQL, without containers.

docker/compose.hosted.yaml cannot be started in CI (its images come from a registry CI cannot
reach, whether or not a container engine runs), so this runs the same pieces as processes on loopback: PostgreSQL from Debian's packages
(initdb and pg_ctl as an unprivileged user), two replicas of the binary (by default the image's
own, target/rootfs/usr/local/bin/payer-sandbox; else $PAYER_SANDBOX_BIN, else a debug build)
configured as the compose file configures them (as root, the image's binary runs alone in a copy
of the image's filesystem as the image's user, and reaches the database by the name `db`, as in
the compose network), and Debian's HAProxy on docker/haproxy.cfg with
only the addresses changed: the compose service names become loopback ports, and the Docker DNS
resolver goes (there is none). Every other line, balancing, checks, retries, timeouts, is the
committed file's. Missing Debian packages (haproxy, postgresql) are installed with apt-get.

    deploy/test-balancer.py

What it shows:
- `haproxy -c` accepts the committed file as it is;
- through the balancer, /readyz and the SMART configuration answer, the configuration names the
  balancer's address, and requests alternate between the two replicas (round-robin);
- clock moves sent through the balancer land on both replicas and are seen by both;
- a replica that stops is not noticed by clients: its requests go to the other one;
- with the database stopped every replica is unready, so the balancer answers 503 (liveness
  stays 200); with the database back the balancer serves again, with no restart.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target/balancer-test"
PG_USER = "payer-sandbox-pg"
processes = []
results = {"passed": 0, "failed": 0}


def say(message):
    print(message, flush=True)


def verdict(ok, what):
    results["passed" if ok else "failed"] += 1
    say(f"{'ok  ' if ok else 'FAIL'} {what}")
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return None, str(error)


def wait_for(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def ensure_debian_packages():
    missing = []
    if not shutil.which("haproxy") and not Path("/usr/sbin/haproxy").exists():
        missing.append("haproxy")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        missing.append("postgresql")
    if missing:
        if os.geteuid() != 0:
            sys.exit(f"missing {' '.join(missing)}, and installing it needs root")
        say(f"installing Debian's {' '.join(missing)} (apt-get install)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                       stdout=subprocess.DEVNULL)


def binary():
    if os.environ.get("PAYER_SANDBOX_BIN"):
        return os.environ["PAYER_SANDBOX_BIN"]
    image = ROOT / "target/rootfs/usr/local/bin/payer-sandbox"
    if image.exists():
        return str(image)
    subprocess.run(["cargo", "build", "--locked", "--quiet"], check=True, cwd=ROOT)
    return str(ROOT / "target/debug/payer-sandbox")


class Postgres:
    """A throwaway cluster; PostgreSQL refuses to run as root, so as root it runs as PG_USER."""

    def __init__(self):
        self.bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
        self.dir = OUT / "pg"
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            if subprocess.run(["id", PG_USER], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                PG_USER], check=True)
            self.as_user = ["runuser", "-u", PG_USER, "--"]
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        if self.as_user:
            shutil.chown(self.dir, PG_USER)
        subprocess.run([*self.as_user, str(self.bindir / "initdb"), "-D", str(self.dir / "data"), "-U", "sandbox",
                        "--auth=trust", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgres://sandbox@127.0.0.1:{self.port}/postgres"

    def ctl(self, *action):
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"),
                        "-l", str(self.dir / "server.log"),
                        "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                        *action], check=True, stdout=subprocess.DEVNULL)

    def start(self):
        self.ctl("start", "-w")

    def stop(self):
        self.ctl("stop", "-m", "fast")


def image_rootfs(bin_path):
    """The image's filesystem the binary is in (docker/build-rootfs.sh's layout), if any."""
    path = Path(bin_path).resolve()
    rootfs = path.parents[3] if len(path.parents) > 3 else None
    if path.parts[-4:] == ("usr", "local", "bin", "payer-sandbox") and (rootfs / "etc/passwd").exists():
        return rootfs
    return None


def replica_command(bin_path, port):
    """The binary as the image runs it where that can be done: alone in a copy of the image's
    filesystem (chroot, as root) as the image's user, with the /etc/hosts a container runtime
    would give it, so that it reaches its database by the name the compose file uses (`db`)."""
    rootfs = image_rootfs(bin_path)
    if rootfs is None or os.geteuid() != 0:
        return [bin_path, "--listen", f"127.0.0.1:{port}"], "127.0.0.1"
    copy = OUT / "rootfs"
    if not copy.exists():
        shutil.copytree(rootfs, copy, symlinks=True)
        (copy / "etc/hosts").write_text("127.0.0.1 localhost\n127.0.0.1 db\n")
    user = next(line.split(":")[2] for line in (copy / "etc/passwd").read_text().splitlines()
                if line.startswith("sandbox:"))
    return ["chroot", f"--userspec={user}:{user}", str(copy), "/usr/local/bin/payer-sandbox",
            "--listen", f"127.0.0.1:{port}"], "db"


def start_replica(name, bin_path, port, pg, public_url):
    command, db_host = replica_command(bin_path, port)
    # As docker/compose.hosted.yaml sets it up: the settings in the environment.
    env = {**os.environ, "PAYER_SANDBOX_DATABASE": pg.url.replace("127.0.0.1", db_host),
           "PAYER_SANDBOX_PUBLIC_URL": public_url, "PAYER_SANDBOX_LOG_FORMAT": "json"}
    stdout = open(OUT / f"{name}.out", "w")
    stderr = open(OUT / f"{name}.log", "w")
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
    processes.append(process)
    listening = wait_for(name, lambda: "payer-sandbox listening on" in (OUT / f"{name}.out").read_text()
                         or process.poll() is not None, 60)
    if not listening or process.poll() is not None:
        sys.exit(f"{name} did not start:\n{(OUT / f'{name}.log').read_text()}")
    return process


def balancer_config(ports, lb_port):
    """docker/haproxy.cfg with the compose network's addresses replaced by loopback ones."""
    text = (ROOT / "docker/haproxy.cfg").read_text()
    replacements = [("bind :8080", f"bind 127.0.0.1:{lb_port}"), (" resolvers docker", "")]
    replacements += [(f"server {name} {name}:8080", f"server {name} 127.0.0.1:{port}") for name, port in ports.items()]
    for old, new in replacements:
        if old not in text:
            sys.exit(f"docker/haproxy.cfg no longer has {old!r}: update this test with it")
        text = text.replace(old, new)
    # The resolvers section itself: Docker's embedded DNS does not exist here.
    text, removed = re.subn(r"^resolvers docker\n(?:[ \t]+\S.*\n)+", "", text, flags=re.M)
    if removed != 1:
        sys.exit("docker/haproxy.cfg no longer has its `resolvers docker` section: update this test")
    return text


def served(name, path):
    count = 0
    for line in (OUT / f"{name}.log").read_text().splitlines():
        try:
            if json.loads(line).get("fields", {}).get("path") == path:
                count += 1
        except json.JSONDecodeError:
            pass
    return count


def main():
    ensure_debian_packages()
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    bin_path = binary()
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "rootfs", ignore_errors=True)

    check = subprocess.run([haproxy, "-c", "-f", str(ROOT / "docker/haproxy.cfg")], capture_output=True, text=True)
    verdict(check.returncode == 0, "haproxy -c accepts docker/haproxy.cfg as committed"
            + ("" if check.returncode == 0 else f"\n{check.stdout}{check.stderr}"))

    pg = Postgres()
    pg.start()
    try:
        run(haproxy, bin_path, pg)
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
    say(f"balancer: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


def run(haproxy, bin_path, pg):
    lb_port = free_port()
    lb = f"http://127.0.0.1:{lb_port}"
    ports = {"replica-1": free_port(), "replica-2": free_port()}
    say(f"PostgreSQL on 127.0.0.1:{pg.port}; replicas ({bin_path}) on {ports}; HAProxy on {lb}")
    if replica_command(bin_path, 0)[1] == "db":
        say("replicas: alone in a copy of the image's filesystem as its user, the database named `db`")
    else:
        say("replicas: run directly (not the image's filesystem, or not root), the database at 127.0.0.1")
    replicas = {name: start_replica(name, bin_path, port, pg, lb) for name, port in ports.items()}
    (OUT / "haproxy.cfg").write_text(balancer_config(ports, lb_port))
    log = open(OUT / "haproxy.log", "w")
    processes.append(subprocess.Popen([haproxy, "-db", "-f", str(OUT / "haproxy.cfg")], stdout=log, stderr=log))

    # Both servers must pass two checks, two seconds apart, before both take requests.
    verdict(wait_for("balancer", lambda: http("GET", f"{lb}/readyz")[0] == 200, 20),
            "the balancer answers /readyz 200 once a replica is ready")
    time.sleep(5)
    statuses = [http("GET", f"{lb}/readyz")[0] for _ in range(10)]
    verdict(statuses == [200] * 10, f"10 x GET /readyz through the balancer: {statuses}")

    before = {name: served(name, "/.well-known/smart-configuration") for name in ports}
    answers = [http("GET", f"{lb}/.well-known/smart-configuration") for _ in range(20)]
    ok = all(status == 200 for status, _ in answers)
    documents = [json.loads(body) for status, body in answers if status == 200]
    verdict(ok and all(d["issuer"] == lb and d["token_endpoint"] == f"{lb}/oauth2/token"
                       and d["authorization_endpoint"].startswith(f"{lb}/") for d in documents),
            "20 x GET /.well-known/smart-configuration through the balancer: 200, naming the balancer's address")
    time.sleep(0.5)
    counts = {name: served(name, "/.well-known/smart-configuration") - before[name] for name in ports}
    verdict(sorted(counts.values()) == [10, 10], f"round-robin: the replicas served {counts}")

    # Two moves through the balancer: one lands on each replica, and both replicas see both.
    for _ in range(2):
        http("POST", f"{lb}/sandbox/api/clock/advance", {"seconds": 3600})
    offsets = {name: json.loads(http("GET", f"http://127.0.0.1:{port}/sandbox/api/clock")[1])["offset_seconds"]
               for name, port in ports.items()}
    verdict(set(offsets.values()) == {7200}, f"two clock moves through the balancer, seen by each replica: {offsets}")
    http("POST", f"{lb}/sandbox/api/clock/reset")

    # A replica stops: HAProxy retries a refused connection on the other one, before its checks
    # have even noticed.
    replicas["replica-2"].send_signal(signal.SIGTERM)
    replicas["replica-2"].wait(10)
    statuses = [http("GET", f"{lb}/.well-known/smart-configuration")[0] for _ in range(10)]
    verdict(statuses == [200] * 10, f"replica-2 stopped: 10 requests through the balancer: {statuses}")
    ports2 = ports["replica-2"]
    replicas["replica-2"] = start_replica("replica-2", bin_path, ports2, pg, lb)
    verdict(wait_for("replica-2 back", lambda: all(http("GET", f"{lb}/readyz")[0] == 200 for _ in range(4)), 20),
            "replica-2 restarted: back in rotation")

    # The database stops. A request that needs no database (the SMART configuration) is then
    # refused by the balancer itself: its checks took both unready replicas out of rotation.
    pg.stop()
    wait_for("out of rotation", lambda: http("GET", f"{lb}/.well-known/smart-configuration")[0] == 503, 30)
    down = http("GET", f"{lb}/readyz")[0] == 503
    status, body = http("GET", f"{lb}/.well-known/smart-configuration")
    alive = [http("GET", f"http://127.0.0.1:{port}/healthz")[0] for port in ports.values()]
    verdict(down and status == 503 and "No server is available" in body and alive == [200, 200],
            f"database stopped: no replica in rotation, the balancer answers {status}; the replicas' liveness {alive}")
    pg.start()
    verdict(wait_for("ready again", lambda: http("GET", f"{lb}/readyz")[0] == 200, 60),
            "database back: the balancer serves again, no replica restarted")
    verdict(all(process.poll() is None for process in replicas.values()), "both replicas still running")


if __name__ == "__main__":
    sys.exit(main())
