/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization of Manager1.Bind/Unbind (service/bus/vh-bus-polkit.c):
 *
 *  real/   the real polkitd with the project's own org.vfiohost.policy (merged)
 *          and test rules, in a private mount namespace (policy truth);
 *  mock/   python3-dbusmock's polkitd template (what the daemon sends,
 *          hangs, concurrency, polkit dying);
 *  absent/ no polkit on the bus at all.
 *
 * The daemon runs on a per-test copy of a fixture tree with
 * VFIOHOST_TEST_FAULTS=driver_override=EIO: a call that polkit authorized
 * reaches its first sysfs write and fails with org.vfiohost.Error.Failed
 * (naming driver_override); a refused one fails earlier with AccessDenied
 * or InteractiveAuthorizationRequired. So the error name says which way
 * the authorization went, without a fake kernel. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vh-bus-polkit.h"
#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-polkit.h"

#define FAULTS "VFIOHOST_TEST_FAULTS=driver_override=EIO"

/* desktop-intel (tests/data/README.md): group 2 (01:00.0 RTX 4090 on nvidia,
 * no user; 01:00.1 its audio; root port on pcieport) binds as a group;
 * 00:14.0 (xHCI, group 4, whose other member has no driver) binds alone.
 * Not the NVMe (it backs /), the I225-V (default route), the iGPU or the
 * RX 7900 XTX (Xorg holds them): those are refused before polkit. */
#define BIND_HOST       "desktop-intel"
#define BIND_DEV        "0000:01:00.0"
#define BIND_MATE       "0000:01:00.1"
#define BIND_OPTS       "{'group': <true>}"
#define OTHER_DEV       "0000:00:14.0"
#define OTHER_OPTS      "{}"
/* server-sriov: the VF 3b:02.1 is on vfio-pci with nobody holding
 * /dev/vfio/24, so Unbind has work to do (on desktop-vfio-bound a QEMU
 * holds the bound group: InUse, before polkit). */
#define UNBIND_HOST     "server-sriov"
#define UNBIND_DEV      "0000:3b:02.1"
#define UNBIND_OPTS     "{}"

/* Test users. dbus-daemon drops connections from uids without a passwd
 * entry (it looks up their groups), and polkit rules see subject.user by
 * name, so these are existing system users: A may, B may not, C may only
 * bind BIND_DEV or UNBIND_DEV (checked through the "verb" and "device"
 * details alone, not the action id), nobody is unlisted (the policy's
 * default, auth_admin). */
#define USER_A "daemon"
#define USER_B "bin"
#define USER_C "sys"
#define USER_NOBODY "nobody"

static const char rules_template[] =
        "// vfiohost test rules (tests/bus/test-polkit.c)\n"
        "polkit.addRule(function(action, subject) {\n"
        "        if (action.id.indexOf(\"org.vfiohost.\") != 0)\n"
        "                return polkit.Result.NOT_HANDLED;\n"
        "        polkit.log(\"vfiohost-test: \" + action.id + \" user=\" + subject.user +\n"
        "                   \" device=\" + action.lookup(\"device\") + \" verb=\" + action.lookup(\"verb\"));\n"
        "        if (subject.user == \"" USER_A "\" &&\n"
        "            (action.id == \"org.vfiohost.bind\" || action.id == \"org.vfiohost.unbind\"))\n"
        "                return polkit.Result.YES;\n"
        "        if (subject.user == \"" USER_B "\")\n"
        "                return polkit.Result.NO;\n"
        "        if (subject.user == \"" USER_C "\") {\n"
        "                var device = action.lookup(\"device\");\n"
        "                if (action.lookup(\"verb\") == \"bind\" &&\n"
        "                    (device == \"" BIND_DEV "\" || device == \"" UNBIND_DEV "\"))\n"
        "                        return polkit.Result.YES;\n"
        "                return polkit.Result.NO;\n"
        "        }\n"
        "        return polkit.Result.NOT_HANDLED;\n"
        "});\n";

typedef enum {
        POLKIT_REAL,
        POLKIT_MOCK,
        POLKIT_NONE,
} PolkitKind;

typedef struct {
        const char *host;
        PolkitKind kind;
} Setup;

typedef struct {
        VhTestBus *bus;
        char *root;
        VhTestPolkit *pk;
        int uid_a, uid_b, uid_c, uid_nobody;
        char *owner;                    /* the daemon's unique name */
        const char *probe;              /* a device of this fixture, for GetDevice */
        gboolean ready;
} Fixture;

static double mult(void) {
        return vh_test_timeout_multiplier();
}

/* Precondition: as root and as a dry run (no polkit, nothing written) the
 * request passes every validity check on this fixture, so a refusal later
 * can only come from authorization. */
static void assert_request_valid(VhTestBus *bus, const char *method, const char *address, const char *options) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) parsed = g_variant_parse(G_VARIANT_TYPE("a{sv}"), options, NULL, NULL, &error);
        g_autoptr(GVariant) r = NULL;
        GVariantDict dict;

        g_assert_no_error(error);
        g_variant_dict_init(&dict, parsed);
        g_variant_dict_insert(&dict, "dry-run", "b", TRUE);
        r = vh_test_bus_call(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, method,
                             g_variant_new("(s@a{sv})", address, g_variant_dict_end(&dict)), "(a{sv})", &error);
        if (error)
                g_test_message("the fixture no longer accepts %s(\"%s\", %s) as root: pick another device "
                               "for tests/bus/test-polkit.c", method, address, options);
        g_assert_no_error(error);
}

