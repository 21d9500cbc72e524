/*
 * ioasid-smmuv3: Arm SMMUv3 (IHI 0070) on the qemu-ioasid core.
 *
 * The device decodes the SMMU's structures (stream table, STE, CD tables,
 * CD) into the core's IoasidPgtCfg and lets the core walk the page tables
 * (hw/ioasid/core/walk.h): stage 1 (CD), stage 2 (STE) or nested, where
 * the CD fetch and every stage-1 table access go through stage 2.
 *
 * Two ways in:
 *  - plain (RID-only) DMA of any PCI device below the primary bus goes
 *    through QEMU's IOMMUMemoryRegion path (one region per requester);
 *  - (RID, PASID) DMA and ATS translation requests of ioasid-testdev
 *    come through the qemu-ioasid TYPE_IOASID_IOMMU interface
 *    (hw/ioasid/ioasid-pci.h); the PASID is the SubstreamID that selects
 *    the CD.
 *
 * Successful translations are cached in the core IOTLB (iotlb.h), tagged
 * by VMID, ASID, kind and privilege; decoded STEs and CDs in two hash
 * tables.  All of them stay in use until the guest invalidates them.
 *
 * Nothing the guest writes may crash QEMU: every bad input ends in an
 * architected event record, command error or GERROR bit, plus a
 * LOG_GUEST_ERROR message; every loop is bounded.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "migration/vmstate.h"
#include "exec/address-spaces.h"
#include "system/dma.h"
#include "hw/ioasid/ioasid-pci.h"
#include "hw/ioasid/core/walk.h"
#include "hw/ioasid/core/iotlb.h"
#include "hw/smmuv3/ioasid-smmuv3.h"
#include "trace.h"

/* Implementation limits, advertised in IDR1. */
#define SMMU_SIDSIZE            16
#define SMMU_CMDQS              19
#define SMMU_EVENTQS            19
/* IOTLB capacity (the core evicts one entry when full). */
#define SMMU_IOTLB_MAX          8192
/* STE / CD cache bound: flushed whole when full. */
#define SMMU_CFG_CACHE_MAX      4096

/* The GERROR bits of smmuv3-regs.h (CMDQ_ERR .. SFM_ERR). */
#define SMMU_GERROR_ALL         0x1fd

/* ---------------------------------------------------------------------- */
/* Decoded configuration                                                  */
/* ---------------------------------------------------------------------- */

/* A decoded, valid STE. */
typedef struct SmmuSte {
    uint8_t config;         /* STE_CFG_*                               */
    bool s1, s2;            /* stages enabled                          */
    uint8_t s1fmt, s1cdmax, s1dss;
    uint64_t s1ctxptr;      /* PA, or IPA when stage 2 is on           */
    uint16_t vmid;
    bool s2r;               /* record stage-2 faults                   */
    bool eats;              /* ATS translation requests allowed        */
    IoasidPgtCfg s2cfg;
} SmmuSte;

/* A decoded, valid CD. */
typedef struct SmmuCd {
    uint16_t asid;
    bool r;                 /* record stage-1 faults                   */
    IoasidPgtCfg s1cfg;
} SmmuCd;

/* An event record under construction (7.3). */
typedef struct SmmuEvent {
    uint8_t type;
    bool record;            /* false: fault not recorded (CD.R/S2R 0) */
    uint64_t w[4];
} SmmuEvent;

typedef enum SmmuTrStatus {
    SMMU_TR_OK,             /* translated (res valid)                  */
    SMMU_TR_ABORT,          /* aborted (event in ev if ev->type != 0)  */
} SmmuTrStatus;

static const uint8_t smmu_pa_bits[] = { 32, 36, 40, 42, 44, 48, 52 };

static uint8_t smmu_decode_pa(IoasidSMMUv3State *s, unsigned enc)
{
    /* Reserved encodings and sizes beyond the OAS are capped to the OAS. */
    if (enc >= ARRAY_SIZE(smmu_pa_bits)) {
        return s->oas;
    }
    return MIN(smmu_pa_bits[enc], s->oas);
}

static bool smmu_s1p(IoasidSMMUv3State *s)
{
    return FIELD_EX32(s->idr[0], IDR0, S1P);
}

static bool smmu_s2p(IoasidSMMUv3State *s)
{
    return FIELD_EX32(s->idr[0], IDR0, S2P);
}

