/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host checks, in report order. Each reads beneath the root, adds one
 * entry and says what it read. Remedies are the concrete line to add or
 * command to run. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vh-holders.h"
#include "vh-kernel.h"
#include "vh-names.h"
#include "vh-readiness-private.h"
#include "vh-strv.h"

/* The emulated IOMMU to suggest to a QEMU guest that has none: only then
 * does the CPU vendor pick it (vh_iommu_kind_expected()). */
static const char *guest_viommu(const VhReadinessContext *c) {
        return vh_iommu_kind_expected(c) == VH_IOMMU_AMD
                ? "-device amd-iommu with -machine q35"
                : "-device intel-iommu,intremap=on with -machine q35,kernel-irqchip=split";
}

/* A VM that has a virtual IOMMU: described by its firmware, or active. */
static bool guest_has_viommu(const VhReadinessContext *c) {
        return c->iommu_kind != VH_IOMMU_NONE || c->host->iommu_enabled;
}

/* ---- cpu ---------------------------------------------------------------- */

static void check_cpu_virtualization(VhReadinessContext *c) {
        VhCheck *k;

        if (!c->have_cpuinfo) {
                k = vh_readiness_add(c, "cpu.virtualization", "cpu", VH_CHECK_INFO, "/" VH_PROC_CPUINFO);
                if (k)
                        CHECK_SUMMARY(c, k, "CPU flags could not be read");
                return;
        }
        if (c->vendor == VH_CPU_OTHER && !vh_cpu_has_flag(c, "vmx") && !vh_cpu_has_flag(c, "svm")) {
                k = vh_readiness_add(c, "cpu.virtualization", "cpu", VH_CHECK_INFO, "/" VH_PROC_CPUINFO);
                if (k) {
                        CHECK_SUMMARY(c, k, "Not an x86 CPU: hardware virtualization is not shown in CPU flags");
                        CHECK_DETAIL(c, k, "On arm64, ppc64 and s390x KVM support is checked through /dev/kvm.");
                }
                return;
        }

        if (vh_cpu_has_flag(c, "vmx") || vh_cpu_has_flag(c, "svm")) {
                k = vh_readiness_add(c, "cpu.virtualization", "cpu", VH_CHECK_PASS, "/" VH_PROC_CPUINFO);
                if (k)
                        CHECK_SUMMARY(c, k, "Hardware virtualization is available (%s)",
                                      vh_cpu_has_flag(c, "vmx") ? "Intel VT-x, vmx" : "AMD-V, svm");
                return;
        }

        k = vh_readiness_add(c, "cpu.virtualization", "cpu", VH_CHECK_FAIL, "/" VH_PROC_CPUINFO);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "The CPU does not offer hardware virtualization (no vmx or svm flag)");
        if (c->guest) {
                CHECK_DETAIL(c, k, "This is a virtual machine and its hypervisor does not pass virtualization through.");
                CHECK_REMEDY(c, k, "On the host, enable nested virtualization (options kvm_intel nested=1, or kvm_amd "
                             "nested=1, in /etc/modprobe.d/kvm.conf) and give this VM the host CPU model "
                             "(QEMU -cpu host, libvirt <cpu mode='host-passthrough'/>).");
        } else {
                CHECK_DETAIL(c, k, "Without VT-x/AMD-V, KVM cannot run guests.");
                CHECK_REMEDY(c, k, "Enable Intel Virtualization Technology (VT-x) or AMD SVM Mode in the firmware setup.");
        }
}

static void check_cpu_hypervisor(VhReadinessContext *c) {
        VhCheck *k;

        if (!c->guest) {
                k = vh_readiness_add(c, "cpu.hypervisor", "cpu", VH_CHECK_PASS, "/" VH_PROC_CPUINFO);
                if (k)
                        CHECK_SUMMARY(c, k, "Running on bare metal (no hypervisor flag)");
                return;
        }
        k = vh_readiness_add(c, "cpu.hypervisor", "cpu", VH_CHECK_INFO, "/" VH_PROC_CPUINFO);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "This host is a virtual machine guest");
        if (!guest_has_viommu(c)) {
                CHECK_DETAIL(c, k, "The CPU flags include 'hypervisor'. Passing devices through from inside a guest "
                             "needs a virtual IOMMU and nested virtualization from the outer hypervisor.");
                CHECK_REMEDY(c, k, "Give the VM a virtual IOMMU (QEMU: -device intel-iommu,intremap=on with -machine "
                             "q35,kernel-irqchip=split) and nested virtualization, or run vfiohost on the physical host.");
                return;
        }
        /* It has one already: telling it to add one would be wrong. */
        CHECK_DETAIL(c, k, "The CPU flags include 'hypervisor'. This VM has a virtual IOMMU (%s, %s); passing devices "
                     "through from inside it also needs nested virtualization from the outer hypervisor.",
                     vh_iommu_kind_info(c->iommu_kind)->name ?: "active", c->iommu_source ?: "/" VH_SYSFS_CLASS_IOMMU);
        if (c->iommu_kind == VH_IOMMU_INTEL)
                CHECK_REMEDY(c, k, "Devices the outer hypervisor assigns to this VM need its Intel vIOMMU in caching mode "
                             "(QEMU: -device intel-iommu,intremap=on,caching-mode=on).");
        else
                CHECK_REMEDY(c, k, "Devices to pass on must first be assigned to this VM by the outer hypervisor.");
}

/* IA32_FEATURE_CONTROL (0x3a): bit 0 lock, bit 2 VMX outside SMX.
 * AMD VM_CR (0xc0010114): bit 4 SVMDIS. */
static void check_cpu_firmware(VhReadinessContext *c) {
        uint64_t msr = 0;
        uint32_t index = c->vendor == VH_CPU_AMD ? 0xc0010114 : 0x3a;
        VhCheck *k;
        int r;

        if (c->vendor == VH_CPU_OTHER)
                return;

        r = vh_hostfs_read_msr(c->fs, 0, index, &msr);
        if (r < 0) {
                k = vh_readiness_add(c, "cpu.firmware-enabled", "cpu", VH_CHECK_INFO, "/" VH_DEV_CPU0_MSR);
                if (k) {
                        CHECK_SUMMARY(c, k, "Whether the firmware enabled %s could not be read",
                                      c->vendor == VH_CPU_AMD ? "SVM" : "VT-x");
                        CHECK_DETAIL(c, k, "%s could not be read: %s.",
                                     c->vendor == VH_CPU_AMD ? "VM_CR" : "IA32_FEATURE_CONTROL", vh_msr_error_reason(r));
                        if (vh_msr_error_remedy(r))
                                CHECK_REMEDY(c, k, "%s", vh_msr_error_remedy(r));
                }
                return;
        }

        if (c->vendor == VH_CPU_INTEL) {
                bool locked = msr & 1, vmx = msr & 4;

                if (locked && !vmx) {
                        k = vh_readiness_add(c, "cpu.firmware-enabled", "cpu", VH_CHECK_FAIL, "/" VH_DEV_CPU0_MSR " (IA32_FEATURE_CONTROL)");
                        if (k) {
                                CHECK_SUMMARY(c, k, "VT-x is disabled and locked by the firmware");
                                CHECK_DETAIL(c, k, "IA32_FEATURE_CONTROL = %#" PRIx64 ": locked, VMX outside SMX off.", msr);
                                CHECK_REMEDY(c, k, "Enable Intel Virtualization Technology in the firmware setup.");
                        }
                        return;
                }
                k = vh_readiness_add(c, "cpu.firmware-enabled", "cpu", VH_CHECK_PASS, "/" VH_DEV_CPU0_MSR " (IA32_FEATURE_CONTROL)");
                if (k) {
                        CHECK_SUMMARY(c, k, "The firmware leaves VT-x enabled");
                        CHECK_DETAIL(c, k, "IA32_FEATURE_CONTROL = %#" PRIx64 ".", msr);
                }
                return;
        }

        if (msr & 0x10) {
                k = vh_readiness_add(c, "cpu.firmware-enabled", "cpu", VH_CHECK_FAIL, "/" VH_DEV_CPU0_MSR " (VM_CR)");
                if (k) {
                        CHECK_SUMMARY(c, k, "SVM is disabled by the firmware");
                        CHECK_DETAIL(c, k, "VM_CR = %#" PRIx64 ": SVMDIS set.", msr);
                        CHECK_REMEDY(c, k, "Enable SVM Mode in the firmware setup.");
                }
                return;
        }
        k = vh_readiness_add(c, "cpu.firmware-enabled", "cpu", VH_CHECK_PASS, "/" VH_DEV_CPU0_MSR " (VM_CR)");
        if (k)
                CHECK_SUMMARY(c, k, "The firmware leaves SVM enabled");
}

