/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vh-host.h"
#include "vh-hostfs.h"

/* Is this host ready for VFIO passthrough? One entry per check, each with
 * what it read and, when it does not pass, the concrete fix. Modelled on
 * fwupd's host security attributes; checks from virt-host-validate, the
 * precheck.sh seed and the DebVisor guide, minus their false FAILs
 * (docs/dbus-api.md, "Readiness"). Everything is read beneath the host root.
 *
 * Verdict: READY if and only if no check has the result "fail". "warn",
 * "risk" and "info" never make a host NOT READY: they are things to know
 * (a risk is a setting that weakens isolation, chosen by the admin). */

typedef enum VhCheckResult {
        VH_CHECK_PASS,
        VH_CHECK_FAIL,
        VH_CHECK_WARN,
        VH_CHECK_INFO,
        VH_CHECK_RISK,
        _VH_CHECK_RESULT_MAX,
} VhCheckResult;

typedef struct VhCheck {
        const char *id;                 /* "iommu.kernel": static */
        const char *category;           /* "iommu": static */
        VhCheckResult result;
        char *summary;                  /* one line */
        char *detail;                   /* what was found */
        char *remedy;                   /* what to do; "" for a pass */
        char *source;                   /* what was read, host paths */
} VhCheck;

typedef struct VhReport {
        VhCheck *checks;
        size_t n_checks;
        size_t n_host_checks;           /* the host's checks come first, then the device's */
        bool ready;                     /* no check failed */
        bool host_ready;                /* no host check failed: the host-wide verdict */
} VhReport;

const char *vh_check_result_to_string(VhCheckResult r);

/* device: NULL for the host checks only; an address (canonical) adds that
 * function's checks (-ENODEV when the host has no such function). */
int vh_readiness_run(const VhHostFs *fs, const VhHost *host, const char *device, VhReport **ret);
VhReport *vh_report_free(VhReport *r);

/* A host check from outside the core's own (the daemon's persistent
 * assignments): placed after the host's checks, the verdicts kept true. */
int vh_report_add_host_check(VhReport *r, const char *id, const char *category, VhCheckResult result,
                             const char *summary, const char *detail, const char *remedy, const char *source);
static inline void vh_report_freep(VhReport **r) {
        vh_report_free(*r);
}