static bool smmu_granule_ok(IoasidSMMUv3State *s, unsigned shift)
{
    switch (shift) {
    case 12:
        return FIELD_EX32(s->idr[5], IDR5, GRAN4K);
    case 14:
        return FIELD_EX32(s->idr[5], IDR5, GRAN16K);
    case 16:
        return FIELD_EX32(s->idr[5], IDR5, GRAN64K);
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------- */
/* Guest memory                                                           */
/* ---------------------------------------------------------------------- */

static int smmu_mem_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
    return dma_memory_read(&address_space_memory, addr, buf, len,
                           MEMTXATTRS_UNSPECIFIED) == MEMTX_OK ? 0 : -1;
}

static int smmu_mem_cmpxchg64(void *opaque, uint64_t addr, uint64_t expect,
                              uint64_t val, uint64_t *cur)
{
    uint64_t v;

    /* Device models run under the BQL: read-compare-write is atomic. */
    if (dma_memory_read(&address_space_memory, addr, &v, 8,
                        MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return -1;
    }
    v = le64_to_cpu(v);
    if (v != expect) {
        *cur = v;
        return 1;
    }
    v = cpu_to_le64(val);
    if (dma_memory_write(&address_space_memory, addr, &v, 8,
                         MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return -1;
    }
    return 0;
}

static const IoasidMemOps smmu_memops = {
    .read = smmu_mem_read,
    .cmpxchg64 = smmu_mem_cmpxchg64,
};

static bool smmu_read_words(uint64_t addr, uint64_t *w, unsigned n)
{
    unsigned i;

    if (dma_memory_read(&address_space_memory, addr, w, n * 8,
                        MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return false;
    }
    for (i = 0; i < n; i++) {
        w[i] = le64_to_cpu(w[i]);
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/* Interrupts and GERROR (7.2, 7.5)                                       */
/* ---------------------------------------------------------------------- */

/*
 * Deliver an interrupt: MSI if configured (IRQ_CFG0.ADDR != 0), else the
 * wired SPI.  Returns false if the MSI write aborted.
 */
static bool smmu_signal(IoasidSMMUv3State *s, int irq, uint64_t cfg0,
                        uint32_t data)
{
    uint64_t addr = cfg0 & SMMU_IRQ_ADDR_MASK;
    MemTxResult r;

    if (!addr) {
        trace_ioasid_smmuv3_irq(irq, 0, 0);
        qemu_irq_pulse(s->irq[irq]);
        return true;
    }
    trace_ioasid_smmuv3_irq(irq, addr, data);
    address_space_stl_le(&address_space_memory, addr, data,
                         MEMTXATTRS_UNSPECIFIED, &r);
    return r == MEMTX_OK;
}

/* Make the GERROR bits in @bits active (7.5: GERROR != GERRORN). */
static void smmu_gerror(IoasidSMMUv3State *s, uint32_t bits)
{
    uint32_t active = s->gerror ^ s->gerrorn;
    uint32_t toggle = bits & ~active;

    if (!toggle) {
        return;
    }
    s->gerror ^= toggle;
    trace_ioasid_smmuv3_gerror(s->gerror, s->gerrorn);
    if (FIELD_EX32(s->irq_ctrl, IRQ_CTRL, GERROR_IRQEN)) {
        if (!smmu_signal(s, SMMU_IRQ_GERROR, s->gerror_irq_cfg0,
                         s->gerror_irq_cfg1)) {
            /* No further interrupt for this one. */
            s->gerror ^= R_GERROR_MSI_GERROR_ABT_ERR_MASK &
                         ~(s->gerror ^ s->gerrorn);
        }
    }
}

static bool smmu_cmdq_error_active(IoasidSMMUv3State *s)
{
    return (s->gerror ^ s->gerrorn) & R_GERROR_CMDQ_ERR_MASK;
}

/* ---------------------------------------------------------------------- */
/* Queues (3.5)                                                           */
/* ---------------------------------------------------------------------- */

static unsigned smmu_q_log2size(const IoasidSMMUv3Queue *q, unsigned max)
{
    return MIN(SMMU_Q_BASE_LOG2SIZE(q->base), max);
}

static uint32_t smmu_q_idx(uint32_t v, unsigned n)
{
    return v & ((1u << n) - 1);
}

static uint32_t smmu_q_wrap(uint32_t v, unsigned n)
{
    return (v >> n) & 1;
}

static uint32_t smmu_q_inc(uint32_t v, unsigned n)
{
    return (v + 1) & ((2u << n) - 1);
}

static bool smmu_q_empty(uint32_t prod, uint32_t cons, unsigned n)
{
    return smmu_q_idx(prod, n) == smmu_q_idx(cons, n) &&
           smmu_q_wrap(prod, n) == smmu_q_wrap(cons, n);
}

static bool smmu_q_full(uint32_t prod, uint32_t cons, unsigned n)
{
    return smmu_q_idx(prod, n) == smmu_q_idx(cons, n) &&
           smmu_q_wrap(prod, n) != smmu_q_wrap(cons, n);
}

/* ---------------------------------------------------------------------- */
/* Event queue (7.3, 7.4)                                                 */
/* ---------------------------------------------------------------------- */

static const char *smmu_event_name(uint8_t type)
{
    switch (type) {
    case EVT_C_BAD_STREAMID: return "C_BAD_STREAMID";
    case EVT_F_STE_FETCH: return "F_STE_FETCH";
    case EVT_C_BAD_STE: return "C_BAD_STE";
    case EVT_F_BAD_ATS_TREQ: return "F_BAD_ATS_TREQ";
    case EVT_F_STREAM_DISABLED: return "F_STREAM_DISABLED";
    case EVT_C_BAD_SUBSTREAMID: return "C_BAD_SUBSTREAMID";
    case EVT_F_CD_FETCH: return "F_CD_FETCH";
    case EVT_C_BAD_CD: return "C_BAD_CD";
    case EVT_F_WALK_EABT: return "F_WALK_EABT";
    case EVT_F_TRANSLATION: return "F_TRANSLATION";
    case EVT_F_ADDR_SIZE: return "F_ADDR_SIZE";
    case EVT_F_ACCESS: return "F_ACCESS";
    case EVT_F_PERMISSION: return "F_PERMISSION";
    default: return "?";
    }
}

static void smmu_record_event(IoasidSMMUv3State *s, SmmuEvent *ev)
{
    IoasidSMMUv3Queue *q = &s->eventq;
    unsigned n = smmu_q_log2size(q, SMMU_EVENTQS);
    uint64_t rec[4], addr;
    uint32_t prod = q->prod & SMMU_Q_IDX_MASK;
    int i;

    trace_ioasid_smmuv3_event(smmu_event_name(ev->type), ev->type,
                              ev->record, ev->w[0] >> 32, ev->w[2], ev->w[3]);
    if (!ev->record || !FIELD_EX32(s->cr0, CR0, EVENTQEN)) {
        return;
    }
    if (smmu_q_full(prod, q->cons, n)) {
        /* 7.4: overflow is flagged once until acknowledged. */
        if (!((q->prod ^ q->cons) & SMMU_Q_OVF)) {
            q->prod ^= SMMU_Q_OVF;
        }
        return;
    }
    addr = (q->base & SMMU_Q_BASE_ADDR_MASK) +
           (uint64_t)smmu_q_idx(prod, n) * EVT_SIZE;
    for (i = 0; i < 4; i++) {
        rec[i] = cpu_to_le64(ev->w[i]);
    }
    if (dma_memory_write(&address_space_memory, addr, rec, sizeof(rec),
                         MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: event queue write "
                      "abort at 0x%" PRIx64 "\n", addr);
        smmu_gerror(s, R_GERROR_EVENTQ_ABT_ERR_MASK);
        return;
    }
    q->prod = (q->prod & SMMU_Q_OVF) | smmu_q_inc(prod, n);
    /*
     * Signalled for every record, not only on the empty -> non-empty
     * transition: a driver that samples PROD before updating CONS never
     * misses a record (the edge-triggered SPI coalesces).
     */
    if (FIELD_EX32(s->irq_ctrl, IRQ_CTRL, EVENTQ_IRQEN)) {
        if (!smmu_signal(s, SMMU_IRQ_EVTQ, s->eventq_irq_cfg0,
                         s->eventq_irq_cfg1)) {
            smmu_gerror(s, R_GERROR_MSI_EVENTQ_ABT_ERR_MASK);
        }
    }
}

static void smmu_event_init(SmmuEvent *ev, uint8_t type, uint32_t sid,
                            uint32_t ssid)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->record = true;
    ev->w[0] = type | ((uint64_t)sid << EVT0_SID_SHIFT);
    if (ssid != IOASID_NO_PASID) {
        ev->w[0] |= EVT0_SSV | ((uint64_t)ssid << EVT0_SSID_SHIFT);
    }
}

/* ---------------------------------------------------------------------- */
/* Caches                                                                 */
/* ---------------------------------------------------------------------- */

static uint64_t smmu_cd_key(uint32_t sid, uint32_t ssid)
{
    return ((uint64_t)sid << 20) | (ssid & IOASID_PASID_MAX);
}

/* QEMU's IOMMU notifiers (vhost, ...): unmap everything they cached. */
static void smmu_notify_all(IoasidSMMUv3State *s)
{
    IoasidSMMUv3Device *sdev;
    IOMMUNotifier *n;

    QLIST_FOREACH(sdev, &s->notifier_list, next) {
        IOMMU_NOTIFIER_FOREACH(n, &sdev->iommu) {
            memory_region_unmap_iommu_notifier_range(n);
        }
    }
}

/*
 * Invalidate the IOTLB entries of domain (VMID) @vmid and address-space
 * tag (ASID) @asid (either IOASID_TAG_ANY), of the kinds in @kinds
 * (IOASID_KINDS_ALL or a mask of 1 << IOASID_KIND_*), overlapping
 * [@start, @last].
 */
static void smmu_tlb_inv(IoasidSMMUv3State *s, uint32_t vmid, uint32_t asid,
                         uint8_t kinds, uint64_t start, uint64_t last)
{
    IoasidIotlbInval inv = {
        .domain = vmid,
        .as_tag = asid,
        .kinds = kinds,
        .addr = start,
        .size = last - start + 1,       /* 0: everything */
    };
    size_t n = ioasid_iotlb_invalidate(s->iotlb, &inv);

    trace_ioasid_smmuv3_tlb_inv(vmid, asid, kinds, start, last, n);
    smmu_notify_all(s);
}

#define SMMU_KINDS_S1   (1u << IOASID_KIND_S1 | 1u << IOASID_KIND_NESTED)
#define SMMU_KINDS_S2   (1u << IOASID_KIND_S2)

static void smmu_cfg_inv_sid_range(IoasidSMMUv3State *s, uint64_t first,
                                   uint64_t last)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, s->ste_cache);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        uint64_t sid = GPOINTER_TO_UINT(k);

        if (sid >= first && sid <= last) {
            g_hash_table_iter_remove(&it);
        }
    }
    /* Invalidating an STE also drops the CDs cached through it. */
    g_hash_table_iter_init(&it, s->cd_cache);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        uint64_t sid = *(uint64_t *)k >> 20;

        if (sid >= first && sid <= last) {
            g_hash_table_iter_remove(&it);
        }
    }
    trace_ioasid_smmuv3_cfg_inv(first, last);
    smmu_notify_all(s);
}

static void smmu_cfg_inv_cd(IoasidSMMUv3State *s, uint32_t sid,
                            uint32_t ssid)
{
    uint64_t key = smmu_cd_key(sid, ssid);

    g_hash_table_remove(s->cd_cache, &key);
    smmu_notify_all(s);
}

static void smmu_inv_all(IoasidSMMUv3State *s)
{
    g_hash_table_remove_all(s->ste_cache);
    g_hash_table_remove_all(s->cd_cache);
    ioasid_iotlb_inv_all(s->iotlb);
    smmu_notify_all(s);
}

/* ---------------------------------------------------------------------- */
/* Stream table and STE (3.3, 5.2)                                        */
/* ---------------------------------------------------------------------- */

static bool smmu_bad_ste(SmmuEvent *ev, uint32_t sid, uint32_t ssid,
                         const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: C_BAD_STE sid 0x%x: %s\n",
                  sid, why);
    smmu_event_init(ev, EVT_C_BAD_STE, sid, ssid);
    return false;
}

/* Find the STE's address: false with ev set on C_BAD_STREAMID/F_STE_FETCH. */
static bool smmu_find_ste(IoasidSMMUv3State *s, uint32_t sid, uint32_t ssid,
                          uint64_t *addr, SmmuEvent *ev)
{
    uint64_t base = s->strtab_base & SMMU_STRTAB_ADDR_MASK;
    unsigned log2size = MIN(FIELD_EX32(s->strtab_base_cfg, STRTAB_BASE_CFG,
                                       LOG2SIZE), SMMU_SIDSIZE);

    if (sid >= (1u << log2size)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: StreamID 0x%x beyond "
                      "the stream table (LOG2SIZE %u)\n", sid, log2size);
        smmu_event_init(ev, EVT_C_BAD_STREAMID, sid, ssid);
        return false;
    }
    if (FIELD_EX32(s->strtab_base_cfg, STRTAB_BASE_CFG, FMT) ==
        STRTAB_FMT_2LEVEL) {
        unsigned split = FIELD_EX32(s->strtab_base_cfg, STRTAB_BASE_CFG,
                                    SPLIT);
        uint64_t l1addr, l1;
        unsigned span;

        if (split != 6 && split != 8 && split != 10) {
            /* Reserved: behaves as one of the valid values. */
            split = split < 8 ? 6 : split < 10 ? 8 : 10;
        }
        l1addr = base + (uint64_t)(sid >> split) * 8;
        if (!smmu_read_words(l1addr, &l1, 1)) {
            smmu_event_init(ev, EVT_F_STE_FETCH, sid, ssid);
            ev->w[3] = l1addr & EVT3_FETCH_MASK;
            return false;
        }
        span = L1STD_SPAN(l1);
        if (span > split + 1) {
            span = split + 1;
        }
        if (!span || (sid & ((1u << split) - 1)) >= (1u << (span - 1))) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: StreamID 0x%x: "
                          "invalid L1STD (Span %u)\n", sid,
                          (unsigned)L1STD_SPAN(l1));
            smmu_event_init(ev, EVT_C_BAD_STREAMID, sid, ssid);
            return false;
        }
        *addr = L1STD_L2PTR(l1) +
                (uint64_t)(sid & ((1u << split) - 1)) * STE_SIZE;
    } else {
        *addr = base + (uint64_t)sid * STE_SIZE;
    }
    return true;
}

