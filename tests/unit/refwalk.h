/*
 * Reference page-table walker for the differential test.
 *
 * Deliberately simple and written separately from hw/ioasid/core/walk.c:
 * one function, explicit per-format branches, spec level numbers, booleans
 * for the accumulated attributes, recursion for nesting.  It implements
 * the semantics documented in docs/devel/ioasid-walkers.rst, not the code.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_REFWALK_H
#define IOASID_REFWALK_H

#include <stdbool.h>
#include <stdint.h>

#include "ioasid-types.h"

typedef struct RefMem {
    void *o;
    int (*rd)(void *o, uint64_t addr, uint64_t *val);  /* -1: abort */
    int (*wr)(void *o, uint64_t addr, uint64_t val);   /* -1: abort */
    bool can_update;        /* the walker's mem has cmpxchg64 */
} RefMem;

#define REF_BIT(n) (UINT64_C(1) << (n))

static inline int ref_fail(IoasidFault *f, IoasidFaultReason why, int stage,
                           int level, uint64_t ia, uint64_t iova, uint8_t acc,
                           uint64_t ea, uint64_t e)
{
    IoasidFault z = { 0 };

    z.reason = why;
    z.stage = stage;
    z.level = level;
    z.access = acc;
    z.input_addr = ia;
    z.iova = iova;
    z.entry_addr = ea;
    z.entry = e;
    *f = z;
    return -1;
}

/* The bits [hi:lo] of @v, shifted down. */
static inline uint64_t ref_bits(uint64_t v, int hi, int lo)
{
    return (v >> lo) & ((hi - lo == 63) ? ~UINT64_C(0)
                                        : (REF_BIT(hi - lo + 1) - 1));
}

