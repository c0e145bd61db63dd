/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hotplug on a umockdev testbed: changes made beneath the daemon (links
 * moved by hand, functions added and removed, a 1,024-function burst) with
 * uevents from the testbed, as the kernel and udevd would send them. Each
 * must reach the bus as its signals, once, and the model must agree with
 * the testbed afterwards. A persisted card unplugged and plugged in again
 * goes back to vfio-pci with nobody calling (a testbed copied from a host
 * tree, the daemon writing beneath it, the fake kernel moving drivers).
 * Also: Subscribe keeps an idle daemon alive, and vfiohostctl monitor
 * --json prints the events. docs/hotplug.md. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#include "vh-fake-kernel.h"
#include "vh-names.h"
#include "vh-test-bus.h"

#define HOST_FOR_IDLE "vm-guest"

#ifdef HAVE_UMOCKDEV
#include "vh-test-ctl.h"
#include "vh-test-signals.h"
#include "vh-test-testbed.h"

#define HOST  "desktop-intel"
#define AUDIO "0000:01:00.1"            /* snd_hda_intel, group 2 */

/* ---------- the testbed beneath the daemon ---------- */

static char *device_path(const char *address) {
        return vh_test_path_encode(VH_DEVICE_PATH_PREFIX, address);
}

static char *ctl_json_field(VhTestBus *bus, const char *address, const char *field) {
        g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "show", address, NULL);
        json_object *j, *v, *d;
        char *s;

        if (run->status != 0) {
                vh_test_run_print(run, "show");
                return NULL;
        }
        j = json_tokener_parse(run->out);
        g_assert_nonnull(j);
        d = json_object_is_type(j, json_type_array) ? json_object_array_get_idx(j, 0) : j;
        s = json_object_object_get_ex(d, field, &v) ? g_strdup(json_object_get_string(v)) : NULL;
        json_object_put(j);
        return s;
}

static gboolean start(VhTestTestbed **tb, VhTestBus **bus) {
        if (!vh_test_bus_requirements())
                return FALSE;
        if (!vh_test_umockdev_preload()) {
                g_test_skip("umockdev is missing: libumockdev-preload.so.0 not found (install umockdev)");
                return FALSE;
        }
        *tb = vh_test_testbed_new(HOST);
        *bus = vh_test_bus_new();
        {
                const char *args[] = { "--read-only", NULL };
                vh_test_testbed_start_daemon(*tb, *bus, args);
        }
        return TRUE;
}

/* ---------- tests ---------- */

/* A driver switch nobody asked vfiohostd for: unbind, then vfio-pci. */
static void test_driver_by_hand(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autofree char *path = device_path(AUDIO), *devpath = NULL, *line = NULL, *props = NULL;
        g_autofree char *driver = NULL;

        if (!start(&tb, &bus))
                return;
        log = vh_test_signal_log_new(bus);
        devpath = vh_test_testbed_devpath(tb, AUDIO);

        vh_test_testbed_set_driver(tb, AUDIO, "snd_hda_intel", NULL);
        umockdev_testbed_uevent(tb->testbed, devpath, "unbind");
        line = g_strdup_printf("DriverChanged %s snd_hda_intel -", path);
        g_assert_true(vh_test_signal_log_wait(log, line, 1, 5));
        props = g_strdup_printf("PropertiesChanged %s Device1 Driver", path);
        g_assert_cmpuint(vh_test_signal_log_count(log, props), ==, 1);
        g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, 1);
        driver = ctl_json_field(bus, AUDIO, "driver");
        g_assert_cmpstr(driver, ==, "");

        g_clear_pointer(&line, g_free);
        g_clear_pointer(&driver, g_free);
        vh_test_testbed_set_driver(tb, AUDIO, NULL, "vfio-pci");
        umockdev_testbed_uevent(tb->testbed, devpath, "bind");
        line = g_strdup_printf("DriverChanged %s - vfio-pci", path);
        g_assert_true(vh_test_signal_log_wait(log, line, 1, 5));
        g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, 1);
        driver = ctl_json_field(bus, AUDIO, "driver");
        g_assert_cmpstr(driver, ==, "vfio-pci");
        /* The group's viability follows: 01:00.0 is still on nvidia. */
        g_assert_cmpuint(vh_test_signal_log_count(log, "PropertiesChanged /org/vfiohost/group/2 Group1 ViabilityReason"), ==, 1);
}

