#!/usr/bin/env bash
# Run meson tests and record "TIER PASSED FAILED SKIPPED" in RESULT_FILE.
#   meson-test.sh TIER BUILD_DIR RESULT_FILE [TEST_NAME...]
# With no TEST_NAME every test of the build dir runs.  An empty explicit
# selection (e.g. no qtests registered) records 0 0 0.
set -uo pipefail
tier=$1 dir=$2 res=$3
shift 3
log=$(dirname "$res")/$tier.log
if [ $# -eq 0 ] && [ "$tier" = qtest ]; then
    echo "$tier 0 0 0" >"$res"
    echo "== $tier: no tests registered"
    exit 0
fi
echo "== $tier: meson test -C $dir $*"
norebuild=()
[ "$tier" = qtest ] && norebuild=(--no-rebuild)   # built by the Makefile
meson test -C "$dir" "${norebuild[@]}" --print-errorlogs --num-processes "$(nproc)" "$@" >"$log" 2>&1
rc=$?
grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed 's/^/   /'
ok=$(awk '/^Ok:/{print $2}' "$log"); ok=${ok:-0}
xf=$(awk '/^Expected Fail:/{print $3}' "$log"); xf=${xf:-0}
fail=$(awk '/^Fail:/{print $2}' "$log"); fail=${fail:-0}
up=$(awk '/^Unexpected Pass:/{print $3}' "$log"); up=${up:-0}
to=$(awk '/^Timeout:/{print $2}' "$log"); to=${to:-0}
skip=$(awk '/^Skipped:/{print $2}' "$log"); skip=${skip:-0}
passed=$((ok + xf)) failed=$((fail + up + to))
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
    failed=1    # meson itself failed (build error, ...)
    tail -40 "$log"
fi
echo "$tier $passed $failed $skip" >"$res"
echo "== $tier: $passed passed, $failed failed, $skip skipped (log: $log)"
[ $failed -eq 0 ]
