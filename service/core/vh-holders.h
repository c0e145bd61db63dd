/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "vh-hostfs.h"
#include "vh-pci.h"

/* Processes that hold a function's device nodes open. Unbinding a driver
 * whose device is in use blocks in the driver's remove path
 * (docs/binding.md, "Refusals"), so binds and unbinds refuse while anyone
 * holds one. */

typedef struct VhHolder {
        pid_t pid;
        char *comm;                     /* proc/PID/comm, "" when unreadable */
        char *node;                     /* the held node, e.g. "/dev/dri/card0" */
        char *vm_name;                  /* the guest's name when the holder is a VM that names it (vh-vms.h) */
} VhHolder;

void vh_holders_free(VhHolder *h, size_t n);

/* The nodes a host driver exposes for the function: DRM cards and render
 * nodes (the device's drm/ directory) and the NVIDIA minor
 * (proc/driver/nvidia/gpus/ADDR/information). Host paths ("/dev/..."). */
int vh_holders_driver_nodes(const VhHostFs *fs, const VhPciDevice *d, char ***ret);

/* Every process with an fd on one of nodes (host paths), by scanning
 * proc/PID/fd beneath the root. Unreadable processes are skipped. */
int vh_holders_find(const VhHostFs *fs, char * const *nodes, VhHolder **ret, size_t *ret_n);

/* "pid 1234 (Xorg) holds /dev/dri/card0, pid 3456 (qemu-system-x86, VM win11) holds /dev/vfio/2" */
char *vh_holders_describe(const VhHolder *h, size_t n);
