/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* "DDDD:BB:DD.F": the domain as the kernel prints it ("%04x" of an int):
 * four hex digits, or five to eight without a leading zero (Intel VMD puts
 * the functions behind it in domains from 10000, as "10000:e1:00.0"), at
 * most 7fffffff; then 2 of bus, 2 of device (00-1f), 1 of function (0-7).
 * At most 16 characters plus NUL. */
#define VH_ADDRESS_DOMAIN_DIGITS_MAX 8
#define VH_ADDRESS_MAX (VH_ADDRESS_DOMAIN_DIGITS_MAX + 9)

/* The messages of org.vfiohost.Error.InvalidAddress and NotFound, one
 * wording wherever an address is taken. Arguments: the rejected string as
 * vh_utf8_excerpt() quotes it (never the raw string: it may be 1 MiB, or be
 * cut inside a character) / the canonical address. */
#define VH_ADDRESS_INVALID_FMT \
        "'%s' is not a PCI address: expected DDDD:BB:DD.F in hexadecimal, " \
        "e.g. 0000:01:00.0 or 10000:e1:00.0 ('lspci -D' prints addresses in this form)."
#define VH_ADDRESS_NOT_FOUND_FMT \
        "No PCI function %s on this host; 'vfiohostctl list' shows the functions present."

/* Strict check, done before any path is built from an address: exactly
 * DDDD:BB:DD.F in hexadecimal (either case) with the domain as above,
 * device <= 1f, function <= 7. */
bool vh_address_is_valid(const char *s);

/* Validates s and writes its canonical (lowercase) form to ret.
 * Returns 0, or -EINVAL when s is not a valid address. */
int vh_address_normalize(const char *s, char ret[VH_ADDRESS_MAX]);

/* Compares two canonical addresses in bus order: domains by value (a wider
 * domain is a larger one: not strcmp order), then bus, device, function. */
int vh_address_compare(const char *a, const char *b);
