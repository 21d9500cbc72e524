/*
 * qtest for ioasid-testdev on q35 (x86_64) and virt (aarch64).
 *
 * Identity, configuration space (capabilities and their write masks),
 * DMA COPY / FILL / COMPARE with no IOMMU, every error status, completion
 * interrupts (MSI-X and INTx), properties, and DMA behind QEMU's own
 * IOMMUs (translation off, as at boot).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "libqos/generic-pcihost.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "ioasid-testdev-util.h"

#define RAM_SIZE        (128 * 1024 * 1024)
#define X86_RAM_BASE    0x0ULL
#define ARM_RAM_BASE    0x40000000ULL
#define Q35_ECAM_BASE   0xb0000000ULL
#define TESTDEV_SLOT    4
#define NO_MEMORY       0x7f000000000ULL    /* nothing is mapped there */

/* Configuration-space layout the device documents. */
#define PCIE_CAP        IOASID_TESTDEV_CFG_PCIE_CAP
#define MSIX_CAP        IOASID_TESTDEV_CFG_MSIX_CAP
#define EXT_CAP0        IOASID_TESTDEV_CFG_EXT_CAP

typedef struct TestDev {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QGenericPCIBus gbus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t ram_base;
    uint64_t ecam;          /* this function's 4 KiB of ECAM space */
} TestDev;

static bool is_x86(void)
{
    return !strcmp(qtest_get_arch(), "x86_64");
}

/*
 * q35 needs a BIOS image even under qtest.  Debian's QEMU source (+ds) has
 * none in pc-bios/; use the host's SeaBIOS then.
 */
static const char *x86_bios_dir(void)
{
    static const char host_dir[] = "/usr/share/seabios";

    if (!g_file_test("pc-bios/bios-256k.bin", G_FILE_TEST_EXISTS) &&
        g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        return host_dir;
    }
    return NULL;
}

/*
 * Start a machine with @args (which place an ioasid-testdev at bus @busnr,
 * slot @slot) and find the device.  On q35 MMCONFIG is switched on (no
 * firmware runs under qtest); on virt libqos uses the high ECAM.
 */
static TestDev *td_start_at(int busnr, int slot, const char *args)
{
    TestDev *t = g_new0(TestDev, 1);
    uint64_t ecam;
    int devfn = (busnr << 8) | QPCI_DEVFN(slot, 0);

    if (is_x86()) {
        const char *bios = x86_bios_dir();
        QPCIDevice *mch;

        t->qts = qtest_initf("-machine q35 -m 128M -nodefaults %s%s %s",
                             bios ? "-L " : "", bios ? bios : "", args);
        pc_alloc_init(&t->alloc, t->qts, ALLOC_NO_FLAGS);
        t->bus = qpci_new_pc(t->qts, &t->alloc);
        mch = qpci_device_find(t->bus, 0);
        g_assert(mch);
        qpci_config_writel(mch, 0x64, 0);
        qpci_config_writel(mch, 0x60, Q35_ECAM_BASE | 1);
        g_free(mch);
        ecam = Q35_ECAM_BASE;
        t->ram_base = X86_RAM_BASE;
    } else {
        t->qts = qtest_initf("-machine virt -cpu max -m 128M -nodefaults %s",
                             args);
        alloc_init(&t->alloc, ALLOC_NO_FLAGS, ARM_RAM_BASE,
                   ARM_RAM_BASE + RAM_SIZE, 4096);
        qpci_init_generic(&t->gbus, t->qts, &t->alloc, false);
        t->bus = &t->gbus.bus;
        ecam = t->gbus.ecam_alloc_ptr;
        t->ram_base = ARM_RAM_BASE;
    }
    if (busnr) {
        qpci_secondary_buses_init(t->bus);
    }
    t->ecam = ecam + ((uint64_t)devfn << 12);
    t->dev = qpci_device_find(t->bus, devfn);
    g_assert(t->dev);
    return t;
}

static TestDev *td_start(const char *props)
{
    g_autofree char *args =
        g_strdup_printf("-device ioasid-testdev,addr=%02x.0%s%s",
                        TESTDEV_SLOT, *props ? "," : "", props);

    return td_start_at(0, TESTDEV_SLOT, args);
}

/* Enable memory decoding and bus mastering, map BAR0. */
static void td_enable(TestDev *t)
{
    qpci_device_enable(t->dev);
    t->bar = qpci_iomap(t->dev, IOASID_TESTDEV_BAR_REGS, NULL);
}

static void td_stop(TestDev *t)
{
    g_free(t->dev);
    if (is_x86()) {
        qpci_free_pc(t->bus);
    }
    alloc_destroy(&t->alloc);
    qtest_quit(t->qts);
    g_free(t);
}

static uint32_t rd(TestDev *t, uint32_t off)
{
    return qpci_io_readl(t->dev, t->bar, off);
}

static void wr(TestDev *t, uint32_t off, uint32_t val)
{
    qpci_io_writel(t->dev, t->bar, off, val);
}

static void wr64(TestDev *t, uint32_t off, uint64_t val)
{
    wr(t, off, val);
    wr(t, off + 4, val >> 32);
}

static uint64_t rd64(TestDev *t, uint32_t off)
{
    return rd(t, off) | (uint64_t)rd(t, off + 4) << 32;
}

/* Extended configuration space through ECAM. */
static uint32_t ext_readl(TestDev *t, uint32_t off)
{
    return qtest_readl(t->qts, t->ecam + off);
}

static uint16_t ext_readw(TestDev *t, uint32_t off)
{
    return qtest_readw(t->qts, t->ecam + off);
}

static void ext_writel(TestDev *t, uint32_t off, uint32_t val)
{
    qtest_writel(t->qts, t->ecam + off, val);
}

