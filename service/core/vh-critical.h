/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "vh-hostfs.h"
#include "vh-pci.h"

/* Whether the host itself needs a function: taking it away would unmount a
 * filesystem, cut the default route or blank the console. Such binds are
 * refused unless forced (PVE-Tools/PVE-Tools-9#98, siderolabs/talos#14356).
 * Everything is read beneath the root: proc/mounts, sys/class/block,
 * proc/net/route and ipv6_route, sys/class/net, proc/fb, proc/iomem; mounts
 * and routes as init (PID 1) sees them, falling back to the daemon's own. */

/* Returns 1 and sets *ret to a sentence saying why (and what to do), or 0
 * when the host does not need the function. A PF is needed when one of its
 * VFs is: its driver's remove disables SR-IOV and the VFs vanish. */
int vh_critical_check(const VhHostFs *fs, const VhPciDevice *d, char **ret);

/* The parts, for tests and for readiness checks. Each returns 1 with a
 * description of what depends on the function, 0 when nothing does. */
int vh_critical_backs_mount(const VhHostFs *fs, const char *address, char **ret);
int vh_critical_carries_default_route(const VhHostFs *fs, const char *address, char **ret);
int vh_critical_active_framebuffer(const VhHostFs *fs, const VhPciDevice *d, char **ret);
