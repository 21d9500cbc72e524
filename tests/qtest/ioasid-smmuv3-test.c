/*
 * qtest for ioasid-smmuv3 on the Arm virt machine (-M virt,iommu=
 * ioasid-smmuv3): register reset values and properties, linear and
 * 2-level stream and CD tables in guest RAM, DMA from ioasid-testdev
 * through stage 1 (each granule), stage 2 and nested translation, with
 * and without SubstreamID, one event record of each kind, and the effect
 * of commands on cached translations.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "hw/pci/pci_regs.h"
#include "ioasid-testdev-util.h"

#define SMMU_BASE       0x09050000ULL
#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (128 * 1024 * 1024)
#define NO_MEMORY       0x7f000000000ULL    /* nothing is mapped there */
#define TESTDEV_SLOT    4
#define TESTDEV_SID     (TESTDEV_SLOT << 3)
#define PASID_CAP       0x100

/* Registers (IHI 0070 6.3) */
#define IDR0            0x00
#define IDR1            0x04
#define IDR3            0x0c
#define IDR5            0x14
#define IIDR            0x18
#define AIDR            0x1c
#define CR0             0x20
#define CR0ACK          0x24
#define CR1             0x28
#define GBPA            0x44
#define IRQ_CTRL        0x50
#define IRQ_CTRLACK     0x54
#define GERROR          0x60
#define GERRORN         0x64
#define STRTAB_BASE     0x80
#define STRTAB_BASE_CFG 0x88
#define CMDQ_BASE       0x90
#define CMDQ_PROD       0x98
#define CMDQ_CONS       0x9c
#define EVENTQ_BASE     0xa0
#define EVENTQ_PROD     0xa8
#define EVENTQ_CONS     0xac
#define EVENTQ_PROD_P1  0x100a8
#define EVENTQ_CONS_P1  0x100ac

#define CR0_SMMUEN      (1u << 0)
#define CR0_EVENTQEN    (1u << 2)
#define CR0_CMDQEN      (1u << 3)
#define GBPA_ABORT      (1u << 20)
#define GBPA_UPDATE     (1u << 31)
#define GERROR_CMDQ_ERR 1u

#define CMDQ_LOG2       6
#define EVTQ_LOG2       6

/* Event types */
enum {
    C_BAD_STREAMID = 0x02, F_STE_FETCH = 0x03, C_BAD_STE = 0x04,
    F_STREAM_DISABLED = 0x06, C_BAD_SUBSTREAMID = 0x08, F_CD_FETCH = 0x09,
    C_BAD_CD = 0x0a, F_WALK_EABT = 0x0b, F_TRANSLATION = 0x10,
    F_ADDR_SIZE = 0x11, F_ACCESS = 0x12, F_PERMISSION = 0x13,
};

/* Page-table descriptor bits (Arm ARM D8.3) */
#define PTE_VALID       1ULL
#define PTE_TABLE       2ULL
#define PTE_PAGE        3ULL
#define PTE_AP_EL0      (1ULL << 6)     /* S1 AP[1]; S2 S2AP read  */
#define PTE_AP_RO       (1ULL << 7)     /* S1 AP[2]; S2 S2AP write */
#define PTE_AF          (1ULL << 10)
#define S1_RW           (PTE_PAGE | PTE_AF | PTE_AP_EL0)
#define S1_RO           (S1_RW | PTE_AP_RO)
#define S2_RW           (PTE_PAGE | PTE_AF | (3ULL << 6))

typedef struct Smmu {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus gbus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t next;          /* bump allocator for tables in guest RAM */
    uint64_t strtab, cmdq, evtq;
    uint32_t evt_cons;
} Smmu;

/* A page table under construction. */
typedef struct Pgt {
    uint64_t root;
    unsigned g;             /* granule shift */
    unsigned ias;           /* input address bits */
    bool s2;                /* stage 2: start level from ias (<= 16 tables) */
} Pgt;

/* ---------------------------------------------------------------------- */

static uint64_t galloc(Smmu *s, uint64_t size, uint64_t align)
{
    uint64_t a = (s->next + align - 1) & ~(align - 1);

    s->next = a + size;
    g_assert(s->next < RAM_BASE + RAM_SIZE);
    qtest_memset(s->qts, a, 0, size);
    return a;
}

static uint32_t rl(Smmu *s, uint64_t off)
{
    return qtest_readl(s->qts, SMMU_BASE + off);
}

static void wl(Smmu *s, uint64_t off, uint32_t v)
{
    qtest_writel(s->qts, SMMU_BASE + off, v);
}

static void wq(Smmu *s, uint64_t off, uint64_t v)
{
    qtest_writeq(s->qts, SMMU_BASE + off, v);
}

static uint64_t rq(Smmu *s, uint64_t off)
{
    return qtest_readq(s->qts, SMMU_BASE + off);
}

static void w64(Smmu *s, uint64_t addr, uint64_t v)
{
    qtest_writeq(s->qts, addr, v);
}

static uint64_t r64(Smmu *s, uint64_t addr)
{
    return qtest_readq(s->qts, addr);
}

/* ---- testdev ---- */

static uint32_t td_rd(Smmu *s, uint32_t off)
{
    return ioasid_td_rd(s->dev, s->bar, off);
}

/*
 * Run a testdev command; returns the result code.  PATTERN keeps the value
 * the last td_fill() gave it.
 */
static uint32_t td_run(Smmu *s, uint32_t cmd, uint64_t src, uint64_t dst,
                       uint32_t len, uint32_t flags, uint32_t pasid)
{
    return ioasid_td_run(s->dev, s->bar, cmd, src, dst, len,
                         td_rd(s, IOASID_TESTDEV_PATTERN), flags, pasid);
}

/* Fill [dst, dst + len) through the SMMU with @pattern. */
static uint32_t td_fill(Smmu *s, uint64_t dst, uint32_t len,
                        uint32_t pattern, uint32_t pasid)
{
    return ioasid_td_run(s->dev, s->bar, IOASID_TESTDEV_CMD_FILL, 0, dst, len,
                         pattern,
                         pasid == UINT32_MAX ? 0 : IOASID_TESTDEV_F_PASID,
                         pasid == UINT32_MAX ? 0 : pasid);
}

/* ---- machine ---- */

static Smmu *smmu_start(const char *extra)
{
    Smmu *s = g_new0(Smmu, 1);
    uint16_t ctrl;

    s->qts = qtest_initf("-machine virt,iommu=ioasid-smmuv3 -cpu max "
                         "-m 128M -nic none -device ioasid-testdev,addr=%02x.0 %s",
                         TESTDEV_SLOT, extra ? extra : "");
    alloc_init(&s->alloc, ALLOC_NO_FLAGS, RAM_BASE, RAM_BASE + RAM_SIZE,
               4096);
    qpci_init_generic(&s->gbus, s->qts, &s->alloc, false);
    s->dev = qpci_device_find(&s->gbus.bus, QPCI_DEVFN(TESTDEV_SLOT, 0));
    g_assert(s->dev);
    qpci_device_enable(s->dev);
    s->bar = qpci_iomap(s->dev, IOASID_TESTDEV_BAR_REGS, NULL);
    /* Enable PASID (and privileged mode) in the testdev's capability. */
    ctrl = PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV | PCI_PASID_CTRL_EXEC;
    qtest_writew(s->qts, s->gbus.ecam_alloc_ptr +
                 (QPCI_DEVFN(TESTDEV_SLOT, 0) << 12) + PASID_CAP +
                 PCI_PASID_CTRL, ctrl);
    s->next = RAM_BASE + 0x1000000;     /* tables above 16 MiB */
    return s;
}

static void smmu_stop(Smmu *s)
{
    g_free(s->dev);
    alloc_destroy(&s->alloc);
    qtest_quit(s->qts);
    g_free(s);
}

/*
 * Program queues and a linear stream table of 2^@log2 entries (or a
 * 2-level one with split 8 when @two_level), and enable the SMMU.
 */
