/*
 * ioasid-vtd: DMA remapping -- root, context and PASID structures.
 *
 * Decodes the VT-d translation structures (spec chapter 9) into the
 * core's IoasidPgtCfg and walks them with the core walkers
 * (hw/ioasid/core/walk.h), caching leaf translations in the core IOTLB
 * tagged with (domain id, PASID).  Successfully decoded root / context /
 * PASID-directory / PASID entries are cached too (the context cache and
 * PASID cache of 6.2.2 / 6.2.3, in one), until a context-cache or
 * PASID-cache invalidation or SRTP; property x-context-cache=off re-reads
 * them on every request instead.
 *
 *   legacy mode (RTADDR.TTM = 00):   root -> context (TT 00/01: SS,
 *                                     TT 10: pass-through)          9.1, 9.3
 *   scalable mode (RTADDR.TTM = 01): root -> scalable-mode context ->
 *                                     PASID directory -> PASID entry
 *                                     (PGTT: FS, SS, nested, PT)  9.2, 9.4-9.6
 *
 * Requests without PASID use the context entry's RID_PASID in scalable
 * mode (ECAP.RPS).  Faults are reported with the reasons of spec 7.1.3.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/pci/pci_bus.h"
#include "exec/address-spaces.h"
#include "system/dma.h"
#include "hw/ioasid/core/walk.h"
#include "vtd-internal.h"
#include "trace.h"

#define VTD_PAGE_MASK           (~0xfffULL)
#define VTD_FS_US_BIT           (1ULL << 2)     /* first-stage U/S (9.7) */

/*
 * ---------------------------------------------------------------------
 * Guest memory access for the walkers: system memory, little endian.
 * ------------------------------------------------------------------
 */
static int vtd_mem_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
    MemTxResult r = address_space_read(&address_space_memory, addr,
                                       MEMTXATTRS_UNSPECIFIED, buf, len);
    return r == MEMTX_OK ? 0 : -1;
}

static int vtd_mem_cmpxchg64(void *opaque, uint64_t addr, uint64_t expect,
                             uint64_t val, uint64_t *cur)
{
    uint64_t now;

    /* Under the BQL, with vCPUs out of the way of DMA emulation. */
    if (vtd_mem_read(opaque, addr, &now, 8)) {
        return -1;
    }
    now = le64_to_cpu(now);
    if (now != expect) {
        *cur = now;
        return 1;
    }
    val = cpu_to_le64(val);
    if (address_space_write(&address_space_memory, addr,
                            MEMTXATTRS_UNSPECIFIED, &val, 8) != MEMTX_OK) {
        return -1;
    }
    return 0;
}

static const IoasidMemOps vtd_memops = {
    .read = vtd_mem_read,
    .cmpxchg64 = vtd_mem_cmpxchg64,
};

static int vtd_read_qwords(uint64_t addr, uint64_t *q, int n)
{
    if (vtd_mem_read(NULL, addr, q, n * 8)) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        q[i] = le64_to_cpu(q[i]);
    }
    return 0;
}

/*
 * ---------------------------------------------------------------------
 * Fault reasons for walker faults.
 * ------------------------------------------------------------------
 */
