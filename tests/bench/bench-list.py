#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Listing a synthetic SR-IOV-heavy host against anchors measured in the
same run (issue 14, docs/performance.md). A benchmark: it prints figures
and fails only when something does not run.

    bench-list.py --build BUILDDIR --source SRCDIR [--rounds 7] N...

For each N: the host of gen-host.py (cached in BUILDDIR/tests/bench/hosts,
written again when gen-host.py changes), a private system bus with the
project's policy (dbus/org.vfiohost.conf, as .ci/lib.sh does), and
  - with vfiohostd --root TREE --read-only --no-idle-exit running and
    listed once (warm), ROUNDS rounds of: vfiohostctl --json list,
    lspci -nnk -A linux-sysfs -O sysfs.path=TREE/sys/bus/pci, and
    bench-raw-reader TREE, each once a round, the order reversed every
    other round;
  - the daemon's VmRSS/VmHWM after its start and after 100 and 1,000
    listings, and the sizes of the GetManagedObjects and ListDevices
    replies;
  - with the daemon stopped, ROUNDS rounds of a cold start
    (bench-cold-start: exec to the name owned and to the first
    ListDevices reply, then one GetManagedObjects) and bench-raw-reader,
    alternating too;
  - CALL_ROUNDS rounds, alternating, of bench-calls (CALLS synchronous
    Properties.Get of Device1.Address and Manager1.GetDevice) against
    vfiohostd and against bench-noop-service, each started for its turn
    under the name org.vfiohost, and the no-op's VmRSS.
Every figure is a whole process's wall time, spawn included, for each
contender alike. Then one table, a line per N: medians and ratios.

In Python rather than sh: the interleaved rounds, medians, process
handling and /proc reads are plain here, and the timed work is in the
programs it starts, not in the runner.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

RSS_AFTER = (100, 1000)       # listings after which the daemon's memory is read
CALL_ROUNDS = 3
CALLS = 2000


class Failure(Exception):
    pass


def run(argv, env=None, what=None):
    """Runs argv to its end; returns its wall time (ms) and stdout."""
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    ms = (time.monotonic() - t0) * 1e3
    if p.returncode != 0:
        raise Failure('%s exited %d: %s' % (what or argv[0], p.returncode,
                                            p.stderr.decode(errors='replace').strip()[-2000:]))
    return ms, p.stdout


def host_tree(args, n):
    """The cached tree of N, written again when gen-host.py changed."""
    gen = os.path.join(args.source, 'tests', 'bench', 'gen-host.py')
    with open(gen, 'rb') as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    hosts = os.path.join(args.build, 'tests', 'bench', 'hosts')
    tree, stamp = os.path.join(hosts, 'host-%d' % n), os.path.join(hosts, 'host-%d.stamp' % n)
    try:
        with open(stamp) as fh:
            if fh.read().strip() == digest and os.path.isfile(os.path.join(tree, 'gen-host.json')):
                return tree, None
    except FileNotFoundError:
        pass
    os.makedirs(hosts, exist_ok=True)
    ms, _ = run([sys.executable, gen, str(n), tree], what='gen-host.py %d' % n)
    with open(stamp, 'w') as fh:
        fh.write(digest + '\n')
    return tree, ms


def start_bus(args, rundir):
    """dbus-daemon with the project's policy, as .ci/demo gets it: .ci/lib.sh's
    start_private_bus writes the configuration. Returns its pid and address."""
    script = '. "$SRCDIR/.ci/lib.sh" && start_private_bus "$1" && echo "$BUS_PID $DBUS_SYSTEM_BUS_ADDRESS"'
    p = subprocess.run(['sh', '-c', script, 'sh', rundir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, SRCDIR=args.source))
    if p.returncode != 0:
        raise Failure('dbus-daemon did not start: ' + p.stderr.decode(errors='replace').strip())
    pid, address = p.stdout.decode().split()
    return int(pid), address


