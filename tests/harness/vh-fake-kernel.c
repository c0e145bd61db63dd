/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fake PCI core: see vh-fake-kernel.h for what it imitates and what it
 * cannot. One thread reads fanotify events on the watched attribute files
 * of a copied host tree and changes the tree the way the kernel would. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-fake-kernel.h"
#include "vh-test-bus.h"

#define VFIO_PCI "vfio-pci"
/* Quiet time before vh_fake_kernel_wait_idle() believes nothing more comes. */
#define QUIET_USEC (10 * 1000)

typedef enum {
        ATTR_OVERRIDE,
        ATTR_BIND,
        ATTR_UNBIND,
        ATTR_PROBE,
        ATTR_NUMVFS,
        ATTR_AUTOPROBE,
} AttrKind;

typedef struct Dev {
        char *address;
        char *dir;                      /* absolute, canonical */
        char *sys_rel;                  /* dir below ROOT/sys: "devices/pci0000:00/..." */
        int group;                      /* -1: none */
        char *natural;                  /* NULL: none */
        char *override;                 /* NULL: unset */
        gboolean probe_refuses, vfio_refuses;
        gint64 probe_delay_usec;
        /* SR-IOV, for a PF (total_vfs > 0). */
        guint total_vfs, num_vfs, vf_offset, vf_stride, vf_device;
        gboolean autoprobe;
        gboolean sriov_unsupported;     /* its driver has no sriov_configure */
        char *vf_natural;               /* the natural driver of its VFs */
} Dev;

typedef struct Watch {
        AttrKind kind;
        Dev *dev;                       /* ATTR_OVERRIDE, ATTR_NUMVFS, ATTR_AUTOPROBE */
        char *driver;                   /* ATTR_BIND, ATTR_UNBIND */
        char *name;                     /* for the log: path below sys/bus/pci */
} Watch;

typedef struct Deferred {
        Dev *dev;
        char *driver;
        gint64 due;
} Deferred;

struct VhFakeKernel {
        char *root;                     /* canonical */
        char *sys;                      /* ROOT/sys */
        char *drivers;                  /* ROOT/sys/bus/pci/drivers */
        int fan_fd;
        int stop_fd;
        GThread *thread;

        /* Everything below is shared with the test thread. */
        GMutex lock;
        GCond cond;
        GHashTable *devs;               /* address → Dev */
        GHashTable *watches;            /* absolute path → Watch */
        GPtrArray *log;                 /* char* */
        guint n_writes;
        gboolean busy;
        gint64 last_activity;
        GPtrArray *deferred;            /* Deferred* */
};

/* ---------- small file helpers (never on watched files: see below) ---------- */

static char *read_link_name(const char *path) {
        g_autofree char *target = g_file_read_link(path, NULL);

        return target ? g_path_get_basename(target) : NULL;
}

static gboolean is_dir(const char *path) {
        return g_file_test(path, G_FILE_TEST_IS_DIR);
}

static void write_plain(const char *path, const char *content) {
        g_autoptr(GError) error = NULL;

        if (!g_file_set_contents(path, content, -1, &error))
                g_error("fake kernel: cannot write %s: %s", path, error->message);
}

static void make_dirs(const char *path) {
        if (g_mkdir_with_parents(path, 0755) < 0)
                g_error("fake kernel: cannot create %s: %s", path, g_strerror(errno));
}

static void make_link(const char *target, const char *path) {
        (void) unlink(path);
        if (symlink(target, path) < 0)
                g_error("fake kernel: cannot link %s -> %s: %s", path, target, g_strerror(errno));
}

static void remove_path(const char *path) {
        GStatBuf st;

        if (g_lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                GDir *d = g_dir_open(path, 0, NULL);
                const char *name;

                while (d && (name = g_dir_read_name(d))) {
                        g_autofree char *child = g_build_filename(path, name, NULL);
                        remove_path(child);
                }
                if (d)
                        g_dir_close(d);
                if (rmdir(path) < 0)
                        g_error("fake kernel: cannot remove %s: %s", path, g_strerror(errno));
        } else if (unlink(path) < 0)
                g_error("fake kernel: cannot remove %s: %s", path, g_strerror(errno));
}

/* "../" times the number of components of rel. */
static char *ups(const char *rel) {
        GString *s = g_string_new(NULL);
        g_auto(GStrv) parts = g_strsplit(rel, "/", -1);

        for (size_t i = 0; parts[i]; i++)
                if (*parts[i])
                        g_string_append(s, "../");
        return g_string_free(s, FALSE);
}

/* ---------- log (lock held) ---------- */

static void log_line(VhFakeKernel *k, char *line) {
        g_ptr_array_add(k->log, line);
        g_cond_broadcast(&k->cond);
}

/* ---------- model (lock held) ---------- */

static void dev_free(gpointer p) {
        Dev *d = p;

        g_free(d->address);
        g_free(d->dir);
        g_free(d->sys_rel);
        g_free(d->natural);
        g_free(d->override);
        g_free(d->vf_natural);
        g_free(d);
}

static void watch_free(gpointer p) {
        Watch *w = p;

        g_free(w->driver);
        g_free(w->name);
        g_free(w);
}

static void deferred_free(gpointer p) {
        Deferred *d = p;

        g_free(d->driver);
        g_free(d);
}

static char *dev_driver(const Dev *d) {
        g_autofree char *link = g_build_filename(d->dir, "driver", NULL);
        return read_link_name(link);
}

static gboolean driver_exists(VhFakeKernel *k, const char *driver) {
        g_autofree char *path = g_build_filename(k->drivers, driver, NULL);
        return is_dir(path);
}

/* vfio-pci, or a variant: a driver whose module holds vfio_pci_core. */
static gboolean is_vfio_driver(VhFakeKernel *k, const char *driver) {
        g_autofree char *link = NULL, *module = NULL, *holder = NULL;

        if (!driver)
                return FALSE;
        if (strcmp(driver, VFIO_PCI) == 0)
                return TRUE;
        link = g_build_filename(k->drivers, driver, "module", NULL);
        module = read_link_name(link);
        if (!module)
                return FALSE;
        holder = g_build_filename(k->sys, "module", "vfio_pci_core", "holders", module, NULL);
        return g_file_test(holder, G_FILE_TEST_EXISTS);
}

