/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-modules: libkmod is opened only while a module is loaded, so that
 * neither it nor libcrypto (which it links) stays mapped; and the checks
 * before any loading need no libkmod at all. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "vh-error.h"
#include "vh-hostfs.h"
#include "vh-modules.h"
#include "vh-names.h"
#include "vh-unit.h"

/* Whether this process maps a file whose name holds what. */
static bool maps_library(const char *what) {
        g_autofree char *maps = NULL;

        g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
        return strstr(maps, what) != NULL;
}

static void test_not_linked(void) {
        g_assert_false(maps_library("libkmod.so"));
        g_assert_false(maps_library("libcrypto.so"));
}

/* Every symbol used resolves in the installed libkmod, and closing it
 * leaves nothing mapped. */
static void test_open_close(void) {
        g_assert_cmpint(vh_modules_check_libkmod(), ==, 0);
        g_assert_false(maps_library("libkmod.so"));
}

/* In a host tree nothing is loaded: a registered driver is enough, an
 * unregistered one is VfioUnavailable; libkmod is never opened. */
static void test_tree(void) {
        g_autofree char *root = vh_unit_host_dir("desktop-intel");
        VhHostFs *fs = NULL;
        VhError error = {};

        g_assert_cmpint(vh_hostfs_new(root, &fs), ==, 0);
        g_assert_cmpint(vh_modules_ensure_driver(fs, VH_DRIVER_VFIO_PCI, &error), ==, 0);
        g_assert_cmpint(vh_modules_ensure_driver(fs, "nvgrace_gpu_vfio_pci", &error), <, 0);
        g_assert_cmpint(error.code, ==, VH_ERROR_CODE_VFIO_UNAVAILABLE);
        g_assert_false(maps_library("libkmod.so"));
        vh_error_clear(&error);
        vh_hostfs_free(fs);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/modules/not-linked", test_not_linked);
        g_test_add_func("/modules/open-close", test_open_close);
        g_test_add_func("/modules/tree", test_tree);
        return g_test_run();
}