static void check_kvm_nested(VhReadinessContext *c) {
        static const char * const modules[] = { "kvm_intel", "kvm_amd" };
        VhCheck *k;

        for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
                _cleanup_free_ char *value = NULL, *source = NULL;

                if (vh_hostfs_read_string(c->fs, &value, VH_SYSFS_MODULE, modules[i], "parameters", "nested", NULL) < 0)
                        continue;
                if (asprintf(&source, "/" VH_SYSFS_MODULE "/%s/parameters/nested", modules[i]) < 0) {
                        c->oom = true;
                        return;
                }
                bool on = strcmp(value, "Y") == 0 || strcmp(value, "1") == 0;

                k = vh_readiness_add(c, "kvm.nested", "cpu", on ? VH_CHECK_PASS : VH_CHECK_INFO, source);
                if (!k)
                        return;
                if (on)
                        CHECK_SUMMARY(c, k, "Nested virtualization is enabled (%s)", modules[i]);
                else {
                        CHECK_SUMMARY(c, k, "Nested virtualization is disabled (%s)", modules[i]);
                        CHECK_REMEDY(c, k, "Only needed to run hypervisors inside VMs: "
                                     "echo 'options %s nested=1' > /etc/modprobe.d/kvm.conf and reload %s.",
                                     modules[i], modules[i]);
                }
                return;
        }
        k = vh_readiness_add(c, "kvm.nested", "cpu", VH_CHECK_INFO, "/" VH_SYSFS_MODULE "/kvm_{intel,amd}/parameters/nested");
        if (k)
                CHECK_SUMMARY(c, k, "Nested virtualization: kvm_intel/kvm_amd is not loaded");
}

static void check_kvm_device(VhReadinessContext *c) {
        struct stat st;
        VhCheck *k;

        if (!vh_hostfs_exists(c->fs, VH_DEV, NULL)) {
                /* A recorded host tree without /dev says nothing either way. */
                k = vh_readiness_add(c, "kvm.device", "cpu", VH_CHECK_INFO, "/" VH_DEV_KVM);
                if (k)
                        CHECK_SUMMARY(c, k, "/" VH_DEV " is not part of this host tree; /" VH_DEV_KVM " cannot be checked");
                return;
        }

        if (vh_hostfs_stat(c->fs, &st, VH_DEV_KVM, NULL) < 0) {
                k = vh_readiness_add(c, "kvm.device", "cpu", VH_CHECK_FAIL, "/" VH_DEV_KVM);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "/" VH_DEV_KVM " does not exist: KVM is not available");
                if (!vh_cpu_has_flag(c, "vmx") && !vh_cpu_has_flag(c, "svm"))
                        CHECK_REMEDY(c, k, "Enable hardware virtualization first (see cpu.virtualization); then load KVM.");
                else
                        CHECK_REMEDY(c, k, "modprobe %s (and add it to /etc/modules-load.d/kvm.conf).",
                                     c->vendor == VH_CPU_AMD ? "kvm_amd" : "kvm_intel");
                return;
        }

        k = vh_readiness_add(c, "kvm.device", "cpu", VH_CHECK_PASS, "/" VH_DEV_KVM);
        if (k)
                CHECK_SUMMARY(c, k, "/" VH_DEV_KVM " exists");
}

static char *group_name(const VhReadinessContext *c, gid_t gid) {
        _cleanup_free_ char *groups = NULL;
        char *line, *save = NULL;

        if (vh_hostfs_read_file(c->fs, &groups, NULL, VH_ETC_GROUP, NULL) < 0)
                return NULL;
        for (line = strtok_r(groups, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[256];
                unsigned g;

                if (sscanf(line, "%255[^:]:%*[^:]:%u:", name, &g) == 2 && g == gid)
                        return strdup(name);
        }
        return NULL;
}

static void check_kvm_access(VhReadinessContext *c) {
        _cleanup_free_ char *group = NULL;
        struct stat st;
        VhCheck *k;

        if (vh_hostfs_stat(c->fs, &st, VH_DEV_KVM, NULL) < 0)
                return;

        group = group_name(c, st.st_gid);
        if (st.st_mode & S_IROTH && st.st_mode & S_IWOTH) {
                k = vh_readiness_add(c, "kvm.access", "cpu", VH_CHECK_PASS, "/" VH_DEV_KVM);
                if (k)
                        CHECK_SUMMARY(c, k, "Every user may use /dev/kvm (mode %04o)", (unsigned) (st.st_mode & 07777));
                return;
        }
        if (st.st_mode & S_IRGRP && st.st_mode & S_IWGRP) {
                k = vh_readiness_add(c, "kvm.access", "cpu", VH_CHECK_INFO, "/" VH_DEV_KVM ", /" VH_ETC_GROUP);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "Members of group %s may use /dev/kvm (mode %04o)", group ?: "?",
                              (unsigned) (st.st_mode & 07777));
                CHECK_REMEDY(c, k, "Add the user that runs the VMs to the group: usermod -aG %s USER.", group ?: "kvm");
                return;
        }
        k = vh_readiness_add(c, "kvm.access", "cpu", VH_CHECK_WARN, "/" VH_DEV_KVM);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "Only root may use /dev/kvm (mode %04o)", (unsigned) (st.st_mode & 07777));
        CHECK_REMEDY(c, k, "Let udev give it to group kvm: KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\" "
                     "(systemd's 50-udev-default.rules does this).");
}

/* ---- iommu -------------------------------------------------------------- */

static void check_iommu_firmware(VhReadinessContext *c) {
        const VhIommuKindInfo *fw = vh_iommu_kind_info(c->firmware_iommu_kind);
        VhIommuKind expected;
        VhCheck *k;

        if (fw->name) {
                _cleanup_free_ char *source = NULL;

                if (asprintf(&source, "/" VH_SYSFS_ACPI_TABLES "/%s", fw->table) < 0) {
                        c->oom = true;
                        return;
                }
                k = vh_readiness_add(c, "iommu.firmware", "iommu", VH_CHECK_PASS, source);
                if (k)
                        CHECK_SUMMARY(c, k, "The firmware describes an IOMMU: %s (ACPI %s table)", fw->name, fw->table);
                return;
        }

        /* The kernel may still have one (device tree, virtual IOMMU): then
         * iommu.kernel passes and this is only worth knowing. */
        k = vh_readiness_add(c, "iommu.firmware", "iommu", c->host->iommu_enabled ? VH_CHECK_INFO : VH_CHECK_WARN,
                             "/" VH_SYSFS_ACPI_TABLES);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "No ACPI DMAR, IVRS, IORT or VIOT table: the firmware does not announce an IOMMU");
        if (c->host->iommu_enabled && c->iommu_kind != VH_IOMMU_NONE)
                CHECK_DETAIL(c, k, "The kernel drives one all the same: %s (%s).", vh_iommu_kind_info(c->iommu_kind)->name,
                             c->iommu_source);
        if (c->host->iommu_enabled)
                return;
        /* Nothing describes an IOMMU: the CPU's vendor is the best guess at
         * which one the machine has. */
        expected = vh_iommu_kind_expected(c);
        if (c->guest)
                CHECK_REMEDY(c, k, "This VM has no virtual IOMMU: give it one in the hypervisor (QEMU: %s, or -device "
                             "virtio-iommu-pci).", guest_viommu(c));
        else
                CHECK_REMEDY(c, k, "Enable %s in the firmware setup (often called VT-d, AMD IOMMU or SVM/IOMMU).",
                             expected == VH_IOMMU_AMD ? "the IOMMU (AMD-Vi)" :
                             expected == VH_IOMMU_INTEL ? "VT-d" : "the IOMMU");
}

