/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-kernel.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

int vh_kernel_cmdline(const VhHostFs *fs, char ***ret) {
        _cleanup_free_ char *cmdline = NULL;
        int r;

        r = vh_hostfs_read_string(fs, &cmdline, VH_PROC_CMDLINE, NULL);
        if (r < 0)
                return r;
        return vh_strv_split(cmdline, " \t\n", ret);
}

const char *vh_kernel_cmdline_value(char * const *words, const char *key) {
        size_t n = strlen(key);
        const char *value = NULL;

        for (char * const *w = words; w && *w; w++)
                if (strncmp(*w, key, n) == 0 && (*w)[n] == '=')
                        value = *w + n + 1;
        return value;
}

int vh_kernel_release(const VhHostFs *fs, char **ret) {
        _cleanup_free_ char *release = NULL;

        if (vh_hostfs_read_string(fs, &release, VH_PROC_OSRELEASE, NULL) < 0)
                return -ENOENT;
        /* It becomes a path component. */
        if (!*release || strchr(release, '/') || strcmp(release, ".") == 0 || strcmp(release, "..") == 0)
                return -EINVAL;
        *ret = TAKE_PTR(release);
        return 0;
}

static bool lists(const char *content, const char *needle) {
        size_t n = strlen(needle);

        for (const char *p = content; (p = strstr(p, needle)); p++)
                if (strchr(":. \n", p[n]))      /* strchr finds the NUL too */
                        return true;
        return false;
}

bool vh_kernel_module_file_lists(const VhHostFs *fs, const char *release, const char *file, const char *name) {
        _cleanup_free_ char *content = NULL, *needle = NULL;

        if (!release || vh_hostfs_read_file(fs, &content, NULL, VH_LIB_MODULES, release, file, NULL) < 0)
                return false;
        if (asprintf(&needle, "/%s.ko", name) < 0)
                return false;
        if (lists(content, needle))
                return true;
        /* The other spelling: vfio-pci.ko, vfio_iommu_type1.ko. */
        for (char *p = needle; *p; p++)
                if (*p == '-')
                        *p = '_';
                else if (*p == '_')
                        *p = '-';
        return lists(content, needle);
}

bool vh_kernel_vfio_pci_registered(const VhHostFs *fs) {
        return vh_hostfs_exists(fs, VH_SYSFS_PCI_DRIVERS, VH_DRIVER_VFIO_PCI, NULL) ||
                vh_hostfs_exists(fs, VH_SYSFS_MODULE, "vfio_pci", NULL);
}

/* proc/iomem names the firmware's resources "BOOTFB", "efifb",
 * "simpledrm", "vesafb"; proc/fb names its framebuffers "EFI VGA",
 * "VESA VGA", "simple", "simpledrmdrmfb" too. */
static const struct {
        const char *name;
        bool in_iomem;
} firmware_framebuffers[] = {
        { "BOOTFB",    true  },
        { "efifb",     true  },
        { "simpledrm", true  },
        { "vesafb",    true  },
        { "EFI VGA",   false },
        { "VESA VGA",  false },
        { "simple",    false },
};

bool vh_kernel_framebuffer_is_firmware(const char *name, bool in_iomem) {
        for (size_t i = 0; i < ELEMENTSOF(firmware_framebuffers); i++)
                if ((!in_iomem || firmware_framebuffers[i].in_iomem) && strstr(name, firmware_framebuffers[i].name))
                        return true;
        return false;
}

const char *vh_kernel_firmware_framebuffer_in_iomem(const char *iomem) {
        for (size_t i = 0; i < ELEMENTSOF(firmware_framebuffers); i++)
                if (firmware_framebuffers[i].in_iomem && strstr(iomem, firmware_framebuffers[i].name))
                        return firmware_framebuffers[i].name;
        return NULL;
}

bool vh_kernel_assignments_disabled(const VhHostFs *fs) {
        _cleanup_strv_free_ char **words = NULL;
        const char *v;

        if (vh_kernel_cmdline(fs, &words) < 0)
                return false;
        v = vh_kernel_cmdline_value(words, VH_CMDLINE_ASSIGN);
        return v && (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
                     strcmp(v, "false") == 0);
}