static int ref_stage(const IoasidPgtCfg *c, const IoasidPgtCfg *s2,
                     RefMem *m, uint64_t ia, uint64_t iova, uint8_t acc,
                     bool priv, bool ats, int stage, IoasidResult *res,
                     IoasidFault *f)
{
    int fmt = c->fmt;
    bool vtd = fmt == IOASID_FMT_VTD_SS || fmt == IOASID_FMT_VTD_FS;
    int first, L;               /* spec levels */
    unsigned g = 12, stride = 9, topbits = 9, ias;
    uint64_t root = c->root, table;
    bool upd_a = false, upd_d = false;
    /* accumulated attributes */
    bool all_r, all_w, all_x, all_us, no_el0, no_w, uxn_t, pxn_t;
    uint64_t ea_of[8], e_of[8], e = 0, out = 0;
    int nent, leaf_L = 0, tries = 0;
    unsigned shift = 0;
    uint8_t perms;

    if (c->oas < 32 || c->oas > 52 || fmt >= IOASID_FMT__MAX ||
        fmt == IOASID_FMT_NONE) {
        return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova, acc, 0,
                        0);
    }
    if (fmt == IOASID_FMT_IDENTITY) {
        if (ia >= REF_BIT(c->oas)) {
            return ref_fail(f, IOASID_FAULT_ADDR_SIZE, stage, -1, ia, iova,
                            acc, 0, 0);
        }
        res->out = ia;
        res->page_shift = 12;
        res->perms = 7;
        return 0;
    }

    if (fmt == IOASID_FMT_VTD_SS) {
        if (c->levels < 3 || c->levels > 5) {
            return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova, acc,
                            0, 0);
        }
        ias = 12 + 9 * c->levels;
        if (ia >= REF_BIT(ias)) {
            return ref_fail(f, IOASID_FAULT_INPUT_RANGE, stage, -1, ia, iova,
                            acc, 0, 0);
        }
        first = c->levels;
        upd_a = upd_d = c->vtd_ad;
    } else if (fmt == IOASID_FMT_VTD_FS) {
        uint64_t top;

        if (c->levels != 4 && c->levels != 5) {
            return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova, acc,
                            0, 0);
        }
        ias = c->levels == 4 ? 48 : 57;
        top = ia >> (ias - 1);
        if (top != 0 && top != (~UINT64_C(0) >> (ias - 1))) {
            return ref_fail(f, IOASID_FAULT_INPUT_RANGE, stage, -1, ia, iova,
                            acc, 0, 0);
        }
        if (priv && !c->vtd_sre) {
            return ref_fail(f, IOASID_FAULT_PERMISSION, stage, -1, ia, iova,
                            acc, 0, 0);
        }
        first = c->levels;
        upd_a = upd_d = c->vtd_ad;
    } else {
        unsigned t, mint, maxt;
        int startlvl;

        if (!c->arm_aa64 || c->arm_ds) {
            return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova, acc,
                            0, 0);
        }
        if (fmt == IOASID_FMT_ARM_S1) {
            bool hi = (ia >> 63) != 0;

            if (hi && !c->arm_ttb1_valid) {
                return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, 0, ia,
                                iova, acc, 0, 0);
            }
            g = hi ? c->arm_granule1 : c->arm_granule;
            t = hi ? c->arm_t1sz : c->arm_tsz;
            root = hi ? c->root1 : c->root;
            mint = g == 16 ? 12 : 16;
            maxt = g == 16 ? 47 : 48;
            if ((g != 12 && g != 14 && g != 16) || t < mint || t > maxt) {
                return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova,
                                acc, 0, 0);
            }
            ias = 64 - t;
            if (hi ? (ia | (REF_BIT(ias) - 1)) != ~UINT64_C(0)
                   : ia >= REF_BIT(ias)) {
                return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, 0, ia,
                                iova, acc, 0, 0);
            }
            if (hi ? c->arm_epd1 : c->arm_epd0) {
                return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, 0, ia,
                                iova, acc, 0, 0);
            }
            stride = g - 3;
            /* Start at the highest level whose range covers ias bits. */
            for (startlvl = 3; startlvl > 0; startlvl--) {
                if (ias <= g + stride * (4 - startlvl)) {
                    break;
                }
            }
        } else {
            g = c->arm_granule;
            t = c->arm_tsz;
            mint = g == 16 ? 12 : 16;
            maxt = g == 16 ? 47 : 48;
            if ((g != 12 && g != 14 && g != 16) || t < mint || t > maxt ||
                c->arm_sl0 > 2) {
                return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova,
                                acc, 0, 0);
            }
            stride = g - 3;
            ias = 64 - t;
            if (g == 12) {
                startlvl = c->arm_sl0 == 0 ? 2 : c->arm_sl0 == 1 ? 1 : 0;
            } else {
                startlvl = c->arm_sl0 == 0 ? 3 : c->arm_sl0 == 1 ? 2 : 1;
            }
            /* 1 .. stride + 4 index bits (16 concatenated tables). */
            if (ias <= g + stride * (3 - startlvl) ||
                ias > g + stride * (4 - startlvl) + 4) {
                return ref_fail(f, IOASID_FAULT_CONFIG, stage, -1, ia, iova,
                                acc, 0, 0);
            }
            if (ia >= REF_BIT(ias)) {
                return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, 0, ia,
                                iova, acc, 0, 0);
            }
        }
        first = startlvl;
        topbits = ias - (g + stride * (3 - startlvl));
        upd_a = c->arm_ha;
        upd_d = c->arm_ha && c->arm_hd;
    }
    if (!m->can_update) {
        upd_a = upd_d = false;
    }
    if (root >= REF_BIT(c->oas)) {
        return ref_fail(f, IOASID_FAULT_ADDR_SIZE, stage, first, ia, iova,
                        acc, 0, 0);
    }