static void smmu_enable(Smmu *s, unsigned log2, bool two_level)
{
    s->cmdq = galloc(s, 16 << CMDQ_LOG2, 4096);
    s->evtq = galloc(s, 32 << EVTQ_LOG2, 4096);
    wq(s, CMDQ_BASE, s->cmdq | CMDQ_LOG2);
    wl(s, CMDQ_PROD, 0);
    wl(s, CMDQ_CONS, 0);
    wq(s, EVENTQ_BASE, s->evtq | EVTQ_LOG2);
    wl(s, EVENTQ_PROD_P1, 0);
    wl(s, EVENTQ_CONS_P1, 0);
    s->evt_cons = 0;
    if (two_level) {
        unsigned n1 = 1u << (log2 > 8 ? log2 - 8 : 0);

        s->strtab = galloc(s, n1 * 8, 64);
        wq(s, STRTAB_BASE, s->strtab);
        wl(s, STRTAB_BASE_CFG, 1 << 16 | 8 << 6 | log2);
    } else {
        s->strtab = galloc(s, 64ULL << log2, 64);
        wq(s, STRTAB_BASE, s->strtab);
        wl(s, STRTAB_BASE_CFG, log2);
    }
    wl(s, CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmphex(rl(s, CR0ACK), ==, CR0_CMDQEN | CR0_EVENTQEN |
                    CR0_SMMUEN);
}

/* Address of the STE for @sid (allocating its L2 table when 2-level). */
static uint64_t ste_addr(Smmu *s, uint32_t sid)
{
    uint32_t cfg = rl(s, STRTAB_BASE_CFG);
    uint64_t l1, l1d;

    if (!(cfg >> 16 & 3)) {
        return s->strtab + sid * 64ULL;
    }
    l1 = s->strtab + (sid >> 8) * 8ULL;
    l1d = r64(s, l1);
    if (!(l1d & 0x1f)) {
        uint64_t l2 = galloc(s, 256 * 64, 256 * 64);

        l1d = l2 | 9;                       /* Span 9: 256 STEs */
        w64(s, l1, l1d);
    }
    return (l1d & 0x000fffffffffffc0ULL) + (sid & 0xff) * 64ULL;
}

static void write_ste(Smmu *s, uint32_t sid, const uint64_t *w)
{
    uint64_t a = ste_addr(s, sid);
    int i;

    for (i = 0; i < 8; i++) {
        w64(s, a + i * 8, w[i]);
    }
}

/* ---- commands ---- */

static void cmd_submit(Smmu *s, uint64_t w0, uint64_t w1)
{
    uint32_t prod = rl(s, CMDQ_PROD);
    uint32_t idx = prod & ((1u << CMDQ_LOG2) - 1);

    w64(s, s->cmdq + idx * 16, w0);
    w64(s, s->cmdq + idx * 16 + 8, w1);
    wl(s, CMDQ_PROD, (prod + 1) & ((2u << CMDQ_LOG2) - 1));
}

/* Submit and check the SMMU consumed everything without error. */
static void cmd(Smmu *s, uint64_t w0, uint64_t w1)
{
    cmd_submit(s, w0, w1);
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, rl(s, CMDQ_PROD));
}

#define CMD_CFGI_STE(sid)       (0x03 | (uint64_t)(sid) << 32)
#define CMD_CFGI_CD(sid, ssid)  (0x05 | (uint64_t)(ssid) << 12 | \
                                 (uint64_t)(sid) << 32)
#define CMD_CFGI_ALL            0x04
#define CMD_TLBI_NH_ASID(asid)  (0x11 | (uint64_t)(asid) << 48)
#define CMD_TLBI_NH_VA(asid)    (0x12 | (uint64_t)(asid) << 48)
#define CMD_TLBI_S12_VMALL(vm)  (0x28 | (uint64_t)(vm) << 32)
#define CMD_TLBI_S2_IPA(vm)     (0x2a | (uint64_t)(vm) << 32)
#define CMD_TLBI_NSNH_ALL       0x30
#define CMD_SYNC                0x46

/* ---- events ---- */

/* Pop the next event record; returns its type, 0 if the queue is empty. */
static uint8_t evt_pop(Smmu *s, uint64_t *rec)
{
    uint32_t prod = rl(s, EVENTQ_PROD_P1) & 0xfffff;
    uint32_t idx = s->evt_cons & ((1u << EVTQ_LOG2) - 1);
    int i;

    if (prod == s->evt_cons) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        rec[i] = r64(s, s->evtq + idx * 32 + i * 8);
    }
    s->evt_cons = (s->evt_cons + 1) & ((2u << EVTQ_LOG2) - 1);
    wl(s, EVENTQ_CONS_P1, s->evt_cons);
    return rec[0] & 0xff;
}

static void evt_expect_none(Smmu *s)
{
    uint64_t rec[4];

    g_assert_cmphex(evt_pop(s, rec), ==, 0);
}

/* Pop one event, check its type and StreamID; returns it in @rec. */
static void evt_expect(Smmu *s, uint8_t type, uint64_t *rec)
{
    g_assert_cmphex(evt_pop(s, rec), ==, type);
    g_assert_cmphex(rec[0] >> 32, ==, TESTDEV_SID);
}

/* ---- page tables ---- */

static void pgt_init(Smmu *s, Pgt *p, unsigned g, unsigned ias, bool s2)
{
    unsigned stride = g - 3;
    unsigned n = (ias - g + stride - 1) / stride;
    unsigned top = ias - g - stride * (n - 1);

    p->g = g;
    p->ias = ias;
    p->s2 = s2;
    p->root = galloc(s, MAX(8ULL << top, 64), MAX(8ULL << top, 64));
}

static unsigned pgt_levels(const Pgt *p)
{
    unsigned stride = p->g - 3;

    return (p->ias - p->g + stride - 1) / stride;
}

/* Address of the leaf entry for @va (creating tables as needed). */
static uint64_t pgt_leaf(Smmu *s, Pgt *p, uint64_t va)
{
    unsigned stride = p->g - 3, n = pgt_levels(p), i;
    uint64_t table = p->root;

    for (i = 0; i < n; i++) {
        unsigned shift = p->g + stride * (n - 1 - i);
        unsigned bits = i == 0 ? p->ias - shift : stride;
        uint64_t ea = table + ((va >> shift) & ((1ULL << bits) - 1)) * 8;
        uint64_t d;

        if (i == n - 1) {
            return ea;
        }
        d = r64(s, ea);
        if (!(d & PTE_VALID)) {
            uint64_t t = galloc(s, 1ULL << p->g, 1ULL << p->g);

            d = t | PTE_TABLE | PTE_VALID;
            w64(s, ea, d);
        }
        table = d & 0x0000fffffffff000ULL & ~((1ULL << p->g) - 1);
    }
    g_assert_not_reached();
}

static void pgt_map(Smmu *s, Pgt *p, uint64_t va, uint64_t pa,
                    uint64_t attrs)
{
    w64(s, pgt_leaf(s, p, va), pa | attrs);
}

/* Start level encoding S2SL0 for a stage-2 table built by pgt_init. */
static unsigned pgt_sl0(const Pgt *p)
{
    unsigned start = 4 - pgt_levels(p);     /* level of the root */

    return p->g == 12 ? 2 - start : 3 - start;
}

static unsigned tg0(unsigned g)
{
    return g == 12 ? 0 : g == 16 ? 1 : 2;
}

/* ---- STE / CD builders ---- */

#define STE_V           1ULL
#define STE_CFG(c)      ((uint64_t)(c) << 1)
#define CFG_ABORT       0
#define CFG_BYPASS      4
#define CFG_S1          5
#define CFG_S2          6
#define CFG_NESTED      7

static void ste_s1(uint64_t *w, uint64_t cdptr, unsigned s1fmt,
                   unsigned cdmax, unsigned s1dss)
{
    w[0] = STE_V | STE_CFG(CFG_S1) | (uint64_t)s1fmt << 4 | cdptr |
           (uint64_t)cdmax << 59;
    w[1] |= s1dss;
}

static void ste_s2(uint64_t *w, const Pgt *p, uint16_t vmid, bool s2r)
{
    w[0] = (w[0] & ~0xfULL) | STE_V |
           STE_CFG((w[0] >> 1 & 7) == CFG_S1 ? CFG_NESTED : CFG_S2);
    w[2] = vmid | (uint64_t)(64 - p->ias) << 32 |
           (uint64_t)pgt_sl0(p) << 38 | (uint64_t)tg0(p->g) << 46 |
           4ULL << 48 /* S2PS 44 bits */ | 1ULL << 51 /* S2AA64 */ |
           (s2r ? 1ULL << 58 : 0);
    w[3] = p->root;
}

/* A CD for table @p with ASID @asid; @r: record faults. */
static void write_cd(Smmu *s, uint64_t addr, const Pgt *p, uint16_t asid,
                     bool r, uint64_t extra0)
{
    uint64_t w0 = (64 - p->ias) | (uint64_t)tg0(p->g) << 6 |
                  1ULL << 30 /* EPD1 */ | 1ULL << 31 /* V */ |
                  4ULL << 32 /* IPS 44 */ | 1ULL << 41 /* AA64 */ |
                  (r ? 1ULL << 45 : 0) | 1ULL << 46 /* A */ |
                  (uint64_t)asid << 48;

    w64(s, addr, w0 | extra0);
    w64(s, addr + 8, p->root);
    w64(s, addr + 16, 0);
    w64(s, addr + 24, 0);
}

