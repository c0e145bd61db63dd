/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon on hostile host trees: copies of a fixture edited the way root,
 * a broken kernel or a damaged recording can leave a host.
 *
 *  - utf8: invalid UTF-8 in driver_override, reset_method, a group's type,
 *    a driver link name, proc/cmdline, osrelease;
 *  - fifo: FIFOs where regular files are expected;
 *  - escape-drivers, escape-state-dir: directory symlinks that leave the
 *    root (absolute, and relative climbing with ".."), towards a canary
 *    directory outside the copy;
 *  - not-files: directories where files are expected (the tests run as
 *    root, for whom mode 000 does not stop a read, so "unreadable" is made
 *    this way; a mode-000 variant would prove nothing here);
 *  - garbage: nonsense in the id files, links and sizes.
 *
 * For each, with both resolvers (openat2, and the walk used where the
 * kernel lacks it: VFIOHOST_TEST_RESOLVE=walk): the daemon owns its name
 * within a second; every call gets its reply (GetManagedObjects, GetDevice
 * of every function, Get of every property, GetReadiness for the host and
 * for every function, and a Bind that has to write); the canary is byte
 * for byte as before; the daemon exits 0 on SIGTERM.
 *
 * A FIFO in place of the journal makes the daemon refuse to start, at
 * once, saying which file (journal-fifo). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-names.h"
#include "vh-test-bus.h"

#define GPU_DIR "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
#define XHCI_DIR "sys/devices/pci0000:00/0000:00:14.0"

typedef struct {
        VhTestBus *bus;
        char *copy;
        char *canary;
        GPtrArray *canary_before;
        gboolean walk;
} Fixture;

typedef struct {
        const char *name;
        const char *host;
        void (*edit)(Fixture *fx);
} Variant;

/* ---------- files ---------- */

/* Only ever beneath the copy or the canary, both in the test's temporary
 * directory (the edits add links, never follow them). */
static char *at(const char *root, const char *rel) {
        g_assert_true(vh_test_is_temp_dir(root));
        g_assert_null(strstr(rel, ".."));
        return g_build_filename(root, rel, NULL);
}

static void write_bytes(Fixture *fx, const char *rel, const char *bytes, gssize len) {
        g_autofree char *path = at(fx->copy, rel);

        if (!g_file_set_contents(path, bytes, len, NULL))
                g_error("cannot write %s", path);
}

static void remove_path(Fixture *fx, const char *rel) {
        g_autofree char *path = at(fx->copy, rel);
        const char *argv[] = { "rm", "-rf", "--", path, NULL };
        int status = 0;

        g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                                   &status, NULL));
        g_assert_cmpint(status, ==, 0);
}

static void link_to(Fixture *fx, const char *rel, const char *target) {
        g_autofree char *path = at(fx->copy, rel);

        remove_path(fx, rel);
        if (symlink(target, path) < 0)
                g_error("symlink %s: %s", path, g_strerror(errno));
}

static void fifo_at(Fixture *fx, const char *rel) {
        g_autofree char *path = at(fx->copy, rel);

        remove_path(fx, rel);
        g_assert_cmpint(mkfifo(path, 0644), ==, 0);
}

static void dir_at(Fixture *fx, const char *rel) {
        g_autofree char *path = at(fx->copy, rel);

        remove_path(fx, rel);
        g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
}

/* "../../.." far enough to pass "/" from anywhere in the copy, then the
 * canary's absolute path: what a relative link must say to leave. */
static char *climb_to_canary(Fixture *fx) {
        GString *s = g_string_new(NULL);

        for (int i = 0; i < 40; i++)
                g_string_append(s, "../");
        g_string_append(s, fx->canary + 1);
        return g_string_free(s, FALSE);
}

