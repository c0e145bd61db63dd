/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.GetStaticSetup over the private bus and `vfiohostctl config`:
 * the persisted assignments (an assignments.json written into the test
 * tree's state directory) and names resolved from it, the reply's keys and
 * types, refusals as named errors, a damaged assignments file, --json as
 * pure JSON for a caller that is not root (the method is read-only), the
 * text output's sections, and --device repeatable for config only. */

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-ctl.h"

#define DBUS_ERROR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define NOBODY 65534

/* desktop-intel's RTX 4090 (group 2 with its audio function and a root
 * port), persisted with its group under the name "gpu". */
static const char assignments_json[] =
        "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"name\":\"gpu\",\"driver\":\"vfio-pci\","
        "\"group\":true,\"identity\":{\"vendor\":\"10de\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\","
        "\"subsystem_device\":\"889a\",\"class\":\"030000\"},\"time\":1764633600000000}]}\n";

typedef struct {
        VhTestBus *bus;
        char *root;
        char *assignments_path;
} Fixture;

static void setup(Fixture *fx, gconstpointer data) {
        g_autofree char *dir = NULL;

        if (!vh_test_bus_requirements())
                return;
        fx->bus = vh_test_bus_new();
        fx->root = vh_test_bus_copy_host(fx->bus, "desktop-intel");
        if (!fx->root)
                return;
        /* The daemon's default state directory beneath the root. */
        dir = g_build_filename(fx->root, "var", "lib", "vfiohost", NULL);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        fx->assignments_path = g_build_filename(dir, "assignments.json", NULL);
        g_assert_true(g_file_set_contents(fx->assignments_path, assignments_json, -1, NULL));
        vh_test_bus_start_daemon(fx->bus, fx->root);
}

static void teardown(Fixture *fx, gconstpointer data) {
        g_free(fx->assignments_path);
        g_free(fx->root);
        if (fx->bus)
                vh_test_bus_free(fx->bus);
}

#define SKIP_IF_NO_BUS(fx) do { if (!(fx)->bus || !(fx)->root) return; } while (0)

/* options: an a{sv} built by the caller (floating). */
static GVariant *get_static_setup(Fixture *fx, GVariant *options, GError **error) {
        GVariant *reply = vh_test_bus_call(fx->bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetStaticSetup",
                                           g_variant_new_tuple(&options, 1), "(a{sv})", error);
        GVariant *setup;

        if (!reply)
                return NULL;
        setup = g_variant_get_child_value(reply, 0);
        g_variant_unref(reply);
        return setup;
}

static GVariant *devices_option(const char *const *devices) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (devices)
                g_variant_builder_add(&b, "{sv}", "devices", g_variant_new_strv(devices, -1));
        return g_variant_builder_end(&b);
}

/* {key: value}, value floating; twice: the key given twice. */
static GVariant *option(const char *key, GVariant *value, gboolean twice) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_ref_sink(value);
        g_variant_builder_add(&b, "{sv}", key, value);
        if (twice)
                g_variant_builder_add(&b, "{sv}", key, value);
        g_variant_unref(value);
        return g_variant_builder_end(&b);
}

static void assert_error(Fixture *fx, GVariant *options, const char *name, const char *in_message) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) setup = get_static_setup(fx, options, &error);
        g_autofree char *remote = NULL;

        g_assert_null(setup);
        g_assert_nonnull(error);
        remote = g_dbus_error_get_remote_error(error);
        if (g_strcmp0(remote, name) != 0)
                g_error("GetStaticSetup: error %s (%s), expected %s", remote, error->message, name);
        if (in_message && !strstr(error->message, in_message))
                g_error("GetStaticSetup: '%s' not in '%s'", in_message, error->message);
}

/* Exactly the documented keys, each of its type; every parameter a
 * (parameter, reason) pair and the line their join. */
