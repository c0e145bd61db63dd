#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every verb and every long option that `vfiohostctl --help` prints is in
vfiohostctl(1): verbs as a bold entry of VERBS, options in bold anywhere,
so the page cannot fall behind the code.

Usage: check-ctl-man.py VFIOHOSTCTL vfiohostctl.1
"""

import re
import subprocess
import sys


def main():
    ctl, page = sys.argv[1:3]
    help_text = subprocess.run([ctl, '--help'], stdout=subprocess.PIPE, check=True,
                               env={'PATH': '/usr/bin:/bin', 'LC_ALL': 'C'}).stdout.decode()
    with open(page, encoding='utf-8') as f:
        roff = f.read().replace('\\-', '-').replace('\\&', '')

    verbs = []
    in_commands = False
    for line in help_text.split('\n'):
        if line.startswith('Commands:'):
            in_commands = True
            continue
        if in_commands:
            m = re.match(r'  ([a-z][a-z-]*)\b', line)
            if not m:
                break
            verbs.append(m.group(1))
    options = sorted(set(re.findall(r'(?<![\w-])(--[a-z][a-z-]*)', help_text)))

    bold = set(re.findall(r'\\fB([^\\]+)\\fR', roff))
    verb_section = roff.split('.SH VERBS', 1)[-1].split('.SH ', 1)[0]
    verb_heads = set(re.findall(r'^\\fB([a-z-]+)\\fR', verb_section, re.M))

    n = 0
    failed = False
    for verb in verbs:
        n += 1
        ok = verb in verb_heads
        failed |= not ok
        print('%s %d - verb %s in VERBS' % ('ok' if ok else 'not ok', n, verb))
    for option in options:
        n += 1
        ok = option in bold or any(b.startswith(option + '=') for b in bold)
        failed |= not ok
        print('%s %d - option %s' % ('ok' if ok else 'not ok', n, option))
    if not verbs or not options:
        print('# found no verbs or no options in --help: its layout changed?')
        failed = True
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
