/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-pci and vh-pci-names: every function of every fixture host loads with
 * the ids, driver, group, NUMA node, boot VGA flag, reset methods, SR-IOV
 * fields and VFIO paths the tree holds, and with the names lspci prints. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-hostfs.h"
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
} Fixture;

static void setup_fs(Fixture *f, const char *root) {
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        g_assert_nonnull(f->names);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        f->host = expected_host(data);
        setup_fs(f, dir);
}

static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        f->host = expected_host(data);
        f->copy = vh_unit_copy_host(data);
        setup_fs(f, f->copy);
        g_assert_cmpstr(vh_hostfs_root(f->fs), ==, f->copy);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static void assert_strv_words(char **strv, const char *words) {
        g_auto(GStrv) expected = g_strsplit(words, " ", -1);

        g_assert_nonnull(strv);
        if (!*words) {
                g_assert_null(strv[0]);
                return;
        }
        g_assert_cmpstrv(strv, expected);
}

static void assert_device(const VhPciDevice *d, const ExpectedDevice *e) {
        g_test_message("checking %s", e->address);

        g_assert_cmpstr(d->address, ==, e->address);
        g_assert_cmphex(d->vendor_id, ==, e->vendor);
        g_assert_cmphex(d->device_id, ==, e->device);
        g_assert_cmphex(d->subsystem_vendor_id, ==, e->subvendor);
        g_assert_cmphex(d->subsystem_device_id, ==, e->subdevice);
        g_assert_cmphex(d->revision, ==, e->revision);
        g_assert_cmphex(d->class_code, ==, e->class_code);

        g_assert_nonnull(d->vendor_name);
        g_assert_nonnull(d->device_name);
        g_assert_nonnull(d->subsystem_vendor_name);
        g_assert_nonnull(d->subsystem_name);
        g_assert_nonnull(d->class_name);
        g_assert_cmpstr(d->vendor_name, !=, "");
        g_assert_cmpstr(d->device_name, !=, "");
        g_assert_cmpstr(d->class_name, !=, "");
        if (e->subvendor == 0) {
                g_assert_cmpstr(d->subsystem_vendor_name, ==, "");
                g_assert_cmpstr(d->subsystem_name, ==, "");
        } else {
                g_assert_cmpstr(d->subsystem_vendor_name, !=, "");
                g_assert_cmpstr(d->subsystem_name, !=, "");
        }

        g_assert_cmpstr(d->driver, ==, e->driver);
        g_assert_cmpstr(d->driver_override, ==, e->override);
        g_assert_cmpint(d->iommu_group, ==, e->group);
        g_assert_cmpint(d->numa_node, ==, e->numa);
        g_assert_cmpint(d->boot_vga, ==, e->boot_vga);
        assert_strv_words(d->reset_methods, e->reset);
        g_assert_true(d->d3cold_allowed);
        g_assert_cmpstr(d->physfn, ==, e->physfn);
        g_assert_cmpuint(d->sriov_numvfs, ==, e->numvfs);
        g_assert_cmpuint(d->sriov_totalvfs, ==, e->totalvfs);
        g_assert_cmpstr(d->vfio_group_path, ==, e->vfio_group);
        g_assert_cmpstr(d->vfio_device_path, ==, e->vfio_device);

        g_assert_cmpint(vh_pci_device_is_pci_bridge(d), ==, (e->class_code >> 8) == 0x0604);
        g_assert_cmpint(vh_pci_device_is_bound_to_vfio(d), ==, g_strcmp0(e->driver, "vfio-pci") == 0);
}

/* vh_pci_scan: every function, sorted, each as expected. */
static void test_scan(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) addresses = expected_addresses(f->host);
        VhPciDevice **devices = NULL;
        size_t n = 0;

        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &devices, &n), ==, 0);
        g_assert_cmpuint(n, ==, f->host->n_devices);
        for (size_t i = 0; i < n; i++) {
                g_assert_cmpstr(devices[i]->address, ==, addresses->pdata[i]);
                assert_device(devices[i], expected_device(f->host, devices[i]->address));
        }
        vh_pci_device_array_free(devices, n);
}

/* vh_pci_device_load, one by one. */
static void test_load(Fixture *f, gconstpointer data) {
        for (size_t i = 0; i < f->host->n_devices; i++) {
                VhPciDevice *d = NULL;

                g_assert_cmpint(vh_pci_device_load(f->fs, f->names, f->host->devices[i].address, &d), ==, 0);
                assert_device(d, &f->host->devices[i]);
                g_assert_null(vh_pci_device_free(d));
        }
        vh_pci_device_free(NULL);
}

