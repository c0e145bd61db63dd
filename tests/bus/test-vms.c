/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VMs and other VFIO holders on the bus (service/bus/vh-bus-vms.c,
 * docs/vms.md "On the bus"), on copies of the fixture hosts:
 *
 *  /vms/managed-objects   desktop-vfio-bound's QEMU "win11" (pid 3456, the
 *                         legacy group 2) in GetManagedObjects with every
 *                         property; the only holder there
 *  /vms/paths             other spellings of a VM's path are UnknownObject
 *  /vms/held-by           Device1.HeldBy of 01:00.0 and 01:00.1 and
 *                         Group1.HeldBy of group 2 name it, others none
 *  /vms/get-vcpus         its four vCPUs with the fixture's values; a VM
 *                         whose threads are gone is NotFound, "exited"
 *  /vms/exit              proc/3456 removed: InterfacesRemoved and
 *                         HeldBy=[] within 1 s
 *  /vms/new-holder        proc/7000 holding /dev/vfio/2 and an open+close
 *                         of the node: a Process1 appears, HeldBy has it
 *  /vms/idle              one scan at start, none while nothing happens,
 *                         one per burst of events
 *  /vms/changed           a vCPU more: PropertiesChanged Vcpus; another
 *                         start time: removed and added again
 *  /vms/late-vfio         dev/vfio and its nodes created after the start
 *                         are watched as they come
 *  /vms/iommufd           server-variant's Cloud Hypervisor (pid 4810)
 *                         holds 0000:3b:02.1 through iommufd
 *  /vms/machined          systemd-machined (a dbusmock template) names the
 *                         VM: its name wins over QEMU's, goes with
 *                         MachineRemoved, comes with MachineNew; a
 *                         container's name is not the VM's; an InUse
 *                         refusal names the VM by it
 *  /vms/machined-absent   no machined running: "win11", and machined is
 *                         not bus-activated to ask
 *  /vms/ctl/...           vfiohostctl vms and vm, as JSON and as text;
 *                         monitor --json's process-added/-removed and
 *                         vm-removed events */

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-dbusmock.h"
#include "vh-test-ctl.h"
#include "vh-test-signals.h"

#define QEMU_PATH VH_VM_PATH_PREFIX "/3456"
#define GROUP2_PATH VH_GROUP_PATH_PREFIX "/2"
#define ERROR_NOT_FOUND "org.vfiohost.Error.NotFound"

typedef struct {
        VhTestBus *bus;
        char *root;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data) {
        vh_test_bus_fixture_start(&fx->bus, &fx->root, data, VH_TEST_ROOT_COPY);
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        vh_test_bus_fixture_stop(&fx->bus, &fx->root);
}

#define SKIP_UNLESS_READY(fx) do { if (!(fx)->root) return; } while (0)

static char *device_path(const char *address) {
        return vh_test_path_encode(VH_DEVICE_PATH_PREFIX, address);
}

/* "a b c" of an ao or as, "" when empty. */
static char *join_strv(GVariant *v) {
        g_autofree const char **l = g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH_ARRAY) ?
                                    g_variant_get_objv(v, NULL) : g_variant_get_strv(v, NULL);

        return g_strjoinv(" ", (char **) l);
}

static char *held_by(Fixture *fx, const char *path, const char *interface) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, path, interface, "HeldBy", &error);

        g_assert_no_error(error);
        g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH_ARRAY));
        return join_strv(v);
}

/* The interfaces and properties of every object below /org/vfiohost. */
static GVariant *managed_objects(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                                                 "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", &error);

        g_assert_no_error(error);
        return g_variant_get_child_value(r, 0);
}

/* The paths in objects below prefix, "a b". */
static char *paths_below(GVariant *objects, const char *prefix) {
        g_autoptr(GString) s = g_string_new(NULL);
        GVariantIter it;
        const char *path;

        g_variant_iter_init(&it, objects);
        while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, NULL))
                if (g_str_has_prefix(path, prefix) && path[strlen(prefix)] == '/')
                        g_string_append_printf(s, "%s%s", s->len ? " " : "", path);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static GVariant *object_properties(GVariant *objects, const char *path, const char *interface) {
        g_autoptr(GVariant) ifaces = g_variant_lookup_value(objects, path, G_VARIANT_TYPE("a{sa{sv}}"));

        if (!ifaces)
                g_error("%s is not in GetManagedObjects", path);
        return g_variant_lookup_value(ifaces, interface, G_VARIANT_TYPE_VARDICT);
}

static void test_managed_objects(Fixture *fx, gconstpointer data) {
        g_autoptr(GVariant) objects = NULL, props = NULL, v = NULL;
        g_autofree char *vms = NULL, *processes = NULL, *s = NULL;
        guint64 t;
        guint32 u;

        SKIP_UNLESS_READY(fx);
        objects = managed_objects(fx);
        vms = paths_below(objects, VH_VM_PATH_PREFIX);
        processes = paths_below(objects, VH_PROCESS_PATH_PREFIX);
        g_assert_cmpstr(vms, ==, QEMU_PATH);
        g_assert_cmpstr(processes, ==, "");

        props = object_properties(objects, QEMU_PATH, VH_VM_INTERFACE);
        g_assert_nonnull(props);
        g_assert_cmpuint(g_variant_n_children(props), ==, 8);
        g_assert_true(g_variant_lookup(props, "Pid", "u", &u));
        g_assert_cmpuint(u, ==, 3456);
        g_assert_true(g_variant_lookup(props, "Name", "s", &s));
        g_assert_cmpstr(s, ==, "win11");
        g_clear_pointer(&s, g_free);
        g_assert_true(g_variant_lookup(props, "Vmm", "s", &s));
        g_assert_cmpstr(s, ==, "qemu");
        g_clear_pointer(&s, g_free);
        /* btime 1718030000 + starttime 165012 ticks of 10 ms */
        g_assert_true(g_variant_lookup(props, "StartTime", "t", &t));
        g_assert_cmpuint(t, ==, G_GUINT64_CONSTANT(1718031650120000));
        g_assert_true(g_variant_lookup(props, "Vcpus", "u", &u));
        g_assert_cmpuint(u, ==, 4);
        /* the legacy group path on Linux 6.8: no device fd names its device */
        v = g_variant_lookup_value(props, "Devices", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);
        g_assert_nonnull(v);
        s = join_strv(v);
        g_assert_cmpstr(s, ==, "");
        g_clear_pointer(&s, g_free);
        g_clear_pointer(&v, g_variant_unref);
        v = g_variant_lookup_value(props, "Groups", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);
        g_assert_nonnull(v);
        s = join_strv(v);
        g_assert_cmpstr(s, ==, GROUP2_PATH);
        g_clear_pointer(&s, g_free);
        /* VmRSS 812344 kB + HugetlbPages 16777216 kB */
        g_assert_true(g_variant_lookup(props, "MemoryBytes", "t", &t));
        g_assert_cmpuint(t, ==, (G_GUINT64_CONSTANT(812344) + 16777216) * 1024);

        /* A VM is no Process1. */
        g_clear_pointer(&props, g_variant_unref);
        props = object_properties(objects, QEMU_PATH, VH_PROCESS_INTERFACE);
        g_assert_null(props);

        /* HeldBy is in the devices' and groups' properties too. */
        {
                g_autofree char *dev = device_path("0000:01:00.0");
                g_autoptr(GVariant) dp = object_properties(objects, dev, VH_DEVICE_INTERFACE);
                g_autoptr(GVariant) h = g_variant_lookup_value(dp, "HeldBy", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);
                g_autofree char *hs = NULL;

                g_assert_nonnull(h);
                hs = join_strv(h);
                g_assert_cmpstr(hs, ==, QEMU_PATH);
        }
}

