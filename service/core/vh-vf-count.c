/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SetVfCount's core: plan, execute, roll back, reconcile (vh-vf-count.h,
 * docs/sriov.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-critical.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"
#include "vh-utf8.h"
#include "vh-vf-count.h"

static void vfs_free(VhVf *vfs, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(vfs[i].driver);
        free(vfs);
}

VhVfCountPlan *vh_vf_count_plan_free(VhVfCountPlan *p) {
        if (!p)
                return NULL;
        free(p->driver);
        free(p->groups);
        vh_strv_free(p->forced);
        vh_bind_plan_free(p->holders);
        vfs_free(p->vfs, p->n_vfs);
        free(p);
        return NULL;
}

/* ---- Reading the PF --------------------------------------------------- */

/* A decimal attribute of the function; -ENOENT when absent. */
static int read_unsigned(const VhHostFs *fs, const char *address, const char *attr, unsigned *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        unsigned long v;
        int r;

        r = vh_hostfs_read_string(fs, &s, VH_SYSFS_PCI_DEVICES, address, attr, NULL);
        if (r < 0)
                return r;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end || v > 65535)
                return -EBADMSG;
        *ret = (unsigned) v;
        return 0;
}

/* vfio_pci.enable_sriov: "Y" or "1" (kstrtobool). */
bool vh_vf_count_vfio_pci_enables_sriov(const VhHostFs *fs) {
        _cleanup_free_ char *s = NULL;

        if (vh_hostfs_read_string(fs, &s, VH_SYSFS_MODULE, VH_MODULE_VFIO_PCI, "parameters", VH_PARAM_ENABLE_SRIOV,
                                  NULL) < 0)
                return false;
        return s[0] == 'Y' || s[0] == 'y' || s[0] == '1';
}

static int add_group(VhVfCountPlan *p, int group) {
        unsigned *a;

        if (group < 0)
                return 0;
        for (size_t i = 0; i < p->n_groups; i++)
                if (p->groups[i] == (unsigned) group)
                        return 0;
        a = realloc(p->groups, sizeof(unsigned) * (p->n_groups + 1));
        if (!a)
                return -ENOMEM;
        p->groups = a;
        a[p->n_groups++] = (unsigned) group;
        return 0;
}

static int add_vf(VhVf **vfs, size_t *n, const char *address, int group, const char *driver) {
        VhVf *a = realloc(*vfs, sizeof(VhVf) * (*n + 1));

        if (!a)
                return -ENOMEM;
        *vfs = a;
        a[*n] = (VhVf) { .iommu_group = group };
        memcpy(a[*n].address, address, VH_ADDRESS_MAX);
        if (driver && !(a[*n].driver = strdup(driver)))
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* The VFs the PF has now, as sysfs says (not the model: after a write). */
static int read_vfs(VhBinder *b, const char *pf, VhVf **ret, size_t *ret_n) {
        _cleanup_free_ VhVirtfn *virtfns = NULL;
        VhVf *vfs = NULL;
        size_t n_virtfns = 0, n = 0;
        int r;

        r = vh_pci_read_virtfns(b->fs, pf, &virtfns, &n_virtfns);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_virtfns; i++) {
                _cleanup_free_ char *driver = NULL;
                int group = -1;

                (void) vh_pci_read_iommu_group(b->fs, virtfns[i].address, &group);
                (void) vh_pci_read_driver(b->fs, virtfns[i].address, &driver);
                r = add_vf(&vfs, &n, virtfns[i].address, group, driver);
                if (r < 0) {
                        vfs_free(vfs, n);
                        return r;
                }
        }
        *ret = vfs;
        *ret_n = n;
        return 0;
}

/* A dry run's answer: VF i is at the PF's routing id + offset + i * stride
 * (the SR-IOV capability's First VF Offset and VF Stride). */