static void test_load_errors(Fixture *f, gconstpointer data) {
        VhPciDevice *d = NULL;

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:09:00.0", &d), ==, -ENOENT);
        g_assert_null(d);
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.7", &d), ==, -ENOENT);
        g_assert_null(d);
        /* never a path from an invalid address */
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "../../etc", &d), <, 0);
        g_assert_null(d);
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.0/../x", &d), <, 0);
        g_assert_null(d);
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "01:00.0", &d), <, 0);
        g_assert_null(d);
}

/* Names are exactly what `lspci -vmm` prints for the same tree, libpci's
 * "Device 1234" fallbacks included; NUMA node and IOMMU group agree too. */
static void test_names_lspci(Fixture *f, gconstpointer data) {
        g_autoptr(GHashTable) lspci = vh_unit_lspci(vh_hostfs_root(f->fs));
        VhPciDevice **devices = NULL;
        size_t n = 0;

        if (!lspci) {
                g_test_skip("lspci is not installed");
                return;
        }

        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &devices, &n), ==, 0);
        g_assert_cmpuint(g_hash_table_size(lspci), ==, n);

        for (size_t i = 0; i < n; i++) {
                const VhPciDevice *d = devices[i];
                GHashTable *l = g_hash_table_lookup(lspci, d->address);
                const char *numa, *group, *rev;

                g_test_message("names of %s", d->address);
                g_assert_nonnull(l);
                g_assert_cmpstr(d->class_name, ==, g_hash_table_lookup(l, "Class"));
                g_assert_cmpstr(d->vendor_name, ==, g_hash_table_lookup(l, "Vendor"));
                g_assert_cmpstr(d->device_name, ==, g_hash_table_lookup(l, "Device"));
                g_assert_cmpstr(d->subsystem_vendor_name, ==, g_hash_table_lookup(l, "SVendor") ?: "");
                g_assert_cmpstr(d->subsystem_name, ==, g_hash_table_lookup(l, "SDevice") ?: "");

                /* libpci's fallback for an id pci.ids does not know (1002:ab30
                 * with Debian 12's pci.ids) */
                if (g_str_has_prefix(d->device_name, "Device ")) {
                        g_autofree char *fallback = g_strdup_printf("Device %04x", d->device_id);
                        g_assert_cmpstr(d->device_name, ==, fallback);
                }

                rev = g_hash_table_lookup(l, "Rev");
                g_assert_cmphex(d->revision, ==, rev ? strtoul(rev, NULL, 16) : 0);
                numa = g_hash_table_lookup(l, "NUMANode");
                g_assert_cmpint(d->numa_node, ==, numa ? atoi(numa) : -1);
                group = g_hash_table_lookup(l, "IOMMUGroup");
                g_assert_cmpint(d->iommu_group, ==, group ? atoi(group) : -1);
        }

        vh_pci_device_array_free(devices, n);
}

