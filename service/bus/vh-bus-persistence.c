/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent assignments on the bus: the store, where each assignment
 * stands (docs/persistence.md), and applying them without anyone acting —
 * at start and when a covered function appears — through the binder, with
 * every refusal Bind has. Refused assignments are reported, never forced. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vh-address.h"
#include "vh-assignment-match.h"
#include "vh-bus-binding.h"
#include "vh-bus-bouncer.h"
#include "vh-bus-errors.h"
#include "vh-bus-objects.h"
#include "vh-bus-options.h"
#include "vh-bus-persistence.h"
#include "vh-bus-polkit.h"
#include "vh-bus-vf-count.h"
#include "vh-kernel.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"
#include "vh-utf8.h"

/* What the file does not say: where an assignment stands now. */
typedef struct Runtime {
        char address[VH_ADDRESS_MAX];
        VhAssignmentMatch match;
        bool evaluated;
        bool tried;                     /* since the start, or since its function appeared */
        bool applying;                  /* a background bind is running */
        char *refusal;                  /* why the last try was refused; NULL */
} Runtime;

struct VhPersistence {
        VhAssignments *store;
        char *load_error;               /* the file could not be read: nothing is applied or changed */
        Runtime *runtime;
        size_t n_runtime;
        char **announce;                /* functions of the model whose Name or PersistentState changed */
};

VhPersistence *vh_bus_persistence_free(VhPersistence *p) {
        if (!p)
                return NULL;
        vh_assignments_free(p->store);
        free(p->load_error);
        for (size_t i = 0; i < p->n_runtime; i++)
                free(p->runtime[i].refusal);
        free(p->runtime);
        vh_strv_free(p->announce);
        free(p);
        return NULL;
}

int vh_bus_persistence_new(VhDaemon *d, VhPersistence **ret) {
        _cleanup_free_ VhPersistence *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return log_oom();

        r = vh_assignments_load(d->fs, d->binder->state_dir, &p->store);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                /* Never overwritten: it may be the only record of what the
                 * admin meant. */
                if (asprintf(&p->load_error,
                             "The persistent assignments in %s/%s cannot be read (%s); nothing is applied and "
                             "nothing can be persisted until the file is repaired or moved aside.",
                             d->binder->state_dir, VH_ASSIGNMENTS_FILE,
                             r == -EPROTONOSUPPORT ? "a newer vfiohost wrote it" : "it is damaged") < 0)
                        return log_oom();
                log_error("%s", p->load_error);
                p->store = calloc(1, sizeof(VhAssignments));
                if (!p->store)
                        return log_oom();
        } else if (p->store->n > 0)
                log_info("%zu persistent assignment(s) loaded.", p->store->n);

        *ret = TAKE_PTR(p);
        return 0;
}

static Runtime *runtime_get(VhPersistence *p, const char *address) {
        Runtime *a;

        for (size_t i = 0; i < p->n_runtime; i++)
                if (strcmp(p->runtime[i].address, address) == 0)
                        return &p->runtime[i];
        a = realloc(p->runtime, sizeof(Runtime) * (p->n_runtime + 1));
        if (!a)
                return NULL;
        p->runtime = a;
        a = &p->runtime[p->n_runtime++];
        *a = (Runtime) {};
        memcpy(a->address, address, sizeof(a->address));
        return a;
}

static void runtime_set_refusal(Runtime *rt, char *refusal) {
        free(rt->refusal);
        rt->refusal = refusal;
}

/* Tried again at the next apply: the last refusal was about another
 * moment. */
static void runtime_retry(Runtime *rt) {
        rt->tried = false;
        runtime_set_refusal(rt, NULL);
}

static const char *state_of(const Runtime *rt) {
        if (rt->applying)
                return "applying";
        if (rt->match.state == VH_ASSIGNMENT_NOT_APPLIED && rt->refusal)
                return "refused";
        return vh_assignment_state_to_string(rt->match.state);
}

/* A PF's VF count that is not applied and not refused: why not yet. */
static int vfs_reason(VhDaemon *d, const VhAssignment *a, const VhPciDevice *dev, char **ret) {
        size_t on = vh_assignment_vfs_on_driver(d->host, a, dev);

        if (!dev->driver)
                return asprintf(ret, "The PF has no driver yet: its %u VFs are made on %s once one binds it.",
                                a->vfs, a->driver);
        if (vh_hostfs_is_read_only(d->fs))
                return asprintf(ret, "%u VFs (%zu on %s), %u persisted: vfiohostd runs with --read-only and applies "
                                "nothing.", dev->sriov_numvfs, on, a->driver, a->vfs);
        if (dev->sriov_numvfs != 0 && dev->sriov_numvfs != a->vfs)
                return asprintf(ret, "%u VFs, not the %u persisted: vfiohost removes no VFs unasked (a VM may hold "
                                "one). 'vfiohostctl vfs %s %u --driver %s' applies it now.", dev->sriov_numvfs,
                                a->vfs, a->name ?: a->address, a->vfs, a->driver);
        return asprintf(ret, "%u VFs (%zu on %s), %u persisted: applied when vfiohostd starts and when the PF "
                        "appears or gets its driver.", dev->sriov_numvfs, on, a->driver, a->vfs);
}