static void ext_writew(TestDev *t, uint32_t off, uint16_t val)
{
    qtest_writew(t->qts, t->ecam + off, val);
}

/* Offset of extended capability @id, 0 if absent. */
static uint32_t ext_find(TestDev *t, uint16_t id)
{
    uint32_t off = EXT_CAP0;
    int n;

    for (n = 0; off && n < 64; n++) {
        uint32_t hdr = ext_readl(t, off);

        if (hdr == 0) {
            return 0;
        }
        if (PCI_EXT_CAP_ID(hdr) == id) {
            return off;
        }
        off = PCI_EXT_CAP_NEXT(hdr);
    }
    return 0;
}

/* Run one command; returns STATUS (which must have DONE set). */
static uint32_t run(TestDev *t, uint32_t cmd, uint64_t src, uint64_t dst,
                    uint32_t len, uint32_t flags)
{
    uint32_t done = rd(t, IOASID_TESTDEV_COMPLETED);
    uint32_t st;

    wr64(t, IOASID_TESTDEV_SRC, src);
    wr64(t, IOASID_TESTDEV_DST, dst);
    wr(t, IOASID_TESTDEV_LEN, len);
    wr(t, IOASID_TESTDEV_FLAGS, flags);
    wr(t, IOASID_TESTDEV_CMD, cmd);
    st = rd(t, IOASID_TESTDEV_STATUS);
    g_assert_cmphex(st & (IOASID_TESTDEV_ST_DONE | IOASID_TESTDEV_ST_BUSY),
                    ==, IOASID_TESTDEV_ST_DONE);
    g_assert_cmpuint(rd(t, IOASID_TESTDEV_COMPLETED), ==, done + 1);
    return st & IOASID_TESTDEV_ST_CODE_MASK;
}

static void fill_random(uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = g_test_rand_int();
    }
}

/* ---- identity and configuration space ---- */

static void test_ids(void)
{
    TestDev *t = td_start("");

    g_assert_cmphex(qpci_config_readw(t->dev, PCI_VENDOR_ID), ==,
                    IOASID_TESTDEV_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(t->dev, PCI_DEVICE_ID), ==,
                    IOASID_TESTDEV_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(t->dev, PCI_REVISION_ID), ==,
                    IOASID_TESTDEV_REVISION);
    g_assert_cmphex(qpci_config_readw(t->dev, PCI_CLASS_DEVICE), ==,
                    0xff00);   /* PCI_CLASS_OTHERS */
    g_assert_cmphex(qpci_config_readb(t->dev, PCI_INTERRUPT_PIN), ==, 1);
    /* BAR0: 64-bit memory BAR; BAR2: 32-bit memory (MSI-X). */
    g_assert_cmphex(qpci_config_readl(t->dev, PCI_BASE_ADDRESS_0) & 0xf, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmphex(qpci_config_readl(t->dev, PCI_BASE_ADDRESS_2) & 0xf, ==,
                    0);

    td_enable(t);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_ID), ==, IOASID_TESTDEV_ID_VALUE);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_FEATURES), ==,
                    IOASID_TESTDEV_FEAT_PASID | IOASID_TESTDEV_FEAT_ATS |
                    IOASID_TESTDEV_FEAT_PRI | IOASID_TESTDEV_FEAT_MSIX);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_STATUS), ==, 0);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_COMPLETED), ==, 0);

    /* Read-only registers ignore writes; 64-bit registers read back. */
    g_assert_cmphex(rd(t, IOASID_TESTDEV_INV_COUNT), ==, 0);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_PRG_COUNT), ==, 0);
    wr(t, IOASID_TESTDEV_ID, 0);
    wr(t, IOASID_TESTDEV_COMPLETED, 77);
    wr(t, IOASID_TESTDEV_INV_COUNT, 1);
    wr(t, IOASID_TESTDEV_PRG_RESP, 1);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_INV_COUNT), ==, 0);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_PRG_RESP), ==, 0);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_ID), ==, IOASID_TESTDEV_ID_VALUE);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_COMPLETED), ==, 0);
    wr64(t, IOASID_TESTDEV_SRC, 0x123456789abcdef0ULL);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_SRC), ==, 0x123456789abcdef0ULL);
    qpci_io_writeq(t->dev, t->bar, IOASID_TESTDEV_DST, 0xfedcba9876543210ULL);
    g_assert_cmphex(qpci_io_readq(t->dev, t->bar, IOASID_TESTDEV_DST), ==,
                    0xfedcba9876543210ULL);
    /* PASID is 20 bits; FLAGS keeps only defined bits. */
    wr(t, IOASID_TESTDEV_PASID, 0xffffffff);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_PASID), ==, 0xfffff);
    wr(t, IOASID_TESTDEV_FLAGS, 0xffffffff);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_FLAGS), ==, 0xf);
    /* Bad accesses are ignored (and logged). */
    qpci_io_writeb(t->dev, t->bar, IOASID_TESTDEV_LEN, 0x55);
    qpci_io_writew(t->dev, t->bar, IOASID_TESTDEV_LEN + 2, 0x55);
    qpci_io_writel(t->dev, t->bar, 0x800, 0x55);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_LEN), ==, 0);
    g_assert_cmphex(qpci_io_readb(t->dev, t->bar, IOASID_TESTDEV_ID), ==, 0);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_CMD), ==, 0);
    g_assert_cmphex(rd(t, 0xffc), ==, 0);
    td_stop(t);
}

