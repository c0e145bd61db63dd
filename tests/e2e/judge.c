/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reads back what a guest recorded; see judge.h. */

#include "judge.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char *results_dir;

static char *one_line(const char *format, va_list ap) {
        char *s = g_strdup_vprintf(format, ap);

        return g_strdelimit(s, "\r\n", ' ');
}

void judge_fail(const char *format, ...) {
        g_autofree char *s = NULL;
        va_list ap;

        va_start(ap, format);
        s = one_line(format, ap);
        va_end(ap);
        g_test_fail_printf("%s", s);
}

void judge_msg(const char *format, ...) {
        g_autofree char *s = NULL;
        va_list ap;

        va_start(ap, format);
        s = one_line(format, ap);
        va_end(ap);
        g_test_message("%s", s);
}

void judge_init(const char *results) {
        g_free(results_dir);
        results_dir = g_strdup(results);
}

static char *path_of(const char *scenario, const char *name) {
        return g_build_filename(results_dir, scenario, name, NULL);
}

char *judge_read(const char *scenario, const char *name) {
        g_autofree char *path = path_of(scenario, name);
        g_autoptr(GError) error = NULL;
        char *contents = NULL;

        if (!g_file_get_contents(path, &contents, NULL, &error)) {
                judge_fail("%s/%s was not recorded: %s", scenario, name, error->message);
                return NULL;
        }
        return contents;
}

static char *read_quiet(const char *scenario, const char *name) {
        g_autofree char *path = path_of(scenario, name);
        char *contents = NULL;

        return g_file_get_contents(path, &contents, NULL, NULL) ? contents : NULL;
}

int judge_rc(const char *scenario, const char *step) {
        g_autofree char *name = g_strconcat(step, ".rc", NULL);
        g_autofree char *s = judge_read(scenario, name);

        return s ? atoi(s) : -1;
}

struct json_object *judge_json(const char *scenario, const char *step) {
        g_autofree char *name = g_strconcat(step, ".out", NULL);
        g_autofree char *s = judge_read(scenario, name);
        struct json_object *j;

        if (!s)
                return NULL;
        j = json_tokener_parse(s);
        if (!j) {
                g_autofree char *err_name = g_strconcat(step, ".err", NULL);
                g_autofree char *err = read_quiet(scenario, err_name);
                judge_fail("%s/%s printed no JSON: \"%.300s\" (stderr: %.300s)", scenario, step, s,
                                   err ?: "");
        }
        return j;
}

const char *judge_error_name(struct json_object *j) {
        struct json_object *e, *n;

        if (j && json_object_object_get_ex(j, "error", &e) && json_object_object_get_ex(e, "name", &n))
                return json_object_get_string(n);
        return "";
}

static const char *error_message(struct json_object *j) {
        struct json_object *e, *m;

        if (j && json_object_object_get_ex(j, "error", &e) && json_object_object_get_ex(e, "message", &m))
                return json_object_get_string(m);
        return "";
}

GHashTable *judge_state(const char *scenario, const char *name) {
        g_autofree char *file = g_strconcat(name, ".state", NULL);
        g_autofree char *s = judge_read(scenario, file);
        g_auto(GStrv) lines = NULL;
        GHashTable *state = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        if (!s)
                return state;
        lines = g_strsplit(s, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) parts = g_strsplit(*l, " ", 3);

                if (g_strv_length(parts) < 2)
                        continue;
                g_hash_table_replace(state, g_strconcat(parts[0], " ", parts[1], NULL),
                                     g_strstrip(g_strdup(parts[2] ?: "")));
        }
        return state;
}

const char *judge_state_get(GHashTable *state, const char *address, const char *field) {
        g_autofree char *key = g_strconcat(address, " ", field, NULL);

        return g_hash_table_lookup(state, key);
}

static gboolean ignored(const char *key, const char *const *ignore) {
        const char *field = strchr(key, ' ');

        for (const char *const *i = ignore; i && *i; i++) {
                if (strcmp(*i, key) == 0)
                        return TRUE;
                if (g_str_has_prefix(*i, "* ") && field && strcmp(*i + 1, field) == 0)
                        return TRUE;
        }
        return FALSE;
}

void judge_assert_states_equal(GHashTable *a, const char *a_name, GHashTable *b, const char *b_name,
                               const char *const *ignore) {
        GHashTableIter it;
        gpointer key, value;
        unsigned differences = 0;

        g_hash_table_iter_init(&it, a);
        while (g_hash_table_iter_next(&it, &key, &value)) {
                const char *other = g_hash_table_lookup(b, key);

                if (ignored(key, ignore) || g_strcmp0(value, other) == 0)
                        continue;
                judge_fail("%s → %s: %s changed from \"%s\" to \"%s\"", a_name, b_name, (char *) key,
                                   (char *) value, other ?: "(absent)");
                differences++;
        }
        g_hash_table_iter_init(&it, b);
        while (g_hash_table_iter_next(&it, &key, &value))
                if (!ignored(key, ignore) && !g_hash_table_contains(a, key)) {
                        judge_fail("%s → %s: %s appeared (\"%s\")", a_name, b_name, (char *) key,
                                           (char *) value);
                        differences++;
                }
        if (differences == 0)
                judge_msg("%s and %s are equal (%u facts)", a_name, b_name, g_hash_table_size(a));
}

