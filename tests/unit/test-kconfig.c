/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-kconfig: the running kernel's configuration from /proc/config.gz
 * (IKCONFIG_PROC) or /boot/config-<release>, both beneath the root; values
 * y, m, "is not set", absent and others; symbols matched whole (VFIO is not
 * VFIO_PCI); damaged, truncated and oversized gzip refused. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <zlib.h>

#include "vh-hostfs.h"
#include "vh-kconfig.h"
#include "vh-unit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhKconfig, vh_kconfig_free)

typedef struct {
        char *copy;
        VhHostFs *fs;
} Fixture;

static void open_root(Fixture *f, const char *root) {
        g_clear_pointer(&f->fs, vh_hostfs_free);
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
}

static void setup(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        open_root(f, dir);
}

static void setup_copy(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host(data);
        open_root(f, f->copy);
}

static void setup_empty(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_empty_root();
        open_root(f, f->copy);
}

static void teardown(Fixture *f, gconstpointer data) {
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

/* Writes content gzip'ed (as IKCONFIG_PROC embeds it) to root/rel. */
static void write_gz(const char *root, const char *rel, const char *content, size_t size) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        gzFile gz;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        gz = gzopen(path, "wb9");
        g_assert_nonnull(gz);
        if (size > 0)
                g_assert_cmpint(gzwrite(gz, content, (unsigned) size), ==, (int) size);
        g_assert_cmpint(gzclose(gz), ==, Z_OK);
}

static char *read_gz(const char *root, const char *rel) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autoptr(GString) s = g_string_new(NULL);
        char buf[65536];
        gzFile gz = gzopen(path, "rb");
        int n;

        g_assert_nonnull(gz);
        while ((n = gzread(gz, buf, sizeof(buf))) > 0)
                g_string_append_len(s, buf, n);
        g_assert_cmpint(n, ==, 0);
        gzclose(gz);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static VhKconfig *load(Fixture *f) {
        VhKconfig *k = NULL;

        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, 0);
        g_assert_nonnull(k);
        return k;
}

