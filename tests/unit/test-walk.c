/*
 * Directed tests of the page-table walkers (hw/ioasid/core/walk.c):
 * geometry of every format x level count x page size, permissions, every
 * fault reason, hardware A/D / AF / DBM updates observed in memory.
 * Nested translation is tested in test-walk-nested.c.
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

static void expect_fault(const char *what, int rc, const IoasidFault *f,
                         IoasidFaultReason r, int level)
{
    TAP_OK(rc == -1 && f->reason == r && f->level == level,
           "%s: %s fault at level %d (got rc %d, %s at level %d)", what,
           ioasid_fault_reason_str(r), level, rc,
           rc ? ioasid_fault_reason_str(f->reason) : "-", rc ? f->level : 0);
}

/* ---------------------------------------------------------------------- */
/* VT-d second stage                                                       */
/* ---------------------------------------------------------------------- */

static TbGeo vtd_geo(unsigned levels)
{
    TbGeo g = { 12, 9, levels, 9, UINT64_C(0x000ffffffffff000) };
    return g;
}

static IoasidPgtCfg vtd_ss_cfg(unsigned levels, uint64_t root)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_VTD_SS, .root = root,
                       .levels = levels, .oas = 48 };
    return c;
}

static void test_vtd_ss_geometry(void)
{
    for (unsigned levels = 3; levels <= 5; levels++) {
        for (unsigned lvl = 0; lvl <= 2; lvl++) {
            TbGeo g = vtd_geo(levels);
            unsigned shift = 12 + 9 * lvl, ias = 12 + 9 * levels;
            uint64_t va = UINT64_C(0x1fedcba987654321) & (B(ias) - 1);
            uint64_t pa = UINT64_C(0x0000765432100000) & ~(B(shift) - 1);
            IoasidPgtCfg c;
            IoasidResult res;
            IoasidFault f;
            int rc;

            tb_init(&tb, 0x10000);
            c = vtd_ss_cfg(levels, tb_root(&tb, &g));
            tb_map(&tb, &g, c.root, va, lvl, 3,
                   pa | 3 | (lvl ? B(7) : 0), NULL);
            rc = ioasid_walk(&c, &tb.ops, va, R | W, false, false, &res, &f);
            TAP_OK(rc == 0, "vtd-ss %u-level %u-bit page: walk ok", levels,
                   shift);
            TAP_EQ(res.out, pa | (va & (B(shift) - 1)),
                   "vtd-ss %u-level %u-bit page: output", levels, shift);
            TAP_EQ(res.page_shift, shift, "vtd-ss page shift");
            TAP_EQ(res.perms, R | W | X, "vtd-ss perms (X = R w/o SLEE)");
            TAP_EQ(res.levels_walked, levels - lvl, "vtd-ss levels walked");
            TAP_EQ(tb.m.cmpxchgs, 0, "vtd-ss no A/D update without SSADS");
            rc = ioasid_walk(&c, &tb.ops, va | B(ias), R, false, false, &res,
                             &f);
            expect_fault("vtd-ss input above AGAW", rc, &f,
                         IOASID_FAULT_INPUT_RANGE, -1);
            fakemem_free(&tb.m);
        }
    }
}

static void test_vtd_ss_perms_faults(void)
{
    TbGeo g = vtd_geo(4);
    uint64_t va = 0x12345678000, ent[5], e;
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    c = vtd_ss_cfg(4, tb_root(&tb, &g));
    tb_map(&tb, &g, c.root, va, 0, 7, 0xabc000 | 1, ent);   /* read-only */

    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("vtd-ss write to R-only", rc, &f, IOASID_FAULT_PERMISSION, 1);
    TAP_EQ(f.entry_addr, ent[3], "vtd-ss permission fault entry_addr");
    TAP_EQ(f.entry, 0xabc001, "vtd-ss permission fault entry");
    TAP_EQ(f.stage, 2, "vtd-ss faults are stage 2");
    TAP_EQ(f.access, W, "vtd-ss fault access");
    TAP_EQ(f.iova, va, "vtd-ss fault iova");
    rc = ioasid_walk(&c, &tb.ops, va, W, false, true, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | X), "vtd-ss ATS write: no fault, R");

    /* X honoured with SLEE; the leaf has no X. */
    c.vtd_sl_exec = true;
    rc = ioasid_walk(&c, &tb.ops, va, R | X, false, false, &res, &f);
    expect_fault("vtd-ss exec without X (SLEE)", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    fakemem_st64(&tb.m, ent[3], 0xabc000 | 7);
    rc = ioasid_walk(&c, &tb.ops, va, R | X, false, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | W | X), "vtd-ss exec with X");

    /* Permissions are ANDed over levels: W clear in the PDPE. */
    e = fakemem_ld64(&tb.m, ent[1]);
    fakemem_st64(&tb.m, ent[1], e & ~B(1));
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("vtd-ss W clear in SS-PDPE", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    fakemem_st64(&tb.m, ent[1], e & ~B(0));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-ss R clear in SS-PDPE", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    fakemem_st64(&tb.m, ent[1], e & ~B(2));
    rc = ioasid_walk(&c, &tb.ops, va, X, false, false, &res, &f);
    expect_fault("vtd-ss X clear in SS-PDPE", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    fakemem_st64(&tb.m, ent[1], e);
    c.vtd_sl_exec = false;

    /* Not present at every level. */
    for (int n = 0; n < 4; n++) {
        uint64_t old = fakemem_ld64(&tb.m, ent[n]);
        char what[64];

        fakemem_st64(&tb.m, ent[n], old & ~UINT64_C(3));
        rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "vtd-ss not present at level %d", 4 - n);
        expect_fault(what, rc, &f, IOASID_FAULT_TRANSLATION, 4 - n);
        TAP_EQ(f.entry_addr, ent[n], "%s: entry_addr", what);
        /* bit 11 reserved at every level */
        fakemem_st64(&tb.m, ent[n], old | B(11));
        rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "vtd-ss bit 11 at level %d", 4 - n);
        expect_fault(what, rc, &f, IOASID_FAULT_RESERVED, 4 - n);
        TAP_EQ(f.entry, old | B(11), "%s: entry value", what);
        /* address bits above OAS */
        fakemem_st64(&tb.m, ent[n], old | B(50));
        rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "vtd-ss addr bit 50 at level %d", 4 - n);
        expect_fault(what, rc, &f, IOASID_FAULT_RESERVED, 4 - n);
        if (n < 3) {
            fakemem_st64(&tb.m, ent[n], old | B(4));
            rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
            snprintf(what, sizeof(what), "vtd-ss bit 4 non-leaf level %d",
                     4 - n);
            expect_fault(what, rc, &f, IOASID_FAULT_RESERVED, 4 - n);
        } else {
            /* EMT / IPAT in a leaf are not reserved; bits 63:52 ignored */
            fakemem_st64(&tb.m, ent[n], old | 0x78 | B(60));
            rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
            TAP_OK(rc == 0, "vtd-ss EMT/IPAT/ignored bits in leaf accepted");
        }
        fakemem_st64(&tb.m, ent[n], old);
    }
    /* PS in the PML4E is reserved. */
    e = fakemem_ld64(&tb.m, ent[0]);
    fakemem_st64(&tb.m, ent[0], e | B(7));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-ss PS in SS-PML4E", rc, &f, IOASID_FAULT_RESERVED, 4);
    fakemem_st64(&tb.m, ent[0], e);
    /* Large page with address bits below the page size. */
    e = fakemem_ld64(&tb.m, ent[2]);
    fakemem_st64(&tb.m, ent[2], 0x40000000 | B(7) | B(13) | 3);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-ss 2M page with bit 13", rc, &f, IOASID_FAULT_RESERVED,
                 2);
    fakemem_st64(&tb.m, ent[2], 0x40000000 | B(7) | 3);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.page_shift == 21 &&
           res.out == (0x40000000 | (va & 0x1fffff)), "vtd-ss 2M page ok");
    fakemem_st64(&tb.m, ent[1], (fakemem_ld64(&tb.m, ent[1]) & 0xfff) |
                 B(7) | B(29) | 0x40000000);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-ss 1G page with bit 29", rc, &f, IOASID_FAULT_RESERVED,
                 3);
    fakemem_free(&tb.m);

    /* External abort: table outside memory. */
    tb_init(&tb, 0x10000);
    c = vtd_ss_cfg(4, tb_root(&tb, &g));
    tb_map(&tb, &g, c.root, va, 0, 3, 0xabc003, ent);
    fakemem_st64(&tb.m, ent[2], B(45) | 3);
    tb.m.limit = B(40);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-ss table outside memory", rc, &f,
                 IOASID_FAULT_EXT_ABORT, 1);
    TAP_EQ(f.entry_addr, B(45) + ((va >> 12) & 511) * 8,
           "vtd-ss external abort entry_addr");
    c.levels = 2;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-ss 2 levels", rc, &f, IOASID_FAULT_CONFIG, -1);
    TAP_OK(ioasid_pgt_cfg_check(&c) != NULL, "cfg_check rejects 2 levels");
    c.levels = 4;
    TAP_OK(ioasid_pgt_cfg_check(&c) == NULL, "cfg_check accepts 4 levels");
    fakemem_free(&tb.m);
}

