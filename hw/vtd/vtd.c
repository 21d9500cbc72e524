/*
 * ioasid-vtd: Intel VT-d remapping unit -- device, registers, faults.
 *
 * Written from the Intel Virtualization Technology for Directed I/O
 * Architecture Specification (rev 4.x / 5.x).  Register semantics follow
 * chapter 11; primary fault logging chapter 7.2 / 7.3; the translation
 * structures live in vtd-translate.c, invalidation in vtd-inval.c,
 * interrupt remapping in vtd-ir.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/sysbus.h"
#include "hw/i386/pc.h"
#include "hw/i386/apic_internal.h"
#include "hw/pci/pci_bus.h"
#include "migration/vmstate.h"
#include "exec/address-spaces.h"
#include "vtd-internal.h"
#include "trace.h"

#define VTD_VER_VALUE           0x10    /* 1.0, as hardware reports */

/*
 * Host address width: output addresses and table pointers.  x86 physical
 * addresses have at most 52 bits, so aw-bits=57 (5-level input) still
 * has HAW 52.  MGAW (CAP) is aw-bits: the input address width.
 */
unsigned vtd_haw(IoasidVtdState *s)
{
    return MIN(s->aw_bits, 52);
}

uint64_t vtd_haw_mask(IoasidVtdState *s)
{
    return MAKE_64BIT_MASK(0, vtd_haw(s));
}

/*
 * An interrupt message of the unit itself (fault / invalidation events):
 * never remapped.  To the APIC bus when the address is in the interrupt
 * range (FEUADDR holds the upper x2APIC destination bits); any other
 * address is just a DMA write of the data.
 */
void vtd_send_msi(uint32_t addr_lo, uint32_t addr_hi, uint32_t data)
{
    MSIMessage msg = {
        .address = ((uint64_t)addr_hi << 32) | addr_lo,
        .data = data,
    };

    if ((addr_lo & 0xfff00000) == VTD_MSI_BASE) {
        apic_get_class(NULL)->send_msi(&msg);
        return;
    }
    address_space_stl_le(&address_space_memory, msg.address, data,
                         MEMTXATTRS_UNSPECIFIED, NULL);
}

/*
 * ---------------------------------------------------------------------
 * Fault event (11.4.8.2): a new condition in FSTS (PPF, PFO, IQE, ICE,
 * ITE) sets FECTL.IP; the message is sent unless IM masks it.
 * ------------------------------------------------------------------
 */
void vtd_fault_event(IoasidVtdState *s)
{
    if (FIELD_EX32(s->fectl, FECTL, IP)) {
        return;                 /* already pending: not a new event */
    }
    s->fectl = FIELD_DP32(s->fectl, FECTL, IP, 1);
    if (!FIELD_EX32(s->fectl, FECTL, IM)) {
        trace_ioasid_vtd_fault_event(s->feaddr, s->fedata);
        vtd_send_msi(s->feaddr, s->feuaddr, s->fedata);
        s->fectl = FIELD_DP32(s->fectl, FECTL, IP, 0);
    }
}

static bool vtd_ppf(IoasidVtdState *s)
{
    for (int i = 0; i < VTD_NFR; i++) {
        if (FIELD_EX64(s->frcd[2 * i + 1], FRCD_HI, F)) {
            return true;
        }
    }
    return false;
}

/*
 * Primary fault logging (7.2.1): record in the next fault recording
 * register, or set PFO when it is still in use.
 */
