/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>


/* What the CPU's virtualization extensions offer that passthrough and VM
 * performance care about, decoded from the VMX capability MSRs (Intel SDM
 * vol. 3, appendix A), from the "vmx flags" line of /proc/cpuinfo when the
 * MSRs cannot be read, or from CPUID 0x8000000A on AMD (APM vol. 2,
 * 15.4). No kernel module: /dev/cpu/N/msr (msr.ko, CAP_SYS_RAWIO) and
 * user-space CPUID are enough. */

typedef enum VhVirtFeature {
        VH_VIRT_TWO_DIMENSIONAL_PAGING, /* EPT / NPT: guest page tables without shadowing */
        VH_VIRT_UNRESTRICTED_GUEST,     /* real mode and unpaged protected mode in VMX (Intel) */
        VH_VIRT_TAGGED_TLB,             /* VPID / ASIDs: no TLB flush on every VM exit */
        VH_VIRT_POSTED_INTERRUPTS,      /* device interrupts delivered without an exit */
        VH_VIRT_APIC_VIRTUALIZATION,    /* APICv (register virtualization + virtual-interrupt delivery) / AVIC */
        VH_VIRT_NESTED_ACCELERATION,    /* VMCS shadowing / virtual VMLOAD-VMSAVE */
        VH_VIRT_DIRTY_LOGGING,          /* EPT A/D bits and PML (Intel), for migration */
        VH_VIRT_HUGE_PAGES_1G,          /* 1 GiB pages in EPT/NPT */
        _VH_VIRT_FEATURE_MAX,
} VhVirtFeature;

/* "two-dimensional-paging", "unrestricted-guest", ... */
const char *vh_virt_feature_to_string(VhVirtFeature f);

typedef enum VhVirtSource {
        VH_VIRT_SOURCE_NONE,            /* nothing could be read */
        VH_VIRT_SOURCE_MSR,             /* the VMX capability MSRs */
        VH_VIRT_SOURCE_CPUINFO,         /* /proc/cpuinfo's "vmx flags" (the kernel's own decoding) */
        VH_VIRT_SOURCE_CPUID,           /* CPUID 0x8000000A (AMD) */
} VhVirtSource;

typedef struct VhCpuVirt {
        VhVirtSource source;
        bool features[_VH_VIRT_FEATURE_MAX];
        /* VMX, from IA32_VMX_BASIC (source MSR only; else 0). */
        uint32_t vmcs_revision;
        unsigned vmcs_size;             /* bytes of a VMCS region */
        unsigned vmcs_memory_type;      /* 6: write-back */
        bool true_controls;             /* the IA32_VMX_TRUE_*_CTLS MSRs exist */
        /* SVM, from CPUID 0x8000000A (source CPUID only; else 0). */
        unsigned svm_revision;
        unsigned asids;
} VhCpuVirt;

/* The VMX capability MSRs, as read from /dev/cpu/N/msr
 * (vh_hostfs_read_msr()). */
typedef struct VhVmxMsrs {
        uint64_t basic;                 /* IA32_VMX_BASIC, 0x480 */
        uint64_t pinbased;              /* 0x481, or IA32_VMX_TRUE_PINBASED_CTLS 0x48d with true controls */
        uint64_t procbased;             /* 0x482, or 0x48e */
        uint64_t exit;                  /* 0x483, or 0x48f */
        uint64_t entry;                 /* 0x484, or 0x490 */
        uint64_t procbased2;            /* 0x48b; 0 when the secondary controls cannot be activated */
        uint64_t ept_vpid;              /* 0x48c; 0 when neither EPT nor VPID can be enabled */
} VhVmxMsrs;

/* Decodes them (source MSR): a control is available when its bit is set
 * in the allowed-1 half (bits 63:32) of its capability MSR. */
void vh_vmx_decode(const VhVmxMsrs *m, VhCpuVirt *ret);

/* From the words of /proc/cpuinfo's "vmx flags" line (source CPUINFO):
 * the same features, without the VMCS details. */
void vh_vmx_decode_flags(const char *vmx_flags, VhCpuVirt *ret);

/* From CPUID 0x8000000A's EAX (revision), EBX (ASIDs) and EDX (features),
 * and whether the CPU has 1 GiB pages (CPUID 0x80000001 EDX bit 26,
 * "pdpe1gb") (source CPUID). */
void vh_svm_decode(uint32_t eax, uint32_t ebx, uint32_t edx, bool pdpe1gb, VhCpuVirt *ret);

/* From /proc/cpuinfo's "flags" line on AMD, where the kernel lists
 * CPUID 0x8000000A's features ("npt", "avic", "v_vmsave_vmload", "vgif")
 * beside "pdpe1gb" (source CPUINFO; no revision or ASID count): for a
 * root other than the running host's, whose CPUID is not ours to ask. */
void vh_svm_decode_flags(const char *flags, VhCpuVirt *ret);
