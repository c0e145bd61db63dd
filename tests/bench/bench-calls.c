/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Synchronous calls per second to one member of a service on the system
 * bus of DBUS_SYSTEM_BUS_ADDRESS (issue 14, docs/performance.md): the
 * daemon's figure against bench-noop-service's, the same members at the
 * same paths. libsystemd only; one connection, K calls in a row, each
 * waiting for its reply, so the figure is a round trip through
 * dbus-daemon and the service, without process spawns.
 *
 *   bench-calls [-n K] [-r REPS] DEST PATH INTERFACE MEMBER [SIGNATURE [ARG...]]
 *
 * SIGNATURE is made of s, o, g (ARG as is), u, i, t, x, q, n, y (ARG a
 * number) and b (ARG true/false/1/0). K defaults to 10000, REPS to 5. Prints
 * one line:
 *   calls_per_s MEDIAN min MIN max MAX calls K reps REPS
 * (median, lowest and highest of the REPS repetitions). Exits 1 when a call
 * fails (its error is printed), 2 on bad arguments. For instance:
 *
 *   bench-calls org.vfiohost /org/vfiohost/device/_30000_3a00_3a00_2e0 \
 *           org.freedesktop.DBus.Properties Get ss org.vfiohost.Device1 Address
 *   bench-calls org.vfiohost /org/vfiohost org.vfiohost.Manager1 GetDevice s 0000:00:00.0
 *
 * (N = 100 generated hosts have a function 0000:00:00.0, the host bridge.)
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static int append_arg(sd_bus_message *m, char type, const char *arg) {
        char *end = NULL;

        switch (type) {
        case 's': case 'o': case 'g':
                return sd_bus_message_append_basic(m, type, arg);
        case 'b': {
                int b;

                if (strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
                        b = 1;
                else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
                        b = 0;
                else
                        return -EINVAL;
                return sd_bus_message_append_basic(m, 'b', &b);
        }
        case 'y': case 'q': case 'u': case 't': {
                unsigned long long v;
                uint8_t y;
                uint16_t q;
                uint32_t u;
                uint64_t t;

                errno = 0;
                v = strtoull(arg, &end, 0);
                if (errno != 0 || end == arg || *end)
                        return -EINVAL;
                y = (uint8_t) v, q = (uint16_t) v, u = (uint32_t) v, t = v;
                return sd_bus_message_append_basic(m, type, type == 'y' ? (void *) &y : type == 'q' ? (void *) &q :
                                                   type == 'u' ? (void *) &u : (void *) &t);
        }
        case 'n': case 'i': case 'x': {
                long long v;
                int16_t n;
                int32_t i;
                int64_t x;

                errno = 0;
                v = strtoll(arg, &end, 0);
                if (errno != 0 || end == arg || *end)
                        return -EINVAL;
                n = (int16_t) v, i = (int32_t) v, x = v;
                return sd_bus_message_append_basic(m, type, type == 'n' ? (void *) &n : type == 'i' ? (void *) &i : (void *) &x);
        }
        default:
                return -EINVAL;
        }
}

static void usage(const char *argv0) {
        fprintf(stderr, "usage: %s [-n CALLS] [-r REPS] DEST PATH INTERFACE MEMBER [SIGNATURE [ARG...]]\n", argv0);
}

int main(int argc, char *argv[]) {
        const char *dest, *path, *interface, *member, *signature = "";
        char **args;
        long calls = 10000, reps = 5;
        sd_bus_message *call = NULL;
        sd_bus *bus = NULL;
        double *rates = NULL;
        int opt, r, ret = EXIT_FAILURE;

        while ((opt = getopt(argc, argv, "+n:r:h")) != -1) {
                switch (opt) {
                case 'n':
                        calls = strtol(optarg, NULL, 10);
                        break;
                case 'r':
                        reps = strtol(optarg, NULL, 10);
                        break;
                default:
                        usage(argv[0]);
                        return opt == 'h' ? EXIT_SUCCESS : 2;
                }
        }
        if (argc - optind < 4 || calls < 1 || reps < 1) {
                usage(argv[0]);
                return 2;
        }
        dest = argv[optind];
        path = argv[optind + 1];
        interface = argv[optind + 2];
        member = argv[optind + 3];
        if (argc - optind > 4)
                signature = argv[optind + 4];
        args = argv + optind + 5;
        if (argc - optind > 4 && (long) strlen(signature) != (long) (argc - optind - 5)) {
                fprintf(stderr, "%s: SIGNATURE '%s' needs %zu arguments\n", argv[0], signature, strlen(signature));
                return 2;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "system bus: %s\n", strerror(-r));
                goto out;
        }

        /* One message, sent again each time: the figure is the round trip,
         * not the building of a call. sd_bus_call() seals it the first time;
         * a sealed message is sent again with a new serial. */
        r = sd_bus_message_new_method_call(bus, &call, dest, path, interface, member);
        for (size_t i = 0; r >= 0 && signature[i]; i++) {
                r = append_arg(call, signature[i], args[i]);
                if (r == -EINVAL) {
                        fprintf(stderr, "%s: argument %zu '%s' is not of type %c\n", argv[0], i + 1, args[i], signature[i]);
                        ret = 2;
                        goto out;
                }
        }
        if (r < 0) {
                fprintf(stderr, "building the call: %s\n", strerror(-r));
                goto out;
        }

        rates = calloc((size_t) reps, sizeof(double));
        if (!rates)
                goto out;

        for (long rep = 0; rep < reps; rep++) {
                double start = now_s();

                for (long k = 0; k < calls; k++) {
                        sd_bus_error error = SD_BUS_ERROR_NULL;
                        sd_bus_message *reply = NULL;

                        r = sd_bus_call(bus, call, 0, &error, &reply);
                        sd_bus_message_unref(reply);
                        if (r < 0) {
                                fprintf(stderr, "%s.%s on %s %s: %s\n", interface, member, dest, path,
                                        error.message ?: strerror(-r));
                                sd_bus_error_free(&error);
                                goto out;
                        }
                }
                rates[rep] = (double) calls / (now_s() - start);
        }

        qsort(rates, (size_t) reps, sizeof(double), cmp_double);
        printf("calls_per_s %.0f min %.0f max %.0f calls %ld reps %ld\n",
               reps % 2 ? rates[reps / 2] : (rates[reps / 2 - 1] + rates[reps / 2]) / 2,
               rates[0], rates[reps - 1], calls, reps);
        ret = EXIT_SUCCESS;

out:
        free(rates);
        sd_bus_message_unref(call);
        sd_bus_flush_close_unref(bus);
        return ret;
}