static uint8_t vtd_walk_reason(bool sm, const IoasidFault *f, bool priv)
{
    bool write = f->access & IOASID_PERM_WRITE;
    bool s1 = f->stage == 1 && !f->s2_on_s1_walk;

    if (!sm) {
        /* Legacy: second stage only (7.1.3, reasons 4h-7h, Ch). */
        switch (f->reason) {
        case IOASID_FAULT_TRANSLATION:
        case IOASID_FAULT_PERMISSION:
            return write ? VTD_FR_WRITE : VTD_FR_READ;
        case IOASID_FAULT_RESERVED:
            return VTD_FR_SS_RSVD;
        case IOASID_FAULT_INPUT_RANGE:
            return VTD_FR_ADDR_BEYOND_AW;
        case IOASID_FAULT_CONFIG:
            return VTD_FR_CE_INVALID;
        default:
            return VTD_FR_SS_ACCESS;
        }
    }
    if (f->s2_on_s1_walk) {
        /* Stage 2 failed on a first-stage table access (nested). */
        switch (f->reason) {
        case IOASID_FAULT_TRANSLATION:
        case IOASID_FAULT_PERMISSION:
            return write ? VTD_FR_SM_FS_NEST_WRITE : VTD_FR_SM_FS_NEST_READ;
        case IOASID_FAULT_INPUT_RANGE:
            return VTD_FR_SM_FS_NEST_MGAW;
        case IOASID_FAULT_RESERVED:
            return VTD_FR_SM_SS_RSVD;
        case IOASID_FAULT_CONFIG:
            return VTD_FR_SM_SS_INVALID;
        default:
            return VTD_FR_SM_SS_ACCESS;
        }
    }
    switch (f->reason) {
    case IOASID_FAULT_TRANSLATION:
        return s1 ? VTD_FR_SM_FS_NP : VTD_FR_SM_SS_NP;
    case IOASID_FAULT_RESERVED:
        return s1 ? VTD_FR_SM_FS_RSVD : VTD_FR_SM_SS_RSVD;
    case IOASID_FAULT_PERMISSION:
        if (s1 && !priv && f->entry && !(f->entry & VTD_FS_US_BIT)) {
            return VTD_FR_SM_US;        /* user request, U/S = 0 */
        }
        if (s1 && (f->access & IOASID_PERM_EXEC)) {
            return VTD_FR_SM_EXEC;
        }
        return write ? VTD_FR_SM_WRITE : VTD_FR_SM_READ;
    case IOASID_FAULT_INPUT_RANGE:
        return s1 ? VTD_FR_SM_NON_CANONICAL : VTD_FR_SM_BEYOND_AW;
    case IOASID_FAULT_ADDR_SIZE:
        return VTD_FR_SM_SS_ADDR;
    case IOASID_FAULT_CONFIG:
        return s1 ? VTD_FR_SM_PTE_INVALID : VTD_FR_SM_SS_INVALID;
    default:
        return s1 ? VTD_FR_SM_FS_ACCESS : VTD_FR_SM_SS_ACCESS;
    }
}

/*
 * ---------------------------------------------------------------------
 * Entry decoding
 * ------------------------------------------------------------------
 */
struct VtdCtx {
    bool fpd;                   /* fault processing disabled */
    bool pt;                    /* pass-through */
    bool nested;
    uint16_t did;
    uint32_t as_tag;            /* IOTLB address-space tag (PASID) */
    IoasidPgtCfg s1, s2;        /* s1 used for FS and nested */
    bool has_s1, has_s2;
};
typedef struct VtdCtx VtdCtx;

#define VTD_CTX_CACHE_MAX       4096

void vtd_ctx_cache_flush(IoasidVtdState *s)
{
    if (s->ctx_cache) {
        g_hash_table_remove_all(s->ctx_cache);
    }
}

/* The decode depends on the request's kind (SRE / ERE / DTE checks). */
static uint64_t vtd_ctx_key(const VtdReq *req)
{
    uint64_t pasid = req->pasid == IOASID_NO_PASID ? 1u << 20 : req->pasid;

    return (uint64_t)req->sid << 32 | pasid << 3 | req->priv << 2 |
           !!(req->access & IOASID_PERM_EXEC) << 1 | req->ats;
}

static bool vtd_aw_ok(IoasidVtdState *s, unsigned aw)
{
    return aw < 5 && (FIELD_EX64(s->cap, CAP, SAGAW) & (1u << aw));
}

static void vtd_ss_cfg(IoasidVtdState *s, IoasidPgtCfg *c, uint64_t root,
                       unsigned aw)
{
    memset(c, 0, sizeof(*c));
    c->fmt = IOASID_FMT_VTD_SS;
    c->root = root;
    c->levels = aw + 2;
    c->oas = vtd_haw(s);
}

