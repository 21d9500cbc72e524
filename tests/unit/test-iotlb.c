/*
 * IOTLB tests: tagging, page-size awareness, every invalidation kind,
 * bounded eviction, counters, and a randomized comparison against a
 * reference model (never under-invalidate, never return what was not
 * inserted).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "tap.h"
#include "iotlb.h"

#define K4  12
#define M2  21
#define G1  30

static IoasidIotlbTag tag(uint32_t dom, uint32_t ast, uint8_t kind)
{
    IoasidIotlbTag t = { .domain = dom, .as_tag = ast, .kind = kind };
    return t;
}

/* Output of @iova through @tlb with @t, or ~0 on a miss. */
static uint64_t xl(IoasidIotlb *tlb, IoasidIotlbTag t, uint64_t iova)
{
    const IoasidIotlbEntry *e = ioasid_iotlb_lookup(tlb, &t, iova, true);

    if (!e) {
        return UINT64_MAX;
    }
    return e->out | (iova & ~ioasid_page_mask(e->page_shift));
}

static void test_tagging(void)
{
    IoasidIotlb *tlb = ioasid_iotlb_new(64);
    IoasidIotlbTag a = tag(1, 5, IOASID_KIND_S1);
    IoasidIotlbStats st;

    ioasid_iotlb_insert(tlb, &a, 0x1234000, 0x88000, K4, IOASID_PERM_RW);
    TAP_EQ(xl(tlb, a, 0x1234abc), 0x88abc, "tag: hit with the same tag");
    TAP_EQ(xl(tlb, tag(2, 5, IOASID_KIND_S1), 0x1234abc), UINT64_MAX,
           "tag: other domain misses");
    TAP_EQ(xl(tlb, tag(1, 6, IOASID_KIND_S1), 0x1234abc), UINT64_MAX,
           "tag: other address-space tag misses");
    TAP_EQ(xl(tlb, tag(1, IOASID_TAG_NONE, IOASID_KIND_S1), 0x1234abc),
           UINT64_MAX, "tag: no as-tag misses");
    TAP_EQ(xl(tlb, tag(1, 5, IOASID_KIND_S2), 0x1234abc), UINT64_MAX,
           "tag: other kind (S2) misses");
    TAP_EQ(xl(tlb, tag(1, 5, IOASID_KIND_NESTED), 0x1234abc), UINT64_MAX,
           "tag: other kind (nested) misses");
    TAP_EQ(xl(tlb, tag(1, 5, IOASID_KIND_S1 | IOASID_IOTLB_PRIV), 0x1234abc),
           UINT64_MAX, "tag: privileged lookups miss user entries");
    TAP_EQ(xl(tlb, a, 0x1235000), UINT64_MAX, "tag: next page misses");
    /* The same page under another tag is a separate entry. */
    ioasid_iotlb_insert(tlb, &(IoasidIotlbTag){ 2, 5, IOASID_KIND_S1 },
                        0x1234000, 0x99000, K4, IOASID_PERM_READ);
    TAP_EQ(xl(tlb, a, 0x1234010), 0x88010, "tag: first tag unchanged");
    TAP_EQ(xl(tlb, tag(2, 5, IOASID_KIND_S1), 0x1234010), 0x99010,
           "tag: second tag own output");
    /* Re-insert replaces. */
    ioasid_iotlb_insert(tlb, &a, 0x1234fff, 0x77000, K4, IOASID_PERM_READ);
    ioasid_iotlb_stats(tlb, &st);
    TAP_EQ(st.entries, 2, "tag: re-insert replaces, no new entry");
    TAP_EQ(xl(tlb, a, 0x1234010), 0x77010, "tag: replaced output");
    TAP_EQ(ioasid_iotlb_lookup(tlb, &a, 0x1234010, false)->perms,
           IOASID_PERM_READ, "tag: replaced perms");
    ioasid_iotlb_free(tlb);
}