void vtd_record_fault(IoasidVtdState *s, const VtdReq *req, uint8_t reason)
{
    uint32_t idx = s->fault_next % VTD_NFR;
    uint64_t hi = 0;
    bool was_ppf = vtd_ppf(s);

    qemu_log_mask(LOG_GUEST_ERROR,
                  "ioasid-vtd: DMA fault reason 0x%x: sid %02x:%02x.%x "
                  "pasid %s%x addr 0x%" PRIx64 " %s%s%s\n", reason,
                  req->sid >> 8, PCI_SLOT(req->sid), PCI_FUNC(req->sid),
                  req->pasid == IOASID_NO_PASID ? "none/" : "",
                  req->pasid == IOASID_NO_PASID ? 0 : req->pasid, req->addr,
                  req->access & IOASID_PERM_WRITE ? "write" : "read",
                  req->access & IOASID_PERM_EXEC ? " exec" : "",
                  req->priv ? " priv" : "");
    trace_ioasid_vtd_fault(req->sid, req->pasid, req->addr, req->access,
                           reason);

    if (FIELD_EX32(s->fsts, FSTS, PFO)) {
        return;                 /* overflow pending: fault dropped */
    }
    if (FIELD_EX64(s->frcd[2 * idx + 1], FRCD_HI, F)) {
        s->fsts = FIELD_DP32(s->fsts, FSTS, PFO, 1);
        vtd_fault_event(s);
        return;
    }
    hi = FIELD_DP64(hi, FRCD_HI, SID, req->sid);
    hi = FIELD_DP64(hi, FRCD_HI, FR, reason);
    /* Type: T2 = 0; T1 = 0 write, 1 read (AtomicOp not modelled). */
    hi = FIELD_DP64(hi, FRCD_HI, T1, !(req->access & IOASID_PERM_WRITE));
    if (req->pasid != IOASID_NO_PASID) {
        hi = FIELD_DP64(hi, FRCD_HI, PP, 1);
        hi = FIELD_DP64(hi, FRCD_HI, PV, req->pasid);
        hi = FIELD_DP64(hi, FRCD_HI, EXE, !!(req->access & IOASID_PERM_EXEC));
        hi = FIELD_DP64(hi, FRCD_HI, PRIV, req->priv);
    }
    /* AT: 00b untranslated request, 01b translation request (ATS). */
    hi = FIELD_DP64(hi, FRCD_HI, AT, req->ats ? 1 : 0);
    hi = FIELD_DP64(hi, FRCD_HI, F, 1);
    s->frcd[2 * idx] = req->addr & ~0xfffULL;
    s->frcd[2 * idx + 1] = hi;
    s->fault_next = (idx + 1) % VTD_NFR;
    if (!was_ppf) {
        s->fsts = FIELD_DP32(s->fsts, FSTS, FRI, idx);
        vtd_fault_event(s);
    }
}

/*
 * ---------------------------------------------------------------------
 * Global command (11.4.4).  Software issues one command per write: the
 * written value is the current status with one bit changed (or a one-shot
 * command bit set).
 * ------------------------------------------------------------------
 */
#define VTD_GCMD_PERSISTENT     (R_GSTS_TES_MASK | R_GSTS_QIES_MASK | \
                                 R_GSTS_IRES_MASK | R_GSTS_CFIS_MASK | \
                                 R_GSTS_AFLS_MASK)
#define VTD_GCMD_ONESHOT        (R_GSTS_RTPS_MASK | R_GSTS_WBFS_MASK | \
                                 R_GSTS_IRTPS_MASK | R_GSTS_FLS_MASK)

static void vtd_set_root(IoasidVtdState *s)
{
    uint32_t ttm = FIELD_EX64(s->rtaddr, RTADDR, TTM);

    s->root = s->rtaddr & ~0xfffULL & vtd_haw_mask(s);
    if (ttm == 0) {
        s->root_mode = VTD_RTM_LEGACY;
    } else if (ttm == 1 && s->scalable) {
        s->root_mode = VTD_RTM_SCALABLE;
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: RTADDR.TTM %u "
                      "not supported: requests will fault\n", ttm);
        s->root_mode = VTD_RTM_INVALID;
    }
    trace_ioasid_vtd_srtp(s->root, ttm);
    /* CAP.ESRTPS: SRTP also invalidates all remapping caches. */
    vtd_ctx_cache_flush(s);
    vtd_iotlb_flush_all(s);
    s->gsts = FIELD_DP32(s->gsts, GSTS, RTPS, 1);
}

