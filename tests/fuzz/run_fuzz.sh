#!/usr/bin/env bash
# run_fuzz.sh FUZZ_BUILD_DIR SECONDS [TARGET...]
#   Runs every libFuzzer target (or those named: decode http settings
#   journal mqtt devices) for SECONDS each, as many at once as there are cores, from
#   the committed seeds (tests/fuzz/corpus/<target>/) and what earlier runs
#   found (FUZZ_BUILD_DIR/corpus/<target>/, where new inputs go). A crash, a
#   sanitizer report, a broken invariant (an abort), an input that runs
#   longer than 20 s (a loop) or past 2 GiB fails the run; the input is left
#   in FUZZ_BUILD_DIR/crashes/ with the command that replays it. Prints each
#   target's executions and corpus. FUZZ_JOBS: how many run at once (default:
#   the number of cores).
# run_fuzz.sh --merge FUZZ_BUILD_DIR [TARGET...]
#   Adds to the committed seeds the fewest inputs of FUZZ_BUILD_DIR/corpus/<target>
#   that reach every edge the seeds do not (libFuzzer -set_cover_merge=1).
# Exit 77 (ctest: skipped) only when there are no targets and clang cannot be
# found, i.e. the fuzz build could not be made on this machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
all_targets="decode http settings journal mqtt devices"

merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
fi
dir=${1:?usage: run_fuzz.sh FUZZ_BUILD_DIR SECONDS [TARGET...]}
dir=$(cd "$dir" 2>/dev/null && pwd || echo "$dir")
if [ $merge -eq 0 ]; then
    secs=${2:?usage: run_fuzz.sh FUZZ_BUILD_DIR SECONDS [TARGET...]}
    shift 2
else
    shift 1
fi
targets=${*:-$all_targets}
bin_dir=$dir/tests/fuzz

for t in $targets; do
    if [ ! -x "$bin_dir/fuzz_$t" ]; then
        if ! command -v clang++ >/dev/null 2>&1; then
            echo "run_fuzz: SKIPPED: no fuzz build in $dir and no clang on this machine (Debian: clang libclang-rt-14-dev)"
            exit 77
        fi
        echo "run_fuzz: FAILED: $bin_dir/fuzz_$t is missing (make fuzz-build)" >&2
        exit 1
    fi
done

# Per-target options: the longest input worth trying, and a dictionary.
max_len() {
    case "$1" in
    http) echo 8192 ;;
    journal) echo 4096 ;;
    devices) echo 2048 ;;
    settings) echo 4096 ;;
    *) echo 20000 ;;
    esac
}

mkdir -p "$dir/crashes" "$dir/logs"
if [ $merge -eq 1 ]; then
    for t in $targets; do
        mkdir -p "$here/corpus/$t"
        before=$(find "$here/corpus/$t" -type f | wc -l)
        # Edges only (no hit counts, no value profile), a greedy minimum set:
        # the seeds stay small.
        "$bin_dir/fuzz_$t" -set_cover_merge=1 -use_counters=0 -use_value_profile=0 -close_fd_mask=1 \
            -max_len="$(max_len "$t")" "$here/corpus/$t" "$dir/corpus/$t" \
            >"$dir/logs/$t.merge.log" 2>&1 || { echo "run_fuzz: merge of $t failed (see $dir/logs/$t.merge.log)"; exit 1; }
        echo "run_fuzz: $t: $before seeds, now $(find "$here/corpus/$t" -type f | wc -l)"
    done
    exit 0
fi

jobs_max=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
declare -A pid_of
run_one() {
    local t=$1
    mkdir -p "$dir/corpus/$t" "$here/corpus/$t"
    local dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    "$bin_dir/fuzz_$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -print_final_stats=1 -close_fd_mask=1 -artifact_prefix="$dir/crashes/$t-" "${dict[@]}" \
        "$dir/corpus/$t" "$here/corpus/$t" >"$dir/logs/$t.log" 2>&1
}

start=$(date +%s)
failed=""
running=0
for t in $targets; do
    while [ "$running" -ge "$jobs_max" ]; do
        wait -n
        running=$((running - 1))
    done
    run_one "$t" &
    pid_of[$t]=$!
    running=$((running + 1))
done
for t in $targets; do
    if ! wait "${pid_of[$t]}"; then
        failed="$failed $t"
    fi
done

printf '%-9s %12s %10s %8s %s\n' target executions exec/s corpus result
for t in $targets; do
    log=$dir/logs/$t.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corpus=$(find "$dir/corpus/$t" "$here/corpus/$t" -type f | wc -l)
    case " $failed " in *" $t "*) result=FAILED ;; *) result=ok ;; esac
    printf '%-9s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$result"
done
echo "run_fuzz: $(( $(date +%s) - start )) s for: $targets (${secs} s each, $jobs_max at once)"

if [ -n "$failed" ]; then
    for t in $failed; do
        echo "---- fuzz_$t failed; the end of $dir/logs/$t.log:"
        tail -40 "$dir/logs/$t.log"
        for a in "$dir/crashes/$t-"*; do
            [ -e "$a" ] && echo "replay: $bin_dir/fuzz_$t $a"
        done
    done
    exit 1
fi
exit 0
