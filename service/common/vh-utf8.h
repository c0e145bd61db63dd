/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Text read from the host is bytes: root can write anything to
 * driver_override, a directory can be named in any encoding. D-Bus strings
 * must be valid UTF-8 (sd-bus refuses to send anything else), so the host
 * layer turns every byte that is not part of a valid sequence into the four
 * characters "\xNN", as systemd's cescape() writes them. Nothing is dropped:
 * the bad byte stays visible. The escape is for showing, not reversible: a
 * valid string that holds a literal "\xff" looks the same. */

/* Whether the len bytes at s are valid UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). NUL bytes count as valid. */
bool vh_utf8_is_valid(const char *s, size_t len);

/* Replaces *buf (len bytes, NUL-terminated beyond) by a copy in which every
 * invalid byte, and every NUL byte when escape_nul, is written as "\xNN";
 * updates *len. Leaves *buf alone when there is nothing to escape. Returns
 * 0, or -ENOMEM (then *buf is unchanged). */
int vh_utf8_escape_invalid(char **buf, size_t *len, bool escape_nul);
