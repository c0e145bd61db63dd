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
#include "vh-test-testbed.h"
#endif

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-host.h"

#ifdef HAVE_UMOCKDEV

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
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestHost) expected = NULL;
        g_autoptr(VhTestHost) tree = NULL;

        if (!vh_test_bus_requirements())
                return;
        if (!vh_test_umockdev_preload()) {
                g_test_skip("umockdev is missing: libumockdev-preload.so.0 not found (install umockdev)");
                return;
        }

        tb = vh_test_testbed_new(name);

        /* What the daemon should find: the testbed's files... */
        expected = vh_test_host_load(tb->root);
        g_assert_cmpuint(expected->functions->len, >, 0);
        /* ...which are the host tree's functions, drivers and groups (a check
         * of this test's testbed completion, not of the daemon). */
        tree = vh_test_host_load(tb->host_tree);
        g_assert_cmpuint(expected->functions->len, ==, tree->functions->len);
        for (guint i = 0; i < tree->functions->len; i++) {
                const VhTestFunction *t = tree->functions->pdata[i], *e = expected->functions->pdata[i];
                g_assert_cmpstr(e->address, ==, t->address);
                g_assert_cmpstr(e->driver, ==, t->driver);
                g_assert_cmpint(e->iommu_group, ==, t->iommu_group);
        }
        g_assert_cmpuint(expected->groups->len, ==, tree->groups->len);

        bus = vh_test_bus_new();
        {
                const char *args[] = { "--read-only", NULL };
                vh_test_testbed_start_daemon(tb, bus, args);
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
