// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO selftests driver (tools/testing/selftests/vfio/lib/drivers) for
 * QEMU's ioasid-testdev (1234:1a51, docs/system/devices/ioasid-testdev.rst).
 *
 * Not part of Linux: tests/guest/selftests.sh compiles it into libvfio of
 * a copy of the selftests when DRIVER=1, so that vfio_pci_driver_test
 * makes the device DMA through the IOMMU (memcpy, DMA to and from
 * unmapped IOVAs, MSI-X).  The register contract is
 * hw/ioasid/ioasid-testdev-regs.h.
 *
 * The device runs each command to completion inside the CMD write, so
 * memcpy_start() does the copies and memcpy_wait() reports their result.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/errno.h>
#include <linux/io.h>
#include <linux/sizes.h>

#include <libvfio.h>

#include "ioasid-testdev-regs.h"

/* Bounded for TCG guests: memcpy_storm asks for max_memcpy_count copies. */
#define TESTDEV_MAX_COUNT 64

struct testdev_state {
	u64 msi_dst;		/* FILL target of send_msi() */
	u32 result;		/* first non-OK STATUS code of memcpy_start() */
	u64 fault_addr;
};

static inline struct testdev_state *to_state(struct vfio_pci_device *device)
{
	return device->driver.region.vaddr;
}

static inline void *regs(struct vfio_pci_device *device)
{
	return device->bars[IOASID_TESTDEV_BAR_REGS].vaddr;
}

static int testdev_probe(struct vfio_pci_device *device)
{
	if (!vfio_pci_device_match(device, IOASID_TESTDEV_VENDOR_ID,
				   IOASID_TESTDEV_DEVICE_ID))
		return -EINVAL;

	VFIO_ASSERT_NOT_NULL(regs(device));
	if (readl(regs(device) + IOASID_TESTDEV_ID) != IOASID_TESTDEV_ID_VALUE)
		return -EINVAL;
	return 0;
}

static u32 testdev_op(struct vfio_pci_device *device, u32 cmd, iova_t src,
		      iova_t dst, u32 len, u32 pattern, u32 flags)
{
	void *r = regs(device);
	u32 status;

	writeq(src, r + IOASID_TESTDEV_SRC);
	writeq(dst, r + IOASID_TESTDEV_DST);
	writel(len, r + IOASID_TESTDEV_LEN);
	writel(pattern, r + IOASID_TESTDEV_PATTERN);
	writel(flags, r + IOASID_TESTDEV_FLAGS);
	writel(cmd, r + IOASID_TESTDEV_CMD);
	do {
		status = readl(r + IOASID_TESTDEV_STATUS);
	} while (status & IOASID_TESTDEV_ST_BUSY);
	VFIO_ASSERT_TRUE(status & IOASID_TESTDEV_ST_DONE, "STATUS 0x%x\n", status);
	return status & IOASID_TESTDEV_ST_CODE_MASK;
}

static void testdev_init(struct vfio_pci_device *device)
{
	struct testdev_state *st = to_state(device);

	VFIO_ASSERT_GE(device->driver.region.size, sizeof(*st));

	vfio_pci_config_writew(device, PCI_COMMAND,
			       PCI_COMMAND_MEMORY |
			       PCI_COMMAND_MASTER |
			       PCI_COMMAND_INTX_DISABLE);
	writel(~0u, regs(device) + IOASID_TESTDEV_IRQ_STATUS);

	vfio_pci_msix_enable(device, 0, device->msix_info.count);

	device->driver.msi = IOASID_TESTDEV_VEC_DONE;
	device->driver.max_memcpy_size = IOASID_TESTDEV_MAX_LEN;
	device->driver.max_memcpy_count = TESTDEV_MAX_COUNT;
}

static void testdev_remove(struct vfio_pci_device *device)
{
	vfio_pci_msix_disable(device);
	writel(~0u, regs(device) + IOASID_TESTDEV_IRQ_STATUS);
}

static void testdev_memcpy_start(struct vfio_pci_device *device,
				 iova_t src, iova_t dst, u64 size, u64 count)
{
	struct testdev_state *st = to_state(device);
	u64 i;

	st->result = IOASID_TESTDEV_RES_OK;
	for (i = 0; i < count; i++) {
		u32 res = testdev_op(device, IOASID_TESTDEV_CMD_COPY, src, dst,
				     size, 0, 0);
		if (res != IOASID_TESTDEV_RES_OK) {
			st->result = res;
			st->fault_addr = readq(regs(device) + IOASID_TESTDEV_FAULT_ADDR);
			break;
		}
	}
}

static int testdev_memcpy_wait(struct vfio_pci_device *device)
{
	struct testdev_state *st = to_state(device);

	if (st->result == IOASID_TESTDEV_RES_OK)
		return 0;
	printf("ioasid-testdev: memcpy failed: result %u, FAULT_ADDR 0x%llx\n",
	       st->result, (unsigned long long)st->fault_addr);
	return -1;
}

static void testdev_send_msi(struct vfio_pci_device *device)
{
	struct testdev_state *st = to_state(device);
	u32 res;

	res = testdev_op(device, IOASID_TESTDEV_CMD_FILL, 0,
			 to_iova(device, &st->msi_dst), sizeof(st->msi_dst),
			 0x5a5a5a5a, IOASID_TESTDEV_F_IRQ);
	VFIO_ASSERT_EQ(res, IOASID_TESTDEV_RES_OK);
	writel(IOASID_TESTDEV_IRQ_DONE, regs(device) + IOASID_TESTDEV_IRQ_STATUS);
}

const struct vfio_pci_driver_ops ioasid_testdev_ops = {
	.name = "ioasid_testdev",
	.probe = testdev_probe,
	.init = testdev_init,
	.remove = testdev_remove,
	.memcpy_start = testdev_memcpy_start,
	.memcpy_wait = testdev_memcpy_wait,
	.send_msi = testdev_send_msi,
};
