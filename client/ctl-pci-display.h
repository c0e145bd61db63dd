/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How a PCI function is shown in a table (docs/client.md, "Tables"):
 * names shortened the way lspci-style tools and GNOME's settings do, a
 * class as a word rather than 0300, and the --class filter. */

#include <stdbool.h>
#include <stdint.h>

/* "Advanced Micro Devices, Inc. [AMD/ATI]" → "AMD/ATI" (the bracketed
 * short name pci.ids gives), "NVIDIA Corporation" → "NVIDIA", "Samsung
 * Electronics Co Ltd" → "Samsung": cut at the first comma and at the
 * first company word (Corporation, Inc., Ltd., Technology, ...) after the
 * first word. NULL on OOM. */
char *ctl_short_vendor_name(const char *vendor);

/* "AD102 [GeForce RTX 4090]" → "GeForce RTX 4090": the marketing name in
 * brackets when there is one; else the name. NULL on OOM. */
char *ctl_short_device_name(const char *device);

/* A short word for a 24-bit class code: "VGA", "NVMe", "Ethernet",
 * "USB", "Audio", "PCI bridge", ... */
const char *ctl_class_label(uint32_t class_code);

/* --class: a word (gpu, network, storage, usb, audio) or hex digits of the
 * class code from the left (2: base class, 4: with subclass, 6: whole). */
typedef struct CtlClassFilter {
        uint32_t value;
        uint32_t mask;
        uint32_t value2;                /* audio is two subclasses: 0401, 0403 */
} CtlClassFilter;

int ctl_class_filter_parse(const char *arg, CtlClassFilter *ret);
bool ctl_class_filter_match(const CtlClassFilter *f, uint32_t class_code);
