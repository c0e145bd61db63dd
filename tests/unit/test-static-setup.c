/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-static-setup and vh-setup-specs: the boot-time VFIO setup generated
 * for the fixture hosts (tests/data/README.md) — the IOMMU parameter of the
 * IOMMU present (intel_iommu=on on VT-d, nothing on AMD-Vi, never
 * amd_iommu=on), vfio-pci.ids= only where every present function with the
 * ids is meant (subsystem ids where they tell cards apart), softdep lines
 * for the host drivers, group expansion of persisted assignments, names,
 * refusals, huge pages and CPU isolation, and module lists without the
 * modules the running kernel does not have (vfio_virqfd from 6.2). */

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-assignments.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-setup-specs.h"
#include "vh-static-setup.h"
#include "vh-strv.h"
#include "vh-unit.h"

typedef struct {
        char *copy;                     /* a writable copy, or NULL */
        VhHostFs *fs;
        VhHost *host;
        VhAssignments *assignments;
        VhStaticSetup *setup;
        char *line;
        VhError error;
} Run;

static void run_free(Run *r) {
        vh_static_setup_free(r->setup);
        g_free(r->line);
        vh_error_clear(&r->error);
        vh_assignments_free(r->assignments);
        vh_host_free(r->host);
        vh_hostfs_free(r->fs);
        vh_unit_remove_copy(r->copy);
        g_free(r->copy);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Run, run_free)

static Run *run_open_root(char *root, char *copy) {
        Run *r = g_new0(Run, 1);

        r->copy = copy;
        g_assert_cmpint(vh_hostfs_new(root, &r->fs), ==, 0);
        g_assert_cmpint(vh_host_load(r->fs, NULL, &r->host), ==, 0);
        r->assignments = g_new0(VhAssignments, 1);
        g_free(root);
        return r;
}

static Run *run_open(const char *host) {
        return run_open_root(vh_unit_host_dir(host), NULL);
}

static Run *run_open_copy(const char *host) {
        char *copy = vh_unit_copy_host(host);

        return run_open_root(g_strdup(copy), copy);
}

/* An assignment of the function as it is on the host now. */
static void persist(Run *r, const char *address, const char *name, bool group) {
        const VhPciDevice *d = vh_host_find_device(r->host, address);
        VhAssignment a = {
                .name = (char *) name,
                .driver = (char *) "vfio-pci",
                .group = group,
        };

        g_assert_nonnull(d);
        g_strlcpy(a.address, address, sizeof(a.address));
        vh_identity_read(r->fs, d, &a.identity);
        g_assert_cmpint(vh_assignments_set(r->assignments, &a), ==, 0);
}

static void dump(const Run *r) {
        if (!r->setup)
                return;
        g_test_message("command line: %s", r->line);
        for (size_t i = 0; i < r->setup->n_parameters; i++)
                g_test_message("  %s: %s", r->setup->parameters[i].parameter, r->setup->parameters[i].reason);
        STRV_FOREACH(n, r->setup->notes)
                g_test_message("note: %s", *n);
        g_test_message("modprobe.d:\n%s", r->setup->modprobe_d);
        g_test_message("initramfs-tools:\n%s", r->setup->initramfs_tools_modules);
        g_test_message("dracut:\n%s", r->setup->dracut_conf);
}

/* Generates; devices is NULL-terminated or NULL. Returns the errno. */
static int generate(Run *r, const char *const *devices, const char *hugepages, const char *isolate_cpus) {
        VhStaticSetupRequest req = {
                .devices = (char * const *) devices,
                .hugepages = hugepages,
                .isolate_cpus = isolate_cpus,
        };
        int ret;

        vh_static_setup_free(r->setup);
        r->setup = NULL;
        vh_error_clear(&r->error);
        ret = vh_static_setup_generate(r->fs, r->host, r->assignments, &req, &r->setup, &r->error);
        if (ret < 0) {
                g_assert_null(r->setup);
                g_assert_true(vh_error_is_set(&r->error));
                g_assert_nonnull(r->error.message);
                g_test_message("refused: %s", r->error.message);
                return ret;
        }
        g_assert_false(vh_error_is_set(&r->error));
        g_free(r->line);
        r->line = vh_static_setup_command_line(r->setup);
        g_assert_nonnull(r->line);
        dump(r);
        return 0;
}

