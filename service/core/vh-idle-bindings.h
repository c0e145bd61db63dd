/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vh-address.h"
#include "vh-assignments.h"
#include "vh-host.h"
#include "vh-journal.h"

/* Functions vfiohost put on a VFIO driver that nobody uses now: the
 * journal says "bound", the function is still on that driver, no process
 * holds its group or device node, and no persistent assignment asks for
 * it. Left over from a VM that was stopped (or a bind by hand): the user
 * may want the device back on its driver (docs/vms.md, "Idle on
 * vfio-pci"). Bindings vfiohost did not make are not its to judge. */

typedef struct VhIdleBinding {
        char address[VH_ADDRESS_MAX];
        char *driver;                   /* the VFIO driver it is on */
        char *original_driver;          /* what unbinding gives it back to; NULL: none or unknown */
        bool original_known;
        uint64_t since_usec;            /* the journal entry's time (CLOCK_REALTIME) */
} VhIdleBinding;

void vh_idle_bindings_free(VhIdleBinding *b, size_t n);

/* Sorted by address. assignments may be NULL (no store). With
 * assignments_unreadable nothing is claimed idle: a damaged store may
 * well ask for it. Scans every process's fds (off the event loop where
 * that matters). */
int vh_idle_bindings_find(const VhHostFs *fs, const VhHost *host, const VhJournal *journal,
                          const VhAssignments *assignments, bool assignments_unreadable,
                          VhIdleBinding **ret, size_t *ret_n);

/* "0000:01:00.0 (on vfio-pci since 2026-12-01 10:00 UTC; unbind gives it back to nvidia), ..." */
char *vh_idle_bindings_describe(const VhIdleBinding *b, size_t n);