/* One path per object: other spellings of the pid, and the VM under
 * the other prefix, are no objects. */
static void test_paths(Fixture *fx, gconstpointer data) {
        static const char *const nowhere[] = {
                VH_VM_PATH_PREFIX "/03456", VH_VM_PATH_PREFIX "/0", VH_VM_PATH_PREFIX "/3456x",
                VH_VM_PATH_PREFIX "/4294970752", VH_PROCESS_PATH_PREFIX "/3456", VH_VM_PATH_PREFIX "/3457",
        };

        SKIP_UNLESS_READY(fx);
        for (gsize i = 0; i < G_N_ELEMENTS(nowhere); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, nowhere[i], VH_VM_INTERFACE, "Pid", &error);
                g_autofree char *remote = NULL;

                g_assert_null(v);
                g_assert_nonnull(error);
                remote = g_dbus_error_get_remote_error(error);
                g_test_message("%s: %s", nowhere[i], remote);
                g_assert_cmpstr(remote, ==, "org.freedesktop.DBus.Error.UnknownObject");
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, QEMU_PATH, VH_VM_INTERFACE, "Pid", &error);

                g_assert_no_error(error);
                g_assert_cmpuint(g_variant_get_uint32(v), ==, 3456);
        }
}

static void test_held_by(Fixture *fx, gconstpointer data) {
        g_autofree char *gpu = device_path("0000:01:00.0"), *audio = device_path("0000:01:00.1");
        g_autofree char *igpu = device_path("0000:00:02.0");
        g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        SKIP_UNLESS_READY(fx);
        a = held_by(fx, gpu, VH_DEVICE_INTERFACE);
        b = held_by(fx, audio, VH_DEVICE_INTERFACE);
        c = held_by(fx, GROUP2_PATH, VH_GROUP_INTERFACE);
        d = held_by(fx, igpu, VH_DEVICE_INTERFACE);
        /* the group fd holds the group and every member */
        g_assert_cmpstr(a, ==, QEMU_PATH);
        g_assert_cmpstr(b, ==, QEMU_PATH);
        g_assert_cmpstr(c, ==, QEMU_PATH);
        /* the host's own GPU: nobody */
        g_assert_cmpstr(d, ==, "");
}

typedef struct {
        int index;
        guint32 tid;
        const char *name, *state;
        int last_cpu;
        guint64 cpu_usec, guest_usec;
        const char *allowed;
        gboolean pinned;
        guint64 run_ns, wait_ns, slices;
} ExpectedVcpu;

/* proc/3456/task/TID: pinned to CPUs 2 and 3 (<vcpupin>), 2 and 3 on any
 * of the 24; times are ticks of 10 ms (tests/unit/test-vcpus.c). */
static const ExpectedVcpu qemu_vcpus[] = {
        { 0, 3460, "CPU 0/KVM", "R", 2, 483300000, 448900000, "2", TRUE, 483312345678, 1208334455, 3190233 },
        { 1, 3461, "CPU 1/KVM", "S", 3, 417310000, 386020000, "3", TRUE, 417330021877, 1190223401, 2870455 },
        { 2, 3462, "CPU 2/KVM", "S", 9, 314150000, 287900000, "0-23", FALSE, 314170554120, 9021334880, 2301887 },
        { 3, 3463, "CPU 3/KVM", "S", 14, 298390000, 273010000, "0-23", FALSE, 298412007733, 8804112093, 2199340 },
};

