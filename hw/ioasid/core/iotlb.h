/*
 * qemu-ioasid core: the IOTLB, a tagged cache of leaf translations.
 *
 * Entries are tagged with
 *   - a domain tag (VT-d domain id, Arm VMID),
 *   - an address-space tag (VT-d PASID, Arm ASID; IOASID_TAG_NONE),
 *   - a kind (IOASID_KIND_S1 / _S2 / _NESTED, ORed with IOASID_IOTLB_PRIV
 *     for translations made for privileged requests, whose permissions
 *     differ),
 * and hold one page (or block) of any size: input base, page shift,
 * output base, permissions.
 *
 * Lookup hashes (tags, input page) once per page size present in the
 * cache, so it costs O(number of page sizes), not O(entries).
 * Invalidation of a few pages probes the same hash and costs the same
 * with 16 or 16,000 entries cached; larger ranges walk the entries of the
 * matching tags only.  Capacity is fixed at creation; a fill of a full
 * cache evicts one entry (CLOCK), it never flushes.
 *
 * Rules: over-invalidation is always allowed; an entry may be used until
 * an invalidation covering it, and never after.
 *
 * Not thread-safe: the caller serializes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_CORE_IOTLB_H
#define IOASID_CORE_IOTLB_H

#include "ioasid-types.h"
#include "ioasid.h"

/* Kind flag: entry made for a privileged (supervisor) request. */
#define IOASID_IOTLB_PRIV       0x8
/*
 * Matches any domain / address-space tag in an invalidation; reserved,
 * never the tag of an entry (nor is IOASID_TAG_NONE a wildcard).
 */
#define IOASID_TAG_ANY          (UINT32_MAX - 1)

typedef struct IoasidIotlb IoasidIotlb;

/* Counters; read them with ioasid_iotlb_stats(). */
typedef struct IoasidIotlbStats {
    uint64_t hits;
    uint64_t misses;            /* lookups that found no usable entry     */
    uint64_t perm_misses;       /* ...of which an entry lacked the perms  */
    uint64_t walks;             /* page-table walks (translate pipeline)  */
    uint64_t inserts;
    uint64_t evictions;         /* entries dropped to make room           */
    uint64_t invalidations;     /* invalidation requests                  */
    uint64_t inv_entries;       /* entries dropped by invalidations       */
    uint64_t inv_walks;         /* range invalidations done by tag walks  */
    uint64_t entries;           /* entries cached now                     */
    uint64_t capacity;
} IoasidIotlbStats;

/* The tag triple of an entry (and of a lookup). */
typedef struct IoasidIotlbTag {
    uint32_t domain;
    uint32_t as_tag;
    uint8_t kind;               /* IOASID_KIND_* [| IOASID_IOTLB_PRIV]    */
} IoasidIotlbTag;

/* One cached translation. */
typedef struct IoasidIotlbEntry {
    uint64_t iova;              /* input page base                        */
    uint64_t out;               /* output page base                       */
    uint8_t page_shift;
    uint8_t perms;              /* IOASID_PERM_* usable without a walk    */
} IoasidIotlbEntry;

/* A cache of at most @capacity entries (rounded up to at least 16). */
IoasidIotlb *ioasid_iotlb_new(size_t capacity);
void ioasid_iotlb_free(IoasidIotlb *tlb);

/*
 * Find the entry with tag @tag covering @iova, of any page size.
 * Counts a hit or a miss only when @count.  Returns NULL if none.
 * The pointer is valid until the next insert or invalidation.
 */
const IoasidIotlbEntry *ioasid_iotlb_lookup(IoasidIotlb *tlb,
                                            const IoasidIotlbTag *tag,
                                            uint64_t iova, bool count);

/*
 * Insert (or replace) the translation of the page of 2^@page_shift bytes
 * containing @iova to the page containing @out, with @perms.
 */
void ioasid_iotlb_insert(IoasidIotlb *tlb, const IoasidIotlbTag *tag,
                         uint64_t iova, uint64_t out, uint8_t page_shift,
                         uint8_t perms);

/* Invalidate everything. */
void ioasid_iotlb_inv_all(IoasidIotlb *tlb);

/*
 * General invalidation: every entry whose domain matches @domain and
 * address-space tag matches @as_tag (either may be IOASID_TAG_ANY), whose
 * kind (without the PRIV flag) is in @kinds (a mask of 1 << IOASID_KIND_*,
 * 0 for all kinds), and whose page overlaps [@addr, @addr + @size)
 * (@size == 0: the whole address space).
 * @leaf_only: the caller only changed leaf entries.  The IOTLB only holds
 * leaf translations (no paging-structure cache), so it removes the same
 * entries either way: both are exact for it.
 */
typedef struct IoasidIotlbInval {
    uint32_t domain;
    uint32_t as_tag;
    uint8_t kinds;
    bool leaf_only;
    uint64_t addr;
    uint64_t size;
} IoasidIotlbInval;

#define IOASID_KINDS_ALL        0

/* Returns the number of entries removed. */
size_t ioasid_iotlb_invalidate(IoasidIotlb *tlb, const IoasidIotlbInval *inv);

/*
 * Shorthands.  ioasid_iotlb_inv_range(): @as_tag may be IOASID_TAG_ANY;
 * @size 0 means the single address @addr (its page in every size).
 */
size_t ioasid_iotlb_inv_domain(IoasidIotlb *tlb, uint32_t domain);
size_t ioasid_iotlb_inv_as(IoasidIotlb *tlb, uint32_t domain,
                           uint32_t as_tag);
size_t ioasid_iotlb_inv_range(IoasidIotlb *tlb, uint32_t domain,
                              uint32_t as_tag, uint64_t addr, uint64_t size,
                              bool leaf_only);

/* Count a page-table walk (used by the translate pipeline). */
void ioasid_iotlb_count_walk(IoasidIotlb *tlb);
/*
 * Count a lookup made with @count false: a hit, or a miss (@perm_miss: an
 * entry was found but lacked the requested permissions).
 */
void ioasid_iotlb_count_lookup(IoasidIotlb *tlb, bool hit, bool perm_miss);

/* A snapshot of the counters. */
void ioasid_iotlb_stats(const IoasidIotlb *tlb, IoasidIotlbStats *st);
/* The live counters (e.g. for a device's debug registers or QOM props). */
const IoasidIotlbStats *ioasid_iotlb_stats_ptr(const IoasidIotlb *tlb);
void ioasid_iotlb_reset_stats(IoasidIotlb *tlb);

/*
 * Call @fn for every cached entry (tests, debug dumps); @fn must not
 * modify the cache.  Stops when @fn returns non-zero.
 */
typedef int (*IoasidIotlbFn)(const IoasidIotlbTag *tag,
                             const IoasidIotlbEntry *e, void *opaque);
int ioasid_iotlb_foreach(const IoasidIotlb *tlb, IoasidIotlbFn fn,
                         void *opaque);

#endif /* IOASID_CORE_IOTLB_H */
