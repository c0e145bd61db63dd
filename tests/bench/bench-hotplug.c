/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hotplug figures (docs/hotplug.md), on a umockdev testbed of desktop-intel:
 *   - uevent → DriverChanged latency over N driver switches made by hand
 *     (p50, p99, max), as a subscriber on the bus sees it;
 *   - time until 1,024 functions appearing at once are all announced;
 *   - the daemon idle with a subscriber for S seconds: CPU time, wake-ups
 *     (context switches) and RSS, which should not move.
 * usage: bench-hotplug [N [S]]   (meson test --benchmark --suite bench -v) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-names.h"
#include "vh-test-bus.h"

#ifdef HAVE_UMOCKDEV
#include "vh-test-signals.h"
#include "vh-test-testbed.h"

#define AUDIO "0000:01:00.1"

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

/* Fields of /proc/PID/status and stat that tell whether a process works. */
typedef struct Usage {
        long long switches;             /* voluntary + nonvoluntary */
        long long ticks;                /* utime + stime */
        long long rss_kb;
} Usage;

static Usage usage_of(GPid pid) {
        g_autofree char *status_path = g_strdup_printf("/proc/%d/status", pid);
        g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *status = NULL, *stat = NULL;
        g_auto(GStrv) lines = NULL;
        Usage u = { 0 };
        const char *p;

        g_assert_true(g_file_get_contents(status_path, &status, NULL, NULL));
        g_assert_true(g_file_get_contents(stat_path, &stat, NULL, NULL));
        lines = g_strsplit(status, "\n", -1);
        for (char **l = lines; *l; l++) {
                if (g_str_has_prefix(*l, "voluntary_ctxt_switches:") || g_str_has_prefix(*l, "nonvoluntary_ctxt_switches:"))
                        u.switches += atoll(strchr(*l, ':') + 1);
                else if (g_str_has_prefix(*l, "VmRSS:"))
                        u.rss_kb = atoll(*l + strlen("VmRSS:"));
        }
        /* utime and stime are fields 14 and 15, after the ")" of comm. */
        p = strrchr(stat, ')');
        g_assert_nonnull(p);
        {
                g_auto(GStrv) f = g_strsplit(p + 2, " ", -1);

                g_assert_cmpuint(g_strv_length(f), >, 13);
                u.ticks = atoll(f[11]) + atoll(f[12]);
        }
        return u;
}

static void bench_latency(VhTestTestbed *tb, VhTestBus *bus, unsigned n) {
        g_autoptr(VhTestSignalLog) log = vh_test_signal_log_new(bus);
        g_autofree char *devpath = vh_test_testbed_devpath(tb, AUDIO);
        g_autofree char *path = vh_test_path_encode(VH_DEVICE_PATH_PREFIX, AUDIO);
        g_autofree double *ms = g_new(double, n);
        const char *driver = "snd_hda_intel";

        for (unsigned i = 0; i < n; i++) {
                const char *next = i % 2 == 0 ? NULL : "snd_hda_intel";
                g_autofree char *line = g_strdup_printf("DriverChanged %s %s %s", path, driver ?: "-", next ?: "-");
                guint before = vh_test_signal_log_count(log, line);
                gint64 t0, deadline;
                guint seen = log->lines->len;

                vh_test_testbed_set_driver(tb, AUDIO, driver, next);
                t0 = g_get_monotonic_time();
                umockdev_testbed_uevent(tb->testbed, devpath, next ? "bind" : "unbind");
                deadline = t0 + 10 * G_USEC_PER_SEC;
                while (vh_test_signal_log_count(log, line) == before && g_get_monotonic_time() < deadline)
                        if (!g_main_context_iteration(NULL, FALSE))
                                g_usleep(100);
                g_assert_cmpuint(vh_test_signal_log_count(log, line), ==, before + 1);
                for (guint k = seen; k < log->lines->len; k++)
                        if (strcmp(log->lines->pdata[k], line) == 0)
                                ms[i] = (g_array_index(log->times, gint64, k) - t0) / 1000.0;
                driver = next;
        }
        qsort(ms, n, sizeof(double), compare_double);
        printf("uevent -> DriverChanged over %u driver switches: p50 %.2f ms, p99 %.2f ms, max %.2f ms "
               "(includes the 20 ms settle window)\n",
               n, ms[n / 2], ms[(size_t) (n * 0.99) < n ? (size_t) (n * 0.99) : n - 1], ms[n - 1]);
}