static int predict_vfs(VhBinder *b, VhVfCountPlan *p) {
        unsigned offset, stride, domain, bus, slot, fn;

        if (read_unsigned(b->fs, p->pf, VH_ATTR_SRIOV_OFFSET, &offset) < 0 ||
            read_unsigned(b->fs, p->pf, VH_ATTR_SRIOV_STRIDE, &stride) < 0 ||
            sscanf(p->pf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
                return 0;       /* unknown: the reply lists none */
        for (unsigned i = 0; i < p->count; i++) {
                unsigned rid = ((bus << 8) | (slot << 3) | fn) + offset + i * stride;
                char address[VH_ADDRESS_MAX];
                int r;

                if (rid > 0xffff)
                        break;
                (void) snprintf(address, sizeof(address), "%04x:%02x:%02x.%x", domain, rid >> 8, (rid >> 3) & 0x1f,
                                rid & 7);
                r = add_vf(&p->vfs, &p->n_vfs, address, -1, p->driver);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- Planning --------------------------------------------------------- */

/* The VFs the change removes: the host must not need them (force
 * overrides), nobody may hold them (checked off the loop, not
 * overridable: their removal would block until the holder lets go). */
static int plan_removal(VhBinder *b, const VhHost *host, const VhPciDevice *pf, VhVfCountPlan *p,
                        const VhVfCountOptions *o, VhError *error) {
        _cleanup_free_ char *refusal = NULL;
        int r;

        for (size_t i = 0; i < pf->n_virtfns; i++) {
                const VhPciDevice *vf = vh_host_find_device(host, pf->virtfns[i].address);
                _cleanup_free_ char *why = NULL, *reason = NULL;

                if (!vf)
                        continue;
                r = add_group(p, vf->iommu_group);
                if (r < 0)
                        return r;
                r = vh_critical_check(b->fs, vf, &why);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (asprintf(&reason, "%s (VF %zu of %s): %s", vf->address, i, pf->address, why) < 0)
                        return -ENOMEM;
                if (!o->force)
                        return vh_error_set(error, VH_ERROR_CODE_HOST_CRITICAL,
                                            "Refusing to change the VF count of %s: the kernel removes its %u virtual "
                                            "functions first, and %s. Nothing was changed. Use --force "
                                            "(vfiohostctl vfs --force %s COUNT) only if the host can do without it.",
                                            pf->address, pf->sriov_numvfs, reason, pf->address);
                r = vh_strv_push(&p->forced, reason);
                if (r < 0)
                        return r;
                reason = NULL;
        }

        p->holders = calloc(1, sizeof(VhBindPlan));
        if (!p->holders)
                return -ENOMEM;
        memcpy(p->holders->address, pf->address, VH_ADDRESS_MAX);
        if (asprintf(&refusal, "Refusing to change the VF count of %s from %u to %u: the kernel removes its %u "
                     "virtual function%s first (sriov_numvfs goes to 0 before any other count)",
                     pf->address, p->count_before, p->count, p->count_before, p->count_before == 1 ? "" : "s") < 0)
                return -ENOMEM;
        return vh_binder_add_vf_holder_check(b, host, pf, p->holders, TAKE_PTR(refusal),
                                             "A virtual function that a process holds cannot be removed: the "
                                             "removal blocks until that process lets go. Stop those virtual "
                                             "machines and try again. Nothing was changed.");
}

/* Whether the PF's driver can create VFs, as far as sysfs tells before a
 * write: a driver must be bound (the kernel calls its sriov_configure),
 * and vfio-pci does it only with enable_sriov. */
static int plan_creation(VhBinder *b, const VhPciDevice *pf, VhError *error) {
        if (!vh_hostfs_exists(b->fs, VH_SYSFS_PCI_DEVICES, pf->address, VH_ATTR_SRIOV_NUMVFS, NULL))
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s has no sriov_numvfs: this kernel does not let its VFs be created through "
                                    "sysfs (Linux 3.8 or later does). Nothing was changed.", pf->address);
        if (!pf->driver)
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s has no driver bound, and VFs are created by the PF's driver. Bind its "
                                    "driver first (echo %s > /" VH_SYSFS_PCI_BUS "/" VH_ATTR_DRIVERS_PROBE
                                    "), then try again. Nothing was changed.", pf->address, pf->address);
        if (strcmp(pf->driver, VH_DRIVER_VFIO_PCI) == 0 && !vh_vf_count_vfio_pci_enables_sriov(b->fs))
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s is on vfio-pci, which creates VFs only with its module parameter "
                                    "enable_sriov set, and /" VH_SYSFS_MODULE "/" VH_MODULE_VFIO_PCI
                                    "/parameters/" VH_PARAM_ENABLE_SRIOV " is not Y. Set it (echo Y > /"
                                    VH_SYSFS_MODULE "/" VH_MODULE_VFIO_PCI "/parameters/" VH_PARAM_ENABLE_SRIOV
                                    ", or load the module with modprobe vfio-pci enable_sriov=1), then try "
                                    "again. Nothing was changed.", pf->address);
        return 0;
}

static int plan_driver(VhBinder *b, const VhHost *host, const char *driver, VhError *error) {
        char quoted[VH_EXCERPT_SIZE];

        if (!vh_journal_driver_name_is_valid(driver))
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "driver '%s' is not a kernel driver name. Nothing was changed.",
                                    vh_utf8_excerpt(driver, quoted));
        if (strcmp(driver, VH_DRIVER_VFIO_PCI) == 0 && !host->vfio_available)
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "vfio-pci is not available: it is neither loaded nor installed for the running "
                                    "kernel, so no VF can come up on it. Nothing was changed.");
        if (!vh_hostfs_exists(b->fs, VH_SYSFS_PCI_DRIVERS, driver, NULL))
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "driver %s is not loaded (no /" VH_SYSFS_PCI_DRIVERS "/%s): load it "
                                    "(modprobe %s) and try again. Nothing was changed.", driver, driver, driver);
        return 0;
}

