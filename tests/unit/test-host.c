/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-host: the whole snapshot of a fixture host — functions, groups with
 * viability, and the host-wide IOMMU and VFIO flags. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"
#include "vh-strv.h"
#include "vh-unit.h"
#include "vh-unit-expected.h"

typedef VhHost VhHostPtr;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhHostPtr, vh_host_free)

typedef struct {
        const ExpectedHost *host;
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
        VhHost *h;
} Fixture;

static void open_fs(Fixture *f, const char *root) {
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        f->host = expected_host(data);
        open_fs(f, dir);
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->h), ==, 0);
        g_assert_nonnull(f->h);
}

/* A writable copy; nothing loaded yet. */
static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        f->host = expected_host(data);
        f->copy = vh_unit_copy_host(data);
        open_fs(f, f->copy);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_host_free(f->h);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static void test_load(Fixture *f, gconstpointer data) {
        const VhHost *h = f->h;
        g_autoptr(GPtrArray) addresses = expected_addresses(f->host);

        g_assert_cmpint(h->iommu_enabled, ==, f->host->iommu_enabled);
        g_assert_cmpint(h->vfio_available, ==, f->host->vfio_available);
        g_assert_cmpint(vh_host_vfio_available(f->fs), ==, f->host->vfio_available);

        /* every function, sorted, findable */
        g_assert_cmpuint(h->n_devices, ==, f->host->n_devices);
        for (size_t i = 0; i < h->n_devices; i++) {
                const ExpectedDevice *e = expected_device(f->host, h->devices[i]->address);

                g_assert_cmpstr(h->devices[i]->address, ==, addresses->pdata[i]);
                g_assert_nonnull(e);
                g_assert_true(vh_host_find_device(h, e->address) == h->devices[i]);
                g_assert_cmphex(h->devices[i]->vendor_id, ==, e->vendor);
                g_assert_cmphex(h->devices[i]->device_id, ==, e->device);
                g_assert_cmpstr(h->devices[i]->driver, ==, e->driver);
                g_assert_cmpint(h->devices[i]->iommu_group, ==, e->group);
                g_assert_cmpint(h->devices[i]->numa_node, ==, e->numa);
        }
        g_assert_null(vh_host_find_device(h, "0000:09:00.0"));
        g_assert_null(vh_host_find_device(h, "ffff:ff:1f.7"));
        g_assert_null(vh_host_find_device(h, "0000:00:00.1"));

        /* every group, sorted by id, evaluated */
        g_assert_cmpuint(h->n_groups, ==, f->host->n_groups);
        for (size_t i = 0; i < h->n_groups; i++) {
                const VhIommuGroup *g = h->groups[i];
                const ExpectedGroup *e = expected_group(f->host, g->id);
                g_auto(GStrv) members = NULL, blockers = NULL;

                if (i > 0)
                        g_assert_cmpuint(g->id, >, h->groups[i - 1]->id);
                g_assert_nonnull(e);
                g_assert_true(vh_host_find_group(h, g->id) == g);
                g_assert_cmpstr(g->type, ==, e->type);

                members = g_strsplit(e->members, " ", -1);
                g_assert_cmpstrv(g->members, members);

                g_test_message("group %u: %s", g->id, g->viability_reason);
                g_assert_cmpint(g->viable, ==, e->viable);
                g_assert_nonnull(g->viability_reason);
                g_assert_nonnull(g->blockers);
                if (*e->blockers) {
                        g_auto(GStrv) drivers = g_strsplit(e->drivers, " ", -1);

                        blockers = g_strsplit(e->blockers, " ", -1);
                        g_assert_cmpstrv(g->blockers, blockers);
                        for (size_t j = 0; blockers[j]; j++) {
                                g_assert_nonnull(strstr(g->viability_reason, blockers[j]));
                                g_assert_nonnull(strstr(g->viability_reason, drivers[j]));
                        }
                } else
                        g_assert_null(g->blockers[0]);

                /* each member is a known function in this group */
                for (size_t j = 0; g->members[j]; j++) {
                        const VhPciDevice *d = vh_host_find_device(h, g->members[j]);
                        g_assert_nonnull(d);
                        g_assert_cmpint(d->iommu_group, ==, (int) g->id);
                }
        }
        g_assert_null(vh_host_find_group(h, 999));
        if (f->host->n_groups == 0)
                g_assert_null(vh_host_find_group(h, 0));
}

