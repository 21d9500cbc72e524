/*
 * Translate pipeline tests: attach lookup -> IOTLB -> walk -> insert with
 * tables in fake memory.  Stale-until-invalidated semantics, permission
 * upgrades and A/D re-walks, nested IOASIDs, sharing one IOASID between
 * devices, privilege separation, ATS, faults, identity.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tap.h"
#include "test-walk-builder.h"
#include "translate.h"

#define R   IOASID_PERM_READ
#define W   IOASID_PERM_WRITE
#define B(n) (UINT64_C(1) << (n))

static Tb tb;
static const TbGeo g4 = { 12, 9, 4, 9, UINT64_C(0x000ffffffffff000) };

static int xlate(IoasidTable *t, IoasidIotlb *tlb, uint16_t rid,
                 uint32_t pasid, uint64_t iova, uint8_t access, bool priv,
                 bool ats, IoasidResult *res, IoasidFault *f)
{
    IoasidRequest req = {
        .rid = rid, .pasid = pasid, .iova = iova, .access = access,
        .priv = priv, .ats = ats,
    };

    return ioasid_translate(t, tlb, &tb.ops, &req, res, f);
}

static IoasidIotlbStats stats(IoasidIotlb *tlb)
{
    IoasidIotlbStats st;

    ioasid_iotlb_stats(tlb, &st);
    return st;
}

static void test_second_stage(IoasidTable *t, IoasidIotlb *tlb)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_VTD_SS, .levels = 4, .oas = 48 };
    uint64_t iova = 0x40201000, iova2 = 0x7000000;
    IoasidResult res;
    IoasidFault f;
    Ioasid *a;
    int rc;

    tb_init(&tb, 0x100000);
    c.root = tb_root(&tb, &g4);
    tb_map(&tb, &g4, c.root, iova, 0, 3, 0x80000000 | 3, NULL);
    a = ioasid_new(1, &c, NULL, 5, IOASID_TAG_NONE);
    ioasid_attach(t, 0x08, IOASID_NO_PASID, a);
    ioasid_iotlb_reset_stats(tlb);

    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova | 0x234, R, false, false,
               &res, &f);
    TAP_OK(rc == 0 && res.out == 0x80000234 && res.page_shift == 12 &&
           res.levels_walked == 4 && (res.perms & IOASID_PERM_RW) ==
           IOASID_PERM_RW, "ss4: miss walks 4 levels");
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova | 0x238, W, false, false,
               &res, &f);
    TAP_OK(rc == 0 && res.out == 0x80000238 && res.levels_walked == 0,
           "ss4: second access hits");
    TAP_OK(stats(tlb).hits == 1 && stats(tlb).misses == 1 &&
           stats(tlb).walks == 1 && stats(tlb).inserts == 1,
           "ss4: counters hit 1 miss 1 walk 1 insert 1");

    /* Another device attached to the same IOASID shares its entries. */
    ioasid_attach(t, 0x20, IOASID_NO_PASID, a);
    rc = xlate(t, tlb, 0x20, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.levels_walked == 0 && stats(tlb).walks == 1,
           "shared ioasid: other rid hits the same entry");

    TAP_EQ(xlate(t, tlb, 0x09, IOASID_NO_PASID, iova, R, false, false, &res,
                 &f), IOASID_XLATE_NOT_ATTACHED, "not attached rid");
    TAP_EQ(xlate(t, tlb, 0x08, 3, iova, R, false, false, &res, &f),
           IOASID_XLATE_NOT_ATTACHED, "not attached (rid, pasid)");

    /* Stale until invalidated. */
    tb_map(&tb, &g4, c.root, iova, 0, 3, 0x90000000 | 3, NULL);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x80000000,
           "stale: old translation until invalidation");
    ioasid_iotlb_inv_range(tlb, 6, IOASID_TAG_ANY, iova, 0x1000, true);
    ioasid_iotlb_inv_range(tlb, 5, IOASID_TAG_ANY, iova + 0x1000, 0x1000,
                           true);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x80000000,
           "stale: other domain / other page invalidations keep it");
    ioasid_iotlb_inv_range(tlb, 5, IOASID_TAG_ANY, iova, 0x1000, true);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x90000000 && res.levels_walked == 4,
           "stale: new translation after page invalidation");
    tb_map(&tb, &g4, c.root, iova, 0, 3, 0xa0000000 | 3, NULL);
    ioasid_iotlb_inv_domain(tlb, 5);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0xa0000000,
           "stale: new translation after domain invalidation");
    /* Unmapped without invalidation: still usable, then a fault. */
    tb_map(&tb, &g4, c.root, iova, 0, 3, 0, NULL);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0xa0000000, "stale: unmapped, still cached");
    ioasid_iotlb_inv_all(tlb);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova, R, false, false, &res, &f);
    TAP_OK(rc == IOASID_XLATE_FAULT && f.reason == IOASID_FAULT_TRANSLATION,
           "stale: fault after full invalidation");
    TAP_EQ(stats(tlb).entries, 0, "fault: nothing cached");

    /* Permission upgrade without invalidation: re-walk, no fault. */
    tb_map(&tb, &g4, c.root, iova2, 0, 3, 0x5000000 | 1, NULL);   /* RO */
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova2, R, false, false, &res,
               &f);
    TAP_OK(rc == 0 && !(res.perms & W), "perm: read-only page cached");
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova2, W, false, false, &res,
               &f);
    TAP_OK(rc == IOASID_XLATE_FAULT && f.reason == IOASID_FAULT_PERMISSION,
           "perm: write to read-only page faults (walked)");
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova2, W, false, true, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | IOASID_PERM_EXEC),
           "ats: write request reports read-only, no fault");
    tb_map(&tb, &g4, c.root, iova2, 0, 3, 0x5000000 | 3, NULL);   /* RW */
    ioasid_iotlb_reset_stats(tlb);
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova2, W, false, false, &res,
               &f);
    TAP_OK(rc == 0 && res.out == 0x5000000 && (res.perms & W) &&
           stats(tlb).perm_misses == 1 && stats(tlb).walks == 1,
           "perm: upgraded entry re-walked, write succeeds");
    rc = xlate(t, tlb, 0x08, IOASID_NO_PASID, iova2, W, false, false, &res,
               &f);
    TAP_OK(rc == 0 && res.levels_walked == 0, "perm: then hits for writes");

    /* Identity bypasses the IOTLB. */
    {
        IoasidPgtCfg ic = { .fmt = IOASID_FMT_IDENTITY, .oas = 48 };
        Ioasid *id = ioasid_new(9, &ic, NULL, 77, IOASID_TAG_NONE);
        uint64_t before = stats(tlb).inserts;

        ioasid_attach(t, 0x30, IOASID_NO_PASID, id);
        rc = xlate(t, tlb, 0x30, IOASID_NO_PASID, 0x123456789, W, false,
                   false, &res, &f);
        TAP_OK(rc == 0 && res.out == 0x123456789 &&
               stats(tlb).inserts == before, "identity: no IOTLB entry");
        ioasid_unref(id);
    }
    /* No IOTLB at all. */
    rc = ioasid_translate_as(a, NULL, &tb.ops, iova2 | 8, W, false, false,
                             &res, &f);
    TAP_OK(rc == 0 && res.out == 0x5000008 && res.levels_walked == 4,
           "no iotlb: plain walk");
    ioasid_unref(a);
    ioasid_detach_all(t);
    ioasid_iotlb_inv_all(tlb);
    fakemem_free(&tb.m);
}

