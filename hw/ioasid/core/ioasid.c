/*
 * qemu-ioasid core: IOASID objects and the (RID, PASID) attach table.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "ioasid.h"

static void *xzalloc(size_t size)
{
    void *p = calloc(1, size);

    if (!p) {
        abort();
    }
    return p;
}

static bool fmt_is_stage2(IoasidFormat fmt)
{
    return fmt == IOASID_FMT_VTD_SS || fmt == IOASID_FMT_ARM_S2 ||
           fmt == IOASID_FMT_IDENTITY;
}

Ioasid *ioasid_new(uint32_t id, const IoasidPgtCfg *cfg, Ioasid *parent,
                   uint32_t domain_tag, uint32_t as_tag)
{
    Ioasid *as = xzalloc(sizeof(*as));

    as->id = id;
    as->cfg = *cfg;
    as->parent = parent ? ioasid_ref(parent) : NULL;
    as->domain_tag = domain_tag;
    as->as_tag = as_tag;
    if (parent) {
        as->kind = IOASID_KIND_NESTED;
    } else if (fmt_is_stage2(cfg->fmt)) {
        as->kind = IOASID_KIND_S2;
    } else {
        as->kind = IOASID_KIND_S1;
    }
    as->refcount = 1;
    return as;
}

Ioasid *ioasid_ref(Ioasid *as)
{
    as->refcount++;
    return as;
}

void ioasid_unref(Ioasid *as)
{
    while (as && --as->refcount == 0) {
        Ioasid *parent = as->parent;

        free(as);
        as = parent;        /* iterative: nesting depth is unbounded */
    }
}

/* ---------------------------------------------------------------------- */

/*
 * Radix layout: bus (8 bits) -> devfn (8 bits) -> RidNode, whose PASIDs
 * are split 6 / 7 / 7 bits.  Every node counts its used slots and is
 * freed when it becomes empty.
 */
#define TOP_BITS    6
#define MID_BITS    7
#define LEAF_BITS   7
#define TOP_N       (1u << TOP_BITS)
#define MID_N       (1u << MID_BITS)
#define LEAF_N      (1u << LEAF_BITS)

typedef struct PasidLeaf {
    unsigned used;
    Ioasid *e[LEAF_N];
} PasidLeaf;

typedef struct PasidMid {
    unsigned used;
    PasidLeaf *l[MID_N];
} PasidMid;

typedef struct RidNode {
    Ioasid *nopasid;
    unsigned used;          /* non-NULL m[] */
    size_t npasids;
    PasidMid *m[TOP_N];
} RidNode;

typedef struct BusNode {
    unsigned used;
    RidNode *d[256];
} BusNode;

struct IoasidTable {
    BusNode *bus[256];
    size_t count;
    size_t mem;
};

static inline unsigned p_top(uint32_t pasid)
{
    return pasid >> (MID_BITS + LEAF_BITS);
}

static inline unsigned p_mid(uint32_t pasid)
{
    return (pasid >> LEAF_BITS) & (MID_N - 1);
}

static inline unsigned p_leaf(uint32_t pasid)
{
    return pasid & (LEAF_N - 1);
}

IoasidTable *ioasid_table_new(void)
{
    IoasidTable *t = xzalloc(sizeof(*t));

    t->mem = sizeof(*t);
    return t;
}

void ioasid_table_free(IoasidTable *t)
{
    if (t) {
        ioasid_detach_all(t);
        free(t);
    }
}

static void *node_alloc(IoasidTable *t, size_t size)
{
    t->mem += size;
    return xzalloc(size);
}

static void node_free(IoasidTable *t, void *p, size_t size)
{
    t->mem -= size;
    free(p);
}

static RidNode *rid_node(const IoasidTable *t, uint16_t rid)
{
    BusNode *b = t->bus[rid >> 8];

    return b ? b->d[rid & 0xff] : NULL;
}

static RidNode *rid_node_get(IoasidTable *t, uint16_t rid)
{
    BusNode **bp = &t->bus[rid >> 8];
    RidNode **rp;

    if (!*bp) {
        *bp = node_alloc(t, sizeof(BusNode));
    }
    rp = &(*bp)->d[rid & 0xff];
    if (!*rp) {
        *rp = node_alloc(t, sizeof(RidNode));
        (*bp)->used++;
    }
    return *rp;
}