static void test_get_vcpus(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL, list = NULL;

        SKIP_UNLESS_READY(fx);
        r = vh_test_bus_call(fx->bus, QEMU_PATH, VH_VM_INTERFACE, "GetVcpus", NULL, "(aa{sv})", &error);
        g_assert_no_error(error);
        list = g_variant_get_child_value(r, 0);
        g_assert_cmpuint(g_variant_n_children(list), ==, G_N_ELEMENTS(qemu_vcpus));
        for (gsize i = 0; i < G_N_ELEMENTS(qemu_vcpus); i++) {
                const ExpectedVcpu *e = &qemu_vcpus[i];
                g_autoptr(GVariant) c = g_variant_get_child_value(list, i);
                const char *name = NULL, *state = NULL, *allowed = NULL;
                gint32 index = -1, last_cpu = -1;
                guint32 tid = 0;
                guint64 cpu = 0, guest = 0, run = 0, wait = 0, slices = 0;
                gboolean pinned = !e->pinned;

                g_assert_cmpuint(g_variant_n_children(c), ==, 12);
                g_assert_true(g_variant_lookup(c, "index", "i", &index));
                g_assert_true(g_variant_lookup(c, "tid", "u", &tid));
                g_assert_true(g_variant_lookup(c, "thread-name", "&s", &name));
                g_assert_true(g_variant_lookup(c, "state", "&s", &state));
                g_assert_true(g_variant_lookup(c, "last-cpu", "i", &last_cpu));
                g_assert_true(g_variant_lookup(c, "cpu-time-usec", "t", &cpu));
                g_assert_true(g_variant_lookup(c, "guest-time-usec", "t", &guest));
                g_assert_true(g_variant_lookup(c, "allowed-cpus", "&s", &allowed));
                g_assert_true(g_variant_lookup(c, "pinned", "b", &pinned));
                g_assert_true(g_variant_lookup(c, "run-time-nsec", "t", &run));
                g_assert_true(g_variant_lookup(c, "wait-time-nsec", "t", &wait));
                g_assert_true(g_variant_lookup(c, "timeslices", "t", &slices));
                g_assert_cmpint(index, ==, e->index);
                g_assert_cmpuint(tid, ==, e->tid);
                g_assert_cmpstr(name, ==, e->name);
                g_assert_cmpstr(state, ==, e->state);
                g_assert_cmpint(last_cpu, ==, e->last_cpu);
                g_assert_cmpuint(cpu, ==, e->cpu_usec);
                g_assert_cmpuint(guest, ==, e->guest_usec);
                g_assert_cmpstr(allowed, ==, e->allowed);
                g_assert_cmpint(pinned, ==, e->pinned);
                g_assert_cmpuint(run, ==, e->run_ns);
                g_assert_cmpuint(wait, ==, e->wait_ns);
                g_assert_cmpuint(slices, ==, e->slices);
        }

        /* The threads gone, the object not yet (no event for task/): the
         * VM has exited, says NotFound. */
        {
                g_autofree char *task = g_build_filename(fx->root, "proc", "3456", "task", NULL);
                g_autoptr(GVariant) again = NULL;
                g_autoptr(GError) gone = NULL;
                g_autofree char *remote = NULL;

                g_assert_cmpint(vh_test_rm_rf(task), ==, 0);
                again = vh_test_bus_call(fx->bus, QEMU_PATH, VH_VM_INTERFACE, "GetVcpus", NULL, "(aa{sv})", &gone);
                g_assert_null(again);
                g_assert_nonnull(gone);
                remote = g_dbus_error_get_remote_error(gone);
                g_assert_cmpstr(remote, ==, ERROR_NOT_FOUND);
                g_assert_nonnull(strstr(gone->message, "exited"));
                g_assert_nonnull(strstr(gone->message, "3456"));
        }
}

/* The HeldBy values the daemon signals, by path (the last one). */
typedef struct {
        GDBusConnection *conn;
        guint id;
        GHashTable *held_by;            /* path → "a b" */
} HeldByLog;

static void on_properties_changed(GDBusConnection *conn, const char *sender, const char *path, const char *interface,
                                  const char *member, GVariant *params, gpointer userdata) {
        HeldByLog *log = userdata;
        g_autoptr(GVariant) changed = NULL, v = NULL;
        const char *iface;

        g_variant_get(params, "(&s@a{sv}@as)", &iface, &changed, NULL);
        v = g_variant_lookup_value(changed, "HeldBy", G_VARIANT_TYPE_OBJECT_PATH_ARRAY);
        if (v)
                g_hash_table_insert(log->held_by, g_strdup(path), join_strv(v));
}

