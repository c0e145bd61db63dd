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
import gzip
import ipaddress
import json
import os
import shutil
import sys
import zlib

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
    'mlx5_core': 'mlx5_core',
    'mlx5_vfio_pci': 'mlx5_vfio_pci',
    'virtio-pci': 'virtio_pci',
    'vmd': 'vmd',
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
    # vfio-pci variant drivers: built on vfio_pci_core (docs/binding.md)
    'mlx5_vfio_pci': ('kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci',
                      ['mlx5_core', 'vfio_pci_core', 'vfio', 'iommufd', 'irqbypass']),
    'pds_vfio_pci': ('kernel/drivers/vfio/pci/pds/pds-vfio-pci', ['vfio_pci_core', 'vfio', 'iommufd', 'irqbypass']),
    'mlx5_core': ('kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core', []),
    'vfio': ('kernel/drivers/vfio/vfio', ['iommufd']),
    'iommufd': ('kernel/drivers/iommu/iommufd/iommufd', []),
    'irqbypass': ('kernel/virt/lib/irqbypass', []),
    # before 6.2 only: folded into vfio.ko since (see module_files())
    'vfio_virqfd': ('kernel/drivers/vfio/vfio_virqfd', ['vfio']),
    'virtio_pci': ('kernel/drivers/virtio/virtio_pci', ['virtio_pci_modern_dev', 'virtio_pci_legacy_dev']),
    'virtio_pci_modern_dev': ('kernel/drivers/virtio/virtio_pci_modern_dev', []),
    'virtio_pci_legacy_dev': ('kernel/drivers/virtio/virtio_pci_legacy_dev', []),
    'vmd': ('kernel/drivers/pci/controller/vmd', []),
    # what readiness looks at: KVM, vhost-net, tun, msr
    'kvm': ('kernel/arch/x86/kvm/kvm', ['irqbypass']),
    'kvm_intel': ('kernel/arch/x86/kvm/kvm-intel', ['kvm']),
    'kvm_amd': ('kernel/arch/x86/kvm/kvm-amd', ['kvm']),
    'vhost_net': ('kernel/drivers/vhost/vhost_net', ['vhost', 'vhost_iotlb', 'tap', 'tun']),
    'vhost': ('kernel/drivers/vhost/vhost', ['vhost_iotlb']),
    'vhost_iotlb': ('kernel/drivers/vhost/vhost_iotlb', []),
    'tap': ('kernel/drivers/net/tap', []),
    'tun': ('kernel/drivers/net/tun', []),
    'msr': ('kernel/arch/x86/kernel/msr', []),
}

# PCI drivers that create VFIO nodes: vfio-pci and its variants
VFIO_DRIVERS = ('vfio-pci', 'mlx5_vfio_pci')

# The vfio_pci: aliases of the variant drivers (MODULE_DEVICE_TABLE with
# PCI_DRIVER_OVERRIDE_DEVICE_VFIO), for modules.alias where a host has them
VARIANT_ALIASES = {
    'mlx5_vfio_pci': ['vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*', 'vfio_pci:v000015B3d0000101Fsv*sd*bc*sc*i*'],
    'pds_vfio_pci': ['vfio_pci:v00001DD8d00001003sv*sd*bc*sc*i*'],
}

VFIO_MODULES = ['vfio_pci', 'vfio_pci_core', 'vfio_iommu_type1', 'vfio', 'iommufd', 'irqbypass', 'vfio_virqfd']

# Installed with every distribution kernel that has modules (both vendors'
# KVM modules ship everywhere).
VIRT_MODULES = ['kvm', 'kvm_intel', 'kvm_amd', 'vhost_net', 'vhost', 'vhost_iotlb', 'tap', 'tun', 'msr']


def kver(release):
    """(major, minor) of a kernel release string."""
    major, minor = release.split('.')[:2]
    return int(major), int(''.join(ch for ch in minor if ch.isdigit()) or 0)


def module_files(host):
    """MODULE_FILES as the host's kernel has them: before 6.2 vfio_virqfd is
    a module of its own that vfio-pci-core needs and there is no iommufd;
    from 6.2 on, virqfd is part of vfio.ko and vfio uses iommufd."""
    mf = dict(MODULE_FILES)
    if kver(host['release']) < (6, 2):
        mf['vfio'] = (MODULE_FILES['vfio'][0], [])
        mf['vfio_pci_core'] = (MODULE_FILES['vfio_pci_core'][0], ['vfio_virqfd', 'vfio', 'irqbypass'])
        mf['vfio_pci'] = (MODULE_FILES['vfio_pci'][0], ['vfio_pci_core', 'vfio_virqfd', 'vfio', 'irqbypass'])
    else:
        del mf['vfio_virqfd']
    return mf

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


def server_sriov_vfs():
    """server-sriov with all four ports of its X710-DA4, for changing VF
    counts (SetVfCount): 3b:00.0 has 2 VFs (VF0 on iavf, VF1 on vfio-pci);
    3b:00.1 has none and can create them (VFs from 3b:03.0); 3b:00.2 has no
    driver bound; 3b:00.3 is on vfio-pci without vfio_pci.enable_sriov.
    The state differs in one route: VF0's ens1f0v0 carries the default."""
    h = server_sriov()
    xl710 = dict(up='0000:3a:00.0', pcie='ep', link=(3, 8), reset=['flr'], pm=True, numa=0)
    devices = []
    for d in h['devices']:
        if d['addr'] == '0000:3b:00.1':
            d['sriov'] = dict(total=8, num=0, offset=23, stride=1, vf_device=0x154c)
        devices.append(d)
        if d['addr'] == '0000:3b:00.1':
            devices.append(dev('0000:3b:00.2', 0x8086, 0x1572, 0x020000, 0x02, (0x8086, 0x0000), None, 25,
                               sriov=dict(total=8, num=0, offset=30, stride=1, vf_device=0x154c), **xl710))
            devices.append(dev('0000:3b:00.3', 0x8086, 0x1572, 0x020000, 0x02, (0x8086, 0x0000), 'vfio-pci', 26,
                               sriov=dict(total=8, num=0, offset=37, stride=1, vf_device=0x154c), **xl710))
    h['devices'] = devices
    h['group_types'].update({25: 'identity', 26: 'identity'})
    return h


def server_sriov_vfs_state():
    """server-sriov's state, VF0 carrying a default route, and DPDK's
    testpmd driving the fourth port (3b:00.3 on vfio-pci) through the
    legacy group interface: /dev/vfio/vfio, /dev/vfio/26 and the device fd
    VFIO_GROUP_GET_DEVICE_FD gives, no /dev/kvm (not a VMM). EAL pins its
    lcores 16-18; the control threads run on the other CPUs."""
    st = server_sriov_state()
    st['route'] = [route4('ens1f0v0', '0.0.0.0', '0.0.0.0', gw='10.40.8.1', metric=50)] + st['route']
    ctl = '0-15,19-63'
    st['procs'][6001] = proc('dpdk-testpmd', [
        '/usr/bin/dpdk-testpmd', '-l', '16-18', '-n', '4', '-a', '0000:3b:00.3', '--', '-i', '--nb-cores=2'], {
        0: '/dev/pts/0', 1: '/dev/pts/0', 2: '/dev/pts/0', 3: '/run/dpdk/rte/config', 4: 'socket:[91020]',
        5: 'anon_inode:[eventpoll]', 6: '/dev/hugepages/rtemap_0', 7: 'pipe:[91033]', 8: 'pipe:[91033]',
        9: '/dev/vfio/vfio', 10: '/dev/vfio/26', 11: 'anon_inode:[vfio-device]', 12: 'anon_inode:[eventfd]',
        13: 'socket:[91051]'},
        procdetail(start=411870, ppid=5980, vsize_kb=68719476, rss_kb=412388, hugetlb_kb=1048576,
                   vfio_devices={11: '0000:3b:00.3'}, threads=[
            thread(6001, 'dpdk-testpmd', state='R', utime=880112, stime=1203, cpu=16, allowed='16',
                   ctxt=(1103, 90211)),
            thread(6002, 'eal-intr-thread', utime=0, stime=3, cpu=20, allowed=ctl, ctxt=(12, 0)),
            thread(6003, 'rte_mp_handle', utime=0, stime=1, cpu=21, allowed=ctl, ctxt=(3, 0)),
            thread(6004, 'lcore-worker-17', state='R', utime=880003, stime=150, cpu=17, allowed='17',
                   ctxt=(2, 88120)),
            thread(6005, 'lcore-worker-18', state='R', utime=879920, stime=149, cpu=18, allowed='18',
                   ctxt=(2, 88032)),
        ]))
    st['btime'] = 1717400000
    return st


def server_variant_state():
    """server-sriov's state on the Ubuntu kernel, with a Cloud Hypervisor
    VM given the X710's VF1 (3b:02.1) through the iommufd path
    (--platform iommufd=on: /dev/iommu and the device cdev
    /dev/vfio/devices/vfio0, no group, no container), its two vCPUs pinned
    to CPUs 4 and 5 (--cpus affinity). debugfs is not mounted here."""
    st = server_sriov_state()
    st['mounts'] = ''.join(l + '\n' for l in st['mounts'].splitlines() if not l.startswith('debugfs '))
    st['procs'][4810] = proc('cloud-hyperviso', [
        '/usr/local/bin/cloud-hypervisor', '--api-socket', 'path=/run/ch/nfv1.sock',
        '--cpus', 'boot=2,affinity=[0@[4],1@[5]]', '--memory', 'size=8G',
        '--kernel', '/var/lib/ch/hypervisor-fw', '--disk', 'path=/var/lib/ch/nfv1.raw',
        '--net', 'tap=chtap0,mac=52:54:00:4e:1a:07', '--device', 'path=/sys/bus/pci/devices/0000:3b:02.1/',
        '--platform', 'iommufd=on,vfio_p2p_dma=off', '--serial', 'tty', '--console', 'off'], {
        0: '/dev/null', 1: 'socket:[88210]', 2: 'socket:[88210]', 3: 'anon_inode:[eventfd]', 4: '/dev/kvm',
        5: 'anon_inode:kvm-vm', 6: 'anon_inode:[eventfd]', 7: 'socket:[88231]', 9: '/var/lib/ch/nfv1.raw',
        10: '/dev/net/tun', 12: '/dev/iommu', 13: '/dev/vfio/devices/vfio0', 16: 'anon_inode:kvm-vcpu:0',
        17: 'anon_inode:kvm-vcpu:1', 20: 'anon_inode:[eventpoll]'},
        procdetail(start=520331, ppid=1, vsize_kb=8923340, rss_kb=8402116, vfio_devices={13: '0000:3b:02.1'},
                   threads=[
            thread(4810, 'cloud-hyperviso', utime=102, stime=88, cpu=0, ctxt=(3310, 12)),
            thread(4811, 'vmm', utime=230, stime=190, cpu=1, ctxt=(88120, 201)),
            thread(4812, 'http-server', utime=1, stime=2, cpu=33, ctxt=(41, 0)),
            thread(4813, 'signal_handler', cpu=2, ctxt=(2, 0)),
            thread(4815, 'vcpu0', state='R', utime=185230, stime=4102, guest=183977, cpu=4, allowed='4',
                   ctxt=(1702331, 880)),
            thread(4816, 'vcpu1', utime=171004, stime=3980, guest=169790, cpu=5, allowed='5',
                   ctxt=(1650210, 812)),
        ]))
    st['btime'] = 1717400000
    return st


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


def vm_guest():
    """A KVM guest like the machines CI runs on: QEMU i440FX with virtio
    devices, two AMD EPYC vCPUs whose flags include 'hypervisor' but not
    'svm' (no nested virtualization), no virtual IOMMU, and a kernel built
    without modules (CONFIG_MODULES unset: no proc/modules, no lib/modules),
    without VFIO and without an IOMMU driver, with its config in
    /proc/config.gz. Not ready for VFIO passthrough."""
    qemu = (0x1af4, 0x1100)
    devices = [
        dev('0000:00:00.0', 0x8086, 0x1237, 0x060000, 0x02, qemu, None),
        dev('0000:00:01.0', 0x8086, 0x7000, 0x060100, 0x00, qemu, None),
        dev('0000:00:01.3', 0x8086, 0x7113, 0x068000, 0x03, qemu, 'piix4_smbus'),
        dev('0000:00:02.0', 0x1af4, 0x1000, 0x020000, 0x00, (0x1af4, 0x0001), 'virtio-pci'),
        dev('0000:00:03.0', 0x1af4, 0x1001, 0x010000, 0x00, (0x1af4, 0x0002), 'virtio-pci'),
        dev('0000:00:04.0', 0x1af4, 0x1002, 0x00ff00, 0x00, (0x1af4, 0x0005), 'virtio-pci'),
        dev('0000:00:05.0', 0x1af4, 0x1005, 0x00ff00, 0x00, (0x1af4, 0x0004), 'virtio-pci'),
    ]
    return dict(
        release='6.6.52-vm',
        modsuffix='.ko',
        modules=False,
        cmdline='console=ttyS0 root=/dev/vda rw quiet panic=1 reboot=k random.trust_cpu=on',
        cpus=2, nodes=None,
        iommu=None,
        dmar={}, group_types={}, rmrr={},
        vfio=None, vfio_loaded=False, vfio_cdev=False,
        extra_modules=[],
        devices=devices,
    )


def acs_override():
    """desktop-intel's machine booted into a Proxmox VE kernel, which carries
    the ACS override patch: pcie_acs_override=downstream,multifunction puts
    every function in an IOMMU group of its own (the kernel no longer asks
    the hardware), iommu=pt makes every default domain identity, and
    mitigations=off turns the CPU vulnerability mitigations off. Ready, with
    those two risks."""
    h = desktop_intel()
    h['release'] = '6.8.12-4-pve'
    h['modsuffix'] = '.ko'
    h['cmdline'] = ('BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=UUID=5f0c6a54-2d9e-4c41-9a3b-0d5c1e6b7a21 ro quiet '
                    'intel_iommu=on iommu=pt pcie_acs_override=downstream,multifunction mitigations=off')
    addrs = sorted(d['addr'] for d in h['devices'])
    for d in h['devices']:
        d['group'] = addrs.index(d['addr'])
    h['group_types'] = {g: 'identity' for g in range(len(addrs))}
    h['rmrr'] = {addrs.index('0000:00:02.0'): [(0x7b800000, 0x7fffffff, 'direct')],
                 addrs.index('0000:00:14.0'): [(0x3e2e0000, 0x3e2fffff, 'direct-relaxable')]}
    return h


def desktop_vmd():
    """desktop-intel's machine with VMD ("Intel RST", "VMD controller") on
    in the firmware for the CPU's M.2 slot: the root port 00:06.0 and the
    980 PRO behind it disappear from domain 0000 and come back behind the
    VMD endpoint 00:0e.0 (8086:467f, class 0104, driver vmd) in domain 10000,
    the first the vmd driver allocates, on its bus range e0-ff as client
    platforms restrict it: 10000:e0:06.0 and 10000:e1:00.0. Their DMA goes
    out with the VMD endpoint's requester ID, so the IOMMU sees only
    00:0e.0 (group 3): the kernel gives the functions behind it no
    iommu_group link and no IOMMU unit of their own. / stays on the 980 PRO."""
    h = desktop_intel()
    devices = [d for d in h['devices'] if d['addr'] not in ('0000:00:06.0', '0000:02:00.0')]
    devices += [
        dev('0000:00:0e.0', 0x8086, 0x467f, 0x010400, 0x02, ASUS_Z690, 'vmd', 3, pcie='rciep', pm=True),
        # the root bus of domain 10000 hangs beneath the VMD endpoint
        dev('10000:e0:06.0', 0x8086, 0x464d, 0x060400, 0x02, ASUS_Z690, 'pcieport', None,
            vmd='0000:00:0e.0', pcie='rp', link=(4, 4), port=6),
        dev('10000:e1:00.0', 0x144d, 0xa80a, 0x010802, 0x00, (0x144d, 0xa801), 'nvme', None,
            up='10000:e0:06.0', pcie='ep', link=(4, 4), reset=['flr', 'bus'], pm=True),
    ]
    h['devices'] = devices
    h['group_types'] = {0: 'DMA', 1: 'DMA-FQ', 2: 'DMA', 3: 'DMA-FQ', 4: 'DMA-FQ', 5: 'DMA-FQ', 6: 'DMA-FQ'}
    return h



QEMU_SUB = (0x1af4, 0x1100)


def vm_guest_amd_cpu_intel_viommu():
    """A KVM guest whose CPU and IOMMU come from different vendors, as QEMU
    allows: an AMD EPYC-Milan vCPU model with svm (nested virtualization from
    the AMD host) on a q35 machine with QEMU's *Intel* IOMMU
    (-device intel-iommu,intremap=on,caching-mode=on, -machine
    q35,kernel-irqchip=split). QEMU's ACPI tables describe VT-d (a DMAR table
    with one INCLUDE_PCI_ALL unit at 0xfed90000); the Debian 12 guest kernel
    boots with intel_iommu=on and drives it as dmar0. /proc/cpuinfo says
    AuthenticAMD, the IOMMU is Intel's: readiness must go by the IOMMU.
    QEMU's PCIe root ports have ACS, so every port and every function behind
    one is a group of its own; the ICH9 functions share one. An X710 VF that
    the outer host assigned to this VM sits behind the third port, on iavf.
    vfio-pci is loaded (the guest is set up to pass devices on)."""
    rp = (0, 0)
    devices = [
        dev('0000:00:00.0', 0x8086, 0x29c0, 0x060000, 0x00, QEMU_SUB, None, 0),
        dev('0000:00:01.0', 0x1b36, 0x000c, 0x060400, 0x00, rp, 'pcieport', 1,
            pcie='rp', link=(1, 1), port=1, pm=True),
        dev('0000:01:00.0', 0x1af4, 0x1041, 0x020000, 0x01, QEMU_SUB, 'virtio-pci', 5,
            up='0000:00:01.0', pcie='ep', link=(1, 1), pm=True),
        dev('0000:00:02.0', 0x1b36, 0x000c, 0x060400, 0x00, rp, 'pcieport', 2,
            pcie='rp', link=(1, 1), port=2, pm=True),
        dev('0000:02:00.0', 0x1af4, 0x1042, 0x010000, 0x01, QEMU_SUB, 'virtio-pci', 6,
            up='0000:00:02.0', pcie='ep', link=(1, 1), pm=True),
        dev('0000:00:03.0', 0x1b36, 0x000c, 0x060400, 0x00, rp, 'pcieport', 3,
            pcie='rp', link=(1, 1), port=3, pm=True),
        dev('0000:03:00.0', 0x8086, 0x154c, 0x020000, 0x02, (0x8086, 0x0000), 'iavf', 7,
            up='0000:00:03.0', pcie='ep', link=(3, 8), reset=['flr']),
        dev('0000:00:1f.0', 0x8086, 0x2918, 0x060100, 0x02, QEMU_SUB, 'lpc_ich', 4),
        dev('0000:00:1f.2', 0x8086, 0x2922, 0x010601, 0x02, QEMU_SUB, 'ahci', 4, pm=True),
        dev('0000:00:1f.3', 0x8086, 0x2930, 0x0c0500, 0x02, QEMU_SUB, 'i801_smbus', 4),
    ]
    return dict(
        release='6.1.0-18-amd64',
        modsuffix='.ko',
        cmdline='BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=7e4b1c2d-5a6f-4e3b-9c8d-0a1b2c3d4e5f ro '
                'console=ttyS0,115200n8 intel_iommu=on',
        cpus=4, nodes=None,
        iommu='intel',
        dmar={'dmar0': '*'},
        group_types={g: 'DMA-FQ' for g in range(8)},
        rmrr={},
        vfio='module', vfio_loaded=True, vfio_cdev=False,
        extra_modules=[],
        devices=devices,
    )


def vm_guest_amd_cpu_intel_viommu_off():
    """The same VM booted with intel_iommu=off: QEMU's DMAR table is still
    there (the VM has its Intel IOMMU), but the kernel did not turn DMA
    remapping on: no IOMMU groups, no sys/class/iommu entries, no iommu
    links. Interrupt remapping (intremap=on) is independent of intel_iommu=
    and stays on. Not ready, and the reason is intel_iommu=off."""
    h = vm_guest_amd_cpu_intel_viommu()
    h['cmdline'] = h['cmdline'].replace('intel_iommu=on', 'intel_iommu=off')
    h['iommu'] = None
    h['group_types'] = {}
    return h


def server_variant():
    """The Supermicro server on an Ubuntu 24.04 kernel with a ConnectX-6 Dx
    added behind its own root port: 3 VFs enabled, VF0 on mlx5_core, VF1 on
    vfio-pci and VF2 on the variant driver mlx5_vfio_pci (one IOMMU group for
    VF1 and VF2: the card has no ACS between its VFs). pds_vfio_pci is
    installed, not loaded."""
    h = server_sriov()
    h['release'] = '6.8.0-45-generic'
    h['modsuffix'] = '.ko.zst'
    h['cmdline'] = ('BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic root=/dev/mapper/ubuntu--vg-root ro '
                    'intel_iommu=on iommu=pt')
    h['vfio_cdev'] = True
    h['installed_variants'] = ['pds_vfio_pci']
    cx = (0x15b3, 0x0016)
    h['devices'] += [
        dev('0000:3a:02.0', 0x8086, 0x2032, 0x060400, 0x04, (0x15d9, 0x095d), 'pcieport', 30, numa=0,
            pcie='rp', link=(4, 16), port=3),
        dev('0000:3c:00.0', 0x15b3, 0x101d, 0x020000, 0x00, cx, 'mlx5_core', 31, numa=0,
            up='0000:3a:02.0', pcie='ep', link=(4, 16), reset=['flr'], pm=True,
            sriov=dict(total=8, num=3, offset=2, stride=1, vf_device=0x101e)),
        dev('0000:3c:00.2', 0x15b3, 0x101e, 0x020000, 0x00, cx, 'mlx5_core', 32, numa=0,
            up='0000:3a:02.0', pcie='ep', link=(4, 16), reset=['flr'], physfn='0000:3c:00.0'),
        dev('0000:3c:00.3', 0x15b3, 0x101e, 0x020000, 0x00, cx, 'vfio-pci', 33, numa=0,
            up='0000:3a:02.0', pcie='ep', link=(4, 16), reset=['flr'], physfn='0000:3c:00.0',
            override='vfio-pci'),
        dev('0000:3c:00.4', 0x15b3, 0x101e, 0x020000, 0x00, cx, 'mlx5_vfio_pci', 33, numa=0,
            up='0000:3a:02.0', pcie='ep', link=(4, 16), reset=['flr'], physfn='0000:3c:00.0',
            override='mlx5_vfio_pci'),
    ]
    h['group_types'].update({g: 'identity' for g in (30, 31, 32, 33)})
    return h


