/*
 * qemu-ioasid core: page-table walkers.
 *
 * One generic radix walk; each format (VT-d first / second stage, Arm
 * stage 1 / stage 2) differs only in how it decodes an entry.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_CORE_WALK_H
#define IOASID_CORE_WALK_H

#include "ioasid-types.h"

/*
 * Translate @iova through the single-stage table @cfg.
 * @access: IOASID_PERM_* requested; @priv: supervisor request;
 * @ats: translation request (report granted permissions, no access check).
 * Returns 0 and fills @res, or -1 and fills @fault.
 * Performs hardware A/D updates through @mem->cmpxchg64 where @cfg
 * enables them.  Never loops unboundedly, whatever the table memory holds.
 */
int ioasid_walk(const IoasidPgtCfg *cfg, const IoasidMemOps *mem,
                uint64_t iova, uint8_t access, bool priv, bool ats,
                IoasidResult *res, IoasidFault *fault);

/*
 * Nested translation: @s1 is walked with every table fetch and its final
 * output address translated by @s2.  Fault stage / s2_on_s1_walk say where
 * it failed.  The result's page size is the smaller of the two stages'.
 */
int ioasid_walk_nested(const IoasidPgtCfg *s1, const IoasidPgtCfg *s2,
                       const IoasidMemOps *mem, uint64_t iova, uint8_t access,
                       bool priv, bool ats, IoasidResult *res,
                       IoasidFault *fault);

/* Check @cfg for consistency; returns NULL or a static message. */
const char *ioasid_pgt_cfg_check(const IoasidPgtCfg *cfg);

const char *ioasid_fault_reason_str(IoasidFaultReason r);

#endif /* IOASID_CORE_WALK_H */
