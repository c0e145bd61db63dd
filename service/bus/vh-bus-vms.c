/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Keeps the holders' list current (docs/vms.md, "On the bus"): the list
 * is the last full scan; events only say when to scan again, so a missed
 * detail of an event costs nothing but its latency. The diff of two scans
 * becomes the signals; the objects are in vh-bus-vm-objects.c. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vh-bus-objects.h"
#include "vh-bus-vms-private.h"
#include "vh-bus-vms.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

/* Long enough to take a VM's start (kvm, container, groups, devices
 * opened within milliseconds) or a burst of exits as one scan; short
 * enough that a client sees a VM at once. */
#define RESCAN_USEC (50ULL * 1000)
#define RESCAN_ACCURACY_USEC (1ULL * 1000)

#define NODE_EVENTS (IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_DONT_FOLLOW)
#define DIR_EVENTS (IN_CREATE | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW)
#define PROC_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* ---------- the diff of two scans ---------- */

/* The same object on the bus: same process (a reused pid starts at
 * another time) and the same interface. */
static bool same_object(const VhVm *a, const VhVm *b) {
        return a->pid == b->pid && a->start_time_usec == b->start_time_usec && a->is_vm == b->is_vm;
}

static bool same_groups(const VhVm *a, const VhVm *b) {
        return a->n_groups == b->n_groups && (a->n_groups == 0 || memcmp(a->groups, b->groups, a->n_groups * sizeof(unsigned)) == 0);
}

static bool same_holdings(const VhVm *a, const VhVm *b) {
        return same_object(a, b) && vh_strv_equal(a->devices, b->devices) && same_groups(a, b);
}

static const VhVm *find_in(const VhVm *vms, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (vms[i].pid == pid)
                        return &vms[i];
        return NULL;
}

typedef struct Touched {
        char **addresses;
        unsigned *groups;
        size_t n_groups;
} Touched;

static void touched_done(Touched *x) {
        x->addresses = vh_strv_free(x->addresses);
        free(x->groups);
        x->groups = NULL;
        x->n_groups = 0;
}

static int touch_group(Touched *x, unsigned g) {
        unsigned *n;

        for (size_t i = 0; i < x->n_groups; i++)
                if (x->groups[i] == g)
                        return 0;
        n = reallocarray(x->groups, x->n_groups + 1, sizeof(unsigned));
        if (!n)
                return -ENOMEM;
        x->groups = n;
        x->groups[x->n_groups++] = g;
        return 0;
}

static int touch_address(Touched *x, const char *a) {
        return vh_strv_contains(x->addresses, a) ? 0 : vh_strv_extend(&x->addresses, a);
}

/* What a holder that came, went or changed what it holds may change the
 * HeldBy of: its devices, its groups, their members and groups. */
static int touch_holdings(const VhHost *host, Touched *x, const VhVm *v) {
        int r;

        STRV_FOREACH(a, v->devices) {
                const VhPciDevice *dev = vh_host_find_device(host, *a);

                r = touch_address(x, *a);
                if (r >= 0 && dev && dev->iommu_group >= 0)
                        r = touch_group(x, (unsigned) dev->iommu_group);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < v->n_groups; i++) {
                const VhIommuGroup *g = vh_host_find_group(host, v->groups[i]);

                r = touch_group(x, v->groups[i]);
                if (r < 0)
                        return r;
                STRV_FOREACH(m, g ? g->members : NULL)
                        if ((r = touch_address(x, *m)) < 0)
                                return r;
        }
        return 0;
}

static void emit_object(VhDaemon *d, const VhVm *v, bool added) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = vh_bus_holder_path(v, &path);
        if (r >= 0)
                r = added ? sd_bus_emit_object_added(d->bus, path) : sd_bus_emit_object_removed(d->bus, path);
        if (r < 0)
                log_debug_errno(r, "Cannot announce pid %d: %m", (int) v->pid);
}

