/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who holds VFIO, judged (hypeman's "suspicious VMM"): a process that is
 * not a VM using a device, and a VM holding an IOMMU group one of whose
 * functions is on a host driver (a kernel before 5.19's DMA ownership
 * lets that happen; the host driver and the guest then share the group's
 * DMA space). docs/vms.md. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-names.h"
#include "vh-readiness-private.h"
#include "vh-strv.h"
#include "vh-vms.h"

static bool holds_vfio(const VhVm *v) {
        return v->n_groups > 0 || v->devices[0] || v->unknown_device_fds > 0;
}

static bool held_group(const VhVm *v, unsigned id) {
        for (size_t i = 0; i < v->n_groups; i++)
                if (v->groups[i] == id)
                        return true;
        return false;
}

/* An earlier device of the process is in the same group: judged once. */
static bool group_seen_before(const VhHost *host, const VhVm *v, size_t index, int group) {
        for (size_t i = 0; i < index; i++) {
                const VhPciDevice *d = vh_host_find_device(host, v->devices[i]);

                if (d && d->iommu_group == group)
                        return true;
        }
        return false;
}

/* "pid 3456 (qemu, VM win11)" */
static void describe(FILE *f, const VhVm *v) {
        fprintf(f, "pid %d (%s%s%s)", (int) v->pid, v->comm[0] ? v->comm : "?", v->name ? ", VM " : "",
                v->name ?: "");
}

static void describe_holdings(FILE *f, const VhVm *v) {
        const char *sep = "";

        for (size_t i = 0; i < v->n_groups; i++, sep = ", ")
                fprintf(f, "%s/dev/vfio/%u", sep, v->groups[i]);
        for (char **d = v->devices; *d; d++, sep = ", ")
                fprintf(f, "%s%s", sep, *d);
}

void vh_readiness_check_vfio_holders(VhReadinessContext *c) {
        _cleanup_free_ char *not_vms = NULL, *unsafe = NULL, *vms = NULL;
        size_t s1 = 0, s2 = 0, s3 = 0, n_holders = 0, n_not_vm = 0, n_unsafe = 0;
        FILE *f_not_vms = NULL, *f_unsafe = NULL, *f_vms = NULL;
        VhVm *list = NULL;
        size_t n = 0;
        VhCheck *k;
        int r;

        r = vh_vms_scan(c->fs, &list, &n);
        if (r < 0) {
                c->oom = c->oom || r == -ENOMEM;
                return;
        }
        f_not_vms = open_memstream(&not_vms, &s1);
        f_unsafe = open_memstream(&unsafe, &s2);
        f_vms = open_memstream(&vms, &s3);
        if (!f_not_vms || !f_unsafe || !f_vms) {
                c->oom = true;
                goto finish;
        }

        for (size_t i = 0; i < n; i++) {
                const VhVm *v = &list[i];

                if (!holds_vfio(v))
                        continue;
                n_holders++;
                if (!v->is_vm) {
                        fprintf(f_not_vms, "%s", n_not_vm++ ? "; " : "");
                        describe(f_not_vms, v);
                        fprintf(f_not_vms, " holds ");
                        describe_holdings(f_not_vms, v);
                } else {
                        fprintf(f_vms, "%s", n_holders - n_not_vm > 1 ? "; " : "");
                        describe(f_vms, v);
                        fprintf(f_vms, " holds ");
                        describe_holdings(f_vms, v);
                }
                /* The groups of its group fds, and of the devices it holds through iommufd. */
                for (size_t g = 0; c->host && g < v->n_groups + vh_strv_length(v->devices); g++) {
                        const VhPciDevice *d = g < v->n_groups ? NULL : vh_host_find_device(c->host, v->devices[g - v->n_groups]);
                        const VhIommuGroup *group;

                        if (g >= v->n_groups && (!d || d->iommu_group < 0 || held_group(v, (unsigned) d->iommu_group) ||
                                                 group_seen_before(c->host, v, g - v->n_groups, d->iommu_group)))
                                continue;
                        group = vh_host_find_group(c->host, d ? (unsigned) d->iommu_group : v->groups[g]);
                        if (!group || group->viable)
                                continue;
                        fprintf(f_unsafe, "%s", n_unsafe++ ? "; " : "");
                        describe(f_unsafe, v);
                        fprintf(f_unsafe, " holds IOMMU group %u, but %s", group->id, group->viability_reason);
                }
        }

finish:
        if (f_not_vms && fclose(f_not_vms) != 0)
                c->oom = true;
        if (f_unsafe && fclose(f_unsafe) != 0)
                c->oom = true;
        if (f_vms && fclose(f_vms) != 0)
                c->oom = true;
        vh_vms_free(list, n);
        if (c->oom || n_holders == 0)
                return;

        if (n_unsafe > 0) {
                k = vh_readiness_add(c, "system.vfio-holders", "system", VH_CHECK_WARN, "/" VH_PROC "/*/fd");
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "A VM holds an IOMMU group whose functions are not all on VFIO drivers");
                CHECK_DETAIL(c, k, "%s", unsafe);
                CHECK_REMEDY(c, k, "Stop the VM, bind the whole group to vfio-pci (vfiohostctl bind --group), then "
                             "start it again. Linux 5.19 and later refuse a host driver on a group in use.");
                return;
        }
        if (n_not_vm > 0) {
                k = vh_readiness_add(c, "system.vfio-holders", "system", VH_CHECK_INFO, "/" VH_PROC "/*/fd");
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "%s VFIO without KVM: not a virtual machine",
                              n_not_vm == 1 ? "A process uses" : "Processes use");
                CHECK_DETAIL(c, k, "%s.%s%s", not_vms, n_holders > n_not_vm ? " VMs: " : "",
                             n_holders > n_not_vm ? vms : "");
                CHECK_REMEDY(c, k, "Expected for user-space drivers (DPDK, SPDK) and test tools; anything else "
                             "holding a device should be looked at: its devices cannot be unbound while it runs.");
                return;
        }
        k = vh_readiness_add(c, "system.vfio-holders", "system", VH_CHECK_PASS, "/" VH_PROC "/*/fd");
        if (k) {
                CHECK_SUMMARY(c, k, "Every VFIO user is a VM, and each holds whole groups on VFIO drivers");
                CHECK_DETAIL(c, k, "%s.", vms);
        }
}
