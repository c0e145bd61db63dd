/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.SetVfCount end to end: the daemon as root on a copy of
 * server-sriov-vfs, the fake kernel creating and removing VFs as the PCI
 * core does (tests/harness/vh-fake-kernel.h). Checked in the tree (VF
 * directories, driver links, /dev/vfio nodes, sriov_drivers_autoprobe, the
 * journal), in the fake kernel's log (every write, every bind: a VF asked
 * for on vfio-pci never meets its host driver) and on the bus. Refusals and
 * dry runs leave the tree byte-identical; faults come from
 * VFIOHOST_TEST_FAULTS in the daemon's own sysfs layer. */
#include <math.h>
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#include "vh-fake-kernel.h"
#include "vh-names.h"
#include "vh-test-bus.h"

#define HOST     "server-sriov-vfs"
#define PF_VFS   "0000:3b:00.0"         /* 2 VFs: iavf (the default route), vfio-pci */
#define PF       "0000:3b:00.1"         /* no VFs yet; they come at 3b:03.x */
#define PF_VFIO  "0000:3b:00.3"         /* on vfio-pci, enable_sriov=N */
#define AUTOPROBE "sys/bus/pci/devices/" PF "/sriov_drivers_autoprobe"
#define JOURNAL  "var/lib/vfiohost/journal.json"

static const char *const ignore_state_dir[] = { "var", NULL };

typedef struct {
        VhTestBus *bus;
        char *root;
        VhFakeKernel *kernel;
        GHashTable *initial;
        goffset log_mark;
} Fx;

static double scaled(double s) {
        return s * vh_test_timeout_multiplier();
}

static Fx *fx_new(void) {
        Fx *fx;

        if (!vh_test_bus_requirements())
                return NULL;
        fx = g_new0(Fx, 1);
        fx->bus = vh_test_bus_new();
        fx->root = vh_test_bus_copy_host(fx->bus, HOST);
        fx->kernel = fx->root ? vh_fake_kernel_new(fx->root) : NULL;
        if (!fx->kernel) {
                fx->bus->skipped = TRUE;
                vh_test_bus_free(fx->bus);
                g_free(fx->root);
                g_free(fx);
                return NULL;
        }
        /* The X710's VFs are iavf's: what must never touch VFs asked for on vfio-pci. */
        vh_fake_kernel_set_vf_driver(fx->kernel, PF, "iavf");
        fx->initial = vh_test_tree_snapshot(fx->root);
        return fx;
}

static void fx_free(Fx *fx) {
        if (!fx)
                return;
        vh_test_bus_free(fx->bus);
        vh_fake_kernel_free(fx->kernel);
        g_hash_table_unref(fx->initial);
        g_free(fx->root);
        g_free(fx);
}

static void fx_start(Fx *fx, const char *faults) {
        g_autofree char *timeout = g_strdup_printf("%d", (int) ceil(2.0 * vh_test_timeout_multiplier()));
        g_autofree char *fault_env = faults ? g_strdup_printf("VFIOHOST_TEST_FAULTS=%s", faults) : NULL;
        const char *args[] = { "--write-timeout", timeout, NULL };
        const char *env[] = { fault_env, NULL };
        GStatBuf st;

        fx->log_mark = g_stat(fx->bus->log_path, &st) == 0 ? (goffset) st.st_size : 0;
        vh_test_bus_start_daemon_full(fx->bus, fx->root, args, faults ? env : NULL);
}

static gboolean daemon_log_has(Fx *fx, const char *text) {
        g_autofree char *content = NULL;
        gsize len = 0;

        if (!g_file_get_contents(fx->bus->log_path, &content, &len, NULL) || (goffset) len < fx->log_mark)
                return FALSE;
        return strstr(content + fx->log_mark, text) != NULL;
}

static void wait_kernel_idle(Fx *fx) {
        if (!vh_fake_kernel_wait_idle(fx->kernel, 10))
                g_error("the fake kernel did not become idle");
}

static char *tree_read(Fx *fx, const char *rel) {
        g_autofree char *path = g_build_filename(fx->root, rel, NULL);
        char *content = NULL;

        if (!g_file_get_contents(path, &content, NULL, NULL))
                return NULL;
        return g_strchomp(content);
}

