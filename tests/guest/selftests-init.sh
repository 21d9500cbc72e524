#!/bin/sh
# /init of the VFIO selftests initramfs (tests/guest/selftests.sh builds it).
#
# Binds ioasid-testdev (1234:1a51) to vfio-pci and runs every selftest
# binary listed in /etc/vfio-selftests (Linux's tools/testing/selftests/vfio)
# with the device's BDF as argument, each under timeout.  Each program's
# output (TAP) is printed afterwards with a prefix the host can parse:
#
#   VST-BEGIN <prog>
#   VST: <prog>: <line of the program's stdout/stderr>
#   VST-END <prog> rc=<exit code> secs=<wall seconds>
#
# Kernel command line: vst.tests=A,B (subset), vst.timeout=SECONDS (per
# program, default 60), vst.id=VVVV:DDDD (device, default 1234:1a51),
# vst.shell=1 (shell instead of power-off), vst.driver_args=A,B (harness
# options for vfio_pci_driver_test only, e.g. -v,iommufd).
# Final marker for tests/guest/run.sh: "IOASID-GUEST: PASS vfio-selftests"
# when no program failed (exit 0 or 4 = KSFT_SKIP), else FAIL with why.
# SPDX-License-Identifier: GPL-2.0-or-later

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /usr/sbin /sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t hugetlbfs none /dev/hugepages 2>/dev/null

info() { echo "vst-init: $*"; }

tests="" tmo=60 id=1234:1a51 shell=0 dargs=""
for w in $(cat /proc/cmdline); do
    case "$w" in
    vst.tests=*)   tests=$(echo "${w#*=}" | tr ',' ' ') ;;
    vst.timeout=*) tmo=${w#*=} ;;
    vst.id=*)      id=${w#*=} ;;
    vst.shell=*)   shell=${w#*=} ;;
    vst.driver_args=*) dargs=$(echo "${w#*=}" | tr ',' ' ') ;;
    esac
done
[ -n "$tests" ] || tests=$(cat /etc/vfio-selftests)

finish() {   # PASS|FAIL [WHY]
    if [ "$1" = PASS ]; then
        echo "IOASID-GUEST: PASS vfio-selftests"
    else
        echo "IOASID-GUEST: FAIL vfio-selftests $2"
    fi
    if [ "$shell" = 1 ]; then
        setsid cttyhack sh
    fi
    sync
    poweroff -f
    sleep 5
    echo o >/proc/sysrq-trigger
}

info "kernel $(uname -r) $(uname -m); IOMMUs: $(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ')"

# ---- find the device and bind it to vfio-pci ----
ven=0x${id%%:*} dev=0x${id##*:}
bdf=""
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = "$ven" ] && [ "$(cat "$d/device")" = "$dev" ] || continue
    bdf=${d##*/}
    break
done
[ -n "$bdf" ] || finish FAIL "no-device-$id"
D=/sys/bus/pci/devices/$bdf
if [ ! -e "$D/iommu_group" ]; then
    info "$bdf is not in an IOMMU group"
    finish FAIL "no-iommu-group"
fi
info "device $id at $bdf, IOMMU group $(basename "$(readlink "$D/iommu_group")")," \
     "driver $(basename "$(readlink "$D/driver" 2>/dev/null)" 2>/dev/null)"
if [ "$(basename "$(readlink "$D/driver" 2>/dev/null)" 2>/dev/null)" != vfio-pci ]; then
    [ -e "$D/driver" ] && echo "$bdf" >"$D/driver/unbind"
    echo vfio-pci >"$D/driver_override"
    echo "$bdf" >/sys/bus/pci/drivers/vfio-pci/bind 2>/dev/null ||
        echo "$bdf" >/sys/bus/pci/drivers_probe
fi
drv=$(basename "$(readlink "$D/driver" 2>/dev/null)" 2>/dev/null)
[ "$drv" = vfio-pci ] || finish FAIL "bind-vfio-pci-failed"
info "bound $bdf to vfio-pci; /dev/vfio: $(ls /dev/vfio /dev/vfio/devices 2>/dev/null | tr '\n' ' ')"

# ---- run the selftests ----
why=""
for t in $tests; do
    if [ ! -x "/bin/$t" ]; then
        why="${why:+$why;}$t:missing"
        continue
    fi
    echo "VST-BEGIN $t"
    # Keep kernel messages off the console while the program runs.
    dmesg -n 1
    s=$(cut -d' ' -f1 /proc/uptime)
    a=""
    [ "$t" = vfio_pci_driver_test ] && a=$dargs
    [ -n "$a" ] && info "$t: harness options $a"
    # shellcheck disable=SC2086
    timeout -s KILL "$tmo" "/bin/$t" $a "$bdf" >/tmp/out 2>&1
    rc=$?
    e=$(cut -d' ' -f1 /proc/uptime)
    dmesg -n 7
    sed "s/^/VST: $t: /" /tmp/out
    echo "VST-END $t rc=$rc secs=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.1f", b - a}')"
    case $rc in
    0|4)     ;;
    137|124) why="${why:+$why;}$t:timeout-${tmo}s" ;;
    *)       why="${why:+$why;}$t:exit-$rc" ;;
    esac
done
if dmesg | grep -qE 'BUG:|Oops|Kernel panic|WARNING: CPU'; then
    info "kernel log has a BUG/Oops/WARNING:"
    dmesg | grep -E -A3 'BUG:|Oops|Kernel panic|WARNING: CPU' | head -40
    why="${why:+$why;}kernel-warning"
fi
dmesg | grep -iE 'dmar|smmu|vfio|iommu' | tail -20 | sed 's/^/vst-init: kmsg: /'
if [ -z "$why" ]; then
    finish PASS
else
    finish FAIL "$why"
fi
