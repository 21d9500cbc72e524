/*
 * qtest for ioasid-vtd (Intel VT-d model) on q35.
 *
 * Register reset values and capabilities, global commands, legacy and
 * scalable-mode translation tables built in guest RAM, DMA from
 * ioasid-testdev through second-stage, first-stage, nested and
 * pass-through translation with and without PASID, fault recording and
 * fault events, invalidation (register-based and queued) with the
 * "stale until invalidated" rule, invalidation queue errors.
 *
 * Interrupt messages (fault event, invalidation completion) are checked
 * by pointing FEADDR / IEADDR at guest RAM: the unit writes the data
 * there, which a test can read back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "hw/pci/pci_regs.h"
#include "ioasid-testdev-util.h"

#define SEABIOS_DIR     "/usr/share/seabios"
#define VTD_BASE        0xfed90000ULL
#define Q35_ECAM_BASE   0xb0000000ULL
#define TESTDEV_SLOT    4
#define TESTDEV_SID     (TESTDEV_SLOT << 3)
#define PASID_CAP       IOASID_TESTDEV_CFG_EXT_CAP  /* first ext cap */

/* Registers (VT-d spec 11.4) */
#define VER             0x00
#define CAP             0x08
#define ECAP            0x10
#define GCMD            0x18
#define GSTS            0x1c
#define RTADDR          0x20
#define CCMD            0x28
#define FSTS            0x34
#define FECTL           0x38
#define FEDATA          0x3c
#define FEADDR          0x40
#define FEUADDR         0x44
#define IQH             0x80
#define IQT             0x88
#define IQA             0x90
#define ICS             0x9c
#define IECTL           0xa0
#define IEDATA          0xa4
#define IEADDR          0xa8
#define IEUADDR         0xac
#define IQERCD          0xb0
#define IRTA            0xb8
#define VTD_REG_SIZE_TEST 0x1000
#define FRCD            0x400
#define IVA             0x500
#define IOTLB           0x508

#define GSTS_TES        (1u << 31)
#define GSTS_RTPS       (1u << 30)
#define GSTS_QIES       (1u << 26)
#define GSTS_IRES       (1u << 25)
#define GSTS_IRTPS      (1u << 24)
#define GSTS_CFIS       (1u << 23)
#define FSTS_PFO        (1u << 0)
#define FSTS_PPF        (1u << 1)
#define FSTS_IQE        (1u << 4)
#define IM              (1u << 31)
#define IP              (1u << 30)

/* Guest memory layout */
#define MEM_TABLES      0x01000000ULL   /* bump allocator for tables */
#define MEM_QUEUE       0x03000000ULL
#define MEM_STATUS      0x03100000ULL
#define MEM_MSI         0x03200000ULL
#define MEM_DATA        0x04000000ULL

/* Paging entry bits */
#define SS_RW           0x3ULL                   /* R | W */
#define SS_R            0x1ULL
#define FS_USER         0x7ULL                   /* P | RW | U/S */
#define FS_RO           0x5ULL                   /* P | U/S */

typedef struct T {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t next;
    uint32_t iq_tail;
} T;

/* ---- setup ---- */
static T *t_start_with(const char *vtd_props, const char *extra)
{
    T *t = g_new0(T, 1);
    QPCIDevice *mch;
    /*
     * The +ds QEMU source has no firmware blobs: use Debian's SeaBIOS when
     * the build has none.
     */
    const char *fw = g_file_test(SEABIOS_DIR "/bios-256k.bin",
                                 G_FILE_TEST_EXISTS) ?
                     "-L " SEABIOS_DIR " " : "";

    t->qts = qtest_initf("%s-nodefaults -machine q35 -m 128M "
                         "-device ioasid-vtd%s%s "
                         "-device ioasid-testdev,addr=%02x.0 %s", fw,
                         *vtd_props ? "," : "", vtd_props, TESTDEV_SLOT,
                         extra);
    pc_alloc_init(&t->alloc, t->qts, ALLOC_NO_FLAGS);
    t->bus = qpci_new_pc(t->qts, &t->alloc);
    mch = qpci_device_find(t->bus, 0);
    g_assert(mch);
    qpci_config_writel(mch, 0x64, 0);
    qpci_config_writel(mch, 0x60, Q35_ECAM_BASE | 1);
    g_free(mch);
    t->dev = qpci_device_find(t->bus, QPCI_DEVFN(TESTDEV_SLOT, 0));
    g_assert(t->dev);
    qpci_device_enable(t->dev);
    t->bar = qpci_iomap(t->dev, IOASID_TESTDEV_BAR_REGS, NULL);
    /* PASID capability: Enable, Execute, Privileged mode. */
    qtest_writew(t->qts, Q35_ECAM_BASE + (TESTDEV_SID << 12) + PASID_CAP + 6,
                 0x7);
    t->next = MEM_TABLES;
    return t;
}

static T *t_start(const char *vtd_props)
{
    return t_start_with(vtd_props, "");
}

static void t_stop(T *t)
{
    g_free(t->dev);
    qpci_free_pc(t->bus);
    alloc_destroy(&t->alloc);
    qtest_quit(t->qts);
    g_free(t);
}

/* ---- IOMMU registers ---- */
static uint32_t r32(T *t, uint32_t off)
{
    return qtest_readl(t->qts, VTD_BASE + off);
}

static uint64_t r64(T *t, uint32_t off)
{
    return qtest_readq(t->qts, VTD_BASE + off);
}

static void w32(T *t, uint32_t off, uint32_t v)
{
    qtest_writel(t->qts, VTD_BASE + off, v);
}

static void w64(T *t, uint32_t off, uint64_t v)
{
    qtest_writeq(t->qts, VTD_BASE + off, v);
}

/* One global command: current status with @bit set or cleared. */
static void gcmd(T *t, uint32_t bit, bool on)
{
    uint32_t sts = r32(t, GSTS) & (GSTS_TES | GSTS_QIES | GSTS_IRES |
                                   GSTS_CFIS);

    w32(t, GCMD, on ? sts | bit : sts & ~bit);
}

static void set_root(T *t, uint64_t root, bool sm)
{
    w64(t, RTADDR, root | (sm ? 1ULL << 10 : 0));
    gcmd(t, GSTS_RTPS, true);
    g_assert_cmphex(r32(t, GSTS) & GSTS_RTPS, ==, GSTS_RTPS);
}

/* ---- guest memory ---- */
static uint64_t page(T *t)
{
    uint64_t p = t->next;

    t->next += 4096;
    qtest_memset(t->qts, p, 0, 4096);
    return p;
}

static uint64_t rq(T *t, uint64_t a)
{
    return qtest_readq(t->qts, a);
}

static void wq(T *t, uint64_t a, uint64_t v)
{
    qtest_writeq(t->qts, a, v);
}

/* Map 4 KiB @iova -> @pa in a @levels-level table; @tbl: non-leaf bits. */
static void map(T *t, uint64_t root, int levels, uint64_t iova, uint64_t pa,
                uint64_t tbl, uint64_t leaf)
{
    uint64_t table = root;

    for (int lvl = levels - 1; lvl > 0; lvl--) {
        uint64_t a = table + ((iova >> (12 + 9 * lvl)) & 511) * 8;
        uint64_t e = rq(t, a);

        if (!e) {
            e = page(t) | tbl;
            wq(t, a, e);
        }
        table = e & 0x000ffffffffff000ULL;
    }
    wq(t, table + ((iova >> 12) & 511) * 8, pa | leaf);
}

/* Address of the leaf entry of @iova (mapped before). */
static uint64_t leaf_addr(T *t, uint64_t root, int levels, uint64_t iova)
{
    uint64_t table = root;

    for (int lvl = levels - 1; lvl > 0; lvl--) {
        table = rq(t, table + ((iova >> (12 + 9 * lvl)) & 511) * 8) &
                0x000ffffffffff000ULL;
    }
    return table + ((iova >> 12) & 511) * 8;
}

