#!/usr/bin/env bash
# Offline validation of everything under deploy/ (DESIGN.md section 7):
#   1. kustomize (built with `go install` into .tools/bin) renders every overlay;
#   2. kubernetes-validate (PyPI, bundled schemas, --strict) checks every object
#      except the Prometheus Operator CRDs it has no schema for;
#   3. policy checks on the rendered objects (hardening, probes, HPA/PDB/Service
#      per workload, NetworkPolicies, Secret/ConfigMap references);
#   4. the PrometheusRule equals prometheus/alerts.yml;
#   5. promtool checks and unit-tests the alert rules, and checks every Grafana
#      dashboard query parses as PromQL;
#   6. the entry point script parses, the dashboard is valid JSON.
# Usage: bash deploy/validate.sh        (or: make deploy-check)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy"
BIN="$ROOT/.tools/bin"
KUSTOMIZE_VERSION="v5.7.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"
# Kubernetes versions whose schemas the manifests must satisfy (oldest supported, newest).
KUBERNETES_VERSIONS="${KUBERNETES_VERSIONS:-1.30.0 1.37.0}"
KUSTOMIZE="$BIN/kustomize"
UV="$(command -v uv 2>/dev/null || echo "python3 -m uv")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n== %s\n' "$*"; }
# A Python with PyYAML and kubernetes-validate, from PyPI through uv's tool cache.
kv_python() { $UV tool run --quiet --from "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" python "$@"; }
kv() { $UV tool run --quiet --from "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" kubernetes-validate "$@"; }

step "tools"
if ! "$KUSTOMIZE" version 2>/dev/null | grep -qx "$KUSTOMIZE_VERSION"; then
  echo "building kustomize $KUSTOMIZE_VERSION into $BIN"
  mkdir -p "$BIN"
  if ! GOBIN="$BIN" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"; then
    # Fallback when the proxy's version lookup fails: a throwaway module that pins it.
    tmpmod="$WORK/kustomize-build"
    mkdir -p "$tmpmod"
    (cd "$tmpmod" && go mod init kustomize-build >/dev/null 2>&1 \
      && go get "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" \
      && go build -o "$KUSTOMIZE" sigs.k8s.io/kustomize/kustomize/v5)
  fi
fi
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing promtool (Debian package prometheus)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "promtool is missing: sudo apt-get install prometheus" >&2
    exit 1
  fi
fi
echo "kustomize $("$KUSTOMIZE" version)"
echo "$(promtool --version 2>&1 | sed -n 1p)"
echo "kubernetes-validate $(kv --version)"

step "entry point and dashboard syntax"
sh -n "$DEPLOY/entrypoint.sh"
for f in "$DEPLOY"/grafana/*.json; do
  kv_python -c 'import json, sys; json.load(open(sys.argv[1]))' "$f"
  echo "  $f: valid JSON"
done

overlays=("$DEPLOY"/k8s/overlays/*/)
[ "${#overlays[@]}" -gt 0 ] || { echo "no overlays under deploy/k8s/overlays" >&2; exit 1; }
for dir in "$DEPLOY/k8s/base/" "${overlays[@]}"; do
  name="$(basename "$dir")"
  step "kustomize build $name"
  out="$WORK/$name.yaml"
  "$KUSTOMIZE" build "$dir" > "$out"
  echo "  $(grep -c '^kind:' "$out") objects rendered"
  kv_python "$DEPLOY/tools/manifests.py" split "$out" "$WORK/$name.core.yaml"
  for version in $KUBERNETES_VERSIONS; do
    kv --strict --quiet -k "$version" "$WORK/$name.core.yaml"
    echo "  kubernetes-validate --strict -k $version: OK"
  done
  kv_python "$DEPLOY/tools/manifests.py" policy "$out"
  kv_python "$DEPLOY/tools/manifests.py" rules-sync "$out" "$DEPLOY/prometheus/alerts.yml"
done

step "promtool"
promtool check rules "$DEPLOY/prometheus/alerts.yml"
(cd "$DEPLOY/prometheus" && promtool test rules alerts_test.yml)
for f in "$DEPLOY"/grafana/*.json; do
  kv_python "$DEPLOY/tools/manifests.py" dashboard "$f" "$WORK/dashboard-queries.yml"
  promtool check rules "$WORK/dashboard-queries.yml"
done

step "all deploy checks passed"