/* The uevent file's DRIVER= line comes first when bound, as the kernel prints it. */
static void set_uevent_driver(const Dev *d, const char *driver) {
        g_autofree char *path = g_build_filename(d->dir, "uevent", NULL);
        g_autofree char *content = NULL;
        g_autoptr(GString) out = g_string_new(NULL);
        g_auto(GStrv) lines = NULL;

        if (!g_file_get_contents(path, &content, NULL, NULL))
                return;
        if (driver)
                g_string_append_printf(out, "DRIVER=%s\n", driver);
        lines = g_strsplit(content, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                if (!*lines[i] || g_str_has_prefix(lines[i], "DRIVER="))
                        continue;
                g_string_append_printf(out, "%s\n", lines[i]);
        }
        write_plain(path, out->str);
}

static gboolean group_has_vfio_member(VhFakeKernel *k, int group) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, k->devs);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Dev *m = value;
                g_autofree char *driver = NULL;

                if (m->group != group)
                        continue;
                driver = dev_driver(m);
                if (is_vfio_driver(k, driver))
                        return TRUE;
        }
        return FALSE;
}

static void create_group_node(VhFakeKernel *k, int group) {
        g_autofree char *name = g_strdup_printf("%d", group);
        g_autofree char *dev_vfio = g_build_filename(k->root, "dev", "vfio", NULL);
        g_autofree char *node = g_build_filename(dev_vfio, name, NULL);
        g_autofree char *class_dir = g_build_filename(k->sys, "class", "vfio", NULL);

        make_dirs(dev_vfio);
        if (!g_file_test(node, G_FILE_TEST_EXISTS))
                write_plain(node, "");

        /* Hosts whose tree has the vfio class get its device too. */
        if (is_dir(class_dir)) {
                g_autofree char *vdir = g_build_filename(k->sys, "devices", "virtual", "vfio", name, NULL);
                g_autofree char *file = NULL, *text = NULL, *link = NULL;

                make_dirs(vdir);
                file = g_build_filename(vdir, "dev", NULL);
                text = g_strdup_printf("243:%d\n", group + 1);
                write_plain(file, text);
                g_free(file);
                g_free(text);
                file = g_build_filename(vdir, "uevent", NULL);
                text = g_strdup_printf("MAJOR=243\nMINOR=%d\nDEVNAME=vfio/%d\n", group + 1, group);
                write_plain(file, text);
                g_free(file);
                file = g_build_filename(vdir, "subsystem", NULL);
                make_link("../../../../class/vfio", file);
                link = g_build_filename(class_dir, name, NULL);
                g_free(text);
                text = g_strdup_printf("../../devices/virtual/vfio/%d", group);
                make_link(text, link);
        }
}

static void remove_group_node(VhFakeKernel *k, int group) {
        g_autofree char *name = g_strdup_printf("%d", group);
        g_autofree char *node = g_build_filename(k->root, "dev", "vfio", name, NULL);
        g_autofree char *link = g_build_filename(k->sys, "class", "vfio", name, NULL);
        g_autofree char *vdir = g_build_filename(k->sys, "devices", "virtual", "vfio", name, NULL);

        remove_path(node);
        remove_path(link);
        remove_path(vdir);
}

/* iommufd character device: the lowest vfioN free in both places. */
static void create_cdev(VhFakeKernel *k, const Dev *d) {
        g_autofree char *devices = g_build_filename(k->root, "dev", "vfio", "devices", NULL);
        g_autofree char *class_dir = g_build_filename(k->sys, "class", "vfio-dev", NULL);
        g_autofree char *name = NULL, *cdir = NULL, *file = NULL, *text = NULL;
        int n;

        if (!is_dir(devices))
                return;
        for (n = 0;; n++) {
                g_autofree char *node = NULL, *cls = NULL;

                g_free(name);
                name = g_strdup_printf("vfio%d", n);
                node = g_build_filename(devices, name, NULL);
                cls = g_build_filename(class_dir, name, NULL);
                if (!g_file_test(node, G_FILE_TEST_EXISTS) && !g_file_test(cls, G_FILE_TEST_IS_SYMLINK))
                        break;
        }

        cdir = g_build_filename(d->dir, "vfio-dev", name, NULL);
        make_dirs(cdir);
        file = g_build_filename(cdir, "dev", NULL);
        text = g_strdup_printf("511:%d\n", n);
        write_plain(file, text);
        g_free(file);
        g_free(text);
        file = g_build_filename(cdir, "uevent", NULL);
        text = g_strdup_printf("MAJOR=511\nMINOR=%d\nDEVNAME=vfio/devices/%s\n", n, name);
        write_plain(file, text);
        g_free(file);
        file = g_build_filename(devices, name, NULL);
        write_plain(file, "");
        if (is_dir(class_dir)) {
                g_autofree char *link = g_build_filename(class_dir, name, NULL);
                g_autofree char *target = g_strdup_printf("../../%s/vfio-dev/%s", d->sys_rel, name);
                make_link(target, link);
        }
}

static void remove_cdevs(VhFakeKernel *k, const Dev *d) {
        g_autofree char *vdir = g_build_filename(d->dir, "vfio-dev", NULL);
        GDir *dir = g_dir_open(vdir, 0, NULL);
        const char *name;

        if (!dir)
                return;
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *node = g_build_filename(k->root, "dev", "vfio", "devices", name, NULL);
                g_autofree char *link = g_build_filename(k->sys, "class", "vfio-dev", name, NULL);

                remove_path(node);
                remove_path(link);
        }
        g_dir_close(dir);
        remove_path(vdir);
}

static void do_bind(VhFakeKernel *k, Dev *d, const char *driver) {
        g_autofree char *back = g_build_filename(k->drivers, driver, d->address, NULL);
        g_autofree char *back_target = g_strconcat("../../../../", d->sys_rel, NULL);
        g_autofree char *up = ups(d->sys_rel);
        g_autofree char *link = g_build_filename(d->dir, "driver", NULL);
        g_autofree char *link_target = g_strconcat(up, "bus/pci/drivers/", driver, NULL);

        /* Nodes first: whoever sees the driver link sees them. */
        if (is_vfio_driver(k, driver)) {
                if (d->group >= 0)
                        create_group_node(k, d->group);
                create_cdev(k, d);
        }
        make_link(back_target, back);
        set_uevent_driver(d, driver);
        make_link(link_target, link);
        log_line(k, g_strdup_printf("+ %s %s", d->address, driver));
}

