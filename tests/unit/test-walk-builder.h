/*
 * Page-table builder for the walker unit tests: allocates tables in a
 * FakeMem and installs leaves for any radix geometry.  Format encodings are
 * chosen by the caller (table entry bits, leaf value).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_WALK_BUILDER_H
#define IOASID_WALK_BUILDER_H

#include "fakemem.h"

typedef struct TbGeo {
    unsigned granule, stride, nlevels, top_bits;
    /* Mask extracting a next-table address from a table entry. */
    uint64_t addr_mask;
} TbGeo;

typedef struct Tb {
    FakeMem m;
    IoasidMemOps ops;
    uint64_t next;          /* bump allocator for tables */
    uint64_t min_align;     /* minimum table alignment (0: 4K) */
} Tb;

static inline void tb_init(Tb *t, uint64_t base)
{
    fakemem_init(&t->m, UINT64_C(1) << 52);
    t->ops = fakemem_ops(&t->m);
    t->next = base;
    t->min_align = 4096;
}

static inline uint64_t tb_alloc(Tb *t, uint64_t size)
{
    uint64_t align = size < t->min_align ? t->min_align : size, a;

    a = (t->next + align - 1) & ~(align - 1);
    t->next = a + size;
    return a;
}

static inline uint64_t tb_table_size(const TbGeo *g, unsigned idx_level_n)
{
    unsigned bits = idx_level_n == 0 ? g->top_bits : g->stride;
    return (UINT64_C(8) << bits) < 64 ? 64 : (UINT64_C(8) << bits);
}

/* A new root table for @g. */
static inline uint64_t tb_root(Tb *t, const TbGeo *g)
{
    return tb_alloc(t, tb_table_size(g, 0));
}

/*
 * Install @leaf_val for @va at internal level @leaf_lvl (0 = smallest
 * page), creating tables with entries (address | @tbl_bits).  Returns the
 * address of the leaf entry.  @ent (optional, nlevels entries) receives
 * the addresses of the entries on the path, root first.
 */
static inline uint64_t tb_map(Tb *t, const TbGeo *g, uint64_t root,
                              uint64_t va, unsigned leaf_lvl,
                              uint64_t tbl_bits, uint64_t leaf_val,
                              uint64_t *ent)
{
    uint64_t table = root;
    unsigned n;

    for (n = 0;; n++) {
        unsigned lvl = g->nlevels - 1 - n;
        unsigned bits = n == 0 ? g->top_bits : g->stride;
        unsigned shift = g->granule + g->stride * lvl;
        uint64_t ea = table + (((va >> shift) & ((UINT64_C(1) << bits) - 1))
                               << 3);
        uint64_t e;

        if (ent) {
            ent[n] = ea;
        }
        if (lvl == leaf_lvl) {
            fakemem_st64(&t->m, ea, leaf_val);
            return ea;
        }
        e = fakemem_ld64(&t->m, ea);
        if (!e) {
            uint64_t nt = tb_alloc(t, tb_table_size(g, n + 1));
            e = nt | tbl_bits;
            fakemem_st64(&t->m, ea, e);
        }
        table = e & g->addr_mask;
    }
}

#endif