static HeldByLog *held_by_log_new(Fixture *fx) {
        HeldByLog *log = g_new0(HeldByLog, 1);

        log->conn = vh_test_bus_connection(fx->bus);
        log->held_by = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        log->id = g_dbus_connection_signal_subscribe(log->conn, NULL, "org.freedesktop.DBus.Properties",
                                                     "PropertiesChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_properties_changed, log, NULL);
        return log;
}

static void held_by_log_free(HeldByLog *log) {
        g_dbus_connection_signal_unsubscribe(log->conn, log->id);
        g_hash_table_unref(log->held_by);
        g_free(log);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HeldByLog, held_by_log_free)

/* Dispatches until path was signalled with HeldBy = want; FALSE on timeout. */
static gboolean held_by_log_wait(HeldByLog *log, const char *path, const char *want, double timeout_s) {
        gint64 end = g_get_monotonic_time() + (gint64) (timeout_s * vh_test_timeout_multiplier() * G_USEC_PER_SEC);

        while (g_get_monotonic_time() < end) {
                const char *got = g_hash_table_lookup(log->held_by, path);

                if (got && strcmp(got, want) == 0)
                        return TRUE;
                g_main_context_iteration(NULL, FALSE);
                g_usleep(2000);
        }
        g_test_message("%s: HeldBy '%s' was never signalled (last: '%s')", path, want,
                       (const char *) g_hash_table_lookup(log->held_by, path));
        return FALSE;
}

static void test_exit(Fixture *fx, gconstpointer data) {
        g_autofree char *proc = NULL, *gpu = device_path("0000:01:00.0"), *audio = device_path("0000:01:00.1");
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autoptr(HeldByLog) held = NULL;
        g_autoptr(GVariant) objects = NULL;
        g_autofree char *vms = NULL, *h = NULL;

        SKIP_UNLESS_READY(fx);
        log = vh_test_signal_log_new(fx->bus);
        held = held_by_log_new(fx);
        proc = g_build_filename(fx->root, "proc", "3456", NULL);
        g_assert_cmpint(vh_test_rm_rf(proc), ==, 0);

        g_assert_true(vh_test_signal_log_wait(log, "InterfacesRemoved " QEMU_PATH, 1, 1));
        g_assert_true(held_by_log_wait(held, GROUP2_PATH, "", 1));
        g_assert_true(held_by_log_wait(held, gpu, "", 1));
        g_assert_true(held_by_log_wait(held, audio, "", 1));
        /* nothing else was added */
        g_assert_cmpuint(vh_test_signal_log_count_prefix(log, "InterfacesAdded "), ==, 0);

        objects = managed_objects(fx);
        vms = paths_below(objects, VH_VM_PATH_PREFIX);
        g_assert_cmpstr(vms, ==, "");
        h = held_by(fx, GROUP2_PATH, VH_GROUP_INTERFACE);
        g_assert_cmpstr(h, ==, "");
}

static void write_file(const char *root, const char *relative, const char *content) {
        g_autofree char *path = g_build_filename(root, relative, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
}

/* A DPDK-like process holding group 2 beside the QEMU (the formats of
 * tests/data/make-host-trees.py). */
static void make_holder(const char *root) {
        g_autofree char *fd = g_build_filename(root, "proc/7000/fd/20", NULL);
        g_autofree char *fd_dir = g_path_get_dirname(fd);

        write_file(root, "proc/7000/comm", "vfio-test\n");
        write_file(root, "proc/7000/cmdline", "/usr/bin/vfio-test");
        write_file(root, "proc/7000/stat",
                   "7000 (vfio-test) S 1 7000 7000 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 170000 "
                   "10000000 1000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 4 0 0 0 0 0\n");
        write_file(root, "proc/7000/status", "Name:\tvfio-test\nPid:\t7000\nVmRSS:\t    4096 kB\n");
        g_assert_cmpint(g_mkdir_with_parents(fd_dir, 0755), ==, 0);
        g_assert_cmpint(symlink("/dev/vfio/2", fd), ==, 0);
}

/* What a process opening the group does to the node: IN_OPEN, IN_CLOSE. */
static void touch_node(const char *root, const char *relative) {
        g_autofree char *path = g_build_filename(root, relative, NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(close(fd), ==, 0);
}

static void test_new_holder(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autoptr(HeldByLog) held = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) pid = NULL, command = NULL, groups = NULL, iface = NULL;
        g_autofree char *gpu = device_path("0000:01:00.0"), *g = NULL, *h = NULL;
        const char *want = QEMU_PATH " " VH_PROCESS_PATH_PREFIX "/7000";

        SKIP_UNLESS_READY(fx);
        log = vh_test_signal_log_new(fx->bus);
        held = held_by_log_new(fx);
        make_holder(fx->root);
        touch_node(fx->root, "dev/vfio/2");

        g_assert_true(vh_test_signal_log_wait(log, "InterfacesAdded " VH_PROCESS_PATH_PREFIX "/7000", 1, 1));
        g_assert_true(held_by_log_wait(held, GROUP2_PATH, want, 1));
        g_assert_true(held_by_log_wait(held, gpu, want, 1));
        /* no /dev/kvm: not a VM */
        g_assert_cmpuint(vh_test_signal_log_count(log, "InterfacesAdded " VH_VM_PATH_PREFIX "/7000"), ==, 0);
        g_assert_cmpuint(vh_test_signal_log_count_prefix(log, "InterfacesRemoved "), ==, 0);

        pid = vh_test_bus_get_property(fx->bus, VH_PROCESS_PATH_PREFIX "/7000", VH_PROCESS_INTERFACE, "Pid", &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_variant_get_uint32(pid), ==, 7000);
        command = vh_test_bus_get_property(fx->bus, VH_PROCESS_PATH_PREFIX "/7000", VH_PROCESS_INTERFACE, "Command",
                                           &error);
        g_assert_no_error(error);
        g_assert_cmpstr(g_variant_get_string(command, NULL), ==, "vfio-test");
        groups = vh_test_bus_get_property(fx->bus, VH_PROCESS_PATH_PREFIX "/7000", VH_PROCESS_INTERFACE, "Groups",
                                          &error);
        g_assert_no_error(error);
        g = join_strv(groups);
        g_assert_cmpstr(g, ==, GROUP2_PATH);
        h = held_by(fx, GROUP2_PATH, VH_GROUP_INTERFACE);
        g_assert_cmpstr(h, ==, want);
        /* the VM's interface is not on it */
        iface = vh_test_bus_get_property(fx->bus, VH_PROCESS_PATH_PREFIX "/7000", VH_VM_INTERFACE, "Pid", &error);
        g_assert_null(iface);
        g_assert_nonnull(error);
}

static guint count_scans(Fixture *fx) {
        g_autofree char *text = NULL;
        guint n = 0;

        g_assert_true(g_file_get_contents(fx->bus->log_path, &text, NULL, NULL));
        for (const char *p = text; (p = strstr(p, " of VMs and VFIO holders (")); p++)
                n++;
        return n;
}

static void test_idle(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestSignalLog) log = NULL;
        guint before;

        SKIP_UNLESS_READY(fx);
        /* Calls are no events. */
        g_free(held_by(fx, GROUP2_PATH, VH_GROUP_INTERFACE));
        g_usleep((gulong) (300000 * vh_test_timeout_multiplier()));
        before = count_scans(fx);
        g_assert_cmpuint(before, >=, 1);
        g_usleep((gulong) (300000 * vh_test_timeout_multiplier()));
        g_assert_cmpuint(count_scans(fx), ==, before);

        /* A burst of opens is one scan. */
        log = vh_test_signal_log_new(fx->bus);
        for (int i = 0; i < 5; i++)
                touch_node(fx->root, "dev/vfio/2");
        touch_node(fx->root, "dev/kvm");
        g_usleep((gulong) (400000 * vh_test_timeout_multiplier()));
        g_assert_cmpuint(count_scans(fx), ==, before + 1);
        /* nothing changed: nothing emitted */
        g_main_context_iteration(NULL, FALSE);
        g_assert_cmpuint(vh_test_signal_log_count_prefix(log, "Interfaces"), ==, 0);
}

/* A VM that changes what it holds is the same object, changed; a pid
 * that starts at another time is another process. */
static void test_changed(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) vcpus = NULL;
        g_autofree char *fd = NULL, *stat_path = NULL, *stat = NULL, *restarted = NULL;

        SKIP_UNLESS_READY(fx);
        log = vh_test_signal_log_new(fx->bus);
        fd = g_build_filename(fx->root, "proc/3456/fd/35", NULL);
        g_assert_cmpint(symlink("anon_inode:kvm-vcpu:4", fd), ==, 0);
        touch_node(fx->root, "dev/kvm");
        g_assert_true(vh_test_signal_log_wait(log, "PropertiesChanged " QEMU_PATH " VirtualMachine1 Vcpus", 1, 1));
        g_assert_cmpuint(vh_test_signal_log_count_prefix(log, "Interfaces"), ==, 0);
        /* what it holds did not change: HeldBy is not signalled */
        g_assert_cmpuint(vh_test_signal_log_count_prefix(log, "PropertiesChanged " GROUP2_PATH), ==, 0);
        vcpus = vh_test_bus_get_property(fx->bus, QEMU_PATH, VH_VM_INTERFACE, "Vcpus", &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_variant_get_uint32(vcpus), ==, 5);

        /* starttime (field 22) 165012 → 175012: another process with pid 3456 */
        stat_path = g_build_filename(fx->root, "proc/3456/stat", NULL);
        g_assert_true(g_file_get_contents(stat_path, &stat, NULL, NULL));
        g_assert_nonnull(strstr(stat, " 165012 "));
        restarted = g_strdup(stat);
        memcpy(strstr(restarted, " 165012 "), " 175012 ", strlen(" 175012 "));
        g_assert_true(g_file_set_contents(stat_path, restarted, -1, NULL));
        touch_node(fx->root, "dev/vfio/2");
        g_assert_true(vh_test_signal_log_wait(log, "InterfacesRemoved " QEMU_PATH, 1, 1));
        g_assert_true(vh_test_signal_log_wait(log, "InterfacesAdded " QEMU_PATH, 1, 1));
}

