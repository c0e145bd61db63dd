/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-vf-count: every refusal of the plan (its error code, a message naming
 * the blocker, and not one byte of the tree changed, the holder check and
 * dry runs included), the no-op and dry-run plans, the journal's VF count
 * records, rollback after an injected write fault, and reconcile. Each
 * case has a copy of server-sriov-vfs of its own (tests/data/README.md):
 * 3b:00.0 with 2 VFs (VF0 iavf carrying the default route, VF1 vfio-pci),
 * 3b:00.1 able to create 8, 3b:00.2 driverless, 3b:00.3 on vfio-pci.
 *
 * VFs appearing is the bus tests' job (tests/bus/test-vf-count.c): without
 * a kernel nothing reacts to sriov_numvfs here. */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "vh-binder.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-journal.h"
#include "vh-pci-names.h"
#include "vh-strv.h"
#include "vh-unit.h"
#include "vh-vf-count.h"

#define HOST "server-sriov-vfs"
#define PF_VFS     "0000:3b:00.0"
#define PF_EMPTY   "0000:3b:00.1"
#define PF_NODRV   "0000:3b:00.2"
#define PF_VFIO    "0000:3b:00.3"
#define AUTOPROBE(pf) "sys/bus/pci/devices/" pf "/sriov_drivers_autoprobe"
#define JOURNAL "var/lib/vfiohost/journal.json"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhVfCountPlan, vh_vf_count_plan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhJournal, vh_journal_free)

typedef struct {
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
        VhHost *host;
        VhBinder *binder;
        GPtrArray *before;
        gboolean writes;                /* the case writes on purpose: no unchanged check */
} Fixture;

static void open_all(Fixture *f) {
        vh_host_free(f->host);
        vh_binder_free(f->binder);
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->host), ==, 0);
        g_assert_cmpint(vh_binder_new(f->fs, VH_JOURNAL_DEFAULT_DIR, 5 * G_USEC_PER_SEC, &f->binder), ==, 0);
}

static void setup(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host(HOST);
        g_assert_cmpint(vh_hostfs_new(f->copy, &f->fs), ==, 0);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        open_all(f);
        f->before = vh_unit_snapshot(f->copy);
}

static void teardown(Fixture *f, gconstpointer data) {
        if (!f->writes)
                vh_unit_assert_tree_unchanged(f->copy, f->before);
        g_ptr_array_unref(f->before);
        vh_binder_free(f->binder);
        vh_host_free(f->host);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

/* Plans (and, when the plan passes, executes: the holder check) and expects
 * the refusal code with every needle in its message. */
static void refused(Fixture *f, const char *pf, unsigned count, VhVfCountOptions o, VhErrorCode code,
                    const char *const *needles) {
        VhVfCountPlan *p = NULL;
        VhError e = VH_ERROR_NULL;
        int r;

        r = vh_vf_count_plan(f->binder, f->host, pf, count, &o, &p, &e);
        if (r >= 0) {
                r = vh_vf_count_execute(f->binder, p, &e);
                vh_vf_count_plan_free(p);
        }
        g_assert_cmpint(r, <, 0);
        g_assert_cmpint(e.code, ==, code);
        g_test_message("%s", e.message);
        for (size_t i = 0; needles && needles[i]; i++)
                if (!strstr(e.message, needles[i]))
                        g_error("'%s' not in: %s", needles[i], e.message);
        vh_error_clear(&e);
        vh_unit_assert_tree_unchanged(f->copy, f->before);
}

#define NEEDLES(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void test_invalid_address(Fixture *f, gconstpointer data) {
        refused(f, "3b:00.1", 2, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ADDRESS, NULL);
        refused(f, "0000:3b:00.1/../..", 2, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ADDRESS, NULL);
        refused(f, "0000:99:00.0", 2, (VhVfCountOptions) {}, VH_ERROR_CODE_NOT_FOUND, NEEDLES("0000:99:00.0"));
}

static void test_not_a_pf(Fixture *f, gconstpointer data) {
        refused(f, "0000:3b:02.0", 1, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("virtual function of 0000:3b:00.0"));
        refused(f, "0000:af:00.0", 1, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("0000:af:00.0", "not an SR-IOV physical function"));
}

static void test_over_total(Fixture *f, gconstpointer data) {
        refused(f, PF_EMPTY, 9, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ARGS, NEEDLES("at most 8", "9 were"));
        refused(f, PF_EMPTY, 9, (VhVfCountOptions) { .dry_run = true }, VH_ERROR_CODE_INVALID_ARGS, NULL);
}