static char *tree_driver(Fx *fx, const char *address) {
        g_autofree char *link = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver", fx->root, address);
        g_autofree char *target = g_file_read_link(link, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static void assert_tree_initial(Fx *fx) {
        g_autoptr(GHashTable) now = NULL;
        g_autofree char *diff = NULL;

        wait_kernel_idle(fx);
        now = vh_test_tree_snapshot(fx->root);
        diff = vh_test_tree_diff(fx->initial, now, ignore_state_dir);
        if (diff) {
                g_test_message("the tree changed:\n%s", diff);
                g_error("the tree changed (see above)");
        }
}

/* The journal holds no VF count record (nothing left to settle). */
static gboolean journal_has_vf_count(Fx *fx) {
        g_autofree char *content = tree_read(fx, JOURNAL);

        return content && strstr(content, "\"vf_counts\"");
}

static GVariant *vardict(const char *driver, gboolean dry_run, gboolean force) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        if (driver)
                g_variant_builder_add(&b, "{sv}", "driver", g_variant_new_string(driver));
        if (dry_run)
                g_variant_builder_add(&b, "{sv}", "dry-run", g_variant_new_boolean(TRUE));
        if (force)
                g_variant_builder_add(&b, "{sv}", "force", g_variant_new_boolean(TRUE));
        return g_variant_builder_end(&b);
}

static GVariant *set_vf_count(Fx *fx, const char *pf, guint count, GVariant *opts, GError **error) {
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "SetVfCount",
                                                 g_variant_new("(su@a{sv})", pf, count, opts), "(a{sv})", error);

        return r ? g_variant_get_child_value(r, 0) : NULL;
}

/* A call that must have failed with the error name, its message holding
 * needle (NULL: any). */
static void assert_error(GVariant *r, GError *error, const char *name, const char *needle) {
        g_autofree char *remote = NULL;

        g_assert_null(r);
        g_assert_nonnull(error);
        remote = g_dbus_error_get_remote_error(error);
        g_test_message("%s: %s", remote, error->message);
        g_assert_cmpstr(remote, ==, name);
        if (needle && !strstr(error->message, needle))
                g_error("'%s' not in: %s", needle, error->message);
}

static void assert_refused(Fx *fx, const char *pf, guint count, GVariant *opts, const char *name, const char *needle) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = set_vf_count(fx, pf, count, opts, &error);

        assert_error(r, error, name, needle);
}

static guint32 pf_property_u(Fx *fx, const char *pf, const char *property) {
        g_autofree char *path = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, pf);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, property, &error);

        g_assert_no_error(error);
        return g_variant_get_uint32(v);
}

/* No log line says a VF of the PF was ever bound to a driver but want. */
static void assert_vfs_only_on(Fx *fx, const char *prefix, const char *want) {
        g_auto(GStrv) log = vh_fake_kernel_log(fx->kernel);

        for (size_t i = 0; log[i]; i++) {
                g_autofree char *start = g_strdup_printf("+ %s", prefix);

                if (g_str_has_prefix(log[i], start) && !g_str_has_suffix(log[i], want))
                        g_error("a VF met another driver: %s", log[i]);
        }
}

static void assert_writes(Fx *fx, const char *const *expected) {
        g_auto(GStrv) writes = vh_fake_kernel_writes(fx->kernel);
        g_autofree char *got = g_strjoinv("\n  ", writes);
        g_autofree char *want = g_strjoinv("\n  ", (char **) expected);

        if (strcmp(got, want) != 0) {
                g_test_message("sysfs writes differ:\nexpected:\n  %s\ngot:\n  %s", want, got);
                g_error("sysfs writes differ (see above)");
        }
}

static const char *const create_writes[] = {
        "devices/" PF "/sriov_drivers_autoprobe 0",
        "devices/" PF "/sriov_numvfs 4",
        "devices/0000:3b:03.0/driver_override vfio-pci",
        "drivers_probe 0000:3b:03.0",
        "devices/0000:3b:03.1/driver_override vfio-pci",
        "drivers_probe 0000:3b:03.1",
        "devices/0000:3b:03.2/driver_override vfio-pci",
        "drivers_probe 0000:3b:03.2",
        "devices/0000:3b:03.3/driver_override vfio-pci",
        "drivers_probe 0000:3b:03.3",
        "devices/" PF "/sriov_drivers_autoprobe 1",
        NULL
};

/* 0 → 4 on vfio-pci: each VF on vfio-pci with its /dev/vfio node, never
 * on iavf; autoprobe off only meanwhile; then 4 → 2 through 0. */