static gint compare_names(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Every entry beneath root: kind, mode, content checksum or link target. */
static void snapshot_at(const char *root, const char *rel, GPtrArray *out) {
        g_autofree char *path = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
        GStatBuf st;

        g_assert_cmpint(g_lstat(path, &st), ==, 0);
        if (S_ISLNK(st.st_mode)) {
                g_autofree char *target = g_file_read_link(path, NULL);
                g_ptr_array_add(out, g_strdup_printf("%s -> %s", rel, target));
        } else if (S_ISDIR(st.st_mode)) {
                g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
                g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
                const char *e;

                g_assert_nonnull(d);
                while ((e = g_dir_read_name(d)))
                        g_ptr_array_add(names, g_strdup(e));
                g_ptr_array_sort(names, compare_names);
                g_ptr_array_add(out, g_strdup_printf("%s/ %o", rel ? rel : ".", (unsigned) (st.st_mode & 07777)));
                for (guint i = 0; i < names->len; i++) {
                        g_autofree char *child = rel ? g_build_filename(rel, names->pdata[i], NULL)
                                                     : g_strdup(names->pdata[i]);
                        snapshot_at(root, child, out);
                }
        } else {
                g_autofree char *data = NULL, *sum = NULL;
                gsize size = 0;

                g_assert_true(g_file_get_contents(path, &data, &size, NULL));
                sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) data, size);
                g_ptr_array_add(out, g_strdup_printf("%s %o %lld %s", rel, (unsigned) (st.st_mode & 07777),
                                                     (long long) st.st_mtim.tv_sec, sum));
        }
}

static GPtrArray *snapshot(const char *root) {
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        snapshot_at(root, NULL, out);
        return out;
}

/* ---------- the hostile edits ---------- */

static void edit_utf8(Fixture *fx) {
        g_autofree char *drv = at(fx->copy, "sys/bus/pci/drivers/nvidia");
        g_autofree char *bad = at(fx->copy, "sys/bus/pci/drivers/nv\xe9idia");

        write_bytes(fx, GPU_DIR "/driver_override", "vfio\xff-pci\n", -1);
        write_bytes(fx, GPU_DIR "/reset_method", "bus \xc3\x28\n", -1);
        write_bytes(fx, "sys/kernel/iommu_groups/2/type", "DMA\xfe\n", -1);
        g_assert_cmpint(g_rename(drv, bad), ==, 0);
        link_to(fx, GPU_DIR "/driver", "../../../../bus/pci/drivers/nv\xe9idia");
        write_bytes(fx, "proc/cmdline", "BOOT_IMAGE=/vmlinuz \xf0\x28\x8c\x28 intel_iommu=on\n", -1);
        write_bytes(fx, "proc/sys/kernel/osrelease", "6.9.7-arch1-1\x80\n", -1);
        write_bytes(fx, "proc/1234/comm", "X\xfforg\n", -1);
        /* an entry name that is not UTF-8 in a group's devices */
        link_to(fx, "sys/kernel/iommu_groups/4/devices/0000:00:14.\xff", "../../../../devices/pci0000:00/0000:00:14.2");
}

static void edit_fifo(Fixture *fx) {
        fifo_at(fx, "proc/cmdline");
        fifo_at(fx, "proc/sys/kernel/osrelease");
        fifo_at(fx, "proc/mounts");
        fifo_at(fx, "proc/cpuinfo");
        fifo_at(fx, "proc/1234/comm");
        fifo_at(fx, GPU_DIR "/driver_override");
        fifo_at(fx, GPU_DIR "/vendor");
        fifo_at(fx, "sys/kernel/iommu_groups/2/type");
        /* Bind 00:14.0 writes here */
        fifo_at(fx, XHCI_DIR "/driver_override");
}

/* The drivers directory of the function Bind unbinds, a device, a
 * process and the IOMMU groups lead out of the root. */
static void edit_escape_drivers(Fixture *fx) {
        g_autofree char *up = climb_to_canary(fx);

        link_to(fx, "sys/bus/pci/drivers/xhci_hcd", fx->canary);
        link_to(fx, "sys/bus/pci/drivers_probe", up);
        link_to(fx, "sys/bus/pci/devices/0000:00:1f.5", up);
        link_to(fx, "sys/bus/pci/devices/0000:00:1f.4", fx->canary);
        link_to(fx, "proc/1234", fx->canary);
        link_to(fx, "sys/kernel/iommu_groups/6", fx->canary);
        {
                /* absolute, with ".." that would climb past the root */
                g_autofree char *secret = g_strconcat("/../../..", fx->canary, "/cmdline", NULL);
                link_to(fx, "proc/cmdline", secret);
        }
}