/* Legacy root + context entry for the testdev. Returns the root table. */
static uint64_t legacy_ctx(T *t, unsigned tt, uint64_t slptr, unsigned aw,
                           uint16_t did)
{
    uint64_t root = page(t), ctx = page(t);

    wq(t, root, ctx | 1);
    wq(t, ctx + TESTDEV_SID * 16, slptr | (tt << 2) | 1);
    wq(t, ctx + TESTDEV_SID * 16 + 8, aw | ((uint64_t)did << 8));
    return root;
}

/*
 * Scalable-mode root, context (PASIDE set, RID_PASID @rid_pasid), PASID
 * directory (PDTS 0: 128 entries).  Returns the root; *@pdir the dir.
 */
static uint64_t sm_ctx(T *t, uint32_t rid_pasid, uint64_t *pdir)
{
    uint64_t root = page(t), ctx = page(t);

    *pdir = page(t);
    wq(t, root, ctx | 1);
    wq(t, ctx + TESTDEV_SID * 32, *pdir | (1 << 3) | 1);
    wq(t, ctx + TESTDEV_SID * 32 + 8, rid_pasid);
    return root;
}

/* PASID entry: returns its address. */
static uint64_t sm_pasid(T *t, uint64_t pdir, uint32_t pasid, unsigned pgtt,
                         uint16_t did, uint64_t ssptr, unsigned aw,
                         uint64_t fsptr, uint64_t q2_flags)
{
    uint64_t a = pdir + (pasid >> 6) * 8, pt = rq(t, a) & ~0xfffULL, e;

    if (!pt) {
        pt = page(t);
        wq(t, a, pt | 1);
    }
    e = pt + (pasid & 63) * 64;
    wq(t, e + 8, did);
    wq(t, e + 16, fsptr | q2_flags);
    wq(t, e, ssptr | ((uint64_t)pgtt << 6) | (aw << 2) | 1);
    return e;
}

/* ---- invalidation queue ---- */
static void iq_enable(T *t)
{
    qtest_memset(t->qts, MEM_QUEUE, 0, 4096);
    w64(t, IQT, 0);
    w64(t, IQA, MEM_QUEUE);             /* QS 0: 256 x 128-bit */
    gcmd(t, GSTS_QIES, true);
    g_assert_cmphex(r32(t, GSTS) & GSTS_QIES, ==, GSTS_QIES);
    t->iq_tail = 0;
}

static void iq_put(T *t, uint64_t lo, uint64_t hi)
{
    wq(t, MEM_QUEUE + t->iq_tail * 16, lo);
    wq(t, MEM_QUEUE + t->iq_tail * 16 + 8, hi);
    t->iq_tail = (t->iq_tail + 1) % 256;
}

/* Submit with an invalidation wait (status write) and check it ran. */
static void iq_sync(T *t)
{
    qtest_writel(t->qts, MEM_STATUS, 0);
    iq_put(t, 0x5 | (1 << 5) | (0x600dULL << 32), MEM_STATUS);
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(qtest_readl(t->qts, MEM_STATUS), ==, 0x600d);
    g_assert_cmphex(r64(t, IQH), ==, t->iq_tail * 16);
}

/*
 * After changing a root / context entry: context-cache invalidation,
 * queued when the queue is enabled, else through CCMD.
 */
static void cc_inv(T *t)
{
    if (r32(t, GSTS) & GSTS_QIES) {
        iq_put(t, 0x1 | (1 << 4), 0);                   /* global */
        iq_sync(t);
    } else {
        w64(t, CCMD, (1ULL << 63) | (1ULL << 61));
        g_assert_cmphex(r64(t, CCMD) >> 63, ==, 0);
    }
}

/* After changing a PASID entry: PASID-cache invalidation (queued). */
static void pc_inv(T *t, uint16_t did, uint32_t pasid)
{
    iq_put(t, 0x7 | (1 << 4) | ((uint64_t)did << 16) |
           ((uint64_t)pasid << 32), 0);                 /* PASID-selective */
    iq_sync(t);
}

/* ---- testdev DMA ---- */
static uint32_t td_rd(T *t, uint32_t off)
{
    return ioasid_td_rd(t->dev, t->bar, off);
}

/* FILL @len bytes of @pattern at @iova. */
static uint32_t dma_fill(T *t, uint64_t iova, uint32_t len, uint32_t pattern,
                         uint32_t flags, uint32_t pasid)
{
    return ioasid_td_run(t->dev, t->bar, IOASID_TESTDEV_CMD_FILL, 0, iova,
                         len, pattern, flags, pasid);
}

/* ATS translation request for the page at @iova (result in ATS_RESULT). */
static uint32_t td_ats(T *t, uint64_t iova)
{
    return ioasid_td_run(t->dev, t->bar, IOASID_TESTDEV_CMD_ATS, iova, 0,
                         4096, 0, 0, 0);
}

static uint32_t dma_copy(T *t, uint64_t src, uint64_t dst, uint32_t len,
                         uint32_t flags, uint32_t pasid)
{
    return ioasid_td_run(t->dev, t->bar, IOASID_TESTDEV_CMD_COPY, src, dst,
                         len, 0, flags, pasid);
}

#define F_PASID IOASID_TESTDEV_F_PASID
#define F_PRIV  IOASID_TESTDEV_F_PRIV
#define RES_OK  IOASID_TESTDEV_RES_OK

/* The fault record @i: checks F and returns the upper qword. */
static uint64_t frcd_hi(T *t, int i, uint64_t addr)
{
    uint64_t hi = r64(t, FRCD + i * 16 + 8);

    g_assert_cmphex(hi >> 63, ==, 1);
    g_assert_cmphex(r64(t, FRCD + i * 16), ==, addr & ~0xfffULL);
    g_assert_cmphex(hi & 0xffff, ==, TESTDEV_SID);
    return hi;
}

#define FR(hi)          (((hi) >> 32) & 0xff)
#define PP(hi)          (((hi) >> 31) & 1)
#define PV(hi)          (((hi) >> 40) & 0xfffff)
#define T1(hi)          (((hi) >> 62) & 1)
#define PRIV(hi)        (((hi) >> 29) & 1)

static void frcd_clear(T *t, int i)
{
    w32(t, FRCD + i * 16 + 12, 1u << 31);
    g_assert_cmphex(r64(t, FRCD + i * 16 + 8) >> 63, ==, 0);
}

/* ====================================================================== */

