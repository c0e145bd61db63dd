/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vh-binder.h"
#include "vh-critical.h"
#include "vh-holders.h"
#include "vh-iommu.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-modules.h"
#include "vh-names.h"
#include "vh-strv.h"
#include "vh-utf8.h"
#include "vh-vfio-driver.h"

/* How long a VFIO node may take to appear after vfio-pci took the function,
 * and a driver to show up after drivers_probe or bind: drivers that probe
 * asynchronously bind after the write has returned. */
#define VFIO_NODE_WAIT_USEC (2 * 1000 * 1000)
#define DRIVER_WAIT_USEC    (2 * 1000 * 1000)
#define POLL_USEC           (10 * 1000)

static void target_clear(VhBindTarget *t) {
        free(t->driver_before);
        free(t->override_before);
        free(t->original_driver);
        free(t->original_override);
        free(t->driver_after);
        free(t->vfio_group_path);
        free(t->vfio_device_path);
        free(t->vfio_driver);
}

VhBindPlan *vh_bind_plan_free(VhBindPlan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_targets; i++)
                target_clear(&p->targets[i]);
        free(p->targets);
        vh_strv_free(p->forced);
        for (size_t i = 0; i < p->n_holder_checks; i++) {
                vh_strv_free(p->holder_checks[i].nodes);
                vh_strv_free(p->holder_checks[i].node_vfs);
                free(p->holder_checks[i].refusal);
        }
        free(p->holder_checks);
        vh_strv_free(p->vm_names);
        free(p->driver);
        free(p);
        return NULL;
}

bool vh_bind_plan_is_noop(const VhBindPlan *p) {
        for (size_t i = 0; i < p->n_targets; i++)
                if (!p->targets[i].noop)
                        return false;
        return true;
}

int vh_binder_new(const VhHostFs *fs, const char *state_dir, uint64_t write_timeout_usec, VhBinder **ret) {
        _cleanup_(vh_binder_freep) VhBinder *b = NULL;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        pthread_mutex_init(&b->lock, NULL);
        b->fs = fs;
        b->write_timeout_usec = write_timeout_usec;
        b->state_dir = strdup(state_dir);
        if (!b->state_dir)
                return -ENOMEM;

        r = vh_journal_load(fs, state_dir, &b->journal);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(b);
        return 0;
}

VhBinder *vh_binder_free(VhBinder *b) {
        if (!b)
                return NULL;
        vh_journal_free(b->journal);
        free(b->state_dir);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return NULL;
}

/* ---- Writes under a timeout ------------------------------------------ */

/* Shared by the waiting worker and the writer thread; the last one out
 * frees it, so a writer stuck in the kernel for ever leaks only this. */
typedef struct WriteJob {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned refs;
        bool done;
        int result;

        const VhHostFs *fs;
        char *value;
        char *path[3];
} WriteJob;

static void write_job_unref_locked(WriteJob *j) {
        bool last = --j->refs == 0;

        pthread_mutex_unlock(&j->lock);
        if (!last)
                return;
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->cond);
        vh_hostfs_unref(j->fs);
        free(j->value);
        for (size_t i = 0; i < ELEMENTSOF(j->path); i++)
                free(j->path[i]);
        free(j);
}

static void *write_job_run(void *userdata) {
        WriteJob *j = userdata;
        int r;

        r = vh_hostfs_write_string(j->fs, j->value, j->path[0], j->path[1], j->path[2], NULL);

        pthread_mutex_lock(&j->lock);
        j->result = r;
        j->done = true;
        pthread_cond_signal(&j->cond);
        write_job_unref_locked(j);
        return NULL;
}

/* Writes value to the attribute named by up to three path components
 * (NULL-terminated early); -ETIMEDOUT when the write has not returned in
 * time. The write then goes on in its thread, and we go on without it. */
static int timed_write(VhBinder *b, const char *value, const char *p0, const char *p1, const char *p2) {
        pthread_attr_t attr;
        struct timespec deadline;
        pthread_t thread;
        WriteJob *j;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        pthread_mutex_init(&j->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&j->cond, &ca);
        pthread_condattr_destroy(&ca);
        j->refs = 2;
        /* Its own reference: the writer may outlive the daemon's. */
        j->fs = vh_hostfs_ref(b->fs);
        j->value = strdup(value);
        j->path[0] = strdup(p0);
        j->path[1] = p1 ? strdup(p1) : NULL;
        j->path[2] = p2 ? strdup(p2) : NULL;
        if (!j->value || !j->path[0] || (p1 && !j->path[1]) || (p2 && !j->path[2])) {
                j->refs = 1;
                pthread_mutex_lock(&j->lock);
                write_job_unref_locked(j);
                return -ENOMEM;
        }

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&thread, &attr, write_job_run, j);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                j->refs = 1;
                pthread_mutex_lock(&j->lock);
                write_job_unref_locked(j);
                return r;
        }

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t) (b->write_timeout_usec / 1000000);
        deadline.tv_nsec += (long) (b->write_timeout_usec % 1000000) * 1000;
        if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
        }

        pthread_mutex_lock(&j->lock);
        while (!j->done)
                if (pthread_cond_timedwait(&j->cond, &j->lock, &deadline) == ETIMEDOUT)
                        break;
        r = j->done ? j->result : -ETIMEDOUT;
        write_job_unref_locked(j);
        return r;
}

/* ---- Journal ---------------------------------------------------------- */

static int journal_save_locked(VhBinder *b, VhError *error) {
        int r = vh_journal_save(b->fs, b->state_dir, b->journal);

        if (r < 0)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "Cannot write the journal in %s/%s (%s); nothing was changed. "
                                    "Check that the state directory is writable.",
                                    b->state_dir, VH_JOURNAL_FILE, strerror(-r));
        return 0;
}

/* Back to what is on disk: entries that could not be made durable must not
 * show as OriginalDriver, nor be written later by another operation. */
static void journal_revert_locked(VhBinder *b) {
        VhJournal *durable = NULL;

        if (vh_journal_load(b->fs, b->state_dir, &durable) < 0) {
                log_warning("Cannot re-read the journal in %s after a failed write.", b->state_dir);
                return;
        }
        vh_journal_free(b->journal);
        b->journal = durable;
}

static int journal_record(VhBinder *b, VhBindPlan *p, VhJournalState state, VhError *error) {
        int r = 0;

        pthread_mutex_lock(&b->lock);
        /* One transaction per operation: reconcile undoes or finishes
         * exactly the entries this one marks, nothing else. */
        p->txn = vh_journal_new_txn(b->journal);
        for (size_t i = 0; i < p->n_targets && r >= 0; i++) {
                const VhBindTarget *t = &p->targets[i];

                if (t->noop)
                        continue;
                if (p->verb == VH_BIND_VERB_BIND)
                        r = vh_journal_put(b->journal, t->address, state, p->txn, true,
                                           t->original_driver, t->original_override);
                else if (vh_journal_find(b->journal, t->address))
                        vh_journal_set_state(b->journal, t->address, state, p->txn);
                else
                        /* Bound by someone else, original unknown: journal it
                         * so that a crash mid-way still ends in a probe. */
                        r = vh_journal_put(b->journal, t->address, state, p->txn, false, NULL, NULL);
                if (r >= 0)
                        vh_journal_set_identity(b->journal, t->address, &t->identity);
                if (r >= 0 && p->verb == VH_BIND_VERB_BIND)
                        r = vh_journal_set_driver(b->journal, t->address, t->vfio_driver);
        }
        if (r >= 0)
                r = journal_save_locked(b, error);
        else
                r = vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory while journaling.");
        if (r < 0)
                journal_revert_locked(b);
        pthread_mutex_unlock(&b->lock);
        return r;
}

