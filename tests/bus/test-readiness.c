/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readiness over D-Bus and through vfiohostctl: Manager1.GetReadiness on the
 * fixture hosts (verdict, at least 20 entries, each with the seven string
 * keys), the "device" option and its errors, the Readiness property as the
 * verdict of the latest report (PropertiesChanged when it flips, also after
 * a device report), `vfiohostctl check` as JSON and as text with its exit
 * codes, and, read-only, this machine's own /proc and /sys.
 *
 * The real-machine test starts the daemon with --root / --read-only itself
 * (the harness starts daemons on test trees only) and calls nothing but
 * GetReadiness and property reads. What it expects is derived from the
 * machine's own files, read here: a VM guest without vmx/svm, IOMMU groups
 * and VFIO (the CI machine) must be NOT READY with exactly those failures. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-ctl.h"
#include "vh-test-polkit.h"

#define DBUS_ERROR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

static const char *const string_keys[] = { "id", "category", "result", "summary", "detail", "remedy", "source" };

/* ---------- a report as the bus gives it ---------- */

typedef struct {
        char *id, *category, *result, *summary, *detail, *remedy, *source;
} Check;

typedef struct {
        char *verdict;
        GPtrArray *checks;              /* Check */
} Report;

static void check_free(gpointer p) {
        Check *c = p;

        g_free(c->id);
        g_free(c->category);
        g_free(c->result);
        g_free(c->summary);
        g_free(c->detail);
        g_free(c->remedy);
        g_free(c->source);
        g_free(c);
}

static void report_free(Report *r) {
        if (!r)
                return;
        g_free(r->verdict);
        g_ptr_array_unref(r->checks);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Report, report_free)

static const Check *report_find(const Report *r, const char *id) {
        for (guint i = 0; i < r->checks->len; i++) {
                const Check *c = r->checks->pdata[i];
                if (g_str_equal(c->id, id))
                        return c;
        }
        return NULL;
}

static void report_dump(const Report *r) {
        g_test_message("verdict %s, %u checks", r->verdict, r->checks->len);
        for (guint i = 0; i < r->checks->len; i++) {
                const Check *c = r->checks->pdata[i];
                g_test_message("  %-28s %-4s %s | remedy: %s | source: %s", c->id, c->result, c->summary, c->remedy,
                               c->source);
        }
}

/* The rules every report keeps, however it arrived. */
static void report_assert_valid(const Report *r) {
        gboolean any_fail = FALSE;
        g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);

        if (!g_str_equal(r->verdict, "ready") && !g_str_equal(r->verdict, "not-ready"))
                g_error("verdict '%s'", r->verdict);
        if (r->checks->len < 20) {
                report_dump(r);
                g_error("%u checks, expected at least 20", r->checks->len);
        }
        for (guint i = 0; i < r->checks->len; i++) {
                const Check *c = r->checks->pdata[i];

                g_assert_cmpstr(c->id, !=, "");
                g_assert_cmpstr(c->category, !=, "");
                g_assert_cmpstr(c->summary, !=, "");
                g_assert_true(c->source[0] == '/');
                if (!g_hash_table_add(ids, c->id))
                        g_error("check %s twice", c->id);
                if (!g_str_equal(c->result, "pass") && !g_str_equal(c->result, "fail") &&
                    !g_str_equal(c->result, "warn") && !g_str_equal(c->result, "info") &&
                    !g_str_equal(c->result, "risk"))
                        g_error("%s: result '%s'", c->id, c->result);
                if ((g_str_equal(c->result, "fail") || g_str_equal(c->result, "warn") ||
                     g_str_equal(c->result, "risk")) && !*c->remedy) {
                        report_dump(r);
                        g_error("%s is %s without a remedy", c->id, c->result);
                }
                any_fail = any_fail || g_str_equal(c->result, "fail");
        }
        if (g_str_equal(r->verdict, "ready") == any_fail) {
                report_dump(r);
                g_error("verdict %s disagrees with the checks", r->verdict);
        }
}

