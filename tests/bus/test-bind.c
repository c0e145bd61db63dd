/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.Bind and Unbind end to end, the daemon as root (no polkit
 * involved) on a copy of a fixture host, with the fake kernel
 * (tests/harness/vh-fake-kernel.h) moving drivers as the PCI core would.
 * Every case checks what happened in the tree (driver links,
 * driver_override, dev/vfio nodes, the journal) and on the bus (the
 * result, Device1/Group1 properties, PropertiesChanged); refusals and no-ops
 * must leave the tree byte-identical. Faults (EBUSY, ENODEV, a hanging
 * write) come from VFIOHOST_TEST_FAULTS in the daemon's own sysfs layer. */
#pragma GCC diagnostic ignored "-Wunused-function" /* TEMP */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#include "vh-fake-kernel.h"
#include "vh-names.h"
#include "vh-test-bus.h"

#define GPU   "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define GPU_GROUP 2
#define JOURNAL "var/lib/vfiohost/journal.json"

static const char *const ignore_state_dir[] = { "var", NULL };

typedef struct {
        VhTestBus *bus;
        char *root;
        VhFakeKernel *kernel;
        GHashTable *initial;            /* the tree before anything ran */
        GPtrArray *changes;             /* "PATH PROPERTY" from PropertiesChanged */
        guint subscription;
        goffset log_mark;               /* children.log size when the daemon last started */
} Fx;

/* ---------- setup ---------- */

static int write_timeout_s(void) {
        return (int) ceil(1.0 * vh_test_timeout_multiplier());
}

static double scaled(double s) {
        return s * vh_test_timeout_multiplier();
}

static void on_properties_changed(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                                  const char *signal, GVariant *params, gpointer data) {
        Fx *fx = data;
        g_autoptr(GVariant) changed = NULL;
        g_autofree const char **invalidated = NULL;
        const char *interface, *key;
        GVariantIter it;

        if (!g_str_has_prefix(path, VH_MANAGER_PATH))
                return;
        g_variant_get(params, "(&s@a{sv}^a&s)", &interface, &changed, &invalidated);
        g_variant_iter_init(&it, changed);
        while (g_variant_iter_next(&it, "{&sv}", &key, NULL))
                g_ptr_array_add(fx->changes, g_strdup_printf("%s %s", path, key));
        for (size_t i = 0; invalidated && invalidated[i]; i++)
                g_ptr_array_add(fx->changes, g_strdup_printf("%s %s", path, invalidated[i]));
}

/* A bus, a copy of the host and the fake kernel on it; the daemon is
 * started by fx_start(). NULL (skipped) when something is missing. */
