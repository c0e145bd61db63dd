/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints how long listing /proc/PID/fd and the holders scan take for a
 * process with many descriptors (a QEMU with thousands, a database with
 * 100k). Builds a host root in TMPDIR with proc/4242/fd/0..N-1 (symlinks,
 * like procfs shows them; the last one holds /dev/vfio/2). A benchmark,
 * not a test: it prints figures and fails only when a call fails or finds
 * the wrong thing.
 *
 * With --proc it reads this machine's real /proc instead (read-only, root
 * "/"): it opens DESCRIPTORS fds on /dev/null itself first (raising
 * RLIMIT_NOFILE, which needs root for 100k) and scans every process.
 *
 *   meson test -C build --benchmark --suite bench -v
 *   build/tests/bench/bench-holders [--proc] [DESCRIPTORS] [ITERATIONS]
 */

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vh-holders.h"
#include "vh-hostfs.h"
#include "vh-strv.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static int bench_tree(unsigned n, int iterations);

static int bench_real_proc(unsigned n, int iterations) {
        struct rlimit rl = { .rlim_cur = n + 64, .rlim_max = n + 64 };
        char *nodes[] = { (char *) "/dev/null", NULL };
        char fd_dir[64];
        double t, list_best = 1e30, find_best = 1e30;
        VhHostFs *fs = NULL;
        int r;

        /* Without CAP_SYS_RESOURCE the hard limit is as far as it goes. */
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
                if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max < 128)
                        return EXIT_FAILURE;
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        return EXIT_FAILURE;
                fprintf(stderr, "RLIMIT_NOFILE is %llu: using %llu descriptors\n",
                        (unsigned long long) rl.rlim_max, (unsigned long long) rl.rlim_max - 64);
                n = (unsigned) rl.rlim_max - 64;
        }
        for (unsigned i = 0; i < n; i++)
                if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) {
                        perror("/dev/null");
                        return EXIT_FAILURE;
                }

        r = vh_hostfs_new("/", &fs);
        if (r < 0)
                return EXIT_FAILURE;
        /* the real host: never a write */
        vh_hostfs_set_read_only(fs, true);
        snprintf(fd_dir, sizeof(fd_dir), "proc/%d/fd", (int) getpid());

        for (int i = 0; i < iterations; i++) {
                char **l = NULL;
                VhHolder *h = NULL;
                size_t n_h = 0;

                t = now_ms();
                r = vh_hostfs_list_dir(fs, &l, fd_dir, NULL);
                t = now_ms() - t;
                vh_strv_free(l);
                if (r < 0)
                        break;
                if (t < list_best)
                        list_best = t;

                t = now_ms();
                r = vh_holders_find(fs, nodes, &h, &n_h);
                t = now_ms() - t;
                vh_holders_free(h, n_h);
                if (r < 0)
                        break;
                if (t < find_best)
                        find_best = t;
        }
        vh_hostfs_free(fs);
        if (r < 0) {
                fprintf(stderr, "bench-holders: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        printf("real /proc: vh_hostfs_list_dir /proc/self/fd with %u+ entries: best of %d %.1f ms\n", n, iterations, list_best);
        printf("real /proc: vh_holders_find over every process:          best of %d %.1f ms\n", iterations, find_best);
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        bool real_proc = argc > 1 && strcmp(argv[1], "--proc") == 0;
        unsigned n;
        int iterations;

        if (real_proc) {
                argv++;
                argc--;
        }
        n = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 100000;
        iterations = argc > 2 ? atoi(argv[2]) : 3;
        if (real_proc)
                return bench_real_proc(n ? n : 1, iterations > 0 ? iterations : 1);
        return bench_tree(n, iterations);
}

static int bench_tree(unsigned n, int iterations) {
        const char *tmp = getenv("TMPDIR");
        char root[2048], fd_dir[2100], path[2200];
        char *nodes[] = { (char *) "/dev/vfio/2", NULL };
        double t, list_best = 1e30, find_best = 1e30;
        VhHostFs *fs = NULL;
        int r = 0;

        if (n < 1)
                n = 1;
        if (iterations < 1)
                iterations = 1;

        snprintf(root, sizeof(root), "%s/vh-bench-holders-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(root)) {
                perror("mkdtemp");
                return EXIT_FAILURE;
        }
        snprintf(fd_dir, sizeof(fd_dir), "%s/proc", root);
        mkdir(fd_dir, 0755);
        snprintf(fd_dir, sizeof(fd_dir), "%s/proc/4242", root);
        mkdir(fd_dir, 0755);
        snprintf(path, sizeof(path), "%s/comm", fd_dir);
        {
                FILE *f = fopen(path, "we");
                if (!f || fputs("qemu-system-x86\n", f) < 0 || fclose(f) != 0) {
                        perror(path);
                        return EXIT_FAILURE;
                }
        }
        snprintf(fd_dir, sizeof(fd_dir), "%s/proc/4242/fd", root);
        mkdir(fd_dir, 0755);

        t = now_ms();
        for (unsigned i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%u", fd_dir, i);
                if (symlink(i + 1 == n ? "/dev/vfio/2" : "anon_inode:[eventfd]", path) < 0) {
                        perror(path);
                        r = -errno;
                        goto out;
                }
        }
        printf("created %u descriptor links in %.0f ms\n", n, now_ms() - t);

        r = vh_hostfs_new(root, &fs);
        if (r < 0)
                goto out;
        vh_hostfs_set_read_only(fs, true);

        for (int i = 0; i < iterations; i++) {
                char **l = NULL;
                VhHolder *h = NULL;
                size_t n_h = 0;

                t = now_ms();
                r = vh_hostfs_list_dir(fs, &l, "proc/4242/fd", NULL);
                t = now_ms() - t;
                if (r < 0)
                        goto out;
                if (vh_strv_length(l) != n) {
                        fprintf(stderr, "listed %zu entries, expected %u\n", vh_strv_length(l), n);
                        r = -EIO;
                }
                vh_strv_free(l);
                if (r < 0)
                        goto out;
                if (t < list_best)
                        list_best = t;

                t = now_ms();
                r = vh_holders_find(fs, nodes, &h, &n_h);
                t = now_ms() - t;
                if (r < 0)
                        goto out;
                if (n_h != 1 || h[0].pid != 4242) {
                        fprintf(stderr, "found %zu holders, expected pid 4242\n", n_h);
                        r = -EIO;
                }
                vh_holders_free(h, n_h);
                if (r < 0)
                        goto out;
                if (t < find_best)
                        find_best = t;
        }

        printf("vh_hostfs_list_dir  proc/PID/fd with %u entries: best of %d %.1f ms\n", n, iterations, list_best);
        printf("vh_holders_find     one process with %u fds:     best of %d %.1f ms\n", n, iterations, find_best);

out:
        vh_hostfs_free(fs);
        /* only what mkdtemp made above */
        nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (r < 0) {
                fprintf(stderr, "bench-holders: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