/* Says why the state is what it is, and what to do. */
static char *reason_of(VhDaemon *d, const VhAssignment *a, const Runtime *rt) {
        char recorded[VH_IDENTITY_STRING_MAX], present[VH_IDENTITY_STRING_MAX];
        _cleanup_free_ char *moved = NULL;
        const VhPciDevice *dev = vh_host_find_device(d->host, a->address);
        char *s = NULL;
        int r = 0;

        if (rt->match.moved_to[0] &&
            asprintf(&moved, " Its serial number is at %s now: if the card moved, persist it there "
                     "(vfiohostctl persist %s) and unpersist %s; nothing is done to %s meanwhile.",
                     rt->match.moved_to, rt->match.moved_to, a->address, rt->match.moved_to) < 0)
                return NULL;

        if (rt->applying && a->vfs > 0)
                r = asprintf(&s, "Its %u VFs are being made on %s.", a->vfs, a->driver);
        else if (rt->applying)
                r = asprintf(&s, "Being bound to %s.", a->driver);
        else if (rt->match.state == VH_ASSIGNMENT_WAITING)
                r = asprintf(&s, "No PCI function at %s; applied when it appears.%s", a->address, strempty(moved));
        else if (rt->match.state == VH_ASSIGNMENT_MISMATCH)
                r = asprintf(&s, "%s holds %s, not the card persisted (%s); it is left alone.%s", a->address,
                             vh_identity_format(&rt->match.present, present), vh_identity_format(&a->identity, recorded),
                             strempty(moved));
        else if (rt->match.state == VH_ASSIGNMENT_APPLIED && a->vfs > 0)
                r = asprintf(&s, "%u VFs, each on %s.", a->vfs, a->driver);
        else if (rt->match.state == VH_ASSIGNMENT_APPLIED)
                r = asprintf(&s, "On %s.", a->driver);
        else if (rt->refusal)
                r = asprintf(&s, "%s", rt->refusal);
        else if (a->vfs > 0 && dev)
                r = vfs_reason(d, a, dev, &s);
        else if (vh_hostfs_is_read_only(d->fs))
                r = asprintf(&s, "On %s: vfiohostd runs with --read-only and applies nothing.",
                             dev && dev->driver ? dev->driver : "no driver");
        else
                r = asprintf(&s, "On %s: applied when the function appears and when vfiohostd starts; "
                             "'vfiohostctl bind %s%s' applies it now.", dev && dev->driver ? dev->driver : "no driver",
                             a->name ?: a->address, a->group ? " --group" : "");
        return r < 0 ? NULL : s;
}

/* ---- Judging and annotating ------------------------------------------- */

static void log_transition(const VhAssignment *a, const Runtime *rt, const VhAssignmentMatch *was) {
        char recorded[VH_IDENTITY_STRING_MAX], present[VH_IDENTITY_STRING_MAX];

        if (rt->evaluated && was->state == rt->match.state && strcmp(was->moved_to, rt->match.moved_to) == 0)
                return;
        if (rt->match.state == VH_ASSIGNMENT_MISMATCH)
                log_warning("Persistent assignment %s%s%s%s: the function there is %s, not the card persisted (%s); "
                            "leaving it alone.%s%s", a->address, a->name ? " (" : "", strempty(a->name),
                            a->name ? ")" : "", vh_identity_format(&rt->match.present, present),
                            vh_identity_format(&a->identity, recorded),
                            rt->match.moved_to[0] ? " Its serial number is at " : "", rt->match.moved_to);
        else if (rt->match.state == VH_ASSIGNMENT_WAITING && rt->match.moved_to[0])
                log_warning("Persistent assignment %s: no function there; the card's serial number is at %s "
                            "(not acted on).", a->address, rt->match.moved_to);
}

static int announce(VhPersistence *p, const char *address) {
        if (vh_strv_contains(p->announce, address))
                return 0;
        return vh_strv_extend(&p->announce, address);
}

