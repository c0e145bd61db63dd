/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The contract test: the running daemon's introspection of every
 * org.vfiohost.* interface equals dbus/org.vfiohost.xml — methods with their
 * argument names and signatures, properties with type, access and the
 * effective EmitsChangedSignal value, signals with their arguments.
 * Any difference fails, listing all of them. */
#include <string.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-host.h"

#define EMITS_CHANGED "org.freedesktop.DBus.Property.EmitsChangedSignal"

typedef struct {
        VhTestBus *bus;
        char *root;
        VhTestHost *host;
} Fixture;

static const char *pick_host(void) {
        static const char *const preferred[] = { "desktop-intel", "server-sriov", "desktop-vfio-bound" };
        g_autoptr(GPtrArray) hosts = vh_test_host_fixtures();
        static char *name;

        for (size_t i = 0; i < G_N_ELEMENTS(preferred); i++)
                if (g_ptr_array_find_with_equal_func(hosts, preferred[i], g_str_equal, NULL))
                        return preferred[i];
        if (!name && hosts->len > 0)
                name = g_strdup(hosts->pdata[0]);
        return name ? name : "desktop-intel";
}

/* A contract test on a host with VMs or VFIO processes: the host, and the
 * interface its holders must show. */
typedef struct {
        const char *host;
        const char *interface;
} HolderCase;

static const HolderCase vm_case = { "desktop-vfio-bound", VH_VM_INTERFACE };
static const HolderCase process_case = { "server-sriov-vfs", VH_PROCESS_INTERFACE };

static void fixture_setup(Fixture *fx, gconstpointer data) {
        const HolderCase *c = data;

        vh_test_bus_fixture_start(&fx->bus, &fx->root, c ? c->host : pick_host(), VH_TEST_ROOT_SHARED);
        if (fx->root)
                fx->host = vh_test_host_load(fx->root);
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        vh_test_host_free(fx->host);
        vh_test_bus_fixture_stop(&fx->bus, &fx->root);
}

/* GDBus ignores <doc:doc> today; should it ever reject them, strip the doc
 * namespace's elements and retry. */
static GDBusNodeInfo *parse_contract(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        GDBusNodeInfo *node;

        g_file_get_contents(vh_test_env("VH_DBUS_XML"), &xml, NULL, &error);
        g_assert_no_error(error);
        node = g_dbus_node_info_new_for_xml(xml, &error);
        if (!node) {
                g_autoptr(GRegex) re = g_regex_new("<doc:([a-z]+)[^>]*>.*?</doc:\\1>|<doc:[^>]*/>",
                                                   G_REGEX_DOTALL, 0, NULL);
                g_autofree char *stripped = g_regex_replace_literal(re, xml, -1, 0, "", 0, NULL);

                g_test_message("GDBus rejected the contract (%s); retrying without doc: elements", error->message);
                g_clear_error(&error);
                node = g_dbus_node_info_new_for_xml(stripped, &error);
        }
        g_assert_no_error(error);
        return node;
}

static GDBusNodeInfo *introspect(Fixture *fx, const char *path) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        const char *xml;
        GDBusNodeInfo *node;

        r = vh_test_bus_call(fx->bus, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                             NULL, "(s)", &error);
        g_assert_no_error(error);
        g_variant_get(r, "(&s)", &xml);
        node = g_dbus_node_info_new_for_xml(xml, &error);
        if (!node)
                g_error("introspection of %s does not parse: %s\n%s", path, error->message, xml);
        return node;
}

static const char *annotation(GDBusAnnotationInfo **annotations, const char *name) {
        return g_dbus_annotation_info_lookup(annotations, name);
}

static const char *effective_emits(GDBusInterfaceInfo *iface, GDBusPropertyInfo *prop) {
        const char *v = annotation(prop->annotations, EMITS_CHANGED);

        if (!v)
                v = annotation(iface->annotations, EMITS_CHANGED);
        return v ? v : "true";
}

static const char *access_name(GDBusPropertyInfoFlags flags) {
        gboolean r = flags & G_DBUS_PROPERTY_INFO_FLAGS_READABLE, w = flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE;
        return r && w ? "readwrite" : r ? "read" : w ? "write" : "none";
}

static char *format_args(GDBusArgInfo **args) {
        GString *s = g_string_new("(");

        for (size_t i = 0; args && args[i]; i++)
                g_string_append_printf(s, "%s%s %s", i ? ", " : "", args[i]->signature,
                                       args[i]->name ? args[i]->name : "(unnamed)");
        g_string_append_c(s, ')');
        return g_string_free(s, FALSE);
}

static void compare_args(GString *diff, const char *what, GDBusArgInfo **want, GDBusArgInfo **got) {
        g_autofree char *a = format_args(want), *b = format_args(got);

        if (strcmp(a, b) != 0)
                g_string_append_printf(diff, "  %s: contract %s, daemon %s\n", what, a, b);
}