/* The failed ids, space-separated, in report order. */
static char *report_failed(const Report *r) {
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < r->checks->len; i++) {
                const Check *c = r->checks->pdata[i];
                if (g_str_equal(c->result, "fail"))
                        g_string_append_printf(s, "%s%s", s->len ? " " : "", c->id);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* (s aa{sv}) → Report; every entry must have exactly the seven keys, each
 * a string. */
static Report *report_from_variant(GVariant *reply) {
        g_autoptr(GVariantIter) it = NULL;
        GVariant *entry;
        const char *verdict;
        Report *r = g_new0(Report, 1);

        r->checks = g_ptr_array_new_with_free_func(check_free);
        g_variant_get(reply, "(&saa{sv})", &verdict, &it);
        r->verdict = g_strdup(verdict);
        while ((entry = g_variant_iter_next_value(it))) {
                Check *c = g_new0(Check, 1);
                char **fields[] = { &c->id, &c->category, &c->result, &c->summary, &c->detail, &c->remedy,
                                    &c->source };

                g_assert_cmpuint(g_variant_n_children(entry), ==, G_N_ELEMENTS(string_keys));
                for (size_t k = 0; k < G_N_ELEMENTS(string_keys); k++) {
                        g_autoptr(GVariant) v = g_variant_lookup_value(entry, string_keys[k], NULL);

                        if (!v)
                                g_error("entry %u has no key %s", r->checks->len, string_keys[k]);
                        if (!g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
                                g_error("entry %u: %s is %s, not s", r->checks->len, string_keys[k],
                                        g_variant_get_type_string(v));
                        *fields[k] = g_variant_dup_string(v, NULL);
                }
                g_ptr_array_add(r->checks, c);
                g_variant_unref(entry);
        }
        report_assert_valid(r);
        return r;
}

static GVariant *options_device(const char *device) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (device)
                g_variant_builder_add(&b, "{sv}", "device", g_variant_new_string(device));
        return g_variant_new("(@a{sv})", g_variant_builder_end(&b));
}

static Report *get_readiness(VhTestBus *bus, const char *device) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = vh_test_bus_call(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                                                     options_device(device), "(saa{sv})", &error);

        g_assert_no_error(error);
        return report_from_variant(reply);
}

/* Calls GetReadiness with options and asserts the D-Bus error name. */
static void assert_readiness_error(VhTestBus *bus, GVariant *options, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = vh_test_bus_call(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                                                     options, "(saa{sv})", &error);
        g_autofree char *remote = NULL;

        g_assert_null(reply);
        g_assert_nonnull(error);
        remote = g_dbus_error_get_remote_error(error);
        if (g_strcmp0(remote, name) != 0)
                g_error("GetReadiness: error %s (%s), expected %s", remote, error->message, name);
}

static char *readiness_property(VhTestBus *bus) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) v = vh_test_bus_get_property(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Readiness",
                                                         &error);

        g_assert_no_error(error);
        g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE_STRING));
        return g_variant_dup_string(v, NULL);
}

/* ---------- JSON from vfiohostctl ---------- */

static const char *jstr(json_object *o, const char *key) {
        return json_object_get_string(vh_test_json_get(o, key, json_type_string));
}

/* {"verdict": ..., "checks": [{7 string keys}]} → Report. */
static Report *report_from_json(const VhTestRun *run, const char *what) {
        json_object *j = vh_test_run_json(run, what);
        json_object *checks = NULL;
        Report *r = g_new0(Report, 1);

        g_assert_true(json_object_is_type(j, json_type_object));
        g_assert_cmpint(json_object_object_length(j), ==, 2);
        r->verdict = g_strdup(jstr(j, "verdict"));
        r->checks = g_ptr_array_new_with_free_func(check_free);
        g_assert_true(json_object_object_get_ex(j, "checks", &checks));
        g_assert_true(json_object_is_type(checks, json_type_array));
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *e = json_object_array_get_idx(checks, i);
                Check *c = g_new0(Check, 1);

                g_assert_true(json_object_is_type(e, json_type_object));
                g_assert_cmpint(json_object_object_length(e), ==, (int) G_N_ELEMENTS(string_keys));
                c->id = g_strdup(jstr(e, "id"));
                c->category = g_strdup(jstr(e, "category"));
                c->result = g_strdup(jstr(e, "result"));
                c->summary = g_strdup(jstr(e, "summary"));
                c->detail = g_strdup(jstr(e, "detail"));
                c->remedy = g_strdup(jstr(e, "remedy"));
                c->source = g_strdup(jstr(e, "source"));
                g_ptr_array_add(r->checks, c);
        }
        json_object_put(j);
        report_assert_valid(r);
        return r;
}

/* The last non-empty line of text. */
static char *last_line(const char *text) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (int i = (int) g_strv_length(lines) - 1; i >= 0; i--)
                if (*lines[i])
                        return g_strdup(lines[i]);
        return g_strdup("");
}

static void assert_same_ids(const Report *a, const Report *b) {
        g_assert_cmpstr(a->verdict, ==, b->verdict);
        g_assert_cmpuint(a->checks->len, ==, b->checks->len);
        for (guint i = 0; i < a->checks->len; i++) {
                const Check *x = a->checks->pdata[i], *y = b->checks->pdata[i];
                g_assert_cmpstr(x->id, ==, y->id);
                g_assert_cmpstr(x->result, ==, y->result);
        }
}

/* ---------- fixture: a bus, a host, the daemon ---------- */

typedef struct {
        VhTestBus *bus;
        char *root;
        GPtrArray *changes;             /* values of Readiness in PropertiesChanged, in order */
        guint subscription;
} Fixture;