static void do_release(VhFakeKernel *k, Dev *d, const char *driver) {
        g_autofree char *back = g_build_filename(k->drivers, driver, d->address, NULL);
        g_autofree char *link = g_build_filename(d->dir, "driver", NULL);

        remove_path(link);
        remove_path(back);
        set_uevent_driver(d, NULL);
        if (is_vfio_driver(k, driver)) {
                remove_cdevs(k, d);
                if (d->group >= 0 && !group_has_vfio_member(k, d->group))
                        remove_group_node(k, d->group);
        }
        log_line(k, g_strdup_printf("- %s %s", d->address, driver));
}

/* The driver a probe of d would bind now, or NULL with *why set. */
static const char *probe_target(VhFakeKernel *k, const Dev *d, const char **why) {
        const char *target = d->override ? d->override : d->natural;

        if (!target) {
                *why = "no driver";
                return NULL;
        }
        if (!driver_exists(k, target)) {
                *why = d->override ? "the override's driver is not loaded" : "the natural driver is not loaded";
                return NULL;
        }
        if (strcmp(target, VFIO_PCI) == 0 && d->vfio_refuses) {
                *why = "vfio-pci refuses the device";
                return NULL;
        }
        if (!d->override && d->probe_refuses) {
                *why = "the natural driver's probe fails";
                return NULL;
        }
        return target;
}

static Dev *lookup_dev(VhFakeKernel *k, const char *value, const char *what) {
        Dev *d = g_hash_table_lookup(k->devs, value);

        if (!d)
                log_line(k, g_strdup_printf("! %s %s: no such device", value, what));
        return d;
}

static void handle_probe(VhFakeKernel *k, const char *value) {
        g_autofree char *current = NULL;
        const char *target, *why = NULL;
        Dev *d = lookup_dev(k, value, "probe");

        if (!d)
                return;
        current = dev_driver(d);
        if (current) {
                log_line(k, g_strdup_printf("! %s probe: bound to %s already", d->address, current));
                return;
        }
        target = probe_target(k, d, &why);
        if (!target) {
                log_line(k, g_strdup_printf("! %s probe: %s", d->address, why));
                return;
        }
        if (d->probe_delay_usec > 0) {
                Deferred *def = g_new0(Deferred, 1);

                def->dev = d;
                def->driver = g_strdup(target);
                def->due = g_get_monotonic_time() + d->probe_delay_usec;
                g_ptr_array_add(k->deferred, def);
                log_line(k, g_strdup_printf("! %s probe: %s deferred", d->address, target));
                return;
        }
        do_bind(k, d, target);
}

static void run_deferred(VhFakeKernel *k, gboolean all) {
        gint64 now = g_get_monotonic_time();

        for (guint i = 0; i < k->deferred->len;) {
                Deferred *def = k->deferred->pdata[i];
                g_autofree char *current = NULL;
                const char *target, *why = NULL;

                if (!all && def->due > now) {
                        i++;
                        continue;
                }
                current = dev_driver(def->dev);
                target = current ? NULL : probe_target(k, def->dev, &why);
                if (target && strcmp(target, def->driver) == 0)
                        do_bind(k, def->dev, target);
                else
                        log_line(k, g_strdup_printf("! %s deferred probe of %s: %s", def->dev->address, def->driver,
                                                    current ? "bound meanwhile" : why ? why : "target changed"));
                g_ptr_array_remove_index(k->deferred, i);
        }
}

static void handle_bind(VhFakeKernel *k, const char *driver, const char *value) {
        g_autofree char *current = NULL;
        Dev *d = lookup_dev(k, value, "bind");
        gboolean match;

        if (!d)
                return;
        current = dev_driver(d);
        if (current) {
                log_line(k, g_strdup_printf("! %s bind %s: bound to %s already", d->address, driver, current));
                return;
        }
        /* pci_bus_match: the override decides alone; else the id table. */
        match = d->override ? strcmp(d->override, driver) == 0 : g_strcmp0(d->natural, driver) == 0;
        if (!match) {
                log_line(k, g_strdup_printf("! %s bind %s: no match", d->address, driver));
                return;
        }
        if (strcmp(driver, VFIO_PCI) == 0 && d->vfio_refuses) {
                log_line(k, g_strdup_printf("! %s bind %s: vfio-pci refuses the device", d->address, driver));
                return;
        }
        do_bind(k, d, driver);
}

static void handle_unbind(VhFakeKernel *k, const char *driver, const char *value) {
        g_autofree char *current = NULL;
        Dev *d = lookup_dev(k, value, "unbind");

        if (!d)
                return;
        current = dev_driver(d);
        if (g_strcmp0(current, driver) != 0) {
                log_line(k, g_strdup_printf("! %s unbind %s: bound to %s", d->address, driver, current ? current : "nothing"));
                return;
        }
        do_release(k, d, driver);
}

/* ---------- SR-IOV (lock held) ---------- */

static void add_watch(VhFakeKernel *k, const char *path, AttrKind kind, Dev *dev, const char *driver, char *name);

static char *read_plain(const char *path) {
        char *content = NULL;

        return g_file_get_contents(path, &content, NULL, NULL) ? content : g_strdup("");
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name) {
        g_autofree char *from = g_build_filename(from_dir, name, NULL);
        g_autofree char *to = g_build_filename(to_dir, name, NULL);
        g_autofree char *content = NULL;
        gsize len = 0;

        if (!g_file_get_contents(from, &content, &len, NULL))
                return;
        if (!g_file_set_contents(to, content, (gssize) len, NULL))
                g_error("fake kernel: cannot write %s", to);
}

/* The next IOMMU group number: one above the highest there is. */
static int next_group(VhFakeKernel *k) {
        g_autofree char *groups = g_build_filename(k->sys, "kernel", "iommu_groups", NULL);
        GDir *dir = g_dir_open(groups, 0, NULL);
        const char *name;
        int max = -1;

        while (dir && (name = g_dir_read_name(dir)))
                max = MAX(max, atoi(name));
        if (dir)
                g_dir_close(dir);
        return max + 1;
}

/* pci_iov_add_virtfn(): a new function beside the PF, with the PF's
 * identity but sriov_vf_device, physfn and virtfnN links, an IOMMU group of
 * its own, then (with autoprobe) a probe. */