static void vtd_gcmd_write(IoasidVtdState *s, uint32_t val)
{
    uint32_t changed = (val ^ s->gsts) & VTD_GCMD_PERSISTENT;
    uint32_t shots = val & VTD_GCMD_ONESHOT;
    uint32_t cmds = changed | shots;

    if (!cmds) {
        return;
    }
    if (ctpop32(cmds) > 1) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: GCMD 0x%08x issues "
                      "several commands at once (0x%08x); ignored\n",
                      val, cmds);
        return;
    }
    trace_ioasid_vtd_gcmd(val, s->gsts);
    switch (cmds) {
    case R_GSTS_TES_MASK:
        s->gsts = FIELD_DP32(s->gsts, GSTS, TES, !!(val & R_GSTS_TES_MASK));
        break;
    case R_GSTS_RTPS_MASK:
        vtd_set_root(s);
        break;
    case R_GSTS_WBFS_MASK:
        /* CAP.RWBF = 0: nothing buffered; WBFS reads 0 (done). */
        break;
    case R_GSTS_IRTPS_MASK:
        if (!FIELD_EX64(s->ecap, ECAP, IR)) {
            goto unsupported;
        }
        vtd_ir_set_table(s);
        break;
    case R_GSTS_IRES_MASK:
        if (!FIELD_EX64(s->ecap, ECAP, IR)) {
            goto unsupported;
        }
        s->gsts = FIELD_DP32(s->gsts, GSTS, IRES, !!(val & R_GSTS_IRES_MASK));
        break;
    case R_GSTS_CFIS_MASK:
        if (!FIELD_EX64(s->ecap, ECAP, IR)) {
            goto unsupported;
        }
        s->gsts = FIELD_DP32(s->gsts, GSTS, CFIS, !!(val & R_GSTS_CFIS_MASK));
        break;
    case R_GSTS_QIES_MASK:
        if (val & R_GSTS_QIES_MASK) {
            s->iqh = 0;
            s->gsts = FIELD_DP32(s->gsts, GSTS, QIES, 1);
            vtd_iq_process(s);
        } else {
            if (s->iqh != s->iqt) {
                qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: queued "
                              "invalidation disabled with IQH != IQT\n");
            }
            s->iqh = 0;
            s->gsts = FIELD_DP32(s->gsts, GSTS, QIES, 0);
        }
        break;
    default:
    unsupported:
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: GCMD command 0x%08x "
                      "of a capability not advertised; ignored\n", cmds);
        break;
    }
}

/*
 * ---------------------------------------------------------------------
 * MMIO
 * ------------------------------------------------------------------
 */
static uint64_t vtd_reg_read64(IoasidVtdState *s, hwaddr a, bool *ok)
{
    *ok = true;
    if (a >= VTD_FRCD_OFFSET && a < VTD_FRCD_OFFSET + VTD_NFR * 16) {
        return s->frcd[(a - VTD_FRCD_OFFSET) / 8];
    }
    switch (a) {
    case A_VER:
        return VTD_VER_VALUE;
    case A_CAP:
        return s->cap;
    case A_ECAP:
        return s->ecap;
    case A_GCMD:
        return (uint64_t)s->gsts << 32;     /* GCMD reads 0 */
    case A_RTADDR:
        return s->rtaddr;
    case A_CCMD:
        return s->ccmd;
    case A_FSTS & ~7:
        return (uint64_t)(s->fsts | (vtd_ppf(s) ? R_FSTS_PPF_MASK : 0)) << 32;
    case A_FECTL:
        return s->fectl | ((uint64_t)s->fedata << 32);
    case A_FEADDR:
        return s->feaddr | ((uint64_t)s->feuaddr << 32);
    case A_IQH:
        return s->iqh;
    case A_IQT:
        return s->iqt;
    case A_IQA:
        return s->iqa;
    case A_ICS & ~7:
        return (uint64_t)s->ics << 32;
    case A_IECTL:
        return s->iectl | ((uint64_t)s->iedata << 32);
    case A_IEADDR:
        return s->ieaddr | ((uint64_t)s->ieuaddr << 32);
    case A_IQERCD:
        return s->iqercd;
    case A_IVA:
        return s->iva;
    case A_IOTLB:
        return s->iotlb_reg;
    case A_IRTA:
        return s->irta;
    case A_AFLOG:
    case A_PMEN & ~7:
        return 0;               /* not implemented: reads 0 (reserved) */
    default:
        *ok = false;
        return 0;
    }
}