static void on_properties_changed(GDBusConnection *conn, const char *sender, const char *path,
                                  const char *interface, const char *signal, GVariant *params, gpointer data) {
        Fixture *fx = data;
        g_autoptr(GVariant) changed = NULL;
        g_autofree const char **invalidated = NULL;
        const char *iface;
        const char *value;

        if (!g_str_equal(path, VH_MANAGER_PATH))
                return;
        g_variant_get(params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
        if (!g_str_equal(iface, VH_MANAGER_INTERFACE))
                return;
        if (g_variant_lookup(changed, "Readiness", "&s", &value))
                g_ptr_array_add(fx->changes, g_strdup(value));
        for (size_t i = 0; invalidated && invalidated[i]; i++)
                if (g_str_equal(invalidated[i], "Readiness"))
                        g_ptr_array_add(fx->changes, g_strdup("(invalidated)"));
}

static void start(Fixture *fx, const char *host, gboolean copy) {
        if (!vh_test_bus_requirements())
                return;
        fx->bus = vh_test_bus_new();
        fx->root = copy ? vh_test_bus_copy_host(fx->bus, host) : vh_test_bus_shared_host(fx->bus, host);
        if (!fx->root)
                return;
        fx->changes = g_ptr_array_new_with_free_func(g_free);
        fx->subscription = g_dbus_connection_signal_subscribe(
                        vh_test_bus_connection(fx->bus), NULL, "org.freedesktop.DBus.Properties",
                        "PropertiesChanged", VH_MANAGER_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                        on_properties_changed, fx, NULL);
        vh_test_bus_start_daemon(fx->bus, fx->root);
}

static void setup_shared(Fixture *fx, gconstpointer data) {
        start(fx, data, FALSE);
}

static void setup_copy(Fixture *fx, gconstpointer data) {
        start(fx, data, TRUE);
}

static void teardown(Fixture *fx, gconstpointer data) {
        if (fx->subscription)
                g_dbus_connection_signal_unsubscribe(vh_test_bus_connection(fx->bus), fx->subscription);
        if (fx->changes)
                g_ptr_array_unref(fx->changes);
        g_free(fx->root);
        vh_test_bus_free(fx->bus);
}

#define SKIP_IF_NO_HOST(fx) do { if (!(fx)->root) return; } while (0)

static double scaled(double s) {
        return s * vh_test_timeout_multiplier();
}

static void pump(void) {
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* Waits until the n-th Readiness change arrived and returns it. */
static const char *wait_change(Fixture *fx, guint n) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (scaled(5) * G_USEC_PER_SEC);

        for (;;) {
                pump();
                if (fx->changes->len >= n)
                        return fx->changes->pdata[n - 1];
                if (g_get_monotonic_time() > deadline)
                        g_error("no PropertiesChanged for Readiness (#%u)", n);
                g_usleep(2000);
        }
}

/* No further change arrives (after a round trip through the daemon, which
 * sends signals before replies). */
static void assert_no_more_changes(Fixture *fx, guint n) {
        g_autofree char *p = readiness_property(fx->bus);

        pump();
        g_usleep(50000);
        pump();
        if (fx->changes->len != n)
                g_error("%u Readiness changes, expected %u (last %s)", fx->changes->len, n,
                        (char *) fx->changes->pdata[fx->changes->len - 1]);
}

/* ---------- GetReadiness on fixture hosts ---------- */

typedef struct {
        const char *host;
        const char *verdict;
        const char *failed;             /* failed ids, in report order */
} HostCase;

static const HostCase host_cases[] = {
        { "desktop-intel", "ready", "" },
        { "desktop-vfio-bound", "ready", "" },
        { "server-sriov", "ready", "" },
        { "amd-desktop", "ready", "" },
        { "acs-override", "ready", "" },
        { "desktop-vmd", "ready", "" },
        { "no-iommu", "not-ready", "iommu.kernel vfio.modules kernel.config-required" },
        { "vm-guest", "not-ready", "cpu.virtualization kvm.device iommu.kernel vfio.modules kernel.config-required" },
        /* an AMD vCPU with QEMU's Intel IOMMU: judged by the IOMMU */
        { "vm-guest-amd-cpu-intel-viommu", "ready", "" },
        { "vm-guest-amd-cpu-intel-viommu-off", "not-ready", "iommu.kernel iommu.cmdline" },
};

static const HostCase *host_case(const char *host) {
        for (size_t i = 0; i < G_N_ELEMENTS(host_cases); i++)
                if (g_str_equal(host_cases[i].host, host))
                        return &host_cases[i];
        g_assert_not_reached();
}

static void test_get_readiness(Fixture *fx, gconstpointer data) {
        const HostCase *hc = host_case(data);
        g_autoptr(Report) r = NULL;
        g_autofree char *failed = NULL, *prop = NULL;

        SKIP_IF_NO_HOST(fx);
        /* the report the daemon ran at start already set the property */
        prop = readiness_property(fx->bus);
        g_assert_cmpstr(prop, ==, hc->verdict);

        r = get_readiness(fx->bus, NULL);
        g_assert_cmpstr(r->verdict, ==, hc->verdict);
        failed = report_failed(r);
        g_assert_cmpstr(failed, ==, hc->failed);
        for (guint i = 0; i < r->checks->len; i++)
                g_assert_cmpstr(((Check *) r->checks->pdata[i])->category, !=, "device");
        g_clear_pointer(&prop, g_free);
        prop = readiness_property(fx->bus);
        g_assert_cmpstr(prop, ==, r->verdict);

        if (g_str_equal(hc->host, "amd-desktop"))
                g_assert_cmpstr(report_find(r, "iommu.cmdline")->result, ==, "pass");
        if (g_str_equal(hc->host, "acs-override")) {
                g_assert_cmpstr(report_find(r, "iommu.acs-override")->result, ==, "risk");
                g_assert_cmpstr(report_find(r, "security.mitigations")->result, ==, "risk");
        }
        if (g_str_equal(hc->host, "vm-guest")) {
                g_assert_nonnull(strstr(report_find(r, "iommu.kernel")->remedy, "virtual IOMMU"));
                g_assert_nonnull(strstr(report_find(r, "cpu.virtualization")->remedy, "nested"));
                g_assert_nonnull(strstr(report_find(r, "vfio.modules")->remedy, "CONFIG_VFIO"));
        }
        if (g_str_equal(hc->host, "vm-guest-amd-cpu-intel-viommu"))
                g_assert_cmpstr(report_find(r, "iommu.cmdline")->summary, ==,
                                "intel_iommu=on is on the kernel command line");
        if (g_str_equal(hc->host, "vm-guest-amd-cpu-intel-viommu-off")) {
                const Check *cmdline = report_find(r, "iommu.cmdline"), *kernel = report_find(r, "iommu.kernel");

                g_assert_cmpstr(cmdline->summary, ==, "The kernel command line turns the IOMMU off (intel_iommu=off)");
                g_assert_nonnull(strstr(kernel->remedy, "intel_iommu=on"));
                g_assert_null(strstr(kernel->remedy, "virtual IOMMU"));
                g_assert_null(strstr(kernel->remedy, "amd_iommu"));
                g_assert_null(strstr(kernel->remedy, "amd-iommu"));
        }
}

/* The "device" option: the function's checks follow the host's; errors for
 * bad addresses, unknown functions, unknown options and wrong types. */
static void test_device_option(Fixture *fx, gconstpointer data) {
        g_autoptr(Report) host = NULL, dev = NULL, upper = NULL;
        guint n_device = 0;

        SKIP_IF_NO_HOST(fx);
        host = get_readiness(fx->bus, NULL);
        dev = get_readiness(fx->bus, "0000:01:00.0");
        g_assert_cmpuint(dev->checks->len, >, host->checks->len);
        for (guint i = 0; i < dev->checks->len; i++) {
                const Check *c = dev->checks->pdata[i];

                if (i < host->checks->len) {
                        g_assert_cmpstr(c->id, ==, ((Check *) host->checks->pdata[i])->id);
                        continue;
                }
                g_assert_cmpstr(c->category, ==, "device");
                g_assert_true(g_str_has_prefix(c->id, "device."));
                g_assert_nonnull(strstr(c->source, "0000:01:00.0"));
                n_device++;
        }
        g_assert_cmpuint(n_device, >=, 4);
        g_assert_cmpstr(report_find(dev, "device.group-isolation")->result, ==, "warn");
        g_assert_cmpstr(report_find(dev, "device.reset")->result, ==, "warn");
        g_assert_cmpstr(dev->verdict, ==, "ready");

        /* addresses are case-insensitive */
        upper = get_readiness(fx->bus, "0000:00:1F.3");
        g_assert_nonnull(report_find(upper, "device.group-viability"));

        assert_readiness_error(fx->bus, options_device("01:00.0"), VH_ERROR_INVALID_ADDRESS);
        assert_readiness_error(fx->bus, options_device("0000:01:00.8"), VH_ERROR_INVALID_ADDRESS);
        assert_readiness_error(fx->bus, options_device(""), VH_ERROR_INVALID_ADDRESS);
        assert_readiness_error(fx->bus, options_device("../../../etc"), VH_ERROR_INVALID_ADDRESS);
        assert_readiness_error(fx->bus, options_device("0000:09:00.0"), VH_ERROR_NOT_FOUND);
        {
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "verbose", g_variant_new_boolean(TRUE));
                assert_readiness_error(fx->bus, g_variant_new("(@a{sv})", g_variant_builder_end(&b)),
                                       DBUS_ERROR_INVALID_ARGS);
        }
        {
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "device", g_variant_new_uint32(1));
                assert_readiness_error(fx->bus, g_variant_new("(@a{sv})", g_variant_builder_end(&b)),
                                       DBUS_ERROR_INVALID_ARGS);
        }
        /* the daemon still answers */
        {
                g_autoptr(Report) again = get_readiness(fx->bus, NULL);
                assert_same_ids(host, again);
        }
}

