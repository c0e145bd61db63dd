/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.Bind and Unbind end to end, the daemon as root (no polkit
 * involved) on a copy of a fixture host, with the fake kernel
 * (tests/harness/vh-fake-kernel.h) moving drivers as the PCI core would.
 * Every case checks what happened in the tree (driver links,
 * driver_override, dev/vfio nodes, the journal) and on the bus (the
 * result, Device1/Group1 properties, PropertiesChanged); refusals and no-ops
 * must leave the tree byte-identical. Faults (EBUSY, ENODEV, a hanging
 * write) come from VFIOHOST_TEST_FAULTS in the daemon's own sysfs layer. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void wait_change_at(Fx *fx, const char *path, const char *property) {
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

static void wait_change(Fx *fx, const char *address, const char *property) {
        g_autofree char *path = device_path(address);
        wait_change_at(fx, path, property);
}

static void wait_group_change(Fx *fx, unsigned id, const char *property) {
        g_autofree char *path = g_strdup_printf(VH_GROUP_PATH_PREFIX "/%u", id);
        wait_change_at(fx, path, property);
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

/* The GPU group is on vfio-pci as vfiohostd bound it: journaled with the
 * original drivers, shown so on the bus, viable. */
static void assert_gpu_group_bound(Fx *fx) {
        assert_journal_entry(fx, GPU, "bound", "nvidia");
        assert_journal_entry(fx, AUDIO, "bound", "snd_hda_intel");
        assert_device(fx, GPU, "vfio-pci", "nvidia", "/dev/vfio/2");
        assert_device(fx, AUDIO, "vfio-pci", "snd_hda_intel", "/dev/vfio/2");
        g_assert_true(group_viable(fx, GPU_GROUP));
}

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
        wait_change(fx, GPU, "VfioGroupPath");
        wait_group_change(fx, GPU_GROUP, "Viable");
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
        wait_change(fx, GPU, "VfioGroupPath");
        wait_group_change(fx, GPU_GROUP, "Viable");
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

/* ---------- no-ops write nothing ---------- */

static void assert_nothing_written(Fx *fx, GHashTable *before) {
        assert_tree_is(fx, before, NULL);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
}

static void test_noop_bind(void) {
        Fx *fx = fx_new("desktop-vfio-bound");
        const Expect expect[] = {
                { GPU, "vfio-pci", "vfio-pci", "/dev/vfio/2", "/dev/vfio/devices/vfio0", FALSE },
                { AUDIO, "vfio-pci", "vfio-pci", "/dev/vfio/2", "/dev/vfio/devices/vfio1", FALSE },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        /* Starting (reconciling a journal of bound functions) wrote nothing. */
        assert_nothing_written(fx, fx->initial);
        assert_device(fx, GPU, "vfio-pci", "nvidia", "/dev/vfio/2");
        g_assert_true(group_viable(fx, GPU_GROUP));

        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", GPU, options("group", NULL));
                assert_result(r, GPU_GROUP, FALSE, expect, 2);
        }
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", AUDIO, options(NULL));
                assert_result(r, GPU_GROUP, FALSE, &expect[1], 1);
        }
        assert_nothing_written(fx, fx->initial);
        fx_free(fx);
}

static void test_noop_unbind(void) {
        Fx *fx = fx_new("desktop-intel");
        const Expect expect[] = {
                { GPU, "nvidia", "nvidia", "", "", FALSE },
                { AUDIO, "snd_hda_intel", "snd_hda_intel", "", "", FALSE },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", GPU, options(NULL));
                assert_result(r, GPU_GROUP, FALSE, expect, 1);
        }
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", AUDIO, options("group", NULL));
                assert_result(r, GPU_GROUP, FALSE, expect, 2);
        }
        assert_nothing_written(fx, fx->initial);
        fx_free(fx);
}

/* ---------- vfio-pci variant drivers (docs/binding.md) ---------- */

#define VARIANT "mlx5_vfio_pci"
#define CX_VF0 "0000:3c:00.2"          /* mlx5_core, group 32 */
#define CX_VF1 "0000:3c:00.3"          /* vfio-pci, group 33 */
#define CX_VF2 "0000:3c:00.4"          /* mlx5_vfio_pci, group 33 */

/* What a bind writes to move address from one driver to another. */
#define MOVE_WRITES(address, from, to) \
        "devices/" address "/driver_override " to, "drivers/" from "/unbind " address, "drivers_probe " address

static GVariant *driver_option(const char *driver) {
        return g_variant_new_parsed("{'driver': <%s>}", driver);
}

static void assert_journal_driver(Fx *fx, const char *address, const char *driver) {
        json_object *d = journal_load(fx);

        g_assert_nonnull(d);
        for (size_t i = 0; i < json_object_array_length(d); i++) {
                json_object *e = json_object_array_get_idx(d, i);

                if (g_strcmp0(jstr(e, "address"), address) == 0)
                        g_assert_cmpstr(jstr(e, "driver"), ==, driver);
        }
        json_object_put(d);
}

/* Bind with driver=VARIANT: the reply, the writes, the driver link. */
static void bind_to_variant(Fx *fx, const char *address, guint group, const Expect *expect,
                            const char *const *writes) {
        g_autoptr(GVariant) r = NULL;

        vh_fake_kernel_reset(fx->kernel);
        r = call_ok(fx, "Bind", address, driver_option(VARIANT));
        assert_result(r, group, FALSE, expect, 1);
        wait_kernel_idle(fx);
        assert_writes(fx, writes);
        assert_tree_driver(fx, address, VARIANT);
}

static void test_variant_bind_unbind(void) {
        Fx *fx = fx_new("server-variant");
        static const char *const bind_writes[] = { MOVE_WRITES(CX_VF0, "mlx5_core", VARIANT), NULL };
        static const char *const unbind_writes[] = { MOVE_WRITES(CX_VF0, VARIANT, "\\n"), NULL };
        const Expect bound[] = { { CX_VF0, "mlx5_core", VARIANT, "/dev/vfio/32", "/dev/vfio/devices/vfio3", TRUE } };
        const Expect released[] = { { CX_VF0, VARIANT, "mlx5_core", "", "", TRUE } };

        if (!fx)
                return;
        fx_start(fx, NULL);
        /* A function on the variant is in VFIO's hands: its nodes, and a
         * group mixing vfio-pci and the variant is viable. */
        assert_device(fx, CX_VF2, VARIANT, "", "/dev/vfio/33");
        assert_prop(fx, CX_VF2, "VfioDevicePath", "/dev/vfio/devices/vfio2");
        g_assert_true(group_viable(fx, 33));

        bind_to_variant(fx, CX_VF0, 32, bound, bind_writes);
        assert_tree_override(fx, CX_VF0, VARIANT);
        g_assert_true(tree_exists(fx, "dev/vfio/32"));
        assert_journal_entry(fx, CX_VF0, "bound", "mlx5_core");
        assert_journal_driver(fx, CX_VF0, VARIANT);
        wait_change(fx, CX_VF0, "Driver");
        assert_device(fx, CX_VF0, VARIANT, "mlx5_core", "/dev/vfio/32");

        /* Again: on the variant already, nothing written. */
        {
                g_autoptr(GVariant) r = NULL;
                const Expect again[] = { { CX_VF0, VARIANT, VARIANT, "/dev/vfio/32", "/dev/vfio/devices/vfio3", FALSE } };

                vh_fake_kernel_reset(fx->kernel);
                r = call_ok(fx, "Bind", CX_VF0, driver_option(VARIANT));
                assert_result(r, 32, FALSE, again, 1);
                assert_writes(fx, (const char *const[]) { NULL });
        }

        /* A restart keeps the entry: it is on the driver journaled. */
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        fx_start(fx, NULL);
        assert_journal_entry(fx, CX_VF0, "bound", "mlx5_core");
        assert_device(fx, CX_VF0, VARIANT, "mlx5_core", "/dev/vfio/32");

        {
                g_autoptr(GVariant) r = NULL;

                vh_fake_kernel_reset(fx->kernel);
                g_ptr_array_set_size(fx->changes, 0);
                r = call_ok(fx, "Unbind", CX_VF0, options(NULL));
                assert_result(r, 32, FALSE, released, 1);
        }
        wait_kernel_idle(fx);
        assert_writes(fx, unbind_writes);
        assert_tree_driver(fx, CX_VF0, "mlx5_core");
        assert_tree_override(fx, CX_VF0, "(null)");
        g_assert_false(tree_exists(fx, "dev/vfio/32"));
        assert_journal_empty(fx);
        assert_tree_initial(fx);
        wait_change(fx, CX_VF0, "Driver");
        assert_device(fx, CX_VF0, "mlx5_core", "", "");
        fx_free(fx);
}

/* From vfio-pci to the variant and back: not a no-op, a move. */
static void test_variant_move(void) {
        Fx *fx = fx_new("server-variant");
        static const char *const writes[] = { MOVE_WRITES(CX_VF1, "vfio-pci", VARIANT), NULL };
        const Expect moved[] = { { CX_VF1, "vfio-pci", VARIANT, "/dev/vfio/33", "/dev/vfio/devices/vfio1", TRUE } };

        if (!fx)
                return;
        fx_start(fx, NULL);
        bind_to_variant(fx, CX_VF1, 33, moved, writes);
        /* The group node stayed: the group never left VFIO. */
        g_assert_true(tree_exists(fx, "dev/vfio/33"));
        assert_journal_entry(fx, CX_VF1, "bound", "vfio-pci");
        wait_change(fx, CX_VF1, "Driver");
        g_assert_true(group_viable(fx, 33));

        /* Unbind returns it to where it was: vfio-pci, with its override. */
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", CX_VF1, options(NULL));
        }
        wait_kernel_idle(fx);
        assert_tree_driver(fx, CX_VF1, "vfio-pci");
        assert_tree_override(fx, CX_VF1, "vfio-pci");
        assert_journal_empty(fx);
        {
                /* The fake kernel's new cdev and group minor are its own. */
                static const char *const ignore[] = {
                        "var", "sys/devices/pci0000:3a/0000:3a:02.0/" CX_VF1 "/vfio-dev/", "sys/devices/virtual/vfio/33/",
                        NULL
                };
                assert_tree_is(fx, fx->initial, ignore);
        }
        fx_free(fx);
}

static void assert_driver_refusal(Fx *fx, const char *method, const char *address, GVariant *opts, const char *error,
                                  const char *says) {
        g_autoptr(GHashTable) before = NULL;
        g_autofree char *message = NULL;

        wait_kernel_idle(fx);
        before = vh_test_tree_snapshot(fx->root);
        vh_fake_kernel_reset(fx->kernel);
        assert_call_error(fx, method, address, opts, error, &message);
        if (!strstr(message, says))
                g_error("the message does not say \"%s\": %s", says, message);
        assert_nothing_written(fx, before);
}

