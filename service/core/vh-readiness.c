/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-kernel.h"
#include "vh-log.h"
#include "vh-names.h"
#include "vh-readiness-private.h"
#include "vh-strv.h"

static const char * const result_names[_VH_CHECK_RESULT_MAX] = {
        [VH_CHECK_PASS] = "pass",
        [VH_CHECK_FAIL] = "fail",
        [VH_CHECK_WARN] = "warn",
        [VH_CHECK_INFO] = "info",
        [VH_CHECK_RISK] = "risk",
};

const char *vh_check_result_to_string(VhCheckResult r) {
        return r < _VH_CHECK_RESULT_MAX ? result_names[r] : NULL;
}

VhReport *vh_report_free(VhReport *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_checks; i++) {
                free(r->checks[i].summary);
                free(r->checks[i].detail);
                free(r->checks[i].remedy);
                free(r->checks[i].source);
        }
        free(r->checks);
        free(r);
        return NULL;
}

VhCheck *vh_readiness_add(VhReadinessContext *c, const char *id, const char *category, VhCheckResult result,
                          const char *source) {
        VhReport *r = c->report;
        VhCheck *a, *check;

        a = realloc(r->checks, sizeof(VhCheck) * (r->n_checks + 1));
        if (!a) {
                c->oom = true;
                return NULL;
        }
        r->checks = a;
        check = &a[r->n_checks++];
        *check = (VhCheck) {
                .id = id,
                .category = category,
                .result = result,
                .source = strdup(source),
        };
        if (!check->source)
                c->oom = true;
        return check;
}

void vh_check_set(VhReadinessContext *c, char **field, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0) {
                s = NULL;
                c->oom = true;
        }
        va_end(ap);
        free(*field);
        *field = s;
}

const char *vh_cmdline_value(const VhReadinessContext *c, const char *key) {
        return vh_kernel_cmdline_value(c->cmdline, key);
}

bool vh_cmdline_has(const VhReadinessContext *c, const char *word) {
        return vh_strv_contains(c->cmdline, word);
}

bool vh_cpu_has_flag(const VhReadinessContext *c, const char *flag) {
        return vh_strv_contains(c->cpu_flags, flag);
}

const char *vh_cmdline_remedy_hint(void) {
        return "add it to GRUB_CMDLINE_LINUX in /etc/default/grub and run update-grub "
               "(systemd-boot: /etc/kernel/cmdline and kernel-install), then reboot";
}

typedef struct MsrError {
        const char *reason;
        const char *remedy;             /* NULL: nothing would help */
} MsrError;

/* One classification of vh_hostfs_read_msr()'s errors for both texts. */
static const MsrError *msr_error(int error) {
        static const MsrError no_module = {
                "the msr module is not loaded (no /dev/cpu/0/msr)",
                "Load the msr module: modprobe msr (at every boot: echo msr > /etc/modules-load.d/msr.conf).",
        }, no_privilege = {
                "reading MSRs needs CAP_SYS_RAWIO, which vfiohostd does not have",
                "Run vfiohostd as root with CAP_SYS_RAWIO, as its systemd unit does.",
        }, not_implemented = {
                /* rdmsr faulted: the register is not there to read; root
                 * would read no more. */
                "the CPU does not implement it (a hypervisor may hide it)",
                NULL,
        };

        switch (error) {
        case -ENOENT:
        case -ENODEV:
        case -ENOTDIR:
                return &no_module;
        case -EPERM:
        case -EACCES:
                return &no_privilege;
        case -EIO:
                return &not_implemented;
        default:
                return NULL;
        }
}

const char *vh_msr_error_reason(int error) {
        const MsrError *m = msr_error(error);

        return m ? m->reason : strerror(-error);
}

const char *vh_msr_error_remedy(int error) {
        const MsrError *m = msr_error(error);

        return m ? m->remedy : NULL;
}

VhIommuKind vh_iommu_kind_expected(const VhReadinessContext *c) {
        if (c->iommu_kind != VH_IOMMU_NONE)
                return c->iommu_kind;
        return c->vendor == VH_CPU_AMD ? VH_IOMMU_AMD : c->vendor == VH_CPU_INTEL ? VH_IOMMU_INTEL : VH_IOMMU_NONE;
}

