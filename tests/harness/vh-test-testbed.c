/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See vh-test-testbed.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-test-testbed.h"

#define PRELOAD "libumockdev-preload.so.0"

const char *vh_test_umockdev_preload(void) {
        static const char *const dirs[] = {
                "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/usr/local/lib", "/usr/local/lib64", "/lib/x86_64-linux-gnu",
        };
        static char *found;

        for (size_t i = 0; i < G_N_ELEMENTS(dirs) && !found; i++) {
                g_autofree char *p = g_build_filename(dirs[i], PRELOAD, NULL);
                if (g_file_test(p, G_FILE_TEST_EXISTS))
                        found = g_steal_pointer(&p);
        }
        return found;
}

/* ---------- testbed completion ---------- */

/* Path of p relative to the testbed's sys dir ("devices/pci0000:00/..."). */
static char *sys_relative(const char *sys, const char *p) {
        g_autofree char *real = realpath(p, NULL);
        g_autofree char *prefix = g_strconcat(sys, "/", NULL);

        g_assert_nonnull(real);
        g_assert_true(g_str_has_prefix(real, prefix));
        return g_strdup(real + strlen(prefix));
}

/* Where a relative link stored in dir points, checked to stay in the testbed. */
static char *link_target_dir(const char *sys, const char *dir, const char *name) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        g_autofree char *prefix = g_strconcat(sys, "/", NULL);
        char *abs;

        if (!target)
                return NULL;
        g_assert_false(g_path_is_absolute(target));
        abs = g_canonicalize_filename(target, dir);
        /* Never create anything outside the testbed. */
        if (!g_str_has_prefix(abs, prefix))
                g_error("link %s -> %s leaves the testbed", path, target);
        return abs;
}

static void symlink_or_die(const char *target, const char *path) {
        if (g_file_test(path, G_FILE_TEST_IS_SYMLINK))
                return;
        if (symlink(target, path) < 0)
                g_error("symlink %s -> %s: %s", path, target, g_strerror(errno));
}

static void mkdir_or_die(const char *path) {
        if (g_mkdir_with_parents(path, 0755) < 0)
                g_error("mkdir %s: %s", path, g_strerror(errno));
}

/* umockdev creates sys/devices and sys/bus/pci/devices only: add what a
 * kernel would have for the recorded links. */
static void complete_function(const char *sys, const char *host_tree, const char *dev) {
        g_autofree char *addr = g_path_get_basename(dev);
        {
                g_autofree char *dev_rel = sys_relative(sys, dev);
                g_autofree char *devdir = g_build_filename(sys, dev_rel, NULL);
                g_autofree char *driver = link_target_dir(sys, devdir, "driver");
                g_autofree char *group = link_target_dir(sys, devdir, "iommu_group");
                g_autofree char *unit = link_target_dir(sys, devdir, "iommu");

                if (driver) {
                        /* sys/bus/pci/drivers/<name>/<addr> -> ../../../../devices/... */
                        g_autofree char *back = g_build_filename(driver, addr, NULL);
                        g_autofree char *target = g_strconcat("../../../../", dev_rel, NULL);
                        mkdir_or_die(driver);
                        symlink_or_die(target, back);
                }
                if (group) {
                        /* sys/kernel/iommu_groups/N/devices/<addr> -> ../../../../devices/... */
                        g_autofree char *members = g_build_filename(group, "devices", NULL);
                        g_autofree char *back = g_build_filename(members, addr, NULL);
                        g_autofree char *target = g_strconcat("../../../../", dev_rel, NULL);
                        g_autofree char *group_rel = NULL;
                        g_autofree char *type_src = NULL;
                        g_autofree char *type_dst = g_build_filename(group, "type", NULL);
                        g_autofree char *type = NULL;

                        mkdir_or_die(members);
                        symlink_or_die(target, back);
                        group_rel = sys_relative(sys, group);
                        /* The group's type from the same host's tree. */
                        type_src = g_build_filename(host_tree, "sys", group_rel, "type", NULL);
                        if (g_file_get_contents(type_src, &type, NULL, NULL))
                                g_assert_true(g_file_set_contents(type_dst, type, -1, NULL));
                }
                if (unit) {
                        /* sys/class/iommu/<unit> -> ../../devices/... */
                        g_autofree char *name = g_path_get_basename(unit);
                        g_autofree char *cls = g_build_filename(sys, "class", "iommu", NULL);
                        g_autofree char *link = g_build_filename(cls, name, NULL);
                        g_autofree char *unit_rel = NULL;
                        g_autofree char *target = NULL;

                        mkdir_or_die(unit);
                        unit_rel = sys_relative(sys, unit);
                        target = g_strconcat("../../", unit_rel, NULL);
                        mkdir_or_die(cls);
                        symlink_or_die(target, link);
                }
        }
}

