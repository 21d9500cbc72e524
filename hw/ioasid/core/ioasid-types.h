/*
 * qemu-ioasid core: shared types of the translation model.
 *
 * Everything under hw/ioasid/core/ is QEMU-independent: it includes only
 * the C standard library, so that it builds and is unit-tested, sanitized
 * and fuzzed in seconds by the standalone meson build at the top of the
 * repository.  Device models (hw/vtd, hw/smmuv3) decode their hardware's
 * structures (context / PASID entries, STE / CD) into these types.
 *
 * The model (see docs/devel/ioasid-core.rst):
 *   - an IOASID is an I/O address space, i.e. a page table with a format;
 *   - a DMA carries a RID and optionally a PASID (SubstreamID); the IOMMU
 *     matches on RID or (RID, PASID) and so selects an IOASID;
 *   - a nested IOASID is a stage-1 table whose table and output addresses
 *     are inputs of a parent (stage-2) IOASID.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_CORE_TYPES_H
#define IOASID_CORE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "No PASID": requests without a PASID TLP prefix / SubstreamID. */
#define IOASID_NO_PASID         UINT32_MAX
#define IOASID_PASID_BITS       20
#define IOASID_PASID_MAX        ((1u << IOASID_PASID_BITS) - 1)

/* Access kinds; also used as the permission set granted by a translation. */
enum {
    IOASID_PERM_NONE  = 0,
    IOASID_PERM_READ  = 1u << 0,
    IOASID_PERM_WRITE = 1u << 1,
    IOASID_PERM_EXEC  = 1u << 2,
    IOASID_PERM_RW    = IOASID_PERM_READ | IOASID_PERM_WRITE,
};

/*
 * Page-table formats.  Each names the specification structure it decodes.
 */
typedef enum IoasidFormat {
    IOASID_FMT_NONE = 0,
    /* Identity (pass-through): output address == input address. */
    IOASID_FMT_IDENTITY,
    /* VT-d second-stage paging structures (VT-d spec 3.7, 9.8). */
    IOASID_FMT_VTD_SS,
    /* VT-d first-stage paging, IA-32e 4/5-level (VT-d spec 3.6, 9.7). */
    IOASID_FMT_VTD_FS,
    /* Arm VMSAv8-64 stage 1, AArch64 descriptors (SMMUv3 CD, Arm ARM D8). */
    IOASID_FMT_ARM_S1,
    /* Arm VMSAv8-64 stage 2 (SMMUv3 STE S2*, Arm ARM D8). */
    IOASID_FMT_ARM_S2,
    IOASID_FMT__MAX,
} IoasidFormat;

/*
 * Guest-memory access used by the walkers.  Table fetches and A/D updates
 * go through it; the device model routes them to the right address space
 * (system memory).  Nested walks translate table addresses through stage 2
 * before calling it.
 */
typedef struct IoasidMemOps {
    void *opaque;
    /*
     * Read @len bytes at physical address @addr.  Returns 0, or -1 for an
     * external abort (no memory there); the walker then reports
     * IOASID_FAULT_EXT_ABORT.
     */
    int (*read)(void *opaque, uint64_t addr, void *buf, size_t len);
    /*
     * Atomically: if the 64-bit little-endian word at @addr equals @expect
     * replace it with @val.  Returns 0 on success, 1 if the word differed
     * (its current value stored in *@cur), -1 on an external abort.
     * May be NULL: then hardware A/D updates are treated as disabled.
     */
    int (*cmpxchg64)(void *opaque, uint64_t addr, uint64_t expect,
                     uint64_t val, uint64_t *cur);
} IoasidMemOps;

/*
 * Configuration of one page table (one stage).  The device model fills it
 * from the hardware structure (VT-d context / PASID entry, SMMUv3 STE / CD).
 */