bool vh_module_loaded(const VhReadinessContext *c, const char *name) {
        _cleanup_free_ char *underscored = strdup(name);

        if (!underscored)
                return false;
        /* Module names use '_' in proc/modules and sys/module. */
        for (char *p = underscored; *p; p++)
                if (*p == '-')
                        *p = '_';

        if (vh_hostfs_exists(c->fs, VH_SYSFS_MODULE, underscored, NULL))
                return true;
        if (c->modules) {
                size_t n = strlen(underscored);

                for (const char *p = c->modules; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                        if (strncmp(p, underscored, n) == 0 && p[n] == ' ')
                                return true;
        }
        /* Built in: always there, with or without a sys/module entry. */
        return vh_kernel_module_file_lists(c->fs, c->release, "modules.builtin", name);
}

bool vh_module_available(const VhReadinessContext *c, const char *name) {
        return vh_kernel_module_file_lists(c->fs, c->release, "modules.dep", name) ||
                vh_kernel_module_file_lists(c->fs, c->release, "modules.builtin", name);
}

/* Which IOMMU the platform has (vh-iommu-kind.c). */
static void context_load_iommu(VhReadinessContext *c) {
        VhIommuPlatform p = {};

        if (vh_iommu_platform_detect(c->fs, &p) < 0) {
                c->oom = true;
                return;
        }
        c->iommu_kind = p.kind;
        c->iommu_source = TAKE_PTR(p.source);
        c->firmware_iommu_kind = p.firmware_kind;
}

static void context_load(VhReadinessContext *c) {
        _cleanup_free_ char *cpuinfo = NULL;

        (void) vh_kernel_cmdline(c->fs, &c->cmdline);

        if (vh_hostfs_read_file(c->fs, &cpuinfo, NULL, VH_PROC_CPUINFO, NULL) >= 0) {
                char *line, *save = NULL;
                bool have_flags = false, have_vendor = false;
                unsigned processors = 0;

                c->have_cpuinfo = true;
                /* The first processor speaks for all: its block ends at the second "processor". */
                for (line = strtok_r(cpuinfo, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *colon = strchr(line, ':');

                        if (!colon)
                                continue;
                        if (strncmp(line, "processor", 9) == 0 && strchr(" \t", line[9]) && ++processors > 1)
                                break;
                        if (!have_flags && strncmp(line, "flags", 5) == 0 && strchr(" \t", line[5])) {
                                (void) vh_strv_split(colon + 1, " \t", &c->cpu_flags);
                                c->cpu_flags_line = strdup(colon + 1);
                                have_flags = true;
                        } else if (!c->vmx_flags && strncmp(line, "vmx flags", 9) == 0 && strchr(" \t", line[9]))
                                c->vmx_flags = strdup(colon + 1);
                        else if (!have_vendor && strncmp(line, "vendor_id", 9) == 0) {
                                if (strstr(colon, "GenuineIntel"))
                                        c->vendor = VH_CPU_INTEL;
                                else if (strstr(colon, "AuthenticAMD") || strstr(colon, "HygonGenuine"))
                                        c->vendor = VH_CPU_AMD;
                                have_vendor = true;
                        }
                }
        }
        c->guest = vh_cpu_has_flag(c, "hypervisor");
        context_load_iommu(c);

        if (vh_kernel_release(c->fs, &c->release) >= 0 &&
            sscanf(c->release, "%u.%u", &c->release_major, &c->release_minor) != 2)
                c->release_major = c->release_minor = 0;

        (void) vh_kconfig_load(c->fs, &c->kconfig);
        (void) vh_hostfs_read_file(c->fs, &c->modules, NULL, VH_PROC_MODULES, NULL);
}

static void context_done(VhReadinessContext *c) {
        vh_strv_free(c->cmdline);
        vh_strv_free(c->cpu_flags);
        free(c->cpu_flags_line);
        free(c->vmx_flags);
        free(c->iommu_source);
        free(c->release);
        vh_kconfig_free(c->kconfig);
        free(c->modules);
}

int vh_readiness_run(const VhHostFs *fs, const VhHost *host, const char *device, VhReport **ret) {
        _cleanup_(vh_report_freep) VhReport *report = NULL;
        VhReadinessContext c = { .fs = fs, .host = host };
        const VhPciDevice *d = NULL;

        if (device) {
                d = vh_host_find_device(host, device);
                if (!d)
                        return -ENODEV;
        }

        report = calloc(1, sizeof(*report));
        if (!report)
                return -ENOMEM;
        c.report = report;

        context_load(&c);
        for (size_t i = 0; i < vh_n_host_checks; i++)
                vh_host_checks[i](&c);
        report->n_host_checks = report->n_checks;
        if (d)
                for (size_t i = 0; i < vh_n_device_checks; i++)
                        vh_device_checks[i](&c, d);
        context_done(&c);

        if (c.oom)
                return -ENOMEM;

        /* The verdict is derived from the entries, never kept apart from
         * them, so the summary cannot disagree with the details. */
        report->ready = report->host_ready = true;
        for (size_t i = 0; i < report->n_checks; i++) {
                VhCheck *check = &report->checks[i];

                if (check->result == VH_CHECK_FAIL) {
                        report->ready = false;
                        if (i < report->n_host_checks)
                                report->host_ready = false;
                }
                /* Every field is a string on the wire. */
                if ((!check->summary && !(check->summary = strdup(""))) ||
                    (!check->detail && !(check->detail = strdup(""))) ||
                    (!check->remedy && !(check->remedy = strdup(""))))
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(report);
        return 0;
}

int vh_report_add_host_check(VhReport *r, const char *id, const char *category, VhCheckResult result,
                             const char *summary, const char *detail, const char *remedy, const char *source) {
        VhCheck check = {
                .id = id,
                .category = category,
                .result = result,
                .summary = strdup(strempty(summary)),
                .detail = strdup(strempty(detail)),
                .remedy = strdup(strempty(remedy)),
                .source = strdup(strempty(source)),
        };
        VhCheck *a;

        if (!check.summary || !check.detail || !check.remedy || !check.source)
                goto oom;
        a = realloc(r->checks, sizeof(VhCheck) * (r->n_checks + 1));
        if (!a)
                goto oom;
        r->checks = a;
        /* After the host's checks, before the device's. */
        memmove(&a[r->n_host_checks + 1], &a[r->n_host_checks], sizeof(VhCheck) * (r->n_checks - r->n_host_checks));
        a[r->n_host_checks] = check;
        r->n_checks++;
        r->n_host_checks++;
        if (result == VH_CHECK_FAIL)
                r->ready = r->host_ready = false;
        return 0;
oom:
        free(check.summary);
        free(check.detail);
        free(check.remedy);
        free(check.source);
        return -ENOMEM;
}