static void test_caps(void)
{
    TestDev *t = td_start("");
    uint8_t cap;
    uint16_t flags;
    uint32_t pasid, ats, pri;

    /* Standard list: MSI-X at 0x80 -> PCIe at 0x40. */
    g_assert(qpci_config_readw(t->dev, PCI_STATUS) & PCI_STATUS_CAP_LIST);
    cap = qpci_find_capability(t->dev, PCI_CAP_ID_EXP, 0);
    g_assert_cmphex(cap, ==, PCIE_CAP);
    flags = qpci_config_readw(t->dev, cap + PCI_EXP_FLAGS);
    g_assert_cmphex(flags & PCI_EXP_FLAGS_VERS, ==, 2);
    /* On a root bus: a root complex integrated endpoint. */
    g_assert_cmphex((flags & PCI_EXP_FLAGS_TYPE) >> 4, ==, PCI_EXP_TYPE_RC_END);

    cap = qpci_find_capability(t->dev, PCI_CAP_ID_MSIX, 0);
    g_assert_cmphex(cap, ==, MSIX_CAP);
    g_assert_cmphex(qpci_config_readw(t->dev, cap + PCI_MSIX_FLAGS) &
                    PCI_MSIX_FLAGS_QSIZE, ==,
                    IOASID_TESTDEV_MSIX_VECTORS - 1);
    g_assert_cmphex(qpci_config_readl(t->dev, cap + PCI_MSIX_TABLE), ==,
                    IOASID_TESTDEV_BAR_MSIX);
    g_assert_cmphex(qpci_config_readl(t->dev, cap + PCI_MSIX_PBA), ==,
                    0x800 | IOASID_TESTDEV_BAR_MSIX);

    /* Extended list: PASID 0x100 -> ATS 0x108 -> PRI 0x110. */
    g_assert_cmphex(ext_readl(t, 0x100), ==,
                    PCI_EXT_CAP_ID_PASID | 1 << 16 | 0x108 << 20);
    g_assert_cmphex(ext_readl(t, 0x108), ==,
                    PCI_EXT_CAP_ID_ATS | 1 << 16 | 0x110 << 20);
    g_assert_cmphex(ext_readl(t, 0x110), ==, PCI_EXT_CAP_ID_PRI | 1 << 16);
    pasid = ext_find(t, PCI_EXT_CAP_ID_PASID);
    ats = ext_find(t, PCI_EXT_CAP_ID_ATS);
    pri = ext_find(t, PCI_EXT_CAP_ID_PRI);
    g_assert_cmphex(pasid, ==, 0x100);
    g_assert_cmphex(ats, ==, 0x108);
    g_assert_cmphex(pri, ==, 0x110);

    /* PASID: width 20, Exec and Priv supported; control RW bits 2:0. */
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CAP), ==,
                    20 << 8 | PCI_PASID_CAP_EXEC | PCI_PASID_CAP_PRIV);
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CTRL), ==, 0);
    ext_writew(t, pasid + PCI_PASID_CAP, 0);
    ext_writew(t, pasid + PCI_PASID_CTRL, 0xffff);
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CAP), ==,
                    20 << 8 | PCI_PASID_CAP_EXEC | PCI_PASID_CAP_PRIV);
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CTRL), ==, 0x7);
    ext_writew(t, pasid + PCI_PASID_CTRL, 0);
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CTRL), ==, 0);
    /* Headers are read-only. */
    ext_writel(t, pasid, 0);
    g_assert_cmphex(ext_readl(t, pasid), ==,
                    PCI_EXT_CAP_ID_PASID | 1 << 16 | 0x108 << 20);

    /* ATS: page aligned, queue depth 0; control Enable + STU 4:0. */
    g_assert_cmphex(ext_readw(t, ats + PCI_ATS_CAP), ==,
                    PCI_ATS_CAP_PAGE_ALIGNED);
    g_assert_cmphex(ext_readw(t, ats + PCI_ATS_CTRL), ==, 0);
    ext_writew(t, ats + PCI_ATS_CAP, 0xffff);
    ext_writew(t, ats + PCI_ATS_CTRL, 0xffff);
    g_assert_cmphex(ext_readw(t, ats + PCI_ATS_CAP), ==,
                    PCI_ATS_CAP_PAGE_ALIGNED);
    g_assert_cmphex(ext_readw(t, ats + PCI_ATS_CTRL), ==, 0x801f);

    /* PRI: disabled and stopped, PRG responses need a PASID. */
    g_assert_cmphex(ext_readw(t, pri + PCI_PRI_CTRL), ==, 0);
    g_assert_cmphex(ext_readw(t, pri + PCI_PRI_STATUS), ==,
                    PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
    g_assert_cmphex(ext_readl(t, pri + PCI_PRI_MAX_REQ), ==, 32);
    g_assert_cmphex(ext_readl(t, pri + PCI_PRI_ALLOC_REQ), ==, 0);
    ext_writel(t, pri + PCI_PRI_MAX_REQ, 0x1000);
    ext_writel(t, pri + PCI_PRI_ALLOC_REQ, 0x10);
    g_assert_cmphex(ext_readl(t, pri + PCI_PRI_MAX_REQ), ==, 32);
    g_assert_cmphex(ext_readl(t, pri + PCI_PRI_ALLOC_REQ), ==, 0x10);
    /* Enable: no longer stopped; status RO/RW1C bits survive 0xffff. */
    ext_writew(t, pri + PCI_PRI_CTRL, 0xffff & ~PCI_PRI_CTRL_RESET);
    g_assert_cmphex(ext_readw(t, pri + PCI_PRI_CTRL), ==, PCI_PRI_CTRL_ENABLE);
    ext_writew(t, pri + PCI_PRI_STATUS, 0xffff);
    g_assert_cmphex(ext_readw(t, pri + PCI_PRI_STATUS), ==,
                    PCI_PRI_STATUS_PASID);
    /* Disable together with Reset: Reset reads 0, stopped again. */
    ext_writew(t, pri + PCI_PRI_CTRL, PCI_PRI_CTRL_RESET);
    g_assert_cmphex(ext_readw(t, pri + PCI_PRI_CTRL), ==, 0);
    g_assert_cmphex(ext_readw(t, pri + PCI_PRI_STATUS), ==,
                    PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
    td_stop(t);
}

/* Capabilities and FEATURES follow the properties. */
static void test_props(void)
{
    TestDev *t;
    uint32_t pasid;

    t = td_start("pasid=off,ats=off,pri=off");
    td_enable(t);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_FEATURES), ==,
                    IOASID_TESTDEV_FEAT_MSIX);
    g_assert_cmphex(ext_readl(t, EXT_CAP0), ==, 0);
    td_stop(t);

    t = td_start("pasid=off");
    td_enable(t);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_FEATURES), ==,
                    IOASID_TESTDEV_FEAT_ATS | IOASID_TESTDEV_FEAT_PRI |
                    IOASID_TESTDEV_FEAT_MSIX);
    g_assert_cmphex(ext_find(t, PCI_EXT_CAP_ID_PASID), ==, 0);
    g_assert_cmphex(ext_find(t, PCI_EXT_CAP_ID_ATS), ==, 0x100);
    g_assert_cmphex(ext_find(t, PCI_EXT_CAP_ID_PRI), ==, 0x108);
    /* Without PASID, PRG responses carry none. */
    g_assert_cmphex(ext_readw(t, 0x108 + PCI_PRI_STATUS), ==,
                    PCI_PRI_STATUS_STOPPED);
    td_stop(t);

    t = td_start("ats=off,pri=off,msix=off,pasid-width=8,pasid-exec=off,"
                 "pasid-priv=off");
    td_enable(t);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_FEATURES), ==,
                    IOASID_TESTDEV_FEAT_PASID);
    g_assert_cmphex(qpci_find_capability(t->dev, PCI_CAP_ID_MSIX, 0), ==, 0);
    pasid = ext_find(t, PCI_EXT_CAP_ID_PASID);
    g_assert_cmphex(pasid, ==, 0x100);
    g_assert_cmphex(ext_readl(t, pasid), ==, PCI_EXT_CAP_ID_PASID | 1 << 16);
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CAP), ==, 8 << 8);
    /* Exec / Priv enables are read-only when not supported. */
    ext_writew(t, pasid + PCI_PASID_CTRL, 0xffff);
    g_assert_cmphex(ext_readw(t, pasid + PCI_PASID_CTRL), ==,
                    PCI_PASID_CTRL_ENABLE);
    td_stop(t);
}