/* After an operation, each function's entry says where it ended: on its
 * VFIO driver ("bound"), released (no entry), or — when its own rollback
 * failed (restore_failed) — still marked by this transaction for the next
 * start to finish. on_vfio: where the operation left the functions that
 * did not fail (bind succeeded or unbind rolled back). */
static void journal_finish(VhBinder *b, const VhBindPlan *p, bool on_vfio) {
        pthread_mutex_lock(&b->lock);
        for (size_t i = 0; i < p->n_targets; i++) {
                const VhBindTarget *t = &p->targets[i];

                if (t->noop || t->restore_failed)
                        continue;
                if (on_vfio && (p->verb == VH_BIND_VERB_BIND || t->journaled_before))
                        vh_journal_set_state(b->journal, t->address, VH_JOURNAL_BOUND, p->txn);
                else
                        /* Released, or back on vfio-pci as someone else left
                         * it, with nothing of ours to remember. */
                        vh_journal_remove(b->journal, t->address);
        }
        if (vh_journal_save(b->fs, b->state_dir, b->journal) < 0)
                log_warning("Cannot update the journal in %s; the next start reconciles it.", b->state_dir);
        pthread_mutex_unlock(&b->lock);
}

/* ---- Planning --------------------------------------------------------- */

/* Replaces *dst with a copy of src (NULL allowed). */
static int set_string(char **dst, const char *src) {
        char *copy = NULL;

        if (src) {
                copy = strdup(src);
                if (!copy)
                        return -ENOMEM;
        }
        free(*dst);
        *dst = copy;
        return 0;
}

static int add_target(VhBindPlan *p, const VhPciDevice *d) {
        VhBindTarget *a, *t;

        a = realloc(p->targets, sizeof(VhBindTarget) * (p->n_targets + 1));
        if (!a)
                return -ENOMEM;
        p->targets = a;
        t = &a[p->n_targets++];
        memset(t, 0, sizeof(*t));
        memcpy(t->address, d->address, VH_ADDRESS_MAX);
        t->identity = (VhJournalIdentity) {
                .vendor = d->vendor_id,
                .device = d->device_id,
                .subsystem_vendor = d->subsystem_vendor_id,
                .subsystem_device = d->subsystem_device_id,
        };
        if (set_string(&t->driver_before, d->driver) < 0 || set_string(&t->override_before, d->driver_override) < 0)
                return -ENOMEM;
        return 0;
}

static bool plan_has_target(const VhBindPlan *p, const char *address) {
        for (size_t i = 0; i < p->n_targets; i++)
                if (strcmp(p->targets[i].address, address) == 0)
                        return true;
        return false;
}

/* "0000:3b:02.1 (pid 4242 (qemu-system-x86) holds /dev/vfio/24), ...": the
 * holders sorted by the VF whose node they hold. */
static char *describe_vf_holders(const VhHolderCheck *c, const VhHolder *holders, size_t n) {
        _cleanup_strv_free_ char **vfs = NULL, **l = NULL;
        _cleanup_free_ VhHolder *of_vf = NULL;

        of_vf = calloc(n + 1, sizeof(VhHolder));
        l = calloc(1, sizeof(char *));
        if (!of_vf || !l)
                return NULL;
        STRV_FOREACH(vf, c->node_vfs) {
                _cleanup_free_ char *description = NULL;
                char *item;
                size_t m = 0;

                if (vh_strv_contains(vfs, *vf))
                        continue;
                if (vh_strv_extend(&vfs, *vf) < 0)
                        return NULL;
                /* Views of the holders, not copies: the strings stay theirs. */
                for (size_t i = 0; i < n; i++)
                        for (size_t k = 0; c->nodes[k] && c->node_vfs[k]; k++)
                                if (strcmp(c->node_vfs[k], *vf) == 0 && strcmp(c->nodes[k], holders[i].node) == 0) {
                                        of_vf[m++] = holders[i];
                                        break;
                                }
                if (m == 0)
                        continue;
                description = vh_holders_describe(of_vf, m);
                if (!description || asprintf(&item, "%s (%s)", *vf, description) < 0)
                        return NULL;
                if (vh_strv_push(&l, item) < 0) {
                        free(item);
                        return NULL;
                }
        }
        return vh_strv_join(l, ", ");
}

/* Whether a member of g is a chipset function (vh_iommu_member_is_chipset). */
static bool group_has_chipset(const VhHost *host, const VhIommuGroup *g) {
        STRV_FOREACH(m, g->members) {
                const VhPciDevice *md = vh_address_is_valid(*m) ? vh_host_find_device(host, *m) : NULL;

                if (md && vh_iommu_member_is_chipset(md))
                        return true;
        }
        return false;
}

/* A VM's name as the bus layer knows it (vm_names), over the VMM's own. */
static int apply_vm_names(VhHolder *holders, size_t n, char **vm_names) {
        for (size_t i = 0; i < n; i++)
                for (char **p = vm_names; p && p[0] && p[1]; p += 2) {
                        char *name;

                        if (atoi(p[0]) != (int) holders[i].pid)
                                continue;
                        name = strdup(p[1]);
                        if (!name)
                                return -ENOMEM;
                        free(holders[i].vm_name);
                        holders[i].vm_name = name;
                        break;
                }
        return 0;
}

/* Processes holding the nodes of one check, as a refusal. */
static int check_holders(const VhHostFs *fs, const VhHolderCheck *c, char **vm_names, VhError *error) {
        _cleanup_free_ char *description = NULL;
        VhHolder *holders = NULL;
        size_t n = 0;
        int r;

        r = vh_holders_find(fs, c->nodes, &holders, &n);
        if (r < 0)
                return vh_error_set(error, VH_ERROR_CODE_FAILED, "Cannot scan processes for users of %s: %s", c->address,
                                    strerror(-r));
        if (n == 0)
                return 0;

        if (apply_vm_names(holders, n, vm_names) < 0) {
                vh_holders_free(holders, n);
                return vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory.");
        }
        description = c->node_vfs ? describe_vf_holders(c, holders, n) : vh_holders_describe(holders, n);
        vh_holders_free(holders, n);
        if (c->node_vfs)
                return vh_error_set(error, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                                    "%s. In use: %s. %s", c->refusal, strempty(description), c->advice);
        return vh_error_set(error, VH_ERROR_CODE_IN_USE,
                            "%s is in use: %s. %s", c->address, strempty(description), c->advice);
}

/* Takes nodes. */
static int plan_add_holder_check(VhBindPlan *p, const char *address, char **nodes, const char *advice) {
        VhHolderCheck *a = realloc(p->holder_checks, sizeof(VhHolderCheck) * (p->n_holder_checks + 1));

        if (!a) {
                vh_strv_free(nodes);
                return -ENOMEM;
        }
        p->holder_checks = a;
        a[p->n_holder_checks++] = (VhHolderCheck) { .nodes = nodes, .advice = advice };
        memcpy(a[p->n_holder_checks - 1].address, address, VH_ADDRESS_MAX);
        return 0;
}

/* The nodes through which a process can hold a VF: its host driver's
 * (DRM, NVIDIA) and its VFIO group and device nodes. Appends them to
 * nodes, and the VF's address for each to node_vfs. */