static void fixture_setup(Fixture *fx, gconstpointer data) {
        const Setup *s = data;
        const char *const env[] = { FAULTS, NULL };
        static const char *const users[] = { USER_A, USER_B, USER_C, USER_NOBODY };
        int *uids[] = { &fx->uid_a, &fx->uid_b, &fx->uid_c, &fx->uid_nobody };

        if (s->kind == POLKIT_REAL && !vh_test_polkit_requirements())
                return;
        if (s->kind == POLKIT_MOCK && !vh_test_polkit_mock_requirements())
                return;
        if (s->kind == POLKIT_NONE && !vh_test_bus_requirements())
                return;
        for (size_t i = 0; i < G_N_ELEMENTS(users); i++) {
                *uids[i] = vh_test_user_uid(users[i]);
                if (*uids[i] <= 0) {
                        g_autofree char *msg = g_strdup_printf("there is no user %s (a non-root test caller)", users[i]);
                        g_test_skip(msg);
                        return;
                }
        }

        fx->probe = strcmp(s->host, UNBIND_HOST) == 0 ? UNBIND_DEV : BIND_DEV;
        fx->bus = vh_test_bus_new();
        fx->root = vh_test_bus_copy_host(fx->bus, s->host);
        if (!fx->root)
                return;
        if (s->kind == POLKIT_REAL)
                fx->pk = vh_test_polkit_start(fx->bus, rules_template);
        else if (s->kind == POLKIT_MOCK)
                fx->pk = vh_test_polkit_start_mock(fx->bus);
        vh_test_bus_start_daemon_full(fx->bus, fx->root, NULL, env);
        if (strcmp(s->host, BIND_HOST) == 0) {
                assert_request_valid(fx->bus, "Bind", BIND_DEV, BIND_OPTS);
                assert_request_valid(fx->bus, "Bind", BIND_MATE, BIND_OPTS);
                assert_request_valid(fx->bus, "Bind", OTHER_DEV, OTHER_OPTS);
        }
        if (strcmp(s->host, UNBIND_HOST) == 0)
                assert_request_valid(fx->bus, "Unbind", UNBIND_DEV, UNBIND_OPTS);

        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                                vh_test_bus_connection(fx->bus), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "GetNameOwner", g_variant_new("(s)", VH_BUS_NAME),
                                G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
                g_assert_no_error(error);
                g_variant_get(r, "(s)", &fx->owner);
        }
        fx->ready = TRUE;
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        /* The daemon first (its exit status is asserted), then polkit. */
        if (fx->bus) {
                int status = vh_test_bus_stop_daemon(fx->bus);
                if (status != 0) {
                        g_test_message("the daemon exited with status %d on SIGTERM, expected 0", status);
                        g_test_fail();
                }
        }
        vh_test_polkit_free(fx->pk);
        vh_test_bus_free(fx->bus);
        g_free(fx->root);
        g_free(fx->owner);
}

#define SKIP_UNLESS_READY(fx) do { if (!(fx)->ready) return; } while (0)

/* ---------- helpers ---------- */

static GVariant *parse_options(const char *options) {
        g_autoptr(GError) error = NULL;
        GVariant *v = g_variant_parse(G_VARIANT_TYPE("a{sv}"), options, NULL, NULL, &error);

        g_assert_no_error(error);
        return v;
}

/* A call as root from the test's own connection; returns the remote error
 * name (NULL on success) and stores the message. */
static char *root_call(Fixture *fx, const char *method, const char *address, const char *options,
                       char **ret_message, double *ret_seconds) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autoptr(GVariant) parsed = parse_options(options);
        gint64 start = g_get_monotonic_time();
        char *name;

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, method,
                             g_variant_new("(s@a{sv})", address, parsed), "(a{sv})", &error);
        if (ret_seconds)
                *ret_seconds = (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        if (r) {
                g_test_message("root: %s(\"%s\", %s) -> success", method, address, options);
                return NULL;
        }
        g_assert_true(g_dbus_error_is_remote_error(error));
        name = g_dbus_error_get_remote_error(error);
        g_dbus_error_strip_remote_error(error);
        g_test_message("root: %s(\"%s\", %s) -> %s: %s", method, address, options, name, error->message);
        if (ret_message)
                *ret_message = g_strdup(error->message);
        return name;
}

static gboolean contains_ci(const char *haystack, const char *needle) {
        g_autofree char *h = g_ascii_strdown(haystack ? haystack : "", -1);
        g_autofree char *n = g_ascii_strdown(needle, -1);

        return strstr(h, n) != NULL;
}

/* The call was authorized: it reached the first sysfs write, which the
 * fault spec fails. */
static void assert_reached_sysfs(const char *error_name, const char *message, const char *address) {
        g_assert_cmpstr(error_name, ==, VH_ERROR_FAILED);
        g_assert_true(contains_ci(message, "driver_override"));
        if (address)
                g_assert_true(contains_ci(message, address));
}

static void assert_client_reached_sysfs(VhTestClient *c, const char *address) {
        if (c->status != 1 || g_strcmp0(c->error_name, VH_ERROR_FAILED) != 0)
                g_test_message("stderr: %s", c->err);
        g_assert_cmpint(c->status, ==, 1);
        assert_reached_sysfs(c->error_name, c->error_message, address);
}