static bool smmu_decode_ste(IoasidSMMUv3State *s, const uint64_t *w,
                            uint32_t sid, uint32_t ssid, SmmuSte *ste,
                            SmmuEvent *ev)
{
    IoasidPgtCfg *c = &ste->s2cfg;
    const char *err;

    memset(ste, 0, sizeof(*ste));
    if (!STE_V(w[0])) {
        return smmu_bad_ste(ev, sid, ssid, "V == 0");
    }
    ste->config = STE_CONFIG(w[0]);
    if (ste->config != STE_CFG_ABORT && !(ste->config & 4)) {
        return smmu_bad_ste(ev, sid, ssid, "reserved Config");
    }
    ste->s1 = ste->config & 4 && ste->config & 1;
    ste->s2 = ste->config & 4 && ste->config & 2;
    if (ste->s1 && !smmu_s1p(s)) {
        return smmu_bad_ste(ev, sid, ssid, "stage 1 not implemented");
    }
    if (ste->s2 && !smmu_s2p(s)) {
        return smmu_bad_ste(ev, sid, ssid, "stage 2 not implemented");
    }
    /* With stage 2 implemented the VMID tags stage-1 entries as well. */
    ste->vmid = smmu_s2p(s) ? STE_S2VMID(w[2]) : 0;
    if (FIELD_EX32(s->idr[0], IDR0, ATS) && ste->config != STE_CFG_ABORT &&
        ste->config != STE_CFG_BYPASS) {
        /* Split-stage ATS (0b10) needs IDR0.NS1ATS == 0; 0b11 reserved. */
        if (STE_EATS(w[1]) > 1) {
            return smmu_bad_ste(ev, sid, ssid, "EATS other than 0b00/0b01");
        }
        ste->eats = STE_EATS(w[1]);
    }

    if (ste->s1) {
        ste->s1fmt = STE_S1FMT(w[0]);
        ste->s1cdmax = STE_S1CDMAX(w[0]);
        ste->s1dss = STE_S1DSS(w[1]);
        ste->s1ctxptr = STE_S1CTXPTR(w[0]);
        if (ste->s1cdmax > FIELD_EX32(s->idr[1], IDR1, SSIDSIZE)) {
            return smmu_bad_ste(ev, sid, ssid, "S1CDMax > SSIDSIZE");
        }
        if (ste->s1cdmax && ste->s1fmt == 3) {
            return smmu_bad_ste(ev, sid, ssid, "reserved S1Fmt");
        }
        if (ste->s1cdmax && ste->s1fmt != STE_S1FMT_LINEAR &&
            !FIELD_EX32(s->idr[0], IDR0, CD2L)) {
            return smmu_bad_ste(ev, sid, ssid, "2-level CD table");
        }
        if (ste->s1cdmax && ste->s1dss == 3) {
            return smmu_bad_ste(ev, sid, ssid, "reserved S1DSS");
        }
        if (STE_STRW(w[1]) != 0) {
            /* EL2 needs IDR0.HYP; 0b01 and 0b11 are reserved. */
            return smmu_bad_ste(ev, sid, ssid, "STRW other than NS-EL1");
        }
        if (ste->s1ctxptr >> (ste->s2 ? 48 : s->oas)) {
            return smmu_bad_ste(ev, sid, ssid, "S1ContextPtr out of range");
        }
    }
    if (ste->s2) {
        static const uint8_t tg[4] = { 12, 16, 14, 0 };

        c->fmt = IOASID_FMT_ARM_S2;
        c->root = STE_S2TTB(w[3]);
        c->arm_granule = tg[STE_S2TG(w[2])];
        c->arm_tsz = STE_S2T0SZ(w[2]);
        c->arm_sl0 = STE_S2SL0(w[2]);
        c->oas = smmu_decode_pa(s, STE_S2PS(w[2]));
        c->arm_aa64 = STE_S2AA64(w[2]);
        c->arm_affd = STE_S2AFFD(w[2]);
        c->arm_ha = STE_S2HA(w[2]);
        c->arm_hd = STE_S2HD(w[2]);
        ste->s2r = STE_S2R(w[2]);
        if (!c->arm_aa64) {
            return smmu_bad_ste(ev, sid, ssid, "S2AA64 == 0 (TTF AArch64)");
        }
        if (STE_S2ENDI(w[2])) {
            return smmu_bad_ste(ev, sid, ssid, "big-endian stage 2 tables");
        }
        if (STE_S2S(w[2])) {
            return smmu_bad_ste(ev, sid, ssid, "S2S == 1 (no stall model)");
        }
        if (!smmu_granule_ok(s, c->arm_granule)) {
            return smmu_bad_ste(ev, sid, ssid, "unsupported S2TG");
        }
        if (c->root >> c->oas) {
            /* Address size fault on each walk, as the walker reports. */
        } else {
            IoasidPgtCfg chk = *c;

            chk.root &= ~0xffffULL;     /* alignment is RES0 territory */
            err = ioasid_pgt_cfg_check(&chk);
            if (err) {
                return smmu_bad_ste(ev, sid, ssid, err);
            }
        }
    }
    return true;
}

/* The STE of @sid: cached, or fetched and decoded. */
static const SmmuSte *smmu_get_ste(IoasidSMMUv3State *s, uint32_t sid,
                                   uint32_t ssid, SmmuEvent *ev)
{
    SmmuSte *ste = g_hash_table_lookup(s->ste_cache, GUINT_TO_POINTER(sid));
    uint64_t addr, w[8];

    if (ste) {
        return ste;
    }
    if (!smmu_find_ste(s, sid, ssid, &addr, ev)) {
        return NULL;
    }
    if (!smmu_read_words(addr, w, 8)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: STE fetch abort at "
                      "0x%" PRIx64 "\n", addr);
        smmu_event_init(ev, EVT_F_STE_FETCH, sid, ssid);
        ev->w[3] = addr & EVT3_FETCH_MASK;
        return NULL;
    }
    ste = g_new(SmmuSte, 1);
    if (!smmu_decode_ste(s, w, sid, ssid, ste, ev)) {
        g_free(ste);
        return NULL;
    }
    trace_ioasid_smmuv3_ste(sid, addr, ste->config, ste->vmid);
    if (g_hash_table_size(s->ste_cache) >= SMMU_CFG_CACHE_MAX) {
        g_hash_table_remove_all(s->ste_cache);
    }
    g_hash_table_insert(s->ste_cache, GUINT_TO_POINTER(sid), ste);
    return ste;
}

/* ---------------------------------------------------------------------- */
/* CD tables and CD (5.3, 5.4)                                            */
/* ---------------------------------------------------------------------- */

static void smmu_fault_event(const SmmuSte *ste, const SmmuCd *cd,
                             const IoasidFault *f, uint32_t sid,
                             uint32_t ssid, uint8_t access, bool priv,
                             uint64_t iova, int cd_class, SmmuEvent *ev);

/*
 * Read @len bytes of a CD table at @addr, an IPA translated by stage 2
 * when it is enabled.  False with @ev set: F_CD_FETCH, or a stage-2 fault
 * of class CD.
 */
static bool smmu_cd_read(IoasidSMMUv3State *s, const SmmuSte *ste,
                         uint64_t addr, uint64_t *w, unsigned nwords,
                         uint32_t sid, uint32_t ssid, SmmuEvent *ev)
{
    uint64_t pa = addr;

    if (ste->s2) {
        IoasidResult res;
        IoasidFault f;

        if (ioasid_walk(&ste->s2cfg, &smmu_memops, addr, IOASID_PERM_READ,
                        false, false, &res, &f)) {
            smmu_fault_event(ste, NULL, &f, sid, ssid, IOASID_PERM_READ,
                             false, addr, EVT_CLASS_CD, ev);
            return false;
        }
        pa = res.out;
    }
    if (!smmu_read_words(pa, w, nwords)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: CD fetch abort at "
                      "0x%" PRIx64 "\n", pa);
        smmu_event_init(ev, EVT_F_CD_FETCH, sid, ssid);
        ev->w[3] = pa & EVT3_FETCH_MASK;
        return false;
    }
    return true;
}

static bool smmu_bad_cd(SmmuEvent *ev, uint32_t sid, uint32_t ssid,
                        const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: C_BAD_CD sid 0x%x ssid "
                  "0x%x: %s\n", sid, ssid, why);
    smmu_event_init(ev, EVT_C_BAD_CD, sid, ssid);
    return false;
}

/* Make a disabled half of the address space decodable by the walker. */
static void smmu_cd_sanitize_half(IoasidSMMUv3State *s, uint8_t *g,
                                  uint8_t *tsz)
{
    if (!smmu_granule_ok(s, *g)) {
        *g = 12;
    }
    if (*tsz < 16 || *tsz > 47) {
        *tsz = 16;
    }
}

static bool smmu_decode_cd(IoasidSMMUv3State *s, const SmmuSte *ste,
                           const uint64_t *w, uint32_t sid, uint32_t ssid,
                           SmmuCd *cd, SmmuEvent *ev)
{
    static const uint8_t tg0[4] = { 12, 16, 14, 0 };
    static const uint8_t tg1[4] = { 0, 14, 12, 16 };
    IoasidPgtCfg *c = &cd->s1cfg;
    IoasidPgtCfg chk;
    const char *err;

    memset(cd, 0, sizeof(*cd));
    if (!CD_V(w[0])) {
        return smmu_bad_cd(ev, sid, ssid, "V == 0");
    }
    if (!CD_AA64(w[0])) {
        return smmu_bad_cd(ev, sid, ssid, "AA64 == 0 (TTF AArch64)");
    }
    if (CD_ENDI(w[0])) {
        return smmu_bad_cd(ev, sid, ssid, "big-endian tables");
    }
    if (CD_S(w[0])) {
        return smmu_bad_cd(ev, sid, ssid, "S == 1 (no stall model)");
    }
    cd->asid = CD_ASID(w[0]);
    cd->r = CD_R(w[0]);
    c->fmt = IOASID_FMT_ARM_S1;
    c->arm_aa64 = true;
    c->root = CD_TTB(w[1]);
    c->root1 = CD_TTB(w[2]);
    c->arm_granule = tg0[CD_TG0(w[0])];
    c->arm_granule1 = tg1[CD_TG1(w[0])];
    c->arm_tsz = CD_T0SZ(w[0]);
    c->arm_t1sz = CD_T1SZ(w[0]);
    c->arm_epd0 = CD_EPD0(w[0]);
    c->arm_epd1 = CD_EPD1(w[0]);
    c->arm_ttb1_valid = !c->arm_epd1;
    c->arm_affd = CD_AFFD(w[0]);
    c->arm_ha = CD_HA(w[0]);
    c->arm_hd = CD_HD(w[0]);
    /* IPS beyond the OAS (or the IAS under stage 2) is capped. */
    c->oas = smmu_decode_pa(s, CD_IPS(w[0]));

    if ((!c->arm_epd0 && c->arm_tsz < 16) ||
        (!c->arm_epd1 && c->arm_t1sz < 16)) {
        return smmu_bad_cd(ev, sid, ssid, "TxSZ < 16 needs IDR5.VAX");
    }
    if (!c->arm_epd0 && !smmu_granule_ok(s, c->arm_granule)) {
        return smmu_bad_cd(ev, sid, ssid, "unsupported TG0");
    }
    if (!c->arm_epd1 && !smmu_granule_ok(s, c->arm_granule1)) {
        return smmu_bad_cd(ev, sid, ssid, "unsupported TG1");
    }
    if (c->arm_epd0) {
        smmu_cd_sanitize_half(s, &c->arm_granule, &c->arm_tsz);
    }
    if (c->arm_epd1) {
        smmu_cd_sanitize_half(s, &c->arm_granule1, &c->arm_t1sz);
    }
    /* Geometry only: an out-of-range TTB gives F_ADDR_SIZE at walk time. */
    chk = *c;
    chk.root = chk.root1 = 0;
    err = ioasid_pgt_cfg_check(&chk);
    if (err) {
        return smmu_bad_cd(ev, sid, ssid, err);
    }
    return true;
}