/* Legacy mode: root entry, context entry (9.1, 9.3). */
static uint8_t vtd_legacy_ctx(IoasidVtdState *s, const VtdReq *req,
                              VtdCtx *ctx)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    uint64_t re[2], ce[2];
    uint64_t haw_rsvd = ~vtd_haw_mask(s);
    unsigned tt, aw;

    if (req->pasid != IOASID_NO_PASID) {
        return VTD_FR_SM_TTM_PASID;
    }
    if (vtd_read_qwords(s->root + (req->sid >> 8) * 16, re, 2)) {
        return VTD_FR_ROOT_ACCESS;
    }
    if (!FIELD_EX64(re[0], ROOT_LO, P)) {
        return VTD_FR_ROOT_NP;
    }
    if ((re[0] & (MAKE_64BIT_MASK(1, 11) | haw_rsvd)) || re[1]) {
        return VTD_FR_ROOT_RSVD;
    }
    if (vtd_read_qwords((re[0] & R_ROOT_LO_CTP_MASK) +
                        (req->sid & 0xff) * 16, ce, 2)) {
        return VTD_FR_CE_ACCESS;
    }
    /*
     * FPD also covers a not-present entry: "present clear" is a qualified
     * fault found in this entry (Linux tears PASID entries down to FPD
     * only, to silence in-flight DMA).
     */
    ctx->fpd = FIELD_EX64(ce[0], CE_LO, FPD);
    if (!FIELD_EX64(ce[0], CE_LO, P)) {
        return VTD_FR_CE_NP;
    }
    if ((ce[0] & (VTD_CE_LO_RSVD | haw_rsvd)) || (ce[1] & VTD_CE_HI_RSVD)) {
        return VTD_FR_CE_RSVD;
    }
    tt = FIELD_EX64(ce[0], CE_LO, TT);
    aw = FIELD_EX64(ce[1], CE_HI, AW);
    if (req->ats && tt != VTD_TT_SS_DT) {
        return VTD_FR_CE_TT_BLOCKED;    /* translation request, TT != 01b */
    }
    ctx->did = FIELD_EX64(ce[1], CE_HI, DID);
    ctx->as_tag = IOASID_TAG_NONE;
    switch (tt) {
    case VTD_TT_SS_DT:
        if (!x86->dt_supported) {
            return VTD_FR_CE_INVALID;
        }
        /* fall through */
    case VTD_TT_SS:
        if (!vtd_aw_ok(s, aw)) {
            return VTD_FR_CE_INVALID;
        }
        vtd_ss_cfg(s, &ctx->s2, ce[0] & R_CE_LO_SSPTPTR_MASK, aw);
        ctx->has_s2 = true;
        return 0;
    case VTD_TT_PT:
        if (!x86->pt_supported) {
            return VTD_FR_CE_INVALID;
        }
        ctx->pt = true;
        return 0;
    default:
        return VTD_FR_CE_INVALID;
    }
}

