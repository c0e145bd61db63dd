#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a synthetic SR-IOV-heavy host of N PCI functions beneath OUTDIR,
built as real sysfs is, for the benchmarks (docs/performance.md).

    gen-host.py N OUTDIR

What vfiohostd's model reads for each function (service/core/vh-pci.c,
vh-iommu.c) and what lspci's sysfs backend reads are there: attribute
files, a config space consistent with them, driver, iommu_group, physfn
and virtfnN links, sys/bus/pci/devices, sys/kernel/iommu_groups and
sys/bus/pci/drivers. The rest of the tree (proc/, dev/, boot/, lib/, ...)
is copied from the fixture host tests/data/hosts/server-sriov, less what
names that host's own PCI functions, so that the daemon starts on it.

The layout: bus 00 holds a host bridge, an ISA bridge and an SMBus
controller (one IOMMU group for the two chipset functions, as on real
hosts without ACS there); then root complexes of four root ports each
(Intel Sky Lake-E, as in the fixture), each port holding one dual-port
adapter, alternately an Intel X710 (i40e, VFs iavf, 64 VFs a port at most)
and a Mellanox ConnectX-5 (mlx5_core, 127 VFs a port at most). A port's
PFs are on its secondary bus; their VFs on the next bus, which ARI lets
use function numbers 0-255 (PF0's from 0, PF1's from 128). Every other
function is in an IOMMU group of its own.

