/*
 * Nested translation tests (ioasid_walk_nested): stage-1 faults at each
 * level, stage-2 faults on each stage-1 table fetch and on the final
 * output at each stage-2 level, A/D updates needing stage-2 write,
 * permission intersection and page size.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tap.h"
#include "test-walk-builder.h"
#include "walk.h"

#define R   IOASID_PERM_READ
#define W   IOASID_PERM_WRITE
#define X   IOASID_PERM_EXEC
#define B(n) (UINT64_C(1) << (n))

static Tb tb;

typedef struct NestFmt {
    const char *name;
    IoasidPgtCfg s1, s2;
    TbGeo g1, g2;
    uint64_t s1_tbl, s2_tbl;        /* table entry bits */
    uint64_t s1_leaf, s2_leaf;      /* leaf bits (page) */
    uint64_t s2_leaf_ro;            /* read-only stage-2 leaf bits */
    uint64_t s1_clear, s2_clear;    /* bits making an entry invalid */
    uint64_t ipa_out;               /* stage-1 output: own stage-2 path */
    uint64_t s1_ro_xor;             /* makes the stage-1 leaf read-only */
    uint64_t s2_leaf_dbm;           /* stage-2 leaf writable but clean */
    uint64_t s2_dirty;              /* set when it is written */
    int (*s1_level)(int n, const TbGeo *g);  /* spec level of path entry n */
    int (*s2_level)(int n, const TbGeo *g);
} NestFmt;

static int vtd_level(int n, const TbGeo *g)
{
    return g->nlevels - n;
}

static int arm_level(int n, const TbGeo *g)
{
    return 4 - g->nlevels + n;
}

static void expect(const char *what, int rc, const IoasidFault *f,
                   IoasidFaultReason r, int stage, int level, bool s2s1,
                   uint64_t input)
{
    TAP_OK(rc == -1 && f->reason == r && f->stage == stage &&
           f->level == level && f->s2_on_s1_walk == s2s1 &&
           f->input_addr == input,
           "%s: %s stage %d level %d%s input 0x%" PRIx64, what,
           ioasid_fault_reason_str(r), stage, level,
           s2s1 ? " (s2 on s1 walk)" : "", input);
    if (rc == -1 && !(f->reason == r && f->stage == stage &&
                      f->level == level && f->s2_on_s1_walk == s2s1 &&
                      f->input_addr == input)) {
        printf("#   got %s stage %d level %d s2s1 %d input 0x%" PRIx64 "\n",
               ioasid_fault_reason_str(f->reason), f->stage, f->level,
               f->s2_on_s1_walk, f->input_addr);
    }
}

/* Identity-map a stage-2 page (IPA == PA) holding an stage-1 table. */
static uint64_t map_s2(NestFmt *nf, uint64_t ipa, uint64_t pa,
                       uint64_t bits, uint64_t *ent)
{
    return tb_map(&tb, &nf->g2, nf->s2.root, ipa, 0, nf->s2_tbl,
                  (pa & ~(B(nf->g2.granule) - 1)) | bits, ent);
}

