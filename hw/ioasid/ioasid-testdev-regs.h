/*
 * ioasid-testdev register interface (BAR0).
 *
 * This header is the contract between the device model
 * (hw/ioasid/ioasid-testdev.c), the qtests and the in-guest test programs
 * (tests/guest/prog).  It includes nothing from QEMU.  The full description
 * is docs/system/devices/ioasid-testdev.rst; keep both in step.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_TESTDEV_REGS_H
#define IOASID_TESTDEV_REGS_H

#define IOASID_TESTDEV_VENDOR_ID        0x1234
#define IOASID_TESTDEV_DEVICE_ID        0x1a51
#define IOASID_TESTDEV_REVISION         0x01

#define IOASID_TESTDEV_BAR_REGS         0       /* 4 KiB MMIO, 64-bit    */
#define IOASID_TESTDEV_BAR_MSIX         2       /* MSI-X table and PBA   */
#define IOASID_TESTDEV_REGS_SIZE        0x1000
#define IOASID_TESTDEV_MSIX_VECTORS     2
#define IOASID_TESTDEV_VEC_DONE         0       /* operation completion  */
#define IOASID_TESTDEV_VEC_PRG          1       /* page request response */

/*
 * Configuration space: PCIe capability at 0x40, MSI-X capability at 0x80
 * (table at BAR2 + 0, PBA at BAR2 + 0x800); extended capabilities packed
 * from 0x100 in the order PASID, ATS, PRI, those turned off left out.
 */
#define IOASID_TESTDEV_CFG_PCIE_CAP     0x40
#define IOASID_TESTDEV_CFG_MSIX_CAP     0x80
#define IOASID_TESTDEV_CFG_EXT_CAP      0x100
#define IOASID_TESTDEV_MSIX_PBA_OFFSET  0x800

/* Largest LEN of one operation. */
#define IOASID_TESTDEV_MAX_LEN          (1u << 20)

/* Register offsets (32-bit registers; 64-bit ones are LO at +0, HI at +4). */
#define IOASID_TESTDEV_ID               0x000   /* RO: 0x10a5 << 16 | version */
#define IOASID_TESTDEV_FEATURES         0x004   /* RO: IOASID_TESTDEV_FEAT_*  */
#define IOASID_TESTDEV_SRC              0x008   /* RW 64: source IOVA         */
#define IOASID_TESTDEV_DST              0x010   /* RW 64: destination IOVA    */
#define IOASID_TESTDEV_LEN              0x018   /* RW: bytes                  */
#define IOASID_TESTDEV_FLAGS            0x01c   /* RW: IOASID_TESTDEV_F_*     */
#define IOASID_TESTDEV_PASID            0x020   /* RW: bits 19:0              */
#define IOASID_TESTDEV_PATTERN          0x024   /* RW: fill pattern (LE word) */
#define IOASID_TESTDEV_CMD              0x028   /* WO: IOASID_TESTDEV_CMD_*   */
#define IOASID_TESTDEV_STATUS           0x02c   /* RO: IOASID_TESTDEV_ST_*    */
#define IOASID_TESTDEV_FAULT_ADDR       0x030   /* RO 64: IOVA that failed    */
#define IOASID_TESTDEV_MISMATCH         0x038   /* RO: offset of 1st mismatch */
#define IOASID_TESTDEV_COMPLETED        0x03c   /* RO: operations completed   */
#define IOASID_TESTDEV_IRQ_STATUS       0x040   /* RW1C: bit 0 completion     */
#define IOASID_TESTDEV_ATS_RESULT       0x048   /* RO 64: ATS completion      */
/* Messages from the IOMMU (received, recorded, never acted upon). */
#define IOASID_TESTDEV_INV_COUNT        0x050   /* RO: ATS invalidations      */
#define IOASID_TESTDEV_INV_PASID        0x054   /* RO: IOASID_TESTDEV_MSG_*   */
#define IOASID_TESTDEV_INV_ADDR         0x058   /* RO 64: last inval. address */
#define IOASID_TESTDEV_INV_SIZE         0x060   /* RO 64: its size (bytes)    */
#define IOASID_TESTDEV_PRG_COUNT        0x068   /* RO: PRG responses          */
#define IOASID_TESTDEV_PRG_RESP         0x06c   /* RO: last PRG response      */
#define IOASID_TESTDEV_PRG_PASID        0x070   /* RO: IOASID_TESTDEV_MSG_*   */

