/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A umockdev testbed made from a recording (tests/data/umockdev/<host>
 * .umockdev) and completed with what umockdev does not create (driver
 * directories, IOMMU groups, IOMMU units, /dev/vfio), and the daemon run
 * on it: --root / under LD_PRELOAD=libumockdev-preload.so.0, so its plain
 * /sys reads and its udev monitor land in the testbed. Only the daemon is
 * preloaded; the test builds the testbed through its real path. */

#include <glib.h>
#include <umockdev.h>

#include "vh-test-bus.h"

typedef struct VhTestTestbed {
        UMockdevTestbed *testbed;
        char *root;             /* the testbed's root directory */
        char *sys;              /* realpath of its sys directory */
        char *host_tree;        /* tests/data/hosts/<host> */
} VhTestTestbed;

/* The preload library's path, NULL when umockdev is not installed. */
const char *vh_test_umockdev_preload(void);

/* Sending a uevent (umockdev_testbed_uevent) reads the device through
 * libudev in this process, so a test that sends them runs preloaded too:
 * called first in main(), this re-executes argv with the preload when it
 * is not there yet (nothing happens where umockdev is missing). With it,
 * this process's /sys is the testbed as soon as one exists. */
void vh_test_testbed_preload_self(char **argv);

/* Loads <host>'s recording into a new testbed and completes it. */
VhTestTestbed *vh_test_testbed_new(const char *host);
void vh_test_testbed_free(VhTestTestbed *tb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhTestTestbed, vh_test_testbed_free)

/* Starts the daemon on the testbed with extra arguments (NULL-terminated
 * or NULL) and asserts the preload took. */
void vh_test_testbed_start_daemon(VhTestTestbed *tb, VhTestBus *bus, const char *const *args);

/* A testbed whose root is a copy of tests/data/hosts/<host> (not a
 * recording): the fake kernel can move drivers in it, and a daemon started
 * with vh_test_testbed_start_daemon_beneath() runs with --root on it, so
 * every read and write stays in the testbed by construction (no module is
 * ever loaded beneath a --root), while the preload feeds its udev monitor
 * the testbed's uevents. */
VhTestTestbed *vh_test_testbed_new_from_tree(const char *host);
void vh_test_testbed_start_daemon_beneath(VhTestTestbed *tb, VhTestBus *bus, const char *const *args);

/* "/sys/devices/..." of a function, as umockdev and the daemon name it. */
char *vh_test_testbed_devpath(VhTestTestbed *tb, const char *address);
/* What a driver switch does in sysfs: the function's driver link and the
 * driver's link back; old NULL: it had none; driver NULL: it gets none.
 * No uevent: the caller sends it. */
void vh_test_testbed_set_driver(VhTestTestbed *tb, const char *address, const char *old, const char *driver);
/* A function made with plain files, as umockdev_testbed_add_device() would,
 * without the "add" uevent that one sends: bursts bigger than umockdev's
 * socket queue (about ten) can then be announced by one event. */
void vh_test_testbed_add_function_quietly(VhTestTestbed *tb, const char *address);

/* Sends action for each of devpaths, never more than window ahead of
 * acked(userdata) (how many the daemon has announced so far), dispatching
 * the main context while it waits: umockdev's socket holds about ten
 * events and its sender aborts when it is full. FALSE when the daemon fell
 * behind for timeout_s (scaled by the multiplier). */
gboolean vh_test_testbed_uevents_paced(VhTestTestbed *tb, GPtrArray *devpaths, const char *action,
                                       guint (*acked)(void *userdata), void *userdata, guint window, double timeout_s);
