/*
 * ioasid-vtd: Intel VT-d remapping unit -- registers, structures, state.
 *
 * Registers and in-memory structures are declared once with
 * hw/registerfields.h and named as in the Intel Virtualization Technology
 * for Directed I/O Architecture Specification (rev 4.x / 5.x):
 *   chapter 9   translation structure formats (root, context, PASID),
 *   chapter 6.5 invalidation descriptors,
 *   chapter 7   fault reasons,
 *   chapter 11  register descriptions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VTD_VTD_INTERNAL_H
#define HW_VTD_VTD_INTERNAL_H

#include "hw/registerfields.h"
#include "hw/i386/x86-iommu.h"
#include "hw/pci/pci.h"
#include "exec/memory.h"
#include "hw/ioasid/ioasid-pci.h"
#include "hw/ioasid/core/iotlb.h"
#include "hw/vtd/ioasid-vtd.h"

/*
 * ---------------------------------------------------------------------
 * Register map (spec 11.4).  4 KiB of register space.
 * ------------------------------------------------------------------
 */
#define VTD_REG_SIZE            0x1000

REG32(VER, 0x00)                        /* 11.4.1 Version */
    FIELD(VER, MIN, 0, 4)
    FIELD(VER, MAX, 4, 4)
REG64(CAP, 0x08)                        /* 11.4.2 Capability */
    FIELD(CAP, ND, 0, 3)
    FIELD(CAP, AFL, 3, 1)
    FIELD(CAP, RWBF, 4, 1)
    FIELD(CAP, PLMR, 5, 1)
    FIELD(CAP, PHMR, 6, 1)
    FIELD(CAP, CM, 7, 1)
    FIELD(CAP, SAGAW, 8, 5)
    FIELD(CAP, MGAW, 16, 6)
    FIELD(CAP, ZLR, 22, 1)
    FIELD(CAP, FRO, 24, 10)
    FIELD(CAP, SLLPS, 34, 4)
    FIELD(CAP, PSI, 39, 1)
    FIELD(CAP, NFR, 40, 8)
    FIELD(CAP, MAMV, 48, 6)
    FIELD(CAP, DWD, 54, 1)
    FIELD(CAP, DRD, 55, 1)
    FIELD(CAP, FS1GP, 56, 1)
    FIELD(CAP, PI, 59, 1)
    FIELD(CAP, FS5LP, 60, 1)
    FIELD(CAP, ECMDS, 61, 1)
    FIELD(CAP, ESIRTPS, 62, 1)
    FIELD(CAP, ESRTPS, 63, 1)
REG64(ECAP, 0x10)                       /* 11.4.3 Extended Capability */
    FIELD(ECAP, C, 0, 1)
    FIELD(ECAP, QI, 1, 1)
    FIELD(ECAP, DT, 2, 1)
    FIELD(ECAP, IR, 3, 1)
    FIELD(ECAP, EIM, 4, 1)
    FIELD(ECAP, PT, 6, 1)
    FIELD(ECAP, SC, 7, 1)
    FIELD(ECAP, IRO, 8, 10)
    FIELD(ECAP, MHMV, 20, 4)
    FIELD(ECAP, MTS, 25, 1)
    FIELD(ECAP, NEST, 26, 1)
    FIELD(ECAP, PRS, 29, 1)
    FIELD(ECAP, ERS, 30, 1)
    FIELD(ECAP, SRS, 31, 1)
    FIELD(ECAP, NWFS, 33, 1)
    FIELD(ECAP, EAFS, 34, 1)
    FIELD(ECAP, PSS, 35, 5)
    FIELD(ECAP, PASID, 40, 1)
    FIELD(ECAP, DIT, 41, 1)
    FIELD(ECAP, PDS, 42, 1)
    FIELD(ECAP, SMTS, 43, 1)
    FIELD(ECAP, VCS, 44, 1)
    FIELD(ECAP, SSADS, 45, 1)
    FIELD(ECAP, SSTS, 46, 1)
    FIELD(ECAP, FSTS, 47, 1)
    FIELD(ECAP, SMPWCS, 48, 1)
    FIELD(ECAP, RPS, 49, 1)
