/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfiohostctl, the real binary, against the daemon on a private bus: JSON
 * output checked against the fixture tree's files and lspci's names, human
 * output, exit codes, pure JSON on errors, an unreachable service. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-host.h"

typedef struct {
        VhTestBus *bus;
        char *root;
        VhTestHost *host;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data) {
        vh_test_bus_fixture_start(&fx->bus, &fx->root, data, VH_TEST_ROOT_SHARED);
        if (!fx->root)
                return;
        fx->host = vh_test_host_load(fx->root);
        g_assert_cmpuint(fx->host->functions->len, >, 0);
}

static void fixture_teardown(Fixture *fx, gconstpointer data) {
        vh_test_host_free(fx->host);
        vh_test_bus_fixture_stop(&fx->bus, &fx->root);
}

#define SKIP_IF_NO_HOST(fx) do { if (!(fx)->root) return; } while (0)

/* ---------- JSON helpers ---------- */

/* stdout must be exactly one JSON value (whitespace around it allowed). */
static json_object *parse_pure_json(const VhTestRun *run, const char *what) {
        json_tokener *tok = json_tokener_new();
        json_object *j;
        size_t len = strlen(run->out);
        size_t end;

        j = json_tokener_parse_ex(tok, run->out, (int) len);
        end = json_tokener_get_parse_end(tok);
        if (!j || json_tokener_get_error(tok) != json_tokener_success) {
                vh_test_run_print(run, what);
                g_error("%s: stdout is not JSON (%s)", what, json_tokener_error_desc(json_tokener_get_error(tok)));
        }
        for (size_t i = end; i < len; i++)
                if (!g_ascii_isspace(run->out[i])) {
                        vh_test_run_print(run, what);
                        g_error("%s: stdout has more than one JSON value (trailing \"%s\")", what, run->out + i);
                }
        json_tokener_free(tok);
        return j;
}

static json_object *member(json_object *o, const char *key, json_type type) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v))
                g_error("JSON key \"%s\" missing in %s", key, json_object_to_json_string(o));
        if (!json_object_is_type(v, type))
                g_error("JSON key \"%s\" is %s, expected %s", key,
                        json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
        return v;
}

static const char *mstr(json_object *o, const char *key) {
        return json_object_get_string(member(o, key, json_type_string));
}

static gint64 mint(json_object *o, const char *key) {
        return json_object_get_int64(member(o, key, json_type_int));
}

static gboolean mbool(json_object *o, const char *key) {
        return json_object_get_boolean(member(o, key, json_type_boolean));
}

static void assert_json_error(const VhTestRun *run, const char *what, const char *name, int exit_status) {
        json_object *j = parse_pure_json(run, what);
        json_object *e = member(j, "error", json_type_object);

        if (run->status != exit_status) {
                vh_test_run_print(run, what);
                g_error("%s: exit status %d, expected %d", what, run->status, exit_status);
        }
        if (name)
                g_assert_cmpstr(mstr(e, "name"), ==, name);
        else
                g_assert_cmpstr(mstr(e, "name"), !=, "");
        g_assert_cmpstr(mstr(e, "message"), !=, "");
        json_object_put(j);
}

static void assert_ok(const VhTestRun *run, const char *what) {
        if (run->status != 0) {
                vh_test_run_print(run, what);
                g_error("%s: exit status %d", what, run->status);
        }
}

static char *hex(guint v, int digits) {
        return g_strdup_printf("%0*x", digits, v);
}

/* ---------- lspci ---------- */

typedef struct {
        char *class_name, *vendor, *device, *svendor, *sdevice;
} LspciEntry;

static void lspci_entry_free(gpointer p) {
        LspciEntry *e = p;
        g_free(e->class_name);
        g_free(e->vendor);
        g_free(e->device);
        g_free(e->svendor);
        g_free(e->sdevice);
        g_free(e);
}

/* `lspci -mm -D` lines: Slot "Class" "Vendor" "Device" [-rXX] [-pXX]
 * "SVendor" "SDevice". NULL when lspci is not installed. */