/* The command-line parameter that turns the IOMMU off, if one does:
 * "<param>=off..." for its kind, or the generic iommu=off. */
static bool iommu_cmdline_off(const VhReadinessContext *c, const char *param, const char **ret_key,
                              const char **ret_value) {
        const char *value = param ? vh_cmdline_value(c, param) : NULL, *generic = vh_cmdline_value(c, "iommu");

        if (value && strncmp(value, "off", 3) == 0) {
                *ret_key = param;
                *ret_value = value;
                return true;
        }
        if (generic && strcmp(generic, "off") == 0) {
                *ret_key = "iommu";
                *ret_value = generic;
                return true;
        }
        return false;
}

/* intel_iommu=on is needed unless the kernel enables VT-d by default. */
static bool intel_iommu_default_on(const VhReadinessContext *c) {
        return vh_iommu_intel_default_on(c->kconfig);
}

/* Off on the command line: taking the word away is not enough where VT-d
 * is off by default. */
static void iommu_off_remedy(VhReadinessContext *c, VhCheck *k, VhIommuKind kind, const char *key,
                             const char *value) {
        const char *on = vh_cmdline_value(c, "intel_iommu");

        if (kind == VH_IOMMU_INTEL && !intel_iommu_default_on(c) && !(on && strstr(on, "on")))
                CHECK_REMEDY(c, k, "Replace %s=%s with intel_iommu=on on the kernel command line: %s.", key, value,
                             vh_cmdline_remedy_hint());
        else
                CHECK_REMEDY(c, k, "Remove %s=%s from the kernel command line: %s.", key, value, vh_cmdline_remedy_hint());
}

static bool iommu_driver_missing(const VhReadinessContext *c, const VhIommuKindInfo *info) {
        return info->kconfig && c->kconfig && vh_kconfig_get(c->kconfig, info->kconfig) == VH_KCONFIG_UNSET;
}

/* The platform describes an IOMMU the kernel did not turn on: the fix is
 * the kernel's, never the firmware's or a vIOMMU to add. */
static void iommu_kernel_remedy_described(VhReadinessContext *c, VhCheck *k) {
        const VhIommuKindInfo *info = vh_iommu_kind_info(c->iommu_kind);
        const char *key, *value, *on = info->param ? vh_cmdline_value(c, info->param) : NULL;

        CHECK_DETAIL(c, k, "%s describes %s%s, but the kernel did not turn it on.", c->iommu_source, info->name,
                     c->guest ? " (this VM's emulated IOMMU)" : "");

        if (iommu_cmdline_off(c, info->param, &key, &value)) {
                iommu_off_remedy(c, k, c->iommu_kind, key, value);
                return;
        }
        if (iommu_driver_missing(c, info)) {
                CHECK_REMEDY(c, k, "Use a kernel built with CONFIG_%s: this one has no %s driver.", info->kconfig,
                             info->name);
                return;
        }
        switch (c->iommu_kind) {
        case VH_IOMMU_INTEL:
                if (!intel_iommu_default_on(c) && !(on && strstr(on, "on")))
                        CHECK_REMEDY(c, k, "Add intel_iommu=on to the kernel command line: %s.", vh_cmdline_remedy_hint());
                else
                        CHECK_REMEDY(c, k, "intel_iommu is on, yet the kernel did not enable VT-d: see dmesg | grep -e DMAR "
                                     "-e IOMMU for why (a broken DMAR table needs a firmware update).");
                break;
        case VH_IOMMU_AMD:
                CHECK_REMEDY(c, k, "AMD-Vi is on by default: see dmesg | grep AMD-Vi for why the kernel did not enable it "
                             "(a broken IVRS table needs a firmware update).");
                break;
        case VH_IOMMU_ARM:
                CHECK_REMEDY(c, k, "Use a kernel with the SMMU driver (CONFIG_ARM_SMMU_V3 or CONFIG_ARM_SMMU) and see "
                             "dmesg | grep -i smmu for why it did not probe.");
                break;
        default:
                CHECK_REMEDY(c, k, "Use a kernel with the %s driver and see dmesg for why it did not probe.", info->name);
                break;
        }
}

static void check_iommu_kernel(VhReadinessContext *c) {
        _cleanup_free_ char *source = NULL;
        VhIommuKind expected;
        VhCheck *k;

        if (c->host->iommu_enabled) {
                k = vh_readiness_add(c, "iommu.kernel", "iommu", VH_CHECK_PASS,
                                     "/" VH_SYSFS_CLASS_IOMMU ", /" VH_SYSFS_IOMMU_GROUPS);
                if (!k)
                        return;
                if (c->iommu_kind != VH_IOMMU_NONE)
                        CHECK_SUMMARY(c, k, "The kernel has an active IOMMU (%s) with %zu IOMMU groups",
                                      vh_iommu_kind_info(c->iommu_kind)->name, c->host->n_groups);
                else
                        CHECK_SUMMARY(c, k, "The kernel has an active IOMMU with %zu IOMMU groups", c->host->n_groups);
                return;
        }

        /* The firmware's table named the kind: it is a source too. */
        if (asprintf(&source, "/" VH_SYSFS_CLASS_IOMMU ", /" VH_SYSFS_IOMMU_GROUPS "%s%s",
                     c->iommu_source ? ", " : "", strempty(c->iommu_source)) < 0) {
                c->oom = true;
                return;
        }
        k = vh_readiness_add(c, "iommu.kernel", "iommu", VH_CHECK_FAIL, source);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "The kernel has no active IOMMU: no IOMMU groups, devices cannot be isolated for VFIO");
        if (c->iommu_kind != VH_IOMMU_NONE) {
                iommu_kernel_remedy_described(c, k);
                return;
        }

        /* Nothing describes one: the CPU's vendor picks the advice. */
        expected = vh_iommu_kind_expected(c);
        if (c->guest)
                CHECK_REMEDY(c, k, "This is a VM: give it a virtual IOMMU (QEMU: %s, or -device virtio-iommu-pci)%s.",
                             guest_viommu(c),
                             expected == VH_IOMMU_AMD ? "" : "; with an Intel vIOMMU boot the guest with intel_iommu=on");
        else if (expected == VH_IOMMU_AMD)
                CHECK_REMEDY(c, k, "Enable the IOMMU (AMD-Vi) in the firmware setup; the kernel turns it on by default "
                             "unless amd_iommu=off is on the command line.");
        else if (expected == VH_IOMMU_INTEL)
                CHECK_REMEDY(c, k, "Enable VT-d in the firmware setup and add intel_iommu=on to the kernel command line: %s.",
                             vh_cmdline_remedy_hint());
        else
                CHECK_REMEDY(c, k, "Enable the IOMMU in the firmware setup and use a kernel with its driver.");
}

