/*
 * testdev-dma: drive ioasid-testdev (1234:1a51) DMA from a Linux guest
 * through VFIO and check every byte.
 *
 * Modes (chosen automatically, or with --mode):
 *   iommufd   the device is in an IOMMU group and the kernel has IOMMUFD
 *             (/dev/iommu) and the VFIO device cdev: VFIO_DEVICE_BIND_IOMMUFD,
 *             IOMMU_GET_HW_INFO, IOMMU_IOAS_ALLOC, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
 *             buffers mapped with IOMMU_IOAS_MAP; otherwise the same steps
 *             as vfio.  (uAPI structs are copied below: the host's
 *             linux-libc-dev may predate iommufd.)
 *   vfio      the device is in an IOMMU group: bind to vfio-pci, VFIO type1
 *             container, buffers mapped at chosen IOVAs with
 *             VFIO_IOMMU_MAP_DMA.  After the data tests, permission and
 *             unmap faults are checked: the device must report SRC/DST
 *             faults for IOVAs that are read-only or no longer mapped.
 *   noiommu   no IOMMU, kernel with CONFIG_VFIO_NOIOMMU: VFIO no-IOMMU
 *             group, DMA to physical addresses from /proc/self/pagemap.
 *   sysfs     no IOMMU and no VFIO no-IOMMU (Debian's kernels): BAR0
 *             through /sys/bus/pci/devices/BDF/resource0, bus mastering
 *             through its config file, physical addresses from pagemap.
 * In the last two, operations stay inside one page (physical pages of a
 * buffer need not be contiguous) and the fault checks are skipped.
 *
 * Output: one line per step, then
 *   testdev-dma: summary: N passed, N failed, N skipped (mode ...)
 * Exit: 0 all passed, 1 something failed, 77 device absent (skip).
 *
 * Built static for x86_64 and aarch64 (tests/guest/mkinitramfs.sh) with
 * only the kernel uAPI headers and hw/ioasid/ioasid-testdev-regs.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/vfio.h>

#include "sysfs-util.h"
#include "ioasid-testdev-regs.h"

#define P "testdev-dma: "

enum mode { MODE_AUTO, MODE_VFIO, MODE_NOIOMMU, MODE_SYSFS, MODE_IOMMUFD };
static const char *mode_name[] = { "auto", "vfio", "noiommu", "sysfs",
                                   "iommufd" };

/* iommufd / VFIO cdev uAPI (Linux >= 6.6), as in include/uapi/linux. */
#define U_IOMMUFD_TYPE          ';'
#define U_IOMMU_IOAS_ALLOC      _IO(U_IOMMUFD_TYPE, 0x81)
#define U_IOMMU_IOAS_MAP        _IO(U_IOMMUFD_TYPE, 0x85)
#define U_IOMMU_IOAS_UNMAP      _IO(U_IOMMUFD_TYPE, 0x86)
#define U_IOMMU_GET_HW_INFO     _IO(U_IOMMUFD_TYPE, 0x8a)
#define U_VFIO_DEVICE_BIND_IOMMUFD      _IO(VFIO_TYPE, VFIO_BASE + 18)
#define U_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#define U_IOAS_MAP_FIXED_IOVA   (1u << 0)
#define U_IOAS_MAP_WRITEABLE    (1u << 1)
#define U_IOAS_MAP_READABLE     (1u << 2)
struct u_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct u_ioas_map {
    uint32_t size, flags, ioas_id, reserved;
    uint64_t user_va, length, iova;
};
struct u_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
struct u_hw_info {
    uint32_t size, flags, dev_id, data_len;
    uint64_t data_uptr;
    uint32_t out_data_type;
    uint8_t out_max_pasid_log2, reserved[3];
    uint64_t out_capabilities;
};
struct u_bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
struct u_attach_pt { uint32_t argsz, flags, pt_id, pasid; };

#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU 8
#endif

static struct {
    char bdf[64];
    char sysdir[PATH_MAX];
    enum mode mode;
    int want_iommu;             /* 1 yes, 0 no, -1 don't care */
    int container, group, device;
    int iommufd;                /* iommufd mode: /dev/iommu */
    uint32_t ioas, dev_id;      /* iommufd objects */
    uint64_t bar0_off, cfg_off; /* VFIO region offsets */
    volatile uint32_t *bar0;    /* sysfs mode: mmap of resource0 */
    int cfg_fd;                 /* sysfs mode: config file */
    int group_id;
    long page;
    unsigned vendor, devid;     /* --id, default ioasid-testdev */
    int setup_only;             /* --setup-only: VFIO plumbing, no DMA */
} d = { .container = -1, .group = -1, .device = -1, .cfg_fd = -1,
        .iommufd = -1,
        .want_iommu = -1 };

static int n_pass, n_fail, n_skip;

