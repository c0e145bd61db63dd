#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the fixture host trees under tests/data/hosts/<name>/ and their
umockdev recordings under tests/data/umockdev/<name>.umockdev.

Each host is described declaratively below (HOSTS). The trees imitate a real
Linux host as the kernel lays it out: PCI functions nested under their
upstream bridge in sys/devices, relative symlinks exactly as sysfs makes them
(computed the way kernfs does: up to the common ancestor), attribute files in
the kernel's formats with a trailing newline, a 256-byte config space that
agrees with the attribute files, IOMMU groups, drivers, modules, /proc and
/lib/modules, and /dev/vfio nodes as empty regular files (git cannot hold
device nodes).

Deterministic: no timestamps, sorted iteration; re-running rewrites
identical trees. Standard library only. Run: /usr/bin/python3 make-host-trees.py

Git cannot hold empty directories, so the generator creates none: where a
real kernel has an empty directory (sys/kernel/iommu_groups and
sys/class/iommu on a host without an IOMMU) the tree simply lacks it. Tests
that need the empty directory make a copy and create it (see README.md).
"""

import copy
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Drivers and modules

# PCI driver name -> kernel module providing it (None: built into the kernel).
DRIVER_MODULE = {
    'pcieport': None,
    'shpchp': None,
    'skl_uncore': None,
    'xhci_hcd': 'xhci_pci',
    'igen6_edac': 'igen6_edac',
    'nvidia': 'nvidia',
    'snd_hda_intel': 'snd_hda_intel',
    'i915': 'i915',
    'amdgpu': 'amdgpu',
    'igc': 'igc',
    'r8169': 'r8169',
    'nvme': 'nvme',
    'lpc_ich': 'lpc_ich',
    'i801_smbus': 'i2c_i801',
    'piix4_smbus': 'i2c_piix4',
    'intel-spi': 'spi_intel_pci',
    'i40e': 'i40e',
    'iavf': 'iavf',
    'ast': 'ast',
    'ahci': 'ahci',
    'vfio-pci': 'vfio_pci',
}

# module -> (path below lib/modules/<release>/ without suffix, dependencies)
MODULE_FILES = {
    'xhci_pci': ('kernel/drivers/usb/host/xhci-pci', ['xhci_hcd', 'usbcore', 'usb_common']),
    'xhci_hcd': ('kernel/drivers/usb/host/xhci-hcd', ['usbcore', 'usb_common']),
    'usbcore': ('kernel/drivers/usb/core/usbcore', ['usb_common']),
    'usb_common': ('kernel/drivers/usb/common/usb-common', []),
    'igen6_edac': ('kernel/drivers/edac/igen6_edac', []),
    'nvidia': ('updates/dkms/nvidia', []),
    'snd_hda_intel': ('kernel/sound/pci/hda/snd-hda-intel',
                      ['snd_intel_dspcfg', 'snd_hda_codec', 'snd_hda_core', 'snd_pcm', 'snd', 'soundcore']),
    'snd_intel_dspcfg': ('kernel/sound/hda/snd-intel-dspcfg', ['snd_hda_core']),
    'snd_hda_codec': ('kernel/sound/pci/hda/snd-hda-codec', ['snd_hda_core', 'snd_pcm', 'snd']),
    'snd_hda_core': ('kernel/sound/hda/snd-hda-core', ['snd_pcm', 'snd']),
    'snd_pcm': ('kernel/sound/core/snd-pcm', ['snd']),
    'snd': ('kernel/sound/core/snd', ['soundcore']),
    'soundcore': ('kernel/sound/soundcore', []),
    'i915': ('kernel/drivers/gpu/drm/i915/i915',
             ['drm_display_helper', 'drm_kms_helper', 'drm', 'i2c_algo_bit', 'video', 'wmi']),
    'amdgpu': ('kernel/drivers/gpu/drm/amd/amdgpu/amdgpu',
               ['gpu_sched', 'drm_display_helper', 'drm_kms_helper', 'drm', 'i2c_algo_bit', 'video', 'wmi']),
    'ast': ('kernel/drivers/gpu/drm/ast/ast', ['drm_kms_helper', 'drm', 'i2c_algo_bit']),
    'gpu_sched': ('kernel/drivers/gpu/drm/scheduler/gpu-sched', ['drm']),
    'drm_display_helper': ('kernel/drivers/gpu/drm/display/drm_display_helper', ['drm_kms_helper', 'drm']),
    'drm_kms_helper': ('kernel/drivers/gpu/drm/drm_kms_helper', ['drm']),
    'drm': ('kernel/drivers/gpu/drm/drm', []),
    'i2c_algo_bit': ('kernel/drivers/i2c/algos/i2c-algo-bit', []),
    'video': ('kernel/drivers/acpi/video', ['wmi']),
    'wmi': ('kernel/drivers/platform/x86/wmi', []),
    'igc': ('kernel/drivers/net/ethernet/intel/igc/igc', []),
    'r8169': ('kernel/drivers/net/ethernet/realtek/r8169', ['realtek', 'mdio_devres', 'libphy']),
    'realtek': ('kernel/drivers/net/phy/realtek', ['libphy']),
    'mdio_devres': ('kernel/drivers/net/phy/mdio_devres', ['libphy']),
    'libphy': ('kernel/drivers/net/phy/libphy', []),
    'nvme': ('kernel/drivers/nvme/host/nvme', ['nvme_core']),
    'nvme_core': ('kernel/drivers/nvme/host/nvme-core', []),
    'lpc_ich': ('kernel/drivers/mfd/lpc_ich', []),
    'i2c_i801': ('kernel/drivers/i2c/busses/i2c-i801', ['i2c_smbus']),
    'i2c_piix4': ('kernel/drivers/i2c/busses/i2c-piix4', []),
    'i2c_smbus': ('kernel/drivers/i2c/i2c-smbus', []),
    'spi_intel_pci': ('kernel/drivers/spi/spi-intel-pci', ['spi_intel']),
    'spi_intel': ('kernel/drivers/spi/spi-intel', []),
    'i40e': ('kernel/drivers/net/ethernet/intel/i40e/i40e', []),
    'iavf': ('kernel/drivers/net/ethernet/intel/iavf/iavf', []),
    'ahci': ('kernel/drivers/ata/ahci', ['libahci', 'libata']),
    'libahci': ('kernel/drivers/ata/libahci', ['libata']),
    'libata': ('kernel/drivers/ata/libata', []),
    'vfio_pci': ('kernel/drivers/vfio/pci/vfio-pci', ['vfio_pci_core', 'vfio', 'iommufd', 'irqbypass']),
    'vfio_pci_core': ('kernel/drivers/vfio/pci/vfio-pci-core', ['vfio', 'iommufd', 'irqbypass']),
    'vfio_iommu_type1': ('kernel/drivers/vfio/vfio_iommu_type1', ['vfio']),
    'vfio': ('kernel/drivers/vfio/vfio', ['iommufd']),
    'iommufd': ('kernel/drivers/iommu/iommufd/iommufd', []),
    'irqbypass': ('kernel/virt/lib/irqbypass', []),
}

VFIO_MODULES = ['vfio_pci', 'vfio_pci_core', 'vfio_iommu_type1', 'vfio', 'iommufd', 'irqbypass']

# Built-in modules every host lists in modules.builtin.
COMMON_BUILTIN = [
    'kernel/drivers/base/firmware_loader/firmware_class',
    'kernel/drivers/char/hw_random/rng-core',
    'kernel/drivers/pci/hotplug/shpchp',
    'kernel/drivers/tty/serial/8250/8250',
    'kernel/fs/ext4/ext4',
    'kernel/lib/crc32',
]

# Sizes for proc/modules (only cosmetic, but kept stable).
MODULE_SIZE = {'nvidia': 56201216, 'amdgpu': 15892480, 'i915': 3977216}

# Attributes that the kernel makes write-only (umockdev-record cannot read them).
WRITE_ONLY = {'remove', 'rescan', 'reset'}

# ---------------------------------------------------------------------------
# Host descriptions


def dev(addr, vendor, device, cls, rev, sub=(0, 0), driver=None, group=None, **kw):
    d = dict(addr=addr, vendor=vendor, device=device, cls=cls, rev=rev, sub=sub,
             driver=driver, group=group)
    d.update(kw)
    return d


def pcie_link(gen, width):
    return dict(link=(gen, width))


ASUS_Z690 = (0x1043, 0x8694)


def desktop_intel():
    """ASUS Z690 board, i9-12900K (Alder Lake-S), RTX 4090 on the CPU's PEG
    port, RX 7900 XTX and an I225-V behind the chipset, 980 PRO on a CPU x4
    port. Intel VT-d on (intel_iommu=on), vfio-pci loaded, nothing bound."""
    devices = [
        dev('0000:00:00.0', 0x8086, 0x4660, 0x060000, 0x02, ASUS_Z690, 'igen6_edac', 1),
        dev('0000:00:01.0', 0x8086, 0x460d, 0x060400, 0x02, ASUS_Z690, 'pcieport', 2,
            pcie='rp', link=(4, 16), port=1),
        dev('0000:01:00.0', 0x10de, 0x2684, 0x030000, 0xa1, (0x1043, 0x889a), 'nvidia', 2,
            up='0000:00:01.0', pcie='ep', link=(4, 16), reset=['bus'], boot_vga=False, pm=True),
        dev('0000:01:00.1', 0x10de, 0x22ba, 0x040300, 0xa1, (0x1043, 0x889a), 'snd_hda_intel', 2,
            up='0000:00:01.0', pcie='ep', link=(4, 16), reset=['bus'], pm=True),
        dev('0000:00:02.0', 0x8086, 0x4680, 0x030000, 0x0c, ASUS_Z690, 'i915', 0,
            pcie='rciep', reset=['flr'], boot_vga=True, pm=True),
        dev('0000:00:06.0', 0x8086, 0x464d, 0x060400, 0x02, ASUS_Z690, 'pcieport', 3,
            pcie='rp', link=(4, 4), port=6),
        dev('0000:02:00.0', 0x144d, 0xa80a, 0x010802, 0x00, (0x144d, 0xa801), 'nvme', 7,
            up='0000:00:06.0', pcie='ep', link=(4, 4), reset=['flr', 'bus'], pm=True),
        dev('0000:00:14.0', 0x8086, 0x7ae0, 0x0c0330, 0x11, ASUS_Z690, 'xhci_hcd', 4,
            pm=True, reset=['flr']),
        dev('0000:00:14.2', 0x8086, 0x7aa7, 0x050000, 0x11, ASUS_Z690, None, 4, pm=True),
        dev('0000:00:1c.0', 0x8086, 0x7ab8, 0x060400, 0x11, ASUS_Z690, 'pcieport', 5,
            pcie='rp', link=(4, 4), port=1),
        dev('0000:03:00.0', 0x1002, 0x1478, 0x060400, 0x10, (0, 0), 'pcieport', 5,
            up='0000:00:1c.0', pcie='up', link=(4, 4), pm=True),
        dev('0000:04:00.0', 0x1002, 0x1479, 0x060400, 0x10, (0x1002, 0x1479), 'pcieport', 5,
            up='0000:03:00.0', pcie='down', link=(4, 16), pm=True),
        dev('0000:05:00.0', 0x1002, 0x744c, 0x030000, 0xc8, (0x1da2, 0xe471), 'amdgpu', 5,
            up='0000:04:00.0', pcie='ep', link=(4, 16), reset=['bus'], boot_vga=False, pm=True),
        dev('0000:05:00.1', 0x1002, 0xab30, 0x040300, 0x00, (0x1002, 0xab30), 'snd_hda_intel', 5,
            up='0000:04:00.0', pcie='ep', link=(4, 16), reset=['bus'], pm=True),
        dev('0000:00:1c.4', 0x8086, 0x7abc, 0x060400, 0x11, ASUS_Z690, 'pcieport', 5,
            pcie='rp', link=(2, 1), port=5),
        dev('0000:06:00.0', 0x8086, 0x15f3, 0x020000, 0x03, (0x1043, 0x87d2), 'igc', 5,
            up='0000:00:1c.4', pcie='ep', link=(2, 1), reset=['flr', 'bus'], pm=True),
        dev('0000:00:1f.0', 0x8086, 0x7a84, 0x060100, 0x11, ASUS_Z690, 'lpc_ich', 6),
        dev('0000:00:1f.3', 0x8086, 0x7ad0, 0x040300, 0x11, ASUS_Z690, 'snd_hda_intel', 6,
            reset=['af_flr'], pm=True),
        dev('0000:00:1f.4', 0x8086, 0x7aa3, 0x0c0500, 0x11, ASUS_Z690, 'i801_smbus', 6),
        dev('0000:00:1f.5', 0x8086, 0x7aa4, 0x0c8000, 0x11, ASUS_Z690, 'intel-spi', 6),
    ]
    return dict(
        release='6.9.7-arch1-1',
        modsuffix='.ko.zst',
        cmdline='BOOT_IMAGE=/vmlinuz-linux root=UUID=5f0c6a54-2d9e-4c41-9a3b-0d5c1e6b7a21 rw '
                'loglevel=3 quiet intel_iommu=on',
        cpus=24, nodes=None,
        iommu='intel',
        dmar={'dmar0': ['0000:00:02.0'], 'dmar1': '*'},
        group_types={0: 'DMA', 1: 'DMA-FQ', 2: 'DMA', 3: 'DMA-FQ', 4: 'DMA-FQ',
                     5: 'DMA-FQ', 6: 'DMA-FQ', 7: 'DMA-FQ'},
        rmrr={0: [(0x7b800000, 0x7fffffff, 'direct')],
              4: [(0x3e2e0000, 0x3e2fffff, 'direct-relaxable')]},
        vfio='module', vfio_loaded=True, vfio_cdev=True,
        extra_modules=[],
        devices=devices,
    )


def desktop_vfio_bound():
    """The same desktop after the RTX 4090 and its audio function were handed
    to vfio-pci (driver_override + drivers_probe) on an Ubuntu kernel that has
    vfio-pci built in and the iommufd device cdev: /dev/vfio/2 and
    /dev/vfio/devices/vfio{0,1} exist; the nvidia module is not loaded."""
    h = desktop_intel()
    h['release'] = '6.8.0-45-generic'
    h['cmdline'] = ('BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic root=UUID=0b6c2f3e-8a41-4f7d-9a1e-3c2b1d0e9f87 '
                    'ro quiet splash intel_iommu=on vt.handoff=7')
    h['vfio'] = 'builtin'
    for d in h['devices']:
        if d['addr'] in ('0000:01:00.0', '0000:01:00.1'):
            d['driver'] = 'vfio-pci'
            d['override'] = 'vfio-pci'
    return h


def server_sriov():
    """Supermicro X11SPM-TF, dual Xeon Scalable (Sky Lake-SP), two NUMA nodes.
    An X710 PF on socket 0 has 2 of 8 VFs enabled: VF0 on iavf, VF1 on
    vfio-pci (legacy /dev/vfio/24, no device cdev on this RHEL 9 kernel).
    iommu=pt: every group's default domain is identity."""
    sm = (0x15d9, 0x095d)
    devices = [
        dev('0000:00:00.0', 0x8086, 0x2020, 0x060000, 0x04, sm, None, 0, numa=0, pcie='rciep'),
        dev('0000:00:1c.0', 0x8086, 0xa190, 0x060400, 0x09, sm, 'pcieport', 5, numa=0,
            pcie='rp', link=(1, 1), port=1, vga_route=True),
        dev('0000:01:00.0', 0x1a03, 0x1150, 0x060400, 0x04, (0, 0), None, 6, numa=0,
            up='0000:00:1c.0', pcie='pcie2pci', link=(1, 1), pm=True, vga_route=True),
        dev('0000:02:00.0', 0x1a03, 0x2000, 0x030000, 0x41, sm, 'ast', 6, numa=0,
            up='0000:01:00.0', pcie=None, boot_vga=True, pm=True),
        dev('0000:00:1f.0', 0x8086, 0xa1c1, 0x060100, 0x09, sm, None, 7, numa=0),
        dev('0000:00:1f.4', 0x8086, 0xa1a3, 0x0c0500, 0x09, sm, 'i801_smbus', 7, numa=0),
        dev('0000:3a:00.0', 0x8086, 0x2030, 0x060400, 0x04, sm, 'pcieport', 20, numa=0,
            pcie='rp', link=(3, 8), port=1),
        dev('0000:3b:00.0', 0x8086, 0x1572, 0x020000, 0x02, (0x8086, 0x0007), 'i40e', 21, numa=0,
            up='0000:3a:00.0', pcie='ep', link=(3, 8), reset=['flr'], pm=True,
            sriov=dict(total=8, num=2, offset=16, stride=1, vf_device=0x154c)),
        dev('0000:3b:00.1', 0x8086, 0x1572, 0x020000, 0x02, (0x8086, 0x0000), 'i40e', 22, numa=0,
            up='0000:3a:00.0', pcie='ep', link=(3, 8), reset=['flr'], pm=True,
            sriov=dict(total=8, num=0, offset=15, stride=1, vf_device=0x154c)),
        dev('0000:3b:02.0', 0x8086, 0x154c, 0x020000, 0x02, (0x8086, 0x0000), 'iavf', 23, numa=0,
            up='0000:3a:00.0', pcie='ep', link=(3, 8), reset=['flr'], physfn='0000:3b:00.0'),
        dev('0000:3b:02.1', 0x8086, 0x154c, 0x020000, 0x02, (0x8086, 0x0000), 'vfio-pci', 24, numa=0,
            up='0000:3a:00.0', pcie='ep', link=(3, 8), reset=['flr'], physfn='0000:3b:00.0'),
        dev('0000:ae:00.0', 0x8086, 0x2030, 0x060400, 0x04, sm, 'pcieport', 40, numa=1,
            pcie='rp', link=(3, 4), port=1),
        dev('0000:af:00.0', 0x144d, 0xa824, 0x010802, 0x00, (0x144d, 0xa801), 'nvme', 41, numa=1,
            up='0000:ae:00.0', pcie='ep', link=(4, 4), reset=['flr', 'bus'], pm=True),
    ]
    return dict(
        release='5.14.0-427.13.1.el9_4.x86_64',
        modsuffix='.ko.xz',
        cmdline='BOOT_IMAGE=(hd0,gpt2)/vmlinuz-5.14.0-427.13.1.el9_4.x86_64 root=/dev/mapper/rhel-root ro '
                'crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rhel-swap '
                'rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap intel_iommu=on iommu=pt',
        cpus=64, nodes={0: '0-15,32-47', 1: '16-31,48-63'},
        iommu='intel',
        dmar={'dmar0': 'pci0000:ae', 'dmar1': 'pci0000:3a', 'dmar2': 'pci0000:00'},
        group_types={g: 'identity' for g in (0, 5, 6, 7, 20, 21, 22, 23, 24, 40, 41)},
        rmrr={},
        vfio='module', vfio_loaded=True, vfio_cdev=False,
        extra_modules=[],
        devices=devices,
    )