/* The RTX 4090 group, before and after the GPU and its audio go to
 * vfio-pci: not viable while nvidia/snd_hda_intel hold them, viable on
 * vfio-pci; the PEG root port on pcieport never counts. */
static void test_gpu_group(Fixture *f, gconstpointer data) {
        const VhIommuGroup *g = vh_host_find_group(f->h, 2);
        const VhPciDevice *gpu = vh_host_find_device(f->h, "0000:01:00.0");
        const VhPciDevice *port = vh_host_find_device(f->h, "0000:00:01.0");

        g_assert_nonnull(g);
        g_assert_nonnull(gpu);
        g_assert_nonnull(port);
        g_assert_cmpstr(port->driver, ==, "pcieport");
        g_assert_false(vh_strv_contains(g->blockers, "0000:00:01.0"));

        if (g_str_equal(f->host->name, "desktop-intel")) {
                g_assert_false(g->viable);
                g_assert_nonnull(strstr(g->viability_reason, "0000:01:00.0"));
                g_assert_nonnull(strstr(g->viability_reason, "nvidia"));
                g_assert_nonnull(strstr(g->viability_reason, "0000:01:00.1"));
                g_assert_nonnull(strstr(g->viability_reason, "snd_hda_intel"));
                g_assert_null(gpu->vfio_group_path);
        } else {
                g_assert_true(g->viable);
                g_assert_cmpstr(gpu->driver, ==, "vfio-pci");
                g_assert_cmpstr(gpu->vfio_group_path, ==, "/dev/vfio/2");
                g_assert_cmpstr(gpu->vfio_device_path, ==, "/dev/vfio/devices/vfio0");
        }
}

/* The chipset groups: the PCH group with the ISA bridge on lpc_ich, and
 * the PCH root-port group that names the second GPU and the NIC. */
static void test_chipset_groups(Fixture *f, gconstpointer data) {
        const VhIommuGroup *pch = vh_host_find_group(f->h, 6);
        const VhIommuGroup *ports = vh_host_find_group(f->h, 5);

        g_assert_false(pch->viable);
        g_assert_true(vh_strv_contains(pch->blockers, "0000:00:1f.0"));
        g_assert_nonnull(strstr(pch->viability_reason, "lpc_ich"));

        g_assert_false(ports->viable);
        g_assert_nonnull(strstr(ports->viability_reason, "0000:05:00.0"));
        g_assert_nonnull(strstr(ports->viability_reason, "amdgpu"));
        g_assert_nonnull(strstr(ports->viability_reason, "0000:06:00.0"));
        g_assert_nonnull(strstr(ports->viability_reason, "igc"));
        for (size_t i = 0; ports->members[i]; i++) {
                const VhPciDevice *d = vh_host_find_device(f->h, ports->members[i]);
                if (vh_pci_device_is_pci_bridge(d))
                        g_assert_false(vh_strv_contains(ports->blockers, d->address));
        }
}

/* SR-IOV: VFs in their own groups; the one on vfio-pci viable. */
static void test_sriov(Fixture *f, gconstpointer data) {
        const VhPciDevice *pf = vh_host_find_device(f->h, "0000:3b:00.0");
        const VhPciDevice *vf0 = vh_host_find_device(f->h, "0000:3b:02.0");
        const VhPciDevice *vf1 = vh_host_find_device(f->h, "0000:3b:02.1");

        g_assert_cmpuint(pf->sriov_totalvfs, ==, 8);
        g_assert_cmpuint(pf->sriov_numvfs, ==, 2);
        g_assert_null(pf->physfn);
        g_assert_cmpstr(vf0->physfn, ==, "0000:3b:00.0");
        g_assert_cmpstr(vf1->physfn, ==, "0000:3b:00.0");
        g_assert_cmpint(vf0->iommu_group, !=, vf1->iommu_group);
        g_assert_cmpint(vf0->iommu_group, !=, pf->iommu_group);
        g_assert_false(vh_host_find_group(f->h, vf0->iommu_group)->viable);
        g_assert_true(vh_host_find_group(f->h, vf1->iommu_group)->viable);
        g_assert_cmpstr(vf1->vfio_group_path, ==, "/dev/vfio/24");
        g_assert_null(vf1->vfio_device_path);
        g_assert_cmpint(pf->numa_node, ==, 0);
        g_assert_cmpint(vh_host_find_device(f->h, "0000:af:00.0")->numa_node, ==, 1);
}

