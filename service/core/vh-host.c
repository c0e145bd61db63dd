/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-host.h"
#include "vh-kernel.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

VhHost *vh_host_free(VhHost *h) {
        if (!h)
                return NULL;
        vh_pci_device_array_free(h->devices, h->n_devices);
        vh_iommu_group_array_free(h->groups, h->n_groups);
        free(h);
        return NULL;
}

static int compare_device_address(const void *key, const void *element) {
        return vh_address_compare(key, (*(VhPciDevice * const *) element)->address);
}

VhPciDevice *vh_host_find_device(const VhHost *h, const char *address) {
        VhPciDevice **d;

        if (h->n_devices == 0)
                return NULL;
        d = bsearch(address, h->devices, h->n_devices, sizeof(VhPciDevice *), compare_device_address);
        return d ? *d : NULL;
}

static int compare_group_id(const void *key, const void *element) {
        unsigned id = *(const unsigned *) key, other = (*(VhIommuGroup * const *) element)->id;

        return (id > other) - (id < other);
}

VhIommuGroup *vh_host_find_group(const VhHost *h, unsigned id) {
        VhIommuGroup **g;

        if (h->n_groups == 0)
                return NULL;
        g = bsearch(&id, h->groups, h->n_groups, sizeof(VhIommuGroup *), compare_group_id);
        return g ? *g : NULL;
}

bool vh_host_vfio_available(const VhHostFs *fs) {
        _cleanup_free_ char *release = NULL;

        if (vh_kernel_vfio_pci_registered(fs))
                return true;

        /* Not loaded: is it installed for the running kernel, so that a
         * modprobe would succeed? The release is read beneath the root too. */
        if (vh_kernel_release(fs, &release) < 0)
                return false;
        return vh_kernel_module_file_lists(fs, release, "modules.dep", "vfio-pci") ||
                vh_kernel_module_file_lists(fs, release, "modules.builtin", "vfio-pci");
}

static int evaluate_groups(VhHost *h) {
        for (size_t i = 0; i < h->n_groups; i++) {
                VhIommuGroup *g = h->groups[i];
                _cleanup_free_ const VhPciDevice **members = NULL;
                size_t n = vh_strv_length(g->members);
                int r;

                members = calloc(n + 1, sizeof(VhPciDevice *));
                if (!members)
                        return -ENOMEM;

                /* A member that is not a PCI function stays NULL: it blocks. */
                for (size_t j = 0; j < n; j++)
                        members[j] = vh_address_is_valid(g->members[j]) ? vh_host_find_device(h, g->members[j]) : NULL;

                r = vh_iommu_group_evaluate(g, members, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vh_host_load(const VhHostFs *fs, VhPciNames *names, VhHost **ret) {
        _cleanup_(vh_host_freep) VhHost *h = NULL;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;

        r = vh_pci_scan(fs, names, &h->devices, &h->n_devices);
        if (r < 0)
                return r;
        r = vh_iommu_scan_groups(fs, &h->groups, &h->n_groups);
        if (r < 0)
                return r;
        r = evaluate_groups(h);
        if (r < 0)
                return r;

        h->iommu_enabled = vh_iommu_enabled(fs);
        h->vfio_available = vh_host_vfio_available(fs);

        log_debug("Host %s: %zu PCI functions, %zu IOMMU groups, IOMMU %s, vfio-pci %s.",
                  vh_hostfs_root(fs), h->n_devices, h->n_groups,
                  h->iommu_enabled ? "enabled" : "disabled",
                  h->vfio_available ? "available" : "unavailable");

        *ret = TAKE_PTR(h);
        return 0;
}

int vh_host_set_original_drivers(VhHost *h, VhJournal *journal) {
        for (size_t i = 0; i < h->n_devices; i++) {
                VhPciDevice *d = h->devices[i];
                VhJournalEntry *e = vh_journal_find(journal, d->address);

                free(d->original_driver);
                d->original_driver = NULL;
                if (e && e->original_driver) {
                        d->original_driver = strdup(e->original_driver);
                        if (!d->original_driver)
                                return -ENOMEM;
                }
        }
        return 0;
}
