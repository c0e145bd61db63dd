/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the core unit tests: where the fixture trees are, a
 * writable copy of one in a temporary directory (never the real /sys), and
 * lspci's view of a tree for comparing names. GLib only. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

static inline gint vh_unit_compare_strp(gconstpointer a, gconstpointer b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static inline const char *vh_unit_data_dir(void) {
        const char *d = g_getenv("VH_TEST_DATA");

        if (!d || !*d)
                g_error("VH_TEST_DATA is not set: run the unit tests through meson test");
        return d;
}

/* tests/data/hosts/<name>, as given (not canonicalised). */
static inline char *vh_unit_host_dir(const char *name) {
        return g_build_filename(vh_unit_data_dir(), "hosts", name, NULL);
}

static inline char *vh_unit_realpath(const char *p) {
        char *r = realpath(p, NULL);
        char *s;

        g_assert_nonnull(r);
        s = g_strdup(r);
        free(r);
        return s;
}

/* Canonical temporary directory; every writable tree must live beneath it. */
static inline char *vh_unit_tmp_root(void) {
        return vh_unit_realpath(g_get_tmp_dir());
}

/* A writable copy of hosts/<name> in a fresh temporary directory; returns
 * the canonical path of the copy. Asserts it is a temp dir, never "/". */
static inline char *vh_unit_copy_host(const char *name) {
        g_autoptr(GError) error = NULL;
        g_autofree char *src = vh_unit_host_dir(name);
        g_autofree char *src_dot = g_build_filename(src, ".", NULL);
        g_autofree char *tmp = NULL, *tmp_root = vh_unit_tmp_root();
        g_autofree char *out = NULL, *err = NULL;
        char *canonical;
        int status = 0;

        tmp = g_dir_make_tmp("vh-unit-XXXXXX", &error);
        g_assert_no_error(error);
        canonical = vh_unit_realpath(tmp);

        g_assert_cmpstr(canonical, !=, "/");
        g_assert_true(g_str_has_prefix(canonical, tmp_root));
        g_assert_cmpint(canonical[strlen(tmp_root)], ==, '/');
        g_assert_nonnull(strstr(canonical, "/vh-unit-"));

        const char *argv[] = { "cp", "-a", "--", src_dot, canonical, NULL };
        g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("cp -a %s %s failed: %s", src_dot, canonical, err);
        return canonical;
}

/* Removes a tree made by vh_unit_copy_host without following symlinks. */
static inline void vh_unit_rm_rf_at(const char *path) {
        GStatBuf st;

        if (g_lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                GDir *d = g_dir_open(path, 0, NULL);
                const char *e;

                if (d) {
                        while ((e = g_dir_read_name(d))) {
                                g_autofree char *child = g_build_filename(path, e, NULL);
                                vh_unit_rm_rf_at(child);
                        }
                        g_dir_close(d);
                }
                g_rmdir(path);
        } else
                g_unlink(path);
}

/* Removes a subtree of a temporary copy (never anything else). */
static inline void vh_unit_remove_tree(const char *copy, const char *rel) {
        g_autofree char *tmp_root = vh_unit_tmp_root();
        g_autofree char *path = g_build_filename(copy, rel, NULL);

        g_assert_true(g_str_has_prefix(copy, tmp_root));
        g_assert_nonnull(strstr(copy + strlen(tmp_root), "/vh-unit-"));
        g_assert_null(strstr(rel, ".."));
        vh_unit_rm_rf_at(path);
}

static inline void vh_unit_remove_copy(const char *copy) {
        g_autofree char *tmp_root = NULL;

        if (!copy)
                return;
        tmp_root = vh_unit_tmp_root();
        /* Only ever what vh_unit_copy_host made. */
        g_assert_true(g_str_has_prefix(copy, tmp_root));
        g_assert_nonnull(strstr(copy + strlen(tmp_root), "/vh-unit-"));
        vh_unit_rm_rf_at(copy);
}

static inline void vh_unit_write_file(const char *root, const char *rel, const char *content) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
}

static inline char *vh_unit_read_file(const char *root, const char *rel) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(root, rel, NULL);
        char *s = NULL;

        g_file_get_contents(path, &s, NULL, &error);
        g_assert_no_error(error);
        return s;
}