/* The common stage-1 set-up: one CD (linear, CDMax 0) for TESTDEV_SID. */
static void setup_s1(Smmu *s, Pgt *p, unsigned g, uint16_t asid)
{
    uint64_t ste[8] = { 0 };
    uint64_t cd = galloc(s, 64, 64);

    pgt_init(s, p, g, g == 12 ? 39 : g == 14 ? 36 : 42, false);
    write_cd(s, cd, p, asid, true, 0);
    ste_s1(ste, cd, 0, 0, 0);
    write_ste(s, TESTDEV_SID, ste);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */
/* ---------------------------------------------------------------------- */

static void test_reset(void)
{
    Smmu *s = smmu_start(NULL);
    uint32_t idr0 = rl(s, IDR0), idr1 = rl(s, IDR1), idr5 = rl(s, IDR5);

    /*
     * S2P S1P TTF=AArch64 COHACC HTTU=A+D ATS NS1ATS ASID16 MSI SEV
     * VMID16 CD2L TTENDIAN=LE STALL_MODEL=no-stall TERM_MODEL
     * ST_LEVEL=2-level
     */
    g_assert_cmphex(idr0, ==, 1 | 2 | 2 << 2 | 1 << 4 | 2 << 6 | 1 << 10 |
                    1 << 11 | 1 << 12 |
                    1 << 13 | 1 << 14 | 1 << 18 | 1 << 19 | 2 << 21 |
                    1 << 24 | 1 << 26 | 1 << 27);
    g_assert_cmphex(idr1 & 0x3f, ==, 16);               /* SIDSIZE */
    g_assert_cmphex(idr1 >> 6 & 0x1f, ==, 20);          /* SSIDSIZE */
    g_assert_cmphex(idr1 >> 16 & 0x1f, ==, 19);         /* EVENTQS */
    g_assert_cmphex(idr1 >> 21 & 0x1f, ==, 19);         /* CMDQS */
    g_assert_cmphex(idr1 >> 11 & 0x1f, ==, 0);          /* no PRIQ */
    g_assert_cmphex(rl(s, IDR3), ==, 1 << 10 | 1 << 8); /* RIL, FWB */
    g_assert_cmphex(idr5, ==, 4 | 7 << 4);              /* OAS 44, 4/16/64K */
    g_assert_cmphex(rl(s, AIDR), ==, 0x02);
    g_assert_cmphex(rl(s, IIDR), ==, 0);
    g_assert_cmphex(rl(s, CR0), ==, 0);
    g_assert_cmphex(rl(s, CR0ACK), ==, 0);
    g_assert_cmphex(rl(s, GBPA), ==, 0);
    g_assert_cmphex(rl(s, GERROR), ==, 0);
    g_assert_cmphex(rl(s, GERRORN), ==, 0);
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, 0);
    g_assert_cmphex(rq(s, STRTAB_BASE), ==, 0);

    /* Read-only registers ignore writes; ACK registers follow. */
    wl(s, IDR0, 0);
    g_assert_cmphex(rl(s, IDR0), ==, idr0);
    wl(s, IRQ_CTRL, 0x5);
    g_assert_cmphex(rl(s, IRQ_CTRLACK), ==, 0x5);
    wl(s, IRQ_CTRL, 0x7);                               /* no PRI bit */
    g_assert_cmphex(rl(s, IRQ_CTRLACK), ==, 0x5);
    /* 64-bit registers: both halves, RES0 bits dropped. */
    wq(s, STRTAB_BASE, 0xffffffffffffffffULL);
    g_assert_cmphex(rq(s, STRTAB_BASE), ==, 0x400fffffffffffc0ULL);
    wl(s, STRTAB_BASE + 4, 0);
    g_assert_cmphex(rq(s, STRTAB_BASE), ==, 0xffffffc0ULL);
    /* Page 1 aliases of the event queue indices. */
    wl(s, EVENTQ_PROD_P1, 5);
    g_assert_cmphex(rl(s, EVENTQ_PROD), ==, 5);
    wl(s, EVENTQ_CONS, 3);
    g_assert_cmphex(rl(s, EVENTQ_CONS_P1), ==, 3);
    /* GBPA takes effect only with UPDATE, which then reads as 0. */
    wl(s, GBPA, GBPA_ABORT);
    g_assert_cmphex(rl(s, GBPA), ==, 0);
    wl(s, GBPA, GBPA_ABORT | GBPA_UPDATE);
    g_assert_cmphex(rl(s, GBPA), ==, GBPA_ABORT);
    smmu_stop(s);
}

static void test_props(void)
{
    Smmu *s = smmu_start("-global ioasid-smmuv3.stage=1 "
                         "-global ioasid-smmuv3.ssidsize=8 "
                         "-global ioasid-smmuv3.oas=48 "
                         "-global ioasid-smmuv3.granules=4k,64k "
                         "-global ioasid-smmuv3.ril=off "
                         "-global ioasid-smmuv3.fwb=off");

    g_assert_cmphex(rl(s, IDR0) & 3, ==, 2);            /* S1P only */
    g_assert_cmphex(rl(s, IDR0) >> 18 & 1, ==, 0);      /* no VMID16 */
    g_assert_cmphex(rl(s, IDR1) >> 6 & 0x1f, ==, 8);
    g_assert_cmphex(rl(s, IDR3), ==, 0);
    g_assert_cmphex(rl(s, IDR5), ==, 5 | 1 << 4 | 1 << 6);
    smmu_stop(s);

    s = smmu_start("-global ioasid-smmuv3.stage=2");
    g_assert_cmphex(rl(s, IDR0) & 3, ==, 1);            /* S2P only */
    g_assert_cmphex(rl(s, IDR0) >> 18 & 1, ==, 1);
    smmu_stop(s);
}

/* SMMUEN == 0: GBPA decides between bypass and abort. */
static void test_gbpa(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t pa = RAM_BASE + 0x200000;

    g_assert_cmpuint(td_fill(s, pa, 64, 0x11223344, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, pa), ==, 0x11223344);
    wl(s, GBPA, GBPA_ABORT | GBPA_UPDATE);
    g_assert_cmpuint(td_fill(s, pa, 64, 0x55667788, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(qtest_readl(s->qts, pa), ==, 0x11223344);
    smmu_stop(s);
}

/* Stage 1 with each granule: COPY through two mappings. */
static void test_s1_granule(gconstpointer data)
{
    unsigned g = GPOINTER_TO_UINT(data);
    Smmu *s = smmu_start(NULL);
    uint64_t src = galloc(s, 1ULL << g, 1ULL << g);
    uint64_t dst = galloc(s, 1ULL << g, 1ULL << g);
    uint64_t va_src = 0x12345ULL << g, va_dst = 0x2345ULL << g;
    uint8_t in[256], out[256];
    Pgt p;

    smmu_enable(s, 8, false);
    setup_s1(s, &p, g, 1);
    pgt_map(s, &p, va_src, src, S1_RW);
    pgt_map(s, &p, va_dst, dst, S1_RW);
    memset(in, 0, sizeof(in));
    for (int i = 0; i < 256; i++) {
        in[i] = i * 7 + 3;
    }
    qtest_memwrite(s->qts, src + 0x100, in, sizeof(in));
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_COPY, va_src + 0x100,
                            va_dst + 0x80, sizeof(in), 0, 0), ==,
                     IOASID_TESTDEV_RES_OK);
    qtest_memread(s->qts, dst + 0x80, out, sizeof(out));
    g_assert(!memcmp(in, out, sizeof(in)));
    /* The identity address is not mapped. */
    g_assert_cmpuint(td_fill(s, dst, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    smmu_stop(s);
}

/* Stage 2 only, and a bypass STE. */
static void test_s2_and_bypass(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8] = { 0 };
    uint64_t pa = galloc(s, 4096, 4096);
    uint64_t ipa = 0x80001000ULL;
    uint64_t rec[4];
    Pgt p;

    smmu_enable(s, 8, false);
    pgt_init(s, &p, 12, 40, true);
    pgt_map(s, &p, ipa, pa, S2_RW);
    ste_s2(ste, &p, 3, true);
    write_ste(s, TESTDEV_SID, ste);
    g_assert_cmpuint(td_fill(s, ipa + 8, 8, 0xcafe, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, pa + 8), ==, 0xcafe);
    /* Unmapped IPA: stage-2 F_TRANSLATION, CLASS IN, IPA recorded. */
    g_assert_cmpuint(td_fill(s, ipa + 0x1000, 8, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_TRANSLATION, rec);
    g_assert(rec[1] & 1ULL << 39);                      /* S2 */
    g_assert_cmphex(rec[1] >> 40 & 3, ==, 2);           /* CLASS IN */
    g_assert(!(rec[1] & 1ULL << 35));                   /* write */
    g_assert_cmphex(rec[2], ==, ipa + 0x1000);
    g_assert_cmphex(rec[3], ==, ipa + 0x1000);
    /* A SubstreamID with stage 1 disabled. */
    g_assert_cmpuint(td_fill(s, ipa, 8, 0, 5), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_SUBSTREAMID, rec);
    g_assert_cmphex(rec[0] >> 11 & 1, ==, 1);           /* SSV */
    g_assert_cmphex(rec[0] >> 12 & 0xfffff, ==, 5);

    /* Bypass. */
    memset(ste, 0, sizeof(ste));
    ste[0] = STE_V | STE_CFG(CFG_BYPASS);
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, pa, 8, 0xbeef, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, pa), ==, 0xbeef);
    /* Abort: no event. */
    ste[0] = STE_V | STE_CFG(CFG_ABORT);
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, pa, 8, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect_none(s);
    smmu_stop(s);
}

