/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-test-polkit.h"

#define MOCK_IFACE "org.freedesktop.DBus.Mock"

/* ---------- children ---------- */

static void write_all(int fd, const char *p) {
        size_t n = strlen(p);

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

static void child_setup(gpointer data) {
        int uid = GPOINTER_TO_INT(data) - 1;

        /* Orphans would keep meson's pipes open and hang the run. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
                _exit(127);
        if (uid >= 0) {
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(126);
                /* A credentials change clears PDEATHSIG: set it again. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1)
                        _exit(127);
        }
}

static GPid spawn(VhTestBus *bus, const char *const *argv, int uid, int out_fd, int err_fd) {
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) envp = vh_test_bus_client_envp(bus);
        g_autofree char *cmd = g_strjoinv(" ", (char **) argv);
        g_autofree char *line = g_strdup_printf("==== starting (uid %d): %s\n", uid, cmd);
        GPid pid = 0;

        write_all(bus->log_fd, line);
        if (!g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *) envp,
                                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                                              G_SPAWN_SEARCH_PATH,
                                              child_setup, GINT_TO_POINTER(uid + 1),
                                              -1, out_fd, err_fd, NULL, NULL, 0,
                                              &pid, NULL, NULL, NULL, &error))
                g_error("cannot run %s: %s", argv[0], error->message);
        return pid;
}

/* Exit status (128 + signal), or -1 when still running after timeout_s. */
static int wait_pid(GPid pid, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        for (;;) {
                int status;
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (r < 0 && errno != EINTR)
                        g_error("waitpid(%d): %s", (int) pid, g_strerror(errno));
                if (g_get_monotonic_time() > deadline)
                        return -1;
                g_usleep(2000);
        }
}

static int kill_and_wait(GPid pid, int sig, double timeout_s) {
        int status;

        kill(pid, sig);
        status = wait_pid(pid, timeout_s);
        if (status < 0) {
                kill(pid, SIGKILL);
                (void) wait_pid(pid, 10);
        }
        return status;
}

/* ---------- requirements ---------- */

int vh_test_user_uid(const char *name) {
        struct passwd *pw = getpwnam(name);

        return pw ? (int) pw->pw_uid : -1;
}

gboolean vh_test_polkit_requirements(void) {
        static const char *const mount_points[] = {
                "/usr/share/polkit-1/actions", "/etc/polkit-1/rules.d", "/usr/share/polkit-1/rules.d",
        };
        g_autofree char *unshare = NULL, *mount = NULL;

        if (!vh_test_bus_requirements())
                return FALSE;
        if (!g_file_test(VH_TEST_POLKITD, G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip(VH_TEST_POLKITD " is missing (install polkitd): no real polkit to ask");
                return FALSE;
        }
        unshare = g_find_program_in_path("unshare");
        mount = g_find_program_in_path("mount");
        if (!unshare || !mount) {
                g_test_skip("unshare or mount is missing (util-linux, mount): polkitd cannot get the test's "
                            "actions and rules in a private mount namespace");
                return FALSE;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(mount_points); i++)
                if (!g_file_test(mount_points[i], G_FILE_TEST_IS_DIR)) {
                        g_autofree char *msg = g_strdup_printf("%s does not exist: nothing to bind-mount the test's "
                                                               "polkit files over (install polkitd)", mount_points[i]);
                        g_test_skip(msg);
                        return FALSE;
                }
        if (vh_test_user_uid("polkitd") < 0) {
                g_test_skip("there is no user polkitd for polkitd to drop to (install polkitd)");
                return FALSE;
        }
        return TRUE;
}

gboolean vh_test_polkit_mock_requirements(void) {
        return vh_test_dbusmock_requirements();
}

/* ---------- polkitd ---------- */

static void write_file(const char *path, const char *content) {
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(g_chmod(path, 0644), ==, 0);
}

static char *make_dir(const char *parent, const char *name) {
        char *path = g_build_filename(parent, name, NULL);

        g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
        g_assert_cmpint(g_chmod(path, 0755), ==, 0);
        return path;
}

static void wait_owned(VhTestPolkit *pk) {
        double timeout = 20 * vh_test_timeout_multiplier();
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout * G_USEC_PER_SEC);

        for (;;) {
                int status;

                if (vh_test_bus_name_has_owner(pk->bus, VH_TEST_POLKIT_NAME))
                        return;
                status = wait_pid(pk->pid, 0);
                if (status >= 0) {
                        pk->pid = 0;
                        vh_test_bus_print_log(pk->bus);
                        g_error("polkitd exited with status %d before owning " VH_TEST_POLKIT_NAME " (see the log)",
                                status);
                }
                if (g_get_monotonic_time() > deadline) {
                        vh_test_bus_print_log(pk->bus);
                        g_error("polkitd did not own " VH_TEST_POLKIT_NAME " within %.0f s", timeout);
                }
                g_usleep(5000);
        }
}

VhTestPolkit *vh_test_polkit_start(VhTestBus *bus, const char *rules) {
        g_autoptr(GError) error = NULL;
        g_autofree char *policy = NULL, *policy_copy = NULL, *rules_path = NULL;
        g_autofree char *actions = NULL, *etc_rules = NULL, *share_rules = NULL;
        VhTestPolkit *pk = g_new0(VhTestPolkit, 1);
        const char *argv[] = {
                "unshare", "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c",
                "mount --bind \"$1\" /usr/share/polkit-1/actions && "
                "mount --bind \"$2\" /etc/polkit-1/rules.d && "
                "mount --bind \"$3\" /usr/share/polkit-1/rules.d && "
                "exec \"$4\"",
                "sh", NULL, NULL, NULL, VH_TEST_POLKITD, NULL,
        };

        pk->bus = bus;
        pk->dir = make_dir(bus->dir, "polkit");
        actions = make_dir(pk->dir, "actions");
        etc_rules = make_dir(pk->dir, "etc-rules.d");
        share_rules = make_dir(pk->dir, "share-rules.d");

        /* The project's real action declarations, and nothing else. */
        g_file_get_contents(vh_test_env("VH_POLKIT_POLICY"), &policy, NULL, &error);
        g_assert_no_error(error);
        policy_copy = g_build_filename(actions, "org.vfiohost.policy", NULL);
        write_file(policy_copy, policy);
        rules_path = g_build_filename(etc_rules, "10-vfiohost-test.rules", NULL);
        write_file(rules_path, rules);

        argv[9] = actions;
        argv[10] = etc_rules;
        argv[11] = share_rules;
        /* Not --no-debug: that sends polkitd's output (and the rules'
         * polkit.log()) to /dev/null; the log shows its decisions. */
        pk->pid = spawn(bus, argv, -1, bus->log_fd, bus->log_fd);
        wait_owned(pk);
        return pk;
}

VhTestPolkit *vh_test_polkit_start_mock(VhTestBus *bus) {
        VhTestPolkit *pk = g_new0(VhTestPolkit, 1);

        pk->bus = bus;
        pk->mock_process = vh_test_dbusmock_start(bus, VH_TEST_POLKIT_NAME, "polkitd");
        return pk;
}

void vh_test_polkit_stop(VhTestPolkit *pk) {
        int status;

        if (!pk)
                return;
        if (pk->mock_process) {
                g_clear_pointer(&pk->mock_process, vh_test_dbusmock_free);
                write_all(pk->bus->log_fd, "==== mock polkitd stopped\n");
        } else {
                if (pk->pid <= 0)
                        return;
                status = kill_and_wait(pk->pid, SIGTERM, 10 * vh_test_timeout_multiplier());
                pk->pid = 0;
                {
                        g_autofree char *line = g_strdup_printf("==== polkitd stopped (status %d)\n", status);
                        write_all(pk->bus->log_fd, line);
                }
        }
        g_assert_true(vh_test_bus_wait_name(pk->bus, VH_TEST_POLKIT_NAME, FALSE, 10 * vh_test_timeout_multiplier()));
}

void vh_test_polkit_free(VhTestPolkit *pk) {
        if (!pk)
                return;
        if (pk->pid > 0) {
                (void) kill_and_wait(pk->pid, SIGTERM, 10 * vh_test_timeout_multiplier());
                pk->pid = 0;
        }
        vh_test_dbusmock_free(pk->mock_process);
        g_free(pk->dir);
        g_free(pk);
}

GVariant *vh_test_polkit_call(VhTestPolkit *pk, const char *interface, const char *method,
                              GVariant *params, const char *reply_type, GError **error) {
        return g_dbus_connection_call_sync(vh_test_bus_connection(pk->bus), VH_TEST_POLKIT_NAME, VH_TEST_POLKIT_PATH,
                                           interface, method, params,
                                           reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                           G_DBUS_CALL_FLAGS_NONE, (int) (25000 * vh_test_timeout_multiplier()),
                                           NULL, error);
}

static void mock_call(VhTestPolkit *pk, const char *method, GVariant *params) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;

        g_assert_nonnull(pk->mock_process);
        r = vh_test_polkit_call(pk, MOCK_IFACE, method, params, NULL, &error);
        g_assert_no_error(error);
}

void vh_test_polkit_mock_set_allowed(VhTestPolkit *pk, const char *const *actions) {
        const char *const none[] = { NULL };

        mock_call(pk, "SetAllowed", g_variant_new("(^as)", actions ? actions : none));
}

void vh_test_polkit_mock_simulate_hang(VhTestPolkit *pk, gboolean hang) {
        mock_call(pk, "SimulateHang", g_variant_new("(b)", hang));
}

void vh_test_polkit_mock_release(VhTestPolkit *pk) {
        mock_call(pk, "ReleaseHangingCalls", NULL);
}

void vh_test_polkit_mock_clear_calls(VhTestPolkit *pk) {
        mock_call(pk, "ClearCalls", NULL);
}

GPtrArray *vh_test_polkit_mock_checks(VhTestPolkit *pk) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autoptr(GVariantIter) iter = NULL;
        GPtrArray *checks = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
        GVariant *args;

        g_assert_nonnull(pk->mock_process);
        r = vh_test_polkit_call(pk, MOCK_IFACE, "GetMethodCalls", g_variant_new("(s)", "CheckAuthorization"),
                                "(a(tav))", &error);
        g_assert_no_error(error);
        g_variant_get(r, "(a(tav))", &iter);
        while (g_variant_iter_next(iter, "(t@av)", NULL, &args)) {
                g_autoptr(GVariant) owned = args;
                GVariantBuilder b;

                g_variant_builder_init(&b, G_VARIANT_TYPE_TUPLE);
                for (gsize i = 0; i < g_variant_n_children(args); i++) {
                        g_autoptr(GVariant) boxed = g_variant_get_child_value(args, i);
                        g_autoptr(GVariant) inner = g_variant_get_variant(boxed);
                        g_variant_builder_add_value(&b, inner);
                }
                g_ptr_array_add(checks, g_variant_ref_sink(g_variant_builder_end(&b)));
        }
        for (guint i = 0; i < checks->len; i++)
                g_assert_cmpstr(g_variant_get_type_string(checks->pdata[i]), ==, "((sa{sv})sa{ss}us)");
        return checks;
}

