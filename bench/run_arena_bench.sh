#!/usr/bin/env bash
# run_arena_bench.sh: the arena benchmark in one command (docs/benchmarks.md).
#
# Starts a throwaway PostgreSQL and Redis (the same functions `./rally test` uses), the LLM simulator,
# rally-llm-proxy, rally-arena and rally-gateway from a release build, all on free ports in a fresh /tmp
# directory, and measures two ratios, each against a reference run in the same script on the same machine:
#
#   votes   wrk POST /vote through the gateway, the requests going round the ordered pairs of three catalog
#           models and the three results (bench/arena_votes.lua), against pgbench running the arena's vote
#           transaction (bench/arena_vote.pgbench) on copies of its tables in the same PostgreSQL server,
#           with as many clients as wrk has connections;
#   reads   wrk GET /leaderboard through the gateway, against nginx serving the body the gateway answered
#           as a static file, with the same wrk settings.
#
# Prints a Markdown report (the issue's targets: each ratio at least 0.5), stops everything and removes the
# directory, however the run ends. Installs wrk and nginx-light with apt-get when they are missing.
#
#   bench/run_arena_bench.sh [--build-dir DIR] [--duration 20s] [--connections 64] [--threads 2]
#                            [--output FILE] [--keep]
#
#   --build-dir DIR    where the binaries are (default build/release; build them with
#                      cmake --build DIR --target rally-gateway rally-llm-proxy rally-arena rally-llm-simulator)
#   --duration D       length of each of the four measured runs: seconds, or a number with s or m (20s)
#   --connections N    wrk connections and pgbench clients (64)
#   --threads N        wrk threads and pgbench threads (2, the cores of the machine this was written on)
#   --output FILE      also append the report to FILE
#   --keep             keep the temporary directory (logs, wrk and pgbench output, nginx config) after the run
#
# Environment: BENCH_PGBENCH_MODE (prepared, or extended) is pgbench's -M; BENCH_NOTE is added to the
# report. Any other RALLY_* variable you export reaches the binaries unchanged; the addresses, catalog,
# PostgreSQL and Redis are always the script's own, and so is the arena's RALLY_ARENA_BT_INTERVAL (2s, so the
# Bradley-Terry refit of the last votes is over before the reads are measured).
#
# Exit status: 0 every request and transaction succeeded (the report says whether the targets were met),
# 3 some failed, 1 could not run, 2 bad options.
set -euo pipefail

BENCH_NAME=run_arena_bench
# shellcheck source=SCRIPTDIR/bench_stack.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/bench_stack.sh"
BENCH_DIR=$REPO_DIR/bench