Deterministic: the same N writes the same tree. Prints nothing but errors.
OUTDIR/gen-host.json says what it wrote (n_functions, n_groups, n_pfs,
n_vfs), for the tests to compare against.
"""

import json
import os
import shutil
import struct
import sys

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'hosts', 'server-sriov')

# Parts of the fixture copied as they are. Left out: its PCI functions
# and what links to them (class/net, block devices, DRM), VFIO group
# nodes, and processes other than 1 and 2 (one holds a VFIO group).
COPY_TOP = ['boot', 'etc', 'lib', 'usr']
COPY_SYS = ['module', 'firmware', 'fs', 'devices/system', 'class/misc', 'class/vtconsole']

CARDS = [
    # vendor, PF device, VF device, subsystem (PF), driver PF, driver VF, total VFs a PF, revision
    dict(name='x710', vendor=0x8086, pf=0x1572, vf=0x154c, ssv=0x8086, ssd=0x0007,
         pf_driver='i40e', vf_driver='iavf', totalvfs=64, rev=0x02),
    dict(name='cx5', vendor=0x15b3, pf=0x1017, vf=0x1018, ssv=0x15b3, ssd=0x0007,
         pf_driver='mlx5_core', vf_driver='mlx5_core', totalvfs=127, rev=0x00),
]
PORTS_PER_COMPLEX = 4
ROOT_PORT_IDS = [0x2030, 0x2031, 0x2032, 0x2033]  # Sky Lake-E Root Port A-D
N_FIXED = 3  # host bridge, ISA bridge, SMBus


def die(msg):
    print('gen-host.py: ' + msg, file=sys.stderr)
    sys.exit(1)


class Function:
    def __init__(self, domain, bus, devfn, kind, vendor, device, ssv, ssd, cls, rev, driver):
        self.domain, self.bus, self.devfn = domain, bus, devfn
        self.address = '%04x:%02x:%02x.%x' % (domain, bus, devfn >> 3, devfn & 7)
        self.kind = kind
        self.vendor, self.device, self.ssv, self.ssd = vendor, device, ssv, ssd
        self.cls, self.rev, self.driver = cls, rev, driver
        self.path = None          # beneath sys/devices
        self.multifunction = False
        self.bridge = None        # (primary, secondary, subordinate)
        self.numa = 0
        self.group = None
        self.pf = None            # a VF's PF
        self.vfs = []             # a PF's VFs
        self.totalvfs = 0
        self.vf_device = 0
        self.vf_offset = 0


def plan(n):
    """The functions of an N-function host, depth first: a root port, then
    what is behind it, as the kernel enumerates them."""
    # Cards (a root port and two PFs each) until their VFs can hold the
    # rest; at least two, so that PFs are spread over ports.
    rest = n - N_FIXED
    cards = max(2, -(-rest // 180))
    while sum(3 + 2 * CARDS[i % 2]['totalvfs'] for i in range(cards)) < rest:
        cards += 1
    n_vfs = rest - 3 * cards
    if n_vfs < 0:
        die('N=%d is too small: at least %d functions' % (n, N_FIXED + 6))

    # VFs dealt round robin over the PFs, each up to its total.
    pf_cards = [i // 2 for i in range(2 * cards)]
    numvfs = [0] * (2 * cards)
    left = n_vfs
    while left > 0:
        for p in range(2 * cards):
            if left and numvfs[p] < CARDS[pf_cards[p] % 2]['totalvfs']:
                numvfs[p] += 1
                left -= 1

    complexes = -(-cards // PORTS_PER_COMPLEX)
    fns = []
    host = Function(0, 0, 0x00, 'host', 0x8086, 0x2020, 0x8086, 0x2020, 0x060000, 0x04, None)
    host.path = 'pci0000:00/' + host.address
    isa = Function(0, 0, 0x1f << 3, 'isa', 0x8086, 0xa1c1, 0x8086, 0xa1c1, 0x060100, 0x09, None)
    smbus = Function(0, 0, (0x1f << 3) | 4, 'smbus', 0x8086, 0xa1a3, 0x8086, 0xa1a3, 0x0c0500, 0x09,
                     'i801_smbus')
    isa.multifunction = True
    for f in (isa, smbus):
        f.path = 'pci0000:00/' + f.address
    fns += [host, isa, smbus]

    # Root complexes from bus 0x10 on, each spanning its root bus and two
    # buses a port; a domain is full at bus 0xff and the next one starts.
    domain, bus = 0, 0x10
    card = 0
    for c in range(complexes):
        ports = min(PORTS_PER_COMPLEX, cards - card)
        span = 1 + 2 * ports
        if bus + span > 0x100:
            domain, bus = domain + 1, 0x10
        root = bus
        numa = 0 if c < (complexes + 1) // 2 else 1
        for p in range(ports):
            sec = root + 1 + 2 * p
            rp = Function(domain, root, p << 3, 'rootport', 0x8086, ROOT_PORT_IDS[p], 0x8086, ROOT_PORT_IDS[p],
                          0x060400, 0x04, 'pcieport')
            rp.path = 'pci%04x:%02x/%s' % (domain, root, rp.address)
            rp.bridge = (root, sec, sec + 1)
            rp.numa = numa
            fns.append(rp)
            kind = CARDS[card % 2]
            pfs = []
            for port in range(2):
                pf = Function(domain, sec, port, 'pf', kind['vendor'], kind['pf'], kind['ssv'], kind['ssd'],
                              0x020000, kind['rev'], kind['pf_driver'])
                pf.path = rp.path + '/' + pf.address
                pf.multifunction = True
                pf.numa = numa
                pf.totalvfs = kind['totalvfs']
                pf.vf_device = kind['vf']
                base = 128 * port
                pf.vf_offset = (((sec + 1) << 8) | base) - ((sec << 8) | port)
                for i in range(numvfs[2 * card + port]):
                    vf = Function(domain, sec + 1, base + i, 'vf', kind['vendor'], kind['vf'], kind['vendor'],
                                  kind['vf'], 0x020000, kind['rev'], kind['vf_driver'])
                    vf.path = rp.path + '/' + vf.address
                    vf.numa = numa
                    vf.pf = pf
                    pf.vfs.append(vf)
                pfs.append(pf)
            fns += pfs
            fns += [vf for pf in pfs for vf in pf.vfs]
            card += 1
        bus = root + span

    # Groups numbered in that order, as the kernel numbers them while it
    # enumerates; the chipset's two functions share one.
    group = 0
    for f in fns:
        if f is smbus:
            f.group = isa.group
            continue
        f.group = group
        group += 1
    assert len(fns) == n, (len(fns), n)
    return fns, group, complexes


def config_space(f):
    """Config space: the header the attribute files say, a PCI Express
    capability, the bridge's bus numbers and subsystem capability, and a
    PF's SR-IOV extended capability (4096 bytes then, as the kernel shows
    a PCIe function's to root)."""
    c = bytearray(4096 if f.kind == 'pf' else 256)
    struct.pack_into('<HHHH', c, 0, f.vendor, f.device, 0x0006, 0x0010)
    c[0x08] = f.rev
    c[0x09], c[0x0a], c[0x0b] = f.cls & 0xff, (f.cls >> 8) & 0xff, f.cls >> 16
    header = 1 if f.bridge else 0
    c[0x0e] = header | (0x80 if f.multifunction else 0)
    c[0x34] = 0x40
    port_type = {'rootport': 4, 'pf': 0, 'vf': 0}.get(f.kind, 9)  # 9: root complex integrated endpoint
    struct.pack_into('<BBH', c, 0x40, 0x10, 0x50 if f.bridge else 0, 0x0002 | port_type << 4)
    if f.kind in ('pf', 'vf'):
        struct.pack_into('<I', c, 0x44, 1 << 28)  # DevCap: FLR, as reset_method says
    if f.bridge:
        c[0x18], c[0x19], c[0x1a] = f.bridge
        struct.pack_into('<BBHHH', c, 0x50, 0x0d, 0, 0, f.ssv, f.ssd)
    else:
        struct.pack_into('<HH', c, 0x2c, f.ssv, f.ssd)
        c[0x3d] = 1 if f.kind != 'host' else 0
    if f.kind == 'pf':
        # SR-IOV: cap id 0x10 v1; control: VF enable, ARI capable hierarchy
        struct.pack_into('<IIHHHHHBBHHHH', c, 0x100, 0x00010010, 0x2, 0x11 if f.vfs else 0x10, 0,
                         f.totalvfs, f.totalvfs, len(f.vfs), f.devfn & 7, 0, f.vf_offset, 1, 0, f.vf_device)
    return bytes(c)