static void generate_ok(Run *r, const char *const *devices, const char *hugepages, const char *isolate_cpus) {
        g_assert_cmpint(generate(r, devices, hugepages, isolate_cpus), ==, 0);
}

static void expect_refused(Run *r, const char *const *devices, const char *hugepages, const char *isolate_cpus,
                           VhErrorCode code, const char *in_message) {
        g_assert_cmpint(generate(r, devices, hugepages, isolate_cpus), <, 0);
        g_assert_cmpint(r->error.code, ==, code);
        if (in_message && !strstr(r->error.message, in_message))
                g_error("'%s' not in the message: %s", in_message, r->error.message);
}

static gboolean line_has_word(const Run *r, const char *word) {
        g_auto(GStrv) words = g_strsplit(r->line, " ", -1);

        return g_strv_contains((const char *const *) words, word);
}

static gboolean line_has_prefix(const Run *r, const char *prefix) {
        g_auto(GStrv) words = g_strsplit(r->line, " ", -1);

        for (char **w = words; *w; w++)
                if (g_str_has_prefix(*w, prefix))
                        return TRUE;
        return FALSE;
}

static const char *note_with(const Run *r, const char *a, const char *b) {
        STRV_FOREACH(n, r->setup->notes)
                if (strstr(*n, a) && (!b || strstr(*n, b)))
                        return *n;
        return NULL;
}

static gboolean text_has_line(const char *text, const char *line) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        return g_strv_contains((const char *const *) lines, line);
}

/* Every line of a generated file is a comment or follows one: each says why. */
static void assert_commented(const char *text) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        gboolean after_comment = FALSE;

        g_assert_true(g_str_has_prefix(text, "# "));
        for (char **l = lines; *l; l++) {
                if (!**l)
                        continue;
                if (**l == '#')
                        after_comment = TRUE;
                else {
                        if (!after_comment)
                                g_error("'%s' has no comment before it:\n%s", *l, text);
                        /* The next setting needs its own reason. */
                        after_comment = FALSE;
                }
        }
}

/* Replaces text in a file of the copy (at least once). */
static void edit_copy(const Run *r, const char *path, const char *from, const char *to) {
        g_autofree char *file = g_build_filename(r->copy, path, NULL), *text = NULL;
        g_autoptr(GString) edited = NULL;

        g_assert_nonnull(r->copy);
        g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
        edited = g_string_new(text);
        g_assert_cmpuint(g_string_replace(edited, from, to, 0), >, 0);
        g_assert_true(g_file_set_contents(file, edited->str, -1, NULL));
}

static void assert_devices(const Run *r, const char *const *expected) {
        g_assert_cmpuint(vh_strv_length(r->setup->devices), ==, g_strv_length((char **) expected));
        for (size_t i = 0; expected[i]; i++)
                g_assert_cmpstr(r->setup->devices[i], ==, expected[i]);
}

#define DEVICES(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* ---------- the IOMMU parameter ---------- */

static void test_intel(void) {
        g_autoptr(Run) r = run_open("desktop-intel");
        const VhKernelParameter *p;

        generate_ok(r, DEVICES("0000:01:00.0"), NULL, NULL);
        g_assert_true(line_has_word(r, "intel_iommu=on"));
        g_assert_true(line_has_word(r, "iommu=pt"));
        g_assert_false(line_has_prefix(r, "amd_iommu"));
        p = &r->setup->parameters[0];
        g_assert_cmpstr(p->parameter, ==, "intel_iommu=on");
        /* Arch's kernel leaves VT-d off by default: then it is needed. */
        g_assert_nonnull(strstr(p->reason, "/sys/class/iommu/dmar"));
        g_assert_null(strstr(p->reason, "harmless"));
        g_assert_nonnull(strstr(r->setup->parameters[1].reason, "Optional"));
}

