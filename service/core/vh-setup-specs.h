/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The two specs the static boot setup takes from its caller, parsed
 * strictly (they end up on a kernel command line): a huge page
 * reservation and a CPU list. Pure functions of the text; the checks
 * against the host (memory, the CPUs it has) are vh-static-setup.c's. */

/* "SIZE:COUNT": SIZE 2M or 1G (either case), COUNT a decimal number
 * 1..VH_HUGEPAGES_COUNT_MAX without sign, spaces or leading zeros. */
#define VH_HUGEPAGES_COUNT_MAX 1048576UL

typedef struct VhHugepages {
        const char *size;               /* "2M" or "1G", static */
        uint64_t size_kib;
        unsigned long count;
} VhHugepages;

/* -EINVAL when s is not such a spec. */
int vh_hugepages_parse(const char *s, VhHugepages *ret);

/* A set of CPU numbers below VH_CPU_MAX (NR_CPUS is at most 8192). */
#define VH_CPU_MAX 8192U

typedef struct VhCpuSet {
        uint64_t bits[VH_CPU_MAX / 64];
} VhCpuSet;

/* The kernel's list format, as cpu/possible prints it and isolcpus= takes
 * it: comma-separated CPUs and ranges "N-M" with N <= M, decimal, no
 * spaces; one trailing newline allowed (a sysfs file). Not empty.
 * -EINVAL for anything else, -ERANGE for a CPU >= VH_CPU_MAX. */
int vh_cpuset_parse(const char *s, VhCpuSet *ret);
/* The canonical list ("2-7,10"): ranges merged, ascending. NULL on OOM. */
char *vh_cpuset_format(const VhCpuSet *set);

static inline bool vh_cpuset_contains(const VhCpuSet *set, unsigned cpu) {
        return cpu < VH_CPU_MAX && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}
unsigned vh_cpuset_count(const VhCpuSet *set);
/* Whether every CPU of a is in b; *ret_missing is the first one that is not. */
bool vh_cpuset_is_subset(const VhCpuSet *a, const VhCpuSet *b, unsigned *ret_missing);