static void edit_escape_state_dir(Fixture *fx) {
        g_autofree char *parent = at(fx->copy, "var/lib");

        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        link_to(fx, "var/lib/vfiohost", fx->canary);
}

static void edit_escape_state_dir_relative(Fixture *fx) {
        g_autofree char *parent = at(fx->copy, "var/lib");
        g_autofree char *up = climb_to_canary(fx);

        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        link_to(fx, "var/lib/vfiohost", up);
}

static void edit_not_files(Fixture *fx) {
        dir_at(fx, "proc/cmdline");
        dir_at(fx, "proc/sys/kernel/osrelease");
        dir_at(fx, GPU_DIR "/vendor");
        dir_at(fx, GPU_DIR "/driver_override");
        dir_at(fx, "sys/kernel/iommu_groups/2/type");
        dir_at(fx, "proc/mounts");
        /* a file where a directory is expected */
        remove_path(fx, "proc/1234/fd");
        write_bytes(fx, "proc/1234/fd", "", 0);
        remove_path(fx, "sys/kernel/iommu_groups/5/devices");
        write_bytes(fx, "sys/kernel/iommu_groups/5/devices", "", 0);
}

static void edit_garbage(Fixture *fx) {
        g_autofree char *big = g_strnfill(200 * 1024, 'f');

        write_bytes(fx, GPU_DIR "/vendor", "0xzzzz\n", -1);
        write_bytes(fx, GPU_DIR "/device", "", 0);
        write_bytes(fx, GPU_DIR "/class", "0x1234567890abcdef1234\n", -1);
        write_bytes(fx, GPU_DIR "/revision", "-1\n", -1);
        write_bytes(fx, GPU_DIR "/numa_node", "abc\n", -1);
        write_bytes(fx, GPU_DIR "/config", "\x01\x02\x03", 3);
        write_bytes(fx, GPU_DIR "/reset_method", big, -1);
        write_bytes(fx, XHCI_DIR "/subsystem_vendor", "\xff\xfe\n", -1);
        write_bytes(fx, XHCI_DIR "/d3cold_allowed", "99999999999999999999999\n", -1);
        write_bytes(fx, "sys/devices/pci0000:00/0000:00:01.0/sriov_numvfs", "-5\n", -1);
        link_to(fx, "sys/devices/pci0000:00/0000:00:14.2/iommu_group", "../../../kernel/iommu_groups/notanumber");
        link_to(fx, "sys/devices/pci0000:00/0000:00:1f.3/iommu_group", "../../../kernel/iommu_groups/99999999999");
        link_to(fx, "sys/devices/pci0000:00/0000:00:1f.4/driver", "/");
        link_to(fx, "sys/devices/pci0000:00/0000:00:1f.5/physfn", "../../../../../../../../..");
        link_to(fx, "sys/bus/pci/devices/0000:00:1c.0/driver", "..");
        write_bytes(fx, "sys/bus/pci/devices/not-an-address", "", 0);
        write_bytes(fx, "sys/kernel/iommu_groups/4/devices/garbage", "", 0);
        {
                g_autofree char *dir = at(fx->copy, "sys/kernel/iommu_groups/-1/devices");

                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        }
        write_bytes(fx, "proc/cmdline", big, -1);
        write_bytes(fx, "proc/fb", "garbage\n-1 x\n99999999999999999999 y\n", -1);
        write_bytes(fx, "proc/mounts", "\n\n/dev/../../../etc/passwd / ext4 rw 0 0\n/dev/ x\n", -1);
        write_bytes(fx, "proc/net/route", "Iface\n\tgarbage\n", -1);
}