static GHashTable *run_lspci(Fixture *fx) {
        g_autofree char *lspci = g_find_program_in_path("lspci");
        g_autofree char *param = NULL;
        g_autoptr(VhTestRun) run = NULL;
        g_auto(GStrv) lines = NULL;
        GHashTable *table;

        if (!lspci)
                return NULL;
        param = g_strdup_printf("sysfs.path=%s/sys/bus/pci", fx->root);
        {
                const char *argv[] = { lspci, "-A", "linux-sysfs", "-O", param, "-mm", "-D", NULL };
                run = vh_test_bus_run(fx->bus, argv, -1);
        }
        assert_ok(run, "lspci");
        table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, lspci_entry_free);
        lines = g_strsplit(run->out, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                g_autoptr(GError) error = NULL;
                g_auto(GStrv) words = NULL;
                g_autoptr(GPtrArray) fields = g_ptr_array_new();
                LspciEntry *e;
                int argc = 0;

                if (!*lines[i])
                        continue;
                if (!g_shell_parse_argv(lines[i], &argc, &words, &error))
                        g_error("cannot parse lspci line \"%s\": %s", lines[i], error->message);
                for (int k = 1; k < argc; k++)
                        if (!(words[k][0] == '-' && strlen(words[k]) > 1 && g_ascii_isalpha(words[k][1])))
                                g_ptr_array_add(fields, words[k]);
                if (fields->len != 5)
                        g_error("lspci line \"%s\": %u fields, expected 5", lines[i], fields->len);
                e = g_new0(LspciEntry, 1);
                e->class_name = g_strdup(fields->pdata[0]);
                e->vendor = g_strdup(fields->pdata[1]);
                e->device = g_strdup(fields->pdata[2]);
                e->svendor = g_strdup(fields->pdata[3]);
                e->sdevice = g_strdup(fields->pdata[4]);
                g_hash_table_insert(table, g_strdup(words[0]), e);
        }
        return table;
}

/* ---------- checks of one device object ---------- */

static const char *const device_keys[] = {
        "address", "vendor_id", "device_id", "subsystem_vendor_id", "subsystem_device_id", "revision",
        "class", "vendor_name", "device_name", "subsystem_vendor_name", "subsystem_name", "class_name",
        "driver", "driver_override", "iommu_group", "numa_node", "boot_vga", "reset_methods",
        "d3cold_allowed", "physical_function", "sriov_num_vfs", "sriov_total_vfs", "vfio_group_path",
        "vfio_device_path", "virtual_functions", "virtual_function_index", "sriov_drivers_autoprobe",
};

