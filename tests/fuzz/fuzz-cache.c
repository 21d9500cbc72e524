/*
 * libFuzzer target: the IOTLB and the (RID, PASID) attach table.
 *
 * The input is a program of operations (insert, lookup, the invalidation
 * kinds; attach, detach, lookup) run against the core and against a small
 * shadow model kept here.  Besides "never crash, hang or leak" it checks:
 *  - an IOTLB hit is a translation that was inserted with that tag and that
 *    no invalidation covering it removed since (eviction may drop entries,
 *    so a miss is always allowed);
 *  - the attach table returns exactly what the model says.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ioasid.h"
#include "iotlb.h"

#define SHADOW_MAX   512
#define NRID         4
#define NPASID       6
#define NAS          4

typedef struct Shadow {
    IoasidIotlbTag tag;
    uint64_t base, out;
    uint8_t shift, perms;
} Shadow;

typedef struct Input {
    const uint8_t *p;
    size_t n;
} Input;

static uint64_t take(Input *in, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++) {
        v <<= 8;
        if (in->n) {
            v |= *in->p++;
            in->n--;
        }
    }
    return v;
}

static const uint8_t shifts[] = { 12, 14, 16, 21, 25, 29, 30, 39 };
static const uint32_t pasids[NPASID] = {
    IOASID_NO_PASID, 0, 1, 63, 64 * 128 + 5, IOASID_PASID_MAX,
};

static void tag_from(Input *in, IoasidIotlbTag *tag)
{
    uint8_t b = take(in, 1);

    tag->domain = b & 3;
    tag->as_tag = (b >> 2) & 3;
    tag->kind = 1 + ((b >> 4) % 3);
    if (b & 0x80) {
        tag->kind |= IOASID_IOTLB_PRIV;
    }
}

static bool tag_eq(const IoasidIotlbTag *a, const IoasidIotlbTag *b)
{
    return a->domain == b->domain && a->as_tag == b->as_tag &&
           a->kind == b->kind;
}

static bool inval_covers(const IoasidIotlbInval *inv, const Shadow *s)
{
    uint64_t last = s->base + ((UINT64_C(1) << s->shift) - 1);

    if (inv->domain != IOASID_TAG_ANY && inv->domain != s->tag.domain) {
        return false;
    }
    if (inv->as_tag != IOASID_TAG_ANY && inv->as_tag != s->tag.as_tag) {
        return false;
    }
    if (inv->kinds &&
        !(inv->kinds & (1u << (s->tag.kind & ~IOASID_IOTLB_PRIV)))) {
        return false;
    }
    if (!inv->size) {
        return true;
    }
    return s->base <= inv->addr + (inv->size - 1) && inv->addr <= last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Shadow sh[SHADOW_MAX];
    unsigned nsh = 0;
    Input in = { data, size };
    IoasidIotlb *tlb = ioasid_iotlb_new(1 + (take(&in, 1) & 63));
    IoasidTable *t = ioasid_table_new();
    Ioasid *as[NAS], *model[NRID][NPASID];
    IoasidPgtCfg cfg = { .fmt = IOASID_FMT_IDENTITY, .oas = 48 };
    unsigned steps = 0;

    memset(model, 0, sizeof(model));
    for (int i = 0; i < NAS; i++) {
        as[i] = ioasid_new(i, &cfg, NULL, i, i);
    }

    while (in.n && steps++ < 4096) {
        uint8_t op = take(&in, 1);
        IoasidIotlbTag tag;
        IoasidIotlbInval inv;

        switch (op % 10) {
        case 0: {                                   /* insert */
            uint8_t shift = shifts[take(&in, 1) % sizeof(shifts)];
            uint64_t mask = ioasid_page_mask(shift);
            uint64_t iova = take(&in, 6) & mask;
            uint64_t out = take(&in, 6) & mask;
            uint8_t perms = take(&in, 1) & 7;
            unsigned i;

            tag_from(&in, &tag);
            ioasid_iotlb_insert(tlb, &tag, iova, out, shift, perms);
            for (i = 0; i < nsh; i++) {
                if (tag_eq(&sh[i].tag, &tag) && sh[i].base == iova &&
                    sh[i].shift == shift) {
                    break;
                }
            }
            if (i == nsh) {
                if (nsh == SHADOW_MAX) {
                    /* Forget the oldest: it can no longer be checked. */
                    memmove(sh, sh + 1, sizeof(sh[0]) * (SHADOW_MAX - 1));
                    i = --nsh;
                }
                nsh++;
            }
            sh[i] = (Shadow){ tag, iova, out, shift, perms };
            break;
        }
        case 1: case 2: {                           /* lookup */
            uint64_t iova = take(&in, 6);
            const IoasidIotlbEntry *e;

            tag_from(&in, &tag);
            e = ioasid_iotlb_lookup(tlb, &tag, iova, true);
            if (e) {
                bool found = false;
                for (unsigned i = 0; i < nsh && !found; i++) {
                    found = tag_eq(&sh[i].tag, &tag) &&
                            sh[i].base == e->iova &&
                            sh[i].shift == e->page_shift &&
                            sh[i].out == e->out && sh[i].perms == e->perms &&
                            (iova & ioasid_page_mask(e->page_shift)) ==
                            e->iova;
                }
                /* Entries forgotten by the bounded shadow are unchecked. */
                assert(found || nsh == SHADOW_MAX);
            }
            break;
        }
        case 3: {                                   /* invalidate */
            uint8_t b = take(&in, 1);
            unsigned i, j;

            inv.domain = (b & 4) ? IOASID_TAG_ANY : (b & 3);
            inv.as_tag = (b & 0x20) ? IOASID_TAG_ANY : ((b >> 3) & 3);
            inv.kinds = (b & 0x40) ? (take(&in, 1) & 0xe) : 0;
            inv.leaf_only = b & 0x80;
            inv.addr = take(&in, 6);
            inv.size = take(&in, 1) & 1 ? take(&in, 5) : 0;
            ioasid_iotlb_invalidate(tlb, &inv);
            for (i = j = 0; i < nsh; i++) {
                if (!inval_covers(&inv, &sh[i])) {
                    sh[j++] = sh[i];
                }
            }
            nsh = j;
            break;
        }
        case 4:                                     /* invalidate all */
            ioasid_iotlb_inv_all(tlb);
            nsh = 0;
            break;
        case 5: case 6: {                           /* attach */
            uint8_t b = take(&in, 1);
            unsigned r = b % NRID, p = (b >> 2) % NPASID, a = (b >> 5) % NAS;

            assert(ioasid_attach(t, r, pasids[p], as[a]) == 0);
            model[r][p] = as[a];
            break;
        }
        case 7: {                                   /* detach */
            uint8_t b = take(&in, 1);
            unsigned r = b % NRID, p = (b >> 2) % NPASID;

            assert((ioasid_detach(t, r, pasids[p]) == 0) ==
                   (model[r][p] != NULL));
            model[r][p] = NULL;
            break;
        }
        case 8: {                                   /* bulk detach */
            uint8_t b = take(&in, 1);
            unsigned r = b % NRID, a = (b >> 2) % NAS;

            switch ((b >> 4) & 3) {
            case 0:
                ioasid_detach_rid(t, r);
                memset(model[r], 0, sizeof(model[r]));
                break;
            case 1:
                ioasid_detach_rid_pasids(t, r);
                for (unsigned p = 1; p < NPASID; p++) {
                    model[r][p] = NULL;
                }
                break;
            case 2:
                ioasid_detach_ioasid(t, as[a]);
                for (unsigned rr = 0; rr < NRID; rr++) {
                    for (unsigned p = 0; p < NPASID; p++) {
                        if (model[rr][p] == as[a]) {
                            model[rr][p] = NULL;
                        }
                    }
                }
                break;
            default:
                ioasid_detach_all(t);
                memset(model, 0, sizeof(model));
            }
            break;
        }
        default:                                    /* check the table */
            for (unsigned r = 0; r < NRID; r++) {
                for (unsigned p = 0; p < NPASID; p++) {
                    assert(ioasid_lookup(t, r, pasids[p]) == model[r][p]);
                }
            }
            break;
        }
    }

    ioasid_table_free(t);
    for (int i = 0; i < NAS; i++) {
        ioasid_unref(as[i]);
    }
    ioasid_iotlb_free(tlb);
    return 0;
}