static void test_page_sizes(void)
{
    IoasidIotlb *tlb = ioasid_iotlb_new(64);
    IoasidIotlbTag a = tag(1, 0, IOASID_KIND_S2);
    const IoasidIotlbEntry *e;

    ioasid_iotlb_insert(tlb, &a, 0x40212345, 0x80000000, M2, IOASID_PERM_RW);
    e = ioasid_iotlb_lookup(tlb, &a, 0x40200000, true);
    TAP_OK(e && e->page_shift == M2 && e->iova == 0x40200000,
           "2M: entry base and size");
    TAP_EQ(xl(tlb, a, 0x40200000), 0x80000000, "2M: first 4K page");
    TAP_EQ(xl(tlb, a, 0x403ff123), 0x801ff123, "2M: last 4K page");
    TAP_EQ(xl(tlb, a, 0x40400000), UINT64_MAX, "2M: next 2M misses");
    TAP_EQ(xl(tlb, a, 0x401fffff), UINT64_MAX, "2M: previous 2M misses");
    ioasid_iotlb_insert(tlb, &a, 0xc0000000, 0x100000000, G1,
                        IOASID_PERM_RW);
    ioasid_iotlb_insert(tlb, &a, 0x1000, 0x5000, K4, IOASID_PERM_RW);
    TAP_EQ(xl(tlb, a, 0xfedcba98), 0x13edcba98, "1G: inside");
    TAP_EQ(xl(tlb, a, 0x1fff), 0x5fff, "4K among 2M and 1G");
    /* 16K / 64K granules (Arm) mix with 4K-based sizes. */
    ioasid_iotlb_insert(tlb, &a, 0x7000c000, 0x9000c000, 14, IOASID_PERM_RW);
    ioasid_iotlb_insert(tlb, &a, 0x70010000, 0x90010000, 16, IOASID_PERM_RW);
    TAP_EQ(xl(tlb, a, 0x7000f000), 0x9000f000, "16K page");
    TAP_EQ(xl(tlb, a, 0x7001f000), 0x9001f000, "64K page");

    /* Invalidating a 4K page inside the 2M entry removes the 2M entry. */
    TAP_EQ(ioasid_iotlb_inv_range(tlb, 1, 0, 0x40345000, 0x1000, true), 1,
           "2M: 4K invalidation inside removes one entry");
    TAP_EQ(xl(tlb, a, 0x40200000), UINT64_MAX, "2M: gone");
    TAP_EQ(xl(tlb, a, 0xc0000000), 0x100000000, "1G: untouched");
    /* A range straddling the end of the 1G page and the start of none. */
    TAP_EQ(ioasid_iotlb_inv_range(tlb, 1, 0, 0xfffff000, 0x2000, false), 1,
           "1G: range overlapping its last page");
    TAP_EQ(xl(tlb, a, 0xc0000000), UINT64_MAX, "1G: gone");
    TAP_EQ(xl(tlb, a, 0x1000), 0x5000, "4K: untouched");
    ioasid_iotlb_free(tlb);
}

static void fill(IoasidIotlb *tlb)
{
    /* 2 domains x 2 as-tags x 3 kinds x 2 privilege x 4 pages. */
    for (uint32_t d = 1; d <= 2; d++) {
        for (uint32_t s = 10; s <= 11; s++) {
            for (uint8_t k = 1; k < IOASID_KIND__MAX; k++) {
                for (int p = 0; p < 2; p++) {
                    IoasidIotlbTag t = tag(d, s, k | (p ? IOASID_IOTLB_PRIV
                                                        : 0));
                    for (uint64_t i = 0; i < 4; i++) {
                        ioasid_iotlb_insert(tlb, &t, i << K4, (0xa000 + i) << K4,
                                            K4, IOASID_PERM_RW);
                    }
                }
            }
        }
    }
}

static size_t count(IoasidIotlb *tlb)
{
    IoasidIotlbStats st;

    ioasid_iotlb_stats(tlb, &st);
    return st.entries;
}