/* Waits long enough for a scan an event set off (50 ms later) to be logged. */
static guint scans_after_settling(Fixture *fx) {
        g_usleep((gulong) (400000 * vh_test_timeout_multiplier()));
        return count_scans(fx);
}

/* vfio loaded after the daemon started: dev/vfio, then its nodes, appear
 * and are watched as they come. */
static void test_late_vfio(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autofree char *root = NULL, *vfio = NULL, *off = NULL, *node = NULL;
        Fixture fx = {};
        guint n;

        if (!vh_test_bus_requirements())
                return;
        bus = vh_test_bus_new();
        root = vh_test_bus_copy_host(bus, "desktop-vfio-bound");
        if (!root)
                return;
        vfio = g_build_filename(root, "dev", "vfio", NULL);
        off = g_build_filename(root, "dev", "vfio.off", NULL);
        g_assert_cmpint(rename(vfio, off), ==, 0);
        vh_test_bus_start_daemon(bus, root);
        fx.bus = bus;
        fx.root = root;

        n = scans_after_settling(&fx);
        g_assert_cmpint(mkdir(vfio, 0755), ==, 0);
        g_assert_cmpuint(scans_after_settling(&fx), ==, n + 1);
        node = g_build_filename(vfio, "2", NULL);
        g_assert_true(g_file_set_contents(node, "", 0, NULL));
        g_assert_cmpuint(scans_after_settling(&fx), ==, n + 2);
        touch_node(root, "dev/vfio/2");
        g_assert_cmpuint(scans_after_settling(&fx), ==, n + 3);
        /* an unrelated node in dev is no event */
        {
                g_autofree char *tty = g_build_filename(root, "dev", "ttyS9", NULL);

                g_assert_true(g_file_set_contents(tty, "", 0, NULL));
                g_assert_cmpuint(scans_after_settling(&fx), ==, n + 3);
        }
}

static void test_iommufd(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) devices = NULL, groups = NULL, name = NULL, objects = NULL;
        g_autofree char *dev = device_path("0000:3b:02.1"), *d = NULL, *g = NULL, *h = NULL, *vms = NULL;

        SKIP_UNLESS_READY(fx);
        objects = managed_objects(fx);
        vms = paths_below(objects, VH_VM_PATH_PREFIX);
        g_assert_nonnull(strstr(vms, VH_VM_PATH_PREFIX "/4810"));

        devices = vh_test_bus_get_property(fx->bus, VH_VM_PATH_PREFIX "/4810", VH_VM_INTERFACE, "Devices", &error);
        g_assert_no_error(error);
        d = join_strv(devices);
        g_assert_cmpstr(d, ==, dev);
        groups = vh_test_bus_get_property(fx->bus, VH_VM_PATH_PREFIX "/4810", VH_VM_INTERFACE, "Groups", &error);
        g_assert_no_error(error);
        g = join_strv(groups);
        g_assert_cmpstr(g, ==, "");
        /* Cloud Hypervisor takes no guest name: its command */
        name = vh_test_bus_get_property(fx->bus, VH_VM_PATH_PREFIX "/4810", VH_VM_INTERFACE, "Name", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(g_variant_get_string(name, NULL), ==, "cloud-hyperviso");

        h = held_by(fx, dev, VH_DEVICE_INTERFACE);
        g_assert_cmpstr(h, ==, VH_VM_PATH_PREFIX "/4810");
        /* a device fd holds its group too */
        {
                g_autoptr(GVariant) group = vh_test_bus_get_property(fx->bus, dev, VH_DEVICE_INTERFACE, "Group", &error);
                g_autofree char *gh = NULL;

                g_assert_no_error(error);
                gh = held_by(fx, g_variant_get_string(group, NULL), VH_GROUP_INTERFACE);
                g_assert_nonnull(strstr(gh, VH_VM_PATH_PREFIX "/4810"));
        }
}

/* ---------- vfiohostctl ---------- */

/* ---------- names from systemd-machined ---------- */

#define MACHINED "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MOCK_IFACE "org.freedesktop.DBus.Mock"

static char *vm_name(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, QEMU_PATH, VH_VM_INTERFACE, "Name", &error);

        g_assert_no_error(error);
        return g_variant_dup_string(v, NULL);
}

/* Polls Name until it is want; FALSE on timeout. */
static gboolean wait_vm_name(Fixture *fx, const char *want, double timeout_s) {
        gint64 end = g_get_monotonic_time() + (gint64) (timeout_s * vh_test_timeout_multiplier() * G_USEC_PER_SEC);
        g_autofree char *got = NULL;

        do {
                g_free(got);
                got = vm_name(fx);
                if (strcmp(got, want) == 0)
                        return TRUE;
                g_usleep(10000);
        } while (g_get_monotonic_time() < end);
        g_test_message("Name is '%s', never '%s'", got, want);
        return FALSE;
}