static void emit_holder_changes(VhDaemon *d, const VhVm *o, const VhVm *n) {
        _cleanup_strv_free_ char **changed = NULL;
        _cleanup_free_ char *path = NULL;
        int r = 0;

        changed = calloc(1, sizeof(char *));
        if (!changed)
                return;
        /* machined's name, when there is one, is the same pid's in both. */
        if (n->is_vm && !vh_bus_machined_name(d->vms->machined, n) && !vh_streq_null(o->name ?: o->comm, n->name ?: n->comm))
                r = vh_strv_extend(&changed, "Name");
        if (r >= 0 && !n->is_vm && !vh_streq_null(o->comm, n->comm))
                r = vh_strv_extend(&changed, "Command");
        if (r >= 0 && n->is_vm && !vh_streq_null(o->vmm, n->vmm))
                r = vh_strv_extend(&changed, "Vmm");
        if (r >= 0 && n->is_vm && o->vcpus != n->vcpus)
                r = vh_strv_extend(&changed, "Vcpus");
        if (r >= 0 && !vh_strv_equal(o->devices, n->devices))
                r = vh_strv_extend(&changed, "Devices");
        if (r >= 0 && !same_groups(o, n))
                r = vh_strv_extend(&changed, "Groups");
        if (r >= 0 && changed[0])
                r = vh_bus_holder_path(n, &path);
        if (r >= 0 && path)
                r = sd_bus_emit_properties_changed_strv(d->bus, path, n->is_vm ? VH_VM_INTERFACE : VH_PROCESS_INTERFACE,
                                                        changed);
        if (r < 0)
                log_debug_errno(r, "Cannot emit the changes of pid %d: %m", (int) n->pid);
}

/* The HeldBy lists of the touched objects, in Touched's order: the
 * addresses, then the groups. */
static int held_by_all(const VhHost *host, const VhVm *vms, size_t n, const Touched *x, char ****ret) {
        size_t n_addresses = vh_strv_length(x->addresses), k = 0;
        char ***l;
        int r;

        l = calloc(n_addresses + x->n_groups + 1, sizeof(char **));
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(a, x->addresses)
                if ((r = vh_bus_held_by(host, vms, n, *a, 0, &l[k++])) < 0)
                        goto fail;
        for (size_t i = 0; i < x->n_groups; i++)
                if ((r = vh_bus_held_by(host, vms, n, NULL, x->groups[i], &l[k++])) < 0)
                        goto fail;
        *ret = l;
        return 0;
fail:
        for (size_t i = 0; i < k; i++)
                vh_strv_free(l[i]);
        free(l);
        return r;
}

static void held_by_free(char ***l) {
        for (size_t i = 0; l && l[i]; i++)
                vh_strv_free(l[i]);
        free(l);
}

static void emit_held_by(VhDaemon *d, const Touched *x, char ***before, char ***after) {
        size_t n_addresses = vh_strv_length(x->addresses);

        for (size_t i = 0; i < n_addresses + x->n_groups; i++) {
                _cleanup_free_ char *path = NULL;
                bool device = i < n_addresses;
                int r;

                if (vh_strv_equal(before[i], after[i]))
                        continue;
                if (device) {
                        if (!vh_host_find_device(d->host, x->addresses[i]))
                                continue;
                        r = vh_bus_device_path(x->addresses[i], &path);
                } else {
                        if (!vh_host_find_group(d->host, x->groups[i - n_addresses]))
                                continue;
                        r = vh_bus_group_path(x->groups[i - n_addresses], &path);
                }
                if (r >= 0)
                        r = sd_bus_emit_properties_changed(d->bus, path, device ? VH_DEVICE_INTERFACE : VH_GROUP_INTERFACE,
                                                           "HeldBy", NULL);
                if (r < 0)
                        log_debug_errno(r, "Cannot emit HeldBy of %s: %m", strempty(path));
        }
}

/* Takes new as the list and emits every difference from the old one:
 * objects that went are announced while they still resolve. */
