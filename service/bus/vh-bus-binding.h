/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-daemon.h"

#include "vh-assignments.h"
#include "vh-binder.h"

int vh_bus_binding_setup(VhDaemon *d);
bool vh_bus_binding_group_busy(const VhDaemon *d, unsigned group);

/* Re-reads the host and plans the operation: on refusal error is set from
 * the binder's (InvalidAddress, GroupNotViable, HostCritical, ...). */
int vh_bus_binding_plan(VhDaemon *d, VhBindVerb verb, const char *address, const VhBindOptions *options,
                        VhBindPlan **ret, sd_bus_error *error);

/* Busy, saying why, while an operation holds group: any while the
 * reconcile at start or an assignment being applied holds it; with writes
 * (the caller would change it) also a Bind, Unbind or SetPersistent. */
int vh_bus_binding_check_busy(const VhDaemon *d, unsigned group, bool writes, sd_bus_error *error);

/* Runs plan (taken) on a worker thread. With call: replies when done —
 * with persist (taken) saved first and its entry in the reply. Without:
 * the persistent assignment at assignment is being applied, and
 * vh_bus_persistence_applied() hears how it went. */
int vh_bus_binding_start(VhDaemon *d, sd_bus_message *call, VhBindPlan *plan, VhAssignment *persist,
                         const char *assignment);

/* An operation of another kind than a bind (SetVfCount): run() on a
 * worker thread, then on the loop reply() when run() succeeded (a named
 * error from run()'s VhError otherwise), then free(). */
typedef struct VhBusWork {
        int (*run)(VhDaemon *d, void *data, VhError *error);
        int (*reply)(VhDaemon *d, sd_bus_message *call, void *data);
        void (*free)(void *data);
} VhBusWork;

/* Starts work with data (taken, also on failure) for call, holding groups
 * (copied) until it is done, as a Bind holds its group: other operations
 * on them get Busy. check_only: it writes nothing and holds no group (a
 * dry run's holder scan). Without call, it applies the persistent
 * assignment at assignment, and vh_bus_persistence_applied() hears how it
 * went (reply() is not called). */
int vh_bus_binding_start_work(VhDaemon *d, sd_bus_message *call, const VhBusWork *work, void *data,
                              const unsigned *groups, size_t n_groups, bool check_only, const char *assignment);

/* A dry run or a no-op (plan taken): the holder check off the loop when it
 * has one, then the reply. Returns 1 when the reply comes later. */
int vh_bus_binding_start_check(VhDaemon *d, sd_bus_message *call, VhBindPlan *plan, sd_bus_error *error);

/* Bind's reply for plan, with the persistent assignment of address (NULL:
 * none). */
int vh_bus_binding_reply(VhDaemon *d, sd_bus_message *call, const VhBindPlan *plan, const char *assignment);

/* Starts reconciling the journal on a worker thread (after the name is
 * taken, so activation never waits for it); Reconciling is true meanwhile
 * and calls on the groups involved get Busy. */
int vh_bus_binding_start_reconcile(VhDaemon *d);

/* Waits for every running operation (each write is bounded by the write
 * timeout), replies where the bus still allows, frees them. Every exit
 * path calls it before the state the workers use is freed. */
void vh_bus_binding_finish_all(VhDaemon *d);

int vh_bus_method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vh_bus_method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error);