int vh_vf_count_plan(VhBinder *b, const VhHost *host, const char *address, unsigned count,
                     const VhVfCountOptions *o, VhVfCountPlan **ret, VhError *error) {
        _cleanup_(vh_vf_count_plan_freep) VhVfCountPlan *p = NULL;
        char canonical[VH_ADDRESS_MAX], quoted[VH_EXCERPT_SIZE];
        const VhPciDevice *pf;
        int r;

        if (vh_address_normalize(address, canonical) < 0)
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ADDRESS, VH_ADDRESS_INVALID_FMT,
                                    vh_utf8_excerpt(address, quoted));
        pf = vh_host_find_device(host, canonical);
        if (!pf)
                return vh_error_set(error, VH_ERROR_CODE_NOT_FOUND, VH_ADDRESS_NOT_FOUND_FMT, canonical);
        if (pf->physfn)
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s is a virtual function of %s; only a physical function has VFs. Set the "
                                    "count on %s. Nothing was changed.", pf->address, pf->physfn, pf->physfn);
        if (pf->sriov_totalvfs == 0)
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s is not an SR-IOV physical function (it has no sriov_totalvfs), so it "
                                    "cannot have virtual functions. Nothing was changed.", pf->address);
        if (count > pf->sriov_totalvfs)
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s supports at most %u virtual functions (sriov_totalvfs); %u were asked for. "
                                    "Nothing was changed.", pf->address, pf->sriov_totalvfs, count);
        if (o->driver) {
                r = plan_driver(b, host, o->driver, error);
                if (r < 0)
                        return r;
        }

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        memcpy(p->pf, pf->address, VH_ADDRESS_MAX);
        p->count_before = pf->sriov_numvfs;
        p->count = count;
        p->dry_run = o->dry_run;
        p->autoprobe_before = pf->sriov_drivers_autoprobe;
        p->has_autoprobe = vh_hostfs_exists(b->fs, VH_SYSFS_PCI_DEVICES, pf->address,
                                            VH_ATTR_SRIOV_DRIVERS_AUTOPROBE, NULL);
        if (o->driver && !(p->driver = strdup(o->driver)))
                return -ENOMEM;

        /* Nothing to change: the answer lists the VFs there are. */
        if (vh_vf_count_plan_is_noop(p)) {
                r = read_vfs(b, p->pf, &p->vfs, &p->n_vfs);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(p);
                return 0;
        }

        r = plan_creation(b, pf, error);
        if (r < 0)
                return r;
        r = add_group(p, pf->iommu_group);
        if (r < 0)
                return r;
        if (p->count_before > 0) {
                r = plan_removal(b, host, pf, p, o, error);
                if (r < 0)
                        return r;
        }
        if (p->dry_run) {
                r = predict_vfs(b, p);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- Execution -------------------------------------------------------- */

static int write_failed(VhError *error, int r, const VhVfCountPlan *p, const char *what) {
        if (r == -ETIMEDOUT)
                return vh_error_set(error, VH_ERROR_CODE_TIMEOUT,
                                    "%s: %s did not return in time (some PF drivers take seconds per VF; a "
                                    "longer --write-timeout may be needed).", p->pf, what);
        return vh_error_set(error, VH_ERROR_CODE_FAILED, "%s: %s failed: %s.", p->pf, what, strerror(-r));
}

static int write_count(VhBinder *b, const VhVfCountPlan *p, unsigned count, VhError *error) {
        _cleanup_free_ char *what = NULL;
        char value[16];
        int r;

        (void) snprintf(value, sizeof(value), "%u", count);
        r = vh_binder_timed_write(b, value, VH_SYSFS_PCI_DEVICES, p->pf, VH_ATTR_SRIOV_NUMVFS);
        if (r == -ENOENT || r == -EINVAL || r == -ENOSYS || r == -EOPNOTSUPP)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s: its driver cannot create virtual functions (writing %u to sriov_numvfs: "
                                    "%s): it has no SR-IOV support, or it is switched off in the driver or the "
                                    "firmware.", p->pf, count, strerror(-r));
        if (r == -EBUSY)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s: the kernel refused %u VFs as busy (sriov_numvfs: %s): something else "
                                    "enabled VFs meanwhile.", p->pf, count, strerror(-r));
        if (r < 0) {
                if (asprintf(&what, "writing %u to sriov_numvfs", count) < 0)
                        return vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory.");
                return write_failed(error, r, p, what);
        }
        return 0;
}

