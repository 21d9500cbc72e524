#!/bin/sh
# In-guest disk I/O through the IOMMU (busybox sh; tests/guest/run.sh DISK=).
#
#   disk-test --iommu yes|no|auto
#
# Kernel command line (set by run.sh):
#   ioasid.disk=KIND:SHA256[,KIND:SHA256]   KIND virtio (virtio-blk-pci,
#       iommu_platform=on) or nvme; SHA256 of the image the host made
#   ioasid.strict=0|1                        the DMA domain mode expected
#
# For each disk: O_DIRECT read of the whole disk and sha256 compare with the
# host's; a new random pattern written with O_DIRECT (+fsync); caches
# dropped; read back O_DIRECT and buffered, both compared.  Prints
#   disk-test: written KIND DEV sha256 HASH
# for the host, which checks the image after power-off.  Also checks that
# the disk's PCI function is in an IOMMU group of the expected type (DMA or
# DMA-FQ), that virtio negotiated VIRTIO_F_ACCESS_PLATFORM, and that dmesg
# has no DMAR / arm-smmu-v3 fault or event line.
# Exit 0 pass, 1 fail, 77 no disk.
# SPDX-License-Identifier: GPL-2.0-or-later

iommu=auto rounds=1
while [ $# -gt 0 ]; do
    case $1 in
    --iommu)  iommu=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    esac
    shift
done

disks="" strict=""
for w in $(cat /proc/cmdline); do
    case $w in
    ioasid.disk=*)   disks=$(echo "${w#*=}" | tr ',' ' ') ;;
    ioasid.strict=*) strict=${w#*=} ;;
    esac
done

P=disk-test
npass=0 nfail=0
ok()   { echo "$P: [$1] ok${2:+ ($2)}"; npass=$((npass + 1)); }
bad()  { echo "$P: [$1] FAIL: $2"; nfail=$((nfail + 1)); }
now()  { cut -d' ' -f1 /proc/uptime; }
dsha() { dd if="$1" bs="$BS" "$2" 2>/dev/null | sha256sum | cut -d' ' -f1; }

[ -n "$disks" ] || { echo "$P: no ioasid.disk= on the command line"; exit 77; }

# The block device of a disk kind; waits for asynchronous probing (nvme).
find_dev() {
    i=0
    while [ $i -lt 100 ]; do
        case $1 in
        virtio) for b in /sys/block/vd*; do
                    [ -e "$b" ] && { basename "$b"; return 0; }
                done ;;
        nvme)   for b in /sys/block/nvme*n1; do
                    [ -e "$b" ] && { basename "$b"; return 0; }
                done ;;
        esac
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# PCI function of a block device: walk up its sysfs path.
pci_of() {
    d=$(readlink -f "/sys/block/$1/device")
    while [ -n "$d" ] && [ "$d" != / ]; do
        case $(basename "$d") in
        [0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f].[0-7])
            echo "$d"; return 0 ;;
        esac
        d=$(dirname "$d")
    done
    return 1
}

case $strict in
1) want_type=DMA ;;
0) want_type=DMA-FQ ;;
*) want_type="" ;;
esac

