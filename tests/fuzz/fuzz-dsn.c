/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI config space as sysfs gives it (any length, any bytes: a device
 * under a hostile VM, a damaged recording): the walk of the extended
 * capability list for the Device Serial Number must end, stay inside the
 * buffer and find only what is there. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t dsn = 0;
        uint8_t *copy;
        int r;

        /* An exact-size heap copy: ASan sees any read past the end. */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        r = vh_pci_config_find_dsn(copy, size, &dsn);
        if (r == 0) {
                /* Found: a DSN header is somewhere past the conventional space. */
                bool seen = false;

                for (size_t o = 0x100; o + 12 <= size && o < 4096; o += 4)
                        if (copy[o] == 0x03 && copy[o + 1] == 0x00)
                                seen = true;
                if (!seen)
                        abort();
        } else if (r != -ENODATA)
                abort();
        free(copy);
        return 0;
}
