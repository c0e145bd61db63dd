/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-boot-assign and its udev helper: on a PCI function's "add" event the
 * override goes in before a host driver loads, only for the card
 * recorded, never with an unbind of a host driver; a stale early override
 * is undone only when vfiohost recorded it. Against copies of
 * desktop-intel: 01:00.0 (10de:2684, nvidia) and 01:00.1 (snd_hda_intel)
 * share group 2 with the bridge 00:01.0 (pcieport). */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "vh-assignments.h"
#include "vh-boot-assign.h"
#include "vh-unit.h"

#define GPU       "0000:01:00.0"
#define AUDIO     "0000:01:00.1"
#define BRIDGE    "0000:00:01.0"
#define NVME      "0000:02:00.0"
#define SERIAL    0x0123456789abcdefULL
#define STATE_DIR "var/lib/vfiohost"
#define DEV(a, attr) "sys/bus/pci/devices/" a "/" attr
#define PROBE     "sys/bus/pci/drivers_probe"
#define RECORD(a) "run/vfiohost/boot/" a
#define TO_VFIO   "../../../../bus/pci/drivers/vfio-pci"

typedef struct {
        char *root;
        VhHostFs *fs;
        VhBootAssignResult result;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        f->root = vh_unit_copy_host(data ?: "desktop-intel");
        g_assert_cmpint(vh_hostfs_new(f->root, &f->fs), ==, 0);
        if (!data)
                vh_unit_write_config_with_serial(f->root, GPU, SERIAL);
        /* Fixture writes leave what was written; start from empty. */
        vh_unit_write_file(f->root, PROBE, "");
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_boot_assign_result_done(&f->result);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->root);
        g_free(f->root);
}

/* Assigns address to vfio-pci with the identity it has now; vfs > 0:
 * that many VFs on vfio-pci. */
static void assign_vfs(Fixture *f, const char *address, const char *name, bool group, unsigned vfs) {
        g_autoptr(GError) error = NULL;
        VhPciDevice *d = NULL;
        VhAssignments a = {};
        VhAssignment e = { .name = (char *) name, .driver = (char *) "vfio-pci", .group = group, .vfs = vfs };

        g_strlcpy(e.address, address, sizeof(e.address));
        g_assert_cmpint(vh_pci_device_load(f->fs, NULL, address, &d), ==, 0);
        vh_identity_read(f->fs, d, &e.identity);
        vh_pci_device_free(d);
        a.entries = &e;
        a.n = 1;
        g_assert_cmpint(vh_assignments_save(f->fs, STATE_DIR, &a), ==, 0);
}

static void assign(Fixture *f, const char *address, const char *name, bool group) {
        assign_vfs(f, address, name, group, 0);
}

static VhBootAssignState run(Fixture *f, const char *address) {
        vh_boot_assign_result_done(&f->result);
        (void) vh_boot_assign(f->fs, STATE_DIR, address, &f->result);
        return f->result.state;
}

static char *read_rel(Fixture *f, const char *rel) {
        return vh_unit_read_file(f->root, rel);
}

