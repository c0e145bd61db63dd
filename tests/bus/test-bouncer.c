/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Deny by default: every Manager1 method of the contract is either
 * read-only (listed here, on purpose, so adding one is a decision) or
 * mapped to a polkit action; anything unmapped gets no action, which
 * vh_bus_authorize() turns into AccessDenied. */

#include <gio/gio.h>
#include <glib.h>

#include "vh-bus-polkit.h"
#include "vh-names.h"

static const char * const read_only_methods[] = { "GetDevice", "GetReadiness", NULL };

static void test_table(void) {
        g_assert_cmpstr(vh_bus_polkit_action_for("Bind"), ==, VH_ACTION_BIND);
        g_assert_cmpstr(vh_bus_polkit_action_for("Unbind"), ==, VH_ACTION_UNBIND);
        g_assert_null(vh_bus_polkit_action_for("GetDevice"));
        g_assert_null(vh_bus_polkit_action_for("Frobnicate"));
        g_assert_null(vh_bus_polkit_action_for("bind"));
        g_assert_null(vh_bus_polkit_action_for(""));
        g_assert_null(vh_bus_polkit_action_for(NULL));
}

static void test_contract_methods_classified(void) {
        const char *xml_path = g_getenv("VH_DBUS_XML");
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusNodeInfo) node = NULL;
        GDBusInterfaceInfo *manager;

        g_assert_nonnull(xml_path);
        g_assert_true(g_file_get_contents(xml_path, &xml, NULL, &error));
        node = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        manager = g_dbus_node_info_lookup_interface(node, VH_MANAGER_INTERFACE);
        g_assert_nonnull(manager);

        for (GDBusMethodInfo **m = manager->methods; m && *m; m++) {
                gboolean read_only = g_strv_contains(read_only_methods, (*m)->name);
                const char *action = vh_bus_polkit_action_for((*m)->name);

                if (read_only && action)
                        g_test_fail_printf("%s is listed read-only but mapped to %s", (*m)->name, action);
                if (!read_only && !action)
                        g_test_fail_printf("%s is neither read-only nor mapped to a polkit action", (*m)->name);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bouncer/table", test_table);
        g_test_add_func("/bouncer/contract-methods-classified", test_contract_methods_classified);
        return g_test_run();
}
