/*
 * ioasid-vtd: interrupt remapping (VT-d spec chapter 5, 9.9, 9.10).
 *
 * Interrupt requests are DMA writes to 0xFEEx_xxxx (5.1.2).  With
 * GSTS.IRES set, remappable-format requests (address bit 4) are
 * translated through the interrupt remapping table (IRTA, latched by
 * SIRTP); compatibility-format requests pass through only when GSTS.CFIS
 * is set.  IRTEs are not cached: SIRTP and interrupt entry cache
 * invalidations have nothing to flush (CAP.ESIRTPS is honest), but the
 * IEC notifiers (KVM split irqchip) are called.
 *
 * Fault reasons 20h - 26h (7.1.3 / 5.1.4.1) are recorded in the fault
 * recording registers with FI[63:48] = interrupt index.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/i386/apic-msidef.h"
#include "hw/i386/apic_internal.h"
#include "hw/pci-host/q35.h"
#include "exec/address-spaces.h"
#include "vtd-internal.h"
#include "trace.h"

/* Interrupt request address (5.1.2.2, remappable format) */
FIELD(IRQADDR, HANDLE15, 2, 1)
FIELD(IRQADDR, SHV, 3, 1)
FIELD(IRQADDR, IF, 4, 1)
FIELD(IRQADDR, HANDLE, 5, 15)
FIELD(IRQADDR, FEE, 20, 12)

/* Interrupt remapping table entry, remapped format (9.10) */
FIELD(IRTE_LO, P, 0, 1)
FIELD(IRTE_LO, FPD, 1, 1)
FIELD(IRTE_LO, DM, 2, 1)
FIELD(IRTE_LO, RH, 3, 1)
FIELD(IRTE_LO, TM, 4, 1)
FIELD(IRTE_LO, DLM, 5, 3)
FIELD(IRTE_LO, IM, 15, 1)
FIELD(IRTE_LO, V, 16, 8)
FIELD(IRTE_LO, DST, 32, 32)
FIELD(IRTE_HI, SID, 0, 16)
FIELD(IRTE_HI, SQ, 16, 2)
FIELD(IRTE_HI, SVT, 18, 2)
#define VTD_IRTE_LO_RSVD        (MAKE_64BIT_MASK(12, 3) | \
                                 MAKE_64BIT_MASK(24, 8))
#define VTD_IRTE_LO_RSVD_XAPIC  (MAKE_64BIT_MASK(32, 8) | \
                                 MAKE_64BIT_MASK(48, 16))
#define VTD_IRTE_HI_RSVD        MAKE_64BIT_MASK(20, 44)

enum {
    VTD_FR_IR_REQ_RSVD      = 0x20, /* reserved field in the request */
    VTD_FR_IR_INDEX         = 0x21, /* index beyond the table size */
    VTD_FR_IR_NP            = 0x22, /* IRTE present clear */
    VTD_FR_IR_ACCESS        = 0x23, /* IRT access failed */
    VTD_FR_IR_IRTE_RSVD     = 0x24, /* reserved field in the IRTE */
    VTD_FR_IR_COMPAT        = 0x25, /* compatibility format blocked */
    VTD_FR_IR_SID           = 0x26, /* source-id verification failed */
};

static void vtd_ir_fault(IoasidVtdState *s, uint16_t sid, uint32_t index,
                         uint8_t reason)
{
    VtdReq req = {
        .sid = sid == X86_IOMMU_SID_INVALID ? 0 : sid,
        .pasid = IOASID_NO_PASID,
        .addr = (uint64_t)(index & 0xffff) << 48,
        .access = IOASID_PERM_WRITE,
    };

    vtd_record_fault(s, &req, reason);
}

static bool vtd_ir_sid_ok(uint64_t hi, uint16_t sid)
{
    uint16_t want = FIELD_EX64(hi, IRTE_HI, SID);
    static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

    if (sid == X86_IOMMU_SID_INVALID) {
        return true;            /* requester unknown: not verifiable */
    }
    switch (FIELD_EX64(hi, IRTE_HI, SVT)) {
    case 0:
        return true;
    case 1: {
        uint16_t m = sq_mask[FIELD_EX64(hi, IRTE_HI, SQ)];

        return (sid & m) == (want & m);
    }
    case 2:                     /* bus range [SID 15:8, SID 7:0] */
        return (sid >> 8) >= (want >> 8) && (sid >> 8) <= (want & 0xff);
    default:
        return false;
    }
}

