/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-kvm-stats: KVM's debugfs for desktop-vfio-bound's QEMU (60 statistics
 * in kvm/3456-11/, vcpu0-3 with their thread ids), and why there are none
 * elsewhere: no directory for that pid (ENOENT), debugfs not mounted
 * (ENOMEDIUM), not readable (EACCES). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-hostfs.h"
#include "vh-kvm-stats.h"
#include "vh-unit-fs.h"

#define QEMU 3456

typedef VhUnitFs Fixture;

static int64_t value_of(const VhKvmStat *s, size_t n, const char *name) {
        const VhKvmStat *k = vh_kvm_stat_find(s, n, name);

        if (!k)
                g_error("no statistic %s", name);
        return k->value;
}

/* -errno of a read that must find nothing, with nothing returned. */
static int read_error(Fixture *f, pid_t pid) {
        VhKvmStats *s = (VhKvmStats *) 0x1;
        size_t n = 9;
        int r = vh_kvm_stats_read(f->fs, pid, &s, &n);

        g_assert_cmpint(r, <, 0);
        g_assert_null(s);
        g_assert_cmpuint(n, ==, 0);
        return r;
}

/* The VMs of pid, n of them, the first of VM fd 11. */
static VhKvmStats *read_vms(Fixture *f, pid_t pid, size_t n) {
        VhKvmStats *s = NULL;
        size_t m = 0;

        g_assert_cmpint(vh_kvm_stats_read(f->fs, pid, &s, &m), ==, 0);
        g_assert_cmpuint(m, ==, n);
        g_assert_cmpint(s[0].vm_fd, ==, 11);
        return s;
}

