#!/usr/bin/env bash
# Compile-check one of our QEMU-side files in isolation, with the flags the
# QEMU build uses for a per-target file (x86_64 or aarch64), without
# touching the shared build:  scripts/qemu-cc.sh x86_64|aarch64 FILE.c
# FILE is a path in this repository; its merged-tree copy is refreshed.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
arch=$1 file=$2
QB=$TOP/build/qemu-build
[ -f "$QB/compile_commands.json" ] || { echo "run ./configure first" >&2; exit 1; }
case $arch in
x86_64) ref=hw/i386/intel_iommu.c;;
aarch64) ref=hw/arm/smmuv3.c;;
*) echo "arch: x86_64 or aarch64" >&2; exit 1;;
esac
"$TOP/scripts/overlay.sh" "$TOP" "$TOP/build/qemu-src"
cmd=$(python3 - "$QB/compile_commands.json" "$ref" "$file" <<'PY'
import json, shlex, sys
db, ref, new = sys.argv[1:]
for e in json.load(open(db)):
    if e['file'].endswith('/' + ref):
        a = shlex.split(e['command'])
        out = []
        skip = False
        for x in a:
            if skip:
                skip = False
                continue
            if x in ('-MD',):
                continue
            if x in ('-MQ', '-MF', '-o'):
                skip = True
                continue
            if x == '-c':
                break
            out.append(x)
        out += ['-fsyntax-only', '-c', '../qemu-src/' + new]
        print(shlex.join(out))
        break
PY
)
cd "$QB" && eval "$cmd"
