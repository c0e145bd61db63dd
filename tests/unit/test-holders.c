/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-holders: the device nodes a function's host driver exposes (DRM
 * minors from its drm/ directory, the NVIDIA minor from
 * proc/driver/nvidia/gpus/ADDR/information) and the processes that hold
 * them open (proc/PID/fd scan), on the fixture hosts (tests/data/README.md,
 * "Who holds what"). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-holders.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-pci-names.h"
#include "vh-strv.h"
#include "vh-unit.h"

typedef struct {
        char *copy;
        VhHostFs *fs;
        VhPciNames *names;
        VhHost *host;
} Fixture;

static void load(Fixture *f, const char *root) {
        g_assert_cmpint(vh_hostfs_new(root, &f->fs), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->host), ==, 0);
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);

        load(f, dir);
}

static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host(data);
        load(f, f->copy);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_host_free(f->host);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

static const VhPciDevice *dev(Fixture *f, const char *address) {
        const VhPciDevice *d = vh_host_find_device(f->host, address);

        g_assert_nonnull(d);
        return d;
}

/* The nodes as one space-separated string, "" for none. */
static char *nodes_of(Fixture *f, const char *address) {
        char **nodes = NULL;
        char *s;

        g_assert_cmpint(vh_holders_driver_nodes(f->fs, dev(f, address), &nodes), ==, 0);
        g_assert_nonnull(nodes);
        s = g_strjoinv(" ", nodes);
        vh_strv_free(nodes);
        return s;
}

static gint compare_pid(gconstpointer a, gconstpointer b) {
        long x = strtol(*(char * const *) a, NULL, 10), y = strtol(*(char * const *) b, NULL, 10);

        return x < y ? -1 : x > y;
}

/* Holders of the given nodes as "pid:comm:node" sorted by pid, space-separated. */
static char *holders_of(Fixture *f, const char *const *nodes) {
        g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
        VhHolder *h = NULL;
        size_t n = 12345;

        g_assert_cmpint(vh_holders_find(f->fs, (char * const *) nodes, &h, &n), ==, 0);
        if (n == 0)
                g_assert_null(h);
        for (size_t i = 0; i < n; i++) {
                g_assert_nonnull(h[i].comm);
                g_assert_nonnull(h[i].node);
                g_ptr_array_add(items, g_strdup_printf("%d:%s:%s", (int) h[i].pid, h[i].comm, h[i].node));
        }
        vh_holders_free(h, n);
        g_ptr_array_sort(items, compare_pid);
        g_ptr_array_add(items, NULL);
        return g_strjoinv(" ", (char **) items->pdata);
}

/* ---- driver nodes */

static void test_nodes_nvidia(Fixture *f, gconstpointer data) {
        g_autofree char *gpu = nodes_of(f, "0000:01:00.0");
        g_autofree char *audio = nodes_of(f, "0000:01:00.1");

        /* the RTX 4090 / GTX 1080: no drm/ directory (nvidia-drm is not
         * loaded), its minor from the NVIDIA procfs */
        g_assert_cmpstr(gpu, ==, "/dev/nvidia0");
        /* the HDMI audio function next to it exposes nothing we check */
        g_assert_cmpstr(audio, ==, "");
}

static void test_nodes_drm(Fixture *f, gconstpointer data) {
        g_autofree char *igpu = nodes_of(f, "0000:00:02.0");
        g_autofree char *amd = nodes_of(f, "0000:05:00.0");

        /* cards and render nodes; connectors (card0-DP-1) live inside card0/ */
        g_assert_cmpstr(igpu, ==, "/dev/dri/card0 /dev/dri/renderD128");
        g_assert_cmpstr(amd, ==, "/dev/dri/card1 /dev/dri/renderD129");
}

static void test_nodes_server(Fixture *f, gconstpointer data) {
        g_autofree char *ast = nodes_of(f, "0000:02:00.0");
        g_autofree char *vf = nodes_of(f, "0000:3b:02.1");
        g_autofree char *nvme = nodes_of(f, "0000:af:00.0");

        /* ast is KMS only: a card, no render node */
        g_assert_cmpstr(ast, ==, "/dev/dri/card0");
        g_assert_cmpstr(vf, ==, "");
        g_assert_cmpstr(nvme, ==, "");
}

/* On vfio-pci the GPU has neither a drm/ directory nor an NVIDIA procfs
 * entry (nvidia is not even loaded): no host driver nodes. */