static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs(P, stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

static void pass(const char *step, const char *fmt, ...)
{
    va_list ap;

    n_pass++;
    printf(P "[%s] ok", step);
    if (fmt) {
        fputs(": ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    fputc('\n', stdout);
    fflush(stdout);
}

static void fail(const char *step, const char *fmt, ...)
{
    va_list ap;

    n_fail++;
    printf(P "[%s] FAIL: ", step);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void skip(const char *step, const char *why)
{
    n_skip++;
    printf(P "[%s] skipped: %s\n", step, why);
    fflush(stdout);
}

static void die(const char *fmt, ...)
{
    va_list ap;

    printf(P "fatal: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n" P "summary: %d passed, %d failed, %d skipped (fatal error)\n",
           n_pass, n_fail + 1, n_skip);
    fflush(stdout);
    exit(1);
}

static int find_device(void)
{
    DIR *dir = opendir("/sys/bus/pci/devices");
    struct dirent *e;
    int found = 0;

    if (!dir) {
        die("cannot open /sys/bus/pci/devices: %s", strerror(errno));
    }
    while ((e = readdir(dir))) {
        char sd[PATH_MAX];

        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(sd, sizeof(sd), "/sys/bus/pci/devices/%s", e->d_name);
        if (sysfs_hex(sd, "vendor") == d.vendor &&
            sysfs_hex(sd, "device") == d.devid &&
            (!d.bdf[0] || !strcmp(d.bdf, e->d_name))) {
            snprintf(d.bdf, sizeof(d.bdf), "%s", e->d_name);
            snprintf(d.sysdir, sizeof(d.sysdir), "%s", sd);
            found = 1;
            break;
        }
    }
    closedir(dir);
    return found;
}

/* ---- register access ---- */

static uint32_t rd32(uint32_t off)
{
    uint32_t v = ~0u;

    if (d.bar0) {
        return d.bar0[off / 4];
    }
    if (pread(d.device, &v, 4, d.bar0_off + off) != 4) {
        die("BAR0 read at %#x: %s", off, strerror(errno));
    }
    return v;
}

static void wr32(uint32_t off, uint32_t v)
{
    if (d.bar0) {
        d.bar0[off / 4] = v;
        __sync_synchronize();
        return;
    }
    if (pwrite(d.device, &v, 4, d.bar0_off + off) != 4) {
        die("BAR0 write at %#x: %s", off, strerror(errno));
    }
}

static uint64_t rd64(uint32_t off)
{
    return rd32(off) | (uint64_t)rd32(off + 4) << 32;
}

static void wr64(uint32_t off, uint64_t v)
{
    wr32(off, (uint32_t)v);
    wr32(off + 4, v >> 32);
}

static int cfg_rw(int write, uint32_t off, void *buf, size_t len)
{
    ssize_t n;

    if (d.cfg_fd >= 0) {
        n = write ? pwrite(d.cfg_fd, buf, len, off) :
                    pread(d.cfg_fd, buf, len, off);
    } else {
        n = write ? pwrite(d.device, buf, len, d.cfg_off + off) :
                    pread(d.device, buf, len, d.cfg_off + off);
    }
    return n == (ssize_t)len ? 0 : -1;
}

static void enable_bus_master(void)
{
    uint16_t cmd;

    if (cfg_rw(0, 4, &cmd, 2)) {
        die("config read: %s", strerror(errno));
    }
    cmd |= 0x6;     /* memory space, bus master */
    if (cfg_rw(1, 4, &cmd, 2) || cfg_rw(0, 4, &cmd, 2)) {
        die("config write: %s", strerror(errno));
    }
    say("PCI command %#06x (memory %s, bus master %s)", cmd,
        cmd & 2 ? "on" : "off", cmd & 4 ? "on" : "off");
}

/* ---- device binding ---- */

static void bind_vfio(void)
{
    char path[PATH_MAX], drv[64];
    int r;

    if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
        die("vfio-pci driver not registered (module not loaded?)");
    }
    link_base(d.sysdir, "driver", drv, sizeof(drv));
    if (!strcmp(drv, "vfio-pci")) {
        return;
    }
    if (drv[0]) {
        say("unbinding %s from %s", d.bdf, drv);
        snprintf(path, sizeof(path), "%s/driver/unbind", d.sysdir);
        sysfs_write(path, d.bdf);
    }
    snprintf(path, sizeof(path), "%s/driver_override", d.sysdir);
    if ((r = sysfs_write(path, "vfio-pci"))) {
        die("driver_override: %s", strerror(-r));
    }
    r = sysfs_write("/sys/bus/pci/drivers_probe", d.bdf);
    link_base(d.sysdir, "driver", drv, sizeof(drv));
    if (strcmp(drv, "vfio-pci")) {
        die("binding %s to vfio-pci failed (%s); see dmesg", d.bdf,
            r ? strerror(-r) : "no driver after probe");
    }
    say("bound %s to vfio-pci", d.bdf);
}

static void open_vfio(void)
{
    char path[PATH_MAX], grp[64];
    struct vfio_group_status gs = { .argsz = sizeof(gs) };
    struct vfio_region_info ri = { .argsz = sizeof(ri) };
    int iommu_type;

    link_base(d.sysdir, "iommu_group", grp, sizeof(grp));
    if (!grp[0]) {
        die("%s has no iommu_group after binding", d.bdf);
    }
    d.group_id = atoi(grp);
    d.container = open("/dev/vfio/vfio", O_RDWR);
    if (d.container < 0) {
        die("open /dev/vfio/vfio: %s", strerror(errno));
    }
    if (ioctl(d.container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
        die("unknown VFIO API version");
    }
    if (d.mode == MODE_NOIOMMU) {
        iommu_type = VFIO_NOIOMMU_IOMMU;
        snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", d.group_id);
    } else {
        iommu_type = ioctl(d.container, VFIO_CHECK_EXTENSION,
                           VFIO_TYPE1v2_IOMMU) > 0 ? VFIO_TYPE1v2_IOMMU :
                     VFIO_TYPE1_IOMMU;
        if (ioctl(d.container, VFIO_CHECK_EXTENSION, iommu_type) <= 0) {
            die("VFIO type1 IOMMU not supported (vfio_iommu_type1 loaded?)");
        }
        snprintf(path, sizeof(path), "/dev/vfio/%d", d.group_id);
    }
    d.group = open(path, O_RDWR);
    if (d.group < 0) {
        die("open %s: %s", path, strerror(errno));
    }
    if (ioctl(d.group, VFIO_GROUP_GET_STATUS, &gs) ||
        !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        die("group %d not viable (other devices in it not bound to vfio?)",
            d.group_id);
    }
    if (ioctl(d.group, VFIO_GROUP_SET_CONTAINER, &d.container)) {
        die("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
    }
    if (ioctl(d.container, VFIO_SET_IOMMU, iommu_type)) {
        die("VFIO_SET_IOMMU(%d): %s", iommu_type, strerror(errno));
    }
    d.device = ioctl(d.group, VFIO_GROUP_GET_DEVICE_FD, d.bdf);
    if (d.device < 0) {
        die("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
    }
    ri.index = VFIO_PCI_BAR0_REGION_INDEX;
    if (ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri) || ri.size == 0) {
        die("BAR0 region info: %s", strerror(errno));
    }
    d.bar0_off = ri.offset;
    say("group %s %d, IOMMU type %d, BAR0 %#llx bytes%s", path, d.group_id,
        iommu_type, (unsigned long long)ri.size,
        ri.flags & VFIO_REGION_INFO_FLAG_MMAP ? " (mmap-able)" : "");
    ri.argsz = sizeof(ri);
    ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
    if (ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
        die("config region info: %s", strerror(errno));
    }
    d.cfg_off = ri.offset;
}

/* The VFIO device cdev of the bound device (vfio-dev/vfioN), or "" */
static void vfio_cdev(char *out, size_t len)
{
    char path[PATH_MAX];
    DIR *dir;
    struct dirent *e;

    out[0] = 0;
    snprintf(path, sizeof(path), "%s/vfio-dev", d.sysdir);
    dir = opendir(path);
    if (!dir) {
        return;
    }
    while ((e = readdir(dir))) {
        if (!strncmp(e->d_name, "vfio", 4)) {
            snprintf(out, len, "/dev/vfio/devices/%s", e->d_name);
            break;
        }
    }
    closedir(dir);
}

static void open_iommufd(void)
{
    char cdev[PATH_MAX];
    uint8_t data[512];
    struct u_bind_iommufd bind = { .argsz = sizeof(bind) };
    struct u_hw_info hw = { .size = sizeof(hw), .data_len = sizeof(data),
                            .data_uptr = (uintptr_t)data };
    struct u_ioas_alloc alloc = { .size = sizeof(alloc) };
    struct u_attach_pt at = { .argsz = sizeof(at) };
    struct vfio_region_info ri = { .argsz = sizeof(ri) };

    vfio_cdev(cdev, sizeof(cdev));
    if (!cdev[0]) {
        die("%s has no VFIO device cdev (CONFIG_VFIO_DEVICE_CDEV?)", d.bdf);
    }
    d.device = open(cdev, O_RDWR);
    if (d.device < 0) {
        die("open %s: %s", cdev, strerror(errno));
    }
    d.iommufd = open("/dev/iommu", O_RDWR);
    if (d.iommufd < 0) {
        die("open /dev/iommu: %s", strerror(errno));
    }
    bind.iommufd = d.iommufd;
    if (ioctl(d.device, U_VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
        die("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(errno));
    }
    d.dev_id = bind.out_devid;
    hw.dev_id = d.dev_id;
    memset(data, 0, sizeof(data));
    if (ioctl(d.iommufd, U_IOMMU_GET_HW_INFO, &hw)) {
        say("IOMMU_GET_HW_INFO: %s", strerror(errno));
    } else {
        uint64_t w0, w1;

        memcpy(&w0, data, 8);
        memcpy(&w1, data + 8, 8);
        say("IOMMU_GET_HW_INFO: type %u, data %u bytes (%#llx %#llx), "
            "max PASID log2 %u, capabilities %#llx", hw.out_data_type,
            hw.data_len, (unsigned long long)w0, (unsigned long long)w1,
            hw.out_max_pasid_log2, (unsigned long long)hw.out_capabilities);
    }
    if (ioctl(d.iommufd, U_IOMMU_IOAS_ALLOC, &alloc)) {
        die("IOMMU_IOAS_ALLOC: %s", strerror(errno));
    }
    d.ioas = alloc.out_ioas_id;
    at.pt_id = d.ioas;
    if (ioctl(d.device, U_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
        die("VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(errno));
    }
    ri.index = VFIO_PCI_BAR0_REGION_INDEX;
    if (ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri) || ri.size == 0) {
        die("BAR0 region info: %s", strerror(errno));
    }
    d.bar0_off = ri.offset;
    ri.argsz = sizeof(ri);
    ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
    if (ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
        die("config region info: %s", strerror(errno));
    }
    d.cfg_off = ri.offset;
    say("%s bound to iommufd: dev_id %u, IOAS %u attached (hwpt %u)", cdev,
        d.dev_id, d.ioas, at.pt_id);
}

static void open_sysfs(void)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/config", d.sysdir);
    d.cfg_fd = open(path, O_RDWR);
    if (d.cfg_fd < 0) {
        die("open %s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/resource%d", d.sysdir,
             IOASID_TESTDEV_BAR_REGS);
    fd = open(path, O_RDWR | O_SYNC);
    if (fd < 0) {
        die("open %s: %s", path, strerror(errno));
    }
    d.bar0 = mmap(NULL, IOASID_TESTDEV_REGS_SIZE, PROT_READ | PROT_WRITE,
                  MAP_SHARED, fd, 0);
    if (d.bar0 == MAP_FAILED) {
        die("mmap %s: %s", path, strerror(errno));
    }
    close(fd);
    say("BAR0 mapped through %s", path);
}

/* ---- DMA buffers ---- */

struct buf {
    const char *name;
    uint8_t *va;
    size_t size;
    uint64_t iova;      /* vfio mode */
    int mapped;
};

static uint64_t virt_to_phys(void *va)
{
    static int fd = -1;
    uint64_t ent;
    uintptr_t v = (uintptr_t)va;

    if (fd < 0) {
        fd = open("/proc/self/pagemap", O_RDONLY);
        if (fd < 0) {
            die("open /proc/self/pagemap: %s", strerror(errno));
        }
    }
    if (pread(fd, &ent, 8, (v / d.page) * 8) != 8) {
        die("pagemap read: %s", strerror(errno));
    }
    if (!(ent & (1ull << 63)) || !(ent & ((1ull << 55) - 1))) {
        die("pagemap: page %p not present or PFN hidden", va);
    }
    return (ent & ((1ull << 55) - 1)) * d.page + v % d.page;
}

static void buf_alloc(struct buf *b, const char *name, size_t size,
                      uint64_t iova)
{
    b->name = name;
    b->size = size;
    b->iova = iova;
    b->va = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (b->va == MAP_FAILED) {
        die("mmap %zu: %s", size, strerror(errno));
    }
    memset(b->va, 0, size);
    if (mlock(b->va, size)) {
        say("mlock: %s (continuing)", strerror(errno));
    }
}

static int dma_map(struct buf *b, uint32_t flags)
{
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof(m), .flags = flags,
        .vaddr = (uintptr_t)b->va, .iova = b->iova, .size = b->size,
    };

    if (d.mode == MODE_IOMMUFD) {
        struct u_ioas_map im = {
            .size = sizeof(im), .ioas_id = d.ioas,
            .flags = U_IOAS_MAP_FIXED_IOVA |
                     (flags & VFIO_DMA_MAP_FLAG_READ ? U_IOAS_MAP_READABLE : 0) |
                     (flags & VFIO_DMA_MAP_FLAG_WRITE ? U_IOAS_MAP_WRITEABLE : 0),
            .user_va = (uintptr_t)b->va, .length = b->size, .iova = b->iova,
        };
        if (ioctl(d.iommufd, U_IOMMU_IOAS_MAP, &im)) {
            return -errno;
        }
        b->mapped = 1;
        return 0;
    }
    if (d.mode != MODE_VFIO) {
        return 0;
    }
    if (ioctl(d.container, VFIO_IOMMU_MAP_DMA, &m)) {
        return -errno;
    }
    b->mapped = 1;
    return 0;
}

static int dma_unmap(struct buf *b)
{
    struct vfio_iommu_type1_dma_unmap u = {
        .argsz = sizeof(u), .iova = b->iova, .size = b->size,
    };

    if (d.mode == MODE_IOMMUFD && b->mapped) {
        struct u_ioas_unmap iu = {
            .size = sizeof(iu), .ioas_id = d.ioas,
            .iova = b->iova, .length = b->size,
        };
        if (ioctl(d.iommufd, U_IOMMU_IOAS_UNMAP, &iu)) {
            return -errno;
        }
        b->mapped = 0;
        return iu.length == b->size ? 0 : -EIO;
    }
    if (d.mode != MODE_VFIO || !b->mapped) {
        return 0;
    }
    if (ioctl(d.container, VFIO_IOMMU_UNMAP_DMA, &u)) {
        return -errno;
    }
    b->mapped = 0;
    return u.size == b->size ? 0 : -EIO;
}

/* Device address of b[off, off+len): IOVA, or physical (one page only). */
static uint64_t dma_addr(struct buf *b, size_t off, size_t len)
{
    if (d.mode == MODE_VFIO || d.mode == MODE_IOMMUFD) {
        return b->iova + off;
    }
    if ((off % d.page) + len > (size_t)d.page) {
        die("internal: phys DMA range crosses a page");
    }
    return virt_to_phys(b->va + off);
}

/* Pick IOVAs inside the ranges the IOMMU reports (if it reports any). */
static void check_iova_ranges(struct buf **bufs, int n)
{
    struct vfio_iommu_type1_info *info;
    struct vfio_info_cap_header *h;
    size_t sz = 4096;
    uint32_t off;

    info = calloc(1, sz);
    info->argsz = sz;
    if (ioctl(d.container, VFIO_IOMMU_GET_INFO, info)) {
        say("VFIO_IOMMU_GET_INFO: %s", strerror(errno));
        free(info);
        return;
    }
    say("IOMMU page sizes %#llx", (unsigned long long)info->iova_pgsizes);
    if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || !info->cap_offset) {
        free(info);
        return;
    }
    for (off = info->cap_offset; off && off < sz; off = h->next) {
        h = (void *)((char *)info + off);
        if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
            struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;
            uint32_t i;
            int k;

            for (i = 0; i < r->nr_iovas; i++) {
                say("usable IOVA range %#llx-%#llx",
                    (unsigned long long)r->iova_ranges[i].start,
                    (unsigned long long)r->iova_ranges[i].end);
            }
            for (k = 0; k < n; k++) {
                int ok = 0;

                for (i = 0; i < r->nr_iovas; i++) {
                    ok |= bufs[k]->iova >= r->iova_ranges[i].start &&
                          bufs[k]->iova + bufs[k]->size - 1 <=
                          r->iova_ranges[i].end;
                }
                if (!ok) {
                    /* Fall back to the start of the first large range. */
                    for (i = 0; i < r->nr_iovas; i++) {
                        uint64_t s = (r->iova_ranges[i].start + 0xfffffull +
                                      (uint64_t)k * 0x200000) & ~0xfffffull;
                        if (s > r->iova_ranges[i].start &&
                            s + bufs[k]->size - 1 <= r->iova_ranges[i].end) {
                            say("%s: IOVA %#llx unusable, using %#llx",
                                bufs[k]->name,
                                (unsigned long long)bufs[k]->iova,
                                (unsigned long long)s);
                            bufs[k]->iova = s;
                            break;
                        }
                    }
                }
            }
        }
        if (!h->next) {
            break;
        }
    }
    free(info);
}

/* ---- device operations ---- */

static const char *res_name(uint32_t r)
{
    static const char *names[] = {
        "OK", "SRC_FAULT", "DST_FAULT", "MISMATCH", "BAD_CMD", "BAD_LEN",
        "BAD_PASID", "UNSUPPORTED", "ATS_DISABLED",
    };
    return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static const char *cmd_name(uint32_t c)
{
    return c == IOASID_TESTDEV_CMD_COPY ? "COPY" :
           c == IOASID_TESTDEV_CMD_FILL ? "FILL" :
           c == IOASID_TESTDEV_CMD_COMPARE ? "COMPARE" : "CMD";
}

/* Run one command; returns the result code, or -1 on timeout. */
static int run_cmd(uint32_t cmd, uint64_t src, uint64_t dst, uint32_t len,
                   uint32_t pattern)
{
    uint32_t before = rd32(IOASID_TESTDEV_COMPLETED), st;
    struct timespec t0, t;

    wr64(IOASID_TESTDEV_SRC, src);
    wr64(IOASID_TESTDEV_DST, dst);
    wr32(IOASID_TESTDEV_LEN, len);
    wr32(IOASID_TESTDEV_FLAGS, 0);
    wr32(IOASID_TESTDEV_PATTERN, pattern);
    wr32(IOASID_TESTDEV_CMD, cmd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        st = rd32(IOASID_TESTDEV_STATUS);
        if (!(st & IOASID_TESTDEV_ST_BUSY) && (st & IOASID_TESTDEV_ST_DONE) &&
            rd32(IOASID_TESTDEV_COMPLETED) != before) {
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 5) {
            say("%s timed out: STATUS %#x", cmd_name(cmd), st);
            return -1;
        }
        usleep(100);
    }
    say("  %s src %#llx dst %#llx len %u -> %s (STATUS %#x)", cmd_name(cmd),
        (unsigned long long)src, (unsigned long long)dst, len,
        res_name(st & IOASID_TESTDEV_ST_CODE_MASK), st);
    return st & IOASID_TESTDEV_ST_CODE_MASK;
}

/* First index where p[0..n) differs from q, or -1 */
static long first_diff(const uint8_t *p, const uint8_t *q, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != q[i]) {
            return i;
        }
    }
    return -1;
}

static long first_not(const uint8_t *p, uint8_t v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != v) {
            return i;
        }
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: testdev-dma [--mode auto|iommufd|vfio|noiommu|sysfs] "
            "[--iommu yes|no] [--device BDF]\n"
            "                   [--id VVVV:DDDD --setup-only]  (VFIO plumbing "
            "only, any device)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct buf src, dst, ro;
    struct buf *all[] = { &src, &dst, &ro };
    const uint32_t pattern = 0xa5c35a3c;
    uint8_t *expect;
    size_t bufsize = 64 * 1024, i, fill_len, copy_len, soff, doff;
    int r, k, iommu, auto_mode;
    long bad;
    char grp[64];
    uint32_t id;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--mode") && k + 1 < argc) {
            const char *m = argv[++k];
            d.mode = !strcmp(m, "vfio") ? MODE_VFIO :
                     !strcmp(m, "noiommu") ? MODE_NOIOMMU :
                     !strcmp(m, "sysfs") ? MODE_SYSFS :
                     !strcmp(m, "iommufd") ? MODE_IOMMUFD :
                     !strcmp(m, "auto") ? MODE_AUTO : (usage(), 0);
        } else if (!strcmp(argv[k], "--iommu") && k + 1 < argc) {
            k++;
            d.want_iommu = !strcmp(argv[k], "yes") ? 1 :
                           !strcmp(argv[k], "no") ? 0 : -1;
        } else if (!strcmp(argv[k], "--id") && k + 1 < argc) {
            if (sscanf(argv[++k], "%x:%x", &d.vendor, &d.devid) != 2) {
                usage();
            }
        } else if (!strcmp(argv[k], "--setup-only")) {
            d.setup_only = 1;
        } else if (!strcmp(argv[k], "--device") && k + 1 < argc) {
            snprintf(d.bdf, sizeof(d.bdf), "%s", argv[++k]);
        } else {
            usage();
        }
    }
    d.page = sysconf(_SC_PAGESIZE);
    if (!d.vendor) {
        d.vendor = IOASID_TESTDEV_VENDOR_ID;
        d.devid = IOASID_TESTDEV_DEVICE_ID;
    }

    if (!find_device()) {
        say("no device %04x:%04x found", d.vendor, d.devid);
        printf(P "summary: 0 passed, 0 failed, 1 skipped (no device)\n");
        return 77;
    }
    link_base(d.sysdir, "iommu_group", grp, sizeof(grp));
    iommu = grp[0] != 0;
    say("device %s, iommu_group %s", d.bdf, iommu ? grp : "none");
    if (d.want_iommu == 1 && !iommu) {
        die("an IOMMU was expected but %s has no IOMMU group "
            "(IOMMU not enabled by the kernel?)", d.bdf);
    }
    if (d.want_iommu == 0 && iommu) {
        die("no IOMMU was expected but %s is in IOMMU group %s", d.bdf, grp);
    }
    auto_mode = d.mode == MODE_AUTO;
    if (d.mode == MODE_AUTO) {
        if (iommu) {
            d.mode = MODE_VFIO;
        } else if (!access("/sys/module/vfio/parameters/"
                           "enable_unsafe_noiommu_mode", F_OK)) {
            d.mode = MODE_NOIOMMU;
        } else {
            d.mode = MODE_SYSFS;
        }
    }
    say("mode %s (page size %ld)", mode_name[d.mode], d.page);

    if (d.mode == MODE_NOIOMMU) {
        r = sysfs_write("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
                        "Y");
        if (r) {
            die("enabling VFIO no-IOMMU mode: %s", strerror(-r));
        }
    }
    if (d.mode == MODE_SYSFS) {
        open_sysfs();
    } else {
        bind_vfio();
        if (d.mode == MODE_VFIO && auto_mode && !access("/dev/iommu", F_OK)) {
            char cdev[PATH_MAX];

            vfio_cdev(cdev, sizeof(cdev));
            if (cdev[0]) {
                d.mode = MODE_IOMMUFD;
                say("/dev/iommu and %s present: mode iommufd", cdev);
            }
        }
        if (d.mode == MODE_IOMMUFD) {
            open_iommufd();
        } else {
            open_vfio();
        }
    }
    enable_bus_master();

    if (d.setup_only) {
        buf_alloc(&src, "src", bufsize, 0x40000000ull);
        buf_alloc(&dst, "dst", bufsize, 0x140000000ull);
        if (d.mode == MODE_VFIO) {
            check_iova_ranges(all, 2);
        }
        (void)all;
        if ((r = dma_map(&src, VFIO_DMA_MAP_FLAG_READ)) ||
            (r = dma_map(&dst, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) {
            fail("setup", "VFIO_IOMMU_MAP_DMA: %s", strerror(-r));
        } else if ((r = dma_unmap(&src)) || (r = dma_unmap(&dst))) {
            fail("setup", "VFIO_IOMMU_UNMAP_DMA: %s", strerror(-r));
        } else {
            pass("setup", "BAR0[0] %#x, DMA addresses %#llx/%#llx mapped and unmapped",
                 rd32(0), (unsigned long long)dma_addr(&src, 0, 1),
                 (unsigned long long)dma_addr(&dst, 0, 1));
        }
        goto out;
    }

    /* Step: identity registers. */
    id = rd32(IOASID_TESTDEV_ID);
    if (id == IOASID_TESTDEV_ID_VALUE) {
        pass("id", "ID %#x FEATURES %#x", id, rd32(IOASID_TESTDEV_FEATURES));
    } else {
        die("ID register %#x, expected %#x", id, IOASID_TESTDEV_ID_VALUE);
    }

    /* Source below 4 GiB, destination above: both address halves used. */
    buf_alloc(&src, "src", bufsize, 0x40000000ull);
    buf_alloc(&dst, "dst", bufsize, 0x140000000ull);
    buf_alloc(&ro, "ro", bufsize, 0x80000000ull);
    expect = calloc(1, bufsize);
    if (d.mode == MODE_VFIO || d.mode == MODE_IOMMUFD) {
        if (d.mode == MODE_VFIO) {
            check_iova_ranges(all, 3);
        }
        if ((r = dma_map(&src, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) ||
            (r = dma_map(&dst, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) {
            die("DMA map (%s): %s", mode_name[d.mode], strerror(-r));
        }
        say("mapped src %p at IOVA %#llx, dst %p at IOVA %#llx (%zu bytes each)",
            src.va, (unsigned long long)src.iova, dst.va,
            (unsigned long long)dst.iova, bufsize);
        fill_len = 3 * d.page + 256;    /* several pages, partial last one */
        copy_len = 40000;               /* unaligned, crosses pages */
        soff = 100;
        doff = 7;
    } else {
        fill_len = 2048;                /* inside one physical page */
        copy_len = 1000;
        soff = 100;
        doff = 7;
        say("physical DMA: src page %#llx, dst page %#llx",
            (unsigned long long)virt_to_phys(src.va),
            (unsigned long long)virt_to_phys(dst.va));
    }

    /* Step: FILL. */
    r = run_cmd(IOASID_TESTDEV_CMD_FILL, 0, dma_addr(&dst, 0, fill_len),
                fill_len, pattern);
    for (i = 0; i < fill_len; i++) {
        expect[i] = pattern >> (8 * (i & 3));
    }
    if (r != IOASID_TESTDEV_RES_OK) {
        fail("fill", "result %s", r < 0 ? "timeout" : res_name(r));
    } else if ((bad = first_diff(dst.va, expect, fill_len)) >= 0) {
        fail("fill", "byte %ld is %#x, expected %#x", bad, dst.va[bad],
             expect[bad]);
    } else if ((bad = first_not(dst.va + fill_len, 0, 64)) >= 0) {
        fail("fill", "wrote past LEN (byte %zu)", fill_len + bad);
    } else {
        pass("fill", "%zu bytes of %#x", fill_len, pattern);
    }

    /* Step: COPY (unaligned source and destination, crossing pages). */
    srandom(12345);
    for (i = 0; i < bufsize; i++) {
        src.va[i] = random();
    }
    memset(dst.va, 0, bufsize);
    r = run_cmd(IOASID_TESTDEV_CMD_COPY, dma_addr(&src, soff, copy_len),
                dma_addr(&dst, doff, copy_len), copy_len, 0);
    if (r != IOASID_TESTDEV_RES_OK) {
        fail("copy", "result %s", r < 0 ? "timeout" : res_name(r));
    } else if ((bad = first_diff(dst.va + doff, src.va + soff, copy_len)) >= 0) {
        fail("copy", "byte %ld is %#x, expected %#x", bad,
             dst.va[doff + bad], src.va[soff + bad]);
    } else if (first_not(dst.va, 0, doff) >= 0 ||
               first_not(dst.va + doff + copy_len, 0, 64) >= 0) {
        fail("copy", "bytes outside [DST, DST+LEN) changed");
    } else {
        pass("copy", "%zu bytes, src+%zu -> dst+%zu", copy_len, soff, doff);
    }

    /* Step: COMPARE equal, then with one byte changed. */
    r = run_cmd(IOASID_TESTDEV_CMD_COMPARE, dma_addr(&src, soff, copy_len),
                dma_addr(&dst, doff, copy_len), copy_len, 0);
    if (r == IOASID_TESTDEV_RES_OK) {
        pass("compare-equal", "%zu bytes", copy_len);
    } else {
        fail("compare-equal", "result %s", r < 0 ? "timeout" : res_name(r));
    }
    k = copy_len - 333;
    dst.va[doff + k] ^= 0x40;
    r = run_cmd(IOASID_TESTDEV_CMD_COMPARE, dma_addr(&src, soff, copy_len),
                dma_addr(&dst, doff, copy_len), copy_len, 0);
    if (r == IOASID_TESTDEV_RES_MISMATCH &&
        rd32(IOASID_TESTDEV_MISMATCH) == (uint32_t)k) {
        pass("compare-mismatch", "found at offset %d", k);
    } else {
        fail("compare-mismatch", "result %s, MISMATCH %u (expected %s at %d)",
             r < 0 ? "timeout" : res_name(r), rd32(IOASID_TESTDEV_MISMATCH),
             res_name(IOASID_TESTDEV_RES_MISMATCH), k);
    }
    dst.va[doff + k] ^= 0x40;

    /* Step: LEN 0 is refused without DMA. */
    r = run_cmd(IOASID_TESTDEV_CMD_COPY, dma_addr(&src, 0, 1),
                dma_addr(&dst, 0, 1), 0, 0);
    if (r == IOASID_TESTDEV_RES_BAD_LEN) {
        pass("bad-len", NULL);
    } else {
        fail("bad-len", "result %s", r < 0 ? "timeout" : res_name(r));
    }

    if (d.mode != MODE_VFIO && d.mode != MODE_IOMMUFD) {
        skip("ro-fault", "no IOMMU");
        skip("unmap-fault", "no IOMMU");
        skip("remap", "no IOMMU");
        goto out;
    }

    /* Step: a read-only mapping can be read but not written. */
    memset(ro.va, 0x5a, bufsize);
    if ((r = dma_map(&ro, VFIO_DMA_MAP_FLAG_READ))) {
        fail("ro-fault", "read-only map: %s", strerror(-r));
    } else {
        uint64_t fa;
        int r2;

        r = run_cmd(IOASID_TESTDEV_CMD_COPY, src.iova, ro.iova + 8192, 4096, 0);
        fa = rd64(IOASID_TESTDEV_FAULT_ADDR);
        r2 = run_cmd(IOASID_TESTDEV_CMD_COPY, ro.iova, dst.iova, 4096, 0);
        if (r != IOASID_TESTDEV_RES_DST_FAULT) {
            fail("ro-fault", "write to read-only IOVA: %s, expected DST_FAULT",
                 r < 0 ? "timeout" : res_name(r));
        } else if (fa < ro.iova + 8192 || fa >= ro.iova + 8192 + 4096) {
            fail("ro-fault", "FAULT_ADDR %#llx outside the target",
                 (unsigned long long)fa);
        } else if (first_not(ro.va, 0x5a, bufsize) >= 0) {
            fail("ro-fault", "read-only buffer was modified");
        } else if (r2 != IOASID_TESTDEV_RES_OK ||
                   first_not(dst.va, 0x5a, 4096) >= 0) {
            fail("ro-fault", "read from the read-only IOVA failed (%s)",
                 r2 < 0 ? "timeout" : res_name(r2));
        } else {
            pass("ro-fault", "DST_FAULT at %#llx, reads allowed",
                 (unsigned long long)fa);
        }
        dma_unmap(&ro);
    }

    /* Step: after VFIO_IOMMU_UNMAP_DMA the IOVA must fault. */
    memset(dst.va, 0x77, bufsize);
    if ((r = dma_unmap(&dst))) {
        fail("unmap-fault", "VFIO_IOMMU_UNMAP_DMA: %s", strerror(-r));
    } else {
        uint64_t fw, fr;
        int rw, rr;

        rw = run_cmd(IOASID_TESTDEV_CMD_COPY, src.iova, dst.iova + 4096 + 16,
                     256, 0);
        fw = rd64(IOASID_TESTDEV_FAULT_ADDR);
        rr = run_cmd(IOASID_TESTDEV_CMD_COPY, dst.iova + 64, src.iova, 256, 0);
        fr = rd64(IOASID_TESTDEV_FAULT_ADDR);
        if (rw != IOASID_TESTDEV_RES_DST_FAULT) {
            fail("unmap-fault", "write to unmapped IOVA: %s, expected DST_FAULT",
                 rw < 0 ? "timeout" : res_name(rw));
        } else if (rr != IOASID_TESTDEV_RES_SRC_FAULT) {
            fail("unmap-fault", "read of unmapped IOVA: %s, expected SRC_FAULT",
                 rr < 0 ? "timeout" : res_name(rr));
        } else if (fw < dst.iova + 4096 + 16 || fw >= dst.iova + 4096 + 16 + 256 ||
                   fr < dst.iova + 64 || fr >= dst.iova + 64 + 256) {
            fail("unmap-fault", "FAULT_ADDR %#llx / %#llx outside the targets",
                 (unsigned long long)fw, (unsigned long long)fr);
        } else if (first_not(dst.va, 0x77, bufsize) >= 0) {
            fail("unmap-fault", "the unmapped buffer was written");
        } else {
            pass("unmap-fault", "DST_FAULT at %#llx, SRC_FAULT at %#llx",
                 (unsigned long long)fw, (unsigned long long)fr);
        }
    }

    /* Step: map it again; DMA works again. */
    if ((r = dma_map(&dst, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) {
        fail("remap", "map: %s", strerror(-r));
    } else {
        r = run_cmd(IOASID_TESTDEV_CMD_COPY, src.iova, dst.iova, bufsize, 0);
        if (r != IOASID_TESTDEV_RES_OK) {
            fail("remap", "result %s", r < 0 ? "timeout" : res_name(r));
        } else if ((bad = first_diff(dst.va, src.va, bufsize)) >= 0) {
            fail("remap", "byte %ld differs", bad);
        } else {
            pass("remap", "%zu bytes copied after remapping", bufsize);
        }
    }

out:
    if (dma_unmap(&src) || dma_unmap(&dst)) {
        fail("unmap", "DMA unmap: %s", strerror(errno));
    }
    say("summary: %d passed, %d failed, %d skipped (mode %s, iommu_group %s)",
        n_pass, n_fail, n_skip, mode_name[d.mode], iommu ? grp : "none");
    return n_fail || !n_pass ? 1 : 0;
}