static gboolean exists(Fixture *f, const char *rel) {
        g_autofree char *p = g_build_filename(f->root, rel, NULL);

        return g_file_test(p, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
}

static void assert_content(Fixture *f, const char *rel, const char *want) {
        g_autofree char *s = read_rel(f, rel);

        g_assert_cmpstr(s, ==, want);
}

static void test_state_names(void) {
        g_assert_cmpstr(vh_boot_assign_state_to_string(VH_BOOT_ASSIGN_BOUND_ELSEWHERE), ==, "bound-elsewhere");
        g_assert_cmpstr(vh_boot_assign_state_to_string(VH_BOOT_ASSIGN_RELEASED), ==, "released");
        g_assert_cmpstr(vh_boot_assign_state_to_string(VH_BOOT_ASSIGN_VFS), ==, "vfs");
        g_assert_null(vh_boot_assign_state_to_string(_VH_BOOT_ASSIGN_STATE_MAX));
        for (int s = 0; s < _VH_BOOT_ASSIGN_STATE_MAX; s++)
                g_assert_nonnull(vh_boot_assign_state_to_string(s));
}

/* No driver yet, vfio-pci registered: override, then drivers_probe. The
 * fixture does not bind, so it is pending until the driver link shows. */
static void test_unbound_registered(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) before = NULL;

        vh_unit_unlink(f->root, DEV(GPU, "driver"));
        assign(f, GPU, "gpu", false);

        g_assert_cmpstr(vh_boot_assign_state_to_string(run(f, GPU)), ==, "pending");
        assert_content(f, DEV(GPU, "driver_override"), "vfio-pci");
        assert_content(f, PROBE, GPU);
        assert_content(f, RECORD(GPU), "vfio-pci\n");
        g_assert_cmpstr(f->result.name, ==, "gpu");
        g_assert_cmpstr(f->result.driver, ==, "vfio-pci");
        g_assert_cmpstr(f->result.address, ==, GPU);

        /* vfio-pci took it: applied, and nothing is written again. */
        vh_unit_symlink(f->root, DEV(GPU, "driver"), TO_VFIO);
        before = vh_unit_snapshot_meta(f->root);
        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_APPLIED);
        vh_unit_assert_tree_untouched(f->root, before);
}

/* vfio-pci not loaded yet: the override waits for it; no drivers_probe
 * (the rule loads the module, the driver core attaches it). */
static void test_unbound_unregistered(Fixture *f, gconstpointer data) {
        vh_unit_unlink(f->root, DEV(GPU, "driver"));
        vh_unit_remove_tree(f->root, "sys/bus/pci/drivers/vfio-pci");
        assign(f, GPU, NULL, false);

        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_PENDING);
        assert_content(f, DEV(GPU, "driver_override"), "vfio-pci");
        assert_content(f, PROBE, "");
        g_assert_null(f->result.name);
}

/* A host driver has it: the override is set, nothing is unbound. */
static void test_bound_elsewhere(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) drivers = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) drivers_after = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *link = NULL, *link_path = g_build_filename(f->root, DEV(GPU, "driver"), NULL);

        assign(f, GPU, "gpu", false);
        vh_unit_snapshot_at(f->root, "sys/bus/pci/drivers", TRUE, drivers);

        g_assert_cmpstr(vh_boot_assign_state_to_string(run(f, GPU)), ==, "bound-elsewhere");
        assert_content(f, DEV(GPU, "driver_override"), "vfio-pci");
        assert_content(f, RECORD(GPU), "vfio-pci\n");
        /* No unbind (nor bind, new_id...) under any driver, no probe. */
        vh_unit_snapshot_at(f->root, "sys/bus/pci/drivers", TRUE, drivers_after);
        vh_unit_assert_same_snapshot(f->root, drivers, drivers_after);
        assert_content(f, PROBE, "");
        link = g_file_read_link(link_path, NULL);
        g_assert_true(g_str_has_suffix(link, "/nvidia"));
}

static void assert_nothing_written(Fixture *f, const char *address, VhBootAssignState want) {
        g_autoptr(GPtrArray) before = vh_unit_snapshot(f->root);

        g_assert_cmpstr(vh_boot_assign_state_to_string(run(f, address)), ==, vh_boot_assign_state_to_string(want));
        vh_unit_assert_tree_unchanged(f->root, before);
}

/* Same ids, another serial number: the twin is not the card meant. */
static void test_mismatch_serial(Fixture *f, gconstpointer data) {
        assign(f, GPU, "gpu", false);
        vh_unit_write_config_with_serial(f->root, GPU, SERIAL + 1);

        assert_nothing_written(f, GPU, VH_BOOT_ASSIGN_MISMATCH);
        g_assert_cmphex(f->result.recorded.dsn, ==, SERIAL);
        g_assert_cmphex(f->result.present.dsn, ==, SERIAL + 1);
        g_assert_cmpstr(f->result.name, ==, "gpu");
}

/* Another card in the slot: other ids. */
static void test_mismatch_ids(Fixture *f, gconstpointer data) {
        assign(f, NVME, NULL, false);
        vh_unit_write_file(f->root, DEV(NVME, "device"), "0xa808\n");

        assert_nothing_written(f, NVME, VH_BOOT_ASSIGN_MISMATCH);
        g_assert_cmphex(f->result.present.device, ==, 0xa808);
}

