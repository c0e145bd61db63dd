/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every PCI function of every fixture host must load as, written down
 * by hand from tests/data/README.md (the trees themselves are checked
 * against lspci by tests/data/make-host-trees.py's author and by
 * /pci/names/lspci). */

#include <string.h>

#include <glib.h>

typedef struct {
        const char *address;
        guint16 vendor, device, subvendor, subdevice;
        guint8 revision;
        guint32 class_code;
        const char *driver;             /* NULL: none bound */
        int group;                      /* -1: none */
        int numa;
        gboolean boot_vga;
        const char *reset;              /* space-separated reset_method, "" for none */
        /* rarer fields */
        const char *override;           /* NULL: "(null)" */
        const char *physfn;
        unsigned numvfs, totalvfs;
        const char *vfio_group;         /* "/dev/vfio/N" */
        const char *vfio_device;        /* "/dev/vfio/devices/vfioN" */
} ExpectedDevice;

typedef struct {
        unsigned id;
        const char *type;
        const char *members;            /* space-separated, sorted */
        gboolean viable;
        const char *blockers;           /* space-separated, in member order; "" when viable */
        const char *drivers;            /* the blockers' drivers, space-separated */
} ExpectedGroup;

typedef struct {
        const char *name;
        const ExpectedDevice *devices;
        size_t n_devices;
        const ExpectedGroup *groups;
        size_t n_groups;
        gboolean iommu_enabled;
        gboolean vfio_available;
} ExpectedHost;

/* desktop-intel and desktop-vfio-bound share all but the RTX 4090. */
#define DESKTOP_COMMON \
        { "0000:00:00.0", 0x8086, 0x4660, 0x1043, 0x8694, 0x02, 0x060000, "igen6_edac",    1, -1, FALSE, "" }, \
        { "0000:00:01.0", 0x8086, 0x460d, 0x1043, 0x8694, 0x02, 0x060400, "pcieport",      2, -1, FALSE, "" }, \
        { "0000:00:02.0", 0x8086, 0x4680, 0x1043, 0x8694, 0x0c, 0x030000, "i915",          0, -1, TRUE,  "flr" }, \
        { "0000:00:06.0", 0x8086, 0x464d, 0x1043, 0x8694, 0x02, 0x060400, "pcieport",      3, -1, FALSE, "" }, \
        { "0000:00:14.0", 0x8086, 0x7ae0, 0x1043, 0x8694, 0x11, 0x0c0330, "xhci_hcd",      4, -1, FALSE, "flr" }, \
        { "0000:00:14.2", 0x8086, 0x7aa7, 0x1043, 0x8694, 0x11, 0x050000, NULL,            4, -1, FALSE, "" }, \
        { "0000:00:1c.0", 0x8086, 0x7ab8, 0x1043, 0x8694, 0x11, 0x060400, "pcieport",      5, -1, FALSE, "" }, \
        { "0000:00:1c.4", 0x8086, 0x7abc, 0x1043, 0x8694, 0x11, 0x060400, "pcieport",      5, -1, FALSE, "" }, \
        { "0000:00:1f.0", 0x8086, 0x7a84, 0x1043, 0x8694, 0x11, 0x060100, "lpc_ich",       6, -1, FALSE, "" }, \
        { "0000:00:1f.3", 0x8086, 0x7ad0, 0x1043, 0x8694, 0x11, 0x040300, "snd_hda_intel", 6, -1, FALSE, "af_flr" }, \
        { "0000:00:1f.4", 0x8086, 0x7aa3, 0x1043, 0x8694, 0x11, 0x0c0500, "i801_smbus",    6, -1, FALSE, "" }, \
        { "0000:00:1f.5", 0x8086, 0x7aa4, 0x1043, 0x8694, 0x11, 0x0c8000, "intel-spi",     6, -1, FALSE, "" }, \
        { "0000:02:00.0", 0x144d, 0xa80a, 0x144d, 0xa801, 0x00, 0x010802, "nvme",          7, -1, FALSE, "flr bus" }, \
        { "0000:03:00.0", 0x1002, 0x1478, 0x0000, 0x0000, 0x10, 0x060400, "pcieport",      5, -1, FALSE, "" }, \
        { "0000:04:00.0", 0x1002, 0x1479, 0x1002, 0x1479, 0x10, 0x060400, "pcieport",      5, -1, FALSE, "" }, \
        { "0000:05:00.0", 0x1002, 0x744c, 0x1da2, 0xe471, 0xc8, 0x030000, "amdgpu",        5, -1, FALSE, "bus" }, \
        { "0000:05:00.1", 0x1002, 0xab30, 0x1002, 0xab30, 0x00, 0x040300, "snd_hda_intel", 5, -1, FALSE, "bus" }, \
        { "0000:06:00.0", 0x8086, 0x15f3, 0x1043, 0x87d2, 0x03, 0x020000, "igc",           5, -1, FALSE, "flr bus" }

