#!/usr/bin/env bash
# Run the in-guest iommufd test program (tests/guest/prog/iommufd-test.c)
# against an emulated IOMMU, in the IOMMUFD guest kernel.
#
#   tests/guest/iommufd.sh                 (ioasid-vtd on x86_64)
#   IOMMU=intel-iommu tests/guest/iommufd.sh
#
# Environment: ARCH (x86_64|aarch64), IOMMU (default ioasid-vtd on x86_64,
# smmuv3 on aarch64), TIMEOUT (default 240), LOG (keep the console there),
# plus whatever tests/guest/run.sh takes (QEMU, DEVICE_OPTS, APPEND ...).
#
# The program needs Linux >= 6.15 uAPI headers (the host's linux-libc-dev is
# older): they are installed once from the linux-source tree that
# tests/guest/kernel/build-kernel.sh unpacked (make headers_install) into
# ${XDG_CACHE_HOME:-~/.cache}/qemu-ioasid/uapi/<source>-<arch>.  The program
# is added to the harness's initramfs as a second (concatenated) cpio
# archive, so mkinitramfs.sh is not changed.
#
# Prints the guest console, then one line per case
#   iommufd.sh: ok N - name / not ok N - name: why / ok N - name # SKIP why
# and "iommufd.sh: PASS|FAIL|SKIP ..."; exits 0 PASS, 1 FAIL, 77 SKIP.
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
# shellcheck disable=SC2034  # LOG_TAG is read by lib.sh
LOG_TAG=iommufd.sh
# shellcheck source=tests/guest/lib.sh
. "$(dirname "$0")/lib.sh"

ARCH=${ARCH:-x86_64}
norm_arch "$ARCH"
case $QARCH in
x86_64)  IOMMU=${IOMMU:-ioasid-vtd} KARCH=x86   CC=${CC_X86_64:-gcc} ;;
aarch64) IOMMU=${IOMMU:-smmuv3}     KARCH=arm64 CC=${CC_AARCH64:-aarch64-linux-gnu-gcc} ;;
esac
TIMEOUT=${TIMEOUT:-240}
PROG=iommufd-test

skip() { echo "iommufd.sh: SKIP $QARCH $IOMMU: $*"; exit 77; }
fail() { echo "iommufd.sh: FAIL $QARCH $IOMMU: $*"; exit 1; }