void judge_report_time(const char *scenario) {
        g_autofree char *t0 = read_quiet(scenario, "t0"), *t1 = read_quiet(scenario, "t1");

        if (t0 && t1)
                judge_msg("scenario %s took %ld ms in the guest", scenario, atol(t1) - atol(t0));
        else
                judge_msg("scenario %s did not finish in the guest", scenario);
}

gboolean judge_scenario_ran(const char *scenario) {
        g_autofree char *path = path_of(scenario, "t0");

        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
                judge_fail("scenario %s never ran (see console.log in %s)", scenario, results_dir);
                return FALSE;
        }
        judge_report_time(scenario);
        return TRUE;
}

void judge_assert_refused(const char *scenario, const char *step, const char *error_name, const char *before,
                          const char *after) {
        g_autoptr(json_object) j = judge_json(scenario, step);
        g_autoptr(GHashTable) a = judge_state(scenario, before), b = judge_state(scenario, after);
        static const char *const ignore[] = { "host daemon_pid", NULL };

        if (judge_rc(scenario, step) == 0)
                judge_fail("%s/%s succeeded; it had to be refused with %s", scenario, step, error_name);
        if (j && strcmp(judge_error_name(j), error_name) != 0)
                judge_fail("%s/%s: error %s (\"%s\"), expected %s", scenario, step, judge_error_name(j),
                                   error_message(j), error_name);
        else if (j)
                judge_msg("%s/%s refused: %s: %s", scenario, step, error_name, error_message(j));
        judge_assert_states_equal(a, before, b, after, ignore);
}

void judge_assert_ok(const char *scenario, const char *step) {
        g_autoptr(json_object) j = judge_json(scenario, step);
        int rc = judge_rc(scenario, step);

        if (rc != 0 || *judge_error_name(j))
                judge_fail("%s/%s failed (exit %d): %s: %s", scenario, step, rc, judge_error_name(j),
                                   error_message(j));
}

const char *judge_json_str(struct json_object *j, const char *key) {
        struct json_object *v;

        return j && json_object_object_get_ex(j, key, &v) && v ? json_object_get_string(v) : NULL;
}

struct json_object *judge_json_get(struct json_object *j, const char *key) {
        struct json_object *v;

        return j && json_object_object_get_ex(j, key, &v) ? v : NULL;
}

char *judge_file_in(const char *dir, const char *name) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        char *contents = NULL;

        if (!g_file_get_contents(path, &contents, NULL, NULL))
                judge_fail("%s was not recorded", path);
        return contents;
}

void judge_assert_driver(GHashTable *state, const char *state_name, const char *address, const char *driver) {
        const char *now = judge_state_get(state, address, "driver");

        if (g_strcmp0(now, driver) != 0)
                judge_fail("%s: %s is on %s, expected %s", state_name, address, now ?: "(absent)", driver);
}

gboolean judge_word_in(const char *list, const char *word) {
        g_auto(GStrv) words = g_strsplit_set(list ?: "", " \t\n", -1);

        return g_strv_contains((const char *const *) words, word);
}

gboolean judge_module_loaded(const char *proc_modules, const char *module) {
        g_auto(GStrv) lines = g_strsplit(proc_modules ?: "", "\n", -1);

        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, module) && (*l)[strlen(module)] == ' ')
                        return TRUE;
        return FALSE;
}

void judge_assert_ready(struct json_object *check, const char *what) {
        struct json_object *checks = judge_json_get(check, "checks");

        if (!check || g_strcmp0(judge_json_str(check, "verdict"), "ready") == 0)
                return;
        judge_fail("%s: verdict %s, expected ready", what, judge_json_str(check, "verdict"));
        for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
                struct json_object *k = json_object_array_get_idx(checks, i);

                if (g_strcmp0(judge_json_str(k, "result"), "fail") == 0)
                        judge_msg("FAIL %s: %s — %s", judge_json_str(k, "id"), judge_json_str(k, "summary"),
                                  judge_json_str(k, "remedy"));
        }
}

struct json_object *judge_only_assignment(struct json_object *list, const char *what) {
        if (!list || !json_object_is_type(list, json_type_array) || json_object_array_length(list) != 1) {
                judge_fail("%s: expected one persistent assignment, got %s", what,
                           list ? json_object_to_json_string(list) : "nothing");
                return NULL;
        }
        return json_object_array_get_idx(list, 0);
}
