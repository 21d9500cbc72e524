/*
 * ioasid-testdev: a PCIe DMA engine for testing IOMMUs with PASIDs.
 *
 * The guest programs SRC / DST / LEN / FLAGS / PASID / PATTERN and writes
 * CMD; the device performs COPY, FILL or COMPARE at once (synchronously,
 * so a faulting DMA cannot hang), reports the result in STATUS and, when
 * asked, raises MSI-X vector 0 (or INTx).  DMA goes through
 * ioasid_pci_dma_rw(), so it is translated by our IOMMU models with
 * (RID, PASID), or by QEMU's usual path without a PASID.
 *
 * Register contract: hw/ioasid/ioasid-testdev-regs.h.
 * Documentation: docs/system/devices/ioasid-testdev.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/ioasid/ioasid-pci.h"
#include "hw/ioasid/ioasid-testdev-regs.h"
#include "trace.h"

#define TYPE_IOASID_TESTDEV "ioasid-testdev"
OBJECT_DECLARE_SIMPLE_TYPE(IoasidTestdevState, IOASID_TESTDEV)

/* BAR0 registers; each checked against the contract header below. */
REG32(ID, 0x000)
REG32(FEATURES, 0x004)
REG32(SRC_LO, 0x008)
REG32(SRC_HI, 0x00c)
REG32(DST_LO, 0x010)
REG32(DST_HI, 0x014)
REG32(LEN, 0x018)
REG32(FLAGS, 0x01c)
    FIELD(FLAGS, PASID, 0, 1)
    FIELD(FLAGS, PRIV, 1, 1)
    FIELD(FLAGS, EXEC, 2, 1)
    FIELD(FLAGS, IRQ, 3, 1)
REG32(PASID, 0x020)
    FIELD(PASID, PASID, 0, 20)
REG32(PATTERN, 0x024)
REG32(CMD, 0x028)
REG32(STATUS, 0x02c)
    FIELD(STATUS, CODE, 0, 8)
    FIELD(STATUS, DONE, 30, 1)
    FIELD(STATUS, BUSY, 31, 1)
REG32(FAULT_ADDR_LO, 0x030)
REG32(FAULT_ADDR_HI, 0x034)
REG32(MISMATCH, 0x038)
REG32(COMPLETED, 0x03c)
REG32(IRQ_STATUS, 0x040)
    FIELD(IRQ_STATUS, DONE, 0, 1)
    FIELD(IRQ_STATUS, PRG, 1, 1)
REG32(ATS_RESULT_LO, 0x048)
REG32(ATS_RESULT_HI, 0x04c)
REG32(INV_COUNT, 0x050)
REG32(INV_PASID, 0x054)
REG32(INV_ADDR_LO, 0x058)
REG32(INV_ADDR_HI, 0x05c)
REG32(INV_SIZE_LO, 0x060)
REG32(INV_SIZE_HI, 0x064)
REG32(PRG_COUNT, 0x068)
REG32(PRG_RESP, 0x06c)
    FIELD(PRG_RESP, INDEX, 0, 9)
    FIELD(PRG_RESP, CODE, 12, 4)
REG32(PRG_PASID, 0x070)

