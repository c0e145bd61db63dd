/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the readiness framework and its check tables. */

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
        bool have_cpuinfo;
        VhCpuVendor vendor;
        bool guest;                     /* the hypervisor flag */
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
/* Where the kernel command line is configured, for remedies. */
const char *vh_cmdline_remedy_hint(void);

typedef void (*VhHostCheckFn)(VhReadinessContext *c);
typedef void (*VhDeviceCheckFn)(VhReadinessContext *c, const VhPciDevice *d);

extern const VhHostCheckFn vh_host_checks[];
extern const size_t vh_n_host_checks;
extern const VhDeviceCheckFn vh_device_checks[];
extern const size_t vh_n_device_checks;
