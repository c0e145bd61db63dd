#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every interface, method, property and signal of dbus/org.vfiohost.xml is
in the generated org.vfiohost(7), each as the bold head of its entry, and
with its arguments or type: a generator that drops or garbles a kind of
member fails here.

Usage: check-dbus-man.py org.vfiohost.xml org.vfiohost.7
"""

import re
import sys
import xml.etree.ElementTree as ET


def text_of(roff):
    """The page's words: roff font escapes and \\& dropped, \\- as -."""
    roff = roff.replace('\\-', '-').replace('\\&', '')
    return re.sub(r'\\f[BIRP]', '', roff)


def main():
    xml, page = sys.argv[1:3]
    with open(page, encoding='utf-8') as f:
        roff = f.read()
    # Entry heads, as the generator writes them: "\fBName\fR(..." for
    # methods and signals, "\fBName\fR (type, access..." for properties.
    heads = {}
    for line in roff.split('\n'):
        m = re.match(r'\\fB([A-Za-z0-9]+)\\fR ?(\(.*\))?$', line)
        if m:
            heads.setdefault(m.group(1), []).append(text_of(m.group(2) or ''))
    sections = set(re.findall(r'^\.SS "?([^"\n]+)"?$', roff, re.M))

    n = 0
    failed = False

    def result(ok, what):
        nonlocal n, failed
        n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
        failed |= not ok

    root = ET.parse(xml).getroot()
    for iface in root.findall('interface'):
        name = iface.get('name')
        result(text_of(name) in {text_of(s) for s in sections}, 'interface %s has a section' % name)
        for member in iface:
            if member.tag not in ('method', 'property', 'signal'):
                continue
            mname = member.get('name')
            what = '%s %s.%s' % (member.tag, name, mname)
            entries = heads.get(mname, [])
            if member.tag == 'property':
                want = '(%s, ' % member.get('type')
                ok = any(e.startswith(want) for e in entries)
            else:
                args = [a for a in member.findall('arg')]
                want = [a.get('type') + ' ' + a.get('name') for a in args]
                ok = any(all(w in e for w in want) for e in entries)
            result(ok, what + ' with ' + (member.get('type') if member.tag == 'property'
                                          else 'its %d arguments' % len(member.findall('arg'))))
    print('1..%d' % n)
    return 1 if failed or n == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
