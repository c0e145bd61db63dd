/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.vfiohost.Manager1, Device1 and Group1 over a private system bus with
 * the project's own bus policy, the daemon running on fixture host trees
 * (tests/data/hosts/<name>); every value is checked against the tree's
 * files, read here without the daemon's code. */
#include <stdio.h>
#include <string.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-host.h"

#define NOBODY_UID 65534

typedef struct {
        VhTestBus *bus;
        char *root;
        VhTestHost *host;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data) {
        vh_test_bus_fixture_start(&fx->bus, &fx->root, data, VH_TEST_ROOT_SHARED);
        if (!fx->root)
                return;
        fx->host = vh_test_host_load(fx->root);
        g_assert_cmpuint(fx->host->functions->len, >, 0);
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        vh_test_host_free(fx->host);
        vh_test_bus_fixture_stop(&fx->bus, &fx->root);
}

#define SKIP_IF_NO_HOST(fx) do { if (!(fx)->root) return; } while (0)

/* What tests/data/README.md says about each host, independently of the
 * blocker computation in vh-test-host.c: groups' viability with one blocker
 * the reason must name, and VfioAvailable. */
static const struct {
        const char *host;
        guint group;
        gboolean viable;
        const char *blocker, *driver;
} readme_groups[] = {
        { "desktop-intel", 0, FALSE, "0000:00:02.0", "i915" },
        { "desktop-intel", 1, FALSE, "0000:00:00.0", "igen6_edac" },
        { "desktop-intel", 2, FALSE, "0000:01:00.0", "nvidia" },
        { "desktop-intel", 3, TRUE },
        { "desktop-intel", 4, FALSE, "0000:00:14.0", "xhci_hcd" },
        { "desktop-intel", 5, FALSE, "0000:05:00.0", "amdgpu" },
        { "desktop-intel", 6, FALSE, "0000:00:1f.0", "lpc_ich" },
        { "desktop-intel", 7, FALSE, "0000:02:00.0", "nvme" },
        { "desktop-vfio-bound", 2, TRUE },
        { "desktop-vmd", 2, FALSE, "0000:01:00.0", "nvidia" },
        { "desktop-vmd", 3, FALSE, "0000:00:0e.0", "vmd" },
        { "server-sriov", 0, TRUE },
        { "server-sriov", 5, TRUE },
        { "server-sriov", 6, FALSE, "0000:02:00.0", "ast" },
        { "server-sriov", 7, FALSE, "0000:00:1f.4", "i801_smbus" },
        { "server-sriov", 20, TRUE },
        { "server-sriov", 21, FALSE, "0000:3b:00.0", "i40e" },
        { "server-sriov", 22, FALSE, "0000:3b:00.1", "i40e" },
        { "server-sriov", 23, FALSE, "0000:3b:02.0", "iavf" },
        { "server-sriov", 24, TRUE },
        { "server-sriov", 40, TRUE },
        { "server-sriov", 41, FALSE, "0000:af:00.0", "nvme" },
        { "amd-desktop", 0, TRUE },
        { "amd-desktop", 2, TRUE },
        { "amd-desktop", 3, FALSE, "0000:01:00.0", "nvme" },
        { "amd-desktop", 8, FALSE, "0000:04:00.0", "amdgpu" },
        { "amd-desktop", 9, FALSE, "0000:00:14.0", "piix4_smbus" },
};

static const struct {
        const char *host;
        gboolean iommu_enabled, vfio_available;
} readme_hosts[] = {
        { "desktop-intel",      TRUE,  TRUE },
        { "desktop-vfio-bound", TRUE,  TRUE },      /* built in */
        { "desktop-vmd",        TRUE,  TRUE },
        { "server-sriov",       TRUE,  TRUE },
        { "no-iommu",           FALSE, FALSE },
        { "amd-desktop",        TRUE,  TRUE },      /* through modules.dep alone */
};

static char *remote_error_name(GError *error) {
        g_assert_nonnull(error);
        g_assert_true(g_dbus_error_is_remote_error(error));
        return g_dbus_error_get_remote_error(error);
}

static char *device_path(const char *address) {
        return vh_test_path_encode(VH_DEVICE_PATH_PREFIX, address);
}

static char *group_path(int id) {
        return id < 0 ? g_strdup("/") : g_strdup_printf(VH_GROUP_PATH_PREFIX "/%d", id);
}

static char *get_device(Fixture *fx, const char *address, GError **error) {
        g_autoptr(GVariant) r = NULL;
        char *path = NULL;

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                             g_variant_new("(s)", address), "(o)", error);
        if (!r)
                return NULL;
        g_variant_get(r, "(o)", &path);
        return path;
}

/* A follow-up call after bad input: the daemon is still there, still the
 * same process, and still answers. */
static void assert_daemon_alive(Fixture *fx, const char *unique_before) {
        g_autoptr(GError) error = NULL;
        const VhTestFunction *f = fx->host->functions->pdata[0];
        g_autofree char *path = get_device(fx, f->address, &error);
        g_autoptr(GVariant) owner = NULL;
        const char *unique = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(path);
        owner = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), "org.freedesktop.DBus",
                                            "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                            g_variant_new("(s)", VH_BUS_NAME), G_VARIANT_TYPE("(s)"),
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(owner, "(&s)", &unique);
        if (unique_before)
                g_assert_cmpstr(unique, ==, unique_before);
}

static char *current_owner(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) owner = NULL;
        char *unique = NULL;

        owner = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), "org.freedesktop.DBus",
                                            "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                            g_variant_new("(s)", VH_BUS_NAME), G_VARIANT_TYPE("(s)"),
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(owner, "(s)", &unique);
        return unique;
}

/* ---------- Manager1 properties ---------- */

