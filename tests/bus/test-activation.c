/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bus activation on a private system bus: a call starts the daemon from
 * services/org.vfiohost.service and gets its answer; --idle-timeout makes it
 * exit on its own, releasing the name, and the next call activates it again;
 * an activation that fails gives the caller a clear error at once, not a
 * timeout (gicmo/bolt#70). */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "vh-names.h"
#include "vh-test-bus.h"

typedef struct {
        VhTestBus *bus;
        char *root;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data) {
        if (!vh_test_bus_requirements())
                return;
        fx->bus = vh_test_bus_new();
        fx->root = vh_test_bus_copy_host(fx->bus, "desktop-intel");
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        g_free(fx->root);
        vh_test_bus_free(fx->bus);
}

#define SKIP_IF_NO_HOST(fx) do { if (!(fx)->root) return; } while (0)

/* Exec=[wrapper] VH_DAEMON --root ROOT --log-level debug [extra], started
 * through the harness's launcher that records the exit status. */
static void write_daemon_service(Fixture *fx, const char *extra1, const char *extra2) {
        g_autoptr(GPtrArray) argv = vh_test_daemon_argv();

        g_ptr_array_add(argv, g_strdup("--root"));
        g_ptr_array_add(argv, g_strdup(fx->root));
        g_ptr_array_add(argv, g_strdup("--log-level"));
        g_ptr_array_add(argv, g_strdup("debug"));
        if (extra1)
                g_ptr_array_add(argv, g_strdup(extra1));
        if (extra2)
                g_ptr_array_add(argv, g_strdup(extra2));
        g_ptr_array_add(argv, NULL);
        vh_test_bus_write_service(fx->bus, (const char *const *) argv->pdata, TRUE);
}

static char *call_version(Fixture *fx, GError **error) {
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                         "Version", error);
        return v ? g_variant_dup_string(v, NULL) : NULL;
}

static char *owner(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                        vh_test_bus_connection(fx->bus), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                        "org.freedesktop.DBus", "GetNameOwner", g_variant_new("(s)", VH_BUS_NAME),
                        G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        char *s = NULL;

        g_assert_no_error(error);
        g_variant_get(r, "(s)", &s);
        return s;
}

static void test_activate(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autofree char *version = NULL;

        SKIP_IF_NO_HOST(fx);
        write_daemon_service(fx, NULL, NULL);
        g_assert_false(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));

        /* The name is activatable... */
        {
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                                vh_test_bus_connection(fx->bus), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "ListActivatableNames", NULL, G_VARIANT_TYPE("(as)"),
                                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
                g_autofree const char **names = NULL;

                g_assert_no_error(error);
                g_variant_get(r, "(^a&s)", &names);
                g_assert_true(g_strv_contains(names, VH_BUS_NAME));
        }

        /* ...and a plain call starts it and gets the answer. */
        version = call_version(fx, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(version, ==, VH_TEST_VERSION);
        g_assert_true(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));

        /* It serves the tree it was given. */
        {
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                                                         "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", &error);
                g_autoptr(GVariant) objects = NULL;

                g_assert_no_error(error);
                objects = g_variant_get_child_value(r, 0);
                g_assert_cmpuint(g_variant_n_children(objects), >, 0);
        }

        /* SIGTERM: a clean exit, status 0 (leaks count under valgrind). */
        g_assert_cmpint(vh_test_bus_stop_activated(fx->bus), ==, 0);
        g_assert_true(vh_test_bus_wait_name(fx->bus, VH_BUS_NAME, FALSE, 5 * vh_test_timeout_multiplier()));
}

/* The client's first call activates the service. */
static void test_activate_by_client(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestRun) run = NULL;

        SKIP_IF_NO_HOST(fx);
        write_daemon_service(fx, NULL, NULL);
        g_assert_false(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));
        run = vh_test_bus_run_ctl(fx->bus, "--json", "list", NULL);
        if (run->status != 0) {
                vh_test_run_print(run, "vfiohostctl --json list (activating)");
                g_error("vfiohostctl did not activate the service");
        }
        g_assert_true(g_str_has_prefix(g_strchug(run->out), "["));
        g_assert_true(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));
        g_assert_cmpint(vh_test_bus_stop_activated(fx->bus), ==, 0);
}