again:
    all_r = all_w = all_x = all_us = true;
    no_el0 = no_w = uxn_t = pxn_t = false;
    table = root;
    nent = 0;
    for (L = first;; vtd ? L-- : L++) {
        bool last = vtd ? L == 1 : L == 3;
        bool is_leaf = false;
        unsigned nb = L == first ? topbits : stride;
        uint64_t ea, pa, oabits;

        shift = vtd ? 12 + 9 * (unsigned)(L - 1) : g + stride * (3 - L);
        ea = table + 8 * ((ia >> shift) & (REF_BIT(nb) - 1));
        pa = ea;
        if (s2) {
            IoasidResult r2 = { 0 };
            if (ref_stage(s2, NULL, m, ea, iova, IOASID_PERM_READ, false,
                          false, 2, &r2, f)) {
                f->s2_on_s1_walk = true;
                return -1;
            }
            res->levels_walked += r2.levels_walked;
            pa = r2.out;
        }
        if (m->rd(m->o, pa, &e)) {
            return ref_fail(f, IOASID_FAULT_EXT_ABORT, stage, L, ia, iova,
                            acc, ea, 0);
        }
        res->levels_walked++;
        ea_of[nent] = ea;
        e_of[nent] = e;
        nent++;

        if (fmt == IOASID_FMT_VTD_SS || fmt == IOASID_FMT_VTD_FS) {
            bool ss = fmt == IOASID_FMT_VTD_SS;
            uint64_t bad = 0;
            int b;

            if (ss ? (e & 3) == 0 : (e & 1) == 0) {
                return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, L, ia,
                                iova, acc, ea, e);
            }
            for (b = c->oas; b <= 51; b++) {
                bad |= REF_BIT(b);
            }
            is_leaf = L == 1 || ((L == 2 || L == 3) && (e & 0x80));
            if (ss) {
                bad |= REF_BIT(11);
                if (L >= 4) {
                    bad |= 0xf8;        /* PS and 6:3 */
                } else if (!is_leaf) {
                    bad |= 0x78;
                } else if (L > 1) {
                    bad |= (REF_BIT(shift) - 1) & ~UINT64_C(0xfff);
                }
            } else {
                if (!c->vtd_nxe) {
                    bad |= REF_BIT(63);
                }
                if (L >= 4) {
                    bad |= 0x80;
                } else if (is_leaf && L > 1) {
                    bad |= (REF_BIT(shift) - 1) & ~UINT64_C(0x1fff);
                }
            }
            if (e & bad) {
                return ref_fail(f, IOASID_FAULT_RESERVED, stage, L, ia, iova,
                                acc, ea, e);
            }
            if (ss) {
                all_r = all_r && (e & 1);
                all_w = all_w && (e & 2);
                all_x = all_x && (e & 4);
            } else {
                all_w = all_w && (e & 2);
                all_us = all_us && (e & 4);
                all_x = all_x && !(e >> 63);
            }
            oabits = ref_bits(e, 51, 12) << 12;
            if (is_leaf) {
                out = oabits & ~(REF_BIT(shift) - 1);
            } else {
                table = oabits;
            }
        } else {
            bool s1 = fmt == IOASID_FMT_ARM_S1;
            unsigned at = is_leaf ? shift : g;

            if (!(e & 1)) {
                return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, L, ia,
                                iova, acc, ea, e);
            }
            if (last) {
                if (!(e & 2)) {
                    return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, L, ia,
                                    iova, acc, ea, e);
                }
                is_leaf = true;
            } else if (!(e & 2)) {
                bool blk_ok;

                if (g == 12) {
                    blk_ok = L == 1 || L == 2;
                } else if (g == 14) {
                    blk_ok = L == 2;
                } else {
                    blk_ok = L == 2 || (L == 1 && c->oas >= 52);
                }
                if (!blk_ok) {
                    return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, L, ia,
                                    iova, acc, ea, e);
                }
                is_leaf = true;
            }
            at = is_leaf ? shift : g;
            oabits = ref_bits(e, 47, at) << at;
            if (g == 16) {
                oabits |= ref_bits(e, 15, 12) << 48;
            }
            if (oabits >= REF_BIT(c->oas)) {
                return ref_fail(f, IOASID_FAULT_ADDR_SIZE, stage, L, ia, iova,
                                acc, ea, e);
            }
            if (is_leaf) {
                out = oabits;
            } else {
                table = oabits;
                if (s1) {
                    pxn_t = pxn_t || (e & REF_BIT(59));
                    uxn_t = uxn_t || (e & REF_BIT(60));
                    no_el0 = no_el0 || (e & REF_BIT(61));
                    no_w = no_w || (e & REF_BIT(62));
                }
            }
        }
        if (is_leaf) {
            leaf_L = L;
            break;
        }
        if (last) {
            return ref_fail(f, IOASID_FAULT_TRANSLATION, stage, -1, ia, iova,
                            acc, 0, 0);
        }
    }

    /* Leaf: permissions and the leaf's new value. */
    {
        uint64_t nl = e;
        bool r = false, w = false, x = false;

        if (fmt == IOASID_FMT_VTD_SS) {
            r = all_r;
            w = all_w;
            x = c->vtd_sl_exec ? all_x : r;
            if (upd_a) {
                nl |= REF_BIT(8);
            }
            if (upd_d && !(e & REF_BIT(9)) && w) {
                if (acc & IOASID_PERM_WRITE) {
                    nl |= REF_BIT(9);
                } else {
                    w = false;
                }
            }
        } else if (fmt == IOASID_FMT_VTD_FS) {
            if (priv || all_us) {
                r = true;
                w = all_w || (priv && !c->vtd_wpe);
                x = all_x;
            }
            if (upd_a) {
                nl |= REF_BIT(5);
            }
            if (upd_d && !(e & REF_BIT(6)) && w) {
                if (acc & IOASID_PERM_WRITE) {
                    nl |= REF_BIT(6);
                } else {
                    w = false;
                }
            }
        } else {
            if (!(e & REF_BIT(10))) {
                if (upd_a) {
                    nl |= REF_BIT(10);
                } else if (!c->arm_affd) {
                    return ref_fail(f, IOASID_FAULT_ACCESS_FLAG, stage, leaf_L,
                                    ia, iova, acc, ea_of[nent - 1], e);
                }
            }
            if (fmt == IOASID_FMT_ARM_S1) {
                bool data = priv || ((e & REF_BIT(6)) && !no_el0);

                r = data;
                if (data && !no_w) {
                    if (!(e & REF_BIT(7))) {
                        w = true;
                    } else if ((e & REF_BIT(51)) && upd_d &&
                               (acc & IOASID_PERM_WRITE)) {
                        w = true;
                        nl &= ~REF_BIT(7);
                    }
                }
                x = priv ? !(e & REF_BIT(53)) && !pxn_t
                         : !(e & REF_BIT(54)) && !uxn_t;
            } else {
                r = (e & REF_BIT(6)) != 0;
                w = (e & REF_BIT(7)) != 0;
                if (!w && (e & REF_BIT(51)) && upd_d &&
                    (acc & IOASID_PERM_WRITE)) {
                    w = true;
                    nl |= REF_BIT(7);
                }
                x = !(e & REF_BIT(54));
            }
        }
        perms = (r ? IOASID_PERM_READ : 0) | (w ? IOASID_PERM_WRITE : 0) |
                (x ? IOASID_PERM_EXEC : 0);
        if (!ats && (acc & ~perms)) {
            return ref_fail(f, IOASID_FAULT_PERMISSION, stage, leaf_L, ia,
                            iova, acc, ea_of[nent - 1], e);
        }

        /* Updates, root first: tables get A (VT-d only), then the leaf. */
        for (int i = 0; i < nent && (upd_a || upd_d); i++) {
            uint64_t nv = e_of[i], pa = ea_of[i], cur;

            if (i == nent - 1) {
                nv = nl;
            } else if (fmt == IOASID_FMT_VTD_SS && upd_a) {
                nv |= REF_BIT(8);
            } else if (fmt == IOASID_FMT_VTD_FS && upd_a) {
                nv |= REF_BIT(5);
            }
            if (nv == e_of[i]) {
                continue;
            }
            if (s2) {
                IoasidResult r2 = { 0 };
                if (ref_stage(s2, NULL, m, ea_of[i], iova, IOASID_PERM_WRITE,
                              false, false, 2, &r2, f)) {
                    f->s2_on_s1_walk = true;
                    return -1;
                }
                res->levels_walked += r2.levels_walked;
                pa = r2.out;
            }
            if (m->rd(m->o, pa, &cur) == 0 && cur != e_of[i]) {
                if (++tries <= 4) {
                    goto again;
                }
            }
            if (m->rd(m->o, pa, &cur) || cur != e_of[i] ||
                m->wr(m->o, pa, nv)) {
                return ref_fail(f, IOASID_FAULT_EXT_ABORT, stage,
                                vtd ? first - i : first + i, ia, iova, acc,
                                ea_of[i], e_of[i]);
            }
        }
    }
    res->out = out | (ia & (REF_BIT(shift) - 1));
    res->page_shift = shift;
    res->perms = perms;
    return 0;
}

