/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client's only window on the host: talks to vfiohostd over D-Bus and
 * copies what it answers into plain C structs, so the verbs never touch an
 * sd_bus_message. Every function here that fails fills error with a D-Bus
 * error name and a message fit for the user (ctl_bus_error_explain()). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* One property as it came over the bus. type is the first character of
 * the variant's signature: basic types keep their value, "as"/"ao"/"ag"
 * land in strv ('a'), anything else is kept by name only ('\0'), so a
 * property added to the daemon later never breaks the client. */
typedef struct CtlProperty {
        char *name;
        char signature[8];              /* the variant's full signature, e.g. "q", "as" */
        char type;
        union {
                char *str;              /* s, o, g */
                bool b;                 /* b */
                int64_t i;              /* n, i, x */
                uint64_t u;             /* y, q, u, t */
                double d;               /* d */
                char **strv;            /* as, ao, ag */
        };
} CtlProperty;

/* One interface of one object: its properties in the daemon's order. */
typedef struct CtlObject {
        char *path;
        CtlProperty *properties;
        size_t n_properties;
        size_t n_allocated;             /* of properties */
} CtlObject;

/* What one GetManagedObjects (plus Manager1's GetAll) tells about the host.
 * devices are sorted by address, groups by id, vms and processes by pid. */
typedef struct CtlHost {
        CtlObject *manager;
        CtlObject **devices;
        size_t n_devices;
        CtlObject **groups;
        size_t n_groups;
        CtlObject **vms;                /* VirtualMachine1 */
        size_t n_vms;
        CtlObject **processes;          /* Process1: VFIO users that are no VMs */
        size_t n_processes;
} CtlHost;

CtlObject *ctl_object_free(CtlObject *o);
static inline void ctl_object_freep(CtlObject **o) {
        ctl_object_free(*o);
}
CtlHost *ctl_host_free(CtlHost *h);
static inline void ctl_host_freep(CtlHost **h) {
        ctl_host_free(*h);
}

const CtlProperty *ctl_object_get(const CtlObject *o, const char *name);
/* Typed lookups: a missing property or one of another type gives the
 * fallback ("" for strings, NULL for vectors). */
const char *ctl_object_get_string(const CtlObject *o, const char *name);
bool ctl_object_get_bool(const CtlObject *o, const char *name);
int64_t ctl_object_get_int(const CtlObject *o, const char *name, int64_t fallback);
uint64_t ctl_object_get_unsigned(const CtlObject *o, const char *name, uint64_t fallback);
char **ctl_object_get_strv(const CtlObject *o, const char *name);

/* Reads an a{sa{sv}} (InterfacesAdded's second argument) at path and
 * returns interface's properties, NULL (and 0) when it is not among them. */
int ctl_bus_read_interface(sd_bus_message *m, const char *path, const char *interface, CtlObject **ret);

/* Looks a device up by its object path or its address; NULL when absent. */
const CtlObject *ctl_host_find_device(const CtlHost *h, const char *path_or_address);

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS when set).
 * interactive: whether the daemon may let polkit ask for a password. */
int ctl_bus_connect(bool interactive, sd_bus **ret, sd_bus_error *error);

/* Everything the daemon exports, in two calls. */
int ctl_bus_get_host(sd_bus *bus, CtlHost **ret, sd_bus_error *error);

/* The devices alone, with the Device1 properties named (NULL or empty:
 * all of them), by Manager1.ListDevices: one column per property, far
 * cheaper than GetManagedObjects on a large host (docs/performance.md).
 * Only devices is filled. */
int ctl_bus_list_devices(sd_bus *bus, char * const *properties, CtlHost **ret, sd_bus_error *error);

/* One device, looked up by the daemon (Manager1.GetDevice, which validates
 * the address) and read with GetAll. */
int ctl_bus_get_device(sd_bus *bus, const char *address, CtlObject **ret, sd_bus_error *error);

/* A device by the object path a signal named (GetAll). */
int ctl_bus_get_device_by_path(sd_bus *bus, const char *path, CtlObject **ret, sd_bus_error *error);

/* "01:00.0" → "0000:01:00.0"; anything else copied unchanged (the daemon
 * validates). NULL when out of memory. */
char *ctl_address_expand(const char *s);

/* Manager1.Bind and Manager1.Unbind. Binding waits for drivers to let go
 * and, with interaction allowed, for a person to type a password: far
 * longer than sd-bus's default of 25 s. */
#define CTL_BIND_TIMEOUT_USEC (120ULL * 1000 * 1000)

typedef enum CtlBindVerb {
        CTL_BIND_VERB_BIND,
        CTL_BIND_VERB_UNBIND,
        CTL_BIND_VERB_PERSIST,          /* Manager1.SetPersistent: a bind, then saved */
        CTL_BIND_VERB_SET_VF_COUNT,     /* Manager1.SetVfCount */
} CtlBindVerb;

