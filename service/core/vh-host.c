/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
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
        if (h->indexed) {
                hdestroy_r(&h->device_index);
                hdestroy_r(&h->group_index);
        }
        free(h->group_keys);
        vh_pci_device_array_free(h->devices, h->n_devices);
        vh_iommu_group_array_free(h->groups, h->n_groups);
        free(h);
        return NULL;
}

static int compare_device_address(const void *key, const void *element) {
        return vh_address_compare(key, (*(VhPciDevice * const *) element)->address);
}

/* Fills the hash tables once the arrays are final. */
static int index_host(VhHost *h) {
        ENTRY e, *found;

        /* hsearch_r wants room to spare: at most 3/4 full. */
        if (hcreate_r(h->n_devices * 4 / 3 + 8, &h->device_index) == 0)
                return -ENOMEM;
        if (hcreate_r(h->n_groups * 4 / 3 + 8, &h->group_index) == 0) {
                hdestroy_r(&h->device_index);
                return -ENOMEM;
        }
        h->indexed = true;
        h->group_keys = calloc(h->n_groups + 1, sizeof(*h->group_keys));
        if (!h->group_keys)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_devices; i++) {
                e.key = h->devices[i]->address;
                e.data = h->devices[i];
                if (hsearch_r(e, ENTER, &found, &h->device_index) == 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < h->n_groups; i++) {
                snprintf(h->group_keys[i], sizeof(h->group_keys[i]), "%u", h->groups[i]->id);
                e.key = h->group_keys[i];
                e.data = h->groups[i];
                if (hsearch_r(e, ENTER, &found, &h->group_index) == 0)
                        return -ENOMEM;
        }
        return 0;
}

