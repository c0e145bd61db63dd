/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every bus name, object path, interface, error name and host path the
 * project uses, in one place (bolt's bolt-names.h). Changing one here changes
 * the contract: dbus/org.vfiohost.xml and the introspection test must agree. */

#define VH_BUS_NAME                 "org.vfiohost"
#define VH_MANAGER_PATH             "/org/vfiohost"
#define VH_DEVICE_PATH_PREFIX       "/org/vfiohost/device"
#define VH_GROUP_PATH_PREFIX        "/org/vfiohost/group"

#define VH_MANAGER_INTERFACE        "org.vfiohost.Manager1"
#define VH_DEVICE_INTERFACE         "org.vfiohost.Device1"
#define VH_GROUP_INTERFACE          "org.vfiohost.Group1"

#define VH_ERROR_PREFIX             "org.vfiohost.Error."
#define VH_ERROR_INVALID_ADDRESS    VH_ERROR_PREFIX "InvalidAddress"
#define VH_ERROR_NOT_FOUND          VH_ERROR_PREFIX "NotFound"
#define VH_ERROR_GROUP_NOT_VIABLE   VH_ERROR_PREFIX "GroupNotViable"
#define VH_ERROR_IN_USE             VH_ERROR_PREFIX "InUse"
#define VH_ERROR_HOST_CRITICAL      VH_ERROR_PREFIX "HostCritical"
#define VH_ERROR_HAS_VIRTUAL_FUNCTIONS VH_ERROR_PREFIX "HasVirtualFunctions"
#define VH_ERROR_VFIO_UNAVAILABLE   VH_ERROR_PREFIX "VfioUnavailable"
#define VH_ERROR_BUSY               VH_ERROR_PREFIX "Busy"
#define VH_ERROR_TIMEOUT            VH_ERROR_PREFIX "Timeout"
#define VH_ERROR_FAILED             VH_ERROR_PREFIX "Failed"

/* polkit actions (polkit/org.vfiohost.policy) */
#define VH_ACTION_BIND              "org.vfiohost.bind"
#define VH_ACTION_UNBIND            "org.vfiohost.unbind"
#define VH_ACTION_MANAGE            "org.vfiohost.manage"

/* Host paths, always relative to the host root (see service/core/vh-hostfs.h);
 * only the hostfs module joins them to the root. */
#define VH_SYSFS_PCI_DEVICES        "sys/bus/pci/devices"
#define VH_SYSFS_PCI_DRIVERS        "sys/bus/pci/drivers"
#define VH_SYSFS_PCI_BUS            "sys/bus/pci"
#define VH_SYSFS_IOMMU_GROUPS       "sys/kernel/iommu_groups"
#define VH_SYSFS_CLASS_IOMMU        "sys/class/iommu"
#define VH_SYSFS_MODULE             "sys/module"
#define VH_DEV_VFIO                 "dev/vfio"
#define VH_DEV_VFIO_CONTAINER       "dev/vfio/vfio"
#define VH_DEV_VFIO_DEVICES         "dev/vfio/devices"
#define VH_PROC                     "proc"
#define VH_DEV                      "dev"
#define VH_PROC_MODULES             "proc/modules"
#define VH_PROC_CONFIG_GZ           "proc/config.gz"
#define VH_PROC_CMDLINE             "proc/cmdline"
#define VH_PROC_CPUINFO             "proc/cpuinfo"
#define VH_PROC_INTERRUPTS          "proc/interrupts"
#define VH_PROC_MEMINFO             "proc/meminfo"
#define VH_SYSFS_ACPI_TABLES        "sys/firmware/acpi/tables"
#define VH_SYSFS_CPU_VULNERABILITIES "sys/devices/system/cpu/vulnerabilities"
#define VH_SYSFS_CPU_POSSIBLE       "sys/devices/system/cpu/possible"
#define VH_SYSFS_CGROUP             "sys/fs/cgroup"
#define VH_SYSFS_DEBUG_KVM          "sys/kernel/debug/kvm"
#define VH_DEV_KVM                  "dev/kvm"
#define VH_DEV_IOMMU                "dev/iommu"
#define VH_DEV_VHOST_NET            "dev/vhost-net"
#define VH_DEV_NET_TUN              "dev/net/tun"
#define VH_DEV_CPU0_MSR             "dev/cpu/0/msr"
#define VH_ETC_GROUP                "etc/group"
#define VH_ETC_UDEV_RULES           "etc/udev/rules.d"
#define VH_LIB_UDEV_RULES           "lib/udev/rules.d"
#define VH_USR_LIB_UDEV_RULES       "usr/lib/udev/rules.d"
#define VH_BOOT                     "boot"
#define VH_PROC_MOUNTS              "proc/mounts"
/* The host's view: init's mount and network namespaces, not the daemon's
 * own (a service's mount namespace has extra mounts; a private network
 * namespace would hide the host's routes). */
#define VH_PROC_INIT_MOUNTS         "proc/1/mounts"
#define VH_PROC_INIT_NET_ROUTE      "proc/1/net/route"
#define VH_PROC_INIT_NET_IPV6_ROUTE "proc/1/net/ipv6_route"
#define VH_PROC_NET_ROUTE           "proc/net/route"
#define VH_PROC_NET_IPV6_ROUTE      "proc/net/ipv6_route"
#define VH_PROC_FB                  "proc/fb"
#define VH_PROC_IOMEM               "proc/iomem"
#define VH_PROC_NVIDIA_GPUS         "proc/driver/nvidia/gpus"
#define VH_SYSFS_CLASS_BLOCK        "sys/class/block"
#define VH_SYSFS_CLASS_NET          "sys/class/net"
#define VH_SYSFS_CLASS_GRAPHICS     "sys/class/graphics"
#define VH_DEV_DRI                  "dev/dri"
#define VH_PROC_OSRELEASE           "proc/sys/kernel/osrelease"
#define VH_LIB_MODULES              "lib/modules"
/* What boot-time assignment wrote (docs/boot.md): /run is a tmpfs that
 * the initramfs hands over to the root file system. */
#define VH_RUN_BOOT_RECORDS         "run/vfiohost/boot"

/* PCI device attributes (Documentation/ABI/testing/sysfs-bus-pci) */
#define VH_ATTR_VENDOR              "vendor"
#define VH_ATTR_DEVICE              "device"
#define VH_ATTR_SUBSYSTEM_VENDOR    "subsystem_vendor"
#define VH_ATTR_SUBSYSTEM_DEVICE    "subsystem_device"
#define VH_ATTR_REVISION            "revision"
#define VH_ATTR_CLASS               "class"
#define VH_ATTR_CONFIG              "config"
#define VH_ATTR_DRIVER              "driver"
#define VH_ATTR_DRIVER_OVERRIDE     "driver_override"
#define VH_ATTR_IOMMU_GROUP         "iommu_group"
#define VH_ATTR_NUMA_NODE           "numa_node"
#define VH_ATTR_BOOT_VGA            "boot_vga"
#define VH_ATTR_RESET_METHOD        "reset_method"
#define VH_ATTR_D3COLD_ALLOWED      "d3cold_allowed"
#define VH_ATTR_PHYSFN              "physfn"
#define VH_ATTR_SRIOV_NUMVFS        "sriov_numvfs"
#define VH_ATTR_SRIOV_TOTALVFS      "sriov_totalvfs"
#define VH_ATTR_SRIOV_DRIVERS_AUTOPROBE "sriov_drivers_autoprobe"
#define VH_ATTR_SRIOV_OFFSET        "sriov_offset"
#define VH_ATTR_SRIOV_STRIDE        "sriov_stride"
#define VH_ATTR_VIRTFN_PREFIX       "virtfn"
#define VH_ATTR_VFIO_DEV            "vfio-dev"
#define VH_ATTR_GROUP_DEVICES       "devices"
#define VH_ATTR_BIND                "bind"
#define VH_ATTR_UNBIND              "unbind"
#define VH_ATTR_DRIVERS_PROBE       "drivers_probe"
#define VH_ATTR_GROUP_TYPE          "type"

#define VH_DRIVER_VFIO_PCI          "vfio-pci"
/* vfio-pci's variant drivers are built on this module (docs/binding.md) */
#define VH_MODULE_VFIO_PCI_CORE     "vfio_pci_core"
#define VH_MODULE_HOLDERS           "holders"
#define VH_DRIVER_MODULE_LINK       "module"
#define VH_ATTR_MODALIAS            "modalias"
#define VH_MODULES_DEP              "modules.dep"
#define VH_MODULES_ALIAS            "modules.alias"
/* vfio-pci as a PF's driver creates VFs only with this module parameter
 * (Y/N, 0644): sys/module/vfio_pci/parameters/enable_sriov. */
#define VH_MODULE_VFIO_PCI          "vfio_pci"
#define VH_PARAM_ENABLE_SRIOV       "enable_sriov"
/* vfiohost.assign=0 on the kernel command line: no boot-time assignment */
#define VH_CMDLINE_ASSIGN           "vfiohost.assign"
#define VH_DRIVER_PCIEPORT          "pcieport"
#define VH_DRIVER_VMD               "vmd"