static void test_pf_cannot(Fixture *f, gconstpointer data) {
        refused(f, PF_NODRV, 2, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ARGS, NEEDLES("no driver bound"));
        refused(f, PF_VFIO, 2, (VhVfCountOptions) {}, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("vfio-pci", "enable_sriov", "/sys/module/vfio_pci/parameters/enable_sriov",
                        "modprobe vfio-pci enable_sriov=1"));
        refused(f, PF_VFIO, 2, (VhVfCountOptions) { .dry_run = true }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("enable_sriov"));
}

/* With the parameter set, vfio-pci may create VFs. */
static void test_vfio_pf_enabled(Fixture *f, gconstpointer data) {
        g_autoptr(VhVfCountPlan) p = NULL;
        VhVfCountOptions o = { .dry_run = true };
        VhError e = VH_ERROR_NULL;

        vh_unit_write_file(f->copy, "sys/module/vfio_pci/parameters/enable_sriov", "Y\n");
        g_ptr_array_unref(f->before);
        f->before = vh_unit_snapshot(f->copy);
        g_assert_cmpint(vh_vf_count_plan(f->binder, f->host, PF_VFIO, 2, &o, &p, &e), ==, 0);
        g_assert_cmpuint(p->n_vfs, ==, 2);
        /* 3b:00.3 + 37 = 3b:05.0 */
        g_assert_cmpstr(p->vfs[0].address, ==, "0000:3b:05.0");
        g_assert_cmpstr(p->vfs[1].address, ==, "0000:3b:05.1");
        g_assert_cmpint(vh_vf_count_execute(f->binder, p, &e), ==, 0);
}

static void test_driver_option(Fixture *f, gconstpointer data) {
        refused(f, PF_EMPTY, 2, (VhVfCountOptions) { .driver = "ixgbevf" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("ixgbevf is not loaded", "modprobe ixgbevf"));
        refused(f, PF_EMPTY, 2, (VhVfCountOptions) { .driver = "../../x" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("not a kernel driver name"));
}

static void test_host_critical_vf(Fixture *f, gconstpointer data) {
        g_autoptr(VhVfCountPlan) p = NULL;
        VhVfCountOptions o = { .force = true, .dry_run = true };
        VhError e = VH_ERROR_NULL;

        /* Any change from 2 removes both VFs, VF0 with the default route. */
        refused(f, PF_VFS, 0, (VhVfCountOptions) {}, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:3b:02.0 (VF 0 of 0000:3b:00.0)", "default route", "ens1f0v0", "force"));
        refused(f, PF_VFS, 4, (VhVfCountOptions) { .dry_run = true }, VH_ERROR_CODE_HOST_CRITICAL, NULL);
        g_assert_cmpint(vh_vf_count_plan(f->binder, f->host, PF_VFS, 0, &o, &p, &e), ==, 0);
        g_assert_cmpuint(vh_strv_length(p->forced), ==, 1);
        g_assert_nonnull(strstr(p->forced[0], "ens1f0v0"));
        /* the PF's group and both VFs' */
        g_assert_cmpuint(p->n_groups, ==, 3);
}

/* A VM holding VF1's /dev/vfio/24: refused, force or not, dry run or not. */
static void test_held_vf(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->copy, "proc/4242/comm", "qemu-system-x86\n");
        vh_unit_write_file(f->copy, "proc/4242/cmdline", "qemu-system-x86_64");
        vh_unit_symlink(f->copy, "proc/4242/fd/20", "/dev/vfio/24");
        g_ptr_array_unref(f->before);
        f->before = vh_unit_snapshot(f->copy);

        refused(f, PF_VFS, 0, (VhVfCountOptions) { .force = true }, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                NEEDLES("0000:3b:02.1", "pid 4242 (qemu-system-x86)", "/dev/vfio/24", "from 2 to 0"));
        refused(f, PF_VFS, 4, (VhVfCountOptions) { .force = true, .dry_run = true },
                VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS, NEEDLES("pid 4242"));
}

static void test_noop_and_dry_run(Fixture *f, gconstpointer data) {
        g_autoptr(VhVfCountPlan) noop = NULL, dry = NULL;
        VhVfCountOptions o = {}, d = { .dry_run = true, .driver = "vfio-pci" };
        VhError e = VH_ERROR_NULL;

        /* The count it has: nothing to check, the VFs listed as they are. */
        g_assert_cmpint(vh_vf_count_plan(f->binder, f->host, PF_VFS, 2, &o, &noop, &e), ==, 0);
        g_assert_true(vh_vf_count_plan_is_noop(noop));
        g_assert_cmpuint(noop->n_vfs, ==, 2);
        g_assert_cmpstr(noop->vfs[0].address, ==, "0000:3b:02.0");
        g_assert_cmpstr(noop->vfs[0].driver, ==, "iavf");
        g_assert_cmpint(noop->vfs[1].iommu_group, ==, 24);
        g_assert_cmpstr(noop->vfs[1].driver, ==, "vfio-pci");
        g_assert_cmpint(vh_vf_count_execute(f->binder, noop, &e), ==, 0);

        g_assert_cmpint(vh_vf_count_plan(f->binder, f->host, PF_EMPTY, 4, &d, &dry, &e), ==, 0);
        g_assert_cmpuint(dry->count_before, ==, 0);
        g_assert_cmpuint(dry->n_vfs, ==, 4);
        g_assert_cmpstr(dry->vfs[0].address, ==, "0000:3b:03.0");
        g_assert_cmpstr(dry->vfs[3].address, ==, "0000:3b:03.3");
        g_assert_cmpint(dry->vfs[3].iommu_group, ==, -1);
        g_assert_cmpint(vh_vf_count_execute(f->binder, dry, &e), ==, 0);
}

/* --read-only refuses every write before it is tried. */
static void test_read_only(Fixture *f, gconstpointer data) {
        g_autoptr(VhVfCountPlan) p = NULL;
        VhVfCountOptions o = {};
        VhError e = VH_ERROR_NULL;

        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_vf_count_plan(f->binder, f->host, PF_EMPTY, 4, &o, &p, &e), ==, 0);
        g_assert_cmpint(vh_vf_count_execute(f->binder, p, &e), <, 0);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_FAILED);
        g_assert_nonnull(strstr(e.message, "journal"));
        vh_error_clear(&e);
}