/* Names that do not depend on the pci.ids version. */
static void test_names_known(Fixture *f, gconstpointer data) {
        VhPciDevice *gpu = NULL, *nvme = NULL, *upstream = NULL, *downstream = NULL;
        g_autofree char *v = NULL, *dn = NULL, *c = NULL, *sv = NULL, *s = NULL, *none = NULL, *none2 = NULL;

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.0", &gpu), ==, 0);
        g_assert_cmpstr(gpu->vendor_name, ==, "NVIDIA Corporation");
        g_assert_cmpstr(gpu->device_name, ==, "AD102 [GeForce RTX 4090]");
        g_assert_cmpstr(gpu->class_name, ==, "VGA compatible controller");
        g_assert_cmpstr(gpu->subsystem_vendor_name, ==, "ASUSTeK Computer Inc.");

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:02:00.0", &nvme), ==, 0);
        g_assert_cmpstr(nvme->vendor_name, ==, "Samsung Electronics Co Ltd");
        g_assert_cmpstr(nvme->class_name, ==, "Non-Volatile memory controller");

        /* no subsystem ids: empty, as lspci -mm prints empty fields */
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:03:00.0", &upstream), ==, 0);
        g_assert_cmpstr(upstream->subsystem_vendor_name, ==, "");
        g_assert_cmpstr(upstream->subsystem_name, ==, "");
        g_assert_cmpstr(upstream->class_name, ==, "PCI bridge");

        /* subsystem ids equal to the function's own: the device's name */
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:04:00.0", &downstream), ==, 0);
        g_assert_cmpstr(downstream->subsystem_name, ==, downstream->device_name);

        /* the names module on its own */
        v = vh_pci_names_vendor(f->names, 0x10de);
        g_assert_cmpstr(v, ==, "NVIDIA Corporation");
        dn = vh_pci_names_device(f->names, 0x8086, 0x1572);
        g_assert_cmpstr(dn, ==, "Ethernet Controller X710 for 10GbE SFP+");
        c = vh_pci_names_class(f->names, 0x060100);
        g_assert_cmpstr(c, ==, "ISA bridge");
        sv = vh_pci_names_subsystem_vendor(f->names, 0x15d9);
        g_assert_cmpstr(sv, ==, "Super Micro Computer Inc");
        s = vh_pci_names_subsystem(f->names, 0x8086, 0x1572, 0x8086, 0x0007);
        g_assert_cmpstr(s, ==, "Ethernet Converged Network Adapter X710-2");
        none = vh_pci_names_subsystem_vendor(f->names, 0xffff);
        g_assert_cmpstr(none, ==, "");
        none2 = vh_pci_names_subsystem(f->names, 0x10de, 0x2684, 0, 0);
        g_assert_cmpstr(none2, ==, "");

        vh_pci_device_free(gpu);
        vh_pci_device_free(nvme);
        vh_pci_device_free(upstream);
        vh_pci_device_free(downstream);
}

/* The kernel omits attributes it has nothing to say about. */
static void test_optional_missing(Fixture *f, gconstpointer data) {
        const char *dir = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
        const char *gone[] = { "numa_node", "reset_method", "reset", "boot_vga", "driver_override" };
        VhPciDevice *d = NULL, *audio = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(gone); i++) {
                g_autofree char *rel = g_build_filename(dir, gone[i], NULL);
                vh_unit_unlink(f->copy, rel);
        }
        vh_unit_write_file(f->copy, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/d3cold_allowed", "0\n");

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.0", &d), ==, 0);
        g_assert_cmphex(d->vendor_id, ==, 0x10de);
        g_assert_cmpint(d->numa_node, ==, -1);
        g_assert_nonnull(d->reset_methods);
        g_assert_null(d->reset_methods[0]);
        g_assert_false(d->boot_vga);
        g_assert_null(d->driver_override);
        g_assert_cmpstr(d->driver, ==, "nvidia");

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.1", &audio), ==, 0);
        g_assert_false(audio->d3cold_allowed);

        vh_pci_device_free(d);
        vh_pci_device_free(audio);
}

/* driver_override set while another driver is still bound. */
static void test_override_set(Fixture *f, gconstpointer data) {
        VhPciDevice *d = NULL;

        vh_unit_write_file(f->copy, "sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci\n");
        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.0", &d), ==, 0);
        g_assert_cmpstr(d->driver_override, ==, "vfio-pci");
        g_assert_cmpstr(d->driver, ==, "nvidia");
        g_assert_false(vh_pci_device_is_bound_to_vfio(d));
        g_assert_null(d->vfio_group_path);
        vh_pci_device_free(d);
}

/* VFIO paths only while vfio-pci holds the function and the node exists. */
static void test_vfio_nodes_absent(Fixture *f, gconstpointer data) {
        VhPciDevice *gpu = NULL, *audio = NULL;

        vh_unit_unlink(f->copy, "dev/vfio/2");
        vh_unit_unlink(f->copy, "dev/vfio/devices/vfio0");

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.0", &gpu), ==, 0);
        g_assert_cmpstr(gpu->driver, ==, "vfio-pci");
        g_assert_null(gpu->vfio_group_path);
        g_assert_null(gpu->vfio_device_path);

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.1", &audio), ==, 0);
        g_assert_null(audio->vfio_group_path);
        g_assert_cmpstr(audio->vfio_device_path, ==, "/dev/vfio/devices/vfio1");

        vh_pci_device_free(gpu);
        vh_pci_device_free(audio);
}