HOSTS = {
    'desktop-intel': desktop_intel,
    'desktop-vfio-bound': desktop_vfio_bound,
    'server-sriov': server_sriov,
    'server-variant': server_variant,
    'server-sriov-vfs': server_sriov_vfs,
    'no-iommu': no_iommu,
    'amd-desktop': amd_desktop,
    'vm-guest': vm_guest,
    'acs-override': acs_override,
    'desktop-vmd': desktop_vmd,
    'vm-guest-amd-cpu-intel-viommu': vm_guest_amd_cpu_intel_viommu,
    'vm-guest-amd-cpu-intel-viommu-off': vm_guest_amd_cpu_intel_viommu_off,
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

    def klink(self, rel, target_rel):
        """A symlink spelled exactly as kernfs_get_target_path() spells it:
        up to the nearest ancestor of the target's parent, then down. It
        differs from os.path.relpath when the target is an ancestor of the
        link: a netdev's device link is "../../../0000:06:00.0", not "../..".
        """
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        base = os.path.dirname(rel)
        tparent = os.path.dirname(target_rel)
        ups = 0
        while base and not (tparent == base or tparent.startswith(base + '/')):
            base = os.path.dirname(base)
            ups += 1
        target = '../' * ups + (target_rel[len(base) + 1:] if base else target_rel)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)

    def raw_link(self, rel, target):
        """A symlink with its target exactly as given: procfs fd links
        ("/dev/dri/card0", "socket:[18342]") are absolute or not paths."""
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
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
        d.setdefault('vmd', None)
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
    # A VMD domain's root bus is a child of the VMD endpoint:
    # devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0.
    def syspath(d):
        if d['up']:
            return syspath(devs[d['up']]) + '/' + d['addr']
        dom, bus, _, _ = parse_addr(d['addr'])
        if d['vmd']:
            return syspath(devs[d['vmd']]) + '/pci%04x:%02x/%s' % (dom, bus, d['addr'])
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
    vfio_devs = [d for d in host['devices'] if d['driver'] in VFIO_DRIVERS]
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
    for d in host['devices']:
        if d['vmd']:
            bus_dir = os.path.dirname(d['path'])
            t.write(bus_dir + '/uevent', '')
            t.write(bus_dir + '/power/control', 'auto\n')

    records = {}
    for d in host['devices']:
        files, links = device_files(host, d, vfio_state)
        for fname, content in sorted(files.items()):
            t.write(d['path'] + '/' + fname, content)
        for lname, (kind, target) in sorted(links.items()):
            tgt = devs[target]['path'] if kind == 'dev' else target
            # kernfs's spelling: vfio-dev/vfioN/device, whose target is an
            # ancestor, is "../../../<addr>", not "../.."
            t.klink(d['path'] + '/' + lname, tgt)
        t.link('sys/bus/pci/devices/' + d['addr'], d['path'])
        records[d['addr']] = (files, links)

    # --- drivers
    with_modules = host.get('modules', True)
    mf = module_files(host)
    drivers = sorted({d['driver'] for d in host['devices'] if d['driver']})
    if host['vfio'] in ('builtin',) or host['vfio_loaded']:
        drivers = sorted(set(drivers) | {'vfio-pci'})
    loaded = set()
    for drv in drivers:
        base = 'sys/bus/pci/drivers/' + drv
        for f in ('bind', 'unbind', 'new_id', 'remove_id', 'uevent'):
            t.write(base + '/' + f, '')
        # a kernel without module support has every driver built in
        mod = DRIVER_MODULE[drv] if with_modules else None
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
    rd = READINESS[name]()
    if host['vfio_loaded'] and host['vfio'] == 'module':
        loaded |= {'vfio_pci', 'vfio_iommu_type1'}
    loaded |= set(rd['modules'])
    # built-in modules with parameters still get a sys/module entry
    builtin_params = {}
    if host['vfio'] == 'builtin':
        for m in ('vfio_pci', 'vfio', 'vfio_iommu_type1'):
            builtin_params[m] = MODULE_PARAMS[m]
    for m, params in sorted(rd['builtin_params'].items()):
        builtin_params[m] = params
    for m, params in sorted(builtin_params.items()):
        for p, v in sorted(params.items()):
            t.write('sys/module/%s/parameters/%s' % (m, p), v + '\n')
    closure = set()

    def add_deps(m):
        if m in closure:
            return
        closure.add(m)
        for dep in mf[m][1]:
            add_deps(dep)

    for m in sorted(loaded):
        add_deps(m)
    loaded = closure
    users = {m: sorted(u for u in loaded if m in mf[u][1]) for m in loaded}
    for m in sorted(loaded):
        t.write('sys/module/%s/initstate' % m, 'live\n')
        t.write('sys/module/%s/refcnt' % m, '%d\n' % len(users[m]))
        t.write('sys/module/%s/coresize' % m, '%d\n' % MODULE_SIZE.get(m, 16384))
        t.write('sys/module/%s/uevent' % m, '')
        for u in users[m]:
            t.link('sys/module/%s/holders/%s' % (m, u), 'sys/module/' + u)
        params = dict(MODULE_PARAMS.get(m, {}))
        params.update(kvm_params_for_cpu(m, rd['cpu']))
        params.update(rd['params'].get(m, {}))
        for p, v in sorted(params.items()):
            t.write('sys/module/%s/parameters/%s' % (m, p), v + '\n')
    if with_modules:
        proc_modules = ''
        for m in sorted(loaded, key=lambda m: (len(users[m]), m)):
            deps = ''.join(u + ',' for u in users[m]) or '-'
            proc_modules += '%s %d %d %s Live 0x0000000000000000\n' % (m, MODULE_SIZE.get(m, 16384), len(users[m]), deps)
        t.write('proc/modules', proc_modules)
    elif loaded:
        raise SystemExit('%s: modules loaded by a kernel without modules' % name)

    # modules.dep: every in-tree driver module the distribution ships (with
    # its dependencies), the out-of-tree nvidia module where it is used, and
    # the VFIO modules only where the kernel has them as modules
    installed = {m for m in DRIVER_MODULE.values()
                 if m and m not in VFIO_MODULES and m not in ('nvidia', 'vmd', 'mlx5_core', 'mlx5_vfio_pci')}
    installed |= set(VIRT_MODULES)
    if 'nvidia' in loaded:
        installed.add('nvidia')
    # vmd.ko ships with every distribution kernel; it is listed only where
    # it is used, so that adding desktop-vmd left the other trees unchanged
    if 'vmd' in loaded:
        installed.add('vmd')
    # likewise the Mellanox driver and the variant drivers: only where used
    installed |= {m for m in ('mlx5_core', 'mlx5_vfio_pci') if m in loaded}
    installed |= set(host.get('installed_variants', []))
    builtin = list(COMMON_BUILTIN)
    vfio_closure = set()
    stack = ['vfio_pci', 'vfio_iommu_type1']
    while stack:
        m = stack.pop()
        if m not in vfio_closure:
            vfio_closure.add(m)
            stack.extend(mf[m][1])
    if host['vfio'] == 'module':
        installed |= {'vfio_pci', 'vfio_iommu_type1'}
    elif host['vfio'] == 'builtin':
        builtin += [mf[m][0] for m in VFIO_MODULES if m in vfio_closure]
    mods = set()
    stack = sorted(installed)
    while stack:
        m = stack.pop()
        if m not in mods:
            mods.add(m)
            stack.extend(mf[m][1])
    if host['vfio'] != 'module':
        mods -= set(VFIO_MODULES)
        # kvm's irqbypass stays
        if 'kvm' in mods:
            mods.add('irqbypass')
    dep_lines = []
    for m in sorted(mods, key=lambda m: mf[m][0]):
        path, deps = mf[m]
        deps = [x for x in deps if x in mods]
        line = path + sfx + ':'
        if deps:
            line += ' ' + ' '.join(mf[x][0] + sfx for x in deps)
        dep_lines.append(line)
    if with_modules:
        t.write('lib/modules/%s/modules.dep' % release, ''.join(l + '\n' for l in dep_lines))
        t.write('lib/modules/%s/modules.builtin' % release, ''.join(b + '.ko\n' for b in sorted(builtin)))
        variants = sorted(m for m in VARIANT_ALIASES if m in mods)
        if variants:
            t.write('lib/modules/%s/modules.alias' % release,
                    '# Aliases extracted from modules themselves.\n' +
                    ''.join('alias %s %s\n' % (a, m) for m in variants for a in VARIANT_ALIASES[m]))

    # --- kernel config, proc
    t.write('proc/sys/kernel/osrelease', release + '\n')
    t.write('proc/cmdline', host['cmdline'] + '\n')
    config = kernel_config(name, host, rd)
    if rd['config'] == 'proc':
        # IKCONFIG_PROC: what the kernel embeds, gzip'ed; mtime 0 keeps the
        # bytes stable (zlib's output is the same for the same zlib)
        t.write('proc/config.gz', gzip.compress(config.encode(), compresslevel=9, mtime=0))
    else:
        t.write('boot/config-' + release, config)

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

    # --- what the binder reads for host-critical and in-use checks
    st = STATES[name]()
    write_host_state(t, name, st, devs, host)

    # --- what the readiness checks read beyond the above
    write_readiness(t, name, host, devs, rd, loaded, st)

    write_umockdev(name, host, records)


# ---------------------------------------------------------------------------
# Host state beyond PCI: what the binder reads to refuse host-critical and
# in-use functions (vh-critical.c, vh-holders.c). Mounted filesystems and
# the block devices beneath them, network interfaces and routes,
# framebuffers and iomem, DRM and NVIDIA device nodes, processes with device
# nodes open, and (desktop-vfio-bound only) vfiohostd's journal. These only
# add files: the PCI functions, drivers and groups above are unchanged.

def ip4(a):
    """An IPv4 address as /proc/net/route prints it: the 32-bit value in
    host (little-endian) byte order."""
    b = [int(x) for x in a.split('.')]
    return (b[3] << 24) | (b[2] << 16) | (b[1] << 8) | b[0]


ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'
RTF_UP, RTF_GATEWAY = 0x0001, 0x0002


def route4(iface, dest, mask, gw='0.0.0.0', metric=100):
    """One line of /proc/net/route (fib_route_seq_show): tab-separated,
    padded with spaces to 127 characters (seq_pad)."""
    flags = RTF_UP | (RTF_GATEWAY if gw != '0.0.0.0' else 0)
    line = '%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u' % (
        iface, ip4(dest), ip4(gw), flags, 0, 0, metric, ip4(mask), 0, 0, 0)
    return '%-127s\n' % line


def route6(dest, plen, dev, gw='::', metric=256, refcnt=1, flags=0x1):
    """One line of /proc/net/ipv6_route (ipv6_route_native_seq_show):
    destination, prefix length, source, source prefix length, next hop,
    metric, refcount, use, flags (all hex) and the device as %8s."""
    def hexa(a):
        return ipaddress.IPv6Address(a).packed.hex()
    return '%s %02x %s %02x %s %08x %08x %08x %08x %8s\n' % (
        hexa(dest), plen, hexa('::'), 0, hexa(gw), metric, refcnt, 0, flags, dev)


# ipv6_route flags
RT6_DEFAULT_RA = 0x00450003     # UP | GATEWAY | DEFAULT | ADDRCONF | EXPIRES (router advertisement)
RT6_LOCAL = 0x80200001          # UP | NONEXTHOP | LOCAL
RT6_UNREACHABLE = 0x00200200    # REJECT | NONEXTHOP: the "unreachable ::/0" every kernel shows on lo


def ipv6_lo_routes():
    return [route6('::1', 128, 'lo', metric=0, refcnt=2, flags=RT6_LOCAL),
            route6('::', 0, 'lo', metric=0xffffffff, flags=RT6_UNREACHABLE)]


MOUNTS_HEAD = '''\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
udev /dev devtmpfs rw,nosuid,relatime,size=16318036k,nr_inodes=4079509,mode=755,inode64 0 0
devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0
tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=3263608k,mode=755,inode64 0 0
'''

MOUNTS_SYS = '''\
securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev,inode64 0 0
tmpfs /run/lock tmpfs rw,nosuid,nodev,noexec,relatime,size=5120k,inode64 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
pstore /sys/fs/pstore pstore rw,nosuid,nodev,noexec,relatime 0 0
efivarfs /sys/firmware/efi/efivars efivarfs rw,nosuid,nodev,noexec,relatime 0 0
bpf /sys/fs/bpf bpf rw,nosuid,nodev,noexec,relatime,mode=700 0 0
systemd-1 /proc/sys/fs/binfmt_misc autofs rw,relatime,fd=32,pgrp=1,timeout=0,minproto=5,maxproto=5,direct,pipe_ino=4527 0 0
hugetlbfs /dev/hugepages hugetlbfs rw,nosuid,nodev,relatime,pagesize=2M 0 0
mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0
debugfs /sys/kernel/debug debugfs rw,nosuid,nodev,noexec,relatime 0 0
tracefs /sys/kernel/tracing tracefs rw,nosuid,nodev,noexec,relatime 0 0
fusectl /sys/fs/fuse/connections fusectl rw,nosuid,nodev,noexec,relatime 0 0
configfs /sys/kernel/config configfs rw,nosuid,nodev,noexec,relatime 0 0
'''

VFAT_OPTS = 'rw,relatime,fmask=0077,dmask=0077,codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro'


def proc(comm, cmdline, fds=None, detail=None):
    """A process: comm, argv and fd -> link target. detail (procdetail())
    adds what vh-vms and vh-vcpus read: stat, status, schedstat, task/TID/
    and fdinfo/FD."""
    return dict(comm=comm, cmdline=cmdline, fds=fds, detail=detail)


def thread(tid, comm, state='S', utime=0, stime=0, guest=0, cpu=0, allowed=None, sched=None,
           ctxt=(0, 0)):
    """One task of a process: its name (task/TID/comm, at most 15
    characters), the stat fields vh-vcpus reads (state, utime/stime/
    guest_time in clock ticks, the CPU it last ran on), Cpus_allowed_list
    (None: every CPU), schedstat (run ns, wait ns, timeslices; None: derived
    from the times) and the voluntary/involuntary context switches."""
    if len(comm) > 15:
        raise SystemExit('thread name %r is longer than TASK_COMM_LEN - 1' % comm)
    return dict(tid=tid, comm=comm, state=state, utime=utime, stime=stime, guest=guest, cpu=cpu,
                allowed=allowed, sched=sched, ctxt=ctxt)


def procdetail(start, threads, ppid=1, uid=0, gid=0, groups=(), vsize_kb=0, rss_kb=0, hugetlb_kb=0,
               vfio_devices=None, fdsize=64):
    """start: stat's starttime (clock ticks after boot); threads: thread()s,
    the main thread (tid == pid) first; the memory figures as status prints
    them (kB); vfio_devices: fd -> the PCI function a VFIO device fd is of
    (what a 6.18 kernel prints as vfio-device-syspath in its fdinfo)."""
    return dict(start=start, threads=threads, ppid=ppid, uid=uid, gid=gid, groups=list(groups),
                vsize_kb=vsize_kb, rss_kb=rss_kb, hugetlb_kb=hugetlb_kb, vfio_devices=vfio_devices or {},
                fdsize=fdsize)


# Processes every host has: init with its descriptors, kthreadd (a kernel
# thread: proc/2/fd reads as empty, so the tree has no fd directory).
def systemd_proc(cmdline):
    return proc('systemd', cmdline, {
        0: '/dev/null', 1: '/dev/null', 2: '/dev/null', 3: '/dev/kmsg',
        4: 'anon_inode:[eventpoll]', 5: 'anon_inode:[signalfd]', 6: 'anon_inode:inotify',
        7: '/sys/fs/cgroup', 8: 'anon_inode:[timerfd]', 9: 'anon_inode:[eventpoll]',
        10: '/proc/1/mountinfo', 11: 'anon_inode:inotify', 14: 'socket:[18342]',
        15: 'socket:[18343]', 16: 'socket:[18344]', 46: 'socket:[21877]',
    })


KTHREADD = proc('kthreadd', [])


def journald_proc(pid_sock):
    return proc('systemd-journal', ['/usr/lib/systemd/systemd-journald'], {
        0: '/dev/null', 1: '/dev/null', 2: '/dev/null', 3: 'socket:[%d]' % pid_sock,
        4: 'socket:[%d]' % (pid_sock + 1), 5: 'anon_inode:[eventpoll]', 6: '/dev/kmsg',
        7: 'anon_inode:[signalfd]', 8: 'anon_inode:inotify',
        24: '/var/log/journal/4b3f7b0f1a2c4d5e8f9a0b1c2d3e4f50/system.journal',
    })


def pipewire_proc(card):
    return proc('pipewire', ['/usr/bin/pipewire'], {
        0: '/dev/null', 1: 'socket:[40211]', 2: 'socket:[40211]', 3: 'anon_inode:[eventpoll]',
        4: 'anon_inode:[eventfd]', 5: 'socket:[40230]', 18: '/dev/snd/controlC%d' % card,
        23: '/dev/snd/pcmC%dD0p' % card, 24: '/memfd:pipewire-memfd (deleted)',
    })


