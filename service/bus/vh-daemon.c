/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-binding.h"
#include "vh-bus-bouncer.h"
#include "vh-bus-errors.h"
#include "vh-bus-hotplug.h"
#include "vh-bus-persistence.h"
#include "vh-bus-polkit.h"
#include "vh-bus-readiness.h"
#include "vh-bus-vms.h"
#include "vh-strv.h"
#include "vh-bus-objects.h"
#include "vh-daemon.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"

/* A refresh names what it reads; hotplug refreshes come in bursts a
 * settle timer apart, so the name database is kept that long after the
 * last one rather than parsed again for each. */
#define NAMES_RELEASE_USEC (5 * UINT64_C(1000000))

/* Names are looked up only while the model is read (at start and on a
 * refresh); in between, the parsed pci.ids and the mapped hwdb would be
 * most of the daemon's memory. What the load freed goes back to the
 * kernel too: glibc keeps a freed heap top otherwise. */
static void daemon_release_names(VhDaemon *d) {
        vh_pci_names_release(d->names);
        (void) malloc_trim(0);
}

static int on_names_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        daemon_release_names(userdata);
        return 0;
}

/* After a refresh: release the names once no refresh has followed for a while. */
static void daemon_names_used(VhDaemon *d) {
        int r;

        if (!d->event) {
                daemon_release_names(d);
                return;
        }
        if (!d->names_timer) {
                r = sd_event_add_time_relative(d->event, &d->names_timer, CLOCK_MONOTONIC,
                                               NAMES_RELEASE_USEC, 0, on_names_timer, d);
                if (r < 0) {
                        /* Kept until the next refresh: only memory. */
                        log_debug_errno(r, "Cannot arm the timer that frees PCI names: %m");
                        return;
                }
        } else
                (void) sd_event_source_set_time_relative(d->names_timer, NAMES_RELEASE_USEC);
        (void) sd_event_source_set_enabled(d->names_timer, SD_EVENT_ONESHOT);
}

/* Original drivers from the journal; functions shared with the current
 * model (a partial refresh) keep theirs. */
static int daemon_annotate_host(VhDaemon *d, VhHost *h, const VhHost *shared) {
        int r;

        pthread_mutex_lock(&d->binder->lock);
        r = vh_host_set_original_drivers(h, d->binder->journal, shared);
        pthread_mutex_unlock(&d->binder->lock);
        return r;
}

int vh_daemon_new(const VhDaemonOptions *options, VhDaemon **ret) {
        _cleanup_(vh_daemon_freep) VhDaemon *d = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return log_oom();

        d->idle_timeout_usec = options->idle_timeout_usec;
        d->done_fd = -1;
        pthread_mutex_init(&d->done_lock, NULL);

        r = vh_hostfs_new(options->root, &d->fs);
        if (r < 0)
                return r;
        vh_hostfs_set_read_only(d->fs, options->read_only);

        if (options->faults) {
                r = vh_hostfs_set_faults(d->fs, options->faults);
                if (r < 0)
                        return log_error_errno(r, "Cannot use fault injection '%s' (host trees only): %m", options->faults);
                log_warning("Fault injection active: %s", options->faults);
        }

        r = vh_binder_new(d->fs, options->state_dir ?: VH_JOURNAL_DEFAULT_DIR,
                          options->write_timeout_usec ?: VH_DEFAULT_WRITE_TIMEOUT_USEC, &d->binder);
        if (r < 0)
                return log_error_errno(r, "Cannot load the journal: %m");

        /* What a killed predecessor left half done is settled once the
         * name is taken (vh_daemon_run), on a worker: never before. */
        if (options->read_only && d->binder->journal->n_entries > 0)
                log_notice("Read-only: not reconciling the journal's %zu entries.", d->binder->journal->n_entries);

        r = vh_pci_names_new(d->fs, &d->names);
        if (r < 0)
                return log_error_errno(r, "Failed to set up libpci: %m");

        /* Receiving before enumerating: a change in between is an event. */
        vh_bus_hotplug_open(d);

        r = vh_host_load(d->fs, d->names, &d->host);
        if (r < 0)
                return log_error_errno(r, "Failed to read the host's PCI devices beneath %s: %m", vh_hostfs_root(d->fs));
        r = daemon_annotate_host(d, d->host, NULL);
        if (r < 0)
                return log_oom();

        r = vh_bus_persistence_new(d, &d->persistence);
        if (r < 0)
                return r;
        r = vh_bus_persistence_update(d, d->host);
        if (r < 0)
                return r;

        log_info("Serving %zu PCI functions and %zu IOMMU groups from %s%s.",
                 d->host->n_devices, d->host->n_groups, vh_hostfs_root(d->fs),
                 options->read_only ? " (read-only)" : "");

        *ret = TAKE_PTR(d);
        return 0;
}

