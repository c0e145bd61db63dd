/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* VMs and other VFIO holders on the bus (docs/vms.md, "On the bus"). The
 * list is the last full scan; events only say when to scan again, so a
 * missed detail of an event costs nothing but its latency. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vh-bus-objects.h"
#include "vh-bus-vms.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"
#include "vh-strv.h"
#include "vh-vcpus.h"
#include "vh-vms.h"

/* Long enough to take a VM's start (kvm, container, groups, devices
 * opened within milliseconds) or a burst of exits as one scan; short
 * enough that a client sees a VM at once. */
#define RESCAN_USEC (50ULL * 1000)
#define RESCAN_ACCURACY_USEC (1ULL * 1000)

#define NODE_EVENTS (IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_DONT_FOLLOW)
#define DIR_EVENTS (IN_CREATE | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW)
#define PROC_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)

typedef struct VhBusPidfd {
        pid_t pid;
        sd_event_source *source;        /* owns the pidfd */
} VhBusPidfd;

typedef struct VhBusVms {
        VhDaemon *daemon;
        VhVm *vms;                      /* the last scan, sorted by pid */
        size_t n_vms;

        int inotify_fd;
        sd_event_source *inotify_source;
        int dir_wds[2];                 /* dev/vfio, dev/vfio/devices; -1 when not watched */
        int dev_wd;                     /* dev: for kvm, iommu and vfio appearing later */
        sd_event_source *rescan_timer;

        /* Host root only: one pidfd per holder, EPOLLIN when it exits. */
        VhBusPidfd *pidfds;
        size_t n_pidfds;

        uint64_t n_scans;
        uint64_t n_events;
} VhBusVms;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static const VhVm *vms_find(const VhBusVms *t, pid_t pid) {
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

static int holder_path(const VhVm *v, char **ret) {
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

/* The holder paths of a device (address) or, with address NULL, of group. */
static int held_by(const VhHost *host, const VhVm *vms, size_t n, const char *address, unsigned group, char ***ret) {
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
                r = holder_path(&vms[i], &p);
                if (r < 0)
                        return r;
                r = vh_strv_push(&l, p);
                if (r < 0)
                        return r;
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
        return vms_find(t, pid);
}

static int property_get_pid(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        return v ? sd_bus_message_append(reply, "u", (uint32_t) v->pid) : -ENOENT;
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);

        /* No machined lookup (yet): the VMM's own name, else its command. */
        return v ? sd_bus_message_append(reply, "s", v->name ?: strempty(v->comm)) : -ENOENT;
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
        int r;

        if (!v)
                return -ENOENT;
        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        /* Only what the process names: a legacy group holder's device fds
         * say no device before Linux 6.18, and none is guessed. */
        STRV_FOREACH(a, v->devices) {
                _cleanup_free_ char *p = NULL;

                if (!vh_address_is_valid(*a))
                        continue;
                r = vh_bus_device_path(*a, &p);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "o", p);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_groups(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhVm *v = vm_of_path(userdata, path);
        int r;

        if (!v)
                return -ENOENT;
        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->n_groups; i++) {
                _cleanup_free_ char *p = NULL;

                r = vh_bus_group_path(v->groups[i], &p);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "o", p);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
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
                                         v->name ?: strempty(v->comm));
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
        v = vms_find(t, pid);
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
                r = holder_path(&t->vms[i], &l[k++]);
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
        r = held_by(t->daemon->host, t->vms, t->n_vms, address, 0, &l);
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
        r = held_by(t->daemon->host, t->vms, t->n_vms, NULL, id, &l);
        if (r < 0)
                return r;
        return append_paths(reply, l);
}

static const sd_bus_vtable device_held_by_vtable[] = {
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
                                               device_held_by_vtable, device_held_by_find, t);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_GROUP_PATH_PREFIX, VH_GROUP_INTERFACE,
                                               group_held_by_vtable, group_held_by_find, t);
        return r;
}

/* ---------- the diff of two scans ---------- */

/* The same object on the bus: same process (a reused pid starts at
 * another time) and the same interface. */
static bool same_object(const VhVm *a, const VhVm *b) {
        return a->pid == b->pid && a->start_time_usec == b->start_time_usec && a->is_vm == b->is_vm;
}