static void test_nodes_vfio_bound(Fixture *f, gconstpointer data) {
        g_autofree char *gpu = nodes_of(f, "0000:01:00.0");
        g_autofree char *igpu = nodes_of(f, "0000:00:02.0");

        g_assert_cmpstr(gpu, ==, "");
        g_assert_cmpstr(igpu, ==, "/dev/dri/card0 /dev/dri/renderD128");
}

/* The minor comes from "Device Minor:", whatever it is; an information file
 * without one, or of another GPU, gives no node. */
static void test_nodes_nvidia_minor(Fixture *f, gconstpointer data) {
        const char *info_path = "proc/driver/nvidia/gpus/0000:01:00.0/information";
        g_autofree char *info = vh_unit_read_file(f->copy, info_path);
        g_autofree char *edited = NULL;
        char *s;

        g_assert_nonnull(strstr(info, "Device Minor: \t 0\n"));

        edited = g_strdup(info);
        s = strstr(edited, "Device Minor: \t 0");
        s[strlen("Device Minor: \t ")] = '3';
        vh_unit_write_file(f->copy, info_path, edited);
        {
                g_autofree char *n = nodes_of(f, "0000:01:00.0");
                g_assert_cmpstr(n, ==, "/dev/nvidia3");
        }

        /* two digits */
        vh_unit_write_file(f->copy, info_path, "Model: \t\t NVIDIA GeForce RTX 4090\nDevice Minor: \t 12\nGPU Excluded:\t No\n");
        {
                g_autofree char *n = nodes_of(f, "0000:01:00.0");
                g_assert_cmpstr(n, ==, "/dev/nvidia12");
        }

        /* no minor in it */
        vh_unit_write_file(f->copy, info_path, "Model: \t\t NVIDIA GeForce RTX 4090\nGPU Excluded:\t No\n");
        {
                g_autofree char *n = nodes_of(f, "0000:01:00.0");
                g_assert_cmpstr(n, ==, "");
        }

        /* the information file belongs to the GPU in its path only */
        vh_unit_write_file(f->copy, info_path, info);
        vh_unit_write_file(f->copy, "proc/driver/nvidia/gpus/0000:05:00.1/information", info);
        {
                g_autofree char *amd = nodes_of(f, "0000:05:00.0");
                g_autofree char *audio = nodes_of(f, "0000:05:00.1");

                g_assert_cmpstr(amd, ==, "/dev/dri/card1 /dev/dri/renderD129");
                g_assert_cmpstr(audio, ==, "/dev/nvidia0");
        }
}

/* ---- holders */

static void test_find_desktop(Fixture *f, gconstpointer data) {
        const char *igpu[] = { "/dev/dri/card0", "/dev/dri/renderD128", NULL };
        const char *amd[] = { "/dev/dri/card1", "/dev/dri/renderD129", NULL };
        const char *nvidia[] = { "/dev/nvidia0", NULL };
        g_autofree char *h_igpu = holders_of(f, igpu);
        g_autofree char *h_amd = holders_of(f, amd);
        g_autofree char *h_nvidia = holders_of(f, nvidia);

        /* Xorg on both display GPUs, Firefox on the iGPU's render node;
         * systemd, journald, NetworkManager, pipewire hold only /dev/null,
         * sockets, pipes, anon inodes, sound nodes and files */
        g_assert_cmpstr(h_igpu, ==, "1234:Xorg:/dev/dri/card0 2310:firefox:/dev/dri/renderD128");
        g_assert_cmpstr(h_amd, ==, "1234:Xorg:/dev/dri/card1");
        /* nobody uses the RTX 4090 */
        g_assert_cmpstr(h_nvidia, ==, "");
}

static void test_find_nvidia(Fixture *f, gconstpointer data) {
        const char *nvidia[] = { "/dev/nvidia0", NULL };
        const char *igpu[] = { "/dev/dri/card0", "/dev/dri/renderD128", NULL };
        g_autofree char *h_nvidia = holders_of(f, nvidia);
        g_autofree char *h_igpu = holders_of(f, igpu);

        /* comm is what the kernel keeps: 15 characters */
        g_assert_cmpstr(h_nvidia, ==, "2345:nvidia-persiste:/dev/nvidia0");
        g_assert_cmpstr(h_igpu, ==, "1234:Xorg:/dev/dri/card0");
}