VhDaemon *vh_daemon_free(VhDaemon *d) {
        if (!d)
                return NULL;

        /* Whatever ended the loop (a signal, idle exit, the bus going
         * away, a failure): workers use the binder and the host fs. */
        vh_bus_binding_finish_all(d);

        vh_bus_hotplug_free(d);
        vh_bus_vms_free(d);
        sd_bus_track_unref(d->subscribers);
        sd_event_source_unref(d->idle_timer);
        sd_event_source_unref(d->names_timer);
        sd_bus_slot_unref(d->idle_filter);
        sd_bus_slot_unref(d->bouncer);
        vh_polkit_registry_free(d->polkit);
        if (d->bus)
                sd_bus_flush_close_unref(d->bus);
        sd_event_source_disable_unref(d->done_source);
        if (d->done_fd >= 0)
                close(d->done_fd);
        pthread_mutex_destroy(&d->done_lock);
        sd_event_unref(d->event);

        vh_bus_persistence_free(d->persistence);
        vh_binder_free(d->binder);
        vh_host_free(d->host);
        vh_pci_names_free(d->names);
        vh_hostfs_free(d->fs);
        free(d);
        return NULL;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        VhDaemon *d = userdata;

        /* A worker still uses the binder: let running operations end (each
         * write is bounded by the write timeout), reply, then exit. */
        if (d->operations) {
                log_info("Received %s, exiting once the running operations have finished.", strsignal((int) si->ssi_signo));
                d->exit_when_idle = true;
                return 0;
        }
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

        /* Not while a caller waits for polkit or for an operation, while
         * anyone is subscribed to changes, nor while a PF's VF count waits
         * for the PF's driver. */
        if (vh_bus_persistence_is_waiting(d)) {
                /* Its "bind" uevent may be missed (no udev monitor, an
                 * overrun): look again at each idle check. */
                (void) vh_daemon_refresh_host(d);
                vh_bus_persistence_apply(d);
        }
        if (d->operations || vh_polkit_registry_is_busy(d->polkit) || vh_bus_hotplug_has_subscribers(d) ||
            vh_bus_persistence_is_waiting(d)) {
                vh_daemon_touch(d);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }

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

void vh_daemon_touch(VhDaemon *d) {
        if (d->idle_timer && !d->exiting) {
                (void) sd_event_source_set_time_relative(d->idle_timer, d->idle_timeout_usec);
                (void) sd_event_source_set_enabled(d->idle_timer, SD_EVENT_ONESHOT);
        }
}

/* Every incoming message restarts the idle countdown. */
static int on_any_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        vh_daemon_touch(userdata);
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

/* sd-bus's own "Disconnected" message, dispatched before it exits the
 * loop (exit on disconnect): say why, or the daemon leaves without a word
 * when dbus-daemon drops it, e.g. for a reply over its max_message_size
 * (docs/performance.md). */
static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        log_error("The system bus closed vfiohostd's connection (dbus-daemon stopped, or refused a message of "
                  "ours: one larger than its max_message_size is cut off); exiting.");
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

        /* Before any object exists: nothing is answered that the
         * authorization table does not list. */
        r = vh_bus_bouncer_install(d->bus, &d->bouncer);
        if (r < 0)
                return log_error_errno(r, "Failed to install the authorization filter: %m");

        /* The holders' list is seeded before the objects that show it. */
        r = vh_bus_vms_setup(d);
        if (r < 0)
                return r;

        r = vh_bus_manager_register(d);
        if (r < 0)
                return log_error_errno(r, "Failed to export objects: %m");

        r = vh_polkit_registry_new(d->event, &d->polkit);
        if (r < 0)
                return log_oom();

        r = vh_bus_binding_setup(d);
        if (r < 0)
                return r;

        r = vh_bus_readiness_setup(d);
        if (r < 0)
                return r;

        r = vh_bus_hotplug_setup(d);
        if (r < 0)
                return r;

        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        /* Exit when dbus-daemon goes away rather than spin. */
        r = sd_bus_set_exit_on_disconnect(d->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set exit on disconnect: %m");
        r = sd_bus_match_signal(d->bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", on_disconnected, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for the bus going away: %m");

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

        if (!vh_hostfs_is_read_only(d->fs)) {
                r = vh_bus_binding_start_reconcile(d);
                if (r < 0)
                        return r;
        } else
                vh_bus_readiness_log_idle(d);
        /* What is persisted and not applied yet; groups the reconcile
         * holds wait until it is done. */
        vh_bus_persistence_apply(d);

        /* The model is named and published: free what naming and start-up used. */
        daemon_release_names(d);

        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

static bool same_virtfns(const VhPciDevice *a, const VhPciDevice *b) {
        if (a->n_virtfns != b->n_virtfns)
                return false;
        for (size_t i = 0; i < a->n_virtfns; i++)
                if (a->virtfns[i].index != b->virtfns[i].index || strcmp(a->virtfns[i].address, b->virtfns[i].address) != 0)
                        return false;
        return true;
}

static int emit_device_changes(VhDaemon *d, const VhPciDevice *old, const VhPciDevice *new) {
        _cleanup_strv_free_ char **changed = NULL;
        _cleanup_free_ char *path = NULL;
        int r = 0;

        changed = calloc(1, sizeof(char *));
        if (!changed)
                return -ENOMEM;

        if (!vh_streq_null(old->driver, new->driver))
                r = vh_strv_extend(&changed, "Driver");
        if (r >= 0 && !vh_streq_null(old->original_driver, new->original_driver))
                r = vh_strv_extend(&changed, "OriginalDriver");
        if (r >= 0 && !vh_streq_null(old->driver_override, new->driver_override))
                r = vh_strv_extend(&changed, "DriverOverride");
        if (r >= 0 && !vh_strv_equal(old->reset_methods, new->reset_methods))
                r = vh_strv_extend(&changed, "ResetMethods");
        if (r >= 0 && old->d3cold_allowed != new->d3cold_allowed)
                r = vh_strv_extend(&changed, "D3coldAllowed");
        if (r >= 0 && old->sriov_numvfs != new->sriov_numvfs)
                r = vh_strv_extend(&changed, "SriovNumVfs");
        if (r >= 0 && !same_virtfns(old, new))
                r = vh_strv_extend(&changed, "VirtualFunctions");
        if (r >= 0 && old->sriov_drivers_autoprobe != new->sriov_drivers_autoprobe)
                r = vh_strv_extend(&changed, "SriovDriversAutoprobe");
        if (r >= 0 && !vh_streq_null(old->vfio_group_path, new->vfio_group_path))
                r = vh_strv_extend(&changed, "VfioGroupPath");
        if (r >= 0 && !vh_streq_null(old->vfio_device_path, new->vfio_device_path))
                r = vh_strv_extend(&changed, "VfioDevicePath");
        if (r >= 0 && !vh_streq_null(old->assignment_name, new->assignment_name))
                r = vh_strv_extend(&changed, "Name");
        if (r >= 0 && !vh_streq_null(old->assignment_state, new->assignment_state))
                r = vh_strv_extend(&changed, "PersistentState");
        if (r < 0)
                return r;
        if (!changed[0])
                return 0;

        r = vh_bus_device_path(new->address, &path);
        if (r < 0)
                return r;
        return sd_bus_emit_properties_changed_strv(d->bus, path, VH_DEVICE_INTERFACE, changed);
}

static int emit_group_changes(VhDaemon *d, const VhIommuGroup *old, const VhIommuGroup *new) {
        _cleanup_strv_free_ char **changed = NULL;
        _cleanup_free_ char *path = NULL;
        int r = 0;

        changed = calloc(1, sizeof(char *));
        if (!changed)
                return -ENOMEM;

        if (!vh_strv_equal(old->members, new->members)) {
                r = vh_strv_extend(&changed, "Devices");
                if (r >= 0)
                        r = vh_strv_extend(&changed, "Addresses");
        }
        if (r >= 0 && !vh_streq_null(old->type, new->type))
                r = vh_strv_extend(&changed, "Type");
        if (r >= 0 && old->viable != new->viable)
                r = vh_strv_extend(&changed, "Viable");
        if (r >= 0 && !vh_streq_null(old->viability_reason, new->viability_reason))
                r = vh_strv_extend(&changed, "ViabilityReason");
        if (r >= 0 && !vh_streq_null(old->assignability, new->assignability))
                r = vh_strv_extend(&changed, "Assignability");
        if (r < 0)
                return r;
        if (!changed[0])
                return 0;

        r = vh_bus_group_path(new->id, &path);
        if (r < 0)
                return r;
        return sd_bus_emit_properties_changed_strv(d->bus, path, VH_GROUP_INTERFACE, changed);
}

static void emit_object(VhDaemon *d, const char *path, bool added) {
        int r = added ? sd_bus_emit_object_added(d->bus, path) : sd_bus_emit_object_removed(d->bus, path);

        if (r < 0)
                log_debug_errno(r, "Cannot announce %s: %m", path);
}

/* InterfacesRemoved/Added and Manager1.DeviceRemoved/Added, in that order
 * for a removal (the object still resolves while it is announced gone). */
static void emit_device_object(VhDaemon *d, const char *address, bool added) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (vh_bus_device_path(address, &path) < 0)
                return;
        emit_object(d, path, added);
        r = sd_bus_emit_signal(d->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, added ? "DeviceAdded" : "DeviceRemoved",
                               "o", path);
        if (r < 0)
                log_debug_errno(r, "Cannot emit Device%s for %s: %m", added ? "Added" : "Removed", address);
}

static void emit_driver_changed(VhDaemon *d, const VhPciDevice *old, const VhPciDevice *new) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (vh_streq_null(old->driver, new->driver) || vh_bus_device_path(new->address, &path) < 0)
                return;
        r = sd_bus_emit_signal(d->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "DriverChanged", "oss", path,
                               strempty(old->driver), strempty(new->driver));
        if (r < 0)
                log_debug_errno(r, "Cannot emit DriverChanged for %s: %m", new->address);
}

