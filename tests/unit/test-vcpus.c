/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-vcpus: the vCPU threads of desktop-vfio-bound's QEMU (four, two of
 * them pinned) and server-variant's Cloud Hypervisor (two, pinned), found by
 * their names or by KVM's debugfs; stat parsing where comm has ") (" in it;
 * every VMM's naming (tests/data/README.md, "Who holds what"). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vh-hostfs.h"
#include "vh-unit-fs.h"
#include "vh-vcpus.h"

#define QEMU 3456
#define CH 4810
#define DPDK 6001

typedef VhUnitFs Fixture;

typedef struct {
        VhVcpu *v;
        size_t n;
} Vcpus;

static void vcpus_free(Vcpus *c) {
        vh_vcpus_free(c->v, c->n);
        g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Vcpus, vcpus_free)

static Vcpus *read_vcpus(Fixture *f, pid_t pid) {
        Vcpus *c = g_new0(Vcpus, 1);

        c->n = 999;
        g_assert_cmpint(vh_vcpus_read(f->fs, pid, &c->v, &c->n), ==, 0);
        if (c->n == 0)
                g_assert_null(c->v);
        return c;
}

/* "index:tid:name" of each, space-separated. */
static char *summary(const Vcpus *c) {
        g_autoptr(GString) s = g_string_new(NULL);

        for (size_t i = 0; i < c->n; i++)
                g_string_append_printf(s, "%s%d:%d:%s", i ? " " : "", c->v[i].index, (int) c->v[i].tid,
                                       c->v[i].thread_name);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

typedef struct {
        int index;
        pid_t tid;
        const char *name;
        char state;
        int last_cpu;
        uint64_t cpu_usec, guest_usec;
        const char *allowed;
        gboolean pinned;
        uint64_t run_ns, wait_ns, slices;
} Expected;

static void assert_vcpu(const VhVcpu *v, const Expected *e) {
        g_assert_cmpint(v->index, ==, e->index);
        g_assert_cmpint(v->tid, ==, e->tid);
        g_assert_cmpstr(v->thread_name, ==, e->name);
        g_assert_cmpint(v->state, ==, e->state);
        g_assert_cmpint(v->last_cpu, ==, e->last_cpu);
        g_assert_cmpuint(v->cpu_time_usec, ==, e->cpu_usec);
        g_assert_cmpuint(v->guest_time_usec, ==, e->guest_usec);
        g_assert_cmpstr(v->allowed_cpus, ==, e->allowed);
        g_assert_cmpint(v->pinned, ==, e->pinned);
        g_assert_true(v->has_schedstat);
        g_assert_cmpuint(v->run_time_ns, ==, e->run_ns);
        g_assert_cmpuint(v->wait_time_ns, ==, e->wait_ns);
        g_assert_cmpuint(v->timeslices, ==, e->slices);
}

/* ---- the fixture hosts */

static void test_qemu(Fixture *f, gconstpointer data) {
        static const Expected e[] = {
                /* pinned to CPUs 2 and 3 (<vcpupin>); 2 and 3 may run on any of the 24 */
                { 0, 3460, "CPU 0/KVM", 'R', 2, 483300000, 448900000, "2", TRUE,
                  483312345678, 1208334455, 3190233 },
                { 1, 3461, "CPU 1/KVM", 'S', 3, 417310000, 386020000, "3", TRUE,
                  417330021877, 1190223401, 2870455 },
                { 2, 3462, "CPU 2/KVM", 'S', 9, 314150000, 287900000, "0-23", FALSE,
                  314170554120, 9021334880, 2301887 },
                { 3, 3463, "CPU 3/KVM", 'S', 14, 298390000, 273010000, "0-23", FALSE,
                  298412007733, 8804112093, 2199340 },
        };
        g_autoptr(Vcpus) c = read_vcpus(f, QEMU);

        /* the main thread, call_rcu, the monitor iothread, the thread pool's
         * worker and vhost-3456 are no vCPUs */
        g_assert_cmpuint(c->n, ==, G_N_ELEMENTS(e));
        for (size_t i = 0; i < c->n; i++)
                assert_vcpu(&c->v[i], &e[i]);
}

static void test_cloud_hypervisor(Fixture *f, gconstpointer data) {
        static const Expected e[] = {
                /* --cpus affinity=[0@[4],1@[5]] on a 64-CPU host */
                { 0, 4815, "vcpu0", 'R', 4, 1893320000, 1839770000, "4", TRUE, 1893324815000, 4733304815, 11549314 },
                { 1, 4816, "vcpu1", 'S', 5, 1749840000, 1697900000, "5", TRUE, 1749844816000, 4374604816, 10674087 },
        };
        g_autoptr(Vcpus) c = read_vcpus(f, CH);

        /* vmm, http-server, signal_handler are not */
        g_assert_cmpuint(c->n, ==, G_N_ELEMENTS(e));
        for (size_t i = 0; i < c->n; i++)
                assert_vcpu(&c->v[i], &e[i]);
}

/* DPDK's lcore threads are pinned, but no vCPUs. */
static void test_dpdk(Fixture *f, gconstpointer data) {
        g_autoptr(Vcpus) c = read_vcpus(f, DPDK);

        g_assert_cmpuint(c->n, ==, 0);
}

static void test_gone(Fixture *f, gconstpointer data) {
        VhVcpu *v = (VhVcpu *) 0x1;
        size_t n = 7;

        g_assert_cmpint(vh_vcpus_read(f->fs, 99999, &v, &n), ==, -ENOENT);
        g_assert_null(v);
        g_assert_cmpuint(n, ==, 0);
        g_assert_cmpint(vh_vcpus_read(f->fs, 0, &v, &n), ==, -EINVAL);
        /* kthreadd has no task/ in the tree: as if gone */
        g_assert_cmpint(vh_vcpus_read(f->fs, 2, &v, &n), ==, -ENOENT);
}

/* ---- names and debugfs */

static void test_names(void) {
        static const struct {
                const char *name;
                int index;
        } cases[] = {
                { "CPU 0/KVM", 0 }, { "CPU 3/KVM", 3 }, { "CPU 12/KVM", 12 }, { "CPU 1234567/KVM", 1234567 },
                { "vcpu0", 0 }, { "vcpu17", 17 },
                { "fc_vcpu 3", 3 }, { "fc_vcpu3", 3 },
                { "crosvm_vcpu5", 5 },
                /* TCG, hvf, other threads, near misses */
                { "CPU 3/TCG", -1 }, { "CPU 3/HVF", -1 }, { "CPU /KVM", -1 }, { "CPU 3/KVMx", -1 }, { "CPU 3", -1 },
                { "CPU -1/KVM", -1 }, { "CPU  3/KVM", -1 }, { "cpu 3/KVM", -1 },
                { "vcpu", -1 }, { "vcpux", -1 }, { "vcpu-3", -1 }, { "vcpu 3", -1 }, { "vcpu3x", -1 },
                { "fc_vcpu", -1 }, { "fc_vcpu 3x", -1 }, { "crosvm_vcpu", -1 },
                { "qemu-system-x86", -1 }, { "IO mon_iothread", -1 }, { "worker", -1 }, { "vhost-3456", -1 },
                { "lcore-worker-17", -1 }, { "", -1 }, { "vcpu1234567890", -1 },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_test_message("'%s'", cases[i].name);
                g_assert_cmpint(vh_vcpu_index_from_name(cases[i].name), ==, cases[i].index);
        }
}

/* A QEMU without debug-threads=on: every thread has the process's name,
 * and only KVM's debugfs (vcpuN/pid) says which are the vCPUs. */
static void test_debugfs(Fixture *f, gconstpointer data) {
        static const int tids[] = { 3456, 3457, 3458, 3460, 3461, 3462, 3463, 3466, 3470 };

        for (size_t i = 0; i < G_N_ELEMENTS(tids); i++) {
                g_autofree char *rel = g_strdup_printf("proc/3456/task/%d/comm", tids[i]);

                vh_unit_write_file(f->copy, rel, "qemu-system-x86\n");
        }
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);
                g_autofree char *s = summary(c);

                g_assert_cmpstr(s, ==, "0:3460:qemu-system-x86 1:3461:qemu-system-x86 2:3462:qemu-system-x86 "
                                       "3:3463:qemu-system-x86");
                g_assert_true(c->v[0].pinned);
                g_assert_false(c->v[3].pinned);
        }
        /* debugfs says vcpu1 is 3458 now: the index follows it */
        vh_unit_write_file(f->copy, "sys/kernel/debug/kvm/3456-11/vcpu1/pid", "3458\n");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);
                g_autofree char *s = summary(c);

                g_assert_cmpstr(s, ==, "0:3460:qemu-system-x86 1:3458:qemu-system-x86 2:3462:qemu-system-x86 "
                                       "3:3463:qemu-system-x86");
        }
        /* without debugfs nothing says which thread is which vCPU */
        vh_unit_remove_tree(f->copy, "sys/kernel/debug");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);

                g_assert_cmpuint(c->n, ==, 0);
        }
}

