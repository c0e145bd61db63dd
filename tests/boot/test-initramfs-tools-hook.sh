#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the generated initramfs-tools hook the way mkinitramfs does (DESTDIR,
# verbose, version, CONFDIR in the environment; the hook sources the real
# /usr/share/initramfs-tools/hook-functions) on the build's helper and rule,
# and checks what landed in DESTDIR. Everything happens in a temporary
# directory; the hook reads its files from there (VFIOHOST_HOOK_SOURCE).
#
#   test-initramfs-tools-hook.sh HOOK HELPER RULES LIBEXECDIR UDEVRULESDIR
set -eu
hook=$1 helper=$2 rules=$3 libexecdir=$4 udevrulesdir=$5

if [ ! -r /usr/share/initramfs-tools/hook-functions ]; then
        echo "SKIP: initramfs-tools-core is not installed (.ci/install-deps installs it)"
        exit 77
fi

tmp_base=${TMPDIR:-/tmp}
tmp=$(mktemp -d "$tmp_base/vh-hook-XXXXXX")
case $tmp in
"$tmp_base"/vh-hook-*) ;;
*) echo "FAIL: unexpected temporary directory $tmp"; exit 1 ;;
esac
trap 'rm -rf -- "$tmp"' EXIT

fail() {
        echo "FAIL: $*"
        exit 1
}

# The image's path for a host path: copy_file puts /lib* under /usr.
image_path() {
        case $1 in
        /bin/* | /lib* | /sbin/*) echo "/usr$1" ;;
        *) echo "$1" ;;
        esac
}

run_hook() {
        DESTDIR=$tmp/dest verbose=n version=$(uname -r) CONFDIR=$tmp/conf VFIOHOST_HOOK_SOURCE=$tmp/src \
                sh "$hook" >"$tmp/out" 2>&1 || fail "the hook failed: $(cat "$tmp/out")"
        ! grep -q '^W: vfiohost' "$tmp/out" || fail "the hook warned: $(cat "$tmp/out")"
}

[ "$(sh "$hook" prereqs)" = udev ] || fail "prereqs is not 'udev'"

mkdir -p "$tmp/src$libexecdir" "$tmp/src$udevrulesdir" "$tmp/src/var/lib/vfiohost" "$tmp/dest" "$tmp/conf"
cp "$helper" "$tmp/src$libexecdir/vfiohost-udev-assign"
cp "$rules" "$tmp/src$udevrulesdir/70-vfiohost.rules"

# Without assignments: the helper and the rule, no file.
run_hook
dest_helper=$tmp/dest$(image_path "$libexecdir/vfiohost-udev-assign")
dest_rules=$tmp/dest$(image_path "$udevrulesdir/70-vfiohost.rules")
[ -x "$dest_helper" ] || fail "no helper at $dest_helper"
cmp -s "$dest_rules" "$rules" || fail "no rule at $dest_rules"
[ ! -e "$tmp/dest/var/lib/vfiohost/assignments.json" ] || fail "an assignments file came from nowhere"
# copy_exec brought the helper's libraries.
lib=$(ldd "$helper" | sed -n 's/.*libjson-c[^ ]* => \([^ ]*\).*/\1/p')
[ -n "$lib" ] || fail "ldd names no libjson-c for $helper"
find "$tmp/dest" -name "${lib##*/}" | grep -q . || fail "the helper's ${lib##*/} is not in the image"

# With assignments: the file goes in too; a second run (files already
# there) is quiet.
echo '{"version":1,"assignments":[]}' >"$tmp/src/var/lib/vfiohost/assignments.json"
run_hook
cmp -s "$tmp/dest/var/lib/vfiohost/assignments.json" "$tmp/src/var/lib/vfiohost/assignments.json" ||
        fail "assignments.json is not in the image"
run_hook

echo "ok: initramfs-tools hook"