/*
 * The CD for (@sid, @idx): cached, or fetched through the STE's CD table.
 * @ssid is the request's SubstreamID for event records.
 */
static const SmmuCd *smmu_get_cd(IoasidSMMUv3State *s, const SmmuSte *ste,
                                 uint32_t sid, uint32_t idx, uint32_t ssid,
                                 SmmuEvent *ev)
{
    uint64_t key = smmu_cd_key(sid, idx), addr, w[8];
    SmmuCd *cd = g_hash_table_lookup(s->cd_cache, &key);
    uint64_t *k;

    if (cd) {
        return cd;
    }
    addr = ste->s1ctxptr;
    if (ste->s1cdmax && ste->s1fmt != STE_S1FMT_LINEAR) {
        unsigned split = ste->s1fmt == STE_S1FMT_4K_L2 ? 6 : 10;
        uint64_t l1;

        if (!smmu_cd_read(s, ste, addr + (uint64_t)(idx >> split) * 8, &l1,
                          1, sid, ssid, ev)) {
            return NULL;
        }
        if (!L1CD_V(l1)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: sid 0x%x ssid "
                          "0x%x: L1CD.V == 0\n", sid, idx);
            smmu_event_init(ev, EVT_C_BAD_SUBSTREAMID, sid, ssid);
            return NULL;
        }
        addr = L1CD_L2PTR(l1) +
               (uint64_t)(idx & ((1u << split) - 1)) * CD_SIZE;
    } else {
        addr += (uint64_t)idx * CD_SIZE;
    }
    if (!smmu_cd_read(s, ste, addr, w, 8, sid, ssid, ev)) {
        return NULL;
    }
    cd = g_new(SmmuCd, 1);
    if (!smmu_decode_cd(s, ste, w, sid, ssid, cd, ev)) {
        g_free(cd);
        return NULL;
    }
    trace_ioasid_smmuv3_cd(sid, idx, addr, cd->asid);
    if (g_hash_table_size(s->cd_cache) >= SMMU_CFG_CACHE_MAX) {
        g_hash_table_remove_all(s->cd_cache);
    }
    k = g_new(uint64_t, 1);
    *k = key;
    g_hash_table_insert(s->cd_cache, k, cd);
    return cd;
}

/* ---------------------------------------------------------------------- */
/* Translation                                                            */
/* ---------------------------------------------------------------------- */

/* Map a core fault to an SMMUv3 event record (7.3.10 - 7.3.14). */
static void smmu_fault_event(const SmmuSte *ste, const SmmuCd *cd,
                             const IoasidFault *f, uint32_t sid,
                             uint32_t ssid, uint8_t access, bool priv,
                             uint64_t iova, int cd_class, SmmuEvent *ev)
{
    bool s2 = f->stage == 2;
    uint8_t type;
    int class;

    switch (f->reason) {
    case IOASID_FAULT_PERMISSION:
        type = EVT_F_PERMISSION;
        break;
    case IOASID_FAULT_ADDR_SIZE:
        type = EVT_F_ADDR_SIZE;
        break;
    case IOASID_FAULT_ACCESS_FLAG:
        type = EVT_F_ACCESS;
        break;
    case IOASID_FAULT_EXT_ABORT:
        type = EVT_F_WALK_EABT;
        break;
    case IOASID_FAULT_CONFIG:
        /* Decoders validate the geometry; kept as a safety net. */
        type = s2 ? EVT_C_BAD_STE : EVT_C_BAD_CD;
        break;
    default:
        type = EVT_F_TRANSLATION;
        break;
    }
    smmu_event_init(ev, type, sid, ssid);
    if (type == EVT_C_BAD_STE || type == EVT_C_BAD_CD) {
        return;
    }
    if (cd_class >= 0) {
        class = cd_class;
    } else {
        class = s2 && f->s2_on_s1_walk ? EVT_CLASS_TT : EVT_CLASS_IN;
    }
    ev->w[1] = ((uint64_t)class << EVT1_CLASS_SHIFT) |
               (s2 ? EVT1_S2 : 0) |
               (priv ? EVT1_PNU : 0) |
               (access & IOASID_PERM_EXEC ? EVT1_IND : 0) |
               (access & IOASID_PERM_WRITE ? 0 : EVT1_RNW);
    if (class == EVT_CLASS_TT && !(f->access & IOASID_PERM_WRITE)) {
        ev->w[1] |= EVT1_TTRNW;
    }
    ev->w[2] = iova;
    if (type == EVT_F_WALK_EABT) {
        ev->w[3] = f->entry_addr & EVT3_FETCH_MASK;
    } else if (s2) {
        ev->w[3] = f->input_addr & EVT3_IPA_MASK;
    }
    /*
     * External aborts are always recorded; translation-related faults
     * only when CD.R / STE.S2R ask for it.
     */
    if (type != EVT_F_WALK_EABT) {
        ev->record = s2 ? ste->s2r : (cd && cd->r);
    }
}

/*
 * Translate @iova for StreamID @sid, SubstreamID @ssid (IOASID_NO_PASID
 * for none).  SMMU_TR_OK fills @res; SMMU_TR_ABORT leaves the event (if
 * any: ev->type != 0) in @ev for the caller to record.
 */
static SmmuTrStatus smmu_translate(IoasidSMMUv3State *s, uint32_t sid,
                                   uint32_t ssid, uint64_t iova,
                                   uint8_t access, bool priv, bool ats,
                                   IoasidResult *res, SmmuEvent *ev)
{
    const SmmuSte *ste;
    const SmmuCd *cd = NULL;
    const IoasidIotlbEntry *e;
    IoasidIotlbTag tag;
    IoasidFault f;
    bool s1, s2;
    uint32_t idx;
    int rc;

    memset(ev, 0, sizeof(*ev));
    if (!FIELD_EX32(s->cr0, CR0, SMMUEN)) {
        /* 6.3.14 GBPA: global bypass or abort, no event. */
        if (ats || FIELD_EX32(s->gbpa, GBPA, ABORT)) {
            return SMMU_TR_ABORT;
        }
        goto identity;
    }
    ste = smmu_get_ste(s, sid, ssid, ev);
    if (!ste) {
        return SMMU_TR_ABORT;
    }
    if (ats && !ste->eats) {
        /* 3.9.1: ATS not enabled for the stream (EATS 0, bypass, abort). */
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: sid 0x%x: ATS "
                      "translation request with STE.EATS == 0\n", sid);
        smmu_event_init(ev, EVT_F_BAD_ATS_TREQ, sid, ssid);
        ev->w[1] = (priv ? EVT1_PNU : 0) |
                   (access & IOASID_PERM_EXEC ? EVT1_IND : 0) |
                   (access & IOASID_PERM_WRITE ? 0 : EVT1_RNW);
        ev->w[2] = iova;
        return SMMU_TR_ABORT;
    }
    if (ste->config == STE_CFG_ABORT) {
        return SMMU_TR_ABORT;       /* silently, no event */
    }
    s1 = ste->s1;
    s2 = ste->s2;
    idx = 0;
    if (s1) {
        if (ssid != IOASID_NO_PASID) {
            if (!ste->s1cdmax || ssid >= (1u << ste->s1cdmax) ||
                (ssid == 0 && ste->s1dss == STE_S1DSS_SSID0)) {
                qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: sid 0x%x: "
                              "SubstreamID 0x%x out of range (S1CDMax %u)\n",
                              sid, ssid, ste->s1cdmax);
                smmu_event_init(ev, EVT_C_BAD_SUBSTREAMID, sid, ssid);
                return SMMU_TR_ABORT;
            }
            idx = ssid;
        } else if (ste->s1cdmax) {
            switch (ste->s1dss) {
            case STE_S1DSS_TERMINATE:
                smmu_event_init(ev, EVT_F_STREAM_DISABLED, sid, ssid);
                return SMMU_TR_ABORT;
            case STE_S1DSS_BYPASS:
                s1 = false;
                break;
            default:
                idx = 0;
                break;
            }
        }
    } else if (ssid != IOASID_NO_PASID) {
        /*
         * A SubstreamID needs stage 1 (Config[0]): bypass and S2-only
         * STEs take it as if S1CDMax were 0.
         */
        smmu_event_init(ev, EVT_C_BAD_SUBSTREAMID, sid, ssid);
        return SMMU_TR_ABORT;
    }
    if (!s1 && !s2) {
        goto identity;
    }
    if (s1) {
        cd = smmu_get_cd(s, ste, sid, idx, ssid, ev);
        if (!cd) {
            return SMMU_TR_ABORT;
        }
    }
    /* 3.17: TLB entries are tagged by VMID and (stage 1) ASID. */
    tag.domain = ste->vmid;
    tag.as_tag = s1 ? cd->asid : IOASID_TAG_NONE;
    tag.kind = (s1 && s2 ? IOASID_KIND_NESTED : s1 ? IOASID_KIND_S1
                                                   : IOASID_KIND_S2) |
               (priv ? IOASID_IOTLB_PRIV : 0);
    /* ATS requests report the table's permissions: always walked. */
    e = ats ? NULL : ioasid_iotlb_lookup(s->iotlb, &tag, iova, false);
    if (e && !(access & ~e->perms)) {
        uint64_t mask = (1ULL << e->page_shift) - 1;

        ioasid_iotlb_count_lookup(s->iotlb, true, false);
        res->out = (e->out & ~mask) | (iova & mask);
        res->page_shift = e->page_shift;
        res->perms = e->perms;
        res->levels_walked = 0;
        trace_ioasid_smmuv3_translate(sid, ssid, iova, res->out, 1);
        return SMMU_TR_OK;
    }
    if (!ats) {
        ioasid_iotlb_count_lookup(s->iotlb, false, e != NULL);
    }
    ioasid_iotlb_count_walk(s->iotlb);
    if (s1 && s2) {
        rc = ioasid_walk_nested(&cd->s1cfg, &ste->s2cfg, &smmu_memops, iova,
                                access, priv, ats, res, &f);
    } else {
        rc = ioasid_walk(s1 ? &cd->s1cfg : &ste->s2cfg, &smmu_memops, iova,
                         access, priv, ats, res, &f);
        if (rc && !s1) {
            f.stage = 2;
        }
    }
    if (rc) {
        trace_ioasid_smmuv3_fault(sid, ssid, iova, f.stage, f.level,
                                  ioasid_fault_reason_str(f.reason));
        smmu_fault_event(ste, cd, &f, sid, ssid, access, priv, iova, -1, ev);
        if (ats && ev->type >= EVT_F_TRANSLATION &&
            ev->type <= EVT_F_PERMISSION) {
            /* 3.9.1: answered with R = W = 0, not recorded. */
            ev->record = false;
        }
        return SMMU_TR_ABORT;
    }
    if (ats) {
        trace_ioasid_smmuv3_translate(sid, ssid, iova, res->out, 0);
        return SMMU_TR_OK;
    }
    /*
     * A walk for a read did not set the dirty state: such an entry must
     * not serve writes (they walk again, and mark the page dirty).
     */
    ioasid_iotlb_insert(s->iotlb, &tag, iova, res->out, res->page_shift,
                        access & IOASID_PERM_WRITE ? res->perms
                        : res->perms & ~IOASID_PERM_WRITE);
    trace_ioasid_smmuv3_translate(sid, ssid, iova, res->out, 0);
    return SMMU_TR_OK;