static inline int ref_walk(const IoasidPgtCfg *c, RefMem *m, uint64_t iova,
                           uint8_t acc, bool priv, bool ats,
                           IoasidResult *res, IoasidFault *f)
{
    int stage = (c->fmt == IOASID_FMT_VTD_SS || c->fmt == IOASID_FMT_ARM_S2)
                ? 2 : 1;

    res->levels_walked = 0;
    return ref_stage(c, NULL, m, iova, iova, acc, priv, ats, stage, res, f);
}

static inline int ref_walk_nested(const IoasidPgtCfg *s1,
                                  const IoasidPgtCfg *s2, RefMem *m,
                                  uint64_t iova, uint8_t acc, bool priv,
                                  bool ats, IoasidResult *res,
                                  IoasidFault *f)
{
    IoasidResult a = { 0 }, b = { 0 };

    if (ref_stage(s1, s2, m, iova, iova, acc, priv, ats, 1, &a, f)) {
        return -1;
    }
    if (ref_stage(s2, NULL, m, a.out, iova,
                  ats ? (uint8_t)(acc & a.perms) : acc, priv, ats, 2, &b, f)) {
        return -1;
    }
    res->out = b.out;
    res->page_shift = a.page_shift < b.page_shift ? a.page_shift
                                                  : b.page_shift;
    res->perms = a.perms & b.perms;
    res->levels_walked = a.levels_walked + b.levels_walked;
    return 0;
}

#endif
