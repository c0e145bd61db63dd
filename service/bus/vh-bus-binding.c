/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.Bind and Manager1.Unbind: parse and validate → answer at once
 * when nothing would change or for a dry run → polkit → run the plan on a
 * worker thread → reply from the event loop when it is done. The bus keeps
 * answering while sysfs writes block; one operation per IOMMU group. */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vh-address.h"
#include "vh-binder.h"
#include "vh-bus-binding.h"
#include "vh-bus-bouncer.h"
#include "vh-bus-errors.h"
#include "vh-bus-objects.h"
#include "vh-bus-options.h"
#include "vh-bus-persistence.h"
#include "vh-bus-readiness.h"
#include "vh-bus-polkit.h"
#include "vh-bus-vms.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"
#include "vh-utf8.h"
#include "vh-vf-count.h"

/* A Bind, Unbind or SetPersistent (call and plan set; persist: the
 * assignment SetPersistent saves once the bind is done), a persistent
 * assignment being applied (plan or work, no call; its address in
 * assignment), or the reconcile at start (neither; the groups it touches
 * in groups). */
struct VhOperation {
        VhDaemon *daemon;
        VhOperation *next;              /* in daemon->operations or the done list */
        sd_bus_message *call;
        VhBindPlan *plan;
        VhAssignment persist;
        bool has_persist;
        char assignment[VH_ADDRESS_MAX];
        unsigned *groups;
        size_t n_groups;
        const VhBusWork *work;          /* another kind of operation (SetVfCount), with its data */
        void *work_data;
        VhError error;
        int result;
        pthread_t thread;
        bool joined;
        bool check_only;                /* a dry run: holds no group */
};

static void operation_free(VhOperation *op) {
        if (!op)
                return;
        sd_bus_message_unref(op->call);
        vh_bind_plan_free(op->plan);
        vh_assignment_clear(&op->persist);
        if (op->work)
                op->work->free(op->work_data);
        free(op->groups);
        vh_error_clear(&op->error);
        free(op);
}

static const VhOperation *operation_on_group(const VhDaemon *d, unsigned group) {
        for (const VhOperation *op = d->operations; op; op = op->next) {
                if (op->check_only)
                        continue;
                if (op->plan && op->plan->group == group)
                        return op;
                for (size_t i = 0; i < op->n_groups; i++)
                        if (op->groups[i] == group)
                                return op;
        }
        return NULL;
}

bool vh_bus_binding_group_busy(const VhDaemon *d, unsigned group) {
        return operation_on_group(d, group) != NULL;
}

static int append_string(sd_bus_message *m, const char *key, const char *value) {
        return sd_bus_message_append(m, "{sv}", key, "s", strempty(value));
}

/* assignment: the address whose persistent assignment joins the reply
 * (SetPersistent), NULL for none. */
static int reply_with_plan(VhDaemon *d, sd_bus_message *call, const VhBindPlan *p, const char *assignment) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;

        r = sd_bus_message_append(reply, "{sv}", "group", "u", p->group);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "dry-run", "b", (int) p->options.dry_run);
        if (r >= 0)
                r = vh_bus_append_strv_entry(reply, "forced", p->forced);
        if (r < 0)
                return r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "devices");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "aa{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;

        for (size_t i = 0; i < p->n_targets; i++) {
                const VhBindTarget *t = &p->targets[i];

                r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = append_string(reply, "address", t->address);
                if (r >= 0)
                        r = append_string(reply, "previous-driver", t->driver_before);
                if (r >= 0)
                        r = append_string(reply, "driver", t->driver_after);
                if (r >= 0)
                        r = append_string(reply, "vfio-group-path", t->vfio_group_path);
                if (r >= 0)
                        r = append_string(reply, "vfio-device-path", t->vfio_device_path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{sv}", "changed", "b", (int) t->changed);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_close_container(reply);      /* aa{sv} */
        if (r >= 0)
                r = sd_bus_message_close_container(reply);      /* v */
        if (r >= 0)
                r = sd_bus_message_close_container(reply);      /* e */
        if (r >= 0 && assignment)
                r = vh_bus_persistence_append_entry(d, reply, assignment);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);      /* a{sv} */
        if (r < 0)
                return r;

        return sd_bus_send(NULL, reply, NULL);
}