static inline void vh_unit_unlink(const char *root, const char *rel) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        g_assert_cmpint(g_unlink(path), ==, 0);
}

/* An empty temporary root (for modules that only need a state directory
 * beneath it); canonical, removable with vh_unit_remove_copy. */
static inline char *vh_unit_empty_root(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *tmp = NULL, *tmp_root = vh_unit_tmp_root();
        char *canonical;

        tmp = g_dir_make_tmp("vh-unit-XXXXXX", &error);
        g_assert_no_error(error);
        canonical = vh_unit_realpath(tmp);
        g_assert_cmpstr(canonical, !=, "/");
        g_assert_true(g_str_has_prefix(canonical, tmp_root));
        g_assert_cmpint(canonical[strlen(tmp_root)], ==, '/');
        return canonical;
}

static inline void vh_unit_symlink(const char *root, const char *rel, const char *target) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        (void) g_unlink(path);
        g_assert_cmpint(symlink(target, path), ==, 0);
}

static inline void vh_unit_snapshot_at(const char *root, const char *rel, gboolean content, GPtrArray *out) {
        g_autofree char *path = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
        GStatBuf st;

        g_assert_cmpint(g_lstat(path, &st), ==, 0);
        if (S_ISLNK(st.st_mode)) {
                g_autofree char *target = g_file_read_link(path, NULL);

                g_assert_nonnull(target);
                g_ptr_array_add(out, g_strdup_printf("%s -> %s", rel ? rel : ".", target));
        } else if (S_ISDIR(st.st_mode)) {
                g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
                GDir *d = g_dir_open(path, 0, NULL);
                const char *e;

                g_assert_nonnull(d);
                while ((e = g_dir_read_name(d)))
                        g_ptr_array_add(names, g_strdup(e));
                g_dir_close(d);
                g_ptr_array_sort(names, (GCompareFunc) vh_unit_compare_strp);
                g_ptr_array_add(out, g_strdup_printf("%s/ %o", rel ? rel : ".", (unsigned) (st.st_mode & 07777)));
                for (guint i = 0; i < names->len; i++) {
                        g_autofree char *child = rel ? g_build_filename(rel, names->pdata[i], NULL)
                                                     : g_strdup(names->pdata[i]);
                        vh_unit_snapshot_at(root, child, content, out);
                }
        } else if (content) {
                g_autoptr(GError) error = NULL;
                g_autofree char *data = NULL, *sum = NULL;
                gsize size = 0;

                g_file_get_contents(path, &data, &size, &error);
                g_assert_no_error(error);
                sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) data, size);
                g_ptr_array_add(out, g_strdup_printf("%s %o %s", rel, (unsigned) (st.st_mode & 07777), sum));
        } else
                /* any write changes the modification time, a replacement the inode */
                g_ptr_array_add(out, g_strdup_printf("%s %o size %lld ino %llu mtime %lld.%09ld", rel,
                                                     (unsigned) (st.st_mode & 07777), (long long) st.st_size,
                                                     (unsigned long long) st.st_ino, (long long) st.st_mtim.tv_sec,
                                                     (long) st.st_mtim.tv_nsec));
}

/* Every entry beneath root: directories with their mode, files with mode
 * and a checksum of their content, symlinks with their target. */
static inline GPtrArray *vh_unit_snapshot(const char *root) {
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        vh_unit_snapshot_at(root, NULL, TRUE, out);
        return out;
}

/* The same without reading files: size, inode and modification time stand
 * for the content (stricter: rewriting the same bytes shows too). Cheap
 * enough to take after every call under test. */
static inline GPtrArray *vh_unit_snapshot_meta(const char *root) {
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        vh_unit_snapshot_at(root, NULL, FALSE, out);
        return out;
}

static inline void vh_unit_assert_same_snapshot(const char *root, GPtrArray *before, GPtrArray *after) {
        for (guint i = 0; i < before->len || i < after->len; i++) {
                const char *b = i < before->len ? before->pdata[i] : "(nothing)";
                const char *a = i < after->len ? after->pdata[i] : "(nothing)";

                if (!g_str_equal(a, b))
                        g_error("tree %s changed: entry %u was '%s', is '%s'", root, i, b, a);
        }
}

/* Asserts that the tree at root is byte for byte what before (from
 * vh_unit_snapshot) recorded, naming the first difference. */
