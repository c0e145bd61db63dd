/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "vh-journal.h"
#include "vh-json-read.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"

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
        free(e->driver);
        memset(e, 0, sizeof(*e));
}

VhJournal *vh_journal_free(VhJournal *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < j->n_entries; i++)
                entry_clear(&j->entries[i]);
        free(j->entries);
        for (size_t i = 0; i < j->n_notes; i++)
                free(j->notes[i].text);
        free(j->notes);
        for (size_t i = 0; i < j->n_vf_counts; i++)
                free(j->vf_counts[i].driver);
        free(j->vf_counts);
        free(j);
        return NULL;
}

VhJournalEntry *vh_journal_find(const VhJournal *j, const char *address) {
        char canonical[VH_ADDRESS_MAX];

        /* Entries are canonical; callers may not be. */
        if (!address || vh_address_normalize(address, canonical) < 0)
                return NULL;
        for (size_t i = 0; i < j->n_entries; i++)
                if (strcmp(j->entries[i].address, canonical) == 0)
                        return &j->entries[i];
        return NULL;
}

bool vh_journal_driver_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        /* It becomes a path component: drivers/<name>/bind. */
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+-") == n;
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

void vh_journal_set_state(VhJournal *j, const char *address, VhJournalState state, uint64_t txn) {
        VhJournalEntry *e = vh_journal_find(j, address);

        if (e) {
                e->state = state;
                e->txn = txn;
                e->timestamp_usec = now_usec();
        }
}

void vh_journal_set_identity(VhJournal *j, const char *address, const VhJournalIdentity *identity) {
        VhJournalEntry *e = vh_journal_find(j, address);

        if (e) {
                e->has_identity = identity != NULL;
                e->identity = identity ? *identity : (VhJournalIdentity) {};
        }
}

int vh_journal_set_driver(VhJournal *j, const char *address, const char *driver) {
        VhJournalEntry *e = vh_journal_find(j, address);
        char *copy = NULL;

        if (!e)
                return -ENOENT;
        if (driver && strcmp(driver, VH_DRIVER_VFIO_PCI) != 0 && !(copy = strdup(driver)))
                return -ENOMEM;
        free(e->driver);
        e->driver = copy;
        return 0;
}