static uint64_t vtd_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    IoasidVtdState *s = opaque;
    bool ok;
    uint64_t v = vtd_reg_read64(s, addr & ~7ULL, &ok);

    if (!ok) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: read of unknown "
                      "register 0x%" HWADDR_PRIx "\n", addr);
        return 0;
    }
    if (size == 4) {
        v = (addr & 4) ? v >> 32 : (uint32_t)v;
    } else if (addr & 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: misaligned 64-bit "
                      "read at 0x%" HWADDR_PRIx "\n", addr);
        return 0;
    }
    trace_ioasid_vtd_reg_read(addr, size, v);
    return v;
}

/* Merge a 32-bit write at @addr into the 64-bit register @old. */
static uint64_t vtd_merge(uint64_t old, hwaddr addr, uint64_t val,
                          unsigned size)
{
    if (size == 8) {
        return val;
    }
    if (addr & 4) {
        return deposit64(old, 32, 32, val);
    }
    return deposit64(old, 0, 32, val);
}

static void vtd_fsts_write(IoasidVtdState *s, uint32_t val)
{
    uint32_t w1c = R_FSTS_PFO_MASK | R_FSTS_IQE_MASK | R_FSTS_ICE_MASK |
                   R_FSTS_ITE_MASK;
    bool iqe_cleared = (val & s->fsts & R_FSTS_IQE_MASK);

    s->fsts &= ~(val & w1c);
    if (!(s->fsts & w1c) && !vtd_ppf(s)) {
        s->fectl = FIELD_DP32(s->fectl, FECTL, IP, 0);
    }
    if (iqe_cleared) {
        vtd_iq_process(s);      /* resume at IQH */
    }
}

static void vtd_fectl_write(IoasidVtdState *s, uint32_t val)
{
    s->fectl = (s->fectl & R_FECTL_IP_MASK) | (val & R_FECTL_IM_MASK);
    if (!FIELD_EX32(s->fectl, FECTL, IM) && FIELD_EX32(s->fectl, FECTL, IP)) {
        vtd_send_msi(s->feaddr, s->feuaddr, s->fedata);
        s->fectl = FIELD_DP32(s->fectl, FECTL, IP, 0);
    }
}

static void vtd_iectl_write(IoasidVtdState *s, uint32_t val)
{
    s->iectl = (s->iectl & R_IECTL_IP_MASK) | (val & R_IECTL_IM_MASK);
    if (!FIELD_EX32(s->iectl, IECTL, IM) && FIELD_EX32(s->iectl, IECTL, IP)) {
        vtd_send_msi(s->ieaddr, s->ieuaddr, s->iedata);
        s->iectl = FIELD_DP32(s->iectl, IECTL, IP, 0);
    }
}

static void vtd_frcd_write(IoasidVtdState *s, hwaddr a, uint64_t val,
                           unsigned size)
{
    unsigned i = (a - VTD_FRCD_OFFSET) / 8;

    /* Only F (bit 127) is writable: RW1C. */
    if (!(i & 1)) {
        if (size == 8 || (a & 4)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: write to read-only "
                          "fault record bits at 0x%" HWADDR_PRIx "\n", a);
        }
        return;
    }
    if ((size == 8 && (val >> 63)) || (size == 4 && (a & 4) && (val >> 31))) {
        s->frcd[i] = FIELD_DP64(s->frcd[i], FRCD_HI, F, 0);
        if (!vtd_ppf(s) && !(s->fsts & (R_FSTS_PFO_MASK | R_FSTS_IQE_MASK |
                                        R_FSTS_ICE_MASK | R_FSTS_ITE_MASK))) {
            s->fectl = FIELD_DP32(s->fectl, FECTL, IP, 0);
        }
    }
}

