#!/usr/bin/env bash
# run_llm_bench.sh: the LLM proxy benchmark in one command (docs/benchmarks.md).
#
# Starts a throwaway PostgreSQL and Redis (the same functions `./rally test` uses), the LLM simulator,
# rally-llm-proxy and rally-gateway from a release build, all on free ports in a fresh /tmp directory; runs
# rally-llm-stream-bench against the simulator directly and through the gateway; stops everything and
# removes the directory, however the run ends.
#
#   bench/run_llm_bench.sh [--build-dir DIR] [--keep] [BENCH OPTIONS...]
#
#   --build-dir DIR   where the binaries are (default build/release; build them with
#                     cmake --build DIR --target rally-gateway rally-llm-proxy rally-llm-simulator
#                     rally-llm-stream-bench)
#   --keep            keep the temporary directory (component logs) after the run
#   BENCH OPTIONS     passed to rally-llm-stream-bench, e.g. --concurrency=1,50,500 --requests=100,1000,2000
#                     --output=FILE (see rally-llm-stream-bench --help)
#
# Environment (defaults in parentheses): BENCH_TTFT (200ms) and BENCH_TOKENS_PER_SECOND (50) pace the
# simulator, BENCH_SIMULATOR_THREADS (2) its I/O threads, BENCH_NOTE is added to the report. Any other
# RALLY_* variable you export (e.g. RALLY_GATEWAY_THREADS, RALLY_LLM_PROXY_HTTP_THREADS) reaches the
# binaries unchanged; the addresses, catalog, PostgreSQL and Redis are always the script's own.
#
# Exit status: the bench's (0 clean, 3 some requests failed, 1 could not run, 2 bad options).
set -euo pipefail

BENCH_NAME=run_llm_bench
# shellcheck source=SCRIPTDIR/bench_stack.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/bench_stack.sh"

bench_passthrough_options "$@"
bench_require gateway llm-proxy llm-simulator llm-stream-bench

TTFT=${BENCH_TTFT:-200ms}
TOKENS_PER_SECOND=${BENCH_TOKENS_PER_SECOND:-50}
SIMULATOR_THREADS=${BENCH_SIMULATOR_THREADS:-2}

# 500 streams need about 500 descriptors in the bench, the gateway, the llm-proxy and the simulator each.
bench_raise_open_file_limit "500 streams"

bench_init rally-bench
bench_start_databases

step "LLM simulator (TTFT $TTFT, $TOKENS_PER_SECOND tokens/s, $SIMULATOR_THREADS threads)"
bench_start_simulator RALLY_SIMULATOR_TTFT="$TTFT" RALLY_SIMULATOR_TOKENS_PER_SECOND="$TOKENS_PER_SECOND" \
  RALLY_SIMULATOR_THREADS="$SIMULATOR_THREADS"

step "llm-proxy and gateway"
bench_start_llm_proxy
bench_start_gateway
note "gateway: http://127.0.0.1:$BENCH_GATEWAY_PORT"

bench_record_load
settings="simulator TTFT $TTFT, $TOKENS_PER_SECOND tokens/s, $SIMULATOR_THREADS I/O threads;"
settings+=" gateway RALLY_GATEWAY_THREADS=${RALLY_GATEWAY_THREADS:-2 (default)};"
settings+=" llm-proxy RALLY_LLM_PROXY_HTTP_THREADS=${RALLY_LLM_PROXY_HTTP_THREADS:-1 (default)},"
settings+=" RALLY_LLM_PROXY_MAX_IDLE_CONNECTIONS=${RALLY_LLM_PROXY_MAX_IDLE_CONNECTIONS:-32 (default)};"
settings+=" ${BENCH_START_COMPILERS:-0} compiler processes (cc1plus) running at the start"
[[ -z ${BENCH_NOTE:-} ]] || settings+="; $BENCH_NOTE"

step "rally-llm-stream-bench"
status=0
"$(bench_binary llm-stream-bench)" --direct="127.0.0.1:$BENCH_SIMULATOR_PORT" \
  --gateway="127.0.0.1:$BENCH_GATEWAY_PORT" --watch="gateway=${BENCH_PIDS[gateway]}" \
  --watch="llm-proxy=${BENCH_PIDS[llm-proxy]}" --watch="llm-simulator=${BENCH_PIDS[llm-simulator]}" \
  --note="$settings" "${BENCH_ARGS[@]}" || status=$?
exit "$status"