static inline void vh_unit_assert_tree_unchanged(const char *root, GPtrArray *before) {
        g_autoptr(GPtrArray) after = vh_unit_snapshot(root);

        vh_unit_assert_same_snapshot(root, before, after);
}

/* The same against a vh_unit_snapshot_meta() snapshot. */
static inline void vh_unit_assert_tree_untouched(const char *root, GPtrArray *before_meta) {
        g_autoptr(GPtrArray) after = vh_unit_snapshot_meta(root);

        vh_unit_assert_same_snapshot(root, before_meta, after);
}

/* lspci's machine-readable view of a tree: slot -> (tag -> value), from
 * `lspci -A linux-sysfs -O sysfs.path=<root>/sys/bus/pci -vmm -D`. NULL
 * when lspci is not installed. */
static inline GHashTable *vh_unit_lspci(const char *root) {
        g_autoptr(GError) error = NULL;
        g_autofree char *lspci = g_find_program_in_path("lspci");
        g_autofree char *param = NULL, *out = NULL, *err = NULL;
        g_auto(GStrv) lines = NULL;
        GHashTable *all, *cur = NULL;
        int status = 0;

        if (!lspci) {
                const char *sbin[] = { "/usr/bin/lspci", "/usr/sbin/lspci", "/sbin/lspci", NULL };
                for (size_t i = 0; sbin[i] && !lspci; i++)
                        if (g_file_test(sbin[i], G_FILE_TEST_IS_EXECUTABLE))
                                lspci = g_strdup(sbin[i]);
        }
        if (!lspci)
                return NULL;

        param = g_strdup_printf("sysfs.path=%s/sys/bus/pci", root);
        const char *argv[] = { lspci, "-A", "linux-sysfs", "-O", param, "-vmm", "-D", NULL };
        g_spawn_sync(NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("lspci failed on %s: %s", root, err);

        all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
        lines = g_strsplit(out, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                char *tab = strchr(lines[i], '\t');
                g_autofree char *tag = NULL;

                if (!lines[i][0]) {
                        cur = NULL;
                        continue;
                }
                g_assert_nonnull(tab);
                tag = g_strndup(lines[i], tab - lines[i]);
                g_assert_true(g_str_has_suffix(tag, ":"));
                tag[strlen(tag) - 1] = 0;
                if (g_str_equal(tag, "Slot")) {
                        cur = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                        g_hash_table_insert(all, g_strdup(tab + 1), cur);
                }
                g_assert_nonnull(cur);
                /* -vmm prints "Device" twice only with -k; keep the first. */
                if (!g_hash_table_contains(cur, tag))
                        g_hash_table_insert(cur, g_steal_pointer(&tag), g_strdup(tab + 1));
        }
        return all;
}

/* Gives the function at address in a copy 4096 bytes of config space: its
 * fixture's header, then an AER capability at 0x100 pointing to a PCIe
 * Device Serial Number at 0x148 holding serial. */
static inline void vh_unit_write_config_with_serial(const char *root, const char *address, guint64 serial) {
        g_autofree char *path = g_build_filename(root, "sys/bus/pci/devices", address, "config", NULL);
        g_autofree char *old = NULL;
        g_autofree guint8 *c = g_malloc0(4096);
        gsize size = 0;

        g_assert_true(g_file_get_contents(path, &old, &size, NULL));
        memcpy(c, old, MIN(size, 256));
        /* AER (id 1, version 2), next 0x148. */
        c[0x100] = 0x01; c[0x101] = 0x00; c[0x102] = 0x82; c[0x103] = 0x14;
        /* DSN (id 3, version 1), last. */
        c[0x148] = 0x03; c[0x149] = 0x00; c[0x14a] = 0x01; c[0x14b] = 0x00;
        for (int i = 0; i < 8; i++)
                c[0x14c + i] = (guint8) (serial >> (8 * i));
        g_assert_true(g_file_set_contents(path, (const char *) c, 4096, NULL));
}

/* The fixture hosts (tests/data/README.md). */
static const char *const vh_unit_hosts[] = {
        "amd-desktop",
        "desktop-intel",
        "desktop-vfio-bound",
        "desktop-vmd",
        "no-iommu",
        "server-sriov",
};