static void test_disabled(Fixture *f, gconstpointer data) {
        vh_unit_unlink(f->root, DEV(GPU, "driver"));
        assign(f, GPU, "gpu", false);
        vh_unit_write_file(f->root, "proc/cmdline", "root=/dev/sda1 vfiohost.assign=1 quiet vfiohost.assign=0\n");
        assert_nothing_written(f, GPU, VH_BOOT_ASSIGN_DISABLED);

        /* The last one counts, as for the kernel. */
        vh_unit_write_file(f->root, "proc/cmdline", "vfiohost.assign=0 vfiohost.assign=1\n");
        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_PENDING);
}

/* Damaged, or from a newer vfiohost: nothing is done. */
static void test_damaged(Fixture *f, gconstpointer data) {
        vh_unit_unlink(f->root, DEV(GPU, "driver"));
        assign(f, GPU, "gpu", false);
        vh_unit_write_file(f->root, STATE_DIR "/assignments.json", "{\"version\": 1, \"assignments\": [");
        assert_nothing_written(f, GPU, VH_BOOT_ASSIGN_ERROR);

        vh_unit_write_file(f->root, STATE_DIR "/assignments.json", "{\"version\": 3, \"assignments\": []}");
        assert_nothing_written(f, GPU, VH_BOOT_ASSIGN_ERROR);
}

/* Unrelated functions, and no file at all: untouched, no record. */
static void test_not_covered(Fixture *f, gconstpointer data) {
        assert_nothing_written(f, GPU, VH_BOOT_ASSIGN_NONE);
        assign(f, GPU, "gpu", false);
        assert_nothing_written(f, AUDIO, VH_BOOT_ASSIGN_NONE);
        assert_nothing_written(f, NVME, VH_BOOT_ASSIGN_NONE);
        /* Absent (removed again before the helper ran). */
        assert_nothing_written(f, "0000:09:00.0", VH_BOOT_ASSIGN_NONE);
        g_assert_cmpint(vh_boot_assign(f->fs, STATE_DIR, "01:00", &f->result), ==, -EINVAL);
        g_assert_cmpint(f->result.state, ==, VH_BOOT_ASSIGN_ERROR);
}

/* The own function's event brings the audio function along; the bridge
 * stays as it is. */
static void test_group_own_event(Fixture *f, gconstpointer data) {
        g_autofree char *bridge_before = read_rel(f, DEV(BRIDGE, "driver_override"));

        assign(f, GPU, "gpu", true);
        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_BOUND_ELSEWHERE);
        assert_content(f, DEV(GPU, "driver_override"), "vfio-pci");
        assert_content(f, DEV(AUDIO, "driver_override"), "vfio-pci");
        assert_content(f, RECORD(AUDIO), "vfio-pci\n");
        assert_content(f, DEV(BRIDGE, "driver_override"), bridge_before);
        g_assert_false(exists(f, RECORD(BRIDGE)));
        g_assert_null(strstr(bridge_before, "vfio"));
}

/* With the own function unbound and the audio function on its host
 * driver, the event's result says the daemon is needed. */
static void test_group_worst_wins(Fixture *f, gconstpointer data) {
        vh_unit_unlink(f->root, DEV(GPU, "driver"));
        assign(f, GPU, "gpu", true);
        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_BOUND_ELSEWHERE);
        assert_content(f, PROBE, GPU);
}

/* A member's own event: covered only while the own function is there and
 * is the card meant; the bridge never. */
static void test_group_member_event(Fixture *f, gconstpointer data) {
        assign(f, GPU, "gpu", true);
        assert_nothing_written(f, BRIDGE, VH_BOOT_ASSIGN_NONE);

        g_assert_cmpint(run(f, AUDIO), ==, VH_BOOT_ASSIGN_BOUND_ELSEWHERE);
        assert_content(f, DEV(AUDIO, "driver_override"), "vfio-pci");
        g_assert_cmpstr(f->result.address, ==, GPU);
        g_assert_cmpstr(f->result.name, ==, "gpu");
        /* Only the member: the own function's event does its own. */
        g_assert_false(exists(f, RECORD(GPU)));
}

