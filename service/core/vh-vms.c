/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-address.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"
#include "vh-strv.h"
#include "vh-vms.h"

/* Link targets procfs shows for these descriptors (d_path of the node,
 * or the anon inode's name as anon_inode_getfd() was given it). */
#define FD_KVM          "/" VH_DEV_KVM
#define FD_KVM_VM       "anon_inode:kvm-vm"
#define FD_KVM_VCPU     "anon_inode:kvm-vcpu:"
#define FD_CONTAINER    "/" VH_DEV_VFIO_CONTAINER
#define FD_IOMMUFD      "/" VH_DEV_IOMMU
#define FD_VFIO_CDEV    "/" VH_DEV_VFIO_DEVICES "/"
#define FD_VFIO_GROUP   "/" VH_DEV_VFIO "/"
#define FD_VFIO_DEVICE  "anon_inode:[vfio-device]"
/* Linux 6.18, drivers/vfio/vfio_main.c vfio_device_show_fdinfo() */
#define FDINFO_SYSPATH  "vfio-device-syspath:"

void vh_vm_done(VhVm *v) {
        free(v->comm);
        free(v->vmm);
        free(v->name);
        vh_strv_free(v->devices);
        free(v->groups);
        *v = (VhVm) {};
}

void vh_vms_free(VhVm *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                vh_vm_done(&v[i]);
        free(v);
}