static void compare_interface(GString *diff, GDBusInterfaceInfo *want, GDBusInterfaceInfo *got) {
        /* Methods. */
        for (size_t i = 0; want->methods && want->methods[i]; i++) {
                GDBusMethodInfo *m = want->methods[i];
                GDBusMethodInfo *g = g_dbus_interface_info_lookup_method(got, m->name);
                g_autofree char *in = g_strdup_printf("%s.%s() in-args", want->name, m->name);
                g_autofree char *out = g_strdup_printf("%s.%s() out-args", want->name, m->name);

                if (!g) {
                        g_string_append_printf(diff, "  %s.%s(): method missing in the daemon\n", want->name, m->name);
                        continue;
                }
                compare_args(diff, in, m->in_args, g->in_args);
                compare_args(diff, out, m->out_args, g->out_args);
        }
        for (size_t i = 0; got->methods && got->methods[i]; i++)
                if (!g_dbus_interface_info_lookup_method(want, got->methods[i]->name))
                        g_string_append_printf(diff, "  %s.%s(): method not in the contract\n",
                                               want->name, got->methods[i]->name);

        /* Properties. */
        for (size_t i = 0; want->properties && want->properties[i]; i++) {
                GDBusPropertyInfo *p = want->properties[i];
                GDBusPropertyInfo *g = g_dbus_interface_info_lookup_property(got, p->name);

                if (!g) {
                        g_string_append_printf(diff, "  %s.%s: property missing in the daemon\n", want->name, p->name);
                        continue;
                }
                if (strcmp(p->signature, g->signature) != 0)
                        g_string_append_printf(diff, "  %s.%s: type contract '%s', daemon '%s'\n",
                                               want->name, p->name, p->signature, g->signature);
                if (p->flags != g->flags)
                        g_string_append_printf(diff, "  %s.%s: access contract %s, daemon %s\n",
                                               want->name, p->name, access_name(p->flags), access_name(g->flags));
                if (strcmp(effective_emits(want, p), effective_emits(got, g)) != 0)
                        g_string_append_printf(diff, "  %s.%s: EmitsChangedSignal contract %s, daemon %s\n",
                                               want->name, p->name, effective_emits(want, p), effective_emits(got, g));
        }
        for (size_t i = 0; got->properties && got->properties[i]; i++)
                if (!g_dbus_interface_info_lookup_property(want, got->properties[i]->name))
                        g_string_append_printf(diff, "  %s.%s: property not in the contract\n",
                                               want->name, got->properties[i]->name);

        /* Signals. */
        for (size_t i = 0; want->signals && want->signals[i]; i++) {
                GDBusSignalInfo *s = want->signals[i];
                GDBusSignalInfo *g = g_dbus_interface_info_lookup_signal(got, s->name);
                g_autofree char *what = g_strdup_printf("%s::%s args", want->name, s->name);

                if (!g) {
                        g_string_append_printf(diff, "  %s::%s: signal missing in the daemon\n", want->name, s->name);
                        continue;
                }
                compare_args(diff, what, s->args, g->args);
        }
        for (size_t i = 0; got->signals && got->signals[i]; i++)
                if (!g_dbus_interface_info_lookup_signal(want, got->signals[i]->name))
                        g_string_append_printf(diff, "  %s::%s: signal not in the contract\n",
                                               want->name, got->signals[i]->name);
}

/* The children of a node below which objects come and go (VMs, VFIO
 * processes), as full paths. */
static void add_children(Fixture *fx, GPtrArray *paths, const char *prefix) {
        g_autoptr(GDBusNodeInfo) node = introspect(fx, prefix);

        for (size_t i = 0; node->nodes && node->nodes[i]; i++)
                g_ptr_array_add(paths, g_strdup_printf("%s/%s", prefix, node->nodes[i]->path));
}