/* INV_PASID, PRG_PASID: bits 19:0 PASID, plus these. */
#define IOASID_TESTDEV_MSG_GLOBAL       (1u << 30)  /* all PASIDs (inval.) */
#define IOASID_TESTDEV_MSG_NO_PASID     (1u << 31)  /* carried no PASID    */
/* PRG_RESP: bits 8:0 PRG index, 15:12 response code. */
#define IOASID_TESTDEV_PRG_INDEX_MASK   0x1ffu
#define IOASID_TESTDEV_PRG_CODE_SHIFT   12

/* IRQ_STATUS bits */
#define IOASID_TESTDEV_IRQ_DONE         (1u << 0)   /* vector VEC_DONE     */
#define IOASID_TESTDEV_IRQ_PRG          (1u << 1)   /* vector VEC_PRG      */

#define IOASID_TESTDEV_ID_VALUE         0x10a50001u

#define IOASID_TESTDEV_FEAT_PASID       (1u << 0)
#define IOASID_TESTDEV_FEAT_ATS         (1u << 1)
#define IOASID_TESTDEV_FEAT_PRI         (1u << 2)
#define IOASID_TESTDEV_FEAT_MSIX        (1u << 3)

#define IOASID_TESTDEV_F_PASID          (1u << 0)  /* tag DMA with PASID   */
#define IOASID_TESTDEV_F_PRIV           (1u << 1)  /* privileged request   */
#define IOASID_TESTDEV_F_EXEC           (1u << 2)  /* source read is exec  */
#define IOASID_TESTDEV_F_IRQ            (1u << 3)  /* interrupt when done  */

#define IOASID_TESTDEV_CMD_COPY         1   /* SRC -> DST, LEN bytes       */
#define IOASID_TESTDEV_CMD_FILL         2   /* PATTERN -> DST, LEN bytes   */
#define IOASID_TESTDEV_CMD_COMPARE      3   /* SRC vs DST, LEN bytes       */
/* ATS translation request for SRC; completion entry -> ATS_RESULT. */
#define IOASID_TESTDEV_CMD_ATS          4

/*
 * ATS_RESULT: the PCIe Translation Completion data entry (PCIe 6.0 sec
 * 10.2.3): bits 63:12 translated address (with S: the size is given by the
 * lowest clear address bit at or above bit 12, see the documentation).
 */
#define IOASID_TESTDEV_ATS_R            (1u << 0)   /* read permitted      */
#define IOASID_TESTDEV_ATS_W            (1u << 1)   /* write permitted     */
#define IOASID_TESTDEV_ATS_U            (1u << 2)   /* untranslated only   */
#define IOASID_TESTDEV_ATS_EXE          (1u << 3)   /* execute permitted   */
#define IOASID_TESTDEV_ATS_PRIV         (1u << 4)   /* privileged          */
#define IOASID_TESTDEV_ATS_GLOBAL       (1u << 5)   /* global mapping      */
#define IOASID_TESTDEV_ATS_S            (1u << 11)  /* size > 4 KiB        */

/* STATUS: bits 7:0 hold the result of the last operation. */
#define IOASID_TESTDEV_ST_CODE_MASK     0xffu
#define IOASID_TESTDEV_ST_DONE          (1u << 30)
#define IOASID_TESTDEV_ST_BUSY          (1u << 31)

#define IOASID_TESTDEV_RES_OK           0   /* completed                   */
#define IOASID_TESTDEV_RES_SRC_FAULT    1   /* source read not translated  */
#define IOASID_TESTDEV_RES_DST_FAULT    2   /* destination write failed    */
#define IOASID_TESTDEV_RES_MISMATCH     3   /* COMPARE found a difference  */
#define IOASID_TESTDEV_RES_BAD_CMD      4   /* unknown command             */
#define IOASID_TESTDEV_RES_BAD_LEN      5   /* LEN 0 or > MAX_LEN          */
/*
 * BAD_PASID: PASID / PRIV / EXEC used but not enabled in the PASID
 * capability, or PASID out of range.
 */
#define IOASID_TESTDEV_RES_BAD_PASID    6
/*
 * UNSUPPORTED: PASID DMA with no IOMMU that handles PASIDs (UR), or an
 * ATS request no IOMMU answers.
 */
#define IOASID_TESTDEV_RES_UNSUPPORTED  7
/* ATS_DISABLED: CMD_ATS with ATS absent or not enabled (ATS control). */
#define IOASID_TESTDEV_RES_ATS_DISABLED 8

#endif /* IOASID_TESTDEV_REGS_H */