/*
 * Nested: the CD table and the stage-1 tables live at IPAs; everything
 * goes through stage 2 (identity-offset: IPA = PA - RAM_BASE + 1 GiB*8).
 */
#define NEST_OFF        (0x200000000ULL - RAM_BASE)

static void test_nested(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8] = { 0 };
    uint64_t cd, data = galloc(s, 4096, 4096), va = 0x7654000ULL;
    uint64_t a, rec[4];
    Pgt s1, s2;

    smmu_enable(s, 8, false);
    /* Stage 2 maps 16 MiB of RAM tables + data at IPA = PA + NEST_OFF. */
    pgt_init(s, &s2, 12, 40, true);
    /* Allocate the stage-1 objects first, then map all of them. */
    cd = galloc(s, 64 * 4, 64);
    pgt_init(s, &s1, 12, 39, false);
    pgt_leaf(s, &s1, va);                   /* create the S1 tables now */
    for (a = RAM_BASE + 0x1000000; a < s->next; a += 4096) {
        pgt_map(s, &s2, a + NEST_OFF, a, S2_RW);
    }
    pgt_map(s, &s2, data + NEST_OFF, data, S2_RW);
    /* Stage-1 entries hold IPAs. */
    {
        Pgt s1ipa = s1;
        uint64_t l1, l2, l3, d;

        /* Rewrite the S1 table pointers as IPAs. */
        l1 = s1.root + ((va >> 30) & 0x1ff) * 8;
        d = r64(s, l1);
        l2 = (d & 0xfffffffff000ULL) + ((va >> 21) & 0x1ff) * 8;
        w64(s, l1, d + NEST_OFF);
        d = r64(s, l2);
        l3 = (d & 0xfffffffff000ULL) + ((va >> 12) & 0x1ff) * 8;
        w64(s, l2, d + NEST_OFF);
        w64(s, l3, (data + NEST_OFF) | S1_RW);
        s1ipa.root = s1.root + NEST_OFF;
        write_cd(s, cd + 64, &s1ipa, 9, true, 0);   /* SSID 1 */
        write_cd(s, cd, &s1ipa, 8, true, 0);        /* SSID 0 */
    }
    ste_s1(ste, cd + NEST_OFF, 0, 2, 2 /* S1DSS: SSID 0 */);
    ste_s2(ste, &s2, 7, true);
    write_ste(s, TESTDEV_SID, ste);

    g_assert_cmpuint(td_fill(s, va + 0x10, 4, 0xa1b2c3d4, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, data + 0x10), ==, 0xa1b2c3d4);
    g_assert_cmpuint(td_fill(s, va + 0x20, 4, 0x5a5a5a5a, 1), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, data + 0x20), ==, 0x5a5a5a5a);
    /*
     * Combined (nested) IOTLB entries survive TLBI_S2_IPA of their IPA,
     * as the architecture allows; TLBI_S12_VMALL removes them.
     */
    {
        uint64_t s2leaf = pgt_leaf(s, &s2, data + NEST_OFF);
        uint64_t data2 = galloc(s, 4096, 4096);

        w64(s, s2leaf, data2 | S2_RW);
        cmd(s, CMD_TLBI_S2_IPA(7), data + NEST_OFF);
        g_assert_cmpuint(td_fill(s, va + 0x30, 4, 0x31, 1), ==,
                         IOASID_TESTDEV_RES_OK);
        g_assert_cmphex(qtest_readl(s->qts, data + 0x30), ==, 0x31);
        cmd(s, CMD_TLBI_S12_VMALL(7), 0);
        g_assert_cmpuint(td_fill(s, va + 0x30, 4, 0x32, 1), ==,
                         IOASID_TESTDEV_RES_OK);
        g_assert_cmphex(qtest_readl(s->qts, data2 + 0x30), ==, 0x32);
        w64(s, s2leaf, data | S2_RW);
        cmd(s, CMD_TLBI_S12_VMALL(7), 0);
    }
    /* S1DSS == SSID0: SubstreamID 0 itself is then illegal. */
    g_assert_cmpuint(td_fill(s, va, 4, 0, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_SUBSTREAMID, rec);

    /* Stage-2 fault on a stage-1 table walk: CLASS TT, IPA of the table. */
    w64(s, s1.root + ((0x40000000ULL >> 30) & 0x1ff) * 8,
        (0x3000000000ULL) | PTE_TABLE | PTE_VALID);
    g_assert_cmpuint(td_fill(s, 0x40000000ULL, 4, 0, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_TRANSLATION, rec);
    g_assert(rec[1] & 1ULL << 39);
    g_assert_cmphex(rec[1] >> 40 & 3, ==, 1);           /* CLASS TT */
    g_assert_cmphex(rec[3], ==, 0x3000000000ULL);
    g_assert_cmphex(rec[2], ==, 0x40000000ULL);

    /* Stage-2 fault on the CD fetch: CLASS CD. */
    cmd(s, CMD_CFGI_ALL | 0, 31);
    ste[0] = (ste[0] & ~0x000fffffffffffc0ULL) | 0x3100000000ULL;
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_TRANSLATION, rec);
    g_assert(rec[1] & 1ULL << 39);
    g_assert_cmphex(rec[1] >> 40 & 3, ==, 0);           /* CLASS CD */
    g_assert_cmphex(rec[3], ==, 0x3100000000ULL);
    evt_expect_none(s);
    smmu_stop(s);
}

/* PASID DMA: linear and 2-level CD tables, 2-level stream table. */
static void test_pasid(gconstpointer data)
{
    unsigned s1fmt = GPOINTER_TO_UINT(data);
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8] = { 0 };
    uint32_t pasids[] = { 1, 37, 700, 1023 };
    uint64_t cdtab, rec[4];
    Pgt p[4];
    int i;

    smmu_enable(s, 16, s1fmt != 0);     /* 2-level stream table too */
    if (s1fmt == 0) {
        cdtab = galloc(s, 64 * 1024, 64);
    } else {
        cdtab = galloc(s, 8 * (1024 >> (s1fmt == 1 ? 6 : 10)), 64);
    }
    for (i = 0; i < 4; i++) {
        uint64_t cd, pa = galloc(s, 4096, 4096);

        if (s1fmt == 0) {
            cd = cdtab + pasids[i] * 64ULL;
        } else {
            unsigned split = s1fmt == 1 ? 6 : 10;
            uint64_t l1 = cdtab + (pasids[i] >> split) * 8ULL;
            uint64_t l2 = r64(s, l1) & ~0xfffULL;

            if (!l2) {
                l2 = galloc(s, 64ULL << split, 4096);
                w64(s, l1, l2 | 1);
            }
            cd = l2 + (pasids[i] & ((1u << split) - 1)) * 64ULL;
        }
        pgt_init(s, &p[i], 12, 39, false);
        pgt_map(s, &p[i], 0x100000, pa, S1_RW);
        write_cd(s, cd, &p[i], 100 + i, true, 0);
    }
    ste_s1(ste, cdtab, s1fmt, 10, 0 /* S1DSS terminate */);
    write_ste(s, TESTDEV_SID, ste);
    for (i = 0; i < 4; i++) {
        uint64_t pa = r64(s, pgt_leaf(s, &p[i], 0x100000)) & ~0xfffULL &
                      0xfffffffffffULL;

        g_assert_cmpuint(td_fill(s, 0x100000, 16, 0x1000 + i, pasids[i]),
                         ==, IOASID_TESTDEV_RES_OK);
        g_assert_cmphex(qtest_readl(s->qts, pa), ==, 0x1000 + i);
    }
    evt_expect_none(s);
    /* No SubstreamID and S1DSS terminate: F_STREAM_DISABLED. */
    g_assert_cmpuint(td_fill(s, 0x100000, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_STREAM_DISABLED, rec);
    /* SubstreamID beyond S1CDMax. */
    g_assert_cmpuint(td_fill(s, 0x100000, 4, 0, 1024), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_SUBSTREAMID, rec);
    g_assert_cmphex(rec[0] >> 12 & 0xfffff, ==, 1024);
    /*
     * SubstreamID 600: 4 KiB leaves (split 6): L1CD 9 is invalid;
     * otherwise its CD is all zeroes (V == 0).
     */
    g_assert_cmpuint(td_fill(s, 0x100000, 4, 0, 600), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, s1fmt == 1 ? C_BAD_SUBSTREAMID : C_BAD_CD, rec);
    g_assert_cmphex(rec[0] >> 12 & 0xfffff, ==, 600);
    evt_expect_none(s);
    if (s1fmt) {
        /* 2-level stream table: L1STD.Span 0 makes the StreamID invalid. */
        uint64_t l1 = r64(s, s->strtab);

        w64(s, s->strtab, l1 & ~0x1fULL);
        cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
        g_assert_cmpuint(td_fill(s, 0x100000, 4, 0, pasids[0]), ==,
                         IOASID_TESTDEV_RES_DST_FAULT);
        evt_expect(s, C_BAD_STREAMID, rec);
        /* Span 5: 16 STEs, StreamID 0x20 is beyond them. */
        w64(s, s->strtab, (l1 & ~0x1fULL) | 5);
        cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
        g_assert_cmpuint(td_fill(s, 0x100000, 4, 0, pasids[0]), ==,
                         IOASID_TESTDEV_RES_DST_FAULT);
        evt_expect(s, C_BAD_STREAMID, rec);
        w64(s, s->strtab, l1);
        cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
        g_assert_cmpuint(td_fill(s, 0x100000, 4, 0, pasids[0]), ==,
                         IOASID_TESTDEV_RES_OK);
        evt_expect_none(s);
    }
    smmu_stop(s);
}

