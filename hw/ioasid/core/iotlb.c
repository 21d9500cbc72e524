/*
 * qemu-ioasid core: the IOTLB, a tagged cache of leaf translations.
 *
 * Layout: a fixed array of entries; a chained hash over them keyed by
 * (domain, as_tag, kind, page base, page shift), the chains linked by
 * entry index; a second, small hash of "tag nodes", one per (domain,
 * as_tag, kind) present, each with a list of its entries and a mask of
 * the page sizes it holds.  Free entries and tag nodes are on free lists,
 * so nothing is allocated after creation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "iotlb.h"

#define NIL     (-1)
/* Range invalidations of at most this many probes never walk a tag. */
#define PROBE_MAX   64

typedef struct Ent {
    IoasidIotlbEntry e;
    uint64_t key1;          /* domain << 32 | as_tag                   */
    uint8_t kind;
    uint8_t ref;            /* CLOCK reference bit                     */
    uint32_t hash;          /* bucket                                  */
    int32_t hnext, hprev;   /* hash chain; free list through hnext     */
    int32_t tnext, tprev;   /* entries of the same tag                 */
    int32_t tag;            /* tag node, NIL when free                 */
} Ent;

typedef struct TagNode {
    uint64_t key1;
    uint8_t kind;
    uint32_t hash;
    int32_t hnext, hprev;   /* tag hash chain; free list through hnext */
    int32_t anext, aprev;   /* list of the tags in use                 */
    uint32_t dhash;         /* bucket of the domain-only hash          */
    int32_t dnext, dprev;   /* chain of the domain-only hash           */
    int32_t head;           /* first entry                             */
    uint32_t count;
    uint64_t shifts;        /* page sizes held (a superset)            */
} TagNode;

struct IoasidIotlb {
    uint32_t cap;
    uint32_t bmask;         /* buckets - 1 (all hashes)                */
    uint8_t hshift;         /* 64 - log2(buckets)                      */
    Ent *ents;
    int32_t *buckets;
    TagNode *tags;
    int32_t *tbuckets;
    int32_t *dbuckets;      /* tags by domain alone                    */
    int32_t free_ent, free_tag;
    uint32_t fresh_ent;     /* entries [fresh_ent, cap) never used yet */
    uint32_t fresh_tag;
    int32_t active;         /* first tag in use                        */
    uint32_t hand;          /* CLOCK hand                              */
    uint64_t shifts;        /* page sizes present, exact               */
    uint32_t shift_count[64];
    IoasidIotlbStats st;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);

    if (!p) {
        abort();
    }
    return p;
}

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

static inline uint32_t ent_hash(const IoasidIotlb *tlb, uint64_t key1,
                                uint8_t kind, uint64_t base, uint8_t shift)
{
    /* Multiply-shift: the high bits depend on every input bit. */
    uint64_t h = ((base >> 12) ^ key1 * UINT64_C(0xc2b2ae3d27d4eb4f) ^
                  ((uint64_t)kind << 56 | (uint64_t)shift << 48)) *
                 UINT64_C(0x9e3779b97f4a7c15);

    return (uint32_t)(h >> tlb->hshift);
}

static inline uint32_t tag_hash(const IoasidIotlb *tlb, uint64_t key1,
                                uint8_t kind)
{
    return (uint32_t)mix64(key1 * UINT64_C(0x9e3779b97f4a7c15) ^ kind) &
           tlb->bmask;
}

static inline uint32_t dom_hash(const IoasidIotlb *tlb, uint32_t domain)
{
    return (uint32_t)mix64(domain * UINT64_C(0x9e3779b97f4a7c15)) &
           tlb->bmask;
}

static inline uint64_t tag_key1(uint32_t domain, uint32_t as_tag)
{
    return (uint64_t)domain << 32 | as_tag;
}

static void iotlb_reset(IoasidIotlb *tlb)
{
    size_t nb = (size_t)tlb->bmask + 1;

    /* NIL is all ones; entries are handed out afresh from index 0. */
    memset(tlb->buckets, 0xff, nb * sizeof(int32_t));
    memset(tlb->tbuckets, 0xff, nb * sizeof(int32_t));
    memset(tlb->dbuckets, 0xff, nb * sizeof(int32_t));
    tlb->free_ent = NIL;
    tlb->free_tag = NIL;
    tlb->fresh_ent = 0;
    tlb->fresh_tag = 0;
    tlb->active = NIL;
    tlb->hand = 0;
    tlb->shifts = 0;
    memset(tlb->shift_count, 0, sizeof(tlb->shift_count));
    tlb->st.entries = 0;
}