static void create_vf(VhFakeKernel *k, Dev *pf, guint index) {
        g_autofree char *parent = g_path_get_dirname(pf->dir);
        g_autofree char *parent_rel = g_path_get_dirname(pf->sys_rel);
        g_autofree char *address = NULL, *dir = NULL, *rel = NULL, *up = NULL, *file = NULL, *text = NULL;
        g_autofree char *config = NULL, *group_dir = NULL, *pf_group_dir = NULL, *iommu = NULL;
        unsigned domain, bus, slot, fn, rid;
        const char *copied[] = { "vendor", "subsystem_vendor", "subsystem_device", "class", "revision", "numa_node",
                                 "local_cpulist", "local_cpus", "d3cold_allowed", "resource", "msi_bus",
                                 "reset_method", "reset", "power_state", NULL };
        const char *why = NULL, *target;
        gsize config_len = 0;
        Dev *d;
        int group;

        g_assert_cmpint(sscanf(pf->address, "%x:%x:%x.%x", &domain, &bus, &slot, &fn), ==, 4);
        rid = ((bus << 8) | (slot << 3) | fn) + pf->vf_offset + index * pf->vf_stride;
        address = g_strdup_printf("%04x:%02x:%02x.%x", domain, rid >> 8, (rid >> 3) & 0x1f, rid & 7);
        dir = g_build_filename(parent, address, NULL);
        rel = g_build_filename(parent_rel, address, NULL);
        up = ups(rel);
        make_dirs(dir);
        for (size_t i = 0; copied[i]; i++)
                copy_file(pf->dir, dir, copied[i]);

        file = g_build_filename(dir, "device", NULL);
        text = g_strdup_printf("0x%04x\n", pf->vf_device);
        write_plain(file, text);
        g_free(file);
        file = g_build_filename(dir, "driver_override", NULL);
        write_plain(file, "(null)\n");
        g_free(file);
        file = g_build_filename(dir, "enable", NULL);
        write_plain(file, "0\n");
        g_free(file);
        file = g_build_filename(dir, "irq", NULL);
        write_plain(file, "0\n");
        g_free(file);
        /* Config space of a VF reads ffff for vendor and device. */
        file = g_build_filename(pf->dir, "config", NULL);
        if (g_file_get_contents(file, &config, &config_len, NULL) && config_len >= 4) {
                g_autofree char *to = g_build_filename(dir, "config", NULL);

                memset(config, 0xff, 4);
                if (!g_file_set_contents(to, config, (gssize) config_len, NULL))
                        g_error("fake kernel: cannot write %s", to);
        }
        g_free(file);
        {
                g_autofree char *cls = NULL, *vendor = NULL, *sv = NULL, *sd = NULL, *path = NULL;

                path = g_build_filename(dir, "class", NULL);
                cls = g_strstrip(read_plain(path));
                g_free(path);
                path = g_build_filename(dir, "vendor", NULL);
                vendor = g_strstrip(read_plain(path));
                g_free(path);
                path = g_build_filename(dir, "subsystem_vendor", NULL);
                sv = g_strstrip(read_plain(path));
                g_free(path);
                path = g_build_filename(dir, "subsystem_device", NULL);
                sd = g_strstrip(read_plain(path));
                file = g_build_filename(dir, "uevent", NULL);
                g_free(text);
                text = g_strdup_printf("PCI_CLASS=%lX\nPCI_ID=%04lX:%04X\nPCI_SUBSYS_ID=%04lX:%04lX\nPCI_SLOT_NAME=%s\n",
                                       strtoul(cls, NULL, 16), strtoul(vendor, NULL, 16), pf->vf_device,
                                       strtoul(sv, NULL, 16), strtoul(sd, NULL, 16), address);
                write_plain(file, text);
                g_free(file);
        }

        /* Links, spelled as kernfs does. */
        file = g_build_filename(dir, "physfn", NULL);
        g_free(text);
        text = g_strdup_printf("../%s", pf->address);
        make_link(text, file);
        g_free(file);
        file = g_build_filename(dir, "subsystem", NULL);
        g_free(text);
        text = g_strconcat(up, "bus/pci", NULL);
        make_link(text, file);
        g_free(file);
        file = g_build_filename(pf->dir, "iommu", NULL);
        iommu = g_file_read_link(file, NULL);
        g_free(file);
        if (iommu) {
                file = g_build_filename(dir, "iommu", NULL);
                make_link(iommu, file);
                g_free(file);
        }
        if (pf->group >= 0) {
                group = next_group(k);
                group_dir = g_strdup_printf("%s/kernel/iommu_groups/%d", k->sys, group);
                pf_group_dir = g_strdup_printf("%s/kernel/iommu_groups/%d", k->sys, pf->group);
                file = g_build_filename(group_dir, "devices", NULL);
                make_dirs(file);
                g_free(file);
                copy_file(pf_group_dir, group_dir, "type");
                copy_file(pf_group_dir, group_dir, "reserved_regions");
                file = g_build_filename(group_dir, "devices", address, NULL);
                g_free(text);
                text = g_strconcat("../../../../", rel, NULL);
                make_link(text, file);
                g_free(file);
                file = g_build_filename(dir, "iommu_group", NULL);
                g_free(text);
                text = g_strdup_printf("%skernel/iommu_groups/%d", up, group);
                make_link(text, file);
                g_free(file);
        } else
                group = -1;
        file = g_strdup_printf("%s/virtfn%u", pf->dir, index);
        g_free(text);
        text = g_strdup_printf("../%s", address);
        make_link(text, file);
        g_free(file);
        file = g_build_filename(k->sys, "bus", "pci", "devices", address, NULL);
        g_free(text);
        text = g_strconcat("../../../", rel, NULL);
        make_link(text, file);
        g_free(file);

        d = g_new0(Dev, 1);
        d->address = g_strdup(address);
        d->dir = g_strdup(dir);
        d->sys_rel = g_strdup(rel);
        d->group = group;
        d->natural = g_strdup(pf->vf_natural);
        g_hash_table_insert(k->devs, d->address, d);
        file = g_build_filename(dir, "driver_override", NULL);
        add_watch(k, file, ATTR_OVERRIDE, d, NULL, g_strdup_printf("devices/%s/driver_override", address));
        log_line(k, g_strdup_printf("> %s VF %u of %s, group %d", address, index, pf->address, group));

        if (!pf->autoprobe)
                return;
        target = probe_target(k, d, &why);
        if (target)
                do_bind(k, d, target);
        else
                log_line(k, g_strdup_printf("! %s autoprobe: %s", address, why));
}

