/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-address: the strict DDDD:BB:DD.F check that runs before any path is
 * built from an address a client sent. The domain is what the kernel
 * prints with %04x: four hex digits, or more without a leading zero (Intel
 * VMD puts its functions in domains from 10000), at most 7fffffff (the
 * kernel's domain is an int). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vh-address.h"

static const char *const valid[] = {
        "0000:00:00.0",
        "0000:01:00.0",
        "0000:3b:02.1",
        "ffff:ff:1f.7",
        "0000:00:1F.7",         /* upper case is accepted ... */
        "ABCD:EF:0A.3",
        "0001:00:00.0",
        "10000:e1:00.0",        /* behind Intel VMD */
        "10001:00:02.0",
        "1000A:E1:00.0",
        "abcdef:00:00.0",
        "7fffffff:ff:1f.7",     /* INT_MAX, the kernel's largest */
        "1234abcd:3b:02.1",
};

static const char *const invalid[] = {
        "",
        "01:00.0",              /* short form without domain */
        "0000:01:00",           /* no function */
        "0000:01:00.",
        "0000:01:20.0",         /* device > 1f */
        "0000:01:ff.0",
        "0000:01:00.8",         /* function > 7 */
        "0000:01:00.f",
        "0000:01:00.0/../x",    /* path tricks */
        "../../etc",
        "../../../../etc/passwd",
        "0000:01:00.0/",
        "/0000:01:00.0",
        "0000:01:00.0 ",        /* trailing garbage */
        "0000:01:00.0\n",
        "0000:01:00.0x",
        "0000:01:00.00",
        " 0000:01:00.0",        /* leading garbage */
        "00000:01:00.0",        /* a leading zero beyond four digits: never printed */
        "010000:e1:00.0",
        "0000ffff:00:00.0",
        "80000000:00:00.0",     /* beyond INT_MAX */
        "ffffffff:00:00.0",
        "123456789:00:00.0",    /* nine digits */
        "1000000000000:00:00.0",
        "10000:e1:20.0",        /* the other fields stay strict */
        "10000:e1:00.8",
        "10000:1:00.0",
        "10000:e1:00.0 ",
        "1000g:e1:00.0",
        "000:01:00.0",
        "0000:1:00.0",
        "0000:001:00.0",
        "0000:01:0.0",
        "0000-01-00.0",         /* wrong separators */
        "0000:01:00:0",
        "0000.01:00.0",
        "0000:0g:00.0",         /* not hex */
        "x000:01:00.0",
        "+000:01:00.0",
        "-000:01:00.0",
        "0x00:01:00.0",
        "0000:01:00.-",
        "0000:01:00.*",
        "0000:01:0%.0",
        "0000:01:00\0.0",       /* embedded NUL: the string ends early */
};

static void test_valid(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(valid); i++) {
                g_test_message("valid: '%s'", valid[i]);
                g_assert_true(vh_address_is_valid(valid[i]));
        }
}

static void test_invalid(void) {
        g_assert_false(vh_address_is_valid(NULL));
        for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
                g_test_message("invalid: '%s'", invalid[i]);
                g_assert_false(vh_address_is_valid(invalid[i]));
        }
}

static void test_normalize(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "0000:00:1F.7", "0000:00:1f.7" },
                { "ABCD:EF:0A.3", "abcd:ef:0a.3" },
                { "0000:3b:02.1", "0000:3b:02.1" },
                { "FFFF:FF:1F.7", "ffff:ff:1f.7" },
                { "10000:E1:00.0", "10000:e1:00.0" },
                { "7FFFFFFF:FF:1F.7", "7fffffff:ff:1f.7" },
                { "AbCdEf:0b:1C.4", "abcdef:0b:1c.4" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                char out[VH_ADDRESS_MAX];

                memset(out, 'X', sizeof(out));
                g_assert_cmpint(vh_address_normalize(cases[i].in, out), ==, 0);
                g_assert_cmpstr(out, ==, cases[i].out);
                g_assert_cmpuint(strlen(out), ==, strlen(cases[i].in));
                g_assert_cmpuint(strlen(out), <, VH_ADDRESS_MAX);
                /* the canonical form is valid and a fixed point */
                g_assert_true(vh_address_is_valid(out));
                char again[VH_ADDRESS_MAX];
                g_assert_cmpint(vh_address_normalize(out, again), ==, 0);
                g_assert_cmpstr(again, ==, out);
        }

        for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
                char out[VH_ADDRESS_MAX];

                g_test_message("normalize invalid: '%s'", invalid[i]);
                g_assert_cmpint(vh_address_normalize(invalid[i], out), ==, -EINVAL);
        }
        {
                char out[VH_ADDRESS_MAX];
                g_assert_cmpint(vh_address_normalize(NULL, out), ==, -EINVAL);
        }
}

static int compare_for_qsort(const void *a, const void *b) {
        return vh_address_compare(*(const char *const *) a, *(const char *const *) b);
}

static void test_compare(void) {
        /* bus order: domain, bus, device, function */
        const char *ordered[] = {
                "0000:00:00.0",
                "0000:00:00.2",
                "0000:00:01.0",
                "0000:00:1c.4",
                "0000:00:1f.0",
                "0000:01:00.0",
                "0000:01:00.1",
                "0000:3a:00.0",
                "0000:3b:00.0",
                "0000:3b:02.1",
                "0000:ae:00.0",
                "0001:00:00.0",
                "ffff:ff:1f.7",
                /* wider domains sort by value, not as text ("ffff" < "10000") */
                "10000:e0:06.0",
                "10000:e1:00.0",
                "10001:00:00.0",
                "fffff:00:00.0",
                "100000:00:00.0",
                "7fffffff:ff:1f.7",
        };
        const char *shuffled[G_N_ELEMENTS(ordered)];

        for (size_t i = 0; i < G_N_ELEMENTS(ordered); i++) {
                g_assert_cmpint(vh_address_compare(ordered[i], ordered[i]), ==, 0);
                for (size_t j = i + 1; j < G_N_ELEMENTS(ordered); j++) {
                        g_assert_cmpint(vh_address_compare(ordered[i], ordered[j]), <, 0);
                        g_assert_cmpint(vh_address_compare(ordered[j], ordered[i]), >, 0);
                }
        }

        /* usable with qsort on an array of char * */
        for (size_t i = 0; i < G_N_ELEMENTS(ordered); i++)
                shuffled[i] = ordered[(i * 7 + 3) % G_N_ELEMENTS(ordered)];
        qsort(shuffled, G_N_ELEMENTS(shuffled), sizeof(shuffled[0]), compare_for_qsort);
        for (size_t i = 0; i < G_N_ELEMENTS(ordered); i++)
                g_assert_cmpstr(shuffled[i], ==, ordered[i]);
}

/* The longest address fits VH_ADDRESS_MAX with its NUL, and one digit more
 * is refused. */
static void test_max(void) {
        char out[VH_ADDRESS_MAX];

        g_assert_cmpuint(strlen("7fffffff:ff:1f.7") + 1, ==, VH_ADDRESS_MAX);
        memset(out, 'X', sizeof(out));
        g_assert_cmpint(vh_address_normalize("7FFFFFFF:FF:1F.7", out), ==, 0);
        g_assert_cmpstr(out, ==, "7fffffff:ff:1f.7");
        g_assert_false(vh_address_is_valid("7ffffffff:ff:1f.7"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/address/valid", test_valid);
        g_test_add_func("/address/invalid", test_invalid);
        g_test_add_func("/address/normalize", test_normalize);
        g_test_add_func("/address/compare", test_compare);
        g_test_add_func("/address/max", test_max);

        return g_test_run();
}
