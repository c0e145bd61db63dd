/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NVIDIA driver's proc/driver/nvidia/gpus/ADDR/information, whose
 * "Device Minor:" names the /dev/nvidiaN node a process may hold: through
 * vh_holders_driver_nodes() on a copy of desktop-intel (0000:01:00.0). */

#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-holders.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

#define ADDRESS "0000:01:00.0"

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fs = vh_fuzz_setup("desktop-intel", false);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **nodes = NULL;
        VhPciDevice d = { .address = ADDRESS, .iommu_group = -1, .numa_node = -1 };

        vh_fuzz_write(VH_PROC_NVIDIA_GPUS "/" ADDRESS "/information", data, size);
        if (vh_holders_driver_nodes(fs, &d, &nodes) < 0)
                abort();
        STRV_FOREACH(n, nodes)
                if (strncmp(*n, "/" VH_DEV "/", strlen(VH_DEV) + 2) != 0 || strstr(*n, ".."))
                        abort();
        return 0;
}
