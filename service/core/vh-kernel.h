/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "vh-hostfs.h"

/* What the running kernel is and has, read beneath the host root: one rule
 * for each, used by the host model, the kernel config and readiness. */

/* The running release (proc/sys/kernel/osrelease), usable as one path
 * component (lib/modules/<release>, boot/config-<release>): -ENOENT when it
 * cannot be read, -EINVAL when it is empty, ".", ".." or holds a '/'. */
int vh_kernel_release(const VhHostFs *fs, char **ret);

/* The words of proc/cmdline. ret is left alone when it cannot be read. */
int vh_kernel_cmdline(const VhHostFs *fs, char ***ret);
/* The value of the last KEY=VALUE among words, as the kernel takes the
 * last; NULL when none. */
const char *vh_kernel_cmdline_value(char * const *words, const char *key);

/* Whether lib/modules/<release>/<file> (modules.dep, modules.builtin)
 * lists the module: "/<name>.ko" followed by ':', '.', ' ', a newline or the
 * end, '-' and '_' alike (file names use both). */
bool vh_kernel_module_file_lists(const VhHostFs *fs, const char *release, const char *file, const char *name);

/* vfio-pci is registered with the PCI core (drivers/vfio-pci) or its
 * module is loaded (sys/module/vfio_pci). */
bool vh_kernel_vfio_pci_registered(const VhHostFs *fs);

/* A framebuffer of the firmware (efifb, simpledrm, vesafb, BOOTFB…), which
 * keeps the boot GPU's memory reserved after the GPU's driver is gone, as
 * opposed to a GPU driver's own (i915drmfb, amdgpudrmfb). name is a proc/fb
 * name, or with in_iomem a resource name in proc/iomem (where only the
 * firmware's own spellings count). */
bool vh_kernel_framebuffer_is_firmware(const char *name, bool in_iomem);
/* The first firmware framebuffer named in a proc/iomem text, or NULL. */
const char *vh_kernel_firmware_framebuffer_in_iomem(const char *iomem);

/* "vfiohost.assign=0" (or no, off, false) is on the kernel command line
 * (proc/cmdline): the escape hatch that keeps persistent assignments from
 * being applied — by udev at boot and by the daemon — when a persisted
 * device is needed by the host after all (docs/boot.md). */
#define VH_KERNEL_ASSIGN_DISABLE_WORD "vfiohost.assign=0"
bool vh_kernel_assignments_disabled(const VhHostFs *fs);
