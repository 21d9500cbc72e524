/*
 * qemu-ioasid core: the translate pipeline.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "translate.h"
#include "walk.h"

void ioasid_iotlb_tag_of(const Ioasid *as, bool priv, IoasidIotlbTag *tag)
{
    tag->domain = as->domain_tag;
    tag->as_tag = as->as_tag;
    tag->kind = as->kind;
    /* Stage-2 permissions do not depend on the privilege level. */
    if (priv && as->kind != IOASID_KIND_S2) {
        tag->kind |= IOASID_IOTLB_PRIV;
    }
}

static int do_walk(const Ioasid *as, const IoasidMemOps *mem, uint64_t iova,
                   uint8_t access, bool priv, bool ats, IoasidResult *res,
                   IoasidFault *fault)
{
    if (as->parent) {
        return ioasid_walk_nested(&as->cfg, &as->parent->cfg, mem, iova,
                                  access, priv, ats, res, fault);
    }
    return ioasid_walk(&as->cfg, mem, iova, access, priv, ats, res, fault);
}

int ioasid_translate_as(const Ioasid *as, IoasidIotlb *tlb,
                        const IoasidMemOps *mem, uint64_t iova,
                        uint8_t access, bool priv, bool ats,
                        IoasidResult *res, IoasidFault *fault)
{
    const IoasidIotlbEntry *e;
    IoasidIotlbTag tag;

    if (!tlb || (as->cfg.fmt == IOASID_FMT_IDENTITY && !as->parent)) {
        return do_walk(as, mem, iova, access, priv, ats, res, fault) ?
               IOASID_XLATE_FAULT : IOASID_XLATE_OK;
    }
    ioasid_iotlb_tag_of(as, priv, &tag);
    e = ioasid_iotlb_lookup(tlb, &tag, iova, false);
    if (e && !(access & ~e->perms)) {
        ioasid_iotlb_count_lookup(tlb, true, false);
        res->out = e->out | (iova & ~ioasid_page_mask(e->page_shift));
        res->page_shift = e->page_shift;
        res->perms = e->perms;
        res->levels_walked = 0;
        return IOASID_XLATE_OK;
    }
    /* Missing, or lacking permissions: walk (and count as a miss). */
    ioasid_iotlb_count_lookup(tlb, false, e != NULL);
    ioasid_iotlb_count_walk(tlb);
    if (do_walk(as, mem, iova, access, priv, ats, res, fault)) {
        return IOASID_XLATE_FAULT;
    }
    ioasid_iotlb_insert(tlb, &tag, iova, res->out, res->page_shift,
                        res->perms);
    return IOASID_XLATE_OK;
}

int ioasid_translate(const IoasidTable *t, IoasidIotlb *tlb,
                     const IoasidMemOps *mem, const IoasidRequest *req,
                     IoasidResult *res, IoasidFault *fault)
{
    const Ioasid *as = ioasid_lookup(t, req->rid, req->pasid);

    if (!as) {
        return IOASID_XLATE_NOT_ATTACHED;
    }
    return ioasid_translate_as(as, tlb, mem, req->iova, req->access,
                               req->priv, req->ats, res, fault);
}
