/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <glib.h>

/* The bus-test harness: one private system-type dbus-daemon per test, with
 * the project's own bus policy (dbus/org.vfiohost.conf) in its system.d,
 * the daemon under test as a subprocess, and helpers to run vfiohostctl and
 * other clients against that bus. GLib is allowed here (tests only).
 *
 * Every child gets PR_SET_PDEATHSIG(SIGKILL) and writes to a log file in the
 * test's temporary directory, never to the test's stdout (TAP). The log is
 * printed as TAP comments when the test fails, including on a fatal
 * assertion (a SIGABRT handler dumps it).
 *
 * Environment (set by tests/meson.build):
 *   VH_DAEMON, VH_CTL            built vfiohostd / vfiohostctl
 *   VH_TEST_DATA                 source tests/data
 *   VH_DBUS_POLICY, VH_DBUS_XML  dbus/org.vfiohost.conf, dbus/org.vfiohost.xml
 *   VH_TEST_DAEMON_WRAPPER       e.g. "valgrind --error-exitcode=1 ..." (split on spaces)
 *   VH_TEST_TIMEOUT_MULTIPLIER   scales every wait (valgrind, sanitizers)
 *   TMPDIR                       where temporary directories go */

typedef struct VhTestBus {
        char *dir;                      /* temporary directory, removed on free */
        char *socket_path;
        char *address;                  /* "unix:path=..." */
        char *log_path;                 /* children's stdout and stderr */
        int log_fd;
        GPid bus_pid;
        GPid daemon_pid;                /* 0 when not started by vh_test_bus_start_daemon */
        GDBusConnection *conn;          /* lazily, see vh_test_bus_connection() */
        char *activation_status_path;   /* exit statuses of bus-activated daemons */
        gboolean skipped;               /* a fixture was missing: no logs to print */
        gboolean no_wait_reconciled;    /* start_daemon returns as soon as the name is owned */
} VhTestBus;

typedef struct VhTestRun {
        char *out;
        char *err;
        int status;                     /* exit status, or 128 + signal */
        double seconds;                 /* wall time */
} VhTestRun;

/* Scale factor for every timeout (VH_TEST_TIMEOUT_MULTIPLIER, default 1). */
double vh_test_timeout_multiplier(void);

/* Value of a required environment variable; aborts the test with a clear
 * message when it is missing (run the tests through meson). */
const char *vh_test_env(const char *name);

/* What every bus test needs: dbus-daemon, and root (the project's bus
 * policy lets only root own org.vfiohost, so as any other user the daemon
 * cannot start on the test bus). Calls g_test_skip() with a clear message
 * and returns FALSE when one is missing. */
gboolean vh_test_bus_requirements(void);

/* Creates the temporary directory, the bus configuration and starts the
 * private dbus-daemon. Never NULL: failures are assertion failures. */
VhTestBus *vh_test_bus_new(void);

/* Stops the daemon (asserting it exits with status 0), checks the status of
 * every bus-activated daemon, kills the bus, removes the directory. On a
 * failed test the logs are printed and the directory is kept. */
void vh_test_bus_free(VhTestBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestBus, vh_test_bus_free)

/* The test's own connection to the private bus (not g_bus_get()). */
GDBusConnection *vh_test_bus_connection(VhTestBus *bus);

/* Environment for a child client: the current environment with
 * DBUS_SYSTEM_BUS_ADDRESS pointing at this bus and no session bus. */
char **vh_test_bus_client_envp(VhTestBus *bus);

/* Copies tests/data/hosts/<name> into the test directory and returns the
 * copy's path (a temporary directory, so a daemon writing below it can never
 * touch the real host nor the fixture). Returns NULL and calls g_test_skip()
 * when the fixture does not exist. For tests that change the host. */
char *vh_test_bus_copy_host(VhTestBus *bus, const char *name);

/* rm -rf, in a copy only (a process exiting, a node removed): the exit status. */
int vh_test_rm_rf(const char *path);

/* Whether path resolves to a directory the harness made below TMPDIR
 * (named vh-*), or something inside one: the only places a test may let
 * anything write as if it were /sys. */
gboolean vh_test_is_temp_dir(const char *path);

/* Like vh_test_bus_copy_host(), but one copy per host name shared by all
 * tests of this process (copying a tree costs ~0.5 s on slow disks): for
 * tests that only read. Removed when the process exits. */
char *vh_test_bus_shared_host(VhTestBus *bus, const char *name);

/* The setup most bus tests share: a private bus, a fixture host (shared
 * and read-only, or a copy of the test's own) and vfiohostd on it. *root
 * stays NULL when a requirement or the fixture is missing: the test has
 * been told to skip and should return. */
typedef enum VhTestRoot {
        VH_TEST_ROOT_SHARED,
        VH_TEST_ROOT_COPY,
} VhTestRoot;