REG32(GCMD, 0x18)                       /* 11.4.4 Global Command */
REG32(GSTS, 0x1c)                       /* 11.4.5 Global Status */
    /* Same bit positions in GCMD (command) and GSTS (status). */
    FIELD(GSTS, CFIS, 23, 1)
    FIELD(GSTS, IRTPS, 24, 1)
    FIELD(GSTS, IRES, 25, 1)
    FIELD(GSTS, QIES, 26, 1)
    FIELD(GSTS, WBFS, 27, 1)
    FIELD(GSTS, AFLS, 28, 1)
    FIELD(GSTS, FLS, 29, 1)
    FIELD(GSTS, RTPS, 30, 1)
    FIELD(GSTS, TES, 31, 1)
REG64(RTADDR, 0x20)                     /* 11.4.6 Root Table Address */
    FIELD(RTADDR, TTM, 10, 2)
    FIELD(RTADDR, RTA, 12, 52)
REG64(CCMD, 0x28)                       /* 11.4.7 Context Command */
    FIELD(CCMD, DID, 0, 16)
    FIELD(CCMD, SID, 16, 16)
    FIELD(CCMD, FM, 32, 2)
    FIELD(CCMD, CAIG, 59, 2)
    FIELD(CCMD, CIRG, 61, 2)
    FIELD(CCMD, ICC, 63, 1)
REG32(FSTS, 0x34)                       /* 11.4.8.1 Fault Status */
    FIELD(FSTS, PFO, 0, 1)
    FIELD(FSTS, PPF, 1, 1)
    FIELD(FSTS, IQE, 4, 1)
    FIELD(FSTS, ICE, 5, 1)
    FIELD(FSTS, ITE, 6, 1)
    FIELD(FSTS, FRI, 8, 8)
REG32(FECTL, 0x38)                      /* 11.4.8.2 Fault Event Control */
    FIELD(FECTL, IP, 30, 1)
    FIELD(FECTL, IM, 31, 1)
REG32(FEDATA, 0x3c)
REG32(FEADDR, 0x40)
REG32(FEUADDR, 0x44)
REG64(AFLOG, 0x58)
REG32(PMEN, 0x64)
REG64(IQH, 0x80)                        /* 11.4.9.1 Invalidation Queue Head */
    FIELD(IQH, QH, 4, 15)
REG64(IQT, 0x88)                        /* 11.4.9.2 Invalidation Queue Tail */
    FIELD(IQT, QT, 4, 15)
REG64(IQA, 0x90)                        /* 11.4.9.3 Inv. Queue Address */
    FIELD(IQA, QS, 0, 3)
    FIELD(IQA, DW, 11, 1)
    FIELD(IQA, IQA, 12, 52)
REG32(ICS, 0x9c)                        /* 11.4.9.4 Inv. Completion Status */
    FIELD(ICS, IWC, 0, 1)
REG32(IECTL, 0xa0)                      /* 11.4.9.5 Inv. Event Control */
    FIELD(IECTL, IP, 30, 1)
    FIELD(IECTL, IM, 31, 1)
REG32(IEDATA, 0xa4)
REG32(IEADDR, 0xa8)
REG32(IEUADDR, 0xac)
REG64(IQERCD, 0xb0)                     /* 11.4.9.9 Inv. Queue Error Record */
    FIELD(IQERCD, IQEI, 0, 4)
    FIELD(IQERCD, ICESID, 32, 16)
    FIELD(IQERCD, ITESID, 48, 16)
REG64(IRTA, 0xb8)                       /* 11.4.9.10 Int. Remap Table Addr */
    FIELD(IRTA, S, 0, 4)
    FIELD(IRTA, EIME, 11, 1)
    FIELD(IRTA, IRTA, 12, 52)

/* Interrupt address range (5.1.2): DMA writes there are interrupts. */
#define VTD_MSI_BASE            0xfee00000ULL
#define VTD_MSI_SIZE            0x100000ULL

/*
 * Fault recording registers at CAP.FRO * 16 (11.4.10.1), IOTLB registers
 * at ECAP.IRO * 16 (11.4.8.3).
 */
