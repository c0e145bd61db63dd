/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI addresses as callers send them (Bind, Unbind, GetDevice, the device
 * option): validation, normalisation and ordering, entirely in memory. */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vh-address.h"
#include "vh-fuzz.h"
#include "vh-macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = vh_fuzz_strndup(data, size);
        char canonical[VH_ADDRESS_MAX], again[VH_ADDRESS_MAX];
        bool valid = vh_address_is_valid(s);

        if (vh_address_normalize(s, canonical) < 0) {
                if (valid)
                        abort();
                return 0;
        }
        if (!valid)
                abort();

        /* The canonical form is valid, lowercase, a fixed point, and
         * compares equal to itself only. */
        /* 12 characters, more for domains wider than four digits (VMD). */
        if (strlen(canonical) < 12 || strlen(canonical) > VH_ADDRESS_MAX - 1 || !vh_address_is_valid(canonical))
                abort();
        for (const char *p = canonical; *p; p++)
                if (isupper((unsigned char) *p))
                        abort();
        if (vh_address_normalize(canonical, again) < 0 || strcmp(canonical, again) != 0)
                abort();
        if (vh_address_compare(canonical, again) != 0 || strcasecmp(canonical, s) != 0)
                abort();
        return 0;
}