/* Free the RidNode of @rid (and its bus node) if it holds nothing. */
static void rid_node_put(IoasidTable *t, uint16_t rid)
{
    BusNode *b = t->bus[rid >> 8];
    RidNode *r = b ? b->d[rid & 0xff] : NULL;

    if (!r || r->nopasid || r->npasids) {
        return;
    }
    node_free(t, r, sizeof(*r));
    b->d[rid & 0xff] = NULL;
    if (--b->used == 0) {
        node_free(t, b, sizeof(*b));
        t->bus[rid >> 8] = NULL;
    }
}

Ioasid *ioasid_lookup(const IoasidTable *t, uint16_t rid, uint32_t pasid)
{
    const BusNode *b = t->bus[rid >> 8];
    const RidNode *r;
    const PasidMid *m;
    const PasidLeaf *l;

    if (!b) {
        return NULL;
    }
    r = b->d[rid & 0xff];
    if (!r) {
        return NULL;
    }
    if (pasid == IOASID_NO_PASID) {
        return r->nopasid;
    }
    if (pasid > IOASID_PASID_MAX) {
        return NULL;
    }
    m = r->m[p_top(pasid)];
    l = m ? m->l[p_mid(pasid)] : NULL;
    return l ? l->e[p_leaf(pasid)] : NULL;
}

int ioasid_attach(IoasidTable *t, uint16_t rid, uint32_t pasid, Ioasid *as)
{
    RidNode *r;
    PasidMid **mp;
    PasidLeaf **lp;
    Ioasid **ep, *old;

    if (pasid != IOASID_NO_PASID && pasid > IOASID_PASID_MAX) {
        return -1;
    }
    r = rid_node_get(t, rid);
    if (pasid == IOASID_NO_PASID) {
        ep = &r->nopasid;
    } else {
        mp = &r->m[p_top(pasid)];
        if (!*mp) {
            *mp = node_alloc(t, sizeof(PasidMid));
            r->used++;
        }
        lp = &(*mp)->l[p_mid(pasid)];
        if (!*lp) {
            *lp = node_alloc(t, sizeof(PasidLeaf));
            (*mp)->used++;
        }
        ep = &(*lp)->e[p_leaf(pasid)];
        if (!*ep) {
            (*lp)->used++;
            r->npasids++;
        }
    }
    old = *ep;
    *ep = ioasid_ref(as);
    if (old) {
        ioasid_unref(old);
    } else {
        t->count++;
    }
    return 0;
}

int ioasid_detach(IoasidTable *t, uint16_t rid, uint32_t pasid)
{
    RidNode *r = rid_node(t, rid);
    PasidMid *m;
    PasidLeaf *l;
    Ioasid *old;

    if (!r) {
        return -1;
    }
    if (pasid == IOASID_NO_PASID) {
        old = r->nopasid;
        if (!old) {
            return -1;
        }
        r->nopasid = NULL;
    } else {
        if (pasid > IOASID_PASID_MAX) {
            return -1;
        }
        m = r->m[p_top(pasid)];
        l = m ? m->l[p_mid(pasid)] : NULL;
        old = l ? l->e[p_leaf(pasid)] : NULL;
        if (!old) {
            return -1;
        }
        l->e[p_leaf(pasid)] = NULL;
        r->npasids--;
        if (--l->used == 0) {
            node_free(t, l, sizeof(*l));
            m->l[p_mid(pasid)] = NULL;
            if (--m->used == 0) {
                node_free(t, m, sizeof(*m));
                r->m[p_top(pasid)] = NULL;
                r->used--;
            }
        }
    }
    t->count--;
    ioasid_unref(old);
    rid_node_put(t, rid);
    return 0;
}

/*
 * Detach the PASID entries of @r for which @match (if set) is the IOASID;
 * returns how many.
 */
