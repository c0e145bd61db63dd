/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The no-op anchor for the daemon's memory and call rate (issue 14,
 * docs/performance.md): the least an sd-bus service is, libsystemd and
 * libc only. It takes a name on the system bus of DBUS_SYSTEM_BUS_ADDRESS
 * and serves the two members bench-calls measures on vfiohostd, at the same
 * paths, with constant answers:
 *
 *   /org/vfiohost                        org.vfiohost.Manager1.GetDevice(s) -> o
 *                                        (the device path of any address)
 *   /org/vfiohost/device/_30000_3a00_3a00_2e0  org.vfiohost.Device1, property
 *                                        Address (s) "0000:00:00.0"
 *
 * so one bench-calls command line runs against either, and its VmRSS is
 * the floor of any sd-bus service that links what it links.
 *
 *   bench-noop-service [NAME]      (default org.vfiohost)
 *
 * prints "ready" on stdout once NAME is taken; exits 0 on SIGTERM or
 * SIGINT, 1 when the bus or the name cannot be had.
 *
 * The name: the project's bus policy (dbus/org.vfiohost.conf) lets only
 * root own org.vfiohost, and the private bus of .ci/lib.sh's
 * start_private_bus denies every other name. So the noop owns org.vfiohost
 * itself, run instead of vfiohostd at another time (never next to it: the
 * second to ask would not get the name). NAME is for a bus whose policy
 * allows another, e.g. org.vfiohost.BenchNoop.
 *
 * By hand, as root:
 *   . .ci/lib.sh; start_private_bus /tmp/noop-bus
 *   build/tests/bench/bench-noop-service & wait_for_name org.vfiohost
 *   grep -E 'VmRSS|RssAnon|RssFile' /proc/$!/status
 *   build/tests/bench/bench-calls -n 20000 org.vfiohost /org/vfiohost org.vfiohost.Manager1 GetDevice s 0000:00:00.0
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define DEFAULT_NAME "org.vfiohost"
#define MANAGER_PATH "/org/vfiohost"
#define DEVICE_PREFIX "/org/vfiohost/device"
#define DEVICE_ADDRESS "0000:00:00.0"

static int method_get_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *address;
        char *path = NULL;
        int r;

        (void) userdata;
        (void) error;
        r = sd_bus_message_read(m, "s", &address);
        if (r < 0)
                return r;
        /* The work vfiohostd does for a found device, less the lookup. */
        r = sd_bus_path_encode(DEVICE_PREFIX, address, &path);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, "o", path);
        free(path);
        return r;
}

static int property_address(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        (void) bus;
        (void) path;
        (void) interface;
        (void) property;
        (void) userdata;
        (void) error;
        return sd_bus_message_append(reply, "s", DEVICE_ADDRESS);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        /* Unprivileged as vfiohostd's are: otherwise sd-bus asks the bus
         * for the caller's credentials on each call. */
        SD_BUS_METHOD("GetDevice", "s", "o", method_get_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Address", "s", property_address, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int main(int argc, char *argv[]) {
        const char *name = argc > 1 ? argv[1] : DEFAULT_NAME;
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        char *device_path = NULL;
        sigset_t mask;
        int r;

        if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
                fprintf(stderr, "usage: %s [BUS_NAME]   (default " DEFAULT_NAME ")\n", argv[0]);
                return 2;
        }

        /* sd-event takes the signals through a signalfd: they must be blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "event loop: %s\n", strerror(-r));
                goto out;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "system bus: %s\n", strerror(-r));
                goto out;
        }
        r = sd_bus_path_encode(DEVICE_PREFIX, DEVICE_ADDRESS, &device_path);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, MANAGER_PATH, "org.vfiohost.Manager1", manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, device_path, "org.vfiohost.Device1", device_vtable, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                fprintf(stderr, "objects: %s\n", strerror(-r));
                goto out;
        }

        /* Objects first, name last, as vfiohostd does. */
        r = sd_bus_request_name(bus, name, 0);
        if (r < 0) {
                fprintf(stderr, "cannot own %s: %s\n", name, strerror(-r));
                goto out;
        }
        printf("ready\n");
        fflush(stdout);

        r = sd_event_loop(event);
        if (r < 0)
                fprintf(stderr, "event loop: %s\n", strerror(-r));

out:
        free(device_path);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
