/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every signal org.vfiohost emits on the test bus, as one line each:
 * "DriverChanged PATH OLD NEW" ("-" for ""), "DeviceAdded PATH",
 * "InterfacesAdded PATH", "PropertiesChanged PATH Device1 Driver ...". */

#include "vh-test-bus.h"

typedef struct VhTestSignalLog {
        GDBusConnection *conn;
        guint id;
        GPtrArray *lines;               /* "Member path args...", in order */
        GArray *times;                  /* g_get_monotonic_time() of each */
} VhTestSignalLog;

VhTestSignalLog *vh_test_signal_log_new(VhTestBus *bus);
void vh_test_signal_log_free(VhTestSignalLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestSignalLog, vh_test_signal_log_free)
guint vh_test_signal_log_count(VhTestSignalLog *log, const char *line);
/* Lines that start with prefix ("DeviceAdded "). */
guint vh_test_signal_log_count_prefix(VhTestSignalLog *log, const char *prefix);
/* Dispatches until line was seen n times (timeout scaled by the
 * multiplier), then 200 ms more so that a duplicate would show; FALSE on
 * timeout, after printing what was seen. */
gboolean vh_test_signal_log_wait(VhTestSignalLog *log, const char *line, guint n, double timeout_s);
