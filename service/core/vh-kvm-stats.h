/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vh-hostfs.h"

/* KVM's statistics for a VM process, from debugfs
 * (sys/kernel/debug/kvm/<pid>-<vm fd>/, virt/kvm/kvm_main.c
 * kvm_create_vm_debugfs()). The VM's directory holds one file per VM
 * statistic (remote_tlb_flush, pages_2m, ...) and one per vCPU statistic
 * (exits, halt_exits, irq_exits, halt_successful_poll, ...) summed over
 * its vCPUs; vcpuN/ holds the vCPU thread's pid and the architecture's
 * per-vCPU values (x86: guest_mode, tsc-offset, lapic_timer_advance_ns,
 * tsc-scaling-ratio). Mainline debugfs has no per-vCPU statistics: those
 * are in the vCPU's binary stats fd (KVM_GET_STATS_FD), which only the
 * VMM holds.
 *
 * debugfs needs root (the mount is 0700) and a mount on /sys/kernel/debug;
 * lockdown=confidentiality hides it entirely. */

typedef struct VhKvmStat {
        char *name;                     /* the file's name: the statistic's */
        int64_t value;                  /* tsc-offset is signed; counters above INT64_MAX are left out */
} VhKvmStat;

typedef struct VhKvmVcpuStats {
        int index;                      /* N of vcpuN (the vCPU id) */
        VhKvmStat *stats;               /* sorted by name */
        size_t n_stats;
} VhKvmVcpuStats;

typedef struct VhKvmStats {
        int vm_fd;                      /* the VMM's fd of the VM, from "<pid>-<fd>" */
        VhKvmStat *stats;               /* the VM directory's numbers, sorted by name */
        size_t n_stats;
        VhKvmVcpuStats *vcpus;          /* sorted by index */
        size_t n_vcpus;
} VhKvmStats;

void vh_kvm_stats_free(VhKvmStats *s, size_t n);

/* Every VM of the process (one per KVM_CREATE_VM it keeps), sorted by VM
 * fd. Files that hold no single number (x86's mmu_rmaps_stat table) are
 * left out. Why there are none, distinctly:
 *   -EACCES      debugfs (or the VM's directory) is not readable: not root
 *   -ENOMEDIUM   debugfs is not mounted (sys/kernel/debug missing or empty)
 *   -ENOENT      debugfs has no KVM directory for that pid (not a VM, kvm
 *                not loaded, or the process is gone) */
int vh_kvm_stats_read(const VhHostFs *fs, pid_t pid, VhKvmStats **ret, size_t *ret_n);

/* The same with only vcpuN/pid read (which thread is which vCPU), not
 * the ~60 statistics: for vh-vcpus. The VMs' stats are empty. */
int vh_kvm_vcpu_threads(const VhHostFs *fs, pid_t pid, VhKvmStats **ret, size_t *ret_n);

/* The statistic called name, or NULL. */
const VhKvmStat *vh_kvm_stat_find(const VhKvmStat *stats, size_t n, const char *name);
