/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libudev.h>

#include "vh-log.h"
#include "vh-macro.h"
#include "vh-udev-monitor.h"

/* At most this many events per drain: a burst (1,024 VFs) is read in a few
 * rounds and the loop stays responsive in between. */
#define DRAIN_MAX 4096

struct VhUdevMonitor {
        struct udev *udev;
        struct udev_monitor *monitor;
};

static const char *const action_names[] = {
        [VH_UEVENT_ADD] = "add",     [VH_UEVENT_REMOVE] = "remove", [VH_UEVENT_CHANGE] = "change",
        [VH_UEVENT_MOVE] = "move",   [VH_UEVENT_BIND] = "bind",     [VH_UEVENT_UNBIND] = "unbind",
        [VH_UEVENT_OTHER] = "other",
};

const char *vh_uevent_action_to_string(VhUeventAction a) {
        return a < ELEMENTSOF(action_names) ? action_names[a] : "other";
}

VhUeventAction vh_uevent_action_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(action_names); i++)
                if (i != VH_UEVENT_OTHER && strcmp(s, action_names[i]) == 0)
                        return (VhUeventAction) i;
        return VH_UEVENT_OTHER;
}

int vh_udev_monitor_new(size_t buffer_size, VhUdevMonitor **ret) {
        _cleanup_(vh_udev_monitor_freep) VhUdevMonitor *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->udev = udev_new();
        if (!m->udev)
                return -errno ?: -ENOMEM;
        /* "udev", not "kernel": events after udevd applied its rules, as
         * every other consumer sees them. */
        m->monitor = udev_monitor_new_from_netlink(m->udev, "udev");
        if (!m->monitor)
                return -errno ?: -ENOMEM;
        r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "pci", NULL);
        if (r >= 0)
                r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "module", NULL);
        if (r < 0)
                return r;
        /* Tries SO_RCVBUFFORCE, then SO_RCVBUF (clamped to rmem_max). */
        r = udev_monitor_set_receive_buffer_size(m->monitor, buffer_size > INT32_MAX ? INT32_MAX : (int) buffer_size);
        if (r < 0)
                log_warning_errno(r, "Cannot enlarge the udev monitor's receive buffer: %m");
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

VhUdevMonitor *vh_udev_monitor_free(VhUdevMonitor *m) {
        if (!m)
                return NULL;
        udev_monitor_unref(m->monitor);
        udev_unref(m->udev);
        free(m);
        return NULL;
}

int vh_udev_monitor_get_fd(const VhUdevMonitor *m) {
        return udev_monitor_get_fd(m->monitor);
}

int vh_udev_monitor_get_buffer_size(const VhUdevMonitor *m) {
        int size = 0;
        socklen_t len = sizeof(size);

        if (getsockopt(vh_udev_monitor_get_fd(m), SOL_SOCKET, SO_RCVBUF, &size, &len) < 0)
                return -errno;
        return size;
}

int vh_udev_monitor_receive(void *source, VhUevent *ev) {
        VhUdevMonitor *m = source;
        struct udev_device *dev;
        const char *subsystem, *sysname;

        errno = 0;
        dev = udev_monitor_receive_device(m->monitor);
        if (!dev) {
                /* libudev returns NULL for "nothing pending" and for a
                 * message it drops (bad credentials, filtered): both end
                 * this round; a real error has errno. */
                if (errno == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                        return 0;
                return -errno;
        }

        memset(ev, 0, sizeof(*ev));
        subsystem = udev_device_get_subsystem(dev);
        sysname = udev_device_get_sysname(dev);
        /* The kernel filter is a hint (a BPF on a hash): check again. */
        if (subsystem && strcmp(subsystem, "pci") == 0 && sysname &&
            vh_address_normalize(sysname, ev->address) >= 0)
                ev->action = vh_uevent_action_from_string(udev_device_get_action(dev));
        else if (subsystem && strcmp(subsystem, "module") == 0 && sysname && strncmp(sysname, "vfio", 4) == 0 &&
                 strlen(sysname) < sizeof(ev->module)) {
                /* vfio_pci coming or going changes VfioAvailable. */
                strcpy(ev->module, sysname);
                ev->action = vh_uevent_action_from_string(udev_device_get_action(dev));
        }
        udev_device_unref(dev);
        return 1;
}

int vh_uevents_drain(VhUeventReceive receive, void *source, VhUeventHandler handler, void *userdata,
                     bool *ret_overflowed) {
        int n = 0;

        for (unsigned i = 0; i < DRAIN_MAX; i++) {
                VhUevent ev;
                int r = receive(source, &ev);

                if (r == 0)
                        break;
                if (r == -ENOBUFS) {
                        /* The kernel dropped events for us: the reader
                         * goes on, the caller rescans (libvirt's monitor
                         * thread died here and never saw a change again). */
                        *ret_overflowed = true;
                        continue;
                }
                if (r < 0)
                        return r;
                if (!ev.address[0] && !ev.module[0])
                        continue;
                handler(&ev, userdata);
                n++;
        }
        return n;
}
