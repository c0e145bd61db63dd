/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Malformed bus input. Every method with wrong signatures; addresses with
 * spaces, upper case, "../", 1 MiB strings, non-ASCII, and multi-byte
 * characters straddling every length limit; unknown option keys, wrong
 * option types, 10,000-entry option dicts; Set on every property of every
 * object; calls on unknown and aliased paths. Each answer must be the
 * expected named D-Bus error, sent well before the call's timeout; in the
 * end the daemon is the same process and answers, and the host tree it ran
 * on is byte-identical. The number of cases tried is printed.
 *
 * Calls come from root (the test's own connection): nothing is refused for
 * lack of authorization, so a case that got past validation would act, and
 * the tree snapshot would show it. Upper-case addresses are valid by the
 * contract; those cases must be answered like the lower-case ones (counted
 * apart as "accepted"). */
#include <stdarg.h>
#include <string.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-polkit.h"

#define HOST                    "desktop-intel"
#define GOOD_ADDRESS            "0000:01:00.0"
#define ABSENT_ADDRESS          "0000:fe:1f.7"
#define CALL_TIMEOUT_S          25.0
#define PROMPT_S                2.0     /* "well before the timeout", before the multiplier */

#define E_INVALID_ARGS          "org.freedesktop.DBus.Error.InvalidArgs"
#define E_ACCESS_DENIED         "org.freedesktop.DBus.Error.AccessDenied"
#define E_UNKNOWN_OBJECT        "org.freedesktop.DBus.Error.UnknownObject"
#define E_UNKNOWN_METHOD        "org.freedesktop.DBus.Error.UnknownMethod"

#define PROPERTIES              "org.freedesktop.DBus.Properties"

typedef struct {
        VhTestBus *bus;
        char *root;
        char *owner;
        char *before;                   /* snapshot of the tree */
        GPtrArray *devices;             /* canonical paths */
        GPtrArray *groups;
        GVariant *objects;              /* GetManagedObjects, a{oa{sa{sv}}} */
        guint n_cases, n_accepted, n_failed;
        double slowest;
        char *slowest_what;
        GString *failures;
} Fixture;

static double mult(void) {
        return vh_test_timeout_multiplier();
}

/* ---------- one call ---------- */

typedef struct {
        char *error_name;               /* NULL: success */
        char *error_message;
        GVariant *body;
        double seconds;
        char *local_error;              /* no answer at all */
} Answer;

static void answer_clear(Answer *a) {
        g_free(a->error_name);
        g_free(a->error_message);
        g_free(a->local_error);
        if (a->body)
                g_variant_unref(a->body);
}

static Answer call(Fixture *fx, const char *path, const char *interface, const char *member, GVariant *body) {
        g_autoptr(GDBusMessage) m = g_dbus_message_new_method_call(VH_BUS_NAME, path, interface, member);
        g_autoptr(GDBusMessage) reply = NULL;
        g_autoptr(GError) error = NULL;
        gint64 start;
        Answer a = {};

        if (body)
                g_dbus_message_set_body(m, body);
        start = g_get_monotonic_time();
        reply = g_dbus_connection_send_message_with_reply_sync(vh_test_bus_connection(fx->bus), m,
                                                               G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                                               (int) (CALL_TIMEOUT_S * mult() * 1000), NULL, NULL,
                                                               &error);
        a.seconds = (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        if (!reply) {
                a.local_error = g_strdup(error->message);
                return a;
        }
        if (g_dbus_message_get_message_type(reply) == G_DBUS_MESSAGE_TYPE_ERROR) {
                GVariant *b = g_dbus_message_get_body(reply);
                const char *msg = "";

                a.error_name = g_strdup(g_dbus_message_get_error_name(reply));
                if (b && g_variant_is_of_type(b, G_VARIANT_TYPE("(s)")))
                        g_variant_get(b, "(&s)", &msg);
                a.error_message = g_strdup(msg);
        } else if (g_dbus_message_get_body(reply))
                a.body = g_variant_ref(g_dbus_message_get_body(reply));
        return a;
}

static void note_failure(Fixture *fx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note_failure(Fixture *fx, const char *fmt, ...) {
        va_list ap;

        fx->n_failed++;
        if (fx->n_failed > 200)
                return;
        va_start(ap, fmt);
        g_string_append(fx->failures, "  ");
        g_string_append_vprintf(fx->failures, fmt, ap);
        g_string_append_c(fx->failures, '\n');
        va_end(ap);
}

static void note_timing(Fixture *fx, const char *what, const Answer *a) {
        fx->n_cases++;
        if (a->seconds > fx->slowest) {
                fx->slowest = a->seconds;
                g_free(fx->slowest_what);
                fx->slowest_what = g_strdup(what);
        }
        if (a->seconds > PROMPT_S * mult())
                note_failure(fx, "%s: answered only after %.2f s", what, a->seconds);
}

/* The case must be answered with error_name, promptly, with a message. */
static void expect_error(Fixture *fx, const char *what, const char *path, const char *interface, const char *member,
                         GVariant *body, const char *error_name) {
        Answer a = call(fx, path, interface, member, body);

        note_timing(fx, what, &a);
        if (a.local_error)
                note_failure(fx, "%s: no answer after %.2f s (%s), expected %s", what, a.seconds, a.local_error,
                             error_name);
        else if (!a.error_name)
                note_failure(fx, "%s: success, expected %s", what, error_name);
        else if (strcmp(a.error_name, error_name) != 0)
                note_failure(fx, "%s: %s (%s), expected %s", what, a.error_name, a.error_message, error_name);
        else if (!*a.error_message)
                note_failure(fx, "%s: %s with an empty message", what, a.error_name);
        answer_clear(&a);
}

/* Valid by contract: must succeed, promptly. Returns the reply body. */
static GVariant *expect_success(Fixture *fx, const char *what, const char *path, const char *interface,
                                const char *member, GVariant *body) {
        Answer a = call(fx, path, interface, member, body);
        GVariant *r = NULL;

        note_timing(fx, what, &a);
        fx->n_accepted++;
        if (a.local_error)
                note_failure(fx, "%s: no answer after %.2f s (%s), expected success", what, a.seconds, a.local_error);
        else if (a.error_name)
                note_failure(fx, "%s: %s (%s), expected success", what, a.error_name, a.error_message);
        else
                r = g_steal_pointer(&a.body);
        answer_clear(&a);
        return r;
}

/* ---------- fixture ---------- */

static void fixture_setup(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        GVariantIter iter;
        const char *path;
        GVariant *ifaces;

        if (!vh_test_bus_requirements())
                return;
        fx->bus = vh_test_bus_new();
        /* A copy of its own: the daemon may write below it, the snapshot
         * says whether it did. */
        fx->root = vh_test_bus_copy_host(fx->bus, HOST);
        if (!fx->root)
                return;
        fx->before = vh_test_polkit_snapshot(fx->root);
        fx->failures = g_string_new(NULL);
        fx->devices = g_ptr_array_new_with_free_func(g_free);
        fx->groups = g_ptr_array_new_with_free_func(g_free);
        vh_test_bus_start_daemon(fx->bus, fx->root);

        r = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                        g_variant_new("(s)", VH_BUS_NAME), G_VARIANT_TYPE("(s)"),
                                        G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(r, "(s)", &fx->owner);
        g_clear_pointer(&r, g_variant_unref);

        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                             NULL, "(a{oa{sa{sv}}})", &error);
        g_assert_no_error(error);
        fx->objects = g_variant_get_child_value(r, 0);
        g_variant_iter_init(&iter, fx->objects);
        while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                if (g_str_has_prefix(path, VH_DEVICE_PATH_PREFIX "/"))
                        g_ptr_array_add(fx->devices, g_strdup(path));
                else if (g_str_has_prefix(path, VH_GROUP_PATH_PREFIX "/"))
                        g_ptr_array_add(fx->groups, g_strdup(path));
                g_variant_unref(ifaces);
        }
        g_assert_cmpuint(fx->devices->len, >, 0);
        g_assert_cmpuint(fx->groups->len, >, 0);
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        if (fx->failures)
                g_string_free(fx->failures, TRUE);
        if (fx->objects)
                g_variant_unref(fx->objects);
        if (fx->devices)
                g_ptr_array_unref(fx->devices);
        if (fx->groups)
                g_ptr_array_unref(fx->groups);
        g_free(fx->slowest_what);
        g_free(fx->before);
        g_free(fx->owner);
        g_free(fx->root);
        if (fx->bus) {
                int status = vh_test_bus_stop_daemon(fx->bus);

                if (status != 0) {
                        g_test_message("the daemon exited with status %d on SIGTERM, expected 0", status);
                        g_test_fail();
                }
        }
        vh_test_bus_free(fx->bus);
}

/* ---------- inputs ---------- */

static const char *const multibyte[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };     /* é € 😀 */

/* Byte lengths where something is cut or checked: the address (12, and 13
 * with its NUL), quoting in messages (64), and round sizes a buffer might
 * have. A character straddles each at every offset. */
static const size_t limits[] = { 12, 13, 64, 65, 128, 255, 256, 1024, 4096 };

static char *repeat(const char *unit, size_t bytes) {
        GString *s = g_string_sized_new(bytes + 8);

        while (s->len < bytes)
                g_string_append(s, unit);
        return g_string_free(s, FALSE);
}

/* Strings with a multi-byte character across byte `limit`: the first
 * limit - j bytes from `base`, then the character, then a tail. */
static void add_straddling(GPtrArray *out, const char *base) {
        for (size_t l = 0; l < G_N_ELEMENTS(limits); l++)
                for (size_t c = 0; c < G_N_ELEMENTS(multibyte); c++)
                        for (size_t j = 1; j < strlen(multibyte[c]); j++) {
                                size_t keep = limits[l] - j;
                                g_autofree char *prefix = g_strndup(base, keep);

                                g_assert_cmpuint(strlen(prefix), ==, keep);
                                g_ptr_array_add(out, g_strconcat(prefix, multibyte[c], "z", NULL));
                        }
}

static GPtrArray *bad_addresses(void) {
        static const char *const fixed[] = {
                /* spaces */
                " " GOOD_ADDRESS, GOOD_ADDRESS " ", "0000: 01:00.0", "0000:01:00. 0", "0000 01 00 0", "\t" GOOD_ADDRESS,
                GOOD_ADDRESS "\n", " ", "            ",
                /* upper case that is no hex digit, or out of range */
                "0000:0G:00.0", GOOD_ADDRESS "X", "0X00:01:00.0", "0000:01:1F.8", "0000:01:20.0", "000A:01:00.0A",
                "0000:01:00.F",
                /* path tricks */
                "..", ".", "/", "../../../etc/passwd", GOOD_ADDRESS "/../../..", "../" GOOD_ADDRESS, GOOD_ADDRESS "/",
                "/sys/bus/pci/devices/" GOOD_ADDRESS, GOOD_ADDRESS "/driver/unbind", GOOD_ADDRESS "\\..",
                "%2e%2e%2f", "0000:01:00.0/../../../../../sys/bus/pci/drivers/vfio-pci/bind", "0000:01:..:0",
                /* short and odd forms */
                "", "01:00.0", "0000:01:00", "0000:01:00.", "0000:01:00.00", "00000:01:00.0", "0x0000:01:00.0",
                "0000-01-00-0", "0000:01:00:0", "0000.01.00.0", "-0000:01:00.0", "+000:01:00.0",
                /* non-ASCII */
                "\xef\xbc\x90" "000:01:00.0",                   /* fullwidth 0 */
                "0000:01:00.\xd9\xa0",                          /* Arabic-Indic 0 */
                GOOD_ADDRESS "\xc3\xa9", "\xc3\xa9", "\xc3\x9f",
                "0000\xc2\xa0" "01:00.0",                       /* no-break space */
                GOOD_ADDRESS "\xe2\x80\x8b",                    /* zero-width space */
                "\xe2\x80\xae" "0.00:10:0000",                  /* right-to-left override */
                GOOD_ADDRESS "\xf0\x9f\x98\x80",
                GOOD_ADDRESS "\xcc\x81",                        /* combining acute */
                "\xd0\x9e" "000:01:00.0",                       /* Cyrillic O */
        };
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
                g_ptr_array_add(a, g_strdup(fixed[i]));
        /* 1 MiB */
        g_ptr_array_add(a, repeat("a", 1 << 20));
        {
                g_autofree char *zeros = repeat("0", 1 << 20);
                g_ptr_array_add(a, g_strconcat(GOOD_ADDRESS, zeros, NULL));
        }
        g_ptr_array_add(a, repeat("\xc3\xa9", 1 << 20));
        g_ptr_array_add(a, repeat("../", 1 << 20));
        /* across every limit, after letters and after a valid address */
        {
                g_autofree char *letters = repeat("a", 8192);
                add_straddling(a, letters);
        }
        {
                g_autofree char *zeros = repeat("0", 8192);
                g_autofree char *base = g_strconcat(GOOD_ADDRESS, zeros, NULL);
                add_straddling(a, base);
        }
        return a;
}

static GPtrArray *bad_keys(const char *const *known) {
        static const char *const fixed[] = {
                "Group", "GROUP", "group ", " group", "grou", "groups", "dry_run", "dryrun", "DRY-RUN", "Dry-Run",
                "force\n", "", " ", "Device", "device ", "devices", "-", "--force", "group=true",
                "gr\xd0\xbeup",                                 /* Cyrillic o */
                "gr\xc3\xb6up", "\xf0\x9f\x98\x80", "forc\xc3\xa9", "dry\xe2\x80\x90run",   /* hyphen U+2010 */
        };
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
                gboolean is_known = FALSE;

                for (size_t k = 0; known[k]; k++)
                        is_known = is_known || strcmp(known[k], fixed[i]) == 0;
                if (!is_known)
                        g_ptr_array_add(a, g_strdup(fixed[i]));
        }
        g_ptr_array_add(a, repeat("k", 1 << 20));
        g_ptr_array_add(a, repeat("\xe2\x82\xac", 1 << 20));
        {
                g_autofree char *letters = repeat("k", 8192);
                add_straddling(a, letters);
        }
        return a;
}