static void assert_reply_shape(GVariant *setup) {
        static const struct {
                const char *key, *type;
        } keys[] = {
                { "kernel-command-line", "s" }, { "kernel-parameters", "aa{sv}" }, { "modprobe-d", "s" },
                { "initramfs-tools-modules", "s" }, { "dracut-conf", "s" }, { "devices", "as" }, { "notes", "as" },
        };
        g_autoptr(GVariant) parameters = NULL;
        g_autoptr(GString) joined = g_string_new(NULL);
        const char *line = NULL;

        g_assert_cmpuint(g_variant_n_children(setup), ==, G_N_ELEMENTS(keys));
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autoptr(GVariant) v = g_variant_lookup_value(setup, keys[i].key, G_VARIANT_TYPE(keys[i].type));

                if (!v)
                        g_error("reply has no %s of type %s", keys[i].key, keys[i].type);
        }
        g_assert_true(g_variant_lookup(setup, "kernel-command-line", "&s", &line));
        parameters = g_variant_lookup_value(setup, "kernel-parameters", G_VARIANT_TYPE("aa{sv}"));
        for (gsize i = 0; i < g_variant_n_children(parameters); i++) {
                g_autoptr(GVariant) p = g_variant_get_child_value(parameters, i);
                const char *parameter, *reason;

                g_assert_cmpuint(g_variant_n_children(p), ==, 2);
                g_assert_true(g_variant_lookup(p, "parameter", "&s", &parameter));
                g_assert_true(g_variant_lookup(p, "reason", "&s", &reason));
                g_assert_cmpstr(reason, !=, "");
                g_string_append_printf(joined, "%s%s", joined->len ? " " : "", parameter);
        }
        g_assert_cmpstr(line, ==, joined->str);
}

static char **lookup_strv(GVariant *setup, const char *key) {
        g_autoptr(GVariant) v = g_variant_lookup_value(setup, key, G_VARIANT_TYPE("as"));

        g_assert_nonnull(v);
        return g_variant_dup_strv(v, NULL);
}

static void assert_gpu_group(GVariant *setup) {
        g_auto(GStrv) devices = lookup_strv(setup, "devices");
        const char *line = NULL, *modprobe = NULL;

        g_assert_cmpuint(g_strv_length(devices), ==, 2);
        g_assert_cmpstr(devices[0], ==, "0000:01:00.0");
        g_assert_cmpstr(devices[1], ==, "0000:01:00.1");
        g_assert_true(g_variant_lookup(setup, "kernel-command-line", "&s", &line));
        g_assert_cmpstr(line, ==, "intel_iommu=on iommu=pt vfio-pci.ids=10de:2684,10de:22ba");
        g_assert_true(g_variant_lookup(setup, "modprobe-d", "&s", &modprobe));
        g_assert_nonnull(strstr(modprobe, "\nsoftdep nvidia pre: vfio-pci\n"));
        g_assert_nonnull(strstr(modprobe, "\nsoftdep snd_hda_intel pre: vfio-pci\n"));
        g_assert_nonnull(strstr(modprobe, "\noptions vfio-pci ids=10de:2684,10de:22ba\n"));
}

static void test_persisted(Fixture *fx, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) setup = NULL;
        const char *dracut = NULL;

        SKIP_IF_NO_BUS(fx);
        setup = get_static_setup(fx, devices_option(NULL), &error);
        g_assert_no_error(error);
        assert_reply_shape(setup);
        assert_gpu_group(setup);
        g_assert_true(g_variant_lookup(setup, "dracut-conf", "&s", &dracut));
        g_assert_nonnull(strstr(dracut, "\nforce_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"));
        /* Nothing was written: the tree holds no such files. */
        {
                g_autofree char *modprobe = g_build_filename(fx->root, "etc", "modprobe.d", "vfiohost.conf", NULL);
                g_assert_false(g_file_test(modprobe, G_FILE_TEST_EXISTS));
        }
}

static void test_named(Fixture *fx, gconstpointer data) {
        SKIP_IF_NO_BUS(fx);
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) setup = get_static_setup(fx, devices_option((const char *[]) { "gpu", NULL }),
                                                             &error);
                g_assert_no_error(error);
                assert_gpu_group(setup);
        }
        {
                /* Not persisted, present: that function alone, with what
                 * the group still needs said. */
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) setup = get_static_setup(
                                fx, devices_option((const char *[]) { "0000:05:00.0", NULL }), &error);
                g_auto(GStrv) devices = NULL, notes = NULL;
                gboolean said = FALSE;

                g_assert_no_error(error);
                assert_reply_shape(setup);
                devices = lookup_strv(setup, "devices");
                g_assert_cmpuint(g_strv_length(devices), ==, 1);
                g_assert_cmpstr(devices[0], ==, "0000:05:00.0");
                notes = lookup_strv(setup, "notes");
                for (char **n = notes; *n; n++)
                        said = said || strstr(*n, "IOMMU group 5 also holds") != NULL;
                g_assert_true(said);
        }
}