static void check_iommu_cmdline(VhReadinessContext *c) {
        VhIommuKind kind = vh_iommu_kind_expected(c);
        const VhIommuKindInfo *info = vh_iommu_kind_info(kind);
        const char *param = info->param;
        const char *value = param ? vh_cmdline_value(c, param) : NULL, *key, *off;
        VhCheck *k;

        if (iommu_cmdline_off(c, param, &key, &off)) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_FAIL, "/" VH_PROC_CMDLINE);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "The kernel command line turns the IOMMU off (%s=%s)", key, off);
                if (c->iommu_kind != VH_IOMMU_NONE)
                        CHECK_DETAIL(c, k, "The IOMMU is %s (%s).", info->name, c->iommu_source);
                iommu_off_remedy(c, k, kind, key, off);
                return;
        }

        if (value && strstr(value, "on")) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
                if (k)
                        CHECK_SUMMARY(c, k, "%s=%s is on the kernel command line", param, value);
                return;
        }

        /* Nothing on the command line helps a kernel without the driver;
         * kernel.config-required says so too. */
        if (iommu_driver_missing(c, info)) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_WARN, vh_kconfig_source(c->kconfig));
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "This kernel has no %s driver (CONFIG_%s is not set)", info->name, info->kconfig);
                CHECK_REMEDY(c, k, "Use a kernel built with CONFIG_%s; no command-line option can enable it.",
                             info->kconfig);
                return;
        }

        /* AMD-Vi is on by default in every kernel; not asking for it is fine
         * (precheck.sh's false FAIL). */
        if (kind == VH_IOMMU_AMD) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
                if (k) {
                        CHECK_SUMMARY(c, k, "amd_iommu is on by default; nothing is needed on the command line");
                        CHECK_DETAIL(c, k, "amd_iommu=on is not a valid value; only amd_iommu=off would disable it.");
                }
                return;
        }

        if (kind == VH_IOMMU_INTEL && intel_iommu_default_on(c)) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_PASS, vh_kconfig_source(c->kconfig));
                if (k)
                        CHECK_SUMMARY(c, k, "intel_iommu is on by default in this kernel (CONFIG_INTEL_IOMMU_DEFAULT_ON=y)");
                return;
        }

        /* The SMMU and virtio-iommu drivers have no switch of their own. */
        if (!param && kind != VH_IOMMU_NONE) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
                if (k)
                        CHECK_SUMMARY(c, k, "%s needs no option on the kernel command line", info->name);
                return;
        }

        if (c->host->iommu_enabled) {
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
                if (!k)
                        return;
                if (param)
                        CHECK_SUMMARY(c, k, "The IOMMU is active without %s=on on the command line", param);
                else
                        CHECK_SUMMARY(c, k, "The IOMMU is active; nothing is needed on the command line");
                return;
        }

        if (!param) {
                /* No IOMMU described and no CPU vendor to guess one from:
                 * iommu.kernel and iommu.firmware say what is missing. */
                k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_INFO, "/" VH_PROC_CMDLINE);
                if (k)
                        CHECK_SUMMARY(c, k, "No IOMMU is described or active: no command-line option to judge");
                return;
        }

        k = vh_readiness_add(c, "iommu.cmdline", "iommu", VH_CHECK_WARN, "/" VH_PROC_CMDLINE);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "%s=on is not on the kernel command line%s", param,
                      c->kconfig ? " and this kernel does not enable it by default" : "");
        if (c->iommu_kind != VH_IOMMU_NONE)
                CHECK_DETAIL(c, k, "The IOMMU is %s (%s).", info->name, c->iommu_source);
        CHECK_REMEDY(c, k, "Add %s=on to the kernel command line: %s.", param, vh_cmdline_remedy_hint());
}

static void check_iommu_passthrough(VhReadinessContext *c) {
        const char *value = vh_cmdline_value(c, "iommu");
        VhCheck *k;

        if (value && strcmp(value, "pt") == 0) {
                k = vh_readiness_add(c, "iommu.passthrough", "iommu", VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
                if (k)
                        CHECK_SUMMARY(c, k, "iommu=pt: host devices bypass DMA translation");
                return;
        }
        k = vh_readiness_add(c, "iommu.passthrough", "iommu", VH_CHECK_INFO, "/" VH_PROC_CMDLINE);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "iommu=pt is not set: host devices use DMA translation");
        CHECK_DETAIL(c, k, "Not needed for VFIO; translation for host drivers costs some I/O performance.");
        CHECK_REMEDY(c, k, "Optionally add iommu=pt to the kernel command line: %s.", vh_cmdline_remedy_hint());
}

static void check_interrupt_remapping(VhReadinessContext *c) {
        _cleanup_free_ char *interrupts = NULL;
        VhCheck *k;

        if (!c->host->iommu_enabled) {
                k = vh_readiness_add(c, "iommu.interrupt-remapping", "iommu", VH_CHECK_INFO, "/" VH_PROC_INTERRUPTS);
                if (k)
                        CHECK_SUMMARY(c, k, "Interrupt remapping: not applicable without an IOMMU");
                return;
        }
        if (vh_hostfs_read_file(c->fs, &interrupts, NULL, VH_PROC_INTERRUPTS, NULL) < 0) {
                k = vh_readiness_add(c, "iommu.interrupt-remapping", "iommu", VH_CHECK_INFO, "/" VH_PROC_INTERRUPTS);
                if (k)
                        CHECK_SUMMARY(c, k, "Interrupt remapping: /proc/interrupts could not be read");
                return;
        }
        /* Remapped interrupt chips are named "IR-PCI-MSI", "IR-IO-APIC". */
        if (strstr(interrupts, "IR-")) {
                k = vh_readiness_add(c, "iommu.interrupt-remapping", "iommu", VH_CHECK_PASS, "/" VH_PROC_INTERRUPTS);
                if (k)
                        CHECK_SUMMARY(c, k, "Interrupt remapping is active (IR- interrupt chips)");
                return;
        }
        k = vh_readiness_add(c, "iommu.interrupt-remapping", "iommu", VH_CHECK_WARN, "/" VH_PROC_INTERRUPTS);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "Interrupt remapping is not active");
        CHECK_DETAIL(c, k, "vfio_iommu_type1 refuses to assign devices without it, unless allow_unsafe_interrupts=1, "
                     "which lets a guest forge interrupts (MSI injection).");
        CHECK_REMEDY(c, k, "Remove intremap=off / nointremap from the kernel command line and enable interrupt "
                     "remapping (x2APIC) in the firmware.");
}

static void check_acs_override(VhReadinessContext *c) {
        const char *value = vh_cmdline_value(c, "pcie_acs_override");
        VhCheck *k;

        if (!value) {
                k = vh_readiness_add(c, "iommu.acs-override", "iommu", VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
                if (k)
                        CHECK_SUMMARY(c, k, "No ACS override: IOMMU groups reflect the hardware's isolation");
                return;
        }
        k = vh_readiness_add(c, "iommu.acs-override", "iommu", VH_CHECK_RISK, "/" VH_PROC_CMDLINE);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "ACS override is on (pcie_acs_override=%s): IOMMU groups are split by decree", value);
        CHECK_DETAIL(c, k, "Devices the kernel now puts in separate groups may still reach each other by peer-to-peer "
                     "DMA: a guest may read or write host memory behind another device.");
        CHECK_REMEDY(c, k, "Prefer a slot whose group is isolated in hardware; remove pcie_acs_override= when you can.");
}

static void check_unsafe_interrupts(VhReadinessContext *c) {
        _cleanup_free_ char *value = NULL;
        const char *cmd = vh_cmdline_value(c, "vfio_iommu_type1.allow_unsafe_interrupts");
        bool unsafe = cmd && (strcmp(cmd, "1") == 0 || strcmp(cmd, "Y") == 0 || strcmp(cmd, "y") == 0);
        VhCheck *k;

        if (vh_hostfs_read_string(c->fs, &value, VH_SYSFS_MODULE, "vfio_iommu_type1", "parameters",
                                  "allow_unsafe_interrupts", NULL) >= 0)
                unsafe = unsafe || strcmp(value, "Y") == 0 || strcmp(value, "1") == 0;

        k = vh_readiness_add(c, "iommu.unsafe-interrupts", "iommu", unsafe ? VH_CHECK_RISK : VH_CHECK_PASS,
                             "/" VH_SYSFS_MODULE "/vfio_iommu_type1/parameters/allow_unsafe_interrupts, /" VH_PROC_CMDLINE);
        if (!k)
                return;
        if (!unsafe) {
                CHECK_SUMMARY(c, k, "vfio_iommu_type1 does not allow unsafe interrupts");
                return;
        }
        CHECK_SUMMARY(c, k, "vfio_iommu_type1 allow_unsafe_interrupts is on");
        CHECK_DETAIL(c, k, "Without interrupt remapping a guest can inject interrupts into the host.");
        CHECK_REMEDY(c, k, "Enable interrupt remapping and drop allow_unsafe_interrupts from /etc/modprobe.d and the command line.");
}