static GVariant *dict1(const char *key, GVariant *value) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", key, value);
        return g_variant_builder_end(&b);
}

static GVariant *empty_dict(void) {
        return g_variant_new("a{sv}", NULL);
}

static char *describe(const char *s) {
        size_t n = strlen(s);
        g_autofree char *head = g_strndup(s, MIN(n, 24));
        g_autofree char *esc = g_strescape(head, NULL);

        return n > 24 ? g_strdup_printf("\"%s\"... (%zu bytes)", esc, n) : g_strdup_printf("\"%s\"", esc);
}

/* ---------- cases ---------- */

/* Each method, with argument lists of other signatures. */
static void cases_signatures(Fixture *fx) {
        static const struct {
                const char *interface, *member, *signature;
                gboolean everywhere;            /* on every object kind, not only the manager */
        } members[] = {
                { VH_MANAGER_INTERFACE, "GetDevice", "(s)" },
                { VH_MANAGER_INTERFACE, "GetReadiness", "(a{sv})" },
                { VH_MANAGER_INTERFACE, "Bind", "(sa{sv})" },
                { VH_MANAGER_INTERFACE, "Unbind", "(sa{sv})" },
                { "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "()" },
                { PROPERTIES, "Get", "(ss)", TRUE },
                { PROPERTIES, "GetAll", "(s)", TRUE },
                { PROPERTIES, "Set", "(ssv)", TRUE },
                { "org.freedesktop.DBus.Introspectable", "Introspect", "()", TRUE },
                { "org.freedesktop.DBus.Peer", "Ping", "()", TRUE },
                { "org.freedesktop.DBus.Peer", "GetMachineId", "()", TRUE },
        };
        const char *paths[] = { VH_MANAGER_PATH, fx->devices->pdata[0], fx->groups->pdata[0] };

        for (size_t i = 0; i < G_N_ELEMENTS(members); i++)
                for (size_t p = 0; p < (members[i].everywhere ? G_N_ELEMENTS(paths) : 1); p++) {
                        GVariant *bodies[] = {
                                NULL,
                                g_variant_new("(u)", 1),
                                g_variant_new("(s)", GOOD_ADDRESS),
                                g_variant_new("(ss)", GOOD_ADDRESS, "x"),
                                g_variant_new("(sss)", VH_MANAGER_INTERFACE, "Version", "x"),
                                g_variant_new("(s@a{sv})", GOOD_ADDRESS, empty_dict()),
                                g_variant_new("(@a{sv})", empty_dict()),
                                g_variant_new("(ssv)", VH_MANAGER_INTERFACE, "Version", g_variant_new_string("x")),
                                g_variant_new("(s@a{ss})", GOOD_ADDRESS, g_variant_new("a{ss}", NULL)),
                                g_variant_new("(i@a{sv})", 1, empty_dict()),
                                g_variant_new("(s@a{sv}s)", GOOD_ADDRESS, empty_dict(), "x"),
                                g_variant_new("(@a{sv}@a{sv})", empty_dict(), empty_dict()),
                                g_variant_new("(@as)", g_variant_new_strv(NULL, 0)),
                                g_variant_new("(v)", g_variant_new_string(GOOD_ADDRESS)),
                                g_variant_new("(@ay)", g_variant_new_bytestring(GOOD_ADDRESS)),
                                g_variant_new("(o)", "/org/vfiohost"),
                                g_variant_new("(g)", "s"),
                                g_variant_new("(b)", TRUE),
                                g_variant_new("(@a{sv}s)", empty_dict(), GOOD_ADDRESS),
                                g_variant_new("((s))", GOOD_ADDRESS),
                        };

                        for (size_t b = 0; b < G_N_ELEMENTS(bodies); b++) {
                                const char *sig = bodies[b] ? g_variant_get_type_string(bodies[b]) : "()";
                                g_autofree char *what = NULL;

                                if (strcmp(sig, members[i].signature) == 0) {
                                        if (bodies[b])
                                                g_variant_unref(g_variant_ref_sink(bodies[b]));
                                        continue;
                                }
                                what = g_strdup_printf("%s %s.%s%s", (const char *) paths[p], members[i].interface,
                                                       members[i].member, sig);
                                expect_error(fx, what, paths[p], members[i].interface, members[i].member, bodies[b],
                                             E_INVALID_ARGS);
                        }
                }
}

static void cases_addresses(Fixture *fx) {
        g_autoptr(GPtrArray) bad = bad_addresses();

        for (guint i = 0; i < bad->len; i++) {
                const char *a = bad->pdata[i];
                g_autofree char *d = describe(a);
                g_autofree char *w1 = g_strdup_printf("GetDevice(%s)", d);
                g_autofree char *w2 = g_strdup_printf("Bind(%s, {})", d);
                g_autofree char *w3 = g_strdup_printf("Unbind(%s, {})", d);
                g_autofree char *w4 = g_strdup_printf("GetReadiness({device: %s})", d);
                /* Every address argument also takes an assignment's name:
                 * a string that could be one (no colon) is not found. */
                const char *want = g_regex_match_simple("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", a, 0, 0) && strlen(a) <= 64
                                           ? VH_ERROR_NOT_FOUND : VH_ERROR_INVALID_ADDRESS;

                expect_error(fx, w1, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice", g_variant_new("(s)", a),
                             want);
                expect_error(fx, w2, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                             g_variant_new("(s@a{sv})", a, empty_dict()), want);
                expect_error(fx, w3, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Unbind",
                             g_variant_new("(s@a{sv})", a, empty_dict()), want);
                expect_error(fx, w4, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                             g_variant_new("(@a{sv})", dict1("device", g_variant_new_string(a))),
                             want);
        }

        /* Well-formed, absent. */
        expect_error(fx, "GetDevice(absent)", VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                     g_variant_new("(s)", ABSENT_ADDRESS), VH_ERROR_NOT_FOUND);
        expect_error(fx, "Bind(absent)", VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                     g_variant_new("(s@a{sv})", ABSENT_ADDRESS, empty_dict()), VH_ERROR_NOT_FOUND);
        expect_error(fx, "Unbind(absent)", VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Unbind",
                     g_variant_new("(s@a{sv})", ABSENT_ADDRESS, empty_dict()), VH_ERROR_NOT_FOUND);
        expect_error(fx, "GetReadiness(absent)", VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                     g_variant_new("(@a{sv})", dict1("device", g_variant_new_string(ABSENT_ADDRESS))),
                     VH_ERROR_NOT_FOUND);

        /* Upper case is valid (the contract): the same answer as lower case,
         * in canonical form. Unbind of a function not on vfio-pci is a no-op. */
        {
                g_autoptr(GVariant) r = expect_success(fx, "GetDevice(0000:00:1F.3)", VH_MANAGER_PATH,
                                                       VH_MANAGER_INTERFACE, "GetDevice",
                                                       g_variant_new("(s)", "0000:00:1F.3"));
                g_autofree char *canonical = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, "0000:00:1f.3");
                const char *path = NULL;

                if (r) {
                        g_variant_get(r, "(&o)", &path);
                        if (strcmp(path, canonical) != 0)
                                note_failure(fx, "GetDevice(0000:00:1F.3) -> %s, expected %s", path, canonical);
                }
        }
        {
                g_autoptr(GVariant) r = expect_success(fx, "GetReadiness({device: 0000:00:1F.3})", VH_MANAGER_PATH,
                                                       VH_MANAGER_INTERFACE, "GetReadiness",
                                                       g_variant_new("(@a{sv})", dict1("device",
                                                                     g_variant_new_string("0000:00:1F.3"))));
        }
        {
                g_autoptr(GVariant) r = expect_success(fx, "Unbind(0000:00:1F.3, {})", VH_MANAGER_PATH,
                                                       VH_MANAGER_INTERFACE, "Unbind",
                                                       g_variant_new("(s@a{sv})", "0000:00:1F.3", empty_dict()));
                g_autofree char *text = r ? g_variant_print(r, FALSE) : NULL;

                if (text && !strstr(text, "'0000:00:1f.3'"))
                        note_failure(fx, "Unbind(0000:00:1F.3) did not answer with the canonical address: %s", text);
        }
}

