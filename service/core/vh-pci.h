/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vh-address.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"

/* A PF's virtual function: sys/bus/pci/devices/PF/virtfnN -> ../VF. */
typedef struct VhVirtfn {
        unsigned index;                 /* N */
        char address[VH_ADDRESS_MAX];
} VhVirtfn;

/* One PCI function, read from sysfs beneath the host root. Optional values
 * are NULL (strings) or -1 (numbers) when the kernel does not provide them. */
typedef struct VhPciDevice {
        char address[VH_ADDRESS_MAX];
        uint16_t vendor_id;
        uint16_t device_id;
        uint16_t subsystem_vendor_id;
        uint16_t subsystem_device_id;
        uint8_t revision;
        uint32_t class_code;            /* 24 bits: base, sub, prog-if */

        char *vendor_name;              /* never NULL after load */
        char *device_name;
        char *subsystem_vendor_name;
        char *subsystem_name;
        char *class_name;

        char *driver;                   /* NULL: no driver bound */
        bool driver_is_vfio;            /* driver is vfio-pci or a variant (vh-vfio-driver.h) */
        char *driver_override;          /* NULL: none set ("(null)" in sysfs) */
        int iommu_group;                /* -1: none */
        int numa_node;                  /* -1: unknown */
        bool boot_vga;
        char **reset_methods;           /* never NULL; empty when none */
        bool d3cold_allowed;
        char *physfn;                   /* address of the PF for an SR-IOV VF */
        /* The bridge (root port, switch port, PCI bridge) the function sits
         * behind, from where its sysfs directory is; NULL on a root bus. */
        char *parent;
        int vf_index;                   /* a VF's N in its PF's virtfnN; -1 for others */
        unsigned sriov_numvfs;
        unsigned sriov_totalvfs;
        bool sriov_drivers_autoprobe;   /* a PF's; false for functions without SR-IOV */
        VhVirtfn *virtfns;              /* a PF's enabled VFs, by index; NULL when none */
        size_t n_virtfns;
        char *vfio_group_path;          /* "/dev/vfio/N" (host path) while bound and present */
        char *vfio_device_path;         /* "/dev/vfio/devices/vfioX" while bound and present */

        /* Not from sysfs: the driver vfiohostd's journal recorded when it
         * bound the function (vh_host_set_original_drivers). */
        char *original_driver;
        /* Nor this: the persistent assignment that covers the function
         * (the daemon's, docs/persistence.md). Name NULL when it has none;
         * state a static string ("applied", ...), NULL when not covered. */
        char *assignment_name;
        const char *assignment_state;

        unsigned n_ref;                 /* snapshots share unchanged functions (vh_host_refresh) */
} VhPciDevice;

/* address must be canonical (vh_address_normalize). -ENOENT when absent.
 * names NULL: no names (the name fields stay NULL); safe from any thread. */
int vh_pci_device_load(const VhHostFs *fs, VhPciNames *names, const char *address, VhPciDevice **ret);
VhPciDevice *vh_pci_device_ref(VhPciDevice *d);
/* Drops a reference; the last one frees. */
VhPciDevice *vh_pci_device_free(VhPciDevice *d);
static inline void vh_pci_device_freep(VhPciDevice **d) {
        vh_pci_device_free(*d);
}

/* A PCI-to-PCI bridge (class 0604xx, 0609xx): harmless in an IOMMU group
 * while it is on pcieport/shpchp or driverless. */
bool vh_pci_device_is_pci_bridge(const VhPciDevice *d);
/* On vfio-pci or one of its variant drivers. */
bool vh_pci_device_is_bound_to_vfio(const VhPciDevice *d);

/* The bound driver's name, NULL when none. Reads only the driver link:
 * safe from any thread (no libpci). */
int vh_pci_read_driver(const VhHostFs *fs, const char *address, char **ret);

/* driver_override, NULL when unset ("(null)") or absent. Safe from any thread. */
int vh_pci_read_driver_override(const VhHostFs *fs, const char *address, char **ret);

/* The IOMMU group's number from the iommu_group link; -1 when the
 * function has none. Safe from any thread. */
int vh_pci_read_iommu_group(const VhHostFs *fs, const char *address, int *ret);

/* "/dev/vfio/N" (or "noiommu-N") and "/dev/vfio/devices/vfioX" when those
 * nodes exist, else NULL. Safe from any thread. */
int vh_pci_read_vfio_nodes(const VhHostFs *fs, const char *address, int iommu_group,
                           char **ret_group_path, char **ret_device_path);

/* The virtfnN links of the function at address, sorted by N; none (0) when
 * it is no PF or has no VFs enabled. Safe from any thread. */
int vh_pci_read_virtfns(const VhHostFs *fs, const char *address, VhVirtfn **ret, size_t *ret_n);

/* Every function under sys/bus/pci/devices, sorted by address.
 * Functions whose attributes cannot be read are skipped with a warning. */
int vh_pci_scan(const VhHostFs *fs, VhPciNames *names, VhPciDevice ***ret, size_t *ret_n);
void vh_pci_device_array_free(VhPciDevice **a, size_t n);