int vh_bus_persistence_update(VhDaemon *d, VhHost *h) {
        VhPersistence *p = d->persistence;

        if (!p)
                return 0;

        for (size_t i = 0; i < p->store->n; i++) {
                const VhAssignment *a = &p->store->entries[i];
                Runtime *rt = runtime_get(p, a->address);
                VhAssignmentMatch was;

                if (!rt)
                        return log_oom();
                was = rt->match;
                vh_assignment_match(d->fs, h, a, &rt->match);
                log_transition(a, rt, &was);
                rt->evaluated = true;
        }

        for (size_t i = 0; i < h->n_devices; i++) {
                VhPciDevice *dev = h->devices[i];
                const VhAssignment *a = vh_assignments_covering(p->store, h, dev->address);
                const char *state = NULL;
                bool shared = d->host && vh_host_find_device(d->host, dev->address) == dev;

                if (a) {
                        Runtime *rt = runtime_get(p, a->address);

                        if (!rt)
                                return log_oom();
                        state = state_of(rt);
                }
                if (vh_streq_null(dev->assignment_state, state) &&
                    vh_streq_null(dev->assignment_name, a ? a->name : NULL))
                        continue;
                /* A function the model shares changes in place: nothing
                 * else compares it, so announce it here. */
                if (shared && announce(p, dev->address) < 0)
                        return log_oom();
                free(dev->assignment_name);
                dev->assignment_name = NULL;
                if (a && a->name && !(dev->assignment_name = strdup(a->name)))
                        return log_oom();
                dev->assignment_state = state;
        }
        return 0;
}

void vh_bus_persistence_emit_changes(VhDaemon *d) {
        VhPersistence *p = d->persistence;
        _cleanup_strv_free_ char **l = NULL;

        if (!p || !p->announce)
                return;
        l = TAKE_PTR(p->announce);
        if (!d->bus)
                return;
        STRV_FOREACH(a, l) {
                _cleanup_free_ char *path = NULL;

                if (vh_host_find_device(d->host, *a) && vh_bus_device_path(*a, &path) >= 0)
                        (void) sd_bus_emit_properties_changed(d->bus, path, VH_DEVICE_INTERFACE, "Name",
                                                              "PersistentState", NULL);
        }
}

/* After the store or a runtime state changed, with the model as it is. */
static void reannotate(VhDaemon *d) {
        (void) vh_bus_persistence_update(d, d->host);
        vh_bus_persistence_emit_changes(d);
}

/* ---- Applying --------------------------------------------------------- */

void vh_bus_persistence_appeared(VhDaemon *d, const char *address) {
        VhPersistence *p = d->persistence;

        if (!p)
                return;
        for (size_t i = 0; i < p->store->n; i++) {
                Runtime *rt;

                if (!vh_assignment_covers(d->host, &p->store->entries[i], address))
                        continue;
                /* A VF appears because someone set the count (SetVfCount
                 * with another driver, say): that is the user's choice, not
                 * a re-plug. Only the PF's own appearance counts. */
                if (p->store->entries[i].vfs > 0 && strcmp(p->store->entries[i].address, address) != 0)
                        continue;
                rt = runtime_get(p, p->store->entries[i].address);
                if (!rt)
                        continue;
                /* A new card, a re-plug. */
                runtime_retry(rt);
        }
}

void vh_bus_persistence_driver_bound(VhDaemon *d, const char *address) {
        VhPersistence *p = d->persistence;
        const VhAssignment *a = p ? vh_assignments_find(p->store, address) : NULL;
        Runtime *rt;

        if (!a || a->vfs == 0 || strcmp(a->address, address) != 0)
                return;
        rt = runtime_get(p, a->address);
        if (rt)
                runtime_retry(rt);
}

bool vh_bus_persistence_is_waiting(VhDaemon *d) {
        VhPersistence *p = d->persistence;

        if (!p || p->load_error || vh_hostfs_is_read_only(d->fs))
                return false;
        for (size_t i = 0; i < p->store->n; i++) {
                const VhAssignment *a = &p->store->entries[i];
                const VhPciDevice *dev;
                Runtime *rt;

                if (a->vfs == 0)
                        continue;
                dev = vh_host_find_device(d->host, a->address);
                rt = runtime_get(p, a->address);
                if (dev && !dev->driver && rt && rt->match.state == VH_ASSIGNMENT_NOT_APPLIED)
                        return true;
        }
        return false;
}

/* A try that was refused or failed: kept for ListPersistent, and logged. */
static void record_refusal(Runtime *rt, int result, const VhError *error) {
        const char *message = error && error->message ? error->message : strerror(-result);
        char *s;

        if (asprintf(&s, "Refused (%s): %s",
                     vh_bus_error_name(vh_error_is_set(error) ? error->code : VH_ERROR_CODE_FAILED), message) < 0)
                s = NULL;
        runtime_set_refusal(rt, s);
        log_warning("Persistent assignment %s not applied: %s", rt->address, message);
}

/* A try refused: not tried again until the function appears again or the
 * daemon restarts. */
static void refuse(Runtime *rt, int r, VhError *e) {
        rt->tried = true;
        record_refusal(rt, r, e);
        vh_error_clear(e);
}

static void started(const VhAssignment *a, Runtime *rt) {
        rt->tried = true;
        rt->applying = true;
        log_info("Applying the persistent assignment of %s%s%s%s.", a->address, a->name ? " (" : "",
                 strempty(a->name), a->name ? ")" : "");
}