DURATION=20s
CONNECTIONS=64
THREADS=2
OUTPUT=""
while (($# > 0)); do
  bench_common_option "$@"
  if ((BENCH_SHIFT == 0)); then
    case ${1%%=*} in
      --duration | --connections | --threads | --output)
        bench_option_value "$@"
        option=${1%%=*}
        option=${option#--}
        printf -v "${option^^}" '%s' "$BENCH_VALUE" # --duration sets DURATION, and so on
        ;;
      *) usage_error "unknown option $1" ;;
    esac
  fi
  shift "$BENCH_SHIFT"
done

[[ $DURATION =~ ^([1-9][0-9]*)(s|m)?$ ]] || usage_error "--duration takes seconds: 20, 20s or 2m"
DURATION_S=${BASH_REMATCH[1]}
[[ ${BASH_REMATCH[2]} != m ]] || DURATION_S=$((DURATION_S * 60))
[[ $CONNECTIONS =~ ^[1-9][0-9]{0,3}$ ]] || usage_error "--connections takes a number from 1 to 9999"
[[ $THREADS =~ ^[1-9][0-9]{0,2}$ ]] || usage_error "--threads takes a number from 1 to 999"
((THREADS <= CONNECTIONS)) || usage_error "--threads must not exceed --connections"
PGBENCH_MODE=${BENCH_PGBENCH_MODE:-prepared}
# Not simple: that mode pastes the model names into the SQL unquoted.
[[ $PGBENCH_MODE == prepared || $PGBENCH_MODE == extended ]] ||
  usage_error "BENCH_PGBENCH_MODE is prepared or extended"
if [[ -n $OUTPUT ]]; then
  touch "$OUTPUT" || die "cannot write $OUTPUT"
  OUTPUT=$(readlink -f "$OUTPUT")
fi

bench_require gateway llm-proxy arena llm-simulator

packages=()
command -v wrk >/dev/null || packages+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || packages+=(nginx-light)
if ((${#packages[@]} > 0)); then
  step "installing ${packages[*]} (apt-get)"
  install_packages "${packages[@]}"
fi
WRK=$(command -v wrk) || die "wrk is not installed"
NGINX=$(command -v nginx || printf '/usr/sbin/nginx')
[[ -x $NGINX ]] || die "nginx is not installed"
PG_BIN=$(pg_bin_dir)
PGBENCH=$PG_BIN/pgbench
[[ -x $PGBENCH ]] || die "$PGBENCH is missing (package postgresql)"

CLOCK_TICKS=$(getconf CLK_TCK)
bench_record_load

# ---------------------------------------------------------------------------------------------------------
# The stack

bench_init rally-arena-bench
bench_start_databases
step "LLM simulator, llm-proxy, arena and gateway"
bench_start_simulator RALLY_SIMULATOR_THREADS=1  # idle here: nothing streams
bench_start_llm_proxy
bench_start_arena RALLY_ARENA_BT_INTERVAL=2s
bench_start_gateway
GATEWAY=http://127.0.0.1:$BENCH_GATEWAY_PORT
note "gateway: $GATEWAY"

# shellcheck disable=SC2317  # invoked by wait_for
leaderboard_listed() {
  bench_check_running
  [[ $(curl -s --max-time 2 "$GATEWAY/leaderboard" 2>/dev/null) == '[{'* ]]
}
step "waiting for GET /leaderboard to list the catalog's models"
wait_for 60 leaderboard_listed || die "GET /leaderboard listed no models within 60 s (logs: $BENCH_TMP)"

# The first three models of the leaderboard, which lists them by name while nobody has voted.
mapfile -t MODELS < <(curl -s "$GATEWAY/leaderboard" | grep -o '"name":"[^"]*"' | cut -d'"' -f4 | head -n 3)
((${#MODELS[@]} == 3)) || die "the leaderboard lists fewer than three models"
note "voting on ${MODELS[*]}"

psql_rally() {
  PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$BENCH_PG_PORT" -U rally \
    -d rally "$@"
}

# ---------------------------------------------------------------------------------------------------------
# CPU accounting

# Clock ticks PID has used, with those of its children that have exited (PostgreSQL's backends, a load
# client the script has waited for).
process_ticks() {
  local stat
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || {
    echo 0
    return
  }
  local -a fields
  read -ra fields <<<"${stat##*) }"
  echo $((fields[11] + fields[12] + fields[13] + fields[14]))
}

# ... and those of its live children (PostgreSQL's backends and workers, nginx's workers).
tree_ticks() {
  local total child
  total=$(process_ticks "$1")
  for child in $(pgrep -P "$1" || true); do
    total=$((total + $(process_ticks "$child")))
  done
  echo "$total"
}

machine_ticks() {
  local user nice system irq softirq steal
  read -r _ user nice system _ _ irq softirq steal _ </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}

POSTGRES_PID=$(postgres_pid "$BENCH_TMP/postgres") || die "PostgreSQL is not running"
# Columns of the CPU table; "client" is this script with the wrk or pgbench it waited for.
WATCHED=(gateway arena llm-proxy postgres nginx client)

watched_ticks() {
  case $1 in
    postgres) tree_ticks "$POSTGRES_PID" ;;
    nginx) if [[ -n ${BENCH_PIDS[nginx]:-} ]]; then tree_ticks "${BENCH_PIDS[nginx]}"; else echo 0; fi ;;
    client) process_ticks $$ ;;
    *) process_ticks "${BENCH_PIDS[$1]}" ;;
  esac
}

declare -A TICKS_AT_START=() CPU_SECONDS=() WALL_SECONDS=()
RUN_START=""

run_begin() {
  local name
  for name in "${WATCHED[@]}"; do
    TICKS_AT_START[$name]=$(watched_ticks "$name")
  done
  TICKS_AT_START[machine]=$(machine_ticks)
  RUN_START=$EPOCHREALTIME
}

# Records the CPU seconds each watched process used since run_begin, under the run's NAME; "other" is what
# the rest of the machine used meanwhile (a compiler, another bench).
run_end() {
  local run=$1 name ticks measured=0
  local end=$EPOCHREALTIME
  for name in "${WATCHED[@]}"; do
    ticks=$(($(watched_ticks "$name") - TICKS_AT_START[$name]))
    measured=$((measured + ticks))
    CPU_SECONDS[$run,$name]=$(awk -v t="$ticks" -v hz="$CLOCK_TICKS" 'BEGIN { printf "%.1f", t / hz }')
  done
  ticks=$(($(machine_ticks) - TICKS_AT_START[machine] - measured))
  ((ticks >= 0)) || ticks=0
  CPU_SECONDS[$run,other]=$(awk -v t="$ticks" -v hz="$CLOCK_TICKS" 'BEGIN { printf "%.1f", t / hz }')
  WALL_SECONDS[$run]=$(awk -v a="$RUN_START" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
}

stack_ticks() {
  local name total=0
  for name in gateway arena llm-proxy postgres; do
    total=$((total + $(watched_ticks "$name")))
  done
  echo "$total"
}

# Waits until the stack uses less than 5% of a core for a whole second (the arena's Bradley-Terry refit of
# the last votes, autovacuum), so that nothing left over from one run is measured in the next.
wait_until_quiet() {
  local before after deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    before=$(stack_ticks)
    sleep 1
    after=$(stack_ticks)
    if (((after - before) * 100 < CLOCK_TICKS * 5)); then
      return 0
    fi
  done
  warn "the stack was still busy after 120 s; measuring anyway"
}

# ---------------------------------------------------------------------------------------------------------
# The runs

# The value of KEY in the wrk-summary line (bench/wrk_summary.lua) of FILE.
summary_field() {
  local value
  value=$(grep -o "wrk-summary .*" "$1" | tr ' ' '\n' | sed -n "s/^$2=//p")
  [[ -n $value ]] || die "no $2 in wrk's output $1"
  printf '%s\n' "$value"
}

declare -A RATE=() REQUESTS=() ERRORS=() MEAN_MS=() P50_MS=() P99_MS=()
FAILED=0

# wrk_run RUN SCRIPT URL [-- SCRIPT ARGUMENTS...]: every wrk run has the same threads, connections, duration
# and timeout.
wrk_run() {
  local run=$1 script=$2 url=$3
  shift 3
  local output=$BENCH_TMP/$run.out
  wait_until_quiet
  run_begin
  bench_run "wrk-$run" "$output" "$WRK" -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION_S}s" --timeout 10s \
    -s "$script" "$url" "$@" || {
    cat "$output" >&2
    die "wrk failed ($run)"
  }
  run_end "$run"
  local requests duration_us errors=0 kind count
  requests=$(summary_field "$output" requests)
  duration_us=$(summary_field "$output" duration_us)
  for kind in status connect read write timeout; do
    count=$(summary_field "$output" "${kind}_errors")
    if ((count > 0)); then
      warn "$run: $count $kind errors (wrk's output: $BENCH_TMP/$run.out)"
      errors=$((errors + count))
      FAILED=1
      KEEP=1
    fi
  done
  REQUESTS[$run]=$requests
  ERRORS[$run]=$errors
  RATE[$run]=$(awk -v n="$requests" -v us="$duration_us" 'BEGIN { printf "%.1f", n / (us / 1e6) }')
  MEAN_MS[$run]=$(milliseconds "$(summary_field "$output" mean_us)")
  P50_MS[$run]=$(milliseconds "$(summary_field "$output" p50_us)")
  P99_MS[$run]=$(milliseconds "$(summary_field "$output" p99_us)")
  note "$run: ${RATE[$run]} requests/s ($requests), p50 ${P50_MS[$run]} ms, p99 ${P99_MS[$run]} ms," \
    "$errors errors"
}

milliseconds() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# Fails fast, with the gateway's answer, when a vote is not accepted at all.
first_vote=$(curl -s -o "$BENCH_TMP/first-vote.json" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' "$GATEWAY/vote" \
  -d "{\"modelA\":\"${MODELS[0]}\",\"modelB\":\"${MODELS[1]}\",\"result\":\"draw\"}" || true)
[[ $first_vote == 200 ]] ||
  die "POST /vote answered $first_vote: $(cat "$BENCH_TMP/first-vote.json" 2>/dev/null)"

step "votes, reference: pgbench -M $PGBENCH_MODE -c $CONNECTIONS -j $THREADS -T $DURATION_S" \
  "(bench/arena_vote.pgbench)"
# Copies of the arena's tables (LIKE ... INCLUDING ALL takes columns, defaults, identity, checks and
# indexes; the foreign keys are added), so the reference never touches the rows the gateway votes on.
psql_rally -v model1="${MODELS[0]}" -v model2="${MODELS[1]}" -v model3="${MODELS[2]}" <<'SQL'
CREATE SCHEMA bench;
CREATE TABLE bench.models (LIKE arena.models INCLUDING ALL);
CREATE TABLE bench.votes (LIKE arena.votes INCLUDING ALL);
ALTER TABLE bench.votes
    ADD FOREIGN KEY (model_a) REFERENCES bench.models (name),
    ADD FOREIGN KEY (model_b) REFERENCES bench.models (name);
INSERT INTO bench.models (name, rating)
    SELECT name, rating FROM arena.models WHERE name IN (:'model1', :'model2', :'model3');
CHECKPOINT;
SQL
VOTER=$(printf '127.0.0.1:40000' | sha256sum | cut -c1-64)  # the gateway's voter: the client's address
wait_until_quiet
run_begin
status=0
PGBENCH_OUT=$BENCH_TMP/pgbench.out
bench_run pgbench "$PGBENCH_OUT" "$PGBENCH" -n -h 127.0.0.1 -p "$BENCH_PG_PORT" -U rally \
  -M "$PGBENCH_MODE" -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION_S" -f "$BENCH_DIR/arena_vote.pgbench" \
  -D model1="${MODELS[0]}" -D model2="${MODELS[1]}" -D model3="${MODELS[2]}" -D voter="$VOTER" rally ||
  status=$?
run_end pgbench
# The value after "LABEL = " or "LABEL: " in pgbench's report.
pgbench_value() { sed -n "s/^$1[:=] *\([0-9.]*\).*/\1/p" "$PGBENCH_OUT"; }
PGBENCH_TPS=$(awk -v tps="$(pgbench_value 'tps ')" 'BEGIN { if (tps != "") printf "%.1f", tps }')
PGBENCH_TRANSACTIONS=$(pgbench_value 'number of transactions actually processed')
PGBENCH_FAILED=$(pgbench_value 'number of failed transactions')
PGBENCH_LATENCY=$(pgbench_value 'latency average ')
if [[ -z $PGBENCH_TPS ]]; then
  cat "$PGBENCH_OUT" >&2
  die "pgbench failed (status $status)"
fi
if ((status != 0)) || [[ $PGBENCH_FAILED != 0 ]]; then
  warn "pgbench: status $status, $PGBENCH_FAILED failed transactions (output: $PGBENCH_OUT)"
  FAILED=1
  KEEP=1
fi
note "pgbench: $PGBENCH_TPS transactions/s ($PGBENCH_TRANSACTIONS), latency average $PGBENCH_LATENCY ms"

step "votes: wrk POST /vote through the gateway, -t$THREADS -c$CONNECTIONS -d${DURATION_S}s"
votes_before=$(psql_rally -tA -c 'SELECT count(*) FROM arena.votes')
psql_rally -c CHECKPOINT
wrk_run votes "$BENCH_DIR/arena_votes.lua" "$GATEWAY" -- "${MODELS[@]}"
votes_stored=$(($(psql_rally -tA -c 'SELECT count(*) FROM arena.votes') - votes_before))
bench_votes_stored=$(psql_rally -tA -c 'SELECT count(*) FROM bench.votes')

step "leaderboard reads, reference: nginx serving the body of GET /leaderboard"
# The refit of the last votes comes at most RALLY_ARENA_BT_INTERVAL (2s) after them, then the stack settles.
sleep 3
wait_until_quiet
LEADERBOARD=$BENCH_TMP/leaderboard.json
curl -sf -o "$LEADERBOARD" "$GATEWAY/leaderboard" || die "GET /leaderboard failed"
LEADERBOARD_BYTES=$(stat -c %s "$LEADERBOARD")
bench_port NGINX_PORT
# Two workers: the gateway's two I/O threads (RALLY_GATEWAY_THREADS) and the machine's two cores. No access
# log (the gateway keeps none), and keep-alive connections are never closed after some number of requests
# (nginx's default closes them after 1000; the gateway has no such limit).
mkdir -p "$BENCH_TMP/nginx"
cat >"$BENCH_TMP/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $BENCH_TMP/nginx/nginx.pid;
error_log $BENCH_TMP/nginx/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    keepalive_requests 1000000;
    types { }
    default_type application/json;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /leaderboard {
            alias $LEADERBOARD;
        }
    }
}
CONF
bench_start nginx "$NGINX" -p "$BENCH_TMP/nginx/" -e "$BENCH_TMP/nginx/error.log" \
  -c "$BENCH_TMP/nginx/nginx.conf" -g 'daemon off;'
# shellcheck disable=SC2317  # invoked by wait_for
nginx_serving() {
  bench_check_running
  curl -sf "http://127.0.0.1:$NGINX_PORT/leaderboard" 2>/dev/null | cmp -s - "$LEADERBOARD"
}
wait_for 10 nginx_serving || die "nginx does not serve the leaderboard (log: $BENCH_TMP/nginx/error.log)"
wrk_run nginx "$BENCH_DIR/wrk_summary.lua" "http://127.0.0.1:$NGINX_PORT/leaderboard"
bench_stop nginx

step "leaderboard reads: wrk GET /leaderboard through the gateway"
wrk_run leaderboard "$BENCH_DIR/wrk_summary.lua" "$GATEWAY/leaderboard"
LEADERBOARD_NOTE=""
if ! curl -sf "$GATEWAY/leaderboard" | cmp -s - "$LEADERBOARD"; then
  LEADERBOARD_NOTE="The leaderboard changed during the runs (a refit?): the gateway's last body was not"
  LEADERBOARD_NOTE+=" the file's."
  warn "$LEADERBOARD_NOTE"
fi

# ---------------------------------------------------------------------------------------------------------
# The report

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
met() { awk -v r="$1" 'BEGIN { print (r >= 0.5 ? "yes" : "**no**") }'; }
row() {
  local line="|" cell
  for cell in "$@"; do
    line+=" $cell |"
  done
  printf '%s\n' "$line"
}
wrk_row() {
  row "$2" "${REQUESTS[$1]}" "${RATE[$1]}" "${MEAN_MS[$1]}" "${P50_MS[$1]}" "${P99_MS[$1]}" "${ERRORS[$1]}"
}
cpu_row() {
  local run=$1 name
  local -a cells=("$2" "${WALL_SECONDS[$run]}")
  for name in "${WATCHED[@]}" other; do
    cells+=("${CPU_SECONDS[$run,$name]}")
  done
  row "${cells[@]}"
}

VOTE_RATIO=$(ratio "${RATE[votes]}" "$PGBENCH_TPS")
READ_RATIO=$(ratio "${RATE[leaderboard]}" "${RATE[nginx]}")
settings="$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs"
settings+=" ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)); load average at the start"
settings+=" $BENCH_START_LOAD, compiler processes (cc1plus) ${BENCH_START_COMPILERS:-0}."
settings+=" Each run ${DURATION_S} s;"
settings+=" wrk -t$THREADS -c$CONNECTIONS --timeout 10s;"
settings+=" pgbench -M $PGBENCH_MODE -c $CONNECTIONS -j $THREADS;"
settings+=" nginx worker_processes 2; gateway RALLY_GATEWAY_THREADS=${RALLY_GATEWAY_THREADS:-2 (default)};"
settings+=" arena RALLY_ARENA_DB_THREADS=${RALLY_ARENA_DB_THREADS:-8 (default)},"
settings+=" RALLY_PG_POOL_SIZE=${RALLY_PG_POOL_SIZE:-8 (default)}; RALLY_LOG_LEVEL=${RALLY_LOG_LEVEL:-info (default)};"
settings+=" votes on ${MODELS[*]}"
[[ -z ${BENCH_NOTE:-} ]] || settings+="; $BENCH_NOTE"

report=$(
  printf '### Arena benchmark (bench/run_arena_bench.sh)\n\n%s.\n\n' "$settings"
  row Measurement Measured Reference Ratio Target 'Met?'
  row --- ---: ---: ---: ---: ---
  row "votes/s: gateway POST /vote vs pgbench, the same transaction" "${RATE[votes]}" "$PGBENCH_TPS" \
    "$VOTE_RATIO" ">= 0.5" "$(met "$VOTE_RATIO")"
  row "reads/s: gateway GET /leaderboard vs nginx, the same $LEADERBOARD_BYTES-byte body" \
    "${RATE[leaderboard]}" "${RATE[nginx]}" "$READ_RATIO" ">= 0.5" "$(met "$READ_RATIO")"
  printf '\n'
  row Run Requests 'Per second' 'Mean ms' 'p50 ms' 'p99 ms' Failed
  row --- ---: ---: ---: ---: ---: ---:
  row "pgbench: vote transaction" "$PGBENCH_TRANSACTIONS" "$PGBENCH_TPS" "$PGBENCH_LATENCY" - - \
    "$PGBENCH_FAILED"
  wrk_row votes "wrk: gateway POST /vote"
  wrk_row nginx "wrk: nginx GET /leaderboard"
  wrk_row leaderboard "wrk: gateway GET /leaderboard"
  printf '\nCPU seconds used during each run (client: wrk or pgbench; other: the rest of the machine):\n\n'
  row Run 'Wall s' "${WATCHED[@]}" other
  row --- ---: ---: ---: ---: ---: ---: ---: ---:
  cpu_row pgbench "pgbench: vote transaction"
  cpu_row votes "wrk: gateway POST /vote"
  cpu_row nginx "wrk: nginx GET /leaderboard"
  cpu_row leaderboard "wrk: gateway GET /leaderboard"
  printf '\nRows written: bench.votes %s for %s pgbench transactions; arena.votes %s for %s responses to' \
    "$bench_votes_stored" "$PGBENCH_TRANSACTIONS" "$votes_stored" "${REQUESTS[votes]}"
  printf ' POST /vote (wrk does not count the responses still on their way when a run ends).%s\n' \
    "${LEADERBOARD_NOTE:+ $LEADERBOARD_NOTE}"
)
printf '\n%s\n' "$report"
if [[ -n $OUTPUT ]]; then
  printf '%s\n\n' "$report" >>"$OUTPUT"
  note "report appended to $OUTPUT"
fi
((FAILED == 0)) || exit 3