static void test_vfio_nodes_not_bound(Fixture *f, gconstpointer data) {
        VhPciDevice *gpu = NULL;

        /* nodes exist (left over, or another function's), but nvidia holds it */
        vh_unit_write_file(f->copy, "dev/vfio/2", "");
        vh_unit_write_file(f->copy, "dev/vfio/devices/vfio0", "");
        vh_unit_write_file(f->copy, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vfio-dev/vfio0/dev", "511:0\n");

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, "0000:01:00.0", &gpu), ==, 0);
        g_assert_cmpstr(gpu->driver, ==, "nvidia");
        g_assert_null(gpu->vfio_group_path);
        g_assert_null(gpu->vfio_device_path);
        vh_pci_device_free(gpu);
}

/* Entries that are not readable PCI functions are skipped, the rest load. */
static void test_scan_skips_broken(Fixture *f, gconstpointer data) {
        g_autofree char *bogus = g_build_filename(f->copy, "sys/bus/pci/devices/0000:09:00.0", NULL);
        VhPciDevice **devices = NULL;
        size_t n = 0;

        g_assert_cmpint(g_mkdir_with_parents(bogus, 0755), ==, 0);
        vh_unit_write_file(f->copy, "sys/bus/pci/devices/0000:09:00.0/uevent", "");
        vh_unit_write_file(f->copy, "sys/bus/pci/devices/not-an-address", "");

        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &devices, &n), ==, 0);
        g_assert_cmpuint(n, ==, f->host->n_devices);
        for (size_t i = 0; i < n; i++)
                g_assert_nonnull(expected_device(f->host, devices[i]->address));
        vh_pci_device_array_free(devices, n);
}

/* The daemon frees the name database between model reads: every name read
 * after a release (or two) is the one read before it. */
static void test_names_release(Fixture *f, gconstpointer data) {
        VhPciDevice **before = NULL, **after = NULL;
        size_t n_before = 0, n_after = 0;
        g_autofree char *v = NULL, *s = NULL;

        vh_pci_names_release(f->names);         /* before any lookup: a no-op */
        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &before, &n_before), ==, 0);
        vh_pci_names_release(f->names);
        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &after, &n_after), ==, 0);
        g_assert_cmpuint(n_after, ==, n_before);
        for (size_t i = 0; i < n_before; i++) {
                g_assert_cmpstr(after[i]->address, ==, before[i]->address);
                g_assert_cmpstr(after[i]->vendor_name, ==, before[i]->vendor_name);
                g_assert_cmpstr(after[i]->device_name, ==, before[i]->device_name);
                g_assert_cmpstr(after[i]->class_name, ==, before[i]->class_name);
                g_assert_cmpstr(after[i]->subsystem_vendor_name, ==, before[i]->subsystem_vendor_name);
                g_assert_cmpstr(after[i]->subsystem_name, ==, before[i]->subsystem_name);
        }

        vh_pci_names_release(f->names);
        vh_pci_names_release(f->names);
        v = vh_pci_names_vendor(f->names, 0x10de);
        g_assert_cmpstr(v, ==, "NVIDIA Corporation");
        vh_pci_names_release(f->names);
        s = vh_pci_names_subsystem(f->names, 0x8086, 0x1572, 0x8086, 0x0007);
        g_assert_cmpstr(s, ==, "Ethernet Converged Network Adapter X710-2");

        vh_pci_device_array_free(before, n_before);
        vh_pci_device_array_free(after, n_after);
}

/* A tree without a PCI bus is an empty host, not an error. */
static void test_scan_no_bus(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = g_dir_make_tmp("vh-unit-XXXXXX", &error);
        VhHostFs *fs = NULL;
        VhPciNames *names = NULL;
        VhPciDevice **devices = NULL;
        size_t n = 1;

        g_assert_no_error(error);
        g_assert_cmpint(vh_hostfs_new(tmp, &fs), ==, 0);
        g_assert_cmpint(vh_pci_names_new(fs, &names), ==, 0);
        g_assert_cmpint(vh_pci_scan(fs, names, &devices, &n), ==, 0);
        g_assert_cmpuint(n, ==, 0);
        vh_pci_device_array_free(devices, n);
        vh_pci_names_free(names);
        vh_hostfs_free(fs);
        g_rmdir(tmp);
}

