/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the readiness framework and its check tables. */

#include "vh-iommu-kind.h"
#include "vh-kconfig.h"
#include "vh-macro.h"
#include "vh-readiness.h"

typedef enum VhCpuVendor {
        VH_CPU_OTHER,
        VH_CPU_INTEL,
        VH_CPU_AMD,
} VhCpuVendor;


/* What many checks read, read once per report. */
typedef struct VhReadinessContext {
        const VhHostFs *fs;
        const VhHost *host;
        VhReport *report;
        bool oom;

        char **cmdline;                 /* words of proc/cmdline */
        char **cpu_flags;               /* "flags" of the first processor in proc/cpuinfo */
        char *cpu_flags_line;           /* the same line, as read */
        char *vmx_flags;                /* its "vmx flags" line (Linux 5.9+, Intel); NULL without one */
        bool have_cpuinfo;
        VhCpuVendor vendor;             /* for the CPU's own virtualization (VT-x/SVM, kvm_intel/kvm_amd, MSRs) */
        bool guest;                     /* the hypervisor flag */
        VhIommuKind iommu_kind;         /* the kernel's active units name it, else the firmware's table */
        char *iommu_source;             /* the path that decided it; NULL with VH_IOMMU_NONE */
        VhIommuKind firmware_iommu_kind;        /* from the ACPI tables alone */
        char *release;                  /* proc/sys/kernel/osrelease */
        unsigned release_major, release_minor;
        VhKconfig *kconfig;             /* NULL: unreadable */
        char *modules;                  /* proc/modules */
} VhReadinessContext;

/* Appends a check; fields are set with vh_check_set(). */
VhCheck *vh_readiness_add(VhReadinessContext *c, const char *id, const char *category, VhCheckResult result,
                          const char *source);
/* Sets *field from a format; on OOM marks the context. */
void vh_check_set(VhReadinessContext *c, char **field, const char *fmt, ...) _printf_(3, 4);

#define CHECK_SUMMARY(c, check, ...) vh_check_set(c, &(check)->summary, __VA_ARGS__)
#define CHECK_DETAIL(c, check, ...)  vh_check_set(c, &(check)->detail, __VA_ARGS__)
#define CHECK_REMEDY(c, check, ...)  vh_check_set(c, &(check)->remedy, __VA_ARGS__)

/* "intel_iommu=on" → value "on"; NULL when absent. The last occurrence wins, as in the kernel. */
const char *vh_cmdline_value(const VhReadinessContext *c, const char *key);
bool vh_cmdline_has(const VhReadinessContext *c, const char *word);
bool vh_cpu_has_flag(const VhReadinessContext *c, const char *flag);
/* Loaded (proc/modules or sys/module) or built in. */
bool vh_module_loaded(const VhReadinessContext *c, const char *name);
/* Listed in modules.dep or modules.builtin for the running release. */
bool vh_module_available(const VhReadinessContext *c, const char *name);
/* The IOMMU remedies speak of: the platform's; only when it describes none,
 * the one that goes with the CPU (the firmware switch to turn on, the
 * vIOMMU to add). VH_IOMMU_NONE when neither tells. */
VhIommuKind vh_iommu_kind_expected(const VhReadinessContext *c);
/* Where the kernel command line is configured, for remedies. */
const char *vh_cmdline_remedy_hint(void);
/* Why vh_hostfs_read_msr() failed with this -errno, in words, and what
 * would let it succeed: NULL where nothing would (the CPU does not
 * implement the register, EIO), so that no check tells a root daemon
 * to run as root. */
const char *vh_msr_error_reason(int error);
const char *vh_msr_error_remedy(int error);

typedef void (*VhHostCheckFn)(VhReadinessContext *c);
typedef void (*VhDeviceCheckFn)(VhReadinessContext *c, const VhPciDevice *d);

/* vh-readiness-cpu-virt.c: what VT-x/AMD-V offer passthrough and VM
 * performance (EPT/NPT, VPID, APICv/AVIC, ...), one check each. */
void vh_readiness_check_cpu_virt(VhReadinessContext *c);

/* vh-readiness-holders.c: who holds VFIO, judged (a non-VM user; a VM
 * holding a group with a function on a host driver). */
void vh_readiness_check_vfio_holders(VhReadinessContext *c);

extern const VhHostCheckFn vh_host_checks[];
extern const size_t vh_n_host_checks;
extern const VhDeviceCheckFn vh_device_checks[];
extern const size_t vh_n_device_checks;