static void test_reset_values(void)
{
    T *t = t_start("");
    uint64_t cap = r64(t, CAP), ecap = r64(t, ECAP);

    g_assert_cmphex(r32(t, VER), ==, 0x10);
    g_assert_cmphex(cap & 7, ==, 6);                    /* ND: 64K */
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0x6);        /* SAGAW 39, 48 */
    g_assert_cmphex((cap >> 16) & 0x3f, ==, 47);        /* MGAW */
    g_assert_cmphex(((cap >> 24) & 0x3ff) * 16, ==, FRCD);
    g_assert_cmphex((cap >> 40) & 0xff, ==, 7);         /* NFR - 1 */
    g_assert_cmphex((cap >> 39) & 1, ==, 1);            /* PSI */
    g_assert_cmphex((cap >> 34) & 0xf, ==, 3);          /* SLLPS 2M 1G */
    g_assert_cmphex((cap >> 7) & 1, ==, 0);             /* CM */
    g_assert_cmphex((cap >> 4) & 1, ==, 0);             /* RWBF */
    g_assert_cmphex((cap >> 59) & 1, ==, 0);            /* PI */
    g_assert_cmphex(ecap & 3, ==, 3);                   /* C, QI */
    g_assert_cmphex((ecap >> 3) & 1, ==, 1);            /* IR */
    g_assert_cmphex((ecap >> 4) & 1, ==, 1);            /* EIM */
    g_assert_cmphex(cap >> 62, ==, 3);                  /* ESIRTPS ESRTPS */
    g_assert_cmphex((ecap >> 2) & 1, ==, 0);            /* DT */
    g_assert_cmphex((ecap >> 6) & 1, ==, 1);            /* PT */
    g_assert_cmphex(((ecap >> 8) & 0x3ff) * 16, ==, IVA);
    g_assert_cmphex((ecap >> 43) & 1, ==, 1);           /* SMTS */
    g_assert_cmphex((ecap >> 46) & 3, ==, 3);           /* SSTS, FSTS */
    g_assert_cmphex((ecap >> 26) & 1, ==, 1);           /* NEST */
    g_assert_cmphex((ecap >> 40) & 1, ==, 1);           /* PASID */
    g_assert_cmphex((ecap >> 35) & 0x1f, ==, 19);       /* PSS */
    g_assert_cmphex((ecap >> 29) & 1, ==, 0);           /* PRS */
    g_assert_cmphex((ecap >> 49) & 1, ==, 1);           /* RPS */

    g_assert_cmphex(r32(t, GCMD), ==, 0);
    g_assert_cmphex(r32(t, GSTS), ==, 0);
    g_assert_cmphex(r64(t, RTADDR), ==, 0);
    g_assert_cmphex(r64(t, CCMD), ==, 0);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    g_assert_cmphex(r32(t, FECTL), ==, IM);
    g_assert_cmphex(r32(t, FEDATA), ==, 0);
    g_assert_cmphex(r32(t, FEADDR), ==, 0);
    g_assert_cmphex(r32(t, FEUADDR), ==, 0);
    g_assert_cmphex(r64(t, IQH), ==, 0);
    g_assert_cmphex(r64(t, IQT), ==, 0);
    g_assert_cmphex(r64(t, IQA), ==, 0);
    g_assert_cmphex(r32(t, ICS), ==, 0);
    g_assert_cmphex(r32(t, IECTL), ==, IM);
    g_assert_cmphex(r32(t, IEDATA), ==, 0);
    g_assert_cmphex(r32(t, IEADDR), ==, 0);
    g_assert_cmphex(r32(t, IEUADDR), ==, 0);
    g_assert_cmphex(r64(t, IQERCD), ==, 0);
    g_assert_cmphex(r64(t, IVA), ==, 0);
    g_assert_cmphex(r64(t, IOTLB), ==, 0);
    g_assert_cmphex(r64(t, IRTA), ==, 0);
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(r64(t, FRCD + i * 16), ==, 0);
        g_assert_cmphex(r64(t, FRCD + i * 16 + 8), ==, 0);
    }
    /* Read-only registers ignore writes. */
    w64(t, CAP, 0);
    g_assert_cmphex(r64(t, CAP), ==, cap);
    t_stop(t);
}

static void test_caps_properties(void)
{
    T *t = t_start("scalable-mode=off,aw-bits=39");
    uint64_t cap = r64(t, CAP), ecap = r64(t, ECAP);

    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0x2);        /* SAGAW 39 only */
    g_assert_cmphex((cap >> 16) & 0x3f, ==, 38);
    g_assert_cmphex((ecap >> 43) & 1, ==, 0);           /* no SMTS */
    g_assert_cmphex((ecap >> 40) & 1, ==, 0);           /* no PASID */
    g_assert_cmphex((ecap >> 46) & 3, ==, 0);
    t_stop(t);

    t = t_start("aw-bits=57,fs-5level=on,pasid-bits=8,nested=off");
    cap = r64(t, CAP);
    ecap = r64(t, ECAP);
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0xe);
    g_assert_cmphex((cap >> 60) & 1, ==, 1);            /* FS5LP */
    g_assert_cmphex((ecap >> 35) & 0x1f, ==, 7);
    g_assert_cmphex((ecap >> 26) & 1, ==, 0);
    t_stop(t);
}

static void test_gcmd(void)
{
    T *t = t_start("");

    set_root(t, page(t), false);
    gcmd(t, GSTS_TES, true);
    g_assert_cmphex(r32(t, GSTS), ==, GSTS_TES | GSTS_RTPS);
    /* Two commands in one write: ignored. */
    w32(t, GCMD, GSTS_QIES);
    g_assert_cmphex(r32(t, GSTS), ==, GSTS_TES | GSTS_RTPS);
    gcmd(t, GSTS_TES, false);
    g_assert_cmphex(r32(t, GSTS), ==, GSTS_RTPS);
    /* Translation disabled: DMA is untranslated. */
    g_assert_cmpuint(dma_fill(t, MEM_DATA, 64, 0x11223344, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 60), ==, 0x11223344);
    t_stop(t);
}

static void test_legacy_ss(void)
{
    T *t = t_start("");
    uint64_t ss = page(t);
    uint64_t iova = 0x12345000ULL, pa = MEM_DATA + 0x3000;

    map(t, ss, 4, iova, pa, SS_RW, SS_RW);
    map(t, ss, 4, iova + 0x1000, pa + 0x1000, SS_RW, SS_RW);
    set_root(t, legacy_ctx(t, 0, ss, 2, 5), false);
    gcmd(t, GSTS_TES, true);

    g_assert_cmpuint(dma_fill(t, iova + 0x10, 0x100, 0xcafef00d, 0, 0), ==,
                     RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, pa + 0x10), ==, 0xcafef00d);
    g_assert_cmphex(qtest_readl(t->qts, pa + 0x10c), ==, 0xcafef00d);
    g_assert_cmphex(qtest_readl(t->qts, pa + 0x110), ==, 0);
    /* Copy across a page boundary. */
    g_assert_cmpuint(dma_copy(t, iova, iova + 0xf80, 0x200, 0, 0), ==,
                     RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, pa + 0x1000 + 0x10), ==, 0xcafef00d);
    g_assert_cmphex(r32(t, FSTS), ==, 0);

    /* A translation into the interrupt range is blocked: Eh (LGN.4). */
    map(t, ss, 4, 0x20000000, 0xfee00000ULL, SS_RW, SS_RW);
    g_assert_cmpuint(dma_fill(t, 0x20000000, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 0, 0x20000000)), ==, 0xe);
    frcd_clear(t, 0);

    /* 3-level table (AW 1) */
    ss = page(t);
    map(t, ss, 3, 0x1000, MEM_DATA + 0x8000, SS_RW, SS_RW);
    set_root(t, legacy_ctx(t, 0, ss, 1, 6), false);
    g_assert_cmpuint(dma_fill(t, 0x1000, 8, 0x5a5a5a5a, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x8004), ==, 0x5a5a5a5a);
    t_stop(t);
}

static void test_legacy_pt(void)
{
    T *t = t_start("");
    uint64_t root = legacy_ctx(t, 2, 0, 2, 1), ce;

    set_root(t, root, false);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x40, 4, 0xabcd1234, 0, 0), ==,
                     RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x40), ==, 0xabcd1234);

    /* The context entry is cached: stale until a context-cache inv. */
    ce = (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 16;
    wq(t, ce, page(t) | 1);                             /* TT 00b, empty */
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x40, 4, 1, 0, 0), ==, RES_OK);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x40, 4, 2, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x40), ==, 1);
    t_stop(t);

    /* x-context-cache=off: every request re-reads the entries. */
    t = t_start("x-context-cache=off");
    root = legacy_ctx(t, 2, 0, 2, 1);
    set_root(t, root, false);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x40, 4, 3, 0, 0), ==, RES_OK);
    wq(t, (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 16, page(t) | 1);
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x40, 4, 4, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    t_stop(t);
}

