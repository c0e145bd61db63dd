/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host model on hostile trees: copies of a fixture host edited the way
 * root (or a broken kernel, or a damaged recording) can edit a host.
 *
 *  - Invalid UTF-8 in attributes and link names: every string the model
 *    holds is valid UTF-8, the bad bytes escaped as \xNN (sd-bus refuses
 *    anything else, and one bad byte used to fail GetManagedObjects for
 *    every client).
 *  - FIFOs where files are expected: loading returns at once instead of
 *    blocking in open().
 *
 * Hostfs-level checks (resolution beneath the root, file types, listing)
 * are in test-hostfs.c; the daemon on such trees in tests/bus/test-hostile.c. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-journal.h"
#include "vh-pci-names.h"
#include "vh-readiness.h"
#include "vh-unit.h"

#define GPU "0000:01:00.0"
#define GPU_DIR "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"

typedef struct {
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host(data);
        g_assert_cmpint(vh_hostfs_new(f->copy, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static void assert_utf8(const char *what, const char *s) {
        if (s && !g_utf8_validate(s, -1, NULL)) {
                g_autofree char *shown = g_strescape(s, NULL);
                g_error("%s is not valid UTF-8: \"%s\"", what, shown);
        }
}

static void assert_strv_utf8(const char *what, char **l) {
        for (size_t i = 0; l && l[i]; i++)
                assert_utf8(what, l[i]);
}

/* Every string of the model, as the bus would send it. */
static void assert_host_utf8(const VhHost *h) {
        for (size_t i = 0; i < h->n_devices; i++) {
                const VhPciDevice *d = h->devices[i];

                assert_utf8("address", d->address);
                assert_utf8("vendor name", d->vendor_name);
                assert_utf8("device name", d->device_name);
                assert_utf8("subsystem vendor name", d->subsystem_vendor_name);
                assert_utf8("subsystem name", d->subsystem_name);
                assert_utf8("class name", d->class_name);
                assert_utf8("driver", d->driver);
                assert_utf8("driver_override", d->driver_override);
                assert_strv_utf8("reset_method", d->reset_methods);
                assert_utf8("physfn", d->physfn);
                assert_utf8("vfio group path", d->vfio_group_path);
                assert_utf8("vfio device path", d->vfio_device_path);
                assert_utf8("original driver", d->original_driver);
        }
        for (size_t i = 0; i < h->n_groups; i++) {
                const VhIommuGroup *g = h->groups[i];

                assert_utf8("group type", g->type);
                assert_strv_utf8("group members", g->members);
                assert_utf8("viability reason", g->viability_reason);
                assert_strv_utf8("blockers", g->blockers);
        }
}

static void assert_report_utf8(const VhReport *r) {
        for (size_t i = 0; i < r->n_checks; i++) {
                assert_utf8("check summary", r->checks[i].summary);
                assert_utf8("check detail", r->checks[i].detail);
                assert_utf8("check remedy", r->checks[i].remedy);
                assert_utf8("check source", r->checks[i].source);
        }
}

static void write_raw(const char *root, const char *rel, const char *bytes) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        g_assert_true(g_file_set_contents(path, bytes, -1, NULL));
}

static void symlink_raw(const char *root, const char *rel, const char *target) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        (void) g_unlink(path);
        g_assert_cmpint(symlink(target, path), ==, 0);
}

/* One bad byte in each attribute the issue lists: driver_override (root can
 * write any bytes), reset_method, a group's type, a driver link name,
 * proc/cmdline, osrelease. */
static void make_invalid_utf8(const char *copy) {
        g_autofree char *drv = g_build_filename(copy, "sys/bus/pci/drivers/nvidia", NULL);
        g_autofree char *bad = g_build_filename(copy, "sys/bus/pci/drivers/nv\xe9idia", NULL);

        write_raw(copy, GPU_DIR "/driver_override", "vfio\xff-pci\n");
        write_raw(copy, GPU_DIR "/reset_method", "bus \xc3\x28 flr\n");
        write_raw(copy, "sys/kernel/iommu_groups/2/type", "DMA\xfe\n");
        /* "é" in Latin-1: a driver directory named by a non-UTF-8 locale */
        g_assert_cmpint(g_rename(drv, bad), ==, 0);
        symlink_raw(copy, GPU_DIR "/driver", "../../../../bus/pci/drivers/nv\xe9idia");
        write_raw(copy, "proc/cmdline", "BOOT_IMAGE=/vmlinuz-linux root=UUID=\xf0\x28\x8c\x28 rw intel_iommu=on\n");
        write_raw(copy, "proc/sys/kernel/osrelease", "6.9.7-arch1-1\x80\n");
}

static void test_utf8_model(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        VhHost *h = NULL;
        VhReport *report = NULL;
        const VhPciDevice *d;
        const VhIommuGroup *g;

        make_invalid_utf8(f->copy);

        g_assert_cmpint(vh_host_load(f->fs, f->names, &h), ==, 0);
        assert_host_utf8(h);

        /* escaped, not dropped: what was there stays visible */
        d = vh_host_find_device(h, GPU);
        g_assert_nonnull(d);
        g_assert_cmpstr(d->driver_override, ==, "vfio\\xff-pci");
        g_assert_cmpstr(d->driver, ==, "nv\\xe9idia");
        g_assert_cmpuint(g_strv_length(d->reset_methods), ==, 3);
        g_assert_cmpstr(d->reset_methods[0], ==, "bus");
        g_assert_cmpstr(d->reset_methods[1], ==, "\\xc3(");
        g_assert_cmpstr(d->reset_methods[2], ==, "flr");
        g = vh_host_find_group(h, 2);
        g_assert_nonnull(g);
        g_assert_cmpstr(g->type, ==, "DMA\\xfe");

        /* readiness quotes the command line and the release */
        g_assert_cmpint(vh_readiness_run(f->fs, h, GPU, &report), ==, 0);
        assert_report_utf8(report);

        vh_report_free(report);
        vh_host_free(h);
}

/* Valid UTF-8 beyond ASCII is left alone. */
static void test_utf8_valid_kept(Fixture *f, gconstpointer data) {
        VhHost *h = NULL;
        const VhPciDevice *d;

        write_raw(f->copy, GPU_DIR "/driver_override", "v\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
        g_assert_cmpint(vh_host_load(f->fs, f->names, &h), ==, 0);
        d = vh_host_find_device(h, GPU);
        g_assert_cmpstr(d->driver_override, ==, "v\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        vh_host_free(h);
}

/* ---------- FIFOs where regular files are expected ---------- */

static void make_fifo(const char *root, const char *rel) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        (void) g_unlink(path);
        g_assert_cmpint(mkfifo(path, 0644), ==, 0);
}

/* The subprocess that must finish within two seconds: an open() blocking
 * on a FIFO without a writer would hang the test otherwise. It works on the
 * parent's copy, named in the environment (a fixture would make a new one). */
#define COPY_ENV "VH_UNIT_HOSTILE_COPY"

static void run_within_two_seconds(const char *host, void (*edit)(const char *copy), void (*body)(Fixture *f)) {
        Fixture f = {};

        if (g_test_subprocess()) {
                const char *copy = g_getenv(COPY_ENV);

                g_assert_nonnull(copy);
                g_assert_cmpint(vh_hostfs_new(copy, &f.fs), ==, 0);
                vh_hostfs_set_read_only(f.fs, true);
                g_assert_cmpint(vh_pci_names_new(f.fs, &f.names), ==, 0);
                body(&f);
                vh_pci_names_free(f.names);
                vh_hostfs_free(f.fs);
                return;
        }

        f.copy = vh_unit_copy_host(host);
        edit(f.copy);
        g_setenv(COPY_ENV, f.copy, TRUE);
        g_test_trap_subprocess(NULL, 2 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_unsetenv(COPY_ENV);
        vh_unit_remove_copy(f.copy);
        g_free(f.copy);
        g_test_trap_assert_passed();
}

static void load_and_report(Fixture *f) {
        VhHost *h = NULL;
        VhReport *report = NULL;

        g_assert_cmpint(vh_host_load(f->fs, f->names, &h), ==, 0);
        assert_host_utf8(h);
        g_assert_cmpint(vh_readiness_run(f->fs, h, GPU, &report), ==, 0);
        assert_report_utf8(report);
        vh_report_free(report);
        vh_host_free(h);
}

static void fifos_everywhere(const char *copy) {
        make_fifo(copy, "proc/cmdline");
        make_fifo(copy, "proc/sys/kernel/osrelease");
        make_fifo(copy, "proc/mounts");
        make_fifo(copy, "proc/cpuinfo");
        make_fifo(copy, GPU_DIR "/driver_override");
        make_fifo(copy, GPU_DIR "/reset_method");
        make_fifo(copy, GPU_DIR "/vendor");
        make_fifo(copy, "sys/kernel/iommu_groups/2/type");
        make_fifo(copy, "dev/cpu/0/msr");
}

static void test_fifo_model(void) {
        run_within_two_seconds("desktop-intel", fifos_everywhere, load_and_report);
}

static void load_journal(Fixture *f) {
        VhJournal *j = NULL;

        /* refused with a clear message, not read */
        g_assert_cmpint(vh_journal_load(f->fs, "var/lib/vfiohost", &j), <, 0);
        g_assert_null(j);
}

static void fifo_journal(const char *copy) {
        make_fifo(copy, "var/lib/vfiohost/journal.json");
}

static void test_fifo_journal(void) {
        run_within_two_seconds("desktop-vfio-bound", fifo_journal, load_journal);
}

/* ---------- sizes ---------- */

/* A 1 MiB command line of one-letter words (half a million fields): the
 * report still comes at once (splitting it was quadratic). */
static void huge_cmdline(const char *copy) {
        g_autofree char *path = g_build_filename(copy, "proc/cmdline", NULL);
        g_autofree char *words = g_malloc(1024 * 1024 + 1);

        for (size_t i = 0; i < 1024 * 1024; i += 2) {
                words[i] = 'a';
                words[i + 1] = ' ';
        }
        words[1024 * 1024 - 1] = '\n';
        g_assert_true(g_file_set_contents(path, words, 1024 * 1024, NULL));
}

static void test_huge_cmdline(void) {
        run_within_two_seconds("desktop-intel", huge_cmdline, load_and_report);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add("/hostile/utf8/model", Fixture, "desktop-intel", fixture_setup, test_utf8_model, fixture_teardown);
        g_test_add("/hostile/utf8/valid-kept", Fixture, "desktop-intel", fixture_setup, test_utf8_valid_kept, fixture_teardown);

        g_test_add_func("/hostile/fifo/model", test_fifo_model);
        g_test_add_func("/hostile/fifo/journal", test_fifo_journal);
        g_test_add_func("/hostile/size/cmdline", test_huge_cmdline);

        return g_test_run();
}