static const ExpectedDevice desktop_intel_devices[] = {
        DESKTOP_COMMON,
        { "0000:01:00.0", 0x10de, 0x2684, 0x1043, 0x889a, 0xa1, 0x030000, "nvidia",        2, -1, FALSE, "bus" },
        { "0000:01:00.1", 0x10de, 0x22ba, 0x1043, 0x889a, 0xa1, 0x040300, "snd_hda_intel", 2, -1, FALSE, "bus" },
};

static const ExpectedDevice desktop_vfio_bound_devices[] = {
        DESKTOP_COMMON,
        { "0000:01:00.0", 0x10de, 0x2684, 0x1043, 0x889a, 0xa1, 0x030000, "vfio-pci", 2, -1, FALSE, "bus",
          .override = "vfio-pci", .vfio_group = "/dev/vfio/2", .vfio_device = "/dev/vfio/devices/vfio0" },
        { "0000:01:00.1", 0x10de, 0x22ba, 0x1043, 0x889a, 0xa1, 0x040300, "vfio-pci", 2, -1, FALSE, "bus",
          .override = "vfio-pci", .vfio_group = "/dev/vfio/2", .vfio_device = "/dev/vfio/devices/vfio1" },
};

#define DESKTOP_GROUPS_BUT_2 \
        { 0, "DMA",    "0000:00:02.0", FALSE, "0000:00:02.0", "i915" }, \
        { 1, "DMA-FQ", "0000:00:00.0", FALSE, "0000:00:00.0", "igen6_edac" }, \
        { 3, "DMA-FQ", "0000:00:06.0", TRUE, "", "" }, \
        { 4, "DMA-FQ", "0000:00:14.0 0000:00:14.2", FALSE, "0000:00:14.0", "xhci_hcd" }, \
        { 5, "DMA-FQ", "0000:00:1c.0 0000:00:1c.4 0000:03:00.0 0000:04:00.0 0000:05:00.0 0000:05:00.1 0000:06:00.0", \
          FALSE, "0000:05:00.0 0000:05:00.1 0000:06:00.0", "amdgpu snd_hda_intel igc" }, \
        { 6, "DMA-FQ", "0000:00:1f.0 0000:00:1f.3 0000:00:1f.4 0000:00:1f.5", \
          FALSE, "0000:00:1f.0 0000:00:1f.3 0000:00:1f.4 0000:00:1f.5", "lpc_ich snd_hda_intel i801_smbus intel-spi" }, \
        { 7, "DMA-FQ", "0000:02:00.0", FALSE, "0000:02:00.0", "nvme" }

static const ExpectedGroup desktop_intel_groups[] = {
        DESKTOP_GROUPS_BUT_2,
        { 2, "DMA", "0000:00:01.0 0000:01:00.0 0000:01:00.1", FALSE, "0000:01:00.0 0000:01:00.1", "nvidia snd_hda_intel" },
};

static const ExpectedGroup desktop_vfio_bound_groups[] = {
        DESKTOP_GROUPS_BUT_2,
        { 2, "DMA", "0000:00:01.0 0000:01:00.0 0000:01:00.1", TRUE, "", "" },
};

/* desktop-intel with VMD on: 00:06.0 and the 980 PRO moved behind the VMD
 * endpoint 00:0e.0 into domain 10000, in no IOMMU group of their own. */
