/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl vms: the running VMs and what they hold; vfiohostctl vm
 * NAME|PID: one VM's properties and its vCPU threads. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl-i18n.h"
#include "ctl-bus.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-names.h"
#include "vh-strv.h"

static const CtlObject *find_group(const CtlHost *h, const char *path) {
        for (size_t i = 0; i < h->n_groups; i++)
                if (strcmp(h->groups[i]->path, path) == 0)
                        return h->groups[i];
        return NULL;
}

static int push_unique(char ***l, const char *s) {
        return vh_strv_contains(*l, s) ? 0 : vh_strv_extend(l, s);
}

/* The functions a VM or process holds: those its Devices name, and every
 * member of its Groups (a group fd holds them all), sorted. */
static char **held_functions(const CtlHost *h, const CtlObject *vm) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        STRV_FOREACH(p, ctl_object_get_strv(vm, "Devices")) {
                const CtlObject *d = ctl_host_find_device(h, *p);

                if (d && push_unique(&l, ctl_object_get_string(d, "Address")) < 0)
                        return NULL;
        }
        STRV_FOREACH(p, ctl_object_get_strv(vm, "Groups")) {
                const CtlObject *g = find_group(h, *p);

                STRV_FOREACH(a, g ? ctl_object_get_strv(g, "Addresses") : NULL)
                        if (push_unique(&l, *a) < 0)
                                return NULL;
        }
        vh_strv_sort(l);
        return TAKE_PTR(l);
}

/* "16.8 GiB", "812 MiB". */
static void format_bytes(uint64_t bytes, char *buf, size_t size) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* VirtualMachine1 as JSON: the generic conversion, with devices as
 * addresses and groups as numbers (paths mean nothing to a script that
 * does not speak D-Bus), and every function it holds. */
static struct json_object *vm_to_json(const CtlHost *h, const CtlObject *vm) {
        _cleanup_(json_object_putp) struct json_object *j = ctl_object_to_json(vm);
        _cleanup_strv_free_ char **functions = NULL;
        struct json_object *devices, *groups;

        if (!j)
                return NULL;
        devices = json_object_new_array();
        if (!devices || json_object_object_add(j, "devices", devices) < 0)
                return NULL;
        STRV_FOREACH(p, ctl_object_get_strv(vm, "Devices")) {
                const CtlObject *d = ctl_host_find_device(h, *p);

                if (d && ctl_json_add_array(devices, json_object_new_string(ctl_object_get_string(d, "Address"))) < 0)
                        return NULL;
        }
        groups = json_object_new_array();
        if (!groups || json_object_object_add(j, "groups", groups) < 0)
                return NULL;
        STRV_FOREACH(p, ctl_object_get_strv(vm, "Groups")) {
                const CtlObject *g = find_group(h, *p);

                if (g && ctl_json_add_array(groups, json_object_new_int64(ctl_object_get_int(g, "Id", -1))) < 0)
                        return NULL;
        }
        functions = held_functions(h, vm);
        if (!functions || ctl_json_add(j, "held_functions", ctl_strv_to_json(functions)) < 0)
                return NULL;
        return TAKE_PTR(j);
}

/* VFIO users that are no VMs (DPDK, a test tool): their devices cannot
 * be unbound while they run either. */
static int print_processes(const CtlHost *h) {
        for (size_t i = 0; i < h->n_processes; i++) {
                const CtlObject *p = h->processes[i];
                _cleanup_strv_free_ char **functions = held_functions(h, p);
                _cleanup_free_ char *held = functions ? vh_strv_join(functions, ", ") : NULL;

                if (!held)
                        return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
                if (i == 0)
                        printf(_("\nAlso using VFIO, without KVM:\n"));
                printf(_("  pid %" PRIu64 " (%s): %s\n"), ctl_object_get_unsigned(p, "Pid", 0),
                       ctl_object_get_string(p, "Command"), *held ? held : _("a VFIO container, no device"));
        }
        return CTL_EXIT_SUCCESS;
}

enum {
        COLUMN_PID,
        COLUMN_NAME,
        COLUMN_VMM,
        COLUMN_VCPUS,
        COLUMN_MEMORY,
        COLUMN_DEVICES,
        _COLUMN_MAX,
};