static void test_vtd_ss_ad(void)
{
    TbGeo g = vtd_geo(4);
    uint64_t va = 0x7654321000, ent[4];
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc, n;

    tb_init(&tb, 0x10000);
    c = vtd_ss_cfg(4, tb_root(&tb, &g));
    c.vtd_ad = true;
    tb_map(&tb, &g, c.root, va, 0, 3, 0x5000 | 3, ent);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && !(res.perms & W), "vtd-ss SSADS read of clean page: "
           "no W granted");
    for (n = 0; n < 4; n++) {
        TAP_OK(fakemem_ld64(&tb.m, ent[n]) & B(8), "vtd-ss A set at level %d",
               4 - n);
    }
    TAP_OK(!(fakemem_ld64(&tb.m, ent[3]) & B(9)), "vtd-ss D clear on read");
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == 0 && (res.perms & W), "vtd-ss write ok");
    TAP_EQ(fakemem_ld64(&tb.m, ent[3]), 0x5000 | 3 | B(8) | B(9),
           "vtd-ss D set on write");
    TAP_OK(!(fakemem_ld64(&tb.m, ent[2]) & B(9)), "vtd-ss no D in non-leaf");
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && (res.perms & W), "vtd-ss dirty page grants W");
    /* No cmpxchg: updates disabled. */
    fakemem_st64(&tb.m, ent[3], 0x5000 | 3);
    tb.ops.cmpxchg64 = NULL;
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == 0 && fakemem_ld64(&tb.m, ent[3]) == (0x5000 | 3),
           "vtd-ss without cmpxchg64: no update, write allowed");
    fakemem_free(&tb.m);
}

/* ---------------------------------------------------------------------- */
/* VT-d first stage                                                        */
/* ---------------------------------------------------------------------- */

static IoasidPgtCfg vtd_fs_cfg(unsigned levels, uint64_t root)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_VTD_FS, .root = root,
                       .levels = levels, .oas = 46, .vtd_sre = true,
                       .vtd_nxe = true, .vtd_wpe = true };
    return c;
}

static void test_vtd_fs_geometry(void)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        for (unsigned lvl = 0; lvl <= 2; lvl++) {
            for (int hi = 0; hi < 2; hi++) {
                TbGeo g = vtd_geo(levels);
                unsigned shift = 12 + 9 * lvl, ias = 12 + 9 * levels;
                uint64_t va = UINT64_C(0x0fedcba987654321) & (B(ias - 1) - 1);
                uint64_t pa = UINT64_C(0x0000165432100000) & ~(B(shift) - 1);
                IoasidPgtCfg c;
                IoasidResult res;
                IoasidFault f;
                int rc;

                if (hi) {
                    va |= ~(B(ias - 1) - 1);    /* canonical upper half */
                }
                tb_init(&tb, 0x10000);
                c = vtd_fs_cfg(levels, tb_root(&tb, &g));
                tb_map(&tb, &g, c.root, va, lvl, 7,
                       pa | 7 | (lvl ? B(7) : 0), NULL);
                rc = ioasid_walk(&c, &tb.ops, va, R | W | X, false, false,
                                 &res, &f);
                TAP_OK(rc == 0 && res.out == (pa | (va & (B(shift) - 1))) &&
                       res.page_shift == shift && res.perms == (R | W | X) &&
                       res.levels_walked == levels - lvl,
                       "vtd-fs %u-level %u-bit page %s half", levels, shift,
                       hi ? "upper" : "lower");
                rc = ioasid_walk(&c, &tb.ops, va ^ B(ias - 1), R, false,
                                 false, &res, &f);
                expect_fault("vtd-fs non-canonical", rc, &f,
                             IOASID_FAULT_INPUT_RANGE, -1);
                fakemem_free(&tb.m);
            }
        }
    }
}