/*
 * Remap the interrupt request @src from @sid into @dst.  Returns 0, or a
 * fault reason (already recorded unless the IRTE's FPD is set).
 */
static int vtd_ir_remap(IoasidVtdState *s, const MSIMessage *src,
                        MSIMessage *dst, uint16_t sid)
{
    uint64_t irte[2];
    uint32_t index, n;
    X86IOMMUIrq irq = { 0 };
    bool x2apic = FIELD_EX64(s->irt_eime, IRTA, EIME);
    uint8_t fr = 0;

    if (!FIELD_EX32(s->gsts, GSTS, IRES)) {
        *dst = *src;
        return 0;
    }
    if (!FIELD_EX64(src->address, IRQADDR, IF)) {
        if (FIELD_EX32(s->gsts, GSTS, CFIS)) {
            *dst = *src;
            return 0;
        }
        vtd_ir_fault(s, sid, 0, VTD_FR_IR_COMPAT);
        return VTD_FR_IR_COMPAT;
    }
    index = FIELD_EX64(src->address, IRQADDR, HANDLE) |
            FIELD_EX64(src->address, IRQADDR, HANDLE15) << 15;
    if (src->address >> 32) {
        fr = VTD_FR_IR_REQ_RSVD;
        goto fault;
    }
    if (FIELD_EX64(src->address, IRQADDR, SHV)) {
        if (src->data >> 16) {
            fr = VTD_FR_IR_REQ_RSVD;
            goto fault;
        }
        index += src->data & 0xffff;
    }
    n = 2u << FIELD_EX64(s->irt_eime, IRTA, S);
    if (index >= n) {
        fr = VTD_FR_IR_INDEX;
        goto fault;
    }
    if (address_space_read(&address_space_memory, s->irt + index * 16ULL,
                           MEMTXATTRS_UNSPECIFIED, irte, 16) != MEMTX_OK) {
        fr = VTD_FR_IR_ACCESS;
        goto fault;
    }
    irte[0] = le64_to_cpu(irte[0]);
    irte[1] = le64_to_cpu(irte[1]);
    if (!FIELD_EX64(irte[0], IRTE_LO, P)) {
        fr = VTD_FR_IR_NP;
        goto fault_fpd;
    }
    if ((irte[0] & VTD_IRTE_LO_RSVD) || (irte[1] & VTD_IRTE_HI_RSVD) ||
        FIELD_EX64(irte[0], IRTE_LO, IM) ||             /* CAP.PI = 0 */
        (!x2apic && (irte[0] & VTD_IRTE_LO_RSVD_XAPIC)) ||
        FIELD_EX64(irte[1], IRTE_HI, SVT) == 3) {
        fr = VTD_FR_IR_IRTE_RSVD;
        goto fault_fpd;
    }
    if (!vtd_ir_sid_ok(irte[1], sid)) {
        fr = VTD_FR_IR_SID;
        goto fault_fpd;
    }
    irq.trigger_mode = FIELD_EX64(irte[0], IRTE_LO, TM);
    irq.vector = FIELD_EX64(irte[0], IRTE_LO, V);
    irq.delivery_mode = FIELD_EX64(irte[0], IRTE_LO, DLM);
    irq.dest_mode = FIELD_EX64(irte[0], IRTE_LO, DM);
    irq.redir_hint = FIELD_EX64(irte[0], IRTE_LO, RH);
    irq.dest = FIELD_EX64(irte[0], IRTE_LO, DST);
    if (!x2apic) {
        irq.dest = (irq.dest >> 8) & 0xff;
    }
    irq.msi_addr_last_bits = src->address & 3;
    x86_iommu_irq_to_msi_message(&irq, dst);
    trace_ioasid_vtd_ir_remap(sid, index, irq.vector, irq.dest);
    return 0;

fault_fpd:
    if (FIELD_EX64(irte[0], IRTE_LO, FPD)) {
        return fr;
    }
fault:
    qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: interrupt request from "
                  "sid 0x%04x index %u blocked, reason 0x%x\n", sid, index, fr);
    vtd_ir_fault(s, sid, index, fr);
    return fr;
}