# ---- kernel (cached) and its source tree ----
KIMG=$("$GUEST_DIR/kernel/build-kernel.sh" "$QARCH") || skip "no IOMMUFD kernel"
KIMG=$(tail -1 <<<"$KIMG")
SRC=${LINUX_SOURCE:-}
if [ -z "$SRC" ]; then
    d=$(ls -d "$KCACHE"/src/linux-source-*/.unpacked 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$d" ] || skip "no unpacked linux-source tree in $KCACHE/src"
    SRC=$(dirname "$d")/tree
fi
[ -f "$SRC/include/uapi/linux/iommufd.h" ] || skip "$SRC has no include/uapi/linux/iommufd.h"

# ---- uAPI headers (make headers_install, cached per source tree + arch) ----
SRCNAME=$(basename "$(dirname "$SRC")")
[ "$SRCNAME" = src ] && SRCNAME=$(basename "$SRC")
HDR=$CACHE/uapi/$SRCNAME-$QARCH
mkdir -p "$CACHE/uapi"
exec 7>"$CACHE/uapi/.lock"
flock -w 600 7 || fail "timed out waiting for $CACHE/uapi/.lock"
if [ ! -f "$HDR/.done" ]; then
    log "installing $KARCH uAPI headers from $SRC"
    rm -rf "$HDR"
    timeout 600 make -s -C "$SRC" O="$HDR.obj" ARCH="$KARCH" \
        headers_install INSTALL_HDR_PATH="$HDR" >&2 ||
        { rm -rf "$HDR" "$HDR.obj"; fail "make headers_install failed"; }
    rm -rf "$HDR.obj"
    touch "$HDR/.done"
fi
exec 7>&-

# ---- the program (static, cached by content) ----
command -v "$CC" >/dev/null 2>&1 || skip "$CC not found"
mkdir -p "$CACHE/guest-bin"
h=$( (cat "$GUEST_DIR/prog/$PROG.c" "$GUEST_DIR/prog/sysfs-util.h" \
      "$TOP/hw/ioasid/ioasid-testdev-regs.h" \
      "$HDR/include/linux/iommufd.h" "$HDR/include/linux/vfio.h"; "$CC" --version | head -1) |
    sha256sum | cut -c1-16)
BIN=$CACHE/guest-bin/$PROG-$QARCH-$h
if [ ! -x "$BIN" ]; then
    log "compiling $PROG for $QARCH"
    "$CC" -static -O2 -g0 -Wall -Wno-format-truncation \
        -Werror=implicit-function-declaration -isystem "$HDR/include" \
        -I"$TOP/hw/ioasid" -o "$BIN.tmp.$$" "$GUEST_DIR/prog/$PROG.c" >&2 ||
        fail "compiling $PROG failed"
    mv "$BIN.tmp.$$" "$BIN"
fi

# ---- initramfs: the harness image + a cpio with /bin/iommufd-test ----
BASE=$("$GUEST_DIR/mkinitramfs.sh" "$QARCH" -) || fail "mkinitramfs.sh failed"
hi=$(cat "$BASE" "$BIN" | sha256sum | cut -c1-16)
IMG=$CACHE/initramfs/iommufd-$QARCH-$hi.cpio.gz
if [ ! -s "$IMG" ]; then
    T=$(mktemp -d "$CACHE/initramfs/.iommufd.XXXXXX")
    mkdir -p "$T/bin"
    install -m 0755 "$BIN" "$T/bin/$PROG"
    find "$T" -exec touch -h -d @0 {} +
    { cat "$BASE"
      (cd "$T" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n
    } >"$IMG.tmp.$$" && mv "$IMG.tmp.$$" "$IMG"
    rm -rf "$T"
    # shellcheck disable=SC2012
    ls -t "$CACHE"/initramfs/iommufd-"$QARCH"-*.cpio.gz 2>/dev/null | tail -n +5 | xargs -r rm -f
fi

# ---- boot ----
LOGF=${LOG:-$(mktemp "${TMPDIR:-/tmp}/iommufd-guest.XXXXXX.log")}
OUTF=$(mktemp "${TMPDIR:-/tmp}/iommufd-run.XXXXXX")
KERNEL=$KIMG INITRD=$IMG TESTS=$PROG IOMMU=$IOMMU ARCH=$QARCH TIMEOUT=$TIMEOUT \
    LOG=$LOGF "$GUEST_DIR/run.sh" | tee "$OUTF"
rc=${PIPESTATUS[0]}
runskip=$(grep -a -m1 '^run.sh: SKIP' "$OUTF" | sed 's/^run.sh: SKIP [^:]*: //')
rm -f "$OUTF"

# ---- per-case summary ----
touch "$LOGF"
cases=$(tr -d '\r' <"$LOGF" | grep -a -E '^(not )?ok [0-9]+ - ')
plan=$(tr -d '\r' <"$LOGF" | grep -a -m1 -E '^1\.\.[0-9]+' || true)
summary=$(tr -d '\r' <"$LOGF" | grep -a -m1 -E '^iommufd-test: summary:' || true)
[ -z "${LOG:-}" ] && rm -f "$LOGF"
echo "iommufd.sh: ---- $QARCH $IOMMU ----"
[ -n "$cases" ] && sed 's/^/iommufd.sh: /' <<<"$cases"
[ -n "$summary" ] && echo "iommufd.sh: $summary"
if [ $rc -eq 77 ]; then
    skip "${runskip:-run.sh skipped}"
elif [[ $plan == *"# SKIP"* ]]; then
    skip "guest: $plan"
elif [ -z "$summary" ]; then
    fail "no summary from the guest program (run.sh exit $rc)"
elif grep -q '^not ok' <<<"$cases" || [ $rc -ne 0 ]; then
    fail "$(grep -c '^not ok' <<<"$cases") case(s) failed (run.sh exit $rc)"
fi
echo "iommufd.sh: PASS $QARCH $IOMMU: $summary"
exit 0
