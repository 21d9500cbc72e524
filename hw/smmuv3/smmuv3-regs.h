/*
 * ioasid-smmuv3: register map and in-memory structure layouts.
 *
 * Arm System Memory Management Unit Architecture Specification, SMMU
 * architecture version 3 (IHI 0070), named as in the specification:
 *   6.3   register map (Page 0 at offset 0, Page 1 at 0x10000);
 *   5.2   Stream Table Entry, 5.4 Context Descriptor, 3.3 / 5.1 / 5.3
 *         stream table and CD table formats (linear and 2-level);
 *   4     commands; 7.3 event records; 7.1 command errors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_SMMUV3_SMMUV3_REGS_H
#define HW_SMMUV3_SMMUV3_REGS_H

#include "hw/registerfields.h"

#define SMMU_PAGE_SIZE          0x10000
#define SMMU_MMIO_SIZE          (2 * SMMU_PAGE_SIZE)

/* ---- 6.3 Register map (Page 0) ---- */
REG32(IDR0, 0x0)
    FIELD(IDR0, S2P,         0, 1)
    FIELD(IDR0, S1P,         1, 1)
    FIELD(IDR0, TTF,         2, 2)
    FIELD(IDR0, COHACC,      4, 1)
    FIELD(IDR0, BTM,         5, 1)
    FIELD(IDR0, HTTU,        6, 2)
    FIELD(IDR0, DORMHINT,    8, 1)
    FIELD(IDR0, HYP,         9, 1)
    FIELD(IDR0, ATS,        10, 1)
    FIELD(IDR0, NS1ATS,     11, 1)
    FIELD(IDR0, ASID16,     12, 1)
    FIELD(IDR0, MSI,        13, 1)
    FIELD(IDR0, SEV,        14, 1)
    FIELD(IDR0, ATOS,       15, 1)
    FIELD(IDR0, PRI,        16, 1)
    FIELD(IDR0, VMW,        17, 1)
    FIELD(IDR0, VMID16,     18, 1)
    FIELD(IDR0, CD2L,       19, 1)
    FIELD(IDR0, VATOS,      20, 1)
    FIELD(IDR0, TTENDIAN,   21, 2)
    FIELD(IDR0, ATSRECERR,  23, 1)
    FIELD(IDR0, STALL_MODEL, 24, 2)
    FIELD(IDR0, TERM_MODEL, 26, 1)
    FIELD(IDR0, ST_LEVEL,   27, 2)
REG32(IDR1, 0x4)
    FIELD(IDR1, SIDSIZE,     0, 6)
    FIELD(IDR1, SSIDSIZE,    6, 5)
    FIELD(IDR1, PRIQS,      11, 5)
    FIELD(IDR1, EVENTQS,    16, 5)
    FIELD(IDR1, CMDQS,      21, 5)
    FIELD(IDR1, ATTR_PERMS_OVR, 26, 1)
    FIELD(IDR1, ATTR_TYPES_OVR, 27, 1)
    FIELD(IDR1, REL,        28, 1)
    FIELD(IDR1, QUEUES_PRESET, 29, 1)
    FIELD(IDR1, TABLES_PRESET, 30, 1)
    FIELD(IDR1, ECMDQ,      31, 1)
REG32(IDR2, 0x8)
REG32(IDR3, 0xc)
    FIELD(IDR3, HAD,         2, 1)
    FIELD(IDR3, PBHA,        3, 1)
    FIELD(IDR3, XNX,         4, 1)
    FIELD(IDR3, PPS,         5, 1)
    FIELD(IDR3, MPAM,        7, 1)
    FIELD(IDR3, FWB,         8, 1)
    FIELD(IDR3, STT,         9, 1)
    FIELD(IDR3, RIL,        10, 1)
    FIELD(IDR3, BBML,       11, 2)