static void assert_client_error(VhTestClient *c, const char *error_name, const char *message_part) {
        if (g_strcmp0(c->error_name, error_name) != 0)
                g_test_message("stderr: %s", c->err);
        g_assert_cmpint(c->status, ==, 1);
        g_assert_cmpstr(c->error_name, ==, error_name);
        if (message_part && !contains_ci(c->error_message, message_part)) {
                g_test_message("expected the message to mention \"%s\"", message_part);
                g_assert_cmpstr(c->error_message, ==, message_part);
        }
}

static void assert_client_success(VhTestClient *c) {
        if (c->status != 0)
                g_test_message("stderr: %s", c->err);
        g_assert_cmpint(c->status, ==, 0);
        g_assert_null(c->error_name);
        g_assert_true(g_str_has_prefix(c->out, "({"));
}

/* The daemon is the same process and answers a read promptly; returns
 * the GetDevice round trip in seconds. */
static double assert_daemon_answers(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL, owner = NULL;
        gint64 start = g_get_monotonic_time();
        double seconds;
        const char *path = NULL, *unique = NULL;

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                             g_variant_new("(s)", fx->probe), "(o)", &error);
        seconds = (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        g_assert_no_error(error);
        g_variant_get(r, "(&o)", &path);
        g_assert_true(g_str_has_prefix(path, VH_DEVICE_PATH_PREFIX "/"));

        owner = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), "org.freedesktop.DBus",
                                            "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                            g_variant_new("(s)", VH_BUS_NAME), G_VARIANT_TYPE("(s)"),
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(owner, "(&s)", &unique);
        g_assert_cmpstr(unique, ==, fx->owner);
        return seconds;
}

/* ================= real polkitd ================= */

/* polkitd sees exactly the project's actions with their declared
 * defaults, and the machine's own action directory is untouched. */
static void test_real_actions(Fixture *fx, gconstpointer data) {
        static const struct {
                const char *id;
                guint any, inactive, active;
        } expected[] = {
                /* PolkitImplicitAuthorization: 2 auth_admin, 4 auth_admin_keep */
                { VH_ACTION_BIND, 2, 2, 2 },
                { VH_ACTION_UNBIND, 2, 2, 2 },
                { VH_ACTION_MANAGE, 2, 2, 4 },
        };
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        g_autoptr(GVariantIter) iter = NULL;
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        const char *id;
        guint any, inactive, active;

        SKIP_UNLESS_READY(fx);

        r = vh_test_polkit_call(fx->pk, VH_TEST_POLKIT_IFACE, "EnumerateActions", g_variant_new("(s)", ""),
                                "(a(ssssssuuua{ss}))", &error);
        g_assert_no_error(error);
        g_variant_get(r, "(a(ssssssuuua{ss}))", &iter);
        while (g_variant_iter_next(iter, "(&ssssssuuu@a{ss})", &id, NULL, NULL, NULL, NULL, NULL,
                                   &any, &inactive, &active, NULL)) {
                gboolean known = FALSE;

                g_test_message("polkitd has action %s (%u/%u/%u)", id, any, inactive, active);
                for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
                        if (strcmp(expected[i].id, id) == 0) {
                                g_assert_cmpuint(any, ==, expected[i].any);
                                g_assert_cmpuint(inactive, ==, expected[i].inactive);
                                g_assert_cmpuint(active, ==, expected[i].active);
                                known = TRUE;
                        }
                g_assert_true(known);
                g_hash_table_add(seen, g_strdup(id));
        }
        g_assert_cmpuint(g_hash_table_size(seen), ==, G_N_ELEMENTS(expected));

        /* Outside the namespace, the system's directory is what it was: it
         * does not hold the test's rules file. */
        g_assert_false(g_file_test("/etc/polkit-1/rules.d/10-vfiohost-test.rules", G_FILE_TEST_EXISTS));
}

/* Bind: who may and who may not, the tree untouched by every refusal. */
static void test_real_bind(Fixture *fx, gconstpointer data) {
        g_autofree char *before = NULL, *after = NULL;

        SKIP_UNLESS_READY(fx);
        before = vh_test_polkit_snapshot(fx->root);

        /* B: a rule says NO. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_b, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_b, TRUE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        /* Unlisted: the policy's auth_admin with no agent: polkit answers
         * with a challenge, for flags 1 and 0 alike. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, TRUE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_INTERACTIVE, VH_ACTION_BIND);
        }
        {
                /* Without ALLOW_INTERACTIVE_AUTHORIZATION polkit still says
                 * (false, challenge): the daemon maps a challenge to
                 * InteractiveAuthorizationRequired whatever the flag, as
                 * systemd's bus-polkit.c does and the D-Bus specification
                 * allows ("could be allowed after interactive
                 * authorization"). */
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_INTERACTIVE, VH_ACTION_BIND);
        }
        /* C: only verb "bind" of device BIND_DEV, so the same group asked
         * for through its other function is refused (the "device" detail
         * is the requested address), and so is another device. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_c, FALSE, "Bind", BIND_MATE, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_c, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }

        /* Nothing changed, and the daemon is fine. */
        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);
        g_test_message("GetDevice after the refusals: %.1f ms", 1000 * assert_daemon_answers(fx));

        /* A: authorized, reaches sysfs. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_reached_sysfs(c, BIND_DEV);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
                assert_client_reached_sysfs(c, OTHER_DEV);
        }
        /* C: exactly verb bind, device BIND_DEV. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_c, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_reached_sysfs(c, BIND_DEV);
        }
        assert_daemon_answers(fx);
}

/* SetPersistent is org.vfiohost.manage, not bind: A, whom the rules let
 * bind, still has to authenticate as an admin (auth_admin_keep); B is
 * refused; nothing is bound or saved on any refusal. */
