/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-assignments: the persistent assignments, keyed by address and
 * identity, saved atomically beneath the host root and loaded strictly — a
 * damaged file or one of another version is refused, never guessed at. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-assignments.h"
#include "vh-journal.h"
#include "vh-unit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhAssignments, vh_assignments_free)

#define STATE_DIR VH_JOURNAL_DEFAULT_DIR
#define FILE_REL  VH_JOURNAL_DEFAULT_DIR "/" VH_ASSIGNMENTS_FILE

#define GPU   "0000:01:00.0"
#define NIC   "0000:06:00.0"

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

static const VhIdentity gpu_identity = {
        .vendor = 0x10de, .device = 0x2684, .subsystem_vendor = 0x1043, .subsystem_device = 0x889d,
        .class_code = 0x030000, .has_dsn = true, .dsn = 0x0123456789abcdefULL,
};
static const VhIdentity nic_identity = {
        .vendor = 0x8086, .device = 0x15f3, .subsystem_vendor = 0x1043, .subsystem_device = 0x87d2,
        .class_code = 0x020000,
};

static VhAssignments *two(void) {
        VhAssignments *a = g_new0(VhAssignments, 1);
        VhAssignment gpu = { .address = GPU, .name = (char *) "gpu", .driver = (char *) "vfio-pci", .group = true,
                             .identity = gpu_identity, .created_usec = 1764633600000000 };
        VhAssignment nic = { .address = NIC, .driver = (char *) "vfio-pci", .identity = nic_identity };

        /* Out of order: kept sorted by address. */
        g_assert_cmpint(vh_assignments_set(a, &nic), ==, 0);
        g_assert_cmpint(vh_assignments_set(a, &gpu), ==, 0);
        return a;
}

static void test_round_trip(Fixture *f, gconstpointer data) {
        g_autoptr(VhAssignments) a = two(), b = NULL;
        g_autofree char *text = NULL;

        g_assert_cmpint(vh_assignments_save(f->fs, STATE_DIR, a), ==, 0);
        text = vh_unit_read_file(f->root, FILE_REL);
        g_test_message("%s", text);
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &b), ==, 0);
        g_assert_cmpuint(b->n, ==, 2);
        g_assert_cmpstr(b->entries[0].address, ==, GPU);
        g_assert_cmpstr(b->entries[0].name, ==, "gpu");
        g_assert_cmpstr(b->entries[0].driver, ==, "vfio-pci");
        g_assert_true(b->entries[0].group);
        g_assert_true(vh_identity_equal(&b->entries[0].identity, &gpu_identity));
        g_assert_cmpuint(b->entries[0].created_usec, ==, 1764633600000000);
        g_assert_cmpstr(b->entries[1].address, ==, NIC);
        g_assert_null(b->entries[1].name);
        g_assert_false(b->entries[1].group);
        g_assert_false(b->entries[1].identity.has_dsn);
        g_assert_true(vh_identity_equal(&b->entries[1].identity, &nic_identity));
        /* The DSN as 16 hex digits; no temporary file left behind. */
        g_assert_nonnull(strstr(text, "\"dsn\":\"0123456789abcdef\""));
        {
                g_autofree char *dir = g_build_filename(f->root, STATE_DIR, NULL);
                g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
                const char *e;
                guint n = 0;

                while ((e = g_dir_read_name(d))) {
                        g_assert_cmpstr(e, ==, VH_ASSIGNMENTS_FILE);
                        n++;
                }
                g_assert_cmpuint(n, ==, 1);
        }
}

static void test_absent_is_empty(Fixture *f, gconstpointer data) {
        g_autoptr(VhAssignments) a = NULL;

        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &a), ==, 0);
        g_assert_cmpuint(a->n, ==, 0);
}

#define ENTRY_OK "{\"address\":\"0000:01:00.0\",\"driver\":\"vfio-pci\",\"identity\":{\"vendor\":\"10de\",\"device\":\"2684\"," \
                 "\"subsystem_vendor\":\"1043\",\"subsystem_device\":\"889d\",\"class\":\"030000\"}}"