static Fx *fx_new(const char *host) {
        Fx *fx;

        if (!vh_test_bus_requirements())
                return NULL;
        fx = g_new0(Fx, 1);
        fx->bus = vh_test_bus_new();
        fx->root = vh_test_bus_copy_host(fx->bus, host);
        if (!fx->root) {
                vh_test_bus_free(fx->bus);
                g_free(fx);
                return NULL;
        }
        fx->kernel = vh_fake_kernel_new(fx->root);
        if (!fx->kernel) {
                fx->bus->skipped = TRUE;
                vh_test_bus_free(fx->bus);
                g_free(fx->root);
                g_free(fx);
                return NULL;
        }
        fx->initial = vh_test_tree_snapshot(fx->root);
        fx->changes = g_ptr_array_new_with_free_func(g_free);
        fx->subscription = g_dbus_connection_signal_subscribe(
                        vh_test_bus_connection(fx->bus), NULL, "org.freedesktop.DBus.Properties",
                        "PropertiesChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                        on_properties_changed, fx, NULL);
        return fx;
}

static void fx_free(Fx *fx) {
        if (!fx)
                return;
        g_dbus_connection_signal_unsubscribe(vh_test_bus_connection(fx->bus), fx->subscription);
        /* Daemon first (its exit status is checked), then the kernel. */
        vh_test_bus_free(fx->bus);
        vh_fake_kernel_free(fx->kernel);
        g_hash_table_unref(fx->initial);
        g_ptr_array_unref(fx->changes);
        g_free(fx->root);
        g_free(fx);
}

static goffset file_size(const char *path) {
        GStatBuf st;

        return g_stat(path, &st) == 0 ? (goffset) st.st_size : 0;
}

/* Starts the daemon with --write-timeout (scaled) and, when faults is not
 * NULL, VFIOHOST_TEST_FAULTS. */
static void fx_start(Fx *fx, const char *faults) {
        g_autofree char *timeout = g_strdup_printf("%d", write_timeout_s());
        g_autofree char *fault_env = faults ? g_strdup_printf("VFIOHOST_TEST_FAULTS=%s", faults) : NULL;
        const char *args[] = { "--write-timeout", timeout, NULL };
        const char *env[] = { fault_env, NULL };

        fx->log_mark = file_size(fx->bus->log_path);
        vh_test_bus_start_daemon_full(fx->bus, fx->root, args, faults ? env : NULL);
}

/* Whether the daemon's log (since it last started) contains text. */
static gboolean daemon_log_has(Fx *fx, const char *text) {
        g_autofree char *content = NULL;
        gsize len = 0;

        if (!g_file_get_contents(fx->bus->log_path, &content, &len, NULL) || (goffset) len < fx->log_mark)
                return FALSE;
        return strstr(content + fx->log_mark, text) != NULL;
}

/* Waits until the daemon is inside a write that hangs by fault injection. */
static void wait_daemon_hanging(Fx *fx) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (scaled(10) * G_USEC_PER_SEC);

        while (!daemon_log_has(fx, "hangs.")) {
                if (g_get_monotonic_time() > deadline)
                        g_error("the daemon never reached the hanging write");
                g_usleep(2000);
        }
}