static void test_group_member_own_absent(Fixture *f, gconstpointer data) {
        assign(f, GPU, "gpu", true);
        vh_unit_unlink(f->root, "sys/bus/pci/devices/" GPU);
        assert_nothing_written(f, AUDIO, VH_BOOT_ASSIGN_NONE);
}

static void test_group_member_own_mismatch(Fixture *f, gconstpointer data) {
        assign(f, GPU, "gpu", true);
        vh_unit_write_config_with_serial(f->root, GPU, SERIAL + 1);
        assert_nothing_written(f, AUDIO, VH_BOOT_ASSIGN_NONE);
        g_assert_null(f->result.name);
}

/* An initramfs with an older copy of the file put the GPU on vfio-pci;
 * the file on the root file system no longer assigns it. */
static void stale_setup(Fixture *f) {
        vh_unit_symlink(f->root, DEV(GPU, "driver"), TO_VFIO);
        vh_unit_write_file(f->root, DEV(GPU, "driver_override"), "vfio-pci\n");
        vh_unit_write_file(f->root, RECORD(GPU), "vfio-pci\n");
        vh_unit_write_file(f->root, "sys/bus/pci/drivers/vfio-pci/unbind", "");
        assign(f, NVME, NULL, false);
}

static void test_stale_released(Fixture *f, gconstpointer data) {
        stale_setup(f);

        g_assert_cmpstr(vh_boot_assign_state_to_string(run(f, GPU)), ==, "released");
        assert_content(f, DEV(GPU, "driver_override"), "\n");
        assert_content(f, "sys/bus/pci/drivers/vfio-pci/unbind", GPU);
        assert_content(f, PROBE, GPU);
        g_assert_false(exists(f, RECORD(GPU)));
        g_assert_cmpstr(f->result.driver, ==, "vfio-pci");

        /* No assignments file at all: the rule still runs (the record
         * exists), and the release works the same. */
        vh_unit_unlink(f->root, STATE_DIR "/assignments.json");
        vh_unit_write_file(f->root, RECORD(GPU), "vfio-pci\n");
        vh_unit_write_file(f->root, DEV(GPU, "driver_override"), "vfio-pci\n");
        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_RELEASED);
}

/* The same override without a record is someone else's. */
static void test_stale_unrecorded(Fixture *f, gconstpointer data) {
        stale_setup(f);
        vh_unit_unlink(f->root, RECORD(GPU));
        assert_nothing_written(f, GPU, VH_BOOT_ASSIGN_NONE);
}

/* Recorded, but someone changed the override since: theirs now; only the
 * record goes. */
static void test_stale_override_changed(Fixture *f, gconstpointer data) {
        stale_setup(f);
        vh_unit_write_file(f->root, DEV(GPU, "driver_override"), "pci-stub\n");

        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_NONE);
        assert_content(f, DEV(GPU, "driver_override"), "pci-stub\n");
        assert_content(f, "sys/bus/pci/drivers/vfio-pci/unbind", "");
        g_assert_false(exists(f, RECORD(GPU)));
}

/* The file now assigns the address to another card: the early override
 * is undone, and the mismatch is still what the rule hears. */
static void test_stale_mismatch(Fixture *f, gconstpointer data) {
        stale_setup(f);
        assign(f, GPU, "gpu", false);
        vh_unit_write_config_with_serial(f->root, GPU, SERIAL + 1);

        g_assert_cmpint(run(f, GPU), ==, VH_BOOT_ASSIGN_MISMATCH);
        assert_content(f, DEV(GPU, "driver_override"), "\n");
        assert_content(f, "sys/bus/pci/drivers/vfio-pci/unbind", GPU);
        g_assert_false(exists(f, RECORD(GPU)));
}

/* ---------- the helper, as udev runs it ---------- */

static char *helper(Fixture *f, const char *address, int *ret_status) {
        g_autoptr(GError) error = NULL;
        const char *path = g_getenv("VH_UDEV_ASSIGN");
        char *out = NULL;

        g_assert_nonnull(path);
        const char *argv[] = { path, "--root", f->root, address, NULL };
        g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, ret_status,
                     &error);
        g_assert_no_error(error);
        return out;
}