int verb_vms(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        static const char *const headers[_COLUMN_MAX] = {
                N_("PID"), N_("NAME"), N_("VMM"), N_("VCPUS"), N_("MEMORY"), N_("DEVICES"),
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        _cleanup_(ctl_table_freep) CtlTable *t = NULL;
        int r;

        r = ctl_bus_get_host(bus, &h, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json()) {
                struct json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < h->n_vms; i++)
                        if (ctl_json_add_array(a, vm_to_json(h, h->vms[i])) < 0) {
                                json_object_put(a);
                                a = NULL;
                        }
                return ctl_json_output(a);
        }

        if (h->n_vms == 0) {
                printf(_("No VMs are running (no process holds /dev/kvm or a KVM VM).\n"));
                return print_processes(h);
        }

        t = ctl_table_new(_COLUMN_MAX, headers);
        if (!t)
                return ctl_report_errno(-ENOMEM, "failed to build the table: %m");
        ctl_table_set_ellipsize_column(t, COLUMN_DEVICES);
        for (size_t i = 0; r >= 0 && i < h->n_vms; i++) {
                const CtlObject *vm = h->vms[i];
                _cleanup_strv_free_ char **functions = held_functions(h, vm);
                _cleanup_free_ char *devices = functions ? vh_strv_join(functions, ", ") : NULL;
                char pid[16], vcpus[16], memory[32];

                if (!devices)
                        return ctl_report_errno(-ENOMEM, "failed to build the table: %m");
                snprintf(pid, sizeof(pid), "%" PRIu64, ctl_object_get_unsigned(vm, "Pid", 0));
                snprintf(vcpus, sizeof(vcpus), "%" PRIu64, ctl_object_get_unsigned(vm, "Vcpus", 0));
                format_bytes(ctl_object_get_unsigned(vm, "MemoryBytes", 0), memory, sizeof(memory));
                r = ctl_table_add_cell(t, pid, NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, ctl_object_get_string(vm, "Name"), ctl_ansi_bold());
                if (r >= 0)
                        r = ctl_table_add_cell(t, ctl_object_get_string(vm, "Vmm"), NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, vcpus, NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, memory, NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, devices, NULL);
        }
        if (r >= 0)
                r = ctl_table_print(t);
        if (r < 0)
                return ctl_report_errno(r, "failed to print the table: %m");
        return print_processes(h);
}

/* The VM a user names: by pid when all digits, else by Name. 0, or the
 * exit code of the failure it reported. */
static int find_vm(const CtlHost *h, const char *arg, const CtlObject **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        bool by_pid = arg[0] && strspn(arg, "0123456789") == strlen(arg);
        const CtlObject *found = NULL;
        size_t n = 0;

        for (size_t i = 0; i < h->n_vms; i++) {
                char pid[16];

                snprintf(pid, sizeof(pid), "%" PRIu64, ctl_object_get_unsigned(h->vms[i], "Pid", 0));
                if (by_pid ? strcmp(pid, arg) == 0 : strcmp(ctl_object_get_string(h->vms[i], "Name"), arg) == 0) {
                        found = h->vms[i];
                        n++;
                }
        }
        if (n > 1)
                return ctl_report_usage("%zu VMs are named '%s'; name one by its pid (see 'vfiohostctl vms')", n, arg);
        if (!found) {
                sd_bus_error_setf(&error, VH_ERROR_NOT_FOUND, "No running VM %s '%s'; 'vfiohostctl vms' lists them.",
                                  by_pid ? "has pid" : "is named", arg);
                return ctl_report_error(&error);
        }
        *ret = found;
        return 0;
}

static struct json_object *record_to_json(const CtlObject *o) {
        _cleanup_(json_object_putp) struct json_object *j = json_object_new_object();

        if (!j)
                return NULL;
        for (size_t i = 0; i < o->n_properties; i++) {
                _cleanup_free_ char *key = ctl_key_to_snake(o->properties[i].name);

                if (o->properties[i].type == '\0')
                        continue;
                if (!key || ctl_json_add(j, key, ctl_property_to_json(&o->properties[i])) < 0)
                        return NULL;
        }
        return TAKE_PTR(j);
}

static int print_vm_json(const CtlHost *h, const CtlObject *vm, CtlObject **vcpus, size_t n) {
        struct json_object *j = vm_to_json(h, vm), *a = json_object_new_array();

        if (j && a && json_object_object_add(j, "vcpus", a) >= 0) {
                for (size_t i = 0; i < n; i++)
                        if (ctl_json_add_array(a, record_to_json(vcpus[i])) < 0) {
                                json_object_put(j);
                                return ctl_json_output(NULL);
                        }
                return ctl_json_output(j);
        }
        json_object_put(a);
        json_object_put(j);
        return ctl_json_output(NULL);
}

