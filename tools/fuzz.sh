#!/usr/bin/env bash
# libFuzzer targets (fuzz/, clang + ASan + UBSan): build incrementally, run each for a while.
#   tools/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 60); targets default to all:
#                                         index catalog manifest image detect track
#   tools/fuzz.sh --seeds                 rewrite the committed seeds (tests/fuzz/corpus/)
# Each target runs on its own working corpus, build/fuzz/corpus/<target>/ (the committed seeds
# are copied in; what libFuzzer adds stays there for the next run; the seeds are not modified).
# Prints a table (executions per second, coverage: cov = covered edges, ft = features) and
# writes the same as JSON lines to build/fuzz/report.jsonl. Exits 1 when any target crashed
# (sanitizer report, contract failure, timeout, out-of-memory, leak), naming the input file:
# reproduce with `build/fuzz/fuzz_<target> FILE`; then copy FILE into
# tests/fuzz/regressions/<target>/ so the Catch2 suite ([fuzz]) replays it.
# Environment: FUZZ_JOBS targets at once (default 2, at most nproc), FUZZ_TIMEOUT seconds per
# input (10), FUZZ_RSS_MB (2048), FUZZ_CXX (clang++-14 or clang++), FUZZ_SEED (libFuzzer -seed;
# default random), FUZZ_ARGS extra libFuzzer flags.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

all_targets=(index catalog manifest image detect track)
build=build/fuzz
cxx=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
[ -n "$cxx" ] || { echo "fuzz.sh: clang++ not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
ncpu=$(nproc 2>/dev/null || echo 2)
jobs=${FUZZ_JOBS:-2}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
[ "$jobs" -le "$ncpu" ] || jobs=$ncpu
per_input_timeout=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}

tools/fetch-deps.sh

configure() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  fi
}

if [ "${1:-}" = "--seeds" ]; then
  configure
  cmake --build "$build" -j"$jobs" --target sf_fuzz_seeds
  for t in "${all_targets[@]}"; do mkdir -p "tests/fuzz/corpus/$t"; done
  "$build/sf_fuzz_seeds" tests/fuzz/corpus
  cp models/*.json tests/fuzz/corpus/manifest/  # every manifest we ship is a seed
  exit 0
fi

seconds=${1:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: tools/fuzz.sh [SECONDS] [TARGET...] | --seeds" >&2; exit 2; }
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done

configure
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" >"$build/build.log" 2>&1 || {
  tail -n 50 "$build/build.log" >&2
  echo "fuzz.sh: build failed (full log: $build/build.log)" >&2
  exit 2
}

dict_for() {
  case $1 in
    index) echo fuzz/dict/index.dict ;;
    catalog | manifest) echo fuzz/dict/json.dict ;;
    image) echo fuzz/dict/image.dict ;;
    *) echo "" ;;
  esac
}

run_one() {  # target: fuzz it; libFuzzer's output goes to logs/<target>.log, its status to .rc
  local t=$1
  local corpus=$build/corpus/$t artifacts=$build/artifacts/$t log=$build/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$build/logs"
  if [ -d "tests/fuzz/corpus/$t" ]; then
    find "tests/fuzz/corpus/$t" -maxdepth 1 -type f ! -name '.*' -exec cp -n -t "$corpus" {} +
  fi
  local dict args=()
  dict=$(dict_for "$t")
  [ -n "$dict" ] && [ -f "$dict" ] && args+=("-dict=$dict")
  [ -n "${FUZZ_SEED:-}" ] && args+=("-seed=$FUZZ_SEED")
  # shellcheck disable=SC2206
  [ -n "${FUZZ_ARGS:-}" ] && args+=($FUZZ_ARGS)
  local rc=0
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$build/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$per_input_timeout" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$build/logs/$t.rc"
}

echo "fuzzing ${targets[*]}: ${seconds}s each, $jobs at a time (logs: $build/logs/)" >&2
pids=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$t" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done

report=$build/report.jsonl
: >"$report"
failed=()
printf '%-9s %6s %10s %10s %7s %7s %7s  %s\n' target seconds exec/s runs cov ft corpus status
for t in "${targets[@]}"; do
  log=$build/logs/$t.log
  rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo 1)
  final_stat() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$log" | tail -n 1; }
  eps=$(final_stat average_exec_per_sec)
  runs=$(final_stat number_of_executed_units)
  last=$(grep -E '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  status=ok
  if [ "$rc" != 0 ]; then
    case $(basename "${artifact:-crash}") in
      timeout-*) status=timeout ;;
      oom-*) status=oom ;;
      leak-*) status=leak ;;
      *) status=crash ;;
    esac
    failed+=("$t")
  fi
  printf '%-9s %6s %10s %10s %7s %7s %7s  %s\n' "$t" "$seconds" "${eps:-?}" "${runs:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$status${artifact:+ $artifact}"
  printf '{"target":"%s","seconds":%s,"exec_per_sec":%s,"runs":%s,"cov":%s,"ft":%s,"corpus":%s,"status":"%s","exit_code":%s,"artifact":%s,"log":"%s"}\n' \
    "$t" "$seconds" "${eps:-null}" "${runs:-null}" "${cov:-null}" "${ft:-null}" "${corp:-null}" "$status" "$rc" \
    "$([ -n "$artifact" ] && printf '"%s"' "$artifact" || echo null)" "$log" >>"$report"
done
echo "report: $report" >&2

if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    log=$build/logs/$t.log
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "== fuzz_$t FAILED (log: $log)" >&2
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|fuzz contract violated' "$log" >&2 || true
    grep -m1 '^SUMMARY:' "$log" >&2 || true
    if [ -n "$artifact" ]; then
      echo "   input: $artifact" >&2
      echo "   reproduce: $build/fuzz_$t $artifact" >&2
      echo "   keep as a regression: cp $artifact tests/fuzz/regressions/$t/" >&2
    fi
  done
  exit 1
fi