static void test_legacy_faults(void)
{
    T *t = t_start("");
    uint64_t ss = page(t), hi, root;
    uint64_t iova = 0x40000000ULL;

    map(t, ss, 4, iova, MEM_DATA, SS_RW, SS_R);         /* read-only */
    root = legacy_ctx(t, 0, ss, 2, 3);
    set_root(t, root, false);
    gcmd(t, GSTS_TES, true);
    w32(t, FEDATA, 0x4242);
    w32(t, FEADDR, MEM_MSI);
    qtest_writel(t->qts, MEM_MSI, 0);
    w32(t, FECTL, 0);                                   /* unmask */

    /* Write to a read-only page: reason 5h, T1 = 0 (write). */
    g_assert_cmpuint(dma_fill(t, iova + 0x20, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_PPF);        /* FRI 0 */
    hi = frcd_hi(t, 0, iova);
    g_assert_cmphex(FR(hi), ==, 0x5);
    g_assert_cmphex(T1(hi), ==, 0);
    g_assert_cmphex(PP(hi), ==, 0);
    /* fault event message sent, IP clear */
    g_assert_cmphex(qtest_readl(t->qts, MEM_MSI), ==, 0x4242);
    g_assert_cmphex(r32(t, FECTL), ==, 0);

    /* Unmapped page, read: reason 6h, T1 = 1; recorded in FRCD 1. */
    g_assert_cmpuint(dma_copy(t, iova + 0x5000, iova, 4, 0, 0), ==,
                     IOASID_TESTDEV_RES_SRC_FAULT);
    hi = frcd_hi(t, 1, iova + 0x5000);
    g_assert_cmphex(FR(hi), ==, 0x6);
    g_assert_cmphex(T1(hi), ==, 1);
    /* PPF already set: FRI unchanged, no new event. */
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_PPF);
    frcd_clear(t, 0);
    frcd_clear(t, 1);
    g_assert_cmphex(r32(t, FSTS), ==, 0);

    /* Input address beyond the 48-bit AGAW: reason 4h. */
    g_assert_cmpuint(dma_fill(t, 1ULL << 50, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 2, 1ULL << 50)), ==, 0x4);
    frcd_clear(t, 2);

    /* Reserved bit in a second-stage entry: reason Ch. */
    wq(t, leaf_addr(t, ss, 4, iova), MEM_DATA | SS_RW | (1ULL << 11));
    g_assert_cmpuint(dma_fill(t, iova + 0x1000 * 0, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 3, iova)), ==, 0xc);
    frcd_clear(t, 3);

    /* Context entry not present: reason 2h. */
    wq(t, (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 16, 0);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, iova, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 4, iova)), ==, 0x2);
    frcd_clear(t, 4);

    /* Context entry with reserved TT 11b: reason 3h. */
    wq(t, (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 16, ss | (3 << 2) | 1);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, iova, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 5, iova)), ==, 0x3);
    frcd_clear(t, 5);

    /* Root entry reserved bit: reason Ah. */
    wq(t, root + 8, 1);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, iova, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 6, iova)), ==, 0xa);
    frcd_clear(t, 6);
    wq(t, root + 8, 0);

    /* Root entry not present: reason 1h. */
    wq(t, root, 0);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, iova, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 7, iova)), ==, 0x1);
    frcd_clear(t, 7);

    /*
     * Request with PASID in legacy mode: reason 31h, PASID recorded;
     * the ring of 8 records wraps to FRCD 0.
     */
    g_assert_cmpuint(dma_fill(t, iova, 4, 1, F_PASID, 9), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 0, iova);
    g_assert_cmphex(FR(hi), ==, 0x31);
    g_assert_cmphex(PP(hi), ==, 1);
    g_assert_cmphex(PV(hi), ==, 9);
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_PPF);
    t_stop(t);
}

static void test_fault_overflow_and_mask(void)
{
    T *t = t_start("");

    set_root(t, legacy_ctx(t, 0, page(t), 2, 1), false);  /* empty SS */
    gcmd(t, GSTS_TES, true);
    w32(t, FEDATA, 0x77);
    w32(t, FEADDR, MEM_MSI);
    qtest_writel(t->qts, MEM_MSI, 0);
    /* IM set (reset value): IP latches, no message. */
    g_assert_cmpuint(dma_fill(t, 0x1000, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(r32(t, FECTL), ==, IM | IP);
    g_assert_cmphex(qtest_readl(t->qts, MEM_MSI), ==, 0);
    /* Unmask: the pending message is sent, IP clears. */
    w32(t, FECTL, 0);
    g_assert_cmphex(qtest_readl(t->qts, MEM_MSI), ==, 0x77);
    g_assert_cmphex(r32(t, FECTL), ==, 0);
    /* Fill all 8 records, the 9th sets PFO. */
    for (int i = 1; i < 9; i++) {
        dma_fill(t, 0x1000 * (i + 1), 4, 1, 0, 0);
    }
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_PPF | FSTS_PFO);
    for (int i = 0; i < 8; i++) {
        frcd_clear(t, i);
    }
    w32(t, FSTS, FSTS_PFO);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    t_stop(t);
}

static void test_sm_ss_rid_pasid(void)
{
    T *t = t_start("");
    uint64_t pdir, ss = page(t), hi, pe;
    uint64_t root = sm_ctx(t, 0, &pdir);

    map(t, ss, 4, 0x7000, MEM_DATA + 0x1000, SS_RW, SS_RW);
    pe = sm_pasid(t, pdir, 0, 2, 11, ss, 2, 0, 0);      /* RID_PASID 0: SS */
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    iq_enable(t);
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 0x0badcafe, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x1008), ==, 0x0badcafe);

    /* A request with PASID 0x40 (second directory entry, absent). */
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, F_PASID, 0x40), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 0, 0x7008);
    g_assert_cmphex(FR(hi), ==, 0x51);
    g_assert_cmphex(PP(hi), ==, 1);
    g_assert_cmphex(PV(hi), ==, 0x40);
    frcd_clear(t, 0);

    /* PASID 1: table present, entry not present (59h). */
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, F_PASID, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 1, 0x7008)), ==, 0x59);
    frcd_clear(t, 1);

    /* Unmapped: the SS leaf has R = W = 0 (79h, SSL.2) */
    g_assert_cmpuint(dma_fill(t, 0x9000, 8, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 2, 0x9000);
    g_assert_cmphex(FR(hi), ==, 0x79);
    g_assert_cmphex(PP(hi), ==, 0);
    frcd_clear(t, 2);

    /* Invalid PGTT (5): 5Bh */
    wq(t, pe, ss | (5 << 6) | (2 << 2) | 1);
    pc_inv(t, 11, 0);
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 3, 0x7008)), ==, 0x5b);
    frcd_clear(t, 3);

    /* Reserved bit in the PASID entry: 5Ah */
    wq(t, pe, ss | (2 << 6) | (2 << 2) | 1 | (1 << 10));
    pc_inv(t, 11, 0);
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 4, 0x7008)), ==, 0x5a);
    frcd_clear(t, 4);

    /* A PASID entry torn down to FPD only (as Linux does): silent. */
    wq(t, (rq(t, pdir) & ~0xfffULL) + 1 * 64, 2);
    pc_inv(t, 11, 1);
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, F_PASID, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(r32(t, FSTS) & 0xff, ==, 0);

    /* PASIDE clear and a request with PASID: 45h */
    wq(t, rq(t, root) & ~0xfffULL, pdir | 1);
    wq(t, (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 32, pdir | 1);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, F_PASID, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 5, 0x7008)), ==, 0x45);
    frcd_clear(t, 5);

    /* Fault processing disabled in the context entry: not recorded. */
    wq(t, (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 32, pdir | 2 | 1);
    cc_inv(t);
    g_assert_cmpuint(dma_fill(t, 0x7008, 8, 1, F_PASID, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(r32(t, FSTS) & 0xff, ==, 0);        /* FRI: stale */
    t_stop(t);
}

static void test_sm_fs_pasid(void)
{
    T *t = t_start("");
    uint64_t pdir, fs = page(t), hi;
    uint64_t root = sm_ctx(t, 0, &pdir);

    map(t, fs, 4, 0x7fff0000ULL, MEM_DATA + 0x2000, FS_USER, FS_USER);
    map(t, fs, 4, 0x7fff1000ULL, MEM_DATA + 0x3000, FS_USER, FS_RO);
    sm_pasid(t, pdir, 5, 1, 12, 0, 0, fs, 0);           /* FS, 4-level */
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);

    g_assert_cmpuint(dma_fill(t, 0x7fff0010ULL, 4, 0xfeedface, F_PASID, 5),
                     ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x2010), ==, 0xfeedface);
    /* Accessed and dirty set in the leaf by the walk. */
    g_assert_cmphex(rq(t, leaf_addr(t, fs, 4, 0x7fff0000ULL)) & 0x60, ==,
                    0x60);

    /* Write to a read-only page: 85h (SGN.6) with PASID. */
    g_assert_cmpuint(dma_fill(t, 0x7fff1000ULL, 4, 1, F_PASID, 5), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 0, 0x7fff1000ULL);
    g_assert_cmphex(FR(hi), ==, 0x85);
    g_assert_cmphex(PV(hi), ==, 5);
    frcd_clear(t, 0);
    /* Not present: 71h (SFS.2) */
    g_assert_cmpuint(dma_fill(t, 0x7fff5000ULL, 4, 1, F_PASID, 5), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 1, 0x7fff5000ULL)), ==, 0x71);
    frcd_clear(t, 1);
    /* User request to a supervisor page: 81h (SGN.2) */
    map(t, fs, 4, 0x7fff2000ULL, MEM_DATA + 0x3000, FS_USER, 0x3);
    g_assert_cmpuint(dma_fill(t, 0x7fff2000ULL, 4, 1, F_PASID, 5), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 2, 0x7fff2000ULL)), ==, 0x81);
    frcd_clear(t, 2);
    /* Non-canonical: 80h (SGN.1) */
    g_assert_cmpuint(dma_fill(t, 1ULL << 50, 4, 1, F_PASID, 5), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 3, 1ULL << 50)), ==, 0x80);
    frcd_clear(t, 3);
    /* Supervisor request with SRE = 0: 5Dh, PRIV recorded */
    g_assert_cmpuint(dma_fill(t, 0x7fff0010ULL, 4, 1, F_PASID | F_PRIV, 5),
                     ==, IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 4, 0x7fff0010ULL);
    g_assert_cmphex(FR(hi), ==, 0x5d);
    g_assert_cmphex(PRIV(hi), ==, 1);
    frcd_clear(t, 4);
    /* With SRE: supervisor request allowed. */
    sm_pasid(t, pdir, 5, 1, 12, 0, 0, fs, 1);
    g_assert_cmpuint(dma_fill(t, 0x7fff0010ULL, 4, 0x3, F_PASID | F_PRIV, 5),
                     ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x2010), ==, 0x3);
    /* Supervisor write to a read-only page: allowed while WPE = 0 ... */
    g_assert_cmpuint(dma_fill(t, 0x7fff1000ULL, 4, 0x4, F_PASID | F_PRIV, 5),
                     ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x3000), ==, 0x4);
    /* ... and blocked with WPE = 1 (PASID 6: same table, SRE | WPE). */
    sm_pasid(t, pdir, 6, 1, 13, 0, 0, fs, 1 | (1 << 4));
    g_assert_cmpuint(dma_fill(t, 0x7fff1000ULL, 4, 0x5, F_PASID | F_PRIV, 6),
                     ==, IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 5, 0x7fff1000ULL);
    g_assert_cmphex(FR(hi), ==, 0x85);
    g_assert_cmphex(PRIV(hi), ==, 1);
    frcd_clear(t, 5);
    /* Request without PASID: RID_PASID 0 not set up -> 59h */
    g_assert_cmpuint(dma_fill(t, 0x7fff0010ULL, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 6, 0x7fff0010ULL)), ==, 0x59);

    /* Execute request (source read with F_EXEC) and ERE = 0: 5Ch */
    g_assert_cmpuint(dma_copy(t, 0x7fff0000ULL, 0x7fff0100ULL, 4,
                              F_PASID | IOASID_TESTDEV_F_EXEC, 5), ==,
                     IOASID_TESTDEV_RES_SRC_FAULT);
    hi = frcd_hi(t, 7, 0x7fff0000ULL);
    g_assert_cmphex(FR(hi), ==, 0x5c);
    g_assert_cmphex((hi >> 30) & 1, ==, 1);             /* EXE */
    /* ERE = 1: allowed, unless the page is execute-disabled (82h). */
    map(t, fs, 4, 0x7fff3000ULL, MEM_DATA + 0x3000, FS_USER,
        FS_USER | (1ULL << 63));
    sm_pasid(t, pdir, 8, 1, 14, 0, 0, fs, 1 << 1);      /* ERE */
    g_assert_cmpuint(dma_copy(t, 0x7fff0000ULL, 0x7fff0100ULL, 4,
                              F_PASID | IOASID_TESTDEV_F_EXEC, 8), ==,
                     RES_OK);
    g_assert_cmpuint(dma_copy(t, 0x7fff3000ULL, 0x7fff0100ULL, 4,
                              F_PASID | IOASID_TESTDEV_F_EXEC, 8), ==,
                     IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 0, 0x7fff3000ULL)), ==, 0x82);
    t_stop(t);
}