static void test_create_and_change(void) {
        g_autoptr(GVariant) r = NULL, vfs = NULL, again = NULL;
        g_autofree char *autoprobe = NULL;
        guint32 before = 99, count = 0;
        gboolean dry_run = TRUE;
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, NULL);
        vh_fake_kernel_reset(fx->kernel);

        r = set_vf_count(fx, PF, 4, vardict("vfio-pci", FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        wait_kernel_idle(fx);
        assert_writes(fx, create_writes);
        assert_vfs_only_on(fx, "0000:3b:03.", "vfio-pci");
        g_assert_true(g_variant_lookup(r, "count-before", "u", &before));
        g_assert_true(g_variant_lookup(r, "count", "u", &count));
        g_assert_true(g_variant_lookup(r, "dry-run", "b", &dry_run));
        g_assert_cmpuint(before, ==, 0);
        g_assert_cmpuint(count, ==, 4);
        g_assert_false(dry_run);
        vfs = g_variant_lookup_value(r, "vfs", G_VARIANT_TYPE("aa{sv}"));
        g_assert_cmpuint(g_variant_n_children(vfs), ==, 4);
        for (gsize i = 0; i < 4; i++) {
                g_autoptr(GVariant) vf = g_variant_get_child_value(vfs, i);
                g_autofree char *want = g_strdup_printf("0000:3b:03.%zu", i);
                g_autofree char *node = NULL, *driver = NULL;
                const char *address = NULL, *vf_driver = NULL, *device = NULL;
                gint32 group = -1;

                g_assert_true(g_variant_lookup(vf, "address", "&s", &address));
                g_assert_true(g_variant_lookup(vf, "driver", "&s", &vf_driver));
                g_assert_true(g_variant_lookup(vf, "device", "&o", &device));
                g_assert_true(g_variant_lookup(vf, "group", "i", &group));
                g_assert_cmpstr(address, ==, want);
                g_assert_cmpstr(vf_driver, ==, "vfio-pci");
                g_assert_cmpint(group, >, 41);
                driver = tree_driver(fx, address);
                g_assert_cmpstr(driver, ==, "vfio-pci");
                node = g_strdup_printf("%s/dev/vfio/%d", fx->root, group);
                g_assert_true(g_file_test(node, G_FILE_TEST_EXISTS));
                {
                        /* The object exists once the reply is there. */
                        g_autoptr(GVariant) path = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                                    "GetDevice", g_variant_new("(s)", address),
                                                                    "(o)", NULL);
                        const char *p = NULL;

                        g_assert_nonnull(path);
                        g_variant_get(path, "(&o)", &p);
                        g_assert_cmpstr(p, ==, device);
                }
        }
        autoprobe = tree_read(fx, AUTOPROBE);
        g_assert_cmpstr(autoprobe, ==, "1");
        g_assert_false(journal_has_vf_count(fx));
        g_assert_cmpuint(pf_property_u(fx, PF, "SriovNumVfs"), ==, 4);

        /* 4 → 2: the kernel takes no N→M, so through 0; no driver asked:
         * autoprobe stays on and gives them iavf. */
        vh_fake_kernel_reset(fx->kernel);
        again = set_vf_count(fx, PF, 2, vardict(NULL, FALSE, FALSE), NULL);
        g_assert_nonnull(again);
        wait_kernel_idle(fx);
        {
                const char *const through_zero[] = { "devices/" PF "/sriov_numvfs 0", "devices/" PF "/sriov_numvfs 2",
                                                     NULL };
                g_auto(GStrv) log = vh_fake_kernel_log(fx->kernel);

                assert_writes(fx, through_zero);
                for (size_t i = 0; log[i]; i++)
                        g_assert_null(strstr(log[i], "EBUSY"));
        }
        {
                g_autofree char *d0 = tree_driver(fx, "0000:3b:03.0");
                g_autofree char *vfio3 = g_strdup_printf("%s/sys/bus/pci/devices/0000:3b:03.3", fx->root);

                g_assert_cmpstr(d0, ==, "iavf");
                g_assert_false(g_file_test(vfio3, G_FILE_TEST_EXISTS));
        }
        g_assert_cmpuint(pf_property_u(fx, PF, "SriovNumVfs"), ==, 2);
        fx_free(fx);
}