/* comm may hold spaces and parentheses: stat's fields start after the
 * LAST ')'. A name made to look like fields must not shift them. */
static void test_comm_parens(Fixture *f, gconstpointer data) {
        const char *stat = "3461 (x) (R 7 8) (y) S 1 3456 3456 0 -1 4194368 21342 0 12 0 38977 2754 0 0 20 0 9 0 "
                           "165017 20203790336 203086 18446744073709551615 94248652906496 94248664170917 "
                           "140724103561936 0 0 0 0 4096 1082132009 1 0 0 -1 3 0 0 0 38602 0 94248668342864 "
                           "94248669040496 94248700477440 140724103568213 140724103569866 140724103569866 "
                           "140724103573472 0\n";

        /* debugfs still says 3461 is vCPU 1 */
        vh_unit_write_file(f->copy, "proc/3456/task/3461/comm", "x) (R 7 8) (y\n");
        vh_unit_write_file(f->copy, "proc/3456/task/3461/stat", stat);
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);

                g_assert_cmpuint(c->n, ==, 4);
                g_assert_cmpint(c->v[1].tid, ==, 3461);
                g_assert_cmpstr(c->v[1].thread_name, ==, "x) (R 7 8) (y");
                g_assert_cmpint(c->v[1].state, ==, 'S');
                g_assert_cmpint(c->v[1].last_cpu, ==, 3);
                g_assert_cmpuint(c->v[1].cpu_time_usec, ==, 417310000);
                g_assert_cmpuint(c->v[1].guest_time_usec, ==, 386020000);
        }

        /* a stat line cut short, or without its ')': that thread is left out */
        vh_unit_write_file(f->copy, "proc/3456/task/3461/stat", "3461 (CPU 1/KVM) S 1 3456 3456 0 -1 4194368\n");
        vh_unit_write_file(f->copy, "proc/3456/task/3462/stat", "3462 CPU 2/KVM S 1 3456 3456 0 -1 4194368\n");
        vh_unit_write_file(f->copy, "proc/3456/task/3463/stat", "");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);
                g_autofree char *s = summary(c);

                g_assert_cmpstr(s, ==, "0:3460:CPU 0/KVM");
        }
}