def desktop_intel_state(vfio_bound=False):
    """The Alder Lake desktop: / on the 980 PRO (02:00.0, ext4 on
    nvme0n1p2), the I225-V (06:00.0, enp6s0) carries the default routes,
    the iGPU (00:02.0) is the boot VGA with i915's fbdev console on fb0.
    Arch runs Xorg on the iGPU and the RX 7900 XTX; Firefox renders on the
    iGPU's render node; the RTX 4090 has the NVIDIA driver but no user
    (nvidia-persistenced is not running)."""
    st = dict(
        nvme=[dict(fn='0000:02:00.0', ctrl=0, model='Samsung SSD 980 PRO 2TB', serial='S6B0NL0W412345K',
                   fw='5B2QGXA7', sectors=3907029168,
                   parts=[(2048, 2097152), (2099200, 3904929792)])],
        sata=[], dm=[], loops=[],
        mounts=(MOUNTS_HEAD + '/dev/nvme0n1p2 / ext4 rw,relatime 0 0\n' + MOUNTS_SYS +
                'tmpfs /tmp tmpfs rw,nosuid,nodev,size=16318036k,nr_inodes=1048576,inode64 0 0\n'
                '/dev/nvme0n1p1 /boot vfat ' + VFAT_OPTS + ' 0 0\n'
                'tmpfs /run/user/1000 tmpfs rw,nosuid,nodev,relatime,size=3263604k,nr_inodes=815901,'
                'mode=700,uid=1000,gid=1000,inode64 0 0\n'
                'portal /run/user/1000/doc fuse.portal rw,nosuid,nodev,relatime,user_id=1000,group_id=1000 0 0\n'),
        netdevs=[dict(fn='0000:06:00.0', name='enp6s0', mac='a8:5e:45:3c:71:e2', ifindex=2, speed=2500)],
        virtual_net=[dict(name='lo', kind='loopback', ifindex=1)],
        route=[route4('enp6s0', '0.0.0.0', '0.0.0.0', gw='192.168.1.1'),
               route4('enp6s0', '192.168.1.0', '255.255.255.0')],
        ipv6_route=[route6('2001:db8:4c1:1::', 64, 'enp6s0', metric=100),
                    route6('fe80::', 64, 'enp6s0', metric=1024),
                    route6('::', 0, 'enp6s0', gw='fe80::1', metric=100, flags=RT6_DEFAULT_RA)] + ipv6_lo_routes(),
        drm=[dict(fn='0000:00:02.0', card=0, render=128, connectors=['DP-1', 'HDMI-A-1']),
             dict(fn='0000:05:00.0', card=1, render=129, connectors=['DP-2', 'HDMI-A-2'])],
        nvidia=[dict(fn='0000:01:00.0', model='NVIDIA GeForce RTX 4090', irq=180,
                     uuid='GPU-3e8f2a41-7c1b-2d94-5e60-a8b1c2d3e4f5', vbios='95.02.18.80.87',
                     minor=0, firmware='550.90.07')],
        nvidia_version='NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.90.07  '
                       'Release Build  (archlinux@builder)  Fri May 31 09:35:42 UTC 2024\n'
                       'GCC version:  gcc version 14.1.1 20240522 (GCC) \n',
        fbs=[dict(fn='0000:00:02.0', id='i915drmfb'), dict(fn='0000:05:00.0', id='amdgpudrmfb')],
        iomem=IOMEM_DESKTOP,
        procs={
            1: systemd_proc(['/sbin/init']),
            2: KTHREADD,
            412: journald_proc(17544),
            875: proc('NetworkManager', ['/usr/bin/NetworkManager', '--no-daemon'], {
                0: '/dev/null', 1: 'socket:[22513]', 2: 'socket:[22513]', 3: 'anon_inode:[eventfd]',
                4: 'anon_inode:[eventpoll]', 5: 'socket:[22540]', 6: 'socket:[22541]', 11: 'socket:[22590]'}),
            1234: proc('Xorg', ['/usr/lib/Xorg', '-nolisten', 'tcp', '-background', 'none', '-seat', 'seat0',
                                'vt2', '-auth', '/run/sddm/xauth_MgBqkM', '-noreset', '-displayfd', '16'], {
                0: '/dev/null', 1: 'socket:[30188]', 2: 'socket:[30188]', 3: 'anon_inode:[eventpoll]',
                4: 'socket:[30207]', 5: 'socket:[30208]', 6: '/dev/tty2', 7: 'anon_inode:[eventfd]',
                12: '/dev/dri/card0', 13: '/dev/dri/card1', 14: 'socket:[30212]', 15: 'pipe:[30215]',
                16: 'pipe:[30215]', 21: '/dev/input/event3', 22: '/dev/input/event5',
                27: '/memfd:xshmfence (deleted)'}),
            1788: pipewire_proc(0),
            2310: proc('firefox', ['/usr/lib/firefox/firefox'], {
                0: '/dev/null', 1: 'socket:[52110]', 2: 'socket:[52110]', 3: 'pipe:[52301]',
                4: 'pipe:[52301]', 5: 'anon_inode:[eventpoll]', 9: 'socket:[52330]',
                38: '/dev/dri/renderD128', 41: '/home/alex/.mozilla/firefox/q1w2e3r4.default-release/places.sqlite'}),
        },
        vtcon=True,
        journal=None,
    )
    if not vfio_bound:
        return st

    # Ubuntu 24.04 on the same machine, a VM running: the RTX 4090 group is on
    # vfio-pci and a QEMU holds /dev/vfio/2 (legacy group + container); the
    # host's network is bridged (br0 over enp6s0 plus the VM's tap vnet0);
    # snaps are mounted from loop devices; GNOME on Wayland.
    st['mounts'] = (MOUNTS_HEAD + '/dev/nvme0n1p2 / ext4 rw,relatime 0 0\n' + MOUNTS_SYS +
                    '/dev/loop0 /snap/core22/1380 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0\n'
                    '/dev/loop1 /snap/firefox/4451 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0\n'
                    '/dev/loop2 /snap/gnome-42-2204/176 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0\n'
                    '/dev/nvme0n1p1 /boot/efi vfat ' + VFAT_OPTS + ' 0 0\n'
                    'tmpfs /run/user/1000 tmpfs rw,nosuid,nodev,relatime,size=3263604k,nr_inodes=815901,'
                    'mode=700,uid=1000,gid=1000,inode64 0 0\n')
    st['loops'] = [(0, '/var/lib/snapd/snaps/core22_1380.snap', 151008),
                   (1, '/var/lib/snapd/snaps/firefox_4451.snap', 523424),
                   (2, '/var/lib/snapd/snaps/gnome-42-2204_176.snap', 1013720)]
    st['virtual_net'] = [dict(name='lo', kind='loopback', ifindex=1),
                         dict(name='br0', kind='bridge', ifindex=3, mac='a8:5e:45:3c:71:e2',
                              ports=['enp6s0', 'vnet0']),
                         dict(name='vnet0', kind='tap', ifindex=7, mac='fe:54:00:6b:2a:19')]
    st['route'] = [route4('br0', '0.0.0.0', '0.0.0.0', gw='192.168.1.1', metric=425),
                   route4('br0', '192.168.1.0', '255.255.255.0', metric=425)]
    st['ipv6_route'] = [route6('2001:db8:4c1:1::', 64, 'br0', metric=425),
                        route6('fe80::', 64, 'br0', metric=1024),
                        route6('fe80::', 64, 'vnet0', metric=256),
                        route6('::', 0, 'br0', gw='fe80::1', metric=425, flags=RT6_DEFAULT_RA)] + ipv6_lo_routes()
    st['nvidia'] = []
    st['procs'] = {
        1: systemd_proc(['/sbin/init', 'splash']),
        2: KTHREADD,
        398: journald_proc(16210),
        1402: proc('gnome-shell', ['/usr/bin/gnome-shell'], {
            0: '/dev/null', 1: 'socket:[36021]', 2: 'socket:[36021]', 3: 'anon_inode:[eventfd]',
            4: 'anon_inode:[eventpoll]', 11: '/dev/dri/card0', 12: '/dev/dri/card1',
            13: '/dev/dri/renderD128', 19: '/dev/input/event3', 25: 'socket:[36110]',
            31: '/memfd:mutter-shared (deleted)'}),
        1650: proc('Xwayland', ['/usr/bin/Xwayland', ':0', '-rootless', '-noreset', '-accessx', '-core',
                                '-auth', '/run/user/1000/.mutter-Xwaylandauth.F0MQP2'], {
            0: '/dev/null', 1: 'socket:[38740]', 2: 'socket:[38740]', 3: 'socket:[38761]',
            9: '/dev/dri/renderD128', 10: 'anon_inode:[eventpoll]'}),
        1733: pipewire_proc(0),
        3320: proc('virtqemud', ['/usr/sbin/virtqemud', '--timeout', '120'], {
            0: '/dev/null', 1: 'socket:[41002]', 2: 'socket:[41002]', 3: 'socket:[41010]',
            4: 'anon_inode:[eventpoll]', 5: 'pipe:[41013]', 6: 'pipe:[41013]', 18: 'socket:[41102]'}),
        3456: proc('qemu-system-x86', [
            '/usr/bin/qemu-system-x86_64', '-name', 'guest=win11,debug-threads=on', '-machine',
            'pc-q35-8.2,usb=off,vmport=off,dump-guest-core=off,memory-backend=pc.ram,hpet=off,acpi=on',
            '-accel', 'kvm', '-cpu', 'host,migratable=on', '-m', 'size=16777216k',
            '-object', '{"qom-type":"memory-backend-file","id":"pc.ram","mem-path":"/dev/hugepages/libvirt/qemu/'
            '1-win11","prealloc":true,"size":17179869184}',
            '-overcommit', 'mem-lock=off', '-smp', '4,sockets=1,dies=1,cores=2,threads=2',
            '-device', '{"driver":"vfio-pci","host":"0000:01:00.0","id":"hostdev0","bus":"pci.5","addr":"0x0"}',
            '-device', '{"driver":"vfio-pci","host":"0000:01:00.1","id":"hostdev1","bus":"pci.6","addr":"0x0"}'], {
            0: '/dev/null', 1: 'pipe:[42811]', 2: 'pipe:[42811]', 3: 'socket:[42815]',
            10: '/dev/kvm', 11: 'anon_inode:kvm-vm', 15: 'anon_inode:[eventfd]', 17: '/dev/net/tun',
            19: '/dev/vfio/vfio', 20: '/dev/vfio/2', 21: 'anon_inode:[vfio-device]',
            22: 'anon_inode:[vfio-device]', 30: '/var/lib/libvirt/qemu/nvram/win11_VARS.fd',
            31: 'anon_inode:kvm-vcpu:0', 32: 'anon_inode:kvm-vcpu:1', 33: 'anon_inode:kvm-vcpu:2',
            34: 'anon_inode:kvm-vcpu:3'},
            # libvirt's QEMU (libvirt-qemu, group kvm), started 1650.12 s
            # after boot, 48 s after vfiohostd bound the GPU group; the
            # guest's 16 GiB are huge pages (HugetlbPages, not VmRSS). vCPUs
            # 0 and 1 pinned to CPUs 2 and 3 (<vcpupin>), 2 and 3 free;
            # the QEMU threads named as debug-threads=on names them.
            procdetail(start=165012, ppid=1, uid=64055, gid=993, groups=[993], vsize_kb=19730264,
                       rss_kb=812344, hugetlb_kb=16777216, fdsize=128,
                       vfio_devices={21: '0000:01:00.0', 22: '0000:01:00.1'}, threads=[
                thread(3456, 'qemu-system-x86', utime=812, stime=410, cpu=7, ctxt=(91230, 412)),
                thread(3457, 'call_rcu', utime=3, stime=2, cpu=5, ctxt=(1201, 3)),
                thread(3458, 'IO mon_iothread', utime=41, stime=28, cpu=11, ctxt=(20113, 40)),
                thread(3460, 'CPU 0/KVM', state='R', utime=45210, stime=3120, guest=44890, cpu=2, allowed='2',
                       sched=(483312345678, 1208334455, 3190233), ctxt=(2880112, 3312)),
                thread(3461, 'CPU 1/KVM', utime=38977, stime=2754, guest=38602, cpu=3, allowed='3',
                       sched=(417330021877, 1190223401, 2870455), ctxt=(2611045, 2981)),
                thread(3462, 'CPU 2/KVM', utime=29114, stime=2301, guest=28790, cpu=9,
                       sched=(314170554120, 9021334880, 2301887), ctxt=(2011332, 40221)),
                thread(3463, 'CPU 3/KVM', utime=27650, stime=2189, guest=27301, cpu=14,
                       sched=(298412007733, 8804112093, 2199340), ctxt=(1990871, 38110)),
                thread(3466, 'worker', utime=12, stime=19, cpu=20, ctxt=(340, 2)),
                thread(3470, 'vhost-3456', utime=0, stime=1530, cpu=6, ctxt=(1120334, 120)),
            ])),
    }
    st['btime'] = 1718030000
    # vfiohostd bound the GPU group: its journal has the original drivers.
    st['journal'] = {
        'version': 1, 'next_txn': 2,
        'devices': [
            {'address': '0000:01:00.0', 'state': 'bound', 'txn': 1, 'original_known': True,
             'original_driver': 'nvidia',
             'original_override': None, 'time': 1718031602153071},
            {'address': '0000:01:00.1', 'state': 'bound', 'txn': 1, 'original_known': True,
             'original_driver': 'snd_hda_intel',
             'original_override': None, 'time': 1718031602153071},
        ],
    }
    return st


def server_sriov_state():
    """RHEL 9 server: / on LVM (rhel-root on dm-0, its PV nvme0n1p3 on the
    PM983 af:00.0), /boot and /boot/efi on plain partitions; the default
    routes on bond0 (active-backup over both X710 PFs, ens1f0 and ens1f1);
    VF0 (3b:02.0, ens1f0v0) carries only a storage subnet. The ASPEED is the
    boot VGA but no framebuffer is registered (the console is on the serial
    line): proc/fb is empty, iomem shows its BARs without a firmware
    framebuffer. gdm's Xorg has the ASPEED's card0 open."""
    return dict(
        nvme=[dict(fn='0000:af:00.0', ctrl=0, model='SAMSUNG MZ1LB1T9HALS-00007', serial='S436NA0M912345',
                   fw='EDA7602Q', sectors=3750748848,
                   parts=[(2048, 1228800), (1230848, 2097152), (3328000, 3747418112)],
                   holders={3: ['dm-0', 'dm-1', 'dm-2']})],
        sata=[], loops=[],
        dm=[dict(name='dm-0', lv='rhel-root', minor=0, sectors=146800640, slaves=['nvme0n1p3']),
            dict(name='dm-1', lv='rhel-swap', minor=1, sectors=8388608, slaves=['nvme0n1p3']),
            dict(name='dm-2', lv='rhel-home', minor=2, sectors=3592224768, slaves=['nvme0n1p3'])],
        mounts=(MOUNTS_HEAD.replace('udev /dev', 'devtmpfs /dev') +
                '/dev/mapper/rhel-root / xfs rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota 0 0\n' +
                MOUNTS_SYS +
                '/dev/nvme0n1p2 /boot xfs rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota 0 0\n'
                '/dev/nvme0n1p1 /boot/efi vfat ' + VFAT_OPTS + ' 0 0\n'
                '/dev/mapper/rhel-home /home xfs rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota 0 0\n'
                'sunrpc /var/lib/nfs/rpc_pipefs rpc_pipefs rw,relatime 0 0\n'),
        netdevs=[dict(fn='0000:3b:00.0', name='ens1f0', mac='3c:fd:fe:b5:40:a0', ifindex=2, speed=10000),
                 dict(fn='0000:3b:00.1', name='ens1f1', mac='3c:fd:fe:b5:40:a1', ifindex=3, speed=10000),
                 dict(fn='0000:3b:02.0', name='ens1f0v0', mac='5a:9e:13:c0:77:02', ifindex=5, speed=10000)],
        virtual_net=[dict(name='lo', kind='loopback', ifindex=1),
                     dict(name='bond0', kind='bond', ifindex=6, mac='3c:fd:fe:b5:40:a0',
                          ports=['ens1f0', 'ens1f1'], active='ens1f0')],
        route=[route4('bond0', '0.0.0.0', '0.0.0.0', gw='10.40.0.1', metric=300),
               route4('ens1f0v0', '10.40.8.0', '255.255.255.0', metric=102),
               route4('bond0', '10.40.0.0', '255.255.240.0', metric=300)],
        ipv6_route=[route6('fd00:40::', 64, 'bond0', metric=300),
                    route6('fe80::', 64, 'bond0', metric=1024),
                    route6('fe80::', 64, 'ens1f0v0', metric=1024),
                    route6('::', 0, 'bond0', gw='fe80::1', metric=300, flags=RT6_DEFAULT_RA)] + ipv6_lo_routes(),
        drm=[dict(fn='0000:02:00.0', card=0, render=None, connectors=['VGA-1'])],
        nvidia=[], fbs=[],
        iomem=IOMEM_SERVER,
        procs={
            1: systemd_proc(['/usr/lib/systemd/systemd', '--switched-root', '--system', '--deserialize', '31']),
            2: KTHREADD,
            701: journald_proc(15102),
            1105: proc('sshd', ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'], {
                0: '/dev/null', 1: 'socket:[24410]', 2: 'socket:[24410]', 3: 'socket:[24431]',
                4: 'socket:[24433]'}),
            1620: proc('NetworkManager', ['/usr/sbin/NetworkManager', '--no-daemon'], {
                0: '/dev/null', 1: 'socket:[22513]', 2: 'socket:[22513]', 3: 'anon_inode:[eventfd]',
                4: 'anon_inode:[eventpoll]', 5: 'socket:[22540]', 11: 'socket:[22590]'}),
            2201: proc('Xorg', ['/usr/libexec/Xorg', 'vt1', '-displayfd', '3', '-auth',
                                '/run/user/42/gdm/Xauthority', '-nolisten', 'tcp', '-background', 'none',
                                '-noreset', '-keeptty', '-novtswitch', '-verbose', '3'], {
                0: '/dev/null', 1: 'socket:[31007]', 2: 'socket:[31007]', 3: 'anon_inode:[eventpoll]',
                4: 'socket:[31020]', 6: '/dev/tty1', 12: '/dev/dri/card0', 13: 'pipe:[31044]',
                14: 'pipe:[31044]', 17: '/dev/input/event1'}),
        },
        vtcon=False,
        journal=None,
    )


def no_iommu_state():
    """Debian desktop without IOMMU: / on a SATA SSD (sda2 on the AHCI
    controller 00:17.0), the RTL8168 (02:00.0, enp2s0) has the default route,
    the iGPU is the boot VGA with i915drmfb; Xorg on the iGPU, and
    nvidia-persistenced holds the GTX 1080's /dev/nvidia0."""
    return dict(
        nvme=[], dm=[], loops=[],
        sata=[dict(fn='0000:00:17.0', port=1, host=0, disk='sda', model='Samsung SSD 860 ', sectors=976773168,
                   parts=[(2048, 1048576), (1050624, 942718976), (943769600, 33001472)])],
        mounts=(MOUNTS_HEAD + '/dev/sda2 / ext4 rw,relatime,errors=remount-ro 0 0\n' + MOUNTS_SYS +
                '/dev/sda1 /boot/efi vfat ' + VFAT_OPTS + ' 0 0\n'
                'tmpfs /run/user/1000 tmpfs rw,nosuid,nodev,relatime,size=1631000k,nr_inodes=407750,'
                'mode=700,uid=1000,gid=1000,inode64 0 0\n'),
        netdevs=[dict(fn='0000:02:00.0', name='enp2s0', mac='e0:d5:5e:21:9b:4c', ifindex=2, speed=1000)],
        virtual_net=[dict(name='lo', kind='loopback', ifindex=1)],
        route=[route4('enp2s0', '0.0.0.0', '0.0.0.0', gw='192.168.178.1', metric=100),
               route4('enp2s0', '192.168.178.0', '255.255.255.0', metric=100)],
        ipv6_route=[route6('fe80::', 64, 'enp2s0', metric=1024)] + ipv6_lo_routes(),
        drm=[dict(fn='0000:00:02.0', card=0, render=128, connectors=['DP-1', 'HDMI-A-1'])],
        nvidia=[dict(fn='0000:01:00.0', model='NVIDIA GeForce GTX 1080', irq=130,
                     uuid='GPU-8a1c4e2f-93b7-6d05-1e2a-f4c3b2a19087', vbios='86.04.17.00.80',
                     minor=0, firmware=None)],
        nvidia_version='NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024\n'
                       'GCC version:  gcc version 12.2.0 (Debian 12.2.0-14) \n',
        fbs=[dict(fn='0000:00:02.0', id='i915drmfb')],
        iomem=IOMEM_NO_IOMMU,
        procs={
            1: systemd_proc(['/sbin/init']),
            2: KTHREADD,
            305: journald_proc(14890),
            1234: proc('Xorg', ['/usr/lib/xorg/Xorg', 'vt7', '-displayfd', '3', '-auth',
                                '/run/user/1000/gdm/Xauthority', '-nolisten', 'tcp', '-background', 'none',
                                '-noreset', '-keeptty', '-novtswitch', '-verbose', '3'], {
                0: '/dev/null', 1: 'socket:[30188]', 2: 'socket:[30188]', 3: 'anon_inode:[eventpoll]',
                6: '/dev/tty7', 12: '/dev/dri/card0', 14: 'socket:[30212]', 15: 'pipe:[30215]',
                16: 'pipe:[30215]', 21: '/dev/input/event2'}),
            1780: pipewire_proc(0),
            2345: proc('nvidia-persiste', ['/usr/bin/nvidia-persistenced', '--user', 'nvpd'], {
                0: '/dev/null', 1: '/dev/null', 2: '/dev/null', 3: 'socket:[27114]',
                4: '/dev/nvidiactl', 5: '/dev/nvidia0', 6: 'anon_inode:[eventfd]'}),
        },
        vtcon=True,
        journal=None,
    )


def amd_desktop_state():
    """Debian desktop with the RX 7900 XTX as its only GPU: boot VGA with
    amdgpu's fbdev console on fb0, GNOME on Wayland holding card0 and the
    render node; / on the 980 PRO (01:00.0). The fixture lists no network
    function, so only lo exists and no default route is configured."""
    return dict(
        nvme=[dict(fn='0000:01:00.0', ctrl=0, model='Samsung SSD 980 PRO 1TB', serial='S5GXNF0R812345A',
                   fw='5B2QGXA7', sectors=1953525168,
                   parts=[(2048, 1048576), (1050624, 1952473088)])],
        sata=[], dm=[], loops=[],
        mounts=(MOUNTS_HEAD + '/dev/nvme0n1p2 / ext4 rw,relatime,errors=remount-ro 0 0\n' + MOUNTS_SYS +
                '/dev/nvme0n1p1 /boot/efi vfat ' + VFAT_OPTS + ' 0 0\n'),
        netdevs=[],
        virtual_net=[dict(name='lo', kind='loopback', ifindex=1)],
        route=[],
        ipv6_route=ipv6_lo_routes(),
        drm=[dict(fn='0000:04:00.0', card=0, render=128, connectors=['DP-1', 'DP-2', 'HDMI-A-1'])],
        nvidia=[],
        fbs=[dict(fn='0000:04:00.0', id='amdgpudrmfb')],
        iomem=IOMEM_AMD,
        procs={
            1: systemd_proc(['/sbin/init']),
            2: KTHREADD,
            290: journald_proc(14320),
            1733: pipewire_proc(1),
            1890: proc('gnome-shell', ['/usr/bin/gnome-shell'], {
                0: '/dev/null', 1: 'socket:[36021]', 2: 'socket:[36021]', 3: 'anon_inode:[eventfd]',
                4: 'anon_inode:[eventpoll]', 11: '/dev/dri/card0', 13: '/dev/dri/renderD128',
                19: '/dev/input/event3', 31: '/memfd:mutter-shared (deleted)'}),
            2014: proc('Xwayland', ['/usr/bin/Xwayland', ':0', '-rootless', '-noreset', '-accessx', '-core',
                                    '-auth', '/run/user/1000/.mutter-Xwaylandauth.7YQ2P2'], {
                0: '/dev/null', 1: 'socket:[38740]', 2: 'socket:[38740]', 3: 'socket:[38761]',
                9: '/dev/dri/renderD128', 10: 'anon_inode:[eventpoll]'}),
        },
        vtcon=True,
        journal=None,
    )


STATES = {
    'desktop-intel': desktop_intel_state,
    'desktop-vfio-bound': lambda: desktop_intel_state(vfio_bound=True),
    'server-sriov': server_sriov_state,
    'server-variant': server_variant_state,
    'server-sriov-vfs': server_sriov_vfs_state,
    'no-iommu': no_iommu_state,
    'amd-desktop': amd_desktop_state,
}

