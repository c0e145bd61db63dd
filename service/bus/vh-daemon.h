/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <pthread.h>

#include "vh-binder.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"

/* The daemon's one context (systemd's hostnamed Context): event loop, bus
 * connection and the host model every object reads from. */
typedef struct VhOperation VhOperation;
typedef struct VhUdevMonitor VhUdevMonitor;
typedef struct VhPolkitRegistry VhPolkitRegistry;
typedef struct VhPersistence VhPersistence;
typedef struct VhBusVms VhBusVms;

typedef struct VhDaemon {
        sd_event *event;
        sd_bus *bus;

        VhHostFs *fs;
        VhPciNames *names;
        sd_event_source *names_timer;   /* frees the name database once refreshes are over */
        VhHost *host;
        VhBinder *binder;
        VhPersistence *persistence;     /* persistent assignments (vh-bus-persistence.c) */
        VhPolkitRegistry *polkit;
        sd_bus_slot *bouncer;           /* the authorization filter (vh-bus-bouncer.c) */

        /* Bind/Unbind running on worker threads; finished ones are handed
         * back through done (under done_lock) and done_fd. */
        VhOperation *operations;
        VhOperation *done;
        pthread_mutex_t done_lock;
        int done_fd;
        sd_event_source *done_source;

        uint64_t idle_timeout_usec;     /* 0: never exit when idle */
        sd_event_source *idle_timer;
        sd_bus_slot *idle_filter;
        bool exiting;
        bool exit_when_idle;            /* SIGTERM came while operations ran */
        bool reconciling;               /* the journal's unfinished operations are being settled */

        /* Hotplug (vh-bus-hotplug.c): the udev monitor, and a model known
         * to be stale until the settle timer re-reads it. */
        VhUdevMonitor *monitor;
        sd_event_source *monitor_source;
        sd_event_source *settle_timer;
        bool hotplug_stale;
        char **hotplug_touched;         /* functions named by events since the last refresh */
        bool hotplug_host_wide;         /* a vfio module came or went */
        bool hotplug_everything;        /* events were lost, or too many functions: re-read all */
        uint64_t n_uevents;
        uint64_t n_overflows;

        /* VMs and other VFIO holders, kept current by events (vh-bus-vms.c). */
        VhBusVms *vms;

        /* Manager1.Subscribe: while anyone is subscribed, no idle exit. */
        sd_bus_track *subscribers;

        bool ready;                     /* verdict of the latest readiness report */
        bool readiness_known;
} VhDaemon;

typedef struct VhDaemonOptions {
        const char *root;               /* "/" for the real host, or a host tree */
        bool read_only;                 /* refuse every write to the host */
        uint64_t idle_timeout_usec;
        const char *state_dir;          /* host path of the journal's directory */
        uint64_t write_timeout_usec;    /* per sysfs write */
        const char *faults;             /* fault injection spec, host trees only */
} VhDaemonOptions;

#define VH_DEFAULT_WRITE_TIMEOUT_USEC (10ULL * 1000 * 1000)

int vh_daemon_new(const VhDaemonOptions *options, VhDaemon **ret);
VhDaemon *vh_daemon_free(VhDaemon *d);
static inline void vh_daemon_freep(VhDaemon **d) {
        vh_daemon_free(*d);
}

/* Reads the host again; emits PropertiesChanged (and InterfacesAdded or
 * Removed) for every device and group that differs from the last snapshot. */
int vh_daemon_refresh_host(VhDaemon *d);

/* Reads again only the functions at addresses (and their groups; all of
 * the host when host_wide) and emits what differs, as refresh_host does. */
int vh_daemon_refresh_functions(VhDaemon *d, char *const *addresses, bool host_wide);

/* Restarts the idle countdown. */
void vh_daemon_touch(VhDaemon *d);

/* Connects to the system bus, exports the objects, takes the name and runs
 * until SIGTERM/SIGINT or idle exit. Returns the exit status. */
int vh_daemon_run(VhDaemon *d);