static void test_properties(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) version = NULL, iommu = NULL, vfio = NULL;

        SKIP_IF_NO_HOST(fx);

        version = vh_test_bus_get_property(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Version", &error);
        g_assert_no_error(error);
        g_assert_true(g_variant_is_of_type(version, G_VARIANT_TYPE_STRING));
        g_assert_cmpstr(g_variant_get_string(version, NULL), ==, VH_TEST_VERSION);

        iommu = vh_test_bus_get_property(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "IommuEnabled", &error);
        g_assert_no_error(error);
        g_assert_true(g_variant_is_of_type(iommu, G_VARIANT_TYPE_BOOLEAN));
        g_assert_cmpint(g_variant_get_boolean(iommu), ==, fx->host->iommu_enabled);

        vfio = vh_test_bus_get_property(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "VfioAvailable", &error);
        g_assert_no_error(error);
        g_assert_true(g_variant_is_of_type(vfio, G_VARIANT_TYPE_BOOLEAN));
        if (fx->host->vfio_available >= 0)
                g_assert_cmpint(g_variant_get_boolean(vfio), ==, fx->host->vfio_available);
        else
                g_test_message("VfioAvailable=%d (depends on lib/modules: checked against the README only)",
                               g_variant_get_boolean(vfio));
        for (size_t i = 0; i < G_N_ELEMENTS(readme_hosts); i++)
                if (strcmp(readme_hosts[i].host, data) == 0) {
                        g_assert_cmpint(g_variant_get_boolean(iommu), ==, readme_hosts[i].iommu_enabled);
                        g_assert_cmpint(g_variant_get_boolean(vfio), ==, readme_hosts[i].vfio_available);
                }

        /* GetAll agrees with Get. */
        {
                g_autoptr(GVariant) all = vh_test_bus_call(fx->bus, VH_MANAGER_PATH,
                                                           "org.freedesktop.DBus.Properties", "GetAll",
                                                           g_variant_new("(s)", VH_MANAGER_INTERFACE),
                                                           "(a{sv})", &error);
                g_autoptr(GVariant) dict = NULL;
                g_autoptr(GVariant) v = NULL;

                g_assert_no_error(error);
                dict = g_variant_get_child_value(all, 0);
                v = g_variant_lookup_value(dict, "Version", G_VARIANT_TYPE_STRING);
                g_assert_nonnull(v);
                g_assert_cmpstr(g_variant_get_string(v, NULL), ==, VH_TEST_VERSION);
        }
}

/* ---------- GetDevice ---------- */

static void test_get_device(Fixture *fx, gconstpointer data) {
        SKIP_IF_NO_HOST(fx);

        for (guint i = 0; i < fx->host->functions->len; i++) {
                const VhTestFunction *f = fx->host->functions->pdata[i];
                g_autoptr(GError) error = NULL;
                g_autofree char *path = get_device(fx, f->address, &error);
                g_autofree char *expected = device_path(f->address);
                g_autoptr(GVariant) addr = NULL;

                g_assert_no_error(error);
                g_assert_cmpstr(path, ==, expected);
                /* The object is there and is that device. */
                addr = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, "Address", &error);
                g_assert_no_error(error);
                g_assert_cmpstr(g_variant_get_string(addr, NULL), ==, f->address);
        }
}

static const char *const invalid_addresses[] = {
        "",
        "0000:01:00",
        "0000:01:00.0/../../x",
        "../../../etc/passwd",
        "0000:01:20.0",         /* device > 1f */
        "0000:01:00.8",         /* function > 7 */
        "zzzz:01:00.0",
        "0000:01:00.0 ",
        " 0000:01:00.0",
        "0000:01:00.0\n",
        "01:00.0",              /* no domain */
        "00000:01:00.0",
        "0000:001:00.0",
        "0000-01-00.0",
        "0000:01:00.0/",
        "/sys/bus/pci/devices/0000:01:00.0",
        "0000:01:00.0/driver",
        ".",
        "..",
        "*",
        "0000:01:00.*",
        "%s%s%s%n",
};

static void test_bad_calls(Fixture *fx, gconstpointer data) {
        g_autofree char *owner = NULL;
        g_autofree char *long_address = NULL;
        const char *unknown = NULL;

        SKIP_IF_NO_HOST(fx);
        owner = current_owner(fx);

        for (size_t i = 0; i < G_N_ELEMENTS(invalid_addresses); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *path = get_device(fx, invalid_addresses[i], &error);
                g_autofree char *name = NULL;

                g_autofree char *escaped = g_strescape(invalid_addresses[i], NULL);

                g_test_message("GetDevice(\"%s\")", escaped);
                g_assert_null(path);
                name = remote_error_name(error);
                /* Without a colon it could be an assignment's name: none
                 * has it, so it is not found rather than malformed. */
                g_assert_cmpstr(name, ==, g_regex_match_simple("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", invalid_addresses[i], 0, 0)
                                                  ? VH_ERROR_NOT_FOUND : VH_ERROR_INVALID_ADDRESS);
                g_dbus_error_strip_remote_error(error);
                g_assert_cmpstr(error->message, !=, "");
                assert_daemon_alive(fx, owner);
        }

        long_address = g_strnfill(65536, 'a');
        {
                g_autoptr(GError) error = NULL;
                g_autofree char *path = get_device(fx, long_address, &error);
                g_autofree char *name = remote_error_name(error);
                g_assert_cmpstr(name, ==, VH_ERROR_INVALID_ADDRESS);
                assert_daemon_alive(fx, owner);
        }

        /* Well-formed but absent: NotFound, naming the address. */
        {
                static const char *const candidates[] = { "0000:fe:1f.7", "0000:fd:1e.6", "ffff:ff:1f.7" };
                for (size_t i = 0; i < G_N_ELEMENTS(candidates) && !unknown; i++)
                        if (!vh_test_host_find(fx->host, candidates[i]))
                                unknown = candidates[i];
        }
        g_assert_nonnull(unknown);
        {
                g_autoptr(GError) error = NULL;
                g_autofree char *path = get_device(fx, unknown, &error);
                g_autofree char *name = remote_error_name(error);

                g_assert_null(path);
                g_assert_cmpstr(name, ==, VH_ERROR_NOT_FOUND);
                g_dbus_error_strip_remote_error(error);
                g_assert_nonnull(strstr(error->message, unknown));
                assert_daemon_alive(fx, owner);
        }

        /* Wrong signature, unknown method, unknown property, unknown object. */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                                         g_variant_new("(u)", 42), NULL, &error);
                g_autofree char *name = remote_error_name(error);
                g_assert_null(r);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
                assert_daemon_alive(fx, owner);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                                         g_variant_new("(ss)", "0000:00:00.0", "x"), NULL, &error);
                g_autofree char *name = remote_error_name(error);
                g_assert_null(r);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
                assert_daemon_alive(fx, owner);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "NoSuchMethod",
                                                         NULL, NULL, &error);
                g_autofree char *name = remote_error_name(error);
                g_assert_null(r);
                /* Not in the authorization table: refused before sd-bus looks
                 * (service/bus/vh-bus-bouncer.c). */
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.AccessDenied");
                assert_daemon_alive(fx, owner);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                                 "NoSuchProperty", &error);
                g_assert_null(v);
                g_assert_nonnull(error);
                assert_daemon_alive(fx, owner);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, "org.freedesktop.DBus.Properties", "Set",
                                                         g_variant_new("(ssv)", VH_MANAGER_INTERFACE, "Version",
                                                                       g_variant_new_string("6.6.6")),
                                                         NULL, &error);
                g_autoptr(GVariant) v = NULL;
                g_autoptr(GError) error2 = NULL;
                g_assert_null(r);
                g_assert_nonnull(error);
                v = vh_test_bus_get_property(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Version", &error2);
                g_assert_no_error(error2);
                g_assert_cmpstr(g_variant_get_string(v, NULL), ==, VH_TEST_VERSION);
                assert_daemon_alive(fx, owner);
        }
        {
                g_autofree char *ghost = device_path(unknown);
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, ghost, VH_DEVICE_INTERFACE, "Address", &error);
                g_assert_null(v);
                g_assert_nonnull(error);
                assert_daemon_alive(fx, owner);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, VH_GROUP_PATH_PREFIX "/999999",
                                                                 VH_GROUP_INTERFACE, "Id", &error);
                g_assert_null(v);
                g_assert_nonnull(error);
                assert_daemon_alive(fx, owner);
        }
        if (fx->host->functions->len > 0) {
                /* Another spelling of a device's path (uppercase escapes,
                 * which sd_bus_path_decode() accepts) names no object: a
                 * device has the one path signals and GetManagedObjects use. */
                const VhTestFunction *f = g_ptr_array_index(fx->host->functions, 0);
                g_autofree char *path = device_path(f->address);
                g_autofree char *alias = g_strdup(path);
                g_autoptr(GError) error = NULL, error2 = NULL;
                g_autoptr(GVariant) v = NULL, v2 = NULL;

                for (char *c = alias + strlen(VH_DEVICE_PATH_PREFIX); *c; c++)
                        if (c[0] == '_' && c[1] && c[2]) {
                                c[1] = g_ascii_toupper(c[1]);
                                c[2] = g_ascii_toupper(c[2]);
                        }
                g_assert_cmpstr(alias, !=, path);
                v = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, "Address", &error);
                g_assert_no_error(error);
                v2 = vh_test_bus_get_property(fx->bus, alias, VH_DEVICE_INTERFACE, "Address", &error2);
                g_assert_null(v2);
                g_assert_nonnull(error2);
                assert_daemon_alive(fx, owner);
        }
        {
                /* A path below the device prefix that is no encoded address. */
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, VH_DEVICE_PATH_PREFIX "/_2e_2e_2f_2e_2e",
                                                                 VH_DEVICE_INTERFACE, "Address", &error);
                g_assert_null(v);
                g_assert_nonnull(error);
                assert_daemon_alive(fx, owner);
        }
}