identity:
    if (iova >> s->oas) {
        /* Bypass output beyond the OAS: an address size error (abort). */
        return SMMU_TR_ABORT;
    }
    res->out = iova;
    res->page_shift = 12;
    res->perms = IOASID_PERM_READ | IOASID_PERM_WRITE | IOASID_PERM_EXEC;
    res->levels_walked = 0;
    return SMMU_TR_OK;
}

/* Translate and record the fault, if any.  True when translated. */
static bool smmu_translate_and_record(IoasidSMMUv3State *s, uint32_t sid,
                                      uint32_t ssid, uint64_t iova,
                                      uint8_t access, bool priv,
                                      IoasidResult *res)
{
    SmmuEvent ev;

    if (smmu_translate(s, sid, ssid, iova, access, priv, false, res, &ev) ==
        SMMU_TR_OK) {
        return true;
    }
    if (ev.type) {
        smmu_record_event(s, &ev);
    }
    return false;
}

/* ---- QEMU's IOMMUMemoryRegion path (RID-only DMA) ---- */

static IOMMUTLBEntry smmu_mr_translate(IOMMUMemoryRegion *iommu,
                                       hwaddr addr, IOMMUAccessFlags flag,
                                       int iommu_idx)
{
    IoasidSMMUv3Device *sdev = container_of(iommu, IoasidSMMUv3Device,
                                            iommu);
    uint32_t sid = PCI_BUILD_BDF(pci_bus_num(sdev->bus), sdev->devfn);
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr,
        .translated_addr = addr,
        .addr_mask = 0xfff,
        .perm = IOMMU_NONE,
    };
    uint8_t access = 0;
    IoasidResult res;

    if (flag & IOMMU_RO) {
        access |= IOASID_PERM_READ;
    }
    if (flag & IOMMU_WO) {
        access |= IOASID_PERM_WRITE;
    }
    if (!access) {
        access = IOASID_PERM_READ;
    }
    if (!smmu_translate_and_record(sdev->smmu, sid, IOASID_NO_PASID, addr,
                                   access, false, &res)) {
        return entry;
    }
    entry.addr_mask = (1ULL << res.page_shift) - 1;
    entry.iova = addr & ~entry.addr_mask;
    entry.translated_addr = res.out & ~entry.addr_mask;
    entry.perm = ((res.perms & IOASID_PERM_READ) ? IOMMU_RO : 0) |
                 ((res.perms & IOASID_PERM_WRITE) ? IOMMU_WO : 0);
    return entry;
}

static int smmu_mr_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                       IOMMUNotifierFlag old,
                                       IOMMUNotifierFlag new, Error **errp)
{
    IoasidSMMUv3Device *sdev = container_of(iommu, IoasidSMMUv3Device,
                                            iommu);

    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "ioasid-smmuv3: MAP notifiers (e.g. vfio-pci) are "
                   "not supported");
        return -EINVAL;
    }
    if (old == IOMMU_NOTIFIER_NONE && new != IOMMU_NOTIFIER_NONE) {
        QLIST_INSERT_HEAD(&sdev->smmu->notifier_list, sdev, next);
    } else if (old != IOMMU_NOTIFIER_NONE && new == IOMMU_NOTIFIER_NONE) {
        QLIST_REMOVE(sdev, next);
    }
    return 0;
}

static AddressSpace *smmu_get_address_space(PCIBus *bus, void *opaque,
                                            int devfn)
{
    IoasidSMMUv3State *s = opaque;
    IoasidSMMUv3Device **devs = g_hash_table_lookup(s->devices, bus);
    IoasidSMMUv3Device *sdev;
    char *name;

    if (!devs) {
        devs = g_new0(IoasidSMMUv3Device *, PCI_DEVFN_MAX);
        g_hash_table_insert(s->devices, bus, devs);
    }
    sdev = devs[devfn];
    if (!sdev) {
        sdev = devs[devfn] = g_new0(IoasidSMMUv3Device, 1);
        sdev->smmu = s;
        sdev->bus = bus;
        sdev->devfn = devfn;
        name = g_strdup_printf("ioasid-smmuv3-%s-%02x.%x", bus->qbus.name,
                               PCI_SLOT(devfn), PCI_FUNC(devfn));
        memory_region_init_iommu(&sdev->iommu, sizeof(sdev->iommu),
                                 TYPE_IOASID_SMMUV3_MEMORY_REGION, OBJECT(s),
                                 name, UINT64_MAX);
        address_space_init(&sdev->as, MEMORY_REGION(&sdev->iommu), name);
        g_free(name);
    }
    return &sdev->as;
}

static const PCIIOMMUOps smmu_pci_ops = {
    .get_address_space = smmu_get_address_space,
};

/* ---- qemu-ioasid (RID, PASID) DMA path ---- */

static IoasidDmaStatus smmu_ioasid_dma_rw(IoasidIOMMU *iommu,
                                          const IoasidDmaRequest *req,
                                          void *buf, DMADirection dir,
                                          uint64_t *fault_addr)
{
    IoasidSMMUv3State *s = IOASID_SMMUV3(iommu);
    bool write = dir == DMA_DIRECTION_FROM_DEVICE;
    uint8_t access = write ? IOASID_PERM_WRITE : IOASID_PERM_READ;
    IoasidResult res;

    if (req->exec) {
        access |= IOASID_PERM_EXEC;
    }
    if (!smmu_translate_and_record(s, req->rid, req->pasid, req->addr,
                                   access, req->priv, &res)) {
        *fault_addr = req->addr;
        return IOASID_DMA_FAULT;
    }
    if (address_space_rw(&address_space_memory, res.out,
                         MEMTXATTRS_UNSPECIFIED, buf, req->len,
                         write) != MEMTX_OK) {
        *fault_addr = req->addr;
        return IOASID_DMA_FAULT;
    }
    return IOASID_DMA_OK;
}

/*
 * ATS Translation Request (3.9): translated through the stream's stages
 * without a permission check; the completion carries the permissions.
 */
static IoasidDmaStatus smmu_ioasid_ats_translate(IoasidIOMMU *iommu,
                                                 const IoasidDmaRequest *req,
                                                 bool no_write,
                                                 IoasidAtsCompletion *cpl)
{
    IoasidSMMUv3State *s = IOASID_SMMUV3(iommu);
    uint8_t access = IOASID_PERM_READ | (no_write ? 0 : IOASID_PERM_WRITE) |
                     (req->exec ? IOASID_PERM_EXEC : 0);
    IoasidResult res;
    SmmuEvent ev;
    uint64_t size;

    if (!FIELD_EX32(s->idr[0], IDR0, ATS)) {
        return IOASID_DMA_UNSUPPORTED;
    }
    if (smmu_translate(s, req->rid, req->pasid, req->addr, access, req->priv,
                       true, &res, &ev) != SMMU_TR_OK) {
        if (ev.type) {
            smmu_record_event(s, &ev);
        }
        /* Translation faults: R = W = 0; others: UR / Completer Abort. */
        return ev.type >= EVT_F_TRANSLATION && ev.type <= EVT_F_PERMISSION ?
               IOASID_DMA_FAULT : IOASID_DMA_UNSUPPORTED;
    }
    size = 1ULL << res.page_shift;
    memset(cpl, 0, sizeof(*cpl));
    cpl->translated = res.out & ~(size - 1);
    cpl->size = size;
    cpl->read = res.perms & IOASID_PERM_READ;
    cpl->write = !no_write && (res.perms & IOASID_PERM_WRITE);
    cpl->exec = req->exec && (res.perms & IOASID_PERM_EXEC);
    cpl->priv = req->priv;
    if (!cpl->read && !cpl->write) {
        return IOASID_DMA_FAULT;
    }
    return IOASID_DMA_OK;
}