#define assert_value(k, sym, expected) \
        do { \
                VhKconfigValue _v = vh_kconfig_get((k), (sym)); \
                if (_v != (expected)) \
                        g_error("CONFIG_%s: %d, expected %d (%s)", (sym), (int) _v, (int) (expected), #expected); \
        } while (0)

/* desktop-intel (Arch) has /proc/config.gz and no /boot/config. */
static void test_proc_config_gz(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = NULL;

        g_assert_false(vh_hostfs_exists(f->fs, "boot/config-6.9.7-arch1-1", NULL));
        k = load(f);
        g_assert_cmpstr(vh_kconfig_source(k), ==, "/proc/config.gz");
        assert_value(k, "VFIO", VH_KCONFIG_MODULE);
        assert_value(k, "VFIO_PCI", VH_KCONFIG_MODULE);
        assert_value(k, "VFIO_IOMMU_TYPE1", VH_KCONFIG_MODULE);
        assert_value(k, "VFIO_GROUP", VH_KCONFIG_BUILTIN);
        assert_value(k, "VFIO_DEVICE_CDEV", VH_KCONFIG_BUILTIN);
        assert_value(k, "IOMMUFD", VH_KCONFIG_MODULE);
        assert_value(k, "KVM", VH_KCONFIG_MODULE);
        assert_value(k, "KVM_INTEL", VH_KCONFIG_MODULE);
        assert_value(k, "INTEL_IOMMU", VH_KCONFIG_BUILTIN);
        assert_value(k, "IKCONFIG_PROC", VH_KCONFIG_BUILTIN);
        /* "# CONFIG_X is not set" */
        assert_value(k, "INTEL_IOMMU_DEFAULT_ON", VH_KCONFIG_UNSET);
        assert_value(k, "KVM_XEN", VH_KCONFIG_UNSET);
        /* absent: AMD_IOMMU_V2 is gone from 6.7 on */
        assert_value(k, "AMD_IOMMU_V2", VH_KCONFIG_UNSET);
        assert_value(k, "NO_SUCH_SYMBOL", VH_KCONFIG_UNSET);
        /* numbers and strings */
        assert_value(k, "NR_CPUS", VH_KCONFIG_OTHER);
        assert_value(k, "CC_VERSION_TEXT", VH_KCONFIG_OTHER);
        assert_value(k, "LOCALVERSION", VH_KCONFIG_OTHER);
}

/* amd-desktop (Debian 12) has /boot/config-<release> only. */
static void test_boot_config(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = NULL;

        g_assert_false(vh_hostfs_exists(f->fs, "proc/config.gz", NULL));
        k = load(f);
        g_assert_cmpstr(vh_kconfig_source(k), ==, "/boot/config-6.1.0-18-amd64");
        assert_value(k, "VFIO", VH_KCONFIG_MODULE);
        assert_value(k, "VFIO_VIRQFD", VH_KCONFIG_MODULE);   /* a module of its own before 6.2 */
        assert_value(k, "KVM_AMD", VH_KCONFIG_MODULE);
        assert_value(k, "AMD_IOMMU", VH_KCONFIG_BUILTIN);
        assert_value(k, "AMD_IOMMU_V2", VH_KCONFIG_MODULE);
        assert_value(k, "IOMMUFD", VH_KCONFIG_UNSET);         /* no such symbol in 6.1 */
        assert_value(k, "VFIO_GROUP", VH_KCONFIG_UNSET);
        assert_value(k, "IKCONFIG", VH_KCONFIG_UNSET);
}

/* desktop-vfio-bound (Ubuntu) has VFIO built in. */
static void test_builtin(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = load(f);

        g_assert_cmpstr(vh_kconfig_source(k), ==, "/boot/config-6.8.0-45-generic");
        assert_value(k, "VFIO", VH_KCONFIG_BUILTIN);
        assert_value(k, "VFIO_PCI", VH_KCONFIG_BUILTIN);
        assert_value(k, "IOMMUFD", VH_KCONFIG_BUILTIN);
}

/* no-iommu's kernel has no VFIO: "# CONFIG_VFIO is not set" and none of
 * its sub-options, while VFIO_* lookalikes elsewhere stay apart. */
static void test_vfio_not_set(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = load(f);

        assert_value(k, "VFIO", VH_KCONFIG_UNSET);
        assert_value(k, "VFIO_PCI", VH_KCONFIG_UNSET);
        assert_value(k, "KVM_INTEL", VH_KCONFIG_MODULE);
        assert_value(k, "INTEL_IOMMU", VH_KCONFIG_BUILTIN);
}

/* vm-guest: a kernel without modules, config in /proc/config.gz. */
static void test_guest_kernel(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = load(f);

        g_assert_cmpstr(vh_kconfig_source(k), ==, "/proc/config.gz");
        assert_value(k, "MODULES", VH_KCONFIG_UNSET);
        assert_value(k, "KVM", VH_KCONFIG_UNSET);
        assert_value(k, "VFIO", VH_KCONFIG_UNSET);
        assert_value(k, "AMD_IOMMU", VH_KCONFIG_UNSET);
        assert_value(k, "IOMMU_SUPPORT", VH_KCONFIG_BUILTIN);
        assert_value(k, "TUN", VH_KCONFIG_BUILTIN);
        assert_value(k, "VHOST_NET", VH_KCONFIG_UNSET);
}

/* A symbol matches only at a line start, whole, followed by '=': VFIO is not
 * VFIO_PCI nor NOVFIO, a comment is no assignment, the first and the last
 * line (without a newline) count. */
static void test_prefix_safety(Fixture *f, gconstpointer data) {
        static const char config[] =
                "CONFIG_VFIO_PCI=y\n"
                "# CONFIG_VFIO is not set\n"
                "CONFIG_NOVFIO=y\n"
                "#CONFIG_KVM=y\n"
                "  CONFIG_TUN=y\n"
                "# CONFIG_VHOST_NET=y is a comment\n"
                "CONFIG_VFIO_PCI_CORE=m\n"
                "CONFIG_HUGETLBFS=n\n"
                "CONFIG_NR_CPUS=64\n"
                "CONFIG_LAST=m";
        g_autoptr(VhKconfig) k = NULL;

        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "6.9.0-test\n");
        vh_unit_write_file(f->copy, "boot/config-6.9.0-test", config);
        k = load(f);
        g_assert_cmpstr(vh_kconfig_source(k), ==, "/boot/config-6.9.0-test");
        assert_value(k, "VFIO", VH_KCONFIG_UNSET);
        assert_value(k, "VFIO_PCI", VH_KCONFIG_BUILTIN);
        assert_value(k, "VFIO_PCI_CORE", VH_KCONFIG_MODULE);
        assert_value(k, "VFIO_P", VH_KCONFIG_UNSET);
        assert_value(k, "FIO_PCI", VH_KCONFIG_UNSET);
        assert_value(k, "NOVFIO", VH_KCONFIG_BUILTIN);
        assert_value(k, "KVM", VH_KCONFIG_UNSET);
        assert_value(k, "TUN", VH_KCONFIG_UNSET);
        assert_value(k, "VHOST_NET", VH_KCONFIG_UNSET);
        assert_value(k, "HUGETLBFS", VH_KCONFIG_UNSET);
        assert_value(k, "NR_CPUS", VH_KCONFIG_OTHER);
        assert_value(k, "LAST", VH_KCONFIG_MODULE);
        assert_value(k, "", VH_KCONFIG_UNSET);
}

