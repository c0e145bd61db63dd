/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh-macro.h"
#include "vh-setup-specs.h"

/* A decimal number without sign or leading zeros, at most max; *end is
 * the first character after it. */
static int parse_number(const char *s, unsigned long max, unsigned long *ret, const char **end) {
        unsigned long v = 0;
        const char *p = s;

        if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (unsigned long) (*p - '0');
                if (v > max)
                        return -ERANGE;
        }
        *ret = v;
        *end = p;
        return 0;
}

int vh_hugepages_parse(const char *s, VhHugepages *ret) {
        static const struct {
                const char *text;
                uint64_t kib;
        } sizes[] = {
                { "2M", 2048 },
                { "1G", 1048576 },
        };
        const char *end;
        unsigned long count;

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                if (strncasecmp(s, sizes[i].text, 2) != 0 || s[2] != ':')
                        continue;
                if (parse_number(s + 3, VH_HUGEPAGES_COUNT_MAX, &count, &end) < 0 || *end || count == 0)
                        return -EINVAL;
                *ret = (VhHugepages) { .size = sizes[i].text, .size_kib = sizes[i].kib, .count = count };
                return 0;
        }
        return -EINVAL;
}

int vh_cpuset_parse(const char *s, VhCpuSet *ret) {
        VhCpuSet set = {};
        const char *p = s;
        int r;

        for (;;) {
                unsigned long first, last;

                r = parse_number(p, VH_CPU_MAX - 1, &first, &p);
                if (r < 0)
                        return r;
                last = first;
                if (*p == '-') {
                        r = parse_number(p + 1, VH_CPU_MAX - 1, &last, &p);
                        if (r < 0)
                                return r;
                        if (last < first)
                                return -EINVAL;
                }
                for (unsigned long cpu = first; cpu <= last; cpu++)
                        set.bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
                if (*p == ',') {
                        p++;
                        continue;
                }
                if (*p == '\n')
                        p++;
                if (*p)
                        return -EINVAL;
                break;
        }
        *ret = set;
        return 0;
}

char *vh_cpuset_format(const VhCpuSet *set) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        bool first = true;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (unsigned cpu = 0; cpu < VH_CPU_MAX; cpu++) {
                unsigned last = cpu;

                if (!vh_cpuset_contains(set, cpu))
                        continue;
                while (last + 1 < VH_CPU_MAX && vh_cpuset_contains(set, last + 1))
                        last++;
                if (last == cpu)
                        fprintf(f, "%s%u", first ? "" : ",", cpu);
                else
                        fprintf(f, "%s%u-%u", first ? "" : ",", cpu, last);
                first = false;
                cpu = last;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

unsigned vh_cpuset_count(const VhCpuSet *set) {
        unsigned n = 0;

        for (size_t i = 0; i < ELEMENTSOF(set->bits); i++)
                n += (unsigned) __builtin_popcountll(set->bits[i]);
        return n;
}

bool vh_cpuset_is_subset(const VhCpuSet *a, const VhCpuSet *b, unsigned *ret_missing) {
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++) {
                uint64_t missing = a->bits[i] & ~b->bits[i];

                if (missing) {
                        if (ret_missing)
                                *ret_missing = (unsigned) (i * 64) + (unsigned) __builtin_ctzll(missing);
                        return false;
                }
        }
        return true;
}