/* Scalable mode: root, context, PASID directory, PASID entry (9.2-9.6). */
static uint8_t vtd_sm_ctx(IoasidVtdState *s, const VtdReq *req,
                          VtdCtx *ctx)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    uint64_t haw_rsvd = ~vtd_haw_mask(s);
    uint64_t re[2], ce[4], pde, pe[8], ctp;
    uint8_t devfn = req->sid & 0xff;
    uint32_t pasid = req->pasid;
    unsigned pgtt, aw, fspm;
    bool upper = devfn >= 128;

    if (vtd_read_qwords(s->root + (req->sid >> 8) * 16, re, 2)) {
        return VTD_FR_SM_ROOT_ACCESS;
    }
    if (!(re[upper] & 1)) {
        return VTD_FR_SM_ROOT_NP;
    }
    if (re[upper] & (MAKE_64BIT_MASK(1, 11) | haw_rsvd)) {
        return VTD_FR_SM_ROOT_RSVD;
    }
    ctp = re[upper] & R_ROOT_LO_CTP_MASK;
    if (vtd_read_qwords(ctp + (devfn & 0x7f) * 32, ce, 4)) {
        return VTD_FR_SM_CE_ACCESS;
    }
    ctx->fpd = FIELD_EX64(ce[0], SMCE0, FPD);
    if (!FIELD_EX64(ce[0], SMCE0, P)) {
        return VTD_FR_SM_CE_NP;
    }
    if ((ce[0] & (VTD_SMCE0_RSVD | haw_rsvd)) || (ce[1] & VTD_SMCE1_RSVD) ||
        ce[2] || ce[3]) {
        return VTD_FR_SM_CE_RSVD;
    }
    /* DTE is reserved without ECAP.DT, PRE without ECAP.PRS (always). */
    if ((FIELD_EX64(ce[0], SMCE0, DTE) && !x86->dt_supported) ||
        FIELD_EX64(ce[0], SMCE0, PRE)) {
        return VTD_FR_SM_CE_RSVD;
    }
    if (req->ats && !FIELD_EX64(ce[0], SMCE0, DTE)) {
        return VTD_FR_SM_CE_DTE;
    }
    if (pasid == IOASID_NO_PASID) {
        pasid = FIELD_EX64(ce[1], SMCE1, RID_PASID);
        if (pasid >> s->pasid_bits) {
            return VTD_FR_SM_CE_RID_PASID;
        }
    } else if (!FIELD_EX64(ce[0], SMCE0, PASIDE)) {
        return VTD_FR_SM_CE_PASIDE;
    }
    /* PDTS: the directory has 2^(PDTS + 7) entries of 64 PASIDs each. */
    if ((pasid >> 6) >= (1u << (FIELD_EX64(ce[0], SMCE0, PDTS) + 7))) {
        return VTD_FR_SM_CE_PDTS;
    }
    if (vtd_read_qwords((ce[0] & R_SMCE0_PASIDDIRPTR_MASK) +
                        (pasid >> 6) * 8, &pde, 1)) {
        return VTD_FR_SM_PDE_ACCESS;
    }
    ctx->fpd |= FIELD_EX64(pde, PDE, FPD);
    if (!FIELD_EX64(pde, PDE, P)) {
        return VTD_FR_SM_PDE_NP;
    }
    if (pde & (VTD_PDE_RSVD | haw_rsvd)) {
        return VTD_FR_SM_PDE_RSVD;
    }
    if (vtd_read_qwords((pde & R_PDE_SMPTBLPTR_MASK) + (pasid & 63) * 64,
                        pe, 8)) {
        return VTD_FR_SM_PTE_ACCESS;
    }
    ctx->fpd |= FIELD_EX64(pe[0], PTE0, FPD);
    if (!FIELD_EX64(pe[0], PTE0, P)) {
        return VTD_FR_SM_PTE_NP;
    }
    pgtt = FIELD_EX64(pe[0], PTE0, PGTT);
    aw = FIELD_EX64(pe[0], PTE0, AW);
    fspm = FIELD_EX64(pe[2], PTE2, FSPM);
    if ((pe[0] & VTD_PTE0_RSVD) || (pe[1] & VTD_PTE1_RSVD) ||
        (pe[2] & VTD_PTE2_RSVD) ||
        (FIELD_EX64(pe[0], PTE0, SSADE) && !FIELD_EX64(s->ecap, ECAP, SSADS)) ||
        (FIELD_EX64(pe[2], PTE2, EAFE) && !FIELD_EX64(s->ecap, ECAP, EAFS))) {
        return VTD_FR_SM_PTE_RSVD;
    }
    /* Table pointers beyond the host address width (SSL.4, SFS.4). */
    if ((pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED) &&
        (pe[0] & haw_rsvd)) {
        return VTD_FR_SM_SS_INVALID;
    }
    if ((pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED) &&
        (pe[2] & haw_rsvd)) {
        return VTD_FR_SM_FSPTPTR;
    }
    ctx->did = FIELD_EX64(pe[1], PTE1, DID);
    ctx->as_tag = pasid;

    switch (pgtt) {
    case VTD_PGTT_PT:
        if (!x86->pt_supported) {
            return VTD_FR_SM_PTE_INVALID;
        }
        ctx->pt = true;
        return 0;
    case VTD_PGTT_SS:
        if (!FIELD_EX64(s->ecap, ECAP, SSTS) || !vtd_aw_ok(s, aw)) {
            return VTD_FR_SM_PTE_INVALID;
        }
        break;
    case VTD_PGTT_FS:
        if (!FIELD_EX64(s->ecap, ECAP, FSTS)) {
            return VTD_FR_SM_PTE_INVALID;
        }
        break;
    case VTD_PGTT_NESTED:
        if (!FIELD_EX64(s->ecap, ECAP, NEST) || !vtd_aw_ok(s, aw)) {
            return VTD_FR_SM_PTE_INVALID;
        }
        break;
    default:
        return VTD_FR_SM_PTE_INVALID;
    }
    if (pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED) {
        if (fspm > 1 || (fspm == 1 && !FIELD_EX64(s->cap, CAP, FS5LP))) {
            return VTD_FR_SM_PTE_INVALID;
        }
        if ((req->access & IOASID_PERM_EXEC) &&
            !FIELD_EX64(pe[2], PTE2, ERE)) {
            return VTD_FR_SM_PTE_ERE;
        }
        if (req->priv && !FIELD_EX64(pe[2], PTE2, SRE)) {
            return VTD_FR_SM_PTE_SRE;
        }
        memset(&ctx->s1, 0, sizeof(ctx->s1));
        ctx->s1.fmt = IOASID_FMT_VTD_FS;
        ctx->s1.root = pe[2] & R_PTE2_FSPTPTR_MASK;
        ctx->s1.levels = fspm ? 5 : 4;
        ctx->s1.oas = vtd_haw(s);
        ctx->s1.vtd_sre = FIELD_EX64(pe[2], PTE2, SRE);
        ctx->s1.vtd_wpe = FIELD_EX64(pe[2], PTE2, WPE);
        ctx->s1.vtd_ad = true;  /* first-stage A/D updates are architected */
        ctx->s1.vtd_nxe = true;
        ctx->has_s1 = true;
    }
    if (pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED) {
        vtd_ss_cfg(s, &ctx->s2, pe[0] & R_PTE0_SSPTPTR_MASK, aw);
        ctx->s2.vtd_ad = FIELD_EX64(pe[0], PTE0, SSADE);
        ctx->s2.vtd_sl_exec = FIELD_EX64(pe[0], PTE0, SSEE);
        ctx->has_s2 = true;
    }
    ctx->nested = pgtt == VTD_PGTT_NESTED;
    return 0;
}

