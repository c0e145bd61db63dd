/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-error.h"
#include "vh-hostfs.h"

/* Makes sure vfio-pci is registered before a bind writes driver_override:
 * an override naming a driver that is not loaded binds nothing.
 * On the real host it loads vfio-pci and vfio_iommu_type1 (only a soft
 * dependency, which modprobe may skip) with libkmod. In a host tree
 * (--root) it never loads anything into the running kernel: vfio-pci must
 * already be registered there. VfioUnavailable otherwise, nothing changed. */
int vh_modules_ensure_vfio_pci(const VhHostFs *fs, VhError *error);