static const char *after_prefix(const char *s, const char *prefix) {
        size_t n = strlen(prefix);

        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static bool all_digits(const char *s) {
        return vh_proc_is_pid(s);
}

/* ---- QEMU's -name: QemuOpts syntax (util/qemu-option.c) */

/* get_opt_value(): up to a ',' that does not start ",,"; ",," is a ','. */
static const char *opt_value(const char *p, char **ret) {
        char *v = malloc(strlen(p) + 1), *o = v;

        if (!v)
                return NULL;
        while (*p) {
                if (*p == ',') {
                        if (p[1] != ',')
                                break;
                        p++;
                }
                *o++ = *p++;
        }
        *o = 0;
        *ret = v;
        return p;
}

int vh_vm_qemu_guest_name(const char *arg, char **ret) {
        _cleanup_free_ char *guest = NULL;
        bool first = true;

        for (const char *p = arg; *p;) {
                _cleanup_free_ char *value = NULL;
                size_t len = strcspn(p, "=,");
                bool is_guest = false;

                if (p[len] != '=') {
                        /* "win11,...": the implied first key; later, "debug-threads" alone is a flag */
                        if (first) {
                                is_guest = true;
                                p = opt_value(p, &value);
                        } else
                                p += len;
                } else {
                        is_guest = len == 5 && strncmp(p, "guest", 5) == 0;
                        p = opt_value(p + len + 1, &value);
                }
                if (!p)
                        return -ENOMEM;
                if (is_guest) {
                        free(guest);
                        guest = TAKE_PTR(value);
                }
                first = false;
                if (*p == ',')
                        p++;
        }

        if (guest && !*guest) {
                free(guest);
                guest = NULL;
        }
        *ret = TAKE_PTR(guest);
        return 0;
}

/* ---- what the process is */

/* Names the VMMs run as, argv[0]'s last component or comm (15 bytes). */
static const char *vmm_of_name(const char *s) {
        if (after_prefix(s, "qemu-system-") || strcmp(s, "qemu-kvm") == 0)
                return "qemu";
        if (strcmp(s, "cloud-hypervisor") == 0 || strcmp(s, "cloud-hyperviso") == 0)
                return "cloud-hypervisor";
        if (strcmp(s, "firecracker") == 0)
                return "firecracker";
        if (strcmp(s, "crosvm") == 0)
                return "crosvm";
        return NULL;
}

/* proc/PID/cmdline: NUL-terminated arguments (the last one may lack its
 * NUL when the process rewrote them). */
static int read_argv(const VhHostFs *fs, const char *pid, char ***ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        size_t size = 0, n = 0;

        if (vh_hostfs_read_file(fs, &text, &size, VH_PROC, pid, "cmdline", NULL) < 0)
                size = 0;
        for (size_t i = 0; i < size; i += strlen(text + i) + 1)
                n++;
        argv = calloc(n + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        n = 0;
        for (size_t i = 0; i < size; i += strlen(text + i) + 1) {
                argv[n] = strdup(text + i);
                if (!argv[n])
                        return -ENOMEM;
                n++;
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

static int guest_name(const char *vmm, char **argv, char **ret) {
        _cleanup_free_ char *name = NULL;
        int r;

        *ret = NULL;
        if (!vmm)
                return 0;
        /* An empty cmdline (a zombie, a kernel thread, a process that cleared it) has no argv[1]. */
        for (size_t i = 1; argv[0] && argv[i] && argv[i + 1]; i++) {
                char *g = NULL;

                if (strcmp(vmm, "qemu") == 0 && (strcmp(argv[i], "-name") == 0 || strcmp(argv[i], "--name") == 0)) {
                        /* -name may come more than once: its keys merge, the last guest= wins */
                        r = vh_vm_qemu_guest_name(argv[i + 1], &g);
                        if (r < 0)
                                return r;
                        if (g) {
                                free(name);
                                name = g;
                        }
                        i++;
                } else if (strcmp(vmm, "firecracker") == 0 && strcmp(argv[i], "--id") == 0) {
                        /* firecracker and the jailer take "--id ID" only, once */
                        name = strdup(argv[i + 1]);
                        if (!name)
                                return -ENOMEM;
                        break;
                }
        }
        *ret = TAKE_PTR(name);
        return 0;
}

static int compare_address(const void *a, const void *b) {
        return vh_address_compare(*(char * const *) a, *(char * const *) b);
}

static int compare_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;

        return x < y ? -1 : x > y;
}

/* Adds the PCI address that ends a sysfs path or link target
 * ("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0",
 * "../../../0000:3b:02.1"). Other VFIO devices (platform, mdev) are not
 * PCI functions: left out. */
static int add_pci_address(char ***devices, const char *path) {
        const char *name = strrchr(path, '/');
        char address[VH_ADDRESS_MAX];

        name = name ? name + 1 : path;
        if (vh_address_normalize(name, address) < 0)
                return 0;
        return vh_strv_extend(devices, address);
}

/* Which device a VFIO device fd is of: its fdinfo line (6.18+), else for
 * a cdev fd the vfio-dev class device's link to its function. 1 when
 * known, 0 when not. */
static int device_of_fd(const VhHostFs *fs, const char *pid, const char *fd, const char *cdev, char ***devices) {
        _cleanup_free_ char *info = NULL, *target = NULL;
        int r;

        if (vh_hostfs_read_file(fs, &info, NULL, VH_PROC, pid, "fdinfo", fd, NULL) >= 0)
                for (char *line = info; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                        char *v = (char *) after_prefix(line, FDINFO_SYSPATH);

                        if (!v)
                                continue;
                        v[strcspn(v, "\n")] = 0;
                        r = add_pci_address(devices, v + strspn(v, " \t"));
                        return r < 0 ? r : 1;
                }
        if (cdev && vh_hostfs_read_link(fs, &target, VH_SYSFS_CLASS_VFIO_DEV, cdev, "device", NULL) >= 0) {
                r = add_pci_address(devices, target);
                return r < 0 ? r : 1;
        }
        return 0;
}

static int add_group(VhVm *v, const char *number) {
        unsigned long g;
        unsigned *a;
        char *end;

        errno = 0;
        g = strtoul(number, &end, 10);
        if (errno != 0 || *end || g > UINT32_MAX)
                return 0;
        a = realloc(v->groups, sizeof(unsigned) * (v->n_groups + 1));
        if (!a)
                return -ENOMEM;
        v->groups = a;
        a[v->n_groups++] = (unsigned) g;
        return 0;
}

static void sort_unique(VhVm *v) {
        size_t n = vh_strv_length(v->devices), k = 0;

        qsort(v->devices, n, sizeof(char *), compare_address);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && strcmp(v->devices[k - 1], v->devices[i]) == 0) {
                        free(v->devices[i]);
                        continue;
                }
                v->devices[k++] = v->devices[i];
        }
        if (n)
                v->devices[k] = NULL;

        k = 0;
        /* qsort(NULL, 0, ...) is undefined: a holder of devices only has no groups. */
        if (v->n_groups > 1)
                qsort(v->groups, v->n_groups, sizeof(unsigned), compare_unsigned);
        for (size_t i = 0; i < v->n_groups; i++)
                if (k == 0 || v->groups[k - 1] != v->groups[i])
                        v->groups[k++] = v->groups[i];
        v->n_groups = k;
}

/* What the fd links say; true when the process holds any of it. */
static int classify_fds(const VhHostFs *fs, const char *pid, char **fds, char **targets, VhVm *v, bool *ret_holds) {
        bool holds = false;
        int r;

        for (size_t i = 0; fds && fds[i] && targets[i]; i++) {
                const char *t = targets[i], *rest;

                if (strcmp(t, FD_KVM) == 0 || strcmp(t, FD_KVM_VM) == 0)
                        v->is_vm = true;
                else if ((rest = after_prefix(t, FD_KVM_VCPU)) && all_digits(rest)) {
                        v->is_vm = true;
                        v->vcpus++;
                } else if (strcmp(t, FD_CONTAINER) == 0)
                        v->vfio_container = true;
                else if (strcmp(t, FD_IOMMUFD) == 0)
                        v->iommufd = true;
                else if ((rest = after_prefix(t, FD_VFIO_CDEV))) {
                        /* "vfio0": a device opened through its cdev */
                        if (!after_prefix(rest, "vfio") || !all_digits(rest + 4))
                                continue;
                        r = device_of_fd(fs, pid, fds[i], rest, &v->devices);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                v->unknown_device_fds++;
                } else if ((rest = after_prefix(t, FD_VFIO_GROUP))) {
                        if (!all_digits(rest))
                                continue;
                        r = add_group(v, rest);
                        if (r < 0)
                                return r;
                } else if (strcmp(t, FD_VFIO_DEVICE) == 0) {
                        /* a device fd from VFIO_GROUP_GET_DEVICE_FD */
                        r = device_of_fd(fs, pid, fds[i], NULL, &v->devices);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                v->unknown_device_fds++;
                } else
                        continue;
                holds = true;
        }
        *ret_holds = holds;
        return 0;
}

static int read_details(const VhHostFs *fs, const char *pid, bool have_btime, uint64_t btime, VhVm *v) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *status = NULL;
        const char *vmm = NULL;
        VhProcStat st;
        int r;

        if (vh_hostfs_read_string(fs, &v->comm, VH_PROC, pid, "comm", NULL) < 0) {
                v->comm = strdup("");
                if (!v->comm)
                        return -ENOMEM;
        }

        r = read_argv(fs, pid, &argv);
        if (r < 0)
                return r;
        /* argv[0] first: QEMU's "-name process=" renames comm */
        if (argv[0]) {
                const char *base = strrchr(argv[0], '/');

                vmm = vmm_of_name(base ? base + 1 : argv[0]);
        }
        if (!vmm)
                vmm = vmm_of_name(v->comm);
        v->vmm = strdup(vmm ?: v->comm);
        if (!v->vmm)
                return -ENOMEM;
        r = guest_name(vmm, argv, &v->name);
        if (r < 0)
                return r;

        if (have_btime && vh_proc_stat_read(fs, pid, NULL, &st) >= 0)
                v->start_time_usec = btime * 1000000 + vh_proc_ticks_to_usec(st.start_time);

        if (vh_hostfs_read_file(fs, &status, NULL, VH_PROC, pid, "status", NULL) >= 0) {
                (void) vh_proc_status_bytes(status, "VmRSS", &v->memory_bytes);
                (void) vh_proc_status_bytes(status, "HugetlbPages", &v->hugetlb_bytes);
        }
        return 0;
}

