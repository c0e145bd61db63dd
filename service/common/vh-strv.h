/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* NULL-terminated string vectors, owned element by element. */

char **vh_strv_free(char **l);
static inline void vh_strv_freep(char ***l) {
        vh_strv_free(*l);
}
#define _cleanup_strv_free_ __attribute__((cleanup(vh_strv_freep)))

size_t vh_strv_length(char * const *l);
/* Appends a copy of value; -ENOMEM on failure, l unchanged. Both append
 * functions count the list first: fine for a few entries, quadratic for
 * lists as long as the host makes them (directory listings, fields of a
 * file): build those with a counted array. */
int vh_strv_extend(char ***l, const char *value);
/* Appends value itself (taking ownership only on success). */
int vh_strv_push(char ***l, char *value);
bool vh_strv_contains(char * const *l, const char *value);
void vh_strv_sort(char **l);
/* Splits on any of the separator characters, dropping empty fields. */
int vh_strv_split(const char *s, const char *separators, char ***ret);
/* Joins with separator; an empty or NULL vector gives "". */
char *vh_strv_join(char * const *l, const char *separator);

/* Equal strings, NULL equal only to NULL. */
static inline bool vh_streq_null(const char *a, const char *b) {
        return a == b || (a && b && strcmp(a, b) == 0);
}

/* Same strings in the same order; NULL equals an empty vector. */
bool vh_strv_equal(char * const *a, char * const *b);
