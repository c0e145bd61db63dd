/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel build configuration, through vh_kconfig_load(): as
 * proc/config.gz (the input is the gzip file: decompression, its size
 * limits and damaged streams) when built with VH_FUZZ_KCONFIG_GZ, else as
 * boot/config-<release> (the input is the text). Every symbol the input
 * names is looked up, and a fixed set of the ones readiness asks for. */

#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-kconfig.h"
#include "vh-macro.h"
#include "vh-names.h"

#define RELEASE "6.1.0-fuzz"

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fs = vh_fuzz_setup(NULL, false);
        /* Without config.gz the loader falls back to this release's file. */
        vh_fuzz_write(VH_PROC_OSRELEASE, RELEASE "\n", strlen(RELEASE) + 1);
        return 0;
}

static void lookup(const VhKconfig *k, const char *symbol) {
        VhKconfigValue v = vh_kconfig_get(k, symbol);

        if (v > VH_KCONFIG_OTHER)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char * const symbols[] = {
                "VFIO", "VFIO_PCI", "VFIO_IOMMU_TYPE1", "VFIO_VIRQFD", "INTEL_IOMMU", "INTEL_IOMMU_DEFAULT_ON",
                "AMD_IOMMU", "KVM", "IOMMUFD", "", "C", "CONFIG_VFIO",
        };
        _cleanup_(vh_kconfig_freep) VhKconfig *k = NULL;
        int r;

#ifdef VH_FUZZ_KCONFIG_GZ
        vh_fuzz_write(VH_PROC_CONFIG_GZ, data, size);
#else
        vh_fuzz_write(VH_BOOT "/config-" RELEASE, data, size);
#endif
        r = vh_kconfig_load(fs, &k);
        if (r < 0)
                return 0;
        if (!vh_kconfig_source(k))
                abort();

        for (size_t i = 0; i < ELEMENTSOF(symbols); i++)
                lookup(k, symbols[i]);

#ifndef VH_FUZZ_KCONFIG_GZ
        /* The symbols of the input's own "CONFIG_X=" lines, so lookups hit. */
        for (const uint8_t *p = data, *end = data + size; p < end;) {
                const uint8_t *nl = memchr(p, '\n', (size_t) (end - p)), *eq;
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (len > 7 && memcmp(p, "CONFIG_", 7) == 0 && (eq = memchr(p + 7, '=', len - 7))) {
                        _cleanup_free_ char *symbol = vh_fuzz_strndup(p + 7, (size_t) (eq - p - 7));

                        lookup(k, symbol);
                }
                p += len + 1;
        }
#endif
        return 0;
}
