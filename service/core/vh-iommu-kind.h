/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "vh-hostfs.h"
#include "vh-kconfig.h"

/* Which IOMMU the platform has, whatever the CPU: a QEMU guest may pair any
 * vCPU model with any emulated IOMMU, so the CPU vendor does not tell. One
 * rule for the readiness checks and the static boot setup. */
typedef enum VhIommuKind {
        VH_IOMMU_NONE,                  /* none described, none recognised */
        VH_IOMMU_INTEL,                 /* VT-d: ACPI DMAR, units dmarN */
        VH_IOMMU_AMD,                   /* AMD-Vi: ACPI IVRS, units ivhdN */
        VH_IOMMU_ARM,                   /* SMMU: ACPI IORT, units smmu* */
        VH_IOMMU_VIRTIO,                /* virtio-iommu: ACPI VIOT */
        _VH_IOMMU_KIND_MAX,
} VhIommuKind;

typedef struct VhIommuKindInfo {
        const char *name;               /* "Intel VT-d"; NULL for VH_IOMMU_NONE */
        const char *table;              /* the ACPI table that describes it */
        const char *unit_prefix;        /* its sys/class/iommu entries; NULL: not recognisable by name */
        const char *param;              /* its kernel parameter; NULL: none */
        const char *kconfig;            /* its driver's symbol; NULL: none or several */
} VhIommuKindInfo;

/* Names, table, parameter and driver of a kind; all NULL for VH_IOMMU_NONE. */
const VhIommuKindInfo *vh_iommu_kind_info(VhIommuKind kind);

typedef struct VhIommuPlatform {
        VhIommuKind kind;               /* the kernel's active units name it, else the firmware's table */
        char *source;                   /* the host path that decided it ("/sys/class/iommu/dmar0"); NULL with NONE */
        VhIommuKind firmware_kind;      /* from the ACPI tables alone */
} VhIommuPlatform;

/* Reads sys/class/iommu and sys/firmware/acpi/tables. -ENOMEM only. */
int vh_iommu_platform_detect(const VhHostFs *fs, VhIommuPlatform *ret);
void vh_iommu_platform_done(VhIommuPlatform *p);

/* The kernel turns VT-d on without intel_iommu=on (CONFIG_INTEL_IOMMU_DEFAULT_ON=y).
 * k NULL (unreadable config): false. */
bool vh_iommu_intel_default_on(const VhKconfig *k);