/* ---------- error messages quote what they refuse, cut on characters ---------- */

typedef struct {
        const char *what;
        const char *method;
        GVariant *params;               /* floating until sent */
        const char *expected;
        gint64 started;
        gboolean done;
        double seconds;
        char *error_name;
        char *error_message;
} Pending;

static void on_pending_reply(GObject *source, GAsyncResult *res, gpointer data) {
        Pending *p = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

        p->seconds = (double) (g_get_monotonic_time() - p->started) / G_USEC_PER_SEC;
        p->done = TRUE;
        if (error) {
                p->error_name = g_dbus_error_is_remote_error(error) ? g_dbus_error_get_remote_error(error)
                                                                    : g_strdup_printf("(local: %s)", error->message);
                g_dbus_error_strip_remote_error(error);
                p->error_message = g_strdup(error->message);
        }
}

static GVariant *options_with(const char *key, GVariant *value) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", key, value);
        return g_variant_builder_end(&b);
}

/* Every path that quotes a caller's string in its error (addresses of
 * GetDevice, Bind, Unbind and GetReadiness's "device", option keys of Bind,
 * Unbind and GetReadiness) with a multi-byte character straddling the
 * quoting limit (64 bytes): a cut inside it is no UTF-8, sd-bus refuses to
 * send such a reply, and the caller would wait for its timeout (NoReply).
 * Each must get its named error at once, with a valid message. */
static void test_utf8_cut(Fixture *fx, gconstpointer data) {
        static const char *const chars[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };   /* é € 😀 */
        const double timeout = 5 * vh_test_timeout_multiplier();
        g_autoptr(GPtrArray) pending = g_ptr_array_new();
        g_autofree char *owner = NULL;
        gint64 deadline;

        SKIP_IF_NO_HOST(fx);
        owner = current_owner(fx);

        for (size_t c = 0; c < G_N_ELEMENTS(chars); c++)
                for (size_t j = 1; j < strlen(chars[c]); j++) {
                        g_autofree char *prefix = g_strnfill(64 - j, 'a');
                        g_autofree char *s = g_strconcat(prefix, chars[c], "bbbb", NULL);
                        const struct {
                                const char *what, *method, *expected;
                                GVariant *params;
                        } cases[] = {
                                { "GetDevice address", "GetDevice", VH_ERROR_INVALID_ADDRESS, g_variant_new("(s)", s) },
                                { "Bind address", "Bind", VH_ERROR_INVALID_ADDRESS,
                                  g_variant_new("(s@a{sv})", s, options_with("dry-run", g_variant_new_boolean(TRUE))) },
                                { "Unbind address", "Unbind", VH_ERROR_INVALID_ADDRESS,
                                  g_variant_new("(s@a{sv})", s, options_with("dry-run", g_variant_new_boolean(TRUE))) },
                                { "Bind option key", "Bind", "org.freedesktop.DBus.Error.InvalidArgs",
                                  g_variant_new("(s@a{sv})", "0000:01:00.0", options_with(s, g_variant_new_boolean(TRUE))) },
                                { "Unbind option key", "Unbind", "org.freedesktop.DBus.Error.InvalidArgs",
                                  g_variant_new("(s@a{sv})", "0000:01:00.0", options_with(s, g_variant_new_boolean(TRUE))) },
                                { "GetReadiness option key", "GetReadiness", "org.freedesktop.DBus.Error.InvalidArgs",
                                  g_variant_new("(@a{sv})", options_with(s, g_variant_new_boolean(TRUE))) },
                                { "GetReadiness device", "GetReadiness", VH_ERROR_INVALID_ADDRESS,
                                  g_variant_new("(@a{sv})", options_with("device", g_variant_new_string(s))) },
                        };

                        for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
                                Pending *p = g_new0(Pending, 1);

                                p->what = cases[k].what;
                                p->method = cases[k].method;
                                p->expected = cases[k].expected;
                                p->started = g_get_monotonic_time();
                                g_dbus_connection_call(vh_test_bus_connection(fx->bus), VH_BUS_NAME, VH_MANAGER_PATH,
                                                       VH_MANAGER_INTERFACE, p->method, cases[k].params, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, (int) (timeout * 1000), NULL,
                                                       on_pending_reply, p);
                                g_ptr_array_add(pending, p);
                        }
                }

        deadline = g_get_monotonic_time() + (gint64) ((timeout + 5) * G_USEC_PER_SEC);
        for (guint done = 0; done < pending->len;) {
                g_main_context_iteration(NULL, TRUE);
                done = 0;
                for (guint i = 0; i < pending->len; i++)
                        done += ((Pending *) pending->pdata[i])->done;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        }

        for (guint i = 0; i < pending->len; i++) {
                Pending *p = pending->pdata[i];

                g_test_message("%s: %s after %.3f s: %s", p->what, p->error_name ? p->error_name : "success",
                               p->seconds, p->error_message ? p->error_message : "");
        }
        for (guint i = 0; i < pending->len; i++) {
                Pending *p = pending->pdata[i];

                g_assert_cmpstr(p->error_name, ==, p->expected);
                g_assert_cmpfloat(p->seconds, <, timeout / 2);
                g_assert_true(g_utf8_validate(p->error_message, -1, NULL));
                /* It still quotes the start of what was refused. */
                g_assert_nonnull(strstr(p->error_message, "aaaaaaaaaaaaaaaa"));
                g_free(p->error_name);
                g_free(p->error_message);
                g_free(p);
        }
        assert_daemon_alive(fx, owner);
}