static void test_real_manage(Fixture *fx, gconstpointer data) {
        g_autofree char *before = NULL, *after = NULL;

        SKIP_UNLESS_READY(fx);
        before = vh_test_polkit_snapshot(fx->root);
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_b, FALSE, "SetPersistent", BIND_DEV,
                                                                BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_MANAGE);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "SetPersistent", BIND_DEV,
                                                                BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_INTERACTIVE, VH_ACTION_MANAGE);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, TRUE, "SetPersistent",
                                                                BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_INTERACTIVE, VH_ACTION_MANAGE);
        }
        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);
        assert_daemon_answers(fx);
}

static void test_real_unbind(Fixture *fx, gconstpointer data) {
        g_autofree char *before = NULL, *after = NULL;

        SKIP_UNLESS_READY(fx);
        before = vh_test_polkit_snapshot(fx->root);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_b, FALSE, "Unbind", UNBIND_DEV, UNBIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_UNBIND);
        }
        /* C's rule wants verb "bind": same device, verb "unbind" is refused. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_c, FALSE, "Unbind", UNBIND_DEV, UNBIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_UNBIND);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, TRUE, "Unbind", UNBIND_DEV, UNBIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_INTERACTIVE, VH_ACTION_UNBIND);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Unbind", UNBIND_DEV, UNBIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_INTERACTIVE, VH_ACTION_UNBIND);
        }

        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);
        assert_daemon_answers(fx);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "Unbind", UNBIND_DEV, UNBIND_OPTS);
                assert_client_reached_sysfs(c, UNBIND_DEV);
        }
        assert_daemon_answers(fx);
}

/* root is authorized without polkit: it passes with polkitd gone, while A,
 * whom the rules allow, is then refused (nothing was cached). */
static void test_real_root_without_polkit(Fixture *fx, gconstpointer data) {
        g_autofree char *name = NULL, *message = NULL;
        double seconds = 0;

        SKIP_UNLESS_READY(fx);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
                assert_client_reached_sysfs(c, OTHER_DEV);
        }

        vh_test_polkit_stop(fx->pk);
        g_assert_false(vh_test_bus_name_has_owner(fx->bus, VH_TEST_POLKIT_NAME));

        name = root_call(fx, "Bind", BIND_DEV, BIND_OPTS, &message, &seconds);
        assert_reached_sysfs(name, message, BIND_DEV);
        g_test_message("root Bind without polkit: %.1f ms", 1000 * seconds);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, "polkit is not running");
        }
        assert_daemon_answers(fx);
}

/* vfiohostctl as an unauthorized user, no terminal, --no-ask-password: a
 * clear error, exit 1. */
static void test_real_ctl(Fixture *fx, gconstpointer data) {
        SKIP_UNLESS_READY(fx);

        {
                g_autoptr(VhTestRun) help = vh_test_bus_run_ctl(fx->bus, "--help", NULL);
                if (help->status != 0 || !strstr(help->out, "\n  bind ")) {
                        g_test_skip("vfiohostctl has no bind verb yet");
                        return;
                }
        }

        for (int i = 0; i < 2; i++) {
                int uid = i == 0 ? fx->uid_nobody : fx->uid_b;
                const char *argv[] = { vh_test_env("VH_CTL"), "--no-ask-password", "bind", BIND_DEV, "--group", NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, uid);

                vh_test_run_print(run, i == 0 ? "vfiohostctl bind as nobody" : "vfiohostctl bind as " USER_B);
                g_assert_cmpint(run->status, ==, 1);
                g_assert_cmpstr(run->out, ==, "");
                g_assert_null(strstr(run->err, "(null)"));
                /* It names what was refused and why. */
                g_assert_nonnull(strstr(run->err, BIND_DEV));
                g_assert_nonnull(strstr(run->err, VH_ACTION_BIND));
                if (i == 0)
                        /* No password prompt was possible: it says how to get one. */
                        g_assert_true(contains_ci(run->err, "authentication required") &&
                                      contains_ci(run->err, "--no-ask-password"));
                else
                        g_assert_true(contains_ci(run->err, "not authorized") || contains_ci(run->err, "denied"));
        }

        /* --json: the D-Bus error name on stdout. */
        for (int i = 0; i < 2; i++) {
                int uid = i == 0 ? fx->uid_nobody : fx->uid_b;
                const char *argv[] = { vh_test_env("VH_CTL"), "--json", "--no-ask-password", "bind", BIND_DEV, "--group", NULL };
                g_autoptr(VhTestRun) run = vh_test_bus_run(fx->bus, argv, uid);

                vh_test_run_print(run, i == 0 ? "vfiohostctl --json bind as nobody" : "vfiohostctl --json bind as " USER_B);
                g_assert_cmpint(run->status, ==, 1);
                g_assert_nonnull(strstr(run->out, i == 0 ? VH_TEST_ERROR_INTERACTIVE : VH_TEST_ERROR_ACCESS_DENIED));
        }
        assert_daemon_answers(fx);
}

/* ================= dbusmock polkitd ================= */