static void test_variant_refusals(void) {
        Fx *fx = fx_new("server-variant");

        if (!fx)
                return;
        fx_start(fx, NULL);
        assert_driver_refusal(fx, "Bind", CX_VF0, driver_option("nvme"), "org.freedesktop.DBus.Error.InvalidArgs",
                              "nvme is not a VFIO driver");
        assert_driver_refusal(fx, "Bind", CX_VF0, driver_option("mlx5_core"), "org.freedesktop.DBus.Error.InvalidArgs",
                              "mlx5_core is not a VFIO driver");
        assert_driver_refusal(fx, "Bind", "0000:3b:02.0", driver_option(VARIANT), "org.freedesktop.DBus.Error.InvalidArgs",
                              "mlx5_vfio_pci does not support 0000:3b:02.0");
        assert_driver_refusal(fx, "Bind", CX_VF0, driver_option("virtio_vfio_pci"), "VfioUnavailable",
                              "virtio_vfio_pci is not available");
        assert_driver_refusal(fx, "Bind", CX_VF0, driver_option("../../x"), "org.freedesktop.DBus.Error.InvalidArgs",
                              "not a driver name");
        /* Installed, not loaded: a host tree never loads modules. */
        assert_driver_refusal(fx, "Bind", CX_VF0, g_variant_new_parsed("{'driver': <'pds_vfio_pci'>}"),
                              "org.freedesktop.DBus.Error.InvalidArgs", "pds_vfio_pci does not support");
        /* An unbind restores from whatever VFIO driver: no driver option. */
        assert_driver_refusal(fx, "Unbind", CX_VF2, driver_option(VARIANT), "org.freedesktop.DBus.Error.InvalidArgs",
                              "Unknown option 'driver'");
        assert_tree_is(fx, fx->initial, NULL);
        fx_free(fx);
}

/* ---------- a function without a driver stays without one ---------- */

#define XHCI "0000:00:14.0"
#define SRAM "0000:00:14.2"

static void test_driverless(void) {
        Fx *fx = fx_new("desktop-intel");
        static const char *const bind_writes[] = {
                "devices/" XHCI "/driver_override vfio-pci",
                "drivers/xhci_hcd/unbind " XHCI,
                "drivers_probe " XHCI,
                "devices/" SRAM "/driver_override vfio-pci",
                "drivers_probe " SRAM,
                NULL
        };
        static const char *const unbind_writes[] = {
                "devices/" XHCI "/driver_override \\n",
                "drivers/vfio-pci/unbind " XHCI,
                "drivers_probe " XHCI,
                "devices/" SRAM "/driver_override \\n",
                "drivers/vfio-pci/unbind " SRAM,
                NULL
        };
        const Expect bound[] = {
                { XHCI, "xhci_hcd", "vfio-pci", "/dev/vfio/4", "", TRUE },
                { SRAM, "", "vfio-pci", "/dev/vfio/4", "", TRUE },
        };
        const Expect unbound[] = {
                { XHCI, "vfio-pci", "xhci_hcd", "", "", TRUE },
                { SRAM, "vfio-pci", "", "", "", TRUE },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        assert_tree_driver(fx, SRAM, NULL);

        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", SRAM, options("group", NULL));
                assert_result(r, 4, FALSE, bound, 2);
        }
        wait_kernel_idle(fx);
        assert_writes(fx, bind_writes);
        assert_tree_driver(fx, SRAM, "vfio-pci");
        assert_journal_entry(fx, SRAM, "bound", NULL);
        assert_device(fx, SRAM, "vfio-pci", "", "/dev/vfio/4");

        vh_fake_kernel_reset(fx->kernel);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", SRAM, options("group", NULL));
                assert_result(r, 4, FALSE, unbound, 2);
        }
        wait_kernel_idle(fx);
        /* No drivers_probe for it: a probe could bind whatever matches. */
        assert_writes(fx, unbind_writes);
        assert_tree_driver(fx, SRAM, NULL);
        assert_tree_driver(fx, XHCI, "xhci_hcd");
        assert_journal_empty(fx);
        assert_tree_initial(fx);
        assert_device(fx, SRAM, "", "", "");
        fx_free(fx);
}

/* ---------- the original driver does not come back by itself ---------- */

static void test_probe_refuses(void) {
        Fx *fx = fx_new("desktop-intel");
        static const char *const unbind_writes[] = {
                "devices/" GPU "/driver_override \\n",
                "drivers/vfio-pci/unbind " GPU,
                "drivers_probe " GPU,
                "devices/" AUDIO "/driver_override \\n",
                "drivers/vfio-pci/unbind " AUDIO,
                "drivers_probe " AUDIO,
                "drivers/snd_hda_intel/bind " AUDIO,
                NULL
        };
        const Expect expect[] = {
                { GPU, "vfio-pci", "nvidia", "", "", TRUE },
                { AUDIO, "vfio-pci", "snd_hda_intel", "", "", TRUE },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        bind_gpu_group(fx);

        vh_fake_kernel_set_probe_refuses(fx->kernel, AUDIO, TRUE);
        vh_fake_kernel_reset(fx->kernel);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", GPU, options("group", NULL));
                assert_result(r, GPU_GROUP, FALSE, expect, 2);
        }
        wait_kernel_idle(fx);
        assert_writes(fx, unbind_writes);
        g_assert_true(vh_fake_kernel_wait_for(fx->kernel, "! " AUDIO " probe: the natural driver's probe fails", 1));
        assert_tree_driver(fx, AUDIO, "snd_hda_intel");
        assert_journal_empty(fx);
        assert_tree_initial(fx);
        fx_free(fx);
}

/* ---------- vfio-pci does not take a function: the group rolls back ---------- */

static void test_vfio_refuses(void) {
        Fx *fx = fx_new("desktop-intel");
        g_autofree char *message = NULL;

        if (!fx)
                return;
        fx_start(fx, NULL);
        vh_fake_kernel_set_vfio_refuses(fx->kernel, AUDIO, TRUE);
        assert_call_error(fx, "Bind", GPU, options("group", NULL), "Failed", &message);
        g_assert_nonnull(strstr(message, "did not bind to vfio-pci"));
        g_assert_nonnull(strstr(message, "rolled back to its original driver"));
        g_assert_true(vh_fake_kernel_wait_for(fx->kernel, "! " AUDIO " probe: vfio-pci refuses the device", 1));
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        assert_device(fx, GPU, "nvidia", "", "");
        assert_device(fx, AUDIO, "snd_hda_intel", "", "");
        g_assert_false(group_viable(fx, GPU_GROUP));
        fx_free(fx);
}

/* ---------- a fault at every step of a group bind ---------- */

static const char *const steps[] = { "driver_override", "unbind", "drivers_probe" };
static const char *const step_errors[] = { "EBUSY", "ENODEV", "hang" };
static const char *const members[] = { GPU, AUDIO };

typedef struct {
        unsigned which;                 /* 0: the GPU (first), 1: the audio function (second) */
        unsigned step;                  /* index in steps[] */
        const char *error;
} FaultCase;

static void test_fault(gconstpointer data) {
        const FaultCase *c = data;
        const char *address = members[c->which];
        gboolean hang = strcmp(c->error, "hang") == 0;
        /* #1: only the operation's own write fails, not the rollback's. */
        g_autofree char *faults = g_strdup_printf("%s@%s=%s#1", steps[c->step], address, c->error);
        size_t failed_at = c->which * 3 + c->step;
        g_auto(GStrv) writes = NULL;
        g_autofree char *name = NULL, *message = NULL;
        Pending *p;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        g_test_message("faults: %s", faults);
        fx_start(fx, faults);
        p = call_async(fx, "Bind", GPU, options("group", NULL));

        if (hang) {
                /* The daemon still answers while its write hangs. */
                wait_daemon_hanging(fx);
                assert_answers_quickly(fx);
        }
        pending_wait(p);
        g_assert_null(p->result);
        name = error_name(p->error);
        g_dbus_error_strip_remote_error(p->error);
        message = g_strdup(p->error->message);
        pending_free(p);
        g_test_message("%s: %s", name, message);
        g_assert_cmpstr(name, ==, hang ? VH_ERROR_TIMEOUT : VH_ERROR_FAILED);
        g_assert_nonnull(strstr(message, address));
        g_assert_nonnull(strstr(message, "Every function was rolled back to its original driver."));

        /* What came before the failing write happened; the failing write
         * itself never reached the file. */
        wait_kernel_idle(fx);
        writes = vh_fake_kernel_writes(fx->kernel);
        g_assert_cmpuint(g_strv_length(writes), >=, failed_at);
        for (size_t i = 0; i < failed_at; i++)
                g_assert_cmpstr(writes[i], ==, bind_gpu_group_writes[i]);
        if (writes[failed_at])
                g_assert_cmpstr(writes[failed_at], !=, bind_gpu_group_writes[failed_at]);

        /* Everything back, byte for byte; the journal empty again. */
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        assert_device(fx, GPU, "nvidia", "", "");
        assert_device(fx, AUDIO, "snd_hda_intel", "", "");
        g_assert_false(group_viable(fx, GPU_GROUP));

        /* And the group still binds (the fault fired once). */
        bind_gpu_group(fx);
        unbind_gpu_group(fx);
        fx_free(fx);
}

/* The fault strikes the rollback too: the reply says so, the journal keeps
 * what remains to be undone, and the next start finishes the job. */
static void test_fault_persistent(gconstpointer data) {
        const FaultCase *c = data;
        const char *address = members[c->which];
        gboolean hang = strcmp(c->error, "hang") == 0;
        g_autofree char *faults = g_strdup_printf("%s@%s=%s", steps[c->step], address, c->error);
        g_autoptr(GError) error = NULL;
        g_autofree char *name = NULL;
        g_autoptr(GVariant) r = NULL;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        g_test_message("faults: %s", faults);
        fx_start(fx, faults);
        r = call(fx, "Bind", GPU, options("group", NULL), &error);
        g_assert_null(r);
        name = error_name(error);
        g_test_message("%s: %s", name, error->message);
        g_assert_cmpstr(name, ==, hang ? VH_ERROR_TIMEOUT : VH_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "The rollback did not complete"));

        /* The function the fault keeps from its driver is driverless, and
         * the journal says what it had. */
        wait_kernel_idle(fx);
        assert_tree_driver(fx, address, NULL);
        assert_journal_entry(fx, address, "binding", c->which == 0 ? "nvidia" : "snd_hda_intel");
        /* The other one is on its original driver. */
        assert_tree_driver(fx, members[1 - c->which], c->which == 0 ? "snd_hda_intel" : "nvidia");
        {
                json_object *d = journal_load(fx);
                g_test_message("journal after the failed rollback: %s", json_object_to_json_string(d));
                json_object_put(d);
        }
        /* ... and only what remains: the other function is on its original
         * driver, vfiohostd holds nothing of it (OriginalDriver ""), and
         * unbinding it is a no-op that writes nothing. */
        assert_prop(fx, members[1 - c->which], "OriginalDriver", "");
        {
                const char *other = members[1 - c->which];
                const char *driver = c->which == 0 ? "snd_hda_intel" : "nvidia";
                const Expect expect = { other, driver, driver, "", "", FALSE };
                g_autoptr(GVariant) result = NULL;

                vh_fake_kernel_reset(fx->kernel);
                result = call_ok(fx, "Unbind", other, options(NULL));
                assert_result(result, GPU_GROUP, FALSE, &expect, 1);
                wait_kernel_idle(fx);
                g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        }
        g_assert_cmpuint(journal_count(fx), ==, 1);

        /* Restarted without the fault: reconciled. */
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        fx_start(fx, NULL);
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        assert_device(fx, GPU, "nvidia", "", "");
        assert_device(fx, AUDIO, "snd_hda_intel", "", "");
        fx_free(fx);
}

