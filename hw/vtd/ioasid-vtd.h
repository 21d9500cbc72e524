/*
 * ioasid-vtd: Intel VT-d remapping unit for the q35 machine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VTD_IOASID_VTD_H
#define HW_VTD_IOASID_VTD_H

#include "qom/object.h"
#include "hw/acpi/bios-linker-loader.h"

#define TYPE_IOASID_VTD "ioasid-vtd"
#define TYPE_IOASID_VTD_MEMORY_REGION "ioasid-vtd-iommu-memory-region"
OBJECT_DECLARE_SIMPLE_TYPE(IoasidVtdState, IOASID_VTD)

/* Register base, as QEMU's intel-iommu (the DMAR table reports it). */
#define IOASID_VTD_BASE_ADDR    0xfed90000ULL

/*
 * Build the ACPI DMAR table (VT-d spec chapter 8) for the ioasid-vtd
 * device: one DRHD with INCLUDE_PCI_ALL.  Called by hw/i386/acpi-build.c.
 */
void ioasid_vtd_build_dmar(GArray *table_data, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id);

#endif /* HW_VTD_IOASID_VTD_H */