static void test_find_vfio(Fixture *f, gconstpointer data) {
        const char *group[] = { "/dev/vfio/2", "/dev/vfio/devices/vfio0", NULL };
        const char *container[] = { "/dev/vfio/vfio", NULL };
        const char *wayland[] = { "/dev/dri/card0", "/dev/dri/card1", "/dev/dri/renderD128", NULL };
        g_autofree char *h_group = holders_of(f, group);
        g_autofree char *h_container = holders_of(f, container);
        g_autofree char *h_wayland = holders_of(f, wayland);

        g_assert_cmpstr(h_group, ==, "3456:qemu-system-x86:/dev/vfio/2");
        g_assert_cmpstr(h_container, ==, "3456:qemu-system-x86:/dev/vfio/vfio");
        /* one entry per process, whichever of its nodes came first */
        g_assert_cmpstr(h_wayland, ==, "1402:gnome-shell:/dev/dri/card0 1650:Xwayland:/dev/dri/renderD128");
}

static void test_find_server(Fixture *f, gconstpointer data) {
        const char *ast[] = { "/dev/dri/card0", NULL };
        const char *vf[] = { "/dev/vfio/24", NULL };
        g_autofree char *h_ast = holders_of(f, ast);
        g_autofree char *h_vf = holders_of(f, vf);

        g_assert_cmpstr(h_ast, ==, "2201:Xorg:/dev/dri/card0");
        g_assert_cmpstr(h_vf, ==, "");
}

/* Only exact node paths count: not a prefix, not a longer name, not
 * another node of the same kind. */
static void test_find_exact(Fixture *f, gconstpointer data) {
        const char *prefix[] = { "/dev/dri/card", "/dev/dri", "/dev/nvidia", NULL };
        const char *longer[] = { "/dev/dri/card01", "/dev/dri/renderD1280", NULL };
        const char *other[] = { "/dev/dri/card7", "/dev/nvidia0", NULL };
        const char *relative[] = { "dev/dri/card0", "card0", NULL };
        const char *none[] = { NULL };
        g_autofree char *h1 = holders_of(f, prefix);
        g_autofree char *h2 = holders_of(f, longer);
        g_autofree char *h3 = holders_of(f, other);
        g_autofree char *h4 = holders_of(f, relative);
        g_autofree char *h5 = holders_of(f, none);
        VhHolder *h = (VhHolder *) 0x1;
        size_t n = 99;

        g_assert_cmpstr(h1, ==, "");
        g_assert_cmpstr(h2, ==, "");
        g_assert_cmpstr(h3, ==, "");
        g_assert_cmpstr(h4, ==, "");
        g_assert_cmpstr(h5, ==, "");
        g_assert_cmpint(vh_holders_find(f->fs, NULL, &h, &n), ==, 0);
        g_assert_null(h);
        g_assert_cmpuint(n, ==, 0);
}

/* Entries of proc that are not processes, processes without a readable fd
 * directory, dangling or odd fd links: skipped, never counted twice. */
static void test_find_odd_proc(Fixture *f, gconstpointer data) {
        const char *igpu[] = { "/dev/dri/card0", "/dev/dri/renderD128", NULL };

        /* proc/self and proc/thread-self link to a process: not a pid */
        vh_unit_symlink(f->copy, "proc/self", "1234");
        vh_unit_symlink(f->copy, "proc/thread-self", "1234/task/1234");
        /* a name that is almost a pid */
        vh_unit_symlink(f->copy, "proc/12ab/fd/3", "/dev/dri/card0");
        vh_unit_symlink(f->copy, "proc/-1/fd/3", "/dev/dri/card0");
        vh_unit_write_file(f->copy, "proc/12ab/comm", "fake\n");
        /* a process whose fd is a file, not a directory (gone mid-scan) */
        vh_unit_write_file(f->copy, "proc/4000/comm", "exiting\n");
        vh_unit_write_file(f->copy, "proc/4000/fd", "");
        /* a process without comm: described as "?" */
        vh_unit_symlink(f->copy, "proc/4100/fd/9", "/dev/dri/renderD128");
        {
                g_autofree char *h = holders_of(f, igpu);
                g_assert_cmpstr(h, ==, "1234:Xorg:/dev/dri/card0 2310:firefox:/dev/dri/renderD128 4100::/dev/dri/renderD128");
        }
}

/* ---- describe */