/* A function that appears and goes away again. */
static void test_add_remove(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autofree char *path = device_path("0000:07:00.0"), *devpath = NULL, *line = NULL, *name = NULL;

        if (!start(&tb, &bus))
                return;
        log = vh_test_signal_log_new(bus);

        devpath = umockdev_testbed_add_device(tb->testbed, "pci", "0000:07:00.0", NULL,
                                              "vendor", "0x8086", "device", "0x10d3", "class", "0x020000",
                                              "subsystem_vendor", "0x8086", "subsystem_device", "0xa01f",
                                              "revision", "0x00", "numa_node", "-1", "driver_override", "(null)",
                                              NULL, "PCI_SLOT_NAME", "0000:07:00.0", NULL);
        g_assert_nonnull(devpath);
        umockdev_testbed_uevent(tb->testbed, devpath, "add");
        line = g_strdup_printf("DeviceAdded %s", path);
        g_assert_true(vh_test_signal_log_wait(log, line, 1, 5));
        g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, 1);
        g_clear_pointer(&line, g_free);
        line = g_strdup_printf("InterfacesAdded %s", path);
        g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, 1);
        name = ctl_json_field(bus, "0000:07:00.0", "device_name");
        g_assert_cmpstr(name, ==, "82574L Gigabit Network Connection");

        umockdev_testbed_uevent(tb->testbed, devpath, "remove");
        umockdev_testbed_remove_device(tb->testbed, devpath);
        g_clear_pointer(&line, g_free);
        line = g_strdup_printf("DeviceRemoved %s", path);
        g_assert_true(vh_test_signal_log_wait(log, line, 1, 5));
        g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, 1);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "show", "0000:07:00.0", NULL);
                g_assert_cmpint(run->status, ==, 3);
        }
}

/* Another card at the same address: removed, then added, never a change
 * of a const property. */
static void test_identity_change(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autofree char *path = device_path(AUDIO), *devpath = NULL, *removed = NULL, *added = NULL;
        g_autofree char *id = NULL;

        if (!start(&tb, &bus))
                return;
        log = vh_test_signal_log_new(bus);
        devpath = vh_test_testbed_devpath(tb, AUDIO);

        umockdev_testbed_uevent(tb->testbed, devpath, "remove");
        umockdev_testbed_set_attribute(tb->testbed, devpath, "device", "0x228b");
        umockdev_testbed_uevent(tb->testbed, devpath, "add");
        removed = g_strdup_printf("DeviceRemoved %s", path);
        added = g_strdup_printf("DeviceAdded %s", path);
        g_assert_true(vh_test_signal_log_wait(log, added, 1, 5));
        g_assert_cmpuint(vh_test_signal_log_count(log, removed), ==, 1);
        /* In that order. */
        for (guint i = 0; i < log->lines->len; i++) {
                if (strcmp(log->lines->pdata[i], removed) == 0)
                        break;
                g_assert_cmpstr(log->lines->pdata[i], !=, added);
        }
        id = ctl_json_field(bus, AUDIO, "device_id");
        g_assert_cmpstr(id, ==, "228b");
}

static guint count_added(void *userdata) {
        return vh_test_signal_log_count_prefix(userdata, "DeviceAdded ");
}

/* 1,024 functions appearing with their "add" events (what
 * sriov_numvfs=1024 does): every one is announced once and listed. umockdev
 * carries uevents over an AF_UNIX datagram socket (net.unix.max_dgram_qlen,
 * often 10) whose sender aborts when it is full, so the events go out at
 * most 8 ahead of the announcements; lost events are the unit test's
 * (test-udev-monitor) and the real kernel's are the e2e guest's. */