/* The predicates on their own, beyond what the fixtures hold. */
static void test_predicates(void) {
        VhPciDevice d = { .class_code = 0x060400 };

        g_assert_true(vh_pci_device_is_pci_bridge(&d));
        d.class_code = 0x060401;        /* subtractive decode */
        g_assert_true(vh_pci_device_is_pci_bridge(&d));
        d.class_code = 0x060900;        /* semi-transparent */
        g_assert_true(vh_pci_device_is_pci_bridge(&d));
        d.class_code = 0x060000;        /* host bridge */
        g_assert_false(vh_pci_device_is_pci_bridge(&d));
        d.class_code = 0x060100;        /* ISA bridge */
        g_assert_false(vh_pci_device_is_pci_bridge(&d));
        d.class_code = 0x068000;        /* other bridge */
        g_assert_false(vh_pci_device_is_pci_bridge(&d));
        d.class_code = 0x030000;
        g_assert_false(vh_pci_device_is_pci_bridge(&d));

        d.driver = NULL;
        g_assert_false(vh_pci_device_is_bound_to_vfio(&d));
        d.driver = (char *) "vfio-pci";
        g_assert_true(vh_pci_device_is_bound_to_vfio(&d));
        d.driver = (char *) "nvidia";
        g_assert_false(vh_pci_device_is_bound_to_vfio(&d));
        d.driver = (char *) "vfio";
        g_assert_false(vh_pci_device_is_bound_to_vfio(&d));
        d.driver_override = (char *) "vfio-pci";
        d.driver = NULL;
        g_assert_false(vh_pci_device_is_bound_to_vfio(&d));
}

static void add_per_host(const char *prefix, void (*fn)(Fixture *, gconstpointer)) {
        for (size_t i = 0; i < G_N_ELEMENTS(vh_unit_hosts); i++) {
                g_autofree char *path = g_strconcat(prefix, vh_unit_hosts[i], NULL);
                g_test_add(path, Fixture, vh_unit_hosts[i], fixture_setup, fn, fixture_teardown);
        }
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhPciDevice, vh_pci_device_free)

static VhPciDevice *load(Fixture *f, const char *address) {
        VhPciDevice *d = NULL;

        g_assert_cmpint(vh_pci_device_load(f->fs, f->names, address, &d), ==, 0);
        return d;
}

/* server-sriov: PF 3b:00.0 has VFs 3b:02.0 (virtfn0) and 3b:02.1
 * (virtfn1); PF 3b:00.1 can have 8 and has none. */
static void test_sriov_model(Fixture *f, gconstpointer data) {
        g_autoptr(VhPciDevice) pf = load(f, "0000:3b:00.0"), idle = load(f, "0000:3b:00.1");
        g_autoptr(VhPciDevice) vf0 = load(f, "0000:3b:02.0"), vf1 = load(f, "0000:3b:02.1");
        g_autoptr(VhPciDevice) nvme = load(f, "0000:af:00.0");

        g_assert_cmpuint(pf->n_virtfns, ==, 2);
        g_assert_cmpuint(pf->virtfns[0].index, ==, 0);
        g_assert_cmpstr(pf->virtfns[0].address, ==, "0000:3b:02.0");
        g_assert_cmpuint(pf->virtfns[1].index, ==, 1);
        g_assert_cmpstr(pf->virtfns[1].address, ==, "0000:3b:02.1");
        g_assert_true(pf->sriov_drivers_autoprobe);
        g_assert_cmpint(pf->vf_index, ==, -1);

        g_assert_cmpuint(idle->n_virtfns, ==, 0);
        g_assert_null(idle->virtfns);
        g_assert_true(idle->sriov_drivers_autoprobe);

        g_assert_cmpint(vf0->vf_index, ==, 0);
        g_assert_cmpint(vf1->vf_index, ==, 1);
        g_assert_cmpuint(vf0->n_virtfns, ==, 0);
        g_assert_false(vf0->sriov_drivers_autoprobe);

        g_assert_cmpint(nvme->vf_index, ==, -1);
        g_assert_cmpuint(nvme->n_virtfns, ==, 0);
        g_assert_false(nvme->sriov_drivers_autoprobe);
}

/* VirtualFunctions go by N, not by directory or text order (virtfn10
 * after virtfn9); autoprobe off reads as off. */
