/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks of one function, added with --device / option "device". */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-critical.h"
#include "vh-iommu.h"
#include "vh-names.h"
#include "vh-readiness-private.h"
#include "vh-strv.h"
#include "vh-vf-count.h"

static char *device_source(const VhPciDevice *d, const char *attr) {
        char *s;

        if (asprintf(&s, "/" VH_SYSFS_PCI_DEVICES "/%s/%s", d->address, attr) < 0)
                return NULL;
        return s;
}

static VhCheck *add(VhReadinessContext *c, const char *id, VhCheckResult result, const VhPciDevice *d, const char *attr) {
        _cleanup_free_ char *source = device_source(d, attr);

        if (!source) {
                c->oom = true;
                return NULL;
        }
        return vh_readiness_add(c, id, "device", result, source);
}

/* The Intel VMD controller a function sits behind, if any: VMD hides the
 * functions behind one endpoint in a domain of their own (10000 and up),
 * their DMA goes out under the endpoint's requester ID, and the kernel gives
 * them no IOMMU group. Their sysfs path passes through the endpoint. */
static const VhPciDevice *vmd_controller(VhReadinessContext *c, const VhPciDevice *d) {
        _cleanup_free_ char *target = NULL;
        char *save = NULL;

        if (vh_hostfs_read_link(c->fs, &target, VH_SYSFS_PCI_DEVICES, d->address, NULL) < 0)
                return NULL;
        for (char *p = strtok_r(target, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                const VhPciDevice *up;

                if (strcmp(p, d->address) == 0 || !vh_address_is_valid(p))
                        continue;
                up = vh_host_find_device(c->host, p);
                if (up && up->driver && strcmp(up->driver, VH_DRIVER_VMD) == 0)
                        return up;
        }
        return NULL;
}

static void check_device_group(VhReadinessContext *c, const VhPciDevice *d) {
        const VhIommuGroup *g;
        _cleanup_free_ char *others = NULL;
        size_t n_others = 0;
        VhCheck *k;

        if (d->iommu_group < 0) {
                const VhPciDevice *vmd = c->host->iommu_enabled ? vmd_controller(c, d) : NULL;

                k = add(c, "device.iommu-group", VH_CHECK_FAIL, d, VH_ATTR_IOMMU_GROUP);
                if (!k)
                        return;
                if (vmd) {
                        CHECK_SUMMARY(c, k, "%s is behind the VMD controller %s: the IOMMU sees only the controller, "
                                      "so the function has no IOMMU group and VFIO cannot isolate it", d->address,
                                      vmd->address);
                        CHECK_REMEDY(c, k, "Turn VMD off for this slot in the firmware setup (\"VMD controller\", "
                                     "\"Intel RST\"): the function then appears in domain 0000 with an IOMMU group "
                                     "of its own. Assigning the controller %s instead takes every device behind it "
                                     "from the host.", vmd->address);
                        return;
                }
                CHECK_SUMMARY(c, k, "%s is in no IOMMU group: VFIO cannot isolate it", d->address);
                CHECK_REMEDY(c, k, "Enable the IOMMU (see iommu.kernel).");
                return;
        }
        g = vh_host_find_group(c->host, (unsigned) d->iommu_group);
        if (!g)
                return;

        k = add(c, "device.iommu-group", VH_CHECK_PASS, d, VH_ATTR_IOMMU_GROUP);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "%s is in IOMMU group %u", d->address, g->id);

        STRV_FOREACH(m, g->members) {
                const VhPciDevice *md;
                char *s;

                if (strcmp(*m, d->address) == 0)
                        continue;
                md = vh_address_is_valid(*m) ? vh_host_find_device(c->host, *m) : NULL;
                /* Bridges are routing, not company. */
                if (md && vh_pci_device_is_pci_bridge(md))
                        continue;
                if (asprintf(&s, "%s%s%s (%s)", others ?: "", others ? ", " : "", *m,
                             md ? md->class_name : "not a PCI function") < 0) {
                        c->oom = true;
                        return;
                }
                free(others);
                others = s;
                n_others++;
        }

        k = add(c, "device.group-isolation", n_others ? VH_CHECK_WARN : VH_CHECK_PASS, d, VH_ATTR_IOMMU_GROUP);
        if (!k)
                return;
        if (!n_others) {
                CHECK_SUMMARY(c, k, "%s is alone in IOMMU group %u (bridges aside)", d->address, g->id);
                return;
        }
        CHECK_SUMMARY(c, k, "%s shares IOMMU group %u with %zu other function%s", d->address, g->id, n_others,
                      n_others == 1 ? "" : "s");
        CHECK_DETAIL(c, k, "Group mates: %s. They go to the VM together (or stay unbound).", others);
        CHECK_REMEDY(c, k, "Pass the whole group (vfiohostctl bind --group %s), or move the card to a slot with its "
                     "own group (often a CPU-attached slot).", d->address);
}