static size_t rid_drop_pasids(IoasidTable *t, RidNode *r, const Ioasid *match)
{
    size_t n = 0;

    for (unsigned i = 0; i < TOP_N && r->npasids; i++) {
        PasidMid *m = r->m[i];

        if (!m) {
            continue;
        }
        for (unsigned j = 0; j < MID_N && m->used; j++) {
            PasidLeaf *l = m->l[j];

            if (!l) {
                continue;
            }
            for (unsigned k = 0; k < LEAF_N && l->used; k++) {
                Ioasid *as = l->e[k];

                if (as && (!match || as == match)) {
                    l->e[k] = NULL;
                    l->used--;
                    r->npasids--;
                    ioasid_unref(as);
                    n++;
                }
            }
            if (!l->used) {
                node_free(t, l, sizeof(*l));
                m->l[j] = NULL;
                m->used--;
            }
        }
        if (!m->used) {
            node_free(t, m, sizeof(*m));
            r->m[i] = NULL;
            r->used--;
        }
    }
    t->count -= n;
    return n;
}

size_t ioasid_detach_rid_pasids(IoasidTable *t, uint16_t rid)
{
    RidNode *r = rid_node(t, rid);
    size_t n;

    if (!r) {
        return 0;
    }
    n = rid_drop_pasids(t, r, NULL);
    rid_node_put(t, rid);
    return n;
}

size_t ioasid_detach_rid(IoasidTable *t, uint16_t rid)
{
    RidNode *r = rid_node(t, rid);
    size_t n;

    if (!r) {
        return 0;
    }
    n = rid_drop_pasids(t, r, NULL);
    if (r->nopasid) {
        ioasid_unref(r->nopasid);
        r->nopasid = NULL;
        t->count--;
        n++;
    }
    rid_node_put(t, rid);
    return n;
}

static size_t detach_matching(IoasidTable *t, const Ioasid *match)
{
    size_t n = 0;

    for (unsigned bus = 0; bus < 256; bus++) {
        for (unsigned df = 0; t->bus[bus] && df < 256; df++) {
            uint16_t rid = bus << 8 | df;
            RidNode *r = t->bus[bus]->d[df];

            if (!r) {
                continue;
            }
            n += rid_drop_pasids(t, r, match);
            if (r->nopasid && (!match || r->nopasid == match)) {
                ioasid_unref(r->nopasid);
                r->nopasid = NULL;
                t->count--;
                n++;
            }
            rid_node_put(t, rid);
        }
    }
    return n;
}

size_t ioasid_detach_ioasid(IoasidTable *t, const Ioasid *as)
{
    return detach_matching(t, as);
}

size_t ioasid_detach_all(IoasidTable *t)
{
    return detach_matching(t, NULL);
}

size_t ioasid_table_count(const IoasidTable *t)
{
    return t->count;
}

size_t ioasid_table_mem(const IoasidTable *t)
{
    return t->mem;
}

static int rid_foreach(const RidNode *r, uint16_t rid, IoasidAttachFn fn,
                       void *opaque)
{
    int ret;

    if (r->nopasid) {
        ret = fn(rid, IOASID_NO_PASID, r->nopasid, opaque);
        if (ret) {
            return ret;
        }
    }
    for (unsigned i = 0; i < TOP_N; i++) {
        const PasidMid *m = r->m[i];

        for (unsigned j = 0; m && j < MID_N; j++) {
            const PasidLeaf *l = m->l[j];

            for (unsigned k = 0; l && k < LEAF_N; k++) {
                if (l->e[k]) {
                    uint32_t pasid = i << (MID_BITS + LEAF_BITS) |
                                     j << LEAF_BITS | k;

                    ret = fn(rid, pasid, l->e[k], opaque);
                    if (ret) {
                        return ret;
                    }
                }
            }
        }
    }
    return 0;
}

int ioasid_table_foreach_rid(const IoasidTable *t, uint16_t rid,
                             IoasidAttachFn fn, void *opaque)
{
    const RidNode *r = rid_node(t, rid);

    return r ? rid_foreach(r, rid, fn, opaque) : 0;
}

int ioasid_table_foreach(const IoasidTable *t, IoasidAttachFn fn,
                         void *opaque)
{
    for (unsigned bus = 0; bus < 256; bus++) {
        const BusNode *b = t->bus[bus];

        for (unsigned df = 0; b && df < 256; df++) {
            int ret;

            if (!b->d[df]) {
                continue;
            }
            ret = rid_foreach(b->d[df], bus << 8 | df, fn, opaque);
            if (ret) {
                return ret;
            }
        }
    }
    return 0;
}
