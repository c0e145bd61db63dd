#!/usr/bin/env python3
"""The translation setup (docs/translations.md), as TAP.

check-i18n.py SRCDIR PACKAGE MERGED_POLICY -- XGETTEXT_ARGS...

1. xgettext over po/POTFILES.in, run as meson's i18n.gettext runs it (the
   arguments come from po/meson.build), makes a .pot that holds the polkit
   actions' messages with their TRANSLATORS comments and the client's text,
   each listed file contributes, and an English catalog of it compiles with
   msgfmt --check (c-format directives intact).
2. Every source file that marks a string (_(" or N_(") is in POTFILES.in,
   and every file listed there exists: a newly marked file is not
   forgotten.
3. The merged policy in the build directory is well-formed XML with the
   .in's actions, descriptions and messages, each in the gettext domain
   PACKAGE, which is what polkitd looks them up in.
4. vfiohostctl sets its locale and text domain; the daemon never calls
   setlocale (its messages are D-Bus errors, not translated).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.dom.minidom

n = 0
failed = False


def ok(cond, what, diag=''):
    global n, failed
    n += 1
    if cond:
        print(f'ok {n} - {what}')
    else:
        failed = True
        print(f'not ok {n} - {what}')
        for line in str(diag).splitlines():
            print(f'# {line}')


def potfiles(srcdir):
    with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith('#')]


def marking_files(srcdir):
    """Source files that mark a literal, _(" or N_(" (_(variable) translates
    what was marked elsewhere; the header defining them aside)."""
    mark = re.compile(r'(?<![A-Za-z0-9_])N?_\("')
    found = []
    for top in ('client', 'service'):
        for root, dirs, files in os.walk(os.path.join(srcdir, top)):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(('.c', '.h')) or name == 'ctl-i18n.h':
                    continue
                path = os.path.join(root, name)
                with open(path, encoding='utf-8') as f:
                    text = f.read()
                # Comments may say _() without marking anything.
                text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
                if mark.search(text):
                    found.append(os.path.relpath(path, srcdir))
    return found


def pot_entries(text):
    """[(msgid, extracted comments, references, flags)] of a .pot."""
    entries = []
    for block in text.split('\n\n'):
        comments, refs, flags, msgid, in_msgid = [], [], [], None, False
        for line in block.splitlines():
            if line.startswith('#. '):
                comments.append(line[3:])
            elif line.startswith('#: '):
                refs += line[3:].split()
            elif line.startswith('#, '):
                flags += [f.strip() for f in line[3:].split(',')]
            elif line.startswith('msgid '):
                msgid, in_msgid = line[6:].strip()[1:-1], True
            elif line.startswith('"') and in_msgid:
                msgid += line.strip()[1:-1]
            else:
                in_msgid = False
        if msgid:
            entries.append((msgid.encode().decode('unicode_escape'), comments, refs, flags))
    return entries


def policy_actions(path):
    """{action id: (description, message, their gettext-domain attributes)}"""
    dom = xml.dom.minidom.parse(path)
    actions = {}
    for a in dom.getElementsByTagName('action'):
        def untranslated(tag):
            # The merged file adds xml:lang copies; the untranslated one has none.
            for e in a.getElementsByTagName(tag):
                if not e.hasAttribute('xml:lang'):
                    return e.firstChild.data if e.firstChild else '', e.getAttribute('gettext-domain')
            return None, None
        d, d_dom = untranslated('description')
        m, m_dom = untranslated('message')
        actions[a.getAttribute('id')] = (d, m, d_dom, m_dom)
    return actions


def main():
    srcdir, package, merged = sys.argv[1:4]
    assert sys.argv[4] == '--'
    xgettext_args = sys.argv[5:]
    listed = potfiles(srcdir)

    # 1. The .pot, as "ninja vfiohost-pot" makes it (mesonbuild/scripts/gettext.py).
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, package + '.pot')
        r = subprocess.run(['xgettext', '--package-name=' + package, '-p', tmp,
                            '-f', os.path.join(srcdir, 'po', 'POTFILES.in'),
                            '-D', srcdir, '-k_', '-o', pot] + xgettext_args,
                           capture_output=True, text=True)
        ok(r.returncode == 0 and os.path.exists(pot), 'xgettext builds the .pot from po/POTFILES.in',
           r.stdout + r.stderr)
        text = open(pot, encoding='utf-8').read() if os.path.exists(pot) else ''
        entries = {e[0]: e for e in pot_entries(text)}
        for msgid, comment in [('Hand a PCI device to virtual machines', 'TRANSLATORS: polkit action description'),
                               ('Authentication is required to bind a PCI device to vfio-pci, '
                                'taking it away from the host', 'TRANSLATORS: shown in the authentication dialog'),
                               ('List PCI functions', None)]:
            ok(msgid in entries, f'the .pot holds "{msgid}"')
            if comment:
                ok(msgid in entries and comment in entries[msgid][1],
                   f'"{msgid}" carries its "{comment}" comment')
        for f in listed:
            ok(any(r.startswith(f + ':') for e in entries.values() for r in e[2]),
               f'{f} contributes to the .pot')
        see = "\nSee '%s --help' for the options every command takes, exit codes and JSON.\n"
        ok(see in entries and 'c-format' in entries[see][3], 'a printf format is extracted as c-format')
        if shutil.which('msgen'):
            en = os.path.join(tmp, 'en.po')
            r = subprocess.run(['msgen', '-o', en, pot], capture_output=True, text=True)
            if r.returncode == 0:
                r = subprocess.run(['msgfmt', '--check', '-o', os.devnull, en], capture_output=True, text=True)
            ok(r.returncode == 0, 'an English catalog of the .pot compiles with msgfmt --check',
               r.stdout + r.stderr)
        else:
            print(f'ok {n + 1} - # SKIP msgen not installed (package gettext)')
            globals()['n'] += 1

    # 2. POTFILES.in against the tree.
    for f in listed:
        ok(os.path.isfile(os.path.join(srcdir, f)), f'POTFILES.in: {f} exists')
    for f in marking_files(srcdir):
        ok(f in listed, f'{f} marks strings and is in po/POTFILES.in')

    # 3. The merged policy.
    if shutil.which('xmllint'):
        r = subprocess.run(['xmllint', '--noout', merged], capture_output=True, text=True)
        ok(r.returncode == 0, 'xmllint: the merged policy is well-formed', r.stderr)
    try:
        built = policy_actions(merged)
        ok(True, 'the merged policy parses')
    except Exception as e:
        built = {}
        ok(False, 'the merged policy parses', e)
    source = policy_actions(os.path.join(srcdir, 'polkit', 'org.vfiohost.policy.in'))
    ok(sorted(built) == sorted(source) and len(source) > 0,
       'the merged policy declares the .in\'s actions', f'merged {sorted(built)}, .in {sorted(source)}')
    for aid, (d, m, d_dom, m_dom) in sorted(source.items()):
        ok(built.get(aid, (None, None))[:2] == (d, m), f'{aid}: description and message as in the .in')
        ok(d_dom == package and m_dom == package, f'{aid}: description and message in gettext domain {package}',
           f'gettext-domain "{d_dom}", "{m_dom}"')

    # 4. Who sets a locale.
    main_c = open(os.path.join(srcdir, 'client', 'vfiohostctl.c'), encoding='utf-8').read()
    ok('setlocale(LC_ALL, "")' in main_c and 'textdomain(GETTEXT_PACKAGE)' in main_c
       and 'bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR)' in main_c,
       'vfiohostctl sets its locale and text domain')
    daemon = []
    for root, dirs, files in os.walk(os.path.join(srcdir, 'service')):
        for name in files:
            if name.endswith('.c') and 'setlocale' in open(os.path.join(root, name), encoding='utf-8').read():
                daemon.append(os.path.relpath(os.path.join(root, name), srcdir))
    ok(not daemon, 'the daemon never calls setlocale', ' '.join(daemon))

    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
