/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-kernel: one rule each for the running release, the modules a release
 * lists, vfio-pci being registered and firmware framebuffers — the host
 * model, the kernel config and readiness all use these. */

#include <errno.h>
#include <stdlib.h>

#include <glib.h>

#include "vh-hostfs.h"
#include "vh-kernel.h"
#include "vh-unit.h"

typedef struct {
        char *root;
        VhHostFs *fs;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        f->root = vh_unit_empty_root();
        g_assert_cmpint(vh_hostfs_new(f->root, &f->fs), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->root);
        g_free(f->root);
}

static void test_release(Fixture *f, gconstpointer data) {
        static const char *const bad[] = { "\n", ".\n", "..\n", "6.1.0/../../etc\n", "a/b\n" };
        g_autofree char *r = NULL;

        g_assert_cmpint(vh_kernel_release(f->fs, &r), ==, -ENOENT);
        vh_unit_write_file(f->root, "proc/sys/kernel/osrelease", "6.1.0-28-amd64\n");
        g_assert_cmpint(vh_kernel_release(f->fs, &r), ==, 0);
        g_assert_cmpstr(r, ==, "6.1.0-28-amd64");
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *x = NULL;

                vh_unit_write_file(f->root, "proc/sys/kernel/osrelease", bad[i]);
                g_assert_cmpint(vh_kernel_release(f->fs, &x), ==, -EINVAL);
                g_assert_null(x);
        }
}

static void test_module_lists(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->root, "lib/modules/6.1.0/modules.dep",
                           "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/vfio.ko kernel/drivers/vfio/x.ko\n"
                           "kernel/drivers/vfio/vfio_iommu_type1.ko:\n"
                           "kernel/drivers/gpu/vfio-pci-core-extra.ko:\n");
        g_assert_true(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.dep", "vfio-pci"));
        g_assert_true(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.dep", "vfio_pci"));
        /* listed only as a dependency, followed by a space */
        g_assert_true(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.dep", "vfio"));
        g_assert_true(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.dep", "vfio-iommu-type1"));
        /* whole names only */
        g_assert_false(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.dep", "pci"));
        g_assert_false(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.dep", "vfio-pci-core"));
        g_assert_false(vh_kernel_module_file_lists(f->fs, "6.1.0", "modules.builtin", "vfio-pci"));
        g_assert_false(vh_kernel_module_file_lists(f->fs, NULL, "modules.dep", "vfio-pci"));
}

static void test_vfio_registered(Fixture *f, gconstpointer data) {
        g_assert_false(vh_kernel_vfio_pci_registered(f->fs));
        vh_unit_write_file(f->root, "sys/module/vfio_pci/refcnt", "0\n");
        g_assert_true(vh_kernel_vfio_pci_registered(f->fs));
}

static void test_framebuffers(void) {
        g_assert_true(vh_kernel_framebuffer_is_firmware("EFI VGA", false));
        g_assert_true(vh_kernel_framebuffer_is_firmware("simpledrmdrmfb", false));
        g_assert_true(vh_kernel_framebuffer_is_firmware("efifb", true));
        g_assert_false(vh_kernel_framebuffer_is_firmware("EFI VGA", true));
        g_assert_false(vh_kernel_framebuffer_is_firmware("i915drmfb", false));
        g_assert_false(vh_kernel_framebuffer_is_firmware("amdgpudrmfb", false));
        g_assert_cmpstr(vh_kernel_firmware_framebuffer_in_iomem("  4000000000-400fffffff : BOOTFB\n"), ==, "BOOTFB");
        g_assert_null(vh_kernel_firmware_framebuffer_in_iomem("  fd000000-fdffffff : simple-bus\n"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/kernel/release", test_release);
        ADD("/kernel/module-lists", test_module_lists);
        ADD("/kernel/vfio-registered", test_vfio_registered);
        g_test_add_func("/kernel/framebuffers", test_framebuffers);
        return g_test_run();
}
