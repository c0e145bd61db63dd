/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Hotplug (docs/hotplug.md): uevents from the one udev monitor note the
 * functions they name; after a short settle window (a burst becomes one
 * refresh) those functions are read again and every difference becomes
 * its signal (vh_daemon_refresh_functions). Lost events (ENOBUFS), or too
 * many functions, re-read the whole host (vh_daemon_refresh_host): the
 * diff against sysfs finds whatever the events said. */

#include <errno.h>
#include <stdlib.h>

#include "vh-bus-hotplug.h"
#include "vh-bus-persistence.h"
#include "vh-bus-readiness.h"
#include "vh-log.h"
#include "vh-strv.h"
#include "vh-udev-monitor.h"

/* udevd, libvirt and bolt ask for 128 MiB; without CAP_NET_ADMIN the
 * kernel grants net.core.rmem_max. */
#define RECEIVE_BUFFER_SIZE (128U * 1024 * 1024)
/* Long enough for the uevents of one driver switch (children, then bind),
 * short enough that a desktop sees a change at once. */
#define SETTLE_USEC (20ULL * 1000)
#define SETTLE_ACCURACY_USEC (1ULL * 1000)
/* More functions than this in one window (a VF burst): reading the whole
 * host is cheaper than looking each one up. */
#define TOUCHED_MAX 256

void vh_bus_hotplug_open(VhDaemon *d) {
        int r;

        /* A host tree has no udev of its own, except a umockdev testbed's:
         * its preload feeds the monitor (tests; docs/testing.md). */
        if (!vh_hostfs_is_host_root(d->fs) && !getenv("VFIOHOST_TEST_UDEV")) {
                log_debug("Root %s has no udev: the model is re-read after every change vfiohostd makes.",
                          vh_hostfs_root(d->fs));
                return;
        }
        r = vh_udev_monitor_new(RECEIVE_BUFFER_SIZE, &d->monitor);
        if (r < 0) {
                log_warning_errno(r, "Cannot monitor udev, changes made by others are seen only at the next call: %m");
                return;
        }
        log_debug("Monitoring udev's PCI events (receive buffer %d bytes).", vh_udev_monitor_get_buffer_size(d->monitor));
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        VhDaemon *d = userdata;
        _cleanup_strv_free_ char **touched = TAKE_PTR(d->hotplug_touched);
        bool everything = d->hotplug_everything, host_wide = d->hotplug_host_wide;

        d->hotplug_stale = d->hotplug_everything = d->hotplug_host_wide = false;
        if (everything)
                (void) vh_daemon_refresh_host(d);
        else
                (void) vh_daemon_refresh_functions(d, touched, host_wide);
        /* VfioAvailable may have changed the verdict. */
        if (host_wide)
                (void) vh_bus_readiness_update(d);
        /* A function that appeared may be persisted. */
        vh_bus_persistence_apply(d);
        return 0;
}

static void on_uevent(const VhUevent *ev, void *userdata) {
        VhDaemon *d = userdata;

        log_debug("uevent %s %s", vh_uevent_action_to_string(ev->action), ev->address[0] ? ev->address : ev->module);
        d->hotplug_stale = true;
        d->n_uevents++;
        if (ev->module[0])
                d->hotplug_host_wide = true;
        if (!ev->address[0] || d->hotplug_everything || vh_strv_contains(d->hotplug_touched, ev->address))
                return;
        if (vh_strv_length(d->hotplug_touched) >= TOUCHED_MAX || vh_strv_extend(&d->hotplug_touched, ev->address) < 0) {
                d->hotplug_everything = true;
                d->hotplug_touched = vh_strv_free(d->hotplug_touched);
        }
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        VhDaemon *d = userdata;
        bool overflowed = false;
        int r;

        r = vh_uevents_drain(vh_udev_monitor_receive, d->monitor, on_uevent, d, &overflowed);
        if (r < 0)
                log_warning_errno(r, "Cannot read udev's events: %m");
        if (overflowed) {
                log_warning("udev events were lost (the receive buffer overflowed); re-reading every PCI function.");
                d->hotplug_stale = d->hotplug_everything = true;
                d->n_overflows++;
        }
        if (!d->hotplug_stale)
                return 0;

        /* The first event of a burst arms the timer; later ones ride on it
         * (a bounded delay, not one that a steady stream could postpone). */
        if (sd_event_source_get_enabled(d->settle_timer, NULL) > 0)
                return 0;
        r = sd_event_source_set_time_relative(d->settle_timer, SETTLE_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->settle_timer, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_warning_errno(r, "Cannot arm the settle timer, refreshing now: %m");
                return on_settled(NULL, 0, d);
        }
        return 0;
}

int vh_bus_hotplug_setup(VhDaemon *d) {
        int r;

        if (!d->monitor)
                return 0;
        /* Accuracy 1 ms: sd-event's default (0) coalesces timers to 250 ms,
         * which would be the latency of every change. */
        r = sd_event_add_time_relative(d->event, &d->settle_timer, CLOCK_MONOTONIC, SETTLE_USEC, SETTLE_ACCURACY_USEC,
                                       on_settled, d);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the hotplug timer: %m");
        (void) sd_event_source_set_enabled(d->settle_timer, SD_EVENT_OFF);
        r = sd_event_add_io(d->event, &d->monitor_source, vh_udev_monitor_get_fd(d->monitor), EPOLLIN, on_monitor, d);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the udev monitor: %m");
        /* Events that came between opening and now (the enumeration, the
         * bus setup) are read at the first iteration. */
        return 0;
}

void vh_bus_hotplug_free(VhDaemon *d) {
        d->monitor_source = sd_event_source_disable_unref(d->monitor_source);
        d->settle_timer = sd_event_source_disable_unref(d->settle_timer);
        d->monitor = vh_udev_monitor_free(d->monitor);
        d->hotplug_touched = vh_strv_free(d->hotplug_touched);
}

/* The last subscriber left: the track is dropped (systemd's pattern; an
 * empty track that stays would be dispatched again and again) and the
 * idle countdown starts over. */
static int on_subscribers_gone(sd_bus_track *t, void *userdata) {
        VhDaemon *d = userdata;

        log_debug("No subscribers left.");
        d->subscribers = sd_bus_track_unref(d->subscribers);
        vh_daemon_touch(d);
        return 0;
}

int vh_bus_method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;
        int r;

        if (!d->subscribers) {
                r = sd_bus_track_new(sd_bus_message_get_bus(m), &d->subscribers, on_subscribers_gone, d);
                if (r < 0)
                        return r;
        }
        r = sd_bus_track_add_sender(d->subscribers, m);
        if (r < 0)
                return r;
        if (r > 0)
                log_debug("%s subscribed.", sd_bus_message_get_sender(m));
        return sd_bus_reply_method_return(m, NULL);
}

int vh_bus_method_unsubscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        VhDaemon *d = userdata;
        int r;

        if (d->subscribers) {
                /* May run on_subscribers_gone, which drops the track. */
                r = sd_bus_track_remove_sender(d->subscribers, m);
                if (r < 0)
                        return r;
        }
        return sd_bus_reply_method_return(m, NULL);
}

bool vh_bus_hotplug_has_subscribers(const VhDaemon *d) {
        return d->subscribers && sd_bus_track_count(d->subscribers) > 0;
}