/* Every refusal and the dry run: named errors, not one write, not one byte. */
static void test_refusals(void) {
        g_autoptr(GVariant) dry = NULL, vfs = NULL;
        gboolean dry_run = FALSE;
        Fx *fx = fx_new();

        if (!fx)
                return;
        /* A VM holds VF1's /dev/vfio/24. */
        {
                g_autofree char *fd = g_build_filename(fx->root, "proc/4242/fd", NULL);
                g_autofree char *comm = g_build_filename(fx->root, "proc/4242/comm", NULL);
                g_autofree char *link = g_build_filename(fd, "20", NULL);

                g_assert_cmpint(g_mkdir_with_parents(fd, 0755), ==, 0);
                g_assert_true(g_file_set_contents(comm, "qemu-system-x86\n", -1, NULL));
                g_assert_cmpint(symlink("/dev/vfio/24", link), ==, 0);
                g_hash_table_unref(fx->initial);
                fx->initial = vh_test_tree_snapshot(fx->root);
        }
        fx_start(fx, NULL);
        vh_fake_kernel_reset(fx->kernel);

        assert_refused(fx, PF, 9, vardict(NULL, FALSE, FALSE), "org.freedesktop.DBus.Error.InvalidArgs", "at most 8");
        assert_refused(fx, PF_VFIO, 2, vardict(NULL, FALSE, FALSE), "org.freedesktop.DBus.Error.InvalidArgs",
                       "/sys/module/vfio_pci/parameters/enable_sriov");
        assert_refused(fx, PF, 2, vardict("ixgbevf", FALSE, FALSE), "org.freedesktop.DBus.Error.InvalidArgs",
                       "not loaded");
        assert_refused(fx, PF_VFS, 0, vardict(NULL, FALSE, FALSE), "org.vfiohost.Error.HostCritical", "ens1f0v0");
        assert_refused(fx, PF_VFS, 0, vardict(NULL, FALSE, TRUE), "org.vfiohost.Error.HasVirtualFunctions",
                       "pid 4242 (qemu-system-x86) holds /dev/vfio/24");
        assert_refused(fx, PF_VFS, 4, vardict("vfio-pci", TRUE, TRUE), "org.vfiohost.Error.HasVirtualFunctions",
                       "pid 4242");
        assert_refused(fx, "0000:3b:02.0", 1, vardict(NULL, FALSE, FALSE), "org.freedesktop.DBus.Error.InvalidArgs",
                       "virtual function of");
        assert_refused(fx, "3b:00.1", 1, vardict(NULL, FALSE, FALSE), "org.vfiohost.Error.InvalidAddress", NULL);

        dry = set_vf_count(fx, PF, 4, vardict("vfio-pci", TRUE, FALSE), NULL);
        g_assert_nonnull(dry);
        g_assert_true(g_variant_lookup(dry, "dry-run", "b", &dry_run));
        g_assert_true(dry_run);
        vfs = g_variant_lookup_value(dry, "vfs", G_VARIANT_TYPE("aa{sv}"));
        g_assert_cmpuint(g_variant_n_children(vfs), ==, 4);

        wait_kernel_idle(fx);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        assert_tree_initial(fx);
        {
                g_autofree char *journal = g_build_filename(fx->root, JOURNAL, NULL);

                g_assert_false(g_file_test(journal, G_FILE_TEST_EXISTS));
        }
        fx_free(fx);
}

/* A driver without sriov_configure: the kernel creates nothing. Failed,
 * saying so; autoprobe back on. */
static void test_pf_unable(void) {
        g_autofree char *autoprobe = NULL;
        Fx *fx = fx_new();

        if (!fx)
                return;
        vh_fake_kernel_set_sriov_unsupported(fx->kernel, PF, TRUE);
        fx_start(fx, NULL);
        assert_refused(fx, PF, 4, vardict("vfio-pci", FALSE, FALSE), "org.vfiohost.Error.Failed",
                       "cannot create them");
        g_assert_true(vh_fake_kernel_wait_for(fx->kernel, "! " PF " sriov_numvfs: ENOENT (the driver cannot create VFs)",
                                              5));
        autoprobe = tree_read(fx, AUTOPROBE);
        g_assert_cmpstr(autoprobe, ==, "1");
        assert_tree_initial(fx);
        g_assert_false(journal_has_vf_count(fx));
        fx_free(fx);
}

/* The second VF's override fails: the new VFs go again, autoprobe is back,
 * the tree is as before. */
static void test_fault_rollback(void) {
        g_autoptr(GError) error = NULL;
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, "driver_override@0000:3b:03.1=EIO");
        assert_refused(fx, PF, 4, vardict("vfio-pci", FALSE, FALSE), "org.vfiohost.Error.Failed",
                       "Now: " PF " has 0 VFs (it had 0), sriov_drivers_autoprobe restored.");
        assert_vfs_only_on(fx, "0000:3b:03.", "vfio-pci");
        assert_tree_initial(fx);
        g_assert_false(journal_has_vf_count(fx));
        g_assert_cmpuint(pf_property_u(fx, PF, "SriovNumVfs"), ==, 0);
        fx_free(fx);
}

typedef struct {
        gboolean done;
        GError *error;
} Pending;