def no_iommu():
    """Gigabyte Z170 desktop, i7-6700K, GTX 1080, on Debian 12 with VT-d off
    in the firmware: no IOMMU groups, no sys/class/iommu entries, and this
    kernel ships no VFIO modules at all."""
    gb = (0x1458, 0x5000)
    devices = [
        dev('0000:00:00.0', 0x8086, 0x191f, 0x060000, 0x07, gb, 'skl_uncore'),
        dev('0000:00:01.0', 0x8086, 0x1901, 0x060400, 0x07, (0, 0), 'pcieport',
            pcie='rp', link=(3, 16), port=2, pm=True),
        dev('0000:01:00.0', 0x10de, 0x1b80, 0x030000, 0xa1, (0x1458, 0x3702), 'nvidia',
            up='0000:00:01.0', pcie='legacy', link=(3, 16), reset=['bus'], boot_vga=False, pm=True),
        dev('0000:01:00.1', 0x10de, 0x10f0, 0x040300, 0xa1, (0x1458, 0x3702), 'snd_hda_intel',
            up='0000:00:01.0', pcie='ep', link=(3, 16), reset=['bus'], pm=True),
        dev('0000:00:02.0', 0x8086, 0x1912, 0x030000, 0x06, gb, 'i915', boot_vga=True, pm=True,
            reset=['flr']),
        dev('0000:00:14.0', 0x8086, 0xa12f, 0x0c0330, 0x31, gb, 'xhci_hcd', pm=True),
        dev('0000:00:17.0', 0x8086, 0xa102, 0x010601, 0x31, gb, 'ahci', pm=True),
        dev('0000:00:1c.0', 0x8086, 0xa110, 0x060400, 0xf1, (0, 0), 'pcieport',
            pcie='rp', link=(1, 1), port=1, pm=True),
        dev('0000:02:00.0', 0x10ec, 0x8168, 0x020000, 0x15, (0x1458, 0xe000), 'r8169',
            up='0000:00:1c.0', pcie='ep', link=(1, 1), reset=['bus'], pm=True),
        dev('0000:00:1f.0', 0x8086, 0xa145, 0x060100, 0x31, gb, None),
        dev('0000:00:1f.3', 0x8086, 0xa170, 0x040300, 0x31, gb, 'snd_hda_intel', pm=True),
        dev('0000:00:1f.4', 0x8086, 0xa123, 0x0c0500, 0x31, gb, 'i801_smbus'),
    ]
    return dict(
        release='6.1.0-18-amd64',
        modsuffix='.ko',
        cmdline='BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=2d1f6a0e-7c44-4b52-8e0f-9a6b3c5d1e22 ro quiet',
        cpus=8, nodes=None,
        iommu=None,
        dmar={}, group_types={}, rmrr={},
        vfio=None, vfio_loaded=False, vfio_cdev=False,
        extra_modules=[],
        devices=devices,
    )