#define VTD_FRCD_OFFSET         0x400
#define VTD_NFR                 8
#define VTD_IOTLB_OFFSET        0x500
#define A_IVA                   (VTD_IOTLB_OFFSET + 0)
#define A_IOTLB                 (VTD_IOTLB_OFFSET + 8)
/* fields of IVA_REG / IOTLB_REG (11.4.8.3, 11.4.8.4) */
FIELD(IVA, AM, 0, 6)
FIELD(IVA, IH, 6, 1)
FIELD(IVA, ADDR, 12, 52)
FIELD(IOTLB, DID, 32, 16)
FIELD(IOTLB, DW, 48, 1)
FIELD(IOTLB, DR, 49, 1)
FIELD(IOTLB, IAIG, 57, 2)
FIELD(IOTLB, IIRG, 60, 2)
FIELD(IOTLB, IVT, 63, 1)

/* Fault recording register, upper 64 bits (FRCD bits 127:64). */
FIELD(FRCD_HI, SID, 0, 16)
FIELD(FRCD_HI, T2, 28, 1)
FIELD(FRCD_HI, PRIV, 29, 1)
FIELD(FRCD_HI, EXE, 30, 1)
FIELD(FRCD_HI, PP, 31, 1)
FIELD(FRCD_HI, FR, 32, 8)
FIELD(FRCD_HI, PV, 40, 20)
FIELD(FRCD_HI, AT, 60, 2)
FIELD(FRCD_HI, T1, 62, 1)
FIELD(FRCD_HI, F, 63, 1)

/*
 * ---------------------------------------------------------------------
 * Translation structures (spec chapter 9).
 * ------------------------------------------------------------------
 */
/* 9.1 Root entry (legacy), 9.2 scalable-mode root entry: 128 bits. */
FIELD(ROOT_LO, P, 0, 1)                 /* LP in scalable mode */
FIELD(ROOT_LO, CTP, 12, 52)             /* LCTP in scalable mode */
/* upper 64 bits: reserved (legacy), UP / UCTP (scalable mode) */

/* 9.3 Context entry (legacy): 128 bits. */
FIELD(CE_LO, P, 0, 1)
FIELD(CE_LO, FPD, 1, 1)
FIELD(CE_LO, TT, 2, 2)
FIELD(CE_LO, SSPTPTR, 12, 52)
FIELD(CE_HI, AW, 0, 3)
FIELD(CE_HI, DID, 8, 16)
#define VTD_CE_LO_RSVD          MAKE_64BIT_MASK(4, 8)
#define VTD_CE_HI_RSVD          (BIT_ULL(7) | MAKE_64BIT_MASK(24, 40))
#define VTD_TT_SS               0       /* untranslated requests only */
#define VTD_TT_SS_DT            1       /* also translation requests (ATS) */
#define VTD_TT_PT               2       /* pass-through */

/* 9.4 Scalable-mode context entry: 256 bits, qwords 0..3. */
FIELD(SMCE0, P, 0, 1)
FIELD(SMCE0, FPD, 1, 1)
FIELD(SMCE0, DTE, 2, 1)
FIELD(SMCE0, PASIDE, 3, 1)
FIELD(SMCE0, PRE, 4, 1)
FIELD(SMCE0, PDTS, 9, 3)
FIELD(SMCE0, PASIDDIRPTR, 12, 52)
FIELD(SMCE1, RID_PASID, 0, 20)
FIELD(SMCE1, RID_PRIV, 20, 1)
#define VTD_SMCE0_RSVD          MAKE_64BIT_MASK(5, 4)
#define VTD_SMCE1_RSVD          MAKE_64BIT_MASK(20, 44) /* RID_PRIV: RPRIVS=0 */

/* 9.5 Scalable-mode PASID directory entry: 64 bits. */
FIELD(PDE, P, 0, 1)
FIELD(PDE, FPD, 1, 1)
FIELD(PDE, SMPTBLPTR, 12, 52)
#define VTD_PDE_RSVD            MAKE_64BIT_MASK(2, 10)