/* X86IOMMUClass.int_remap (KVM irq routing) */
int vtd_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst,
                  uint16_t sid)
{
    return vtd_ir_remap(IOASID_VTD(iommu), src, dst, sid) ? -EINVAL : 0;
}

/* A DMA write to the interrupt range from @sid. */
MemTxResult vtd_ir_request(IoasidVtdState *s, hwaddr offset, uint64_t val,
                           unsigned size, uint16_t sid)
{
    MSIMessage src = {
        .address = VTD_MSI_BASE + offset,
        .data = val,
    };
    MSIMessage dst;

    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: %u-byte interrupt "
                      "request from sid 0x%04x dropped\n", size, sid);
        return MEMTX_OK;
    }
    if (vtd_ir_remap(s, &src, &dst, sid)) {
        return MEMTX_OK;        /* blocked and reported: dropped */
    }
    /* To the APIC bus: address[63:32] may hold x2APIC destination bits. */
    apic_get_class(NULL)->send_msi(&dst);
    return MEMTX_OK;
}

/* SIRTP (11.4.4): latch IRTA. */
void vtd_ir_set_table(IoasidVtdState *s)
{
    s->irt = s->irta & R_IRTA_IRTA_MASK & vtd_haw_mask(s);
    s->irt_eime = s->irta;
    trace_ioasid_vtd_sirtp(s->irt, FIELD_EX64(s->irta, IRTA, S),
                           FIELD_EX64(s->irta, IRTA, EIME));
    /* CAP.ESIRTPS: also invalidates the (not modelled) IEC. */
    x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), true, 0, 0);
    s->gsts = FIELD_DP32(s->gsts, GSTS, IRTPS, 1);
}

/* Interrupt entry cache invalidation descriptor (6.5.2.7). */
bool vtd_ir_iec_dsc(IoasidVtdState *s, const uint64_t *d)
{
    bool index_sel = (d[0] >> 4) & 1;
    uint32_t im = (d[0] >> 27) & 0x1f;
    uint32_t iidx = (d[0] >> 32) & 0xffff;

    if (!FIELD_EX64(s->ecap, ECAP, IR) ||
        (d[0] & (MAKE_64BIT_MASK(5, 4) | MAKE_64BIT_MASK(12, 15) |
                 MAKE_64BIT_MASK(48, 16))) || d[1]) {
        return false;
    }
    trace_ioasid_vtd_inv_iec(index_sel, iidx, im);
    x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), !index_sel, iidx, im);
    return true;
}

/* The IOAPIC's interrupt requests, with its DMAR-scope source id. */
static MemTxResult vtd_ioapic_write(void *opaque, hwaddr addr, uint64_t val,
                                    unsigned size, MemTxAttrs attrs)
{
    IoasidVtdState *s = opaque;

    if (addr < VTD_MSI_BASE || addr >= VTD_MSI_BASE + VTD_MSI_SIZE) {
        return address_space_write(&address_space_memory, addr, attrs,
                                   &val, size);
    }
    return vtd_ir_request(s, addr - VTD_MSI_BASE, val, size,
                          PCI_BUILD_BDF(Q35_PSEUDO_BUS_PLATFORM,
                                        Q35_PSEUDO_DEVFN_IOAPIC));
}

static MemTxResult vtd_ioapic_read(void *opaque, hwaddr addr, uint64_t *val,
                                   unsigned size, MemTxAttrs attrs)
{
    *val = 0;
    return MEMTX_OK;
}

static const MemoryRegionOps vtd_ioapic_ops = {
    .read_with_attrs = vtd_ioapic_read,
    .write_with_attrs = vtd_ioapic_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = { .min_access_size = 1, .max_access_size = 4 },
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

void vtd_ir_init(IoasidVtdState *s)
{
    memory_region_init_io(&s->ioapic_mr, OBJECT(s), &vtd_ioapic_ops, s,
                          "ioasid-vtd-ioapic", UINT64_MAX);
    address_space_init(&s->ioapic_as, &s->ioapic_mr, "ioasid-vtd-ioapic");
}
