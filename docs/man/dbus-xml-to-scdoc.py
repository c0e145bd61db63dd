#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes org.vfiohost(7) as scdoc source from dbus/org.vfiohost.xml.

Generated at build time so the page is the contract and cannot drift from
it: every interface, method (in and out arguments), property (type and
access) and signal, with the comment that precedes it in the XML and its
doc:doc paragraphs. Only the standard library: xml.etree.

Usage: dbus-xml-to-scdoc.py INPUT.xml OUTPUT.scd VERSION
"""

import re
import sys
import textwrap
import xml.etree.ElementTree as ET

DOC_NS = '{http://www.freedesktop.org/dbus/1.0/doc.dtd}'


class CommentKeeper(ET.TreeBuilder):
    """A TreeBuilder that also keeps the comments outside the root element,
    which TreeBuilder itself drops: the file's header comment."""

    def __init__(self):
        super().__init__(insert_comments=True)
        self.depth = 0
        self.outer_comments = []

    def start(self, tag, attrs):
        self.depth += 1
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)

    def comment(self, text):
        if self.depth == 0:
            self.outer_comments.append(text)
        return super().comment(text)


def escape(text):
    """scdoc's markup characters taken literally; "@arg" (gtk-doc's way of
    naming an argument) underlined as the argument lists show it."""
    text = text.replace('\\', '\\\\')
    # groff has no "…" for the ASCII device (man in the C locale warns).
    text = text.replace('\u2026', '...')
    text = re.sub(r'([*_])', r'\\\1', text)
    return re.sub(r'@([A-Za-z][A-Za-z0-9\\_]*)', r'_\1_', text)


def paragraphs(text):
    """Comment text as scdoc paragraphs: lines joined, "- " items kept as
    items. XML comments may not hold "--", so the file writes "-\\-"."""
    text = textwrap.dedent(text.replace('-\\-', '--')).strip('\n')
    out = []
    for block in re.split(r'\n\s*\n', text):
        lines = [l.rstrip() for l in block.split('\n') if l.strip()]
        if not lines:
            continue
        items = []
        for line in lines:
            stripped = line.strip()
            if stripped.startswith('- ') or not items:
                items.append(stripped)
            else:
                items[-1] += ' ' + stripped
        for item in items:
            if item.startswith('- '):
                out.append('- ' + escape(item[2:]))
            else:
                # scdoc reads a leading ". " as a numbered list item.
                out.append(escape(item).replace('. ', '.\u00a0', 1) if item.startswith('. ') else escape(item))
        out.append('')
    return out


def split_comment(name, text):
    """(summary, {arg: description}, rest) of a member's comment: an
    optional "Name:" lead, "@short_description:" and "@arg:" entries."""
    text = textwrap.dedent(text).strip('\n')
    lead = re.match(r'\s*' + re.escape(name) + r':[ \t]*', text)
    if lead:
        text = text[lead.end():]
    args = {}
    short = ''
    rest = []
    current = None
    for line in text.split('\n'):
        m = re.match(r'\s*@([A-Za-z_]+):\s*(.*)', line)
        if m:
            current = m.group(1)
            if current == 'short_description':
                short = m.group(2)
            else:
                args[current] = m.group(2)
            continue
        if current and line.strip() and line.startswith((' ', '\t')) and re.match(r'\s{4,}', line):
            if current == 'short_description':
                short += ' ' + line.strip()
            else:
                args[current] += ' ' + line.strip()
            continue
        current = None
        rest.append(line)
    return short.strip(), args, '\n'.join(rest)


def doc_paras(element):
    """The element's own doc:doc paragraphs, not its members'."""
    return [' '.join(p.text.split())
            for doc in element.findall(DOC_NS + 'doc')
            for p in doc.iter(DOC_NS + 'para') if p.text and p.text.strip()]


def tidy(lines):
    """One blank line between paragraphs, none around headings: scdoc turns
    each blank line into .P, and mandoc -T lint warns of a .P that is empty
    or follows .SH or .SS."""
    out = []
    for line in lines:
        if line == '' and (not out or out[-1] == '' or out[-1].startswith('#') or len(out) == 1):
            continue
        if line.startswith('#') and out and out[-1] == '':
            out.pop()
        out.append(line)
    while out and out[-1] == '':
        out.pop()
    return out