static uint8_t vtd_iotlb_kind(const VtdCtx *ctx, bool priv)
{
    uint8_t k = ctx->nested ? IOASID_KIND_NESTED :
                ctx->has_s1 ? IOASID_KIND_S1 : IOASID_KIND_S2;

    return priv ? k | IOASID_IOTLB_PRIV : k;
}

/* 3.15: a translation may not produce an address in the interrupt range. */
static bool vtd_out_is_interrupt(const IoasidResult *res)
{
    return res->out >= VTD_MSI_BASE && res->out < VTD_MSI_BASE + VTD_MSI_SIZE;
}

/*
 * Translate @req.  Returns 0 and fills @res, or -1 with *@reason set; the
 * fault is recorded when @report and not suppressed by an FPD bit.
 */
int vtd_translate(IoasidVtdState *s, const VtdReq *req, bool report,
                  IoasidResult *res, uint8_t *reason)
{
    bool sm = s->root_mode == VTD_RTM_SCALABLE;
    VtdCtx ctx = { 0 };
    IoasidIotlbTag tag;
    const IoasidIotlbEntry *e;
    IoasidFault f;
    uint8_t fr;
    int r;

    memset(res, 0, sizeof(*res));
    if (!FIELD_EX32(s->gsts, GSTS, TES)) {
        res->out = req->addr;
        res->page_shift = 12;
        res->perms = IOASID_PERM_RW | IOASID_PERM_EXEC;
        return 0;
    }
    if (s->root_mode == VTD_RTM_INVALID) {
        fr = VTD_FR_SM_RTA_INVALID;
        goto fault;
    }
    if (s->ctx_cache) {
        uint64_t key = vtd_ctx_key(req);
        VtdCtx *c = g_hash_table_lookup(s->ctx_cache, &key);

        if (c) {
            ctx = *c;
        } else {
            fr = sm ? vtd_sm_ctx(s, req, &ctx) :
                      vtd_legacy_ctx(s, req, &ctx);
            if (fr) {
                goto fault;
            }
            if (g_hash_table_size(s->ctx_cache) >= VTD_CTX_CACHE_MAX) {
                g_hash_table_remove_all(s->ctx_cache);
            }
            g_hash_table_insert(s->ctx_cache, g_memdup2(&key, sizeof(key)),
                                g_memdup2(&ctx, sizeof(ctx)));
        }
    } else {
        fr = sm ? vtd_sm_ctx(s, req, &ctx) : vtd_legacy_ctx(s, req, &ctx);
        if (fr) {
            goto fault;
        }
    }
    if (ctx.pt) {
        if (req->addr & ~vtd_haw_mask(s)) {
            fr = sm ? VTD_FR_SM_BEYOND_AW : VTD_FR_ADDR_BEYOND_AW;
            goto fault;
        }
        res->out = req->addr;
        res->page_shift = 12;
        res->perms = IOASID_PERM_RW | IOASID_PERM_EXEC;
        return 0;
    }
    /* Input beyond MGAW (second stage only: first stage is canonical). */
    if (!ctx.has_s1 && (req->addr >> s->aw_bits)) {
        fr = sm ? VTD_FR_SM_BEYOND_AW : VTD_FR_ADDR_BEYOND_AW;
        goto fault;
    }

    tag.domain = ctx.did;
    tag.as_tag = ctx.as_tag;
    tag.kind = vtd_iotlb_kind(&ctx, req->priv);
    e = req->ats ? NULL :
        ioasid_iotlb_lookup(s->iotlb, &tag, req->addr, false);
    if (e && (e->perms & req->access) == req->access) {
        ioasid_iotlb_count_lookup(s->iotlb, true, false);
        res->out = e->out | (req->addr & ~ioasid_page_mask(e->page_shift));
        res->page_shift = e->page_shift;
        res->perms = e->perms;
        trace_ioasid_vtd_iotlb_hit(req->sid, ctx.did, ctx.as_tag, req->addr);
        if (vtd_out_is_interrupt(res)) {
            fr = sm ? VTD_FR_SM_INTERRUPT_ADDR : VTD_FR_INTERRUPT_ADDR;
            goto fault;
        }
        return 0;
    }
    ioasid_iotlb_count_lookup(s->iotlb, false, e != NULL);
    ioasid_iotlb_count_walk(s->iotlb);

    memset(&f, 0, sizeof(f));
    if (ctx.nested) {
        r = ioasid_walk_nested(&ctx.s1, &ctx.s2, &vtd_memops, req->addr,
                               req->access, req->priv, req->ats, res, &f);
    } else {
        r = ioasid_walk(ctx.has_s1 ? &ctx.s1 : &ctx.s2, &vtd_memops,
                        req->addr, req->access, req->priv, req->ats, res,
                        &f);
    }
    if (r == 0 && vtd_out_is_interrupt(res)) {
        fr = sm ? VTD_FR_SM_INTERRUPT_ADDR : VTD_FR_INTERRUPT_ADDR;
        goto fault;
    }
    if (r == 0 && req->ats) {
        return 0;
    }
    if (r && req->ats && (f.reason == IOASID_FAULT_TRANSLATION ||
                          f.reason == IOASID_FAULT_PERMISSION)) {
        /* 4.2.3: no translation -> completion with R = W = 0, no fault. */
        *reason = 0;
        return -1;
    }
    if (r == 0) {
        if ((res->perms & req->access) != req->access) {
            f.reason = IOASID_FAULT_PERMISSION;
            f.stage = ctx.has_s1 ? 1 : 2;
            f.access = req->access;
            fr = vtd_walk_reason(sm, &f, req->priv);
            goto fault;
        }
        ioasid_iotlb_insert(s->iotlb, &tag, req->addr, res->out,
                            res->page_shift, res->perms);
        trace_ioasid_vtd_translate(req->sid, req->pasid, req->addr, res->out,
                            res->page_shift, res->perms);
        return 0;
    }
    if (!f.access) {
        f.access = req->access;
    }
    fr = vtd_walk_reason(sm, &f, req->priv);
    trace_ioasid_vtd_walk_fault(ioasid_fault_reason_str(f.reason), f.stage,
                         f.level, f.entry_addr, f.entry);

fault:
    *reason = fr;
    if (report && !ctx.fpd) {
        vtd_record_fault(s, req, fr);
    }
    return -1;
}

