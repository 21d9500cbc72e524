#!/usr/bin/env bash
# Fetch a Debian guest kernel and the VFIO modules the guest tests need.
#
#   tests/guest/fetch-kernel.sh ARCH        (ARCH: x86_64|amd64|aarch64|arm64)
#
# Prints the kernel directory (last line of stdout) which holds:
#   kernel        the image to pass to -kernel (bzImage / arm64 Image)
#   config        the kernel's .config, System.map
#   modules/*.ko  uncompressed modules (busybox insmod cannot unpack .ko.xz)
#   modules.load  module names in dependency order (load top to bottom)
#   version       "KVER PKGVERSION SUITE FLAVOUR"
#
# Environment:
#   SUITE    Debian suite to take the kernel from (default: trixie-backports,
#            then trixie when the first has none).  Never a pinned version:
#            the newest kernel of the suite's linux-image-FLAVOUR is taken.
#   FLAVOUR  Debian flavour (default cloud-amd64 / cloud-arm64: small, fast
#            to boot, and with VFIO, vfio-pci, VFIO type1, intel-iommu +
#            IRQ_REMAP / arm-smmu-v3 + GIC ITS, virtio, nvme built in or as
#            modules.  None of Debian's flavours has CONFIG_IOMMUFD or
#            CONFIG_VFIO_NOIOMMU: use tests/guest/kernel/build-kernel.sh).
#   MODULES  extra modules to extract (with their dependencies).
#
# Cached in ${XDG_CACHE_HOME:-~/.cache}/qemu-ioasid/kernels/debian-KVER_PKGVER
# and idempotent: a kernel already fetched is not downloaded again.  When the
# package lists cannot be read (no network), the newest cached kernel of the
# flavour is used.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
LOG_TAG=fetch-kernel
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 ARCH"
norm_arch "$1"
FLAVOUR=${FLAVOUR:-cloud-$DARCH}
# vfio_pci pulls vfio_pci_core, vfio, irqbypass; type1 is the IOMMU backend;
# virtio_iommu is only loaded when present (IOMMU=virtio-iommu); virtio_blk
# is for the disk cases (nvme is built in).
WANT_MODULES="vfio vfio_iommu_type1 vfio_pci virtio_iommu virtio_blk ${MODULES:-}"
mkdir -p "$KCACHE"

# Asking apt takes seconds: the answer is remembered for a day
# (REFRESH=1 asks again).
RES=$KCACHE/.latest-$FLAVOUR-$(echo "${SUITE:-default}" | tr ' ' '+')
if [ -z "${REFRESH:-}" ] && [ -n "$(find "$RES" -mmin -1440 2>/dev/null)" ]; then
    d=$(cat "$RES")
    if [ -f "$d/.complete" ] && [ "$(cat "$d/.want" 2>/dev/null)" = "$WANT_MODULES" ]; then
        echo "$d"
        exit 0
    fi
fi

# One fetch of a flavour at a time (parallel make check / CI clones).
exec 9>"$KCACHE/.lock-$FLAVOUR"
flock -w 900 9 || die "timed out waiting for $KCACHE/.lock-$FLAVOUR"

pkgarch=""
[ "$DARCH" = "$(dpkg --print-architecture)" ] || pkgarch=":$DARCH"

