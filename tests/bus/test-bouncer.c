/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Deny by default (service/bus/vh-bus-bouncer.c, bolt's bouncer): one table
 * lists every member of every interface the daemon answers — read-only, or
 * mapped to a polkit action — and a bus filter consults it before any
 * handler runs; a member missing from it is AccessDenied.
 *
 *  /bouncer/table            the rows say what the contract says;
 *  /bouncer/before-handlers  a vtable member missing from the table never
 *                            reaches its handler (a direct sd-bus pair);
 *  /bouncer/contract         every method and writable property in the live
 *                            introspection of the manager, a device, a
 *                            group and a VM has a row with its signature,
 *                            and every row is a member;
 *  /bouncer/live/...         the running daemon: anything it answers that is
 *                            not in the table is refused with AccessDenied,
 *                            listed members still work. */

#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <glib.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "vh-bus-bouncer.h"
#include "vh-names.h"
#include "vh-test-bus.h"

#define ERROR_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"

typedef struct {
        VhTestBus *bus;
        char *root;
        char *device_path;
        char *group_path;
        char *vm_path;                  /* a VM's object, on hosts that have one */
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL, g = NULL;
        const char *path = NULL;

        vh_test_bus_fixture_start(&fx->bus, &fx->root, data ? data : "desktop-intel", VH_TEST_ROOT_SHARED);
        if (!fx->root)
                return;

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                             g_variant_new("(s)", "0000:01:00.0"), "(o)", &error);
        g_assert_no_error(error);
        g_variant_get(r, "(&o)", &path);
        fx->device_path = g_strdup(path);
        g = vh_test_bus_get_property(fx->bus, fx->device_path, VH_DEVICE_INTERFACE, "Group", &error);
        g_assert_no_error(error);
        fx->group_path = g_variant_dup_string(g, NULL);
        /* desktop-vfio-bound's QEMU "win11" */
        if (data && strcmp(data, "desktop-vfio-bound") == 0)
                fx->vm_path = g_strdup(VH_VM_PATH_PREFIX "/3456");
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        g_free(fx->device_path);
        g_free(fx->group_path);
        g_free(fx->vm_path);
        vh_test_bus_fixture_stop(&fx->bus, &fx->root);
}

#define SKIP_UNLESS_READY(fx) do { if (!(fx)->group_path) return; } while (0)

/* Sends a raw call (interface may be NULL) and returns the error name, NULL
 * on success. */
static char *call_raw(Fixture *fx, const char *path, const char *interface, const char *member, GVariant *body,
                      char **ret_message) {
        g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call(VH_BUS_NAME, path, interface, member);
        g_autoptr(GDBusMessage) reply = NULL;
        g_autoptr(GError) error = NULL;

        if (body)
                g_dbus_message_set_body(call, body);
        reply = g_dbus_connection_send_message_with_reply_sync(vh_test_bus_connection(fx->bus), call,
                                                               G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                                               (int) (10000 * vh_test_timeout_multiplier()),
                                                               NULL, NULL, &error);
        g_assert_no_error(error);
        if (g_dbus_message_get_message_type(reply) != G_DBUS_MESSAGE_TYPE_ERROR)
                return NULL;
        if (ret_message) {
                GVariant *b = g_dbus_message_get_body(reply);
                const char *m = "";

                if (b && g_variant_is_of_type(b, G_VARIANT_TYPE("(s)")))
                        g_variant_get(b, "(&s)", &m);
                *ret_message = g_strdup(m);
        }
        return g_strdup(g_dbus_message_get_error_name(reply));
}

static void assert_denied(Fixture *fx, const char *path, const char *interface, const char *member, GVariant *body) {
        g_autofree char *message = NULL;
        g_autofree char *name = call_raw(fx, path, interface, member, body, &message);

        g_test_message("%s %s.%s -> %s: %s", path, interface ? interface : "(no interface)", member,
                       name ? name : "success", message ? message : "");
        g_assert_cmpstr(name, ==, ERROR_ACCESS_DENIED);
        /* It says what was refused. */
        g_assert_nonnull(strstr(message, member));
}

