#!/usr/bin/env bash
# Runs each libFuzzer target of a fuzz build for a fixed time, one after the other, under ASan and
# UBSan, starting from its committed seeds (corpus/<target>/, never written to); stops with exit 1
# at the first crash, leak, timeout or out-of-memory and prints how to reproduce it.
#   run.sh <build dir> <seconds per target> [target...]    (default: every target in targets.txt)
# Environment: FUZZ_TIMEOUT (seconds one input may take, default 30), FUZZ_FRESH=1 (start from the
# seeds alone; otherwise the corpus grown by earlier runs in <build dir>/fuzz-corpus/ is reused).
set -euo pipefail

build=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
per_input_timeout=${FUZZ_TIMEOUT:-30}

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets <"$build/tests/fuzz/targets.txt"
  # FUZZ_SKIP: targets left out of the default set (named ones still run).
  for skip in ${FUZZ_SKIP:-}; do
    targets=("${targets[@]/$skip}")
  done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for target in "${targets[@]}"; do
  [[ -n $target ]] || continue
  binary="$build/tests/fuzz/fuzz_$target"
  seeds="$here/corpus/$target"
  corpus="$build/fuzz-corpus/$target"     # what this and earlier runs found
  artifacts="$build/fuzz-artifacts/$target"  # crash-*, leak-*, timeout-*, slow-unit-* inputs
  log="$build/fuzz-logs/$target.log"
  [[ -x $binary ]] || { echo "fuzz: no $binary (build the fuzz preset)" >&2; exit 1; }
  [[ -d $seeds ]] || { echo "fuzz: no seeds in $seeds" >&2; exit 1; }
  [[ ${FUZZ_FRESH:-0} == 1 ]] && rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"

  status=0
  "$binary" -max_total_time="$seconds" -timeout="$per_input_timeout" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED (exit $status); full log $log" >&2
    echo "fuzz: reproduce: $binary $artifacts/<crash-|leak-|timeout-…>" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  inputs=$(find "$corpus" -type f | wc -l)
  echo "fuzz: $target clean: ${seconds} s, ${runs:-?} executions (${rate:-?}/s), corpus of $inputs inputs, peak RSS ${rss:-?} MB"
  # What a target says it did not test (e.g. known slow inputs it skips) is never hidden.
  grep -m 3 '^fuzz-note:' "$log" || true
  if compgen -G "$artifacts/slow-unit-*" >/dev/null; then
    echo "fuzz: $target: inputs slower than 10 s saved in $artifacts/slow-unit-*"
  fi
done
