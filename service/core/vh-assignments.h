/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vh-address.h"
#include "vh-hostfs.h"
#include "vh-identity.h"

/* Persistent assignments: functions to put on a driver (vfio-pci) whenever
 * they are there, keyed by address *and* identity, so that a card moved or
 * a slot renumbered is never taken for the one that was meant. Stored in
 * the state directory (assignments.json), versioned, written atomically.
 * docs/persistence.md. */

typedef struct VhAssignment {
        char address[VH_ADDRESS_MAX];   /* canonical */
        char *name;                     /* NULL: none; vh_assignment_name_is_valid() */
        char *driver;                   /* never NULL: "vfio-pci" unless asked otherwise */
        bool group;                     /* the whole IOMMU group */
        /* > 0: an SR-IOV PF's VF count, with driver the VFs' (the PF keeps
         * its own driver; never with group). docs/sriov.md, "Persistent VF
         * counts". */
        unsigned vfs;
        VhIdentity identity;
        uint64_t created_usec;          /* CLOCK_REALTIME */
} VhAssignment;

typedef struct VhAssignments {
        VhAssignment *entries;          /* sorted by address */
        size_t n;
} VhAssignments;

/* Frees what an assignment owns (not the struct). */
void vh_assignment_clear(VhAssignment *e);

#define VH_ASSIGNMENTS_FILE "assignments.json"

/* ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$, at most 64 bytes; without a colon it is
 * never a PCI address. */
bool vh_assignment_name_is_valid(const char *name);

/* Empty when the file does not exist. -EBADMSG when it is damaged (any
 * field of the wrong type or out of range, two entries for one address or
 * one name), -EPROTONOSUPPORT for an unknown version: never guessed at. */
int vh_assignments_load(const VhHostFs *fs, const char *state_dir, VhAssignments **ret);
/* Atomically (a temporary file renamed over the old one). */
int vh_assignments_save(const VhHostFs *fs, const char *state_dir, const VhAssignments *a);
VhAssignments *vh_assignments_free(VhAssignments *a);
static inline void vh_assignments_freep(VhAssignments **a) {
        vh_assignments_free(*a);
}

/* By canonical address or by name; NULL when none. */
const VhAssignment *vh_assignments_find(const VhAssignments *a, const char *address_or_name);

/* The most VFs a PCI function can have: sriov_totalvfs is a 16-bit
 * field of the SR-IOV capability. */
#define VH_ASSIGNMENT_VFS_MAX 65535u

/* Adds an assignment, or replaces the one at its address. -EINVAL for an
 * invalid address, name or driver, a VF count over VH_ASSIGNMENT_VFS_MAX
 * or with group; -EEXIST when another address has that
 * name. Copies what it keeps. */
int vh_assignments_set(VhAssignments *a, const VhAssignment *assignment);
/* -ENOENT when nothing is assigned by that address or name. */
int vh_assignments_remove(VhAssignments *a, const char *address_or_name);