static void assert_check(GVariant *check, const char *action, const char *device, const char *verb, guint32 flags) {
        g_autoptr(GVariant) subject_details = NULL, details = NULL;
        const char *kind = NULL, *act = NULL, *cancel = NULL, *name = NULL;
        guint32 f = 0;

        g_variant_get(check, "((&s@a{sv})&s@a{ss}u&s)", &kind, &subject_details, &act, &details, &f, &cancel);
        g_assert_cmpstr(kind, ==, "system-bus-name");
        g_assert_true(g_variant_lookup(subject_details, "name", "&s", &name));
        g_assert_true(name[0] == ':');
        g_assert_cmpstr(act, ==, action);
        g_assert_cmpuint(g_variant_n_children(details), ==, 2);
        {
                const char *d = NULL, *v = NULL;
                g_assert_true(g_variant_lookup(details, "device", "&s", &d));
                g_assert_true(g_variant_lookup(details, "verb", "&s", &v));
                g_assert_cmpstr(d, ==, device);
                g_assert_cmpstr(v, ==, verb);
        }
        g_assert_cmpuint(f, ==, flags);
        g_assert_cmpstr(cancel, ==, "");
}

/* What the daemon asks: subject, action, details, and the interactive flag
 * following the caller's header flag. */
static void test_mock_allowed(Fixture *fx, gconstpointer data) {
        const char *const allowed[] = { VH_ACTION_BIND, NULL };
        g_autoptr(GPtrArray) checks = NULL;

        SKIP_UNLESS_READY(fx);
        vh_test_polkit_mock_set_allowed(fx->pk, allowed);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_reached_sysfs(c, BIND_DEV);
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, TRUE, "Bind", OTHER_DEV, OTHER_OPTS);
                assert_client_reached_sysfs(c, OTHER_DEV);
        }
        checks = vh_test_polkit_mock_checks(fx->pk);
        g_assert_cmpuint(checks->len, ==, 2);
        assert_check(checks->pdata[0], VH_ACTION_BIND, BIND_DEV, "bind", 0);
        assert_check(checks->pdata[1], VH_ACTION_BIND, OTHER_DEV, "bind", 1);
}

static void test_mock_denied(Fixture *fx, gconstpointer data) {
        /* Unbind allowed, not bind: Bind must ask for org.vfiohost.bind. */
        const char *const allowed[] = { VH_ACTION_UNBIND, VH_ACTION_MANAGE, NULL };
        g_autofree char *before = NULL, *after = NULL;
        g_autoptr(GPtrArray) checks = NULL;

        SKIP_UNLESS_READY(fx);
        before = vh_test_polkit_snapshot(fx->root);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        vh_test_polkit_mock_set_allowed(fx->pk, allowed);
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, TRUE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        checks = vh_test_polkit_mock_checks(fx->pk);
        g_assert_cmpuint(checks->len, ==, 2);
        assert_check(checks->pdata[0], VH_ACTION_BIND, BIND_DEV, "bind", 0);
        assert_check(checks->pdata[1], VH_ACTION_BIND, BIND_DEV, "bind", 1);

        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);
        assert_daemon_answers(fx);
}

/* Dry runs, no-ops and invalid requests are answered without polkit. */
static void test_mock_not_asked(Fixture *fx, gconstpointer data) {
        g_autoptr(GPtrArray) checks = NULL;
        g_autofree char *name = NULL, *message = NULL;

        SKIP_UNLESS_READY(fx);

        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV,
                                                                "{'group': <true>, 'dry-run': <true>}");
                assert_client_success(c);
        }
        {
                /* Nothing on vfio-pci and nothing in the journal: a no-op. */
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Unbind", BIND_DEV, "{}");
                assert_client_success(c);
        }
        {
                /* Validation comes before authorization. */
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, "{}");
                assert_client_error(c, VH_ERROR_GROUP_NOT_VIABLE, NULL);
        }
        /* root: authorized without asking. */
        name = root_call(fx, "Bind", BIND_DEV, BIND_OPTS, &message, NULL);
        assert_reached_sysfs(name, message, BIND_DEV);

        checks = vh_test_polkit_mock_checks(fx->pk);
        g_assert_cmpuint(checks->len, ==, 0);
}

/* While polkit hangs the daemon keeps answering; the pending call
 * completes once polkit answers. */
static void test_mock_hang(Fixture *fx, gconstpointer data) {
        const char *const allowed[] = { VH_ACTION_BIND, NULL };
        g_autoptr(VhTestClient) c = NULL;
        double get_device, dry_run = 0;
        g_autofree char *name = NULL;

        SKIP_UNLESS_READY(fx);
        vh_test_polkit_mock_set_allowed(fx->pk, allowed);
        vh_test_polkit_mock_simulate_hang(fx->pk, TRUE);

        c = vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 1, 20 * mult()));

        /* Meanwhile: reads, and a dry run from root, answered at once. */
        get_device = assert_daemon_answers(fx);
        name = root_call(fx, "Bind", OTHER_DEV, "{'dry-run': <true>}", NULL, &dry_run);
        g_assert_null(name);
        g_test_message("while polkit hangs: GetDevice %.1f ms, dry-run Bind %.1f ms", 1000 * get_device, 1000 * dry_run);
        g_assert_cmpfloat(get_device, <, 1.0 * mult());
        g_assert_cmpfloat(dry_run, <, 2.0 * mult());

        /* Still waiting, however long polkit takes. */
        g_usleep(300 * 1000);
        g_assert_true(vh_test_client_running(c));

        vh_test_polkit_mock_release(fx->pk);
        vh_test_client_wait(c, 20 * mult());
        assert_client_reached_sysfs(c, BIND_DEV);
        assert_daemon_answers(fx);
}