static void run_nested(NestFmt *nf)
{
    uint64_t iova = 0x12345678abc & (B(12 + 9 * 4 - 1) - 1);
    uint64_t ipa_out = nf->ipa_out;
    uint64_t pa_out = 0x1234567000;
    uint64_t e1[5], e2[5], s2leaf[5], e;
    unsigned n1 = nf->g1.nlevels, n2 = nf->g2.nlevels, i, n;
    IoasidResult res;
    IoasidFault f;
    char what[96];
    int rc;

    tb_init(&tb, 0x100000);
    tb.min_align = 0x4000;      /* one stage-2 page per stage-1 table */
    nf->s1.root = tb_root(&tb, &nf->g1);
    nf->s2.root = tb_root(&tb, &nf->g2);
    tb_map(&tb, &nf->g1, nf->s1.root, iova, 0, nf->s1_tbl,
           ipa_out | nf->s1_leaf, e1);
    /* Stage 2: identity map for every stage-1 table page, one leaf each. */
    for (i = 0; i < n1; i++) {
        s2leaf[i] = map_s2(nf, e1[i], e1[i], nf->s2_leaf, NULL);
    }
    map_s2(nf, ipa_out, pa_out, nf->s2_leaf, e2);

    rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, R | W, false,
                            false, &res, &f);
    TAP_OK(rc == 0 && res.out == (pa_out | (iova & 0xfff)) &&
           res.page_shift == 12 && (res.perms & (R | W)) == (R | W),
           "%s: nested walk ok", nf->name);
    TAP_EQ(res.levels_walked, n1 * n2 + n1 + n2,
           "%s: entries read (%u x %u nested)", nf->name, n1, n2);

    /* Stage-1 fault at each level: input is the iova. */
    for (n = 0; n < n1; n++) {
        e = fakemem_ld64(&tb.m, e1[n]);
        fakemem_st64(&tb.m, e1[n], e & ~nf->s1_clear);
        rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, R, false,
                                false, &res, &f);
        snprintf(what, sizeof(what), "%s: S1 invalid entry #%u", nf->name, n);
        expect(what, rc, &f, IOASID_FAULT_TRANSLATION, 1,
               nf->s1_level(n, &nf->g1), false, iova);
        TAP_EQ(f.entry_addr, e1[n], "%s: entry_addr (IPA)", what);
        TAP_EQ(f.iova, iova, "%s: iova", what);
        fakemem_st64(&tb.m, e1[n], e);
    }
    /* Stage-2 fault on each stage-1 table fetch. */
    for (n = 0; n < n1; n++) {
        e = fakemem_ld64(&tb.m, s2leaf[n]);
        fakemem_st64(&tb.m, s2leaf[n], e & ~nf->s2_clear);
        rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, W, false,
                                false, &res, &f);
        snprintf(what, sizeof(what), "%s: S2 fault on S1 table fetch #%u",
                 nf->name, n);
        expect(what, rc, &f, IOASID_FAULT_TRANSLATION, 2,
               nf->s2_level(n2 - 1, &nf->g2), true, e1[n]);
        TAP_EQ(f.access, R, "%s: access is the table read", what);
        TAP_EQ(f.iova, iova, "%s: iova", what);
        TAP_EQ(f.entry_addr, s2leaf[n], "%s: S2 entry_addr", what);
        fakemem_st64(&tb.m, s2leaf[n], e);
    }
    /* Stage-2 fault translating the output, at each stage-2 level. */
    for (n = 0; n < n2; n++) {
        e = fakemem_ld64(&tb.m, e2[n]);
        fakemem_st64(&tb.m, e2[n], e & ~nf->s2_clear);
        rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, W, false,
                                false, &res, &f);
        snprintf(what, sizeof(what), "%s: S2 fault on output, entry #%u",
                 nf->name, n);
        expect(what, rc, &f, IOASID_FAULT_TRANSLATION, 2,
               nf->s2_level(n, &nf->g2), false, ipa_out | (iova & 0xfff));
        TAP_EQ(f.access, W, "%s: access", what);
        TAP_EQ(f.entry_addr, e2[n], "%s: entry_addr", what);
        fakemem_st64(&tb.m, e2[n], e);
    }
    /* Permission intersection: read-only at stage 2. */
    e = fakemem_ld64(&tb.m, e2[n2 - 1]);
    fakemem_st64(&tb.m, e2[n2 - 1], (e & ~nf->s2_leaf) | nf->s2_leaf_ro);
    rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, W, false, false,
                            &res, &f);
    snprintf(what, sizeof(what), "%s: write to S2 read-only", nf->name);
    expect(what, rc, &f, IOASID_FAULT_PERMISSION, 2,
           nf->s2_level(n2 - 1, &nf->g2), false, ipa_out | (iova & 0xfff));
    rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, R | W, false,
                            true, &res, &f);
    TAP_OK(rc == 0 && (res.perms & (R | W)) == R,
           "%s: ATS perms are the intersection", nf->name);
    fakemem_st64(&tb.m, e2[n2 - 1], e);
    /* ATS: stage 2 is asked only for what stage 1 granted. */
    e = fakemem_ld64(&tb.m, e1[n1 - 1]);
    fakemem_st64(&tb.m, e1[n1 - 1], e ^ nf->s1_ro_xor);
    nf->s2.vtd_ad = nf->s2.arm_ha = nf->s2.arm_hd = true;
    fakemem_st64(&tb.m, e2[n2 - 1], (fakemem_ld64(&tb.m, e2[n2 - 1]) &
                                     ~nf->s2_leaf) | nf->s2_leaf_dbm);
    rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, R | W, false,
                            true, &res, &f);
    TAP_OK(rc == 0 && (res.perms & (R | W)) == R &&
           fakemem_ld64(&tb.m, e2[n2 - 1]) ==
           ((pa_out & ~(B(nf->g2.granule) - 1)) | nf->s2_leaf_dbm |
            nf->s2_dirty), "%s: ATS read-only S1: S2 not made dirty",
           nf->name);
    fakemem_st64(&tb.m, e1[n1 - 1], e);
    map_s2(nf, ipa_out, pa_out, nf->s2_leaf, NULL);
    nf->s2.vtd_ad = nf->s2.arm_ha = nf->s2.arm_hd = false;

    /* Page size: stage-1 large leaf over stage-2 4K pages -> 4K. */
    rc = ioasid_walk_nested(&nf->s1, &nf->s2, &tb.ops, iova, R, false, false,
                            &res, &f);
    TAP_OK(rc == 0 && res.page_shift == 12, "%s: min page shift", nf->name);
    fakemem_free(&tb.m);
}