static void pump(void) {
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* ---------- the tree ---------- */

static char *tree_path(Fx *fx, const char *rel) {
        return g_build_filename(fx->root, rel, NULL);
}

/* Basename of the device's driver link; NULL when it has none. */
static char *tree_driver(Fx *fx, const char *address) {
        g_autofree char *link = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver", fx->root, address);
        g_autofree char *target = g_file_read_link(link, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static char *tree_override(Fx *fx, const char *address) {
        g_autofree char *path = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver_override", fx->root, address);
        char *content = NULL;

        g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
        return content;
}

static gboolean tree_exists(Fx *fx, const char *rel) {
        g_autofree char *path = tree_path(fx, rel);
        return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* The device is bound to driver (NULL: none), through links that resolve
 * both ways, and no other driver lists it. */
static void assert_tree_driver(Fx *fx, const char *address, const char *driver) {
        g_autofree char *devices = g_strdup_printf("%s/sys/bus/pci/devices/%s", fx->root, address);
        g_autofree char *drivers = g_strdup_printf("%s/sys/bus/pci/drivers", fx->root);
        g_autofree char *current = tree_driver(fx, address);
        g_autoptr(GDir) dir = NULL;
        const char *name;

        g_assert_cmpstr(current, ==, driver);
        if (driver) {
                g_autofree char *link = g_build_filename(devices, "driver", NULL);
                g_autofree char *want = g_build_filename(drivers, driver, NULL);
                g_autofree char *got = realpath(link, NULL);
                g_autofree char *want_real = realpath(want, NULL);
                g_autofree char *back = g_build_filename(drivers, driver, address, NULL);
                g_autofree char *back_real = realpath(back, NULL);
                g_autofree char *dev_real = realpath(devices, NULL);

                g_assert_nonnull(got);
                g_assert_cmpstr(got, ==, want_real);
                g_assert_nonnull(back_real);
                g_assert_cmpstr(back_real, ==, dev_real);
        }
        dir = g_dir_open(drivers, 0, NULL);
        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *back = g_build_filename(drivers, name, address, NULL);

                if (g_strcmp0(name, driver) != 0 && g_file_test(back, G_FILE_TEST_IS_SYMLINK))
                        g_error("drivers/%s/%s exists, but %s is bound to %s", name, address, address,
                                driver ? driver : "nothing");
        }
}

static void assert_tree_override(Fx *fx, const char *address, const char *shown) {
        g_autofree char *content = tree_override(fx, address);
        g_autofree char *want = g_strdup_printf("%s\n", shown);

        g_assert_cmpstr(content, ==, want);
}

static void wait_kernel_idle(Fx *fx) {
        if (!vh_fake_kernel_wait_idle(fx->kernel, 10))
                g_error("the fake kernel did not become idle");
}

/* The tree equals the one before the test, but for what the prefixes name. */
static void assert_tree_is(Fx *fx, GHashTable *expected, const char *const *ignore) {
        g_autoptr(GHashTable) now = NULL;
        g_autofree char *diff = NULL;

        wait_kernel_idle(fx);
        now = vh_test_tree_snapshot(fx->root);
        diff = vh_test_tree_diff(expected, now, ignore);
        if (diff) {
                /* Multi-line text only through g_test_message (TAP). */
                g_test_message("the tree changed:\n%s", diff);
                g_error("the tree changed (see above)");
        }
}

static void assert_tree_initial(Fx *fx) {
        assert_tree_is(fx, fx->initial, ignore_state_dir);
}

/* Writes the fake kernel saw since the last reset. */
static void assert_writes(Fx *fx, const char *const *expected) {
        g_auto(GStrv) writes = vh_fake_kernel_writes(fx->kernel);
        g_autofree char *got = g_strjoinv("\n  ", writes);
        g_autofree char *want = g_strjoinv("\n  ", (char **) expected);

        if (strcmp(got, want) != 0) {
                g_test_message("sysfs writes differ:\nexpected:\n  %s\ngot:\n  %s", want, got);
                g_error("sysfs writes differ (see above)");
        }
}

/* ---------- the journal ---------- */

/* The "devices" array of the journal; NULL when there is no journal file. */
static json_object *journal_load(Fx *fx) {
        g_autofree char *path = tree_path(fx, JOURNAL);
        json_object *root, *devices = NULL;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
                return NULL;
        root = json_object_from_file(path);
        if (!root)
                g_error("the journal %s is not JSON", path);
        g_assert_true(json_object_object_get_ex(root, "devices", &devices));
        g_assert_true(json_object_is_type(devices, json_type_array));
        json_object_get(devices);
        json_object_put(root);
        return devices;
}

static size_t journal_count(Fx *fx) {
        json_object *d = journal_load(fx);
        size_t n = d ? json_object_array_length(d) : 0;

        json_object_put(d);
        return n;
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        g_assert_true(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

/* The journal's entry for address, state and original driver. */
static void assert_journal_entry(Fx *fx, const char *address, const char *state, const char *original) {
        json_object *d = journal_load(fx);
        gboolean found = FALSE;

        g_assert_nonnull(d);
        for (size_t i = 0; i < json_object_array_length(d); i++) {
                json_object *e = json_object_array_get_idx(d, i);

                if (g_strcmp0(jstr(e, "address"), address) != 0)
                        continue;
                found = TRUE;
                g_assert_cmpstr(jstr(e, "state"), ==, state);
                g_assert_cmpstr(jstr(e, "original_driver"), ==, original);
        }
        if (!found)
                g_error("the journal has no entry for %s: %s", address, json_object_to_json_string(d));
        json_object_put(d);
}

static void assert_journal_empty(Fx *fx) {
        json_object *d = journal_load(fx);

        if (d && json_object_array_length(d) > 0)
                g_error("the journal is not empty: %s", json_object_to_json_string(d));
        json_object_put(d);
}

/* ---------- the bus ---------- */

static char *device_path(const char *address) {
        return vh_test_path_encode(VH_DEVICE_PATH_PREFIX, address);
}

static char *prop_s(Fx *fx, const char *address, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = device_path(address);
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, name, &error);

        g_assert_no_error(error);
        return g_variant_dup_string(v, NULL);
}

static void assert_prop(Fx *fx, const char *address, const char *name, const char *want) {
        g_autofree char *got = prop_s(fx, address, name);
        g_assert_cmpstr(got, ==, want);
}

static gboolean group_viable(Fx *fx, unsigned id) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_strdup_printf(VH_GROUP_PATH_PREFIX "/%u", id);
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, path, VH_GROUP_INTERFACE, "Viable", &error);

        g_assert_no_error(error);
        return g_variant_get_boolean(v);
}

/* Driver, OriginalDriver and VfioGroupPath as the daemon reports them. */
static void assert_device(Fx *fx, const char *address, const char *driver, const char *original, const char *vfio_group) {
        assert_prop(fx, address, "Driver", driver);
        assert_prop(fx, address, "OriginalDriver", original);
        assert_prop(fx, address, "VfioGroupPath", vfio_group);
}

static void wait_change(Fx *fx, const char *address, const char *property) {
        g_autofree char *path = device_path(address);
        g_autofree char *want = g_strdup_printf("%s %s", path, property);
        gint64 deadline = g_get_monotonic_time() + (gint64) (scaled(5) * G_USEC_PER_SEC);

        for (;;) {
                pump();
                for (guint i = 0; i < fx->changes->len; i++)
                        if (strcmp(fx->changes->pdata[i], want) == 0)
                                return;
                if (g_get_monotonic_time() > deadline)
                        g_error("no PropertiesChanged for %s", want);
                g_usleep(2000);
        }
}

/* a{sv} with the named boolean options set to TRUE. */
static GVariant *options(const char *first, ...) {
        GVariantBuilder b;
        va_list ap;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        va_start(ap, first);
        for (const char *k = first; k; k = va_arg(ap, const char *))
                g_variant_builder_add(&b, "{sv}", k, g_variant_new_boolean(TRUE));
        va_end(ap);
        return g_variant_builder_end(&b);
}

/* Bind or Unbind; returns the result a{sv} or NULL with error set. */
static GVariant *call(Fx *fx, const char *method, const char *address, GVariant *opts, GError **error) {
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, method,
                                                 g_variant_new("(s@a{sv})", address, opts), "(a{sv})", error);

        return r ? g_variant_get_child_value(r, 0) : NULL;
}

static GVariant *call_ok(Fx *fx, const char *method, const char *address, GVariant *opts) {
        g_autoptr(GError) error = NULL;
        GVariant *r = call(fx, method, address, opts, &error);

        g_assert_no_error(error);
        return r;
}

static char *error_name(const GError *error) {
        g_assert_nonnull(error);
        g_assert_true(g_dbus_error_is_remote_error(error));
        return g_dbus_error_get_remote_error(error);
}

/* The call fails with org.vfiohost.Error.<name> (or a full name). */
static void assert_call_error(Fx *fx, const char *method, const char *address, GVariant *opts, const char *name,
                              char **ret_message) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = call(fx, method, address, opts, &error);
        g_autofree char *got = NULL;
        g_autofree char *want = strchr(name, '.') ? g_strdup(name) : g_strconcat(VH_ERROR_PREFIX, name, NULL);

        if (r)
                g_error("%s(%s) succeeded, expected %s: %s", method, address, want, g_variant_print(r, TRUE));
        got = error_name(error);
        g_test_message("%s(%s): %s: %s", method, address, got, error->message);
        g_assert_cmpstr(got, ==, want);
        if (ret_message) {
                g_dbus_error_strip_remote_error(error);
                *ret_message = g_strdup(error->message);
        }
}