/* Members sd-bus would answer (or report unknown) that the table does not
 * list: refused by the bouncer, whatever the object. */
static void test_live_unlisted_denied(Fixture *fx, gconstpointer data) {
        const char *const paths[] = { VH_MANAGER_PATH, fx->device_path, fx->group_path, "/org/vfiohost/nowhere" };

        SKIP_UNLESS_READY(fx);
        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
                assert_denied(fx, paths[i], VH_MANAGER_INTERFACE, "Frobnicate", NULL);
                assert_denied(fx, paths[i], "org.vfiohost.Nothing1", "GetDevice", NULL);
                assert_denied(fx, paths[i], NULL, "GetDevice", g_variant_new("(s)", "0000:01:00.0"));
                assert_denied(fx, paths[i], "org.freedesktop.DBus.Properties", "Frobnicate", NULL);
        }
        /* No property is writable: Set is refused before sd-bus looks. */
        assert_denied(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.Properties", "Set",
                      g_variant_new("(ssv)", VH_MANAGER_INTERFACE, "Readiness", g_variant_new_string("ready")));
        assert_denied(fx, fx->device_path, "org.freedesktop.DBus.Properties", "Set",
                      g_variant_new("(ssv)", VH_DEVICE_INTERFACE, "Driver", g_variant_new_string("vfio-pci")));
        assert_denied(fx, fx->group_path, "org.freedesktop.DBus.Properties", "Set",
                      g_variant_new("(ssv)", VH_GROUP_INTERFACE, "Viable", g_variant_new_boolean(TRUE)));
}

/* A listed member with other arguments than its row says is InvalidArgs,
 * also where sd-bus itself would ignore the extra ones. */
