/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-idle-bindings: the journal's finished binds that no process holds and
 * no persistent assignment asks for (docs/vms.md, "Idle on vfio-pci"), on
 * a copy of desktop-vfio-bound: vfiohost bound 01:00.0 and 01:00.1
 * (IOMMU group 2) to vfio-pci, and QEMU (pid 3456) holds /dev/vfio/2. */

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "vh-assignments.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-idle-bindings.h"
#include "vh-journal.h"
#include "vh-pci-names.h"
#include "vh-unit.h"

typedef struct {
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
        VhHost *host;
        VhJournal *journal;
        VhIdleBinding *idle;
        size_t n_idle;
} Fixture;

static void reload(Fixture *f) {
        vh_host_free(f->host);
        f->host = NULL;
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->host), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host("desktop-vfio-bound");
        g_assert_cmpint(vh_hostfs_new(f->copy, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        reload(f);
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &f->journal), ==, 0);
        g_assert_cmpuint(f->journal->n_entries, ==, 2);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_idle_bindings_free(f->idle, f->n_idle);
        vh_journal_free(f->journal);
        vh_host_free(f->host);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static void find(Fixture *f, const VhAssignments *a, gboolean unreadable) {
        vh_idle_bindings_free(f->idle, f->n_idle);
        f->idle = NULL;
        f->n_idle = 0;
        g_assert_cmpint(vh_idle_bindings_find(f->fs, f->host, f->journal, a, unreadable, &f->idle, &f->n_idle), ==, 0);
}

/* The VM stops: its process is gone. */
static void stop_vm(Fixture *f) {
        g_autofree char *dir = g_build_filename(f->copy, "proc", "3456", NULL);

        vh_unit_rm_rf_at(dir);
}

static void test_held(Fixture *f, gconstpointer data) {
        find(f, NULL, FALSE);
        g_assert_cmpuint(f->n_idle, ==, 0);
}

static void test_idle(Fixture *f, gconstpointer data) {
        g_autofree char *text = NULL;

        stop_vm(f);
        find(f, NULL, FALSE);
        g_assert_cmpuint(f->n_idle, ==, 2);
        g_assert_cmpstr(f->idle[0].address, ==, "0000:01:00.0");
        g_assert_cmpstr(f->idle[0].driver, ==, "vfio-pci");
        g_assert_cmpstr(f->idle[0].original_driver, ==, "nvidia");
        g_assert_true(f->idle[0].original_known);
        g_assert_cmpuint(f->idle[0].since_usec, ==, G_GUINT64_CONSTANT(1718031602153071));
        g_assert_cmpstr(f->idle[1].address, ==, "0000:01:00.1");
        g_assert_cmpstr(f->idle[1].original_driver, ==, "snd_hda_intel");

        text = vh_idle_bindings_describe(f->idle, f->n_idle);
        g_assert_cmpstr(text, ==,
                        "0000:01:00.0 (on vfio-pci since 2024-06-10 15:00 UTC; unbinding gives it back to nvidia), "
                        "0000:01:00.1 (on vfio-pci since 2024-06-10 15:00 UTC; unbinding gives it back to "
                        "snd_hda_intel)");
}

/* What an assignment asks for is not idle: it waits for its VM. A group
 * assignment covers both; a damaged store may ask for anything. */
static void test_assigned(Fixture *f, gconstpointer data) {
        VhAssignment entry = { .address = "0000:01:00.0", .driver = (char *) "vfio-pci" };
        VhAssignments store = { .entries = &entry, .n = 1 };

        stop_vm(f);
        find(f, &store, FALSE);
        g_assert_cmpuint(f->n_idle, ==, 1);
        g_assert_cmpstr(f->idle[0].address, ==, "0000:01:00.1");

        entry.group = true;
        find(f, &store, FALSE);
        g_assert_cmpuint(f->n_idle, ==, 0);

        find(f, NULL, TRUE);
        g_assert_cmpuint(f->n_idle, ==, 0);
}

/* Only finished binds of ours, on the driver we put them on, of the same
 * card: an entry on its way, a function back on its driver, or another
 * card at the address is not claimed. */
static void test_not_ours(Fixture *f, gconstpointer data) {
        stop_vm(f);
        f->journal->entries[0].state = VH_JOURNAL_BINDING;
        f->journal->entries[1].has_identity = true;
        f->journal->entries[1].identity.vendor = 0x1002;
        find(f, NULL, FALSE);
        g_assert_cmpuint(f->n_idle, ==, 0);

        f->journal->entries[0].state = VH_JOURNAL_BOUND;
        free(f->journal->entries[0].driver);
        f->journal->entries[0].driver = g_strdup("nvgrace-gpu-vfio-pci");
        find(f, NULL, FALSE);
        g_assert_cmpuint(f->n_idle, ==, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/idle-bindings/held", test_held);
        ADD("/idle-bindings/idle", test_idle);
        ADD("/idle-bindings/assigned", test_assigned);
        ADD("/idle-bindings/not-ours", test_not_ours);
        return g_test_run();
}
