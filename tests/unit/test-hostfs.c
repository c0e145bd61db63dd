/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-hostfs: the one module that touches the host, re-rooted beneath a
 * fixture tree. Writes only ever go to a temporary copy. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-hostfs.h"
#include "vh-strv.h"
#include "vh-unit.h"

#define GPU "0000:01:00.0"

typedef struct {
        char *copy;             /* writable temp copy, or NULL */
        char *root;             /* canonical root the fs was made with */
        VhHostFs *fs;
} Fixture;

static void fixture_setup_tree(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        f->root = vh_unit_realpath(dir);
        g_assert_cmpint(vh_hostfs_new(dir, &f->fs), ==, 0);
}

static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        g_autofree char *tmp_root = vh_unit_tmp_root();

        f->copy = vh_unit_copy_host(data);
        f->root = g_strdup(f->copy);
        g_assert_cmpint(vh_hostfs_new(f->copy, &f->fs), ==, 0);

        /* Safety first: every test with a writable fs runs beneath a temp dir. */
        g_assert_cmpstr(vh_hostfs_root(f->fs), ==, f->copy);
        g_assert_true(g_str_has_prefix(vh_hostfs_root(f->fs), tmp_root));
        g_assert_false(vh_hostfs_is_host_root(f->fs));
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
        g_free(f->root);
}

/* --- construction */

static void test_new_root(Fixture *f, gconstpointer data) {
        g_autofree char *given = NULL, *trailing = NULL, *dotted = NULL;
        VhHostFs *fs = NULL;

        g_assert_cmpstr(vh_hostfs_root(f->fs), ==, f->root);
        g_assert_false(vh_hostfs_is_host_root(f->fs));
        g_assert_false(vh_hostfs_is_read_only(f->fs));

        /* canonicalised: trailing slash, "." and ".." pieces resolve */
        given = vh_unit_host_dir(data);
        trailing = g_strconcat(given, "/", NULL);
        g_assert_cmpint(vh_hostfs_new(trailing, &fs), ==, 0);
        g_assert_cmpstr(vh_hostfs_root(fs), ==, f->root);
        fs = vh_hostfs_free(fs);
        g_assert_null(fs);

        dotted = g_build_filename(given, "sys", "..", ".", NULL);
        g_assert_cmpint(vh_hostfs_new(dotted, &fs), ==, 0);
        g_assert_cmpstr(vh_hostfs_root(fs), ==, f->root);
        vh_hostfs_free(fs);

        vh_hostfs_free(NULL);
}

static void test_new_symlinked_root(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = g_dir_make_tmp("vh-unit-XXXXXX", &error);
        g_autofree char *link = NULL, *target = vh_unit_host_dir("desktop-intel");
        g_autofree char *canonical_target = vh_unit_realpath(target);
        VhHostFs *fs = NULL;

        g_assert_no_error(error);
        link = g_build_filename(tmp, "host", NULL);
        g_assert_cmpint(symlink(canonical_target, link), ==, 0);

        g_assert_cmpint(vh_hostfs_new(link, &fs), ==, 0);
        g_assert_cmpstr(vh_hostfs_root(fs), ==, canonical_target);
        vh_hostfs_free(fs);

        g_unlink(link);
        g_rmdir(tmp);
}

static void test_new_host_root(void) {
        g_autofree char *path = NULL;
        VhHostFs *fs = NULL;

        /* Only read-only questions are asked of the real root. */
        g_assert_cmpint(vh_hostfs_new("/", &fs), ==, 0);
        g_assert_cmpstr(vh_hostfs_root(fs), ==, "/");
        g_assert_true(vh_hostfs_is_host_root(fs));
        path = vh_hostfs_path(fs, "sys/bus/pci", "devices", NULL);
        g_assert_cmpstr(path, ==, "/sys/bus/pci/devices");
        vh_hostfs_free(fs);
}

static void test_new_bad_root(void) {
        g_autofree char *file = NULL, *dir = vh_unit_host_dir("desktop-intel");
        VhHostFs *fs = NULL;

        g_assert_cmpint(vh_hostfs_new("/nonexistent/vh-unit/root", &fs), <, 0);
        g_assert_null(fs);

        /* a file is not a root */
        file = g_build_filename(dir, "proc", "cmdline", NULL);
        g_assert_cmpint(vh_hostfs_new(file, &fs), ==, -ENOTDIR);
        g_assert_null(fs);

        /* the real host is never a default: no root, or an empty one, is refused */
        g_assert_cmpint(vh_hostfs_new(NULL, &fs), ==, -EINVAL);
        g_assert_null(fs);
        g_assert_cmpint(vh_hostfs_new("", &fs), ==, -EINVAL);
        g_assert_null(fs);
}

/* --- paths */

static void test_path_join(Fixture *f, gconstpointer data) {
        g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL, *expected = NULL;

        p1 = vh_hostfs_path(f->fs, "sys/bus/pci/devices", GPU, "vendor", NULL);
        expected = g_build_filename(f->root, "sys", "bus", "pci", "devices", GPU, "vendor", NULL);
        g_assert_cmpstr(p1, ==, expected);

        p2 = vh_hostfs_path(f->fs, "sys", "bus", "pci", "devices", GPU, "vendor", NULL);
        g_assert_cmpstr(p2, ==, expected);

        p3 = vh_hostfs_path(f->fs, "proc/sys/kernel/osrelease", NULL);
        g_free(expected);
        expected = g_build_filename(f->root, "proc", "sys", "kernel", "osrelease", NULL);
        g_assert_cmpstr(p3, ==, expected);
}

/* Components that could climb out of the root or alias another path. */
static const char *const bad_components[] = {
        "..",
        "",
        "../../etc",
        "../..",
        "0000:01:00.0/../x",
        "0000:01:00.0/..",
        "sys/../../etc",
        "sys//bus",
        "sys/",
};

static void test_path_refused(Fixture *f, gconstpointer data) {
        for (size_t i = 0; i < G_N_ELEMENTS(bad_components); i++) {
                const char *c = bad_components[i];
                g_autofree char *s = NULL, *link = NULL;
                char **l = NULL;
                unsigned long ul;
                long sl;
                size_t size;

                g_test_message("component '%s'", c);

                /* as the first, a middle and the last component */
                g_assert_null(vh_hostfs_path(f->fs, c, NULL));
                g_assert_null(vh_hostfs_path(f->fs, "sys/bus/pci/devices", c, "vendor", NULL));
                g_assert_null(vh_hostfs_path(f->fs, "sys/bus/pci/devices", GPU, c, NULL));

                g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", c, "vendor", NULL), ==, -EINVAL);
                g_assert_cmpint(vh_hostfs_read_file(f->fs, &s, &size, "sys/bus/pci/devices", GPU, c, NULL), ==, -EINVAL);
                g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", c, "vendor", NULL), ==, -EINVAL);
                g_assert_cmpint(vh_hostfs_read_long(f->fs, &sl, "sys/bus/pci/devices", c, "numa_node", NULL), ==, -EINVAL);
                g_assert_cmpint(vh_hostfs_read_link(f->fs, &link, "sys/bus/pci/devices", c, "driver", NULL), ==, -EINVAL);
                g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &link, "sys/bus/pci/devices", c, "driver", NULL), ==, -EINVAL);
                g_assert_cmpint(vh_hostfs_list_dir(f->fs, &l, "sys/bus/pci/devices", c, NULL), ==, -EINVAL);
                g_assert_false(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", c, NULL));
                g_assert_null(s);
                g_assert_null(link);
                g_assert_null(l);
        }

        /* "../.." from inside the tree would still be inside the real
         * filesystem: make sure the refusal is not just a failed lookup. */
        g_assert_false(vh_hostfs_exists(f->fs, "sys", "..", "proc", NULL));
        g_assert_true(vh_hostfs_exists(f->fs, "proc", NULL));
}