static void test_intel_default_on(void) {
        g_autoptr(Run) r = run_open_copy("server-sriov");

        edit_copy(r, "boot/config-5.14.0-427.13.1.el9_4.x86_64", "# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set",
                  "CONFIG_INTEL_IOMMU_DEFAULT_ON=y");

        generate_ok(r, NULL, NULL, NULL);
        g_assert_cmpstr(r->setup->parameters[0].parameter, ==, "intel_iommu=on");
        g_assert_nonnull(strstr(r->setup->parameters[0].reason, "harmless"));
}

static void test_amd(void) {
        g_autoptr(Run) r = run_open("amd-desktop");

        generate_ok(r, DEVICES("0000:04:00.0"), NULL, NULL);
        g_assert_false(line_has_prefix(r, "amd_iommu"));
        g_assert_false(line_has_prefix(r, "intel_iommu"));
        g_assert_true(line_has_word(r, "iommu=pt"));
        g_assert_nonnull(note_with(r, "AMD-Vi", "amd_iommu=on is not a valid value"));
}

static void test_no_iommu(void) {
        g_autoptr(Run) r = run_open("no-iommu");

        generate_ok(r, NULL, NULL, NULL);
        g_assert_false(line_has_prefix(r, "intel_iommu"));
        g_assert_false(line_has_prefix(r, "iommu="));
        g_assert_nonnull(note_with(r, "No IOMMU", "firmware setup"));
}

/* What older guides write and this never does, on every fixture. */
static void test_never_emitted(void) {
        const char *hosts[] = { "acs-override", "amd-desktop", "desktop-intel", "desktop-vfio-bound", "desktop-vmd",
                                "no-iommu", "server-sriov", "vm-guest", "vm-guest-amd-cpu-intel-viommu" };

        for (size_t i = 0; i < G_N_ELEMENTS(hosts); i++) {
                g_autoptr(Run) r = run_open(hosts[i]);

                g_test_message("host %s", hosts[i]);
                generate_ok(r, NULL, NULL, NULL);
                g_assert_false(line_has_word(r, "amd_iommu=on"));
                g_assert_false(line_has_prefix(r, "pcie_acs_override"));
                g_assert_null(strstr(r->setup->modprobe_d, "pcie_acs_override"));
                assert_commented(r->setup->modprobe_d);
                assert_commented(r->setup->initramfs_tools_modules);
                assert_commented(r->setup->dracut_conf);
                for (size_t k = 0; k < r->setup->n_parameters; k++)
                        g_assert_cmpstr(r->setup->parameters[k].reason, !=, "");
        }
}

/* ---------- vfio-pci.ids= and softdep ---------- */

static void test_unique_ids(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        generate_ok(r, DEVICES("0000:01:00.0", "0000:01:00.1"), NULL, NULL);
        g_assert_true(line_has_word(r, "vfio-pci.ids=10de:2684,10de:22ba"));
        g_assert_true(text_has_line(r->setup->modprobe_d, "options vfio-pci ids=10de:2684,10de:22ba"));
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep nvidia pre: vfio-pci"));
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep snd_hda_intel pre: vfio-pci"));
        g_assert_nonnull(strstr(r->setup->modprobe_d, "# nvidia drives 0000:01:00.0"));
        g_assert_null(note_with(r, "also holds", NULL));
}

/* 0000:3b:00.0 and .1 share 8086:1572 but not their subsystem ids. */
static void test_ids_told_apart_by_subsystem(void) {
        g_autoptr(Run) r = run_open("server-sriov");

        generate_ok(r, DEVICES("0000:3b:00.0"), NULL, NULL);
        g_assert_true(line_has_word(r, "vfio-pci.ids=8086:1572:8086:0007"));
        g_assert_nonnull(note_with(r, "shares 8086:1572 with 0000:3b:00.1", NULL));
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep i40e pre: vfio-pci"));

        /* Both meant: the plain ids take both, and nothing else. */
        generate_ok(r, DEVICES("0000:3b:00.1", "0000:3b:00.0"), NULL, NULL);
        g_assert_true(line_has_word(r, "vfio-pci.ids=8086:1572"));
        assert_devices(r, DEVICES("0000:3b:00.0", "0000:3b:00.1"));
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep i40e pre: vfio-pci"));
        g_assert_true(g_str_has_suffix(r->setup->modprobe_d, "\noptions vfio-pci ids=8086:1572\n"));
        g_assert_nonnull(strstr(r->setup->modprobe_d, "# i40e drives 0000:3b:00.0, 0000:3b:00.1"));
}

