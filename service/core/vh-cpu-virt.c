/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "vh-cpu-virt.h"

/* IA32_VMX_BASIC (SDM vol. 3, A.1). */
#define BASIC_TRUE_CONTROLS             (UINT64_C(1) << 55)

/* Control bits (SDM vol. 3, 25.6). */
#define PIN_POSTED_INTERRUPTS           (1u << 7)
#define PROC_ACTIVATE_SECONDARY         (1u << 31)
#define PROC2_ENABLE_EPT                (1u << 1)
#define PROC2_ENABLE_VPID               (1u << 5)
#define PROC2_UNRESTRICTED_GUEST        (1u << 7)
#define PROC2_APIC_REGISTER_VIRT        (1u << 8)
#define PROC2_VIRTUAL_INTR_DELIVERY     (1u << 9)
#define PROC2_VMCS_SHADOWING            (1u << 14)
#define PROC2_ENABLE_PML                (1u << 17)

/* IA32_VMX_EPT_VPID_CAP (SDM vol. 3, A.10). */
#define EPT_CAP_1G_PAGES                (UINT64_C(1) << 17)
#define EPT_CAP_ACCESSED_DIRTY          (UINT64_C(1) << 21)

/* CPUID 0x8000000A EDX (APM vol. 3, E.4.9). */
#define SVM_NESTED_PAGING               (1u << 0)
#define SVM_AVIC                        (1u << 13)
#define SVM_VIRTUAL_VMSAVE_VMLOAD       (1u << 15)
#define SVM_VGIF                        (1u << 16)

static const char *const feature_names[_VH_VIRT_FEATURE_MAX] = {
        [VH_VIRT_TWO_DIMENSIONAL_PAGING] = "two-dimensional-paging",
        [VH_VIRT_UNRESTRICTED_GUEST] = "unrestricted-guest",
        [VH_VIRT_TAGGED_TLB] = "tagged-tlb",
        [VH_VIRT_POSTED_INTERRUPTS] = "posted-interrupts",
        [VH_VIRT_APIC_VIRTUALIZATION] = "apic-virtualization",
        [VH_VIRT_NESTED_ACCELERATION] = "nested-acceleration",
        [VH_VIRT_DIRTY_LOGGING] = "dirty-logging",
        [VH_VIRT_HUGE_PAGES_1G] = "huge-pages-1g",
};

const char *vh_virt_feature_to_string(VhVirtFeature f) {
        return f >= 0 && f < _VH_VIRT_FEATURE_MAX ? feature_names[f] : NULL;
}

/* A control may be set when the allowed-1 half has its bit. */
static bool allowed(uint64_t capability, uint32_t bit) {
        return (uint32_t) (capability >> 32) & bit;
}

void vh_vmx_decode(const VhVmxMsrs *m, VhCpuVirt *ret) {
        uint64_t p2 = allowed(m->procbased, PROC_ACTIVATE_SECONDARY) ? m->procbased2 : 0;
        bool ept = allowed(p2, PROC2_ENABLE_EPT);
        bool posted = allowed(m->pinbased, PIN_POSTED_INTERRUPTS);

        *ret = (VhCpuVirt) {
                .source = VH_VIRT_SOURCE_MSR,
                .vmcs_revision = (uint32_t) (m->basic & 0x7fffffff),
                .vmcs_size = (unsigned) ((m->basic >> 32) & 0x1fff),
                .vmcs_memory_type = (unsigned) ((m->basic >> 50) & 0xf),
                .true_controls = m->basic & BASIC_TRUE_CONTROLS,
        };
        ret->features[VH_VIRT_TWO_DIMENSIONAL_PAGING] = ept;
        ret->features[VH_VIRT_UNRESTRICTED_GUEST] = ept && allowed(p2, PROC2_UNRESTRICTED_GUEST);
        ret->features[VH_VIRT_TAGGED_TLB] = allowed(p2, PROC2_ENABLE_VPID);
        ret->features[VH_VIRT_POSTED_INTERRUPTS] = posted;
        /* What KVM needs for APICv (cpu_has_vmx_apicv()). */
        ret->features[VH_VIRT_APIC_VIRTUALIZATION] = posted && allowed(p2, PROC2_APIC_REGISTER_VIRT) &&
                                                     allowed(p2, PROC2_VIRTUAL_INTR_DELIVERY);
        ret->features[VH_VIRT_NESTED_ACCELERATION] = allowed(p2, PROC2_VMCS_SHADOWING);
        ret->features[VH_VIRT_DIRTY_LOGGING] = ept && (m->ept_vpid & EPT_CAP_ACCESSED_DIRTY) &&
                                               allowed(p2, PROC2_ENABLE_PML);
        ret->features[VH_VIRT_HUGE_PAGES_1G] = ept && (m->ept_vpid & EPT_CAP_1G_PAGES);
}