static void test_sm_nested(void)
{
    T *t = t_start("");
    uint64_t pdir, ss = page(t), fs, hi;
    uint64_t root = sm_ctx(t, 0, &pdir);
    uint64_t gpa = 0x80000000ULL;   /* guest-physical page of the data */

    /* SS: identity 1 GiB at 0 (tables and RAM) + gpa -> MEM_DATA+0x5000 */
    {
        uint64_t l3 = page(t);

        wq(t, ss, l3 | SS_RW);
        wq(t, l3, 0 | SS_RW | (1 << 7));                 /* 1G leaf */
        map(t, ss, 4, gpa, MEM_DATA + 0x5000, SS_RW, SS_RW);
    }
    fs = page(t);
    map(t, fs, 4, 0x10000, gpa, FS_USER, FS_USER);
    sm_pasid(t, pdir, 7, 3, 13, ss, 2, fs, 0);
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);

    g_assert_cmpuint(dma_fill(t, 0x10020, 4, 0x600df00d, F_PASID, 7), ==,
                     RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x5020), ==, 0x600df00d);

    /* FS output with no stage-2 mapping: second-stage fault (79h). */
    map(t, fs, 4, 0x11000, gpa + 0x40000000ULL, FS_USER, FS_USER);
    g_assert_cmpuint(dma_fill(t, 0x11000, 4, 1, F_PASID, 7), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 0, 0x11000);
    g_assert_cmphex(FR(hi), ==, 0x79);
    g_assert_cmphex(PV(hi), ==, 7);
    frcd_clear(t, 0);

    /* First-stage root at a GPA stage 2 does not map: 76h (SFS.7). */
    sm_pasid(t, pdir, 8, 3, 13, ss, 2, gpa + 0x40000000ULL, 0);
    g_assert_cmpuint(dma_fill(t, 0x10020, 4, 1, F_PASID, 8), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    hi = frcd_hi(t, 1, 0x10020);
    g_assert_cmphex(FR(hi), ==, 0x76);
    g_assert_cmphex(PV(hi), ==, 8);
    t_stop(t);
}

static void test_sm_pt(void)
{
    T *t = t_start("");
    uint64_t pdir;
    uint64_t root = sm_ctx(t, 3, &pdir);

    sm_pasid(t, pdir, 3, 4, 14, 0, 0, 0, 0);            /* RID_PASID 3: PT */
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x6000, 4, 0x1234, 0, 0), ==,
                     RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x6000), ==, 0x1234);
    /* The same PASID used explicitly */
    g_assert_cmpuint(dma_fill(t, MEM_DATA + 0x6004, 4, 0x5678, F_PASID, 3),
                     ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x6004), ==, 0x5678);
    t_stop(t);
}

/* Second-stage A/D updates (SSADE, ECAP.SSADS): dirty tracking. */
static void test_sm_ss_dirty(void)
{
    T *t = t_start("");
    uint64_t pdir, ss = page(t), pe;
    uint64_t root = sm_ctx(t, 0, &pdir);

    map(t, ss, 4, 0x3000, MEM_DATA + 0xd000, SS_RW, SS_RW);
    map(t, ss, 4, 0x4000, MEM_DATA + 0xe000, SS_RW, SS_RW);
    pe = sm_pasid(t, pdir, 0, 2, 40, ss, 2, 0, 0);
    wq(t, pe, rq(t, pe) | (1 << 9));                    /* SSADE */
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_copy(t, 0x3000, 0x4000, 8, 0, 0), ==, RES_OK);
    /* read page: A only; written page: A and D */
    g_assert_cmphex(rq(t, leaf_addr(t, ss, 4, 0x3000)) & 0x300, ==, 0x100);
    g_assert_cmphex(rq(t, leaf_addr(t, ss, 4, 0x4000)) & 0x300, ==, 0x300);
    t_stop(t);

    /* ss-ad=off: SSADE is a reserved bit (5Ah). */
    t = t_start("ss-ad=off");
    ss = page(t);
    root = sm_ctx(t, 0, &pdir);
    map(t, ss, 4, 0x3000, MEM_DATA + 0xd000, SS_RW, SS_RW);
    pe = sm_pasid(t, pdir, 0, 2, 40, ss, 2, 0, 0);
    wq(t, pe, rq(t, pe) | (1 << 9));
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, 0x3000, 4, 1, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 0, 0x3000)), ==, 0x5a);
    t_stop(t);
}

