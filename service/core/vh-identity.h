/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vh-hostfs.h"
#include "vh-pci.h"

/* What a PCI function is, beyond where it sits: its ids, its class and —
 * when it has the PCIe Device Serial Number capability — its serial
 * number, the only thing that tells two identical cards apart. A
 * persistent assignment applies only to the card it was made for
 * (docs/persistence.md). */
typedef struct VhIdentity {
        uint16_t vendor;
        uint16_t device;
        uint16_t subsystem_vendor;
        uint16_t subsystem_device;
        uint32_t class_code;            /* 24 bits */
        bool has_dsn;                   /* the PCIe Device Serial Number capability */
        uint64_t dsn;
} VhIdentity;

typedef enum VhIdentityMatch {
        VH_IDENTITY_SAME,               /* the function that was meant */
        VH_IDENTITY_OTHER_CARD,         /* other ids, or the same ids with another serial number */
} VhIdentityMatch;

/* recorded against present. Ids and class must be equal; a serial number
 * counts when both have one (one without a DSN is judged by its ids). */
VhIdentityMatch vh_identity_compare(const VhIdentity *recorded, const VhIdentity *present);
/* Every field the same, the serial number's presence included. */
bool vh_identity_equal(const VhIdentity *a, const VhIdentity *b);

/* The ids from the model, the serial number from config space (which
 * needs CAP_SYS_ADMIN past its first 64 bytes; without it, or without the
 * capability, has_dsn is false). Safe from any thread. */
void vh_identity_read(const VhHostFs *fs, const VhPciDevice *d, VhIdentity *ret);

/* The PCIe Device Serial Number (extended capability 0x0003) from the
 * config space at sys/bus/pci/devices/ADDRESS/config. -ENODATA when the
 * function has none, or the extended space cannot be read. */
int vh_pci_read_dsn(const VhHostFs *fs, const char *address, uint64_t *ret);

/* The same, from config space bytes (exposed for tests and fuzzing). */
int vh_pci_config_find_dsn(const uint8_t *config, size_t size, uint64_t *ret);

/* "10de:2684 subsystem 1043:889d class 030000 serial 01-23-45-67-89-ab-cd-ef"
 * (no serial part without one), the way logs and errors name a card. */
#define VH_IDENTITY_STRING_MAX 96
const char *vh_identity_format(const VhIdentity *id, char buf[static VH_IDENTITY_STRING_MAX]);
