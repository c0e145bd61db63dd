/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What tests that run vfiohostctl check on its results: the exit status,
 * and that --json put one JSON document and nothing else on stdout.
 * Header-only: the harness library does not link json-c. */

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>
#include <json-c/json.h>

#include "vh-test-bus.h"

static inline void vh_test_run_assert_status(const VhTestRun *run, const char *what, int status) {
        if (run->status != status) {
                vh_test_run_print(run, what);
                g_error("%s: exit status %d, expected %d", what, run->status, status);
        }
}

static inline json_object *vh_test_run_json(const VhTestRun *run, const char *what) {
        json_tokener *tok = json_tokener_new();
        size_t len = strlen(run->out), end;
        json_object *j = json_tokener_parse_ex(tok, run->out, (int) len);

        end = json_tokener_get_parse_end(tok);
        if (!j || json_tokener_get_error(tok) != json_tokener_success) {
                vh_test_run_print(run, what);
                g_error("%s: stdout is not JSON", what);
        }
        for (size_t i = end; i < len; i++)
                if (!g_ascii_isspace(run->out[i])) {
                        vh_test_run_print(run, what);
                        g_error("%s: something after the JSON: \"%s\"", what, run->out + i);
                }
        json_tokener_free(tok);
        return j;
}

/* A member of an object, asserted to be of type t. */
static inline json_object *vh_test_json_get(json_object *o, const char *key, json_type t) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
                g_error("JSON key %s missing or not a %s in %s", key, json_type_to_name(t),
                        json_object_to_json_string(o));
        return v;
}

/* vfiohostctl --json monitor in the background, for tests that make
 * events happen and then read what it printed. */
typedef struct VhTestMonitor {
        GPid pid;
        int out_fd;
} VhTestMonitor;

/* Starts it and gives it the time to subscribe. */
static inline VhTestMonitor vh_test_monitor_start(VhTestBus *bus) {
        g_auto(GStrv) envp = vh_test_bus_client_envp(bus);
        g_autoptr(GError) error = NULL;
        const char *argv[] = { vh_test_env("VH_CTL"), "--json", "monitor", NULL };
        VhTestMonitor m = { 0, -1 };

        g_assert_true(g_spawn_async_with_pipes(NULL, (char **) argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                               &m.pid, NULL, &m.out_fd, NULL, &error));
        g_assert_no_error(error);
        g_usleep((gulong) (500 * 1000 * vh_test_timeout_multiplier()));
        return m;
}

/* Ctrl-C: it must exit 0. Returns everything it printed. */
static inline char *vh_test_monitor_stop(VhTestMonitor *m) {
        g_autoptr(GIOChannel) ch = NULL;
        char *out = NULL;
        int status;

        kill(m->pid, SIGINT);
        g_assert_cmpint(waitpid(m->pid, &status, 0), ==, m->pid);
        g_spawn_close_pid(m->pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        ch = g_io_channel_unix_new(m->out_fd);
        g_io_channel_set_close_on_unref(ch, TRUE);
        g_assert_cmpint(g_io_channel_read_to_end(ch, &out, NULL, NULL), ==, G_IO_STATUS_NORMAL);
        return out;
}

/* The first line of out whose "event" is event, NULL when none; every
 * line must be a JSON object with an "event". */
static inline json_object *vh_test_monitor_event(const char *out, const char *event) {
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
        json_object *found = NULL;

        for (char **l = lines; *l; l++) {
                json_object *j, *v;

                if (!**l)
                        continue;
                j = json_tokener_parse(*l);
                if (!j || !json_object_object_get_ex(j, "event", &v))
                        g_error("monitor printed a line that is not a JSON event: %s", *l);
                if (!found && strcmp(json_object_get_string(v), event) == 0)
                        found = json_object_get(j);
                json_object_put(j);
        }
        return found;
}