/* 9.6 Scalable-mode PASID table entry: 512 bits, qwords 0..7. */
FIELD(PTE0, P, 0, 1)
FIELD(PTE0, FPD, 1, 1)
FIELD(PTE0, AW, 2, 3)
FIELD(PTE0, SSEE, 5, 1)
FIELD(PTE0, PGTT, 6, 3)
FIELD(PTE0, SSADE, 9, 1)
FIELD(PTE0, SSPTPTR, 12, 52)
FIELD(PTE1, DID, 0, 16)
FIELD(PTE1, PWSNP, 23, 1)
FIELD(PTE1, PGSNP, 24, 1)
FIELD(PTE2, SRE, 0, 1)
FIELD(PTE2, ERE, 1, 1)
FIELD(PTE2, FSPM, 2, 2)
FIELD(PTE2, WPE, 4, 1)
FIELD(PTE2, EAFE, 7, 1)
FIELD(PTE2, FSPTPTR, 12, 52)
#define VTD_PTE0_RSVD           MAKE_64BIT_MASK(10, 2)
#define VTD_PTE1_RSVD           MAKE_64BIT_MASK(16, 7)
#define VTD_PTE2_RSVD           MAKE_64BIT_MASK(8, 4)
#define VTD_PGTT_FS             1
#define VTD_PGTT_SS             2
#define VTD_PGTT_NESTED         3
#define VTD_PGTT_PT             4

/*
 * ---------------------------------------------------------------------
 * Invalidation descriptors (spec 6.5.2).  Type = bits 11:9 << 4 | 3:0.
 * ------------------------------------------------------------------
 */
FIELD(DSC, TYPE_LO, 0, 4)
FIELD(DSC, G, 4, 2)
FIELD(DSC, TYPE_HI, 9, 3)
FIELD(DSC, DID, 16, 16)
FIELD(DSC, PASID, 32, 20)
#define VTD_DSC_CC              0x1     /* context-cache invalidate */
#define VTD_DSC_IOTLB           0x2     /* IOTLB invalidate */
#define VTD_DSC_DEVTLB          0x3     /* device-TLB invalidate */
#define VTD_DSC_IEC             0x4     /* interrupt entry cache invalidate */
#define VTD_DSC_WAIT            0x5     /* invalidation wait */
#define VTD_DSC_PIOTLB          0x6     /* PASID-based IOTLB invalidate */
#define VTD_DSC_PC              0x7     /* PASID-cache invalidate */
#define VTD_DSC_PDEVTLB         0x8     /* PASID-based device-TLB inv. */
/* context-cache: 47:32 SID, 49:48 FM */
FIELD(DSC_CC, SID, 32, 16)
FIELD(DSC_CC, FM, 48, 2)
#define VTD_DSC_CC_RSVD0        (MAKE_64BIT_MASK(6, 3) | \
                                 MAKE_64BIT_MASK(12, 4) | \
                                 MAKE_64BIT_MASK(50, 14))
/* IOTLB: 6 DW, 7 DR; hi: 5:0 AM, 6 IH, 63:12 ADDR */
FIELD(DSC_HI, AM, 0, 6)
FIELD(DSC_HI, IH, 6, 1)
FIELD(DSC_HI, ADDR, 12, 52)
#define VTD_DSC_IOTLB_RSVD0     (BIT_ULL(8) | MAKE_64BIT_MASK(12, 4) | \
                                 MAKE_64BIT_MASK(32, 32))
#define VTD_DSC_ADDR_RSVD1      MAKE_64BIT_MASK(7, 5)
/* device-TLB: 15:12 PFSID, 20:16 MIP, 47:32 SID, 63:52 PFSID; hi: 0 S */
#define VTD_DSC_DEVTLB_RSVD0    (MAKE_64BIT_MASK(4, 5) | \
                                 MAKE_64BIT_MASK(21, 11) | \
                                 MAKE_64BIT_MASK(48, 4))