static void test_sriov_order(Fixture *f, gconstpointer data) {
        const char *pf_dir = "sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0";
        g_autofree char *v0 = g_build_filename(pf_dir, "virtfn0", NULL), *v1 = g_build_filename(pf_dir, "virtfn1", NULL);
        g_autofree char *v9 = g_build_filename(pf_dir, "virtfn9", NULL), *v10 = g_build_filename(pf_dir, "virtfn10", NULL);
        g_autofree char *ap = g_build_filename(pf_dir, "sriov_drivers_autoprobe", NULL);
        g_autoptr(VhPciDevice) pf = NULL, vf0 = NULL, vf1 = NULL;

        vh_unit_unlink(f->copy, v0);
        vh_unit_unlink(f->copy, v1);
        vh_unit_symlink(f->copy, v10, "../0000:3b:02.0");
        vh_unit_symlink(f->copy, v9, "../0000:3b:02.1");
        vh_unit_write_file(f->copy, ap, "0\n");

        pf = load(f, "0000:3b:00.0");
        vf0 = load(f, "0000:3b:02.0");
        vf1 = load(f, "0000:3b:02.1");
        g_assert_cmpuint(pf->n_virtfns, ==, 2);
        g_assert_cmpstr(pf->virtfns[0].address, ==, "0000:3b:02.1");
        g_assert_cmpuint(pf->virtfns[0].index, ==, 9);
        g_assert_cmpstr(pf->virtfns[1].address, ==, "0000:3b:02.0");
        g_assert_cmpuint(pf->virtfns[1].index, ==, 10);
        g_assert_false(pf->sriov_drivers_autoprobe);
        g_assert_cmpint(vf0->vf_index, ==, 10);
        g_assert_cmpint(vf1->vf_index, ==, 9);

        /* A whole scan takes a VF's index from its PF's virtfns (not from
         * the PF's directory again, per VF): the same answer. */
        {
                VhPciDevice **all = NULL;
                size_t n = 0, seen = 0;

                g_assert_cmpint(vh_pci_scan(f->fs, f->names, &all, &n), ==, 0);
                static const struct {
                        const char *address;
                        int index;
                } want[] = { { "0000:3b:02.0", 10 }, { "0000:3b:02.1", 9 }, { "0000:3b:00.0", -1 } };

                for (size_t i = 0; i < n; i++)
                        for (size_t w = 0; w < G_N_ELEMENTS(want); w++)
                                if (strcmp(all[i]->address, want[w].address) == 0) {
                                        g_assert_cmpint(all[i]->vf_index, ==, want[w].index);
                                        seen++;
                                }
                g_assert_cmpuint(seen, ==, 3);
                vh_pci_device_array_free(all, n);
        }
}

/* Every fixture: the scan's VF indexes are those of loading each VF alone. */
static void test_scan_vf_index(Fixture *f, gconstpointer data) {
        VhPciDevice **all = NULL;
        size_t n = 0;

        g_assert_cmpint(vh_pci_scan(f->fs, f->names, &all, &n), ==, 0);
        for (size_t i = 0; i < n; i++) {
                g_autoptr(VhPciDevice) alone = load(f, all[i]->address);

                g_assert_cmpint(all[i]->vf_index, ==, alone->vf_index);
        }
        vh_pci_device_array_free(all, n);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        add_per_host("/pci/scan/", test_scan);
        add_per_host("/pci/load/", test_load);
        add_per_host("/pci/scan-vf-index/", test_scan_vf_index);
        add_per_host("/pci/names/lspci/", test_names_lspci);
        add_per_host("/pci/names/release/", test_names_release);
        g_test_add("/pci/names/known", Fixture, "desktop-intel", fixture_setup, test_names_known, fixture_teardown);
        g_test_add("/pci/load/errors", Fixture, "desktop-intel", fixture_setup, test_load_errors, fixture_teardown);
        g_test_add("/pci/load/optional-missing", Fixture, "desktop-intel", fixture_setup_copy, test_optional_missing, fixture_teardown);
        g_test_add("/pci/load/override-set", Fixture, "desktop-intel", fixture_setup_copy, test_override_set, fixture_teardown);
        g_test_add("/pci/vfio/nodes-absent", Fixture, "desktop-vfio-bound", fixture_setup_copy, test_vfio_nodes_absent, fixture_teardown);
        g_test_add("/pci/vfio/not-bound", Fixture, "desktop-intel", fixture_setup_copy, test_vfio_nodes_not_bound, fixture_teardown);
        g_test_add("/pci/scan/skips-broken", Fixture, "server-sriov", fixture_setup_copy, test_scan_skips_broken, fixture_teardown);
        g_test_add_func("/pci/scan/no-bus", test_scan_no_bus);
        g_test_add("/pci/sriov/model", Fixture, "server-sriov", fixture_setup, test_sriov_model, fixture_teardown);
        g_test_add("/pci/sriov/order", Fixture, "server-sriov", fixture_setup_copy, test_sriov_order, fixture_teardown);
        g_test_add_func("/pci/predicates", test_predicates);

        return g_test_run();
}
