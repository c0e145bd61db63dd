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

/* Number of domain digits, 0 when the domain is not what the kernel
 * prints: pci_name() uses "%04x" on an int, so four digits, or five to
 * eight without a leading zero (VMD numbers its domains from 0x10000), and
 * never above INT_MAX. */
static size_t domain_digits(const char *s) {
        size_t n = 0;

        while (n <= VH_ADDRESS_DOMAIN_DIGITS_MAX && hex_value(s[n]) >= 0)
                n++;
        if (n < 4 || n > VH_ADDRESS_DOMAIN_DIGITS_MAX)
                return 0;
        if (n > 4 && s[0] == '0')
                return 0;
        if (n == VH_ADDRESS_DOMAIN_DIGITS_MAX && hex_value(s[0]) > 7)
                return 0;
        return n;
}

/* Checked character by character against the fixed layout after the
 * domain, so nothing but hex digits, ':' and '.' can ever reach a path. */
bool vh_address_is_valid(const char *s) {
        static const char layout[] = ":xx:xx.x";
        const char *rest;
        size_t d;

        if (!s)
                return false;
        d = domain_digits(s);
        if (d == 0)
                return false;
        rest = s + d;
        if (strlen(rest) != sizeof(layout) - 1)
                return false;

        for (size_t i = 0; layout[i]; i++) {
                if (layout[i] == 'x') {
                        if (hex_value(rest[i]) < 0)
                                return false;
                } else if (rest[i] != layout[i])
                        return false;
        }

        /* Device number is 5 bits, function 3 bits. */
        if (hex_value(rest[4]) * 16 + hex_value(rest[5]) > 0x1f)
                return false;
        if (hex_value(rest[7]) > 7)
                return false;

        return true;
}

int vh_address_normalize(const char *s, char ret[VH_ADDRESS_MAX]) {
        size_t n;

        if (!vh_address_is_valid(s))
                return -EINVAL;

        n = strlen(s);
        for (size_t i = 0; i <= n; i++)
                ret[i] = (char) tolower((unsigned char) s[i]);
        return 0;
}

int vh_address_compare(const char *a, const char *b) {
        size_t da = strcspn(a, ":"), db = strcspn(b, ":");

        /* Canonical domains have no leading zeros beyond four digits: the
         * longer one is the larger ("ffff" < "10000"). Past the domain the
         * fields are fixed-width lowercase hex, so byte order is bus order. */
        if (da != db)
                return da < db ? -1 : 1;
        return strcmp(a, b);
}