/* Plans a bind of address for the assignment, as Bind would, and starts
 * it on a worker. 1: started; 0: nothing to do; -1: not now (refused,
 * which is recorded, a busy group, or a worker that cannot start). */
static int try_bind(VhDaemon *d, const VhAssignment *a, Runtime *rt, const char *address,
                    const VhBindOptions *options) {
        _cleanup_(vh_bind_plan_freep) VhBindPlan *plan = NULL;
        VhError e = VH_ERROR_NULL;
        int r;

        r = vh_binder_plan(d->binder, d->host, VH_BIND_VERB_BIND, address, options, &plan, &e);
        if (r < 0) {
                refuse(rt, r, &e);
                return -1;
        }
        if (vh_bind_plan_is_noop(plan))
                return 0;
        /* Tried again when the operation holding the group is done. */
        if (vh_bus_binding_group_busy(d, plan->group))
                return -1;
        r = vh_bus_binding_start(d, NULL, TAKE_PTR(plan), NULL, a->address);
        if (r < 0) {
                log_warning_errno(r, "Cannot start binding %s for the persistent assignment of %s: %m", address,
                                  a->address);
                return -1;
        }
        started(a, rt);
        return 1;
}

/* The first of the PF's VFs that is not on the driver: bound like a Bind.
 * Each success tries again, so the VFs are moved one at a time until all
 * are there or one is refused. */
static void apply_vf_binds(VhDaemon *d, const VhAssignment *a, Runtime *rt, const VhPciDevice *pf) {
        VhBindOptions options = { .driver = a->driver };

        for (size_t i = 0; i < pf->n_virtfns; i++) {
                const VhPciDevice *vf = vh_host_find_device(d->host, pf->virtfns[i].address);

                if (!vf || (vf->driver && strcmp(vf->driver, a->driver) == 0))
                        continue;
                if (try_bind(d, a, rt, vf->address, &options) != 0)
                        return;
        }
        rt->tried = true;
}

/* A PF's VF count: made from none as SetVfCount does (VFs only ever on
 * the driver), with every refusal of SetVfCount and no force. VFs there
 * already are kept: the right number, and those off the driver are bound;
 * another number is left to the user (a VM may hold one of them). */
static void apply_vfs(VhDaemon *d, const VhAssignment *a, Runtime *rt) {
        _cleanup_(vh_vf_count_plan_freep) VhVfCountPlan *plan = NULL;
        VhVfCountOptions options = { .driver = a->driver };
        const VhPciDevice *pf = vh_host_find_device(d->host, a->address);
        VhError e = VH_ERROR_NULL;
        int r;

        /* Waits for the PF, and for its driver: only a driver makes VFs. */
        if (!pf || !pf->driver)
                return;
        if (pf->sriov_numvfs == a->vfs) {
                apply_vf_binds(d, a, rt, pf);
                return;
        }
        if (pf->sriov_numvfs != 0) {
                rt->tried = true;
                return;         /* reason_of() says what to do */
        }

        r = vh_vf_count_plan(d->binder, d->host, a->address, a->vfs, &options, &plan, &e);
        if (r < 0) {
                refuse(rt, r, &e);
                return;
        }
        for (size_t i = 0; i < plan->n_groups; i++)
                if (vh_bus_binding_group_busy(d, plan->groups[i]))
                        return;
        r = vh_bus_vf_count_start(d, NULL, TAKE_PTR(plan), NULL, a->address);
        if (r < 0) {
                log_warning_errno(r, "Cannot start applying the persistent assignment of %s: %m", a->address);
                return;
        }
        started(a, rt);
}

static void apply_one(VhDaemon *d, const VhAssignment *a, Runtime *rt) {
        VhBindOptions options = { .group = a->group, .driver = a->driver };

        if (a->vfs > 0)
                apply_vfs(d, a, rt);
        else if (try_bind(d, a, rt, a->address, &options) == 0)
                rt->tried = true;
}

void vh_bus_persistence_apply(VhDaemon *d) {
        VhPersistence *p = d->persistence;
        bool any = false, disabled = false, checked = false;

        if (!p || p->load_error || vh_hostfs_is_read_only(d->fs))
                return;

        for (size_t i = 0; i < p->store->n; i++) {
                const VhAssignment *a = &p->store->entries[i];
                Runtime *rt = runtime_get(p, a->address);

                if (!rt || rt->tried || rt->applying || rt->match.state != VH_ASSIGNMENT_NOT_APPLIED)
                        continue;
                if (!checked) {
                        disabled = vh_kernel_assignments_disabled(d->fs);
                        checked = true;
                }
                if (disabled) {
                        rt->tried = true;
                        runtime_set_refusal(rt, strdup("Not applied: " VH_KERNEL_ASSIGN_DISABLE_WORD " is on the "
                                                       "kernel command line. Boot without it to apply, or "
                                                       "'vfiohostctl bind' the device by hand."));
                        any = true;
                        continue;
                }
                apply_one(d, a, rt);
                any = true;
        }
        if (any)
                reannotate(d);
}