/* A/D of stage-1 entries need stage-2 write permission (VT-d FS/SS). */
static void test_vtd_ad_nested(void)
{
    TbGeo g = { 12, 9, 4, 9, UINT64_C(0x000ffffffffff000) };
    IoasidPgtCfg s1 = { .fmt = IOASID_FMT_VTD_FS, .levels = 4, .oas = 48,
                        .vtd_sre = true, .vtd_ad = true };
    IoasidPgtCfg s2 = { .fmt = IOASID_FMT_VTD_SS, .levels = 4, .oas = 48 };
    uint64_t iova = 0x40201000, e1[4], s2l[4], leaf2;
    IoasidResult res;
    IoasidFault f;
    int rc, i;

    tb_init(&tb, 0x100000);
    s1.root = tb_root(&tb, &g);
    s2.root = tb_root(&tb, &g);
    tb_map(&tb, &g, s1.root, iova, 0, 7, 0x80000000 | 7, e1);
    for (i = 0; i < 4; i++) {
        s2l[i] = tb_map(&tb, &g, s2.root, e1[i], 0, 3,
                        (e1[i] & ~UINT64_C(0xfff)) | 1, NULL);   /* RO */
    }
    tb_map(&tb, &g, s2.root, 0x80000000, 1, 3, 0x40000000 | B(7) | 3, NULL);
    rc = ioasid_walk_nested(&s1, &s2, &tb.ops, iova, R, false, false, &res,
                            &f);
    TAP_OK(rc == -1 && f.stage == 2 && f.s2_on_s1_walk &&
           f.reason == IOASID_FAULT_PERMISSION && f.access == W &&
           f.input_addr == e1[0],
           "nested A update of S1 PML4E needs S2 write");
    TAP_OK(!(fakemem_ld64(&tb.m, e1[0]) & B(5)), "no A set");
    s1.vtd_ad = false;
    rc = ioasid_walk_nested(&s1, &s2, &tb.ops, iova, W, false, false, &res,
                            &f);
    TAP_OK(rc == 0 && res.out == (0x40000000 | (iova & 0xfff)) &&
           res.page_shift == 12, "nested without A/D: S2 RO tables fine");
    s1.vtd_ad = true;
    for (i = 0; i < 4; i++) {
        uint64_t e = fakemem_ld64(&tb.m, s2l[i]);
        fakemem_st64(&tb.m, s2l[i], e | 2);
    }
    rc = ioasid_walk_nested(&s1, &s2, &tb.ops, iova, W, false, false, &res,
                            &f);
    TAP_OK(rc == 0, "nested A/D with S2 writable tables");
    for (i = 0; i < 4; i++) {
        TAP_OK(fakemem_ld64(&tb.m, e1[i]) & B(5), "S1 A set at level %d",
               4 - i);
    }
    TAP_OK(fakemem_ld64(&tb.m, e1[3]) & B(6), "S1 D set");
    /* A only the leaf's page read-only at stage 2: fault on the leaf. */
    for (i = 0; i < 4; i++) {
        fakemem_st64(&tb.m, e1[i], fakemem_ld64(&tb.m, e1[i]) & ~0x60);
    }
    fakemem_st64(&tb.m, s2l[3], fakemem_ld64(&tb.m, s2l[3]) & ~2);
    rc = ioasid_walk_nested(&s1, &s2, &tb.ops, iova, R, false, false, &res,
                            &f);
    TAP_OK(rc == -1 && f.stage == 2 && f.s2_on_s1_walk && f.access == W &&
           f.input_addr == e1[3], "nested A update of S1 PTE needs S2 write");
    /* Stage-2 2M block under a 4K stage-1 page is 4K; with a 2M S1... */
    leaf2 = fakemem_ld64(&tb.m, e1[2]);
    fakemem_st64(&tb.m, e1[2], 0x80000000 | B(7) | 7 | 0x60);
    rc = ioasid_walk_nested(&s1, &s2, &tb.ops, iova, R, false, false, &res,
                            &f);
    TAP_OK(rc == 0 && res.page_shift == 21 &&
           res.out == (0x40000000 | (iova & 0x1fffff)),
           "nested 2M over 2M -> 2M");
    fakemem_st64(&tb.m, e1[2], leaf2);
    fakemem_free(&tb.m);
}