static void test_qemu(Fixture *f, gconstpointer data) {
        VhKvmStats *s = read_vms(f, QEMU, 1);
        size_t n = 1;

        /* 15 VM and 45 vCPU statistics of x86 in 6.8; not mmu_rmaps_stat (a table) */
        g_assert_cmpuint(s[0].n_stats, ==, 60);
        g_assert_null(vh_kvm_stat_find(s[0].stats, s[0].n_stats, "mmu_rmaps_stat"));
        g_assert_null(vh_kvm_stat_find(s[0].stats, s[0].n_stats, "vcpu0"));
        g_assert_cmpstr(s[0].stats[0].name, ==, "blocking");
        g_assert_cmpstr(s[0].stats[s[0].n_stats - 1].name, ==, "tlb_flush");
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "exits"), ==, 48213392);
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "halt_exits"), ==, 1733210);
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "irq_exits"), ==, 3120554);
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "halt_successful_poll"), ==, 1203311);
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "halt_wait_ns"), ==, INT64_C(5513300871244));
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "remote_tlb_flush"), ==, 1830412);
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "pages_2m"), ==, 8127);
        g_assert_cmpint(value_of(s[0].stats, s[0].n_stats, "blocking"), ==, 1);
        for (size_t i = 1; i < s[0].n_stats; i++)
                g_assert_cmpstr(s[0].stats[i - 1].name, <, s[0].stats[i].name);

        g_assert_cmpuint(s[0].n_vcpus, ==, 4);
        for (size_t i = 0; i < 4; i++) {
                const VhKvmVcpuStats *c = &s[0].vcpus[i];

                g_assert_cmpint(c->index, ==, (int) i);
                g_assert_cmpuint(c->n_stats, ==, 6);
                g_assert_cmpstr(c->stats[0].name, ==, "guest_mode");
                g_assert_cmpint(value_of(c->stats, c->n_stats, "pid"), ==, 3460 + (int) i);
                g_assert_cmpint(value_of(c->stats, c->n_stats, "guest_mode"), ==, 0);
                g_assert_cmpint(value_of(c->stats, c->n_stats, "lapic_timer_advance_ns"), ==, 1000);
                /* signed */
                g_assert_cmpint(value_of(c->stats, c->n_stats, "tsc-offset"), ==,
                                -(INT64_C(281474976710656) + (int64_t) i * 4096));
                g_assert_cmpint(value_of(c->stats, c->n_stats, "tsc-scaling-ratio"), ==, INT64_C(281474976710656));
                g_assert_cmpint(value_of(c->stats, c->n_stats, "tsc-scaling-ratio-frac-bits"), ==, 48);
        }
        vh_kvm_stats_free(s, n);

        /* which thread is which vCPU, and nothing else */
        g_assert_cmpint(vh_kvm_vcpu_threads(f->fs, QEMU, &s, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpint(s[0].vm_fd, ==, 11);
        g_assert_cmpuint(s[0].n_stats, ==, 0);
        g_assert_cmpuint(s[0].n_vcpus, ==, 4);
        for (size_t i = 0; i < 4; i++) {
                g_assert_cmpint(s[0].vcpus[i].index, ==, (int) i);
                g_assert_cmpuint(s[0].vcpus[i].n_stats, ==, 1);
                g_assert_cmpint(value_of(s[0].vcpus[i].stats, 1, "pid"), ==, 3460 + (int) i);
        }
        vh_kvm_stats_free(s, n);
}

/* debugfs is there, with KVM's files, but no VM of that pid: gnome-shell
 * next to the QEMU; DPDK where kvm is loaded and no VM runs (the global
 * files only). */
static void test_no_vm(Fixture *f, gconstpointer data) {
        g_assert_cmpint(read_error(f, 1402), ==, -ENOENT);
        g_assert_cmpint(read_error(f, 99999), ==, -ENOENT);
}

static void test_no_vm_dpdk(Fixture *f, gconstpointer data) {
        VhKvmStats *s = NULL;
        size_t n = 0;

        g_assert_cmpint(vh_kvm_vcpu_threads(f->fs, 6001, &s, &n), ==, -ENOENT);
        g_assert_cmpint(read_error(f, 6001), ==, -ENOENT);
        g_assert_cmpint(read_error(f, QEMU), ==, -ENOENT);
}

/* No sys/kernel/debug in the tree: an empty mount point, not mounted. */
static void test_not_mounted(Fixture *f, gconstpointer data) {
        g_assert_cmpint(read_error(f, 4810), ==, -ENOMEDIUM);
        g_assert_cmpint(read_error(f, QEMU), ==, -ENOMEDIUM);
}

static void test_edits(Fixture *f, gconstpointer data) {
        /* a second VM of the process, and names that only look like one */
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/exits", "12\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/vcpu10/pid", "3470\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/vcpu2/pid", "3466\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-x/exits", "1\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/34567-11/exits", "1\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-/exits", "1\n");
        /* files that hold no single number */
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/halt_exits", "12 13\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/irq_exits", "x\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/io_exits", "18446744073709551615\n");
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-40/mmio_exits", "\n");
        {
                VhKvmStats *s = read_vms(f, QEMU, 2);

                g_assert_cmpint(s[1].vm_fd, ==, 40);
                g_assert_cmpuint(s[1].n_stats, ==, 1);
                g_assert_cmpint(value_of(s[1].stats, s[1].n_stats, "exits"), ==, 12);
                /* by index, not name order */
                g_assert_cmpuint(s[1].n_vcpus, ==, 2);
                g_assert_cmpint(s[1].vcpus[0].index, ==, 2);
                g_assert_cmpint(s[1].vcpus[1].index, ==, 10);
                g_assert_cmpint(value_of(s[1].vcpus[1].stats, s[1].vcpus[1].n_stats, "pid"), ==, 3470);
                vh_kvm_stats_free(s, 2);
        }

        /* debugfs mounted, kvm not loaded */
        vh_unit_remove_tree(f->copy, "sys/kernel/debug/kvm");
        vh_unit_write_file(f->copy, "sys/kernel/debug/dri/0/name", "i915 dev=0000:00:02.0 unique=0000:00:02.0\n");
        g_assert_cmpint(read_error(f, QEMU), ==, -ENOENT);

        if (geteuid() != 0) {
                g_autofree char *debug = g_build_filename(f->copy, "sys/kernel/debug", NULL);

                /* debugfs is 0700 root */
                g_assert_cmpint(g_chmod(debug, 0), ==, 0);
                g_assert_cmpint(read_error(f, QEMU), ==, -EACCES);
                g_assert_cmpint(g_chmod(debug, 0700), ==, 0);
        } else
                g_test_message("running as root: debugfs stays readable, EACCES not checked");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, host, setup, fn) g_test_add(path, Fixture, host, setup, fn, vh_unit_fs_teardown)
        ADD("/kvm-stats/qemu", "desktop-vfio-bound", vh_unit_fs_setup, test_qemu);
        ADD("/kvm-stats/no-vm/not-a-vm", "desktop-vfio-bound", vh_unit_fs_setup, test_no_vm);
        ADD("/kvm-stats/no-vm/dpdk", "server-sriov-vfs", vh_unit_fs_setup, test_no_vm_dpdk);
        ADD("/kvm-stats/not-mounted/server-variant", "server-variant", vh_unit_fs_setup, test_not_mounted);
        ADD("/kvm-stats/not-mounted/server-sriov", "server-sriov", vh_unit_fs_setup, test_not_mounted);
        ADD("/kvm-stats/edits", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_edits);
#undef ADD

        return g_test_run();
}