static int add_vf_nodes(VhBinder *b, const VhHost *host, const char *vf, char ***nodes, char ***node_vfs) {
        _cleanup_strv_free_ char **driver_nodes = NULL;
        _cleanup_free_ char *group_path = NULL, *device_path = NULL;
        const VhPciDevice *d = vh_host_find_device(host, vf);
        int group = -1, r;

        if (d) {
                r = vh_holders_driver_nodes(b->fs, d, &driver_nodes);
                if (r < 0)
                        return r;
                group = d->iommu_group;
        } else
                (void) vh_pci_read_iommu_group(b->fs, vf, &group);
        r = vh_pci_read_vfio_nodes(b->fs, vf, group, &group_path, &device_path);
        if (r < 0)
                return r;
        if ((group_path && vh_strv_push(&driver_nodes, TAKE_PTR(group_path)) < 0) ||
            (device_path && vh_strv_push(&driver_nodes, TAKE_PTR(device_path)) < 0))
                return -ENOMEM;
        STRV_FOREACH(n, driver_nodes)
                if (vh_strv_extend(nodes, *n) < 0 || vh_strv_extend(node_vfs, vf) < 0)
                        return -ENOMEM;
        return 0;
}

/* "0000:3b:02.0 on iavf, 0000:3b:02.1 on vfio-pci" */
static char *describe_virtfns(const VhHost *host, const VhPciDevice *pf) {
        _cleanup_strv_free_ char **l = NULL;

        l = calloc(1, sizeof(char *));
        if (!l)
                return NULL;
        for (size_t i = 0; i < pf->n_virtfns; i++) {
                const VhPciDevice *vf = vh_host_find_device(host, pf->virtfns[i].address);
                char *item;

                if (asprintf(&item, "%s %s%s", pf->virtfns[i].address, vf && vf->driver ? "on " : "",
                             vf && vf->driver ? vf->driver : "without a driver") < 0)
                        return NULL;
                if (vh_strv_push(&l, item) < 0) {
                        free(item);
                        return NULL;
                }
        }
        return vh_strv_join(l, ", ");
}

/* A PF's driver disables SR-IOV when it lets go of the PF (a host driver's
 * remove, and vfio-pci's too), and every VF vanishes: removing one that a
 * VM holds blocks until the VM lets go, for ever if it never does. So a
 * bind or unbind of a PF with VFs enabled is refused unless forced, and
 * the VFs' holders refuse it even then (checked off the loop). */
static int plan_check_virtfns(VhBinder *b, const VhHost *host, VhBindPlan *p, VhError *error) {
        const char *verb = p->verb == VH_BIND_VERB_BIND ? "bind" : "unbind";
        int r;

        for (size_t i = 0; i < p->n_targets; i++) {
                const VhBindTarget *t = &p->targets[i];
                const VhPciDevice *pf = vh_host_find_device(host, t->address);
                _cleanup_free_ char *vfs = NULL, *refusal = NULL, *reason = NULL;
                size_t count;

                if (t->noop || !pf || (pf->n_virtfns == 0 && pf->sriov_numvfs == 0))
                        continue;
                count = pf->n_virtfns > 0 ? pf->n_virtfns : pf->sriov_numvfs;
                vfs = describe_virtfns(host, pf);
                if (!vfs)
                        return -ENOMEM;
                if (asprintf(&refusal, "Refusing to %s %s: it has %zu virtual function%s enabled (%s), and %s%s%s "
                             "disables SR-IOV, which removes %s",
                             verb, pf->address, count, count == 1 ? "" : "s", *vfs ? vfs : "not listed",
                             p->verb == VH_BIND_VERB_BIND ? "unbinding its driver" : "unbinding vfio-pci from it",
                             p->verb == VH_BIND_VERB_BIND && t->driver_before ? " " : "",
                             p->verb == VH_BIND_VERB_BIND ? strempty(t->driver_before) : "",
                             count == 1 ? "it" : "them all") < 0)
                        return -ENOMEM;

                if (!p->options.force)
                        return vh_error_set(error, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                                            "%s. Stop the virtual machines that use them, then set the VF count to 0 "
                                            "first (vfiohostctl vfs %s 0, or Manager1.SetVfCount) and try again. "
                                            "Use --force (vfiohostctl %s --force %s) only if losing "
                                            "them is what you want; it is refused while a process holds one.",
                                            refusal, pf->address, verb, pf->address);

                if (asprintf(&reason, "%s has %zu virtual function%s (%s), which the %s removes", pf->address, count,
                             count == 1 ? "" : "s", *vfs ? vfs : "not listed", verb) < 0)
                        return -ENOMEM;
                r = vh_strv_push(&p->forced, reason);
                if (r < 0)
                        return r;
                reason = NULL;

                r = vh_binder_add_vf_holder_check(b, host, pf, p, TAKE_PTR(refusal),
                                                  "A virtual function that a process holds cannot be removed: the "
                                                  "removal blocks until that process lets go, so force does not "
                                                  "override this. Stop those virtual machines, then set the VF count "
                                                  "to 0 first (sriov_numvfs).");
                if (r < 0)
                        return r;
        }
        return 0;
}

int vh_binder_add_vf_holder_check(VhBinder *b, const VhHost *host, const VhPciDevice *pf, VhBindPlan *p,
                                  char *refusal, const char *advice) {
        _cleanup_strv_free_ char **nodes = NULL, **node_vfs = NULL;
        _cleanup_free_ char *owned = refusal;
        int r;

        nodes = calloc(1, sizeof(char *));
        node_vfs = calloc(1, sizeof(char *));
        if (!nodes || !node_vfs)
                return -ENOMEM;
        for (size_t k = 0; k < pf->n_virtfns; k++) {
                r = add_vf_nodes(b, host, pf->virtfns[k].address, &nodes, &node_vfs);
                if (r < 0)
                        return r;
        }
        r = plan_add_holder_check(p, pf->address, TAKE_PTR(nodes), advice);
        if (r < 0)
                return r;
        p->holder_checks[p->n_holder_checks - 1].node_vfs = TAKE_PTR(node_vfs);
        p->holder_checks[p->n_holder_checks - 1].refusal = TAKE_PTR(owned);
        return 0;
}

int vh_binder_check_holders(VhBinder *b, const VhBindPlan *p, VhError *error) {
        for (size_t i = 0; i < p->n_holder_checks; i++) {
                int r = check_holders(b->fs, &p->holder_checks[i], p->vm_names, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int vfio_pci_unavailable(VhError *error) {
        return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                            "vfio-pci is not available: it is neither loaded nor installed for the running kernel. "
                            "Install a kernel built with CONFIG_VFIO_PCI (module vfio-pci).");
}

/* The bind's driver: a VFIO driver the host has, and a variant only for a
 * function it lists (docs/binding.md, "Variant drivers"). */
static int plan_check_driver(VhBinder *b, const VhHost *host, const VhPciDevice *d, const VhBindPlan *p,
                             VhError *error) {
        char quoted[VH_EXCERPT_SIZE];

        if (!vh_journal_driver_name_is_valid(p->driver))
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "driver '%s' is not a driver name (1 to 64 letters, digits, '_', '-', '.'). "
                                    "Pass vfio-pci (the default) or a vfio-pci variant driver. Nothing was changed.",
                                    vh_utf8_excerpt(p->driver, quoted));
        if (strcmp(p->driver, VH_DRIVER_VFIO_PCI) == 0)
                return host->vfio_available ? 0 : vfio_pci_unavailable(error);

        switch (vh_vfio_driver_lookup(b->fs, p->driver)) {
        case VH_VFIO_DRIVER_OTHER:
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s is not a VFIO driver: its module is not built on vfio_pci_core, so it would "
                                    "not hand %s to VFIO. Pass vfio-pci (the default) or a vfio-pci variant driver "
                                    "that supports the device (mlx5_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci, "
                                    "nvgrace_gpu_vfio_pci, virtio_vfio_pci, qat_vfio_pci). Nothing was changed.",
                                    p->driver, d->address);
        case VH_VFIO_DRIVER_UNKNOWN:
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "%s is not available: no PCI driver of that name is registered and no module of "
                                    "that name is installed for the running kernel (modules.dep). Install the "
                                    "kernel's modules package that has it, or pass vfio-pci. Nothing was changed.",
                                    p->driver);
        default:
                break;
        }
        if (!vh_vfio_driver_supports(b->fs, p->driver, d->address))
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                    "%s does not support %s (%04x:%04x, %s): none of its vfio_pci: aliases in "
                                    "modules.alias matches the device, and a variant driver's probe fails on devices "
                                    "it does not list. Pass vfio-pci, or the variant driver made for this device. "
                                    "Nothing was changed.",
                                    p->driver, d->address, d->vendor_id, d->device_id, d->class_name);
        return 0;
}