/* ---------- kill -9 after every step, restart, reconcile ---------- */

typedef struct {
        gboolean unbind;                /* kill a group unbind (else a group bind) */
        unsigned which, step;           /* the step that hangs: the daemon dies just before it */
} KillCase;

/* Waits for the call the killed daemon never answered. */
static void pending_lost(Pending *p) {
        pending_wait(p);
        g_assert_null(p->result);
        g_assert_nonnull(p->error);
        g_test_message("the killed daemon's caller got: %s", p->error->message);
        pending_free(p);
}

static void test_kill(gconstpointer data) {
        const KillCase *c = data;
        const char *address = members[c->which];
        g_autofree char *faults = g_strdup_printf("%s@%s=hang", steps[c->step], address);
        Pending *p;
        int status;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        g_test_message("%s, faults: %s", c->unbind ? "unbind" : "bind", faults);
        if (c->unbind) {
                /* Bound by a daemon without faults first. */
                fx_start(fx, NULL);
                bind_gpu_group(fx);
                g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        }

        fx_start(fx, faults);
        vh_fake_kernel_reset(fx->kernel);
        p = call_async(fx, c->unbind ? "Unbind" : "Bind", GPU, options("group", NULL));
        wait_daemon_hanging(fx);
        wait_kernel_idle(fx);

        /* Before the first write, the journal already says what to undo. */
        if (!c->unbind) {
                assert_journal_entry(fx, GPU, "binding", "nvidia");
                assert_journal_entry(fx, AUDIO, "binding", "snd_hda_intel");
        } else {
                /* All-or-nothing: every function stays journaled as
                 * "unbinding" until the whole unbind is done. */
                assert_journal_entry(fx, GPU, "unbinding", "nvidia");
                assert_journal_entry(fx, AUDIO, "unbinding", "snd_hda_intel");
                g_assert_cmpuint(journal_count(fx), ==, 2);
        }

        status = vh_test_bus_kill_daemon(fx->bus, SIGKILL);
        g_assert_cmpint(status, ==, 128 + SIGKILL);
        pending_lost(p);
        /* Exactly the steps before the hanging one were written. */
        {
                const char *const *all = c->unbind ? unbind_gpu_group_writes : bind_gpu_group_writes;
                g_autofree char **prefix = g_new0(char *, 7);

                for (size_t i = 0; i < c->which * 3 + c->step; i++)
                        prefix[i] = (char *) all[i];
                assert_writes(fx, (const char *const *) prefix);
        }

        /* A new daemon on the same tree, without faults: every function
         * back on its original driver, never half bound. */
        fx_start(fx, NULL);
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        assert_device(fx, GPU, "nvidia", "", "");
        assert_device(fx, AUDIO, "snd_hda_intel", "", "");
        g_assert_false(group_viable(fx, GPU_GROUP));
        fx_free(fx);
}

/* Killed after a bind completed: the next daemon keeps it bound and still
 * knows the original drivers. */
static void test_kill_after_bind(void) {
        Fx *fx = fx_new("desktop-intel");
        GHashTable *bound;

        if (!fx)
                return;
        fx_start(fx, NULL);
        bind_gpu_group(fx);
        wait_kernel_idle(fx);
        bound = vh_test_tree_snapshot(fx->root);
        g_assert_cmpint(vh_test_bus_kill_daemon(fx->bus, SIGKILL), ==, 128 + SIGKILL);

        vh_fake_kernel_reset(fx->kernel);
        fx_start(fx, NULL);
        assert_tree_is(fx, bound, NULL);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        assert_gpu_group_bound(fx);
        g_hash_table_unref(bound);

        unbind_gpu_group(fx);
        fx_free(fx);
}

/* ---------- refusals: a named error, nothing written ---------- */

typedef struct {
        const char *method, *address;
        const char *options[3];         /* boolean options set to TRUE */
        const char *error;              /* org.vfiohost.Error.<error>, or a full name */
        const char *says;               /* in the message; NULL: not checked */
} Refusal;

static void assert_refusal(Fx *fx, const Refusal *r) {
        g_autoptr(GHashTable) before = NULL;
        g_autofree char *message = NULL;
        g_autofree char *escaped = g_strescape(r->address, NULL);

        wait_kernel_idle(fx);
        before = vh_test_tree_snapshot(fx->root);
        vh_fake_kernel_reset(fx->kernel);
        g_test_message("%s(\"%s\", %s %s)", r->method, escaped, r->options[0] ? r->options[0] : "",
                       r->options[1] ? r->options[1] : "");
        assert_call_error(fx, r->method, r->address, options(r->options[0], r->options[1], r->options[2], NULL),
                          r->error, &message);
        if (r->says && !strstr(message, r->says))
                g_error("the message does not say \"%s\": %s", r->says, message);
        /* Not a byte changed, the journal included; no sysfs write at all. */
        assert_nothing_written(fx, before);
}

static const char *const bad_addresses[] = {
        "", "0000:01:00", "0000:01:00.0/../../x", "../../../etc/passwd", "0000:01:20.0", "0000:01:00.8",
        "zzzz:01:00.0", "0000:01:00.0 ", "0000:01:00.0\n", "01:00.0", "0000:01:00.0/",
        "/sys/bus/pci/devices/0000:01:00.0", "0000:01:00.0/driver", "..", "*", "%s%n",
};

static void test_refusals_desktop(void) {
        Fx *fx = fx_new("desktop-intel");
        static const Refusal refusals[] = {
                { "Bind", "0000:09:00.0", { NULL }, "NotFound", "0000:09:00.0" },
                { "Unbind", "0001:01:00.0", { "group" }, "NotFound", NULL },
                /* The audio function would stay on snd_hda_intel; force does not help. */
                { "Bind", GPU, { NULL }, "GroupNotViable", AUDIO },
                { "Bind", GPU, { "force" }, "GroupNotViable", AUDIO },
                { "Bind", AUDIO, { "force", "dry-run" }, "GroupNotViable", GPU },
                /* Host-critical: / on the NVMe, the default route on the
                 * I225-V, the iGPU's framebuffer console, the chipset. */
                { "Bind", "0000:02:00.0", { NULL }, "HostCritical", "mounted on /" },
                { "Bind", "0000:02:00.0", { "dry-run" }, "HostCritical", "mounted on /" },
                { "Bind", "0000:06:00.0", { "group" }, "HostCritical", "default route" },
                { "Bind", "0000:00:02.0", { NULL }, "HostCritical", "framebuffer" },
                { "Bind", "0000:00:1f.0", { "group" }, "HostCritical", "chipset" },
                { "Bind", "0000:00:1f.3", { "group" }, "HostCritical", "chipset" },
                /* force does not override a holder: the RX 7900 XTX in the
                 * NIC's group has Xorg on card1; the iGPU has Xorg and Firefox. */
                { "Bind", "0000:06:00.0", { "group", "force" }, "InUse", "Xorg" },
                { "Bind", "0000:00:02.0", { "force" }, "InUse", "Xorg" },
                /* A bridge is not bound by itself. */
                { "Bind", "0000:00:01.0", { NULL }, "org.freedesktop.DBus.Error.InvalidArgs", NULL },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(bad_addresses); i++) {
                const char *methods[] = { "Bind", "Unbind" };

                for (size_t m = 0; m < 2; m++) {
                        Refusal r = { methods[m], bad_addresses[i], { i % 2 ? "group" : NULL }, "InvalidAddress", NULL };
                        assert_refusal(fx, &r);
                }
        }
        for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
                assert_refusal(fx, &refusals[i]);
        /* No colon: it could be the name of a persistent assignment, and
         * none is so named. */
        {
                Refusal r = { "Bind", "0000-01-00.0", { NULL }, "NotFound", "persistent assignment" };
                assert_refusal(fx, &r);
        }
        assert_tree_is(fx, fx->initial, NULL);
        fx_free(fx);
}

