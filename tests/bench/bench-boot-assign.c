/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints what boot-time assignment costs per PCI function (udev runs the
 * helper for every one at boot when assignments exist), against building
 * the whole host model, which it avoids. A benchmark, not a test.
 *
 *   build/tests/bench/bench-boot-assign HOST_TREE ITERATIONS
 *
 * It writes (driver_override, drivers_probe, run/vfiohost/boot), so it
 * works on a copy of HOST_TREE in TMPDIR, removed afterwards. The first
 * function of the host gets a group assignment (the rest are looked up
 * and left alone, like most functions at boot). */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vh-assignments.h"
#include "vh-boot-assign.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int run(const char *cmd) {
        int r = system(cmd);

        return r == 0 ? 0 : -1;
}

int main(int argc, char *argv[]) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        char copy[PATH_MAX], cmd[3 * PATH_MAX];
        int iterations = argc > 2 ? atoi(argv[2]) : 100;
        VhHostFs *fs = NULL;
        VhHost *host = NULL;
        VhAssignments a = {};
        VhAssignment e = { .driver = (char *) "vfio-pci", .group = true };
        double t0, boot_ms, load_ms;
        int r = EXIT_FAILURE;

        if (argc < 2 || iterations < 1) {
                fprintf(stderr, "usage: %s HOST_TREE [ITERATIONS]\n", argv[0]);
                return EXIT_FAILURE;
        }
        snprintf(copy, sizeof(copy), "%s/vh-bench-boot-XXXXXX", tmp);
        if (!mkdtemp(copy))
                return EXIT_FAILURE;
        snprintf(cmd, sizeof(cmd), "cp -a -- '%s/.' '%s'", argv[1], copy);
        if (run(cmd) < 0 || vh_hostfs_new(copy, &fs) < 0 || vh_host_load(fs, NULL, &host) < 0 || host->n_devices == 0)
                goto finish;

        snprintf(e.address, sizeof(e.address), "%s", host->devices[host->n_devices - 1]->address);
        vh_identity_read(fs, host->devices[host->n_devices - 1], &e.identity);
        a.entries = &e;
        a.n = 1;
        if (vh_assignments_save(fs, "var/lib/vfiohost", &a) < 0)
                goto finish;

        t0 = now_ms();
        for (int i = 0; i < iterations; i++)
                for (size_t j = 0; j < host->n_devices; j++) {
                        VhBootAssignResult res;

                        (void) vh_boot_assign(fs, "var/lib/vfiohost", host->devices[j]->address, &res);
                        vh_boot_assign_result_done(&res);
                }
        boot_ms = (now_ms() - t0) / iterations / (double) host->n_devices;

        t0 = now_ms();
        for (int i = 0; i < iterations; i++) {
                VhHost *h = NULL;

                if (vh_host_load(fs, NULL, &h) < 0)
                        goto finish;
                vh_host_free(h);
        }
        load_ms = (now_ms() - t0) / iterations;

        printf("%s: %zu functions; vh_boot_assign %.3f ms per function; vh_host_load %.3f ms per load "
               "(what each event would cost with the whole model)\n",
               argv[1], host->n_devices, boot_ms, load_ms);
        r = EXIT_SUCCESS;
finish:
        vh_host_free(host);
        vh_hostfs_free(fs);
        /* Only the copy made above. */
        if (strstr(copy, "/vh-bench-boot-")) {
                snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", copy);
                (void) run(cmd);
        }
        return r;
}