/* The PCI function with requester ID @sid below the primary bus. */
static PCIDevice *smmu_find_pci_dev(IoasidSMMUv3State *s, uint32_t sid)
{
    return pci_find_device(s->primary_bus, PCI_BUS_NUM(sid), sid & 0xff);
}

/* ---------------------------------------------------------------------- */
/* Command queue (4)                                                      */
/* ---------------------------------------------------------------------- */

/* Range of a TLBI_*_VA / S2_IPA command: [*start, *last]. */
static void smmu_tlbi_range(IoasidSMMUv3State *s, const uint64_t *cmd,
                            uint64_t addr, uint64_t *start, uint64_t *last)
{
    unsigned tg = CMD_TG(cmd[1]);

    *start = addr;
    if (s->ril && tg) {
        /* 4.4.1.1 range: (NUM + 1) * 2^SCALE pages of the TG granule. */
        unsigned pshift = 12 + 2 * (tg - 1);
        unsigned scale = CMD_SCALE(cmd[0]);
        uint64_t len = (CMD_NUM(cmd[0]) + 1ULL) << pshift;

        *start &= ~((1ULL << pshift) - 1);
        if (scale + pshift + 5 >= 64) {
            *last = UINT64_MAX;                 /* covers everything */
        } else {
            len <<= scale;
            *last = *start + len > *start ? *start + len - 1 : UINT64_MAX;
        }
    } else {
        /* A single address: every entry that contains it. */
        *last = addr;
    }
}

/* Execute one command; returns a CERROR_* code. */
static int smmu_cmd_exec(IoasidSMMUv3State *s, const uint64_t *cmd)
{
    uint8_t op = CMD_OPCODE(cmd[0]);
    uint32_t sid = CMD_SID(cmd[0]);
    uint32_t vmid = smmu_s2p(s) ? CMD_VMID(cmd[0]) : 0;
    uint64_t start, last;

    trace_ioasid_smmuv3_cmd(op, cmd[0], cmd[1]);
    switch (op) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
        /* Prefetches are hints: accepted, nothing is loaded. */
        if (sid >> SMMU_SIDSIZE) {
            return CERROR_ILL;
        }
        return CERROR_NONE;
    case CMD_CFGI_STE:
        if (sid >> SMMU_SIDSIZE) {
            return CERROR_ILL;
        }
        smmu_cfg_inv_sid_range(s, sid, sid);
        return CERROR_NONE;
    case CMD_CFGI_STE_RANGE: {
        unsigned range = CMD_RANGE(cmd[1]);

        if (range == 31) {
            /* CMD_CFGI_ALL */
            smmu_cfg_inv_sid_range(s, 0, UINT32_MAX);
        } else {
            uint64_t n = 2ULL << range;
            uint64_t first = sid & ~(n - 1);

            smmu_cfg_inv_sid_range(s, first, first + n - 1);
        }
        return CERROR_NONE;
    }
    case CMD_CFGI_CD:
        if (sid >> SMMU_SIDSIZE ||
            CMD_SSID(cmd[0]) >> FIELD_EX32(s->idr[1], IDR1, SSIDSIZE)) {
            return CERROR_ILL;
        }
        smmu_cfg_inv_cd(s, sid, CMD_SSID(cmd[0]));
        return CERROR_NONE;
    case CMD_CFGI_CD_ALL: {
        GHashTableIter it;
        gpointer k, v;

        if (sid >> SMMU_SIDSIZE) {
            return CERROR_ILL;
        }
        g_hash_table_iter_init(&it, s->cd_cache);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            if (*(uint64_t *)k >> 20 == sid) {
                g_hash_table_iter_remove(&it);
            }
        }
        smmu_notify_all(s);
        return CERROR_NONE;
    }
    case CMD_TLBI_NH_ALL:
        if (!smmu_s1p(s)) {
            return CERROR_ILL;
        }
        smmu_tlb_inv(s, vmid, IOASID_TAG_ANY, SMMU_KINDS_S1, 0, UINT64_MAX);
        return CERROR_NONE;
    case CMD_TLBI_NH_ASID:
        if (!smmu_s1p(s)) {
            return CERROR_ILL;
        }
        smmu_tlb_inv(s, vmid, CMD_ASID(cmd[0]), SMMU_KINDS_S1, 0,
                     UINT64_MAX);
        return CERROR_NONE;
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_NH_VAA:
        if (!smmu_s1p(s)) {
            return CERROR_ILL;
        }
        smmu_tlbi_range(s, cmd, CMD_VA(cmd[1]), &start, &last);
        smmu_tlb_inv(s, vmid, op == CMD_TLBI_NH_VA ? CMD_ASID(cmd[0])
                                                   : IOASID_TAG_ANY,
                     SMMU_KINDS_S1, start, last);
        return CERROR_NONE;
    case CMD_TLBI_S12_VMALL:
        if (!smmu_s2p(s)) {
            return CERROR_ILL;
        }
        smmu_tlb_inv(s, vmid, IOASID_TAG_ANY, IOASID_KINDS_ALL, 0,
                     UINT64_MAX);
        return CERROR_NONE;
    case CMD_TLBI_S2_IPA:
        if (!smmu_s2p(s)) {
            return CERROR_ILL;
        }
        /* Stage-2-only entries; combined ones need TLBI_NH_* / S12. */
        smmu_tlbi_range(s, cmd, CMD_ADDR(cmd[1]), &start, &last);
        smmu_tlb_inv(s, vmid, IOASID_TAG_NONE, SMMU_KINDS_S2, start, last);
        return CERROR_NONE;
    case CMD_TLBI_NSNH_ALL:
        smmu_tlb_inv(s, IOASID_TAG_ANY, IOASID_TAG_ANY, IOASID_KINDS_ALL, 0,
                     UINT64_MAX);
        return CERROR_NONE;
    case CMD_ATC_INV: {
        unsigned size = CMD_ATC_SIZE(cmd[1]);
        uint64_t addr = CMD_VA(cmd[1]);
        uint64_t len = size >= 52 ? 0 : 4096ULL << size;
        PCIDevice *dev;

        if (!FIELD_EX32(s->idr[0], IDR0, ATS) || sid >> SMMU_SIDSIZE ||
            (CMD_SSV(cmd[0]) &&
             CMD_SSID(cmd[0]) >> FIELD_EX32(s->idr[1], IDR1, SSIDSIZE))) {
            return CERROR_ILL;
        }
        if (!len) {
            addr = 0;
            len = UINT64_MAX;   /* the whole address space */
        } else {
            addr &= ~(len - 1);
        }
        dev = smmu_find_pci_dev(s, sid);
        trace_ioasid_smmuv3_atc_inv(sid, CMD_SSV(cmd[0]) ? CMD_SSID(cmd[0])
                                    : IOASID_NO_PASID, addr, len, dev != NULL);
        if (dev) {
            /* Completes at once: CMD_SYNC has nothing to wait for. */
            ioasid_pci_ats_invalidate(dev, CMD_SSV(cmd[0]) ? CMD_SSID(cmd[0])
                                      : IOASID_PCI_NO_PASID, addr, len,
                                      CMD_ATC_GLOBAL(cmd[0]));
        }
        return CERROR_NONE;
    }
    case CMD_SYNC: {
        unsigned cs = CMD_SYNC_CS(cmd[0]);

        if (cs == 3) {
            return CERROR_ILL;
        }
        if (cs == CMD_SYNC_SIG_IRQ) {
            uint64_t addr = CMD_SYNC_MSIADDR(cmd[1]);

            if (addr) {
                MemTxResult r;

                address_space_stl_le(&address_space_memory, addr,
                                     CMD_SYNC_MSIDATA(cmd[0]),
                                     MEMTXATTRS_UNSPECIFIED, &r);
                if (r != MEMTX_OK) {
                    smmu_gerror(s, R_GERROR_MSI_CMDQ_ABT_ERR_MASK);
                }
            } else {
                qemu_irq_pulse(s->irq[SMMU_IRQ_CMD_SYNC]);
            }
        }
        /* SIG_SEV: there is no PE event to send here. */
        return CERROR_NONE;
    }
    default:
        /*
         * EL2/EL3 TLBIs (no IDR0.HYP, no secure state), PRI_RESP (no
         * IDR0.PRI), RESUME / STALL_TERM (no
         * stall model), CFGI_VMS_PIDM and unknown opcodes.
         */
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: illegal command "
                      "0x%02x\n", op);
        return CERROR_ILL;
    }
}

/*
 * Consume commands from CMDQ_CONS up to CMDQ_PROD (bounded by the queue
 * size), stopping at the first error.
 */
static void smmu_cmdq_run(IoasidSMMUv3State *s)
{
    IoasidSMMUv3Queue *q = &s->cmdq;
    unsigned n = smmu_q_log2size(q, SMMU_CMDQS);
    uint64_t budget = 1ULL << n;
    uint32_t prod = q->prod & ((2u << n) - 1);

    if (!FIELD_EX32(s->cr0, CR0, CMDQEN) || smmu_cmdq_error_active(s) ||
        s->in_cmdq) {
        return;
    }
    s->in_cmdq = true;
    while (budget-- && !smmu_q_empty(prod, q->cons, n)) {
        uint32_t cons = q->cons & ((2u << n) - 1);
        uint64_t addr = (q->base & SMMU_Q_BASE_ADDR_MASK) +
                        (uint64_t)smmu_q_idx(cons, n) * 16;
        uint64_t cmd[2];
        int err;

        if (!smmu_read_words(addr, cmd, 2)) {
            err = CERROR_ABT;
        } else {
            err = smmu_cmd_exec(s, cmd);
        }
        if (err) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: command error %d "
                          "at CMDQ index 0x%x\n", err, cons);
            q->cons = FIELD_DP32(cons, CMDQ_CONS, ERR, err);
            smmu_gerror(s, R_GERROR_CMDQ_ERR_MASK);
            break;
        }
        q->cons = smmu_q_inc(cons, n);
    }
    s->in_cmdq = false;
}