/* ---- Worker ----------------------------------------------------------- */

static void *operation_run(void *userdata) {
        VhOperation *op = userdata;
        VhDaemon *d = op->daemon;
        uint64_t one = 1;

        if (op->work)
                op->result = op->work->run(d, op->work_data, &op->error);
        else if (op->plan)
                op->result = vh_binder_execute(d->binder, op->plan, &op->error);
        else {
                int r = vh_vf_count_reconcile(d->binder);

                op->result = vh_binder_reconcile(d->binder);
                if (r < 0 && op->result >= 0)
                        op->result = r;
        }

        /* Hand it back to the event loop; only that thread touches the bus. */
        pthread_mutex_lock(&d->done_lock);
        op->next = d->done;
        d->done = op;
        pthread_mutex_unlock(&d->done_lock);
        if (write(d->done_fd, &one, sizeof(one)) < 0)
                log_error_errno(errno, "Cannot wake the event loop: %m");
        return NULL;
}

static void operations_unlink(VhDaemon *d, VhOperation *op) {
        for (VhOperation **p = &d->operations; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        return;
                }
}

static void set_reconciling(VhDaemon *d, bool reconciling) {
        d->reconciling = reconciling;
        if (d->bus)
                (void) sd_bus_emit_properties_changed(d->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Reconciling", NULL);
}

/* SetPersistent's bind is done: save, then reply with both. */
static int reply_persisted(VhDaemon *d, VhOperation *op) {
        bool saved;
        int r;

        r = vh_bus_persistence_commit_or_reply(d, &op->persist, op->call, "bound", &saved);
        if (!saved)
                return r;
        return reply_with_plan(d, op->call, op->plan, op->persist.address);
}

/* Replies to (or, for reconcile, logs) every finished operation and frees
 * it. Returns whether any that may have written finished; *ret_reconciled
 * says whether the reconcile at start was one of them. */
static bool complete_done_operations(VhDaemon *d, bool *ret_reconciled) {
        VhOperation *done;
        bool any = false;

        *ret_reconciled = false;

        pthread_mutex_lock(&d->done_lock);
        done = d->done;
        d->done = NULL;
        pthread_mutex_unlock(&d->done_lock);

        while (done) {
                VhOperation *op = done;
                int r;

                done = op->next;
                /* A dry run changed nothing: no need to re-read the host. */
                any = any || !op->check_only;
                if (!op->joined)
                        (void) pthread_join(op->thread, NULL);
                operations_unlink(d, op);

                if (!op->call && op->assignment[0]) {
                        vh_bus_persistence_applied(d, op->assignment, op->result, &op->error);
                        operation_free(op);
                        continue;
                }
                if (!op->call) {
                        if (op->result < 0)
                                log_error_errno(op->result, "Cannot reconcile the journal: %m");
                        else
                                log_notice("Reconcile finished: %d function(s) restored.", op->result);
                        set_reconciling(d, false);
                        *ret_reconciled = true;
                        operation_free(op);
                        continue;
                }

                if (op->result < 0 && vh_error_is_set(&op->error))
                        r = vh_bus_reply_error(op->call, &op->error);
                else if (op->result < 0)
                        r = sd_bus_reply_method_errno(op->call, op->result, NULL);
                else if (op->work)
                        r = op->work->reply(d, op->call, op->work_data);
                else if (op->has_persist)
                        r = reply_persisted(d, op);
                else
                        r = reply_with_plan(d, op->call, op->plan, NULL);
                if (r < 0)
                        log_warning_errno(r, "Cannot send the reply of an operation: %m");

                operation_free(op);
        }
        return any;
}

static int on_operations_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        VhDaemon *d = userdata;
        bool reconciled;
        uint64_t n;

        if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                log_warning_errno(errno, "Cannot read the completion counter: %m");

        if (!complete_done_operations(d, &reconciled))
                return 0;

        /* The host changed: new snapshot, PropertiesChanged for what moved. */
        (void) vh_daemon_refresh_host(d);
        vh_daemon_touch(d);
        /* The journal now says what stays bound: who still uses it? */
        if (reconciled)
                vh_bus_readiness_log_idle(d);
        /* Assignments that waited for a group this one held. */
        vh_bus_persistence_apply(d);

        if (d->exit_when_idle && !d->operations)
                return sd_event_exit(d->event, EXIT_SUCCESS);
        return 0;
}

