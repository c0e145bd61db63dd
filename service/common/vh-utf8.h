/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* UTF-8 at the two edges where bytes become D-Bus strings, which must be
 * valid UTF-8 (sd-bus refuses to send anything else, and the caller then
 * waits for its timeout and gets NoReply). One decoder serves both. */

/* ---- Text read from the host ---------------------------------------------
 * Root can write anything to driver_override, a directory can be named in
 * any encoding. The host layer turns every byte that is not part of a valid
 * sequence into the four characters "\xNN", as systemd's cescape() writes
 * them. Nothing is dropped: the bad byte stays visible. The escape is for
 * showing, not reversible: a valid string that holds a literal "\xff" looks
 * the same. */

/* Whether the len bytes at s are valid UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). NUL bytes count as valid. */
bool vh_utf8_is_valid(const char *s, size_t len);

/* Replaces *buf (len bytes, NUL-terminated beyond) by a copy in which every
 * invalid byte, and every NUL byte when escape_nul, is written as "\xNN";
 * updates *len. Leaves *buf alone when there is nothing to escape. Returns
 * 0, or -ENOMEM (then *buf is unchanged). */
int vh_utf8_escape_invalid(char **buf, size_t *len, bool escape_nul);

/* ---- A caller's string quoted in a message --------------------------------
 * The excerpt is cut on a character boundary and always valid UTF-8, and a
 * terminal should not get control characters: invalid bytes and C0
 * controls/DEL become '?'; a cut is marked with "…". */

#define VH_EXCERPT_MAX 64                               /* bytes of the input shown */
#define VH_EXCERPT_SIZE (VH_EXCERPT_MAX + sizeof("…"))  /* buffer, NUL included */

/* Writes the excerpt of s (NULL: "") to buf and returns buf, so that it can
 * stand in a printf argument list. */
const char *vh_utf8_excerpt(const char *s, char buf[static VH_EXCERPT_SIZE]);

/* Length of the valid UTF-8 character at s (1-4), 0 if s does not start
 * one (or the string ends inside it, or at s). */
size_t vh_utf8_char_length(const char *s);
