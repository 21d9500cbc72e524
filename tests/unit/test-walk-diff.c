/*
 * Randomized differential test: hw/ioasid/core/walk.c against the
 * reference walker of refwalk.h, over random configurations of every
 * format (single stage and nested) and random table memory.
 *
 * Table memory is a pure function of (seed, address): every 8-byte word
 * decodes as a format-biased random entry pointing into two small table
 * regions, so walks go deep without building anything.  Updates (A/D,
 * AF, DBM) go to per-walker overlays which must agree after each
 * translation, and are then committed so later walks see them.
 *
 * IOASID_TEST_SEED=<n> replays a run; IOASID_TEST_ITERS=<n> sets the
 * number of translations (default 500000).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "tap.h"
#include "walk.h"
#include "refwalk.h"

#define A_BASE      UINT64_C(0x40000000)
#define B_BASE      UINT64_C(0x80000000)
#define REGION      UINT64_C(0x100000)
#define PER_SCEN    400
#define COMMIT_CAP  16384
#define TEMP_CAP    64

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rnd(Rng *r)
{
    r->s = mix64(r->s);
    return r->s;
}

static unsigned below(Rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

static bool pct(Rng *r, unsigned p)
{
    return below(r, 100) < p;
}

/* ---------------------------------------------------------------------- */
/* Memory                                                                   */
/* ---------------------------------------------------------------------- */

typedef struct DiffMem {
    uint64_t seed;
    uint64_t limit;
    IoasidFormat fmt_a, fmt_b;  /* encodings in region A / elsewhere */
    unsigned p_valid;
    bool clean;                 /* no garbage bits: deeper, successful walks */
    uint64_t ckey[COMMIT_CAP], cval[COMMIT_CAP];
    unsigned ccount;
} DiffMem;

typedef struct View {
    DiffMem *d;
    uint64_t key[TEMP_CAP], val[TEMP_CAP];
    unsigned n;
    bool overflow;
} View;

static uint64_t gen_addr(Rng *r, bool in_a)
{
    uint64_t a = (pct(r, 70) == in_a ? A_BASE : B_BASE) +
                 below(r, REGION >> 12) * 0x1000;

    if (pct(r, 8)) {
        a |= rnd(r) & UINT64_C(0x3ffff000);     /* large-page low bits */
    }
    if (pct(r, 4)) {
        a |= UINT64_C(1) << (32 + below(r, 20));  /* beyond OAS */
    }
    return a;
}

static uint64_t bit_if(Rng *r, unsigned p, unsigned n)
{
    return pct(r, p) ? UINT64_C(1) << n : 0;
}

