#!/bin/sh
# meson test --suite e2e: guest 1. Installs QEMU and the kernel when they
# are missing, builds the initramfs from this build's binaries, boots it
# twice (the scenarios; then intel_iommu=off for readiness) and has the
# judge read what the guest recorded. Exit 77 only when QEMU or the kernel
# cannot be had.
#
# usage: run-guest1.sh BUILDDIR SRCDIR VFIO_CLIENT JUDGE
set -eu
BUILDDIR=$1 SRCDIR=$2 VFIO_CLIENT=$3 JUDGE=$4
. "$(dirname "$0")/lib.sh"

# Kept after the run for a look: results/, the console logs.
WORK=$BUILDDIR/tests/e2e/guest1
BOOT_TIMEOUT=${VH_E2E_BOOT_TIMEOUT:-420}

e2e_phase_start "packages"
e2e_ensure_packages $E2E_PACKAGES strace util-linux
e2e_phase_end
e2e_phase_start "kernel"
e2e_ensure_kernel
e2e_phase_end
echo "# kernel: $E2E_KV"

rm -rf "$WORK"
mkdir -p "$WORK/share"

# udevd re-broadcasts the kernel's events to the daemon's monitor (the
# "udev" source); unpacked from Debian's package, never run here.
e2e_phase_start "udev"
E2E_UDEV=$(e2e_ensure_deb udev)
[ -x "$E2E_UDEV/bin/udevadm" ] || e2e_skip "no udevadm in Debian's udev package ($E2E_UDEV)"
e2e_phase_end

e2e_phase_start "initramfs"
E2E_UDEV=$E2E_UDEV E2E_KDIR=$E2E_KDIR E2E_KV=$E2E_KV "$E2E_DIR/guest1/build-initramfs.sh" "$WORK/initramfs.cpio.gz" "$BUILDDIR" "$SRCDIR" "$VFIO_CLIENT"
e2e_phase_end

e2e_phase_start "nvme image"
mkdir -p "$WORK/nvme-root"
echo "vfiohost e2e data" >"$WORK/nvme-root/vfiohost-e2e.txt"
mkfs.ext4 -q -F -d "$WORK/nvme-root" "$WORK/nvme.img" 64M >/dev/null
e2e_phase_end

# Each boot has its own disk: QEMU locks the image it writes.
boot() {
        mode=$1
        shift
        cp "$WORK/nvme.img" "$WORK/nvme-$mode.img"
        timeout "$BOOT_TIMEOUT" "$E2E_DIR/guest1/qemu.sh" "$E2E_KDIR/vmlinux" "$WORK/initramfs.cpio.gz" \
                "$WORK/share" "$WORK/nvme-$mode.img" "vh.mode=$mode $*" >"$WORK/serial-$mode.log" 2>&1 || :
        if [ ! -f "$WORK/share/results/$mode/exit" ]; then
                echo "# guest ($mode) did not finish; its serial console and console.log:"
                tail -n 40 "$WORK/serial-$mode.log" "$WORK/share/results/$mode/console.log" 2>&1 | sed 's/^/# /'
        fi
}

# The short intel_iommu=off boot runs beside the long one.
e2e_phase_start "boot main + iommu-off"
boot iommu-off intel_iommu=off &
off_pid=$!
boot main
wait "$off_pid"
e2e_phase_end

e2e_phase_start "judge"
rc=0
VH_E2E_RESULTS=$WORK/share/results "$JUDGE" --tap || rc=$?
e2e_phase_end
echo "# results: $WORK/share/results"
exit "$rc"
