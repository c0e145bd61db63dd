#!/bin/sh
# Boots guest 1 under TCG (no KVM on these machines) with an emulated Intel
# IOMMU. The device layout is what tests/e2e/guest1/scenarios.sh expects:
#   00:02.0 e1000e (user netdev; no IPv6, whose router advertisement
#           would give it a second default route)   00:03.0 edu
#   00:04.0 root port -> 01:00.0 NVMe (ext4 image)
#   00:05.0 root port -> 02:00.0 virtio-rng
#   00:06.0 pcie-pci-bridge -> 03:01.0, 03:02.0 virtio-rng (one IOMMU group)
#   00:07.0 virtio-9p (the results share; never bound)
#   00:08.0 root port -> 04:00.0 NVMe SR-IOV PF (2 VFs at 04:00.1-2 once
#           enabled, each its own IOMMU group; no namespace)
#
# usage: qemu.sh VMLINUX INITRD SHARE_DIR NVME_IMG [EXTRA_APPEND]
# By hand: add "vh.mode=shell" to EXTRA_APPEND for a shell on the console
# instead of the scenarios (see docs/testing.md).
# no_timer_check: under TCG on a loaded machine the kernel's boot-time
# check of the IO-APIC timer can miss its ticks and panic ("timer doesn't
# work through Interrupt-remapped IO-APIC"); seen with intel_iommu=off.
set -eu
KERNEL=$1 INITRD=$2 SHARE=$3 NVME=$4
APPEND=${5:-}

exec qemu-system-x86_64 \
        -machine q35,kernel-irqchip=split -accel tcg -cpu max -smp 2 -m 1024 \
        -nodefaults -nographic -serial stdio -no-reboot \
        -device intel-iommu,intremap=on \
        -kernel "$KERNEL" -initrd "$INITRD" \
        -append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 no_timer_check quiet loglevel=4 $APPEND" \
        -netdev user,id=n0,ipv6=off -device e1000e,netdev=n0,romfile=,bus=pcie.0,addr=02.0 \
        -device edu,bus=pcie.0,addr=03.0 \
        -device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=04.0 \
        -drive file="$NVME",if=none,id=nvm,format=raw \
        -device nvme,serial=vfiohost-e2e,drive=nvm,bus=rp1 \
        -device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=05.0 \
        -device virtio-rng-pci,bus=rp2 \
        -device pcie-pci-bridge,id=pbr,bus=pcie.0,addr=06.0 \
        -device virtio-rng-pci,bus=pbr,addr=01.0 \
        -device virtio-rng-pci,bus=pbr,addr=02.0 \
        -device pcie-root-port,id=rp3,chassis=3,bus=pcie.0,addr=08.0 \
        -device nvme-subsys,id=sriov-subsys \
        -device nvme,serial=vfiohost-sriov,subsys=sriov-subsys,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,bus=rp3 \
        -fsdev local,id=fs0,path="$SHARE",security_model=none \
        -device virtio-9p-pci,fsdev=fs0,mount_tag=share,bus=pcie.0,addr=07.0