static void add_machine(VhTestDbusmock *m, const char *name, const char *class, guint32 leader) {
        g_autoptr(GVariant) r = vh_test_dbusmock_call(m, MACHINED_PATH, MOCK_IFACE, "AddMachine",
                                                      g_variant_new("(ssu)", name, class, leader), "(o)");
}

static void remove_machine(VhTestDbusmock *m, const char *name) {
        g_autoptr(GVariant) r = vh_test_dbusmock_call(m, MACHINED_PATH, MOCK_IFACE, "RemoveMachine",
                                                      g_variant_new("(s)", name), NULL);
}

/* GetMachineByPID calls the mock has logged. */
static guint machined_lookups(VhTestDbusmock *m) {
        g_autoptr(GVariant) calls = vh_test_dbusmock_call(m, MACHINED_PATH, MOCK_IFACE, "GetCalls", NULL,
                                                          "(a(tsav))");
        g_autoptr(GVariant) list = g_variant_get_child_value(calls, 0);
        GVariantIter it;
        const char *method;
        guint n = 0;

        g_variant_iter_init(&it, list);
        while (g_variant_iter_next(&it, "(t&s@av)", NULL, &method, NULL))
                n += strcmp(method, "GetMachineByPID") == 0;
        return n;
}

static void test_machined(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestDbusmock) machined = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autofree char *root = NULL;
        Fixture fx = {};
        gint64 end;

        if (!vh_test_dbusmock_requirements())
                return;
        bus = vh_test_bus_new();
        root = vh_test_bus_copy_host(bus, "desktop-vfio-bound");
        if (!root)
                return;
        fx.bus = bus;
        fx.root = root;
        /* libvirt's registration: qemu-<id>-<domain>, the leader its QEMU */
        machined = vh_test_dbusmock_start(bus, MACHINED, "machined");
        add_machine(machined, "qemu-1-win11", "vm", 3456);
        vh_test_bus_start_daemon(bus, root);
        log = vh_test_signal_log_new(bus);
        g_assert_true(wait_vm_name(&fx, "qemu-1-win11", 2));
        {
                /* A refusal names the VM as machined (and virsh) do. */
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "unbind", "--dry-run", "0000:01:00.0",
                                                               NULL);

                vh_test_run_assert_status(run, "vfiohostctl unbind --dry-run (held)", 1);
                g_assert_nonnull(strstr(run->out, VH_ERROR_IN_USE));
                g_assert_nonnull(strstr(run->out, "pid 3456 (qemu-system-x86, VM qemu-1-win11)"));
        }

        /* The machine goes (virsh undefine with the VM still up is not
         * possible, but machined restarts lose scopes): QEMU's name again. */
        remove_machine(machined, "qemu-1-win11");
        g_assert_true(vh_test_signal_log_wait(log, "PropertiesChanged " QEMU_PATH " VirtualMachine1 Name", 1, 2));
        g_assert_true(wait_vm_name(&fx, "win11", 0));

        /* A container whose scope holds the VMM: not the VM's name. */
        add_machine(machined, "ct-box", "container", 3456);
        end = g_get_monotonic_time() + (gint64) (2 * vh_test_timeout_multiplier() * G_USEC_PER_SEC);
        while (machined_lookups(machined) < 2 && g_get_monotonic_time() < end)
                g_usleep(10000);
        g_assert_cmpuint(machined_lookups(machined), ==, 2);
        g_usleep(300000);
        g_autofree char *name = vm_name(&fx);
        g_assert_cmpstr(name, ==, "win11");
        remove_machine(machined, "ct-box");

        /* MachineNew: the daemon asks again and renames. */
        add_machine(machined, "win11-gaming", "vm", 3456);
        g_assert_true(vh_test_signal_log_wait(log, "PropertiesChanged " QEMU_PATH " VirtualMachine1 Name", 2, 2));
        g_assert_true(wait_vm_name(&fx, "win11-gaming", 0));
}

static void test_machined_absent(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autofree char *root = NULL, *service = NULL, *marker = NULL, *content = NULL;
        g_autoptr(GError) error = NULL;
        Fixture fx = {};

        if (!vh_test_bus_requirements())
                return;
        bus = vh_test_bus_new();
        root = vh_test_bus_copy_host(bus, "desktop-vfio-bound");
        if (!root)
                return;
        fx.bus = bus;
        fx.root = root;
        /* Activatable, callable, but not running: asking must not start it. */
        vh_test_dbusmock_allow(bus, MACHINED);
        marker = g_build_filename(bus->dir, "machined-activated", NULL);
        service = g_build_filename(bus->dir, "services", "org.freedesktop.machine1.service", NULL);
        content = g_strdup_printf("[D-BUS Service]\nName=" MACHINED "\nExec=/usr/bin/touch %s\nUser=root\n", marker);
        g_file_set_contents(service, content, -1, &error);
        g_assert_no_error(error);
        vh_test_bus_start_daemon(bus, root);
        g_usleep(500000);
        g_assert_true(wait_vm_name(&fx, "win11", 0));
        g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
}

static json_object *ctl_json(Fixture *fx, const char *what, const char *const *args) {
        g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, args[0], args[1], args[2], NULL);

        vh_test_run_assert_status(run, what, 0);
        return vh_test_run_json(run, what);
}

