/*
 * Small sysfs helpers shared by the in-guest test programs
 * (testdev-dma.c, iommufd-test.c).  Header-only: each program is one
 * static binary.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IOASID_GUEST_SYSFS_UTIL_H
#define IOASID_GUEST_SYSFS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a sysfs file into @buf, trailing newline / blanks stripped. */
static int sysfs_read(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0) {
        return -1;
    }
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) {
        return -1;
    }
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
        buf[--n] = 0;
    }
    return 0;
}

/* Write @val to a sysfs file; 0 or -errno. */
static int sysfs_write(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    n = write(fd, val, strlen(val));
    close(fd);
    return n < 0 ? -errno : 0;
}

/* DIR/FILE as a hexadecimal number ("0x" optional), or ~0ul. */
static unsigned long sysfs_hex(const char *dir, const char *file)
{
    char path[PATH_MAX], buf[64];

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (sysfs_read(path, buf, sizeof(buf))) {
        return ~0ul;
    }
    return strtoul(buf, NULL, 16);
}

/* basename of the symlink DIR/NAME, or "" */
static void link_base(const char *dir, const char *name, char *out, size_t len)
{
    char path[PATH_MAX], target[PATH_MAX];
    ssize_t n;
    char *b;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) {
        out[0] = 0;
        return;
    }
    target[n] = 0;
    b = strrchr(target, '/');
    snprintf(out, len, "%s", b ? b + 1 : target);
}

#endif