/* ---------- one path per object ---------- */

/* sd_bus_path_decode() accepts escapes that sd_bus_path_encode() never
 * writes (upper-case hex, escaped letters and digits): each device would
 * answer under many names. Only the canonical path may. */
static void test_canonical_paths(Fixture *fx, gconstpointer data) {
        const VhTestFunction *f = vh_test_host_find(fx->host, "0000:01:00.0");
        g_autofree char *canonical = NULL;
        g_autofree char *owner = NULL;
        const char *const aliases[] = {
                VH_DEVICE_PATH_PREFIX "/_30000_3A01_3A00_2E0",          /* upper-case escapes */
                VH_DEVICE_PATH_PREFIX "/_30000_3a01_3a00_2E0",
                VH_DEVICE_PATH_PREFIX "/_30_30_30_30_3a01_3a00_2e0",    /* digits escaped */
                VH_DEVICE_PATH_PREFIX "/_30000_3a01_3a00_2e_30",
                VH_DEVICE_PATH_PREFIX "/_30000_3A01_3A00_2E0/",
                /* 0000:00:1f.3 with its hex letter in upper case */
                VH_DEVICE_PATH_PREFIX "/_30000_3a00_3a1F_2e3",
                VH_GROUP_PATH_PREFIX "/02",
                VH_GROUP_PATH_PREFIX "/2/",
        };

        SKIP_IF_NO_HOST(fx);
        g_assert_nonnull(f);
        owner = current_owner(fx);
        canonical = device_path(f->address);
        g_assert_cmpstr(canonical, ==, VH_DEVICE_PATH_PREFIX "/_30000_3a01_3a00_2e0");
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, canonical, VH_DEVICE_INTERFACE, "Address",
                                                                 &error);
                g_assert_no_error(error);
                g_assert_cmpstr(g_variant_get_string(v, NULL), ==, f->address);
        }

        for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = NULL;
                g_autofree char *name = NULL;
                const char *iface = g_str_has_prefix(aliases[i], VH_GROUP_PATH_PREFIX) ? VH_GROUP_INTERFACE
                                                                                        : VH_DEVICE_INTERFACE;

                /* A trailing slash is no valid object path: the client refuses it. */
                if (!g_variant_is_object_path(aliases[i]))
                        continue;
                v = vh_test_bus_call(fx->bus, aliases[i], "org.freedesktop.DBus.Properties", "GetAll",
                                     g_variant_new("(s)", iface), "(a{sv})", &error);
                g_test_message("GetAll on %s -> %s", aliases[i], error ? error->message : "answered");
                g_assert_null(v);
                name = remote_error_name(error);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.UnknownObject");
        }
        assert_daemon_alive(fx, owner);
}

/* ---------- GetManagedObjects against the tree ---------- */

static GVariant *lookup(GVariant *props, const char *name, const char *type) {
        GVariant *v = g_variant_lookup_value(props, name, NULL);

        if (!v)
                g_error("property %s missing", name);
        if (!g_variant_is_of_type(v, G_VARIANT_TYPE(type)))
                g_error("property %s has type %s, expected %s", name, g_variant_get_type_string(v), type);
        return v;
}

#define PROP(props, name, type) g_autoptr(GVariant) name##_v = lookup(props, #name, type)

