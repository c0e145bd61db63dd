#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Renders scdoc source to roff, and drops the paragraph macros scdoc 1.11
writes where they do nothing: after .TH, .SH and .SS, before .SH, .SS and
.RE, and twice in a row. mandoc -T lint -W warning reports each of them
("skipping paragraph macro"), and the man tests fail on any warning; a .P
that closed an indented block is moved after its .RE, where it separates
the entries of a list of options as intended. In bold text (options,
commands) "-" becomes "\\-", the ASCII minus: scdoc writes a hyphen, at
which lines break ("--no-" / "pager") and which a UTF-8 terminal shows as
U+2010, so that a copied option would not work.

Usage: scdoc-render.py SCDOC INPUT.scd OUTPUT
"""

import re
import subprocess
import sys

HEADINGS = ('.TH ', '.SH ', '.SS ')


def tidy(lines):
    out = []
    for line in lines:
        if line == '.P':
            if out and (out[-1].startswith(HEADINGS) or out[-1] == '.P'):
                continue
        elif line.startswith(('.SH ', '.SS ')) and out and out[-1] == '.P':
            out.pop()
        elif line == '.RE' and out and out[-1] == '.P':
            out[-1] = '.RE'
            line = '.P'
        out.append(line)
    # A .P moved after .RE may now stand before a heading, or last.
    result = []
    for i, line in enumerate(out):
        nxt = out[i + 1] if i + 1 < len(out) else None
        if line == '.P' and (nxt is None or nxt.startswith(('.SH ', '.SS ', '.RE')) or nxt == '.P'):
            continue
        result.append(line)
    return result


def minus_in_bold(line):
    if line.startswith(('.', "'")):
        return line
    return re.sub(r'\\fB(.*?)\\fR', lambda m: '\\fB' + m.group(1).replace('-', '\\-') + '\\fR', line)


def main():
    scdoc, source, target = sys.argv[1:4]
    with open(source, 'rb') as f:
        roff = subprocess.run([scdoc], stdin=f, stdout=subprocess.PIPE, check=True).stdout
    lines = roff.decode('utf-8').split('\n')
    with open(target, 'w', encoding='utf-8') as f:
        f.write('\n'.join(minus_in_bold(l) for l in tidy(lines)))


if __name__ == '__main__':
    main()
