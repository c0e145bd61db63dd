/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-address.h"
#include "vh-hostfs.h"
#include "vh-identity.h"

/* Boot-time assignment: what udev's rule (70-vfiohost.rules) has done for
 * one PCI function on its "add" event, before 80-drivers.rules loads a host
 * driver for it (docs/boot.md). Only writes that cannot block: the
 * function's driver_override, drivers_probe for a function without a
 * driver, and the unbind from vfio-pci of a function that vfiohost itself
 * put there earlier in this boot (nothing holds it yet). A function that a
 * host driver already has is never unbound here (a driver's remove path
 * can block udev's worker): vfiohostd moves it, with all its refusals. */

typedef enum VhBootAssignState {
        VH_BOOT_ASSIGN_NONE,            /* no assignment covers it: untouched */
        VH_BOOT_ASSIGN_DISABLED,        /* vfiohost.assign=0 on the kernel command line */
        VH_BOOT_ASSIGN_ERROR,           /* the assignments cannot be read, or a write failed */
        VH_BOOT_ASSIGN_MISMATCH,        /* another card at the assignment's address: untouched */
        VH_BOOT_ASSIGN_APPLIED,         /* on the driver (with group: every member handled is) */
        VH_BOOT_ASSIGN_PENDING,         /* override set; the driver takes it when it registers */
        VH_BOOT_ASSIGN_BOUND_ELSEWHERE, /* override set, a host driver has it: vfiohostd moves it */
        VH_BOOT_ASSIGN_RELEASED,        /* an override vfiohost set this boot, no longer meant, undone */
        VH_BOOT_ASSIGN_VFS,             /* a PF's VF count: vfiohostd makes the VFs, nothing written */
        _VH_BOOT_ASSIGN_STATE_MAX,
} VhBootAssignState;

/* "none", "disabled", "error", "mismatch", "applied", "pending",
 * "bound-elsewhere", "released", "vfs": the values of VFIOHOST_ASSIGNMENT that
 * the udev rule matches. */
const char *vh_boot_assign_state_to_string(VhBootAssignState s);

typedef struct VhBootAssignResult {
        VhBootAssignState state;
        char address[VH_ADDRESS_MAX];   /* the covering assignment's own function; "" when none */
        char *name;                     /* its name; NULL when it has none */
        char *driver;                   /* the driver it names (RELEASED: the one recorded) */
        VhIdentity recorded;            /* MISMATCH: the card meant */
        VhIdentity present;             /* MISMATCH: the card there */
} VhBootAssignResult;

void vh_boot_assign_result_done(VhBootAssignResult *r);

/* Handles the function at address on its "add" event: with the assignment
 * covering it (its own, or a group assignment whose function is present,
 * is the card recorded and shares its IOMMU group; bridges are never
 * touched), driver_override is set and, when the function has no driver
 * and the driver is registered, drivers_probe is written. A group
 * assignment's own function brings every other member present along.
 * What was written is recorded in run/vfiohost/boot/<address>; a record
 * whose function no assignment covers any more is undone (RELEASED). A
 * PF's VF count is only reported (VFS): VFs can be made only once the PF's
 * driver has it, which is after this event, and making them can take
 * seconds — vfiohostd does it, started by the rule.
 * ret is always set; a negative errno comes with VH_BOOT_ASSIGN_ERROR. */
int vh_boot_assign(const VhHostFs *fs, const char *state_dir, const char *address, VhBootAssignResult *ret);