/* One event record of each kind. */
static void test_events(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8] = { 0 }, rec[4], leaf, cd;
    uint64_t pa = galloc(s, 4096, 4096), va = 0x40000;
    Pgt p;

    smmu_enable(s, 6, false);
    /* C_BAD_STE: V == 0. */
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STE, rec);
    g_assert_cmphex(rec[0] >> 11 & 1, ==, 0);           /* no SSV */

    setup_s1(s, &p, 12, 5);
    cd = r64(s, s->strtab + TESTDEV_SID * 64) & 0x000fffffffffffc0ULL;
    leaf = pgt_leaf(s, &p, va);
    /* F_TRANSLATION: unmapped; InputAddr, RnW, CLASS. */
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_COPY, va + 4, RAM_BASE, 4,
                            0, 0), ==, IOASID_TESTDEV_RES_SRC_FAULT);
    evt_expect(s, F_TRANSLATION, rec);
    g_assert_cmphex(rec[2], ==, va + 4);
    g_assert(rec[1] & 1ULL << 35);                      /* read */
    g_assert(!(rec[1] & 1ULL << 39));                   /* stage 1 */
    /* F_PERMISSION: write to a read-only page. */
    w64(s, leaf, pa | S1_RO);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_PERMISSION, rec);
    g_assert(!(rec[1] & 1ULL << 35));
    /* F_ACCESS: AF == 0 and no hardware update (CD.HA == 0). */
    w64(s, leaf, pa | (S1_RW & ~PTE_AF));
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_ACCESS, rec);
    /* F_ADDR_SIZE: output beyond IPS (44 bits). */
    w64(s, leaf, 0x100000000000ULL | S1_RW);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_ADDR_SIZE, rec);
    /* F_WALK_EABT: a table at an address with no memory. */
    w64(s, p.root, NO_MEMORY | PTE_TABLE | PTE_VALID);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_WALK_EABT, rec);
    g_assert_cmphex(rec[3], ==, NO_MEMORY + ((va >> 21) & 0x1ff) * 8);
    /* CD.R == 0: translation faults are not recorded. */
    w64(s, cd, r64(s, cd) & ~(1ULL << 45));
    cmd(s, CMD_CFGI_CD(TESTDEV_SID, 0), 0);
    w64(s, p.root, 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect_none(s);
    /* C_BAD_CD: V == 0. */
    w64(s, cd, r64(s, cd) & ~(1ULL << 31));
    cmd(s, CMD_CFGI_CD(TESTDEV_SID, 0), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_CD, rec);
    /* F_CD_FETCH: CD table with no memory behind it. */
    ste_s1(ste, NO_MEMORY, 0, 0, 0);
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_CD_FETCH, rec);
    g_assert_cmphex(rec[3], ==, NO_MEMORY);
    /* C_BAD_STE: reserved Config. */
    ste[0] = STE_V | STE_CFG(2);
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STE, rec);
    /* C_BAD_STREAMID: StreamID 0x20 beyond LOG2SIZE 4. */
    wl(s, CR0, CR0_CMDQEN | CR0_EVENTQEN);
    wl(s, STRTAB_BASE_CFG, 4);
    wl(s, CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    cmd(s, CMD_CFGI_ALL, 31);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STREAMID, rec);
    /* F_STE_FETCH: stream table with no memory behind it. */
    wl(s, CR0, CR0_CMDQEN | CR0_EVENTQEN);
    wq(s, STRTAB_BASE, NO_MEMORY);
    wl(s, STRTAB_BASE_CFG, 8);
    wl(s, CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_STE_FETCH, rec);
    g_assert_cmphex(rec[3], ==, NO_MEMORY + TESTDEV_SID * 64);
    evt_expect_none(s);
    smmu_stop(s);
}

/* Event queue overflow: PROD.OVFLG toggles once until acknowledged. */
static void test_evtq_overflow(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t evtq = galloc(s, 64, 64);
    int i;

    smmu_enable(s, 8, false);
    wl(s, CR0, CR0_CMDQEN | CR0_SMMUEN);
    wq(s, EVENTQ_BASE, evtq | 1);                       /* 2 entries */
    wl(s, EVENTQ_PROD, 0);
    wl(s, EVENTQ_CONS, 0);
    wl(s, CR0, CR0_CMDQEN | CR0_SMMUEN | CR0_EVENTQEN);
    for (i = 0; i < 4; i++) {                           /* C_BAD_STE x4 */
        td_fill(s, 0x1000, 4, 0, UINT32_MAX);
    }
    g_assert_cmphex(rl(s, EVENTQ_PROD), ==, 1u << 31 | 2);
    /* Acknowledge, drain one, overflow again: toggles back. */
    wl(s, EVENTQ_CONS, 1u << 31 | 1);
    td_fill(s, 0x1000, 4, 0, UINT32_MAX);
    g_assert_cmphex(rl(s, EVENTQ_PROD), ==, 1u << 31 | 3);
    td_fill(s, 0x1000, 4, 0, UINT32_MAX);
    g_assert_cmphex(rl(s, EVENTQ_PROD), ==, 3);
    smmu_stop(s);
}