/* Two non-root calls pending at once on different devices: each gets its
 * own answer (the registry is keyed by the call). */
static void test_mock_concurrent(Fixture *fx, gconstpointer data) {
        const char *const allowed[] = { VH_ACTION_BIND, NULL };
        g_autoptr(VhTestClient) a = NULL, b = NULL, a2 = NULL, b2 = NULL;
        g_autoptr(GPtrArray) checks = NULL;

        SKIP_UNLESS_READY(fx);
        vh_test_polkit_mock_simulate_hang(fx->pk, TRUE);

        /* Round 1: the mock decides when a call arrives: a allowed, b not. */
        vh_test_polkit_mock_set_allowed(fx->pk, allowed);
        a = vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 1, 20 * mult()));
        vh_test_polkit_mock_set_allowed(fx->pk, NULL);
        b = vh_test_client_spawn(fx->bus, fx->uid_a, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 2, 20 * mult()));
        g_assert_true(vh_test_client_running(a));
        g_assert_true(vh_test_client_running(b));
        assert_daemon_answers(fx);

        checks = vh_test_polkit_mock_checks(fx->pk);
        assert_check(checks->pdata[0], VH_ACTION_BIND, BIND_DEV, "bind", 0);
        assert_check(checks->pdata[1], VH_ACTION_BIND, OTHER_DEV, "bind", 0);
        g_clear_pointer(&checks, g_ptr_array_unref);

        vh_test_polkit_mock_release(fx->pk);
        vh_test_client_wait(a, 20 * mult());
        vh_test_client_wait(b, 20 * mult());
        assert_client_reached_sysfs(a, BIND_DEV);
        assert_client_error(b, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);

        /* Round 2: both allowed, both pending, each reply names its device. */
        vh_test_polkit_mock_clear_calls(fx->pk);
        vh_test_polkit_mock_set_allowed(fx->pk, allowed);
        b2 = vh_test_client_spawn(fx->bus, fx->uid_a, TRUE, "Bind", OTHER_DEV, OTHER_OPTS);
        a2 = vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 2, 20 * mult()));
        g_assert_true(vh_test_client_running(a2));
        g_assert_true(vh_test_client_running(b2));
        vh_test_polkit_mock_release(fx->pk);
        vh_test_client_wait(a2, 20 * mult());
        vh_test_client_wait(b2, 20 * mult());
        assert_client_reached_sysfs(a2, BIND_DEV);
        assert_client_reached_sysfs(b2, OTHER_DEV);
        assert_daemon_answers(fx);
}

/* The caller leaves while polkit is thinking; then polkit itself dies with
 * a call pending. The daemon survives both, and a pending caller is told
 * no. */
static void test_mock_gone(Fixture *fx, gconstpointer data) {
        const char *const allowed[] = { VH_ACTION_BIND, NULL };
        g_autofree char *before = NULL, *after = NULL;

        SKIP_UNLESS_READY(fx);
        vh_test_polkit_mock_simulate_hang(fx->pk, TRUE);

        /* Refused after the caller left: nothing to reply to, nothing done. */
        before = vh_test_polkit_snapshot(fx->root);
        {
                g_autoptr(VhTestClient) c = vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 1, 20 * mult()));
                vh_test_client_kill(c);
                vh_test_polkit_mock_release(fx->pk);
        }
        assert_daemon_answers(fx);
        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);

        /* Allowed after the caller left (systemd acts then too): the daemon
         * does not trip over the missing caller. */
        vh_test_polkit_mock_set_allowed(fx->pk, allowed);
        {
                g_autoptr(VhTestClient) c = vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
                g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 2, 20 * mult()));
                vh_test_client_kill(c);
                vh_test_polkit_mock_release(fx->pk);
        }
        assert_daemon_answers(fx);

        /* polkit dies with a call pending: the caller gets AccessDenied. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, 3, 20 * mult()));
                vh_test_polkit_stop(fx->pk);
                vh_test_client_wait(c, 20 * mult());
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, NULL);
        }
        /* ... and afterwards polkit is simply absent. */
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, "polkit is not running");
        }
        assert_daemon_answers(fx);
}

/* root is whoever the bus says connected, never what /proc says about the
 * caller's pid at the time of the check (SD_BUS_CREDS_AUGMENT reads
 * /proc/PID/status, which a pid reuse or an exec can change). Here a user
 * connects, sends Bind and execs a setuid-root program that keeps the
 * connection open (su, waiting for a password on stdin): /proc then says
 * euid 0, the bus still says nobody. The daemon is stopped meanwhile, so it
 * reads the call only after the exec. Polkit must be asked (and says no);
 * nothing may start. */
