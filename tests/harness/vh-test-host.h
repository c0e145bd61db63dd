/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* What a host tree says, read independently of the daemon's core (plain
 * GLib file calls), so the bus tests compare the daemon against the files
 * and not against the code under test. */

typedef struct VhTestFunction {
        char *address;
        guint vendor, device, subsystem_vendor, subsystem_device, revision, class_code;
        char *driver;                   /* basename of the driver link, "" when none */
        char *driver_override;          /* "" when missing or "(null)" */
        int iommu_group;                /* -1 when no iommu_group link */
        int numa_node;                  /* -1 when missing */
        gboolean boot_vga;
        char *physfn;                   /* address of the physical function, "" */
        guint sriov_numvfs, sriov_totalvfs;
        GStrv reset_methods;            /* reset_method split on spaces, empty when missing */
        gboolean d3cold_allowed;
        char *vfio_group_path;          /* "/dev/vfio/N" when bound to vfio-pci and ROOT/dev/vfio/N exists */
        char *vfio_device_path;         /* "/dev/vfio/devices/vfioX" likewise, from vfio-dev/ */
} VhTestFunction;

typedef struct VhTestGroup {
        guint id;
        GPtrArray *addresses;           /* char*, sorted */
        char *type;                     /* "" when the type file is missing */
} VhTestGroup;

typedef struct VhTestHost {
        char *root;
        GPtrArray *functions;           /* VhTestFunction*, sorted by address */
        GPtrArray *groups;              /* VhTestGroup*, sorted by id */
        gboolean iommu_enabled;
        /* TRUE/FALSE when the tree says so plainly, -1 when it depends on
         * lib/modules lookups this reader does not repeat. */
        int vfio_available;
} VhTestHost;

VhTestHost *vh_test_host_load(const char *root);
void vh_test_host_free(VhTestHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestHost, vh_test_host_free)

const VhTestFunction *vh_test_host_find(const VhTestHost *host, const char *address);
const VhTestGroup *vh_test_host_find_group(const VhTestHost *host, guint id);

/* A PCI-to-PCI bridge (class 0x0604xx). */
gboolean vh_test_function_is_bridge(const VhTestFunction *f);

/* The members that keep a group from being viable per the contract
 * (dbus/org.vfiohost.xml, Group1.Viable): bound to a driver other than
 * vfio-pci or a variant of it, and not a PCI-to-PCI bridge on pcieport or shpchp (tests/data/README.md,
 * "Viability rule"). Returns VhTestFunction* (borrowed). */
GPtrArray *vh_test_host_group_blockers(const VhTestHost *host, const VhTestGroup *group);

/* vfio-pci, or a variant driver: its module holds vfio_pci_core in the
 * tree at root (the test's own reading, docs/binding.md). */
gboolean vh_test_driver_is_vfio(const char *root, const char *driver);

/* Names of every host fixture under VH_TEST_DATA/hosts, sorted. */
GPtrArray *vh_test_host_fixtures(void);

/* Reads the fixtures' README (VH_TEST_DATA/README.md); NULL when missing. */
char *vh_test_data_readme(void);
