/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Discovery on a umockdev testbed: a recording (tests/data/umockdev/<host>
 * .umockdev, umockdev-record's format) is loaded with the umockdev C API,
 * the parts umockdev does not create (driver directories, IOMMU groups,
 * IOMMU units, /dev/vfio) are added beneath the testbed, and the daemon runs
 * with --root / under LD_PRELOAD=libumockdev-preload.so.0, so its plain
 * /sys reads land in the testbed. vfiohostctl must show the recorded
 * devices with their ids, drivers and groups.
 *
 * Only the daemon is preloaded (LD_PRELOAD and UMOCKDEV_DIR in its
 * environment); this process builds the testbed through its real path. The
 * daemon also gets --read-only: with --root / it must never write. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#ifdef HAVE_UMOCKDEV
#include <umockdev.h>
#endif

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-host.h"

#define PRELOAD "libumockdev-preload.so.0"

#ifdef HAVE_UMOCKDEV

static const char *preload_lib_path(void) {
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
static void complete_testbed(const char *root, const char *sys, const char *host_tree) {
        g_autofree char *devices = g_build_filename(sys, "bus/pci/devices", NULL);
        g_autoptr(GDir) d = g_dir_open(devices, 0, NULL);
        const char *addr;

        g_assert_nonnull(d);
        while ((addr = g_dir_read_name(d))) {
                g_autofree char *dev = g_build_filename(devices, addr, NULL);
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

/* ---------- JSON ---------- */

static json_object *parse_json(const VhTestRun *run, const char *what) {
        json_object *j;

        if (run->status != 0) {
                vh_test_run_print(run, what);
                g_error("%s failed", what);
        }
        j = json_tokener_parse(run->out);
        if (!j) {
                vh_test_run_print(run, what);
                g_error("%s: not JSON", what);
        }
        return j;
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                g_error("JSON key %s missing or not a string in %s", key, json_object_to_json_string(o));
        return json_object_get_string(v);
}

static gint64 jint(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                g_error("JSON key %s missing or not an int in %s", key, json_object_to_json_string(o));
        return json_object_get_int64(v);
}

/* ---------- the test ---------- */

static void test_host(gconstpointer data) {
        const char *name = data;
        g_autofree char *recording = g_strdup_printf("%s/umockdev/%s.umockdev", vh_test_env("VH_TEST_DATA"), name);
        g_autofree char *host_tree = g_build_filename(vh_test_env("VH_TEST_DATA"), "hosts", name, NULL);
        g_autoptr(UMockdevTestbed) testbed = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestHost) expected = NULL;
        g_autoptr(VhTestHost) tree = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *root = NULL, *sys = NULL, *sys_real = NULL;
        g_autofree char *env_preload = NULL, *env_dir = NULL;
        const char *preload;

        if (!vh_test_bus_requirements())
                return;
        preload = preload_lib_path();
        if (!preload) {
                g_test_skip("umockdev is missing: " PRELOAD " not found (install umockdev)");
                return;
        }

        testbed = umockdev_testbed_new();
        g_assert_nonnull(testbed);
        root = umockdev_testbed_get_root_dir(testbed);
        sys = umockdev_testbed_get_sys_dir(testbed);
        g_test_message("testbed %s", root);
        if (!umockdev_testbed_add_from_file(testbed, recording, &error))
                g_error("cannot load %s: %s", recording, error->message);
        sys_real = realpath(sys, NULL);
        g_assert_nonnull(sys_real);
        complete_testbed(root, sys_real, host_tree);

        /* What the daemon should find: the testbed's files... */
        expected = vh_test_host_load(root);
        g_assert_cmpuint(expected->functions->len, >, 0);
        /* ...which are the host tree's functions, drivers and groups (a check
         * of this test's testbed completion, not of the daemon). */
        tree = vh_test_host_load(host_tree);
        g_assert_cmpuint(expected->functions->len, ==, tree->functions->len);
        for (guint i = 0; i < tree->functions->len; i++) {
                const VhTestFunction *t = tree->functions->pdata[i], *e = expected->functions->pdata[i];
                g_assert_cmpstr(e->address, ==, t->address);
                g_assert_cmpstr(e->driver, ==, t->driver);
                g_assert_cmpint(e->iommu_group, ==, t->iommu_group);
        }
        g_assert_cmpuint(expected->groups->len, ==, tree->groups->len);

        bus = vh_test_bus_new();
        env_preload = g_strdup_printf("LD_PRELOAD=%s", PRELOAD);
        env_dir = g_strdup_printf("UMOCKDEV_DIR=%s", root);
        {
                const char *env[] = { env_preload, env_dir, NULL };
                const char *args[] = { "--read-only", NULL };
                vh_test_bus_start_daemon_full(bus, "/", args, env);
        }

        /* Nothing suggests the preload failed (then the daemon would be
         * reading this machine's real /sys). */
        {
                g_autofree char *log = NULL;
                g_assert_true(g_file_get_contents(bus->log_path, &log, NULL, NULL));
                if (strstr(log, "cannot be preloaded"))
                        g_error("the daemon ran without the umockdev preload");
        }

        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "list", NULL);
                json_object *a = parse_json(run, "vfiohostctl --json list");

                g_assert_true(json_object_is_type(a, json_type_array));
                g_assert_cmpuint(json_object_array_length(a), ==, expected->functions->len);
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        const VhTestFunction *f = expected->functions->pdata[i];
                        g_autofree char *vendor = g_strdup_printf("%04x", f->vendor);
                        g_autofree char *device = g_strdup_printf("%04x", f->device);
                        g_autofree char *class_code = g_strdup_printf("%06x", f->class_code);

                        g_assert_cmpstr(jstr(d, "address"), ==, f->address);
                        g_assert_cmpstr(jstr(d, "vendor_id"), ==, vendor);
                        g_assert_cmpstr(jstr(d, "device_id"), ==, device);
                        g_assert_cmpstr(jstr(d, "class"), ==, class_code);
                        g_assert_cmpstr(jstr(d, "driver"), ==, f->driver);
                        g_assert_cmpint(jint(d, "iommu_group"), ==, f->iommu_group);
                        g_assert_cmpstr(jstr(d, "physical_function"), ==, f->physfn);
                        g_assert_cmpstr(jstr(d, "vfio_group_path"), ==, f->vfio_group_path);
                        g_assert_cmpstr(jstr(d, "vendor_name"), !=, "");
                }
                json_object_put(a);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "groups", NULL);
                json_object *a = parse_json(run, "vfiohostctl --json groups");

                g_assert_cmpuint(json_object_array_length(a), ==, expected->groups->len);
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *g = json_object_array_get_idx(a, i);
                        const VhTestGroup *tg = expected->groups->pdata[i];
                        g_autoptr(GPtrArray) blockers = vh_test_host_group_blockers(expected, tg);
                        json_object *devices = NULL, *viable = NULL;

                        g_assert_cmpint(jint(g, "id"), ==, tg->id);
                        g_assert_cmpstr(jstr(g, "type"), ==, tg->type);
                        g_assert_true(json_object_object_get_ex(g, "viable", &viable));
                        g_assert_cmpint(json_object_get_boolean(viable), ==, blockers->len == 0);
                        g_assert_true(json_object_object_get_ex(g, "devices", &devices));
                        g_assert_cmpuint(json_object_array_length(devices), ==, tg->addresses->len);
                        for (guint k = 0; k < tg->addresses->len; k++)
                                g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(devices, k)), ==,
                                                tg->addresses->pdata[k]);
                }
                json_object_put(a);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "status", NULL);
                json_object *s = parse_json(run, "vfiohostctl --json status");
                json_object *iommu = NULL;

                g_assert_cmpint(jint(s, "devices"), ==, expected->functions->len);
                g_assert_cmpint(jint(s, "groups"), ==, expected->groups->len);
                g_assert_true(json_object_object_get_ex(s, "iommu_enabled", &iommu));
                g_assert_cmpint(json_object_get_boolean(iommu), ==, expected->iommu_enabled);
                json_object_put(s);
        }
        /* vh_test_bus_free(): SIGTERM, exit status 0. */
}

static void drop_debug(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
}

static int compare_names(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char **argv) {
        g_autofree char *dir = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        g_test_init(&argc, &argv, NULL);
        /* umockdev's g_debug() about every device it creates drowns the log. */
        g_log_set_handler(NULL, G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        g_log_set_handler("GLib", G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        g_log_set_handler("umockdev", G_LOG_LEVEL_DEBUG, drop_debug, NULL);

        dir = g_build_filename(vh_test_env("VH_TEST_DATA"), "umockdev", NULL);
        {
                g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
                const char *n;
                while (d && (n = g_dir_read_name(d)))
                        if (g_str_has_suffix(n, ".umockdev"))
                                g_ptr_array_add(names, g_strndup(n, strlen(n) - strlen(".umockdev")));
        }
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_strdup_printf("/umockdev/%s", (char *) names->pdata[i]);
                g_test_add_data_func(path, names->pdata[i], test_host);
        }
        if (names->len == 0)
                g_test_message("no recordings in %s", dir);

        return g_test_run();
}

#else

static void test_missing(void) {
        g_test_skip("umockdev is missing: built without umockdev-1.0 (install libumockdev-dev)");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/umockdev/unavailable", test_missing);
        return g_test_run();
}

#endif
