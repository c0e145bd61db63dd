/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What the e2e judges share: reading back what a guest recorded
 * (tests/e2e/guest-lib.sh) and comparing it. GLib, tests only. */

#pragma once

#include <glib.h>
#include <json-c/json.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* g_test_fail_printf and g_test_message on one line: TAP reads every
 * line, and recorded outputs hold newlines. */
void judge_fail(const char *format, ...) G_GNUC_PRINTF(1, 2);
void judge_msg(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* The results directory of one guest boot ($VH_E2E_RESULTS/MODE). */
void judge_init(const char *results);

/* SCENARIO/NAME's contents, NULL (and a test failure) when missing. */
char *judge_read(const char *scenario, const char *name);
/* NAME.rc as a number, -1 when missing. */
int judge_rc(const char *scenario, const char *step);
/* NAME.out parsed as JSON, NULL (and a test failure) when it is not. */
struct json_object *judge_json(const char *scenario, const char *step);
/* The D-Bus error name a --json step printed, "" when none. */
const char *judge_error_name(struct json_object *j);

/* A snapshot (guest-lib.sh's snap): "ADDRESS FIELD" -> VALUE. */
GHashTable *judge_state(const char *scenario, const char *name);
const char *judge_state_get(GHashTable *state, const char *address, const char *field);
/* Fails the test for each fact that differs, ignoring the listed fields
 * ("host daemon_pid", or "* net" for a field of every address). */
void judge_assert_states_equal(GHashTable *a, const char *a_name, GHashTable *b, const char *b_name,
                               const char *const *ignore);

/* Prints "SCENARIO: N ms" from the guest's clock. */
void judge_report_time(const char *scenario);
/* Skips the rest of a test case when the scenario never ran. */
gboolean judge_scenario_ran(const char *scenario);

/* The step failed with a D-Bus error of that name, and the daemon
 * changed nothing: snapshots before and after are equal. */
void judge_assert_refused(const char *scenario, const char *step, const char *error_name, const char *before,
                          const char *after);
/* The step succeeded (rc 0, no error in its JSON). */
void judge_assert_ok(const char *scenario, const char *step);

/* json-c lookups: NULL when j is NULL or has no such key. */
const char *judge_json_str(struct json_object *j, const char *key);
struct json_object *judge_json_get(struct json_object *j, const char *key);

/* A file of a boot's own directory (console.log, dbus-daemon.log, dmesg),
 * NULL (and a test failure) when missing. */
char *judge_file_in(const char *dir, const char *name);

/* Fails when the state's address is not on driver ("-": none). */
void judge_assert_driver(GHashTable *state, const char *state_name, const char *address, const char *driver);

/* Whether a space-separated list holds word. */
gboolean judge_word_in(const char *list, const char *word);
/* Whether /proc/modules's text lists module. */
gboolean judge_module_loaded(const char *proc_modules, const char *module);

/* check --json's output says "ready"; otherwise fails as what, naming each
 * failing check with its summary and remedy. */
void judge_assert_ready(struct json_object *check, const char *what);

/* The one entry of a `persisted --json` array; NULL (and judged failed)
 * when there is not exactly one. */
struct json_object *judge_only_assignment(struct json_object *list, const char *what);
