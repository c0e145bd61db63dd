#!/bin/sh
# Guest 2's initramfs: static busybox and what the root needs from the
# stock kernel, where virtio-blk and ext4 are modules. Its init (initrd-init)
# mounts /dev/vda and hands over to systemd.
#
# usage: build-initramfs.sh OUT.cpio.gz
# with E2E_KDIR and E2E_KV set (lib.sh's e2e_ensure_kernel).
set -eu
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/vfiohost-guest2-initrd.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/bin "$STAGE"/sbin "$STAGE"/proc "$STAGE"/sys "$STAGE"/dev "$STAGE"/newroot "$STAGE"/lib/modules
cp /bin/busybox "$STAGE/bin/busybox"
for a in sh mount umount modprobe sleep switch_root poweroff cat echo; do
        ln -s busybox "$STAGE/bin/$a"
done

moddir=$(e2e_moddir)
kroot=${moddir%/lib/modules/*}
for m in virtio_pci virtio_blk crc32c_generic ext4; do
        modprobe -d "$kroot" -S "$E2E_KV" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
        rel=${ko#"$kroot"}
        rel=${rel#/usr}
        mkdir -p "$STAGE$(dirname "$rel")"
        cp "$ko" "$STAGE$rel"
done
cp "$moddir/modules.order" "$moddir/modules.builtin" "$STAGE/lib/modules/$E2E_KV/"
depmod -b "$STAGE" "$E2E_KV"

install -m 0755 "$HERE/initrd-init" "$STAGE/init"
(cd "$STAGE" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