/* Invalid properties stop QEMU with a message naming the property. */
static void test_bad_props(void)
{
    static const struct {
        const char *props, *msg;
    } bad[] = {
        { "pasid-width=0", "pasid-width" },
        { "pasid-width=21", "pasid-width" },
        { "pri-capacity=0", "pri-capacity" },
    };
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    size_t i;

    g_assert(qemu);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *dev = g_strdup_printf("ioasid-testdev,%s",
                                               bad[i].props);
        const char *bios = is_x86() ? x86_bios_dir() : NULL;
        const char *argv[] = {
            qemu, "-machine", is_x86() ? "q35" : "virt", "-display", "none",
            "-nodefaults", "-device", dev, "-S",
            bios ? "-L" : NULL, bios, NULL,
        };

        ioasid_expect_config_error(argv, bad[i].msg);
    }
}

/* ---- DMA ---- */

static void test_copy(void)
{
    TestDev *t = td_start("");
    const uint32_t len = 3 * 4096 + 123;
    uint64_t src, dst;
    g_autofree uint8_t *data = g_malloc(len);
    g_autofree uint8_t *back = g_malloc(len + 2);

    td_enable(t);
    src = guest_alloc(&t->alloc, len + 4096) + 0x801;   /* unaligned */
    dst = guest_alloc(&t->alloc, len + 4096) + 0x3f3;
    fill_random(data, len);
    qtest_memwrite(t->qts, src, data, len);
    qtest_memset(t->qts, dst - 1, 0xee, len + 2);

    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, src, dst, len, 0), ==,
                     IOASID_TESTDEV_RES_OK);
    qtest_memread(t->qts, dst - 1, back, len + 2);
    g_assert_cmphex(back[0], ==, 0xee);
    g_assert_cmphex(back[len + 1], ==, 0xee);
    g_assert(memcmp(back + 1, data, len) == 0);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==, 0);

    /* One byte, and the largest length. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, dst + 7, src + len, 1,
                         0), ==, IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readb(t->qts, src + len), ==, data[7]);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, t->ram_base + 0x100000,
                         t->ram_base + 0x400000, IOASID_TESTDEV_MAX_LEN, 0),
                     ==, IOASID_TESTDEV_RES_OK);
    td_stop(t);
}

static void test_fill(void)
{
    TestDev *t = td_start("");
    const uint32_t len = 4099;
    const uint32_t pattern = 0xa1b2c3d4;
    uint64_t dst;
    g_autofree uint8_t *back = g_malloc(len + 2);
    uint32_t i;

    td_enable(t);
    dst = guest_alloc(&t->alloc, 3 * 4096) + 0xffd;
    qtest_memset(t->qts, dst - 1, 0x11, len + 2);
    wr(t, IOASID_TESTDEV_PATTERN, pattern);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_FILL, 0, dst, len, 0), ==,
                     IOASID_TESTDEV_RES_OK);
    qtest_memread(t->qts, dst - 1, back, len + 2);
    g_assert_cmphex(back[0], ==, 0x11);
    g_assert_cmphex(back[len + 1], ==, 0x11);
    for (i = 0; i < len; i++) {
        g_assert_cmphex(back[i + 1], ==, (uint8_t)(pattern >> (8 * (i % 4))));
    }
    td_stop(t);
}

static void test_compare(void)
{
    TestDev *t = td_start("");
    const uint32_t len = 2 * 4096 + 1000;
    g_autofree uint8_t *data = g_malloc(len);
    uint64_t a, b;

    td_enable(t);
    a = guest_alloc(&t->alloc, len + 4096) + 0x10;
    b = guest_alloc(&t->alloc, len + 4096) + 0x777;
    fill_random(data, len);
    qtest_memwrite(t->qts, a, data, len);
    qtest_memwrite(t->qts, b, data, len);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, a, b, len, 0), ==,
                     IOASID_TESTDEV_RES_OK);

    qtest_writeb(t->qts, b + 5000, data[5000] ^ 0x40);
    qtest_writeb(t->qts, b + 6000, data[6000] ^ 0x40);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, a, b, len, 0), ==,
                     IOASID_TESTDEV_RES_MISMATCH);
    g_assert_cmpuint(rd(t, IOASID_TESTDEV_MISMATCH), ==, 5000);
    /* Mismatch in the very first and very last byte. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, a + 5000, b + 5000,
                         1, 0), ==, IOASID_TESTDEV_RES_MISMATCH);
    g_assert_cmpuint(rd(t, IOASID_TESTDEV_MISMATCH), ==, 0);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, a, b, 5001, 0), ==,
                     IOASID_TESTDEV_RES_MISMATCH);
    g_assert_cmpuint(rd(t, IOASID_TESTDEV_MISMATCH), ==, 5000);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, a, b, 5000, 0), ==,
                     IOASID_TESTDEV_RES_OK);
    g_assert_cmpuint(rd(t, IOASID_TESTDEV_MISMATCH), ==, 0);
    td_stop(t);
}

/* Commands, lengths, PASIDs, ATS that must be refused. */
static void test_errors(void)
{
    TestDev *t = td_start("");
    uint32_t pasid = ext_find(t, PCI_EXT_CAP_ID_PASID);
    uint32_t ats = ext_find(t, PCI_EXT_CAP_ID_ATS);
    uint64_t buf;

    td_enable(t);
    buf = guest_alloc(&t->alloc, 8192);
    g_assert_cmpuint(run(t, 0, buf, buf + 4096, 16, 0), ==,
                     IOASID_TESTDEV_RES_BAD_CMD);
    g_assert_cmpuint(run(t, 99, buf, buf + 4096, 16, 0), ==,
                     IOASID_TESTDEV_RES_BAD_CMD);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 0, 0),
                     ==, IOASID_TESTDEV_RES_BAD_LEN);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_FILL, buf, buf + 4096,
                         IOASID_TESTDEV_MAX_LEN + 1, 0), ==,
                     IOASID_TESTDEV_RES_BAD_LEN);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, buf, buf + 4096,
                         0xffffffff, 0), ==, IOASID_TESTDEV_RES_BAD_LEN);

    /* PASID, PRIV, EXEC with the PASID capability disabled. */
    wr(t, IOASID_TESTDEV_PASID, 5);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_BAD_PASID);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PRIV), ==,
                     IOASID_TESTDEV_RES_BAD_PASID);
    /* Enabled: no IOMMU handles PASIDs, so Unsupported Request. */
    ext_writew(t, pasid + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_FILL, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    /* PRIV / EXEC need their enables and a PASID. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID | IOASID_TESTDEV_F_PRIV), ==,
                     IOASID_TESTDEV_RES_BAD_PASID);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID | IOASID_TESTDEV_F_EXEC), ==,
                     IOASID_TESTDEV_RES_BAD_PASID);
    ext_writew(t, pasid + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE |
               PCI_PASID_CTRL_PRIV | PCI_PASID_CTRL_EXEC);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PRIV | IOASID_TESTDEV_F_EXEC), ==,
                     IOASID_TESTDEV_RES_BAD_PASID);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID | IOASID_TESTDEV_F_PRIV |
                         IOASID_TESTDEV_F_EXEC), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    /* Largest 20-bit PASID is fine (then unsupported). */
    wr(t, IOASID_TESTDEV_PASID, 0xfffff);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    /* Without a PASID the same DMA works. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16, 0),
                     ==, IOASID_TESTDEV_RES_OK);

    /* ATS translation request: disabled, then no IOMMU to answer it. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_ATS, buf, 0, 4096, 0), ==,
                     IOASID_TESTDEV_RES_ATS_DISABLED);
    ext_writew(t, ats + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_ATS, buf, 0, 4096, 0), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_ATS_RESULT), ==, 0);
    td_stop(t);

    /* PASID beyond the advertised width. */
    t = td_start("pasid-width=8");
    td_enable(t);
    buf = guest_alloc(&t->alloc, 8192);
    ext_writew(t, EXT_CAP0 + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    wr(t, IOASID_TESTDEV_PASID, 0x100);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_BAD_PASID);
    wr(t, IOASID_TESTDEV_PASID, 0xff);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    td_stop(t);
}