static void test_vtd_fs_perms_faults(void)
{
    TbGeo g = vtd_geo(4);
    uint64_t va = 0x12345678000, ent[4], e;
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    c = vtd_fs_cfg(4, tb_root(&tb, &g));
    /* supervisor, read-only leaf */
    tb_map(&tb, &g, c.root, va, 0, 7, 0x9000 | 1, ent);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs user read of supervisor page", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    TAP_EQ(f.stage, 1, "vtd-fs faults are stage 1");
    rc = ioasid_walk(&c, &tb.ops, va, R, false, true, &res, &f);
    TAP_OK(rc == 0 && res.perms == 0,
           "vtd-fs ATS user -> supervisor: no perms");
    rc = ioasid_walk(&c, &tb.ops, va, R | X, true, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | X), "vtd-fs supervisor read+exec");
    rc = ioasid_walk(&c, &tb.ops, va, W, true, false, &res, &f);
    expect_fault("vtd-fs supervisor write to RO with WPE", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    c.vtd_wpe = false;
    rc = ioasid_walk(&c, &tb.ops, va, W, true, false, &res, &f);
    TAP_OK(rc == 0 && (res.perms & W), "vtd-fs supervisor write w/o WPE ok");
    c.vtd_sre = false;
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    expect_fault("vtd-fs supervisor request without SRE", rc, &f,
                 IOASID_FAULT_PERMISSION, -1);
    c.vtd_sre = true;
    c.vtd_wpe = true;
    /* user page, RO */
    fakemem_st64(&tb.m, ent[3], 0x9000 | 5);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | X), "vtd-fs user read of user page");
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("vtd-fs user write to RO", rc, &f, IOASID_FAULT_PERMISSION,
                 1);
    c.vtd_wpe = false;
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("vtd-fs user write to RO w/o WPE", rc, &f,
                 IOASID_FAULT_PERMISSION, 1);
    c.vtd_wpe = true;
    /* U/S clear in an upper level */
    fakemem_st64(&tb.m, ent[3], 0x9000 | 7);
    e = fakemem_ld64(&tb.m, ent[1]);
    fakemem_st64(&tb.m, ent[1], e & ~B(2));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs U/S clear in PDPE", rc, &f, IOASID_FAULT_PERMISSION,
                 1);
    fakemem_st64(&tb.m, ent[1], e & ~B(1));
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("vtd-fs R/W clear in PDPE", rc, &f, IOASID_FAULT_PERMISSION,
                 1);
    /* XD in an upper level, honoured with NXE */
    fakemem_st64(&tb.m, ent[1], e | B(63));
    rc = ioasid_walk(&c, &tb.ops, va, R | X, false, false, &res, &f);
    expect_fault("vtd-fs XD in PDPE", rc, &f, IOASID_FAULT_PERMISSION, 1);
    rc = ioasid_walk(&c, &tb.ops, va, R | W, false, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | W), "vtd-fs XD: R/W still granted");
    c.vtd_nxe = false;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs XD without NXE is reserved", rc, &f,
                 IOASID_FAULT_RESERVED, 3);
    c.vtd_nxe = true;
    fakemem_st64(&tb.m, ent[1], e);

    for (int n = 0; n < 4; n++) {
        uint64_t old = fakemem_ld64(&tb.m, ent[n]);
        char what[64];

        fakemem_st64(&tb.m, ent[n], old & ~UINT64_C(1));
        rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "vtd-fs not present at level %d", 4 - n);
        expect_fault(what, rc, &f, IOASID_FAULT_TRANSLATION, 4 - n);
        TAP_EQ(f.entry_addr, ent[n], "%s: entry_addr", what);
        fakemem_st64(&tb.m, ent[n], old | B(47));
        rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "vtd-fs addr above OAS at level %d",
                 4 - n);
        expect_fault(what, rc, &f, IOASID_FAULT_RESERVED, 4 - n);
        fakemem_st64(&tb.m, ent[n], old);
    }
    e = fakemem_ld64(&tb.m, ent[0]);
    fakemem_st64(&tb.m, ent[0], e | B(7));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs PS in PML4E", rc, &f, IOASID_FAULT_RESERVED, 4);
    fakemem_st64(&tb.m, ent[0], e);
    fakemem_st64(&tb.m, ent[2], 0x200000 | B(7) | B(12) | 7);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == (0x200000 | (va & 0x1fffff)),
           "vtd-fs 2M page: PAT bit 12 is not address");
    fakemem_st64(&tb.m, ent[2], 0x200000 | B(7) | B(13) | 7);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs 2M page with bit 13", rc, &f,
                 IOASID_FAULT_RESERVED, 2);
    fakemem_st64(&tb.m, ent[1], 0x40000000 | B(7) | B(20) | 7);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs 1G page with bit 20", rc, &f,
                 IOASID_FAULT_RESERVED, 3);
    c.levels = 3;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("vtd-fs 3 levels", rc, &f, IOASID_FAULT_CONFIG, -1);
    fakemem_free(&tb.m);
}

static void test_vtd_fs_ad(void)
{
    TbGeo g = vtd_geo(5);
    uint64_t va = 0x12345678000, ent[5];
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc, n;

    tb_init(&tb, 0x10000);
    c = vtd_fs_cfg(5, tb_root(&tb, &g));
    c.vtd_ad = true;
    tb_map(&tb, &g, c.root, va, 0, 7, 0x9000 | 7, ent);
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == 0, "vtd-fs write with A/D");
    for (n = 0; n < 5; n++) {
        TAP_OK(fakemem_ld64(&tb.m, ent[n]) & B(5), "vtd-fs A at level %d",
               5 - n);
    }
    TAP_OK(fakemem_ld64(&tb.m, ent[4]) & B(6), "vtd-fs D at leaf");
    TAP_OK(!(fakemem_ld64(&tb.m, ent[3]) & B(6)), "vtd-fs no D in PDE");
    /* A permission fault updates nothing. */
    fakemem_st64(&tb.m, ent[4], 0x9000 | 5);
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == -1 && fakemem_ld64(&tb.m, ent[4]) == (0x9000 | 5),
           "vtd-fs faulting write: no A/D update");
    fakemem_free(&tb.m);
}