static void check_device(Fixture *fx, const VhTestFunction *f, GVariant *props, GVariant *objects) {
        g_autofree char *gpath = group_path(f->iommu_group);

        g_test_message("device %s", f->address);
        {
                PROP(props, Address, "s");
                g_assert_cmpstr(g_variant_get_string(Address_v, NULL), ==, f->address);
        }
        {
                PROP(props, VendorId, "q");
                PROP(props, DeviceId, "q");
                PROP(props, SubsystemVendorId, "q");
                PROP(props, SubsystemDeviceId, "q");
                PROP(props, Revision, "y");
                PROP(props, Class, "u");
                g_assert_cmphex(g_variant_get_uint16(VendorId_v), ==, f->vendor);
                g_assert_cmphex(g_variant_get_uint16(DeviceId_v), ==, f->device);
                g_assert_cmphex(g_variant_get_uint16(SubsystemVendorId_v), ==, f->subsystem_vendor);
                g_assert_cmphex(g_variant_get_uint16(SubsystemDeviceId_v), ==, f->subsystem_device);
                g_assert_cmphex(g_variant_get_byte(Revision_v), ==, f->revision);
                g_assert_cmphex(g_variant_get_uint32(Class_v), ==, f->class_code);
        }
        {
                PROP(props, VendorName, "s");
                PROP(props, DeviceName, "s");
                PROP(props, SubsystemVendorName, "s");
                PROP(props, SubsystemName, "s");
                PROP(props, ClassName, "s");
                /* The exact strings are compared with lspci in test-ctl. */
                g_assert_cmpstr(g_variant_get_string(VendorName_v, NULL), !=, "");
                g_assert_cmpstr(g_variant_get_string(DeviceName_v, NULL), !=, "");
                g_assert_cmpstr(g_variant_get_string(ClassName_v, NULL), !=, "");
                if (f->subsystem_vendor == 0 && f->subsystem_device == 0) {
                        g_assert_cmpstr(g_variant_get_string(SubsystemVendorName_v, NULL), ==, "");
                        g_assert_cmpstr(g_variant_get_string(SubsystemName_v, NULL), ==, "");
                }
        }
        {
                PROP(props, Driver, "s");
                PROP(props, DriverOverride, "s");
                g_assert_cmpstr(g_variant_get_string(Driver_v, NULL), ==, f->driver);
                g_assert_cmpstr(g_variant_get_string(DriverOverride_v, NULL), ==, f->driver_override);
        }
        {
                PROP(props, IommuGroup, "i");
                PROP(props, Group, "o");
                g_assert_cmpint(g_variant_get_int32(IommuGroup_v), ==, f->iommu_group);
                g_assert_cmpstr(g_variant_get_string(Group_v, NULL), ==, gpath);
                if (f->iommu_group >= 0) {
                        /* Device1.Group points at an exported Group1 that lists this device. */
                        g_autoptr(GVariant) ifaces = g_variant_lookup_value(objects, gpath, G_VARIANT_TYPE("a{sa{sv}}"));
                        g_autoptr(GVariant) gprops = NULL;
                        g_autoptr(GVariant) devices = NULL;
                        g_autofree char *self = device_path(f->address);
                        g_autofree const char **paths = NULL;

                        g_assert_nonnull(ifaces);
                        gprops = g_variant_lookup_value(ifaces, VH_GROUP_INTERFACE, G_VARIANT_TYPE("a{sv}"));
                        g_assert_nonnull(gprops);
                        devices = lookup(gprops, "Devices", "ao");
                        paths = g_variant_get_objv(devices, NULL);
                        g_assert_true(g_strv_contains(paths, self));
                }
        }
        {
                PROP(props, NumaNode, "i");
                PROP(props, BootVga, "b");
                PROP(props, D3coldAllowed, "b");
                PROP(props, ResetMethods, "as");
                g_autofree const char **methods = g_variant_get_strv(ResetMethods_v, NULL);

                g_assert_cmpint(g_variant_get_int32(NumaNode_v), ==, f->numa_node);
                g_assert_cmpint(g_variant_get_boolean(BootVga_v), ==, f->boot_vga);
                g_assert_cmpint(g_variant_get_boolean(D3coldAllowed_v), ==, f->d3cold_allowed);
                g_assert_cmpuint(g_strv_length((char **) methods), ==, g_strv_length(f->reset_methods));
                for (size_t i = 0; f->reset_methods[i]; i++)
                        g_assert_cmpstr(methods[i], ==, f->reset_methods[i]);
        }
        {
                PROP(props, PhysicalFunction, "s");
                PROP(props, SriovNumVfs, "u");
                PROP(props, SriovTotalVfs, "u");
                g_assert_cmpstr(g_variant_get_string(PhysicalFunction_v, NULL), ==, f->physfn);
                g_assert_cmpuint(g_variant_get_uint32(SriovNumVfs_v), ==, f->sriov_numvfs);
                g_assert_cmpuint(g_variant_get_uint32(SriovTotalVfs_v), ==, f->sriov_totalvfs);
                if (*f->physfn)
                        g_assert_nonnull(vh_test_host_find(fx->host, f->physfn));
        }
        {
                PROP(props, VfioGroupPath, "s");
                PROP(props, VfioDevicePath, "s");
                g_assert_cmpstr(g_variant_get_string(VfioGroupPath_v, NULL), ==, f->vfio_group_path);
                g_assert_cmpstr(g_variant_get_string(VfioDevicePath_v, NULL), ==, f->vfio_device_path);
        }
}

static void check_group_readme(const char *host, guint id, gboolean viable, const char *reason) {
        for (size_t i = 0; i < G_N_ELEMENTS(readme_groups); i++) {
                if (strcmp(readme_groups[i].host, host) != 0 || readme_groups[i].group != id)
                        continue;
                if (viable != readme_groups[i].viable)
                        g_error("%s group %u: Viable=%d, tests/data/README.md says %d", host, id, viable,
                                readme_groups[i].viable);
                if (readme_groups[i].blocker &&
                    (!strstr(reason, readme_groups[i].blocker) || !strstr(reason, readme_groups[i].driver)))
                        g_error("%s group %u: ViabilityReason \"%s\" does not name %s on %s", host, id, reason,
                                readme_groups[i].blocker, readme_groups[i].driver);
        }
}

static void check_group(Fixture *fx, const VhTestGroup *g, GVariant *props, const char *host) {
        g_autoptr(GPtrArray) blockers = vh_test_host_group_blockers(fx->host, g);
        g_autofree const char **addresses = NULL;
        g_autofree const char **devices = NULL;
        const char *reason;

        g_test_message("group %u", g->id);
        {
                PROP(props, Id, "u");
                g_assert_cmpuint(g_variant_get_uint32(Id_v), ==, g->id);
        }
        {
                PROP(props, Addresses, "as");
                PROP(props, Devices, "ao");
                addresses = g_variant_get_strv(Addresses_v, NULL);
                devices = g_variant_get_objv(Devices_v, NULL);
                g_assert_cmpuint(g_strv_length((char **) addresses), ==, g->addresses->len);
                g_assert_cmpuint(g_strv_length((char **) devices), ==, g->addresses->len);
                for (guint i = 0; i < g->addresses->len; i++) {
                        g_autofree char *p = device_path(g->addresses->pdata[i]);
                        /* In address order. */
                        g_assert_cmpstr(addresses[i], ==, g->addresses->pdata[i]);
                        g_assert_cmpstr(devices[i], ==, p);
                }
        }
        {
                PROP(props, Type, "s");
                g_assert_cmpstr(g_variant_get_string(Type_v, NULL), ==, g->type);
        }
        {
                PROP(props, Viable, "b");
                PROP(props, ViabilityReason, "s");
                reason = g_variant_get_string(ViabilityReason_v, NULL);
                g_test_message("group %u: Viable=%d reason \"%s\"", g->id, g_variant_get_boolean(Viable_v), reason);
                g_assert_cmpstr(reason, !=, "");
                check_group_readme(host, g->id, g_variant_get_boolean(Viable_v), reason);
                if (blockers->len == 0)
                        g_assert_true(g_variant_get_boolean(Viable_v));
                else {
                        const VhTestFunction *b = blockers->pdata[0];
                        g_assert_false(g_variant_get_boolean(Viable_v));
                        /* The reason names a blocking device and its driver. */
                        gboolean named = FALSE;
                        for (guint i = 0; i < blockers->len && !named; i++) {
                                b = blockers->pdata[i];
                                named = strstr(reason, b->address) && strstr(reason, b->driver);
                        }
                        if (!named)
                                g_error("group %u: ViabilityReason \"%s\" names no blocker with its driver "
                                        "(e.g. %s on %s)", g->id, reason,
                                        ((VhTestFunction *) blockers->pdata[0])->address,
                                        ((VhTestFunction *) blockers->pdata[0])->driver);
                }
        }
}