static void test_burst(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autoptr(GPtrArray) devpaths = g_ptr_array_new_with_free_func(g_free);
        gint64 t0;

        if (!start(&tb, &bus))
                return;
        log = vh_test_signal_log_new(bus);
        for (unsigned i = 0; i < 1024; i++) {
                g_autofree char *address = g_strdup_printf("0000:%02x:%02x.%u", 0x40 + i / 256, (i / 8) % 32, i % 8);

                vh_test_testbed_add_function_quietly(tb, address);
                g_ptr_array_add(devpaths, g_strconcat("/sys/devices/", address, NULL));
        }
        t0 = g_get_monotonic_time();
        g_assert_true(vh_test_testbed_uevents_paced(tb, devpaths, "add", count_added, log, 8, 30));
        while (count_added(log) < 1024 && g_get_monotonic_time() < t0 + (gint64) (60 * vh_test_timeout_multiplier() * G_USEC_PER_SEC))
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(1000);
        g_test_message("1,024 functions announced in %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
        g_assert_cmpuint(count_added(log), ==, 1024);
        /* Each once. */
        {
                g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

                for (guint i = 0; i < log->lines->len; i++)
                        if (g_str_has_prefix(log->lines->pdata[i], "DeviceAdded "))
                                g_assert_true(g_hash_table_add(seen, log->lines->pdata[i]));
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "status", NULL);
                json_object *j = json_tokener_parse(run->out), *n;

                g_assert_nonnull(j);
                g_assert_true(json_object_object_get_ex(j, "devices", &n));
                g_assert_cmpint(json_object_get_int(n), ==, 20 + 1024);
                json_object_put(j);
        }
}

/* A "change" event: driver_override written by hand. */
static void test_change(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autofree char *path = device_path(AUDIO), *devpath = NULL, *line = NULL, *override = NULL;

        if (!start(&tb, &bus))
                return;
        log = vh_test_signal_log_new(bus);
        devpath = vh_test_testbed_devpath(tb, AUDIO);
        umockdev_testbed_set_attribute(tb->testbed, devpath, "driver_override", "vfio-pci\n");
        umockdev_testbed_uevent(tb->testbed, devpath, "change");
        line = g_strdup_printf("PropertiesChanged %s Device1 DriverOverride", path);
        g_assert_true(vh_test_signal_log_wait(log, line, 1, 5));
        g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, 1);
        /* Nothing else about it changed: no DriverChanged. */
        g_assert_cmpuint(vh_test_signal_log_count_prefix(log, "DriverChanged "), ==, 0);
        override = ctl_json_field(bus, AUDIO, "driver_override");
        g_assert_cmpstr(override, ==, "vfio-pci");
}