static void test_refusals(Fixture *fx, gconstpointer data) {
        SKIP_IF_NO_BUS(fx);
        assert_error(fx, devices_option((const char *[]) { "gpu2", NULL }), VH_ERROR_NOT_FOUND, "'gpu2'");
        assert_error(fx, devices_option((const char *[]) { "0000:09:00.0", NULL }), VH_ERROR_NOT_FOUND, NULL);
        assert_error(fx, devices_option((const char *[]) { "01:00.0/..", NULL }), VH_ERROR_INVALID_ADDRESS, NULL);

        assert_error(fx, option("hugepages", g_variant_new_string("3M:4"), FALSE), DBUS_ERROR_INVALID_ARGS,
                     "SIZE:COUNT");
        assert_error(fx, option("isolate-cpus", g_variant_new_string("0-3"), FALSE), DBUS_ERROR_INVALID_ARGS,
                     "CPU 0");
        assert_error(fx, option("isolate-cpus", g_variant_new_string("30"), FALSE), DBUS_ERROR_INVALID_ARGS,
                     "does not exist");
        /* The option table: unknown, wrong type, twice. */
        assert_error(fx, option("device", g_variant_new_string("gpu"), FALSE), DBUS_ERROR_INVALID_ARGS,
                     "devices (as)");
        assert_error(fx, option("devices", g_variant_new_string("gpu"), FALSE), DBUS_ERROR_INVALID_ARGS,
                     "array of strings");
        assert_error(fx, option("hugepages", g_variant_new_string("1G:4"), TRUE), DBUS_ERROR_INVALID_ARGS,
                     "more than once");
}

static void test_damaged_assignments(Fixture *fx, gconstpointer data) {
        SKIP_IF_NO_BUS(fx);
        g_assert_true(g_file_set_contents(fx->assignments_path, "{\"version\":1,\"assignments\":[{}]}", -1, NULL));
        /* The daemon reads the file when it starts (and keeps what
         * SetPersistent saves): a damaged one is reported from then on. */
        g_assert_cmpint(vh_test_bus_stop_daemon(fx->bus), ==, 0);
        vh_test_bus_start_daemon(fx->bus, fx->root);
        assert_error(fx, devices_option(NULL), VH_ERROR_FAILED, "repaired or moved aside");
        /* Named devices need the file too: a name is looked up there. */
        assert_error(fx, devices_option((const char *[]) { "0000:05:00.0", NULL }), VH_ERROR_FAILED, NULL);
}

/* ---------- vfiohostctl config ---------- */

static void test_ctl_json(Fixture *fx, gconstpointer data) {
        const char *const argv[] = { vh_test_env("VH_CTL"), "config", "--json", "--device", "gpu",
                                     "--hugepages", "1G:4", "--isolate-cpus", "2-5", NULL };
        g_autoptr(VhTestRun) run = NULL;
        json_object *j, *parameters, *devices;

        SKIP_IF_NO_BUS(fx);
        /* Not root, no polkit: the method is read-only. */
        run = vh_test_bus_run(fx->bus, argv, NOBODY);
        vh_test_run_assert_status(run, "vfiohostctl config --json (as nobody)", 0);
        j = vh_test_run_json(run, "config --json");
        g_assert_cmpstr(json_object_get_string(vh_test_json_get(j, "kernel_command_line", json_type_string)), ==,
                        "intel_iommu=on iommu=pt vfio-pci.ids=10de:2684,10de:22ba default_hugepagesz=1G "
                        "hugepagesz=1G hugepages=4 isolcpus=managed_irq,domain,2-5 nohz_full=2-5 rcu_nocbs=2-5");
        parameters = vh_test_json_get(j, "kernel_parameters", json_type_array);
        g_assert_cmpuint(json_object_array_length(parameters), ==, 9);
        for (size_t i = 0; i < json_object_array_length(parameters); i++) {
                json_object *p = json_object_array_get_idx(parameters, i);

                vh_test_json_get(p, "parameter", json_type_string);
                g_assert_cmpstr(json_object_get_string(vh_test_json_get(p, "reason", json_type_string)), !=, "");
        }
        g_assert_nonnull(strstr(json_object_get_string(vh_test_json_get(j, "modprobe_d", json_type_string)),
                                "softdep nvidia pre: vfio-pci"));
        vh_test_json_get(j, "initramfs_tools_modules", json_type_string);
        vh_test_json_get(j, "dracut_conf", json_type_string);
        vh_test_json_get(j, "notes", json_type_array);
        devices = vh_test_json_get(j, "devices", json_type_array);
        g_assert_cmpuint(json_object_array_length(devices), ==, 2);
        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(devices, 1)), ==, "0000:01:00.1");
        json_object_put(j);
}

