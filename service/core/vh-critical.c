/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-critical.h"
#include "vh-kernel.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

/* Stacked devices (dm on md on nvme, bond on vlan) nest only so deep. */
#define MAX_DEPTH 8

/* Whether a sysfs link target passes through the function's directory:
 * ".../0000:02:00.0/nvme/nvme0/nvme0n1/nvme0n1p2". */
static bool target_is_below(const char *target, const char *address) {
        size_t n = strlen(address);

        for (const char *p = strstr(target, address); p; p = strstr(p + 1, address))
                if ((p == target || p[-1] == '/') && (p[n] == '/' || p[n] == 0))
                        return true;
        return false;
}

static bool block_is_on(const VhHostFs *fs, const char *name, const char *address, unsigned depth) {
        _cleanup_free_ char *target = NULL;
        _cleanup_strv_free_ char **slaves = NULL;

        if (depth > MAX_DEPTH || !*name || strchr(name, '/'))
                return false;

        if (vh_hostfs_read_link(fs, &target, VH_SYSFS_CLASS_BLOCK, name, NULL) >= 0 &&
            target_is_below(target, address))
                return true;

        /* device-mapper and md: the devices underneath are the slaves; for a
         * partition of a stacked device, the parent's. */
        if (vh_hostfs_list_dir(fs, &slaves, VH_SYSFS_CLASS_BLOCK, name, "slaves", NULL) >= 0)
                STRV_FOREACH(s, slaves)
                        if (block_is_on(fs, *s, address, depth + 1))
                                return true;
        return false;
}

/* "/dev/mapper/vg-root" → "dm-0" via the dev/mapper symlink; "/dev/sda1" → "sda1". */
static char *block_name_of_source(const VhHostFs *fs, const char *source) {
        const char *rel;
        char *name = NULL;

        if (strncmp(source, "/" VH_DEV "/", strlen("/" VH_DEV "/")) != 0)
                return NULL;
        rel = source + strlen("/" VH_DEV "/");
        if (!*rel || strstr(rel, ".."))
                return NULL;

        if (vh_hostfs_read_link_name(fs, &name, VH_DEV, rel, NULL) >= 0)
                return name;

        rel = strrchr(source, '/') + 1;
        return *rel ? strdup(rel) : NULL;
}

/* A file of the host's namespaces (init's, proc/1/...), or the daemon's own
 * where init's cannot be read (a recorded tree without it, a /proc that
 * hides PID 1): under a service manager the two can differ, and the host's
 * mounts and routes are what a bind would take away. */
static int read_host_view(const VhHostFs *fs, char **ret, const char *init_path, const char *own_path) {
        int r = vh_hostfs_read_file(fs, ret, NULL, init_path, NULL);

        if (r >= 0)
                return r;
        return vh_hostfs_read_file(fs, ret, NULL, own_path, NULL);
}

