/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.SetVfCount: parse and validate → the plan (every refusal, read
 * only) → answer at once for a no-op; a dry run only scans for holders →
 * polkit → the writes on a worker (vh_bus_binding_start_work, holding the
 * PF's and the removed VFs' groups like a Bind) → the reply, after which the
 * loop's refresh signals SriovNumVfs, VirtualFunctions and the VF objects. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-binding.h"
#include "vh-bus-bouncer.h"
#include "vh-bus-errors.h"
#include "vh-bus-objects.h"
#include "vh-bus-options.h"
#include "vh-bus-paths.h"
#include "vh-bus-persistence.h"
#include "vh-bus-polkit.h"
#include "vh-bus-vf-count.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-vf-count.h"

static int append_vf(sd_bus_message *reply, const VhVf *vf) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = vh_bus_device_path(vf->address, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "address", "s", vf->address);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "device", "o", path);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "group", "i", (int32_t) vf->iommu_group);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "driver", "s", strempty(vf->driver));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* assignment: the address whose persistent assignment joins the reply
 * (SetPersistent), NULL for none. */
static int reply_with_plan(VhDaemon *d, sd_bus_message *call, const VhVfCountPlan *p, const char *assignment) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "pf", "s", p->pf, "count-before", "u",
                                          p->count_before, "count", "u", p->count, "dry-run", "b", (int) p->dry_run);
        if (r >= 0)
                r = vh_bus_append_strv_entry(reply, "forced", p->forced);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "vfs");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "aa{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < p->n_vfs; i++)
                r = append_vf(reply, &p->vfs[i]);
        for (unsigned k = 0; r >= 0 && k < 3; k++)
                r = sd_bus_message_close_container(reply);      /* aa{sv}, v, e */
        if (r >= 0 && assignment)
                r = vh_bus_persistence_append_entry(d, reply, assignment);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);      /* a{sv} */
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* What a worker runs: the plan, and for SetPersistent the assignment saved
 * once the VFs are there. */
typedef struct Job {
        VhVfCountPlan *plan;
        VhAssignment persist;
        bool has_persist;
} Job;

static int run(VhDaemon *d, void *data, VhError *error) {
        return vh_vf_count_execute(d->binder, ((Job *) data)->plan, error);
}

static int reply_job(VhDaemon *d, sd_bus_message *call, void *data) {
        Job *job = data;
        bool saved;
        int r;

        if (!job->has_persist)
                return reply_with_plan(d, call, job->plan, NULL);
        /* The reply's entry judges the VFs just made. */
        (void) vh_daemon_refresh_host(d);
        r = vh_bus_persistence_commit_or_reply(d, &job->persist, call, "its VFs were made", &saved);
        if (!saved)
                return r;
        return reply_with_plan(d, call, job->plan, job->persist.address);
}

static void job_free(void *data) {
        Job *job = data;

        vh_vf_count_plan_free(job->plan);
        vh_assignment_clear(&job->persist);
        free(job);
}

static const VhBusWork work = {
        .run = run,
        .reply = reply_job,
        .free = job_free,
};