/* ---------------------------------------------------------------------- */
/* Arm stage 1                                                              */
/* ---------------------------------------------------------------------- */

#define ARM_AF      B(10)
#define ARM_PAGE    (ARM_AF | 3)
#define ARM_BLOCK   (ARM_AF | 1)

static TbGeo arm_geo(unsigned gran, unsigned ias, int s2_start)
{
    TbGeo g;
    unsigned stride = gran - 3;

    g.granule = gran;
    g.stride = stride;
    if (s2_start < 0) {
        g.nlevels = (ias - gran + stride - 1) / stride;
    } else {
        g.nlevels = 4 - s2_start;
    }
    g.top_bits = ias - gran - stride * (g.nlevels - 1);
    g.addr_mask = UINT64_C(0x0000ffffffffffff) & ~(B(gran) - 1);
    return g;
}

static IoasidPgtCfg arm_s1_cfg(unsigned gran, unsigned tsz, uint64_t root)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_ARM_S1, .root = root, .oas = 48,
                       .arm_granule = gran, .arm_tsz = tsz, .arm_aa64 = true };
    return c;
}

static bool arm_block_ok(unsigned gran, unsigned lvl, unsigned oas)
{
    return lvl == 0 || lvl == 1 || (lvl == 2 && (gran == 12 ||
                                                 (gran == 16 && oas >= 52)));
}

static void test_arm_s1_geometry(void)
{
    static const unsigned tszs[] = { 16, 20, 25, 30, 33, 39, 42, 47 };

    for (unsigned gran = 12; gran <= 16; gran += 2) {
        for (unsigned t = 0; t < sizeof(tszs) / sizeof(tszs[0]); t++) {
            unsigned tsz = tszs[t], ias = 64 - tsz;
            TbGeo g = arm_geo(gran, ias, -1);

            for (unsigned lvl = 0; lvl < g.nlevels; lvl++) {
                unsigned shift = gran + g.stride * lvl;
                uint64_t va = UINT64_C(0x0fedcba987654321) & (B(ias) - 1);
                uint64_t pa = UINT64_C(0x0000965432100000) & ~(B(shift) - 1);
                IoasidPgtCfg c;
                IoasidResult res;
                IoasidFault f;
                bool ok = arm_block_ok(gran, lvl, 48);
                int rc;

                if (shift >= 48) {
                    continue;
                }
                tb_init(&tb, 0x10000);
                c = arm_s1_cfg(gran, tsz, tb_root(&tb, &g));
                TAP_OK(ioasid_pgt_cfg_check(&c) == NULL, "cfg ok");
                tb_map(&tb, &g, c.root, va, lvl, 3,
                       pa | (lvl ? ARM_BLOCK : ARM_PAGE) | B(6), NULL);
                rc = ioasid_walk(&c, &tb.ops, va, R | W | X, false, false,
                                 &res, &f);
                if (ok) {
                    TAP_OK(rc == 0 && res.out == (pa | (va & (B(shift) - 1)))
                           && res.page_shift == shift &&
                           res.perms == (R | W | X) &&
                           res.levels_walked == g.nlevels - lvl,
                           "arm-s1 %uK tsz %u (%u levels) level %u leaf",
                           1u << (gran - 10), tsz, g.nlevels, 3 - lvl);
                } else {
                    expect_fault("arm-s1 block not permitted", rc, &f,
                                 IOASID_FAULT_TRANSLATION, 3 - lvl);
                }
                rc = ioasid_walk(&c, &tb.ops, va | B(ias), R, false, false,
                                 &res, &f);
                expect_fault("arm-s1 VA above T0SZ range", rc, &f,
                             IOASID_FAULT_TRANSLATION, 0);
                fakemem_free(&tb.m);
            }
        }
    }
}

static void test_arm_s1_ttb1(void)
{
    TbGeo g0 = arm_geo(12, 39, -1), g1 = arm_geo(16, 42, -1);
    uint64_t va0 = 0x7f12345000, va1 = ~UINT64_C(0) << 42 | 0x123456789a0;
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    c = arm_s1_cfg(12, 25, tb_root(&tb, &g0));
    c.root1 = tb_root(&tb, &g1);
    c.arm_granule1 = 16;
    c.arm_t1sz = 22;
    c.arm_ttb1_valid = true;
    TAP_OK(ioasid_pgt_cfg_check(&c) == NULL, "ttb1 cfg ok");
    tb_map(&tb, &g0, c.root, va0, 0, 3, 0x111000 | ARM_PAGE, NULL);
    tb_map(&tb, &g1, c.root1, va1, 0, 3, 0x2220000 | ARM_PAGE, NULL);
    rc = ioasid_walk(&c, &tb.ops, va0, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x111000, "arm-s1 TTB0 walk");
    rc = ioasid_walk(&c, &tb.ops, va1, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.out == (0x2220000 | (va1 & 0xffff)) &&
           res.page_shift == 16 && res.levels_walked == 2,
           "arm-s1 TTB1 walk (64K, 42-bit)");
    rc = ioasid_walk(&c, &tb.ops, va1 ^ B(42), R, true, false, &res, &f);
    expect_fault("arm-s1 VA in neither range", rc, &f,
                 IOASID_FAULT_TRANSLATION, 0);
    c.arm_epd1 = true;
    rc = ioasid_walk(&c, &tb.ops, va1, R, true, false, &res, &f);
    expect_fault("arm-s1 EPD1", rc, &f, IOASID_FAULT_TRANSLATION, 0);
    rc = ioasid_walk(&c, &tb.ops, va0, R, true, false, &res, &f);
    TAP_OK(rc == 0, "arm-s1 EPD1 leaves TTB0 alone");
    c.arm_epd0 = true;
    rc = ioasid_walk(&c, &tb.ops, va0, R, true, false, &res, &f);
    expect_fault("arm-s1 EPD0", rc, &f, IOASID_FAULT_TRANSLATION, 0);
    c.arm_epd0 = c.arm_epd1 = false;
    c.arm_ttb1_valid = false;
    rc = ioasid_walk(&c, &tb.ops, va1, R, true, false, &res, &f);
    expect_fault("arm-s1 upper VA without TTB1", rc, &f,
                 IOASID_FAULT_TRANSLATION, 0);
    c.arm_granule = 13;
    rc = ioasid_walk(&c, &tb.ops, va0, R, true, false, &res, &f);
    expect_fault("arm-s1 bad granule", rc, &f, IOASID_FAULT_CONFIG, -1);
    TAP_OK(ioasid_pgt_cfg_check(&c) != NULL, "cfg_check: bad granule");
    c.arm_granule = 12;
    c.arm_tsz = 10;
    TAP_OK(ioasid_pgt_cfg_check(&c) != NULL, "cfg_check: T0SZ 10 (4K)");
    rc = ioasid_walk(&c, &tb.ops, va0, R, true, false, &res, &f);
    expect_fault("arm-s1 bad T0SZ", rc, &f, IOASID_FAULT_CONFIG, -1);
    c.arm_tsz = 25;
    c.arm_aa64 = false;
    rc = ioasid_walk(&c, &tb.ops, va0, R, true, false, &res, &f);
    expect_fault("arm-s1 AArch32 tables", rc, &f, IOASID_FAULT_CONFIG, -1);
    fakemem_free(&tb.m);
}