static void test_live_signatures(Fixture *fx, gconstpointer data) {
        static const struct {
                const char *interface, *member;
        } builtins[] = {
                { "org.freedesktop.DBus.Peer", "Ping" },
                { "org.freedesktop.DBus.Peer", "GetMachineId" },
                { "org.freedesktop.DBus.Introspectable", "Introspect" },
                { "org.freedesktop.DBus.ObjectManager", "GetManagedObjects" },
        };

        SKIP_UNLESS_READY(fx);
        for (size_t i = 0; i < G_N_ELEMENTS(builtins); i++) {
                g_autofree char *name = call_raw(fx, VH_MANAGER_PATH, builtins[i].interface, builtins[i].member,
                                                 g_variant_new("(u)", 1), NULL);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        {
                g_autofree char *name = call_raw(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                                                 g_variant_new("(ss)", VH_MANAGER_INTERFACE, "x"), NULL);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        {
                g_autofree char *name = call_raw(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get",
                                                 g_variant_new("(sss)", VH_MANAGER_INTERFACE, "Version", "x"), NULL);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        {
                g_autofree char *name = call_raw(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.Properties", "Set",
                                                 g_variant_new("(ss)", VH_MANAGER_INTERFACE, "Version"), NULL);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
        }
        {
                g_autofree char *name = call_raw(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                                                 g_variant_new("(s)", "0000:01:00.0"), NULL);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.InvalidArgs");
        }
}

/* Listed members still work through the filter. */
static void test_live_listed_pass(Fixture *fx, gconstpointer data) {
        SKIP_UNLESS_READY(fx);
        g_assert_null(call_raw(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL));
        g_assert_null(call_raw(fx, fx->device_path, "org.freedesktop.DBus.Peer", "GetMachineId", NULL, NULL));
        g_assert_null(call_raw(fx, fx->group_path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL, NULL));
        g_assert_null(call_raw(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               NULL, NULL));
        g_assert_null(call_raw(fx, fx->device_path, "org.freedesktop.DBus.Properties", "Get",
                               g_variant_new("(ss)", VH_DEVICE_INTERFACE, "Driver"), NULL));
        g_assert_null(call_raw(fx, fx->group_path, "org.freedesktop.DBus.Properties", "GetAll",
                               g_variant_new("(s)", VH_GROUP_INTERFACE), NULL));
        g_assert_null(call_raw(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                               g_variant_new("(s)", "0000:01:00.0"), NULL));
        g_assert_null(call_raw(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                               g_variant_new_parsed("('0000:01:00.0', {'group': <true>, 'dry-run': <true>})"), NULL));
}

/* ---------- the table ---------- */

static void test_table(void) {
        const VhBusRule *r;

        r = vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, "Bind");
        g_assert_nonnull(r);
        g_assert_cmpint(r->access, ==, VH_BUS_ACCESS_POLKIT);
        g_assert_cmpstr(r->action, ==, VH_ACTION_BIND);
        r = vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, "Unbind");
        g_assert_nonnull(r);
        g_assert_cmpint(r->access, ==, VH_BUS_ACCESS_POLKIT);
        g_assert_cmpstr(r->action, ==, VH_ACTION_UNBIND);
        r = vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, "GetDevice");
        g_assert_nonnull(r);
        g_assert_cmpint(r->access, ==, VH_BUS_ACCESS_READ_ONLY);
        g_assert_null(r->action);
        r = vh_bus_bouncer_lookup("org.freedesktop.DBus.Properties", "Set");
        g_assert_nonnull(r);
        g_assert_cmpint(r->access, ==, VH_BUS_ACCESS_PER_PROPERTY);

        /* Exact interface and member, nothing else. */
        g_assert_null(vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, "bind"));
        g_assert_null(vh_bus_bouncer_lookup(VH_DEVICE_INTERFACE, "Bind"));
        g_assert_null(vh_bus_bouncer_lookup(NULL, "Bind"));
        g_assert_null(vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, NULL));
        g_assert_null(vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, ""));
        g_assert_null(vh_bus_bouncer_lookup(VH_MANAGER_INTERFACE, "Frobnicate"));
        /* No property is writable. */
        g_assert_null(vh_bus_bouncer_lookup_setter(VH_MANAGER_INTERFACE, "Readiness"));
        g_assert_null(vh_bus_bouncer_lookup_setter(VH_DEVICE_INTERFACE, "Driver"));
        g_assert_null(vh_bus_bouncer_lookup_setter(VH_DEVICE_INTERFACE, "DriverOverride"));

        /* A polkit row names an action the policy declares. */
        {
                size_t n;
                const VhBusRule *rules = vh_bus_bouncer_rules(&n);
                g_autofree char *policy = NULL;

                g_assert_true(g_file_get_contents(vh_test_env("VH_POLKIT_POLICY"), &policy, NULL, NULL));
                for (size_t i = 0; i < n; i++) {
                        g_autofree char *id = NULL;

                        if (rules[i].access != VH_BUS_ACCESS_POLKIT) {
                                g_assert_null(rules[i].action);
                                continue;
                        }
                        g_assert_nonnull(rules[i].action);
                        id = g_strdup_printf("<action id=\"%s\">", rules[i].action);
                        if (!strstr(policy, id))
                                g_error("%s.%s is mapped to %s, which org.vfiohost.policy (polkit/org.vfiohost.policy.in) does not declare",
                                        rules[i].interface, rules[i].member, rules[i].action);
                }
        }
}

/* ---------- before any handler: a direct sd-bus pair ---------- */

static gint ran_unlisted, ran_listed, ran_setter;
static volatile gboolean server_stop;

static int method_unlisted(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        g_atomic_int_inc(&ran_unlisted);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_listed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        g_atomic_int_inc(&ran_listed);
        return sd_bus_reply_method_return(m, "o", "/org/vfiohost/device/_30000_3a01_3a00_2e0");
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", "x");
}

static int property_set(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *value, void *userdata, sd_bus_error *error) {
        g_atomic_int_inc(&ran_setter);
        return 0;
}

/* A Manager1 with a member the table does not list, as a developer might
 * add one, and a writable property. */
