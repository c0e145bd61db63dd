/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "vh-assignment-match.h"
#include "vh-macro.h"

static const char *const state_names[_VH_ASSIGNMENT_STATE_MAX] = {
        [VH_ASSIGNMENT_WAITING] = "waiting",
        [VH_ASSIGNMENT_MISMATCH] = "mismatch",
        [VH_ASSIGNMENT_NOT_APPLIED] = "not-applied",
        [VH_ASSIGNMENT_APPLIED] = "applied",
};

const char *vh_assignment_state_to_string(VhAssignmentState s) {
        return s >= 0 && s < _VH_ASSIGNMENT_STATE_MAX ? state_names[s] : NULL;
}

static bool on_driver(const VhPciDevice *d, const char *driver) {
        return d->driver && strcmp(d->driver, driver) == 0;
}

size_t vh_assignment_vfs_on_driver(const VhHost *host, const VhAssignment *a, const VhPciDevice *pf) {
        size_t n = 0;

        for (size_t i = 0; i < pf->n_virtfns; i++) {
                const VhPciDevice *vf = vh_host_find_device(host, pf->virtfns[i].address);

                if (vf && on_driver(vf, a->driver))
                        n++;
        }
        return n;
}

/* A PF's VF count: that many VFs, each on the driver (the PF keeps its
 * own). */
static bool vfs_applied(const VhHost *host, const VhAssignment *a, const VhPciDevice *d) {
        return d->sriov_numvfs == a->vfs && d->n_virtfns == a->vfs && vh_assignment_vfs_on_driver(host, a, d) == a->vfs;
}

static bool applied(const VhHost *host, const VhAssignment *a, const VhPciDevice *d) {
        const VhIommuGroup *g;

        if (a->vfs > 0)
                return vfs_applied(host, a, d);
        if (!on_driver(d, a->driver))
                return false;
        if (!a->group || d->iommu_group < 0)
                return true;
        g = vh_host_find_group(host, (unsigned) d->iommu_group);
        if (!g)
                return true;
        STRV_FOREACH(m, g->members) {
                const VhPciDevice *member = vh_host_find_device(host, *m);

                /* Bridges stay where they are, as the binder leaves them;
                 * mates a variant driver does not list go to vfio-pci. */
                if (member && !vh_pci_device_is_pci_bridge(member) && !on_driver(member, a->driver) &&
                    !vh_pci_device_is_bound_to_vfio(member))
                        return false;
        }
        return true;
}

static void find_serial_elsewhere(const VhHostFs *fs, const VhHost *host, const VhAssignment *a,
                                  VhAssignmentMatch *ret) {
        for (size_t i = 0; i < host->n_devices; i++) {
                const VhPciDevice *d = host->devices[i];
                VhIdentity id;

                if (strcmp(d->address, a->address) == 0 || d->vendor_id != a->identity.vendor ||
                    d->device_id != a->identity.device)
                        continue;
                vh_identity_read(fs, d, &id);
                if (id.has_dsn && id.dsn == a->identity.dsn) {
                        memcpy(ret->moved_to, d->address, sizeof(ret->moved_to));
                        return;
                }
        }
}

void vh_assignment_match(const VhHostFs *fs, const VhHost *host, const VhAssignment *a, VhAssignmentMatch *ret) {
        const VhPciDevice *d = vh_host_find_device(host, a->address);

        *ret = (VhAssignmentMatch) {};
        if (!d)
                ret->state = VH_ASSIGNMENT_WAITING;
        else {
                vh_identity_read(fs, d, &ret->present);
                if (vh_identity_compare(&a->identity, &ret->present) != VH_IDENTITY_SAME)
                        ret->state = VH_ASSIGNMENT_MISMATCH;
                else
                        ret->state = applied(host, a, d) ? VH_ASSIGNMENT_APPLIED : VH_ASSIGNMENT_NOT_APPLIED;
        }
        /* Only a serial number says it is the same card somewhere else;
         * equal ids alone could be its twin. */
        if (ret->state <= VH_ASSIGNMENT_MISMATCH && a->identity.has_dsn)
                find_serial_elsewhere(fs, host, a, ret);
}

bool vh_assignment_covers(const VhHost *host, const VhAssignment *a, const char *address) {
        const VhPciDevice *own, *d;

        if (strcmp(a->address, address) == 0)
                return true;
        d = vh_host_find_device(host, address);
        /* A PF's VF count covers its VFs. */
        if (a->vfs > 0)
                return d && d->physfn && strcmp(d->physfn, a->address) == 0;
        if (!a->group)
                return false;
        own = vh_host_find_device(host, a->address);
        return own && d && own->iommu_group >= 0 && own->iommu_group == d->iommu_group;
}

const VhAssignment *vh_assignments_covering(const VhAssignments *a, const VhHost *host, const char *address) {
        const VhAssignment *found = vh_assignments_find(a, address);

        if (found)
                return found;
        for (size_t i = 0; i < a->n; i++)
                if (vh_assignment_covers(host, &a->entries[i], address))
                        return &a->entries[i];
        return NULL;
}