for spec in $disks; do
    kind=${spec%%:*} want=${spec#*:}
    t0=$(now)
    if ! dev=$(find_dev "$kind"); then
        bad "$kind-probe" "no $kind block device (lsblk: $(ls /sys/block | tr '\n' ' '))"
        continue
    fi
    pci=$(pci_of "$dev")
    size=$(blockdev --getsize64 "/dev/$dev" 2>/dev/null)
    echo "$P: $kind: /dev/$dev, $size bytes, PCI ${pci##*/} ($(cat "$pci/vendor" 2>/dev/null):$(cat "$pci/device" 2>/dev/null))"

    # Behind the IOMMU?
    if [ -e "$pci/iommu_group" ]; then
        g=$(basename "$(readlink -f "$pci/iommu_group")")
        gtype=$(cat "$pci/iommu_group/type" 2>/dev/null)
        if [ "$iommu" = no ]; then
            bad "$kind-group" "in IOMMU group $g but no IOMMU was expected"
        elif [ -n "$want_type" ] && [ "$gtype" != "$want_type" ]; then
            bad "$kind-group" "group $g has type $gtype, expected $want_type (iommu.strict=$strict)"
        else
            ok "$kind-group" "iommu group $g, type $gtype"
        fi
    elif [ "$iommu" = yes ]; then
        bad "$kind-group" "${pci##*/} has no IOMMU group"
    fi

    # virtio: VIRTIO_F_ACCESS_PLATFORM (bit 33) negotiated, or the device
    # would bypass the IOMMU and Linux would not use the DMA API for it.
    if [ "$kind" = virtio ]; then
        vf=$(cat "$(readlink -f "/sys/block/$dev/device")/features" 2>/dev/null | cut -c34)
        if [ "$vf" = 1 ]; then ok "$kind-access-platform"; else bad "$kind-access-platform" "VIRTIO_F_ACCESS_PLATFORM not negotiated (features bit 33 '$vf')"; fi
    fi

    # Rounds after the first (--rounds N, for stress) read what the previous
    # one wrote and alternate 4 KiB and 64 KiB requests (more map/unmap).
    r=1
    while [ "$r" -le "$rounds" ]; do
        R="" BS=64k
        [ "$r" -gt 1 ] && R="-r$r"
        [ $((r % 2)) -eq 0 ] && BS=4k
        # 1. The host's pattern, read with O_DIRECT.
        got=$(dsha "/dev/$dev" iflag=direct)
        if [ "$got" = "$want" ]; then ok "$kind$R-read-host"; else bad "$kind$R-read-host" "sha256 $got, expected $want"; fi

        # 2. A new pattern written with O_DIRECT.
        head -c "$size" /dev/urandom >/tmp/pat
        new=$(sha256sum /tmp/pat | cut -d' ' -f1)
        if dd if=/tmp/pat of="/dev/$dev" bs="$BS" oflag=direct conv=fsync 2>/tmp/dd.err; then
            ok "$kind$R-write"
        else
            bad "$kind$R-write" "dd: $(tail -1 /tmp/dd.err)"
        fi
        rm -f /tmp/pat

        # 3. Back, after dropping the caches: O_DIRECT and through the page cache.
        sync
        echo 3 >/proc/sys/vm/drop_caches
        got=$(dsha "/dev/$dev" iflag=direct)
        if [ "$got" = "$new" ]; then ok "$kind$R-readback-direct"; else bad "$kind$R-readback-direct" "sha256 $got, wrote $new"; fi
        echo 3 >/proc/sys/vm/drop_caches
        got=$(dsha "/dev/$dev" bs="$BS")
        if [ "$got" = "$new" ]; then ok "$kind$R-readback-cached"; else bad "$kind$R-readback-cached" "sha256 $got, wrote $new"; fi
        want=$new
        r=$((r + 1))
    done
    echo "$P: written $kind $dev sha256 $new"
    echo "$P: $kind done in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')s"
done

# The kernel's view: strict/lazy policy, IOMMU groups, and no faults.
dmesg | grep -E 'DMA domain TLB invalidation policy|arm-smmu-v3.*(features|ias|2-level|stream table|msi)|DMAR: (IOMMU enabled|Intel\(R\) Virtualization|Queued invalidation|Intel-IOMMU force|Enabled IRQ remapping)' |
    sed "s/^/$P: kmsg: /"
for spec in $disks; do
    kind=${spec%%:*}
    dev=$(find_dev "$kind") || continue
    pci=$(pci_of "$dev") || continue
    dmesg | grep -F "${pci##*/}: Adding to iommu group" | sed "s/^/$P: kmsg: /"
done
if [ -n "$strict" ]; then
    if [ "$strict" = 1 ]; then mode=strict; else mode=lazy; fi
    if dmesg | grep -q "DMA domain TLB invalidation policy: $mode mode"; then
        ok "policy" "$mode"
    elif [ "$iommu" = yes ]; then
        bad "policy" "no 'invalidation policy: $mode mode' in dmesg"
    fi
fi
faults=$(dmesg | grep -iE 'DMAR:.*[^a-z]fault|DMAR: \[(DMA|INTR)|arm-smmu-v3.*(event|[^a-z]fault|error|failed)' | head -10)
if [ -n "$faults" ]; then
    bad "no-faults" "IOMMU fault lines in dmesg:"
    echo "$faults" | sed "s/^/$P: kmsg: /"
else
    ok "no-faults"
fi

echo "$P: summary: $npass passed, $nfail failed (strict=${strict:-?})"
[ $nfail -eq 0 ]
