#!/bin/sh
# Boots guest 2 under TCG (no KVM on these machines) with an emulated Intel
# IOMMU: Debian 12 on a virtio disk, systemd as PID 1. The device layout is
# what tests/e2e/guest2/scenarios.sh expects:
#   00:02.0 e1000e (user netdev, no IPv6; not configured in the guest)
#   00:03.0 virtio-blk, the root filesystem
#   00:04.0 root port -> 01:00.0 virtio-rng (the device bound)
#   00:05.0 virtio-9p (the results share; never bound)
#
# usage: qemu.sh VMLINUX INITRD ROOT_IMG SHARE_DIR [EXTRA_APPEND]
# By hand: EXTRA_APPEND "vh.mode=shell" gives a root shell on the console
# instead of the scenarios.
# no_timer_check: under TCG on a loaded machine the kernel's boot-time
# check of the IO-APIC timer can miss its ticks and panic ("timer doesn't
# work through Interrupt-remapped IO-APIC"); seen with intel_iommu=off.
set -eu
KERNEL=$1 INITRD=$2 ROOT=$3 SHARE=$4
APPEND=${5:-}

exec qemu-system-x86_64 \
        -machine q35,kernel-irqchip=split -accel tcg -cpu max -smp 2 -m 1024 \
        -nodefaults -nographic -serial stdio -no-reboot \
        -device intel-iommu,intremap=on \
        -kernel "$KERNEL" -initrd "$INITRD" \
        -append "console=ttyS0 root=/dev/vda rw intel_iommu=on iommu=pt panic=-1 no_timer_check quiet loglevel=4 systemd.unit=multi-user.target $APPEND" \
        -netdev user,id=n0,ipv6=off -device e1000e,netdev=n0,romfile=,bus=pcie.0,addr=02.0 \
        -drive file="$ROOT",if=none,id=root,format=raw \
        -device virtio-blk-pci,drive=root,bus=pcie.0,addr=03.0 \
        -device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=04.0 \
        -device virtio-rng-pci,bus=rp1 \
        -fsdev local,id=fs0,path="$SHARE",security_model=none \
        -device virtio-9p-pci,fsdev=fs0,mount_tag=share,bus=pcie.0,addr=05.0
