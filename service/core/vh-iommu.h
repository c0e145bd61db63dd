/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vh-hostfs.h"
#include "vh-pci.h"

/* One IOMMU group, from sys/kernel/iommu_groups/N. */
typedef struct VhIommuGroup {
        unsigned id;
        char *type;                     /* "DMA", "identity", ...; NULL when absent */
        char **members;                 /* device names in devices/, sorted; never NULL */
        bool viable;
        char *viability_reason;         /* never NULL after evaluation */
        /* What a user may do with it (Group1.Assignability): "assignable"
         * (viable, with endpoints), "bind-first" (host drivers to move
         * first), "never" (chipset functions the host needs), "nothing"
         * (only bridges). A static string after evaluation. */
        const char *assignability;
        char **blockers;                /* members that keep the group from being viable */
        unsigned n_ref;                 /* snapshots share unchanged groups (vh_host_refresh) */
} VhIommuGroup;

VhIommuGroup *vh_iommu_group_ref(VhIommuGroup *g);
/* Drops a reference; the last one frees. */
VhIommuGroup *vh_iommu_group_free(VhIommuGroup *g);
static inline void vh_iommu_group_freep(VhIommuGroup **g) {
        vh_iommu_group_free(*g);
}
void vh_iommu_group_array_free(VhIommuGroup **a, size_t n);

/* One group, not evaluated; -ENOENT when it does not exist (any more). */
int vh_iommu_load_group(const VhHostFs *fs, unsigned id, VhIommuGroup **ret);

/* Every group, sorted by id; an empty result when the kernel has no IOMMU. */
int vh_iommu_scan_groups(const VhHostFs *fs, VhIommuGroup ***ret, size_t *ret_n);

/* Decides viability: every member must be bound to vfio-pci or to no
 * driver, except PCI-to-PCI bridges on pcieport/shpchp. Host bridges and
 * ISA bridges bound to a driver block like any endpoint. devices: the
 * group's members as PCI functions (NULL where a member is not a PCI
 * function, which blocks). */
int vh_iommu_group_evaluate(VhIommuGroup *g, const VhPciDevice * const *devices, size_t n_devices);

/* A member that cannot do DMA for the host: on vfio-pci, on no driver, or a
 * PCI-to-PCI bridge on pcieport/shpchp. */
bool vh_iommu_member_is_harmless(const VhPciDevice *d);
/* A chipset function (host, ISA or other bridge that is not PCI-to-PCI):
 * the host needs it; it never goes to a VM. */
bool vh_iommu_member_is_chipset(const VhPciDevice *d);

/* Whether the kernel has an active IOMMU: an entry in sys/class/iommu or a
 * group in sys/kernel/iommu_groups. */
bool vh_iommu_enabled(const VhHostFs *fs);