static void test_idle_exit(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autofree char *version = NULL, *first = NULL, *second = NULL;
        g_autoptr(GArray) statuses = NULL;
        double m = vh_test_timeout_multiplier();
        gint64 answered, released;

        SKIP_IF_NO_HOST(fx);
        write_daemon_service(fx, "--idle-timeout", "2");

        version = call_version(fx, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(version, ==, VH_TEST_VERSION);
        answered = g_get_monotonic_time();
        first = owner(fx);

        /* Nobody calls it (polling the bus driver does not touch the daemon):
         * it exits after about 2 s and the name goes. */
        if (!vh_test_bus_wait_name(fx->bus, VH_BUS_NAME, FALSE, 2 + 15 * m))
                g_error("the daemon did not exit within %.0f s of idle with --idle-timeout 2", 2 + 15 * m);
        released = g_get_monotonic_time();
        g_test_message("name released %.2f s after the last call", (double) (released - answered) / G_USEC_PER_SEC);
        g_assert_cmpfloat((double) (released - answered) / G_USEC_PER_SEC, >=, 1.5);

        /* It exited by itself, with status 0. */
        {
                gint64 deadline = g_get_monotonic_time() + (gint64) (20 * m * G_USEC_PER_SEC);
                for (;;) {
                        statuses = vh_test_bus_activation_statuses(fx->bus);
                        if (statuses->len > 0 || g_get_monotonic_time() > deadline)
                                break;
                        g_clear_pointer(&statuses, g_array_unref);
                        g_usleep(20000);
                }
        }
        g_assert_cmpuint(statuses->len, ==, 1);
        g_assert_cmpint(g_array_index(statuses, int, 0), ==, 0);

        /* The next call activates it again. */
        g_clear_pointer(&version, g_free);
        version = call_version(fx, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(version, ==, VH_TEST_VERSION);
        second = owner(fx);
        g_assert_cmpstr(first, !=, second);

        /* Calls keep it alive: one every 0.5 s for 3 s, then it still answers
         * as the same connection. */
        for (int i = 0; i < 6; i++) {
                g_autofree char *v = NULL;
                g_usleep(G_USEC_PER_SEC / 2);
                v = call_version(fx, &error);
                g_assert_no_error(error);
        }
        {
                g_autofree char *third = owner(fx);
                g_assert_cmpstr(third, ==, second);
        }
}

static void assert_quick_failure(Fixture *fx, const char *what) {
        double limit = 5 * vh_test_timeout_multiplier();
        g_autoptr(GError) error = NULL;
        g_autofree char *version = NULL, *name = NULL;
        gint64 start = g_get_monotonic_time();
        double took;

        version = call_version(fx, &error);
        took = (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        g_assert_null(version);
        g_assert_nonnull(error);
        name = g_dbus_error_get_remote_error(error);
        g_test_message("%s: %s after %.3f s: %s", what, name, took, error->message);
        /* org.freedesktop.DBus.Error.Spawn.*, not NoReply/TimedOut. */
        g_assert_true(g_str_has_prefix(name, "org.freedesktop.DBus.Error.Spawn."));
        g_assert_cmpfloat(took, <, limit);

        /* The client passes it on, clearly and quickly. */
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "status", NULL);
                g_autoptr(VhTestRun) human = vh_test_bus_run_ctl(fx->bus, "status", NULL);

                g_assert_cmpint(run->status, ==, 4);
                g_assert_nonnull(strstr(run->out, "\"error\""));
                g_assert_nonnull(strstr(run->out, "org.freedesktop.DBus.Error.Spawn."));
                g_assert_cmpfloat(run->seconds, <, limit);
                g_assert_cmpint(human->status, ==, 4);
                g_assert_cmpstr(human->out, ==, "");
                if (!strstr(human->err, "vfiohost")) {
                        vh_test_run_print(human, "vfiohostctl status");
                        g_error("the client's message does not say what failed");
                }
                g_assert_cmpfloat(human->seconds, <, limit);
        }
        g_assert_false(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));
}

static void test_failure_false(Fixture *fx, gconstpointer data) {
        const char *argv[] = { "/bin/false", NULL };

        vh_test_bus_write_service(fx->bus, argv, FALSE);
        assert_quick_failure(fx, "Exec=/bin/false");
}

static void test_failure_missing(Fixture *fx, gconstpointer data) {
        g_autofree char *missing = g_build_filename(fx->bus->dir, "no-such-vfiohostd", NULL);
        const char *argv[] = { missing, NULL };

        vh_test_bus_write_service(fx->bus, argv, FALSE);
        assert_quick_failure(fx, "Exec=<missing binary>");
}

/* The real daemon refusing to start (root is not a directory) is a quick
 * failure too: it exits instead of hanging until the start timeout. */