static bool same_groups(const VhVm *a, const VhVm *b) {
        return a->n_groups == b->n_groups && (a->n_groups == 0 || memcmp(a->groups, b->groups, a->n_groups * sizeof(unsigned)) == 0);
}

static bool same_holdings(const VhVm *a, const VhVm *b) {
        return same_object(a, b) && vh_strv_equal(a->devices, b->devices) && same_groups(a, b);
}

static const VhVm *find_in(const VhVm *vms, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (vms[i].pid == pid)
                        return &vms[i];
        return NULL;
}

typedef struct Touched {
        char **addresses;
        unsigned *groups;
        size_t n_groups;
} Touched;

static void touched_done(Touched *x) {
        x->addresses = vh_strv_free(x->addresses);
        free(x->groups);
        x->groups = NULL;
        x->n_groups = 0;
}

static int touch_group(Touched *x, unsigned g) {
        unsigned *n;

        for (size_t i = 0; i < x->n_groups; i++)
                if (x->groups[i] == g)
                        return 0;
        n = reallocarray(x->groups, x->n_groups + 1, sizeof(unsigned));
        if (!n)
                return -ENOMEM;
        x->groups = n;
        x->groups[x->n_groups++] = g;
        return 0;
}

static int touch_address(Touched *x, const char *a) {
        return vh_strv_contains(x->addresses, a) ? 0 : vh_strv_extend(&x->addresses, a);
}

/* What a holder that came, went or changed what it holds may change the
 * HeldBy of: its devices, its groups, their members and groups. */
static int touch_holdings(const VhHost *host, Touched *x, const VhVm *v) {
        int r;

        STRV_FOREACH(a, v->devices) {
                const VhPciDevice *dev = vh_host_find_device(host, *a);

                r = touch_address(x, *a);
                if (r >= 0 && dev && dev->iommu_group >= 0)
                        r = touch_group(x, (unsigned) dev->iommu_group);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < v->n_groups; i++) {
                const VhIommuGroup *g = vh_host_find_group(host, v->groups[i]);

                r = touch_group(x, v->groups[i]);
                if (r < 0)
                        return r;
                STRV_FOREACH(m, g ? g->members : NULL)
                        if ((r = touch_address(x, *m)) < 0)
                                return r;
        }
        return 0;
}

static void emit_object(VhDaemon *d, const VhVm *v, bool added) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = holder_path(v, &path);
        if (r >= 0)
                r = added ? sd_bus_emit_object_added(d->bus, path) : sd_bus_emit_object_removed(d->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot announce pid %d: %m", (int) v->pid);
}

static void emit_holder_changes(VhDaemon *d, const VhVm *o, const VhVm *n) {
        _cleanup_strv_free_ char **changed = NULL;
        _cleanup_free_ char *path = NULL;
        int r = 0;

        changed = calloc(1, sizeof(char *));
        if (!changed)
                return;
        if (n->is_vm && !vh_streq_null(o->name ?: o->comm, n->name ?: n->comm))
                r = vh_strv_extend(&changed, "Name");
        if (r >= 0 && !n->is_vm && !vh_streq_null(o->comm, n->comm))
                r = vh_strv_extend(&changed, "Command");
        if (r >= 0 && n->is_vm && !vh_streq_null(o->vmm, n->vmm))
                r = vh_strv_extend(&changed, "Vmm");
        if (r >= 0 && n->is_vm && o->vcpus != n->vcpus)
                r = vh_strv_extend(&changed, "Vcpus");
        if (r >= 0 && !vh_strv_equal(o->devices, n->devices))
                r = vh_strv_extend(&changed, "Devices");
        if (r >= 0 && !same_groups(o, n))
                r = vh_strv_extend(&changed, "Groups");
        if (r >= 0 && changed[0])
                r = holder_path(n, &path);
        if (r >= 0 && path)
                r = sd_bus_emit_properties_changed_strv(d->bus, path, n->is_vm ? VH_VM_INTERFACE : VH_PROCESS_INTERFACE,
                                                        changed);
        if (r < 0)
                log_debug_errno(r, "Cannot emit the changes of pid %d: %m", (int) n->pid);
}

/* The HeldBy lists of the touched objects, in Touched's order: the
 * addresses, then the groups. */