def amd_desktop():
    """MSI X570-A PRO, Ryzen (Matisse), RX 7900 XTX as the only GPU
    (boot VGA). AMD-Vi is active by default (ivhd0, hosted by the IOMMU
    function 00:00.2, which is itself in no group); amd_iommu is not on the
    command line. vfio-pci is installed as a module but not loaded."""
    msi = (0x1462, 0x7c37)
    devices = [
        dev('0000:00:00.0', 0x1022, 0x1480, 0x060000, 0x00, msi, None, 0),
        dev('0000:00:00.2', 0x1022, 0x1481, 0x080600, 0x00, msi, None, None),
        dev('0000:00:01.0', 0x1022, 0x1482, 0x060000, 0x00, (0, 0), None, 1),
        dev('0000:00:01.1', 0x1022, 0x1483, 0x060400, 0x00, msi, 'pcieport', 2,
            pcie='rp', link=(4, 4), port=1, pm=True),
        dev('0000:01:00.0', 0x144d, 0xa80a, 0x010802, 0x00, (0x144d, 0xa801), 'nvme', 3,
            up='0000:00:01.1', pcie='ep', link=(4, 4), reset=['flr', 'bus'], pm=True),
        dev('0000:00:03.0', 0x1022, 0x1482, 0x060000, 0x00, (0, 0), None, 4),
        dev('0000:00:03.1', 0x1022, 0x1483, 0x060400, 0x00, msi, 'pcieport', 5,
            pcie='rp', link=(4, 16), port=3, pm=True, vga_route=True),
        dev('0000:02:00.0', 0x1002, 0x1478, 0x060400, 0x10, (0, 0), 'pcieport', 6,
            up='0000:00:03.1', pcie='up', link=(4, 16), pm=True, vga_route=True),
        dev('0000:03:00.0', 0x1002, 0x1479, 0x060400, 0x10, (0x1002, 0x1479), 'pcieport', 7,
            up='0000:02:00.0', pcie='down', link=(4, 16), pm=True, vga_route=True),
        dev('0000:04:00.0', 0x1002, 0x744c, 0x030000, 0xc8, (0x1da2, 0xe471), 'amdgpu', 8,
            up='0000:03:00.0', pcie='ep', link=(4, 16), reset=['bus'], boot_vga=True, pm=True),
        dev('0000:04:00.1', 0x1002, 0xab30, 0x040300, 0x00, (0x1002, 0xab30), 'snd_hda_intel', 8,
            up='0000:03:00.0', pcie='ep', link=(4, 16), reset=['bus'], pm=True),
        dev('0000:00:14.0', 0x1022, 0x790b, 0x0c0500, 0x61, msi, 'piix4_smbus', 9),
        dev('0000:00:14.3', 0x1022, 0x790e, 0x060100, 0x51, msi, None, 9),
    ]
    return dict(
        release='6.1.0-18-amd64',
        modsuffix='.ko',
        cmdline='BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=9c3e5b7a-1f2d-4e60-8b4a-6d7e8f901a2b ro quiet',
        cpus=16, nodes=None,
        iommu='amd',
        dmar={},
        group_types={g: 'DMA-FQ' for g in range(10)},
        rmrr={},
        vfio='module', vfio_loaded=False, vfio_cdev=False,
        extra_modules=[],
        devices=devices,
    )


