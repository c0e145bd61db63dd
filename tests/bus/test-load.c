/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Load: 64 concurrent clients, each with its own connection, make 1,000
 * read calls each (GetManagedObjects, GetDevice, Properties.Get and
 * GetAll on the manager, devices and groups) against the daemon serving
 * the largest fixture host. Every answer is checked; there must be no
 * error. The calls run in rounds; between rounds the daemon's VmRSS is
 * read from /proc/PID/status, and after the first round (which grows the
 * buffers to their working size) it must not grow.
 *
 * Under valgrind or the sanitizers (VH_TEST_TIMEOUT_MULTIPLIER > 1) each
 * client makes 1,000 / multiplier² calls, and RSS is printed but not
 * judged (valgrind's and ASan's own memory dominate it; leaks are their
 * job there). The figures are printed as TAP comments. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "vh-names.h"
#include "vh-test-bus.h"
#include "vh-test-host.h"

#define N_CLIENTS               64
#define CALLS_PER_CLIENT        1000
#define N_ROUNDS                5
/* Allocator noise allowed between the first and the last round. */
#define RSS_SLACK_KB            512

typedef struct Load Load;

typedef struct {
        Load *load;
        unsigned index;
        unsigned calls, errors;
        char *first_error;
} Client;

struct Load {
        const char *address;            /* of the bus */
        VhTestHost *host;
        char **device_paths;
        char **group_paths;
        unsigned n_objects;
        unsigned calls_per_round;
        pthread_barrier_t start, done;
        Client clients[N_CLIENTS];
};

static void client_error(Client *c, const char *what, int r, const sd_bus_error *e) {
        c->errors++;
        if (!c->first_error)
                c->first_error = g_strdup_printf("%s: %s (%s: %s)", what, g_strerror(r < 0 ? -r : EPROTO),
                                                 e && e->name ? e->name : "-", e && e->message ? e->message : "-");
}

/* One call of kind k on the k-th object; checks the answer. */
static void one_call(Client *c, sd_bus *bus, unsigned n) {
        Load *l = c->load;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        unsigned d = (c->index + n) % l->host->functions->len;
        unsigned g = (c->index + n) % l->host->groups->len;
        const VhTestFunction *f = l->host->functions->pdata[d];
        int r;

        switch ((c->index + n) % 6) {
        case 0: {
                unsigned count = 0;

                r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                                       "GetManagedObjects", &error, &reply, "");
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
                while (r >= 0 && (r = sd_bus_message_skip(reply, "{oa{sa{sv}}}")) > 0)
                        count++;
                if (r < 0)
                        client_error(c, "GetManagedObjects", r, &error);
                else if (count != l->n_objects)
                        client_error(c, "GetManagedObjects: wrong number of objects", -EPROTO, NULL);
                break;
        }
        case 1: {
                const char *path = NULL;

                r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "GetDevice", &error,
                                       &reply, "s", f->address);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "o", &path);
                if (r < 0)
                        client_error(c, "GetDevice", r, &error);
                else if (strcmp(path, l->device_paths[d]) != 0)
                        client_error(c, "GetDevice: wrong path", -EPROTO, NULL);
                break;
        }
        case 2: {
                const char *driver = NULL;

                r = sd_bus_call_method(bus, VH_BUS_NAME, l->device_paths[d], "org.freedesktop.DBus.Properties", "Get",
                                       &error, &reply, "ss", VH_DEVICE_INTERFACE, "Driver");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "v", "s", &driver);
                if (r < 0)
                        client_error(c, "Get Driver", r, &error);
                else if (strcmp(driver, f->driver) != 0)
                        client_error(c, "Get Driver: wrong value", -EPROTO, NULL);
                break;
        }
        case 3: {
                unsigned count = 0;

                r = sd_bus_call_method(bus, VH_BUS_NAME, l->device_paths[d], "org.freedesktop.DBus.Properties",
                                       "GetAll", &error, &reply, "s", VH_DEVICE_INTERFACE);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
                while (r >= 0 && (r = sd_bus_message_skip(reply, "{sv}")) > 0)
                        count++;
                if (r < 0)
                        client_error(c, "GetAll Device1", r, &error);
                else if (count < 20)
                        client_error(c, "GetAll Device1: too few properties", -EPROTO, NULL);
                break;
        }
        case 4: {
                uint32_t id = 0;

                r = sd_bus_call_method(bus, VH_BUS_NAME, l->group_paths[g], "org.freedesktop.DBus.Properties", "Get",
                                       &error, &reply, "ss", VH_GROUP_INTERFACE, "Id");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "v", "u", &id);
                if (r < 0)
                        client_error(c, "Get Group1.Id", r, &error);
                else if (id != ((VhTestGroup *) l->host->groups->pdata[g])->id)
                        client_error(c, "Get Group1.Id: wrong value", -EPROTO, NULL);
                break;
        }
        default: {
                unsigned count = 0;

                r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                                       &error, &reply, "s", VH_MANAGER_INTERFACE);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
                while (r >= 0 && (r = sd_bus_message_skip(reply, "{sv}")) > 0)
                        count++;
                if (r < 0)
                        client_error(c, "GetAll Manager1", r, &error);
                /* Version, IommuEnabled, Reconciling, VfioAvailable, Readiness */
                else if (count != 5)
                        client_error(c, "GetAll Manager1: wrong number of properties", -EPROTO, NULL);
                break;
        }
        }
        c->calls++;
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
}