#define VTD_DSC_DEVTLB_RSVD1    MAKE_64BIT_MASK(1, 11)
/* wait: 4 IF, 5 SW, 6 FN, 7 PD, 63:32 status data; hi 63:2 address */
FIELD(DSC_WAIT, IF, 4, 1)
FIELD(DSC_WAIT, SW, 5, 1)
FIELD(DSC_WAIT, FN, 6, 1)
FIELD(DSC_WAIT, PD, 7, 1)
FIELD(DSC_WAIT, SDATA, 32, 32)
#define VTD_DSC_WAIT_RSVD0      (BIT_ULL(8) | MAKE_64BIT_MASK(12, 20))
#define VTD_DSC_WAIT_RSVD1      MAKE_64BIT_MASK(0, 2)
/* PASID-based IOTLB / PASID cache: 31:16 DID, 51:32 PASID */
#define VTD_DSC_PASID_RSVD0     (MAKE_64BIT_MASK(6, 3) | \
                                 MAKE_64BIT_MASK(12, 4) | \
                                 MAKE_64BIT_MASK(52, 12))
/*
 * PASID-based device-TLB: 8:4 MIP, 15:12 PFSID, 31:16 SID, 51:32 PASID;
 * hi: 0 G, 11 S, 63:12 ADDR
 */
FIELD(DSC_PDT, SID, 16, 16)
#define VTD_DSC_PDEVTLB_RSVD1   MAKE_64BIT_MASK(1, 10)

/* IQERCD.IQEI values (11.4.9.9) */
#define VTD_IQEI_INVALID_DSC    1       /* reserved field / invalid type */
#define VTD_IQEI_TAIL_ALIGN     2       /* IQT not 256-bit aligned, DW=1 */
#define VTD_IQEI_FETCH          6       /* descriptor fetch failed */

/*
 * ---------------------------------------------------------------------
 * Fault reasons (spec 7.1.3, "Fault conditions and remapping hardware
 * behavior for various requests"; legacy mode codes 1h..Dh, scalable
 * mode codes 30h..90h, with the spec's mnemonics; Linux's dmar.c prints
 * the same table).
 * ------------------------------------------------------------------
 */
