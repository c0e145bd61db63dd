/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the CPU's virtualization extensions offer passthrough and VM
 * performance, one check per feature (docs/dbus-api.md, "Readiness").
 * Intel: the VMX capability MSRs through dev/cpu/0/msr when they can be
 * read (root, CAP_SYS_RAWIO, msr.ko), else /proc/cpuinfo's "vmx flags".
 * AMD: CPUID 0x8000000A in user space on the running host, else the
 * "flags" line. A feature the CPU has can still be off in KVM
 * (kvm_intel ept=N, kvm_amd avic=0): that is said too, with the line that
 * turns it back on. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "vh-cpu-virt.h"
#include "vh-names.h"
#include "vh-readiness-private.h"

/* VMX capability MSRs (SDM vol. 3, appendix A). */
#define MSR_VMX_BASIC                   0x480
#define MSR_VMX_PINBASED_CTLS           0x481
#define MSR_VMX_PROCBASED_CTLS          0x482
#define MSR_VMX_EXIT_CTLS               0x483
#define MSR_VMX_ENTRY_CTLS              0x484
#define MSR_VMX_PROCBASED_CTLS2         0x48b
#define MSR_VMX_EPT_VPID_CAP            0x48c
#define MSR_VMX_TRUE_PINBASED_CTLS      0x48d
#define MSR_VMX_TRUE_PROCBASED_CTLS     0x48e
#define MSR_VMX_TRUE_EXIT_CTLS          0x48f
#define MSR_VMX_TRUE_ENTRY_CTLS         0x490

typedef struct FeatureCheck {
        VhVirtFeature feature;
        const char *id;                 /* "cpu.virt." and the feature's name; reports keep the pointer */
        bool intel_only;
        VhCheckResult missing;          /* the CPU lacks it */
        const char *summary;            /* "EPT" / "NPT" are filled in as %s where the vendors differ */
        const char *intel_name, *amd_name;
        const char *cost;               /* what a guest pays without it */
        const char *intel_param, *amd_param;    /* the KVM module parameter that can switch it off */
} FeatureCheck;

static const FeatureCheck feature_checks[] = {
        { VH_VIRT_TWO_DIMENSIONAL_PAGING, "cpu.virt.two-dimensional-paging", false, VH_CHECK_WARN, "Two-dimensional paging", "EPT", "NPT",
          "KVM falls back to shadow page tables: every guest page-table update exits to the host, "
          "which costs memory-heavy guests much of their speed", "ept", "npt" },
        { VH_VIRT_UNRESTRICTED_GUEST, "cpu.virt.unrestricted-guest", true, VH_CHECK_WARN, "Unrestricted guest", "unrestricted guest", NULL,
          "real-mode and unpaged guest code (firmware, boot loaders) is emulated instruction by instruction",
          "unrestricted_guest", NULL },
        { VH_VIRT_TAGGED_TLB, "cpu.virt.tagged-tlb", true, VH_CHECK_WARN, "Tagged TLB", "VPID", NULL,
          "the TLB is flushed on every VM entry and exit", "vpid", NULL },
        { VH_VIRT_POSTED_INTERRUPTS, "cpu.virt.posted-interrupts", true, VH_CHECK_INFO, "Posted interrupts", "posted interrupts", NULL,
          "interrupts for a running vCPU, a passed-through device's among them, reach it through a VM exit",
          "enable_apicv", NULL },
        { VH_VIRT_APIC_VIRTUALIZATION, "cpu.virt.apic-virtualization", false, VH_CHECK_INFO, "APIC virtualization", "APICv", "AVIC",
          "guest APIC accesses and interrupt delivery exit to KVM", "enable_apicv", "avic" },
        { VH_VIRT_NESTED_ACCELERATION, "cpu.virt.nested-acceleration", false, VH_CHECK_INFO, "Nested virtualization acceleration",
          "VMCS shadowing", "virtual VMLOAD/VMSAVE and vGIF",
          "a hypervisor inside a guest exits to KVM for each of its VMREAD/VMWRITE (VMLOAD/VMSAVE)",
          "enable_shadow_vmcs", "vls" },
        { VH_VIRT_DIRTY_LOGGING, "cpu.virt.dirty-logging", true, VH_CHECK_INFO, "Hardware dirty logging", "EPT A/D bits and PML", NULL,
          "live migration tracks dirty pages by write-protecting them", "pml", NULL },
        { VH_VIRT_HUGE_PAGES_1G, "cpu.virt.huge-pages-1g", false, VH_CHECK_INFO, "1 GiB pages for guest memory", "EPT 1 GiB pages",
          "NPT with 1 GiB pages", "guest memory is mapped with 2 MiB pages at most (more TLB misses)", NULL, NULL },
};

