/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One cold start of vfiohostd (docs/performance.md): the time from its
 * exec to its name owned, and to the reply to the first listing, the
 * Manager1.ListDevices of every property that vfiohostctl --json list
 * makes, on the system bus of DBUS_SYSTEM_BUS_ADDRESS; then, for
 * comparison, one GetManagedObjects. In C with sd-bus rather than a loop of busctl
 * calls in the runner so that the figure holds no process spawns but the
 * daemon's own: it waits for NameOwnerChanged (the daemon takes its name
 * only once its objects are exported), then calls once.
 *
 *   bench-cold-start VFIOHOSTD [ARGS...]
 * prints: cold_ms MS owned_ms MS gmo_ms MS rss_kb R hwm_kb H
 * (cold_ms: exec to the ListDevices reply; owned_ms: exec to
 * NameOwnerChanged; gmo_ms: the GetManagedObjects call after it; the
 * daemon's VmRSS and VmHWM right after the first reply). The daemon
 * is stopped with SIGTERM before it returns; exits 1 when it does not
 * start or answer within 120 s.
 */

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

extern char **environ;

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;
        bool *owned = userdata;

        (void) error;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && *new_owner)
                *owned = true;
        return 0;
}

/* VmRSS and VmHWM of pid, in kB; 0 when unreadable. */
static void read_rss(pid_t pid, long *rss, long *hwm) {
        char path[64], line[256];
        FILE *f;

        *rss = *hwm = 0;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "VmRSS:", 6) == 0)
                        *rss = strtol(line + 6, NULL, 10);
                else if (strncmp(line, "VmHWM:", 6) == 0)
                        *hwm = strtol(line + 6, NULL, 10);
        }
        fclose(f);
}

int main(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        bool owned = false;
        double t0, t1 = 0, t_owned, t_gmo;
        long rss = 0, hwm = 0;
        pid_t pid;
        int r, status, ret = EXIT_FAILURE;

        if (argc < 2) {
                fprintf(stderr, "usage: %s VFIOHOSTD [ARGS...]\n", argv[0]);
                return EXIT_FAILURE;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        /* Synchronous: the bus has the match before the daemon starts. */
        r = sd_bus_add_match(bus, NULL,
                             "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                             "member='NameOwnerChanged',arg0='org.vfiohost'",
                             on_owner_changed, &owned);
        if (r < 0) {
                fprintf(stderr, "Cannot watch NameOwnerChanged: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        t0 = now_ms();
        r = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
        if (r != 0) {
                fprintf(stderr, "Cannot start %s: %s\n", argv[1], strerror(r));
                return EXIT_FAILURE;
        }

        while (!owned) {
                if (now_ms() - t0 > 120e3) {
                        fprintf(stderr, "org.vfiohost did not appear within 120 s\n");
                        goto finish;
                }
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "vfiohostd exited before it took its name\n");
                        pid = 0;
                        goto finish;
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "Bus failure: %s\n", strerror(-r));
                        goto finish;
                }
                if (r == 0)
                        (void) sd_bus_wait(bus, 100 * 1000);
        }

        t_owned = now_ms();

        r = sd_bus_call_method(bus, "org.vfiohost", "/org/vfiohost", "org.vfiohost.Manager1", "ListDevices", &error,
                               &reply, "as", 0);
        t1 = now_ms();
        if (r < 0) {
                fprintf(stderr, "ListDevices failed: %s\n", error.message ?: strerror(-r));
                goto finish;
        }
        read_rss(pid, &rss, &hwm);
        reply = sd_bus_message_unref(reply);

        t_gmo = now_ms();
        r = sd_bus_call_method(bus, "org.vfiohost", "/org/vfiohost", "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", &error, &reply, "");
        if (r < 0) {
                /* Past dbus-daemon's message size at 16,384 functions: said, not fatal. */
                fprintf(stderr, "GetManagedObjects failed: %s\n", error.message ?: strerror(-r));
                t_gmo = -1;
        } else
                t_gmo = now_ms() - t_gmo;
        printf("cold_ms %.3f owned_ms %.3f gmo_ms %.3f rss_kb %ld hwm_kb %ld\n", t1 - t0, t_owned - t0, t_gmo, rss,
               hwm);
        ret = EXIT_SUCCESS;

finish:
        if (pid > 0) {
                (void) kill(pid, SIGTERM);
                (void) waitpid(pid, &status, 0);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return ret;
}