HOSTS = {
    'desktop-intel': desktop_intel,
    'desktop-vfio-bound': desktop_vfio_bound,
    'server-sriov': server_sriov,
    'no-iommu': no_iommu,
    'amd-desktop': amd_desktop,
}

# ---------------------------------------------------------------------------
# Helpers


def parse_addr(a):
    dom, bus, df = a.split(':')
    d, f = df.split('.')
    return int(dom, 16), int(bus, 16), int(d, 16), int(f, 16)


def fmt_addr(dom, bus, d, f):
    return '%04x:%02x:%02x.%x' % (dom, bus, d, f)


def is_bridge(d):
    return (d['cls'] >> 8) in (0x0604, 0x0609)


def g_strescape(data):
    """GLib's g_strescape() as used by umockdev-record for text attributes."""
    out = []
    for ch in data:
        o = ord(ch)
        if ch == '\b':
            out.append('\\b')
        elif ch == '\f':
            out.append('\\f')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\v':
            out.append('\\v')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '"':
            out.append('\\"')
        elif o < 0x20 or o == 0x7f:
            out.append('\\%03o' % o)
        elif o >= 0x80:
            out.append(''.join('\\%03o' % b for b in ch.encode('utf-8')))
        else:
            out.append(ch)
    return ''.join(out)


def cpumask(cpulist, ncpus):
    bits = 0
    for part in cpulist.split(','):
        if '-' in part:
            a, b = part.split('-')
            for i in range(int(a), int(b) + 1):
                bits |= 1 << i
        else:
            bits |= 1 << int(part)
    digits = (ncpus + 3) // 4
    s = '%0*x' % (digits, bits)
    chunks = []
    while s:
        chunks.insert(0, s[-8:])
        s = s[:-8]
    return ','.join(chunks)


LINK_SPEED = {1: '2.5 GT/s PCIe', 2: '5.0 GT/s PCIe', 3: '8.0 GT/s PCIe', 4: '16.0 GT/s PCIe',
              5: '32.0 GT/s PCIe'}
PCIE_TYPE = {'ep': 0, 'legacy': 1, 'rp': 4, 'up': 5, 'down': 6, 'pcie2pci': 7, 'rciep': 9}


class Tree:
    """Writes files and links beneath one host root, remembering what it
    wrote so the umockdev recording can be produced from the same data."""

    def __init__(self, root):
        self.root = root

    def p(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, content):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = 'wb' if isinstance(content, (bytes, bytearray)) else 'w'
        with open(path, mode) as f:
            f.write(content)

    def link(self, rel, target_rel):
        """A relative symlink at rel pointing at target_rel (both relative to
        the host root), spelled the way kernfs spells it."""
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        target = os.path.relpath(target_rel, os.path.dirname(rel))
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)


# ---------------------------------------------------------------------------
# Config space