static void test_arm_s1_perms_faults(void)
{
    TbGeo g = arm_geo(12, 48, -1);
    uint64_t va = 0x12345678000, ent[4], e, leaf = 0x9000 | ARM_PAGE;
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    c = arm_s1_cfg(12, 16, tb_root(&tb, &g));
    tb_map(&tb, &g, c.root, va, 0, 3, leaf, ent);
    /* AP[2:1] = 00: privileged RW only */
    rc = ioasid_walk(&c, &tb.ops, va, R | W, true, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | W | X), "arm-s1 AP=00 priv RW");
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s1 AP=00 unpriv read", rc, &f,
                 IOASID_FAULT_PERMISSION, 3);
    TAP_EQ(f.entry_addr, ent[3], "arm-s1 permission entry_addr");
    rc = ioasid_walk(&c, &tb.ops, va, R, false, true, &res, &f);
    TAP_OK(rc == 0 && res.perms == X, "arm-s1 ATS unpriv: only X");
    /* AP = 01: EL0 RW */
    fakemem_st64(&tb.m, ent[3], leaf | B(6));
    rc = ioasid_walk(&c, &tb.ops, va, R | W, false, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | W | X), "arm-s1 AP=01 unpriv RW");
    /* AP = 11: read-only for both */
    fakemem_st64(&tb.m, ent[3], leaf | B(6) | B(7));
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("arm-s1 AP=11 unpriv write", rc, &f,
                 IOASID_FAULT_PERMISSION, 3);
    rc = ioasid_walk(&c, &tb.ops, va, W, true, false, &res, &f);
    expect_fault("arm-s1 AP=11 priv write", rc, &f,
                 IOASID_FAULT_PERMISSION, 3);
    /* AP = 10: priv RO */
    fakemem_st64(&tb.m, ent[3], leaf | B(7));
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | X), "arm-s1 AP=10 priv RO");
    /* UXN / PXN */
    fakemem_st64(&tb.m, ent[3], leaf | B(6) | B(54));
    rc = ioasid_walk(&c, &tb.ops, va, X, false, false, &res, &f);
    expect_fault("arm-s1 UXN unpriv exec", rc, &f,
                 IOASID_FAULT_PERMISSION, 3);
    rc = ioasid_walk(&c, &tb.ops, va, X, true, false, &res, &f);
    TAP_OK(rc == 0, "arm-s1 UXN: priv exec ok");
    fakemem_st64(&tb.m, ent[3], leaf | B(6) | B(53));
    rc = ioasid_walk(&c, &tb.ops, va, X, true, false, &res, &f);
    expect_fault("arm-s1 PXN priv exec", rc, &f, IOASID_FAULT_PERMISSION, 3);
    rc = ioasid_walk(&c, &tb.ops, va, X, false, false, &res, &f);
    TAP_OK(rc == 0, "arm-s1 PXN: unpriv exec ok");
    fakemem_st64(&tb.m, ent[3], leaf | B(6));
    /* Hierarchical attributes in the level-1 table descriptor */
    e = fakemem_ld64(&tb.m, ent[1]);
    fakemem_st64(&tb.m, ent[1], e | B(61));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s1 APTable[0]", rc, &f, IOASID_FAULT_PERMISSION, 3);
    fakemem_st64(&tb.m, ent[1], e | B(62));
    rc = ioasid_walk(&c, &tb.ops, va, W, true, false, &res, &f);
    expect_fault("arm-s1 APTable[1]", rc, &f, IOASID_FAULT_PERMISSION, 3);
    fakemem_st64(&tb.m, ent[1], e | B(60));
    rc = ioasid_walk(&c, &tb.ops, va, X, false, false, &res, &f);
    expect_fault("arm-s1 UXNTable", rc, &f, IOASID_FAULT_PERMISSION, 3);
    fakemem_st64(&tb.m, ent[1], e | B(59));
    rc = ioasid_walk(&c, &tb.ops, va, X, true, false, &res, &f);
    expect_fault("arm-s1 PXNTable", rc, &f, IOASID_FAULT_PERMISSION, 3);
    fakemem_st64(&tb.m, ent[1], e);

    for (int n = 0; n < 4; n++) {
        uint64_t old = fakemem_ld64(&tb.m, ent[n]);
        char what[64];

        fakemem_st64(&tb.m, ent[n], old & ~UINT64_C(1));
        rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
        snprintf(what, sizeof(what), "arm-s1 invalid at level %d", n);
        expect_fault(what, rc, &f, IOASID_FAULT_TRANSLATION, n);
        TAP_EQ(f.entry_addr, ent[n], "%s: entry_addr", what);
        fakemem_st64(&tb.m, ent[n], old | B(44));
        c.oas = 44;
        rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
        c.oas = 48;
        snprintf(what, sizeof(what), "arm-s1 address size at level %d", n);
        expect_fault(what, rc, &f, IOASID_FAULT_ADDR_SIZE, n);
        fakemem_st64(&tb.m, ent[n], old);
    }
    /* Level 3 with bits[1:0] = 01 is invalid; level 0 block invalid. */
    fakemem_st64(&tb.m, ent[3], 0x9000 | ARM_BLOCK);
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    expect_fault("arm-s1 block at level 3", rc, &f,
                 IOASID_FAULT_TRANSLATION, 3);
    fakemem_st64(&tb.m, ent[3], leaf);
    e = fakemem_ld64(&tb.m, ent[0]);
    fakemem_st64(&tb.m, ent[0], ARM_BLOCK);
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    expect_fault("arm-s1 block at level 0 (4K)", rc, &f,
                 IOASID_FAULT_TRANSLATION, 0);
    fakemem_st64(&tb.m, ent[0], e);
    /* Root beyond OAS */
    c.root |= B(47);
    c.oas = 40;
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    expect_fault("arm-s1 TTB beyond OAS", rc, &f, IOASID_FAULT_ADDR_SIZE, 0);
    c.root &= ~B(47);
    c.oas = 48;
    /* External abort */
    tb.m.limit = c.root;
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    expect_fault("arm-s1 external abort on root", rc, &f,
                 IOASID_FAULT_EXT_ABORT, 0);
    tb.m.limit = B(52);
    fakemem_free(&tb.m);
}

