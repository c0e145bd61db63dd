/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-critical: whether the host itself needs a function — it backs a
 * mounted filesystem (directly, through a partition, through device-mapper),
 * carries a default route (directly, through a bridge or a bond, IPv4 or
 * IPv6), or is the boot VGA with an active framebuffer — on the fixture
 * hosts (tests/data/README.md) and on copies edited to isolate each path. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-critical.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"
#include "vh-unit.h"

typedef struct {
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
        VhHost *host;
} Fixture;

static void load(Fixture *f, const char *root) {
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->host), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        load(f, dir);
}

static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host(data);
        load(f, f->copy);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_host_free(f->host);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static const VhPciDevice *dev(Fixture *f, const char *address) {
        const VhPciDevice *d = vh_host_find_device(f->host, address);

        g_assert_nonnull(d);
        return d;
}

typedef enum { MOUNT, ROUTE, FB, CHECK } Part;

/* Runs one check; returns its reason (NULL when not critical) and asserts
 * the result and the reason agree. */
static char *run(Fixture *f, Part part, const char *address) {
        char *why = NULL;
        int r;

        switch (part) {
        case MOUNT:
                r = vh_critical_backs_mount(f->fs, address, &why);
                break;
        case ROUTE:
                r = vh_critical_carries_default_route(f->fs, address, &why);
                break;
        case FB:
                r = vh_critical_active_framebuffer(f->fs, dev(f, address), &why);
                break;
        default:
                r = vh_critical_check(f->fs, dev(f, address), &why);
        }
        g_assert_cmpint(r, >=, 0);
        g_assert_cmpint(r, <=, 1);
        if (r == 1) {
                g_assert_nonnull(why);
                g_test_message("%s: %s", address, why);
        } else
                g_assert_null(why);
        return why;
}

static void assert_critical(Fixture *f, Part part, const char *address, const char *const *needles) {
        g_autofree char *why = run(f, part, address);

        if (!why)
                g_error("%s: expected critical, got nothing", address);
        for (size_t i = 0; needles && needles[i]; i++)
                if (!strstr(why, needles[i]))
                        g_error("%s: reason '%s' does not mention '%s'", address, why, needles[i]);
}

static void assert_not_critical(Fixture *f, Part part, const char *address) {
        g_autofree char *why = run(f, part, address);

        if (why)
                g_error("%s: expected not critical, got '%s'", address, why);
}

#define NEEDLES(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* ---- mounts */

static void test_mount_nvme(Fixture *f, gconstpointer data) {
        const char *others[] = { "0000:01:00.0", "0000:01:00.1", "0000:00:02.0", "0000:05:00.0",
                                 "0000:06:00.0", "0000:00:1c.4", "0000:00:1f.0", "0000:00:14.0" };

        assert_critical(f, MOUNT, "0000:02:00.0", NEEDLES("mounted on / ", "/dev/nvme0n1p2"));
        /* the root port above it leads to it too */
        assert_critical(f, MOUNT, "0000:00:06.0", NEEDLES("/dev/nvme0n1p2"));
        for (size_t i = 0; i < G_N_ELEMENTS(others); i++)
                assert_not_critical(f, MOUNT, others[i]);
        /* an address on no path at all */
        assert_not_critical(f, MOUNT, "0000:09:00.0");
}

static void test_mount_nvme_amd(Fixture *f, gconstpointer data) {
        assert_critical(f, MOUNT, "0000:01:00.0", NEEDLES("mounted on / ", "/dev/nvme0n1p2"));
        assert_critical(f, MOUNT, "0000:00:01.1", NEEDLES("/dev/nvme0n1p2"));
        assert_not_critical(f, MOUNT, "0000:04:00.0");
        assert_not_critical(f, MOUNT, "0000:00:14.0");
}

/* Behind VMD: the disk in domain 10000, and the VMD endpoint in domain 0000
 * that the whole domain hangs from (binding it would take / away). */
static void test_mount_nvme_vmd(Fixture *f, gconstpointer data) {
        assert_critical(f, MOUNT, "10000:e1:00.0", NEEDLES("mounted on / ", "/dev/nvme0n1p2"));
        assert_critical(f, MOUNT, "10000:e0:06.0", NEEDLES("/dev/nvme0n1p2"));
        assert_critical(f, MOUNT, "0000:00:0e.0", NEEDLES("mounted on / ", "/dev/nvme0n1p2"));
        /* "0000:e1:00.0" is a suffix of "10000:e1:00.0", not a component */
        assert_not_critical(f, MOUNT, "0000:e1:00.0");
        assert_not_critical(f, MOUNT, "0000:01:00.0");
}

