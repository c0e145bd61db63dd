/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vh-assignments.h"
#include "vh-host.h"
#include "vh-hostfs.h"

/* Where a persistent assignment stands against the host as it is: only
 * the card it was made for is ever acted on (docs/persistence.md). */
typedef enum VhAssignmentState {
        VH_ASSIGNMENT_WAITING,          /* nothing at its address */
        VH_ASSIGNMENT_MISMATCH,         /* another card at its address: left alone */
        VH_ASSIGNMENT_NOT_APPLIED,      /* the card meant, not (all) on the driver */
        VH_ASSIGNMENT_APPLIED,          /* on the driver, with group every member; with vfs
                                         * that many VFs, each on the driver */
        _VH_ASSIGNMENT_STATE_MAX,
} VhAssignmentState;

/* "waiting", "mismatch", "not-applied", "applied". */
const char *vh_assignment_state_to_string(VhAssignmentState s);

typedef struct VhAssignmentMatch {
        VhAssignmentState state;
        VhIdentity present;             /* MISMATCH: the card that is there */
        /* Where the card's serial number is now, when it is at another
         * address (it moved, or the slots were renumbered); "" else. Only
         * said, never acted on: the user decides. */
        char moved_to[VH_ADDRESS_MAX];
} VhAssignmentMatch;

/* Reads config space for serial numbers: that of the function at the
 * address and, when the card is not there but has one, every function's.
 * Safe from any thread. */
void vh_assignment_match(const VhHostFs *fs, const VhHost *host, const VhAssignment *a, VhAssignmentMatch *ret);

/* How many of the PF's VFs are on the assignment's driver. */
size_t vh_assignment_vfs_on_driver(const VhHost *host, const VhAssignment *a, const VhPciDevice *pf);

/* Whether address is one of the assignment's functions: its own, or — for
 * a group assignment — a member of the IOMMU group of the function at its
 * address (bridges included: callers skip them, as the binder does), or —
 * for a VF count — one of the PF's VFs. */
bool vh_assignment_covers(const VhHost *host, const VhAssignment *a, const char *address);

/* The assignment covering address: its own first, then a group's. */
const VhAssignment *vh_assignments_covering(const VhAssignments *a, const VhHost *host, const char *address);
