/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl: the command-line client of vfiohostd. It talks D-Bus only;
 * everything it shows comes from the daemon (DESIGN.md, "Layers"). This
 * file holds main, the global options and the verb table. */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-macro.h"

typedef struct Verb {
        const char *name;
        unsigned min_args;              /* arguments after the verb */
        unsigned max_args;
        int (*fn)(sd_bus *bus, int argc, char **argv);
        const char *args;               /* for --help, NULL when none */
        const char *help;
} Verb;

/* The first entry is what runs when no verb is given. */
static const Verb verbs[] = {
        { "status", 0, 0, verb_status, NULL,      "Show a summary of the host (default)" },
        { "list",   0, 0, verb_list,   NULL,      "List PCI functions" },
        { "show",   1, 1, verb_show,   "ADDRESS", "Show every property of one PCI function" },
        { "groups", 0, 0, verb_groups, NULL,      "List IOMMU groups and their members" },
};

static bool arg_json = false;
static bool arg_ask_password = true;

static void help(void) {
        printf("%s [OPTIONS...] [COMMAND] [ARGS...]\n\n"
               "Query vfiohostd about the host's PCI devices and IOMMU groups.\n\n"
               "Commands:\n",
               CTL_PROGRAM_NAME);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];

                snprintf(left, sizeof(left), "%s%s%s", verbs[i].name,
                         verbs[i].args ? " " : "", strempty(verbs[i].args));
                printf("  %-22s %s\n", left, verbs[i].help);
        }

        printf("\nOptions:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --json              Print JSON only, errors included, on stdout\n"
               "     --no-ask-password   Do not ask for a password to authorize a change\n"
               "\n"
               "ADDRESS is a PCI address, DDDD:BB:DD.F (\"0000:01:00.0\") or BB:DD.F\n"
               "(\"01:00.0\", domain 0000).\n"
               "\n"
               "Exit status:\n"
               "  0  success\n"
               "  1  failure (also an invalid address, access denied, vfiohostd unreachable)\n"
               "  2  usage error\n"
               "  3  not found (org.vfiohost.Error.NotFound)\n"
               "\n"
               "With --json, an error is printed on stdout as\n"
               "  {\"error\": {\"name\": \"org.vfiohost.Error.NotFound\", \"message\": \"...\"}}\n"
               "Text output may change between versions; scripts should use --json.\n");
}

static int version(void) {
        if (arg_json) {
                struct json_object *j = json_object_new_object();

                if (!j || json_object_object_add(j, "version", json_object_new_string(VERSION)) < 0) {
                        json_object_put(j);
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                }
                return ctl_json_print(j) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_SUCCESS;
        }

        printf("%s %s\n", CTL_PROGRAM_NAME, VERSION);
        return CTL_EXIT_SUCCESS;
}

/* Returns < 0 to go on to the verb, or the exit code to stop with. Parses
 * every option before reporting a usage error, so that a --json anywhere
 * on the line decides how the error is printed. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_ASK_PASSWORD,
        };
        static const struct option options[] = {
                { "help",            no_argument, NULL, 'h'                 },
                { "version",         no_argument, NULL, ARG_VERSION         },
                { "json",            no_argument, NULL, ARG_JSON            },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        _cleanup_free_ char *bad_option = NULL;
        bool show_help = false, show_version = false;
        int c;

        /* getopt's own messages would go to stderr in --json mode. */
        opterr = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        show_help = true;
                        break;
                case ARG_VERSION:
                        show_version = true;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg_ask_password = false;
                        break;
                case '?':
                        if (!bad_option) {
                                if (optopt != 0)
                                        (void) asprintf(&bad_option, "-%c", optopt);
                                else
                                        bad_option = strdup(argv[optind - 1]);
                                if (!bad_option)
                                        bad_option = strdup("?");
                        }
                        break;
                default:
                        abort();
                }

        ctl_output_init(arg_json);

        if (bad_option)
                return ctl_report_usage("unknown option '%s'; see '%s --help'",
                                        bad_option, CTL_PROGRAM_NAME);
        if (show_help) {
                help();
                return CTL_EXIT_SUCCESS;
        }
        if (show_version)
                return version();

        return -1;
}

static int run_verb(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        static char *default_argv[] = { (char *) "status", NULL };
        const Verb *verb = NULL;
        unsigned n_args;
        int r;

        if (argc <= 0) {
                argc = 1;
                argv = default_argv;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[0], verbs[i].name) == 0) {
                        verb = &verbs[i];
                        break;
                }
        if (!verb)
                return ctl_report_usage("unknown command '%s'; see '%s --help'",
                                        argv[0], CTL_PROGRAM_NAME);

        n_args = (unsigned) argc - 1;
        if (n_args < verb->min_args)
                return ctl_report_usage("missing argument: usage: %s %s %s",
                                        CTL_PROGRAM_NAME, verb->name, strempty(verb->args));
        if (n_args > verb->max_args)
                return ctl_report_usage("too many arguments for '%s'; see '%s --help'",
                                        verb->name, CTL_PROGRAM_NAME);

        r = ctl_bus_connect(arg_ask_password, &bus, &error);
        if (r < 0)
                return ctl_report_error(&error);

        return verb->fn(bus, argc, argv);
}

int main(int argc, char *argv[]) {
        int r;

        r = parse_argv(argc, argv);
        if (r >= 0)
                return r;

        r = run_verb(argc - optind, argv + optind);

        /* A result that did not reach stdout (full disk, closed pipe) is a failure. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (errno != EPIPE)
                        fprintf(stderr, "%s: failed to write output: %m\n", CTL_PROGRAM_NAME);
                return CTL_EXIT_FAILURE;
        }

        return r;
}
