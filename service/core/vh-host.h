/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <search.h>
#include <stdbool.h>
#include <stddef.h>

#include "vh-hostfs.h"
#include "vh-iommu.h"
#include "vh-journal.h"
#include "vh-pci.h"

/* The host model: every PCI function and IOMMU group, and host-wide flags.
 * A snapshot; vh_host_load() builds a new one. */
typedef struct VhHost {
        VhPciDevice **devices;          /* sorted by address */
        size_t n_devices;
        VhIommuGroup **groups;          /* sorted by id */
        size_t n_groups;
        bool iommu_enabled;
        bool vfio_available;

        /* Lookups by address and by group id are hashed (hsearch_r): a
         * snapshot never changes once built, so the tables are filled once. */
        struct hsearch_data device_index;
        struct hsearch_data group_index;
        char (*group_keys)[12];         /* the group index's keys, "%u" */
        bool indexed;
} VhHost;

int vh_host_load(const VhHostFs *fs, VhPciNames *names, VhHost **ret);

/* A new snapshot from old after changes to a few functions (hotplug): the
 * functions at addresses — the PFs of VFs among them, and the VFs that
 * came or went of PFs among them — are read again
 * (a gone one leaves the model, a new one joins it), and so are the IOMMU
 * groups they were and are in, which are evaluated again. Everything else
 * is shared with old (references), so the cost is the changed functions',
 * not the host's. host_wide: IommuEnabled and VfioAvailable are read again
 * too (a module came or went); otherwise copied. The new functions' names
 * are set, their original drivers are not (vh_host_set_original_drivers). */
int vh_host_refresh(const VhHost *old, const VhHostFs *fs, VhPciNames *names, char *const *addresses, bool host_wide,
                    VhHost **ret);
VhHost *vh_host_free(VhHost *h);
static inline void vh_host_freep(VhHost **h) {
        vh_host_free(*h);
}

/* address must be canonical. NULL when absent. */
VhPciDevice *vh_host_find_device(const VhHost *h, const char *address);
VhIommuGroup *vh_host_find_group(const VhHost *h, unsigned id);

/* Sets every device's original_driver from the journal, except the ones
 * h shares with shared (NULL: none), which keep theirs: a snapshot that
 * is still in use must not change under its readers. */
int vh_host_set_original_drivers(VhHost *h, VhJournal *journal, const VhHost *shared);

/* Whether vfio-pci is registered (sys/bus/pci/drivers/vfio-pci), loaded
 * (sys/module/vfio_pci) or installed for the running kernel
 * (lib/modules/<osrelease>/modules.{dep,builtin}). */
bool vh_host_vfio_available(const VhHostFs *fs);