gboolean vh_test_polkit_mock_wait_checks(VhTestPolkit *pk, guint n, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * G_USEC_PER_SEC);

        for (;;) {
                g_autoptr(GPtrArray) checks = vh_test_polkit_mock_checks(pk);

                if (checks->len >= n)
                        return TRUE;
                if (g_get_monotonic_time() > deadline)
                        return FALSE;
                g_usleep(5000);
        }
}

/* ---------- clients ---------- */

static guint client_counter;

VhTestClient *vh_test_client_spawn(VhTestBus *bus, int uid, gboolean interactive, const char *method,
                                   const char *address, const char *options) {
        const char *const args[] = { address, options, NULL };

        return vh_test_client_spawn_args(bus, uid, interactive, method, args);
}

VhTestClient *vh_test_client_spawn_args(VhTestBus *bus, int uid, gboolean interactive, const char *method,
                                        const char *const *args) {
        g_autofree char *full_method = g_strdup_printf("org.vfiohost.Manager1.%s", method);
        g_autofree char *joined = g_strjoinv(", ", (char **) args);
        g_autofree char *timeout = g_strdup_printf("%d", (int) (60 * vh_test_timeout_multiplier()));
        VhTestClient *c = g_new0(VhTestClient, 1);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        guint n = ++client_counter;
        int out_fd, err_fd;

        c->uid = uid;
        c->status = -1;
        c->out_path = g_strdup_printf("%s/client-%u.out", bus->dir, n);
        c->err_path = g_strdup_printf("%s/client-%u.err", bus->dir, n);
        out_fd = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        err_fd = open(c->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        g_assert_cmpint(out_fd, >=, 0);
        g_assert_cmpint(err_fd, >=, 0);

        g_ptr_array_add(argv, (char *) "gdbus");
        g_ptr_array_add(argv, (char *) "call");
        g_ptr_array_add(argv, (char *) "--system");
        g_ptr_array_add(argv, (char *) "--dest");
        g_ptr_array_add(argv, (char *) "org.vfiohost");
        g_ptr_array_add(argv, (char *) "--object-path");
        g_ptr_array_add(argv, (char *) "/org/vfiohost");
        g_ptr_array_add(argv, (char *) "--method");
        g_ptr_array_add(argv, full_method);
        g_ptr_array_add(argv, (char *) "--timeout");
        g_ptr_array_add(argv, timeout);
        if (interactive)
                g_ptr_array_add(argv, (char *) "--interactive");
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, (char *) args[i]);
        g_ptr_array_add(argv, NULL);

        c->what = g_strdup_printf("uid %d: %s(%s)%s", uid, method, joined, interactive ? " --interactive" : "");
        c->started = g_get_monotonic_time();
        c->pid = spawn(bus, (const char *const *) argv->pdata, uid, out_fd, err_fd);
        close(out_fd);
        close(err_fd);
        return c;
}