static const Variant variants[] = {
        { "utf8", "desktop-intel", edit_utf8 },
        { "fifo", "desktop-intel", edit_fifo },
        { "escape-drivers", "desktop-intel", edit_escape_drivers },
        { "escape-state-dir", "desktop-intel", edit_escape_state_dir },
        { "escape-state-dir-relative", "desktop-intel", edit_escape_state_dir_relative },
        { "not-files", "desktop-intel", edit_not_files },
        { "garbage", "desktop-intel", edit_garbage },
};

/* ---------- calls ---------- */

static GVariant *call(Fixture *fx, const char *path, const char *interface, const char *method,
                      GVariant *params, const char *reply_type, GError **error) {
        gint64 t = g_get_monotonic_time();
        GVariant *r;

        r = g_dbus_connection_call_sync(vh_test_bus_connection(fx->bus), VH_BUS_NAME, path, interface, method,
                                        params, reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                        G_DBUS_CALL_FLAGS_NONE, (int) (10000 * vh_test_timeout_multiplier()),
                                        NULL, error);
        /* a timeout is the one answer that is no answer */
        if (!r && g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                g_error("%s.%s on %s: no reply within %.1f s", interface, method, path,
                        (double) (g_get_monotonic_time() - t) / G_USEC_PER_SEC);
        return r;
}

static GVariant *call_ok(Fixture *fx, const char *path, const char *interface, const char *method,
                         GVariant *params, const char *reply_type) {
        g_autoptr(GError) error = NULL;
        GVariant *r = call(fx, path, interface, method, params, reply_type, &error);

        if (!r) {
                vh_test_bus_print_log(fx->bus);
                g_error("%s.%s on %s failed: %s", interface, method, path, error->message);
        }
        return r;
}

/* Every string valid UTF-8 (sd-bus would not have sent it otherwise, but
 * say so), and none of the canary's content: nothing outside was read. */
static void assert_strings_utf8(GVariant *v) {
        if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) || g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH)) {
                const char *s = g_variant_get_string(v, NULL);

                g_assert_true(g_utf8_validate(s, -1, NULL));
                if (strstr(s, "CANARY"))
                        g_error("a reply holds the canary's content: %s", s);
        } else if (g_variant_is_container(v)) {
                GVariantIter it;
                GVariant *child;

                g_variant_iter_init(&it, v);
                while ((child = g_variant_iter_next_value(&it))) {
                        assert_strings_utf8(child);
                        g_variant_unref(child);
                }
        }
}

static GVariant *device_option(const char *address) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (address)
                g_variant_builder_add(&b, "{sv}", "device", g_variant_new_string(address));
        return g_variant_builder_end(&b);
}

/* Every call a client can make that reads, each one answered. */
static void exercise(Fixture *fx) {
        g_autoptr(GVariant) objects = NULL, inner = NULL;
        GVariantIter it;
        const char *path;
        GVariant *ifaces;
        guint n_devices = 0;

        objects = call_ok(fx, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
                          "(a{oa{sa{sv}}})");
        assert_strings_utf8(objects);
        inner = g_variant_get_child_value(objects, 0);
        g_assert_cmpuint(g_variant_n_children(inner), >, 0);

        g_variant_iter_init(&it, inner);
        while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                GVariantIter iit;
                const char *iface;
                GVariant *props;

                g_variant_iter_init(&iit, ifaces);
                while (g_variant_iter_next(&iit, "{&s@a{sv}}", &iface, &props)) {
                        GVariantIter pit;
                        const char *prop;
                        GVariant *value;

                        g_variant_iter_init(&pit, props);
                        while (g_variant_iter_next(&pit, "{&sv}", &prop, &value)) {
                                g_autoptr(GVariant) got = call_ok(fx, path, "org.freedesktop.DBus.Properties", "Get",
                                                                  g_variant_new("(ss)", iface, prop), "(v)");
                                assert_strings_utf8(got);
                                g_variant_unref(value);
                        }

                        if (g_str_equal(iface, VH_DEVICE_INTERFACE)) {
                                g_autoptr(GVariant) address = g_variant_lookup_value(props, "Address", G_VARIANT_TYPE_STRING);
                                g_autoptr(GVariant) dev = NULL, report = NULL;
                                const char *object = NULL;

                                g_assert_nonnull(address);
                                dev = call_ok(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                              g_variant_new("(@s)", address), "(o)");
                                g_variant_get(dev, "(&o)", &object);
                                g_assert_cmpstr(object, ==, path);
                                report = call_ok(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                                                 g_variant_new("(@a{sv})",
                                                               device_option(g_variant_get_string(address, NULL))),
                                                 "(saa{sv})");
                                assert_strings_utf8(report);
                                n_devices++;
                        }
                        g_variant_unref(props);
                }
                g_variant_unref(ifaces);
        }
        g_assert_cmpuint(n_devices, >, 0);

        {
                g_autoptr(GVariant) report = call_ok(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                                                     g_variant_new("(@a{sv})", device_option(NULL)), "(saa{sv})");
                assert_strings_utf8(report);
        }
}