/* What is missing is said as missing, not made up. */
static void test_missing(Fixture *f, gconstpointer data) {
        vh_unit_unlink(f->copy, "proc/3456/task/3460/schedstat");
        vh_unit_unlink(f->copy, "proc/3456/task/3461/status");
        /* a thread that exits between the listing and the reads */
        vh_unit_unlink(f->copy, "proc/3456/task/3462/stat");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);
                g_autofree char *s = summary(c);

                g_assert_cmpstr(s, ==, "0:3460:CPU 0/KVM 1:3461:CPU 1/KVM 3:3463:CPU 3/KVM");
                g_assert_false(c->v[0].has_schedstat);
                g_assert_cmpuint(c->v[0].run_time_ns, ==, 0);
                g_assert_true(c->v[0].pinned);
                g_assert_cmpstr(c->v[1].allowed_cpus, ==, "");
                g_assert_false(c->v[1].pinned);
        }
        /* no online mask: nothing is called pinned */
        vh_unit_unlink(f->copy, "sys/devices/system/cpu/online");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);

                g_assert_cmpstr(c->v[0].allowed_cpus, ==, "2");
                g_assert_false(c->v[0].pinned);
        }
        /* an allowed set that covers the online CPUs is no pin, even if it
         * names more (possible but offline CPUs) */
        vh_unit_write_file(f->copy, "sys/devices/system/cpu/online", "0-3\n");
        vh_unit_write_file(f->copy, "proc/3456/task/3460/status", "Name:\tCPU 0/KVM\nCpus_allowed_list:\t0-7\n");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);

                g_assert_cmpstr(c->v[0].allowed_cpus, ==, "0-7");
                g_assert_false(c->v[0].pinned);
                /* 3463 may run on 0-23, which leaves none of 0-3 out */
                g_assert_false(c->v[2].pinned);
        }
}

/* Two threads with one index (a VMM restarting a vCPU): by index, then tid. */
static void test_order(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->copy, "proc/3456/task/3466/comm", "CPU 0/KVM\n");
        vh_unit_write_file(f->copy, "proc/3456/task/3458/comm", "CPU 9/KVM\n");
        {
                g_autoptr(Vcpus) c = read_vcpus(f, QEMU);
                g_autofree char *s = summary(c);

                g_assert_cmpstr(s, ==, "0:3460:CPU 0/KVM 0:3466:CPU 0/KVM 1:3461:CPU 1/KVM 2:3462:CPU 2/KVM "
                                       "3:3463:CPU 3/KVM 9:3458:CPU 9/KVM");
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, host, setup, fn) g_test_add(path, Fixture, host, setup, fn, vh_unit_fs_teardown)
        ADD("/vcpus/qemu", "desktop-vfio-bound", vh_unit_fs_setup, test_qemu);
        ADD("/vcpus/cloud-hypervisor", "server-variant", vh_unit_fs_setup, test_cloud_hypervisor);
        ADD("/vcpus/dpdk", "server-sriov-vfs", vh_unit_fs_setup, test_dpdk);
        ADD("/vcpus/gone", "desktop-vfio-bound", vh_unit_fs_setup, test_gone);
        ADD("/vcpus/debugfs", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_debugfs);
        ADD("/vcpus/comm-parens", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_comm_parens);
        ADD("/vcpus/missing", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_missing);
        ADD("/vcpus/order", "desktop-vfio-bound", vh_unit_fs_setup_copy, test_order);
#undef ADD
        g_test_add_func("/vcpus/names", test_names);

        return g_test_run();
}
