/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-utf8: quoting a caller's string in an error message. The excerpt must
 * be valid UTF-8 whatever the input (sd-bus refuses to send anything else),
 * cut on a character boundary, and free of control characters. */

#include <string.h>

#include <glib.h>

#include "vh-utf8.h"

static void assert_excerpt(const char *in, const char *expected) {
        char buf[VH_EXCERPT_SIZE];
        const char *out = vh_utf8_excerpt(in, buf);

        g_assert_true(out == buf);
        g_assert_true(g_utf8_validate(out, -1, NULL));
        g_assert_cmpuint(strlen(out), <, VH_EXCERPT_SIZE);
        g_assert_cmpstr(out, ==, expected);
}

static void test_short(void) {
        assert_excerpt(NULL, "");
        assert_excerpt("", "");
        assert_excerpt("0000:01:00.0", "0000:01:00.0");
        assert_excerpt("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* A character of each length straddling the limit at every offset: never
 * split, the cut marked. */
static void test_cut_on_boundaries(void) {
        static const char *const chars[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };

        for (size_t c = 0; c < G_N_ELEMENTS(chars); c++) {
                size_t n = strlen(chars[c]);

                for (size_t j = 0; j <= n; j++) {
                        g_autofree char *prefix = g_strnfill(VH_EXCERPT_MAX - j, 'a');
                        g_autofree char *in = g_strconcat(prefix, chars[c], "tail", NULL);
                        /* It fits whole when it ends at or before the limit. */
                        g_autofree char *expected = j >= n ? g_strconcat(prefix, chars[c], "…", NULL)
                                                           : g_strconcat(prefix, "…", NULL);

                        assert_excerpt(in, expected);
                }
        }
}

static void test_exact_fit(void) {
        g_autofree char *in = g_strnfill(VH_EXCERPT_MAX, 'x');
        g_autofree char *longer = g_strnfill(VH_EXCERPT_MAX + 1, 'x');
        g_autofree char *cut = g_strconcat(in, "…", NULL);
        g_autofree char *huge = g_strnfill(1 << 20, 'y');

        assert_excerpt(in, in);
        assert_excerpt(longer, cut);
        {
                char buf[VH_EXCERPT_SIZE];
                g_assert_cmpuint(strlen(vh_utf8_excerpt(huge, buf)), ==, VH_EXCERPT_MAX + strlen("…"));
        }
}

/* Bytes that are no UTF-8 (only possible from sources other than the bus)
 * and control characters become '?'. */
static void test_invalid_and_control(void) {
        assert_excerpt("a\xc3" "b", "a?b");                     /* truncated sequence */
        assert_excerpt("a\x80" "b", "a?b");                     /* lone continuation */
        assert_excerpt("\xc0\xaf", "??");                       /* overlong '/' */
        assert_excerpt("\xed\xa0\x80", "???");                  /* UTF-16 surrogate */
        assert_excerpt("\xf4\x90\x80\x80", "????");             /* beyond U+10FFFF */
        assert_excerpt("\xff", "?");
        assert_excerpt("line\nfeed\ttab\x1b[31m\x7f", "line?feed?tab?[31m?");
        assert_excerpt("\xc3\xa9", "\xc3\xa9");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/utf8/short", test_short);
        g_test_add_func("/utf8/cut-on-boundaries", test_cut_on_boundaries);
        g_test_add_func("/utf8/exact-fit", test_exact_fit);
        g_test_add_func("/utf8/invalid-and-control", test_invalid_and_control);
        return g_test_run();
}