/* Options: unknown ones and ones of the wrong type are InvalidArgs. */
static void test_invalid_options(void) {
        Fx *fx = fx_new("desktop-intel");
        const char *bad[] = {
                "{'bogus': <true>}",
                "{'group': <'yes'>}",
                "{'force': <int32 1>}",
                "{'dry-run': <byte 1>}",
                "{'group': <true>, 'Group': <true>}",
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                for (size_t m = 0; m < 2; m++) {
                        const char *method = m ? "Unbind" : "Bind";
                        g_autoptr(GError) error = NULL;
                        g_autoptr(GVariant) r = NULL;
                        g_autofree char *name = NULL;

                        vh_fake_kernel_reset(fx->kernel);
                        r = call(fx, method, GPU, g_variant_new_parsed(bad[i]), &error);
                        g_assert_null(r);
                        name = error_name(error);
                        g_test_message("%s(%s): %s: %s", method, bad[i], name, error->message);
                        g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
                        assert_nothing_written(fx, fx->initial);
                }
        fx_free(fx);
}

static void test_refusals_server(void) {
        Fx *fx = fx_new("server-sriov");
        static const Refusal refusals[] = {
                /* gdm's Xorg has the ASPEED's card0 open; no framebuffer, so
                 * nothing host-critical: InUse, with or without force. */
                { "Bind", "0000:02:00.0", { "group" }, "InUse", "Xorg" },
                { "Bind", "0000:02:00.0", { "group", "force" }, "InUse", "Xorg" },
                /* / on LVM on the PM983; the default route on bond0 over the PF. */
                { "Bind", "0000:af:00.0", { NULL }, "HostCritical", "mounted on /" },
                { "Bind", "0000:3b:00.0", { NULL }, "HostCritical", "default route" },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
                assert_refusal(fx, &refusals[i]);
        fx_free(fx);
}

static void test_refusals_vfio_bound(void) {
        Fx *fx = fx_new("desktop-vfio-bound");
        static const Refusal refusals[] = {
                /* A VM (qemu) has /dev/vfio/2 open. */
                { "Unbind", GPU, { NULL }, "InUse", "qemu" },
                { "Unbind", AUDIO, { "group" }, "InUse", "qemu" },
                { "Unbind", GPU, { "force" }, "InUse", "qemu" },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
                assert_refusal(fx, &refusals[i]);
        assert_tree_is(fx, fx->initial, NULL);
        fx_free(fx);
}

static void test_refusals_no_iommu(void) {
        Fx *fx = fx_new("no-iommu");
        static const Refusal refusals[] = {
                { "Bind", GPU, { NULL }, "VfioUnavailable", NULL },
                { "Bind", GPU, { "group" }, "VfioUnavailable", NULL },
                { "Bind", AUDIO, { "force", "dry-run" }, "VfioUnavailable", NULL },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
                assert_refusal(fx, &refusals[i]);
        /* Unbinding what is not on vfio-pci is a no-op there too. */
        {
                const Expect expect = { GPU, "nvidia", "nvidia", "", "", FALSE };
                g_autoptr(GVariant) r = NULL;

                vh_fake_kernel_reset(fx->kernel);
                r = call_ok(fx, "Unbind", GPU, options(NULL));
                assert_result(r, 0, FALSE, &expect, 1);
                assert_nothing_written(fx, fx->initial);
        }
        fx_free(fx);
}

/* vfio-pci installed but not loaded, and a host tree is no running kernel
 * to load it into: refused when the operation starts, before the journal.
 * (The SMBus group is chipset — host-critical, driver or not — so force.) */
static void test_refusals_amd(void) {
        Fx *fx = fx_new("amd-desktop");
        static const Refusal refusals[] = {
                { "Bind", "0000:00:14.0", { "group" }, "HostCritical", "0000:00:14.0 is a chipset function" },
                { "Bind", "0000:00:14.0", { "group", "force" }, "VfioUnavailable", "vfio-pci" },
        };

        if (!fx)
                return;
        fx_start(fx, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
                assert_refusal(fx, &refusals[i]);
        assert_tree_is(fx, fx->initial, NULL);
        fx_free(fx);
}

/* ---------- force: host-critical becomes a success, listed ---------- */

static void test_force(void) {
        Fx *fx = fx_new("desktop-intel");
        const Expect nvme_bound = { "0000:02:00.0", "nvme", "vfio-pci", "/dev/vfio/7", "", TRUE };
        const Expect nvme_back = { "0000:02:00.0", "vfio-pci", "nvme", "", "", TRUE };
        static const char *const chipset[] = { "0000:00:1f.0", "0000:00:1f.3", "0000:00:1f.4", "0000:00:1f.5" };
        static const char *const chipset_drivers[] = { "lpc_ich", "snd_hda_intel", "i801_smbus", "intel-spi" };

        if (!fx)
                return;
        fx_start(fx, NULL);

        /* Dry run first: the same report, nothing written. */
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", "0000:02:00.0", options("force", "dry-run", NULL));
                g_auto(GStrv) forced = result_forced(r);
                const Expect dry = { "0000:02:00.0", "nvme", "vfio-pci", "", "", TRUE };

                assert_result(r, 7, TRUE, &dry, 1);
                g_assert_cmpuint(g_strv_length(forced), ==, 1);
                g_assert_nonnull(strstr(forced[0], "mounted on /"));
                assert_nothing_written(fx, fx->initial);
        }
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", "0000:02:00.0", options("force", NULL));
                g_auto(GStrv) forced = result_forced(r);

                assert_result(r, 7, FALSE, &nvme_bound, 1);
                g_assert_cmpuint(g_strv_length(forced), ==, 1);
                g_assert_nonnull(strstr(forced[0], "0000:02:00.0"));
                g_assert_nonnull(strstr(forced[0], "mounted on /"));
        }
        wait_kernel_idle(fx);
        assert_tree_driver(fx, "0000:02:00.0", "vfio-pci");
        g_assert_true(tree_exists(fx, "dev/vfio/7"));
        assert_journal_entry(fx, "0000:02:00.0", "bound", "nvme");
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", "0000:02:00.0", options(NULL));
                assert_result(r, 7, FALSE, &nvme_back, 1);
        }
        assert_tree_initial(fx);
        assert_journal_empty(fx);

        /* The chipset group: four functions, each reason listed. */
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", "0000:00:1f.0", options("group", "force", NULL));
                g_auto(GStrv) forced = result_forced(r);
                g_autofree char *joined = g_strjoinv("\n", forced);

                g_test_message("forced:\n%s", joined);
                g_assert_nonnull(strstr(joined, "0000:00:1f.0"));
                g_assert_nonnull(strstr(joined, "chipset"));
        }
        wait_kernel_idle(fx);
        for (size_t i = 0; i < G_N_ELEMENTS(chipset); i++) {
                assert_tree_driver(fx, chipset[i], "vfio-pci");
                assert_journal_entry(fx, chipset[i], "bound", chipset_drivers[i]);
        }
        g_assert_true(group_viable(fx, 6));
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", "0000:00:1f.4", options("group", NULL));
        }
        for (size_t i = 0; i < G_N_ELEMENTS(chipset); i++)
                assert_tree_driver(fx, chipset[i], chipset_drivers[i]);
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        fx_free(fx);
}

/* ---------- dry runs ---------- */

static void test_dry_run(void) {
        Fx *fx = fx_new("desktop-intel");
        const Expect would_bind[] = {
                { GPU, "nvidia", "vfio-pci", "", "", TRUE },
                { AUDIO, "snd_hda_intel", "vfio-pci", "", "", TRUE },
        };
        const Expect would_unbind[] = {
                { GPU, "vfio-pci", "nvidia", "", "", TRUE },
                { AUDIO, "vfio-pci", "snd_hda_intel", "", "", TRUE },
        };
        GHashTable *bound;

        if (!fx)
                return;
        fx_start(fx, NULL);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", GPU, options("group", "dry-run", NULL));
                assert_result(r, GPU_GROUP, TRUE, would_bind, 2);
        }
        assert_nothing_written(fx, fx->initial);
        assert_device(fx, GPU, "nvidia", "", "");

        bind_gpu_group(fx);
        wait_kernel_idle(fx);
        bound = vh_test_tree_snapshot(fx->root);
        vh_fake_kernel_reset(fx->kernel);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", AUDIO, options("group", "dry-run", NULL));
                assert_result(r, GPU_GROUP, TRUE, would_unbind, 2);
        }
        assert_nothing_written(fx, bound);
        assert_device(fx, GPU, "vfio-pci", "nvidia", "/dev/vfio/2");
        g_hash_table_unref(bound);

        unbind_gpu_group(fx);
        fx_free(fx);
}

/* ---------- one operation per group at a time ---------- */

/* A second Bind and an Unbind of the same group while the first bind runs:
 * Busy, at once, and nothing of theirs is written; other calls answered. */
static void assert_busy_while_running(Fx *fx) {
        static const char *const verbs[] = { "Bind", "Unbind" };

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = NULL;
                g_autofree char *name = NULL;
                gint64 t0 = g_get_monotonic_time();

                r = call(fx, verbs[i], AUDIO, options("group", NULL), &error);
                g_assert_null(r);
                name = error_name(error);
                g_test_message("%s during the bind: %s: %s (%.3f s)", verbs[i], name, error->message,
                               (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
                g_assert_cmpstr(name, ==, VH_ERROR_BUSY);
        }
        assert_answers_quickly(fx);
}

/* The first bind is slow (vfio-pci probes the audio function
 * asynchronously, 1.5 s late) and then succeeds. */
static void test_concurrent_slow(void) {
        Fx *fx = fx_new("desktop-intel");
        const Expect expect[] = {
                { GPU, "nvidia", "vfio-pci", "/dev/vfio/2", "", TRUE },
                { AUDIO, "snd_hda_intel", "vfio-pci", "/dev/vfio/2", "", TRUE },
        };
        Pending *p;

        if (!fx)
                return;
        fx_start(fx, NULL);
        /* Below the daemon's 2 s wait for an asynchronous probe. */
        vh_fake_kernel_set_probe_delay(fx->kernel, AUDIO, 1.5);
        p = call_async(fx, "Bind", GPU, options("group", NULL));
        g_assert_true(vh_fake_kernel_wait_for(fx->kernel, "! " AUDIO " probe: vfio-pci deferred", 10));
        assert_busy_while_running(fx);

        pending_wait(p);
        g_assert_no_error(p->error);
        assert_result(p->result, GPU_GROUP, FALSE, expect, 2);
        pending_free(p);
        wait_kernel_idle(fx);
        assert_writes(fx, bind_gpu_group_writes);
        assert_device(fx, AUDIO, "vfio-pci", "snd_hda_intel", "/dev/vfio/2");

        vh_fake_kernel_set_probe_delay(fx->kernel, AUDIO, 0);
        unbind_gpu_group(fx);
        fx_free(fx);
}

/* The first bind hangs and times out: Busy meanwhile, rolled back after. */
static void test_concurrent_hang(void) {
        Fx *fx = fx_new("desktop-intel");
        g_autofree char *name = NULL;
        Pending *p;

        if (!fx)
                return;
        fx_start(fx, "drivers_probe@" AUDIO "=hang#1");
        p = call_async(fx, "Bind", GPU, options("group", NULL));
        wait_daemon_hanging(fx);
        assert_busy_while_running(fx);

        pending_wait(p);
        name = error_name(p->error);
        g_assert_cmpstr(name, ==, VH_ERROR_TIMEOUT);
        pending_free(p);
        assert_tree_initial(fx);
        assert_journal_empty(fx);

        /* The group is free again. */
        bind_gpu_group(fx);
        unbind_gpu_group(fx);
        fx_free(fx);
}

/* ---------- SR-IOV: a VF, and a function someone else bound ---------- */

#define VF0 "0000:3b:02.0"
#define VF1 "0000:3b:02.1"
#define PF0 "0000:3b:00.0"

static void test_sriov(void) {
        Fx *fx = fx_new("server-sriov");
        const Expect vf0_bound = { VF0, "iavf", "vfio-pci", "/dev/vfio/23", "", TRUE };
        const Expect vf0_back = { VF0, "vfio-pci", "iavf", "", "", TRUE };
        const Expect vf1_noop = { VF1, "vfio-pci", "vfio-pci", "/dev/vfio/24", "", FALSE };
        const Expect vf1_released = { VF1, "vfio-pci", "iavf", "", "", TRUE };
        static const char *const vf1_writes[] = {
                "devices/" VF1 "/driver_override \\n",
                "drivers/vfio-pci/unbind " VF1,
                "drivers_probe " VF1,
                NULL
        };
        g_autoptr(GHashTable) before = NULL;

        if (!fx)
                return;
        fx_start(fx, NULL);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", VF0, options(NULL));
                assert_result(r, 23, FALSE, &vf0_bound, 1);
        }
        wait_kernel_idle(fx);
        assert_tree_driver(fx, VF0, "vfio-pci");
        g_assert_true(tree_exists(fx, "dev/vfio/23"));
        assert_device(fx, VF0, "vfio-pci", "iavf", "/dev/vfio/23");
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", VF0, options(NULL));
                assert_result(r, 23, FALSE, &vf0_back, 1);
        }
        assert_tree_initial(fx);
        assert_journal_empty(fx);

        /* VF1 is on vfio-pci, not by vfiohostd (no journal entry): binding it
         * is a no-op; unbinding it lets whatever driver claims it take it. */
        wait_kernel_idle(fx);
        before = vh_test_tree_snapshot(fx->root);
        vh_fake_kernel_reset(fx->kernel);
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", VF1, options(NULL));
                assert_result(r, 24, FALSE, &vf1_noop, 1);
        }
        assert_nothing_written(fx, before);
        assert_device(fx, VF1, "vfio-pci", "", "/dev/vfio/24");

        vh_fake_kernel_set_natural_driver(fx->kernel, VF1, "iavf");
        {
                g_autoptr(GVariant) r = call_ok(fx, "Unbind", VF1, options(NULL));
                assert_result(r, 24, FALSE, &vf1_released, 1);
        }
        wait_kernel_idle(fx);
        assert_writes(fx, vf1_writes);
        assert_tree_driver(fx, VF1, "iavf");
        g_assert_false(tree_exists(fx, "dev/vfio/24"));
        assert_journal_empty(fx);
        assert_device(fx, VF1, "iavf", "", "");
        fx_free(fx);
}