IoasidIotlb *ioasid_iotlb_new(size_t capacity)
{
    IoasidIotlb *tlb = xcalloc(1, sizeof(*tlb));
    uint32_t nb = 16;

    if (capacity < 16) {
        capacity = 16;
    }
    if (capacity > (1u << 28)) {
        capacity = 1u << 28;
    }
    while (nb < 2 * capacity) {
        nb <<= 1;
    }
    tlb->cap = capacity;
    tlb->bmask = nb - 1;
    tlb->hshift = 64 - __builtin_ctz(nb);
    tlb->ents = xcalloc(capacity, sizeof(Ent));
    tlb->tags = xcalloc(capacity, sizeof(TagNode));
    tlb->buckets = xcalloc(nb, sizeof(int32_t));
    tlb->tbuckets = xcalloc(nb, sizeof(int32_t));
    tlb->dbuckets = xcalloc(nb, sizeof(int32_t));
    tlb->st.capacity = capacity;
    iotlb_reset(tlb);
    return tlb;
}

void ioasid_iotlb_free(IoasidIotlb *tlb)
{
    if (tlb) {
        free(tlb->ents);
        free(tlb->tags);
        free(tlb->buckets);
        free(tlb->tbuckets);
        free(tlb->dbuckets);
        free(tlb);
    }
}

/* ---- tag nodes ---- */

static int32_t tag_find(const IoasidIotlb *tlb, uint64_t key1, uint8_t kind)
{
    int32_t i = tlb->tbuckets[tag_hash(tlb, key1, kind)];

    for (; i != NIL; i = tlb->tags[i].hnext) {
        if (tlb->tags[i].key1 == key1 && tlb->tags[i].kind == kind) {
            return i;
        }
    }
    return NIL;
}

static int32_t tag_get(IoasidIotlb *tlb, uint64_t key1, uint8_t kind)
{
    int32_t i = tag_find(tlb, key1, kind);
    TagNode *t;

    if (i != NIL) {
        return i;
    }
    /* There are never more tags than entries: one is free. */
    i = tlb->free_tag;
    if (i != NIL) {
        tlb->free_tag = tlb->tags[i].hnext;
    } else {
        i = tlb->fresh_tag++;
    }
    t = &tlb->tags[i];
    t->key1 = key1;
    t->kind = kind;
    t->hash = tag_hash(tlb, key1, kind);
    t->hprev = NIL;
    t->hnext = tlb->tbuckets[t->hash];
    if (t->hnext != NIL) {
        tlb->tags[t->hnext].hprev = i;
    }
    tlb->tbuckets[t->hash] = i;
    t->aprev = NIL;
    t->anext = tlb->active;
    if (t->anext != NIL) {
        tlb->tags[t->anext].aprev = i;
    }
    tlb->active = i;
    t->dhash = dom_hash(tlb, key1 >> 32);
    t->dprev = NIL;
    t->dnext = tlb->dbuckets[t->dhash];
    if (t->dnext != NIL) {
        tlb->tags[t->dnext].dprev = i;
    }
    tlb->dbuckets[t->dhash] = i;
    t->head = NIL;
    t->count = 0;
    t->shifts = 0;
    return i;
}

static void tag_put(IoasidIotlb *tlb, int32_t i)
{
    TagNode *t = &tlb->tags[i];

    if (t->hprev != NIL) {
        tlb->tags[t->hprev].hnext = t->hnext;
    } else {
        tlb->tbuckets[t->hash] = t->hnext;
    }
    if (t->hnext != NIL) {
        tlb->tags[t->hnext].hprev = t->hprev;
    }
    if (t->aprev != NIL) {
        tlb->tags[t->aprev].anext = t->anext;
    } else {
        tlb->active = t->anext;
    }
    if (t->anext != NIL) {
        tlb->tags[t->anext].aprev = t->aprev;
    }
    if (t->dprev != NIL) {
        tlb->tags[t->dprev].dnext = t->dnext;
    } else {
        tlb->dbuckets[t->dhash] = t->dnext;
    }
    if (t->dnext != NIL) {
        tlb->tags[t->dnext].dprev = t->dprev;
    }
    t->hnext = tlb->free_tag;
    tlb->free_tag = i;
}

/* ---- entries ---- */