/* Two identical cards, one meant: vfio-pci.ids= would take both. */
static void test_shared_ids(void) {
        g_autoptr(Run) r = run_open_copy("server-sriov");
        g_autofree char *subsystem = g_build_filename(r->copy, "sys/bus/pci/devices/0000:3b:00.1/subsystem_device",
                                                      NULL);
        const char *n;

        g_assert_true(g_file_set_contents(subsystem, "0x0007\n", -1, NULL));
        vh_host_free(r->host);
        g_assert_cmpint(vh_host_load(r->fs, NULL, &r->host), ==, 0);
        g_assert_cmphex(vh_host_find_device(r->host, "0000:3b:00.1")->subsystem_device_id, ==, 0x0007);

        generate_ok(r, DEVICES("0000:3b:00.0"), NULL, NULL);
        g_assert_false(line_has_prefix(r, "vfio-pci.ids="));
        g_assert_null(strstr(r->setup->modprobe_d, "options vfio-pci"));
        n = note_with(r, "0000:3b:00.1, which is not selected", "driver_override");
        g_assert_nonnull(n);
        g_assert_nonnull(strstr(n, "vfio-pci.ids= would take both"));
        /* The host driver still comes after vfio-pci. */
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep i40e pre: vfio-pci"));
}

static void test_vf_and_unknown_original_driver(void) {
        g_autoptr(Run) r = run_open("server-sriov");
        VhPciDevice *vf = vh_host_find_device(r->host, "0000:3b:02.1");

        /* On vfio-pci, bound by someone else: its own driver is not known. */
        generate_ok(r, DEVICES("0000:3b:02.1"), NULL, NULL);
        g_assert_nonnull(note_with(r, "0000:3b:02.1 is on vfio-pci", "not known"));
        g_assert_nonnull(note_with(r, "0000:3b:02.1 is an SR-IOV virtual function", NULL));
        g_assert_false(line_has_prefix(r, "vfio-pci.ids="));
        g_assert_null(strstr(r->setup->modprobe_d, "softdep"));

        /* vfiohost's journal recorded it. */
        vf->original_driver = g_strdup("iavf");
        generate_ok(r, DEVICES("0000:3b:02.1"), NULL, NULL);
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep iavf pre: vfio-pci"));
        g_assert_null(note_with(r, "not known", NULL));
}

/* ---------- which devices ---------- */

static void test_persisted_group(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        persist(r, "0000:01:00.0", "gpu", true);
        generate_ok(r, NULL, NULL, NULL);
        /* The bridge of group 2 (0000:00:01.0) stays with the host. */
        assert_devices(r, DEVICES("0000:01:00.0", "0000:01:00.1"));
        g_assert_true(line_has_word(r, "vfio-pci.ids=10de:2684,10de:22ba"));
        g_assert_true(text_has_line(r->setup->modprobe_d, "softdep snd_hda_intel pre: vfio-pci"));

        /* By name, the same. */
        generate_ok(r, DEVICES("gpu"), NULL, NULL);
        assert_devices(r, DEVICES("0000:01:00.0", "0000:01:00.1"));
}

static void test_group_incomplete(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        persist(r, "0000:01:00.0", NULL, false);
        generate_ok(r, NULL, NULL, NULL);
        assert_devices(r, DEVICES("0000:01:00.0"));
        g_assert_nonnull(note_with(r, "IOMMU group 2 also holds 0000:01:00.1 (snd_hda_intel)", NULL));
        g_assert_null(note_with(r, "0000:00:01.0", NULL));
}

