/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include <libkmod.h>

#include "vh-log.h"
#include "vh-macro.h"
#include "vh-modules.h"
#include "vh-names.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_ctx *, kmod_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_module *, kmod_module_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_list *, kmod_module_unref_list);

static bool registered(const VhHostFs *fs, const char *driver) {
        return vh_hostfs_exists(fs, VH_SYSFS_PCI_DRIVERS, driver, NULL);
}

static int load_module(struct kmod_ctx *ctx, const char *name) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
        struct kmod_list *l;
        int r;

        r = kmod_module_new_from_lookup(ctx, name, &list);
        if (r < 0)
                return r;
        if (!list)
                return -ENOENT;

        kmod_list_foreach(l, list) {
                _cleanup_(kmod_module_unrefp) struct kmod_module *m = kmod_module_get_module(l);

                r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
                if (r == KMOD_PROBE_APPLY_BLACKLIST)
                        return -EPERM;
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

int vh_modules_ensure_driver(const VhHostFs *fs, const char *driver, VhError *error) {
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = NULL;
        bool vfio_pci = strcmp(driver, VH_DRIVER_VFIO_PCI) == 0;
        int r;

        if (registered(fs, driver))
                return 0;

        if (!vh_hostfs_is_host_root(fs))
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "%s is not loaded in the host tree %s, and vfiohostd loads modules only into "
                                    "the running kernel. Nothing was changed.", driver, vh_hostfs_root(fs));

        ctx = kmod_new(NULL, NULL);
        if (!ctx)
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE, "Cannot set up libkmod to load %s.", driver);
        (void) kmod_load_resources(ctx);

        r = load_module(ctx, driver);
        if (r >= 0)
                /* Soft dependency of vfio-pci; without it no container. */
                (void) load_module(ctx, "vfio_iommu_type1");

        if (r == -EPERM)
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "%s is blacklisted or module loading is not permitted "
                                    "(the unit uses ProtectKernelModules=; modprobe@vfio_pci.service loads vfio-pci, "
                                    "other drivers need a modprobe@ unit or modules-load.d). "
                                    "Run 'modprobe %s' and try again. Nothing was changed.", driver, driver);
        if (r < 0 || !registered(fs, driver))
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "Cannot load %s (%s): the running kernel has no usable %s module. "
                                    "%s Nothing was changed.", driver,
                                    r < 0 ? strerror(-r) : "driver did not register", driver,
                                    vfio_pci ? "Install a kernel built with CONFIG_VFIO_PCI."
                                             : "Install the kernel's modules package that has it.");
        log_info("Loaded %s.", driver);
        return 0;
}