/* A Bind that has to write (journal, driver_override, unbind, probe):
 * 00:14.0's plan is OK on desktop-intel. Whatever it answers, it answers. */
static void try_bind(Fixture *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        r = call(fx, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Bind",
                 g_variant_new("(s@a{sv})", "0000:00:14.0", g_variant_builder_end(&b)), "(a{sv})", &error);
        g_test_message("Bind 0000:00:14.0: %s", r ? "done" : error->message);
}

/* ---------- the tests ---------- */

static void canary_file(Fixture *fx, const char *name, const char *content) {
        g_autofree char *path = at(fx->canary, name);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, content, -1, &error));
}

static void fixture_setup(Fixture *fx, const Variant *v, gboolean walk) {
        fx->walk = walk;
        fx->bus = vh_test_bus_new();
        fx->copy = vh_test_bus_copy_host(fx->bus, v->host);
        g_assert_nonnull(fx->copy);
        g_assert_true(vh_test_is_temp_dir(fx->copy));

        /* Outside the copy (a sibling in the test's directory): what the
         * hostile links point at. */
        fx->canary = g_build_filename(fx->bus->dir, "canary", NULL);
        g_assert_cmpint(g_mkdir(fx->canary, 0755), ==, 0);
        canary_file(fx, "unbind", "untouched\n");
        canary_file(fx, "journal.json", "{\"canary\": true}\n");
        canary_file(fx, "vendor", "0x1234\n");
        canary_file(fx, "cmdline", "CANARY intel_iommu=on iommu=pt\n");
        canary_file(fx, "type", "CANARY\n");
        canary_file(fx, "comm", "CANARY\n");
        {
                g_autofree char *fd_dir = at(fx->canary, "fd");
                g_autofree char *fd3 = at(fx->canary, "fd/3");
                g_autofree char *devices = at(fx->canary, "devices");

                g_assert_cmpint(g_mkdir(fd_dir, 0755), ==, 0);
                g_assert_cmpint(symlink("/dev/dri/card0", fd3), ==, 0);
                g_assert_cmpint(g_mkdir(devices, 0755), ==, 0);
        }
}

static void fixture_teardown(Fixture *fx) {
        if (fx->canary_before) {
                g_autoptr(GPtrArray) after = snapshot(fx->canary);

                for (guint i = 0; i < fx->canary_before->len || i < after->len; i++) {
                        const char *b = i < fx->canary_before->len ? fx->canary_before->pdata[i] : "(nothing)";
                        const char *a = i < after->len ? after->pdata[i] : "(nothing)";

                        if (!g_str_equal(a, b)) {
                                vh_test_bus_print_log(fx->bus);
                                g_error("the canary outside the root changed: '%s' is now '%s'", b, a);
                        }
                }
                g_ptr_array_unref(fx->canary_before);
        }
        g_free(fx->copy);
        g_free(fx->canary);
        vh_test_bus_free(fx->bus);
}