static void test_damaged(Fixture *f, gconstpointer data) {
        static const char *const damaged[] = {
                "",
                "not json",
                "{\"version\":1,\"assignments\":[]} trailing",
                "[]",
                "{\"assignments\":[]}",
                "{\"version\":\"1\",\"assignments\":[]}",
                "{\"version\":1}",
                "{\"version\":1,\"assignments\":{}}",
                "{\"version\":1,\"assignments\":[1]}",
                /* address */
                "{\"version\":1,\"assignments\":[{\"address\":1,\"driver\":\"vfio-pci\"}]}",
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00\",\"driver\":\"vfio-pci\"}]}",
                /* identity missing, or a field of it */
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"driver\":\"vfio-pci\"}]}",
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"driver\":\"vfio-pci\",\"identity\":"
                "{\"vendor\":\"10de\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\",\"subsystem_device\":\"889d\"}}]}",
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"driver\":\"vfio-pci\",\"identity\":"
                "{\"vendor\":\"10de\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\",\"subsystem_device\":\"889d\","
                "\"class\":\"030000\",\"dsn\":\"0123\"}}]}",
                /* driver, name, group */
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"driver\":\"../x\",\"identity\":"
                "{\"vendor\":\"10de\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\",\"subsystem_device\":\"889d\","
                "\"class\":\"030000\"}}]}",
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"driver\":\"vfio-pci\",\"name\":\"-x\","
                "\"identity\":{\"vendor\":\"10de\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\","
                "\"subsystem_device\":\"889d\",\"class\":\"030000\"}}]}",
                "{\"version\":1,\"assignments\":[{\"address\":\"0000:01:00.0\",\"driver\":\"vfio-pci\",\"group\":1,"
                "\"identity\":{\"vendor\":\"10de\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\","
                "\"subsystem_device\":\"889d\",\"class\":\"030000\"}}]}",
                /* two entries for one address, in two spellings */
                "{\"version\":1,\"assignments\":[" ENTRY_OK "," ENTRY_OK "]}",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(damaged); i++) {
                g_autoptr(VhAssignments) a = NULL;

                vh_unit_write_file(f->root, FILE_REL, damaged[i]);
                g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &a), ==, -EBADMSG);
                g_assert_null(a);
        }
        {
                g_autoptr(VhAssignments) a = NULL;

                vh_unit_write_file(f->root, FILE_REL, "{\"version\":1,\"assignments\":[" ENTRY_OK "]}");
                g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &a), ==, 0);
                g_assert_cmpuint(a->n, ==, 1);
        }
}

static void test_unknown_version(Fixture *f, gconstpointer data) {
        g_autoptr(VhAssignments) a = NULL;

        vh_unit_write_file(f->root, FILE_REL, "{\"version\":3,\"assignments\":[]}");
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &a), ==, -EPROTONOSUPPORT);
        g_assert_null(a);
}

#define PF_ENTRY(vfs) PF_ENTRY_WITH("", vfs)
#define PF_ENTRY_WITH(extra, vfs) "{" extra "\"address\":\"0000:06:00.0\",\"driver\":\"vfio-pci\",\"vfs\":" vfs "," \
                "\"identity\":{\"vendor\":\"8086\",\"device\":\"1572\",\"subsystem_vendor\":\"8086\"," \
                "\"subsystem_device\":\"0001\",\"class\":\"020000\"}}"

/* A PF's VF count: saved as version 2 (a reader of version 1 would take
 * the entry for a bind of the PF), and only then; loaded from version 2
 * only; never with group, never over 65535. */