static const sd_bus_vtable test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("GetDevice", "s", "o", method_listed, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Frobnicate", "", "", method_unlisted, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("Knob", "s", property_get, property_set, 0, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static void *server_thread(void *data) {
        sd_bus *server = data;

        while (!server_stop) {
                int r = sd_bus_process(server, NULL);

                g_assert_cmpint(r, >=, 0);
                if (r == 0)
                        (void) sd_bus_wait(server, 50 * 1000);
        }
        return NULL;
}

static void test_before_handlers(void) {
        sd_bus *server = NULL, *client = NULL;
        sd_bus_slot *filter = NULL;
        sd_id128_t id;
        pthread_t thread;
        int fds[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        g_assert_cmpint(sd_id128_randomize(&id), ==, 0);
        g_assert_cmpint(sd_bus_new(&server), ==, 0);
        g_assert_cmpint(sd_bus_set_fd(server, fds[0], fds[0]), ==, 0);
        g_assert_cmpint(sd_bus_set_server(server, 1, id), ==, 0);
        g_assert_cmpint(vh_bus_bouncer_install(server, &filter), >=, 0);
        g_assert_cmpint(sd_bus_add_object_vtable(server, NULL, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                 test_vtable, NULL), >=, 0);
        g_assert_cmpint(sd_bus_start(server), >=, 0);
        g_assert_cmpint(sd_bus_new(&client), ==, 0);
        g_assert_cmpint(sd_bus_set_fd(client, fds[1], fds[1]), ==, 0);
        g_assert_cmpint(sd_bus_start(client), >=, 0);
        server_stop = FALSE;
        g_assert_cmpint(pthread_create(&thread, NULL, server_thread, server), ==, 0);

        {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                int r = sd_bus_call_method(client, NULL, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Frobnicate",
                                           &error, &reply, "");

                g_test_message("Frobnicate: %d %s: %s", r, error.name, error.message);
                g_assert_cmpint(r, <, 0);
                g_assert_cmpstr(error.name, ==, SD_BUS_ERROR_ACCESS_DENIED);
                g_assert_nonnull(strstr(error.message, "Frobnicate"));
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
        }
        {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = sd_bus_set_property(client, NULL, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Knob", &error,
                                            "s", "turned");

                g_test_message("Set Knob: %d %s: %s", r, error.name, error.message);
                g_assert_cmpint(r, <, 0);
                g_assert_cmpstr(error.name, ==, SD_BUS_ERROR_ACCESS_DENIED);
                g_assert_nonnull(strstr(error.message, "Knob"));
                sd_bus_error_free(&error);
        }
        {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                int r = sd_bus_call_method(client, NULL, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                           &error, &reply, "s", "0000:01:00.0");

                g_assert_cmpint(r, >=, 0);
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
        }
        {
                /* A listed read of the writable property still works. */
                sd_bus_error error = SD_BUS_ERROR_NULL;
                char *v = NULL;

                g_assert_cmpint(sd_bus_get_property_string(client, NULL, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                           "Knob", &error, &v), >=, 0);
                g_assert_cmpstr(v, ==, "x");
                free(v);
                sd_bus_error_free(&error);
        }

        server_stop = TRUE;
        g_assert_cmpint(pthread_join(thread, NULL), ==, 0);
        g_assert_cmpint(g_atomic_int_get(&ran_unlisted), ==, 0);
        g_assert_cmpint(g_atomic_int_get(&ran_setter), ==, 0);
        g_assert_cmpint(g_atomic_int_get(&ran_listed), ==, 1);

        sd_bus_flush_close_unref(client);
        sd_bus_slot_unref(filter);
        sd_bus_flush_close_unref(server);
}

/* ---------- the table against the live introspection ---------- */

static GDBusNodeInfo *introspect(Fixture *fx, const char *path) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                                                 NULL, "(s)", &error);
        const char *xml;
        GDBusNodeInfo *node;

        g_assert_no_error(error);
        g_variant_get(r, "(&s)", &xml);
        node = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        return node;
}

