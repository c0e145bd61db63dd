/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-iommu-kind.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

static const VhIommuKindInfo iommu_kinds[_VH_IOMMU_KIND_MAX] = {
        [VH_IOMMU_INTEL]  = { "Intel VT-d", "DMAR", "dmar", "intel_iommu", "INTEL_IOMMU" },
        [VH_IOMMU_AMD]    = { "AMD-Vi", "IVRS", "ivhd", "amd_iommu", "AMD_IOMMU" },
        /* arm-smmu names its units "smmu.0x...", arm-smmu-v3 "smmu3.0x..." */
        [VH_IOMMU_ARM]    = { "Arm SMMU", "IORT", "smmu", NULL, NULL },
        [VH_IOMMU_VIRTIO] = { "virtio-iommu", "VIOT", NULL, NULL, "VIRTIO_IOMMU" },
};

const VhIommuKindInfo *vh_iommu_kind_info(VhIommuKind kind) {
        return &iommu_kinds[kind < _VH_IOMMU_KIND_MAX ? kind : VH_IOMMU_NONE];
}

/* The kernel's active units say what it drives; the ACPI tables what the
 * firmware (or the hypervisor's) describes, also when the kernel left it
 * off. */
int vh_iommu_platform_detect(const VhHostFs *fs, VhIommuPlatform *ret) {
        _cleanup_strv_free_ char **units = NULL;
        VhIommuPlatform p = {};

        for (VhIommuKind k = VH_IOMMU_NONE + 1; k < _VH_IOMMU_KIND_MAX; k++)
                if (vh_hostfs_exists(fs, VH_SYSFS_ACPI_TABLES, iommu_kinds[k].table, NULL)) {
                        p.firmware_kind = k;
                        break;
                }

        if (vh_hostfs_list_dir(fs, &units, VH_SYSFS_CLASS_IOMMU, NULL) >= 0)
                STRV_FOREACH(u, units)
                        for (VhIommuKind k = VH_IOMMU_NONE + 1; k < _VH_IOMMU_KIND_MAX; k++) {
                                const char *prefix = iommu_kinds[k].unit_prefix;

                                if (!prefix || strncmp(*u, prefix, strlen(prefix)) != 0)
                                        continue;
                                if (asprintf(&p.source, "/" VH_SYSFS_CLASS_IOMMU "/%s", *u) < 0)
                                        return -ENOMEM;
                                p.kind = k;
                                *ret = p;
                                return 0;
                        }

        if (p.firmware_kind != VH_IOMMU_NONE) {
                if (asprintf(&p.source, "/" VH_SYSFS_ACPI_TABLES "/%s", iommu_kinds[p.firmware_kind].table) < 0)
                        return -ENOMEM;
                p.kind = p.firmware_kind;
        }
        *ret = p;
        return 0;
}

void vh_iommu_platform_done(VhIommuPlatform *p) {
        free(p->source);
        p->source = NULL;
}

bool vh_iommu_intel_default_on(const VhKconfig *k) {
        return k && vh_kconfig_get(k, "INTEL_IOMMU_DEFAULT_ON") == VH_KCONFIG_BUILTIN;
}
