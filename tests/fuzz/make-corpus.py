#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora of the fuzz targets, tests/fuzz/corpus/<target>/:
host-* files are the real files of the fixture hosts (tests/data/hosts),
edge-* files are hand-made edge cases. Deterministic; re-run after the
fixtures change. regress-* files (inputs that once crashed a target) are
committed by hand and never touched here.

    tests/fuzz/make-corpus.py
"""

import gzip
import glob
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTS = os.path.join(HERE, "..", "data", "hosts")
OUT = os.path.join(HERE, "corpus")

SEP = b"\x1e"      # VH_FUZZ_SEPARATOR
ABSENT = b"\x18"   # VH_FUZZ_ABSENT


def hosts():
    return sorted(h for h in os.listdir(HOSTS) if os.path.isdir(os.path.join(HOSTS, h)))


def read(host, path):
    p = os.path.join(HOSTS, host, path)
    if not os.path.isfile(p):
        return None
    with open(p, "rb") as f:
        return f.read()


def glob_files(host, directory):
    d = os.path.join(HOSTS, host, directory)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(directory, e) for e in os.listdir(d) if os.path.isfile(os.path.join(d, e)))


def gz(data):
    # mtime=0: the same bytes on every run.
    return gzip.compress(data, compresslevel=9, mtime=0)


def first_processors(cpuinfo, n=2):
    """The first n processor blocks: readiness reads only the first one."""
    blocks = cpuinfo.split(b"\n\n")
    return b"\n\n".join(blocks[:n]) + b"\n"


def head(data, limit=4096):
    """Whole lines up to limit bytes."""
    if len(data) <= limit:
        return data
    cut = data.rfind(b"\n", 0, limit)
    return data[: cut + 1 if cut > 0 else limit]


def host_seeds(path, transform=None):
    """One seed per fixture host that has the file."""
    def gen():
        for h in hosts():
            data = read(h, path)
            if data is not None:
                yield "host-" + h, transform(data) if transform else data
    return gen


def release_file(name):
    def gen():
        for h in hosts():
            d = os.path.join(HOSTS, h, "lib", "modules")
            if not os.path.isdir(d):
                continue
            for release in sorted(os.listdir(d)):
                data = read(h, os.path.join("lib", "modules", release, name))
                if data is not None:
                    yield "host-" + h, data
    return gen


# ---- per target ------------------------------------------------------------

def address():
    for h in hosts():
        d = os.path.join(HOSTS, h, "sys", "bus", "pci", "devices")
        if os.path.isdir(d):
            for a in sorted(os.listdir(d))[:3]:
                yield "host-%s-%s" % (h, a.replace(":", "_")), a.encode()
    for name, s in [
        ("upper", b"0000:0A:1F.7"), ("device-20", b"0000:00:20.0"), ("function-8", b"0000:00:00.8"),
        ("max", b"ffff:ff:1f.7"), ("newline", b"0000:01:00.0\n"), ("short", b"0000:01:00"),
        ("long", b"0000:01:00.00"), ("no-domain", b"01:00.0"), ("empty", b""), ("nul", b"0000:01\x0000.0"),
        ("dot-dot", b"../../../etc"), ("sign", b"+000:01:00.0"), ("space", b" 000:01:00.0"),
    ]:
        yield "edge-" + name, s


JOURNAL_ENTRY = (b'{"address":"%s","state":"%s","txn":%s,"original_known":%s,'
                 b'"original_driver":%s,"original_override":%s,"time":%s}')


def journal_entry(address=b"0000:01:00.0", state=b"bound", txn=b"1", known=b"true", driver=b'"nvidia"',
                  override=b"null", time=b"1718031602153071"):
    return JOURNAL_ENTRY % (address, state, txn, known, driver, override, time)


def journal_doc(*entries, version=b"1", next_txn=b"2"):
    return b'{"version":%s,"next_txn":%s,"devices":[%s]}\n' % (version, next_txn, b",".join(entries))


def journal():
    yield from host_seeds(os.path.join("var", "lib", "vfiohost", "journal.json"))()
    yield "edge-empty-devices", journal_doc()
    yield "edge-binding-unknown-original", journal_doc(journal_entry(state=b"binding", known=b"false",
                                                                     driver=b"null"))
    yield "edge-unbinding-override", journal_doc(journal_entry(state=b"unbinding", override=b'"vfio-pci"'))
    yield "edge-two-txns", journal_doc(journal_entry(), journal_entry(address=b"0000:02:00.0", txn=b"7"),
                                       next_txn=b"3")
    yield "edge-same-address-twice", journal_doc(journal_entry(), journal_entry(state=b"binding"))
    yield "edge-no-time", b'{"version":1,"devices":[{"address":"0000:01:00.0","state":"bound","txn":1}]}'
    yield "edge-big-numbers", journal_doc(journal_entry(txn=b"9223372036854775807", time=b"-1"),
                                          next_txn=b"18446744073709551615")
    # 2^62, the largest next_txn, as a txn: loaded once and could not reload
    yield "edge-txn-at-max", journal_doc(journal_entry(txn=b"4611686018427387904"), next_txn=b"0")
    yield "edge-escapes", journal_doc(journal_entry(driver=b'"n\\u0000v\\"\\\\/"', override=b'"\\ud800"'))
    yield "edge-wrong-types", journal_doc(journal_entry(known=b'"yes"', driver=b"42", override=b"[]"))
    yield "edge-version-2", journal_doc(version=b"2")
    yield "edge-trailing", journal_doc(journal_entry()) + b"{}"
    yield "edge-truncated", journal_doc(journal_entry())[:60]
    yield "edge-deep", b"[" * 200 + b"]" * 200
    yield "edge-not-object", b'"journal"'


ASSIGNMENT = (b'{"address":"%s","name":%s,"driver":"%s","group":%s,"identity":{"vendor":"10de","device":"2684",'
              b'"subsystem_vendor":"1043","subsystem_device":"889d","class":"%s"%s},"time":%s}')


def assignment(address=b"0000:01:00.0", name=b'"gpu"', driver=b"vfio-pci", group=b"false", class_code=b"030000",
               dsn=b',"dsn":"0123456789abcdef"', time=b"1764633600000000"):
    return ASSIGNMENT % (address, name, driver, group, class_code, dsn, time)


def assignments_doc(*entries, version=b"1"):
    return b'{"version":%s,"assignments":[%s]}\n' % (version, b",".join(entries))


def assignments():
    yield "edge-empty", assignments_doc()
    yield "edge-one", assignments_doc(assignment())
    yield "edge-two", assignments_doc(assignment(), assignment(address=b"0000:06:00.0", name=b"null", dsn=b""))
    yield "edge-group-no-dsn", assignments_doc(assignment(group=b"true", dsn=b""))
    yield "edge-same-name", assignments_doc(assignment(), assignment(address=b"0000:06:00.0"))
    yield "edge-same-address", assignments_doc(assignment(), assignment(name=b'"other"'))
    yield "edge-bad-name", assignments_doc(assignment(name=b'"-x"'))
    yield "edge-bad-dsn", assignments_doc(assignment(dsn=b',"dsn":"0123"'))
    yield "edge-big-time", assignments_doc(assignment(time=b"9223372036854775807"))
    yield "edge-version-2", assignments_doc(version=b"2")
    yield "edge-trailing", assignments_doc(assignment()) + b"{}"
    yield "edge-truncated", assignments_doc(assignment())[:70]


def kconfig():
    for h in hosts():
        d = os.path.join(HOSTS, h, "boot")
        for p in glob_files(h, "boot"):
            if os.path.basename(p).startswith("config-"):
                yield "host-" + h, read(h, p)
        data = read(h, os.path.join("proc", "config.gz"))
        if data is not None:
            yield "host-" + h + "-config.gz", gzip.decompress(data)
    yield "edge-values", (b"CONFIG_VFIO=y\nCONFIG_VFIO_PCI=m\n# CONFIG_VFIO_VIRQFD is not set\nCONFIG_KVM=n\n"
                          b"CONFIG_NR_CPUS=64\nCONFIG_CMDLINE=\"x\"\nCONFIG_AMD_IOMMU=\nCONFIG_INTEL_IOMMU")
    yield "edge-crlf", b"CONFIG_VFIO=y\r\nCONFIG_VFIO_PCI=m\r\n"


def kconfig_gz():
    yield from host_seeds(os.path.join("proc", "config.gz"))()
    text = b"CONFIG_VFIO=y\nCONFIG_VFIO_PCI=m\nCONFIG_INTEL_IOMMU=y\n"
    yield "edge-small", gz(text)
    # Decompresses far beyond the first guess (8 x the input): the buffer
    # grows. (The 16 MiB limit is the unit tests' job: a seed that inflates
    # that far would slow every mutation of it.)
    yield "edge-grows", gz(text + b"# padding\n" * 10000)
    yield "edge-truncated", gz(text)[:-12]
    yield "edge-two-members", gz(text) + gz(b"CONFIG_KVM=y\n")
    yield "edge-bad-crc", gz(text)[:-8] + b"\0\0\0\0" + gz(text)[-4:]
    yield "edge-not-gzip", text


def pci_device():
    attrs = ["vendor", "device", "class", "revision", "subsystem_vendor", "subsystem_device", "config",
             "driver_override", "numa_node", "boot_vga", "d3cold_allowed", "reset_method", "sriov_totalvfs",
             "sriov_numvfs"]
    links = ["driver", "iommu_group", "physfn"]
    seen = set()
    for h in hosts():
        d = os.path.join(HOSTS, h, "sys", "bus", "pci", "devices")
        if not os.path.isdir(d):
            continue
        for a in sorted(os.listdir(d)):
            dev = os.path.join(d, a)
            parts = []
            for attr in attrs:
                p = os.path.join(dev, attr)
                if os.path.isfile(p):
                    with open(p, "rb") as f:
                        data = f.read()
                    # Only the first 64 bytes of config space are read.
                    parts.append(data[:64] if attr == "config" else data)
                else:
                    parts.append(ABSENT)
            for link in links:
                p = os.path.join(dev, link)
                parts.append(os.readlink(p).encode() if os.path.islink(p) else ABSENT)
            seed = SEP.join(parts)
            # Many functions look alike; one seed per distinct shape.
            key = SEP.join(parts[:3] + parts[7:])
            if key in seen:
                continue
            seen.add(key)
            yield "host-%s-%s" % (h, a.replace(":", "_")), seed
    config = bytearray(64)
    struct.pack_into("<HH", config, 0, 0x10de, 0x2684)
    config[8:12] = bytes([0xa1, 0x00, 0x00, 0x03])
    struct.pack_into("<HH", config, 0x2c, 0x1043, 0x889a)
    only_config = [ABSENT] * 6 + [bytes(config)] + [ABSENT] * (len(attrs) - 7) + [ABSENT] * len(links)
    yield "edge-config-only", SEP.join(only_config)
    bridge = bytearray(config)
    bridge[0x0e] = 0x01
    only_config[6] = bytes(bridge)
    yield "edge-config-bridge", SEP.join(only_config)
    only_config[6] = bytes(config[:10])
    yield "edge-config-short", SEP.join(only_config)
    yield "edge-vfio", SEP.join([b"0x10de\n", b"0x2684\n", b"0x030000\n", b"0xa1\n", b"0x1043\n", b"0x889a\n",
                                 ABSENT, b"vfio-pci\n", b"-1\n", b"0\n", b"1\n", b"flr bus\n", b"0\n", b"0\n",
                                 b"../../../bus/pci/drivers/vfio-pci", b"../../../kernel/iommu_groups/16",
                                 b"../0000:00:01.0"])
    yield "edge-out-of-range", SEP.join([b"0x110de\n", b"-1\n", b"0x1000000\n", b"256\n", b"0xffffffffffffffffff\n",
                                         b"\n", ABSENT, b"(null)\n", b"99999999999999999999\n", b"1\n", b"x\n",
                                         b"\t\n", b"-5\n", b"4294967296\n", b"/", b"../kernel/iommu_groups/-1",
                                         b"physfn"])


def bus_string(s):
    return bytes([len(s)]) + s


def bus_options():
    # Byte 0: table (odd: Bind's group/force/dry-run, even: GetReadiness's
    # device); then per entry: key, type byte, value (fuzz-bus-options.c).
    b, s, u, o, as_, ay, dict_, v, bs = range(9)
    yield "edge-bind-group", b"\x01" + bus_string(b"group") + bytes([b, 1])
    yield "edge-bind-all", (b"\x01" + bus_string(b"group") + bytes([b, 1]) + bus_string(b"force") + bytes([b, 0])
                            + bus_string(b"dry-run") + bytes([b, 1]))
    yield "edge-bind-twice", b"\x01" + (bus_string(b"force") + bytes([b, 1])) * 2
    yield "edge-bind-string", b"\x01" + bus_string(b"group") + bytes([s]) + bus_string(b"true")
    yield "edge-bind-unknown", b"\x01" + bus_string(b"device") + bytes([s]) + bus_string(b"0000:01:00.0")
    yield "edge-bind-nested", (b"\x01" + bus_string(b"group") + bytes([dict_, 1]) + bus_string(b"group")
                               + bytes([b, 1]))
    yield "edge-bind-variant", b"\x01" + bus_string(b"force") + bytes([v, b, 1])
    yield "edge-readiness-device", b"\x00" + bus_string(b"device") + bytes([s]) + bus_string(b"0000:01:00.0")
    yield "edge-readiness-bool", b"\x00" + bus_string(b"device") + bytes([b, 1])
    yield "edge-readiness-array", b"\x00" + bus_string(b"device") + bytes([as_, 2]) + bus_string(b"a") + bus_string(b"b")
    yield "edge-readiness-struct", b"\x00" + bus_string(b"device") + bytes([bs]) + bus_string(b"x") + b"\x01"
    yield "edge-readiness-other", b"\x00" + bus_string(b"device") + bytes([u, 7]) + bus_string(b"") + bytes([o, ay])
    yield "edge-empty", b""


def object_path():
    def encode(address):
        # sd_bus_path_encode: every byte but [A-Za-z0-9], and a leading
        # digit, as _xx (lowercase hex).
        return "".join(c if c.isalpha() or (i > 0 and c.isdigit()) else "_%02x" % ord(c)
                       for i, c in enumerate(address))
    for h in hosts():
        d = os.path.join(HOSTS, h, "sys", "bus", "pci", "devices")
        if os.path.isdir(d):
            for a in sorted(os.listdir(d))[:2]:
                yield "host-%s-%s" % (h, a.replace(":", "_")), ("/org/vfiohost/device/" + encode(a)).encode()
        d = os.path.join(HOSTS, h, "sys", "kernel", "iommu_groups")
        if os.path.isdir(d):
            for g in sorted(os.listdir(d))[:2]:
                yield "host-%s-group-%s" % (h, g), ("/org/vfiohost/group/" + g).encode()
    for name, p in [
        ("group-leading-zero", b"/org/vfiohost/group/007"), ("group-zero", b"/org/vfiohost/group/0"),
        ("group-max", b"/org/vfiohost/group/2147483647"), ("group-over", b"/org/vfiohost/group/2147483648"),
        ("group-sign", b"/org/vfiohost/group/+7"), ("group-trailing", b"/org/vfiohost/group/7/"),
        ("device-raw", b"/org/vfiohost/device/0000:01:00.0"), ("device-prefix", b"/org/vfiohost/device"),
        ("device-bad-escape", b"/org/vfiohost/device/_3"), ("device-child", b"/org/vfiohost/device/_30000_3a01/x"),
        ("manager", b"/org/vfiohost"),
    ]:
        yield "edge-" + name, p


def nvidia_information():
    for h in hosts():
        d = os.path.join("proc", "driver", "nvidia", "gpus")
        if os.path.isdir(os.path.join(HOSTS, h, d)):
            for gpu in sorted(os.listdir(os.path.join(HOSTS, h, d))):
                data = read(h, os.path.join(d, gpu, "information"))
                if data is not None:
                    yield "host-%s-%s" % (h, gpu.replace(":", "_")), data
    yield "edge-minor-big", b"Device Minor: \t 4294967295\n"
    yield "edge-minor-negative", b"Device Minor: -1\n"
    yield "edge-minor-missing", b"Device Minor:\n"


def udev_rules():
    for h in hosts():
        for d in ("etc/udev/rules.d", "lib/udev/rules.d"):
            for p in glob_files(h, d):
                yield "host-%s-%s" % (h, os.path.basename(p)), read(h, p)


def vulnerabilities():
    seen = set()
    for h in hosts():
        for p in glob_files(h, "sys/devices/system/cpu/vulnerabilities"):
            data = read(h, p)
            if data not in seen:
                seen.add(data)
                yield "host-%s-%s" % (h, os.path.basename(p)), data


def single_values(*values):
    def gen():
        for name, v in values:
            yield "edge-" + name, v
    return gen


def combine(*gens):
    def gen():
        for g in gens:
            yield from g()
    return gen


def dsn():
    """Config spaces: the fixtures' 256 bytes, and 4096 with a capability
    list (AER then DSN), a DSN first, a loop, and one cut short."""
    for h in hosts():
        for cfg in sorted(glob.glob(os.path.join(HOSTS, h, "sys/bus/pci/devices/*/config")))[:2]:
            with open(cfg, "rb") as f:
                yield "host-%s-%s" % (h, os.path.basename(os.path.dirname(cfg)).replace(":", "_")), f.read()
    base = bytearray(4096)
    base[0x100:0x104] = struct.pack("<I", 0x0001 | 2 << 16 | 0x148 << 20)
    base[0x148:0x154] = struct.pack("<IQ", 0x0003 | 1 << 16, 0x0123456789ABCDEF)
    yield "edge-aer-then-dsn", bytes(base)
    first = bytearray(4096)
    first[0x100:0x10c] = struct.pack("<IQ", 0x0003 | 1 << 16, 42)
    yield "edge-dsn-first", bytes(first)
    loop = bytearray(4096)
    loop[0x100:0x104] = struct.pack("<I", 0x0001 | 0x100 << 20)
    yield "edge-loop", bytes(loop)
    yield "edge-cut", bytes(base[:0x150])


TARGETS = {
    "address": address,
    "journal": journal,
    "assignments": assignments,
    "dsn": dsn,
    "kconfig": kconfig,
    "kconfig-gz": kconfig_gz,
    "mounts": combine(host_seeds("proc/mounts"), single_values(
        ("mapper", b"/dev/mapper/vg-root / ext4 rw 0 0\n"), ("dot-dot", b"/dev/../sys/x / ext4 rw 0 0\n"),
        ("dev-only", b"/dev/ / ext4 rw 0 0\n/dev /x y\n"), ("long", b"/dev/" + b"n" * 5000 + b" /x ext4\n"))),
    "route": combine(host_seeds("proc/net/route"), single_values(
        ("default-down", b"Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                         b"enp6s0\t00000000\t0101A8C0\t0002\t0\t0\t100\t00000000\n"),
        ("iface-dot-dot", b"..\t00000000\t0\t1\t0\t0\t0\t00000000\n.\t00000000\t0\t1\t0\t0\t0\t00000000\n"),
        ("lower", b"lower_enp6s0\t00000000\t0\t1\t0\t0\t0\t00000000\n"))),
    "ipv6-route": combine(host_seeds("proc/net/ipv6_route"), single_values(
        ("default", b"00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                    b"fe800000000000000000000000000001 00000064 00000001 00000000 00450003 enp6s0\n"),)),
    "fb": combine(host_seeds("proc/fb"), single_values(
        ("firmware", b"0 EFI VGA\n"), ("index-big", b"4294967296 x\n"), ("no-name", b"0 \n1\n"))),
    "iomem": combine(host_seeds("proc/iomem", head), single_values(
        ("bootfb", b"80000000-8fffffff : PCI Bus 0000:00\n  80000000-8fffffff : 0000:00:02.0\n"
                   b"    80000000-807fffff : BOOTFB\n"),)),
    "setup-specs": combine(host_seeds("sys/devices/system/cpu/possible"), single_values(
        ("list", b"2-7,10"), ("unsorted", b"10,3,2-5"), ("max", b"8191"), ("over", b"8192"),
        ("reversed", b"7-2"), ("empty-item", b"1,,2"), ("hugepages-1g", b"1G:16"), ("hugepages-2m", b"2m:1024"),
        ("hugepages-zero", b"1G:0"), ("hugepages-big", b"2M:99999999999999999999"))),
    "pci-device": pci_device,
    "nvidia-information": nvidia_information,
    "object-path": object_path,
    "bus-options": bus_options,
    "readiness-cpuinfo": combine(host_seeds("proc/cpuinfo", first_processors), single_values(
        ("flags-only", b"flags\t\t: vmx hypervisor\n"), ("vendor-amd", b"vendor_id\t: AuthenticAMD\nflags\t: svm\n"),
        ("no-colon", b"flags vmx\nvendor_id GenuineIntel\n"), ("arm", b"processor\t: 0\nFeatures\t: fp asimd\n"))),
    "readiness-cmdline": combine(host_seeds("proc/cmdline"), single_values(
        ("iommu-off", b"intel_iommu=off iommu=off amd_iommu=off\n"),
        ("acs", b"pcie_acs_override=downstream,multifunction iommu=pt mitigations=off nopti pti=off\n"),
        ("unsafe", b"vfio_iommu_type1.allow_unsafe_interrupts=1 intel_iommu=on,sm_on intel_iommu=\n"),
        ("empty-values", b"= intel_iommu iommu= pcie_acs_override=\n"))),
    "readiness-modules": host_seeds("proc/modules"),
    "readiness-meminfo": combine(host_seeds("proc/meminfo"), single_values(
        ("hugepages", b"HugePages_Total:    1024\nHugePages_Free:     1000\nHugepagesize:    2048 kB\n"),
        ("overflow", b"HugePages_Total: 99999999999999999999999\nHugepagesize:\n"))),
    "readiness-interrupts": host_seeds("proc/interrupts", head),
    "readiness-osrelease": combine(host_seeds("proc/sys/kernel/osrelease"), single_values(
        ("old", b"4.19.0-26-amd64\n"), ("6.1", b"6.1.0\n"), ("dot-dot", b"..\n"), ("slash", b"6.1/../x\n"),
        ("huge", b"99999999999.99999999999\n"), ("empty", b"\n"))),
    "readiness-etc-group": combine(host_seeds("etc/group"), single_values(
        ("no-password", b"kvm::993:\n"), ("long-name", b"k" * 300 + b":x:993:\n"))),
    "readiness-modules-dep": release_file("modules.dep"),
    "readiness-modules-builtin": release_file("modules.builtin"),
    "readiness-cgroup-controllers": host_seeds("sys/fs/cgroup/cgroup.controllers"),
    "readiness-vulnerability": vulnerabilities,
    "readiness-kvm-nested": combine(host_seeds("sys/module/kvm_intel/parameters/nested"),
                                    host_seeds("sys/module/kvm_amd/parameters/nested"),
                                    single_values(("one", b"1\n"), ("n", b"N\n"))),
    "readiness-unsafe-interrupts": combine(
        host_seeds("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"),
        single_values(("y", b"Y\n"), ("n", b"N\n"))),
    "readiness-udev-rules": udev_rules,
    "readiness-msr": combine(host_seeds("dev/cpu/0/msr"), single_values(
        # each MSR at index * 8 in a regular file (docs/host-files.md)
        ("locked-off", b"\0" * (0x3a * 8) + struct.pack("<Q", 1)), ("short", b"\0" * (0x3a * 8 + 4)))),
}


def main():
    names = sys.argv[1:] or sorted(TARGETS)
    for target in names:
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for e in os.listdir(d):
            if e.startswith(("host-", "edge-")):
                os.unlink(os.path.join(d, e))
        digests = set()
        n = 0
        for name, data in TARGETS[target]():
            digest = hashlib.sha1(data).digest()
            if digest in digests:
                continue
            digests.add(digest)
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            n += 1
        print("%-30s %3d seeds" % (target, n))


if __name__ == "__main__":
    main()