static void *client_thread(void *data) {
        Client *c = data;
        Load *l = c->load;
        sd_bus *bus = NULL;
        unsigned n = 0;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, l->address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                client_error(c, "connect", r, NULL);

        for (unsigned round = 0; round < N_ROUNDS; round++) {
                pthread_barrier_wait(&l->start);
                for (unsigned i = 0; bus && r >= 0 && i < l->calls_per_round; i++)
                        one_call(c, bus, n++);
                pthread_barrier_wait(&l->done);
        }
        if (bus)
                sd_bus_flush_close_unref(bus);
        return NULL;
}

static long daemon_rss_kb(GPid pid) {
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
        g_autofree char *status = NULL;
        const char *p;

        if (!g_file_get_contents(path, &status, NULL, NULL))
                return -1;
        p = strstr(status, "\nVmRSS:");
        return p ? strtol(p + strlen("\nVmRSS:"), NULL, 10) : -1;
}

/* The fixture with the most objects (functions and groups). */
static char *largest_host(void) {
        g_autoptr(GPtrArray) hosts = vh_test_host_fixtures();
        char *best = NULL;
        guint best_n = 0;

        for (guint i = 0; i < hosts->len; i++) {
                g_autofree char *root = g_build_filename(vh_test_env("VH_TEST_DATA"), "hosts", hosts->pdata[i], NULL);
                g_autoptr(VhTestHost) h = vh_test_host_load(root);
                guint n = h->functions->len + h->groups->len;

                if (n > best_n) {
                        g_free(best);
                        best = g_strdup(hosts->pdata[i]);
                        best_n = n;
                }
        }
        return best;
}

