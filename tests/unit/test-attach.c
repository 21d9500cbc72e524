/*
 * Attach table tests: attach / lookup / detach by RID and (RID, PASID),
 * one IOASID on many pairs, reference counting, iteration, 2^20 PASIDs on
 * one RID with memory proportional to use, and a randomized comparison
 * against a reference model.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "tap.h"
#include "ioasid.h"

static IoasidPgtCfg ss4 = { .fmt = IOASID_FMT_VTD_SS, .root = 0x1000,
                            .levels = 4, .oas = 48 };

typedef struct Seen {
    unsigned n;
    uint32_t last_key;
    bool ordered;
    unsigned stop_at;
} Seen;

static int count_fn(uint16_t rid, uint32_t pasid, Ioasid *as, void *opaque)
{
    Seen *s = opaque;
    /* RID-only first: map NO_PASID below PASID 0. */
    uint32_t key = (uint32_t)rid << 21 |
                   (pasid == IOASID_NO_PASID ? 0 : pasid + 1);

    if (s->n && key <= s->last_key) {
        s->ordered = false;
    }
    s->last_key = key;
    s->n++;
    return s->stop_at && s->n == s->stop_at ? 42 : 0;
}

static void test_basic(void)
{
    IoasidTable *t = ioasid_table_new();
    Ioasid *a = ioasid_new(1, &ss4, NULL, 7, IOASID_TAG_NONE);
    Ioasid *b = ioasid_new(2, &ss4, NULL, 8, IOASID_TAG_NONE);
    Ioasid *nest = ioasid_new(3, &ss4, b, 8, 5);
    Seen s = { .ordered = true };

    TAP_OK(a->kind == IOASID_KIND_S2 && nest->kind == IOASID_KIND_NESTED &&
           nest->parent == b && b->refcount == 2,
           "ioasid: kinds, parent referenced");
    TAP_OK(ioasid_lookup(t, 0x10, IOASID_NO_PASID) == NULL,
           "empty: lookup misses");
    TAP_EQ(ioasid_attach(t, 0x10, IOASID_NO_PASID, a), 0, "attach rid");
    TAP_EQ(ioasid_attach(t, 0x10, 0, b), 0, "attach (rid, 0)");
    TAP_EQ(ioasid_attach(t, 0x10, IOASID_PASID_MAX, a), 0,
           "attach (rid, max pasid)");
    TAP_EQ(ioasid_attach(t, 0x10, IOASID_PASID_MAX + 1, a), -1,
           "attach rejects pasid > max");
    TAP_OK(ioasid_lookup(t, 0x10, IOASID_NO_PASID) == a, "lookup rid");
    TAP_OK(ioasid_lookup(t, 0x10, 0) == b, "lookup (rid, 0): not the rid's");
    TAP_OK(ioasid_lookup(t, 0x10, 1) == NULL, "lookup (rid, 1) misses");
    TAP_OK(ioasid_lookup(t, 0x11, IOASID_NO_PASID) == NULL,
           "lookup other rid misses");
    TAP_OK(ioasid_lookup(t, 0x10, IOASID_PASID_MAX + 5) == NULL,
           "lookup pasid > max misses");
    TAP_EQ(a->refcount, 3, "table holds one ref per entry");

    /* One IOASID on many (RID, PASID) pairs of many devices. */
    for (unsigned rid = 0x100; rid < 0x140; rid++) {
        for (uint32_t p = 0; p < 16; p++) {
            ioasid_attach(t, rid, p * 4099, nest);
        }
    }
    TAP_EQ(nest->refcount, 1 + 64 * 16, "shared ioasid refcount");
    TAP_OK(ioasid_lookup(t, 0x13f, 15 * 4099) == nest &&
           ioasid_lookup(t, 0x100, 0) == nest, "shared ioasid lookups");
    TAP_EQ(ioasid_table_count(t), 3 + 64 * 16, "count");

    ioasid_table_foreach(t, count_fn, &s);
    TAP_OK(s.n == 3 + 64 * 16 && s.ordered, "foreach: all, ordered");
    s = (Seen){ .ordered = true, .stop_at = 5 };
    TAP_EQ(ioasid_table_foreach(t, count_fn, &s), 42, "foreach: stops");
    TAP_EQ(s.n, 5, "foreach: stopped after 5");
    s = (Seen){ .ordered = true };
    ioasid_table_foreach_rid(t, 0x10, count_fn, &s);
    TAP_EQ(s.n, 3, "foreach_rid");

    /* Replace. */
    TAP_EQ(ioasid_attach(t, 0x10, 0, a), 0, "replace (rid, 0)");
    TAP_OK(ioasid_lookup(t, 0x10, 0) == a && b->refcount == 2 &&
           a->refcount == 4, "replace: refs moved");
    TAP_EQ(ioasid_table_count(t), 3 + 64 * 16, "replace: count unchanged");

    /* Detach kinds. */
    TAP_EQ(ioasid_detach(t, 0x10, 1), -1, "detach of nothing");
    TAP_EQ(ioasid_detach(t, 0x10, IOASID_PASID_MAX), 0, "detach one");
    TAP_OK(ioasid_lookup(t, 0x10, IOASID_PASID_MAX) == NULL &&
           ioasid_lookup(t, 0x10, 0) == a, "detach one: only that one");
    TAP_EQ(ioasid_detach_rid_pasids(t, 0x10), 1, "detach rid pasids");
    TAP_OK(ioasid_lookup(t, 0x10, IOASID_NO_PASID) == a &&
           ioasid_lookup(t, 0x10, 0) == NULL, "rid-only entry kept");
    TAP_EQ(ioasid_detach_rid(t, 0x10), 1, "detach rid");
    TAP_EQ(a->refcount, 1, "a: references back");
    TAP_EQ(ioasid_detach_rid(t, 0x101), 16, "detach rid with 16 pasids");
    TAP_OK(ioasid_lookup(t, 0x101, 0) == NULL &&
           ioasid_lookup(t, 0x102, 0) == nest, "detach rid: only that rid");
    ioasid_attach(t, 0x200, IOASID_NO_PASID, a);
    TAP_EQ(ioasid_detach_ioasid(t, nest), 63 * 16, "detach by ioasid");
    TAP_EQ(ioasid_table_count(t), 1, "detach by ioasid: others stay");
    TAP_EQ(nest->refcount, 1, "nest: references back");
    TAP_EQ(ioasid_detach_all(t), 1, "detach all");
    TAP_EQ(ioasid_table_count(t), 0, "empty");
    {
        IoasidTable *e = ioasid_table_new();

        TAP_EQ(ioasid_table_mem(t), ioasid_table_mem(e),
               "all memory returned after detach");
        ioasid_table_free(e);
    }
    ioasid_unref(nest);
    TAP_EQ(b->refcount, 1, "unref of nested drops the parent ref");
    ioasid_attach(t, 0x300, 3, b);
    ioasid_unref(b);     /* the table keeps it alive */
    TAP_OK(ioasid_lookup(t, 0x300, 3)->id == 2, "table keeps a reference");
    ioasid_unref(a);
    ioasid_table_free(t);   /* frees b: ASan checks */
}