static void check_domain_types(VhReadinessContext *c) {
        size_t dma = 0, fq = 0, identity = 0, other = 0, unknown = 0;
        VhCheck *k;

        if (c->host->n_groups == 0)
                return;
        for (size_t i = 0; i < c->host->n_groups; i++) {
                const char *t = c->host->groups[i]->type;

                if (!t)
                        unknown++;
                else if (strcmp(t, "DMA") == 0)
                        dma++;
                else if (strcmp(t, "DMA-FQ") == 0)
                        fq++;
                else if (strcmp(t, "identity") == 0)
                        identity++;
                else
                        other++;
        }
        /* Known types are all fine for VFIO; a group without one means a
         * kernel older than 5.6, which predates much of what vfiohost reads. */
        k = vh_readiness_add(c, "iommu.domain-types", "iommu", unknown ? VH_CHECK_INFO : VH_CHECK_PASS,
                             "/" VH_SYSFS_IOMMU_GROUPS "/*/type");
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "Default domain types: %zu DMA, %zu DMA-FQ, %zu identity, %zu other, %zu unknown",
                      dma, fq, identity, other, unknown);
        CHECK_DETAIL(c, k, "vfio-pci switches a group to its own domain when a VM opens it, whatever its default.");
        if (unknown)
                CHECK_REMEDY(c, k, "Groups without a type file come from kernels before 5.6; use a newer kernel.");
}

/* ---- vfio --------------------------------------------------------------- */

/* Loaded, built in, or — for vfio and vfio-pci — implied by a registered
 * vfio-pci driver. */
static bool vfio_module_present(const VhReadinessContext *c, const char *name) {
        if (vh_module_loaded(c, name))
                return true;
        if ((strcmp(name, "vfio-pci") == 0 || strcmp(name, "vfio") == 0) && vh_kernel_vfio_pci_registered(c->fs))
                return true;
        return false;
}

static void check_vfio_modules(VhReadinessContext *c) {
        static const char * const needed[] = { "vfio", "vfio-pci", "vfio_iommu_type1" };
        _cleanup_free_ char *missing = NULL, *loadable = NULL;
        bool core_missing = false;
        VhCheck *k;

        for (size_t i = 0; i < ELEMENTSOF(needed); i++) {
                char **list;
                char *s;

                if (vfio_module_present(c, needed[i]))
                        continue;
                if (vh_module_available(c, needed[i]))
                        list = &loadable;
                else {
                        list = &missing;
                        core_missing = core_missing || strcmp(needed[i], "vfio_iommu_type1") != 0;
                }
                if (asprintf(&s, "%s%s%s", *list ?: "", *list ? ", " : "", needed[i]) < 0) {
                        c->oom = true;
                        return;
                }
                free(*list);
                *list = s;
        }

        /* Before 6.2 vfio_virqfd was a module of its own, unless folded in
         * (VFIO_VIRQFD=y, backports); from 6.2 it is part of vfio (asking for
         * it there is precheck.sh's false WARN). It is missing only when the
         * config says it is a module that is not installed, and never while
         * vfio-pci itself is loaded: then it is there in some form. */
        if (c->release_major > 0 && (c->release_major < 6 || (c->release_major == 6 && c->release_minor < 2)) &&
            !vh_module_loaded(c, "vfio_virqfd")) {
                VhKconfigValue v = c->kconfig ? vh_kconfig_get(c->kconfig, "VFIO_VIRQFD") : VH_KCONFIG_UNSET;
                char **list = NULL;
                char *s;

                if (vh_module_available(c, "vfio_virqfd"))
                        list = &loadable;
                else if (v == VH_KCONFIG_MODULE && !vfio_module_present(c, "vfio-pci")) {
                        list = &missing;
                        core_missing = true;
                }
                if (list) {
                        if (asprintf(&s, "%s%svfio_virqfd", *list ?: "", *list ? ", " : "") < 0) {
                                c->oom = true;
                                return;
                        }
                        free(*list);
                        *list = s;
                }
        }

        if (core_missing) {
                k = vh_readiness_add(c, "vfio.modules", "vfio", VH_CHECK_FAIL,
                                     "/" VH_PROC_MODULES ", /" VH_SYSFS_MODULE ", /" VH_LIB_MODULES "/<release>/modules.{dep,builtin}");
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "VFIO is not available in this kernel: %s neither loaded nor installed", missing);
                CHECK_DETAIL(c, k, "Kernel %s.", c->release ?: "(unknown release)");
                CHECK_REMEDY(c, k, "Install and boot a kernel built with CONFIG_VFIO, CONFIG_VFIO_PCI and "
                             "CONFIG_VFIO_IOMMU_TYPE1 (Debian's and most distributions' stock kernels are).");
                return;
        }
        if (missing) {
                /* vfio-pci is there but the type1 IOMMU backend is not: only
                 * iommufd-capable VMMs can use it. */
                k = vh_readiness_add(c, "vfio.modules", "vfio", VH_CHECK_WARN,
                                     "/" VH_PROC_MODULES ", /" VH_SYSFS_MODULE ", /" VH_LIB_MODULES "/<release>/modules.dep");
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "vfio-pci is available but %s is not", missing);
                CHECK_DETAIL(c, k, "Without the type1 backend, VMMs that use VFIO containers cannot map guest memory.");
                CHECK_REMEDY(c, k, "Use a kernel with CONFIG_VFIO_IOMMU_TYPE1, or a VMM that uses iommufd.");
                return;
        }
        if (loadable) {
                k = vh_readiness_add(c, "vfio.modules", "vfio", VH_CHECK_PASS,
                                     "/" VH_PROC_MODULES ", /" VH_LIB_MODULES "/<release>/modules.dep");
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "VFIO modules are installed; %s not loaded yet (vfiohostd loads vfio-pci when binding)", loadable);
                CHECK_DETAIL(c, k, "To load them at boot: printf 'vfio\\nvfio_iommu_type1\\nvfio-pci\\n' > /etc/modules-load.d/vfio.conf");
                return;
        }
        k = vh_readiness_add(c, "vfio.modules", "vfio", VH_CHECK_PASS, "/" VH_PROC_MODULES ", /" VH_SYSFS_MODULE);
        if (k)
                CHECK_SUMMARY(c, k, "vfio, vfio_iommu_type1 and vfio-pci are loaded or built in");
}

static void check_vfio_container(VhReadinessContext *c) {
        VhCheck *k;

        if (vh_hostfs_exists(c->fs, VH_DEV_VFIO_CONTAINER, NULL)) {
                k = vh_readiness_add(c, "vfio.container", "vfio", VH_CHECK_PASS, "/" VH_DEV_VFIO_CONTAINER);
                if (k)
                        CHECK_SUMMARY(c, k, "/" VH_DEV_VFIO_CONTAINER " exists (VFIO container interface)");
                return;
        }
        k = vh_readiness_add(c, "vfio.container", "vfio", VH_CHECK_INFO, "/" VH_DEV_VFIO_CONTAINER);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "/" VH_DEV_VFIO_CONTAINER " does not exist yet");
        CHECK_DETAIL(c, k, "It appears when the vfio module is loaded (with VFIO_CONTAINER or iommufd's compat mode).");
        CHECK_REMEDY(c, k, "modprobe vfio (vfiohostd loads vfio-pci, which pulls it in, when binding).");
}

