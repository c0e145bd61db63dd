/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "vh-test-bus.h"

/* A python3-dbusmock service on the test bus, from one of the project's
 * templates in tests/data/dbusmock/ (docs/testing.md): a bus policy that
 * lets root own the name and anyone call it (in the bus's system.d,
 * ReloadConfig), the template run as root, logging to the bus's log. */

typedef struct VhTestDbusmock {
        VhTestBus *bus;                 /* not owned */
        char *name;                     /* the bus name it owns */
        GPid pid;
} VhTestDbusmock;

/* g_test_skip() and FALSE without /usr/bin/python3 and dbusmock. */
gboolean vh_test_dbusmock_requirements(void);

/* The policy alone: root may own name, anyone may call it (as the real
 * service's policy lets anyone call it). */
void vh_test_dbusmock_allow(VhTestBus *bus, const char *name);

/* Starts tests/data/dbusmock/<template>.py owning name and waits for it;
 * without such a file, python-dbusmock's own template of that name
 * (polkitd). */
VhTestDbusmock *vh_test_dbusmock_start(VhTestBus *bus, const char *name, const char *template);
/* SIGTERM, reap, free. */
void vh_test_dbusmock_free(VhTestDbusmock *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestDbusmock, vh_test_dbusmock_free)

/* Calls method on the mock (asserting success); the reply, or NULL for
 * none expected (reply_type NULL). */
GVariant *vh_test_dbusmock_call(VhTestDbusmock *m, const char *path, const char *interface, const char *method,
                                GVariant *params, const char *reply_type);