/* The property is host-wide state: the verdict of the host checks only. A
 * report for a device that fails while the host passes must not move it,
 * whoever asks — least of all an unprivileged user, who could otherwise
 * set every client's "Readiness" to not-ready. The host's own report, run
 * again, keeps it as it is. */
static void test_property_host_only(Fixture *fx, gconstpointer data) {
        int nobody = vh_test_user_uid("nobody");
        g_autofree char *p0 = NULL, *p1 = NULL, *p2 = NULL;

        SKIP_IF_NO_HOST(fx);
        p0 = readiness_property(fx->bus);
        g_assert_cmpstr(p0, ==, "ready");
        {
                g_autoptr(Report) r = get_readiness(fx->bus, NULL);
                g_assert_cmpstr(r->verdict, ==, "ready");
        }
        assert_no_more_changes(fx, 0);

        {
                /* the chipset group: device.group-viability fails */
                g_autoptr(Report) r = get_readiness(fx->bus, "0000:00:1f.3");
                g_assert_cmpstr(r->verdict, ==, "not-ready");
                g_assert_cmpstr(report_find(r, "device.group-viability")->result, ==, "fail");
        }
        assert_no_more_changes(fx, 0);
        p1 = readiness_property(fx->bus);
        g_assert_cmpstr(p1, ==, "ready");

        /* The same from an unprivileged caller. */
        if (nobody > 0) {
                const char *const args[] = { "{'device': <'0000:00:1f.3'>}", NULL };
                g_autoptr(VhTestClient) c = vh_test_client_spawn_args(fx->bus, nobody, FALSE, "GetReadiness", args);

                vh_test_client_wait(c, scaled(30));
                g_assert_cmpint(c->status, ==, 0);
                g_assert_true(g_str_has_prefix(c->out, "('not-ready',"));
                assert_no_more_changes(fx, 0);
                p2 = readiness_property(fx->bus);
                g_assert_cmpstr(p2, ==, "ready");
        } else
                g_test_message("no user nobody: the unprivileged caller is not tried");

        /* an error is no report: the property stays */
        assert_readiness_error(fx->bus, options_device("0000:09:00.0"), VH_ERROR_NOT_FOUND);
        assert_no_more_changes(fx, 0);
}

