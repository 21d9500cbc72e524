#!/usr/bin/env bash
# Build the guest test initramfs: busybox-static, /init (tests/guest/init.sh),
# the static test programs of tests/guest/prog, and optionally the kernel
# modules prepared by fetch-kernel.sh.
#
#   tests/guest/mkinitramfs.sh ARCH OUT [KDIR]
#
# ARCH  x86_64|aarch64.  OUT  the .cpio.gz to write (a copy of the cached
# one).  KDIR  a fetch-kernel.sh directory whose modules/ and modules.load
# go into the image (omit for a kernel with VFIO built in).
#
# Cached by content hash in ${XDG_CACHE_HOME:-~/.cache}/qemu-ioasid/initramfs:
# the same inputs give the same file and are not rebuilt.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
LOG_TAG=mkinitramfs
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: $0 ARCH OUT [KDIR]"
norm_arch "$1"
OUT=$2
KDIR=${3:-}
PROGS=(testdev-dma)
# Shell test programs (prog/NAME.sh -> /bin/NAME), run only when named in
# ioasid.tests= (not in the default list).
SCRIPTS=(disk-test)
mkdir -p "$CACHE/initramfs" "$CACHE/guest-bin" "$CACHE/busybox"

# ---- busybox ----
busybox_for_arch() {
    local bb
    if [ "$DARCH" = "$(dpkg --print-architecture)" ]; then
        ensure_pkg busybox-static || die "busybox-static is needed"
        bb=/bin/busybox
        if readelf -l "$bb" 2>/dev/null | grep -q 'Requesting program interpreter'; then
            die "$bb is dynamically linked (install busybox-static)"
        fi
        echo "$bb"
        return
    fi
    exec 8>"$CACHE/busybox/.lock"
    flock -w 600 8 || die "timed out waiting for $CACHE/busybox/.lock"
    bb=$(ls "$CACHE"/busybox/busybox-static_*_"$DARCH"/bin/busybox 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$bb" ]; then
        local tmp deb
        tmp=$(mktemp -d "$CACHE/busybox/.dl.XXXXXX")
        log "downloading busybox-static:$DARCH"
        (cd "$tmp" && timeout 300 apt-get download -q -o APT::Sandbox::User=root \
            "busybox-static:$DARCH" >&2) || {
            ensure_host_deps && as_root apt-get update -q >/dev/null 2>&1 &&
            (cd "$tmp" && timeout 300 apt-get download -q -o APT::Sandbox::User=root \
                "busybox-static:$DARCH" >&2)
        } || { rm -rf "$tmp"; die "cannot download busybox-static:$DARCH"; }
        deb=$(ls "$tmp"/*.deb)
        local v
        v=$(dpkg-deb -f "$deb" Version | tr ':' '_')
        dpkg-deb -x "$deb" "$tmp/x"
        rm -rf "$CACHE/busybox/busybox-static_${v}_$DARCH"
        mkdir -p "$CACHE/busybox/busybox-static_${v}_$DARCH/bin"
        cp "$tmp/x/bin/busybox" "$CACHE/busybox/busybox-static_${v}_$DARCH/bin/"
        rm -rf "$tmp"
        bb=$CACHE/busybox/busybox-static_${v}_$DARCH/bin/busybox
    fi
    echo "$bb"
}

# ---- test programs (static, cached by source hash) ----
build_prog() {   # NAME -> path of the binary
    local name=$1 cc src h out
    case $QARCH in
    x86_64)  cc=${CC_X86_64:-gcc} ;;
    aarch64) cc=${CC_AARCH64:-aarch64-linux-gnu-gcc} ;;
    esac
    if ! command -v "$cc" >/dev/null 2>&1; then
        [ $QARCH = aarch64 ] && { ensure_pkg gcc-aarch64-linux-gnu; ensure_pkg libc6-dev-arm64-cross; }
        command -v "$cc" >/dev/null 2>&1 || die "$cc not found"
    fi
    src=$GUEST_DIR/prog/$name.c
    h=$( (cat "$src" "$GUEST_DIR/prog/sysfs-util.h" "$TOP/hw/ioasid/ioasid-testdev-regs.h"; "$cc" --version | head -1) | sha256sum | cut -c1-16)
    out=$CACHE/guest-bin/$name-$QARCH-$h
    if [ ! -x "$out" ]; then
        log "compiling $name for $QARCH"
        "$cc" -static -O2 -g0 -Wall -Wno-format-truncation -Werror=implicit-function-declaration \
            -I"$TOP/hw/ioasid" -o "$out.tmp.$$" "$src" >&2 || die "compiling $name failed"
        mv "$out.tmp.$$" "$out"
    fi
    echo "$out"
}

BB=$(busybox_for_arch)
declare -A BIN=()
for p in "${PROGS[@]}"; do BIN[$p]=$(build_prog "$p"); done

# ---- content hash of everything that goes in ----
hash_inputs() {
    {
        echo "$QARCH ${PROGS[*]} ${SCRIPTS[*]}"
        sha256sum "$GUEST_DIR/init.sh" "$BB" "${BIN[@]}" | cut -d' ' -f1
        for p in "${SCRIPTS[@]}"; do sha256sum <"$GUEST_DIR/prog/$p.sh"; done
        if [ -n "$KDIR" ]; then
            cat "$KDIR/modules.load"
            for m in $(cat "$KDIR/modules.load"); do sha256sum <"$KDIR/modules/$m.ko"; done
        fi
    } | sha256sum | cut -c1-16
}
H=$(hash_inputs)
IMG=$CACHE/initramfs/initramfs-$QARCH-$H.cpio.gz

if [ ! -s "$IMG" ]; then
    command -v cpio >/dev/null || ensure_pkg cpio || die "cpio is needed"
    T=$(mktemp -d "$CACHE/initramfs/.tree.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    mkdir -p "$T"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib/modules}
    cp "$BB" "$T/bin/busybox"
    ln -s busybox "$T/bin/sh"
    install -m 0755 "$GUEST_DIR/init.sh" "$T/init"
    for p in "${PROGS[@]}"; do install -m 0755 "${BIN[$p]}" "$T/bin/$p"; done
    for p in "${SCRIPTS[@]}"; do install -m 0755 "$GUEST_DIR/prog/$p.sh" "$T/bin/$p"; done
    printf '%s\n' "${PROGS[@]}" >"$T/etc/ioasid-tests"
    if [ -n "$KDIR" ]; then
        cp "$KDIR/modules.load" "$T/etc/modules.load"
        for m in $(cat "$KDIR/modules.load"); do cp "$KDIR/modules/$m.ko" "$T/lib/modules/"; done
    fi
    # Reproducible: sorted names, fixed owner and times.
    find "$T" -exec touch -h -d @0 {} +
    (cd "$T" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
        gzip -9n >"$IMG.tmp.$$"
    mv "$IMG.tmp.$$" "$IMG"
    log "built $IMG ($(du -h "$IMG" | cut -f1))"
    # Keep the 8 newest images and program builds per architecture.
    # shellcheck disable=SC2012
    ls -t "$CACHE"/initramfs/initramfs-"$QARCH"-*.cpio.gz 2>/dev/null | tail -n +9 | xargs -r rm -f
    # shellcheck disable=SC2012
    ls -t "$CACHE"/guest-bin/*-"$QARCH"-* 2>/dev/null | tail -n +9 | xargs -r rm -f
fi
if [ "$OUT" != "-" ]; then
    mkdir -p "$(dirname "$OUT")"
    cp "$IMG" "$OUT.tmp.$$" && mv "$OUT.tmp.$$" "$OUT"
    echo "$OUT"
else
    echo "$IMG"
fi