/* The partition alone is enough (here /boot on nvme0n1p1); without any
 * mount of it, the disk is free. */
static void test_mount_partition(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->copy, "proc/mounts",
                           "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                           "/dev/nvme0n1p1 /boot vfat rw,relatime 0 0\n");
        assert_critical(f, MOUNT, "0000:02:00.0", NEEDLES("mounted on /boot ", "/dev/nvme0n1p1"));

        vh_unit_write_file(f->copy, "proc/mounts",
                           "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                           "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n");
        assert_not_critical(f, MOUNT, "0000:02:00.0");

        /* mount sources that name nothing real are skipped */
        vh_unit_write_file(f->copy, "proc/mounts",
                           "/dev/nvme9n1p1 /srv ext4 rw 0 0\n"
                           "/dev/mapper/gone-root /mnt ext4 rw 0 0\n"
                           "/dev/../sys/x /x ext4 rw 0 0\n"
                           "/dev/ /y ext4 rw 0 0\n"
                           "garbage\n\n");
        assert_not_critical(f, MOUNT, "0000:02:00.0");

        vh_unit_unlink(f->copy, "proc/mounts");
        assert_not_critical(f, MOUNT, "0000:02:00.0");
}

/* server-sriov: / is LVM (rhel-root on dm-0) on nvme0n1p3 of af:00.0. The
 * first match is "/" through device-mapper, before /boot on nvme0n1p2. */
static void test_mount_dm(Fixture *f, gconstpointer data) {
        assert_critical(f, MOUNT, "0000:af:00.0", NEEDLES("mounted on / ", "/dev/mapper/rhel-root"));
        assert_critical(f, MOUNT, "0000:ae:00.0", NEEDLES("/dev/mapper/rhel-root"));
        assert_not_critical(f, MOUNT, "0000:3b:00.0");
        assert_not_critical(f, MOUNT, "0000:3b:02.1");
        assert_not_critical(f, MOUNT, "0000:02:00.0");
        assert_not_critical(f, MOUNT, "0000:3a:00.0");
}

/* Only a dm device mounted: it is the slaves/ link that ties dm-2 to the
 * NVMe; without it nothing does. */
static void test_mount_dm_slaves(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->copy, "proc/mounts",
                           "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                           "/dev/mapper/rhel-home /home xfs rw,relatime 0 0\n");
        assert_critical(f, MOUNT, "0000:af:00.0", NEEDLES("mounted on /home ", "/dev/mapper/rhel-home"));

        vh_unit_unlink(f->copy, "sys/devices/virtual/block/dm-2/slaves/nvme0n1p3");
        assert_not_critical(f, MOUNT, "0000:af:00.0");

        /* dm on dm (LVM on LUKS): dm-2 over dm-1 over the partition */
        vh_unit_symlink(f->copy, "sys/devices/virtual/block/dm-2/slaves/dm-1", "../../dm-1");
        assert_critical(f, MOUNT, "0000:af:00.0", NEEDLES("/home"));

        /* a slave loop (dm-2 over itself) ends */
        vh_unit_unlink(f->copy, "sys/devices/virtual/block/dm-2/slaves/dm-1");
        vh_unit_symlink(f->copy, "sys/devices/virtual/block/dm-2/slaves/dm-2", "../../dm-2");
        assert_not_critical(f, MOUNT, "0000:af:00.0");
}

static void test_mount_sata(Fixture *f, gconstpointer data) {
        assert_critical(f, MOUNT, "0000:00:17.0", NEEDLES("mounted on / ", "/dev/sda2"));
        assert_not_critical(f, MOUNT, "0000:02:00.0");
        assert_not_critical(f, MOUNT, "0000:01:00.0");
        assert_not_critical(f, MOUNT, "0000:00:14.0");
}

/* Snaps mounted from loop devices (devices/virtual/block/loopN) tie no
 * PCI function to their mounts. */
static void test_mount_loop(Fixture *f, gconstpointer data) {
        assert_critical(f, MOUNT, "0000:02:00.0", NEEDLES("/dev/nvme0n1p2"));

        vh_unit_write_file(f->copy, "proc/mounts",
                           "/dev/loop0 /snap/core22/1380 squashfs ro,nodev,relatime 0 0\n"
                           "/dev/loop1 /snap/firefox/4451 squashfs ro,nodev,relatime 0 0\n");
        for (size_t i = 0; i < f->host->n_devices; i++)
                assert_not_critical(f, MOUNT, f->host->devices[i]->address);
}

/* ---- default routes */

static void test_route_direct(Fixture *f, gconstpointer data) {
        assert_critical(f, ROUTE, "0000:06:00.0", NEEDLES("default route", "enp6s0"));
        assert_not_critical(f, ROUTE, "0000:00:1c.0");
        assert_not_critical(f, ROUTE, "0000:05:00.0");
        assert_not_critical(f, ROUTE, "0000:01:00.0");
        assert_not_critical(f, ROUTE, "0000:02:00.0");
}

/* IPv4 and IPv6 each count on their own. */
static void test_route_ipv6(Fixture *f, gconstpointer data) {
        g_autofree char *v4 = vh_unit_read_file(f->copy, "proc/net/route");
        g_autofree char *v6 = vh_unit_read_file(f->copy, "proc/net/ipv6_route");
        g_auto(GStrv) lines = g_strsplit(v4, "\n", -1);
        g_autoptr(GString) no_default4 = g_string_new(NULL);
        g_auto(GStrv) lines6 = g_strsplit(v6, "\n", -1);
        g_autoptr(GString) no_default6 = g_string_new(NULL);
        size_t dropped = 0;

        for (size_t i = 0; lines[i]; i++) {
                if (g_str_has_prefix(lines[i], "enp6s0\t00000000\t")) {
                        dropped++;
                        continue;
                }
                if (*lines[i])
                        g_string_append_printf(no_default4, "%s\n", lines[i]);
        }
        g_assert_cmpuint(dropped, ==, 1);
        dropped = 0;
        for (size_t i = 0; lines6[i]; i++) {
                if (g_str_has_prefix(lines6[i], "00000000000000000000000000000000 00 ") &&
                    g_str_has_suffix(lines6[i], " enp6s0")) {
                        dropped++;
                        continue;
                }
                if (*lines6[i])
                        g_string_append_printf(no_default6, "%s\n", lines6[i]);
        }
        g_assert_cmpuint(dropped, ==, 1);

        /* IPv6 default only */
        vh_unit_write_file(f->copy, "proc/net/route", no_default4->str);
        assert_critical(f, ROUTE, "0000:06:00.0", NEEDLES("enp6s0"));
        /* IPv4 default only */
        vh_unit_write_file(f->copy, "proc/net/route", v4);
        vh_unit_write_file(f->copy, "proc/net/ipv6_route", no_default6->str);
        assert_critical(f, ROUTE, "0000:06:00.0", NEEDLES("enp6s0"));
        /* neither: the subnet and link-local routes do not count, nor does
         * the kernel's unreachable ::/0 on lo */
        vh_unit_write_file(f->copy, "proc/net/route", no_default4->str);
        assert_not_critical(f, ROUTE, "0000:06:00.0");
        /* no routing tables readable at all */
        vh_unit_unlink(f->copy, "proc/net/route");
        vh_unit_unlink(f->copy, "proc/net/ipv6_route");
        assert_not_critical(f, ROUTE, "0000:06:00.0");
}

/* desktop-vfio-bound: br0 over enp6s0 (and the VM's tap vnet0) has the
 * default routes. The kernel links the port both as lower_enp6s0 and in
 * brif/; either alone is enough. */
static void test_route_bridge(Fixture *f, gconstpointer data) {
        assert_critical(f, ROUTE, "0000:06:00.0", NEEDLES("default route", "br0"));
        assert_not_critical(f, ROUTE, "0000:05:00.0");
        assert_not_critical(f, ROUTE, "0000:01:00.0");

        vh_unit_unlink(f->copy, "sys/devices/virtual/net/br0/lower_enp6s0");
        vh_unit_unlink(f->copy, "sys/devices/virtual/net/br0/lower_vnet0");
        assert_critical(f, ROUTE, "0000:06:00.0", NEEDLES("br0"));

        vh_unit_unlink(f->copy, "sys/devices/virtual/net/br0/brif/enp6s0");
        assert_not_critical(f, ROUTE, "0000:06:00.0");

        /* back through lower_ only */
        vh_unit_symlink(f->copy, "sys/devices/virtual/net/br0/lower_enp6s0",
                        "../../../pci0000:00/0000:00:1c.4/0000:06:00.0/net/enp6s0");
        assert_critical(f, ROUTE, "0000:06:00.0", NEEDLES("br0"));
}

/* server-sriov: bond0 (active-backup over both X710 PFs) has the default
 * routes; VF0's interface carries only a subnet. */
static void test_route_bond(Fixture *f, gconstpointer data) {
        assert_critical(f, ROUTE, "0000:3b:00.0", NEEDLES("default route", "bond0"));
        assert_critical(f, ROUTE, "0000:3b:00.1", NEEDLES("bond0"));
        assert_not_critical(f, ROUTE, "0000:3b:02.0");
        assert_not_critical(f, ROUTE, "0000:3b:02.1");
        assert_not_critical(f, ROUTE, "0000:af:00.0");
        assert_not_critical(f, ROUTE, "0000:02:00.0");
}

static void test_route_bond_lower(Fixture *f, gconstpointer data) {
        /* without the standby port, the active one still carries it */
        vh_unit_unlink(f->copy, "sys/devices/virtual/net/bond0/lower_ens1f1");
        assert_critical(f, ROUTE, "0000:3b:00.0", NEEDLES("bond0"));
        assert_not_critical(f, ROUTE, "0000:3b:00.1");
        /* a default route moved to the VF's interface makes the VF critical */
        vh_unit_write_file(f->copy, "proc/net/route",
                           "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                           "ens1f0v0\t00000000\t0108280A\t0003\t0\t0\t50\t00000000\t0\t0\t0\n");
        assert_critical(f, ROUTE, "0000:3b:02.0", NEEDLES("ens1f0v0"));
}

/* What the daemon itself sees in a private network namespace (systemd's
 * PrivateNetwork=yes): only lo, no routes. The host's routes are init's;
 * they are what a bind would cut. The same for mounts in a private mount
 * namespace. */
#define EMPTY_NETNS_ROUTE "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

static void test_route_host_namespace(Fixture *f, gconstpointer data) {
        g_autofree char *v4 = vh_unit_read_file(f->copy, "proc/net/route");
        g_autofree char *v6 = vh_unit_read_file(f->copy, "proc/net/ipv6_route");
        g_autofree char *mounts = vh_unit_read_file(f->copy, "proc/mounts");

        vh_unit_write_file(f->copy, "proc/1/net/route", v4);
        vh_unit_write_file(f->copy, "proc/1/net/ipv6_route", v6);
        vh_unit_write_file(f->copy, "proc/1/mounts", mounts);
        vh_unit_write_file(f->copy, "proc/net/route", EMPTY_NETNS_ROUTE);
        vh_unit_write_file(f->copy, "proc/net/ipv6_route", "");
        vh_unit_write_file(f->copy, "proc/mounts", "tmpfs /tmp tmpfs rw 0 0\n");

        assert_critical(f, ROUTE, "0000:3b:00.0", NEEDLES("default route", "bond0"));
        assert_critical(f, ROUTE, "0000:3b:00.1", NEEDLES("bond0"));
        assert_critical(f, MOUNT, "0000:af:00.0", NEEDLES("mounted on /"));

        /* Without init's view, the daemon's own is all there is. */
        vh_unit_unlink(f->copy, "proc/1/net/route");
        vh_unit_unlink(f->copy, "proc/1/net/ipv6_route");
        assert_not_critical(f, ROUTE, "0000:3b:00.0");
}

static void test_route_no_iommu(Fixture *f, gconstpointer data) {
        assert_critical(f, ROUTE, "0000:02:00.0", NEEDLES("enp2s0"));
        assert_not_critical(f, ROUTE, "0000:00:17.0");
        assert_not_critical(f, ROUTE, "0000:01:00.0");
}

/* amd-desktop: only lo and the unreachable ::/0 on it. */
static void test_route_none(Fixture *f, gconstpointer data) {
        for (size_t i = 0; i < f->host->n_devices; i++)
                assert_not_critical(f, ROUTE, f->host->devices[i]->address);
}

/* The reason given for a critical function does not contain needle. */
static void assert_not_critical_reason_mentions(Fixture *f, int kind, const char *address, const char *needle) {
        const VhPciDevice *d = vh_host_find_device(f->host, address);
        g_autofree char *why = NULL;

        g_assert_nonnull(d);
        g_assert_cmpint(kind, ==, FB);
        g_assert_cmpint(vh_critical_active_framebuffer(f->fs, d, &why), ==, 1);
        if (strstr(why, needle))
                g_test_fail_printf("%s: reason '%s' mentions '%s'", address, why, needle);
}

/* ---- boot VGA with an active framebuffer */

static void test_fb_desktop(Fixture *f, gconstpointer data) {
        /* i915's fbdev console on fb0: the driver's own framebuffer goes
         * with the driver, the console with it; video=efifb:off would not help */
        assert_critical(f, FB, "0000:00:02.0", NEEDLES("boot VGA", "i915drmfb", "console"));
        assert_not_critical_reason_mentions(f, FB, "0000:00:02.0", "video=efifb:off");
        /* amdgpu has fb1, but is not the boot VGA; nvidia registers none */
        assert_not_critical(f, FB, "0000:05:00.0");
        assert_not_critical(f, FB, "0000:01:00.0");
        assert_not_critical(f, FB, "0000:02:00.0");
}

static void test_fb_amd(Fixture *f, gconstpointer data) {
        assert_critical(f, FB, "0000:04:00.0", NEEDLES("amdgpudrmfb"));
        assert_not_critical(f, FB, "0000:04:00.1");
}

/* The ASPEED is the boot VGA, but no framebuffer is registered: not
 * critical. */
static void test_fb_none(Fixture *f, gconstpointer data) {
        g_assert_true(dev(f, "0000:02:00.0")->boot_vga);
        for (size_t i = 0; i < f->host->n_devices; i++)
                assert_not_critical(f, FB, f->host->devices[i]->address);
}

/* The firmware framebuffers, as iomem shows them while they hold the boot
 * GPU's BAR (before a native driver took over), and as proc/fb names them. */
static void test_fb_firmware(Fixture *f, gconstpointer data) {
        static const char *const firmware[] = { "BOOTFB", "efifb", "simpledrm", "vesafb" };
        g_autofree char *iomem = vh_unit_read_file(f->copy, "proc/iomem");
        const char *bar = "      90000000-90ffffff : 0000:02:00.0\n";

        g_assert_nonnull(strstr(iomem, bar));
        for (size_t i = 0; i < G_N_ELEMENTS(firmware); i++) {
                g_autofree char *line = g_strdup_printf("%s        90000000-902fffff : %s\n", bar, firmware[i]);
                g_autofree char *edited = NULL;
                g_auto(GStrv) parts = g_strsplit(iomem, bar, 2);

                g_assert_nonnull(parts[1]);
                edited = g_strconcat(parts[0], line, parts[1], NULL);
                vh_unit_write_file(f->copy, "proc/iomem", edited);
                /* a firmware framebuffer keeps the BAR: the kernel parameter is the fix */
                assert_critical(f, FB, "0000:02:00.0", NEEDLES(firmware[i], "video=efifb:off"));
                /* only the boot VGA */
                assert_not_critical(f, FB, "0000:3b:00.0");
                assert_not_critical(f, FB, "0000:01:00.0");
        }

        /* BOOTFB nested deeper, as with simpledrm claiming inside it */
        {
                g_autofree char *line = g_strdup_printf("%s        90000000-902fffff : BOOTFB\n"
                                                        "          90000000-902fffff : simpledrm\n", bar);
                g_auto(GStrv) parts = g_strsplit(iomem, bar, 2);
                g_autofree char *edited = g_strconcat(parts[0], line, parts[1], NULL);

                vh_unit_write_file(f->copy, "proc/iomem", edited);
                assert_critical(f, FB, "0000:02:00.0", NEEDLES("BOOTFB"));
        }

        /* efifb registered in proc/fb, iomem back to the original */
        vh_unit_write_file(f->copy, "proc/iomem", iomem);
        assert_not_critical(f, FB, "0000:02:00.0");
        vh_unit_write_file(f->copy, "proc/fb", "0 EFI VGA\n");
        assert_critical(f, FB, "0000:02:00.0", NEEDLES("EFI VGA", "video=efifb:off"));
        vh_unit_write_file(f->copy, "proc/fb", "0 astdrmfb\n");
        assert_critical(f, FB, "0000:02:00.0", NEEDLES("astdrmfb", "console"));

        /* neither file: nothing known, nothing refused */
        vh_unit_unlink(f->copy, "proc/fb");
        vh_unit_unlink(f->copy, "proc/iomem");
        assert_not_critical(f, FB, "0000:02:00.0");
}

/* ---- all three */

static void test_check_desktop(Fixture *f, gconstpointer data) {
        assert_critical(f, CHECK, "0000:02:00.0", NEEDLES("/dev/nvme0n1p2"));
        assert_critical(f, CHECK, "0000:06:00.0", NEEDLES("enp6s0"));
        assert_critical(f, CHECK, "0000:00:02.0", NEEDLES("i915drmfb"));
        assert_not_critical(f, CHECK, "0000:01:00.0");
        assert_not_critical(f, CHECK, "0000:01:00.1");
        assert_not_critical(f, CHECK, "0000:05:00.0");
        assert_not_critical(f, CHECK, "0000:00:14.0");
        assert_not_critical(f, CHECK, "0000:00:1f.3");
}

static void test_check_server(Fixture *f, gconstpointer data) {
        assert_critical(f, CHECK, "0000:af:00.0", NEEDLES("/dev/mapper/rhel-root"));
        assert_critical(f, CHECK, "0000:3b:00.0", NEEDLES("bond0"));
        assert_not_critical(f, CHECK, "0000:02:00.0");
        assert_not_critical(f, CHECK, "0000:3b:02.0");
        assert_not_critical(f, CHECK, "0000:3b:02.1");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, host, setup, fn) g_test_add(path, Fixture, host, setup, fn, fixture_teardown)
        ADD("/critical/mount/nvme", "desktop-intel", fixture_setup, test_mount_nvme);
        ADD("/critical/mount/nvme/amd-desktop", "amd-desktop", fixture_setup, test_mount_nvme_amd);
        ADD("/critical/mount/nvme/desktop-vmd", "desktop-vmd", fixture_setup, test_mount_nvme_vmd);
        ADD("/critical/mount/partition", "desktop-intel", fixture_setup_copy, test_mount_partition);
        ADD("/critical/mount/dm", "server-sriov", fixture_setup, test_mount_dm);
        ADD("/critical/host-namespace", "server-sriov", fixture_setup_copy, test_route_host_namespace);
        ADD("/critical/mount/dm-slaves", "server-sriov", fixture_setup_copy, test_mount_dm_slaves);
        ADD("/critical/mount/sata", "no-iommu", fixture_setup, test_mount_sata);
        ADD("/critical/mount/loop", "desktop-vfio-bound", fixture_setup_copy, test_mount_loop);
        ADD("/critical/route/direct", "desktop-intel", fixture_setup, test_route_direct);
        ADD("/critical/route/ipv6", "desktop-intel", fixture_setup_copy, test_route_ipv6);
        ADD("/critical/route/bridge", "desktop-vfio-bound", fixture_setup_copy, test_route_bridge);
        ADD("/critical/route/bond", "server-sriov", fixture_setup, test_route_bond);
        ADD("/critical/route/bond-lower", "server-sriov", fixture_setup_copy, test_route_bond_lower);
        ADD("/critical/route/no-iommu", "no-iommu", fixture_setup, test_route_no_iommu);
        ADD("/critical/route/none", "amd-desktop", fixture_setup, test_route_none);
        ADD("/critical/fb/desktop-intel", "desktop-intel", fixture_setup, test_fb_desktop);
        ADD("/critical/fb/amd-desktop", "amd-desktop", fixture_setup, test_fb_amd);
        ADD("/critical/fb/none", "server-sriov", fixture_setup, test_fb_none);
        ADD("/critical/fb/firmware", "server-sriov", fixture_setup_copy, test_fb_firmware);
        ADD("/critical/check/desktop-intel", "desktop-intel", fixture_setup, test_check_desktop);
        ADD("/critical/check/server-sriov", "server-sriov", fixture_setup, test_check_server);
#undef ADD

        return g_test_run();
}
