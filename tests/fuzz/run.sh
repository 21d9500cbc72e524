#!/usr/bin/env bash
# make fuzz: build the libFuzzer targets of the core with clang and run each
# for SECONDS (default 60).  Corpora are kept in BUILD_DIR/corpus-NAME.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=$1
secs=${2:-60}
[ -n "$secs" ] || secs=60
if [ ! -f "$B/build.ninja" ]; then
    meson setup "$B" "$TOP" -Dfuzz=true --native-file "$TOP/tests/fuzz/clang.ini" >/dev/null
fi
ninja -C "$B" >/dev/null
rc=0
for t in fuzz-walk fuzz-walk-nested fuzz-cache; do
    mkdir -p "$B/corpus-$t"
    echo "== $t: ${secs}s"
    if "$B/tests/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
        "$B/corpus-$t" >"$B/$t.log" 2>&1; then
        grep -E '^Done|stat::number_of_executed_units' "$B/$t.log" | head -2
    else
        rc=1
        echo "$t: FINDING (see $B/$t.log and the crash-* file)"
        tail -20 "$B/$t.log"
    fi
done
exit $rc
