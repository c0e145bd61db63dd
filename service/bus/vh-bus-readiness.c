/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.GetReadiness and Manager1.Readiness: the property is the
 * verdict of the host checks of the latest report, so it agrees with the
 * host part of the last GetReadiness anyone made (fwupd#6253). A device's
 * checks never move it: the property is host-wide, and any caller may ask
 * about any device — an unprivileged one could otherwise set everybody's
 * Readiness to not-ready. */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-address.h"
#include "vh-bus-options.h"
#include "vh-bus-persistence.h"
#include "vh-bus-readiness.h"
#include "vh-idle-bindings.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-readiness.h"
#include "vh-utf8.h"

static const char *verdict_string(bool ready) {
        return ready ? "ready" : "not-ready";
}

/* The journal's finished binds that nobody holds and no assignment asks for. */
static int find_idle(VhDaemon *d, VhIdleBinding **ret, size_t *ret_n) {
        const char *store_error = NULL;
        const VhAssignments *store = d->persistence ? vh_bus_persistence_store(d, &store_error) : NULL;
        int r;

        pthread_mutex_lock(&d->binder->lock);
        r = vh_idle_bindings_find(d->fs, d->host, d->binder->journal, store, store_error != NULL, ret, ret_n);
        pthread_mutex_unlock(&d->binder->lock);
        return r;
}

void vh_bus_readiness_log_idle(VhDaemon *d) {
        _cleanup_free_ char *text = NULL;
        VhIdleBinding *idle = NULL;
        size_t n = 0;
        int r;

        r = find_idle(d, &idle, &n);
        if (r < 0) {
                log_warning_errno(r, "Cannot look for idle VFIO bindings: %m");
                return;
        }
        if (n > 0) {
                text = vh_idle_bindings_describe(idle, n);
                log_notice("Bound by vfiohost, held by no process, asked for by no assignment: %s. "
                           "vfiohostctl unbind gives a device back.", text ?: "(out of memory)");
        }
        vh_idle_bindings_free(idle, n);
}

static int add_idle_check(VhDaemon *d, VhReport *report) {
        _cleanup_free_ char *text = NULL, *source = NULL;
        VhIdleBinding *idle = NULL;
        size_t n = 0;
        int r;

        r = find_idle(d, &idle, &n);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        if (n == 0)
                return 0;
        text = vh_idle_bindings_describe(idle, n);
        r = asprintf(&source, "/%s/%s, /" VH_PROC "/*/fd", d->binder->state_dir, VH_JOURNAL_FILE);
        if (!text || r < 0) {
                vh_idle_bindings_free(idle, n);
                return -ENOMEM;
        }
        r = vh_report_add_host_check(report, "vfio.idle-bindings", "vfio", VH_CHECK_INFO,
                                     n == 1 ? "A device vfiohost bound to VFIO is idle: no process holds it"
                                            : "Devices vfiohost bound to VFIO are idle: no process holds them",
                                     text,
                                     n == 1 ? "If no VM will use it again, give it back: vfiohostctl unbind ADDRESS. "
                                              "To keep it for VMs across reboots: vfiohostctl persist ADDRESS."
                                            : "If no VM will use them again, give them back: vfiohostctl unbind "
                                              "ADDRESS. To keep them for VMs across reboots: vfiohostctl persist "
                                              "ADDRESS.",
                                     source);
        vh_idle_bindings_free(idle, n);
        return r;
}

static void remember_verdict(VhDaemon *d, bool ready) {
        bool changed = d->readiness_known && d->ready != ready;

        d->ready = ready;
        d->readiness_known = true;
        if (changed && d->bus)
                (void) sd_bus_emit_properties_changed(d->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Readiness", NULL);
}

int vh_bus_readiness_update(VhDaemon *d) {
        _cleanup_(vh_report_freep) VhReport *report = NULL;
        int r;

        r = vh_readiness_run(d->fs, d->host, NULL, &report);
        if (r < 0)
                return log_error_errno(r, "Cannot run the readiness checks: %m");
        remember_verdict(d, report->host_ready);
        return 0;
}

int vh_bus_readiness_setup(VhDaemon *d) {
        return vh_bus_readiness_update(d);
}

static int parse_options(VhDaemon *d, sd_bus_message *m, char device[VH_ADDRESS_MAX], bool *have_device,
                         sd_bus_error *error) {
        const char *value = NULL;
        const VhBusOption table[] = {
                { "device", 's', &value },
        };
        int r;

        r = vh_bus_read_options(m, table, ELEMENTSOF(table), error);
        if (r < 0 || !value)
                return r;
        r = vh_bus_resolve_address(d, value, device, error);
        if (r < 0)
                return r;
        *have_device = true;
        return 0;
}

int vh_bus_method_get_readiness(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(vh_report_freep) VhReport *report = NULL;
        char device[VH_ADDRESS_MAX];
        bool have_device = false;
        VhDaemon *d = userdata;
        int r;

        r = parse_options(d, m, device, &have_device, error);
        if (r < 0)
                return r;

        /* Judge the host as it is now. */
        (void) vh_daemon_refresh_host(d);

        if (have_device && !vh_host_find_device(d->host, device))
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND,
                                         VH_ADDRESS_NOT_FOUND_FMT,
                                         device);

        r = vh_readiness_run(d->fs, d->host, have_device ? device : NULL, &report);
        if (r < 0)
                return r;
        r = vh_bus_persistence_add_check(d, report);
        if (r < 0)
                return r;
        r = add_idle_check(d, report);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "s", verdict_string(report->ready));
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < report->n_checks; i++) {
                const VhCheck *k = &report->checks[i];

                r = sd_bus_message_append(reply, "a{sv}", 7,
                                          "id", "s", k->id,
                                          "category", "s", k->category,
                                          "result", "s", vh_check_result_to_string(k->result),
                                          "summary", "s", k->summary,
                                          "detail", "s", k->detail,
                                          "remedy", "s", k->remedy,
                                          "source", "s", k->source);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;

        remember_verdict(d, report->host_ready);
        return sd_bus_send(NULL, reply, NULL);
}

int vh_bus_property_get_readiness(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;

        return sd_bus_message_append(reply, "s", verdict_string(d->ready));
}