static GVariant *get_managed_objects(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                             "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", &error);
        g_assert_no_error(error);
        return g_variant_get_child_value(r, 0);
}

static void test_managed_objects(Fixture *fx, gconstpointer data) {
        g_autoptr(GVariant) objects = NULL;
        g_autoptr(GHashTable) seen_devices = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) seen_groups = g_hash_table_new(g_direct_hash, g_direct_equal);
        GVariantIter iter;
        const char *path;
        GVariant *ifaces;

        SKIP_IF_NO_HOST(fx);
        objects = get_managed_objects(fx);

        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_loop(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                g_autoptr(GVariant) dev = g_variant_lookup_value(ifaces, VH_DEVICE_INTERFACE, G_VARIANT_TYPE("a{sv}"));
                g_autoptr(GVariant) grp = g_variant_lookup_value(ifaces, VH_GROUP_INTERFACE, G_VARIANT_TYPE("a{sv}"));

                /* VMs and VFIO processes: their own test (test-vms.c). */
                if (g_str_has_prefix(path, VH_VM_PATH_PREFIX "/") || g_str_has_prefix(path, VH_PROCESS_PATH_PREFIX "/")) {
                        gboolean vm = g_str_has_prefix(path, VH_VM_PATH_PREFIX "/");
                        g_autoptr(GVariant) holder = g_variant_lookup_value(ifaces, vm ? VH_VM_INTERFACE :
                                                                            VH_PROCESS_INTERFACE, NULL);

                        g_assert_nonnull(holder);
                        g_assert_false(dev || grp);
                        continue;
                }
                g_assert_true(dev || grp);
                g_assert_false(dev && grp);
                if (dev) {
                        g_autoptr(GVariant) addr_v = lookup(dev, "Address", "s");
                        const char *addr = g_variant_get_string(addr_v, NULL);
                        const VhTestFunction *f = vh_test_host_find(fx->host, addr);
                        g_autofree char *expected = device_path(addr);

                        if (!f)
                                g_error("%s: device %s is not in the tree", path, addr);
                        g_assert_cmpstr(path, ==, expected);
                        g_assert_false(g_hash_table_contains(seen_devices, f->address));
                        g_hash_table_add(seen_devices, f->address);
                        check_device(fx, f, dev, objects);
                } else {
                        g_autoptr(GVariant) id_v = lookup(grp, "Id", "u");
                        guint id = g_variant_get_uint32(id_v);
                        const VhTestGroup *g = vh_test_host_find_group(fx->host, id);
                        g_autofree char *expected = group_path((int) id);

                        if (!g)
                                g_error("%s: group %u is not in the tree", path, id);
                        g_assert_cmpstr(path, ==, expected);
                        g_assert_false(g_hash_table_contains(seen_groups, GUINT_TO_POINTER(id + 1)));
                        g_hash_table_add(seen_groups, GUINT_TO_POINTER(id + 1));
                        check_group(fx, g, grp, data);
                }
        }

        /* Exactly one Device1 per function of sys/bus/pci/devices, one Group1
         * per directory of sys/kernel/iommu_groups. */
        for (guint i = 0; i < fx->host->functions->len; i++) {
                const VhTestFunction *f = fx->host->functions->pdata[i];
                if (!g_hash_table_contains(seen_devices, f->address))
                        g_error("device %s of the tree has no object", f->address);
        }
        for (guint i = 0; i < fx->host->groups->len; i++) {
                const VhTestGroup *g = fx->host->groups->pdata[i];
                if (!g_hash_table_contains(seen_groups, GUINT_TO_POINTER(g->id + 1)))
                        g_error("group %u of the tree has no object", g->id);
        }
        g_assert_cmpuint(g_hash_table_size(seen_devices), ==, fx->host->functions->len);
        g_assert_cmpuint(g_hash_table_size(seen_groups), ==, fx->host->groups->len);

        /* Properties.GetAll on each object agrees with GetManagedObjects. */
        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_loop(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                GVariantIter it2;
                const char *iface;
                GVariant *props;

                g_variant_iter_init(&it2, ifaces);
                while (g_variant_iter_loop(&it2, "{&s@a{sv}}", &iface, &props)) {
                        g_autoptr(GError) error = NULL;
                        g_autoptr(GVariant) all = NULL, dict = NULL;

                        if (!g_str_has_prefix(iface, "org.vfiohost."))
                                continue;
                        all = vh_test_bus_call(fx->bus, path, "org.freedesktop.DBus.Properties", "GetAll",
                                               g_variant_new("(s)", iface), "(a{sv})", &error);
                        g_assert_no_error(error);
                        dict = g_variant_get_child_value(all, 0);
                        if (!g_variant_equal(dict, props)) {
                                g_autofree char *a = g_variant_print(dict, TRUE);
                                g_autofree char *b = g_variant_print(props, TRUE);
                                g_error("%s %s: GetAll %s differs from GetManagedObjects %s", path, iface, a, b);
                        }
                }
        }
}

/* ---------- ListDevices: the same properties, in columns ---------- */

static GVariant *list_devices(Fixture *fx, const char * const *names, GVariant **ret_columns, GError **error) {
        g_autoptr(GVariant) r = NULL;
        GVariant *paths;

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "ListDevices",
                             g_variant_new("(^as)", names), "(aoa{sv})", error);
        if (!r)
                return NULL;
        paths = g_variant_get_child_value(r, 0);
        *ret_columns = g_variant_get_child_value(r, 1);
        return paths;
}

/* PCI address order, read here without the daemon's code. */
static guint64 address_key(const char *address) {
        unsigned domain, bus, slot, function;

        g_assert_cmpint(sscanf(address, "%x:%x:%x.%x", &domain, &bus, &slot, &function), ==, 4);
        return ((guint64) domain << 16) | (bus << 8) | (slot << 3) | function;
}

