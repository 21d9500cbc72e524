/*
 * ioasid-vtd: cache invalidation.
 *
 * Register-based invalidation (spec 6.5.1: CCMD_REG, IOTLB_REG / IVA_REG)
 * and queued invalidation (6.5.2: IQA / IQH / IQT, 128- and 256-bit
 * descriptors).  Caches: the IOTLB (core IOTLB, tagged by domain id and
 * PASID) and one cache of decoded context / PASID entries, which every
 * context-cache and PASID-cache invalidation empties (over-invalidation
 * is always allowed).  Device-TLB invalidations are forwarded to devices that
 * implement the ioasid-pci device interface and complete synchronously:
 * ITE / ICE are never raised.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/pci/pci_bus.h"
#include "exec/address-spaces.h"
#include "vtd-internal.h"
#include "trace.h"

void vtd_iotlb_flush_all(IoasidVtdState *s)
{
    ioasid_iotlb_inv_all(s->iotlb);
    vtd_notify_unmap_all(s);
}

static void vtd_inv_domain(IoasidVtdState *s, uint16_t did)
{
    ioasid_iotlb_inv_domain(s->iotlb, did);
    vtd_notify_unmap_all(s);
}

/* Page-selective invalidation of 2^@am pages at @addr. */
static void vtd_inv_pages(IoasidVtdState *s, uint32_t did, uint32_t pasid,
                          uint64_t addr, unsigned am, bool ih)
{
    uint64_t size = 1ULL << (12 + am);

    ioasid_iotlb_inv_range(s->iotlb, did, pasid, addr & ~(size - 1), size,
                           ih);
    vtd_notify_unmap_all(s);
}

/*
 * ---------------------------------------------------------------------
 * Register-based invalidation
 * ------------------------------------------------------------------
 */
void vtd_ccmd_write(IoasidVtdState *s)
{
    unsigned cirg = FIELD_EX64(s->ccmd, CCMD, CIRG);

    if (FIELD_EX32(s->gsts, GSTS, QIES)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: CCMD used while queued "
                      "invalidation is enabled; ignored\n");
        s->ccmd = FIELD_DP64(s->ccmd, CCMD, ICC, 0);
        s->ccmd = FIELD_DP64(s->ccmd, CCMD, CAIG, 0);
        return;
    }
    trace_ioasid_vtd_inv_cc(cirg, FIELD_EX64(s->ccmd, CCMD, DID),
                     FIELD_EX64(s->ccmd, CCMD, SID));
    if (cirg == 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: CCMD.CIRG reserved\n");
    }
    /* Performed as a global invalidation (always allowed). */
    vtd_ctx_cache_flush(s);
    s->ccmd = FIELD_DP64(s->ccmd, CCMD, CAIG, cirg ? 1 : 0);
    s->ccmd = FIELD_DP64(s->ccmd, CCMD, ICC, 0);
}

void vtd_iotlb_reg_write(IoasidVtdState *s)
{
    unsigned iirg = FIELD_EX64(s->iotlb_reg, IOTLB, IIRG);
    uint16_t did = FIELD_EX64(s->iotlb_reg, IOTLB, DID);
    unsigned am = FIELD_EX64(s->iva, IVA, AM);
    unsigned aig = iirg;

    if (FIELD_EX32(s->gsts, GSTS, QIES)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: IOTLB_REG used while "
                      "queued invalidation is enabled; ignored\n");
        aig = 0;
        goto done;
    }
    trace_ioasid_vtd_inv_iotlb(iirg, did, s->iva & R_IVA_ADDR_MASK, am);
    switch (iirg) {
    case 1:
        vtd_iotlb_flush_all(s);
        break;
    case 2:
        vtd_inv_domain(s, did);
        break;
    case 3:
        if (am > FIELD_EX64(s->cap, CAP, MAMV)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: IVA.AM %u above "
                          "CAP.MAMV: domain-selective invalidation\n", am);
            vtd_inv_domain(s, did);
            aig = 2;
            break;
        }
        vtd_inv_pages(s, did, IOASID_TAG_ANY, s->iva & R_IVA_ADDR_MASK, am,
                      FIELD_EX64(s->iva, IVA, IH));
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: IOTLB_REG.IIRG "
                      "reserved\n");
        aig = 0;
        break;
    }
done:
    s->iotlb_reg = FIELD_DP64(s->iotlb_reg, IOTLB, IAIG, aig);
    s->iotlb_reg = FIELD_DP64(s->iotlb_reg, IOTLB, IVT, 0);
}

/*
 * ---------------------------------------------------------------------
 * Queued invalidation
 * ------------------------------------------------------------------
 */
