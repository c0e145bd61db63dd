/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libudev.h>
#include <pci/pci.h>

#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-pci-names.h"
#include "vh-utf8.h"

struct VhPciNames {
        struct pci_access *pacc;
};

/* lspci's buffer size for names. */
#define NAME_MAX_LEN 1024

static void pci_log_warning(char *msg, ...) _printf_(1, 2);
static void pci_log_warning(char *msg, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, msg);
        vsnprintf(buf, sizeof(buf), msg, ap);
        va_end(ap);
        log_warning("libpci: %s", buf);
}

static void pci_log_debug(char *msg, ...) _printf_(1, 2);
static void pci_log_debug(char *msg, ...) {
        /* libpci's debug output comes in fragments; it is not worth a line each. */
}

static bool hwdb_available(void) {
        struct udev *udev = udev_new();
        struct udev_hwdb *hwdb;

        if (!udev)
                return false;
        hwdb = udev_hwdb_new(udev);
        udev_hwdb_unref(hwdb);
        udev_unref(udev);
        return hwdb != NULL;
}

int vh_pci_names_new(const VhHostFs *fs, VhPciNames **ret) {
        _cleanup_free_ char *sysfs_path = NULL;
        VhPciNames *n;

        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;

        n->pacc = pci_alloc();
        if (!n->pacc) {
                free(n);
                return -ENOMEM;
        }
        n->pacc->warning = pci_log_warning;
        n->pacc->debug = pci_log_debug;

        /* Beneath the root, like every other host read. The parameter is the
         * .../bus/pci directory; pci_init() is not called: name lookups do not
         * need an access method, and libpci's error path calls exit(). */
        sysfs_path = vh_hostfs_path(fs, VH_SYSFS_PCI_BUS, NULL);
        if (!sysfs_path) {
                vh_pci_names_free(n);
                return -ENOMEM;
        }
        pci_set_param(n->pacc, (char *) "sysfs.path", sysfs_path);

        /* Without a hwdb.bin, libpci 3.9 retries udev_hwdb_new() on every
         * lookup and leaks a udev context each time. Probe once; when there
         * is none, libpci would fall back to pci.ids anyway, as lspci does,
         * so the names stay the same. */
        if (!hwdb_available())
                pci_set_param(n->pacc, (char *) "hwdb.disable", (char *) "1");

        *ret = n;
        return 0;
}

void vh_pci_names_release(VhPciNames *n) {
        if (!n || !n->pacc)
                return;
        /* Drops the parsed pci.ids (a hash of every id, about 1 MB of heap)
         * and unmaps the hwdb (its pages touched by lookups stay resident
         * while it is mapped). The next lookup loads them again, as the
         * first one did: pci_lookup_name() reloads a freed list. */
        pci_free_name_list(n->pacc);
}

VhPciNames *vh_pci_names_free(VhPciNames *n) {
        if (!n)
                return NULL;
        if (n->pacc)
                pci_cleanup(n->pacc);
        free(n);
        return NULL;
}

/* Same flags as lspci without -n: names, libpci's numeric fallback when the
 * database does not know the id, so our strings equal lspci's. */
static char *lookup(VhPciNames *n, int flags, ...) {
        char buf[NAME_MAX_LEN];
        const char *name;
        char *copy;
        size_t len;
        va_list ap;

        /* pci_lookup_name is variadic with a fixed argument count per flag
         * combination; forward at most four ids. */
        unsigned a[4] = {};
        va_start(ap, flags);
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                a[i] = va_arg(ap, unsigned);
        va_end(ap);

        name = pci_lookup_name(n->pacc, buf, sizeof(buf), flags, a[0], a[1], a[2], a[3]);
        copy = strdup(name ?: "");
        if (!copy)
                return NULL;
        /* pci.ids and the hwdb are not ours either: names reach the bus. */
        len = strlen(copy);
        if (vh_utf8_escape_invalid(&copy, &len, false) < 0) {
                free(copy);
                return NULL;
        }
        return copy;
}

char *vh_pci_names_vendor(VhPciNames *n, uint16_t vendor) {
        return lookup(n, PCI_LOOKUP_VENDOR, (unsigned) vendor, 0u, 0u, 0u);
}

char *vh_pci_names_device(VhPciNames *n, uint16_t vendor, uint16_t device) {
        return lookup(n, PCI_LOOKUP_DEVICE, (unsigned) vendor, (unsigned) device, 0u, 0u);
}

/* lspci -mm prints empty SVendor/SDevice fields for ids 0 and 0xffff. */
static bool has_subsystem(uint16_t subvendor) {
        return subvendor != 0 && subvendor != 0xffff;
}

char *vh_pci_names_subsystem_vendor(VhPciNames *n, uint16_t subvendor) {
        if (!has_subsystem(subvendor))
                return strdup("");
        return lookup(n, PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR, (unsigned) subvendor, 0u, 0u, 0u);
}

char *vh_pci_names_subsystem(VhPciNames *n, uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice) {
        if (!has_subsystem(subvendor))
                return strdup("");
        return lookup(n, PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE,
                      (unsigned) vendor, (unsigned) device, (unsigned) subvendor, (unsigned) subdevice);
}

char *vh_pci_names_class(VhPciNames *n, uint32_t class_code) {
        /* libpci names base class + subclass, as lspci's "Class" field. */
        return lookup(n, PCI_LOOKUP_CLASS, (unsigned) (class_code >> 8), 0u, 0u, 0u);
}