static GVariant *device_prop(Fx *fx, const char *address, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = device_path(address);
        GVariant *v = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, name, &error);

        g_assert_no_error(error);
        return v;
}

static void tree_write(Fx *fx, const char *rel, const char *content) {
        g_autofree char *path = tree_path(fx, rel);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, content, -1, &error));
        g_assert_no_error(error);
}

/* The PF 3b:00.0 with its VFs: the model over the bus, and Bind refused
 * with HasVirtualFunctions; force goes through only while no process
 * holds a VF. The default route is taken off the PFs' bond first, so that
 * nothing but the VFs refuses. */
static void test_sriov_pf(void) {
        Fx *fx = fx_new("server-sriov");
        g_autofree char *vf0_path = device_path(VF0), *vf1_path = device_path(VF1);

        if (!fx)
                return;
        tree_write(fx, "proc/net/route",
                   "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
        tree_write(fx, "proc/net/ipv6_route", "");
        fx_start(fx, NULL);

        {
                g_autoptr(GVariant) vfs = device_prop(fx, PF0, "VirtualFunctions");
                g_autoptr(GVariant) none = device_prop(fx, "0000:3b:00.1", "VirtualFunctions");
                g_autoptr(GVariant) i0 = device_prop(fx, VF0, "VirtualFunctionIndex");
                g_autoptr(GVariant) i1 = device_prop(fx, VF1, "VirtualFunctionIndex");
                g_autoptr(GVariant) ipf = device_prop(fx, PF0, "VirtualFunctionIndex");
                g_autoptr(GVariant) ap = device_prop(fx, PF0, "SriovDriversAutoprobe");
                g_autoptr(GVariant) ap_vf = device_prop(fx, VF0, "SriovDriversAutoprobe");
                g_autofree const char **paths = g_variant_get_objv(vfs, NULL);

                g_assert_cmpstr(g_variant_get_type_string(vfs), ==, "ao");
                g_assert_cmpuint(g_strv_length((char **) paths), ==, 2);
                g_assert_cmpstr(paths[0], ==, vf0_path);
                g_assert_cmpstr(paths[1], ==, vf1_path);
                g_assert_cmpuint(g_variant_n_children(none), ==, 0);
                g_assert_cmpint(g_variant_get_int32(i0), ==, 0);
                g_assert_cmpint(g_variant_get_int32(i1), ==, 1);
                g_assert_cmpint(g_variant_get_int32(ipf), ==, -1);
                g_assert_true(g_variant_get_boolean(ap));
                g_assert_false(g_variant_get_boolean(ap_vf));
                assert_prop(fx, VF1, "PhysicalFunction", PF0);
        }

        {
                static const Refusal refusals[] = {
                        { "Bind", PF0, { NULL }, "HasVirtualFunctions", "2 virtual functions enabled" },
                        { "Bind", PF0, { "group" }, "HasVirtualFunctions", "0000:3b:02.1 on vfio-pci" },
                        { "Bind", PF0, { "dry-run" }, "HasVirtualFunctions", "VF count to 0" },
                };

                for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
                        assert_refusal(fx, &refusals[i]);
        }
        {
                g_autoptr(GVariant) r = call_ok(fx, "Bind", PF0, options("force", "dry-run", NULL));
                g_auto(GStrv) forced = result_forced(r);

                g_assert_cmpuint(g_strv_length(forced), ==, 1);
                g_assert_nonnull(strstr(forced[0], "2 virtual functions"));
        }

        /* A VM opens VF1's group: never, force or not. */
        tree_write(fx, "proc/4242/comm", "qemu-system-x86\n");
        {
                g_autofree char *fd = tree_path(fx, "proc/4242/fd/20");
                g_autofree char *fd_dir = g_path_get_dirname(fd);

                g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
                g_assert_cmpint(symlink("/dev/vfio/24", fd), ==, 0);
        }
        {
                static const Refusal held[] = {
                        { "Bind", PF0, { "force" }, "HasVirtualFunctions", "pid 4242 (qemu-system-x86) holds /dev/vfio/24" },
                        { "Bind", PF0, { "force", "dry-run" }, "HasVirtualFunctions", "force does not override" },
                };

                for (size_t i = 0; i < G_N_ELEMENTS(held); i++)
                        assert_refusal(fx, &held[i]);
        }
        fx_free(fx);
}

/* ---------- vfiohostctl bind / unbind ---------- */

static json_object *parse_json(const VhTestRun *run) {
        json_tokener *tok = json_tokener_new();
        json_object *j = json_tokener_parse_ex(tok, run->out, (int) strlen(run->out));
        size_t end = json_tokener_get_parse_end(tok);

        if (!j || json_tokener_get_error(tok) != json_tokener_success) {
                vh_test_run_print(run, "vfiohostctl");
                g_error("vfiohostctl's stdout is not JSON");
        }
        for (const char *p = run->out + end; *p; p++)
                if (!g_ascii_isspace(*p)) {
                        vh_test_run_print(run, "vfiohostctl");
                        g_error("vfiohostctl printed more than one JSON value");
                }
        json_tokener_free(tok);
        return j;
}

static json_object *jget(json_object *o, const char *key, json_type type) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                g_error("JSON: no %s \"%s\" in %s", json_type_to_name(type), key, json_object_to_json_string(o));
        return v;
}

static void assert_json_devices(json_object *j, guint group, const Expect *expect, size_t n) {
        json_object *devices = jget(j, "devices", json_type_array);

        g_assert_cmpint(json_object_get_int64(jget(j, "group", json_type_int)), ==, group);
        g_assert_false(json_object_get_boolean(jget(j, "dry_run", json_type_boolean)));
        g_assert_cmpuint(json_object_array_length(jget(j, "forced", json_type_array)), ==, 0);
        g_assert_cmpuint(json_object_array_length(devices), ==, n);
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(devices, i);

                g_assert_cmpstr(json_object_get_string(jget(d, "address", json_type_string)), ==, expect[i].address);
                g_assert_cmpstr(json_object_get_string(jget(d, "previous_driver", json_type_string)), ==, expect[i].previous);
                g_assert_cmpstr(json_object_get_string(jget(d, "driver", json_type_string)), ==, expect[i].driver);
                g_assert_cmpstr(json_object_get_string(jget(d, "vfio_group_path", json_type_string)), ==, expect[i].group_path);
                g_assert_cmpstr(json_object_get_string(jget(d, "vfio_device_path", json_type_string)), ==, expect[i].device_path);
                g_assert_cmpint(json_object_get_boolean(jget(d, "changed", json_type_boolean)), ==, expect[i].changed);
        }
}

/* Refused: the exit status, {"error": {"name", "message"}}, nothing written. */
static void assert_ctl_refusal(Fx *fx, const char *const *args, int status, const char *name) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GHashTable) before = NULL;
        g_autoptr(VhTestRun) run = NULL;
        json_object *j, *e;

        wait_kernel_idle(fx);
        before = vh_test_tree_snapshot(fx->root);
        vh_fake_kernel_reset(fx->kernel);
        g_ptr_array_add(argv, (char *) vh_test_env("VH_CTL"));
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, (char *) args[i]);
        g_ptr_array_add(argv, NULL);
        run = vh_test_bus_run(fx->bus, (const char *const *) argv->pdata, -1);
        vh_test_run_print(run, args[0]);
        g_assert_cmpint(run->status, ==, status);
        j = parse_json(run);
        e = jget(j, "error", json_type_object);
        g_assert_cmpstr(json_object_get_string(jget(e, "name", json_type_string)), ==, name);
        g_assert_cmpuint(strlen(json_object_get_string(jget(e, "message", json_type_string))), >, 0);
        json_object_put(j);
        assert_nothing_written(fx, before);
}

/* vfiohostctl bind --driver and unbind, in text: the variant named, its
 * node shown; a refused driver exits 1 with the daemon's reason. */
static void test_ctl_variant(void) {
        Fx *fx = fx_new("server-variant");
        const char *const not_vfio[] = { "bind", "--driver", "nvme", "--json", "3c:00.2", NULL };

        if (!fx)
                return;
        fx_start(fx, NULL);
        assert_ctl_refusal(fx, not_vfio, 1, "org.freedesktop.DBus.Error.InvalidArgs");
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "bind", "3c:00.2", "--driver", VARIANT, NULL);

                vh_test_run_print(run, "vfiohostctl bind --driver");
                g_assert_cmpint(run->status, ==, 0);
                g_assert_cmpstr(run->out, ==, CX_VF0 ": mlx5_core -> " VARIANT " (/dev/vfio/32)\n");
        }
        wait_kernel_idle(fx);
        assert_tree_driver(fx, CX_VF0, VARIANT);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "unbind", "3c:00.2", NULL);

                g_assert_cmpint(run->status, ==, 0);
                g_assert_cmpstr(run->out, ==, CX_VF0 ": " VARIANT " -> mlx5_core\n");
        }
        wait_kernel_idle(fx);
        assert_tree_driver(fx, CX_VF0, "mlx5_core");
        /* unbind takes no --driver. */
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "unbind", "3c:00.2", "--driver", VARIANT, NULL);

                g_assert_cmpint(run->status, !=, 0);
        }
        fx_free(fx);
}