static void check_vfio_iommufd(VhReadinessContext *c) {
        bool dev_iommu = vh_hostfs_exists(c->fs, VH_DEV_IOMMU, NULL);
        VhKconfigValue cdev = c->kconfig ? vh_kconfig_get(c->kconfig, "VFIO_DEVICE_CDEV") : VH_KCONFIG_UNSET;
        VhCheck *k;

        k = vh_readiness_add(c, "vfio.iommufd", "vfio", dev_iommu ? VH_CHECK_PASS : VH_CHECK_INFO,
                             "/" VH_DEV_IOMMU ", kernel config");
        if (!k)
                return;
        if (dev_iommu)
                CHECK_SUMMARY(c, k, "iommufd is available (/dev/iommu)%s",
                              cdev == VH_KCONFIG_BUILTIN ? " with VFIO device cdevs (/dev/vfio/devices)" : "");
        else {
                CHECK_SUMMARY(c, k, "iommufd is not available: VMMs use the VFIO group/container interface");
                CHECK_DETAIL(c, k, "iommufd needs Linux 6.2+ with CONFIG_IOMMUFD (and CONFIG_VFIO_DEVICE_CDEV for "
                             "/" VH_DEV_VFIO_DEVICES "); the group interface works everywhere.");
        }
}

/* ---- kernel ------------------------------------------------------------- */

/* DebVisor's lists, with its stale symbols fixed: KVM_INTEL_NESTED and
 * KVM_AMD_NESTED never existed (nesting is a module parameter),
 * VFIO_VIRQFD and AMD_IOMMU_V2 are gone from current kernels; IOMMUFD,
 * VFIO_DEVICE_CDEV and VFIO_GROUP added. Platform symbols of DebVisor's
 * (CEPH_FS, BLK_DEV_RBD, ...) are not about passthrough and are left out. */
static void check_kconfig(VhReadinessContext *c, const char *id, bool required) {
        const char *common_required[] = { "KVM", "VFIO", "VFIO_PCI", "VFIO_IOMMU_TYPE1", "IOMMU_SUPPORT", NULL };
        /* IOMMUFD exists from 6.2, VFIO_GROUP and VFIO_DEVICE_CDEV from 6.6:
         * asking an older kernel for them is asking for a newer kernel. */
        bool has_iommufd = c->release_major > 6 || (c->release_major == 6 && c->release_minor >= 2);
        bool has_cdev = c->release_major > 6 || (c->release_major == 6 && c->release_minor >= 6);
        const char *recommended[16] = {
                "IRQ_REMAP", "HUGETLBFS", "TRANSPARENT_HUGEPAGE", "PCI_IOV", "VHOST_NET", "TUN", "CGROUPS",
                "NAMESPACES", "SECCOMP",
        };
        size_t n_recommended = 9;

        if (has_iommufd)
                recommended[n_recommended++] = "IOMMUFD";
        if (has_cdev) {
                recommended[n_recommended++] = "VFIO_GROUP";
                recommended[n_recommended++] = "VFIO_DEVICE_CDEV";
        }
        _cleanup_free_ char *missing = NULL;
        size_t n_missing = 0, n_checked = 0;
        /* KVM's module goes by the CPU, the IOMMU driver by the IOMMU. */
        const char *vendor = c->vendor == VH_CPU_AMD ? "KVM_AMD" : c->vendor == VH_CPU_INTEL ? "KVM_INTEL" : NULL;
        const char *vendor_iommu = vh_iommu_kind_info(vh_iommu_kind_expected(c))->kconfig;
        VhCheck *k;

        if (!c->kconfig) {
                k = vh_readiness_add(c, id, "kernel", VH_CHECK_INFO, "/" VH_PROC_CONFIG_GZ ", /" VH_BOOT "/config-<release>");
                if (k) {
                        CHECK_SUMMARY(c, k, "The kernel configuration is not readable");
                        CHECK_REMEDY(c, k, "Install the kernel's config as /boot/config-%s, or modprobe configs "
                                     "for /proc/config.gz.", c->release ?: "<release>");
                }
                return;
        }

        for (int pass = 0; pass < 2; pass++) {
                const char * const *list = required ? common_required : recommended;
                const char *extra[3] = { required ? vendor : NULL, required ? vendor_iommu : NULL, NULL };

                for (const char * const *s = pass == 0 ? list : extra; *s; s++) {
                        char *m;

                        n_checked++;
                        if (vh_kconfig_get(c->kconfig, *s) == VH_KCONFIG_BUILTIN ||
                            vh_kconfig_get(c->kconfig, *s) == VH_KCONFIG_MODULE)
                                continue;
                        if (asprintf(&m, "%s%sCONFIG_%s", missing ?: "", missing ? ", " : "", *s) < 0) {
                                c->oom = true;
                                return;
                        }
                        free(missing);
                        missing = m;
                        n_missing++;
                }
        }

        if (n_missing == 0) {
                k = vh_readiness_add(c, id, "kernel", VH_CHECK_PASS, vh_kconfig_source(c->kconfig));
                if (k)
                        CHECK_SUMMARY(c, k, "All %zu %s kernel options are set", n_checked,
                                      required ? "required" : "recommended");
                return;
        }
        k = vh_readiness_add(c, id, "kernel", required ? VH_CHECK_FAIL : VH_CHECK_WARN, vh_kconfig_source(c->kconfig));
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "%zu of %zu %s kernel options are not set", n_missing, n_checked,
                      required ? "required" : "recommended");
        CHECK_DETAIL(c, k, "Not set: %s.", missing);
        CHECK_REMEDY(c, k, "Use a kernel built with %s (=y or =m).", missing);
}

static void check_kconfig_required(VhReadinessContext *c) {
        check_kconfig(c, "kernel.config-required", true);
}

static void check_kconfig_recommended(VhReadinessContext *c) {
        check_kconfig(c, "kernel.config-recommended", false);
}

static void check_kernel_version(VhReadinessContext *c) {
        VhCheck *k;

        if (c->release_major == 0) {
                k = vh_readiness_add(c, "kernel.version", "kernel", VH_CHECK_INFO, "/" VH_PROC_OSRELEASE);
                if (k)
                        CHECK_SUMMARY(c, k, "The kernel release could not be read");
                return;
        }
        if (c->release_major < 5 || (c->release_major == 5 && c->release_minor < 4)) {
                k = vh_readiness_add(c, "kernel.version", "kernel", VH_CHECK_WARN, "/" VH_PROC_OSRELEASE);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "Kernel %s is older than 5.4", c->release);
                CHECK_REMEDY(c, k, "Use Linux 5.4 or newer (driver_override handling, reset_method, group types).");
                return;
        }
        k = vh_readiness_add(c, "kernel.version", "kernel", VH_CHECK_PASS, "/" VH_PROC_OSRELEASE);
        if (k)
                CHECK_SUMMARY(c, k, "Kernel %s", c->release);
}

/* ---- memory, devices, cgroups, security, system -------------------------- */

static long meminfo_value(const char *meminfo, const char *key) {
        const char *p = strstr(meminfo, key);
        long v;

        if (!p || sscanf(p + strlen(key), ": %ld", &v) != 1)
                return -1;
        return v;
}

