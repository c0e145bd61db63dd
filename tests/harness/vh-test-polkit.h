/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include <gio/gio.h>
#include <glib.h>

#include "vh-test-bus.h"
#include "vh-test-dbusmock.h"

/* polkit for bus tests (see docs/testing.md):
 *
 * - the real polkitd (policy truth): /usr/lib/polkit-1/polkitd on the test
 *   bus, inside `unshare --mount --propagation private` with test directories
 *   bind-mounted over /usr/share/polkit-1/actions (the project's real
 *   org.vfiohost.policy only, as the build merged it from
 *   polkit/org.vfiohost.policy.in), /etc/polkit-1/rules.d (the test's
 *   rules) and /usr/share/polkit-1/rules.d (empty: no distribution rules,
 *   no admin rule). The machine's own directories are never touched.
 *   polkitd drops to the user polkitd by itself.
 *
 * - python3-dbusmock's polkitd template (speed, hangs, call log): it ignores
 *   the subject and never answers with a challenge.
 *
 * Both log to the bus's log file (printed when a test fails). Clients run as
 * other users are gdbus subprocesses (uid, gid switched, no supplementary
 * groups, PR_SET_PDEATHSIG), synchronous or asynchronous. */

#define VH_TEST_POLKIT_NAME "org.freedesktop.PolicyKit1"
#define VH_TEST_POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define VH_TEST_POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
#define VH_TEST_POLKITD "/usr/lib/polkit-1/polkitd"

#define VH_TEST_ERROR_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define VH_TEST_ERROR_INTERACTIVE "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

typedef struct VhTestPolkit {
        VhTestBus *bus;                 /* not owned */
        GPid pid;                       /* the real polkitd (after unshare's exec) */
        VhTestDbusmock *mock_process;   /* or python-dbusmock's polkitd template */
        char *dir;                      /* bus->dir/polkit */
} VhTestPolkit;

/* g_test_skip() with a clear reason and FALSE when something the real
 * polkitd tests need is missing: polkitd, unshare, mount, the mount points,
 * the user polkitd, or root. */
gboolean vh_test_polkit_requirements(void);
/* Same for the dbusmock template: /usr/bin/python3 with dbusmock. */
gboolean vh_test_polkit_mock_requirements(void);

/* Starts the real polkitd with rules (JavaScript, written to
 * /etc/polkit-1/rules.d/10-vfiohost-test.rules in the namespace) and waits
 * until org.freedesktop.PolicyKit1 has an owner. */
VhTestPolkit *vh_test_polkit_start(VhTestBus *bus, const char *rules);

/* Lets root own org.freedesktop.PolicyKit1 and call the mock's interface on
 * this bus (a policy file in the bus's system.d, ReloadConfig), starts the
 * polkitd template and waits for the name. */
VhTestPolkit *vh_test_polkit_start_mock(VhTestBus *bus);

/* SIGTERM, reap, and wait until the name has no owner. Idempotent. */
void vh_test_polkit_stop(VhTestPolkit *pk);
/* Stops (when running) and frees. */
void vh_test_polkit_free(VhTestPolkit *pk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestPolkit, vh_test_polkit_free)

/* Calls a method on the authority object (the mock's
 * org.freedesktop.DBus.Mock interface or polkit's own). */
GVariant *vh_test_polkit_call(VhTestPolkit *pk, const char *interface, const char *method,
                              GVariant *params, const char *reply_type, GError **error);
/* Mock helpers (assert success). */
void vh_test_polkit_mock_set_allowed(VhTestPolkit *pk, const char *const *actions);
void vh_test_polkit_mock_simulate_hang(VhTestPolkit *pk, gboolean hang);
void vh_test_polkit_mock_release(VhTestPolkit *pk);
void vh_test_polkit_mock_clear_calls(VhTestPolkit *pk);
/* The CheckAuthorization calls the mock got since the last clear, each as
 * its argument tuple "((sa{sv})sa{ss}us)". */
GPtrArray *vh_test_polkit_mock_checks(VhTestPolkit *pk);
/* Waits until the mock has logged n CheckAuthorization calls; FALSE on
 * timeout. */
gboolean vh_test_polkit_mock_wait_checks(VhTestPolkit *pk, guint n, double timeout_s);

/* Uid of a user name from the passwd database, -1 when there is none. */
int vh_test_user_uid(const char *name);

/* A gdbus client as another user. */
typedef struct VhTestClient {
        GPid pid;
        int uid;
        char *what;                     /* the command, for messages */
        char *out_path, *err_path;
        gint64 started;
        /* Filled by vh_test_client_wait(): */
        gboolean done;
        int status;                     /* exit status, 128 + signal; -1 on timeout */
        double seconds;
        char *out, *err;
        char *error_name;               /* from "GDBus.Error:NAME: message"; NULL if none */
        char *error_message;
} VhTestClient;

/* Starts `gdbus call` as uid (-1: as the test's own user) calling
 * Manager1.<method>(address, options) on org.vfiohost, with
 * --interactive when interactive (the ALLOW_INTERACTIVE_AUTHORIZATION
 * header flag). options is GVariant text for a{sv}, e.g. "{'group': <true>}". */
VhTestClient *vh_test_client_spawn(VhTestBus *bus, int uid, gboolean interactive, const char *method,
                                   const char *address, const char *options);
/* Same with any arguments, each GVariant text as gdbus call takes it. */
VhTestClient *vh_test_client_spawn_args(VhTestBus *bus, int uid, gboolean interactive, const char *method,
                                        const char *const *args);
/* Whether the client is still running (not reaped yet). */
gboolean vh_test_client_running(VhTestClient *c);
/* Waits (at most timeout_s, then SIGKILL, status -1) and parses its output. */
void vh_test_client_wait(VhTestClient *c, double timeout_s);
/* SIGKILL and reap. */
void vh_test_client_kill(VhTestClient *c);
void vh_test_client_free(VhTestClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestClient, vh_test_client_free)
/* spawn + wait. */
VhTestClient *vh_test_client_call(VhTestBus *bus, int uid, gboolean interactive, const char *method,
                                  const char *address, const char *options);

/* A recursive snapshot of a tree: one line per entry, sorted, with its type,
 * mode, and the SHA-256 of a file's content or a link's target as stored.
 * Two snapshots are equal exactly when nothing below root changed. */
char *vh_test_polkit_snapshot(const char *root);
/* Asserts two snapshots are equal, printing the entries that differ. */
void vh_test_polkit_snapshot_assert_equal(const char *before, const char *after);
