/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vh-binder.h"
#include "vh-error.h"
#include "vh-host.h"

/* Changing how many SR-IOV virtual functions a PF has (docs/sriov.md,
 * "SetVfCount"). Like a bind: planned on the event loop (every check,
 * reading only), executed on a worker (each write under the binder's write
 * timeout: some PF drivers take seconds), journaled so that a daemon killed
 * half-way settles it at the next start.
 *
 * Execute: journal → sriov_drivers_autoprobe=0 (with a driver) →
 * sriov_numvfs=0 (the kernel refuses N→M with EBUSY) → sriov_numvfs=M →
 * for each new VF: driver_override=<driver>, drivers_probe, the driver link
 * names it (and its VFIO node exists, for vfio-pci) → autoprobe back →
 * journal settled. A failure before the old VFs were removed leaves the PF
 * as it was; one after leaves it with 0 VFs; autoprobe is restored either
 * way, and the error says where the PF is. */

typedef struct VhVfCountOptions {
        const char *driver;             /* the new VFs' driver; NULL: whatever autoprobe gives them */
        bool force;                     /* override host-critical VFs only */
        bool dry_run;
} VhVfCountOptions;

typedef struct VhVf {
        char address[VH_ADDRESS_MAX];
        int iommu_group;                /* -1: not known (a dry run) */
        char *driver;                   /* NULL: none */
} VhVf;

typedef struct VhVfCountPlan {
        char pf[VH_ADDRESS_MAX];
        unsigned count_before;
        unsigned count;
        char *driver;                   /* the option; NULL: none */
        bool autoprobe_before;
        bool has_autoprobe;             /* the kernel has sriov_drivers_autoprobe */
        bool dry_run;
        /* The PF's IOMMU group and the removed VFs': the operation holds them
         * (one operation per group). */
        unsigned *groups;
        size_t n_groups;
        char **forced;                  /* host-critical VFs removed because of force */
        /* The VFs that would be removed, for their holders (no targets). */
        VhBindPlan *holders;
        /* The VFs created (after execution) or that would be (a dry run:
         * addresses from sriov_offset/stride, groups unknown). */
        VhVf *vfs;
        size_t n_vfs;
        uint64_t txn;
} VhVfCountPlan;

VhVfCountPlan *vh_vf_count_plan_free(VhVfCountPlan *p);
static inline void vh_vf_count_plan_freep(VhVfCountPlan **p) {
        vh_vf_count_plan_free(*p);
}
static inline bool vh_vf_count_plan_is_noop(const VhVfCountPlan *p) {
        return p->count == p->count_before;
}

/* Whether vfio-pci, as a PF's driver, may create VFs: its module
 * parameter enable_sriov is Y (also for the readiness report). */
bool vh_vf_count_vfio_pci_enables_sriov(const VhHostFs *fs);

/* Every check but the holders, no write (the event loop). Refusals:
 * InvalidAddress, NotFound; InvalidArgs for a function that is not a PF, a
 * count over sriov_totalvfs, a PF without a driver or whose kernel lacks
 * sriov_numvfs, a PF on vfio-pci without vfio_pci.enable_sriov, a driver
 * that is not a name or not registered; VfioUnavailable for driver=vfio-pci
 * where vfio-pci cannot be had; HostCritical when a VF that would go away
 * is needed by the host, unless forced. */
int vh_vf_count_plan(VhBinder *b, const VhHost *host, const char *pf, unsigned count,
                     const VhVfCountOptions *options, VhVfCountPlan **ret, VhError *error);

/* The holder check (a process holding a VF that would be removed:
 * HasVirtualFunctions naming it), then — unless a dry run or a no-op — the
 * writes. Blocks: run it off the event loop. */
int vh_vf_count_execute(VhBinder *b, VhVfCountPlan *plan, VhError *error);

/* The PFs whose VF count change an earlier run left unfinished. */
int vh_vf_count_unfinished(VhBinder *b, char ***ret);

/* At start, off the event loop: for each unfinished change, the VFs that
 * exist without a driver get the requested driver (override and probe),
 * and sriov_drivers_autoprobe gets back its value from before. The count
 * is left as the kernel has it. Returns the number of PFs settled. */
int vh_vf_count_reconcile(VhBinder *b);