/* 5-level tables: second stage (AW 3) and first stage (FSPM 01b). */
static void test_sm_5level(void)
{
    T *t = t_start("aw-bits=57,fs-5level=on");
    uint64_t pdir, ss = page(t), fs = page(t);
    uint64_t root = sm_ctx(t, 0, &pdir);
    uint64_t iova_ss = 0x00ab000000001000ULL;           /* bit 55: 5 levels */
    uint64_t iova_fs = 0x0001230000002000ULL;           /* above 48 bits */

    map(t, ss, 5, iova_ss, MEM_DATA + 0x9000, SS_RW, SS_RW);
    map(t, fs, 5, iova_fs, MEM_DATA + 0xa000, FS_USER, FS_USER);
    sm_pasid(t, pdir, 0, 2, 30, ss, 3, 0, 0);
    sm_pasid(t, pdir, 9, 1, 31, 0, 0, fs, 1 << 2);      /* FSPM 01b */
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, iova_ss, 4, 0x55555, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x9000), ==, 0x55555);
    g_assert_cmpuint(dma_fill(t, iova_fs, 4, 0xf5f5, F_PASID, 9), ==,
                     RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0xa000), ==, 0xf5f5);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    /* A translation into the interrupt range is blocked: 87h (SGN.8). */
    map(t, fs, 5, iova_fs + 0x1000, 0xfee00000ULL, FS_USER, FS_USER);
    g_assert_cmpuint(dma_fill(t, iova_fs + 0x1000, 4, 1, F_PASID, 9), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 0, iova_fs + 0x1000)), ==, 0x87);
    t_stop(t);

    /* 4-level only: FSPM 01b is an invalid PASID entry (5Bh). */
    t = t_start("");
    fs = page(t);
    root = sm_ctx(t, 0, &pdir);
    sm_pasid(t, pdir, 9, 1, 31, 0, 0, fs, 1 << 2);
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, 0x1000, 4, 1, F_PASID, 9), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 0, 0x1000)), ==, 0x5b);
    t_stop(t);
}

/* Stale until invalidated, never after: queued IOTLB invalidation. */
static void test_qi_iotlb_stale(void)
{
    T *t = t_start("");
    uint64_t pdir, ss = page(t), fs = page(t), leaf;
    uint64_t root = sm_ctx(t, 0, &pdir);

    map(t, ss, 4, 0x4000, MEM_DATA, SS_RW, SS_RW);
    map(t, fs, 4, 0x4000, MEM_DATA + 0x100000, FS_USER, FS_USER);
    sm_pasid(t, pdir, 0, 2, 20, ss, 2, 0, 0);
    sm_pasid(t, pdir, 2, 1, 21, 0, 0, fs, 0);
    set_root(t, root, true);
    gcmd(t, GSTS_TES, true);
    iq_enable(t);

    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 1, 0, 0), ==, RES_OK);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 2, F_PASID, 2), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA), ==, 1);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x100000), ==, 2);

    /* Remap both; the IOTLB still holds the old translations. */
    leaf = leaf_addr(t, ss, 4, 0x4000);
    wq(t, leaf, (MEM_DATA + 0x1000) | SS_RW);
    leaf = leaf_addr(t, fs, 4, 0x4000);
    wq(t, leaf, (MEM_DATA + 0x101000) | FS_USER);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 3, 0, 0), ==, RES_OK);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 4, F_PASID, 2), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA), ==, 3);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x100000), ==, 4);

    /* Page-selective IOTLB invalidation of another domain: still stale. */
    iq_put(t, 0x2 | (3 << 4) | (99ULL << 16), 0x4000);
    iq_sync(t);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 5, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA), ==, 5);

    /* Page-selective IOTLB invalidation of DID 20. */
    iq_put(t, 0x2 | (3 << 4) | (20ULL << 16), 0x4000);
    iq_sync(t);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 6, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x1000), ==, 6);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA), ==, 5);

    /* PASID 2 (DID 21) untouched until a PASID-based IOTLB inv. */
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 7, F_PASID, 2), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x100000), ==, 7);
    iq_put(t, 0x6 | (2 << 4) | (21ULL << 16) | (2ULL << 32), 0);
    iq_sync(t);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 8, F_PASID, 2), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA + 0x101000), ==, 8);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    t_stop(t);
}

/* Register-based invalidation (legacy mode). */
static void test_reg_iotlb_stale(void)
{
    T *t = t_start("scalable-mode=off");
    uint64_t ss = page(t);

    map(t, ss, 4, 0x4000, MEM_DATA, SS_RW, SS_RW);
    set_root(t, legacy_ctx(t, 0, ss, 2, 8), false);
    gcmd(t, GSTS_TES, true);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 1, 0, 0), ==, RES_OK);
    wq(t, leaf_addr(t, ss, 4, 0x4000), 0);              /* unmap */
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 2, 0, 0), ==, RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, MEM_DATA), ==, 2);

    /* Context-cache global invalidation: CAIG = CIRG. */
    w64(t, CCMD, (1ULL << 63) | (1ULL << 61));
    g_assert_cmphex(r64(t, CCMD) >> 59, ==, 1 << 2 | 1);
    /* Page-selective IOTLB invalidation, DID 8. */
    w64(t, IVA, 0x4000);
    w64(t, IOTLB, (1ULL << 63) | (3ULL << 60) | (8ULL << 32));
    g_assert_cmphex(r64(t, IOTLB) >> 57, ==, 3 << 3 | 3);
    g_assert_cmpuint(dma_fill(t, 0x4000, 4, 3, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(FR(frcd_hi(t, 0, 0x4000)), ==, 0x5);
    t_stop(t);
}

static void test_qi_errors_and_wait(void)
{
    T *t = t_start("");

    iq_enable(t);
    /* Wait with interrupt: ICS.IWC, message to IEADDR. */
    w32(t, IEDATA, 0x99);
    w32(t, IEADDR, MEM_MSI + 0x40);
    qtest_writel(t->qts, MEM_MSI + 0x40, 0);
    w32(t, IECTL, 0);
    iq_put(t, 0x5 | (1 << 4), 0);
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(r32(t, ICS), ==, 1);
    g_assert_cmphex(qtest_readl(t->qts, MEM_MSI + 0x40), ==, 0x99);
    w32(t, ICS, 1);
    g_assert_cmphex(r32(t, ICS), ==, 0);

    /* Invalid descriptors stop the queue at the bad one: IQE. */
    w32(t, FEADDR, MEM_MSI);
    qtest_writel(t->qts, MEM_MSI, 0);
    w32(t, FEDATA, 0x55);
    w32(t, FECTL, 0);
    iq_put(t, 0x1 | (1 << 4), 0);                       /* good: CC global */
    iq_put(t, 0x9, 0);                  /* page group response: PRS = 0 */
    iq_put(t, 0x5 | (1 << 5) | (1ULL << 32), MEM_STATUS);
    qtest_writel(t->qts, MEM_STATUS, 0);
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_IQE);
    g_assert_cmphex(r64(t, IQH), ==, 2 * 16);           /* the bad one */
    g_assert_cmphex(r64(t, IQERCD) & 0xf, ==, 1);
    g_assert_cmphex(qtest_readl(t->qts, MEM_MSI), ==, 0x55);
    g_assert_cmphex(qtest_readl(t->qts, MEM_STATUS), ==, 0);
    /* Software fixes it (a wait without flags) and clears IQE: resumes. */
    wq(t, MEM_QUEUE + 2 * 16, 0x5);
    w32(t, FSTS, FSTS_IQE);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    g_assert_cmphex(r64(t, IQH), ==, t->iq_tail * 16);
    g_assert_cmphex(qtest_readl(t->qts, MEM_STATUS), ==, 1);

    /* A status write aimed at the unit's own IQT: harmless. */
    iq_put(t, 0x5 | (1 << 5) | (0x7f0ULL << 32), VTD_BASE + IQT);
    iq_put(t, 0x5 | (1 << 5) | (0x7f0ULL << 32), VTD_BASE + FEDATA);
    iq_sync(t);
    g_assert_cmphex(r32(t, FSTS), ==, 0);

    /* Reserved bit in an IOTLB descriptor. */
    iq_put(t, 0x2 | (1 << 4) | (1ULL << 40), 0);
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_IQE);
    t_stop(t);
}

