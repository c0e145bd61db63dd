/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* VM names from systemd-machined (docs/vms.md, "Names"). Every call is
 * asynchronous: a slow or hung machined delays a name, never the daemon. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "vh-bus-machined.h"
#include "vh-bus-objects.h"
#include "vh-bus-vms-private.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"

#define MACHINED_NAME "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER MACHINED_NAME ".Manager"
#define MACHINED_MACHINE MACHINED_NAME ".Machine"
#define CALL_TIMEOUT_USEC (5ULL * 1000 * 1000)

typedef struct Entry {
        VhBusMachined *m;
        pid_t pid;
        uint64_t start_time_usec;       /* with pid: the process, as the scans tell them apart */
        char *machine_path;             /* machined's object, NULL when it knows none */
        char *name;                     /* its Name, when its Class is "vm" */
        sd_bus_slot *slot;              /* the call in flight */
} Entry;

struct VhBusMachined {
        VhBusVms *t;
        Entry **entries;
        size_t n_entries;
        sd_bus_slot *new_match, *removed_match;
};

static Entry *entry_free(Entry *e) {
        if (!e)
                return NULL;
        sd_bus_slot_unref(e->slot);     /* cancels the call */
        free(e->machine_path);
        free(e->name);
        free(e);
        return NULL;
}

static const VhVm *vm_of(const Entry *e) {
        const VhVm *v = vh_bus_vms_find(e->m->t, e->pid);

        return v && v->start_time_usec == e->start_time_usec ? v : NULL;
}

const char *vh_bus_machined_name(const VhBusMachined *m, const VhVm *v) {
        for (size_t i = 0; m && i < m->n_entries; i++)
                if (m->entries[i]->pid == v->pid && m->entries[i]->start_time_usec == v->start_time_usec)
                        return m->entries[i]->name;
        return NULL;
}

const char *vh_bus_vm_display_name(const VhBusVms *t, const VhVm *v) {
        return vh_bus_machined_name(t->machined, v) ?: v->name ?: strempty(v->comm);
}

/* Sets (or with name NULL drops) what machined calls the VM, and says so
 * when the VM's Name changes with it. */
static void entry_set(Entry *e, const char *machine_path, const char *name) {
        VhBusVms *t = e->m->t;
        const VhVm *v = vm_of(e);
        _cleanup_free_ char *before = NULL, *path = NULL;
        char *p = NULL, *n = NULL;
        int r;

        if ((machine_path && !(p = strdup(machine_path))) || (name && !(n = strdup(name)))) {
                free(p);
                log_oom();
                return;
        }
        if (v)
                before = strdup(vh_bus_vm_display_name(t, v));
        free(e->machine_path);
        free(e->name);
        e->machine_path = p;
        e->name = n;
        if (!v || !before || strcmp(before, vh_bus_vm_display_name(t, v)) == 0)
                return;
        log_debug("VM pid %d is %s to systemd-machined.", (int) e->pid, vh_bus_vm_display_name(t, v));
        r = vh_bus_vm_path(e->pid, &path);
        if (r >= 0)
                r = sd_bus_emit_properties_changed(t->daemon->bus, path, VH_VM_INTERFACE, "Name", NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot announce the name of VM pid %d: %m", (int) e->pid);
}

/* machined not running, or not knowing the pid: no name, no noise. */
static bool is_no_machine(const sd_bus_error *error) {
        return sd_bus_error_has_names(error, MACHINED_NAME ".NoMachineForPID", SD_BUS_ERROR_SERVICE_UNKNOWN,
                                      SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_UNKNOWN_OBJECT);
}

static int on_machine_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Entry *e = userdata;
        const sd_bus_error *error = sd_bus_message_get_error(reply);
        const char *name = NULL, *class = NULL;
        int r;

        e->slot = sd_bus_slot_unref(e->slot);
        if (error) {
                if (!is_no_machine(error))
                        log_debug("Cannot read machine %s of VM pid %d: %s", strempty(e->machine_path), (int) e->pid,
                                  error->message);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r > 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && (strcmp(key, "Name") == 0 || strcmp(key, "Class") == 0))
                        r = sd_bus_message_read(reply, "v", "s", strcmp(key, "Name") == 0 ? &name : &class);
                else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = 1;
        }
        if (r < 0) {
                log_debug_errno(r, "Cannot parse machine %s of VM pid %d: %m", strempty(e->machine_path),
                                (int) e->pid);
                return 0;
        }
        /* A container's name is not the VM's: a VMM run inside a container
         * is not the container. */
        if (name && *name && (!class || strcmp(class, "vm") == 0))
                entry_set(e, e->machine_path, name);
        return 0;
}

