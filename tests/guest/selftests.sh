#!/usr/bin/env bash
# Linux's own VFIO selftests (tools/testing/selftests/vfio of the kernel tree
# that tests/guest/kernel/build-kernel.sh builds from) run in a guest against
# ioasid-testdev, behind an emulated IOMMU.
#
#   tests/guest/selftests.sh [ARCH]            (x86_64 default, or aarch64)
#
#   IOMMU=ioasid-vtd|ioasid-smmuv3|intel-iommu|smmuv3|...
#                        default: ioasid-vtd (x86_64), ioasid-smmuv3 (aarch64)
#   TESTS=a,b            selftest programs (default: all of the Makefile)
#   TEST_TIMEOUT=60      bound per program in the guest (s; 180 with DRIVER=1)
#   TIMEOUT=240          bound on the whole boot (s; 360 with DRIVER=1)
#   RESULT=FILE          also write "vfio-selftests P F S" there (make check;
#                        RESULT_TIER replaces the first word)
#   LOG=FILE             keep the console there
#   BUILD_ONLY=1         build the selftests and the initramfs, print paths
#   DRIVER=1             also compile tests/guest/selftests-ioasid-testdev.c,
#                        a selftests driver for the testdev, into a copy of
#                        the selftests: vfio_pci_driver_test then makes the
#                        device DMA (default 0: Linux's selftests unchanged,
#                        the driver test is a skip); the guest gets MEM=2G
#   DRIVER_ARGS="-v iommufd"  harness options of vfio_pci_driver_test with
#                        DRIVER=1 (each of its tests pins 1 GiB, ~9 s under
#                        TCG: all 5 IOMMU modes, DRIVER_ARGS="", take ~5 min)
#   QEMU=PATH            as for run.sh
#
# Steps: the IOMMUFD kernel (build-kernel.sh, cached), then the selftests
# statically for ARCH from that kernel's source (uAPI headers from
# `make headers_install`, cached by source id + compiler + this script),
# an initramfs with busybox, tests/guest/selftests-init.sh as /init and the
# binaries (cached by content), a boot with tests/guest/run.sh.  The TAP
# output of every program is parsed from the console:
#
#   ok     vfio_dma_mapping_test: vfio_dma_mapping_test.iommufd_anonymous.dma_map_unmap
#   skip   vfio_pci_driver_test: No driver found for device 0000:01:00.0
#   summary: selftests P passed, F failed, S skipped (...)
#
# A program that exits with KSFT_SKIP (4) before printing any test result
# (no driver for the device, no SR-IOV) counts as one skip.  A program that
# fails (exit not 0/4, timeout) without a "not ok" line counts as one failure.
# Exit: 0 no failures, 1 failures (or no results), 77 prerequisite missing.
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
# shellcheck disable=SC2034
LOG_TAG=selftests
. "$(dirname "$0")/lib.sh"

norm_arch "${1:-${ARCH:-x86_64}}"
case $QARCH in
x86_64)  IOMMU=${IOMMU:-ioasid-vtd}    KARCH=x86   CC=${CC_X86_64:-gcc} ;;
aarch64) IOMMU=${IOMMU:-ioasid-smmuv3} KARCH=arm64 CC=${CC_AARCH64:-aarch64-linux-gnu-gcc} ;;
esac
DRIVER=${DRIVER:-0}
TIER=${RESULT_TIER:-vfio-selftests}
# vfio_pci_driver_test (DRIVER=1) took 34-71 s in the guest on a busy host.
TEST_TIMEOUT=${TEST_TIMEOUT:-$([ "$DRIVER" = 1 ] && echo 180 || echo 60)}
TIMEOUT=${TIMEOUT:-$([ "$DRIVER" = 1 ] && echo 360 || echo 240)}
DRV_SRC=$GUEST_DIR/selftests-ioasid-testdev.c
VST=$CACHE/vfio-selftests
mkdir -p "$VST"