static void test_scale(void)
{
    IoasidTable *t = ioasid_table_new();
    Ioasid *a = ioasid_new(1, &ss4, NULL, 1, 0);
    size_t base = ioasid_table_mem(t), mem, n = 0;
    uint32_t p;
    bool ok = true;

    for (p = 0; p <= IOASID_PASID_MAX; p++) {
        ioasid_attach(t, 0x1234, p, a);
    }
    mem = ioasid_table_mem(t) - base;
    TAP_EQ(ioasid_table_count(t), 1u << 20, "2^20 pasids attached");
    TAP_OK(mem <= (UINT64_C(1) << 20) * sizeof(void *) * 11 / 10,
           "2^20 pasids: %zu bytes (%.2f per pasid)", mem,
           (double)mem / (1 << 20));
    for (p = 0; p <= IOASID_PASID_MAX; p++) {
        ok &= ioasid_lookup(t, 0x1234, p) == a;
    }
    TAP_OK(ok, "2^20 pasids: every lookup");
    TAP_OK(ioasid_lookup(t, 0x1235, 7) == NULL &&
           ioasid_lookup(t, 0x1234, IOASID_NO_PASID) == NULL,
           "2^20 pasids: neighbours empty");
    TAP_EQ(ioasid_detach_rid_pasids(t, 0x1234), 1u << 20,
           "2^20 pasids: detached");
    TAP_EQ(ioasid_table_mem(t), base, "2^20 pasids: memory returned");

    /* Sparse: memory proportional to the entries, not the PASID space. */
    for (unsigned rid = 0; rid < 1024; rid++) {
        ioasid_attach(t, rid * 61, (rid * 7919) & IOASID_PASID_MAX, a);
        n++;
    }
    mem = ioasid_table_mem(t) - base;
    TAP_OK(mem / n <= 4096, "1024 sparse (rid, pasid): %zu bytes each",
           mem / n);
    TAP_EQ(a->refcount, 1 + n, "sparse refcount");
    ioasid_table_free(t);
    TAP_EQ(a->refcount, 1, "table free drops references");
    ioasid_unref(a);
}

