/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-kvm-stats.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"
#include "vh-setup-specs.h"
#include "vh-strv.h"
#include "vh-vcpus.h"

void vh_vcpus_free(VhVcpu *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].thread_name);
                free(v[i].allowed_cpus);
        }
        free(v);
}

/* Decimal digits (at most 9, so it fits an int) at s, ending where suffix
 * ends the name. */
static int index_between(const char *s, const char *prefix, const char *suffix) {
        size_t p = strlen(prefix), digits;

        if (strncmp(s, prefix, p) != 0)
                return -1;
        s += p;
        digits = strspn(s, "0123456789");
        if (digits == 0 || digits > 9 || strcmp(s + digits, suffix) != 0)
                return -1;
        return (int) strtol(s, NULL, 10);
}

int vh_vcpu_index_from_name(const char *name) {
        static const struct {
                const char *prefix, *suffix;
        } names[] = {
                { "CPU ", "/KVM" },             /* QEMU */
                { "vcpu", "" },                 /* Cloud Hypervisor */
                { "fc_vcpu ", "" },             /* Firecracker */
                { "fc_vcpu", "" },              /* early Firecracker */
                { "crosvm_vcpu", "" },          /* crosvm */
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int index = index_between(name, names[i].prefix, names[i].suffix);

                if (index >= 0)
                        return index;
        }
        return -1;
}

/* debugfs's vcpuN/pid: which thread is which vCPU, where root can read it. */
static int debugfs_index(const VhKvmStats *vms, size_t n, pid_t tid) {
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < vms[i].n_vcpus; j++) {
                        const VhKvmStat *s = vh_kvm_stat_find(vms[i].vcpus[j].stats, vms[i].vcpus[j].n_stats, "pid");

                        if (s && s->value == tid)
                                return vms[i].vcpus[j].index;
                }
        return -1;
}

static void read_schedstat(const VhHostFs *fs, const char *pid, const char *tid, VhVcpu *v) {
        _cleanup_free_ char *text = NULL;
        unsigned long long run, wait, slices;
        char end;

        if (vh_hostfs_read_string(fs, &text, VH_PROC, pid, "task", tid, "schedstat", NULL) < 0 ||
            sscanf(text, "%llu %llu %llu%c", &run, &wait, &slices, &end) != 3)
                return;
        v->has_schedstat = true;
        v->run_time_ns = run;
        v->wait_time_ns = wait;
        v->timeslices = slices;
}

/* 0 and *ret filled, or -ENOENT when the thread went away. */
static int read_vcpu(const VhHostFs *fs, const char *pid, const char *tid, int index,
                     const VhCpuSet *online, char *name, VhVcpu *ret) {
        _cleanup_free_ char *status = NULL, *allowed = NULL;
        VhProcStat st;
        VhCpuSet set;
        bool pinned;
        int r;

        r = vh_proc_stat_read(fs, pid, tid, &st);
        if (r < 0)
                return -ENOENT;
        if (vh_hostfs_read_file(fs, &status, NULL, VH_PROC, pid, "task", tid, "status", NULL) < 0 ||
            vh_proc_status_value(status, "Cpus_allowed_list", &allowed) < 0) {
                allowed = strdup("");
                if (!allowed)
                        return -ENOMEM;
        }

        /* an initializer's order is unspecified: nothing in it may take allowed */
        pinned = online && *allowed && vh_cpuset_parse(allowed, &set) >= 0 && !vh_cpuset_is_subset(online, &set, NULL);
        *ret = (VhVcpu) {
                .index = index,
                .tid = (pid_t) strtol(tid, NULL, 10),
                .state = st.state,
                .last_cpu = st.processor,
                .cpu_time_usec = vh_proc_ticks_to_usec(st.utime + st.stime),
                .guest_time_usec = vh_proc_ticks_to_usec(st.guest_time),
                .pinned = pinned,
                .thread_name = name,
        };
        ret->allowed_cpus = TAKE_PTR(allowed);
        read_schedstat(fs, pid, tid, ret);
        return 0;
}

static int compare_vcpu(const void *a, const void *b) {
        const VhVcpu *x = a, *y = b;

        if (x->index != y->index)
                return x->index < y->index ? -1 : 1;
        return x->tid < y->tid ? -1 : x->tid > y->tid;
}

int vh_vcpus_read(const VhHostFs *fs, pid_t pid, VhVcpu **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **tids = NULL;
        _cleanup_free_ char *online_text = NULL;
        VhKvmStats *vms = NULL;
        size_t n_vms = 0, n = 0;
        VhCpuSet online;
        bool have_online;
        char name[16];
        VhVcpu *v;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (pid <= 0)
                return -EINVAL;
        snprintf(name, sizeof(name), "%d", (int) pid);

        r = vh_hostfs_list_dir(fs, &tids, VH_PROC, name, "task", NULL);
        if (r < 0)
                return r;
        v = calloc(vh_strv_length(tids) + 1, sizeof(VhVcpu));
        if (!v)
                return -ENOMEM;

        /* which thread is which vCPU, where names do not say (root only) */
        if (vh_kvm_vcpu_threads(fs, pid, &vms, &n_vms) < 0)
                n_vms = 0;
        have_online = vh_hostfs_read_string(fs, &online_text, VH_SYSFS_CPU_ONLINE, NULL) >= 0 &&
                      vh_cpuset_parse(online_text, &online) >= 0;

        STRV_FOREACH(tid, tids) {
                _cleanup_free_ char *comm = NULL;
                int index;

                if (!vh_proc_is_pid(*tid) ||
                    vh_hostfs_read_string(fs, &comm, VH_PROC, name, "task", *tid, "comm", NULL) < 0)
                        continue;
                index = vh_vcpu_index_from_name(comm);
                if (index < 0)
                        index = debugfs_index(vms, n_vms, (pid_t) strtol(*tid, NULL, 10));
                if (index < 0)
                        continue;

                r = read_vcpu(fs, name, *tid, index, have_online ? &online : NULL, comm, &v[n]);
                if (r == -ENOMEM) {
                        vh_kvm_stats_free(vms, n_vms);
                        vh_vcpus_free(v, n);
                        return r;
                }
                if (r < 0)
                        continue;
                comm = NULL;            /* v[n] owns it */
                n++;
        }
        vh_kvm_stats_free(vms, n_vms);

        if (n == 0) {
                free(v);
                return 0;
        }
        qsort(v, n, sizeof(VhVcpu), compare_vcpu);
        *ret = v;
        *ret_n = n;
        return 0;
}