static uint64_t gen_entry(DiffMem *d, uint64_t addr)
{
    Rng r = { mix64(d->seed ^ (addr * UINT64_C(0x2545f4914f6cdd1d))) };
    bool in_a = addr >= A_BASE && addr < A_BASE + REGION;
    IoasidFormat fmt = in_a ? d->fmt_a : d->fmt_b;
    uint64_t v;

    if (!d->clean && pct(&r, 4)) {
        return 0;
    }
    if (!d->clean && pct(&r, 2)) {
        return rnd(&r);
    }
    v = gen_addr(&r, in_a);
    if (d->clean) {
        v &= UINT64_C(0xfffff000);
    }
    switch (fmt) {
    case IOASID_FMT_VTD_SS:
        v |= bit_if(&r, d->p_valid, 0) | bit_if(&r, 75, 1) |
             bit_if(&r, 60, 2) | bit_if(&r, 25, 7) | bit_if(&r, 50, 8) |
             bit_if(&r, 50, 9) | bit_if(&r, d->clean ? 0 : 3, 11) |
             bit_if(&r, 30, 10);
        if (!d->clean && pct(&r, 5)) {
            v |= (rnd(&r) & 0xf) << 3;
        }
        if (d->clean && (v & 0x80)) {
            v &= ~UINT64_C(0x3ffff000);     /* aligned large page */
        }
        if (!pct(&r, d->p_valid)) {
            v &= ~UINT64_C(3);
        }
        break;
    case IOASID_FMT_VTD_FS:
        v |= bit_if(&r, d->p_valid, 0) | bit_if(&r, 75, 1) |
             bit_if(&r, 80, 2) | bit_if(&r, 20, 3) | bit_if(&r, 20, 4) |
             bit_if(&r, 50, 5) | bit_if(&r, 50, 6) | bit_if(&r, 25, 7) |
             bit_if(&r, 20, 8) | bit_if(&r, d->clean ? 0 : 20, 63);
        if (d->clean && (v & 0x80)) {
            v &= ~UINT64_C(0x3ffff000);     /* aligned large page */
        }
        break;
    default:
        /* Arm stage 1 / stage 2 descriptors */
        v |= pct(&r, d->p_valid) ? (pct(&r, 75) ? 3 : 1)
                                 : (pct(&r, 50) ? 2 : 0);
        v |= bit_if(&r, 60, 6) | bit_if(&r, 45, 7) | bit_if(&r, 75, 10) |
             bit_if(&r, 30, 51) | bit_if(&r, 15, 53) | bit_if(&r, 15, 54) |
             bit_if(&r, 8, 59) | bit_if(&r, 8, 60) | bit_if(&r, 8, 61) |
             bit_if(&r, 8, 62) | bit_if(&r, 30, 11) | bit_if(&r, 30, 8);
        if (!d->clean && pct(&r, 10)) {
            v |= (rnd(&r) & 0xf) << 12;
        }
        break;
    }
    if (!d->clean && pct(&r, 10)) {
        v |= rnd(&r) & UINT64_C(0x7ff0000000000000);   /* ignored bits */
    }
    return v;
}

static int commit_find(DiffMem *d, uint64_t addr)
{
    unsigned h = (unsigned)(mix64(addr) % COMMIT_CAP);

    for (unsigned i = 0; i < COMMIT_CAP; i++, h = (h + 1) % COMMIT_CAP) {
        if (d->ckey[h] == addr || d->ckey[h] == UINT64_MAX) {
            return (int)h;
        }
    }
    return -1;
}

static int view_rd(void *o, uint64_t addr, uint64_t *v)
{
    View *w = o;
    DiffMem *d = w->d;
    int h;

    if (addr >= d->limit || d->limit - addr < 8) {
        return -1;
    }
    for (unsigned i = w->n; i-- > 0;) {
        if (w->key[i] == addr) {
            *v = w->val[i];
            return 0;
        }
    }
    h = commit_find(d, addr);
    if (h >= 0 && d->ckey[h] == addr) {
        *v = d->cval[h];
        return 0;
    }
    *v = gen_entry(d, addr);
    return 0;
}

static int view_wr(void *o, uint64_t addr, uint64_t v)
{
    View *w = o;

    if (w->n == TEMP_CAP) {
        w->overflow = true;
        return 0;
    }
    w->key[w->n] = addr;
    w->val[w->n] = v;
    w->n++;
    return 0;
}

static int ops_read(void *o, uint64_t addr, void *buf, size_t len)
{
    uint64_t v;

    if (len != 8 || view_rd(o, addr, &v)) {
        return -1;
    }
    memcpy(buf, &v, 8);
    return 0;
}

static int ops_cmpxchg(void *o, uint64_t addr, uint64_t expect, uint64_t val,
                       uint64_t *cur)
{
    uint64_t v;

    if (view_rd(o, addr, &v)) {
        return -1;
    }
    if (v != expect) {
        *cur = v;
        return 1;
    }
    return view_wr(o, addr, val);
}

/* ---------------------------------------------------------------------- */
/* Configurations                                                          */
/* ---------------------------------------------------------------------- */

static uint64_t gen_root(Rng *r, bool in_a)
{
    uint64_t a = (in_a ? A_BASE : B_BASE) + below(r, REGION >> 16) * 0x10000;

    if (pct(r, 1)) {
        a |= UINT64_C(1) << (30 + below(r, 23));
    }
    return a;
}

static void gen_cfg1(Rng *r, IoasidPgtCfg *c, IoasidFormat fmt, bool root_a);