static void test_ctl_vms_json(Fixture *fx, gconstpointer data) {
        static const char *const args[] = { "vms", "--json", NULL };
        json_object *j, *vm, *a;

        SKIP_UNLESS_READY(fx);
        j = ctl_json(fx, "vfiohostctl vms --json", args);
        g_assert_true(json_object_is_type(j, json_type_array));
        g_assert_cmpuint(json_object_array_length(j), ==, 1);
        vm = json_object_array_get_idx(j, 0);
        g_assert_cmpint(json_object_get_int64(vh_test_json_get(vm, "pid", json_type_int)), ==, 3456);
        g_assert_cmpstr(json_object_get_string(vh_test_json_get(vm, "name", json_type_string)), ==, "win11");
        g_assert_cmpstr(json_object_get_string(vh_test_json_get(vm, "vmm", json_type_string)), ==, "qemu");
        g_assert_cmpint(json_object_get_int64(vh_test_json_get(vm, "vcpus", json_type_int)), ==, 4);
        g_assert_cmpint(json_object_get_int64(vh_test_json_get(vm, "memory_bytes", json_type_int)), ==,
                        (G_GINT64_CONSTANT(812344) + 16777216) * 1024);
        g_assert_cmpint(json_object_get_int64(vh_test_json_get(vm, "start_time", json_type_int)), ==,
                        G_GINT64_CONSTANT(1718031650120000));
        a = vh_test_json_get(vm, "devices", json_type_array);
        g_assert_cmpuint(json_object_array_length(a), ==, 0);
        a = vh_test_json_get(vm, "groups", json_type_array);
        g_assert_cmpuint(json_object_array_length(a), ==, 1);
        g_assert_cmpint(json_object_get_int(json_object_array_get_idx(a, 0)), ==, 2);
        /* every member of group 2, its root port included */
        a = vh_test_json_get(vm, "held_functions", json_type_array);
        g_assert_cmpuint(json_object_array_length(a), ==, 3);
        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(a, 0)), ==, "0000:00:01.0");
        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(a, 1)), ==, "0000:01:00.0");
        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(a, 2)), ==, "0000:01:00.1");
        json_object_put(j);
}

static void test_ctl_vm_json(Fixture *fx, gconstpointer data) {
        static const char *const args[] = { "vm", "win11", "--json" };
        json_object *j, *vcpus;

        SKIP_UNLESS_READY(fx);
        j = ctl_json(fx, "vfiohostctl vm win11 --json", args);
        g_assert_cmpint(json_object_get_int64(vh_test_json_get(j, "pid", json_type_int)), ==, 3456);
        g_assert_cmpstr(json_object_get_string(vh_test_json_get(j, "name", json_type_string)), ==, "win11");
        vcpus = vh_test_json_get(j, "vcpus", json_type_array);
        g_assert_cmpuint(json_object_array_length(vcpus), ==, G_N_ELEMENTS(qemu_vcpus));
        for (gsize i = 0; i < G_N_ELEMENTS(qemu_vcpus); i++) {
                json_object *c = json_object_array_get_idx(vcpus, i);

                g_assert_cmpint(json_object_get_int(vh_test_json_get(c, "index", json_type_int)), ==, qemu_vcpus[i].index);
                g_assert_cmpint(json_object_get_int64(vh_test_json_get(c, "tid", json_type_int)), ==, qemu_vcpus[i].tid);
                g_assert_cmpint(json_object_get_int(vh_test_json_get(c, "last_cpu", json_type_int)), ==,
                                qemu_vcpus[i].last_cpu);
                g_assert_cmpstr(json_object_get_string(vh_test_json_get(c, "allowed_cpus", json_type_string)), ==,
                                qemu_vcpus[i].allowed);
                g_assert_cmpint(json_object_get_boolean(vh_test_json_get(c, "pinned", json_type_boolean)), ==,
                                qemu_vcpus[i].pinned);
                g_assert_cmpint(json_object_get_int64(vh_test_json_get(c, "cpu_time_usec", json_type_int)), ==,
                                (gint64) qemu_vcpus[i].cpu_usec);
        }
        json_object_put(j);

        /* by pid, the same VM */
        {
                static const char *const by_pid[] = { "vm", "3456", "--json" };
                json_object *k = ctl_json(fx, "vfiohostctl vm 3456 --json", by_pid);

                g_assert_cmpstr(json_object_get_string(vh_test_json_get(k, "name", json_type_string)), ==, "win11");
                json_object_put(k);
        }
        /* no such VM: NotFound's exit code */
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "vm", "win10", NULL);

                vh_test_run_assert_status(run, "vfiohostctl vm win10", 3);
                g_assert_nonnull(strstr(run->err, "win10"));
        }
}

static void test_ctl_text(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestRun) vms = NULL, vm = NULL;
        g_auto(GStrv) lines = NULL;

        SKIP_UNLESS_READY(fx);
        vms = vh_test_bus_run_ctl(fx->bus, "vms", NULL);
        vh_test_run_assert_status(vms, "vfiohostctl vms", 0);
        g_test_message("%s", vms->out);
        lines = g_strsplit(vms->out, "\n", -1);
        g_assert_true(g_regex_match_simple("^PID +NAME +VMM +VCPUS +MEMORY +DEVICES *$", lines[0], 0, 0));
        g_assert_true(g_regex_match_simple("^3456 +win11 +qemu +4 +17 GiB +0000:00:01.0, 0000:01:00.0, 0000:01:00.1 *$", lines[1], 0,
                                           0));
        g_assert_cmpstr(lines[2], ==, "");

        vm = vh_test_bus_run_ctl(fx->bus, "vm", "win11", NULL);
        vh_test_run_assert_status(vm, "vfiohostctl vm win11", 0);
        g_test_message("%s", vm->out);
        g_assert_true(g_str_has_prefix(vm->out, "win11 (pid 3456)\n"));
        g_assert_nonnull(strstr(vm->out, "  VMM: qemu\n"));
        g_assert_nonnull(strstr(vm->out, "  Devices: 0000:00:01.0, 0000:01:00.0, 0000:01:00.1\n"));
        g_assert_true(g_regex_match_simple("^VCPU +TID +CPU +STATE +ALLOWED +PINNED +CPU TIME *$", vm->out,
                                           G_REGEX_MULTILINE, 0));
        /* vCPU 0: tid 3460, last on CPU 2, running, pinned to 2, 483.3 s */
        g_assert_true(g_regex_match_simple("^0 +3460 +2 +R +2 +yes +483\\.3 s *$", vm->out, G_REGEX_MULTILINE, 0));
        g_assert_true(g_regex_match_simple("^3 +3463 +14 +S +0-23 +no +298\\.4 s *$", vm->out, G_REGEX_MULTILINE, 0));
}