/* Each target's VFIO driver: the one asked for, except for group mates a
 * variant does not list, which go to vfio-pci. */
static int plan_set_drivers(VhBinder *b, const VhHost *host, const VhPciDevice *d, VhBindPlan *p, VhError *error) {
        for (size_t i = 0; i < p->n_targets; i++) {
                VhBindTarget *t = &p->targets[i];
                bool asked = strcmp(t->address, d->address) == 0 ||
                        vh_vfio_driver_supports(b->fs, p->driver, t->address);

                if (!asked && !host->vfio_available)
                        return vfio_pci_unavailable(error);
                if (set_string(&t->vfio_driver, asked ? p->driver : VH_DRIVER_VFIO_PCI) < 0)
                        return -ENOMEM;
                /* On another VFIO driver than asked: it moves. */
                t->noop = vh_streq_null(t->driver_before, t->vfio_driver);
        }
        return 0;
}

static int plan_bind(VhBinder *b, const VhHost *host, const VhPciDevice *d, VhBindPlan *p, VhError *error) {
        const VhIommuGroup *g;
        int r;

        if (d->iommu_group < 0)
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "%s has no IOMMU group: the kernel has no active IOMMU, so VFIO cannot isolate it. "
                                    "Enable VT-d/AMD-Vi in the firmware and the IOMMU on the kernel command line "
                                    "(intel_iommu=on on Intel), then reboot.", d->address);
        r = plan_check_driver(b, host, d, p, error);
        if (r < 0)
                return r;

        g = vh_host_find_group(host, (unsigned) d->iommu_group);
        if (!g)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s names IOMMU group %d, which the kernel does not list.", d->address, d->iommu_group);
        p->group = g->id;

        if (p->options.group) {
                STRV_FOREACH(m, g->members) {
                        const VhPciDevice *md = vh_address_is_valid(*m) ? vh_host_find_device(host, *m) : NULL;

                        if (!md)
                                return vh_error_set(error, VH_ERROR_CODE_GROUP_NOT_VIABLE,
                                                    "IOMMU group %u holds %s, which is not a PCI function and cannot "
                                                    "be bound to vfio-pci; the group cannot be passed through.", g->id, *m);
                        /* Bridges stay on pcieport: they route, they do not DMA. */
                        if (vh_pci_device_is_pci_bridge(md))
                                continue;
                        r = add_target(p, md);
                        if (r < 0)
                                return r;
                }
                if (p->n_targets == 0)
                        return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                            "IOMMU group %u holds only PCI bridges; there is nothing to bind.", g->id);
        } else {
                if (vh_pci_device_is_pci_bridge(d))
                        return vh_error_set(error, VH_ERROR_CODE_INVALID_ARGS,
                                            "%s is a PCI bridge; bridges stay on their port driver. Bind the endpoints behind it.",
                                            d->address);
                r = add_target(p, d);
                if (r < 0)
                        return r;
        }

        /* After the bind, every other member must be harmless. */
        STRV_FOREACH(m, g->members) {
                const VhPciDevice *md = vh_address_is_valid(*m) ? vh_host_find_device(host, *m) : NULL;

                if (plan_has_target(p, *m) || (md && vh_iommu_member_is_harmless(md)))
                        continue;
                /* Advice that leads nowhere bad: a group with the chipset in
                 * it is no group to bind whole (that is refused next). */
                if (group_has_chipset(host, g))
                        return vh_error_set(error, VH_ERROR_CODE_GROUP_NOT_VIABLE,
                                            "Binding %s alone would leave IOMMU group %u unusable: %s%s%s%s stays on %s, "
                                            "and the group holds chipset functions the host needs, so it cannot be "
                                            "passed through whole either. Move the card to a slot with its own IOMMU "
                                            "group; an onboard function that shares one with the chipset cannot be "
                                            "passed through safely.",
                                            d->address, g->id, *m, md ? " (" : "", md ? md->class_name : "",
                                            md ? ")" : "", md && md->driver ? md->driver : "a host driver");
                return vh_error_set(error, VH_ERROR_CODE_GROUP_NOT_VIABLE,
                                    "Binding %s alone would leave IOMMU group %u unusable: %s%s%s%s stays on %s. "
                                    "Bind the whole group (vfiohostctl bind --group %s), or unbind %s first.",
                                    d->address, g->id, *m,
                                    md ? " (" : "", md ? md->class_name : "", md ? ")" : "",
                                    md && md->driver ? md->driver : "a host driver", d->address, *m);
        }

        r = plan_set_drivers(b, host, d, p, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_targets; i++) {
                VhBindTarget *t = &p->targets[i];

                t->original_known = true;
                if (set_string(&t->original_driver, t->driver_before) < 0 ||
                    set_string(&t->original_override, t->override_before) < 0)
                        return -ENOMEM;
        }
        if (vh_bind_plan_is_noop(p))
                return 0;

        /* Host-critical: the function or any group mate. force overrides. */
        STRV_FOREACH(m, g->members) {
                const VhPciDevice *md = vh_address_is_valid(*m) ? vh_host_find_device(host, *m) : NULL;
                _cleanup_free_ char *reason = NULL;

                if (!md || vh_pci_device_is_bound_to_vfio(md))
                        continue;

                bool chipset = plan_has_target(p, md->address) && vh_iommu_member_is_chipset(md);
                bool self = strcmp(md->address, d->address) == 0;
                _cleanup_free_ char *why = NULL;

                if (chipset) {
                        if (asprintf(&reason, "%s is a chipset function (%s%s%s) the host needs",
                                     md->address, md->class_name, md->driver ? " on " : ", no driver bound",
                                     strempty(md->driver)) < 0)
                                return -ENOMEM;
                } else {
                        r = vh_critical_check(b->fs, md, &why);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                        if (asprintf(&reason, "%s%s: %s", md->address, self ? "" : " (in the same IOMMU group)",
                                     why) < 0)
                                return -ENOMEM;
                }

                /* Said once: "Refusing to bind X: it backs /", not "X: X: it". */
                if (!p->options.force && chipset)
                        return vh_error_set(error, VH_ERROR_CODE_HOST_CRITICAL,
                                            "Refusing to bind %s: %s; it cannot be passed through safely. Move the "
                                            "card to a slot with its own IOMMU group.", d->address, reason);
                if (!p->options.force)
                        return vh_error_set(error, VH_ERROR_CODE_HOST_CRITICAL,
                                            "Refusing to bind %s: %s. Use --force (vfiohostctl bind --force %s) only "
                                            "if the host can do without it.", d->address, self ? why : reason,
                                            d->address);
                r = vh_strv_push(&p->forced, reason);
                if (r < 0)
                        return r;
                reason = NULL;
        }

        r = plan_check_virtfns(b, host, p, error);
        if (r < 0)
                return r;

        /* A driver cannot let go of a device someone has open: the unbind
         * would hang in its remove path. Not overridable. */
        for (size_t i = 0; i < p->n_targets; i++) {
                char **nodes = NULL;
                const VhPciDevice *td = vh_host_find_device(host, p->targets[i].address);

                if (p->targets[i].noop || !td)
                        continue;
                r = vh_holders_driver_nodes(b->fs, td, &nodes);
                if (r < 0)
                        return r;
                /* Moving from one VFIO driver to another: a VM may hold it. */
                if ((td->vfio_group_path && vh_strv_extend(&nodes, td->vfio_group_path) < 0) ||
                    (td->vfio_device_path && vh_strv_extend(&nodes, td->vfio_device_path) < 0)) {
                        vh_strv_free(nodes);
                        return -ENOMEM;
                }
                r = plan_add_holder_check(p, td->address, nodes,
                                          "Stop these processes (a display server, nvidia-persistenced, a compute job, "
                                          "a virtual machine) and try again.");
                if (r < 0)
                        return r;
        }

        return 0;
}