static void test_first_stage(IoasidTable *t, IoasidIotlb *tlb)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_VTD_FS, .levels = 4, .oas = 48,
                       .vtd_sre = true, .vtd_ad = true };
    uint64_t iova = 0x12345000, sup = 0x22000000, leaf;
    IoasidResult res;
    IoasidFault f;
    Ioasid *a;
    int rc;

    tb_init(&tb, 0x100000);
    c.root = tb_root(&tb, &g4);
    leaf = tb_map(&tb, &g4, c.root, iova, 0, 7, 0x66000000 | 7, NULL);
    tb_map(&tb, &g4, c.root, sup, 0, 7, 0x77000000 | 3, NULL); /* no U/S */
    a = ioasid_new(2, &c, NULL, 3, 40);
    ioasid_attach(t, 0x40, 40, a);

    /* A/D: a read caches the page without write permission (D clear). */
    rc = xlate(t, tlb, 0x40, 40, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && !(res.perms & W) && !(fakemem_ld64(&tb.m, leaf) & B(6))
           && (fakemem_ld64(&tb.m, leaf) & B(5)),
           "fs a/d: read sets A, not D, no write permission cached");
    ioasid_iotlb_reset_stats(tlb);
    rc = xlate(t, tlb, 0x40, 40, iova, W, false, false, &res, &f);
    TAP_OK(rc == 0 && (res.perms & W) && (fakemem_ld64(&tb.m, leaf) & B(6))
           && stats(tlb).walks == 1,
           "fs a/d: write re-walks and sets D (no spurious fault)");
    rc = xlate(t, tlb, 0x40, 40, iova, W, false, false, &res, &f);
    TAP_OK(rc == 0 && res.levels_walked == 0, "fs a/d: then write hits");

    /* Privilege separation. */
    rc = xlate(t, tlb, 0x40, 40, sup, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x77000000, "priv: supervisor page");
    rc = xlate(t, tlb, 0x40, 40, sup, R, false, false, &res, &f);
    TAP_OK(rc == IOASID_XLATE_FAULT && f.reason == IOASID_FAULT_PERMISSION,
           "priv: user request does not hit the supervisor entry");
    rc = xlate(t, tlb, 0x40, 40, sup, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.levels_walked == 0, "priv: supervisor hits");
    /* (domain, as) invalidation. */
    tb_map(&tb, &g4, c.root, sup, 0, 7, 0x78000000 | 3 | 0x60, NULL);
    ioasid_iotlb_inv_as(tlb, 3, 41);
    rc = xlate(t, tlb, 0x40, 40, sup, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x77000000, "as inv: other PASID keeps");
    ioasid_iotlb_inv_as(tlb, 3, 40);
    rc = xlate(t, tlb, 0x40, 40, sup, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x78000000, "as inv: own PASID refreshes");
    ioasid_unref(a);
    ioasid_detach_all(t);
    ioasid_iotlb_inv_all(tlb);
    fakemem_free(&tb.m);
}