/* ---- randomized against a model ---- */

#define MR 8        /* rids */
#define MP 64       /* pasids per rid; index MP is the RID-only entry */

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

static void test_random(uint64_t seed)
{
    static Ioasid *model[MR][MP + 1];
    IoasidTable *t = ioasid_table_new();
    Ioasid *as[4];
    int bad = 0, i;
    size_t cnt = 0;

    rng_state = seed ? seed : 1;
    memset(model, 0, sizeof(model));
    for (i = 0; i < 4; i++) {
        as[i] = ioasid_new(i, &ss4, NULL, i, i);
    }
    for (int it = 0; it < 50000; it++) {
        unsigned r = rnd() % MR, pi = rnd() % (MP + 1), op = rnd() % 100;
        uint16_t rid = r * 0x0101;
        uint32_t pasid = pi == MP ? IOASID_NO_PASID : pi * 16411;

        if (op < 50) {
            Ioasid *x = as[rnd() % 4];

            ioasid_attach(t, rid, pasid, x);
            cnt += !model[r][pi];
            model[r][pi] = x;
        } else if (op < 80) {
            int rc = ioasid_detach(t, rid, pasid);

            bad += rc != (model[r][pi] ? 0 : -1);
            cnt -= !!model[r][pi];
            model[r][pi] = NULL;
        } else if (op < 83) {
            size_t n = 0, got = ioasid_detach_rid_pasids(t, rid);

            for (unsigned k = 0; k < MP; k++) {
                n += !!model[r][k];
                model[r][k] = NULL;
            }
            bad += got != n;
            cnt -= n;
        } else if (op < 85) {
            size_t n = 0, got = ioasid_detach_rid(t, rid);

            for (unsigned k = 0; k <= MP; k++) {
                n += !!model[r][k];
                model[r][k] = NULL;
            }
            bad += got != n;
            cnt -= n;
        } else if (op < 86) {
            Ioasid *x = as[rnd() % 4];
            size_t n = 0, got = ioasid_detach_ioasid(t, x);

            for (unsigned rr = 0; rr < MR; rr++) {
                for (unsigned k = 0; k <= MP; k++) {
                    if (model[rr][k] == x) {
                        model[rr][k] = NULL;
                        n++;
                    }
                }
            }
            bad += got != n;
            cnt -= n;
        } else {
            bad += ioasid_lookup(t, rid, pasid) != model[r][pi];
        }
        bad += ioasid_table_count(t) != cnt;
    }
    for (unsigned rr = 0; rr < MR; rr++) {
        for (unsigned k = 0; k <= MP; k++) {
            bad += ioasid_lookup(t, rr * 0x0101, k == MP ? IOASID_NO_PASID
                                                         : k * 16411) !=
                   model[rr][k];
        }
    }
    TAP_EQ(bad, 0, "random: table matches the model");
    {
        unsigned refs = 0;

        for (i = 0; i < 4; i++) {
            refs += as[i]->refcount - 1;
        }
        TAP_EQ(refs, cnt, "random: one reference per entry");
    }
    TAP_EQ(ioasid_detach_all(t), cnt, "random: detach all");
    ioasid_table_free(t);
    for (i = 0; i < 4; i++) {
        TAP_EQ(as[i]->refcount, 1, "random: ioasid %d refs back", i);
        ioasid_unref(as[i]);
    }
}

int main(void)
{
    const char *env = getenv("IOASID_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0xa77ac4;

    printf("# seed=%" PRIu64 "\n", seed);
    test_basic();
    test_scale();
    test_random(seed);
    return tap_done();
}