static int plan_unbind(VhBinder *b, const VhHost *host, const VhPciDevice *d, VhBindPlan *p, VhError *error) {
        const VhIommuGroup *g = d->iommu_group >= 0 ? vh_host_find_group(host, (unsigned) d->iommu_group) : NULL;
        int r = 0;

        p->group = g ? g->id : 0;

        if (p->options.group && g) {
                STRV_FOREACH(m, g->members) {
                        const VhPciDevice *md = vh_address_is_valid(*m) ? vh_host_find_device(host, *m) : NULL;

                        if (md && !vh_pci_device_is_pci_bridge(md) && (r = add_target(p, md)) < 0)
                                return r;
                }
        } else if ((r = add_target(p, d)) < 0)
                return r;

        pthread_mutex_lock(&b->lock);
        for (size_t i = 0; i < p->n_targets && r >= 0; i++) {
                VhBindTarget *t = &p->targets[i];
                VhJournalEntry *e = vh_journal_find(b->journal, t->address);
                bool on_vfio = vh_vfio_driver_is(b->fs, t->driver_before);
                bool override_vfio = vh_vfio_driver_is(b->fs, t->override_before);

                /* Where a failed unbind returns it: the VFIO driver it is on. */
                if (set_string(&t->vfio_driver, on_vfio ? t->driver_before
                                                        : e ? vh_journal_entry_driver(e) : VH_DRIVER_VFIO_PCI) < 0)
                        r = -ENOMEM;
                if (e) {
                        t->journaled_before = true;
                        t->original_known = e->original_known;
                        if (set_string(&t->original_driver, e->original_driver) < 0 ||
                            set_string(&t->original_override, e->original_override) < 0)
                                r = -ENOMEM;
                }
                /* Nothing of ours and nothing of vfio's: already released. */
                t->noop = !e && !on_vfio && !override_vfio;
        }
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
                return r;

        if (vh_bind_plan_is_noop(p))
                return 0;
        r = plan_check_virtfns(b, host, p, error);
        if (r < 0 || d->iommu_group < 0)
                return r;

        /* A VM (or any VFIO user) with the group open keeps vfio-pci busy. */
        {
                _cleanup_strv_free_ char **nodes = NULL;
                _cleanup_free_ char *group_path = NULL, *device_path = NULL;

                nodes = calloc(1, sizeof(char *));
                if (!nodes)
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_targets; i++) {
                        if (p->targets[i].noop)
                                continue;
                        r = vh_pci_read_vfio_nodes(b->fs, p->targets[i].address, d->iommu_group, &group_path, &device_path);
                        if (r < 0)
                                return r;
                        if (group_path && !vh_strv_contains(nodes, group_path) && (r = vh_strv_push(&nodes, TAKE_PTR(group_path))) < 0)
                                return r;
                        if (device_path && (r = vh_strv_push(&nodes, TAKE_PTR(device_path))) < 0)
                                return r;
                        free(group_path);
                        free(device_path);
                        group_path = device_path = NULL;
                }
                r = plan_add_holder_check(p, d->address, TAKE_PTR(nodes),
                                          "Shut down the virtual machine (or other VFIO user) that has it open, then "
                                          "try again.");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What a dry run or a no-op reports: where each function would end up,
 * and the VFIO nodes of those that are on a VFIO driver already. */
static int plan_fill_expected(VhBinder *b, VhBindPlan *p) {
        for (size_t i = 0; i < p->n_targets; i++) {
                VhBindTarget *t = &p->targets[i];
                const char *after;

                if (t->noop && vh_vfio_driver_is(b->fs, t->driver_before) && !t->vfio_group_path &&
                    vh_pci_read_vfio_nodes(b->fs, t->address, (int) p->group, &t->vfio_group_path,
                                           &t->vfio_device_path) < 0)
                        return -ENOMEM;

                if (t->noop)
                        after = t->driver_before;
                else if (p->verb == VH_BIND_VERB_BIND)
                        after = t->vfio_driver;
                else
                        after = t->original_known ? t->original_driver : NULL;
                if (set_string(&t->driver_after, after) < 0)
                        return -ENOMEM;
                t->changed = !t->noop;
        }
        return 0;
}

int vh_binder_plan(VhBinder *b, const VhHost *host, VhBindVerb verb, const char *address,
                   const VhBindOptions *options, VhBindPlan **ret, VhError *error) {
        _cleanup_(vh_bind_plan_freep) VhBindPlan *p = NULL;
        char canonical[VH_ADDRESS_MAX], quoted[VH_EXCERPT_SIZE];
        const VhPciDevice *d;
        int r;

        if (vh_address_normalize(address, canonical) < 0)
                return vh_error_set(error, VH_ERROR_CODE_INVALID_ADDRESS,
                                    VH_ADDRESS_INVALID_FMT, vh_utf8_excerpt(address, quoted));

        d = vh_host_find_device(host, canonical);
        if (!d)
                return vh_error_set(error, VH_ERROR_CODE_NOT_FOUND,
                                    VH_ADDRESS_NOT_FOUND_FMT,
                                    canonical);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->verb = verb;
        p->options = *options;
        p->driver = strdup(options->driver ?: VH_DRIVER_VFIO_PCI);
        if (!p->driver)
                return vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory.");
        p->options.driver = p->driver;
        memcpy(p->address, canonical, VH_ADDRESS_MAX);

        r = verb == VH_BIND_VERB_BIND ? plan_bind(b, host, d, p, error) : plan_unbind(b, host, d, p, error);
        if (r == -ENOMEM && !vh_error_is_set(error))
                return vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory.");
        if (r < 0)
                return r;

        if (options->dry_run) {
                r = plan_fill_expected(b, p);
                if (r < 0)
                        return vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory.");
        }

        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- Execution -------------------------------------------------------- */

static int step_failed(VhError *error, int r, const char *address, const char *step) {
        if (r == -ETIMEDOUT)
                return vh_error_set(error, VH_ERROR_CODE_TIMEOUT,
                                    "%s: %s did not return in time; a driver's remove path may be stuck because a "
                                    "process still uses the device.", address, step);
        return vh_error_set(error, VH_ERROR_CODE_FAILED, "%s: %s failed: %s.", address, step, strerror(-r));
}

/* Re-reads the driver link until it names want (any driver when want is
 * NULL and any_driver is set) or the wait is over; *ret holds the last read. */
static void wait_for_driver(VhBinder *b, const char *address, const char *want, bool any_driver, char **ret) {
        for (uint64_t waited = 0;; waited += POLL_USEC) {
                free(*ret);
                *ret = NULL;
                (void) vh_pci_read_driver(b->fs, address, ret);
                if (any_driver ? *ret != NULL : vh_streq_null(*ret, want))
                        return;
                if (waited >= DRIVER_WAIT_USEC)
                        return;
                usleep(POLL_USEC);
        }
}

static int wait_for_vfio_node(VhBinder *b, VhBindTarget *t, int group) {
        for (uint64_t waited = 0;; waited += POLL_USEC) {
                free(t->vfio_group_path);
                free(t->vfio_device_path);
                t->vfio_group_path = t->vfio_device_path = NULL;
                if (vh_pci_read_vfio_nodes(b->fs, t->address, group, &t->vfio_group_path, &t->vfio_device_path) < 0)
                        return -ENOMEM;
                if (t->vfio_group_path || t->vfio_device_path)
                        return 0;
                if (waited >= VFIO_NODE_WAIT_USEC)
                        return -ENOENT;
                usleep(POLL_USEC);
        }
}

/* Takes a function to its VFIO driver (t->vfio_driver) from wherever it
 * is: a host driver, no driver, another VFIO driver, or that one already (a
 * rollback of an unbind that stopped half-way). The driver is read now,
 * not taken from the plan. */
static int bind_one(VhBinder *b, VhBindTarget *t, unsigned group, VhError *error) {
        _cleanup_free_ char *current = NULL, *step = NULL;
        const char *want = t->vfio_driver;
        int r;

        r = timed_write(b, want, VH_SYSFS_PCI_DEVICES, t->address, VH_ATTR_DRIVER_OVERRIDE);
        if (r < 0)
                return step_failed(error, r, t->address,
                                   asprintf(&step, "writing %s to driver_override", want) < 0 ? "driver_override" : step);

        (void) vh_pci_read_driver(b->fs, t->address, &current);
        if (!vh_streq_null(current, want)) {
                if (current) {
                        r = timed_write(b, t->address, VH_SYSFS_PCI_DRIVERS, current, VH_ATTR_UNBIND);
                        if (r < 0)
                                return step_failed(error, r, t->address, "unbinding the current driver");
                }

                r = timed_write(b, t->address, VH_SYSFS_PCI_BUS, VH_ATTR_DRIVERS_PROBE, NULL);
                if (r < 0)
                        return step_failed(error, r, t->address, "drivers_probe");
        }

        /* drivers_probe succeeds even when nothing bound: look. */
        wait_for_driver(b, t->address, want, false, &t->driver_after);
        t->changed = true;
        if (!vh_streq_null(t->driver_after, want))
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s did not bind to %s after drivers_probe (driver now: %s); "
                                    "the kernel log (dmesg) has %s's reason.",
                                    t->address, want, t->driver_after ?: "none", want);

        if (wait_for_vfio_node(b, t, (int) group) < 0)
                return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                    "%s took %s but neither /dev/vfio/%u nor a /dev/vfio/devices node appeared.",
                                    want, t->address, group);
        return 0;
}