static void test_load(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autoptr(GString) rss_line = g_string_new(NULL);
        g_autofree char *name = NULL, *root = NULL;
        g_autofree Load *l = g_new0(Load, 1);
        double m = vh_test_timeout_multiplier();
        const char *wrapper = g_getenv("VH_TEST_DAEMON_WRAPPER");
        gboolean judge_rss = m <= 1.0 && !(wrapper && *wrapper);
        unsigned calls_per_client, total_calls = 0, total_errors = 0;
        pthread_t threads[N_CLIENTS];
        long rss[N_ROUNDS + 1];
        gint64 start;
        double seconds;

        if (!vh_test_bus_requirements())
                return;
        name = largest_host();
        g_assert_nonnull(name);
        bus = vh_test_bus_new();
        root = vh_test_bus_shared_host(bus, name);
        if (!root)
                return;
        vh_test_bus_start_daemon(bus, root);

        l->address = bus->address;
        l->host = vh_test_host_load(root);
        l->n_objects = l->host->functions->len + l->host->groups->len;
        l->device_paths = g_new0(char *, l->host->functions->len + 1);
        for (guint i = 0; i < l->host->functions->len; i++)
                l->device_paths[i] = vh_test_path_encode(VH_DEVICE_PATH_PREFIX,
                                                         ((VhTestFunction *) l->host->functions->pdata[i])->address);
        l->group_paths = g_new0(char *, l->host->groups->len + 1);
        for (guint i = 0; i < l->host->groups->len; i++)
                l->group_paths[i] = g_strdup_printf(VH_GROUP_PATH_PREFIX "/%u",
                                                    ((VhTestGroup *) l->host->groups->pdata[i])->id);
        g_assert_cmpuint(l->host->groups->len, >, 0);

        calls_per_client = (unsigned) (CALLS_PER_CLIENT / (m * m));
        l->calls_per_round = MAX(calls_per_client / N_ROUNDS, 1);
        calls_per_client = l->calls_per_round * N_ROUNDS;

        g_assert_cmpint(pthread_barrier_init(&l->start, NULL, N_CLIENTS + 1), ==, 0);
        g_assert_cmpint(pthread_barrier_init(&l->done, NULL, N_CLIENTS + 1), ==, 0);
        for (unsigned i = 0; i < N_CLIENTS; i++) {
                l->clients[i].load = l;
                l->clients[i].index = i;
                g_assert_cmpint(pthread_create(&threads[i], NULL, client_thread, &l->clients[i]), ==, 0);
        }

        rss[0] = daemon_rss_kb(bus->daemon_pid);
        start = g_get_monotonic_time();
        for (unsigned round = 0; round < N_ROUNDS; round++) {
                gint64 t = g_get_monotonic_time();

                pthread_barrier_wait(&l->start);
                pthread_barrier_wait(&l->done);
                rss[round + 1] = daemon_rss_kb(bus->daemon_pid);
                g_test_message("round %u: %u calls in %.2f s, daemon VmRSS %ld kB", round + 1,
                               N_CLIENTS * l->calls_per_round,
                               (double) (g_get_monotonic_time() - t) / G_USEC_PER_SEC, rss[round + 1]);
        }
        seconds = (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        for (unsigned i = 0; i < N_CLIENTS; i++) {
                g_assert_cmpint(pthread_join(threads[i], NULL), ==, 0);
                total_calls += l->clients[i].calls;
                total_errors += l->clients[i].errors;
                if (l->clients[i].first_error)
                        g_test_message("client %u: %u errors, the first: %s", i, l->clients[i].errors,
                                       l->clients[i].first_error);
                g_free(l->clients[i].first_error);
        }
        pthread_barrier_destroy(&l->start);
        pthread_barrier_destroy(&l->done);

        for (unsigned i = 0; i <= N_ROUNDS; i++)
                g_string_append_printf(rss_line, "%s%ld", i ? " / " : "", rss[i]);
        g_test_message("load: host %s (%u functions, %u groups), %d clients x %u calls = %u calls (%u made) in %d "
                       "rounds, %.1f s, %.0f calls/s, %u errors; daemon VmRSS kB before / after each round: %s%s",
                       name, l->host->functions->len, l->host->groups->len, N_CLIENTS, calls_per_client,
                       N_CLIENTS * calls_per_client, total_calls, N_ROUNDS, seconds, total_calls / seconds,
                       total_errors, rss_line->str, judge_rss ? "" : " (not judged: valgrind or sanitizers)");

        g_assert_cmpuint(total_errors, ==, 0);
        g_assert_cmpuint(total_calls, ==, N_CLIENTS * calls_per_client);
        if (judge_rss) {
                g_assert_cmpint(rss[1], >, 0);
                if (rss[N_ROUNDS] - rss[1] > RSS_SLACK_KB)
                        g_error("the daemon's VmRSS grew from %ld kB after round 1 to %ld kB after round %d",
                                rss[1], rss[N_ROUNDS], N_ROUNDS);
        }

        /* Still the same daemon: the teardown asserts its exit status. */
        g_assert_true(vh_test_bus_name_has_owner(bus, VH_BUS_NAME));
        g_assert_cmpint(vh_test_bus_stop_daemon(bus), ==, 0);

        g_strfreev(l->device_paths);
        g_strfreev(l->group_paths);
        vh_test_host_free(l->host);
}

/* Whether the process pid maps a file whose path holds what. */
static gboolean daemon_maps(GPid pid, const char *what) {
        g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int) pid);
        g_autofree char *maps = NULL;

        g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
        return strstr(maps, what) != NULL;
}

/* Idle, the daemon keeps neither libpci's name database (udev's hwdb.bin
 * stays mapped while it is loaded) nor libkmod and the libcrypto it links
 * (opened only to load a module): they were most of its RSS. It frees the
 * names just after taking its name, so this waits a little. */
static void test_idle_maps(void) {
        g_autoptr(VhTestBus) bus = NULL;
        g_autofree char *root = NULL;
        gint64 deadline;

        if (!vh_test_bus_requirements())
                return;
        bus = vh_test_bus_new();
        root = vh_test_bus_shared_host(bus, "server-sriov");
        if (!root)
                return;
        vh_test_bus_start_daemon(bus, root);

        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (daemon_maps(bus->daemon_pid, "hwdb.bin") && g_get_monotonic_time() < deadline)
                g_usleep(20 * 1000);
        g_assert_false(daemon_maps(bus->daemon_pid, "hwdb.bin"));
        g_assert_false(daemon_maps(bus->daemon_pid, "libkmod.so"));
        g_assert_false(daemon_maps(bus->daemon_pid, "libcrypto.so"));

        g_assert_true(vh_test_bus_name_has_owner(bus, VH_BUS_NAME));
        g_assert_cmpint(vh_test_bus_stop_daemon(bus), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/load/reads", test_load);
        g_test_add_func("/load/idle-maps", test_idle_maps);
        return g_test_run();
}
