/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl monitor: subscribes (Manager1.Subscribe keeps the daemon
 * running) and prints one line per change until interrupted: a table-like
 * line on a terminal, one JSON object per line with --json. Devices come
 * and go, change drivers; VMs and other VFIO users come and go
 * (InterfacesAdded/Removed of VirtualMachine1 and Process1). Names come
 * from a cache of the devices and holders, filled at start and as they
 * are added, so a removed one is still named. When the daemon goes away (a restart, a
 * crash) the monitor says so, subscribes again (which activates it) and
 * re-reads the devices. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

typedef struct Monitor {
        sd_bus *bus;
        sd_event *event;
        CtlObject **devices;            /* the cache of devices, VMs and processes, unsorted */
        size_t n_devices;
        bool daemon_gone;
        int exit_code;
} Monitor;

static const CtlObject *cache_find(const Monitor *m, const char *path) {
        for (size_t i = 0; i < m->n_devices; i++)
                if (strcmp(m->devices[i]->path, path) == 0)
                        return m->devices[i];
        return NULL;
}

static void cache_drop(Monitor *m, const char *path) {
        for (size_t i = 0; i < m->n_devices; i++)
                if (strcmp(m->devices[i]->path, path) == 0) {
                        ctl_object_free(m->devices[i]);
                        m->devices[i] = m->devices[--m->n_devices];
                        return;
                }
}

static void cache_clear(Monitor *m) {
        for (size_t i = 0; i < m->n_devices; i++)
                ctl_object_free(m->devices[i]);
        free(m->devices);
        m->devices = NULL;
        m->n_devices = 0;
}

static int cache_add(Monitor *m, CtlObject *o) {
        CtlObject **a = realloc(m->devices, (m->n_devices + 1) * sizeof(*a));

        if (!a) {
                ctl_object_free(o);
                return -ENOMEM;
        }
        m->devices = a;
        cache_drop(m, o->path);
        m->devices[m->n_devices++] = o;
        return 0;
}