static void vtd_inv_completion_event(IoasidVtdState *s)
{
    if (FIELD_EX32(s->ics, ICS, IWC)) {
        return;                 /* already set: not a new condition */
    }
    s->ics = FIELD_DP32(s->ics, ICS, IWC, 1);
    s->iectl = FIELD_DP32(s->iectl, IECTL, IP, 1);
    if (!FIELD_EX32(s->iectl, IECTL, IM)) {
        vtd_send_msi(s->ieaddr, s->ieuaddr, s->iedata);
        s->iectl = FIELD_DP32(s->iectl, IECTL, IP, 0);
    }
}

static void vtd_devtlb_inv(IoasidVtdState *s, uint16_t sid, uint32_t pasid,
                           uint64_t hi, bool global)
{
    PCIDevice *dev = pci_find_device(s->bus, sid >> 8, sid & 0xff);
    uint64_t addr = hi & R_DSC_HI_ADDR_MASK;
    uint64_t size = 4096;
    bool s_bit = pasid == IOASID_NO_PASID ? (hi & 1) : (hi >> 11) & 1;

    if (s_bit) {
        /* Size encoded by the lowest 0 bit of the address above bit 11. */
        unsigned n = ctz64(~(addr >> 12));

        size = n >= 52 ? 0 : 1ULL << (13 + n);
        addr = size ? addr & ~(size - 1) : 0;
    }
    trace_ioasid_vtd_inv_devtlb(sid, pasid, addr, size);
    vtd_notify_unmap_all(s);
    if (dev && object_dynamic_cast(OBJECT(dev), TYPE_IOASID_PCI_DEVICE)) {
        ioasid_pci_ats_invalidate(dev, pasid, addr, size ? size : UINT64_MAX,
                                  global);
    }
}

/* Returns false for an invalid descriptor (reserved field, type). */
static bool vtd_process_dsc(IoasidVtdState *s, const uint64_t *d)
{
    unsigned type = FIELD_EX64(d[0], DSC, TYPE_LO) |
                    FIELD_EX64(d[0], DSC, TYPE_HI) << 4;
    unsigned g = FIELD_EX64(d[0], DSC, G);
    uint16_t did = FIELD_EX64(d[0], DSC, DID);
    uint32_t pasid = FIELD_EX64(d[0], DSC, PASID);
    unsigned am = FIELD_EX64(d[1], DSC_HI, AM);
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);

    switch (type) {
    case VTD_DSC_CC:
        if ((d[0] & VTD_DSC_CC_RSVD0) || d[1] || g == 0) {
            return false;
        }
        trace_ioasid_vtd_inv_cc(g, did, FIELD_EX64(d[0], DSC_CC, SID));
        vtd_ctx_cache_flush(s);         /* over-invalidation: allowed */
        return true;
    case VTD_DSC_IOTLB:
        if ((d[0] & VTD_DSC_IOTLB_RSVD0) || (d[1] & VTD_DSC_ADDR_RSVD1) ||
            g == 0 || (g == 3 && am > FIELD_EX64(s->cap, CAP, MAMV))) {
            return false;
        }
        trace_ioasid_vtd_inv_iotlb(g, did, d[1] & R_DSC_HI_ADDR_MASK, am);
        if (g == 1) {
            vtd_iotlb_flush_all(s);
        } else if (g == 2) {
            vtd_inv_domain(s, did);
        } else {
            vtd_inv_pages(s, did, IOASID_TAG_ANY, d[1] & R_DSC_HI_ADDR_MASK,
                          am, FIELD_EX64(d[1], DSC_HI, IH));
        }
        return true;
    case VTD_DSC_DEVTLB:
        if (!x86->dt_supported || (d[0] & VTD_DSC_DEVTLB_RSVD0) ||
            (d[1] & VTD_DSC_DEVTLB_RSVD1)) {
            return false;
        }
        vtd_devtlb_inv(s, FIELD_EX64(d[0], DSC_CC, SID), IOASID_NO_PASID,
                       d[1], false);
        return true;
    case VTD_DSC_WAIT: {
        uint32_t sdata;

        if ((d[0] & VTD_DSC_WAIT_RSVD0) || (d[1] & VTD_DSC_WAIT_RSVD1)) {
            return false;
        }
        trace_ioasid_vtd_inv_wait(FIELD_EX64(d[0], DSC_WAIT, SW),
                           FIELD_EX64(d[0], DSC_WAIT, IF), d[1]);
        /* Everything before is complete (synchronous model): FN, PD hold. */
        if (FIELD_EX64(d[0], DSC_WAIT, SW)) {
            sdata = cpu_to_le32(FIELD_EX64(d[0], DSC_WAIT, SDATA));
            if (address_space_write(&address_space_memory,
                                    d[1] & ~3ULL & vtd_haw_mask(s),
                                    MEMTXATTRS_UNSPECIFIED, &sdata, 4)) {
                qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: invalidation "
                              "wait status write to 0x%" PRIx64 " failed\n",
                              (uint64_t)(d[1] & ~3ULL));
            }
        }
        if (FIELD_EX64(d[0], DSC_WAIT, IF)) {
            vtd_inv_completion_event(s);
        }
        return true;
    }
    case VTD_DSC_PIOTLB:
        if (!s->scalable || (d[0] & VTD_DSC_PASID_RSVD0) ||
            (d[1] & VTD_DSC_ADDR_RSVD1) || g < 2 ||
            (g == 3 && am > FIELD_EX64(s->cap, CAP, MAMV))) {
            return false;
        }
        trace_ioasid_vtd_inv_piotlb(g, did, pasid,
                                    d[1] & R_DSC_HI_ADDR_MASK, am);
        if (g == 2) {
            ioasid_iotlb_inv_as(s->iotlb, did, pasid);
            vtd_notify_unmap_all(s);
        } else {
            vtd_inv_pages(s, did, pasid, d[1] & R_DSC_HI_ADDR_MASK, am,
                          FIELD_EX64(d[1], DSC_HI, IH));
        }
        return true;
    case VTD_DSC_PC:
        if (!s->scalable || (d[0] & VTD_DSC_PASID_RSVD0) || d[1] || g == 2) {
            return false;
        }
        trace_ioasid_vtd_inv_pc(g, did, pasid);
        vtd_ctx_cache_flush(s);         /* over-invalidation: allowed */
        return true;
    case VTD_DSC_PDEVTLB:
        if (!x86->dt_supported || !s->scalable ||
            (d[1] & VTD_DSC_PDEVTLB_RSVD1)) {
            return false;
        }
        vtd_devtlb_inv(s, FIELD_EX64(d[0], DSC_PDT, SID), pasid, d[1],
                       d[1] & 1);
        return true;
    case VTD_DSC_IEC:
        return vtd_ir_iec_dsc(s, d);
    default:
        /* page group response (ECAP.PRS = 0), ... */
        return false;
    }
}