QEMU_BUILD_BUG_ON(A_SRC_LO != IOASID_TESTDEV_SRC);
QEMU_BUILD_BUG_ON(A_DST_LO != IOASID_TESTDEV_DST);
QEMU_BUILD_BUG_ON(A_LEN != IOASID_TESTDEV_LEN);
QEMU_BUILD_BUG_ON(A_FLAGS != IOASID_TESTDEV_FLAGS);
QEMU_BUILD_BUG_ON(A_PASID != IOASID_TESTDEV_PASID);
QEMU_BUILD_BUG_ON(A_PATTERN != IOASID_TESTDEV_PATTERN);
QEMU_BUILD_BUG_ON(A_CMD != IOASID_TESTDEV_CMD);
QEMU_BUILD_BUG_ON(A_STATUS != IOASID_TESTDEV_STATUS);
QEMU_BUILD_BUG_ON(A_FAULT_ADDR_LO != IOASID_TESTDEV_FAULT_ADDR);
QEMU_BUILD_BUG_ON(A_MISMATCH != IOASID_TESTDEV_MISMATCH);
QEMU_BUILD_BUG_ON(A_COMPLETED != IOASID_TESTDEV_COMPLETED);
QEMU_BUILD_BUG_ON(A_IRQ_STATUS != IOASID_TESTDEV_IRQ_STATUS);
QEMU_BUILD_BUG_ON(A_ATS_RESULT_LO != IOASID_TESTDEV_ATS_RESULT);
QEMU_BUILD_BUG_ON(A_INV_COUNT != IOASID_TESTDEV_INV_COUNT);
QEMU_BUILD_BUG_ON(A_INV_PASID != IOASID_TESTDEV_INV_PASID);
QEMU_BUILD_BUG_ON(A_INV_ADDR_LO != IOASID_TESTDEV_INV_ADDR);
QEMU_BUILD_BUG_ON(A_INV_SIZE_LO != IOASID_TESTDEV_INV_SIZE);
QEMU_BUILD_BUG_ON(A_PRG_COUNT != IOASID_TESTDEV_PRG_COUNT);
QEMU_BUILD_BUG_ON(A_PRG_RESP != IOASID_TESTDEV_PRG_RESP);
QEMU_BUILD_BUG_ON(A_PRG_PASID != IOASID_TESTDEV_PRG_PASID);
QEMU_BUILD_BUG_ON(R_IRQ_STATUS_DONE_MASK != IOASID_TESTDEV_IRQ_DONE);
QEMU_BUILD_BUG_ON(R_IRQ_STATUS_PRG_MASK != IOASID_TESTDEV_IRQ_PRG);
QEMU_BUILD_BUG_ON(R_PRG_RESP_INDEX_MASK != IOASID_TESTDEV_PRG_INDEX_MASK);
QEMU_BUILD_BUG_ON(R_PRG_RESP_CODE_SHIFT != IOASID_TESTDEV_PRG_CODE_SHIFT);
QEMU_BUILD_BUG_ON(R_FLAGS_PASID_MASK != IOASID_TESTDEV_F_PASID);
QEMU_BUILD_BUG_ON(R_FLAGS_PRIV_MASK != IOASID_TESTDEV_F_PRIV);
QEMU_BUILD_BUG_ON(R_FLAGS_EXEC_MASK != IOASID_TESTDEV_F_EXEC);
QEMU_BUILD_BUG_ON(R_FLAGS_IRQ_MASK != IOASID_TESTDEV_F_IRQ);
QEMU_BUILD_BUG_ON(R_STATUS_DONE_MASK != IOASID_TESTDEV_ST_DONE);
QEMU_BUILD_BUG_ON(R_STATUS_BUSY_MASK != IOASID_TESTDEV_ST_BUSY);
QEMU_BUILD_BUG_ON(R_STATUS_CODE_MASK != IOASID_TESTDEV_ST_CODE_MASK);

#define FLAGS_VALID     (R_FLAGS_PASID_MASK | R_FLAGS_PRIV_MASK | \
                         R_FLAGS_EXEC_MASK | R_FLAGS_IRQ_MASK)

/* Configuration space layout (fixed, see the documentation). */
#define TESTDEV_PCIE_CAP_OFFSET     IOASID_TESTDEV_CFG_PCIE_CAP
#define TESTDEV_MSIX_CAP_OFFSET     IOASID_TESTDEV_CFG_MSIX_CAP
#define TESTDEV_EXT_CAP_OFFSET      IOASID_TESTDEV_CFG_EXT_CAP
#define TESTDEV_MSIX_BAR_SIZE       0x1000
#define TESTDEV_MSIX_PBA_OFFSET     IOASID_TESTDEV_MSIX_PBA_OFFSET

/* DMA is done through this bounce buffer, one page (or less) at a time. */
#define TESTDEV_CHUNK               4096

struct IoasidTestdevState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    MemoryRegion msix_bar;

    /* Properties */
    bool pasid_on;
    uint8_t pasid_width;
    bool pasid_exec;
    bool pasid_priv;
    bool ats_on;
    bool pri_on;
    uint32_t pri_capacity;
    bool msix_on;

    /* Extended capability offsets, 0 when absent */
    uint16_t pasid_cap;
    uint16_t pri_cap;

    /* Registers */
    uint64_t src;
    uint64_t dst;
    uint32_t len;
    uint32_t flags;
    uint32_t pasid;
    uint32_t pattern;
    uint32_t status;
    uint64_t fault_addr;
    uint32_t mismatch;
    uint32_t completed;
    uint32_t irq_status;
    uint64_t ats_result;
    uint32_t inv_count;
    uint32_t inv_pasid;
    uint64_t inv_addr;
    uint64_t inv_size;
    uint32_t prg_count;
    uint32_t prg_resp;
    uint32_t prg_pasid;

    uint8_t buf[2][TESTDEV_CHUNK];
};

