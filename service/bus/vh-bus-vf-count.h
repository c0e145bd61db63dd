/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Manager1.SetVfCount (docs/sriov.md): plan on the loop, polkit
 * (org.vfiohost.manage), the writes on a worker holding the PF's and the
 * VFs' IOMMU groups, the reply from the loop. */
int vh_bus_method_set_vf_count(sd_bus_message *m, void *userdata, sd_bus_error *error);
