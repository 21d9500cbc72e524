#!/usr/bin/env bash
# Boot a test guest under TCG and judge it (make run).
#
#   tests/guest/run.sh            (options are environment / make variables)
#
#   ARCH=x86_64|aarch64       guest architecture (default x86_64)
#   IOMMU=...                 see iommu_case below (default ioasid-vtd on
#                             x86_64, ioasid-smmuv3 on aarch64; none = no IOMMU);
#                             IOMMU+disk-strict / IOMMU+disk-lazy = DISK=
#   DISK=strict|lazy          disk I/O case: virtio-blk-pci (iommu_platform)
#                             and nvme on host-made raw images, the guest's
#                             disk-test in iommu.strict=1 / iommu.strict=0
#                             mode; the host checks the images afterwards
#   DISK_MB=8                 size of each disk image
#   DISK_ROUNDS=1             write/read-back rounds per disk (stress)
#   KERNEL=PATH               your own bzImage / arm64 Image (VFIO built in,
#                             or give INITRD); default: a Debian kernel from
#                             tests/guest/fetch-kernel.sh plus its modules;
#                             KERNEL=iommufd: tests/guest/kernel/build-kernel.sh
#   INITRD=PATH               your own initramfs (default: mkinitramfs.sh)
#   APPEND="..."              extra kernel arguments (appended)
#   TIMEOUT=SECONDS           bound on the whole boot (default 300)
#   QEMU_EXTRA="..."          extra QEMU arguments (appended)
#   QEMU=PATH                 QEMU binary (default build/qemu-system-ARCH)
#   DEVICE=ioasid-testdev     the device under test, DEVICE_OPTS=",pasid=off"
#   TESTS=prog[,prog]         guest test programs (default: all in the image)
#   MEM=1G SMP=1              guest size
#   GUEST_SHELL=1             interactive: shell in the guest after the tests
#   LOG=PATH                  also write the console there
#
# Prints the console, then "run.sh: PASS|FAIL|SKIP ..." and exits 0 (PASS),
# 1 (FAIL) or 77 (SKIP: a prerequisite is missing).  PASS needs the guest's
# final "IOASID-GUEST: PASS" line and no "Kernel panic", "BUG:" or "Oops".
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
LOG_TAG=run.sh
. "$(dirname "$0")/lib.sh"

ARCH=${ARCH:-x86_64}
norm_arch "$ARCH"
case $QARCH in
x86_64)  IOMMU=${IOMMU:-ioasid-vtd} ;;
aarch64) IOMMU=${IOMMU:-ioasid-smmuv3} ;;
esac
DISK=${DISK:-}
case $IOMMU in
*+disk-strict) DISK=strict IOMMU=${IOMMU%+*} ;;
*+disk-lazy)   DISK=lazy IOMMU=${IOMMU%+*} ;;
*+*) echo "run.sh: unknown variant in IOMMU=$IOMMU (+disk-strict, +disk-lazy)" >&2; exit 2 ;;
esac
case $DISK in
""|strict|lazy) ;;
*) echo "run.sh: DISK=$DISK: strict or lazy" >&2; exit 2 ;;
esac
DISK_MB=${DISK_MB:-8}
TIMEOUT=${TIMEOUT:-300}
MEM=${MEM:-1G}
SMP=${SMP:-1}
DEVICE=${DEVICE:-ioasid-testdev}
DEVICE_OPTS=${DEVICE_OPTS:-}
QEMU=${QEMU:-$TOP/build/qemu-system-$QARCH}

CASE=$IOMMU${DISK:++disk-$DISK}
skip() { echo "run.sh: SKIP $QARCH $CASE: $*"; exit 77; }
fail() { echo "run.sh: FAIL $QARCH $CASE: $*"; exit 1; }