int main(void)
{
    TbGeo vg4 = { 12, 9, 4, 9, UINT64_C(0x000ffffffffff000) };
    TbGeo vg3 = { 12, 9, 3, 9, UINT64_C(0x000ffffffffff000) };
    TbGeo ag4 = { 12, 9, 4, 9, UINT64_C(0x0000fffffffff000) };
    TbGeo ag3_16k = { 14, 11, 3, 11, UINT64_C(0x0000ffffffffc000) };
    NestFmt nfs[] = {
        {
            .name = "vtd fs4 over ss4",
            .s1 = { .fmt = IOASID_FMT_VTD_FS, .levels = 4, .oas = 48,
                    .vtd_sre = true },
            .s2 = { .fmt = IOASID_FMT_VTD_SS, .levels = 4, .oas = 48 },
            .g1 = vg4, .g2 = vg4,
            .s1_tbl = 7, .s2_tbl = 3, .s1_leaf = 7, .s2_leaf = 3,
            .s2_leaf_ro = 1, .s1_clear = 1, .s2_clear = 3,
            .s1_ro_xor = 2, .s2_leaf_dbm = 3, .s2_dirty = B(8),
            .ipa_out = B(39) | 0x76543000,
            .s1_level = vtd_level, .s2_level = vtd_level,
        },
        {
            .name = "vtd fs5 over ss3",
            .s1 = { .fmt = IOASID_FMT_VTD_FS, .levels = 5, .oas = 48,
                    .vtd_sre = true },
            .s2 = { .fmt = IOASID_FMT_VTD_SS, .levels = 3, .oas = 48 },
            .g1 = { 12, 9, 5, 9, UINT64_C(0x000ffffffffff000) }, .g2 = vg3,
            .s1_tbl = 7, .s2_tbl = 3, .s1_leaf = 7, .s2_leaf = 3,
            .s2_leaf_ro = 1, .s1_clear = 1, .s2_clear = 3,
            .s1_ro_xor = 2, .s2_leaf_dbm = 3, .s2_dirty = B(8),
            .ipa_out = B(38) | 0x76543000,
            .s1_level = vtd_level, .s2_level = vtd_level,
        },
        {
            .name = "arm s1 4K over s2 4K",
            .s1 = { .fmt = IOASID_FMT_ARM_S1, .oas = 48, .arm_granule = 12,
                    .arm_tsz = 16, .arm_aa64 = true },
            .s2 = { .fmt = IOASID_FMT_ARM_S2, .oas = 48, .arm_granule = 12,
                    .arm_tsz = 16, .arm_sl0 = 2, .arm_aa64 = true },
            .g1 = ag4, .g2 = ag4,
            .s1_tbl = 3, .s2_tbl = 3, .s1_leaf = B(10) | 3 | B(6),
            .s2_leaf = B(10) | 3 | 0xc0, .s2_leaf_ro = B(10) | 3 | B(6),
            .s1_clear = 1, .s2_clear = 1, .ipa_out = B(39) | 0x76543000,
            .s1_ro_xor = B(7), .s2_leaf_dbm = B(10) | 3 | B(6) | B(51),
            .s1_level = arm_level, .s2_level = arm_level,
        },
        {
            .name = "arm s1 4K over s2 16K (concatenated)",
            .s1 = { .fmt = IOASID_FMT_ARM_S1, .oas = 48, .arm_granule = 12,
                    .arm_tsz = 16, .arm_aa64 = true },
            .s2 = { .fmt = IOASID_FMT_ARM_S2, .oas = 48, .arm_granule = 14,
                    .arm_tsz = 24, .arm_sl0 = 2, .arm_aa64 = true },
            .g1 = ag4, .g2 = ag3_16k,
            .s1_tbl = 3, .s2_tbl = 3, .s1_leaf = B(10) | 3 | B(6),
            .s2_leaf = B(10) | 3 | 0xc0, .s2_leaf_ro = B(10) | 3 | B(6),
            .s1_clear = 1, .s2_clear = 1, .ipa_out = B(39) | 0x76543000,
            .s1_ro_xor = B(7), .s2_leaf_dbm = B(10) | 3 | B(6) | B(51),
            .s1_level = arm_level, .s2_level = arm_level,
        },
    };

    /* 16K stage 2 with a 40-bit IPA from level 1: 40 - 36 = 4 index bits */
    nfs[3].g2.top_bits = 4;
    for (unsigned i = 0; i < sizeof(nfs) / sizeof(nfs[0]); i++) {
        run_nested(&nfs[i]);
    }
    test_vtd_ad_nested();
    return tap_done();
}