static void cases_option_keys(Fixture *fx) {
        static const char *const bind_known[] = { "group", "force", "dry-run", NULL };
        static const char *const readiness_known[] = { "device", NULL };
        g_autoptr(GPtrArray) bind_bad = bad_keys(bind_known);
        g_autoptr(GPtrArray) readiness_bad = bad_keys(readiness_known);
        const char *const wrong_verb[] = { "device", NULL };
        const char *const wrong_verb2[] = { "group", "force", "dry-run", NULL };

        /* Known to the other method only. */
        for (size_t i = 0; wrong_verb[i]; i++)
                g_ptr_array_add(bind_bad, g_strdup(wrong_verb[i]));
        for (size_t i = 0; wrong_verb2[i]; i++)
                g_ptr_array_add(readiness_bad, g_strdup(wrong_verb2[i]));

        for (guint i = 0; i < bind_bad->len; i++) {
                g_autofree char *d = describe(bind_bad->pdata[i]);
                g_autofree char *w1 = g_strdup_printf("Bind(good, {%s: true})", d);
                g_autofree char *w2 = g_strdup_printf("Unbind(good, {%s: true})", d);

                expect_error(fx, w1, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                             g_variant_new("(s@a{sv})", GOOD_ADDRESS,
                                           dict1(bind_bad->pdata[i], g_variant_new_boolean(TRUE))),
                             E_INVALID_ARGS);
                expect_error(fx, w2, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Unbind",
                             g_variant_new("(s@a{sv})", GOOD_ADDRESS,
                                           dict1(bind_bad->pdata[i], g_variant_new_boolean(TRUE))),
                             E_INVALID_ARGS);
        }
        for (guint i = 0; i < readiness_bad->len; i++) {
                g_autofree char *d = describe(readiness_bad->pdata[i]);
                g_autofree char *w = g_strdup_printf("GetReadiness({%s: good})", d);

                expect_error(fx, w, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                             g_variant_new("(@a{sv})", dict1(readiness_bad->pdata[i],
                                                             g_variant_new_string(GOOD_ADDRESS))),
                             E_INVALID_ARGS);
        }
}

