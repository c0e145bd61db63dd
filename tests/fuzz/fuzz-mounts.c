/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc/mounts, as the host-critical check reads it to refuse binding the
 * disk a mounted filesystem lives on: through vh_critical_backs_mount() on
 * a copy of the desktop-intel host (its NVMe disk and the bridge above it,
 * the sys/class/block and dev links it follows). */

#include <stdlib.h>

#include "vh-critical.h"
#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-names.h"

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fs = vh_fuzz_setup("desktop-intel", false);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char * const addresses[] = { "0000:02:00.0", "0000:00:06.0", "0000:01:00.0" };

        vh_fuzz_write(VH_PROC_MOUNTS, data, size);
        for (size_t i = 0; i < ELEMENTSOF(addresses); i++) {
                _cleanup_free_ char *why = NULL;
                int r = vh_critical_backs_mount(fs, addresses[i], &why);

                /* A dependency always comes with its sentence. */
                if (r < 0 || (r > 0) != !!why)
                        abort();
        }
        return 0;
}