void vh_bus_binding_finish_all(VhDaemon *d) {
        bool reconciled;        /* exiting: no idle bindings to tell of */

        if (!d->operations)
                return;
        /* Each write is bounded by the write timeout: this ends. */
        log_info("Waiting for the running operations to finish before exiting.");
        for (VhOperation *op = d->operations; op; op = op->next) {
                (void) pthread_join(op->thread, NULL);
                op->joined = true;
        }
        /* Every one is on the done list now: reply where the bus allows. */
        (void) complete_done_operations(d, &reconciled);
        if (d->bus)
                (void) sd_bus_flush(d->bus);
}

static int start_operation(VhDaemon *d, VhOperation *op) {
        int r;

        /* Joined by complete_done_operations(). */
        r = -pthread_create(&op->thread, NULL, operation_run, op);
        if (r < 0)
                return r;
        op->next = d->operations;
        d->operations = op;
        return 0;
}

int vh_bus_binding_start(VhDaemon *d, sd_bus_message *call, VhBindPlan *plan, VhAssignment *persist,
                         const char *assignment) {
        VhOperation *op;
        int r;

        op = calloc(1, sizeof(*op));
        if (!op) {
                vh_bind_plan_free(plan);
                return -ENOMEM;
        }
        op->daemon = d;
        op->call = call ? sd_bus_message_ref(call) : NULL;
        op->plan = plan;
        if (persist) {
                op->persist = *persist;
                *persist = (VhAssignment) {};
                op->has_persist = true;
        }
        if (assignment)
                memcpy(op->assignment, assignment, sizeof(op->assignment));

        r = start_operation(d, op);
        if (r < 0) {
                operation_free(op);
                return r;
        }
        return 0;
}

int vh_bus_binding_start_work(VhDaemon *d, sd_bus_message *call, const VhBusWork *work, void *data,
                              const unsigned *groups, size_t n_groups, bool check_only, const char *assignment) {
        VhOperation *op;
        int r;

        op = calloc(1, sizeof(*op));
        if (!op) {
                work->free(data);
                return -ENOMEM;
        }
        op->daemon = d;
        op->call = call ? sd_bus_message_ref(call) : NULL;
        if (assignment)
                memcpy(op->assignment, assignment, sizeof(op->assignment));
        op->work = work;
        op->work_data = data;
        op->check_only = check_only;
        op->groups = n_groups > 0 ? calloc(n_groups, sizeof(unsigned)) : NULL;
        if (n_groups > 0 && !op->groups) {
                operation_free(op);
                return -ENOMEM;
        }
        if (n_groups > 0)
                memcpy(op->groups, groups, sizeof(unsigned) * n_groups);
        op->n_groups = n_groups;

        r = start_operation(d, op);
        if (r < 0) {
                operation_free(op);
                return r;
        }
        return 0;
}

int vh_bus_binding_start_check(VhDaemon *d, sd_bus_message *call, VhBindPlan *plan, sd_bus_error *error) {
        _cleanup_(vh_bind_plan_freep) VhBindPlan *p = plan;
        VhError e = VH_ERROR_NULL;
        VhOperation *op;
        int r;

        /* The holder scan reads every process's fds: off the loop,
         * answered when done. It holds no group (it writes nothing). */
        if (p->n_holder_checks > 0) {
                op = calloc(1, sizeof(*op));
                if (!op)
                        return -ENOMEM;
                op->daemon = d;
                op->call = sd_bus_message_ref(call);
                op->plan = TAKE_PTR(p);
                op->check_only = true;
                r = start_operation(d, op);
                if (r < 0) {
                        operation_free(op);
                        return sd_bus_error_set_errnof(error, -r, "Cannot start the check: %m");
                }
                return 1;
        }
        r = vh_binder_execute(d->binder, p, &e);
        if (r < 0) {
                r = vh_bus_error_set(error, &e);
                vh_error_clear(&e);
                return r;
        }
        return reply_with_plan(d, call, p, NULL);
}