static void check_device_json(Fixture *fx, json_object *d, GHashTable *lspci) {
        const char *address = mstr(d, "address");
        const VhTestFunction *f = vh_test_host_find(fx->host, address);
        g_autofree char *vendor = NULL, *device = NULL, *svendor = NULL, *sdevice = NULL;
        g_autofree char *rev = NULL, *class_code = NULL;
        json_object *resets;

        if (!f)
                g_error("vfiohostctl lists %s, which is not in the tree", address);
        for (size_t i = 0; i < G_N_ELEMENTS(device_keys); i++)
                if (!json_object_object_get_ex(d, device_keys[i], NULL))
                        g_error("%s: key \"%s\" missing in %s", address, device_keys[i], json_object_to_json_string(d));

        vendor = hex(f->vendor, 4);
        device = hex(f->device, 4);
        svendor = hex(f->subsystem_vendor, 4);
        sdevice = hex(f->subsystem_device, 4);
        rev = hex(f->revision, 2);
        class_code = hex(f->class_code, 6);
        g_assert_cmpstr(mstr(d, "vendor_id"), ==, vendor);
        g_assert_cmpstr(mstr(d, "device_id"), ==, device);
        g_assert_cmpstr(mstr(d, "subsystem_vendor_id"), ==, svendor);
        g_assert_cmpstr(mstr(d, "subsystem_device_id"), ==, sdevice);
        g_assert_cmpstr(mstr(d, "revision"), ==, rev);
        g_assert_cmpstr(mstr(d, "class"), ==, class_code);
        g_assert_cmpstr(mstr(d, "driver"), ==, f->driver);
        g_assert_cmpstr(mstr(d, "driver_override"), ==, f->driver_override);
        g_assert_cmpint(mint(d, "iommu_group"), ==, f->iommu_group);
        g_assert_cmpint(mint(d, "numa_node"), ==, f->numa_node);
        g_assert_cmpint(mbool(d, "boot_vga"), ==, f->boot_vga);
        g_assert_cmpint(mbool(d, "d3cold_allowed"), ==, f->d3cold_allowed);
        g_assert_cmpstr(mstr(d, "physical_function"), ==, f->physfn);
        g_assert_cmpint(mint(d, "sriov_num_vfs"), ==, f->sriov_numvfs);
        g_assert_cmpint(mint(d, "sriov_total_vfs"), ==, f->sriov_totalvfs);
        g_assert_cmpstr(mstr(d, "vfio_group_path"), ==, f->vfio_group_path);
        g_assert_cmpstr(mstr(d, "vfio_device_path"), ==, f->vfio_device_path);
        resets = member(d, "reset_methods", json_type_array);
        g_assert_cmpuint(json_object_array_length(resets), ==, g_strv_length(f->reset_methods));
        for (size_t i = 0; f->reset_methods[i]; i++)
                g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(resets, i)), ==, f->reset_methods[i]);

        if (lspci) {
                LspciEntry *e = g_hash_table_lookup(lspci, address);
                if (!e)
                        g_error("lspci does not list %s", address);
                g_assert_cmpstr(mstr(d, "class_name"), ==, e->class_name);
                g_assert_cmpstr(mstr(d, "vendor_name"), ==, e->vendor);
                g_assert_cmpstr(mstr(d, "device_name"), ==, e->device);
                g_assert_cmpstr(mstr(d, "subsystem_vendor_name"), ==, e->svendor);
                g_assert_cmpstr(mstr(d, "subsystem_name"), ==, e->sdevice);
        }
}

/* ---------- tests ---------- */

static json_object *list_json(Fixture *fx) {
        g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "list", "--json", NULL);
        assert_ok(run, "vfiohostctl list --json");
        return parse_pure_json(run, "vfiohostctl list --json");
}

static void test_list_json(Fixture *fx, gconstpointer data) {
        g_autoptr(GHashTable) lspci = NULL;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        json_object *a;
        size_t n;

        SKIP_IF_NO_HOST(fx);
        a = list_json(fx);
        g_assert_true(json_object_is_type(a, json_type_array));
        n = json_object_array_length(a);

        lspci = run_lspci(fx);
        if (!lspci)
                g_test_message("lspci not installed: names not compared with lspci -mm");
        else
                g_assert_cmpuint(g_hash_table_size(lspci), ==, fx->host->functions->len);

        /* Exactly the tree's functions, in address order. */
        g_assert_cmpuint(n, ==, fx->host->functions->len);
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(a, i);
                const VhTestFunction *f = fx->host->functions->pdata[i];

                g_assert_true(json_object_is_type(d, json_type_object));
                g_assert_cmpstr(mstr(d, "address"), ==, f->address);
                g_assert_false(g_hash_table_contains(seen, f->address));
                g_hash_table_add(seen, f->address);
                check_device_json(fx, d, lspci);
        }
        json_object_put(a);
}