static void test_arm_s1_af_dbm(void)
{
    TbGeo g = arm_geo(16, 48, -1);
    uint64_t va = 0x123456780000, ent[3], leaf = 0x50000 | 3 | B(6);
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    c = arm_s1_cfg(16, 16, tb_root(&tb, &g));
    tb_map(&tb, &g, c.root, va, 0, 3, leaf, ent);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s1 AF=0", rc, &f, IOASID_FAULT_ACCESS_FLAG, 3);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, true, &res, &f);
    expect_fault("arm-s1 AF=0 (ATS)", rc, &f, IOASID_FAULT_ACCESS_FLAG, 3);
    c.arm_affd = true;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && fakemem_ld64(&tb.m, ent[2]) == leaf,
           "arm-s1 AF=0 with AFFD: ok, no update");
    c.arm_affd = false;
    c.arm_ha = true;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0, "arm-s1 AF=0 with HA ok");
    TAP_EQ(fakemem_ld64(&tb.m, ent[2]), leaf | ARM_AF, "arm-s1 HA sets AF");
    /* DBM */
    leaf = 0x50000 | ARM_PAGE | B(6) | B(7) | B(51);
    fakemem_st64(&tb.m, ent[2], leaf);
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("arm-s1 DBM without HD", rc, &f, IOASID_FAULT_PERMISSION, 3);
    c.arm_hd = true;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && !(res.perms & W) && fakemem_ld64(&tb.m, ent[2]) == leaf,
           "arm-s1 DBM read: not writable, clean");
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == 0 && (res.perms & W), "arm-s1 DBM write ok");
    TAP_EQ(fakemem_ld64(&tb.m, ent[2]), leaf & ~B(7),
           "arm-s1 DBM write clears AP[2]");
    /* 64K granule: OA[51:48] in bits 15:12 */
    fakemem_st64(&tb.m, ent[2], 0x50000 | ARM_PAGE | (UINT64_C(0xa) << 12));
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    expect_fault("arm-s1 64K OA[51:48] beyond 48-bit OAS", rc, &f,
                 IOASID_FAULT_ADDR_SIZE, 3);
    c.oas = 52;
    rc = ioasid_walk(&c, &tb.ops, va, R, true, false, &res, &f);
    TAP_EQ(rc == 0 ? res.out : 0,
           (UINT64_C(0xa) << 48) | 0x50000 | (va & 0xffff),
           "arm-s1 64K 52-bit OA");
    /* HD without HA is ignored. */
    fakemem_st64(&tb.m, ent[2], leaf);
    c.arm_ha = false;
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("arm-s1 DBM with HD but not HA", rc, &f,
                 IOASID_FAULT_PERMISSION, 3);
    /* 64K level-1 (4TB) block only with a 52-bit OA (FEAT_LPA). */
    fakemem_st64(&tb.m, ent[0], B(42) | ARM_BLOCK | B(6));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.page_shift == 42 &&
           res.out == (B(42) | (va & (B(42) - 1))), "arm-s1 64K 4TB block");
    c.oas = 48;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s1 64K level-1 block without LPA", rc, &f,
                 IOASID_FAULT_TRANSLATION, 1);
    fakemem_free(&tb.m);
}

/* ---------------------------------------------------------------------- */
/* Arm stage 2                                                              */
/* ---------------------------------------------------------------------- */

static IoasidPgtCfg arm_s2_cfg(unsigned gran, unsigned tsz, unsigned sl0,
                               uint64_t root)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_ARM_S2, .root = root, .oas = 48,
                       .arm_granule = gran, .arm_tsz = tsz, .arm_sl0 = sl0,
                       .arm_aa64 = true };
    return c;
}

static int s2_start(unsigned gran, unsigned sl0)
{
    if (sl0 > 2) {
        return -1;
    }
    return gran == 12 ? 2 - sl0 : 3 - sl0;
}

static void test_arm_s2_geometry(void)
{
    unsigned valid = 0, invalid = 0;

    for (unsigned gran = 12; gran <= 16; gran += 2) {
        for (unsigned sl0 = 0; sl0 <= 3; sl0++) {
            for (unsigned tsz = 16; tsz <= 48; tsz++) {
                int start = s2_start(gran, sl0);
                unsigned ias = 64 - tsz, stride = gran - 3;
                unsigned sshift = gran + stride * (3 - start);
                bool ok = start >= 0 && ias > sshift &&
                          ias - sshift <= stride + 4;
                TbGeo g;
                IoasidPgtCfg c;
                IoasidResult res;
                IoasidFault f;
                uint64_t va, pa = 0x3456780000;
                int rc;

                if (gran == 16 && tsz == 48) {
                    continue;
                }
                tb_init(&tb, 0x10000);
                c = arm_s2_cfg(gran, tsz, sl0, 0x10000);
                if (!ok) {
                    rc = ioasid_walk(&c, &tb.ops, 0, R, false, false, &res,
                                     &f);
                    TAP_OK(rc == -1 && f.reason == IOASID_FAULT_CONFIG &&
                           ioasid_pgt_cfg_check(&c) != NULL,
                           "arm-s2 %uK SL0 %u T0SZ %u invalid",
                           1u << (gran - 10), sl0, tsz);
                    invalid++;
                    continue;
                }
                valid++;
                g = arm_geo(gran, ias, start);
                c.root = tb_root(&tb, &g);
                TAP_OK(ioasid_pgt_cfg_check(&c) == NULL, "s2 cfg ok");
                /* The top index bit: the last concatenated table. */
                va = (UINT64_C(0x0fedcba987654321) & (B(ias) - 1)) |
                     B(ias - 1);
                tb_map(&tb, &g, c.root, va, 0, 3, pa | ARM_PAGE | 0xc0,
                       NULL);
                rc = ioasid_walk(&c, &tb.ops, va, R | W | X, false, false,
                                 &res, &f);
                TAP_OK(rc == 0 && res.out == (pa | (va & (B(gran) - 1))) &&
                       res.perms == (R | W | X) &&
                       res.levels_walked == g.nlevels,
                       "arm-s2 %uK SL0 %u T0SZ %u: %u levels, %u index bits"
                       " at start", 1u << (gran - 10), sl0, tsz, g.nlevels,
                       g.top_bits);
                rc = ioasid_walk(&c, &tb.ops, va | B(ias), R, false, false,
                                 &res, &f);
                expect_fault("arm-s2 IPA above S2T0SZ", rc, &f,
                             IOASID_FAULT_TRANSLATION, 0);
                fakemem_free(&tb.m);
            }
        }
    }
    TAP_OK(valid > 50 && invalid > 50, "arm-s2: %u valid, %u invalid SL0/T0SZ",
           valid, invalid);
}

