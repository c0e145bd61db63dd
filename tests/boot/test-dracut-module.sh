#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The dracut module against stubs of dracut's functions (dracut itself is
# not part of Debian 12's default set): syntax, check()'s answers, and what
# installkernel() and install() ask dracut to put in the image.
#
#   test-dracut-module.sh MODULE_SETUP LIBEXECDIR UDEVRULESDIR
set -eu
module=$1 libexecdir=$2 udevrulesdir=$3

fail() {
        echo "FAIL: $*"
        exit 1
}

bash -n "$module" || fail "syntax"
! grep -q '@[a-z]*@' "$module" || fail "an @variable@ is left unsubstituted"

tmp_base=${TMPDIR:-/tmp}
tmp=$(mktemp -d "$tmp_base/vh-dracut-XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

calls=()
have_binary=0
require_binaries() { [ "$have_binary" = 1 ]; }
instmods() { calls+=("instmods $*"); }
inst_rules() { calls+=("inst_rules $*"); }
inst_binary() { calls+=("inst_binary $*"); }
inst_simple() { calls+=("inst_simple $*"); }

# shellcheck disable=SC1090
. "$module"
dracutsysrootdir=$tmp

rc=0; check || rc=$?
[ $rc = 1 ] || fail "check() is $rc without the helper, expected 1"
have_binary=1
rc=0; check || rc=$?
[ $rc = 255 ] || fail "check() is $rc without assignments, expected 255 (only on request)"
mkdir -p "$tmp/var/lib/vfiohost"
echo '{}' >"$tmp/var/lib/vfiohost/assignments.json"
rc=0; check || rc=$?
[ $rc = 0 ] || fail "check() is $rc with assignments, expected 0"
[ "$(depends)" = udev-rules ] || fail "depends() is not udev-rules"

installkernel
install
want=("instmods vfio-pci vfio vfio_iommu_type1"
      "inst_rules $udevrulesdir/70-vfiohost.rules"
      "inst_binary $libexecdir/vfiohost-udev-assign"
      "inst_simple /var/lib/vfiohost/assignments.json")
[ "${calls[*]}" = "${want[*]}" ] || fail "calls were: ${calls[*]}"

echo "ok: dracut module"
