/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The persistent assignments (var/lib/vfiohost/assignments.json), which
 * vfiohostd trusts to decide what to put on vfio-pci at every start: a
 * damaged or hostile file must be refused, never half-read. Through
 * vh_assignments_load() only; what loads must save and load back the same. */

#include <stdlib.h>
#include <string.h>

#include "vh-assignments.h"
#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-strv.h"

#define STATE_DIR "state"
#define COPY_DIR  "copy"

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* Writable: the round trip saves; the root is an empty temp dir. */
        fs = vh_fuzz_setup(NULL, true);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vh_assignments_freep) VhAssignments *a = NULL, *again = NULL;

        vh_fuzz_write(STATE_DIR "/" VH_ASSIGNMENTS_FILE, data, size);
        if (vh_assignments_load(fs, STATE_DIR, &a) < 0)
                return 0;

        /* What loaded keeps the store's promises: canonical addresses in
         * order, valid names and drivers, each findable by both. */
        for (size_t i = 0; i < a->n; i++) {
                const VhAssignment *e = &a->entries[i];

                if (!vh_address_is_valid(e->address) || vh_assignments_find(a, e->address) != e ||
                    (e->name && (!vh_assignment_name_is_valid(e->name) || vh_assignments_find(a, e->name) != e)) ||
                    !e->driver || (i > 0 && vh_address_compare(a->entries[i - 1].address, e->address) >= 0))
                        abort();
        }

        if (vh_assignments_save(fs, COPY_DIR, a) < 0 || vh_assignments_load(fs, COPY_DIR, &again) < 0)
                abort();
        if (again->n != a->n)
                abort();
        for (size_t i = 0; i < a->n; i++) {
                const VhAssignment *x = &a->entries[i], *y = &again->entries[i];

                if (strcmp(x->address, y->address) != 0 || !vh_streq_null(x->name, y->name) ||
                    strcmp(x->driver, y->driver) != 0 || x->group != y->group ||
                    !vh_identity_equal(&x->identity, &y->identity) || x->created_usec != y->created_usec)
                        abort();
        }
        return 0;
}
