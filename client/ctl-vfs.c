/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl vfs PF [COUNT]: an SR-IOV physical function's virtual
 * functions — shown, or set through Manager1.SetVfCount, optionally with
 * the driver the new VFs come up on and on nothing else (docs/sriov.md);
 * and vfiohostctl persist PF --vfs COUNT, the same kept across reboots. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-names.h"
#include "vh-strv.h"

static struct json_object *vf_to_json(const char *address, const char *driver, int64_t group) {
        _cleanup_(json_object_putp) struct json_object *j = json_object_new_object();

        if (!j || ctl_json_add(j, "address", json_object_new_string(address)) < 0 ||
            ctl_json_add(j, "driver", json_object_new_string(driver ?: "")) < 0 ||
            json_object_object_add(j, "iommu_group", group >= 0 ? json_object_new_int64(group) : NULL) < 0)
                return NULL;
        return TAKE_PTR(j);
}

static int show_vfs(sd_bus *bus, const char *address) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_object_freep) CtlObject *pf = NULL;
        _cleanup_(json_object_putp) struct json_object *j = NULL, *vfs = NULL;
        char **paths;
        uint64_t total;
        int r;

        r = ctl_bus_get_device(bus, address, &pf, &error);
        if (r < 0)
                return ctl_report_error(&error);
        total = ctl_object_get_unsigned(pf, "SriovTotalVfs", 0);
        if (total == 0)
                return ctl_report_usage("%s is not an SR-IOV physical function (it has no sriov_totalvfs)", address);
        paths = ctl_object_get_strv(pf, "VirtualFunctions");

        j = json_object_new_object();
        vfs = json_object_new_array();
        if (!j || !vfs)
                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
        if (!ctl_output_json())
                printf(_("%s%s%s on %s: %llu of %llu VFs enabled, autoprobe %s\n"), ctl_ansi_bold(), address,
                       ctl_ansi_normal(), *strempty(ctl_object_get_string(pf, "Driver")) ?
                       ctl_object_get_string(pf, "Driver") : _("no driver"),
                       (unsigned long long) ctl_object_get_unsigned(pf, "SriovNumVfs", 0),
                       (unsigned long long) total, ctl_object_get_bool(pf, "SriovDriversAutoprobe") ? _("on") : _("off"));

        STRV_FOREACH(path, paths) {
                _cleanup_(ctl_object_freep) CtlObject *vf = NULL;
                const char *driver;
                int64_t group;

                r = ctl_bus_get_device_by_path(bus, *path, &vf, &error);
                if (r < 0)
                        return ctl_report_error(&error);
                driver = ctl_object_get_string(vf, "Driver");
                group = ctl_object_get_int(vf, "IommuGroup", -1);
                if (ctl_output_json()) {
                        if (ctl_json_add_array(vfs, vf_to_json(ctl_object_get_string(vf, "Address"), driver, group)) < 0)
                                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                } else
                        printf(_("  %s  group %-4lld %s\n"), ctl_object_get_string(vf, "Address"), (long long) group,
                               *strempty(driver) ? driver : _("(no driver)"));
        }
        if (!ctl_output_json())
                return CTL_EXIT_SUCCESS;

        if (ctl_json_add(j, "address", json_object_new_string(address)) < 0 ||
            ctl_json_add(j, "driver", json_object_new_string(strempty(ctl_object_get_string(pf, "Driver")))) < 0 ||
            ctl_json_add(j, "total_vfs", json_object_new_int64((int64_t) total)) < 0 ||
            ctl_json_add(j, "num_vfs", json_object_new_int64((int64_t) ctl_object_get_unsigned(pf, "SriovNumVfs", 0))) < 0 ||
            ctl_json_add(j, "drivers_autoprobe",
                         json_object_new_boolean(ctl_object_get_bool(pf, "SriovDriversAutoprobe"))) < 0 ||
            ctl_json_add(j, "vfs", TAKE_PTR(vfs)) < 0)
                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
        return ctl_json_print(TAKE_PTR(j)) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_SUCCESS;
}

/* SetVfCount's reply, or SetPersistent's with a VF count (its
 * "assignment" too). */