static GPtrArray *wrong_values(gboolean want_string) {
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);

        if (want_string)
                g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_boolean(TRUE)));
        else {
                g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_string("true")));
                g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_string("")));
        }
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_uint32(1)));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_int32(1)));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_byte(1)));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_double(1.0)));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_strv(NULL, 0)));
        g_ptr_array_add(a, g_variant_ref_sink(empty_dict()));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_object_path("/org/vfiohost")));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_signature("s")));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_bytestring(GOOD_ADDRESS)));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new_variant(want_string ? g_variant_new_string(GOOD_ADDRESS)
                                                                                : g_variant_new_boolean(TRUE))));
        g_ptr_array_add(a, g_variant_ref_sink(g_variant_new("(b)", TRUE)));
        return a;
}

static void cases_option_types(Fixture *fx) {
        static const char *const bind_keys[] = { "group", "force", "dry-run" };
        g_autoptr(GPtrArray) not_bool = wrong_values(FALSE);
        g_autoptr(GPtrArray) not_string = wrong_values(TRUE);

        for (size_t k = 0; k < G_N_ELEMENTS(bind_keys); k++)
                for (guint v = 0; v < not_bool->len; v++) {
                        const char *type = g_variant_get_type_string(not_bool->pdata[v]);
                        g_autofree char *w1 = g_strdup_printf("Bind(good, {%s: <%s>})", bind_keys[k], type);
                        g_autofree char *w2 = g_strdup_printf("Unbind(good, {%s: <%s>})", bind_keys[k], type);

                        expect_error(fx, w1, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                                     g_variant_new("(s@a{sv})", GOOD_ADDRESS, dict1(bind_keys[k], not_bool->pdata[v])),
                                     E_INVALID_ARGS);
                        expect_error(fx, w2, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Unbind",
                                     g_variant_new("(s@a{sv})", GOOD_ADDRESS, dict1(bind_keys[k], not_bool->pdata[v])),
                                     E_INVALID_ARGS);
                }
        for (guint v = 0; v < not_string->len; v++) {
                const char *type = g_variant_get_type_string(not_string->pdata[v]);
                g_autofree char *w = g_strdup_printf("GetReadiness({device: <%s>})", type);

                expect_error(fx, w, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                             g_variant_new("(@a{sv})", dict1("device", not_string->pdata[v])), E_INVALID_ARGS);
        }
}