static void test_qi_256(void)
{
    T *t = t_start("");

    qtest_memset(t->qts, MEM_QUEUE, 0, 4096);
    w64(t, IQT, 0);
    w64(t, IQA, MEM_QUEUE | (1 << 11));                 /* DW = 1 */
    gcmd(t, GSTS_QIES, true);
    qtest_writel(t->qts, MEM_STATUS, 0);
    wq(t, MEM_QUEUE, 0x5 | (1 << 5) | (0x256ULL << 32));
    wq(t, MEM_QUEUE + 8, MEM_STATUS);
    w64(t, IQT, 32);
    g_assert_cmphex(qtest_readl(t->qts, MEM_STATUS), ==, 0x256);
    g_assert_cmphex(r64(t, IQH), ==, 32);
    /* Tail not 256-bit aligned: IQE */
    w64(t, IQT, 48);
    g_assert_cmphex(r32(t, FSTS), ==, FSTS_IQE);
    g_assert_cmphex(r64(t, IQERCD) & 0xf, ==, 2);
    t_stop(t);
}

/* An interrupt request (DMA write to 0xFEEx_xxxx) from the testdev. */
static uint32_t irq_req(T *t, uint32_t handle, bool remappable)
{
    uint64_t addr = 0xfee00000ULL | ((handle & 0x7fff) << 5) |
                    ((handle >> 15) << 2) | (remappable ? 1 << 4 : 0);

    return dma_fill(t, addr, 4, 0, 0, 0);
}