static bool testdev_msix_enabled(IoasidTestdevState *s)
{
    return msix_enabled(PCI_DEVICE(s));
}

/* INTx is asserted while IRQ_STATUS is non-zero and MSI-X is off. */
static void testdev_update_intx(IoasidTestdevState *s)
{
    pci_set_irq(PCI_DEVICE(s), s->irq_status && !testdev_msix_enabled(s));
}

/* Set @bit in IRQ_STATUS and signal MSI-X @vector, or INTx. */
static void testdev_raise_irq(IoasidTestdevState *s, uint32_t bit,
                              unsigned vector)
{
    bool msix = testdev_msix_enabled(s);

    trace_ioasid_testdev_irq(vector, msix);
    s->irq_status |= bit;
    if (msix) {
        msix_notify(PCI_DEVICE(s), vector);
    }
    testdev_update_intx(s);
}

static uint32_t testdev_features(IoasidTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t f = 0;

    if (s->pasid_cap) {
        f |= IOASID_TESTDEV_FEAT_PASID;
    }
    if (pdev->exp.ats_cap) {
        f |= IOASID_TESTDEV_FEAT_ATS;
    }
    if (s->pri_cap) {
        f |= IOASID_TESTDEV_FEAT_PRI;
    }
    if (msix_present(pdev)) {
        f |= IOASID_TESTDEV_FEAT_MSIX;
    }
    return f;
}

/*
 * PASID, PRIV and EXEC need the PASID capability with the matching
 * control bits set, and a PASID within the advertised width.
 */
static bool testdev_pasid_ok(IoasidTestdevState *s)
{
    uint16_t ctrl;

    if (!(s->flags & (R_FLAGS_PASID_MASK | R_FLAGS_PRIV_MASK |
                      R_FLAGS_EXEC_MASK))) {
        return true;
    }
    if (!s->pasid_cap || !(s->flags & R_FLAGS_PASID_MASK)) {
        return false;
    }
    ctrl = ioasid_pcie_pasid_ctrl(PCI_DEVICE(s), s->pasid_cap);
    if (!(ctrl & PCI_PASID_CTRL_ENABLE)) {
        return false;
    }
    if ((s->flags & R_FLAGS_PRIV_MASK) && !(ctrl & PCI_PASID_CTRL_PRIV)) {
        return false;
    }
    if ((s->flags & R_FLAGS_EXEC_MASK) && !(ctrl & PCI_PASID_CTRL_EXEC)) {
        return false;
    }
    return s->pasid < (1u << s->pasid_width);
}

/* One DMA of at most a chunk; maps the API status to a result code. */
static uint32_t testdev_dma(IoasidTestdevState *s, uint64_t addr, void *buf,
                            uint32_t len, DMADirection dir, bool exec,
                            uint32_t fault_code)
{
    bool with_pasid = s->flags & R_FLAGS_PASID_MASK;
    dma_addr_t fault = addr;

    switch (ioasid_pci_dma_rw(PCI_DEVICE(s),
                              with_pasid ? s->pasid : IOASID_PCI_NO_PASID,
                              s->flags & R_FLAGS_PRIV_MASK, exec, addr, buf,
                              len, dir, &fault)) {
    case IOASID_DMA_OK:
        return IOASID_TESTDEV_RES_OK;
    case IOASID_DMA_UNSUPPORTED:
        return IOASID_TESTDEV_RES_UNSUPPORTED;
    case IOASID_DMA_FAULT:
    default:
        s->fault_addr = fault;
        return fault_code;
    }
}

static uint32_t testdev_read_src(IoasidTestdevState *s, uint64_t off,
                                 uint32_t n)
{
    return testdev_dma(s, s->src + off, s->buf[0], n,
                       DMA_DIRECTION_TO_DEVICE,
                       s->flags & R_FLAGS_EXEC_MASK,
                       IOASID_TESTDEV_RES_SRC_FAULT);
}