def build_config(d, host):
    cfg = bytearray(256)

    def w8(off, v):
        cfg[off] = v & 0xff

    def w16(off, v):
        cfg[off:off + 2] = (v & 0xffff).to_bytes(2, 'little')

    def w32(off, v):
        cfg[off:off + 4] = (v & 0xffffffff).to_bytes(4, 'little')

    vf = d.get('physfn') is not None
    # An SR-IOV VF's vendor and device ID registers read 0xffff; the kernel
    # fills the sysfs files from the PF's SR-IOV capability instead.
    w16(0x00, 0xffff if vf else d['vendor'])
    w16(0x02, 0xffff if vf else d['device'])
    bridge = is_bridge(d)
    drv = d['driver']
    if bridge:
        cmd = 0x0007 if drv else 0x0000
    elif drv and drv != 'vfio-pci':
        cmd = 0x0406
    else:
        cmd = 0x0000

    caps = []
    if d.get('pm'):
        caps.append('pm')
    if d.get('pcie'):
        caps.append('pcie')
    if bridge and d['sub'] != (0, 0):
        caps.append('ssvid')

    w16(0x04, cmd)
    w16(0x06, 0x0010 if caps else 0x0000)
    w8(0x08, d['rev'])
    w8(0x09, d['cls'] & 0xff)
    w8(0x0a, (d['cls'] >> 8) & 0xff)
    w8(0x0b, (d['cls'] >> 16) & 0xff)
    w8(0x0c, 0x10 if drv else 0)
    htype = 1 if bridge else 0
    if d.get('multifunction'):
        htype |= 0x80
    w8(0x0e, htype)

    irq = d['irq']
    if bridge:
        w8(0x18, d['primary'])
        w8(0x19, d['secondary'])
        w8(0x1a, d['subordinate'])
        w8(0x1c, 0xf0)              # I/O window closed (base > limit)
        w8(0x1d, 0x00)
        w16(0x20, 0xfff0)           # memory window closed
        w16(0x22, 0x0000)
        w16(0x24, 0xfff1)           # prefetchable window closed, 64-bit
        w16(0x26, 0x0001)
        w8(0x3c, irq if irq < 0x100 else 0xff)
        w8(0x3d, 1)
        w16(0x3e, 0x0008 if d.get('vga_route') else 0x0000)   # VGA Enable
    else:
        w16(0x2c, d['sub'][0])
        w16(0x2e, d['sub'][1])
        if irq:
            w8(0x3c, irq)
            w8(0x3d, 1)

    pos = 0x40
    offsets = []
    for c in caps:
        offsets.append((c, pos))
        pos += {'pm': 0x10, 'pcie': 0x40, 'ssvid': 0x10}[c]
    if offsets:
        w8(0x34, offsets[0][1])
    for i, (c, off) in enumerate(offsets):
        nxt = offsets[i + 1][1] if i + 1 < len(offsets) else 0
        w8(off + 1, nxt)
        if c == 'pm':
            w8(off, 0x01)
            w16(off + 2, 0xc803)        # version 3, PME from D3hot/D3cold
            # No_Soft_Reset set unless the kernel offers the "pm" reset.
            w16(off + 4, 0x0000 if 'pm' in d.get('reset', []) else 0x0008)
        elif c == 'ssvid':
            w8(off, 0x0d)
            w16(off + 4, d['sub'][0])
            w16(off + 6, d['sub'][1])
        elif c == 'pcie':
            t = PCIE_TYPE[d['pcie']]
            flags = 0x0002 | (t << 4)
            if t in (4, 6):
                flags |= 0x0100     # slot implemented
            w8(off, 0x10)
            w16(off + 2, flags)
            devcap = 0x00008001         # max payload 256, role-based error reporting
            if 'flr' in d.get('reset', []):
                devcap |= 1 << 28
            w32(off + 4, devcap)
            w16(off + 8, 0x2810 if 'flr' not in d.get('reset', []) else 0x2910)
            if t != 9:
                gen, width = d.get('link', (1, 1))
                port = d.get('port', 0)
                w32(off + 0x0c, gen | (width << 4) | (port << 24) | 0x00400c00)
                sta = gen | (width << 4)
                if t in (4, 6):
                    sta |= 0x2000       # data link layer link active
                    w16(off + 0x1a, 0x0040)     # slot status: presence detected
                w16(off + 0x12, sta)
                w32(off + 0x2c, sum(1 << i for i in range(1, gen + 1)))   # supported speeds
                w16(off + 0x30, gen)
    return bytes(cfg)


def resource_text(d):
    lines = 17 if is_bridge(d) else 13
    return ''.join('0x%016x 0x%016x 0x%016x\n' % (0, 0, 0) for _ in range(lines))


# ---------------------------------------------------------------------------
# Tree generation


def prepare(host):
    """Fills in the derived fields: sysfs paths, bus numbers, multifunction,
    IRQs, SR-IOV VF addresses."""
    devs = {d['addr']: d for d in host['devices']}
    for d in host['devices']:
        d.setdefault('up', None)
        d.setdefault('numa', -1)
        d.setdefault('reset', [])
        d.setdefault('override', None)
        d.setdefault('physfn', None)
        d.setdefault('sriov', None)
        d.setdefault('pcie', None)
        if host['iommu'] is None:
            d['group'] = None

    # Bus numbers of bridges: secondary = the bus of the functions beneath,
    # subordinate = the highest bus beneath.
    def below(addr):
        out = []
        for d in host['devices']:
            if d['up'] == addr:
                out.append(d)
                out.extend(below(d['addr']))
        return out

    for d in host['devices']:
        dom, bus, slot, fn = parse_addr(d['addr'])
        d['primary'] = bus
        if is_bridge(d):
            kids = [k for k in host['devices'] if k['up'] == d['addr']]
            if not kids:
                raise SystemExit('%s: bridge without functions beneath' % d['addr'])
            d['secondary'] = parse_addr(kids[0]['addr'])[1]
            d['subordinate'] = max(parse_addr(k['addr'])[1] for k in below(d['addr']))
        # the parent bridge must lead to this bus
        if d['up']:
            p = devs[d['up']]
            if not is_bridge(p):
                raise SystemExit('%s: parent %s is no bridge' % (d['addr'], p['addr']))

    for d in host['devices']:
        p = devs.get(d['up'])
        if p and parse_addr(d['addr'])[1] != p['secondary']:
            raise SystemExit('%s: not on the secondary bus of %s' % (d['addr'], p['addr']))

    # multifunction: more than one non-VF function in a slot
    slots = {}
    for d in host['devices']:
        if d['physfn']:
            continue
        dom, bus, slot, fn = parse_addr(d['addr'])
        slots.setdefault((dom, bus, slot), []).append(d)
    for fns in slots.values():
        for d in fns:
            d['multifunction'] = len(fns) > 1

    # sysfs paths: nested under the upstream bridge or the root bus
    def syspath(d):
        if d['up']:
            return syspath(devs[d['up']]) + '/' + d['addr']
        dom, bus, _, _ = parse_addr(d['addr'])
        return 'sys/devices/pci%04x:%02x/%s' % (dom, bus, d['addr'])

    for i, d in enumerate(host['devices']):
        d['path'] = syspath(d)
        _, _, slot, fn = parse_addr(d['addr'])
        if (d['cls'] >> 8) in (0x0600, 0x0601) or d['physfn']:
            d['irq'] = 0                # no INTx pin (VFs have none either)
        elif d['driver'] == 'pcieport':
            d['irq'] = 120 + i          # the port's MSI vector
        else:
            d['irq'] = 16 + (slot + fn) % 4     # INTx routing

    # SR-IOV: the VFs declared must be exactly the enabled ones
    for d in host['devices']:
        if d['sriov']:
            dom, bus, slot, fn = parse_addr(d['addr'])
            rid = (bus << 8) | (slot << 3) | fn
            s = d['sriov']
            vfs = []
            for n in range(s['num']):
                r = rid + s['offset'] + n * s['stride']
                vfs.append(fmt_addr(dom, r >> 8, (r >> 3) & 0x1f, r & 7))
            s['vfs'] = vfs
            for n, va in enumerate(vfs):
                if va not in devs or devs[va]['physfn'] != d['addr']:
                    raise SystemExit('%s: VF %d (%s) not declared' % (d['addr'], n, va))
        if d['physfn']:
            pf = devs[d['physfn']]
            if d['addr'] not in pf['sriov']['vfs']:
                raise SystemExit('%s: not a VF of %s' % (d['addr'], pf['addr']))
            if d['device'] != pf['sriov']['vf_device']:
                raise SystemExit('%s: VF device id mismatch' % d['addr'])
    return devs