/* 10,000 entries: unknown keys, a known key repeated (an option given
 * twice is an error, not "the last one wins"), known keys then one
 * unknown, and two entries that disagree. */
static GVariant *big_dict(const char *kind, const char *known, GVariant *value) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        for (guint i = 0; i < 10000; i++) {
                if (strcmp(kind, "unknown") == 0) {
                        g_autofree char *k = g_strdup_printf("option-%u", i);
                        g_variant_builder_add(&b, "{sv}", k, g_variant_new_boolean(TRUE));
                } else if (strcmp(kind, "repeated") == 0)
                        g_variant_builder_add(&b, "{sv}", known, value);
                else /* "last-unknown" */
                        g_variant_builder_add(&b, "{sv}", i == 9999 ? "unknown" : known, value);
        }
        g_variant_unref(g_variant_ref_sink(value));
        return g_variant_builder_end(&b);
}

static void cases_big_dicts(Fixture *fx) {
        static const char *const kinds[] = { "unknown", "repeated", "last-unknown" };
        static const char *const methods[] = { "Bind", "Unbind" };
        static const char *const bind_keys[] = { "group", "force", "dry-run" };

        for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
                for (size_t m = 0; m < G_N_ELEMENTS(methods); m++)
                        for (size_t o = 0; o < G_N_ELEMENTS(bind_keys); o++) {
                                g_autofree char *w = g_strdup_printf("%s(good, 10000 x %s %s)", methods[m], kinds[k],
                                                                     bind_keys[o]);

                                expect_error(fx, w, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, methods[m],
                                             g_variant_new("(s@a{sv})", GOOD_ADDRESS,
                                                           big_dict(kinds[k], bind_keys[o], g_variant_new_boolean(TRUE))),
                                             E_INVALID_ARGS);
                        }
                {
                        g_autofree char *w = g_strdup_printf("GetReadiness(10000 x %s device)", kinds[k]);

                        expect_error(fx, w, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                                     g_variant_new("(@a{sv})", big_dict(kinds[k], "device",
                                                                        g_variant_new_string(GOOD_ADDRESS))),
                                     E_INVALID_ARGS);
                }
        }
        /* Two entries that disagree. */
        {
                GVariantBuilder b;

                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "dry-run", g_variant_new_boolean(TRUE));
                g_variant_builder_add(&b, "{sv}", "dry-run", g_variant_new_boolean(FALSE));
                expect_error(fx, "Bind(good, {dry-run: true, dry-run: false})", VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                             "Bind", g_variant_new("(s@a{sv})", GOOD_ADDRESS, g_variant_builder_end(&b)),
                             E_INVALID_ARGS);
        }
}

