/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfiohostctl's systemctl-like conventions (docs/client.md), the real
 * binary against the daemon on a private bus:
 *
 *  /ctl/conventions/option-errors  every parse error names the option as
 *                                  typed, in JSON too, no control bytes
 *  /ctl/conventions/unreachable    no bus: exit 4, not check's NOT READY 1
 *  /ctl/conventions/json-modes     --json = --json=pretty; =short one line
 *  /ctl/conventions/legend         --no-legend drops the header row
 *  /ctl/conventions/help           COMMAND -h and help COMMAND
 *  /ctl/conventions/color          --color, SYSTEMD_COLORS, NO_COLOR
 *  /ctl/conventions/quiet          -q prints nothing, errors on stderr
 *  /ctl/conventions/pager          on a terminal (script(1)'s pty) list
 *                                  goes through $PAGER, fitted to COLUMNS,
 *                                  -l cuts nothing, --no-pager and a
 *                                  pipe bypass it
 *  /ctl/conventions/list-widths    list on 80 and 160 columns: lines fit,
 *                                  the GPU's name whole at 80, class
 *                                  words, ids at 160, nothing cut there
 *  /ctl/conventions/list-class     --class gpu, audio, 0c03; bad values
 *  /ctl/conventions/list-tree      --tree: functions under their bridges
 *  /ctl/conventions/groups-text    groups says what each group is good for
 *                                  and wraps its reasons at words; status
 *                                  counts no bridge-only group, shows the
 *                                  readiness verdict
 *  /ctl/conventions/advice         refusals never advise a way that is
 *                                  refused next or unsafe (--group, then
 *                                  --force on the chipset), no D-Bus
 *                                  syntax, nothing said twice, a short
 *                                  address explained */

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#include "vh-test-bus.h"

typedef struct {
        VhTestBus *bus;
        char *root;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data) {
        vh_test_bus_fixture_start(&fx->bus, &fx->root, data, VH_TEST_ROOT_SHARED);
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        vh_test_bus_fixture_stop(&fx->bus, &fx->root);
}

#define SKIP_IF_NO_HOST(fx) do { if (!(fx)->root) return; } while (0)

static VhTestRun *ctl_env(Fixture *fx, const char *const *env, const char *const *args) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (char *) vh_test_env("VH_CTL"));
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (char *) *a);
        g_ptr_array_add(argv, NULL);
        return vh_test_bus_run_env(fx->bus, (const char *const *) argv->pdata, -1, env);
}

static VhTestRun *ctl(Fixture *fx, const char *const *args) {
        const char *const none[] = { NULL };

        return ctl_env(fx, none, args);
}

static void assert_status(const VhTestRun *run, int status, const char *what) {
        if (run->status != status) {
                vh_test_run_print(run, what);
                g_error("%s: exit status %d, expected %d", what, run->status, status);
        }
}

static guint count_lines(const char *s) {
        guint n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void test_option_errors(void) {
        static const struct {
                const char *args[4];
                const char *named;              /* in the message, as typed */
        } cases[] = {
                { { "--json", "--bogus=1", "list" }, "'--bogus=1'" },
                { { "--json", "--group=yes", "list" }, "'--group=yes'" },
                { { "--json", "-x", "list" }, "'-x'" },
                { { "--json", "-qx", "list" }, "'-x'" },
                { { "--json", "--json=fancy", "list" }, "'fancy'" },
                { { "--json", "--color=purple", "list" }, "'purple'" },
                { { "--json", "check", "--device" }, "'--device'" },
        };
        const char *nowhere = "unix:path=/nonexistent/vfiohost-test-socket";

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(VhTestRun) run = vh_test_run_ctl_address(nowhere, cases[i].args);
                g_autofree char *what = g_strjoinv(" ", (char **) cases[i].args);
                json_object *j, *e, *m;

                assert_status(run, 2, what);
                for (const char *p = run->out; *p; p++)
                        if ((unsigned char) *p < 0x20 && *p != '\n' && *p != ' ')
                                g_error("%s: a control byte 0x%02x in the output: %s", what, *p, run->out);
                j = json_tokener_parse(run->out);
                if (!j)
                        g_error("%s: not JSON: %s", what, run->out);
                g_assert_true(json_object_object_get_ex(j, "error", &e));
                g_assert_true(json_object_object_get_ex(e, "message", &m));
                if (!strstr(json_object_get_string(m), cases[i].named))
                        g_error("%s: the message does not name %s: %s", what, cases[i].named,
                                json_object_get_string(m));
                g_assert_null(strstr(json_object_get_string(m), "\\u00"));
                json_object_put(j);
        }
}