/* ---------------------------------------------------------------------- */
/* Registers (6.3)                                                        */
/* ---------------------------------------------------------------------- */

static uint64_t smmu_reg_read(IoasidSMMUv3State *s, hwaddr off)
{
    switch (off) {
    case A_IDR0 ... A_IDR5:
        return s->idr[(off - A_IDR0) / 4];
    case A_IIDR:
        return 0;
    case A_AIDR:
        return 0x02;            /* SMMUv3.2 */
    case A_CR0:
    case A_CR0ACK:
        return s->cr0;
    case A_CR1:
        return s->cr1;
    case A_CR2:
        return s->cr2;
    case A_STATUSR:
        return 0;
    case A_GBPA:
        return s->gbpa;
    case A_AGBPA:
        return 0;
    case A_IRQ_CTRL:
    case A_IRQ_CTRLACK:
        return s->irq_ctrl;
    case A_GERROR:
        return s->gerror;
    case A_GERRORN:
        return s->gerrorn;
    case A_GERROR_IRQ_CFG0:
        return s->gerror_irq_cfg0;
    case A_GERROR_IRQ_CFG0 + 4:
        return s->gerror_irq_cfg0 >> 32;
    case A_GERROR_IRQ_CFG1:
        return s->gerror_irq_cfg1;
    case A_GERROR_IRQ_CFG2:
        return s->gerror_irq_cfg2;
    case A_STRTAB_BASE:
        return s->strtab_base;
    case A_STRTAB_BASE + 4:
        return s->strtab_base >> 32;
    case A_STRTAB_BASE_CFG:
        return s->strtab_base_cfg;
    case A_CMDQ_BASE:
        return s->cmdq.base;
    case A_CMDQ_BASE + 4:
        return s->cmdq.base >> 32;
    case A_CMDQ_PROD:
        return s->cmdq.prod;
    case A_CMDQ_CONS:
        return s->cmdq.cons;
    case A_EVENTQ_BASE:
        return s->eventq.base;
    case A_EVENTQ_BASE + 4:
        return s->eventq.base >> 32;
    case A_EVENTQ_PROD:
    case A_EVENTQ_PROD_PAGE1:
        return s->eventq.prod;
    case A_EVENTQ_CONS:
    case A_EVENTQ_CONS_PAGE1:
        return s->eventq.cons;
    case A_EVENTQ_IRQ_CFG0:
        return s->eventq_irq_cfg0;
    case A_EVENTQ_IRQ_CFG0 + 4:
        return s->eventq_irq_cfg0 >> 32;
    case A_EVENTQ_IRQ_CFG1:
        return s->eventq_irq_cfg1;
    case A_EVENTQ_IRQ_CFG2:
        return s->eventq_irq_cfg2;
    default:
        /* RES0 / PRIQ (not implemented) / IMPLEMENTATION DEFINED */
        return 0;
    }
}

static void smmu_set64(uint64_t *r, hwaddr off, hwaddr base, uint32_t v,
                       uint64_t mask)
{
    if (off == base) {
        *r = deposit64(*r, 0, 32, v);
    } else {
        *r = deposit64(*r, 32, 32, v);
    }
    *r &= mask;
}

static void smmu_reg_write(IoasidSMMUv3State *s, hwaddr off, uint32_t v)
{
    uint32_t old;

    switch (off) {
    case A_CR0:
        old = s->cr0;
        s->cr0 = v & (R_CR0_SMMUEN_MASK | R_CR0_EVENTQEN_MASK |
                      R_CR0_CMDQEN_MASK |
                      (FIELD_EX32(s->idr[0], IDR0, ATS) ? R_CR0_ATSCHK_MASK
                                                        : 0));
        if ((old ^ s->cr0) & R_CR0_SMMUEN_MASK) {
            smmu_notify_all(s);
        }
        smmu_cmdq_run(s);
        return;
    case A_CR1:
        s->cr1 = v & 0xfff;
        return;
    case A_CR2:
        s->cr2 = v & (R_CR2_RECINVSID_MASK | R_CR2_PTM_MASK);
        return;
    case A_GBPA:
        if (v & R_GBPA_UPDATE_MASK) {
            /* The update completes at once: UPDATE reads as 0. */
            s->gbpa = v & 0x1f3f1f;
            smmu_notify_all(s);
        }
        return;
    case A_IRQ_CTRL:
        s->irq_ctrl = v & (R_IRQ_CTRL_GERROR_IRQEN_MASK |
                           R_IRQ_CTRL_EVENTQ_IRQEN_MASK);
        return;
    case A_GERRORN:
        s->gerrorn = v & SMMU_GERROR_ALL;
        smmu_cmdq_run(s);
        return;
    case A_GERROR_IRQ_CFG0:
    case A_GERROR_IRQ_CFG0 + 4:
        smmu_set64(&s->gerror_irq_cfg0, off, A_GERROR_IRQ_CFG0, v,
                   SMMU_IRQ_ADDR_MASK);
        return;
    case A_GERROR_IRQ_CFG1:
        s->gerror_irq_cfg1 = v;
        return;
    case A_GERROR_IRQ_CFG2:
        s->gerror_irq_cfg2 = v & 0x3f;
        return;
    case A_STRTAB_BASE:
    case A_STRTAB_BASE + 4:
    case A_STRTAB_BASE_CFG:
        if (FIELD_EX32(s->cr0, CR0, SMMUEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: stream table "
                          "base written while SMMUEN == 1: ignored\n");
            return;
        }
        if (off == A_STRTAB_BASE_CFG) {
            s->strtab_base_cfg = v & 0x307ff;
        } else {
            smmu_set64(&s->strtab_base, off, A_STRTAB_BASE, v,
                       SMMU_BASE_RA | SMMU_STRTAB_ADDR_MASK);
        }
        return;
    case A_CMDQ_BASE:
    case A_CMDQ_BASE + 4:
        if (FIELD_EX32(s->cr0, CR0, CMDQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: CMDQ_BASE written "
                          "while CMDQEN == 1: ignored\n");
            return;
        }
        smmu_set64(&s->cmdq.base, off, A_CMDQ_BASE, v,
                   SMMU_BASE_RA | SMMU_Q_BASE_ADDR_MASK | 0x1f);
        return;
    case A_CMDQ_PROD:
        s->cmdq.prod = v & SMMU_Q_IDX_MASK;
        smmu_cmdq_run(s);
        return;
    case A_CMDQ_CONS:
        if (FIELD_EX32(s->cr0, CR0, CMDQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: CMDQ_CONS written "
                          "while CMDQEN == 1: ignored\n");
            return;
        }
        s->cmdq.cons = v & SMMU_Q_IDX_MASK;
        return;
    case A_EVENTQ_BASE:
    case A_EVENTQ_BASE + 4:
        if (FIELD_EX32(s->cr0, CR0, EVENTQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: EVENTQ_BASE "
                          "written while EVENTQEN == 1: ignored\n");
            return;
        }
        smmu_set64(&s->eventq.base, off, A_EVENTQ_BASE, v,
                   SMMU_BASE_RA | SMMU_Q_BASE_ADDR_MASK | 0x1f);
        return;
    case A_EVENTQ_PROD:
    case A_EVENTQ_PROD_PAGE1:
        if (FIELD_EX32(s->cr0, CR0, EVENTQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: EVENTQ_PROD "
                          "written while EVENTQEN == 1: ignored\n");
            return;
        }
        s->eventq.prod = v & (SMMU_Q_IDX_MASK | SMMU_Q_OVF);
        return;
    case A_EVENTQ_CONS:
    case A_EVENTQ_CONS_PAGE1:
        s->eventq.cons = v & (SMMU_Q_IDX_MASK | SMMU_Q_OVF);
        return;
    case A_EVENTQ_IRQ_CFG0:
    case A_EVENTQ_IRQ_CFG0 + 4:
        smmu_set64(&s->eventq_irq_cfg0, off, A_EVENTQ_IRQ_CFG0, v,
                   SMMU_IRQ_ADDR_MASK);
        return;
    case A_EVENTQ_IRQ_CFG1:
        s->eventq_irq_cfg1 = v;
        return;
    case A_EVENTQ_IRQ_CFG2:
        s->eventq_irq_cfg2 = v & 0x3f;
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: write 0x%x to "
                      "read-only or reserved offset 0x%" HWADDR_PRIx "\n",
                      v, off);
        return;
    }
}

static uint64_t smmu_mmio_read(void *opaque, hwaddr off, unsigned size)
{
    IoasidSMMUv3State *s = opaque;
    uint64_t v;

    if (off & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: unaligned read at "
                      "0x%" HWADDR_PRIx "\n", off);
        return 0;
    }
    v = smmu_reg_read(s, off) & 0xffffffffULL;
    if (size == 8) {
        v |= smmu_reg_read(s, off + 4) << 32;
    }
    trace_ioasid_smmuv3_read(off, size, v);
    return v;
}

static void smmu_mmio_write(void *opaque, hwaddr off, uint64_t v,
                            unsigned size)
{
    IoasidSMMUv3State *s = opaque;

    trace_ioasid_smmuv3_write(off, size, v);
    if (off & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioasid-smmuv3: unaligned write at "
                      "0x%" HWADDR_PRIx "\n", off);
        return;
    }
    if (size == 8) {
        /*
         * The high word first: a 64-bit base is complete when the low
         * word's side effects (none today) would run.
         */
        smmu_reg_write(s, off + 4, v >> 32);
    }
    smmu_reg_write(s, off, v);
}