typedef struct {
        const char *address, *previous, *driver, *group_path, *device_path;
        gboolean changed;
} Expect;

static const char *lookup_s(GVariant *dict, const char *key) {
        const char *s = NULL;

        if (!g_variant_lookup(dict, key, "&s", &s))
                g_error("result has no string \"%s\": %s", key, g_variant_print(dict, TRUE));
        return s;
}

static void assert_result(GVariant *r, guint group, gboolean dry_run, const Expect *expect, size_t n) {
        g_autoptr(GVariant) devices = NULL;
        guint32 g = 0;
        gboolean dry = !dry_run;
        g_autofree char *printed = g_variant_print(r, TRUE);

        g_test_message("result: %s", printed);
        g_assert_true(g_variant_lookup(r, "group", "u", &g));
        g_assert_cmpuint(g, ==, group);
        g_assert_true(g_variant_lookup(r, "dry-run", "b", &dry));
        g_assert_cmpint(dry, ==, dry_run);
        devices = g_variant_lookup_value(r, "devices", G_VARIANT_TYPE("aa{sv}"));
        g_assert_nonnull(devices);
        g_assert_cmpuint(g_variant_n_children(devices), ==, n);
        for (size_t i = 0; i < n; i++) {
                g_autoptr(GVariant) d = g_variant_get_child_value(devices, i);
                gboolean changed = !expect[i].changed;

                g_assert_cmpstr(lookup_s(d, "address"), ==, expect[i].address);
                g_assert_cmpstr(lookup_s(d, "previous-driver"), ==, expect[i].previous);
                g_assert_cmpstr(lookup_s(d, "driver"), ==, expect[i].driver);
                g_assert_cmpstr(lookup_s(d, "vfio-group-path"), ==, expect[i].group_path);
                g_assert_cmpstr(lookup_s(d, "vfio-device-path"), ==, expect[i].device_path);
                g_assert_true(g_variant_lookup(d, "changed", "b", &changed));
                g_assert_cmpint(changed, ==, expect[i].changed);
        }
}

