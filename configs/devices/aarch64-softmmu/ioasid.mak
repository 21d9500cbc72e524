# qemu-ioasid reduced device set for aarch64 (configure
# --without-default-devices --with-devices-aarch64=ioasid).
# ARM_VIRT selects QEMU's own ARM_SMMUV3, kept for comparison.
CONFIG_ARM_VIRT=y
CONFIG_PCIE_PORT=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_RNG=y
CONFIG_VIRTIO_IOMMU=y
CONFIG_NVME_PCI=y
CONFIG_E1000E_PCI_EXPRESS=y
CONFIG_EDU=y
CONFIG_PCI_TESTDEV=y
# ours
CONFIG_IOASID_TESTDEV=y
CONFIG_IOASID_SMMUV3=y