static void test_unreachable(void) {
        const char *nowhere = "unix:path=/nonexistent/vfiohost-test-socket";
        const char *args[] = { "check", NULL };
        const char *json_args[] = { "--json", "check", NULL };
        g_autoptr(VhTestRun) run = vh_test_run_ctl_address(nowhere, args);
        g_autoptr(VhTestRun) json = vh_test_run_ctl_address(nowhere, json_args);

        assert_status(run, 4, "vfiohostctl check (no bus)");
        g_assert_nonnull(strstr(run->err, "system bus"));
        g_assert_null(strstr(run->out, "NOT READY"));
        assert_status(json, 4, "vfiohostctl --json check (no bus)");
        g_assert_nonnull(strstr(json->out, "org.freedesktop.DBus.Error.NoServer"));
}

static void test_json_modes(Fixture *fx, gconstpointer data) {
        const char *plain_args[] = { "--json", "list", NULL }, *pretty_args[] = { "--json=pretty", "list", NULL };
        const char *short_args[] = { "--json=short", "list", NULL };
        g_autoptr(VhTestRun) plain = NULL, pretty = NULL, shrt = NULL;
        json_object *a, *b;

        SKIP_IF_NO_HOST(fx);
        plain = ctl(fx, plain_args);
        pretty = ctl(fx, pretty_args);
        shrt = ctl(fx, short_args);
        assert_status(plain, 0, "--json list");
        assert_status(pretty, 0, "--json=pretty list");
        assert_status(shrt, 0, "--json=short list");
        g_assert_cmpstr(plain->out, ==, pretty->out);
        g_assert_cmpuint(count_lines(pretty->out), >, 1);
        g_assert_cmpuint(count_lines(shrt->out), ==, 1);
        a = json_tokener_parse(pretty->out);
        b = json_tokener_parse(shrt->out);
        g_assert_nonnull(a);
        g_assert_nonnull(b);
        g_assert_true(json_object_equal(a, b));
        json_object_put(a);
        json_object_put(b);
}

static void test_legend(Fixture *fx, gconstpointer data) {
        const char *with_args[] = { "list", NULL }, *without_args[] = { "--no-legend", "list", NULL };
        g_autoptr(VhTestRun) with = NULL, without = NULL;

        SKIP_IF_NO_HOST(fx);
        with = ctl(fx, with_args);
        without = ctl(fx, without_args);
        assert_status(with, 0, "list");
        assert_status(without, 0, "--no-legend list");
        g_assert_true(g_str_has_prefix(with->out, "ADDRESS"));
        g_assert_null(strstr(without->out, "ADDRESS"));
        g_assert_cmpuint(count_lines(with->out), ==, count_lines(without->out) + 1);
        /* the rows are the same */
        g_assert_cmpstr(strchr(with->out, '\n') + 1, ==, without->out);
}