static void test_persisted_absent_or_other(void) {
        g_autoptr(Run) r = run_open("desktop-intel");
        VhAssignment gone = { .address = "0000:0a:00.0", .name = (char *) "old", .driver = (char *) "vfio-pci",
                              .identity = { .vendor = 0x10de, .device = 0x1b80, .class_code = 0x030000 } };
        VhAssignment other = { .address = "0000:06:00.0", .driver = (char *) "vfio-pci",
                               .identity = { .vendor = 0x8086, .device = 0x125c, .class_code = 0x020000 } };
        VhAssignment not_vfio = { .address = "0000:05:00.0", .driver = (char *) "amdgpu" };

        not_vfio.identity = (VhIdentity) { .vendor = 0x1002, .device = 0x744c };
        g_assert_cmpint(vh_assignments_set(r->assignments, &gone), ==, 0);
        g_assert_cmpint(vh_assignments_set(r->assignments, &other), ==, 0);
        g_assert_cmpint(vh_assignments_set(r->assignments, &not_vfio), ==, 0);
        persist(r, "0000:01:00.0", NULL, false);

        generate_ok(r, NULL, NULL, NULL);
        assert_devices(r, DEVICES("0000:01:00.0"));
        g_assert_nonnull(note_with(r, "0000:0a:00.0 ('old') is persisted but not present", NULL));
        g_assert_nonnull(note_with(r, "not the card the assignment 0000:06:00.0 recorded", "8086:125c, now 8086:15f3"));
        g_assert_nonnull(note_with(r, "0000:05:00.0 is assigned to amdgpu, not vfio-pci", NULL));

        /* Named, the absent one is left out the same way (it is persisted). */
        generate_ok(r, DEVICES("old"), NULL, NULL);
        assert_devices(r, (const char *const[]) { NULL });
        g_assert_nonnull(note_with(r, "not present", NULL));
}

/* A PF's VF count: no static line makes VFs; left out, said why. */
static void test_persisted_vf_count(void) {
        g_autoptr(Run) r = run_open("server-sriov");
        VhAssignment pf = { .address = "0000:3b:00.1", .name = (char *) "pool", .driver = (char *) "vfio-pci",
                            .vfs = 4 };

        g_assert_cmpint(vh_assignments_set(r->assignments, &pf), ==, 0);
        generate_ok(r, NULL, NULL, NULL);
        assert_devices(r, (const char *const[]) { NULL });
        g_assert_nonnull(note_with(r, "0000:3b:00.1 ('pool') is a VF count (4 VFs on vfio-pci)", "no static setup"));
        g_assert_false(line_has_prefix(r, "vfio-pci.ids="));
}

/* The twin of the card persisted (same ids, another serial number) is not
 * the card: left out, as the daemon leaves it alone. */
static void test_persisted_twin(void) {
        g_autoptr(Run) r = run_open_copy("desktop-intel");

        vh_unit_write_config_with_serial(r->copy, "0000:06:00.0", 0x1111);
        persist(r, "0000:06:00.0", "nic", false);
        generate_ok(r, NULL, NULL, NULL);
        assert_devices(r, DEVICES("0000:06:00.0"));

        vh_unit_write_config_with_serial(r->copy, "0000:06:00.0", 0x2222);
        generate_ok(r, NULL, NULL, NULL);
        assert_devices(r, (const char *const[]) { NULL });
        g_assert_nonnull(note_with(r, "not the card the assignment 0000:06:00.0 ('nic') recorded", NULL));
}

static void test_refusals(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        persist(r, "0000:01:00.0", "gpu", true);
        expect_refused(r, DEVICES("0000:09:00.0"), NULL, NULL, VH_ERROR_CODE_NOT_FOUND, "0000:09:00.0");
        expect_refused(r, DEVICES("gpu2"), NULL, NULL, VH_ERROR_CODE_NOT_FOUND, "'gpu2'");
        expect_refused(r, DEVICES("01:00.0"), NULL, NULL, VH_ERROR_CODE_INVALID_ADDRESS, "neither a PCI address");
        expect_refused(r, DEVICES("gpu", "bad name"), NULL, NULL, VH_ERROR_CODE_INVALID_ADDRESS, "'bad name'");
        expect_refused(r, DEVICES("x"), NULL, NULL, VH_ERROR_CODE_INVALID_ADDRESS, NULL);
        /* A persisted address brings its assignment's group. */
        generate_ok(r, DEVICES("0000:01:00.0"), NULL, NULL);
        assert_devices(r, DEVICES("0000:01:00.0", "0000:01:00.1"));
}

