/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-pci.h"
#include "vh-strv.h"
#include "vh-vfio-driver.h"

VhPciDevice *vh_pci_device_ref(VhPciDevice *d) {
        if (d)
                __atomic_add_fetch(&d->n_ref, 1, __ATOMIC_RELAXED);
        return d;
}

VhPciDevice *vh_pci_device_free(VhPciDevice *d) {
        if (!d || __atomic_sub_fetch(&d->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        free(d->vendor_name);
        free(d->device_name);
        free(d->subsystem_vendor_name);
        free(d->subsystem_name);
        free(d->class_name);
        free(d->driver);
        free(d->driver_override);
        vh_strv_free(d->reset_methods);
        free(d->physfn);
        free(d->parent);
        free(d->virtfns);
        free(d->vfio_group_path);
        free(d->vfio_device_path);
        free(d->original_driver);
        free(d->assignment_name);
        free(d);
        return NULL;
}

void vh_pci_device_array_free(VhPciDevice **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                vh_pci_device_free(a[i]);
        free(a);
}

/* Required numeric attribute: a function without it is not usable. */
static int read_id(const VhHostFs *fs, const char *address, const char *attr, unsigned long max, unsigned long *ret) {
        unsigned long v;
        int r;

        r = vh_hostfs_read_ulong(fs, &v, VH_SYSFS_PCI_DEVICES, address, attr, NULL);
        if (r < 0)
                return log_debug_errno(r, "%s: cannot read %s: %m", address, attr);
        if (v > max)
                return log_debug_errno(ERANGE, "%s: %s out of range: %#lx", address, attr, v);
        *ret = v;
        return 0;
}

/* Optional numeric attribute: missing or malformed gives the default. */
static long read_long_or(const VhHostFs *fs, const char *address, const char *attr, long def) {
        long v;

        if (vh_hostfs_read_long(fs, &v, VH_SYSFS_PCI_DEVICES, address, attr, NULL) < 0)
                return def;
        return v;
}

/* The first 64 bytes of config space: the fallback for ids when a tree (an
 * old kernel, a partial recording) lacks the attribute files, as libpci
 * does. Returns the bytes read, 0 when there is no config file. */
static size_t read_config_header(const VhHostFs *fs, const char *address, uint8_t header[static 64]) {
        _cleanup_free_ char *config = NULL;
        size_t size;

        if (vh_hostfs_read_binary(fs, &config, &size, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_CONFIG, NULL) < 0)
                return 0;
        if (size > 64)
                size = 64;
        memcpy(header, config, size);
        return size;
}

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static int read_ids(const VhHostFs *fs, VhPciDevice *d) {
        uint8_t header[64] = {};
        size_t header_size = 0;
        bool have_header = false;
        unsigned long v;

        /* Reads the config header on first need only. */
#define HEADER()                                                                        (have_header ? header_size : (have_header = true,                                                             header_size = read_config_header(fs, d->address, header)))

        if (read_id(fs, d->address, VH_ATTR_VENDOR, 0xffff, &v) >= 0)
                d->vendor_id = (uint16_t) v;
        else if (HEADER() >= 2)
                d->vendor_id = le16(header + 0x00);
        else
                return log_debug_errno(ENODATA, "%s: neither vendor nor config is readable.", d->address);

        if (read_id(fs, d->address, VH_ATTR_DEVICE, 0xffff, &v) >= 0)
                d->device_id = (uint16_t) v;
        else if (HEADER() >= 4)
                d->device_id = le16(header + 0x02);
        else
                return log_debug_errno(ENODATA, "%s: neither device nor config is readable.", d->address);

        if (read_id(fs, d->address, VH_ATTR_CLASS, 0xffffff, &v) >= 0)
                d->class_code = (uint32_t) v;
        else if (HEADER() >= 12)
                d->class_code = (uint32_t) (header[0x09] | header[0x0a] << 8 | header[0x0b] << 16);
        else
                return log_debug_errno(ENODATA, "%s: neither class nor config is readable.", d->address);

        if (read_id(fs, d->address, VH_ATTR_REVISION, 0xff, &v) >= 0)
                d->revision = (uint8_t) v;
        else if (HEADER() >= 9)
                d->revision = header[0x08];

        /* Subsystem ids live at 0x2c only in type 0 headers; bridges keep
         * them in a capability, which the kernel's files already resolve.
         * Without either, 0 means "none", as in lspci. */
        if (read_id(fs, d->address, VH_ATTR_SUBSYSTEM_VENDOR, 0xffff, &v) >= 0)
                d->subsystem_vendor_id = (uint16_t) v;
        else if (HEADER() >= 0x30 && (header[0x0e] & 0x7f) == 0)
                d->subsystem_vendor_id = le16(header + 0x2c);

        if (read_id(fs, d->address, VH_ATTR_SUBSYSTEM_DEVICE, 0xffff, &v) >= 0)
                d->subsystem_device_id = (uint16_t) v;
        else if (HEADER() >= 0x30 && (header[0x0e] & 0x7f) == 0)
                d->subsystem_device_id = le16(header + 0x2e);
#undef HEADER

        return 0;
}

static int read_names(VhPciNames *names, VhPciDevice *d) {
        /* Loaded off the event loop (libpci is not thread-safe): no names. */
        if (!names)
                return 0;
        d->vendor_name = vh_pci_names_vendor(names, d->vendor_id);
        d->device_name = vh_pci_names_device(names, d->vendor_id, d->device_id);
        d->subsystem_vendor_name = vh_pci_names_subsystem_vendor(names, d->subsystem_vendor_id);
        d->subsystem_name = vh_pci_names_subsystem(names, d->vendor_id, d->device_id,
                                                   d->subsystem_vendor_id, d->subsystem_device_id);
        d->class_name = vh_pci_names_class(names, d->class_code);

        if (!d->vendor_name || !d->device_name || !d->subsystem_vendor_name ||
            !d->subsystem_name || !d->class_name)
                return -ENOMEM;
        return 0;
}

/* What a whole scan learns once rather than per function: whether a
 * driver is a VFIO driver costs two lookups in sysfs, and a host of
 * thousands of functions has a handful of drivers. */
typedef struct ScanCache {
        struct {
                char *driver;
                bool is_vfio;
        } drivers[16];
        size_t n_drivers;
} ScanCache;

static void scan_cache_done(ScanCache *c) {
        for (size_t i = 0; i < c->n_drivers; i++)
                free(c->drivers[i].driver);
}

static bool driver_is_vfio(const VhHostFs *fs, ScanCache *c, const char *driver) {
        bool is_vfio;

        if (!c || !driver)
                return vh_vfio_driver_is(fs, driver);
        for (size_t i = 0; i < c->n_drivers; i++)
                if (strcmp(c->drivers[i].driver, driver) == 0)
                        return c->drivers[i].is_vfio;
        is_vfio = vh_vfio_driver_is(fs, driver);
        /* Full, or no memory: asked again next time, the same answer. */
        if (c->n_drivers < ELEMENTSOF(c->drivers) && (c->drivers[c->n_drivers].driver = strdup(driver)))
                c->drivers[c->n_drivers++].is_vfio = is_vfio;
        return is_vfio;
}

static int read_driver(const VhHostFs *fs, ScanCache *cache, VhPciDevice *d) {
        int r;

        r = vh_pci_read_driver(fs, d->address, &d->driver);
        if (r < 0)
                log_debug_errno(r, "%s: cannot read driver link: %m", d->address);
        d->driver_is_vfio = driver_is_vfio(fs, cache, d->driver);

        (void) vh_pci_read_driver_override(fs, d->address, &d->driver_override);
        return 0;
}

int vh_pci_read_iommu_group(const VhHostFs *fs, const char *address, int *ret) {
        _cleanup_free_ char *name = NULL;
        unsigned long v;
        char *end;
        int r;

        *ret = -1;

        r = vh_hostfs_read_link_name(fs, &name, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_IOMMU_GROUP, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_debug_errno(r, "%s: cannot read iommu_group link: %m", address);

        errno = 0;
        v = strtoul(name, &end, 10);
        if (errno != 0 || *end || end == name || v > INT32_MAX)
                return log_debug_errno(EINVAL, "%s: iommu_group link names '%s', not a group number.", address, name);

        *ret = (int) v;
        return 0;
}

static int read_reset_methods(const VhHostFs *fs, VhPciDevice *d) {
        _cleanup_free_ char *s = NULL;
        int r;

        /* reset_method (5.15+) lists the methods in the order the kernel
         * tries them; absent when the function cannot be reset. */
        r = vh_hostfs_read_string(fs, &s, VH_SYSFS_PCI_DEVICES, d->address, VH_ATTR_RESET_METHOD, NULL);
        if (r < 0)
                s = NULL;

        return vh_strv_split(s ?: "", " \t\n", &d->reset_methods);
}

static int compare_virtfns(const void *a, const void *b) {
        unsigned x = ((const VhVirtfn *) a)->index, y = ((const VhVirtfn *) b)->index;

        return (x > y) - (x < y);
}

int vh_pci_read_virtfns(const VhHostFs *fs, const char *address, VhVirtfn **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL, **targets = NULL;
        _cleanup_free_ VhVirtfn *l = NULL;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = vh_hostfs_list_links(fs, &names, &targets, VH_SYSFS_PCI_DEVICES, address, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;

        l = calloc(vh_strv_length(names) + 1, sizeof(VhVirtfn));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; names[i] && targets[i]; i++) {
                const char *vf = strrchr(targets[i], '/');
                unsigned index;
                int consumed = 0;

                vf = vf ? vf + 1 : targets[i];
                if (sscanf(names[i], VH_ATTR_VIRTFN_PREFIX "%u%n", &index, &consumed) != 1 || names[i][consumed] ||
                    !vh_address_is_valid(vf))
                        continue;
                l[n].index = index;
                (void) vh_address_normalize(vf, l[n].address);
                n++;
        }
        if (n == 0)
                return 0;
        /* Directory order is no order: VirtualFunctions lists them by N. */
        qsort(l, n, sizeof(VhVirtfn), compare_virtfns);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* A VF's N: the virtfnN link of its PF that points to it. */
static int read_vf_index(const VhHostFs *fs, const char *pf, const char *vf) {
        _cleanup_free_ VhVirtfn *l = NULL;
        size_t n = 0;

        if (vh_pci_read_virtfns(fs, pf, &l, &n) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i].address, vf) == 0)
                        return (int) l[i].index;
        return -1;
}

/* index_later: a whole scan fills a VF's index from its PF's virtfns once
 * every function is loaded (set_vf_indexes), instead of each VF listing
 * its PF's directory again: that made loading a PF's VFs quadratic (a
 * ConnectX-5 has 127). */
static int read_sriov(const VhHostFs *fs, VhPciDevice *d, bool index_later) {
        _cleanup_free_ char *physfn = NULL;
        int r;

        d->sriov_totalvfs = (unsigned) read_long_or(fs, d->address, VH_ATTR_SRIOV_TOTALVFS, 0);
        d->sriov_numvfs = (unsigned) read_long_or(fs, d->address, VH_ATTR_SRIOV_NUMVFS, 0);
        /* Kernels before 4.12 lack the file and always probe new VFs. */
        d->sriov_drivers_autoprobe = d->sriov_totalvfs > 0 &&
                read_long_or(fs, d->address, VH_ATTR_SRIOV_DRIVERS_AUTOPROBE, 1) != 0;
        d->vf_index = -1;

        if (d->sriov_totalvfs > 0) {
                r = vh_pci_read_virtfns(fs, d->address, &d->virtfns, &d->n_virtfns);
                if (r < 0)
                        return r;
        }

        r = vh_hostfs_read_link_name(fs, &physfn, VH_SYSFS_PCI_DEVICES, d->address, VH_ATTR_PHYSFN, NULL);
        if (r >= 0 && vh_address_is_valid(physfn)) {
                d->physfn = malloc(VH_ADDRESS_MAX);
                if (!d->physfn)
                        return -ENOMEM;
                (void) vh_address_normalize(physfn, d->physfn);
                if (!index_later)
                        d->vf_index = read_vf_index(fs, d->physfn, d->address);
        }
        return 0;
}

/* devices/ADDR links to .../pci0000:00/0000:00:01.1/0000:01:00.0: the
 * directory above is the bridge, or the root bus ("pci0000:00"). */
static int read_parent(const VhHostFs *fs, VhPciDevice *d) {
        _cleanup_free_ char *target = NULL;
        char *last, *up;
        int r;

        r = vh_hostfs_read_link(fs, &target, VH_SYSFS_PCI_DEVICES, d->address, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        last = strrchr(target, '/');
        if (!last)
                return 0;
        *last = '\0';
        up = strrchr(target, '/');
        up = up ? up + 1 : target;
        if (!vh_address_is_valid(up))
                return 0;
        d->parent = malloc(VH_ADDRESS_MAX);
        if (!d->parent)
                return -ENOMEM;
        (void) vh_address_normalize(up, d->parent);
        return 0;
}

/* Sets *ret to "/dev/vfio/<prefix><group>" when that node exists. */
static int find_vfio_group_node(const VhHostFs *fs, const char *prefix, int group, char **ret) {
        _cleanup_free_ char *name = NULL;

        if (asprintf(&name, "%s%d", prefix, group) < 0)
                return -ENOMEM;
        if (!vh_hostfs_exists(fs, VH_DEV_VFIO, name, NULL))
                return 0;
        if (asprintf(ret, "/" VH_DEV_VFIO "/%s", name) < 0)
                return -ENOMEM;
        return 1;
}

int vh_pci_read_vfio_nodes(const VhHostFs *fs, const char *address, int iommu_group,
                           char **ret_group_path, char **ret_device_path) {
        _cleanup_free_ char *group_path = NULL, *device_path = NULL;
        _cleanup_strv_free_ char **cdevs = NULL;
        int r;

        if (iommu_group >= 0) {
                r = find_vfio_group_node(fs, "", iommu_group, &group_path);
                /* noiommu mode names the node "noiommu-N". */
                if (r == 0)
                        r = find_vfio_group_node(fs, "noiommu-", iommu_group, &group_path);
                if (r < 0)
                        return r;
        }

        /* iommufd character device: vfio-dev/vfioX names the node. */
        if (vh_hostfs_list_dir(fs, &cdevs, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_VFIO_DEV, NULL) >= 0)
                STRV_FOREACH(c, cdevs)
                        if (vh_hostfs_exists(fs, VH_DEV_VFIO_DEVICES, *c, NULL)) {
                                if (asprintf(&device_path, "/" VH_DEV_VFIO_DEVICES "/%s", *c) < 0)
                                        return -ENOMEM;
                                break;
                        }

        *ret_group_path = TAKE_PTR(group_path);
        *ret_device_path = TAKE_PTR(device_path);
        return 0;
}

int vh_pci_read_driver_override(const VhHostFs *fs, const char *address, char **ret) {
        _cleanup_free_ char *override = NULL;
        int r;

        *ret = NULL;
        r = vh_hostfs_read_string(fs, &override, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_DRIVER_OVERRIDE, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* The kernel shows an unset override as "(null)". */
        if (*override && strcmp(override, "(null)") != 0)
                *ret = TAKE_PTR(override);
        return 0;
}

int vh_pci_read_driver(const VhHostFs *fs, const char *address, char **ret) {
        int r;

        r = vh_hostfs_read_link_name(fs, ret, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_DRIVER, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

/* scan: the whole scan this load is part of (its cache, VF indexes set
 * afterwards, the address just listed), or NULL for one function alone. */
static int load_device(const VhHostFs *fs, VhPciNames *names, const char *address, ScanCache *scan,
                       VhPciDevice **ret) {
        _cleanup_(vh_pci_device_freep) VhPciDevice *d = NULL;
        int r;

        if (!vh_address_is_valid(address))
                return -EINVAL;

        /* A scan's addresses come from the directory's listing: one gone
         * since fails its first read below. */
        if (!scan && !vh_hostfs_exists(fs, VH_SYSFS_PCI_DEVICES, address, NULL))
                return -ENOENT;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->n_ref = 1;
        (void) vh_address_normalize(address, d->address);

        r = read_ids(fs, d);
        if (r < 0)
                return r;
        r = read_names(names, d);
        if (r < 0)
                return r;
        r = read_driver(fs, scan, d);
        if (r < 0)
                return r;
        r = vh_pci_read_iommu_group(fs, d->address, &d->iommu_group);
        if (r < 0)
                return r;

        d->numa_node = (int) read_long_or(fs, d->address, VH_ATTR_NUMA_NODE, -1);
        d->boot_vga = read_long_or(fs, d->address, VH_ATTR_BOOT_VGA, 0) == 1;
        /* The kernel defaults d3cold_allowed to 1. */
        d->d3cold_allowed = read_long_or(fs, d->address, VH_ATTR_D3COLD_ALLOWED, 1) != 0;

        r = read_reset_methods(fs, d);
        if (r < 0)
                return r;
        r = read_parent(fs, d);
        if (r < 0)
                return r;
        r = read_sriov(fs, d, scan != NULL);
        if (r < 0)
                return r;
        /* The VFIO nodes exist only while a VFIO driver holds the function. */
        if (vh_pci_device_is_bound_to_vfio(d)) {
                r = vh_pci_read_vfio_nodes(fs, d->address, d->iommu_group, &d->vfio_group_path, &d->vfio_device_path);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(d);
        return 0;
}

int vh_pci_device_load(const VhHostFs *fs, VhPciNames *names, const char *address, VhPciDevice **ret) {
        return load_device(fs, names, address, NULL, ret);
}

bool vh_pci_device_is_pci_bridge(const VhPciDevice *d) {
        uint32_t sub = d->class_code >> 8;

        /* 0604: PCI-to-PCI bridge, 0609: semi-transparent PCI-to-PCI bridge. */
        return sub == 0x0604 || sub == 0x0609;
}

bool vh_pci_device_is_bound_to_vfio(const VhPciDevice *d) {
        /* vfio-pci by name too: a function put together without a load. */
        return d->driver && (d->driver_is_vfio || strcmp(d->driver, VH_DRIVER_VFIO_PCI) == 0);
}

static int compare_devices(const void *a, const void *b) {
        return vh_address_compare((*(VhPciDevice * const *) a)->address, (*(VhPciDevice * const *) b)->address);
}

/* Each VF's index from its PF's virtfns, devices sorted by address; a VF
 * whose PF is not among them (gone meanwhile) asks the PF's directory. */
static void set_vf_indexes(const VhHostFs *fs, VhPciDevice **devices, size_t n) {
        for (size_t i = 0; i < n; i++) {
                VhPciDevice *d = devices[i], key = {}, *k = &key, **pf;

                if (!d->physfn)
                        continue;
                memcpy(key.address, d->physfn, VH_ADDRESS_MAX);
                pf = bsearch(&k, devices, n, sizeof(VhPciDevice *), compare_devices);
                if (!pf) {
                        d->vf_index = read_vf_index(fs, d->physfn, d->address);
                        continue;
                }
                for (size_t v = 0; v < (*pf)->n_virtfns; v++)
                        if (strcmp((*pf)->virtfns[v].address, d->address) == 0) {
                                d->vf_index = (int) (*pf)->virtfns[v].index;
                                break;
                        }
        }
}

int vh_pci_scan(const VhHostFs *fs, VhPciNames *names, VhPciDevice ***ret, size_t *ret_n) {
        _cleanup_(scan_cache_done) ScanCache cache = {};
        _cleanup_strv_free_ char **entries = NULL;
        VhPciDevice **devices = NULL;
        size_t n = 0;
        int r;

        r = vh_hostfs_list_dir(fs, &entries, VH_SYSFS_PCI_DEVICES, NULL);
        if (r == -ENOENT) {
                /* No PCI bus at all (some VMs, containers): an empty host. */
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot list %s beneath %s: %m", VH_SYSFS_PCI_DEVICES, vh_hostfs_root(fs));

        devices = calloc(vh_strv_length(entries) + 1, sizeof(VhPciDevice *));
        if (!devices)
                return -ENOMEM;

        STRV_FOREACH(e, entries) {
                VhPciDevice *d;

                if (!vh_address_is_valid(*e)) {
                        log_warning("Ignoring %s/%s: not a PCI address.", VH_SYSFS_PCI_DEVICES, *e);
                        continue;
                }

                r = load_device(fs, names, *e, &cache, &d);
                if (r == -ENOMEM) {
                        vh_pci_device_array_free(devices, n);
                        return r;
                }
                if (r < 0) {
                        log_warning_errno(r, "Ignoring PCI function %s: %m", *e);
                        continue;
                }
                devices[n++] = d;
        }

        /* The listing is sorted as text, which is not bus order once
         * domains differ in width ("ffff" sorts after "10000"). */
        if (n > 1)
                qsort(devices, n, sizeof(VhPciDevice *), compare_devices);
        set_vf_indexes(fs, devices, n);

        *ret = devices;
        *ret_n = n;
        return 0;
}
