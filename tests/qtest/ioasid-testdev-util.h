/*
 * qtest helpers shared by the qemu-ioasid qtests: drive ioasid-testdev
 * (registers in hw/ioasid/ioasid-testdev-regs.h) through its BAR0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_TESTDEV_UTIL_H
#define IOASID_TESTDEV_UTIL_H

#include "libqos/pci.h"
#include "hw/ioasid/ioasid-testdev-regs.h"

static inline uint32_t ioasid_td_rd(QPCIDevice *dev, QPCIBar bar,
                                    uint32_t off)
{
    return qpci_io_readl(dev, bar, off);
}

static inline void ioasid_td_wr(QPCIDevice *dev, QPCIBar bar, uint32_t off,
                                uint32_t val)
{
    qpci_io_writel(dev, bar, off, val);
}

static inline void ioasid_td_wr64(QPCIDevice *dev, QPCIBar bar, uint32_t off,
                                  uint64_t val)
{
    qpci_io_writel(dev, bar, off, val);
    qpci_io_writel(dev, bar, off + 4, val >> 32);
}

/*
 * Run one operation (IOASID_TESTDEV_CMD_*) and return its result code
 * (IOASID_TESTDEV_RES_*).  Operations complete within the CMD write, so
 * STATUS.DONE must be set when it is read back.
 */
static inline uint32_t ioasid_td_run(QPCIDevice *dev, QPCIBar bar,
                                     uint32_t cmd, uint64_t src, uint64_t dst,
                                     uint32_t len, uint32_t pattern,
                                     uint32_t flags, uint32_t pasid)
{
    uint32_t st;

    ioasid_td_wr64(dev, bar, IOASID_TESTDEV_SRC, src);
    ioasid_td_wr64(dev, bar, IOASID_TESTDEV_DST, dst);
    ioasid_td_wr(dev, bar, IOASID_TESTDEV_LEN, len);
    ioasid_td_wr(dev, bar, IOASID_TESTDEV_PATTERN, pattern);
    ioasid_td_wr(dev, bar, IOASID_TESTDEV_PASID, pasid);
    ioasid_td_wr(dev, bar, IOASID_TESTDEV_FLAGS, flags);
    ioasid_td_wr(dev, bar, IOASID_TESTDEV_CMD, cmd);
    st = ioasid_td_rd(dev, bar, IOASID_TESTDEV_STATUS);
    g_assert(st & IOASID_TESTDEV_ST_DONE);
    return st & IOASID_TESTDEV_ST_CODE_MASK;
}

/*
 * Start QEMU with @argv (NULL-terminated, argv[0] the binary) and check
 * that it refuses the configuration: exit status 1 and @msg (the name of
 * the bad property) in its error output.
 */
static inline void ioasid_expect_config_error(const char **argv,
                                              const char *msg)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    g_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT,
                          NULL, NULL, &out, &err, &status, NULL));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, msg));
}

#endif