/* -ENODATA when the process holds none of it; the fd directory's error
 * when it cannot be read. */
static int read_one(const VhHostFs *fs, const char *pid, bool have_btime, uint64_t btime, VhVm *ret) {
        _cleanup_strv_free_ char **fds = NULL, **targets = NULL;
        VhVm v = { .pid = (pid_t) strtol(pid, NULL, 10) };
        bool holds;
        int r;

        r = vh_hostfs_list_links(fs, &fds, &targets, VH_PROC, pid, "fd", NULL);
        if (r < 0)
                return r;

        v.devices = calloc(1, sizeof(char *));
        if (!v.devices)
                return -ENOMEM;
        r = classify_fds(fs, pid, fds, targets, &v, &holds);
        if (r >= 0 && !holds)
                r = -ENODATA;
        if (r >= 0)
                r = read_details(fs, pid, have_btime, btime, &v);
        if (r < 0) {
                vh_vm_done(&v);
                return r;
        }
        sort_unique(&v);
        *ret = v;
        return 0;
}

static int compare_pid(const void *a, const void *b) {
        pid_t x = ((const VhVm *) a)->pid, y = ((const VhVm *) b)->pid;

        return x < y ? -1 : x > y;
}

int vh_vms_scan(const VhHostFs *fs, VhVm **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **pids = NULL;
        VhVm *vms = NULL;
        size_t n = 0, allocated = 0;
        uint64_t btime = 0;
        bool have_btime;
        int r;

        *ret = NULL;
        *ret_n = 0;

        r = vh_hostfs_list_dir(fs, &pids, VH_PROC, NULL);
        if (r < 0)
                return log_debug_errno(r, "Cannot list proc: %m");
        have_btime = vh_proc_boot_time(fs, &btime) >= 0;

        STRV_FOREACH(pid, pids) {
                VhVm v;

                if (!vh_proc_is_pid(*pid))
                        continue;
                r = read_one(fs, *pid, have_btime, btime, &v);
                if (r == -ENOMEM) {
                        vh_vms_free(vms, n);
                        return r;
                }
                /* gone, not ours to read, a kernel thread, or none of it */
                if (r < 0)
                        continue;
                if (n == allocated) {
                        size_t m = allocated ? allocated * 2 : 8;
                        VhVm *a = realloc(vms, sizeof(VhVm) * m);

                        if (!a) {
                                vh_vm_done(&v);
                                vh_vms_free(vms, n);
                                return -ENOMEM;
                        }
                        vms = a;
                        allocated = m;
                }
                vms[n++] = v;
        }

        /* proc lists in name order: "10" before "9" */
        if (n)
                qsort(vms, n, sizeof(VhVm), compare_pid);
        *ret = vms;
        *ret_n = n;
        return 0;
}

int vh_vm_read(const VhHostFs *fs, pid_t pid, VhVm *ret) {
        char name[16];
        uint64_t btime = 0;
        bool have_btime;
        int r;

        *ret = (VhVm) {};
        if (pid <= 0)
                return -EINVAL;
        snprintf(name, sizeof(name), "%d", (int) pid);
        have_btime = vh_proc_boot_time(fs, &btime) >= 0;

        r = read_one(fs, name, have_btime, btime, ret);
        /* no fd directory: gone, or a kernel thread (whose fd/ is empty) */
        if (r == -ENOENT && vh_hostfs_exists(fs, VH_PROC, name, NULL))
                return -ENODATA;
        return r;
}
