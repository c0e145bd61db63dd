/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent assignments over the bus (docs/persistence.md): the daemon as
 * root on a copy of desktop-intel with the fake kernel moving drivers.
 * SetPersistent binds as Bind does and saves only when the bind succeeded;
 * its refusals leave the tree byte-identical; the store survives a restart
 * and is applied at start; a card that is not the one persisted is left
 * alone and reported; names work wherever an address does. */
#include <string.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#include "vh-fake-kernel.h"
#include "vh-names.h"
#include "vh-test-bus.h"

#define GPU   "0000:01:00.0"            /* nvidia, group 2 with its audio function */
#define AUDIO "0000:01:00.1"
#define NVME  "0000:02:00.0"            /* / is mounted from it */
#define STORE "var/lib/vfiohost/assignments.json"

typedef struct {
        VhTestBus *bus;
        char *root;
        VhFakeKernel *kernel;
        GHashTable *initial;
} Fx;

static Fx *fx_new_host(const char *host) {
        Fx *fx;

        if (!vh_test_bus_requirements())
                return NULL;
        fx = g_new0(Fx, 1);
        fx->bus = vh_test_bus_new();
        fx->root = vh_test_bus_copy_host(fx->bus, host);
        fx->kernel = fx->root ? vh_fake_kernel_new(fx->root) : NULL;
        if (!fx->kernel) {
                fx->bus->skipped = TRUE;
                vh_test_bus_free(fx->bus);
                g_free(fx->root);
                g_free(fx);
                return NULL;
        }
        fx->initial = vh_test_tree_snapshot(fx->root);
        return fx;
}

static Fx *fx_new(void) {
        return fx_new_host("desktop-intel");
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

static void fx_start(Fx *fx) {
        vh_test_bus_start_daemon(fx->bus, fx->root);
}

static char *tree_driver(Fx *fx, const char *address) {
        g_autofree char *link = g_strdup_printf("%s/sys/bus/pci/devices/%s/driver", fx->root, address);
        g_autofree char *target = g_file_read_link(link, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static void assert_tree_driver(Fx *fx, const char *address, const char *driver) {
        g_autofree char *got = tree_driver(fx, address);

        g_assert_cmpstr(got, ==, driver);
}

static void wait_tree_driver(Fx *fx, const char *address, const char *driver) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (10 * vh_test_timeout_multiplier() * G_USEC_PER_SEC);

        for (;;) {
                g_autofree char *got = tree_driver(fx, address);

                if (g_strcmp0(got, driver) == 0 && vh_fake_kernel_wait_idle(fx->kernel, 10))
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("%s is on %s, not %s", address, got ? got : "no driver", driver);
                g_usleep(5000);
        }
}

/* Byte-identical but for what ignore names. */
static void assert_tree_unchanged(Fx *fx, const char *const *ignore) {
        g_autoptr(GHashTable) now = NULL;
        g_autofree char *diff = NULL;

        g_assert_true(vh_fake_kernel_wait_idle(fx->kernel, 10));
        now = vh_test_tree_snapshot(fx->root);
        diff = vh_test_tree_diff(fx->initial, now, ignore);
        if (diff) {
                g_test_message("the tree changed:\n%s", diff);
                g_error("the tree changed (see above)");
        }
}

static gboolean store_exists(Fx *fx) {
        g_autofree char *path = g_build_filename(fx->root, STORE, NULL);

        return g_file_test(path, G_FILE_TEST_EXISTS);
}

static GVariant *set_persistent(Fx *fx, const char *address, GVariant *opts, GError **error) {
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "SetPersistent",
                                                 g_variant_new("(s@a{sv})", address, opts), "(a{sv})", error);

        return r ? g_variant_get_child_value(r, 0) : NULL;
}

static GVariant *list_persistent(Fx *fx) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "ListPersistent",
                                                 NULL, "(aa{sv})", &error);

        g_assert_no_error(error);
        return g_variant_get_child_value(r, 0);
}

/* The ListPersistent entry for address; NULL when none. */
static GVariant *entry_for(Fx *fx, const char *address) {
        g_autoptr(GVariant) l = list_persistent(fx);

        for (gsize i = 0; i < g_variant_n_children(l); i++) {
                g_autoptr(GVariant) e = g_variant_get_child_value(l, i);
                const char *a = NULL;

                if (g_variant_lookup(e, "address", "&s", &a) && strcmp(a, address) == 0)
                        return g_steal_pointer(&e);
        }
        return NULL;
}