static void vtd_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    IoasidVtdState *s = opaque;
    hwaddr a = addr & ~7ULL;
    uint32_t v32 = val;
    bool hi = (addr & 4) || size == 8;

    trace_ioasid_vtd_reg_write(addr, size, val);
    if (size == 8 && (addr & 4)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: misaligned 64-bit "
                      "write at 0x%" HWADDR_PRIx "\n", addr);
        return;
    }
    if (a >= VTD_FRCD_OFFSET && a < VTD_FRCD_OFFSET + VTD_NFR * 16) {
        vtd_frcd_write(s, addr, val, size);
        return;
    }
    switch (addr) {
    case A_GCMD:
        vtd_gcmd_write(s, v32);
        return;
    case A_FSTS:
        vtd_fsts_write(s, v32);
        return;
    case A_FECTL:
        vtd_fectl_write(s, v32);
        if (size == 8) {
            s->fedata = val >> 32;
        }
        return;
    case A_FEDATA:
        s->fedata = v32;
        return;
    case A_FEADDR:
        s->feaddr = v32 & ~3u;
        if (size == 8) {
            s->feuaddr = val >> 32;
        }
        return;
    case A_FEUADDR:
        s->feuaddr = v32;
        return;
    case A_ICS:
        if (v32 & R_ICS_IWC_MASK) {
            s->ics = 0;
            s->iectl = FIELD_DP32(s->iectl, IECTL, IP, 0);
        }
        return;
    case A_IECTL:
        vtd_iectl_write(s, v32);
        if (size == 8) {
            s->iedata = val >> 32;
        }
        return;
    case A_IEDATA:
        s->iedata = v32;
        return;
    case A_IEADDR:
        s->ieaddr = v32 & ~3u;
        if (size == 8) {
            s->ieuaddr = val >> 32;
        }
        return;
    case A_IEUADDR:
        s->ieuaddr = v32;
        return;
    }

    switch (a) {
    case A_RTADDR:
        s->rtaddr = vtd_merge(s->rtaddr, addr, val, size) &
                    (R_RTADDR_RTA_MASK | R_RTADDR_TTM_MASK);
        return;
    case A_CCMD:
        s->ccmd = vtd_merge(s->ccmd, addr, val, size);
        if (hi && FIELD_EX64(s->ccmd, CCMD, ICC)) {
            vtd_ccmd_write(s);
        }
        return;
    case A_IVA:
        s->iva = vtd_merge(s->iva, addr, val, size) &
                 (R_IVA_AM_MASK | R_IVA_IH_MASK | R_IVA_ADDR_MASK);
        return;
    case A_IOTLB:
        s->iotlb_reg = vtd_merge(s->iotlb_reg, addr, val, size);
        if (hi && FIELD_EX64(s->iotlb_reg, IOTLB, IVT)) {
            vtd_iotlb_reg_write(s);
        }
        return;
    case A_IQT:
        s->iqt = vtd_merge(s->iqt, addr, val, size) & R_IQT_QT_MASK;
        vtd_iq_process(s);
        return;
    case A_IQA:
        s->iqa = vtd_merge(s->iqa, addr, val, size) &
                 ((R_IQA_IQA_MASK & vtd_haw_mask(s)) | R_IQA_DW_MASK |
                  R_IQA_QS_MASK);
        return;
    case A_VER:
    case A_CAP:
    case A_ECAP:
    case A_IQH:
    case A_IQERCD:
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: write to read-only "
                      "register 0x%" HWADDR_PRIx "\n", addr);
        return;
    case A_IRTA:
        if (FIELD_EX64(s->ecap, ECAP, IR)) {
            s->irta = vtd_merge(s->irta, addr, val, size) &
                      (R_IRTA_IRTA_MASK | R_IRTA_EIME_MASK | R_IRTA_S_MASK);
            return;
        }
        /* fall through */
    case A_AFLOG:
    case A_PMEN & ~7:
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: write to register "
                      "0x%" HWADDR_PRIx " of a capability not advertised\n",
                      addr);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: write to unknown "
                      "register 0x%" HWADDR_PRIx "\n", addr);
        return;
    }
}