/* Device i's a{sv}, put together from the columns. */
static GVariant *row_of(GVariant *columns, gsize i, gsize n_devices) {
        GVariantBuilder b;
        GVariantIter iter;
        const char *name;
        GVariant *column;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_iter_init(&iter, columns);
        while (g_variant_iter_loop(&iter, "{&sv}", &name, &column)) {
                g_assert_true(g_variant_is_of_type(column, G_VARIANT_TYPE_ARRAY));
                if (g_variant_n_children(column) != n_devices)
                        g_error("column %s has %" G_GSIZE_FORMAT " values for %" G_GSIZE_FORMAT " devices", name,
                                g_variant_n_children(column), n_devices);
                g_autoptr(GVariant) value = g_variant_get_child_value(column, i);

                g_variant_builder_add(&b, "{sv}", name, value);
        }
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* Every device's properties from ListDevices equal GetManagedObjects',
 * names, types, values and order alike; the devices in address order. */
static void test_list_devices(Fixture *fx, gconstpointer data) {
        static const char * const all[] = { NULL };
        g_autoptr(GVariant) objects = NULL, paths = NULL, columns = NULL;
        g_autoptr(GError) error = NULL;
        gsize n;

        SKIP_IF_NO_HOST(fx);
        objects = get_managed_objects(fx);
        paths = list_devices(fx, all, &columns, &error);
        g_assert_no_error(error);

        n = g_variant_n_children(paths);
        g_assert_cmpuint(n, ==, fx->host->functions->len);
        for (gsize i = 0; i < n; i++) {
                const char *path = NULL, *prev = NULL;
                g_autoptr(GVariant) ifaces = NULL, expected = NULL, row = NULL, addr = NULL;

                g_variant_get_child(paths, i, "&o", &path);
                if (i > 0) {
                        g_autoptr(GVariant) a = NULL, b = NULL;

                        g_variant_get_child(paths, i - 1, "&o", &prev);
                        g_assert_true(g_variant_lookup(objects, prev, "@a{sa{sv}}", &a));
                        g_assert_true(g_variant_lookup(objects, path, "@a{sa{sv}}", &b));
                        {
                                g_autoptr(GVariant) da = g_variant_lookup_value(a, VH_DEVICE_INTERFACE, NULL);
                                g_autoptr(GVariant) db = g_variant_lookup_value(b, VH_DEVICE_INTERFACE, NULL);
                                g_autoptr(GVariant) x = lookup(da, "Address", "s"), y = lookup(db, "Address", "s");

                                g_assert_cmpuint(address_key(g_variant_get_string(x, NULL)), <,
                                                 address_key(g_variant_get_string(y, NULL)));
                        }
                }
                if (!g_variant_lookup(objects, path, "@a{sa{sv}}", &ifaces))
                        g_error("ListDevices names %s, which GetManagedObjects does not have", path);
                expected = g_variant_lookup_value(ifaces, VH_DEVICE_INTERFACE, G_VARIANT_TYPE("a{sv}"));
                g_assert_nonnull(expected);
                row = row_of(columns, i, n);
                if (!g_variant_equal(row, expected)) {
                        g_autofree char *a = g_variant_print(row, TRUE), *b = g_variant_print(expected, TRUE);

                        g_error("%s: ListDevices gives %s, GetManagedObjects %s", path, a, b);
                }
        }
}

/* Only what is asked for, each once, in the order asked; a name that is no
 * Device1 property is refused by name and the daemon goes on. */
static void test_list_devices_some(Fixture *fx, gconstpointer data) {
        static const char * const some[] = { "Driver", "Address", "HeldBy", "Driver", NULL };
        static const char * const unknown[] = { "Address", "NoSuchProperty", NULL };
        g_autoptr(GVariant) paths = NULL, columns = NULL, bad = NULL, bad_columns = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *owner = current_owner(fx), *name = NULL;
        const char *key;
        GVariantIter iter;
        GVariant *column;
        guint k = 0;

        SKIP_IF_NO_HOST(fx);
        paths = list_devices(fx, some, &columns, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_variant_n_children(columns), ==, 3);
        g_variant_iter_init(&iter, columns);
        while (g_variant_iter_loop(&iter, "{&sv}", &key, &column)) {
                static const char * const order[] = { "Driver", "Address", "HeldBy" };
                static const char * const types[] = { "as", "as", "aao" };

                g_assert_cmpstr(key, ==, order[k]);
                g_assert_cmpstr(g_variant_get_type_string(column), ==, types[k]);
                g_assert_cmpuint(g_variant_n_children(column), ==, g_variant_n_children(paths));
                k++;
        }
        /* The addresses are the tree's, in the paths' order. */
        for (gsize i = 0; i < g_variant_n_children(paths); i++) {
                g_autoptr(GVariant) addresses = g_variant_lookup_value(columns, "Address", G_VARIANT_TYPE("as"));
                const char *address = NULL, *path = NULL;
                g_autofree char *expected = NULL;

                g_variant_get_child(addresses, i, "&s", &address);
                g_variant_get_child(paths, i, "&o", &path);
                g_assert_nonnull(vh_test_host_find(fx->host, address));
                expected = device_path(address);
                g_assert_cmpstr(path, ==, expected);
        }

        bad = list_devices(fx, unknown, &bad_columns, &error);
        g_assert_null(bad);
        name = remote_error_name(error);
        g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.UnknownProperty");
        g_assert_nonnull(strstr(error->message, "'NoSuchProperty'"));
        assert_daemon_alive(fx, owner);
}

/* ---------- bus policy ---------- */

static void assert_run_ok(VhTestRun *run, const char *what) {
        if (run->status != 0) {
                vh_test_run_print(run, what);
                g_error("%s failed", what);
        }
}

/* Anyone may read: the bus policy lets a non-root caller send. */
static void test_nonroot_read(Fixture *fx, gconstpointer data) {
        const VhTestFunction *f;
        g_autofree char *expected = NULL;

        SKIP_IF_NO_HOST(fx);
        f = fx->host->functions->pdata[0];
        expected = device_path(f->address);

        {
                const char *argv[] = { "gdbus", "call", "--system", "--dest", VH_BUS_NAME, "--object-path",
                                       VH_MANAGER_PATH, "--method", VH_MANAGER_INTERFACE ".GetDevice",
                                       f->address, NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, NOBODY_UID);
                assert_run_ok(run, "gdbus call GetDevice as nobody");
                g_assert_nonnull(strstr(run->out, expected));
        }
        {
                /* sd-bus's own client too (busctl is in the systemd package). */
                g_autofree char *busctl = g_find_program_in_path("busctl");
                const char *argv[] = { busctl, "--system", "--no-pager", "call", VH_BUS_NAME, VH_MANAGER_PATH,
                                       VH_MANAGER_INTERFACE, "GetDevice", "s", f->address, NULL };

                if (busctl) {
                        g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, NOBODY_UID);
                        assert_run_ok(run, "busctl call GetDevice as nobody");
                        g_assert_nonnull(strstr(run->out, expected));
                } else
                        g_test_message("busctl not installed: checked with gdbus only");
        }
        {
                /* The project's client, as an unprivileged user would run it. */
                const char *argv[] = { vh_test_env("VH_CTL"), "--json", "list", NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, NOBODY_UID);
                assert_run_ok(run, "vfiohostctl --json list as nobody");
                g_assert_nonnull(strstr(run->out, f->address));
        }
        {
                const char *argv[] = { "gdbus", "call", "--system", "--dest", VH_BUS_NAME, "--object-path",
                                       VH_MANAGER_PATH, "--method", "org.freedesktop.DBus.Properties.Get",
                                       VH_MANAGER_INTERFACE, "Version", NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, NOBODY_UID);
                assert_run_ok(run, "gdbus call Properties.Get as nobody");
                g_assert_nonnull(strstr(run->out, VH_TEST_VERSION));
        }
        {
                const char *argv[] = { "gdbus", "call", "--system", "--dest", VH_BUS_NAME, "--object-path",
                                       VH_MANAGER_PATH, "--method",
                                       "org.freedesktop.DBus.ObjectManager.GetManagedObjects", NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, NOBODY_UID);
                assert_run_ok(run, "gdbus call GetManagedObjects as nobody");
                g_assert_nonnull(strstr(run->out, f->address));
        }
        {
                /* Errors reach a non-root caller too (send_requested_reply). */
                const char *argv[] = { "gdbus", "call", "--system", "--dest", VH_BUS_NAME, "--object-path",
                                       VH_MANAGER_PATH, "--method", VH_MANAGER_INTERFACE ".GetDevice",
                                       "../../etc", NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, NOBODY_UID);
                g_assert_cmpint(run->status, !=, 0);
                if (!strstr(run->err, VH_ERROR_INVALID_ADDRESS)) {
                        vh_test_run_print(run, "gdbus GetDevice bad address as nobody");
                        g_error("no InvalidAddress error for a non-root caller");
                }
        }
        assert_daemon_alive(fx, NULL);
}