# /proc/iomem as root reads it: nested resources indented by two spaces per
# level. The PCI BARs carry the function's address and, nested, the driver's
# claim. None of these hosts shows a firmware framebuffer (BOOTFB, efifb,
# simpledrm, vesafb): the native drivers removed it when they took over the
# boot GPU (aperture_remove_conflicting_pci_devices), and the server has
# none. Tests that need one write it into a copy.
IOMEM_DESKTOP = '''\
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
000a0000-000fffff : Reserved
  000a0000-000bffff : PCI Bus 0000:00
  000f0000-000fffff : System ROM
00100000-3e2dffff : System RAM
  0b000000-0c202fff : Kernel code
  0c400000-0cdeefff : Kernel rodata
  0ce00000-0d1e2c3f : Kernel data
  0d87e000-0dbfffff : Kernel bss
3e2e0000-3e2fffff : Reserved
3e300000-6ccc6fff : System RAM
6ccc7000-6ce88fff : ACPI Non-volatile Storage
6ce89000-6f7fefff : Reserved
6f7ff000-6fffffff : System RAM
70000000-7fffffff : Reserved
  7b800000-7fffffff : Graphics Stolen Memory
80000000-bfffffff : PCI Bus 0000:00
  80000000-810fffff : PCI Bus 0000:01
    80000000-80ffffff : 0000:01:00.0
      80000000-80ffffff : nvidia
    81000000-8107ffff : 0000:01:00.0
    81080000-81083fff : 0000:01:00.1
      81080000-81083fff : ICH HD audio
  81100000-812fffff : PCI Bus 0000:03
    81100000-812fffff : PCI Bus 0000:04
      81100000-812fffff : PCI Bus 0000:05
        81100000-811fffff : 0000:05:00.0
        81200000-8121ffff : 0000:05:00.0
        81220000-81223fff : 0000:05:00.1
          81220000-81223fff : ICH HD audio
  81300000-814fffff : PCI Bus 0000:06
    81300000-813fffff : 0000:06:00.0
      81300000-813fffff : igc
    81400000-81403fff : 0000:06:00.0
      81400000-81403fff : igc
  81500000-815fffff : PCI Bus 0000:02
    81500000-81503fff : 0000:02:00.0
      81500000-81503fff : nvme
  81600000-8160ffff : 0000:00:14.0
    81600000-8160ffff : xhci-hcd
  81610000-81613fff : 0000:00:1f.3
    81610000-81613fff : ICH HD audio
  81614000-81617fff : 0000:00:14.2
  81618000-816180ff : 0000:00:1f.4
  81619000-81619fff : 0000:00:1f.5
c0000000-cfffffff : PCI ECAM 0000 [bus 00-ff]
  c0000000-cfffffff : Reserved
fe000000-fe010fff : Reserved
fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fed20000-fed7ffff : Reserved
fed90000-fed90fff : dmar0
fed91000-fed91fff : dmar1
fee00000-fee00fff : Local APIC
  fee00000-fee00fff : Reserved
ff000000-ffffffff : Reserved
100000000-107f7fffff : System RAM
107f800000-107fffffff : RAM buffer
4000000000-7fffffffff : PCI Bus 0000:00
  4000000000-4011ffffff : PCI Bus 0000:01
    4000000000-400fffffff : 0000:01:00.0
    4010000000-4011ffffff : 0000:01:00.0
  4400000000-460fffffff : PCI Bus 0000:03
    4400000000-460fffffff : PCI Bus 0000:04
      4400000000-460fffffff : PCI Bus 0000:05
        4400000000-45ffffffff : 0000:05:00.0
        4600000000-46001fffff : 0000:05:00.0
  6000000000-600fffffff : 0000:00:02.0
  6010000000-6010ffffff : 0000:00:02.0
'''

IOMEM_SERVER = '''\
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
000a0000-000fffff : Reserved
  000a0000-000bffff : PCI Bus 0000:00
  000c0000-000c7fff : Video ROM
  000f0000-000fffff : System ROM
00100000-5a7a0fff : System RAM
  2a000000-2b202fff : Kernel code
  2b400000-2bdeefff : Kernel rodata
  2be00000-2c1e2c3f : Kernel data
  2c87e000-2cbfffff : Kernel bss
5a7a1000-6a4b2fff : Reserved
6a4b3000-6a8d2fff : ACPI Tables
6a8d3000-6b6a2fff : ACPI Non-volatile Storage
6b6a3000-6fffffff : Reserved
80000000-8fffffff : PCI MMCONFIG 0000 [bus 00-ff]
  80000000-8fffffff : Reserved
90000000-9d7fffff : PCI Bus 0000:00
  90000000-910fffff : PCI Bus 0000:01
    90000000-910fffff : PCI Bus 0000:02
      90000000-90ffffff : 0000:02:00.0
      91000000-9101ffff : 0000:02:00.0
  91100000-911000ff : 0000:00:1f.4
9d800000-aaffffff : PCI Bus 0000:3a
  9d800000-9dffffff : PCI Bus 0000:3b
    9d800000-9dffffff : 0000:3b:00.0
      9d800000-9dffffff : i40e
    9e000000-9e7fffff : 0000:3b:00.1
      9e000000-9e7fffff : i40e
  9e800000-9e80ffff : 0000:3b:00.0
  9e810000-9e81ffff : 0000:3b:02.0
    9e810000-9e81ffff : iavf
  9e820000-9e82ffff : 0000:3b:02.1
    9e820000-9e82ffff : vfio-pci
c6000000-d3ffffff : PCI Bus 0000:ae
  c6000000-c60fffff : PCI Bus 0000:af
    c6000000-c6003fff : 0000:af:00.0
      c6000000-c6003fff : nvme
fd000000-fe7fffff : Reserved
fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fed90000-fed90fff : dmar2
fed91000-fed91fff : dmar1
fed92000-fed92fff : dmar0
fee00000-fee00fff : Local APIC
ff000000-ffffffff : Reserved
100000000-407fffffff : System RAM
'''

IOMEM_NO_IOMMU = '''\
00000000-00000fff : Reserved
00001000-0009dfff : System RAM
0009e000-000fffff : Reserved
  000a0000-000bffff : PCI Bus 0000:00
  000f0000-000fffff : System ROM
00100000-8a3c2fff : System RAM
  21000000-22002fff : Kernel code
  22200000-22beefff : Kernel rodata
  22c00000-22fe2c3f : Kernel data
  2367e000-239fffff : Kernel bss
8a3c3000-8a3c3fff : ACPI Non-volatile Storage
8a3c4000-8a3ecfff : Reserved
8a3ed000-8f3fffff : System RAM
8f400000-8fffffff : Reserved
  8f800000-8fffffff : Graphics Stolen Memory
90000000-dfffffff : PCI Bus 0000:00
  90000000-9fffffff : 0000:00:02.0
  a0000000-c1ffffff : PCI Bus 0000:01
    a0000000-afffffff : 0000:01:00.0
    b0000000-b1ffffff : 0000:01:00.0
    c0000000-c0ffffff : 0000:01:00.0
      c0000000-c0ffffff : nvidia
    c1000000-c107ffff : 0000:01:00.0
    c1080000-c1083fff : 0000:01:00.1
      c1080000-c1083fff : ICH HD audio
  de000000-deffffff : 0000:00:02.0
  df000000-df0fffff : PCI Bus 0000:02
    df000000-df003fff : 0000:02:00.0
      df000000-df003fff : r8169
    df004000-df004fff : 0000:02:00.0
      df004000-df004fff : r8169
  df100000-df10ffff : 0000:00:14.0
    df100000-df10ffff : xhci-hcd
  df110000-df113fff : 0000:00:1f.3
    df110000-df113fff : ICH HD audio
  df114000-df1140ff : 0000:00:1f.4
  df115000-df1157ff : 0000:00:17.0
    df115000-df1157ff : ahci
e0000000-efffffff : PCI MMCONFIG 0000 [bus 00-ff]
  e0000000-efffffff : Reserved
fec00000-fec00fff : Reserved
  fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fee00000-fee00fff : Local APIC
  fee00000-fee00fff : Reserved
100000000-46effffff : System RAM
46f000000-46fffffff : RAM buffer
'''

IOMEM_AMD = '''\
00000000-00000fff : Reserved
00001000-0009ffff : System RAM
000a0000-000fffff : Reserved
  000a0000-000bffff : PCI Bus 0000:00
  000f0000-000fffff : System ROM
00100000-09d81fff : System RAM
09d82000-09ffffff : Reserved
0a000000-0a1fffff : System RAM
0a200000-0a20cfff : ACPI Non-volatile Storage
0a20d000-c9e3dfff : System RAM
  21000000-22002fff : Kernel code
  22200000-22beefff : Kernel rodata
  22c00000-22fe2c3f : Kernel data
  2367e000-239fffff : Kernel bss
c9e3e000-cb36dfff : Reserved
cb36e000-cb4c6fff : ACPI Tables
cb4c7000-cc6defff : ACPI Non-volatile Storage
cc6df000-cdbfefff : Reserved
cdbff000-ceffffff : System RAM
cf000000-cfffffff : Reserved
d0000000-fec2ffff : PCI Bus 0000:00
  f0000000-f7ffffff : PCI ECAM 0000 [bus 00-7f]
    f0000000-f7ffffff : Reserved
  fc700000-fc9fffff : PCI Bus 0000:02
    fc700000-fc9fffff : PCI Bus 0000:03
      fc700000-fc9fffff : PCI Bus 0000:04
        fc700000-fc7fffff : 0000:04:00.0
        fc800000-fc81ffff : 0000:04:00.0
        fc820000-fc823fff : 0000:04:00.1
          fc820000-fc823fff : ICH HD audio
    fca00000-fca03fff : 0000:02:00.0
  fcb00000-fcbfffff : PCI Bus 0000:01
    fcb00000-fcb03fff : 0000:01:00.0
      fcb00000-fcb03fff : nvme
  fd100000-fd17ffff : amd_iommu
fec00000-fec003ff : IOAPIC 0
fec01000-fec013ff : IOAPIC 1
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fee00000-fee00fff : Local APIC
  fee00000-fee00fff : pnp 00:00
100000000-82f37ffff : System RAM
82f380000-82fffffff : Reserved
7000000000-7fffffffff : PCI Bus 0000:00
  7800000000-7c0fffffff : PCI Bus 0000:02
    7800000000-7c0fffffff : PCI Bus 0000:03
      7800000000-7c0fffffff : PCI Bus 0000:04
        7800000000-7bffffffff : 0000:04:00.0
        7c00000000-7c001fffff : 0000:04:00.0
'''


# --- processes in detail: what fs/proc/array.c and fs/proc/stat.c print.
# Only the processes described with procdetail() get these files (the
# others have comm, cmdline and fd/ alone, which is all the holders scan
# reads). USER_HZ is 100 on x86: every tick figure is in hundredths of a
# second.

TASK_STATES = {'R': 'R (running)', 'S': 'S (sleeping)', 'D': 'D (disk sleep)', 'T': 'T (stopped)',
               'I': 'I (idle)'}
# MAX_NUMNODES of these distribution kernels (CONFIG_NODES_SHIFT=10)
MAX_NUMNODES = 1024


def cpu_online_list(host):
    return '0-%d' % (host['cpus'] - 1) if host['cpus'] > 1 else '0'


def nodemask(host):
    """Mems_allowed as "%*pb" prints a MAX_NUMNODES-bit nodemask."""
    nodes = len(host['nodes']) if host['nodes'] else 1
    return cpumask('0-%d' % (nodes - 1) if nodes > 1 else '0', MAX_NUMNODES)


def task_sched(th):
    """schedstat's run ns, wait ns and timeslices: given, or derived from
    the thread's times (a tick is 10 ms)."""
    if th['sched'] is not None:
        return th['sched']
    ticks = th['utime'] + th['stime']
    return (ticks * 10000000 + th['tid'] * 1000, ticks * 25000 + th['tid'], ticks * 61 + th['tid'] % 97)


def stat_line(pid, comm, th, d, nthreads, whole, totals):
    """do_task_stat(): 52 fields. The whole process (proc/PID/stat) sums
    the threads' times; a thread's (task/TID/stat) has its own."""
    utime, stime, guest = totals if whole else (th['utime'], th['stime'], th['guest'])
    main = th['tid'] == pid
    start = d['start'] + (0 if main else 1 + d['threads'].index(th))
    f = [pid if whole else th['tid'], '(%s)' % comm, th['state'], d['ppid'], pid, pid, 0, -1,
         4194560 if main else 4194368,                            # PF_RANDOMIZE|PF_SUPERPRIV / |PF_FORKNOEXEC
         21342, 0, 12, 0, utime, stime, 0, 0, 20, 0, nthreads, 0, start,
         d['vsize_kb'] * 1024, d['rss_kb'] // 4, 18446744073709551615,
         94248652906496, 94248664170917, 140724103561936, 0, 0,
         0, 0, 4096, 1082132009, 0 if th['state'] == 'R' else 1, 0, 0,
         17 if main else -1, th['cpu'], 0, 0, 0, guest, 0,
         94248668342864, 94248669040496, 94248700477440, 140724103568213, 140724103569866,
         140724103569866, 140724103573472, 0]
    if len(f) != 52:
        raise SystemExit('stat has %d fields' % len(f))
    return ' '.join(str(x) for x in f) + '\n'