static void test_ctl(void) {
        Fx *fx = fx_new("desktop-intel");
        const Expect bound[] = {
                { GPU, "nvidia", "vfio-pci", "/dev/vfio/2", "", TRUE },
                { AUDIO, "snd_hda_intel", "vfio-pci", "/dev/vfio/2", "", TRUE },
        };
        const Expect unbound[] = {
                { GPU, "vfio-pci", "nvidia", "", "", TRUE },
                { AUDIO, "vfio-pci", "snd_hda_intel", "", "", TRUE },
        };
        const char *const not_viable[] = { "bind", GPU, "--json", NULL };
        const char *const critical[] = { "bind", "--json", "0000:02:00.0", NULL };
        const char *const in_use[] = { "bind", "--force", "--json", "0000:00:02.0", NULL };
        const char *const not_found[] = { "bind", "--json", "0000:09:00.0", NULL };
        const char *const bad_address[] = { "unbind", "--json", "0000:01:00.0/../../x", NULL };

        if (!fx)
                return;
        fx_start(fx, NULL);

        assert_ctl_refusal(fx, not_viable, 1, VH_ERROR_GROUP_NOT_VIABLE);
        assert_ctl_refusal(fx, critical, 1, VH_ERROR_HOST_CRITICAL);
        assert_ctl_refusal(fx, in_use, 1, VH_ERROR_IN_USE);
        assert_ctl_refusal(fx, not_found, 3, VH_ERROR_NOT_FOUND);
        assert_ctl_refusal(fx, bad_address, 1, VH_ERROR_INVALID_ADDRESS);

        vh_fake_kernel_reset(fx->kernel);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "bind", "--group", GPU, "--json", NULL);
                json_object *j;

                vh_test_run_print(run, "vfiohostctl bind");
                g_assert_cmpint(run->status, ==, 0);
                j = parse_json(run);
                assert_json_devices(j, GPU_GROUP, bound, 2);
                json_object_put(j);
        }
        wait_kernel_idle(fx);
        assert_writes(fx, bind_gpu_group_writes);
        assert_tree_driver(fx, GPU, "vfio-pci");
        assert_tree_driver(fx, AUDIO, "vfio-pci");
        assert_journal_entry(fx, GPU, "bound", "nvidia");

        /* Again: a no-op, exit 0, changed false. */
        vh_fake_kernel_reset(fx->kernel);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "bind", "--group", "01:00.1", "--json", NULL);
                json_object *j, *devices;

                g_assert_cmpint(run->status, ==, 0);
                j = parse_json(run);
                devices = jget(j, "devices", json_type_array);
                g_assert_cmpuint(json_object_array_length(devices), ==, 2);
                for (size_t i = 0; i < 2; i++)
                        g_assert_false(json_object_get_boolean(
                                        jget(json_object_array_get_idx(devices, i), "changed", json_type_boolean)));
                json_object_put(j);
                g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        }

        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "unbind", "--group", GPU, "--json", NULL);
                json_object *j;

                vh_test_run_print(run, "vfiohostctl unbind");
                g_assert_cmpint(run->status, ==, 0);
                j = parse_json(run);
                assert_json_devices(j, GPU_GROUP, unbound, 2);
                json_object_put(j);
        }
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        fx_free(fx);
}

/* ---------- the fake kernel itself ---------- */

/* A write as the daemon does it (open with O_TRUNC, one write), then wait
 * until the fake kernel has handled it. */
static void sysfs_write(Fx *fx, const char *rel, const char *value) {
        g_autofree char *path = tree_path(fx, rel);
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, value, strlen(value)), ==, (gssize) strlen(value));
        g_assert_cmpint(close(fd), ==, 0);
        wait_kernel_idle(fx);
}

static char *tree_read(Fx *fx, const char *rel) {
        g_autofree char *path = tree_path(fx, rel);
        char *content = NULL;

        g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
        return content;
}

#define GPU_DIR "sys/bus/pci/devices/" GPU "/"

/* The semantics the daemon's tests rely on, checked without a daemon. */
static void test_fake_kernel(void) {
        Fx *fx = fx_new("desktop-intel");
        g_autofree char *uevent = NULL;

        if (!fx)
                return;

        /* driver_override: shown with a newline, "\n" clears, a 0-byte write
         * is no store, text after a newline is dropped. */
        sysfs_write(fx, GPU_DIR "driver_override", "vfio-pci");
        assert_tree_override(fx, GPU, "vfio-pci");
        sysfs_write(fx, GPU_DIR "driver_override", "");
        assert_tree_override(fx, GPU, "vfio-pci");
        sysfs_write(fx, GPU_DIR "driver_override", "\n");
        assert_tree_override(fx, GPU, "(null)");
        sysfs_write(fx, GPU_DIR "driver_override", "foo\nbar");
        assert_tree_override(fx, GPU, "foo");

        /* unbind: only by the bound driver; the file reads empty again. */
        sysfs_write(fx, "sys/bus/pci/drivers/snd_hda_intel/unbind", GPU);
        assert_tree_driver(fx, GPU, "nvidia");
        sysfs_write(fx, "sys/bus/pci/drivers/nvidia/unbind", GPU "\n");
        assert_tree_driver(fx, GPU, NULL);
        {
                g_autofree char *c = tree_read(fx, "sys/bus/pci/drivers/nvidia/unbind");
                g_assert_cmpstr(c, ==, "");
        }
        uevent = tree_read(fx, GPU_DIR "uevent");
        g_assert_null(strstr(uevent, "DRIVER="));

        /* drivers_probe with an override naming a driver that does not
         * exist: nothing binds, the write still "succeeds". */
        sysfs_write(fx, "sys/bus/pci/drivers_probe", GPU);
        assert_tree_driver(fx, GPU, NULL);
        g_assert_true(vh_fake_kernel_wait_for(fx->kernel, "! " GPU " probe: the override's driver is not loaded", 1));

        /* bind: not against the override. */
        sysfs_write(fx, "sys/bus/pci/drivers/nvidia/bind", GPU);
        assert_tree_driver(fx, GPU, NULL);

        /* Override vfio-pci, probe: vfio-pci, the group node. */
        sysfs_write(fx, GPU_DIR "driver_override", "vfio-pci");
        sysfs_write(fx, "sys/bus/pci/drivers_probe", GPU);
        assert_tree_driver(fx, GPU, "vfio-pci");
        g_assert_true(tree_exists(fx, "dev/vfio/2"));
        g_free(uevent);
        uevent = tree_read(fx, GPU_DIR "uevent");
        g_assert_true(g_str_has_prefix(uevent, "DRIVER=vfio-pci\n"));
        {
                g_autofree char *link = tree_path(fx, GPU_DIR "driver");
                g_autofree char *target = g_file_read_link(link, NULL);
                g_assert_cmpstr(target, ==, "../../../../bus/pci/drivers/vfio-pci");
        }
        {
                g_autofree char *link = tree_path(fx, "sys/bus/pci/drivers/vfio-pci/" GPU);
                g_autofree char *target = g_file_read_link(link, NULL);
                g_assert_cmpstr(target, ==, "../../../../devices/pci0000:00/0000:00:01.0/" GPU);
        }

        /* The audio function joins; the node stays until the last one leaves. */
        sysfs_write(fx, "sys/bus/pci/devices/" AUDIO "/driver_override", "vfio-pci");
        sysfs_write(fx, "sys/bus/pci/drivers/snd_hda_intel/unbind", AUDIO);
        sysfs_write(fx, "sys/bus/pci/drivers/vfio-pci/bind", AUDIO);
        assert_tree_driver(fx, AUDIO, "vfio-pci");
        sysfs_write(fx, "sys/bus/pci/drivers/vfio-pci/unbind", GPU);
        g_assert_true(tree_exists(fx, "dev/vfio/2"));
        sysfs_write(fx, "sys/bus/pci/drivers/vfio-pci/unbind", AUDIO);
        g_assert_false(tree_exists(fx, "dev/vfio/2"));

        /* Cleared override: the natural driver comes back by probe; a
         * refusing one only by an explicit bind. */
        sysfs_write(fx, GPU_DIR "driver_override", "\n");
        sysfs_write(fx, "sys/bus/pci/drivers_probe", GPU);
        assert_tree_driver(fx, GPU, "nvidia");
        vh_fake_kernel_set_probe_refuses(fx->kernel, AUDIO, TRUE);
        sysfs_write(fx, "sys/bus/pci/devices/" AUDIO "/driver_override", "\n");
        sysfs_write(fx, "sys/bus/pci/drivers_probe", AUDIO);
        assert_tree_driver(fx, AUDIO, NULL);
        sysfs_write(fx, "sys/bus/pci/drivers/snd_hda_intel/bind", AUDIO);
        assert_tree_driver(fx, AUDIO, "snd_hda_intel");

        /* A function that started driverless has no natural driver. */
        sysfs_write(fx, "sys/bus/pci/drivers_probe", SRAM);
        assert_tree_driver(fx, SRAM, NULL);

        /* All of it undone: the very tree it started from. */
        assert_tree_is(fx, fx->initial, NULL);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 21);
        fx_free(fx);
}

/* The iommufd cdev on a host that has dev/vfio/devices. */
static void test_fake_kernel_cdev(void) {
        Fx *fx = fx_new("desktop-vfio-bound");

        if (!fx)
                return;
        sysfs_write(fx, GPU_DIR "driver_override", "\n");
        sysfs_write(fx, "sys/bus/pci/drivers/vfio-pci/unbind", GPU);
        assert_tree_driver(fx, GPU, NULL);
        g_assert_false(tree_exists(fx, "dev/vfio/devices/vfio0"));
        g_assert_false(tree_exists(fx, GPU_DIR "vfio-dev"));
        g_assert_true(tree_exists(fx, "dev/vfio/2"));   /* the audio function holds it */

        sysfs_write(fx, GPU_DIR "driver_override", "vfio-pci");
        sysfs_write(fx, "sys/bus/pci/drivers_probe", GPU);
        assert_tree_driver(fx, GPU, "vfio-pci");
        g_assert_true(tree_exists(fx, "dev/vfio/devices/vfio0"));
        {
                g_autofree char *dev = tree_read(fx, GPU_DIR "vfio-dev/vfio0/dev");
                g_assert_cmpstr(dev, ==, "511:0\n");
        }
        fx_free(fx);
}