static void test_ctl_errors(Fixture *fx, gconstpointer data) {
        SKIP_IF_NO_BUS(fx);
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "config", "--json", "--device", "gpu",
                                                               "--device", "nope", NULL);
                json_object *j, *e;

                vh_test_run_assert_status(run, "vfiohostctl config --device nope", 3);
                j = vh_test_run_json(run, "config --device nope");
                e = vh_test_json_get(j, "error", json_type_object);
                g_assert_cmpstr(json_object_get_string(vh_test_json_get(e, "name", json_type_string)), ==,
                                VH_ERROR_NOT_FOUND);
                json_object_put(j);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "config", "--hugepages", "1G:0", NULL);

                g_assert_cmpint(run->status, !=, 0);
                g_assert_nonnull(strstr(run->err, "SIZE:COUNT"));
        }
        {
                /* check keeps its one --device; bind takes none of config's options. */
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "check", "--device", "0000:01:00.0",
                                                               "--device", "0000:01:00.1", NULL);
                g_autoptr(VhTestRun) bind = vh_test_bus_run_ctl(fx->bus, "bind", "--hugepages", "1G:4",
                                                                "0000:01:00.0", NULL);

                vh_test_run_assert_status(run, "vfiohostctl check --device A --device B", 2);
                g_assert_nonnull(strstr(run->err, "takes one --device"));
                vh_test_run_assert_status(bind, "vfiohostctl bind --hugepages", 2);
        }
}

static void test_ctl_text(Fixture *fx, gconstpointer data) {
        static const char *const headings[] = {
                "Kernel command line (append to GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub)",
                "/etc/modprobe.d/vfiohost.conf",
                "/etc/initramfs-tools/modules",
                "/etc/dracut.conf.d/vfiohost.conf",
        };
        g_autoptr(VhTestRun) run = NULL;
        const char *at;

        SKIP_IF_NO_BUS(fx);
        run = vh_test_bus_run_ctl(fx->bus, "config", "--device", "01:00.0", NULL);
        vh_test_run_assert_status(run, "vfiohostctl config --device 01:00.0", 0);
        g_assert_true(g_str_has_prefix(run->out, "Nothing was written"));
        at = run->out;
        for (size_t i = 0; i < G_N_ELEMENTS(headings); i++) {
                at = strstr(at, headings[i]);
                if (!at) {
                        vh_test_run_print(run, "config");
                        g_error("heading '%s' missing or out of order", headings[i]);
                }
        }
        g_assert_nonnull(strstr(run->out, "\n  intel_iommu=on iommu=pt vfio-pci.ids=10de:2684,10de:22ba\n"));
        g_assert_nonnull(strstr(run->out, "\nsoftdep nvidia pre: vfio-pci\n"));
        g_assert_nonnull(strstr(run->out, "update-initramfs -u"));
        g_assert_nonnull(strstr(run->out, "dracut -f"));
        g_assert_cmpstr(run->err, ==, "");
        /* The whole group is covered: nothing to note. */
        g_assert_null(strstr(run->out, "\nNotes\n"));
        {
                g_autoptr(VhTestRun) other = vh_test_bus_run_ctl(fx->bus, "config", "--device", "05:00.0", NULL);

                vh_test_run_assert_status(other, "vfiohostctl config --device 05:00.0", 0);
                g_assert_nonnull(strstr(other->out, "\nNotes\n  - IOMMU group 5 also holds"));
                g_test_message("%s", other->out);
        }
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/static-setup/bus/persisted", test_persisted);
        ADD("/static-setup/bus/named", test_named);
        ADD("/static-setup/bus/refusals", test_refusals);
        ADD("/static-setup/bus/damaged-assignments", test_damaged_assignments);
        ADD("/static-setup/ctl/json", test_ctl_json);
        ADD("/static-setup/ctl/errors", test_ctl_errors);
        ADD("/static-setup/ctl/text", test_ctl_text);
        return g_test_run();
}