static void check_hugepages(VhReadinessContext *c) {
        _cleanup_free_ char *meminfo = NULL;
        long total, free_pages, size;
        VhCheck *k;

        if (vh_hostfs_read_file(c->fs, &meminfo, NULL, VH_PROC_MEMINFO, NULL) < 0)
                return;
        total = meminfo_value(meminfo, "HugePages_Total");
        free_pages = meminfo_value(meminfo, "HugePages_Free");
        size = meminfo_value(meminfo, "Hugepagesize");

        k = vh_readiness_add(c, "memory.hugepages", "memory", total > 0 ? VH_CHECK_PASS : VH_CHECK_INFO, "/" VH_PROC_MEMINFO);
        if (!k)
                return;
        CHECK_DETAIL(c, k, "HugePages_Total %ld, HugePages_Free %ld, Hugepagesize %ld kB.", total, free_pages, size);
        if (total > 0)
                CHECK_SUMMARY(c, k, "%ld huge pages of %ld kB reserved, %ld free", total, size, free_pages);
        else {
                CHECK_SUMMARY(c, k, "No huge pages reserved (optional)");
                CHECK_REMEDY(c, k, "For VM memory backed by huge pages: sysctl vm.nr_hugepages=N, or hugepagesz=1G "
                             "hugepages=N on the kernel command line.");
        }
}

static void check_device_node(VhReadinessContext *c, const char *id, const char *path, VhCheckResult missing,
                              const char *what, const char *remedy) {
        VhCheck *k;
        bool present = vh_hostfs_exists(c->fs, path, NULL);
        _cleanup_free_ char *source = NULL;

        if (asprintf(&source, "/%s", path) < 0) {
                c->oom = true;
                return;
        }
        if (!present && !vh_hostfs_exists(c->fs, VH_DEV, NULL)) {
                k = vh_readiness_add(c, id, "devices", VH_CHECK_INFO, source);
                if (k)
                        CHECK_SUMMARY(c, k, "/" VH_DEV " is not part of this host tree; %s cannot be checked", source);
                return;
        }
        k = vh_readiness_add(c, id, "devices", present ? VH_CHECK_PASS : missing, source);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "%s %s (%s)", source, present ? "exists" : "is missing", what);
        if (!present)
                CHECK_REMEDY(c, k, "%s", remedy);
}

static void check_vhost_net(VhReadinessContext *c) {
        check_device_node(c, "devices.vhost-net", VH_DEV_VHOST_NET, VH_CHECK_WARN, "in-kernel virtio-net backend",
                          "modprobe vhost_net (and add it to /etc/modules-load.d).");
}

static void check_tun(VhReadinessContext *c) {
        /* libvirt fails here; for passthrough it is networking, not isolation. */
        check_device_node(c, "devices.tun", VH_DEV_NET_TUN, VH_CHECK_WARN, "tap networking for VMs",
                          "modprobe tun; the kernel needs CONFIG_TUN.");
}

static void check_cgroups(VhReadinessContext *c) {
        static const char * const wanted[] = { "cpu", "cpuset", "memory", "io", "pids" };
        _cleanup_free_ char *controllers = NULL, *missing = NULL;
        _cleanup_strv_free_ char **have = NULL;
        VhCheck *k;

        if (vh_hostfs_read_string(c->fs, &controllers, VH_SYSFS_CGROUP, "cgroup.controllers", NULL) < 0) {
                k = vh_readiness_add(c, "cgroups.controllers", "cgroups", VH_CHECK_INFO, "/" VH_SYSFS_CGROUP "/cgroup.controllers");
                if (k) {
                        CHECK_SUMMARY(c, k, "No unified cgroup hierarchy (cgroup v2) at /sys/fs/cgroup");
                        CHECK_REMEDY(c, k, "Boot with systemd.unified_cgroup_hierarchy=1 (the default since systemd 247) "
                                     "for resource control of VMs.");
                }
                return;
        }
        if (vh_strv_split(controllers, " \t", &have) < 0) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                char *m;

                if (vh_strv_contains(have, wanted[i]))
                        continue;
                if (asprintf(&m, "%s%s%s", missing ?: "", missing ? ", " : "", wanted[i]) < 0) {
                        c->oom = true;
                        return;
                }
                free(missing);
                missing = m;
        }
        k = vh_readiness_add(c, "cgroups.controllers", "cgroups", missing ? VH_CHECK_WARN : VH_CHECK_PASS,
                             "/" VH_SYSFS_CGROUP "/cgroup.controllers");
        if (!k)
                return;
        CHECK_DETAIL(c, k, "Controllers: %s.", controllers);
        if (missing) {
                CHECK_SUMMARY(c, k, "cgroup v2 lacks controllers: %s", missing);
                CHECK_REMEDY(c, k, "Enable them in the kernel (CONFIG_CGROUP_*) and do not disable them with cgroup_disable=.");
        } else
                CHECK_SUMMARY(c, k, "cgroup v2 with cpu, cpuset, memory, io and pids controllers");
}

/* "Vulnerable", "Vulnerable: ...", and the virtualization parts that
 * matter here: itlb_multihit's "KVM: Vulnerable", l1tf's "VMX: vulnerable".
 * "SMT vulnerable" after a mitigation is advice about SMT, not an open hole. */
static bool vulnerability_is_open(const char *state) {
        return strncmp(state, "Vulnerable", 10) == 0 || strstr(state, "KVM: Vulnerable") ||
                strstr(state, "VMX: vulnerable");
}

static void check_vulnerabilities(VhReadinessContext *c) {
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_free_ char *vulnerable = NULL;
        size_t n = 0;
        VhCheck *k;

        if (vh_hostfs_list_dir(c->fs, &entries, VH_SYSFS_CPU_VULNERABILITIES, NULL) < 0)
                return;
        STRV_FOREACH(e, entries) {
                _cleanup_free_ char *state = NULL;
                char *m;

                if (vh_hostfs_read_string(c->fs, &state, VH_SYSFS_CPU_VULNERABILITIES, *e, NULL) < 0 ||
                    !vulnerability_is_open(state))
                        continue;
                if (asprintf(&m, "%s%s%s", vulnerable ?: "", vulnerable ? ", " : "", *e) < 0) {
                        c->oom = true;
                        return;
                }
                free(vulnerable);
                vulnerable = m;
                n++;
        }
        k = vh_readiness_add(c, "security.cpu-vulnerabilities", "security", n ? VH_CHECK_WARN : VH_CHECK_PASS,
                             "/" VH_SYSFS_CPU_VULNERABILITIES);
        if (!k)
                return;
        if (!n) {
                CHECK_SUMMARY(c, k, "No CPU vulnerability is left unmitigated (%zu listed)", vh_strv_length(entries));
                return;
        }
        CHECK_SUMMARY(c, k, "%zu CPU vulnerabilities are not mitigated: %s", n, vulnerable);
        CHECK_DETAIL(c, k, "Guests may read host or other guests' data through them.");
        CHECK_REMEDY(c, k, "Update the CPU microcode and the kernel; do not boot with mitigations=off.");
}

static void check_mitigations(VhReadinessContext *c) {
        const char *m = vh_cmdline_value(c, "mitigations"), *pti = vh_cmdline_value(c, "pti");
        bool off = (m && strcmp(m, "off") == 0) || vh_cmdline_has(c, "nopti") || (pti && strcmp(pti, "off") == 0);
        VhCheck *k;

        k = vh_readiness_add(c, "security.mitigations", "security", off ? VH_CHECK_RISK : VH_CHECK_PASS, "/" VH_PROC_CMDLINE);
        if (!k)
                return;
        if (!off) {
                CHECK_SUMMARY(c, k, "CPU vulnerability mitigations are not turned off on the command line");
                return;
        }
        CHECK_SUMMARY(c, k, "CPU vulnerability mitigations are turned off (mitigations=off / nopti / pti=off)");
        CHECK_DETAIL(c, k, "Faster, but guests can attack the host and each other through speculative execution.");
        CHECK_REMEDY(c, k, "Remove mitigations=off, nopti and pti=off from the kernel command line: %s.", vh_cmdline_remedy_hint());
}

/* systemd's own 50-udev-default.rules opens the container node to all
 * (KERNEL=="vfio", MODE="0666"): stock, and it binds nothing. A line that
 * names the node by KERNEL=="vfio" and only sets its mode, owner or group
 * is that. */