/* ---------- unbind is all-or-nothing ---------- */

/* A fault at any step of a group unbind: the functions already given back
 * return to vfio-pci, the journal keeps both as bound, and the reply says
 * so and where each function is. */
static void test_unbind_fault(gconstpointer data) {
        const FaultCase *c = data;
        const char *address = members[c->which];
        g_autofree char *faults = g_strdup_printf("%s@%s=%s#1", steps[c->step], address, c->error);
        gboolean hang = strcmp(c->error, "hang") == 0;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autofree char *name = NULL;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        fx_start(fx, NULL);
        bind_gpu_group(fx);
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);

        g_test_message("faults: %s", faults);
        fx_start(fx, faults);
        vh_fake_kernel_reset(fx->kernel);
        r = call(fx, "Unbind", GPU, options("group", NULL), &error);
        g_assert_null(r);
        name = error_name(error);
        g_test_message("%s: %s", name, error->message);
        g_assert_cmpstr(name, ==, hang ? VH_ERROR_TIMEOUT : VH_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "Every function was returned to vfio-pci."));
        g_assert_nonnull(strstr(error->message, "Now: " GPU " on vfio-pci, " AUDIO " on vfio-pci."));

        wait_kernel_idle(fx);
        assert_tree_driver(fx, GPU, "vfio-pci");
        assert_tree_driver(fx, AUDIO, "vfio-pci");
        assert_gpu_group_bound(fx);

        /* And it still unbinds (the fault fired once). */
        unbind_gpu_group(fx);
        fx_free(fx);
}

/* ---------- reconcile: only what the interrupted operation changed ---------- */

/* Rewrites one journal entry's state and transaction, as an operation
 * interrupted at that point would have left it. */
static void journal_mark(Fx *fx, const char *address, const char *state, int txn) {
        g_autofree char *path = tree_path(fx, JOURNAL);
        json_object *root = json_object_from_file(path), *devices = NULL;
        gboolean found = FALSE;

        g_assert_nonnull(root);
        g_assert_true(json_object_object_get_ex(root, "devices", &devices));
        for (size_t i = 0; i < json_object_array_length(devices); i++) {
                json_object *e = json_object_array_get_idx(devices, i);

                if (g_strcmp0(jstr(e, "address"), address) != 0)
                        continue;
                json_object_object_add(e, "state", json_object_new_string(state));
                json_object_object_add(e, "txn", json_object_new_int(txn));
                found = TRUE;
        }
        g_assert_true(found);
        json_object_object_add(root, "next_txn", json_object_new_int(10));
        g_assert_cmpint(json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY), ==, 0);
        json_object_put(root);
}

typedef struct {
        const char *name;
        const char *gpu, *audio;        /* journal states at the interruption */
        int gpu_txn, audio_txn;
        const char *gpu_after, *audio_after;    /* drivers after the restart */
} ReconcileCase;

static const ReconcileCase reconcile_cases[] = {
        /* Unbind of the GPU alone, interrupted: finished; the audio function,
         * bound by an earlier completed operation, is not touched — also
         * when the entries share a transaction (journals of version 0.1
         * kept the bind's txn on a single-function unbind). */
        { "unbind-one", "unbinding", "bound", 1, 1, "nvidia", "vfio-pci" },
        { "unbind-one-own-txn", "unbinding", "bound", 5, 1, "nvidia", "vfio-pci" },
        { "unbind-other", "bound", "unbinding", 1, 5, "vfio-pci", "snd_hda_intel" },
        /* Bind of one function (its mate bound earlier), interrupted: undone. */
        { "bind-one", "bound", "binding", 1, 1, "vfio-pci", "snd_hda_intel" },
        { "bind-one-own-txn", "bound", "binding", 1, 5, "vfio-pci", "snd_hda_intel" },
        { "bind-other", "binding", "bound", 5, 1, "nvidia", "vfio-pci" },
        /* Group operations: the whole group, one transaction. */
        { "bind-group", "binding", "binding", 5, 5, "nvidia", "snd_hda_intel" },
        { "unbind-group", "unbinding", "unbinding", 5, 5, "nvidia", "snd_hda_intel" },
        /* Two interrupted operations (on one function each). */
        { "two-operations", "binding", "unbinding", 5, 6, "nvidia", "snd_hda_intel" },
        /* Nothing unfinished: nothing written. */
        { "completed", "bound", "bound", 1, 1, "vfio-pci", "vfio-pci" },
};

static void test_reconcile_rule(gconstpointer data) {
        const ReconcileCase *c = data;
        g_auto(GStrv) writes = NULL;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        fx_start(fx, NULL);
        bind_gpu_group(fx);
        g_assert_cmpint(vh_test_bus_kill_daemon(fx->bus, SIGKILL), ==, 128 + SIGKILL);
        journal_mark(fx, GPU, c->gpu, c->gpu_txn);
        journal_mark(fx, AUDIO, c->audio, c->audio_txn);

        vh_fake_kernel_reset(fx->kernel);
        fx_start(fx, NULL);
        wait_kernel_idle(fx);
        assert_tree_driver(fx, GPU, c->gpu_after);
        assert_tree_driver(fx, AUDIO, c->audio_after);

        /* A function the interrupted operations did not touch got no write. */
        writes = vh_fake_kernel_writes(fx->kernel);
        for (size_t i = 0; writes[i]; i++) {
                g_test_message("write: %s", writes[i]);
                if (strcmp(c->gpu, "bound") == 0 && strstr(writes[i], GPU))
                        g_error("reconcile wrote to %s, which a completed operation left bound: %s", GPU, writes[i]);
                if (strcmp(c->audio, "bound") == 0 && strstr(writes[i], AUDIO))
                        g_error("reconcile wrote to %s, which a completed operation left bound: %s", AUDIO, writes[i]);
        }

        /* The journal keeps exactly the functions still bound. */
        g_assert_cmpuint(journal_count(fx), ==,
                         (strcmp(c->gpu_after, "vfio-pci") == 0) + (strcmp(c->audio_after, "vfio-pci") == 0));
        if (strcmp(c->gpu_after, "vfio-pci") == 0)
                assert_journal_entry(fx, GPU, "bound", "nvidia");
        if (strcmp(c->audio_after, "vfio-pci") == 0)
                assert_journal_entry(fx, AUDIO, "bound", "snd_hda_intel");
        assert_device(fx, GPU, c->gpu_after, strcmp(c->gpu_after, "vfio-pci") == 0 ? "nvidia" : "",
                      strcmp(c->gpu_after, "vfio-pci") == 0 ? "/dev/vfio/2" : "");
        fx_free(fx);
}

