#!/usr/bin/env python3
"""The translation setup (docs/translations.md), as TAP.

check-i18n.py SRCDIR PACKAGE MERGED_POLICY VFIOHOSTCTL LOCALEDIR -- XGETTEXT_ARGS...

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
5. The built vfiohostctl prints a translation: a German catalog of two of
   its strings (one a printf format) compiled with msgfmt, put at LOCALEDIR
   in a private mount namespace (a tmpfs: the machine's directories are
   never touched), a de_DE.UTF-8 locale made with localedef under LOCPATH.
   Skipped, saying why, without root, unshare, localedef or glibc's locale
   sources (package locales).
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


GERMAN = {
    'List PCI functions': 'PCI-Funktionen auflisten',
    "\nSee '%s --help' for the options every command takes, exit codes and JSON.\n":
        "\nSiehe '%s --help' für die Optionen aller Befehle, Exit-Codes und JSON.\n",
}


def po_quote(text):
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


def skip(what, why):
    global n
    n += 1
    print(f'ok {n} - {what} # SKIP {why}')


def translated_client(package, ctl, localedir):
    what = 'vfiohostctl prints its help in German from a catalog at LOCALEDIR'
    if os.geteuid() != 0:
        return skip(what, 'needs root for a private mount namespace')
    for tool in ('unshare', 'localedef', 'msgfmt'):
        if not shutil.which(tool):
            return skip(what, f'{tool} not installed')
    if not os.path.exists('/usr/share/i18n/locales/de_DE'):
        return skip(what, 'no /usr/share/i18n/locales/de_DE (package locales)')
    # The tmpfs goes over LOCALEDIR, or over its nearest existing parent
    # when it does not exist (/usr/local/share in a default build); never
    # over a directory the client itself needs.
    top = localedir
    while not os.path.isdir(top):
        top = os.path.dirname(top)
    if top in ('/', '/usr', '/usr/lib', '/lib', '/etc'):
        return skip(what, f'{localedir} would need a tmpfs over {top}')
    with tempfile.TemporaryDirectory() as tmp:
        loc = os.path.join(tmp, 'locales')
        os.mkdir(loc)
        r = subprocess.run(['localedef', '-i', 'de_DE', '-f', 'UTF-8', os.path.join(loc, 'de_DE.UTF-8')],
                           capture_output=True, text=True)
        if r.returncode not in (0, 1):  # 1: warnings only
            return skip(what, 'localedef failed: ' + r.stderr.strip())
        po = os.path.join(tmp, 'de.po')
        with open(po, 'w', encoding='utf-8') as f:
            f.write('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n')
            for msgid, msgstr in GERMAN.items():
                f.write(f'\n#, c-format\nmsgid {po_quote(msgid)}\nmsgstr {po_quote(msgstr)}\n')
        mo = os.path.join(tmp, package + '.mo')
        r = subprocess.run(['msgfmt', '--check', '-o', mo, po], capture_output=True, text=True)
        ok(r.returncode == 0, 'msgfmt compiles the test catalog', r.stderr)
        script = ('mount -t tmpfs vh-i18n-test "$1" && mkdir -p "$2/de/LC_MESSAGES" && '
                  'cp "$3" "$2/de/LC_MESSAGES/" && shift 3 && exec "$@"')
        env = dict(os.environ, LOCPATH=loc, LC_ALL='de_DE.UTF-8', LANGUAGE='')
        r = subprocess.run(['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh',
                            top, localedir, mo, ctl, 'list', '--help'],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0 and 'mount' in r.stderr:
            return skip(what, 'cannot mount a tmpfs: ' + r.stderr.strip())
        ok(r.returncode == 0 and GERMAN['List PCI functions'] in r.stdout
           and "Siehe '" + os.path.basename(ctl) + " --help' für die Optionen" in r.stdout,
           what, r.stdout + r.stderr)
        # Without the catalog (the same locale), the English text.
        r = subprocess.run([ctl, 'list', '--help'], capture_output=True, text=True, env=env)
        ok(r.returncode == 0 and 'List PCI functions' in r.stdout,
           'without the catalog, the same locale prints English', r.stdout + r.stderr)


def main():
    srcdir, package, merged, ctl, localedir = sys.argv[1:6]
    assert sys.argv[6] == '--'
    xgettext_args = sys.argv[7:]
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
                # What a translator fills in first: the charset and, for the
                # ngettext() strings, the language's plural forms.
                with open(en, encoding='utf-8') as f:
                    text = f.read()
                text = text.replace('charset=CHARSET', 'charset=UTF-8').replace(
                    'nplurals=INTEGER; plural=EXPRESSION;', 'nplurals=2; plural=(n != 1);')
                with open(en, 'w', encoding='utf-8') as f:
                    f.write(text)
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

    # 5. A translation reaches the user.
    translated_client(package, ctl, localedir)

    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