/* EIO on sriov_numvfs: autoprobe back to 1 after it was 0, the error says
 * where the PF is, no journal record left. ENOENT reads as a driver that
 * cannot create VFs. */
static void fault(Fixture *f, const char *spec, VhErrorCode code, const char *needle) {
        g_autoptr(VhVfCountPlan) p = NULL;
        g_autoptr(VhJournal) j = NULL;
        g_autofree char *autoprobe = NULL;
        VhVfCountOptions o = { .driver = "vfio-pci" };
        VhError e = VH_ERROR_NULL;

        f->writes = TRUE;
        g_assert_cmpint(vh_hostfs_set_faults(f->fs, spec), ==, 0);
        g_assert_cmpint(vh_vf_count_plan(f->binder, f->host, PF_EMPTY, 4, &o, &p, &e), ==, 0);
        g_assert_cmpint(vh_vf_count_execute(f->binder, p, &e), <, 0);
        g_test_message("%s", e.message);
        g_assert_cmpint(e.code, ==, code);
        g_assert_nonnull(strstr(e.message, needle));
        g_assert_nonnull(strstr(e.message, "Now: 0000:3b:00.1 has 0 VFs (it had 0), sriov_drivers_autoprobe restored."));
        vh_error_clear(&e);
        autoprobe = vh_unit_read_file(f->copy, AUTOPROBE(PF_EMPTY));
        g_assert_cmpstr(g_strstrip(autoprobe), ==, "1");
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &j), ==, 0);
        g_assert_cmpuint(j->n_vf_counts, ==, 0);
}

static void test_fault_eio(Fixture *f, gconstpointer data) {
        fault(f, "sriov_numvfs=EIO", VH_ERROR_CODE_FAILED, "writing 4 to sriov_numvfs failed");
}

static void test_fault_enoent(Fixture *f, gconstpointer data) {
        fault(f, "sriov_numvfs=ENODEV", VH_ERROR_CODE_FAILED, "writing 4 to sriov_numvfs failed");
}

static void test_fault_einval(Fixture *f, gconstpointer data) {
        fault(f, "sriov_numvfs=EINVAL", VH_ERROR_CODE_FAILED, "its driver cannot create virtual functions");
}