/* An absolute-looking component never leaves the root. */
static void test_path_absolute_component(Fixture *f, gconstpointer data) {
        g_autofree char *p = vh_hostfs_path(f->fs, "/etc", "passwd", NULL);
        g_autofree char *prefix = g_strconcat(f->root, "/", NULL);

        if (p)
                g_assert_true(g_str_has_prefix(p, prefix));
}

/* --- reads */

static void test_read(Fixture *f, gconstpointer data) {
        g_autofree char *s = NULL, *cfg = NULL, *empty = NULL, *cmdline = NULL;
        unsigned long ul = 0;
        long sl = 0;
        size_t size = 0;

        /* trailing newline stripped */
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", GPU, "vendor", NULL), ==, 0);
        g_assert_cmpstr(s, ==, "0x10de");
        g_clear_pointer(&s, g_free);
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, 0);
        g_assert_cmpstr(s, ==, "(null)");
        g_clear_pointer(&s, g_free);
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", GPU, "reset_method", NULL), ==, 0);
        g_assert_cmpstr(s, ==, "bus");
        g_clear_pointer(&s, g_free);
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/kernel/iommu_groups/2/type", NULL), ==, 0);
        g_assert_cmpstr(s, ==, "DMA");

        /* an empty file is an empty string */
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &empty, "sys/bus/pci/devices", GPU, "reset", NULL), ==, 0);
        g_assert_cmpstr(empty, ==, "");

        /* the whole file, untouched */
        g_assert_cmpint(vh_hostfs_read_file(f->fs, &cmdline, &size, "proc/cmdline", NULL), ==, 0);
        g_assert_cmpuint(size, ==, strlen(cmdline));
        g_assert_true(g_str_has_suffix(cmdline, "intel_iommu=on\n"));

        /* binary: config space, 256 bytes as they are, NUL-terminated beyond */
        g_assert_cmpint(vh_hostfs_read_binary(f->fs, &cfg, &size, "sys/bus/pci/devices", GPU, "config", NULL), ==, 0);
        g_assert_cmpuint(size, ==, 256);
        g_assert_cmpuint((guint8) cfg[0], ==, 0xde);
        g_assert_cmpuint((guint8) cfg[1], ==, 0x10);
        g_assert_cmpuint((guint8) cfg[2], ==, 0x84);
        g_assert_cmpuint((guint8) cfg[3], ==, 0x26);
        g_assert_cmpuint((guint8) cfg[size], ==, 0);

        /* numbers in any base strtoul takes */
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", GPU, "vendor", NULL), ==, 0);
        g_assert_cmpuint(ul, ==, 0x10de);
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", GPU, "class", NULL), ==, 0);
        g_assert_cmpuint(ul, ==, 0x030000);
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", GPU, "irq", NULL), ==, 0);
        g_assert_cmpuint(ul, ==, 16);
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", "0000:00:01.0", "secondary_bus_number", NULL), ==, 0);
        g_assert_cmpuint(ul, ==, 1);
        g_assert_cmpint(vh_hostfs_read_long(f->fs, &sl, "sys/bus/pci/devices", GPU, "numa_node", NULL), ==, 0);
        g_assert_cmpint(sl, ==, -1);

        /* "-1" is not an unsigned number; text is not a number */
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", GPU, "numa_node", NULL), <, 0);
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", GPU, "driver_override", NULL), <, 0);
        g_assert_cmpint(vh_hostfs_read_long(f->fs, &sl, "sys/bus/pci/devices", GPU, "driver_override", NULL), <, 0);
        g_assert_cmpint(vh_hostfs_read_long(f->fs, &sl, "sys/bus/pci/devices", GPU, "reset", NULL), <, 0);

        /* missing */
        g_clear_pointer(&s, g_free);
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", GPU, "sriov_numvfs", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", "0000:09:00.0", "vendor", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_read_ulong(f->fs, &ul, "sys/bus/pci/devices", GPU, "sriov_totalvfs", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_read_long(f->fs, &sl, "sys/bus/pci/devices", GPU, "nothing", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_read_file(f->fs, &s, &size, "sys/nothing", NULL), ==, -ENOENT);
        g_assert_null(s);
}

static void test_links(Fixture *f, gconstpointer data) {
        g_autofree char *t1 = NULL, *t2 = NULL, *n1 = NULL, *n2 = NULL, *n3 = NULL, *t3 = NULL;

        /* as stored, relative, from the device's real directory */
        g_assert_cmpint(vh_hostfs_read_link(f->fs, &t1, "sys/bus/pci/devices", GPU, "driver", NULL), ==, 0);
        g_assert_cmpstr(t1, ==, "../../../../bus/pci/drivers/nvidia");
        g_assert_cmpint(vh_hostfs_read_link(f->fs, &t2, "sys/bus/pci/devices", GPU, "iommu_group", NULL), ==, 0);
        g_assert_cmpstr(t2, ==, "../../../../kernel/iommu_groups/2");
        g_assert_cmpint(vh_hostfs_read_link(f->fs, &t3, "sys/bus/pci/devices", GPU, NULL), ==, 0);
        g_assert_cmpstr(t3, ==, "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");

        g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &n1, "sys/bus/pci/devices", GPU, "driver", NULL), ==, 0);
        g_assert_cmpstr(n1, ==, "nvidia");
        g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &n2, "sys/bus/pci/devices", GPU, "iommu_group", NULL), ==, 0);
        g_assert_cmpstr(n2, ==, "2");
        g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &n3, "sys/class/iommu/dmar1", NULL), ==, 0);
        g_assert_cmpstr(n3, ==, "dmar1");

        /* no driver: no link */
        g_clear_pointer(&n1, g_free);
        g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &n1, "sys/bus/pci/devices", "0000:00:14.2", "driver", NULL), ==, -ENOENT);
        g_assert_null(n1);
        /* not a link */
        g_assert_cmpint(vh_hostfs_read_link(f->fs, &n1, "sys/bus/pci/devices", GPU, "vendor", NULL), ==, -EINVAL);
        g_assert_null(n1);
}