static int swap_and_emit(VhBusVms *t, VhVm *new, size_t n_new) {
        VhDaemon *d = t->daemon;
        VhVm *old = t->vms;
        size_t n_old = t->n_vms;
        Touched x = {};
        char ***before = NULL, ***after = NULL;
        int r = 0;

        if (!d->bus) {
                t->vms = new;
                t->n_vms = n_new;
                vh_vms_free(old, n_old);
                return 0;
        }

        for (size_t i = 0; r >= 0 && i < n_old; i++) {
                const VhVm *n = find_in(new, n_new, old[i].pid);

                if (!n || !same_holdings(&old[i], n))
                        r = touch_holdings(d->host, &x, &old[i]);
        }
        for (size_t i = 0; r >= 0 && i < n_new; i++) {
                const VhVm *o = find_in(old, n_old, new[i].pid);

                if (!o || !same_holdings(o, &new[i]))
                        r = touch_holdings(d->host, &x, &new[i]);
        }
        if (r >= 0)
                r = held_by_all(d->host, old, n_old, &x, &before);
        if (r < 0)
                log_debug_errno(r, "Cannot tell whose HeldBy changed: %m");

        for (size_t i = 0; i < n_old; i++) {
                const VhVm *n = find_in(new, n_new, old[i].pid);

                if (!n || !same_object(&old[i], n))
                        emit_object(d, &old[i], false);
        }

        t->vms = new;
        t->n_vms = n_new;

        for (size_t i = 0; i < n_new; i++) {
                const VhVm *o = find_in(old, n_old, new[i].pid);

                if (!o || !same_object(o, &new[i]))
                        emit_object(d, &new[i], true);
                else
                        emit_holder_changes(d, o, &new[i]);
        }

        if (before && held_by_all(d->host, new, n_new, &x, &after) >= 0)
                emit_held_by(d, &x, before, after);

        held_by_free(before);
        held_by_free(after);
        touched_done(&x);
        vh_vms_free(old, n_old);
        return 0;
}

/* ---------- events ---------- */

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void arm_rescan(VhBusVms *t);

/* Host root only: a pidfd per holder, none for those gone. Never on a
 * fixture root, whose pids may be anyone's on this machine. */
static void sync_pidfds(VhBusVms *t) {
        VhDaemon *d = t->daemon;
        size_t k = 0;

        if (!vh_hostfs_is_host_root(d->fs))
                return;
        for (size_t i = 0; i < t->n_pidfds; i++) {
                if (vh_bus_vms_find(t, t->pidfds[i].pid))
                        t->pidfds[k++] = t->pidfds[i];
                else
                        sd_event_source_disable_unref(t->pidfds[i].source);
        }
        t->n_pidfds = k;

        for (size_t i = 0; i < t->n_vms; i++) {
                VhBusPidfd *n;
                bool known = false;
                int fd, r;

                for (size_t j = 0; j < t->n_pidfds && !known; j++)
                        known = t->pidfds[j].pid == t->vms[i].pid;
                if (known)
                        continue;

                fd = (int) syscall(SYS_pidfd_open, t->vms[i].pid, 0);
                if (fd < 0) {
                        if (errno == ESRCH)
                                arm_rescan(t);  /* gone already */
                        else
                                log_debug_errno(errno, "Cannot watch pid %d for its exit: %m", (int) t->vms[i].pid);
                        continue;
                }
                n = reallocarray(t->pidfds, t->n_pidfds + 1, sizeof(VhBusPidfd));
                if (!n) {
                        close(fd);
                        return;
                }
                t->pidfds = n;
                n = &t->pidfds[t->n_pidfds];
                n->pid = t->vms[i].pid;
                r = sd_event_add_io(d->event, &n->source, fd, EPOLLIN, on_pidfd, t);
                if (r < 0) {
                        close(fd);
                        log_debug_errno(r, "Cannot watch pid %d for its exit: %m", (int) t->vms[i].pid);
                        continue;
                }
                (void) sd_event_source_set_io_fd_own(n->source, true);
                t->n_pidfds++;
        }
}

