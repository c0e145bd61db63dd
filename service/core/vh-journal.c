/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "vh-journal.h"
#include "vh-log.h"
#include "vh-macro.h"

#define JOURNAL_VERSION 1

static const char * const state_names[_VH_JOURNAL_STATE_MAX] = {
        [VH_JOURNAL_BINDING] = "binding",
        [VH_JOURNAL_BOUND] = "bound",
        [VH_JOURNAL_UNBINDING] = "unbinding",
};

const char *vh_journal_state_to_string(VhJournalState s) {
        return s < _VH_JOURNAL_STATE_MAX ? state_names[s] : NULL;
}

int vh_journal_state_from_string(const char *s) {
        for (size_t i = 0; i < _VH_JOURNAL_STATE_MAX; i++)
                if (s && strcmp(s, state_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void entry_clear(VhJournalEntry *e) {
        free(e->original_driver);
        free(e->original_override);
        memset(e, 0, sizeof(*e));
}

VhJournal *vh_journal_free(VhJournal *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < j->n_entries; i++)
                entry_clear(&j->entries[i]);
        free(j->entries);
        free(j);
        return NULL;
}

VhJournalEntry *vh_journal_find(const VhJournal *j, const char *address) {
        for (size_t i = 0; i < j->n_entries; i++)
                if (strcmp(j->entries[i].address, address) == 0)
                        return &j->entries[i];
        return NULL;
}

static int dup_or_null(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int vh_journal_put(VhJournal *j, const char *address, VhJournalState state, uint64_t txn,
                   bool original_known, const char *original_driver, const char *original_override) {
        _cleanup_free_ char *driver = NULL, *override = NULL;
        VhJournalEntry *e;

        if (!vh_address_is_valid(address) || state >= _VH_JOURNAL_STATE_MAX)
                return -EINVAL;
        if (dup_or_null(original_driver, &driver) < 0 || dup_or_null(original_override, &override) < 0)
                return -ENOMEM;

        e = vh_journal_find(j, address);
        if (e)
                entry_clear(e);
        else {
                VhJournalEntry *a = realloc(j->entries, sizeof(VhJournalEntry) * (j->n_entries + 1));

                if (!a)
                        return -ENOMEM;
                j->entries = a;
                e = &j->entries[j->n_entries++];
                memset(e, 0, sizeof(*e));
        }

        (void) vh_address_normalize(address, e->address);
        e->state = state;
        e->txn = txn;
        e->original_known = original_known;
        e->original_driver = TAKE_PTR(driver);
        e->original_override = TAKE_PTR(override);
        e->timestamp_usec = now_usec();
        return 0;
}

void vh_journal_set_state(VhJournal *j, const char *address, VhJournalState state) {
        VhJournalEntry *e = vh_journal_find(j, address);

        if (e) {
                e->state = state;
                e->timestamp_usec = now_usec();
        }
}

void vh_journal_remove(VhJournal *j, const char *address) {
        VhJournalEntry *e = vh_journal_find(j, address);
        size_t i;

        if (!e)
                return;
        i = (size_t) (e - j->entries);
        entry_clear(e);
        memmove(&j->entries[i], &j->entries[i + 1], sizeof(VhJournalEntry) * (j->n_entries - i - 1));
        j->n_entries--;
}

uint64_t vh_journal_new_txn(VhJournal *j) {
        return j->next_txn++;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static const char *json_string_or_null(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int parse_entry(VhJournal *j, json_object *o) {
        json_object *v;
        const char *address, *state;
        bool known;
        int64_t txn;
        int s, r;

        address = json_string_or_null(o, "address");
        state = json_string_or_null(o, "state");
        if (!address || !vh_address_is_valid(address) || (s = vh_journal_state_from_string(state)) < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "txn", &v) || !json_object_is_type(v, json_type_int) ||
            (txn = json_object_get_int64(v)) < 0)
                return -EBADMSG;

        /* Absent means known: entries are written with it since version 1. */
        known = !json_object_object_get_ex(o, "original_known", &v) || !json_object_is_type(v, json_type_boolean) ||
                json_object_get_boolean(v);

        r = vh_journal_put(j, address, (VhJournalState) s, (uint64_t) txn, known,
                           json_string_or_null(o, "original_driver"),
                           json_string_or_null(o, "original_override"));
        if (r < 0)
                return r;

        if (json_object_object_get_ex(o, "time", &v) && json_object_is_type(v, json_type_int))
                vh_journal_find(j, address)->timestamp_usec = (uint64_t) json_object_get_int64(v);
        return 0;
}

/* One JSON value and nothing after it but whitespace: two journals run
 * together, or a truncated rewrite, are damage, not the first half. */
static json_object *parse_whole(const char *content) {
        json_tokener *tok = json_tokener_new();
        json_object *o;
        const char *rest;
        size_t len = strlen(content);

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, content, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                json_tokener_free(tok);
                return NULL;
        }
        rest = content + json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (rest[strspn(rest, " \t\r\n")]) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int vh_journal_load(const VhHostFs *fs, const char *state_dir, VhJournal **ret) {
        _cleanup_(vh_journal_freep) VhJournal *j = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_free_ char *content = NULL;
        json_object *v, *devices;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->next_txn = 1;

        r = vh_hostfs_read_file(fs, &content, NULL, state_dir, VH_JOURNAL_FILE, NULL);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(j);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read the journal %s/%s: %m", state_dir, VH_JOURNAL_FILE);

        root = parse_whole(content);
        if (!root || !json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) != JOURNAL_VERSION ||
            !json_object_object_get_ex(root, "devices", &devices) || !json_object_is_type(devices, json_type_array))
                return log_error_errno(EBADMSG, "The journal %s/%s is damaged or of an unknown version; "
                                       "move it aside after checking which devices are on vfio-pci.",
                                       state_dir, VH_JOURNAL_FILE);

        for (size_t i = 0; i < json_object_array_length(devices); i++) {
                r = parse_entry(j, json_object_array_get_idx(devices, i));
                if (r < 0)
                        return log_error_errno(r, "The journal %s/%s has a damaged entry %zu.", state_dir, VH_JOURNAL_FILE, i);
        }

        if (json_object_object_get_ex(root, "next_txn", &v) && json_object_is_type(v, json_type_int) &&
            json_object_get_int64(v) > 0)
                j->next_txn = (uint64_t) json_object_get_int64(v);
        for (size_t i = 0; i < j->n_entries; i++)
                if (j->entries[i].txn >= j->next_txn)
                        j->next_txn = j->entries[i].txn + 1;

        *ret = TAKE_PTR(j);
        return 0;
}

static json_object *string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

int vh_journal_save(const VhHostFs *fs, const char *state_dir, const VhJournal *j) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *devices;
        const char *text;
        int r;

        root = json_object_new_object();
        devices = json_object_new_array();
        if (!root || !devices) {
                json_object_put(devices);
                return -ENOMEM;
        }
        json_object_object_add(root, "version", json_object_new_int(JOURNAL_VERSION));
        json_object_object_add(root, "next_txn", json_object_new_int64((int64_t) j->next_txn));
        json_object_object_add(root, "devices", devices);

        for (size_t i = 0; i < j->n_entries; i++) {
                const VhJournalEntry *e = &j->entries[i];
                json_object *o = json_object_new_object();

                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "address", json_object_new_string(e->address));
                json_object_object_add(o, "state", json_object_new_string(vh_journal_state_to_string(e->state)));
                json_object_object_add(o, "txn", json_object_new_int64((int64_t) e->txn));
                json_object_object_add(o, "original_known", json_object_new_boolean(e->original_known));
                json_object_object_add(o, "original_driver", string_or_null(e->original_driver));
                json_object_object_add(o, "original_override", string_or_null(e->original_override));
                json_object_object_add(o, "time", json_object_new_int64((int64_t) e->timestamp_usec));
                json_object_array_add(devices, o);
        }

        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        r = vh_hostfs_mkdir_p(fs, state_dir, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot create the state directory %s: %m", state_dir);

        r = vh_hostfs_write_file_atomic(fs, text, strlen(text), state_dir, VH_JOURNAL_FILE, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot write the journal %s/%s: %m", state_dir, VH_JOURNAL_FILE);
        return 0;
}