static gint compare_strp(gconstpointer a, gconstpointer b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static void test_exists_and_list(Fixture *f, gconstpointer data) {
        g_auto(GStrv) devices = NULL, groups = NULL, members = NULL, empty = NULL;
        const char *expected_groups[] = { "0", "1", "2", "3", "4", "5", "6", "7", NULL };
        const char *expected_members[] = { "0000:00:01.0", "0000:01:00.0", "0000:01:00.1", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = NULL;
        g_autofree char *devdir = g_build_filename(f->root, "sys", "bus", "pci", "devices", NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *e;

        /* through symlinks */
        g_assert_true(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", GPU, NULL));
        g_assert_true(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", GPU, "driver", "bind", NULL));
        g_assert_true(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", GPU, "iommu_group", "devices", GPU, NULL));
        g_assert_true(vh_hostfs_exists(f->fs, "dev/vfio/vfio", NULL));
        g_assert_false(vh_hostfs_exists(f->fs, "dev/vfio/2", NULL));
        g_assert_false(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", "0000:09:00.0", NULL));
        g_assert_false(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", "0000:00:14.2", "driver", NULL));

        /* sorted, without . and .., identical to the directory */
        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &devices, "sys/bus/pci/devices", NULL), ==, 0);
        dir = g_dir_open(devdir, 0, &error);
        g_assert_no_error(error);
        while ((e = g_dir_read_name(dir)))
                g_ptr_array_add(names, g_strdup(e));
        g_ptr_array_sort(names, compare_strp);
        g_ptr_array_add(names, NULL);
        g_assert_cmpuint(g_strv_length(devices), ==, 20);
        g_assert_cmpstrv(devices, (char **) names->pdata);
        for (size_t i = 1; devices[i]; i++)
                g_assert_cmpint(strcmp(devices[i - 1], devices[i]), <, 0);

        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &groups, "sys/kernel/iommu_groups", NULL), ==, 0);
        g_assert_cmpstrv(groups, expected_groups);

        /* through the group link */
        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &members, "sys/bus/pci/devices", GPU, "iommu_group", "devices", NULL), ==, 0);
        g_assert_cmpstrv(members, expected_members);

        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &empty, "sys/kernel/nothing", NULL), ==, -ENOENT);
        g_assert_null(empty);
        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &empty, "sys/bus/pci/devices", GPU, "vendor", NULL), ==, -ENOTDIR);
        g_assert_null(empty);
}

static void test_list_dir_empty(Fixture *f, gconstpointer data) {
        g_autofree char *dir = g_build_filename(f->copy, "sys", "kernel", "iommu_groups", NULL);
        char **l = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &l, "sys/kernel/iommu_groups", NULL), ==, 0);
        g_assert_nonnull(l);
        g_assert_null(l[0]);
        vh_strv_free(l);
}

/* exists() follows symlinks: a dangling link does not exist, its target
 * missing; read_link still reads it. */
static void test_dangling_link(Fixture *f, gconstpointer data) {
        g_autofree char *link = g_build_filename(f->copy, "sys/bus/pci/devices", GPU, "driver", NULL);
        g_autofree char *target = NULL, *name = NULL;

        g_assert_true(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", GPU, "driver", NULL));
        g_assert_cmpint(g_unlink(link), ==, 0);
        g_assert_cmpint(symlink("../../../../bus/pci/drivers/gone", link), ==, 0);

        g_assert_false(vh_hostfs_exists(f->fs, "sys/bus/pci/devices", GPU, "driver", NULL));
        g_assert_cmpint(vh_hostfs_read_link(f->fs, &target, "sys/bus/pci/devices", GPU, "driver", NULL), ==, 0);
        g_assert_cmpstr(target, ==, "../../../../bus/pci/drivers/gone");
        g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &name, "sys/bus/pci/devices", GPU, "driver", NULL), ==, 0);
        g_assert_cmpstr(name, ==, "gone");
}

/* Every string that comes out is valid UTF-8; bad bytes are escaped, not
 * dropped; binary reads are left alone. */
static void test_invalid_utf8(Fixture *f, gconstpointer data) {
        g_autofree char *dev = g_build_filename(f->copy, "sys/bus/pci/devices", GPU, NULL);
        g_autofree char *s = NULL, *t = NULL, *link = NULL, *name = NULL, *cfg = NULL, *bin = NULL;
        g_autofree char *nul = NULL;
        g_auto(GStrv) entries = NULL;
        size_t size = 0;

        vh_unit_write_file(f->copy, "sys/bus/pci/devices/" GPU "/driver_override", "vfio\xff-pci\n");
        vh_unit_write_file(f->copy, "proc/cmdline", "a=\xc3\x28 b=\xe2\x82\xac c=\xed\xa0\x80 d=\xc0\xaf e=\xf4\x90\x80\x80\n");
        vh_unit_symlink(f->copy, "sys/bus/pci/devices/" GPU "/driver", "../../../../bus/pci/drivers/nv\xe9idia");
        vh_unit_write_file(f->copy, "sys/kernel/iommu_groups/2/devices/x\xff", "");

        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, 0);
        g_assert_cmpstr(s, ==, "vfio\\xff-pci");

        /* a truncated sequence, a valid euro sign, a surrogate, an overlong
         * '/', a code point beyond U+10FFFF */
        g_assert_cmpint(vh_hostfs_read_file(f->fs, &t, &size, "proc/cmdline", NULL), ==, 0);
        g_assert_cmpstr(t, ==, "a=\\xc3( b=\xe2\x82\xac c=\\xed\\xa0\\x80 d=\\xc0\\xaf e=\\xf4\\x90\\x80\\x80\n");
        g_assert_cmpuint(size, ==, strlen(t));

        g_assert_cmpint(vh_hostfs_read_link(f->fs, &link, "sys/bus/pci/devices", GPU, "driver", NULL), ==, 0);
        g_assert_cmpstr(link, ==, "../../../../bus/pci/drivers/nv\\xe9idia");
        g_assert_cmpint(vh_hostfs_read_link_name(f->fs, &name, "sys/bus/pci/devices", GPU, "driver", NULL), ==, 0);
        g_assert_cmpstr(name, ==, "nv\\xe9idia");

        g_assert_cmpint(vh_hostfs_list_dir(f->fs, &entries, "sys/kernel/iommu_groups/2/devices", NULL), ==, 0);
        g_assert_true(g_strv_contains((const char *const *) entries, "x\\xff"));
        for (size_t i = 0; entries[i]; i++)
                g_assert_true(g_utf8_validate(entries[i], -1, NULL));

        /* a NUL would cut an attribute short: escaped too */
        {
                g_autofree char *path = g_build_filename(dev, "driver_override", NULL);
                g_assert_true(g_file_set_contents(path, "vfio\0-pci\n", 10, NULL));
        }
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &nul, "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, 0);
        g_assert_cmpstr(nul, ==, "vfio\\x00-pci");

        /* binary: byte for byte, 0xff and NULs included */
        g_assert_cmpint(vh_hostfs_read_binary(f->fs, &cfg, &size, "sys/bus/pci/devices", GPU, "config", NULL), ==, 0);
        g_assert_cmpuint(size, ==, 256);
        {
                g_autofree char *path = g_build_filename(f->copy, "bin", NULL);
                g_assert_true(g_file_set_contents(path, "\xff\0\xfe", 3, NULL));
        }
        g_assert_cmpint(vh_hostfs_read_binary(f->fs, &bin, &size, "bin", NULL), ==, 0);
        g_assert_cmpuint(size, ==, 3);
        g_assert_cmpmem(bin, 3, "\xff\0\xfe", 3);
}