static void test_mock_root_from_bus(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autofree char *su = g_find_program_in_path("su");
        g_autofree char *uid = NULL, *before = NULL, *after = NULL, *log = NULL, *unique = NULL;
        g_autoptr(GPtrArray) checks = NULL;
        gint64 deadline;
        gboolean escalated = FALSE;
        struct stat st;
        int in_fd = -1, out_fd = -1;
        GPid pid = 0;

        SKIP_UNLESS_READY(fx);
        if (!su || stat(su, &st) < 0 || st.st_uid != 0 || !(st.st_mode & S_ISUID)) {
                g_test_skip("no setuid-root su: cannot make a caller whose /proc credentials differ from the bus's");
                return;
        }
        before = vh_test_polkit_snapshot(fx->root);
        uid = g_strdup_printf("%d", fx->uid_nobody);

        g_assert_cmpint(kill(fx->bus->daemon_pid, SIGSTOP), ==, 0);
        {
                const char *argv[] = { vh_test_env("VH_TEST_SEND_EXEC"), uid, "Bind", BIND_DEV, BIND_OPTS,
                                       su, "root", "-c", "true", NULL };
                g_auto(GStrv) envp = vh_test_bus_client_envp(fx->bus);

                g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *) envp,
                                                               G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                                               -1, -1, fx->bus->log_fd, NULL, NULL, 0,
                                                               &pid, &in_fd, &out_fd, NULL, &error));
                g_assert_no_error(error);
        }
        {
                g_autoptr(GIOChannel) ch = g_io_channel_unix_new(out_fd);
                gsize len = 0;

                g_io_channel_read_line(ch, &unique, &len, NULL, &error);
                g_assert_no_error(error);
                g_assert_nonnull(unique);
                g_strchomp(unique);
        }
        /* Wait until su runs with euid 0. */
        deadline = g_get_monotonic_time() + (gint64) (10 * mult() * G_USEC_PER_SEC);
        while (!escalated && g_get_monotonic_time() < deadline) {
                g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
                g_autofree char *status = NULL;
                g_autofree char *needle = g_strdup_printf("\nUid:\t%d\t0\t", fx->uid_nobody);

                if (g_file_get_contents(path, &status, NULL, NULL) && strstr(status, needle))
                        escalated = TRUE;
                else
                        g_usleep(2000);
        }
        g_assert_cmpint(kill(fx->bus->daemon_pid, SIGCONT), ==, 0);
        if (!escalated) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                close(in_fd);
                close(out_fd);
                g_test_skip("su did not run with euid 0 (a nosuid mount?)");
                return;
        }
        g_test_message("%s (uid %d on the bus) now runs su with euid 0", unique, fx->uid_nobody);

        /* The call is authorized by polkit, not waved through as root. */
        if (!vh_test_polkit_mock_wait_checks(fx->pk, 1, 10 * mult()))
                g_test_message("polkit was never asked: the daemon took the caller for root");
        assert_daemon_answers(fx);
        checks = vh_test_polkit_mock_checks(fx->pk);
        g_assert_cmpuint(checks->len, ==, 1);
        assert_check(checks->pdata[0], VH_ACTION_BIND, BIND_DEV, "bind", 0);
        {
                g_autoptr(GVariant) subject = NULL;
                const char *name = NULL;

                g_variant_get_child(checks->pdata[0], 0, "(&s@a{sv})", NULL, &subject);
                g_assert_true(g_variant_lookup(subject, "name", "&s", &name));
                g_assert_cmpstr(name, ==, unique);
        }

        g_assert_true(g_file_get_contents(fx->bus->log_path, &log, NULL, NULL));
        g_assert_null(strstr(log, "Bind of " BIND_DEV));
        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);

        kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        close(in_fd);
        close(out_fd);
}

/* Pending authorizations are bounded per user and in total, below
 * dbus-daemon's cap on the daemon's own pending calls (128 by default):
 * without that, one unprivileged user could leave calls hanging in polkit
 * until every further CheckAuthorization failed with LimitsExceeded, and
 * nobody else could Bind or Unbind. The excess is answered at once with
 * org.vfiohost.Error.Busy; other users still get through; the slots come
 * back when polkit answers. */
static void test_mock_pending_bounded(Fixture *fx, gconstpointer data) {
        static const char *const more_users[] = { "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
                                                  "www-data", "backup", "list", "irc" };
        g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify) vh_test_client_free);
        g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(int));
        guint n_checks = 0;

        SKIP_UNLESS_READY(fx);
        /* Users other than nobody, each to fill its own share. */
        g_array_append_val(uids, fx->uid_a);
        g_array_append_val(uids, fx->uid_b);
        g_array_append_val(uids, fx->uid_c);
        for (size_t i = 0; i < G_N_ELEMENTS(more_users); i++) {
                int u = vh_test_user_uid(more_users[i]);
                if (u > 0)
                        g_array_append_val(uids, u);
        }
        if (uids->len < VH_POLKIT_MAX_PENDING / VH_POLKIT_MAX_PENDING_PER_USER) {
                g_test_skip("not enough system users to fill the total of pending authorizations");
                return;
        }
        vh_test_polkit_mock_simulate_hang(fx->pk, TRUE);

        /* One user: its share, then Busy at once. */
        for (guint i = 0; i < VH_POLKIT_MAX_PENDING_PER_USER; i++)
                g_ptr_array_add(clients, vh_test_client_spawn(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV, BIND_OPTS));
        n_checks += VH_POLKIT_MAX_PENDING_PER_USER;
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, n_checks, 20 * mult()));
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", OTHER_DEV,
                                                                OTHER_OPTS);
                assert_client_error(c, VH_ERROR_BUSY, "polkit");
                g_assert_cmpfloat(c->seconds, <, 5 * mult());
        }
        /* Another user is not held up by it. */
        g_ptr_array_add(clients, vh_test_client_spawn(fx->bus, fx->uid_a, FALSE, "Bind", OTHER_DEV, OTHER_OPTS));
        n_checks++;
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, n_checks, 20 * mult()));
        assert_daemon_answers(fx);

        /* Fill the total with further users' shares. */
        for (guint u = 0; n_checks < VH_POLKIT_MAX_PENDING; u++) {
                int uid = g_array_index(uids, int, u % uids->len);

                g_ptr_array_add(clients, vh_test_client_spawn(fx->bus, uid, FALSE, "Bind", BIND_DEV, BIND_OPTS));
                n_checks++;
                if (u % uids->len == uids->len - 1)
                        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, n_checks, 20 * mult()));
        }
        g_assert_true(vh_test_polkit_mock_wait_checks(fx->pk, n_checks, 20 * mult()));
        {
                /* A user with nothing pending: the total says Busy. */
                int fresh = vh_test_user_uid("_apt");
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fresh > 0 ? fresh : fx->uid_c, FALSE, "Bind",
                                                                BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_ERROR_BUSY, "polkit");
        }
        /* root never waits for polkit. */
        {
                g_autofree char *name = NULL, *message = NULL;

                name = root_call(fx, "Bind", BIND_DEV, BIND_OPTS, &message, NULL);
                assert_reached_sysfs(name, message, BIND_DEV);
        }
        assert_daemon_answers(fx);

        /* polkit answers (no): everybody gets AccessDenied, the slots are free. */
        vh_test_polkit_mock_release(fx->pk);
        for (guint i = 0; i < clients->len; i++) {
                VhTestClient *c = clients->pdata[i];

                vh_test_client_wait(c, 30 * mult());
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        vh_test_polkit_mock_simulate_hang(fx->pk, FALSE);
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, FALSE, "Bind", BIND_DEV,
                                                                BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, VH_ACTION_BIND);
        }
        assert_daemon_answers(fx);
}