static void test_contract(Fixture *fx, gconstpointer data) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GString) missing = g_string_new(NULL);
        const char *paths[4];
        size_t n_paths = 3, n_rules;
        const VhBusRule *rules = vh_bus_bouncer_rules(&n_rules);
        guint n_members = 0;

        SKIP_UNLESS_READY(fx);
        paths[0] = VH_MANAGER_PATH;
        paths[1] = fx->device_path;
        paths[2] = fx->group_path;
        /* GetVcpus is on VMs only: the contract test runs where there is one. */
        g_assert_nonnull(fx->vm_path);
        paths[n_paths++] = fx->vm_path;

        for (size_t p = 0; p < n_paths; p++) {
                g_autoptr(GDBusNodeInfo) node = introspect(fx, paths[p]);

                g_assert_nonnull(node->interfaces);
                g_assert_nonnull(node->interfaces[0]);
                for (GDBusInterfaceInfo **i = node->interfaces; *i; i++) {
                        for (GDBusMethodInfo **m = (*i)->methods; m && *m; m++) {
                                const VhBusRule *r = vh_bus_bouncer_lookup((*i)->name, (*m)->name);
                                g_autoptr(GString) sig = g_string_new(NULL);

                                for (GDBusArgInfo **a = (*m)->in_args; a && *a; a++)
                                        g_string_append(sig, (*a)->signature);
                                n_members++;
                                g_hash_table_add(seen, g_strdup_printf("%s.%s", (*i)->name, (*m)->name));
                                if (!r)
                                        g_string_append_printf(missing, "  method %s.%s (on %s)\n", (*i)->name,
                                                               (*m)->name, paths[p]);
                                else if (strcmp(r->signature, sig->str) != 0)
                                        g_string_append_printf(missing, "  method %s.%s takes '%s', its row says '%s'\n",
                                                               (*i)->name, (*m)->name, sig->str, r->signature);
                                else
                                        g_test_message("%s %s.%s: %s%s", paths[p], (*i)->name, (*m)->name,
                                                       r->access == VH_BUS_ACCESS_READ_ONLY ? "read-only" :
                                                       r->access == VH_BUS_ACCESS_POLKIT ? "polkit " : "per property",
                                                       r->action ? r->action : "");
                        }
                        for (GDBusPropertyInfo **q = (*i)->properties; q && *q; q++) {
                                if (!((*q)->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE))
                                        continue;
                                n_members++;
                                const VhBusRule *r = vh_bus_bouncer_lookup_setter((*i)->name, (*q)->name);

                                if (!r)
                                        g_string_append_printf(missing, "  setter of %s.%s (on %s)\n",
                                                               (*i)->name, (*q)->name, paths[p]);
                                else if (strcmp(r->signature, (*q)->signature) != 0)
                                        g_string_append_printf(missing, "  property %s.%s is '%s', its row says '%s'\n",
                                                               (*i)->name, (*q)->name, (*q)->signature, r->signature);
                        }
                }
        }
        g_test_message("%u members checked on %s, %s, %s, %s", n_members, paths[0], paths[1], paths[2], paths[3]);
        if (missing->len)
                g_error("members the authorization table (service/bus/vh-bus-bouncer.c) does not list:\n%s",
                        missing->str);

        /* No stale rows: each method row is something the daemon answers. */
        for (size_t i = 0; i < n_rules; i++) {
                g_autofree char *key = g_strdup_printf("%s.%s", rules[i].interface, rules[i].member);

                if (!rules[i].setter && !g_hash_table_contains(seen, key))
                        g_error("the authorization table lists %s, which no object has", key);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bouncer/table", test_table);
        g_test_add_func("/bouncer/before-handlers", test_before_handlers);
        g_test_add("/bouncer/contract", Fixture, "desktop-vfio-bound", fixture_setup, test_contract, fixture_teardown);
        g_test_add("/bouncer/live/unlisted-denied", Fixture, NULL, fixture_setup, test_live_unlisted_denied,
                   fixture_teardown);
        g_test_add("/bouncer/live/signatures", Fixture, NULL, fixture_setup, test_live_signatures,
                   fixture_teardown);
        g_test_add("/bouncer/live/listed-pass", Fixture, NULL, fixture_setup, test_live_listed_pass,
                   fixture_teardown);
        return g_test_run();
}
