#!/usr/bin/env bash
# run_scoring_bench.sh: the scoring benchmark in one command (docs/benchmarks.md, "Scoring").
#
# Starts a throwaway PostgreSQL and Redis (the same functions `./rally test` uses), the LLM simulator,
# rally-llm-proxy, rally-arena, rally-scoring (the committed models.dev snapshot, no scheduled recalculation,
# no models.dev sync) and rally-gateway from a release build, all on free ports in a fresh /tmp directory;
# creates an API token with scope read,write (rally-admin), so authentication stays on; rate limits are off.
# Then rally-scoring-bench measures, through the gateway:
#
#   latency      one calculation at a time (forced: stored in PostgreSQL and published), against the same
#                request answered from the stored score and against GET /healthz;
#   throughput   calculations per second on --connections connections for --duration seconds, against
#                stored scores answered per second and GET /healthz per second (the gateway's ceiling);
#   batch        synchronous batches of 1,000 models, against the single forced calculations per second;
#   delivery     one score update at a time to 1 and then 1,000 WebSocket subscribers (/api/v1/ws/scoring),
#                against a plain Redis subscriber of the channel the scoring service publishes on.
#
# Prints a Markdown report (each figure against the seed's claim times ten, the issue's target, and against
# its same-run reference), stops everything and removes the directory, however the run ends. About a
# minute.
#
#   bench/run_scoring_bench.sh [--build-dir DIR] [--keep] [BENCH OPTIONS...]
#
#   --build-dir DIR   where the binaries are (default build/release; build them with
#                     cmake --build DIR -j2 --target rally-gateway rally-admin rally-scoring rally-llm-proxy
#                     rally-arena rally-llm-simulator rally-scoring-bench)
#   --keep            keep the temporary directory (component logs) after the run
#   BENCH OPTIONS     passed to rally-scoring-bench, e.g. --duration=10 --connections=32 --subscribers=1000
#                     --updates=20 --batches=3 --output=FILE (see rally-scoring-bench --help)
#
# Environment: BENCH_NOTE is added to the report. Any other RALLY_* variable you export (e.g.
# RALLY_GATEWAY_THREADS, RALLY_SCORING_DB_THREADS, RALLY_PG_POOL_SIZE, RALLY_LOG_LEVEL) reaches the binaries
# unchanged; the addresses, PostgreSQL, Redis and the scoring service's snapshot and schedule are always the
# script's own.
#
# Exit status: the bench's (0 clean, 3 some requests or deliveries failed, 1 could not run, 2 bad options).
set -euo pipefail

BENCH_NAME=run_scoring_bench
# shellcheck source=SCRIPTDIR/bench_stack.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/bench_stack.sh"

bench_passthrough_options "$@"
bench_require gateway admin llm-proxy arena scoring llm-simulator scoring-bench

# 1,000 WebSocket subscribers hold a descriptor each in the bench and in the gateway.
bench_raise_open_file_limit "1,000 subscribers"
bench_record_load

bench_init rally-scoring-bench
bench_start_databases
step "LLM simulator, llm-proxy, arena, scoring service and gateway"
bench_start_simulator RALLY_SIMULATOR_THREADS=1 # idle here: nothing streams
bench_start_llm_proxy
# shellcheck disable=SC2119  # they take extra settings (VAR=VALUE); none here
bench_start_arena
# shellcheck disable=SC2119
bench_start_scoring
bench_create_token scoring-bench read,write "$BENCH_TMP/token"
bench_start_gateway
note "gateway: http://127.0.0.1:$BENCH_GATEWAY_PORT"

POSTGRES_PID=$(postgres_pid "$BENCH_TMP/postgres") || die "PostgreSQL is not running"
REDIS_PID=$(redis_pid "$BENCH_TMP/redis/redis.pid") || die "Redis is not running"

settings="gateway RALLY_GATEWAY_THREADS=${RALLY_GATEWAY_THREADS:-2 (default)},"
settings+=" RALLY_GATEWAY_MAX_CONNECTIONS=${RALLY_GATEWAY_MAX_CONNECTIONS:-10000 (default)},"
settings+=" RALLY_LOG_LEVEL=${RALLY_LOG_LEVEL:-info (default)};"
settings+=" scoring RALLY_SCORING_DB_THREADS=${RALLY_SCORING_DB_THREADS:-8 (default)},"
settings+=" RALLY_PG_POOL_SIZE=${RALLY_PG_POOL_SIZE:-8 (default)}, RALLY_SCORING_RECALC_INTERVAL=0s;"
settings+=" PostgreSQL $("$(pg_bin_dir)/postgres" --version | awk '{ print $3 }') with Debian's defaults"
settings+=" (synchronous_commit on); open-file limit $(ulimit -n); load average $BENCH_START_LOAD and"
settings+=" ${BENCH_START_COMPILERS:-0} compiler processes (cc1plus) before the stack started"
[[ -z ${BENCH_NOTE:-} ]] || settings+="; $BENCH_NOTE"

step "rally-scoring-bench"
status=0
# In the foreground, like run_llm_bench.sh: its progress goes to stderr, the report to stdout.
"$(bench_binary scoring-bench)" \
  --gateway="127.0.0.1:$BENCH_GATEWAY_PORT" --redis="$BENCH_REDIS_ADDR" --token-file="$BENCH_TMP/token" \
  --models-dev="$REPO_DIR/deploy/data/models-dev-snapshot.json" \
  --watch="gateway=${BENCH_PIDS[gateway]}" --watch="scoring=${BENCH_PIDS[scoring]}" \
  --watch-tree="postgres=$POSTGRES_PID" --watch="redis=$REDIS_PID" \
  --note="$settings" "${BENCH_ARGS[@]}" || status=$?
bench_check_running
exit "$status"