/* GetReadiness judges the host as it is now: a change on the host between
 * two calls shows, and flips the property. */
static void test_host_changes(Fixture *fx, gconstpointer data) {
        g_autofree char *kvm = NULL, *p = NULL;

        SKIP_IF_NO_HOST(fx);
        g_assert_true(vh_test_is_temp_dir(fx->root));
        {
                g_autoptr(Report) r = get_readiness(fx->bus, NULL);
                g_assert_cmpstr(r->verdict, ==, "ready");
        }
        /* without /dev/kvm no VM runs: the one failed check */
        kvm = g_build_filename(fx->root, "dev", "kvm", NULL);
        g_assert_cmpint(unlink(kvm), ==, 0);
        {
                g_autoptr(Report) r = get_readiness(fx->bus, NULL);
                g_autofree char *failed = report_failed(r);
                g_assert_cmpstr(r->verdict, ==, "not-ready");
                g_assert_cmpstr(failed, ==, "kvm.device");
        }
        g_assert_cmpstr(wait_change(fx, 1), ==, "not-ready");
        p = readiness_property(fx->bus);
        g_assert_cmpstr(p, ==, "not-ready");
}

/* ---------- vfiohostctl check ---------- */

static void test_ctl_json(Fixture *fx, gconstpointer data) {
        const HostCase *hc = host_case(data);
        gboolean ready = g_str_equal(hc->verdict, "ready");
        g_autoptr(Report) bus_report = NULL, json = NULL, json2 = NULL;
        g_autofree char *failed = NULL;

        SKIP_IF_NO_HOST(fx);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "check", "--json", NULL);
                vh_test_run_assert_status(run, "vfiohostctl check --json", ready ? 0 : 1);
                json = report_from_json(run, "vfiohostctl check --json");
        }
        {
                /* the global option before the verb: the same */
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "check", NULL);
                vh_test_run_assert_status(run, "vfiohostctl --json check", ready ? 0 : 1);
                json2 = report_from_json(run, "vfiohostctl --json check");
        }
        g_assert_cmpstr(json->verdict, ==, hc->verdict);
        failed = report_failed(json);
        g_assert_cmpstr(failed, ==, hc->failed);
        bus_report = get_readiness(fx->bus, NULL);
        assert_same_ids(bus_report, json);
        assert_same_ids(json, json2);
        /* the same strings as on the bus */
        for (guint i = 0; i < json->checks->len; i++) {
                const Check *a = json->checks->pdata[i], *b = bus_report->checks->pdata[i];
                g_assert_cmpstr(a->category, ==, b->category);
                g_assert_cmpstr(a->summary, ==, b->summary);
                g_assert_cmpstr(a->detail, ==, b->detail);
                g_assert_cmpstr(a->remedy, ==, b->remedy);
                g_assert_cmpstr(a->source, ==, b->source);
        }
        if (!ready) {
                /* every failure the host case names, each with its remedy */
                g_auto(GStrv) must_fail = g_strsplit(hc->failed, " ", -1);
                g_assert_nonnull(strstr(hc->failed, "iommu.kernel"));
                for (size_t i = 0; must_fail[i]; i++) {
                        const Check *c = report_find(json, must_fail[i]);
                        g_assert_nonnull(c);
                        g_assert_cmpstr(c->result, ==, "fail");
                        g_assert_cmpstr(c->remedy, !=, "");
                }
        }
        if (g_str_equal(hc->host, "vm-guest")) {
                const Check *c = report_find(json, "cpu.virtualization");
                g_assert_cmpstr(c->result, ==, "fail");
                g_assert_cmpstr(c->remedy, !=, "");
        }
}