def cpulist_for(host, d):
    if host['nodes'] and d['numa'] >= 0:
        return host['nodes'][d['numa']]
    return '0-%d' % (host['cpus'] - 1)


def modalias(d):
    c = d['cls']
    return 'pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X' % (
        d['vendor'], d['device'], d['sub'][0], d['sub'][1], c >> 16, (c >> 8) & 0xff, c & 0xff)


def uevent_lines(d):
    lines = []
    if d['driver']:
        lines.append('DRIVER=%s' % d['driver'])
    lines += [
        'PCI_CLASS=%X' % d['cls'],
        'PCI_ID=%04X:%04X' % (d['vendor'], d['device']),
        'PCI_SUBSYS_ID=%04X:%04X' % d['sub'],
        'PCI_SLOT_NAME=%s' % d['addr'],
        'MODALIAS=%s' % modalias(d),
    ]
    return lines


def device_files(host, d, vfio_state):
    """The attribute files and links of one function: {name: bytes|str} and
    {name: target path relative to the host root}."""
    files = {}
    links = {}
    files['vendor'] = '0x%04x\n' % d['vendor']
    files['device'] = '0x%04x\n' % d['device']
    files['subsystem_vendor'] = '0x%04x\n' % d['sub'][0]
    files['subsystem_device'] = '0x%04x\n' % d['sub'][1]
    files['class'] = '0x%06x\n' % d['cls']
    files['revision'] = '0x%02x\n' % d['rev']
    files['numa_node'] = '%d\n' % d['numa']
    files['driver_override'] = '%s\n' % (d['override'] or '(null)')
    files['d3cold_allowed'] = '1\n'
    if d['reset']:
        files['reset_method'] = ' '.join(d['reset']) + '\n'
        files['reset'] = ''
    if (d['cls'] >> 8) == 0x0300:
        files['boot_vga'] = '1\n' if d.get('boot_vga') else '0\n'
    bound = d['driver'] is not None
    files['enable'] = '1\n' if bound and d['driver'] != 'vfio-pci' else '0\n'
    files['irq'] = '%d\n' % d['irq']
    cl = cpulist_for(host, d)
    files['local_cpulist'] = cl + '\n'
    files['local_cpus'] = cpumask(cl, host['cpus']) + '\n'
    files['modalias'] = modalias(d) + '\n'
    files['uevent'] = ''.join(l + '\n' for l in uevent_lines(d))
    files['resource'] = resource_text(d)
    files['config'] = build_config(d, host)
    files['power_state'] = 'D3hot\n' if d['driver'] == 'vfio-pci' else 'D0\n'
    files['power/control'] = 'auto\n' if bound else 'on\n'
    files['power/runtime_status'] = 'suspended\n' if d['driver'] == 'vfio-pci' else 'active\n'
    files['msi_bus'] = '1\n'
    files['broken_parity_status'] = '0\n'
    files['dma_mask_bits'] = '64\n' if bound else '32\n'
    files['consistent_dma_mask_bits'] = '64\n' if bound else '32\n'
    files['ari_enabled'] = '0\n'
    files['remove'] = ''
    files['rescan'] = ''
    if d['pcie'] and d['pcie'] != 'rciep':
        gen, width = d.get('link', (1, 1))
        files['current_link_speed'] = LINK_SPEED[gen] + '\n'
        files['current_link_width'] = '%d\n' % width
        files['max_link_speed'] = LINK_SPEED[gen] + '\n'
        files['max_link_width'] = '%d\n' % width
    if is_bridge(d):
        files['secondary_bus_number'] = '%d\n' % d['secondary']
        files['subordinate_bus_number'] = '%d\n' % d['subordinate']
    if d['sriov']:
        s = d['sriov']
        files['sriov_totalvfs'] = '%d\n' % s['total']
        files['sriov_numvfs'] = '%d\n' % s['num']
        files['sriov_offset'] = '%d\n' % s['offset']
        files['sriov_stride'] = '%d\n' % s['stride']
        files['sriov_vf_device'] = '%x\n' % s['vf_device']
        files['sriov_drivers_autoprobe'] = '1\n'
        for n, va in enumerate(s['vfs']):
            links['virtfn%d' % n] = ('dev', va)
    if d['physfn']:
        links['physfn'] = ('dev', d['physfn'])

    links['subsystem'] = ('path', 'sys/bus/pci')
    if d['driver']:
        links['driver'] = ('path', 'sys/bus/pci/drivers/%s' % d['driver'])
    if d['group'] is not None:
        links['iommu_group'] = ('path', 'sys/kernel/iommu_groups/%d' % d['group'])
        links['iommu'] = ('path', iommu_unit_path(host, d))
    if d['addr'] in vfio_state['cdev']:
        n = vfio_state['cdev'][d['addr']]
        base = 'vfio-dev/vfio%d/' % n
        files[base + 'dev'] = '%d:%d\n' % (511, n)
        files[base + 'uevent'] = 'MAJOR=511\nMINOR=%d\nDEVNAME=vfio/devices/vfio%d\n' % (n, n)
        files[base + 'power/control'] = 'auto\n'
        links[base + 'subsystem'] = ('path', 'sys/class/vfio-dev')
        links[base + 'device'] = ('dev', d['addr'])
    return files, links


def iommu_unit_name(host, d):
    if host['iommu'] == 'amd':
        return 'ivhd0'
    for name, scope in sorted(host['dmar'].items()):
        if isinstance(scope, list) and d['addr'] in scope:
            return name
    for name, scope in sorted(host['dmar'].items()):
        if isinstance(scope, str) and scope.startswith('pci') and d['path'].split('/')[2] == scope:
            return name
    for name, scope in sorted(host['dmar'].items()):
        if scope == '*':
            return name
    raise SystemExit('%s: no DMAR unit covers it' % d['addr'])


def amd_iommu_dev(host):
    return next(d for d in host['devices'] if (d['cls'] >> 8) == 0x0806)


def iommu_unit_path(host, d):
    name = iommu_unit_name(host, d)
    if host['iommu'] == 'amd':
        return amd_iommu_dev(host)['path'] + '/iommu/' + name
    return 'sys/devices/virtual/iommu/' + name


