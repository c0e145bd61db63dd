/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <string.h>

#include "vh-utf8.h"

size_t vh_utf8_char_length(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t c;
        size_t n;

        if (p[0] < 0x80)
                return p[0] ? 1 : 0;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, c = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, c = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, c = p[0] & 0x07;
        else
                return 0;

        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, UTF-16 surrogates, beyond U+10FFFF: not UTF-8. */
        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                return 0;
        return n;
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