static const MemoryRegionOps vtd_mmio_ops = {
    .read = vtd_mmio_read,
    .write = vtd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
        .unaligned = false,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/*
 * ---------------------------------------------------------------------
 * Capabilities: advertise only what is implemented.
 * ------------------------------------------------------------------
 */
static void vtd_init_caps(IoasidVtdState *s)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    uint64_t cap = 0, ecap = 0;
    unsigned sagaw = 0;

    /* SAGAW bit n: (n + 2)-level tables, AGAW 30 + 9n. */
    sagaw |= 1 << 1;                                  /* 39-bit, 3-level */
    if (s->aw_bits >= 48) {
        sagaw |= 1 << 2;                              /* 48-bit, 4-level */
    }
    if (s->aw_bits >= 57) {
        sagaw |= 1 << 3;                              /* 57-bit, 5-level */
    }
    cap = FIELD_DP64(cap, CAP, ND, 6);                /* 64K domains */
    cap = FIELD_DP64(cap, CAP, SAGAW, sagaw);
    cap = FIELD_DP64(cap, CAP, MGAW, s->aw_bits - 1);
    cap = FIELD_DP64(cap, CAP, FRO, VTD_FRCD_OFFSET / 16);
    cap = FIELD_DP64(cap, CAP, SLLPS, 0x3);           /* 2M, 1G */
    cap = FIELD_DP64(cap, CAP, PSI, 1);
    cap = FIELD_DP64(cap, CAP, NFR, VTD_NFR - 1);
    cap = FIELD_DP64(cap, CAP, MAMV, 18);
    cap = FIELD_DP64(cap, CAP, DWD, 1);
    cap = FIELD_DP64(cap, CAP, DRD, 1);
    cap = FIELD_DP64(cap, CAP, ESRTPS, 1);            /* SRTP flushes */
    if (x86_iommu_ir_supported(x86)) {
        cap = FIELD_DP64(cap, CAP, ESIRTPS, 1);       /* no IEC to flush */
        ecap = FIELD_DP64(ecap, ECAP, IR, 1);
        ecap = FIELD_DP64(ecap, ECAP, EIM, 1);
    }
    if (s->scalable && s->fs) {
        cap = FIELD_DP64(cap, CAP, FS1GP, 1);
        cap = FIELD_DP64(cap, CAP, FS5LP, s->fs5lp);
    }

    ecap = FIELD_DP64(ecap, ECAP, C, 1);
    ecap = FIELD_DP64(ecap, ECAP, QI, 1);
    ecap = FIELD_DP64(ecap, ECAP, DT, x86->dt_supported);
    ecap = FIELD_DP64(ecap, ECAP, PT, x86->pt_supported);
    ecap = FIELD_DP64(ecap, ECAP, IRO, VTD_IOTLB_OFFSET / 16);
    if (s->scalable) {
        ecap = FIELD_DP64(ecap, ECAP, SMTS, 1);
        ecap = FIELD_DP64(ecap, ECAP, SMPWCS, 1);
        ecap = FIELD_DP64(ecap, ECAP, RPS, 1);
        ecap = FIELD_DP64(ecap, ECAP, SSTS, s->ss);
        ecap = FIELD_DP64(ecap, ECAP, SSADS, s->ss && s->ssads);
        ecap = FIELD_DP64(ecap, ECAP, FSTS, s->fs);
        ecap = FIELD_DP64(ecap, ECAP, NEST, s->nested);
        if (s->pasid_bits) {
            ecap = FIELD_DP64(ecap, ECAP, PASID, 1);
            ecap = FIELD_DP64(ecap, ECAP, PSS, s->pasid_bits - 1);
            ecap = FIELD_DP64(ecap, ECAP, ERS, 1);
            ecap = FIELD_DP64(ecap, ECAP, SRS, 1);
        }
    }
    s->cap = cap;
    s->ecap = ecap;
}

/*
 * ---------------------------------------------------------------------
 * QOM
 * ------------------------------------------------------------------
 */
static void vtd_reset_regs(IoasidVtdState *s)
{
    s->gsts = 0;
    s->rtaddr = 0;
    s->root = 0;
    s->root_mode = VTD_RTM_LEGACY;
    s->ccmd = 0;
    s->iva = 0;
    s->iotlb_reg = 0;
    s->fsts = 0;
    s->fectl = R_FECTL_IM_MASK;     /* IM reset value 1 */
    s->fedata = s->feaddr = s->feuaddr = 0;
    memset(s->frcd, 0, sizeof(s->frcd));
    s->fault_next = 0;
    s->iqh = s->iqt = s->iqa = s->iqercd = 0;
    s->ics = 0;
    s->iectl = R_IECTL_IM_MASK;     /* IM reset value 1 */
    s->iedata = s->ieaddr = s->ieuaddr = 0;
    s->irta = s->irt = s->irt_eime = 0;
    if (s->iotlb) {
        vtd_ctx_cache_flush(s);
        vtd_iotlb_flush_all(s);
    }
}