/* Brings a function back to want_driver (NULL: no driver) with
 * want_override. known: whether want_driver is what it had; when not, any
 * driver that claims it is accepted. */
static int restore_one(VhBinder *b, VhBindTarget *t, bool known, const char *want_driver,
                       const char *want_override, VhError *error) {
        _cleanup_free_ char *current = NULL, *override = NULL;
        int r;

        /* Untouched (a failed first write, a target never reached): leave
         * it alone rather than write to it again. */
        (void) vh_pci_read_driver(b->fs, t->address, &current);
        (void) vh_pci_read_driver_override(b->fs, t->address, &override);
        if (known && vh_streq_null(current, want_driver) && vh_streq_null(override, want_override)) {
                free(t->driver_after);
                t->driver_after = TAKE_PTR(current);
                return 0;
        }
        free(current);
        current = NULL;

        /* A real write: a 0-byte write can be a no-op (docs/binding.md). */
        r = timed_write(b, want_override ?: "\n", VH_SYSFS_PCI_DEVICES, t->address, VH_ATTR_DRIVER_OVERRIDE);
        if (r < 0)
                return step_failed(error, r, t->address, "clearing driver_override");

        (void) vh_pci_read_driver(b->fs, t->address, &current);
        if (current && (!known || !vh_streq_null(current, want_driver))) {
                r = timed_write(b, t->address, VH_SYSFS_PCI_DRIVERS, current, VH_ATTR_UNBIND);
                if (r < 0)
                        return step_failed(error, r, t->address, "unbinding the VFIO driver");
                free(current);
                current = NULL;
        }

        /* It had no driver: leave it without one. */
        if (known && !want_driver)
                goto done;

        if (!current) {
                r = timed_write(b, t->address, VH_SYSFS_PCI_BUS, VH_ATTR_DRIVERS_PROBE, NULL);
                if (r < 0)
                        return step_failed(error, r, t->address, "drivers_probe");
                wait_for_driver(b, t->address, want_driver, !known, &current);
        }

        if (known && !vh_streq_null(current, want_driver)) {
                /* Another driver won the probe, or none did: bind the
                 * recorded one explicitly. */
                if (current) {
                        r = timed_write(b, t->address, VH_SYSFS_PCI_DRIVERS, current, VH_ATTR_UNBIND);
                        if (r < 0)
                                return step_failed(error, r, t->address, "unbinding the wrong driver");
                }
                r = timed_write(b, t->address, VH_SYSFS_PCI_DRIVERS, want_driver, VH_ATTR_BIND);
                if (r < 0 && r != -ETIMEDOUT)
                        return vh_error_set(error, VH_ERROR_CODE_FAILED,
                                            "%s: could not restore %s: binding it through drivers/%s/bind failed: %s. "
                                            "Is the %s module loaded (modprobe %s)?",
                                            t->address, want_driver, want_driver, strerror(-r), want_driver, want_driver);
                if (r < 0)
                        return step_failed(error, r, t->address, "binding the original driver");
        }

done:
        wait_for_driver(b, t->address, want_driver, !known, &t->driver_after);
        if (known && !vh_streq_null(t->driver_after, want_driver))
                return vh_error_set(error, VH_ERROR_CODE_FAILED, "%s: could not restore %s (driver now: %s).",
                                    t->address, want_driver ?: "no driver", t->driver_after ?: "none");
        t->changed = true;
        return 0;
}

/* Appends what the rollback achieved to the operation's error, so that the
 * reply says what state the host is in. */
static void error_append(VhError *error, const char *sentence) {
        _cleanup_free_ char *m = error->message;

        error->message = NULL;
        if (asprintf(&error->message, "%s %s", strempty(m), sentence) < 0)
                error->message = TAKE_PTR(m);
}

/* Where each function of a failed operation ended, as one sentence
 * ("0000:01:00.0 on vfio-pci, 0000:01:00.1 on snd_hda_intel."). */
static char *describe_final_state(VhBinder *b, const VhBindPlan *p) {
        _cleanup_free_ char *text = NULL;

        for (size_t i = 0; i < p->n_targets; i++) {
                _cleanup_free_ char *driver = NULL;
                char *next;

                /* Read, not remembered: the functions never reached too. */
                (void) vh_pci_read_driver(b->fs, p->targets[i].address, &driver);
                if (asprintf(&next, "%s%s%s %s%s", strempty(text), text ? ", " : "", p->targets[i].address,
                             driver ? "on " : "without a driver", strempty(driver)) < 0)
                        return NULL;
                free(text);
                text = next;
        }
        return TAKE_PTR(text);
}

