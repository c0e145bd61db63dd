/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-macro.h"
#include "vh-strv.h"

char **vh_strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t vh_strv_length(char * const *l) {
        size_t n = 0;

        if (!l)
                return 0;
        while (l[n])
                n++;
        return n;
}

int vh_strv_push(char ***l, char *value) {
        size_t n = vh_strv_length(*l);
        char **c;

        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c)
                return -ENOMEM;
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int vh_strv_extend(char ***l, const char *value) {
        char *v;
        int r;

        v = strdup(value);
        if (!v)
                return -ENOMEM;
        r = vh_strv_push(l, v);
        if (r < 0)
                free(v);
        return r;
}

bool vh_strv_contains(char * const *l, const char *value) {
        for (size_t i = 0; l && l[i]; i++)
                if (strcmp(l[i], value) == 0)
                        return true;
        return false;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void vh_strv_sort(char **l) {
        size_t n = vh_strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), compare_strings);
}

int vh_strv_split(const char *s, const char *separators, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0, i = 0;

        /* Count first, then fill: pushing field by field re-counts the list
         * each time, quadratic in the fields (a 16 MiB proc/cmdline of one
         * letter words is a few million). */
        for (const char *p = s; p && *p;) {
                p += strspn(p, separators);
                if (!*p)
                        break;
                n++;
                p += strcspn(p, separators);
        }

        /* An empty vector, not NULL, so callers can always iterate. */
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (const char *p = s; i < n;) {
                size_t len;

                p += strspn(p, separators);
                len = strcspn(p, separators);
                l[i] = strndup(p, len);
                if (!l[i])
                        return -ENOMEM;
                i++;
                p += len;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

char *vh_strv_join(char * const *l, const char *separator) {
        size_t len = 1, sep = strlen(separator);
        char *s, *p;

        for (size_t i = 0; l && l[i]; i++)
                len += strlen(l[i]) + (i > 0 ? sep : 0);

        s = malloc(len);
        if (!s)
                return NULL;

        p = s;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, separator);
                p = stpcpy(p, l[i]);
        }
        *p = 0;
        return s;
}

bool vh_strv_equal(char * const *a, char * const *b) {
        size_t i = 0;

        for (; a && a[i] && b && b[i]; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return (!a || !a[i]) && (!b || !b[i]);
}