static int held_by_all(const VhHost *host, const VhVm *vms, size_t n, const Touched *x, char ****ret) {
        size_t n_addresses = vh_strv_length(x->addresses), k = 0;
        char ***l;
        int r;

        l = calloc(n_addresses + x->n_groups + 1, sizeof(char **));
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(a, x->addresses)
                if ((r = held_by(host, vms, n, *a, 0, &l[k++])) < 0)
                        goto fail;
        for (size_t i = 0; i < x->n_groups; i++)
                if ((r = held_by(host, vms, n, NULL, x->groups[i], &l[k++])) < 0)
                        goto fail;
        *ret = l;
        return 0;
fail:
        for (size_t i = 0; i < k; i++)
                vh_strv_free(l[i]);
        free(l);
        return r;
}

static void held_by_free(char ***l) {
        for (size_t i = 0; l && l[i]; i++)
                vh_strv_free(l[i]);
        free(l);
}

static void emit_held_by(VhDaemon *d, const Touched *x, char ***before, char ***after) {
        size_t n_addresses = vh_strv_length(x->addresses);

        for (size_t i = 0; i < n_addresses + x->n_groups; i++) {
                _cleanup_free_ char *path = NULL;
                bool device = i < n_addresses;
                int r;

                if (vh_strv_equal(before[i], after[i]))
                        continue;
                if (device) {
                        if (!vh_host_find_device(d->host, x->addresses[i]))
                                continue;
                        r = vh_bus_device_path(x->addresses[i], &path);
                } else {
                        if (!vh_host_find_group(d->host, x->groups[i - n_addresses]))
                                continue;
                        r = vh_bus_group_path(x->groups[i - n_addresses], &path);
                }
                if (r >= 0)
                        r = sd_bus_emit_properties_changed(d->bus, path, device ? VH_DEVICE_INTERFACE : VH_GROUP_INTERFACE,
                                                           "HeldBy", NULL);
                if (r < 0)
                        log_debug_errno(r, "Cannot emit HeldBy of %s: %m", strempty(path));
        }
}

/* Takes new as the list and emits every difference from the old one:
 * objects that went are announced while they still resolve. */
static int swap_and_emit(VhBusVms *t, VhVm *new, size_t n_new) {
        VhDaemon *d = t->daemon;
        VhVm *old = t->vms;
        size_t n_old = t->n_vms;
        Touched x = {};
        char ***before = NULL, ***after = NULL;
        int r = 0;

        if (!d->bus) {
                t->vms = new;
                t->n_vms = n_new;
                vh_vms_free(old, n_old);
                return 0;
        }

        for (size_t i = 0; r >= 0 && i < n_old; i++) {
                const VhVm *n = find_in(new, n_new, old[i].pid);

                if (!n || !same_holdings(&old[i], n))
                        r = touch_holdings(d->host, &x, &old[i]);
        }
        for (size_t i = 0; r >= 0 && i < n_new; i++) {
                const VhVm *o = find_in(old, n_old, new[i].pid);

                if (!o || !same_holdings(o, &new[i]))
                        r = touch_holdings(d->host, &x, &new[i]);
        }
        if (r >= 0)
                r = held_by_all(d->host, old, n_old, &x, &before);
        if (r < 0)
                log_debug_errno(r, "Cannot tell whose HeldBy changed: %m");

        for (size_t i = 0; i < n_old; i++) {
                const VhVm *n = find_in(new, n_new, old[i].pid);

                if (!n || !same_object(&old[i], n))
                        emit_object(d, &old[i], false);
        }

        t->vms = new;
        t->n_vms = n_new;

        for (size_t i = 0; i < n_new; i++) {
                const VhVm *o = find_in(old, n_old, new[i].pid);

                if (!o || !same_object(o, &new[i]))
                        emit_object(d, &new[i], true);
                else
                        emit_holder_changes(d, o, &new[i]);
        }

        if (before && held_by_all(d->host, new, n_new, &x, &after) >= 0)
                emit_held_by(d, &x, before, after);

        held_by_free(before);
        held_by_free(after);
        touched_done(&x);
        vh_vms_free(old, n_old);
        return 0;
}

/* ---------- events ---------- */

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void arm_rescan(VhBusVms *t);

/* Host root only: a pidfd per holder, none for those gone. Never on a
 * fixture root, whose pids may be anyone's on this machine. */