void vh_bus_persistence_applied(VhDaemon *d, const char *address, int result, const VhError *error) {
        VhPersistence *p = d->persistence;
        Runtime *rt = p ? runtime_get(p, address) : NULL;

        if (!rt)
                return;
        rt->applying = false;
        if (result < 0)
                record_refusal(rt, result, error);
        else {
                const VhAssignment *a = vh_assignments_find(p->store, address);

                runtime_set_refusal(rt, NULL);
                /* A VF count is made in steps (the VFs, then each VF off
                 * the driver): the next apply takes the next one. */
                if (a && a->vfs > 0)
                        rt->tried = false;
                else
                        log_notice("Persistent assignment %s applied.", address);
        }
        /* The caller re-reads the host, which annotates again. */
}

const VhAssignments *vh_bus_persistence_store(VhDaemon *d, const char **ret_error) {
        if (d->persistence->load_error) {
                *ret_error = d->persistence->load_error;
                return NULL;
        }
        return d->persistence->store;
}

/* ---- Names ------------------------------------------------------------ */

int vh_bus_resolve_address(VhDaemon *d, const char *arg, char ret[VH_ADDRESS_MAX], sd_bus_error *error) {
        char quoted[VH_EXCERPT_SIZE];
        const VhAssignment *a;

        if (vh_address_normalize(arg, ret) >= 0)
                return 0;
        if (!vh_assignment_name_is_valid(arg))
                return sd_bus_error_setf(error, VH_ERROR_INVALID_ADDRESS, VH_ADDRESS_INVALID_FMT,
                                         vh_utf8_excerpt(arg, quoted));
        a = d->persistence ? vh_assignments_find(d->persistence->store, arg) : NULL;
        if (!a)
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND,
                                         "'%s' is neither a PCI address nor the name of a persistent assignment; "
                                         "'vfiohostctl persisted' lists the names.", arg);
        memcpy(ret, a->address, VH_ADDRESS_MAX);
        return 0;
}

int vh_bus_read_address(VhDaemon *d, sd_bus_message *m, char ret[VH_ADDRESS_MAX], sd_bus_error *error) {
        const char *arg;
        int r;

        r = sd_bus_message_read(m, "s", &arg);
        if (r < 0)
                return r;
        return vh_bus_resolve_address(d, arg, ret, error);
}

/* ---- Entries ---------------------------------------------------------- */

static int append_entry(VhDaemon *d, sd_bus_message *m, const VhAssignment *a) {
        char recorded[VH_IDENTITY_STRING_MAX], present[VH_IDENTITY_STRING_MAX], serial[24] = "";
        _cleanup_free_ char *reason = NULL;
        Runtime *rt = runtime_get(d->persistence, a->address);
        int r;

        if (!rt)
                return -ENOMEM;
        reason = reason_of(d, a, rt);
        if (!reason)
                return -ENOMEM;
        if (a->identity.has_dsn)
                snprintf(serial, sizeof(serial), "%016" PRIx64, a->identity.dsn);

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                  "address", "s", a->address,
                                  "name", "s", strempty(a->name),
                                  "driver", "s", a->driver,
                                  "group", "b", (int) a->group,
                                  "vfs", "u", a->vfs,
                                  "vendor-id", "q", a->identity.vendor,
                                  "device-id", "q", a->identity.device,
                                  "subsystem-vendor-id", "q", a->identity.subsystem_vendor,
                                  "subsystem-device-id", "q", a->identity.subsystem_device,
                                  "class", "u", a->identity.class_code,
                                  "serial", "s", serial,
                                  "identity", "s", vh_identity_format(&a->identity, recorded),
                                  "time", "t", a->created_usec,
                                  "state", "s", state_of(rt),
                                  "reason", "s", reason,
                                  "present-identity", "s",
                                  rt->match.state == VH_ASSIGNMENT_MISMATCH ? vh_identity_format(&rt->match.present, present) : "",
                                  "moved-to", "s", rt->match.moved_to);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int vh_bus_persistence_append_entry(VhDaemon *d, sd_bus_message *m, const char *address) {
        const VhAssignment *a = vh_assignments_find(d->persistence->store, address);
        int r;

        if (!a)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "assignment");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a{sv}");
        if (r >= 0)
                r = append_entry(d, m, a);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ---- Readiness -------------------------------------------------------- */