static int read_vmx_msrs(const VhHostFs *fs, VhVmxMsrs *m) {
        bool true_controls;
        int r;

        *m = (VhVmxMsrs) {};
        r = vh_hostfs_read_msr(fs, 0, MSR_VMX_BASIC, &m->basic);
        if (r < 0)
                return r;
        /* With true controls the TRUE_ MSRs say which default1 controls may be 0; allowed-1 is the same. */
        true_controls = m->basic & (UINT64_C(1) << 55);
        r = vh_hostfs_read_msr(fs, 0, true_controls ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS,
                               &m->pinbased);
        if (r >= 0)
                r = vh_hostfs_read_msr(fs, 0, true_controls ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS,
                                       &m->procbased);
        if (r >= 0)
                r = vh_hostfs_read_msr(fs, 0, true_controls ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS, &m->exit);
        if (r >= 0)
                r = vh_hostfs_read_msr(fs, 0, true_controls ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS,
                                       &m->entry);
        if (r < 0)
                return r;
        /* The later MSRs exist only when what they describe can be enabled (SDM A.3.3, A.10). */
        if (!((m->procbased >> 32) & (UINT32_C(1) << 31)))
                return 0;
        r = vh_hostfs_read_msr(fs, 0, MSR_VMX_PROCBASED_CTLS2, &m->procbased2);
        if (r < 0)
                return r;
        if (!((m->procbased2 >> 32) & ((1u << 1) | (1u << 5))))
                return 0;
        return vh_hostfs_read_msr(fs, 0, MSR_VMX_EPT_VPID_CAP, &m->ept_vpid);
}

/* CPUID of the CPU we run on: only meaningful when the root is this host's. */
static bool read_svm_cpuid(VhCpuVirt *v) {
#if defined(__x86_64__) || defined(__i386__)
        unsigned eax, ebx, ecx, edx, max;
        char vendor[13] = {};
        bool pdpe1gb;

        if (!__get_cpuid(0, &max, &ebx, &ecx, &edx))
                return false;
        memcpy(vendor, &ebx, 4);
        memcpy(vendor + 4, &edx, 4);
        memcpy(vendor + 8, &ecx, 4);
        if (!strstr("AuthenticAMD HygonGenuine", vendor))
                return false;
        if (!__get_cpuid(0x80000000, &max, &ebx, &ecx, &edx) || max < 0x8000000a)
                return false;
        if (!__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 2)))     /* SVM */
                return false;
        pdpe1gb = edx & (1u << 26);
        if (!__get_cpuid(0x8000000a, &eax, &ebx, &ecx, &edx))
                return false;
        vh_svm_decode(eax, ebx, edx, pdpe1gb, v);
        return true;
#else
        (void) v;
        return false;
#endif
}

/* Y/1 on, N/0 off; -ENOENT when the module (or the parameter) is not there. */
static int kvm_param(VhReadinessContext *c, const char *param, char **ret_source) {
        const char *module = c->vendor == VH_CPU_AMD ? "kvm_amd" : "kvm_intel";
        _cleanup_free_ char *value = NULL;
        int r;

        r = vh_hostfs_read_string(c->fs, &value, VH_SYSFS_MODULE, module, "parameters", param, NULL);
        if (r < 0)
                return r;
        if (asprintf(ret_source, "/" VH_SYSFS_MODULE "/%s/parameters/%s", module, param) < 0) {
                c->oom = true;
                return -ENOMEM;
        }
        if (strchr("Yy1", value[0]))
                return 1;
        if (strchr("Nn0", value[0]))
                return 0;
        return -EINVAL;
}

static void check_feature(VhReadinessContext *c, const FeatureCheck *f, const VhCpuVirt *v, const char *source) {
        const char *name = c->vendor == VH_CPU_AMD ? f->amd_name : f->intel_name;
        const char *param = c->vendor == VH_CPU_AMD ? f->amd_param : f->intel_param;
        const char *module = c->vendor == VH_CPU_AMD ? "kvm_amd" : "kvm_intel";
        _cleanup_free_ char *param_source = NULL;
        const char *id = f->id;
        VhCheck *k;
        int on = -ENOENT;

        if (!v->features[f->feature]) {
                k = vh_readiness_add(c, id, "cpu", f->missing, source);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "%s: the CPU does not offer %s", f->summary, name);
                CHECK_DETAIL(c, k, "Without %s, %s.", name, f->cost);
                if (f->missing == VH_CHECK_WARN)
                        CHECK_REMEDY(c, k, "%s",
                                     c->guest ? "Give this VM the host CPU model (QEMU -cpu host, libvirt "
                                                "<cpu mode='host-passthrough'/>) on a host whose CPU has it."
                                              : "Only a newer CPU has it; for the guests that matter, use a host "
                                                "whose CPU does.");
                return;
        }

        if (param)
                on = kvm_param(c, param, &param_source);
        if (on == 0) {
                k = vh_readiness_add(c, id, "cpu", f->missing, param_source);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "%s: the CPU offers %s but %s has it switched off", f->summary, name, module);
                CHECK_DETAIL(c, k, "%s %s is off: %s.", module, param, f->cost);
                CHECK_REMEDY(c, k, "Drop the line that turns %s off from /etc/modprobe.d/ (or add 'options %s %s=1' "
                             "there), then reload %s with no VM running, or reboot.", param, module, param, module);
                return;
        }
        k = vh_readiness_add(c, id, "cpu", VH_CHECK_PASS, source);
        if (k)
                CHECK_SUMMARY(c, k, "%s: %s%s", f->summary, name, on > 0 ? ", in use by KVM" : "");
}

