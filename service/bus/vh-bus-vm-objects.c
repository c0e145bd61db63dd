/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The objects of who holds what (docs/vms.md, "On the bus"):
 * VirtualMachine1, Process1 and the HeldBy of Device1 and Group1, all read
 * from the tracker's last scan (vh-bus-vms.c); GetVcpus and MemoryBytes
 * read /proc when asked. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-objects.h"
#include "vh-bus-vms-private.h"
#include "vh-bus-vms.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"
#include "vh-strv.h"
#include "vh-vcpus.h"

const VhVm *vh_bus_vms_find(const VhBusVms *t, pid_t pid) {
        size_t lo = 0, hi = t->n_vms;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (t->vms[mid].pid == pid)
                        return &t->vms[mid];
                if (t->vms[mid].pid < pid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static bool holds_group(const VhVm *v, unsigned group) {
        for (size_t i = 0; i < v->n_groups; i++)
                if (v->groups[i] == group)
                        return true;
        return false;
}

int vh_bus_holder_path(const VhVm *v, char **ret) {
        return v->is_vm ? vh_bus_vm_path(v->pid, ret) : vh_bus_process_path(v->pid, ret);
}

/* A group fd holds the group and every member; a device fd holds the
 * device and, for the group, its group. group < 0: the device has none. */
static bool holds_device(const VhVm *v, const char *address, int group) {
        return vh_strv_contains(v->devices, address) || (group >= 0 && holds_group(v, (unsigned) group));
}

static bool holds_in_group(const VhHost *host, const VhVm *v, unsigned group) {
        if (holds_group(v, group))
                return true;
        STRV_FOREACH(a, v->devices) {
                const VhPciDevice *dev = vh_host_find_device(host, *a);

                if (dev && dev->iommu_group == (int) group)
                        return true;
        }
        return false;
}

int vh_bus_held_by(const VhHost *host, const VhVm *vms, size_t n, const char *address, unsigned group, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int dev_group = -1;
        int r;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        if (address) {
                const VhPciDevice *dev = vh_host_find_device(host, address);

                dev_group = dev ? dev->iommu_group : -1;
        }
        for (size_t i = 0; i < n; i++) {
                char *p;

                if (address ? !holds_device(&vms[i], address, dev_group) : !holds_in_group(host, &vms[i], group))
                        continue;
                r = vh_bus_holder_path(&vms[i], &p);
                if (r < 0)
                        return r;
                r = vh_strv_push(&l, p);
                if (r < 0) {
                        free(p);
                        return r;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int append_paths(sd_bus_message *reply, char **paths) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        STRV_FOREACH(p, paths) {
                r = sd_bus_message_append(reply, "o", *p);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* ---------- VirtualMachine1 and Process1 ---------- */

static const VhVm *vm_of_path(const VhBusVms *t, const char *path) {
        pid_t pid;

        if (vh_bus_pid_from_path(path, VH_VM_PATH_PREFIX, &pid) <= 0 &&
            vh_bus_pid_from_path(path, VH_PROCESS_PATH_PREFIX, &pid) <= 0)
                return NULL;
        return vh_bus_vms_find(t, pid);
}

static int property_get_pid(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "u", (uint32_t) v->pid) : -ENOENT;
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "s", vh_bus_vm_display_name(userdata, v)) : -ENOENT;
}

static int property_get_command(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "s", strempty(v->comm)) : -ENOENT;
}

static int property_get_vmm(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "s", strempty(v->vmm)) : -ENOENT;
}

static int property_get_start_time(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "t", v->start_time_usec) : -ENOENT;
}

static int property_get_vcpus(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "u", (uint32_t) v->vcpus) : -ENOENT;
}

static int property_get_memory(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhBusVms *t = userdata;
        const VhVm *v = vm_of_path(t, path);
        _cleanup_free_ char *status = NULL;
        char pid[16];
        uint64_t rss, huge = 0;

        if (!v)
                return -ENOENT;
        /* Memory moves without any event: read at each Get (no signal),
         * the scan's value when the process is gone meanwhile. */
        snprintf(pid, sizeof(pid), "%d", (int) v->pid);
        if (vh_hostfs_read_file(t->daemon->fs, &status, NULL, VH_PROC, pid, "status", NULL) >= 0 &&
            vh_proc_status_bytes(status, "VmRSS", &rss) >= 0) {
                (void) vh_proc_status_bytes(status, "HugetlbPages", &huge);
                return sd_bus_message_append(reply, "t", rss + huge);
        }
        return sd_bus_message_append(reply, "t", v->memory_bytes + v->hugetlb_bytes);
}

static int property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        /* Only what the process names: a legacy group holder's device fds
         * say no device before Linux 6.18, and none is guessed. */
        return v ? vh_bus_append_device_paths(reply, v->devices) : -ENOENT;
}

static int property_get_groups(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? vh_bus_append_group_paths(reply, v->groups, v->n_groups) : -ENOENT;
}

