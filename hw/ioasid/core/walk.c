/*
 * qemu-ioasid core: page-table walkers.
 *
 * One generic radix walk loop (walk_stage()) parameterised by a per-format
 * descriptor (WalkFmt): formats differ only in how they set up the walk
 * geometry, decode an entry, compute the permissions of a leaf and update
 * access / dirty state, in the manner of Linux's drivers/iommu/generic_pt.
 *
 * The loop runs at most WalkGeom.nlevels (<= WALK_MAX_LEVELS) iterations and
 * restarts at most WALK_MAX_RETRIES times after a lost A/D cmpxchg race, so
 * it terminates whatever the table memory holds.  No allocation, one 8-byte
 * read per entry.
 *
 * Level numbering in IoasidFault.level follows each specification:
 *   VT-d: 1 (PTE) .. 5 (PML5E); Arm: lookup level 0 .. 3.
 * -1 means that no entry was involved (configuration / input range).
 *
 * See docs/devel/ioasid-walkers.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "walk.h"

#define WALK_MAX_LEVELS     5
#define WALK_MAX_RETRIES    4

#define BIT64(n)            (UINT64_C(1) << (n))
/* Bits [hi:lo] set. */
#define GENMASK64(hi, lo)   ((~UINT64_C(0) >> (63 - (hi))) & ~(BIT64(lo) - 1))

/* Hierarchical attributes accumulated from table entries (Walk.hier). */
enum {
    H_NO_R    = 1u << 0,    /* VT-d SS: R clear at some level            */
    H_NO_W    = 1u << 1,    /* VT-d W / R/W clear; Arm APTable[1]        */
    H_NO_X    = 1u << 2,    /* VT-d SS X clear; VT-d FS XD set           */
    H_NO_USER = 1u << 3,    /* VT-d FS U/S clear; Arm APTable[0]         */
    H_UXN     = 1u << 4,    /* Arm UXNTable                              */
    H_PXN     = 1u << 5,    /* Arm PXNTable                              */
};

typedef struct Walk {
    const IoasidPgtCfg *cfg;
    uint64_t root;
    uint8_t granule;        /* page shift of the smallest page            */
    uint8_t stride;         /* index bits per level                       */
    uint8_t top_bits;       /* index bits at the starting level           */
    uint8_t nlevels;        /* levels walked; internal lvl nlevels-1 .. 0 */
    uint8_t oas;
    bool upd_a;             /* hardware access flag updates effective     */
    bool upd_d;             /* hardware dirty updates effective           */
    uint32_t hier;          /* H_* accumulated from the tables walked     */
} Walk;

/*
 * Internal level numbering: lvl 0 is the level of the smallest page, the
 * walk starts at lvl nlevels - 1.  The shift of lvl is granule + stride*lvl.
 */
typedef struct WalkFmt {
    uint8_t stage;          /* stage reported by a single-stage walk      */
    /* Set up @w for input @ia; returns a fault reason, *level its level. */
    IoasidFaultReason (*setup)(Walk *w, uint64_t ia, bool priv, int *level);
    /* Decode @pte at @lvl: *leaf, and the next table or output address. */
    IoasidFaultReason (*decode)(Walk *w, uint64_t pte, int lvl,
                                uint64_t *addr, bool *leaf);
    /*
     * A leaf: the permissions granted (*perms) and the new value of the
     * leaf after a successful @access (*npte).  May report an Arm access
     * flag fault.
     */
    IoasidFaultReason (*leaf)(Walk *w, uint64_t pte, bool priv,
                              uint8_t access, uint8_t *perms, uint64_t *npte);
    /* New value of a table entry used by a successful walk; may be NULL. */
    uint64_t (*table_update)(Walk *w, uint64_t pte);
    int vtd_levels;         /* 1: level = lvl + 1 (VT-d), 0: 3 - lvl     */
} WalkFmt;