static void test_nothing_selected(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        generate_ok(r, NULL, NULL, NULL);
        assert_devices(r, (const char *const[]) { NULL });
        g_assert_nonnull(note_with(r, "No persistent assignments", NULL));
        g_assert_cmpstr(r->line, ==, "intel_iommu=on iommu=pt");
        g_assert_nonnull(strstr(r->setup->modprobe_d, "nothing to add"));
        g_assert_null(strstr(r->setup->modprobe_d, "softdep"));
        /* The modules are host-wide: listed all the same. */
        g_assert_true(text_has_line(r->setup->initramfs_tools_modules, "vfio_pci"));
}

/* ---------- huge pages and CPU isolation ---------- */

static void test_hugepages(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        generate_ok(r, NULL, "1G:8", NULL);
        g_assert_true(g_str_has_suffix(r->line, " default_hugepagesz=1G hugepagesz=1G hugepages=8"));
        g_assert_null(note_with(r, "less than half", NULL));
        generate_ok(r, NULL, "2m:1024", NULL);
        g_assert_true(g_str_has_suffix(r->line, " hugepagesz=2M hugepages=1024"));
        g_assert_false(line_has_prefix(r, "default_hugepagesz"));
        /* 24 of 31 GiB: allowed, said. */
        generate_ok(r, NULL, "1G:24", NULL);
        g_assert_nonnull(note_with(r, "less than half", NULL));

        const char *bad[] = { "", "1G", "1G:", "1G:0", "1G:-1", "1G:+1", "1G:01", "1G:16x", "1G: 16", "3M:4",
                              "1GB:4", "2M:1048577", "1G:16\n", ":16" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                expect_refused(r, NULL, bad[i], NULL, VH_ERROR_CODE_INVALID_ARGS, "SIZE:COUNT");
        /* The host's 31 GiB cannot all go. */
        expect_refused(r, NULL, "1G:32", NULL, VH_ERROR_CODE_INVALID_ARGS, "nothing would be left");
}

static void test_hugepages_without_pdpe1gb(void) {
        g_autoptr(Run) r = run_open_copy("amd-desktop");

        edit_copy(r, "proc/cpuinfo", " pdpe1gb", "");

        expect_refused(r, NULL, "1G:4", NULL, VH_ERROR_CODE_INVALID_ARGS, "pdpe1gb");
        generate_ok(r, NULL, "2M:2048", NULL);
}

static void test_isolate_cpus(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        generate_ok(r, NULL, NULL, "10,2-7");
        g_assert_true(g_str_has_suffix(r->line, " isolcpus=managed_irq,domain,2-7,10 nohz_full=2-7,10 "
                                       "rcu_nocbs=2-7,10"));
        g_assert_null(note_with(r, "built without", NULL));
        /* Both together, in that order. */
        generate_ok(r, NULL, "1G:8", "4-5,6,7");
        g_assert_true(g_str_has_suffix(r->line, " hugepages=8 isolcpus=managed_irq,domain,4-7 nohz_full=4-7 "
                                       "rcu_nocbs=4-7"));

        expect_refused(r, NULL, NULL, "0-3", VH_ERROR_CODE_INVALID_ARGS, "CPU 0 cannot be isolated");
        expect_refused(r, NULL, NULL, "20-24", VH_ERROR_CODE_INVALID_ARGS, "CPU 24 does not exist");
        expect_refused(r, NULL, NULL, "1-23", VH_ERROR_CODE_INVALID_ARGS, "leaves only CPU 0");
        const char *bad[] = { "", "a", "2-", "-2", "7-2", "2,,3", "2 3", "2,", "02", "8192", "2-3\n\n" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                expect_refused(r, NULL, NULL, bad[i], VH_ERROR_CODE_INVALID_ARGS, "not a CPU list");
        /* A refused spec refuses the whole request: nothing half-made. */
        expect_refused(r, DEVICES("0000:01:00.0"), "1G:4", "0", VH_ERROR_CODE_INVALID_ARGS, NULL);
}

/* vm-guest: two CPUs, a kernel without NO_HZ_FULL and without modules. */
static void test_small_guest(void) {
        g_autoptr(Run) r = run_open("vm-guest");

        expect_refused(r, NULL, NULL, "1", VH_ERROR_CODE_INVALID_ARGS, "leaves only CPU 0 of 0-1");
}

static void test_kernel_without_nohz_full(void) {
        g_autoptr(Run) r = run_open("vm-guest-amd-cpu-intel-viommu");

        generate_ok(r, NULL, NULL, "2-3");
        g_assert_null(note_with(r, "built without", NULL));

        g_autoptr(Run) g = run_open_copy("vm-guest");
        g_autofree char *possible = g_build_filename(g->copy, "sys/devices/system/cpu/possible", NULL);

        g_assert_true(g_file_set_contents(possible, "0-3\n", -1, NULL));
        generate_ok(g, NULL, NULL, "2-3");
        g_assert_nonnull(note_with(g, "CONFIG_NO_HZ_FULL", "ignores nohz_full="));
        g_assert_nonnull(note_with(g, "CONFIG_RCU_NOCB_CPU", "ignores rcu_nocbs="));
        /* No lib/modules: said, and the modules every kernel since 6.2 has are listed. */
        g_assert_nonnull(note_with(g, "modules.dep cannot be read", NULL));
        g_assert_true(text_has_line(g->setup->initramfs_tools_modules, "vfio_pci"));
}

/* ---------- modules for the running kernel ---------- */

static void test_modules_6_9(void) {
        g_autoptr(Run) r = run_open("desktop-intel");

        generate_ok(r, NULL, NULL, NULL);
        g_assert_true(text_has_line(r->setup->initramfs_tools_modules, "vfio"));
        g_assert_true(text_has_line(r->setup->initramfs_tools_modules, "vfio_iommu_type1"));
        g_assert_true(text_has_line(r->setup->initramfs_tools_modules, "vfio_pci"));
        /* Part of vfio since 6.2: a module of that name does not exist here. */
        g_assert_false(text_has_line(r->setup->initramfs_tools_modules, "vfio_virqfd"));
        g_assert_null(strstr(r->setup->dracut_conf, " vfio_virqfd "));
        g_assert_true(text_has_line(r->setup->dracut_conf, "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \""));
        g_assert_true(text_has_line(r->setup->dracut_conf, "install_items+=\" /etc/modprobe.d/vfiohost.conf \""));
}

static void test_modules_6_1(void) {
        g_autoptr(Run) r = run_open("amd-desktop");

        generate_ok(r, NULL, NULL, NULL);
        g_assert_true(text_has_line(r->setup->initramfs_tools_modules, "vfio_virqfd"));
        g_assert_true(text_has_line(r->setup->dracut_conf,
                                    "force_drivers+=\" vfio vfio_iommu_type1 vfio_virqfd vfio_pci \""));
}

static void test_modules_builtin(void) {
        g_autoptr(Run) r = run_open("desktop-vfio-bound");

        generate_ok(r, NULL, NULL, NULL);
        /* Built in there (tests/data/README.md): nothing to load. */
        g_assert_nonnull(strstr(r->setup->initramfs_tools_modules, "# vfio_pci is built into this kernel"));
        g_assert_false(text_has_line(r->setup->initramfs_tools_modules, "vfio_pci"));
}

/* ---------- the spec parsers ---------- */

static void test_cpuset(void) {
        static const struct {
                const char *in, *out;
        } good[] = {
                { "0", "0" }, { "0-23\n", "0-23" }, { "3,1,2", "1-3" }, { "1,3,5-5,6", "1,3,5-6" },
                { "8191", "8191" }, { "0-8191", "0-8191" }, { "64,63,65", "63-65" },
        };
        VhCpuSet a, b;
        unsigned missing;

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autofree char *s = NULL;

                g_assert_cmpint(vh_cpuset_parse(good[i].in, &a), ==, 0);
                s = vh_cpuset_format(&a);
                g_assert_cmpstr(s, ==, good[i].out);
        }
        g_assert_cmpint(vh_cpuset_parse("8192", &a), ==, -ERANGE);
        g_assert_cmpint(vh_cpuset_parse("99999999999999999999", &a), ==, -ERANGE);
        g_assert_cmpint(vh_cpuset_parse("1-2:1/2", &a), ==, -EINVAL);
        g_assert_cmpint(vh_cpuset_parse("0-63", &a), ==, 0);
        g_assert_cmpuint(vh_cpuset_count(&a), ==, 64);
        g_assert_cmpint(vh_cpuset_parse("2,70", &b), ==, 0);
        g_assert_false(vh_cpuset_is_subset(&b, &a, &missing));
        g_assert_cmpuint(missing, ==, 70);
        g_assert_true(vh_cpuset_is_subset(&a, &a, NULL));
}

static void test_hugepages_spec(void) {
        VhHugepages h;

        g_assert_cmpint(vh_hugepages_parse("1g:1048576", &h), ==, 0);
        g_assert_cmpstr(h.size, ==, "1G");
        g_assert_cmpuint(h.size_kib, ==, 1048576);
        g_assert_cmpuint(h.count, ==, 1048576);
        g_assert_cmpint(vh_hugepages_parse("2M:1", &h), ==, 0);
        g_assert_cmpstr(h.size, ==, "2M");
        g_assert_cmpuint(h.size_kib, ==, 2048);
        g_assert_cmpint(vh_hugepages_parse("2M:99999999999999999999999", &h), <, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/static-setup/iommu/intel", test_intel);
        g_test_add_func("/static-setup/iommu/intel-default-on", test_intel_default_on);
        g_test_add_func("/static-setup/iommu/amd", test_amd);
        g_test_add_func("/static-setup/iommu/none", test_no_iommu);
        g_test_add_func("/static-setup/never-emitted", test_never_emitted);
        g_test_add_func("/static-setup/ids/unique", test_unique_ids);
        g_test_add_func("/static-setup/ids/subsystem", test_ids_told_apart_by_subsystem);
        g_test_add_func("/static-setup/ids/shared", test_shared_ids);
        g_test_add_func("/static-setup/softdep/vf-original-driver", test_vf_and_unknown_original_driver);
        g_test_add_func("/static-setup/devices/persisted-group", test_persisted_group);
        g_test_add_func("/static-setup/devices/group-incomplete", test_group_incomplete);
        g_test_add_func("/static-setup/devices/absent-or-other", test_persisted_absent_or_other);
        g_test_add_func("/static-setup/devices/twin", test_persisted_twin);
        g_test_add_func("/static-setup/devices/vf-count", test_persisted_vf_count);
        g_test_add_func("/static-setup/devices/refusals", test_refusals);
        g_test_add_func("/static-setup/devices/none", test_nothing_selected);
        g_test_add_func("/static-setup/hugepages", test_hugepages);
        g_test_add_func("/static-setup/hugepages/no-pdpe1gb", test_hugepages_without_pdpe1gb);
        g_test_add_func("/static-setup/isolate-cpus", test_isolate_cpus);
        g_test_add_func("/static-setup/isolate-cpus/small-guest", test_small_guest);
        g_test_add_func("/static-setup/isolate-cpus/no-nohz-full", test_kernel_without_nohz_full);
        g_test_add_func("/static-setup/modules/6.9", test_modules_6_9);
        g_test_add_func("/static-setup/modules/6.1", test_modules_6_1);
        g_test_add_func("/static-setup/modules/builtin", test_modules_builtin);
        g_test_add_func("/static-setup/specs/cpuset", test_cpuset);
        g_test_add_func("/static-setup/specs/hugepages", test_hugepages_spec);
        return g_test_run();
}