static void check_device_viability(VhReadinessContext *c, const VhPciDevice *d) {
        const VhIommuGroup *g = d->iommu_group >= 0 ? vh_host_find_group(c->host, (unsigned) d->iommu_group) : NULL;
        bool chipset = false;
        VhCheck *k;

        if (!g)
                return;
        STRV_FOREACH(b, g->blockers) {
                const VhPciDevice *bd = vh_address_is_valid(*b) ? vh_host_find_device(c->host, *b) : NULL;

                chipset = chipset || (bd && vh_iommu_member_is_chipset(bd));
        }

        /* Group mates on host drivers are normal before a bind; chipset
         * functions in the group make passthrough impossible. */
        k = add(c, "device.group-viability", g->viable ? VH_CHECK_PASS : chipset ? VH_CHECK_FAIL : VH_CHECK_INFO,
                d, VH_ATTR_IOMMU_GROUP);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "IOMMU group %u is %s", g->id, g->viable ? "viable now" : "not viable now");
        CHECK_DETAIL(c, k, "%s", g->viability_reason);
        if (!g->viable)
                CHECK_REMEDY(c, k, chipset ? "Use a different slot: this group holds functions the host needs."
                                           : "vfiohostctl bind --group %s moves every endpoint of the group to vfio-pci.",
                             d->address);
}

static void check_device_reset(VhReadinessContext *c, const VhPciDevice *d) {
        _cleanup_free_ char *methods = vh_strv_join(d->reset_methods, ", ");
        bool only_bus = vh_strv_length(d->reset_methods) == 1 && strcmp(d->reset_methods[0], "bus") == 0;
        VhCheck *k;

        if (!methods) {
                c->oom = true;
                return;
        }
        if (!d->reset_methods[0]) {
                k = add(c, "device.reset", VH_CHECK_WARN, d, VH_ATTR_RESET_METHOD);
                if (!k)
                        return;
                CHECK_SUMMARY(c, k, "%s cannot be reset by the kernel", d->address);
                CHECK_DETAIL(c, k, "Without a reset, state may leak between VM runs and some GPUs fail to start twice.");
                CHECK_REMEDY(c, k, "For AMD GPUs, the vendor-reset module adds a device-specific reset; otherwise plan "
                             "to reboot the host between uses.");
                return;
        }
        k = add(c, "device.reset", only_bus ? VH_CHECK_WARN : VH_CHECK_PASS, d, VH_ATTR_RESET_METHOD);
        if (!k)
                return;
        CHECK_SUMMARY(c, k, "%s reset methods: %s", d->address, methods);
        if (only_bus) {
                CHECK_DETAIL(c, k, "A secondary bus reset also resets every function behind the same bridge.");
                CHECK_REMEDY(c, k, "Pass every function on that bus together.");
        }
}

