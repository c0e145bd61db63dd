/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "vh-assignments.h"
#include "vh-error.h"
#include "vh-host.h"
#include "vh-hostfs.h"

/* The boot-time VFIO setup for some devices, generated for a person to
 * review and apply: kernel command-line parameters, modprobe.d lines and
 * the initramfs module lists of initramfs-tools and dracut, each with the
 * reason it is there. Nothing here writes anything: vfiohost never edits
 * the boot loader or /etc (docs/static-setup.md). */

/* Where the texts are meant to go, for their headers and the docs. */
#define VH_STATIC_SETUP_MODPROBE_FILE   "/etc/modprobe.d/vfiohost.conf"
#define VH_STATIC_SETUP_INITRAMFS_FILE  "/etc/initramfs-tools/modules"
#define VH_STATIC_SETUP_DRACUT_FILE     "/etc/dracut.conf.d/vfiohost.conf"

typedef struct VhStaticSetupRequest {
        /* Canonical or not: addresses, or names of persistent assignments.
         * NULL or empty: every persisted vfio-pci assignment. An assignment
         * with group brings its group's non-bridge members. */
        char * const *devices;
        const char *hugepages;          /* "SIZE:COUNT" (vh-setup-specs.h); NULL: none */
        const char *isolate_cpus;       /* a CPU list; NULL: none */
} VhStaticSetupRequest;

typedef struct VhKernelParameter {
        char *parameter;                /* "intel_iommu=on" */
        char *reason;
} VhKernelParameter;

typedef struct VhStaticSetup {
        VhKernelParameter *parameters;  /* in command-line order */
        size_t n_parameters;
        char *modprobe_d;               /* each text: lines, each group of them after "# why" comments */
        char *initramfs_tools_modules;
        char *dracut_conf;
        char **devices;                 /* canonical addresses covered, in bus order; never NULL */
        char **notes;                   /* what was left out and why, what to check; never NULL */
} VhStaticSetup;

/* Refusals, with nothing generated: InvalidAddress for a string that is
 * neither an address nor an assignment name, NotFound for an address
 * that is not on the host and not persisted or an unknown name,
 * InvalidArgs for a bad spec or CPUs the host cannot spare. Devices that
 * are persisted but absent, or another card now, are left out with a note. */
int vh_static_setup_generate(const VhHostFs *fs, const VhHost *host, const VhAssignments *assignments,
                             const VhStaticSetupRequest *request, VhStaticSetup **ret, VhError *error);

/* The parameters joined by spaces: the line to append. NULL on OOM. */
char *vh_static_setup_command_line(const VhStaticSetup *s);

VhStaticSetup *vh_static_setup_free(VhStaticSetup *s);
static inline void vh_static_setup_freep(VhStaticSetup **s) {
        vh_static_setup_free(*s);
}