static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ' || p[-1] == '\t') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n'))
                        return true;
        return false;
}

void vh_vmx_decode_flags(const char *f, VhCpuVirt *ret) {
        bool ept = has_word(f, "ept"), posted = has_word(f, "posted_intr");

        *ret = (VhCpuVirt) { .source = VH_VIRT_SOURCE_CPUINFO };
        /* The kernel's names (arch/x86/include/asm/vmxfeatures.h). */
        ret->features[VH_VIRT_TWO_DIMENSIONAL_PAGING] = ept;
        ret->features[VH_VIRT_UNRESTRICTED_GUEST] = ept && has_word(f, "unrestricted_guest");
        ret->features[VH_VIRT_TAGGED_TLB] = has_word(f, "vpid");
        ret->features[VH_VIRT_POSTED_INTERRUPTS] = posted;
        ret->features[VH_VIRT_APIC_VIRTUALIZATION] = posted && has_word(f, "vapic_reg") && has_word(f, "vid");
        ret->features[VH_VIRT_NESTED_ACCELERATION] = has_word(f, "shadow_vmcs");
        ret->features[VH_VIRT_DIRTY_LOGGING] = ept && has_word(f, "ept_ad") && has_word(f, "pml");
        ret->features[VH_VIRT_HUGE_PAGES_1G] = ept && has_word(f, "ept_1gb");
}

void vh_svm_decode(uint32_t eax, uint32_t ebx, uint32_t edx, bool pdpe1gb, VhCpuVirt *ret) {
        bool npt = edx & SVM_NESTED_PAGING;

        *ret = (VhCpuVirt) { .source = VH_VIRT_SOURCE_CPUID, .svm_revision = eax & 0xff, .asids = ebx };
        ret->features[VH_VIRT_TWO_DIMENSIONAL_PAGING] = npt;
        /* SVM runs real mode guests natively: there is no such limit. */
        ret->features[VH_VIRT_UNRESTRICTED_GUEST] = true;
        ret->features[VH_VIRT_TAGGED_TLB] = ebx > 1;
        /* AVIC does both: guest APIC accesses and interrupt delivery. */
        ret->features[VH_VIRT_POSTED_INTERRUPTS] = edx & SVM_AVIC;
        ret->features[VH_VIRT_APIC_VIRTUALIZATION] = edx & SVM_AVIC;
        ret->features[VH_VIRT_NESTED_ACCELERATION] = (edx & SVM_VIRTUAL_VMSAVE_VMLOAD) && (edx & SVM_VGIF);
        /* KVM logs dirty pages on AMD by write protection: no PML. */
        ret->features[VH_VIRT_DIRTY_LOGGING] = false;
        /* NPT walks the host's page sizes: 1 GiB pages when the CPU has them. */
        ret->features[VH_VIRT_HUGE_PAGES_1G] = npt && pdpe1gb;
}

void vh_svm_decode_flags(const char *f, VhCpuVirt *ret) {
        bool npt = has_word(f, "npt"), avic = has_word(f, "avic");

        *ret = (VhCpuVirt) { .source = VH_VIRT_SOURCE_CPUINFO };
        /* The same judgements as vh_svm_decode(), by the kernel's names
         * (arch/x86/include/asm/cpufeatures.h, word 15). */
        ret->features[VH_VIRT_TWO_DIMENSIONAL_PAGING] = npt;
        ret->features[VH_VIRT_UNRESTRICTED_GUEST] = true;
        /* Every SVM part tags its TLB with ASIDs; the count is CPUID's alone. */
        ret->features[VH_VIRT_TAGGED_TLB] = has_word(f, "svm");
        ret->features[VH_VIRT_POSTED_INTERRUPTS] = avic;
        ret->features[VH_VIRT_APIC_VIRTUALIZATION] = avic;
        ret->features[VH_VIRT_NESTED_ACCELERATION] = has_word(f, "v_vmsave_vmload") && has_word(f, "vgif");
        ret->features[VH_VIRT_DIRTY_LOGGING] = false;
        ret->features[VH_VIRT_HUGE_PAGES_1G] = npt && has_word(f, "pdpe1gb");
}