/* Writes a journal with one entry, as a stale or edited journal would. */
static void journal_write_entry(Fx *fx, const char *address, const char *state, const char *original,
                                const char *identity) {
        g_autofree char *path = tree_path(fx, JOURNAL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *text = g_strdup_printf(
                "{\"version\":1,\"next_txn\":3,\"devices\":[{\"address\":\"%s\",\"state\":\"%s\",\"txn\":2,"
                "\"original_known\":true,\"original_driver\":\"%s\",\"original_override\":null%s%s}]}",
                address, state, original, identity ? ",\"identity\":" : "", identity ? identity : "");

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* The journal's notes, as one string. */
static char *journal_notes(Fx *fx) {
        g_autofree char *path = tree_path(fx, JOURNAL);
        json_object *root = json_object_from_file(path), *notes = NULL;
        char *s;

        g_assert_nonnull(root);
        s = g_strdup(json_object_object_get_ex(root, "notes", &notes) ? json_object_to_json_string(notes) : "");
        json_object_put(root);
        return s;
}

/* A stale entry for another device at the address (a card moved), or for
 * a device the host needs (the NVMe holding /): nothing is written, the
 * action is dropped with a note, and the next start does not retry. */
static void test_reconcile_refuses(gconstpointer data) {
        gboolean critical = GPOINTER_TO_INT(data);
        /* desktop-intel's 01:00.0 is 10de:2684; its NVMe 02:00.0 backs /. */
        const char *address = critical ? "0000:02:00.0" : GPU;
        const char *identity = critical ? NULL
                                        : "{\"vendor\":\"1002\",\"device\":\"744c\",\"subsystem_vendor\":\"1002\","
                                          "\"subsystem_device\":\"0e3b\"}";
        g_autoptr(GHashTable) before = NULL;
        g_autofree char *notes = NULL;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        /* An original driver it never had: acting on it would unbind the
         * function's real driver. */
        journal_write_entry(fx, address, "unbinding", "snd_hda_intel", identity);
        before = vh_test_tree_snapshot(fx->root);
        fx_start(fx, NULL);
        wait_kernel_idle(fx);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        assert_journal_empty(fx);
        notes = journal_notes(fx);
        g_test_message("notes: %s", notes);
        g_assert_nonnull(strstr(notes, address));
        g_assert_nonnull(strstr(notes, critical ? "the host needs it" : "1002:744c"));
        g_assert_nonnull(strstr(notes, "Nothing was changed"));
        g_assert_true(daemon_log_has(fx, critical ? "the host needs it" : "a card moved"));
        assert_tree_driver(fx, address, critical ? "nvme" : "nvidia");

        /* Not retried. */
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        fx_start(fx, NULL);
        wait_kernel_idle(fx);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        g_assert_false(daemon_log_has(fx, "left alone"));
        fx_free(fx);
}

/* After a reboot: the journal says bound, the function is on its own
 * driver again and nothing is unfinished. The entry is dropped at start
 * (the daemon says so), with no write. */
static void test_reconcile_after_reboot(void) {
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        journal_write_entry(fx, GPU, "bound", "nvidia", NULL);
        fx_start(fx, NULL);
        wait_kernel_idle(fx);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        assert_journal_empty(fx);
        g_assert_true(daemon_log_has(fx, GPU " is no longer on vfio-pci (now nvidia); dropping its journal entry."));
        assert_tree_driver(fx, GPU, "nvidia");
        assert_device(fx, GPU, "nvidia", "", "");
        fx_free(fx);
}

/* Reconcile runs after the name is taken and off the loop: a restore that
 * hangs does not delay activation; reads are answered, Bind/Unbind on the
 * group under reconcile get Busy, and Reconciling says so. */
static void test_reconcile_async(void) {
        g_autofree char *timeout = g_strdup_printf("%d", (int) ceil(scaled(4)));
        const char *args[] = { "--write-timeout", timeout, NULL };
        const char *env[] = { "VFIOHOST_TEST_FAULTS=driver_override@" GPU "=hang", NULL };
        g_autofree char *message = NULL;
        gint64 t0;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        fx_start(fx, NULL);
        bind_gpu_group(fx);
        g_assert_cmpint(vh_test_bus_kill_daemon(fx->bus, SIGKILL), ==, 128 + SIGKILL);
        journal_mark(fx, GPU, "binding", 5);
        journal_mark(fx, AUDIO, "binding", 5);

        fx->bus->no_wait_reconciled = TRUE;
        fx->log_mark = file_size(fx->bus->log_path);
        t0 = g_get_monotonic_time();
        vh_test_bus_start_daemon_full(fx->bus, fx->root, args, env);
        g_test_message("name owned %.3f s after the start", (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        g_assert_true(vh_test_bus_reconciling(fx->bus));
        wait_daemon_hanging(fx);
        assert_answers_quickly(fx);
        assert_call_error(fx, "Bind", GPU, options("group", NULL), "Busy", &message);
        g_assert_nonnull(strstr(message, "earlier run left unfinished"));
        assert_call_error(fx, "Unbind", AUDIO, options(NULL), "Busy", NULL);
        g_assert_true(vh_test_bus_reconciling(fx->bus));

        /* The hanging restore times out; the entry stays for the next start. */
        g_assert_true(vh_test_bus_wait_reconciled(fx->bus, scaled(30)));
        g_assert_cmpuint(journal_count(fx), >=, 1);
        assert_journal_entry(fx, GPU, "binding", "nvidia");
        g_assert_true(daemon_log_has(fx, "Reconcile finished"));
        fx_free(fx);
}

/* The bus goes away while a write hangs: the daemon waits for the
 * operation (each write is bounded), which rolls back, then exits — it
 * never frees what the worker still uses, and the host is left whole. */
static void test_exit_waits(void) {
        Fx *fx = fx_new("desktop-intel");
        Pending *p;
        int status;

        if (!fx)
                return;
        fx_start(fx, "unbind@" GPU "=hang#1");
        vh_fake_kernel_reset(fx->kernel);
        p = call_async(fx, "Bind", GPU, options("group", NULL));
        wait_daemon_hanging(fx);
        wait_kernel_idle(fx);
        assert_journal_entry(fx, GPU, "binding", "nvidia");

        kill(fx->bus->bus_pid, SIGKILL);
        status = -1;
        for (gint64 deadline = g_get_monotonic_time() + (gint64) (scaled(30) * G_USEC_PER_SEC);;) {
                int ws;

                if (waitpid(fx->bus->daemon_pid, &ws, WNOHANG) == fx->bus->daemon_pid) {
                        g_assert_true(WIFEXITED(ws));
                        status = WEXITSTATUS(ws);
                        break;
                }
                if (g_get_monotonic_time() > deadline)
                        g_error("the daemon did not exit after the bus went away");
                g_usleep(10000);
        }
        fx->bus->daemon_pid = 0;
        g_test_message("daemon exit status after the bus went away: %d", status);

        /* The operation finished its rollback before the exit. */
        wait_kernel_idle(fx);
        assert_tree_initial(fx);
        assert_journal_empty(fx);
        g_assert_true(daemon_log_has(fx, "Waiting for the running operations"));
        pending_lost(p);
        fx_free(fx);
}

/* ---------- the holder scan runs off the loop ---------- */

/* A process with 100,000 descriptors makes the holder scan (every fd of
 * every process) take a while; a dry run that needs it must not stall other
 * callers meanwhile. Self-calibrating: the read-only call must take a small
 * part of what the dry run took. */
static void test_holder_scan_off_loop(void) {
        g_autofree char *fd_dir = NULL, *comm = NULL;
        gint64 t0, t_get;
        double dry_s, get_s;
        Pending *p;
        Fx *fx = fx_new("desktop-intel");

        if (!fx)
                return;
        fd_dir = tree_path(fx, "proc/77777/fd");
        comm = tree_path(fx, "proc/77777/comm");
        g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(comm, "bigfds\n", -1, NULL));
        {
                int dfd = open(fd_dir, O_DIRECTORY | O_CLOEXEC);

                g_assert_cmpint(dfd, >=, 0);
                for (unsigned i = 0; i < 100000; i++) {
                        char name[16];

                        snprintf(name, sizeof(name), "%u", i);
                        g_assert_cmpint(symlinkat("/dev/null", dfd, name), ==, 0);
                }
                close(dfd);
        }
        fx_start(fx, NULL);

        t0 = g_get_monotonic_time();
        p = call_async(fx, "Bind", GPU, options("group", "dry-run", NULL));
        /* Let the call reach the daemon before the read-only one. */
        g_usleep(20000);
        t_get = g_get_monotonic_time();
        assert_answers_quickly(fx);
        get_s = (double) (g_get_monotonic_time() - t_get) / G_USEC_PER_SEC;
        pending_wait(p);
        dry_s = (double) (p->finished - t0) / G_USEC_PER_SEC;
        g_assert_no_error(p->error);
        g_test_message("dry run with the holder scan: %.3f s; GetDevice + Get meanwhile: %.3f s", dry_s, get_s);
        if (dry_s < 0.2)
                g_test_message("the scan was too fast here to tell; only the answers were checked");
        else
                g_assert_cmpfloat(get_s, <, dry_s / 3);
        pending_free(p);
        fx_free(fx);
}

/* ---------- registration ---------- */

static FaultCase fault_cases[2 * G_N_ELEMENTS(steps) * G_N_ELEMENTS(step_errors)];
static FaultCase unbind_fault_cases[2 * G_N_ELEMENTS(steps)];
static KillCase kill_cases[2 * 2 * G_N_ELEMENTS(steps)];

static const FaultCase persistent_cases[] = {
        { 0, 2, "hang" },               /* drivers_probe of the GPU hangs, in the rollback too */
        { 0, 2, "EBUSY" },
        { 1, 2, "ENODEV" },             /* drivers_probe of the audio function fails twice */
};

int main(int argc, char *argv[]) {
        size_t n = 0;

        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/bind/fake-kernel/semantics", test_fake_kernel);
        g_test_add_func("/bind/fake-kernel/cdev", test_fake_kernel_cdev);
        g_test_add_func("/bind/group-bind-unbind", test_group_bind_unbind);
        g_test_add_func("/bind/variant/bind-unbind", test_variant_bind_unbind);
        g_test_add_func("/bind/variant/move", test_variant_move);
        g_test_add_func("/bind/variant/refusals", test_variant_refusals);
        g_test_add_func("/bind/noop/bind", test_noop_bind);
        g_test_add_func("/bind/noop/unbind", test_noop_unbind);
        g_test_add_func("/bind/driverless", test_driverless);
        g_test_add_func("/bind/probe-refuses", test_probe_refuses);
        g_test_add_func("/bind/vfio-refuses", test_vfio_refuses);

        for (unsigned which = 0; which < 2; which++)
                for (unsigned step = 0; step < G_N_ELEMENTS(steps); step++)
                        for (size_t e = 0; e < G_N_ELEMENTS(step_errors); e++) {
                                g_autofree char *path = g_strdup_printf("/bind/fault/%s/%s/%s",
                                                                        which ? "second" : "first", steps[step],
                                                                        step_errors[e]);
                                fault_cases[n] = (FaultCase) { which, step, step_errors[e] };
                                g_test_add_data_func(path, &fault_cases[n++], test_fault);
                        }
        for (size_t i = 0; i < G_N_ELEMENTS(persistent_cases); i++) {
                const FaultCase *c = &persistent_cases[i];
                g_autofree char *path = g_strdup_printf("/bind/rollback-fails/%s/%s/%s", c->which ? "second" : "first",
                                                        steps[c->step], c->error);
                g_test_add_data_func(path, c, test_fault_persistent);
        }

        n = 0;
        for (unsigned unbind = 0; unbind < 2; unbind++)
                for (unsigned which = 0; which < 2; which++)
                        for (unsigned step = 0; step < G_N_ELEMENTS(steps); step++) {
                                g_autofree char *path = g_strdup_printf("/bind/kill/%s/before-%s-%s",
                                                                        unbind ? "unbind" : "bind", steps[step],
                                                                        which ? "second" : "first");
                                kill_cases[n] = (KillCase) { unbind, which, step };
                                g_test_add_data_func(path, &kill_cases[n++], test_kill);
                        }
        g_test_add_func("/bind/kill/after-bind", test_kill_after_bind);

        n = 0;
        for (unsigned which = 0; which < 2; which++)
                for (unsigned step = 0; step < G_N_ELEMENTS(steps); step++) {
                        /* hang where the host driver's probe waits (drivers_probe), EIO elsewhere */
                        const char *error = step == 2 ? "hang" : "EIO";
                        g_autofree char *path = g_strdup_printf("/bind/unbind-fault/%s/%s/%s",
                                                                which ? "second" : "first", steps[step], error);
                        unbind_fault_cases[n] = (FaultCase) { which, step, error };
                        g_test_add_data_func(path, &unbind_fault_cases[n++], test_unbind_fault);
                }
        for (size_t i = 0; i < G_N_ELEMENTS(reconcile_cases); i++) {
                g_autofree char *path = g_strdup_printf("/bind/reconcile/%s", reconcile_cases[i].name);
                g_test_add_data_func(path, &reconcile_cases[i], test_reconcile_rule);
        }
        g_test_add_data_func("/bind/reconcile/identity-mismatch", GINT_TO_POINTER(FALSE), test_reconcile_refuses);
        g_test_add_data_func("/bind/reconcile/host-critical", GINT_TO_POINTER(TRUE), test_reconcile_refuses);
        g_test_add_func("/bind/reconcile/after-reboot", test_reconcile_after_reboot);
        g_test_add_func("/bind/reconcile/async", test_reconcile_async);
        g_test_add_func("/bind/exit-waits", test_exit_waits);
        g_test_add_func("/bind/holder-scan-off-loop", test_holder_scan_off_loop);

        g_test_add_func("/bind/refusals/desktop", test_refusals_desktop);
        g_test_add_func("/bind/refusals/options", test_invalid_options);
        g_test_add_func("/bind/refusals/server", test_refusals_server);
        g_test_add_func("/bind/refusals/vfio-bound", test_refusals_vfio_bound);
        g_test_add_func("/bind/refusals/no-iommu", test_refusals_no_iommu);
        g_test_add_func("/bind/refusals/amd", test_refusals_amd);
        g_test_add_func("/bind/force", test_force);
        g_test_add_func("/bind/dry-run", test_dry_run);
        g_test_add_func("/bind/concurrent/slow", test_concurrent_slow);
        g_test_add_func("/bind/concurrent/hang", test_concurrent_hang);
        g_test_add_func("/bind/sriov", test_sriov);
        g_test_add_func("/bind/sriov/pf", test_sriov_pf);
        g_test_add_func("/bind/ctl", test_ctl);
        g_test_add_func("/bind/ctl/variant", test_ctl_variant);

        return g_test_run();
}
