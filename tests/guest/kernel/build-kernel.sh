#!/usr/bin/env bash
# Build a small guest kernel with IOMMUFD from Debian's linux-source-7.x.
#
#   tests/guest/kernel/build-kernel.sh ARCH        (x86_64|aarch64)
#
# Debian's binary kernels have no CONFIG_IOMMUFD (no /dev/iommu, no VFIO
# cdev) and no VFIO no-IOMMU mode; this one has both, everything built in.
# The configuration is allnoconfig plus tests/guest/kernel/iommufd-ARCH.config
# (KCONFIG_ALLCONFIG); every =y line of the fragment is checked afterwards.
#
# Prints the image path (last line of stdout): boot it with
#   make run KERNEL=<that path>        (ARCH=aarch64 for arm64)
#
# Environment:
#   SUITE=trixie-backports    where linux-source-7.x comes from
#   LINUX_SOURCE=DIR          use this kernel tree instead
#   JOBS=$(nproc)             make -j (the build runs under nice -n 10)
#   BUILD_TIMEOUT=3600        bound on the build (seconds)
#   KEEP_BUILD=0              1 keeps the object tree for quick rebuilds
#   CONFIG_ONLY=1             only configure and check the fragment
#
# Cached in ${XDG_CACHE_HOME:-~/.cache}/qemu-ioasid/kernels, keyed by source
# version + hash of the config fragment and compiler: a second run only
# prints the path.  Measured: x86_64 ~12 min, arm64 ~11 min cold on 2 cores.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
LOG_TAG=build-kernel
. "$(dirname "$0")/../lib.sh"

[ $# -eq 1 ] || die "usage: $0 ARCH"
norm_arch "$1"
SUITE=${SUITE:-trixie-backports}
JOBS=${JOBS:-$(nproc)}
case $QARCH in
x86_64)  KARCH=x86   TARGET=bzImage CROSS=""                  IMG=arch/x86/boot/bzImage ;;
aarch64) KARCH=arm64 TARGET=Image   CROSS=aarch64-linux-gnu-  IMG=arch/arm64/boot/Image ;;
esac
FRAG=$GUEST_DIR/kernel/iommufd-$([ $QARCH = x86_64 ] && echo x86_64 || echo arm64).config
[ -f "$FRAG" ] || die "missing $FRAG"
mkdir -p "$KCACHE/src"
# One build per architecture at a time.
exec 9>"$KCACHE/.lock-build-$QARCH"
flock -w "${BUILD_TIMEOUT:-3600}" 9 || die "timed out waiting for another build-kernel.sh $QARCH"