static void test_no_iommu(Fixture *f, gconstpointer data) {
        g_assert_false(f->h->iommu_enabled);
        g_assert_false(f->h->vfio_available);
        g_assert_cmpuint(f->h->n_groups, ==, 0);
        g_assert_cmpuint(f->h->n_devices, ==, 12);
        for (size_t i = 0; i < f->h->n_devices; i++) {
                g_assert_cmpint(f->h->devices[i]->iommu_group, ==, -1);
                g_assert_null(f->h->devices[i]->vfio_group_path);
        }
}

/* vfio_available: registered, loaded, or installed for the running kernel
 * (and only that one); each sign on its own, starting from no-iommu where
 * there is none. */
static void assert_vfio(Fixture *f, gboolean expected) {
        VhHost *h = NULL;

        g_assert_cmpint(vh_host_vfio_available(f->fs), ==, expected);
        g_assert_cmpint(vh_host_load(f->fs, f->names, &h), ==, 0);
        g_assert_cmpint(h->vfio_available, ==, expected);
        vh_host_free(h);
}

#define DEP "lib/modules/6.1.0-18-amd64/modules.dep"
#define BUILTIN "lib/modules/6.1.0-18-amd64/modules.builtin"

static void append(Fixture *f, const char *rel, const char *line) {
        g_autofree char *old = vh_unit_read_file(f->copy, rel);
        g_autofree char *s = g_strconcat(old, line, NULL);

        vh_unit_write_file(f->copy, rel, s);
}

static void test_vfio_registered(Fixture *f, gconstpointer data) {
        assert_vfio(f, FALSE);
        vh_unit_write_file(f->copy, "sys/bus/pci/drivers/vfio-pci/bind", "");
        assert_vfio(f, TRUE);
}

static void test_vfio_loaded(Fixture *f, gconstpointer data) {
        assert_vfio(f, FALSE);
        vh_unit_write_file(f->copy, "sys/module/vfio_pci/initstate", "live\n");
        assert_vfio(f, TRUE);
}

static void test_vfio_modules_dep(Fixture *f, gconstpointer data) {
        assert_vfio(f, FALSE);
        /* vfio-pci-core alone is not vfio-pci */
        append(f, DEP, "kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko\n");
        append(f, DEP, "kernel/drivers/vfio/vfio.ko:\n");
        assert_vfio(f, FALSE);
        append(f, DEP, "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko\n");
        assert_vfio(f, TRUE);
}

static void test_vfio_modules_dep_compressed(Fixture *f, gconstpointer data) {
        append(f, DEP, "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz\n");
        assert_vfio(f, TRUE);
}

static void test_vfio_builtin(Fixture *f, gconstpointer data) {
        append(f, BUILTIN, "kernel/drivers/vfio/pci/vfio-pci.ko\n");
        assert_vfio(f, TRUE);
}

/* Installed for another kernel only: a modprobe would not find it. */
static void test_vfio_other_kernel(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->copy, "lib/modules/6.12.0-1-amd64/modules.dep",
                           "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n");
        assert_vfio(f, FALSE);
        /* the running kernel is read beneath the root too */
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "6.12.0-1-amd64\n");
        assert_vfio(f, TRUE);
}

/* amd-desktop has vfio-pci installed (modules.dep) and nothing else. */
static void test_vfio_installed_only(Fixture *f, gconstpointer data) {
        g_assert_false(vh_hostfs_exists(f->fs, "sys/bus/pci/drivers/vfio-pci", NULL));
        g_assert_false(vh_hostfs_exists(f->fs, "sys/module/vfio_pci", NULL));
        g_assert_true(f->h->vfio_available);
        g_assert_true(f->h->iommu_enabled);
        /* the IOMMU itself is in no group */
        g_assert_cmpint(vh_host_find_device(f->h, "0000:00:00.2")->iommu_group, ==, -1);
        g_assert_true(vh_host_find_device(f->h, "0000:04:00.0")->boot_vga);
}

/* VMD: the functions behind the controller are in domain 10000 with no
 * group of their own; the controller is alone in group 3. */