static const ExpectedDevice desktop_vmd_devices[] = {
        { "0000:00:00.0", 0x8086, 0x4660, 0x1043, 0x8694, 0x02, 0x060000, "igen6_edac",    1, -1, FALSE, "" },
        { "0000:00:01.0", 0x8086, 0x460d, 0x1043, 0x8694, 0x02, 0x060400, "pcieport",      2, -1, FALSE, "" },
        { "0000:00:02.0", 0x8086, 0x4680, 0x1043, 0x8694, 0x0c, 0x030000, "i915",          0, -1, TRUE,  "flr" },
        { "0000:00:0e.0", 0x8086, 0x467f, 0x1043, 0x8694, 0x02, 0x010400, "vmd",           3, -1, FALSE, "" },
        { "0000:00:14.0", 0x8086, 0x7ae0, 0x1043, 0x8694, 0x11, 0x0c0330, "xhci_hcd",      4, -1, FALSE, "flr" },
        { "0000:00:14.2", 0x8086, 0x7aa7, 0x1043, 0x8694, 0x11, 0x050000, NULL,            4, -1, FALSE, "" },
        { "0000:00:1c.0", 0x8086, 0x7ab8, 0x1043, 0x8694, 0x11, 0x060400, "pcieport",      5, -1, FALSE, "" },
        { "0000:00:1c.4", 0x8086, 0x7abc, 0x1043, 0x8694, 0x11, 0x060400, "pcieport",      5, -1, FALSE, "" },
        { "0000:00:1f.0", 0x8086, 0x7a84, 0x1043, 0x8694, 0x11, 0x060100, "lpc_ich",       6, -1, FALSE, "" },
        { "0000:00:1f.3", 0x8086, 0x7ad0, 0x1043, 0x8694, 0x11, 0x040300, "snd_hda_intel", 6, -1, FALSE, "af_flr" },
        { "0000:00:1f.4", 0x8086, 0x7aa3, 0x1043, 0x8694, 0x11, 0x0c0500, "i801_smbus",    6, -1, FALSE, "" },
        { "0000:00:1f.5", 0x8086, 0x7aa4, 0x1043, 0x8694, 0x11, 0x0c8000, "intel-spi",     6, -1, FALSE, "" },
        { "0000:01:00.0", 0x10de, 0x2684, 0x1043, 0x889a, 0xa1, 0x030000, "nvidia",        2, -1, FALSE, "bus" },
        { "0000:01:00.1", 0x10de, 0x22ba, 0x1043, 0x889a, 0xa1, 0x040300, "snd_hda_intel", 2, -1, FALSE, "bus" },
        { "0000:03:00.0", 0x1002, 0x1478, 0x0000, 0x0000, 0x10, 0x060400, "pcieport",      5, -1, FALSE, "" },
        { "0000:04:00.0", 0x1002, 0x1479, 0x1002, 0x1479, 0x10, 0x060400, "pcieport",      5, -1, FALSE, "" },
        { "0000:05:00.0", 0x1002, 0x744c, 0x1da2, 0xe471, 0xc8, 0x030000, "amdgpu",        5, -1, FALSE, "bus" },
        { "0000:05:00.1", 0x1002, 0xab30, 0x1002, 0xab30, 0x00, 0x040300, "snd_hda_intel", 5, -1, FALSE, "bus" },
        { "0000:06:00.0", 0x8086, 0x15f3, 0x1043, 0x87d2, 0x03, 0x020000, "igc",           5, -1, FALSE, "flr bus" },
        { "10000:e0:06.0", 0x8086, 0x464d, 0x1043, 0x8694, 0x02, 0x060400, "pcieport",    -1, -1, FALSE, "" },
        { "10000:e1:00.0", 0x144d, 0xa80a, 0x144d, 0xa801, 0x00, 0x010802, "nvme",        -1, -1, FALSE, "flr bus" },
};