static void test_invalidation(void)
{
    IoasidIotlb *tlb = ioasid_iotlb_new(1024);
    IoasidIotlbInval inv;

    fill(tlb);
    TAP_EQ(count(tlb), 96, "inv: filled");
    ioasid_iotlb_inv_all(tlb);
    TAP_EQ(count(tlb), 0, "inv: all");
    TAP_EQ(xl(tlb, tag(1, 10, 1), 0), UINT64_MAX, "inv: all misses");

    fill(tlb);
    TAP_EQ(ioasid_iotlb_inv_domain(tlb, 2), 48, "inv: domain removes 48");
    TAP_EQ(xl(tlb, tag(2, 10, 1), 0), UINT64_MAX, "inv: domain 2 gone");
    TAP_EQ(xl(tlb, tag(1, 10, 1), 0), 0xa000000, "inv: domain 1 stays");

    ioasid_iotlb_inv_all(tlb);
    fill(tlb);
    TAP_EQ(ioasid_iotlb_inv_as(tlb, 1, 11), 24, "inv: (domain, as) 24");
    TAP_EQ(xl(tlb, tag(1, 11, 3 | IOASID_IOTLB_PRIV), 0x1000), UINT64_MAX,
           "inv: (1, 11) gone incl. privileged");
    TAP_EQ(xl(tlb, tag(1, 10, 3), 0x1000), 0xa001000, "inv: (1, 10) stays");
    TAP_EQ(xl(tlb, tag(2, 11, 3), 0x1000), 0xa001000, "inv: (2, 11) stays");

    ioasid_iotlb_inv_all(tlb);
    fill(tlb);
    TAP_EQ(ioasid_iotlb_inv_range(tlb, 1, 10, 0x2000, 0x1000, true), 6,
           "inv: page in (1, 10): one per kind and privilege");
    TAP_EQ(xl(tlb, tag(1, 10, 2), 0x2000), UINT64_MAX, "inv: page gone");
    TAP_EQ(xl(tlb, tag(1, 10, 2), 0x1000), 0xa001000, "inv: neighbour stays");
    TAP_EQ(xl(tlb, tag(1, 10, 2), 0x3000), 0xa003000, "inv: neighbour stays 2");
    TAP_EQ(xl(tlb, tag(1, 11, 2), 0x2000), 0xa002000, "inv: other as stays");
    TAP_EQ(ioasid_iotlb_inv_range(tlb, 1, IOASID_TAG_ANY, 0x3000, 0x1000,
                                  false), 12,
           "inv: page in domain 1, any as");
    TAP_EQ(xl(tlb, tag(2, 10, 2), 0x3000), 0xa003000, "inv: domain 2 stays");

    memset(&inv, 0, sizeof(inv));
    inv.domain = IOASID_TAG_ANY;
    inv.as_tag = IOASID_TAG_ANY;
    inv.kinds = 1u << IOASID_KIND_NESTED;
    TAP_EQ(ioasid_iotlb_invalidate(tlb, &inv), 32 - 2 - 4,
           "inv: kinds mask, everything nested");
    TAP_EQ(xl(tlb, tag(2, 11, 3), 0), UINT64_MAX, "inv: nested gone");
    TAP_EQ(xl(tlb, tag(2, 11, 1), 0), 0xa000000, "inv: s1 stays");

    inv.kinds = 1u << IOASID_KIND_S2;
    inv.domain = 2;
    inv.addr = 0x1000;
    inv.size = 0x2000;
    TAP_EQ(ioasid_iotlb_invalidate(tlb, &inv), 8,
           "inv: S2 range of domain 2 (2 as x 2 priv x 2 pages)");

    /* Large ranges fall back to walking the tags' entries. */
    ioasid_iotlb_inv_all(tlb);
    {
        IoasidIotlbTag t = tag(7, 1, 1);
        IoasidIotlbStats st;

        for (uint64_t i = 0; i < 200; i++) {
            ioasid_iotlb_insert(tlb, &t, i << K4, i << K4, K4,
                                IOASID_PERM_RW);
        }
        ioasid_iotlb_insert(tlb, &t, UINT64_C(1) << 40, 0, G1,
                            IOASID_PERM_RW);
        ioasid_iotlb_reset_stats(tlb);
        TAP_EQ(ioasid_iotlb_inv_range(tlb, 7, 1, 50 << K4, 100 << K4, true),
               100, "inv: 100-page range");
        TAP_EQ(ioasid_iotlb_inv_range(tlb, 7, 1, 0, UINT64_C(1) << 45, true),
               101, "inv: huge range (walk)");
        ioasid_iotlb_stats(tlb, &st);
        TAP_OK(st.inv_walks >= 1, "inv: huge range walked the tag");
        TAP_EQ(st.entries, 0, "inv: everything in range gone");
        ioasid_iotlb_insert(tlb, &t, UINT64_MAX & ioasid_page_mask(K4), 0,
                            K4, IOASID_PERM_RW);
        TAP_EQ(ioasid_iotlb_inv_range(tlb, 7, 1, UINT64_MAX - 0xfff,
                                      UINT64_MAX, true),
               1, "inv: range clamped at the top of the address space");
    }
    ioasid_iotlb_free(tlb);
}