static void test_intremap(void)
{
    T *t = t_start("");
    uint64_t irt = page(t), hi;
    uint64_t irte_lo = 1 | (0x40ULL << 16);             /* P, vector 0x40 */
    uint64_t irte_hi = TESTDEV_SID | (1ULL << 18);      /* SVT 01, SQ 00 */

    wq(t, irt + 5 * 16, irte_lo);
    wq(t, irt + 5 * 16 + 8, irte_hi);
    wq(t, irt + 7 * 16, irte_lo);
    wq(t, irt + 7 * 16 + 8, (TESTDEV_SID + 8) | (1ULL << 18));
    wq(t, irt + 8 * 16, irte_lo | (1 << 13));           /* reserved */
    wq(t, irt + 8 * 16 + 8, irte_hi);
    w64(t, IRTA, irt | 7);                              /* 256 entries */
    gcmd(t, GSTS_IRTPS, true);
    g_assert_cmphex(r32(t, GSTS) & GSTS_IRTPS, ==, GSTS_IRTPS);
    /* IRE off: requests pass untranslated. */
    g_assert_cmpuint(irq_req(t, 6, true), ==, RES_OK);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    gcmd(t, GSTS_IRES, true);
    g_assert_cmphex(r32(t, GSTS) & GSTS_IRES, ==, GSTS_IRES);

    /* Present IRTE with a matching source id: delivered, no fault. */
    g_assert_cmpuint(irq_req(t, 5, true), ==, RES_OK);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    /* Not present: 22h, FI[63:48] = index */
    irq_req(t, 6, true);
    hi = frcd_hi(t, 0, 6ULL << 48);
    g_assert_cmphex(FR(hi), ==, 0x22);
    frcd_clear(t, 0);
    /* Index beyond the table: 21h */
    irq_req(t, 300, true);
    g_assert_cmphex(FR(frcd_hi(t, 1, 300ULL << 48)), ==, 0x21);
    frcd_clear(t, 1);
    /* Source-id verification failure: 26h */
    irq_req(t, 7, true);
    g_assert_cmphex(FR(frcd_hi(t, 2, 7ULL << 48)), ==, 0x26);
    frcd_clear(t, 2);
    /* Reserved bit in the IRTE: 24h */
    irq_req(t, 8, true);
    g_assert_cmphex(FR(frcd_hi(t, 3, 8ULL << 48)), ==, 0x24);
    frcd_clear(t, 3);
    /* Compatibility format while CFIS = 0: 25h; allowed with CFI. */
    irq_req(t, 0, false);
    g_assert_cmphex(FR(frcd_hi(t, 4, 0)), ==, 0x25);
    frcd_clear(t, 4);
    gcmd(t, GSTS_CFIS, true);
    g_assert_cmphex(r32(t, GSTS) & GSTS_CFIS, ==, GSTS_CFIS);
    g_assert_cmpuint(irq_req(t, 0, false), ==, RES_OK);
    g_assert_cmphex(r32(t, FSTS) & 0xff, ==, 0);

    /* Interrupt entry cache invalidation: global, index-selective. */
    iq_enable(t);
    iq_put(t, 0x4, 0);
    iq_put(t, 0x4 | (1 << 4) | (2ULL << 27) | (5ULL << 32), 0);
    iq_sync(t);
    iq_put(t, 0x4 | (1ULL << 50), 0);                   /* reserved */
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(r32(t, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    t_stop(t);

    /* intremap=off: not advertised, IRTA and IEC descriptors rejected. */
    t = t_start("intremap=off");
    g_assert_cmphex((r64(t, ECAP) >> 3) & 1, ==, 0);
    w64(t, IRTA, 0x1000);
    g_assert_cmphex(r64(t, IRTA), ==, 0);
    iq_enable(t);
    iq_put(t, 0x4, 0);
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(r32(t, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    t_stop(t);
}

/*
 * RID-only DMA from a plain QEMU device (edu: pci_dma_read / write) goes
 * through the IOMMUMemoryRegion path.
 */
#define EDU_SLOT        5
#define EDU_SID         (EDU_SLOT << 3)
#define EDU_BUF         0x40000

static void edu_dma(T *t, QPCIDevice *edu, QPCIBar bar, uint64_t src,
                    uint64_t dst, bool to_pci)
{
    qpci_io_writeq(edu, bar, 0x80, src);
    qpci_io_writeq(edu, bar, 0x88, dst);
    qpci_io_writeq(edu, bar, 0x90, 8);
    qpci_io_writeq(edu, bar, 0x98, 1 | (to_pci ? 2 : 0));
    qtest_clock_step(t->qts, 200 * 1000 * 1000);        /* edu: 100 ms */
}

static void test_rid_only_iommu_mr(void)
{
    T *t = t_start_with("", "-device edu,addr=05.0");
    QPCIDevice *edu = qpci_device_find(t->bus, QPCI_DEVFN(EDU_SLOT, 0));
    uint64_t ss = page(t), root, hi;
    QPCIBar bar;

    g_assert(edu);
    qpci_device_enable(edu);
    bar = qpci_iomap(edu, 0, NULL);
    map(t, ss, 4, 0x100000, MEM_DATA + 0xb000, SS_RW, SS_R);
    map(t, ss, 4, 0x101000, MEM_DATA + 0xc000, SS_RW, SS_RW);
    root = legacy_ctx(t, 0, ss, 2, 7);
    /* edu's context entry in the same table */
    wq(t, (rq(t, root) & ~0xfffULL) + EDU_SID * 16, ss | 1);
    wq(t, (rq(t, root) & ~0xfffULL) + EDU_SID * 16 + 8, 2 | (7 << 8));
    set_root(t, root, false);
    gcmd(t, GSTS_TES, true);

    wq(t, MEM_DATA + 0xb000, 0x0123456789abcdefULL);
    edu_dma(t, edu, bar, 0x100000, EDU_BUF, false);     /* RAM -> edu */
    edu_dma(t, edu, bar, EDU_BUF, 0x101000, true);      /* edu -> RAM */
    g_assert_cmphex(rq(t, MEM_DATA + 0xc000), ==, 0x0123456789abcdefULL);
    g_assert_cmphex(r32(t, FSTS), ==, 0);

    /* Write to the read-only page: 5h from edu's source id. */
    edu_dma(t, edu, bar, EDU_BUF, 0x100000, true);
    hi = r64(t, FRCD + 8);
    g_assert_cmphex(hi >> 63, ==, 1);
    g_assert_cmphex(hi & 0xffff, ==, EDU_SID);
    g_assert_cmphex(FR(hi), ==, 0x5);
    g_assert_cmphex(r64(t, FRCD), ==, 0x100000);
    g_free(edu);
    t_stop(t);
}

/* ATS translation requests and device-TLB invalidation (device-iotlb). */
static void test_ats_devtlb(void)
{
    T *t = t_start("scalable-mode=off,device-iotlb=on");
    uint64_t ss = page(t), root, ats, hi;
    uint32_t ctrl_off = PASID_CAP + 8 + 6;              /* ATS control */

    g_assert_cmphex((r64(t, ECAP) >> 2) & 1, ==, 1);    /* DT */
    qtest_writew(t->qts, Q35_ECAM_BASE + (TESTDEV_SID << 12) + ctrl_off,
                 1u << 15);
    map(t, ss, 4, 0x8000, MEM_DATA + 0x7000, SS_RW, SS_R);
    root = legacy_ctx(t, 1, ss, 2, 4);                  /* TT 01b */
    set_root(t, root, false);
    gcmd(t, GSTS_TES, true);

    g_assert_cmpuint(td_ats(t, 0x8000), ==, RES_OK);
    ats = qpci_io_readq(t->dev, t->bar, IOASID_TESTDEV_ATS_RESULT);
    g_assert_cmphex(ats & ~0xfffULL, ==, MEM_DATA + 0x7000);
    g_assert_cmphex(ats & 3, ==, IOASID_TESTDEV_ATS_R);
    /* No translation: R = W = 0 completion, no fault recorded. */
    g_assert_cmpuint(td_ats(t, 0x9000), ==,
                     IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_cmphex(r32(t, FSTS), ==, 0);
    /* TT 00b: translation requests blocked (Dh), Unsupported Request. */
    wq(t, (rq(t, root) & ~0xfffULL) + TESTDEV_SID * 16, ss | 1);
    cc_inv(t);
    g_assert_cmpuint(td_ats(t, 0x8000), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    hi = frcd_hi(t, 0, 0x8000);
    g_assert_cmphex(FR(hi), ==, 0xd);
    g_assert_cmphex((hi >> 60) & 3, ==, 1);             /* AT: transl. req */

    /* Device-TLB invalidation reaches the device. */
    iq_enable(t);
    iq_put(t, 0x3 | ((uint64_t)TESTDEV_SID << 32), 0x8000);
    iq_sync(t);
    g_assert_cmpuint(td_rd(t, IOASID_TESTDEV_INV_COUNT), ==, 1);
    g_assert_cmphex(qpci_io_readq(t->dev, t->bar, IOASID_TESTDEV_INV_ADDR),
                    ==, 0x8000);
    g_assert_cmphex(qpci_io_readq(t->dev, t->bar, IOASID_TESTDEV_INV_SIZE),
                    ==, 0x1000);
    t_stop(t);

    /* Scalable mode: PASID-based device-TLB invalidation (type 8). */
    t = t_start("device-iotlb=on");
    iq_enable(t);
    iq_put(t, 0x8 | ((uint64_t)TESTDEV_SID << 16) | (0x2aULL << 32),
           0x10000);
    iq_sync(t);
    g_assert_cmpuint(td_rd(t, IOASID_TESTDEV_INV_COUNT), ==, 1);
    g_assert_cmphex(td_rd(t, IOASID_TESTDEV_INV_PASID) & 0xfffff, ==, 0x2a);
    g_assert_cmphex(qpci_io_readq(t->dev, t->bar, IOASID_TESTDEV_INV_ADDR),
                    ==, 0x10000);
    t_stop(t);

    /* Without device-iotlb: not advertised, device-TLB descriptors bad. */
    t = t_start("");
    g_assert_cmphex((r64(t, ECAP) >> 2) & 1, ==, 0);
    iq_enable(t);
    iq_put(t, 0x3 | ((uint64_t)TESTDEV_SID << 32), 0x8000);
    w64(t, IQT, t->iq_tail * 16);
    g_assert_cmphex(r32(t, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    t_stop(t);
}

/*
 * Robustness: random register writes, random table and queue contents,
 * random DMA.  Whatever happens, QEMU must stay up and answer.
 */
static void test_random_garbage(void)
{
    const char *env = g_getenv("IOASID_VTD_GARBAGE_SEED");
    T *t = t_start("");
    GRand *r = g_rand_new_with_seed(env ? g_ascii_strtoull(env, NULL, 0) :
                                    0x10a5);
    int iters = g_getenv("IOASID_VTD_GARBAGE_ITERS") ?
                atoi(g_getenv("IOASID_VTD_GARBAGE_ITERS")) : 3000;

    /* Random "tables" and "queue" in the region the registers point at. */
    for (uint64_t a = MEM_TABLES; a < MEM_TABLES + 0x40000; a += 8) {
        wq(t, a, ((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) &
                 (g_rand_boolean(r) ? 0x00000000010fffffULL : ~0ULL));
    }
    for (int i = 0; i < iters; i++) {
        uint32_t off = g_rand_int_range(r, 0, VTD_REG_SIZE_TEST / 4) * 4;
        uint64_t v = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);

        if (g_rand_boolean(r)) {
            /* keep pointers inside the random region most of the time */
            v = (v & 0xe00000000003ffffULL) | MEM_TABLES;
        }
        if ((off & 7) == 0 && g_rand_boolean(r)) {
            w64(t, off, v);
        } else {
            w32(t, off, v);
        }
        if (i % 16 == 0) {
            uint32_t flags = g_rand_int(r) & (F_PASID | F_PRIV);

            dma_fill(t, (uint64_t)g_rand_int(r) << 12, 8, 0xdeadbeef,
                     flags, g_rand_int_range(r, 0, 64));
        }
    }
    /* Still alive and answering. */
    g_assert_cmphex(r32(t, VER), ==, 0x10);
    g_rand_free(r);
    t_stop(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ioasid-vtd/reset-values", test_reset_values);
    qtest_add_func("/ioasid-vtd/caps-properties", test_caps_properties);
    qtest_add_func("/ioasid-vtd/gcmd", test_gcmd);
    qtest_add_func("/ioasid-vtd/legacy/ss", test_legacy_ss);
    qtest_add_func("/ioasid-vtd/legacy/pt", test_legacy_pt);
    if (qtest_has_device("edu")) {
        qtest_add_func("/ioasid-vtd/legacy/rid-only-iommu-mr",
                       test_rid_only_iommu_mr);
    }
    qtest_add_func("/ioasid-vtd/legacy/faults", test_legacy_faults);
    qtest_add_func("/ioasid-vtd/faults/overflow-mask",
                   test_fault_overflow_and_mask);
    qtest_add_func("/ioasid-vtd/sm/ss-rid-pasid", test_sm_ss_rid_pasid);
    qtest_add_func("/ioasid-vtd/sm/fs-pasid", test_sm_fs_pasid);
    qtest_add_func("/ioasid-vtd/sm/nested", test_sm_nested);
    qtest_add_func("/ioasid-vtd/sm/pt", test_sm_pt);
    qtest_add_func("/ioasid-vtd/sm/5level", test_sm_5level);
    qtest_add_func("/ioasid-vtd/sm/ss-dirty", test_sm_ss_dirty);
    qtest_add_func("/ioasid-vtd/inval/qi-iotlb-stale", test_qi_iotlb_stale);
    qtest_add_func("/ioasid-vtd/inval/reg-iotlb-stale",
                   test_reg_iotlb_stale);
    qtest_add_func("/ioasid-vtd/inval/qi-errors-wait",
                   test_qi_errors_and_wait);
    qtest_add_func("/ioasid-vtd/inval/qi-256", test_qi_256);
    qtest_add_func("/ioasid-vtd/intremap", test_intremap);
    qtest_add_func("/ioasid-vtd/ats-devtlb", test_ats_devtlb);
    qtest_add_func("/ioasid-vtd/random-garbage", test_random_garbage);
    return g_test_run();
}