static const ExpectedGroup desktop_vmd_groups[] = {
        { 0, "DMA",    "0000:00:02.0", FALSE, "0000:00:02.0", "i915" },
        { 1, "DMA-FQ", "0000:00:00.0", FALSE, "0000:00:00.0", "igen6_edac" },
        { 2, "DMA", "0000:00:01.0 0000:01:00.0 0000:01:00.1", FALSE, "0000:01:00.0 0000:01:00.1", "nvidia snd_hda_intel" },
        { 3, "DMA-FQ", "0000:00:0e.0", FALSE, "0000:00:0e.0", "vmd" },
        { 4, "DMA-FQ", "0000:00:14.0 0000:00:14.2", FALSE, "0000:00:14.0", "xhci_hcd" },
        { 5, "DMA-FQ", "0000:00:1c.0 0000:00:1c.4 0000:03:00.0 0000:04:00.0 0000:05:00.0 0000:05:00.1 0000:06:00.0",
          FALSE, "0000:05:00.0 0000:05:00.1 0000:06:00.0", "amdgpu snd_hda_intel igc" },
        { 6, "DMA-FQ", "0000:00:1f.0 0000:00:1f.3 0000:00:1f.4 0000:00:1f.5",
          FALSE, "0000:00:1f.0 0000:00:1f.3 0000:00:1f.4 0000:00:1f.5", "lpc_ich snd_hda_intel i801_smbus intel-spi" },
};

static const ExpectedDevice server_sriov_devices[] = {
        { "0000:00:00.0", 0x8086, 0x2020, 0x15d9, 0x095d, 0x04, 0x060000, NULL,         0, 0, FALSE, "" },
        { "0000:00:1c.0", 0x8086, 0xa190, 0x15d9, 0x095d, 0x09, 0x060400, "pcieport",   5, 0, FALSE, "" },
        { "0000:00:1f.0", 0x8086, 0xa1c1, 0x15d9, 0x095d, 0x09, 0x060100, NULL,         7, 0, FALSE, "" },
        { "0000:00:1f.4", 0x8086, 0xa1a3, 0x15d9, 0x095d, 0x09, 0x0c0500, "i801_smbus", 7, 0, FALSE, "" },
        { "0000:01:00.0", 0x1a03, 0x1150, 0x0000, 0x0000, 0x04, 0x060400, NULL,         6, 0, FALSE, "" },
        { "0000:02:00.0", 0x1a03, 0x2000, 0x15d9, 0x095d, 0x41, 0x030000, "ast",        6, 0, TRUE,  "" },
        { "0000:3a:00.0", 0x8086, 0x2030, 0x15d9, 0x095d, 0x04, 0x060400, "pcieport",  20, 0, FALSE, "" },
        { "0000:3b:00.0", 0x8086, 0x1572, 0x8086, 0x0007, 0x02, 0x020000, "i40e",      21, 0, FALSE, "flr",
          .numvfs = 2, .totalvfs = 8 },
        { "0000:3b:00.1", 0x8086, 0x1572, 0x8086, 0x0000, 0x02, 0x020000, "i40e",      22, 0, FALSE, "flr",
          .numvfs = 0, .totalvfs = 8 },
        { "0000:3b:02.0", 0x8086, 0x154c, 0x8086, 0x0000, 0x02, 0x020000, "iavf",      23, 0, FALSE, "flr",
          .physfn = "0000:3b:00.0" },
        { "0000:3b:02.1", 0x8086, 0x154c, 0x8086, 0x0000, 0x02, 0x020000, "vfio-pci",  24, 0, FALSE, "flr",
          .physfn = "0000:3b:00.0", .vfio_group = "/dev/vfio/24" },
        { "0000:ae:00.0", 0x8086, 0x2030, 0x15d9, 0x095d, 0x04, 0x060400, "pcieport",  40, 1, FALSE, "" },
        { "0000:af:00.0", 0x144d, 0xa824, 0x144d, 0xa801, 0x00, 0x010802, "nvme",      41, 1, FALSE, "flr bus" },
};

static const ExpectedGroup server_sriov_groups[] = {
        { 0, "identity", "0000:00:00.0", TRUE, "", "" },
        { 5, "identity", "0000:00:1c.0", TRUE, "", "" },
        { 6, "identity", "0000:01:00.0 0000:02:00.0", FALSE, "0000:02:00.0", "ast" },
        { 7, "identity", "0000:00:1f.0 0000:00:1f.4", FALSE, "0000:00:1f.4", "i801_smbus" },
        { 20, "identity", "0000:3a:00.0", TRUE, "", "" },
        { 21, "identity", "0000:3b:00.0", FALSE, "0000:3b:00.0", "i40e" },
        { 22, "identity", "0000:3b:00.1", FALSE, "0000:3b:00.1", "i40e" },
        { 23, "identity", "0000:3b:02.0", FALSE, "0000:3b:02.0", "iavf" },
        { 24, "identity", "0000:3b:02.1", TRUE, "", "" },
        { 40, "identity", "0000:ae:00.0", TRUE, "", "" },
        { 41, "identity", "0000:af:00.0", FALSE, "0000:af:00.0", "nvme" },
};