static void test_helper_output(Fixture *f, gconstpointer data) {
        g_autofree char *bound = NULL, *none = NULL, *bad = NULL;
        int status = -1;

        assign(f, GPU, "gpu", false);
        bound = helper(f, GPU, &status);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_cmpstr(bound, ==,
                        "VFIOHOST_ASSIGNMENT=bound-elsewhere\n"
                        "VFIOHOST_ASSIGNMENT_NAME=gpu\n"
                        "VFIOHOST_DRIVER=vfio-pci\n");
        assert_content(f, DEV(GPU, "driver_override"), "vfio-pci");

        none = helper(f, NVME, &status);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_cmpstr(none, ==, "VFIOHOST_ASSIGNMENT=none\n");

        /* Errors are a result too (exit 0: udev imports nothing from a
         * program that fails). */
        bad = helper(f, "not-an-address", &status);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_cmpstr(bad, ==, "VFIOHOST_ASSIGNMENT=error\n");
}

#define PF "0000:3b:00.0"        /* server-sriov-vfs: i40e, 2 of 8 VFs */
#define VF "0000:3b:02.0"

/* A PF's VF count: reported for vfiohostd (the VFs can be made only once
 * the PF's driver has it), nothing written — not the PF's override, not
 * its VFs'; another card at the address is still a mismatch. */
static void test_vfs(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) before = NULL;

        assign_vfs(f, PF, "vfs", false, 4);
        before = vh_unit_snapshot(f->root);
        g_assert_cmpstr(vh_boot_assign_state_to_string(run(f, PF)), ==, "vfs");
        g_assert_cmpstr(f->result.driver, ==, "vfio-pci");
        g_assert_cmpstr(f->result.name, ==, "vfs");
        g_assert_cmpint(run(f, VF), ==, VH_BOOT_ASSIGN_NONE);
        vh_unit_assert_tree_unchanged(f->root, before);

        vh_unit_write_file(f->root, DEV(PF, "device"), "0x1583\n");
        g_assert_cmpint(run(f, PF), ==, VH_BOOT_ASSIGN_MISMATCH);
}

static void test_helper_usage(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        const char *argv[] = { g_getenv("VH_UDEV_ASSIGN"), "--root", f->root, NULL };
        g_autofree char *out = NULL;
        int status = 0;

        g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
                     &error);
        g_assert_no_error(error);
        g_assert_false(g_spawn_check_wait_status(status, NULL));
        g_assert_cmpstr(out, ==, "");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/boot-assign/state-names", test_state_names);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/boot-assign/unbound/registered", test_unbound_registered);
        ADD("/boot-assign/unbound/unregistered", test_unbound_unregistered);
        ADD("/boot-assign/bound-elsewhere", test_bound_elsewhere);
        ADD("/boot-assign/mismatch/serial", test_mismatch_serial);
        ADD("/boot-assign/mismatch/ids", test_mismatch_ids);
        ADD("/boot-assign/disabled", test_disabled);
        ADD("/boot-assign/damaged", test_damaged);
        ADD("/boot-assign/not-covered", test_not_covered);
        ADD("/boot-assign/group/own-event", test_group_own_event);
        ADD("/boot-assign/group/worst-wins", test_group_worst_wins);
        ADD("/boot-assign/group/member-event", test_group_member_event);
        ADD("/boot-assign/group/member-own-absent", test_group_member_own_absent);
        ADD("/boot-assign/group/member-own-mismatch", test_group_member_own_mismatch);
        ADD("/boot-assign/stale/released", test_stale_released);
        ADD("/boot-assign/stale/unrecorded", test_stale_unrecorded);
        ADD("/boot-assign/stale/override-changed", test_stale_override_changed);
        ADD("/boot-assign/stale/mismatch", test_stale_mismatch);
        ADD("/boot-assign/helper/output", test_helper_output);
        ADD("/boot-assign/helper/usage", test_helper_usage);
        g_test_add("/boot-assign/vfs", Fixture, "server-sriov-vfs", fixture_setup, test_vfs, fixture_teardown);
        return g_test_run();
}
