/*
 * ioasid-smmuv3: Arm SMMUv3 (IHI 0070) on the qemu-ioasid core.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_SMMUV3_IOASID_SMMUV3_H
#define HW_SMMUV3_IOASID_SMMUV3_H

#include "hw/sysbus.h"
#include "hw/pci/pci.h"
#include "exec/memory.h"
#include "qom/object.h"
#include "hw/smmuv3/smmuv3-regs.h"

#define TYPE_IOASID_SMMUV3 "ioasid-smmuv3"
OBJECT_DECLARE_SIMPLE_TYPE(IoasidSMMUv3State, IOASID_SMMUV3)

#define TYPE_IOASID_SMMUV3_MEMORY_REGION "ioasid-smmuv3-memory-region"

/* Wired interrupts, in the order of the DT binding's interrupt-names. */
enum {
    SMMU_IRQ_EVTQ = 0,
    SMMU_IRQ_PRIQ,
    SMMU_IRQ_CMD_SYNC,
    SMMU_IRQ_GERROR,
    SMMU_NUM_IRQS,
};

/* One requester (bus, devfn) behind the SMMU: QEMU's IOMMU MR path. */
typedef struct IoasidSMMUv3Device {
    IoasidSMMUv3State *smmu;
    PCIBus *bus;
    int devfn;
    IOMMUMemoryRegion iommu;
    AddressSpace as;
    QLIST_ENTRY(IoasidSMMUv3Device) next;   /* with notifiers */
} IoasidSMMUv3Device;

typedef struct IoasidSMMUv3Queue {
    uint64_t base;          /* SMMU_xQ_BASE                           */
    uint32_t prod, cons;    /* SMMU_xQ_PROD / CONS                    */
} IoasidSMMUv3Queue;

struct IoasidSMMUv3State {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq[SMMU_NUM_IRQS];
    PCIBus *primary_bus;
    GHashTable *devices;    /* (bus, devfn) -> IoasidSMMUv3Device     */
    QLIST_HEAD(, IoasidSMMUv3Device) notifier_list;

    /* Properties */
    char *stage;            /* "1", "2" or "nested"                   */
    uint8_t ssidsize;       /* IDR1.SSIDSIZE, 0..20                   */
    uint8_t oas;            /* output address size in bits            */
    char *granules;         /* e.g. "4k,16k,64k"                      */
    bool ril;               /* advertise range invalidation (IDR3.RIL) */
    bool fwb;               /* advertise stage-2 force write-back      */
    bool ats;               /* advertise ATS (IDR0.ATS)                */

    /* Identification, computed at realize */
    uint32_t idr[6];
    uint8_t oas_enc;        /* IDR5.OAS                               */

    /* Registers (Page 0); 64-bit ones as lo/hi words */
    uint32_t cr0, cr1, cr2;
    uint32_t gbpa;
    uint32_t irq_ctrl;
    uint32_t gerror, gerrorn;
    uint64_t gerror_irq_cfg0;
    uint32_t gerror_irq_cfg1, gerror_irq_cfg2;
    uint64_t strtab_base;
    uint32_t strtab_base_cfg;
    IoasidSMMUv3Queue cmdq, eventq;
    uint64_t eventq_irq_cfg0;
    uint32_t eventq_irq_cfg1, eventq_irq_cfg2;

    /* Caches (not migrated: dropped on load) */
    GHashTable *ste_cache;  /* StreamID -> SmmuSte                     */
    GHashTable *cd_cache;   /* StreamID << 20 | SSID -> SmmuCd         */
    struct IoasidIotlb *iotlb;  /* core IOTLB: VMID, ASID tags         */
    bool in_cmdq;           /* re-entrancy guard                      */
};

#endif /* HW_SMMUV3_IOASID_SMMUV3_H */
