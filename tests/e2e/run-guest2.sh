#!/bin/sh
# meson test --suite e2e: guest 2, the production path. Debian 12 with
# systemd as PID 1, udev, dbus and polkitd (debootstrapped once, cached),
# the project installed into it by "meson install" from a --prefix=/usr
# build as a package would be, booted twice from one disk (the scenarios;
# then the reboot), judged from what the guest recorded. Exit 77 only when
# QEMU, the kernel or the Debian mirror cannot be had.
#
# usage: run-guest2.sh BUILDDIR SRCDIR JUDGE
set -eu
BUILDDIR=$1 SRCDIR=$2 JUDGE=$3
. "$(dirname "$0")/lib.sh"

# Kept after the run for a look: results/, the console logs, root.img.
# build-usr/ is kept between runs.
WORK=$BUILDDIR/tests/e2e/guest2
BUILD2=$WORK/build-usr
ROOT=$WORK/root
BOOT_TIMEOUT=${VH_E2E_BOOT_TIMEOUT:-420}

# debootstrap, chroot and an image whose files keep their owners.
[ "$(id -u)" = 0 ] || e2e_skip "guest 2 builds a Debian root filesystem: it needs root"

e2e_phase_start "packages"
e2e_ensure_packages $E2E_PACKAGES debootstrap util-linux
e2e_phase_end
e2e_phase_start "kernel"
e2e_ensure_kernel
e2e_phase_end
echo "# kernel: $E2E_KV"

rm -rf "$WORK/share" "$ROOT" "$WORK/root.img" "$WORK"/serial-*.log
mkdir -p "$WORK/share"

e2e_phase_start "debootstrap"
"$E2E_DIR/guest2/build-rootfs.sh" "$ROOT"
e2e_phase_end

e2e_phase_start "build-usr"
if [ ! -f "$BUILD2/build.ninja" ]; then
        meson setup "$BUILD2" "$SRCDIR" --prefix=/usr -Dtests=false -Dinstall_polkit_rules=true \
                >"$WORK/build-usr.log" 2>&1 || { cat "$WORK/build-usr.log" >&2; e2e_die "meson setup of $BUILD2 failed"; }
fi
ninja -C "$BUILD2" >>"$WORK/build-usr.log" 2>&1 || { tail -n 30 "$WORK/build-usr.log" >&2; e2e_die "ninja -C $BUILD2 failed"; }
e2e_phase_end

e2e_phase_start "install"
meson install -C "$BUILD2" --no-rebuild --destdir "$ROOT" >"$WORK/install.log" 2>&1 ||
        { cat "$WORK/install.log" >&2; e2e_die "meson install failed"; }
# What was installed, for the guest to look at (meson's own list).
grep -v '^#' "$BUILD2/meson-logs/install-log.txt" | sed "s|^$ROOT||" >"$WORK/share/install-manifest"
e2e_phase_end

e2e_phase_start "image"
E2E_KDIR=$E2E_KDIR E2E_KV=$E2E_KV "$E2E_DIR/guest2/prepare-root.sh" "$ROOT"
E2E_KDIR=$E2E_KDIR E2E_KV=$E2E_KV "$E2E_DIR/guest2/build-initramfs.sh" "$WORK/initramfs.cpio.gz"
mkfs.ext4 -q -F -L vh-e2e -d "$ROOT" "$WORK/root.img" 1G >/dev/null
rm -rf "$ROOT"
e2e_phase_end

boot() {
        mode=$1
        e2e_phase_start "boot $mode"
        timeout "$BOOT_TIMEOUT" "$E2E_DIR/guest2/qemu.sh" "$E2E_KDIR/vmlinux" "$WORK/initramfs.cpio.gz" \
                "$WORK/root.img" "$WORK/share" "vh.mode=$mode ${VH_E2E_APPEND:-}" >"$WORK/serial-$mode.log" 2>&1 || :
        e2e_phase_end
        if [ ! -f "$WORK/share/results/$mode/exit" ]; then
                echo "# guest ($mode) did not finish; its serial console and console.log:"
                tail -n 40 "$WORK/serial-$mode.log" "$WORK/share/results/$mode/console.log" 2>&1 | sed 's/^/# /'
        fi
}

boot main
# The same disk again: what boot 1 left bound is on its driver again, and
# what it persisted is on vfio-pci; boot 2 unpersists it.
boot reboot
# Nothing persisted: the NIC is on e1000e again.
boot unpersisted

e2e_phase_start "judge"
rc=0
VH_E2E_RESULTS=$WORK/share/results "$JUDGE" --tap || rc=$?
e2e_phase_end
echo "# results: $WORK/share/results"
exit "$rc"
