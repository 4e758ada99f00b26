#!/usr/bin/env bash
# Runs the package READMEs' Testcontainers recipes against the container image, wherever a
# container engine can be had:
#
#   bash packaging/testcontainers/run.sh ROOTFS
#
#   ROOTFS  the image's runtime filesystem as docker/build-rootfs.sh writes it (target/rootfs):
#           usr/local/bin/payer-sandbox, etc/passwd, etc/group, var/lib/payer-sandbox
#
# 1. An engine: the one `docker info` answers; else, as root, Debian's docker.io (dockerd,
#    containerd, runc) installed with apt-get if dockerd is missing, and a dockerd started here in
#    the background with its data, socket and log in a temporary directory, its own empty
#    configuration, no iptables rules and no change to IP forwarding (published ports go through
#    docker-proxy). Where none can be had (not root, the install fails, dockerd does not answer
#    within 30 s) it prints "testcontainers: no container engine here (why): the recipes were not
#    run" and exits 0. Once an engine answers, every failure fails the script.
# 2. The image `payer-sandbox` without any registry: docker/Dockerfile's runtime stage, from its
#    `FROM scratch` line to the end, read from that file, with `COPY --from=build /rootfs/ /`
#    made `ADD rootfs.tar /` of a tar of ROOTFS (which keeps the files' owners and modes, as
#    COPY --from does); the classic builder. The image's files must match ROOTFS's.
# 3. The Python recipe (packaging/python/README.md#testcontainers): a fresh virtualenv with
#    requirements-test.txt and the wheel built from ROOTFS's binary, then
#    tests/test_readme.py::test_the_testcontainers_recipe, which must pass (a skip fails).
# 4. The Node recipe (packaging/npm/payer-sandbox/README.md#testcontainers-node): the project of
#    packaging/testcontainers/node copied to a temporary directory, `npm ci`, `node --test`.
# 5. No container of the image may be left behind by either recipe. At the end the image is
#    removed (a `payer-sandbox` tag that was there before is put back); a dockerd started here
#    is stopped, and its files and the docker0 bridge and /etc/docker/key.json it made are
#    removed; a service that installing the package started is stopped. Packages stay installed.
#
# Ryuk, testcontainers' reaper, is an image from Docker Hub: TESTCONTAINERS_RYUK_DISABLED=true.
# Needs python3 (3.9 or later; PYTHON picks another), Node 20.18 or later with npm, PyPI and the
# npm registry. TC_NO_INSTALL=1: use a running engine only, never install or start one. The last
# line is "testcontainers: Python recipe passed, Node recipe passed (engine: ...)".
set -euo pipefail