def write(path, data):
    # os.open/os.write: three syscalls a file, where open() takes six; the
    # tree has hundreds of thousands of files at N=16,384.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data if isinstance(data, bytes) else data.encode())
    finally:
        os.close(fd)


def up(path_below_sys):
    """'../' enough times to climb from a directory beneath sys/ to sys/."""
    return '../' * (path_below_sys.count('/') + 1)


def write_function(sysdir, f):
    rel = 'devices/' + f.path
    d = os.path.join(sysdir, rel)
    os.mkdir(d)
    top = up(rel)
    # What the model and lspci read, and the few files every function has
    # that they do not (uevent, modalias, resource, irq): no more, as
    # each file costs a disk block and a syscall to write at N=16,384.
    attrs = {
        'vendor': '0x%04x\n' % f.vendor,
        'device': '0x%04x\n' % f.device,
        'subsystem_vendor': '0x%04x\n' % f.ssv,
        'subsystem_device': '0x%04x\n' % f.ssd,
        'class': '0x%06x\n' % f.cls,
        'revision': '0x%02x\n' % f.rev,
        'numa_node': '%d\n' % f.numa,
        'd3cold_allowed': '1\n',
        'driver_override': '(null)\n',
        'irq': '0\n' if f.kind in ('vf', 'rootport') else '16\n',  # lspci -v stops without it
        'modalias': 'pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n' % (
            f.vendor, f.device, f.ssv, f.ssd, f.cls >> 16, (f.cls >> 8) & 0xff, f.cls & 0xff),
        'uevent': ('DRIVER=%s\n' % f.driver if f.driver else '') +
        'PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n' % (
            f.cls, f.vendor, f.device, f.ssv, f.ssd, f.address),
        'resource': '0x0000000000000000 0x0000000000000000 0x0000000000000000\n' * 13,
    }
    if f.kind in ('pf', 'vf', 'smbus'):
        attrs['reset_method'] = 'flr\n' if f.kind != 'smbus' else 'pm\n'
    if f.kind == 'pf':
        attrs.update({
            'sriov_totalvfs': '%d\n' % f.totalvfs,
            'sriov_numvfs': '%d\n' % len(f.vfs),
            'sriov_drivers_autoprobe': '1\n',
            'sriov_offset': '%d\n' % f.vf_offset,
            'sriov_stride': '1\n',
            'sriov_vf_device': '%x\n' % f.vf_device,
        })
    for name, value in attrs.items():
        write(os.path.join(d, name), value)
    write(os.path.join(d, 'config'), config_space(f))
    os.symlink(top + 'bus/pci', os.path.join(d, 'subsystem'))
    os.symlink(top + 'kernel/iommu_groups/%d' % f.group, os.path.join(d, 'iommu_group'))
    if f.driver:
        os.symlink(top + 'bus/pci/drivers/' + f.driver, os.path.join(d, 'driver'))
    if f.pf:
        os.symlink('../' + f.pf.address, os.path.join(d, 'physfn'))
    for i, vf in enumerate(f.vfs):
        os.symlink('../' + vf.address, os.path.join(d, 'virtfn%d' % i))


