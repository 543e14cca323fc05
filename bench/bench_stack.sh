# shellcheck shell=bash disable=SC2034  # SC2034: its globals are read by the scripts that source it
# bench_stack.sh: what the bench scripts share. Sourced, it defines functions and runs nothing.
#
# It sources ./rally for its helpers (start_postgres, start_redis, pick_free_port, terminate, wait_for,
# install_packages, step, note, ...) and adds the options every script takes, a fresh /tmp directory that
# is removed however the script ends with every process started in it stopped first, free ports, and the
# throwaway stack: PostgreSQL, Redis, the LLM simulator, the llm-proxy, the arena, the scoring service and the
# gateway, each on 127.0.0.1 and never on a dev stack's port, and API tokens for it (rally-admin).
#
# A script sets BENCH_NAME (its name in messages), parses its options with bench_common_option (or, when the
# rest go to a bench binary, bench_passthrough_options), checks its binaries with bench_require, then calls
# bench_init and the bench_start_* functions in order.

# shellcheck source=SCRIPTDIR/../rally
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../rally"

BENCH_NAME=${BENCH_NAME:-$(basename "$0" .sh)}
BUILD_DIR=$REPO_DIR/build/release
KEEP=0
BENCH_TMP=""
BENCH_SHIFT=0       # set by the option parsers: how many arguments they used
BENCH_VALUE=""      # set by bench_option_value
BENCH_ARGS=()       # set by bench_passthrough_options: the arguments for the bench binary
BENCH_START_LOAD="" # set by bench_record_load
BENCH_START_COMPILERS=""
declare -A BENCH_PIDS=()     # name -> pid, for what runs now
declare -A BENCH_CLIENTS=()  # names of load clients: stopped without a complaint
BENCH_ORDER=()               # names in start order; stopped in reverse
BENCH_PORTS=()               # every port handed out, so none is handed out twice

# rally's messages, under the script's name (rally's own helpers call these too).
warn() { printf '%s: warning: %s\n' "$BENCH_NAME" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$BENCH_NAME" "$*" >&2
  [[ -z $BENCH_TMP ]] || KEEP=1 # the logs tell why
  exit 1
}
usage_error() {
  printf '%s: %s (see --help)\n' "$BENCH_NAME" "$*" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------------------
# Options

# An option with a value, as `--name VALUE` or `--name=VALUE`: sets BENCH_VALUE and BENCH_SHIFT.
bench_option_value() {
  if [[ $1 == *=* ]]; then
    BENCH_VALUE=${1#*=}
    BENCH_SHIFT=1
  else
    (($# >= 2)) || usage_error "$1 needs a value"
    BENCH_VALUE=$2
    BENCH_SHIFT=2
  fi
}

# The options every script takes: --build-dir DIR, --keep, -h/--help (prints the script's header comment).
# Sets BENCH_SHIFT to the number of arguments used, 0 when $1 is none of them.
bench_common_option() {
  BENCH_SHIFT=0
  case $1 in
    --build-dir | --build-dir=*)
      bench_option_value "$@"
      BUILD_DIR=$(readlink -f "$BENCH_VALUE")
      ;;
    --keep)
      KEEP=1
      BENCH_SHIFT=1
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
  esac
}

# For a script that hands every other argument to its bench binary: takes the common options and puts the
# rest, in order, in BENCH_ARGS.
bench_passthrough_options() {
  BENCH_ARGS=()
  while (($# > 0)); do
    bench_common_option "$@"
    if ((BENCH_SHIFT == 0)); then
      BENCH_ARGS+=("$1")
      BENCH_SHIFT=1
    fi
    shift "$BENCH_SHIFT"
  done
}

# ---------------------------------------------------------------------------------------------------------
# The machine

# Raises the open-file limit to 65536, or to the hard limit when that is lower, and warns when it stays
# below 4096: every connection of WHAT (e.g. "500 streams") holds a descriptor in the bench and in the
# components it reaches.
bench_raise_open_file_limit() {
  local hard_limit
  hard_limit=$(ulimit -Hn)
  if [[ $hard_limit == unlimited ]] || ((hard_limit >= 65536)); then
    ulimit -n 65536
  else
    ulimit -n "$hard_limit"
  fi
  (($(ulimit -n) >= 4096)) || warn "open-file limit is $(ulimit -n): $1 may run out of descriptors"
}

# What else loads the machine now, for the report: BENCH_START_LOAD (the 1, 5 and 15 minute load averages)
# and BENCH_START_COMPILERS (running cc1plus processes, a build sharing the cores).
bench_record_load() {
  BENCH_START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
  BENCH_START_COMPILERS=$(pgrep -c -x cc1plus || true)
}

# ---------------------------------------------------------------------------------------------------------
# Binaries

# The path of a component in BUILD_DIR: gateway, admin, llm-simulator, chain-deploy, a bench
# (llm-stream-bench, scoring-bench) or a service name.
bench_binary() {
  case $1 in
    gateway | admin) printf '%s\n' "$BUILD_DIR/gateway/rally-$1" ;;
    llm-simulator) printf '%s\n' "$BUILD_DIR/services/llm-proxy/simulator/rally-llm-simulator" ;;
    *-bench) printf '%s\n' "$BUILD_DIR/bench/rally-$1" ;;
    chain-deploy) printf '%s\n' "$BUILD_DIR/services/critique/rally-chain-deploy" ;;
    *) printf '%s\n' "$BUILD_DIR/services/$1/rally-$1" ;;
  esac
}

