/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* "DDDD:BB:DD.F": 4 hex digits of domain, 2 of bus, 2 of device (00-1f),
 * 1 of function (0-7). 12 characters plus NUL. */
#define VH_ADDRESS_MAX 13

/* The messages of org.vfiohost.Error.InvalidAddress and NotFound, one
 * wording wherever an address is taken. Arguments: the rejected string as
 * vh_utf8_excerpt() quotes it (never the raw string: it may be 1 MiB, or be
 * cut inside a character) / the canonical address. */
#define VH_ADDRESS_INVALID_FMT \
        "'%s' is not a PCI address: expected DDDD:BB:DD.F in hexadecimal, " \
        "e.g. 0000:01:00.0 ('lspci -D' prints addresses in this form)."
#define VH_ADDRESS_NOT_FOUND_FMT \
        "No PCI function %s on this host; 'vfiohostctl list' shows the functions present."

/* Strict check, done before any path is built from an address: exactly
 * DDDD:BB:DD.F in hexadecimal (either case), device <= 1f, function <= 7. */
bool vh_address_is_valid(const char *s);

/* Validates s and writes its canonical (lowercase) form to ret.
 * Returns 0, or -EINVAL when s is not a valid address. */
int vh_address_normalize(const char *s, char ret[VH_ADDRESS_MAX]);

/* Compares two canonical addresses in bus order (usable with qsort on char*). */
int vh_address_compare(const char *a, const char *b);