REG32(IDR4, 0x10)
REG32(IDR5, 0x14)
    FIELD(IDR5, OAS,         0, 3)
    FIELD(IDR5, GRAN4K,      4, 1)
    FIELD(IDR5, GRAN16K,     5, 1)
    FIELD(IDR5, GRAN64K,     6, 1)
    FIELD(IDR5, VAX,        10, 2)
    FIELD(IDR5, STALL_MAX,  16, 16)
REG32(IIDR, 0x18)
REG32(AIDR, 0x1c)
REG32(CR0, 0x20)
    FIELD(CR0, SMMUEN,       0, 1)
    FIELD(CR0, PRIQEN,       1, 1)
    FIELD(CR0, EVENTQEN,     2, 1)
    FIELD(CR0, CMDQEN,       3, 1)
    FIELD(CR0, ATSCHK,       4, 1)
    FIELD(CR0, VMW,          6, 3)
REG32(CR0ACK, 0x24)
REG32(CR1, 0x28)
REG32(CR2, 0x2c)
    FIELD(CR2, E2H,          0, 1)
    FIELD(CR2, RECINVSID,    1, 1)
    FIELD(CR2, PTM,          2, 1)
REG32(STATUSR, 0x40)
REG32(GBPA, 0x44)
    FIELD(GBPA, MEMATTR,     0, 4)
    FIELD(GBPA, MTCFG,       4, 1)
    FIELD(GBPA, ALLOCCFG,    8, 4)
    FIELD(GBPA, SHCFG,      12, 2)
    FIELD(GBPA, PRIVCFG,    16, 2)
    FIELD(GBPA, INSTCFG,    18, 2)
    FIELD(GBPA, ABORT,      20, 1)
    FIELD(GBPA, UPDATE,     31, 1)
REG32(AGBPA, 0x48)
REG32(IRQ_CTRL, 0x50)
    FIELD(IRQ_CTRL, GERROR_IRQEN, 0, 1)
    FIELD(IRQ_CTRL, PRI_IRQEN,    1, 1)
    FIELD(IRQ_CTRL, EVENTQ_IRQEN, 2, 1)
REG32(IRQ_CTRLACK, 0x54)
REG32(GERROR, 0x60)
    FIELD(GERROR, CMDQ_ERR,        0, 1)
    FIELD(GERROR, EVENTQ_ABT_ERR,  2, 1)
    FIELD(GERROR, PRIQ_ABT_ERR,    3, 1)
    FIELD(GERROR, MSI_CMDQ_ABT_ERR, 4, 1)
    FIELD(GERROR, MSI_EVENTQ_ABT_ERR, 5, 1)
    FIELD(GERROR, MSI_PRIQ_ABT_ERR, 6, 1)
    FIELD(GERROR, MSI_GERROR_ABT_ERR, 7, 1)
    FIELD(GERROR, SFM_ERR,         8, 1)
REG32(GERRORN, 0x64)
REG32(GERROR_IRQ_CFG0, 0x68)        /* 64-bit */
REG32(GERROR_IRQ_CFG1, 0x70)
REG32(GERROR_IRQ_CFG2, 0x74)
REG32(STRTAB_BASE, 0x80)            /* 64-bit */
REG32(STRTAB_BASE_CFG, 0x88)
    FIELD(STRTAB_BASE_CFG, LOG2SIZE, 0, 6)
    FIELD(STRTAB_BASE_CFG, SPLIT,    6, 5)
    FIELD(STRTAB_BASE_CFG, FMT,     16, 2)
REG32(CMDQ_BASE, 0x90)              /* 64-bit */
REG32(CMDQ_PROD, 0x98)
REG32(CMDQ_CONS, 0x9c)
    FIELD(CMDQ_CONS, ERR,   24, 7)