def status_text(host, pid, comm, th, d, nthreads):
    """proc_pid_status() of a process or one of its threads. The x86
    thread-feature lines (untag_mask, x86_Thread_features) are left out."""
    allowed = th['allowed'] or cpu_online_list(host)
    kb = lambda key, v: '%s:\t%8d kB' % (key, v)
    rss_anon = d['rss_kb'] * 19 // 20
    lines = [
        'Name:\t' + comm, 'Umask:\t0022', 'State:\t' + TASK_STATES[th['state']],
        'Tgid:\t%d' % pid, 'Ngid:\t0', 'Pid:\t%d' % th['tid'], 'PPid:\t%d' % d['ppid'], 'TracerPid:\t0',
        'Uid:\t' + '\t'.join([str(d['uid'])] * 4), 'Gid:\t' + '\t'.join([str(d['gid'])] * 4),
        'FDSize:\t%d' % d['fdsize'], 'Groups:\t' + ' '.join(str(g) for g in d['groups']),
        'NStgid:\t%d' % pid, 'NSpid:\t%d' % th['tid'], 'NSpgid:\t%d' % pid, 'NSsid:\t%d' % pid,
        kb('VmPeak', d['vsize_kb'] + 65536), kb('VmSize', d['vsize_kb']), kb('VmLck', 0), kb('VmPin', 0),
        kb('VmHWM', d['rss_kb'] + 20480), kb('VmRSS', d['rss_kb']), kb('RssAnon', rss_anon),
        kb('RssFile', d['rss_kb'] - rss_anon), kb('RssShmem', 0), kb('VmData', d['rss_kb'] + 1048576),
        kb('VmStk', 132), kb('VmExe', 7260), kb('VmLib', 32412), kb('VmPTE', d['rss_kb'] // 400 + 64),
        kb('VmSwap', 0), kb('HugetlbPages', d['hugetlb_kb']), 'CoreDumping:\t0', 'THP_enabled:\t1',
        'Threads:\t%d' % nthreads, 'SigQ:\t0/255490', 'SigPnd:\t0000000000000000', 'ShdPnd:\t0000000000000000',
        'SigBlk:\t0000000010002240', 'SigIgn:\t0000000000001000', 'SigCgt:\t0000000100004a03',
        'CapInh:\t0000000000000000',
        'CapPrm:\t%s' % ('000001ffffffffff' if d['uid'] == 0 else '0000000000000000'),
        'CapEff:\t%s' % ('000001ffffffffff' if d['uid'] == 0 else '0000000000000000'),
        'CapBnd:\t000001ffffffffff', 'CapAmb:\t0000000000000000', 'NoNewPrivs:\t0', 'Seccomp:\t0',
        'Seccomp_filters:\t0', 'Speculation_Store_Bypass:\tthread vulnerable',
        'SpeculationIndirectBranch:\tconditional enabled',
        'Cpus_allowed:\t' + cpumask(allowed, host['cpus']), 'Cpus_allowed_list:\t' + allowed,
        'Mems_allowed:\t' + nodemask(host), 'Mems_allowed_list:\t' + (
            '0-%d' % (len(host['nodes']) - 1) if host['nodes'] and len(host['nodes']) > 1 else '0'),
        'voluntary_ctxt_switches:\t%d' % th['ctxt'][0], 'nonvoluntary_ctxt_switches:\t%d' % th['ctxt'][1],
    ]
    return '\n'.join(lines) + '\n'


# fdinfo: seq_show()'s four lines. mnt_id of the mount the file is on (the
# pseudo filesystems' internal mounts for sockets, pipes and anon inodes,
# which all share one inode), the inode number; flags in octal with
# O_LARGEFILE for files opened from userspace and O_CLOEXEC where set.
# Type-specific lines (eventfd-count, tfd:, inotify) are left out; a VFIO
# device fd gets "vfio-device-syspath:" from Linux 6.18 on
# (vfio_device_show_fdinfo: "/sys" and the kobject path of the device).
def fdinfo_text(host, devs, d, fd, target):
    cloexec = 0o2000000 if fd > 2 else 0
    if target.startswith('socket:['):
        mnt, ino, flags = 8, int(target[8:-1]), 0o2 | cloexec
    elif target.startswith('pipe:['):
        # stdout and stderr are write ends
        mnt, ino, flags = 14, int(target[6:-1]), cloexec | (0o1 if fd in (1, 2) else 0)
    elif target.startswith('anon_inode:'):
        mnt, ino, flags = 15, 1057, 0o2 | cloexec
    else:
        mnt = 5 if target.startswith('/dev/') else 31
        ino, flags = zlib.crc32(target.encode()) % 90000 + 1000, 0o100002 | cloexec
    text = 'pos:\t0\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n' % (flags, mnt, ino)
    addr = d['vfio_devices'].get(fd)
    if addr and kver(host['release']) >= (6, 18):
        text += 'vfio-device-syspath: /%s\n' % devs[addr]['path']
    return text


def write_proc_detail(t, host, devs, pid, p):
    d = p['detail']
    threads = d['threads']
    if threads[0]['tid'] != pid or threads[0]['comm'] != p['comm']:
        raise SystemExit('pid %d: the main thread comes first, with the process name' % pid)
    for fd in d['vfio_devices']:
        if p['fds'].get(fd) not in ('anon_inode:[vfio-device]',) and \
                not p['fds'].get(fd, '').startswith('/dev/vfio/devices/vfio'):
            raise SystemExit('pid %d: fd %d is no VFIO device fd' % (pid, fd))
    n = len(threads)
    totals = tuple(sum(th[k] for th in threads) for k in ('utime', 'stime', 'guest'))
    base = 'proc/%d' % pid
    main = threads[0]
    t.write(base + '/stat', stat_line(pid, p['comm'], main, d, n, True, totals))
    t.write(base + '/status', status_text(host, pid, p['comm'], main, d, n))
    t.write(base + '/schedstat', '%d %d %d\n' % task_sched(main))
    for th in threads:
        tb = '%s/task/%d' % (base, th['tid'])
        t.write(tb + '/comm', th['comm'] + '\n')
        t.write(tb + '/stat', stat_line(pid, th['comm'], th, d, n, False, totals))
        t.write(tb + '/status', status_text(host, pid, th['comm'], th, d, n))
        t.write(tb + '/schedstat', '%d %d %d\n' % task_sched(th))
    for fd, target in sorted(p['fds'].items()):
        t.write('%s/fdinfo/%d' % (base, fd), fdinfo_text(host, devs, d, fd, target))


def proc_stat(host, btime):
    """show_stat(): the CPU times (USER_HZ ticks) in total and per CPU, the
    interrupt counts (shortened to the first 64 of nr_irqs), context
    switches, btime (boot time, seconds since the epoch), processes, and
    the softirq counts."""
    n = host['cpus']
    per = []
    for i in range(n):
        user = 180000 + 3717 * i
        system = 41000 + 911 * i
        per.append([user, 120 + i, system, 2100000 - user - system, 1800 + 13 * i, 0, 600 + 7 * i, 0, 0, 0])
    total = [sum(c[k] for c in per) for k in range(10)]
    out = ['cpu  ' + ' '.join(str(x) for x in total)]
    out += ['cpu%d ' % i + ' '.join(str(x) for x in c) for i, c in enumerate(per)]
    irqs = [0, 9, 0, 0, 0, 0, 0, 0, 0, 1204, 0, 0, 0, 0, 0, 0] + [0] * 48
    irqs[16] = 318776
    out.append('intr %d ' % sum(irqs) + ' '.join(str(x) for x in irqs))
    out += ['ctxt 912837461', 'btime %d' % btime, 'processes 48211', 'procs_running 3', 'procs_blocked 0']
    soft = [1021, 88120031, 1771023, 2201, 3392871, 120331, 0, 1204487, 56002817, 0, 17704311]
    out.append('softirq %d ' % sum(soft[1:]) + ' '.join(str(x) for x in soft[1:]))
    return '\n'.join(out) + '\n'


def write_host_state(t, name, st, devs, host):
    path = lambda addr: devs[addr]['path']
    blocks = {}         # block device name -> its sysfs directory

    def block(dirpath, bname, major, minor, sectors, devtype, diskseq, extra=None, partn=None):
        files = {'dev': '%d:%d\n' % (major, minor), 'size': '%d\n' % sectors, 'ro': '0\n',
                 'alignment_offset': '0\n', 'stat': ' '.join(['0'] * 17) + '\n',
                 'power/control': 'auto\n'}
        ue = 'MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=%s\nDISKSEQ=%d\n' % (major, minor, bname, devtype, diskseq)
        if partn is not None:
            ue += 'PARTN=%d\n' % partn
            files['partition'] = '%d\n' % partn
        else:
            files['removable'] = '0\n'
            files['range'] = '0\n'
            files['ext_range'] = '256\n'
        files['uevent'] = ue
        files.update(extra or {})
        for f, c in sorted(files.items()):
            t.write(dirpath + '/' + f, c)
        t.klink(dirpath + '/subsystem', 'sys/class/block')
        t.klink('sys/class/block/' + bname, dirpath)
        t.klink('sys/dev/block/%d:%d' % (major, minor), dirpath)
        if partn is None:
            t.klink('sys/block/' + bname, dirpath)
        t.write('dev/' + bname, b'')
        blocks[bname] = dirpath

    diskseq = 1
    # NVMe: controller nvmeN beneath the function, namespace nvmeNn1 beneath
    # the controller (single-controller consumer drives get no multipath
    # head), partitions beneath the namespace.
    for n in st['nvme']:
        fn = path(n['fn'])
        ctrl = '%s/nvme/nvme%d' % (fn, n['ctrl'])
        for f, c in sorted({'address': n['fn'] + '\n', 'cntlid': '6\n', 'dev': '242:%d\n' % n['ctrl'],
                            'firmware_rev': n['fw'] + '\n', 'model': '%-40s\n' % n['model'],
                            'serial': '%-20s\n' % n['serial'], 'state': 'live\n', 'transport': 'pcie\n',
                            'numa_node': '%d\n' % devs[n['fn']]['numa'],
                            'uevent': 'MAJOR=242\nMINOR=%d\nDEVNAME=nvme%d\nNVME_TRTYPE=pcie\n' % (n['ctrl'], n['ctrl']),
                            'power/control': 'auto\n'}.items()):
            t.write(ctrl + '/' + f, c)
        t.klink(ctrl + '/device', fn)
        t.klink(ctrl + '/subsystem', 'sys/class/nvme')
        t.klink('sys/class/nvme/nvme%d' % n['ctrl'], ctrl)
        t.write('dev/nvme%d' % n['ctrl'], b'')
        disk = 'nvme%dn1' % n['ctrl']
        ddir = ctrl + '/' + disk
        block(ddir, disk, 259, 0, n['sectors'], 'disk', diskseq,
              {'nsid': '1\n', 'wwid': 'eui.002538b%s\n' % n['serial'][-8:].lower().encode().hex()[:13],
               'queue/logical_block_size': '512\n', 'queue/rotational': '0\n'})
        t.klink(ddir + '/device', ctrl)
        for i, (start, size) in enumerate(n['parts'], 1):
            pname = '%sp%d' % (disk, i)
            block(ddir + '/' + pname, pname, 259, i, size, 'partition', diskseq, {'start': '%d\n' % start}, partn=i)
        diskseq += 1

    # SATA: ataN/hostM/targetM:0:0/M:0:0:0/block/sdX beneath the AHCI function.
    for s in st['sata']:
        sdev = '%s/ata%d/host%d/target%d:0:0/%d:0:0:0' % (path(s['fn']), s['port'], s['host'], s['host'], s['host'])
        t.write(sdev + '/vendor', 'ATA     \n')
        t.write(sdev + '/model', s['model'] + '\n')
        t.write(sdev + '/uevent', 'DEVTYPE=scsi_device\nDRIVER=sd\nMODALIAS=scsi:t-0x00\n')
        t.write('%s/ata%d/uevent' % (path(s['fn']), s['port']), 'DEVTYPE=ata_port\n')
        ddir = sdev + '/block/' + s['disk']
        block(ddir, s['disk'], 8, 0, s['sectors'], 'disk', diskseq,
              {'queue/logical_block_size': '512\n', 'queue/rotational': '0\n'})
        t.klink(ddir + '/device', sdev)
        for i, (start, size) in enumerate(s['parts'], 1):
            pname = '%s%d' % (s['disk'], i)
            block(ddir + '/' + pname, pname, 8, i, size, 'partition', diskseq, {'start': '%d\n' % start}, partn=i)
        diskseq += 1

    # loop devices (snaps)
    for (n, backing, sectors) in st['loops']:
        ldir = 'sys/devices/virtual/block/loop%d' % n
        block(ldir, 'loop%d' % n, 7, n, sectors, 'disk', diskseq + n,
              {'loop/backing_file': backing + '\n', 'loop/offset': '0\n', 'loop/autoclear': '0\n',
               'loop/partscan': '0\n', 'ro': '1\n'})
    diskseq += len(st['loops'])

    # device-mapper: dm-N with slaves/ (the PV partition) and the partition's
    # holders/; /dev/mapper/<vg>-<lv> links to ../dm-N as udev makes it.
    if st['dm']:
        t.write('dev/mapper/control', b'')
    for d in st['dm']:
        ddir = 'sys/devices/virtual/block/' + d['name']
        block(ddir, d['name'], 253, d['minor'], d['sectors'], 'disk', diskseq + d['minor'],
              {'dm/name': d['lv'] + '\n', 'dm/suspended': '0\n', 'dm/use_blk_mq': '0\n',
               'dm/uuid': 'LVM-Kq3UeWn4bXc8tR2yP1oM7hJ5gF6dA9sZ%s\n' % ('%032d' % d['minor'])})
        for sl in d['slaves']:
            t.klink(ddir + '/slaves/' + sl, blocks[sl])
            t.klink(blocks[sl] + '/holders/' + d['name'], ddir)
        t.klink('dev/mapper/' + d['lv'], 'dev/' + d['name'])

    t.write('proc/mounts', st['mounts'])

    # --- network: physical interfaces beneath their function, virtual ones
    # in devices/virtual/net, sys/class/net links to both.
    netdirs = {}
    for nd in st['netdevs']:
        ndir = '%s/net/%s' % (path(nd['fn']), nd['name'])
        netdirs[nd['name']] = ndir
        files = {'address': nd['mac'] + '\n', 'addr_assign_type': '0\n', 'addr_len': '6\n',
                 'broadcast': 'ff:ff:ff:ff:ff:ff\n', 'carrier': '1\n', 'dev_id': '0x0\n', 'dev_port': '0\n',
                 'duplex': 'full\n', 'flags': '0x1003\n', 'ifindex': '%d\n' % nd['ifindex'],
                 'iflink': '%d\n' % nd['ifindex'], 'mtu': '1500\n', 'operstate': 'up\n',
                 'speed': '%d\n' % nd['speed'], 'tx_queue_len': '1000\n', 'type': '1\n',
                 'uevent': 'INTERFACE=%s\nIFINDEX=%d\n' % (nd['name'], nd['ifindex']),
                 'power/control': 'auto\n'}
        for f, c in sorted(files.items()):
            t.write(ndir + '/' + f, c)
        t.klink(ndir + '/device', path(nd['fn']))
        t.klink(ndir + '/subsystem', 'sys/class/net')
        t.klink('sys/class/net/' + nd['name'], ndir)
    for v in st['virtual_net']:
        vdir = 'sys/devices/virtual/net/' + v['name']
        netdirs[v['name']] = vdir
        lo = v['kind'] == 'loopback'
        files = {'address': ('00:00:00:00:00:00' if lo else v['mac']) + '\n', 'addr_len': '6\n',
                 'carrier': '1\n', 'flags': '0x9\n' if lo else '0x1003\n', 'ifindex': '%d\n' % v['ifindex'],
                 'iflink': '%d\n' % v['ifindex'], 'mtu': '65536\n' if lo else '1500\n',
                 'operstate': 'unknown\n' if lo else 'up\n', 'tx_queue_len': '1000\n',
                 'type': '772\n' if lo else '1\n', 'power/control': 'auto\n'}
        devtype = {'bridge': 'DEVTYPE=bridge\n', 'bond': 'DEVTYPE=bond\n'}.get(v['kind'], '')
        files['uevent'] = '%sINTERFACE=%s\nIFINDEX=%d\n' % (devtype, v['name'], v['ifindex'])
        if v['kind'] == 'bridge':
            files.update({'bridge/bridge_id': '8000.%s\n' % v['mac'].replace(':', ''),
                          'bridge/forward_delay': '1500\n', 'bridge/stp_state': '0\n',
                          'bridge/vlan_filtering': '0\n'})
        elif v['kind'] == 'bond':
            files.update({'bonding/mode': 'active-backup 1\n', 'bonding/miimon': '100\n',
                          'bonding/slaves': ' '.join(v['ports']) + '\n',
                          'bonding/active_slave': v['active'] + '\n'})
        elif v['kind'] == 'tap':
            files.update({'tun_flags': '0x5002\n', 'owner': '-1\n', 'group': '-1\n'})
        for f, c in sorted(files.items()):
            t.write(vdir + '/' + f, c)
        t.klink(vdir + '/subsystem', 'sys/class/net')
        t.klink('sys/class/net/' + v['name'], vdir)
    # Masters: the kernel links lower_<port> in the master and upper_<master>
    # and master in the port; a bridge also lists its ports in brif/ (links
    # to the port's brport/).
    for v in st['virtual_net']:
        vdir = netdirs[v['name']]
        for port in v.get('ports', []):
            pdir = netdirs[port]
            t.klink(vdir + '/lower_' + port, pdir)
            t.klink(pdir + '/upper_' + v['name'], vdir)
            t.klink(pdir + '/master', vdir)
            if v['kind'] == 'bridge':
                t.write(pdir + '/brport/state', '3\n')
                t.write(pdir + '/brport/port_no', '0x%x\n' % (v['ports'].index(port) + 1))
                t.klink(pdir + '/brport/bridge', vdir)
                t.klink(vdir + '/brif/' + port, pdir + '/brport')
            else:
                t.write(pdir + '/bonding_slave/state', 'active\n' if port == v['active'] else 'backup\n')
                t.write(pdir + '/bonding_slave/mii_status', 'up\n')
    t.write('proc/net/route', '%-127s\n' % ROUTE_HEADER + ''.join(st['route']))
    t.write('proc/net/ipv6_route', ''.join(st['ipv6_route']))

    # --- DRM minors: drm/cardN and drm/renderD1NN beneath the GPU function
    if st['drm']:
        t.write('sys/class/drm/version', 'drm 1.1.0 20060810\n')
    for g in st['drm']:
        fn = path(g['fn'])
        minors = [('card%d' % g['card'], g['card'])]
        if g['render'] is not None:
            minors.append(('renderD%d' % g['render'], g['render']))
        for mname, minor in minors:
            mdir = fn + '/drm/' + mname
            t.write(mdir + '/dev', '226:%d\n' % minor)
            t.write(mdir + '/uevent', 'MAJOR=226\nMINOR=%d\nDEVNAME=dri/%s\nDEVTYPE=drm_minor\n' % (minor, mname))
            t.write(mdir + '/power/control', 'auto\n')
            t.klink(mdir + '/device', fn)
            t.klink(mdir + '/subsystem', 'sys/class/drm')
            t.klink('sys/class/drm/' + mname, mdir)
            t.write('dev/dri/' + mname, b'')
            kind = 'card' if mname.startswith('card') else 'render'
            t.klink('dev/dri/by-path/pci-%s-%s' % (g['fn'], kind), 'dev/dri/' + mname)
        for i, conn in enumerate(g['connectors']):
            cname = 'card%d-%s' % (g['card'], conn)
            cdir = '%s/drm/card%d/%s' % (fn, g['card'], cname)
            t.write(cdir + '/status', 'connected\n' if i == 0 else 'disconnected\n')
            t.write(cdir + '/enabled', 'enabled\n' if i == 0 else 'disabled\n')
            t.write(cdir + '/dpms', 'On\n' if i == 0 else 'Off\n')
            t.write(cdir + '/uevent', 'DEVTYPE=drm_connector\n')
            t.klink(cdir + '/subsystem', 'sys/class/drm')
            t.klink('sys/class/drm/' + cname, cdir)

    # --- NVIDIA: the per-GPU information file its driver writes in procfs,
    # and the device nodes (nvidia-modprobe creates them as empty regular
    # files here, like every /dev node in these trees).
    for g in st['nvidia']:
        info = 'Model: \t\t %s\n' % g['model']
        info += 'IRQ:   \t\t %d\n' % g['irq']
        info += 'GPU UUID: \t %s\n' % g['uuid']
        info += 'Video BIOS: \t %s\n' % g['vbios']
        info += 'Bus Type: \t PCIe\n'
        info += 'DMA Size: \t 47 bits\n'
        info += 'DMA Mask: \t 0x7fffffffffff\n'
        info += 'Bus Location: \t %s\n' % g['fn']
        info += 'Device Minor: \t %d\n' % g['minor']
        if g['firmware']:
            info += 'GPU Firmware: \t %s\n' % g['firmware']
        info += 'GPU Excluded:\t No\n'
        t.write('proc/driver/nvidia/gpus/%s/information' % g['fn'], info)
        t.write('proc/driver/nvidia/gpus/%s/power' % g['fn'],
                'Runtime D3 status:          Disabled by default\nVideo Memory:               Active\n\n'
                'GPU Hardware Support:\n Video Memory Self Refresh: Not Supported\n'
                ' Video Memory Off:          Supported\n\n')
        t.write('dev/nvidia%d' % g['minor'], b'')
    if st['nvidia']:
        t.write('proc/driver/nvidia/version', st['nvidia_version'])
        t.write('dev/nvidiactl', b'')

    # --- framebuffers: proc/fb ("%d %s\n" per registered fb) and
    # sys/class/graphics/fbN beneath the GPU; fbcon and the vtconsoles.
    t.write('proc/fb', ''.join('%d %s\n' % (i, fb['id']) for i, fb in enumerate(st['fbs'])))
    for i, fb in enumerate(st['fbs']):
        gdir = '%s/graphics/fb%d' % (path(fb['fn']), i)
        t.write(gdir + '/dev', '29:%d\n' % i)
        t.write(gdir + '/name', fb['id'] + '\n')
        t.write(gdir + '/uevent', 'MAJOR=29\nMINOR=%d\nDEVNAME=fb%d\n' % (i, i))
        t.klink(gdir + '/device', path(fb['fn']))
        t.klink(gdir + '/subsystem', 'sys/class/graphics')
        t.klink('sys/class/graphics/fb%d' % i, gdir)
        t.write('dev/fb%d' % i, b'')
    t.write('sys/devices/virtual/graphics/fbcon/uevent', '')
    t.write('sys/devices/virtual/graphics/fbcon/cursor_blink', '1\n')
    t.klink('sys/devices/virtual/graphics/fbcon/subsystem', 'sys/class/graphics')
    t.klink('sys/class/graphics/fbcon', 'sys/devices/virtual/graphics/fbcon')
    vtcons = [('(S) dummy device', not st['vtcon'])]
    if st['vtcon']:
        vtcons.append(('(M) frame buffer device', True))
    for i, (vname, bound) in enumerate(vtcons):
        vdir = 'sys/devices/virtual/vtconsole/vtcon%d' % i
        t.write(vdir + '/name', vname + '\n')
        t.write(vdir + '/bind', '1\n' if bound else '0\n')
        t.write(vdir + '/uevent', '')
        t.klink(vdir + '/subsystem', 'sys/class/vtconsole')
        t.klink('sys/class/vtconsole/vtcon%d' % i, vdir)
    t.write('proc/iomem', st['iomem'])

    # --- processes: comm, cmdline (NUL-separated) and fd/N links with the
    # targets procfs shows (absolute paths, socket:[inode], pipe:[inode],
    # anon_inode:...). kthreadd has no fd directory (a kernel thread's is
    # empty, and git cannot hold empty directories).
    for pid, p in sorted(st['procs'].items()):
        base = 'proc/%d' % pid
        t.write(base + '/comm', p['comm'] + '\n')
        t.write(base + '/cmdline', ''.join(a + '\0' for a in p['cmdline']))
        for fd, target in sorted((p['fds'] or {}).items()):
            t.raw_link('%s/fd/%d' % (base, fd), target)
        if p['detail']:
            write_proc_detail(t, host, devs, pid, p)
    t.write('proc/stat', proc_stat(host, st.get('btime', 1717995600)))

    # --- vfiohostd's own state: only where it has bound something
    if st['journal'] is not None:
        t.write('var/lib/vfiohost/journal.json', json.dumps(st['journal'], indent=2) + '\n')


# ---------------------------------------------------------------------------
# Readiness: what vh-readiness-host.c reads beyond PCI, modules and host
# state. proc/cpuinfo, proc/interrupts, proc/meminfo, the kernel config
# (proc/config.gz or boot/config-<release>), sys/firmware/acpi/tables,
# module parameters, CPU vulnerabilities, cgroup controllers, /dev nodes
# (kvm, vhost-net, net/tun, iommu, cpu/0/msr), etc/group, udev rules and
# KVM's debugfs. Each host's description is in READINESS below.

def vm_guest_state():
    """A headless QEMU guest: / on the virtio disk (vda), the default route on
    the virtio NIC (eth0), a serial console only (no framebuffer), cgroup v1
    with a unified hierarchy beside it (like the CI machine this imitates).
    Block and network devices beneath virtio functions are not modelled
    (vh-critical only reads them when binding, which VfioUnavailable
    refuses first on this host)."""
    return dict(
        nvme=[], sata=[], dm=[], loops=[],
        mounts=('/dev/vda / ext4 rw,relatime 0 0\n'
                'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n'
                'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n'
                'devtmpfs /dev devtmpfs rw,relatime,size=4070220k,nr_inodes=1017555,mode=755 0 0\n'
                'devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0\n'
                'tmpfs /run tmpfs rw,nosuid,nodev,size=815992k,nr_inodes=819200,mode=755 0 0\n'
                'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n'
                'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n'
                'cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n'
                'cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n'
                'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n'
                'cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0\n'
                'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n'
                'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n'),
        netdevs=[],
        virtual_net=[dict(name='lo', kind='loopback', ifindex=1)],
        route=[route4('eth0', '0.0.0.0', '0.0.0.0', gw='10.0.2.2', metric=0),
               route4('eth0', '10.0.2.0', '255.255.255.0', metric=0)],
        ipv6_route=[route6('fe80::', 64, 'eth0', metric=256)] + ipv6_lo_routes(),
        drm=[], nvidia=[], fbs=[],
        iomem=IOMEM_VM,
        procs={
            1: systemd_proc(['/sbin/init']),
            2: KTHREADD,
            188: journald_proc(11020),
            402: proc('sshd', ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'], {
                0: '/dev/null', 1: 'socket:[13110]', 2: 'socket:[13110]', 3: 'socket:[13121]',
                4: 'socket:[13123]'}),
        },
        vtcon=False,
        journal=None,
    )


STATES['vm-guest'] = vm_guest_state
# the same machine, the same host state as desktop-intel
STATES['acs-override'] = desktop_intel_state


def desktop_vmd_state():
    """desktop-intel's state with the 980 PRO behind VMD: / is still on
    nvme0n1p2, now of 10000:e1:00.0 (its block devices live beneath
    devices/pci0000:00/0000:00:0e.0/pci10000:e0/...)."""
    st = desktop_intel_state()
    st['nvme'][0]['fn'] = '10000:e1:00.0'
    st['iomem'] = IOMEM_DESKTOP.replace('''  81500000-815fffff : PCI Bus 0000:02
    81500000-81503fff : 0000:02:00.0
      81500000-81503fff : nvme
''', '''  81500000-815fffff : 0000:00:0e.0
    81500000-815fffff : VMD MEMBAR1
      81500000-815fffff : PCI Bus 10000:e1
        81500000-81503fff : 10000:e1:00.0
          81500000-81503fff : nvme
''')
    assert st['iomem'] != IOMEM_DESKTOP
    return st


STATES['desktop-vmd'] = desktop_vmd_state


def vm_guest_q35_state():
    """The q35 guests (vm-guest-amd-cpu-intel-viommu and its intel_iommu=off
    boot): Debian 12, / on the virtio disk (vda, 02:00.0), the default route
    on the virtio NIC (enp1s0, 01:00.0), a serial console only. As on
    vm-guest, the block and network devices beneath the virtio functions are
    not modelled: these hosts are for the readiness checks, and no binding
    outcome is asserted on them."""
    return dict(
        nvme=[], sata=[], dm=[], loops=[],
        mounts=(MOUNTS_HEAD + '/dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0\n' + MOUNTS_SYS),
        netdevs=[],
        virtual_net=[dict(name='lo', kind='loopback', ifindex=1)],
        route=[route4('enp1s0', '0.0.0.0', '0.0.0.0', gw='192.168.122.1', metric=100),
               route4('enp1s0', '192.168.122.0', '255.255.255.0', metric=100)],
        ipv6_route=[route6('fe80::', 64, 'enp1s0', metric=1024)] + ipv6_lo_routes(),
        drm=[], nvidia=[], fbs=[],
        iomem=IOMEM_Q35,
        procs={
            1: systemd_proc(['/sbin/init']),
            2: KTHREADD,
            231: journald_proc(12410),
            598: proc('sshd', ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'], {
                0: '/dev/null', 1: 'socket:[15802]', 2: 'socket:[15802]', 3: 'socket:[15811]',
                4: 'socket:[15813]'}),
        },
        vtcon=False,
        journal=None,
    )


STATES['vm-guest-amd-cpu-intel-viommu'] = vm_guest_q35_state
STATES['vm-guest-amd-cpu-intel-viommu-off'] = vm_guest_q35_state

# q35 with QEMU's Intel IOMMU: its registers at 0xfed90000 (dmar0, mapped
# for interrupt remapping even when intel_iommu=off), the MMCONFIG window,
# the root ports' windows with the functions' BARs beneath.
IOMEM_Q35 = '''\
00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-7ffdafff : System RAM
  27000000-28002c7f : Kernel code
  28200000-28c4efff : Kernel rodata
  28e00000-2918593f : Kernel data
  297d4000-29bfffff : Kernel bss
7ffdb000-7fffffff : Reserved
80000000-afffffff : PCI Bus 0000:00
b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]
  b0000000-bfffffff : Reserved
c0000000-febfffff : PCI Bus 0000:00
  fe600000-fe7fffff : PCI Bus 0000:03
    fe600000-fe60ffff : 0000:03:00.0
      fe600000-fe60ffff : iavf
    fe610000-fe613fff : 0000:03:00.0
      fe610000-fe613fff : iavf
  fe800000-fe9fffff : PCI Bus 0000:02
    fe800000-fe800fff : 0000:02:00.0
  fea00000-febfffff : PCI Bus 0000:01
    fea00000-fea00fff : 0000:01:00.0
  febd0000-febd0fff : 0000:00:01.0
  febd1000-febd1fff : 0000:00:02.0
  febd2000-febd2fff : 0000:00:03.0
  febd3000-febd3fff : 0000:00:1f.2
    febd3000-febd3fff : ahci
fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fed1c000-fed1ffff : Reserved
fed90000-fed90fff : dmar0
fee00000-fee00fff : Local APIC
feffc000-feffffff : Reserved
fffc0000-ffffffff : Reserved
100000000-47fffffff : System RAM
7000000000-7fffffffff : PCI Bus 0000:00
  7000000000-70001fffff : PCI Bus 0000:01
    7000000000-7000003fff : 0000:01:00.0
      7000000000-7000003fff : virtio-pci-modern
  7000200000-70003fffff : PCI Bus 0000:02
    7000200000-7000203fff : 0000:02:00.0
      7000200000-7000203fff : virtio-pci-modern
'''

IOMEM_VM = '''\
00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000c0000-000c99ff : Video ROM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-bffdafff : System RAM
  0f000000-10002fff : Kernel code
  10200000-10beefff : Kernel rodata
  10c00000-10fe2c3f : Kernel data
  1167e000-119fffff : Kernel bss
bffdb000-bfffffff : Reserved
c0000000-febfffff : PCI Bus 0000:00
  febf0000-febf0fff : 0000:00:02.0
  febf1000-febf1fff : 0000:00:03.0
  febf2000-febf2fff : 0000:00:05.0
fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fee00000-fee00fff : Local APIC
fffc0000-ffffffff : Reserved
100000000-23fffffff : System RAM
8000000000-807fffffff : PCI Bus 0000:00
  8000000000-8000003fff : 0000:00:02.0
    8000000000-8000003fff : virtio-pci-modern
  8000004000-8000007fff : 0000:00:03.0
    8000004000-8000007fff : virtio-pci-modern
  8000008000-800000bfff : 0000:00:04.0
    8000008000-800000bfff : virtio-pci-modern
  800000c000-800000ffff : 0000:00:05.0
    800000c000-800000ffff : virtio-pci-modern
'''