static guint count_added(void *userdata) {
        return vh_test_signal_log_count_prefix(userdata, "DeviceAdded ");
}

/* umockdev's socket holds about ten events: they go out at most 8 ahead
 * of the announcements, so this is the throughput of one event per
 * function, not the kernel's burst (which lands in a 128 MiB buffer). */
static void bench_burst(VhTestTestbed *tb, VhTestBus *bus) {
        g_autoptr(VhTestSignalLog) log = vh_test_signal_log_new(bus);
        g_autoptr(GPtrArray) devpaths = g_ptr_array_new_with_free_func(g_free);
        gint64 t0;

        for (unsigned i = 0; i < 1024; i++) {
                g_autofree char *address = g_strdup_printf("0000:%02x:%02x.%u", 0x40 + i / 256, (i / 8) % 32, i % 8);

                vh_test_testbed_add_function_quietly(tb, address);
                g_ptr_array_add(devpaths, g_strconcat("/sys/devices/", address, NULL));
        }
        t0 = g_get_monotonic_time();
        g_assert_true(vh_test_testbed_uevents_paced(tb, devpaths, "add", count_added, log, 8, 60));
        while (count_added(log) < 1024 && g_get_monotonic_time() < t0 + 60 * G_USEC_PER_SEC)
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(100);
        g_assert_cmpuint(count_added(log), ==, 1024);
        printf("1,024 functions, one add event each (at most 8 in flight): all announced in %.1f ms, %.0f functions/s\n",
               (g_get_monotonic_time() - t0) / 1000.0, 1024 / ((g_get_monotonic_time() - t0) / 1e6));
}

static void bench_idle(VhTestBus *bus, unsigned seconds) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        Usage a, b;

        reply = vh_test_bus_call(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "Subscribe", NULL, "()", &error);
        g_assert_no_error(error);
        /* Let the burst's aftermath settle first. */
        g_usleep(G_USEC_PER_SEC);
        a = usage_of(bus->daemon_pid);
        g_usleep((gulong) seconds * G_USEC_PER_SEC);
        b = usage_of(bus->daemon_pid);
        printf("idle %u s with a subscriber: %lld wake-ups, %lld ms CPU, RSS %lld kB (was %lld kB)\n", seconds,
               b.switches - a.switches, (b.ticks - a.ticks) * 1000 / sysconf(_SC_CLK_TCK), b.rss_kb, a.rss_kb);
}

static void drop_debug(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
}

int main(int argc, char **argv) {
        unsigned n = argc > 1 ? (unsigned) atoi(argv[1]) : 200, seconds = argc > 2 ? (unsigned) atoi(argv[2]) : 10;
        g_autoptr(VhTestTestbed) tb = NULL;
        g_autoptr(VhTestBus) bus = NULL;

        vh_test_testbed_preload_self(argv);
        g_log_set_handler(NULL, G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        g_log_set_handler("umockdev", G_LOG_LEVEL_DEBUG, drop_debug, NULL);
        if (!vh_test_umockdev_preload() || getuid() != 0) {
                printf("SKIP: needs umockdev and root\n");
                return 77;
        }
        tb = vh_test_testbed_new("desktop-intel");
        bus = vh_test_bus_new();
        {
                const char *args[] = { "--read-only", NULL };
                vh_test_testbed_start_daemon(tb, bus, args);
        }
        bench_latency(tb, bus, n < 2 ? 2 : n);
        bench_burst(tb, bus);
        bench_idle(bus, seconds);
        return 0;
}

#else

int main(void) {
        printf("SKIP: built without umockdev\n");
        return 77;
}

#endif