static void test_eviction_counters(void)
{
    IoasidIotlb *tlb = ioasid_iotlb_new(16);
    IoasidIotlbTag t = tag(1, 1, 1);
    IoasidIotlbStats st;
    uint64_t i;

    for (i = 0; i < 1000; i++) {
        ioasid_iotlb_insert(tlb, &t, i << K4, i << K4, K4, IOASID_PERM_RW);
        /* Keep page 0 hot: CLOCK gives it a second chance. */
        ioasid_iotlb_lookup(tlb, &t, 0, true);
    }
    ioasid_iotlb_stats(tlb, &st);
    TAP_EQ(st.capacity, 16, "evict: capacity");
    TAP_EQ(st.entries, 16, "evict: bounded at capacity");
    TAP_EQ(st.inserts, 1000, "evict: inserts counted");
    TAP_EQ(st.evictions, 1000 - 16, "evict: one eviction per insert");
    TAP_EQ(xl(tlb, t, 999 << K4), 999 << K4, "evict: newest present");
    TAP_EQ(xl(tlb, t, 0), 0, "evict: hot entry survived");
    ioasid_iotlb_stats(tlb, &st);
    TAP_OK(st.hits >= 1000, "counters: hits %" PRIu64, st.hits);
    TAP_EQ(xl(tlb, t, 5 << K4), UINT64_MAX, "evict: old entry gone");
    ioasid_iotlb_stats(tlb, &st);
    TAP_OK(st.misses >= 1, "counters: misses %" PRIu64, st.misses);
    ioasid_iotlb_inv_range(tlb, 1, 1, 0, 0x1000, true);
    ioasid_iotlb_inv_all(tlb);
    ioasid_iotlb_stats(tlb, &st);
    TAP_EQ(st.invalidations, 2, "counters: invalidations");
    TAP_EQ(st.inv_entries, 16, "counters: invalidated entries");
    ioasid_iotlb_count_walk(tlb);
    ioasid_iotlb_count_lookup(tlb, false, true);
    ioasid_iotlb_stats(tlb, &st);
    TAP_OK(st.walks == 1 && st.perm_misses == 1, "counters: walks, perm");
    TAP_OK(ioasid_iotlb_stats_ptr(tlb)->walks == 1 &&
           ioasid_iotlb_stats_ptr(tlb)->entries == 0, "counters: live view");
    ioasid_iotlb_free(tlb);
}