static int write_autoprobe(VhBinder *b, const VhVfCountPlan *p, bool on, VhError *error) {
        int r = vh_binder_timed_write(b, on ? "1" : "0", VH_SYSFS_PCI_DEVICES, p->pf, VH_ATTR_SRIOV_DRIVERS_AUTOPROBE);

        return r < 0 ? write_failed(error, r, p, on ? "restoring sriov_drivers_autoprobe" :
                                                      "writing 0 to sriov_drivers_autoprobe") : 0;
}

/* A new VF onto driver and nothing else: the override first (autoprobe is
 * off, so no host driver had it), then a probe, then look. */
static int setup_vf(VhBinder *b, VhVf *vf, const char *driver, VhError *error) {
        _cleanup_free_ char *current = NULL;
        int r;

        r = vh_binder_timed_write(b, driver, VH_SYSFS_PCI_DEVICES, vf->address, VH_ATTR_DRIVER_OVERRIDE);
        if (r < 0)
                return vh_error_set(error, r == -ETIMEDOUT ? VH_ERROR_CODE_TIMEOUT : VH_ERROR_CODE_FAILED,
                                    "VF %s: writing %s to driver_override failed: %s.", vf->address, driver,
                                    strerror(-r));
        (void) vh_pci_read_driver(b->fs, vf->address, &current);
        /* Only on kernels without sriov_drivers_autoprobe can a host
         * driver have it: take it back. */
        if (current && strcmp(current, driver) != 0) {
                r = vh_binder_timed_write(b, vf->address, VH_SYSFS_PCI_DRIVERS, current, VH_ATTR_UNBIND);
                if (r < 0)
                        return vh_error_set(error, r == -ETIMEDOUT ? VH_ERROR_CODE_TIMEOUT : VH_ERROR_CODE_FAILED,
                                            "VF %s: unbinding %s failed: %s.", vf->address, current, strerror(-r));
        }
        if (!vh_streq_null(current, driver)) {
                r = vh_binder_timed_write(b, vf->address, VH_SYSFS_PCI_BUS, VH_ATTR_DRIVERS_PROBE, NULL);
                if (r < 0)
                        return vh_error_set(error, r == -ETIMEDOUT ? VH_ERROR_CODE_TIMEOUT : VH_ERROR_CODE_FAILED,
                                            "VF %s: drivers_probe failed: %s.", vf->address, strerror(-r));
        }

        free(vf->driver);
        vf->driver = NULL;
        vh_binder_wait_for_driver(b, vf->address, driver, &vf->driver);
        if (!vh_streq_null(vf->driver, driver))
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "VF %s did not bind to %s after drivers_probe (driver now: %s); the kernel log "
                                    "(dmesg) has the driver's reason.", vf->address, driver, vf->driver ?: "none");
        if (strcmp(driver, VH_DRIVER_VFIO_PCI) == 0) {
                VhBindTarget t = {};

                memcpy(t.address, vf->address, VH_ADDRESS_MAX);
                r = vh_binder_wait_for_vfio_node(b, &t, vf->iommu_group);
                free(t.vfio_group_path);
                free(t.vfio_device_path);
                if (r < 0)
                        return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                            "vfio-pci took VF %s but neither /dev/vfio/%d nor a /dev/vfio/devices "
                                            "node appeared.", vf->address, vf->iommu_group);
        }
        return 0;
}

