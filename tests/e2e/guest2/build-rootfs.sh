#!/bin/sh
# Guest 2's root filesystem: Debian 12 minbase with systemd as PID 1, udev,
# dbus and polkitd, plus the project's runtime libraries. debootstrap runs
# once per package list; the tree is kept in $VH_E2E_CACHE and copied.
#
# usage: build-rootfs.sh DEST
# Exit 77 (skip) only when the mirror cannot be reached.
set -eu
DEST=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

SUITE=bookworm
# polkitd's "default-logind | logind" and "adduser | systemd-sysusers" are
# named, not left to debootstrap's choice of alternatives.
INCLUDE="systemd,systemd-sysv,udev,dbus,polkitd,libpam-systemd,kmod,libpci3,libjson-c5,libkmod2,libudev1,libsystemd0,zlib1g,pci.ids"

# The first Debian archive apt uses here (deb822 or one-line sources).
mirror() {
        m=
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
                m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
                        /etc/apt/sources.list.d/debian.sources)
        fi
        if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
                m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
                        /etc/apt/sources.list)
        fi
        echo "${m:-http://deb.debian.org/debian}"
}

key=$(echo "$SUITE $INCLUDE" | sha256sum | cut -c1-12)
CACHED=$VH_E2E_CACHE/rootfs-$SUITE-$key
if [ ! -f "$CACHED/.complete" ]; then
        MIRROR=$(mirror)
        echo "# debootstrap $SUITE from $MIRROR into $CACHED"
        rm -rf "$CACHED"
        mkdir -p "$CACHED"
        if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$CACHED/tree" "$MIRROR" \
                >"$CACHED.log" 2>&1; then
                tail -n 20 "$CACHED.log" >&2
                # Only an unreachable archive is a reason to skip.
                if grep -qE "Failed getting release file|Couldn't download|Release signed by unknown key|Temporary failure resolving" \
                        "$CACHED.log"; then
                        rm -rf "$CACHED"
                        e2e_skip "debootstrap could not fetch $SUITE from $MIRROR"
                fi
                rm -rf "$CACHED"
                e2e_die "debootstrap failed (log: $CACHED.log)"
        fi
        rm -rf "$CACHED/tree/var/cache/apt/archives/"*.deb "$CACHED/tree/var/lib/apt/lists/"*_Packages
        touch "$CACHED/.complete"
else
        echo "# debootstrap: cached in $CACHED"
fi

rm -rf "$DEST"
cp -a "$CACHED/tree" "$DEST"