gboolean vh_test_client_running(VhTestClient *c) {
        int status;
        pid_t r;

        if (c->done)
                return FALSE;
        r = waitpid(c->pid, &status, WNOHANG);
        if (r == 0)
                return TRUE;
        /* Exited: reap it properly, so wait() sees the status. */
        g_assert_cmpint(r, ==, c->pid);
        c->done = TRUE;
        c->seconds = (double) (g_get_monotonic_time() - c->started) / G_USEC_PER_SEC;
        c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return FALSE;
}

static void client_parse(VhTestClient *c) {
        const char *p;

        g_file_get_contents(c->out_path, &c->out, NULL, NULL);
        g_file_get_contents(c->err_path, &c->err, NULL, NULL);
        if (!c->out)
                c->out = g_strdup("");
        if (!c->err)
                c->err = g_strdup("");

        /* gdbus call: "Error: GDBus.Error:NAME: MESSAGE" */
        p = strstr(c->err, "GDBus.Error:");
        if (p) {
                const char *name = p + strlen("GDBus.Error:");
                const char *end = strstr(name, ": ");
                const char *nl = strchr(name, '\n');

                if (!end || (nl && nl < end))
                        end = nl ? nl : name + strlen(name);
                c->error_name = g_strndup(name, end - name);
                if (*end == ':') {
                        const char *msg = end + 2;
                        g_autofree char *m = g_strdup(msg);
                        c->error_message = g_strstrip(g_steal_pointer(&m));
                }
        }
}