static void print_vm_properties(const CtlHost *h, const CtlObject *vm) {
        _cleanup_strv_free_ char **functions = held_functions(h, vm);
        _cleanup_free_ char *held = functions ? vh_strv_join(functions, ", ") : NULL;
        time_t start = (time_t) (ctl_object_get_unsigned(vm, "StartTime", 0) / 1000000);
        char when[64] = "-", memory[32];
        struct tm tm;

        if (start > 0 && gmtime_r(&start, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        format_bytes(ctl_object_get_unsigned(vm, "MemoryBytes", 0), memory, sizeof(memory));

        printf("%s%s%s (pid %" PRIu64 ")\n", ctl_ansi_bold(), ctl_object_get_string(vm, "Name"), ctl_ansi_normal(),
               ctl_object_get_unsigned(vm, "Pid", 0));
        printf(_("  VMM: %s\n"), ctl_object_get_string(vm, "Vmm"));
        printf(_("  Started: %s\n"), when);
        printf(_("  vCPUs: %" PRIu64 "\n"), ctl_object_get_unsigned(vm, "Vcpus", 0));
        printf(_("  Memory: %s\n"), memory);
        printf(_("  Groups:"));
        if (!ctl_object_get_strv(vm, "Groups") || !ctl_object_get_strv(vm, "Groups")[0])
                printf(" -");
        STRV_FOREACH(p, ctl_object_get_strv(vm, "Groups")) {
                const CtlObject *g = find_group(h, *p);

                printf(" %" PRIi64, g ? ctl_object_get_int(g, "Id", -1) : -1);
        }
        printf(_("\n  Devices: %s\n"), held && *held ? held : "-");
}

enum {
        VCPU_INDEX,
        VCPU_TID,
        VCPU_CPU,
        VCPU_STATE,
        VCPU_ALLOWED,
        VCPU_PINNED,
        VCPU_TIME,
        _VCPU_MAX,
};

static int print_vcpus(CtlObject **vcpus, size_t n) {
        static const char *const headers[_VCPU_MAX] = {
                N_("VCPU"), N_("TID"), N_("CPU"), N_("STATE"), N_("ALLOWED"), N_("PINNED"), N_("CPU TIME"),
        };
        _cleanup_(ctl_table_freep) CtlTable *t = NULL;
        int r = 0;

        if (n == 0) {
                printf(_("\nNo vCPU threads found (the VMM names them in a way vfiohost does not know, and debugfs is not readable).\n"));
                return 0;
        }
        t = ctl_table_new(_VCPU_MAX, headers);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const CtlObject *c = vcpus[i];
                char index[16], tid[16], cpu[16], time[32];
                bool pinned = ctl_object_get_bool(c, "pinned");

                snprintf(index, sizeof(index), "%" PRIi64, ctl_object_get_int(c, "index", -1));
                snprintf(tid, sizeof(tid), "%" PRIu64, ctl_object_get_unsigned(c, "tid", 0));
                snprintf(cpu, sizeof(cpu), "%" PRIi64, ctl_object_get_int(c, "last-cpu", -1));
                snprintf(time, sizeof(time), "%.1f s", (double) ctl_object_get_unsigned(c, "cpu-time-usec", 0) / 1e6);
                r = ctl_table_add_cell(t, index, NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, tid, NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, cpu, NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, ctl_object_get_string(c, "state"), NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, ctl_object_get_string(c, "allowed-cpus"), NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, pinned ? "yes" : "no", pinned ? ctl_ansi_green() : NULL);
                if (r >= 0)
                        r = ctl_table_add_cell(t, time, NULL);
        }
        if (r >= 0) {
                putchar('\n');
                r = ctl_table_print(t);
        }
        return r;
}

int verb_vm(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        const CtlObject *vm = NULL;
        CtlObject **vcpus = NULL;
        size_t n = 0;
        int r;

        r = ctl_bus_get_host(bus, &h, &error);
        if (r < 0)
                return ctl_report_error(&error);
        r = find_vm(h, argv[1], &vm);
        if (r != 0)
                return r;

        r = ctl_bus_get_vcpus(bus, vm->path, &vcpus, &n, &error);
        if (r < 0)
                return ctl_report_error(&error);

        if (ctl_output_json())
                r = print_vm_json(h, vm, vcpus, n);
        else {
                print_vm_properties(h, vm);
                r = print_vcpus(vcpus, n);
                r = r < 0 ? ctl_report_errno(r, "failed to print the vCPUs: %m") : CTL_EXIT_SUCCESS;
        }
        ctl_object_array_free(vcpus, n);
        return r;
}
