/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A PCI function's sysfs attributes and links, as vh_pci_device_load()
 * reads them: the input holds one part per file below, separated by
 * VH_FUZZ_SEPARATOR (a part of only VH_FUZZ_ABSENT, or a missing one,
 * removes that file, so the fallbacks run too: ids from config space, no
 * driver, no group). Links get the part as their target. The function is
 * desktop-intel's 0000:01:00.0; names come from the real pci.ids. */

#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-pci.h"
#include "vh-pci-names.h"

#define ADDRESS "0000:01:00.0"
#define DIR     VH_SYSFS_PCI_DEVICES "/" ADDRESS "/"

static const char * const files[] = {
        DIR VH_ATTR_VENDOR,
        DIR VH_ATTR_DEVICE,
        DIR VH_ATTR_CLASS,
        DIR VH_ATTR_REVISION,
        DIR VH_ATTR_SUBSYSTEM_VENDOR,
        DIR VH_ATTR_SUBSYSTEM_DEVICE,
        DIR VH_ATTR_CONFIG,
        DIR VH_ATTR_DRIVER_OVERRIDE,
        DIR VH_ATTR_NUMA_NODE,
        DIR VH_ATTR_BOOT_VGA,
        DIR VH_ATTR_D3COLD_ALLOWED,
        DIR VH_ATTR_RESET_METHOD,
        DIR VH_ATTR_SRIOV_TOTALVFS,
        DIR VH_ATTR_SRIOV_NUMVFS,
};
static const char * const links[] = {
        DIR VH_ATTR_DRIVER,
        DIR VH_ATTR_IOMMU_GROUP,
        DIR VH_ATTR_PHYSFN,
};

static const VhHostFs *fs;
static VhPciNames *names;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fs = vh_fuzz_setup("desktop-intel", false);
        if (vh_pci_names_new(fs, &names) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vh_pci_device_freep) VhPciDevice *d = NULL;
        VhFuzzPart parts[ELEMENTSOF(files) + ELEMENTSOF(links)];
        int r;

        vh_fuzz_split(data, size, parts, ELEMENTSOF(parts));
        vh_fuzz_write_parts(files, parts, ELEMENTSOF(files));
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                const VhFuzzPart *p = &parts[ELEMENTSOF(files) + i];

                if (p->absent)
                        vh_fuzz_remove(links[i]);
                else
                        vh_fuzz_symlink(links[i], p->data, p->size);
        }

        r = vh_pci_device_load(fs, names, ADDRESS, &d);
        if (r == -ENOMEM)
                abort();
        if (r < 0)
                return 0;

        /* What the bus layer relies on without checking. */
        if (strcmp(d->address, ADDRESS) != 0 || !d->vendor_name || !d->device_name || !d->subsystem_vendor_name ||
            !d->subsystem_name || !d->class_name || !d->reset_methods || d->iommu_group < -1 ||
            d->class_code > 0xffffff || (d->physfn && !vh_address_is_valid(d->physfn)) ||
            (d->driver && (!*d->driver || strchr(d->driver, '/'))) || (d->driver_override && !*d->driver_override))
                abort();
        if ((d->vfio_group_path || d->vfio_device_path) && !vh_pci_device_is_bound_to_vfio(d))
                abort();
        return 0;
}
