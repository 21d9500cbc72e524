/*
 * qemu-ioasid: (RID, PASID) DMA API and PCIe capability helpers.
 *
 * QEMU 10.0's PCI DMA path carries no PASID: pci_device_iommu_address_space()
 * takes none and MemTxAttrs.pid has 8 bits.  Our IOMMU models
 * (ioasid-vtd, ioasid-smmuv3) therefore implement the QOM interface
 * TYPE_IOASID_IOMMU and register themselves for the root PCI bus they
 * translate; devices that need PASIDs (ioasid-testdev) issue their DMA
 * through ioasid_pci_dma_rw(), which
 *
 *  - uses the ioasid IOMMU registered for the device's root bus, if any;
 *  - otherwise falls back to QEMU's normal path (the device's bus-master
 *    address space, i.e. no IOMMU or QEMU's own intel-iommu, arm-smmuv3,
 *    virtio-iommu) for requests without a PASID, and reports
 *    IOASID_DMA_UNSUPPORTED for requests with one.
 *
 * The PCIe extended-capability helpers cover what QEMU 10.0 lacks: PASID
 * (PCIe 6.0 sec 7.8.8), PRI (sec 7.8.10) and an ATS initialiser that gives
 * the full 5-bit Smallest Translation Unit field a write mask.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_IOASID_IOASID_PCI_H
#define HW_IOASID_IOASID_PCI_H

#include "qom/object.h"
#include "hw/pci/pci_device.h"
#include "system/dma.h"

/* "No PASID" (same value as the core's IOASID_NO_PASID). */
#define IOASID_PCI_NO_PASID         UINT32_MAX
#define IOASID_PCI_PASID_BITS       20

/* DMA is issued to the IOMMU in pieces that never cross this boundary. */
#define IOASID_PCI_DMA_PAGE_SIZE    4096

typedef enum IoasidDmaStatus {
    IOASID_DMA_OK = 0,
    /*
     * Translation or permission fault, or no memory behind the (translated)
     * address.  *fault_addr holds the first input address that failed.
     */
    IOASID_DMA_FAULT,
    /*
     * The request cannot be issued at all: PASID-tagged request and no
     * IOMMU in front of the device handles PASIDs (the PCIe Unsupported
     * Request a root port returns for a PASID TLP prefix it does not
     * support).  No data moved.
     */
    IOASID_DMA_UNSUPPORTED,
} IoasidDmaStatus;

/* One DMA request, as the IOMMU sees it. */
typedef struct IoasidDmaRequest {
    PCIDevice *dev;         /* requester                                  */
    uint16_t rid;           /* its requester ID, bus << 8 | devfn         */
    uint32_t pasid;         /* IOASID_PCI_NO_PASID or a 20-bit PASID      */
    bool priv;              /* privileged mode requested (PASID only)     */
    bool exec;              /* execute requested (PASID reads only)       */
    uint64_t addr;          /* untranslated address (IOVA)                */
    uint64_t len;           /* bytes; never crosses a 4 KiB boundary     */
} IoasidDmaRequest;

/*
 * ATS Translation Completion (PCIe 6.0 sec 10.2.3): one translated range.
 * A failed translation is reported by the method's return value instead.
 */
typedef struct IoasidAtsCompletion {
    uint64_t translated;    /* translated address of the range's start    */
    uint64_t size;          /* range size, a power of two >= 4 KiB        */
    bool read, write;       /* R, W                                       */
    bool exec, priv;        /* Exe, Priv (PASID requests)                 */
    bool untranslated_only; /* U: use untranslated requests for the range */
    bool global;            /* Global mapping (all PASIDs)                */
} IoasidAtsCompletion;

/*
 * Page Request Message (PCIe 6.0 sec 10.4.1): one page of a page request
 * group.  The IOMMU answers a group (after its last request) with a PRG
 * Response through ioasid_pci_prg_response().
 */
typedef struct IoasidPageRequest {
    PCIDevice *dev;
    uint16_t rid;
    uint32_t pasid;         /* IOASID_PCI_NO_PASID or a 20-bit PASID      */
    bool priv, exec;
    bool read, write;       /* access the page is wanted for              */
    bool last;              /* L: last request of the group               */
    uint16_t prg_index;     /* 9-bit Page Request Group Index             */
    uint64_t addr;          /* page address (4 KiB aligned)               */
} IoasidPageRequest;

/* PRG Response codes (PCIe 6.0 sec 10.4.2.1). */
typedef enum IoasidPrgResponseCode {
    IOASID_PRG_SUCCESS = 0,
    IOASID_PRG_INVALID_REQUEST = 1,
    IOASID_PRG_RESPONSE_FAILURE = 0xf,
} IoasidPrgResponseCode;

