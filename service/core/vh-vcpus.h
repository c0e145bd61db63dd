/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vh-hostfs.h"

/* A VM's vCPU threads, from proc/PID/task beneath the root (docs/vms.md).
 * A thread is a vCPU when its name is one a VMM gives its vCPU threads:
 *   QEMU             "CPU 3/KVM"    (accel/kvm/kvm-accel-ops.c, with
 *                                    -name debug-threads=on, which libvirt
 *                                    always sets: without it every thread
 *                                    has the process's name)
 *   Cloud Hypervisor "vcpu3"        (vmm/src/cpu.rs)
 *   Firecracker      "fc_vcpu 3"    (its vCPU thread builder; "fc_vcpu3" in
 *                                    early releases)
 *   crosvm           "crosvm_vcpu3"
 * or when KVM's debugfs names it (kvm/<pid>-<fd>/vcpuN/pid, root only),
 * which also finds the vCPUs of a QEMU without debug-threads.
 *
 * "When did it last run" has no answer in /proc: a thread's stat says the
 * CPU it last ran on, not when. What there is: schedstat's cumulative run
 * time, wait time and timeslice count (a caller that reads twice sees
 * whether it ran in between), cpu_time_usec and guest_time_usec, and
 * state ('R' running or runnable now). */

typedef struct VhVcpu {
        int index;                      /* the vCPU's number from its name or debugfs */
        pid_t tid;
        char *thread_name;              /* task/TID/comm */
        char state;                     /* stat field 3: 'R', 'S', 'D', ... */
        int last_cpu;                   /* stat field 39 ("processor") */
        uint64_t cpu_time_usec;         /* utime + stime (fields 14, 15); utime includes guest time */
        uint64_t guest_time_usec;       /* field 43: time spent running the guest */
        char *allowed_cpus;             /* status "Cpus_allowed_list:" ("2-3"); "" when unreadable */
        /* Its allowed CPUs leave out some online CPU
         * (sys/devices/system/cpu/online); false when either is unknown. */
        bool pinned;
        bool has_schedstat;             /* task/TID/schedstat read (CONFIG_SCHED_INFO) */
        uint64_t run_time_ns;           /* schedstat 1: time on a CPU */
        uint64_t wait_time_ns;          /* schedstat 2: time runnable, waiting for a CPU */
        uint64_t timeslices;            /* schedstat 3: times it was put on a CPU */
} VhVcpu;

void vh_vcpus_free(VhVcpu *v, size_t n);

/* The vCPU threads of process pid, sorted by index, then tid; none (0,
 * NULL) for a process that has none. -ENOENT when the process is gone.
 * Threads that exit meanwhile are left out. */
int vh_vcpus_read(const VhHostFs *fs, pid_t pid, VhVcpu **ret, size_t *ret_n);

/* The vCPU number in one of the thread names above, or -1. */
int vh_vcpu_index_from_name(const char *name);
