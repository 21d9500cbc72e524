/*
 * ioasid-vtd: DMAR builder stub for builds without CONFIG_IOASID_VTD.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/vtd/ioasid-vtd.h"

void ioasid_vtd_build_dmar(GArray *table_data, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id)
{
    g_assert_not_reached();
}