static void complete_testbed(const char *root, const char *sys, const char *host_tree) {
        g_autofree char *devices = g_build_filename(sys, "bus/pci/devices", NULL);
        g_autoptr(GDir) d = g_dir_open(devices, 0, NULL);
        const char *addr;

        g_assert_nonnull(d);
        while ((addr = g_dir_read_name(d))) {
                g_autofree char *dev = g_build_filename(devices, addr, NULL);

                complete_function(sys, host_tree, dev);
        }

        /* /dev/vfio/... stand-ins, as in the host tree (regular files). */
        {
                g_autofree char *src = g_build_filename(host_tree, "dev", NULL);
                g_autofree char *dst = g_build_filename(root, "dev", NULL);
                if (g_file_test(src, G_FILE_TEST_IS_DIR)) {
                        const char *argv[] = { "cp", "-a", "--", src, root, NULL };
                        g_autoptr(GError) error = NULL;
                        int status = 0;

                        g_assert_true(g_str_has_prefix(dst, root));
                        g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                     NULL, NULL, &status, &error);
                        g_assert_no_error(error);
                        g_assert_cmpint(status, ==, 0);
                }
        }
}


VhTestTestbed *vh_test_testbed_new(const char *host) {
        VhTestTestbed *tb = g_new0(VhTestTestbed, 1);
        g_autofree char *recording = g_strdup_printf("%s/umockdev/%s.umockdev", vh_test_env("VH_TEST_DATA"), host);
        g_autofree char *sys = NULL;
        g_autoptr(GError) error = NULL;

        tb->host_tree = g_build_filename(vh_test_env("VH_TEST_DATA"), "hosts", host, NULL);
        tb->testbed = umockdev_testbed_new();
        g_assert_nonnull(tb->testbed);
        tb->root = umockdev_testbed_get_root_dir(tb->testbed);
        sys = umockdev_testbed_get_sys_dir(tb->testbed);
        g_test_message("testbed %s", tb->root);
        if (!umockdev_testbed_add_from_file(tb->testbed, recording, &error))
                g_error("cannot load %s: %s", recording, error->message);
        tb->sys = realpath(sys, NULL);
        g_assert_nonnull(tb->sys);
        complete_testbed(tb->root, tb->sys, tb->host_tree);
        return tb;
}

VhTestTestbed *vh_test_testbed_new_from_tree(const char *host) {
        VhTestTestbed *tb = g_new0(VhTestTestbed, 1);
        g_autofree char *src = NULL;
        g_autofree char *sys = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        tb->host_tree = g_build_filename(vh_test_env("VH_TEST_DATA"), "hosts", host, NULL);
        tb->testbed = umockdev_testbed_new();
        g_assert_nonnull(tb->testbed);
        tb->root = umockdev_testbed_get_root_dir(tb->testbed);
        g_assert_true(vh_test_is_temp_dir(tb->root));
        g_test_message("testbed %s (a copy of %s)", tb->root, tb->host_tree);
        src = g_strconcat(tb->host_tree, "/.", NULL);
        {
                const char *argv[] = { "cp", "-a", "--", src, tb->root, NULL };

                g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             &status, &error);
        }
        g_assert_no_error(error);
        g_assert_cmpint(status, ==, 0);
        sys = umockdev_testbed_get_sys_dir(tb->testbed);
        tb->sys = realpath(sys, NULL);
        g_assert_nonnull(tb->sys);
        return tb;
}

void vh_test_testbed_start_daemon_beneath(VhTestTestbed *tb, VhTestBus *bus, const char *const *args) {
        g_autofree char *env_preload = g_strdup_printf("LD_PRELOAD=%s", PRELOAD);
        g_autofree char *env_dir = g_strdup_printf("UMOCKDEV_DIR=%s", tb->root);
        const char *env[] = { env_preload, env_dir, "VFIOHOST_TEST_UDEV=1", NULL };

        vh_test_bus_start_daemon_full(bus, tb->root, args, env);
}

void vh_test_testbed_free(VhTestTestbed *tb) {
        if (!tb)
                return;
        g_clear_object(&tb->testbed);
        g_free(tb->root);
        free(tb->sys);
        g_free(tb->host_tree);
        g_free(tb);
}

void vh_test_testbed_start_daemon(VhTestTestbed *tb, VhTestBus *bus, const char *const *args) {
        g_autofree char *env_preload = g_strdup_printf("LD_PRELOAD=%s", PRELOAD);
        g_autofree char *env_dir = g_strdup_printf("UMOCKDEV_DIR=%s", tb->root);
        const char *env[] = { env_preload, env_dir, NULL };
        g_autofree char *log = NULL;

        vh_test_bus_start_daemon_full(bus, "/", args, env);
        /* Nothing suggests the preload failed (then the daemon would be
         * reading this machine's real /sys). */
        g_assert_true(g_file_get_contents(bus->log_path, &log, NULL, NULL));
        if (strstr(log, "cannot be preloaded"))
                g_error("the daemon ran without the umockdev preload");
}

