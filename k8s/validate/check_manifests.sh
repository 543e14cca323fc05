#!/usr/bin/env bash
# check_manifests.sh: renders every overlay under k8s/overlays with `kubectl kustomize` and validates the
# result with validate.mjs (schemas of the npm package kubernetes-models, strict about unknown fields, and the
# project's rules: k8s/README.md, "Validation"). Then proves the validator still catches what it should: each
# fixture in testdata/ must fail with the problem its `# expect:` line names (valid.yaml must pass), and a
# ConfigMap holding the models.dev snapshot must be refused as too large.
#
#   k8s/validate/check_manifests.sh          # from any directory
#
# Needs kubectl (its built-in kustomize; KUBECTL=/path/to/kubectl picks another one) and Node.js with the
# validator's packages: npm ci --prefix k8s/validate. Exit status 0 when everything passed, 1 otherwise,
# 2 when a tool is missing.
set -euo pipefail

VALIDATE_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
K8S_DIR=$(dirname "$VALIDATE_DIR")
REPO_DIR=$(dirname "$K8S_DIR")
KUBECTL=${KUBECTL:-kubectl}

missing() {
  printf 'check_manifests: %s\n' "$*" >&2
  exit 2
}
command -v "$KUBECTL" >/dev/null 2>&1 ||
  missing "$KUBECTL not found: install kubectl (>= 1.27, or Debian's kubernetes-client) or set KUBECTL"
command -v node >/dev/null 2>&1 || missing "node not found: install Node.js (20 or newer)"
[[ -d $VALIDATE_DIR/node_modules/kubernetes-models && -d $VALIDATE_DIR/node_modules/yaml ]] ||
  missing "the validator's packages are not installed: run npm ci --prefix k8s/validate"

# The Secrets and ConfigMaps each overlay references but never defines (k8s/README.md, "Secrets"): the
# operator creates them. Anything else referenced must be in the rendered stream.
declare -A OVERLAY_ARGS=(
  [dev]="--external-secrets=rally-database,rally-llm-providers,rally-critique-keys,rally-chain-deployer"
  [prod]="--external-secrets=rally-database,rally-llm-providers,rally-critique-keys
          --external-configmaps=rally-critique-chain --forbid-secret-data --require-pinned-images"
)

PASSED=0
FAILED=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pass() {
  PASSED=$((PASSED + 1))
  printf 'ok    %s\n' "$1"
}
fail() {
  FAILED=$((FAILED + 1))
  printf 'FAIL  %s\n' "$1"
  [[ -z ${2:-} ]] || sed 's/^/      /' "$2"
}

# --- each overlay: render, then validate ------------------------------------------------------------------
for overlay_dir in "$K8S_DIR"/overlays/*/; do
  overlay=$(basename "$overlay_dir")
  [[ -v OVERLAY_ARGS[$overlay] ]] || {
    printf 'no validator arguments for overlay %s\n' "$overlay" >"$WORK/out"
    fail "overlays/$overlay: add it to OVERLAY_ARGS in $(basename "$0")" "$WORK/out"
    continue
  }
  # kustomize v5 warns about `bases:` and `patchesStrategicMerge:`, kept for kustomize v2.0.3.
  if ! "$KUBECTL" kustomize "$overlay_dir" >"$WORK/$overlay.yaml" 2>"$WORK/render.err"; then
    fail "overlays/$overlay: kubectl kustomize failed" "$WORK/render.err"
    continue
  fi
  grep -v "^# Warning: '\(bases\|patchesStrategicMerge\)' is deprecated" "$WORK/render.err" >&2 || true
  # shellcheck disable=SC2086  # the arguments are words
  if node "$VALIDATE_DIR/validate.mjs" ${OVERLAY_ARGS[$overlay]} "$WORK/$overlay.yaml" >"$WORK/out" 2>&1; then
    pass "overlays/$overlay: $(tail -n 1 "$WORK/out")"
  else
    fail "overlays/$overlay" "$WORK/out"
  fi
done

# --- the validator still catches what it should -----------------------------------------------------------
expect_result() { # NAME FILE EXPECTED-SUBSTRING [ARGS...]: valid.yaml must pass, the rest must fail naming it
  local name=$1 file=$2 expected=$3 status=0
  shift 3
  node "$VALIDATE_DIR/validate.mjs" "$@" "$file" >"$WORK/out" 2>&1 || status=$?
  if [[ $expected == "0 problem(s)" ]]; then
    if ((status == 0)); then pass "$name: passes"; else fail "$name: should pass" "$WORK/out"; fi
  elif ((status == 1)) && grep -qF -- "$expected" "$WORK/out"; then
    pass "$name: caught ($expected)"
  else
    fail "$name: expected exit 1 with \"$expected\", got exit $status" "$WORK/out"
  fi
}
for fixture in "$VALIDATE_DIR"/testdata/*.yaml; do
  expected=$(sed -n 's/^# expect: //p' "$fixture" | head -n 1)
  args=$(sed -n 's/^# args: //p' "$fixture" | head -n 1)
  if [[ -z $expected ]]; then
    printf 'no "# expect:" line\n' >"$WORK/out"
    fail "testdata/$(basename "$fixture")" "$WORK/out"
    continue
  fi
  # shellcheck disable=SC2086  # the arguments are words
  expect_result "testdata/$(basename "$fixture")" "$fixture" "$expected" $args
done

# The models.dev snapshot (1.8 MB) as a ConfigMap: the API server would refuse it, so must the validator.
"$KUBECTL" create configmap models-dev --dry-run=client -o yaml \
  --from-file="$REPO_DIR/deploy/data/models-dev-snapshot.json" >"$WORK/snapshot.yaml"
expect_result "models.dev snapshot as a ConfigMap" "$WORK/snapshot.yaml" "more than the 1 MiB"

printf 'check_manifests: %d passed, %d failed\n' "$PASSED" "$FAILED"
((FAILED == 0))
