/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shell completion (client/completion/): bash runs the real completion
 * function against the real daemon on a private bus, with the built
 * vfiohostctl first in PATH and without bash-completion's framework:
 *
 *  /completion/bash/verbs        "b" is bind alone
 *  /completion/bash/verb-options "bind --" has bind's options, not --vfs
 *  /completion/bash/addresses    "show 0000:0" is the fixture's addresses
 *                                with that prefix (from its sysfs listing),
 *                                and with ':' a word break (bash's default)
 *                                the part after the last ':'
 *  /completion/bash/vms          "vm " is the fixture's VM name and pid
 *  /completion/bash/class        "list --class " is the class words
 *  /completion/bash/pfs          "vfs " is server-sriov's PFs only
 *  /completion/bash/unreachable  no daemon: nothing, and nothing on stderr
 *  /completion/zsh               _vfiohostctl parses and compinit takes it
 *                                for vfiohostctl (skipped without zsh) */

#include <stdio.h>
#include <string.h>

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

#define SKIP_UNLESS_READY(fx) do { if (!(fx)->root) return; } while (0)

/* For g_ptr_array_sort() (g_ptr_array_sort_values() is GLib 2.76). */
static int compare_strp(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Sets what bash sets for a completion of line with the cursor at its end
 * (COMP_WORDS split on blanks; the function reads COMP_LINE) and prints
 * COMPREPLY one per line. VH_BREAKS, when set, replaces COMP_WORDBREAKS. */
static const char completion_script[] =
        "source \"$VH_BASH_COMPLETION\" || exit 99\n"
        "COMP_LINE=$VH_LINE\n"
        "COMP_POINT=${#COMP_LINE}\n"
        "[[ -n ${VH_BREAKS+set} ]] && COMP_WORDBREAKS=$VH_BREAKS\n"
        "read -r -a COMP_WORDS <<<\"$COMP_LINE\"\n"
        "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
        "_vfiohostctl || exit 98\n"
        "((${#COMPREPLY[@]})) && printf '%s\\n' \"${COMPREPLY[@]}\"\n"
        "exit 0\n";

/* The replies for line, sorted and joined by spaces. breaks: NULL for
 * bash's default COMP_WORDBREAKS. address: NULL for the test's bus. */
static char *complete_full(Fixture *fx, const char *line, const char *breaks, const char *address) {
        const char *argv[] = { "bash", "--norc", "--noprofile", "-c", completion_script, NULL };
        g_autofree char *ctl_dir = g_path_get_dirname(vh_test_env("VH_CTL"));
        g_autofree char *path = g_strdup_printf("PATH=%s:%s", ctl_dir, g_getenv("PATH"));
        g_autofree char *line_env = g_strdup_printf("VH_LINE=%s", line);
        g_autofree char *breaks_env = breaks ? g_strdup_printf("VH_BREAKS=%s", breaks) : g_strdup("VH_BREAKS");
        g_autofree char *address_env = address ? g_strdup_printf("DBUS_SYSTEM_BUS_ADDRESS=%s", address) : NULL;
        const char *env[] = { path, line_env, breaks_env, address_env, NULL };
        g_autoptr(VhTestRun) run = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GPtrArray) words = g_ptr_array_new();

        (void) vh_test_env("VH_BASH_COMPLETION");
        run = vh_test_bus_run_env(fx->bus, argv, -1, env);
        if (run->status != 0 || run->err[0] != '\0') {
                vh_test_run_print(run, line);
                g_error("completing \"%s\": exit status %d, stderr \"%s\"", line, run->status, run->err);
        }

        lines = g_strsplit(run->out, "\n", -1);
        for (size_t i = 0; lines[i]; i++)
                if (lines[i][0] != '\0')
                        g_ptr_array_add(words, lines[i]);
        g_ptr_array_sort(words, compare_strp);
        g_ptr_array_add(words, NULL);
        return g_strjoinv(" ", (char **) words->pdata);
}

/* Addresses as if ':' and '=' were no word breaks: whole words back. */
#define BREAKS_BLANKS " \t\n"

static char *complete(Fixture *fx, const char *line) {
        return complete_full(fx, line, BREAKS_BLANKS, NULL);
}

static gboolean has_word(const char *words, const char *word) {
        g_auto(GStrv) l = g_strsplit(words, " ", -1);

        return g_strv_contains((const char *const *) l, word);
}

/* The fixture's PCI functions whose address starts with prefix, sorted;
 * with strip, each without its first strip characters. pf_only: those
 * with a non-zero sriov_totalvfs. */
static char *fixture_addresses(Fixture *fx, const char *prefix, size_t strip, gboolean pf_only) {
        g_autofree char *dir_path = g_build_filename(fx->root, "sys", "bus", "pci", "devices", NULL);
        g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
        g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir))) {
                if (!g_str_has_prefix(name, prefix))
                        continue;
                if (pf_only) {
                        g_autofree char *f = g_build_filename(dir_path, name, "sriov_totalvfs", NULL);
                        g_autofree char *s = NULL;

                        if (!g_file_get_contents(f, &s, NULL, NULL) || g_ascii_strtoull(s, NULL, 10) == 0)
                                continue;
                }
                g_assert_cmpuint(strlen(name), >, strip);
                g_ptr_array_add(words, g_strdup(name + strip));
        }
        g_ptr_array_sort(words, compare_strp);
        g_ptr_array_add(words, NULL);
        return g_strjoinv(" ", (char **) words->pdata);
}

