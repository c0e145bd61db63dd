/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-kvm-stats.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"
#include "vh-strv.h"

static void stats_free(VhKvmStat *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(s[i].name);
        free(s);
}

static void vm_done(VhKvmStats *s) {
        stats_free(s->stats, s->n_stats);
        for (size_t j = 0; j < s->n_vcpus; j++)
                stats_free(s->vcpus[j].stats, s->vcpus[j].n_stats);
        free(s->vcpus);
}

void vh_kvm_stats_free(VhKvmStats *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                vm_done(&s[i]);
        free(s);
}

const VhKvmStat *vh_kvm_stat_find(const VhKvmStat *stats, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(stats[i].name, name) == 0)
                        return &stats[i];
        return NULL;
}

/* "N" of "<prefix>N", or -1. */
static int number_after(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        long v;

        if (strncmp(s, prefix, n) != 0 || !vh_proc_is_pid(s + n) || strlen(s + n) > 9)
                return -1;
        v = strtol(s + n, NULL, 10);
        return (int) v;
}

/* A statistic's file: "%llu\n" (or "%lld\n"). -EBADMSG for anything
 * else, such as a table. */
static int parse_value(const char *s, int64_t *ret) {
        long long v;
        char *end;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end || (*s != '-' && (*s < '0' || *s > '9')))
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int map_access(int r) {
        return r == -EPERM ? -EACCES : r;
}

/* The numbers in sys/kernel/debug/kvm/<vm>[/<sub>], skipping vcpuN/;
 * only the file called only when that is not NULL. */
static int read_stats(const VhHostFs *fs, const char *vm, const char *sub, const char *only,
                      VhKvmStat **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        VhKvmStat *stats = NULL;
        size_t n = 0;
        int r;

        if (only)
                r = vh_strv_extend(&names, only);
        else
                r = vh_hostfs_list_dir(fs, &names, VH_SYSFS_DEBUG_KVM, vm, sub, NULL);
        if (r < 0)
                return map_access(r);
        stats = calloc(vh_strv_length(names) + 1, sizeof(VhKvmStat));
        if (!stats)
                return -ENOMEM;

        STRV_FOREACH(name, names) {
                _cleanup_free_ char *text = NULL;
                int64_t v;

                if (!sub && number_after(*name, "vcpu") >= 0)
                        continue;
                if (sub)
                        r = vh_hostfs_read_string(fs, &text, VH_SYSFS_DEBUG_KVM, vm, sub, *name, NULL);
                else
                        r = vh_hostfs_read_string(fs, &text, VH_SYSFS_DEBUG_KVM, vm, *name, NULL);
                if (r == -ENOMEM) {
                        stats_free(stats, n);
                        return r;
                }
                if (r < 0 || parse_value(text, &v) < 0)
                        continue;
                stats[n].name = strdup(*name);
                if (!stats[n].name) {
                        stats_free(stats, n);
                        return -ENOMEM;
                }
                stats[n++].value = v;
        }
        /* list_dir sorts by name: so are the stats */
        *ret = stats;
        *ret_n = n;
        return 0;
}

static int compare_vcpu(const void *a, const void *b) {
        int x = ((const VhKvmVcpuStats *) a)->index, y = ((const VhKvmVcpuStats *) b)->index;

        return x < y ? -1 : x > y;
}

static int read_vm(const VhHostFs *fs, const char *vm, int fd, const char *only, VhKvmStats *ret) {
        _cleanup_strv_free_ char **names = NULL;
        VhKvmStats s = { .vm_fd = fd };
        int r;

        r = vh_hostfs_list_dir(fs, &names, VH_SYSFS_DEBUG_KVM, vm, NULL);
        if (r < 0)
                return map_access(r);
        if (!only) {
                r = read_stats(fs, vm, NULL, NULL, &s.stats, &s.n_stats);
                if (r < 0)
                        return r;
        }
        s.vcpus = calloc(vh_strv_length(names) + 1, sizeof(VhKvmVcpuStats));
        if (!s.vcpus) {
                vm_done(&s);
                return -ENOMEM;
        }
        STRV_FOREACH(name, names) {
                int index = number_after(*name, "vcpu");
                VhKvmVcpuStats *c = &s.vcpus[s.n_vcpus];

                if (index < 0)
                        continue;
                r = read_stats(fs, vm, *name, only, &c->stats, &c->n_stats);
                if (r == -ENOMEM || r == -EACCES) {
                        vm_done(&s);
                        return r;
                }
                if (r < 0)
                        continue;
                c->index = index;
                s.n_vcpus++;
        }
        if (s.n_vcpus > 1)
                qsort(s.vcpus, s.n_vcpus, sizeof(VhKvmVcpuStats), compare_vcpu);
        *ret = s;
        return 0;
}

static int compare_vm(const void *a, const void *b) {
        int x = ((const VhKvmStats *) a)->vm_fd, y = ((const VhKvmStats *) b)->vm_fd;

        return x < y ? -1 : x > y;
}

static int read_all(const VhHostFs *fs, pid_t pid, const char *only, VhKvmStats **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **top = NULL, **dirs = NULL;
        VhKvmStats *vms = NULL;
        char prefix[24];
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;

        /* an empty mount point is what an unmounted debugfs looks like */
        r = vh_hostfs_list_dir(fs, &top, VH_SYSFS_DEBUG, NULL);
        if (r == -ENOENT || (r >= 0 && !top[0]))
                return -ENOMEDIUM;
        if (r < 0)
                return map_access(r);
        r = vh_hostfs_list_dir(fs, &dirs, VH_SYSFS_DEBUG_KVM, NULL);
        if (r < 0)
                return map_access(r);

        snprintf(prefix, sizeof(prefix), "%d-", (int) pid);
        vms = calloc(vh_strv_length(dirs) + 1, sizeof(VhKvmStats));
        if (!vms)
                return -ENOMEM;
        STRV_FOREACH(dir, dirs) {
                int fd = number_after(*dir, prefix);

                if (fd < 0)
                        continue;
                r = read_vm(fs, *dir, fd, only, &vms[n]);
                if (r == -ENOMEM || r == -EACCES) {
                        vh_kvm_stats_free(vms, n);
                        return r;
                }
                /* a VM that went away meanwhile */
                if (r < 0)
                        continue;
                n++;
        }
        if (n == 0) {
                free(vms);
                return -ENOENT;
        }
        qsort(vms, n, sizeof(VhKvmStats), compare_vm);
        *ret = vms;
        *ret_n = n;
        return 0;
}

int vh_kvm_stats_read(const VhHostFs *fs, pid_t pid, VhKvmStats **ret, size_t *ret_n) {
        return read_all(fs, pid, NULL, ret, ret_n);
}

int vh_kvm_vcpu_threads(const VhHostFs *fs, pid_t pid, VhKvmStats **ret, size_t *ret_n) {
        return read_all(fs, pid, "pid", ret, ret_n);
}