static int kind_fn(const IoasidIotlbTag *tag, const IoasidIotlbEntry *e,
                   void *opaque)
{
    *(uint8_t *)opaque = tag->kind;
    return 0;
}

static void test_nested(IoasidTable *t, IoasidIotlb *tlb)
{
    IoasidPgtCfg s1 = { .fmt = IOASID_FMT_VTD_FS, .levels = 4, .oas = 48,
                        .vtd_sre = true };
    IoasidPgtCfg s2 = { .fmt = IOASID_FMT_VTD_SS, .levels = 4, .oas = 48 };
    uint64_t iova = 0x40201000, e1[4], s2blk;
    IoasidResult res;
    IoasidFault f;
    Ioasid *p, *a;
    uint8_t kind = 0;
    int rc, i;

    tb_init(&tb, 0x100000);
    s1.root = tb_root(&tb, &g4);
    s2.root = tb_root(&tb, &g4);
    tb_map(&tb, &g4, s1.root, iova, 0, 7, 0x80000000 | 7, e1);
    for (i = 0; i < 4; i++) {
        tb_map(&tb, &g4, s2.root, e1[i], 0, 3, (e1[i] & ~UINT64_C(0xfff)) | 3,
               NULL);
    }
    s2blk = tb_map(&tb, &g4, s2.root, 0x80000000, 1, 3,
                   0x40000000 | B(7) | 3, NULL);
    p = ioasid_new(10, &s2, NULL, 9, IOASID_TAG_NONE);
    a = ioasid_new(11, &s1, p, 9, 17);
    ioasid_attach(t, 0x50, 17, a);
    ioasid_iotlb_reset_stats(tlb);
    rc = xlate(t, tlb, 0x50, 17, iova | 0x10, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x40000010 && res.page_shift == 12 &&
           res.levels_walked > 4, "nested: walk (%d entries read)",
           res.levels_walked);
    rc = xlate(t, tlb, 0x50, 17, iova | 0x20, W, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x40000020 && res.levels_walked == 0,
           "nested: hit");
    ioasid_iotlb_foreach(tlb, kind_fn, &kind);
    TAP_EQ(kind, IOASID_KIND_NESTED, "nested: entry tagged nested");
    /* A stage-2 change is seen after a domain-wide invalidation only. */
    fakemem_st64(&tb.m, s2blk, 0x60000000 | B(7) | 3);
    rc = xlate(t, tlb, 0x50, 17, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x40000000, "nested: stale after s2 change");
    ioasid_iotlb_inv_domain(tlb, 9);
    rc = xlate(t, tlb, 0x50, 17, iova, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x60000000, "nested: new after inv domain");
    /* A stage-2 fault on the final output. */
    fakemem_st64(&tb.m, s2blk, 0);
    ioasid_iotlb_inv_all(tlb);
    rc = xlate(t, tlb, 0x50, 17, iova, R, false, false, &res, &f);
    TAP_OK(rc == IOASID_XLATE_FAULT && f.stage == 2 &&
           f.reason == IOASID_FAULT_TRANSLATION, "nested: stage-2 fault");
    ioasid_unref(p);
    ioasid_unref(a);
    ioasid_detach_all(t);
    ioasid_iotlb_inv_all(tlb);
    fakemem_free(&tb.m);
}