/*
 * ---------------------------------------------------------------------
 * RID-only DMA: QEMU's IOMMUMemoryRegion path.
 * ------------------------------------------------------------------
 */
static uint16_t vtd_as_sid(IoasidVtdAS *vas)
{
    return PCI_BUILD_BDF(pci_bus_num(vas->bus), vas->devfn);
}

static IOMMUTLBEntry vtd_iommu_translate(IOMMUMemoryRegion *iommu,
                                         hwaddr addr, IOMMUAccessFlags flag,
                                         int iommu_idx)
{
    IoasidVtdAS *vas = container_of(iommu, IoasidVtdAS, iommu);
    IOMMUTLBEntry te = {
        .target_as = &address_space_memory,
        .iova = addr & VTD_PAGE_MASK,
        .translated_addr = addr & VTD_PAGE_MASK,
        .addr_mask = ~VTD_PAGE_MASK,
        .perm = IOMMU_NONE,
    };
    VtdReq req = {
        .sid = vtd_as_sid(vas),
        .pasid = IOASID_NO_PASID,
        .addr = addr,
    };
    IoasidResult res;
    uint8_t reason;

    if (flag & IOMMU_RO) {
        req.access |= IOASID_PERM_READ;
    }
    if (flag & IOMMU_WO) {
        req.access |= IOASID_PERM_WRITE;
    }
    if (vtd_translate(vas->s, &req, flag != IOMMU_NONE, &res, &reason)) {
        return te;
    }
    te.addr_mask = ~ioasid_page_mask(res.page_shift);
    te.iova = addr & ~te.addr_mask;
    te.translated_addr = res.out & ~te.addr_mask;
    te.perm = (res.perms & IOASID_PERM_READ ? IOMMU_RO : 0) |
              (res.perms & IOASID_PERM_WRITE ? IOMMU_WO : 0);
    return te;
}

static int vtd_iommu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                         IOMMUNotifierFlag old,
                                         IOMMUNotifierFlag new,
                                         Error **errp)
{
    IoasidVtdAS *vas = container_of(iommu, IoasidVtdAS, iommu);

    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "ioasid-vtd does not support MAP notifiers "
                   "(CAP.CM = 0): device assignment (vfio-pci) with an "
                   "IOMMU is not supported");
        return -EINVAL;
    }
    vas->notifiers = new;
    return 0;
}