/* The JSON a vfiohostctl run printed, which must have succeeded. */
static json_object *run_json(VhTestRun *run) {
        json_object *j;

        if (run->status != 0)
                vh_test_run_print(run, "vfiohostctl");
        g_assert_cmpint(run->status, ==, 0);
        j = json_tokener_parse(run->out);
        g_assert_nonnull(j);
        vh_test_run_free(run);
        return j;
}

static int64_t json_int(json_object *j, const char *key) {
        json_object *v;

        g_assert_true(json_object_object_get_ex(j, key, &v));
        return json_object_get_int64(v);
}

/* vfiohostctl vfs: shows the PF and its VFs; with a COUNT and --driver it
 * sets them through SetVfCount and lists what it created. */
static void test_ctl(void) {
        json_object *j, *vfs, *v;
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, NULL);

        j = run_json(vh_test_bus_run_ctl(fx->bus, "--json", "vfs", PF_VFS, NULL));
        g_assert_cmpint(json_int(j, "total_vfs"), ==, 8);
        g_assert_cmpint(json_int(j, "num_vfs"), ==, 2);
        g_assert_true(json_object_object_get_ex(j, "vfs", &vfs));
        g_assert_cmpuint(json_object_array_length(vfs), ==, 2);
        json_object_put(j);

        j = run_json(vh_test_bus_run_ctl(fx->bus, "--json", "vfs", PF, "3", "--driver", "vfio-pci", NULL));
        g_assert_true(json_object_object_get_ex(j, "vfs", &vfs));
        g_assert_cmpuint(json_object_array_length(vfs), ==, 3);
        for (size_t i = 0; i < 3; i++) {
                v = json_object_array_get_idx(vfs, i);
                g_assert_true(json_object_object_get_ex(v, "driver", &v));
                g_assert_cmpstr(json_object_get_string(v), ==, "vfio-pci");
        }
        g_assert_cmpint(json_int(j, "count"), ==, 3);
        g_assert_cmpint(json_int(j, "count_before"), ==, 0);
        json_object_put(j);
        wait_kernel_idle(fx);
        assert_vfs_only_on(fx, "0000:3b:03.", "vfio-pci");

        j = run_json(vh_test_bus_run_ctl(fx->bus, "--json", "vfs", PF, NULL));
        g_assert_cmpint(json_int(j, "num_vfs"), ==, 3);
        json_object_put(j);

        /* A count that is not one: refused before any call. */
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "vfs", PF, "two", NULL);

                g_assert_cmpint(run->status, !=, 0);
                g_assert_nonnull(strstr(run->err, "is not a number of virtual functions"));
        }
        fx_free(fx);
}

static void on_done(GObject *source, GAsyncResult *res, gpointer data) {
        Pending *p = data;
        g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &p->error);

        p->done = TRUE;
}

/* kill -9 while VF 0's override hangs (autoprobe 0, 4 VFs without a
 * driver): the next start turns autoprobe back on and puts every VF on
 * vfio-pci, as asked; none ever met iavf. */
static void test_kill(void) {
        g_autofree char *autoprobe = NULL;
        Pending p = {};
        gint64 deadline;
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, "driver_override@0000:3b:03.0=hang");
        g_dbus_connection_call(vh_test_bus_connection(fx->bus), VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                               "SetVfCount", g_variant_new("(su@a{sv})", PF, 4, vardict("vfio-pci", FALSE, FALSE)),
                               G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, (int) (scaled(60) * 1000), NULL,
                               on_done, &p);
        deadline = g_get_monotonic_time() + (gint64) (scaled(10) * G_USEC_PER_SEC);
        while (!daemon_log_has(fx, "hangs.")) {
                if (g_get_monotonic_time() > deadline)
                        g_error("the daemon never reached the hanging write");
                g_usleep(2000);
        }
        wait_kernel_idle(fx);
        autoprobe = tree_read(fx, AUTOPROBE);
        g_assert_cmpstr(autoprobe, ==, "0");
        g_assert_true(journal_has_vf_count(fx));

        g_assert_cmpint(vh_test_bus_kill_daemon(fx->bus, SIGKILL), ==, 128 + SIGKILL);
        while (!p.done)
                g_main_context_iteration(NULL, TRUE);
        g_assert_nonnull(p.error);
        g_clear_error(&p.error);

        fx_start(fx, NULL);
        wait_kernel_idle(fx);
        g_free(autoprobe);
        autoprobe = tree_read(fx, AUTOPROBE);
        g_assert_cmpstr(autoprobe, ==, "1");
        g_assert_false(journal_has_vf_count(fx));
        for (guint i = 0; i < 4; i++) {
                g_autofree char *vf = g_strdup_printf("0000:3b:03.%u", i);
                g_autofree char *driver = tree_driver(fx, vf);

                g_assert_cmpstr(driver, ==, "vfio-pci");
        }
        assert_vfs_only_on(fx, "0000:3b:03.", "vfio-pci");
        g_assert_true(daemon_log_has(fx, "sriov_drivers_autoprobe of " PF " restored"));
        fx_free(fx);
}