static int on_machine_path(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Entry *e = userdata;
        const sd_bus_error *error = sd_bus_message_get_error(reply);
        const char *path;
        int r;

        e->slot = sd_bus_slot_unref(e->slot);
        if (error) {
                if (!is_no_machine(error))
                        log_debug("Cannot ask systemd-machined about VM pid %d: %s", (int) e->pid, error->message);
                return 0;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_debug_errno(r, "Cannot parse systemd-machined's answer about VM pid %d: %m", (int) e->pid), 0;
        free(e->machine_path);
        e->machine_path = strdup(path);
        if (!e->machine_path)
                return log_oom(), 0;
        r = sd_bus_call_method_async(e->m->t->daemon->bus, &e->slot, MACHINED_NAME, path,
                                     "org.freedesktop.DBus.Properties", "GetAll", on_machine_properties, e, "s",
                                     MACHINED_MACHINE);
        if (r < 0)
                log_debug_errno(r, "Cannot read machine %s of VM pid %d: %m", path, (int) e->pid);
        return 0;
}

static void entry_ask(Entry *e) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = e->m->t->daemon->bus;
        int r;

        if (e->slot)
                return;
        r = sd_bus_message_new_method_call(bus, &call, MACHINED_NAME, MACHINED_PATH, MACHINED_MANAGER,
                                           "GetMachineByPID");
        /* A host without machined running has no names to give; starting
         * it for a question would be a side effect of listing. */
        if (r >= 0)
                r = sd_bus_message_set_auto_start(call, false);
        if (r >= 0)
                r = sd_bus_message_append(call, "u", (uint32_t) e->pid);
        if (r >= 0)
                r = sd_bus_call_async(bus, &e->slot, call, on_machine_path, e, CALL_TIMEOUT_USEC);
        if (r < 0)
                log_debug_errno(r, "Cannot ask systemd-machined about VM pid %d: %m", (int) e->pid);
}

static int on_machine_new(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        VhBusMachined *m = userdata;

        /* Which VM it is, machined says by pid only: ask again for every
         * VM it did not know. */
        for (size_t i = 0; i < m->n_entries; i++)
                if (!m->entries[i]->machine_path)
                        entry_ask(m->entries[i]);
        return 0;
}

static int on_machine_removed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        VhBusMachined *m = userdata;
        const char *name, *path;

        if (sd_bus_message_read(message, "so", &name, &path) < 0)
                return 0;
        for (size_t i = 0; i < m->n_entries; i++)
                if (m->entries[i]->machine_path && strcmp(m->entries[i]->machine_path, path) == 0)
                        entry_set(m->entries[i], NULL, NULL);
        return 0;
}

VhBusMachined *vh_bus_machined_new(VhBusVms *t) {
        _cleanup_(vh_bus_machined_freep) VhBusMachined *m = NULL;
        sd_bus *bus = t->daemon->bus;
        int r;

        if (!bus)
                return NULL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom(), NULL;
        m->t = t;
        r = sd_bus_match_signal_async(bus, &m->new_match, MACHINED_NAME, MACHINED_PATH, MACHINED_MANAGER,
                                      "MachineNew", on_machine_new, NULL, m);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &m->removed_match, MACHINED_NAME, MACHINED_PATH, MACHINED_MANAGER,
                                              "MachineRemoved", on_machine_removed, NULL, m);
        if (r < 0) {
                log_warning_errno(r, "Cannot follow systemd-machined, VMs are named by their VMM only: %m");
                return NULL;
        }
        return TAKE_PTR(m);
}

VhBusMachined *vh_bus_machined_free(VhBusMachined *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++)
                entry_free(m->entries[i]);
        free(m->entries);
        sd_bus_slot_unref(m->new_match);
        sd_bus_slot_unref(m->removed_match);
        free(m);
        return NULL;
}

void vh_bus_machined_sync(VhBusMachined *m, const VhVm *vms, size_t n) {
        size_t k = 0;

        if (!m)
                return;
        for (size_t i = 0; i < m->n_entries; i++) {
                if (vm_of(m->entries[i]))
                        m->entries[k++] = m->entries[i];
                else
                        entry_free(m->entries[i]);
        }
        m->n_entries = k;

        for (size_t i = 0; i < n; i++) {
                Entry **a, *e;
                bool known = false;

                if (!vms[i].is_vm)
                        continue;
                for (size_t j = 0; j < m->n_entries && !known; j++)
                        known = m->entries[j]->pid == vms[i].pid &&
                                m->entries[j]->start_time_usec == vms[i].start_time_usec;
                if (known)
                        continue;
                a = reallocarray(m->entries, m->n_entries + 1, sizeof(Entry *));
                e = calloc(1, sizeof(Entry));
                if (!a || !e) {
                        if (a)
                                m->entries = a;
                        free(e);
                        log_oom();
                        return;
                }
                m->entries = a;
                *e = (Entry) { .m = m, .pid = vms[i].pid, .start_time_usec = vms[i].start_time_usec };
                m->entries[m->n_entries++] = e;
                entry_ask(e);
        }
}
