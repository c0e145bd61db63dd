/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh-utf8.h"

/* Length of the valid UTF-8 sequence at s (at most left bytes), 0 when the
 * first byte does not start one. */
static size_t valid_sequence(const unsigned char *s, size_t left) {
        uint32_t c;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                n = 2;
                c = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                c = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                c = s[0] & 0x07;
        } else
                return 0;       /* continuation byte, 0xc0/0xc1 (overlong), 0xf5+ */

        if (left < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }

        /* Overlong forms, UTF-16 surrogates, beyond Unicode. */
        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
            (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                return 0;
        return n;
}

bool vh_utf8_is_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < len;) {
                size_t n = valid_sequence(p + i, len - i);

                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

int vh_utf8_escape_invalid(char **buf, size_t *len, bool escape_nul) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *) *buf;
        size_t bad = 0, out_len;
        char *out, *o;

        for (size_t i = 0; i < *len;) {
                size_t n = valid_sequence(p + i, *len - i);

                if (n == 0 || (escape_nul && p[i] == 0)) {
                        bad++;
                        i++;
                } else
                        i += n;
        }
        if (bad == 0)
                return 0;

        /* Every escaped byte grows by three characters. */
        out_len = *len + 3 * bad;
        out = malloc(out_len + 1);
        if (!out)
                return -ENOMEM;

        o = out;
        for (size_t i = 0; i < *len;) {
                size_t n = valid_sequence(p + i, *len - i);

                if (n == 0 || (escape_nul && p[i] == 0)) {
                        *o++ = '\\';
                        *o++ = 'x';
                        *o++ = hex[p[i] >> 4];
                        *o++ = hex[p[i] & 0xf];
                        i++;
                } else {
                        memcpy(o, p + i, n);
                        o += n;
                        i += n;
                }
        }
        *o = 0;

        free(*buf);
        *buf = out;
        *len = out_len;
        return 0;
}

size_t vh_utf8_char_length(const char *s) {
        /* The bytes up to the NUL, at most a whole character. */
        return *s ? valid_sequence((const unsigned char *) s, strnlen(s, 4)) : 0;
}

const char *vh_utf8_excerpt(const char *s, char buf[static VH_EXCERPT_SIZE]) {
        size_t in = 0, out = 0;

        s = s ?: "";
        while (s[in]) {
                size_t n = vh_utf8_char_length(s + in);
                unsigned char c = (unsigned char) s[in];

                /* The next character would not fit whole: cut before it. */
                if (out + (n ?: 1) > VH_EXCERPT_MAX) {
                        memcpy(buf + out, "…", sizeof("…"));
                        return buf;
                }
                if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) {
                        buf[out++] = '?';
                        in++;
                        continue;
                }
                memcpy(buf + out, s + in, n);
                out += n;
                in += n;
        }
        buf[out] = 0;
        return buf;
}