def stop_bus(pid):
    """SIGTERM to dbus-daemon (forked, not our child), then waits until it
    has gone: it removes its socket as it exits, which would race the
    removal of the run directory."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


def memory(pid):
    """VmRSS and VmHWM of pid, kB."""
    out = {}
    with open('/proc/%d/status' % pid) as fh:
        for line in fh:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                out[key] = int(value.split()[0])
    return out['VmRSS'], out['VmHWM']


def median(xs):
    return statistics.median(xs)


def wait_owned(env, proc, what):
    """Until org.vfiohost has an owner, proc still running."""
    deadline = time.monotonic() + 120
    while subprocess.run(['busctl', '--address=' + env['DBUS_SYSTEM_BUS_ADDRESS'], 'status', 'org.vfiohost'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        if proc.poll() is not None:
            raise Failure('%s exited %d before it took org.vfiohost' % (what, proc.returncode))
        if time.monotonic() > deadline:
            raise Failure('%s did not take org.vfiohost within 120 s' % what)
        time.sleep(0.02)


def calls(args, env, daemon_argv, samples, result):
    """Calls/s of vfiohostd and of the no-op service, the same members at the
    same paths, each started under org.vfiohost for its turn, alternating."""
    path = '/org/vfiohost/device/_30000_3a00_3a00_2e0'
    members = {
        'get': [path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', 'org.vfiohost.Device1', 'Address'],
        'getdevice': ['/org/vfiohost', 'org.vfiohost.Manager1', 'GetDevice', 's', '0000:00:00.0'],
    }
    services = [('', daemon_argv), ('-noop', [args.noop])]
    for r in range(CALL_ROUNDS):
        for suffix, argv in (services if r % 2 == 0 else services[::-1]):
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            try:
                wait_owned(env, proc, os.path.basename(argv[0]))
                for key, call in members.items():
                    _, out = run([args.calls, '-n', str(CALLS), '-r', '1', 'org.vfiohost'] + call, env, 'bench-calls')
                    fields = out.decode().split()
                    samples[key + suffix].append(float(fields[fields.index('calls_per_s') + 1]))
                if suffix:
                    result['rss_noop'] = memory(proc.pid)
            finally:
                proc.terminate()
                proc.wait()


def bench_one(args, env, n):
    tree, gen_ms = host_tree(args, n)
    daemon_argv = [args.vfiohostd, '--root', tree, '--read-only', '--no-idle-exit']
    list_argv = [args.vfiohostctl, '--json', 'list']
    lspci_argv = ['lspci', '-nnk', '-A', 'linux-sysfs', '-O', 'sysfs.path=' + os.path.join(tree, 'sys', 'bus', 'pci')]
    raw_argv = [args.raw, tree]
    samples = {k: [] for k in ('list', 'lspci', 'raw', 'cold', 'raw-cold', 'owned', 'gmo',
                               'get', 'get-noop', 'getdevice', 'getdevice-noop')}
    result = {'n': n, 'gen_ms': gen_ms}

    # Warm: the daemon up, answering.
    log = open(os.path.join(args.rundir, 'vfiohostd-%d.log' % n), 'wb')
    daemon = subprocess.Popen(daemon_argv, stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if daemon.poll() is not None:
                # The bus drops a connection whose message passes its
                # max_message_size: then the daemon goes at the first listing.
                log.flush()
                with open(log.name, errors='replace') as fh:
                    tail = fh.read()[-1000:].strip()
                raise Failure('vfiohostd exited %d before it answered a listing; its log: %s'
                              % (daemon.returncode, tail))
            p = subprocess.run(list_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            if p.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise Failure('vfiohostd did not answer within 120 s')
            time.sleep(0.05)
        listings = 1
        result['rss_start'] = memory(daemon.pid)

        # Figures of the whole host, or none: every contender sees N.
        _, out = run(list_argv, env, 'vfiohostctl --json list')
        listings += 1
        result['list_bytes'] = len(out)
        if len(json.loads(out)) != n:
            raise Failure('vfiohostctl --json list lists %d functions, not %d' % (len(json.loads(out)), n))
        _, out = run(raw_argv, env, 'bench-raw-reader')
        if out.split()[:2] != [b'functions', str(n).encode()]:
            raise Failure('bench-raw-reader read %s, not %d functions' % (out.decode().strip(), n))
        _, out = run(['busctl', '--address=' + env['DBUS_SYSTEM_BUS_ADDRESS'], '--json=short', 'call', 'org.vfiohost',
                      '/org/vfiohost', 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects'], env, 'busctl')
        result['gmo_bytes'] = len(out)
        _, out = run(['busctl', '--address=' + env['DBUS_SYSTEM_BUS_ADDRESS'], '--json=short', 'call', 'org.vfiohost',
                      '/org/vfiohost', 'org.vfiohost.Manager1', 'ListDevices', 'as', '0'], env, 'busctl')
        result['ld_bytes'] = len(out)

        contenders = [('list', list_argv), ('lspci', lspci_argv), ('raw', raw_argv)]
        for r in range(args.rounds):
            for key, argv in (contenders if r % 2 == 0 else contenders[::-1]):
                ms, _ = run(argv, env, key)
                samples[key].append(ms)
        listings += args.rounds
        for target in RSS_AFTER:
            while listings < target:
                run(list_argv, env, 'vfiohostctl --json list')
                listings += 1
            result['rss_%d' % target] = memory(daemon.pid)
    finally:
        daemon.terminate()
        daemon.wait()
        log.close()
    if daemon.returncode != 0:
        raise Failure('vfiohostd exited %d on SIGTERM (see %s)' % (daemon.returncode, log.name))

    # Cold: exec to the first GetManagedObjects reply, against the raw read.
    contenders = [('cold', [args.cold] + daemon_argv), ('raw-cold', raw_argv)]
    for r in range(args.rounds):
        for key, argv in (contenders if r % 2 == 0 else contenders[::-1]):
            ms, out = run(argv, env, key)
            if key == 'cold':
                fields = out.decode().split()
                ms = float(fields[fields.index('cold_ms') + 1])
                samples['owned'].append(float(fields[fields.index('owned_ms') + 1]))
                gmo = float(fields[fields.index('gmo_ms') + 1])
                if gmo >= 0:
                    samples['gmo'].append(gmo)
            samples[key].append(ms)

    calls(args, env, daemon_argv, samples, result)

    result.update({k: median(v) if v else None for k, v in samples.items()})
    result['samples'] = samples
    return result


def report_details(r, rounds):
    print('N=%d, per contender (ms, %d rounds each, whole-process wall time):' % (r['n'], rounds))
    for key, label in (('list', 'vfiohostctl --json list (warm)'), ('lspci', 'lspci -nnk'),
                       ('raw', 'bench-raw-reader'), ('cold', 'cold start (exec -> reply)'),
                       ('raw-cold', 'bench-raw-reader (cold rounds)'), ('owned', 'cold start: exec -> name owned'),
                       ('gmo', 'GetManagedObjects after it'),
                       ('get', 'Properties.Get calls/s, vfiohostd'), ('get-noop', 'Properties.Get calls/s, no-op'),
                       ('getdevice', 'GetDevice calls/s, vfiohostd'),
                       ('getdevice-noop', 'GetDevice calls/s, no-op')):
        xs = sorted(r['samples'][key])
        if not xs:
            continue
        print('  N=%-6d %-32s min %9.1f  median %9.1f  max %9.1f' % (r['n'], label, xs[0], median(xs), xs[-1]))
    sys.stdout.flush()


def report(results, rounds):
    print()
    for r in results:
        if 'error' in r:
            print('N=%-6d FAILED: %s' % (r['n'], r['error']))
    print()
    results = [r for r in results if 'error' not in r]
    if not results:
        return
    # The per-contender figures were printed as each size finished.
    print('Medians, and vfiohost against its anchor (lower is better):')
    for r in results:
        print('N=%-6d list warm %.1f ms  lspci %.1f ms  %.2fx  raw %.1f ms  %.2fx  cold start %.0f ms  raw %.1f ms  %.1fx'
              % (r['n'], r['list'], r['lspci'], r['list'] / r['lspci'], r['raw'], r['list'] / r['raw'],
                 r['cold'], r['raw-cold'], r['cold'] / r['raw-cold']))
    print()
    print('Cold start split, and calls/s against the no-op sd-bus service (higher is better):')
    for r in results:
        print('N=%-6d name owned %.0f ms, first ListDevices reply %.0f ms, a GetManagedObjects then %s ms'
              % (r['n'], r['owned'], r['cold'], '%.0f' % r['gmo'] if r['gmo'] is not None else 'failed'))
        print('         Properties.Get %.0f/s  no-op %.0f/s  %.2fx   GetDevice %.0f/s  no-op %.0f/s  %.2fx'
              % (r['get'], r['get-noop'], r['get'] / r['get-noop'],
                 r['getdevice'], r['getdevice-noop'], r['getdevice'] / r['getdevice-noop']))
    print()
    print('Sizes and memory:')
    for r in results:
        print('N=%-6d GetManagedObjects reply %d B, ListDevices reply %d B (busctl --json=short output); '
              'vfiohostctl --json list %d B'
              % (r['n'], r['gmo_bytes'], r['ld_bytes'], r['list_bytes']))
        print('         vfiohostd VmRSS %d kB (VmHWM %d kB) after start, %d kB (VmHWM %d kB) after %d listings, '
              '%d kB (VmHWM %d kB) after %d; no-op service %d kB'
              % (r['rss_start'] + r['rss_%d' % RSS_AFTER[0]] + (RSS_AFTER[0],) + r['rss_%d' % RSS_AFTER[1]] +
                 (RSS_AFTER[1], r['rss_noop'][0])))
        if r['gen_ms'] is not None:
            print('         (tree written by gen-host.py in %.1f s)' % (r['gen_ms'] / 1e3))


def main():
    ap = argparse.ArgumentParser(description='vfiohostctl list against lspci and a raw reader')
    ap.add_argument('--build', required=True, help='the meson build directory')
    ap.add_argument('--source', required=True, help='the source directory')
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('sizes', nargs='+', type=int, metavar='N')
    args = ap.parse_args()
    # Absolute: bus.conf's includedir is read relative to bus.conf.
    args.build, args.source = os.path.abspath(args.build), os.path.abspath(args.source)
    args.vfiohostd = os.path.join(args.build, 'service', 'vfiohostd')
    args.vfiohostctl = os.path.join(args.build, 'client', 'vfiohostctl')
    args.raw = os.path.join(args.build, 'tests', 'bench', 'bench-raw-reader')
    args.cold = os.path.join(args.build, 'tests', 'bench', 'bench-cold-start')
    args.noop = os.path.join(args.build, 'tests', 'bench', 'bench-noop-service')
    args.calls = os.path.join(args.build, 'tests', 'bench', 'bench-calls')
    for tool in ('lspci', 'busctl', 'dbus-daemon'):
        if not shutil.which(tool):
            print('%s not found: cannot run' % tool, file=sys.stderr)
            return 1

    args.rundir = tempfile.mkdtemp(prefix='bench-list-', dir=os.path.join(args.build, 'tests', 'bench'))
    bus = None
    results = []
    try:
        bus, address = start_bus(args, args.rundir)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
        # A size that fails is reported and the others still run.
        for n in args.sizes:
            try:
                results.append(bench_one(args, env, n))
                report_details(results[-1], args.rounds)
            except Failure as e:
                print('bench-list: N=%d: %s' % (n, e), file=sys.stderr, flush=True)
                results.append({'n': n, 'error': str(e)})
    except Failure as e:
        print('bench-list: %s' % e, file=sys.stderr)
        return 1
    finally:
        if bus:
            stop_bus(bus)
    report(results, args.rounds)
    if any('error' in r for r in results):
        print('bench-list: logs kept in %s' % args.rundir, file=sys.stderr)
        return 1
    shutil.rmtree(args.rundir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
