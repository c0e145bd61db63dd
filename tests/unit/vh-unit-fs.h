/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The fixture of tests whose module only reads: a read-only VhHostFs on a
 * fixture host (tests/data/hosts/<name>, the test's data), or on a writable
 * copy of one that the test edits first.
 *     g_test_add(path, VhUnitFs, "desktop-vfio-bound", vh_unit_fs_setup, fn, vh_unit_fs_teardown);
 */

#include <glib.h>

#include "vh-hostfs.h"
#include "vh-unit.h"

typedef struct {
        char *copy;                     /* the copy's path; NULL on the tree itself */
        VhHostFs *fs;
} VhUnitFs;

static inline void vh_unit_fs_open(VhUnitFs *f, const char *root) {
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
}

static inline void vh_unit_fs_setup(VhUnitFs *f, gconstpointer host) {
        g_autofree char *dir = vh_unit_host_dir(host);

        vh_unit_fs_open(f, dir);
}

static inline void vh_unit_fs_setup_copy(VhUnitFs *f, gconstpointer host) {
        f->copy = vh_unit_copy_host(host);
        vh_unit_fs_open(f, f->copy);
}

static inline void vh_unit_fs_teardown(VhUnitFs *f, gconstpointer host) {
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}