static void sync_pidfds(VhBusVms *t) {
        VhDaemon *d = t->daemon;
        size_t k = 0;

        if (!vh_hostfs_is_host_root(d->fs))
                return;
        for (size_t i = 0; i < t->n_pidfds; i++) {
                if (vms_find(t, t->pidfds[i].pid))
                        t->pidfds[k++] = t->pidfds[i];
                else
                        sd_event_source_disable_unref(t->pidfds[i].source);
        }
        t->n_pidfds = k;

        for (size_t i = 0; i < t->n_vms; i++) {
                VhBusPidfd *n;
                bool known = false;
                int fd, r;

                for (size_t j = 0; j < t->n_pidfds && !known; j++)
                        known = t->pidfds[j].pid == t->vms[i].pid;
                if (known)
                        continue;

                fd = (int) syscall(SYS_pidfd_open, t->vms[i].pid, 0);
                if (fd < 0) {
                        if (errno == ESRCH)
                                arm_rescan(t);  /* gone already */
                        else
                                log_debug_errno(errno, "Cannot watch pid %d for its exit: %m", (int) t->vms[i].pid);
                        continue;
                }
                n = reallocarray(t->pidfds, t->n_pidfds + 1, sizeof(VhBusPidfd));
                if (!n) {
                        close(fd);
                        return;
                }
                t->pidfds = n;
                n = &t->pidfds[t->n_pidfds];
                n->pid = t->vms[i].pid;
                r = sd_event_add_io(d->event, &n->source, fd, EPOLLIN, on_pidfd, t);
                if (r < 0) {
                        close(fd);
                        log_debug_errno(r, "Cannot watch pid %d for its exit: %m", (int) t->vms[i].pid);
                        continue;
                }
                (void) sd_event_source_set_io_fd_own(n->source, true);
                t->n_pidfds++;
        }
}

static int rescan(VhBusVms *t) {
        VhVm *new = NULL;
        size_t n_new = 0;
        uint64_t start = now_usec();
        int r;

        r = vh_vms_scan(t->daemon->fs, &new, &n_new);
        if (r < 0)
                return log_warning_errno(r, "Cannot scan for VMs and VFIO holders: %m");
        t->n_scans++;
        log_debug("Scan %" PRIu64 " of VMs and VFIO holders (%" PRIu64 " events so far): %zu found, %.2f ms.",
                  t->n_scans, t->n_events, n_new, (double) (now_usec() - start) / 1000.0);
        r = swap_and_emit(t, new, n_new);
        sync_pidfds(t);
        return r;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) rescan(userdata);
        return 0;
}

