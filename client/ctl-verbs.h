/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verbs. Each gets a connected bus, its own arguments (argv[0] is the
 * verb) and the options of the command line, reports its errors through
 * ctl-output, and returns the exit code (CTL_EXIT_*), since an exit code
 * carries more than success or errno. */

#include <stdbool.h>

#include <systemd/sd-bus.h>

/* Options, parsed wherever they stand on the command line (systemctl's
 * way); main() refuses the ones a verb does not take. */
typedef struct CtlOptions {
        bool ask_password;              /* not --no-ask-password */
        bool group;                     /* --group */
        bool force;                     /* --force */
        bool dry_run;                   /* --dry-run */
        const char *device;             /* --device ADDRESS, as given; NULL when absent */
        const char *name;               /* --name NAME (persist) */
        const char *driver;             /* --driver NAME (bind, persist, vfs); NULL: the daemon's default */
        const char *vfs;                /* --vfs COUNT (persist), as given; NULL when absent */
        char **devices;                 /* every --device, in order (config takes several); NULL when none */
        const char *hugepages;          /* --hugepages SIZE:COUNT */
        const char *isolate_cpus;       /* --isolate-cpus LIST */
        const char *class_filter;       /* --class CLASS (list) */
        bool tree;                      /* --tree (list) */
} CtlOptions;

int verb_status(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_list(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_show(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_groups(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_vms(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_vm(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_bind(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_unbind(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_check(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_monitor(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_persist(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_unpersist(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_persisted(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
int verb_vfs(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
/* persist PF --vfs COUNT (from verb_persist): SetPersistent with "vfs". */
int ctl_persist_vfs(sd_bus *bus, const char *arg, const CtlOptions *options);
int verb_config(sd_bus *bus, int argc, char **argv, const CtlOptions *options);

/* Manager1.Bind, Unbind, SetPersistent or SetVfCount with the polkit agent
 * registered (unless a dry run, which needs no authorization); a refusal
 * is reported. Returns CTL_EXIT_SUCCESS or the exit code to return. */
struct CtlBindRequest;
struct CtlBindResult;
int ctl_bind_call(sd_bus *bus, const struct CtlBindRequest *req, struct CtlBindResult **ret);
