/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-hostfs.h"

/* The running kernel's build configuration: /proc/config.gz when the
 * kernel has IKCONFIG_PROC, else /boot/config-<release> (the release read
 * from proc/sys/kernel/osrelease), both beneath the root. */

typedef struct VhKconfig VhKconfig;

typedef enum VhKconfigValue {
        VH_KCONFIG_UNSET,               /* "# CONFIG_X is not set" or absent */
        VH_KCONFIG_MODULE,              /* =m */
        VH_KCONFIG_BUILTIN,             /* =y */
        VH_KCONFIG_OTHER,               /* a number or a string */
} VhKconfigValue;

/* -ENOENT when neither file exists. */
int vh_kconfig_load(const VhHostFs *fs, VhKconfig **ret);
VhKconfig *vh_kconfig_free(VhKconfig *k);
static inline void vh_kconfig_freep(VhKconfig **k) {
        vh_kconfig_free(*k);
}

/* symbol without the CONFIG_ prefix: "VFIO_PCI". */
VhKconfigValue vh_kconfig_get(const VhKconfig *k, const char *symbol);
/* The file it came from, as a host path ("/proc/config.gz"). */
const char *vh_kconfig_source(const VhKconfig *k);