static void test_vmd(Fixture *f, gconstpointer data) {
        const VhPciDevice *nvme = vh_host_find_device(f->h, "10000:e1:00.0");
        const VhPciDevice *port = vh_host_find_device(f->h, "10000:e0:06.0");
        const VhPciDevice *vmd = vh_host_find_device(f->h, "0000:00:0e.0");
        const VhIommuGroup *g = vh_host_find_group(f->h, 3);

        g_assert_nonnull(nvme);
        g_assert_nonnull(port);
        g_assert_nonnull(vmd);
        g_assert_cmpstr(nvme->driver, ==, "nvme");
        g_assert_cmpint(nvme->iommu_group, ==, -1);
        g_assert_cmpint(port->iommu_group, ==, -1);
        g_assert_cmpstr(vmd->driver, ==, "vmd");
        g_assert_cmpint(vmd->iommu_group, ==, 3);
        g_assert_nonnull(g);
        g_assert_cmpuint(g_strv_length(g->members), ==, 1);
        g_assert_cmpstr(g->members[0], ==, "0000:00:0e.0");
        /* the wide domain comes last, in bus order */
        g_assert_cmpstr(f->h->devices[f->h->n_devices - 1]->address, ==, "10000:e1:00.0");
        g_assert_cmpstr(f->h->devices[f->h->n_devices - 2]->address, ==, "10000:e0:06.0");
}

/* Domains of different widths: the listing sorts as text ("10000" before
 * "ffff"), the model in bus order, and every function is found. */
static void test_domain_order(Fixture *f, gconstpointer data) {
        static const char *const order[] = { "0000:06:00.0", "ffff:00:00.0", "10000:e0:06.0", "10000:e1:00.0",
                                             "fffff:00:00.0" };

        vh_unit_symlink(f->copy, "sys/bus/pci/devices/ffff:00:00.0", "../../../devices/pci0000:00/0000:00:14.2");
        vh_unit_symlink(f->copy, "sys/bus/pci/devices/fffff:00:00.0", "../../../devices/pci0000:00/0000:00:14.2");
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->h), ==, 0);
        g_assert_cmpuint(f->h->n_devices, ==, f->host->n_devices + 2);
        for (size_t i = 1; i < f->h->n_devices; i++)
                g_assert_cmpint(vh_address_compare(f->h->devices[i - 1]->address, f->h->devices[i]->address), <, 0);
        for (size_t i = 0, at = 0; i < G_N_ELEMENTS(order); i++) {
                g_assert_nonnull(vh_host_find_device(f->h, order[i]));
                while (at < f->h->n_devices && !g_str_equal(f->h->devices[at]->address, order[i]))
                        at++;
                g_assert_cmpuint(at, <, f->h->n_devices);
        }
        for (size_t i = 0; i < f->host->n_devices; i++)
                g_assert_nonnull(vh_host_find_device(f->h, f->host->devices[i].address));
}

/* Hotplug's refresh: only the named functions and their groups are read
 * again; everything else is the old snapshot's, shared. */
