#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the generated 70-vfiohost.rules the way udev's parser would, since
Debian 12's udevadm (systemd 252) has no "verify" and "udevadm test" would
run the helper against the real /sys: every key is one udev(7) knows, with
an operator it takes; GOTOs have their LABEL; the helper is the installed
one; the results the rule matches are ones the helper prints; the file sorts
before 80-drivers.rules.

    check-udev-rules.py RULES HELPER_PATH BOOT_ASSIGN_C
"""
import os
import re
import sys

MATCH = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS",
         "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "ATTRS", "SYSCTL"}
ASSIGN = {"OWNER", "GROUP", "MODE", "SECLABEL", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
BOTH = {"NAME", "SYMLINK", "ENV", "TAG", "ATTR", "SYSCTL"}
WITH_ATTR = {"ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "SECLABEL", "RUN", "IMPORT", "TEST"}
IMPORT_TYPES = {"program", "builtin", "file", "db", "cmdline", "parent"}
RUN_TYPES = {"program", "builtin"}
BUILTINS = {"blkid", "btrfs", "hwdb", "input_id", "keyboard", "kmod", "net_id", "net_setup_link",
            "path_id", "usb_id", "uaccess"}
TOKEN = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?(==|!=|\+=|-=|:=|=)"((?:[^"\\]|\\.)*)"\s*(,|$)')


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def parse(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            tokens, pos = [], 0
            while pos < len(line):
                m = TOKEN.match(line, pos)
                if not m:
                    fail(f"{path}:{n}: cannot parse at '{line[pos:]}'")
                tokens.append(m.groups()[:4])
                pos = m.end()
                if m.group(5) == "" and pos < len(line):
                    fail(f"{path}:{n}: missing ',' before '{line[pos:]}'")
            rules.append((n, tokens))
    return rules


def main():
    rules_path, helper, source = sys.argv[1:4]
    if "@" in open(rules_path).read():
        fail("an @variable@ is left unsubstituted")
    if not os.path.basename(rules_path) < "80-drivers.rules":
        fail("the rules must sort before 80-drivers.rules")
    states = set(re.findall(r'\[VH_BOOT_ASSIGN_[A-Z_]+\] = "([a-z-]+)"', open(source).read()))
    if "applied" not in states:
        fail(f"no state names in {source}")

    labels, gotos, programs, matched = set(), [], [], set()
    for n, tokens in parse(rules_path):
        for key, attr, op, value in tokens:
            where = f"{rules_path}:{n}: {key}"
            if key not in MATCH | ASSIGN | BOTH:
                fail(f"{where}: not a udev key")
            if op in ("==", "!=") and key not in MATCH | BOTH:
                fail(f"{where}: takes no match operator")
            if op not in ("==", "!=") and key in MATCH:
                fail(f"{where}: is only a match")
            if attr is not None and key not in WITH_ATTR:
                fail(f"{where}: takes no {{attribute}}")
            if key in ("ENV", "ATTR", "ATTRS", "SYSCTL", "CONST") and not attr:
                fail(f"{where}: needs an {{attribute}}")
            if key == "IMPORT":
                if attr not in IMPORT_TYPES:
                    fail(f"{where}{{{attr}}}: unknown type")
                if attr == "program":
                    programs.append(value.split()[0])
            if key == "RUN":
                if attr not in RUN_TYPES:
                    fail(f"{where}{{{attr}}}: unknown type")
                if attr == "builtin" and value.split()[0] not in BUILTINS:
                    fail(f"{where}: unknown builtin '{value.split()[0]}'")
            if key == "LABEL":
                labels.add(value)
            if key == "GOTO":
                gotos.append(value)
            if key == "TEST" and not value.startswith("/"):
                fail(f"{where}: a relative TEST is relative to the device, not the root")
            if key == "ENV" and attr == "VFIOHOST_ASSIGNMENT":
                for v in value.split("|"):
                    if v not in states:
                        fail(f"{where}: '{v}' is no result the helper prints ({sorted(states)})")
                    matched.add(v)
    for g in gotos:
        if g not in labels:
            fail(f"GOTO=\"{g}\" has no LABEL")
    if programs != [helper]:
        fail(f"IMPORT{{program}} runs {programs}, expected [{helper}]")
    for needed in ("applied", "pending", "bound-elsewhere", "mismatch", "vfs"):
        if needed not in matched:
            fail(f"the rule does nothing on '{needed}'")
    print(f"ok: {rules_path}")


main()