static void error_append_final_state(VhBinder *b, VhError *error, const VhBindPlan *p, bool restored,
                                     const char *where) {
        _cleanup_free_ char *state = describe_final_state(b, p);
        _cleanup_free_ char *sentence = NULL;

        if (asprintf(&sentence, "%s Now: %s.",
                     restored ? where
                              : "The rollback did not complete; the journal keeps what remains and vfiohostd "
                                "finishes it at its next start.",
                     strempty(state)) < 0)
                return;
        error_append(error, sentence);
}

static int execute_bind(VhBinder *b, VhBindPlan *p, VhError *error) {
        bool restored = true;
        size_t done = 0;
        int r;

        /* Every driver the targets go to, each once. */
        for (size_t i = 0; i < p->n_targets; i++) {
                bool seen = false;

                for (size_t k = 0; k < i && !seen; k++)
                        seen = !p->targets[k].noop && strcmp(p->targets[k].vfio_driver, p->targets[i].vfio_driver) == 0;
                if (p->targets[i].noop || seen)
                        continue;
                r = vh_modules_ensure_driver(b->fs, p->targets[i].vfio_driver, error);
                if (r < 0)
                        return r;
        }

        r = journal_record(b, p, VH_JOURNAL_BINDING, error);
        if (r < 0)
                return r;

        for (; done < p->n_targets; done++) {
                if (p->targets[done].noop)
                        continue;
                r = bind_one(b, &p->targets[done], p->group, error);
                if (r < 0)
                        break;
        }

        if (r >= 0) {
                journal_finish(b, p, true);
                return 0;
        }

        /* Roll back everything touched, the failed one included, newest
         * first; targets after the failed one were never touched. */
        for (size_t i = done + 1; i-- > 0;) {
                VhBindTarget *t = &p->targets[i];
                VhError e = VH_ERROR_NULL;

                if (t->noop)
                        continue;
                if (restore_one(b, t, true, t->original_driver, t->original_override, &e) < 0) {
                        log_warning("Rollback of %s failed: %s", t->address, e.message);
                        t->restore_failed = true;
                        restored = false;
                }
                vh_error_clear(&e);
        }

        journal_finish(b, p, false);
        if (restored)
                log_info("Bind of group %u failed and was rolled back: %s", p->group, error->message);
        else
                log_error("Bind of group %u failed and the rollback did not complete; the journal keeps the "
                          "original drivers and the next start retries: %s", p->group, error->message);
        error_append_final_state(b, error, p, restored, "Every function was rolled back to its original driver.");
        return r;
}

/* All-or-nothing like a bind: when one function cannot be given back, the
 * ones already given back return to vfio-pci, so that the group is left as
 * the last completed operation left it rather than half released. */
static int execute_unbind(VhBinder *b, VhBindPlan *p, VhError *error) {
        bool restored = true;
        size_t done = 0;
        int r;

        r = journal_record(b, p, VH_JOURNAL_UNBINDING, error);
        if (r < 0)
                return r;

        for (; done < p->n_targets; done++) {
                if (p->targets[done].noop)
                        continue;
                r = restore_one(b, &p->targets[done], p->targets[done].original_known,
                                p->targets[done].original_driver, p->targets[done].original_override, error);
                if (r < 0)
                        break;
        }

        if (r >= 0) {
                journal_finish(b, p, false);
                return 0;
        }

        for (size_t i = done + 1; i-- > 0;) {
                VhBindTarget *t = &p->targets[i];
                VhError e = VH_ERROR_NULL;

                if (t->noop)
                        continue;
                if (bind_one(b, t, p->group, &e) < 0) {
                        log_warning("Returning %s to %s failed: %s", t->address, t->vfio_driver, e.message);
                        t->restore_failed = true;
                        restored = false;
                }
                vh_error_clear(&e);
        }

        journal_finish(b, p, true);
        if (restored)
                log_info("Unbind of group %u failed; every function is back on its VFIO driver: %s", p->group, error->message);
        else
                log_error("Unbind of group %u failed and returning the functions to their VFIO driver did not complete; "
                          "the next start finishes the unbind: %s", p->group, error->message);
        error_append_final_state(b, error, p, restored, "Every function was returned to vfio-pci.");
        return r;
}

int vh_binder_execute(VhBinder *b, VhBindPlan *p, VhError *error) {
        int r;

        r = vh_binder_check_holders(b, p, error);
        if (r < 0)
                return r;
        if (p->options.dry_run || vh_bind_plan_is_noop(p))
                return plan_fill_expected(b, p) < 0 ? vh_error_set(error, VH_ERROR_CODE_FAILED, "Out of memory.") : 0;

        return p->verb == VH_BIND_VERB_BIND ? execute_bind(b, p, error) : execute_unbind(b, p, error);
}

/* ---- Reconcile at start ----------------------------------------------- */

static bool entry_unfinished(const VhJournalEntry *e) {
        return e->state == VH_JOURNAL_BINDING || e->state == VH_JOURNAL_UNBINDING;
}

int vh_binder_unfinished(VhBinder *b, char ***ret) {
        _cleanup_strv_free_ char **addresses = NULL;
        int r = 0;

        addresses = calloc(1, sizeof(char *));
        if (!addresses)
                return -ENOMEM;
        pthread_mutex_lock(&b->lock);
        for (size_t i = 0; i < b->journal->n_entries && r >= 0; i++)
                if (entry_unfinished(&b->journal->entries[i]))
                        r = vh_strv_extend(&addresses, b->journal->entries[i].address);
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(addresses);
        return 0;
}

/* A copy of one unfinished entry: the journal may change (operations on
 * other groups run meanwhile) while this one is being written. */
typedef struct ReconcileItem {
        char address[VH_ADDRESS_MAX];
        VhJournalState state;
        uint64_t txn;
        bool original_known;
        char *original_driver;
        char *original_override;
        bool has_identity;
        VhJournalIdentity identity;
        unsigned attempts;
} ReconcileItem;

static void reconcile_items_free(ReconcileItem *items, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(items[i].original_driver);
                free(items[i].original_override);
        }
        free(items);
}

