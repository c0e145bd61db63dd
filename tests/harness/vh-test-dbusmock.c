/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-test-dbusmock.h"

gboolean vh_test_dbusmock_requirements(void) {
        static int have = -1;

        if (!vh_test_bus_requirements())
                return FALSE;
        if (have < 0) {
                const char *argv[] = { "/usr/bin/python3", "-c", "import dbusmock, dbus", NULL };
                int status = -1;

                have = g_file_test(argv[0], G_FILE_TEST_IS_EXECUTABLE) &&
                       g_spawn_sync(NULL, (char **) argv, NULL,
                                    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                                    NULL, &status, NULL) &&
                       g_spawn_check_wait_status(status, NULL);
        }
        if (!have) {
                g_test_skip("/usr/bin/python3 with dbusmock is missing (install python3-dbusmock)");
                return FALSE;
        }
        return TRUE;
}

static void child_setup(gpointer data) {
        /* An orphan would keep meson's pipes open and hang the run. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(127);
}

void vh_test_dbusmock_allow(VhTestBus *bus, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autofree char *file = g_strdup_printf("vh-test-mock-%s.conf", name);
        g_autofree char *conf = g_build_filename(bus->dir, "system.d", file, NULL);
        g_autofree char *policy = g_strdup_printf(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<!-- Test only: root runs a python3-dbusmock template. -->\n"
                "<busconfig>\n"
                "  <policy user=\"root\"><allow own=\"%s\"/></policy>\n"
                "  <policy context=\"default\"><allow send_destination=\"%s\"/></policy>\n"
                "</busconfig>\n", name, name);

        g_file_set_contents(conf, policy, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(g_chmod(conf, 0644), ==, 0);
        r = g_dbus_connection_call_sync(vh_test_bus_connection(bus), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "ReloadConfig", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                        -1, NULL, &error);
        g_assert_no_error(error);
}

static int reap(GPid pid, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        for (;;) {
                int status;

                if (waitpid(pid, &status, WNOHANG) == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (g_get_monotonic_time() > deadline)
                        return -1;
                g_usleep(2000);
        }
}

VhTestDbusmock *vh_test_dbusmock_start(VhTestBus *bus, const char *name, const char *template) {
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) envp = vh_test_bus_client_envp(bus);
        g_autofree char *file = g_strconcat(template, ".py", NULL);
        g_autofree char *ours = g_build_filename(vh_test_env("VH_TEST_DATA"), "dbusmock", file, NULL);
        /* The project's template when it has one, else python-dbusmock's own. */
        const char *path = g_file_test(ours, G_FILE_TEST_EXISTS) ? ours : template;
        const char *argv[] = { "/usr/bin/python3", "-m", "dbusmock", "--system", "--template", path, NULL };
        VhTestDbusmock *m = g_new0(VhTestDbusmock, 1);
        double timeout = 20 * vh_test_timeout_multiplier();
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout * G_USEC_PER_SEC);

        m->bus = bus;
        m->name = g_strdup(name);
        vh_test_dbusmock_allow(bus, name);
        {
                g_autofree char *line = g_strdup_printf("==== starting the dbusmock template %s\n", path);

                g_assert_cmpint(write(bus->log_fd, line, strlen(line)), ==, (gssize) strlen(line));
        }
        if (!g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *) envp,
                                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL, child_setup,
                                              NULL, -1, bus->log_fd, bus->log_fd, NULL, NULL, 0, &m->pid, NULL, NULL,
                                              NULL, &error))
                g_error("cannot run %s: %s", argv[0], error->message);
        while (!vh_test_bus_name_has_owner(bus, name)) {
                int status = reap(m->pid, 0);

                if (status >= 0) {
                        m->pid = 0;
                        vh_test_bus_print_log(bus);
                        g_error("the dbusmock template %s exited with status %d before owning %s", template, status,
                                name);
                }
                if (g_get_monotonic_time() > deadline) {
                        vh_test_bus_print_log(bus);
                        g_error("the dbusmock template %s did not own %s within %.0f s", template, name, timeout);
                }
                g_usleep(5000);
        }
        return m;
}

void vh_test_dbusmock_free(VhTestDbusmock *m) {
        if (!m)
                return;
        if (m->pid > 0) {
                kill(m->pid, SIGTERM);
                if (reap(m->pid, 10 * vh_test_timeout_multiplier()) < 0) {
                        kill(m->pid, SIGKILL);
                        (void) reap(m->pid, 10);
                }
        }
        g_free(m->name);
        g_free(m);
}

GVariant *vh_test_dbusmock_call(VhTestDbusmock *m, const char *path, const char *interface, const char *method,
                                GVariant *params, const char *reply_type) {
        g_autoptr(GError) error = NULL;
        GVariant *r;

        r = g_dbus_connection_call_sync(vh_test_bus_connection(m->bus), m->name, path, interface, method, params,
                                        reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NONE,
                                        (int) (25000 * vh_test_timeout_multiplier()), NULL, &error);
        g_assert_no_error(error);
        return r;
}
