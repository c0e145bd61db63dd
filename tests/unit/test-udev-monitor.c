/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The udev monitor's reading loop (vh-udev-monitor.c) with a scripted
 * source: lost events (ENOBUFS) are reported and reading goes on; other
 * subsystems and malformed names are skipped; a failure stops the round.
 * And the real monitor opens with a receive buffer (no event is needed:
 * it only listens). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "vh-udev-monitor.h"

typedef struct Script {
        const char *const *steps;       /* "add ADDR", "ENOBUFS", "EIO", "skip", NULL: nothing pending */
        size_t next;
} Script;

static int script_receive(void *source, VhUevent *ev) {
        Script *s = source;
        const char *step = s->steps[s->next];
        char action[16];

        if (!step)
                return 0;
        s->next++;
        if (strcmp(step, "ENOBUFS") == 0)
                return -ENOBUFS;
        if (strcmp(step, "EIO") == 0)
                return -EIO;
        memset(ev, 0, sizeof(*ev));
        if (strcmp(step, "skip") == 0)
                return 1;
        if (g_str_has_prefix(step, "module ")) {
                g_strlcpy(ev->module, step + strlen("module "), sizeof(ev->module));
                ev->action = VH_UEVENT_ADD;
                return 1;
        }
        g_assert_cmpint(sscanf(step, "%15s %16s", action, ev->address), ==, 2);
        ev->action = vh_uevent_action_from_string(action);
        return 1;
}

typedef struct Seen {
        GPtrArray *events;
} Seen;

static void on_event(const VhUevent *ev, void *userdata) {
        Seen *seen = userdata;

        g_ptr_array_add(seen->events, g_strdup_printf("%s %s", vh_uevent_action_to_string(ev->action),
                                                      ev->address[0] ? ev->address : ev->module));
}

static void test_overflow_is_not_fatal(void) {
        static const char *const steps[] = {
                "add 0000:01:00.0", "ENOBUFS", "bind 0000:01:00.0", "skip", "unbind 0000:02:00.0",
                "module vfio_pci", NULL,
        };
        Script s = { .steps = steps };
        Seen seen = { .events = g_ptr_array_new_with_free_func(g_free) };
        bool overflowed = false;
        int r;

        r = vh_uevents_drain(script_receive, &s, on_event, &seen, &overflowed);
        /* Every event around the loss arrives, the loss is reported, and
         * the script was read to its end. */
        g_assert_cmpint(r, ==, 4);
        g_assert_true(overflowed);
        g_assert_cmpuint(seen.events->len, ==, 4);
        g_assert_cmpstr(seen.events->pdata[0], ==, "add 0000:01:00.0");
        g_assert_cmpstr(seen.events->pdata[1], ==, "bind 0000:01:00.0");
        g_assert_cmpstr(seen.events->pdata[2], ==, "unbind 0000:02:00.0");
        g_assert_cmpstr(seen.events->pdata[3], ==, "add vfio_pci");
        g_assert_null(steps[s.next]);
        g_ptr_array_unref(seen.events);
}

static void test_error_stops_the_round(void) {
        static const char *const steps[] = { "add 0000:01:00.0", "EIO", "add 0000:02:00.0", NULL };
        Script s = { .steps = steps };
        Seen seen = { .events = g_ptr_array_new_with_free_func(g_free) };
        bool overflowed = false;

        g_assert_cmpint(vh_uevents_drain(script_receive, &s, on_event, &seen, &overflowed), ==, -EIO);
        g_assert_false(overflowed);
        g_assert_cmpuint(seen.events->len, ==, 1);
        g_ptr_array_unref(seen.events);
}

static void test_nothing_pending(void) {
        static const char *const steps[] = { NULL };
        Script s = { .steps = steps };
        Seen seen = { .events = g_ptr_array_new_with_free_func(g_free) };
        bool overflowed = false;

        g_assert_cmpint(vh_uevents_drain(script_receive, &s, on_event, &seen, &overflowed), ==, 0);
        g_assert_false(overflowed);
        g_ptr_array_unref(seen.events);
}

static void test_actions(void) {
        static const char *const names[] = { "add", "remove", "change", "move", "bind", "unbind" };

        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
                g_assert_cmpstr(vh_uevent_action_to_string(vh_uevent_action_from_string(names[i])), ==, names[i]);
        g_assert_cmpint(vh_uevent_action_from_string("online"), ==, VH_UEVENT_OTHER);
        g_assert_cmpint(vh_uevent_action_from_string("other"), ==, VH_UEVENT_OTHER);
        g_assert_cmpint(vh_uevent_action_from_string(NULL), ==, VH_UEVENT_OTHER);
}

/* Opening a real monitor only listens: safe anywhere. */
static void test_real_monitor_opens(void) {
        VhUdevMonitor *m = NULL;
        int r = vh_udev_monitor_new(128U * 1024 * 1024, &m);

        if (r < 0) {
                g_test_skip_printf("cannot open a udev monitor here: %s", g_strerror(-r));
                return;
        }
        g_assert_cmpint(vh_udev_monitor_get_fd(m), >=, 0);
        /* What the kernel granted: rmem_max without CAP_NET_ADMIN. */
        g_test_message("receive buffer: %d bytes", vh_udev_monitor_get_buffer_size(m));
        g_assert_cmpint(vh_udev_monitor_get_buffer_size(m), >, 0);
        vh_udev_monitor_free(m);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/udev-monitor/overflow-is-not-fatal", test_overflow_is_not_fatal);
        g_test_add_func("/udev-monitor/error-stops-the-round", test_error_stops_the_round);
        g_test_add_func("/udev-monitor/nothing-pending", test_nothing_pending);
        g_test_add_func("/udev-monitor/actions", test_actions);
        g_test_add_func("/udev-monitor/real-monitor-opens", test_real_monitor_opens);
        return g_test_run();
}