REG32(EVENTQ_BASE, 0xa0)            /* 64-bit */
REG32(EVENTQ_PROD, 0xa8)
REG32(EVENTQ_CONS, 0xac)
REG32(EVENTQ_IRQ_CFG0, 0xb0)        /* 64-bit */
REG32(EVENTQ_IRQ_CFG1, 0xb8)
REG32(EVENTQ_IRQ_CFG2, 0xbc)
REG32(PRIQ_BASE, 0xc0)
REG32(PRIQ_PROD, 0xc8)
REG32(PRIQ_CONS, 0xcc)
#define SMMU_NREGS              (0xd0 / 4)

/* Page 1 aliases of the event (and PRI) queue indices. */
#define A_EVENTQ_PROD_PAGE1     (SMMU_PAGE_SIZE + A_EVENTQ_PROD)
#define A_EVENTQ_CONS_PAGE1     (SMMU_PAGE_SIZE + A_EVENTQ_CONS)

/* Fields of the 64-bit base / IRQ address registers. */
#define SMMU_BASE_RA            (1ULL << 62)
#define SMMU_Q_BASE_ADDR_MASK   0x000fffffffffffe0ULL   /* ADDR[51:5] */
#define SMMU_Q_BASE_LOG2SIZE(v) ((v) & 0x1f)
#define SMMU_STRTAB_ADDR_MASK   0x000fffffffffffc0ULL   /* ADDR[51:6] */
#define SMMU_IRQ_ADDR_MASK      0x000ffffffffffffcULL   /* ADDR[51:2] */
/* Queue PROD / CONS: WR / RD[19:0] = wrap bit above log2size index bits. */
#define SMMU_Q_IDX_MASK         0xfffffu
#define SMMU_Q_OVF              (1u << 31)  /* PROD.OVFLG, CONS.OVACKFLG */

/* ---- 5.2 Stream Table Entry (64 bytes), as 64-bit words ---- */
#define STE_SIZE                64
/* word 0 */
#define STE_V(w)                extract64((w), 0, 1)
#define STE_CONFIG(w)           extract64((w), 1, 3)
#define STE_S1FMT(w)            extract64((w), 4, 2)
#define STE_S1CTXPTR(w)         ((w) & 0x000fffffffffffc0ULL)
#define STE_S1CDMAX(w)          extract64((w), 59, 5)
/* word 1 */
#define STE_S1DSS(w)            extract64((w), 0, 2)
#define STE_S1STALLD(w)         extract64((w), 27, 1)
#define STE_EATS(w)             extract64((w), 28, 2)
#define STE_STRW(w)             extract64((w), 30, 2)
#define STE_SHCFG(w)            extract64((w), 44, 2)
/* word 2 */
#define STE_S2VMID(w)           extract64((w), 0, 16)
#define STE_S2T0SZ(w)           extract64((w), 32, 6)
#define STE_S2SL0(w)            extract64((w), 38, 2)
#define STE_S2TG(w)             extract64((w), 46, 2)
#define STE_S2PS(w)             extract64((w), 48, 3)
#define STE_S2AA64(w)           extract64((w), 51, 1)
#define STE_S2ENDI(w)           extract64((w), 52, 1)
#define STE_S2AFFD(w)           extract64((w), 53, 1)
#define STE_S2PTW(w)            extract64((w), 54, 1)
#define STE_S2HD(w)             extract64((w), 55, 1)
#define STE_S2HA(w)             extract64((w), 56, 1)
#define STE_S2S(w)              extract64((w), 57, 1)
#define STE_S2R(w)              extract64((w), 58, 1)
/* word 3 */
#define STE_S2TTB(w)            ((w) & 0x000ffffffffffff0ULL)

/* STE.Config */
#define STE_CFG_ABORT           0
#define STE_CFG_BYPASS          4
#define STE_CFG_S1              5
#define STE_CFG_S2              6
#define STE_CFG_NESTED          7
/* STE.S1Fmt */
#define STE_S1FMT_LINEAR        0
#define STE_S1FMT_4K_L2         1       /* 2-level, 4KB leaves: split 6   */
#define STE_S1FMT_64K_L2        2       /* 2-level, 64KB leaves: split 10 */
/* STE.S1DSS */
#define STE_S1DSS_TERMINATE     0
#define STE_S1DSS_BYPASS        1
#define STE_S1DSS_SSID0         2