enum {
    /* legacy mode */
    VTD_FR_ROOT_NP          = 0x01, /* root entry present clear */
    VTD_FR_CE_NP            = 0x02, /* context entry present clear */
    VTD_FR_CE_INVALID       = 0x03, /* invalid context entry programming */
    VTD_FR_ADDR_BEYOND_AW   = 0x04, /* input address above 2^AW */
    VTD_FR_WRITE            = 0x05, /* write without W permission */
    VTD_FR_READ             = 0x06, /* read without R permission */
    VTD_FR_SS_ACCESS        = 0x07, /* SS paging entry access failed */
    VTD_FR_ROOT_ACCESS      = 0x08, /* root entry access failed */
    VTD_FR_CE_ACCESS        = 0x09, /* context entry access failed */
    VTD_FR_ROOT_RSVD        = 0x0a, /* root entry reserved field */
    VTD_FR_CE_RSVD          = 0x0b, /* context entry reserved field */
    VTD_FR_SS_RSVD          = 0x0c, /* SS paging entry reserved field */
    VTD_FR_CE_TT_BLOCKED    = 0x0d, /* request type blocked by TT */
    VTD_FR_INTERRUPT_ADDR   = 0x0e, /* LGN.4: output in interrupt range */
    /* scalable mode */
    VTD_FR_SM_RTA_INVALID   = 0x30, /* SRTA.1: invalid RTADDR.TTM */
    VTD_FR_SM_TTM_PASID     = 0x31, /* SRTA.2: legacy TTM, request w/ PASID */
    VTD_FR_SM_ROOT_ACCESS   = 0x38, /* SRT.1 */
    VTD_FR_SM_ROOT_NP       = 0x39, /* SRT.2 */
    VTD_FR_SM_ROOT_RSVD     = 0x3a, /* SRT.3 */
    VTD_FR_SM_CE_ACCESS     = 0x40, /* SCT.1 */
    VTD_FR_SM_CE_NP         = 0x41, /* SCT.2 */
    VTD_FR_SM_CE_RSVD       = 0x42, /* SCT.3 */
    VTD_FR_SM_CE_INVALID    = 0x43, /* SCT.4 */
    VTD_FR_SM_CE_DTE        = 0x44, /* SCT.5: translation request, DTE=0 */
    VTD_FR_SM_CE_PASIDE     = 0x45, /* SCT.6: request w/ PASID, PASIDE=0 */
    VTD_FR_SM_CE_PDTS       = 0x46, /* SCT.7: PASID beyond PDTS */
    VTD_FR_SM_CE_RID_PASID  = 0x48, /* SCT.9: RID_PASID beyond PSS */
    VTD_FR_SM_PDE_ACCESS    = 0x50, /* SPD.1 */
    VTD_FR_SM_PDE_NP        = 0x51, /* SPD.2 */
    VTD_FR_SM_PDE_RSVD      = 0x52, /* SPD.3 */
    VTD_FR_SM_PTE_ACCESS    = 0x58, /* SPT.1 */
    VTD_FR_SM_PTE_NP        = 0x59, /* SPT.2 */
    VTD_FR_SM_PTE_RSVD      = 0x5a, /* SPT.3 */
    VTD_FR_SM_PTE_INVALID   = 0x5b, /* SPT.4: PGTT / AW / FSPM invalid */
    VTD_FR_SM_PTE_ERE       = 0x5c, /* SPT.5: execute request, ERE=0 */
    VTD_FR_SM_PTE_SRE       = 0x5d, /* SPT.6: supervisor request, SRE=0 */
    VTD_FR_SM_FS_ACCESS     = 0x70, /* SFS.1 */
    VTD_FR_SM_FS_NP         = 0x71, /* SFS.2 */
    VTD_FR_SM_FS_RSVD       = 0x72, /* SFS.3 */
    VTD_FR_SM_FSPTPTR       = 0x73, /* SFS.4: invalid FSPTPTR */
    VTD_FR_SM_FS_NEST_MGAW  = 0x74, /* SFS.5: FS entry GPA beyond MGAW */
    VTD_FR_SM_FS_NEST_READ  = 0x76, /* SFS.7: SS denies reading a FS entry */
    VTD_FR_SM_FS_NEST_WRITE = 0x77, /* SFS.8: SS denies FS A/D update */
    VTD_FR_SM_SS_ACCESS     = 0x78, /* SSL.1 */
    VTD_FR_SM_SS_NP         = 0x79, /* SSL.2: R = W = 0 */
    VTD_FR_SM_SS_RSVD       = 0x7a, /* SSL.3 */
    VTD_FR_SM_SS_INVALID    = 0x7b, /* SSL.4 */
    VTD_FR_SM_NON_CANONICAL = 0x80, /* SGN.1 */
    VTD_FR_SM_US            = 0x81, /* SGN.2: user request, U/S = 0 */
    VTD_FR_SM_EXEC          = 0x82, /* SGN.3 */
    VTD_FR_SM_BEYOND_AW     = 0x83, /* SGN.4: address beyond MGAW/AGAW */
    VTD_FR_SM_SS_ADDR       = 0x84, /* SGN.5 */
    VTD_FR_SM_WRITE         = 0x85, /* SGN.6 */
    VTD_FR_SM_READ          = 0x86, /* SGN.7 */
    VTD_FR_SM_INTERRUPT_ADDR = 0x87, /* SGN.8: output in interrupt range */
};

/*
 * ---------------------------------------------------------------------
 * State
 * ------------------------------------------------------------------
 */
typedef struct IoasidVtdAS {
    IoasidVtdState *s;
    PCIBus *bus;
    uint8_t devfn;
    IOMMUMemoryRegion iommu;
    MemoryRegion root;
    MemoryRegion msi;
    AddressSpace as;
    IOMMUNotifierFlag notifiers;    /* flags of registered notifiers */
} IoasidVtdAS;

/* Root-table translation mode latched by SRTP (RTADDR.TTM). */
enum {
    VTD_RTM_LEGACY = 0,
    VTD_RTM_SCALABLE = 1,
    VTD_RTM_INVALID = 2,
};