# ---- one case per IOMMU: machine, devices before the endpoint, kernel args,
# and whether the test device must end up behind an IOMMU ----
# Sets MACHINE, IOMMU_DEV (array), IOMMU_APPEND, EXPECT_IOMMU.
iommu_case() {
    IOMMU_DEV=() IOMMU_APPEND="" EXPECT_IOMMU=yes
    case "$QARCH/$1" in
    x86_64/none)
        MACHINE=q35 IOMMU_APPEND="intel_iommu=off" EXPECT_IOMMU=no ;;
    x86_64/intel-iommu)
        # Interrupt remapping: VFIO refuses devices without MSI isolation.
        # Under TCG it needs no kernel-irqchip=split (that is for KVM).
        # x-scalable-mode=on so that sm_on really gives scalable mode.
        MACHINE=q35
        IOMMU_DEV=(-device intel-iommu,intremap=on,x-scalable-mode=on)
        IOMMU_APPEND="intel_iommu=on,sm_on iommu.strict=1" ;;
    x86_64/intel-iommu-legacy)
        MACHINE=q35
        IOMMU_DEV=(-device intel-iommu,intremap=on)
        IOMMU_APPEND="intel_iommu=on,sm_off iommu.strict=1" ;;
    x86_64/virtio-iommu)
        # No interrupt remapping with virtio-iommu on x86: VFIO type1 needs
        # allow_unsafe_interrupts (init.sh passes MOD.PARAM= to insmod), and
        # so does iommufd (built in, in the IOMMUFD kernel).
        MACHINE=q35
        IOMMU_DEV=(-device virtio-iommu-pci)
        IOMMU_APPEND="iommu.strict=1 vfio_iommu_type1.allow_unsafe_interrupts=1 iommufd.allow_unsafe_interrupts=1" ;;
    aarch64/none)
        MACHINE=virt,gic-version=3,its=on EXPECT_IOMMU=no ;;
    aarch64/smmuv3)
        MACHINE=virt,gic-version=3,its=on,iommu=smmuv3
        IOMMU_APPEND="iommu.strict=1" ;;
    aarch64/virtio-iommu)
        MACHINE=virt,gic-version=3,its=on
        IOMMU_DEV=(-device virtio-iommu-pci)
        IOMMU_APPEND="iommu.strict=1" ;;
    # Our own models (hw/vtd, hw/smmuv3):
    x86_64/ioasid-vtd)
        # Scalable mode; ioasid-vtd remaps interrupts (intremap=on by
        # default), so VFIO / iommufd get MSI isolation with no unsafe flag.
        MACHINE=q35 IOMMU_DEV=(-device ioasid-vtd)
        IOMMU_APPEND="intel_iommu=on,sm_on iommu.strict=1" ;;
    x86_64/ioasid-vtd-legacy)
        MACHINE=q35 IOMMU_DEV=(-device ioasid-vtd,scalable-mode=off)
        IOMMU_APPEND="intel_iommu=on,sm_off iommu.strict=1" ;;
    aarch64/ioasid-smmuv3)
        # Our SMMUv3 model, instantiated by the virt machine (IORT, MSI
        # through the ITS).
        MACHINE=virt,gic-version=3,its=on,iommu=ioasid-smmuv3
        IOMMU_APPEND="iommu.strict=1" ;;
    *)
        echo "run.sh: IOMMU=$1 is not known for $QARCH" >&2
        echo "run.sh: known: x86_64: none intel-iommu intel-iommu-legacy virtio-iommu ioasid-vtd ioasid-vtd-legacy;" \
             "aarch64: none smmuv3 virtio-iommu ioasid-smmuv3" >&2
        exit 2 ;;
    esac
}
iommu_case "$IOMMU"
if [ "$DISK" = lazy ]; then
    IOMMU_APPEND="${IOMMU_APPEND//iommu.strict=1/iommu.strict=0}"
    [[ $IOMMU_APPEND == *iommu.strict=0* ]] || IOMMU_APPEND="$IOMMU_APPEND iommu.strict=0"
elif [ "$DISK" = strict ]; then
    [[ $IOMMU_APPEND == *iommu.strict=1* ]] || IOMMU_APPEND="$IOMMU_APPEND iommu.strict=1"
fi

