/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the tracker (vh-bus-vms.c: events, scans, signals) and the
 * objects (vh-bus-vm-objects.c: vtables, HeldBy, GetVcpus). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "vh-bus-machined.h"
#include "vh-daemon.h"
#include "vh-vms.h"

typedef struct VhBusPidfd {
        pid_t pid;
        sd_event_source *source;        /* owns the pidfd */
} VhBusPidfd;

struct VhBusVms {
        VhDaemon *daemon;
        VhVm *vms;                      /* the last scan, sorted by pid */
        size_t n_vms;

        int inotify_fd;
        sd_event_source *inotify_source;
        int dir_wds[2];                 /* dev/vfio, dev/vfio/devices; -1 when not watched */
        int dev_wd;                     /* dev: for kvm, iommu and vfio appearing later */
        sd_event_source *rescan_timer;

        /* Host root only: one pidfd per holder, EPOLLIN when it exits. */
        VhBusPidfd *pidfds;
        size_t n_pidfds;

        VhBusMachined *machined;        /* NULL without a bus or machined's signals */

        uint64_t n_scans;
        uint64_t n_events;
};

/* The entry of pid in the last scan, NULL when none. */
const VhVm *vh_bus_vms_find(const VhBusVms *t, pid_t pid);
/* /org/vfiohost/vm/<pid> for a VM, /org/vfiohost/process/<pid> otherwise. */
int vh_bus_holder_path(const VhVm *v, char **ret);
/* The holder paths of the function at address or, with address NULL, of
 * group, among vms: a group fd holds the group and every member; a
 * device fd holds the device and its group. Sorted as vms is. */
int vh_bus_held_by(const VhHost *host, const VhVm *vms, size_t n, const char *address, unsigned group, char ***ret);
