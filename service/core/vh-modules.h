/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-error.h"
#include "vh-hostfs.h"

/* Makes sure the VFIO driver a bind targets (vfio-pci or a variant,
 * vh-vfio-driver.h) is registered before the bind writes driver_override:
 * an override naming a driver that is not loaded binds nothing.
 * On the real host it loads the driver's module and vfio_iommu_type1 (only
 * a soft dependency, which modprobe may skip) with libkmod. In a host tree
 * (--root) it never loads anything into the running kernel: the driver
 * must already be registered there. VfioUnavailable otherwise, nothing
 * changed. */
int vh_modules_ensure_driver(const VhHostFs *fs, const char *driver, VhError *error);

/* libkmod is opened (dlopen) only while a module is loaded, so that the
 * daemon does not map it, nor libcrypto that it links, for its life.
 * Opens it as vh_modules_ensure_driver() does, resolves every symbol used,
 * and closes it: 0, or -EOPNOTSUPP when it is missing or lacks one. */
int vh_modules_check_libkmod(void);
