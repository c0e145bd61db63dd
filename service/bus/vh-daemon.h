/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"

/* The daemon's one context (systemd's hostnamed Context): event loop, bus
 * connection and the host model every object reads from. */
typedef struct VhDaemon {
        sd_event *event;
        sd_bus *bus;

        VhHostFs *fs;
        VhPciNames *names;
        VhHost *host;

        uint64_t idle_timeout_usec;     /* 0: never exit when idle */
        sd_event_source *idle_timer;
        sd_bus_slot *idle_filter;
        bool exiting;
} VhDaemon;

typedef struct VhDaemonOptions {
        const char *root;               /* "/" for the real host, or a host tree */
        bool read_only;                 /* refuse every write to the host */
        uint64_t idle_timeout_usec;
} VhDaemonOptions;

int vh_daemon_new(const VhDaemonOptions *options, VhDaemon **ret);
VhDaemon *vh_daemon_free(VhDaemon *d);
static inline void vh_daemon_freep(VhDaemon **d) {
        vh_daemon_free(*d);
}

/* Connects to the system bus, exports the objects, takes the name and runs
 * until SIGTERM/SIGINT or idle exit. Returns the exit status. */
int vh_daemon_run(VhDaemon *d);