/* server-sriov-vfs: no VM, dpdk-testpmd holding group 26. */
static void test_ctl_processes(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestRun) run = NULL;
        static const char *const args[] = { "vms", "--json", NULL };
        json_object *j;

        SKIP_UNLESS_READY(fx);
        run = vh_test_bus_run_ctl(fx->bus, "vms", NULL);
        vh_test_run_assert_status(run, "vfiohostctl vms", 0);
        g_test_message("%s", run->out);
        g_assert_true(g_str_has_prefix(run->out, "No VMs are running"));
        /* group 26 is 0000:3b:00.3 alone */
        g_assert_cmpstr(strchr(run->out, '\n') + 1, ==, "\nAlso using VFIO, without KVM:\n  pid 6001 (dpdk-testpmd): 0000:3b:00.3\n");
        /* --json lists VMs only */
        j = ctl_json(fx, "vfiohostctl vms --json", args);
        g_assert_true(json_object_is_type(j, json_type_array));
        g_assert_cmpuint(json_object_array_length(j), ==, 0);
        json_object_put(j);
}

static const char *json_string(json_object *j, const char *key) {
        json_object *v;

        g_assert_true(json_object_object_get_ex(j, key, &v));
        return json_object_get_string(v);
}

/* A VFIO user comes and goes, the VM goes: monitor --json says each. */
static void test_ctl_monitor(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autofree char *out = NULL, *proc = NULL, *groups = NULL;
        json_object *added, *removed, *vm_removed, *v;
        VhTestMonitor monitor;

        SKIP_UNLESS_READY(fx);
        log = vh_test_signal_log_new(fx->bus);
        monitor = vh_test_monitor_start(fx->bus);

        make_holder(fx->root);
        touch_node(fx->root, "dev/vfio/2");
        g_assert_true(vh_test_signal_log_wait(log, "InterfacesAdded " VH_PROCESS_PATH_PREFIX "/7000", 1, 1));
        proc = g_build_filename(fx->root, "proc", "7000", NULL);
        g_assert_cmpint(vh_test_rm_rf(proc), ==, 0);
        g_assert_true(vh_test_signal_log_wait(log, "InterfacesRemoved " VH_PROCESS_PATH_PREFIX "/7000", 1, 1));
        g_clear_pointer(&proc, g_free);
        proc = g_build_filename(fx->root, "proc", "3456", NULL);
        g_assert_cmpint(vh_test_rm_rf(proc), ==, 0);
        g_assert_true(vh_test_signal_log_wait(log, "InterfacesRemoved " QEMU_PATH, 1, 1));
        g_usleep((gulong) (300 * 1000 * vh_test_timeout_multiplier()));

        out = vh_test_monitor_stop(&monitor);
        added = vh_test_monitor_event(out, "process-added");
        removed = vh_test_monitor_event(out, "process-removed");
        vm_removed = vh_test_monitor_event(out, "vm-removed");
        if (!added || !removed || !vm_removed)
                g_error("monitor --json missed a holder event: %s", out);
        g_assert_true(json_object_object_get_ex(added, "pid", &v));
        g_assert_cmpint(json_object_get_int64(v), ==, 7000);
        g_assert_cmpstr(json_string(added, "command"), ==, "vfio-test");
        g_assert_true(json_object_object_get_ex(added, "groups", &v));
        groups = g_strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        g_assert_cmpstr(groups, ==, "[2]");
        g_assert_true(json_object_object_get_ex(removed, "pid", &v));
        g_assert_cmpint(json_object_get_int64(v), ==, 7000);
        /* named from the start's snapshot */
        g_assert_cmpstr(json_string(vm_removed, "name"), ==, "win11");
        g_assert_cmpstr(json_string(vm_removed, "vmm"), ==, "qemu");
        /* one each */
        g_assert_null(vh_test_monitor_event(out, "vm-added"));
        json_object_put(added);
        json_object_put(removed);
        json_object_put(vm_removed);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add("/vms/managed-objects", Fixture, "desktop-vfio-bound", fixture_setup, test_managed_objects,
                   fixture_teardown);
        g_test_add("/vms/paths", Fixture, "desktop-vfio-bound", fixture_setup, test_paths, fixture_teardown);
        g_test_add("/vms/held-by", Fixture, "desktop-vfio-bound", fixture_setup, test_held_by, fixture_teardown);
        g_test_add("/vms/get-vcpus", Fixture, "desktop-vfio-bound", fixture_setup, test_get_vcpus, fixture_teardown);
        g_test_add("/vms/exit", Fixture, "desktop-vfio-bound", fixture_setup, test_exit, fixture_teardown);
        g_test_add("/vms/new-holder", Fixture, "desktop-vfio-bound", fixture_setup, test_new_holder, fixture_teardown);
        g_test_add("/vms/idle", Fixture, "desktop-vfio-bound", fixture_setup, test_idle, fixture_teardown);
        g_test_add("/vms/iommufd", Fixture, "server-variant", fixture_setup, test_iommufd, fixture_teardown);
        g_test_add_func("/vms/late-vfio", test_late_vfio);
        g_test_add("/vms/changed", Fixture, "desktop-vfio-bound", fixture_setup, test_changed, fixture_teardown);
        g_test_add_func("/vms/machined", test_machined);
        g_test_add_func("/vms/machined-absent", test_machined_absent);
        g_test_add("/vms/ctl/vms-json", Fixture, "desktop-vfio-bound", fixture_setup, test_ctl_vms_json,
                   fixture_teardown);
        g_test_add("/vms/ctl/vm-json", Fixture, "desktop-vfio-bound", fixture_setup, test_ctl_vm_json,
                   fixture_teardown);
        g_test_add("/vms/ctl/text", Fixture, "desktop-vfio-bound", fixture_setup, test_ctl_text, fixture_teardown);
        g_test_add("/vms/ctl/monitor", Fixture, "desktop-vfio-bound", fixture_setup, test_ctl_monitor,
                   fixture_teardown);
        g_test_add("/vms/ctl/processes", Fixture, "server-sriov-vfs", fixture_setup, test_ctl_processes,
                   fixture_teardown);

        return g_test_run();
}
