#!/bin/sh
# Runs every libFuzzer target of a fuzz build directory (CC=clang,
# -Dfuzz=true) for a bounded time, starting from the committed seeds in
# tests/fuzz/corpus/<target>/, with leak detection on. Fails when any target
# crashes, leaks, times out or prints a sanitizer report; prints per target
# the executions, execs/s and libFuzzer's final cov:/ft: figures.
#
#     tests/fuzz/run-fuzzers.sh BUILDDIR [TARGET...]     (TARGET: "journal", "readiness-cpuinfo", ...)
#
# VH_FUZZ_TIME  seconds per target (default 8); 0 only replays the corpus
# VH_FUZZ_RUNS  at most this many inputs per target (default: no limit)
# VH_FUZZ_SEED  libFuzzer's -seed (default: a new one each run, printed in the log)
# VH_FUZZ_TMPDIR where the targets make their temporary host roots (default:
#               a fresh directory in /dev/shm, else the work directory)
# New inputs found go to BUILDDIR/tests/fuzz/work/<target>/corpus, crashes
# to .../artifacts; the committed corpus is only read.
set -eu

if [ $# -lt 1 ]; then
        echo "usage: $0 BUILDDIR [TARGET...]" >&2
        exit 2
fi
BUILDDIR=$(cd "$1" && pwd)
shift
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
FUZZDIR=$BUILDDIR/tests/fuzz
TIME=${VH_FUZZ_TIME:-8}
RUNS=${VH_FUZZ_RUNS:--1}

if [ $# -gt 0 ]; then
        targets=$*
else
        targets=$(cd "$FUZZDIR" 2>/dev/null && for f in fuzz-*; do
                if [ -f "$f" ] && [ -x "$f" ]; then echo "${f#fuzz-}"; fi
        done)
fi
if [ -z "$targets" ]; then
        echo "run-fuzzers: no fuzz-* targets in $FUZZDIR (configure with CC=clang -Dfuzz=true and build)" >&2
        exit 1
fi

seed=
if [ -n "${VH_FUZZ_SEED:-}" ]; then
        seed="-seed=$VH_FUZZ_SEED"
fi

if [ "$TIME" = 0 ]; then
        RUNS=0
        limit="-runs=0"
else
        limit="-max_total_time=$TIME -runs=$RUNS"
fi

# -fno-sanitize-recover makes UBSan fatal; ASan's leak check runs at exit
# and per input (libFuzzer's -detect_leaks).
export ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Stack traces with function names and lines need llvm-symbolizer (llvm-14).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
        for s in llvm-symbolizer llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer; do
                if command -v "$s" >/dev/null 2>&1; then
                        ASAN_SYMBOLIZER_PATH=$(command -v "$s")
                        export ASAN_SYMBOLIZER_PATH
                        break
                fi
        done
fi

# The fuzz roots (fixture copies rewritten at every input) go to a tmpfs
# when there is one: the journal target fsyncs at every input.
if [ -z "${VH_FUZZ_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
        VH_FUZZ_TMPDIR=$(mktemp -d /dev/shm/vh-fuzz-run.XXXXXX)
        trap 'rm -rf "$VH_FUZZ_TMPDIR"' EXIT
fi

failed=
rows=
start=$(date +%s)
for t in $targets; do
        exe=$FUZZDIR/fuzz-$t
        work=$FUZZDIR/work/$t
        seeds=$SRCDIR/tests/fuzz/corpus/$t
        log=$work/log

        if [ ! -x "$exe" ]; then
                echo "run-fuzzers: $exe is missing" >&2
                failed="$failed $t"
                continue
        fi
        rm -rf "$work"
        tmp=${VH_FUZZ_TMPDIR:-$work}/tmp-$t
        mkdir -p "$work/corpus" "$work/artifacts" "$tmp"
        [ -d "$seeds" ] || seeds=

        echo "run-fuzzers: $t ..."
        rc=0
        # shellcheck disable=SC2086
        TMPDIR=$tmp "$exe" $limit $seed -detect_leaks=1 -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
                -artifact_prefix="$work/artifacts/" "$work/corpus" $seeds >"$log" 2>&1 || rc=$?

        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:|==ERROR' "$log"; then
                [ "$rc" != 0 ] || rc=sanitizer
        fi

        # "#12345  DONE   cov: 812 ft: 2301 corp: 93/20Kb ..." (or the last line of another kind)
        cov=$(grep -E '^#[0-9]+' "$log" | grep -oE 'cov: [0-9]+' | tail -n 1 | cut -d' ' -f2)
        ft=$(grep -E '^#[0-9]+' "$log" | grep -oE 'ft: [0-9]+' | tail -n 1 | cut -d' ' -f2)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        nseeds=$( [ -n "$seeds" ] && find "$seeds" -type f | wc -l || echo 0)
        nnew=$(find "$work/corpus" -type f | wc -l)

        rows="$rows$(printf '%-30s %9s %8s %6s %7s %6s %5s %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
                "${ft:-?}" "$nseeds" "$nnew" "$( [ "$rc" = 0 ] && echo ok || echo "FAILED ($rc)")")
"
        if [ "$rc" != 0 ]; then
                failed="$failed $t"
                echo "run-fuzzers: $t FAILED (exit $rc); the end of $log:" >&2
                tail -n 60 "$log" >&2
                for a in "$work"/artifacts/*; do
                        [ -f "$a" ] && echo "run-fuzzers: reproduce with: $exe $a" >&2
                done
        fi
        rm -rf "$tmp"
done
end=$(date +%s)

echo
printf '%-30s %9s %8s %6s %7s %6s %5s %s\n' target execs execs/s cov ft seeds new result
printf '%s' "$rows"
echo "run-fuzzers: $(echo "$targets" | wc -w) targets in $((end - start)) s ($( [ "$TIME" = 0 ] && echo "corpus replay" || echo "${TIME} s each"))"

if [ -n "$failed" ]; then
        echo "run-fuzzers: FAILED:$failed" >&2
        exit 1
fi
echo "run-fuzzers: no crash, leak or sanitizer report."