/*
 * UNMAP / DEVIOTLB_UNMAP notifiers (vhost's IOTLB) cache translations
 * outside the IOTLB: every IOTLB invalidation drops all of them (always
 * allowed: over-invalidation).
 */
void vtd_notify_unmap_all(IoasidVtdState *s)
{
    GHashTableIter it;
    gpointer key, value;

    if (!s->as_by_bus) {
        return;
    }
    g_hash_table_iter_init(&it, s->as_by_bus);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        IoasidVtdAS **arr = value;

        for (int i = 0; i < 256; i++) {
            IoasidVtdAS *vas = arr[i];
            IOMMUTLBEvent ev = {
                .entry = {
                    .target_as = &address_space_memory,
                    .iova = 0,
                    .addr_mask = ~0ULL,
                    .perm = IOMMU_NONE,
                },
            };

            if (!vas || !vas->notifiers) {
                continue;
            }
            if (vas->notifiers & IOMMU_NOTIFIER_UNMAP) {
                ev.type = IOMMU_NOTIFIER_UNMAP;
                memory_region_notify_iommu(&vas->iommu, 0, ev);
            }
            if (vas->notifiers & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
                ev.type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
                memory_region_notify_iommu(&vas->iommu, 0, ev);
            }
        }
    }
}

/* Interrupt range 0xFEEx_xxxx (5.1.2): DMA writes there are interrupts. */
static MemTxResult vtd_msi_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size, MemTxAttrs attrs)
{
    IoasidVtdAS *vas = opaque;
    uint16_t sid = attrs.unspecified ? vtd_as_sid(vas) : attrs.requester_id;

    return vtd_ir_request(vas->s, addr, val, size, sid);
}

static MemTxResult vtd_msi_read(void *opaque, hwaddr addr, uint64_t *val,
                                unsigned size, MemTxAttrs attrs)
{
    *val = 0;
    qemu_log_mask(LOG_GUEST_ERROR, "ioasid-vtd: DMA read of the interrupt "
                  "address range at 0x%" PRIx64 "\n",
                  (uint64_t)(VTD_MSI_BASE + addr));
    return MEMTX_OK;
}