/* A random configuration; a valid one if @valid (bounded retries). */
static void gen_cfg(Rng *r, IoasidPgtCfg *c, IoasidFormat fmt, bool root_a,
                    bool valid)
{
    for (int i = 0; i < 50; i++) {
        gen_cfg1(r, c, fmt, root_a);
        if (!valid || !ioasid_pgt_cfg_check(c)) {
            return;
        }
    }
}

static void gen_cfg1(Rng *r, IoasidPgtCfg *c, IoasidFormat fmt, bool root_a)
{
    static const uint8_t oas[] = { 32, 36, 40, 42, 44, 48, 52, 52, 48, 39 };

    memset(c, 0, sizeof(*c));
    c->fmt = fmt;
    c->oas = pct(r, 2) ? below(r, 70) : oas[below(r, 10)];
    c->root = gen_root(r, root_a);
    switch (fmt) {
    case IOASID_FMT_VTD_SS:
        c->levels = pct(r, 3) ? below(r, 8) : 3 + below(r, 3);
        c->vtd_ad = pct(r, 50);
        c->vtd_sl_exec = pct(r, 50);
        break;
    case IOASID_FMT_VTD_FS:
        c->levels = pct(r, 3) ? below(r, 8) : 4 + below(r, 2);
        c->vtd_ad = pct(r, 50);
        c->vtd_wpe = pct(r, 50);
        c->vtd_sre = pct(r, 80);
        c->vtd_nxe = pct(r, 70);
        break;
    case IOASID_FMT_ARM_S1:
    case IOASID_FMT_ARM_S2:
        c->arm_aa64 = !pct(r, 2);
        c->arm_ds = pct(r, 2);
        c->arm_granule = pct(r, 2) ? below(r, 20) : 12 + 2 * below(r, 3);
        c->arm_granule1 = pct(r, 2) ? below(r, 20) : 12 + 2 * below(r, 3);
        c->arm_tsz = 12 + below(r, 38);
        c->arm_t1sz = 12 + below(r, 38);
        c->arm_ttb1_valid = pct(r, 50);
        c->root1 = gen_root(r, root_a);
        c->arm_epd0 = pct(r, 5);
        c->arm_epd1 = pct(r, 5);
        c->arm_ha = pct(r, 50);
        c->arm_hd = pct(r, 50);
        c->arm_affd = pct(r, 20);
        c->arm_sl0 = below(r, 4);
        if (fmt == IOASID_FMT_ARM_S2) {
            /* Mostly valid SL0 / T0SZ combinations. */
            for (int i = 0; i < 20 && ioasid_pgt_cfg_check(c) &&
                 pct(r, 95); i++) {
                c->arm_tsz = 12 + below(r, 38);
                c->arm_sl0 = below(r, 3);
                c->oas = oas[below(r, 10)];
            }
        }
        break;
    default:
        break;
    }
}

static IoasidFormat pick_fmt(Rng *r, bool s2)
{
    unsigned x = below(r, 100);

    if (x < 2) {
        return x ? IOASID_FMT_IDENTITY : (IoasidFormat)below(r, 8);
    }
    if (s2) {
        return x < 50 ? IOASID_FMT_VTD_SS : IOASID_FMT_ARM_S2;
    }
    return (IoasidFormat)(IOASID_FMT_VTD_SS + (x % 4));
}

static uint64_t gen_iova(Rng *r, const IoasidPgtCfg *c)
{
    uint64_t v = rnd(r);
    unsigned bits = 48;

    if (pct(r, 5)) {
        return v;
    }
    switch (c->fmt) {
    case IOASID_FMT_VTD_SS:
    case IOASID_FMT_VTD_FS:
        bits = 12 + 9 * (c->levels % 8) - (c->fmt == IOASID_FMT_VTD_FS);
        break;
    case IOASID_FMT_ARM_S1:
    case IOASID_FMT_ARM_S2:
        bits = 64 - (c->arm_tsz % 64);
        if (c->fmt == IOASID_FMT_ARM_S1 && pct(r, 40)) {
            bits = 64 - (c->arm_t1sz % 64);
            return bits >= 64 ? v : v | (~UINT64_C(0) << bits);
        }
        break;
    default:
        bits = c->oas;
        break;
    }
    if (bits >= 64 || bits == 0) {
        return v;
    }
    v &= (UINT64_C(1) << bits) - 1;
    if (c->fmt == IOASID_FMT_VTD_FS && pct(r, 40)) {
        v |= ~UINT64_C(0) << bits;
    }
    /* Mostly addresses near the table regions, to reach real tables. */
    if (pct(r, 30) && bits > 33) {
        v = (v & 0xffffffff) | (pct(r, 50) ? A_BASE : B_BASE);
    }
    return v;
}

