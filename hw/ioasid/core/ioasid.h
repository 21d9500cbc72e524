/*
 * qemu-ioasid core: IOASID objects and the (RID, PASID) attach table.
 *
 * An IOASID is an I/O address space: one page table (IoasidPgtCfg), and
 * for nested translation a parent stage-2 IOASID whose output space the
 * stage-1 table lives in.  It is NOT a PASID: a DMA's RID, or its (RID,
 * PASID) pair, selects an IOASID through the attach table, and one IOASID
 * may be attached at many (RID, PASID) pairs of many devices.
 *
 * Device models decode their configuration structures (VT-d context and
 * PASID entries, SMMUv3 STE / CD) into IOASIDs and attach them here; the
 * table is thus their decoded-configuration cache (context-cache,
 * PASID-cache, STE / CD cache) and their configuration invalidation
 * commands detach entries.  See docs/devel/ioasid-core.rst.
 *
 * Not thread-safe: the caller serializes (QEMU: the BQL or the IOMMU's
 * own lock).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_CORE_IOASID_H
#define IOASID_CORE_IOASID_H

#include "ioasid-types.h"

/* A cache tag that is not used (e.g. no address-space tag). */
#define IOASID_TAG_NONE         UINT32_MAX

/*
 * Kind of translation an IOASID (and each IOTLB entry made from it)
 * produces: part of the IOTLB tag.
 */
enum {
    IOASID_KIND_S1 = 1,         /* single stage, stage-1 format            */
    IOASID_KIND_S2 = 2,         /* single stage, stage-2 format / identity */
    IOASID_KIND_NESTED = 3,     /* stage 1 combined with stage 2           */
    IOASID_KIND__MAX = 4,
};

typedef struct Ioasid Ioasid;

struct Ioasid {
    uint32_t id;                /* chosen by the owner, for traces only    */
    IoasidPgtCfg cfg;           /* the table (stage 1 when nested)         */
    Ioasid *parent;             /* stage-2 IOASID (a reference), or NULL   */
    /*
     * IOTLB tags of the translations made through this IOASID:
     * @domain_tag: VT-d domain id / Arm VMID (stage-2 owner);
     * @as_tag: PASID (VT-d first stage) / Arm ASID, or IOASID_TAG_NONE.
     */
    uint32_t domain_tag;
    uint32_t as_tag;
    uint8_t kind;               /* IOASID_KIND_*, derived at creation      */
    unsigned refcount;
    void *opaque;               /* free for the owner (device model)       */
};

/*
 * A new IOASID with one reference.  @parent (may be NULL) is referenced
 * and makes the IOASID nested.  Never returns NULL (aborts on ENOMEM).
 */
Ioasid *ioasid_new(uint32_t id, const IoasidPgtCfg *cfg, Ioasid *parent,
                   uint32_t domain_tag, uint32_t as_tag);
Ioasid *ioasid_ref(Ioasid *as);
/* Drop a reference; frees (and unreferences the parent) on the last. */
void ioasid_unref(Ioasid *as);

/* ---------------------------------------------------------------------- */

/*
 * The attach table: (RID) and (RID, PASID) -> IOASID.
 * Per-RID radix of PASIDs: lookup is a handful of dependent loads, never
 * allocates; memory grows with the attached entries and is returned as
 * they are detached.
 */
typedef struct IoasidTable IoasidTable;

IoasidTable *ioasid_table_new(void);
/* Detaches everything, then frees the table. */
void ioasid_table_free(IoasidTable *t);

/*
 * Attach @as at @rid / @pasid (IOASID_NO_PASID: requests without PASID),
 * replacing (and unreferencing) any previous IOASID there.  The table
 * takes its own reference.  Returns 0, or -1 for a PASID above
 * IOASID_PASID_MAX.
 */
int ioasid_attach(IoasidTable *t, uint16_t rid, uint32_t pasid, Ioasid *as);
/* Returns 0 if something was detached, -1 if nothing was attached. */
int ioasid_detach(IoasidTable *t, uint16_t rid, uint32_t pasid);
/* Detach the RID-only entry and every PASID of @rid; returns how many. */
size_t ioasid_detach_rid(IoasidTable *t, uint16_t rid);
/* Detach every PASID entry of @rid (keep the RID-only one). */
size_t ioasid_detach_rid_pasids(IoasidTable *t, uint16_t rid);
/* Detach every entry that references @as; returns how many. */
size_t ioasid_detach_ioasid(IoasidTable *t, const Ioasid *as);
/* Detach everything; returns how many. */
size_t ioasid_detach_all(IoasidTable *t);

/* The IOASID at @rid / @pasid, or NULL.  No reference is taken. */
Ioasid *ioasid_lookup(const IoasidTable *t, uint16_t rid, uint32_t pasid);

/* Number of attached entries. */
size_t ioasid_table_count(const IoasidTable *t);
/* Bytes of memory used by the table's own structures. */
size_t ioasid_table_mem(const IoasidTable *t);

/*
 * Call @fn for every entry, in (RID, PASID) order with the RID-only entry
 * first; stop early when @fn returns non-zero (that value is returned).
 * @fn must not modify the table.
 */
typedef int (*IoasidAttachFn)(uint16_t rid, uint32_t pasid, Ioasid *as,
                              void *opaque);
int ioasid_table_foreach(const IoasidTable *t, IoasidAttachFn fn,
                         void *opaque);
/* The same for the entries of one RID. */
int ioasid_table_foreach_rid(const IoasidTable *t, uint16_t rid,
                             IoasidAttachFn fn, void *opaque);

#endif /* IOASID_CORE_IOASID_H */
