/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfiohost-udev-assign: run by 70-vfiohost.rules (IMPORT{program}) on a PCI
 * function's "add" event; applies its persistent assignment before a host
 * driver loads and tells the rule what is left to do (docs/boot.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "vh-boot-assign.h"
#include "vh-journal.h"
#include "vh-log.h"
#include "vh-macro.h"

#define PROGRAM "vfiohost-udev-assign"

static void help(void) {
        printf(PROGRAM " [OPTIONS...] ADDRESS\n\n"
               "Applies the persistent assignment of the PCI function at ADDRESS on its udev\n"
               "\"add\" event and prints KEY=value lines for udev's IMPORT{program}:\n"
               "VFIOHOST_ASSIGNMENT, VFIOHOST_ASSIGNMENT_NAME, VFIOHOST_DRIVER.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --root=DIR          Read and write /sys, /proc, /run beneath DIR (default: /)\n"
               "     --state-dir=DIR     Assignments directory beneath the root (default: /var/lib/vfiohost)\n");
}

int main(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_ROOT,
                ARG_STATE_DIR,
        };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "version",   no_argument,       NULL, ARG_VERSION   },
                { "root",      required_argument, NULL, ARG_ROOT      },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {}
        };
        _cleanup_(vh_hostfs_freep) VhHostFs *fs = NULL;
        _cleanup_(vh_boot_assign_result_done) VhBootAssignResult result = {};
        const char *root = "/", *state_dir = VH_JOURNAL_DEFAULT_DIR;
        int c, r;

        vh_log_set_program(PROGRAM);
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf(PROGRAM " %s\n", VERSION);
                        return EXIT_SUCCESS;
                case ARG_ROOT:
                        root = optarg;
                        break;
                case ARG_STATE_DIR:
                        state_dir = vh_hostfs_relative(optarg);
                        if (!state_dir) {
                                log_error("Invalid --state-dir '%s'.", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case '?':
                        return EXIT_FAILURE;
                default:
                        abort();
                }
        if (argc - optind != 1) {
                log_error("Expected one PCI address; see --help.");
                return EXIT_FAILURE;
        }

        r = vh_hostfs_new(root, &fs);
        if (r < 0) {
                log_error_errno(r, "Cannot use the root %s: %m", root);
                return EXIT_FAILURE;
        }
        /* udev throws a program's stderr away unless it debugs: what was
         * written, mismatches and errors go to syslog, which is the journal
         * wherever journald runs. Beneath another root (tests, a recorded
         * host) only to stderr, so as not to fill the host's journal. */
        if (vh_hostfs_is_host_root(fs)) {
                openlog(PROGRAM, LOG_PID, LOG_DAEMON);
                vh_log_set_syslog(true);
        }

        (void) vh_boot_assign(fs, state_dir, argv[optind], &result);

        /* Printed whatever happened: the rule matches on the result. */
        printf("VFIOHOST_ASSIGNMENT=%s\n", vh_boot_assign_state_to_string(result.state));
        if (result.name)
                printf("VFIOHOST_ASSIGNMENT_NAME=%s\n", result.name);
        if (result.driver)
                printf("VFIOHOST_DRIVER=%s\n", result.driver);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
