/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Object paths as callers send them (a method call or property read on
 * /org/vfiohost/device/..., /org/vfiohost/group/..., /org/vfiohost/vm/...
 * or /org/vfiohost/process/...), through the parsers
 * the object finders use. A path that names an object must be the one path
 * of that object: parsing and printing again gives it back byte for byte,
 * so no second spelling reaches the same device or group. */

#include <stdlib.h>
#include <string.h>

#include "vh-bus-paths.h"
#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *path = vh_fuzz_strndup(data, size), *again = NULL;
        char address[VH_ADDRESS_MAX];
        unsigned id;
        pid_t pid;
        int r;

        r = vh_bus_device_address_from_path(path, address);
        if (r > 0) {
                if (!vh_address_is_valid(address) || vh_bus_device_path(address, &again) < 0 ||
                    strcmp(again, path) != 0)
                        abort();
                free(again);
                again = NULL;
        }

        r = vh_bus_group_id_from_path(path, &id);
        if (r > 0 && (vh_bus_group_path(id, &again) < 0 || strcmp(again, path) != 0))
                abort();
        free(again);
        again = NULL;

        r = vh_bus_pid_from_path(path, VH_VM_PATH_PREFIX, &pid);
        if (r > 0 && (pid <= 0 || vh_bus_vm_path(pid, &again) < 0 || strcmp(again, path) != 0))
                abort();
        free(again);
        again = NULL;

        r = vh_bus_pid_from_path(path, VH_PROCESS_PATH_PREFIX, &pid);
        if (r > 0 && (pid <= 0 || vh_bus_process_path(pid, &again) < 0 || strcmp(again, path) != 0))
                abort();
        return 0;
}