# ---- prerequisites ----
[ -x "$QEMU" ] || skip "no QEMU binary $QEMU (run make first)"
devices=$("$QEMU" -device help 2>/dev/null)
disk_devs=()
[ -n "$DISK" ] && disk_devs=(virtio-blk-pci nvme)
for dev in "$DEVICE" "${IOMMU_DEV[@]}" "${disk_devs[@]}"; do
    case $dev in -device) continue ;; esac
    d=${dev%%,*}
    grep -q "name \"$d\"" <<<"$devices" || skip "device $d is not in $QEMU"
done

KDIR=""
if [ "${KERNEL:-}" = iommufd ]; then
    # The IOMMUFD kernel of tests/guest/kernel (built on first use, ~12 min).
    KERNEL=$("$GUEST_DIR/kernel/build-kernel.sh" "$QARCH") || skip "cannot build the IOMMUFD kernel"
fi
if [ -z "${KERNEL:-}" ]; then
    KDIR=$("$GUEST_DIR/fetch-kernel.sh" "$QARCH") || skip "cannot fetch a Debian $DARCH kernel"
    KERNEL=$KDIR/kernel
    KDESC="debian $(cut -d' ' -f1 "$KDIR/version")"
else
    [ -f "$KERNEL" ] || fail "KERNEL=$KERNEL does not exist"
    KDESC=$KERNEL
fi
if [ -z "${INITRD:-}" ]; then
    INITRD=$("$GUEST_DIR/mkinitramfs.sh" "$QARCH" - $KDIR) || fail "building the initramfs failed"
fi

# ---- command line ----
case $QARCH in
x86_64)
    CONSOLE=ttyS0
    QARGS=(-M "$MACHINE" -cpu max)
    for d in /usr/share/seabios /usr/share/qemu; do [ -d $d ] && QARGS+=(-L $d); done ;;
aarch64)
    CONSOLE=ttyAMA0
    # pauth-impdef: the architected QARMA pointer auth is slow under TCG.
    QARGS=(-M "$MACHINE" -cpu max,pauth-impdef=on) ;;
esac
QARGS+=(-accel tcg -m "$MEM" -smp "$SMP" -nodefaults -no-reboot -display none
        -nic none -serial stdio -monitor none
        "${IOMMU_DEV[@]}"
        -device pcie-root-port,id=rp0,chassis=1,slot=1
        -device "$DEVICE,bus=rp0$DEVICE_OPTS"
        -kernel "$KERNEL" -initrd "$INITRD")
# ---- disks: one raw image per device with a random pattern, made here
# and deleted afterwards; the guest's disk-test reads and rewrites them ----
DISK_TMP="" DISK_KIND=() DISK_IMG=() DISK_APPEND=""
if [ -n "$DISK" ]; then
    DISK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ioasid-disk.XXXXXX")
    trap 'rm -rf "$DISK_TMP"' EXIT
    dspec=""
    for kind in virtio nvme; do
        img=$DISK_TMP/$kind.img
        head -c $((DISK_MB << 20)) /dev/urandom >"$img"
        DISK_KIND+=("$kind") DISK_IMG+=("$img")
        dspec="${dspec:+$dspec,}$kind:$(sha256sum "$img" | cut -d' ' -f1)"
    done
    QARGS+=(-device pcie-root-port,id=rp1,chassis=2,slot=2
            -drive "file=$DISK_TMP/virtio.img,if=none,id=dvirtio,format=raw"
            -device virtio-blk-pci,drive=dvirtio,bus=rp1,iommu_platform=on,disable-legacy=on
            -device pcie-root-port,id=rp2,chassis=3,slot=3
            -drive "file=$DISK_TMP/nvme.img,if=none,id=dnvme,format=raw"
            -device nvme,drive=dnvme,bus=rp2,serial=ioasid-nvme0)
    TESTS=${TESTS:-disk-test}
    DISK_APPEND="ioasid.disk=$dspec ioasid.strict=$([ "$DISK" = strict ] && echo 1 || echo 0)"
    [ "${DISK_ROUNDS:-1}" != 1 ] && DISK_APPEND="$DISK_APPEND ioasid.args=--rounds,$DISK_ROUNDS"