static char *entry_string(GVariant *e, const char *key) {
        const char *s = NULL;

        g_assert_true(g_variant_lookup(e, key, "&s", &s));
        return g_strdup(s);
}

static char *device_prop(Fx *fx, const char *address, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, address);
        g_autoptr(GVariant) v = vh_test_bus_get_property(fx->bus, path, VH_DEVICE_INTERFACE, name, &error);

        g_assert_no_error(error);
        return g_variant_dup_string(v, NULL);
}

static GVariant *opts_group_name(const char *name) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "group", g_variant_new_boolean(TRUE));
        if (name)
                g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(name));
        return g_variant_builder_end(&b);
}

static GVariant *opts_one(const char *key, GVariant *value) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", key, value);
        return g_variant_builder_end(&b);
}

static void assert_error(const GError *error, const char *name, const char *says) {
        g_autofree char *got = NULL;

        g_assert_nonnull(error);
        got = g_dbus_error_get_remote_error(error);
        g_assert_cmpstr(got, ==, name);
        if (says && !strstr(error->message, says))
                g_error("'%s' does not say '%s'", error->message, says);
}

/* The store on disk: the one entry, read with json-c. */
static void assert_store_entry(Fx *fx, const char *address, const char *name, gboolean group) {
        g_autofree char *path = g_build_filename(fx->root, STORE, NULL);
        json_object *root = json_object_from_file(path), *list, *e, *v, *id;

        g_assert_nonnull(root);
        g_assert_true(json_object_object_get_ex(root, "assignments", &list));
        g_assert_cmpuint(json_object_array_length(list), ==, 1);
        e = json_object_array_get_idx(list, 0);
        g_assert_true(json_object_object_get_ex(e, "address", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, address);
        g_assert_true(json_object_object_get_ex(e, "name", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, name);
        g_assert_true(json_object_object_get_ex(e, "group", &v));
        g_assert_cmpint(json_object_get_boolean(v), ==, group);
        /* The identity of the card at the address, from its sysfs files. */
        g_assert_true(json_object_object_get_ex(e, "identity", &id));
        g_assert_true(json_object_object_get_ex(id, "vendor", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "10de");
        g_assert_true(json_object_object_get_ex(id, "device", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "2684");
        json_object_put(root);
}

/* SetPersistent binds the group, saves address + identity + name, and
 * the name works as an address; ClearPersistent forgets it and leaves the
 * device where it is. */
static void test_set_and_clear(void) {
        Fx *fx = fx_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) result = NULL, assignment = NULL, e = NULL;
        g_autofree char *state = NULL, *name = NULL, *pstate = NULL, *path = NULL;
        const char *s = NULL;

        if (!fx)
                return;
        fx_start(fx);

        result = set_persistent(fx, GPU, opts_group_name("gpu"), &error);
        g_assert_no_error(error);
        assert_tree_driver(fx, GPU, "vfio-pci");
        assert_tree_driver(fx, AUDIO, "vfio-pci");
        assignment = g_variant_lookup_value(result, "assignment", G_VARIANT_TYPE_VARDICT);
        g_assert_nonnull(assignment);
        g_assert_true(g_variant_lookup(assignment, "name", "&s", &s));
        g_assert_cmpstr(s, ==, "gpu");
        assert_store_entry(fx, GPU, "gpu", TRUE);

        e = entry_for(fx, GPU);
        g_assert_nonnull(e);
        state = entry_string(e, "state");
        g_assert_cmpstr(state, ==, "applied");
        name = device_prop(fx, GPU, "Name");
        g_assert_cmpstr(name, ==, "gpu");
        /* The group's other member is covered too. */
        pstate = device_prop(fx, AUDIO, "PersistentState");
        g_assert_cmpstr(pstate, ==, "applied");

        /* The name is an address. */
        {
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice",
                                                         g_variant_new("(s)", "gpu"), "(o)", &error);
                g_autofree char *want = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, GPU);

                g_assert_no_error(error);
                g_variant_get(r, "(o)", &path);
                g_assert_cmpstr(path, ==, want);
        }

        /* Another address may not take the name. */
        {
                g_autoptr(GError) e2 = NULL;
                g_autoptr(GVariant) r = set_persistent(fx, "0000:06:00.0", opts_one("name", g_variant_new_string("gpu")), &e2);

                g_assert_null(r);
                assert_error(e2, "org.freedesktop.DBus.Error.InvalidArgs", GPU);
        }

        {
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                         "ClearPersistent", g_variant_new("(s)", "gpu"), "()", &error);
                g_assert_no_error(error);
        }
        {
                g_autoptr(GVariant) l = list_persistent(fx);
                g_autofree char *n = device_prop(fx, GPU, "Name");

                g_assert_cmpuint(g_variant_n_children(l), ==, 0);
                g_assert_cmpstr(n, ==, "");
        }
        /* Forgotten, not undone. */
        assert_tree_driver(fx, GPU, "vfio-pci");
        {
                g_autoptr(GError) e3 = NULL;
                g_autoptr(GVariant) r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                                         "ClearPersistent", g_variant_new("(s)", "gpu"), "()", &e3);

                g_assert_null(r);
                assert_error(e3, VH_ERROR_NOT_FOUND, "persistent assignment");
        }
        fx_free(fx);
}