/* Cached translations stay stale until invalidated, and never after. */
static void test_tlb_inv(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t pa1 = galloc(s, 4096, 4096), pa2 = galloc(s, 4096, 4096);
    uint64_t va = 0x5000000, leaf, ste_w2;
    uint64_t ste[8] = { 0 };
    Pgt p, s2;

    smmu_enable(s, 8, false);
    setup_s1(s, &p, 12, 42);
    leaf = pgt_leaf(s, &p, va);
    w64(s, leaf, pa1 | S1_RW);
    g_assert_cmpuint(td_fill(s, va, 4, 1, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 1);
    /* Remap without invalidation: the IOTLB still says pa1. */
    w64(s, leaf, pa2 | S1_RW);
    g_assert_cmpuint(td_fill(s, va, 4, 2, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 2);
    /* TLBI for another ASID or another VA changes nothing. */
    cmd(s, CMD_TLBI_NH_ASID(41), 0);
    cmd(s, CMD_TLBI_NH_VA(42), va + 0x1000);
    g_assert_cmpuint(td_fill(s, va, 4, 3, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 3);
    /* TLBI_NH_VA of the page: now pa2. */
    cmd(s, CMD_TLBI_NH_VA(42), va);
    cmd(s, CMD_SYNC, 0);
    g_assert_cmpuint(td_fill(s, va, 4, 4, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa2), ==, 4);
    /* Range invalidation (RIL): TG 4K, NUM 3 (4 pages) from va - 8K. */
    w64(s, leaf, pa1 | S1_RW);
    cmd(s, CMD_TLBI_NH_VA(42) | 3 << 12, (va - 0x2000) | 1 << 10);
    g_assert_cmpuint(td_fill(s, va, 4, 5, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 5);
    /* ... and one that ends just below: stale again. */
    w64(s, leaf, pa2 | S1_RW);
    cmd(s, CMD_TLBI_NH_VA(42) | 1 << 12, (va - 0x2000) | 1 << 10);
    g_assert_cmpuint(td_fill(s, va, 4, 6, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 6);
    cmd(s, CMD_TLBI_NH_ASID(42), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 7, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa2), ==, 7);
    /* Unmap: the cached entry keeps working until TLBI_NSNH_ALL. */
    w64(s, leaf, 0);
    g_assert_cmpuint(td_fill(s, va, 4, 8, UINT32_MAX), ==, 0);
    cmd(s, CMD_TLBI_NSNH_ALL, 0);
    g_assert_cmpuint(td_fill(s, va, 4, 9, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(qtest_readl(s->qts, pa2), ==, 8);

    /* STE changes need CFGI_STE. */
    memset(ste, 0, sizeof(ste));
    ste[0] = STE_V | STE_CFG(CFG_BYPASS);
    write_ste(s, TESTDEV_SID, ste);
    g_assert_cmpuint(td_fill(s, pa1, 4, 10, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, pa1, 4, 10, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 10);

    /* Stage 2: TLBI_S2_IPA and TLBI_S12_VMALL. */
    pgt_init(s, &s2, 12, 40, true);
    leaf = pgt_leaf(s, &s2, va);
    w64(s, leaf, pa1 | S2_RW);
    memset(ste, 0, sizeof(ste));
    ste_s2(ste, &s2, 5, true);
    ste_w2 = ste[2];
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 11, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 11);
    w64(s, leaf, pa2 | S2_RW);
    cmd(s, CMD_TLBI_S2_IPA(4), va);                     /* other VMID */
    g_assert_cmpuint(td_fill(s, va, 4, 12, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 12);
    cmd(s, CMD_TLBI_S2_IPA(5), va);
    g_assert_cmpuint(td_fill(s, va, 4, 13, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa2), ==, 13);
    w64(s, leaf, pa1 | S2_RW);
    cmd(s, CMD_TLBI_S12_VMALL(5), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 14, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa1), ==, 14);
    /* S2_IPA range: SCALE 1, NUM 0 = 2 pages of 4 KiB from va - 4K. */
    w64(s, leaf, pa2 | S2_RW);
    cmd(s, CMD_TLBI_S2_IPA(5) | 1 << 20, (va - 0x1000) | 1 << 10);
    g_assert_cmpuint(td_fill(s, va, 4, 15, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa2), ==, 15);
    /* ... and a TLBI_NH_ALL leaves stage-2-only entries alone. */
    w64(s, leaf, pa1 | S2_RW);
    cmd(s, 0x10 | 5ULL << 32, 0);                       /* TLBI_NH_ALL */
    g_assert_cmpuint(td_fill(s, va, 4, 16, UINT32_MAX), ==, 0);
    g_assert_cmphex(qtest_readl(s->qts, pa2), ==, 16);
    g_assert_cmphex(ste_w2 & 0xffff, ==, 5);
    smmu_stop(s);
}

/* CMD_SYNC MSI write; illegal commands stop the queue until GERRORN. */
static void test_cmdq(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t msi = galloc(s, 8, 8);
    uint32_t cons;

    smmu_enable(s, 8, false);
    /* CMD_SYNC, CS = SIG_IRQ, MSIData 0xfeed at msi. */
    cmd(s, CMD_SYNC | 1 << 12 | 0xfeedULL << 32, msi);
    g_assert_cmphex(qtest_readl(s->qts, msi), ==, 0xfeed);
    /* Prefetch, CFGI_CD_ALL and TLBI_NSNH_ALL are accepted. */
    cmd(s, 0x01 | (uint64_t)TESTDEV_SID << 32, 0);
    cmd(s, 0x06 | (uint64_t)TESTDEV_SID << 32, 0);
    cmd(s, CMD_TLBI_NSNH_ALL, 0);
    /* Illegal: unknown opcode, then a CMD_SYNC behind it. */
    cons = rl(s, CMDQ_CONS);
    cmd_submit(s, 0x7f, 0);
    cmd_submit(s, CMD_SYNC | 1 << 12 | 0xbeefULL << 32, msi);
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, cons | 1 << 24);   /* CERROR_ILL */
    g_assert_cmphex(rl(s, GERROR) & 1, ==, GERROR_CMDQ_ERR);
    g_assert_cmphex(qtest_readl(s->qts, msi), ==, 0xfeed);
    /* Software replaces the command with a CMD_SYNC and acknowledges. */
    w64(s, s->cmdq + (cons & 0x3f) * 16, CMD_SYNC);
    wl(s, GERRORN, rl(s, GERROR));
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, rl(s, CMDQ_PROD));
    g_assert_cmphex(qtest_readl(s->qts, msi), ==, 0xbeef);
    /* PRI_RESP is illegal without IDR0.PRI. */
    cons = rl(s, CMDQ_CONS);
    cmd_submit(s, 0x41, 0);
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, cons | 1 << 24);
    /* While the error is active nothing more is consumed. */
    cmd_submit(s, CMD_SYNC, 0);
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, cons | 1 << 24);
    w64(s, s->cmdq + (cons & 0x3f) * 16, CMD_SYNC);
    wl(s, GERRORN, rl(s, GERROR));
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, rl(s, CMDQ_PROD));
    /* A command queue with no memory: CERROR_ABT. */
    wl(s, CR0, CR0_EVENTQEN | CR0_SMMUEN);
    wq(s, CMDQ_BASE, NO_MEMORY | 4);
    wl(s, CMDQ_PROD, 0);
    wl(s, CMDQ_CONS, 0);
    wl(s, CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    wl(s, CMDQ_PROD, 1);
    g_assert_cmphex(rl(s, CMDQ_CONS), ==, 2 << 24);
    g_assert_cmphex((rl(s, GERROR) ^ rl(s, GERRORN)) & 1, ==, 1);
    smmu_stop(s);
}

/* Garbage everywhere must not crash QEMU. */
static void test_garbage(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8];
    int i, j;

    smmu_enable(s, 8, false);
    for (i = 0; i < 64; i++) {
        uint8_t junk[0x4000];

        /* Random CDs and tables where the pointers below lead. */
        for (j = 0; j < sizeof(junk); j++) {
            junk[j] = g_test_rand_int();
        }
        qtest_memwrite(s->qts, RAM_BASE, junk, sizeof(junk));
        for (j = 0; j < 8; j++) {
            ste[j] = (uint64_t)g_test_rand_int() << 32 | g_test_rand_int();
        }
        ste[0] |= STE_V;
        /* Keep CD/table pointers in RAM half the time. */
        if (i & 1) {
            ste[0] = (ste[0] & ~0x000fffffffffffc0ULL) | (RAM_BASE + 0x1000);
            ste[3] = RAM_BASE + 0x2000;
            /* A plausible S1CDMax and Config half the time. */
            if (i & 4) {
                ste[0] = (ste[0] & ~(0x1fULL << 59 | 0xeULL)) |
                         STE_CFG(4 + (i >> 3) % 4) | 2ULL << 59;
            }
        }
        write_ste(s, TESTDEV_SID, ste);
        cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
        td_fill(s, (uint64_t)g_test_rand_int() << 12, 64, 0,
                i & 2 ? (uint32_t)g_test_rand_int_range(0, 1 << 20)
                      : UINT32_MAX);
        cmd_submit(s, (uint64_t)g_test_rand_int() << 32 | g_test_rand_int(),
                   (uint64_t)g_test_rand_int() << 32 | g_test_rand_int());
        if (rl(s, GERROR) != rl(s, GERRORN)) {
            uint32_t c = rl(s, CMDQ_CONS);

            w64(s, s->cmdq + (c & 0x3f) * 16, CMD_SYNC);
            w64(s, s->cmdq + (c & 0x3f) * 16 + 8, 0);
            wl(s, GERRORN, rl(s, GERROR));
        }
    }
    g_assert_cmphex(rl(s, IDR1) & 0x3f, ==, 16);        /* still alive */
    smmu_stop(s);
}

/* Event queue and GERROR interrupts as MSIs (IRQ_CFG0 address != 0). */
static void test_msi(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t evt_msi = galloc(s, 8, 8), gerr_msi = galloc(s, 8, 8);
    uint64_t rec[4];

    smmu_enable(s, 8, false);
    wq(s, 0xb0, evt_msi);                   /* EVENTQ_IRQ_CFG0 */
    wl(s, 0xb8, 0xe7e7);                    /* EVENTQ_IRQ_CFG1 */
    wq(s, 0x68, gerr_msi);                  /* GERROR_IRQ_CFG0 */
    wl(s, 0x70, 0x6e6e);                    /* GERROR_IRQ_CFG1 */
    /* Disabled: no MSI. */
    td_fill(s, 0x1000, 4, 0, UINT32_MAX);   /* C_BAD_STE */
    evt_expect(s, C_BAD_STE, rec);
    g_assert_cmphex(qtest_readl(s->qts, evt_msi), ==, 0);
    wl(s, IRQ_CTRL, 0x5);
    g_assert_cmphex(rl(s, IRQ_CTRLACK), ==, 0x5);
    td_fill(s, 0x1000, 4, 0, UINT32_MAX);
    evt_expect(s, C_BAD_STE, rec);
    g_assert_cmphex(qtest_readl(s->qts, evt_msi), ==, 0xe7e7);
    /* A command error: GERROR.CMDQ_ERR and its MSI. */
    cmd_submit(s, 0x7f, 0);
    g_assert_cmphex(rl(s, GERROR) ^ rl(s, GERRORN), ==, GERROR_CMDQ_ERR);
    g_assert_cmphex(qtest_readl(s->qts, gerr_msi), ==, 0x6e6e);
    /* An event MSI to nowhere: GERROR.MSI_EVENTQ_ABT_ERR. */
    wq(s, 0xb0, NO_MEMORY);
    td_fill(s, 0x1000, 4, 0, UINT32_MAX);
    g_assert_cmphex(rl(s, GERROR) ^ rl(s, GERRORN), ==,
                    GERROR_CMDQ_ERR | 1 << 5);
    smmu_stop(s);
}

/* CD.HA / CD.HD: hardware access flag and dirty state updates. */
static void test_httu(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t pa = galloc(s, 4096, 4096), va = 0x300000, leaf, cd;
    Pgt p;

    smmu_enable(s, 8, false);
    setup_s1(s, &p, 12, 3);
    cd = r64(s, s->strtab + TESTDEV_SID * 64) & 0x000fffffffffffc0ULL;
    w64(s, cd, r64(s, cd) | 1ULL << 43 | 1ULL << 42);     /* HA, HD */
    leaf = pgt_leaf(s, &p, va);
    /* AF clear, writable-clean (DBM with AP[2] read-only). */
    w64(s, leaf, pa | ((S1_RO | 1ULL << 51) & ~PTE_AF));
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_COPY, va, va + 0x800, 16,
                            0, 0), ==, IOASID_TESTDEV_RES_OK);
    /* The read set AF; the write made the page dirty (AP[2] cleared). */
    g_assert_cmphex(r64(s, leaf), ==, pa | S1_RW | 1ULL << 51);
    evt_expect_none(s);
    /* Without DBM a read-only page stays read-only. */
    w64(s, leaf, pa | S1_RO);
    cmd(s, CMD_TLBI_NH_ASID(3), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    smmu_stop(s);
}