# KVM turns off at load what the CPU lacks (vmx.c/svm.c hardware_setup):
# parameter -> the CPU feature words it needs.
KVM_PARAM_NEEDS = {
    'kvm_intel': {'ept': ['ept'], 'vpid': ['vpid'], 'unrestricted_guest': ['ept', 'unrestricted_guest'],
                  'enable_apicv': ['posted_intr', 'vapic_reg', 'vid'], 'enable_shadow_vmcs': ['shadow_vmcs'],
                  'pml': ['ept', 'ept_ad', 'pml'], 'flexpriority': ['flexpriority'],
                  'preemption_timer': ['preemption_timer']},
    'kvm_amd': {'npt': ['npt'], 'avic': ['avic'], 'vls': ['v_vmsave_vmload'], 'vgif': ['vgif']},
}


def kvm_params_for_cpu(module, cpu):
    words = set((cpu['vmx_flags'] if module == 'kvm_intel' else cpu['flags'] or '').split())
    off = {'kvm_intel': 'N', 'kvm_amd': {'npt': 'N', 'avic': 'N'}}
    out = {}
    for param, needs in KVM_PARAM_NEEDS.get(module, {}).items():
        if not words.issuperset(needs):
            out[param] = off[module] if module == 'kvm_intel' else off[module].get(param, '0')
    return out


# Parameters in sys/module/<module>/parameters of loaded (or built-in)
# modules, as the kernel prints them: bool as Y/N, int as a number.
MODULE_PARAMS = {
    'kvm': {'enable_vmware_backdoor': 'N', 'flush_on_reuse': 'N', 'halt_poll_ns': '200000',
            'ignore_msrs': 'N', 'lapic_timer_advance_ns': '-1', 'report_ignored_msrs': 'Y',
            'tdp_mmu': 'Y'},
    'kvm_intel': {'enable_apicv': 'Y', 'enable_shadow_vmcs': 'Y', 'ept': 'Y', 'flexpriority': 'Y',
                  'nested': 'Y', 'pml': 'Y', 'preemption_timer': 'Y', 'unrestricted_guest': 'Y', 'vpid': 'Y'},
    'kvm_amd': {'avic': 'N', 'nested': '1', 'npt': 'Y', 'nrips': '1', 'sev': 'N', 'sev_es': 'N',
                'vgif': '1', 'vls': '1'},
    'vfio': {'enable_unsafe_noiommu_mode': 'N'},
    'vfio_iommu_type1': {'allow_unsafe_interrupts': 'N', 'disable_hugepages': 'N', 'dma_entry_limit': '65535'},
    'vfio_pci': {'disable_denylist': 'N', 'disable_idle_d3': 'N', 'disable_vga': 'N', 'enable_sriov': 'N',
                 'nointxmask': 'N'},
    'vhost': {'max_iotlb_entries': '2048', 'max_mem_regions': '64'},
    'vhost_net': {'experimental_zcopytx': '0'},
}

# --- CPUs: /proc/cpuinfo as arch/x86/kernel/cpu/proc.c prints it

ADL_FLAGS = (
    'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse '
    'sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl '
    'xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx smx est '
    'tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave '
    'avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb ssbd ibrs ibpb stibp ibrs_enhanced tpr_shadow '
    'flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdt_a rdseed adx smap '
    'clflushopt clwb intel_pt sha_ni xsaveopt xsavec xgetbv1 xsaves split_lock_detect user_shstk avx_vnni '
    'dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp hwp_pkg_req hfi vnmi umip pku ospke '
    'waitpkg gfni vaes vpclmulqdq tme rdpid movdiri movdir64b fsrm md_clear serialize pconfig arch_lbr ibt '
    'flush_l1d arch_capabilities')

CPU_ADL = dict(
    vendor='GenuineIntel', family=6, model=151, stepping=2, microcode='0x36',
    name='12th Gen Intel(R) Core(TM) i9-12900K', mhz='3200.000', cache='30720 KB', cpuid_level=32,
    flags=ADL_FLAGS,
    vmx_flags=('vnmi preemption_timer posted_intr invvpid ept_x_only ept_ad ept_1gb flexpriority apicv '
               'tsc_offset vtpr mtf vapic ept vpid unrestricted_guest vapic_reg vid ple shadow_vmcs '
               'ept_mode_based_exec tsc_scaling usr_wait_pause'),
    bugs='spectre_v1 spectre_v2 spec_store_bypass swapgs eibrs_pbrsb rfds bhi',
    bogomips='6374.40', address='46 bits physical, 48 bits virtual', power='', tlb=None,
    topology='adl')

CPU_SKX = dict(
    vendor='GenuineIntel', family=6, model=85, stepping=4, microcode='0x2007006',
    name='Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz', mhz='2100.000', cache='22528 KB', cpuid_level=22,
    flags=('fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr '
           'sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good '
           'nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 '
           'ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes '
           'xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l3 cdp_l3 invpcid_single pti '
           'intel_ppin ssbd mba ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase '
           'tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm cqm mpx rdt_a avx512f avx512dq rdseed adx '
           'smap clflushopt clwb intel_pt avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc '
           'cqm_occup_llc cqm_mbm_total cqm_mbm_local dtherm ida arat pln pts pku ospke md_clear flush_l1d '
           'arch_capabilities'),
    vmx_flags=('vnmi preemption_timer posted_intr invvpid ept_x_only ept_ad ept_1gb flexpriority apicv '
               'tsc_offset vtpr mtf vapic ept vpid unrestricted_guest vapic_reg vid ple shadow_vmcs pml '
               'ept_mode_based_exec tsc_scaling'),
    bugs=('cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs taa itlb_multihit '
          'mmio_stale_data retbleed gds'),
    bogomips='4200.00', address='46 bits physical, 48 bits virtual', power='', tlb=None,
    topology=('smt', 2, 16))

CPU_SKL = dict(
    vendor='GenuineIntel', family=6, model=94, stepping=3, microcode='0xc2',
    name='Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz', mhz='4000.000', cache='8192 KB', cpuid_level=22,
    flags=('fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr '
           'sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good '
           'nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 '
           'ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave '
           'avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb invpcid_single pti ssbd ibrs ibpb stibp '
           'tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms '
           'invpcid rtm mpx rdseed adx smap clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm ida '
           'arat pln pts hwp hwp_notify hwp_act_window hwp_epp md_clear flush_l1d arch_capabilities'),
    vmx_flags=('vnmi preemption_timer invvpid ept_x_only ept_ad ept_1gb flexpriority tsc_offset vtpr mtf '
               'vapic ept vpid unrestricted_guest ple shadow_vmcs pml'),
    bugs=('cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs taa itlb_multihit srbds '
          'mmio_stale_data retbleed gds'),
    bogomips='7999.96', address='39 bits physical, 48 bits virtual', power='', tlb=None,
    topology=('smt', 1, 4))

CPU_MATISSE = dict(
    vendor='AuthenticAMD', family=23, model=113, stepping=0, microcode='0x8701021',
    name='AMD Ryzen 7 3800X 8-Core Processor', mhz='3900.000', cache='512 KB', cpuid_level=16,
    flags=('fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 '
           'ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid '
           'extd_apicid aperfmperf rapl pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes '
           'xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse '
           '3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb '
           'cat_l3 cdp_l3 hw_pstate ssbd mba ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 cqm rdt_a rdseed '
           'adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 cqm_llc cqm_occup_llc cqm_mbm_total '
           'cqm_mbm_local clzero irperf xsaveerptr rdpru wbnoinvd arat npt lbrv svm_lock nrip_save tsc_scale '
           'vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif '
           'v_spec_ctrl umip rdpid overflow_recov succor smca sev sev_es'),
    vmx_flags=None,
    bugs='sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass retbleed smt_rsb srso',
    bogomips='7799.96', address='43 bits physical, 48 bits virtual',
    power='ts ttp tm hwpstate cpb eff_freq_ro [13] [14]', tlb='3072 4K pages',
    topology=('smt', 1, 8))

# A KVM guest's vCPUs (the CI machine's own flags): 'hypervisor', no 'svm'.
CPU_EPYC_GUEST = dict(
    vendor='AuthenticAMD', family=26, model=2, stepping=1, microcode='0x1000065',
    name='AMD EPYC', mhz='2596.122', cache='1024 KB', cpuid_level=28,
    flags=('fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 '
           'ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc '
           'cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe '
           'popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm '
           'sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms '
           'invpcid avx512f avx512dq adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl '
           'xsaveopt xsavec xgetbv1 xsaves avx_vnni avx512_bf16 clzero xsaveerptr arat avx512vbmi umip '
           'avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm '
           'avx512_vp2intersect'),
    vmx_flags=None,
    bugs='sysret_ss_attrs null_seg spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user',
    bogomips='5192.24', address='48 bits physical, 48 bits virtual', power='', tlb='192 4K pages',
    topology='vm')


# QEMU's EPYC-Milan model with svm passed through (-cpu EPYC-Milan on an AMD
# host with kvm_amd nested=1): the CI guest's flags plus svm and the SVM
# features KVM offers a nested guest (npt, nrip_save).
CPU_EPYC_MILAN_GUEST = dict(
    CPU_EPYC_GUEST, family=25, model=1, name='AMD EPYC-Milan Processor', microcode='0x1000065',
    flags=CPU_EPYC_GUEST['flags'].replace(' cmp_legacy ', ' cmp_legacy svm ').replace(
        ' arat ', ' arat npt nrip_save '))
assert 'svm' in CPU_EPYC_MILAN_GUEST['flags'].split() and 'npt' in CPU_EPYC_MILAN_GUEST['flags'].split()