void vh_readiness_check_cpu_virt(VhReadinessContext *c) {
        int vmx_error = -ENODATA;       /* why the VMX MSRs could not be read */
        const char *source = NULL;
        VhCpuVirt v = {};
        VhCheck *k;

        /* cpu.virtualization already says why there is nothing to look at. */
        if (!c->have_cpuinfo || c->vendor == VH_CPU_OTHER ||
            !vh_cpu_has_flag(c, c->vendor == VH_CPU_AMD ? "svm" : "vmx"))
                return;

        if (c->vendor == VH_CPU_INTEL) {
                VhVmxMsrs m;
                int r = read_vmx_msrs(c->fs, &m);

                if (r >= 0) {
                        vh_vmx_decode(&m, &v);
                        source = "/" VH_DEV_CPU0_MSR " (IA32_VMX_*)";
                } else {
                        vmx_error = r;
                        if (c->vmx_flags) {
                                vh_vmx_decode_flags(c->vmx_flags, &v);
                                source = "/" VH_PROC_CPUINFO " (vmx flags)";
                        }
                }
        } else if (vh_hostfs_is_host_root(c->fs) && read_svm_cpuid(&v))
                source = "CPUID 0x8000000A";
        else if (c->cpu_flags_line) {
                vh_svm_decode_flags(c->cpu_flags_line, &v);
                source = "/" VH_PROC_CPUINFO " (flags)";
        }

        if (!source) {
                k = vh_readiness_add(c, "cpu.virt.capabilities", "cpu", VH_CHECK_INFO, "/" VH_DEV_CPU0_MSR);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "What VT-x offers (EPT, VPID, APICv, ...) could not be read");
                CHECK_DETAIL(c, k, "The VMX capability MSRs could not be read (%s) and /proc/cpuinfo has no "
                             "\"vmx flags\" line (Linux 5.9 and later print one).", vh_msr_error_reason(vmx_error));
                if (vh_msr_error_remedy(vmx_error))
                        CHECK_REMEDY(c, k, "%s", vh_msr_error_remedy(vmx_error));
                return;
        }

        k = vh_readiness_add(c, "cpu.virt.capabilities", "cpu", VH_CHECK_INFO, source);
        if (k) {
                if (v.source == VH_VIRT_SOURCE_MSR) {
                        CHECK_SUMMARY(c, k, "VT-x capabilities read from the VMX capability MSRs: VMCS revision %#"
                                      PRIx32, v.vmcs_revision);
                        CHECK_DETAIL(c, k, "IA32_VMX_BASIC: VMCS revision %#" PRIx32 ", %u-byte VMCS regions, "
                                     "memory type %u%s, %s.", v.vmcs_revision, v.vmcs_size, v.vmcs_memory_type,
                                     v.vmcs_memory_type == 6 ? " (write-back)" : "",
                                     v.true_controls ? "true controls" : "no true controls");
                } else if (v.source == VH_VIRT_SOURCE_CPUID) {
                        CHECK_SUMMARY(c, k, "AMD-V capabilities read from CPUID 0x8000000A: SVM revision %u, "
                                      "%u ASIDs", v.svm_revision, v.asids);
                } else if (c->vendor == VH_CPU_INTEL) {
                        CHECK_SUMMARY(c, k, "VT-x capabilities read from /proc/cpuinfo's vmx flags");
                        CHECK_DETAIL(c, k, "The VMX capability MSRs could not be read (%s): the VMCS revision "
                                     "is unknown.", vh_msr_error_reason(vmx_error));
                        if (vh_msr_error_remedy(vmx_error))
                                CHECK_REMEDY(c, k, "For the VMCS revision: %s", vh_msr_error_remedy(vmx_error));
                } else {
                        CHECK_SUMMARY(c, k, "AMD-V capabilities read from /proc/cpuinfo's flags");
                        CHECK_DETAIL(c, k, "CPUID is asked only on the running host; this report is of "
                                     "another root, so the SVM revision and ASID count are unknown.");
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(feature_checks); i++) {
                const FeatureCheck *f = &feature_checks[i];

                /* On AMD, AVIC is both; VPID's job is done by ASIDs on every SVM part; no PML. */
                if (f->intel_only && c->vendor == VH_CPU_AMD)
                        continue;
                check_feature(c, f, &v, source);
        }
}