void vh_test_bus_fixture_start(VhTestBus **bus, char **root, const char *host, VhTestRoot kind);
/* Undoes vh_test_bus_fixture_start() (also after a skip). */
void vh_test_bus_fixture_stop(VhTestBus **bus, char **root);

/* The daemon argv prefix: VH_TEST_DAEMON_WRAPPER split on spaces (argv[0]
 * resolved in PATH) followed by VH_DAEMON. */
GPtrArray *vh_test_daemon_argv(void);

/* Starts VH_DAEMON --root ROOT --no-idle-exit [extra...] on this bus and
 * waits until org.vfiohost has an owner. extra_env: NULL or "VAR=value"
 * strings added to the daemon's environment. Asserts root is a directory
 * below a temporary directory, or that extra_env preloads umockdev. */
void vh_test_bus_start_daemon_full(VhTestBus *bus, const char *root,
                                   const char *const *extra_args,
                                   const char *const *extra_env);
void vh_test_bus_start_daemon(VhTestBus *bus, const char *root);

/* Sends SIGTERM and returns the daemon's exit status (128 + signal when
 * killed; -1 on timeout, after SIGKILL). */
int vh_test_bus_stop_daemon(VhTestBus *bus);

/* Sends sig (SIGKILL: a crash) to the daemon started by
 * vh_test_bus_start_daemon_full(), reaps it, waits until org.vfiohost has
 * no owner any more and returns its wait status as stop_daemon does; a
 * later vh_test_bus_start_daemon_full() starts a new one. */
int vh_test_bus_kill_daemon(VhTestBus *bus, int sig);

/* Writes services/org.vfiohost.service for bus activation. argv is used as
 * the Exec= line after a small /bin/sh launcher that records the exit status
 * of each activated process (checked in vh_test_bus_free()). With
 * record_status FALSE the argv is used as it is (for /bin/false). */
void vh_test_bus_write_service(VhTestBus *bus, const char *const *argv, gboolean record_status);

/* SIGTERMs the bus-activated daemon that owns org.vfiohost now and returns
 * the exit status the launcher recorded; -1 when none runs (or it was not
 * started through the launcher), -2 when it did not exit (then killed). */
int vh_test_bus_stop_activated(VhTestBus *bus);

/* Exit statuses recorded by the launcher so far. */
GArray *vh_test_bus_activation_statuses(VhTestBus *bus);

/* Whether name has an owner on this bus. */
gboolean vh_test_bus_name_has_owner(VhTestBus *bus, const char *name);
/* Waits until name has (or no longer has) an owner; FALSE on timeout. */
gboolean vh_test_bus_wait_name(VhTestBus *bus, const char *name, gboolean owned, double timeout_s);

/* Manager1.Reconciling of the running daemon. */
gboolean vh_test_bus_reconciling(VhTestBus *bus);
/* Waits until Manager1.Reconciling is false; FALSE on timeout. The daemon
 * start functions do this unless no_wait_reconciled is set. */
gboolean vh_test_bus_wait_reconciled(VhTestBus *bus, double timeout_s);

/* Runs argv (argv[0] absolute or in PATH) with the bus environment, stdin
 * from /dev/null, capturing stdout and stderr. uid >= 0 runs the child as
 * that uid (and gid) with no supplementary groups. Returns the result. */
VhTestRun *vh_test_bus_run(VhTestBus *bus, const char *const *argv, int uid);
/* Same, changing the environment: "VAR=value" sets, "VAR" unsets. */
VhTestRun *vh_test_bus_run_env(VhTestBus *bus, const char *const *argv, int uid, const char *const *env);
/* Runs VH_CTL with the given arguments (NULL-terminated). */
VhTestRun *vh_test_bus_run_ctl(VhTestBus *bus, ...) G_GNUC_NULL_TERMINATED;
/* Same, with an explicit bus address (NULL: unset) instead of this bus. */
VhTestRun *vh_test_run_ctl_address(const char *address, const char *const *args);
void vh_test_run_free(VhTestRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestRun, vh_test_run_free)

/* Prints run's outputs as test messages (for failures). */
void vh_test_run_print(const VhTestRun *run, const char *what);

/* Appends the log file to the test output as TAP comments. */
void vh_test_bus_print_log(VhTestBus *bus);

/* Calls a method of org.vfiohost synchronously on this bus. */
GVariant *vh_test_bus_call(VhTestBus *bus, const char *path, const char *interface,
                           const char *method, GVariant *params, const char *reply_type,
                           GError **error);

/* Gets one property (unboxed). */
GVariant *vh_test_bus_get_property(VhTestBus *bus, const char *path, const char *interface,
                                   const char *property, GError **error);

/* sd_bus_path_encode() done in the test, so a mismatch is visible:
 * every byte outside [A-Za-z0-9], and a leading digit, becomes _XX
 * (lowercase hex); "" becomes "_". */
char *vh_test_path_encode(const char *prefix, const char *external);
