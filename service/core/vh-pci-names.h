/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "vh-hostfs.h"

/* Names from pci.ids through libpci, exactly as `lspci -mm` prints them
 * (libpci's own fallbacks such as "Device 1234" included). libpci's
 * sysfs.path is pointed beneath the host root. */

typedef struct VhPciNames VhPciNames;

int vh_pci_names_new(const VhHostFs *fs, VhPciNames **ret);
VhPciNames *vh_pci_names_free(VhPciNames *n);
/* Frees the name database loaded for lookups (pci.ids and the hwdb) until
 * the next lookup, which reloads it and gives the same names: for a daemon
 * that names its model at start and on hotplug, and is idle in between. */
void vh_pci_names_release(VhPciNames *n);
static inline void vh_pci_names_freep(VhPciNames **n) {
        vh_pci_names_free(*n);
}

/* Each returns a newly allocated string, or NULL on OOM. */
char *vh_pci_names_vendor(VhPciNames *n, uint16_t vendor);
char *vh_pci_names_device(VhPciNames *n, uint16_t vendor, uint16_t device);
/* Subsystem vendor and device names; "" when the function has no
 * subsystem ids (0 or 0xffff), as lspci -mm prints empty fields then. */
char *vh_pci_names_subsystem_vendor(VhPciNames *n, uint16_t subvendor);
char *vh_pci_names_subsystem(VhPciNames *n, uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice);
/* class_code: 24-bit; named by base class + subclass as lspci does. */
char *vh_pci_names_class(VhPciNames *n, uint32_t class_code);
