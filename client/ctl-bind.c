/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl bind ADDRESS and vfiohostctl unbind ADDRESS: hand a PCI
 * function (with --group, its whole IOMMU group) to vfio-pci (or, with
 * --driver, a variant of it) and back.
 * The daemon does the checks and the work; this prints what it answered,
 * one line per function, or the result as JSON. */

#include <stdio.h>
#include <string.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-polkit-agent.h"
#include "ctl-verbs.h"
#include "vh-names.h"
#include "vh-strv.h"

/* The keys of a device entry that --json always carries, in this order,
 * whether or not the daemon sent them: the format scripts rely on. */
static const char * const device_string_keys[] = {
        "address",
        "previous-driver",
        "driver",
        "vfio-group-path",
        "vfio-device-path",
};

static struct json_object *device_to_json(const CtlObject *d) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;

        j = json_object_new_object();
        if (!j)
                return NULL;

        for (size_t i = 0; i < ELEMENTSOF(device_string_keys); i++) {
                _cleanup_free_ char *key = ctl_key_to_snake(device_string_keys[i]);

                if (!key ||
                    ctl_json_add(j, key, json_object_new_string(ctl_object_get_string(d, device_string_keys[i]))) < 0)
                        return NULL;
        }
        if (ctl_json_add(j, "changed", json_object_new_boolean(ctl_object_get_bool(d, "changed"))) < 0 ||
            ctl_json_add_others(j, d) < 0)
                return NULL;

        return TAKE_PTR(j);
}

/* {"group": 2, "dry_run": false, "forced": [], "devices": [{...}]} */
static struct json_object *result_to_json(const CtlBindResult *res) {
        _cleanup_(json_object_putp) struct json_object *j = NULL, *devices = NULL;
        int64_t group = ctl_object_get_int(res->result, "group", -1);
        int r;

        j = json_object_new_object();
        devices = json_object_new_array();
        if (!j || !devices)
                return NULL;

        /* json-c stores a NULL value as null: a daemon that sent no group. */
        r = json_object_object_add(j, "group", group >= 0 ? json_object_new_int64(group) : NULL);
        if (r >= 0)
                r = ctl_json_add(j, "dry_run", json_object_new_boolean(ctl_object_get_bool(res->result, "dry-run")));
        if (r >= 0)
                r = ctl_json_add(j, "forced", ctl_strv_to_json(ctl_object_get_strv(res->result, "forced")));
        if (r < 0)
                return NULL;

        for (size_t i = 0; i < res->n_devices; i++)
                if (ctl_json_add_array(devices, device_to_json(res->devices[i])) < 0)
                        return NULL;
        if (ctl_json_add(j, "devices", TAKE_PTR(devices)) < 0 ||
            ctl_json_add_others(j, res->result) < 0)
                return NULL;
        if (res->assignment) {
                struct json_object *a = json_object_new_object();

                if (ctl_json_add(j, "assignment", a) < 0 || ctl_json_add_others(a, res->assignment) < 0)
                        return NULL;
        }

        return TAKE_PTR(j);
}

static const char *driver_or(const char *driver, const char *none) {
        return *driver ? driver : none;
}

/* One line per function:
 *   0000:01:00.0: nvidia -> vfio-pci (/dev/vfio/2)
 *   0000:01:00.0: already on vfio-pci (/dev/vfio/2)
 *   0000:01:00.0: would bind: nvidia -> vfio-pci */