/* The records survive a round trip, and a damaged one refuses the load. */
static void test_journal(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL, back = NULL;
        VhJournalVfCount e = { .pf = "0000:3B:00.1", .txn = 7, .count_before = 2, .count_after = 4,
                               .driver = (char *) "vfio-pci", .autoprobe_before = true };
        VhJournalVfCount *got;

        f->writes = TRUE;
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &j), ==, 0);
        g_assert_cmpint(vh_journal_put_vf_count(j, &e), ==, 0);
        g_assert_cmpint(vh_journal_save(f->fs, VH_JOURNAL_DEFAULT_DIR, j), ==, 0);
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &back), ==, 0);
        got = vh_journal_find_vf_count(back, PF_EMPTY);
        g_assert_nonnull(got);
        g_assert_cmpuint(got->txn, ==, 7);
        g_assert_cmpuint(got->count_before, ==, 2);
        g_assert_cmpuint(got->count_after, ==, 4);
        g_assert_cmpstr(got->driver, ==, "vfio-pci");
        g_assert_true(got->autoprobe_before);
        g_assert_cmpuint(back->next_txn, >=, 8);
        vh_journal_remove_vf_count(back, PF_EMPTY);
        g_assert_null(vh_journal_find_vf_count(back, PF_EMPTY));

        vh_unit_write_file(f->copy, JOURNAL, "{\"version\": 1, \"devices\": [], \"vf_counts\": "
                           "[{\"pf\": \"0000:3b:00.1\", \"txn\": 1, \"count_before\": 0, \"count_after\": 99999, "
                           "\"time\": 0}]}");
        g_clear_pointer(&back, vh_journal_free);
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &back), ==, -EBADMSG);
        vh_unit_write_file(f->copy, JOURNAL, "{\"version\": 1, \"devices\": [], \"vf_counts\": "
                           "[{\"pf\": \"0000:3b:00.1\", \"txn\": 1, \"count_before\": 0, \"count_after\": 2, "
                           "\"driver\": \"../x\", \"time\": 0}]}");
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &back), ==, -EBADMSG);
}

/* A daemon killed with autoprobe at 0: the next start puts it back and
 * drops the record; the count stays as it is, with a note. */
static void test_reconcile(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;
        g_autofree char *autoprobe = NULL;
        g_auto(GStrv) unfinished = NULL;

        f->writes = TRUE;
        vh_unit_write_file(f->copy, JOURNAL, "{\"version\": 1, \"next_txn\": 5, \"devices\": [], \"vf_counts\": "
                           "[{\"pf\": \"0000:3b:00.1\", \"txn\": 4, \"count_before\": 0, \"count_after\": 4, "
                           "\"driver\": \"vfio-pci\", \"autoprobe_before\": true, \"time\": 1}]}");
        vh_unit_write_file(f->copy, AUTOPROBE(PF_EMPTY), "0\n");
        open_all(f);
        g_assert_cmpint(vh_vf_count_unfinished(f->binder, &unfinished), ==, 0);
        g_assert_cmpuint(g_strv_length(unfinished), ==, 1);
        g_assert_cmpstr(unfinished[0], ==, PF_EMPTY);

        g_assert_cmpint(vh_vf_count_reconcile(f->binder), ==, 1);
        autoprobe = vh_unit_read_file(f->copy, AUTOPROBE(PF_EMPTY));
        g_assert_cmpstr(g_strstrip(autoprobe), ==, "1");
        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &j), ==, 0);
        g_assert_cmpuint(j->n_vf_counts, ==, 0);
        g_assert_cmpuint(j->n_notes, ==, 1);
        g_assert_nonnull(strstr(j->notes[0].text, "left it with 0 VFs"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/vf-count/plan/invalid-address", test_invalid_address);
        ADD("/vf-count/plan/not-a-pf", test_not_a_pf);
        ADD("/vf-count/plan/over-total", test_over_total);
        ADD("/vf-count/plan/pf-cannot", test_pf_cannot);
        ADD("/vf-count/plan/vfio-pf-enabled", test_vfio_pf_enabled);
        ADD("/vf-count/plan/driver-option", test_driver_option);
        ADD("/vf-count/plan/host-critical-vf", test_host_critical_vf);
        ADD("/vf-count/plan/held-vf", test_held_vf);
        ADD("/vf-count/plan/noop-and-dry-run", test_noop_and_dry_run);
        ADD("/vf-count/execute/read-only", test_read_only);
        ADD("/vf-count/execute/fault/eio", test_fault_eio);
        ADD("/vf-count/execute/fault/enodev", test_fault_enoent);
        ADD("/vf-count/execute/fault/einval", test_fault_einval);
        ADD("/vf-count/journal", test_journal);
        ADD("/vf-count/reconcile", test_reconcile);
        return g_test_run();
}