/* ---- Persistent VF counts ---------------------------------------------- */

static GVariant *persist_opts(guint vfs, const char *name, gboolean group, gboolean dry_run) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        if (vfs > 0)
                g_variant_builder_add(&b, "{sv}", "vfs", g_variant_new_uint32(vfs));
        if (name)
                g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(name));
        if (group)
                g_variant_builder_add(&b, "{sv}", "group", g_variant_new_boolean(TRUE));
        if (dry_run)
                g_variant_builder_add(&b, "{sv}", "dry-run", g_variant_new_boolean(TRUE));
        return g_variant_builder_end(&b);
}

static GVariant *set_persistent(Fx *fx, const char *pf, GVariant *opts, GError **error) {
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "SetPersistent",
                                                 g_variant_new("(s@a{sv})", pf, opts), "(a{sv})", error);

        return r ? g_variant_get_child_value(r, 0) : NULL;
}

static void assert_persist_refused(Fx *fx, const char *pf, GVariant *opts, const char *name, const char *needle) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = set_persistent(fx, pf, opts, &error);

        assert_error(r, error, name, needle);
}

/* ListPersistent's entry for address, which must be there. */
static GVariant *persisted_entry(Fx *fx, const char *address) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "ListPersistent",
                                                 NULL, "(aa{sv})", &error);
        g_autoptr(GVariant) l = NULL;

        g_assert_no_error(error);
        l = g_variant_get_child_value(r, 0);
        for (gsize i = 0; i < g_variant_n_children(l); i++) {
                g_autoptr(GVariant) e = g_variant_get_child_value(l, i);
                const char *a = NULL;

                if (g_variant_lookup(e, "address", "&s", &a) && strcmp(a, address) == 0)
                        return g_steal_pointer(&e);
        }
        g_error("%s is not in ListPersistent", address);
}

static char *entry_get(GVariant *e, const char *key) {
        const char *v = NULL;

        g_assert_true(g_variant_lookup(e, key, "&s", &v));
        return g_strdup(v);
}

/* Waits until the assignment at address is in state; returns its reason. */
static char *wait_persisted_state(Fx *fx, const char *address, const char *state) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (scaled(10) * G_USEC_PER_SEC);

        for (;;) {
                g_autoptr(GVariant) e = persisted_entry(fx, address);
                g_autofree char *now = entry_get(e, "state");

                if (strcmp(now, state) == 0)
                        return entry_get(e, "reason");
                if (g_get_monotonic_time() > deadline) {
                        g_autofree char *reason = entry_get(e, "reason");

                        g_error("%s stayed %s, not %s: %s", address, now, state, reason);
                }
                g_usleep(10000);
        }
}

static void assert_vfs_on(Fx *fx, guint n, const char *driver) {
        for (guint i = 0; i < n; i++) {
                g_autofree char *vf = g_strdup_printf("0000:3b:03.%u", i);
                g_autofree char *got = tree_driver(fx, vf);

                g_assert_cmpstr(got, ==, driver);
        }
}

static void restart(Fx *fx) {
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        wait_kernel_idle(fx);
        vh_fake_kernel_reset(fx->kernel);
        fx_start(fx, NULL);
}

/* SetPersistent with vfs: SetVfCount's refusals (no force) with nothing
 * written and nothing saved; then 4 VFs on vfio-pci made and saved. The
 * count is made again at start from none — with the same writes, VFs never
 * on iavf — and VFs of the right count on iavf are moved to vfio-pci; a
 * count the user set otherwise is left alone, saying what to do. */