const char *vh_journal_entry_driver(const VhJournalEntry *e) {
        return e->driver ?: VH_DRIVER_VFIO_PCI;
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

VhJournalVfCount *vh_journal_find_vf_count(const VhJournal *j, const char *pf) {
        char canonical[VH_ADDRESS_MAX];

        if (!pf || vh_address_normalize(pf, canonical) < 0)
                return NULL;
        for (size_t i = 0; i < j->n_vf_counts; i++)
                if (strcmp(j->vf_counts[i].pf, canonical) == 0)
                        return &j->vf_counts[i];
        return NULL;
}

int vh_journal_put_vf_count(VhJournal *j, const VhJournalVfCount *e) {
        _cleanup_free_ char *driver = NULL;
        VhJournalVfCount *slot;

        if (!vh_address_is_valid(e->pf) || (e->driver && !vh_journal_driver_name_is_valid(e->driver)))
                return -EINVAL;
        if (dup_or_null(e->driver, &driver) < 0)
                return -ENOMEM;

        slot = vh_journal_find_vf_count(j, e->pf);
        if (slot)
                free(slot->driver);
        else {
                VhJournalVfCount *a = realloc(j->vf_counts, sizeof(VhJournalVfCount) * (j->n_vf_counts + 1));

                if (!a)
                        return -ENOMEM;
                j->vf_counts = a;
                slot = &j->vf_counts[j->n_vf_counts++];
        }
        *slot = *e;
        (void) vh_address_normalize(e->pf, slot->pf);
        slot->driver = TAKE_PTR(driver);
        slot->timestamp_usec = now_usec();
        return 0;
}

void vh_journal_remove_vf_count(VhJournal *j, const char *pf) {
        VhJournalVfCount *e = vh_journal_find_vf_count(j, pf);
        size_t i;

        if (!e)
                return;
        i = (size_t) (e - j->vf_counts);
        free(e->driver);
        memmove(&j->vf_counts[i], &j->vf_counts[i + 1], sizeof(VhJournalVfCount) * (j->n_vf_counts - i - 1));
        j->n_vf_counts--;
}

uint64_t vh_journal_new_txn(VhJournal *j) {
        return j->next_txn++;
}

static int add_note_at(VhJournal *j, const char *address, const char *text, uint64_t timestamp_usec) {
        VhJournalNote *n;
        char *copy;

        if (vh_address_normalize(address, (char[VH_ADDRESS_MAX]) {}) < 0 || !text)
                return -EINVAL;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;

        if (j->n_notes >= VH_JOURNAL_NOTES_MAX) {
                free(j->notes[0].text);
                memmove(&j->notes[0], &j->notes[1], sizeof(VhJournalNote) * (j->n_notes - 1));
                j->n_notes--;
        } else {
                VhJournalNote *a = realloc(j->notes, sizeof(VhJournalNote) * (j->n_notes + 1));

                if (!a) {
                        free(copy);
                        return -ENOMEM;
                }
                j->notes = a;
        }
        n = &j->notes[j->n_notes++];
        (void) vh_address_normalize(address, n->address);
        n->text = copy;
        n->timestamp_usec = timestamp_usec;
        return 0;
}

int vh_journal_add_note(VhJournal *j, const char *address, const char *text) {
        return add_note_at(j, address, text, now_usec());
}

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static int parse_identity(json_object *o, VhJournalIdentity *ret) {
        if (!json_object_is_type(o, json_type_object) ||
            vh_json_get_pci_id(o, "vendor", &ret->vendor) < 0 || vh_json_get_pci_id(o, "device", &ret->device) < 0 ||
            vh_json_get_pci_id(o, "subsystem_vendor", &ret->subsystem_vendor) < 0 ||
            vh_json_get_pci_id(o, "subsystem_device", &ret->subsystem_device) < 0)
                return -EBADMSG;
        return 0;
}

/* The largest next_txn and time accepted: far beyond any real value,
 * small enough that next_txn never wraps. An entry's txn stays below it,
 * so that the next_txn a load derives (txn + 1) loads again (a journal
 * that loads must save and load back: tests/fuzz/fuzz-journal.c). */
#define JOURNAL_UINT_MAX ((int64_t) 1 << 62)
#define JOURNAL_TXN_MAX (JOURNAL_UINT_MAX - 1)

static int parse_entry(VhJournal *j, json_object *o) {
        const char *address, *state, *driver, *override, *vfio_driver;
        char canonical[VH_ADDRESS_MAX];
        VhJournalIdentity identity = {};
        bool known, has_identity;
        uint64_t txn, attempts, timestamp;
        json_object *v;
        VhJournalEntry *e;
        int s, r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (vh_json_get_string(o, "address", &address) < 0 || !address || vh_address_normalize(address, canonical) < 0)
                return -EBADMSG;
        /* Two entries for one function (in any spelling): which is true? */
        if (vh_journal_find(j, canonical))
                return -EBADMSG;
        if (vh_json_get_string(o, "state", &state) < 0 || (s = vh_journal_state_from_string(state)) < 0)
                return -EBADMSG;
        if (vh_json_get_uint(o, "txn", JOURNAL_TXN_MAX, -1, &txn) < 0 ||
            vh_json_get_uint(o, "attempts", 1000, 0, &attempts) < 0 ||
            vh_json_get_uint(o, "time", JOURNAL_UINT_MAX, 0, &timestamp) < 0)
                return -EBADMSG;
        /* Absent means known: entries are written with it since version 1. */
        if (vh_json_get_bool(o, "original_known", true, &known) < 0)
                return -EBADMSG;
        if (vh_json_get_string(o, "original_driver", &driver) < 0 || (driver && !vh_journal_driver_name_is_valid(driver)) ||
            vh_json_get_string(o, "original_override", &override) < 0 ||
            (override && !vh_journal_driver_name_is_valid(override)))
                return -EBADMSG;
        /* Absent: vfio-pci, as every entry before variant drivers meant. */
        if (vh_json_get_string(o, "driver", &vfio_driver) < 0 ||
            (vfio_driver && !vh_journal_driver_name_is_valid(vfio_driver)))
                return -EBADMSG;
        has_identity = json_object_object_get_ex(o, "identity", &v);
        if (has_identity && parse_identity(v, &identity) < 0)
                return -EBADMSG;

        r = vh_journal_put(j, canonical, (VhJournalState) s, txn, known, driver, override);
        if (r < 0)
                return r;
        e = vh_journal_find(j, canonical);
        e->has_identity = has_identity;
        e->identity = identity;
        e->attempts = (unsigned) attempts;
        e->timestamp_usec = timestamp;
        return vh_journal_set_driver(j, canonical, vfio_driver);
}

static int parse_note(VhJournal *j, json_object *o) {
        const char *address, *text;
        uint64_t timestamp;

        if (!json_object_is_type(o, json_type_object) ||
            vh_json_get_string(o, "address", &address) < 0 || !address || !vh_address_is_valid(address) ||
            vh_json_get_string(o, "note", &text) < 0 || !text ||
            vh_json_get_uint(o, "time", JOURNAL_UINT_MAX, 0, &timestamp) < 0)
                return -EBADMSG;
        return add_note_at(j, address, text, timestamp);
}

/* Counts up to what any kernel allows (sriov_totalvfs is a u16). */
#define JOURNAL_VF_COUNT_MAX 65535

static int parse_vf_count(VhJournal *j, json_object *o) {
        VhJournalVfCount e = {};
        const char *pf, *driver;
        uint64_t txn, before, after, timestamp;
        bool autoprobe;
        int r;

        if (!json_object_is_type(o, json_type_object) ||
            vh_json_get_string(o, "pf", &pf) < 0 || !pf || vh_address_normalize(pf, e.pf) < 0 ||
            vh_journal_find_vf_count(j, e.pf) ||
            vh_json_get_uint(o, "txn", JOURNAL_TXN_MAX, -1, &txn) < 0 ||
            vh_json_get_uint(o, "count_before", JOURNAL_VF_COUNT_MAX, -1, &before) < 0 ||
            vh_json_get_uint(o, "count_after", JOURNAL_VF_COUNT_MAX, -1, &after) < 0 ||
            vh_json_get_uint(o, "time", JOURNAL_UINT_MAX, 0, &timestamp) < 0 ||
            vh_json_get_bool(o, "autoprobe_before", true, &autoprobe) < 0 ||
            vh_json_get_string(o, "driver", &driver) < 0 || (driver && !vh_journal_driver_name_is_valid(driver)))
                return -EBADMSG;
        e.txn = txn;
        e.count_before = (unsigned) before;
        e.count_after = (unsigned) after;
        e.driver = (char *) driver;
        e.autoprobe_before = autoprobe;
        r = vh_journal_put_vf_count(j, &e);
        if (r < 0)
                return r;
        vh_journal_find_vf_count(j, e.pf)->timestamp_usec = timestamp;
        return 0;
}

/* One JSON value and nothing after it but whitespace: two journals run
 * together, or a truncated rewrite, are damage, not the first half. */
int vh_journal_load(const VhHostFs *fs, const char *state_dir, VhJournal **ret) {
        _cleanup_(vh_journal_freep) VhJournal *j = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_free_ char *content = NULL;
        json_object *v, *devices, *notes, *vf_counts;
        uint64_t next_txn;
        size_t size = 0;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->next_txn = 1;

        r = vh_hostfs_read_file(fs, &content, &size, state_dir, VH_JOURNAL_FILE, NULL);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(j);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read the journal %s/%s: %m", state_dir, VH_JOURNAL_FILE);

        /* A NUL inside is damage too: json-c would stop reading there. */
        root = strlen(content) == size ? vh_json_parse_whole(content) : NULL;
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

        if (json_object_object_get_ex(root, "notes", &notes)) {
                if (!json_object_is_type(notes, json_type_array))
                        return log_error_errno(EBADMSG, "The journal %s/%s has damaged notes.", state_dir, VH_JOURNAL_FILE);
                for (size_t i = 0; i < json_object_array_length(notes); i++) {
                        r = parse_note(j, json_object_array_get_idx(notes, i));
                        if (r < 0)
                                return log_error_errno(r, "The journal %s/%s has a damaged note %zu.", state_dir, VH_JOURNAL_FILE, i);
                }
        }

        /* Absent in journals written before SetVfCount existed. */
        if (json_object_object_get_ex(root, "vf_counts", &vf_counts)) {
                if (!json_object_is_type(vf_counts, json_type_array))
                        return log_error_errno(EBADMSG, "The journal %s/%s has damaged vf_counts.", state_dir, VH_JOURNAL_FILE);
                for (size_t i = 0; i < json_object_array_length(vf_counts); i++) {
                        r = parse_vf_count(j, json_object_array_get_idx(vf_counts, i));
                        if (r < 0)
                                return log_error_errno(r, "The journal %s/%s has a damaged vf_counts entry %zu.",
                                                       state_dir, VH_JOURNAL_FILE, i);
                }
        }

        if (vh_json_get_uint(root, "next_txn", JOURNAL_UINT_MAX, 1, &next_txn) < 0)
                return log_error_errno(EBADMSG, "The journal %s/%s has a damaged next_txn.", state_dir, VH_JOURNAL_FILE);
        j->next_txn = next_txn ?: 1;
        for (size_t i = 0; i < j->n_entries; i++)
                if (j->entries[i].txn >= j->next_txn)
                        j->next_txn = j->entries[i].txn + 1;
        for (size_t i = 0; i < j->n_vf_counts; i++)
                if (j->vf_counts[i].txn >= j->next_txn)
                        j->next_txn = j->vf_counts[i].txn + 1;

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
                if (e->driver)
                        json_object_object_add(o, "driver", json_object_new_string(e->driver));
                if (e->has_identity) {
                        json_object *id = json_object_new_object();
                        char hex[5];

                        if (!id) {
                                json_object_put(o);
                                return -ENOMEM;
                        }
#define ADD_ID(key, value) \
                        (snprintf(hex, sizeof(hex), "%04x", (unsigned) (value)), \
                         json_object_object_add(id, key, json_object_new_string(hex)))
                        ADD_ID("vendor", e->identity.vendor);
                        ADD_ID("device", e->identity.device);
                        ADD_ID("subsystem_vendor", e->identity.subsystem_vendor);
                        ADD_ID("subsystem_device", e->identity.subsystem_device);
#undef ADD_ID
                        json_object_object_add(o, "identity", id);
                }
                if (e->attempts > 0)
                        json_object_object_add(o, "attempts", json_object_new_int64(e->attempts));
                json_object_object_add(o, "time", json_object_new_int64((int64_t) e->timestamp_usec));
                json_object_array_add(devices, o);
        }

        if (j->n_notes > 0) {
                json_object *notes = json_object_new_array();

                if (!notes)
                        return -ENOMEM;
                json_object_object_add(root, "notes", notes);
                for (size_t i = 0; i < j->n_notes; i++) {
                        json_object *o = json_object_new_object();

                        if (!o)
                                return -ENOMEM;
                        json_object_object_add(o, "address", json_object_new_string(j->notes[i].address));
                        json_object_object_add(o, "note", json_object_new_string(j->notes[i].text));
                        json_object_object_add(o, "time", json_object_new_int64((int64_t) j->notes[i].timestamp_usec));
                        json_object_array_add(notes, o);
                }
        }

        if (j->n_vf_counts > 0) {
                json_object *vf_counts = json_object_new_array();

                if (!vf_counts)
                        return -ENOMEM;
                json_object_object_add(root, "vf_counts", vf_counts);
                for (size_t i = 0; i < j->n_vf_counts; i++) {
                        const VhJournalVfCount *e = &j->vf_counts[i];
                        json_object *o = json_object_new_object();

                        if (!o)
                                return -ENOMEM;
                        json_object_object_add(o, "pf", json_object_new_string(e->pf));
                        json_object_object_add(o, "txn", json_object_new_int64((int64_t) e->txn));
                        json_object_object_add(o, "count_before", json_object_new_int64(e->count_before));
                        json_object_object_add(o, "count_after", json_object_new_int64(e->count_after));
                        json_object_object_add(o, "driver", string_or_null(e->driver));
                        json_object_object_add(o, "autoprobe_before", json_object_new_boolean(e->autoprobe_before));
                        json_object_object_add(o, "time", json_object_new_int64((int64_t) e->timestamp_usec));
                        json_object_array_add(vf_counts, o);
                }
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
