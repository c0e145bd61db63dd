/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-test-bus.h"

#define VH_BUS_NAME "org.vfiohost"
#define VH_MANAGER_PATH "/org/vfiohost"
#define VH_MANAGER_INTERFACE "org.vfiohost.Manager1"
#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define DBUS_IFACE "org.freedesktop.DBus"


/* ---------- environment ---------- */

double vh_test_timeout_multiplier(void) {
        const char *s = g_getenv("VH_TEST_TIMEOUT_MULTIPLIER");
        double m;

        if (!s || !*s)
                return 1.0;
        m = g_ascii_strtod(s, NULL);
        return m >= 1.0 ? m : 1.0;
}

const char *vh_test_env(const char *name) {
        const char *v = g_getenv(name);

        if (!v || !*v)
                g_error("%s is not set: run the tests with `meson test`", name);
        return v;
}

gboolean vh_test_bus_requirements(void) {
        g_autofree char *dbus_daemon = g_find_program_in_path("dbus-daemon");

        if (!dbus_daemon) {
                g_test_skip("dbus-daemon is missing (install dbus-daemon / dbus): no private bus");
                return FALSE;
        }
        if (geteuid() != 0) {
                g_test_skip("not root: the project's bus policy (dbus/org.vfiohost.conf) lets only root "
                            "own org.vfiohost, so the daemon cannot run on the test bus");
                return FALSE;
        }
        return TRUE;
}

/* ---------- logs printed on failure, also from a SIGABRT handler ---------- */

/* Log files of live buses, for the abort handler: fixed storage, no malloc
 * in the handler. */
#define MAX_LIVE_LOGS 8
static char live_logs[MAX_LIVE_LOGS][PATH_MAX];
static struct sigaction old_abrt;
static gboolean abrt_installed;

static void write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                p += k;
                n -= (size_t) k;
        }
}

/* Copies a log file to stdout with every line prefixed "# " (TAP comment).
 * Async-signal-safe: open/read/write only. */
static void dump_log_raw(const char *path) {
        char buf[4096];
        gboolean bol = TRUE;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        write_all(STDOUT_FILENO, "# ---- ", 7);
        write_all(STDOUT_FILENO, path, strlen(path));
        write_all(STDOUT_FILENO, " ----\n", 6);
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n; i++) {
                        if (bol)
                                write_all(STDOUT_FILENO, "# ", 2);
                        write_all(STDOUT_FILENO, &buf[i], 1);
                        bol = buf[i] == '\n';
                }
        }
        if (!bol)
                write_all(STDOUT_FILENO, "\n", 1);
        write_all(STDOUT_FILENO, "# ---- end of log ----\n", 23);
        close(fd);
}

static void on_abort(int sig) {
        for (size_t i = 0; i < MAX_LIVE_LOGS; i++)
                if (live_logs[i][0])
                        dump_log_raw(live_logs[i]);
        sigaction(SIGABRT, &old_abrt, NULL);
        raise(sig);
}

static void register_log(const char *path) {
        if (!abrt_installed) {
                struct sigaction sa = { .sa_handler = on_abort, .sa_flags = SA_RESETHAND };
                sigemptyset(&sa.sa_mask);
                sigaction(SIGABRT, &sa, &old_abrt);
                abrt_installed = TRUE;
        }
        for (size_t i = 0; i < MAX_LIVE_LOGS; i++)
                if (!live_logs[i][0]) {
                        g_strlcpy(live_logs[i], path, sizeof(live_logs[i]));
                        return;
                }
}

static void unregister_log(const char *path) {
        for (size_t i = 0; i < MAX_LIVE_LOGS; i++)
                if (strcmp(live_logs[i], path) == 0)
                        live_logs[i][0] = 0;
}

void vh_test_bus_print_log(VhTestBus *bus) {
        fflush(stdout);
        dump_log_raw(bus->log_path);
        fflush(stdout);
}

/* ---------- children ---------- */

static void child_setup_pdeathsig(gpointer data) {
        int uid = GPOINTER_TO_INT(data) - 1;

        /* Orphans would keep meson's pipes open and hang the run. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(127);
        if (uid >= 0) {
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(126);
                /* PDEATHSIG is cleared by a credentials change: set it again. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
        }
}

/* Waits for pid for at most timeout_s; returns the exit status (128 + signal
 * when signalled) or -1 on timeout. */
static int wait_pid_timeout(GPid pid, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        for (;;) {
                int status;
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid) {
                        if (WIFEXITED(status))
                                return WEXITSTATUS(status);
                        if (WIFSIGNALED(status))
                                return 128 + WTERMSIG(status);
                        continue;
                }
                if (r < 0 && errno != EINTR)
                        g_error("waitpid(%d): %s", (int) pid, g_strerror(errno));
                if (g_get_monotonic_time() > deadline)
                        return -1;
                g_usleep(5000);
        }
}