static void ent_remove(IoasidIotlb *tlb, int32_t i)
{
    Ent *e = &tlb->ents[i];
    TagNode *t = &tlb->tags[e->tag];
    uint8_t sh = e->e.page_shift;

    if (e->hprev != NIL) {
        tlb->ents[e->hprev].hnext = e->hnext;
    } else {
        tlb->buckets[e->hash] = e->hnext;
    }
    if (e->hnext != NIL) {
        tlb->ents[e->hnext].hprev = e->hprev;
    }
    if (e->tprev != NIL) {
        tlb->ents[e->tprev].tnext = e->tnext;
    } else {
        t->head = e->tnext;
    }
    if (e->tnext != NIL) {
        tlb->ents[e->tnext].tprev = e->tprev;
    }
    if (--t->count == 0) {
        tag_put(tlb, e->tag);
    }
    if (--tlb->shift_count[sh] == 0) {
        tlb->shifts &= ~(UINT64_C(1) << sh);
    }
    e->tag = NIL;
    e->hnext = tlb->free_ent;
    tlb->free_ent = i;
    tlb->st.entries--;
}

static int32_t ent_find(const IoasidIotlb *tlb, uint64_t key1, uint8_t kind,
                        uint64_t base, uint8_t shift)
{
    int32_t i = tlb->buckets[ent_hash(tlb, key1, kind, base, shift)];

    for (; i != NIL; i = tlb->ents[i].hnext) {
        const Ent *e = &tlb->ents[i];

        if (e->e.iova == base && e->key1 == key1 && e->kind == kind &&
            e->e.page_shift == shift) {
            return i;
        }
    }
    return NIL;
}

const IoasidIotlbEntry *ioasid_iotlb_lookup(IoasidIotlb *tlb,
                                            const IoasidIotlbTag *tag,
                                            uint64_t iova, bool count)
{
    uint64_t key1 = tag_key1(tag->domain, tag->as_tag);

    for (uint64_t m = tlb->shifts; m; m &= m - 1) {
        uint8_t sh = __builtin_ctzll(m);
        int32_t i = ent_find(tlb, key1, tag->kind, iova & ioasid_page_mask(sh),
                             sh);

        if (i != NIL) {
            tlb->ents[i].ref = 1;
            if (count) {
                tlb->st.hits++;
            }
            return &tlb->ents[i].e;
        }
    }
    if (count) {
        tlb->st.misses++;
    }
    return NULL;
}

/* A free entry, evicting one (CLOCK) when the cache is full. */
static int32_t ent_alloc(IoasidIotlb *tlb)
{
    int32_t i = tlb->free_ent;

    if (i == NIL && tlb->fresh_ent < tlb->cap) {
        return tlb->fresh_ent++;
    }
    if (i == NIL) {
        /* Full: every entry is in use; at most cap + 1 steps. */
        for (;;) {
            uint32_t h = tlb->hand;

            tlb->hand = h + 1 == tlb->cap ? 0 : h + 1;
            if (!tlb->ents[h].ref) {
                i = h;
                break;
            }
            tlb->ents[h].ref = 0;
        }
        ent_remove(tlb, i);
        tlb->st.evictions++;
        i = tlb->free_ent;
    }
    tlb->free_ent = tlb->ents[i].hnext;
    return i;
}

void ioasid_iotlb_insert(IoasidIotlb *tlb, const IoasidIotlbTag *tag,
                         uint64_t iova, uint64_t out, uint8_t page_shift,
                         uint8_t perms)
{
    uint64_t key1 = tag_key1(tag->domain, tag->as_tag);
    uint64_t mask = ioasid_page_mask(page_shift);
    uint64_t base = iova & mask;
    int32_t i, ti;
    Ent *e;
    TagNode *t;

    tlb->st.inserts++;
    i = ent_find(tlb, key1, tag->kind, base, page_shift);
    if (i != NIL) {
        e = &tlb->ents[i];
        e->e.out = out & mask;
        e->e.perms = perms;
        e->ref = 1;
        return;
    }
    i = ent_alloc(tlb);            /* before tag_get: may free a tag */
    ti = tag_get(tlb, key1, tag->kind);
    e = &tlb->ents[i];
    t = &tlb->tags[ti];
    e->e.iova = base;
    e->e.out = out & mask;
    e->e.page_shift = page_shift;
    e->e.perms = perms;
    e->key1 = key1;
    e->kind = tag->kind;
    e->ref = 0;
    e->tag = ti;
    e->hash = ent_hash(tlb, key1, tag->kind, base, page_shift);
    e->hprev = NIL;
    e->hnext = tlb->buckets[e->hash];
    if (e->hnext != NIL) {
        tlb->ents[e->hnext].hprev = i;
    }
    tlb->buckets[e->hash] = i;
    e->tprev = NIL;
    e->tnext = t->head;
    if (e->tnext != NIL) {
        tlb->ents[e->tnext].tprev = i;
    }
    t->head = i;
    t->count++;
    t->shifts |= UINT64_C(1) << page_shift;
    tlb->shift_count[page_shift]++;
    tlb->shifts |= UINT64_C(1) << page_shift;
    tlb->st.entries++;
}

