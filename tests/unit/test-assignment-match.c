/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-identity and vh-assignment-match: a card is known by its ids and its
 * PCIe serial number, read from config space; an assignment applies only
 * to the card it was made for, and a card that moved is found by its
 * serial number — said, never acted on. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "vh-assignment-match.h"
#include "vh-unit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhHost, vh_host_free)

#define GPU  "0000:01:00.0"     /* 10de:2684, nvidia, group 2 with 00:01.0 (bridge) and 01:00.1 */
#define GPU_AUDIO "0000:01:00.1"
#define NVME "0000:02:00.0"
#define SERIAL 0x0123456789abcdefULL

static void test_dsn_parse(void) {
        guint8 c[4096] = {};
        uint64_t v = 0;

        /* Conventional only: 256 bytes, or nothing past them. */
        g_assert_cmpint(vh_pci_config_find_dsn(c, 256, &v), ==, -ENODATA);
        g_assert_cmpint(vh_pci_config_find_dsn(c, sizeof(c), &v), ==, -ENODATA);

        /* First in the list. */
        c[0x100] = 0x03; c[0x102] = 0x01;
        c[0x104] = 0xef; c[0x105] = 0xcd; c[0x106] = 0xab; c[0x107] = 0x89;
        c[0x108] = 0x67; c[0x109] = 0x45; c[0x10a] = 0x23; c[0x10b] = 0x01;
        g_assert_cmpint(vh_pci_config_find_dsn(c, sizeof(c), &v), ==, 0);
        g_assert_cmphex(v, ==, SERIAL);
        /* Cut inside the capability. */
        g_assert_cmpint(vh_pci_config_find_dsn(c, 0x108, &v), ==, -ENODATA);

        /* A list that loops on itself ends. */
        memset(c, 0, sizeof(c));
        c[0x100] = 0x01; c[0x102] = 0x01; c[0x103] = 0x10;    /* next = 0x100 */
        g_assert_cmpint(vh_pci_config_find_dsn(c, sizeof(c), &v), ==, -ENODATA);
        /* All ones: the function is gone. */
        memset(c + 0x100, 0xff, 4);
        g_assert_cmpint(vh_pci_config_find_dsn(c, sizeof(c), &v), ==, -ENODATA);
}

typedef struct {
        char *root;
        VhHostFs *fs;
        VhHost *host;
} Fixture;

static void load(Fixture *f) {
        vh_host_free(f->host);
        g_assert_cmpint(vh_host_load(f->fs, NULL, &f->host), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        f->root = vh_unit_copy_host(data ?: "desktop-intel");
        g_assert_cmpint(vh_hostfs_new(f->root, &f->fs), ==, 0);
        if (!data)
                vh_unit_write_config_with_serial(f->root, GPU, SERIAL);
        load(f);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_host_free(f->host);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->root);
        g_free(f->root);
}

static VhAssignment assignment_for(Fixture *f, const char *address, bool group) {
        VhAssignment a = { .driver = (char *) "vfio-pci", .group = group };

        g_strlcpy(a.address, address, sizeof(a.address));
        vh_identity_read(f->fs, vh_host_find_device(f->host, address), &a.identity);
        return a;
}

static void test_identity_read(Fixture *f, gconstpointer data) {
        char buf[VH_IDENTITY_STRING_MAX];
        VhIdentity id;

        vh_identity_read(f->fs, vh_host_find_device(f->host, GPU), &id);
        g_assert_true(id.has_dsn);
        g_assert_cmphex(id.dsn, ==, SERIAL);
        g_assert_cmpstr(vh_identity_format(&id, buf), ==,
                        "10de:2684 subsystem 1043:889a class 030000 serial 01-23-45-67-89-ab-cd-ef");

        /* 256 bytes of config space: no serial number. */
        vh_identity_read(f->fs, vh_host_find_device(f->host, NVME), &id);
        g_assert_false(id.has_dsn);
        g_assert_null(strstr(vh_identity_format(&id, buf), "serial"));
}

static void test_match_states(Fixture *f, gconstpointer data) {
        VhAssignment a = assignment_for(f, GPU, false);
        VhAssignmentMatch m;

        /* The card meant, on nvidia. */
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpstr(vh_assignment_state_to_string(m.state), ==, "not-applied");
        g_assert_cmpstr(m.moved_to, ==, "");

        /* On vfio-pci. */
        vh_unit_symlink(f->root, "sys/bus/pci/devices/" GPU "/driver", "../../../../bus/pci/drivers/vfio-pci");
        load(f);
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_APPLIED);

        /* A group assignment also needs the audio function (the bridge
         * stays on pcieport). */
        a.group = true;
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_NOT_APPLIED);
        vh_unit_symlink(f->root, "sys/bus/pci/devices/" GPU_AUDIO "/driver", "../../../../bus/pci/drivers/vfio-pci");
        load(f);
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_APPLIED);
}

/* Same ids, another serial number: the twin in the same slot is not the
 * card meant. */
