/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.GetStaticSetup(a{sv} options) → a{sv}: what a boot-time VFIO
 * setup needs for the persisted (or named) devices, as text to review.
 * Nothing is written: the daemon never edits the boot loader or /etc. */

#include <errno.h>
#include <string.h>

#include "vh-assignments.h"
#include "vh-bus-errors.h"
#include "vh-bus-options.h"
#include "vh-bus-persistence.h"
#include "vh-bus-static-setup.h"
#include "vh-daemon.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-static-setup.h"
#include "vh-strv.h"

static int append_string(sd_bus_message *reply, const char *key, const char *value) {
        return sd_bus_message_append(reply, "{sv}", key, "s", value);
}

static int append_strv(sd_bus_message *reply, const char *key, char **l) {
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, l);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int append_parameters(sd_bus_message *reply, const VhStaticSetup *s) {
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "kernel-parameters");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "aa{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < s->n_parameters; i++)
                r = sd_bus_message_append(reply, "a{sv}", 2,
                                          "parameter", "s", s->parameters[i].parameter,
                                          "reason", "s", s->parameters[i].reason);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* {"kernel-command-line": s, "kernel-parameters": aa{sv}, "modprobe-d": s,
 *  "initramfs-tools-modules": s, "dracut-conf": s, "devices": as, "notes": as} */
static int reply_setup(sd_bus_message *m, const VhStaticSetup *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *line = vh_static_setup_command_line(s);
        int r;

        if (!line)
                return -ENOMEM;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = append_string(reply, "kernel-command-line", line);
        if (r >= 0)
                r = append_parameters(reply, s);
        if (r >= 0)
                r = append_string(reply, "modprobe-d", s->modprobe_d);
        if (r >= 0)
                r = append_string(reply, "initramfs-tools-modules", s->initramfs_tools_modules);
        if (r >= 0)
                r = append_string(reply, "dracut-conf", s->dracut_conf);
        if (r >= 0)
                r = append_strv(reply, "devices", s->devices);
        if (r >= 0)
                r = append_strv(reply, "notes", s->notes);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int vh_bus_method_get_static_setup(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(vh_static_setup_freep) VhStaticSetup *setup = NULL;
        const VhAssignments *assignments;
        const char *load_error = NULL;
        _cleanup_strv_free_ char **devices = NULL;
        _cleanup_(vh_error_clear) VhError e = VH_ERROR_NULL;
        const char *hugepages = NULL, *isolate_cpus = NULL;
        const VhBusOption table[] = {
                { "devices", 'a', &devices },
                { "hugepages", 's', &hugepages },
                { "isolate-cpus", 's', &isolate_cpus },
        };
        VhDaemon *d = userdata;
        VhStaticSetupRequest request;
        int r;

        r = vh_bus_read_options(m, table, ELEMENTSOF(table), error);
        if (r < 0)
                return r;

        /* The daemon's own copy: what SetPersistent saved. */
        assignments = vh_bus_persistence_store(d, &load_error);
        if (!assignments)
                return sd_bus_error_setf(error, VH_ERROR_FAILED, "%s Nothing was generated.", load_error);

        /* Judge the host as it is now: drivers move. */
        (void) vh_daemon_refresh_host(d);

        request = (VhStaticSetupRequest) {
                .devices = devices,
                .hugepages = hugepages,
                .isolate_cpus = isolate_cpus,
        };
        r = vh_static_setup_generate(d->fs, d->host, assignments, &request, &setup, &e);
        if (vh_error_is_set(&e))
                return vh_bus_error_set(error, &e);
        if (r < 0)
                return r;
        return reply_setup(m, setup);
}