static int append_vcpu(sd_bus_message *reply, const VhVcpu *c) {
        char state[2] = { c->state, 0 };
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                  "index", "i", (int32_t) c->index,
                                  "tid", "u", (uint32_t) c->tid,
                                  "thread-name", "s", strempty(c->thread_name),
                                  "state", "s", state,
                                  "last-cpu", "i", (int32_t) c->last_cpu,
                                  "cpu-time-usec", "t", c->cpu_time_usec,
                                  "guest-time-usec", "t", c->guest_time_usec,
                                  "allowed-cpus", "s", strempty(c->allowed_cpus),
                                  "pinned", "b", (int) c->pinned);
        if (r >= 0 && c->has_schedstat)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}",
                                          "run-time-nsec", "t", c->run_time_ns,
                                          "wait-time-nsec", "t", c->wait_time_ns,
                                          "timeslices", "t", c->timeslices);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_get_vcpus(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const VhBusVms *t = userdata;
        const VhVm *v = vm_of_path(t, sd_bus_message_get_path(m));
        VhVcpu *vcpus = NULL;
        size_t n = 0;
        int r;

        if (!v)
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND, "No VM at %s.", sd_bus_message_get_path(m));
        /* Read now, not from the scan: vCPU threads move all the time. */
        r = vh_vcpus_read(t->daemon->fs, v->pid, &vcpus, &n);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, VH_ERROR_NOT_FOUND,
                                         "The VM with pid %d (%s) has exited.", (int) v->pid,
                                         vh_bus_vm_display_name(t, v));
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the vCPU threads of pid %d: %m", (int) v->pid);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_vcpu(reply, &vcpus[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        vh_vcpus_free(vcpus, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable vm_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Pid", "u", property_get_pid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Vmm", "s", property_get_vmm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartTime", "t", property_get_start_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Vcpus", "u", property_get_vcpus, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Groups", "ao", property_get_groups, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemoryBytes", "t", property_get_memory, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("GetVcpus",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("aa{sv}", vcpus),
                                method_get_vcpus,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable process_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Pid", "u", property_get_pid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Command", "s", property_get_command, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Groups", "ao", property_get_groups, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

static int holder_find(VhBusVms *t, const char *path, const char *prefix, bool is_vm, void **found) {
        const VhVm *v;
        pid_t pid;

        if (vh_bus_pid_from_path(path, prefix, &pid) <= 0)
                return 0;
        v = vh_bus_vms_find(t, pid);
        if (!v || v->is_vm != is_vm)
                return 0;
        *found = t;
        return 1;
}

static int vm_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error) {
        return holder_find(userdata, path, VH_VM_PATH_PREFIX, true, found);
}

static int process_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                               void **found, sd_bus_error *error) {
        return holder_find(userdata, path, VH_PROCESS_PATH_PREFIX, false, found);
}

static int holder_enumerate(const VhBusVms *t, bool is_vm, char ***nodes) {
        _cleanup_strv_free_ char **l = NULL;
        size_t k = 0;
        int r;

        l = calloc(t->n_vms + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_vms; i++) {
                if (t->vms[i].is_vm != is_vm)
                        continue;
                r = vh_bus_holder_path(&t->vms[i], &l[k++]);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int vm_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        return holder_enumerate(userdata, true, nodes);
}

static int process_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                   sd_bus_error *error) {
        return holder_enumerate(userdata, false, nodes);
}

/* ---------- Device1.HeldBy and Group1.HeldBy ---------- */

/* A second vtable of each interface, with the tracker as its userdata
 * (the first has the daemon's): sd-bus merges them into one interface. */

static int property_get_device_held_by(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhBusVms *t = userdata;
        _cleanup_strv_free_ char **l = NULL;
        char address[VH_ADDRESS_MAX];
        int r;

        r = vh_bus_device_address_from_path(path, address);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        r = vh_bus_held_by(t->daemon->host, t->vms, t->n_vms, address, 0, &l);
        if (r < 0)
                return r;
        return append_paths(reply, l);
}

static int property_get_group_held_by(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhBusVms *t = userdata;
        _cleanup_strv_free_ char **l = NULL;
        unsigned id;
        int r;

        if (vh_bus_group_id_from_path(path, &id) <= 0)
                return -ENOENT;
        r = vh_bus_held_by(t->daemon->host, t->vms, t->n_vms, NULL, id, &l);
        if (r < 0)
                return r;
        return append_paths(reply, l);
}

const sd_bus_vtable vh_bus_device_held_by_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("HeldBy", "ao", property_get_device_held_by, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable group_held_by_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("HeldBy", "ao", property_get_group_held_by, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

static int device_held_by_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                               sd_bus_error *error) {
        VhBusVms *t = userdata;
        char address[VH_ADDRESS_MAX];
        int r;

        r = vh_bus_device_address_from_path(path, address);
        if (r <= 0)
                return r;
        if (!vh_host_find_device(t->daemon->host, address))
                return 0;
        *found = t;
        return 1;
}

static int group_held_by_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                              sd_bus_error *error) {
        VhBusVms *t = userdata;
        unsigned id;

        if (vh_bus_group_id_from_path(path, &id) <= 0 || !vh_host_find_group(t->daemon->host, id))
                return 0;
        *found = t;
        return 1;
}

int vh_bus_vms_register(VhDaemon *d) {
        VhBusVms *t = d->vms;
        int r;

        if (!t)
                return -EINVAL;
        r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_VM_PATH_PREFIX, VH_VM_INTERFACE, vm_vtable, vm_object_find, t);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(d->bus, NULL, VH_VM_PATH_PREFIX, vm_node_enumerator, t);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_PROCESS_PATH_PREFIX, VH_PROCESS_INTERFACE,
                                               process_vtable, process_object_find, t);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(d->bus, NULL, VH_PROCESS_PATH_PREFIX, process_node_enumerator, t);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_DEVICE_PATH_PREFIX, VH_DEVICE_INTERFACE,
                                               vh_bus_device_held_by_vtable, device_held_by_find, t);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_GROUP_PATH_PREFIX, VH_GROUP_INTERFACE,
                                               group_held_by_vtable, group_held_by_find, t);
        return r;
}