int vh_bus_persistence_add_check(VhDaemon *d, VhReport *report) {
        VhPersistence *p = d->persistence;
        _cleanup_free_ char *detail = NULL, *source = NULL;
        size_t n_bad = 0;
        FILE *f;
        size_t size = 0;
        int r;

        if (!p)
                return 0;
        if (asprintf(&source, "/%s/%s", d->binder->state_dir, VH_ASSIGNMENTS_FILE) < 0)
                return -ENOMEM;
        if (p->load_error)
                return vh_report_add_host_check(report, "persistence.assignments", "persistence", VH_CHECK_WARN,
                                                "The persistent assignments cannot be read", p->load_error,
                                                "Repair the file or move it aside, then restart vfiohostd "
                                                "(its errors are in the journal: journalctl -u vfiohostd).",
                                                source);
        if (p->store->n == 0)
                return 0;

        f = open_memstream(&detail, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < p->store->n; i++) {
                const VhAssignment *a = &p->store->entries[i];
                Runtime *rt = runtime_get(p, a->address);
                _cleanup_free_ char *reason = NULL;
                const char *state;

                if (!rt)
                        continue;
                state = state_of(rt);
                reason = reason_of(d, a, rt);
                if (strcmp(state, "mismatch") == 0 || strcmp(state, "refused") == 0)
                        n_bad++;
                fprintf(f, "%s%s%s%s: %s. %s\n", a->address, a->name ? " (" : "", strempty(a->name),
                        a->name ? ")" : "", state, strempty(reason));
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        /* The report's lines end without a newline. */
        if (size > 0 && detail[size - 1] == '\n')
                detail[size - 1] = '\0';

        if (n_bad == 0)
                r = vh_report_add_host_check(report, "persistence.assignments", "persistence", VH_CHECK_PASS,
                                             "Every persistent assignment matches the card at its address", detail, "",
                                             source);
        else
                r = vh_report_add_host_check(report, "persistence.assignments", "persistence", VH_CHECK_WARN,
                                             n_bad == 1 ? "A persistent assignment is not applied: another card, or refused"
                                                        : "Persistent assignments are not applied: other cards, or refused",
                                             detail,
                                             "For another card at the address: persist the card where it is now and "
                                             "unpersist the old address (vfiohostctl persisted shows both). For a "
                                             "refusal: fix what it names, then re-plug the device or restart vfiohostd.",
                                             source);
        return r;
}

/* ---- Methods ---------------------------------------------------------- */

static int check_store(VhDaemon *d, sd_bus_error *error) {
        if (d->persistence->load_error)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "%s", d->persistence->load_error);
        if (vh_hostfs_is_read_only(d->fs))
                return sd_bus_error_setf(error, VH_ERROR_FAILED,
                                         "vfiohostd runs with --read-only; it does not change the host or its "
                                         "assignments. Nothing was changed.");
        return 0;
}

static int save(VhDaemon *d, sd_bus_error *error) {
        int r = vh_assignments_save(d->fs, d->binder->state_dir, d->persistence->store);

        if (r < 0)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "Cannot write %s/%s: %s.", d->binder->state_dir,
                                         VH_ASSIGNMENTS_FILE, strerror(-r));
        return 0;
}

/* A copy of the entry at address, to undo a change with; all zero when
 * there is none. */
static int copy_entry(const VhAssignments *store, const char *address, VhAssignment *ret) {
        const VhAssignment *e = vh_assignments_find(store, address);

        *ret = (VhAssignment) {};
        if (!e)
                return 0;
        *ret = *e;
        ret->name = e->name ? strdup(e->name) : NULL;
        ret->driver = strdup(e->driver);
        if ((e->name && !ret->name) || !ret->driver) {
                vh_assignment_clear(ret);
                return -ENOMEM;
        }
        return 0;
}

/* Saves the store after a change at address; when the file cannot be
 * written, puts previous back (none: removes the entry), so that memory
 * and file agree. */
static int save_or_undo(VhDaemon *d, const char *address, const VhAssignment *previous, sd_bus_error *error) {
        int r = save(d, error);

        if (r < 0) {
                if (previous->driver)
                        (void) vh_assignments_set(d->persistence->store, previous);
                else
                        (void) vh_assignments_remove(d->persistence->store, address);
        }
        return r;
}

int vh_bus_persistence_commit(VhDaemon *d, const VhAssignment *a, sd_bus_error *error) {
        VhPersistence *p = d->persistence;
        _cleanup_(vh_assignment_clear) VhAssignment previous = {};
        Runtime *rt;
        int r;

        r = copy_entry(p->store, a->address, &previous);
        if (r < 0)
                return r;
        r = vh_assignments_set(p->store, a);
        if (r == -EEXIST)
                /* Another SetPersistent took the name meanwhile. */
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The name '%s' was given to another assignment meanwhile; nothing was "
                                         "persisted (the device stays where the bind left it).", a->name);
        if (r < 0)
                return r;
        r = save_or_undo(d, a->address, &previous, error);
        if (r < 0)
                return r;
        rt = runtime_get(p, a->address);
        if (rt) {
                rt->tried = true;
                runtime_set_refusal(rt, NULL);
        }
        if (a->vfs > 0)
                log_notice("Persistent assignment of %s%s%s%s saved: %u VFs on %s.", a->address, a->name ? " (" : "",
                           strempty(a->name), a->name ? ")" : "", a->vfs, a->driver);
        else
                log_notice("Persistent assignment of %s%s%s%s to %s%s saved.", a->address, a->name ? " (" : "",
                           strempty(a->name), a->name ? ")" : "", a->driver, a->group ? " with its IOMMU group" : "");
        reannotate(d);
        return 0;
}