# Dies, with the command that builds them, unless every named component is built.
bench_require() {
  local name bin
  local -a targets=() missing=()
  for name in "$@"; do
    targets+=("rally-$name")
    bin=$(bench_binary "$name")
    [[ -x $bin ]] || missing+=("$bin")
  done
  ((${#missing[@]} == 0)) ||
    die "missing ${missing[*]}: cmake --build ${BUILD_DIR#"$REPO_DIR"/} --target ${targets[*]}"
}

# ---------------------------------------------------------------------------------------------------------
# Processes

# Creates the run's directory under /tmp (short enough for PostgreSQL's socket, reachable by the postgres
# user when we are root) and arms the cleanup.
bench_init() {
  BENCH_TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 711 "$BENCH_TMP"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Starts NAME in the background with its output in $BENCH_TMP/NAME.log; the rest are VAR=VALUE and the
# binary with its arguments. setsid and env exec, so the recorded pid is the binary's own; its own session
# keeps a Ctrl-C for the script, whose cleanup then stops the components in order.
bench_start() {
  local name=$1
  shift
  setsid env "$@" </dev/null >"$BENCH_TMP/$name.log" 2>&1 &
  BENCH_PIDS[$name]=$!
  BENCH_ORDER+=("$name")
  note "$name: pid ${BENCH_PIDS[$name]}"
}

# Runs a load client (NAME, where its output goes, the command) and returns its status. It runs in the
# background so that a signal reaches the script's traps at once, and the cleanup stops it.
bench_run() {
  local name=$1 output=$2
  shift 2
  "$@" </dev/null >"$output" 2>&1 &
  BENCH_PIDS[$name]=$!
  BENCH_CLIENTS[$name]=1
  BENCH_ORDER+=("$name")
  local status=0
  wait "${BENCH_PIDS[$name]}" || status=$?
  unset 'BENCH_PIDS[$name]'
  return "$status"
}

# Stops NAME (SIGTERM, SIGKILL after STOP_TIMEOUT_S). A component that exits non-zero, or had exited
# already, is reported with its log's tail and the directory is kept.
bench_stop() {
  local name=$1
  local pid=${BENCH_PIDS[$name]:-}
  [[ -n $pid ]] || return 0
  unset 'BENCH_PIDS[$name]'
  if [[ -n ${BENCH_CLIENTS[$name]:-} ]]; then
    terminate "$pid"
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  if process_running "$pid"; then
    terminate "$pid"
    local status=0
    wait "$pid" 2>/dev/null || status=$?
    if ((status != 0)); then
      warn "$name exited with status $status on SIGTERM (log: $BENCH_TMP/$name.log)"
      show_log_tail "$BENCH_TMP/$name.log"
      KEEP=1
    fi
  else
    warn "$name (pid $pid) had exited before the end of the run"
    show_log_tail "$BENCH_TMP/$name.log"
    KEEP=1
  fi
}

# Dies when a component started by bench_start is no longer running.
bench_check_running() {
  local name
  for name in "${!BENCH_PIDS[@]}"; do
    [[ -n ${BENCH_CLIENTS[$name]:-} ]] || process_running "${BENCH_PIDS[$name]}" ||
      die "$name exited (log: $BENCH_TMP/$name.log)"
  done
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i
  # Last started first: the clients and the gateway (no new requests), then what they call.
  for ((i = ${#BENCH_ORDER[@]} - 1; i >= 0; i--)); do
    bench_stop "${BENCH_ORDER[i]}"
  done
  if [[ -n $BENCH_TMP ]]; then
    stop_redis "$BENCH_TMP/redis/redis.pid"
    stop_postgres "$BENCH_TMP/postgres"
    if ((KEEP)); then
      printf '%s: logs kept in %s\n' "$BENCH_NAME" "$BENCH_TMP" >&2
    else
      rm -rf "$BENCH_TMP"
    fi
  fi
  exit "$status"
}

# Sets the variable named $1 to a free port on 127.0.0.1 that no earlier call handed out.
bench_port() {
  local port
  port=$(pick_free_port "${BENCH_PORTS[@]}")
  BENCH_PORTS+=("$port")
  printf -v "$1" '%s' "$port"
}

# ---------------------------------------------------------------------------------------------------------
# The stack. Each function sets the BENCH_*_PORT of what it starts.

# PostgreSQL and Redis, the same functions `./rally test` uses; sets BENCH_PG_URL and BENCH_REDIS_ADDR too.
bench_start_databases() {
  bench_port BENCH_PG_PORT
  bench_port BENCH_REDIS_PORT
  step "throwaway PostgreSQL (127.0.0.1:$BENCH_PG_PORT) and Redis (127.0.0.1:$BENCH_REDIS_PORT) in $BENCH_TMP"
  start_postgres "$BENCH_TMP/postgres" "$BENCH_PG_PORT"
  start_redis "$BENCH_TMP/redis" "$BENCH_REDIS_PORT" "$BENCH_TMP/redis.log" "$BENCH_TMP/redis/redis.pid"
  BENCH_PG_URL=postgresql://rally@127.0.0.1:$BENCH_PG_PORT/rally
  BENCH_REDIS_ADDR=127.0.0.1:$BENCH_REDIS_PORT
}

# The LLM simulator on a port it picks itself; the arguments are its settings (RALLY_SIMULATOR_*=VALUE).
bench_start_simulator() {
  bench_start llm-simulator RALLY_SIMULATOR_ADDR=127.0.0.1:0 \
    RALLY_SIMULATOR_PORT_FILE="$BENCH_TMP/simulator.port" "$@" "$(bench_binary llm-simulator)"
  wait_for 30 bench_simulator_started || true
  [[ -s $BENCH_TMP/simulator.port ]] || die "the simulator did not start (log: $BENCH_TMP/llm-simulator.log)"
  BENCH_SIMULATOR_PORT=$(<"$BENCH_TMP/simulator.port")
  note "llm-simulator: http://127.0.0.1:$BENCH_SIMULATOR_PORT"
}

# shellcheck disable=SC2317  # invoked by wait_for
bench_simulator_started() {
  [[ -s $BENCH_TMP/simulator.port ]] || ! process_running "${BENCH_PIDS[llm-simulator]}"
}

# The llm-proxy with the catalog deploy/models.json and no provider keys: every model goes to the simulator.
bench_start_llm_proxy() {
  bench_port BENCH_PROXY_PORT
  bench_port BENCH_PROXY_METRICS_PORT
  bench_start llm-proxy OPENAI_API_KEY= ANTHROPIC_API_KEY= \
    RALLY_LLM_PROXY_ADDR="127.0.0.1:$BENCH_PROXY_PORT" \
    RALLY_LLM_PROXY_METRICS_ADDR="127.0.0.1:$BENCH_PROXY_METRICS_PORT" \
    RALLY_LLM_PROXY_CATALOG="$REPO_DIR/deploy/models.json" \
    RALLY_LLM_PROXY_SIMULATOR_URL="http://127.0.0.1:$BENCH_SIMULATOR_PORT" \
    RALLY_PG_URL="$BENCH_PG_URL" RALLY_REDIS_ADDR="$BENCH_REDIS_ADDR" "$(bench_binary llm-proxy)"
}

# The arena, sharing the database and Redis; the arguments (VAR=VALUE) are added to its environment.
bench_start_arena() {
  bench_port BENCH_ARENA_PORT
  bench_port BENCH_ARENA_METRICS_PORT
  bench_start arena RALLY_ARENA_ADDR="127.0.0.1:$BENCH_ARENA_PORT" \
    RALLY_ARENA_METRICS_ADDR="127.0.0.1:$BENCH_ARENA_METRICS_PORT" \
    RALLY_LLM_PROXY_ADDR="127.0.0.1:$BENCH_PROXY_PORT" \
    RALLY_PG_URL="$BENCH_PG_URL" RALLY_REDIS_ADDR="$BENCH_REDIS_ADDR" "$@" "$(bench_binary arena)"
}

# The scoring service with the committed models.dev snapshot, reading the catalog from the llm-proxy and
# the ratings from the arena (start them first). No scheduled recalculation and no models.dev sync (no
# internet), as in the integration tests: nothing but the bench's requests stores or publishes a score. The
# arguments (VAR=VALUE) are added to its environment.
bench_start_scoring() {
  bench_port BENCH_SCORING_PORT
  bench_port BENCH_SCORING_METRICS_PORT
  local unused_port
  bench_port unused_port
  bench_start scoring RALLY_SCORING_ADDR="127.0.0.1:$BENCH_SCORING_PORT" \
    RALLY_SCORING_METRICS_ADDR="127.0.0.1:$BENCH_SCORING_METRICS_PORT" \
    RALLY_SCORING_MODELS_DEV_FILE="$REPO_DIR/deploy/data/models-dev-snapshot.json" \
    RALLY_SCORING_RECALC_INTERVAL=0s RALLY_SCORING_MODELS_DEV_URL= \
    RALLY_LLM_PROXY_ADDR="127.0.0.1:$BENCH_PROXY_PORT" \
    RALLY_ARENA_ADDR="127.0.0.1:${BENCH_ARENA_PORT:-$unused_port}" \
    RALLY_PG_URL="$BENCH_PG_URL" RALLY_REDIS_ADDR="$BENCH_REDIS_ADDR" "$@" "$(bench_binary scoring)"
}

# Creates an API token (rally-admin token create) in the stack's database and writes it to FILE (mode 600):
# bench_create_token NAME SCOPES FILE, SCOPES as rally-admin takes them (read,write). Before the gateway
# starts, so its token cache holds the token from its first request.
bench_create_token() {
  local name=$1 scopes=$2 file=$3 output
  output=$(RALLY_PG_URL="$BENCH_PG_URL" RALLY_REDIS_ADDR="$BENCH_REDIS_ADDR" \
    "$(bench_binary admin)" token create --name "$name" --scopes "$scopes" 2>"$BENCH_TMP/admin.log") ||
    die "rally-admin token create failed: $(cat "$BENCH_TMP/admin.log")"
  [[ $output =~ ^rally_[A-Za-z0-9_]+$ ]] || die "rally-admin printed no token: $output"
  (umask 077 && printf '%s\n' "$output" >"$file")
  note "API token \"$name\" ($scopes) in $file"
}

# The gateway in front of the llm-proxy and, when they were started, the arena and the scoring service. The
# services not started here are pointed at a port where nothing listens, never at a dev stack that may run
# on the default ports. Rate limits are off unless exported: one load generator is one client host, which
# the limits exist to stop.
bench_start_gateway() {
  bench_port BENCH_GATEWAY_PORT
  local unused_port
  bench_port unused_port
  bench_start gateway RALLY_GATEWAY_ADDR="127.0.0.1:$BENCH_GATEWAY_PORT" \
    RALLY_LLM_PROXY_ADDR="127.0.0.1:$BENCH_PROXY_PORT" \
    RALLY_ARENA_ADDR="127.0.0.1:${BENCH_ARENA_PORT:-$unused_port}" \
    RALLY_SCORING_ADDR="127.0.0.1:${BENCH_SCORING_PORT:-$unused_port}" \
    RALLY_CRITIQUE_ADDR="127.0.0.1:${BENCH_CRITIQUE_PORT:-$unused_port}" \
    RALLY_GATEWAY_RATE_LIMITS="${RALLY_GATEWAY_RATE_LIMITS:-off}" RALLY_PG_URL="$BENCH_PG_URL" \
    RALLY_REDIS_ADDR="$BENCH_REDIS_ADDR" "$(bench_binary gateway)"
}