/* ---- invalidation ---- */

void ioasid_iotlb_inv_all(IoasidIotlb *tlb)
{
    tlb->st.invalidations++;
    tlb->st.inv_entries += tlb->st.entries;
    iotlb_reset(tlb);
}

/* Drop every entry of tag @ti; returns how many. */
static size_t inv_tag_all(IoasidIotlb *tlb, int32_t ti)
{
    size_t n = tlb->tags[ti].count;

    /* The tag node is freed with its last entry. */
    for (size_t k = 0; k < n; k++) {
        ent_remove(tlb, tlb->tags[ti].head);
    }
    return n;
}

/* Drop the entries of tag @ti overlapping [@addr, @last]. */
static size_t inv_tag_range(IoasidIotlb *tlb, int32_t ti, uint64_t addr,
                            uint64_t last)
{
    TagNode *t = &tlb->tags[ti];
    uint64_t key1 = t->key1, probes = 0;
    uint8_t kind = t->kind;
    size_t n = 0;
    int32_t i, next;

    for (uint64_t m = t->shifts & tlb->shifts; m; m &= m - 1) {
        uint8_t sh = __builtin_ctzll(m);
        uint64_t np = ((last >> sh) - (addr >> sh)) + 1;

        probes += np;
        if (np == 0 || (probes > PROBE_MAX && probes > t->count)) {
            probes = UINT64_MAX;
            break;
        }
    }
    if (probes != UINT64_MAX) {
        /* Hash probes; the tag node may go away with its last entry. */
        for (uint64_t m = t->shifts & tlb->shifts; m; m &= m - 1) {
            uint8_t sh = __builtin_ctzll(m);
            uint64_t base = addr & ioasid_page_mask(sh);
            uint64_t end = last & ioasid_page_mask(sh);

            for (;;) {
                i = ent_find(tlb, key1, kind, base, sh);
                if (i != NIL) {
                    ent_remove(tlb, i);
                    n++;
                }
                if (base == end) {
                    break;
                }
                base += UINT64_C(1) << sh;
            }
        }
        return n;
    }
    tlb->st.inv_walks++;
    for (i = t->head; i != NIL; i = next) {
        const Ent *e = &tlb->ents[i];
        uint64_t elast = e->e.iova + ((UINT64_C(1) << e->e.page_shift) - 1);

        next = e->tnext;
        if (e->e.iova <= last && elast >= addr) {
            ent_remove(tlb, i);
            n++;
        }
    }
    return n;
}

static size_t inv_tag(IoasidIotlb *tlb, int32_t ti,
                      const IoasidIotlbInval *inv, uint64_t last)
{
    if (!inv->size) {
        return inv_tag_all(tlb, ti);
    }
    return inv_tag_range(tlb, ti, inv->addr, last);
}

static bool kind_selected(uint8_t kinds, uint8_t kind)
{
    return !kinds || (kinds & (1u << (kind & ~IOASID_IOTLB_PRIV)));
}

