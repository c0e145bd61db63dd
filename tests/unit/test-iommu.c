/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-iommu: groups from sys/kernel/iommu_groups, their viability and the
 * reason, on the fixture hosts and on hand-made members. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-hostfs.h"
#include "vh-iommu.h"
#include "vh-pci.h"
#include "vh-pci-names.h"
#include "vh-strv.h"
#include "vh-unit.h"
#include "vh-unit-expected.h"

typedef struct {
        const ExpectedHost *host;
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
        VhPciDevice **devices;
        size_t n_devices;
        VhIommuGroup **groups;
        size_t n_groups;
} Fixture;

static void load(Fixture *f, const char *root) {
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &f->devices, &f->n_devices), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        f->host = expected_host(data);
        load(f, dir);
}

static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        f->host = expected_host(data);
        f->copy = vh_unit_copy_host(data);
        load(f, f->copy);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_iommu_group_array_free(f->groups, f->n_groups);
        vh_pci_device_array_free(f->devices, f->n_devices);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static const VhPciDevice *find(Fixture *f, const char *address) {
        for (size_t i = 0; i < f->n_devices; i++)
                if (g_str_equal(f->devices[i]->address, address))
                        return f->devices[i];
        return NULL;
}

/* The group's members as PCI functions, the way vh-host hands them over. */
static const VhPciDevice **members_of(Fixture *f, const VhIommuGroup *g, size_t *n) {
        size_t len = vh_strv_length(g->members);
        const VhPciDevice **m = g_new0(const VhPciDevice *, len + 1);

        for (size_t i = 0; i < len; i++)
                m[i] = find(f, g->members[i]);
        *n = len;
        return m;
}

static void assert_words(char **strv, const char *words) {
        g_auto(GStrv) expected = g_strsplit(words, " ", -1);

        g_assert_nonnull(strv);
        if (!*words)
                g_assert_null(strv[0]);
        else
                g_assert_cmpstrv(strv, expected);
}

/* The reason names every blocker with its driver, and nothing harmless. */
static void assert_reason(const VhIommuGroup *g, const ExpectedGroup *e, Fixture *f) {
        g_auto(GStrv) blockers = g_strsplit(e->blockers, " ", -1);
        g_auto(GStrv) drivers = g_strsplit(e->drivers, " ", -1);

        g_assert_nonnull(g->viability_reason);
        g_assert_cmpstr(g->viability_reason, !=, "");
        g_test_message("group %u: %s", g->id, g->viability_reason);

        if (!*e->blockers)
                return;
        for (size_t i = 0; blockers[i]; i++) {
                g_assert_nonnull(strstr(g->viability_reason, blockers[i]));
                g_assert_nonnull(strstr(g->viability_reason, drivers[i]));
        }
        /* harmless members are not blamed */
        for (size_t i = 0; g->members[i]; i++) {
                const VhPciDevice *d = find(f, g->members[i]);

                if (g_strv_contains((const char *const *) blockers, g->members[i]))
                        continue;
                g_assert_null(strstr(g->viability_reason, g->members[i]));
                if (d && d->driver && g_str_equal(d->driver, "pcieport"))
                        g_assert_null(strstr(g->viability_reason, "pcieport"));
        }
}

static void test_scan(Fixture *f, gconstpointer data) {
        unsigned last = 0;

        g_assert_cmpint(vh_iommu_scan_groups(f->fs, &f->groups, &f->n_groups), ==, 0);
        g_assert_cmpuint(f->n_groups, ==, f->host->n_groups);
        g_assert_cmpint(vh_iommu_enabled(f->fs), ==, f->host->iommu_enabled);

        for (size_t i = 0; i < f->n_groups; i++) {
                const VhIommuGroup *g = f->groups[i];
                const ExpectedGroup *e = expected_group(f->host, g->id);

                /* numerically sorted: 5 before 20 before 40 */
                if (i > 0)
                        g_assert_cmpuint(g->id, >, last);
                last = g->id;

                g_assert_nonnull(e);
                g_assert_cmpstr(g->type, ==, e->type);
                assert_words(g->members, e->members);

                /* every member's iommu_group link agrees */
                for (size_t j = 0; g->members[j]; j++) {
                        const VhPciDevice *d = find(f, g->members[j]);
                        g_assert_nonnull(d);
                        g_assert_cmpint(d->iommu_group, ==, (int) g->id);
                }
        }

        /* and every function with a group is a member of it */
        for (size_t i = 0; i < f->n_devices; i++) {
                const VhPciDevice *d = f->devices[i];
                gboolean found = FALSE;

                if (d->iommu_group < 0)
                        continue;
                for (size_t j = 0; j < f->n_groups; j++)
                        if (f->groups[j]->id == (unsigned) d->iommu_group)
                                found = g_strv_contains((const char *const *) f->groups[j]->members, d->address);
                g_assert_true(found);
        }
}