/* pci_iov_remove_virtfn(): unbound, then gone, newest first. */
static void remove_vf(VhFakeKernel *k, Dev *pf, guint index) {
        g_autofree char *link = g_strdup_printf("%s/virtfn%u", pf->dir, index);
        g_autofree char *address = read_link_name(link);
        g_autofree char *driver = NULL, *override = NULL, *bus_link = NULL, *group_dir = NULL;
        Dev *d = address ? g_hash_table_lookup(k->devs, address) : NULL;

        if (!d) {
                remove_path(link);
                return;
        }
        driver = dev_driver(d);
        if (driver)
                do_release(k, d, driver);
        override = g_build_filename(d->dir, "driver_override", NULL);
        g_hash_table_remove(k->watches, override);
        bus_link = g_build_filename(k->sys, "bus", "pci", "devices", address, NULL);
        remove_path(bus_link);
        if (d->group >= 0) {
                group_dir = g_strdup_printf("%s/kernel/iommu_groups/%d", k->sys, d->group);
                remove_path(group_dir);
        }
        remove_path(d->dir);
        remove_path(link);
        log_line(k, g_strdup_printf("< %s VF %u of %s removed", address, index, pf->address));
        g_hash_table_remove(k->devs, address);
}

/* sriov_numvfs_store(): all or none; N→M with both nonzero is EBUSY; a
 * driver without sriov_configure is ENOENT. The write cannot fail here
 * (it returned already): what the kernel would refuse is logged with "!"
 * and changes nothing. */
static void handle_numvfs(VhFakeKernel *k, Dev *pf, const char *value) {
        g_autofree char *driver = dev_driver(pf);
        char *end;
        guint64 n = g_ascii_strtoull(value, &end, 10);

        if (end == value || *end || n > 65535)
                log_line(k, g_strdup_printf("! %s sriov_numvfs: EINVAL", pf->address));
        else if (n == pf->num_vfs)
                log_line(k, g_strdup_printf("! %s sriov_numvfs: %u already", pf->address, pf->num_vfs));
        else if (!driver || pf->sriov_unsupported)
                log_line(k, g_strdup_printf("! %s sriov_numvfs: ENOENT (%s)", pf->address,
                                            driver ? "the driver cannot create VFs" : "no driver"));
        else if (n > pf->total_vfs)
                log_line(k, g_strdup_printf("! %s sriov_numvfs: ERANGE", pf->address));
        else if (n > 0 && pf->num_vfs > 0)
                log_line(k, g_strdup_printf("! %s sriov_numvfs: EBUSY", pf->address));
        else if (n == 0) {
                for (guint i = pf->num_vfs; i-- > 0;)
                        remove_vf(k, pf, i);
                pf->num_vfs = 0;
        } else {
                for (guint i = 0; i < n; i++)
                        create_vf(k, pf, i);
                pf->num_vfs = (guint) n;
        }
}

/* kstrtobool(): the first character decides. */
static void handle_autoprobe(VhFakeKernel *k, Dev *pf, const char *value) {
        if (strchr("1yY", value[0]) || g_ascii_strncasecmp(value, "on", 2) == 0)
                pf->autoprobe = TRUE;
        else if (strchr("0nN", value[0]) || g_ascii_strncasecmp(value, "of", 2) == 0)
                pf->autoprobe = FALSE;
        else
                log_line(k, g_strdup_printf("! %s sriov_drivers_autoprobe: EINVAL", pf->address));
}

/* Rewrites a watched file through the event's descriptor: fanotify opened
 * it FMODE_NONOTIFY, so this causes no event of its own. */
static void rewrite_fd(int fd, const char *content) {
        size_t len = strlen(content);

        if (ftruncate(fd, 0) < 0)
                g_error("fake kernel: ftruncate: %s", g_strerror(errno));
        if (len > 0 && pwrite(fd, content, len, 0) != (ssize_t) len)
                g_error("fake kernel: pwrite: %s", g_strerror(errno));
}

static void handle_write(VhFakeKernel *k, const Watch *w, int fd) {
        char buf[4096];
        g_autofree char *escaped = NULL;
        ssize_t n;

        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                g_error("fake kernel: cannot read %s: %s", w->name, g_strerror(errno));
        buf[n] = 0;

        k->n_writes++;
        escaped = g_strescape(buf, NULL);
        log_line(k, g_strdup_printf("W %s %s", w->name, escaped));

        if (w->kind == ATTR_OVERRIDE) {
                Dev *d = w->dev;

                if (n > 0) {
                        /* driver_set_override(): up to the first newline; empty clears. */
                        char *nl = strchr(buf, '\n');

                        if (nl)
                                *nl = 0;
                        g_free(d->override);
                        d->override = *buf ? g_strdup(buf) : NULL;
                } else
                        log_line(k, g_strdup_printf("! %s driver_override: a 0-byte write is no store", d->address));
                {
                        g_autofree char *shown = g_strdup_printf("%s\n", d->override ? d->override : "(null)");
                        rewrite_fd(fd, shown);
                }
                return;
        }

        /* bind, unbind, drivers_probe: sysfs_streq() ignores one trailing newline. */
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = 0;
        if (w->kind == ATTR_NUMVFS || w->kind == ATTR_AUTOPROBE) {
                g_autofree char *shown = NULL;

                if (w->kind == ATTR_NUMVFS)
                        handle_numvfs(k, w->dev, buf);
                else
                        handle_autoprobe(k, w->dev, buf);
                shown = g_strdup_printf("%u\n", w->kind == ATTR_NUMVFS ? w->dev->num_vfs : (guint) w->dev->autoprobe);
                rewrite_fd(fd, shown);
                return;
        }
        if (*buf) {
                if (w->kind == ATTR_PROBE)
                        handle_probe(k, buf);
                else if (w->kind == ATTR_BIND)
                        handle_bind(k, w->driver, buf);
                else
                        handle_unbind(k, w->driver, buf);
        }
        /* Write-only in the kernel: nothing to read back. */
        rewrite_fd(fd, "");
}