/* ---------------------------------------------------------------------- */

static unsigned n_fail;

static void dump_cfg(const char *n, const IoasidPgtCfg *c)
{
    printf("#   %s: fmt %d root 0x%" PRIx64 " root1 0x%" PRIx64 " levels %u "
           "oas %u ad %d wpe %d sre %d slx %d nxe %d gran %u/%u tsz %u/%u "
           "sl0 %u epd %d/%d ttb1 %d affd %d ha %d hd %d ds %d aa64 %d\n",
           n, c->fmt, c->root, c->root1, c->levels, c->oas, c->vtd_ad,
           c->vtd_wpe, c->vtd_sre, c->vtd_sl_exec, c->vtd_nxe,
           c->arm_granule, c->arm_granule1, c->arm_tsz, c->arm_t1sz,
           c->arm_sl0, c->arm_epd0, c->arm_epd1, c->arm_ttb1_valid,
           c->arm_affd, c->arm_ha, c->arm_hd, c->arm_ds, c->arm_aa64);
}

static void dump_out(const char *n, int rc, const IoasidResult *res,
                     const IoasidFault *f)
{
    if (rc == 0) {
        printf("#   %s: ok out 0x%" PRIx64 " shift %u perms %u levels %u\n",
               n, res->out, res->page_shift, res->perms, res->levels_walked);
    } else {
        printf("#   %s: fault %s stage %u level %d s2s1 %d access %u input "
               "0x%" PRIx64 " iova 0x%" PRIx64 " entry 0x%" PRIx64
               " @ 0x%" PRIx64 "\n", n, ioasid_fault_reason_str(f->reason),
               f->stage, f->level, f->s2_on_s1_walk, f->access,
               f->input_addr, f->iova, f->entry, f->entry_addr);
    }
}

static bool same(int rc1, const IoasidResult *r1, const IoasidFault *f1,
                 int rc2, const IoasidResult *r2, const IoasidFault *f2)
{
    if (rc1 != rc2) {
        return false;
    }
    if (rc1 == 0) {
        return r1->out == r2->out && r1->page_shift == r2->page_shift &&
               r1->perms == r2->perms &&
               r1->levels_walked == r2->levels_walked;
    }
    return f1->reason == f2->reason && f1->stage == f2->stage &&
           f1->level == f2->level && f1->s2_on_s1_walk == f2->s2_on_s1_walk &&
           f1->access == f2->access && f1->input_addr == f2->input_addr &&
           f1->iova == f2->iova && f1->entry_addr == f2->entry_addr &&
           f1->entry == f2->entry;
}