/* Check ids in the text (issue 13): every check that did not pass shows
 * its id, a passing one only when another check refers to it, and every
 * "see ID" in the text leads to an id shown. */
static void assert_ids_shown(Fixture *fx, const char *out) {
        g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "check", NULL);
        g_autoptr(Report) r = report_from_json(run, "vfiohostctl --json check");
        g_autoptr(GRegex) see = g_regex_new("see ([a-z]+\\.[a-z0-9.-]*[a-z0-9])", 0, 0, NULL);
        g_autoptr(GMatchInfo) m = NULL;

        for (size_t i = 0; i < r->checks->len; i++) {
                const Check *c = g_ptr_array_index(r->checks, i);
                g_autofree char *shown = g_strdup_printf("[%s]", c->id);
                gboolean referred = FALSE;

                for (size_t k = 0; k < r->checks->len && !referred; k++) {
                        const Check *o = g_ptr_array_index(r->checks, k);
                        g_autofree char *ref = g_strdup_printf("see %s", c->id);

                        referred = o != c && (strstr(o->remedy, ref) || strstr(o->detail, ref));
                }
                if (!g_str_equal(c->result, "pass") || referred)
                        g_assert_nonnull(strstr(out, shown));
                else if (strstr(out, shown))
                        g_error("passing check %s shows its id though nothing refers to it", c->id);
        }
        g_regex_match(see, out, 0, &m);
        for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
                g_autofree char *id = g_match_info_fetch(m, 1);
                g_autofree char *shown = g_strdup_printf("[%s]", id);

                if (!strstr(out, shown))
                        g_error("the text says 'see %s' but shows no check %s", id, shown);
        }
}

static void test_ctl_text(Fixture *fx, gconstpointer data) {
        const HostCase *hc = host_case(data);
        gboolean ready = g_str_equal(hc->verdict, "ready");
        g_autoptr(VhTestRun) run = NULL;
        g_autofree char *last = NULL;

        SKIP_IF_NO_HOST(fx);
        run = vh_test_bus_run_ctl(fx->bus, "check", NULL);
        vh_test_run_assert_status(run, "vfiohostctl check", ready ? 0 : 1);
        last = last_line(run->out);
        if (ready)
                g_assert_true(g_str_has_prefix(last, "READY"));
        else
                g_assert_true(g_str_has_prefix(last, "NOT READY"));
        /* not a terminal: no colours */
        g_assert_null(strchr(run->out, '\033'));
        g_assert_null(strchr(run->err, '\033'));
        assert_ids_shown(fx, run->out);
        if (g_str_equal(hc->host, "vm-guest")) {
                /* kvm.device's remedy refers to a failed check, shown by id */
                g_assert_nonnull(strstr(run->out, "(see cpu.virtualization)"));
                g_assert_nonnull(strstr(run->out, "[cpu.virtualization]"));
        }
        if (!ready) {
                /* every failure shows with its remedy */
                g_assert_nonnull(strstr(run->out, "FAIL"));
                g_assert_nonnull(strstr(run->out, "→ "));
                g_assert_nonnull(strstr(last, "failed"));
        }
        if (g_str_equal(hc->host, "vm-guest-amd-cpu-intel-viommu-off")) {
                /* the case as the user reads it */
                g_assert_nonnull(strstr(run->out, "The kernel command line turns the IOMMU off (intel_iommu=off)"));
                g_assert_null(strstr(run->out, "amd_iommu"));
                g_assert_null(strstr(run->out, "give it a virtual IOMMU"));
        }
}

static void test_ctl_device(Fixture *fx, gconstpointer data) {
        SKIP_IF_NO_HOST(fx);
        {
                /* the chipset function: the host passes, the device fails */
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "check", "--device", "0000:00:1f.3", NULL);
                g_autofree char *last = last_line(run->out);
                vh_test_run_assert_status(run, "vfiohostctl check --device 0000:00:1f.3", 1);
                g_assert_true(g_str_has_prefix(last, "NOT READY"));
                g_assert_nonnull(strstr(run->out, "0000:00:1f.3"));
                g_assert_null(strchr(run->out, '\033'));
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "check", "--json", "--device", "0000:01:00.0", NULL);
                g_autoptr(Report) r = NULL;
                vh_test_run_assert_status(run, "vfiohostctl check --json --device 0000:01:00.0", 0);
                r = report_from_json(run, "check --json --device");
                g_assert_nonnull(report_find(r, "device.group-isolation"));
        }
        {
                /* the short form, domain 0000 */
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "check", "--json", "--device", "01:00.0", NULL);
                g_autoptr(Report) r = NULL;
                vh_test_run_assert_status(run, "vfiohostctl check --json --device 01:00.0", 0);
                r = report_from_json(run, "check --json --device 01:00.0");
                g_assert_nonnull(strstr(report_find(r, "device.reset")->source, "0000:01:00.0"));
        }
        {
                /* no such function: 3, a JSON error on stdout */
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "check", "--json", "--device", "0000:09:00.0", NULL);
                json_object *j = NULL, *e = NULL;
                vh_test_run_assert_status(run, "vfiohostctl check --json --device 0000:09:00.0", 3);
                j = vh_test_run_json(run, "check --device 0000:09:00.0");
                g_assert_true(json_object_object_get_ex(j, "error", &e));
                g_assert_cmpstr(jstr(e, "name"), ==, VH_ERROR_NOT_FOUND);
                json_object_put(j);
        }
}

