/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The smallest VFIO user there is, for the e2e guests: opens the container,
 * the group and the device the way QEMU does, maps and unmaps a DMA buffer
 * and resets the device when it can. Prints one "key=value" line per fact
 * for the host's judge; exits non-zero at the first failure.
 *
 *   vh-vfio-client ADDRESS GROUP          the whole sequence
 *   vh-vfio-client --hold ADDRESS GROUP   open the group, say "holding",
 *                                         and keep it open until SIGTERM;
 *                                         then say when it let go
 *                                         ("released_usec=", CLOCK_REALTIME) */

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what) {
        printf("error=%s: %s\n", what, strerror(errno));
        return 1;
}

int main(int argc, char **argv) {
        struct vfio_group_status status = { .argsz = sizeof(status) };
        struct vfio_device_info info = { .argsz = sizeof(info) };
        struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
        struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
        const size_t size = 1 << 20;
        char path[64];
        int container, group, device, hold = 0;
        void *buf;

        if (argc > 1 && strcmp(argv[1], "--hold") == 0) {
                hold = 1;
                argv++;
                argc--;
        }
        if (argc != 3) {
                fprintf(stderr, "usage: %s [--hold] ADDRESS GROUP\n", argv[0]);
                return 2;
        }

        container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
        if (container < 0)
                return fail("open /dev/vfio/vfio");
        printf("api_version=%d\n", ioctl(container, VFIO_GET_API_VERSION));
        printf("type1=%d\n", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));

        snprintf(path, sizeof(path), "/dev/vfio/%s", argv[2]);
        group = open(path, O_RDWR | O_CLOEXEC);
        if (group < 0)
                return fail("open group");
        if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
                return fail("VFIO_GROUP_GET_STATUS");
        printf("group_viable=%d\n", !!(status.flags & VFIO_GROUP_FLAGS_VIABLE));
        if (hold) {
                struct timespec ts;
                sigset_t mask;
                int sig;

                /* Blocked before saying "holding": a SIGTERM at once still waits for sigwait. */
                sigemptyset(&mask);
                sigaddset(&mask, SIGTERM);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                printf("holding=%s\n", path);
                fflush(stdout);
                sigwait(&mask, &sig);
                /* The time the last fd goes, for the host to measure how
                 * soon vfiohostd saw it. */
                clock_gettime(CLOCK_REALTIME, &ts);
                close(group);
                close(container);
                printf("released_usec=%lld\n", (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
                return 0;
        }

        if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
                return fail("VFIO_GROUP_SET_CONTAINER");
        if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
                return fail("VFIO_SET_IOMMU");

        device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
        if (device < 0)
                return fail("VFIO_GROUP_GET_DEVICE_FD");
        if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
                return fail("VFIO_DEVICE_GET_INFO");
        printf("device_regions=%u\ndevice_irqs=%u\ndevice_pci=%d\n", info.num_regions, info.num_irqs,
               !!(info.flags & VFIO_DEVICE_FLAGS_PCI));

        buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
                return fail("mmap");
        map.vaddr = (uintptr_t) buf;
        map.size = size;
        map.iova = 0;
        map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
        if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) < 0)
                return fail("VFIO_IOMMU_MAP_DMA");
        printf("dma_map=ok\n");
        unmap.iova = 0;
        unmap.size = size;
        if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0)
                return fail("VFIO_IOMMU_UNMAP_DMA");
        printf("dma_unmap=%llu\n", (unsigned long long) unmap.size);

        /* Not every device can be reset (edu has no method; a device
         * behind a bridge with a sibling fails with ENOTTY). */
        if (info.flags & VFIO_DEVICE_FLAGS_RESET)
                printf("reset=%s\n", ioctl(device, VFIO_DEVICE_RESET) < 0 ? strerror(errno) : "ok");
        else
                printf("reset=unsupported\n");

        close(device);
        close(group);
        close(container);
        printf("done=ok\n");
        return 0;
}