# ---- host tools ----
need_tools() {
    local t missing=""
    for t in make bc flex bison "${CROSS}gcc" xz; do
        command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
    done
    [ -f /usr/include/libelf.h ] || missing="$missing libelf-dev"
    [ -f /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
    echo "$missing"
}
if [ -n "$(need_tools)" ]; then
    ensure_host_deps || true
    [ -z "$(need_tools)" ] || die "missing build tools:$(need_tools)"
fi

# ---- kernel source ----
SRC=${LINUX_SOURCE:-}
SRCID=""
if [ -n "$SRC" ]; then
    [ -f "$SRC/Makefile" ] || die "LINUX_SOURCE=$SRC is not a kernel tree"
    SRCID=custom-$(make -s -C "$SRC" kernelversion 2>/dev/null)
else
    # linux-source (metapackage) of SUITE -> linux-source-7.x
    META_VER=$(apt-cache madison linux-source 2>/dev/null |
               awk -F'|' -v s=" $SUITE/" 'index($3, s) {gsub(/ /, "", $2); print $2}' |
               sort -V | tail -1 || true)
    SRCPKG=""
    if [ -n "$META_VER" ]; then
        SRCPKG=$(apt-cache show "linux-source=$META_VER" 2>/dev/null |
                 awk '/^Depends:/{print; exit}' | grep -oE 'linux-source-[0-9][0-9.]*' | head -1 || true)
    fi
    if [ -z "$SRCPKG" ]; then
        # Offline or no such suite: the newest unpacked tree, if any.
        d=$(ls -d "$KCACHE"/src/linux-source-*/.unpacked 2>/dev/null | sort -V | tail -1 || true)
        [ -n "$d" ] || die "no linux-source in $SUITE (apt-get update? scripts/install-deps.sh adds the suite)"
        d=$(dirname "$d")
        SRC=$d/tree SRCID=$(basename "$d")
        log "package lists unavailable: using $SRC"
    else
        SRCID=$SRCPKG-$META_VER
        UNP=$KCACHE/src/$SRCID
        if [ ! -f "$UNP/.unpacked" ]; then
            TAR=/usr/src/$SRCPKG.tar.xz
            if [ ! -f "$TAR" ] || [ "$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null)" != "$META_VER" ]; then
                log "installing $SRCPKG ($META_VER) from $SUITE"
                if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                        --no-install-recommends "$SRCPKG=$META_VER" >&2; then
                    log "cannot install; downloading the package instead"
                    tmp=$(mktemp -d "$KCACHE/src/.dl.XXXXXX")
                    (cd "$tmp" && timeout 900 apt-get download -q -o APT::Sandbox::User=root \
                        "$SRCPKG=$META_VER" >&2) || die "cannot download $SRCPKG"
                    dpkg-deb -x "$tmp"/*.deb "$tmp/x"
                    TAR=$(ls "$tmp"/x/usr/src/"$SRCPKG".tar.*)
                fi
            fi
            log "unpacking $TAR"
            rm -rf "$UNP"
            mkdir -p "$UNP"
            tar -xf "$TAR" -C "$UNP"
            mv "$UNP/$SRCPKG" "$UNP/tree"
            touch "$UNP/.unpacked"
            [ -n "${tmp:-}" ] && rm -rf "$tmp"
        fi
        SRC=$UNP/tree
    fi
fi

# ---- cache key: source + fragment + compiler ----
CFGHASH=$( (cat "$FRAG"; echo "$KARCH $TARGET"; "${CROSS}gcc" --version | head -1) | sha256sum | cut -c1-12)
KEY=iommufd-$QARCH-$SRCID-$CFGHASH
OUT=$KCACHE/$KEY
if [ -f "$OUT/.complete" ]; then
    log "cached: $OUT/kernel"
    echo "$OUT/kernel"
    exit 0
fi
B=$KCACHE/build/$KEY
mkdir -p "$B"
MK=(nice -n 10 make -C "$SRC" O="$B" ARCH="$KARCH" ${CROSS:+CROSS_COMPILE=$CROSS})

log "configuring $SRCID for $KARCH (allnoconfig + $(basename "$FRAG"))"
"${MK[@]}" -s KCONFIG_ALLCONFIG="$FRAG" allnoconfig >&2
missing=""
while read -r line; do
    case "$line" in
    CONFIG_*=y)
        grep -qx "$line" "$B/.config" || missing="$missing ${line%=y}" ;;
    "# CONFIG_"*" is not set")
        sym=${line#\# }; sym=${sym%% *}
        grep -q "^$sym=" "$B/.config" && missing="$missing $sym(should be off)" ;;
    esac
done <"$FRAG"
[ -z "$missing" ] || die "config fragment not satisfied (dependencies?):$missing"
if [ "${CONFIG_ONLY:-0}" = 1 ]; then
    log "CONFIG_ONLY=1: configuration checked, not building"
    echo "$B/.config"
    exit 0
fi

log "building $TARGET with -j$JOBS under nice -n 10 (log: $B/build.log)"
start=$(date +%s)
if ! timeout "${BUILD_TIMEOUT:-3600}" "${MK[@]}" -j"$JOBS" "$TARGET" >"$B/build.log" 2>&1; then
    tail -30 "$B/build.log" >&2
    die "kernel build failed (log: $B/build.log)"
fi
secs=$(( $(date +%s) - start ))
rm -rf "$OUT.new"
mkdir -p "$OUT.new"
cp "$B/$IMG" "$OUT.new/kernel"
cp "$B/.config" "$OUT.new/config"
cp "$B/build.log" "$OUT.new/build.log"
echo "$SRCID $QARCH $CFGHASH built in ${secs}s on $(nproc) cores" >"$OUT.new/version"
touch "$OUT.new/.complete"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
[ "${KEEP_BUILD:-0}" = 1 ] || rm -rf "$B"
log "built $OUT/kernel ($(du -h "$OUT/kernel" | cut -f1)) in ${secs}s"
echo "$OUT/kernel"