/* Both present: the running kernel's own /proc/config.gz wins over a file
 * in /boot that may belong to a rebuilt package. */
static void test_config_gz_preferred(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = NULL;

        g_assert_true(vh_hostfs_exists(f->fs, "boot/config-6.1.0-18-amd64", NULL));
        write_gz(f->copy, "proc/config.gz", "CONFIG_VFIO=y\n", strlen("CONFIG_VFIO=y\n"));
        k = load(f);
        g_assert_cmpstr(vh_kconfig_source(k), ==, "/proc/config.gz");
        assert_value(k, "VFIO", VH_KCONFIG_BUILTIN);
        assert_value(k, "KVM_AMD", VH_KCONFIG_UNSET);
}

/* The same text gzip'ed and plain reads the same. */
static void test_gz_roundtrip(Fixture *f, gconstpointer data) {
        g_autofree char *text = read_gz(f->copy, "proc/config.gz");
        g_autoptr(VhKconfig) gz = NULL, plain = NULL;
        static const char *const symbols[] = {
                "VFIO", "VFIO_PCI", "KVM", "KVM_INTEL", "KVM_AMD", "INTEL_IOMMU", "INTEL_IOMMU_DEFAULT_ON",
                "IRQ_REMAP", "IOMMUFD", "VFIO_DEVICE_CDEV", "HUGETLBFS", "VHOST_NET", "TUN", "NR_CPUS",
        };

        g_assert_true(g_str_has_prefix(text, "#\n# Automatically generated file; DO NOT EDIT.\n"));
        gz = load(f);
        vh_unit_unlink(f->copy, "proc/config.gz");
        vh_unit_write_file(f->copy, "boot/config-6.9.7-arch1-1", text);
        plain = load(f);
        g_assert_cmpstr(vh_kconfig_source(plain), ==, "/boot/config-6.9.7-arch1-1");
        for (size_t i = 0; i < G_N_ELEMENTS(symbols); i++)
                g_assert_cmpint(vh_kconfig_get(gz, symbols[i]), ==, vh_kconfig_get(plain, symbols[i]));
}

/* A config.gz that is not gzip, truncated, or corrupted is refused (not
 * read as text, not a crash). */
static void test_damaged_gzip(Fixture *f, gconstpointer data) {
        g_autofree char *path = g_build_filename(f->copy, "proc", "config.gz", NULL);
        g_autofree char *good = NULL;
        gsize size = 0;
        VhKconfig *k = NULL;

        g_assert_true(g_file_get_contents(path, &good, &size, NULL));
        g_assert_cmpuint(size, >, 64);

        /* plain text where gzip belongs */
        vh_unit_write_file(f->copy, "proc/config.gz", "CONFIG_VFIO=y\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), <, 0);
        g_assert_null(k);

        /* cut in the middle of the stream */
        g_assert_true(g_file_set_contents(path, good, (gssize) size / 2, NULL));
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), <, 0);
        g_assert_null(k);

        /* only the header */
        g_assert_true(g_file_set_contents(path, good, 10, NULL));
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), <, 0);
        g_assert_null(k);

        /* a flipped byte in the deflate data (the CRC or the stream breaks) */
        good[size / 2] ^= 0x5a;
        g_assert_true(g_file_set_contents(path, good, (gssize) size, NULL));
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), <, 0);
        g_assert_null(k);

        /* empty file */
        vh_unit_write_file(f->copy, "proc/config.gz", "");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), <, 0);
        g_assert_null(k);
}

/* An empty gzip stream is an empty config: everything unset. */
static void test_empty_config(Fixture *f, gconstpointer data) {
        g_autoptr(VhKconfig) k = NULL;

        write_gz(f->copy, "proc/config.gz", "", 0);
        k = load(f);
        assert_value(k, "VFIO", VH_KCONFIG_UNSET);
        assert_value(k, "KVM", VH_KCONFIG_UNSET);
}

/* A gzip bomb: far beyond any kernel config, refused with -EFBIG. (The
 * buffer grows by doubling and stops past 16 MiB, so what is refused for
 * sure is anything beyond 32 MiB.) */