cached_fallback() {
    local d
    d=$(ls -d "$KCACHE"/debian-*"$FLAVOUR"_*/ 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$d" ] && [ -f "$d/.complete" ] || return 1
    log "using cached kernel ${d%/}"
    echo "${d%/}"
    exit 0
}

# Version of linux-image-FLAVOUR that SUITE offers ("" if none).
suite_version() {
    apt-cache madison "linux-image-$FLAVOUR$pkgarch" 2>/dev/null |
        awk -F'|' -v s=" $1/" 'index($3, s) {gsub(/ /, "", $2); print $2}' |
        sort -V | tail -1
}

resolve() {
    local s v
    for s in ${SUITE:-trixie-backports trixie}; do
        v=$(suite_version "$s")
        if [ -n "$v" ]; then
            SUITE_GOT=$s META_VER=$v
            return 0
        fi
    done
    return 1
}

if ! resolve; then
    # The package lists may be stale or the suites not configured yet.
    if ensure_host_deps && as_root apt-get update -q >/dev/null 2>&1 && resolve; then
        :
    else
        cached_fallback || die "no linux-image-$FLAVOUR in ${SUITE:-trixie-backports trixie} and nothing cached (is the Debian mirror reachable?)"
    fi
fi

# The metapackage depends on linux-image-KVER-FLAVOUR.
deps_of() {   # PKG VERSION -> package names of its Depends
    apt-cache show "$1$pkgarch=$2" 2>/dev/null | awk '/^Depends:/{sub(/^Depends: /,""); print; exit}' |
        tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g; s/:.*//' | grep -v '^$'
}
IMG=$(deps_of "linux-image-$FLAVOUR" "$META_VER" | grep -E "^linux-image-.*-$FLAVOUR\$" | head -1)
[ -n "$IMG" ] || die "cannot resolve linux-image-$FLAVOUR=$META_VER"
KVER=${IMG#linux-image-}
PKGS=("$IMG")
# Since 7.x Debian splits the image: linux-binary (vmlinuz), linux-modules,
# linux-base (config, System.map).  6.x has everything in linux-image.
for p in $(deps_of "$IMG" "$META_VER"); do
    case "$p" in linux-binary-"$KVER"|linux-modules-"$KVER"|linux-base-"$KVER") PKGS+=("$p");; esac
done

OUT=$KCACHE/debian-${KVER}_$META_VER
if [ -f "$OUT/.complete" ] && [ "$(cat "$OUT/.want" 2>/dev/null)" = "$WANT_MODULES" ]; then
    log "cached: $OUT ($KVER from $SUITE_GOT)"
    echo "$OUT" >"$RES"
    echo "$OUT"
    exit 0
fi

log "fetching $KVER ($META_VER, $SUITE_GOT): ${PKGS[*]}"
TMP=$(mktemp -d "$KCACHE/.fetch.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
(
    cd "$TMP"
    args=()
    for p in "${PKGS[@]}"; do args+=("$p$pkgarch=$META_VER"); done
    timeout 600 apt-get download -q -o APT::Sandbox::User=root \
        -o Acquire::Retries=3 "${args[@]}" >&2
) || { cached_fallback || die "apt-get download failed"; }
for d in "$TMP"/*.deb; do dpkg-deb -x "$d" "$TMP/root"; done
MODDIR=$(ls -d "$TMP"/root/{usr/,}lib/modules/"$KVER" 2>/dev/null | head -1 || true)
[ -n "$MODDIR" ] || die "no lib/modules/$KVER in the packages"

rm -rf "$OUT.new"
mkdir -p "$OUT.new/modules"
if [ -f "$MODDIR/vmlinuz" ]; then
    cp "$MODDIR/vmlinuz" "$OUT.new/kernel"
else
    k=$(ls "$TMP"/root/boot/vmlinu[xz]-"$KVER" 2>/dev/null | head -1 || true)
    [ -n "$k" ] || die "no vmlinuz in the packages"
    cp "$k" "$OUT.new/kernel"
fi
cfg=$(ls "$MODDIR/config" "$TMP/root/boot/config-$KVER" 2>/dev/null | head -1 || true)
[ -n "$cfg" ] && cp "$cfg" "$OUT.new/config"
sm=$(ls "$MODDIR/System.map" "$TMP/root/boot/System.map-$KVER" 2>/dev/null | head -1 || true)
[ -n "$sm" ] && cp "$sm" "$OUT.new/System.map"

# Index of the package's modules by canonical name (- and _ are the same).
find "$MODDIR" -name '*.ko*' >"$TMP/all"
modpath() {
    local n=${1//-/_}
    awk -v n="$n" '{b=$0; sub(/.*\//,"",b); sub(/\.ko.*/,"",b); gsub(/-/,"_",b); if (b==n) {print; exit}}' "$TMP/all"
}
unpack() {    # SRC DST
    case "$1" in
    *.ko.xz)  xz -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *.ko.gz)  gzip -dc "$1" >"$2" ;;
    *)        cp "$1" "$2" ;;
    esac
}
# Depth-first: dependencies are listed before the modules needing them.
declare -A seen=()
: >"$OUT.new/modules.load"
add_mod() {
    local n=${1//-/_} p d
    [ -z "${seen[$n]:-}" ] || return 0
    seen[$n]=1
    p=$(modpath "$n")
    if [ -z "$p" ]; then
        if grep -qE "/${n//_/[-_]}\.ko" "$MODDIR/modules.builtin" 2>/dev/null; then
            log "  $n: built in"
        else
            log "  $n: not in this kernel"
        fi
        return 0
    fi
    unpack "$p" "$OUT.new/modules/$n.ko"
    for d in $(modinfo -F depends "$OUT.new/modules/$n.ko" 2>/dev/null | tr ',' ' '); do
        add_mod "$d"
    done
    echo "$n" >>"$OUT.new/modules.load"
}
for m in $WANT_MODULES; do add_mod "$m"; done
log "  modules: $(tr '\n' ' ' <"$OUT.new/modules.load")"

echo "$KVER $META_VER $SUITE_GOT $FLAVOUR" >"$OUT.new/version"
echo "$WANT_MODULES" >"$OUT.new/.want"
touch "$OUT.new/.complete"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
log "ready: $OUT ($(du -sh "$OUT" | cut -f1))"
echo "$OUT" >"$RES"
echo "$OUT"
