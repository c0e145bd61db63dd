/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include <libkmod.h>

#include "vh-log.h"
#include "vh-macro.h"
#include "vh-modules.h"
#include "vh-names.h"

/* libkmod is opened when a module is to be loaded, not linked: it pulls in
 * libcrypto (for module signatures), about 1.4 MB resident in a process
 * that maps it, for a path the daemon rarely takes (a VFIO driver not yet
 * loaded, on the real host). */
#define LIBKMOD_SONAME "libkmod.so.2"

typedef struct KmodApi {
        void *handle;
        __typeof__(kmod_new) *new;
        __typeof__(kmod_unref) *unref;
        __typeof__(kmod_load_resources) *load_resources;
        __typeof__(kmod_module_new_from_lookup) *module_new_from_lookup;
        __typeof__(kmod_module_get_module) *module_get_module;
        __typeof__(kmod_module_probe_insert_module) *module_probe_insert_module;
        __typeof__(kmod_module_unref) *module_unref;
        __typeof__(kmod_module_unref_list) *module_unref_list;
        __typeof__(kmod_list_next) *list_next;
} KmodApi;

static void kmod_api_close(KmodApi *k) {
        if (k->handle)
                dlclose(k->handle);
        *k = (KmodApi) {};
}

static int kmod_api_open(KmodApi *k) {
        *k = (KmodApi) {};
        k->handle = dlopen(LIBKMOD_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!k->handle) {
                log_debug("Cannot open %s: %s", LIBKMOD_SONAME, dlerror());
                return -EOPNOTSUPP;
        }
#define KMOD_SYM(field, sym)                                            \
        if (!(k->field = (__typeof__(sym) *) dlsym(k->handle, #sym))) { \
                log_debug("%s has no %s", LIBKMOD_SONAME, #sym);        \
                kmod_api_close(k);                                      \
                return -EOPNOTSUPP;                                     \
        }
        KMOD_SYM(new, kmod_new);
        KMOD_SYM(unref, kmod_unref);
        KMOD_SYM(load_resources, kmod_load_resources);
        KMOD_SYM(module_new_from_lookup, kmod_module_new_from_lookup);
        KMOD_SYM(module_get_module, kmod_module_get_module);
        KMOD_SYM(module_probe_insert_module, kmod_module_probe_insert_module);
        KMOD_SYM(module_unref, kmod_module_unref);
        KMOD_SYM(module_unref_list, kmod_module_unref_list);
        KMOD_SYM(list_next, kmod_list_next);
#undef KMOD_SYM
        return 0;
}

int vh_modules_check_libkmod(void) {
        KmodApi k;
        int r;

        r = kmod_api_open(&k);
        kmod_api_close(&k);
        return r;
}

static bool registered(const VhHostFs *fs, const char *driver) {
        return vh_hostfs_exists(fs, VH_SYSFS_PCI_DRIVERS, driver, NULL);
}

static int load_module(const KmodApi *k, struct kmod_ctx *ctx, const char *name) {
        struct kmod_list *list = NULL;
        int r;

        r = k->module_new_from_lookup(ctx, name, &list);
        if (r < 0)
                return r;
        if (!list)
                return -ENOENT;

        /* kmod_list_foreach, through the opened library */
        for (struct kmod_list *l = list; l; l = k->list_next(list, l)) {
                struct kmod_module *m = k->module_get_module(l);

                r = k->module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
                k->module_unref(m);
                if (r == KMOD_PROBE_APPLY_BLACKLIST) {
                        r = -EPERM;
                        break;
                }
                if (r < 0 && r != -EEXIST)
                        break;
                r = 0;
        }
        k->module_unref_list(list);
        return r;
}

int vh_modules_ensure_driver(const VhHostFs *fs, const char *driver, VhError *error) {
        _cleanup_(kmod_api_close) KmodApi k = {};
        struct kmod_ctx *ctx;
        bool vfio_pci = strcmp(driver, VH_DRIVER_VFIO_PCI) == 0;
        int r;

        if (registered(fs, driver))
                return 0;

        if (!vh_hostfs_is_host_root(fs))
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                                    "%s is not loaded in the host tree %s, and vfiohostd loads modules only into "
                                    "the running kernel. Nothing was changed.", driver, vh_hostfs_root(fs));

        ctx = kmod_api_open(&k) >= 0 ? k.new(NULL, NULL) : NULL;
        if (!ctx)
                return vh_error_set(error, VH_ERROR_CODE_VFIO_UNAVAILABLE, "Cannot set up libkmod (%s) to load %s. "
                                    "Run 'modprobe %s' and try again. Nothing was changed.", LIBKMOD_SONAME, driver, driver);
        (void) k.load_resources(ctx);

        r = load_module(&k, ctx, driver);
        if (r >= 0)
                /* Soft dependency of vfio-pci; without it no container. */
                (void) load_module(&k, ctx, "vfio_iommu_type1");
        k.unref(ctx);

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