static void test_oversized(Fixture *f, gconstpointer data) {
        const size_t size = 33u * 1024u * 1024u;
        g_autofree char *big = g_malloc(size);
        VhKconfig *k = NULL;

        for (size_t i = 0; i < size; i += 16)
                memcpy(big + i, "# CONFIG_X=y 1\n\n", 16);
        write_gz(f->copy, "proc/config.gz", big, size);
        /* refused, and like any unusable config.gz, /boot is asked instead:
         * none there yet */
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);
        g_assert_null(k);

        /* with /boot/config-<release> present, that one is read */
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "6.9.7-arch1-1\n");
        vh_unit_write_file(f->copy, "boot/config-6.9.7-arch1-1", "CONFIG_VFIO=m\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, 0);
        g_assert_cmpstr(vh_kconfig_source(k), ==, "/boot/config-6.9.7-arch1-1");
        g_assert_cmpint(vh_kconfig_get(k, "VFIO"), ==, VH_KCONFIG_MODULE);
        vh_kconfig_free(k);
}

/* A large but plausible config (a few MiB) still loads, its last line too. */
static void test_large(Fixture *f, gconstpointer data) {
        g_autoptr(GString) s = g_string_new(NULL);
        g_autoptr(VhKconfig) k = NULL;

        for (unsigned i = 0; i < 100000; i++)
                g_string_append_printf(s, "CONFIG_FILLER_%u=y\n", i);
        g_string_append(s, "CONFIG_VFIO=m\n");
        write_gz(f->copy, "proc/config.gz", s->str, s->len);
        k = load(f);
        assert_value(k, "VFIO", VH_KCONFIG_MODULE);
        assert_value(k, "FILLER_99999", VH_KCONFIG_BUILTIN);
        assert_value(k, "FILLER_9999", VH_KCONFIG_BUILTIN);
}

/* Neither file: -ENOENT. The release is read beneath the root and never
 * leaves boot/ (no "..", no '/'). */
static void test_missing(Fixture *f, gconstpointer data) {
        VhKconfig *k = NULL;

        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);
        g_assert_null(k);

        /* a release, but no config for it */
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "6.9.0-test\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);

        /* a config for another release only */
        vh_unit_write_file(f->copy, "boot/config-6.8.0-other", "CONFIG_VFIO=y\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);

        /* a release that would climb out of boot/ */
        vh_unit_write_file(f->copy, "etc/config-x", "CONFIG_VFIO=y\n");
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "../etc/x\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);
        vh_unit_write_file(f->copy, "boot/config-..", "CONFIG_VFIO=y\n");
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "..\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "\n");
        g_assert_cmpint(vh_kconfig_load(f->fs, &k), ==, -ENOENT);
        g_assert_null(k);

        /* and then the right one */
        vh_unit_write_file(f->copy, "proc/sys/kernel/osrelease", "6.8.0-other\n");
        {
                g_autoptr(VhKconfig) ok = load(f);
                g_assert_cmpstr(vh_kconfig_source(ok), ==, "/boot/config-6.8.0-other");
                assert_value(ok, "VFIO", VH_KCONFIG_BUILTIN);
        }
}

static void test_free_null(void) {
        g_assert_null(vh_kconfig_free(NULL));
}

#define ADD(path, host, s, fn) g_test_add(path, Fixture, host, s, fn, teardown)

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        ADD("/kconfig/proc-config-gz", "desktop-intel", setup, test_proc_config_gz);
        ADD("/kconfig/boot-config", "amd-desktop", setup, test_boot_config);
        ADD("/kconfig/builtin", "desktop-vfio-bound", setup, test_builtin);
        ADD("/kconfig/vfio-not-set", "no-iommu", setup, test_vfio_not_set);
        ADD("/kconfig/guest-kernel", "vm-guest", setup, test_guest_kernel);
        ADD("/kconfig/prefix-safety", "no-iommu", setup_copy, test_prefix_safety);
        ADD("/kconfig/config-gz-preferred", "amd-desktop", setup_copy, test_config_gz_preferred);
        ADD("/kconfig/gz-roundtrip", "desktop-intel", setup_copy, test_gz_roundtrip);
        ADD("/kconfig/damaged-gzip", "desktop-intel", setup_copy, test_damaged_gzip);
        ADD("/kconfig/empty", NULL, setup_empty, test_empty_config);
        ADD("/kconfig/oversized", NULL, setup_empty, test_oversized);
        ADD("/kconfig/large", NULL, setup_empty, test_large);
        ADD("/kconfig/missing", NULL, setup_empty, test_missing);
        g_test_add_func("/kconfig/free-null", test_free_null);

        return g_test_run();
}