static const ExpectedDevice no_iommu_devices[] = {
        { "0000:00:00.0", 0x8086, 0x191f, 0x1458, 0x5000, 0x07, 0x060000, "skl_uncore",    -1, -1, FALSE, "" },
        { "0000:00:01.0", 0x8086, 0x1901, 0x0000, 0x0000, 0x07, 0x060400, "pcieport",      -1, -1, FALSE, "" },
        { "0000:00:02.0", 0x8086, 0x1912, 0x1458, 0x5000, 0x06, 0x030000, "i915",          -1, -1, TRUE,  "flr" },
        { "0000:00:14.0", 0x8086, 0xa12f, 0x1458, 0x5000, 0x31, 0x0c0330, "xhci_hcd",      -1, -1, FALSE, "" },
        { "0000:00:17.0", 0x8086, 0xa102, 0x1458, 0x5000, 0x31, 0x010601, "ahci",          -1, -1, FALSE, "" },
        { "0000:00:1c.0", 0x8086, 0xa110, 0x0000, 0x0000, 0xf1, 0x060400, "pcieport",      -1, -1, FALSE, "" },
        { "0000:00:1f.0", 0x8086, 0xa145, 0x1458, 0x5000, 0x31, 0x060100, NULL,            -1, -1, FALSE, "" },
        { "0000:00:1f.3", 0x8086, 0xa170, 0x1458, 0x5000, 0x31, 0x040300, "snd_hda_intel", -1, -1, FALSE, "" },
        { "0000:00:1f.4", 0x8086, 0xa123, 0x1458, 0x5000, 0x31, 0x0c0500, "i801_smbus",    -1, -1, FALSE, "" },
        { "0000:01:00.0", 0x10de, 0x1b80, 0x1458, 0x3702, 0xa1, 0x030000, "nvidia",        -1, -1, FALSE, "bus" },
        { "0000:01:00.1", 0x10de, 0x10f0, 0x1458, 0x3702, 0xa1, 0x040300, "snd_hda_intel", -1, -1, FALSE, "bus" },
        { "0000:02:00.0", 0x10ec, 0x8168, 0x1458, 0xe000, 0x15, 0x020000, "r8169",         -1, -1, FALSE, "bus" },
};

static const ExpectedDevice amd_desktop_devices[] = {
        { "0000:00:00.0", 0x1022, 0x1480, 0x1462, 0x7c37, 0x00, 0x060000, NULL,            0, -1, FALSE, "" },
        { "0000:00:00.2", 0x1022, 0x1481, 0x1462, 0x7c37, 0x00, 0x080600, NULL,           -1, -1, FALSE, "" },
        { "0000:00:01.0", 0x1022, 0x1482, 0x0000, 0x0000, 0x00, 0x060000, NULL,            1, -1, FALSE, "" },
        { "0000:00:01.1", 0x1022, 0x1483, 0x1462, 0x7c37, 0x00, 0x060400, "pcieport",      2, -1, FALSE, "" },
        { "0000:00:03.0", 0x1022, 0x1482, 0x0000, 0x0000, 0x00, 0x060000, NULL,            4, -1, FALSE, "" },
        { "0000:00:03.1", 0x1022, 0x1483, 0x1462, 0x7c37, 0x00, 0x060400, "pcieport",      5, -1, FALSE, "" },
        { "0000:00:14.0", 0x1022, 0x790b, 0x1462, 0x7c37, 0x61, 0x0c0500, "piix4_smbus",   9, -1, FALSE, "" },
        { "0000:00:14.3", 0x1022, 0x790e, 0x1462, 0x7c37, 0x51, 0x060100, NULL,            9, -1, FALSE, "" },
        { "0000:01:00.0", 0x144d, 0xa80a, 0x144d, 0xa801, 0x00, 0x010802, "nvme",          3, -1, FALSE, "flr bus" },
        { "0000:02:00.0", 0x1002, 0x1478, 0x0000, 0x0000, 0x10, 0x060400, "pcieport",      6, -1, FALSE, "" },
        { "0000:03:00.0", 0x1002, 0x1479, 0x1002, 0x1479, 0x10, 0x060400, "pcieport",      7, -1, FALSE, "" },
        { "0000:04:00.0", 0x1002, 0x744c, 0x1da2, 0xe471, 0xc8, 0x030000, "amdgpu",        8, -1, TRUE,  "bus" },
        { "0000:04:00.1", 0x1002, 0xab30, 0x1002, 0xab30, 0x00, 0x040300, "snd_hda_intel", 8, -1, FALSE, "bus" },
};

