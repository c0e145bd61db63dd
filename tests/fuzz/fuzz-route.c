/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc/net/route (or, built with VH_FUZZ_IPV6, proc/net/ipv6_route), as the
 * host-critical check reads it to refuse binding the NIC that carries the
 * default route: through vh_critical_carries_default_route() on a copy of
 * the desktop-intel host, whose sys/class/net it follows (the other table
 * is absent, so only the fuzzed one names interfaces). */

#include <stdlib.h>

#include "vh-critical.h"
#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-names.h"

#ifdef VH_FUZZ_IPV6
#define FUZZED VH_PROC_NET_IPV6_ROUTE
#define OTHER  VH_PROC_NET_ROUTE
#else
#define FUZZED VH_PROC_NET_ROUTE
#define OTHER  VH_PROC_NET_IPV6_ROUTE
#endif

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fs = vh_fuzz_setup("desktop-intel", false);
        vh_fuzz_remove(OTHER);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char * const addresses[] = { "0000:06:00.0", "0000:00:1c.4", "0000:02:00.0" };

        vh_fuzz_write(FUZZED, data, size);
        for (size_t i = 0; i < ELEMENTSOF(addresses); i++) {
                _cleanup_free_ char *why = NULL;
                int r = vh_critical_carries_default_route(fs, addresses[i], &why);

                if (r < 0 || (r > 0) != !!why)
                        abort();
        }
        return 0;
}