static inline uint64_t le64_to_host(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

/* Address bits [51:oas], reserved / out of range in an entry. */
static inline uint64_t above_oas(unsigned oas)
{
    return oas >= 52 ? 0 : GENMASK64(51, oas);
}

/*
 * ======================================================================
 * VT-d second-stage paging (VT-d spec 3.7 "Second-Stage Translation",
 * 9.8 "Second-Stage Paging Entries").
 *
 *   bit 0 R, 1 W, 2 X (only with ECAP.SLEE: cfg->vtd_sl_exec),
 *   5:3 EMT and 6 IPAT in leaves, reserved in non-leaf entries,
 *   7 PS (SS-PDPE: 1G, SS-PDE: 2M; reserved in SS-PML4E / SS-PML5E,
 *   ignored in SS-PTE), 8 A, 9 D (leaf; with SSADS: cfg->vtd_ad),
 *   11 reserved, (HAW-1):12 address, 51:HAW reserved, 63:52 ignored.
 * An entry with R = W = 0 is not present.  Permissions are the AND of
 * R / W / X over all levels.  Without SLEE, execute needs read.
 * ======================================================================
 */
#define VTD_SS_R        BIT64(0)
#define VTD_SS_W        BIT64(1)
#define VTD_SS_X        BIT64(2)
#define VTD_SS_PS       BIT64(7)
#define VTD_SS_A        BIT64(8)
#define VTD_SS_D        BIT64(9)
#define VTD_ADDR_MASK   GENMASK64(51, 12)

static IoasidFaultReason vtd_ss_setup(Walk *w, uint64_t ia, bool priv,
                                      int *level)
{
    const IoasidPgtCfg *cfg = w->cfg;

    if (cfg->levels < 3 || cfg->levels > 5) {
        return IOASID_FAULT_CONFIG;
    }
    w->granule = 12;
    w->stride = 9;
    w->top_bits = 9;
    w->nlevels = cfg->levels;
    if (ia >> (12 + 9 * cfg->levels)) {
        return IOASID_FAULT_INPUT_RANGE;
    }
    w->upd_a = w->upd_d = cfg->vtd_ad;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason vtd_ss_decode(Walk *w, uint64_t pte, int lvl,
                                       uint64_t *addr, bool *leaf)
{
    uint64_t rsvd = above_oas(w->oas) | BIT64(11);
    unsigned shift = 12 + 9 * lvl;
    bool is_leaf;

    if (!(pte & (VTD_SS_R | VTD_SS_W))) {
        return IOASID_FAULT_TRANSLATION;
    }
    is_leaf = lvl == 0 || ((lvl == 1 || lvl == 2) && (pte & VTD_SS_PS));
    if (lvl >= 3) {
        rsvd |= VTD_SS_PS | GENMASK64(6, 3);
    } else if (!is_leaf) {
        rsvd |= GENMASK64(6, 3);
    } else if (lvl > 0) {
        rsvd |= GENMASK64(shift - 1, 12);
    }
    if (pte & rsvd) {
        return IOASID_FAULT_RESERVED;
    }
    if (!(pte & VTD_SS_R)) {
        w->hier |= H_NO_R;
    }
    if (!(pte & VTD_SS_W)) {
        w->hier |= H_NO_W;
    }
    if (!(pte & VTD_SS_X)) {
        w->hier |= H_NO_X;
    }
    *leaf = is_leaf;
    *addr = pte & VTD_ADDR_MASK;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason vtd_ss_leaf(Walk *w, uint64_t pte, bool priv,
                                     uint8_t access, uint8_t *perms,
                                     uint64_t *npte)
{
    uint8_t p = 0;

    if (!(w->hier & H_NO_R)) {
        p |= IOASID_PERM_READ;
    }
    if (!(w->hier & H_NO_W)) {
        p |= IOASID_PERM_WRITE;
    }
    if (w->cfg->vtd_sl_exec ? !(w->hier & H_NO_X) : (p & IOASID_PERM_READ)) {
        p |= IOASID_PERM_EXEC;
    }
    *npte = pte;
    if (w->upd_a) {
        *npte |= VTD_SS_A;
    }
    if (w->upd_d && !(pte & VTD_SS_D)) {
        /* Write permission is only granted together with setting D. */
        if ((p & access & IOASID_PERM_WRITE)) {
            *npte |= VTD_SS_D;
        } else {
            p &= ~IOASID_PERM_WRITE;
        }
    }
    *perms = p;
    return IOASID_FAULT_NONE;
}

static uint64_t vtd_ss_table_update(Walk *w, uint64_t pte)
{
    return w->upd_a ? pte | VTD_SS_A : pte;
}

/*
 * ======================================================================
 * VT-d first-stage paging, IA-32e 4/5-level (VT-d spec 3.6 "First-Stage
 * Translation", 9.7 "First-Stage Paging Entries"; Intel SDM vol. 3 4.5).
 *
 *   bit 0 P, 1 R/W, 2 U/S, 5 A, 6 D (leaf), 7 PS (PDPE: 1G, PDE: 2M;
 *   reserved in PML4E / PML5E, PAT in PTE), 12 PAT in large leaves with
 *   bits (page shift-1):13 reserved, (M-1):12 address, 51:M reserved,
 *   63 XD (reserved unless cfg->vtd_nxe).
 * Input addresses must be canonical (48 or 57 bits, sign-extended).
 * R/W and U/S are ANDed and XD ORed over the levels.  User requests need
 * U/S everywhere; writes need R/W everywhere for user requests, and for
 * supervisor requests when cfg->vtd_wpe.  Supervisor requests need
 * cfg->vtd_sre.
 * ======================================================================
 */
#define VTD_FS_P        BIT64(0)
#define VTD_FS_RW       BIT64(1)
#define VTD_FS_US       BIT64(2)
#define VTD_FS_A        BIT64(5)
#define VTD_FS_D        BIT64(6)
#define VTD_FS_PS       BIT64(7)
#define VTD_FS_XD       BIT64(63)

static IoasidFaultReason vtd_fs_setup(Walk *w, uint64_t ia, bool priv,
                                      int *level)
{
    const IoasidPgtCfg *cfg = w->cfg;
    int64_t top;

    if (cfg->levels != 4 && cfg->levels != 5) {
        return IOASID_FAULT_CONFIG;
    }
    w->granule = 12;
    w->stride = 9;
    w->top_bits = 9;
    w->nlevels = cfg->levels;
    top = (int64_t)ia >> (12 + 9 * cfg->levels - 1);
    if (top != 0 && top != -1) {
        return IOASID_FAULT_INPUT_RANGE;
    }
    if (priv && !cfg->vtd_sre) {
        return IOASID_FAULT_PERMISSION;
    }
    w->upd_a = w->upd_d = cfg->vtd_ad;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason vtd_fs_decode(Walk *w, uint64_t pte, int lvl,
                                       uint64_t *addr, bool *leaf)
{
    uint64_t rsvd = above_oas(w->oas);
    unsigned shift = 12 + 9 * lvl;
    bool is_leaf;

    if (!(pte & VTD_FS_P)) {
        return IOASID_FAULT_TRANSLATION;
    }
    if (!w->cfg->vtd_nxe) {
        rsvd |= VTD_FS_XD;
    }
    is_leaf = lvl == 0 || ((lvl == 1 || lvl == 2) && (pte & VTD_FS_PS));
    if (lvl >= 3) {
        rsvd |= VTD_FS_PS;
    } else if (is_leaf && lvl > 0) {
        rsvd |= GENMASK64(shift - 1, 13);
    }
    if (pte & rsvd) {
        return IOASID_FAULT_RESERVED;
    }
    if (!(pte & VTD_FS_RW)) {
        w->hier |= H_NO_W;
    }
    if (!(pte & VTD_FS_US)) {
        w->hier |= H_NO_USER;
    }
    if (pte & VTD_FS_XD) {
        w->hier |= H_NO_X;
    }
    *leaf = is_leaf;
    *addr = pte & VTD_ADDR_MASK & ~(BIT64(is_leaf ? shift : 12) - 1);
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason vtd_fs_leaf(Walk *w, uint64_t pte, bool priv,
                                     uint8_t access, uint8_t *perms,
                                     uint64_t *npte)
{
    uint8_t p = 0;

    if (priv || !(w->hier & H_NO_USER)) {
        p = IOASID_PERM_READ;
        if (!(w->hier & H_NO_W) || (priv && !w->cfg->vtd_wpe)) {
            p |= IOASID_PERM_WRITE;
        }
        if (!(w->hier & H_NO_X)) {
            p |= IOASID_PERM_EXEC;
        }
    }
    *npte = pte;
    if (w->upd_a) {
        *npte |= VTD_FS_A;
    }
    if (w->upd_d && !(pte & VTD_FS_D)) {
        if ((p & access & IOASID_PERM_WRITE)) {
            *npte |= VTD_FS_D;
        } else {
            p &= ~IOASID_PERM_WRITE;
        }
    }
    *perms = p;
    return IOASID_FAULT_NONE;
}

static uint64_t vtd_fs_table_update(Walk *w, uint64_t pte)
{
    return w->upd_a ? pte | VTD_FS_A : pte;
}

/*
 * ======================================================================
 * Arm VMSAv8-64 translation table format, AArch64 descriptors (Arm ARM
 * D8.3 "Translation table descriptor formats", D8.2 "Translation table
 * walk" / starting level, D8.4 permissions, D8.4.? hardware AF / dirty
 * state management), as used by SMMUv3 stage 1 (CD) and stage 2 (STE).
 *
 *   bits 1:0  0bx0 invalid, 0b11 table (levels < 3) or page (level 3),
 *             0b01 block (4K: levels 1, 2; 16K: level 2; 64K: level 2,
 *             and level 1 when the OA size is 52 bits), else invalid;
 *   (47):granule  next-level table / output address, 64K granule: bits
 *             15:12 hold OA[51:48] (FEAT_LPA);
 *   stage 1 leaf: AP[2:1] bits 7:6, AF 10, DBM 51, PXN 53, UXN 54;
 *   stage 1 table: PXNTable 59, UXNTable 60, APTable[1:0] 62:61;
 *   stage 2 leaf: S2AP[1:0] bits 7:6 (write, read), AF 10, DBM 51, XN 54.
 * ======================================================================
 */
#define ARM_VALID       BIT64(0)
#define ARM_TABLE       BIT64(1)
#define ARM_AP1         BIT64(6)    /* S1: EL0 access; S2: S2AP[0] read  */
#define ARM_AP2         BIT64(7)    /* S1: read-only;  S2: S2AP[1] write */
#define ARM_AF          BIT64(10)
#define ARM_DBM         BIT64(51)
#define ARM_PXN         BIT64(53)
#define ARM_UXN         BIT64(54)   /* S2: XN                             */
#define ARM_PXNT        BIT64(59)
#define ARM_UXNT        BIT64(60)
#define ARM_APT0        BIT64(61)
#define ARM_APT1        BIT64(62)

static inline bool arm_granule_ok(unsigned g)
{
    return g == 12 || g == 14 || g == 16;
}

/*
 * Geometry of a stage-1 range of input size 64 - @tsz: NULL if valid.
 * T0SZ / T1SZ from 16 (12 with the 64K granule, FEAT_LVA) to 48 (47 for
 * 64K, so that at least one index bit remains).
 */
static const char *arm_s1_geom(unsigned g, unsigned tsz, uint8_t *nlevels,
                               uint8_t *top_bits)
{
    unsigned ias, stride, n;

    if (!arm_granule_ok(g)) {
        return "Arm: granule must be 4K, 16K or 64K (page shift 12/14/16)";
    }
    if (tsz < (g == 16 ? 12 : 16) || tsz > (g == 16 ? 47 : 48)) {
        return "Arm stage 1: TxSZ out of range";
    }
    ias = 64 - tsz;
    stride = g - 3;
    n = (ias - g + stride - 1) / stride;
    *nlevels = n;
    *top_bits = ias - g - stride * (n - 1);
    return NULL;
}

/* Stage-2 starting level from S2SL0 and the granule, -1 if reserved. */
static int arm_s2_start_level(unsigned g, unsigned sl0)
{
    if (sl0 > 2) {
        return -1;
    }
    return g == 12 ? 2 - (int)sl0 : 3 - (int)sl0;
}

static const char *arm_s2_geom(unsigned g, unsigned tsz, unsigned sl0,
                               uint8_t *nlevels, uint8_t *top_bits)
{
    int sl = arm_s2_start_level(g, sl0);
    unsigned stride = g - 3, lvl, shift, ias;

    if (!arm_granule_ok(g)) {
        return "Arm: granule must be 4K, 16K or 64K (page shift 12/14/16)";
    }
    if (tsz < (g == 16 ? 12 : 16) || tsz > (g == 16 ? 47 : 48)) {
        return "Arm stage 2: S2T0SZ out of range";
    }
    if (sl < 0) {
        return "Arm stage 2: reserved S2SL0 value";
    }
    ias = 64 - tsz;
    lvl = 3 - sl;
    shift = g + stride * lvl;
    /* At least one index bit, at most 16 concatenated tables. */
    if (ias <= shift || ias - shift > stride + 4) {
        return "Arm stage 2: S2SL0 inconsistent with S2T0SZ";
    }
    *nlevels = lvl + 1;
    *top_bits = ias - shift;
    return NULL;
}

static IoasidFaultReason arm_common_setup(Walk *w)
{
    const IoasidPgtCfg *cfg = w->cfg;

    if (!cfg->arm_aa64 || cfg->arm_ds) {
        return IOASID_FAULT_CONFIG;
    }
    w->upd_a = cfg->arm_ha;
    w->upd_d = cfg->arm_ha && cfg->arm_hd;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason arm_s1_setup(Walk *w, uint64_t ia, bool priv,
                                      int *level)
{
    const IoasidPgtCfg *cfg = w->cfg;
    bool upper = ia >> 63;
    unsigned g = upper ? cfg->arm_granule1 : cfg->arm_granule;
    unsigned tsz = upper ? cfg->arm_t1sz : cfg->arm_tsz;
    IoasidFaultReason r = arm_common_setup(w);

    if (r) {
        return r;
    }
    /* A VA in neither range, or a disabled range: level 0. */
    *level = 0;
    if (upper && !cfg->arm_ttb1_valid) {
        return IOASID_FAULT_TRANSLATION;
    }
    if (arm_s1_geom(g, tsz, &w->nlevels, &w->top_bits)) {
        *level = -1;
        return IOASID_FAULT_CONFIG;
    }
    if ((upper ? ~ia : ia) >> (64 - tsz)) {
        return IOASID_FAULT_TRANSLATION;
    }
    if (upper ? cfg->arm_epd1 : cfg->arm_epd0) {
        return IOASID_FAULT_TRANSLATION;
    }
    w->granule = g;
    w->stride = g - 3;
    w->root = upper ? cfg->root1 : cfg->root;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason arm_s2_setup(Walk *w, uint64_t ia, bool priv,
                                      int *level)
{
    const IoasidPgtCfg *cfg = w->cfg;
    unsigned g = cfg->arm_granule;
    IoasidFaultReason r = arm_common_setup(w);

    if (r) {
        return r;
    }
    if (arm_s2_geom(g, cfg->arm_tsz, cfg->arm_sl0, &w->nlevels,
                    &w->top_bits)) {
        return IOASID_FAULT_CONFIG;
    }
    w->granule = g;
    w->stride = g - 3;
    if (ia >> (64 - cfg->arm_tsz)) {
        *level = 0;
        return IOASID_FAULT_TRANSLATION;
    }
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason arm_decode(Walk *w, uint64_t pte, int lvl,
                                    uint64_t *addr, bool *leaf)
{
    unsigned shift = w->granule + w->stride * lvl;
    uint64_t a;

    if (!(pte & ARM_VALID)) {
        return IOASID_FAULT_TRANSLATION;
    }
    if (lvl == 0) {
        if (!(pte & ARM_TABLE)) {
            return IOASID_FAULT_TRANSLATION;
        }
        *leaf = true;
    } else if (pte & ARM_TABLE) {
        *leaf = false;
        shift = w->granule;
    } else {
        /* Block: which levels permit one depends on the granule. */
        bool ok = lvl == 1 || (lvl == 2 && (w->granule == 12 ||
                                            (w->granule == 16 &&
                                             w->oas >= 52)));
        if (!ok) {
            return IOASID_FAULT_TRANSLATION;
        }
        *leaf = true;
    }
    a = pte & GENMASK64(47, shift);
    if (w->granule == 16) {
        a |= ((pte >> 12) & 0xf) << 48;
    }
    if (a >> w->oas) {
        return IOASID_FAULT_ADDR_SIZE;
    }
    *addr = a;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason arm_s1_decode(Walk *w, uint64_t pte, int lvl,
                                       uint64_t *addr, bool *leaf)
{
    IoasidFaultReason r = arm_decode(w, pte, lvl, addr, leaf);

    if (r == IOASID_FAULT_NONE && !*leaf) {
        if (pte & ARM_PXNT) {
            w->hier |= H_PXN;
        }
        if (pte & ARM_UXNT) {
            w->hier |= H_UXN;
        }
        if (pte & ARM_APT0) {
            w->hier |= H_NO_USER;
        }
        if (pte & ARM_APT1) {
            w->hier |= H_NO_W;
        }
    }
    return r;
}

static IoasidFaultReason arm_af(Walk *w, uint64_t pte, uint64_t *npte)
{
    *npte = pte;
    if (!(pte & ARM_AF)) {
        if (w->upd_a) {
            *npte |= ARM_AF;
        } else if (!w->cfg->arm_affd) {
            return IOASID_FAULT_ACCESS_FLAG;
        }
    }
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason arm_s1_leaf(Walk *w, uint64_t pte, bool priv,
                                     uint8_t access, uint8_t *perms,
                                     uint64_t *npte)
{
    uint8_t p = 0;

    if (arm_af(w, pte, npte)) {
        return IOASID_FAULT_ACCESS_FLAG;
    }
    if (priv || ((pte & ARM_AP1) && !(w->hier & H_NO_USER))) {
        p |= IOASID_PERM_READ;
        if (!(w->hier & H_NO_W)) {
            if (!(pte & ARM_AP2)) {
                p |= IOASID_PERM_WRITE;
            } else if ((pte & ARM_DBM) && w->upd_d &&
                       (access & IOASID_PERM_WRITE)) {
                /* Dirty state: the write makes the page writable. */
                p |= IOASID_PERM_WRITE;
                *npte &= ~ARM_AP2;
            }
        }
    }
    if (priv ? !(pte & ARM_PXN) && !(w->hier & H_PXN)
             : !(pte & ARM_UXN) && !(w->hier & H_UXN)) {
        p |= IOASID_PERM_EXEC;
    }
    *perms = p;
    return IOASID_FAULT_NONE;
}

static IoasidFaultReason arm_s2_leaf(Walk *w, uint64_t pte, bool priv,
                                     uint8_t access, uint8_t *perms,
                                     uint64_t *npte)
{
    uint8_t p = 0;

    if (arm_af(w, pte, npte)) {
        return IOASID_FAULT_ACCESS_FLAG;
    }
    if (pte & ARM_AP1) {
        p |= IOASID_PERM_READ;
    }
    if (pte & ARM_AP2) {
        p |= IOASID_PERM_WRITE;
    } else if ((pte & ARM_DBM) && w->upd_d && (access & IOASID_PERM_WRITE)) {
        p |= IOASID_PERM_WRITE;
        *npte |= ARM_AP2;
    }
    if (!(pte & ARM_UXN)) {
        p |= IOASID_PERM_EXEC;
    }
    *perms = p;
    return IOASID_FAULT_NONE;
}

static const WalkFmt walk_fmts[IOASID_FMT__MAX] = {
    [IOASID_FMT_VTD_SS] = {
        .stage = 2, .vtd_levels = 1,
        .setup = vtd_ss_setup, .decode = vtd_ss_decode,
        .leaf = vtd_ss_leaf, .table_update = vtd_ss_table_update,
    },
    [IOASID_FMT_VTD_FS] = {
        .stage = 1, .vtd_levels = 1,
        .setup = vtd_fs_setup, .decode = vtd_fs_decode,
        .leaf = vtd_fs_leaf, .table_update = vtd_fs_table_update,
    },
    [IOASID_FMT_ARM_S1] = {
        .stage = 1,
        .setup = arm_s1_setup, .decode = arm_s1_decode,
        .leaf = arm_s1_leaf,
    },
    [IOASID_FMT_ARM_S2] = {
        .stage = 2,
        .setup = arm_s2_setup, .decode = arm_decode,
        .leaf = arm_s2_leaf,
    },
};

/* ====================================================================== */
/* The generic walk                                                       */
/* ====================================================================== */

static int walk_fault(IoasidFault *f, IoasidFaultReason reason,
                      uint8_t stage, int level, uint64_t ia, uint64_t iova,
                      uint8_t access, uint64_t entry_addr, uint64_t entry)
{
    f->reason = reason;
    f->stage = stage;
    f->level = level;
    f->s2_on_s1_walk = false;
    f->access = access;
    f->input_addr = ia;
    f->iova = iova;
    f->entry_addr = entry_addr;
    f->entry = entry;
    return -1;
}

static inline int fmt_level(const WalkFmt *fmt, int lvl)
{
    return fmt->vtd_levels ? lvl + 1 : 3 - lvl;
}

/*
 * Walk one stage.  @s2 (may be NULL) translates the addresses of this
 * stage's entries (nested stage 1).  @ia is this stage's input address,
 * @iova the request's.  res->levels_walked is accumulated, not reset.
 */
static int walk_stage(const IoasidPgtCfg *cfg, const IoasidPgtCfg *s2,
                      const IoasidMemOps *mem, uint64_t ia, uint64_t iova,
                      uint8_t access, bool priv, bool ats, uint8_t stage,
                      IoasidResult *res, IoasidFault *f)
{
    const WalkFmt *fmt;
    Walk w;
    uint64_t ea[WALK_MAX_LEVELS], pte[WALK_MAX_LEVELS];
    uint64_t table, addr = 0, npte;
    IoasidFaultReason r;
    int lvl = 0, n, i, retries = 0, level = -1;
    bool leaf = false;
    uint8_t perms;

    if (cfg->oas < 32 || cfg->oas > 52 || cfg->fmt >= IOASID_FMT__MAX) {
        return walk_fault(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova,
                          access, 0, 0);
    }
    if (cfg->fmt == IOASID_FMT_IDENTITY) {
        if (ia >> cfg->oas) {
            return walk_fault(f, IOASID_FAULT_ADDR_SIZE, stage, -1, ia, iova,
                              access, 0, 0);
        }
        res->out = ia;
        res->page_shift = 12;
        res->perms = IOASID_PERM_READ | IOASID_PERM_WRITE | IOASID_PERM_EXEC;
        return 0;
    }
    fmt = &walk_fmts[cfg->fmt];
    if (!fmt->setup) {
        return walk_fault(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova,
                          access, 0, 0);
    }
    w.cfg = cfg;
    w.root = cfg->root;
    w.oas = cfg->oas;
    r = fmt->setup(&w, ia, priv, &level);
    if (r) {
        return walk_fault(f, r, stage, level, ia, iova, access, 0, 0);
    }
    if (!mem->cmpxchg64) {
        w.upd_a = w.upd_d = false;
    }
    if (w.root >> w.oas) {
        return walk_fault(f, IOASID_FAULT_ADDR_SIZE, stage,
                          fmt_level(fmt, w.nlevels - 1), ia, iova, access,
                          0, 0);
    }

retry:
    w.hier = 0;
    table = w.root;
    for (n = 0; n < w.nlevels; n++) {
        unsigned bits = n == 0 ? w.top_bits : w.stride;
        uint64_t pa, v;

        lvl = w.nlevels - 1 - n;
        ea[n] = table + (((ia >> (w.granule + w.stride * lvl)) &
                          (BIT64(bits) - 1)) << 3);
        pa = ea[n];
        if (s2) {
            IoasidResult r2;

            r2.levels_walked = 0;
            if (walk_stage(s2, NULL, mem, ea[n], iova, IOASID_PERM_READ,
                           false, false, 2, &r2, f)) {
                f->s2_on_s1_walk = true;
                return -1;
            }
            res->levels_walked += r2.levels_walked;
            pa = r2.out;
        }
        if (mem->read(mem->opaque, pa, &v, 8)) {
            return walk_fault(f, IOASID_FAULT_EXT_ABORT, stage,
                              fmt_level(fmt, lvl), ia, iova, access,
                              ea[n], 0);
        }
        v = le64_to_host(v);
        pte[n] = v;
        res->levels_walked++;
        r = fmt->decode(&w, v, lvl, &addr, &leaf);
        if (r) {
            return walk_fault(f, r, stage, fmt_level(fmt, lvl), ia, iova,
                              access, ea[n], v);
        }
        if (leaf) {
            break;
        }
        table = addr;
    }
    if (!leaf) {
        /* Unreachable: level 0 decodes only to a leaf or a fault. */
        return walk_fault(f, IOASID_FAULT_TRANSLATION, stage, -1, ia, iova,
                          access, 0, 0);
    }

    r = fmt->leaf(&w, pte[n], priv, access, &perms, &npte);
    if (!r && !ats && (access & ~perms)) {
        r = IOASID_FAULT_PERMISSION;
    }
    if (r) {
        return walk_fault(f, r, stage, fmt_level(fmt, lvl), ia, iova, access,
                          ea[n], pte[n]);
    }

    /* Hardware access / dirty updates, root first. */
    for (i = 0; i <= n && (w.upd_a || w.upd_d); i++) {
        uint64_t nv = i == n ? npte :
                      fmt->table_update ? fmt->table_update(&w, pte[i])
                                        : pte[i];
        uint64_t pa = ea[i], cur;
        int rc;

        if (nv == pte[i]) {
            continue;
        }
        if (s2) {
            IoasidResult r2;

            r2.levels_walked = 0;
            if (walk_stage(s2, NULL, mem, ea[i], iova, IOASID_PERM_WRITE,
                           false, false, 2, &r2, f)) {
                f->s2_on_s1_walk = true;
                return -1;
            }
            res->levels_walked += r2.levels_walked;
            pa = r2.out;
        }
        rc = mem->cmpxchg64(mem->opaque, pa, le64_to_host(pte[i]),
                            le64_to_host(nv), &cur);
        if (rc > 0 && ++retries <= WALK_MAX_RETRIES) {
            /* The entry changed under us: walk again. */
            goto retry;
        }
        if (rc) {
            return walk_fault(f, IOASID_FAULT_EXT_ABORT, stage,
                              fmt_level(fmt, w.nlevels - 1 - i), ia, iova,
                              access, ea[i], pte[i]);
        }
    }

    res->out = addr | (ia & (BIT64(w.granule + w.stride * lvl) - 1));
    res->page_shift = w.granule + w.stride * lvl;
    res->perms = perms;
    return 0;
}

int ioasid_walk(const IoasidPgtCfg *cfg, const IoasidMemOps *mem,
                uint64_t iova, uint8_t access, bool priv, bool ats,
                IoasidResult *res, IoasidFault *fault)
{
    uint8_t stage = cfg->fmt < IOASID_FMT__MAX && walk_fmts[cfg->fmt].stage ?
                    walk_fmts[cfg->fmt].stage : 1;

    res->levels_walked = 0;
    return walk_stage(cfg, NULL, mem, iova, iova, access, priv, ats, stage,
                      res, fault);
}

int ioasid_walk_nested(const IoasidPgtCfg *s1, const IoasidPgtCfg *s2,
                       const IoasidMemOps *mem, uint64_t iova, uint8_t access,
                       bool priv, bool ats, IoasidResult *res,
                       IoasidFault *fault)
{
    IoasidResult r1, r2;
    uint8_t acc2 = access;

    r1.levels_walked = 0;
    if (walk_stage(s1, s2, mem, iova, iova, access, priv, ats, 1, &r1,
                   fault)) {
        return -1;
    }
    if (ats) {
        /* Only what stage 1 grants is requested from stage 2. */
        acc2 &= r1.perms;
    }
    r2.levels_walked = 0;
    if (walk_stage(s2, NULL, mem, r1.out, iova, acc2, priv, ats, 2, &r2,
                   fault)) {
        return -1;
    }
    res->out = r2.out;
    res->page_shift = r1.page_shift < r2.page_shift ? r1.page_shift
                                                    : r2.page_shift;
    res->perms = r1.perms & r2.perms;
    res->levels_walked = r1.levels_walked + r2.levels_walked;
    return 0;
}

const char *ioasid_pgt_cfg_check(const IoasidPgtCfg *cfg)
{
    uint8_t nl, top;
    const char *err;

    if (cfg->fmt <= IOASID_FMT_NONE || cfg->fmt >= IOASID_FMT__MAX) {
        return "unknown page-table format";
    }
    if (cfg->oas < 32 || cfg->oas > 52) {
        return "output address size must be 32..52 bits";
    }
    if (cfg->fmt == IOASID_FMT_IDENTITY) {
        return NULL;
    }
    if (cfg->root >> cfg->oas) {
        return "table root beyond the output address size";
    }
    switch (cfg->fmt) {
    case IOASID_FMT_VTD_SS:
        if (cfg->levels < 3 || cfg->levels > 5) {
            return "VT-d second stage: levels must be 3, 4 or 5";
        }
        if (cfg->root & 0xfff) {
            return "VT-d: table root not 4K aligned";
        }
        return NULL;
    case IOASID_FMT_VTD_FS:
        if (cfg->levels != 4 && cfg->levels != 5) {
            return "VT-d first stage: levels must be 4 or 5";
        }
        if (cfg->root & 0xfff) {
            return "VT-d: table root not 4K aligned";
        }
        return NULL;
    case IOASID_FMT_ARM_S1:
        if (!cfg->arm_aa64) {
            return "Arm: only AArch64 tables are supported";
        }
        if (cfg->arm_ds) {
            return "Arm: 52-bit descriptors (DS, LPA2) not implemented";
        }
        err = arm_s1_geom(cfg->arm_granule, cfg->arm_tsz, &nl, &top);
        if (err) {
            return err;
        }
        if (cfg->root & ((BIT64(top) * 8 < 64 ? 64 : BIT64(top) * 8) - 1)) {
            return "Arm stage 1: TTB0 not aligned to its table size";
        }
        if (cfg->arm_ttb1_valid) {
            err = arm_s1_geom(cfg->arm_granule1, cfg->arm_t1sz, &nl, &top);
            if (err) {
                return err;
            }
            if (cfg->root1 >> cfg->oas) {
                return "Arm stage 1: TTB1 beyond the output address size";
            }
            if (cfg->root1 &
                ((BIT64(top) * 8 < 64 ? 64 : BIT64(top) * 8) - 1)) {
                return "Arm stage 1: TTB1 not aligned to its table size";
            }
        }
        return NULL;
    case IOASID_FMT_ARM_S2:
        if (!cfg->arm_aa64) {
            return "Arm: only AArch64 tables are supported";
        }
        if (cfg->arm_ds) {
            return "Arm: 52-bit descriptors (DS, LPA2) not implemented";
        }
        err = arm_s2_geom(cfg->arm_granule, cfg->arm_tsz, cfg->arm_sl0,
                          &nl, &top);
        if (err) {
            return err;
        }
        if (cfg->root & ((BIT64(top) * 8 < 64 ? 64 : BIT64(top) * 8) - 1)) {
            return "Arm stage 2: VTTBR not aligned to its table size";
        }
        return NULL;
    default:
        return "unknown page-table format";
    }
}

const char *ioasid_fault_reason_str(IoasidFaultReason r)
{
    static const char *const names[IOASID_FAULT__MAX] = {
        [IOASID_FAULT_NONE] = "none",
        [IOASID_FAULT_TRANSLATION] = "translation",
        [IOASID_FAULT_RESERVED] = "reserved bit",
        [IOASID_FAULT_PERMISSION] = "permission",
        [IOASID_FAULT_ADDR_SIZE] = "address size",
        [IOASID_FAULT_INPUT_RANGE] = "input range",
        [IOASID_FAULT_ACCESS_FLAG] = "access flag",
        [IOASID_FAULT_EXT_ABORT] = "external abort",
        [IOASID_FAULT_CONFIG] = "invalid configuration",
    };

    if ((unsigned)r >= IOASID_FAULT__MAX || !names[r]) {
        return "unknown";
    }
    return names[r];
}