/*
 * Randomized stale-until-invalidated check: pages are remapped, unmapped
 * and invalidated at random; every translation must return a mapping the
 * page had since the last invalidation covering it (the current one right
 * after an invalidation), or fault only if that mapping is "unmapped".
 */
#define RP          96          /* pages: 64 4K pages, then 2M blocks */
#define RHIST       64
#define UNMAPPED    UINT64_MAX

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

typedef struct RPage {
    uint64_t iova;
    unsigned shift;
    uint64_t ok[RHIST];     /* acceptable outputs (page bases) */
    unsigned nok;
    uint64_t cur;
} RPage;

static RPage rp[RP];

static void rp_set(IoasidPgtCfg *c, RPage *p, uint64_t out)
{
    unsigned lvl = p->shift == 12 ? 0 : 1;
    uint64_t leaf = out == UNMAPPED ? 0 :
                    out | 3 | (lvl ? B(7) : 0);

    tb_map(&tb, &g4, c->root, p->iova, lvl, 3, leaf, NULL);
    p->cur = out;
    if (p->nok < RHIST) {
        p->ok[p->nok++] = out;
    } else {
        p->ok[RHIST - 1] = out;     /* the test invalidates before this */
    }
}

static void rp_invalidated(RPage *p)
{
    p->ok[0] = p->cur;
    p->nok = 1;
}