static void vtd_iq_error(IoasidVtdState *s, unsigned iqei, uint64_t head)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: invalidation queue error "
                  "(IQEI %u) at descriptor index %" PRIu64 "\n", iqei, head);
    trace_ioasid_vtd_iq_error(iqei, head);
    s->iqercd = FIELD_DP64(s->iqercd, IQERCD, IQEI, iqei);
    s->fsts = FIELD_DP32(s->fsts, FSTS, IQE, 1);
    vtd_fault_event(s);
}

static void vtd_iq_run(IoasidVtdState *s, bool dw, unsigned dsz, uint64_t n,
                       uint64_t base, uint64_t head)
{
    /*
     * Bounded by the queue size whatever the guest wrote.  IQT is re-read
     * after each descriptor: a status write may have moved it.
     */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d[4] = { 0 };
        uint64_t tail = (s->iqt & R_IQT_QT_MASK) / dsz;

        if (dw && (s->iqt & (1 << 4))) {
            vtd_iq_error(s, VTD_IQEI_TAIL_ALIGN, head);
            return;
        }
        if (tail >= n) {
            vtd_iq_error(s, VTD_IQEI_INVALID_DSC, head);
            return;
        }
        if (head == tail) {
            return;
        }

        if (address_space_read(&address_space_memory, base + head * dsz,
                               MEMTXATTRS_UNSPECIFIED, d, dsz) != MEMTX_OK) {
            vtd_iq_error(s, VTD_IQEI_FETCH, head);
            return;
        }
        for (int j = 0; j < 4; j++) {
            d[j] = le64_to_cpu(d[j]);
        }
        /* 256-bit descriptors: bits 255:128 are reserved for these types. */
        if ((dw && (d[2] || d[3])) || !vtd_process_dsc(s, d)) {
            vtd_iq_error(s, VTD_IQEI_INVALID_DSC, head);
            return;
        }
        head = (head + 1) % n;
        s->iqh = head * dsz;
    }
}

void vtd_iq_process(IoasidVtdState *s)
{
    bool dw = FIELD_EX64(s->iqa, IQA, DW);
    unsigned dsz = dw ? 32 : 16;
    uint64_t n = (1ULL << (FIELD_EX64(s->iqa, IQA, QS) + 12)) / dsz;
    uint64_t base = s->iqa & R_IQA_IQA_MASK;
    uint64_t head = (s->iqh & R_IQH_QH_MASK) / dsz;

    if (!FIELD_EX32(s->gsts, GSTS, QIES) || FIELD_EX32(s->fsts, FSTS, IQE) ||
        s->iq_busy) {
        return;                 /* not enabled, stopped, or re-entered */
    }
    s->iq_busy = true;
    vtd_iq_run(s, dw, dsz, n, base, head);
    s->iq_busy = false;
}