static const MemoryRegionOps smmu_mmio_ops = {
    .read = smmu_mmio_read,
    .write = smmu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---------------------------------------------------------------------- */
/* QOM                                                                    */
/* ---------------------------------------------------------------------- */

static void smmu_reset_hold(Object *obj, ResetType type)
{
    IoasidSMMUv3State *s = IOASID_SMMUV3(obj);

    s->cr0 = s->cr1 = s->cr2 = 0;
    s->gbpa = 0;                /* bypass until the driver takes over */
    s->irq_ctrl = 0;
    s->gerror = s->gerrorn = 0;
    s->gerror_irq_cfg0 = 0;
    s->gerror_irq_cfg1 = s->gerror_irq_cfg2 = 0;
    s->strtab_base = 0;
    s->strtab_base_cfg = 0;
    memset(&s->cmdq, 0, sizeof(s->cmdq));
    memset(&s->eventq, 0, sizeof(s->eventq));
    s->eventq_irq_cfg0 = 0;
    s->eventq_irq_cfg1 = s->eventq_irq_cfg2 = 0;
    s->in_cmdq = false;
    smmu_inv_all(s);
}

static bool smmu_parse_granules(IoasidSMMUv3State *s, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(s->granules ? s->granules : "", ",",
                                     -1);
    int i;

    s->idr[5] &= ~(R_IDR5_GRAN4K_MASK | R_IDR5_GRAN16K_MASK |
                   R_IDR5_GRAN64K_MASK);
    for (i = 0; parts[i]; i++) {
        if (!g_ascii_strcasecmp(parts[i], "4k")) {
            s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN4K, 1);
        } else if (!g_ascii_strcasecmp(parts[i], "16k")) {
            s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN16K, 1);
        } else if (!g_ascii_strcasecmp(parts[i], "64k")) {
            s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN64K, 1);
        } else {
            error_setg(errp, "ioasid-smmuv3: granules: unknown '%s' "
                       "(use a comma-separated list of 4k, 16k, 64k)",
                       parts[i]);
            return false;
        }
    }
    if (!(s->idr[5] & (R_IDR5_GRAN4K_MASK | R_IDR5_GRAN16K_MASK |
                       R_IDR5_GRAN64K_MASK))) {
        error_setg(errp, "ioasid-smmuv3: granules: at least one of 4k, "
                   "16k, 64k is needed");
        return false;
    }
    return true;
}

static void smmu_realize(DeviceState *dev, Error **errp)
{
    IoasidSMMUv3State *s = IOASID_SMMUV3(dev);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);
    bool s1, s2;
    unsigned i;
    int enc = -1;

    if (!s->primary_bus) {
        error_setg(errp, "ioasid-smmuv3: the primary-bus link is not set");
        return;
    }
    if (!s->stage || !strcmp(s->stage, "nested")) {
        s1 = s2 = true;
    } else if (!strcmp(s->stage, "1")) {
        s1 = true, s2 = false;
    } else if (!strcmp(s->stage, "2")) {
        s1 = false, s2 = true;
    } else {
        error_setg(errp, "ioasid-smmuv3: stage must be 1, 2 or nested, "
                   "not '%s'", s->stage);
        return;
    }
    if (s->ssidsize > IOASID_PCI_PASID_BITS) {
        error_setg(errp, "ioasid-smmuv3: ssidsize %u > 20", s->ssidsize);
        return;
    }
    for (i = 0; i < ARRAY_SIZE(smmu_pa_bits); i++) {
        if (smmu_pa_bits[i] == s->oas) {
            enc = i;
        }
    }
    if (enc < 0 || s->oas > 48) {
        error_setg(errp, "ioasid-smmuv3: oas must be 32, 36, 40, 42, 44 or "
                   "48 bits, not %u", s->oas);
        return;
    }
    s->oas_enc = enc;

    memset(s->idr, 0, sizeof(s->idr));
    if (!smmu_parse_granules(s, errp)) {
        return;
    }
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, S1P, s1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, S2P, s2);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TTF, 2);       /* AArch64 */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, COHACC, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, HTTU, 2);      /* A and D */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ATS, s->ats);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, NS1ATS, s->ats); /* no split */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ASID16, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, MSI, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, SEV, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, VMID16, s2);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, CD2L, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TTENDIAN, 2);  /* little */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, STALL_MODEL, 1); /* none */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TERM_MODEL, 1); /* abort */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ST_LEVEL, 1);  /* 2-level */
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, SIDSIZE, SMMU_SIDSIZE);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, SSIDSIZE, s->ssidsize);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, EVENTQS, SMMU_EVENTQS);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, CMDQS, SMMU_CMDQS);
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, RIL, s->ril);
    /* Memory attributes are not modelled: STE.S2FWB has nothing to force. */
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, FWB, s->fwb);
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, OAS, s->oas_enc);

    memory_region_init_io(&s->mmio, OBJECT(s), &smmu_mmio_ops, s,
                          TYPE_IOASID_SMMUV3, SMMU_MMIO_SIZE);
    sysbus_init_mmio(sbd, &s->mmio);
    for (i = 0; i < SMMU_NUM_IRQS; i++) {
        sysbus_init_irq(sbd, &s->irq[i]);
    }

    s->devices = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                       g_free);
    s->ste_cache = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                         NULL, g_free);
    s->cd_cache = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        g_free);
    s->iotlb = ioasid_iotlb_new(SMMU_IOTLB_MAX);
    QLIST_INIT(&s->notifier_list);

    if (!ioasid_iommu_register(s->primary_bus, OBJECT(s), errp)) {
        return;
    }
    pci_setup_iommu(s->primary_bus, &smmu_pci_ops, s);
}

static int smmu_post_load(void *opaque, int version_id)
{
    IoasidSMMUv3State *s = opaque;

    smmu_inv_all(s);
    return 0;
}

static const VMStateDescription vmstate_smmu_queue = {
    .name = "ioasid-smmuv3-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, IoasidSMMUv3Queue),
        VMSTATE_UINT32(prod, IoasidSMMUv3Queue),
        VMSTATE_UINT32(cons, IoasidSMMUv3Queue),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_smmu = {
    .name = TYPE_IOASID_SMMUV3,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = smmu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(idr, IoasidSMMUv3State, 6),
        VMSTATE_UINT32(cr0, IoasidSMMUv3State),
        VMSTATE_UINT32(cr1, IoasidSMMUv3State),
        VMSTATE_UINT32(cr2, IoasidSMMUv3State),
        VMSTATE_UINT32(gbpa, IoasidSMMUv3State),
        VMSTATE_UINT32(irq_ctrl, IoasidSMMUv3State),
        VMSTATE_UINT32(gerror, IoasidSMMUv3State),
        VMSTATE_UINT32(gerrorn, IoasidSMMUv3State),
        VMSTATE_UINT64(gerror_irq_cfg0, IoasidSMMUv3State),
        VMSTATE_UINT32(gerror_irq_cfg1, IoasidSMMUv3State),
        VMSTATE_UINT32(gerror_irq_cfg2, IoasidSMMUv3State),
        VMSTATE_UINT64(strtab_base, IoasidSMMUv3State),
        VMSTATE_UINT32(strtab_base_cfg, IoasidSMMUv3State),
        VMSTATE_STRUCT(cmdq, IoasidSMMUv3State, 1, vmstate_smmu_queue,
                       IoasidSMMUv3Queue),
        VMSTATE_STRUCT(eventq, IoasidSMMUv3State, 1, vmstate_smmu_queue,
                       IoasidSMMUv3Queue),
        VMSTATE_UINT64(eventq_irq_cfg0, IoasidSMMUv3State),
        VMSTATE_UINT32(eventq_irq_cfg1, IoasidSMMUv3State),
        VMSTATE_UINT32(eventq_irq_cfg2, IoasidSMMUv3State),
        VMSTATE_END_OF_LIST(),
    },
};

static const Property smmu_properties[] = {
    DEFINE_PROP_LINK("primary-bus", IoasidSMMUv3State, primary_bus,
                     TYPE_PCI_BUS, PCIBus *),
    DEFINE_PROP_STRING("stage", IoasidSMMUv3State, stage),
    DEFINE_PROP_UINT8("ssidsize", IoasidSMMUv3State, ssidsize, 20),
    DEFINE_PROP_UINT8("oas", IoasidSMMUv3State, oas, 44),
    DEFINE_PROP_STRING("granules", IoasidSMMUv3State, granules),
    DEFINE_PROP_BOOL("ril", IoasidSMMUv3State, ril, true),
    DEFINE_PROP_BOOL("fwb", IoasidSMMUv3State, fwb, true),
    DEFINE_PROP_BOOL("ats", IoasidSMMUv3State, ats, true),
};

static void smmu_instance_init(Object *obj)
{
    IoasidSMMUv3State *s = IOASID_SMMUV3(obj);

    /* Default string properties (DEFINE_PROP_STRING has no default). */
    s->stage = g_strdup("nested");
    s->granules = g_strdup("4k,16k,64k");
}

static void smmu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    IoasidIOMMUClass *ic = IOASID_IOMMU_CLASS(klass);

    dc->desc = "qemu-ioasid Arm SMMUv3";
    dc->realize = smmu_realize;
    dc->vmsd = &vmstate_smmu;
    dc->user_creatable = false;     /* created by -M virt,iommu= */
    rc->phases.hold = smmu_reset_hold;
    device_class_set_props(dc, smmu_properties);
    ic->dma_rw = smmu_ioasid_dma_rw;
    ic->ats_translate = smmu_ioasid_ats_translate;
}

static void smmu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = smmu_mr_translate;
    imrc->notify_flag_changed = smmu_mr_notify_flag_changed;
}

static const TypeInfo smmu_types[] = {
    {
        .name = TYPE_IOASID_SMMUV3,
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(IoasidSMMUv3State),
        .instance_init = smmu_instance_init,
        .class_init = smmu_class_init,
        .interfaces = (InterfaceInfo[]) {
            { TYPE_IOASID_IOMMU },
            { }
        },
    },
    {
        .name = TYPE_IOASID_SMMUV3_MEMORY_REGION,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = smmu_mr_class_init,
    },
};

DEFINE_TYPES(smmu_types)