/* A FIFO or a directory where a file belongs: refused at once, never
 * waited on. Each call runs in a subprocess with a deadline (an open() on a
 * FIFO without a writer would block for ever). */
static void test_file_types(void) {
        static const char *const fifos[] = { "proc/cmdline", "sys/bus/pci/devices/" GPU "/driver_override",
                                             "sys/bus/pci/drivers/nvidia/unbind", "dev/cpu/0/msr" };

        /* the subprocess works on the parent's copy, named in the environment */
        if (!g_test_subprocess()) {
                g_autofree char *copy = vh_unit_copy_host("desktop-intel");

                for (size_t i = 0; i < G_N_ELEMENTS(fifos); i++) {
                        g_autofree char *p = g_build_filename(copy, fifos[i], NULL);
                        g_assert_cmpint(g_unlink(p), ==, 0);
                        g_assert_cmpint(mkfifo(p, 0644), ==, 0);
                }
                {
                        g_autofree char *p = g_build_filename(copy, "proc/sys/kernel/osrelease", NULL);
                        g_assert_cmpint(g_unlink(p), ==, 0);
                        g_assert_cmpint(g_mkdir(p, 0755), ==, 0);
                }
                g_setenv("VH_UNIT_HOSTFS_COPY", copy, TRUE);
                g_test_trap_subprocess(NULL, 2 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
                g_unsetenv("VH_UNIT_HOSTFS_COPY");
                vh_unit_remove_copy(copy);
                g_test_trap_assert_passed();
                return;
        }

        {
                VhHostFs *fs = NULL;
                g_autofree char *s = NULL;
                char buf[8];
                size_t size;

                g_assert_cmpint(vh_hostfs_new(g_getenv("VH_UNIT_HOSTFS_COPY"), &fs), ==, 0);
                g_assert_cmpint(vh_hostfs_read_file(fs, &s, &size, "proc/cmdline", NULL), ==, -EBADFD);
                g_assert_cmpint(vh_hostfs_read_binary(fs, &s, &size, "proc/cmdline", NULL), ==, -EBADFD);
                g_assert_cmpint(vh_hostfs_read_string(fs, &s, "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, -EBADFD);
                g_assert_cmpint(vh_hostfs_read_string(fs, &s, "proc/sys/kernel/osrelease", NULL), ==, -EISDIR);
                g_assert_cmpint(vh_hostfs_pread(fs, buf, sizeof(buf), 0x3a, "dev/cpu/0/msr", NULL), ==, -EBADFD);
                /* nobody reads the FIFO: open for writing fails (ENXIO) instead of waiting */
                g_assert_cmpint(vh_hostfs_write_string(fs, GPU, "sys/bus/pci/drivers/nvidia/unbind", NULL), <, 0);
                g_assert_null(s);
                vh_hostfs_free(fs);
        }
}

/* proc/PID/fd in one pass: names and targets pair up, non-links are skipped. */
static void test_list_links(Fixture *f, gconstpointer data) {
        g_auto(GStrv) names = NULL, targets = NULL, empty_names = NULL, empty_targets = NULL;
        gboolean card0 = FALSE, card1 = FALSE;

        vh_unit_write_file(f->copy, "proc/1234/fd/not-a-link", "");
        g_assert_cmpint(vh_hostfs_list_links(f->fs, &names, &targets, "proc/1234/fd", NULL), ==, 0);
        g_assert_cmpuint(g_strv_length(names), ==, g_strv_length(targets));
        g_assert_cmpuint(g_strv_length(names), ==, 16);
        for (size_t i = 0; names[i]; i++) {
                g_autofree char *rel = g_build_filename("proc/1234/fd", names[i], NULL);
                g_autofree char *path = g_build_filename(f->copy, rel, NULL);
                g_autofree char *target = g_file_read_link(path, NULL);

                g_assert_cmpstr(names[i], !=, "not-a-link");
                g_assert_cmpstr(targets[i], ==, target);
                card0 = card0 || (g_str_equal(names[i], "12") && g_str_equal(targets[i], "/dev/dri/card0"));
                card1 = card1 || (g_str_equal(names[i], "13") && g_str_equal(targets[i], "/dev/dri/card1"));
        }
        g_assert_true(card0 && card1);

        g_assert_cmpint(vh_hostfs_list_links(f->fs, &empty_names, &empty_targets, "proc/2/fd", NULL), ==, -ENOENT);
        g_assert_null(empty_names);
        g_assert_null(empty_targets);
}

/* Listing grows linearly with the entries (proc/PID/fd of a process with
 * 100k descriptors took seconds when each append re-counted the list).
 * Not a timed test: it compares the list of 8n entries with the list of n
 * entries on the same machine; linear with the sort is ~10x, quadratic was
 * ~40x. Best of five each, so a busy machine does not decide. */
static double list_best_ms(VhHostFs *fs, const char *dir, size_t expected) {
        double best = G_MAXDOUBLE;

        for (int i = 0; i < 5; i++) {
                char **l = NULL;
                gint64 t = g_get_monotonic_time();

                g_assert_cmpint(vh_hostfs_list_dir(fs, &l, dir, NULL), ==, 0);
                best = MIN(best, (double) (g_get_monotonic_time() - t) / 1000.0);
                g_assert_cmpuint(vh_strv_length(l), ==, expected);
                vh_strv_free(l);
        }
        return best;
}

static void test_list_linear(void) {
        g_autofree char *root = vh_unit_empty_root();
        const size_t small = 4000, large = 8 * small;
        VhHostFs *fs = NULL;
        double t_small, t_large;

        for (size_t i = 0; i < large; i++) {
                g_autofree char *p = g_strdup_printf("%s/%s/%zu", root, i < small ? "small" : "large", i);

                if (i == 0 || i == small) {
                        g_autofree char *d = g_path_get_dirname(p);
                        g_assert_cmpint(g_mkdir(d, 0755), ==, 0);
                }
                g_assert_cmpint(symlink("anon_inode:[eventfd]", p), ==, 0);
        }
        /* the large directory gets all 8n: the small one's n plus 7n more */
        for (size_t i = 0; i < small; i++) {
                g_autofree char *p = g_strdup_printf("%s/large/x%zu", root, i);
                g_assert_cmpint(symlink("anon_inode:[eventfd]", p), ==, 0);
        }

        g_assert_cmpint(vh_hostfs_new(root, &fs), ==, 0);
        t_small = list_best_ms(fs, "small", small);
        t_large = list_best_ms(fs, "large", large);
        g_test_message("%zu entries: %.1f ms, %zu entries: %.1f ms (x%.1f)", small, t_small, large, t_large,
                       t_large / MAX(t_small, 0.001));
        if (t_large > 20 * MAX(t_small, 0.1))
                g_error("listing %zu entries took %.1f ms, %zu entries %.1f ms: not linear", large, t_large,
                        small, t_small);

        vh_hostfs_free(fs);
        vh_unit_remove_copy(root);
}

/* Reads under sys/ stop at a short read (a sysfs attribute comes whole):
 * every size around the first read's 4,096 bytes still reads whole, there
 * and elsewhere. */
static void test_read_sizes(void) {
        static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 8193, 100000 };
        g_autofree char *root = vh_unit_empty_root();
        VhHostFs *fs = NULL;

        for (guint d = 0; d < 2; d++) {
                g_autofree char *dir = g_build_filename(root, d == 0 ? "sys/bus/pci" : "proc/1", NULL);

                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
                        g_autofree char *p = g_strdup_printf("%s/f%zu", dir, sizes[i]);
                        g_autofree char *content = g_malloc(sizes[i] + 1);

                        for (size_t k = 0; k < sizes[i]; k++)
                                content[k] = (char) ('a' + (k * 7 + i) % 26);
                        g_assert_true(g_file_set_contents(p, content, (gssize) sizes[i], NULL));
                }
        }
        g_assert_cmpint(vh_hostfs_new(root, &fs), ==, 0);
        for (guint d = 0; d < 2; d++)
                for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
                        g_autofree char *name = g_strdup_printf("f%zu", sizes[i]);
                        g_autofree char *p = g_build_filename(root, d == 0 ? "sys/bus/pci" : "proc/1", name, NULL);
                        g_autofree char *expected = NULL, *got = NULL;
                        gsize expected_size = 0;
                        size_t got_size = 0;

                        g_assert_true(g_file_get_contents(p, &expected, &expected_size, NULL));
                        g_assert_cmpint(vh_hostfs_read_file(fs, &got, &got_size, d == 0 ? "sys/bus/pci" : "proc/1",
                                                            name, NULL), ==, 0);
                        g_assert_cmpuint(got_size, ==, expected_size);
                        g_assert_cmpmem(got, got_size, expected, expected_size);
                }
        vh_hostfs_free(fs);
        vh_unit_remove_copy(root);
}

