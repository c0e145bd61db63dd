/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-vms: the VMs and other VFIO holders on the fixture hosts
 * (tests/data/README.md, "Who holds what"): desktop-vfio-bound's QEMU on the
 * legacy group interface, server-variant's Cloud Hypervisor on iommufd,
 * server-sriov-vfs's DPDK testpmd (a VFIO user that is no VMM); what the
 * fdinfo line of Linux 6.18 adds, QEMU's -name syntax, the processes the
 * scan must skip. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-hostfs.h"
#include "vh-strv.h"
#include "vh-unit-fs.h"
#include "vh-vms.h"

#define QEMU 3456
#define CH 4810
#define DPDK 6001

typedef VhUnitFs Fixture;

static char *join(char **l) {
        g_assert_nonnull(l);
        return g_strjoinv(" ", l);
}

static char *groups_of(const VhVm *v) {
        g_autoptr(GString) s = g_string_new(NULL);

        for (size_t i = 0; i < v->n_groups; i++)
                g_string_append_printf(s, "%s%u", i ? " " : "", v->groups[i]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The scan's entries as "pid:vmm" in order, space-separated. */
static char *scan_summary(Fixture *f) {
        g_autoptr(GString) s = g_string_new(NULL);
        VhVm *v = NULL;
        size_t n = 999;

        g_assert_cmpint(vh_vms_scan(f->fs, &v, &n), ==, 0);
        if (n == 0)
                g_assert_null(v);
        for (size_t i = 0; i < n; i++)
                g_string_append_printf(s, "%s%d:%s", i ? " " : "", (int) v[i].pid, v[i].vmm);
        vh_vms_free(v, n);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The one entry the scan finds, checked against vh_vm_read's. */
static VhVm *scan_one(Fixture *f, pid_t pid) {
        VhVm *v = NULL, *one = g_new0(VhVm, 1);
        size_t n = 0;

        g_assert_cmpint(vh_vms_scan(f->fs, &v, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpint(v[0].pid, ==, pid);
        g_assert_cmpint(vh_vm_read(f->fs, pid, one), ==, 0);
        g_assert_cmpstr(one->comm, ==, v[0].comm);
        g_assert_cmpstr(one->name, ==, v[0].name);
        g_assert_cmpuint(one->start_time_usec, ==, v[0].start_time_usec);
        g_assert_true(vh_strv_equal(one->devices, v[0].devices));
        g_assert_cmpuint(one->n_groups, ==, v[0].n_groups);
        vh_vms_free(v, n);
        return one;
}

static void vm_free(VhVm *v) {
        vh_vm_done(v);
        g_free(v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhVm, vm_free)

/* A process read on its own (after a copy was edited). */
static VhVm *read_pid(Fixture *f, pid_t pid) {
        VhVm *v = g_new0(VhVm, 1);

        g_assert_cmpint(vh_vm_read(f->fs, pid, v), ==, 0);
        g_assert_cmpint(v->pid, ==, pid);
        return v;
}

/* ---- the fixture hosts */

static void test_qemu(Fixture *f, gconstpointer data) {
        g_autoptr(VhVm) v = scan_one(f, QEMU);
        g_autofree char *devices = join(v->devices), *groups = groups_of(v);

        g_assert_cmpstr(v->comm, ==, "qemu-system-x86");
        g_assert_cmpstr(v->vmm, ==, "qemu");
        /* -name guest=win11,debug-threads=on */
        g_assert_cmpstr(v->name, ==, "win11");
        g_assert_true(v->is_vm);
        /* btime 1718030000 + starttime 165012 ticks of 10 ms */
        g_assert_cmpuint(v->start_time_usec, ==, UINT64_C(1718031650120000));
        g_assert_cmpuint(v->vcpus, ==, 4);
        /* Linux 6.8, legacy group: the group, two device fds nothing names */
        g_assert_cmpstr(devices, ==, "");
        g_assert_cmpstr(groups, ==, "2");
        g_assert_cmpuint(v->unknown_device_fds, ==, 2);
        g_assert_true(v->vfio_container);
        g_assert_false(v->iommufd);
        g_assert_cmpuint(v->memory_bytes, ==, UINT64_C(812344) * 1024);
        g_assert_cmpuint(v->hugetlb_bytes, ==, UINT64_C(16777216) * 1024);
}

static void test_cloud_hypervisor(Fixture *f, gconstpointer data) {
        g_autoptr(VhVm) v = scan_one(f, CH);
        g_autofree char *devices = join(v->devices);

        g_assert_cmpstr(v->comm, ==, "cloud-hyperviso");
        g_assert_cmpstr(v->vmm, ==, "cloud-hypervisor");
        /* Cloud Hypervisor takes no name for its guest */
        g_assert_null(v->name);
        g_assert_true(v->is_vm);
        g_assert_cmpuint(v->start_time_usec, ==, UINT64_C(1717400000) * 1000000 + 5203310000);
        g_assert_cmpuint(v->vcpus, ==, 2);
        /* iommufd path: the cdev vfio0 is 3b:02.1 (sys/class/vfio-dev/vfio0/device) */
        g_assert_cmpstr(devices, ==, "0000:3b:02.1");
        g_assert_cmpuint(v->n_groups, ==, 0);
        g_assert_null(v->groups);
        g_assert_cmpuint(v->unknown_device_fds, ==, 0);
        g_assert_false(v->vfio_container);
        g_assert_true(v->iommufd);
        g_assert_cmpuint(v->memory_bytes, ==, UINT64_C(8402116) * 1024);
        g_assert_cmpuint(v->hugetlb_bytes, ==, 0);
}

static void test_dpdk(Fixture *f, gconstpointer data) {
        g_autoptr(VhVm) v = scan_one(f, DPDK);
        g_autofree char *devices = join(v->devices), *groups = groups_of(v);

        /* a VFIO user, not a VMM: "held by a process that is not a VM" */
        g_assert_false(v->is_vm);
        g_assert_cmpstr(v->comm, ==, "dpdk-testpmd");
        g_assert_cmpstr(v->vmm, ==, "dpdk-testpmd");
        g_assert_null(v->name);
        g_assert_cmpuint(v->vcpus, ==, 0);
        g_assert_cmpuint(v->start_time_usec, ==, UINT64_C(1717400000) * 1000000 + 4118700000);
        g_assert_cmpstr(devices, ==, "");
        g_assert_cmpstr(groups, ==, "26");
        g_assert_cmpuint(v->unknown_device_fds, ==, 1);
        g_assert_true(v->vfio_container);
        g_assert_false(v->iommufd);
        g_assert_cmpuint(v->memory_bytes, ==, UINT64_C(412388) * 1024);
        g_assert_cmpuint(v->hugetlb_bytes, ==, UINT64_C(1048576) * 1024);
}

/* Hosts whose processes hold neither KVM nor VFIO. */
static void test_none(Fixture *f, gconstpointer data) {
        g_autofree char *s = scan_summary(f);

        g_assert_cmpstr(s, ==, "");
}

/* ---- one process */

static void test_read(Fixture *f, gconstpointer data) {
        VhVm v;

        /* gone */
        g_assert_cmpint(vh_vm_read(f->fs, 99999, &v), ==, -ENOENT);
        g_assert_null(v.comm);
        /* gnome-shell holds DRM nodes only */
        g_assert_cmpint(vh_vm_read(f->fs, 1402, &v), ==, -ENODATA);
        /* kthreadd: a kernel thread, no fd directory */
        g_assert_cmpint(vh_vm_read(f->fs, 2, &v), ==, -ENODATA);
        g_assert_cmpint(vh_vm_read(f->fs, 0, &v), ==, -EINVAL);
        g_assert_cmpint(vh_vm_read(f->fs, -1, &v), ==, -EINVAL);
}

/* ---- device attribution */

static void write_fdinfo(Fixture *f, pid_t pid, int fd, const char *extra) {
        g_autofree char *rel = g_strdup_printf("proc/%d/fdinfo/%d", (int) pid, fd);
        g_autofree char *text = g_strdup_printf("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n%s", extra);

        vh_unit_write_file(f->copy, rel, text);
}

/* Reads pid and checks its devices (space-separated, "" for none) and the
 * device fds nothing names. */
static void assert_devices(Fixture *f, pid_t pid, const char *devices, unsigned unknown) {
        g_autoptr(VhVm) v = read_pid(f, pid);
        g_autofree char *d = join(v->devices);

        g_assert_cmpstr(d, ==, devices);
        g_assert_cmpuint(v->unknown_device_fds, ==, unknown);
}

/* Linux 6.18 names the device of each device fd in fdinfo: the legacy
 * group user's devices become known, one fd at a time. */
static void test_fdinfo_syspath(Fixture *f, gconstpointer data) {
        write_fdinfo(f, QEMU, 22, "vfio-device-syspath: /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1\n");
        /* fd 21's fdinfo has no such line (before 6.18) */
        assert_devices(f, QEMU, "0000:01:00.1", 1);

        write_fdinfo(f, QEMU, 21, "vfio-device-syspath: /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0\n");
        assert_devices(f, QEMU, "0000:01:00.0 0000:01:00.1", 0);
        {
                g_autoptr(VhVm) v = read_pid(f, QEMU);
                g_autofree char *g = groups_of(v);

                /* the group stays what it was */
                g_assert_cmpstr(g, ==, "2");
        }

        /* two fds of one device: one address; sorted by address, not fd */
        vh_unit_symlink(f->copy, "proc/3456/fd/40", "anon_inode:[vfio-device]");
        write_fdinfo(f, QEMU, 40, "vfio-device-syspath: /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0\n");
        vh_unit_symlink(f->copy, "proc/3456/fd/41", "anon_inode:[vfio-device]");
        write_fdinfo(f, QEMU, 41, "vfio-device-syspath: /sys/devices/pci0000:00/0000:00:02.0\n");
        assert_devices(f, QEMU, "0000:00:02.0 0000:01:00.0 0000:01:00.1", 0);

        /* a device that is no PCI function (vfio-platform): known, not listed;
         * an fd without fdinfo at all: unknown */
        write_fdinfo(f, QEMU, 41, "vfio-device-syspath: /sys/devices/platform/fdab0000.npu\n");
        vh_unit_unlink(f->copy, "proc/3456/fdinfo/40");
        assert_devices(f, QEMU, "0000:01:00.0 0000:01:00.1", 1);
}

/* A cdev fd: the fdinfo line first, the vfio-dev link without it; neither
 * leaves it unknown. */
static void test_cdev(Fixture *f, gconstpointer data) {
        /* the fdinfo line wins over the class link (3b:02.1) */
        write_fdinfo(f, CH, 13, "vfio-device-syspath: /sys/devices/pci0000:3a/0000:3a:02.0/0000:3c:00.4\n");
        assert_devices(f, CH, "0000:3c:00.4", 0);

        write_fdinfo(f, CH, 13, "");
        vh_unit_unlink(f->copy, "sys/class/vfio-dev/vfio0");
        assert_devices(f, CH, "", 1);

        /* the class link as the kernel spells it is what names the device */
        vh_unit_symlink(f->copy, "sys/class/vfio-dev/vfio0",
                        "../../devices/pci0000:3a/0000:3a:02.0/0000:3c:00.3/vfio-dev/vfio1");
        assert_devices(f, CH, "0000:3c:00.3", 0);
}

/* Descriptors that only look like ours are not. */
static void test_odd_fds(Fixture *f, gconstpointer data) {
        const char *const odd[] = {
                "/dev/kvm2", "/dev/kvmx", "anon_inode:kvm-vcpu:", "anon_inode:kvm-vcpu:x", "anon_inode:kvm-vm2",
                "/dev/vfio/", "/dev/vfio/2a", "/dev/vfio/devices/vfio", "/dev/vfio/devices/vfiox",
                "/dev/vfio/devices/", "/dev/iommu0", "anon_inode:[vfio-device]x", "/dev/vfio/vfio/", "/dev/vfio",
                "/home/alex/dev/kvm", "dev/kvm",
        };

        vh_unit_write_file(f->copy, "proc/7000/comm", "odd\n");
        for (size_t i = 0; i < G_N_ELEMENTS(odd); i++) {
                g_autofree char *rel = g_strdup_printf("proc/7000/fd/%zu", i + 3);

                vh_unit_symlink(f->copy, rel, odd[i]);
        }
        {
                VhVm v;
                g_autofree char *s = scan_summary(f);

                g_assert_cmpint(vh_vm_read(f->fs, 7000, &v), ==, -ENODATA);
                g_assert_cmpstr(s, ==, "3456:qemu");
        }
        /* a vCPU fd alone makes a VM (fds can be passed) */
        vh_unit_symlink(f->copy, "proc/7000/fd/40", "anon_inode:kvm-vcpu:7");
        {
                g_autoptr(VhVm) v = read_pid(f, 7000);

                g_assert_true(v->is_vm);
                g_assert_cmpuint(v->vcpus, ==, 1);
                g_assert_cmpstr(v->vmm, ==, "odd");
        }
}

/* Unreadable processes are skipped; readable ones with missing details
 * come without them. */
static void test_unreadable(Fixture *f, gconstpointer data) {
        g_autofree char *fd_dir = g_build_filename(f->copy, "proc", "3456", "fd", NULL);

        /* fd is a file: a process that is exiting, or not a directory we can list */
        vh_unit_write_file(f->copy, "proc/7001/comm", "qemu-system-x86\n");
        vh_unit_write_file(f->copy, "proc/7001/fd", "");
        /* nothing but fd/: no comm, cmdline, stat or status */
        vh_unit_symlink(f->copy, "proc/7002/fd/3", "/dev/vfio/vfio");
        {
                VhVm v;
                g_autoptr(VhVm) bare = read_pid(f, 7002);
                g_autofree char *s = scan_summary(f);

                g_assert_cmpstr(s, ==, "3456:qemu 7002:");
                g_assert_cmpint(vh_vm_read(f->fs, 7001, &v), ==, -ENOTDIR);
                g_assert_cmpstr(bare->comm, ==, "");
                g_assert_cmpstr(bare->vmm, ==, "");
                g_assert_null(bare->name);
                g_assert_false(bare->is_vm);
                g_assert_true(bare->vfio_container);
                g_assert_cmpuint(bare->start_time_usec, ==, 0);
                g_assert_cmpuint(bare->memory_bytes, ==, 0);
        }

        /* without btime no start time, the rest stays */
        vh_unit_write_file(f->copy, "proc/stat", "cpu  1 2 3 4 5 6 7 0 0 0\nctxt 1\n");
        {
                g_autoptr(VhVm) v = read_pid(f, QEMU);

                g_assert_cmpuint(v->start_time_usec, ==, 0);
                g_assert_cmpstr(v->name, ==, "win11");
        }

        /* another user's process, as a non-root caller sees it */
        if (geteuid() != 0) {
                g_autofree char *s = NULL;
                VhVm v;

                g_assert_cmpint(g_chmod(fd_dir, 0), ==, 0);
                s = scan_summary(f);
                g_assert_cmpint(vh_vm_read(f->fs, QEMU, &v), ==, -EACCES);
                g_assert_cmpstr(s, ==, "7002:");
                g_assert_cmpint(g_chmod(fd_dir, 0755), ==, 0);
        } else
                g_test_message("running as root: proc/3456/fd stays readable, EACCES not checked");
}

/* The scan sorts by pid, not by proc's name order ("10" < "9"). */
static void test_sorted(Fixture *f, gconstpointer data) {
        vh_unit_symlink(f->copy, "proc/10/fd/3", "/dev/kvm");
        vh_unit_symlink(f->copy, "proc/99999/fd/3", "/dev/iommu");
        vh_unit_symlink(f->copy, "proc/900/fd/3", "/dev/vfio/2");
        {
                g_autofree char *s = scan_summary(f);

                g_assert_cmpstr(s, ==, "10: 900: 3456:qemu 99999:");
        }
}

/* ---- what the VMM is, and its name for the guest */

static void write_cmdline(Fixture *f, pid_t pid, const char *const *argv) {
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *rel = g_strdup_printf("proc/%d/cmdline", (int) pid);
        g_autofree char *path = g_build_filename(f->copy, rel, NULL);

        for (size_t i = 0; argv[i]; i++)
                g_string_append_len(s, argv[i], strlen(argv[i]) + 1);
        g_assert_true(g_file_set_contents(path, s->str, s->len, NULL));
}

static char *name_with(Fixture *f, const char *const *argv) {
        g_autoptr(VhVm) v = NULL;

        write_cmdline(f, QEMU, argv);
        v = read_pid(f, QEMU);
        return g_strdup(v->name);
}

static void test_qemu_name(Fixture *f, gconstpointer data) {
        static const struct {
                const char *argv[8];
                const char *name;
        } cases[] = {
                { { "/usr/bin/qemu-system-x86_64", "-name", "win11", NULL }, "win11" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "guest=win11,debug-threads=on", NULL }, "win11" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "win11,debug-threads=on", NULL }, "win11" },
                /* ",," is a comma in the value, the implied one too */
                { { "/usr/bin/qemu-system-x86_64", "-name", "guest=win,,11,debug-threads=on", NULL }, "win,11" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "win,,11", NULL }, "win,11" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "a,,,,b,process=x", NULL }, "a,,b" },
                /* the guest key anywhere; other keys and flags are not it */
                { { "/usr/bin/qemu-system-x86_64", "-name", "process=qemu-w,guest=w", NULL }, "w" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "debug-threads=on", NULL }, NULL },
                { { "/usr/bin/qemu-system-x86_64", "-name", "debug-threads=on,guestx=no", NULL }, NULL },
                { { "/usr/bin/qemu-system-x86_64", "-name", "guest=a,debug-threads,guest=b", NULL }, "b" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "guest=", NULL }, NULL },
                /* merged: the last guest= wins, a later -name without one keeps it */
                { { "/usr/bin/qemu-system-x86_64", "-name", "a", "-name", "guest=b", NULL }, "b" },
                { { "/usr/bin/qemu-system-x86_64", "-name", "a", "-name", "debug-threads=on", NULL }, "a" },
                { { "/usr/bin/qemu-system-x86_64", "--name", "dash", NULL }, "dash" },
                /* -name's value is not an option; none at the end */
                { { "/usr/bin/qemu-system-x86_64", "-name", "-name", NULL }, "-name" },
                { { "/usr/bin/qemu-system-x86_64", "-m", "4G", "-name", NULL }, NULL },
                { { "/usr/bin/qemu-system-x86_64", "-nameX", "x", "-device", "name=y", NULL }, NULL },
                /* RHEL's binary */
                { { "/usr/libexec/qemu-kvm", "-name", "guest=rhel9", NULL }, "rhel9" },
                /* an empty cmdline (a zombie; one that cleared it): the comm still says qemu; no argv[1]
                 * to look at (it was read past the array: valgrind in test-binder) */
                { { NULL }, NULL },
                { { "/usr/bin/qemu-system-x86_64", NULL }, NULL },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *name = name_with(f, cases[i].argv);

                g_test_message("case %zu: %s", i, cases[i].name ? cases[i].name : "(null)");
                g_assert_cmpstr(name, ==, cases[i].name);
        }
}