static void vtd_reset_hold(Object *obj, ResetType type)
{
    vtd_reset_regs(IOASID_VTD(obj));
}

/*
 * Devices realized before the IOMMU already have their bus-master address
 * space: their DMA is not translated.  q35's own chipset functions (host
 * bridge, LPC, SATA, SMBus) always are; say so for anything else.
 */
static void vtd_warn_early_device(PCIBus *bus, PCIDevice *pdev, void *opaque)
{
    int devfn = pdev->devfn;

    if (devfn == 0 || devfn == PCI_DEVFN(0x1f, 0) ||
        devfn == PCI_DEVFN(0x1f, 2) || devfn == PCI_DEVFN(0x1f, 3)) {
        return;
    }
    warn_report("ioasid-vtd: PCI device %02x.%x (%s) was created before "
                "the IOMMU: its DMA bypasses translation; put -device "
                "ioasid-vtd first (and use -nodefaults)", PCI_SLOT(devfn),
                PCI_FUNC(devfn), object_get_typename(OBJECT(pdev)));
}

static void vtd_realize(DeviceState *dev, Error **errp)
{
    IoasidVtdState *s = IOASID_VTD(dev);
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(dev);
    PCMachineState *pcms =
        PC_MACHINE(object_dynamic_cast(qdev_get_machine(), TYPE_PC_MACHINE));

    if (s->aw_bits != 39 && s->aw_bits != 48 && s->aw_bits != 57) {
        error_setg(errp, "ioasid-vtd: aw-bits must be 39, 48 or 57 (got %u)",
                   s->aw_bits);
        return;
    }
    if (s->pasid_bits > IOASID_PASID_BITS) {
        error_setg(errp, "ioasid-vtd: pasid-bits must be 0..20 (got %u)",
                   s->pasid_bits);
        return;
    }
    if (s->scalable && !s->fs && !s->ss && !x86->pt_supported) {
        error_setg(errp, "ioasid-vtd: scalable mode needs at least one of "
                   "fs, ss or pt");
        return;
    }
    if (s->scalable && s->nested && !(s->fs && s->ss)) {
        error_setg(errp, "ioasid-vtd: nested=on needs fs=on and ss=on");
        return;
    }
    if (s->scalable && s->fs5lp && s->fs && s->aw_bits < 57) {
        error_setg(errp, "ioasid-vtd: fs-5level=on needs aw-bits=57");
        return;
    }
    if (s->iotlb_size < 16 || s->iotlb_size > (1u << 20)) {
        error_setg(errp, "ioasid-vtd: iotlb-size must be 16..1048576");
        return;
    }
    if (!pcms || !pcms->pcibus) {
        error_setg(errp, "ioasid-vtd: needs a PC machine with PCI (q35)");
        return;
    }

    vtd_init_caps(s);
    s->bus = pcms->pcibus;
    pci_for_each_device_under_bus(s->bus, vtd_warn_early_device, s);
    s->iotlb = ioasid_iotlb_new(s->iotlb_size);
    if (s->ctx_cache_on) {
        s->ctx_cache = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                             g_free, g_free);
    }
    s->as_by_bus = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                         NULL, g_free);
    memory_region_init_io(&s->mmio, OBJECT(s), &vtd_mmio_ops, s,
                          "ioasid-vtd", VTD_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(s), &s->mmio);
    sysbus_mmio_map(SYS_BUS_DEVICE(s), 0, IOASID_VTD_BASE_ADDR);
    if (!ioasid_iommu_register(s->bus, OBJECT(s), errp)) {
        return;
    }
    pci_setup_iommu(s->bus, &vtd_pci_iommu_ops, s);
    if (x86_iommu_ir_supported(x86)) {
        vtd_ir_init(s);
        X86_MACHINE(pcms)->ioapic_as = &s->ioapic_as;
    }
    vtd_reset_regs(s);
}

static int vtd_post_load(void *opaque, int version_id)
{
    IoasidVtdState *s = opaque;

    vtd_ctx_cache_flush(s);
    vtd_iotlb_flush_all(s);
    if (s->root_mode > VTD_RTM_INVALID) {
        return -EINVAL;
    }
    s->fault_next %= VTD_NFR;
    return 0;
}