/* --- writes */

static void test_write(Fixture *f, gconstpointer data) {
        g_autofree char *src = vh_unit_host_dir(data);
        g_autofree char *s = NULL, *orig = NULL, *missing = NULL;

        g_assert_false(vh_hostfs_is_read_only(f->fs));

        /* lands beneath the root, exactly as written (no newline added) */
        g_assert_cmpint(vh_hostfs_write_string(f->fs, "vfio-pci", "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, 0);
        s = vh_unit_read_file(f->copy, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver_override");
        g_assert_cmpstr(s, ==, "vfio-pci");
        g_clear_pointer(&s, g_free);

        /* shorter value replaces, does not leave a tail */
        g_assert_cmpint(vh_hostfs_write_string(f->fs, "\n", "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, 0);
        s = vh_unit_read_file(f->copy, "sys/bus/pci/devices/" GPU "/driver_override");
        g_assert_cmpstr(s, ==, "\n");
        g_clear_pointer(&s, g_free);

        g_assert_cmpint(vh_hostfs_write_string(f->fs, GPU, "sys/bus/pci/drivers/nvidia/unbind", NULL), ==, 0);
        s = vh_unit_read_file(f->copy, "sys/bus/pci/drivers/nvidia/unbind");
        g_assert_cmpstr(s, ==, GPU);
        g_clear_pointer(&s, g_free);

        g_assert_cmpint(vh_hostfs_write_string(f->fs, GPU, "sys/bus/pci/drivers_probe", NULL), ==, 0);
        s = vh_unit_read_file(f->copy, "sys/bus/pci/drivers_probe");
        g_assert_cmpstr(s, ==, GPU);
        g_clear_pointer(&s, g_free);

        /* refused components write nothing */
        for (size_t i = 0; i < G_N_ELEMENTS(bad_components); i++)
                g_assert_cmpint(vh_hostfs_write_string(f->fs, "x", "sys/bus/pci/devices", bad_components[i], "driver_override", NULL), ==, -EINVAL);

        /* the kernel has no attribute it did not create: a write to a missing
         * attribute fails and creates nothing */
        g_assert_cmpint(vh_hostfs_write_string(f->fs, "1", "sys/bus/pci/devices", GPU, "sriov_numvfs", NULL), <, 0);
        missing = g_build_filename(f->copy, "sys/bus/pci/devices", GPU, "sriov_numvfs", NULL);
        g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));

        /* the source tree is untouched */
        orig = vh_unit_read_file(src, "sys/bus/pci/devices/" GPU "/driver_override");
        g_assert_cmpstr(orig, ==, "(null)\n");
}

static void test_read_only(Fixture *f, gconstpointer data) {
        g_autofree char *path = g_build_filename(f->copy, "sys/bus/pci/devices", GPU, "driver_override", NULL);
        g_autofree char *missing = g_build_filename(f->copy, "sys/bus/pci/devices", GPU, "new_attr", NULL);
        g_autofree char *s = NULL;
        GStatBuf before, after;

        g_assert_cmpint(g_stat(path, &before), ==, 0);

        vh_hostfs_set_read_only(f->fs, true);
        g_assert_true(vh_hostfs_is_read_only(f->fs));

        g_assert_cmpint(vh_hostfs_write_string(f->fs, "vfio-pci", "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, -EROFS);
        g_assert_cmpint(vh_hostfs_write_string(f->fs, GPU, "sys/bus/pci/drivers_probe", NULL), ==, -EROFS);
        /* even where the file does not exist: no open() happens */
        g_assert_cmpint(vh_hostfs_write_string(f->fs, "1", "sys/bus/pci/devices", GPU, "new_attr", NULL), ==, -EROFS);
        g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));

        /* the file is not touched: same content, same size, same mtime */
        s = vh_unit_read_file(f->copy, "sys/bus/pci/devices/" GPU "/driver_override");
        g_assert_cmpstr(s, ==, "(null)\n");
        g_assert_cmpint(g_stat(path, &after), ==, 0);
        g_assert_cmpint(after.st_size, ==, before.st_size);
        g_assert_cmpint(after.st_mtime, ==, before.st_mtime);
        g_assert_cmpint(after.st_mtim.tv_nsec, ==, before.st_mtim.tv_nsec);

        /* reads still work */
        g_clear_pointer(&s, g_free);
        g_assert_cmpint(vh_hostfs_read_string(f->fs, &s, "sys/bus/pci/devices", GPU, "vendor", NULL), ==, 0);
        g_assert_cmpstr(s, ==, "0x10de");

        /* and writable again */
        vh_hostfs_set_read_only(f->fs, false);
        g_assert_false(vh_hostfs_is_read_only(f->fs));
        g_assert_cmpint(vh_hostfs_write_string(f->fs, "vfio-pci", "sys/bus/pci/devices", GPU, "driver_override", NULL), ==, 0);
        g_clear_pointer(&s, g_free);
        s = vh_unit_read_file(f->copy, "sys/bus/pci/devices/" GPU "/driver_override");
        g_assert_cmpstr(s, ==, "vfio-pci");
}

/* A file that cannot be opened for writing reports the errno. */
static void test_write_errors(Fixture *f, gconstpointer data) {
        g_autofree char *path = g_build_filename(f->copy, "sys/bus/pci/drivers/nvidia/bind", NULL);

        /* a directory is not an attribute */
        g_assert_cmpint(vh_hostfs_write_string(f->fs, "x", "sys/bus/pci/drivers/nvidia", NULL), ==, -EISDIR);

        if (geteuid() != 0) {
                g_assert_cmpint(g_chmod(path, 0444), ==, 0);
                g_assert_cmpint(vh_hostfs_write_string(f->fs, GPU, "sys/bus/pci/drivers/nvidia/bind", NULL), ==, -EACCES);
        }
}

/* --- resolution beneath the root
 *
 * Each test runs with both resolvers: openat2(RESOLVE_IN_ROOT), and the
 * component walk that stands in for it on kernels before 5.6 (chosen with
 * VFIOHOST_TEST_RESOLVE=walk before the fs is made). A canary directory
 * outside the copy is what hostile links point at; it must come out byte
 * for byte as it went in, and nothing of it may be read. */

typedef struct {
        char *copy;
        char *canary;
        VhHostFs *fs;
        GPtrArray *canary_before;
} Beneath;

static void beneath_setup(Beneath *b, gconstpointer data) {
        const char *resolve = data;

        b->copy = vh_unit_copy_host("desktop-intel");
        b->canary = vh_unit_empty_root();
        vh_unit_write_file(b->canary, "unbind", "untouched\n");
        vh_unit_write_file(b->canary, "vendor", "SECRET\n");
        vh_unit_write_file(b->canary, "journal.json", "{\"canary\": true}\n");
        vh_unit_write_file(b->canary, "sub/file", "SECRET\n");
        vh_unit_symlink(b->canary, "link", "target-outside");
        b->canary_before = vh_unit_snapshot(b->canary);

        if (g_str_equal(resolve, "walk"))
                g_setenv("VFIOHOST_TEST_RESOLVE", "walk", TRUE);
        else
                g_unsetenv("VFIOHOST_TEST_RESOLVE");
        g_assert_cmpint(vh_hostfs_new(b->copy, &b->fs), ==, 0);
        g_unsetenv("VFIOHOST_TEST_RESOLVE");
        if (g_str_equal(resolve, "walk"))
                g_assert_cmpint(vh_hostfs_get_resolve(b->fs), ==, VH_HOSTFS_RESOLVE_WALK);
        else if (vh_hostfs_set_resolve(b->fs, VH_HOSTFS_RESOLVE_OPENAT2) == -EOPNOTSUPP) {
                /* valgrind before 3.20 answers openat2 with ENOSYS: the
                 * fallback is what a kernel before 5.6 gets, and must hold */
                g_test_message("openat2 does not work here: the walk stands in");
                g_assert_cmpint(vh_hostfs_get_resolve(b->fs), ==, VH_HOSTFS_RESOLVE_WALK);
        } else
                g_assert_cmpint(vh_hostfs_get_resolve(b->fs), ==, VH_HOSTFS_RESOLVE_OPENAT2);
}

static void beneath_teardown(Beneath *b, gconstpointer data) {
        /* the point of every test here */
        vh_unit_assert_tree_unchanged(b->canary, b->canary_before);
        g_ptr_array_unref(b->canary_before);
        vh_hostfs_free(b->fs);
        vh_unit_remove_copy(b->copy);
        vh_unit_remove_copy(b->canary);
        g_free(b->copy);
        g_free(b->canary);
}

/* From rel (a link's directory inside the copy) up past "/" with "..",
 * then down to the canary: what a relative link must say to leave. */
static char *climb_to(const char *rel, const char *target) {
        GString *s = g_string_new(NULL);

        for (int i = 0; i < 32; i++)
                g_string_append(s, "../");
        g_string_append(s, target + 1);
        return g_string_free(s, FALSE);
}

/* drivers/nvidia as an absolute link received "unbind" in the canary. */
static void test_beneath_write_absolute_dir_link(Beneath *b, gconstpointer data) {
        g_autofree char *sub = g_build_filename(b->canary, "sub", NULL);

        vh_unit_remove_tree(b->copy, "sys/bus/pci/drivers/nvidia");
        vh_unit_symlink(b->copy, "sys/bus/pci/drivers/nvidia", b->canary);
        g_assert_cmpint(vh_hostfs_write_string(b->fs, GPU, "sys/bus/pci/drivers/nvidia/unbind", NULL), ==, -ENOENT);

        /* and relative, climbing out with ".." */
        {
                g_autofree char *up = climb_to("sys/bus/pci/drivers", b->canary);
                vh_unit_symlink(b->copy, "sys/bus/pci/drivers/nvidia", up);
        }
        g_assert_cmpint(vh_hostfs_write_string(b->fs, GPU, "sys/bus/pci/drivers/nvidia/unbind", NULL), ==, -ENOENT);

        /* a link to a link to outside */
        vh_unit_symlink(b->copy, "sys/bus/pci/drivers/nvidia", "../../../hop");
        vh_unit_symlink(b->copy, "hop", sub);
        g_assert_cmpint(vh_hostfs_write_string(b->fs, GPU, "sys/bus/pci/drivers/nvidia/file", NULL), ==, -ENOENT);
}

/* Absolute links resolve as if the root were "/": inside the tree. */
static void test_beneath_absolute_stays_inside(Beneath *b, gconstpointer data) {
        g_autofree char *s = NULL, *name = NULL;
        g_auto(GStrv) l = NULL;
        struct stat st;

        vh_unit_remove_tree(b->copy, "sys/bus/pci/drivers/nvidia");
        vh_unit_symlink(b->copy, "sys/bus/pci/drivers/nvidia", "/sys/bus/pci/drivers/snd_hda_intel");
        g_assert_cmpint(vh_hostfs_write_string(b->fs, GPU, "sys/bus/pci/drivers/nvidia/unbind", NULL), ==, 0);
        s = vh_unit_read_file(b->copy, "sys/bus/pci/drivers/snd_hda_intel/unbind");
        g_assert_cmpstr(s, ==, GPU);

        /* ".." at the root stays at the root */
        vh_unit_symlink(b->copy, "up", "../../../../../proc");
        g_assert_true(vh_hostfs_exists(b->fs, "up", "cmdline", NULL));
        g_assert_cmpint(vh_hostfs_list_dir(b->fs, &l, "up", NULL), ==, 0);
        g_assert_true(g_strv_contains((const char *const *) l, "cmdline"));
        g_assert_cmpint(vh_hostfs_stat(b->fs, &st, "up", "cmdline", NULL), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));

        /* the device's links, relative as sysfs makes them, still work */
        g_assert_cmpint(vh_hostfs_read_link_name(b->fs, &name, "sys/bus/pci/devices", GPU, "iommu_group", NULL), ==, 0);
        g_assert_cmpstr(name, ==, "2");
        g_assert_true(vh_hostfs_exists(b->fs, "sys/bus/pci/devices", GPU, "iommu_group", "devices", GPU, "driver", "bind", NULL));
}

/* Nothing outside is read, listed, stat'ed or readlink'ed. */
static void test_beneath_reads(Beneath *b, gconstpointer data) {
        g_autofree char *up = climb_to("sys/bus/pci/devices", b->canary);
        g_autofree char *s = NULL, *t = NULL, *link = NULL, *file_link = NULL;
        g_auto(GStrv) l = NULL, names = NULL, targets = NULL;
        struct stat st;
        unsigned long ul;
        char buf[4];
        size_t size;

        /* a device directory that leads out, two ways */
        vh_unit_symlink(b->copy, "sys/bus/pci/devices/" GPU, b->canary);
        vh_unit_symlink(b->copy, "sys/bus/pci/devices/0000:01:00.1", up);
        for (int i = 0; i < 2; i++) {
                const char *dev = i == 0 ? GPU : "0000:01:00.1";

                g_assert_cmpint(vh_hostfs_read_string(b->fs, &s, "sys/bus/pci/devices", dev, "vendor", NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_read_file(b->fs, &t, &size, "sys/bus/pci/devices", dev, "vendor", NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_read_ulong(b->fs, &ul, "sys/bus/pci/devices", dev, "vendor", NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_pread(b->fs, buf, 2, 0, "sys/bus/pci/devices", dev, "vendor", NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_read_link(b->fs, &link, "sys/bus/pci/devices", dev, "link", NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_list_dir(b->fs, &l, "sys/bus/pci/devices", dev, NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_list_links(b->fs, &names, &targets, "sys/bus/pci/devices", dev, NULL), ==, -ENOENT);
                g_assert_cmpint(vh_hostfs_stat(b->fs, &st, "sys/bus/pci/devices", dev, "vendor", NULL), ==, -ENOENT);
                g_assert_false(vh_hostfs_exists(b->fs, "sys/bus/pci/devices", dev, "vendor", NULL));
                g_assert_null(s);
                g_assert_null(t);
                g_assert_null(link);
                g_assert_null(l);
        }

        /* a file link to outside: the final component is followed beneath the root too */
        file_link = g_build_filename(b->canary, "vendor", NULL);
        vh_unit_symlink(b->copy, "proc/cmdline", file_link);
        g_assert_cmpint(vh_hostfs_read_file(b->fs, &t, &size, "proc/cmdline", NULL), ==, -ENOENT);
        /* read_link reads the link, as stored: that is no read of the target */
        g_assert_cmpint(vh_hostfs_read_link(b->fs, &link, "proc/cmdline", NULL), ==, 0);
        g_assert_cmpstr(link, ==, file_link);
}

/* A symlinked state directory moved the journal outside. */
static void test_beneath_state_dir(Beneath *b, gconstpointer data) {
        static const char content[] = "{\"version\": 1}\n";
        g_autofree char *up = climb_to("var/lib", b->canary);
        g_autofree char *s = NULL;

        vh_unit_symlink(b->copy, "var/lib/vfiohost", b->canary);
        g_assert_cmpint(vh_hostfs_mkdir_p(b->fs, "var/lib/vfiohost", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_write_file_atomic(b->fs, content, strlen(content), "var/lib/vfiohost", "journal.json", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_read_file(b->fs, &s, NULL, "var/lib/vfiohost", "journal.json", NULL), ==, -ENOENT);

        vh_unit_symlink(b->copy, "var/lib/vfiohost", up);
        g_assert_cmpint(vh_hostfs_mkdir_p(b->fs, "var/lib/vfiohost", "sub", NULL), ==, -ENOENT);
        g_assert_cmpint(vh_hostfs_write_file_atomic(b->fs, content, strlen(content), "var/lib/vfiohost", "journal.json", NULL), ==, -ENOENT);

        /* the journal file itself a link to outside: replaced, not followed */
        vh_unit_remove_tree(b->copy, "var/lib/vfiohost");
        g_assert_cmpint(vh_hostfs_mkdir_p(b->fs, "var/lib/vfiohost", NULL), ==, 0);
        {
                g_autofree char *outside = g_build_filename(b->canary, "journal.json", NULL);
                vh_unit_symlink(b->copy, "var/lib/vfiohost/journal.json", outside);
        }
        g_assert_cmpint(vh_hostfs_write_file_atomic(b->fs, content, strlen(content), "var/lib/vfiohost", "journal.json", NULL), ==, 0);
        g_clear_pointer(&s, g_free);
        s = vh_unit_read_file(b->copy, "var/lib/vfiohost/journal.json");
        g_assert_cmpstr(s, ==, content);

        /* a state directory that is a link inside the tree works */
        vh_unit_remove_tree(b->copy, "var/lib/vfiohost");
        vh_unit_symlink(b->copy, "var/lib/vfiohost", "/srv/vfiohost");
        g_assert_cmpint(vh_hostfs_mkdir_p(b->fs, "srv/vfiohost", NULL), ==, 0);
        g_assert_cmpint(vh_hostfs_mkdir_p(b->fs, "var/lib/vfiohost", NULL), ==, 0);
        g_assert_cmpint(vh_hostfs_write_file_atomic(b->fs, content, strlen(content), "var/lib/vfiohost", "journal.json", NULL), ==, 0);
        g_clear_pointer(&s, g_free);
        s = vh_unit_read_file(b->copy, "srv/vfiohost/journal.json");
        g_assert_cmpstr(s, ==, content);
}

static void test_beneath_loops(Beneath *b, gconstpointer data) {
        g_autofree char *s = NULL;

        vh_unit_symlink(b->copy, "loop-a", "loop-b");
        vh_unit_symlink(b->copy, "loop-b", "/loop-a");
        g_assert_cmpint(vh_hostfs_read_string(b->fs, &s, "loop-a", NULL), ==, -ELOOP);
        g_assert_cmpint(vh_hostfs_read_string(b->fs, &s, "loop-a", "x", NULL), ==, -ELOOP);
        g_assert_cmpint(vh_hostfs_write_string(b->fs, "x", "loop-a", "x", NULL), ==, -ELOOP);
        g_assert_false(vh_hostfs_exists(b->fs, "loop-b", NULL));
        /* a file in the middle of a path */
        g_assert_cmpint(vh_hostfs_read_string(b->fs, &s, "proc/cmdline", "x", NULL), ==, -ENOTDIR);
}

/* The walk reads every fixture tree exactly as the kernel's resolution
 * does: every device's attributes and links, every group's members. */
static void test_beneath_walk_agrees(void) {
        for (size_t h = 0; h < G_N_ELEMENTS(vh_unit_hosts); h++) {
                g_autofree char *dir = vh_unit_host_dir(vh_unit_hosts[h]);
                VhHostFs *kernel = NULL, *walk = NULL;
                g_auto(GStrv) devices = NULL;

                g_assert_cmpint(vh_hostfs_new(dir, &kernel), ==, 0);
                g_assert_cmpint(vh_hostfs_new(dir, &walk), ==, 0);
                g_assert_cmpint(vh_hostfs_set_resolve(walk, VH_HOSTFS_RESOLVE_WALK), ==, 0);
                g_assert_cmpint(vh_hostfs_list_dir(kernel, &devices, "sys/bus/pci/devices", NULL), ==, 0);

                for (size_t i = 0; devices[i]; i++) {
                        static const char *const attrs[] = { "vendor", "device", "class", "driver_override",
                                                             "reset_method", "numa_node" };
                        static const char *const links[] = { "driver", "iommu_group", "physfn", "subsystem" };
                        g_auto(GStrv) e1 = NULL, e2 = NULL;

                        for (size_t a = 0; a < G_N_ELEMENTS(attrs); a++) {
                                g_autofree char *v1 = NULL, *v2 = NULL;
                                int r1 = vh_hostfs_read_string(kernel, &v1, "sys/bus/pci/devices", devices[i], attrs[a], NULL);
                                int r2 = vh_hostfs_read_string(walk, &v2, "sys/bus/pci/devices", devices[i], attrs[a], NULL);

                                g_assert_cmpint(r1, ==, r2);
                                g_assert_cmpstr(v1, ==, v2);
                        }
                        for (size_t a = 0; a < G_N_ELEMENTS(links); a++) {
                                g_autofree char *v1 = NULL, *v2 = NULL;
                                int r1 = vh_hostfs_read_link(kernel, &v1, "sys/bus/pci/devices", devices[i], links[a], NULL);
                                int r2 = vh_hostfs_read_link(walk, &v2, "sys/bus/pci/devices", devices[i], links[a], NULL);

                                g_assert_cmpint(r1, ==, r2);
                                g_assert_cmpstr(v1, ==, v2);
                                g_assert_cmpint(vh_hostfs_exists(kernel, "sys/bus/pci/devices", devices[i], links[a], "uevent", NULL), ==,
                                                vh_hostfs_exists(walk, "sys/bus/pci/devices", devices[i], links[a], "uevent", NULL));
                        }
                        /* through iommu_group/devices/<self>/.. and back */
                        g_assert_cmpint(vh_hostfs_list_dir(kernel, &e1, "sys/bus/pci/devices", devices[i], "iommu_group", "devices", NULL), ==,
                                        vh_hostfs_list_dir(walk, &e2, "sys/bus/pci/devices", devices[i], "iommu_group", "devices", NULL));
                        g_assert_cmpstrv(e1, e2);
                }
                vh_hostfs_free(kernel);
                vh_hostfs_free(walk);
        }
}

#define ADD_BENEATH(path, fn)                                                                   \
        do {                                                                                    \
                g_test_add("/hostfs/beneath/openat2/" path, Beneath, "openat2", beneath_setup, fn, beneath_teardown); \
                g_test_add("/hostfs/beneath/walk/" path, Beneath, "walk", beneath_setup, fn, beneath_teardown); \
        } while (0)

#define ADD(path, setup, fn, host) \
        g_test_add(path, Fixture, host, setup, fn, fixture_teardown)

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        ADD("/hostfs/new/root", fixture_setup_tree, test_new_root, "desktop-intel");
        g_test_add_func("/hostfs/new/symlinked-root", test_new_symlinked_root);
        g_test_add_func("/hostfs/new/host-root", test_new_host_root);
        g_test_add_func("/hostfs/new/bad-root", test_new_bad_root);
        ADD("/hostfs/path/join", fixture_setup_tree, test_path_join, "desktop-intel");
        ADD("/hostfs/path/refused", fixture_setup_tree, test_path_refused, "desktop-intel");
        ADD("/hostfs/path/absolute-component", fixture_setup_tree, test_path_absolute_component, "desktop-intel");
        ADD("/hostfs/read/values", fixture_setup_tree, test_read, "desktop-intel");
        ADD("/hostfs/read/links", fixture_setup_tree, test_links, "desktop-intel");
        ADD("/hostfs/read/exists-and-list", fixture_setup_tree, test_exists_and_list, "desktop-intel");
        ADD("/hostfs/read/list-empty-dir", fixture_setup_copy, test_list_dir_empty, "no-iommu");
        ADD("/hostfs/read/dangling-link", fixture_setup_copy, test_dangling_link, "desktop-intel");
        ADD("/hostfs/read/invalid-utf8", fixture_setup_copy, test_invalid_utf8, "desktop-intel");
        g_test_add_func("/hostfs/read/file-types", test_file_types);
        ADD("/hostfs/read/list-links", fixture_setup_copy, test_list_links, "desktop-intel");
        g_test_add_func("/hostfs/read/list-linear", test_list_linear);
        g_test_add_func("/hostfs/read/sizes", test_read_sizes);
        ADD("/hostfs/write/beneath-root", fixture_setup_copy, test_write, "desktop-intel");
        ADD("/hostfs/write/read-only", fixture_setup_copy, test_read_only, "desktop-intel");
        ADD("/hostfs/write/errors", fixture_setup_copy, test_write_errors, "desktop-intel");

        ADD_BENEATH("write-through-dir-link", test_beneath_write_absolute_dir_link);
        ADD_BENEATH("absolute-stays-inside", test_beneath_absolute_stays_inside);
        ADD_BENEATH("reads", test_beneath_reads);
        ADD_BENEATH("state-dir", test_beneath_state_dir);
        ADD_BENEATH("loops", test_beneath_loops);
        g_test_add_func("/hostfs/beneath/walk-agrees", test_beneath_walk_agrees);

        return g_test_run();
}
