/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-iommu.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

VhIommuGroup *vh_iommu_group_ref(VhIommuGroup *g) {
        if (g)
                __atomic_add_fetch(&g->n_ref, 1, __ATOMIC_RELAXED);
        return g;
}

VhIommuGroup *vh_iommu_group_free(VhIommuGroup *g) {
        if (!g || __atomic_sub_fetch(&g->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        free(g->type);
        vh_strv_free(g->members);
        free(g->viability_reason);
        vh_strv_free(g->blockers);
        free(g);
        return NULL;
}

void vh_iommu_group_array_free(VhIommuGroup **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                vh_iommu_group_free(a[i]);
        free(a);
}

static bool parse_group_id(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!*s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v > INT32_MAX)
                return false;
        *ret = (unsigned) v;
        return true;
}

static int compare_members(const void *a, const void *b) {
        return vh_address_compare(*(char * const *) a, *(char * const *) b);
}

static int load_group(const VhHostFs *fs, const char *name, unsigned id, VhIommuGroup **ret) {
        _cleanup_(vh_iommu_group_freep) VhIommuGroup *g = NULL;
        size_t n;
        int r;

        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->n_ref = 1;
        g->id = id;

        r = vh_hostfs_list_dir(fs, &g->members, VH_SYSFS_IOMMU_GROUPS, name, VH_ATTR_GROUP_DEVICES, NULL);
        if (r < 0)
                return log_debug_errno(r, "IOMMU group %s: cannot list devices: %m", name);
        /* Bus order, as the devices are: text order differs once domains
         * differ in width. */
        n = vh_strv_length(g->members);
        if (n > 1)
                qsort(g->members, n, sizeof(char *), compare_members);

        /* "type" appeared in 5.6; older kernels do not say. */
        r = vh_hostfs_read_string(fs, &g->type, VH_SYSFS_IOMMU_GROUPS, name, VH_ATTR_GROUP_TYPE, NULL);
        if (r < 0)
                g->type = NULL;

        *ret = TAKE_PTR(g);
        return 0;
}

static int compare_groups(const void *a, const void *b) {
        const VhIommuGroup *x = *(VhIommuGroup * const *) a, *y = *(VhIommuGroup * const *) b;

        return (x->id > y->id) - (x->id < y->id);
}

int vh_iommu_load_group(const VhHostFs *fs, unsigned id, VhIommuGroup **ret) {
        char name[16];

        snprintf(name, sizeof(name), "%u", id);
        return load_group(fs, name, id, ret);
}

int vh_iommu_scan_groups(const VhHostFs *fs, VhIommuGroup ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **entries = NULL;
        VhIommuGroup **groups;
        size_t n = 0;
        int r;

        r = vh_hostfs_list_dir(fs, &entries, VH_SYSFS_IOMMU_GROUPS, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot list %s beneath %s: %m", VH_SYSFS_IOMMU_GROUPS, vh_hostfs_root(fs));

        groups = calloc(vh_strv_length(entries) + 1, sizeof(VhIommuGroup *));
        if (!groups)
                return -ENOMEM;

        STRV_FOREACH(e, entries) {
                unsigned id;

                if (!parse_group_id(*e, &id)) {
                        log_debug("Ignoring %s/%s: not a group number.", VH_SYSFS_IOMMU_GROUPS, *e);
                        continue;
                }

                r = load_group(fs, *e, id, &groups[n]);
                if (r == -ENOMEM) {
                        vh_iommu_group_array_free(groups, n);
                        return r;
                }
                if (r < 0) {
                        log_warning_errno(r, "Ignoring IOMMU group %s: %m", *e);
                        continue;
                }
                n++;
        }

        /* The directory listing is sorted as text ("10" before "2"). */
        if (n > 1)
                qsort(groups, n, sizeof(VhIommuGroup *), compare_groups);

        *ret = groups;
        *ret_n = n;
        return 0;
}

/* A member is harmless when it cannot do DMA on the host's behalf: on
 * vfio-pci, on no driver, or a PCI-to-PCI bridge on the port drivers. Not
 * every class 06xx qualifies: an ISA bridge on lpc_ich or a host bridge with a
 * driver blocks like any endpoint. */
bool vh_iommu_member_is_harmless(const VhPciDevice *d) {
        if (!d->driver || vh_pci_device_is_bound_to_vfio(d))
                return true;

        return vh_pci_device_is_pci_bridge(d) &&
                (strcmp(d->driver, VH_DRIVER_PCIEPORT) == 0 || strcmp(d->driver, "shpchp") == 0);
}

/* Chipset functions cannot go to a VM; binding them would take the host
 * apart: host/ISA/LPC/other bridges that are not PCI-to-PCI bridges, the
 * SMBus controller (sensors, SPD), and the platform's SPI flash controller
 * (class 0c80 on the root bus: the firmware's flash). Whether a driver is
 * bound says nothing about it: an LPC bridge without one still decodes
 * the host's legacy I/O. */
bool vh_iommu_member_is_chipset(const VhPciDevice *d) {
        uint32_t subclass = d->class_code >> 8;

        if ((d->class_code >> 16) == 0x06 && !vh_pci_device_is_pci_bridge(d))
                return true;
        if (subclass == 0x0c05)
                return true;
        /* DDDD:00:... — the bus number is the two digits after the domain. */
        return subclass == 0x0c80 && strncmp(strchr(d->address, ':') + 1, "00:", 3) == 0;
}

static int describe_blocker(const VhPciDevice *d, const char *member, char **ret) {
        if (!d)
                return asprintf(ret, "%s (not a PCI function)", member) < 0 ? -ENOMEM : 0;

        return asprintf(ret, "%s (%s) on %s", d->address, d->class_name, d->driver) < 0 ? -ENOMEM : 0;
}

int vh_iommu_group_evaluate(VhIommuGroup *g, const VhPciDevice * const *devices, size_t n_devices) {
        _cleanup_strv_free_ char **blockers = NULL, **descriptions = NULL;
        _cleanup_free_ char *list = NULL;
        bool chipset = false;
        size_t endpoints = 0;
        char *reason;
        int r;

        blockers = calloc(1, sizeof(char *));
        descriptions = calloc(1, sizeof(char *));
        if (!blockers || !descriptions)
                return -ENOMEM;

        for (size_t i = 0; g->members[i]; i++) {
                const VhPciDevice *d = NULL;
                char *text;

                for (size_t j = 0; j < n_devices; j++)
                        if (devices[j] && strcmp(devices[j]->address, g->members[i]) == 0) {
                                d = devices[j];
                                break;
                        }

                if (d && !vh_pci_device_is_pci_bridge(d))
                        endpoints++;
                if (d && vh_iommu_member_is_harmless(d))
                        continue;

                chipset = chipset || (d && vh_iommu_member_is_chipset(d));

                r = vh_strv_extend(&blockers, g->members[i]);
                if (r < 0)
                        return r;
                r = describe_blocker(d, g->members[i], &text);
                if (r < 0)
                        return r;
                r = vh_strv_push(&descriptions, text);
                if (r < 0) {
                        free(text);
                        return r;
                }
        }

        if (!blockers[0]) {
                if (endpoints == 0)
                        r = asprintf(&reason, "IOMMU group %u holds only PCI bridges; there is nothing to assign.", g->id);
                else
                        r = asprintf(&reason, "Every endpoint in IOMMU group %u is bound to vfio-pci or has no driver.", g->id);
                g->assignability = endpoints == 0 ? "nothing" : "assignable";
                if (r < 0)
                        return -ENOMEM;
                g->viable = true;
        } else {
                list = vh_strv_join(descriptions, ", ");
                if (!list)
                        return -ENOMEM;
                g->assignability = chipset ? "never" : "bind-first";
                if (chipset)
                        r = asprintf(&reason,
                                     "%s %s bound to a host driver, and the group holds chipset functions the host needs. "
                                     "Do not pass this group through; move the card to a slot with its own IOMMU group.",
                                     list, blockers[1] ? "are" : "is");
                else
                        r = asprintf(&reason,
                                     "%s %s bound to a host driver. Every endpoint in IOMMU group %u must be on vfio-pci "
                                     "or have no driver: bind %s to vfio-pci together with the rest of the group, or unbind %s.",
                                     list, blockers[1] ? "are" : "is", g->id,
                                     blockers[1] ? "them" : "it", blockers[1] ? "them" : "it");
                if (r < 0)
                        return -ENOMEM;
                g->viable = false;
        }

        free(g->viability_reason);
        g->viability_reason = reason;
        vh_strv_free(g->blockers);
        g->blockers = TAKE_PTR(blockers);
        return 0;
}

bool vh_iommu_enabled(const VhHostFs *fs) {
        _cleanup_strv_free_ char **units = NULL, **groups = NULL;

        if (vh_hostfs_list_dir(fs, &units, VH_SYSFS_CLASS_IOMMU, NULL) >= 0 && units[0])
                return true;
        if (vh_hostfs_list_dir(fs, &groups, VH_SYSFS_IOMMU_GROUPS, NULL) >= 0 && groups[0])
                return true;
        return false;
}