static void test_evaluate(Fixture *f, gconstpointer data) {
        g_assert_cmpint(vh_iommu_scan_groups(f->fs, &f->groups, &f->n_groups), ==, 0);

        for (size_t i = 0; i < f->n_groups; i++) {
                VhIommuGroup *g = f->groups[i];
                const ExpectedGroup *e = expected_group(f->host, g->id);
                g_autofree const VhPciDevice **m = NULL;
                size_t n;

                m = members_of(f, g, &n);
                g_assert_cmpint(vh_iommu_group_evaluate(g, m, n), ==, 0);
                g_test_message("group %u viable=%d", g->id, g->viable);
                g_assert_cmpint(g->viable, ==, e->viable);
                assert_words(g->blockers, e->blockers);
                assert_reason(g, e, f);

                /* evaluating again gives the same answer (and leaks nothing) */
                g_assert_cmpint(vh_iommu_group_evaluate(g, m, n), ==, 0);
                g_assert_cmpint(g->viable, ==, e->viable);
                assert_words(g->blockers, e->blockers);
        }
}

/* No IOMMU: no groups, whether the kernel has an empty iommu_groups
 * directory (IOMMU API built, no hardware) or none at all. */
static void test_no_iommu(Fixture *f, gconstpointer data) {
        g_autofree char *groups = NULL, *cls = NULL;

        g_assert_cmpint(vh_iommu_scan_groups(f->fs, &f->groups, &f->n_groups), ==, 0);
        g_assert_cmpuint(f->n_groups, ==, 0);
        g_assert_false(vh_iommu_enabled(f->fs));
        for (size_t i = 0; i < f->n_devices; i++)
                g_assert_cmpint(f->devices[i]->iommu_group, ==, -1);
        vh_iommu_group_array_free(f->groups, f->n_groups);
        f->groups = NULL;

        if (!f->copy)
                return;

        /* the shape a real kernel has: both directories present and empty */
        groups = g_build_filename(f->copy, "sys", "kernel", "iommu_groups", NULL);
        cls = g_build_filename(f->copy, "sys", "class", "iommu", NULL);
        g_assert_cmpint(g_mkdir_with_parents(groups, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(cls, 0755), ==, 0);
        g_assert_cmpint(vh_iommu_scan_groups(f->fs, &f->groups, &f->n_groups), ==, 0);
        g_assert_cmpuint(f->n_groups, ==, 0);
        g_assert_false(vh_iommu_enabled(f->fs));
}

/* Either sign is enough: an IOMMU unit, or a group. */
static void test_enabled_signs(Fixture *f, gconstpointer data) {
        g_autofree char *unit = g_build_filename(f->copy, "sys/devices/virtual/iommu/dmar0", NULL);
        g_autofree char *link = g_build_filename(f->copy, "sys/class/iommu/dmar0", NULL);
        g_autofree char *cls = g_build_filename(f->copy, "sys/class/iommu", NULL);

        g_assert_false(vh_iommu_enabled(f->fs));

        g_assert_cmpint(g_mkdir_with_parents(unit, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(cls, 0755), ==, 0);
        g_assert_cmpint(symlink("../../devices/virtual/iommu/dmar0", link), ==, 0);
        g_assert_true(vh_iommu_enabled(f->fs));

        g_assert_cmpint(g_unlink(link), ==, 0);
        g_assert_false(vh_iommu_enabled(f->fs));
        vh_unit_write_file(f->copy, "sys/kernel/iommu_groups/0/type", "DMA\n");
        g_assert_true(vh_iommu_enabled(f->fs));
}

/* Stray entries and a group without "type" (kernels before 5.6). */
static void test_scan_odd_entries(Fixture *f, gconstpointer data) {
        g_autofree char *stray = g_build_filename(f->copy, "sys/kernel/iommu_groups/stray", NULL);
        const VhIommuGroup *g7 = NULL;

        g_assert_cmpint(g_mkdir_with_parents(stray, 0755), ==, 0);
        vh_unit_unlink(f->copy, "sys/kernel/iommu_groups/7/type");

        g_assert_cmpint(vh_iommu_scan_groups(f->fs, &f->groups, &f->n_groups), ==, 0);
        g_assert_cmpuint(f->n_groups, ==, f->host->n_groups);
        for (size_t i = 0; i < f->n_groups; i++)
                if (f->groups[i]->id == 7)
                        g7 = f->groups[i];
        g_assert_nonnull(g7);
        g_assert_null(g7->type);
        assert_words(g7->members, "0000:00:1f.0 0000:00:1f.4");
}

/* --- the rule on hand-made members */

typedef struct {
        const char *address;
        guint32 class_code;
        const char *driver;
} Member;

static VhPciDevice *make(const Member *m) {
        VhPciDevice *d = calloc(1, sizeof(VhPciDevice));

        d->n_ref = 1;
        g_strlcpy(d->address, m->address, sizeof(d->address));
        d->class_code = m->class_code;
        d->driver = m->driver ? strdup(m->driver) : NULL;
        d->vendor_name = strdup("Vendor");
        d->device_name = strdup("Device");
        d->subsystem_vendor_name = strdup("");
        d->subsystem_name = strdup("");
        d->class_name = strdup("Class");
        d->reset_methods = calloc(1, sizeof(char *));
        d->iommu_group = 9;
        d->numa_node = -1;
        return d;
}

/* Evaluates a group of the given members; NULL driver: none. A member with
 * class 0 stands for something that is not a PCI function (NULL device). */
static VhIommuGroup *evaluate(const Member *members, size_t n) {
        VhIommuGroup *g = calloc(1, sizeof(VhIommuGroup));
        g_autofree const VhPciDevice **devs = g_new0(const VhPciDevice *, n + 1);

        g->n_ref = 1;
        g->id = 9;
        g->type = strdup("DMA");
        g->members = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                g->members[i] = strdup(members[i].address);
                devs[i] = members[i].class_code ? make(&members[i]) : NULL;
        }
        g_assert_cmpint(vh_iommu_group_evaluate(g, devs, n), ==, 0);
        g_assert_nonnull(g->viability_reason);
        g_assert_nonnull(g->blockers);
        g_test_message("%s: %s", g->viable ? "viable" : "not viable", g->viability_reason);
        for (size_t i = 0; i < n; i++)
                vh_pci_device_free((VhPciDevice *) devs[i]);
        return g;
}

#define EVALUATE(...) ({ \
        static const Member _m[] = { __VA_ARGS__ }; \
        evaluate(_m, G_N_ELEMENTS(_m)); })

