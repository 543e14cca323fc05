#!/usr/bin/env bash
# Runs the gateway's fuzz target (tests/fuzz/gateway_request_fuzz.cc) for a bounded time:
#
#   tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS
#
# BUILD_DIR is a fuzz tree (cmake --preset fuzz && cmake --build --preset fuzz gives build/fuzz). The seed
# corpus is copied to a fresh temporary directory and libFuzzer works there, so nothing is written into the
# repository. Prints libFuzzer's final stats; exits 0 when SECONDS passed without a finding, 1 when libFuzzer
# found a crash, leak, sanitizer report, broken invariant or timeout (its report, the crashing input's path
# and the command that reproduces it are printed; that directory is kept), 2 for a usage error.
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
TARGET=gateway_request_fuzz
CORPUS=$SOURCE_DIR/corpus/gateway_request
DICT=$SOURCE_DIR/gateway_request.dict

usage() {
  printf 'usage: %s BUILD_DIR SECONDS\n' "${0##*/}" >&2
  exit 2
}

(($# == 2)) || usage
build_dir=$1
seconds=$2
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds > 0)) || {
  printf 'run_fuzz.sh: SECONDS must be a whole number above 0, not "%s"\n' "$seconds" >&2
  exit 2
}
binary=$(readlink -f "$build_dir")/tests/fuzz/$TARGET
[[ -x $binary ]] || {
  printf 'run_fuzz.sh: %s is missing: build it first (cmake --preset fuzz && cmake --build --preset fuzz)\n' \
    "$binary" >&2
  exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/rally-fuzz.XXXXXX") || exit 2
keep_work=0
cleanup() { ((keep_work == 1)) || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/corpus" "$work/crashes"
cp "$CORPUS"/* "$work/corpus/" || {
  printf 'run_fuzz.sh: cannot copy the seed corpus %s\n' "$CORPUS" >&2
  exit 2
}
log=$work/libfuzzer.log

# UBSan reports end the process (-fno-sanitize-recover=all) and so count as crashes; the stack helps.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

printf 'fuzzing %s for %ss from %s seed inputs, in %s\n' "$TARGET" "$seconds" \
  "$(find "$work/corpus" -type f | wc -l)" "$work"
status=0
(cd "$work" && "$binary" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -dict="$DICT" -artifact_prefix="$work/crashes/" -print_final_stats=1 \
  "$work/corpus") >"$log" 2>&1 || status=$?

if ((status == 0)); then
  # The last status line ("#N DONE cov: ... exec/s: ...") and the stat:: lines.
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::' "$log" || tail -n 5 "$log"
  exit 0
fi

keep_work=1
printf -- '---- libFuzzer found a problem (exit %s); the end of its log: ----\n' "$status" >&2
tail -n 120 "$log" >&2
printf -- '----\n' >&2
crash=$(find "$work/crashes" -type f | head -n 1)
if [[ -n $crash ]]; then
  printf 'crashing input: %s\nreproduce with: %s %s\n' "$crash" "$binary" "$crash" >&2
else
  printf 'no crash file was written\n' >&2
fi
printf "libFuzzer's whole log: %s\n" "$log" >&2
exit 1
