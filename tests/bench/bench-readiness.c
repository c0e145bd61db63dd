/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints how long a full readiness report takes on a fixture host (issue
 * 4's goal: under 20 ms), and the host model load it needs. A benchmark,
 * not a test: it prints figures and fails only if the report fails.
 *
 *   meson test -C build --benchmark --suite bench -v
 *   build/tests/bench/bench-readiness [HOST_TREE] [ITERATIONS]
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"
#include "vh-readiness.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static void print_stats(const char *what, double *samples, int n) {
        double sum = 0;

        qsort(samples, (size_t) n, sizeof(double), compare_doubles);
        for (int i = 0; i < n; i++)
                sum += samples[i];
        printf("%-34s n=%d  min %.3f ms  median %.3f ms  mean %.3f ms  max %.3f ms\n", what, n, samples[0],
               samples[n / 2], sum / n, samples[n - 1]);
}

int main(int argc, char *argv[]) {
        const char *data = getenv("VH_TEST_DATA");
        char root[4096];
        int iterations = argc > 2 ? atoi(argv[2]) : 200;
        double *load = NULL, *report = NULL, *device = NULL;
        VhHostFs *fs = NULL;
        VhPciNames *names = NULL;
        size_t n_checks = 0;
        int r;

        if (argc > 1)
                snprintf(root, sizeof(root), "%s", argv[1]);
        else
                snprintf(root, sizeof(root), "%s/hosts/desktop-intel", data ? data : "tests/data");
        if (iterations < 1)
                iterations = 1;

        r = vh_hostfs_new(root, &fs);
        if (r < 0) {
                fprintf(stderr, "Cannot open host tree %s: %s\n", root, strerror(-r));
                return EXIT_FAILURE;
        }
        r = vh_pci_names_new(fs, &names);
        if (r < 0)
                return EXIT_FAILURE;

        load = calloc((size_t) iterations, sizeof(double));
        report = calloc((size_t) iterations, sizeof(double));
        device = calloc((size_t) iterations, sizeof(double));
        if (!load || !report || !device)
                return EXIT_FAILURE;

        for (int i = 0; i < iterations; i++) {
                VhHost *host = NULL;
                VhReport *rep = NULL;
                double t0 = now_ms(), t1, t2;

                if (vh_host_load(fs, names, &host) < 0)
                        return EXIT_FAILURE;
                t1 = now_ms();
                if (vh_readiness_run(fs, host, NULL, &rep) < 0)
                        return EXIT_FAILURE;
                t2 = now_ms();
                n_checks = rep->n_checks;
                vh_report_free(rep);
                rep = NULL;

                /* With one device's checks added, as "check --device". */
                if (host->n_devices > 0) {
                        double t3 = now_ms();

                        if (vh_readiness_run(fs, host, host->devices[host->n_devices - 1]->address, &rep) < 0)
                                return EXIT_FAILURE;
                        device[i] = now_ms() - t3;
                        vh_report_free(rep);
                }
                load[i] = t1 - t0;
                report[i] = t2 - t1;
                vh_host_free(host);
        }

        printf("host tree: %s\n", root);
        printf("checks per host report: %zu\n", n_checks);
        print_stats("host model load (vh_host_load)", load, iterations);
        print_stats("readiness report (host checks)", report, iterations);
        print_stats("readiness report (+ one device)", device, iterations);

        free(load);
        free(report);
        free(device);
        vh_pci_names_free(names);
        vh_hostfs_free(fs);
        return EXIT_SUCCESS;
}
