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

BENCH_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# Sourcing ./rally defines its helpers (start_postgres, start_redis, pick_free_port, terminate, ...) and
# runs nothing.
# shellcheck source=SCRIPTDIR/../rally
source "$BENCH_DIR/../rally"

warn() { printf 'run_llm_bench: warning: %s\n' "$*" >&2; }
die() {
  printf 'run_llm_bench: error: %s\n' "$*" >&2
  exit 1
}

BUILD_DIR=$REPO_DIR/build/release
KEEP=0
BENCH_ARGS=()
while (($# > 0)); do
  case $1 in
    --build-dir)
      (($# >= 2)) || die "--build-dir needs a directory"
      BUILD_DIR=$(readlink -f "$2")
      shift 2
      ;;
    --build-dir=*)
      BUILD_DIR=$(readlink -f "${1#*=}")
      shift
      ;;
    --keep)
      KEEP=1
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      BENCH_ARGS+=("$1")
      shift
      ;;
  esac
done

SIMULATOR_BIN=$BUILD_DIR/services/llm-proxy/simulator/rally-llm-simulator
PROXY_BIN=$BUILD_DIR/services/llm-proxy/rally-llm-proxy
GATEWAY_BIN=$BUILD_DIR/gateway/rally-gateway
BENCH_BIN=$BUILD_DIR/bench/rally-llm-stream-bench
for bin in "$SIMULATOR_BIN" "$PROXY_BIN" "$GATEWAY_BIN" "$BENCH_BIN"; do
  [[ -x $bin ]] || die "$bin is missing: cmake --build $BUILD_DIR --target rally-gateway rally-llm-proxy \
rally-llm-simulator rally-llm-stream-bench"
done

TTFT=${BENCH_TTFT:-200ms}
TOKENS_PER_SECOND=${BENCH_TOKENS_PER_SECOND:-50}
SIMULATOR_THREADS=${BENCH_SIMULATOR_THREADS:-2}

# 500 streams need about 500 descriptors in the bench, the gateway, the llm-proxy and the simulator each.
hard_limit=$(ulimit -Hn)
if [[ $hard_limit == unlimited ]] || ((hard_limit >= 65536)); then
  ulimit -n 65536
else
  ulimit -n "$hard_limit"
fi
(($(ulimit -n) >= 4096)) || warn "open-file limit is $(ulimit -n): 500 streams may run out of descriptors"

BENCH_TMP=$(mktemp -d /tmp/rally-bench.XXXXXX)
chmod 711 "$BENCH_TMP"  # the postgres user must reach its cluster directory when we are root
declare -A PIDS=()

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local name
  # The gateway first (no new requests), then what it calls.
  for name in gateway llm-proxy llm-simulator; do
    local pid=${PIDS[$name]:-}
    [[ -n $pid ]] || continue
    if process_running "$pid"; then
      terminate "$pid"
      local exit_status=0
      wait "$pid" 2>/dev/null || exit_status=$?
      if ((exit_status != 0)); then
        warn "$name exited with status $exit_status on SIGTERM (log: $BENCH_TMP/$name.log)"
        show_log_tail "$BENCH_TMP/$name.log"
        KEEP=1
      fi
    else
      warn "$name (pid $pid) had exited before the end of the run"
      show_log_tail "$BENCH_TMP/$name.log"
      KEEP=1
    fi
  done
  stop_redis "$BENCH_TMP/redis/redis.pid"
  stop_postgres "$BENCH_TMP/postgres"
  if ((KEEP)); then
    printf 'run_llm_bench: logs kept in %s\n' "$BENCH_TMP" >&2
  else
    rm -rf "$BENCH_TMP"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts NAME in the background with its output in $BENCH_TMP/NAME.log; the rest are VAR=VALUE and the
# binary. setsid and env exec, so the recorded pid is the binary's own; its own session keeps a Ctrl-C for
# the script, whose cleanup then stops the components in order.
start() {
  local name=$1
  shift
  setsid env "$@" </dev/null >"$BENCH_TMP/$name.log" 2>&1 &
  PIDS[$name]=$!
  note "$name: pid ${PIDS[$name]}"
}

pg_port=$(pick_free_port)
redis_port=$(pick_free_port "$pg_port")
proxy_port=$(pick_free_port "$pg_port" "$redis_port")
proxy_metrics_port=$(pick_free_port "$pg_port" "$redis_port" "$proxy_port")
gateway_port=$(pick_free_port "$pg_port" "$redis_port" "$proxy_port" "$proxy_metrics_port")
# The gateway also opens channels to the other services; point them at ports where nothing listens, never
# at a dev stack that may be running on the default ports.
unused_port=$(pick_free_port "$pg_port" "$redis_port" "$proxy_port" "$proxy_metrics_port" "$gateway_port")

step "throwaway PostgreSQL (127.0.0.1:$pg_port) and Redis (127.0.0.1:$redis_port) in $BENCH_TMP"
start_postgres "$BENCH_TMP/postgres" "$pg_port"
start_redis "$BENCH_TMP/redis" "$redis_port" "$BENCH_TMP/redis.log" "$BENCH_TMP/redis/redis.pid"

step "LLM simulator (TTFT $TTFT, $TOKENS_PER_SECOND tokens/s, $SIMULATOR_THREADS threads)"
start llm-simulator RALLY_SIMULATOR_ADDR=127.0.0.1:0 RALLY_SIMULATOR_PORT_FILE="$BENCH_TMP/simulator.port" \
  RALLY_SIMULATOR_TTFT="$TTFT" RALLY_SIMULATOR_TOKENS_PER_SECOND="$TOKENS_PER_SECOND" \
  RALLY_SIMULATOR_THREADS="$SIMULATOR_THREADS" "$SIMULATOR_BIN"
# shellcheck disable=SC2317  # invoked by wait_for
simulator_started() { [[ -s $BENCH_TMP/simulator.port ]] || ! process_running "${PIDS[llm-simulator]}"; }
wait_for 30 simulator_started || true
[[ -s $BENCH_TMP/simulator.port ]] || die "the simulator did not start (log: $BENCH_TMP/llm-simulator.log)"
simulator_port=$(<"$BENCH_TMP/simulator.port")
note "llm-simulator: http://127.0.0.1:$simulator_port"

step "llm-proxy (127.0.0.1:$proxy_port) and gateway (http://127.0.0.1:$gateway_port)"
start llm-proxy OPENAI_API_KEY= ANTHROPIC_API_KEY= \
  RALLY_LLM_PROXY_ADDR="127.0.0.1:$proxy_port" RALLY_LLM_PROXY_METRICS_ADDR="127.0.0.1:$proxy_metrics_port" \
  RALLY_LLM_PROXY_CATALOG="$REPO_DIR/deploy/models.json" \
  RALLY_LLM_PROXY_SIMULATOR_URL="http://127.0.0.1:$simulator_port" \
  RALLY_PG_URL="postgresql://rally@127.0.0.1:$pg_port/rally" RALLY_REDIS_ADDR="127.0.0.1:$redis_port" \
  "$PROXY_BIN"
start gateway RALLY_GATEWAY_ADDR="127.0.0.1:$gateway_port" RALLY_LLM_PROXY_ADDR="127.0.0.1:$proxy_port" \
  RALLY_ARENA_ADDR="127.0.0.1:$unused_port" RALLY_SCORING_ADDR="127.0.0.1:$unused_port" \
  RALLY_CRITIQUE_ADDR="127.0.0.1:$unused_port" "$GATEWAY_BIN"

compilers=$(pgrep -c -x cc1plus || true)
settings="simulator TTFT $TTFT, $TOKENS_PER_SECOND tokens/s, $SIMULATOR_THREADS I/O threads;"
settings+=" gateway RALLY_GATEWAY_THREADS=${RALLY_GATEWAY_THREADS:-2 (default)};"
settings+=" llm-proxy RALLY_LLM_PROXY_HTTP_THREADS=${RALLY_LLM_PROXY_HTTP_THREADS:-1 (default)},"
settings+=" RALLY_LLM_PROXY_MAX_IDLE_CONNECTIONS=${RALLY_LLM_PROXY_MAX_IDLE_CONNECTIONS:-32 (default)};"
settings+=" ${compilers:-0} compiler processes (cc1plus) running at the start"
[[ -z ${BENCH_NOTE:-} ]] || settings+="; $BENCH_NOTE"

step "rally-llm-stream-bench"
status=0
"$BENCH_BIN" --direct="127.0.0.1:$simulator_port" --gateway="127.0.0.1:$gateway_port" \
  --watch="gateway=${PIDS[gateway]}" --watch="llm-proxy=${PIDS[llm-proxy]}" \
  --watch="llm-simulator=${PIDS[llm-simulator]}" --note="$settings" "${BENCH_ARGS[@]}" || status=$?
exit "$status"
