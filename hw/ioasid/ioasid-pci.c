/*
 * qemu-ioasid: (RID, PASID) DMA API and PCIe capability helpers.
 *
 * See ioasid-pci.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qemu/range.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pcie.h"
#include "hw/ioasid/ioasid-pci.h"
#include "trace.h"

/* ---- registry ---- */

/* root PCIBus * -> Object * implementing TYPE_IOASID_IOMMU */
static GHashTable *ioasid_iommus;

bool ioasid_iommu_register(PCIBus *root_bus, Object *iommu, Error **errp)
{
    if (!object_dynamic_cast(iommu, TYPE_IOASID_IOMMU)) {
        error_setg(errp, "%s does not implement %s",
                   object_get_typename(iommu), TYPE_IOASID_IOMMU);
        return false;
    }
    if (!pci_bus_is_root(root_bus)) {
        error_setg(errp, "ioasid IOMMU %s: bus %s is not a root bus",
                   object_get_typename(iommu), root_bus->qbus.name);
        return false;
    }
    if (!ioasid_iommus) {
        ioasid_iommus = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    if (g_hash_table_contains(ioasid_iommus, root_bus)) {
        error_setg(errp, "PCI bus %s already has an ioasid IOMMU",
                   root_bus->qbus.name);
        return false;
    }
    g_hash_table_insert(ioasid_iommus, root_bus, iommu);
    trace_ioasid_iommu_register(root_bus->qbus.name,
                                object_get_typename(iommu));
    return true;
}

void ioasid_iommu_unregister(PCIBus *root_bus, Object *iommu)
{
    if (ioasid_iommus &&
        g_hash_table_lookup(ioasid_iommus, root_bus) == iommu) {
        g_hash_table_remove(ioasid_iommus, root_bus);
    }
}

IoasidIOMMU *ioasid_pci_find_iommu(PCIDevice *dev)
{
    Object *iommu;

    if (!ioasid_iommus || pci_bus_bypass_iommu(pci_get_bus(dev))) {
        return NULL;
    }
    iommu = g_hash_table_lookup(ioasid_iommus, pci_device_root_bus(dev));
    return iommu ? IOASID_IOMMU(iommu) : NULL;
}

/* ---- DMA ---- */

static IoasidDmaStatus ioasid_pci_dma_piece(PCIDevice *dev,
                                            IoasidIOMMU *iommu,
                                            const IoasidDmaRequest *req,
                                            void *buf, DMADirection dir,
                                            uint64_t *fault_addr)
{
    MemTxAttrs attrs = { .requester_id = req->rid };

    if (iommu) {
        IoasidIOMMUClass *ic = IOASID_IOMMU_GET_CLASS(iommu);

        if (!ic->dma_rw) {
            return IOASID_DMA_UNSUPPORTED;
        }
        return ic->dma_rw(iommu, req, buf, dir, fault_addr);
    }
    if (req->pasid != IOASID_PCI_NO_PASID) {
        return IOASID_DMA_UNSUPPORTED;
    }
    /* QEMU's path: no IOMMU, or its own through the bus-master AS. */
    if (dma_memory_rw(pci_get_address_space(dev), req->addr, buf, req->len,
                      dir, attrs) != MEMTX_OK) {
        return IOASID_DMA_FAULT;
    }
    return IOASID_DMA_OK;
}

IoasidDmaStatus ioasid_pci_dma_rw(PCIDevice *dev, uint32_t pasid,
                                  bool priv, bool exec, dma_addr_t addr,
                                  void *buf, dma_addr_t len, DMADirection dir,
                                  dma_addr_t *fault_addr)
{
    IoasidIOMMU *iommu = ioasid_pci_find_iommu(dev);
    IoasidDmaRequest req = {
        .dev = dev,
        .rid = pci_requester_id(dev),
        .pasid = pasid,
        .priv = pasid != IOASID_PCI_NO_PASID && priv,
        .exec = pasid != IOASID_PCI_NO_PASID && exec &&
                dir == DMA_DIRECTION_TO_DEVICE,
    };
    uint8_t *p = buf;

    trace_ioasid_pci_dma(req.rid, pasid, priv, exec, addr, len,
                         dir == DMA_DIRECTION_FROM_DEVICE, iommu != NULL);
    while (len) {
        uint64_t piece = IOASID_PCI_DMA_PAGE_SIZE -
                         (addr & (IOASID_PCI_DMA_PAGE_SIZE - 1));
        uint64_t fault = addr;
        IoasidDmaStatus st;

        req.addr = addr;
        req.len = MIN(piece, len);
        st = ioasid_pci_dma_piece(dev, iommu, &req, p, dir, &fault);
        if (st != IOASID_DMA_OK) {
            trace_ioasid_pci_dma_fail(req.rid, pasid, st, fault);
            if (fault_addr) {
                *fault_addr = fault;
            }
            return st;
        }
        addr += req.len;
        p += req.len;
        len -= req.len;
    }
    return IOASID_DMA_OK;
}

IoasidDmaStatus ioasid_pci_ats_translate(PCIDevice *dev, uint32_t pasid,
                                         bool priv, bool exec, uint64_t addr,
                                         uint64_t len, bool no_write,
                                         IoasidAtsCompletion *cpl)
{
    IoasidIOMMU *iommu = ioasid_pci_find_iommu(dev);
    IoasidIOMMUClass *ic;
    IoasidDmaRequest req = {
        .dev = dev,
        .rid = pci_requester_id(dev),
        .pasid = pasid,
        .priv = pasid != IOASID_PCI_NO_PASID && priv,
        .exec = pasid != IOASID_PCI_NO_PASID && exec,
        .addr = addr,
        .len = len,
    };

    if (!iommu) {
        return IOASID_DMA_UNSUPPORTED;
    }
    ic = IOASID_IOMMU_GET_CLASS(iommu);
    if (!ic->ats_translate) {
        return IOASID_DMA_UNSUPPORTED;
    }
    return ic->ats_translate(iommu, &req, no_write, cpl);
}

bool ioasid_pci_page_request(PCIDevice *dev, const IoasidPageRequest *pr)
{
    IoasidIOMMU *iommu = ioasid_pci_find_iommu(dev);
    IoasidIOMMUClass *ic;

    if (!iommu) {
        return false;
    }
    ic = IOASID_IOMMU_GET_CLASS(iommu);
    return ic->page_request && ic->page_request(iommu, pr);
}

void ioasid_pci_prg_response(PCIDevice *dev, uint32_t pasid,
                             uint16_t prg_index, IoasidPrgResponseCode code)
{
    IoasidPCIDeviceClass *dc;

    if (!object_dynamic_cast(OBJECT(dev), TYPE_IOASID_PCI_DEVICE)) {
        return;
    }
    dc = IOASID_PCI_DEVICE_GET_CLASS(dev);
    if (dc->prg_response) {
        dc->prg_response(dev, pasid, prg_index, code);
    }
}

void ioasid_pci_ats_invalidate(PCIDevice *dev, uint32_t pasid, uint64_t addr,
                               uint64_t size, bool global)
{
    IoasidPCIDeviceClass *dc;

    if (!object_dynamic_cast(OBJECT(dev), TYPE_IOASID_PCI_DEVICE)) {
        return;
    }
    dc = IOASID_PCI_DEVICE_GET_CLASS(dev);
    if (dc->ats_invalidate) {
        dc->ats_invalidate(dev, pasid, addr, size, global);
    }
}

/* ---- PCIe extended capabilities ---- */

void ioasid_pcie_pasid_init(PCIDevice *dev, uint16_t offset, uint8_t width,
                            bool exec, bool priv)
{
    uint16_t cap = (width << 8) & PCI_PASID_CAP_WIDTH;
    uint16_t wmask = PCI_PASID_CTRL_ENABLE;

    assert(width >= 1 && width <= IOASID_PCI_PASID_BITS);
    pcie_add_capability(dev, PCI_EXT_CAP_ID_PASID, 1, offset,
                        PCI_EXT_CAP_PASID_SIZEOF);
    if (exec) {
        cap |= PCI_PASID_CAP_EXEC;
        wmask |= PCI_PASID_CTRL_EXEC;
    }
    if (priv) {
        cap |= PCI_PASID_CAP_PRIV;
        wmask |= PCI_PASID_CTRL_PRIV;
    }
    pci_set_word(dev->config + offset + PCI_PASID_CAP, cap);
    pci_set_word(dev->config + offset + PCI_PASID_CTRL, 0);
    pci_set_word(dev->wmask + offset + PCI_PASID_CTRL, wmask);
}

uint16_t ioasid_pcie_pasid_ctrl(PCIDevice *dev, uint16_t offset)
{
    return pci_get_word(dev->config + offset + PCI_PASID_CTRL);
}

void ioasid_pcie_ats_init(PCIDevice *dev, uint16_t offset)
{
    pcie_ats_init(dev, offset, true);
    /* STU is bits 4:0 (PCIe 6.0 sec 7.8.7.3); QEMU's mask misses bit 4. */
    pci_set_word(dev->wmask + offset + PCI_ATS_CTRL,
                 PCI_ATS_CTRL_ENABLE | PCI_ATS_CTRL_STU(0x1f));
}

bool ioasid_pcie_ats_enabled(PCIDevice *dev)
{
    return dev->exp.ats_cap &&
           (pci_get_word(dev->config + dev->exp.ats_cap + PCI_ATS_CTRL) &
            PCI_ATS_CTRL_ENABLE);
}

void ioasid_pcie_pri_init(PCIDevice *dev, uint16_t offset, uint32_t capacity,
                          bool prg_pasid)
{
    uint16_t status = PCI_PRI_STATUS_STOPPED;

    pcie_add_capability(dev, PCI_EXT_CAP_ID_PRI, 1, offset,
                        PCI_EXT_CAP_PRI_SIZEOF);
    if (prg_pasid) {
        status |= PCI_PRI_STATUS_PASID;
    }
    pci_set_word(dev->config + offset + PCI_PRI_CTRL, 0);
    pci_set_word(dev->wmask + offset + PCI_PRI_CTRL,
                 PCI_PRI_CTRL_ENABLE | PCI_PRI_CTRL_RESET);
    pci_set_word(dev->config + offset + PCI_PRI_STATUS, status);
    pci_set_word(dev->w1cmask + offset + PCI_PRI_STATUS,
                 PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI);
    pci_set_long(dev->config + offset + PCI_PRI_MAX_REQ, capacity);
    pci_set_long(dev->config + offset + PCI_PRI_ALLOC_REQ, 0);
    pci_set_long(dev->wmask + offset + PCI_PRI_ALLOC_REQ, UINT32_MAX);
}

bool ioasid_pcie_pri_write_config(PCIDevice *dev, uint16_t offset,
                                  uint32_t addr, uint32_t val, int len)
{
    uint8_t *ctrlp = dev->config + offset + PCI_PRI_CTRL;
    uint8_t *statusp = dev->config + offset + PCI_PRI_STATUS;
    uint16_t ctrl = pci_get_word(ctrlp);
    bool reset = false;

    if (!range_covers_byte(addr, len, offset + PCI_PRI_CTRL)) {
        return false;
    }
    if (ctrl & PCI_PRI_CTRL_RESET) {
        /* Reads as 0; effective only with Enable clear (else undefined). */
        ctrl &= ~PCI_PRI_CTRL_RESET;
        pci_set_word(ctrlp, ctrl);
        reset = !(ctrl & PCI_PRI_CTRL_ENABLE);
    }
    /* No request is ever left outstanding: Stopped == !Enable. */
    if (ctrl & PCI_PRI_CTRL_ENABLE) {
        pci_word_test_and_clear_mask(statusp, PCI_PRI_STATUS_STOPPED);
    } else {
        pci_word_test_and_set_mask(statusp, PCI_PRI_STATUS_STOPPED);
    }
    return reset;
}

bool ioasid_pcie_pri_enabled(PCIDevice *dev, uint16_t offset)
{
    return pci_get_word(dev->config + offset + PCI_PRI_CTRL) &
           PCI_PRI_CTRL_ENABLE;
}

uint32_t ioasid_pcie_pri_allocation(PCIDevice *dev, uint16_t offset)
{
    return pci_get_long(dev->config + offset + PCI_PRI_ALLOC_REQ);
}

/* ---- QOM ---- */

static const TypeInfo ioasid_pci_types[] = {
    {
        .name = TYPE_IOASID_IOMMU,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(IoasidIOMMUClass),
    },
    {
        .name = TYPE_IOASID_PCI_DEVICE,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(IoasidPCIDeviceClass),
    },
};

DEFINE_TYPES(ioasid_pci_types)
