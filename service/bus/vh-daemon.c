/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-errors.h"
#include "vh-bus-objects.h"
#include "vh-daemon.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"

int vh_daemon_new(const VhDaemonOptions *options, VhDaemon **ret) {
        _cleanup_(vh_daemon_freep) VhDaemon *d = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return log_oom();

        d->idle_timeout_usec = options->idle_timeout_usec;

        r = vh_hostfs_new(options->root, &d->fs);
        if (r < 0)
                return r;
        vh_hostfs_set_read_only(d->fs, options->read_only);

        r = vh_pci_names_new(d->fs, &d->names);
        if (r < 0)
                return log_error_errno(r, "Failed to set up libpci: %m");

        r = vh_host_load(d->fs, d->names, &d->host);
        if (r < 0)
                return log_error_errno(r, "Failed to read the host's PCI devices beneath %s: %m", vh_hostfs_root(d->fs));

        log_info("Serving %zu PCI functions and %zu IOMMU groups from %s%s.",
                 d->host->n_devices, d->host->n_groups, vh_hostfs_root(d->fs),
                 options->read_only ? " (read-only)" : "");

        *ret = TAKE_PTR(d);
        return 0;
}

VhDaemon *vh_daemon_free(VhDaemon *d) {
        if (!d)
                return NULL;

        sd_event_source_unref(d->idle_timer);
        sd_bus_slot_unref(d->idle_filter);
        if (d->bus)
                sd_bus_flush_close_unref(d->bus);
        sd_event_unref(d->event);

        vh_host_free(d->host);
        vh_pci_names_free(d->names);
        vh_hostfs_free(d->fs);
        free(d);
        return NULL;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        VhDaemon *d = userdata;

        log_info("Received %s, exiting.", strsignal((int) si->ssi_signo));
        return sd_event_exit(d->event, EXIT_SUCCESS);
}

static int on_name_released(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;

        /* Calls queued before the release was processed have been answered
         * by now (in order); later ones activate a new instance. */
        if (sd_bus_message_is_method_error(m, NULL))
                log_warning("Failed to release %s: %s", VH_BUS_NAME, sd_bus_message_get_error(m)->message);
        return sd_event_exit(d->event, EXIT_SUCCESS);
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        VhDaemon *d = userdata;
        int r;

        log_debug("Idle for %llu s, releasing %s and exiting.",
                  (unsigned long long) (d->idle_timeout_usec / 1000000), VH_BUS_NAME);
        d->exiting = true;

        /* Give the name back first, asynchronously, and exit once the bus
         * confirms: no caller is left waiting on a dying daemon. */
        r = sd_bus_call_method_async(d->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "ReleaseName", on_name_released, d, "s", VH_BUS_NAME);
        if (r < 0) {
                log_warning_errno(r, "Failed to release %s, exiting anyway: %m", VH_BUS_NAME);
                return sd_event_exit(d->event, EXIT_SUCCESS);
        }
        return 0;
}

/* Every incoming message restarts the idle countdown. */
static int on_any_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;

        if (d->idle_timer && !d->exiting)
                (void) sd_event_source_set_time_relative(d->idle_timer, d->idle_timeout_usec);
        return 0;
}

static int setup_idle_exit(VhDaemon *d) {
        int r;

        if (d->idle_timeout_usec == 0)
                return 0;

        r = sd_event_add_time_relative(d->event, &d->idle_timer, CLOCK_MONOTONIC, d->idle_timeout_usec, 0, on_idle, d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the idle timer: %m");

        r = sd_bus_add_filter(d->bus, &d->idle_filter, on_any_message, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch bus traffic for idle exit: %m");

        return 0;
}

static int setup_signals(VhDaemon *d) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");

        r = sd_event_add_signal(d->event, NULL, SIGTERM, on_signal, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGTERM: %m");
        r = sd_event_add_signal(d->event, NULL, SIGINT, on_signal, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGINT: %m");

        return 0;
}

static int setup_bus(VhDaemon *d) {
        int r;

        r = vh_bus_errors_register();
        if (r < 0)
                return log_error_errno(r, "Failed to register the error map: %m");

        r = sd_bus_open_system(&d->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = vh_bus_manager_register(d);
        if (r < 0)
                return log_error_errno(r, "Failed to export objects: %m");

        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        /* Exit when dbus-daemon goes away rather than spin. */
        r = sd_bus_set_exit_on_disconnect(d->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set exit on disconnect: %m");

        /* Objects first, name last: a caller that sees the name sees objects. */
        r = sd_bus_request_name(d->bus, VH_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "%s is already owned: another vfiohostd is running.", VH_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire %s: %m (only root may own it, see org.vfiohost.conf)", VH_BUS_NAME);

        return 0;
}

int vh_daemon_run(VhDaemon *d) {
        int r;

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        r = setup_signals(d);
        if (r < 0)
                return r;

        /* Pings systemd when WatchdogSec= is set; a no-op otherwise. */
        (void) sd_event_set_watchdog(d->event, true);

        r = setup_bus(d);
        if (r < 0)
                return r;

        r = setup_idle_exit(d);
        if (r < 0)
                return r;

        log_debug("Ready on the system bus as %s.", VH_BUS_NAME);

        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