def members(element):
    """(child, preceding comment text) for each element child."""
    comment = None
    for child in element:
        if child.tag is ET.Comment:
            comment = child.text
            continue
        if not isinstance(child.tag, str) or child.tag.startswith(DOC_NS):
            continue
        yield child, comment or ''
        comment = None


def signature(element, with_direction):
    args = []
    for arg in element.findall('arg'):
        direction = arg.get('direction', 'in')
        prefix = direction + ' ' if with_direction else ''
        args.append('%s%s _%s_' % (prefix, arg.get('type'), escape(arg.get('name', ''))))
    return ', '.join(args)


def describe(out, element, comment):
    short, args, rest = split_comment(element.get('name'), comment)
    body = []
    if short:
        body.append(escape(short))
        body.append('')
    for para in doc_paras(element):
        body.append(escape(para))
        body.append('')
    body += paragraphs(rest)
    for arg in element.findall('arg'):
        if arg.get('name') in args:
            body.append('_%s_: %s' % (escape(arg.get('name')), escape(' '.join(args[arg.get('name')].split()))))
            body.append('')
    for line in body:
        out.append(('\t' + line) if line else '')
    if not body:
        out.append('')


def main():
    source, target, version = sys.argv[1:4]
    builder = CommentKeeper()
    root = ET.parse(source, parser=ET.XMLParser(target=builder)).getroot()

    out = ['org.vfiohost(7) "vfiohost %s" "vfiohost"' % version, '',
           '# NAME', '', 'org.vfiohost - the D-Bus API of vfiohostd', '',
           '# DESCRIPTION', '',
           'vfiohostd(8) owns the name *org.vfiohost* on the system bus. '
           'This page is generated from the interface description, '
           'dbus/org.vfiohost.xml, which is installed in the D-Bus interfaces '
           'directory; the running daemon\'s introspection equals it. Types are '
           'D-Bus signatures (s string, b boolean, u uint32, i int32, q uint16, '
           'y byte, t uint64, o object path, a{sv} a dictionary of variants).', '']
    for text in builder.outer_comments:
        out += paragraphs(text)

    out += ['# INTERFACES', '']
    for iface, comment in members(root):
        if iface.tag != 'interface':
            continue
        name = iface.get('name')
        out += ['## %s' % escape(name), '']
        short, _, rest = split_comment(name, comment)
        if short:
            out += [escape(short), '']
        for para in doc_paras(iface):
            out += [escape(para), '']
        out += paragraphs(rest)

        kinds = [('method', 'Methods'), ('property', 'Properties'), ('signal', 'Signals')]
        for kind, title in kinds:
            items = [(m, c) for m, c in members(iface) if m.tag == kind]
            if not items:
                continue
            out += ['*%s*' % title, '']
            for member, mcomment in items:
                mname = escape(member.get('name'))
                if kind == 'method':
                    out.append('*%s*(%s)' % (mname, signature(member, True)))
                elif kind == 'signal':
                    out.append('*%s*(%s)' % (mname, signature(member, False)))
                else:
                    access = {'read': 'read-only', 'write': 'write-only',
                              'readwrite': 'read-write'}.get(member.get('access'), member.get('access'))
                    notes = [member.get('type'), access]
                    for annotation in member.findall('annotation'):
                        if annotation.get('name') == 'org.freedesktop.DBus.Property.EmitsChangedSignal':
                            notes.append({'const': 'constant', 'false': 'not signalled',
                                          'invalidates': 'invalidated when changed'}.get(
                                              annotation.get('value'), 'signalled'))
                    out.append('*%s* (%s)' % (mname, ', '.join(notes)))
                out.append('')
                describe(out, member, mcomment)

    out += ['# SEE ALSO', '', 'vfiohostd(8), vfiohostctl(1), busctl(1), gdbus(1)', '']
    with open(target, 'w', encoding='utf-8') as f:
        f.write('\n'.join(tidy(out)) + '\n')


if __name__ == '__main__':
    main()