/*
 * The IOMMU side: implemented by ioasid-vtd and ioasid-smmuv3.
 */
#define TYPE_IOASID_IOMMU "ioasid-iommu-if"

typedef struct IoasidIOMMU IoasidIOMMU;   /* an object implementing it */
typedef struct IoasidIOMMUClass IoasidIOMMUClass;
DECLARE_CLASS_CHECKERS(IoasidIOMMUClass, IOASID_IOMMU, TYPE_IOASID_IOMMU)
#define IOASID_IOMMU(obj) \
    INTERFACE_CHECK(IoasidIOMMU, (obj), TYPE_IOASID_IOMMU)

struct IoasidIOMMUClass {
    InterfaceClass parent_class;

    /*
     * dma_rw: translate and perform one piece of a DMA (mandatory).
     * @req->addr .. @req->addr + @req->len - 1 lies within one 4 KiB page.
     * @dir is DMA_DIRECTION_TO_DEVICE for a read of memory, FROM_DEVICE
     * for a write.  Returns IOASID_DMA_OK; IOASID_DMA_FAULT with
     * *@fault_addr set to the failing input address (preset by the caller
     * to @req->addr) after recording the fault the IOMMU's way (fault
     * event, event queue); IOASID_DMA_UNSUPPORTED when the request kind
     * (PASID, privileged, execute) is not handled.  Called with the BQL.
     */
    IoasidDmaStatus (*dma_rw)(IoasidIOMMU *iommu, const IoasidDmaRequest *req,
                              void *buf, DMADirection dir,
                              uint64_t *fault_addr);

    /*
     * ats_translate: ATS Translation Request (optional; for later).
     * @req->len is the length asked for; @no_write is the NW bit.
     * Returns IOASID_DMA_OK and fills @cpl; IOASID_DMA_FAULT for a
     * completion with R = W = 0 (no translation); IOASID_DMA_UNSUPPORTED for
     * an Unsupported Request / Completer Abort (ATS not enabled for the
     * device).  NULL: every ATS request is unsupported.
     */
    IoasidDmaStatus (*ats_translate)(IoasidIOMMU *iommu,
                                     const IoasidDmaRequest *req,
                                     bool no_write, IoasidAtsCompletion *cpl);

    /*
     * page_request: a Page Request Message (optional; for later).  The
     * IOMMU queues it to software (VT-d page request queue, SMMUv3 PRI
     * queue) and later answers with ioasid_pci_prg_response().  Returns
     * false if the request was dropped (queue full / PRI not enabled):
     * the IOMMU then responds itself with a Response Failure as the
     * respective specification requires.  NULL: requests are dropped.
     */
    bool (*page_request)(IoasidIOMMU *iommu, const IoasidPageRequest *pr);
};

/*
 * The device side, for the IOMMU's messages to devices (optional; for
 * later): PRG responses and ATS invalidations.
 */
#define TYPE_IOASID_PCI_DEVICE "ioasid-pci-device-if"

typedef struct IoasidPCIDevice IoasidPCIDevice;
typedef struct IoasidPCIDeviceClass IoasidPCIDeviceClass;
DECLARE_CLASS_CHECKERS(IoasidPCIDeviceClass, IOASID_PCI_DEVICE,
                       TYPE_IOASID_PCI_DEVICE)

struct IoasidPCIDeviceClass {
    InterfaceClass parent_class;

    /* PRG Response Message (PCIe 6.0 sec 10.4.2). */
    void (*prg_response)(PCIDevice *dev, uint32_t pasid, uint16_t prg_index,
                         IoasidPrgResponseCode code);
    /*
     * ATS Invalidate Request (PCIe 6.0 sec 10.3.1) for [@addr, @addr +
     * @size); @global: all PASIDs.  The device completes it synchronously.
     */
    void (*ats_invalidate)(PCIDevice *dev, uint32_t pasid, uint64_t addr,
                           uint64_t size, bool global);
};

/* ---- registry: one ioasid IOMMU per root PCI bus ---- */

/*
 * Register @iommu (an object implementing TYPE_IOASID_IOMMU) as the IOMMU
 * in front of every device below @root_bus.  Fails if another is
 * registered there.  The IOMMU typically calls this when it is realized
 * and also calls pci_setup_iommu() so that other devices' DMA is
 * translated through QEMU's normal path.
 */
bool ioasid_iommu_register(PCIBus *root_bus, Object *iommu, Error **errp);
void ioasid_iommu_unregister(PCIBus *root_bus, Object *iommu);

/*
 * The ioasid IOMMU in front of @dev, or NULL if there is none (or the
 * device's bus bypasses the IOMMU).
 */
IoasidIOMMU *ioasid_pci_find_iommu(PCIDevice *dev);

/* ---- DMA ---- */