static void test_qemu_guest_name(void) {
        char *s = (char *) 0x1;

        g_assert_cmpint(vh_vm_qemu_guest_name("", &s), ==, 0);
        g_assert_null(s);
        g_assert_cmpint(vh_vm_qemu_guest_name(",,", &s), ==, 0);
        g_assert_cmpstr(s, ==, ",");
        free(s);
        g_assert_cmpint(vh_vm_qemu_guest_name("x,", &s), ==, 0);
        g_assert_cmpstr(s, ==, "x");
        free(s);
        /* "=v" has an empty key: not guest */
        g_assert_cmpint(vh_vm_qemu_guest_name("=v", &s), ==, 0);
        g_assert_null(s);
}

/* The VMM from argv[0] or comm; Firecracker's --id; crosvm has no name. */
static void test_vmm_kinds(Fixture *f, gconstpointer data) {
        static const struct {
                const char *comm;
                const char *argv[6];
                const char *vmm, *name;
        } cases[] = {
                { "firecracker", { "/usr/bin/firecracker", "--api-sock", "/run/fc.sock", "--id", "mvm-7", NULL },
                  "firecracker", "mvm-7" },
                { "firecracker", { "firecracker", "--id", NULL }, "firecracker", NULL },
                { "crosvm", { "/usr/bin/crosvm", "run", "--cpus", "2", "vmlinux", NULL }, "crosvm", NULL },
                { "cloud-hyperviso", { "/opt/ch/cloud-hypervisor", "--cpus", "boot=1", NULL }, "cloud-hypervisor", NULL },
                /* -name process= renamed comm: argv[0] says QEMU */
                { "win-vm", { "/usr/bin/qemu-system-aarch64", "-name", "g,process=win-vm", NULL }, "qemu", "g" },
                /* a wrapper's argv: comm says QEMU */
                { "qemu-system-x86", { "/usr/bin/env", "-name", "x", NULL }, "qemu", "x" },
                /* anything else is called by its comm, and has no name */
                { "kvm-test", { "./kvm-test", "-name", "x", "--id", "y", NULL }, "kvm-test", NULL },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *comm = g_strdup_printf("%s\n", cases[i].comm);
                g_autoptr(VhVm) v = NULL;

                vh_unit_write_file(f->copy, "proc/3456/comm", comm);
                write_cmdline(f, QEMU, cases[i].argv);
                v = read_pid(f, QEMU);
                g_test_message("case %zu: %s", i, cases[i].vmm);
                g_assert_cmpstr(v->comm, ==, cases[i].comm);
                g_assert_cmpstr(v->vmm, ==, cases[i].vmm);
                g_assert_cmpstr(v->name, ==, cases[i].name);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, host, setup, fn) g_test_add(path, Fixture, host, setup, fn, vh_unit_fs_teardown)
        ADD("/vms/qemu", "desktop-vfio-bound", vh_unit_fs_setup, test_qemu);
        ADD("/vms/cloud-hypervisor", "server-variant", vh_unit_fs_setup, test_cloud_hypervisor);
        ADD("/vms/dpdk", "server-sriov-vfs", vh_unit_fs_setup, test_dpdk);
        ADD("/vms/none/desktop-intel", "desktop-intel", vh_unit_fs_setup, test_none);
        ADD("/vms/none/server-sriov", "server-sriov", vh_unit_fs_setup, test_none);
        ADD("/vms/none/vm-guest", "vm-guest", vh_unit_fs_setup, test_none);
        ADD("/vms/read", "desktop-vfio-bound", vh_unit_fs_setup, test_read);
        ADD("/vms/fdinfo-syspath", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_fdinfo_syspath);
        ADD("/vms/cdev", "server-variant", vh_unit_fs_setup_copy, test_cdev);
        ADD("/vms/odd-fds", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_odd_fds);
        ADD("/vms/unreadable", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_unreadable);
        ADD("/vms/sorted", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_sorted);
        ADD("/vms/qemu-name", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_qemu_name);
        ADD("/vms/vmm-kinds", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_vmm_kinds);
#undef ADD
        g_test_add_func("/vms/qemu-guest-name", test_qemu_guest_name);

        return g_test_run();
}