/* DMA to / from addresses with no memory: fault with the exact address. */
static void test_faults(void)
{
    TestDev *t = td_start("");
    uint64_t ram_end = t->ram_base + RAM_SIZE;
    uint64_t buf;
    uint8_t back[0x800];
    size_t i;

    td_enable(t);
    buf = guest_alloc(&t->alloc, 8192);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, NO_MEMORY + 0x123, buf,
                         64, 0), ==, IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==,
                    NO_MEMORY + 0x123);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COMPARE, buf, NO_MEMORY,
                         64, 0), ==, IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==, NO_MEMORY);

    /* A FILL running off the end of RAM writes up to it, faults there. */
    wr(t, IOASID_TESTDEV_PATTERN, 0x5a5a5a5a);
    qtest_memset(t->qts, ram_end - 0x800, 0, 0x800);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_FILL, 0, ram_end - 0x800,
                         0x3000, 0), ==, IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==, ram_end);
    qtest_memread(t->qts, ram_end - 0x800, back, sizeof(back));
    for (i = 0; i < sizeof(back); i++) {
        g_assert_cmphex(back[i], ==, 0x5a);
    }
    /* A COPY reading past the end: source fault at the end of RAM. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, ram_end - 0x1800, buf,
                         0x2000, 0), ==, IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==, ram_end);
    /* The next good operation clears FAULT_ADDR. */
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 64, 0),
                     ==, IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==, 0);

    /*
     * DMA at the device's own registers (a FILL of CMD would start
     * commands from inside a command): refused, the operation faults.
     */
    wr(t, IOASID_TESTDEV_PATTERN, IOASID_TESTDEV_CMD_FILL);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_FILL, 0,
                         t->bar.addr + IOASID_TESTDEV_CMD, 4, 0), ==,
                     IOASID_TESTDEV_RES_DST_FAULT);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==,
                    t->bar.addr + IOASID_TESTDEV_CMD);

    /* Bus mastering off: the DMA faults (and does not hang). */
    qpci_config_writew(t->dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 64, 0),
                     ==, IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_cmphex(rd64(t, IOASID_TESTDEV_FAULT_ADDR), ==, buf);
    td_stop(t);
}