static void test_vfs(Fixture *f, gconstpointer data) {
        g_autoptr(VhAssignments) a = two(), loaded = NULL, again = NULL;
        VhAssignment pf = { .address = "0000:07:00.0", .driver = (char *) "vfio-pci", .vfs = 8,
                            .identity = nic_identity };
        VhAssignment with_group = pf, too_many = pf;
        g_autofree char *text = NULL, *path = g_build_filename(f->root, FILE_REL, NULL);

        with_group.group = true;
        too_many.vfs = VH_ASSIGNMENT_VFS_MAX + 1;
        g_assert_cmpint(vh_assignments_set(a, &with_group), ==, -EINVAL);
        g_assert_cmpint(vh_assignments_set(a, &too_many), ==, -EINVAL);
        g_assert_cmpuint(a->n, ==, 2);

        /* Without a VF count: version 1, no "vfs" key. */
        g_assert_cmpint(vh_assignments_save(f->fs, STATE_DIR, a), ==, 0);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "\"version\":1"));
        g_assert_null(strstr(text, "\"vfs\""));
        g_clear_pointer(&text, g_free);

        g_assert_cmpint(vh_assignments_set(a, &pf), ==, 0);
        g_assert_cmpint(vh_assignments_save(f->fs, STATE_DIR, a), ==, 0);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "\"version\":2"));
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &loaded), ==, 0);
        g_assert_cmpuint(loaded->n, ==, 3);
        g_assert_cmpuint(vh_assignments_find(loaded, "0000:07:00.0")->vfs, ==, 8);
        g_assert_cmpuint(vh_assignments_find(loaded, GPU)->vfs, ==, 0);

        /* "vfs" in a version 1 file, with group, or out of range: damaged. */
        vh_unit_write_file(f->root, FILE_REL, "{\"version\":1,\"assignments\":[" PF_ENTRY("8") "]}");
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &again), ==, -EBADMSG);
        vh_unit_write_file(f->root, FILE_REL, "{\"version\":2,\"assignments\":[" PF_ENTRY("65536") "]}");
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &again), ==, -EBADMSG);
        vh_unit_write_file(f->root, FILE_REL, "{\"version\":2,\"assignments\":[" PF_ENTRY("-1") "]}");
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &again), ==, -EBADMSG);
        vh_unit_write_file(f->root, FILE_REL, "{\"version\":2,\"assignments\":[" PF_ENTRY_WITH("\"group\":true,", "8") "]}");
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &again), ==, -EBADMSG);
        g_assert_null(again);
        /* Version 2 without any VF count loads too. */
        vh_unit_write_file(f->root, FILE_REL, "{\"version\":2,\"assignments\":[" ENTRY_OK "]}");
        g_assert_cmpint(vh_assignments_load(f->fs, STATE_DIR, &again), ==, 0);
        g_assert_cmpuint(again->n, ==, 1);
}

static void test_names(void) {
        static const char *const valid[] = { "gpu", "my-gpu.1", "VM_02", "0x", "a-b_c.d" };
        static const char *const invalid[] = {
                "", "a", "-gpu", ".gpu", "_gpu", "gpu 1", "gpu/1", "0000:01:00.0", "über",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        };

        for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
                g_assert_true(vh_assignment_name_is_valid(valid[i]));
        for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
                g_assert_false(vh_assignment_name_is_valid(invalid[i]));
        g_assert_false(vh_assignment_name_is_valid(NULL));
}