/* Level-1 stream table descriptor (8 bytes): Span[4:0], L2Ptr[51:6]. */
#define L1STD_SPAN(w)           extract64((w), 0, 5)
#define L1STD_L2PTR(w)          ((w) & 0x000fffffffffffc0ULL)
#define STRTAB_FMT_LINEAR       0
#define STRTAB_FMT_2LEVEL       1

/* ---- 5.4 Context Descriptor (64 bytes) ---- */
#define CD_SIZE                 64
/* word 0 */
#define CD_T0SZ(w)              extract64((w), 0, 6)
#define CD_TG0(w)               extract64((w), 6, 2)
#define CD_EPD0(w)              extract64((w), 14, 1)
#define CD_ENDI(w)              extract64((w), 15, 1)
#define CD_T1SZ(w)              extract64((w), 16, 6)
#define CD_TG1(w)               extract64((w), 22, 2)
#define CD_EPD1(w)              extract64((w), 30, 1)
#define CD_V(w)                 extract64((w), 31, 1)
#define CD_IPS(w)               extract64((w), 32, 3)
#define CD_AFFD(w)              extract64((w), 35, 1)
#define CD_AA64(w)              extract64((w), 41, 1)
#define CD_HD(w)                extract64((w), 42, 1)
#define CD_HA(w)                extract64((w), 43, 1)
#define CD_S(w)                 extract64((w), 44, 1)
#define CD_R(w)                 extract64((w), 45, 1)
#define CD_A(w)                 extract64((w), 46, 1)
#define CD_ASET(w)              extract64((w), 47, 1)
#define CD_ASID(w)              extract64((w), 48, 16)
/* words 1, 2 */
#define CD_TTB(w)               ((w) & 0x000ffffffffffff0ULL)

/* Level-1 CD descriptor (8 bytes): V[0], L2Ptr[51:12]. */
#define L1CD_V(w)               extract64((w), 0, 1)
#define L1CD_L2PTR(w)           ((w) & 0x000ffffffffff000ULL)

/* ---- 4 Commands (16 bytes) ---- */
#define CMD_OPCODE(w)           extract64((w), 0, 8)
#define CMD_SSEC(w)             extract64((w), 10, 1)
#define CMD_SSV(w)              extract64((w), 11, 1)
#define CMD_SSID(w)             extract64((w), 12, 20)
#define CMD_SID(w)              extract64((w), 32, 32)
#define CMD_VMID(w)             extract64((w), 32, 16)
#define CMD_ASID(w)             extract64((w), 48, 16)
#define CMD_NUM(w)              extract64((w), 12, 5)
#define CMD_SCALE(w)            extract64((w), 20, 6)
#define CMD_ATC_GLOBAL(w)       extract64((w), 9, 1)
#define CMD_SYNC_CS(w)          extract64((w), 12, 2)
#define CMD_SYNC_MSIDATA(w)     extract64((w), 32, 32)
/* word 1 */
#define CMD_LEAF(w)             extract64((w), 0, 1)
#define CMD_RANGE(w)            extract64((w), 0, 5)
#define CMD_ATC_SIZE(w)         extract64((w), 0, 6)
#define CMD_TTL(w)              extract64((w), 8, 2)
#define CMD_TG(w)               extract64((w), 10, 2)
#define CMD_ADDR(w)             ((w) & 0x000ffffffffff000ULL)
#define CMD_VA(w)               ((w) & ~0xfffULL)
#define CMD_SYNC_MSIADDR(w)     ((w) & 0x000ffffffffffffcULL)