def write_host(name, host):
    root = os.path.join(HERE, 'hosts', name)
    if os.path.lexists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    t = Tree(root)
    devs = prepare(host)
    release = host['release']
    sfx = host['modsuffix']

    # vfio state: which functions are on vfio-pci, their cdev numbers, the
    # groups that have a /dev/vfio/N node
    vfio_devs = [d for d in host['devices'] if d['driver'] == 'vfio-pci']
    vfio_state = {'cdev': {}, 'groups': sorted({d['group'] for d in vfio_devs if d['group'] is not None})}
    if host['vfio_cdev']:
        for n, d in enumerate(vfio_devs):
            vfio_state['cdev'][d['addr']] = n

    # --- devices
    t.write('sys/bus/pci/drivers_autoprobe', '1\n')
    t.write('sys/bus/pci/drivers_probe', '')
    t.write('sys/bus/pci/rescan', '')
    t.write('sys/bus/pci/resource_alignment', '\n')
    t.write('sys/bus/pci/uevent', '')
    roots = sorted({d['path'].split('/')[2] for d in host['devices']})
    for r in roots:
        t.write('sys/devices/%s/uevent' % r, '')
        t.write('sys/devices/%s/power/control' % r, 'auto\n')

    records = {}
    for d in host['devices']:
        files, links = device_files(host, d, vfio_state)
        for fname, content in sorted(files.items()):
            t.write(d['path'] + '/' + fname, content)
        for lname, (kind, target) in sorted(links.items()):
            tgt = devs[target]['path'] if kind == 'dev' else target
            t.link(d['path'] + '/' + lname, tgt)
        t.link('sys/bus/pci/devices/' + d['addr'], d['path'])
        records[d['addr']] = (files, links)

    # --- drivers
    drivers = sorted({d['driver'] for d in host['devices'] if d['driver']})
    if host['vfio'] in ('builtin',) or host['vfio_loaded']:
        drivers = sorted(set(drivers) | {'vfio-pci'})
    loaded = set()
    for drv in drivers:
        base = 'sys/bus/pci/drivers/' + drv
        for f in ('bind', 'unbind', 'new_id', 'remove_id', 'uevent'):
            t.write(base + '/' + f, '')
        mod = DRIVER_MODULE[drv]
        if mod:
            builtin = (drv == 'vfio-pci' and host['vfio'] == 'builtin')
            t.link(base + '/module', 'sys/module/' + mod)
            t.link('sys/module/%s/drivers/pci:%s' % (mod, drv), base)
            if not builtin:
                loaded.add(mod)
        for d in host['devices']:
            if d['driver'] == drv:
                t.link(base + '/' + d['addr'], d['path'])

    # --- modules: sys/module, proc/modules, lib/modules
    if host['vfio_loaded'] and host['vfio'] == 'module':
        loaded |= {'vfio_pci', 'vfio_pci_core', 'vfio', 'vfio_iommu_type1', 'iommufd', 'irqbypass'}
    if host['vfio'] == 'builtin':
        # built-in modules with parameters still get a sys/module entry
        for p in ('disable_denylist', 'disable_idle_d3', 'disable_vga', 'enable_sriov', 'nointxmask'):
            t.write('sys/module/vfio_pci/parameters/' + p, 'N\n')
    closure = set()

    def add_deps(m):
        if m in closure:
            return
        closure.add(m)
        for dep in MODULE_FILES[m][1]:
            add_deps(dep)

    for m in sorted(loaded):
        add_deps(m)
    loaded = closure
    users = {m: sorted(u for u in loaded if m in MODULE_FILES[u][1]) for m in loaded}
    for m in sorted(loaded):
        t.write('sys/module/%s/initstate' % m, 'live\n')
        t.write('sys/module/%s/refcnt' % m, '%d\n' % len(users[m]))
        t.write('sys/module/%s/coresize' % m, '%d\n' % MODULE_SIZE.get(m, 16384))
        t.write('sys/module/%s/uevent' % m, '')
        for u in users[m]:
            t.link('sys/module/%s/holders/%s' % (m, u), 'sys/module/' + u)
        if m == 'vfio_pci':
            for p in ('disable_denylist', 'disable_idle_d3', 'disable_vga', 'enable_sriov', 'nointxmask'):
                t.write('sys/module/vfio_pci/parameters/' + p, 'N\n')
    proc_modules = ''
    for m in sorted(loaded, key=lambda m: (len(users[m]), m)):
        deps = ''.join(u + ',' for u in users[m]) or '-'
        proc_modules += '%s %d %d %s Live 0x0000000000000000\n' % (m, MODULE_SIZE.get(m, 16384), len(users[m]), deps)
    t.write('proc/modules', proc_modules)

    # modules.dep: every in-tree driver module the distribution ships (with
    # its dependencies), the out-of-tree nvidia module where it is used, and
    # the VFIO modules only where the kernel has them as modules
    installed = {m for m in DRIVER_MODULE.values() if m and m not in VFIO_MODULES and m != 'nvidia'}
    if 'nvidia' in loaded:
        installed.add('nvidia')
    builtin = list(COMMON_BUILTIN)
    if host['vfio'] == 'module':
        installed |= {'vfio_pci', 'vfio_iommu_type1'}
    elif host['vfio'] == 'builtin':
        builtin += [MODULE_FILES[m][0] for m in VFIO_MODULES]
    mods = set()
    stack = sorted(installed)
    while stack:
        m = stack.pop()
        if m not in mods:
            mods.add(m)
            stack.extend(MODULE_FILES[m][1])
    if host['vfio'] != 'module':
        mods -= set(VFIO_MODULES)
    dep_lines = []
    for m in sorted(mods, key=lambda m: MODULE_FILES[m][0]):
        path, deps = MODULE_FILES[m]
        deps = [x for x in deps if x in mods]
        line = path + sfx + ':'
        if deps:
            line += ' ' + ' '.join(MODULE_FILES[x][0] + sfx for x in deps)
        dep_lines.append(line)
    t.write('lib/modules/%s/modules.dep' % release, ''.join(l + '\n' for l in dep_lines))
    t.write('lib/modules/%s/modules.builtin' % release, ''.join(b + '.ko\n' for b in sorted(builtin)))

    # --- kernel config, proc
    t.write('proc/sys/kernel/osrelease', release + '\n')
    t.write('proc/cmdline', host['cmdline'] + '\n')
    cfg = ['CONFIG_PCI=y', 'CONFIG_PCI_IOV=y', 'CONFIG_PCIEPORTBUS=y', 'CONFIG_IOMMU_SUPPORT=y',
           'CONFIG_IOMMU_API=y']
    if host['iommu'] == 'intel' or name in ('no-iommu',):
        cfg += ['CONFIG_INTEL_IOMMU=y']
    if host['iommu'] == 'amd':
        cfg += ['CONFIG_AMD_IOMMU=y']
    if host['vfio'] == 'module':
        cfg += ['CONFIG_VFIO=m', 'CONFIG_VFIO_PCI=m', 'CONFIG_VFIO_PCI_CORE=m', 'CONFIG_VFIO_IOMMU_TYPE1=m',
                'CONFIG_IOMMUFD=m', 'CONFIG_VFIO_CONTAINER=y']
        if host['vfio_cdev']:
            cfg += ['CONFIG_VFIO_DEVICE_CDEV=y']
    elif host['vfio'] == 'builtin':
        cfg += ['CONFIG_VFIO=y', 'CONFIG_VFIO_PCI=y', 'CONFIG_VFIO_PCI_CORE=y', 'CONFIG_VFIO_IOMMU_TYPE1=y',
                'CONFIG_IOMMUFD=y', 'CONFIG_VFIO_CONTAINER=y']
        if host['vfio_cdev']:
            cfg += ['CONFIG_VFIO_DEVICE_CDEV=y']
    else:
        cfg += ['# CONFIG_VFIO is not set', '# CONFIG_IOMMUFD is not set']
    t.write('boot/config-' + release, ''.join(sorted(l + '\n' for l in cfg)))

    # --- IOMMU
    if host['iommu']:
        groups = {}
        for d in host['devices']:
            if d['group'] is not None:
                groups.setdefault(d['group'], []).append(d)
        if set(groups) != set(host['group_types']):
            raise SystemExit('%s: group types %s vs groups %s' % (name, sorted(host['group_types']), sorted(groups)))
        for g, members in sorted(groups.items()):
            base = 'sys/kernel/iommu_groups/%d' % g
            t.write(base + '/type', host['group_types'][g] + '\n')
            regions = list(host['rmrr'].get(g, [])) + [(0xfee00000, 0xfeefffff, 'msi')]
            if host['iommu'] == 'amd':
                regions.append((0xfd00000000, 0xffffffffff, 'reserved'))
            t.write(base + '/reserved_regions',
                    ''.join('0x%016x 0x%016x %s\n' % r for r in sorted(regions)))
            for d in members:
                t.link(base + '/devices/' + d['addr'], d['path'])
        units = {}
        for d in host['devices']:
            if d['group'] is not None:
                units.setdefault(iommu_unit_path(host, d), []).append(d)
        if host['iommu'] == 'amd':
            units.setdefault(iommu_unit_path(host, amd_iommu_dev(host)), [])
        else:
            for n in host['dmar']:
                units.setdefault('sys/devices/virtual/iommu/' + n, [])
        for upath, members in sorted(units.items()):
            uname = os.path.basename(upath)
            t.write(upath + '/uevent', '')
            t.write(upath + '/power/control', 'auto\n')
            t.link(upath + '/subsystem', 'sys/class/iommu')
            if host['iommu'] == 'amd':
                t.write(upath + '/amd-iommu/cap', '0x00190063\n')
                t.write(upath + '/amd-iommu/features', '0x58f77ef22294a5a:0x5d\n')
                t.link(upath + '/device', amd_iommu_dev(host)['path'])
            else:
                t.write(upath + '/intel-iommu/version', '1:0\n')
                t.write(upath + '/intel-iommu/address', 'fed9%d000\n' % int(uname[4:]))
                t.write(upath + '/intel-iommu/cap', 'd2008c40660462\n')
                t.write(upath + '/intel-iommu/ecap', 'f050da\n')
            for d in members:
                t.link(upath + '/devices/' + d['addr'], d['path'])
            t.link('sys/class/iommu/' + uname, upath)

    # --- vfio character devices (regular empty files stand in for nodes)
    vfio_present = host['vfio'] == 'builtin' or host['vfio_loaded']
    if vfio_present:
        t.write('dev/vfio/vfio', b'')
        t.write('sys/devices/virtual/misc/vfio/dev', '10:196\n')
        t.write('sys/devices/virtual/misc/vfio/uevent', 'MAJOR=10\nMINOR=196\nDEVNAME=vfio/vfio\n')
        t.link('sys/devices/virtual/misc/vfio/subsystem', 'sys/class/misc')
        t.link('sys/class/misc/vfio', 'sys/devices/virtual/misc/vfio')
        for minor, g in enumerate(vfio_state['groups']):
            t.write('dev/vfio/%d' % g, b'')
            vbase = 'sys/devices/virtual/vfio/%d' % g
            t.write(vbase + '/dev', '243:%d\n' % minor)
            t.write(vbase + '/uevent', 'MAJOR=243\nMINOR=%d\nDEVNAME=vfio/%d\n' % (minor, g))
            t.link(vbase + '/subsystem', 'sys/class/vfio')
            t.link('sys/class/vfio/%d' % g, vbase)
        for addr, n in sorted(vfio_state['cdev'].items()):
            t.write('dev/vfio/devices/vfio%d' % n, b'')
            t.link('sys/class/vfio-dev/vfio%d' % n, devs[addr]['path'] + '/vfio-dev/vfio%d' % n)

    write_umockdev(name, host, records)