def cpu_topology(cpu, n):
    """(physical id, siblings, core id, cpu cores, apicid) per logical CPU, in
    the order Linux numbers them: first threads of every core, then the
    second threads (Alder Lake: P-core threads in pairs, then E-cores)."""
    out = []
    topo = cpu['topology']
    for i in range(n):
        if topo == 'adl':
            if i < 16:
                out.append((0, n, (i // 2) * 4, 16, (i // 2) * 8 + i % 2))
            else:
                out.append((0, n, 32 + i - 16, 16, 64 + (i - 16) * 2))
        elif topo == 'vm':
            out.append((0, n, i, n, i))
        else:
            _, sockets, cores = topo
            if sockets * cores * 2 != n:
                raise SystemExit('cpu topology %s does not make %d CPUs' % (topo, n))
            thread, j = divmod(i, sockets * cores)
            socket, core = divmod(j, cores)
            out.append((socket, cores * 2, core, cores, socket * 64 + core * 2 + thread))
    return out


# --- VMX capability MSRs (Intel SDM vol. 3, appendix A), composed from a
# CPU's "vmx flags" line so that both sources agree: the allowed-0 halves
# hold the default1 controls (A.2), the allowed-1 halves what the CPU
# offers. The kernel's flag names are arch/x86/include/asm/vmxfeatures.h.
VMX_PIN_BITS = {'vnmi': 5, 'preemption_timer': 6, 'posted_intr': 7}
VMX_PROC_BITS = {'tsc_offset': 3, 'vtpr': 21, 'mtf': 27}
VMX_PROC2_BITS = {'vapic': 0, 'ept': 1, 'vpid': 5, 'unrestricted_guest': 7, 'vapic_reg': 8, 'vid': 9,
                  'ple': 10, 'shadow_vmcs': 14, 'pml': 17, 'ept_mode_based_exec': 22, 'tsc_scaling': 25,
                  'usr_wait_pause': 26}
VMX_EPT_BITS = {'ept_x_only': 0, 'ept_1gb': 17, 'ept_ad': 21, 'invvpid': 32}


def vmx_msrs(vmx_flags):
    words = set(vmx_flags.split())

    def allowed1(base, bits):
        return base | sum(1 << b for w, b in bits.items() if w in words)

    def ctls(allowed0, high):
        return high << 32 | allowed0

    # revision 4, 1024-byte VMCS regions, write-back, INS/OUTS exit
    # information, true controls
    basic = 4 | 0x400 << 32 | 6 << 50 | 1 << 54 | 1 << 55
    pin_high = allowed1(0x16 | 1 << 0 | 1 << 3, VMX_PIN_BITS)
    proc_high = allowed1(0xfff9fffe & ~sum(1 << b for b in VMX_PROC_BITS.values()), VMX_PROC_BITS) | 1 << 31
    # descriptor-table exiting, RDTSCP, x2APIC mode, WBINVD, RDRAND, INVPCID,
    # VMFUNC, RDSEED, XSAVES: every VT-x part since Skylake has them
    proc2_high = allowed1(0x1 << 2 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 11 | 1 << 12 | 1 << 13 | 1 << 16 | 1 << 20,
                          VMX_PROC2_BITS)
    exit_high = 0x01ffffff if 'preemption_timer' in words else 0x01bfffff
    # 4-level walks, UC and WB, 2 MiB pages, INVEPT (single, all
    # contexts); INVVPID's four types with invvpid
    ept = allowed1(1 << 6 | 1 << 8 | 1 << 14 | 1 << 16 | 1 << 20 | 1 << 25 | 1 << 26, VMX_EPT_BITS)
    if 'invvpid' in words:
        ept |= 0xf << 40
    return {
        0x480: basic,
        0x481: ctls(0x16, pin_high), 0x482: ctls(0x0401e172, proc_high),
        0x483: ctls(0x00036dff, exit_high), 0x484: ctls(0x000011ff, 0x0003ffff),
        0x48b: ctls(0, proc2_high), 0x48c: ept,
        0x48d: ctls(0x16, pin_high), 0x48e: ctls(0x04006172, proc_high),
        0x48f: ctls(0x00036dfb, exit_high), 0x490: ctls(0x000011fb, 0x0003ffff),
    }


def msr_file(msrs):
    """dev/cpu/0/msr as a regular file: each MSR, little-endian as rdmsr
    returns it, at index * 8."""
    out = bytearray((max(msrs) + 1) * 8)
    for index, value in msrs.items():
        out[index * 8:index * 8 + 8] = value.to_bytes(8, 'little')
    return bytes(out)


def proc_cpuinfo(cpu, n):
    blocks = []
    for i, (phys, siblings, core, cores, apic) in enumerate(cpu_topology(cpu, n)):
        lines = [
            ('processor', '%d' % i), ('vendor_id', cpu['vendor']), ('cpu family', '%d' % cpu['family']),
            ('model', '%d' % cpu['model']), ('model name', cpu['name']), ('stepping', '%d' % cpu['stepping']),
            ('microcode', cpu['microcode']), ('cpu MHz', cpu['mhz']), ('cache size', cpu['cache']),
            ('physical id', '%d' % phys), ('siblings', '%d' % siblings), ('core id', '%d' % core),
            ('cpu cores', '%d' % cores), ('apicid', '%d' % apic), ('initial apicid', '%d' % apic),
            ('fpu', 'yes'), ('fpu_exception', 'yes'), ('cpuid level', '%d' % cpu['cpuid_level']),
            ('wp', 'yes'), ('flags', cpu['flags']),
        ]
        if cpu['vmx_flags']:
            lines.append(('vmx flags', cpu['vmx_flags']))
        lines += [('bugs', cpu['bugs']), ('bogomips', cpu['bogomips'])]
        if cpu['tlb']:
            lines.append(('TLB size', cpu['tlb']))
        lines += [('clflush size', '64'), ('cache_alignment', '64'), ('address sizes', cpu['address'])]
        # "%s\t: %s": the key padded with tabs to 16 columns, like seq_printf
        text = ''.join('%s%s: %s\n' % (k, '\t' if len(k) >= 8 else '\t\t', v) for k, v in lines)
        text += 'power management:%s\n' % (' ' + cpu['power'] if cpu['power'] else '')
        blocks.append(text)
    return '\n'.join(blocks) + '\n'


def proc_meminfo(total_kb, hp_total, hp_free, hp_size=2048):
    free = total_kb * 62 // 100
    hugetlb = hp_total * hp_size
    rows = [
        ('MemTotal', total_kb), ('MemFree', free - hugetlb if free > hugetlb else free // 4),
        ('MemAvailable', total_kb * 78 // 100 - hugetlb), ('Buffers', 412336), ('Cached', 5820424),
        ('SwapCached', 0), ('Active', 3921004), ('Inactive', 4187652), ('Active(anon)', 2210156),
        ('Inactive(anon)', 0), ('Active(file)', 1710848), ('Inactive(file)', 4187652), ('Unevictable', 16384),
        ('Mlocked', 16384), ('SwapTotal', 8388604), ('SwapFree', 8388604), ('Zswap', 0), ('Zswapped', 0),
        ('Dirty', 1204), ('Writeback', 0), ('AnonPages', 2105220), ('Mapped', 812312), ('Shmem', 318452),
        ('KReclaimable', 402144), ('Slab', 688412), ('SReclaimable', 402144), ('SUnreclaim', 286268),
        ('KernelStack', 21456), ('PageTables', 41236), ('SecPageTables', 0), ('NFS_Unstable', 0), ('Bounce', 0),
        ('WritebackTmp', 0), ('CommitLimit', total_kb // 2 + 8388604), ('Committed_AS', 9412220),
        ('VmallocTotal', 34359738367), ('VmallocUsed', 98412), ('VmallocChunk', 0), ('Percpu', 29184),
        ('HardwareCorrupted', 0), ('AnonHugePages', 444416), ('ShmemHugePages', 0), ('ShmemPmdMapped', 0),
        ('FileHugePages', 0), ('FilePmdMapped', 0),
    ]
    out = ''.join('%-16s%8d kB\n' % (k + ':', v) for k, v in rows)
    # the huge page counters are plain numbers (hugetlb_report_meminfo)
    out += 'HugePages_Total:   %5d\nHugePages_Free:    %5d\nHugePages_Rsvd:    %5d\nHugePages_Surp:    %5d\n' % (
        hp_total, hp_free, 0, 0)
    out += 'Hugepagesize:   %8d kB\nHugetlb:        %8d kB\n' % (hp_size, hugetlb)
    out += 'DirectMap4k:      612148 kB\nDirectMap2M:    14825472 kB\nDirectMap1G:    %8d kB\n' % (
        max(total_kb - 15437620, 0) // 1048576 * 1048576)
    return out


def proc_interrupts(host, rd):
    """/proc/interrupts as show_interrupts() prints it: a CPU header, one line
    per IRQ (counts per CPU, chip name, hwirq and trigger, actions), then
    x86's own counters. With interrupt remapping the chips are IR-IO-APIC and
    IR-PCI-MSI (IR-PCI-MSI(X)-<function> with the per-device MSI domains of
    6.2+); without it IO-APIC and PCI-MSI."""
    n = host['cpus']
    ir = rd['interrupt_remapping']
    per_device = kver(host['release']) >= (6, 2)
    prec = 4
    lines = [' ' * (prec + 8) + ''.join('CPU%-8d' % i for i in range(n))]

    def count(irq, cpu):
        return 0 if (irq * 7 + cpu) % 5 else (irq * 7919 + cpu * 104729) % 250000

    def line(irq, chip, hwirq, trig, action):
        counts = ''.join('%10u ' % count(irq, c) for c in range(n))
        return '%*d: %s %8s %*s-%-8s %s' % (prec, irq, counts, chip, prec, hwirq, trig, action)

    ioapic = 'IR-IO-APIC' if ir else 'IO-APIC'
    for irq, hw, trig, act in ((0, '2', 'edge', 'timer'), (1, '1', 'edge', 'i8042'), (8, '8', 'edge', 'rtc0'),
                               (9, '9', 'fasteoi', 'acpi'), (12, '12', 'edge', 'i8042')):
        lines.append(line(irq, ioapic, hw, trig, act))
    irq = 16
    # the units' fault interrupts: set up for DMA or interrupt remapping
    if host['dmar'] and (host['iommu'] == 'intel' or ir):
        for u in sorted(host['dmar']):
            lines.append(line(irq, 'DMAR-MSI', str(int(u[4:])), 'edge', u))
            irq += 1
    if host['iommu'] == 'amd':
        lines.append(line(irq, 'PCI-MSI', '2', 'edge', 'AMD-Vi'))
        irq += 1
    # virtioN: the virtio devices in the order the virtio bus numbers them
    virtio_index = {a: i for i, a in enumerate(sorted(d['addr'] for d in host['devices']
                                                       if d['driver'] == 'virtio-pci'))}
    for d in sorted(host['devices'], key=lambda d: d['addr']):
        drv = d['driver']
        if not drv or drv == 'vfio-pci' or (d['cls'] >> 16) == 0x06 and drv != 'pcieport':
            continue
        _, bus, slot, fn = parse_addr(d['addr'])
        msix = drv in ('nvme', 'igc', 'i40e', 'iavf', 'virtio-pci', 'xhci_hcd', 'amdgpu', 'nvidia', 'r8169', 'vmd')
        kind = 'MSIX' if msix and per_device else 'MSI'
        chip = ('IR-' if ir else '') + ('PCI-%s-%s' % (kind, d['addr']) if per_device else 'PCI-MSI')
        if parse_addr(d['addr'])[0] > 0xffff:
            # behind VMD: the vmd driver's own MSI domain, remapped through its vectors
            chip = 'VMD-MSI'
        hwbase = (bus << 19) | (slot << 14) | (fn << 11)
        vectors = {'nvme': 3, 'i40e': 3, 'igc': 3, 'virtio-pci': 2}.get(drv, 1)
        for v in range(vectors):
            act = {'pcieport': 'PCIe PME', 'nvme': 'nvme0q%d' % v, 'virtio-pci': 'virtio%d-%s' % (
                virtio_index.get(d['addr'], 0), 'config' if v == 0 else 'req.0'), 'i915': 'i915', 'amdgpu': 'amdgpu',
                'nvidia': 'nvidia', 'snd_hda_intel': 'snd_hda_intel:card%d' % fn}.get(drv, drv)
            hwirq = str(v if per_device else hwbase + v)
            lines.append(line(irq, chip, hwirq, 'edge', act))
            irq += 1
    for name, what in (('NMI', 'Non-maskable interrupts'), ('LOC', 'Local timer interrupts'),
                       ('SPU', 'Spurious interrupts'), ('PMI', 'Performance monitoring interrupts'),
                       ('IWI', 'IRQ work interrupts'), ('RTR', 'APIC ICR read retries'),
                       ('RES', 'Rescheduling interrupts'), ('CAL', 'Function call interrupts'),
                       ('TLB', 'TLB shootdowns'), ('TRM', 'Thermal event interrupts'),
                       ('THR', 'Threshold APIC interrupts'), ('DFR', 'Deferred Error APIC interrupts'),
                       ('MCE', 'Machine check exceptions'), ('MCP', 'Machine check polls'),
                       ('PIN', 'Posted-interrupt notification event'), ('NPI', 'Nested posted-interrupt event'),
                       ('PIW', 'Posted-interrupt wakeup event')):
        seed = sum(map(ord, name))
        counts = ''.join('%10u ' % (0 if name in ('SPU', 'RTR', 'MCE', 'NPI') else (seed * 131 + c * 977) % 900000)
                         for c in range(n))
        lines.append('%*s: %s  %s' % (prec, name, counts, what))
    lines.append('%*s: %10u' % (prec, 'ERR', 0))
    lines.append('%*s: %10u' % (prec, 'MIS', 0))
    return '\n'.join(l.rstrip() if l.startswith(' ' * (prec + 8)) else l for l in lines) + '\n'


# --- ACPI tables: sys/firmware/acpi/tables/<SIG> is the raw table, a
# 36-byte header (signature, length, revision, checksum, OEM ids, creator)
# and the body; the bytes sum to 0 modulo 256.

def acpi_table(sig, body, oem, revision=1):
    oem_id, oem_table = oem
    length = 36 + len(body)
    hdr = bytearray(sig.encode() + length.to_bytes(4, 'little') + bytes([revision, 0]) +
                    oem_id.encode().ljust(6, b' ') + oem_table.encode().ljust(8, b' ') +
                    (1).to_bytes(4, 'little') + b'INTL' + (0x20200925).to_bytes(4, 'little'))
    data = hdr + body
    data[9] = (-sum(data)) & 0xff
    return bytes(data)


def dmar_body(host):
    """Host address width 39, INTR_REMAP | X2APIC_OPT_OUT flags, one DRHD per
    unit: the iGPU's with a device scope, the last one INCLUDE_PCI_ALL."""
    body = bytearray([38, 0x03]) + bytes(10)
    units = sorted(host['dmar'].items())
    for i, (name, scope) in enumerate(units):
        base = 0xfed90000 + int(name[4:]) * 0x1000
        entries = b''
        if isinstance(scope, list):
            for addr in scope:
                _, bus, slot, fn = parse_addr(addr)
                entries += bytes([1, 8, 0, 0, 0, bus, slot, fn])
        flags = 1 if scope == '*' else 0
        drhd = bytearray((0).to_bytes(2, 'little') + (16 + len(entries)).to_bytes(2, 'little') +
                         bytes([flags, 0]) + (0).to_bytes(2, 'little') + base.to_bytes(8, 'little')) + entries
        body += drhd
    return bytes(body)


def ivrs_body():
    """IVinfo (virtual address size 64, physical 52, guest 48, EFRSup) and
    one IVHD type 10h for the IOMMU at 00:00.2 with an ALL device entry."""
    ivinfo = (0x00203041).to_bytes(4, 'little') + bytes(8)
    entries = bytes([1, 0, 0, 0])
    ivhd = (bytes([0x10, 0xb0]) + (24 + len(entries)).to_bytes(2, 'little') + (0x0002).to_bytes(2, 'little') +
            (0x0040).to_bytes(2, 'little') + (0xfd100000).to_bytes(8, 'little') + (0).to_bytes(2, 'little') +
            (0).to_bytes(2, 'little') + (0x80048f6e).to_bytes(4, 'little')) + entries
    return ivinfo + ivhd


def write_acpi_tables(t, host, tables, oem):
    bodies = {
        'APIC': (0xfee00000).to_bytes(4, 'little') + (1).to_bytes(4, 'little') + bytes([1, 8, 0, 0, 1, 0, 0, 0]),
        'FACP': bytes(240),
        'DSDT': b'\x10\x0d\\_SB_' + bytes(8),
        'MCFG': bytes(8) + (0xe0000000).to_bytes(8, 'little') + bytes([0, 0, 0, 0xff]) + bytes(4),
        'HPET': (0x8086a201).to_bytes(4, 'little') + bytes([0, 0, 0, 0]) + (0xfed00000).to_bytes(8, 'little') +
                bytes([0, 0x80, 0, 0]),
        # the firmware's table, whether or not the kernel turned the units on
        'DMAR': dmar_body(host) if host['dmar'] else b'',
        'IVRS': ivrs_body(),
        'SSDT': b'\x10\x0d\\_PR_' + bytes(8),
    }
    for sig in tables:
        t.write('sys/firmware/acpi/tables/' + sig, acpi_table(sig, bodies[sig], oem, 2 if sig == 'IVRS' else 1))


# --- CPU vulnerabilities: sys/devices/system/cpu/vulnerabilities/<name>

NOT_AFFECTED = 'Not affected'
SPECTRE_V1 = 'Mitigation: usercopy/swapgs barriers and __user pointer sanitization'
PRCTL_SSB = 'Mitigation: Speculative Store Bypass disabled via prctl'

VULNS_ADL = {
    'gather_data_sampling': NOT_AFFECTED, 'itlb_multihit': NOT_AFFECTED, 'l1tf': NOT_AFFECTED,
    'mds': NOT_AFFECTED, 'meltdown': NOT_AFFECTED, 'mmio_stale_data': NOT_AFFECTED,
    'reg_file_data_sampling': 'Mitigation: Clear Register File', 'retbleed': NOT_AFFECTED,
    'spec_rstack_overflow': NOT_AFFECTED, 'spec_store_bypass': PRCTL_SSB, 'spectre_v1': SPECTRE_V1,
    'spectre_v2': ('Mitigation: Enhanced / Automatic IBRS; IBPB: conditional; RSB filling; '
                   'PBRSB-eIBRS: SW sequence; BHI: BHI_DIS_S'),
    'srbds': NOT_AFFECTED, 'tsx_async_abort': NOT_AFFECTED,
}

# mitigations=off: every mitigation the CPU needs reads "Vulnerable".
VULNS_ADL_OFF = dict(VULNS_ADL, **{
    'reg_file_data_sampling': 'Vulnerable',
    'spec_store_bypass': 'Vulnerable',
    'spectre_v1': 'Vulnerable: __user pointer sanitization and usercopy barriers only; no swapgs barriers',
    'spectre_v2': 'Vulnerable; IBPB: disabled; STIBP: disabled; PBRSB-eIBRS: Vulnerable; BHI: Vulnerable',
})

VULNS_SKX = {
    'gather_data_sampling': 'Mitigation: Microcode',
    'itlb_multihit': 'KVM: Mitigation: Split huge pages',
    'l1tf': 'Mitigation: PTE Inversion; VMX: conditional cache flushes, SMT vulnerable',
    'mds': 'Mitigation: Clear CPU buffers; SMT vulnerable', 'meltdown': 'Mitigation: PTI',
    'mmio_stale_data': 'Mitigation: Clear CPU buffers; SMT vulnerable', 'retbleed': 'Mitigation: IBRS',
    'spec_rstack_overflow': NOT_AFFECTED, 'spec_store_bypass': PRCTL_SSB, 'spectre_v1': SPECTRE_V1,
    'spectre_v2': ('Mitigation: IBRS; IBPB: conditional; STIBP: conditional; RSB filling; '
                   'PBRSB-eIBRS: Not affected; BHI: Not affected'),
    'srbds': NOT_AFFECTED, 'tsx_async_abort': 'Mitigation: Clear CPU buffers; SMT vulnerable',
}

# Debian without the intel-microcode package: GDS has no microcode fix.
VULNS_SKL = dict(VULNS_SKX, **{
    'gather_data_sampling': 'Vulnerable: No microcode',
    'srbds': 'Mitigation: Microcode',
    'tsx_async_abort': 'Mitigation: TSX disabled',
})
del VULNS_SKL['spec_rstack_overflow']

VULNS_MATISSE = {
    'gather_data_sampling': NOT_AFFECTED, 'itlb_multihit': NOT_AFFECTED, 'l1tf': NOT_AFFECTED,
    'mds': NOT_AFFECTED, 'meltdown': NOT_AFFECTED, 'mmio_stale_data': NOT_AFFECTED,
    'retbleed': 'Mitigation: untrained return thunk; SMT enabled with STIBP protection',
    'spec_rstack_overflow': 'Mitigation: Safe RET', 'spec_store_bypass': PRCTL_SSB, 'spectre_v1': SPECTRE_V1,
    'spectre_v2': ('Mitigation: Retpolines; IBPB: conditional; STIBP: always-on; RSB filling; '
                   'PBRSB-eIBRS: Not affected'),
    'srbds': NOT_AFFECTED, 'tsx_async_abort': NOT_AFFECTED,
}

# The CI guest's own texts: the hypervisor hides the microcode fixes.
VULNS_EPYC_GUEST = {
    'gather_data_sampling': NOT_AFFECTED, 'indirect_target_selection': NOT_AFFECTED,
    'itlb_multihit': NOT_AFFECTED, 'l1tf': NOT_AFFECTED, 'mds': NOT_AFFECTED, 'meltdown': NOT_AFFECTED,
    'mmio_stale_data': NOT_AFFECTED, 'reg_file_data_sampling': NOT_AFFECTED, 'retbleed': NOT_AFFECTED,
    'spec_rstack_overflow': 'Vulnerable: Safe RET, no microcode', 'spec_store_bypass': 'Vulnerable',
    'spectre_v1': SPECTRE_V1,
    'spectre_v2': 'Mitigation: Retpolines; STIBP: disabled; RSB filling; PBRSB-eIBRS: Not affected; BHI: Not affected',
    'srbds': NOT_AFFECTED, 'tsx_async_abort': NOT_AFFECTED,
}

CGROUP2_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc'

UDEV_DEFAULT = '''\
# do not edit this file, it will be overwritten on update

SUBSYSTEM=="virtio-ports", KERNEL=="vport*", ATTR{name}=="?*", SYMLINK+="virtio-ports/$attr{name}"

# select "system RTC" or just use the first one
SUBSYSTEM=="rtc", ATTR{hctosys}=="1", SYMLINK+="rtc"
SUBSYSTEM=="rtc", KERNEL=="rtc0", SYMLINK+="rtc", OPTIONS+="link_priority=-100"

SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", IMPORT{builtin}="usb_id", IMPORT{builtin}="hwdb --subsystem=usb"
ENV{MODALIAS}!="", IMPORT{builtin}="hwdb --subsystem=$env{SUBSYSTEM}"

ACTION!="add", GOTO="default_end"

SUBSYSTEM=="tty", KERNEL=="ptmx", GROUP="tty", MODE="0666"
SUBSYSTEM=="tty", KERNEL=="tty", GROUP="tty", MODE="0666"
SUBSYSTEM=="mem", KERNEL=="mem|kmem|port", GROUP="kmem", MODE="0640"
SUBSYSTEM=="input", GROUP="input"
SUBSYSTEM=="video4linux", GROUP="video"
SUBSYSTEM=="graphics", GROUP="video"
SUBSYSTEM=="drm", KERNEL!="renderD*", GROUP="video"
SUBSYSTEM=="kfd", GROUP="render", MODE="0666"
SUBSYSTEM=="drm", KERNEL=="renderD*", GROUP="render", MODE="0666"

KERNEL=="kvm", GROUP="kvm", MODE="%(kvm_mode)s", OPTIONS+="static_node=kvm"
KERNEL=="vhost-net", GROUP="kvm", MODE="%(kvm_mode)s", OPTIONS+="static_node=vhost-net"
KERNEL=="vhost-vsock", GROUP="kvm", MODE="%(kvm_mode)s", OPTIONS+="static_node=vhost-vsock"
KERNEL=="udmabuf", GROUP="kvm"

LABEL="default_end"
'''

# Debian/Ubuntu-style group database (sysusers gives kvm a system gid).
ETC_GROUP_DEBIAN = '''\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:syslog,alex
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
news:x:9:
uucp:x:10:
man:x:12:
proxy:x:13:
kmem:x:15:
dialout:x:20:
cdrom:x:24:alex
sudo:x:27:alex
audio:x:29:
video:x:44:alex
plugdev:x:46:alex
staff:x:50:
users:x:100:alex
nogroup:x:65534:
systemd-journal:x:999:
systemd-network:x:998:
input:x:995:
render:x:994:alex
kvm:x:993:alex
libvirt:x:137:alex
libvirt-qemu:x:64055:libvirt-qemu
alex:x:1000:
'''

ETC_GROUP_ARCH = '''\
root:x:0:root
sys:x:3:bin
mem:x:8:
ftp:x:11:
mail:x:12:
log:x:19:
smmsp:x:25:
proc:x:26:
games:x:50:
lock:x:54:
network:x:90:
floppy:x:94:
scanner:x:96:
power:x:98:
nobody:x:65534:
adm:x:999:daemon
wheel:x:998:alex
utmp:x:997:
audio:x:996:
disk:x:995:
input:x:994:
kmem:x:993:
kvm:x:992:alex
lp:x:991:
optical:x:990:
render:x:989:
sgx:x:988:
storage:x:987:
tty:x:5:
uucp:x:986:
video:x:985:alex
users:x:984:
rfkill:x:983:
systemd-journal:x:982:
libvirt:x:963:alex
alex:x:1000:
'''

ETC_GROUP_RHEL = '''\
root:x:0:
bin:x:1:
daemon:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mem:x:8:
kmem:x:9:
wheel:x:10:ops
cdrom:x:11:
mail:x:12:
man:x:15:
dialout:x:18:
floppy:x:19:
games:x:20:
tape:x:33:
video:x:39:
ftp:x:50:
lock:x:54:
audio:x:63:
users:x:100:
nobody:x:65534:
kvm:x:36:qemu
qemu:x:107:
systemd-journal:x:190:
input:x:999:
render:x:998:
libvirt:x:985:
ops:x:1000:
'''

ETC_GROUP_MINIMAL = '''\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
nogroup:x:65534:
'''


def readiness_desktop_intel():
    return dict(
        cpu=CPU_ADL, msr=0x5, modules=['kvm_intel', 'vhost_net', 'tun', 'msr'], params={}, builtin_params={},
        meminfo=(32636072, 0, 0), config='proc', kconfig={}, compiler=('gcc (GCC) 14.1.1 20240522', 140101),
        acpi=['APIC', 'DMAR', 'DSDT', 'FACP', 'HPET', 'MCFG', 'SSDT'], oem=('ALASKA', 'A M I'),
        interrupt_remapping=True, vulns=VULNS_ADL, cgroup=CGROUP2_CONTROLLERS, etc_group=ETC_GROUP_ARCH,
        udev={'usr/lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0666'}},
        kvm_debug={}, devices=['kvm', 'vhost-net', 'net/tun'])


def readiness_desktop_vfio_bound():
    rd = readiness_desktop_intel()
    rd.update(
        # the VM's 16 GiB are backed by 2 MiB pages, all in use
        meminfo=(32636072, 8192, 0), config='boot',
        compiler=('x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0', 130200),
        acpi=['APIC', 'DMAR', 'DSDT', 'FACP', 'HPET', 'MCFG', 'SSDT'], etc_group=ETC_GROUP_DEBIAN,
        udev={'lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0660'},
              'etc/udev/rules.d/99-vfio.rules':
                  '# VMs run as alex: the VFIO group nodes belong to kvm\n'
                  'SUBSYSTEM=="vfio", OWNER="root", GROUP="kvm", MODE="0660"\n'},
        # the QEMU of pid 3456: its VM fd is 11 (anon_inode:kvm-vm), its
        # vCPU threads 3460-3463
        kvm_debug={'3456-11': [3460, 3461, 3462, 3463]})
    return rd


def readiness_server_sriov():
    return dict(
        cpu=CPU_SKX, msr=0x100005, modules=['kvm_intel', 'vhost_net', 'tun', 'msr'],
        # nesting switched off by the admin (/etc/modprobe.d/kvm.conf)
        params={'kvm_intel': {'nested': 'N'}}, builtin_params={},
        meminfo=(395986204, 65536, 65536), config='boot', kconfig={},
        compiler=('gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3)', 110401),
        acpi=['APIC', 'DMAR', 'DSDT', 'FACP', 'HPET', 'MCFG', 'SSDT'], oem=('SUPERM', 'SMCI--MB'),
        interrupt_remapping=True, vulns=VULNS_SKX, cgroup=CGROUP2_CONTROLLERS, etc_group=ETC_GROUP_RHEL,
        udev={'usr/lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0666'},
              'etc/udev/rules.d/60-io-scheduler.rules':
                  'ACTION=="add|change", KERNEL=="nvme[0-9]*n[0-9]*", ATTR{queue/scheduler}="none"\n'},
        kvm_debug={}, devices=['kvm', 'vhost-net', 'net/tun'])


def readiness_server_sriov_vfs():
    """server-sriov's, with 512 of the 2 MiB pages taken by DPDK and KVM's
    debugfs there (kvm loaded, no VM running: the global files only)."""
    rd = readiness_server_sriov()
    rd.update(meminfo=(395986204, 65536, 65024), debugfs_kvm=True)
    return rd


def readiness_no_iommu():
    return dict(
        cpu=CPU_SKL, msr=None, modules=['kvm_intel', 'vhost_net', 'tun'], params={}, builtin_params={},
        meminfo=(16318036, 0, 0), config='boot', kconfig={},
        compiler=('gcc-12 (Debian 12.2.0-14) 12.2.0', 120200),
        # VT-d off in the firmware setup: no DMAR table
        acpi=['APIC', 'DSDT', 'FACP', 'HPET', 'MCFG', 'SSDT'], oem=('ALASKA', 'A M I'),
        interrupt_remapping=False, vulns=VULNS_SKL, cgroup=CGROUP2_CONTROLLERS, etc_group=ETC_GROUP_DEBIAN,
        udev={'lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0660'}},
        kvm_debug={}, devices=['kvm', 'vhost-net', 'net/tun'])


def readiness_amd_desktop():
    return dict(
        # no msr module loaded: whether SVM is enabled is not readable
        cpu=CPU_MATISSE, msr=None, modules=['kvm_amd', 'vhost_net', 'tun'], params={}, builtin_params={},
        meminfo=(32801820, 0, 0), config='boot', kconfig={},
        compiler=('gcc-12 (Debian 12.2.0-14) 12.2.0', 120200),
        acpi=['APIC', 'DSDT', 'FACP', 'HPET', 'IVRS', 'MCFG', 'SSDT'], oem=('ALASKA', 'A M I'),
        interrupt_remapping=True, vulns=VULNS_MATISSE, cgroup=CGROUP2_CONTROLLERS, etc_group=ETC_GROUP_DEBIAN,
        udev={'lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0660'}},
        kvm_debug={}, devices=['kvm', 'vhost-net', 'net/tun'])


def readiness_vm_guest():
    return dict(
        cpu=CPU_EPYC_GUEST, msr=None, modules=[], params={},
        # what a kernel without modules shows in sys/module: built-in code
        # with parameters
        builtin_params={'kernel': {'panic': '1'}, 'virtio_pci': {'force_legacy': 'N'}},
        meminfo=(8160960, 0, 0), config='proc', kconfig={},
        compiler=('gcc (Debian 12.2.0-14) 12.2.0', 120200),
        acpi=['APIC', 'DSDT', 'FACP', 'HPET', 'MCFG'], oem=('BOCHS', 'BXPC'),
        interrupt_remapping=False, vulns=VULNS_EPYC_GUEST, cgroup=None, etc_group=ETC_GROUP_MINIMAL,
        udev={}, kvm_debug={}, devices=['net/tun'])


def readiness_acs_override():
    rd = readiness_desktop_intel()
    rd.update(
        config='boot', compiler=('x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0', 120200),
        vulns=VULNS_ADL_OFF, etc_group=ETC_GROUP_DEBIAN,
        udev={'lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0660'}})
    return rd



def readiness_vm_guest_q35():
    """The q35 guests: kvm_amd loaded with nesting (svm passed through),
    vhost-net and tun, no msr module; QEMU's ACPI tables with the DMAR of
    its Intel IOMMU; interrupt remapping on (intremap=on) whatever
    intel_iommu= says."""
    return dict(
        cpu=CPU_EPYC_MILAN_GUEST, msr=None, modules=['kvm_amd', 'vhost_net', 'tun'], params={},
        builtin_params={}, meminfo=(16375012, 0, 0), config='boot', kconfig={},
        compiler=('gcc-12 (Debian 12.2.0-14) 12.2.0', 120200),
        acpi=['APIC', 'DMAR', 'DSDT', 'FACP', 'HPET', 'MCFG'], oem=('BOCHS', 'BXPC'),
        interrupt_remapping=True, vulns=VULNS_EPYC_GUEST, cgroup=CGROUP2_CONTROLLERS, etc_group=ETC_GROUP_DEBIAN,
        udev={'lib/udev/rules.d/50-udev-default.rules': UDEV_DEFAULT % {'kvm_mode': '0660'}},
        kvm_debug={}, devices=['kvm', 'vhost-net', 'net/tun'])

READINESS = {
    'desktop-intel': readiness_desktop_intel,
    'desktop-vfio-bound': readiness_desktop_vfio_bound,
    'server-sriov': readiness_server_sriov,
    'server-variant': readiness_server_sriov,
    'server-sriov-vfs': readiness_server_sriov_vfs,
    'no-iommu': readiness_no_iommu,
    'amd-desktop': readiness_amd_desktop,
    'vm-guest': readiness_vm_guest,
    'acs-override': readiness_acs_override,
    'desktop-vmd': readiness_desktop_intel,
    'vm-guest-amd-cpu-intel-viommu': readiness_vm_guest_q35,
    'vm-guest-amd-cpu-intel-viommu-off': readiness_vm_guest_q35,
}


# --- kernel configuration: the symbols the checks and a reader care about,
# in the sections and order of a real .config. None: "# CONFIG_X is not set";
# OMIT: the symbol does not exist for that kernel (no line at all).

OMIT = object()


def kernel_config(name, host, rd):
    v = kver(host['release'])
    with_modules = host.get('modules', True)
    mod = 'm' if with_modules else 'y'
    intel, amd = host['iommu'] == 'intel', host['iommu'] == 'amd'
    guest = name == 'vm-guest'
    # desktop-vmd boots desktop-intel's Arch kernel
    arch = name in ('desktop-intel', 'desktop-vmd')
    vfio = host['vfio']
    vm = 'y' if vfio == 'builtin' else 'm'
    cc, ccver = rd['compiler']
    on = lambda cond, val='y': val if cond else None
    new = lambda since, val: val if v >= since else OMIT
    old = lambda until, val: val if v < until else OMIT

    sections = [
        (None, [
            ('CC_VERSION_TEXT', '"%s"' % cc), ('CC_IS_GCC', 'y'), ('GCC_VERSION', str(ccver)),
            ('CLANG_VERSION', '0'), ('AS_IS_GNU', 'y'), ('LD_IS_BFD', 'y'), ('IRQ_WORK', 'y'),
            ('BUILDTIME_TABLE_SORT', 'y'), ('THREAD_INFO_IN_TASK', 'y'),
        ]),
        ('General setup', [
            ('INIT_ENV_ARG_LIMIT', '32'), ('COMPILE_TEST', None), ('WERROR', None), ('LOCALVERSION', '""'),
            ('LOCALVERSION_AUTO', None), ('DEFAULT_HOSTNAME', '"(none)"'), ('SYSVIPC', 'y'),
            ('POSIX_MQUEUE', 'y'), ('AUDIT', on(not guest)), ('HIGH_RES_TIMERS', 'y'), ('NO_HZ_FULL', on(not guest)),
            ('BPF_SYSCALL', 'y'), ('RCU_NOCB_CPU', on(not guest)),
            ('PREEMPT_VOLUNTARY', on(not arch)), ('PREEMPT', on(arch)),
            ('PREEMPT_DYNAMIC', on(v >= (5, 12) and not guest)),
            ('IKCONFIG', 'y' if rd['config'] == 'proc' else None),
            ('IKCONFIG_PROC', 'y' if rd['config'] == 'proc' else OMIT),
            ('LOG_BUF_SHIFT', '17'),
            ('CGROUPS', 'y'), ('PAGE_COUNTER', 'y'), ('MEMCG', 'y'), ('BLK_CGROUP', 'y'),
            ('CGROUP_SCHED', 'y'), ('CGROUP_PIDS', 'y'), ('CGROUP_RDMA', on(not guest)), ('CGROUP_FREEZER', 'y'),
            ('CGROUP_HUGETLB', 'y'), ('CPUSETS', 'y'), ('CGROUP_DEVICE', 'y'), ('CGROUP_CPUACCT', 'y'),
            ('CGROUP_PERF', 'y'), ('CGROUP_BPF', 'y'), ('CGROUP_MISC', on(not guest)),
            ('NAMESPACES', 'y'), ('UTS_NS', 'y'), ('TIME_NS', 'y'), ('IPC_NS', 'y'), ('USER_NS', 'y'),
            ('PID_NS', 'y'), ('NET_NS', 'y'), ('CHECKPOINT_RESTORE', on(not guest)),
            ('BLK_DEV_INITRD', on(not guest)), ('KALLSYMS', 'y'),
        ]),
        ('Processor type and features', [
            ('SMP', 'y'), ('X86_X2APIC', 'y'), ('X86_MPPARSE', 'y'), ('HYPERVISOR_GUEST', 'y'),
            ('PARAVIRT', 'y'), ('KVM_GUEST', 'y'), ('PROCESSOR_SELECT', on(guest)), ('CPU_SUP_INTEL', 'y'),
            ('CPU_SUP_AMD', 'y'), ('CPU_SUP_HYGON', on(not guest)), ('NR_CPUS', '8192' if not guest else '64'),
            ('X86_MCE', 'y'), ('X86_MCE_INTEL', on(not guest)), ('X86_MCE_AMD', on(not guest)),
            ('MICROCODE', on(not guest)),
            ('X86_MSR', mod if not guest else None), ('X86_CPUID', mod if not guest else None),
            ('NUMA', on(not guest)), ('X86_SGX', on(not guest and v >= (5, 11))),
            ('EFI', on(not guest)), ('KEXEC', 'y'), ('RELOCATABLE', 'y'), ('RANDOMIZE_BASE', 'y'),
        ]),
        ('Mitigations for speculative execution vulnerabilities' if v >= (6, 9) else 'Speculation mitigations', [
            ('CPU_MITIGATIONS' if v >= (6, 9) else 'SPECULATION_MITIGATIONS', 'y'),
            ('MITIGATION_PAGE_TABLE_ISOLATION' if v >= (6, 9) else 'PAGE_TABLE_ISOLATION', 'y'),
            ('MITIGATION_RETPOLINE' if v >= (6, 9) else 'RETPOLINE', 'y'),
            ('MITIGATION_RETHUNK' if v >= (6, 9) else 'RETHUNK', new((6, 2), 'y') if v < (6, 9) else 'y'),
            ('MITIGATION_SRSO' if v >= (6, 9) else 'CPU_SRSO', new((6, 5), 'y')),
        ]),
        ('Virtualization', [
            ('HAVE_KVM', 'y'), ('VIRTUALIZATION', on(not guest)),
            ('KVM', mod if not guest else OMIT),
            ('KVM_WERROR', None if not guest else OMIT),
            ('KVM_INTEL', mod if not guest else OMIT),
            ('X86_SGX_KVM', on(not guest and v >= (5, 13)) if not guest else OMIT),
            ('KVM_AMD', mod if not guest else OMIT),
            ('KVM_AMD_SEV', 'y' if not guest else OMIT),
            ('KVM_SMM', new((6, 3), 'y') if not guest else OMIT),
            ('KVM_XEN', None if not guest else OMIT),
        ]),
        ('Memory Management options', [
            ('SPARSEMEM_VMEMMAP', 'y'), ('MEMORY_HOTPLUG', on(not guest)), ('COMPACTION', 'y'),
            ('MIGRATION', 'y'), ('KSM', on(not guest)), ('TRANSPARENT_HUGEPAGE', 'y'),
            ('TRANSPARENT_HUGEPAGE_ALWAYS', on(arch)),
            ('TRANSPARENT_HUGEPAGE_MADVISE', on(not arch)),
            ('USERFAULTFD', 'y'),
        ]),
        ('Networking options', [
            ('NET', 'y'), ('PACKET', 'y'), ('UNIX', 'y'), ('INET', 'y'), ('IPV6', 'y'),
            ('NETFILTER', 'y'), ('NF_TABLES', mod), ('BRIDGE', mod if not guest else None),
            ('VLAN_8021Q', mod if not guest else None), ('VSOCKETS', mod if not guest else 'y'),
            ('VIRTIO_VSOCKETS', mod if not guest else 'y'),
        ]),
        ('PCI support', [
            ('PCI', 'y'), ('PCI_DOMAINS', 'y'), ('PCIEPORTBUS', 'y'), ('HOTPLUG_PCI_PCIE', on(not guest)),
            ('PCIEAER', on(not guest)), ('PCIEASPM', 'y'), ('PCIE_PME', 'y'), ('PCI_MSI', 'y'),
            ('PCI_QUIRKS', 'y'), ('PCI_STUB', mod if not guest else None),
            ('PCI_ATS', on(not guest)), ('PCI_IOV', on(not guest)), ('PCI_PRI', on(not guest)),
            ('PCI_PASID', on(not guest)), ('HOTPLUG_PCI', on(not guest)), ('HOTPLUG_PCI_SHPC', on(not guest)),
        ]),
        ('Network device support', [
            ('NETDEVICES', 'y'), ('NET_CORE', 'y'), ('BONDING', mod if not guest else None),
            ('MACVLAN', mod if not guest else None), ('MACVTAP', mod if not guest else None),
            ('VXLAN', mod if not guest else None), ('TUN', 'm' if with_modules else 'y'),
            ('TAP', mod if not guest else OMIT), ('VETH', mod if not guest else 'y'),
            ('VIRTIO_NET', mod if not guest else 'y'),
        ]),
        ('VHOST drivers', [
            ('VHOST_IOTLB', mod if not guest else OMIT), ('VHOST_TASK', new((6, 4), 'y')),
            ('VHOST', mod if not guest else OMIT), ('VHOST_MENU', 'y'),
            ('VHOST_NET', mod if not guest else None), ('VHOST_VSOCK', mod if not guest else None),
            ('VHOST_CROSS_ENDIAN_LEGACY', None),
        ]),
        ('VFIO', [
            ('VFIO', vm if vfio else None),
        ] + ([
            ('VFIO_DEVICE_CDEV', new((6, 6), 'y' if host['vfio_cdev'] else None)),
            ('VFIO_GROUP', new((6, 2), 'y')),
            ('VFIO_CONTAINER', new((6, 2), 'y')),
            ('VFIO_IOMMU_TYPE1', vm),
            ('VFIO_NOIOMMU', 'y'),
            ('VFIO_VIRQFD', 'y' if v >= (6, 2) else vm),
            ('VFIO_DEBUGFS', new((6, 6), None)),
            ('VFIO_PCI_CORE', new((5, 15), vm)),
            ('VFIO_PCI_MMAP', 'y'),
            ('VFIO_PCI_INTX', 'y'),
            ('VFIO_PCI', vm),
            ('VFIO_PCI_VGA', 'y'),
            ('VFIO_PCI_IGD', 'y'),
            ('VFIO_MDEV', 'm'),
        ] if vfio else []) + [
            ('IRQ_BYPASS_MANAGER', mod if not guest else OMIT),
            ('VIRT_DRIVERS', 'y'), ('VIRTIO_ANCHOR', new((6, 0), 'y')), ('VIRTIO', 'y'),
            ('VIRTIO_PCI', 'y' if guest else 'm'), ('VIRTIO_BALLOON', 'y' if guest else 'm'),
        ]),
        ('IOMMU Hardware Support', [
            ('IOMMU_IOVA', 'y'), ('IOMMU_API', 'y'), ('IOMMU_SUPPORT', 'y'),
            ('IOMMU_DEBUGFS', None),
            ('IOMMU_DEFAULT_DMA_STRICT', None if v >= (5, 15) else OMIT),
            ('IOMMU_DEFAULT_DMA_LAZY', 'y' if v >= (5, 15) else OMIT),
            ('IOMMU_DEFAULT_PASSTHROUGH', None),
            ('IOMMU_DMA', 'y'),
            ('AMD_IOMMU', on(not guest)),
            ('AMD_IOMMU_V2', old((6, 7), 'm') if not guest else OMIT),
            ('DMAR_TABLE', on(not guest) if not guest else OMIT),
            ('INTEL_IOMMU', on(not guest)),
            ('INTEL_IOMMU_SVM', 'y' if not guest else OMIT),
            ('INTEL_IOMMU_DEFAULT_ON', None if not guest else OMIT),
            ('INTEL_IOMMU_FLOPPY_WA', 'y' if not guest else OMIT),
            ('INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON', None if not guest else OMIT),
            ('INTEL_IOMMU_PERF_EVENTS', new((6, 5), 'y') if not guest else OMIT),
            ('IOMMUFD', new((6, 2), ('y' if vfio == 'builtin' else 'm') if vfio else None)),
            ('IRQ_REMAP', on(not guest)),
            ('VIRTIO_IOMMU', None if guest else 'm'),
        ]),
        ('Huge page support (File systems)', [
            ('TMPFS', 'y'), ('HUGETLBFS', 'y'), ('HUGETLB_PAGE', 'y'), ('MEMFD_CREATE', 'y'),
            ('OVERLAY_FS', mod),
        ]),
        ('Security options', [
            ('KEYS', 'y'), ('SECURITY', 'y'), ('SECURITYFS', 'y'), ('SECCOMP', 'y'), ('SECCOMP_FILTER', 'y'),
            ('SECURITY_SELINUX', on(name == 'server-sriov')), ('SECURITY_APPARMOR', on(name in (
                'desktop-vfio-bound', 'no-iommu', 'amd-desktop', 'acs-override', 'vm-guest-amd-cpu-intel-viommu',
                'vm-guest-amd-cpu-intel-viommu-off'))),
            ('SECURITY_LANDLOCK', on(not guest)),
        ]),
    ]
    if with_modules:
        comp = {'.ko.zst': 'MODULE_COMPRESS_ZSTD', '.ko.xz': 'MODULE_COMPRESS_XZ'}.get(host['modsuffix'])
        sections.insert(3, ('Enable loadable module support', [
            ('MODULES', 'y'), ('MODULE_FORCE_LOAD', None), ('MODULE_UNLOAD', 'y'), ('MODVERSIONS', 'y'),
            ('MODULE_SIG', 'y'), ('MODULE_COMPRESS_NONE', 'y' if not comp else None),
        ] + ([(comp, 'y')] if comp else [])))
    else:
        sections.insert(3, ('Enable loadable module support', [('MODULES', None)]))

    for sym, val in rd['kconfig'].items():
        for _, syms in sections:
            for i, (s, _) in enumerate(syms):
                if s == sym:
                    syms[i] = (s, val)

    out = ['#', '# Automatically generated file; DO NOT EDIT.',
           '# Linux/x86 %s Kernel Configuration' % host['release'], '#']
    for title, syms in sections:
        if title:
            out += ['', '#', '# ' + title, '#']
        for s, val in syms:
            if val is OMIT:
                continue
            out.append('# CONFIG_%s is not set' % s if val is None else 'CONFIG_%s=%s' % (s, val))
    return '\n'.join(out) + '\n'


# The statistics of an x86 KVM in the order of kvm_vm_stats_desc[] and
# kvm_vcpu_stats_desc[] (KVM_GENERIC_VM_STATS, KVM_GENERIC_VCPU_STATS, then
# arch/x86/kvm/x86.c's), as Linux 6.8 has them; each debugfs file holds one
# "%llu\n" (a histogram's file its first bucket). The values are those of
# desktop-vfio-bound's Windows guest: VM-wide, its 4 vCPUs summed.
KVM_STATS = [
    ('remote_tlb_flush', 1830412), ('remote_tlb_flush_requests', 2044187),
    ('mmu_shadow_zapped', 0), ('mmu_pte_write', 0), ('mmu_pde_zapped', 0), ('mmu_flooded', 0),
    ('mmu_recycled', 0), ('mmu_cache_miss', 0), ('mmu_unsync', 0), ('pages_4k', 58213), ('pages_2m', 8127),
    ('pages_1g', 0), ('nx_lpage_splits', 0), ('max_mmu_rmap_size', 0), ('max_mmu_page_hash_collisions', 0),
    ('halt_successful_poll', 1203311), ('halt_attempted_poll', 1534020), ('halt_poll_invalid', 0),
    ('halt_wakeup', 1420118), ('halt_poll_success_ns', 180442100431), ('halt_poll_fail_ns', 61203317720),
    ('halt_wait_ns', 5513300871244), ('halt_poll_success_hist', 0), ('halt_poll_fail_hist', 0),
    ('halt_wait_hist', 0), ('blocking', 1),
    ('pf_taken', 412330), ('pf_fixed', 398102), ('pf_emulate', 14228), ('pf_spurious', 1201), ('pf_fast', 302),
    ('pf_mmio_spte_created', 811), ('pf_guest', 0), ('tlb_flush', 2981044), ('invlpg', 0),
    ('exits', 48213392), ('io_exits', 1120334), ('mmio_exits', 912003), ('signal_exits', 31),
    ('irq_window_exits', 4401), ('nmi_window_exits', 0), ('l1d_flush', 0), ('halt_exits', 1733210),
    ('request_irq_exits', 0), ('irq_exits', 3120554), ('host_state_reload', 2410337), ('fpu_reload', 0),
    ('insn_emulation', 130332), ('insn_emulation_fail', 0), ('hypercalls', 88112), ('irq_injections', 6610331),
    ('nmi_injections', 0), ('req_event', 5180224), ('nested_run', 0), ('directed_yield_attempted', 2210),
    ('directed_yield_successful', 1402), ('preemption_reported', 0), ('preemption_other', 0),
    ('guest_mode', 0), ('notify_window_exits', 0),
]
# arch/x86/kvm/debugfs.c kvm_mmu_rmaps_stat_show(): a table of rmap sizes
# per page level (empty with the TDP MMU, which keeps no rmaps).
KVM_MMU_RMAPS_STAT = ('Rmap_Count:\t0\t1\t2-3\t4-7\t8-15\t16-31\t32-63\t64-127\t128-255\t256-511\t512-1023\t\n'
                      'Level=4K:\t' + '0\t' * 11 + '\n' + 'Level=2M:\t' + '0\t' * 11 + '\n' +
                      'Level=1G:\t' + '0\t' * 11 + '\n')


def write_readiness(t, name, host, devs, rd, loaded, st):
    n = host['cpus']
    t.write('proc/cpuinfo', proc_cpuinfo(rd['cpu'], n))
    t.write('proc/meminfo', proc_meminfo(*rd['meminfo']))
    t.write('proc/interrupts', proc_interrupts(host, rd))
    write_acpi_tables(t, host, rd['acpi'], rd['oem'])

    # /dev nodes (empty regular files, like every node here): KVM and
    # vhost-net when their modules are loaded, tun, iommufd's /dev/iommu
    # when iommufd is loaded or built in, and the msr driver's per-CPU
    # nodes. The real dev/cpu/0/msr answers an 8-byte pread at offset =
    # MSR index, so adjacent MSRs overlap; a regular file holds each MSR
    # at index * 8 (docs/host-files.md), holes reading as 0. Intel hosts
    # carry IA32_FEATURE_CONTROL (0x3a) and the VMX capability MSRs
    # (0x480-0x490): 9 KiB. AMD's VM_CR (0xc0010114) would need a 25 GiB
    # sparse file, which git cannot hold: no AMD host has one (tests make
    # it in a copy).
    for node in rd['devices']:
        t.write('dev/' + node, b'')
    if 'iommufd' in loaded or (host['vfio'] == 'builtin' and kver(host['release']) >= (6, 2)):
        t.write('dev/iommu', b'')
    if rd['msr'] is not None:
        if rd['cpu']['vendor'] != 'GenuineIntel' or 'msr' not in loaded:
            raise SystemExit('%s: an MSR file needs Intel and the msr module' % name)
        t.write('dev/cpu/0/msr', msr_file({0x3a: rd['msr'], **vmx_msrs(rd['cpu']['vmx_flags'])}))

    for p, v in sorted(rd['vulns'].items()):
        t.write('sys/devices/system/cpu/vulnerabilities/' + p, v + '\n')
    # The CPU masks as cpumap_print_list_to_buf() prints them: every CPU
    # here is possible, present and online (the static setup's isolcpus=
    # is checked against possible).
    for mask in ('possible', 'present', 'online'):
        t.write('sys/devices/system/cpu/' + mask, '0-%d\n' % (n - 1) if n > 1 else '0\n')
    if rd['cgroup'] is not None:
        t.write('sys/fs/cgroup/cgroup.controllers', rd['cgroup'] + '\n')
        t.write('sys/fs/cgroup/cgroup.subtree_control', rd['cgroup'].replace(' hugetlb', '').replace(
            ' rdma', '').replace(' misc', '') + '\n')
    else:
        # cgroup v1 with the unified hierarchy beside it: no controllers there
        t.write('sys/fs/cgroup/unified/cgroup.controllers', '')
    t.write('etc/group', rd['etc_group'])
    for path, content in sorted(rd['udev'].items()):
        t.write(path, content)
    # KVM's debugfs (virt/kvm/kvm_main.c): kvm_init_debug() puts one file per
    # statistic in kvm/, summed over every VM; kvm_create_vm_debugfs() makes
    # "<pid>-<vm fd>/" per VM with the same files (its vCPU statistics
    # summed over its vCPUs) and x86's mmu_rmaps_stat (a table, not a
    # number); kvm_create_vcpu_debugfs() makes vcpuN/ with the vCPU
    # thread's pid and x86's guest_mode, tsc-offset, lapic_timer_advance_ns
    # and, with TSC scaling, tsc-scaling-ratio(-frac-bits). Mainline has no
    # per-vCPU statistics in debugfs: those are in the binary stats fd only.
    # rd['kvm_debug']: "<pid>-<fd>" -> the vCPU threads' ids, by vCPU index.
    if rd['kvm_debug'] or rd.get('debugfs_kvm'):
        vms = sorted(rd['kvm_debug'].items())
        for stat, value in KVM_STATS:
            t.write('sys/kernel/debug/kvm/' + stat, '%d\n' % (value * len(vms)))
    for vm, tids in sorted(rd['kvm_debug'].items()):
        pid, fd = (int(x) for x in vm.split('-'))
        p = st['procs'][pid]
        if p['fds'].get(fd) != 'anon_inode:kvm-vm':
            raise SystemExit('%s: fd %d of pid %d is no VM' % (name, fd, pid))
        if [th['tid'] for th in p['detail']['threads'] if th['tid'] in tids] != sorted(tids):
            raise SystemExit('%s: the vCPUs of %s are not threads of pid %d' % (name, vm, pid))
        base = 'sys/kernel/debug/kvm/' + vm
        for stat, value in KVM_STATS:
            t.write('%s/%s' % (base, stat), '%d\n' % value)
        t.write(base + '/mmu_rmaps_stat', KVM_MMU_RMAPS_STAT)
        for i, tid in enumerate(tids):
            t.write('%s/vcpu%d/pid' % (base, i), '%d\n' % tid)
            t.write('%s/vcpu%d/guest_mode' % (base, i), '0\n')
            t.write('%s/vcpu%d/tsc-offset' % (base, i), '-%d\n' % (281474976710656 + i * 4096))
            t.write('%s/vcpu%d/lapic_timer_advance_ns' % (base, i), '1000\n')
            t.write('%s/vcpu%d/tsc-scaling-ratio' % (base, i), '281474976710656\n')
            t.write('%s/vcpu%d/tsc-scaling-ratio-frac-bits' % (base, i), '48\n')


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