int vh_bus_vf_count_plan(VhDaemon *d, const char *pf, unsigned count, const VhVfCountOptions *options,
                         VhVfCountPlan **ret, sd_bus_error *error) {
        _cleanup_(vh_vf_count_plan_freep) VhVfCountPlan *plan = NULL;
        VhError e = VH_ERROR_NULL;
        int r;

        /* Against the host as it is now, not the last snapshot. */
        r = vh_daemon_refresh_host(d);
        if (r < 0)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "Cannot read the host's PCI devices: %s", strerror(-r));
        r = vh_vf_count_plan(d->binder, d->host, pf, count, options, &plan, &e);
        if (r < 0) {
                if (vh_error_is_set(&e)) {
                        r = vh_bus_error_set(error, &e);
                        vh_error_clear(&e);
                }
                return r;
        }
        /* A dry run too: it would read a PF in the middle of a change. */
        for (size_t i = 0; i < plan->n_groups; i++) {
                r = vh_bus_binding_check_busy(d, plan->groups[i], !options->dry_run && count != plan->count_before,
                                              error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(plan);
        return 0;
}

int vh_bus_vf_count_reply(VhDaemon *d, sd_bus_message *call, const VhVfCountPlan *plan, const char *assignment) {
        return reply_with_plan(d, call, plan, assignment);
}

int vh_bus_vf_count_start(VhDaemon *d, sd_bus_message *call, VhVfCountPlan *plan, VhAssignment *persist,
                          const char *assignment) {
        Job *job = calloc(1, sizeof(*job));
        const unsigned *groups = plan->groups;
        size_t n_groups = plan->n_groups;
        bool check_only = plan->dry_run;

        if (!job) {
                vh_vf_count_plan_free(plan);
                return -ENOMEM;
        }
        job->plan = plan;
        if (persist) {
                job->persist = *persist;
                *persist = (VhAssignment) {};
                job->has_persist = true;
        }
        if (!check_only)
                log_info("Changing the VF count of %s from %u to %u%s%s started%s.", plan->pf, plan->count_before,
                         plan->count, plan->driver ? ", VFs on " : "", strempty(plan->driver),
                         assignment ? " (a persistent assignment)" : "");
        /* A dry run only scans for holders: no group held. */
        return vh_bus_binding_start_work(d, call, &work, job, check_only ? NULL : groups, check_only ? 0 : n_groups,
                                         check_only, assignment);
}

static int parse_options(sd_bus_message *m, VhVfCountOptions *o, sd_bus_error *error) {
        const VhBusOption table[] = {
                { "driver",  's', &o->driver  },
                { "force",   'b', &o->force   },
                { "dry-run", 'b', &o->dry_run },
        };
        int r;

        r = vh_bus_read_options(m, table, ELEMENTSOF(table), error);
        /* "" is the default: whatever autoprobe gives the VFs. */
        if (r >= 0 && o->driver && !*o->driver)
                o->driver = NULL;
        return r;
}

int vh_bus_method_set_vf_count(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(vh_vf_count_plan_freep) VhVfCountPlan *plan = NULL;
        VhVfCountOptions options = {};
        char address[VH_ADDRESS_MAX], count_text[16];
        VhDaemon *d = userdata;
        uint32_t count;
        int r;

        r = vh_bus_read_address(d, m, address, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &count);
        if (r < 0)
                return r;
        r = parse_options(m, &options, error);
        if (r < 0)
                return r;

        r = vh_bus_vf_count_plan(d, address, count, &options, &plan, error);
        if (r < 0)
                return r;
        if (vh_vf_count_plan_is_noop(plan))
                return reply_with_plan(d, m, plan, NULL);
        /* Only the holder scan, off the loop; no polkit, no group held. */
        if (options.dry_run) {
                r = vh_bus_vf_count_start(d, m, TAKE_PTR(plan), NULL, NULL);
                return r < 0 ? sd_bus_error_set_errnof(error, -r, "Cannot start the check: %m") : 1;
        }

        if (vh_hostfs_is_read_only(d->fs))
                return sd_bus_error_setf(error, VH_ERROR_FAILED,
                                         "vfiohostd runs with --read-only; it does not change the host. Nothing was changed.");

        (void) snprintf(count_text, sizeof(count_text), "%" PRIu32, count);
        {
                const char *details[] = { "device", plan->pf, "verb", "set-vf-count", "count", count_text, NULL };

                r = vh_bus_authorize(d->polkit, m, details, error);
                if (r < 0)
                        return r;
                /* Handled for now; polkit's answer dispatches the call again. */
                if (r == 0)
                        return 1;
        }

        r = vh_bus_vf_count_start(d, m, TAKE_PTR(plan), NULL, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot start the operation: %m");
        /* Replied from the loop when the writes are done. */
        return 1;
}
