#!/bin/sh
# Builds guest 1: a busybox initramfs holding the project's freshly built
# vfiohostd and vfiohostctl, Debian's dbus-daemon with its own system.conf,
# the project's bus policy and activation file, and the kernel modules the
# emulated devices need. Everything runs as in production except that PID 1
# is a shell script (init) and there is no polkit.
#
# usage: build-initramfs.sh OUT.cpio.gz BUILDDIR SRCDIR VFIO_CLIENT
# with E2E_KDIR and E2E_KV set (lib.sh's e2e_ensure_kernel) and E2E_UDEV
# (lib.sh's e2e_ensure_deb udev).
set -eu

OUT=$1 BUILDDIR=$2 SRCDIR=$3 VFIO_CLIENT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/vfiohost-guest1.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
# mktemp's 0700 would keep messagebus out of /.
chmod 0755 "$STAGE"

# Merged /usr, as on Debian 12.
mkdir -p "$STAGE"/usr/bin "$STAGE"/usr/sbin "$STAGE"/usr/lib/x86_64-linux-gnu "$STAGE"/usr/lib64 \
        "$STAGE"/etc "$STAGE"/proc "$STAGE"/sys "$STAGE"/dev "$STAGE"/run \
        "$STAGE"/tmp "$STAGE"/share "$STAGE"/mnt "$STAGE"/root "$STAGE"/var/lib "$STAGE"/home/user
ln -s usr/bin "$STAGE/bin"
ln -s usr/sbin "$STAGE/sbin"
ln -s usr/lib "$STAGE/lib"
ln -s usr/lib64 "$STAGE/lib64"
ln -s ../run "$STAGE/var/run"
chmod 1777 "$STAGE/tmp"

# A file and, for an ELF, every library ldd names, at their paths in /usr.
copy_file() {
        src=$1 dst=${2:-$1}
        case $dst in
        /lib/* | /lib64/* | /bin/* | /sbin/*) dst=/usr$dst ;;
        esac
        [ -e "$STAGE$dst" ] && return 0
        mkdir -p "$STAGE$(dirname "$dst")"
        cp -L "$src" "$STAGE$dst"
}
copy_elf() {
        copy_file "$@"
        ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
                copy_file "$lib"
        done
}

copy_file /bin/busybox /bin/busybox
ln -sf busybox "$STAGE/usr/bin/sh"
# The kernel calls /sbin/modprobe for request_module().
ln -sf ../bin/busybox "$STAGE/usr/sbin/modprobe"

# dbus-daemon exactly as Debian ships it: system.conf, the setuid
# activation helper (root:messagebus 4754) and the standard directories.
copy_elf /usr/bin/dbus-daemon
copy_elf /usr/bin/dbus-monitor
copy_elf /usr/lib/dbus-1.0/dbus-daemon-launch-helper
# chown clears the setuid bit: chmod after it.
chown 0:101 "$STAGE/usr/lib/dbus-1.0/dbus-daemon-launch-helper"
chmod 4754 "$STAGE/usr/lib/dbus-1.0/dbus-daemon-launch-helper"
copy_file /usr/share/dbus-1/system.conf
mkdir -p "$STAGE/usr/share/dbus-1/system.d" "$STAGE/usr/share/dbus-1/system-services" "$STAGE/etc/dbus-1/system.d"
cp "$SRCDIR/dbus/org.vfiohost.conf" "$STAGE/usr/share/dbus-1/system.d/"
cp "$BUILDDIR/dbus/org.vfiohost.service" "$STAGE/usr/share/dbus-1/system-services/"

# The daemon where its activation file says it is.
exec_path=$(sed -n 's/^Exec=//p' "$BUILDDIR/dbus/org.vfiohost.service")
copy_elf "$BUILDDIR/service/vfiohostd" "$exec_path"
copy_elf "$BUILDDIR/client/vfiohostctl" /usr/bin/vfiohostctl
# vfiohostd opens libkmod (and so libcrypto) only to load a module: ldd
# does not name it.
libkmod=$(ldconfig -p | awk '$1 == "libkmod.so.2" && /x86-64/ { print $NF; exit }')
[ -n "$libkmod" ] || { echo "libkmod.so.2 not found (ldconfig -p)" >&2; exit 1; }
copy_elf "$libkmod"
copy_elf "$VFIO_CLIENT" /usr/bin/vh-vfio-client
copy_file /usr/share/misc/pci.ids
# Test tools: a caller with another uid, and a tracer that kills the daemon
# at an exact write (the interrupted-bind scenario).
copy_elf /usr/bin/setpriv
copy_elf /usr/bin/strace
# udevd from Debian's udev package (E2E_UDEV: where it was unpacked):
# udevadm, which is the daemon when called systemd-udevd; its
# libsystemd-shared comes from this machine's systemd, the same release.
copy_elf "$E2E_UDEV/bin/udevadm" /usr/lib/systemd/systemd-udevd

cat >"$STAGE/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
messagebus:x:100:101::/nonexistent:/usr/sbin/nologin
user:x:1000:1000:Unprivileged:/home/user:/bin/sh
PASSWD
cat >"$STAGE/etc/group" <<'GROUP'
root:x:0:
messagebus:x:101:
user:x:1000:
GROUP
echo "passwd: files
group: files" >"$STAGE/etc/nsswitch.conf"
echo 0123456789abcdef0123456789abcdef >"$STAGE/etc/machine-id"
chown 1000:1000 "$STAGE/home/user"

# Modules: what the devices, the share and vfio need, with their
# dependencies, and a modules.dep of their own for busybox and libkmod.
moddir=$(e2e_moddir)
kroot=${moddir%/lib/modules/*}
modules="e1000e nvme virtio_pci virtio_rng ext4 crc32c_generic 9p 9pnet_virtio vfio_pci vfio_iommu_type1
        kvm_amd kvm_intel tun vhost_net"
for m in $modules; do
        modprobe -d "$kroot" -S "$E2E_KV" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
        rel=${ko#"$kroot"}
        mkdir -p "$STAGE/usr$(dirname "$rel")"
        cp "$ko" "$STAGE/usr$rel"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
        [ -f "$moddir/$f" ] && cp "$moddir/$f" "$STAGE/usr/lib/modules/$E2E_KV/"
done
depmod -b "$STAGE/usr" "$E2E_KV"

install -m 0755 "$HERE/init" "$STAGE/init"
install -m 0755 "$HERE/scenarios.sh" "$STAGE/usr/bin/vh-scenarios"
install -m 0644 "$HERE/../guest-lib.sh" "$STAGE/usr/lib/vh-guest-lib.sh"

(cd "$STAGE" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