static void test_help(void) {
        const char *nowhere = "unix:path=/nonexistent/vfiohost-test-socket";
        const char *dash_h[] = { "bind", "-h", NULL }, *help_bind[] = { "help", "bind", NULL };
        const char *help[] = { "help", NULL }, *dash_help[] = { "--help", NULL }, *bad[] = { "help", "nope", NULL };
        g_autoptr(VhTestRun) a = vh_test_run_ctl_address(nowhere, dash_h);
        g_autoptr(VhTestRun) b = vh_test_run_ctl_address(nowhere, help_bind);
        g_autoptr(VhTestRun) c = vh_test_run_ctl_address(nowhere, help);
        g_autoptr(VhTestRun) d = vh_test_run_ctl_address(nowhere, dash_help);
        g_autoptr(VhTestRun) e = vh_test_run_ctl_address(nowhere, bad);

        /* no bus needed for help */
        assert_status(a, 0, "bind -h");
        assert_status(b, 0, "help bind");
        g_assert_cmpstr(a->out, ==, b->out);
        g_assert_nonnull(strstr(a->out, "[OPTIONS...] bind ADDRESS"));
        g_assert_nonnull(strstr(a->out, "--group"));
        g_assert_nonnull(strstr(a->out, "--dry-run"));
        g_assert_null(strstr(a->out, "--hugepages"));
        assert_status(c, 0, "help");
        g_assert_cmpstr(c->out, ==, d->out);
        g_assert_nonnull(strstr(c->out, "--no-pager"));
        assert_status(e, 2, "help nope");
        g_assert_nonnull(strstr(e->err, "'nope'"));
}

static gboolean has_ansi(const char *s) {
        return strchr(s, '\033') != NULL;
}

static void test_color(Fixture *fx, gconstpointer data) {
        const char *always[] = { "--color=always", "list", NULL }, *never[] = { "--color=never", "list", NULL };
        const char *plain[] = { "list", NULL }, *json[] = { "--json", "--color=always", "list", NULL };
        const char *forced[] = { "SYSTEMD_COLORS=1", NULL }, *off[] = { "SYSTEMD_COLORS=0", NULL };
        const char *none[] = { NULL };
        g_autoptr(VhTestRun) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL, r6 = NULL;

        SKIP_IF_NO_HOST(fx);
        r1 = ctl_env(fx, none, always);
        r2 = ctl_env(fx, none, never);
        r3 = ctl_env(fx, none, plain);          /* a pipe: none */
        r4 = ctl_env(fx, forced, plain);        /* SYSTEMD_COLORS=1 on a pipe */
        r5 = ctl_env(fx, off, always);          /* --color wins */
        r6 = ctl_env(fx, none, json);
        g_assert_true(has_ansi(r1->out));
        g_assert_false(has_ansi(r2->out));
        g_assert_false(has_ansi(r3->out));
        g_assert_true(has_ansi(r4->out));
        g_assert_true(has_ansi(r5->out));
        g_assert_false(has_ansi(r6->out));
}

static void test_quiet(Fixture *fx, gconstpointer data) {
        const char *ok[] = { "-q", "list", NULL }, *bad[] = { "--quiet", "show", "0000:ff:1f.7", NULL };
        g_autoptr(VhTestRun) a = NULL, b = NULL;

        SKIP_IF_NO_HOST(fx);
        a = ctl(fx, ok);
        b = ctl(fx, bad);
        assert_status(a, 0, "-q list");
        g_assert_cmpstr(a->out, ==, "");
        assert_status(b, 3, "--quiet show UNKNOWN");
        g_assert_cmpstr(b->out, ==, "");
        g_assert_cmpstr(b->err, !=, "");
}

/* Runs the client on a pty (script -qec) COLUMNS wide, TERM=xterm, with
 * extra ("VAR=value", "VAR" to unset; NULL-terminated) in its
 * environment; asserts it succeeded. */
static VhTestRun *on_pty(Fixture *fx, const char *columns, const char *const *extra, const char *ctl_args) {
        g_autofree char *cols = g_strdup_printf("COLUMNS=%s", columns);
        g_autofree char *command = g_strdup_printf("%s %s", vh_test_env("VH_CTL"), ctl_args);
        g_autoptr(GPtrArray) env = g_ptr_array_new();
        const char *argv[] = { "script", "-qec", command, "/dev/null", NULL };
        VhTestRun *run;

        g_ptr_array_add(env, cols);
        g_ptr_array_add(env, (char *) "TERM=xterm");
        for (const char *const *e = extra; *e; e++)
                g_ptr_array_add(env, (char *) *e);
        g_ptr_array_add(env, NULL);
        run = vh_test_bus_run_env(fx->bus, argv, -1, (const char *const *) env->pdata);
        assert_status(run, 0, command);
        return run;
}

