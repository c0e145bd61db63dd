/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "vh-assignments.h"
#include "vh-daemon.h"
#include "vh-vf-count.h"

/* Manager1.SetVfCount (docs/sriov.md): plan on the loop, polkit
 * (org.vfiohost.manage), the writes on a worker holding the PF's and the
 * VFs' IOMMU groups, the reply from the loop. */
int vh_bus_method_set_vf_count(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* Re-reads the host and plans: every refusal of SetVfCount as a named
 * error, Busy while an operation holds a group involved. */
int vh_bus_vf_count_plan(VhDaemon *d, const char *pf, unsigned count, const VhVfCountOptions *options,
                         VhVfCountPlan **ret, sd_bus_error *error);

/* SetVfCount's reply for plan, with the persistent assignment of
 * assignment (NULL: none). */
int vh_bus_vf_count_reply(VhDaemon *d, sd_bus_message *call, const VhVfCountPlan *plan, const char *assignment);

/* Runs plan (taken) on a worker; a dry run only scans for holders. With
 * call: replied when done, with persist (taken) saved first and its entry
 * in the reply (SetPersistent). Without: the persistent assignment at
 * assignment is being applied (vh_bus_persistence_applied()). */
int vh_bus_vf_count_start(VhDaemon *d, sd_bus_message *call, VhVfCountPlan *plan, VhAssignment *persist,
                          const char *assignment);
