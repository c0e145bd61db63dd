/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints what a full vh_vms_scan costs (and vh_vcpus_read for each VM it
 * finds) on a host tree, and on this machine's real /proc when ROOT is "/"
 * (read-only: the fs is set read-only and the scan only reads). A
 * benchmark, not a test: it prints figures and fails only when a call
 * fails.
 *
 *   meson test -C build --benchmark --suite bench -v
 *   build/tests/bench/bench-vms ROOT [ITERATIONS]
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vh-hostfs.h"
#include "vh-names.h"
#include "vh-strv.h"
#include "vh-vcpus.h"
#include "vh-vms.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

int main(int argc, char *argv[]) {
        const char *root = argc > 1 ? argv[1] : NULL;
        int iterations = argc > 2 ? atoi(argv[2]) : 50;
        double scan_best = 1e30, scan_total = 0, vcpus_best = 1e30;
        size_t n_proc = 0, n_found = 0, n_vcpus = 0;
        char **pids = NULL;
        VhHostFs *fs = NULL;
        int r;

        if (!root) {
                fprintf(stderr, "usage: bench-vms ROOT [ITERATIONS]\n");
                return EXIT_FAILURE;
        }
        if (iterations < 1)
                iterations = 1;
        r = vh_hostfs_new(root, &fs);
        if (r < 0) {
                fprintf(stderr, "bench-vms: %s: %s\n", root, strerror(-r));
                return EXIT_FAILURE;
        }
        /* the real host above all: never a write */
        vh_hostfs_set_read_only(fs, true);

        if (vh_hostfs_list_dir(fs, &pids, VH_PROC, NULL) >= 0)
                for (char **p = pids; *p; p++)
                        n_proc += strspn(*p, "0123456789") == strlen(*p);
        vh_strv_free(pids);

        for (int i = 0; i < iterations; i++) {
                VhVm *v = NULL;
                size_t n = 0;
                double t = now_ms(), dt;

                r = vh_vms_scan(fs, &v, &n);
                dt = now_ms() - t;
                if (r < 0) {
                        fprintf(stderr, "bench-vms: scan: %s\n", strerror(-r));
                        vh_hostfs_free(fs);
                        return EXIT_FAILURE;
                }
                scan_total += dt;
                if (dt < scan_best)
                        scan_best = dt;
                n_found = n;

                /* the vCPUs of every VM the scan found, once per iteration */
                t = now_ms();
                n_vcpus = 0;
                for (size_t j = 0; j < n; j++) {
                        VhVcpu *c = NULL;
                        size_t m = 0;

                        if (!v[j].is_vm || vh_vcpus_read(fs, v[j].pid, &c, &m) < 0)
                                continue;
                        n_vcpus += m;
                        vh_vcpus_free(c, m);
                }
                dt = now_ms() - t;
                if (dt < vcpus_best)
                        vcpus_best = dt;
                if (i == 0)
                        for (size_t j = 0; j < n; j++)
                                printf("  pid %d %s%s%s: %s, %u vCPU fds, %zu devices, %zu groups\n", (int) v[j].pid,
                                       v[j].vmm, v[j].name ? " " : "", v[j].name ? v[j].name : "",
                                       v[j].is_vm ? "VM" : "not a VM", v[j].vcpus, vh_strv_length(v[j].devices),
                                       v[j].n_groups);
                vh_vms_free(v, n);
        }
        vh_hostfs_free(fs);

        printf("%s: %zu processes, %zu holding KVM or VFIO, %zu vCPU threads\n", root, n_proc, n_found, n_vcpus);
        printf("%s: vh_vms_scan best of %d %.3f ms, mean %.3f ms\n", root, iterations, scan_best,
               scan_total / iterations);
        printf("%s: vh_vcpus_read for those VMs best of %d %.3f ms\n", root, iterations, vcpus_best);
        return EXIT_SUCCESS;
}