/* Bind's refusals, and the options SetPersistent does not take: nothing
 * written, not even the store. */
static void test_refusals(void) {
        Fx *fx = fx_new();
        static const struct {
                const char *address;
                const char *key;
                const char *error;
                const char *says;
        } cases[] = {
                { GPU, NULL, VH_ERROR_GROUP_NOT_VIABLE, AUDIO },
                { NVME, NULL, VH_ERROR_HOST_CRITICAL, "mounted on /" },
                { "0000:09:00.0", NULL, VH_ERROR_NOT_FOUND, "0000:09:00.0" },
                { "nosuchname", NULL, VH_ERROR_NOT_FOUND, "persistent assignment" },
                { "0000:01:00", NULL, VH_ERROR_INVALID_ADDRESS, NULL },
                { GPU, "force", "org.freedesktop.DBus.Error.InvalidArgs", "force" },
                { GPU, "driver", "org.freedesktop.DBus.Error.InvalidArgs", "nvidia is not a VFIO driver" },
                { GPU, "name", "org.freedesktop.DBus.Error.InvalidArgs", "not valid" },
        };

        if (!fx)
                return;
        fx_start(fx);
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) r = NULL;
                GVariant *o;

                if (!cases[i].key)
                        o = g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
                else if (strcmp(cases[i].key, "force") == 0)
                        o = opts_one("force", g_variant_new_boolean(TRUE));
                else if (strcmp(cases[i].key, "driver") == 0)
                        o = opts_one("driver", g_variant_new_string("nvidia"));
                else
                        o = opts_one("name", g_variant_new_string("has space"));
                g_test_message("SetPersistent(%s, %s)", cases[i].address, cases[i].key ? cases[i].key : "{}");
                r = set_persistent(fx, cases[i].address, o, &error);
                g_assert_null(r);
                assert_error(error, cases[i].error, cases[i].says);
        }
        /* A dry run says what would happen and saves nothing. */
        {
                g_autoptr(GError) error = NULL;
                GVariantBuilder b;
                g_autoptr(GVariant) r = NULL;
                gboolean dry = FALSE;

                g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
                g_variant_builder_add(&b, "{sv}", "group", g_variant_new_boolean(TRUE));
                g_variant_builder_add(&b, "{sv}", "dry-run", g_variant_new_boolean(TRUE));
                r = set_persistent(fx, GPU, g_variant_builder_end(&b), &error);
                g_assert_no_error(error);
                g_assert_true(g_variant_lookup(r, "dry-run", "b", &dry));
                g_assert_true(dry);
        }
        g_assert_false(store_exists(fx));
        assert_tree_unchanged(fx, NULL);
        fx_free(fx);
}

/* The store survives a restart, and an assignment whose device is not on
 * vfio-pci (unbound by hand meanwhile) is applied at start, without anyone
 * asking. */
static void test_applied_at_start(void) {
        Fx *fx = fx_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL, e = NULL;
        g_autofree char *state = NULL, *reason = NULL;

        if (!fx)
                return;
        fx_start(fx);
        r = set_persistent(fx, GPU, opts_group_name("gpu"), &error);
        g_assert_no_error(error);
        g_clear_pointer(&r, g_variant_unref);

        /* The user gives it back: the assignment stays, not applied. */
        r = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Unbind",
                             g_variant_new("(s@a{sv})", "gpu", opts_group_name(NULL)), "(a{sv})", &error);
        g_assert_no_error(error);
        assert_tree_driver(fx, GPU, "nvidia");
        e = entry_for(fx, GPU);
        state = entry_string(e, "state");
        g_assert_cmpstr(state, ==, "not-applied");
        reason = entry_string(e, "reason");
        g_assert_nonnull(strstr(reason, "when vfiohostd starts"));

        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        fx_start(fx);
        wait_tree_driver(fx, GPU, "vfio-pci");
        wait_tree_driver(fx, AUDIO, "vfio-pci");
        /* Applied off the loop: wait for the worker's result. */
        for (int i = 0; i < 500; i++) {
                g_clear_pointer(&e, g_variant_unref);
                e = entry_for(fx, GPU);
                g_clear_pointer(&state, g_free);
                state = entry_string(e, "state");
                if (strcmp(state, "applied") == 0)
                        break;
                g_usleep(10000);
        }
        g_assert_cmpstr(state, ==, "applied");
        fx_free(fx);
}