/* Set on every property of every object, with its own value and with a
 * value of another type; and on properties and interfaces that do not
 * exist. */
static void cases_set(Fixture *fx) {
        GVariantIter objects;
        const char *path;
        GVariant *ifaces;
        guint n = 0;

        {
                /* The manager is no managed object: its properties from GetAll. */
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, PROPERTIES, "GetAll",
                                                         g_variant_new("(s)", VH_MANAGER_INTERFACE), "(a{sv})", &error);
                g_autoptr(GVariant) props = NULL;
                GVariantIter iter;
                const char *name;
                GVariant *value;

                g_assert_no_error(error);
                props = g_variant_get_child_value(r, 0);
                g_variant_iter_init(&iter, props);
                while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
                        g_autofree char *w1 = g_strdup_printf("Set %s Manager1.%s", VH_MANAGER_PATH, name);
                        g_autofree char *w2 = g_strdup_printf("Set %s Manager1.%s (u)", VH_MANAGER_PATH, name);

                        expect_error(fx, w1, VH_MANAGER_PATH, PROPERTIES, "Set",
                                     g_variant_new("(ssv)", VH_MANAGER_INTERFACE, name, value), E_ACCESS_DENIED);
                        expect_error(fx, w2, VH_MANAGER_PATH, PROPERTIES, "Set",
                                     g_variant_new("(ssv)", VH_MANAGER_INTERFACE, name, g_variant_new_uint32(7)),
                                     E_ACCESS_DENIED);
                        g_variant_unref(value);
                        n++;
                }
        }

        g_variant_iter_init(&objects, fx->objects);
        while (g_variant_iter_next(&objects, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                GVariantIter i;
                const char *iface;
                GVariant *props;

                g_variant_iter_init(&i, ifaces);
                while (g_variant_iter_next(&i, "{&s@a{sv}}", &iface, &props)) {
                        GVariantIter p;
                        const char *name;
                        GVariant *value;

                        g_variant_iter_init(&p, props);
                        while (g_variant_iter_next(&p, "{&sv}", &name, &value)) {
                                g_autofree char *w1 = g_strdup_printf("Set %s %s.%s", path, iface, name);
                                g_autofree char *w2 = g_strdup_printf("Set %s %s.%s (s)", path, iface, name);

                                expect_error(fx, w1, path, PROPERTIES, "Set", g_variant_new("(ssv)", iface, name, value),
                                             E_ACCESS_DENIED);
                                expect_error(fx, w2, path, PROPERTIES, "Set",
                                             g_variant_new("(ssv)", iface, name, g_variant_new_string("vfio-pci")),
                                             E_ACCESS_DENIED);
                                g_variant_unref(value);
                                n++;
                        }
                        g_variant_unref(props);
                }
                g_variant_unref(ifaces);
        }
        g_assert_cmpuint(n, >, 100);

        expect_error(fx, "Set Manager1.NoSuchProperty", VH_MANAGER_PATH, PROPERTIES, "Set",
                     g_variant_new("(ssv)", VH_MANAGER_INTERFACE, "NoSuchProperty", g_variant_new_string("x")),
                     E_ACCESS_DENIED);
        expect_error(fx, "Set on an unknown interface", VH_MANAGER_PATH, PROPERTIES, "Set",
                     g_variant_new("(ssv)", "org.vfiohost.Nothing1", "Version", g_variant_new_string("x")),
                     E_ACCESS_DENIED);
        {
                g_autofree char *huge = repeat("\xe2\x82\xac", 1 << 20);

                expect_error(fx, "Set of a 1 MiB property name", VH_MANAGER_PATH, PROPERTIES, "Set",
                             g_variant_new("(ssv)", VH_MANAGER_INTERFACE, huge, g_variant_new_string("x")),
                             E_ACCESS_DENIED);
        }
}