static int journal_begin(VhBinder *b, VhVfCountPlan *p, VhError *error) {
        VhJournalVfCount e = {
                .count_before = p->count_before,
                .count_after = p->count,
                .driver = p->driver,
                .autoprobe_before = p->autoprobe_before,
        };
        int r;

        memcpy(e.pf, p->pf, VH_ADDRESS_MAX);
        pthread_mutex_lock(&b->lock);
        p->txn = e.txn = vh_journal_new_txn(b->journal);
        r = vh_journal_put_vf_count(b->journal, &e);
        if (r >= 0)
                r = vh_journal_save(b->fs, b->state_dir, b->journal);
        if (r < 0)
                vh_journal_remove_vf_count(b->journal, p->pf);
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "Cannot write the journal in %s/%s (%s); nothing was changed. Check that the "
                                    "state directory is writable.", b->state_dir, VH_JOURNAL_FILE, strerror(-r));
        return 0;
}

/* The record goes once the PF is settled; one that stays (a rollback that
 * did not complete) is the next start's to settle. */
static void journal_end(VhBinder *b, const char *pf, uint64_t txn) {
        VhJournalVfCount *e;

        pthread_mutex_lock(&b->lock);
        e = vh_journal_find_vf_count(b->journal, pf);
        if (e && e->txn == txn) {
                vh_journal_remove_vf_count(b->journal, pf);
                if (vh_journal_save(b->fs, b->state_dir, b->journal) < 0)
                        log_warning("Cannot update the journal in %s; the next start settles %s again.",
                                    b->state_dir, pf);
        }
        pthread_mutex_unlock(&b->lock);
}

static void error_append(VhError *error, const char *sentence) {
        _cleanup_free_ char *m = error->message;

        error->message = NULL;
        if (asprintf(&error->message, "%s %s", strempty(m), sentence) < 0)
                error->message = TAKE_PTR(m);
}

/* After a failure: new VFs that did not all come up go again (0 VFs is a
 * state nobody depends on: the old ones were checked unused), autoprobe
 * gets its value back. Returns whether that worked; error ends with where
 * the PF is. */
static bool roll_back(VhBinder *b, VhVfCountPlan *p, bool autoprobe_changed, VhError *error) {
        _cleanup_free_ char *sentence = NULL;
        VhError e = VH_ERROR_NULL;
        unsigned now = p->count_before;
        bool ok = true;

        (void) read_unsigned(b->fs, p->pf, VH_ATTR_SRIOV_NUMVFS, &now);
        if (now != 0 && now != p->count_before) {
                if (write_count(b, p, 0, &e) < 0) {
                        log_warning("Rollback of %s: %s", p->pf, e.message);
                        ok = false;
                }
                vh_error_clear(&e);
                (void) read_unsigned(b->fs, p->pf, VH_ATTR_SRIOV_NUMVFS, &now);
        }
        if (autoprobe_changed && write_autoprobe(b, p, p->autoprobe_before, &e) < 0) {
                log_warning("Rollback of %s: %s", p->pf, e.message);
                ok = false;
        }
        vh_error_clear(&e);

        if (asprintf(&sentence, "%s Now: %s has %u VF%s (it had %u)%s.",
                     ok ? (now == p->count_before ? "The PF is back as it was."
                                                   : "It was left without VFs (the old ones were unused).")
                        : "The rollback did not complete; the journal keeps the operation and vfiohostd "
                          "settles it at its next start.",
                     p->pf, now, now == 1 ? "" : "s", p->count_before,
                     !autoprobe_changed ? "" : ok ? ", sriov_drivers_autoprobe restored" :
                                                    ", sriov_drivers_autoprobe possibly still 0") >= 0)
                error_append(error, sentence);
        return ok;
}

