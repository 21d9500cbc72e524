/*
 * ioasid-vtd: ACPI DMAR table (VT-d spec chapter 8).
 *
 * One DMA Remapping Hardware Unit Definition (8.3) with INCLUDE_PCI_ALL:
 * the unit translates every PCI device of segment 0.  The IOAPIC device
 * scope (8.3.1) is listed as usual.  Flags: INTR_REMAP only when interrupt
 * remapping is implemented (it is not yet).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-iommu.h"
#include "hw/pci-host/q35.h"
#include "hw/pci/pci.h"
#include "vtd-internal.h"

#define DMAR_DRHD               0
#define DMAR_ATSR               2
#define DMAR_DRHD_INCLUDE_PCI_ALL 0x1
#define DMAR_SCOPE_IOAPIC       0x03
#define IOASID_VTD_IOAPIC_ID    0       /* ACPI_BUILD_IOAPIC_ID */

void ioasid_vtd_build_dmar(GArray *table_data, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id)
{
    X86IOMMUState *x86 = x86_iommu_get_default();
    IoasidVtdState *s = IOASID_VTD(x86);
    AcpiTable table = { .sig = "DMAR", .rev = 1, .oem_id = oem_id,
                        .oem_table_id = oem_table_id };
    const unsigned scope_len = 8;   /* scope header + one path entry */
    uint8_t flags = 0;

    if (x86_iommu_ir_supported(x86)) {
        flags |= 0x1;               /* INTR_REMAP */
    }
    acpi_table_begin(&table, table_data);
    /* 8.1: Host Address Width (N - 1), Flags, 10 reserved bytes */
    build_append_int_noprefix(table_data, vtd_haw(s) - 1, 1);
    build_append_int_noprefix(table_data, flags, 1);
    build_append_int_noprefix(table_data, 0, 10);

    /* 8.3 DRHD */
    build_append_int_noprefix(table_data, DMAR_DRHD, 2);
    build_append_int_noprefix(table_data, 16 + scope_len, 2);
    build_append_int_noprefix(table_data, DMAR_DRHD_INCLUDE_PCI_ALL, 1);
    build_append_int_noprefix(table_data, 0, 1);            /* Size: 4 KiB */
    build_append_int_noprefix(table_data, 0, 2);            /* Segment */
    build_append_int_noprefix(table_data, IOASID_VTD_BASE_ADDR, 8);
    /* 8.3.1 device scope: IOAPIC at its pseudo bus/devfn */
    build_append_int_noprefix(table_data, DMAR_SCOPE_IOAPIC, 1);
    build_append_int_noprefix(table_data, scope_len, 1);
    build_append_int_noprefix(table_data, 0, 2);            /* Reserved */
    build_append_int_noprefix(table_data, IOASID_VTD_IOAPIC_ID, 1);
    build_append_int_noprefix(table_data, Q35_PSEUDO_BUS_PLATFORM, 1);
    build_append_int_noprefix(table_data, PCI_SLOT(Q35_PSEUDO_DEVFN_IOAPIC), 1);
    build_append_int_noprefix(table_data, PCI_FUNC(Q35_PSEUDO_DEVFN_IOAPIC), 1);

    if (x86->dt_supported) {
        /* 8.4 Root Port ATS Capability Reporting: ALL_PORTS */
        build_append_int_noprefix(table_data, DMAR_ATSR, 2);
        build_append_int_noprefix(table_data, 8, 2);
        build_append_int_noprefix(table_data, 1, 1);
        build_append_int_noprefix(table_data, 0, 1);
        build_append_int_noprefix(table_data, 0, 2);
    }
    acpi_table_end(linker, &table);
}
