/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-host.h"
#include "vh-kernel.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-vfio-driver.h"

/* Module names are spelled with '_' in sys/module and modules.alias, and
 * either way in file names (vfio-pci-core.ko) and driver names. */
static void normalize(char *s) {
        for (; *s; s++)
                if (*s == '-')
                        *s = '_';
}

static bool same_module(const char *a, size_t n, const char *b) {
        if (strlen(b) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((a[i] == '-' ? '_' : a[i]) != (b[i] == '-' ? '_' : b[i]))
                        return false;
        return true;
}

/* The module behind a driver: its module link when registered, else its
 * name (variant drivers are named after their module). */
static char *driver_module(const VhHostFs *fs, const char *driver) {
        char *module = NULL;

        if (vh_hostfs_read_link_name(fs, &module, VH_SYSFS_PCI_DRIVERS, driver, VH_DRIVER_MODULE_LINK, NULL) < 0)
                module = strdup(driver);
        if (module)
                normalize(module);
        return module;
}

/* The "name" in ".../name.ko[.xz|.zst]" of a modules.dep path. */
static void path_module(const char *path, size_t n, const char **ret, size_t *ret_n) {
        const char *start = path, *end;

        for (const char *p = path; p < path + n; p++)
                if (*p == '/')
                        start = p + 1;
        end = start;
        while (end < path + n && *end != '.')
                end++;
        *ret = start;
        *ret_n = (size_t) (end - start);
}

/* 1: modules.dep lists module and it depends on vfio_pci_core; 0: listed,
 * without that dependency; -1: not listed (or no modules.dep). */
static int installed_on_vfio_pci_core(const VhHostFs *fs, const char *module) {
        _cleanup_free_ char *release = NULL, *content = NULL;

        if (vh_kernel_release(fs, &release) < 0 ||
            vh_hostfs_read_file(fs, &content, NULL, VH_LIB_MODULES, release, VH_MODULES_DEP, NULL) < 0)
                return -1;

        for (char *line = content, *next; line && *line; line = next) {
                char *colon, *eol = strchr(line, '\n');
                const char *name;
                size_t n;

                next = eol ? eol + 1 : NULL;
                if (eol)
                        *eol = '\0';
                colon = strchr(line, ':');
                if (!colon)
                        continue;
                path_module(line, (size_t) (colon - line), &name, &n);
                if (!same_module(name, n, module))
                        continue;
                for (char *save = NULL, *dep = strtok_r(colon + 1, " \t", &save); dep;
                     dep = strtok_r(NULL, " \t", &save)) {
                        path_module(dep, strlen(dep), &name, &n);
                        if (same_module(name, n, VH_MODULE_VFIO_PCI_CORE))
                                return 1;
                }
                return 0;
        }
        return -1;
}

VhVfioDriverKind vh_vfio_driver_lookup(const VhHostFs *fs, const char *driver) {
        _cleanup_free_ char *module = NULL;
        bool registered;
        int r;

        if (!driver)
                return VH_VFIO_DRIVER_UNKNOWN;
        /* vfio-pci is the VFIO driver itself, also where it is built in
         * (no holders then). */
        if (strcmp(driver, VH_DRIVER_VFIO_PCI) == 0)
                return vh_kernel_vfio_pci_registered(fs) ? VH_VFIO_DRIVER_REGISTERED :
                        vh_host_vfio_available(fs) ? VH_VFIO_DRIVER_INSTALLED : VH_VFIO_DRIVER_UNKNOWN;

        module = driver_module(fs, driver);
        if (!module)
                return VH_VFIO_DRIVER_UNKNOWN;
        registered = vh_hostfs_exists(fs, VH_SYSFS_PCI_DRIVERS, driver, NULL);
        if (registered)
                return vh_hostfs_exists(fs, VH_SYSFS_MODULE, VH_MODULE_VFIO_PCI_CORE, VH_MODULE_HOLDERS, module, NULL) ?
                        VH_VFIO_DRIVER_REGISTERED : VH_VFIO_DRIVER_OTHER;

        r = installed_on_vfio_pci_core(fs, module);
        return r > 0 ? VH_VFIO_DRIVER_INSTALLED : r == 0 ? VH_VFIO_DRIVER_OTHER : VH_VFIO_DRIVER_UNKNOWN;
}

bool vh_vfio_driver_is(const VhHostFs *fs, const char *driver) {
        _cleanup_free_ char *module = NULL;

        if (!driver)
                return false;
        if (strcmp(driver, VH_DRIVER_VFIO_PCI) == 0)
                return true;
        /* A function is on a registered driver: its module is loaded. */
        module = driver_module(fs, driver);
        return module && vh_hostfs_exists(fs, VH_SYSFS_MODULE, VH_MODULE_VFIO_PCI_CORE, VH_MODULE_HOLDERS, module, NULL);
}

bool vh_vfio_driver_supports(const VhHostFs *fs, const char *driver, const char *address) {
        _cleanup_free_ char *module = NULL, *modalias = NULL, *subject = NULL, *release = NULL, *content = NULL;

        if (strcmp(driver, VH_DRIVER_VFIO_PCI) == 0)
                return true;
        module = driver_module(fs, driver);
        if (!module ||
            vh_hostfs_read_string(fs, &modalias, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_MODALIAS, NULL) < 0 ||
            asprintf(&subject, "vfio_%s", modalias) < 0 ||
            vh_kernel_release(fs, &release) < 0 ||
            vh_hostfs_read_file(fs, &content, NULL, VH_LIB_MODULES, release, VH_MODULES_ALIAS, NULL) < 0)
                return false;

        /* "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci" */
        for (char *save = NULL, *line = strtok_r(content, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *pattern, *name, *rest = NULL;

                if (strncmp(line, "alias ", 6) != 0)
                        continue;
                pattern = strtok_r(line + 6, " \t", &rest);
                name = strtok_r(NULL, " \t", &rest);
                if (!pattern || !name || strncmp(pattern, "vfio_pci:", 9) != 0 ||
                    !same_module(name, strlen(name), module))
                        continue;
                if (fnmatch(pattern, subject, 0) == 0)
                        return true;
        }
        return false;
}
