#!/bin/sh
# What guest 2's root gets on top of the cached Debian tree and the
# project's "meson install": the kernel's modules, a fixed identity, the
# users the polkit scenarios need, the test's own unit, and no gettys.
#
# usage: prepare-root.sh ROOT
# with E2E_KDIR and E2E_KV set (lib.sh's e2e_ensure_kernel).
set -eu
ROOT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

# The modules udev and the scenarios load, with their dependencies; the
# missing ones (autofs4, configfs, ...) are built in or absent from this
# kernel, which is fine.
moddir=$(e2e_moddir)
kroot=${moddir%/lib/modules/*}
modules="virtio_pci virtio_blk virtio_rng ext4 crc32c_generic 9p 9pnet_virtio vfio_pci vfio_iommu_type1
        e1000e kvm_amd kvm_intel tun vhost_net msr autofs4 configfs fuse loop dm_mod efi_pstore"
for m in $modules; do
        modprobe -d "$kroot" -S "$E2E_KV" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
        rel=${ko#"$kroot"}
        rel=/usr${rel#/usr}
        mkdir -p "$ROOT$(dirname "$rel")"
        cp "$ko" "$ROOT$rel"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
        [ -f "$moddir/$f" ] && cp "$moddir/$f" "$ROOT/usr/lib/modules/$E2E_KV/"
done
depmod -b "$ROOT" "$E2E_KV"

# One identity for both boots (the persistent journal is keyed by it).
echo 5f0e2e2a1d3c4b8e9a7f6b5c4d3e2f10 >"$ROOT/etc/machine-id"
echo vh-e2e >"$ROOT/etc/hostname"
echo "/dev/vda / ext4 rw 0 1" >"$ROOT/etc/fstab"

# The example rules' group, a member and an outsider, as an admin would.
chroot "$ROOT" groupadd --system vfio
chroot "$ROOT" useradd --create-home --user-group --groups vfio alice
chroot "$ROOT" useradd --create-home --user-group bob

# Nothing on the console but the kernel; no timers firing at boot.
for u in getty@tty1.service serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer \
         dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
        ln -sf /dev/null "$ROOT/etc/systemd/system/$u"
done

install -D -m 0644 "$HERE/vh-e2e.service" "$ROOT/etc/systemd/system/vh-e2e.service"
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sf ../vh-e2e.service "$ROOT/etc/systemd/system/multi-user.target.wants/vh-e2e.service"
install -D -m 0755 "$HERE/run" "$ROOT/usr/lib/vh-e2e/run"
install -m 0644 "$HERE/scenarios.sh" "$ROOT/usr/lib/vh-e2e/scenarios.sh"
install -m 0644 "$HERE/../guest-lib.sh" "$ROOT/usr/lib/vh-e2e/guest-lib.sh"