static void test_arm_s2_perms(void)
{
    TbGeo g = arm_geo(12, 40, 1);
    uint64_t va = 0xfe12345000, ent[3], leaf = 0x7000 | ARM_PAGE;
    IoasidPgtCfg c;
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    c = arm_s2_cfg(12, 24, 1, tb_root(&tb, &g));
    tb_map(&tb, &g, c.root, va, 0, 3, leaf, ent);
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s2 S2AP=00 read", rc, &f, IOASID_FAULT_PERMISSION, 3);
    TAP_EQ(f.stage, 2, "arm-s2 stage");
    rc = ioasid_walk(&c, &tb.ops, va, X, false, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == X, "arm-s2 S2AP=00: exec only");
    fakemem_st64(&tb.m, ent[2], leaf | B(6));
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    expect_fault("arm-s2 S2AP=01 write", rc, &f, IOASID_FAULT_PERMISSION, 3);
    fakemem_st64(&tb.m, ent[2], leaf | B(7));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s2 S2AP=10 read", rc, &f, IOASID_FAULT_PERMISSION, 3);
    rc = ioasid_walk(&c, &tb.ops, va, W, true, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (W | X), "arm-s2 S2AP=10 write");
    fakemem_st64(&tb.m, ent[2], leaf | 0xc0 | B(54));
    rc = ioasid_walk(&c, &tb.ops, va, X, false, false, &res, &f);
    expect_fault("arm-s2 XN", rc, &f, IOASID_FAULT_PERMISSION, 3);
    rc = ioasid_walk(&c, &tb.ops, va, X, false, true, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | W), "arm-s2 XN ATS perms");
    /* table attributes are ignored at stage 2 */
    fakemem_st64(&tb.m, ent[2], leaf | 0xc0);
    fakemem_st64(&tb.m, ent[0], fakemem_ld64(&tb.m, ent[0]) | B(61) | B(62));
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == 0, "arm-s2 ignores APTable");
    /* AF / HA / HD with DBM */
    fakemem_st64(&tb.m, ent[2], 0x7000 | 3 | B(6) | B(51));
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s2 AF=0", rc, &f, IOASID_FAULT_ACCESS_FLAG, 3);
    c.arm_ha = true;
    c.arm_hd = true;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.perms == (R | X), "arm-s2 HA read ok, clean");
    TAP_EQ(fakemem_ld64(&tb.m, ent[2]), 0x7000 | 3 | B(6) | B(51) | ARM_AF,
           "arm-s2 HA sets AF");
    rc = ioasid_walk(&c, &tb.ops, va, W, false, false, &res, &f);
    TAP_OK(rc == 0 && (res.perms & W), "arm-s2 DBM write ok");
    TAP_EQ(fakemem_ld64(&tb.m, ent[2]),
           0x7000 | 3 | B(6) | B(7) | B(51) | ARM_AF,
           "arm-s2 DBM sets S2AP[1]");
    /* address size of a block */
    fakemem_st64(&tb.m, ent[1], B(45) | ARM_BLOCK | 0xc0);
    c.oas = 44;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s2 block address size", rc, &f,
                 IOASID_FAULT_ADDR_SIZE, 2);
    c.oas = 48;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    TAP_OK(rc == 0 && res.page_shift == 21 &&
           res.out == (B(45) | (va & 0x1fffff)), "arm-s2 2M block");
    c.arm_sl0 = 3;
    rc = ioasid_walk(&c, &tb.ops, va, R, false, false, &res, &f);
    expect_fault("arm-s2 SL0 3", rc, &f, IOASID_FAULT_CONFIG, -1);
    fakemem_free(&tb.m);
}

/* ---------------------------------------------------------------------- */

static void test_identity_misc(void)
{
    IoasidPgtCfg c = { .fmt = IOASID_FMT_IDENTITY, .oas = 39 };
    IoasidResult res;
    IoasidFault f;
    int rc;

    tb_init(&tb, 0x10000);
    rc = ioasid_walk(&c, &tb.ops, 0x12345678, W, false, false, &res, &f);
    TAP_OK(rc == 0 && res.out == 0x12345678 && res.levels_walked == 0 &&
           res.perms == (R | W | X), "identity");
    rc = ioasid_walk(&c, &tb.ops, B(39), R, false, false, &res, &f);
    expect_fault("identity beyond OAS", rc, &f, IOASID_FAULT_ADDR_SIZE, -1);
    TAP_OK(ioasid_pgt_cfg_check(&c) == NULL, "identity cfg ok");
    c.oas = 28;
    rc = ioasid_walk(&c, &tb.ops, 0x1000, R, false, false, &res, &f);
    expect_fault("OAS below 32 bits", rc, &f, IOASID_FAULT_CONFIG, -1);
    TAP_OK(ioasid_pgt_cfg_check(&c) != NULL, "cfg_check: OAS 28");
    c.oas = 39;
    c.fmt = IOASID_FMT_NONE;
    rc = ioasid_walk(&c, &tb.ops, 0, R, false, false, &res, &f);
    expect_fault("format NONE", rc, &f, IOASID_FAULT_CONFIG, -1);
    TAP_OK(ioasid_pgt_cfg_check(&c) != NULL, "cfg_check: format NONE");
    c.fmt = IOASID_FMT__MAX;
    rc = ioasid_walk(&c, &tb.ops, 0, R, false, false, &res, &f);
    expect_fault("format out of range", rc, &f, IOASID_FAULT_CONFIG, -1);
    for (int r = 0; r <= IOASID_FAULT__MAX; r++) {
        const char *s = ioasid_fault_reason_str(r);
        TAP_OK(s && *s && (r < IOASID_FAULT__MAX) == !!strcmp(s, "unknown"),
               "reason %d: %s", r, s);
    }
    fakemem_free(&tb.m);
}