fi
KAPPEND="console=$CONSOLE panic=-1 oops=panic $IOMMU_APPEND ioasid.iommu=$EXPECT_IOMMU${DISK_APPEND:+ $DISK_APPEND}"
[ -n "${TESTS:-}" ] && KAPPEND="$KAPPEND ioasid.tests=$TESTS"
[ "${GUEST_SHELL:-0}" = 1 ] && KAPPEND="$KAPPEND ioasid.shell=1"
# Each guest program gets most of the boot's budget.
KAPPEND="$KAPPEND ioasid.timeout=$((TIMEOUT > 60 ? TIMEOUT - 30 : TIMEOUT / 2))"
[ -n "${APPEND:-}" ] && KAPPEND="$KAPPEND $APPEND"
QARGS+=(-append "$KAPPEND")
# shellcheck disable=SC2206
[ -n "${QEMU_EXTRA:-}" ] && QARGS+=(${QEMU_EXTRA})

LOGF=${LOG:-$(mktemp "${TMPDIR:-/tmp}/ioasid-guest.XXXXXX.log")}
echo "run.sh: $QARCH IOMMU=$IOMMU${DISK:+ DISK=$DISK} kernel: $KDESC"
echo "run.sh: $QEMU ${QARGS[*]}"
start=$(date +%s.%N)
if [ "${GUEST_SHELL:-0}" = 1 ]; then
    timeout -k 5 "$TIMEOUT" "$QEMU" "${QARGS[@]}" 2>&1 | tee "$LOGF"
else
    timeout -k 5 "$TIMEOUT" "$QEMU" "${QARGS[@]}" </dev/null 2>&1 | tee "$LOGF"
fi
qrc=${PIPESTATUS[0]}
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')

# ---- verdict ----
marker=$(grep -a -E '^IOASID-GUEST: (PASS|FAIL)' "$LOGF" | tr -d '\r' | tail -1)
bad=$(grep -a -m1 -E 'Kernel panic|BUG:|Oops' "$LOGF" | tr -d '\r')
qerr=$(grep -a -m1 -E '^qemu-system-[a-z0-9_]+: ' "$LOGF" | tr -d '\r')
# The disks as the guest left them: each image must hold what the guest
# reported writing.
dbad=""
for i in "${!DISK_KIND[@]}"; do
    kind=${DISK_KIND[$i]}
    said=$(grep -a -E "^disk-test: written $kind " "$LOGF" | tr -d '\r' | tail -1 | awk '{print $NF}')
    have=$(sha256sum "${DISK_IMG[$i]}" | cut -d' ' -f1)
    if [ -z "$said" ]; then
        dbad="${dbad:+$dbad; }$kind: the guest reported no write"
    elif [ "$said" != "$have" ]; then
        dbad="${dbad:+$dbad; }$kind image sha256 $have, guest wrote $said"
    else
        echo "run.sh: host check: $kind image holds the guest's pattern (sha256 ${have:0:16}...)"
    fi
done
[ -z "${LOG:-}" ] && rm -f "$LOGF"
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
    fail "timeout after ${TIMEOUT}s${marker:+ (last marker: $marker)} [${secs}s]"
elif [ -n "$bad" ]; then
    fail "kernel trouble: $bad [${secs}s]"
elif [ -z "$marker" ]; then
    fail "no IOASID-GUEST marker (QEMU exit $qrc${qerr:+: $qerr}) [${secs}s]"
elif [[ $marker == "IOASID-GUEST: PASS"* ]] && [ -n "$dbad" ]; then
    fail "host disk check: $dbad [${secs}s]"
elif [[ $marker == "IOASID-GUEST: PASS"* ]]; then
    echo "run.sh: PASS $QARCH $CASE: $marker [${secs}s]"
    exit 0
else
    fail "$marker [${secs}s]"
fi