static uint32_t testdev_copy(IoasidTestdevState *s)
{
    uint32_t off, n, res;

    for (off = 0; off < s->len; off += n) {
        n = MIN(TESTDEV_CHUNK, s->len - off);
        res = testdev_read_src(s, off, n);
        if (res == IOASID_TESTDEV_RES_OK) {
            res = testdev_dma(s, s->dst + off, s->buf[0], n,
                              DMA_DIRECTION_FROM_DEVICE, false,
                              IOASID_TESTDEV_RES_DST_FAULT);
        }
        if (res != IOASID_TESTDEV_RES_OK) {
            return res;
        }
    }
    return IOASID_TESTDEV_RES_OK;
}

/* Byte i of the destination is byte (i % 4) of PATTERN, little-endian. */
static uint32_t testdev_fill(IoasidTestdevState *s)
{
    uint32_t off, n, res, i;

    for (i = 0; i < TESTDEV_CHUNK; i++) {
        s->buf[0][i] = s->pattern >> (8 * (i & 3));
    }
    for (off = 0; off < s->len; off += n) {
        n = MIN(TESTDEV_CHUNK, s->len - off);
        res = testdev_dma(s, s->dst + off, s->buf[0], n,
                          DMA_DIRECTION_FROM_DEVICE, false,
                          IOASID_TESTDEV_RES_DST_FAULT);
        if (res != IOASID_TESTDEV_RES_OK) {
            return res;
        }
    }
    return IOASID_TESTDEV_RES_OK;
}

static uint32_t testdev_compare(IoasidTestdevState *s)
{
    uint32_t off, n, res, i;

    for (off = 0; off < s->len; off += n) {
        n = MIN(TESTDEV_CHUNK, s->len - off);
        res = testdev_read_src(s, off, n);
        if (res == IOASID_TESTDEV_RES_OK) {
            res = testdev_dma(s, s->dst + off, s->buf[1], n,
                              DMA_DIRECTION_TO_DEVICE, false,
                              IOASID_TESTDEV_RES_DST_FAULT);
        }
        if (res != IOASID_TESTDEV_RES_OK) {
            return res;
        }
        if (memcmp(s->buf[0], s->buf[1], n)) {
            for (i = 0; s->buf[0][i] == s->buf[1][i]; i++) {
                continue;
            }
            s->mismatch = off + i;
            return IOASID_TESTDEV_RES_MISMATCH;
        }
    }
    return IOASID_TESTDEV_RES_OK;
}

/*
 * ATS Translation Request for SRC (NW clear); the completion entry goes to
 * ATS_RESULT in the PCIe Translation Completion data format.
 */
static uint32_t testdev_ats(IoasidTestdevState *s)
{
    IoasidAtsCompletion cpl = { 0 };
    bool with_pasid = s->flags & R_FLAGS_PASID_MASK;
    uint64_t size, r;

    if (!ioasid_pcie_ats_enabled(PCI_DEVICE(s))) {
        return IOASID_TESTDEV_RES_ATS_DISABLED;
    }
    switch (ioasid_pci_ats_translate(PCI_DEVICE(s),
                                     with_pasid ? s->pasid :
                                     IOASID_PCI_NO_PASID,
                                     s->flags & R_FLAGS_PRIV_MASK,
                                     s->flags & R_FLAGS_EXEC_MASK,
                                     s->src, s->len, false, &cpl)) {
    case IOASID_DMA_OK:
        break;
    case IOASID_DMA_UNSUPPORTED:
        return IOASID_TESTDEV_RES_UNSUPPORTED;
    case IOASID_DMA_FAULT:
    default:
        s->fault_addr = s->src;
        return IOASID_TESTDEV_RES_SRC_FAULT;
    }
    size = MAX(cpl.size, 4096);
    if (!is_power_of_2(size)) {
        size = pow2ceil(size);
    }
    r = cpl.translated & ~(size - 1) & ~0xfffULL;
    if (size > 4096) {
        /* S = 1: the lowest clear address bit above 11 gives the size. */
        r |= ((size >> 1) - 1) & ~0xfffULL;
        r |= IOASID_TESTDEV_ATS_S;
    }
    r |= (cpl.read ? IOASID_TESTDEV_ATS_R : 0) |
         (cpl.write ? IOASID_TESTDEV_ATS_W : 0) |
         (cpl.untranslated_only ? IOASID_TESTDEV_ATS_U : 0) |
         (cpl.exec ? IOASID_TESTDEV_ATS_EXE : 0) |
         (cpl.priv ? IOASID_TESTDEV_ATS_PRIV : 0) |
         (cpl.global ? IOASID_TESTDEV_ATS_GLOBAL : 0);
    s->ats_result = r;
    return IOASID_TESTDEV_RES_OK;
}