static void arm_rescan(VhBusVms *t) {
        int r;

        t->n_events++;
        /* The first event of a burst arms the timer, later ones ride on
         * it: a bounded delay that a steady stream cannot postpone. */
        if (!t->rescan_timer || sd_event_source_get_enabled(t->rescan_timer, NULL) > 0)
                return;
        r = sd_event_source_set_time_relative(t->rescan_timer, RESCAN_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(t->rescan_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Cannot arm the VM rescan timer: %m");
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        /* Exited: the next scan drops it, and its pidfd with it. */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        arm_rescan(userdata);
        return 0;
}

static void watch(VhBusVms *t, uint32_t mask, int *ret_wd, const char *relative) {
        _cleanup_free_ char *path = NULL;
        int wd;

        path = vh_hostfs_path(t->daemon->fs, relative, NULL);
        if (!path)
                return;
        wd = inotify_add_watch(t->inotify_fd, path, mask);
        if (wd < 0 && errno != ENOENT)
                log_debug_errno(errno, "Cannot watch %s: %m", path);
        if (ret_wd)
                *ret_wd = wd;
}

static void watch_in(VhBusVms *t, const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL;

        path = vh_hostfs_path(t->daemon->fs, dir, name, NULL);
        if (path && inotify_add_watch(t->inotify_fd, path, NODE_EVENTS) < 0 && errno != ENOENT)
                log_debug_errno(errno, "Cannot watch %s: %m", path);
}

/* Every node there is now; adding a watch again is harmless (the same
 * inode gives the same descriptor). */
static void watch_nodes(VhBusVms *t) {
        _cleanup_strv_free_ char **groups = NULL, **devices = NULL;
        const VhHostFs *fs = t->daemon->fs;

        watch(t, DIR_EVENTS, &t->dev_wd, VH_DEV);
        watch(t, NODE_EVENTS, NULL, VH_DEV_KVM);
        watch(t, NODE_EVENTS, NULL, VH_DEV_IOMMU);
        watch(t, DIR_EVENTS, &t->dir_wds[0], VH_DEV_VFIO);
        watch(t, DIR_EVENTS, &t->dir_wds[1], VH_DEV_VFIO_DEVICES);
        if (vh_hostfs_list_dir(fs, &groups, VH_DEV_VFIO, NULL) >= 0)
                STRV_FOREACH(g, groups)
                        /* the groups and the container; devices/ is a directory */
                        if (strcmp(*g, "devices") != 0)
                                watch_in(t, VH_DEV_VFIO, *g);
        if (vh_hostfs_list_dir(fs, &devices, VH_DEV_VFIO_DEVICES, NULL) >= 0)
                STRV_FOREACH(v, devices)
                        watch_in(t, VH_DEV_VFIO_DEVICES, *v);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        VhBusVms *t = userdata;
        bool rewatch = false, any = false;
        union {
                struct inotify_event ev;
                char buf[4096];
        } u;

        for (;;) {
                ssize_t n = read(fd, u.buf, sizeof(u.buf));

                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_debug_errno(errno, "Cannot read inotify events: %m");
                        break;
                }
                if (n == 0)
                        break;
                for (char *p = u.buf; p < u.buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;

                        p += sizeof(struct inotify_event) + e->len;
                        if (e->mask & IN_Q_OVERFLOW)
                                rewatch = true;
                        /* dev itself: every node the host creates; only
                         * ours count (vfio loaded after the daemon started). */
                        if (e->wd == t->dev_wd) {
                                if (e->len > 0 && (strcmp(e->name, "vfio") == 0 || strcmp(e->name, "kvm") == 0 ||
                                                   strcmp(e->name, "iommu") == 0))
                                        rewatch = true;
                                continue;
                        }
                        if ((e->wd == t->dir_wds[0] || e->wd == t->dir_wds[1]) && (e->mask & IN_CREATE))
                                rewatch = true;
                        /* A watch's end (a node removed) is no event of its own. */
                        if (!(e->mask & IN_IGNORED))
                                any = true;
                }
        }
        if (rewatch)
                watch_nodes(t);
        if (any || rewatch)
                arm_rescan(t);
        return 0;
}

int vh_bus_vms_setup(VhDaemon *d) {
        VhBusVms *t;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return log_oom();
        t->daemon = d;
        t->inotify_fd = -1;
        t->dir_wds[0] = t->dir_wds[1] = t->dev_wd = -1;
        d->vms = t;

        r = sd_event_add_time_relative(d->event, &t->rescan_timer, CLOCK_MONOTONIC, RESCAN_USEC,
                                       RESCAN_ACCURACY_USEC, on_rescan, t);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the VM rescan timer: %m");
        (void) sd_event_source_set_enabled(t->rescan_timer, SD_EVENT_OFF);

        /* Watches first, then the seed scan: a change in between is an event. */
        t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->inotify_fd < 0)
                log_warning_errno(errno, "Cannot watch the KVM and VFIO nodes, VMs are seen at start only: %m");
        else {
                watch_nodes(t);
                /* procfs sends no inotify events; a fixture's proc is a
                 * plain directory whose pids are fake (never pidfd_open
                 * them): its entries coming and going are the exits. */
                if (!vh_hostfs_is_host_root(d->fs))
                        watch(t, PROC_EVENTS, NULL, VH_PROC);
                r = sd_event_add_io(d->event, &t->inotify_source, t->inotify_fd, EPOLLIN, on_inotify, t);
                if (r < 0)
                        return log_error_errno(r, "Cannot watch the inotify descriptor: %m");
        }

        (void) rescan(t);
        return 0;
}

void vh_bus_vms_free(VhDaemon *d) {
        VhBusVms *t = d->vms;

        if (!t)
                return;
        for (size_t i = 0; i < t->n_pidfds; i++)
                sd_event_source_disable_unref(t->pidfds[i].source);
        free(t->pidfds);
        sd_event_source_disable_unref(t->inotify_source);
        sd_event_source_disable_unref(t->rescan_timer);
        if (t->inotify_fd >= 0)
                close(t->inotify_fd);
        vh_vms_free(t->vms, t->n_vms);
        free(t);
        d->vms = NULL;
}

uint64_t vh_bus_vms_scans(const VhDaemon *d) {
        return d->vms ? d->vms->n_scans : 0;
}
