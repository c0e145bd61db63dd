/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See vh-test-signals.h. */
#include <string.h>

#include "vh-names.h"
#include "vh-test-signals.h"


static void on_signal(GDBusConnection *conn, const char *sender, const char *path, const char *interface,
                      const char *member, GVariant *params, gpointer userdata) {
        VhTestSignalLog *log = userdata;
        GString *line;

        if (!g_str_has_prefix(path, VH_MANAGER_PATH))
                return;
        line = g_string_new(member);
        if (strcmp(member, "PropertiesChanged") == 0) {
                g_autoptr(GVariant) changed = NULL;
                g_autofree const char **invalidated = NULL;
                const char *iface;
                GVariantIter it;
                const char *key;

                g_variant_get(params, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
                g_string_append_printf(line, " %s %s", path, strrchr(iface, '.') + 1);
                g_variant_iter_init(&it, changed);
                while (g_variant_iter_next(&it, "{&sv}", &key, NULL))
                        g_string_append_printf(line, " %s", key);
        } else if (strcmp(member, "InterfacesAdded") == 0 || strcmp(member, "InterfacesRemoved") == 0) {
                const char *object;

                g_variant_get_child(params, 0, "&o", &object);
                g_string_append_printf(line, " %s", object);
        } else {
                /* Manager1's own: (o), (o), (oss). */
                for (gsize i = 0; i < g_variant_n_children(params); i++) {
                        g_autoptr(GVariant) v = g_variant_get_child_value(params, i);

                        g_string_append_printf(line, " %s", g_variant_get_string(v, NULL));
                        if (!*g_variant_get_string(v, NULL))
                                g_string_append(line, "-");
                }
        }
        g_ptr_array_add(log->lines, g_string_free(line, FALSE));
        {
                gint64 now = g_get_monotonic_time();

                g_array_append_val(log->times, now);
        }
}

VhTestSignalLog *vh_test_signal_log_new(VhTestBus *bus) {
        VhTestSignalLog *log = g_new0(VhTestSignalLog, 1);

        log->conn = vh_test_bus_connection(bus);
        log->lines = g_ptr_array_new_with_free_func(g_free);
        log->times = g_array_new(FALSE, FALSE, sizeof(gint64));
        log->id = g_dbus_connection_signal_subscribe(log->conn, NULL, NULL, NULL, NULL, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_signal, log, NULL);
        return log;
}

void vh_test_signal_log_free(VhTestSignalLog *log) {
        g_dbus_connection_signal_unsubscribe(log->conn, log->id);
        g_ptr_array_unref(log->lines);
        g_array_unref(log->times);
        g_free(log);
}

guint vh_test_signal_log_count(VhTestSignalLog *log, const char *line) {
        guint n = 0;

        for (guint i = 0; i < log->lines->len; i++)
                if (strcmp(log->lines->pdata[i], line) == 0)
                        n++;
        return n;
}

/* Dispatches until line was seen n times; then a little longer, so that a
 * duplicate would show. */
guint vh_test_signal_log_count_prefix(VhTestSignalLog *log, const char *prefix) {
        guint n = 0;

        for (guint i = 0; i < log->lines->len; i++)
                if (g_str_has_prefix(log->lines->pdata[i], prefix))
                        n++;
        return n;
}

gboolean vh_test_signal_log_wait(VhTestSignalLog *log, const char *line, guint n, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * vh_test_timeout_multiplier() * G_USEC_PER_SEC);

        while (vh_test_signal_log_count(log, line) < n && g_get_monotonic_time() < deadline)
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(1000);
        if (vh_test_signal_log_count(log, line) < n) {
                for (guint i = 0; i < log->lines->len; i++)
                        g_test_message("seen: %s", (char *) log->lines->pdata[i]);
                return FALSE;
        }
        deadline = g_get_monotonic_time() + 200 * 1000;
        while (g_get_monotonic_time() < deadline)
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(1000);
        return TRUE;
}