/* ---------- this machine, read-only ---------- */

static char *read_text(const char *path) {
        char *s = NULL;

        if (!g_file_get_contents(path, &s, NULL, NULL))
                return g_strdup("");
        return s;
}

static gboolean dir_has_entries(const char *path) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);

        return d && g_dir_read_name(d) != NULL;
}

/* The flags of the first processor, as words. */
static gboolean cpu_flag(const char *cpuinfo, const char *flag) {
        g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);

        for (size_t i = 0; lines[i]; i++)
                if (g_str_has_prefix(lines[i], "flags") && strchr(lines[i], ':')) {
                        g_auto(GStrv) words = g_strsplit_set(strchr(lines[i], ':') + 1, " \t", -1);
                        return g_strv_contains((const char *const *) words, flag);
                }
        return FALSE;
}

static void child_setup(gpointer data) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(127);
}

/* vfiohostd --root / --read-only on the test bus, started here (the
 * harness refuses a real root); its exit status on SIGTERM is checked by
 * vh_test_bus_free() like any other. */
static void start_real_daemon(VhTestBus *bus) {
        g_autoptr(GPtrArray) argv = vh_test_daemon_argv();
        g_auto(GStrv) envp = vh_test_bus_client_envp(bus);
        g_autoptr(GError) error = NULL;
        GPid pid = 0;

        g_ptr_array_add(argv, g_strdup("--root"));
        g_ptr_array_add(argv, g_strdup("/"));
        g_ptr_array_add(argv, g_strdup("--read-only"));
        g_ptr_array_add(argv, g_strdup("--no-idle-exit"));
        g_ptr_array_add(argv, g_strdup("--log-level"));
        g_ptr_array_add(argv, g_strdup("debug"));
        g_ptr_array_add(argv, NULL);
        {
                g_autofree char *cmd = g_strjoinv(" ", (char **) argv->pdata);
                g_test_message("starting %s", cmd);
        }
        g_assert_true(g_spawn_async_with_pipes_and_fds(
                        NULL, (const char *const *) argv->pdata, (const char *const *) envp,
                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_SEARCH_PATH,
                        child_setup, NULL, -1, bus->log_fd, bus->log_fd, NULL, NULL, 0,
                        &pid, NULL, NULL, NULL, &error));
        g_assert_no_error(error);
        bus->daemon_pid = pid;
        if (!vh_test_bus_wait_name(bus, VH_BUS_NAME, TRUE, scaled(20))) {
                vh_test_bus_print_log(bus);
                g_error("vfiohostd --root / did not own %s", VH_BUS_NAME);
        }
}

static void test_real_machine(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(Report) r = NULL, json = NULL;
        g_autofree char *cpuinfo = read_text("/proc/cpuinfo");
        g_autofree char *prop = NULL, *failed = NULL, *last = NULL;
        gboolean x86 = strstr(cpuinfo, "vendor_id") != NULL;
        gboolean virt = cpu_flag(cpuinfo, "vmx") || cpu_flag(cpuinfo, "svm");
        gboolean guest = cpu_flag(cpuinfo, "hypervisor");
        gboolean iommu = dir_has_entries("/sys/kernel/iommu_groups") || dir_has_entries("/sys/class/iommu");
        gboolean vfio = g_file_test("/sys/module/vfio", G_FILE_TEST_EXISTS) ||
                        g_file_test("/sys/bus/pci/drivers/vfio-pci", G_FILE_TEST_EXISTS);

        if (!vh_test_bus_requirements())
                return;
        g_test_message("this machine: %s, %s, %s, IOMMU %s, VFIO %s", x86 ? "x86" : "not x86",
                       guest ? "a VM guest" : "bare metal", virt ? "vmx/svm" : "no vmx/svm", iommu ? "on" : "off",
                       vfio ? "loaded" : "not loaded");
        bus = vh_test_bus_new();
        start_real_daemon(bus);

        r = get_readiness(bus, NULL);
        report_dump(r);
        prop = readiness_property(bus);
        g_assert_cmpstr(prop, ==, r->verdict);
        failed = report_failed(r);

        /* what the machine's own files say, check by check */
        if (x86) {
                const Check *c = report_find(r, "cpu.virtualization");
                g_assert_nonnull(c);
                g_assert_cmpstr(c->result, ==, virt ? "pass" : "fail");
                if (!virt && guest)
                        g_assert_nonnull(strstr(c->remedy, "nested"));
                c = report_find(r, "cpu.hypervisor");
                g_assert_cmpstr(c->result, ==, guest ? "info" : "pass");
        }
        {
                const Check *c = report_find(r, "iommu.kernel");
                g_assert_nonnull(c);
                g_assert_cmpstr(c->result, ==, iommu ? "pass" : "fail");
                if (!iommu)
                        g_assert_cmpstr(c->remedy, !=, "");
        }
        if (!iommu && !vfio && (!virt || guest)) {
                /* the CI machine: a guest without nesting, IOMMU and VFIO */
                const Check *c = report_find(r, "vfio.modules");
                g_assert_cmpstr(r->verdict, ==, "not-ready");
                g_assert_nonnull(c);
                if (!g_file_test("/lib/modules", G_FILE_TEST_IS_DIR)) {
                        g_assert_cmpstr(c->result, ==, "fail");
                        g_assert_cmpstr(c->remedy, !=, "");
                }
                g_assert_nonnull(strstr(failed, "iommu.kernel"));
                if (x86 && !virt)
                        g_assert_nonnull(strstr(failed, "cpu.virtualization"));
        }

        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "check", "--json", NULL);
                vh_test_run_assert_status(run, "vfiohostctl check --json (this machine)",
                            g_str_equal(r->verdict, "ready") ? 0 : 1);
                json = report_from_json(run, "vfiohostctl check --json (this machine)");
                assert_same_ids(r, json);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "check", NULL);
                vh_test_run_assert_status(run, "vfiohostctl check (this machine)", g_str_equal(r->verdict, "ready") ? 0 : 1);
                last = last_line(run->out);
                g_assert_true(g_str_has_prefix(last, g_str_equal(r->verdict, "ready") ? "READY" : "NOT READY"));
                g_assert_null(strchr(run->out, '\033'));
        }
        /* read-only: anything that would write is refused (not called here) */
}