typedef struct IoasidPgtCfg {
    IoasidFormat fmt;
    /* Table root (SLPTPTR, FLPTPTR, TTB0, VTTBR.BADDR), already masked. */
    uint64_t root;
    /* Arm stage 1: TTB1 (upper VA range); ignored otherwise. */
    uint64_t root1;
    /*
     * Number of levels.  VT-d SS: 3, 4, 5 (AGAW 39/48/57 bits);
     * VT-d FS: 4 or 5.  Arm: derived from tsz / granule / sl0 by the
     * walker when 0.
     */
    uint8_t levels;
    /* Output address size in bits (MGAW / IPS / S2PS / OAS). */
    uint8_t oas;

    /* ---- VT-d ---- */
    bool vtd_wpe;       /* FS: write-protect enable (supervisor writes)   */
    bool vtd_sre;       /* FS: supervisor requests enabled for this PASID */
    bool vtd_ad;        /* FS: EAFE / A-D enable; SS: SSADE (A/D for SS) */
    bool vtd_sl_exec;   /* SS: execute permission honoured (ECAP.SLEE)   */
    bool vtd_nxe;       /* FS: XD bit honoured                            */

    /* ---- Arm VMSAv8-64 ---- */
    uint8_t arm_granule;    /* TG0 as page shift: 12, 14 or 16            */
    uint8_t arm_granule1;   /* TG1 as page shift (stage 1 TTB1)            */
    uint8_t arm_tsz;        /* T0SZ / S2T0SZ                               */
    uint8_t arm_t1sz;       /* T1SZ                                        */
    uint8_t arm_sl0;        /* S2SL0, raw field                            */
    bool arm_epd0, arm_epd1;/* table walks disabled for TTB0 / TTB1        */
    bool arm_ttb1_valid;    /* TTB1 range present (CD with both halves)    */
    bool arm_affd;          /* access flag faults disabled (AFFD)          */
    bool arm_ha, arm_hd;    /* hardware access flag / dirty state updates  */
    bool arm_ds;            /* 52-bit descriptors (LPA2)                   */
    bool arm_aa64;          /* AArch64 tables (must be true)               */
} IoasidPgtCfg;

/* Why a translation failed.  Each model maps these to its fault codes. */
typedef enum IoasidFaultReason {
    IOASID_FAULT_NONE = 0,
    IOASID_FAULT_TRANSLATION,   /* entry not present / invalid            */
    IOASID_FAULT_RESERVED,      /* reserved bit set in an entry           */
    IOASID_FAULT_PERMISSION,    /* access not permitted                   */
    IOASID_FAULT_ADDR_SIZE,     /* output or table address beyond OAS     */
    IOASID_FAULT_INPUT_RANGE,   /* input address beyond IAS / non-canonical */
    IOASID_FAULT_ACCESS_FLAG,   /* Arm AF == 0 and no HW update           */
    IOASID_FAULT_EXT_ABORT,     /* table fetch / A-D update failed        */
    IOASID_FAULT_CONFIG,        /* invalid configuration (levels, TG...)  */
    IOASID_FAULT__MAX,
} IoasidFaultReason;

/* A precise description of a failed translation. */
typedef struct IoasidFault {
    IoasidFaultReason reason;
    uint8_t stage;          /* 1 or 2                                      */
    int8_t level;           /* level of the offending entry; -1 unknown    */
    /* Stage-2 fault taken while fetching a stage-1 table (Arm CLASS=TT). */
    bool s2_on_s1_walk;
    uint8_t access;         /* IOASID_PERM_* that was requested            */
    uint64_t input_addr;    /* address input to the faulting stage         */
    uint64_t iova;          /* the request's original input address        */
    uint64_t entry_addr;    /* physical address of the offending entry     */
    uint64_t entry;         /* its value (0 if it could not be read)       */
} IoasidFault;

/* A translation request as carried by a DMA or an ATS request. */
typedef struct IoasidRequest {
    uint16_t rid;           /* bus << 8 | devfn                            */
    uint32_t pasid;         /* IOASID_NO_PASID, or a 20-bit PASID          */
    uint64_t iova;
    uint8_t access;         /* IOASID_PERM_* requested                     */
    bool priv;              /* privileged (supervisor) request             */
    /*
     * ATS translation request: no permission check of @access; the result
     * carries the permissions granted.  Untranslated DMA otherwise.
     */
    bool ats;
} IoasidRequest;

/* A successful translation. */
typedef struct IoasidResult {
    uint64_t out;           /* output address of the request's iova        */
    uint8_t page_shift;     /* log2 of the page (block) size               */
    uint8_t perms;          /* IOASID_PERM_* granted                       */
    uint8_t levels_walked;  /* table entries read (0 on a cache hit)       */
} IoasidResult;

static inline uint64_t ioasid_page_mask(uint8_t shift)
{
    return ~((UINT64_C(1) << shift) - 1);
}

#endif /* IOASID_CORE_TYPES_H */