static void test_list_human(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestRun) run = NULL;
        g_auto(GStrv) lines = NULL;

        SKIP_IF_NO_HOST(fx);
        /* Not a terminal (a pipe), TERM says colour would work, NO_COLOR
         * unset: the client itself must decide on no escapes. */
        {
                const char *argv[] = { vh_test_env("VH_CTL"), "list", NULL };
                const char *env[] = { "TERM=xterm-256color", "NO_COLOR", NULL };
                run = vh_test_bus_run_env(fx->bus, argv, -1, env);
        }
        assert_ok(run, "vfiohostctl list");
        g_assert_null(strchr(run->out, '\033'));
        lines = g_strsplit(run->out, "\n", -1);
        g_assert_nonnull(lines[0]);
        {
                static const char *const columns[] = { "ADDRESS", "CLASS", "IDS", "NAME", "DRIVER", "GROUP" };
                const char *p = lines[0];
                for (size_t i = 0; i < G_N_ELEMENTS(columns); i++) {
                        p = strstr(p, columns[i]);
                        if (!p)
                                g_error("header \"%s\" lacks column %s (in order)", lines[0], columns[i]);
                }
        }
        for (guint i = 0; i < fx->host->functions->len; i++) {
                const VhTestFunction *f = fx->host->functions->pdata[i];
                g_autofree char *ids = g_strdup_printf("%04x:%04x", f->vendor, f->device);
                const char *line = NULL;
                size_t at = 0;

                /* VFs are indented beneath their PF. */
                for (size_t k = 1; lines[k] && !line; k++)
                        if (g_str_has_prefix(lines[k] + strspn(lines[k], " "), f->address)) {
                                line = lines[k];
                                at = k;
                        }
                if (!line) {
                        vh_test_run_print(run, "vfiohostctl list");
                        g_error("no line for %s", f->address);
                }
                if (*f->physfn && vh_test_host_find(fx->host, f->physfn)) {
                        size_t pf_at = 0;

                        for (size_t k = 1; lines[k] && !pf_at; k++)
                                if (g_str_has_prefix(lines[k], f->physfn))
                                        pf_at = k;
                        if (!g_str_has_prefix(line, "  ") || pf_at == 0 || pf_at > at) {
                                vh_test_run_print(run, "vfiohostctl list");
                                g_error("VF %s is not listed indented beneath its PF %s", f->address, f->physfn);
                        }
                        /* beneath it: only its PF's other VFs in between */
                        for (size_t k = pf_at + 1; k < at; k++)
                                g_assert_true(g_str_has_prefix(lines[k], "  "));
                } else
                        g_assert_true(g_str_has_prefix(line, f->address));
                g_assert_nonnull(strstr(line, ids));
                if (*f->driver)
                        g_assert_nonnull(strstr(line, f->driver));
                if (f->iommu_group >= 0) {
                        g_autofree char *tail = g_strdup_printf(" %d", f->iommu_group);
                        g_autofree char *trimmed = g_strchomp(g_strdup(line));
                        g_assert_true(g_str_has_suffix(trimmed, tail));
                }
        }
}

static void assert_line(const char *out, const char *pattern) {
        if (!g_regex_match_simple(pattern, out, G_REGEX_MULTILINE, 0))
                g_error("show's text has no line matching /%s/:\n%s", pattern, out);
}

/* show's text is for people (issue 13): labels in words, no D-Bus names
 * or raw values ("Group: /org/...", "NumaNode: -1"), each value read the
 * way the JSON has it. */
static void assert_show_text(const char *out, json_object *j) {
        static const char *const raw[] = { "Address:", "VendorId:", "NumaNode:", "Group:", "IommuGroup:", "HeldBy:",
                                           "BootVga:", "D3coldAllowed:", "PhysicalFunction:", "VfioGroupPath:" };
        g_autofree char *group = NULL, *driver = NULL, *numa = NULL;
        json_object *held_by = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(raw); i++)
                if (strstr(out, raw[i]))
                        g_error("show prints the D-Bus name %s:\n%s", raw[i], out);
        g_assert_null(strstr(out, "/org/vfiohost"));

        group = mint(j, "iommu_group") < 0 ? g_strdup("^  IOMMU group: +none")
                                           : g_strdup_printf("^  IOMMU group: +%" G_GINT64_FORMAT "$", mint(j, "iommu_group"));
        assert_line(out, group);
        numa = mint(j, "numa_node") < 0 ? g_strdup("^  NUMA node: +none$")
                                        : g_strdup_printf("^  NUMA node: +%" G_GINT64_FORMAT "$", mint(j, "numa_node"));
        assert_line(out, numa);
        driver = g_strdup_printf("^  driver: +%s", *mstr(j, "driver") ? mstr(j, "driver") : "none");
        assert_line(out, driver);
        assert_line(out, mbool(j, "boot_vga") ? "^  boot display: +yes" : "^  boot display: +no$");
        if (*mstr(j, "physical_function")) {
                g_autofree char *vf = g_strdup_printf("^  virtual function: +%" G_GINT64_FORMAT " of %s$",
                                                      mint(j, "virtual_function_index"), mstr(j, "physical_function"));
                assert_line(out, vf);
        }
        g_assert_true(json_object_object_get_ex(j, "held_by", &held_by));
        if (json_object_array_length(held_by) == 0)
                assert_line(out, "^  held by: +nobody$");
        for (size_t i = 0; i < json_object_array_length(held_by); i++) {
                const char *path = json_object_get_string(json_object_array_get_idx(held_by, i));
                g_autofree char *pid = g_strdup_printf("(pid %s)", strrchr(path, '/') + 1);

                g_assert_nonnull(strstr(out, pid));
                if (g_str_has_prefix(path, "/org/vfiohost/vm/"))
                        assert_line(out, "^  held by: +.*VM ");
        }
}