static void test_verbs(Fixture *fx, gconstpointer data) {
        g_autofree char *b = NULL, *pers = NULL;

        SKIP_UNLESS_READY(fx);
        b = complete(fx, "vfiohostctl b");
        g_assert_cmpstr(b, ==, "bind");
        /* after global options too */
        pers = complete(fx, "vfiohostctl --json --no-ask-password pers");
        g_assert_cmpstr(pers, ==, "persist persisted");
}

static void test_verb_options(Fixture *fx, gconstpointer data) {
        static const char *const bind_options[] = { "--group", "--force", "--dry-run", "--driver" };
        g_autofree char *opts = NULL, *drivers = NULL, *color = NULL;

        SKIP_UNLESS_READY(fx);
        opts = complete(fx, "vfiohostctl bind --");
        for (size_t i = 0; i < G_N_ELEMENTS(bind_options); i++)
                if (!has_word(opts, bind_options[i]))
                        g_error("\"bind --\" lacks %s: %s", bind_options[i], opts);
        g_assert_false(has_word(opts, "--vfs"));
        g_assert_false(has_word(opts, "--device"));
        g_assert_true(has_word(opts, "--json"));
        g_assert_true(has_word(opts, "--no-ask-password"));

        drivers = complete(fx, "vfiohostctl bind 0000:01:00.0 --driver ");
        g_assert_true(has_word(drivers, "vfio-pci"));

        color = complete(fx, "vfiohostctl --color=a");
        g_assert_cmpstr(color, ==, "--color=always --color=auto");
}

static void test_addresses(Fixture *fx, gconstpointer data) {
        g_autofree char *expected = NULL, *got = NULL, *expected_tail = NULL, *got_tail = NULL;
        g_autofree char *device = NULL;

        SKIP_UNLESS_READY(fx);
        expected = fixture_addresses(fx, "0000:0", 0, FALSE);
        g_assert_cmpstr(expected, !=, "");
        got = complete(fx, "vfiohostctl show 0000:0");
        g_assert_cmpstr(got, ==, expected);

        /* bash replaces the text after the last ':', so that is what comes back */
        expected_tail = fixture_addresses(fx, "0000:0", strlen("0000:"), FALSE);
        got_tail = complete_full(fx, "vfiohostctl show 0000:0", NULL, NULL);
        g_assert_cmpstr(got_tail, ==, expected_tail);

        /* an option's value, and only one positional argument */
        device = complete(fx, "vfiohostctl check --device 0000:0");
        g_assert_cmpstr(device, ==, expected);
        {
                g_autofree char *second = complete(fx, "vfiohostctl show 0000:01:00.0 0000:0");

                g_assert_cmpstr(second, ==, "");
        }
}

