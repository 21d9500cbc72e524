#!/bin/sh
# /init of the guest test initramfs (tests/guest/mkinitramfs.sh puts it there).
#
# Kernel command line parameters read here:
#   ioasid.tests=PROG[,PROG...]  test programs in /bin to run (default: all
#                                listed in /etc/ioasid-tests)
#   ioasid.iommu=yes|no|auto     whether the test device must be behind an
#                                IOMMU (passed to the programs as --iommu)
#   ioasid.timeout=SECONDS       bound for each program (default 120)
#   ioasid.shell=1               drop to a shell instead of powering off
#   ioasid.args=A[,B...]         extra arguments for the programs
#
# Prints exactly one final marker line and powers off:
#   IOASID-GUEST: PASS <name>
#   IOASID-GUEST: FAIL <name> <why>
# SPDX-License-Identifier: GPL-2.0-or-later

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /usr/sbin /sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

info() { echo "ioasid-init: $*"; }

tests="" iommu=auto tmo=120 shell=0 args=""
for w in $(cat /proc/cmdline); do
    case "$w" in
    ioasid.tests=*)   tests=$(echo "${w#*=}" | tr ',' ' ') ;;
    ioasid.iommu=*)   iommu=${w#*=} ;;
    ioasid.timeout=*) tmo=${w#*=} ;;
    ioasid.shell=*)   shell=${w#*=} ;;
    ioasid.args=*)    args=$(echo "${w#*=}" | tr ',' ' ') ;;
    esac
done
[ -n "$tests" ] || tests=$(cat /etc/ioasid-tests 2>/dev/null)
name=$(echo $tests | tr ' ' '+')
[ -n "$name" ] || name=none

finish() {   # RESULT WHY
    if [ "$1" = PASS ]; then
        echo "IOASID-GUEST: PASS $name"
    else
        echo "IOASID-GUEST: FAIL $name $2"
    fi
    if [ "$shell" = 1 ]; then
        info "ioasid.shell=1: starting a shell (exit to power off)"
        setsid cttyhack sh
    fi
    sync
    poweroff -f
    sleep 5
    echo o >/proc/sysrq-trigger
}

info "kernel $(uname -r) $(uname -m), cmdline: $(cat /proc/cmdline)"
iommus=$(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ')
info "IOMMUs: ${iommus:-none}; /dev/iommu: $([ -e /dev/iommu ] && echo yes || echo no)"

if [ -s /etc/modules.load ]; then
    for m in $(cat /etc/modules.load); do
        [ -d "/sys/module/$m" ] && continue
        # Like modprobe: MODULE.PARAM=VALUE on the kernel command line.
        opts=$(for w in $(cat /proc/cmdline); do
                   case "$w" in "$m".*=*) echo "${w#"$m".}";; esac
               done)
        # shellcheck disable=SC2086
        if ! out=$(insmod "/lib/modules/$m.ko" $opts 2>&1); then
            info "insmod $m failed: $out"
        fi
    done
    info "modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
fi

[ "$tests" = "" ] && finish FAIL "no-test-programs"
why=""
for t in $tests; do
    if [ ! -x "/bin/$t" ]; then
        why="${why:+$why;}$t:missing"
        continue
    fi
    info "running $t (timeout ${tmo}s)"
    # Kernel messages would interleave with the program's lines on the
    # console: keep only EMERG/ALERT (panics, BUG:, Oops) there while it
    # runs, and print what the kernel said afterwards.
    n0=$(dmesg | wc -l)
    dmesg -n 2
    # shellcheck disable=SC2086
    timeout -s KILL "$tmo" "/bin/$t" --iommu "$iommu" $args
    rc=$?
    dmesg -n 7
    info "$t exited with $rc"
    dmesg | tail -n +$((n0 + 1)) | head -60 | sed 's/^/ioasid-init: kmsg: /'
    case $rc in
    0)        ;;
    137|124)  why="${why:+$why;}$t:timeout-${tmo}s" ;;
    77)       why="${why:+$why;}$t:no-device" ;;
    *)        why="${why:+$why;}$t:exit-$rc" ;;
    esac
done
# Kernel trouble during the tests fails them even when the programs passed.
if dmesg | grep -qE 'BUG:|Oops|Kernel panic|WARNING: CPU'; then
    info "kernel log has a BUG/Oops/WARNING:"
    dmesg | grep -E -A3 'BUG:|Oops|Kernel panic|WARNING: CPU' | head -40
    why="${why:+$why;}kernel-warning"
fi
if [ -z "$why" ]; then
    finish PASS
else
    finish FAIL "$why"
fi
