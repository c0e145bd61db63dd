/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The static setup's specs as callers send them (GetStaticSetup's
 * hugepages and isolate-cpus options, vfiohostctl config), and the CPU
 * masks of sys/devices/system/cpu: the same input through both parsers,
 * entirely in memory. */

#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-setup-specs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = vh_fuzz_strndup(data, size), *formatted = NULL, *again = NULL;
        VhCpuSet set, reparsed;
        VhHugepages h;

        if (vh_hugepages_parse(s, &h) >= 0 &&
            (h.count == 0 || h.count > VH_HUGEPAGES_COUNT_MAX ||
             !((strcmp(h.size, "2M") == 0 && h.size_kib == 2048) ||
               (strcmp(h.size, "1G") == 0 && h.size_kib == 1048576))))
                abort();

        if (vh_cpuset_parse(s, &set) < 0)
                return 0;
        /* Never empty; the canonical list parses back to the same set and
         * is a fixed point. */
        if (vh_cpuset_count(&set) == 0)
                abort();
        formatted = vh_cpuset_format(&set);
        if (!formatted)
                return 0;
        if (vh_cpuset_parse(formatted, &reparsed) < 0 || memcmp(&set, &reparsed, sizeof(set)) != 0)
                abort();
        if (!vh_cpuset_is_subset(&set, &reparsed, NULL) || !vh_cpuset_is_subset(&reparsed, &set, NULL))
                abort();
        again = vh_cpuset_format(&reparsed);
        if (again && strcmp(again, formatted) != 0)
                abort();
        return 0;
}