int main(void)
{
    static DiffMem dm;
    static View vw, vr;
    const char *s = getenv("IOASID_TEST_SEED");
    const char *it = getenv("IOASID_TEST_ITERS");
    uint64_t seed = s ? strtoull(s, NULL, 0) :
                    (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    unsigned long iters = it ? strtoul(it, NULL, 0) : 500000;
    /* [format of the first stage (or IOASID_FMT__MAX: nested)][reason] */
    unsigned long cov[IOASID_FMT__MAX + 1][IOASID_FAULT__MAX] = { { 0 } };
    unsigned long n = 0, updates = 0, nested = 0, s2s1 = 0;
    struct timespec t0, t1;
    Rng r = { seed };
    double secs;

    printf("# seed=%" PRIu64 " (IOASID_TEST_SEED to replay)\n", seed);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n < iters) {
        IoasidPgtCfg c1, c2;
        IoasidMemOps ops = { .opaque = &vw, .read = ops_read,
                             .cmpxchg64 = ops_cmpxchg };
        RefMem rm = { .o = &vr, .rd = view_rd, .wr = view_wr };
        bool nest = pct(&r, 35);

        dm.clean = pct(&r, 30);

        memset(dm.ckey, 0xff, sizeof(dm.ckey));
        dm.ccount = 0;
        dm.seed = rnd(&r);
        dm.p_valid = dm.clean ? 97 + below(&r, 4) : 80 + below(&r, 20);
        dm.limit = pct(&r, 85) ? UINT64_C(1) << 52 :
                   (pct(&r, 50) ? A_BASE : B_BASE) + below(&r, REGION);
        ops.cmpxchg64 = pct(&r, 85) ? ops_cmpxchg : NULL;
        rm.can_update = ops.cmpxchg64 != NULL;
        if (nest) {
            gen_cfg(&r, &c2, pick_fmt(&r, true), true, dm.clean);
            gen_cfg(&r, &c1, pct(&r, 50) ?
                    (c2.fmt == IOASID_FMT_ARM_S2 ? IOASID_FMT_ARM_S1
                                                 : IOASID_FMT_VTD_FS) :
                    pick_fmt(&r, false), false, dm.clean);
            dm.fmt_a = c2.fmt;
            dm.fmt_b = c1.fmt;
        } else {
            gen_cfg(&r, &c1, pick_fmt(&r, false), true, dm.clean);
            dm.fmt_a = dm.fmt_b = c1.fmt;
        }
        for (unsigned k = 0; k < PER_SCEN && n < iters; k++, n++) {
            uint64_t iova = gen_iova(&r, &c1);
            uint8_t acc = pct(&r, 5) ? 0 : 1 + below(&r, 7);
            bool priv = pct(&r, 50), ats = pct(&r, 20);
            IoasidResult rw = { 0 }, rr = { 0 };
            IoasidFault fw = { 0 }, fr = { 0 };
            int rcw, rcr;
            bool ok;

            vw.d = vr.d = &dm;
            vw.n = vr.n = 0;
            vw.overflow = vr.overflow = false;
            if (nest) {
                rcr = ref_walk_nested(&c1, &c2, &rm, iova, acc, priv, ats,
                                      &rr, &fr);
                rcw = ioasid_walk_nested(&c1, &c2, &ops, iova, acc, priv,
                                         ats, &rw, &fw);
            } else {
                rcr = ref_walk(&c1, &rm, iova, acc, priv, ats, &rr, &fr);
                rcw = ioasid_walk(&c1, &ops, iova, acc, priv, ats, &rw, &fw);
            }
            ok = same(rcw, &rw, &fw, rcr, &rr, &fr) && vw.n == vr.n &&
                 !memcmp(vw.key, vr.key, vw.n * 8) &&
                 !memcmp(vw.val, vr.val, vw.n * 8);
            if (!ok) {
                if (n_fail++ < 10) {
                    printf("# MISMATCH #%lu: iova 0x%" PRIx64 " access %u "
                           "priv %d ats %d nested %d cmpxchg %d limit 0x%"
                           PRIx64 "\n", n, iova, acc, priv, ats, nest,
                           rm.can_update, dm.limit);
                    dump_cfg("s1", &c1);
                    if (nest) {
                        dump_cfg("s2", &c2);
                    }
                    dump_out("walk", rcw, &rw, &fw);
                    dump_out("ref ", rcr, &rr, &fr);
                    printf("#   updates: walk %u ref %u\n", vw.n, vr.n);
                }
                continue;
            }
            cov[nest ? IOASID_FMT__MAX : c1.fmt < IOASID_FMT__MAX ? c1.fmt : 0]
               [rcw ? fw.reason : 0]++;
            nested += nest;
            s2s1 += rcw && fw.s2_on_s1_walk;
            updates += vw.n;
            /* Commit the updates so later walks see them. */
            for (unsigned i = 0; i < vw.n; i++) {
                int h = commit_find(&dm, vw.key[i]);
                if (h >= 0 && dm.ccount < COMMIT_CAP / 2) {
                    if (dm.ckey[h] != vw.key[i]) {
                        dm.ccount++;
                    }
                    dm.ckey[h] = vw.key[i];
                    dm.cval[h] = vw.val[i];
                }
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

    TAP_OK(n_fail == 0, "%lu translations (%lu nested), %u mismatches, "
           "%.3f s, seed %" PRIu64, n, nested, n_fail, secs, seed);
    TAP_OK(n >= 100000 || it, "at least 100000 translations");
    printf("# %lu hardware A/D/AF/DBM updates, %lu stage-2 faults on "
           "stage-1 walks\n", updates, s2s1);
    printf("# outcome coverage per format (ok, then fault reasons):\n");
    for (int fmt = 0; fmt <= IOASID_FMT__MAX; fmt++) {
        printf("#   %-8s", fmt == IOASID_FMT__MAX ? "nested" :
               (const char *[]){ "none", "identity", "vtd-ss", "vtd-fs",
                                 "arm-s1", "arm-s2" }[fmt]);
        for (int rs = 0; rs < IOASID_FAULT__MAX; rs++) {
            printf(" %s=%lu", rs ? ioasid_fault_reason_str(rs) : "ok",
                   cov[fmt][rs]);
        }
        printf("\n");
    }
    if (!it) {
        /* With the default count every paging outcome must be reached. */
        static const struct {
            int fmt;
            IoasidFaultReason r;
        } need[] = {
            { IOASID_FMT_VTD_SS, 0 },
            { IOASID_FMT_VTD_SS, IOASID_FAULT_TRANSLATION },
            { IOASID_FMT_VTD_SS, IOASID_FAULT_RESERVED },
            { IOASID_FMT_VTD_SS, IOASID_FAULT_PERMISSION },
            { IOASID_FMT_VTD_SS, IOASID_FAULT_INPUT_RANGE },
            { IOASID_FMT_VTD_SS, IOASID_FAULT_EXT_ABORT },
            { IOASID_FMT_VTD_SS, IOASID_FAULT_CONFIG },
            { IOASID_FMT_VTD_FS, 0 },
            { IOASID_FMT_VTD_FS, IOASID_FAULT_TRANSLATION },
            { IOASID_FMT_VTD_FS, IOASID_FAULT_RESERVED },
            { IOASID_FMT_VTD_FS, IOASID_FAULT_PERMISSION },
            { IOASID_FMT_VTD_FS, IOASID_FAULT_INPUT_RANGE },
            { IOASID_FMT_ARM_S1, 0 },
            { IOASID_FMT_ARM_S1, IOASID_FAULT_TRANSLATION },
            { IOASID_FMT_ARM_S1, IOASID_FAULT_PERMISSION },
            { IOASID_FMT_ARM_S1, IOASID_FAULT_ADDR_SIZE },
            { IOASID_FMT_ARM_S1, IOASID_FAULT_ACCESS_FLAG },
            { IOASID_FMT_ARM_S1, IOASID_FAULT_CONFIG },
            { IOASID_FMT_ARM_S2, 0 },
            { IOASID_FMT_ARM_S2, IOASID_FAULT_TRANSLATION },
            { IOASID_FMT_ARM_S2, IOASID_FAULT_PERMISSION },
            { IOASID_FMT_ARM_S2, IOASID_FAULT_ADDR_SIZE },
            { IOASID_FMT_ARM_S2, IOASID_FAULT_ACCESS_FLAG },
            { IOASID_FMT_ARM_S2, IOASID_FAULT_CONFIG },
            { IOASID_FMT__MAX, 0 },
            { IOASID_FMT__MAX, IOASID_FAULT_TRANSLATION },
            { IOASID_FMT__MAX, IOASID_FAULT_PERMISSION },
        };
        for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
            TAP_OK(cov[need[i].fmt][need[i].r] > 0,
                   "coverage: format %d outcome %s", need[i].fmt,
                   need[i].r ? ioasid_fault_reason_str(need[i].r) : "ok");
        }
        TAP_OK(updates > 100 && s2s1 > 100,
               "coverage: updates and stage-2 faults on stage-1 walks");
    }
    return tap_done();
}