static bool is_stock_vfio_line(const char *line) {
        return strstr(line, "KERNEL==\"vfio\"") && !strstr(line, "driver_override") && !strstr(line, "new_id") &&
               !strstr(line, "bind") && !strstr(line, "RUN") && !strstr(line, "ATTR{") && !strstr(line, "vfio-pci");
}

/* Whether a rules file's own lines (comments aside) say vfio in a way
 * that may act behind vfiohostd's back. */
static bool rules_mention_vfio(const char *content) {
        for (const char *p = content; p && *p;) {
                const char *end = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, (size_t) (end - p));
                const char *l = line ? line + strspn(line, " \t") : "";

                if (*l != '#' && strstr(l, "vfio") && !is_stock_vfio_line(l))
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

static void check_udev_rules(VhReadinessContext *c) {
        static const char * const dirs[] = { VH_ETC_UDEV_RULES, VH_LIB_UDEV_RULES, VH_USR_LIB_UDEV_RULES };
        _cleanup_free_ char *found = NULL;
        _cleanup_free_ struct stat *seen = NULL;
        size_t n_seen = 0;
        VhCheck *k;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_strv_free_ char **rules = NULL;

                if (vh_hostfs_list_dir(c->fs, &rules, dirs[i], NULL) < 0)
                        continue;
                STRV_FOREACH(r, rules) {
                        _cleanup_free_ char *content = NULL;
                        struct stat st, *a;
                        bool dup = false;
                        char *m;

                        if (!strstr(*r, ".rules"))
                                continue;
                        /* Ours: it sets driver_override only for persisted cards. */
                        if (strcmp(*r, VH_UDEV_RULES_NAME) == 0)
                                continue;
                        /* /lib is /usr/lib on a merged-/usr system: one file, once. */
                        if (vh_hostfs_stat(c->fs, &st, dirs[i], *r, NULL) >= 0) {
                                for (size_t j = 0; j < n_seen && !dup; j++)
                                        dup = seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino;
                                if (dup)
                                        continue;
                                a = reallocarray(seen, n_seen + 1, sizeof(struct stat));
                                if (!a) {
                                        c->oom = true;
                                        return;
                                }
                                seen = a;
                                seen[n_seen++] = st;
                        }
                        if (!strstr(*r, "vfio") &&
                            (vh_hostfs_read_file(c->fs, &content, NULL, dirs[i], *r, NULL) < 0 ||
                             !rules_mention_vfio(content)))
                                continue;
                        if (asprintf(&m, "%s%s/%s/%s", found ?: "", found ? ", " : "", dirs[i], *r) < 0) {
                                c->oom = true;
                                return;
                        }
                        free(found);
                        found = m;
                }
        }
        k = vh_readiness_add(c, "system.udev-vfio-rules", "system", found ? VH_CHECK_INFO : VH_CHECK_PASS,
                             "/" VH_ETC_UDEV_RULES ", /" VH_LIB_UDEV_RULES ", /" VH_USR_LIB_UDEV_RULES);
        if (!k)
                return;
        if (found) {
                CHECK_SUMMARY(c, k, "udev rules mention vfio: %s", found);
                CHECK_DETAIL(c, k, "They may bind devices or set /dev/vfio permissions behind vfiohostd's back "
                                   "(systemd's stock KERNEL==\"vfio\" mode rule and vfiohost's own %s are not counted).",
                             VH_UDEV_RULES_NAME);
                CHECK_REMEDY(c, k, "Make sure they do not bind devices that vfiohostd manages (driver_override, new_id).");
        } else
                CHECK_SUMMARY(c, k, "No udev rule mentions vfio beyond systemd's stock ones");
}

/* Processes holding /dev/kvm or a VFIO group, with their vCPU count from
 * debugfs (sys/kernel/debug/kvm/<pid>-<fd>/vcpu<N>) when readable. */
static void check_running_guests(VhReadinessContext *c) {
        _cleanup_strv_free_ char **nodes = NULL, **vfio = NULL, **kvm_dirs = NULL;
        _cleanup_free_ char *list = NULL;
        VhHolder *holders = NULL;
        size_t n = 0;
        VhCheck *k;

        if (vh_strv_extend(&nodes, "/" VH_DEV_KVM) < 0) {
                c->oom = true;
                return;
        }
        if (vh_hostfs_list_dir(c->fs, &vfio, VH_DEV_VFIO, NULL) >= 0)
                STRV_FOREACH(v, vfio) {
                        char *p;

                        if (strcmp(*v, "vfio") == 0 || strcmp(*v, "devices") == 0)
                                continue;
                        if (asprintf(&p, "/" VH_DEV_VFIO "/%s", *v) < 0 || vh_strv_push(&nodes, p) < 0) {
                                c->oom = true;
                                return;
                        }
                }

        if (vh_holders_find(c->fs, nodes, &holders, &n) < 0)
                n = 0;
        (void) vh_hostfs_list_dir(c->fs, &kvm_dirs, VH_SYSFS_DEBUG_KVM, NULL);

        for (size_t i = 0; i < n; i++) {
                unsigned vcpus = 0;
                char prefix[32], *m, vcpu_text[32] = "";

                snprintf(prefix, sizeof(prefix), "%d-", (int) holders[i].pid);
                STRV_FOREACH(dir, kvm_dirs) {
                        _cleanup_strv_free_ char **entries = NULL;

                        if (strncmp(*dir, prefix, strlen(prefix)) != 0 ||
                            vh_hostfs_list_dir(c->fs, &entries, VH_SYSFS_DEBUG_KVM, *dir, NULL) < 0)
                                continue;
                        STRV_FOREACH(e, entries)
                                if (strncmp(*e, "vcpu", 4) == 0)
                                        vcpus++;
                }
                if (vcpus)
                        snprintf(vcpu_text, sizeof(vcpu_text), ", %u vCPUs", vcpus);
                if (asprintf(&m, "%s%spid %d (%s) holds %s%s", list ?: "", list ? "; " : "", (int) holders[i].pid,
                             holders[i].comm, holders[i].node, vcpu_text) < 0) {
                        c->oom = true;
                        break;
                }
                free(list);
                list = m;
        }
        vh_holders_free(holders, n);

        k = vh_readiness_add(c, "system.running-guests", "system", n ? VH_CHECK_INFO : VH_CHECK_PASS,
                             "/" VH_PROC "/*/fd, /" VH_SYSFS_DEBUG_KVM);
        if (!k)
                return;
        if (n) {
                CHECK_SUMMARY(c, k, "%zu %s KVM or VFIO", n, n == 1 ? "process uses" : "processes use");
                CHECK_DETAIL(c, k, "%s.", strempty(list));
                CHECK_REMEDY(c, k, "Devices these guests hold cannot be unbound until they stop.");
        } else
                CHECK_SUMMARY(c, k, "No process holds /dev/kvm or a VFIO group");
}

const VhHostCheckFn vh_host_checks[] = {
        check_cpu_virtualization,
        check_cpu_hypervisor,
        check_cpu_firmware,
        check_kvm_device,
        check_kvm_access,
        check_kvm_nested,
        vh_readiness_check_cpu_virt,
        check_iommu_firmware,
        check_iommu_kernel,
        check_iommu_cmdline,
        check_iommu_passthrough,
        check_interrupt_remapping,
        check_acs_override,
        check_unsafe_interrupts,
        check_domain_types,
        check_vfio_modules,
        check_vfio_container,
        check_vfio_iommufd,
        check_kconfig_required,
        check_kconfig_recommended,
        check_kernel_version,
        check_hugepages,
        check_vhost_net,
        check_tun,
        check_cgroups,
        check_vulnerabilities,
        check_mitigations,
        check_udev_rules,
        check_running_guests,
        vh_readiness_check_vfio_holders,
};
const size_t vh_n_host_checks = ELEMENTSOF(vh_host_checks);