/* vfio-pci loaded after the daemon started: VfioAvailable follows. */
static void test_vfio_module(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        g_autoptr(GVariant) before = NULL, after = NULL;
        g_autofree char *module = NULL, *driver = NULL, *uevent = NULL;
        g_autoptr(GError) error = NULL;

        if (!vh_test_bus_requirements())
                return;
        if (!vh_test_umockdev_preload()) {
                g_test_skip("umockdev is missing: libumockdev-preload.so.0 not found (install umockdev)");
                return;
        }
        /* no-iommu: no vfio-pci registered, loaded or installed. */
        tb = vh_test_testbed_new("no-iommu");
        bus = vh_test_bus_new();
        {
                const char *args[] = { "--read-only", NULL };
                vh_test_testbed_start_daemon(tb, bus, args);
        }
        log = vh_test_signal_log_new(bus);
        before = vh_test_bus_get_property(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "VfioAvailable", &error);
        g_assert_no_error(error);
        g_assert_false(g_variant_get_boolean(before));

        /* What loading it leaves in sysfs, then its uevent. */
        module = g_build_filename(tb->sys, "module", "vfio_pci", NULL);
        driver = g_build_filename(tb->sys, "bus", "pci", "drivers", "vfio-pci", NULL);
        uevent = g_build_filename(module, "uevent", NULL);
        g_assert_cmpint(g_mkdir_with_parents(driver, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(module, 0755), ==, 0);
        g_assert_true(g_file_set_contents(uevent, "", -1, NULL));
        umockdev_testbed_uevent(tb->testbed, "/sys/module/vfio_pci", "add");

        g_assert_true(vh_test_signal_log_wait(log, "PropertiesChanged /org/vfiohost Manager1 IommuEnabled VfioAvailable", 1, 5));
        after = vh_test_bus_get_property(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "VfioAvailable", &error);
        g_assert_no_error(error);
        g_assert_true(g_variant_get_boolean(after));
}

/* monitor --json in the background sees a change by hand. */
static void test_monitor_json(void) {
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autofree char *devpath = NULL, *out = NULL;
        json_object *j, *v;
        VhTestMonitor monitor;

        if (!start(&tb, &bus))
                return;
        devpath = vh_test_testbed_devpath(tb, AUDIO);
        monitor = vh_test_monitor_start(bus);
        vh_test_testbed_set_driver(tb, AUDIO, "snd_hda_intel", NULL);
        umockdev_testbed_uevent(tb->testbed, devpath, "unbind");
        g_usleep((gulong) (500 * 1000 * vh_test_timeout_multiplier()));
        out = vh_test_monitor_stop(&monitor);
        j = vh_test_monitor_event(out, "driver-changed");
        if (!j)
                g_error("monitor --json printed no driver-changed event: %s", out);
        g_assert_true(json_object_object_get_ex(j, "address", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, AUDIO);
        g_assert_true(json_object_object_get_ex(j, "old_driver", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "snd_hda_intel");
        g_assert_true(json_object_object_get_ex(j, "new_driver", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "");
        g_assert_true(json_object_object_get_ex(j, "time", &v));
        json_object_put(j);
}

#endif /* HAVE_UMOCKDEV */

static gboolean is_subscribed_again(VhTestBus *bus) {
        /* The new daemon keeps running past its idle timeout only with a
         * subscriber: the monitor. */
        return vh_test_bus_name_has_owner(bus, VH_BUS_NAME);
}

/* The daemon goes away under a running monitor and comes back: the
 * monitor says so, subscribes to the new one and goes on. */
static void test_monitor_restart(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autofree char *root = NULL, *out = NULL;
        /* Long enough for the monitor to subscribe under valgrind. */
        unsigned idle_s = (unsigned) (1 * vh_test_timeout_multiplier() + 0.5) ?: 1;
        g_autofree char *idle_arg = g_strdup_printf("--idle-timeout=%u", idle_s);
        const char *idle[] = { idle_arg, NULL };
        VhTestMonitor monitor;

        if (!vh_test_bus_requirements())
                return;
        bus = vh_test_bus_new();
        root = vh_test_bus_shared_host(bus, HOST_FOR_IDLE);
        if (!root)
                return;
        vh_test_bus_start_daemon(bus, root);
        monitor = vh_test_monitor_start(bus);

        /* A crash; then a new daemon that exits after 1 s idle unless
         * someone subscribes. */
        vh_test_bus_kill_daemon(bus, SIGKILL);
        vh_test_bus_start_daemon_full(bus, root, idle, NULL);
        g_usleep((gulong) ((idle_s + 2) * G_USEC_PER_SEC));
        g_assert_true(is_subscribed_again(bus));

        out = vh_test_monitor_stop(&monitor);
        g_test_message("monitor printed: %s", out);
        g_assert_nonnull(strstr(out, "\"event\":\"daemon-stopped\""));
        g_assert_nonnull(strstr(out, "\"event\":\"daemon-started\""));
        /* Its subscription lets the second daemon exit once it is gone. */
        g_assert_true(vh_test_bus_wait_name(bus, VH_BUS_NAME, FALSE, idle_s + 5));
}

/* No umockdev needed: a subscriber keeps an idle daemon alive, and its
 * leaving the bus lets it exit. */
static void test_subscribe_keeps_alive(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(GDBusConnection) subscriber = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *root = NULL;
        const char *args[] = { "--idle-timeout=1", NULL };

        if (!vh_test_bus_requirements())
                return;
        bus = vh_test_bus_new();
        root = vh_test_bus_shared_host(bus, HOST_FOR_IDLE);
        if (!root)
                return;
        vh_test_bus_start_daemon_full(bus, root, args, NULL);

        subscriber = g_dbus_connection_new_for_address_sync(bus->address,
                                                           G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                           NULL, NULL, &error);
        g_assert_no_error(error);
        reply = g_dbus_connection_call_sync(subscriber, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Subscribe",
                                            NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_clear_pointer(&reply, g_variant_unref);
        /* Twice: idempotent. */
        reply = g_dbus_connection_call_sync(subscriber, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Subscribe",
                                            NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);

        /* Three idle timeouts later it still serves. */
        g_usleep((gulong) (3 * G_USEC_PER_SEC));
        g_assert_true(vh_test_bus_name_has_owner(bus, VH_BUS_NAME));

        /* The subscriber leaves the bus: the countdown starts again. */
        g_assert_true(g_dbus_connection_close_sync(subscriber, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(vh_test_bus_wait_name(bus, VH_BUS_NAME, FALSE, 5));
}

/* ---------- a persisted card re-plugged (docs/persistence.md) ---------- */

#define GPU "0000:01:00.0"              /* nvidia, group 2 with AUDIO */

static const char *const card[] = { GPU, AUDIO };

/* The "state" of address's entry in vfiohostctl --json persisted. */
static char *persisted_state(VhTestBus *bus, const char *address) {
        g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "persisted", NULL);
        json_object *j, *e, *v;
        char *state = NULL;

        if (run->status != 0)
                vh_test_run_print(run, "persisted");
        g_assert_cmpint(run->status, ==, 0);
        j = json_tokener_parse(run->out);
        g_assert_true(json_object_is_type(j, json_type_array));
        for (size_t i = 0; i < json_object_array_length(j) && !state; i++) {
                e = json_object_array_get_idx(j, i);
                if (json_object_object_get_ex(e, "address", &v) && g_str_equal(json_object_get_string(v), address) &&
                    json_object_object_get_ex(e, "state", &v))
                        state = g_strdup(json_object_get_string(v));
        }
        json_object_put(j);
        return state;
}

static gboolean wait_persisted_state(VhTestBus *bus, const char *address, const char *want) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (10 * vh_test_timeout_multiplier() * G_USEC_PER_SEC);

        for (;;) {
                g_autofree char *state = persisted_state(bus, address);

                if (g_strcmp0(state, want) == 0)
                        return TRUE;
                if (g_get_monotonic_time() > deadline) {
                        g_test_message("%s is %s, not %s", address, state, want);
                        return FALSE;
                }
                g_usleep(50 * 1000);
        }
}

static char *tb_driver(VhTestTestbed *tb, const char *address) {
        g_autofree char *link = g_build_filename(tb->sys, "bus/pci/devices", address, "driver", NULL);
        g_autofree char *target = g_file_read_link(link, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static gboolean wait_tb_driver(VhTestTestbed *tb, const char *address, const char *want) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (10 * vh_test_timeout_multiplier() * G_USEC_PER_SEC);

        for (;;) {
                g_autofree char *got = tb_driver(tb, address);

                if (g_strcmp0(got, want) == 0)
                        return TRUE;
                if (g_get_monotonic_time() > deadline) {
                        g_test_message("%s is on %s, not %s", address, got, want);
                        return FALSE;
                }
                g_usleep(20 * 1000);
        }
}

static void unlink_or_die(const char *path) {
        if (g_unlink(path) < 0)
                g_error("unlink %s: %s", path, g_strerror(errno));
}

/* What the kernel does when a function goes (surprise removal): every
 * link to it vanishes, then its directory; the "remove" uevent is sent in
 * between, as umockdev reads the device it announces. The directory is
 * kept aside in the testbed for the re-plug. */
static void unplug_function(VhTestTestbed *tb, const char *address, const char *devpath) {
        g_autofree char *dir = g_build_filename(tb->sys, devpath + strlen("/sys/"), NULL);
        g_autofree char *aside = g_build_filename(tb->root, "unplugged", address, NULL);
        g_autofree char *bus_link = g_build_filename(tb->sys, "bus/pci/devices", address, NULL);
        g_autofree char *member = g_build_filename(tb->sys, "kernel/iommu_groups/2/devices", address, NULL);
        g_autofree char *driver = tb_driver(tb, address);

        if (driver) {
                g_autofree char *back = g_build_filename(tb->sys, "bus/pci/drivers", driver, address, NULL);

                unlink_or_die(back);
        }
        unlink_or_die(member);
        unlink_or_die(bus_link);
        umockdev_testbed_uevent(tb->testbed, devpath, "remove");
        g_assert_cmpint(g_mkdir_with_parents(aside, 0755), ==, 0);
        g_assert_cmpint(g_rmdir(aside), ==, 0);
        g_assert_cmpint(g_rename(dir, aside), ==, 0);
}

/* The function is back, as after a rescan: the same card at the same
 * address, no override (a new struct pci_dev), on its host driver. */
static void replug_function(VhTestTestbed *tb, const char *address, const char *devpath, const char *host_driver) {
        g_autofree char *dir = g_build_filename(tb->sys, devpath + strlen("/sys/"), NULL);
        g_autofree char *aside = g_build_filename(tb->root, "unplugged", address, NULL);
        g_autofree char *bus_link = g_build_filename(tb->sys, "bus/pci/devices", address, NULL);
        g_autofree char *bus_target = g_strconcat("../../..", devpath + strlen("/sys"), NULL);
        g_autofree char *member = g_build_filename(tb->sys, "kernel/iommu_groups/2/devices", address, NULL);
        g_autofree char *member_target = g_strconcat("../../../..", devpath + strlen("/sys"), NULL);
        g_autofree char *driver_link = g_build_filename(dir, "driver", NULL);
        g_autofree char *override = g_build_filename(dir, "driver_override", NULL);

        g_assert_cmpint(g_rename(aside, dir), ==, 0);
        (void) g_unlink(driver_link);
        /* A write the fake kernel handles ("\n" clears the override), made
         * by a child without the umockdev preload: this process's preload
         * holds its path lock across open(), and the fake kernel thread
         * needs it to answer that open's permission event. */
        {
                const char *argv[] = { "/bin/sh", "-c", "printf '\\n' > \"$1\"", "sh", override, NULL };
                g_auto(GStrv) envp = g_environ_unsetenv(g_get_environ(), "LD_PRELOAD");
                g_autoptr(GError) error = NULL;
                int status = -1;

                g_spawn_sync(NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error);
                g_assert_no_error(error);
                g_assert_cmpint(status, ==, 0);
        }
        g_assert_cmpint(symlink(bus_target, bus_link), ==, 0);
        g_assert_cmpint(symlink(member_target, member), ==, 0);
        vh_test_testbed_set_driver(tb, address, NULL, host_driver);
}

/* A persisted card that is unplugged and plugged in again goes back to
 * vfio-pci with nobody calling: the daemon's udev monitor sees the "add"
 * and applies the assignment through the binder. A daemon with --root on a
 * testbed copied from desktop-intel, the fake kernel moving drivers. */
static void test_persisted_replug(void) {
        const char *host_drivers[] = { "nvidia", "snd_hda_intel" };
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(VhFakeKernel) kernel = NULL;
        g_autoptr(VhTestSignalLog) log = NULL;
        char *devpaths[G_N_ELEMENTS(card)] = { NULL };
        g_autofree char *vfio_node = NULL;

        if (!vh_test_bus_requirements())
                return;
        if (!vh_test_umockdev_preload()) {
                g_test_skip("umockdev is missing: libumockdev-preload.so.0 not found (install umockdev)");
                return;
        }
        tb = vh_test_testbed_new_from_tree("desktop-intel");
        kernel = vh_fake_kernel_new(tb->root);
        if (!kernel)
                return;
        bus = vh_test_bus_new();
        vh_test_testbed_start_daemon_beneath(tb, bus, NULL);
        log = vh_test_signal_log_new(bus);
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++)
                devpaths[i] = vh_test_testbed_devpath(tb, card[i]);
        vfio_node = g_build_filename(tb->root, "dev/vfio/2", NULL);

        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "persist", "--group", "--name", "gpu", GPU, NULL);

                if (run->status != 0)
                        vh_test_run_print(run, "persist");
                g_assert_cmpint(run->status, ==, 0);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++)
                g_assert_true(wait_tb_driver(tb, card[i], "vfio-pci"));
        g_assert_true(wait_persisted_state(bus, GPU, "applied"));

        /* Unplugged: nothing there, the assignment waits. */
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++)
                unplug_function(tb, card[i], devpaths[i]);
        (void) g_unlink(vfio_node);
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++) {
                g_autofree char *line = NULL, *path = device_path(card[i]);

                line = g_strdup_printf("DeviceRemoved %s", path);
                g_assert_true(vh_test_signal_log_wait(log, line, 1, 5));
        }
        g_assert_true(wait_persisted_state(bus, GPU, "waiting"));

        /* Plugged in again on the host drivers, as a rescan brings it. */
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++)
                replug_function(tb, card[i], devpaths[i], host_drivers[i]);
        g_assert_true(vh_fake_kernel_wait_idle(kernel, 5));
        vh_fake_kernel_reset(kernel);
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++) {
                umockdev_testbed_uevent(tb->testbed, devpaths[i], "add");
                umockdev_testbed_uevent(tb->testbed, devpaths[i], "bind");
        }
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++) {
                g_autofree char *line = g_strdup_printf("+ %s vfio-pci", card[i]);

                g_assert_true(vh_fake_kernel_wait_for(kernel, line, 10));
                g_assert_true(wait_tb_driver(tb, card[i], "vfio-pci"));
        }
        g_assert_true(g_file_test(vfio_node, G_FILE_TEST_EXISTS));
        g_assert_true(wait_persisted_state(bus, GPU, "applied"));
        /* Through the binder: the override, then the host driver let go. */
        {
                g_auto(GStrv) writes = vh_fake_kernel_writes(kernel);
                g_autofree char *override = g_strdup_printf("devices/%s/driver_override vfio-pci", GPU);
                g_autofree char *unbind = g_strdup_printf("drivers/nvidia/unbind %s", GPU);


                g_assert_true(g_strv_contains((const char *const *) writes, override));
                g_assert_true(g_strv_contains((const char *const *) writes, unbind));
        }
        for (size_t i = 0; i < G_N_ELEMENTS(card); i++)
                g_free(devpaths[i]);
}

static void drop_debug(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
}

int main(int argc, char **argv) {
#ifdef HAVE_UMOCKDEV
        vh_test_testbed_preload_self(argv);
#endif
        g_test_init(&argc, &argv, NULL);
#ifdef HAVE_UMOCKDEV
        /* umockdev's g_debug() about every device it creates drowns the log. */
        g_log_set_handler(NULL, G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        g_log_set_handler("GLib", G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        g_log_set_handler("umockdev", G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        g_test_add_func("/hotplug/driver-by-hand", test_driver_by_hand);
        g_test_add_func("/hotplug/add-remove", test_add_remove);
        g_test_add_func("/hotplug/change", test_change);
        g_test_add_func("/hotplug/identity-change", test_identity_change);
        g_test_add_func("/hotplug/burst", test_burst);
        g_test_add_func("/hotplug/monitor-json", test_monitor_json);
        g_test_add_func("/hotplug/vfio-module", test_vfio_module);
        g_test_add_func("/hotplug/persisted-replug", test_persisted_replug);
#endif
        g_test_add_func("/hotplug/subscribe-keeps-alive", test_subscribe_keeps_alive);
        g_test_add_func("/hotplug/monitor-restart", test_monitor_restart);
        return g_test_run();
}
