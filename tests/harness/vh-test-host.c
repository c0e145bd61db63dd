/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "vh-test-bus.h"
#include "vh-test-host.h"

static char *read_attr(const char *dir, const char *name) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        char *s = NULL;

        if (!g_file_get_contents(path, &s, NULL, NULL))
                return NULL;
        return g_strchomp(s);
}

static guint read_hex(const char *dir, const char *name) {
        g_autofree char *s = read_attr(dir, name);
        return s ? (guint) strtoul(s, NULL, 16) : 0;
}

static guint read_uint(const char *dir, const char *name) {
        g_autofree char *s = read_attr(dir, name);
        return s ? (guint) strtoul(s, NULL, 10) : 0;
}

static char *link_basename(const char *dir, const char *name) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static GPtrArray *list_dir(const char *path) {
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *n;

        if (!dir)
                return names;
        while ((n = g_dir_read_name(dir)))
                g_ptr_array_add(names, g_strdup(n));
        return names;
}

gboolean vh_test_driver_is_vfio(const char *root, const char *driver) {
        g_autofree char *link = NULL, *module = NULL, *holder = NULL;

        if (!driver || !*driver)
                return FALSE;
        if (strcmp(driver, "vfio-pci") == 0)
                return TRUE;
        link = g_build_filename(root, "sys/bus/pci/drivers", driver, NULL);
        module = link_basename(link, "module");
        if (!module)
                return FALSE;
        holder = g_build_filename(root, "sys/module/vfio_pci_core/holders", module, NULL);
        return g_file_test(holder, G_FILE_TEST_EXISTS);
}