static void test_rule(void) {
        VhIommuGroup *g;

        /* all on vfio-pci, or driverless */
        g = EVALUATE({ "0000:01:00.0", 0x030000, "vfio-pci" }, { "0000:01:00.1", 0x040300, NULL });
        g_assert_true(g->viable);
        g_assert_null(g->blockers[0]);
        vh_iommu_group_free(g);

        /* PCI-to-PCI bridges on pcieport and shpchp never block */
        g = EVALUATE({ "0000:00:01.0", 0x060400, "pcieport" }, { "0000:00:1e.0", 0x060401, "shpchp" },
                     { "0000:02:00.0", 0x060900, "pcieport" }, { "0000:03:00.0", 0x020000, "vfio-pci" });
        g_assert_true(g->viable);
        vh_iommu_group_free(g);

        /* a group of nothing but bridges is viable too (nothing to assign) */
        g = EVALUATE({ "0000:00:01.0", 0x060400, "pcieport" });
        g_assert_true(g->viable);
        vh_iommu_group_free(g);

        /* an endpoint on a host driver blocks; the reason names it and its driver */
        g = EVALUATE({ "0000:00:01.0", 0x060400, "pcieport" }, { "0000:01:00.0", 0x030000, "nvidia" },
                     { "0000:01:00.1", 0x040300, "vfio-pci" });
        g_assert_false(g->viable);
        assert_words(g->blockers, "0000:01:00.0");
        g_assert_nonnull(strstr(g->viability_reason, "0000:01:00.0"));
        g_assert_nonnull(strstr(g->viability_reason, "nvidia"));
        g_assert_null(strstr(g->viability_reason, "0000:00:01.0"));
        vh_iommu_group_free(g);

        /* a PCI bridge on any other driver blocks */
        g = EVALUATE({ "0000:00:01.0", 0x060400, "some_switch_driver" }, { "0000:01:00.0", 0x020000, "vfio-pci" });
        g_assert_false(g->viable);
        assert_words(g->blockers, "0000:00:01.0");
        g_assert_nonnull(strstr(g->viability_reason, "some_switch_driver"));
        vh_iommu_group_free(g);

        /* an ISA bridge on lpc_ich blocks: it is no PCI-to-PCI bridge */
        g = EVALUATE({ "0000:00:1f.0", 0x060100, "lpc_ich" }, { "0000:00:1f.3", 0x040300, "vfio-pci" });
        g_assert_false(g->viable);
        assert_words(g->blockers, "0000:00:1f.0");
        g_assert_nonnull(strstr(g->viability_reason, "0000:00:1f.0"));
        g_assert_nonnull(strstr(g->viability_reason, "lpc_ich"));
        vh_iommu_group_free(g);

        /* ... even on pcieport, a host bridge with a driver blocks */
        g = EVALUATE({ "0000:00:00.0", 0x060000, "pcieport" });
        g_assert_false(g->viable);
        vh_iommu_group_free(g);
        g = EVALUATE({ "0000:00:00.0", 0x060000, "skl_uncore" });
        g_assert_false(g->viable);
        g_assert_nonnull(strstr(g->viability_reason, "skl_uncore"));
        vh_iommu_group_free(g);

        /* driverless host and ISA bridges do not */
        g = EVALUATE({ "0000:00:00.0", 0x060000, NULL }, { "0000:00:1f.0", 0x060100, NULL });
        g_assert_true(g->viable);
        vh_iommu_group_free(g);

        /* a member that is not a PCI function blocks, and is named */
        g = EVALUATE({ "0000:01:00.0", 0x030000, "vfio-pci" }, { "0000:00:14.5", 0, NULL });
        g_assert_false(g->viable);
        assert_words(g->blockers, "0000:00:14.5");
        g_assert_nonnull(strstr(g->viability_reason, "0000:00:14.5"));
        vh_iommu_group_free(g);

        /* blockers come in member order */
        g = EVALUATE({ "0000:05:00.0", 0x030000, "amdgpu" }, { "0000:05:00.1", 0x040300, "snd_hda_intel" },
                     { "0000:06:00.0", 0x020000, "igc" });
        g_assert_false(g->viable);
        assert_words(g->blockers, "0000:05:00.0 0000:05:00.1 0000:06:00.0");
        g_assert_nonnull(strstr(g->viability_reason, "amdgpu"));
        g_assert_nonnull(strstr(g->viability_reason, "snd_hda_intel"));
        g_assert_nonnull(strstr(g->viability_reason, "igc"));
        vh_iommu_group_free(g);

        vh_iommu_group_free(NULL);
        vh_iommu_group_array_free(NULL, 0);
}