static void test_refresh(Fixture *f, gconstpointer data) {
        g_autoptr(VhHostPtr) next = NULL, after_remove = NULL;
        char *audio[] = { (char *) "0000:01:00.1", NULL };
        char *gone[] = { (char *) "0000:01:00.1", (char *) "0000:06:00.0", NULL };
        const VhPciDevice *d;
        const VhIommuGroup *g;

        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->h), ==, 0);
        /* The audio function leaves snd_hda_intel, by hand. */
        vh_unit_unlink(f->copy, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver");
        g_assert_cmpint(vh_host_refresh(f->h, f->fs, f->names, audio, false, &next), ==, 0);

        d = vh_host_find_device(next, "0000:01:00.1");
        g_assert_nonnull(d);
        g_assert_null(d->driver);
        g_assert_true(d != vh_host_find_device(f->h, "0000:01:00.1"));
        g_assert_cmpstr(vh_host_find_device(f->h, "0000:01:00.1")->driver, ==, "snd_hda_intel");
        /* Read again: its group; shared: every other function and group. */
        g_assert_true(vh_host_find_group(next, 2) != vh_host_find_group(f->h, 2));
        g_assert_cmpuint(next->n_devices, ==, f->h->n_devices);
        for (size_t i = 0; i < f->h->n_devices; i++)
                if (strcmp(f->h->devices[i]->address, "0000:01:00.1") != 0)
                        g_assert_true(vh_host_find_device(next, f->h->devices[i]->address) == f->h->devices[i]);
        for (size_t i = 0; i < f->h->n_groups; i++)
                if (f->h->groups[i]->id != 2)
                        g_assert_true(vh_host_find_group(next, f->h->groups[i]->id) == f->h->groups[i]);
        /* Group 2 was evaluated again: the GPU alone blocks now. */
        g = vh_host_find_group(next, 2);
        g_assert_false(g->viable);
        g_assert_cmpuint(vh_strv_length(g->blockers), ==, 1);
        g_assert_cmpstr(g->blockers[0], ==, "0000:01:00.0");
        g_assert_cmpuint(vh_strv_length(vh_host_find_group(f->h, 2)->blockers), ==, 2);
        g_assert_cmpint(next->iommu_enabled, ==, f->h->iommu_enabled);

        /* Two functions go away: they leave the model, the rest stays in bus order. */
        vh_unit_unlink(f->copy, "sys/bus/pci/devices/0000:01:00.1");
        vh_unit_unlink(f->copy, "sys/bus/pci/devices/0000:06:00.0");
        g_assert_cmpint(vh_host_refresh(next, f->fs, f->names, gone, true, &after_remove), ==, 0);
        g_assert_null(vh_host_find_device(after_remove, "0000:01:00.1"));
        g_assert_null(vh_host_find_device(after_remove, "0000:06:00.0"));
        g_assert_cmpuint(after_remove->n_devices, ==, next->n_devices - 2);
        for (size_t i = 1; i < after_remove->n_devices; i++)
                g_assert_cmpint(vh_address_compare(after_remove->devices[i - 1]->address, after_remove->devices[i]->address), <, 0);
        /* The old snapshots are untouched. */
        g_assert_nonnull(vh_host_find_device(next, "0000:01:00.1"));
        g_assert_nonnull(vh_host_find_device(f->h, "0000:06:00.0"));
}

static void test_free_null(void) {
        g_assert_null(vh_host_free(NULL));
}

static void add_per_host(const char *prefix, void (*fn)(Fixture *, gconstpointer)) {
        for (size_t i = 0; i < G_N_ELEMENTS(vh_unit_hosts); i++) {
                g_autofree char *path = g_strconcat(prefix, vh_unit_hosts[i], NULL);
                g_test_add(path, Fixture, vh_unit_hosts[i], fixture_setup, fn, fixture_teardown);
        }
}

#define ADD(path, host, setup, fn) g_test_add(path, Fixture, host, setup, fn, fixture_teardown)

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        add_per_host("/host/load/", test_load);
        ADD("/host/gpu-group/desktop-intel", "desktop-intel", fixture_setup, test_gpu_group);
        ADD("/host/gpu-group/desktop-vfio-bound", "desktop-vfio-bound", fixture_setup, test_gpu_group);
        ADD("/host/chipset-groups/desktop-intel", "desktop-intel", fixture_setup, test_chipset_groups);
        ADD("/host/chipset-groups/desktop-vfio-bound", "desktop-vfio-bound", fixture_setup, test_chipset_groups);
        ADD("/host/sriov", "server-sriov", fixture_setup, test_sriov);
        ADD("/host/vmd", "desktop-vmd", fixture_setup, test_vmd);
        ADD("/host/domain-order", "desktop-vmd", fixture_setup_copy, test_domain_order);
        ADD("/host/no-iommu", "no-iommu", fixture_setup, test_no_iommu);
        ADD("/host/vfio-available/installed-only", "amd-desktop", fixture_setup, test_vfio_installed_only);
        ADD("/host/vfio-available/registered", "no-iommu", fixture_setup_copy, test_vfio_registered);
        ADD("/host/vfio-available/loaded", "no-iommu", fixture_setup_copy, test_vfio_loaded);
        ADD("/host/vfio-available/modules-dep", "no-iommu", fixture_setup_copy, test_vfio_modules_dep);
        ADD("/host/vfio-available/modules-dep-compressed", "no-iommu", fixture_setup_copy, test_vfio_modules_dep_compressed);
        ADD("/host/vfio-available/builtin", "no-iommu", fixture_setup_copy, test_vfio_builtin);
        ADD("/host/vfio-available/other-kernel", "no-iommu", fixture_setup_copy, test_vfio_other_kernel);
        ADD("/host/refresh", "desktop-intel", fixture_setup_copy, test_refresh);
        g_test_add_func("/host/free-null", test_free_null);

        return g_test_run();
}
