/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The raw floor of the benchmarks (docs/performance.md): a plain C reader,
 * libc only, no vfiohost code, of what the host model reads from sysfs,
 * with open/read/close and readlink, and nothing else (no parsing beyond
 * what it needs to go on, no names, no allocation per function).
 *
 * For each entry of sys/bus/pci/devices, as service/core/vh-pci.c does:
 *   attributes: vendor, device, subsystem_vendor, subsystem_device, class,
 *     revision, numa_node, boot_vga, d3cold_allowed, driver_override,
 *     reset_method, sriov_totalvfs, sriov_numvfs and, for a PF,
 *     sriov_drivers_autoprobe (missing ones count as tried, not read);
 *   links: the devices/ADDR link itself (the parent), driver,
 *     iommu_group, physfn, and a PF's virtfnN links (its directory listed).
 * Then, as service/core/vh-iommu.c does, each sys/kernel/iommu_groups/N:
 *   its devices/ listed and its type read.
 * Not read, as the model does not on these trees: config (only a
 * fallback when the id files are missing) and the VFIO nodes (only for
 * functions bound to vfio-pci).
 *
 *   build/tests/bench/bench-raw-reader TREE [ITERATIONS]
 * prints: functions F groups G attributes A links L (one pass's counts)
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const attributes[] = {
        "vendor", "device", "subsystem_vendor", "subsystem_device", "class", "revision",
        "numa_node", "boot_vga", "d3cold_allowed", "driver_override", "reset_method",
        "sriov_totalvfs", "sriov_numvfs",
};

static size_t n_attributes, n_links;

/* Reads dir/name/attr; returns its length, -1 when absent. */
static ssize_t read_attr(int dirfd, const char *name, const char *attr, char *buf, size_t size) {
        char path[512];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", name, attr);
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        n_attributes++;
        return n;
}

static ssize_t read_link(int dirfd, const char *name, const char *attr, char *buf, size_t size) {
        char path[512];
        ssize_t n;

        if (attr)
                snprintf(path, sizeof(path), "%s/%s", name, attr);
        else
                snprintf(path, sizeof(path), "%s", name);
        n = readlinkat(dirfd, path, buf, size - 1);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        n_links++;
        return n;
}

/* Counts the entries of dirfd/path that do not start with a dot; -1 when
 * it cannot be listed. */
static long list_dir(int dirfd, const char *path, int (*each)(int, const char *)) {
        DIR *d;
        struct dirent *de;
        long n = 0;
        int fd;

        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -1;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (each && each(fd, de->d_name) < 0) {
                        closedir(d);
                        return -1;
                }
                n++;
        }
        closedir(d);
        return n;
}

/* A PF's virtfnN links, for list_dir. */
static int read_virtfn(int pf_dir, const char *entry) {
        char buf[4096];

        if (strncmp(entry, "virtfn", 6) == 0)
                (void) read_link(pf_dir, entry, NULL, buf, sizeof(buf));
        return 0;
}

static int read_function(int devices, const char *name) {
        char buf[4096];
        bool pf = false;

        for (size_t i = 0; i < sizeof(attributes) / sizeof(attributes[0]); i++)
                if (read_attr(devices, name, attributes[i], buf, sizeof(buf)) > 0 &&
                    strcmp(attributes[i], "sriov_totalvfs") == 0)
                        pf = strtol(buf, NULL, 10) > 0;
        (void) read_link(devices, name, NULL, buf, sizeof(buf));
        (void) read_link(devices, name, "driver", buf, sizeof(buf));
        (void) read_link(devices, name, "iommu_group", buf, sizeof(buf));
        (void) read_link(devices, name, "physfn", buf, sizeof(buf));

        if (pf) {
                (void) read_attr(devices, name, "sriov_drivers_autoprobe", buf, sizeof(buf));
                if (list_dir(devices, name, read_virtfn) < 0)
                        return -1;
        }
        return 0;
}

static int read_group(int groups, const char *name) {
        char path[512], buf[64];

        snprintf(path, sizeof(path), "%s/devices", name);
        if (list_dir(groups, path, NULL) < 0)
                return -1;
        (void) read_attr(groups, name, "type", buf, sizeof(buf));
        return 0;
}

int main(int argc, char *argv[]) {
        int iterations = argc > 2 ? atoi(argv[2]) : 1;
        long n_functions = 0, n_groups = 0;
        int root;

        if (argc < 2) {
                fprintf(stderr, "usage: %s TREE [ITERATIONS]\n", argv[0]);
                return EXIT_FAILURE;
        }
        root = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                perror(argv[1]);
                return EXIT_FAILURE;
        }
        if (iterations < 1)
                iterations = 1;

        for (int i = 0; i < iterations; i++) {
                n_attributes = n_links = 0;
                n_functions = list_dir(root, "sys/bus/pci/devices", read_function);
                n_groups = list_dir(root, "sys/kernel/iommu_groups", read_group);
                if (n_functions < 0 || n_groups < 0) {
                        fprintf(stderr, "%s: cannot read sys/bus/pci/devices or sys/kernel/iommu_groups\n", argv[1]);
                        return EXIT_FAILURE;
                }
        }

        printf("functions %ld groups %ld attributes %zu links %zu\n", n_functions, n_groups, n_attributes, n_links);
        close(root);
        return EXIT_SUCCESS;
}