# ---------------------------------------------------------------------------
# umockdev recording


def write_umockdev(name, host, records):
    """What `umockdev-record /sys/bus/pci/devices/*` prints on this host:
    each device (P:, udev properties as E:, then its attributes sorted by
    name: text as A: escaped like g_strescape, binary as H: upper-case hex,
    links as L: with the target as stored), followed by its not yet recorded
    parent devices. Like umockdev-record, subdirectories are recorded one
    level deep only (power/...), write-only attributes are skipped, and
    directories that are devices themselves (child functions, vfio-dev/vfioN,
    iommu/ivhd0) are not descended into."""
    devs = {d['addr']: d for d in host['devices']}
    seen = set()
    out = []
    for d in sorted(host['devices'], key=lambda d: d['addr']):
        cur = d
        while cur is not None:
            if cur['addr'] not in seen:
                seen.add(cur['addr'])
                out.append(record_device(cur, records[cur['addr']], devs))
            cur = devs.get(cur['up'])
    path = os.path.join(HERE, 'umockdev', name + '.umockdev')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(out))


def record_device(d, record, devs):
    files, links = record
    lines = ['P: /' + d['path'][len('sys/'):]]
    for l in uevent_lines(d):
        lines.append('E: ' + l)
    lines.append('E: SUBSYSTEM=pci')
    entries = {}
    for fname, content in files.items():
        parts = fname.split('/')
        if len(parts) > 2:
            continue        # umockdev-record descends one level only
        if parts[0] in ('uevent',) or fname in WRITE_ONLY:
            continue
        if parts[0] == 'vfio-dev':
            continue        # vfio-dev/vfioN is a device of its own
        entries[fname] = ('f', content)
    for lname, (kind, target) in links.items():
        parts = lname.split('/')
        if lname == 'subsystem' or parts[0] == 'vfio-dev':
            continue
        tgt = devs[target]['path'] if kind == 'dev' else target
        entries[lname] = ('l', os.path.relpath(tgt, os.path.dirname(d['path'] + '/' + lname)))
    # umockdev-record sorts the names within each directory (strcmp) and
    # prints a subdirectory's entries where the directory sorts
    top = sorted({k.split('/')[0] for k in entries}, key=lambda s: s.encode())
    for name in top:
        if name in entries:
            keys = [name]
        else:
            keys = sorted((k for k in entries if k.startswith(name + '/')), key=lambda s: s.encode())
        for k in keys:
            kind, val = entries[k]
            if kind == 'l':
                lines.append('L: %s=%s' % (k, val))
                continue
            data = val if isinstance(val, (bytes, bytearray)) else val.encode()
            try:
                text = data.decode('utf-8')
                binary = '\0' in text
            except UnicodeDecodeError:
                binary = True
            if binary:
                lines.append('H: %s=%s' % (k, data.hex().upper()))
            else:
                lines.append('A: %s=%s' % (k, g_strescape(text)))
    return '\n'.join(lines) + '\n\n'


def main():
    names = sys.argv[1:] or sorted(HOSTS)
    for name in names:
        host = copy.deepcopy(HOSTS[name]())
        write_host(name, host)
        print('wrote hosts/%s and umockdev/%s.umockdev' % (name, name))


if __name__ == '__main__':
    main()