typedef struct CtlBindRequest {
        CtlBindVerb verb;
        const char *address;            /* DDDD:BB:DD.F, see ctl_address_expand() */
        const char *typed;              /* as the user typed it ("01:00.0"); NULL: the same */
        bool group;                     /* options, as in dbus/org.vfiohost.xml */
        bool force;
        bool dry_run;
        const char *name;               /* persist: the assignment's name; NULL for none */
        const char *driver;             /* bind, persist: the VFIO driver; NULL: vfio-pci;
                                         * set-vf-count: the new VFs' driver; NULL: autoprobe */
        unsigned vf_count;              /* set-vf-count; persist: > 0 for a PF's VF count ("vfs") */
        bool interactive;               /* whether a password could be asked for; for messages */
} CtlBindRequest;

/* What Bind/Unbind answered (SetVfCount: its "vfs" as devices): result holds the top-level entries ("group",
 * "dry-run", "forced", and any a newer daemon adds) under their bus names,
 * devices one object per "devices" entry ("address", "previous-driver",
 * "driver", "vfio-group-path", "vfio-device-path", "changed") in the
 * daemon's order. */
typedef struct CtlBindResult {
        CtlObject *result;
        CtlObject **devices;
        size_t n_devices;
        CtlObject *assignment;          /* persist: the saved assignment, as ListPersistent's entries */
} CtlBindResult;

/* VirtualMachine1.GetVcpus of the VM at path: one object per vCPU, with
 * the keys the daemon sent ("index", "tid", "last-cpu", ...). */
int ctl_bus_get_vcpus(sd_bus *bus, const char *path, CtlObject ***ret, size_t *ret_n, sd_bus_error *error);

/* Manager1.ClearPersistent. */
int ctl_bus_clear_persistent(sd_bus *bus, const char *address_or_name, bool interactive, sd_bus_error *error);

/* Manager1.ListPersistent: one object per assignment, with whatever keys
 * the daemon sent ("address", "name", "state", "reason", ...). */
int ctl_bus_list_persistent(sd_bus *bus, CtlObject ***ret, size_t *ret_n, sd_bus_error *error);
void ctl_object_array_free(CtlObject **a, size_t n);

CtlBindResult *ctl_bind_result_free(CtlBindResult *r);
static inline void ctl_bind_result_freep(CtlBindResult **r) {
        ctl_bind_result_free(*r);
}

/* Makes the call with CTL_BIND_TIMEOUT_USEC. Refusals keep the daemon's
 * error name; AccessDenied and InteractiveAuthorizationRequired name the
 * polkit action and say what to do. */
int ctl_bus_bind(sd_bus *bus, const CtlBindRequest *req, CtlBindResult **ret, sd_bus_error *error);

/* What Manager1.GetReadiness answered: the verdict ("ready", "not-ready")
 * and one object per check, in the daemon's report order, holding whatever
 * keys it sent ("id", "category", "result", "summary", "detail",
 * "remedy", "source", and any a newer daemon adds). */
typedef struct CtlReadiness {
        char *verdict;
        CtlObject **checks;
        size_t n_checks;
} CtlReadiness;

CtlReadiness *ctl_readiness_free(CtlReadiness *r);
static inline void ctl_readiness_freep(CtlReadiness **r) {
        ctl_readiness_free(*r);
}

/* Manager1.GetReadiness; device (DDDD:BB:DD.F, see ctl_address_expand())
 * adds that function's checks, NULL runs the host checks only. */
int ctl_bus_get_readiness(sd_bus *bus, const char *device, CtlReadiness **ret, sd_bus_error *error);

/* What Manager1.GetStaticSetup answered: result holds the top-level
 * entries ("kernel-command-line", "modprobe-d", "initramfs-tools-modules",
 * "dracut-conf", "devices", "notes", and any a newer daemon adds) under
 * their bus names, parameters one object per "kernel-parameters" entry
 * ("parameter", "reason"), in command-line order. */
typedef struct CtlStaticSetup {
        CtlObject *result;
        CtlObject **parameters;
        size_t n_parameters;
} CtlStaticSetup;

CtlStaticSetup *ctl_static_setup_free(CtlStaticSetup *s);
static inline void ctl_static_setup_freep(CtlStaticSetup **s) {
        ctl_static_setup_free(*s);
}

typedef struct CtlStaticSetupRequest {
        char **devices;                 /* addresses (see ctl_address_expand()) or names; NULL: the persisted ones */
        const char *hugepages;          /* "SIZE:COUNT"; NULL: none */
        const char *isolate_cpus;       /* a CPU list; NULL: none */
} CtlStaticSetupRequest;

/* Manager1.GetStaticSetup. */
int ctl_bus_get_static_setup(sd_bus *bus, const CtlStaticSetupRequest *req, CtlStaticSetup **ret,
                             sd_bus_error *error);

/* Rewrites a failed call's error (or a bare errno r when error is unset)
 * into a message that says what went wrong and what to do, keeping the
 * error name. action completes "failed to ...". Returns r. */
int ctl_bus_error_explain(sd_bus_error *error, int r, const char *action);
