/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "vh-daemon.h"
#include "vh-hostfs.h"
#include "vh-log.h"
#include "vh-macro.h"

static void help(void) {
        printf("vfiohostd [OPTIONS...]\n\n"
               "Serves the host's PCI devices and IOMMU groups on the system bus as %s.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --root=DIR             Read /sys, /proc, /dev, /boot beneath DIR (default: /)\n"
               "     --read-only            Never write to the host; refuse every change\n"
               "     --idle-timeout=SEC     Exit after SEC seconds without callers (0: never)\n"
               "     --no-idle-exit         Same as --idle-timeout=0\n"
               "     --log-level=LEVEL      err, warning, notice, info (default), debug\n"
               "     --state-dir=DIR        Journal directory beneath the root (default: /var/lib/vfiohost)\n"
               "     --write-timeout=SEC    Give up on a sysfs write after SEC seconds (default: 10)\n"
               "\n"
               "When bus-activated (DBUS_STARTER_BUS_TYPE or INVOCATION_ID set) it exits\n"
               "after %d s idle; otherwise it runs until SIGTERM/SIGINT.\n"
               "VFIOHOST_LOG_LEVEL sets the log level as --log-level does.\n"
               "See vfiohostd(8).\n",
               "org.vfiohost", DEFAULT_IDLE_TIMEOUT_SEC);
        /* The VFIOHOST_TEST_* variables are for the test suite only
         * (docs/testing.md): not advertised to users. */
}

/* Started by dbus-daemon directly, or by systemd: the unit has no
 * [Install] section, so systemd starts it only when the bus asks. */
static bool started_by_activation(void) {
        return getenv("DBUS_STARTER_BUS_TYPE") || getenv("INVOCATION_ID");
}

static int parse_seconds(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end || *s == '-' || v > UINT64_MAX / 1000000)
                return -EINVAL;
        *ret = v * 1000000;
        return 0;
}

int main(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_ROOT,
                ARG_READ_ONLY,
                ARG_IDLE_TIMEOUT,
                ARG_NO_IDLE_EXIT,
                ARG_LOG_LEVEL,
                ARG_STATE_DIR,
                ARG_WRITE_TIMEOUT,
        };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'              },
                { "version",      no_argument,       NULL, ARG_VERSION      },
                { "root",         required_argument, NULL, ARG_ROOT         },
                { "read-only",    no_argument,       NULL, ARG_READ_ONLY    },
                { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "no-idle-exit", no_argument,       NULL, ARG_NO_IDLE_EXIT },
                { "log-level",    required_argument, NULL, ARG_LOG_LEVEL    },
                { "state-dir",    required_argument, NULL, ARG_STATE_DIR    },
                { "write-timeout", required_argument, NULL, ARG_WRITE_TIMEOUT },
                {}
        };
        _cleanup_(vh_daemon_freep) VhDaemon *daemon = NULL;
        VhDaemonOptions opts = {
                .root = "/",
                .idle_timeout_usec = started_by_activation() ? (uint64_t) DEFAULT_IDLE_TIMEOUT_SEC * 1000000 : 0,
        };
        const char *e;
        int c, r;

        vh_log_set_program("vfiohostd");
        e = getenv("VFIOHOST_LOG_LEVEL");
        if (e && vh_log_level_from_string(e) >= 0)
                vh_log_set_max_level(vh_log_level_from_string(e));

        /* Our own messages for unknown options, with the hint getopt lacks. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("vfiohostd %s\n", VERSION);
                        return EXIT_SUCCESS;
                case ARG_ROOT:
                        opts.root = optarg;
                        break;
                case ARG_READ_ONLY:
                        opts.read_only = true;
                        break;
                case ARG_IDLE_TIMEOUT:
                        if (parse_seconds(optarg, &opts.idle_timeout_usec) < 0) {
                                log_error("Invalid --idle-timeout value '%s': expected seconds.", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_NO_IDLE_EXIT:
                        opts.idle_timeout_usec = 0;
                        break;
                case ARG_LOG_LEVEL:
                        r = vh_log_level_from_string(optarg);
                        if (r < 0) {
                                log_error("Invalid --log-level '%s': expected err, warning, notice, info or debug.", optarg);
                                return EXIT_FAILURE;
                        }
                        vh_log_set_max_level(r);
                        break;
                case ARG_STATE_DIR:
                        opts.state_dir = vh_hostfs_relative(optarg);
                        if (!opts.state_dir) {
                                log_error("Invalid --state-dir '%s'.", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_WRITE_TIMEOUT:
                        if (parse_seconds(optarg, &opts.write_timeout_usec) < 0 || opts.write_timeout_usec == 0) {
                                log_error("Invalid --write-timeout value '%s': expected seconds > 0.", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case ':':
                        log_error("Option '%s' needs a value; see 'vfiohostd --help'.", argv[optind - 1]);
                        return EXIT_FAILURE;
                case '?':
                        if (optopt > 0 && optopt < 0x80 && strncmp(argv[optind - 1], "--", 2) != 0)
                                log_error("Unknown option '-%c'; see 'vfiohostd --help'.", optopt);
                        else if (optopt > 0)
                                log_error("Option '%s' takes no value; see 'vfiohostd --help'.", argv[optind - 1]);
                        else
                                log_error("Unknown option '%s'; see 'vfiohostd --help'.", argv[optind - 1]);
                        return EXIT_FAILURE;
                default:
                        abort();
                }

        if (optind < argc) {
                log_error("Unexpected argument '%s'; see --help.", argv[optind]);
                return EXIT_FAILURE;
        }

        opts.faults = getenv("VFIOHOST_TEST_FAULTS");

        /* Fixed thresholds: glibc raises both the first time it frees a
         * large buffer (a GetManagedObjects reply), and from then on keeps
         * each reply in the heap after it is sent: at 4,096 functions,
         * 10 MB more RSS after the first listings. Fixed, a reply over
         * 128 KiB is mapped on its own and unmapped once sent. */
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        (void) mallopt(M_TRIM_THRESHOLD, 128 * 1024);

        r = vh_daemon_new(&opts, &daemon);
        if (r < 0)
                return EXIT_FAILURE;

        r = vh_daemon_run(daemon);
        return r < 0 ? EXIT_FAILURE : r;
}
