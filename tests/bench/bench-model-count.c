/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loads the host model (vh_host_load, names included) from a tree and
 * prints what it holds, one "key value" a line, for the bench-gen test to
 * compare with what gen-host.py says it wrote (docs/performance.md):
 *
 *   functions 100
 *   groups 99
 *   pfs 4          functions with sriov_totalvfs > 0
 *   vfs 91         functions with a physfn link
 *   linked_vfs 91  virtfnN links the PFs list, each naming a loaded VF
 *                  whose physfn is that PF and whose VF index is N
 *   unnamed 0      functions whose vendor or device name libpci did not
 *                  resolve (libpci's "Device 154c" style fallback)
 *   grouped 100    functions in an IOMMU group the model loaded
 *
 *   build/tests/bench/bench-model-count TREE
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"

static bool unresolved(const char *name) {
        /* libpci's name for an id it does not know: "Vendor 8086", "Device 154c". */
        return !name || strncmp(name, "Device ", 7) == 0 || strncmp(name, "Vendor ", 7) == 0;
}

int main(int argc, char *argv[]) {
        size_t n_pfs = 0, n_vfs = 0, n_linked = 0, n_unnamed = 0, n_grouped = 0;
        VhHostFs *fs = NULL;
        VhPciNames *names = NULL;
        VhHost *host = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: %s TREE\n", argv[0]);
                return EXIT_FAILURE;
        }
        r = vh_hostfs_new(argv[1], &fs);
        if (r < 0) {
                fprintf(stderr, "Cannot open host tree %s: %s\n", argv[1], strerror(-r));
                return EXIT_FAILURE;
        }
        r = vh_pci_names_new(fs, &names);
        if (r < 0) {
                fprintf(stderr, "Cannot set up libpci: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        r = vh_host_load(fs, names, &host);
        if (r < 0) {
                fprintf(stderr, "Cannot load the host model from %s: %s\n", argv[1], strerror(-r));
                return EXIT_FAILURE;
        }

        for (size_t i = 0; i < host->n_devices; i++) {
                const VhPciDevice *d = host->devices[i];

                if (d->sriov_totalvfs > 0)
                        n_pfs++;
                if (d->physfn)
                        n_vfs++;
                if (unresolved(d->vendor_name) || unresolved(d->device_name))
                        n_unnamed++;
                if (d->iommu_group >= 0 && vh_host_find_group(host, (unsigned) d->iommu_group))
                        n_grouped++;
                /* Both directions of the PF-VF links, as the model read them. */
                for (size_t k = 0; k < d->n_virtfns; k++) {
                        const VhPciDevice *vf = vh_host_find_device(host, d->virtfns[k].address);

                        if (vf && vf->physfn && strcmp(vf->physfn, d->address) == 0 &&
                            vf->vf_index == (int) d->virtfns[k].index)
                                n_linked++;
                }
        }

        printf("functions %zu\n", host->n_devices);
        printf("groups %zu\n", host->n_groups);
        printf("pfs %zu\n", n_pfs);
        printf("vfs %zu\n", n_vfs);
        printf("linked_vfs %zu\n", n_linked);
        printf("unnamed %zu\n", n_unnamed);
        printf("grouped %zu\n", n_grouped);

        vh_host_free(host);
        vh_pci_names_free(names);
        vh_hostfs_free(fs);
        return EXIT_SUCCESS;
}