static char **result_forced(GVariant *r) {
        char **forced = NULL;

        g_assert_true(g_variant_lookup(r, "forced", "^as", &forced));
        return forced;
}

/* ---------- async calls (for calls made while another one runs) ---------- */

typedef struct {
        gboolean done;
        GVariant *result;
        GError *error;
        gint64 started, finished;
} Pending;

static void on_call_done(GObject *source, GAsyncResult *res, gpointer data) {
        Pending *p = data;
        g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &p->error);

        p->result = r ? g_variant_get_child_value(r, 0) : NULL;
        p->finished = g_get_monotonic_time();
        p->done = TRUE;
}

static Pending *call_async(Fx *fx, const char *method, const char *address, GVariant *opts) {
        Pending *p = g_new0(Pending, 1);

        p->started = g_get_monotonic_time();
        g_dbus_connection_call(vh_test_bus_connection(fx->bus), VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                               method, g_variant_new("(s@a{sv})", address, opts), G_VARIANT_TYPE("(a{sv})"),
                               G_DBUS_CALL_FLAGS_NONE, (int) (scaled(60) * 1000), NULL, on_call_done, p);
        return p;
}

static void pending_wait(Pending *p) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (scaled(60) * G_USEC_PER_SEC);

        while (!p->done) {
                if (g_get_monotonic_time() > deadline)
                        g_error("an asynchronous call never returned");
                g_main_context_iteration(NULL, FALSE);
                g_usleep(1000);
        }
}

static void pending_free(Pending *p) {
        if (!p)
                return;
        /* A call still in flight would call back into freed memory. */
        pending_wait(p);
        g_clear_pointer(&p->result, g_variant_unref);
        g_clear_error(&p->error);
        g_free(p);
}

/* A read-only call answered quickly although an operation blocks: the
 * bus is served from the event loop, the writes run elsewhere. */
static void assert_answers_quickly(Fx *fx) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = device_path(GPU);
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                                 g_variant_new("(s)", GPU), "(o)", &error);
        g_autoptr(GVariant) v = NULL;
        double seconds;

        g_assert_no_error(error);
        v = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, "Driver", &error);
        g_assert_no_error(error);
        seconds = (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
        g_test_message("GetDevice + Properties.Get during the operation: %.3f s", seconds);
        /* Well under the write timeout the operation is waiting on. */
        g_assert_cmpfloat(seconds, <, write_timeout_s() / 2.0);
}

/* ---------- the GPU group: bind and unbind ---------- */

static const char *const bind_gpu_group_writes[] = {
        "devices/" GPU "/driver_override vfio-pci",
        "drivers/nvidia/unbind " GPU,
        "drivers_probe " GPU,
        "devices/" AUDIO "/driver_override vfio-pci",
        "drivers/snd_hda_intel/unbind " AUDIO,
        "drivers_probe " AUDIO,
        NULL
};

static const char *const unbind_gpu_group_writes[] = {
        "devices/" GPU "/driver_override \\n",
        "drivers/vfio-pci/unbind " GPU,
        "drivers_probe " GPU,
        "devices/" AUDIO "/driver_override \\n",
        "drivers/vfio-pci/unbind " AUDIO,
        "drivers_probe " AUDIO,
        NULL
};

