#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The bench-gen test: gen-host.py writes a host that lspci and the
vfiohostd model both read as gen-host.json says (docs/performance.md).

    check-gen-host.py GEN_HOST_PY BENCH_MODEL_COUNT WORKDIR [N]

Generates N (100) functions in WORKDIR/host-N, then checks:
  - gen-host.json: n_functions is N, n_pfs + n_vfs fit in it;
  - a second run writes the same tree (determinism), compared file by
    file and link by link;
  - lspci -nnk -A linux-sysfs -O sysfs.path=TREE/sys/bus/pci lists exactly
    N functions, each address of sys/bus/pci/devices once, every name
    resolved (no "Device 154c" style fallbacks);
  - bench-model-count (the model, vh_host_load) loads N functions, the
    groups, PFs and VFs gen-host.json says, each VF linked both ways, all
    named and all in a loaded group.
Prints what failed and exits 1; exits 0 when all hold.
"""

import json
import os
import re
import shutil
import subprocess
import sys

failures = []


def check(ok, what):
    print(('ok     ' if ok else 'FAILED ') + what)
    if not ok:
        failures.append(what)


def generate(gen, n, out):
    if os.path.lexists(out):
        shutil.rmtree(out)
    p = subprocess.run([sys.executable, gen, str(n), out], capture_output=True, text=True)
    check(p.returncode == 0, 'gen-host.py %d exits 0 (%s)' % (n, p.stderr.strip() or 'no message'))
    check(p.stdout == '' and p.stderr == '', 'gen-host.py prints nothing')
    return p.returncode == 0


def snapshot(root):
    """Every path beneath root with its link target or content."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ('link', os.readlink(p))
            elif os.path.isfile(p):
                with open(p, 'rb') as fh:
                    out[rel] = ('file', fh.read())
            else:
                out[rel] = ('dir', None)
    return out


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    gen, model_count, work = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) == 5 else 100
    if not shutil.which('lspci'):
        print('lspci not found (pciutils): skipped')
        return 77
    os.makedirs(work, exist_ok=True)
    tree = os.path.join(work, 'host-%d' % n)
    again = os.path.join(work, 'host-%d-again' % n)

    if not generate(gen, n, tree):
        return 1
    with open(os.path.join(tree, 'gen-host.json')) as fh:
        expected = json.load(fh)
    check(expected['n_functions'] == n, 'gen-host.json: n_functions %d == %d' % (expected['n_functions'], n))
    check(expected['n_pfs'] + expected['n_vfs'] < n and expected['n_vfs'] > expected['n_pfs'],
          'gen-host.json: %d PFs and %d VFs among %d functions' % (expected['n_pfs'], expected['n_vfs'], n))

    if generate(gen, n, again):
        check(snapshot(tree) == snapshot(again), 'the same N writes the same tree')
        shutil.rmtree(again)

    devices = sorted(os.listdir(os.path.join(tree, 'sys', 'bus', 'pci', 'devices')))
    check(len(devices) == n, 'sys/bus/pci/devices holds %d functions' % len(devices))

    # lspci, exactly as the benchmark runs it. -nn prints an unknown id as
    # "Device [8086:0ffe]", without -nn as "Device 0ffe". Its stderr may
    # carry libkmod's complaint about this machine's /lib/modules, which
    # is not the tree's: not checked.
    sysfs = os.path.join(tree, 'sys', 'bus', 'pci')
    p = subprocess.run(['lspci', '-nnk', '-A', 'linux-sysfs', '-O', 'sysfs.path=' + sysfs],
                       capture_output=True, text=True)
    check(p.returncode == 0, 'lspci exits 0')
    heads = [line for line in p.stdout.splitlines() if line and not line.startswith('\t')]
    check(len(heads) == n, 'lspci lists %d functions' % len(heads))
    unknown = [line for line in p.stdout.splitlines() if re.search(r'\b(Device|Vendor) ([0-9a-f]{4}\b|\[)', line)]
    check(not unknown, 'lspci resolves every name%s' % (': ' + unknown[0].strip() if unknown else ''))
    p = subprocess.run(['lspci', '-D', '-n', '-A', 'linux-sysfs', '-O', 'sysfs.path=' + sysfs],
                       capture_output=True, text=True)
    listed = sorted(line.split()[0] for line in p.stdout.splitlines() if line)
    check(listed == devices, 'lspci -D lists the addresses of sys/bus/pci/devices, each once')

    # The model.
    p = subprocess.run([model_count, tree], capture_output=True, text=True)
    check(p.returncode == 0, 'bench-model-count exits 0 (%s)' % p.stderr.strip().replace('\n', ' | '))
    got = dict((k, int(v)) for k, v in (line.split() for line in p.stdout.splitlines()))
    for key, want in (('functions', n), ('groups', expected['n_groups']), ('pfs', expected['n_pfs']),
                      ('vfs', expected['n_vfs']), ('linked_vfs', expected['n_vfs']), ('unnamed', 0),
                      ('grouped', n)):
        check(got.get(key) == want, 'model: %s %s == %d' % (key, got.get(key), want))

    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