static void test_show(Fixture *fx, gconstpointer data) {
        json_object *list;

        SKIP_IF_NO_HOST(fx);
        list = list_json(fx);
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *expected = json_object_array_get_idx(list, i);
                const char *address = mstr(expected, "address");
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "show", address, "--json", NULL);
                g_autoptr(VhTestRun) human = vh_test_bus_run_ctl(fx->bus, "show", address, NULL);
                json_object *j;

                assert_ok(run, "vfiohostctl show --json");
                j = parse_pure_json(run, "vfiohostctl show --json");
                g_assert_true(json_object_is_type(j, json_type_object));
                if (!json_object_equal(j, expected))
                        g_error("show --json %s:\n%s\ndiffers from its list --json entry:\n%s", address,
                                json_object_to_json_string(j), json_object_to_json_string(expected));
                check_device_json(fx, j, NULL);
                json_object_put(j);

                assert_ok(human, "vfiohostctl show");
                g_assert_nonnull(strstr(human->out, address));
                g_assert_null(strchr(human->out, '\033'));
                assert_show_text(human->out, expected);
        }
        json_object_put(list);
}

static void test_show_errors(Fixture *fx, gconstpointer data) {
        static const char *const bad[] = { "0000:01:20.0", "../../../etc/passwd", "zzzz:01:00.0", "0000:01:00.0/..", "" };
        static const char *const unknown[] = { "0000:fe:1f.7", "ffff:ff:1f.7" };

        SKIP_IF_NO_HOST(fx);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "show", bad[i], NULL);
                g_autoptr(VhTestRun) human = vh_test_bus_run_ctl(fx->bus, "show", bad[i], NULL);

                g_test_message("show \"%s\"", bad[i]);
                assert_json_error(run, "vfiohostctl --json show BAD", VH_ERROR_INVALID_ADDRESS, 1);
                g_assert_cmpint(human->status, ==, 1);
                g_assert_cmpstr(human->out, ==, "");
                g_assert_cmpstr(human->err, !=, "");
        }
        for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++) {
                g_autoptr(VhTestRun) run = NULL, human = NULL;

                if (vh_test_host_find(fx->host, unknown[i]))
                        continue;
                run = vh_test_bus_run_ctl(fx->bus, "show", "--json", unknown[i], NULL);
                human = vh_test_bus_run_ctl(fx->bus, "show", unknown[i], NULL);
                assert_json_error(run, "vfiohostctl show --json UNKNOWN", VH_ERROR_NOT_FOUND, 3);
                g_assert_cmpint(human->status, ==, 3);
                g_assert_cmpstr(human->out, ==, "");
                g_assert_nonnull(strstr(human->err, unknown[i]));
        }
        /* Usage errors in JSON mode are JSON too. */
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "no-such-verb", NULL);
                assert_json_error(run, "vfiohostctl --json no-such-verb", NULL, 2);
        }
        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(fx->bus, "--json", "show", NULL);
                assert_json_error(run, "vfiohostctl --json show", NULL, 2);
        }
}

