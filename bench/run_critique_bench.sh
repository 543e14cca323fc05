#!/usr/bin/env bash
# run_critique_bench.sh: the critique benchmark in one command (docs/benchmarks.md, "Critique").
#
# Starts a throwaway PostgreSQL and Redis, the LLM simulator with the shipped critic rule, rally-llm-proxy
# and rally-gateway from a release build; then, once with anvil mining each transaction at once and once
# with --block-time 1, a fresh anvil, the contracts (rally-chain-deploy) and rally-critique, and sends
# critiques through the gateway at a fixed concurrency (bench/critique_load.py). Prints one table row per
# mode: critiques/s, p50/p99 latency, and the share of the time spent on the chain and in the LLM.
#
#   bench/run_critique_bench.sh [--build-dir DIR] [--keep] [--requests N] [--concurrency C]
#
# Environment: BENCH_TTFT (200ms) and BENCH_TOKENS_PER_SECOND (50) pace the simulator.
set -euo pipefail

BENCH_NAME=run_critique_bench
# shellcheck source=SCRIPTDIR/bench_stack.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/bench_stack.sh"

REQUESTS=100
CONCURRENCY=10
while (($# > 0)); do
  bench_common_option "$@"
  if ((BENCH_SHIFT == 0)); then
    case $1 in
      --requests | --requests=*) bench_option_value "$@" && REQUESTS=$BENCH_VALUE ;;
      --concurrency | --concurrency=*) bench_option_value "$@" && CONCURRENCY=$BENCH_VALUE ;;
      *) usage_error "unknown option $1" ;;
    esac
  fi
  shift "$BENCH_SHIFT"
done
bench_require gateway llm-proxy llm-simulator critique chain-deploy
[[ -x $ANVIL_BIN ]] || die "anvil is missing at $ANVIL_BIN: run ./rally build (npm ci) first"

# The critique service answers (its own 400 for a prompt over its size limit, which the gateway lets through)
# once it serves; before that the gateway answers 503.
# shellcheck disable=SC2317  # invoked by wait_for
critique_ready() {
  local code
  code=$(head -c 70000 /dev/zero | tr '\0' x | sed 's/.*/{"prompt":"&"}/' |
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- \
      "http://127.0.0.1:$BENCH_GATEWAY_PORT/criticize_user_request")
  [[ $code == 400 ]]
}

bench_init rally-critique-bench
bench_start_databases
step "LLM simulator (TTFT ${BENCH_TTFT:-200ms}, ${BENCH_TOKENS_PER_SECOND:-50} tokens/s) with the critic rule"
bench_start_simulator RALLY_SIMULATOR_TTFT="${BENCH_TTFT:-200ms}" \
  RALLY_SIMULATOR_TOKENS_PER_SECOND="${BENCH_TOKENS_PER_SECOND:-50}" \
  RALLY_SIMULATOR_RULES="$REPO_DIR/deploy/simulator-rules.json"
bench_start_llm_proxy
bench_port BENCH_CRITIQUE_PORT
bench_start_gateway
bench_record_load

printf '\n| mining | requests | failed | critiques/s | p50 ms | p99 ms | on chain | in the LLM |\n'
printf '|---|---|---|---|---|---|---|---|\n'
status=0
anvil_port="" critique_metrics_port=""
for block_time in 0 1; do
  bench_port anvil_port
  rpc_url=http://127.0.0.1:$anvil_port
  mode="instant mining"
  anvil_args=(--host 127.0.0.1 --port "$anvil_port" --chain-id "$CHAIN_ID" --silent)
  if ((block_time > 0)); then
    mode="--block-time $block_time"
    anvil_args+=(--block-time "$block_time")
  fi
  bench_start "anvil-$block_time" "$ANVIL_BIN" "${anvil_args[@]}"
  wait_for 20 chain_answers "$rpc_url" || die "anvil did not answer on $rpc_url"
  RALLY_CRITIQUE_RPC_URL=$rpc_url RALLY_CRITIQUE_CHAIN_ID=$CHAIN_ID \
    RALLY_CHAIN_DEPLOYER_KEY="${ANVIL_DEV_KEYS[0]}" RALLY_CRITIQUE_WORKER_KEY="${ANVIL_DEV_KEYS[1]}" \
    RALLY_CRITIQUE_CONTRACTS_FILE="$BENCH_TMP/contracts-$block_time.json" \
    "$(bench_binary chain-deploy)" >"$BENCH_TMP/chain-deploy-$block_time.log" 2>&1 ||
    die "deploying the contracts failed (log: $BENCH_TMP/chain-deploy-$block_time.log)"
  bench_port critique_metrics_port
  bench_start "critique-$block_time" RALLY_CRITIQUE_ADDR="127.0.0.1:$BENCH_CRITIQUE_PORT" \
    RALLY_CRITIQUE_METRICS_ADDR="127.0.0.1:$critique_metrics_port" RALLY_CRITIQUE_RPC_URL="$rpc_url" \
    RALLY_CRITIQUE_CONTRACTS_FILE="$BENCH_TMP/contracts-$block_time.json" \
    RALLY_CRITIQUE_REQUESTER_KEY="${ANVIL_DEV_KEYS[2]}" RALLY_CRITIQUE_WORKER_KEY="${ANVIL_DEV_KEYS[1]}" \
    RALLY_LLM_PROXY_ADDR="127.0.0.1:$BENCH_PROXY_PORT" RALLY_PG_URL="$BENCH_PG_URL" \
    RALLY_REDIS_ADDR="$BENCH_REDIS_ADDR" "$(bench_binary critique)"
  wait_for 30 critique_ready || die "rally-critique did not serve (log: $BENCH_TMP/critique-$block_time.log)"
  bench_run "load-$block_time" "$BENCH_TMP/load-$block_time.txt" python3 "$REPO_DIR/bench/critique_load.py" \
    --url "http://127.0.0.1:$BENCH_GATEWAY_PORT/criticize_user_request" --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY" --mode "$mode" || status=$?
  cat "$BENCH_TMP/load-$block_time.txt"
  bench_stop "critique-$block_time"
  bench_stop "anvil-$block_time"
done
printf '\n%s requests per mode at concurrency %s; load average at the start %s.\n' "$REQUESTS" "$CONCURRENCY" \
  "$BENCH_START_LOAD"
exit "$status"