static void test_failure_daemon(Fixture *fx, gconstpointer data) {
        g_autoptr(GPtrArray) argv = vh_test_daemon_argv();
        g_autofree char *bad_root = g_build_filename(fx->bus->dir, "no-such-root", NULL);

        g_ptr_array_add(argv, g_strdup("--root"));
        g_ptr_array_add(argv, g_strdup(bad_root));
        g_ptr_array_add(argv, NULL);
        vh_test_bus_write_service(fx->bus, (const char *const *) argv->pdata, FALSE);
        assert_quick_failure(fx, "vfiohostd --root <missing>");
}

static void failure_setup(Fixture *fx, gconstpointer data) {
        if (!vh_test_bus_requirements())
                return;
        fx->bus = vh_test_bus_new();
}

#define SKIP_IF_NO_BUS(fn) \
        static void fn##_guarded(Fixture *fx, gconstpointer data) { if (fx->bus) fn(fx, data); }
SKIP_IF_NO_BUS(test_failure_false)
SKIP_IF_NO_BUS(test_failure_missing)
SKIP_IF_NO_BUS(test_failure_daemon)

/* The daemon's command line: --help for users (no test-only knobs), and
 * an unknown or misused option says what and points at --help. */
/* dbus-daemon goes away under a running daemon (stopped, or it cut the
 * connection over a message too large): the daemon exits with failure by
 * design, and its log says why instead of nothing. */
static void test_bus_gone(Fixture *fx, gconstpointer data) {
        g_autofree char *log = NULL;
        gint64 deadline;
        int status = -1;

        SKIP_IF_NO_HOST(fx);
        vh_test_bus_start_daemon(fx->bus, fx->root);
        /* Not reaped here: vh_test_bus_free() kills and reaps the bus. */
        g_assert_cmpint(kill(fx->bus->bus_pid, SIGKILL), ==, 0);
        deadline = g_get_monotonic_time() + (gint64) (20 * vh_test_timeout_multiplier() * G_USEC_PER_SEC);
        while (waitpid(fx->bus->daemon_pid, &status, WNOHANG) == 0 && g_get_monotonic_time() < deadline)
                g_usleep(10000);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        fx->bus->daemon_pid = 0;
        g_assert_true(g_file_get_contents(fx->bus->log_path, &log, NULL, NULL));
        if (!strstr(log, "The system bus closed vfiohostd's connection"))
                g_error("the daemon left without saying why:\n%s", log);
}

static void test_daemon_cli(void) {
        static const struct {
                const char *arg, *want;
                int status;
        } cases[] = {
                { "--help", "--read-only", 0 },
                { "--bogus", "Unknown option '--bogus'; see 'vfiohostd --help'", 1 },
                { "-x", "Unknown option '-x'; see 'vfiohostd --help'", 1 },
                { "--read-only=yes", "Option '--read-only=yes' takes no value; see 'vfiohostd --help'", 1 },
                { "--root", "Option '--root' needs a value; see 'vfiohostd --help'", 1 },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *argv[] = { vh_test_env("VH_DAEMON"), cases[i].arg, NULL };
                g_autofree char *out = NULL, *err = NULL;
                g_autoptr(GError) error = NULL;
                int status;

                g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                           &status, &error));
                g_assert_no_error(error);
                g_assert_cmpint(WIFEXITED(status) ? WEXITSTATUS(status) : -1, ==, cases[i].status);
                if (!strstr(cases[i].status == 0 ? out : err, cases[i].want))
                        g_error("vfiohostd %s: no '%s' in: %s%s", cases[i].arg, cases[i].want, out, err);
                g_assert_null(strstr(out, "VFIOHOST_TEST"));
        }
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add("/activation/activate", Fixture, NULL, fixture_setup, test_activate, fixture_teardown);
        g_test_add("/activation/activate-by-client", Fixture, NULL, fixture_setup, test_activate_by_client,
                   fixture_teardown);
        g_test_add("/activation/idle-exit", Fixture, NULL, fixture_setup, test_idle_exit, fixture_teardown);
        g_test_add_func("/activation/daemon-cli", test_daemon_cli);
        g_test_add("/activation/bus-gone", Fixture, NULL, fixture_setup, test_bus_gone, fixture_teardown);
        g_test_add("/activation/failure/exec-false", Fixture, NULL, failure_setup, test_failure_false_guarded,
                   fixture_teardown);
        g_test_add("/activation/failure/exec-missing", Fixture, NULL, failure_setup, test_failure_missing_guarded,
                   fixture_teardown);
        g_test_add("/activation/failure/daemon-refuses", Fixture, NULL, failure_setup, test_failure_daemon_guarded,
                   fixture_teardown);

        return g_test_run();
}
