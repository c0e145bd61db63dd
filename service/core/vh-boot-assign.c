/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-assignments.h"
#include "vh-boot-assign.h"
#include "vh-iommu.h"
#include "vh-kernel.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-pci.h"
#include "vh-strv.h"

static const char *const state_names[_VH_BOOT_ASSIGN_STATE_MAX] = {
        [VH_BOOT_ASSIGN_NONE] = "none",
        [VH_BOOT_ASSIGN_DISABLED] = "disabled",
        [VH_BOOT_ASSIGN_ERROR] = "error",
        [VH_BOOT_ASSIGN_MISMATCH] = "mismatch",
        [VH_BOOT_ASSIGN_APPLIED] = "applied",
        [VH_BOOT_ASSIGN_PENDING] = "pending",
        [VH_BOOT_ASSIGN_BOUND_ELSEWHERE] = "bound-elsewhere",
        [VH_BOOT_ASSIGN_RELEASED] = "released",
        [VH_BOOT_ASSIGN_VFS] = "vfs",
};

const char *vh_boot_assign_state_to_string(VhBootAssignState s) {
        return s >= 0 && s < _VH_BOOT_ASSIGN_STATE_MAX ? state_names[s] : NULL;
}

void vh_boot_assign_result_done(VhBootAssignResult *r) {
        free(r->name);
        free(r->driver);
        *r = (VhBootAssignResult) {};
}


/* ---------- the record of what was written (run/vfiohost/boot) ---------- */

static int record_write(const VhHostFs *fs, const char *address, const char *driver) {
        _cleanup_free_ char *line = NULL;
        int r;

        r = vh_hostfs_mkdir_p(fs, VH_RUN_BOOT_RECORDS, NULL);
        if (r < 0)
                return r;
        if (asprintf(&line, "%s\n", driver) < 0)
                return -ENOMEM;
        return vh_hostfs_write_file_atomic(fs, line, strlen(line), VH_RUN_BOOT_RECORDS, address, NULL);
}

/* ---------- applying ---------- */

/* Worst first: whatever still needs someone wins, so that the udev rule
 * starts vfiohostd when any member of a group needs it. */
static VhBootAssignState combine(VhBootAssignState a, VhBootAssignState b) {
        static const VhBootAssignState order[] = {
                VH_BOOT_ASSIGN_ERROR, VH_BOOT_ASSIGN_BOUND_ELSEWHERE, VH_BOOT_ASSIGN_PENDING, VH_BOOT_ASSIGN_APPLIED,
        };

        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (a == order[i] || b == order[i])
                        return order[i];
        return a;
}

static VhBootAssignState apply_one(const VhHostFs *fs, const VhAssignment *e, const char *address) {
        _cleanup_free_ char *override = NULL, *driver = NULL;
        int r;

        (void) vh_pci_read_driver_override(fs, address, &override);
        if (!vh_streq_null(override, e->driver)) {
                /* The record first: an override of ours never lacks one,
                 * so a stale one can always be undone. */
                r = record_write(fs, address, e->driver);
                if (r < 0) {
                        log_error_errno(r, "%s: cannot record the boot-time assignment in /%s: %m; left alone.",
                                        address, VH_RUN_BOOT_RECORDS);
                        return VH_BOOT_ASSIGN_ERROR;
                }
                r = vh_hostfs_write_string(fs, e->driver, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_DRIVER_OVERRIDE,
                                           NULL);
                if (r < 0) {
                        (void) vh_hostfs_remove(fs, VH_RUN_BOOT_RECORDS, address, NULL);
                        log_error_errno(r, "%s: cannot write %s to driver_override: %m.", address, e->driver);
                        return VH_BOOT_ASSIGN_ERROR;
                }
                log_info("%s: driver_override set to %s (assignment of %s).", address, e->driver,
                         e->name ?: e->address);
        }

        (void) vh_pci_read_driver(fs, address, &driver);
        if (vh_streq_null(driver, e->driver))
                return VH_BOOT_ASSIGN_APPLIED;
        if (driver) {
                /* A built-in driver probed during device_add, before udev
                 * saw the event. Unbinding here could block in its remove
                 * path: vfiohostd does it, with its checks. */
                log_notice("%s: already on %s; vfiohostd moves it to %s.", address, driver, e->driver);
                return VH_BOOT_ASSIGN_BOUND_ELSEWHERE;
        }
        /* Not registered yet: the rule loads the module, and the driver
         * core then attaches every unbound function naming it. */
        if (!vh_hostfs_exists(fs, VH_SYSFS_PCI_DRIVERS, e->driver, NULL))
                return VH_BOOT_ASSIGN_PENDING;

        r = vh_hostfs_write_string(fs, address, VH_SYSFS_PCI_BUS, VH_ATTR_DRIVERS_PROBE, NULL);
        if (r < 0) {
                log_error_errno(r, "%s: drivers_probe failed: %m (dmesg has %s's reason).", address, e->driver);
                return VH_BOOT_ASSIGN_ERROR;
        }
        /* drivers_probe says success even when nothing bound: look. */
        free(driver);
        driver = NULL;
        (void) vh_pci_read_driver(fs, address, &driver);
        return vh_streq_null(driver, e->driver) ? VH_BOOT_ASSIGN_APPLIED : VH_BOOT_ASSIGN_PENDING;
}