static void test_persist(void) {
        g_autoptr(GVariant) r = NULL, vfs = NULL, a = NULL;
        g_autofree char *store = NULL, *reason = NULL, *state = NULL;
        guint32 n = 0;
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, NULL);
        vh_fake_kernel_reset(fx->kernel);

        assert_persist_refused(fx, PF, persist_opts(9, NULL, FALSE, FALSE), "org.freedesktop.DBus.Error.InvalidArgs",
                               "at most 8");
        assert_persist_refused(fx, PF, persist_opts(2, NULL, TRUE, FALSE), "org.freedesktop.DBus.Error.InvalidArgs",
                               "'group' does not go with 'vfs'");
        assert_persist_refused(fx, PF_VFIO, persist_opts(2, NULL, FALSE, FALSE),
                               "org.freedesktop.DBus.Error.InvalidArgs", "enable_sriov");
        /* 2 → 4 goes through 0, and VF 0 carries the default route. */
        assert_persist_refused(fx, PF_VFS, persist_opts(4, NULL, FALSE, FALSE), "org.vfiohost.Error.HostCritical",
                               "ens1f0v0");
        r = set_persistent(fx, PF, persist_opts(4, NULL, FALSE, TRUE), NULL);
        g_assert_nonnull(r);
        vfs = g_variant_lookup_value(r, "vfs", G_VARIANT_TYPE("aa{sv}"));
        g_assert_cmpuint(g_variant_n_children(vfs), ==, 4);
        g_assert_null(g_variant_lookup_value(r, "assignment", NULL));
        g_clear_pointer(&r, g_variant_unref);
        g_clear_pointer(&vfs, g_variant_unref);
        wait_kernel_idle(fx);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);
        assert_tree_initial(fx);
        store = tree_read(fx, "var/lib/vfiohost/assignments.json");
        g_assert_null(store);

        r = set_persistent(fx, PF, persist_opts(4, "vfpool", FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        wait_kernel_idle(fx);
        assert_writes(fx, create_writes);
        assert_vfs_on(fx, 4, "vfio-pci");
        vfs = g_variant_lookup_value(r, "vfs", G_VARIANT_TYPE("aa{sv}"));
        g_assert_cmpuint(g_variant_n_children(vfs), ==, 4);
        a = g_variant_lookup_value(r, "assignment", G_VARIANT_TYPE_VARDICT);
        g_assert_nonnull(a);
        g_assert_true(g_variant_lookup(a, "vfs", "u", &n));
        g_assert_cmpuint(n, ==, 4);
        state = entry_get(a, "state");
        g_assert_cmpstr(state, ==, "applied");
        store = tree_read(fx, "var/lib/vfiohost/assignments.json");
        g_assert_nonnull(strstr(store, "\"version\":2"));
        g_assert_nonnull(strstr(store, "\"vfs\":4"));
        /* The PF keeps its driver; the VFs carry the assignment's name. */
        {
                g_autofree char *pf_driver = tree_driver(fx, PF);
                g_autofree char *path = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, "0000:3b:03.2");
                g_autoptr(GVariant) name = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, "Name", NULL);

                g_assert_cmpstr(pf_driver, ==, "i40e");
                g_assert_cmpstr(g_variant_get_string(name, NULL), ==, "vfpool");
        }

        /* The user takes them away: not fought. */
        g_clear_pointer(&r, g_variant_unref);
        r = set_vf_count(fx, "vfpool", 0, vardict(NULL, FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        reason = wait_persisted_state(fx, PF, "not-applied");
        g_assert_nonnull(strstr(reason, "applied when vfiohostd starts"));
        wait_kernel_idle(fx);
        g_assert_cmpuint(pf_property_u(fx, PF, "SriovNumVfs"), ==, 0);

        /* Made again at start, the same way. */
        restart(fx);
        g_free(reason);
        reason = wait_persisted_state(fx, PF, "applied");
        g_assert_cmpstr(reason, ==, "4 VFs, each on vfio-pci.");
        wait_kernel_idle(fx);
        assert_writes(fx, create_writes);
        assert_vfs_only_on(fx, "0000:3b:03.", "vfio-pci");

        /* Another count, on iavf: left alone at start, saying what to do. */
        g_clear_pointer(&r, g_variant_unref);
        r = set_vf_count(fx, PF, 2, vardict(NULL, FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        restart(fx);
        g_free(reason);
        reason = wait_persisted_state(fx, PF, "not-applied");
        g_assert_nonnull(strstr(reason, "2 VFs, not the 4 persisted"));
        g_assert_nonnull(strstr(reason, "vfiohostctl vfs vfpool 4 --driver vfio-pci"));
        wait_kernel_idle(fx);
        g_assert_cmpuint(vh_fake_kernel_n_writes(fx->kernel), ==, 0);

        /* The count persisted, on iavf: each VF is moved to vfio-pci. */
        g_clear_pointer(&r, g_variant_unref);
        r = set_vf_count(fx, PF, 4, vardict(NULL, FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        wait_kernel_idle(fx);
        assert_vfs_on(fx, 4, "iavf");
        restart(fx);
        g_free(reason);
        reason = wait_persisted_state(fx, PF, "applied");
        wait_kernel_idle(fx);
        assert_vfs_on(fx, 4, "vfio-pci");
        g_assert_cmpuint(pf_property_u(fx, PF, "SriovNumVfs"), ==, 4);

        /* The client: --vfs 0 is no count; persisted shows it. */
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "persist", PF, "--vfs", "0", NULL);
                json_object *j, *e, *v;

                g_assert_cmpint(run->status, !=, 0);
                g_assert_nonnull(strstr(run->err, "--vfs takes 1 or more"));
                j = run_json(vh_test_bus_run_ctl(fx->bus, "--json", "persisted", NULL));
                g_assert_cmpuint(json_object_array_length(j), ==, 1);
                e = json_object_array_get_idx(j, 0);
                g_assert_true(json_object_object_get_ex(e, "vfs", &v));
                g_assert_cmpint(json_object_get_int64(v), ==, 4);
                json_object_put(j);
        }
        fx_free(fx);
}

/* A VF count whose PF has no driver yet (udev starts vfiohostd at the
 * PF's "add", before its driver loads): the daemon does not exit when idle
 * meanwhile, notices the driver — at its idle check too, should the "bind"
 * uevent be missed — makes the VFs, then exits. */
static void test_persist_waits_for_driver(void) {
        g_autoptr(GVariant) r = NULL;
        g_autofree char *link = NULL;
        const char *args[] = { "--idle-timeout", "1", NULL };
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, NULL);
        r = set_persistent(fx, PF, persist_opts(2, NULL, FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        g_clear_pointer(&r, g_variant_unref);
        r = set_vf_count(fx, PF, 0, vardict(NULL, FALSE, FALSE), NULL);
        g_assert_nonnull(r);
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        wait_kernel_idle(fx);
        link = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver", fx->root, PF);
        g_assert_cmpint(g_unlink(link), ==, 0);

        vh_test_bus_start_daemon_full(fx->bus, fx->root, args, NULL);
        {
                g_autofree char *reason = wait_persisted_state(fx, PF, "not-applied");

                g_assert_nonnull(strstr(reason, "no driver yet"));
        }
        /* Three idle periods: still there. */
        g_usleep((gulong) (scaled(3) * G_USEC_PER_SEC));
        g_assert_true(vh_test_bus_name_has_owner(fx->bus, VH_BUS_NAME));

        /* i40e takes the PF, with no uevent: the idle check sees it. */
        g_assert_cmpint(symlink("../../../../bus/pci/drivers/i40e", link), ==, 0);
        if (!vh_test_bus_wait_name(fx->bus, VH_BUS_NAME, FALSE, scaled(20)))
                g_error("vfiohostd did not exit when idle once the VFs were made");
        wait_kernel_idle(fx);
        assert_vfs_on(fx, 2, "vfio-pci");
        assert_vfs_only_on(fx, "0000:3b:03.", "vfio-pci");
        fx_free(fx);
}

/* vfiohostctl persist PF --vfs N --name NAME: made and saved, said so. */
static void test_persist_ctl(void) {
        json_object *j, *vfs, *a, *v;
        Fx *fx = fx_new();

        if (!fx)
                return;
        fx_start(fx, NULL);
        j = run_json(vh_test_bus_run_ctl(fx->bus, "--json", "persist", PF, "--vfs", "3", "--name", "pool", NULL));
        g_assert_true(json_object_object_get_ex(j, "vfs", &vfs));
        g_assert_cmpuint(json_object_array_length(vfs), ==, 3);
        g_assert_true(json_object_object_get_ex(j, "assignment", &a));
        g_assert_true(json_object_object_get_ex(a, "name", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "pool");
        json_object_put(j);
        wait_kernel_idle(fx);
        assert_vfs_on(fx, 3, "vfio-pci");
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "persisted", NULL);

                g_assert_cmpint(run->status, ==, 0);
                g_assert_nonnull(strstr(run->out, "pool"));
                g_assert_nonnull(strstr(run->out, "applied"));
        }
        fx_free(fx);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vf-count/create-and-change", test_create_and_change);
        g_test_add_func("/vf-count/refusals", test_refusals);
        g_test_add_func("/vf-count/pf-unable", test_pf_unable);
        g_test_add_func("/vf-count/fault-rollback", test_fault_rollback);
        g_test_add_func("/vf-count/kill", test_kill);
        g_test_add_func("/vf-count/ctl", test_ctl);
        g_test_add_func("/vf-count/persist", test_persist);
        g_test_add_func("/vf-count/persist-ctl", test_persist_ctl);
        g_test_add_func("/vf-count/persist-waits-for-driver", test_persist_waits_for_driver);
        return g_test_run();
}