void vh_test_testbed_preload_self(char **argv) {
        const char *current = g_getenv("LD_PRELOAD");
        g_autofree char *preload = NULL;

        if ((current && strstr(current, PRELOAD)) || !vh_test_umockdev_preload())
                return;
        preload = current && *current ? g_strconcat(current, ":", PRELOAD, NULL) : g_strdup(PRELOAD);
        g_setenv("LD_PRELOAD", preload, TRUE);
        execv(argv[0], argv);
        g_error("cannot re-execute %s with %s: %s", argv[0], PRELOAD, g_strerror(errno));
}

char *vh_test_testbed_devpath(VhTestTestbed *tb, const char *address) {
        g_autofree char *link = g_build_filename(tb->sys, "bus/pci/devices", address, NULL);
        g_autofree char *real = realpath(link, NULL);

        g_assert_nonnull(real);
        g_assert_true(g_str_has_prefix(real, tb->sys));
        return g_strconcat("/sys", real + strlen(tb->sys), NULL);
}

static char *real_path_of(VhTestTestbed *tb, const char *devpath, const char *name) {
        g_assert_true(g_str_has_prefix(devpath, "/sys/"));
        return g_build_filename(tb->sys, devpath + strlen("/sys/"), name, NULL);
}

/* What a driver switch does in sysfs: the device's driver link and the
 * driver's link back; driver NULL unbinds. */
void vh_test_testbed_set_driver(VhTestTestbed *tb, const char *address, const char *old, const char *driver) {
        g_autofree char *devpath = vh_test_testbed_devpath(tb, address);
        g_autofree char *link = real_path_of(tb, devpath, "driver");

        if (old) {
                g_autofree char *back = g_build_filename(tb->sys, "bus/pci/drivers", old, address, NULL);

                g_assert_cmpint(g_unlink(link), ==, 0);
                (void) g_unlink(back);
        }
        if (driver) {
                g_autofree char *dir = g_build_filename(tb->sys, "bus/pci/drivers", driver, NULL);
                g_autofree char *target = g_build_filename(dir, NULL);
                g_autofree char *back = g_build_filename(dir, address, NULL);
                g_autofree char *back_target = g_strconcat("../../../..", devpath + strlen("/sys"), NULL);

                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                g_assert_cmpint(symlink(target, link), ==, 0);
                g_assert_cmpint(symlink(back_target, back), ==, 0);
        }
}

/* A function made with plain files, as umockdev_testbed_add_device()
 * would, but without the "add" uevent it sends on its own. */
void vh_test_testbed_add_function_quietly(VhTestTestbed *tb, const char *address) {
        g_autofree char *dir = g_build_filename(tb->sys, "devices", address, NULL);
        g_autofree char *bus_link = g_build_filename(tb->sys, "bus/pci/devices", address, NULL);
        g_autofree char *bus_target = g_strconcat("../../../devices/", address, NULL);
        g_autofree char *subsystem = g_build_filename(dir, "subsystem", NULL);
        g_autofree char *uevent = g_strdup_printf("PCI_SLOT_NAME=%s\n", address);
        const char *attrs[][2] = {
                { "vendor", "0x8086\n" }, { "device", "0x154c\n" }, { "class", "0x020000\n" },
                { "subsystem_vendor", "0x8086\n" }, { "subsystem_device", "0x0000\n" }, { "revision", "0x01\n" },
                { "uevent", uevent },
        };

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(attrs); i++) {
                g_autofree char *f = g_build_filename(dir, attrs[i][0], NULL);

                g_assert_true(g_file_set_contents(f, attrs[i][1], -1, NULL));
        }
        g_assert_cmpint(symlink("../../bus/pci", subsystem), ==, 0);
        g_assert_cmpint(symlink(bus_target, bus_link), ==, 0);
}


gboolean vh_test_testbed_uevents_paced(VhTestTestbed *tb, GPtrArray *devpaths, const char *action,
                                       guint (*acked)(void *userdata), void *userdata, guint window, double timeout_s) {
        for (guint i = 0; i < devpaths->len; i++) {
                gint64 deadline = g_get_monotonic_time() +
                                  (gint64) (timeout_s * vh_test_timeout_multiplier() * G_USEC_PER_SEC);

                while (i >= window && acked(userdata) + window <= i) {
                        if (g_get_monotonic_time() > deadline)
                                return FALSE;
                        if (!g_main_context_iteration(NULL, FALSE))
                                g_usleep(200);
                }
                umockdev_testbed_uevent(tb->testbed, devpaths->pdata[i], action);
        }
        return TRUE;
}