int vh_bus_persistence_commit_or_reply(VhDaemon *d, const VhAssignment *a, sd_bus_message *call, const char *done,
                                       bool *ret_saved) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = vh_bus_persistence_commit(d, a, &error);
        *ret_saved = r >= 0;
        if (r >= 0)
                return 0;
        if (!sd_bus_error_is_set(&error))
                (void) sd_bus_error_set_errno(&error, r);
        log_error("%s: %s, but its assignment was not saved: %s", a->address, done, error.message);
        return sd_bus_reply_method_error(call, &error);
}

typedef struct SetOptions {
        const char *driver;
        const char *name;
        bool group;
        bool dry_run;
        uint32_t vfs;                   /* 0: the function itself */
} SetOptions;

static int parse_set_options(sd_bus_message *m, SetOptions *o, sd_bus_error *error) {
        const VhBusOption table[] = {
                { "driver",  's', &o->driver  },
                { "name",    's', &o->name    },
                { "group",   'b', &o->group   },
                { "dry-run", 'b', &o->dry_run },
                { "vfs",     'u', &o->vfs     },
        };
        char quoted[VH_EXCERPT_SIZE];
        int r;

        r = vh_bus_read_options(m, table, ELEMENTSOF(table), error);
        if (r < 0)
                return r;
        /* Which drivers are accepted is the binder's to say, as for Bind. */
        if (o->name && *o->name && !vh_assignment_name_is_valid(o->name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "name '%s' is not valid: 2 to 64 characters, letters, digits, '_', '.' "
                                         "and '-', starting with a letter or digit.", vh_utf8_excerpt(o->name, quoted));
        if (o->vfs > 0 && o->group)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "A VF count is the PF's alone: 'group' does not go with 'vfs' (the VFs "
                                         "are each their own function). Nothing was changed.");
        return 0;
}

/* The assignment SetPersistent saves for the function at address, with
 * the identity the card has now. */
static int new_assignment(VhDaemon *d, const char *address, const SetOptions *o, const char *driver,
                          VhAssignment *a, sd_bus_error *error) {
        const VhPciDevice *dev = vh_host_find_device(d->host, address);
        struct timespec now;

        if (!dev)
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND, VH_ADDRESS_NOT_FOUND_FMT, address);
        memcpy(a->address, address, sizeof(a->address));
        a->group = o->group;
        a->vfs = o->vfs;
        a->name = o->name && *o->name ? strdup(o->name) : NULL;
        a->driver = strdup(driver);
        if ((o->name && *o->name && !a->name) || !a->driver)
                return -ENOMEM;
        vh_identity_read(d->fs, dev, &a->identity);
        (void) clock_gettime(CLOCK_REALTIME, &now);
        a->created_usec = (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000;
        return 0;
}

static int authorize_persist(VhDaemon *d, sd_bus_message *m, const char *address, sd_bus_error *error) {
        const char *details[] = { "device", address, "verb", "persist", NULL };

        return vh_bus_authorize(d->polkit, m, details, error);
}

/* SetPersistent with vfs: SetVfCount's plan and refusals (no force: it is
 * applied again at every boot, when nobody is there to see it), the VFs
 * made, then the assignment saved. With the count there already, only the
 * store changes, and VFs off the driver are bound in the background. */
