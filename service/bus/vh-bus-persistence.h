/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-assignments.h"
#include "vh-daemon.h"
#include "vh-error.h"
#include "vh-readiness.h"

/* Persistent assignments on the bus (docs/persistence.md):
 * Manager1.SetPersistent, ClearPersistent and ListPersistent, Device1.Name
 * and PersistentState, names as address arguments, and applying the
 * assignments — through the binder, with Bind's refusals — when the daemon
 * starts and when a covered function appears. */

typedef struct VhPersistence VhPersistence;

/* Loads the store from the state directory. A damaged file (or one of a
 * newer version) is kept as it is and reported: nothing is applied and
 * SetPersistent and ClearPersistent refuse until it is repaired. */
int vh_bus_persistence_new(VhDaemon *d, VhPersistence **ret);
VhPersistence *vh_bus_persistence_free(VhPersistence *p);

/* Judges every assignment against h (the snapshot about to become the
 * model), logs what changed (a mismatch names both identities) and
 * annotates h's functions (assignment_name, assignment_state). Functions h
 * shares with the current model that change are remembered, and
 * vh_bus_persistence_emit_changes() announces them once h is the model. */
int vh_bus_persistence_update(VhDaemon *d, VhHost *h);
void vh_bus_persistence_emit_changes(VhDaemon *d);

/* A function appeared (added, or another card at an address): the
 * assignments covering it are tried again at the next apply. */
void vh_bus_persistence_appeared(VhDaemon *d, const char *address);

/* The function at address got a driver: a PF's VF count there, which
 * waited for one (only a PF's driver makes VFs), is tried again. */
void vh_bus_persistence_driver_bound(VhDaemon *d, const char *address);

/* Whether a PF's VF count waits for the PF's driver: the daemon does not
 * exit when idle meanwhile (udev started it at the PF's "add", before the
 * driver loaded). */
bool vh_bus_persistence_is_waiting(VhDaemon *d);

/* Starts applying every assignment that is not applied and has not been
 * tried since the start or since its function appeared: plans a bind as
 * Bind does (refusals are reported in ListPersistent and the log, never
 * forced) and runs it on a worker. Those on a busy group wait for the next
 * call. A PF's VF count is made as SetVfCount does (from none only; with
 * the count there, VFs off the driver are bound one at a time). Not with
 * --read-only, nor with vfiohost.assign=0 on the kernel
 * command line. */
void vh_bus_persistence_apply(VhDaemon *d);

/* A background application finished (from vh-bus-binding.c). */
void vh_bus_persistence_applied(VhDaemon *d, const char *address, int result, const VhError *error);

/* SetPersistent's bind finished: saves the assignment. < 0 with error set
 * when it cannot be saved. */
int vh_bus_persistence_commit(VhDaemon *d, const VhAssignment *a, sd_bus_error *error);

/* SetPersistent's operation is done (done says what it did, for the
 * log): saves a. When that fails, *ret_saved is false, the error is logged
 * and replied to call, and the reply's result returned. */
int vh_bus_persistence_commit_or_reply(VhDaemon *d, const VhAssignment *a, sd_bus_message *call, const char *done,
                                       bool *ret_saved);

/* Appends {sv} "assignment" → the entry of ListPersistent for address. */
int vh_bus_persistence_append_entry(VhDaemon *d, sd_bus_message *m, const char *address);

/* The assignments as saved, or NULL with *ret_error saying why the file
 * cannot be read. */
const VhAssignments *vh_bus_persistence_store(VhDaemon *d, const char **ret_error);

/* An address argument: a PCI address, or the name of an assignment.
 * InvalidAddress when it is neither, NotFound for an unknown name. */
int vh_bus_resolve_address(VhDaemon *d, const char *arg, char ret[VH_ADDRESS_MAX], sd_bus_error *error);
/* Reads a method's address argument ("s") and resolves it. */
int vh_bus_read_address(VhDaemon *d, sd_bus_message *m, char ret[VH_ADDRESS_MAX], sd_bus_error *error);

/* The readiness report's "persistence.assignments" check (a warning for
 * mismatches, refusals and a damaged store), among the host's checks. */
int vh_bus_persistence_add_check(VhDaemon *d, VhReport *report);

int vh_bus_method_set_persistent(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_method_clear_persistent(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_method_list_persistent(sd_bus_message *m, void *userdata, sd_bus_error *error);