/* What vfiohost bound and nobody holds any more (the VM stopped) is named,
 * with the command that gives it back; while QEMU holds the group it is
 * not. The check is information: the verdict stays. */
static void test_idle_bindings(Fixture *fx, gconstpointer data) {
        g_autofree char *qemu = NULL;
        const Check *k;

        SKIP_IF_NO_HOST(fx);
        {
                g_autoptr(Report) r = get_readiness(fx->bus, NULL);
                g_assert_null(report_find(r, "vfio.idle-bindings"));
        }
        qemu = g_build_filename(fx->root, "proc", "3456", NULL);
        g_assert_true(g_file_test(qemu, G_FILE_TEST_IS_DIR));
        g_assert_cmpint(vh_test_rm_rf(qemu), ==, 0);
        {
                g_autoptr(Report) r = get_readiness(fx->bus, NULL);

                k = report_find(r, "vfio.idle-bindings");
                g_assert_nonnull(k);
                g_assert_cmpstr(k->result, ==, "info");
                g_assert_cmpstr(k->category, ==, "vfio");
                g_assert_nonnull(strstr(k->detail, "0000:01:00.0 (on vfio-pci since 2024-06-10 15:00 UTC; unbinding "
                                                   "gives it back to nvidia)"));
                g_assert_nonnull(strstr(k->detail, "0000:01:00.1"));
                g_assert_nonnull(strstr(k->remedy, "vfiohostctl unbind"));
                g_assert_nonnull(strstr(k->source, "journal.json"));
                g_assert_cmpstr(r->verdict, ==, "ready");
        }
}

#define ADD(path, host, s, fn) g_test_add(path, Fixture, host, s, fn, teardown)

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(host_cases); i++) {
                g_autofree char *p1 = g_strdup_printf("/readiness/get/%s", host_cases[i].host);
                g_autofree char *p2 = g_strdup_printf("/readiness/ctl-json/%s", host_cases[i].host);
                ADD(p1, host_cases[i].host, setup_shared, test_get_readiness);
                ADD(p2, host_cases[i].host, setup_shared, test_ctl_json);
        }
        ADD("/readiness/ctl-text/desktop-intel", "desktop-intel", setup_shared, test_ctl_text);
        ADD("/readiness/ctl-text/amd-desktop", "amd-desktop", setup_shared, test_ctl_text);
        ADD("/readiness/ctl-text/vm-guest", "vm-guest", setup_shared, test_ctl_text);
        ADD("/readiness/ctl-text/no-iommu", "no-iommu", setup_shared, test_ctl_text);
        ADD("/readiness/ctl-text/vm-guest-amd-cpu-intel-viommu-off", "vm-guest-amd-cpu-intel-viommu-off", setup_shared,
            test_ctl_text);
        ADD("/readiness/ctl-device", "desktop-intel", setup_shared, test_ctl_device);
        ADD("/readiness/device-option", "desktop-intel", setup_shared, test_device_option);
        ADD("/readiness/property/host-checks-only", "desktop-intel", setup_shared, test_property_host_only);
        ADD("/readiness/property/host-changes", "desktop-intel", setup_copy, test_host_changes);
        ADD("/readiness/idle-bindings", "desktop-vfio-bound", setup_copy, test_idle_bindings);
        g_test_add_func("/readiness/real-machine", test_real_machine);

        return g_test_run();
}
