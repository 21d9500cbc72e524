# qemu-ioasid reduced device set for x86_64 (configure
# --without-default-devices --with-devices-x86_64=ioasid).
CONFIG_Q35=y
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
CONFIG_ISA_DEBUG=y
CONFIG_SERIAL_ISA=y
# QEMU's own VT-d, kept for side-by-side comparison
CONFIG_VTD=y
# ours
CONFIG_IOASID_TESTDEV=y