void vh_test_client_wait(VhTestClient *c, double timeout_s) {
        if (!c->done) {
                int status = wait_pid(c->pid, timeout_s);

                if (status < 0) {
                        kill(c->pid, SIGKILL);
                        (void) wait_pid(c->pid, 10);
                }
                c->done = TRUE;
                c->status = status;
                c->seconds = (double) (g_get_monotonic_time() - c->started) / G_USEC_PER_SEC;
        }
        if (!c->out)
                client_parse(c);
        g_test_message("%s -> exit %d after %.3f s: %s%s%s", c->what, c->status, c->seconds,
                       c->error_name ? c->error_name : "(no D-Bus error)",
                       c->error_message ? ": " : "", c->error_message ? c->error_message : "");
}

void vh_test_client_kill(VhTestClient *c) {
        if (c->done)
                return;
        kill(c->pid, SIGKILL);
        c->status = wait_pid(c->pid, 10);
        c->done = TRUE;
}

void vh_test_client_free(VhTestClient *c) {
        if (!c)
                return;
        vh_test_client_kill(c);
        g_free(c->what);
        g_free(c->out_path);
        g_free(c->err_path);
        g_free(c->out);
        g_free(c->err);
        g_free(c->error_name);
        g_free(c->error_message);
        g_free(c);
}