static void handle_event(VhFakeKernel *k, const struct fanotify_event_metadata *md) {
        char proc[64], path[PATH_MAX];
        ssize_t n;

        if (md->vers != FANOTIFY_METADATA_VERSION)
                g_error("fake kernel: fanotify metadata version %u, built for %u", md->vers, FANOTIFY_METADATA_VERSION);
        if (md->mask & FAN_Q_OVERFLOW)
                g_error("fake kernel: fanotify queue overflow; writes were lost");
        if (md->fd < 0)
                return;

        if (md->mask & FAN_CLOSE_WRITE) {
                const Watch *w;

                g_snprintf(proc, sizeof(proc), "/proc/self/fd/%d", md->fd);
                n = readlink(proc, path, sizeof(path) - 1);
                if (n < 0)
                        g_error("fake kernel: readlink %s: %s", proc, g_strerror(errno));
                path[n] = 0;
                w = g_hash_table_lookup(k->watches, path);
                if (w)
                        handle_write(k, w, md->fd);
        }

        /* Every earlier event has been handled: let this open go on. */
        if (md->mask & FAN_OPEN_PERM) {
                struct fanotify_response resp = { .fd = md->fd, .response = FAN_ALLOW };

                if (write(k->fan_fd, &resp, sizeof(resp)) != sizeof(resp))
                        g_error("fake kernel: cannot answer a permission event: %s", g_strerror(errno));
        }
        close(md->fd);
}

/* ---------- thread ---------- */

static gpointer kernel_thread(gpointer data) {
        VhFakeKernel *k = data;
        /* fanotify_event_metadata is 8-byte aligned. */
        guint64 buf[4096 / sizeof(guint64)];

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = k->fan_fd, .events = POLLIN },
                        { .fd = k->stop_fd, .events = POLLIN },
                };
                int timeout = -1;

                g_mutex_lock(&k->lock);
                for (guint i = 0; i < k->deferred->len; i++) {
                        Deferred *def = k->deferred->pdata[i];
                        gint64 ms = (def->due - g_get_monotonic_time() + 999) / 1000;

                        ms = MAX(ms, 0);
                        if (timeout < 0 || ms < timeout)
                                timeout = (int) ms;
                }
                g_mutex_unlock(&k->lock);

                if (poll(p, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        g_error("fake kernel: poll: %s", g_strerror(errno));
                }
                if (p[1].revents)
                        break;

                g_mutex_lock(&k->lock);
                k->busy = TRUE;
                for (;;) {
                        const struct fanotify_event_metadata *md = (const void *) buf;
                        ssize_t len = read(k->fan_fd, buf, sizeof(buf));

                        if (len < 0 && (errno == EAGAIN || errno == EINTR))
                                break;
                        if (len < 0)
                                g_error("fake kernel: read fanotify: %s", g_strerror(errno));
                        for (; FAN_EVENT_OK(md, len); md = FAN_EVENT_NEXT(md, len))
                                handle_event(k, md);
                }
                run_deferred(k, FALSE);
                k->busy = FALSE;
                k->last_activity = g_get_monotonic_time();
                g_cond_broadcast(&k->cond);
                g_mutex_unlock(&k->lock);
        }
        return NULL;
}

/* ---------- setup ---------- */

static void add_watch(VhFakeKernel *k, const char *path, AttrKind kind, Dev *dev, const char *driver, char *name) {
        Watch *w;

        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
                g_free(name);
                return;
        }
        if (fanotify_mark(k->fan_fd, FAN_MARK_ADD, FAN_CLOSE_WRITE | FAN_OPEN_PERM, AT_FDCWD, path) < 0)
                g_error("fake kernel: fanotify_mark %s: %s", path, g_strerror(errno));
        w = g_new0(Watch, 1);
        w->kind = kind;
        w->dev = dev;
        w->driver = g_strdup(driver);
        w->name = name;
        g_hash_table_insert(k->watches, g_strdup(path), w);
}

static guint read_sriov_number(const Dev *d, const char *name, guint base) {
        g_autofree char *path = g_build_filename(d->dir, name, NULL);
        g_autofree char *content = read_plain(path);

        return (guint) g_ascii_strtoull(content, NULL, base);
}

static void read_sriov(Dev *d) {
        d->total_vfs = read_sriov_number(d, "sriov_totalvfs", 10);
        if (d->total_vfs == 0)
                return;
        d->num_vfs = read_sriov_number(d, "sriov_numvfs", 10);
        d->vf_offset = read_sriov_number(d, "sriov_offset", 10);
        d->vf_stride = read_sriov_number(d, "sriov_stride", 10);
        d->vf_device = read_sriov_number(d, "sriov_vf_device", 16);
        d->autoprobe = read_sriov_number(d, "sriov_drivers_autoprobe", 10) != 0;
}

static void scan_devices(VhFakeKernel *k) {
        g_autofree char *devices = g_build_filename(k->sys, "bus", "pci", "devices", NULL);
        g_autofree char *sys_prefix = g_strconcat(k->sys, "/", NULL);
        g_autoptr(GError) error = NULL;
        GDir *dir = g_dir_open(devices, 0, &error);
        GHashTableIter it;
        gpointer value;
        const char *name;

        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *entry = g_build_filename(devices, name, NULL);
                g_autofree char *file = NULL, *content = NULL, *group = NULL;
                char *real = realpath(entry, NULL);
                Dev *d;

                if (!real)
                        g_error("fake kernel: %s does not resolve", entry);
                if (!g_str_has_prefix(real, sys_prefix))
                        g_error("fake kernel: %s resolves outside the tree's sys/: %s", entry, real);

                d = g_new0(Dev, 1);
                d->address = g_strdup(name);
                d->dir = g_strdup(real);
                d->sys_rel = g_strdup(real + strlen(sys_prefix));
                free(real);

                d->natural = dev_driver(d);
                /* vfio-pci has no id table, and its variants' entries match
                 * only through an override: never the natural driver. */
                if (is_vfio_driver(k, d->natural))
                        g_clear_pointer(&d->natural, g_free);

                file = g_build_filename(d->dir, "iommu_group", NULL);
                group = read_link_name(file);
                d->group = group ? atoi(group) : -1;
                g_free(file);

                /* Read before the marks exist: this thread never opens a watched file. */
                file = g_build_filename(d->dir, "driver_override", NULL);
                if (g_file_get_contents(file, &content, NULL, NULL)) {
                        g_strchomp(content);
                        if (*content && strcmp(content, "(null)") != 0)
                                d->override = g_strdup(content);
                }
                read_sriov(d);
                g_hash_table_insert(k->devs, d->address, d);
        }
        g_dir_close(dir);

        /* A PF's VFs come up on the driver its first VF has now. */
        g_hash_table_iter_init(&it, k->devs);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Dev *pf = value, *vf;
                g_autofree char *link = NULL, *vf_address = NULL;

                if (pf->total_vfs == 0)
                        continue;
                link = g_build_filename(pf->dir, "virtfn0", NULL);
                vf_address = read_link_name(link);
                vf = vf_address ? g_hash_table_lookup(k->devs, vf_address) : NULL;
                if (vf)
                        pf->vf_natural = g_strdup(vf->natural);
        }
}