/* ---- interrupts ---- */

static bool intx_asserted(TestDev *t)
{
    return qpci_config_readw(t->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

static void test_intx(void)
{
    TestDev *t = td_start("");
    uint64_t buf;

    td_enable(t);
    buf = guest_alloc(&t->alloc, 8192);
    /* No F_IRQ: no interrupt. */
    run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16, 0);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_IRQ_STATUS), ==, 0);
    g_assert_false(intx_asserted(t));
    /* F_IRQ, even for a failed operation. */
    run(t, 42, buf, buf + 4096, 16, IOASID_TESTDEV_F_IRQ);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_IRQ_STATUS), ==, 1);
    g_assert_true(intx_asserted(t));
    /* Writing 0 changes nothing; writing 1 clears. */
    wr(t, IOASID_TESTDEV_IRQ_STATUS, 0);
    g_assert_true(intx_asserted(t));
    wr(t, IOASID_TESTDEV_IRQ_STATUS, 1);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_IRQ_STATUS), ==, 0);
    g_assert_false(intx_asserted(t));
    td_stop(t);
}

static void test_msix(void)
{
    TestDev *t = td_start("");
    uint64_t buf, msg;
    uint32_t entry;

    td_enable(t);
    buf = guest_alloc(&t->alloc, 8192);
    msg = guest_alloc(&t->alloc, 64);
    qtest_writel(t->qts, msg, 0);

    qpci_msix_enable(t->dev);
    g_assert_cmpuint(qpci_msix_table_size(t->dev), ==,
                     IOASID_TESTDEV_MSIX_VECTORS);
    entry = t->dev->msix_table_off +
            IOASID_TESTDEV_VEC_DONE * PCI_MSIX_ENTRY_SIZE;
    /* Vector 0 masked: the interrupt stays pending. */
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_LOWER_ADDR, msg);
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_UPPER_ADDR, msg >> 32);
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_DATA, 0xcafe0001);
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_IRQ), ==, IOASID_TESTDEV_RES_OK);
    g_assert_true(qpci_msix_pending(t->dev, IOASID_TESTDEV_VEC_DONE));
    g_assert_cmphex(qtest_readl(t->qts, msg), ==, 0);
    /* Unmasking delivers it. */
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    g_assert_cmphex(qtest_readl(t->qts, msg), ==, 0xcafe0001);
    g_assert_false(qpci_msix_pending(t->dev, IOASID_TESTDEV_VEC_DONE));

    /* Unmasked: the message is written at completion; INTx stays low. */
    qtest_writel(t->qts, msg, 0);
    wr(t, IOASID_TESTDEV_IRQ_STATUS, 1);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_FILL, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_IRQ), ==, IOASID_TESTDEV_RES_OK);
    g_assert_cmphex(qtest_readl(t->qts, msg), ==, 0xcafe0001);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_IRQ_STATUS), ==, 1);
    g_assert_false(intx_asserted(t));
    /* MSI-X off with IRQ_STATUS set: falls back to INTx. */
    qpci_msix_disable(t->dev);
    g_assert_true(intx_asserted(t));
    wr(t, IOASID_TESTDEV_IRQ_STATUS, 1);
    g_assert_false(intx_asserted(t));
    td_stop(t);
}

/* ---- robustness ---- */

/* A DMA address: in a RAM window, at the end of RAM, or at no memory. */
static uint64_t random_dma_addr(TestDev *t, uint64_t window)
{
    switch (g_test_rand_int_range(0, 4)) {
    case 0:
        return t->ram_base + RAM_SIZE - g_test_rand_int_range(1, 0x3000);
    case 1:
        return NO_MEMORY + g_test_rand_int_range(0, 0x3000);
    default:
        return window + g_test_rand_int_range(0, 0x20000);
    }
}

/*
 * Random register and capability writes, of random sizes, and random
 * commands: every command completes and QEMU survives.
 */