static void test_groups(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestRun) run = NULL;
        json_object *a;

        SKIP_IF_NO_HOST(fx);
        run = vh_test_bus_run_ctl(fx->bus, "groups", "--json", NULL);
        assert_ok(run, "vfiohostctl groups --json");
        a = parse_pure_json(run, "vfiohostctl groups --json");
        g_assert_true(json_object_is_type(a, json_type_array));
        g_assert_cmpuint(json_object_array_length(a), ==, fx->host->groups->len);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *g = json_object_array_get_idx(a, i);
                const VhTestGroup *tg = fx->host->groups->pdata[i];
                g_autoptr(GPtrArray) blockers = vh_test_host_group_blockers(fx->host, tg);
                json_object *devices = member(g, "devices", json_type_array);

                /* In id order. */
                g_assert_cmpint(mint(g, "id"), ==, tg->id);
                g_assert_cmpstr(mstr(g, "type"), ==, tg->type);
                g_assert_cmpint(mbool(g, "viable"), ==, blockers->len == 0);
                if (blockers->len > 0)
                        g_assert_true(g_strcmp0(mstr(g, "assignability"), "bind-first") == 0 ||
                                      g_strcmp0(mstr(g, "assignability"), "never") == 0);
                else
                        g_assert_true(g_strcmp0(mstr(g, "assignability"), "assignable") == 0 ||
                                      g_strcmp0(mstr(g, "assignability"), "nothing") == 0);
                g_assert_cmpstr(mstr(g, "viability_reason"), !=, "");
                if (blockers->len > 0) {
                        const VhTestFunction *b = blockers->pdata[0];
                        g_assert_nonnull(strstr(mstr(g, "viability_reason"), b->address));
                }
                g_assert_cmpuint(json_object_array_length(devices), ==, tg->addresses->len);
                for (guint k = 0; k < tg->addresses->len; k++)
                        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(devices, k)), ==,
                                        tg->addresses->pdata[k]);
        }
        json_object_put(a);

        {
                g_autoptr(VhTestRun) human = vh_test_bus_run_ctl(fx->bus, "groups", NULL);
                assert_ok(human, "vfiohostctl groups");
                g_assert_null(strchr(human->out, '\033'));
                for (guint i = 0; i < fx->host->functions->len; i++) {
                        const VhTestFunction *f = fx->host->functions->pdata[i];
                        if (f->iommu_group >= 0)
                                g_assert_nonnull(strstr(human->out, f->address));
                }
        }
}

static void test_status(Fixture *fx, gconstpointer data) {
        g_autoptr(VhTestRun) run = NULL;
        json_object *s;
        guint viable = 0, vfio = 0;

        SKIP_IF_NO_HOST(fx);
        /* Groups a VM can take: no blockers and something besides bridges. */
        for (guint i = 0; i < fx->host->groups->len; i++) {
                const VhTestGroup *g = fx->host->groups->pdata[i];
                g_autoptr(GPtrArray) b = vh_test_host_group_blockers(fx->host, g);
                gboolean endpoints = FALSE;

                for (guint k = 0; k < g->addresses->len; k++) {
                        const VhTestFunction *f = vh_test_host_find(fx->host, g->addresses->pdata[k]);

                        endpoints = endpoints || (f && !vh_test_function_is_bridge(f));
                }
                viable += b->len == 0 && endpoints;
        }
        for (guint i = 0; i < fx->host->functions->len; i++)
                vfio += strcmp(((VhTestFunction *) fx->host->functions->pdata[i])->driver, "vfio-pci") == 0;

        run = vh_test_bus_run_ctl(fx->bus, "status", "--json", NULL);
        assert_ok(run, "vfiohostctl status --json");
        s = parse_pure_json(run, "vfiohostctl status --json");
        g_assert_cmpstr(mstr(s, "version"), ==, VH_TEST_VERSION);
        g_assert_cmpint(mbool(s, "iommu_enabled"), ==, fx->host->iommu_enabled);
        if (fx->host->vfio_available >= 0)
                g_assert_cmpint(mbool(s, "vfio_available"), ==, fx->host->vfio_available);
        else
                (void) mbool(s, "vfio_available");
        g_assert_cmpint(mint(s, "devices"), ==, fx->host->functions->len);
        g_assert_cmpint(mint(s, "groups"), ==, fx->host->groups->len);
        g_assert_cmpint(mint(s, "viable_groups"), ==, viable);
        g_assert_cmpint(mint(s, "vfio_devices"), ==, vfio);
        json_object_put(s);

        {
                /* No verb: status. */
                g_autoptr(VhTestRun) human = vh_test_bus_run_ctl(fx->bus, NULL);
                assert_ok(human, "vfiohostctl");
                g_assert_nonnull(strstr(human->out, VH_TEST_VERSION));
                g_assert_null(strchr(human->out, '\033'));
        }
}