static int rescan(VhBusVms *t) {
        VhVm *new = NULL;
        size_t n_new = 0;
        uint64_t start = now_usec();
        int r;

        r = vh_vms_scan(t->daemon->fs, &new, &n_new);
        if (r < 0)
                return log_warning_errno(r, "Cannot scan for VMs and VFIO holders: %m");
        t->n_scans++;
        log_debug("Scan %" PRIu64 " of VMs and VFIO holders (%" PRIu64 " events so far): %zu found, %.2f ms.",
                  t->n_scans, t->n_events, n_new, (double) (now_usec() - start) / 1000.0);
        r = swap_and_emit(t, new, n_new);
        sync_pidfds(t);
        vh_bus_machined_sync(t->machined, t->vms, t->n_vms);
        return r;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) rescan(userdata);
        return 0;
}

static void arm_rescan(VhBusVms *t) {
        int r;

        t->n_events++;
        /* The first event of a burst arms the timer, later ones ride on
         * it: a bounded delay that a steady stream cannot postpone. */
        if (!t->rescan_timer || sd_event_source_get_enabled(t->rescan_timer, NULL) > 0)
                return;
        r = sd_event_source_set_time_relative(t->rescan_timer, RESCAN_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(t->rescan_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Cannot arm the VM rescan timer: %m");
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        /* Exited: the next scan drops it, and its pidfd with it. */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        arm_rescan(userdata);
        return 0;
}

/* relative, or name in it (name NULL: relative itself). A node that is
 * not there is no error: it may come later. */
static void watch(VhBusVms *t, uint32_t mask, int *ret_wd, const char *relative, const char *name) {
        _cleanup_free_ char *path = NULL;
        int wd;

        path = vh_hostfs_path(t->daemon->fs, relative, name, NULL);
        if (!path)
                return;
        wd = inotify_add_watch(t->inotify_fd, path, mask);
        if (wd < 0 && errno != ENOENT)
                log_debug_errno(errno, "Cannot watch %s: %m", path);
        if (ret_wd)
                *ret_wd = wd;
}

/* Every node there is now; adding a watch again is harmless (the same
 * inode gives the same descriptor). */
static void watch_nodes(VhBusVms *t) {
        _cleanup_strv_free_ char **groups = NULL, **devices = NULL;
        const VhHostFs *fs = t->daemon->fs;

        watch(t, DIR_EVENTS, &t->dev_wd, VH_DEV, NULL);
        watch(t, NODE_EVENTS, NULL, VH_DEV_KVM, NULL);
        watch(t, NODE_EVENTS, NULL, VH_DEV_IOMMU, NULL);
        watch(t, DIR_EVENTS, &t->dir_wds[0], VH_DEV_VFIO, NULL);
        watch(t, DIR_EVENTS, &t->dir_wds[1], VH_DEV_VFIO_DEVICES, NULL);
        if (vh_hostfs_list_dir(fs, &groups, VH_DEV_VFIO, NULL) >= 0)
                STRV_FOREACH(g, groups)
                        /* the groups and the container; devices/ is a directory */
                        if (strcmp(*g, "devices") != 0)
                                watch(t, NODE_EVENTS, NULL, VH_DEV_VFIO, *g);
        if (vh_hostfs_list_dir(fs, &devices, VH_DEV_VFIO_DEVICES, NULL) >= 0)
                STRV_FOREACH(v, devices)
                        watch(t, NODE_EVENTS, NULL, VH_DEV_VFIO_DEVICES, *v);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        VhBusVms *t = userdata;
        bool rewatch = false, any = false;
        union {
                struct inotify_event ev;
                char buf[4096];
        } u;

        for (;;) {
                ssize_t n = read(fd, u.buf, sizeof(u.buf));

                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_debug_errno(errno, "Cannot read inotify events: %m");
                        break;
                }
                if (n == 0)
                        break;
                for (char *p = u.buf; p < u.buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;

                        p += sizeof(struct inotify_event) + e->len;
                        if (e->mask & IN_Q_OVERFLOW)
                                rewatch = true;
                        /* dev itself: every node the host creates; only
                         * ours count (vfio loaded after the daemon started). */
                        if (e->wd == t->dev_wd) {
                                if (e->len > 0 && (strcmp(e->name, "vfio") == 0 || strcmp(e->name, "kvm") == 0 ||
                                                   strcmp(e->name, "iommu") == 0))
                                        rewatch = true;
                                continue;
                        }
                        if ((e->wd == t->dir_wds[0] || e->wd == t->dir_wds[1]) && (e->mask & IN_CREATE))
                                rewatch = true;
                        /* A watch's end (a node removed) is no event of its own. */
                        if (!(e->mask & IN_IGNORED))
                                any = true;
                }
        }
        if (rewatch)
                watch_nodes(t);
        if (any || rewatch)
                arm_rescan(t);
        return 0;
}

int vh_bus_vms_setup(VhDaemon *d) {
        VhBusVms *t;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return log_oom();
        t->daemon = d;
        t->inotify_fd = -1;
        t->dir_wds[0] = t->dir_wds[1] = t->dev_wd = -1;
        d->vms = t;

        r = sd_event_add_time_relative(d->event, &t->rescan_timer, CLOCK_MONOTONIC, RESCAN_USEC,
                                       RESCAN_ACCURACY_USEC, on_rescan, t);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the VM rescan timer: %m");
        (void) sd_event_source_set_enabled(t->rescan_timer, SD_EVENT_OFF);

        /* Watches first, then the seed scan: a change in between is an event. */
        t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->inotify_fd < 0)
                log_warning_errno(errno, "Cannot watch the KVM and VFIO nodes, VMs are seen at start only: %m");
        else {
                watch_nodes(t);
                /* procfs sends no inotify events; a fixture's proc is a
                 * plain directory whose pids are fake (never pidfd_open
                 * them): its entries coming and going are the exits. */
                if (!vh_hostfs_is_host_root(d->fs))
                        watch(t, PROC_EVENTS, NULL, VH_PROC, NULL);
                r = sd_event_add_io(d->event, &t->inotify_source, t->inotify_fd, EPOLLIN, on_inotify, t);
                if (r < 0)
                        return log_error_errno(r, "Cannot watch the inotify descriptor: %m");
        }

        t->machined = vh_bus_machined_new(t);
        (void) rescan(t);
        return 0;
}