skip() { echo "selftests: SKIP $QARCH $IOMMU: $*"; [ -n "${RESULT:-}" ] && echo "$TIER 0 0 1" >"$RESULT"; exit 77; }
fail() { echo "selftests: FAIL $QARCH $IOMMU: $*"; [ -n "${RESULT:-}" ] && echo "$TIER 0 1 0" >"$RESULT"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

# ---- the kernel, and the source tree it was built from ----
t0=$(now)
KIMG=$("$GUEST_DIR/kernel/build-kernel.sh" "$QARCH" | tail -1) || skip "cannot build the IOMMUFD kernel"
[ -f "$KIMG" ] || skip "no IOMMUFD kernel"
SRCID=$(cut -d' ' -f1 "$(dirname "$KIMG")/version" 2>/dev/null)
SRC=$KCACHE/src/$SRCID/tree
if [ -n "${LINUX_SOURCE:-}" ]; then SRC=$LINUX_SOURCE; SRCID=custom-$(basename "$SRC"); fi
SDIR=$SRC/tools/testing/selftests/vfio
[ -f "$SDIR/Makefile" ] || skip "no tools/testing/selftests/vfio in $SRC"
# The programs of the Makefile (TEST_GEN_PROGS), in its order.
ALL=$(sed -n 's/^TEST_GEN_PROGS *+= *//p' "$SDIR/Makefile" | tr '\n' ' ')
[ -n "$ALL" ] || skip "no TEST_GEN_PROGS in $SDIR/Makefile"
PROGS=${TESTS:-$ALL}
PROGS=$(echo "$PROGS" | tr ',' ' ')

# ---- build the selftests (static, cached) ----
command -v "$CC" >/dev/null 2>&1 || ensure_host_deps || true
command -v "$CC" >/dev/null 2>&1 || skip "no compiler $CC"
BKEY=$( ("$CC" --version | head -1; sed -n '/^# ---- build the selftests/,/^# ---- end build/p' "$0"
         if [ "$DRIVER" = 1 ]; then cat "$DRV_SRC" "$TOP/hw/ioasid/ioasid-testdev-regs.h"; fi) |
        sha256sum | cut -c1-12)
B=$VST/$SRCID-$QARCH-$BKEY$([ "$DRIVER" = 1 ] && echo -drv)
build_selftests() {
    [ -f "$B/.complete" ] && return 0
    exec 7>"$VST/.lock-$QARCH"
    flock -w 900 7 || die "timed out waiting for $VST/.lock-$QARCH"
    [ -f "$B/.complete" ] && return 0
    local s w
    s=$(now)
    rm -rf "$B" && mkdir -p "$B"
    w=$B/work
    log "uAPI headers of $SRCID for $KARCH (make headers_install)"
    nice -n 10 make -s -C "$SRC" ARCH="$KARCH" O="$w/hdr" INSTALL_HDR_PATH="$B/usr" \
        headers_install >"$B/build.log" 2>&1 || { tail -20 "$B/build.log" >&2; return 1; }
    # libuuid (uuid_parse, for the SR-IOV VF token) for the target: the
    # host's static library when the compiler finds it, else a small
    # uuid_parse() of our own (the arm64 libuuid.a is not installed).
    local ldx=() cfx=()
    if [ "$("$CC" -print-file-name=libuuid.a)" = libuuid.a ] ||
       ! echo '#include <uuid/uuid.h>' | "$CC" -E - >/dev/null 2>&1; then
        log "no libuuid for $CC: using a uuid_parse() stub"
        mkdir -p "$w/uuid/uuid"
        cat >"$w/uuid/uuid/uuid.h" <<'EOF'
/* Minimal <uuid/uuid.h> for the VFIO selftests (tests/guest/selftests.sh). */
#ifndef VST_UUID_H
#define VST_UUID_H
typedef unsigned char uuid_t[16];
int uuid_parse(const char *in, uuid_t uu);
#endif
EOF
        cat >"$w/uuid/uuid.c" <<'EOF'
#include <ctype.h>
#include <stdio.h>
#include <uuid/uuid.h>
/* 8-4-4-4-12 hex digits, as libuuid's uuid_parse(). */
int uuid_parse(const char *in, uuid_t uu)
{
    int i, n = 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (in[i] != '-')
                return -1;
        } else if (!isxdigit((unsigned char)in[i])) {
            return -1;
        }
    }
    if (in[36])
        return -1;
    for (i = 0; i < 36; i += 2) {
        unsigned int x;
        if (in[i] == '-')
            i++;
        if (sscanf(in + i, "%2x", &x) != 1)
            return -1;
        uu[n++] = x;
    }
    return 0;
}
EOF
        "$CC" -O2 -I"$w/uuid" -c "$w/uuid/uuid.c" -o "$w/uuid/uuid.o" &&
            ar rcs "$w/uuid/libuuid.a" "$w/uuid/uuid.o" || return 1
        cfx=(-I"$w/uuid") ldx=(-L"$w/uuid")
    fi
    local mdir=$SDIR
    if [ "$DRIVER" = 1 ]; then
        # A copy of selftests/vfio in a tree of symbolic links to the rest,
        # with the testdev driver added to libvfio's driver list.
        local m=$w/tree e v
        mkdir -p "$m/tools/testing/selftests"
        for e in "$SRC"/tools/testing/selftests/*; do
            [ "${e##*/}" = vfio ] || ln -s "$e" "$m/tools/testing/selftests/"
        done
        ln -s "$SRC/tools/include" "$m/tools/include"
        ln -s "$SRC/scripts" "$m/scripts"
        v=$m/tools/testing/selftests/vfio
        cp -rL "$SDIR" "$v"
        mkdir -p "$v/lib/drivers/ioasid_testdev"
        cp "$DRV_SRC" "$v/lib/drivers/ioasid_testdev/ioasid_testdev.c"
        sed -i -e 's|^extern struct vfio_pci_driver_ops igb_ops;|&\nextern struct vfio_pci_driver_ops ioasid_testdev_ops;|' \
               -e 's|^\t&igb_ops,|&\n\t\&ioasid_testdev_ops,|' "$v/lib/vfio_pci_driver.c"
        sed -i 's|^LIBVFIO_OUTPUT :=|LIBVFIO_C += drivers/ioasid_testdev/ioasid_testdev.c\n\n&|' "$v/lib/libvfio.mk"
        [ "$(grep -c ioasid_testdev_ops "$v/lib/vfio_pci_driver.c")" = 2 ] &&
            grep -q ioasid_testdev "$v/lib/libvfio.mk" || { log "cannot add the driver to libvfio"; return 1; }
        cfx+=(-I"$TOP/hw/ioasid")
        mdir=$v
    fi
    log "building tools/testing/selftests/vfio for $QARCH with $CC -static$([ "$DRIVER" = 1 ] && echo " + the ioasid-testdev driver")"
    nice -n 10 make -C "$mdir" -j"$(nproc)" ARCH="$QARCH" CC="$CC" OUTPUT="$w/out" \
        KHDR_INCLUDES="-isystem $B/usr/include" EXTRA_CFLAGS="${cfx[*]}" \
        LDFLAGS="-static ${ldx[*]}" >>"$B/build.log" 2>&1 ||
        { tail -30 "$B/build.log" >&2; return 1; }
    mkdir -p "$B/bin"
    local p
    for p in $ALL; do
        cp "$w/out/$p" "$B/bin/$p" || return 1
    done
    rm -rf "$w"
    echo "$SRCID $QARCH $("$CC" --version | head -1) built in $(since "$s")s" >"$B/version"
    touch "$B/.complete"
    # Keep the 3 newest builds per architecture.
    # shellcheck disable=SC2012
    ls -td "$VST"/*-"$QARCH"-*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
    log "built in $(since "$s")s: $B/bin"
}
# ---- end build
tb=$(now)
build_selftests || fail "building the selftests failed (log: $B/build.log)"
BUILD_SECS=$(since "$tb")
for p in $PROGS; do [ -x "$B/bin/$p" ] || fail "no selftest $p (known: $ALL)"; done

# ---- initramfs: busybox + /init + the selftests ----
busybox_path() {
    if [ "$DARCH" = "$(dpkg --print-architecture)" ]; then
        echo /bin/busybox
    else
        ls "$CACHE"/busybox/busybox-static_*_"$DARCH"/bin/busybox 2>/dev/null | sort -V | tail -1
    fi
}
BB=$(busybox_path)
if [ -z "$BB" ] || ! [ -x "$BB" ] || readelf -l "$BB" 2>/dev/null | grep -q 'program interpreter'; then
    # mkinitramfs.sh fetches (and caches) busybox-static for DARCH.
    "$GUEST_DIR/mkinitramfs.sh" "$QARCH" - >/dev/null || skip "no busybox-static for $DARCH"
    BB=$(busybox_path)
fi
[ -x "$BB" ] || skip "no busybox-static for $DARCH"
H=$( { echo "$QARCH $PROGS"; sha256sum "$GUEST_DIR/selftests-init.sh" "$BB" | cut -d' ' -f1
       for p in $PROGS; do sha256sum <"$B/bin/$p"; done; } | sha256sum | cut -c1-16)
IMG=$VST/initramfs-$QARCH-$H.cpio.gz
if [ ! -s "$IMG" ]; then
    T=$(mktemp -d "$VST/.tree.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    mkdir -p "$T"/{bin,sbin,etc,proc,sys,dev,tmp,run}
    cp "$BB" "$T/bin/busybox"
    ln -s busybox "$T/bin/sh"
    install -m 0755 "$GUEST_DIR/selftests-init.sh" "$T/init"
    for p in $PROGS; do install -m 0755 "$B/bin/$p" "$T/bin/$p"; done
    printf '%s\n' $PROGS >"$T/etc/vfio-selftests"
    find "$T" -exec touch -h -d @0 {} +
    (cd "$T" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
        gzip -6n >"$IMG.tmp.$$" && mv "$IMG.tmp.$$" "$IMG" || fail "building the initramfs failed"
    rm -rf "$T"; trap - EXIT
    # shellcheck disable=SC2012
    ls -t "$VST"/initramfs-"$QARCH"-*.cpio.gz 2>/dev/null | tail -n +5 | xargs -r rm -f
fi
PREP_SECS=$(since "$t0")
if [ "${BUILD_ONLY:-0}" = 1 ]; then
    echo "selftests: $B/bin ($(cat "$B/version"))"
    echo "$IMG"
    exit 0
fi

# ---- boot ----
# run.sh knows ioasid-smmuv3 once its case is there; until then the same
# machine through QEMU_EXTRA (a later -M merges into the first).
RUN_IOMMU=$IOMMU RUN_EXTRA=${QEMU_EXTRA:-} RUN_APPEND="vst.timeout=$TEST_TIMEOUT"
[ -n "${TESTS:-}" ] && RUN_APPEND="$RUN_APPEND vst.tests=$(echo $PROGS | tr ' ' ',')"
if [ "$QARCH/$IOMMU" = aarch64/ioasid-smmuv3 ] &&
   ! grep -qE '^[[:space:]]*aarch64/ioasid-smmuv3\)' "$GUEST_DIR/run.sh"; then
    RUN_IOMMU=none
    RUN_EXTRA="-M virt,gic-version=3,its=on,iommu=ioasid-smmuv3 $RUN_EXTRA"
    RUN_APPEND="iommu.strict=1 $RUN_APPEND"
    QBIN=${QEMU:-$TOP/build/qemu-system-aarch64}
    "$QBIN" -M virt,help 2>/dev/null | grep -q 'ioasid-smmuv3' ||
        skip "$QBIN has no -M virt,iommu=ioasid-smmuv3"
fi
[ -n "${APPEND:-}" ] && RUN_APPEND="$RUN_APPEND $APPEND"
# vfio_pci_driver_test pins a 1 GiB buffer per test.
if [ "$DRIVER" = 1 ]; then
    export MEM=${MEM:-2G}
    DRIVER_ARGS=${DRIVER_ARGS--v iommufd}
    [ -n "$DRIVER_ARGS" ] && RUN_APPEND="$RUN_APPEND vst.driver_args=$(echo $DRIVER_ARGS | tr ' ' ',')"
fi
LOGF=${LOG:-$(mktemp "${TMPDIR:-/tmp}/vfio-selftests.XXXXXX.log")}
OUTF=$(mktemp "${TMPDIR:-/tmp}/vfio-selftests.XXXXXX.out")
echo "selftests: $QARCH IOMMU=$IOMMU kernel $KIMG"
echo "selftests: $PROGS"
tr0=$(now)
ARCH=$QARCH IOMMU=$RUN_IOMMU KERNEL=$KIMG INITRD=$IMG TIMEOUT=$TIMEOUT \
    APPEND="$RUN_APPEND" QEMU_EXTRA="$RUN_EXTRA" LOG="$LOGF" \
    "$GUEST_DIR/run.sh" >"$OUTF" 2>&1
rrc=$?
RUN_SECS=$(since "$tr0")
verdict=$(grep -a '^run.sh: \(PASS\|FAIL\|SKIP\)' "$OUTF" | tail -1)
[ "${VERBOSE:-0}" = 1 ] && cat "$OUTF"
rm -f "$OUTF"
if [ $rrc -eq 77 ]; then
    [ -z "${LOG:-}" ] && rm -f "$LOGF"
    skip "${verdict#run.sh: SKIP * * }"
fi

# ---- results from the console ----
tr -d '\r' <"$LOGF" | awk -v want="$PROGS" '
function flush_prog(   n) {
    # A program with no test result lines: its exit code decides.
    if (cur == "") return
    if (rc == "") { rc = "none"; cur_secs = "?" }
    if (!nres[cur]) {
        if (rc == 4 || skipmsg != "") { printf "skip   %s: %s\n", cur, (skipmsg != "" ? skipmsg : lastmsg); S++ }
        else if (rc == 0) { printf "ok     %s\n", cur; P++ }
        else if (rc == "none") { printf "FAIL   %s: cut off (the boot ended while it ran)\n", cur; F++ }
        else { printf "FAIL   %s: exit %s, no test results%s\n", cur, rc, (lastmsg != "" ? " (" lastmsg ")" : ""); F++ }
    } else if (rc != 0 && rc != 4 && !nfail[cur]) {
        printf "FAIL   %s: exit %s after %d results (%s)\n", cur, rc, nres[cur], lastmsg; F++
    }
    printf "time   %s: %ss (exit %s; %d ok, %d not ok, %d skip)\n", cur, cur_secs, rc, np[cur], nfail[cur], ns[cur]
    seen[cur] = 1
    cur = ""
}
/^VST-BEGIN / { flush_prog(); cur = $2; rc = ""; skipmsg = ""; lastmsg = ""; next }
/^VST-END / {
    for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "rc") rc = kv[2]; if (kv[1] == "secs") cur_secs = kv[2] }
    flush_prog(); next
}
index($0, "VST: " cur ": ") == 1 && cur != "" {
    line = substr($0, length("VST: " cur ": ") + 1)
    if (line ~ /^1\.\.0 # SKIP/) { skipmsg = line; sub(/^1\.\.0 # SKIP */, "", skipmsg); next }
    if (line ~ /^(not )?ok [0-9]+ /) {
        name = line; sub(/^(not )?ok [0-9]+ /, "", name)
        dir = ""
        if (match(name, / # /)) { dir = substr(name, RSTART + 3); name = substr(name, 1, RSTART - 1) }
        nres[cur]++
        if (line ~ /^not ok/ && dir !~ /^TODO/) { printf "FAIL   %s: %s%s\n", cur, name, (dir != "" ? " # " dir : ""); F++; nfail[cur]++ }
        else if (dir ~ /^SKIP/) { sub(/^SKIP */, "", dir); printf "skip   %s: %s (%s)\n", cur, name, dir; S++; ns[cur]++ }
        else if (dir ~ /^XPASS/) { printf "FAIL   %s: %s # XPASS\n", cur, name; F++; nfail[cur]++ }
        else { printf "ok     %s: %s\n", cur, name; P++; np[cur]++ }
        next
    }
    if (line !~ /^#? *$/ && line !~ /^# (Totals|PASSED|FAILED)/ && line !~ /^TAP version|^1\.\.[0-9]/) lastmsg = line
    next
}
END {
    flush_prog()
    n = split(want, w, " ")
    for (i = 1; i <= n; i++) if (!(w[i] in seen)) { printf "FAIL   %s: did not run (the guest stopped before it; see its verdict)\n", w[i]; F++ }
    printf "TOTALS %d %d %d\n", P + 0, F + 0, S + 0
}' >"$LOGF.res"
sed '/^TOTALS /d' "$LOGF.res"
read -r _ P F S < <(grep '^TOTALS ' "$LOGF.res")
rm -f "$LOGF.res"
[ -z "${LOG:-}" ] && rm -f "$LOGF"
echo "selftests: guest: ${verdict#run.sh: }"
echo "selftests: times: prepare ${PREP_SECS}s (of which selftests build ${BUILD_SECS}s), boot+run ${RUN_SECS}s"
[ -n "${RESULT:-}" ] && echo "$TIER $P $F $S" >"$RESULT"
echo "selftests $P passed, $F failed, $S skipped ($QARCH $IOMMU)"
if [ "$F" -gt 0 ] || { [ "$P" -eq 0 ] && [ "$S" -eq 0 ]; }; then exit 1; fi
# run.sh also judges the console (Kernel panic / BUG: / Oops).
[ $rrc -eq 0 ] || { echo "selftests: FAIL: ${verdict:-run.sh exit $rrc}"; [ -n "${RESULT:-}" ] && echo "$TIER $P $((F + 1)) $S" >"$RESULT"; exit 1; }
exit 0