int vh_critical_backs_mount(const VhHostFs *fs, const char *address, char **ret) {
        _cleanup_free_ char *mounts = NULL;
        char *line, *save = NULL;

        if (read_host_view(fs, &mounts, VH_PROC_INIT_MOUNTS, VH_PROC_MOUNTS) < 0)
                return 0;

        for (line = strtok_r(mounts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *name = NULL;
                char source[4096], target[4096];

                if (sscanf(line, "%4095s %4095s", source, target) != 2)
                        continue;
                name = block_name_of_source(fs, source);
                if (!name || !block_is_on(fs, name, address, 0))
                        continue;

                if (asprintf(ret, "it backs the filesystem mounted on %s (%s)", target, source) < 0)
                        return -ENOMEM;
                return 1;
        }
        return 0;
}

static bool netdev_is_on(const VhHostFs *fs, const char *iface, const char *address, unsigned depth) {
        _cleanup_free_ char *device = NULL;
        _cleanup_strv_free_ char **entries = NULL, **ports = NULL;

        if (depth > MAX_DEPTH || !*iface || strchr(iface, '/') || strcmp(iface, "..") == 0 || strcmp(iface, ".") == 0)
                return false;

        if (vh_hostfs_read_link(fs, &device, VH_SYSFS_CLASS_NET, iface, "device", NULL) >= 0 &&
            target_is_below(device, address))
                return true;

        /* Bonds, VLANs, macvlans name their lower devices "lower_<if>";
         * bridges list their ports in brif/. */
        if (vh_hostfs_list_dir(fs, &entries, VH_SYSFS_CLASS_NET, iface, NULL) >= 0)
                STRV_FOREACH(e, entries)
                        if (strncmp(*e, "lower_", 6) == 0 && netdev_is_on(fs, *e + 6, address, depth + 1))
                                return true;
        if (vh_hostfs_list_dir(fs, &ports, VH_SYSFS_CLASS_NET, iface, "brif", NULL) >= 0)
                STRV_FOREACH(p, ports)
                        if (netdev_is_on(fs, *p, address, depth + 1))
                                return true;
        return false;
}

/* Interfaces with a default route: IPv4 destination and mask 0, IPv6 ::/0. */
static int default_route_interfaces(const VhHostFs *fs, char ***ret) {
        _cleanup_free_ char *v4 = NULL, *v6 = NULL;
        _cleanup_strv_free_ char **l = NULL;
        char *line, *save = NULL;
        int r;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        if (read_host_view(fs, &v4, VH_PROC_INIT_NET_ROUTE, VH_PROC_NET_ROUTE) >= 0)
                for (line = strtok_r(v4, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char iface[64], dest[16], gw[16], mask[16];
                        unsigned flags, refcnt, use, metric;

                        if (sscanf(line, "%63s %15s %15s %x %u %u %u %15s", iface, dest, gw, &flags,
                                   &refcnt, &use, &metric, mask) != 8)
                                continue;
                        /* RTF_UP is 0x1. */
                        if (strcmp(dest, "00000000") != 0 || strcmp(mask, "00000000") != 0 || !(flags & 0x1))
                                continue;
                        if (!vh_strv_contains(l, iface) && (r = vh_strv_extend(&l, iface)) < 0)
                                return r;
                }

        save = NULL;
        if (read_host_view(fs, &v6, VH_PROC_INIT_NET_IPV6_ROUTE, VH_PROC_NET_IPV6_ROUTE) >= 0)
                for (line = strtok_r(v6, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char dest[33], plen[3], iface[64];

                        if (sscanf(line, "%32s %2s %*s %*s %*s %*s %*s %*s %*s %63s", dest, plen, iface) != 3)
                                continue;
                        if (strcmp(dest, "00000000000000000000000000000000") != 0 || strcmp(plen, "00") != 0 ||
                            strcmp(iface, "lo") == 0)
                                continue;
                        if (!vh_strv_contains(l, iface) && (r = vh_strv_extend(&l, iface)) < 0)
                                return r;
                }

        *ret = TAKE_PTR(l);
        return 0;
}

int vh_critical_carries_default_route(const VhHostFs *fs, const char *address, char **ret) {
        _cleanup_strv_free_ char **ifaces = NULL;
        int r;

        r = default_route_interfaces(fs, &ifaces);
        if (r < 0)
                return r;

        STRV_FOREACH(i, ifaces)
                if (netdev_is_on(fs, *i, address, 0)) {
                        if (asprintf(ret, "it carries the default route (interface %s)", *i) < 0)
                                return -ENOMEM;
                        return 1;
                }
        return 0;
}

int vh_critical_active_framebuffer(const VhHostFs *fs, const VhPciDevice *d, char **ret) {
        _cleanup_free_ char *fb = NULL, *iomem = NULL;
        const char *which = NULL;
        int r;

        if (!d->boot_vga)
                return 0;

        /* The firmware framebuffer claims the boot GPU's BAR in iomem
         * ("BAR 0: can't reserve" for vfio-pci); a registered fbdev or DRM
         * console shows in proc/fb. */
        if (vh_hostfs_read_file(fs, &iomem, NULL, VH_PROC_IOMEM, NULL) >= 0)
                which = vh_kernel_firmware_framebuffer_in_iomem(iomem);

        /* proc/fb lines are "N name"; sys/class/graphics/fbN/device says
         * which device a framebuffer is on (none for firmware ones). One on
         * another GPU does not hold this one. */
        if (!which && vh_hostfs_read_file(fs, &fb, NULL, VH_PROC_FB, NULL) >= 0) {
                char *line, *save = NULL;

                for (line = strtok_r(fb, "\n", &save); line && !which; line = strtok_r(NULL, "\n", &save)) {
                        _cleanup_free_ char *owner = NULL;
                        char node[32];
                        unsigned index;
                        int consumed = 0;

                        if (sscanf(line, "%u %n", &index, &consumed) != 1 || !line[consumed])
                                continue;
                        snprintf(node, sizeof(node), "fb%u", index);
                        if (vh_hostfs_read_link_name(fs, &owner, VH_SYSFS_CLASS_GRAPHICS, node, "device", NULL) >= 0 &&
                            vh_address_is_valid(owner) && strcmp(owner, d->address) != 0)
                                continue;
                        which = line + consumed;
                }
        }

        if (!which)
                return 0;

        /* A firmware framebuffer keeps the BAR reserved after the driver is
         * gone; a driver's own (i915drmfb, amdgpudrmfb) goes with the driver
         * but takes the console and display with it. */
        if (vh_kernel_framebuffer_is_firmware(which, false))
                r = asprintf(ret, "it is the boot VGA device and the firmware framebuffer %s holds its memory (the "
                             "console uses it); add video=efifb:off or initcall_blacklist=sysfb_init to the kernel "
                             "command line", which);
        else
                r = asprintf(ret, "it is the boot VGA device and carries the console (framebuffer %s); move the "
                             "console and display to another GPU (or stop the display manager and unbind the "
                             "console with fbcon=map or vtcon)", which);
        return r < 0 ? -ENOMEM : 1;
}

/* What the host needs of one function's own devices (disks, interfaces). */
static int needed_at(const VhHostFs *fs, const char *address, char **ret) {
        int r = vh_critical_backs_mount(fs, address, ret);

        if (r != 0)
                return r;
        return vh_critical_carries_default_route(fs, address, ret);
}

int vh_critical_check(const VhHostFs *fs, const VhPciDevice *d, char **ret) {
        int r;

        *ret = NULL;
        r = needed_at(fs, d->address, ret);
        if (r != 0)
                return r;
        r = vh_critical_active_framebuffer(fs, d, ret);
        if (r != 0)
                return r;

        /* A PF's driver takes its VFs with it when it goes (it disables
         * SR-IOV), and their disks and interfaces with them. */
        for (size_t i = 0; i < d->n_virtfns; i++) {
                _cleanup_free_ char *why = NULL;

                r = needed_at(fs, d->virtfns[i].address, &why);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                /* "it carries ..." becomes "0000:3b:02.0 (VF 0 of this PF) carries ..." */
                if (asprintf(ret, "%s (VF %u of this PF) %s", d->virtfns[i].address, d->virtfns[i].index,
                             strncmp(why, "it ", 3) == 0 ? why + 3 : why) < 0)
                        return -ENOMEM;
                return 1;
        }
        return 0;
}