static const VMStateDescription vtd_vmstate = {
    .name = "ioasid-vtd",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = vtd_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(cap, IoasidVtdState),
        VMSTATE_UINT64(ecap, IoasidVtdState),
        VMSTATE_UINT32(gsts, IoasidVtdState),
        VMSTATE_UINT64(rtaddr, IoasidVtdState),
        VMSTATE_UINT64(root, IoasidVtdState),
        VMSTATE_UINT32(root_mode, IoasidVtdState),
        VMSTATE_UINT64(ccmd, IoasidVtdState),
        VMSTATE_UINT64(iva, IoasidVtdState),
        VMSTATE_UINT64(iotlb_reg, IoasidVtdState),
        VMSTATE_UINT32(fsts, IoasidVtdState),
        VMSTATE_UINT32(fectl, IoasidVtdState),
        VMSTATE_UINT32(fedata, IoasidVtdState),
        VMSTATE_UINT32(feaddr, IoasidVtdState),
        VMSTATE_UINT32(feuaddr, IoasidVtdState),
        VMSTATE_UINT64_ARRAY(frcd, IoasidVtdState, VTD_NFR * 2),
        VMSTATE_UINT32(fault_next, IoasidVtdState),
        VMSTATE_UINT64(iqh, IoasidVtdState),
        VMSTATE_UINT64(iqt, IoasidVtdState),
        VMSTATE_UINT64(iqa, IoasidVtdState),
        VMSTATE_UINT64(iqercd, IoasidVtdState),
        VMSTATE_UINT32(ics, IoasidVtdState),
        VMSTATE_UINT32(iectl, IoasidVtdState),
        VMSTATE_UINT32(iedata, IoasidVtdState),
        VMSTATE_UINT32(ieaddr, IoasidVtdState),
        VMSTATE_UINT32(ieuaddr, IoasidVtdState),
        VMSTATE_UINT64(irta, IoasidVtdState),
        VMSTATE_UINT64(irt, IoasidVtdState),
        VMSTATE_UINT64(irt_eime, IoasidVtdState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property vtd_properties[] = {
    DEFINE_PROP_UINT8("aw-bits", IoasidVtdState, aw_bits, 48),
    DEFINE_PROP_BOOL("scalable-mode", IoasidVtdState, scalable, true),
    DEFINE_PROP_UINT8("pasid-bits", IoasidVtdState, pasid_bits, 20),
    DEFINE_PROP_BOOL("fs", IoasidVtdState, fs, true),
    DEFINE_PROP_BOOL("ss", IoasidVtdState, ss, true),
    DEFINE_PROP_BOOL("nested", IoasidVtdState, nested, true),
    DEFINE_PROP_BOOL("fs-5level", IoasidVtdState, fs5lp, false),
    DEFINE_PROP_BOOL("ss-ad", IoasidVtdState, ssads, true),
    DEFINE_PROP_UINT32("iotlb-size", IoasidVtdState, iotlb_size, 4096),
    DEFINE_PROP_BOOL("x-context-cache", IoasidVtdState, ctx_cache_on, true),
};

static void vtd_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    X86IOMMUClass *x86c = X86_IOMMU_DEVICE_CLASS(klass);
    IoasidIOMMUClass *ic = IOASID_IOMMU_CLASS(klass);

    x86c->realize = vtd_realize;
    x86c->int_remap = vtd_int_remap;
    rc->phases.hold = vtd_reset_hold;
    dc->vmsd = &vtd_vmstate;
    dc->desc = "Intel VT-d remapping unit (qemu-ioasid)";
    dc->hotpluggable = false;
    dc->user_creatable = true;
    device_class_set_props(dc, vtd_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    ic->dma_rw = vtd_ioasid_dma_rw;
    ic->ats_translate = vtd_ioasid_ats_translate;
}

static const TypeInfo vtd_types[] = {
    {
        .name = TYPE_IOASID_VTD,
        .parent = TYPE_X86_IOMMU_DEVICE,
        .instance_size = sizeof(IoasidVtdState),
        .class_init = vtd_class_init,
        .interfaces = (InterfaceInfo[]) {
            { TYPE_IOASID_IOMMU },
            { }
        },
    },
};

DEFINE_TYPES(vtd_types)