static void kill_and_reap(GPid pid) {
        if (pid <= 0)
                return;
        kill(pid, SIGKILL);
        (void) wait_pid_timeout(pid, 10);
}

static GPid spawn_logged(VhTestBus *bus, char **argv, char **envp, int extra_fd, int extra_target) {
        g_autoptr(GError) error = NULL;
        GPid pid = 0;
        int source_fds[1] = { extra_fd };
        int target_fds[1] = { extra_target };
        gboolean ok;

        ok = g_spawn_async_with_pipes_and_fds(
                        NULL, (const char *const *) argv, (const char *const *) envp,
                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_SEARCH_PATH,
                        child_setup_pdeathsig, GINT_TO_POINTER(0),
                        -1, bus->log_fd, bus->log_fd,
                        extra_fd >= 0 ? source_fds : NULL,
                        extra_fd >= 0 ? target_fds : NULL,
                        extra_fd >= 0 ? 1 : 0,
                        &pid, NULL, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_true(ok);
        return pid;
}

/* ---------- bus ---------- */

static const char bus_conf_template[] =
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<!-- A private system bus for one test: the stock system.conf without\n"
        "     <user>, <fork>, <servicehelper>, syslog and the system's own\n"
        "     policy dirs; the project's policy is copied into @DIR@/system.d. -->\n"
        "<busconfig>\n"
        "  <type>system</type>\n"
        "  <listen>unix:path=@SOCKET@</listen>\n"
        "  <auth>EXTERNAL</auth>\n"
        "  <servicedir>@DIR@/services</servicedir>\n"
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <deny own=\"*\"/>\n"
        "    <deny send_type=\"method_call\"/>\n"
        "    <allow send_type=\"signal\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
        "    <allow receive_type=\"method_call\"/>\n"
        "    <allow receive_type=\"method_return\"/>\n"
        "    <allow receive_type=\"error\"/>\n"
        "    <allow receive_type=\"signal\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\"\n"
        "           send_interface=\"org.freedesktop.DBus\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\"\n"
        "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\"\n"
        "           send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
        "    <deny send_destination=\"org.freedesktop.DBus\"\n"
        "          send_interface=\"org.freedesktop.DBus\"\n"
        "          send_member=\"UpdateActivationEnvironment\"/>\n"
        "    <deny send_destination=\"org.freedesktop.DBus\"\n"
        "          send_interface=\"org.freedesktop.DBus.Debug.Stats\"/>\n"
        "    <deny send_destination=\"org.freedesktop.DBus\"\n"
        "          send_interface=\"org.freedesktop.systemd1.Activator\"/>\n"
        "  </policy>\n"
        "  <policy user=\"root\">\n"
        "    <allow send_destination=\"org.freedesktop.DBus\"\n"
        "           send_interface=\"org.freedesktop.DBus.Monitoring\"/>\n"
        "  </policy>\n"
        "  <limit name=\"service_start_timeout\">@START_TIMEOUT@</limit>\n"
        "  <includedir>@DIR@/system.d</includedir>\n"
        "  <include ignore_missing=\"yes\">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>\n"
        "</busconfig>\n";

static char *replace_all(const char *s, const char *from, const char *to) {
        g_auto(GStrv) parts = g_strsplit(s, from, -1);
        return g_strjoinv(to, parts);
}

static void write_file(const char *path, const char *content, int mode) {
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

static char *read_line_fd(int fd, double timeout_s) {
        GString *s = g_string_new(NULL);
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                gint64 left = (deadline - g_get_monotonic_time()) / 1000;
                char c;
                ssize_t n;

                if (left <= 0)
                        break;
                if (poll(&p, 1, (int) left) <= 0)
                        continue;
                n = read(fd, &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (c == '\n')
                        return g_string_free(s, FALSE);
                g_string_append_c(s, c);
        }
        g_string_free(s, TRUE);
        return NULL;
}

VhTestBus *vh_test_bus_new(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *conf = NULL, *conf_path = NULL, *tmp = NULL, *policy = NULL;
        g_autofree char *policy_copy = NULL, *start_timeout = NULL;
        g_autofree char *config_arg = NULL;
        VhTestBus *bus;
        int pipefd[2];
        char *argv[5];

        bus = g_new0(VhTestBus, 1);
        bus->log_fd = -1;

        bus->dir = g_dir_make_tmp("vh-bus-XXXXXX", &error);
        g_assert_no_error(error);
        /* Other uids (nobody) must reach the socket inside. */
        g_assert_cmpint(g_chmod(bus->dir, 0755), ==, 0);

        bus->socket_path = g_build_filename(bus->dir, "system_bus_socket", NULL);
        if (strlen(bus->socket_path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
                /* sun_path is 108 bytes: a deep build dir does not fit. */
                g_autofree char *sdir = g_dir_make_tmp("vh-sock-XXXXXX", &error);
                g_assert_no_error(error);
                g_free(bus->socket_path);
                bus->socket_path = g_build_filename(sdir, "system_bus_socket", NULL);
                g_assert_cmpint(g_chmod(sdir, 0755), ==, 0);
        }
        bus->address = g_strdup_printf("unix:path=%s", bus->socket_path);
        bus->log_path = g_build_filename(bus->dir, "children.log", NULL);
        bus->log_fd = open(bus->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        g_assert_cmpint(bus->log_fd, >=, 0);
        register_log(bus->log_path);
        bus->activation_status_path = g_build_filename(bus->dir, "activated-exit-status", NULL);

        tmp = g_build_filename(bus->dir, "system.d", NULL);
        g_assert_cmpint(g_mkdir(tmp, 0755), ==, 0);
        g_free(tmp);
        tmp = g_build_filename(bus->dir, "services", NULL);
        g_assert_cmpint(g_mkdir(tmp, 0755), ==, 0);

        /* The project's real bus policy. */
        g_file_get_contents(vh_test_env("VH_DBUS_POLICY"), &policy, NULL, &error);
        g_assert_no_error(error);
        policy_copy = g_build_filename(bus->dir, "system.d", "org.vfiohost.conf", NULL);
        write_file(policy_copy, policy, 0644);

        start_timeout = g_strdup_printf("%d", (int) (25000 * vh_test_timeout_multiplier()));
        {
                g_autofree char *a = replace_all(bus_conf_template, "@DIR@", bus->dir);
                g_autofree char *b = replace_all(a, "@SOCKET@", bus->socket_path);
                conf = replace_all(b, "@START_TIMEOUT@", start_timeout);
        }
        conf_path = g_build_filename(bus->dir, "bus.conf", NULL);
        write_file(conf_path, conf, 0644);

        g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
        config_arg = g_strdup_printf("--config-file=%s", conf_path);
        argv[0] = (char *) "dbus-daemon";
        argv[1] = config_arg;
        argv[2] = (char *) "--nofork";
        argv[3] = (char *) "--print-address=3";
        argv[4] = NULL;
        {
                g_auto(GStrv) envp = g_get_environ();
                /* Activated services inherit this environment. */
                envp = g_environ_unsetenv(envp, "DBUS_SESSION_BUS_ADDRESS");
                envp = g_environ_unsetenv(envp, "DBUS_SYSTEM_BUS_ADDRESS");
                envp = g_environ_unsetenv(envp, "DBUS_STARTER_BUS_TYPE");
                envp = g_environ_unsetenv(envp, "DBUS_STARTER_ADDRESS");
                bus->bus_pid = spawn_logged(bus, argv, envp, pipefd[1], 3);
        }
        close(pipefd[1]);
        {
                g_autofree char *addr = read_line_fd(pipefd[0], 10 * vh_test_timeout_multiplier());
                close(pipefd[0]);
                if (!addr) {
                        vh_test_bus_print_log(bus);
                        g_error("dbus-daemon did not print its address");
                }
                /* Keep our own unix:path= address: dbus-daemon appends a guid. */
                g_assert_true(g_str_has_prefix(addr, bus->address));
        }
        return bus;
}

GDBusConnection *vh_test_bus_connection(VhTestBus *bus) {
        g_autoptr(GError) error = NULL;

        if (bus->conn)
                return bus->conn;
        bus->conn = g_dbus_connection_new_for_address_sync(
                        bus->address,
                        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                        NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_set_exit_on_close(bus->conn, FALSE);
        return bus->conn;
}

char **vh_test_bus_client_envp(VhTestBus *bus) {
        char **envp = g_get_environ();

        envp = g_environ_setenv(envp, "DBUS_SYSTEM_BUS_ADDRESS", bus->address, TRUE);
        envp = g_environ_unsetenv(envp, "DBUS_SESSION_BUS_ADDRESS");
        envp = g_environ_unsetenv(envp, "DBUS_STARTER_BUS_TYPE");
        envp = g_environ_unsetenv(envp, "DBUS_STARTER_ADDRESS");
        /* Clients are not under test for leaks; the daemon is. */
        envp = g_environ_unsetenv(envp, "LD_PRELOAD");
        return envp;
}

gboolean vh_test_bus_name_has_owner(VhTestBus *bus, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        gboolean has = FALSE;

        r = g_dbus_connection_call_sync(vh_test_bus_connection(bus), DBUS_NAME, DBUS_PATH, DBUS_IFACE,
                                        "NameHasOwner", g_variant_new("(s)", name),
                                        G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(r, "(b)", &has);
        return has;
}

gboolean vh_test_bus_wait_name(VhTestBus *bus, const char *name, gboolean owned, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        for (;;) {
                if (vh_test_bus_name_has_owner(bus, name) == owned)
                        return TRUE;
                if (g_get_monotonic_time() > deadline)
                        return FALSE;
                g_usleep(10000);
        }
}

gboolean vh_test_bus_reconciling(VhTestBus *bus) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL, v = NULL;

        r = g_dbus_connection_call_sync(vh_test_bus_connection(bus), VH_BUS_NAME, VH_MANAGER_PATH,
                                        "org.freedesktop.DBus.Properties", "Get",
                                        g_variant_new("(ss)", VH_MANAGER_INTERFACE, "Reconciling"),
                                        G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(r, "(v)", &v);
        return g_variant_get_boolean(v);
}

gboolean vh_test_bus_wait_reconciled(VhTestBus *bus, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        while (vh_test_bus_reconciling(bus)) {
                if (g_get_monotonic_time() > deadline)
                        return FALSE;
                g_usleep(10000);
        }
        return TRUE;
}

/* ---------- hosts ---------- */

static gboolean is_below_tmpdir(const char *path) {
        g_autofree char *real = realpath(path, NULL);
        g_autofree char *tmp = realpath(g_get_tmp_dir(), NULL);
        g_autofree char *prefix = NULL;

        if (!real || !tmp)
                return FALSE;
        prefix = g_strconcat(tmp, "/", NULL);
        /* Our own directories are named vh-*-XXXXXX below TMPDIR, umockdev's
         * testbeds umockdev.XXXXXX. */
        return g_str_has_prefix(real, prefix) &&
               (g_str_has_prefix(real + strlen(prefix), "vh-") || g_str_has_prefix(real + strlen(prefix), "umockdev."));
}

gboolean vh_test_is_temp_dir(const char *path) {
        return is_below_tmpdir(path);
}

static char *copy_host_into(VhTestBus *bus, const char *name, const char *base) {
        g_autofree char *src = g_build_filename(vh_test_env("VH_TEST_DATA"), "hosts", name, NULL);
        g_autofree char *dst = g_build_filename(base, "hosts", name, NULL);
        g_autofree char *parent = g_path_get_dirname(dst);
        g_autofree char *msg = NULL;
        const char *argv[] = { "cp", "-a", "--", src, parent, NULL };
        g_autoptr(VhTestRun) run = NULL;

        if (!g_file_test(src, G_FILE_TEST_IS_DIR)) {
                msg = g_strdup_printf("fixture host tree %s does not exist", src);
                g_test_skip(msg);
                bus->skipped = TRUE;
                return NULL;
        }
        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        run = vh_test_bus_run(bus, argv, -1);
        if (run->status != 0)
                vh_test_run_print(run, "cp");
        g_assert_cmpint(run->status, ==, 0);
        g_assert_true(is_below_tmpdir(dst));
        return g_steal_pointer(&dst);
}

char *vh_test_bus_copy_host(VhTestBus *bus, const char *name) {
        return copy_host_into(bus, name, bus->dir);
}

static char *shared_dir;
static GHashTable *shared_hosts;

static void remove_shared_dir(void) {
        if (shared_dir)
                vh_test_rm_rf(shared_dir);
}

char *vh_test_bus_shared_host(VhTestBus *bus, const char *name) {
        const char *cached;
        char *path;

        if (!shared_hosts) {
                g_autoptr(GError) error = NULL;

                shared_hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                shared_dir = g_dir_make_tmp("vh-hosts-XXXXXX", &error);
                g_assert_no_error(error);
                g_assert_cmpint(g_chmod(shared_dir, 0755), ==, 0);
                atexit(remove_shared_dir);
        }
        cached = g_hash_table_lookup(shared_hosts, name);
        if (cached)
                return g_strdup(cached);
        path = copy_host_into(bus, name, shared_dir);
        if (path)
                g_hash_table_insert(shared_hosts, g_strdup(name), g_strdup(path));
        return path;
}

/* ---------- daemon ---------- */

GPtrArray *vh_test_daemon_argv(void) {
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        const char *wrapper = g_getenv("VH_TEST_DAEMON_WRAPPER");

        if (wrapper && *wrapper) {
                g_auto(GStrv) words = g_strsplit(wrapper, " ", -1);
                for (size_t i = 0; words[i]; i++) {
                        if (!*words[i])
                                continue;
                        if (argv->len == 0 && !g_path_is_absolute(words[i])) {
                                char *full = g_find_program_in_path(words[i]);
                                if (!full)
                                        g_error("VH_TEST_DAEMON_WRAPPER: %s not found in PATH", words[i]);
                                g_ptr_array_add(argv, full);
                        } else
                                g_ptr_array_add(argv, g_strdup(words[i]));
                }
        }
        g_ptr_array_add(argv, g_strdup(vh_test_env("VH_DAEMON")));
        return argv;
}

static gboolean env_preloads_umockdev(const char *const *env) {
        for (size_t i = 0; env && env[i]; i++)
                if (g_str_has_prefix(env[i], "LD_PRELOAD=") && strstr(env[i], "libumockdev-preload"))
                        return TRUE;
        return FALSE;
}

void vh_test_bus_start_daemon_full(VhTestBus *bus, const char *root,
                                   const char *const *extra_args,
                                   const char *const *extra_env) {
        g_autoptr(GPtrArray) argv = vh_test_daemon_argv();
        g_auto(GStrv) envp = vh_test_bus_client_envp(bus);
        double timeout = 10 * vh_test_timeout_multiplier();
        gint64 deadline;

        g_assert_cmpint(bus->daemon_pid, ==, 0);
        /* Safety: never let a daemon under test act on this machine's /sys. */
        if (!env_preloads_umockdev(extra_env) && !is_below_tmpdir(root))
                g_error("refusing to start the daemon on root %s: not a test directory below TMPDIR and no umockdev preload", root);

        g_ptr_array_add(argv, g_strdup("--root"));
        g_ptr_array_add(argv, g_strdup(root));
        g_ptr_array_add(argv, g_strdup("--no-idle-exit"));
        g_ptr_array_add(argv, g_strdup("--log-level"));
        g_ptr_array_add(argv, g_strdup("debug"));
        for (size_t i = 0; extra_args && extra_args[i]; i++)
                g_ptr_array_add(argv, g_strdup(extra_args[i]));
        g_ptr_array_add(argv, NULL);

        for (size_t i = 0; extra_env && extra_env[i]; i++) {
                g_auto(GStrv) kv = g_strsplit(extra_env[i], "=", 2);
                envp = g_environ_setenv(envp, kv[0], kv[1] ? kv[1] : "", TRUE);
        }

        {
                g_autofree char *cmd = g_strjoinv(" ", (char **) argv->pdata);
                g_autofree char *line = g_strdup_printf("==== starting: %s\n", cmd);
                write_all(bus->log_fd, line, strlen(line));
        }
        bus->daemon_pid = spawn_logged(bus, (char **) argv->pdata, envp, -1, -1);

        deadline = g_get_monotonic_time() + (gint64) (timeout * G_USEC_PER_SEC);
        for (;;) {
                int status;
                pid_t r;

                if (vh_test_bus_name_has_owner(bus, VH_BUS_NAME)) {
                        if (!bus->no_wait_reconciled && !vh_test_bus_wait_reconciled(bus, 4 * timeout)) {
                                vh_test_bus_print_log(bus);
                                g_error("the daemon was still reconciling after %.0f s", 4 * timeout);
                        }
                        return;
                }
                r = waitpid(bus->daemon_pid, &status, WNOHANG);
                if (r == bus->daemon_pid) {
                        bus->daemon_pid = 0;
                        vh_test_bus_print_log(bus);
                        g_error("the daemon exited before owning %s (wait status 0x%x)", VH_BUS_NAME, status);
                }
                if (g_get_monotonic_time() > deadline) {
                        vh_test_bus_print_log(bus);
                        g_error("the daemon did not own %s within %.0f s", VH_BUS_NAME, timeout);
                }
                g_usleep(10000);
        }
}

void vh_test_bus_start_daemon(VhTestBus *bus, const char *root) {
        vh_test_bus_start_daemon_full(bus, root, NULL, NULL);
}

int vh_test_bus_stop_daemon(VhTestBus *bus) {
        int status;

        if (bus->daemon_pid <= 0)
                return 0;
        kill(bus->daemon_pid, SIGTERM);
        /* valgrind's leak check takes a while. */
        status = wait_pid_timeout(bus->daemon_pid, 20 * vh_test_timeout_multiplier());
        if (status < 0)
                kill_and_reap(bus->daemon_pid);
        bus->daemon_pid = 0;
        return status;
}

int vh_test_bus_kill_daemon(VhTestBus *bus, int sig) {
        int status;

        g_assert_cmpint(bus->daemon_pid, >, 0);
        kill(bus->daemon_pid, sig);
        status = wait_pid_timeout(bus->daemon_pid, 20 * vh_test_timeout_multiplier());
        if (status < 0)
                kill_and_reap(bus->daemon_pid);
        bus->daemon_pid = 0;
        {
                g_autofree char *line = g_strdup_printf("==== daemon sent signal %d: status %d\n", sig, status);
                write_all(bus->log_fd, line, strlen(line));
        }
        if (!vh_test_bus_wait_name(bus, VH_BUS_NAME, FALSE, 10 * vh_test_timeout_multiplier()))
                g_error("%s still has an owner after the daemon was killed", VH_BUS_NAME);
        return status;
}

/* ---------- activation ---------- */

void vh_test_bus_write_service(VhTestBus *bus, const char *const *argv, gboolean record_status) {
        g_autoptr(GString) exec = g_string_new(NULL);
        g_autofree char *content = NULL, *path = NULL;

        if (record_status) {
                g_autofree char *launcher = g_build_filename(bus->dir, "launch.sh", NULL);
                g_autofree char *script = g_strdup_printf(
                                "#!/bin/sh\n"
                                "# Runs the activated daemon and records its exit status for the test.\n"
                                "\"$@\"\n"
                                "echo $? >> '%s'\n", bus->activation_status_path);
                write_file(launcher, script, 0755);
                g_string_append_printf(exec, "/bin/sh %s", launcher);
        }
        for (size_t i = 0; argv[i]; i++) {
                /* Exec= is split like a shell line: keep paths simple. */
                g_assert_null(strpbrk(argv[i], " \t\n\"'\\"));
                if (exec->len)
                        g_string_append_c(exec, ' ');
                g_string_append(exec, argv[i]);
        }
        content = g_strdup_printf("[D-BUS Service]\nName=%s\nExec=%s\nUser=root\n", VH_BUS_NAME, exec->str);
        path = g_build_filename(bus->dir, "services", "org.vfiohost.service", NULL);
        write_file(path, content, 0644);
        {
                g_autofree char *line = g_strdup_printf("==== activation: Exec=%s\n", exec->str);
                write_all(bus->log_fd, line, strlen(line));
        }
        /* dbus-daemon rereads its service dirs on a cache miss, but be explicit. */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                                vh_test_bus_connection(bus), DBUS_NAME, DBUS_PATH, DBUS_IFACE,
                                "ReloadConfig", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
                g_assert_no_error(error);
        }
}

GArray *vh_test_bus_activation_statuses(VhTestBus *bus) {
        GArray *a = g_array_new(FALSE, FALSE, sizeof(int));
        g_autofree char *content = NULL;
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents(bus->activation_status_path, &content, NULL, NULL))
                return a;
        lines = g_strsplit(content, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                int v;
                if (!*lines[i])
                        continue;
                v = atoi(lines[i]);
                g_array_append_val(a, v);
        }
        return a;
}

/* ---------- teardown ---------- */

static guint count_statuses(VhTestBus *bus) {
        g_autoptr(GArray) st = vh_test_bus_activation_statuses(bus);
        return st->len;
}

int vh_test_bus_stop_activated(VhTestBus *bus) {
        g_autofree char *service = g_build_filename(bus->dir, "services", "org.vfiohost.service", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        guint32 pid = 0;
        guint before;
        gint64 deadline, gone = 0;

        if (!g_file_test(service, G_FILE_TEST_EXISTS))
                return -1;
        if (!vh_test_bus_name_has_owner(bus, VH_BUS_NAME))
                return -1;
        r = g_dbus_connection_call_sync(vh_test_bus_connection(bus), DBUS_NAME, DBUS_PATH, DBUS_IFACE,
                                        "GetConnectionUnixProcessID", g_variant_new("(s)", VH_BUS_NAME),
                                        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        if (!r)
                return -1;
        g_variant_get(r, "(u)", &pid);
        before = count_statuses(bus);
        kill((pid_t) pid, SIGTERM);
        deadline = g_get_monotonic_time() + (gint64) (20 * vh_test_timeout_multiplier() * G_USEC_PER_SEC);
        while (g_get_monotonic_time() < deadline) {
                g_autoptr(GArray) st = vh_test_bus_activation_statuses(bus);

                if (st->len > before)
                        return g_array_index(st, int, st->len - 1);
                if (gone == 0 && kill((pid_t) pid, 0) < 0 && errno == ESRCH)
                        gone = g_get_monotonic_time();
                /* Gone and no status: not started through the launcher. */
                if (gone > 0 && g_get_monotonic_time() - gone > 2 * G_USEC_PER_SEC)
                        return -1;
                g_usleep(10000);
        }
        g_test_message("the bus-activated daemon (pid %u) did not exit on SIGTERM", pid);
        kill((pid_t) pid, SIGKILL);
        g_test_fail();
        return -2;
}

int vh_test_rm_rf(const char *path) {
        const char *argv[] = { "rm", "-rf", "--", path, NULL };
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH |
                          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &status, &error))
                return -1;
        return status;
}

void vh_test_bus_fixture_start(VhTestBus **bus, char **root, const char *host, VhTestRoot kind) {
        *bus = NULL;
        *root = NULL;
        if (!vh_test_bus_requirements())
                return;
        *bus = vh_test_bus_new();
        *root = kind == VH_TEST_ROOT_COPY ? vh_test_bus_copy_host(*bus, host) : vh_test_bus_shared_host(*bus, host);
        if (*root)
                vh_test_bus_start_daemon(*bus, *root);
}

void vh_test_bus_fixture_stop(VhTestBus **bus, char **root) {
        g_clear_pointer(root, g_free);
        g_clear_pointer(bus, vh_test_bus_free);
}

void vh_test_bus_free(VhTestBus *bus) {
        int status;
        gboolean failed = FALSE, failed_test;

        if (!bus)
                return;

        status = vh_test_bus_stop_daemon(bus);

        /* A bus-activated daemon still running: SIGTERM it and let the
         * launcher record its status before the bus goes (a daemon that
         * loses its bus exits with failure, by design). */
        (void) vh_test_bus_stop_activated(bus);
        if (bus->conn) {
                g_dbus_connection_close_sync(bus->conn, NULL, NULL);
                g_clear_object(&bus->conn);
        }

        kill(bus->bus_pid, SIGTERM);
        if (wait_pid_timeout(bus->bus_pid, 5) < 0)
                kill_and_reap(bus->bus_pid);
        bus->bus_pid = 0;

        if (status != 0) {
                g_test_message("the daemon exited with status %d on SIGTERM, expected 0 "
                               "(a valgrind/sanitizer report or a crash: see the log)", status);
                failed = TRUE;
        }
        if (g_file_test(bus->activation_status_path, G_FILE_TEST_EXISTS)) {
                g_autoptr(GArray) st = vh_test_bus_activation_statuses(bus);
                for (guint i = 0; i < st->len; i++)
                        if (g_array_index(st, int, i) != 0) {
                                g_test_message("a bus-activated daemon exited with status %d, expected 0",
                                               g_array_index(st, int, i));
                                failed = TRUE;
                        }
        }

        /* g_test_failed() is also TRUE for a skipped test. */
        failed_test = !bus->skipped && g_test_failed();
        if (failed || failed_test)
                vh_test_bus_print_log(bus);
        unregister_log(bus->log_path);
        close(bus->log_fd);

        if (failed || failed_test)
                g_test_message("kept the test directory %s", bus->dir);
        else if (bus->dir) {
                g_autofree char *sock_dir = g_path_get_dirname(bus->socket_path);
                if (strcmp(sock_dir, bus->dir) != 0)
                        vh_test_rm_rf(sock_dir);
                vh_test_rm_rf(bus->dir);
        }

        g_free(bus->dir);
        g_free(bus->socket_path);
        g_free(bus->address);
        g_free(bus->log_path);
        g_free(bus->activation_status_path);
        g_free(bus);

        if (failed)
                g_test_fail();
}

/* ---------- running clients ---------- */

static VhTestRun *run_envp(const char *const *argv, char **envp, int uid, int log_fd) {
        g_autoptr(GError) error = NULL;
        VhTestRun *run = g_new0(VhTestRun, 1);
        gint64 start = g_get_monotonic_time();
        int wait_status = 0;

        if (!g_spawn_sync(NULL, (char **) argv, envp,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL,
                          child_setup_pdeathsig, GINT_TO_POINTER(uid + 1),
                          &run->out, &run->err, &wait_status, &error))
                g_error("cannot run %s: %s", argv[0], error->message);
        run->seconds = (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        if (WIFEXITED(wait_status))
                run->status = WEXITSTATUS(wait_status);
        else if (WIFSIGNALED(wait_status))
                run->status = 128 + WTERMSIG(wait_status);
        else
                run->status = -1;
        if (log_fd >= 0) {
                g_autofree char *cmd = g_strjoinv(" ", (char **) argv);
                g_autofree char *line = g_strdup_printf("==== ran (uid %d, %.3f s, exit %d): %s\n",
                                                        uid, run->seconds, run->status, cmd);
                write_all(log_fd, line, strlen(line));
        }
        return run;
}

VhTestRun *vh_test_bus_run_env(VhTestBus *bus, const char *const *argv, int uid, const char *const *env) {
        g_auto(GStrv) envp = vh_test_bus_client_envp(bus);

        for (size_t i = 0; env && env[i]; i++) {
                g_auto(GStrv) kv = g_strsplit(env[i], "=", 2);
                if (kv[1])
                        envp = g_environ_setenv(envp, kv[0], kv[1], TRUE);
                else
                        envp = g_environ_unsetenv(envp, kv[0]);
        }
        return run_envp(argv, envp, uid, bus->log_fd);
}

VhTestRun *vh_test_bus_run(VhTestBus *bus, const char *const *argv, int uid) {
        return vh_test_bus_run_env(bus, argv, uid, NULL);
}

VhTestRun *vh_test_bus_run_ctl(VhTestBus *bus, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        va_list ap;
        const char *a;

        g_ptr_array_add(argv, (char *) vh_test_env("VH_CTL"));
        va_start(ap, bus);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) a);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        return vh_test_bus_run(bus, (const char *const *) argv->pdata, -1);
}

VhTestRun *vh_test_run_ctl_address(const char *address, const char *const *args) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) envp = g_get_environ();

        envp = g_environ_unsetenv(envp, "DBUS_SESSION_BUS_ADDRESS");
        envp = g_environ_unsetenv(envp, "LD_PRELOAD");
        if (address)
                envp = g_environ_setenv(envp, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
        else
                envp = g_environ_unsetenv(envp, "DBUS_SYSTEM_BUS_ADDRESS");
        g_ptr_array_add(argv, (char *) vh_test_env("VH_CTL"));
        for (size_t i = 0; args && args[i]; i++)
                g_ptr_array_add(argv, (char *) args[i]);
        g_ptr_array_add(argv, NULL);
        return run_envp((const char *const *) argv->pdata, envp, -1, -1);
}

void vh_test_run_free(VhTestRun *run) {
        if (!run)
                return;
        g_free(run->out);
        g_free(run->err);
        g_free(run);
}

void vh_test_run_print(const VhTestRun *run, const char *what) {
        g_test_message("%s: exit status %d after %.3f s", what, run->status, run->seconds);
        g_test_message("%s stdout:\n%s", what, run->out ? run->out : "");
        g_test_message("%s stderr:\n%s", what, run->err ? run->err : "");
}

/* ---------- calls ---------- */

GVariant *vh_test_bus_call(VhTestBus *bus, const char *path, const char *interface,
                           const char *method, GVariant *params, const char *reply_type,
                           GError **error) {
        return g_dbus_connection_call_sync(vh_test_bus_connection(bus), VH_BUS_NAME, path, interface,
                                           method, params, reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                           G_DBUS_CALL_FLAGS_NONE,
                                           (int) (25000 * vh_test_timeout_multiplier()), NULL, error);
}

GVariant *vh_test_bus_get_property(VhTestBus *bus, const char *path, const char *interface,
                                   const char *property, GError **error) {
        g_autoptr(GVariant) r = NULL;
        GVariant *v = NULL;

        r = vh_test_bus_call(bus, path, "org.freedesktop.DBus.Properties", "Get",
                             g_variant_new("(ss)", interface, property), "(v)", error);
        if (!r)
                return NULL;
        g_variant_get(r, "(v)", &v);
        return v;
}

char *vh_test_path_encode(const char *prefix, const char *external) {
        GString *s = g_string_new(prefix);

        g_string_append_c(s, '/');
        if (!*external)
                g_string_append_c(s, '_');
        for (const char *p = external; *p; p++) {
                /* sd-bus escapes a leading digit too (bus_label_escape). */
                if (g_ascii_isalpha(*p) || (p > external && g_ascii_isdigit(*p)))
                        g_string_append_c(s, *p);
                else
                        g_string_append_printf(s, "_%02x", (unsigned char) *p);
        }
        return g_string_free(s, FALSE);
}