static void check_device_boot_vga(VhReadinessContext *c, const VhPciDevice *d) {
        _cleanup_free_ char *why = NULL;
        VhCheck *k;
        int r;

        if ((d->class_code >> 16) != 0x03)
                return;
        r = vh_critical_active_framebuffer(c->fs, d, &why);
        if (r < 0) {
                c->oom = true;
                return;
        }
        k = add(c, "device.boot-vga", r > 0 ? VH_CHECK_WARN : VH_CHECK_PASS, d, VH_ATTR_BOOT_VGA);
        if (!k)
                return;
        if (r == 0) {
                CHECK_SUMMARY(c, k, d->boot_vga ? "%s is the boot VGA device, but no firmware framebuffer holds it"
                                                : "%s is not the boot VGA device", d->address);
                return;
        }
        CHECK_SUMMARY(c, k, "%s is the boot VGA device with an active framebuffer", d->address);
        CHECK_DETAIL(c, k, "Binding it is refused unless forced: %s.", why);
        /* The firmware's framebuffer keeps the BAR: a kernel parameter frees
         * it. A driver's own framebuffer is the console: move the console. */
        if (strstr(why, "video=efifb:off"))
                CHECK_REMEDY(c, k, "Add video=efifb:off or initcall_blacklist=sysfb_init to the kernel command line: %s; "
                             "or make another GPU primary in the firmware setup.", vh_cmdline_remedy_hint());
        else
                CHECK_REMEDY(c, k, "Make another GPU primary in the firmware setup, or move the console and display "
                             "to another GPU before binding this one.");
}

static void check_device_d3cold(VhReadinessContext *c, const VhPciDevice *d) {
        /* Not allowed: it stays powered after an unbind and cannot get stuck
         * in D3cold. Allowed is the kernel's default and usually fine. */
        VhCheck *k = add(c, "device.d3cold", d->d3cold_allowed ? VH_CHECK_INFO : VH_CHECK_PASS, d, VH_ATTR_D3COLD_ALLOWED);

        if (!k)
                return;
        if (!d->d3cold_allowed) {
                CHECK_SUMMARY(c, k, "%s may not enter D3cold", d->address);
                return;
        }
        CHECK_SUMMARY(c, k, "%s may enter D3cold when idle", d->address);
        CHECK_DETAIL(c, k, "Some devices do not come back from D3cold after an unbind (\"Unable to change power state "
                     "from D3cold to D0\").");
        CHECK_REMEDY(c, k, "If that happens: echo 0 > /sys/bus/pci/devices/%s/d3cold_allowed, or load vfio-pci with "
                     "disable_idle_d3=1.", d->address);
}

/* A PF on vfio-pci creates VFs only with vfio_pci.enable_sriov (its
 * sriov_configure refuses otherwise); only such PFs get the check. */
static void check_device_sriov_vfio(VhReadinessContext *c, const VhPciDevice *d) {
        bool enabled;
        VhCheck *k;

        if (d->sriov_totalvfs == 0 || !vh_pci_device_is_bound_to_vfio(d))
                return;
        enabled = vh_vf_count_vfio_pci_enables_sriov(c->fs);
        k = add(c, "device.sriov-vfio-pf", enabled ? VH_CHECK_PASS : VH_CHECK_WARN, d,
                VH_ATTR_DRIVER ", /" VH_SYSFS_MODULE "/" VH_MODULE_VFIO_PCI "/parameters/" VH_PARAM_ENABLE_SRIOV);
        if (!k)
                return;
        if (enabled) {
                CHECK_SUMMARY(c, k, "%s is on vfio-pci, which may create its VFs (enable_sriov)", d->address);
                return;
        }
        CHECK_SUMMARY(c, k, "%s is an SR-IOV PF on vfio-pci, which cannot create its VFs", d->address);
        CHECK_DETAIL(c, k, "vfio-pci creates VFs of a PF it holds only with its module parameter enable_sriov; it is "
                     "off, so SetVfCount (vfiohostctl vfs) and sriov_numvfs fail on %s.", d->address);
        CHECK_REMEDY(c, k, "modprobe vfio-pci enable_sriov=1 (or options vfio-pci enable_sriov=1 in /etc/modprobe.d), "
                     "or now: echo Y > /" VH_SYSFS_MODULE "/" VH_MODULE_VFIO_PCI "/parameters/" VH_PARAM_ENABLE_SRIOV
                     ". Only if the VFs' users are trusted: the PF's user controls them.");
}

const VhDeviceCheckFn vh_device_checks[] = {
        check_device_group,
        check_device_viability,
        check_device_reset,
        check_device_boot_vga,
        check_device_d3cold,
        check_device_sriov_vfio,
};
const size_t vh_n_device_checks = ELEMENTSOF(vh_device_checks);