VhTestClient *vh_test_client_call(VhTestBus *bus, int uid, gboolean interactive, const char *method,
                                  const char *address, const char *options) {
        VhTestClient *c = vh_test_client_spawn(bus, uid, interactive, method, address, options);

        vh_test_client_wait(c, 90 * vh_test_timeout_multiplier());
        return c;
}

/* ---------- tree snapshots ---------- */

static int compare_names(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void snapshot_dir(GString *s, const char *root, const char *rel) {
        g_autofree char *path = *rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        DIR *d = opendir(path);
        struct dirent *de;

        g_assert_nonnull(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        g_ptr_array_add(names, g_strdup(de->d_name));
        closedir(d);
        g_ptr_array_sort(names, compare_names);

        for (guint i = 0; i < names->len; i++) {
                g_autofree char *r = *rel ? g_build_filename(rel, names->pdata[i], NULL) : g_strdup(names->pdata[i]);
                g_autofree char *p = g_build_filename(root, r, NULL);
                struct stat st;

                g_assert_cmpint(lstat(p, &st), ==, 0);
                if (S_ISLNK(st.st_mode)) {
                        g_autofree char *target = g_file_read_link(p, NULL);
                        g_string_append_printf(s, "%s l -> %s\n", r, target ? target : "?");
                } else if (S_ISDIR(st.st_mode)) {
                        g_string_append_printf(s, "%s d %04o\n", r, (unsigned) (st.st_mode & 07777));
                        snapshot_dir(s, root, r);
                } else if (S_ISREG(st.st_mode)) {
                        g_autofree char *content = NULL;
                        g_autofree char *sum = NULL;
                        gsize len = 0;

                        g_assert_true(g_file_get_contents(p, &content, &len, NULL));
                        sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) content, len);
                        g_string_append_printf(s, "%s f %04o %" G_GSIZE_FORMAT " %s\n", r,
                                               (unsigned) (st.st_mode & 07777), len, sum);
                } else
                        g_string_append_printf(s, "%s ? %06o\n", r, (unsigned) st.st_mode);
        }
}

char *vh_test_polkit_snapshot(const char *root) {
        GString *s = g_string_new(NULL);

        snapshot_dir(s, root, "");
        return g_string_free(s, FALSE);
}

void vh_test_polkit_snapshot_assert_equal(const char *before, const char *after) {
        g_auto(GStrv) a = NULL, b = NULL;
        g_autoptr(GHashTable) in_a = NULL, in_b = NULL;
        guint shown = 0;

        if (strcmp(before, after) == 0)
                return;
        a = g_strsplit(before, "\n", -1);
        b = g_strsplit(after, "\n", -1);
        in_a = g_hash_table_new(g_str_hash, g_str_equal);
        in_b = g_hash_table_new(g_str_hash, g_str_equal);
        for (size_t i = 0; a[i]; i++)
                g_hash_table_add(in_a, a[i]);
        for (size_t i = 0; b[i]; i++)
                g_hash_table_add(in_b, b[i]);
        for (size_t i = 0; a[i] && shown < 50; i++)
                if (!g_hash_table_contains(in_b, a[i])) {
                        g_test_message("tree changed: - %s", a[i]);
                        shown++;
                }
        for (size_t i = 0; b[i] && shown < 100; i++)
                if (!g_hash_table_contains(in_a, b[i])) {
                        g_test_message("tree changed: + %s", b[i]);
                        shown++;
                }
        g_assert_cmpstr("the tree changed", ==, "the tree is byte-identical");
}
