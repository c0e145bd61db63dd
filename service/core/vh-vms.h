/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vh-hostfs.h"

/* The virtual machines running on the host, and the other processes that
 * hold VFIO (a DPDK application, a test client): who holds what, read from
 * proc/PID beneath the root (docs/vms.md). A VM is a process holding
 * /dev/kvm, a KVM VM fd ("anon_inode:kvm-vm") or a vCPU fd.
 *
 * Which devices a process holds, by the way it opened them:
 *  - iommufd path: a /dev/vfio/devices/vfioX fd is one device, named by
 *    its fdinfo's "vfio-device-syspath:" line (Linux 6.18+) or else by
 *    sys/class/vfio-dev/vfioX/device (the link to the function).
 *  - legacy group path: /dev/vfio/N says the group; each device fd the
 *    group gave (VFIO_GROUP_GET_DEVICE_FD) shows only as
 *    "anon_inode:[vfio-device]", and only Linux 6.18's fdinfo line says
 *    which device it is. Before 6.18 such fds are counted in
 *    unknown_device_fds, and the group is all there is: callers map the
 *    group to its members (the process may hold any of them).
 * Missed: processes whose proc/PID/fd cannot be read (another user's
 * without CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH, a pid namespace that hides
 * them), VFIO devices that are not PCI functions (platform, mdev: not in
 * devices), devices mapped but no longer open (a process that closed its
 * fds keeps no claim), and processes started or ended during the scan. */

typedef struct VhVm {
        pid_t pid;
        char *comm;                     /* proc/PID/comm, "" when unreadable */
        char *vmm;                      /* "qemu", "cloud-hypervisor", "firecracker", "crosvm", else comm */
        /* The VMM's own name for the guest: QEMU's -name (guest=, or its
         * first unkeyed value), Firecracker's --id; NULL when it has none
         * (Cloud Hypervisor and crosvm take no name). */
        char *name;
        bool is_vm;                     /* holds /dev/kvm, a KVM VM fd or a vCPU fd */
        /* CLOCK_REALTIME µs: proc/stat's btime plus stat's starttime (field
         * 22); 0 when either is unreadable. Good to a clock tick, and off by
         * as much as the clock was stepped since boot. */
        uint64_t start_time_usec;
        unsigned vcpus;                 /* "anon_inode:kvm-vcpu:N" fds */
        char **devices;                 /* PCI addresses of the VFIO devices it holds, sorted, unique; never NULL */
        unsigned *groups;               /* IOMMU groups of its /dev/vfio/N fds, sorted, unique */
        size_t n_groups;
        /* VFIO device fds no fdinfo line (before 6.18) or vfio-dev link names */
        unsigned unknown_device_fds;
        bool vfio_container;            /* holds /dev/vfio/vfio (the legacy container) */
        bool iommufd;                   /* holds /dev/iommu */
        uint64_t memory_bytes;          /* VmRSS from proc/PID/status; 0 if unreadable */
        uint64_t hugetlb_bytes;         /* HugetlbPages: guest memory on hugetlbfs, not in VmRSS */
} VhVm;

/* Frees the members of one entry (for vh_vm_read's). */
void vh_vm_done(VhVm *v);
void vh_vms_free(VhVm *v, size_t n);

/* Every process holding /dev/kvm, a KVM VM or vCPU fd, or a VFIO node
 * (/dev/vfio/vfio, /dev/vfio/N, /dev/vfio/devices/vfioX, a VFIO device fd,
 * /dev/iommu), sorted by pid. Processes that cannot be read, kernel threads
 * and processes that hold none of these are left out. */
int vh_vms_scan(const VhHostFs *fs, VhVm **ret, size_t *ret_n);

/* One process, for event-driven updates: -ENOENT when it is gone, -ENODATA
 * when it holds none of these, -EACCES (or another error) when its fds
 * cannot be read, -EINVAL for a pid <= 0. */
int vh_vm_read(const VhHostFs *fs, pid_t pid, VhVm *ret);

/* The guest name in a QEMU -name argument ("guest=win11,debug-threads=on",
 * "win11", "win,,11" for "win,11"): QemuOpts syntax with "guest" implied
 * for a first value without '='; the last guest= wins. NULL (and 0) when it
 * names none; -ENOMEM. */
int vh_vm_qemu_guest_name(const char *arg, char **ret);
