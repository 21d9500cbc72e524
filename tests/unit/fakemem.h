/*
 * A sparse fake guest memory for core unit tests, benchmarks and fuzzers.
 *
 * Pages are allocated on first write; reads of never-written pages return
 * zeroes.  Addresses at or above @limit are "no memory": accesses there
 * fail like an external abort.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_FAKEMEM_H
#define IOASID_FAKEMEM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ioasid-types.h"

#define FAKEMEM_PAGE_SHIFT 12
#define FAKEMEM_PAGE_SIZE (1u << FAKEMEM_PAGE_SHIFT)
#define FAKEMEM_BUCKETS 4096

typedef struct FakePage {
    uint64_t pfn;
    struct FakePage *next;
    uint8_t data[FAKEMEM_PAGE_SIZE];
} FakePage;

typedef struct FakeMem {
    FakePage *bucket[FAKEMEM_BUCKETS];
    uint64_t limit;         /* first address with no memory */
    unsigned reads, cmpxchgs;
    unsigned npages;
} FakeMem;

static inline void fakemem_init(FakeMem *m, uint64_t limit)
{
    memset(m, 0, sizeof(*m));
    m->limit = limit;
}

static inline void fakemem_free(FakeMem *m)
{
    for (unsigned i = 0; i < FAKEMEM_BUCKETS; i++) {
        FakePage *p = m->bucket[i], *n;
        for (; p; p = n) {
            n = p->next;
            free(p);
        }
        m->bucket[i] = NULL;
    }
    m->npages = 0;
}

static inline FakePage *fakemem_page(FakeMem *m, uint64_t addr, int create)
{
    uint64_t pfn = addr >> FAKEMEM_PAGE_SHIFT;
    unsigned h = (unsigned)((pfn * 0x9e3779b97f4a7c15ull) >> 52);
    FakePage *p;

    for (p = m->bucket[h]; p; p = p->next) {
        if (p->pfn == pfn) {
            return p;
        }
    }
    if (!create) {
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        abort();
    }
    p->pfn = pfn;
    p->next = m->bucket[h];
    m->bucket[h] = p;
    m->npages++;
    return p;
}

static inline int fakemem_in_range(FakeMem *m, uint64_t addr, size_t len)
{
    return addr < m->limit && len <= m->limit - addr;
}

/* Byte-wise accessors; they cross page boundaries. */
static inline int fakemem_read(FakeMem *m, uint64_t addr, void *buf, size_t len)
{
    uint8_t *b = buf;

    if (!fakemem_in_range(m, addr, len)) {
        return -1;
    }
    while (len) {
        size_t off = addr & (FAKEMEM_PAGE_SIZE - 1);
        size_t n = FAKEMEM_PAGE_SIZE - off < len ? FAKEMEM_PAGE_SIZE - off : len;
        FakePage *p = fakemem_page(m, addr, 0);
        if (p) {
            memcpy(b, p->data + off, n);
        } else {
            memset(b, 0, n);
        }
        b += n;
        addr += n;
        len -= n;
    }
    return 0;
}

static inline int fakemem_write(FakeMem *m, uint64_t addr, const void *buf,
                                size_t len)
{
    const uint8_t *b = buf;

    if (!fakemem_in_range(m, addr, len)) {
        return -1;
    }
    while (len) {
        size_t off = addr & (FAKEMEM_PAGE_SIZE - 1);
        size_t n = FAKEMEM_PAGE_SIZE - off < len ? FAKEMEM_PAGE_SIZE - off : len;
        memcpy(fakemem_page(m, addr, 1)->data + off, b, n);
        b += n;
        addr += n;
        len -= n;
    }
    return 0;
}

static inline uint64_t fakemem_ld64(FakeMem *m, uint64_t addr)
{
    uint64_t v = 0;
    fakemem_read(m, addr, &v, 8);
    return v;   /* tests run on little-endian hosts */
}

static inline void fakemem_st64(FakeMem *m, uint64_t addr, uint64_t v)
{
    fakemem_write(m, addr, &v, 8);
}

static inline int fakemem_ops_read(void *opaque, uint64_t addr, void *buf,
                                   size_t len)
{
    FakeMem *m = opaque;
    m->reads++;
    return fakemem_read(m, addr, buf, len);
}

static inline int fakemem_ops_cmpxchg64(void *opaque, uint64_t addr,
                                        uint64_t expect, uint64_t val,
                                        uint64_t *cur)
{
    FakeMem *m = opaque;
    uint64_t now;

    m->cmpxchgs++;
    if (fakemem_read(m, addr, &now, 8) < 0) {
        return -1;
    }
    if (now != expect) {
        if (cur) {
            *cur = now;
        }
        return 1;
    }
    return fakemem_write(m, addr, &val, 8);
}

static inline IoasidMemOps fakemem_ops(FakeMem *m)
{
    IoasidMemOps ops = {
        .opaque = m,
        .read = fakemem_ops_read,
        .cmpxchg64 = fakemem_ops_cmpxchg64,
    };
    return ops;
}

#endif