static void test_same_ids_other_serial(Fixture *f, gconstpointer data) {
        VhAssignment a = assignment_for(f, GPU, false);
        VhAssignmentMatch m;

        vh_unit_write_config_with_serial(f->root, GPU, SERIAL + 1);
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_MISMATCH);
        g_assert_cmphex(m.present.dsn, ==, SERIAL + 1);
        g_assert_cmpstr(m.moved_to, ==, "");
}

/* Same address, another card: judged by the ids, no serial needed. */
static void test_same_address_other_card(Fixture *f, gconstpointer data) {
        VhAssignment a = assignment_for(f, NVME, false);
        VhAssignmentMatch m;

        vh_unit_write_file(f->root, "sys/bus/pci/devices/" NVME "/device", "0xa808\n");
        load(f);
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_MISMATCH);
        g_assert_cmphex(m.present.device, ==, 0xa808);
}

/* The card moved: its serial number is at another address now. The old
 * slot holds another card (renumbered), or nothing. */
static void test_card_moved(Fixture *f, gconstpointer data) {
        VhAssignment a = assignment_for(f, GPU, false);
        VhAssignmentMatch m;

        /* Pretend the assignment was made for 05:00.0 and the card is now
         * at 01:00.0: 05:00.0 holds an AMD GPU. */
        g_strlcpy(a.address, "0000:05:00.0", sizeof(a.address));
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_MISMATCH);
        g_assert_cmpstr(m.moved_to, ==, GPU);

        /* Its slot is empty now. */
        g_strlcpy(a.address, "0000:09:00.0", sizeof(a.address));
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_WAITING);
        g_assert_cmpstr(m.moved_to, ==, GPU);

        /* Without a serial number nothing says where it went. */
        a.identity.has_dsn = false;
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_WAITING);
        g_assert_cmpstr(m.moved_to, ==, "");
}

static void test_covers(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) unused = NULL;
        VhAssignments set = {};
        VhAssignment gpu = assignment_for(f, GPU, false), nvme = assignment_for(f, NVME, false);

        g_assert_true(vh_assignment_covers(f->host, &gpu, GPU));
        g_assert_false(vh_assignment_covers(f->host, &gpu, GPU_AUDIO));
        gpu.group = true;
        g_assert_true(vh_assignment_covers(f->host, &gpu, GPU_AUDIO));
        g_assert_false(vh_assignment_covers(f->host, &gpu, NVME));

        g_assert_cmpint(vh_assignments_set(&set, &gpu), ==, 0);
        g_assert_cmpint(vh_assignments_set(&set, &nvme), ==, 0);
        g_assert_cmpstr(vh_assignments_covering(&set, f->host, GPU_AUDIO)->address, ==, GPU);
        g_assert_cmpstr(vh_assignments_covering(&set, f->host, NVME)->address, ==, NVME);
        g_assert_null(vh_assignments_covering(&set, f->host, "0000:06:00.0"));
        for (size_t i = 0; i < set.n; i++) {
                free(set.entries[i].name);
                free(set.entries[i].driver);
        }
        free(set.entries);
}

#define PF   "0000:3b:00.0"     /* server-sriov-vfs: i40e, 2 of 8 VFs */
#define VF0  "0000:3b:02.0"     /* iavf */
#define VF1  "0000:3b:02.1"     /* vfio-pci */

/* A PF's VF count: applied with that many VFs, each on the driver; it
 * covers the PF's VFs and nothing else. */
static void test_vfs(Fixture *f, gconstpointer data) {
        VhAssignment a = assignment_for(f, PF, false);
        VhAssignmentMatch m;

        a.vfs = 2;
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_NOT_APPLIED);
        g_assert_true(vh_assignment_covers(f->host, &a, VF0));
        g_assert_true(vh_assignment_covers(f->host, &a, VF1));
        g_assert_false(vh_assignment_covers(f->host, &a, "0000:3b:00.1"));
        g_assert_false(vh_assignment_covers(f->host, &a, "0000:af:00.0"));

        vh_unit_symlink(f->root, "sys/bus/pci/devices/" VF0 "/driver", "../../../../bus/pci/drivers/vfio-pci");
        load(f);
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_APPLIED);
        /* The PF itself stays on its own driver. */
        g_assert_cmpstr(vh_host_find_device(f->host, PF)->driver, ==, "i40e");

        /* Another count: not applied, though every VF is on vfio-pci. */
        a.vfs = 4;
        vh_assignment_match(f->fs, f->host, &a, &m);
        g_assert_cmpint(m.state, ==, VH_ASSIGNMENT_NOT_APPLIED);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/identity/dsn-parse", test_dsn_parse);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/identity/read", test_identity_read);
        ADD("/match/states", test_match_states);
        ADD("/match/same-ids-other-serial", test_same_ids_other_serial);
        ADD("/match/same-address-other-card", test_same_address_other_card);
        ADD("/match/card-moved", test_card_moved);
        ADD("/match/covers", test_covers);
        g_test_add("/match/vfs", Fixture, "server-sriov-vfs", fixture_setup, test_vfs, fixture_teardown);
        return g_test_run();
}