static void testdev_command(IoasidTestdevState *s, uint32_t cmd)
{
    uint32_t res;

    trace_ioasid_testdev_cmd(cmd, s->src, s->dst, s->len, s->flags,
                             s->pasid);
    s->status = R_STATUS_BUSY_MASK;
    s->fault_addr = 0;
    s->mismatch = 0;

    if (cmd < IOASID_TESTDEV_CMD_COPY || cmd > IOASID_TESTDEV_CMD_ATS) {
        res = IOASID_TESTDEV_RES_BAD_CMD;
    } else if (cmd != IOASID_TESTDEV_CMD_ATS &&
               (s->len == 0 || s->len > IOASID_TESTDEV_MAX_LEN)) {
        res = IOASID_TESTDEV_RES_BAD_LEN;
    } else if (!testdev_pasid_ok(s)) {
        res = IOASID_TESTDEV_RES_BAD_PASID;
    } else {
        switch (cmd) {
        case IOASID_TESTDEV_CMD_COPY:
            res = testdev_copy(s);
            break;
        case IOASID_TESTDEV_CMD_FILL:
            res = testdev_fill(s);
            break;
        case IOASID_TESTDEV_CMD_COMPARE:
            res = testdev_compare(s);
            break;
        case IOASID_TESTDEV_CMD_ATS:
        default:
            res = testdev_ats(s);
            break;
        }
    }

    s->status = R_STATUS_DONE_MASK | res;
    s->completed++;
    trace_ioasid_testdev_done(cmd, res, s->fault_addr, s->mismatch);
    if (s->flags & R_FLAGS_IRQ_MASK) {
        testdev_raise_irq(s, R_IRQ_STATUS_DONE_MASK,
                          IOASID_TESTDEV_VEC_DONE);
    }
}

static uint32_t testdev_read32(IoasidTestdevState *s, hwaddr addr)
{
    switch (addr) {
    case A_ID:
        return IOASID_TESTDEV_ID_VALUE;
    case A_FEATURES:
        return testdev_features(s);
    case A_SRC_LO:
        return s->src;
    case A_SRC_HI:
        return s->src >> 32;
    case A_DST_LO:
        return s->dst;
    case A_DST_HI:
        return s->dst >> 32;
    case A_LEN:
        return s->len;
    case A_FLAGS:
        return s->flags;
    case A_PASID:
        return s->pasid;
    case A_PATTERN:
        return s->pattern;
    case A_STATUS:
        return s->status;
    case A_FAULT_ADDR_LO:
        return s->fault_addr;
    case A_FAULT_ADDR_HI:
        return s->fault_addr >> 32;
    case A_MISMATCH:
        return s->mismatch;
    case A_COMPLETED:
        return s->completed;
    case A_IRQ_STATUS:
        return s->irq_status;
    case A_ATS_RESULT_LO:
        return s->ats_result;
    case A_ATS_RESULT_HI:
        return s->ats_result >> 32;
    case A_INV_COUNT:
        return s->inv_count;
    case A_INV_PASID:
        return s->inv_pasid;
    case A_INV_ADDR_LO:
        return s->inv_addr;
    case A_INV_ADDR_HI:
        return s->inv_addr >> 32;
    case A_INV_SIZE_LO:
        return s->inv_size;
    case A_INV_SIZE_HI:
        return s->inv_size >> 32;
    case A_PRG_COUNT:
        return s->prg_count;
    case A_PRG_RESP:
        return s->prg_resp;
    case A_PRG_PASID:
        return s->prg_pasid;
    case A_CMD:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "ioasid-testdev: read of write-only CMD\n");
        return 0;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "ioasid-testdev: read of reserved offset 0x%03"
                      HWADDR_PRIx "\n", addr);
        return 0;
    }
}