static void test_random(void)
{
    static const uint32_t rw_regs[] = {
        IOASID_TESTDEV_LEN, IOASID_TESTDEV_FLAGS, IOASID_TESTDEV_PASID,
        IOASID_TESTDEV_PATTERN, IOASID_TESTDEV_IRQ_STATUS,
    };
    /* PASID, ATS, PRI control registers (all capabilities present) */
    static const uint32_t ctrl_regs[] = {
        0x100 + PCI_PASID_CTRL, 0x108 + PCI_ATS_CTRL, 0x110 + PCI_PRI_CTRL,
    };
    TestDev *t = td_start("pasid-width=12");
    uint64_t window;
    int i;

    td_enable(t);
    window = guest_alloc(&t->alloc, 0x40000);
    for (i = 0; i < 3000; i++) {
        uint32_t off = g_test_rand_int_range(0, IOASID_TESTDEV_REGS_SIZE);
        uint32_t val = g_test_rand_int();

        switch (g_test_rand_int_range(0, 8)) {
        case 0: /* any offset, any size (mostly refused) */
            switch (g_test_rand_int_range(0, 4)) {
            case 0:
                qpci_io_writeb(t->dev, t->bar, off, val);
                break;
            case 1:
                qpci_io_writew(t->dev, t->bar, off & ~1, val);
                break;
            case 2:
                if ((off & ~3) != IOASID_TESTDEV_CMD) {
                    qpci_io_writel(t->dev, t->bar, off & ~3, val);
                }
                break;
            default:
                qpci_io_readq(t->dev, t->bar, off & ~7);
                break;
            }
            break;
        case 1: /* PASID / ATS / PRI control, PRI status and allocation */
            ext_writew(t, ctrl_regs[g_test_rand_int_range(0, 3)], val);
            ext_writew(t, 0x110 + PCI_PRI_STATUS, val >> 16);
            ext_writel(t, 0x110 + PCI_PRI_ALLOC_REQ, val);
            break;
        case 2:
        case 3:
            wr(t, rw_regs[g_test_rand_int_range(0, ARRAY_SIZE(rw_regs))],
               val);
            break;
        default: {
            uint32_t len = g_test_rand_int_range(0, 0x5000);

            if (!g_test_rand_int_range(0, 16)) {
                len = IOASID_TESTDEV_MAX_LEN + g_test_rand_int_range(0, 2);
            }
            wr64(t, IOASID_TESTDEV_SRC, random_dma_addr(t, window));
            wr64(t, IOASID_TESTDEV_DST, random_dma_addr(t, window));
            wr(t, IOASID_TESTDEV_LEN, len);
            wr(t, IOASID_TESTDEV_CMD, g_test_rand_int_range(0, 7));
            g_assert_cmphex(rd(t, IOASID_TESTDEV_STATUS) &
                            (IOASID_TESTDEV_ST_DONE | IOASID_TESTDEV_ST_BUSY),
                            ==, IOASID_TESTDEV_ST_DONE);
            g_assert_cmpuint(rd(t, IOASID_TESTDEV_STATUS) &
                             IOASID_TESTDEV_ST_CODE_MASK, <=,
                             IOASID_TESTDEV_RES_ATS_DISABLED);
            break;
        }
        }
    }
    /* Still a working device. */
    g_assert_cmphex(rd(t, IOASID_TESTDEV_ID), ==, IOASID_TESTDEV_ID_VALUE);
    wr(t, IOASID_TESTDEV_IRQ_STATUS, 1);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, window, window + 0x8000,
                         0x1000, 0), ==, IOASID_TESTDEV_RES_OK);
    td_stop(t);
}

/* ---- migration ---- */

static void wait_migration(QTestState *qts)
{
    for (;;) {
        QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *st = ret && qdict_haskey(ret, "status") ?
                         qdict_get_str(ret, "status") : "";
        bool done = !strcmp(st, "completed");

        g_assert_cmpstr(st, !=, "failed");
        qobject_unref(rsp);
        if (done) {
            return;
        }
        g_usleep(10 * 1000);
    }
}