/* Aliases a decoder might accept for a canonical device path: upper-case
 * escapes, and an escape for a character that needs none. */
static GPtrArray *device_aliases(const char *canonical) {
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        const char *rest = canonical + strlen(VH_DEVICE_PATH_PREFIX "/");
        g_autofree char *upper = g_strdup(canonical);
        char *u = upper + strlen(VH_DEVICE_PATH_PREFIX "/");

        for (size_t i = 0; u[i]; i++)
                if (u[i] == '_' && u[i + 1] && u[i + 2]) {
                        u[i + 1] = g_ascii_toupper(u[i + 1]);
                        u[i + 2] = g_ascii_toupper(u[i + 2]);
                }
        if (strcmp(upper, canonical) != 0)
                g_ptr_array_add(a, g_strdup(upper));
        /* the first literal character after the leading escape, escaped */
        for (size_t i = 3; rest[i]; i++)
                if (g_ascii_isalnum(rest[i]) && rest[i - 1] != '_' && (i < 2 || rest[i - 2] != '_')) {
                        g_autofree char *head = g_strndup(rest, i);
                        g_ptr_array_add(a, g_strdup_printf(VH_DEVICE_PATH_PREFIX "/%s_%02x%s", head,
                                                           (unsigned char) rest[i], rest + i + 1));
                        break;
                }
        /* the address in upper case, encoded as the daemon would encode it */
        {
                g_autoptr(GString) s = g_string_new(NULL);

                for (size_t i = 0; rest[i]; i++)
                        g_string_append_c(s, g_ascii_isalpha(rest[i]) && !(i > 0 && rest[i - 1] == '_') &&
                                                     !(i > 1 && rest[i - 2] == '_')
                                                     ? g_ascii_toupper(rest[i]) : rest[i]);
                if (strcmp(s->str, rest) != 0)
                        g_ptr_array_add(a, g_strdup_printf(VH_DEVICE_PATH_PREFIX "/%s", s->str));
        }
        return a;
}