static int reconcile_snapshot(VhBinder *b, ReconcileItem **ret, size_t *ret_n) {
        ReconcileItem *items;
        size_t n = 0;
        int r = 0;

        pthread_mutex_lock(&b->lock);
        items = calloc(b->journal->n_entries + 1, sizeof(ReconcileItem));
        for (size_t i = 0; items && i < b->journal->n_entries && r >= 0; i++) {
                const VhJournalEntry *e = &b->journal->entries[i];
                ReconcileItem *it = &items[n];

                if (!entry_unfinished(e))
                        continue;
                n++;
                memcpy(it->address, e->address, VH_ADDRESS_MAX);
                it->state = e->state;
                it->txn = e->txn;
                it->original_known = e->original_known;
                it->has_identity = e->has_identity;
                it->identity = e->identity;
                it->attempts = e->attempts;
                if (set_string(&it->original_driver, e->original_driver) < 0 ||
                    set_string(&it->original_override, e->original_override) < 0)
                        r = -ENOMEM;
        }
        pthread_mutex_unlock(&b->lock);
        if (!items || r < 0) {
                reconcile_items_free(items, n);
                return -ENOMEM;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

/* Whether the action may go on. Returns 1 to act; 0 with *ret_note set to
 * drop the action (a note is kept); 0 with *ret_note NULL to leave the entry
 * for a later start; negative on OOM. */
static int reconcile_check(VhBinder *b, const ReconcileItem *it, const VhPciDevice *d, char **ret_note) {
        _cleanup_strv_free_ char **nodes = NULL;
        _cleanup_free_ char *why = NULL, *group_path = NULL, *device_path = NULL;
        VhHolder *holders = NULL;
        size_t n_holders = 0;
        int r;

        *ret_note = NULL;

        if (it->has_identity &&
            (d->vendor_id != it->identity.vendor || d->device_id != it->identity.device ||
             d->subsystem_vendor_id != it->identity.subsystem_vendor ||
             d->subsystem_device_id != it->identity.subsystem_device)) {
                if (asprintf(ret_note, "Reconcile left %s alone: the journal recorded %04x:%04x (subsystem %04x:%04x) "
                             "there, but the function now is %04x:%04x (subsystem %04x:%04x); a card moved or the "
                             "slots were renumbered. Nothing was changed.",
                             it->address, it->identity.vendor, it->identity.device, it->identity.subsystem_vendor,
                             it->identity.subsystem_device, d->vendor_id, d->device_id, d->subsystem_vendor_id,
                             d->subsystem_device_id) < 0)
                        return -ENOMEM;
                return 0;
        }

        r = vh_critical_check(b->fs, d, &why);
        if (r < 0)
                return r;
        if (r > 0) {
                if (asprintf(ret_note, "Reconcile left %s alone: the host needs it now (%s). Nothing was changed; "
                             "unbind it by hand if that is what you want.", it->address, why) < 0)
                        return -ENOMEM;
                return 0;
        }

        /* A VM that opened it since, or a host process on its driver's
         * nodes: a write now would hang in the driver's remove path. */
        r = vh_holders_driver_nodes(b->fs, d, &nodes);
        if (r < 0)
                return r;
        r = vh_pci_read_vfio_nodes(b->fs, d->address, d->iommu_group, &group_path, &device_path);
        if (r < 0)
                return r;
        if ((group_path && vh_strv_push(&nodes, TAKE_PTR(group_path)) < 0) ||
            (device_path && vh_strv_push(&nodes, TAKE_PTR(device_path)) < 0))
                return -ENOMEM;
        r = vh_holders_find(b->fs, nodes, &holders, &n_holders);
        if (r < 0)
                return r;
        if (n_holders > 0) {
                _cleanup_free_ char *description = vh_holders_describe(holders, n_holders);

                vh_holders_free(holders, n_holders);
                log_warning("Reconcile: %s is in use (%s); leaving it for a later start.", it->address,
                            strempty(description));
                return 0;
        }
        return 1;
}

/* Applies the outcome of one item to the journal, if the entry is still
 * the one this reconcile read (same transaction, still unfinished). */
static void reconcile_settle(VhBinder *b, const ReconcileItem *it, bool done, bool failed, const char *note) {
        VhJournalEntry *e;

        pthread_mutex_lock(&b->lock);
        e = vh_journal_find(b->journal, it->address);
        if (e && e->txn == it->txn && entry_unfinished(e)) {
                if (failed && !note && ++e->attempts >= VH_RECONCILE_ATTEMPTS_MAX)
                        note = "Reconcile gave up: restoring the original driver failed at three starts in a row. "
                               "Check the kernel log, then unbind or bind the function by hand.";
                if (note) {
                        log_warning("%s", note);
                        if (vh_journal_add_note(b->journal, it->address, note) < 0)
                                log_oom();
                }
                if (done || note)
                        vh_journal_remove(b->journal, it->address);
                if (vh_journal_save(b->fs, b->state_dir, b->journal) < 0)
                        log_warning("Cannot update the journal in %s after reconciling %s.", b->state_dir, it->address);
        }
        pthread_mutex_unlock(&b->lock);
}

static int reconcile_one(VhBinder *b, const ReconcileItem *it) {
        _cleanup_(vh_pci_device_freep) VhPciDevice *d = NULL;
        _cleanup_free_ char *note = NULL;
        VhBindTarget t = {};
        VhError err = VH_ERROR_NULL;
        int r;

        r = vh_pci_device_load(b->fs, NULL, it->address, &d);
        if (r == -ENOENT) {
                log_notice("%s is gone; dropping its journal entry.", it->address);
                reconcile_settle(b, it, true, false, NULL);
                return 0;
        }
        if (r < 0) {
                log_warning_errno(r, "Reconcile: cannot read %s, leaving it for a later start: %m", it->address);
                return 0;
        }

        r = reconcile_check(b, it, d, &note);
        if (r < 0)
                return r;
        if (r == 0) {
                if (note)
                        reconcile_settle(b, it, false, false, note);
                return 0;
        }

        /* A bind is undone, an unbind finished: both end on the original. */
        memcpy(t.address, it->address, VH_ADDRESS_MAX);
        r = restore_one(b, &t, it->original_known, it->original_driver, it->original_override, &err);
        if (r < 0) {
                log_error("Reconcile: %s", err.message);
                vh_error_clear(&err);
                target_clear(&t);
                reconcile_settle(b, it, false, true, NULL);
                return 0;
        }
        log_notice("Reconcile: %s restored to %s after an unfinished %s.", it->address,
                   t.driver_after ?: "no driver", it->state == VH_JOURNAL_BINDING ? "bind" : "unbind");
        target_clear(&t);
        reconcile_settle(b, it, true, false, NULL);
        return 1;
}

/* Entries marked bound whose function is gone or no longer on the VFIO
 * driver journaled (a reboot, someone else's unbind): bookkeeping only. */
unsigned vh_binder_drop_stale(VhBinder *b) {
        unsigned dropped = 0;

        pthread_mutex_lock(&b->lock);
        for (size_t i = 0; i < b->journal->n_entries;) {
                VhJournalEntry *e = &b->journal->entries[i];
                _cleanup_free_ char *driver = NULL;

                if (entry_unfinished(e)) {
                        i++;
                        continue;
                }
                if (!vh_hostfs_exists(b->fs, VH_SYSFS_PCI_DEVICES, e->address, NULL))
                        log_notice("%s is gone; dropping its journal entry.", e->address);
                else if ((void) vh_pci_read_driver(b->fs, e->address, &driver),
                         !vh_streq_null(driver, vh_journal_entry_driver(e)))
                        log_notice("%s is no longer on %s (now %s); dropping its journal entry.",
                                   e->address, vh_journal_entry_driver(e), driver ?: "no driver");
                else {
                        i++;
                        continue;
                }
                vh_journal_remove(b->journal, e->address);
                dropped++;
        }
        if (dropped > 0 && vh_journal_save(b->fs, b->state_dir, b->journal) < 0)
                log_warning("Cannot update the journal in %s after reconciling.", b->state_dir);
        pthread_mutex_unlock(&b->lock);
        return dropped;
}

int vh_binder_reconcile(VhBinder *b) {
        ReconcileItem *items = NULL;
        size_t n = 0;
        int r, restored = 0;

        (void) vh_binder_drop_stale(b);

        r = reconcile_snapshot(b, &items, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = reconcile_one(b, &items[i]);
                if (r < 0)
                        break;
                restored += r;
        }
        reconcile_items_free(items, n);
        return r < 0 ? r : restored;
}

/* ---- For other operations on the same host (SetVfCount) --------------- */

int vh_binder_timed_write(VhBinder *b, const char *value, const char *p0, const char *p1, const char *p2) {
        return timed_write(b, value, p0, p1, p2);
}

void vh_binder_wait_for_driver(VhBinder *b, const char *address, const char *want, char **ret) {
        wait_for_driver(b, address, want, false, ret);
}

int vh_binder_wait_for_vfio_node(VhBinder *b, VhBindTarget *t, int group) {
        return wait_for_vfio_node(b, t, group);
}