static const MemoryRegionOps vtd_msi_ops = {
    .read_with_attrs = vtd_msi_read,
    .write_with_attrs = vtd_msi_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = { .min_access_size = 1, .max_access_size = 4 },
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

static IoasidVtdAS *vtd_find_as(IoasidVtdState *s, PCIBus *bus, int devfn)
{
    IoasidVtdAS **arr = g_hash_table_lookup(s->as_by_bus, bus);
    IoasidVtdAS *vas;
    g_autofree char *name = NULL;

    if (!arr) {
        arr = g_new0(IoasidVtdAS *, 256);
        g_hash_table_insert(s->as_by_bus, bus, arr);
    }
    vas = arr[devfn & 0xff];
    if (vas) {
        return vas;
    }
    vas = g_new0(IoasidVtdAS, 1);
    vas->s = s;
    vas->bus = bus;
    vas->devfn = devfn;
    name = g_strdup_printf("ioasid-vtd-%s-%02x.%x", bus->qbus.name,
                           PCI_SLOT(devfn), PCI_FUNC(devfn));
    memory_region_init(&vas->root, OBJECT(s), name, UINT64_MAX);
    memory_region_init_iommu(&vas->iommu, sizeof(vas->iommu),
                             TYPE_IOASID_VTD_MEMORY_REGION, OBJECT(s),
                             name, UINT64_MAX);
    memory_region_init_io(&vas->msi, OBJECT(s), &vtd_msi_ops, vas,
                          "ioasid-vtd-msi", VTD_MSI_SIZE);
    memory_region_add_subregion_overlap(&vas->root, 0,
                                        MEMORY_REGION(&vas->iommu), 0);
    memory_region_add_subregion_overlap(&vas->root, VTD_MSI_BASE,
                                        &vas->msi, 1);
    address_space_init(&vas->as, &vas->root, name);
    arr[devfn & 0xff] = vas;
    return vas;
}

static AddressSpace *vtd_get_address_space(PCIBus *bus, void *opaque,
                                           int devfn)
{
    return &vtd_find_as(opaque, bus, devfn)->as;
}

const PCIIOMMUOps vtd_pci_iommu_ops = {
    .get_address_space = vtd_get_address_space,
};

/*
 * ---------------------------------------------------------------------
 * (RID, PASID) DMA: the ioasid-pci interface.
 * ------------------------------------------------------------------
 */
IoasidDmaStatus vtd_ioasid_dma_rw(IoasidIOMMU *iommu,
                                  const IoasidDmaRequest *req, void *buf,
                                  DMADirection dir, uint64_t *fault_addr)
{
    IoasidVtdState *s = IOASID_VTD(iommu);
    bool write = dir == DMA_DIRECTION_FROM_DEVICE;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    VtdReq vr = {
        .sid = req->rid,
        .pasid = req->pasid,
        .addr = req->addr,
        .access = write ? IOASID_PERM_WRITE : IOASID_PERM_READ,
    };
    IoasidResult res;
    uint8_t reason;

    if (req->pasid != IOASID_PCI_NO_PASID) {
        if (req->pasid >> s->pasid_bits ||
            !FIELD_EX64(s->ecap, ECAP, PASID)) {
            return IOASID_DMA_UNSUPPORTED;
        }
        vr.priv = req->priv;
        if (req->exec && !write) {
            vr.access |= IOASID_PERM_EXEC;
        }
    }
    attrs.requester_id = req->rid;
    if (write && req->pasid == IOASID_PCI_NO_PASID &&
        req->addr >= VTD_MSI_BASE && req->addr < VTD_MSI_BASE + VTD_MSI_SIZE) {
        /* An interrupt request (5.1.2). */
        uint32_t data = 0;

        memcpy(&data, buf, MIN(req->len, 4));
        vtd_ir_request(s, req->addr - VTD_MSI_BASE, le32_to_cpu(data),
                       req->len, req->rid);
        return IOASID_DMA_OK;
    }
    if (vtd_translate(s, &vr, true, &res, &reason)) {
        *fault_addr = req->addr;
        return IOASID_DMA_FAULT;
    }
    if (address_space_rw(&address_space_memory, res.out, attrs, buf,
                         req->len, write) != MEMTX_OK) {
        *fault_addr = req->addr;
        return IOASID_DMA_FAULT;
    }
    return IOASID_DMA_OK;
}

/*
 * ATS translation request (4.2.3, 4.2.4): served when ECAP.DT is set and
 * the context entry enables device-TLBs (legacy TT = 01b, scalable-mode
 * DTE = 1).  A walk that finds no translation answers R = W = 0 without
 * recording a fault; errors in the root / context / PASID structures are
 * recorded and answered with Unsupported Request.  Translation disabled
 * or pass-through: the untranslated address with R = W = 1.
 */
IoasidDmaStatus vtd_ioasid_ats_translate(IoasidIOMMU *iommu,
                                         const IoasidDmaRequest *req,
                                         bool no_write,
                                         IoasidAtsCompletion *cpl)
{
    IoasidVtdState *s = IOASID_VTD(iommu);
    VtdReq vr = {
        .sid = req->rid,
        .pasid = req->pasid,
        .addr = req->addr,
        .access = no_write ? IOASID_PERM_READ : IOASID_PERM_RW,
        .ats = true,
    };
    IoasidResult res;
    uint8_t reason;

    if (!X86_IOMMU_DEVICE(s)->dt_supported) {
        return IOASID_DMA_UNSUPPORTED;
    }
    if (req->pasid != IOASID_PCI_NO_PASID) {
        if (req->pasid >> s->pasid_bits ||
            !FIELD_EX64(s->ecap, ECAP, PASID)) {
            return IOASID_DMA_UNSUPPORTED;
        }
        vr.priv = req->priv;
        if (req->exec) {
            vr.access |= IOASID_PERM_EXEC;
        }
    }
    memset(cpl, 0, sizeof(*cpl));
    if (vtd_translate(s, &vr, true, &res, &reason)) {
        return reason ? IOASID_DMA_UNSUPPORTED : IOASID_DMA_FAULT;
    }
    cpl->size = 1ULL << res.page_shift;
    cpl->translated = res.out & ~(cpl->size - 1);
    cpl->read = res.perms & IOASID_PERM_READ;
    cpl->write = !no_write && (res.perms & IOASID_PERM_WRITE);
    cpl->exec = req->exec && (res.perms & IOASID_PERM_EXEC);
    cpl->priv = vr.priv;
    return IOASID_DMA_OK;
}

static void vtd_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vtd_iommu_translate;
    imrc->notify_flag_changed = vtd_iommu_notify_flag_changed;
}

static const TypeInfo vtd_iommu_mr_types[] = {
    {
        .name = TYPE_IOASID_VTD_MEMORY_REGION,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = vtd_iommu_mr_class_init,
    },
};

DEFINE_TYPES(vtd_iommu_mr_types)