static int set_persistent_vfs(VhDaemon *d, sd_bus_message *m, const char *address, const SetOptions *o,
                              sd_bus_error *error) {
        _cleanup_(vh_vf_count_plan_freep) VhVfCountPlan *plan = NULL;
        _cleanup_(vh_assignment_clear) VhAssignment a = {};
        VhVfCountOptions options = {
                .driver = o->driver && *o->driver ? o->driver : VH_DRIVER_VFIO_PCI,
                .dry_run = o->dry_run,
        };
        int r;

        r = vh_bus_vf_count_plan(d, address, o->vfs, &options, &plan, error);
        if (r < 0)
                return r;
        if (o->dry_run) {
                if (vh_vf_count_plan_is_noop(plan))
                        return vh_bus_vf_count_reply(d, m, plan, NULL);
                r = vh_bus_vf_count_start(d, m, TAKE_PTR(plan), NULL, NULL);
                return r < 0 ? sd_bus_error_set_errnof(error, -r, "Cannot start the check: %m") : 1;
        }
        r = check_store(d, error);
        if (r < 0)
                return r;
        r = authorize_persist(d, m, address, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = new_assignment(d, address, o, options.driver, &a, error);
        if (r < 0)
                return r;

        if (vh_vf_count_plan_is_noop(plan)) {
                Runtime *rt;

                r = vh_bus_persistence_commit(d, &a, error);
                if (r < 0)
                        return r;
                rt = runtime_get(d->persistence, address);
                if (rt)
                        runtime_retry(rt);
                vh_bus_persistence_apply(d);
                return vh_bus_vf_count_reply(d, m, plan, address);
        }
        r = vh_bus_vf_count_start(d, m, TAKE_PTR(plan), &a, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot start the operation: %m");
        /* Replied when the VFs are there and the assignment saved. */
        return 1;
}

int vh_bus_method_set_persistent(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(vh_bind_plan_freep) VhBindPlan *plan = NULL;
        _cleanup_(vh_assignment_clear) VhAssignment a = {};
        char address[VH_ADDRESS_MAX];
        VhBindOptions bind_options = {};
        SetOptions o = {};
        VhDaemon *d = userdata;
        const VhAssignment *named;
        int r;

        r = vh_bus_read_address(d, m, address, error);
        if (r < 0)
                return r;
        r = parse_set_options(m, &o, error);
        if (r < 0)
                return r;
        if (d->persistence->load_error)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "%s", d->persistence->load_error);

        named = o.name && *o.name ? vh_assignments_find(d->persistence->store, o.name) : NULL;
        if (named && strcmp(named->address, address) != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The name '%s' belongs to the assignment of %s; choose another, or "
                                         "unpersist that one first. Nothing was changed.", o.name, named->address);

        if (o.vfs > 0)
                return set_persistent_vfs(d, m, address, &o, error);

        /* The same plan, and so the same refusals, as Bind. */
        bind_options = (VhBindOptions) { .group = o.group, .dry_run = o.dry_run, .driver = o.driver };
        r = vh_bus_binding_plan(d, VH_BIND_VERB_BIND, address, &bind_options, &plan, error);
        if (r < 0)
                return r;
        r = vh_bus_binding_check_busy(d, plan->group, !o.dry_run, error);
        if (r < 0)
                return r;

        /* A dry run says what the bind would do, as Bind's does. */
        if (o.dry_run)
                return vh_bus_binding_start_check(d, m, TAKE_PTR(plan), error);

        r = check_store(d, error);
        if (r < 0)
                return r;
        r = authorize_persist(d, m, address, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = new_assignment(d, address, &o, plan->driver, &a, error);
        if (r < 0)
                return r;

        /* On its VFIO driver already: only the store changes. */
        if (vh_bind_plan_is_noop(plan)) {
                r = vh_bus_persistence_commit(d, &a, error);
                if (r < 0)
                        return r;
                return vh_bus_binding_reply(d, m, plan, address);
        }

        r = vh_bus_binding_start(d, m, TAKE_PTR(plan), &a, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot start the operation: %m");
        /* Replied when the bind is done and the assignment saved. */
        return 1;
}

int vh_bus_method_clear_persistent(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        char address[VH_ADDRESS_MAX];
        VhDaemon *d = userdata;
        const VhAssignment *a;
        int r;

        r = vh_bus_read_address(d, m, address, error);
        if (r < 0)
                return r;
        r = check_store(d, error);
        if (r < 0)
                return r;
        a = vh_assignments_find(d->persistence->store, address);
        if (!a)
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND,
                                         "Nothing is persisted for %s; 'vfiohostctl persisted' lists the assignments.",
                                         address);

        {
                const char *details[] = { "device", address, "verb", "unpersist", NULL };

                r = vh_bus_authorize(d->polkit, m, details, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1;
        }

        {
                _cleanup_(vh_assignment_clear) VhAssignment kept = {};

                r = copy_entry(d->persistence->store, address, &kept);
                if (r < 0)
                        return r;
                r = vh_assignments_remove(d->persistence->store, address);
                if (r < 0)
                        return r;
                r = save_or_undo(d, address, &kept, error);
                if (r < 0)
                        return r;
        }
        log_notice("Persistent assignment of %s removed; the device stays where it is until unbound or the "
                   "next boot.", address);
        reannotate(d);
        return sd_bus_reply_method_return(m, NULL);
}

int vh_bus_method_list_persistent(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        VhDaemon *d = userdata;
        int r;

        if (d->persistence->load_error)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "%s", d->persistence->load_error);

        /* Judge against the host as it is now. */
        (void) vh_daemon_refresh_host(d);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->persistence->store->n; i++) {
                r = append_entry(d, reply, &d->persistence->store->entries[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
