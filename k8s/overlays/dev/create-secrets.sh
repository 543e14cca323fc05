#!/usr/bin/env bash
# create-secrets.sh: creates the Secrets the dev overlay references but does not define, so that no value,
# not even a dev one, is kept in the manifests (k8s/README.md, "Secrets"). Run it once before
# `kubectl apply -k k8s/overlays/dev`:
#
#   k8s/overlays/dev/create-secrets.sh            # namespace llamarally-dev; KUBECTL and NAMESPACE override
#
#   rally-database        pg-url, postgres-password, redis-password: a fresh random password each for the dev
#                         PostgreSQL and Redis StatefulSets, and the URL the services use
#   rally-critique-keys   requester.key, worker.key, rpc-url: anvil's public dev accounts 2 and 1 (they fund
#                         only a local chain, as in ./rally up) and the in-cluster anvil
#   rally-chain-deployer  deployer.key: anvil's dev account 0, for the chain-deploy Job
#   rally-llm-providers   OPENAI_API_KEY, ANTHROPIC_API_KEY: only when exported here; without it every model
#                         is served by the in-cluster LLM simulator
#
# A Secret that already exists is left alone (delete it to have it made again), so running this twice never
# changes the password of a database that was initialised with the first one.
set -euo pipefail

DEV_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
KUBECTL=${KUBECTL:-kubectl}
NAMESPACE=${NAMESPACE:-llamarally-dev}

# anvil's well-known dev accounts 0, 1 and 2 (public: the same keys ./rally up writes to .rally/chain-keys/).
ANVIL_DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
ANVIL_WORKER_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
ANVIL_REQUESTER_KEY=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a

command -v "$KUBECTL" >/dev/null 2>&1 || {
  printf 'create-secrets: %s not found\n' "$KUBECTL" >&2
  exit 2
}

# Values go through files in a private directory, never through command lines.
umask 077
FILES=$(mktemp -d)
trap 'rm -rf "$FILES"' EXIT

random_password() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

# create NAME KEY=VALUE...: creates Secret NAME with those keys unless it exists.
create() {
  local name=$1 pair key
  shift
  if "$KUBECTL" get secret "$name" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    printf 'create-secrets: %s exists, left as it is\n' "$name"
    return
  fi
  local args=()
  rm -f "$FILES"/*
  for pair in "$@"; do
    key=${pair%%=*}
    printf '%s' "${pair#*=}" >"$FILES/$key"
    args+=("--from-file=$key=$FILES/$key")
  done
  "$KUBECTL" create secret generic "$name" --namespace "$NAMESPACE" "${args[@]}" >/dev/null
  printf 'create-secrets: %s created\n' "$name"
}

"$KUBECTL" apply -f "$DEV_DIR/namespace.yaml" >/dev/null

pg_password=$(random_password)
create rally-database \
  "pg-url=postgresql://rally:$pg_password@postgres:5432/rally" \
  "postgres-password=$pg_password" \
  "redis-password=$(random_password)"
create rally-critique-keys \
  "requester.key=$ANVIL_REQUESTER_KEY" \
  "worker.key=$ANVIL_WORKER_KEY" \
  "rpc-url=http://anvil:8545"
create rally-chain-deployer "deployer.key=$ANVIL_DEPLOYER_KEY"

providers=()
[[ -z ${OPENAI_API_KEY:-} ]] || providers+=("OPENAI_API_KEY=$OPENAI_API_KEY")
[[ -z ${ANTHROPIC_API_KEY:-} ]] || providers+=("ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY")
if ((${#providers[@]} > 0)); then
  create rally-llm-providers "${providers[@]}"
else
  printf 'create-secrets: no OPENAI_API_KEY or ANTHROPIC_API_KEY exported: every model runs on the simulator\n'
fi