/* Registers, capabilities and the interrupt line survive migration. */
static void test_migrate(void)
{
    g_autofree char *dir = g_dir_make_tmp("ioasid-testdev-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "state", NULL);
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *dev = g_strdup_printf("-device ioasid-testdev,addr=%02x.0",
                                           TESTDEV_SLOT);
    g_autofree char *dst_args = g_strdup_printf("%s -incoming defer", dev);
    TestDev *src = td_start_at(0, TESTDEV_SLOT, dev);
    TestDev *dst;
    uint64_t buf;
    QDict *rsp;

    td_enable(src);
    buf = guest_alloc(&src->alloc, 8192);
    qtest_memset(src->qts, buf, 0x3c, 64);
    ext_writew(src, EXT_CAP0 + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    ext_writel(src, 0x110 + PCI_PRI_ALLOC_REQ, 7);
    wr(src, IOASID_TESTDEV_PATTERN, 0x01020304);
    wr(src, IOASID_TESTDEV_PASID, 0x4321);
    g_assert_cmpuint(run(src, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 64,
                         IOASID_TESTDEV_F_IRQ), ==, IOASID_TESTDEV_RES_OK);
    g_assert_cmpuint(run(src, IOASID_TESTDEV_CMD_COPY, NO_MEMORY, buf, 64, 0),
                     ==, IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_true(intx_asserted(src));

    rsp = qtest_qmp(src->qts, "{ 'execute': 'migrate', "
                    "'arguments': { 'uri': %s } }", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    wait_migration(src->qts);

    dst = td_start_at(0, TESTDEV_SLOT, dst_args);
    rsp = qtest_qmp(dst->qts, "{ 'execute': 'migrate-incoming', "
                    "'arguments': { 'uri': %s } }", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    wait_migration(dst->qts);
    dst->bar = src->bar;

    g_assert_cmphex(rd(dst, IOASID_TESTDEV_STATUS), ==,
                    IOASID_TESTDEV_ST_DONE | IOASID_TESTDEV_RES_SRC_FAULT);
    g_assert_cmphex(rd64(dst, IOASID_TESTDEV_FAULT_ADDR), ==, NO_MEMORY);
    g_assert_cmpuint(rd(dst, IOASID_TESTDEV_COMPLETED), ==, 2);
    g_assert_cmphex(rd(dst, IOASID_TESTDEV_PATTERN), ==, 0x01020304);
    g_assert_cmphex(rd(dst, IOASID_TESTDEV_PASID), ==, 0x4321);
    g_assert_cmphex(rd(dst, IOASID_TESTDEV_IRQ_STATUS), ==, 1);
    g_assert_true(intx_asserted(dst));
    g_assert_cmphex(ext_readw(dst, EXT_CAP0 + PCI_PASID_CTRL), ==,
                    PCI_PASID_CTRL_ENABLE);
    g_assert_cmphex(ext_readl(dst, 0x110 + PCI_PRI_ALLOC_REQ), ==, 7);
    /* Guest memory came along; the device still works. */
    g_assert_cmpuint(run(dst, IOASID_TESTDEV_CMD_COMPARE, buf, buf + 4096,
                         64, 0), ==, IOASID_TESTDEV_RES_OK);
    wr(dst, IOASID_TESTDEV_IRQ_STATUS, 1);
    g_assert_false(intx_asserted(dst));

    td_stop(dst);
    td_stop(src);
    unlink(file);
    rmdir(dir);
}

/* ---- topologies and QEMU's own IOMMUs ---- */

static void copy_check(TestDev *t)
{
    const uint32_t len = 2 * 4096 + 17;
    g_autofree uint8_t *data = g_malloc(len);
    g_autofree uint8_t *back = g_malloc(len);
    uint64_t src, dst;

    src = guest_alloc(&t->alloc, len) + 3;
    dst = guest_alloc(&t->alloc, len);
    fill_random(data, len);
    qtest_memwrite(t->qts, src, data, len - 3);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, src, dst, len - 3, 0),
                     ==, IOASID_TESTDEV_RES_OK);
    qtest_memread(t->qts, dst, back, len - 3);
    g_assert(memcmp(back, data, len - 3) == 0);
}

/* Behind a PCIe root port: a plain endpoint, DMA works. */
static void test_root_port(void)
{
    TestDev *t = td_start_at(1, 0,
                             "-device pcie-root-port,id=rp0,chassis=1,"
                             "addr=05.0 -device ioasid-testdev,bus=rp0");
    QPCIDevice *rp = qpci_device_find(t->bus, QPCI_DEVFN(5, 0));
    uint16_t flags;

    g_assert(rp);
    flags = qpci_config_readw(t->dev, PCIE_CAP + PCI_EXP_FLAGS);
    g_assert_cmphex((flags & PCI_EXP_FLAGS_TYPE) >> 4, ==,
                    PCI_EXP_TYPE_ENDPOINT);
    g_assert_cmphex(ext_find(t, PCI_EXT_CAP_ID_PRI), ==, 0x110);
    /* Forward the whole libqos MMIO window through the port. */
    qpci_config_writew(rp, PCI_MEMORY_BASE,
                       (t->bus->mmio_alloc_ptr >> 16) & 0xfff0);
    qpci_config_writew(rp, PCI_MEMORY_LIMIT,
                       ((t->bus->mmio_limit - 1) >> 16) & 0xfff0);
    qpci_config_writew(rp, PCI_PREF_MEMORY_BASE, 0xfff0);
    qpci_config_writew(rp, PCI_PREF_MEMORY_LIMIT, 0);
    qpci_device_enable(rp);
    td_enable(t);
    g_assert_cmphex(rd(t, IOASID_TESTDEV_ID), ==, IOASID_TESTDEV_ID_VALUE);
    copy_check(t);
    g_free(rp);
    td_stop(t);
}

/* Behind QEMU's intel-iommu (q35) / arm-smmuv3 (virt), translation off. */
static void test_qemu_iommu(void)
{
    TestDev *t;
    uint64_t buf;

    if (is_x86()) {
        t = td_start_at(0, TESTDEV_SLOT,
                        "-device intel-iommu "
                        "-device ioasid-testdev,addr=04.0");
    } else {
        t = td_start_at(0, TESTDEV_SLOT,
                        "-machine iommu=smmuv3 "
                        "-device ioasid-testdev,addr=04.0");
    }
    td_enable(t);
    copy_check(t);
    /* QEMU's IOMMUs carry no PASID: such DMA is unsupported. */
    buf = guest_alloc(&t->alloc, 8192);
    ext_writew(t, EXT_CAP0 + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    g_assert_cmpuint(run(t, IOASID_TESTDEV_CMD_COPY, buf, buf + 4096, 16,
                         IOASID_TESTDEV_F_PASID), ==,
                     IOASID_TESTDEV_RES_UNSUPPORTED);
    td_stop(t);
}

/* virtio-iommu in front (no domain attached yet: bypass by default). */
static void test_virtio_iommu(void)
{
    TestDev *t = td_start_at(0, TESTDEV_SLOT,
                             "-device virtio-iommu-pci,addr=03.0 "
                             "-device ioasid-testdev,addr=04.0");

    td_enable(t);
    copy_check(t);
    td_stop(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/ioasid-testdev/ids", test_ids);
    qtest_add_func("/ioasid-testdev/caps", test_caps);
    qtest_add_func("/ioasid-testdev/props", test_props);
    qtest_add_func("/ioasid-testdev/bad-props", test_bad_props);
    qtest_add_func("/ioasid-testdev/copy", test_copy);
    qtest_add_func("/ioasid-testdev/fill", test_fill);
    qtest_add_func("/ioasid-testdev/compare", test_compare);
    qtest_add_func("/ioasid-testdev/errors", test_errors);
    qtest_add_func("/ioasid-testdev/faults", test_faults);
    qtest_add_func("/ioasid-testdev/intx", test_intx);
    qtest_add_func("/ioasid-testdev/msix", test_msix);
    qtest_add_func("/ioasid-testdev/random", test_random);
    qtest_add_func("/ioasid-testdev/migrate", test_migrate);
    qtest_add_func("/ioasid-testdev/root-port", test_root_port);
    qtest_add_func("/ioasid-testdev/qemu-iommu", test_qemu_iommu);
    qtest_add_func("/ioasid-testdev/virtio-iommu", test_virtio_iommu);

    return g_test_run();
}