/* Many tags: wildcard address-space invalidations by domain. */
static void test_many_tags(void)
{
    IoasidIotlb *tlb = ioasid_iotlb_new(4096);
    size_t n = 0, bad = 0;

    for (uint32_t d = 0; d < 200; d++) {
        for (uint32_t p = 0; p < 5; p++) {
            IoasidIotlbTag t = tag(d, p * 1000, IOASID_KIND_S1);

            ioasid_iotlb_insert(tlb, &t, 0x1000, 0x2000, K4, IOASID_PERM_RW);
            ioasid_iotlb_insert(tlb, &t, 0x5000, 0x6000, K4, IOASID_PERM_RW);
        }
    }
    for (uint32_t d = 0; d < 200; d += 2) {
        n += ioasid_iotlb_inv_range(tlb, d, IOASID_TAG_ANY, 0x1000, 0x1000,
                                    true);
    }
    TAP_EQ(n, 100 * 5, "many tags: page of every PASID of 100 domains");
    for (uint32_t d = 0; d < 200; d++) {
        for (uint32_t p = 0; p < 5; p++) {
            IoasidIotlbTag t = tag(d, p * 1000, IOASID_KIND_S1);

            bad += (xl(tlb, t, 0x1000) == UINT64_MAX) != !(d & 1);
            bad += xl(tlb, t, 0x5000) != 0x6000;
        }
    }
    TAP_EQ(bad, 0, "many tags: exactly those removed");
    TAP_EQ(ioasid_iotlb_inv_domain(tlb, 7), 10, "many tags: domain 7");
    TAP_EQ(count(tlb), 2000 - 500 - 10, "many tags: the rest stays");
    ioasid_iotlb_free(tlb);
}

/* ---- randomized against a reference model ---- */

typedef struct RefEnt {
    bool valid;
    IoasidIotlbTag t;
    uint64_t iova, out;
    uint8_t shift;
} RefEnt;

#define NREF 4096
static RefEnt ref[NREF];

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static bool ref_tag_eq(const IoasidIotlbTag *a, const IoasidIotlbTag *b)
{
    return a->domain == b->domain && a->as_tag == b->as_tag &&
           a->kind == b->kind;
}

static int find_in_ref(const IoasidIotlbTag *t, const IoasidIotlbEntry *e)
{
    for (int i = 0; i < NREF; i++) {
        if (ref[i].valid && ref_tag_eq(&ref[i].t, t) &&
            ref[i].iova == e->iova && ref[i].shift == e->page_shift &&
            ref[i].out == e->out) {
            return i;
        }
    }
    return -1;
}

typedef struct CheckCtx {
    const IoasidIotlbInval *inv;
    uint64_t last;
    int bad;
} CheckCtx;

/* Every cached entry must be in the model (never resurrected). */
static int check_in_model(const IoasidIotlbTag *t, const IoasidIotlbEntry *e,
                          void *opaque)
{
    CheckCtx *c = opaque;

    if (find_in_ref(t, e) < 0) {
        c->bad++;
    }
    return 0;
}

static bool inv_matches(const IoasidIotlbInval *inv, const IoasidIotlbTag *t,
                        uint64_t iova, uint8_t shift, uint64_t last)
{
    uint64_t elast = iova + ((UINT64_C(1) << shift) - 1);
    uint8_t k = t->kind & ~IOASID_IOTLB_PRIV;

    return (inv->domain == IOASID_TAG_ANY || inv->domain == t->domain) &&
           (inv->as_tag == IOASID_TAG_ANY || inv->as_tag == t->as_tag) &&
           (!inv->kinds || (inv->kinds & (1u << k))) &&
           (!inv->size || (iova <= last && elast >= inv->addr));
}

