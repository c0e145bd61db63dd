/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Quoting a caller's string in a message. The excerpt is cut on a
 * character boundary and always valid UTF-8: sd-bus refuses to send a
 * message with a broken character (the caller would wait for its timeout
 * and get NoReply), and a terminal should not get control characters.
 * Invalid bytes and C0 controls/DEL become '?'; a cut is marked with "…". */

#define VH_EXCERPT_MAX 64                               /* bytes of the input shown */
#define VH_EXCERPT_SIZE (VH_EXCERPT_MAX + sizeof("…"))  /* buffer, NUL included */

/* Writes the excerpt of s (NULL: "") to buf and returns buf, so that it can
 * stand in a printf argument list. */
const char *vh_utf8_excerpt(const char *s, char buf[static VH_EXCERPT_SIZE]);

/* Length of the valid UTF-8 character at s (1-4), 0 if s does not start
 * one (or the string ends inside it). */
size_t vh_utf8_char_length(const char *s);