enum {
    CMD_PREFETCH_CONFIG = 0x01,
    CMD_PREFETCH_ADDR   = 0x02,
    CMD_CFGI_STE        = 0x03,
    CMD_CFGI_STE_RANGE  = 0x04,     /* CFGI_ALL is Range == 31 */
    CMD_CFGI_CD         = 0x05,
    CMD_CFGI_CD_ALL     = 0x06,
    CMD_CFGI_VMS_PIDM   = 0x07,
    CMD_TLBI_NH_ALL     = 0x10,
    CMD_TLBI_NH_ASID    = 0x11,
    CMD_TLBI_NH_VA      = 0x12,
    CMD_TLBI_NH_VAA     = 0x13,
    CMD_TLBI_EL3_ALL    = 0x18,
    CMD_TLBI_EL3_VA     = 0x1a,
    CMD_TLBI_EL2_ALL    = 0x20,
    CMD_TLBI_EL2_ASID   = 0x21,
    CMD_TLBI_EL2_VA     = 0x22,
    CMD_TLBI_EL2_VAA    = 0x23,
    CMD_TLBI_S12_VMALL  = 0x28,
    CMD_TLBI_S2_IPA     = 0x2a,
    CMD_TLBI_NSNH_ALL   = 0x30,
    CMD_ATC_INV         = 0x40,
    CMD_PRI_RESP        = 0x41,
    CMD_RESUME          = 0x44,
    CMD_STALL_TERM      = 0x45,
    CMD_SYNC            = 0x46,
};

#define CMD_SYNC_SIG_NONE       0
#define CMD_SYNC_SIG_IRQ        1
#define CMD_SYNC_SIG_SEV        2

/* 7.1 SMMU_CMDQ_CONS.ERR */
#define CERROR_NONE             0
#define CERROR_ILL              1
#define CERROR_ABT              2
#define CERROR_ATC_INV_SYNC     3

/* ---- 7.3 Event records (32 bytes) ---- */
#define EVT_SIZE                32
enum {
    EVT_F_UUT               = 0x01,
    EVT_C_BAD_STREAMID      = 0x02,
    EVT_F_STE_FETCH         = 0x03,
    EVT_C_BAD_STE           = 0x04,
    EVT_F_BAD_ATS_TREQ      = 0x05,
    EVT_F_STREAM_DISABLED   = 0x06,
    EVT_F_TRANSL_FORBIDDEN  = 0x07,
    EVT_C_BAD_SUBSTREAMID   = 0x08,
    EVT_F_CD_FETCH          = 0x09,
    EVT_C_BAD_CD            = 0x0a,
    EVT_F_WALK_EABT         = 0x0b,
    EVT_F_TRANSLATION       = 0x10,
    EVT_F_ADDR_SIZE         = 0x11,
    EVT_F_ACCESS            = 0x12,
    EVT_F_PERMISSION        = 0x13,
    EVT_F_TLB_CONFLICT      = 0x20,
    EVT_F_CFG_CONFLICT      = 0x21,
};
/* word 0: type[7:0], SSV[11], SubstreamID[31:12], StreamID[63:32] */
#define EVT0_SSV                (1ULL << 11)
#define EVT0_SSID_SHIFT         12
#define EVT0_SID_SHIFT          32
/* word 1 */
#define EVT1_PNU                (1ULL << 33)
#define EVT1_IND                (1ULL << 34)
#define EVT1_RNW                (1ULL << 35)
#define EVT1_S2                 (1ULL << 39)
#define EVT1_CLASS_SHIFT        40
#define EVT1_TTRNW              (1ULL << 44)
#define EVT_CLASS_CD            0
#define EVT_CLASS_TT            1
#define EVT_CLASS_IN            2
/* word 2: InputAddr; word 3: IPA[51:12] or FetchAddr[51:3] */
#define EVT3_IPA_MASK           0x000ffffffffff000ULL
#define EVT3_FETCH_MASK         0x000ffffffffffff8ULL

#endif /* HW_SMMUV3_SMMUV3_REGS_H */
