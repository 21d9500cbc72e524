#!/usr/bin/env bash
# Copy this repository's overlay (scripts/overlay.list, plus the qtests
# tests/qtest/ioasid-*.c) into the merged QEMU tree.  Used by configure and
# on every make; cheap when nothing changed.
set -euo pipefail
TOP=$1 MERGED=$2
while read -r p; do
    case "$p" in ''|'#'*) continue;; esac
    [ -e "$TOP/$p" ] || continue
    if [ "${p%/}" != "$p" ]; then
        mkdir -p "$MERGED/$p"
        rsync -a --delete --exclude=core/meson.build.standalone "$TOP/$p" "$MERGED/$p"
    else
        mkdir -p "$(dirname "$MERGED/$p")"
        rsync -a "$TOP/$p" "$MERGED/$p"
    fi
done <"$TOP/scripts/overlay.list"
for f in "$TOP"/tests/qtest/ioasid-*.c "$TOP"/tests/qtest/ioasid-*.h; do
    [ -e "$f" ] && rsync -a "$f" "$MERGED/tests/qtest/"
done
exit 0