/* ---------------------------------------------------------------------- */
/* Faults common to all formats: root address size, external aborts of    */
/* table reads and of A/D updates, lost cmpxchg races.                     */
/* ---------------------------------------------------------------------- */

typedef struct XchgMem {
    FakeMem *m;
    int mode;           /* 0: real, -1: abort, 1: always race, 2: race once */
    unsigned calls;
} XchgMem;

static int xm_read(void *o, uint64_t addr, void *buf, size_t len)
{
    return fakemem_read(((XchgMem *)o)->m, addr, buf, len);
}

static int xm_cmpxchg(void *o, uint64_t addr, uint64_t expect, uint64_t val,
                      uint64_t *cur)
{
    XchgMem *x = o;

    x->calls++;
    if (x->mode == -1) {
        return -1;
    }
    if (x->mode == 1 || (x->mode == 2 && x->calls == 1)) {
        *cur = expect ^ 1;
        return 1;
    }
    return fakemem_ops_cmpxchg64(x->m, addr, expect, val, cur);
}

static void test_common_faults(void)
{
    static const char *const names[] = { "vtd-ss", "vtd-fs", "arm-s1",
                                         "arm-s2" };

    for (int i = 0; i < 4; i++) {
        TbGeo g = i < 2 ? vtd_geo(4) : arm_geo(12, 48, i == 3 ? 0 : -1);
        uint64_t va = 0x12345678000, ent[4], root;
        IoasidPgtCfg c;
        XchgMem xm;
        IoasidMemOps ops = { .opaque = &xm, .read = xm_read,
                             .cmpxchg64 = xm_cmpxchg };
        IoasidResult res;
        IoasidFault f;
        int start = i < 2 ? 4 : 0, rc;
        char what[80];

        tb_init(&tb, 0x10000);
        root = tb_root(&tb, &g);
        switch (i) {
        case 0:
            c = vtd_ss_cfg(4, root);
            c.vtd_ad = true;
            tb_map(&tb, &g, root, va, 0, 3, 0x5000 | 3, ent);
            break;
        case 1:
            c = vtd_fs_cfg(4, root);
            c.vtd_ad = true;
            tb_map(&tb, &g, root, va, 0, 7, 0x5000 | 7, ent);
            break;
        case 2:
            c = arm_s1_cfg(12, 16, root);
            c.arm_ha = true;
            tb_map(&tb, &g, root, va, 0, 3, 0x5000 | 3 | B(6), ent);
            break;
        default:
            c = arm_s2_cfg(12, 16, 2, root);
            c.arm_ha = true;
            tb_map(&tb, &g, root, va, 0, 3, 0x5000 | 3 | 0xc0, ent);
            break;
        }
        xm.m = &tb.m;

        xm.mode = 1;
        xm.calls = 0;
        rc = ioasid_walk(&c, &ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "%s: update always races", names[i]);
        expect_fault(what, rc, &f, IOASID_FAULT_EXT_ABORT,
                     i < 2 ? start : 3);
        TAP_EQ(xm.calls, 5, "%s: 1 try + 4 restarts", what);

        xm.mode = -1;
        rc = ioasid_walk(&c, &ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "%s: update aborts", names[i]);
        expect_fault(what, rc, &f, IOASID_FAULT_EXT_ABORT,
                     i < 2 ? start : 3);
        TAP_EQ(f.entry_addr, i < 2 ? ent[0] : ent[3], "%s: entry_addr",
               what);
        TAP_EQ(f.entry, fakemem_ld64(&tb.m, i < 2 ? ent[0] : ent[3]),
               "%s: entry value", what);

        xm.mode = 2;
        xm.calls = 0;
        rc = ioasid_walk(&c, &ops, va, R, false, false, &res, &f);
        TAP_OK(rc == 0 && res.out == (0x5000 | (va & 0xfff)) &&
               res.levels_walked == 8 && xm.calls == (i < 2 ? 5 : 2),
               "%s: one lost race: walk restarted (%u entries read, %u "
               "cmpxchg)", names[i], res.levels_walked, xm.calls);
        TAP_OK(fakemem_ld64(&tb.m, ent[3]) & (i == 0 ? B(8) : i == 1 ? B(5)
                                                       : B(10)),
               "%s: leaf updated", names[i]);

        xm.mode = 0;
        c.root |= B(45);
        c.oas = 44;
        rc = ioasid_walk(&c, &ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "%s: root beyond OAS", names[i]);
        expect_fault(what, rc, &f, IOASID_FAULT_ADDR_SIZE, start);
        c.root = root;
        c.oas = 48;

        tb.m.limit = root;
        rc = ioasid_walk(&c, &ops, va, R, false, false, &res, &f);
        snprintf(what, sizeof(what), "%s: root outside memory", names[i]);
        expect_fault(what, rc, &f, IOASID_FAULT_EXT_ABORT, start);
        TAP_EQ(f.entry_addr, ent[0], "%s: entry_addr", what);
        TAP_EQ(f.entry, 0, "%s: entry", what);
        tb.m.limit = B(52);
        fakemem_free(&tb.m);
    }
}

int main(void)
{
    test_vtd_ss_geometry();
    test_vtd_ss_perms_faults();
    test_vtd_ss_ad();
    test_vtd_fs_geometry();
    test_vtd_fs_perms_faults();
    test_vtd_fs_ad();
    test_arm_s1_geometry();
    test_arm_s1_ttb1();
    test_arm_s1_perms_faults();
    test_arm_s1_af_dbm();
    test_arm_s2_geometry();
    test_arm_s2_perms();
    test_common_faults();
    test_identity_misc();
    return tap_done();
}