if [ $# -ne 1 ]; then
  sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
[ -d "$1" ] || { echo "run.sh: $1 is not a directory" >&2; exit 2; }
rootfs="$(cd "$1" && pwd)"
binary="$rootfs/usr/local/bin/payer-sandbox"
for f in "$binary" "$rootfs/etc/passwd" "$rootfs/etc/group"; do
  [ -f "$f" ] || { echo "run.sh: $1 has no ${f#"$rootfs"/}: not a docker/build-rootfs.sh filesystem" >&2; exit 2; }
done
[ -x "$binary" ] || { echo "run.sh: $binary is not executable" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
t_start=$(date +%s)

say() { echo "== testcontainers: $*"; }
fail() { echo "testcontainers: FAILED: $*" >&2; exit 1; }
not_run() { echo "testcontainers: no container engine here ($1): the recipes were not run"; exit 0; }

work="$(mktemp -d "${TMPDIR:-/tmp}/payer-sandbox-tc.XXXXXX")"
engine_up=0        # an engine answered: from then on every failure fails the script
dockerd_pid=""     # the dockerd started here
package_engine=0   # the docker.io package installed here started its service
made_bridge=0      # docker0 did not exist before that dockerd
made_key=0         # nor /etc/docker/key.json, the identity dockerd 20.10 writes on its first start
image_id=""        # the image built here
previous_image=""  # what the payer-sandbox tag named before
summary=""

# Containers created from the image built here.
image_containers() { docker ps -aq --no-trunc --filter "ancestor=$image_id"; }

cleanup() {
  local rc=$? left
  set +e
  trap - INT TERM
  if [ "$engine_up" = 1 ] && [ -n "$image_id" ]; then
    left="$(image_containers)"
    if [ -n "$left" ]; then
      echo "testcontainers: removing containers of the image: $left" >&2
      # shellcheck disable=SC2086
      docker rm --force --volumes $left >/dev/null || rc=1
    fi
    if [ "$image_id" != "$previous_image" ]; then
      docker image rm payer-sandbox >/dev/null || { echo "testcontainers: could not remove the image" >&2; rc=1; }
      if [ -n "$previous_image" ]; then
        docker tag "$previous_image" payer-sandbox || rc=1
      fi
    fi
  fi
  if [ -n "$dockerd_pid" ]; then
    kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$dockerd_pid" 2>/dev/null; then
      echo "testcontainers: dockerd did not stop within 20 s of SIGTERM: killed" >&2
      kill -KILL "$dockerd_pid" 2>/dev/null
      [ "$engine_up" = 1 ] && rc=1
    fi
    wait "$dockerd_pid" 2>/dev/null
    # The containerd that dockerd started and supervises stops with it; if dockerd was killed, it
    # is stopped here.
    local containerd_pid
    containerd_pid="$(cat "$work/engine/exec/containerd/containerd.pid" 2>/dev/null)"
    if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null; then
      kill -TERM "$containerd_pid" 2>/dev/null
      sleep 2
      kill -KILL "$containerd_pid" 2>/dev/null
    fi
    # Whatever is still mounted below the engine's directories (a network namespace, a layer).
    findmnt -rno TARGET | grep -F "$work/" | sort -r | while read -r mount; do umount -l "$mount"; done
    if [ "$made_bridge" = 1 ] && ip link show docker0 >/dev/null 2>&1; then
      ip link delete docker0
    fi
    [ "$made_key" = 0 ] || rm -f /etc/docker/key.json
  fi
  if [ "$package_engine" = 1 ]; then
    invoke-rc.d docker stop || rc=1
    invoke-rc.d containerd stop
  fi
  rm -rf "$work"
  if [ "$rc" = 0 ] && [ -n "$summary" ]; then
    echo "$summary; $(($(date +%s) - t_start)) s)"
  elif [ "$rc" != 0 ] && [ "$engine_up" = 1 ]; then
    echo "testcontainers: FAILED (exit $rc; engine: $engine): see above" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the image's runtime stage, from docker/Dockerfile ----------------------------------------
# Read before anything else, so that a Dockerfile this script no longer understands fails here
# even on a machine without an engine.
dockerfile="$root/docker/Dockerfile"
context="$work/context"
mkdir -p "$context"
[ "$(grep -c '^FROM scratch$' "$dockerfile")" = 1 ] ||
  fail "docker/Dockerfile does not have exactly one 'FROM scratch' line: its runtime stage cannot be found"
awk '/^FROM scratch$/ { on = 1 } on' "$dockerfile" > "$work/runtime-stage"
copy_line='COPY --from=build /rootfs/ /'
[ "$(grep -cxF "$copy_line" "$work/runtime-stage")" = 1 ] ||
  fail "docker/Dockerfile's runtime stage does not have exactly one '$copy_line' line"
[ "$(grep -c '^FROM ' "$work/runtime-stage")" = 1 ] ||
  fail "docker/Dockerfile has another stage after 'FROM scratch'"
if grep -vxF "$copy_line" "$work/runtime-stage" | grep -Eq '^(COPY|ADD|RUN)[[:space:]]'; then
  fail "docker/Dockerfile's runtime stage copies, adds or runs more than '$copy_line': update this script"
fi
{
  echo "# docker/Dockerfile's runtime stage, over a tar of the runtime filesystem (packaging/testcontainers/run.sh)"
  sed "s|^${copy_line}\$|ADD rootfs.tar /|" "$work/runtime-stage"
} > "$context/Dockerfile"

# --- a container engine -----------------------------------------------------------------------
engine=""
if docker info >/dev/null 2>&1; then
  engine="a running engine, Docker $(docker version --format '{{.Server.Version}}')"
else
  [ "${TC_NO_INSTALL:-}" != 1 ] || not_run "docker info fails, and TC_NO_INSTALL=1 says not to start one"
  [ "$(id -u)" = 0 ] || not_run "docker info fails, and only root may install and start one"
  installed=""
  if ! command -v dockerd >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || not_run "docker info fails, and there is no apt-get to install Debian's docker.io"
    say "apt-get install docker.io (Debian's dockerd, containerd and runc)"
    apt_install() {
      DEBIAN_FRONTEND=noninteractive timeout 240 \
        apt-get install -y -q --no-install-recommends docker.io >> "$work/apt.log" 2>&1
    }
    if ! apt_install; then
      # An old package list names versions the mirror no longer has: refresh it once.
      DEBIAN_FRONTEND=noninteractive timeout 120 apt-get update -q >> "$work/apt.log" 2>&1 || true
      if ! apt_install; then
        tail -n 15 "$work/apt.log" >&2
        not_run "apt-get install docker.io failed: $(tail -n 1 "$work/apt.log")"
      fi
    fi
    command -v dockerd >/dev/null 2>&1 || not_run "docker.io was installed but there is no dockerd on PATH"
    installed=", installed with apt-get"
  fi
  if docker info >/dev/null 2>&1; then
    # The package's own service started one (no policy-rc.d forbade it): use it, stop it at the end.
    package_engine=1
    engine="Debian's docker.io $(docker version --format '{{.Server.Version}}')$installed, started by its package"
  else
    say "starting dockerd (its log: engine/dockerd.log in the temporary directory)"
    eng="$work/engine"
    mkdir -p "$eng"
    echo '{}' > "$eng/daemon.json"
    ip link show docker0 >/dev/null 2>&1 || made_bridge=1
    [ -e /etc/docker/key.json ] || made_key=1
    export DOCKER_HOST="unix://$eng/docker.sock"
    dockerd --host "$DOCKER_HOST" --config-file "$eng/daemon.json" \
      --data-root "$eng/data" --exec-root "$eng/exec" --pidfile "$eng/dockerd.pid" \
      --iptables=false --ip-forward=false > "$eng/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 60); do
      docker info >/dev/null 2>&1 && break
      kill -0 "$dockerd_pid" 2>/dev/null || break
      sleep 0.5
    done
    if ! docker info >/dev/null 2>&1; then
      echo "testcontainers: the end of dockerd's log:" >&2
      tail -n 15 "$eng/dockerd.log" >&2
      why="$({ grep -E 'level=(fatal|error)|failed to start' "$eng/dockerd.log" || true; } | tail -n 1 |
        sed 's/^.*msg="\{0,1\}//; s/"\{0,1\}$//')"
      if kill -0 "$dockerd_pid" 2>/dev/null; then
        not_run "dockerd did not answer within 30 s${why:+: $why}"
      fi
      not_run "dockerd exited${why:+: $why}"
    fi
    engine="Debian's docker.io $(docker version --format '{{.Server.Version}}')$installed, dockerd started here"
  fi
fi
engine_up=1
say "engine: $engine"
export TESTCONTAINERS_RYUK_DISABLED=true
# No variable of the caller's chooses another image, binary or test option.
unset PAYER_SANDBOX_IMAGE PAYER_SANDBOX_BIN PYTEST_ADDOPTS PYTEST_PLUGINS NODE_OPTIONS

# --- the image --------------------------------------------------------------------------------
say "the image payer-sandbox: docker/Dockerfile's runtime stage over $1"
tar --numeric-owner -C "$rootfs" -cf "$context/rootfs.tar" .
previous_image="$(docker image inspect --format '{{.Id}}' payer-sandbox 2>/dev/null || true)"
# The classic builder: BuildKit would need the buildx plugin with a recent docker CLI, and never a
# registry here anyway (FROM scratch is no image).
DOCKER_BUILDKIT=0 timeout 120 docker build --quiet --tag payer-sandbox --file "$context/Dockerfile" "$context"
image_id="$(docker image inspect --format '{{.Id}}' payer-sandbox)"
# Its files are ROOTFS's, with the same owners, modes and sizes.
probe="$(docker create payer-sandbox)"
docker export "$probe" > "$work/image.tar"
docker rm "$probe" >/dev/null
"$python" - "$context/rootfs.tar" "$work/image.tar" <<'PY'
import sys, tarfile

def name(member):
    n = member.name[2:] if member.name.startswith("./") else member.name
    return n.rstrip("/") or "."

def entries(path):
    with tarfile.open(path) as tar:
        return {name(m): (m.type, m.mode & 0o7777, m.uid, m.gid, m.size if m.isfile() else 0) for m in tar.getmembers()}

rootfs, image = entries(sys.argv[1]), entries(sys.argv[2])
rootfs.pop(".", None)
wrong = [f"{name}: {want} in the rootfs, {image.get(name)} in the image"
         for name, want in sorted(rootfs.items()) if image.get(name) != want]
if wrong:
    sys.exit("the image's files differ from the rootfs's (type, mode, uid, gid, size):\n  " + "\n  ".join(wrong))
print(f"the image holds the rootfs's {len(rootfs)} files and directories, same owners, modes and sizes")
PY
docker image inspect --format 'image {{.Id}}: {{.Size}} bytes, user {{.Config.User}}, entrypoint {{json .Config.Entrypoint}}' payer-sandbox
before="$(image_containers)"

# No container of the image outlives a recipe.
no_container_left() {
  local left
  left="$(image_containers)"
  [ "$left" = "$before" ] || fail "the $1 recipe left containers of the image: $(docker ps -a --filter "ancestor=$image_id" --format '{{.ID}} {{.Status}}' | tr '\n' ';')"
}

# --- the Python recipe ------------------------------------------------------------------------
say "the Python recipe (packaging/python/README.md#testcontainers)"
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
platform="$("$python" "$root/packaging/python/platform_tag.py" "$binary")"
wheel="$("$root/packaging/python/build-wheel.sh" "$binary" "$platform" "$work/dist")"
PYTHON="$python" "$root/packaging/python/make-venv.sh" "$work/venv"
timeout 300 "$work/venv/bin/python" -m pip install --quiet -r "$root/packaging/python/requirements-test.txt"
"$work/venv/bin/python" -m pip install --quiet --no-index "$wheel"
(
  cd "$root/packaging/python"
  timeout 300 "$work/venv/bin/pytest" -p no:cacheprovider -rs --junitxml="$work/python.xml" \
    tests/test_readme.py -k test_the_testcontainers_recipe
)
# A skip (no engine, no image) would be a pass to pytest: here it is a failure.
"$python" - "$work/python.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET

suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
if counts != {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}:
    sys.exit(f"the Python recipe's test did not pass: {counts}")
PY
no_container_left Python

# --- the Node recipe --------------------------------------------------------------------------
say "the Node recipe (packaging/npm/payer-sandbox/README.md#testcontainers-node)"
node --version
mkdir "$work/node"
cp "$here/node/package.json" "$here/node/package-lock.json" "$here/node/"*.test.mjs "$work/node/"
(
  cd "$work/node"
  # --ignore-scripts: the native builds that ssh2 and cpu-features try are optional (remote
  # Docker hosts over SSH only).
  timeout 300 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  RECIPE_README="$root/packaging/npm/payer-sandbox/README.md" \
    timeout 300 node --test --test-reporter=tap --test-timeout=180000 | tee "$work/node.tap"
)
if ! grep -qx '# pass 1' "$work/node.tap" || ! grep -qx '# fail 0' "$work/node.tap"; then
  fail "the Node recipe's test did not pass"
fi
no_container_left Node

summary="testcontainers: Python recipe passed, Node recipe passed (engine: $engine"