static void test_random(uint64_t seed)
{
    static const uint8_t shifts[] = { 12, 12, 12, 14, 16, 21, 30 };
    IoasidIotlb *tlb = ioasid_iotlb_new(64);
    int bad_lookup = 0, bad_model = 0, bad_inval = 0, iter;
    IoasidIotlbStats st;

    rng_state = seed ? seed : 1;
    memset(ref, 0, sizeof(ref));
    for (iter = 0; iter < 20000; iter++) {
        unsigned op = rnd() % 100;
        IoasidIotlbTag t = tag(rnd() % 3, rnd() % 3, 1 + rnd() % 3);
        uint8_t shift = shifts[rnd() % sizeof(shifts)];
        uint64_t iova = (rnd() % 64) << (rnd() % 2 ? 12 : 21);

        if (rnd() % 4 == 0) {
            t.kind |= IOASID_IOTLB_PRIV;
        }
        if (op < 60) {
            uint64_t base = iova & ioasid_page_mask(shift);
            uint64_t out = (rnd() % 1024) << 30;
            int slot = -1;

            for (int i = 0; i < NREF; i++) {
                if (ref[i].valid && ref_tag_eq(&ref[i].t, &t) &&
                    ref[i].iova == base && ref[i].shift == shift) {
                    slot = i;
                    break;
                }
                if (!ref[i].valid && slot < 0) {
                    slot = i;
                }
            }
            if (slot < 0) {
                continue;
            }
            ioasid_iotlb_insert(tlb, &t, iova, out, shift, IOASID_PERM_RW);
            ref[slot] = (RefEnt){ true, t, base, out, shift };
        } else if (op < 97) {
            const IoasidIotlbEntry *e = ioasid_iotlb_lookup(tlb, &t, iova,
                                                            true);
            if (e && (find_in_ref(&t, e) < 0 ||
                      (iova & ioasid_page_mask(e->page_shift)) != e->iova)) {
                bad_lookup++;
            }
        } else {
            IoasidIotlbInval inv = {
                .domain = rnd() % 4 ? t.domain : IOASID_TAG_ANY,
                .as_tag = rnd() % 3 ? t.as_tag : IOASID_TAG_ANY,
                .kinds = rnd() % 3 ? 0 : 1u << (1 + rnd() % 3),
                .leaf_only = rnd() % 2,
                .addr = iova,
                .size = rnd() % 8 ? (rnd() % 5) << 12 : 0,
            };
            uint64_t last = inv.addr + inv.size - 1;
            CheckCtx c = { .inv = &inv };

            if (rnd() % 50 == 0) {
                inv.size = UINT64_C(1) << 40;       /* walk fallback */
                last = inv.addr + inv.size - 1;
            }
            ioasid_iotlb_invalidate(tlb, &inv);
            for (int i = 0; i < NREF; i++) {
                if (ref[i].valid && inv_matches(&inv, &ref[i].t, ref[i].iova,
                                                ref[i].shift, last)) {
                    ref[i].valid = false;
                    /* It must not be found any more. */
                    if (ioasid_iotlb_lookup(tlb, &ref[i].t, ref[i].iova,
                                            false) &&
                        find_in_ref(&ref[i].t,
                                    ioasid_iotlb_lookup(tlb, &ref[i].t,
                                                        ref[i].iova,
                                                        false)) < 0) {
                        bad_inval++;
                    }
                }
            }
            ioasid_iotlb_foreach(tlb, check_in_model, &c);
            bad_model += c.bad;
        }
    }
    ioasid_iotlb_stats(tlb, &st);
    TAP_EQ(bad_lookup, 0, "random: every hit was inserted and not invalidated");
    TAP_EQ(bad_inval, 0, "random: no hit after a covering invalidation");
    TAP_EQ(bad_model, 0, "random: cache is a subset of the model");
    TAP_OK(st.entries <= 64 && st.evictions > 0, "random: bounded (%" PRIu64 " entries, %"
           PRIu64 " evictions)", st.entries, st.evictions);
    ioasid_iotlb_free(tlb);
}

int main(void)
{
    const char *env = getenv("IOASID_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eed1077;

    printf("# seed=%" PRIu64 "\n", seed);
    test_tagging();
    test_page_sizes();
    test_invalidation();
    test_eviction_counters();
    test_many_tags();
    test_random(seed);
    return tap_done();
}