static void add_watches(VhFakeKernel *k) {
        GHashTableIter it;
        gpointer value;
        g_autoptr(GError) error = NULL;
        GDir *dir;
        const char *name;

        g_hash_table_iter_init(&it, k->devs);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Dev *d = value;
                g_autofree char *file = g_build_filename(d->dir, "driver_override", NULL);

                add_watch(k, file, ATTR_OVERRIDE, d, NULL, g_strdup_printf("devices/%s/driver_override", d->address));
                if (d->total_vfs > 0) {
                        g_autofree char *numvfs = g_build_filename(d->dir, "sriov_numvfs", NULL);
                        g_autofree char *autoprobe = g_build_filename(d->dir, "sriov_drivers_autoprobe", NULL);

                        add_watch(k, numvfs, ATTR_NUMVFS, d, NULL, g_strdup_printf("devices/%s/sriov_numvfs", d->address));
                        add_watch(k, autoprobe, ATTR_AUTOPROBE, d, NULL,
                                  g_strdup_printf("devices/%s/sriov_drivers_autoprobe", d->address));
                }
        }

        dir = g_dir_open(k->drivers, 0, &error);
        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *bind = g_build_filename(k->drivers, name, "bind", NULL);
                g_autofree char *unbind = g_build_filename(k->drivers, name, "unbind", NULL);

                add_watch(k, bind, ATTR_BIND, NULL, name, g_strdup_printf("drivers/%s/bind", name));
                add_watch(k, unbind, ATTR_UNBIND, NULL, name, g_strdup_printf("drivers/%s/unbind", name));
        }
        g_dir_close(dir);

        {
                g_autofree char *probe = g_build_filename(k->sys, "bus", "pci", "drivers_probe", NULL);
                add_watch(k, probe, ATTR_PROBE, NULL, NULL, g_strdup("drivers_probe"));
        }
}

VhFakeKernel *vh_fake_kernel_new(const char *root) {
        VhFakeKernel *k;
        char *real;
        int fd;

        /* Safety first: never the real /sys. */
        real = realpath(root, NULL);
        if (!real || strcmp(real, "/") == 0 || !vh_test_is_temp_dir(real))
                g_error("fake kernel: refusing root %s: not a test directory below TMPDIR", root);

        fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                g_autofree char *msg = g_strdup_printf("fanotify_init: %s: the fake kernel needs fanotify "
                                                       "permission events (CAP_SYS_ADMIN)", g_strerror(errno));
                free(real);
                g_test_skip(msg);
                return NULL;
        }

        k = g_new0(VhFakeKernel, 1);
        k->root = g_strdup(real);
        free(real);
        k->sys = g_build_filename(k->root, "sys", NULL);
        k->drivers = g_build_filename(k->sys, "bus", "pci", "drivers", NULL);
        k->fan_fd = fd;
        k->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        g_assert_cmpint(k->stop_fd, >=, 0);
        g_mutex_init(&k->lock);
        g_cond_init(&k->cond);
        k->devs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dev_free);
        k->watches = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, watch_free);
        k->log = g_ptr_array_new_with_free_func(g_free);
        k->deferred = g_ptr_array_new_with_free_func(deferred_free);
        k->last_activity = g_get_monotonic_time();

        g_assert_true(is_dir(k->drivers));
        scan_devices(k);
        add_watches(k);

        k->thread = g_thread_new("vh-fake-kernel", kernel_thread, k);
        return k;
}

void vh_fake_kernel_free(VhFakeKernel *k) {
        guint64 one = 1;

        if (!k)
                return;
        if (write(k->stop_fd, &one, sizeof(one)) != sizeof(one))
                g_error("fake kernel: cannot stop the thread: %s", g_strerror(errno));
        g_thread_join(k->thread);
        /* Closing the group allows every pending permission event and
         * removes the marks. */
        close(k->fan_fd);
        close(k->stop_fd);
        g_hash_table_unref(k->watches);
        g_hash_table_unref(k->devs);
        g_ptr_array_unref(k->log);
        g_ptr_array_unref(k->deferred);
        g_mutex_clear(&k->lock);
        g_cond_clear(&k->cond);
        g_free(k->root);
        g_free(k->sys);
        g_free(k->drivers);
        g_free(k);
}

/* ---------- test API ---------- */

static gboolean queue_empty(VhFakeKernel *k) {
        struct pollfd p = { .fd = k->fan_fd, .events = POLLIN };

        return poll(&p, 1, 0) == 0;
}

gboolean vh_fake_kernel_wait_idle(VhFakeKernel *k, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * vh_test_timeout_multiplier() * G_USEC_PER_SEC);
        gboolean idle = FALSE;

        g_mutex_lock(&k->lock);
        for (;;) {
                gint64 now = g_get_monotonic_time();

                if (!k->busy && k->deferred->len == 0 && queue_empty(k) && now - k->last_activity >= QUIET_USEC) {
                        idle = TRUE;
                        break;
                }
                if (now > deadline)
                        break;
                g_cond_wait_until(&k->cond, &k->lock, MIN(deadline, now + QUIET_USEC / 2));
        }
        g_mutex_unlock(&k->lock);
        return idle;
}

guint vh_fake_kernel_n_writes(VhFakeKernel *k) {
        guint n;

        g_mutex_lock(&k->lock);
        n = k->n_writes;
        g_mutex_unlock(&k->lock);
        return n;
}

void vh_fake_kernel_reset(VhFakeKernel *k) {
        g_mutex_lock(&k->lock);
        k->n_writes = 0;
        g_ptr_array_set_size(k->log, 0);
        g_mutex_unlock(&k->lock);
}