/* The other members of a group assignment's IOMMU group, when its own
 * function appears. Members whose event came first were left alone then
 * (the group was not known yet); those that come later get here through
 * their own event too, which finds everything already done. */
static VhBootAssignState apply_group(const VhHostFs *fs, const VhAssignment *e, const VhPciDevice *own,
                                     VhBootAssignState state) {
        _cleanup_(vh_iommu_group_freep) VhIommuGroup *g = NULL;
        int r;

        if (own->iommu_group < 0)
                return state;
        r = vh_iommu_load_group(fs, (unsigned) own->iommu_group, &g);
        if (r < 0) {
                log_error_errno(r, "%s: cannot read IOMMU group %d: %m.", own->address, own->iommu_group);
                return VH_BOOT_ASSIGN_ERROR;
        }
        STRV_FOREACH(m, g->members) {
                _cleanup_(vh_pci_device_freep) VhPciDevice *member = NULL;

                if (strcmp(*m, own->address) == 0 || vh_pci_device_load(fs, NULL, *m, &member) < 0)
                        continue;
                /* Bridges stay where they are, as the binder leaves them. */
                if (!vh_pci_device_is_pci_bridge(member))
                        state = combine(state, apply_one(fs, e, member->address));
        }
        return state;
}

/* ---------- undoing a stale early override ---------- */

/* 1: undone; 0: no record, nothing done; < 0: a write failed. Only an
 * override vfiohost recorded is ever touched. */
static int release(const VhHostFs *fs, const char *address, char **ret_driver) {
        _cleanup_free_ char *recorded = NULL, *override = NULL, *driver = NULL;
        int r;

        r = vh_hostfs_read_string(fs, &recorded, VH_RUN_BOOT_RECORDS, address, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "%s: cannot read its boot-time record: %m.", address);

        (void) vh_pci_read_driver_override(fs, address, &override);
        if (!vh_streq_null(override, recorded)) {
                /* Someone else set it since: theirs now. */
                log_info("%s: driver_override is no longer the %s vfiohost set; forgetting the record.", address,
                         recorded);
                (void) vh_hostfs_remove(fs, VH_RUN_BOOT_RECORDS, address, NULL);
                return 0;
        }

        /* A real write: a 0-byte write can be a no-op (docs/binding.md). */
        r = vh_hostfs_write_string(fs, "\n", VH_SYSFS_PCI_DEVICES, address, VH_ATTR_DRIVER_OVERRIDE, NULL);
        if (r < 0)
                return log_error_errno(r, "%s: cannot clear driver_override: %m.", address);

        (void) vh_pci_read_driver(fs, address, &driver);
        if (vh_streq_null(driver, recorded)) {
                /* Put there by us earlier in this boot (an initramfs with
                 * an older copy of the file): nothing holds it yet. */
                r = vh_hostfs_write_string(fs, address, VH_SYSFS_PCI_DRIVERS, recorded, VH_ATTR_UNBIND, NULL);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot unbind it from %s: %m.", address, recorded);
                r = vh_hostfs_write_string(fs, address, VH_SYSFS_PCI_BUS, VH_ATTR_DRIVERS_PROBE, NULL);
                if (r < 0)
                        log_warning_errno(r, "%s: drivers_probe failed: %m; it stays without a driver.", address);
        }

        r = vh_hostfs_remove(fs, VH_RUN_BOOT_RECORDS, address, NULL);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "%s: cannot remove its boot-time record: %m.", address);
        log_notice("%s: no assignment covers it any more; the driver_override to %s set earlier in this boot "
                   "is undone.", address, recorded);
        *ret_driver = TAKE_PTR(recorded);
        return 1;
}

static int finish_uncovered(const VhHostFs *fs, const char *address, VhBootAssignResult *ret) {
        _cleanup_free_ char *driver = NULL;
        int r;

        r = release(fs, address, &driver);
        if (r < 0) {
                ret->state = VH_BOOT_ASSIGN_ERROR;
                return r;
        }
        if (r > 0 && ret->state == VH_BOOT_ASSIGN_NONE) {
                ret->state = VH_BOOT_ASSIGN_RELEASED;
                free(ret->driver);
                ret->driver = TAKE_PTR(driver);
        }
        return 0;
}