/* The same group flips once its endpoints move to vfio-pci. */
static void test_reevaluate(void) {
        Member m[] = {
                { "0000:00:01.0", 0x060400, "pcieport" },
                { "0000:01:00.0", 0x030000, "nvidia" },
                { "0000:01:00.1", 0x040300, "snd_hda_intel" },
        };
        VhIommuGroup *g = evaluate(m, G_N_ELEMENTS(m));
        VhPciDevice *d[3];

        g_assert_false(g->viable);
        assert_words(g->blockers, "0000:01:00.0 0000:01:00.1");

        m[1].driver = "vfio-pci";
        m[2].driver = "vfio-pci";
        for (size_t i = 0; i < 3; i++)
                d[i] = make(&m[i]);
        g_assert_cmpint(vh_iommu_group_evaluate(g, (const VhPciDevice *const *) d, 3), ==, 0);
        g_assert_true(g->viable);
        g_assert_nonnull(g->blockers);
        g_assert_null(g->blockers[0]);
        g_assert_nonnull(g->viability_reason);
        g_assert_null(strstr(g->viability_reason, "nvidia"));

        for (size_t i = 0; i < 3; i++)
                vh_pci_device_free(d[i]);
        vh_iommu_group_free(g);
}

static void add_per_host(const char *prefix, void (*fn)(Fixture *, gconstpointer)) {
        for (size_t i = 0; i < G_N_ELEMENTS(vh_unit_hosts); i++) {
                g_autofree char *path = g_strconcat(prefix, vh_unit_hosts[i], NULL);
                g_test_add(path, Fixture, vh_unit_hosts[i], fixture_setup, fn, fixture_teardown);
        }
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        add_per_host("/iommu/scan/", test_scan);
        add_per_host("/iommu/evaluate/", test_evaluate);
        g_test_add("/iommu/no-iommu/tree", Fixture, "no-iommu", fixture_setup, test_no_iommu, fixture_teardown);
        g_test_add("/iommu/no-iommu/empty-dirs", Fixture, "no-iommu", fixture_setup_copy, test_no_iommu, fixture_teardown);
        g_test_add("/iommu/enabled/signs", Fixture, "no-iommu", fixture_setup_copy, test_enabled_signs, fixture_teardown);
        g_test_add("/iommu/scan/odd-entries", Fixture, "server-sriov", fixture_setup_copy, test_scan_odd_entries, fixture_teardown);
        g_test_add_func("/iommu/rule", test_rule);
        g_test_add_func("/iommu/rule/reevaluate", test_reevaluate);

        return g_test_run();
}