static void test_describe(Fixture *f, gconstpointer data) {
        const char *igpu[] = { "/dev/dri/card0", "/dev/dri/renderD128", NULL };
        g_autofree char *text = NULL, *empty = NULL, *unknown = NULL;
        VhHolder *h = NULL;
        size_t n = 0;

        g_assert_cmpint(vh_holders_find(f->fs, (char * const *) igpu, &h, &n), ==, 0);
        g_assert_cmpuint(n, ==, 2);
        text = vh_holders_describe(h, n);
        g_assert_nonnull(text);
        g_test_message("%s", text);
        /* each holder by pid, comm and node */
        g_assert_nonnull(strstr(text, "pid 1234 (Xorg) holds /dev/dri/card0"));
        g_assert_nonnull(strstr(text, "pid 2310 (firefox) holds /dev/dri/renderD128"));
        g_assert_nonnull(strstr(text, ", "));
        vh_holders_free(h, n);

        empty = vh_holders_describe(NULL, 0);
        g_assert_cmpstr(empty, ==, "");

        {
                VhHolder one = { .pid = 4100, .comm = (char *) "", .node = (char *) "/dev/nvidia0" };

                unknown = vh_holders_describe(&one, 1);
                g_assert_cmpstr(unknown, ==, "pid 4100 (?) holds /dev/nvidia0");
        }
}

/* A VM that names its guest is named in the description (QEMU's -name
 * guest=win11); a VFIO user that is no VM (dpdk-testpmd) is not. */
static void test_describe_vm(Fixture *f, gconstpointer data) {
        const char *group[] = { "/dev/vfio/2", NULL };
        g_autofree char *text = NULL;
        VhHolder *h = NULL;
        size_t n = 0;

        g_assert_cmpint(vh_holders_find(f->fs, (char * const *) group, &h, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpstr(h[0].vm_name, ==, "win11");
        text = vh_holders_describe(h, n);
        g_assert_cmpstr(text, ==, "pid 3456 (qemu-system-x86, VM win11) holds /dev/vfio/2");
        vh_holders_free(h, n);
}

static void test_describe_not_vm(Fixture *f, gconstpointer data) {
        const char *group[] = { "/dev/vfio/26", NULL };
        g_autofree char *text = NULL;
        VhHolder *h = NULL;
        size_t n = 0;

        g_assert_cmpint(vh_holders_find(f->fs, (char * const *) group, &h, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_null(h[0].vm_name);
        text = vh_holders_describe(h, n);
        g_assert_cmpstr(text, ==, "pid 6001 (dpdk-testpmd) holds /dev/vfio/26");
        vh_holders_free(h, n);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, host, setup, fn) g_test_add(path, Fixture, host, setup, fn, fixture_teardown)
        ADD("/holders/nodes/nvidia/desktop-intel", "desktop-intel", fixture_setup, test_nodes_nvidia);
        ADD("/holders/nodes/nvidia/no-iommu", "no-iommu", fixture_setup, test_nodes_nvidia);
        ADD("/holders/nodes/nvidia/minor", "desktop-intel", fixture_setup_copy, test_nodes_nvidia_minor);
        ADD("/holders/nodes/drm", "desktop-intel", fixture_setup, test_nodes_drm);
        ADD("/holders/nodes/server", "server-sriov", fixture_setup, test_nodes_server);
        ADD("/holders/nodes/vfio-bound", "desktop-vfio-bound", fixture_setup, test_nodes_vfio_bound);
        ADD("/holders/find/desktop", "desktop-intel", fixture_setup, test_find_desktop);
        ADD("/holders/find/nvidia", "no-iommu", fixture_setup, test_find_nvidia);
        ADD("/holders/find/vfio", "desktop-vfio-bound", fixture_setup, test_find_vfio);
        ADD("/holders/find/server", "server-sriov", fixture_setup, test_find_server);
        ADD("/holders/find/exact", "desktop-intel", fixture_setup, test_find_exact);
        ADD("/holders/find/odd-proc", "desktop-intel", fixture_setup_copy, test_find_odd_proc);
        ADD("/holders/describe", "desktop-intel", fixture_setup, test_describe);
        ADD("/holders/describe/vm", "desktop-vfio-bound", fixture_setup, test_describe_vm);
        ADD("/holders/describe/not-vm", "server-sriov-vfs", fixture_setup, test_describe_not_vm);
#undef ADD

        return g_test_run();
}
