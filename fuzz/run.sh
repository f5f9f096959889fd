#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) seconds with the
# checked-in seeds, prints one summary line per target and exits non-zero if
# any target found a crash, an out-of-memory input (unbounded allocation) or
# a timeout (hang).
#
#   fuzz/run.sh                       # all targets, 60 s each, 2 at a time
#   FUZZ_SECONDS=300 fuzz/run.sh bfv_decrypt ckks_decrypt
#   FUZZ_JOBS=1 fuzz/run.sh           # one target at a time
#
# Not part of CI's default path. Works with the stable toolchain
# (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z sanitizer flags); set
# FUZZ_TOOLCHAIN=nightly to use `cargo +nightly fuzz` instead.
# Builds use cargo-fuzz's defaults: release optimizations, debug assertions
# and overflow checks, AddressSanitizer.
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-2}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
LOGS="$HERE/logs"
mkdir -p "$LOGS"

# cargo-fuzz keeps its own target directory (fuzz/target).
unset CARGO_TARGET_DIR

if [ "${FUZZ_TOOLCHAIN:-}" != "" ]; then
    CARGO=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
else
    export RUSTC_BOOTSTRAP=1
    CARGO=(cargo fuzz)
fi

if ! cargo fuzz --help >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi

cd "$ROOT" || exit 2
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <("${CARGO[@]}" list)
fi

echo "building ${#TARGETS[@]} targets..."
if ! "${CARGO[@]}" build >"$LOGS/build.log" 2>&1; then
    tail -40 "$LOGS/build.log" >&2
    echo "build failed (see $LOGS/build.log)" >&2
    exit 2
fi

run_one() {
    local t="$1"
    local corpus="$HERE/corpus/$t"
    local seeds="$HERE/seeds/$t"
    # cargo-fuzz writes crash-*, oom-*, timeout-* here
    local artifacts="$HERE/artifacts/$t"
    local log="$LOGS/$t.log"
    mkdir -p "$corpus" "$artifacts" "$seeds"
    local before
    before=$(find "$artifacts" -type f | wc -l)
    local start end rc
    start=$(date +%s)
    "${CARGO[@]}" run "$t" "$corpus" "$seeds" -- \
        -max_total_time="$SECONDS_PER_TARGET" \
        -rss_limit_mb="$RSS_MB" \
        -timeout="$TIMEOUT" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    local after
    after=$(find "$artifacts" -type f | wc -l)
    local crashes=$((after - before))
    local execs eps cov ft corp
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    eps=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
    # last status line: "#N DONE cov: C ft: F corp: U/S exec/s: E rss: R"
    local last
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
    corp=$(echo "$last" | grep -o 'corp: [0-9]*/[0-9A-Za-z]*' | awk '{print $2}')
    local status=ok
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status="FAIL(rc=$rc, new artifacts=$crashes)"
    fi
    printf '%-28s %4ss  execs=%-9s exec/s=%-6s cov=%-6s ft=%-6s corpus=%-12s %s\n' \
        "$t" "$((end - start))" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$status" \
        | tee "$LOGS/$t.summary"
    [ "$status" = ok ]
}

fail=0
running=0
pids=()
for t in "${TARGETS[@]}"; do
    run_one "$t" &
    pids+=($!)
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || fail=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || fail=1
    running=$((running - 1))
done

echo
echo "summary (${SECONDS_PER_TARGET}s per target, logs in $LOGS):"
for t in "${TARGETS[@]}"; do
    cat "$LOGS/$t.summary" 2>/dev/null || echo "$t: no summary"
done | tee "$LOGS/summary.txt"
if [ "$fail" -ne 0 ] || grep -q FAIL "$LOGS/summary.txt"; then
    echo "FAILED: crashes, out-of-memory inputs or timeouts in fuzz/artifacts/" >&2
    exit 1
fi
echo "all targets clean"