static void testdev_write32(IoasidTestdevState *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case A_SRC_LO:
        s->src = deposit64(s->src, 0, 32, val);
        break;
    case A_SRC_HI:
        s->src = deposit64(s->src, 32, 32, val);
        break;
    case A_DST_LO:
        s->dst = deposit64(s->dst, 0, 32, val);
        break;
    case A_DST_HI:
        s->dst = deposit64(s->dst, 32, 32, val);
        break;
    case A_LEN:
        s->len = val;
        break;
    case A_FLAGS:
        if (val & ~FLAGS_VALID) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "ioasid-testdev: reserved FLAGS bits 0x%x\n",
                          val & ~FLAGS_VALID);
        }
        s->flags = val & FLAGS_VALID;
        break;
    case A_PASID:
        if (val & ~R_PASID_PASID_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "ioasid-testdev: PASID 0x%x wider than 20 bits\n",
                          val);
        }
        s->pasid = val & R_PASID_PASID_MASK;
        break;
    case A_PATTERN:
        s->pattern = val;
        break;
    case A_CMD:
        testdev_command(s, val);
        break;
    case A_IRQ_STATUS:
        s->irq_status &= ~val;
        testdev_update_intx(s);
        break;
    case A_ID:
    case A_FEATURES:
    case A_STATUS:
    case A_FAULT_ADDR_LO:
    case A_FAULT_ADDR_HI:
    case A_MISMATCH:
    case A_COMPLETED:
    case A_ATS_RESULT_LO:
    case A_ATS_RESULT_HI:
    case A_INV_COUNT:
    case A_INV_PASID:
    case A_INV_ADDR_LO:
    case A_INV_ADDR_HI:
    case A_INV_SIZE_LO:
    case A_INV_SIZE_HI:
    case A_PRG_COUNT:
    case A_PRG_RESP:
    case A_PRG_PASID:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "ioasid-testdev: write to read-only offset 0x%03"
                      HWADDR_PRIx "\n", addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "ioasid-testdev: write to reserved offset 0x%03"
                      HWADDR_PRIx "\n", addr);
        break;
    }
}

/*
 * Registers are 32-bit.  An aligned 64-bit access is two 32-bit accesses,
 * low word first; any other size or alignment is logged and ignored.
 */
static bool testdev_access_ok(hwaddr addr, unsigned size, bool write)
{
    if ((size == 4 || size == 8) && !(addr & (size - 1))) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR,
                  "ioasid-testdev: bad %u-byte %s at 0x%03" HWADDR_PRIx "\n",
                  size, write ? "write" : "read", addr);
    return false;
}

static uint64_t testdev_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    IoasidTestdevState *s = opaque;
    uint64_t val = 0;

    if (testdev_access_ok(addr, size, false)) {
        val = testdev_read32(s, addr);
        if (size == 8) {
            val |= (uint64_t)testdev_read32(s, addr + 4) << 32;
        }
    }
    trace_ioasid_testdev_mmio_read(addr, size, val);
    return val;
}

static void testdev_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    IoasidTestdevState *s = opaque;

    trace_ioasid_testdev_mmio_write(addr, size, val);
    if (testdev_access_ok(addr, size, true)) {
        testdev_write32(s, addr, val);
        if (size == 8) {
            testdev_write32(s, addr + 4, val >> 32);
        }
    }
}