static void test_set_find_remove(void) {
        g_autoptr(VhAssignments) a = two();
        VhAssignment other = { .address = "0000:02:00.0", .name = (char *) "gpu", .driver = (char *) "vfio-pci" };
        VhAssignment bad_driver = { .address = "0000:02:00.0", .driver = (char *) "vfio pci" };
        VhAssignment bad_address = { .address = "01:00.0x", .driver = (char *) "vfio-pci" };
        VhAssignment renamed = { .address = "0000:01:00.0", .name = (char *) "gpu2", .driver = (char *) "vfio-pci" };

        g_assert_true(vh_assignments_find(a, "gpu") == &a->entries[0]);
        g_assert_true(vh_assignments_find(a, "0000:06:00.0") == &a->entries[1]);
        /* Any spelling of an address. */
        {
                VhAssignment hex = { .address = "0000:0A:00.0", .driver = (char *) "vfio-pci" };

                g_assert_cmpint(vh_assignments_set(a, &hex), ==, 0);
                g_assert_nonnull(vh_assignments_find(a, "0000:0a:00.0"));
                g_assert_cmpstr(vh_assignments_find(a, "0000:0A:00.0")->address, ==, "0000:0a:00.0");
                g_assert_cmpint(vh_assignments_remove(a, "0000:0a:00.0"), ==, 0);
        }
        g_assert_null(vh_assignments_find(a, "nic"));
        g_assert_null(vh_assignments_find(a, "0000:07:00.0"));

        /* A name is unique; invalid entries are refused, nothing changes. */
        g_assert_cmpint(vh_assignments_set(a, &other), ==, -EEXIST);
        g_assert_cmpint(vh_assignments_set(a, &bad_driver), ==, -EINVAL);
        g_assert_cmpint(vh_assignments_set(a, &bad_address), ==, -EINVAL);
        g_assert_cmpuint(a->n, ==, 2);

        /* The same address again replaces. */
        g_assert_cmpint(vh_assignments_set(a, &renamed), ==, 0);
        g_assert_cmpuint(a->n, ==, 2);
        g_assert_null(vh_assignments_find(a, "gpu"));
        g_assert_cmpstr(vh_assignments_find(a, "gpu2")->address, ==, GPU);

        g_assert_cmpint(vh_assignments_remove(a, "gpu2"), ==, 0);
        g_assert_cmpint(vh_assignments_remove(a, "gpu2"), ==, -ENOENT);
        g_assert_cmpint(vh_assignments_remove(a, NIC), ==, 0);
        g_assert_cmpuint(a->n, ==, 0);
}

static void test_identity(void) {
        VhIdentity other_serial = gpu_identity, no_serial = gpu_identity, other_class = gpu_identity,
                   other_subsystem = gpu_identity;

        other_serial.dsn ^= 1;
        no_serial.has_dsn = false;
        other_class.class_code = 0x030200;
        other_subsystem.subsystem_device = 0x8890;
        g_assert_cmpint(vh_identity_compare(&gpu_identity, &gpu_identity), ==, VH_IDENTITY_SAME);
        /* Two identical cards: only the serial number tells them apart. */
        g_assert_cmpint(vh_identity_compare(&gpu_identity, &other_serial), ==, VH_IDENTITY_OTHER_CARD);
        /* A card without a DSN is judged by its ids. */
        g_assert_cmpint(vh_identity_compare(&gpu_identity, &no_serial), ==, VH_IDENTITY_SAME);
        g_assert_cmpint(vh_identity_compare(&no_serial, &gpu_identity), ==, VH_IDENTITY_SAME);
        g_assert_cmpint(vh_identity_compare(&gpu_identity, &other_class), ==, VH_IDENTITY_OTHER_CARD);
        g_assert_cmpint(vh_identity_compare(&gpu_identity, &other_subsystem), ==, VH_IDENTITY_OTHER_CARD);
        g_assert_cmpint(vh_identity_compare(&gpu_identity, &nic_identity), ==, VH_IDENTITY_OTHER_CARD);
        /* Equal is stricter: the serial number's presence counts. */
        g_assert_true(vh_identity_equal(&gpu_identity, &gpu_identity));
        g_assert_false(vh_identity_equal(&gpu_identity, &no_serial));
        g_assert_false(vh_identity_equal(&gpu_identity, &other_serial));
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        ADD("/assignments/round-trip", test_round_trip);
        ADD("/assignments/absent-is-empty", test_absent_is_empty);
        ADD("/assignments/damaged", test_damaged);
        ADD("/assignments/unknown-version", test_unknown_version);
        ADD("/assignments/vfs", test_vfs);
        g_test_add_func("/assignments/names", test_names);
        g_test_add_func("/assignments/set-find-remove", test_set_find_remove);
        g_test_add_func("/assignments/identity", test_identity);
        return g_test_run();
}
