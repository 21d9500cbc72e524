#!/usr/bin/env bash
# Sum the tiers' results (RESULTS/*.res: "TIER PASSED FAILED SKIPPED") and
# print the closing line "N passed, N failed, N skipped".
set -uo pipefail
dir=$1
p=0 f=0 s=0
echo "== summary"
for r in "$dir"/*.res; do
    [ -e "$r" ] || continue
    read -r tier tp tf ts <"$r"
    printf '   %-18s %4d passed %4d failed %4d skipped\n' "$tier" "$tp" "$tf" "$ts"
    p=$((p + tp)) f=$((f + tf)) s=$((s + ts))
done
echo "$p passed, $f failed, $s skipped"
[ $f -eq 0 ]