static const MemoryRegionOps testdev_mmio_ops = {
    .read = testdev_mmio_read,
    .write = testdev_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/* ---- messages from the IOMMU (TYPE_IOASID_PCI_DEVICE) ---- */

static uint32_t testdev_msg_pasid(uint32_t pasid)
{
    return pasid == IOASID_PCI_NO_PASID ? IOASID_TESTDEV_MSG_NO_PASID :
           pasid & R_PASID_PASID_MASK;
}

/*
 * ATS Invalidate Request: the device caches no translation, so it only
 * records the request and completes it at once.
 */
static void testdev_ats_invalidate(PCIDevice *pdev, uint32_t pasid,
                                   uint64_t addr, uint64_t size, bool global)
{
    IoasidTestdevState *s = IOASID_TESTDEV(pdev);

    trace_ioasid_testdev_ats_inv(pasid, addr, size, global);
    s->inv_count++;
    s->inv_pasid = testdev_msg_pasid(pasid) |
                   (global ? IOASID_TESTDEV_MSG_GLOBAL : 0);
    s->inv_addr = addr;
    s->inv_size = size;
}

/*
 * PRG Response: recorded, then IRQ_STATUS.PRG and vector VEC_PRG.  The
 * device never sends page requests, so every response is for an
 * unexpected PRG index (PRI status UPRGI, PCIe 6.0 sec 10.4.2.1).
 */
static void testdev_prg_response(PCIDevice *pdev, uint32_t pasid,
                                 uint16_t prg_index,
                                 IoasidPrgResponseCode code)
{
    IoasidTestdevState *s = IOASID_TESTDEV(pdev);

    trace_ioasid_testdev_prg_resp(pasid, prg_index, code);
    s->prg_count++;
    s->prg_resp = FIELD_DP32(0, PRG_RESP, INDEX, prg_index);
    s->prg_resp = FIELD_DP32(s->prg_resp, PRG_RESP, CODE, code);
    s->prg_pasid = testdev_msg_pasid(pasid);
    if (s->pri_cap) {
        pci_word_test_and_set_mask(pdev->config + s->pri_cap +
                                   PCI_PRI_STATUS, PCI_PRI_STATUS_UPRGI);
    }
    testdev_raise_irq(s, R_IRQ_STATUS_PRG_MASK, IOASID_TESTDEV_VEC_PRG);
}

static void testdev_write_config(PCIDevice *pdev, uint32_t addr,
                                 uint32_t val, int len)
{
    IoasidTestdevState *s = IOASID_TESTDEV(pdev);

    pci_default_write_config(pdev, addr, val, len);
    if (s->pri_cap &&
        ioasid_pcie_pri_write_config(pdev, s->pri_cap, addr, val, len)) {
        trace_ioasid_testdev_pri_reset();
    }
    /* MSI-X may have been switched on or off: move the line accordingly. */
    testdev_update_intx(s);
}

static void testdev_realize(PCIDevice *pdev, Error **errp)
{
    IoasidTestdevState *s = IOASID_TESTDEV(pdev);
    uint16_t ext = TESTDEV_EXT_CAP_OFFSET;
    int i;

    if (s->pasid_width < 1 || s->pasid_width > IOASID_PCI_PASID_BITS) {
        error_setg(errp, "pasid-width must be 1..%d, not %u",
                   IOASID_PCI_PASID_BITS, s->pasid_width);
        return;
    }
    if (s->pri_on && !s->pri_capacity) {
        error_setg(errp, "pri-capacity must not be 0");
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);

    memory_region_init_io(&s->mmio, OBJECT(s), &testdev_mmio_ops, s,
                          "ioasid-testdev-regs", IOASID_TESTDEV_REGS_SIZE);
    pci_register_bar(pdev, IOASID_TESTDEV_BAR_REGS,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->mmio);

    if (pcie_endpoint_cap_init(pdev, TESTDEV_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "ioasid-testdev: cannot add the PCIe capability");
        return;
    }

    if (s->msix_on) {
        memory_region_init(&s->msix_bar, OBJECT(s), "ioasid-testdev-msix",
                           TESTDEV_MSIX_BAR_SIZE);
        pci_register_bar(pdev, IOASID_TESTDEV_BAR_MSIX,
                         PCI_BASE_ADDRESS_SPACE_MEMORY, &s->msix_bar);
        if (msix_init(pdev, IOASID_TESTDEV_MSIX_VECTORS,
                      &s->msix_bar, IOASID_TESTDEV_BAR_MSIX, 0,
                      &s->msix_bar, IOASID_TESTDEV_BAR_MSIX,
                      TESTDEV_MSIX_PBA_OFFSET, TESTDEV_MSIX_CAP_OFFSET,
                      errp) < 0) {
            pcie_cap_exit(pdev);
            return;
        }
        for (i = 0; i < IOASID_TESTDEV_MSIX_VECTORS; i++) {
            msix_vector_use(pdev, i);
        }
    }

    /* Extended capabilities, packed from 0x100 in this order. */
    s->pasid_cap = 0;
    s->pri_cap = 0;
    if (s->pasid_on) {
        s->pasid_cap = ext;
        ioasid_pcie_pasid_init(pdev, ext, s->pasid_width, s->pasid_exec,
                               s->pasid_priv);
        ext += PCI_EXT_CAP_PASID_SIZEOF;
    }
    if (s->ats_on) {
        ioasid_pcie_ats_init(pdev, ext);
        ext += PCI_EXT_CAP_ATS_SIZEOF;
    }
    if (s->pri_on) {
        s->pri_cap = ext;
        ioasid_pcie_pri_init(pdev, ext, s->pri_capacity, s->pasid_on);
    }
}

static void testdev_exit(PCIDevice *pdev)
{
    IoasidTestdevState *s = IOASID_TESTDEV(pdev);

    if (s->msix_on) {
        msix_unuse_all_vectors(pdev);
        msix_uninit(pdev, &s->msix_bar, &s->msix_bar);
    }
    pcie_cap_exit(pdev);
}

static void testdev_reset(DeviceState *dev)
{
    IoasidTestdevState *s = IOASID_TESTDEV(dev);

    s->src = 0;
    s->dst = 0;
    s->len = 0;
    s->flags = 0;
    s->pasid = 0;
    s->pattern = 0;
    s->status = 0;
    s->fault_addr = 0;
    s->mismatch = 0;
    s->completed = 0;
    s->irq_status = 0;
    s->ats_result = 0;
    s->inv_count = 0;
    s->inv_pasid = 0;
    s->inv_addr = 0;
    s->inv_size = 0;
    s->prg_count = 0;
    s->prg_resp = 0;
    s->prg_pasid = 0;
    testdev_update_intx(s);
}

static const VMStateDescription vmstate_ioasid_testdev = {
    .name = TYPE_IOASID_TESTDEV,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, IoasidTestdevState),
        VMSTATE_MSIX(parent_obj, IoasidTestdevState),
        VMSTATE_UINT64(src, IoasidTestdevState),
        VMSTATE_UINT64(dst, IoasidTestdevState),
        VMSTATE_UINT32(len, IoasidTestdevState),
        VMSTATE_UINT32(flags, IoasidTestdevState),
        VMSTATE_UINT32(pasid, IoasidTestdevState),
        VMSTATE_UINT32(pattern, IoasidTestdevState),
        VMSTATE_UINT32(status, IoasidTestdevState),
        VMSTATE_UINT64(fault_addr, IoasidTestdevState),
        VMSTATE_UINT32(mismatch, IoasidTestdevState),
        VMSTATE_UINT32(completed, IoasidTestdevState),
        VMSTATE_UINT32(irq_status, IoasidTestdevState),
        VMSTATE_UINT64(ats_result, IoasidTestdevState),
        VMSTATE_UINT32(inv_count, IoasidTestdevState),
        VMSTATE_UINT32(inv_pasid, IoasidTestdevState),
        VMSTATE_UINT64(inv_addr, IoasidTestdevState),
        VMSTATE_UINT64(inv_size, IoasidTestdevState),
        VMSTATE_UINT32(prg_count, IoasidTestdevState),
        VMSTATE_UINT32(prg_resp, IoasidTestdevState),
        VMSTATE_UINT32(prg_pasid, IoasidTestdevState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property testdev_properties[] = {
    DEFINE_PROP_BOOL("pasid", IoasidTestdevState, pasid_on, true),
    DEFINE_PROP_UINT8("pasid-width", IoasidTestdevState, pasid_width,
                      IOASID_PCI_PASID_BITS),
    DEFINE_PROP_BOOL("pasid-exec", IoasidTestdevState, pasid_exec, true),
    DEFINE_PROP_BOOL("pasid-priv", IoasidTestdevState, pasid_priv, true),
    DEFINE_PROP_BOOL("ats", IoasidTestdevState, ats_on, true),
    DEFINE_PROP_BOOL("pri", IoasidTestdevState, pri_on, true),
    DEFINE_PROP_UINT32("pri-capacity", IoasidTestdevState, pri_capacity, 32),
    DEFINE_PROP_BOOL("msix", IoasidTestdevState, msix_on, true),
};

static void testdev_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    IoasidPCIDeviceClass *ic = IOASID_PCI_DEVICE_CLASS(klass);

    k->realize = testdev_realize;
    k->exit = testdev_exit;
    k->config_write = testdev_write_config;
    k->vendor_id = IOASID_TESTDEV_VENDOR_ID;
    k->device_id = IOASID_TESTDEV_DEVICE_ID;
    k->revision = IOASID_TESTDEV_REVISION;
    ic->ats_invalidate = testdev_ats_invalidate;
    ic->prg_response = testdev_prg_response;
    k->class_id = PCI_CLASS_OTHERS << 8;   /* 0xff00: unassigned class */
    dc->desc = "ioasid DMA test device (PASID, ATS, PRI)";
    dc->vmsd = &vmstate_ioasid_testdev;
    device_class_set_legacy_reset(dc, testdev_reset);
    device_class_set_props(dc, testdev_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo testdev_info = {
    .name = TYPE_IOASID_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(IoasidTestdevState),
    .class_init = testdev_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { TYPE_IOASID_PCI_DEVICE },
        { }
    },
};

static void testdev_register_types(void)
{
    type_register_static(&testdev_info);
}

type_init(testdev_register_types)