static void print_device(CtlBindVerb verb, bool dry_run, const CtlObject *d) {
        const char *address = ctl_object_get_string(d, "address");
        const char *before = ctl_object_get_string(d, "previous-driver");
        const char *after = ctl_object_get_string(d, "driver");
        const char *node = ctl_object_get_string(d, "vfio-group-path");
        _cleanup_free_ char *node_text = NULL;

        if (!*node)
                node = ctl_object_get_string(d, "vfio-device-path");
        /* The daemon sends a node only for a function on a VFIO driver. */
        if (*node && asprintf(&node_text, " (%s)", node) < 0)
                node_text = NULL;

        if (!ctl_object_get_bool(d, "changed")) {
                if (verb != CTL_BIND_VERB_UNBIND)
                        printf(_("%s: already on %s%s\n"), address, driver_or(after, _("no driver")), strempty(node_text));
                else
                        printf(_("%s: not on a VFIO driver (%s)\n"), address, driver_or(after, _("no driver")));
        } else if (dry_run)
                printf(verb == CTL_BIND_VERB_UNBIND ? _("%s: would unbind: %s -> %s\n") : _("%s: would bind: %s -> %s\n"),
                       address,
                       driver_or(before, _("no driver")),
                       /* Unbind of a function vfiohostd did not bind: the kernel picks. */
                       driver_or(after, verb != CTL_BIND_VERB_UNBIND ? _("no driver") : _("whatever driver claims it")));
        else
                printf("%s: %s -> %s%s\n", address,
                       driver_or(before, _("no driver")), driver_or(after, _("no driver")), strempty(node_text));
}

int ctl_bind_call(sd_bus *bus, const CtlBindRequest *req, CtlBindResult **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        /* A dry run needs no authorization, so nobody to ask; otherwise the
         * agent must be registered before the call reaches polkit. */
        if (!req->dry_run)
                (void) ctl_polkit_agent_open(req->interactive);
        r = ctl_bus_bind(bus, req, ret, &error);
        ctl_polkit_agent_close();
        return r < 0 ? ctl_report_error(&error) : CTL_EXIT_SUCCESS;
}

static int bind_or_unbind(sd_bus *bus, CtlBindVerb verb, const char *arg, const CtlOptions *options) {
        _cleanup_(ctl_bind_result_freep) CtlBindResult *res = NULL;
        _cleanup_free_ char *address = NULL;
        CtlBindRequest req;
        int r;

        address = ctl_address_expand(arg);
        if (!address)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");

        req = (CtlBindRequest) {
                .verb = verb,
                .address = address,
                .typed = arg,
                .group = options->group,
                .force = options->force,
                .dry_run = options->dry_run,
                .name = verb == CTL_BIND_VERB_PERSIST ? options->name : NULL,
                .driver = verb != CTL_BIND_VERB_UNBIND ? options->driver : NULL,
                .interactive = options->ask_password,
        };

        r = ctl_bind_call(bus, &req, &res);
        if (r != CTL_EXIT_SUCCESS)
                return r;

        if (ctl_output_json()) {
                struct json_object *j = result_to_json(res);

                if (!j)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                r = ctl_json_print(j);
                if (r < 0)
                        return ctl_report_errno(r, "failed to print JSON: %m");
                return CTL_EXIT_SUCCESS;
        }

        for (size_t i = 0; i < res->n_devices; i++)
                print_device(verb, ctl_object_get_bool(res->result, "dry-run"), res->devices[i]);

        if (res->assignment) {
                const char *name = ctl_object_get_string(res->assignment, "name");

                printf(_("%s: persisted%s%s%s: on %s whenever this card is there, also after a reboot%s\n"),
                       ctl_object_get_string(res->assignment, "address"), *name ? " as '" : "", name,
                       *name ? "'" : "", ctl_object_get_string(res->assignment, "driver"),
                       ctl_object_get_bool(res->assignment, "group") ? _(" (with its IOMMU group)") : "");
        }

        /* What --force overrode, so that nobody forgets the host needed it. */
        STRV_FOREACH(reason, ctl_object_get_strv(res->result, "forced"))
                ctl_report_warning("--force %s: %s",
                                   ctl_object_get_bool(res->result, "dry-run") ? "would override" : "overrode",
                                   *reason);

        return CTL_EXIT_SUCCESS;
}

int verb_bind(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        return bind_or_unbind(bus, CTL_BIND_VERB_BIND, argv[1], options);
}

int verb_unbind(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        return bind_or_unbind(bus, CTL_BIND_VERB_UNBIND, argv[1], options);
}

int verb_persist(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        if (options->vfs)
                return ctl_persist_vfs(bus, argv[1], options);
        return bind_or_unbind(bus, CTL_BIND_VERB_PERSIST, argv[1], options);
}