static void cases_paths(Fixture *fx) {
        static const char *const unknown[] = {
                VH_DEVICE_PATH_PREFIX, VH_DEVICE_PATH_PREFIX "/x", VH_DEVICE_PATH_PREFIX "/_",
                VH_DEVICE_PATH_PREFIX "/_30000_3a09_3a00_2e0",          /* 0000:09:00.0, absent */
                VH_DEVICE_PATH_PREFIX "/_2e_2e_2f_2e_2e",               /* "../.." */
                VH_DEVICE_PATH_PREFIX "/_30000_3a01_3a00_2e0/driver",
                VH_GROUP_PATH_PREFIX, VH_GROUP_PATH_PREFIX "/999", VH_GROUP_PATH_PREFIX "/x",
                VH_GROUP_PATH_PREFIX "/4294967298",                     /* 2 + 2^32 */
                VH_GROUP_PATH_PREFIX "/99999999999999999999999",
                VH_GROUP_PATH_PREFIX "/2/x",
                "/org/vfiohost/nowhere", "/org/vfiohost/Device", "/org", "/",
        };
        static const char *const group_aliases[] = { "/02", "/002", "/0x2", "/_32", "/2_", "/00" };

        for (guint i = 0; i < fx->devices->len; i++) {
                g_autoptr(GPtrArray) aliases = device_aliases(fx->devices->pdata[i]);

                g_assert_cmpuint(aliases->len, >, 0);
                for (guint j = 0; j < aliases->len; j++) {
                        const char *p = aliases->pdata[j];
                        g_autofree char *w1 = g_strdup_printf("GetAll on alias %s", p);
                        g_autofree char *w2 = g_strdup_printf("Get Address on alias %s", p);
                        g_autofree char *w3 = g_strdup_printf("Introspect alias %s", p);

                        if (!g_variant_is_object_path(p))
                                continue;
                        expect_error(fx, w1, p, PROPERTIES, "GetAll", g_variant_new("(s)", VH_DEVICE_INTERFACE),
                                     E_UNKNOWN_OBJECT);
                        expect_error(fx, w2, p, PROPERTIES, "Get",
                                     g_variant_new("(ss)", VH_DEVICE_INTERFACE, "Address"), E_UNKNOWN_OBJECT);
                        expect_error(fx, w3, p, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
                                     E_UNKNOWN_OBJECT);
                }
        }
        for (size_t i = 0; i < G_N_ELEMENTS(group_aliases); i++) {
                g_autofree char *p = g_strconcat(VH_GROUP_PATH_PREFIX, group_aliases[i], NULL);
                g_autofree char *w = g_strdup_printf("GetAll on group alias %s", p);

                expect_error(fx, w, p, PROPERTIES, "GetAll", g_variant_new("(s)", VH_GROUP_INTERFACE), E_UNKNOWN_OBJECT);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++) {
                const char *iface = g_str_has_prefix(unknown[i], VH_GROUP_PATH_PREFIX) ? VH_GROUP_INTERFACE
                                                                                       : VH_DEVICE_INTERFACE;
                g_autofree char *w1 = g_strdup_printf("GetAll on %s", unknown[i]);
                g_autofree char *w2 = g_strdup_printf("GetDevice on %s", unknown[i]);
                /* The two prefixes are nodes (Introspect lists the objects
                 * below them) without interfaces of their own. */
                gboolean node = strcmp(unknown[i], VH_DEVICE_PATH_PREFIX) == 0 ||
                                strcmp(unknown[i], VH_GROUP_PATH_PREFIX) == 0;

                expect_error(fx, w1, unknown[i], PROPERTIES, "GetAll", g_variant_new("(s)", iface),
                             node ? "org.freedesktop.DBus.Error.UnknownInterface" : E_UNKNOWN_OBJECT);
                expect_error(fx, w2, unknown[i], VH_MANAGER_INTERFACE, "GetDevice", g_variant_new("(s)", GOOD_ADDRESS),
                             node ? E_UNKNOWN_METHOD : E_UNKNOWN_OBJECT);
        }
        /* Manager1 on objects that are not the manager. */
        expect_error(fx, "GetDevice on a device", fx->devices->pdata[0], VH_MANAGER_INTERFACE, "GetDevice",
                     g_variant_new("(s)", GOOD_ADDRESS), E_UNKNOWN_METHOD);
        expect_error(fx, "Bind on a group", fx->groups->pdata[0], VH_MANAGER_INTERFACE, "Bind",
                     g_variant_new("(s@a{sv})", GOOD_ADDRESS, empty_dict()), E_UNKNOWN_METHOD);
        /* Members nobody listed. */
        expect_error(fx, "Manager1.Frobnicate", VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Frobnicate", NULL,
                     E_ACCESS_DENIED);
        expect_error(fx, "Device1.Bind", fx->devices->pdata[0], VH_DEVICE_INTERFACE, "Bind",
                     g_variant_new("(s@a{sv})", GOOD_ADDRESS, empty_dict()), E_ACCESS_DENIED);
        expect_error(fx, "GetDevice without an interface", VH_MANAGER_PATH, NULL, "GetDevice",
                     g_variant_new("(s)", GOOD_ADDRESS), E_ACCESS_DENIED);
}

/* ---------- the test ---------- */

typedef void (*CaseFunc)(Fixture *fx);

static void test_malformed(Fixture *fx, gconstpointer data) {
        static const struct {
                const char *name;
                CaseFunc func;
        } groups[] = {
                { "wrong signatures", cases_signatures },
                { "addresses", cases_addresses },
                { "option keys", cases_option_keys },
                { "option types", cases_option_types },
                { "10,000-entry option dicts", cases_big_dicts },
                { "Set on every property", cases_set },
                { "unknown and aliased paths", cases_paths },
        };
        g_autofree char *after = NULL;

        if (!fx->objects)
                return;

        for (size_t i = 0; i < G_N_ELEMENTS(groups); i++) {
                guint before = fx->n_cases, failed = fx->n_failed;
                gint64 start = g_get_monotonic_time();

                groups[i].func(fx);
                g_test_message("%s: %u cases, %u wrong, %.1f s", groups[i].name, fx->n_cases - before,
                               fx->n_failed - failed, (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC);
        }

        /* Still the same daemon, still answering. */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                                         g_variant_new("(s)", GOOD_ADDRESS), "(o)", &error);
                g_autoptr(GVariant) owner = NULL;
                const char *unique = NULL;

                g_assert_no_error(error);
                owner = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), "org.freedesktop.DBus",
                                                    "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
                                                    g_variant_new("(s)", VH_BUS_NAME), G_VARIANT_TYPE("(s)"),
                                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
                g_assert_no_error(error);
                g_variant_get(owner, "(&s)", &unique);
                g_assert_cmpstr(unique, ==, fx->owner);
        }

        g_test_message("malformed input: %u cases (%u of them valid by the contract), %u answered wrongly; "
                       "slowest answer %.1f ms (%s)", fx->n_cases, fx->n_accepted, fx->n_failed,
                       1000 * fx->slowest, fx->slowest_what ? fx->slowest_what : "-");
        if (fx->n_failed > 0) {
                g_test_message("wrong answers%s:\n%s", fx->n_failed > 200 ? " (the first 200)" : "",
                               fx->failures->str);
                g_test_fail();
        }

        /* Nothing below the host root changed. */
        after = vh_test_polkit_snapshot(fx->root);
        vh_test_polkit_snapshot_assert_equal(fx->before, after);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add("/malformed/all", Fixture, NULL, fixture_setup, test_malformed, fixture_teardown);
        return g_test_run();
}