/* On a pty, PAGER writing what it got to a file; returns that (NULL when
 * the pager never ran). */
static char *paged(Fixture *fx, const char *columns, const char *ctl_args) {
        g_autofree char *file = g_build_filename(fx->bus->dir, "paged.txt", NULL);
        g_autofree char *pager = g_strdup_printf("PAGER=cat > %s", file);
        const char *env[] = { pager, "SYSTEMD_PAGER", NULL };
        g_autoptr(VhTestRun) run = NULL;
        char *content = NULL;

        (void) g_unlink(file);
        run = on_pty(fx, columns, env, ctl_args);
        if (!g_file_get_contents(file, &content, NULL, NULL))
                return NULL;
        return content;
}

static size_t max_line_width(const char *s) {
        g_auto(GStrv) lines = g_strsplit(s, "\n", -1);
        g_autoptr(GRegex) ansi = g_regex_new("\033\\[[0-9;]*m", 0, 0, NULL);
        size_t max = 0;

        for (char **l = lines; *l; l++) {
                g_autofree char *plain = g_regex_replace(ansi, *l, -1, 0, "", 0, NULL);
                size_t w = g_utf8_strlen(plain, -1);

                if (w > max)
                        max = w;
        }
        return max;
}

static void test_pager(Fixture *fx, gconstpointer data) {
        g_autofree char *script = g_find_program_in_path("script");
        g_autofree char *list = NULL, *full = NULL, *bypass = NULL, *status = NULL;

        SKIP_IF_NO_HOST(fx);
        if (!script) {
                g_test_skip("script(1) is missing (util-linux/bsdutils): no pty to run the client on");
                return;
        }
        list = paged(fx, "80", "list");
        g_assert_nonnull(list);
        g_assert_true(g_str_has_prefix(list, "\033[1mADDRESS") || g_str_has_prefix(list, "ADDRESS"));
        /* fitted to the terminal the pager shows it on */
        g_assert_cmpuint(max_line_width(list), <=, 80);
        g_assert_nonnull(strstr(list, "…"));
        full = paged(fx, "80", "-l list");
        g_assert_nonnull(full);
        g_assert_null(strstr(full, "…"));
        g_assert_cmpuint(max_line_width(full), >, 80);
        bypass = paged(fx, "80", "--no-pager list");
        g_assert_null(bypass);
        /* short, interactive verbs are never paged */
        status = paged(fx, "80", "status");
        g_assert_null(status);
}