static int report_vf_count(const char *address, unsigned count, const CtlBindResult *res) {
        if (ctl_output_json()) {
                _cleanup_(json_object_putp) struct json_object *j = json_object_new_object(), *vfs = json_object_new_array();

                if (!j || !vfs)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                for (size_t i = 0; i < res->n_devices; i++)
                        if (ctl_json_add_array(vfs, vf_to_json(ctl_object_get_string(res->devices[i], "address"),
                                                               ctl_object_get_string(res->devices[i], "driver"),
                                                               ctl_object_get_int(res->devices[i], "group", -1))) < 0)
                                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                if (ctl_json_add(j, "vfs", TAKE_PTR(vfs)) < 0 || ctl_json_add_others(j, res->result) < 0)
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                if (res->assignment) {
                        struct json_object *a = json_object_new_object();

                        if (ctl_json_add(j, "assignment", a) < 0 || ctl_json_add_others(a, res->assignment) < 0)
                                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                }
                return ctl_json_print(TAKE_PTR(j)) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_SUCCESS;
        }

        printf(ctl_object_get_bool(res->result, "dry-run") ? _("%s: would have %llu VFs (had %llu)\n") : _("%s: %llu VFs (had %llu)\n"),
               address,
               (unsigned long long) ctl_object_get_unsigned(res->result, "count", count),
               (unsigned long long) ctl_object_get_unsigned(res->result, "count-before", 0));
        for (size_t i = 0; i < res->n_devices; i++) {
                const char *driver = ctl_object_get_string(res->devices[i], "driver");

                printf(_("  %s  group %-4lld %s\n"), ctl_object_get_string(res->devices[i], "address"),
                       (long long) ctl_object_get_int(res->devices[i], "group", -1),
                       *strempty(driver) ? driver : _("(no driver)"));
        }
        if (res->assignment) {
                const char *name = ctl_object_get_string(res->assignment, "name");

                printf(_("%s: persisted%s%s%s: %llu VFs on %s whenever this card is there, also after a reboot "
                         "(%s)\n"), ctl_object_get_string(res->assignment, "address"), *name ? " as '" : "", name,
                       *name ? "'" : "", (unsigned long long) ctl_object_get_unsigned(res->assignment, "vfs", count),
                       ctl_object_get_string(res->assignment, "driver"),
                       ctl_object_get_string(res->assignment, "state"));
        }
        return CTL_EXIT_SUCCESS;
}

static int set_vfs(sd_bus *bus, const char *address, unsigned count, const CtlOptions *options) {
        _cleanup_(ctl_bind_result_freep) CtlBindResult *res = NULL;
        CtlBindRequest req = {
                .verb = CTL_BIND_VERB_SET_VF_COUNT,
                .address = address,
                .vf_count = count,
                .force = options->force,
                .dry_run = options->dry_run,
                .driver = options->driver,
                .interactive = options->ask_password,
        };
        int r;

        r = ctl_bind_call(bus, &req, &res);
        if (r != CTL_EXIT_SUCCESS)
                return r;
        return report_vf_count(address, count, res);
}

static int parse_count(const char *s, unsigned long *ret) {
        char *end = NULL;

        errno = 0;
        *ret = strtoul(s, &end, 10);
        return errno != 0 || !end || *end || end == s || s[0] == '-' || *ret > UINT32_MAX ? -EINVAL : 0;
}

int ctl_persist_vfs(sd_bus *bus, const char *arg, const CtlOptions *options) {
        _cleanup_(ctl_bind_result_freep) CtlBindResult *res = NULL;
        _cleanup_free_ char *address = NULL;
        unsigned long count;
        CtlBindRequest req;
        int r;

        if (parse_count(options->vfs, &count) < 0)
                return ctl_report_usage("'--vfs %s': not a number of virtual functions", options->vfs);
        if (count == 0)
                return ctl_report_usage("--vfs takes 1 or more; to persist the PF itself, leave --vfs out");
        if (options->group)
                return ctl_report_usage("--vfs and --group do not go together: a VF count is the PF's alone");
        address = ctl_address_expand(arg);
        if (!address)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
        req = (CtlBindRequest) {
                .verb = CTL_BIND_VERB_PERSIST,
                .address = address,
                .vf_count = (unsigned) count,
                .dry_run = options->dry_run,
                .name = options->name,
                .driver = options->driver,
                .interactive = options->ask_password,
        };
        r = ctl_bind_call(bus, &req, &res);
        if (r != CTL_EXIT_SUCCESS)
                return r;
        return report_vf_count(address, (unsigned) count, res);
}

int verb_vfs(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_free_ char *address = NULL;
        unsigned long count;

        address = ctl_address_expand(argv[1]);
        if (!address)
                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
        if (argc < 3) {
                if (options->driver || options->dry_run || options->force)
                        return ctl_report_usage("--driver, --dry-run and --force go with a COUNT: "
                                                "'vfiohostctl vfs %s COUNT --driver vfio-pci'", argv[1]);
                return show_vfs(bus, address);
        }
        if (parse_count(argv[2], &count) < 0)
                return ctl_report_usage("'%s' is not a number of virtual functions", argv[2]);
        return set_vfs(bus, address, (unsigned) count, options);
}