static int cache_load(Monitor *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        int r;

        cache_clear(m);
        r = ctl_bus_get_host(m->bus, &h, &error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < h->n_devices; i++) {
                r = cache_add(m, TAKE_PTR(h->devices[i]));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < h->n_vms; i++) {
                r = cache_add(m, TAKE_PTR(h->vms[i]));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < h->n_processes; i++) {
                r = cache_add(m, TAKE_PTR(h->processes[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

static void format_time(char *buf, size_t size, bool iso) {
        struct timespec ts;
        struct tm tm;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        if (iso) {
                gmtime_r(&ts.tv_sec, &tm);
                n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
        } else {
                localtime_r(&ts.tv_sec, &tm);
                n = strftime(buf, size, "%H:%M:%S", &tm);
                snprintf(buf + n, size - n, ".%03ld", ts.tv_nsec / 1000000);
        }
}

static int json_add_string(struct json_object *j, const char *key, const char *value) {
        struct json_object *v = json_object_new_string(strempty(value));

        if (!v || json_object_object_add(j, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* One event. device may be NULL (a daemon event); drivers only for
 * driver-changed. */
static void print_event(Monitor *m, const char *event, const CtlObject *device, const char *old_driver,
                        const char *new_driver, const char *note) {
        char when[64];
        const char *address = device ? ctl_object_get_string(device, "Address") : "";

        format_time(when, sizeof(when), ctl_output_json());
        if (ctl_output_json()) {
                _cleanup_(json_object_putp) struct json_object *j = json_object_new_object();

                if (!j || json_add_string(j, "event", event) < 0 || json_add_string(j, "time", when) < 0)
                        goto oom;
                if (device &&
                    (json_add_string(j, "address", address) < 0 ||
                     json_add_string(j, "vendor_name", ctl_object_get_string(device, "VendorName")) < 0 ||
                     json_add_string(j, "device_name", ctl_object_get_string(device, "DeviceName")) < 0 ||
                     json_object_object_add(j, "iommu_group",
                                            json_object_new_int64(ctl_object_get_int(device, "IommuGroup", -1))) < 0))
                        goto oom;
                if (old_driver && (json_add_string(j, "old_driver", old_driver) < 0 ||
                                   json_add_string(j, "new_driver", new_driver) < 0))
                        goto oom;
                if (!old_driver && device && json_add_string(j, "driver", ctl_object_get_string(device, "Driver")) < 0)
                        goto oom;
                if (note && json_add_string(j, "message", note) < 0)
                        goto oom;
                puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else if (!device)
                printf("%s %s%s%s\n", when, ctl_ansi_bold(), note, ctl_ansi_normal());
        else if (old_driver)
                printf(_("%s %s %sdriver%s %s → %s%s%s  %s %s\n"), when, address, ctl_ansi_bold(), ctl_ansi_normal(),
                       *old_driver ? old_driver : _("(none)"),
                       strcmp(new_driver, VH_DRIVER_VFIO_PCI) == 0 ? ctl_ansi_green() : "",
                       *new_driver ? new_driver : _("(none)"), ctl_ansi_normal(),
                       ctl_object_get_string(device, "VendorName"), ctl_object_get_string(device, "DeviceName"));
        else
                printf("%s %s %s%s%s  %s %s\n", when, address,
                       strcmp(event, "device-added") == 0 ? ctl_ansi_green() : ctl_ansi_red(),
                       strcmp(event, "device-added") == 0 ? _("added") : _("removed"), ctl_ansi_normal(),
                       ctl_object_get_string(device, "VendorName"), ctl_object_get_string(device, "DeviceName"));

        /* A reader that went away (monitor | head) ends the monitor. */
        if (fflush(stdout) != 0 || ferror(stdout))
                (void) sd_event_exit(m->event, CTL_EXIT_SUCCESS);
        return;
oom:
        ctl_report_warning("out of memory printing an event");
}

static bool path_below(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        return strncmp(path, prefix, n) == 0 && path[n] == '/' && path[n + 1];
}

/* What a holder holds, as its objects name it: group numbers (from the
 * group paths) and device addresses (from the cache). */
static int holdings(const Monitor *m, const CtlObject *o, char ***ret_groups, char ***ret_devices) {
        _cleanup_strv_free_ char **groups = calloc(1, sizeof(char *)), **devices = calloc(1, sizeof(char *));

        if (!groups || !devices)
                return -ENOMEM;
        STRV_FOREACH(p, ctl_object_get_strv(o, "Groups"))
                if (vh_strv_extend(&groups, strrchr(*p, '/') + 1) < 0)
                        return -ENOMEM;
        STRV_FOREACH(p, ctl_object_get_strv(o, "Devices")) {
                const CtlObject *d = cache_find(m, *p);

                if (d && vh_strv_extend(&devices, ctl_object_get_string(d, "Address")) < 0)
                        return -ENOMEM;
        }
        *ret_groups = TAKE_PTR(groups);
        *ret_devices = TAKE_PTR(devices);
        return 0;
}

static struct json_object *groups_to_json(char **groups) {
        struct json_object *a = json_object_new_array();

        STRV_FOREACH(g, groups)
                if (a && ctl_json_add_array(a, json_object_new_int64(strtoll(*g, NULL, 10))) < 0)
                        return NULL;
        return a;
}

/* "group 2, 0000:01:00.0", "nothing" for a bare container. */
static char *holdings_text(char **groups, char **devices) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        STRV_FOREACH(g, groups) {
                _cleanup_free_ char *item = NULL;

                if (asprintf(&item, "group %s", *g) < 0 || vh_strv_push(&l, item) < 0)
                        return NULL;
                TAKE_PTR(item);
        }
        STRV_FOREACH(d, devices)
                if (vh_strv_extend(&l, *d) < 0)
                        return NULL;
        return l[0] ? vh_strv_join(l, ", ") : strdup("no group or device");
}

/* One VM or other VFIO user added or removed. */
static void print_holder_event(Monitor *m, const CtlObject *o, bool added) {
        bool vm = path_below(o->path, VH_VM_PATH_PREFIX);
        const char *event = vm ? (added ? "vm-added" : "vm-removed") : (added ? "process-added" : "process-removed");
        _cleanup_strv_free_ char **groups = NULL, **devices = NULL;
        uint64_t pid = ctl_object_get_unsigned(o, "Pid", 0);
        char when[64];

        if (holdings(m, o, &groups, &devices) < 0)
                goto oom;
        format_time(when, sizeof(when), ctl_output_json());
        if (ctl_output_json()) {
                _cleanup_(json_object_putp) struct json_object *j = json_object_new_object();

                if (!j || json_add_string(j, "event", event) < 0 || json_add_string(j, "time", when) < 0 ||
                    ctl_json_add(j, "pid", json_object_new_int64((int64_t) pid)) < 0 ||
                    json_add_string(j, vm ? "name" : "command", ctl_object_get_string(o, vm ? "Name" : "Command")) < 0 ||
                    (vm && json_add_string(j, "vmm", ctl_object_get_string(o, "Vmm")) < 0) ||
                    ctl_json_add(j, "groups", groups_to_json(groups)) < 0 ||
                    ctl_json_add(j, "devices", ctl_strv_to_json(devices)) < 0)
                        goto oom;
                puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                _cleanup_free_ char *held = holdings_text(groups, devices);

                if (!held)
                        goto oom;
                if (vm)
                        printf(_("%s VM %s%s%s %s%s%s (pid %" PRIu64 ", %s): %s\n"), when, ctl_ansi_bold(),
                               ctl_object_get_string(o, "Name"), ctl_ansi_normal(),
                               added ? ctl_ansi_green() : ctl_ansi_red(), added ? _("added") : _("removed"),
                               ctl_ansi_normal(), pid, ctl_object_get_string(o, "Vmm"), held);
                else
                        printf(_("%s process %" PRIu64 " (%s) %s%s%s, using VFIO: %s\n"), when, pid,
                               ctl_object_get_string(o, "Command"), added ? ctl_ansi_green() : ctl_ansi_red(),
                               added ? _("added") : _("removed"), ctl_ansi_normal(), held);
        }
        if (fflush(stdout) != 0 || ferror(stdout))
                (void) sd_event_exit(m->event, CTL_EXIT_SUCCESS);
        return;
oom:
        ctl_report_warning("out of memory printing an event");
}

static int on_interfaces_added(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Monitor *m = userdata;
        CtlObject *o = NULL;
        const char *path, *interface;

        if (sd_bus_message_read(msg, "o", &path) < 0)
                return 0;
        if (path_below(path, VH_VM_PATH_PREFIX))
                interface = VH_VM_INTERFACE;
        else if (path_below(path, VH_PROCESS_PATH_PREFIX))
                interface = VH_PROCESS_INTERFACE;
        else
                return 0;       /* devices: DeviceAdded says it */
        if (ctl_bus_read_interface(msg, path, interface, &o) < 0 || !o)
                return 0;
        if (cache_add(m, o) < 0)
                return 0;
        print_holder_event(m, o, true);
        return 0;
}

static int on_interfaces_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Monitor *m = userdata;
        const CtlObject *o;
        const char *path;

        if (sd_bus_message_read(msg, "o", &path) < 0 ||
            !(path_below(path, VH_VM_PATH_PREFIX) || path_below(path, VH_PROCESS_PATH_PREFIX)))
                return 0;
        o = cache_find(m, path);
        if (o)
                print_holder_event(m, o, false);
        cache_drop(m, path);
        return 0;
}

static int on_device_added(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Monitor *m = userdata;
        CtlObject *o = NULL;
        const char *path;

        if (sd_bus_message_read(msg, "o", &path) < 0)
                return 0;
        if (ctl_bus_get_device_by_path(m->bus, path, &o, &error) < 0) {
                /* Gone again before we asked: nothing to name it by. */
                ctl_report_warning("%s was added but cannot be read: %s", path, error.message);
                return 0;
        }
        if (cache_add(m, o) < 0)
                return 0;
        print_event(m, "device-added", o, NULL, NULL, NULL);
        return 0;
}

static int on_device_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Monitor *m = userdata;
        const CtlObject *o;
        const char *path;

        if (sd_bus_message_read(msg, "o", &path) < 0)
                return 0;
        o = cache_find(m, path);
        if (o)
                print_event(m, "device-removed", o, NULL, NULL, NULL);
        cache_drop(m, path);
        return 0;
}

static int on_driver_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Monitor *m = userdata;
        const char *path, *old_driver, *new_driver;
        const CtlObject *o;

        if (sd_bus_message_read(msg, "oss", &path, &old_driver, &new_driver) < 0)
                return 0;
        o = cache_find(m, path);
        if (o)
                print_event(m, "driver-changed", o, old_driver, new_driver, NULL);
        return 0;
}

static int subscribe(Monitor *m, sd_bus_error *error) {
        /* Activates the daemon when it is not running. */
        return sd_bus_call_method(m->bus, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Subscribe", error,
                                  NULL, NULL);
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Monitor *m = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0 || strcmp(name, VH_BUS_NAME) != 0)
                return 0;
        if (!*new_owner) {
                m->daemon_gone = true;
                print_event(m, "daemon-stopped", NULL, NULL, NULL, "vfiohostd stopped; subscribing again");
                /* Starts a new one (bus activation); its NameOwnerChanged
                 * comes next. */
                if (subscribe(m, &error) < 0)
                        ctl_report_warning("cannot subscribe again: %s", error.message);
                return 0;
        }
        if (m->daemon_gone) {
                m->daemon_gone = false;
                /* Started by someone else (or our Subscribe above failed
                 * before it was back): subscribe to this one. */
                if (subscribe(m, &error) < 0)
                        ctl_report_warning("cannot subscribe to the new vfiohostd: %s", error.message);
                (void) cache_load(m);
                print_event(m, "daemon-started", NULL, NULL, NULL, "vfiohostd started; subscribed");
        }
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), CTL_EXIT_SUCCESS);
}

int verb_monitor(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        Monitor m = { .bus = bus };
        static const struct {
                const char *member;
                sd_bus_message_handler_t handler;
        } signals[] = {
                { "DeviceAdded", on_device_added },
                { "DeviceRemoved", on_device_removed },
                { "DriverChanged", on_driver_changed },
        };
        sigset_t mask;
        int r;

        r = sd_event_default(&event);
        if (r < 0)
                return ctl_report_errno(r, "cannot set up an event loop: %m");
        m.event = event;

        /* A closed pipe is an EPIPE from fflush, not a signal. */
        (void) signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL) < 0 ||
            sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL) < 0)
                return ctl_report_errno(-errno, "cannot watch SIGINT and SIGTERM: %m");

        /* Matches first, then the snapshot, then Subscribe: a change in
         * between is printed rather than lost. */
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                r = sd_bus_match_signal(bus, NULL, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                        signals[i].member, signals[i].handler, &m);
                if (r < 0)
                        return ctl_report_errno(r, "cannot watch vfiohostd's signals: %m");
        }
        r = sd_bus_match_signal(bus, NULL, VH_BUS_NAME, NULL, "org.freedesktop.DBus.ObjectManager",
                                "InterfacesAdded", on_interfaces_added, &m);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, VH_BUS_NAME, NULL, "org.freedesktop.DBus.ObjectManager",
                                        "InterfacesRemoved", on_interfaces_removed, &m);
        if (r < 0)
                return ctl_report_errno(r, "cannot watch vfiohostd's VMs: %m");
        r = sd_bus_add_match(bus, NULL,
                             "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                             "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" VH_BUS_NAME "'",
                             on_name_owner_changed, &m);
        if (r < 0)
                return ctl_report_errno(r, "cannot watch vfiohostd's name: %m");

        r = subscribe(&m, &error);
        if (r < 0) {
                (void) ctl_bus_error_explain(&error, r, "subscribe to changes");
                return ctl_report_error(&error);
        }
        r = cache_load(&m);
        if (r < 0) {
                cache_clear(&m);
                return ctl_report_errno(r, "cannot read the devices: %m");
        }

        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                cache_clear(&m);
                return ctl_report_errno(r, "cannot attach to the event loop: %m");
        }
        if (!ctl_output_json() && isatty(STDOUT_FILENO))
                fputs(_("Monitoring vfiohostd's devices and VMs; press Ctrl-C to stop.\n"), stderr);

        r = sd_event_loop(event);
        (void) sd_bus_detach_event(bus);
        cache_clear(&m);
        if (r < 0)
                return ctl_report_errno(r, "event loop failed: %m");
        return r;
}