static void test_variant(gconstpointer data) {
        const Variant *v = data;
        const char *resolve = g_str_has_suffix(g_test_get_path(), "/walk") ? "walk" : "openat2";
        g_autofree char *env_resolve = g_strdup_printf("VFIOHOST_TEST_RESOLVE=%s", resolve);
        const char *env[] = { env_resolve, NULL };
        Fixture fx = {};
        gint64 t;
        double seconds;

        if (!vh_test_bus_requirements())
                return;
        fixture_setup(&fx, v, g_str_equal(resolve, "walk"));
        v->edit(&fx);
        fx.canary_before = snapshot(fx.canary);

        t = g_get_monotonic_time();
        vh_test_bus_start_daemon_full(fx.bus, fx.copy, NULL, env);
        seconds = (double) (g_get_monotonic_time() - t) / G_USEC_PER_SEC;
        g_test_message("%s (%s): serving after %.3f s", v->name, resolve, seconds);
        if (seconds > 1.0 * vh_test_timeout_multiplier()) {
                vh_test_bus_print_log(fx.bus);
                g_error("%s: the daemon took %.2f s to start", v->name, seconds);
        }

        exercise(&fx);
        try_bind(&fx);
        /* still serving after the Bind */
        exercise(&fx);

        g_assert_cmpint(vh_test_bus_stop_daemon(fx.bus), ==, 0);
        fixture_teardown(&fx);
}

/* A FIFO in place of the journal: the daemon refuses to start, at once,
 * naming the file (it used to block in open() with its signals blocked). */
static void test_journal_fifo(gconstpointer data) {
        const char *resolve = data;
        g_autofree char *env_resolve = g_strdup_printf("VFIOHOST_TEST_RESOLVE=%s", resolve);
        const char *env[] = { env_resolve, NULL };
        static const Variant v = { "journal-fifo", "desktop-vfio-bound", NULL };
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(VhTestRun) run = NULL;
        g_autofree char *limit = NULL;
        Fixture fx = {};

        if (!vh_test_bus_requirements())
                return;
        fixture_setup(&fx, &v, g_str_equal(resolve, "walk"));
        fifo_at(&fx, "var/lib/vfiohost/journal.json");
        fx.canary_before = snapshot(fx.canary);

        /* timeout(1) ends a daemon that blocks; it would exit 124 */
        limit = g_strdup_printf("%.0f", 10 * vh_test_timeout_multiplier());
        argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup("timeout"));
        g_ptr_array_add(argv, g_strdup(limit));
        {
                g_autoptr(GPtrArray) daemon = vh_test_daemon_argv();
                for (guint i = 0; i < daemon->len; i++)
                        g_ptr_array_add(argv, g_strdup(daemon->pdata[i]));
        }
        g_ptr_array_add(argv, g_strdup("--root"));
        g_ptr_array_add(argv, g_strdup(fx.copy));
        g_ptr_array_add(argv, g_strdup("--no-idle-exit"));
        g_ptr_array_add(argv, NULL);
        run = vh_test_bus_run_env(fx.bus, (const char *const *) argv->pdata, -1, env);

        g_test_message("journal-fifo (%s): exit status %d after %.3f s: %s", resolve, run->status, run->seconds, run->err);
        if (run->status == 124)
                g_error("the daemon blocked on the journal FIFO");
        g_assert_cmpint(run->status, !=, 0);
        g_assert_cmpfloat(run->seconds, <, 1.0 * vh_test_timeout_multiplier());
        g_assert_nonnull(strstr(run->err, "journal"));
        g_assert_nonnull(strstr(run->err, "var/lib/vfiohost/journal.json"));
        g_assert_false(vh_test_bus_name_has_owner(fx.bus, VH_BUS_NAME));

        fixture_teardown(&fx);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(variants); i++)
                for (int w = 0; w < 2; w++) {
                        g_autofree char *path = g_strdup_printf("/hostile/%s/%s", variants[i].name,
                                                                w ? "walk" : "openat2");
                        g_test_add_data_func(path, &variants[i], test_variant);
                }
        g_test_add_data_func("/hostile/journal-fifo/openat2", "openat2", test_journal_fifo);
        g_test_add_data_func("/hostile/journal-fifo/walk", "walk", test_journal_fifo);

        return g_test_run();
}
