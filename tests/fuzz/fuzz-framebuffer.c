/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc/fb (or, built with VH_FUZZ_IOMEM, proc/iomem), as the host-critical
 * check reads them to refuse binding the boot GPU while a framebuffer
 * holds it: through vh_critical_active_framebuffer() on a copy of the
 * desktop-intel host (sys/class/graphics says which GPU an fbN is on), for
 * the iGPU and the discrete GPU each taken as the boot VGA device. For
 * proc/fb, proc/iomem is absent: a firmware framebuffer named there would
 * end the check before proc/fb is read. */

#include <stdlib.h>
#include <string.h>

#include "vh-critical.h"
#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-names.h"

#ifdef VH_FUZZ_IOMEM
#define FUZZED VH_PROC_IOMEM
#else
#define FUZZED VH_PROC_FB
#endif

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fs = vh_fuzz_setup("desktop-intel", false);
#ifndef VH_FUZZ_IOMEM
        vh_fuzz_remove(VH_PROC_IOMEM);
#endif
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char * const addresses[] = { "0000:00:02.0", "0000:05:00.0" };

        vh_fuzz_write(FUZZED, data, size);
        for (size_t i = 0; i < ELEMENTSOF(addresses); i++) {
                VhPciDevice d = { .boot_vga = true, .iommu_group = -1, .numa_node = -1 };
                _cleanup_free_ char *why = NULL;
                int r;

                strcpy(d.address, addresses[i]);
                r = vh_critical_active_framebuffer(fs, &d, &why);
                if (r < 0 || (r > 0) != !!why)
                        abort();
        }
        return 0;
}