int vh_bus_binding_reply(VhDaemon *d, sd_bus_message *call, const VhBindPlan *plan, const char *assignment) {
        return reply_with_plan(d, call, plan, assignment);
}

int vh_bus_binding_check_busy(const VhDaemon *d, unsigned group, bool writes, sd_bus_error *error) {
        const VhOperation *busy = operation_on_group(d, group);

        if (!busy)
                return 0;
        /* A reconcile, or an assignment being applied: the group is in flux. */
        /* Under reconcile the group is in flux: not even a dry run or a
         * no-op answer would be true. */
        if (!busy->call && !busy->plan)
                return sd_bus_error_setf(error, VH_ERROR_BUSY,
                                         "vfiohostd is finishing an operation an earlier run left unfinished on "
                                         "IOMMU group %u; try again when the Reconciling property is false.",
                                         group);
        if (!writes && busy->call)
                return 0;
        return sd_bus_error_setf(error, VH_ERROR_BUSY,
                                 "Another operation on IOMMU group %u is running; try again when it has finished.",
                                 group);
}

int vh_bus_binding_start_reconcile(VhDaemon *d) {
        _cleanup_strv_free_ char **addresses = NULL;
        VhOperation *op;
        int r;

        /* Before the early return below: a reboot leaves only stale
         * "bound" entries, and they are dropped all the same (and so is
         * the OriginalDriver the objects took from them). */
        if (vh_binder_drop_stale(d->binder) > 0)
                (void) vh_daemon_refresh_host(d);

        r = vh_binder_unfinished(d->binder, &addresses);
        if (r < 0)
                return log_oom();
        {
                _cleanup_strv_free_ char **pfs = NULL;

                /* An interrupted SetVfCount: its PF's group and its VFs'. */
                r = vh_vf_count_unfinished(d->binder, &pfs);
                if (r < 0)
                        return log_oom();
                STRV_FOREACH(pf, pfs) {
                        const VhPciDevice *dev = vh_host_find_device(d->host, *pf);

                        if (vh_strv_extend(&addresses, *pf) < 0)
                                return log_oom();
                        for (size_t i = 0; dev && i < dev->n_virtfns; i++)
                                if (vh_strv_extend(&addresses, dev->virtfns[i].address) < 0)
                                        return log_oom();
                }
        }
        if (!addresses[0])
                return 0;

        op = calloc(1, sizeof(*op));
        if (!op)
                return log_oom();
        op->daemon = d;
        op->groups = calloc(vh_strv_length(addresses) + 1, sizeof(unsigned));
        if (!op->groups) {
                operation_free(op);
                return log_oom();
        }
        /* Calls on these groups get Busy until it is done; everything
         * else is answered meanwhile. */
        STRV_FOREACH(a, addresses) {
                const VhPciDevice *dev = vh_host_find_device(d->host, *a);

                if (dev && dev->iommu_group >= 0)
                        op->groups[op->n_groups++] = (unsigned) dev->iommu_group;
        }

        r = start_operation(d, op);
        if (r < 0) {
                operation_free(op);
                return log_error_errno(r, "Cannot start reconciling the journal: %m");
        }
        log_notice("Reconciling %zu function(s) an earlier run left unfinished.", vh_strv_length(addresses));
        set_reconciling(d, true);
        return 0;
}

int vh_bus_binding_setup(VhDaemon *d) {
        int r;

        d->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->done_fd < 0)
                return log_error_errno(errno, "Cannot create an eventfd: %m");

        r = sd_event_add_io(d->event, &d->done_source, d->done_fd, EPOLLIN, on_operations_done, d);
        if (r < 0)
                return log_error_errno(r, "Cannot watch operation completions: %m");
        return 0;
}