def copy_fixture(out):
    for name in COPY_TOP:
        shutil.copytree(os.path.join(FIXTURE, name), os.path.join(out, name), symlinks=True)
    shutil.copytree(os.path.join(FIXTURE, 'dev'), os.path.join(out, 'dev'), symlinks=True,
                    ignore=lambda d, names: [n for n in names if d.endswith('/vfio') and n.isdigit()]
                    + (['dri'] if d.endswith('/dev') else []))
    shutil.copytree(os.path.join(FIXTURE, 'proc'), os.path.join(out, 'proc'), symlinks=True,
                    ignore=lambda d, names: [n for n in names if d.endswith('/proc') and n.isdigit()
                                             and n not in ('1', '2')])
    for name in COPY_SYS:
        shutil.copytree(os.path.join(FIXTURE, 'sys', name), os.path.join(out, 'sys', name), symlinks=True)


def generate(n, out):
    fns, n_groups, complexes = plan(n)
    copy_fixture(out)
    sysdir = os.path.join(out, 'sys')

    # Bus-wide files, drivers with their control files and module links.
    pci = os.path.join(sysdir, 'bus', 'pci')
    os.makedirs(os.path.join(pci, 'devices'))
    for name in ('uevent', 'drivers_probe', 'rescan', 'resource_alignment'):
        write(os.path.join(pci, name), '')
    write(os.path.join(pci, 'drivers_autoprobe'), '1\n')
    drivers = sorted({f.driver for f in fns if f.driver} | {'vfio-pci'})
    for drv in drivers:
        dd = os.path.join(pci, 'drivers', drv)
        os.makedirs(dd)
        for name in ('bind', 'unbind', 'new_id', 'remove_id', 'uevent'):
            write(os.path.join(dd, name), '')
        module = drv.replace('-', '_')
        os.symlink('../../../../module/' + module, os.path.join(dd, 'module'))
        md = os.path.join(sysdir, 'module', module)
        if not os.path.isdir(md):
            os.makedirs(md)
            write(os.path.join(md, 'initstate'), 'live\n')
            write(os.path.join(md, 'refcnt'), '0\n')

    # One DMA remapping unit a root complex, and bus 00's.
    for i in range(complexes + 1):
        unit = os.path.join(sysdir, 'devices', 'virtual', 'iommu', 'dmar%d' % i)
        os.makedirs(unit)
        os.makedirs(os.path.join(sysdir, 'class', 'iommu'), exist_ok=True)
        os.symlink('../../devices/virtual/iommu/dmar%d' % i, os.path.join(sysdir, 'class', 'iommu', 'dmar%d' % i))

    # Host bridges, then the functions (a parent before its children).
    for root in sorted({f.path.split('/')[0] for f in fns}):
        os.makedirs(os.path.join(sysdir, 'devices', root))
    groups = os.path.join(sysdir, 'kernel', 'iommu_groups')
    for g in range(n_groups):
        os.makedirs(os.path.join(groups, str(g), 'devices'))
        write(os.path.join(groups, str(g), 'type'), 'DMA\n')
    for f in fns:
        write_function(sysdir, f)
        target = '../../../devices/' + f.path
        os.symlink(target, os.path.join(pci, 'devices', f.address))
        os.symlink('../' + target, os.path.join(groups, str(f.group), 'devices', f.address))
        if f.driver:
            os.symlink('../' + target, os.path.join(pci, 'drivers', f.driver, f.address))

    n_pfs = sum(1 for f in fns if f.kind == 'pf')
    n_vfs = sum(1 for f in fns if f.kind == 'vf')
    with open(os.path.join(out, 'gen-host.json'), 'w') as fh:
        json.dump({'n_functions': len(fns), 'n_groups': n_groups, 'n_pfs': n_pfs, 'n_vfs': n_vfs}, fh,
                  indent=1, sort_keys=True)
        fh.write('\n')


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        die('usage: gen-host.py N OUTDIR')
    n, out = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    if n < N_FIXED + 6:
        die('N=%d is too small: at least %d functions' % (n, N_FIXED + 6))

    # Written beside OUTDIR, then renamed over it: a tree is whole or
    # absent. An existing OUTDIR is replaced only when it is one of ours.
    if os.path.lexists(out) and not os.path.exists(os.path.join(out, 'gen-host.json')):
        if not os.path.isdir(out) or os.listdir(out):
            die('%s exists and is not a generated host: not replacing it' % out)
    tmp = '%s.tmp-%d' % (out, os.getpid())
    try:
        os.makedirs(tmp)
        generate(n, tmp)
        if os.path.lexists(out):
            old = '%s.old-%d' % (out, os.getpid())
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


if __name__ == '__main__':
    main()