size_t ioasid_iotlb_invalidate(IoasidIotlb *tlb, const IoasidIotlbInval *inv)
{
    uint64_t last = inv->addr + inv->size - 1;
    size_t n = 0;

    if (inv->size && inv->size - 1 > UINT64_MAX - inv->addr) {
        last = UINT64_MAX;
    }
    if (inv->domain == IOASID_TAG_ANY && inv->as_tag == IOASID_TAG_ANY &&
        !inv->kinds && (!inv->size || (inv->addr == 0 &&
                                       last == UINT64_MAX))) {
        n = tlb->st.entries;
        ioasid_iotlb_inv_all(tlb);
        return n;
    }
    tlb->st.invalidations++;
    if (inv->domain != IOASID_TAG_ANY && inv->as_tag != IOASID_TAG_ANY) {
        /* Exact tags: find the tag nodes directly, one per kind. */
        uint64_t key1 = tag_key1(inv->domain, inv->as_tag);

        for (uint8_t k = 1; k < IOASID_KIND__MAX; k++) {
            if (!kind_selected(inv->kinds, k)) {
                continue;
            }
            for (int p = 0; p < 2; p++) {
                int32_t ti = tag_find(tlb, key1, k | (p ? IOASID_IOTLB_PRIV
                                                        : 0));
                if (ti != NIL) {
                    n += inv_tag(tlb, ti, inv, last);
                }
            }
        }
    } else {
        /*
         * Wildcard: the tags of the domain (its domain-hash chain), or
         * every tag in use for any domain.
         */
        bool by_dom = inv->domain != IOASID_TAG_ANY;
        int32_t ti, next;

        ti = by_dom ? tlb->dbuckets[dom_hash(tlb, inv->domain)] : tlb->active;
        for (; ti != NIL; ti = next) {
            TagNode *t = &tlb->tags[ti];
            uint32_t dom = t->key1 >> 32, ast = (uint32_t)t->key1;

            /*
             * inv_tag may free this node and the entries it removes never
             * belong to another tag, so the next node is stable.
             */
            next = by_dom ? t->dnext : t->anext;
            if ((inv->domain != IOASID_TAG_ANY && dom != inv->domain) ||
                (inv->as_tag != IOASID_TAG_ANY && ast != inv->as_tag) ||
                !kind_selected(inv->kinds, t->kind)) {
                continue;
            }
            n += inv_tag(tlb, ti, inv, last);
        }
    }
    tlb->st.inv_entries += n;
    return n;
}

size_t ioasid_iotlb_inv_domain(IoasidIotlb *tlb, uint32_t domain)
{
    IoasidIotlbInval inv = { .domain = domain, .as_tag = IOASID_TAG_ANY };

    return ioasid_iotlb_invalidate(tlb, &inv);
}

size_t ioasid_iotlb_inv_as(IoasidIotlb *tlb, uint32_t domain,
                           uint32_t as_tag)
{
    IoasidIotlbInval inv = { .domain = domain, .as_tag = as_tag };

    return ioasid_iotlb_invalidate(tlb, &inv);
}

size_t ioasid_iotlb_inv_range(IoasidIotlb *tlb, uint32_t domain,
                              uint32_t as_tag, uint64_t addr, uint64_t size,
                              bool leaf_only)
{
    IoasidIotlbInval inv = {
        .domain = domain, .as_tag = as_tag, .addr = addr,
        .size = size ? size : 1, .leaf_only = leaf_only,
    };

    return ioasid_iotlb_invalidate(tlb, &inv);
}

/* ---- counters, iteration ---- */

void ioasid_iotlb_count_walk(IoasidIotlb *tlb)
{
    tlb->st.walks++;
}

void ioasid_iotlb_count_lookup(IoasidIotlb *tlb, bool hit, bool perm_miss)
{
    if (hit) {
        tlb->st.hits++;
    } else {
        tlb->st.misses++;
        tlb->st.perm_misses += perm_miss;
    }
}

void ioasid_iotlb_stats(const IoasidIotlb *tlb, IoasidIotlbStats *st)
{
    *st = tlb->st;
}

const IoasidIotlbStats *ioasid_iotlb_stats_ptr(const IoasidIotlb *tlb)
{
    return &tlb->st;
}

void ioasid_iotlb_reset_stats(IoasidIotlb *tlb)
{
    uint64_t entries = tlb->st.entries, cap = tlb->st.capacity;

    memset(&tlb->st, 0, sizeof(tlb->st));
    tlb->st.entries = entries;
    tlb->st.capacity = cap;
}

int ioasid_iotlb_foreach(const IoasidIotlb *tlb, IoasidIotlbFn fn,
                         void *opaque)
{
    for (uint32_t i = 0; i < tlb->fresh_ent; i++) {
        const Ent *e = &tlb->ents[i];
        IoasidIotlbTag tag;
        int ret;

        if (e->tag == NIL) {
            continue;
        }
        tag.domain = e->key1 >> 32;
        tag.as_tag = (uint32_t)e->key1;
        tag.kind = e->kind;
        ret = fn(&tag, &e->e, opaque);
        if (ret) {
            return ret;
        }
    }
    return 0;
}