/* The service is not there and cannot be activated. */
static void test_unreachable(void) {
        g_autoptr(VhTestBus) bus = NULL;
        double limit = 10 * vh_test_timeout_multiplier();
        g_autofree char *nowhere = NULL;

        if (!vh_test_bus_requirements())
                return;
        bus = vh_test_bus_new();
        g_assert_false(vh_test_bus_name_has_owner(bus, VH_BUS_NAME));

        {
                g_autoptr(VhTestRun) run = vh_test_bus_run_ctl(bus, "--json", "status", NULL);
                g_autoptr(VhTestRun) human = vh_test_bus_run_ctl(bus, "list", NULL);

                assert_json_error(run, "vfiohostctl --json status (no service)", NULL, 4);
                g_assert_cmpfloat(run->seconds, <, limit);
                g_assert_cmpint(human->status, ==, 4);
                g_assert_cmpstr(human->out, ==, "");
                if (!strstr(human->err, "vfiohost")) {
                        vh_test_run_print(human, "vfiohostctl list (no service)");
                        g_error("the message does not say that vfiohostd/org.vfiohost is unreachable");
                }
                g_assert_cmpfloat(human->seconds, <, limit);
        }

        /* No bus at all at that address. */
        nowhere = g_strdup_printf("unix:path=%s/no-such-socket", bus->dir);
        {
                const char *json_args[] = { "--json", "list", NULL };
                const char *args[] = { "status", NULL };
                g_autoptr(VhTestRun) run = vh_test_run_ctl_address(nowhere, json_args);
                g_autoptr(VhTestRun) human = vh_test_run_ctl_address(nowhere, args);

                assert_json_error(run, "vfiohostctl --json list (no bus)", NULL, 4);
                g_assert_cmpint(human->status, ==, 4);
                g_assert_cmpstr(human->out, ==, "");
                g_assert_cmpstr(human->err, !=, "");
                g_assert_cmpfloat(human->seconds, <, limit);
        }
}

int main(int argc, char **argv) {
        static const char *const expected_hosts[] = { "desktop-intel", "desktop-vfio-bound", "server-sriov", "no-iommu" };
        g_autoptr(GPtrArray) hosts = NULL;

        g_test_init(&argc, &argv, NULL);

        hosts = vh_test_host_fixtures();
        for (size_t i = 0; i < G_N_ELEMENTS(expected_hosts); i++)
                if (!g_ptr_array_find_with_equal_func(hosts, expected_hosts[i], g_str_equal, NULL))
                        g_ptr_array_add(hosts, g_strdup(expected_hosts[i]));   /* skips, saying so */

        for (guint i = 0; i < hosts->len; i++) {
                const char *h = hosts->pdata[i];
                static const struct {
                        const char *name;
                        void (*fn)(Fixture *, gconstpointer);
                } cases[] = {
                        { "list-json",   test_list_json },
                        { "list",        test_list_human },
                        { "show",        test_show },
                        { "show-errors", test_show_errors },
                        { "groups",      test_groups },
                        { "status",      test_status },
                };
                for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
                        g_autofree char *path = g_strdup_printf("/ctl/%s/%s", h, cases[k].name);
                        g_test_add(path, Fixture, h, fixture_setup, cases[k].fn, fixture_teardown);
                }
        }
        g_test_add_func("/ctl/unreachable", test_unreachable);

        return g_test_run();
}