/* Binds the GPU group on desktop-intel and checks everything about it. */
static void bind_gpu_group(Fx *fx) {
        g_autoptr(GVariant) r = NULL;
        g_auto(GStrv) forced = NULL;
        const Expect expect[] = {
                { GPU, "nvidia", "vfio-pci", "/dev/vfio/2", "", TRUE },
                { AUDIO, "snd_hda_intel", "vfio-pci", "/dev/vfio/2", "", TRUE },
        };

        vh_fake_kernel_reset(fx->kernel);
        g_ptr_array_set_size(fx->changes, 0);
        r = call_ok(fx, "Bind", GPU, options("group", NULL));
        assert_result(r, GPU_GROUP, FALSE, expect, G_N_ELEMENTS(expect));
        forced = result_forced(r);
        g_assert_cmpuint(g_strv_length(forced), ==, 0);

        wait_kernel_idle(fx);
        assert_writes(fx, bind_gpu_group_writes);
        assert_tree_driver(fx, GPU, "vfio-pci");
        assert_tree_driver(fx, AUDIO, "vfio-pci");
        assert_tree_override(fx, GPU, "vfio-pci");
        assert_tree_override(fx, AUDIO, "vfio-pci");
        assert_tree_driver(fx, "0000:00:01.0", "pcieport");
        g_assert_true(tree_exists(fx, "dev/vfio/2"));
        assert_journal_entry(fx, GPU, "bound", "nvidia");
        assert_journal_entry(fx, AUDIO, "bound", "snd_hda_intel");
        g_assert_cmpuint(journal_count(fx), ==, 2);

        wait_change(fx, GPU, "Driver");
        wait_change(fx, AUDIO, "Driver");
        wait_change(fx, GPU, "OriginalDriver");
        assert_device(fx, GPU, "vfio-pci", "nvidia", "/dev/vfio/2");
        assert_device(fx, AUDIO, "vfio-pci", "snd_hda_intel", "/dev/vfio/2");
        assert_prop(fx, GPU, "DriverOverride", "vfio-pci");
        g_assert_true(group_viable(fx, GPU_GROUP));
}

static void unbind_gpu_group(Fx *fx) {
        g_autoptr(GVariant) r = NULL;
        const Expect expect[] = {
                { GPU, "vfio-pci", "nvidia", "", "", TRUE },
                { AUDIO, "vfio-pci", "snd_hda_intel", "", "", TRUE },
        };

        vh_fake_kernel_reset(fx->kernel);
        g_ptr_array_set_size(fx->changes, 0);
        r = call_ok(fx, "Unbind", GPU, options("group", NULL));
        assert_result(r, GPU_GROUP, FALSE, expect, G_N_ELEMENTS(expect));

        wait_kernel_idle(fx);
        assert_writes(fx, unbind_gpu_group_writes);
        assert_tree_driver(fx, GPU, "nvidia");
        assert_tree_driver(fx, AUDIO, "snd_hda_intel");
        assert_tree_override(fx, GPU, "(null)");
        assert_tree_override(fx, AUDIO, "(null)");
        g_assert_false(tree_exists(fx, "dev/vfio/2"));
        assert_journal_empty(fx);
        /* Byte for byte where it started, the journal aside. */
        assert_tree_initial(fx);

        wait_change(fx, GPU, "Driver");
        wait_change(fx, AUDIO, "Driver");
        wait_change(fx, GPU, "OriginalDriver");
        assert_device(fx, GPU, "nvidia", "", "");
        assert_device(fx, AUDIO, "snd_hda_intel", "", "");
        assert_prop(fx, GPU, "DriverOverride", "");
        g_assert_false(group_viable(fx, GPU_GROUP));
}

static void test_group_bind_unbind(void) {
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        fx_start(fx, NULL);
        g_assert_false(group_viable(fx, GPU_GROUP));
        assert_device(fx, GPU, "nvidia", "", "");

        bind_gpu_group(fx);
        unbind_gpu_group(fx);
        /* And once more: nothing left over spoils a second round. */
        bind_gpu_group(fx);
        unbind_gpu_group(fx);
        fx_free(fx);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/bind/group-bind-unbind", test_group_bind_unbind);

        return g_test_run();
}
