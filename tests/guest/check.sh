#!/usr/bin/env bash
# The guest tier of make check: boot a small matrix of guests under TCG and
# record "guest PASSED FAILED SKIPPED" in RESULT_FILE.
#
#   tests/guest/check.sh RESULT_FILE
#
# Each case (ARCH/IOMMU, or ARCH/IOMMU+disk-strict|+disk-lazy for the disk
# I/O cases) is one test run by tests/guest/run.sh.  A case whose
# prerequisite is missing (no kernel can be fetched, the QEMU binary lacks
# the device) is SKIPPED with the reason, never passed.
#
#   GUEST_CASES="x86_64/none x86_64/intel-iommu ..."   the matrix
#   GUEST_TIMEOUT=180                                   bound per case (s)
#   GUEST_DISK_RETRIES=1     a failed +disk case is run again this many
#                            times: it passes as "PASS (FLAKY)" and the
#                            failed attempt's console is kept as
#                            ARCH-CASE.tryN.log (an intermittent guest memory
#                            corruption under TCG with virtio-blk/nvme behind
#                            an IOMMU, seen with intel-iommu too: see
#                            docs/devel/guest-tests.rst); 0 disables
# Consoles are kept in RESULT_FILE's directory, guest-logs/ARCH-IOMMU.log.
# SPDX-License-Identifier: GPL-2.0-or-later
set -uo pipefail
LOG_TAG=check-guest
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 RESULT_FILE"
RES=$1
LOGDIR=$(dirname "$RES")/guest-logs
mkdir -p "$LOGDIR"
# ARCH/IOMMU+disk-strict|+disk-lazy: the disk I/O cases (run.sh DISK=).
CASES=${GUEST_CASES:-x86_64/none x86_64/intel-iommu x86_64/virtio-iommu x86_64/ioasid-vtd x86_64/ioasid-vtd-legacy
    x86_64/ioasid-vtd+disk-strict x86_64/ioasid-vtd+disk-lazy
    aarch64/none aarch64/smmuv3 aarch64/virtio-iommu aarch64/ioasid-smmuv3
    aarch64/ioasid-smmuv3+disk-strict aarch64/ioasid-smmuv3+disk-lazy}
CASES=$(tr -s ' \n' '  ' <<<"$CASES")
export TIMEOUT=${GUEST_TIMEOUT:-180}

echo "== guest: ${CASES}"
t0=$(date +%s)
# Fetch the kernels first: a one-time download is not a test's boot time.
declare -A KOK=() KWHY=()
for a in $(for c in $CASES; do echo "${c%%/*}"; done | sort -u); do
    if out=$("$GUEST_DIR/fetch-kernel.sh" "$a" 2>&1); then
        KOK[$a]=1
    else
        KWHY[$a]=$(echo "$out" | tail -1)
    fi
done

RETRIES=${GUEST_DISK_RETRIES:-1}
pass=0 failed=0 skipped=0 flaky=0
for c in $CASES; do
    arch=${c%%/*} iommu=${c#*/}
    log=$LOGDIR/$arch-$iommu.log
    if [ -z "${KOK[$arch]:-}" ]; then
        echo "   SKIP $c: no $arch kernel: ${KWHY[$arch]}"
        skipped=$((skipped + 1))
        continue
    fi
    try=0 firstfail=""
    rm -f "${log%.log}".try*.log
    while :; do
        s=$(date +%s.%N)
        ARCH=$arch IOMMU=$iommu LOG=$log "$GUEST_DIR/run.sh" >"$log.out" 2>&1
        rc=$?
        secs=$(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
        verdict=$(grep -a '^run.sh: ' "$log.out" | tail -1 | sed 's/^run.sh: //')
        try=$((try + 1))
        if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [[ $iommu == *+disk-* ]] && [ $try -le "$RETRIES" ]; then
            mv "$log" "${log%.log}.try$try.log"
            firstfail=${firstfail:-$verdict}
            echo "   RETRY $c (${secs}s): ${verdict:-run.sh exit $rc} (console: ${log%.log}.try$try.log)"
            continue
        fi
        break
    done
    case $rc in
    0)  if [ -n "$firstfail" ]; then
            echo "   PASS (FLAKY) $c (${secs}s): passed on try $try; first: $firstfail"
            flaky=$((flaky + 1))
        else
            echo "   PASS $c (${secs}s)"
        fi
        pass=$((pass + 1)) ;;
    77) echo "   SKIP $c: ${verdict#SKIP }"
        skipped=$((skipped + 1)) ;;
    *)  echo "   FAIL $c (${secs}s): ${verdict:-run.sh exit $rc}"
        echo "   ---- last console lines ($log) ----"
        grep -a -v '^run.sh: /' "$log.out" | tail -25 | sed 's/^/   | /'
        failed=$((failed + 1)) ;;
    esac
    # Per-step results of the guest program, for the record.
    grep -a -E '^(testdev-dma|disk-test): (\[|summary)' "$log" 2>/dev/null | tr -d '\r' | sed 's/^/        /'
    rm -f "$log.out"
done
echo "guest $pass $failed $skipped" >"$RES"
echo "== guest: $pass passed$([ $flaky -gt 0 ] && echo " ($flaky flaky)"), $failed failed, $skipped skipped ($(( $(date +%s) - t0 ))s, logs: $LOGDIR)"
[ $failed -eq 0 ]