static char **log_lines(VhFakeKernel *k, const char *prefix) {
        GPtrArray *a = g_ptr_array_new();

        g_mutex_lock(&k->lock);
        for (guint i = 0; i < k->log->len; i++) {
                const char *line = k->log->pdata[i];

                if (!prefix)
                        g_ptr_array_add(a, g_strdup(line));
                else if (g_str_has_prefix(line, prefix))
                        g_ptr_array_add(a, g_strdup(line + strlen(prefix)));
        }
        g_mutex_unlock(&k->lock);
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

char **vh_fake_kernel_log(VhFakeKernel *k) {
        return log_lines(k, NULL);
}

char **vh_fake_kernel_writes(VhFakeKernel *k) {
        return log_lines(k, "W ");
}

gboolean vh_fake_kernel_wait_for(VhFakeKernel *k, const char *line, double timeout_s) {
        gint64 deadline = g_get_monotonic_time() + (gint64) (timeout_s * vh_test_timeout_multiplier() * G_USEC_PER_SEC);
        gboolean found = FALSE;

        g_mutex_lock(&k->lock);
        for (;;) {
                for (guint i = 0; i < k->log->len && !found; i++)
                        found = strcmp(k->log->pdata[i], line) == 0;
                if (found || g_get_monotonic_time() > deadline)
                        break;
                g_cond_wait_until(&k->cond, &k->lock, deadline);
        }
        g_mutex_unlock(&k->lock);
        return found;
}

static Dev *knob_dev(VhFakeKernel *k, const char *address) {
        Dev *d = g_hash_table_lookup(k->devs, address);

        if (!d)
                g_error("fake kernel: no device %s in %s", address, k->root);
        return d;
}

void vh_fake_kernel_set_natural_driver(VhFakeKernel *k, const char *address, const char *driver) {
        g_mutex_lock(&k->lock);
        {
                Dev *d = knob_dev(k, address);
                g_free(d->natural);
                d->natural = g_strdup(driver);
        }
        g_mutex_unlock(&k->lock);
}

void vh_fake_kernel_set_probe_refuses(VhFakeKernel *k, const char *address, gboolean refuses) {
        g_mutex_lock(&k->lock);
        knob_dev(k, address)->probe_refuses = refuses;
        g_mutex_unlock(&k->lock);
}

void vh_fake_kernel_set_vfio_refuses(VhFakeKernel *k, const char *address, gboolean refuses) {
        g_mutex_lock(&k->lock);
        knob_dev(k, address)->vfio_refuses = refuses;
        g_mutex_unlock(&k->lock);
}

void vh_fake_kernel_set_sriov_unsupported(VhFakeKernel *k, const char *pf, gboolean unsupported) {
        g_mutex_lock(&k->lock);
        knob_dev(k, pf)->sriov_unsupported = unsupported;
        g_mutex_unlock(&k->lock);
}

void vh_fake_kernel_set_vf_driver(VhFakeKernel *k, const char *pf, const char *driver) {
        g_mutex_lock(&k->lock);
        {
                Dev *d = knob_dev(k, pf);
                g_free(d->vf_natural);
                d->vf_natural = g_strdup(driver);
        }
        g_mutex_unlock(&k->lock);
}

void vh_fake_kernel_set_probe_delay(VhFakeKernel *k, const char *address, double seconds) {
        g_mutex_lock(&k->lock);
        knob_dev(k, address)->probe_delay_usec = (gint64) (seconds * G_USEC_PER_SEC);
        g_mutex_unlock(&k->lock);
}

/* ---------- tree snapshots ---------- */

static void snapshot_dir(GHashTable *t, const char *root, const char *rel) {
        g_autofree char *path = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
        g_autoptr(GError) error = NULL;
        GDir *dir = g_dir_open(path, 0, &error);
        const char *name;

        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *child_rel = rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
                g_autofree char *child = g_build_filename(root, child_rel, NULL);
                GStatBuf st;

                g_assert_cmpint(g_lstat(child, &st), ==, 0);
                if (S_ISLNK(st.st_mode)) {
                        g_autofree char *target = g_file_read_link(child, NULL);
                        g_hash_table_insert(t, g_strdup(child_rel), g_strdup_printf("l %s", target));
                } else if (S_ISDIR(st.st_mode)) {
                        g_hash_table_insert(t, g_strdup(child_rel), g_strdup("d"));
                        snapshot_dir(t, root, child_rel);
                } else if (S_ISREG(st.st_mode)) {
                        g_autofree char *content = NULL, *escaped = NULL;
                        gsize len = 0;

                        g_file_get_contents(child, &content, &len, &error);
                        g_assert_no_error(error);
                        /* Binary files (config) hold NULs: escape byte by byte. */
                        {
                                GString *s = g_string_new("f ");
                                for (gsize i = 0; i < len; i++) {
                                        guchar c = (guchar) content[i];
                                        if (c >= 0x20 && c < 0x7f && c != '\\')
                                                g_string_append_c(s, (char) c);
                                        else
                                                g_string_append_printf(s, "\\x%02x", c);
                                }
                                g_hash_table_insert(t, g_strdup(child_rel), g_string_free(s, FALSE));
                        }
                } else
                        g_hash_table_insert(t, g_strdup(child_rel), g_strdup_printf("? mode %o", st.st_mode));
        }
        g_dir_close(dir);
}

GHashTable *vh_test_tree_snapshot(const char *root) {
        GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        snapshot_dir(t, root, NULL);
        return t;
}

static gboolean ignored(const char *path, const char *const *prefixes) {
        for (size_t i = 0; prefixes && prefixes[i]; i++)
                if (g_str_has_prefix(path, prefixes[i]))
                        return TRUE;
        return FALSE;
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *vh_test_tree_diff(GHashTable *before, GHashTable *after, const char *const *ignore_prefixes) {
        g_autoptr(GPtrArray) keys = g_ptr_array_new();
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        GString *out = g_string_new(NULL);
        GHashTable *tables[2] = { before, after };

        for (size_t i = 0; i < 2; i++) {
                GHashTableIter it;
                gpointer key;

                g_hash_table_iter_init(&it, tables[i]);
                while (g_hash_table_iter_next(&it, &key, NULL))
                        if (g_hash_table_add(seen, key))
                                g_ptr_array_add(keys, key);
        }
        g_ptr_array_sort(keys, compare_strings);

        for (guint i = 0; i < keys->len; i++) {
                const char *path = keys->pdata[i];
                const char *a = g_hash_table_lookup(before, path), *b = g_hash_table_lookup(after, path);

                if (g_strcmp0(a, b) == 0 || ignored(path, ignore_prefixes))
                        continue;
                g_string_append_printf(out, "  %s: %.120s  =>  %.120s\n", path, a ? a : "(absent)", b ? b : "(absent)");
        }
        if (out->len == 0) {
                g_string_free(out, TRUE);
                return NULL;
        }
        return g_string_free(out, FALSE);
}