void vh_bus_vms_free(VhDaemon *d) {
        VhBusVms *t = d->vms;

        if (!t)
                return;
        for (size_t i = 0; i < t->n_pidfds; i++)
                sd_event_source_disable_unref(t->pidfds[i].source);
        free(t->pidfds);
        vh_bus_machined_free(t->machined);
        sd_event_source_disable_unref(t->inotify_source);
        sd_event_source_disable_unref(t->rescan_timer);
        if (t->inotify_fd >= 0)
                close(t->inotify_fd);
        vh_vms_free(t->vms, t->n_vms);
        free(t);
        d->vms = NULL;
}

int vh_bus_vms_machined_names(const VhDaemon *d, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        *ret = NULL;
        if (!d->vms)
                return 0;
        for (size_t i = 0; i < d->vms->n_vms; i++) {
                const VhVm *v = &d->vms->vms[i];
                const char *name = v->is_vm ? vh_bus_machined_name(d->vms->machined, v) : NULL;
                char pid[16];

                if (!name)
                        continue;
                snprintf(pid, sizeof(pid), "%d", (int) v->pid);
                if (vh_strv_extend(&l, pid) < 0 || vh_strv_extend(&l, name) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

uint64_t vh_bus_vms_scans(const VhDaemon *d) {
        return d->vms ? d->vms->n_scans : 0;
}