/* ================= no polkit ================= */

static void test_absent_nonroot(Fixture *fx, gconstpointer data) {
        g_autofree char *before = NULL, *after = NULL;

        SKIP_UNLESS_READY(fx);
        g_assert_false(vh_test_bus_name_has_owner(fx->bus, VH_TEST_POLKIT_NAME));
        before = vh_test_polkit_snapshot(fx->root);

        for (int interactive = 0; interactive <= 1; interactive++) {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_nobody, interactive, "Bind",
                                                                BIND_DEV, BIND_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, "polkit is not running");
        }
        {
                g_autoptr(VhTestClient) c = vh_test_client_call(fx->bus, fx->uid_a, FALSE, "Bind", OTHER_DEV, OTHER_OPTS);
                assert_client_error(c, VH_TEST_ERROR_ACCESS_DENIED, "polkit is not running");
        }

        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(before, after);
        assert_daemon_answers(fx);
}

static void test_absent_root(Fixture *fx, gconstpointer data) {
        g_autofree char *name = NULL, *message = NULL;
        double seconds = 0;

        SKIP_UNLESS_READY(fx);
        name = root_call(fx, "Bind", BIND_DEV, BIND_OPTS, &message, &seconds);
        assert_reached_sysfs(name, message, BIND_DEV);
        g_test_message("root Bind, no polkit: %.1f ms", 1000 * seconds);
        assert_daemon_answers(fx);
}

int main(int argc, char **argv) {
        static const Setup real_bind = { BIND_HOST, POLKIT_REAL };
        static const Setup real_unbind = { UNBIND_HOST, POLKIT_REAL };
        static const Setup mock = { BIND_HOST, POLKIT_MOCK };
        static const Setup none = { BIND_HOST, POLKIT_NONE };

        g_test_init(&argc, &argv, NULL);

        g_test_add("/polkit/real/actions", Fixture, &real_bind, fixture_setup, test_real_actions, fixture_teardown);
        g_test_add("/polkit/real/bind", Fixture, &real_bind, fixture_setup, test_real_bind, fixture_teardown);
        g_test_add("/polkit/real/unbind", Fixture, &real_unbind, fixture_setup, test_real_unbind, fixture_teardown);
        g_test_add("/polkit/real/manage", Fixture, &real_bind, fixture_setup, test_real_manage, fixture_teardown);
        g_test_add("/polkit/real/root-without-polkit", Fixture, &real_bind, fixture_setup,
                   test_real_root_without_polkit, fixture_teardown);
        g_test_add("/polkit/mock/allowed", Fixture, &mock, fixture_setup, test_mock_allowed, fixture_teardown);
        g_test_add("/polkit/mock/denied", Fixture, &mock, fixture_setup, test_mock_denied, fixture_teardown);
        g_test_add("/polkit/mock/not-asked", Fixture, &mock, fixture_setup, test_mock_not_asked, fixture_teardown);
        g_test_add("/polkit/mock/hang", Fixture, &mock, fixture_setup, test_mock_hang, fixture_teardown);
        g_test_add("/polkit/mock/concurrent", Fixture, &mock, fixture_setup, test_mock_concurrent, fixture_teardown);
        g_test_add("/polkit/mock/root-from-bus-credentials", Fixture, &mock, fixture_setup, test_mock_root_from_bus,
                   fixture_teardown);
        g_test_add("/polkit/mock/pending-bounded", Fixture, &mock, fixture_setup, test_mock_pending_bounded,
                   fixture_teardown);
        g_test_add("/polkit/mock/caller-or-polkit-gone", Fixture, &mock, fixture_setup, test_mock_gone, fixture_teardown);
        g_test_add("/polkit/absent/non-root", Fixture, &none, fixture_setup, test_absent_nonroot, fixture_teardown);
        g_test_add("/polkit/absent/root", Fixture, &none, fixture_setup, test_absent_root, fixture_teardown);
        g_test_add("/polkit/real/ctl-no-ask-password", Fixture, &real_bind, fixture_setup, test_real_ctl,
                   fixture_teardown);

        return g_test_run();
}