static int execute_writes(VhBinder *b, VhVfCountPlan *p, bool *autoprobe_changed, VhError *error) {
        unsigned now = 0;
        int r;

        /* New VFs must not meet a host driver (it could bind, and a
         * netdev appear, before driver_override is set). */
        if (p->driver && p->has_autoprobe && p->autoprobe_before) {
                r = write_autoprobe(b, p, false, error);
                if (r < 0)
                        return r;
                *autoprobe_changed = true;
        }
        /* N→M with both nonzero is EBUSY in the kernel: through 0. */
        if (p->count_before > 0) {
                r = write_count(b, p, 0, error);
                if (r < 0)
                        return r;
        }
        if (p->count > 0) {
                r = write_count(b, p, p->count, error);
                if (r < 0)
                        return r;
        }
        /* All or none in the kernel; a driver that says yes and creates
         * nothing is the same as no. */
        r = read_unsigned(b->fs, p->pf, VH_ATTR_SRIOV_NUMVFS, &now);
        if (r < 0 || now != p->count)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s: after writing %u to sriov_numvfs the kernel reports %u VFs: its driver "
                                    "cannot create them.", p->pf, p->count, now);

        r = read_vfs(b, p->pf, &p->vfs, &p->n_vfs);
        if (r < 0)
                return vh_error_set(error, VH_ERROR_CODE_FAILED, "%s: cannot read its VFs: %s.", p->pf, strerror(-r));
        if (p->n_vfs != p->count)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s: sriov_numvfs says %u, but %zu virtfn links exist.", p->pf, p->count, p->n_vfs);
        for (size_t i = 0; p->driver && i < p->n_vfs; i++) {
                r = setup_vf(b, &p->vfs[i], p->driver, error);
                if (r < 0)
                        return r;
        }
        if (*autoprobe_changed) {
                r = write_autoprobe(b, p, true, error);
                if (r < 0)
                        return r;
                *autoprobe_changed = false;
        }
        return 0;
}

int vh_vf_count_execute(VhBinder *b, VhVfCountPlan *p, VhError *error) {
        bool autoprobe_changed = false;
        int r;

        if (p->holders) {
                r = vh_binder_check_holders(b, p->holders, error);
                if (r < 0)
                        return r;
        }
        if (p->dry_run || vh_vf_count_plan_is_noop(p))
                return 0;

        r = journal_begin(b, p, error);
        if (r < 0)
                return r;
        r = execute_writes(b, p, &autoprobe_changed, error);
        if (r >= 0) {
                log_info("%s: %u VF%s (had %u)%s%s.", p->pf, p->count, p->count == 1 ? "" : "s", p->count_before,
                         p->driver ? ", on " : "", strempty(p->driver));
                journal_end(b, p->pf, p->txn);
                return 0;
        }

        vfs_free(p->vfs, p->n_vfs);
        p->vfs = NULL;
        p->n_vfs = 0;
        if (roll_back(b, p, autoprobe_changed, error))
                journal_end(b, p->pf, p->txn);
        log_error("Changing the VF count of %s failed: %s", p->pf, error->message);
        return r;
}

/* ---- Reconcile at start ----------------------------------------------- */

