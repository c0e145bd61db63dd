/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "vh-hostfs.h"

/* What counts as a VFIO driver (docs/binding.md, "Variant drivers"):
 * vfio-pci, or one of its variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci,
 * pds_vfio_pci, nvgrace_gpu_vfio_pci, virtio_vfio_pci, qat_vfio_pci, ...):
 * a PCI driver whose module is built on vfio_pci_core. They all create the
 * same VFIO nodes, so a function on any of them is in VFIO's hands.
 *
 * Recognized by the module, never by the name: a loaded driver's module
 * (drivers/<name>/module, else the name with '-' as '_') is a holder of
 * vfio_pci_core (sys/module/vfio_pci_core/holders/<module>); a driver not
 * loaded is one whose module's line in lib/modules/<release>/modules.dep
 * lists vfio-pci-core. Built-in variant drivers are not recognized
 * (distribution kernels build them as modules). */

typedef enum VhVfioDriverKind {
        VH_VFIO_DRIVER_UNKNOWN,         /* neither registered nor installed */
        VH_VFIO_DRIVER_OTHER,           /* a driver or module, but not built on vfio_pci_core */
        VH_VFIO_DRIVER_REGISTERED,      /* a VFIO driver registered with the PCI core */
        VH_VFIO_DRIVER_INSTALLED,       /* a VFIO driver's module, installed but not loaded */
} VhVfioDriverKind;

/* What driver (a PCI driver name, checked to be a file name by the caller)
 * is on this host. vfio-pci is REGISTERED or INSTALLED when it is (else
 * UNKNOWN), whatever its module's dependencies. */
VhVfioDriverKind vh_vfio_driver_lookup(const VhHostFs *fs, const char *driver);

/* Whether a function on driver is on a VFIO driver (NULL: no driver). */
bool vh_vfio_driver_is(const VhHostFs *fs, const char *driver);

/* Whether driver declares support for the function at address: vfio-pci
 * supports every function; a variant only those its module's vfio_pci:
 * aliases in modules.alias match (the function's modalias with "vfio_"
 * prepended, as userspace is meant to match them). A variant's probe may
 * fail on, or mishandle, a device it does not list. */
bool vh_vfio_driver_supports(const VhHostFs *fs, const char *driver, const char *address);