/* Another function at the same address (remove + add of a different
 * card, a VF with another id): its const properties changed, so it is a
 * new object, announced as removed and added rather than as changed. */
static bool same_function(const VhPciDevice *a, const VhPciDevice *b) {
        return a->vendor_id == b->vendor_id && a->device_id == b->device_id &&
               a->subsystem_vendor_id == b->subsystem_vendor_id && a->subsystem_device_id == b->subsystem_device_id &&
               a->class_code == b->class_code && a->revision == b->revision &&
               vh_streq_null(a->physfn, b->physfn) && a->vf_index == b->vf_index && a->iommu_group == b->iommu_group &&
               a->sriov_totalvfs == b->sriov_totalvfs;
}

/* Takes new as the model and emits every difference from the old one.
 * Functions and groups shared by both snapshots are unchanged. */
static int swap_and_emit(VhDaemon *d, VhHost *new) {
        _cleanup_(vh_host_freep) VhHost *old = NULL;
        int r;

        /* Where each persistent assignment stands in the new snapshot:
         * its functions' Name and PersistentState come with them. */
        r = vh_bus_persistence_update(d, new);
        if (r < 0) {
                vh_host_free(new);
                return r;
        }

        /* Swap first: the emitted values are read from the new snapshot.
         * Objects that vanish are announced while the old one still
         * resolves them. */
        old = d->host;
        if (!d->bus) {
                d->host = new;
                vh_bus_persistence_emit_changes(d);
                return 0;
        }

        for (size_t i = 0; i < old->n_devices; i++) {
                const VhPciDevice *n = vh_host_find_device(new, old->devices[i]->address);

                if (n == old->devices[i])
                        continue;
                if (!n || !same_function(old->devices[i], n))
                        emit_device_object(d, old->devices[i]->address, false);
        }
        for (size_t i = 0; i < old->n_groups; i++)
                if (!vh_host_find_group(new, old->groups[i]->id)) {
                        _cleanup_free_ char *path = NULL;

                        if (vh_bus_group_path(old->groups[i]->id, &path) >= 0)
                                emit_object(d, path, false);
                }

        d->host = new;

        for (size_t i = 0; i < new->n_groups; i++)
                if (!vh_host_find_group(old, new->groups[i]->id)) {
                        _cleanup_free_ char *path = NULL;

                        if (vh_bus_group_path(new->groups[i]->id, &path) >= 0)
                                emit_object(d, path, true);
                }
        for (size_t i = 0; i < new->n_devices; i++) {
                const VhPciDevice *o = vh_host_find_device(old, new->devices[i]->address);

                if (o == new->devices[i])
                        continue;
                if (!o || !same_function(o, new->devices[i])) {
                        emit_device_object(d, new->devices[i]->address, true);
                        vh_bus_persistence_appeared(d, new->devices[i]->address);
                        continue;
                }
                r = emit_device_changes(d, o, new->devices[i]);
                if (r < 0)
                        log_debug_errno(r, "Cannot emit changes of %s: %m", new->devices[i]->address);
                emit_driver_changed(d, o, new->devices[i]);
                if (!o->driver && new->devices[i]->driver)
                        vh_bus_persistence_driver_bound(d, new->devices[i]->address);
        }
        for (size_t i = 0; i < new->n_groups; i++) {
                const VhIommuGroup *o = vh_host_find_group(old, new->groups[i]->id);

                if (o && o != new->groups[i] && (r = emit_group_changes(d, o, new->groups[i])) < 0)
                        log_debug_errno(r, "Cannot emit changes of group %u: %m", new->groups[i]->id);
        }

        if (old->iommu_enabled != new->iommu_enabled || old->vfio_available != new->vfio_available)
                (void) sd_bus_emit_properties_changed(d->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                      "IommuEnabled", "VfioAvailable", NULL);
        vh_bus_persistence_emit_changes(d);
        return 0;
}

int vh_daemon_refresh_host(VhDaemon *d) {
        VhHost *new;
        int r;

        r = vh_host_load(d->fs, d->names, &new);
        daemon_names_used(d);
        if (r < 0)
                return log_warning_errno(r, "Cannot re-read the host: %m");
        r = daemon_annotate_host(d, new, NULL);
        if (r < 0) {
                vh_host_free(new);
                return log_oom();
        }
        return swap_and_emit(d, new);
}

int vh_daemon_refresh_functions(VhDaemon *d, char *const *addresses, bool host_wide) {
        VhHost *new;
        int r;

        r = vh_host_refresh(d->host, d->fs, d->names, addresses, host_wide, &new);
        daemon_names_used(d);
        if (r < 0) {
                log_debug_errno(r, "Cannot re-read the changed functions (%m), re-reading the host.");
                return vh_daemon_refresh_host(d);
        }
        /* An operation's own refresh re-reads everything, journal too. */
        r = daemon_annotate_host(d, new, d->host);
        if (r < 0) {
                vh_host_free(new);
                return log_oom();
        }
        return swap_and_emit(d, new);
}