static void test_vms(Fixture *fx, gconstpointer data) {
        g_autofree char *got = NULL;

        SKIP_UNLESS_READY(fx);
        /* desktop-vfio-bound's QEMU "win11", pid 3456 (test-vms.c) */
        got = complete(fx, "vfiohostctl vm ");
        g_assert_cmpstr(got, ==, "3456 win11");
}

static void test_class(Fixture *fx, gconstpointer data) {
        g_autofree char *got = NULL;

        SKIP_UNLESS_READY(fx);
        got = complete(fx, "vfiohostctl list --class ");
        g_assert_cmpstr(got, ==, "audio gpu network storage usb");
}

static void test_pfs(Fixture *fx, gconstpointer data) {
        g_autofree char *expected = NULL, *got = NULL;

        SKIP_UNLESS_READY(fx);
        expected = fixture_addresses(fx, "", 0, TRUE);
        g_assert_cmpstr(expected, !=, "");
        got = complete(fx, "vfiohostctl vfs ");
        g_assert_cmpstr(got, ==, expected);
}

static void test_unreachable(Fixture *fx, gconstpointer data) {
        g_autofree char *socket = NULL, *address = NULL, *got = NULL, *vm = NULL;

        SKIP_UNLESS_READY(fx);
        socket = g_build_filename(fx->bus->dir, "no-such-bus", "socket", NULL);
        address = g_strdup_printf("unix:path=%s", socket);
        /* complete_full fails the test on any stderr */
        got = complete_full(fx, "vfiohostctl show 0", BREAKS_BLANKS, address);
        g_assert_cmpstr(got, ==, "");
        vm = complete_full(fx, "vfiohostctl vm ", BREAKS_BLANKS, address);
        g_assert_cmpstr(vm, ==, "");
}

static void test_zsh(void) {
        const char *file = vh_test_env("VH_ZSH_COMPLETION");
        g_autofree char *zsh = g_find_program_in_path("zsh");
        g_autofree char *dir = g_path_get_dirname(file);
        g_autofree char *out = NULL, *err = NULL;
        g_autofree char *script = NULL;
        int status = 0;

        if (!zsh) {
                g_test_skip("zsh is not installed");
                return;
        }
        {
                const char *argv[] = { zsh, "-n", file, NULL };

                g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                           &out, &err, &status, NULL));
                if (!g_spawn_check_wait_status(status, NULL))
                        g_error("zsh -n %s: %s", file, err);
                g_clear_pointer(&out, g_free);
                g_clear_pointer(&err, g_free);
        }

        /* compinit reads the #compdef line: vfiohostctl gets _vfiohostctl */
        script = g_strdup_printf("fpath=(%s $fpath); autoload -Uz compinit; compinit -u -D; "
                                 "print -r -- ${_comps[vfiohostctl]}", dir);
        {
                const char *argv[] = { zsh, "-f", "-c", script, NULL };

                g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                           &out, &err, &status, NULL));
                if (!g_spawn_check_wait_status(status, NULL))
                        g_error("compinit: %s", err);
                g_assert_cmpstr(g_strstrip(out), ==, "_vfiohostctl");
        }
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add("/completion/bash/verbs", Fixture, "desktop-vfio-bound", fixture_setup, test_verbs,
                   fixture_teardown);
        g_test_add("/completion/bash/verb-options", Fixture, "desktop-vfio-bound", fixture_setup,
                   test_verb_options, fixture_teardown);
        g_test_add("/completion/bash/addresses", Fixture, "desktop-vfio-bound", fixture_setup, test_addresses,
                   fixture_teardown);
        g_test_add("/completion/bash/vms", Fixture, "desktop-vfio-bound", fixture_setup, test_vms,
                   fixture_teardown);
        g_test_add("/completion/bash/class", Fixture, "desktop-vfio-bound", fixture_setup, test_class,
                   fixture_teardown);
        g_test_add("/completion/bash/pfs", Fixture, "server-sriov", fixture_setup, test_pfs, fixture_teardown);
        g_test_add("/completion/bash/unreachable", Fixture, "desktop-vfio-bound", fixture_setup,
                   test_unreachable, fixture_teardown);
        g_test_add_func("/completion/zsh", test_zsh);

        return g_test_run();
}