static int cmp_str(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Bus order: a wider domain (VMD's 10000 and up) is a larger one; past
 * the domain the fields are fixed-width hex. */
static int cmp_address(const char *a, const char *b) {
        size_t da = strcspn(a, ":"), db = strcspn(b, ":");

        if (da != db)
                return da < db ? -1 : 1;
        return strcmp(a, b);
}

static int cmp_address_p(gconstpointer a, gconstpointer b) {
        return cmp_address(*(char *const *) a, *(char *const *) b);
}

static int cmp_function(gconstpointer a, gconstpointer b) {
        const VhTestFunction *fa = *(VhTestFunction *const *) a, *fb = *(VhTestFunction *const *) b;
        return cmp_address(fa->address, fb->address);
}

static int cmp_group(gconstpointer a, gconstpointer b) {
        const VhTestGroup *ga = *(VhTestGroup *const *) a, *gb = *(VhTestGroup *const *) b;
        return ga->id < gb->id ? -1 : ga->id > gb->id;
}

static void function_free(gpointer p) {
        VhTestFunction *f = p;
        g_free(f->address);
        g_free(f->driver);
        g_free(f->driver_override);
        g_free(f->physfn);
        g_strfreev(f->reset_methods);
        g_free(f->vfio_group_path);
        g_free(f->vfio_device_path);
        g_free(f);
}

static void group_free(gpointer p) {
        VhTestGroup *g = p;
        g_ptr_array_unref(g->addresses);
        g_free(g->type);
        g_free(g);
}

static gboolean dir_has_entries(const char *path) {
        g_autoptr(GPtrArray) n = list_dir(path);
        return n->len > 0;
}

VhTestHost *vh_test_host_load(const char *root) {
        VhTestHost *host = g_new0(VhTestHost, 1);
        g_autofree char *devices = g_build_filename(root, "sys/bus/pci/devices", NULL);
        g_autofree char *groups = g_build_filename(root, "sys/kernel/iommu_groups", NULL);
        g_autofree char *class_iommu = g_build_filename(root, "sys/class/iommu", NULL);
        g_autoptr(GPtrArray) names = list_dir(devices);
        g_autoptr(GPtrArray) group_names = list_dir(groups);

        host->root = g_strdup(root);
        host->functions = g_ptr_array_new_with_free_func(function_free);
        host->groups = g_ptr_array_new_with_free_func(group_free);

        for (guint i = 0; i < names->len; i++) {
                g_autofree char *dir = g_build_filename(devices, names->pdata[i], NULL);
                g_autofree char *group = NULL, *override = NULL, *numa = NULL, *boot_vga = NULL;
                VhTestFunction *f = g_new0(VhTestFunction, 1);

                f->address = g_strdup(names->pdata[i]);
                f->vendor = read_hex(dir, "vendor");
                f->device = read_hex(dir, "device");
                f->subsystem_vendor = read_hex(dir, "subsystem_vendor");
                f->subsystem_device = read_hex(dir, "subsystem_device");
                f->revision = read_hex(dir, "revision");
                f->class_code = read_hex(dir, "class");
                f->driver = link_basename(dir, "driver");
                if (!f->driver)
                        f->driver = g_strdup("");
                override = read_attr(dir, "driver_override");
                f->driver_override = g_strdup(override && strcmp(override, "(null)") != 0 ? override : "");
                group = link_basename(dir, "iommu_group");
                f->iommu_group = group ? atoi(group) : -1;
                numa = read_attr(dir, "numa_node");
                f->numa_node = numa ? atoi(numa) : -1;
                boot_vga = read_attr(dir, "boot_vga");
                f->boot_vga = boot_vga && strcmp(boot_vga, "1") == 0;
                f->physfn = link_basename(dir, "physfn");
                if (!f->physfn)
                        f->physfn = g_strdup("");
                f->sriov_numvfs = read_uint(dir, "sriov_numvfs");
                f->sriov_totalvfs = read_uint(dir, "sriov_totalvfs");
                {
                        g_autofree char *rm = read_attr(dir, "reset_method");
                        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
                        g_auto(GStrv) words = g_strsplit(rm ? rm : "", " ", -1);
                        for (size_t k = 0; words[k]; k++)
                                if (*words[k])
                                        g_strv_builder_add(b, words[k]);
                        f->reset_methods = g_strv_builder_end(b);
                }
                {
                        g_autofree char *d3 = read_attr(dir, "d3cold_allowed");
                        f->d3cold_allowed = d3 && strcmp(d3, "1") == 0;
                }
                f->vfio_group_path = g_strdup("");
                f->vfio_device_path = g_strdup("");
                if (vh_test_driver_is_vfio(root, f->driver) && f->iommu_group >= 0) {
                        g_autofree char *node = g_strdup_printf("%s/dev/vfio/%d", root, f->iommu_group);
                        g_autofree char *vfio_dev = g_build_filename(dir, "vfio-dev", NULL);
                        g_autoptr(GPtrArray) vds = list_dir(vfio_dev);

                        if (g_file_test(node, G_FILE_TEST_EXISTS)) {
                                g_free(f->vfio_group_path);
                                f->vfio_group_path = g_strdup_printf("/dev/vfio/%d", f->iommu_group);
                        }
                        if (vds->len == 1) {
                                g_autofree char *cdev = g_build_filename(root, "dev/vfio/devices", vds->pdata[0], NULL);
                                if (g_file_test(cdev, G_FILE_TEST_EXISTS)) {
                                        g_free(f->vfio_device_path);
                                        f->vfio_device_path = g_strdup_printf("/dev/vfio/devices/%s", (char *) vds->pdata[0]);
                                }
                        }
                }
                g_ptr_array_add(host->functions, f);
        }
        g_ptr_array_sort(host->functions, cmp_function);

        for (guint i = 0; i < group_names->len; i++) {
                g_autofree char *dir = g_build_filename(groups, group_names->pdata[i], NULL);
                g_autofree char *members = g_build_filename(dir, "devices", NULL);
                VhTestGroup *g = g_new0(VhTestGroup, 1);

                g->id = (guint) strtoul(group_names->pdata[i], NULL, 10);
                g->addresses = list_dir(members);
                g_ptr_array_sort(g->addresses, cmp_address_p);
                g->type = read_attr(dir, "type");
                if (!g->type)
                        g->type = g_strdup("");
                g_ptr_array_add(host->groups, g);
        }
        g_ptr_array_sort(host->groups, cmp_group);

        host->iommu_enabled = dir_has_entries(class_iommu) || host->groups->len > 0;

        {
                g_autofree char *drv = g_build_filename(root, "sys/bus/pci/drivers/vfio-pci", NULL);
                g_autofree char *mod = g_build_filename(root, "sys/module/vfio_pci", NULL);
                g_autofree char *libmod = g_build_filename(root, "lib/modules", NULL);

                if (g_file_test(drv, G_FILE_TEST_IS_DIR) || g_file_test(mod, G_FILE_TEST_IS_DIR))
                        host->vfio_available = TRUE;
                else if (!g_file_test(libmod, G_FILE_TEST_IS_DIR))
                        host->vfio_available = FALSE;
                else
                        host->vfio_available = -1;
        }
        return host;
}

void vh_test_host_free(VhTestHost *host) {
        if (!host)
                return;
        g_free(host->root);
        g_ptr_array_unref(host->functions);
        g_ptr_array_unref(host->groups);
        g_free(host);
}

const VhTestFunction *vh_test_host_find(const VhTestHost *host, const char *address) {
        for (guint i = 0; i < host->functions->len; i++) {
                const VhTestFunction *f = host->functions->pdata[i];
                if (strcmp(f->address, address) == 0)
                        return f;
        }
        return NULL;
}

const VhTestGroup *vh_test_host_find_group(const VhTestHost *host, guint id) {
        for (guint i = 0; i < host->groups->len; i++) {
                const VhTestGroup *g = host->groups->pdata[i];
                if (g->id == id)
                        return g;
        }
        return NULL;
}

gboolean vh_test_function_is_bridge(const VhTestFunction *f) {
        return (f->class_code >> 8) == 0x0604;
}

GPtrArray *vh_test_host_group_blockers(const VhTestHost *host, const VhTestGroup *group) {
        GPtrArray *blockers = g_ptr_array_new();

        for (guint i = 0; i < group->addresses->len; i++) {
                const VhTestFunction *f = vh_test_host_find(host, group->addresses->pdata[i]);

                if (!f || !*f->driver || vh_test_driver_is_vfio(host->root, f->driver))
                        continue;
                if (vh_test_function_is_bridge(f) &&
                    (strcmp(f->driver, "pcieport") == 0 || strcmp(f->driver, "shpchp") == 0))
                        continue;
                g_ptr_array_add(blockers, (gpointer) f);
        }
        return blockers;
}

GPtrArray *vh_test_host_fixtures(void) {
        g_autofree char *hosts = g_build_filename(vh_test_env("VH_TEST_DATA"), "hosts", NULL);
        GPtrArray *all = list_dir(hosts);
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < all->len; i++) {
                g_autofree char *sys = g_build_filename(hosts, all->pdata[i], "sys", NULL);
                if (g_file_test(sys, G_FILE_TEST_IS_DIR))
                        g_ptr_array_add(names, g_strdup(all->pdata[i]));
        }
        g_ptr_array_unref(all);
        g_ptr_array_sort(names, cmp_str);
        return names;
}

char *vh_test_data_readme(void) {
        g_autofree char *path = g_build_filename(vh_test_env("VH_TEST_DATA"), "README.md", NULL);
        char *s = NULL;

        if (!g_file_get_contents(path, &s, NULL, NULL))
                return NULL;
        return s;
}