struct IoasidVtdState {
    X86IOMMUState parent_obj;

    MemoryRegion mmio;
    PCIBus *bus;
    GHashTable *as_by_bus;      /* PCIBus * -> IoasidVtdAS *[256] */
    IoasidIotlb *iotlb;
    GHashTable *ctx_cache;      /* (sid, pasid, request kind) -> VtdCtx */

    /* properties */
    uint8_t aw_bits;
    bool scalable;
    uint8_t pasid_bits;
    bool fs, ss, nested, fs5lp, ssads;
    uint32_t iotlb_size;
    bool ctx_cache_on;

    uint64_t cap, ecap;

    /* register state */
    uint32_t gsts;
    uint64_t rtaddr;
    uint64_t root;              /* latched by SRTP */
    uint32_t root_mode;         /* VTD_RTM_* latched by SRTP */
    uint64_t ccmd;
    uint64_t iva, iotlb_reg;
    uint32_t fsts, fectl, fedata, feaddr, feuaddr;
    uint64_t frcd[VTD_NFR * 2];
    uint32_t fault_next;        /* next fault record to write */
    uint64_t iqh, iqt, iqa, iqercd;
    bool iq_busy;               /* processing the queue (re-entrancy) */
    uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
    uint64_t irta;
    uint64_t irt;               /* interrupt remapping table, by SIRTP */
    uint64_t irt_eime;          /* IRTA S / EIME latched by SIRTP */

    MemoryRegion ioapic_mr;     /* the IOAPIC's interrupt requests */
    AddressSpace ioapic_as;
};

/* A translation request, as seen by the remapping hardware. */
typedef struct VtdReq {
    uint16_t sid;
    uint32_t pasid;             /* IOASID_NO_PASID if none */
    uint64_t addr;
    uint8_t access;             /* IOASID_PERM_* */
    bool priv;
    bool ats;                   /* ATS translation request */
} VtdReq;

/* vtd.c */
void vtd_record_fault(IoasidVtdState *s, const VtdReq *req, uint8_t reason);
void vtd_fault_event(IoasidVtdState *s);
void vtd_send_msi(uint32_t addr_lo, uint32_t addr_hi, uint32_t data);
unsigned vtd_haw(IoasidVtdState *s);
uint64_t vtd_haw_mask(IoasidVtdState *s);

/*
 * vtd-translate.c.  vtd_translate() returns 0, or -1 with *@reason set
 * (0 for an ATS request whose walk found no translation: a completion
 * with R = W = 0, nothing recorded).
 */
int vtd_translate(IoasidVtdState *s, const VtdReq *req, bool report,
                  IoasidResult *res, uint8_t *reason);
extern const PCIIOMMUOps vtd_pci_iommu_ops;
void vtd_notify_unmap_all(IoasidVtdState *s);
void vtd_ctx_cache_flush(IoasidVtdState *s);
IoasidDmaStatus vtd_ioasid_dma_rw(IoasidIOMMU *iommu,
                                  const IoasidDmaRequest *req, void *buf,
                                  DMADirection dir, uint64_t *fault_addr);
IoasidDmaStatus vtd_ioasid_ats_translate(IoasidIOMMU *iommu,
                                         const IoasidDmaRequest *req,
                                         bool no_write,
                                         IoasidAtsCompletion *cpl);

/* vtd-ir.c */
void vtd_ir_init(IoasidVtdState *s);
void vtd_ir_set_table(IoasidVtdState *s);
bool vtd_ir_iec_dsc(IoasidVtdState *s, const uint64_t *d);
MemTxResult vtd_ir_request(IoasidVtdState *s, hwaddr offset, uint64_t val,
                           unsigned size, uint16_t sid);
int vtd_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst,
                  uint16_t sid);

/* vtd-inval.c */
void vtd_ccmd_write(IoasidVtdState *s);
void vtd_iotlb_reg_write(IoasidVtdState *s);
void vtd_iq_process(IoasidVtdState *s);
void vtd_iotlb_flush_all(IoasidVtdState *s);

#endif /* HW_VTD_VTD_INTERNAL_H */