/*
 * ioasid_pci_dma_rw: DMA @len bytes at @addr from/to @buf for @dev.
 * @pasid: IOASID_PCI_NO_PASID or a PASID; @priv / @exec only with a PASID.
 * The access is done page by page (4 KiB boundaries) and stops at the first
 * piece that fails, whose first address is stored in *@fault_addr
 * (may be NULL).  Earlier pieces have been transferred.
 */
IoasidDmaStatus ioasid_pci_dma_rw(PCIDevice *dev, uint32_t pasid,
                                  bool priv, bool exec, dma_addr_t addr,
                                  void *buf, dma_addr_t len, DMADirection dir,
                                  dma_addr_t *fault_addr);

static inline IoasidDmaStatus ioasid_pci_dma_read(PCIDevice *dev,
                                                  uint32_t pasid, bool priv,
                                                  bool exec, dma_addr_t addr,
                                                  void *buf, dma_addr_t len,
                                                  dma_addr_t *fault_addr)
{
    return ioasid_pci_dma_rw(dev, pasid, priv, exec, addr, buf, len,
                             DMA_DIRECTION_TO_DEVICE, fault_addr);
}

static inline IoasidDmaStatus ioasid_pci_dma_write(PCIDevice *dev,
                                                   uint32_t pasid, bool priv,
                                                   dma_addr_t addr,
                                                   const void *buf,
                                                   dma_addr_t len,
                                                   dma_addr_t *fault_addr)
{
    return ioasid_pci_dma_rw(dev, pasid, priv, false, addr, (void *)buf, len,
                             DMA_DIRECTION_FROM_DEVICE, fault_addr);
}

/*
 * ATS Translation Request from @dev (IOASID_DMA_UNSUPPORTED if no ioasid
 * IOMMU handles ATS), and Page Request Message (false if dropped).
 */
IoasidDmaStatus ioasid_pci_ats_translate(PCIDevice *dev, uint32_t pasid,
                                         bool priv, bool exec, uint64_t addr,
                                         uint64_t len, bool no_write,
                                         IoasidAtsCompletion *cpl);
bool ioasid_pci_page_request(PCIDevice *dev, const IoasidPageRequest *pr);

/* For IOMMUs: deliver a PRG response / ATS invalidation to @dev. */
void ioasid_pci_prg_response(PCIDevice *dev, uint32_t pasid,
                             uint16_t prg_index, IoasidPrgResponseCode code);
void ioasid_pci_ats_invalidate(PCIDevice *dev, uint32_t pasid, uint64_t addr,
                               uint64_t size, bool global);

/* ---- PCIe extended capabilities ---- */

/*
 * PASID (PCIe 6.0 sec 7.8.8) at @offset: Max PASID Width @width (1..20),
 * Execute / Privileged Mode Supported.  Control: Enable always writable,
 * Execute / Privileged Mode Enable writable only when supported.
 */
void ioasid_pcie_pasid_init(PCIDevice *dev, uint16_t offset, uint8_t width,
                            bool exec, bool priv);
/* Control register (PCI_PASID_CTRL_*) of the PASID capability at @offset. */
uint16_t ioasid_pcie_pasid_ctrl(PCIDevice *dev, uint16_t offset);

/*
 * ATS (PCIe 6.0 sec 7.8.7) at @offset: QEMU's pcie_ats_init() (Page
 * Aligned Request set, Invalidate Queue Depth 0 = 32) with the full
 * Smallest Translation Unit field (bits 4:0) writable.
 */
void ioasid_pcie_ats_init(PCIDevice *dev, uint16_t offset);
bool ioasid_pcie_ats_enabled(PCIDevice *dev);

/*
 * PRI (PCIe 6.0 sec 7.8.10) at @offset: Outstanding Page Request Capacity
 * @capacity, PRG Response PASID Required @prg_pasid.  Control Enable and
 * Reset, status Response Failure / Unexpected PRG Index (RW1C), Stopped
 * (RO, kept up to date), allocation register writable.  The device's
 * config_write must call ioasid_pcie_pri_write_config() after
 * pci_default_write_config().
 */
void ioasid_pcie_pri_init(PCIDevice *dev, uint16_t offset, uint32_t capacity,
                          bool prg_pasid);
/*
 * Returns true when this write requested a PRI reset (Reset written 1
 * while Enable is, or becomes, clear): the device then forgets its
 * outstanding page requests.  Reset always reads 0.
 */
bool ioasid_pcie_pri_write_config(PCIDevice *dev, uint16_t offset,
                                  uint32_t addr, uint32_t val, int len);
bool ioasid_pcie_pri_enabled(PCIDevice *dev, uint16_t offset);
uint32_t ioasid_pcie_pri_allocation(PCIDevice *dev, uint16_t offset);

#endif /* HW_IOASID_IOASID_PCI_H */