static void test_contract(Fixture *fx, gconstpointer data) {
        const HolderCase *c = data;
        g_autoptr(GString) diff = g_string_new(NULL);
        g_autoptr(GDBusNodeInfo) contract = NULL;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

        if (!fx->root)
                return;
        contract = parse_contract();
        g_assert_nonnull(contract->interfaces);
        g_assert_nonnull(contract->interfaces[0]);

        g_ptr_array_add(paths, g_strdup(VH_MANAGER_PATH));
        if (fx->host->functions->len > 0) {
                const VhTestFunction *f = fx->host->functions->pdata[0];
                g_ptr_array_add(paths, vh_test_path_encode(VH_DEVICE_PATH_PREFIX, f->address));
        }
        if (fx->host->groups->len > 0) {
                const VhTestGroup *g = fx->host->groups->pdata[0];
                g_ptr_array_add(paths, g_strdup_printf(VH_GROUP_PATH_PREFIX "/%u", g->id));
        } else
                g_string_append(diff, "  (the fixture host has no IOMMU group: Group1 cannot be checked)\n");
        add_children(fx, paths, VH_VM_PATH_PREFIX);
        add_children(fx, paths, VH_PROCESS_PATH_PREFIX);

        for (guint i = 0; i < paths->len; i++) {
                const char *path = paths->pdata[i];
                g_autoptr(GDBusNodeInfo) node = introspect(fx, path);
                gboolean any = FALSE;

                for (size_t k = 0; node->interfaces && node->interfaces[k]; k++) {
                        GDBusInterfaceInfo *got = node->interfaces[k];
                        GDBusInterfaceInfo *want;

                        if (!g_str_has_prefix(got->name, "org.vfiohost."))
                                continue;
                        any = TRUE;
                        want = g_dbus_node_info_lookup_interface(contract, got->name);
                        if (!want) {
                                g_string_append_printf(diff, "  %s on %s: interface not in the contract\n",
                                                       got->name, path);
                                continue;
                        }
                        g_test_message("comparing %s on %s", got->name, path);
                        g_hash_table_add(seen, want->name);
                        compare_interface(diff, want, got);
                }
                if (!any)
                        g_string_append_printf(diff, "  %s: no org.vfiohost interface\n", path);
                if (strcmp(path, VH_MANAGER_PATH) == 0 &&
                    !g_dbus_node_info_lookup_interface(node, "org.freedesktop.DBus.ObjectManager"))
                        g_string_append_printf(diff, "  %s: no org.freedesktop.DBus.ObjectManager\n", path);
        }

        /* VMs and VFIO processes are where a host has them: each has a
         * test on a host that does (vm_case, process_case). */
        for (size_t k = 0; contract->interfaces[k]; k++) {
                const char *name = contract->interfaces[k]->name;
                gboolean holder = strcmp(name, VH_VM_INTERFACE) == 0 || strcmp(name, VH_PROCESS_INTERFACE) == 0;

                if (g_hash_table_contains(seen, name))
                        continue;
                if (holder ? c && strcmp(c->interface, name) == 0 :
                             fx->host->groups->len > 0 || strcmp(name, VH_GROUP_INTERFACE) != 0)
                        g_string_append_printf(diff, "  %s: in the contract, on none of the objects checked\n", name);
        }

        if (diff->len > 0)
                g_error("the daemon's introspection differs from %s:\n%s", vh_test_env("VH_DBUS_XML"), diff->str);
}

/* The interfaces sit where the contract says: Manager1 on the manager,
 * Device1 on devices, Group1 on groups, and each node lists its children. */
static void test_placement(Fixture *fx, gconstpointer data) {
        g_autoptr(GDBusNodeInfo) root = NULL;
        g_autoptr(GDBusNodeInfo) devices = NULL;
        gboolean has_device_node = FALSE;

        if (!fx->root)
                return;
        root = introspect(fx, VH_MANAGER_PATH);
        g_assert_nonnull(g_dbus_node_info_lookup_interface(root, VH_MANAGER_INTERFACE));
        g_assert_null(g_dbus_node_info_lookup_interface(root, VH_DEVICE_INTERFACE));
        g_assert_null(g_dbus_node_info_lookup_interface(root, VH_GROUP_INTERFACE));
        for (size_t i = 0; root->nodes && root->nodes[i]; i++)
                if (g_strcmp0(root->nodes[i]->path, "device") == 0)
                        has_device_node = TRUE;
        g_assert_true(has_device_node);

        /* Every device shows up as a child node of /org/vfiohost/device. */
        devices = introspect(fx, VH_DEVICE_PATH_PREFIX);
        for (guint i = 0; i < fx->host->functions->len; i++) {
                const VhTestFunction *f = fx->host->functions->pdata[i];
                g_autofree char *path = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, f->address);
                const char *leaf = path + strlen(VH_DEVICE_PATH_PREFIX "/");
                gboolean found = FALSE;
                g_autoptr(GDBusNodeInfo) node = introspect(fx, path);

                for (size_t k = 0; devices->nodes && devices->nodes[k]; k++)
                        if (g_strcmp0(devices->nodes[k]->path, leaf) == 0)
                                found = TRUE;
                if (!found)
                        g_error("%s is not listed as a child of %s", leaf, VH_DEVICE_PATH_PREFIX);
                g_assert_nonnull(g_dbus_node_info_lookup_interface(node, VH_DEVICE_INTERFACE));
                g_assert_null(g_dbus_node_info_lookup_interface(node, VH_MANAGER_INTERFACE));
                g_assert_nonnull(g_dbus_node_info_lookup_interface(node, "org.freedesktop.DBus.Properties"));
        }
        for (guint i = 0; i < fx->host->groups->len; i++) {
                const VhTestGroup *g = fx->host->groups->pdata[i];
                g_autofree char *path = g_strdup_printf(VH_GROUP_PATH_PREFIX "/%u", g->id);
                g_autoptr(GDBusNodeInfo) node = introspect(fx, path);

                g_assert_nonnull(g_dbus_node_info_lookup_interface(node, VH_GROUP_INTERFACE));
                g_assert_null(g_dbus_node_info_lookup_interface(node, VH_DEVICE_INTERFACE));
        }
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add("/introspection/contract", Fixture, NULL, fixture_setup, test_contract, fixture_teardown);
        g_test_add("/introspection/contract/vm", Fixture, &vm_case, fixture_setup, test_contract, fixture_teardown);
        g_test_add("/introspection/contract/process", Fixture, &process_case, fixture_setup, test_contract,
                   fixture_teardown);
        g_test_add("/introspection/placement", Fixture, NULL, fixture_setup, test_placement, fixture_teardown);

        return g_test_run();
}