static const ExpectedGroup amd_desktop_groups[] = {
        { 0, "DMA-FQ", "0000:00:00.0", TRUE, "", "" },
        { 1, "DMA-FQ", "0000:00:01.0", TRUE, "", "" },
        { 2, "DMA-FQ", "0000:00:01.1", TRUE, "", "" },
        { 3, "DMA-FQ", "0000:01:00.0", FALSE, "0000:01:00.0", "nvme" },
        { 4, "DMA-FQ", "0000:00:03.0", TRUE, "", "" },
        { 5, "DMA-FQ", "0000:00:03.1", TRUE, "", "" },
        { 6, "DMA-FQ", "0000:02:00.0", TRUE, "", "" },
        { 7, "DMA-FQ", "0000:03:00.0", TRUE, "", "" },
        { 8, "DMA-FQ", "0000:04:00.0 0000:04:00.1", FALSE, "0000:04:00.0 0000:04:00.1", "amdgpu snd_hda_intel" },
        { 9, "DMA-FQ", "0000:00:14.0 0000:00:14.3", FALSE, "0000:00:14.0", "piix4_smbus" },
};

static const ExpectedHost expected_hosts[] = {
        { "amd-desktop", amd_desktop_devices, G_N_ELEMENTS(amd_desktop_devices),
          amd_desktop_groups, G_N_ELEMENTS(amd_desktop_groups), TRUE, TRUE },
        { "desktop-intel", desktop_intel_devices, G_N_ELEMENTS(desktop_intel_devices),
          desktop_intel_groups, G_N_ELEMENTS(desktop_intel_groups), TRUE, TRUE },
        { "desktop-vfio-bound", desktop_vfio_bound_devices, G_N_ELEMENTS(desktop_vfio_bound_devices),
          desktop_vfio_bound_groups, G_N_ELEMENTS(desktop_vfio_bound_groups), TRUE, TRUE },
        { "desktop-vmd", desktop_vmd_devices, G_N_ELEMENTS(desktop_vmd_devices),
          desktop_vmd_groups, G_N_ELEMENTS(desktop_vmd_groups), TRUE, TRUE },
        { "no-iommu", no_iommu_devices, G_N_ELEMENTS(no_iommu_devices), NULL, 0, FALSE, FALSE },
        { "server-sriov", server_sriov_devices, G_N_ELEMENTS(server_sriov_devices),
          server_sriov_groups, G_N_ELEMENTS(server_sriov_groups), TRUE, TRUE },
};

static inline const ExpectedHost *expected_host(const char *name) {
        for (size_t i = 0; i < G_N_ELEMENTS(expected_hosts); i++)
                if (g_str_equal(expected_hosts[i].name, name))
                        return &expected_hosts[i];
        g_assert_not_reached();
}

static inline const ExpectedDevice *expected_device(const ExpectedHost *h, const char *address) {
        for (size_t i = 0; i < h->n_devices; i++)
                if (g_str_equal(h->devices[i].address, address))
                        return &h->devices[i];
        return NULL;
}

static inline const ExpectedGroup *expected_group(const ExpectedHost *h, unsigned id) {
        for (size_t i = 0; i < h->n_groups; i++)
                if (h->groups[i].id == id)
                        return &h->groups[i];
        return NULL;
}

static inline gint expected_compare_strp(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Addresses of a host's devices, sorted. */
static inline GPtrArray *expected_addresses(const ExpectedHost *h) {
        GPtrArray *a = g_ptr_array_new();

        for (size_t i = 0; i < h->n_devices; i++)
                g_ptr_array_add(a, (gpointer) h->devices[i].address);
        g_ptr_array_sort(a, expected_compare_strp);
        return a;
}