VhPciDevice *vh_host_find_device(const VhHost *h, const char *address) {
        VhPciDevice **d;

        if (h->n_devices == 0)
                return NULL;
        if (h->indexed) {
                ENTRY e = { .key = (char *) address }, *found = NULL;

                return hsearch_r(e, FIND, &found, (struct hsearch_data *) &h->device_index) ? found->data : NULL;
        }
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
        if (h->indexed) {
                char key[12];
                ENTRY e = { .key = key }, *found = NULL;

                snprintf(key, sizeof(key), "%u", id);
                return hsearch_r(e, FIND, &found, (struct hsearch_data *) &h->group_index) ? found->data : NULL;
        }
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

static int evaluate_group(VhHost *h, VhIommuGroup *g) {
        _cleanup_free_ const VhPciDevice **members = NULL;
        size_t n = vh_strv_length(g->members);

        members = calloc(n + 1, sizeof(VhPciDevice *));
        if (!members)
                return -ENOMEM;

        /* A member that is not a PCI function stays NULL: it blocks. */
        for (size_t j = 0; j < n; j++)
                members[j] = vh_address_is_valid(g->members[j]) ? vh_host_find_device(h, g->members[j]) : NULL;

        return vh_iommu_group_evaluate(g, members, n);
}

static int evaluate_groups(VhHost *h) {
        for (size_t i = 0; i < h->n_groups; i++) {
                int r = evaluate_group(h, h->groups[i]);

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
        r = index_host(h);
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

int vh_host_set_original_drivers(VhHost *h, VhJournal *journal, const VhHost *shared) {
        for (size_t i = 0; i < h->n_devices; i++) {
                VhPciDevice *d = h->devices[i];
                VhJournalEntry *e;

                if (shared && vh_host_find_device(shared, d->address) == d)
                        continue;
                e = vh_journal_find(journal, d->address);

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

static int compare_devices(const void *a, const void *b) {
        return vh_address_compare((*(VhPciDevice * const *) a)->address, (*(VhPciDevice * const *) b)->address);
}

static int compare_groups(const void *a, const void *b) {
        unsigned x = (*(VhIommuGroup * const *) a)->id, y = (*(VhIommuGroup * const *) b)->id;

        return (x > y) - (x < y);
}

static void mark_replaced(const VhHost *h, const char *address, bool *replaced) {
        VhPciDevice **d;

        if (h->n_devices == 0)
                return;
        d = bsearch(address, h->devices, h->n_devices, sizeof(VhPciDevice *), compare_device_address);
        if (d)
                replaced[d - h->devices] = true;
}

static bool fresh_has(VhPciDevice *const *fresh, size_t n, const char *address) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(fresh[i]->address, address) == 0)
                        return true;
        return false;
}

static bool group_listed(const int *ids, size_t n, int id) {
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

static int touch_address(char ***touched, const char *address) {
        return vh_strv_contains(*touched, address) ? 0 : vh_strv_extend(touched, address);
}

/* Adds the VFs of pf (as the model had it) that are no longer linked, and
 * the ones linked now that it did not have. */
static int touch_changed_virtfns(const VhHostFs *fs, const VhPciDevice *pf, char ***touched) {
        _cleanup_free_ VhVirtfn *now = NULL;
        size_t n_now = 0;
        int r;

        r = vh_pci_read_virtfns(fs, pf->address, &now, &n_now);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (size_t i = 0; i < pf->n_virtfns; i++) {
                bool kept = false;

                for (size_t k = 0; k < n_now && !kept; k++)
                        kept = strcmp(now[k].address, pf->virtfns[i].address) == 0;
                if (!kept && (r = touch_address(touched, pf->virtfns[i].address)) < 0)
                        return r;
        }
        for (size_t k = 0; k < n_now; k++) {
                bool had = false;

                for (size_t i = 0; i < pf->n_virtfns && !had; i++)
                        had = strcmp(now[k].address, pf->virtfns[i].address) == 0;
                if (!had && (r = touch_address(touched, now[k].address)) < 0)
                        return r;
        }
        return 0;
}

int vh_host_refresh(const VhHost *old, const VhHostFs *fs, VhPciNames *names, char *const *addresses, bool host_wide,
                    VhHost **ret) {
        _cleanup_(vh_host_freep) VhHost *h = NULL;
        _cleanup_strv_free_ char **touched = NULL;
        _cleanup_free_ VhPciDevice **fresh = NULL;
        _cleanup_free_ int *group_ids = NULL;
        _cleanup_free_ bool *replaced = NULL;
        size_t n_touched, n_fresh = 0, n_groups = 0;
        int r;

        /* The PF of a VF that came or went lists its VFs: read it too. */
        for (char *const *a = addresses; a && *a; a++)
                if (!vh_strv_contains(touched, *a) && (r = vh_strv_extend(&touched, *a)) < 0)
                        return r;
        n_touched = vh_strv_length(touched);
        for (size_t i = 0; i < n_touched; i++) {
                const VhPciDevice *o = vh_host_find_device(old, touched[i]);

                if (o && o->physfn && !vh_strv_contains(touched, o->physfn) && (r = vh_strv_extend(&touched, o->physfn)) < 0)
                        return r;
                /* And the other way: a PF whose VFs came or went (its
                 * sriov_numvfs changed, its driver left) takes them along,
                 * should their own events be late or lost. */
                if (o && o->sriov_totalvfs > 0 && (r = touch_changed_virtfns(fs, o, &touched)) < 0)
                        return r;
        }

        n_touched = vh_strv_length(touched);
        fresh = calloc(n_touched * 2 + 1, sizeof(VhPciDevice *));
        group_ids = calloc(n_touched * 2 + 1, sizeof(int));
        if (!fresh || !group_ids)
                return -ENOMEM;
        for (size_t i = 0; i < n_touched; i++) {
                const VhPciDevice *o = vh_host_find_device(old, touched[i]);
                VhPciDevice *d = NULL;

                r = vh_pci_device_load(fs, names, touched[i], &d);
                if (r == -ENOENT)
                        d = NULL;
                else if (r < 0)
                        goto fail;
                if (d) {
                        fresh[n_fresh++] = d;
                        /* A new VF names its PF only now. */
                        if (d->physfn && !vh_strv_contains(touched, d->physfn) && !fresh_has(fresh, n_fresh, d->physfn) &&
                            vh_address_is_valid(d->physfn)) {
                                VhPciDevice *pf = NULL;

                                if (vh_pci_device_load(fs, names, d->physfn, &pf) >= 0)
                                        fresh[n_fresh++] = pf;
                        }
                }
                if (o && o->iommu_group >= 0 && !group_listed(group_ids, n_groups, o->iommu_group))
                        group_ids[n_groups++] = o->iommu_group;
                if (d && d->iommu_group >= 0 && !group_listed(group_ids, n_groups, d->iommu_group))
                        group_ids[n_groups++] = d->iommu_group;
        }

        h = calloc(1, sizeof(*h));
        if (!h)
                goto oom;
        /* Functions: old's, but the ones read again, which replace them,
         * join them or are gone. */
        h->devices = calloc(old->n_devices + n_fresh + 1, sizeof(VhPciDevice *));
        replaced = calloc(old->n_devices + 1, sizeof(bool));
        if (!h->devices || !replaced)
                goto oom;
        for (size_t i = 0; i < n_touched; i++)
                mark_replaced(old, touched[i], replaced);
        for (size_t k = 0; k < n_fresh; k++)
                mark_replaced(old, fresh[k]->address, replaced);
        for (size_t i = 0; i < old->n_devices; i++)
                if (!replaced[i])
                        h->devices[h->n_devices++] = vh_pci_device_ref(old->devices[i]);
        for (size_t k = 0; k < n_fresh; k++) {
                h->devices[h->n_devices++] = fresh[k];
                fresh[k] = NULL;
        }
        if (h->n_devices > 1)
                qsort(h->devices, h->n_devices, sizeof(VhPciDevice *), compare_devices);

        /* Groups: old's, but the ones of these functions, read again. */
        h->groups = calloc(old->n_groups + n_groups + 1, sizeof(VhIommuGroup *));
        if (!h->groups)
                goto oom;
        for (size_t i = 0; i < old->n_groups; i++)
                if (!group_listed(group_ids, n_groups, (int) old->groups[i]->id))
                        h->groups[h->n_groups++] = vh_iommu_group_ref(old->groups[i]);
        for (size_t k = 0; k < n_groups; k++) {
                VhIommuGroup *g = NULL;

                r = vh_iommu_load_group(fs, (unsigned) group_ids[k], &g);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        goto fail;
                h->groups[h->n_groups++] = g;
        }
        if (h->n_groups > 1)
                qsort(h->groups, h->n_groups, sizeof(VhIommuGroup *), compare_groups);
        r = index_host(h);
        if (r < 0)
                goto fail;
        for (size_t k = 0; k < n_groups; k++) {
                VhIommuGroup *g = vh_host_find_group(h, (unsigned) group_ids[k]);

                if (g && (r = evaluate_group(h, g)) < 0)
                        goto fail;
        }

        h->iommu_enabled = host_wide ? vh_iommu_enabled(fs) : old->iommu_enabled;
        h->vfio_available = host_wide ? vh_host_vfio_available(fs) : old->vfio_available;
        *ret = TAKE_PTR(h);
        return 0;

oom:
        r = -ENOMEM;
fail:
        for (size_t k = 0; k < n_fresh; k++)
                vh_pci_device_free(fresh[k]);
        return r;
}