/* ATS translation requests (STE.EATS) and CMD_ATC_INV. */
static void test_ats(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t pa = galloc(s, 4096, 4096), va = 0x7000000, leaf, rec[4];
    uint64_t ste0, r;
    Pgt p;

    g_assert_cmphex(rl(s, IDR0) >> 10 & 3, ==, 3);      /* ATS, NS1ATS */
    /* Enable ATS in the testdev's capability (PASID 0x100, ATS 0x108). */
    qtest_writew(s->qts, s->gbus.ecam_alloc_ptr +
                 (QPCI_DEVFN(TESTDEV_SLOT, 0) << 12) + 0x108 + PCI_ATS_CTRL,
                 PCI_ATS_CTRL_ENABLE);
    smmu_enable(s, 8, false);
    setup_s1(s, &p, 12, 9);
    leaf = pgt_leaf(s, &p, va);
    w64(s, leaf, pa | S1_RO);
    /* EATS == 0: F_BAD_ATS_TREQ and an Unsupported Request. */
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_ATS, va, 0, 4096, 0, 0),
                     ==, IOASID_TESTDEV_RES_UNSUPPORTED);
    evt_expect(s, 0x05, rec);
    g_assert_cmphex(rec[2], ==, va);
    /* EATS == 1: the completion carries the table's permissions. */
    ste0 = r64(s, s->strtab + TESTDEV_SID * 64 + 8);
    w64(s, s->strtab + TESTDEV_SID * 64 + 8, ste0 | 1ULL << 28);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_ATS, va + 0x10, 0, 4096,
                            0, 0), ==, IOASID_TESTDEV_RES_OK);
    r = td_rd(s, IOASID_TESTDEV_ATS_RESULT) |
        (uint64_t)td_rd(s, IOASID_TESTDEV_ATS_RESULT + 4) << 32;
    g_assert_cmphex(r, ==, pa | IOASID_TESTDEV_ATS_R);
    /* Read-write now (the completion is not cached by the SMMU). */
    w64(s, leaf, pa | S1_RW);
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_ATS, va, 0, 4096, 0, 0),
                     ==, IOASID_TESTDEV_RES_OK);
    r = td_rd(s, IOASID_TESTDEV_ATS_RESULT);
    g_assert_cmphex(r, ==, (uint32_t)pa | IOASID_TESTDEV_ATS_R |
                    IOASID_TESTDEV_ATS_W);
    /* Unmapped: R = W = 0, and no event record. */
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_ATS, va + 0x1000, 0, 4096,
                            0, 0), ==, IOASID_TESTDEV_RES_SRC_FAULT);
    evt_expect_none(s);
    /* CMD_ATC_INV: SID, SSV/SSID, Size 2 (16 KiB), reaches the device. */
    cmd(s, 0x40 | 1 << 11 | 5 << 12 | (uint64_t)TESTDEV_SID << 32,
        (va + 0x3000) | 2);
    cmd(s, CMD_SYNC, 0);
    g_assert_cmpuint(td_rd(s, IOASID_TESTDEV_INV_COUNT), ==, 1);
    g_assert_cmphex(td_rd(s, IOASID_TESTDEV_INV_PASID), ==, 5);
    g_assert_cmphex(td_rd(s, IOASID_TESTDEV_INV_ADDR), ==, va);
    g_assert_cmphex(td_rd(s, IOASID_TESTDEV_INV_SIZE), ==, 0x4000);
    /* Size >= 52 and Global: everything, all PASIDs. */
    cmd(s, 0x40 | 1 << 9 | (uint64_t)TESTDEV_SID << 32, 52);
    g_assert_cmpuint(td_rd(s, IOASID_TESTDEV_INV_COUNT), ==, 2);
    g_assert_cmphex(td_rd(s, IOASID_TESTDEV_INV_PASID), ==,
                    IOASID_TESTDEV_MSG_NO_PASID | IOASID_TESTDEV_MSG_GLOBAL);
    /* EATS 0b10 (split stage, no IDR0.NS1ATS == 0): C_BAD_STE. */
    w64(s, s->strtab + TESTDEV_SID * 64 + 8, ste0 | 2ULL << 28);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, va, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STE, rec);
    smmu_stop(s);
}

/* Privileged and execute attributes of PASID DMA: PnU / InD in records. */
static void test_priv_exec(void)
{
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8] = { 0 }, rec[4];
    uint64_t cdtab = galloc(s, 128, 64), pa = galloc(s, 4096, 4096);
    uint64_t va_k = 0x10000, va_x = 0x20000;
    Pgt p;

    smmu_enable(s, 8, false);
    pgt_init(s, &p, 12, 39, false);
    write_cd(s, cdtab + 64, &p, 11, true, 0);
    ste_s1(ste, cdtab, 0, 1, 1 /* S1DSS bypass */);
    write_ste(s, TESTDEV_SID, ste);
    /* va_k: read-write for EL1 only (AP[1] == 0). */
    pgt_map(s, &p, va_k, pa, S1_RW & ~PTE_AP_EL0);
    /* va_x: read-write for EL0, UXN set. */
    pgt_map(s, &p, va_x, pa, S1_RW | 1ULL << 54);

    g_assert_cmpuint(td_fill(s, va_k, 4, 0x77, 1), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_PERMISSION, rec);
    g_assert_cmphex(rec[0] >> 11 & 1, ==, 1);           /* SSV */
    g_assert_cmphex(rec[0] >> 12 & 0xfffff, ==, 1);
    g_assert(!(rec[1] & 1ULL << 33));                   /* PnU: unpriv */
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_FILL, 0, va_k, 4,
                            IOASID_TESTDEV_F_PASID | IOASID_TESTDEV_F_PRIV,
                            1), ==, IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, pa), ==, 0x77);
    /* A privileged write that faults (read-only page) has PnU set. */
    pgt_map(s, &p, va_k + 0x1000, pa, (S1_RW & ~PTE_AP_EL0) | PTE_AP_RO);
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_FILL, 0, va_k + 0x1000, 4,
                            IOASID_TESTDEV_F_PASID | IOASID_TESTDEV_F_PRIV,
                            1), ==, IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, F_PERMISSION, rec);
    g_assert(rec[1] & 1ULL << 33);                      /* PnU: priv */

    /* Instruction fetch from a UXN page: InD, RnW. */
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_COPY, va_x, va_x + 0x800,
                            4, IOASID_TESTDEV_F_PASID | IOASID_TESTDEV_F_EXEC,
                            1), ==, IOASID_TESTDEV_RES_SRC_FAULT);
    evt_expect(s, F_PERMISSION, rec);
    g_assert(rec[1] & 1ULL << 34);                      /* InD */
    g_assert(rec[1] & 1ULL << 35);                      /* read */
    /* Data reads of the same page are fine. */
    g_assert_cmpuint(td_run(s, IOASID_TESTDEV_CMD_COPY, va_x, va_x + 0x800,
                            4, IOASID_TESTDEV_F_PASID, 1), ==,
                     IOASID_TESTDEV_RES_OK);
    /* No SubstreamID and S1DSS bypass: stage 1 is skipped. */
    g_assert_cmpuint(td_fill(s, pa + 8, 4, 0x99, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, pa + 8), ==, 0x99);
    evt_expect_none(s);
    smmu_stop(s);
}

/* Bad property values make machine creation fail, naming the property. */
static void test_bad_props(void)
{
    static const struct {
        const char *global, *msg;
    } bad[] = {
        { "ioasid-smmuv3.stage=3", "stage" },
        { "ioasid-smmuv3.ssidsize=21", "ssidsize" },
        { "ioasid-smmuv3.oas=47", "oas" },
        { "ioasid-smmuv3.oas=52", "oas" },
        { "ioasid-smmuv3.granules=8k", "granules" },
        { "ioasid-smmuv3.granules=", "granules" },
    };
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    size_t i;

    g_assert(qemu);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        const char *argv[] = {
            qemu, "-machine", "virt,iommu=ioasid-smmuv3", "-display", "none",
            "-nodefaults", "-global", bad[i].global, "-S", NULL,
        };

        ioasid_expect_config_error(argv, bad[i].msg);
    }
}

