/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-address.h"

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Checked character by character against the fixed layout, so nothing but
 * hex digits, ':' and '.' can ever reach a path. */
bool vh_address_is_valid(const char *s) {
        static const char layout[] = "xxxx:xx:xx.x";

        if (!s || strlen(s) != sizeof(layout) - 1)
                return false;

        for (size_t i = 0; layout[i]; i++) {
                if (layout[i] == 'x') {
                        if (hex_value(s[i]) < 0)
                                return false;
                } else if (s[i] != layout[i])
                        return false;
        }

        /* Device number is 5 bits, function 3 bits. */
        if (hex_value(s[8]) * 16 + hex_value(s[9]) > 0x1f)
                return false;
        if (hex_value(s[11]) > 7)
                return false;

        return true;
}

int vh_address_normalize(const char *s, char ret[VH_ADDRESS_MAX]) {
        if (!vh_address_is_valid(s))
                return -EINVAL;

        for (size_t i = 0; i < VH_ADDRESS_MAX; i++)
                ret[i] = (char) tolower((unsigned char) s[i]);
        return 0;
}

int vh_address_compare(const char *a, const char *b) {
        /* Canonical addresses are fixed-width lowercase hex, so the byte
         * order is the bus order. */
        return strcmp(a, b);
}
