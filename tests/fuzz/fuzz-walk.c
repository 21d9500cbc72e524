/*
 * libFuzzer target: arbitrary configuration, request and table memory fed
 * to ioasid_walk() (or, with FUZZ_NESTED, ioasid_walk_nested()).  The
 * walkers must not crash, hang or leak, and their results must satisfy
 * basic invariants (checked with __builtin_trap()).
 *
 * Input: a header (configurations, request, memory limit) followed by
 * the memory image.  Memory is the image repeated over the whole address
 * space (word index = address / 8 modulo the image size), so that small
 * inputs describe deep walks; addresses at or above the limit abort.
 * A/D updates write into a private copy of the image.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"

typedef struct FuzzMem {
    uint8_t *img;
    size_t words;
    uint64_t limit;
    unsigned cmpxchg_fail;  /* make every n-th cmpxchg race (0: never) */
    unsigned ncmpxchg;
} FuzzMem;

typedef struct Cursor {
    const uint8_t *p;
    size_t n;
} Cursor;

static uint64_t take(Cursor *c, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint64_t)(c->n ? (c->n--, *c->p++) : 0) << (8 * i);
    }
    return v;
}

static uint8_t *word(FuzzMem *m, uint64_t addr)
{
    return m->img + 8 * ((addr >> 3) % m->words);
}

static int fm_read(void *o, uint64_t addr, void *buf, size_t len)
{
    FuzzMem *m = o;

    if (len != 8 || addr >= m->limit) {
        return -1;
    }
    memcpy(buf, word(m, addr), 8);
    return 0;
}

static int fm_cmpxchg(void *o, uint64_t addr, uint64_t expect, uint64_t val,
                      uint64_t *cur)
{
    FuzzMem *m = o;
    uint64_t now;

    if (addr >= m->limit) {
        return -1;
    }
    memcpy(&now, word(m, addr), 8);
    if (m->cmpxchg_fail && ++m->ncmpxchg % m->cmpxchg_fail == 0) {
        /* Simulate a concurrent update of the entry. */
        now ^= 1ull << 10;
        memcpy(word(m, addr), &now, 8);
    }
    if (now != expect) {
        *cur = now;
        return 1;
    }
    memcpy(word(m, addr), &val, 8);
    return 0;
}

static void take_cfg(Cursor *c, IoasidPgtCfg *cfg)
{
    uint64_t flags;

    memset(cfg, 0, sizeof(*cfg));
    cfg->fmt = (IoasidFormat)(take(c, 1) % (IOASID_FMT__MAX + 2));
    cfg->root = take(c, 8);
    cfg->root1 = take(c, 8);
    cfg->levels = take(c, 1);
    cfg->oas = take(c, 1);
    cfg->arm_granule = take(c, 1);
    cfg->arm_granule1 = take(c, 1);
    cfg->arm_tsz = take(c, 1);
    cfg->arm_t1sz = take(c, 1);
    cfg->arm_sl0 = take(c, 1);
    flags = take(c, 2);
    cfg->vtd_wpe = flags & 1;
    cfg->vtd_sre = flags & 2;
    cfg->vtd_ad = flags & 4;
    cfg->vtd_sl_exec = flags & 8;
    cfg->vtd_nxe = flags & 16;
    cfg->arm_epd0 = flags & 32;
    cfg->arm_epd1 = flags & 64;
    cfg->arm_ttb1_valid = flags & 128;
    cfg->arm_affd = flags & 256;
    cfg->arm_ha = flags & 512;
    cfg->arm_hd = flags & 1024;
    cfg->arm_ds = flags & 2048;
    cfg->arm_aa64 = !(flags & 4096);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Cursor c = { data, size };
    IoasidPgtCfg s1, s2;
    IoasidMemOps ops;
    IoasidResult res;
    IoasidFault f;
    FuzzMem m;
    uint64_t iova, flags;
    uint8_t access;
    bool priv, ats;
    int rc;

    take_cfg(&c, &s1);
#ifdef FUZZ_NESTED
    take_cfg(&c, &s2);
#else
    (void)s2;
#endif
    iova = take(&c, 8);
    flags = take(&c, 1);
    access = flags & 7;
    priv = flags & 8;
    ats = flags & 16;
    m.limit = take(&c, 8);
    if (!(flags & 32)) {
        m.limit = UINT64_MAX;
    }
    m.cmpxchg_fail = (flags & 64) ? 1 + (flags >> 7) : 0;
    m.ncmpxchg = 0;
    m.words = c.n / 8 ? c.n / 8 : 1;
    m.img = calloc(m.words, 8);
    if (!m.img) {
        return 0;
    }
    memcpy(m.img, c.p, c.n / 8 * 8);
    ops.opaque = &m;
    ops.read = fm_read;
    ops.cmpxchg64 = (flags & 128) ? NULL : fm_cmpxchg;

    (void)ioasid_pgt_cfg_check(&s1);
#ifdef FUZZ_NESTED
    (void)ioasid_pgt_cfg_check(&s2);
    rc = ioasid_walk_nested(&s1, &s2, &ops, iova, access, priv, ats, &res,
                            &f);
#else
    rc = ioasid_walk(&s1, &ops, iova, access, priv, ats, &res, &f);
#endif
    if (rc == 0) {
        uint64_t pm = (UINT64_C(1) << res.page_shift) - 1;

        if (res.page_shift < 12 || res.page_shift > 48 || res.perms > 7) {
            __builtin_trap();
        }
        if (!ats && (access & ~res.perms)) {
            __builtin_trap();
        }
#ifndef FUZZ_NESTED
        if ((res.out ^ iova) & pm || res.levels_walked > 25 ||
            res.out >> s1.oas) {
            __builtin_trap();
        }
#else
        if (res.out >> s2.oas) {
            __builtin_trap();
        }
        (void)pm;
#endif
    } else if (rc == -1) {
        if (f.reason <= IOASID_FAULT_NONE || f.reason >= IOASID_FAULT__MAX ||
            f.stage < 1 || f.stage > 2 || f.level < -1 || f.level > 5 ||
            f.iova != iova) {
            __builtin_trap();
        }
        (void)ioasid_fault_reason_str(f.reason);
    } else {
        __builtin_trap();
    }
    free(m.img);
    return 0;
}