/* ---------- which assignment ---------- */

/* Its own, or a group assignment whose function is present and shares
 * its IOMMU group (read from the links alone: this runs for every PCI
 * function at boot, and building the whole model each time would make
 * the boot quadratic in the number of functions). */
static const VhAssignment *find_covering(const VhHostFs *fs, const VhAssignments *a, const VhPciDevice *d) {
        const VhAssignment *e = vh_assignments_find(a, d->address);

        if (e || d->iommu_group < 0)
                return e;
        for (size_t i = 0; i < a->n; i++) {
                int group;

                if (a->entries[i].group && vh_pci_read_iommu_group(fs, a->entries[i].address, &group) >= 0 &&
                    group == d->iommu_group)
                        return &a->entries[i];
        }
        return NULL;
}

static int set_strdup(char **dst, const char *s) {
        free(*dst);
        *dst = s ? strdup(s) : NULL;
        return s && !*dst ? -ENOMEM : 0;
}

int vh_boot_assign(const VhHostFs *fs, const char *state_dir, const char *address, VhBootAssignResult *ret) {
        _cleanup_(vh_assignments_freep) VhAssignments *a = NULL;
        _cleanup_(vh_pci_device_freep) VhPciDevice *d = NULL, *own_loaded = NULL;
        const VhPciDevice *own;
        const VhAssignment *e;
        bool same;
        char canonical[VH_ADDRESS_MAX];
        char present[VH_IDENTITY_STRING_MAX], recorded[VH_IDENTITY_STRING_MAX];
        int r;

        *ret = (VhBootAssignResult) { .state = VH_BOOT_ASSIGN_ERROR };

        if (vh_address_normalize(address, canonical) < 0)
                return log_error_errno(EINVAL, "'%s' is not a PCI address.", address);

        if (vh_kernel_assignments_disabled(fs)) {
                log_debug("%s: %s=0 on the kernel command line: left alone.", canonical, VH_CMDLINE_ASSIGN);
                ret->state = VH_BOOT_ASSIGN_DISABLED;
                return 0;
        }

        /* Damaged or from a newer vfiohost: it says why, nothing is done. */
        r = vh_assignments_load(fs, state_dir, &a);
        if (r < 0)
                return r;

        ret->state = VH_BOOT_ASSIGN_NONE;
        r = vh_pci_device_load(fs, NULL, canonical, &d);
        if (r == -ENOENT)
                return 0;       /* gone again */
        if (r < 0) {
                ret->state = VH_BOOT_ASSIGN_ERROR;
                return log_error_errno(r, "%s: cannot read the function: %m.", canonical);
        }

        e = find_covering(fs, a, d);
        if (!e || (strcmp(e->address, canonical) != 0 && vh_pci_device_is_pci_bridge(d)))
                return finish_uncovered(fs, canonical, ret);

        own = d;
        if (strcmp(e->address, canonical) != 0) {
                r = vh_pci_device_load(fs, NULL, e->address, &own_loaded);
                if (r < 0)
                        return finish_uncovered(fs, canonical, ret);
                own = own_loaded;
        }
        vh_identity_read(fs, own, &ret->present);
        same = vh_identity_compare(&e->identity, &ret->present) == VH_IDENTITY_SAME;
        /* A member is covered only while its assignment's own function is
         * the card meant. */
        if (!same && own != d) {
                ret->present = (VhIdentity) {};
                return finish_uncovered(fs, canonical, ret);
        }

        memcpy(ret->address, e->address, sizeof(ret->address));
        ret->recorded = e->identity;
        if (set_strdup(&ret->name, e->name) < 0 || set_strdup(&ret->driver, e->driver) < 0) {
                ret->state = VH_BOOT_ASSIGN_ERROR;
                return log_oom();
        }

        if (!same) {
                log_warning("%s: the assignment %s is for %s, but the card there is %s: left alone "
                            "(vfiohostd reports it).", canonical, e->name ?: e->address,
                            vh_identity_format(&e->identity, recorded), vh_identity_format(&ret->present, present));
                ret->state = VH_BOOT_ASSIGN_MISMATCH;
                /* An override that an older copy of the file set for it
                 * earlier in this boot is not meant by this one either. */
                return finish_uncovered(fs, canonical, ret);
        }

        if (e->vfs > 0) {
                log_info("%s: %u VFs on %s are persisted; vfiohostd makes them once the PF's driver has it.",
                         canonical, e->vfs, e->driver);
                ret->state = VH_BOOT_ASSIGN_VFS;
                return 0;
        }

        ret->state = apply_one(fs, e, canonical);
        if (e->group && own == d)
                ret->state = apply_group(fs, e, own, ret->state);
        return ret->state == VH_BOOT_ASSIGN_ERROR ? -EIO : 0;
}