static void test_random(IoasidTable *t, uint64_t seed)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_VTD_SS, .levels = 4, .oas = 48 };
    IoasidIotlb *tlb = ioasid_iotlb_new(16);
    unsigned bad = 0, faults = 0, hits = 0, strict = 0, i;
    IoasidIotlbStats st;
    Ioasid *a;

    rng_state = seed ? seed : 1;
    tb_init(&tb, 0x100000);
    c.root = tb_root(&tb, &g4);
    a = ioasid_new(1, &c, NULL, 4, 8);
    ioasid_attach(t, 0x60, 8, a);
    for (i = 0; i < RP; i++) {
        rp[i].iova = i < 64 ? 0x10000000 + (uint64_t)i * 0x1000
                            : 0x40000000 + (uint64_t)(i - 64) * 0x200000;
        rp[i].shift = i < 64 ? 12 : 21;
        rp[i].nok = 0;
        rp_set(&c, &rp[i], ((rnd() % 4096) << 21));
        rp_invalidated(&rp[i]);
    }
    for (int it = 0; it < 100000; it++) {
        unsigned op = rnd() % 100;
        RPage *p = &rp[rnd() % RP];

        if (p->nok >= RHIST - 1 || op < 3) {
            /* Invalidate this page (1 byte inside it is enough). */
            ioasid_iotlb_inv_range(tlb, 4, rnd() % 2 ? 8 : IOASID_TAG_ANY,
                                   p->iova + (rnd() & 0xfff), 1,
                                   rnd() % 2);
            rp_invalidated(p);
        } else if (op < 4) {
            if (rnd() % 2) {
                ioasid_iotlb_inv_domain(tlb, 4);
            } else {
                ioasid_iotlb_inv_as(tlb, 4, 8);
            }
            for (i = 0; i < RP; i++) {
                rp_invalidated(&rp[i]);
            }
        } else if (op < 5) {
            /* Invalidate a range of 4K pages. */
            unsigned first = rnd() % 64, n = 1 + rnd() % 8;

            ioasid_iotlb_inv_range(tlb, 4, 8, rp[first].iova,
                                   (uint64_t)n << 12, false);
            for (i = first; i < first + n && i < 64; i++) {
                rp_invalidated(&rp[i]);
            }
        } else if (op < 25) {
            rp_set(&c, p, rnd() % 8 == 0 ? UNMAPPED
                                         : ((rnd() % 4096) << 21));
        } else {
            uint64_t off = rnd() & ((UINT64_C(1) << p->shift) - 1) & ~7;
            IoasidResult res;
            IoasidFault f;
            bool found = false;
            int rc = xlate(t, tlb, 0x60, 8, p->iova + off,
                           rnd() % 2 ? R : W, false, false, &res, &f);

            for (i = 0; i < p->nok; i++) {
                if (rc == 0 ? p->ok[i] != UNMAPPED &&
                              res.out == p->ok[i] + off
                            : p->ok[i] == UNMAPPED) {
                    found = true;
                }
            }
            bad += !found;
            faults += rc != 0;
            hits += rc == 0 && res.levels_walked == 0;
            strict += p->nok == 1;
        }
    }
    ioasid_iotlb_stats(tlb, &st);
    TAP_EQ(bad, 0, "random: every translation is a mapping not yet "
           "invalidated (%u hits, %u faults, %u with one acceptable mapping)",
           hits, faults, strict);
    TAP_OK(hits > 1000 && faults > 100 && st.evictions > 100,
           "random: exercised hits, faults, evictions (%" PRIu64 ")",
           st.evictions);
    ioasid_detach_all(t);
    ioasid_unref(a);
    ioasid_iotlb_free(tlb);
    fakemem_free(&tb.m);
}

int main(void)
{
    IoasidTable *t = ioasid_table_new();
    IoasidIotlb *tlb = ioasid_iotlb_new(256);
    const char *env = getenv("IOASID_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x7a5e;

    printf("# seed=%" PRIu64 "\n", seed);
    test_second_stage(t, tlb);
    test_first_stage(t, tlb);
    test_nested(t, tlb);
    test_random(t, seed);
    ioasid_iotlb_free(tlb);
    ioasid_table_free(t);
    return tap_done();
}
