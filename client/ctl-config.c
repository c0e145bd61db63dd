/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl config [--device ADDRESS|NAME …] [--hugepages SIZE:COUNT]
 * [--isolate-cpus LIST]: what a boot-time VFIO setup needs for the
 * persisted (or named) devices, from Manager1.GetStaticSetup. It prints;
 * it never writes: each section says where its text goes and how to
 * apply it, so a person reviews every line first (docs/static-setup.md). */

#include <stdio.h>
#include <string.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-macro.h"
#include "vh-strv.h"

/* The string entries --json always carries, in this order: the format
 * scripts rely on. */
static const char * const string_keys[] = {
        "kernel-command-line",
        "modprobe-d",
        "initramfs-tools-modules",
        "dracut-conf",
};

/* The texts, each under the file it is meant for and how to apply it. */
static const struct {
        const char *key;
        const char *title;
        const char *apply;
} sections[] = {
        { "modprobe-d", "/etc/modprobe.d/vfiohost.conf",
          N_("Save as this file, then rebuild the initramfs (below).") },
        { "initramfs-tools-modules", N_("/etc/initramfs-tools/modules (Debian, Ubuntu: initramfs-tools)"),
          N_("Append to this file, then run update-initramfs -u.") },
        { "dracut-conf", N_("/etc/dracut.conf.d/vfiohost.conf (Fedora, RHEL, openSUSE: dracut)"),
          N_("Save as this file, then run dracut -f.") },
};

static struct json_object *parameter_to_json(const CtlObject *p) {
        _cleanup_(json_object_putp) struct json_object *j = json_object_new_object();

        if (!j ||
            ctl_json_add(j, "parameter", json_object_new_string(ctl_object_get_string(p, "parameter"))) < 0 ||
            ctl_json_add(j, "reason", json_object_new_string(ctl_object_get_string(p, "reason"))) < 0 ||
            ctl_json_add_others(j, p) < 0)
                return NULL;
        return TAKE_PTR(j);
}

/* {"kernel_command_line": ..., "kernel_parameters": [{"parameter", "reason"}],
 *  "modprobe_d", "initramfs_tools_modules", "dracut_conf", "devices": [],
 *  "notes": []} */
static struct json_object *setup_to_json(const CtlStaticSetup *s) {
        _cleanup_(json_object_putp) struct json_object *j = NULL, *parameters = NULL;

        j = json_object_new_object();
        parameters = json_object_new_array();
        if (!j || !parameters)
                return NULL;

        for (size_t i = 0; i < ELEMENTSOF(string_keys); i++) {
                _cleanup_free_ char *key = ctl_key_to_snake(string_keys[i]);

                if (!key || ctl_json_add(j, key, json_object_new_string(ctl_object_get_string(s->result,
                                                                                               string_keys[i]))) < 0)
                        return NULL;
        }
        for (size_t i = 0; i < s->n_parameters; i++)
                if (ctl_json_add_array(parameters, parameter_to_json(s->parameters[i])) < 0)
                        return NULL;
        if (ctl_json_add(j, "kernel_parameters", TAKE_PTR(parameters)) < 0 ||
            ctl_json_add(j, "devices", ctl_strv_to_json(ctl_object_get_strv(s->result, "devices"))) < 0 ||
            ctl_json_add(j, "notes", ctl_strv_to_json(ctl_object_get_strv(s->result, "notes"))) < 0 ||
            ctl_json_add_others(j, s->result) < 0)
                return NULL;
        return TAKE_PTR(j);
}

static void print_heading(const char *title) {
        printf("\n%s%s%s\n", ctl_ansi_bold(), title, ctl_ansi_normal());
}

#define INDENT "  "
#define REASON_INDENT "      "

static void print_command_line(const CtlStaticSetup *s) {
        const char *line = ctl_object_get_string(s->result, "kernel-command-line");

        print_heading(_("Kernel command line (append to GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub)"));
        if (!*line) {
                printf(INDENT "%s\n", _("Nothing to add."));
                return;
        }
        /* The line alone, to copy; then each parameter with its reason. */
        printf(INDENT "%s\n\n", line);
        for (size_t i = 0; i < s->n_parameters; i++) {
                printf(INDENT "%s\n" REASON_INDENT, ctl_object_get_string(s->parameters[i], "parameter"));
                ctl_print_wrapped(strlen(REASON_INDENT), REASON_INDENT,
                                  ctl_object_get_string(s->parameters[i], "reason"));
        }
        printf("\n" INDENT "%s\n" INDENT "%s\n",
               _("systemd-boot: add them to /etc/kernel/cmdline and run kernel-install instead."),
               _("Reboot for them to take effect; undo by removing them and updating the boot loader again."));
}

static void print_setup(const CtlStaticSetup *s) {
        char **devices = ctl_object_get_strv(s->result, "devices");
        char **notes = ctl_object_get_strv(s->result, "notes");
        _cleanup_free_ char *joined = vh_strv_join(devices, ", ");

        fputs(_("Nothing was written: vfiohost never edits the boot loader or /etc. Review each part and apply it\n"
                "as its heading says; every line has a comment saying why.\n\n"), stdout);
        printf(_("Devices: %s\n"), joined && *joined ? joined : _("none"));

        print_command_line(s);
        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                const char *text = ctl_object_get_string(s->result, sections[i].key);

                print_heading(_(sections[i].title));
                printf("%s\n", _(sections[i].apply));
                /* Verbatim, so that it can be copied as it is. */
                fputs(text, stdout);
                if (*text && text[strlen(text) - 1] != '\n')
                        putchar('\n');
        }

        if (vh_strv_length(notes) == 0)
                return;
        print_heading(_("Notes"));
        STRV_FOREACH(n, notes) {
                fputs(INDENT "- ", stdout);
                ctl_print_wrapped(strlen(INDENT "- "), INDENT "  ", *n);
        }
}

int verb_config(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_static_setup_freep) CtlStaticSetup *res = NULL;
        _cleanup_strv_free_ char **devices = NULL;
        CtlStaticSetupRequest req;
        int r;

        /* lspci's short form gets its domain; names and the rest go as
         * they are: the daemon decides what they are. */
        STRV_FOREACH(d, options->devices) {
                char *expanded = ctl_address_expand(*d);

                if (!expanded || vh_strv_push(&devices, expanded) < 0) {
                        free(expanded);
                        return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
                }
        }

        req = (CtlStaticSetupRequest) {
                .devices = devices,
                .hugepages = options->hugepages,
                .isolate_cpus = options->isolate_cpus,
        };
        r = ctl_bus_get_static_setup(bus, &req, &res, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json())
                return ctl_json_output(setup_to_json(res));
        print_setup(res);
        return CTL_EXIT_SUCCESS;
}