/* Stage 2 with each granule (S2TG, S2SL0 start levels). */
static void test_s2_granule(gconstpointer data)
{
    unsigned g = GPOINTER_TO_UINT(data);
    Smmu *s = smmu_start(NULL);
    uint64_t ste[8] = { 0 };
    uint64_t pa = galloc(s, 1ULL << g, 1ULL << g);
    uint64_t ipa = 0x1234ULL << g;
    Pgt p;

    smmu_enable(s, 8, false);
    pgt_init(s, &p, g, 40, true);
    pgt_map(s, &p, ipa, pa, S2_RW);
    ste_s2(ste, &p, 1, true);
    write_ste(s, TESTDEV_SID, ste);
    g_assert_cmpuint(td_fill(s, ipa + 0x24, 4, 0x5151, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(s->qts, pa + 0x24), ==, 0x5151);
    evt_expect_none(s);
    smmu_stop(s);
}

/* Configurations the implemented stages do not allow: C_BAD_STE. */
static void test_stage_limits(void)
{
    Smmu *s = smmu_start("-global ioasid-smmuv3.stage=1");
    uint64_t ste[8] = { 0 }, rec[4];
    Pgt p;

    smmu_enable(s, 8, false);
    pgt_init(s, &p, 12, 40, true);
    ste_s2(ste, &p, 1, true);
    write_ste(s, TESTDEV_SID, ste);
    g_assert_cmpuint(td_fill(s, 0x1000, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STE, rec);
    /* No stage 2: TLBI_S12_VMALL and TLBI_S2_IPA are illegal. */
    cmd_submit(s, CMD_TLBI_S12_VMALL(1), 0);
    g_assert_cmphex(rl(s, CMDQ_CONS) >> 24 & 0x7f, ==, 1);
    smmu_stop(s);

    s = smmu_start("-global ioasid-smmuv3.stage=2 "
                   "-global ioasid-smmuv3.granules=4k");
    smmu_enable(s, 8, false);
    setup_s1(s, &p, 12, 1);
    g_assert_cmpuint(td_fill(s, 0x1000, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STE, rec);
    /* A 64 KiB stage-2 granule is not advertised: C_BAD_STE. */
    memset(ste, 0, sizeof(ste));
    pgt_init(s, &p, 16, 40, true);
    ste_s2(ste, &p, 1, true);
    write_ste(s, TESTDEV_SID, ste);
    cmd(s, CMD_CFGI_STE(TESTDEV_SID), 0);
    g_assert_cmpuint(td_fill(s, 0x1000, 4, 0, UINT32_MAX), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    evt_expect(s, C_BAD_STE, rec);
    /* No stage 1: TLBI_NH_ASID is illegal. */
    cmd_submit(s, CMD_TLBI_NH_ASID(1), 0);
    g_assert_cmphex(rl(s, CMDQ_CONS) >> 24 & 0x7f, ==, 1);
    smmu_stop(s);
}

/*
 * Plain (RID-only) DMA of an ordinary QEMU device (edu, slot 5) goes
 * through the IOMMUMemoryRegion path.
 */
#define EDU_SID         (5 << 3)

static void edu_dma(Smmu *s, QPCIDevice *edu, QPCIBar bar, uint64_t src,
                    uint64_t dst, uint32_t cnt, bool to_pci)
{
    qpci_io_writeq(edu, bar, 0x80, src);
    qpci_io_writeq(edu, bar, 0x88, dst);
    qpci_io_writeq(edu, bar, 0x90, cnt);
    qpci_io_writeq(edu, bar, 0x98, 1 | (to_pci ? 2 : 0));
    qtest_clock_step(s->qts, 200 * 1000 * 1000);        /* 100 ms timer */
    g_assert_cmphex(qpci_io_readq(edu, bar, 0x98) & 1, ==, 0);
}

static void test_iommu_mr(void)
{
    Smmu *s = smmu_start("-device edu,addr=05.0");
    uint64_t pa1 = galloc(s, 4096, 4096), pa2 = galloc(s, 4096, 4096);
    uint64_t ste[8] = { 0 }, cd = galloc(s, 64, 64), rec[4];
    uint8_t in[64], out[64];
    QPCIDevice *edu;
    QPCIBar bar;
    Pgt p;
    int i;

    edu = qpci_device_find(&s->gbus.bus, QPCI_DEVFN(5, 0));
    g_assert(edu);
    qpci_device_enable(edu);
    bar = qpci_iomap(edu, 0, NULL);
    smmu_enable(s, 8, false);
    pgt_init(s, &p, 12, 39, false);
    pgt_map(s, &p, 0x100000, pa1, S1_RO);
    pgt_map(s, &p, 0x200000, pa2, S1_RW);
    write_cd(s, cd, &p, 21, true, 0);
    ste_s1(ste, cd, 0, 0, 0);
    write_ste(s, EDU_SID, ste);
    for (i = 0; i < sizeof(in); i++) {
        in[i] = 0x30 + i;
    }
    qtest_memwrite(s->qts, pa1, in, sizeof(in));
    /* IOVA 0x100000 -> edu buffer -> IOVA 0x200000. */
    edu_dma(s, edu, bar, 0x100000, 0x40000, sizeof(in), false);
    edu_dma(s, edu, bar, 0x40000, 0x200000, sizeof(in), true);
    qtest_memread(s->qts, pa2, out, sizeof(out));
    g_assert(!memcmp(in, out, sizeof(in)));
    g_assert_cmphex(evt_pop(s, rec), ==, 0);
    /* A write to the read-only page: F_PERMISSION for StreamID 0x28. */
    edu_dma(s, edu, bar, 0x40000, 0x100000, sizeof(in), true);
    g_assert_cmphex(evt_pop(s, rec), ==, F_PERMISSION);
    g_assert_cmphex(rec[0] >> 32, ==, EDU_SID);
    g_assert_cmphex(rec[0] >> 11 & 1, ==, 0);           /* no SSV */
    g_assert_cmphex(rec[2], ==, 0x100000);
    g_assert(!(rec[1] & 1ULL << 35));                   /* write */
    qtest_memread(s->qts, pa1, out, sizeof(out));
    g_assert(!memcmp(in, out, sizeof(in)));
    g_free(edu);
    smmu_stop(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/ioasid-smmuv3/reset", test_reset);
    qtest_add_func("/ioasid-smmuv3/props", test_props);
    qtest_add_func("/ioasid-smmuv3/bad-props", test_bad_props);
    qtest_add_func("/ioasid-smmuv3/gbpa", test_gbpa);
    qtest_add_data_func("/ioasid-smmuv3/s1/4k", GUINT_TO_POINTER(12),
                        test_s1_granule);
    qtest_add_data_func("/ioasid-smmuv3/s1/16k", GUINT_TO_POINTER(14),
                        test_s1_granule);
    qtest_add_data_func("/ioasid-smmuv3/s1/64k", GUINT_TO_POINTER(16),
                        test_s1_granule);
    qtest_add_data_func("/ioasid-smmuv3/s2/4k", GUINT_TO_POINTER(12),
                        test_s2_granule);
    qtest_add_data_func("/ioasid-smmuv3/s2/16k", GUINT_TO_POINTER(14),
                        test_s2_granule);
    qtest_add_data_func("/ioasid-smmuv3/s2/64k", GUINT_TO_POINTER(16),
                        test_s2_granule);
    qtest_add_func("/ioasid-smmuv3/stage-limits", test_stage_limits);
    qtest_add_func("/ioasid-smmuv3/s2-bypass", test_s2_and_bypass);
    qtest_add_func("/ioasid-smmuv3/nested", test_nested);
    qtest_add_data_func("/ioasid-smmuv3/pasid/linear", GUINT_TO_POINTER(0),
                        test_pasid);
    qtest_add_data_func("/ioasid-smmuv3/pasid/2level-4k",
                        GUINT_TO_POINTER(1), test_pasid);
    qtest_add_data_func("/ioasid-smmuv3/pasid/2level-64k",
                        GUINT_TO_POINTER(2), test_pasid);
    qtest_add_func("/ioasid-smmuv3/events", test_events);
    qtest_add_func("/ioasid-smmuv3/evtq-overflow", test_evtq_overflow);
    qtest_add_func("/ioasid-smmuv3/tlb-inv", test_tlb_inv);
    qtest_add_func("/ioasid-smmuv3/cmdq", test_cmdq);
    qtest_add_func("/ioasid-smmuv3/msi", test_msi);
    qtest_add_func("/ioasid-smmuv3/httu", test_httu);
    qtest_add_func("/ioasid-smmuv3/iommu-mr", test_iommu_mr);
    qtest_add_func("/ioasid-smmuv3/ats", test_ats);
    qtest_add_func("/ioasid-smmuv3/priv-exec", test_priv_exec);
    qtest_add_func("/ioasid-smmuv3/garbage", test_garbage);
    return g_test_run();
}