/* The client's stdout on a pty COLUMNS wide, "\r\n" made "\n". */
static char *on_terminal(Fixture *fx, const char *columns, const char *ctl_args) {
        g_autofree char *args = g_strdup_printf("--no-pager %s", ctl_args);
        const char *env[] = { "NO_COLOR=1", NULL };
        g_autoptr(VhTestRun) run = on_pty(fx, columns, env, args);
        g_autoptr(GString) out = g_string_new(NULL);

        for (const char *p = run->out; *p; p++)
                if (*p != '\r')
                        g_string_append_c(out, *p);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static const char *line_of(char **lines, const char *address) {
        for (char **l = lines; *l; l++)
                if (strstr(*l, address))
                        return *l;
        g_error("no line shows %s", address);
}

static void test_list_widths(Fixture *fx, gconstpointer data) {
        g_autofree char *script = g_find_program_in_path("script");
        g_autofree char *narrow = NULL, *wide = NULL;
        g_auto(GStrv) n_lines = NULL, w_lines = NULL;

        SKIP_IF_NO_HOST(fx);
        if (!script) {
                g_test_skip("script(1) is missing (util-linux/bsdutils): no pty to run the client on");
                return;
        }
        narrow = on_terminal(fx, "80", "list");
        wide = on_terminal(fx, "160", "list");
        g_test_message("80 columns:\n%s", narrow);
        g_assert_cmpuint(max_line_width(narrow), <=, 80);
        g_assert_cmpuint(max_line_width(wide), <=, 160);
        n_lines = g_strsplit(narrow, "\n", -1);
        w_lines = g_strsplit(wide, "\n", -1);
        /* The name gets the width: the GPU's whole, its vendor shortened. */
        g_assert_nonnull(strstr(line_of(n_lines, "0000:01:00.0"), "NVIDIA GeForce RTX 4090"));
        g_assert_nonnull(strstr(line_of(n_lines, "0000:05:00.0"), "AMD/ATI Radeon RX"));
        g_assert_nonnull(strstr(line_of(n_lines, "0000:01:00.0"), " VGA "));
        g_assert_nonnull(strstr(line_of(n_lines, "0000:00:1c.0"), " PCI bridge "));
        g_assert_null(strstr(narrow, "Corporation"));
        /* 160: ids too, and nothing cut */
        g_assert_true(g_str_has_prefix(wide, "ADDRESS"));
        g_assert_nonnull(strstr(w_lines[0], " IDS "));
        g_assert_nonnull(strstr(line_of(w_lines, "0000:01:00.0"), "0300 10de:2684"));
        g_assert_nonnull(strstr(line_of(w_lines, "0000:01:00.1"), "vfio-pci (was snd_hda_intel)"));
        g_assert_null(strstr(wide, "…"));
}

static char *addresses_of(const char *out) {
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
        g_autoptr(GString) s = g_string_new(NULL);

        for (char **l = lines; *l; l++) {
                const char *a = strstr(*l, "0000:");

                if (a)
                        g_string_append_printf(s, "%s%.12s", s->len ? " " : "", a);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static void test_list_class(Fixture *fx, gconstpointer data) {
        static const struct {
                const char *arg, *want;
        } cases[] = {
                { "gpu", "0000:00:02.0 0000:01:00.0 0000:05:00.0" },
                { "audio", "0000:00:1f.3 0000:01:00.1 0000:05:00.1" },
                { "0c03", "0000:00:14.0" },
                { "NETWORK", "0000:06:00.0" },
        };

        SKIP_IF_NO_HOST(fx);
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *args[] = { "--no-legend", "list", "--class", cases[i].arg, NULL };
                const char *json_args[] = { "--json=short", "list", "--class", cases[i].arg, NULL };
                g_autoptr(VhTestRun) run = ctl(fx, args);
                g_autoptr(VhTestRun) json = ctl(fx, json_args);
                g_autofree char *got = NULL;
                json_object *a;

                assert_status(run, 0, cases[i].arg);
                got = addresses_of(run->out);
                g_assert_cmpstr(got, ==, cases[i].want);
                assert_status(json, 0, cases[i].arg);
                a = json_tokener_parse(json->out);
                g_assert_nonnull(a);
                g_assert_cmpuint(json_object_array_length(a), ==, (strlen(cases[i].want) + 1) / 13);
                json_object_put(a);
        }
        {
                const char *args[] = { "list", "--class", "printer", NULL };
                const char *other[] = { "groups", "--class", "gpu", NULL };
                g_autoptr(VhTestRun) bad = ctl(fx, args);
                g_autoptr(VhTestRun) not_list = ctl(fx, other);

                assert_status(bad, 2, "list --class printer");
                g_assert_nonnull(strstr(bad->err, "'printer'"));
                assert_status(not_list, 2, "groups --class gpu");
        }
}

static int compare_strp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void test_list_tree(Fixture *fx, gconstpointer data) {
        const char *args[] = { "--no-legend", "list", "--tree", NULL }, *flat_args[] = { "--no-legend", "list", NULL };
        g_autoptr(VhTestRun) run = NULL, flat = NULL;
        g_auto(GStrv) lines = NULL;
        g_autofree char *tree_addresses = NULL, *flat_addresses = NULL;
        guint i_bridge = 0, i_gpu = 0;

        SKIP_IF_NO_HOST(fx);
        run = ctl(fx, args);
        flat = ctl(fx, flat_args);
        assert_status(run, 0, "list --tree");
        lines = g_strsplit(run->out, "\n", -1);
        for (guint i = 0; lines[i]; i++) {
                if (g_str_has_prefix(lines[i], "0000:00:01.0"))
                        i_bridge = i;
                if (strstr(lines[i], "├─0000:01:00.0"))
                        i_gpu = i;
        }
        /* the GPU under its root port, the switch's GPU two levels down */
        g_assert_cmpuint(i_gpu, ==, i_bridge + 1);
        g_assert_nonnull(strstr(run->out, "└─0000:01:00.1"));
        g_assert_nonnull(strstr(run->out, "    ├─0000:05:00.0"));
        /* every function once, as in the flat list */
        tree_addresses = addresses_of(run->out);
        flat_addresses = addresses_of(flat->out);
        {
                g_auto(GStrv) x = g_strsplit(tree_addresses, " ", -1), y = g_strsplit(flat_addresses, " ", -1);

                qsort(x, g_strv_length(x), sizeof(char *), compare_strp);
                qsort(y, g_strv_length(y), sizeof(char *), compare_strp);
                g_assert_true(g_strv_equal((const char *const *) x, (const char *const *) y));
        }
}

static void test_groups_text(Fixture *fx, gconstpointer data) {
        g_autofree char *script = g_find_program_in_path("script");
        g_autofree char *groups = NULL;
        g_auto(GStrv) lines = NULL;
        const char *status_args[] = { "status", NULL }, *json_args[] = { "--json", "status", NULL };
        g_autoptr(VhTestRun) status = NULL, json = NULL;

        SKIP_IF_NO_HOST(fx);
        if (!script) {
                g_test_skip("script(1) is missing (util-linux/bsdutils): no pty to run the client on");
                return;
        }
        groups = on_terminal(fx, "80", "groups");
        g_assert_nonnull(strstr(groups, "Group 0 (type DMA): not viable until bound"));
        g_assert_nonnull(strstr(groups, "Group 1 (type DMA-FQ): never pass through"));
        g_assert_nonnull(strstr(groups, "Group 2 (type DMA): viable"));
        g_assert_nonnull(strstr(groups, "Group 3 (type DMA-FQ): nothing to assign"));
        /* wrapped at words: every line fits, the reason goes on indented,
         * and its words are whole (the joined lines give it back) */
        g_assert_cmpuint(max_line_width(groups), <=, 80);
        g_assert_nonnull(strstr(groups, "\n    "));
        {
                g_autoptr(GString) joined = g_string_new(NULL);

                lines = g_strsplit(groups, "\n", -1);
                for (char **l = lines; *l; l++)
                        g_string_append_printf(joined, "%s%s", joined->len ? " " : "", g_strstrip(*l));
                g_assert_nonnull(strstr(joined->str, "the group holds chipset functions the host needs. Do not pass "
                                                     "this group through; move the card to a slot with its own IOMMU "
                                                     "group."));
        }

        status = ctl(fx, status_args);
        json = ctl(fx, json_args);
        assert_status(status, 0, "status");
        /* groups 2 (the GPU) only: 3 holds only a bridge */
        g_assert_nonnull(strstr(status->out, "Viable groups:   1\n"));
        g_assert_nonnull(strstr(status->out, "Readiness:"));
        g_assert_nonnull(strstr(json->out, "\"viable_groups\":1"));
}

static void assert_clean_advice(const VhTestRun *run, const char *what) {
        static const char *const leaks[] = { "=true", "option group", "Pass force", "a{sv}" };

        for (size_t i = 0; i < G_N_ELEMENTS(leaks); i++)
                if (strstr(run->err, leaks[i]))
                        g_error("%s: D-Bus syntax '%s' in the advice: %s", what, leaks[i], run->err);
}

static void test_advice(Fixture *fx, gconstpointer data) {
        const char *alone[] = { "bind", "--dry-run", "00:1f.3", NULL };
        const char *group[] = { "bind", "--dry-run", "--group", "00:1f.3", NULL };
        const char *mounted[] = { "bind", "--dry-run", "02:00.0", NULL };
        const char *other[] = { "bind", "--dry-run", "0000:05:00.0", NULL };
        g_autoptr(VhTestRun) a = NULL, b = NULL, c = NULL, d = NULL;

        SKIP_IF_NO_HOST(fx);
        /* the chipset's group: neither --group (refused next) nor --force */
        a = ctl(fx, alone);
        assert_status(a, 1, "bind 00:1f.3");
        assert_clean_advice(a, "bind 00:1f.3");
        g_assert_nonnull(strstr(a->err, "chipset"));
        g_assert_null(strstr(a->err, "--group"));
        g_assert_null(strstr(a->err, "--force"));
        g_assert_nonnull(strstr(a->err, "0000:00:1f.3 (00:1f.3)"));
        b = ctl(fx, group);
        assert_status(b, 1, "bind --group 00:1f.3");
        assert_clean_advice(b, "bind --group 00:1f.3");
        g_assert_nonnull(strstr(b->err, "chipset"));
        g_assert_null(strstr(b->err, "--force"));
        /* a mounted disk: --force is the way, said once, the address once */
        c = ctl(fx, mounted);
        assert_status(c, 1, "bind 02:00.0");
        assert_clean_advice(c, "bind 02:00.0");
        g_assert_nonnull(strstr(c->err, "--force"));
        g_assert_null(strstr(c->err, "0000:02:00.0: 0000:02:00.0"));
        g_assert_null(strstr(c->err, "(02:00.0): 0000:02:00.0"));
        /* a group that binds whole: --group is the advice */
        d = ctl(fx, other);
        assert_status(d, 1, "bind 0000:05:00.0");
        assert_clean_advice(d, "bind 0000:05:00.0");
        g_assert_nonnull(strstr(d->err, "vfiohostctl bind --group 0000:05:00.0"));
        /* typed in full: nothing to explain */
        g_assert_null(strstr(d->err, "(0000:05:00.0)"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/ctl/conventions/option-errors", test_option_errors);
        g_test_add_func("/ctl/conventions/unreachable", test_unreachable);
        g_test_add_func("/ctl/conventions/help", test_help);
        g_test_add("/ctl/conventions/json-modes", Fixture, "desktop-vfio-bound", fixture_setup, test_json_modes,
                   fixture_teardown);
        g_test_add("/ctl/conventions/legend", Fixture, "desktop-vfio-bound", fixture_setup, test_legend,
                   fixture_teardown);
        g_test_add("/ctl/conventions/color", Fixture, "desktop-vfio-bound", fixture_setup, test_color,
                   fixture_teardown);
        g_test_add("/ctl/conventions/quiet", Fixture, "desktop-vfio-bound", fixture_setup, test_quiet,
                   fixture_teardown);
        g_test_add("/ctl/conventions/pager", Fixture, "desktop-vfio-bound", fixture_setup, test_pager,
                   fixture_teardown);
        g_test_add("/ctl/conventions/list-widths", Fixture, "desktop-vfio-bound", fixture_setup, test_list_widths,
                   fixture_teardown);
        g_test_add("/ctl/conventions/list-class", Fixture, "desktop-vfio-bound", fixture_setup, test_list_class,
                   fixture_teardown);
        g_test_add("/ctl/conventions/list-tree", Fixture, "desktop-vfio-bound", fixture_setup, test_list_tree,
                   fixture_teardown);
        g_test_add("/ctl/conventions/groups-text", Fixture, "desktop-vfio-bound", fixture_setup, test_groups_text,
                   fixture_teardown);
        g_test_add("/ctl/conventions/advice", Fixture, "desktop-vfio-bound", fixture_setup, test_advice,
                   fixture_teardown);
        return g_test_run();
}