/* A store written for another card at the address (same slot, other
 * device id): at start nothing is done to the function, and the mismatch
 * is in ListPersistent, in the readiness report and in the log with both
 * identities. */
static void test_mismatch_untouched(void) {
        Fx *fx = fx_new();
        static const char store[] =
                "{\"version\":1,\"assignments\":[{\"address\":\"" GPU "\",\"name\":\"gpu\",\"driver\":\"vfio-pci\","
                "\"group\":true,\"identity\":{\"vendor\":\"10de\",\"device\":\"2704\",\"subsystem_vendor\":\"1043\","
                "\"subsystem_device\":\"889a\",\"class\":\"030000\"},\"time\":1764633600000000}]}";
        g_autofree char *path = NULL, *dir = NULL, *state = NULL, *present = NULL, *log = NULL;
        g_autoptr(GVariant) e = NULL, rep = NULL;
        g_autoptr(GVariant) checks = NULL;
        g_autoptr(GError) error = NULL;
        const char *ignore[] = { "var", NULL };
        gboolean found = FALSE;

        if (!fx)
                return;
        path = g_build_filename(fx->root, STORE, NULL);
        dir = g_path_get_dirname(path);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, store, -1, NULL));
        fx_start(fx);

        e = entry_for(fx, GPU);
        state = entry_string(e, "state");
        g_assert_cmpstr(state, ==, "mismatch");
        present = entry_string(e, "present-identity");
        g_assert_true(g_str_has_prefix(present, "10de:2684"));

        rep = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetReadiness",
                               g_variant_new("(@a{sv})", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
                               "(saa{sv})", &error);
        g_assert_no_error(error);
        checks = g_variant_get_child_value(rep, 1);
        for (gsize i = 0; i < g_variant_n_children(checks); i++) {
                g_autoptr(GVariant) c = g_variant_get_child_value(checks, i);
                const char *id = NULL, *result = NULL;

                g_assert_true(g_variant_lookup(c, "id", "&s", &id));
                if (strcmp(id, "persistence.assignments") != 0)
                        continue;
                g_assert_true(g_variant_lookup(c, "result", "&s", &result));
                g_assert_cmpstr(result, ==, "warn");
                found = TRUE;
        }
        g_assert_true(found);

        g_assert_true(g_file_get_contents(fx->bus->log_path, &log, NULL, NULL));
        g_assert_nonnull(strstr(log, "10de:2684 subsystem 1043:889a class 030000"));
        g_assert_nonnull(strstr(log, "10de:2704 subsystem 1043:889a class 030000"));

        /* Not a byte of sysfs changed. */
        assert_tree_unchanged(fx, ignore);
        fx_free(fx);
}

/* A damaged store is never overwritten: SetPersistent refuses. */
static void test_damaged_store_kept(void) {
        Fx *fx = fx_new();
        g_autofree char *path = NULL, *dir = NULL, *after = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = NULL;

        if (!fx)
                return;
        path = g_build_filename(fx->root, STORE, NULL);
        dir = g_path_get_dirname(path);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, "{\"version\":1,\"assignments\":[{]}", -1, NULL));
        fx_start(fx);
        r = set_persistent(fx, GPU, opts_group_name(NULL), &error);
        g_assert_null(r);
        assert_error(error, VH_ERROR_FAILED, "cannot be read");
        g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
        g_assert_cmpstr(after, ==, "{\"version\":1,\"assignments\":[{]}");
        assert_tree_driver(fx, GPU, "nvidia");
        fx_free(fx);
}

static json_object *parse_run(VhTestRun *run, const char *what) {
        json_object *j;

        if (run->status != 0)
                vh_test_run_print(run, what);
        g_assert_cmpint(run->status, ==, 0);
        j = json_tokener_parse(run->out);
        g_assert_nonnull(j);
        return j;
}