/* ---- Methods ---------------------------------------------------------- */

/* driver is Bind's alone: an unbind restores whatever VFIO driver the
 * function is on. */
static int parse_options(sd_bus_message *m, VhBindVerb verb, VhBindOptions *o, sd_bus_error *error) {
        const VhBusOption table[] = {
                { "group",   'b', &o->group   },
                { "force",   'b', &o->force   },
                { "dry-run", 'b', &o->dry_run },
                { "driver",  's', &o->driver  },
        };

        return vh_bus_read_options(m, table, ELEMENTSOF(table) - (verb == VH_BIND_VERB_UNBIND), error);
}

int vh_bus_binding_plan(VhDaemon *d, VhBindVerb verb, const char *address, const VhBindOptions *options,
                        VhBindPlan **ret, sd_bus_error *error) {
        VhError e = VH_ERROR_NULL;
        int r;

        /* Plan against what the host is now, not the last snapshot. */
        r = vh_daemon_refresh_host(d);
        if (r < 0)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "Cannot read the host's PCI devices: %s", strerror(-r));

        r = vh_binder_plan(d->binder, d->host, verb, address, options, ret, &e);
        if (r < 0 && vh_error_is_set(&e)) {
                r = vh_bus_error_set(error, &e);
                vh_error_clear(&e);
        }
        /* An InUse refusal names a VM as machined does (libvirt's name). */
        if (r >= 0 && vh_bus_vms_machined_names(d, &(*ret)->vm_names) < 0) {
                *ret = vh_bind_plan_free(*ret);
                return sd_bus_error_set_errno(error, -ENOMEM);
        }
        return r;
}

static int method_bind_or_unbind(sd_bus_message *m, VhDaemon *d, VhBindVerb verb, sd_bus_error *error) {
        _cleanup_(vh_bind_plan_freep) VhBindPlan *plan = NULL;
        VhBindOptions options = {};
        char address[VH_ADDRESS_MAX];
        const char *verb_name = verb == VH_BIND_VERB_BIND ? "bind" : "unbind";
        int r;

        /* The address first: it costs nothing, and a bad one must not cost
         * a re-read of the host. vh_binder_plan() checks it again. */
        r = vh_bus_read_address(d, m, address, error);
        if (r < 0)
                return r;
        r = parse_options(m, verb, &options, error);
        if (r < 0)
                return r;

        r = vh_bus_binding_plan(d, verb, address, &options, &plan, error);
        if (r < 0)
                return r;

        r = vh_bus_binding_check_busy(d, plan->group, false, error);
        if (r < 0)
                return r;

        /* Nothing to change, or only asked what would happen: no polkit. */
        if (options.dry_run || vh_bind_plan_is_noop(plan))
                return vh_bus_binding_start_check(d, m, TAKE_PTR(plan), error);

        if (vh_hostfs_is_read_only(d->fs))
                return sd_bus_error_setf(error, VH_ERROR_FAILED,
                                         "vfiohostd runs with --read-only; it does not change the host. Nothing was changed.");

        r = vh_bus_binding_check_busy(d, plan->group, true, error);
        if (r < 0)
                return r;

        {
                const char *details[] = { "device", plan->address, "verb", verb_name, NULL };

                r = vh_bus_authorize(d->polkit, m, details, error);
                if (r < 0)
                        return r;
                /* Handled for now; polkit's answer dispatches the call again. */
                if (r == 0)
                        return 1;
        }

        log_info("%s of %s (IOMMU group %u) started.", verb == VH_BIND_VERB_BIND ? "Bind" : "Unbind",
                 address, plan->group);
        r = vh_bus_binding_start(d, m, TAKE_PTR(plan), NULL, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot start the operation: %m");
        /* Replied from on_operations_done(). */
        return 1;
}

int vh_bus_method_bind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return method_bind_or_unbind(m, userdata, VH_BIND_VERB_BIND, error);
}

int vh_bus_method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return method_bind_or_unbind(m, userdata, VH_BIND_VERB_UNBIND, error);
}