int vh_vf_count_unfinished(VhBinder *b, char ***ret) {
        _cleanup_strv_free_ char **pfs = NULL;
        int r = 0;

        pfs = calloc(1, sizeof(char *));
        if (!pfs)
                return -ENOMEM;
        pthread_mutex_lock(&b->lock);
        for (size_t i = 0; i < b->journal->n_vf_counts && r >= 0; i++)
                r = vh_strv_extend(&pfs, b->journal->vf_counts[i].pf);
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pfs);
        return 0;
}

/* Settles one record (a copy: the journal is shared). Returns whether the
 * record may go. */
static bool reconcile_one(VhBinder *b, const VhJournalVfCount *e) {
        _cleanup_free_ char *note = NULL;
        VhVfCountPlan p = { .count_before = e->count_before, .count = e->count_after };
        VhError err = VH_ERROR_NULL;
        unsigned now = 0, autoprobe = 1;
        bool ok = true;

        memcpy(p.pf, e->pf, VH_ADDRESS_MAX);
        if (!vh_hostfs_exists(b->fs, VH_SYSFS_PCI_DEVICES, e->pf, NULL)) {
                log_notice("Reconcile: %s is gone; dropping its VF count record.", e->pf);
                return true;
        }

        /* VFs created but not yet given their driver get it now. */
        if (e->driver && read_vfs(b, e->pf, &p.vfs, &p.n_vfs) >= 0)
                for (size_t i = 0; i < p.n_vfs; i++) {
                        if (p.vfs[i].driver)
                                continue;
                        if (setup_vf(b, &p.vfs[i], e->driver, &err) < 0) {
                                log_warning("Reconcile: %s", err.message);
                                ok = false;
                        } else
                                log_notice("Reconcile: VF %s of %s put on %s after an unfinished SetVfCount.",
                                           p.vfs[i].address, e->pf, e->driver);
                        vh_error_clear(&err);
                }
        vfs_free(p.vfs, p.n_vfs);

        if (read_unsigned(b->fs, e->pf, VH_ATTR_SRIOV_DRIVERS_AUTOPROBE, &autoprobe) >= 0 &&
            (autoprobe != 0) != e->autoprobe_before) {
                if (write_autoprobe(b, &p, e->autoprobe_before, &err) < 0) {
                        log_warning("Reconcile: %s", err.message);
                        ok = false;
                } else
                        log_notice("Reconcile: sriov_drivers_autoprobe of %s restored to %d.", e->pf,
                                   e->autoprobe_before);
                vh_error_clear(&err);
        }

        (void) read_unsigned(b->fs, e->pf, VH_ATTR_SRIOV_NUMVFS, &now);
        if (now != e->count_after &&
            asprintf(&note, "An interrupted SetVfCount of %s (from %u to %u VFs) left it with %u VFs; vfiohostd "
                     "does not change the count on its own. Set it again if that is not what you want.",
                     e->pf, e->count_before, e->count_after, now) >= 0) {
                log_warning("%s", note);
                pthread_mutex_lock(&b->lock);
                if (vh_journal_add_note(b->journal, e->pf, note) < 0)
                        log_oom();
                pthread_mutex_unlock(&b->lock);
        }
        return ok;
}

int vh_vf_count_reconcile(VhBinder *b) {
        VhJournalVfCount *copy = NULL;
        size_t n = 0;
        int settled = 0, r = 0;

        pthread_mutex_lock(&b->lock);
        copy = calloc(b->journal->n_vf_counts + 1, sizeof(VhJournalVfCount));
        for (size_t i = 0; copy && i < b->journal->n_vf_counts && r >= 0; i++) {
                copy[n] = b->journal->vf_counts[i];
                copy[n].driver = NULL;
                if (b->journal->vf_counts[i].driver && !(copy[n].driver = strdup(b->journal->vf_counts[i].driver)))
                        r = -ENOMEM;
                n++;
        }
        pthread_mutex_unlock(&b->lock);

        for (size_t i = 0; copy && r >= 0 && i < n; i++)
                if (reconcile_one(b, &copy[i])) {
                        journal_end(b, copy[i].pf, copy[i].txn);
                        settled++;
                }
        for (size_t i = 0; copy && i < n; i++)
                free(copy[i].driver);
        free(copy);
        if (!copy || r < 0)
                return -ENOMEM;
        return settled;
}