/* The client: persist prints the bind and the assignment, persisted lists
 * it, list marks the device, unpersist forgets it. */
static void test_ctl(void) {
        Fx *fx = fx_new();
        json_object *j, *v, *e;

        if (!fx)
                return;
        fx_start(fx);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "persist", "--group", "--name", "gpu",
                                                               "01:00.0", NULL);

                j = parse_run(run, "persist");
                g_assert_true(json_object_object_get_ex(j, "assignment", &e));
                g_assert_true(json_object_object_get_ex(e, "name", &v));
                g_assert_cmpstr(json_object_get_string(v), ==, "gpu");
                g_assert_true(json_object_object_get_ex(e, "vendor_id", &v));
                g_assert_cmpint(json_object_get_int(v), ==, 0x10de);
                json_object_put(j);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "persisted", NULL);

                j = parse_run(run, "persisted");
                g_assert_cmpuint(json_object_array_length(j), ==, 1);
                e = json_object_array_get_idx(j, 0);
                g_assert_true(json_object_object_get_ex(e, "state", &v));
                g_assert_cmpstr(json_object_get_string(v), ==, "applied");
                json_object_put(j);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "list", NULL);

                g_assert_cmpint(run->status, ==, 0);
                g_assert_nonnull(strstr(run->out, "[gpu]"));
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "unpersist", "gpu", NULL);
                g_autoptr(VhTestRun) again = NULL;

                g_assert_cmpint(run->status, ==, 0);
                again = vh_test_bus_run_ctl(fx->bus, "unpersist", "gpu", NULL);
                /* Not found: exit status 3. */
                g_assert_cmpint(again->status, ==, 3);
        }
        assert_tree_driver(fx, GPU, "vfio-pci");
        fx_free(fx);
}

/* A variant driver: stored with the assignment, the card bound to it, and
 * applied means on it — also after a restart (the journal's entry is
 * judged against the variant, not vfio-pci). */
#define CX_VF0 "0000:3c:00.2"

static void test_variant(void) {
        Fx *fx = fx_new_host("server-variant");
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) result = NULL, e = NULL, again = NULL;
        g_autofree char *state = NULL, *driver = NULL, *state2 = NULL, *path = NULL, *stored = NULL;

        if (!fx)
                return;
        fx_start(fx);
        result = set_persistent(fx, CX_VF0, opts_one("driver", g_variant_new_string("mlx5_vfio_pci")), &error);
        g_assert_no_error(error);
        wait_tree_driver(fx, CX_VF0, "mlx5_vfio_pci");
        e = entry_for(fx, CX_VF0);
        g_assert_nonnull(e);
        state = entry_string(e, "state");
        driver = entry_string(e, "driver");
        g_assert_cmpstr(state, ==, "applied");
        g_assert_cmpstr(driver, ==, "mlx5_vfio_pci");
        path = g_build_filename(fx->root, STORE, NULL);
        g_assert_true(g_file_get_contents(path, &stored, NULL, NULL));
        g_assert_nonnull(strstr(stored, "mlx5_vfio_pci"));

        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        fx_start(fx);
        again = entry_for(fx, CX_VF0);
        state2 = entry_string(again, "state");
        g_assert_cmpstr(state2, ==, "applied");
        assert_tree_driver(fx, CX_VF0, "mlx5_vfio_pci");

        /* A variant that does not list the card: nothing saved. */
        {
                g_autoptr(GError) e2 = NULL;
                g_autoptr(GVariant) r = set_persistent(fx, "0000:3b:02.0",
                                                       opts_one("driver", g_variant_new_string("mlx5_vfio_pci")), &e2);
                g_autoptr(GVariant) none = NULL;

                g_assert_null(r);
                assert_error(e2, "org.freedesktop.DBus.Error.InvalidArgs", "does not support");
                none = entry_for(fx, "0000:3b:02.0");
                g_assert_null(none);
        }
        fx_free(fx);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/persistence/set-and-clear", test_set_and_clear);
        g_test_add_func("/persistence/refusals", test_refusals);
        g_test_add_func("/persistence/variant", test_variant);
        g_test_add_func("/persistence/applied-at-start", test_applied_at_start);
        g_test_add_func("/persistence/mismatch-untouched", test_mismatch_untouched);
        g_test_add_func("/persistence/damaged-store-kept", test_damaged_store_kept);
        g_test_add_func("/persistence/ctl", test_ctl);
        return g_test_run();
}
