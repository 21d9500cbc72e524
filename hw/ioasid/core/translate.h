/*
 * qemu-ioasid core: the translate pipeline.
 *
 *   attach table (RID[, PASID]) -> IOASID -> IOTLB -> page-table walk
 *   (nested when the IOASID has a parent) -> IOTLB insert.
 *
 * Permission rule for cached entries: an entry records the permissions
 * the walk granted *without further table updates* (the walkers withhold
 * write permission from a clean page when hardware dirty tracking is on
 * and the walk was not a write).  A request (DMA or ATS) whose access is
 * not a subset of the cached permissions is treated as a miss and walks
 * again; the new result replaces the entry, and only that walk can fault.
 * So a cached read translation never causes a spurious write fault after
 * the guest upgraded the entry or when D must be set.
 *
 * Device models may call the pieces (ioasid_lookup, ioasid_iotlb_*,
 * ioasid_walk*) directly instead.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_CORE_TRANSLATE_H
#define IOASID_CORE_TRANSLATE_H

#include "ioasid-types.h"
#include "ioasid.h"
#include "iotlb.h"

/* Return values of ioasid_translate(). */
enum {
    IOASID_XLATE_OK = 0,
    IOASID_XLATE_FAULT = -1,        /* *fault filled in                    */
    /*
     * Nothing attached at (RID, PASID): the device model decodes its
     * configuration structures, attaches (or reports its own fault) and
     * retries.  *fault is not touched.
     */
    IOASID_XLATE_NOT_ATTACHED = 1,
};

/* The IOTLB tag of translations made through @as for a (@priv) request. */
void ioasid_iotlb_tag_of(const Ioasid *as, bool priv, IoasidIotlbTag *tag);

/*
 * Translate through @as: IOTLB (if @tlb) then walk and insert.  Returns
 * IOASID_XLATE_OK or IOASID_XLATE_FAULT.  Identity IOASIDs bypass the
 * IOTLB.
 */
int ioasid_translate_as(const Ioasid *as, IoasidIotlb *tlb,
                        const IoasidMemOps *mem, uint64_t iova,
                        uint8_t access, bool priv, bool ats,
                        IoasidResult *res, IoasidFault *fault);

/* The whole pipeline for @req.  @tlb may be NULL (no caching). */
int ioasid_translate(const IoasidTable *t, IoasidIotlb *tlb,
                     const IoasidMemOps *mem, const IoasidRequest *req,
                     IoasidResult *res, IoasidFault *fault);

#endif /* IOASID_CORE_TRANSLATE_H */