static VhTestRun *request_name_as(VhTestBus *bus, int uid) {
        const char *argv[] = { "gdbus", "call", "--system", "--dest", "org.freedesktop.DBus", "--object-path",
                               "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.RequestName",
                               VH_BUS_NAME, "4", NULL };   /* DBUS_NAME_FLAG_DO_NOT_QUEUE */
        return vh_test_bus_run(bus, argv, uid);
}

static void assert_own_denied(VhTestBus *bus) {
        g_autoptr(VhTestRun) run = request_name_as(bus, NOBODY_UID);

        if (run->status == 0 || !strstr(run->err, "AccessDenied")) {
                vh_test_run_print(run, "RequestName(org.vfiohost) as nobody");
                g_error("a non-root process was not refused org.vfiohost with AccessDenied");
        }
}

/* Only root may own org.vfiohost (dbus/org.vfiohost.conf). */
static void test_policy_own(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        guint32 reply = 0;

        SKIP_IF_NO_HOST(fx);

        /* While the daemon owns it... */
        assert_own_denied(fx->bus);
        assert_daemon_alive(fx, NULL);

        /* ...and once it is free. */
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        g_assert_true(vh_test_bus_wait_name(fx->bus, VH_BUS_NAME, FALSE, 5 * vh_test_timeout_multiplier()));
        assert_own_denied(fx->bus);
        g_assert_false(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));

        /* Positive control: root may. */
        r = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
                                        g_variant_new("(su)", VH_BUS_NAME, 4), G_VARIANT_TYPE("(u)"),
                                        G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(r, "(u)", &reply);
        g_assert_cmpuint(reply, ==, 1);    /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
}

int main(int argc, char **argv) {
        static const char *const expected_hosts[] = { "desktop-intel", "desktop-vfio-bound", "server-sriov", "no-iommu" };
        g_autoptr(GPtrArray) hosts = NULL;

        g_test_init(&argc, &argv, NULL);

        hosts = vh_test_host_fixtures();
        for (size_t i = 0; i < G_N_ELEMENTS(expected_hosts); i++)
                if (!g_ptr_array_find_with_equal_func(hosts, expected_hosts[i], g_str_equal, NULL))
                        g_ptr_array_add(hosts, g_strdup(expected_hosts[i]));   /* skips, saying so */

        for (guint i = 0; i < hosts->len; i++) {
                const char *h = hosts->pdata[i];
                g_autofree char *p1 = g_strdup_printf("/manager/%s/properties", h);
                g_autofree char *p2 = g_strdup_printf("/manager/%s/get-device", h);
                g_autofree char *p3 = g_strdup_printf("/manager/%s/bad-calls", h);
                g_autofree char *p4 = g_strdup_printf("/manager/%s/managed-objects", h);
                g_autofree char *p5 = g_strdup_printf("/manager/%s/list-devices", h);

                g_test_add(p1, Fixture, h, fixture_setup, test_properties, fixture_teardown);
                g_test_add(p2, Fixture, h, fixture_setup, test_get_device, fixture_teardown);
                g_test_add(p3, Fixture, h, fixture_setup, test_bad_calls, fixture_teardown);
                g_test_add(p4, Fixture, h, fixture_setup, test_managed_objects, fixture_teardown);
                g_test_add(p5, Fixture, h, fixture_setup, test_list_devices, fixture_teardown);
        }
        g_test_add("/manager/errors/utf8-cut", Fixture, "desktop-intel", fixture_setup, test_utf8_cut,
                   fixture_teardown);
        g_test_add("/manager/list-devices/some", Fixture, "desktop-vfio-bound", fixture_setup,
                   test_list_devices_some, fixture_teardown);
        g_test_add("/manager/paths/canonical", Fixture, "desktop-intel", fixture_setup, test_canonical_paths,
                   fixture_teardown);
        g_test_add("/manager/policy/nonroot-read", Fixture, "desktop-intel",
                   fixture_setup, test_nonroot_read, fixture_teardown);
        g_test_add("/manager/policy/own", Fixture, "desktop-intel",
                   fixture_setup, test_policy_own, fixture_teardown);

        return g_test_run();
}
