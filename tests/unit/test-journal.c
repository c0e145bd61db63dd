/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-journal: what vfiohostd changed, saved atomically beneath the host
 * root and loaded strictly — a damaged or unknown journal is refused, never
 * guessed at. Every test works in an empty temporary root. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-hostfs.h"
#include "vh-journal.h"
#include "vh-unit.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhJournal, vh_journal_free)

#define STATE_DIR VH_JOURNAL_DEFAULT_DIR
#define JOURNAL   VH_JOURNAL_DEFAULT_DIR "/" VH_JOURNAL_FILE

#define GPU   "0000:01:00.0"
#define AUDIO "0000:01:00.1"

typedef struct {
        char *root;
        VhHostFs *fs;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        f->root = vh_unit_empty_root();
        g_assert_cmpint(vh_hostfs_new(f->root, &f->fs), ==, 0);
        g_assert_false(vh_hostfs_is_host_root(f->fs));
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        vh_hostfs_free(f->fs);
        vh_unit_remove_copy(f->root);
        g_free(f->root);
}

static VhJournal *load_ok(Fixture *f) {
        VhJournal *j = NULL;

        g_assert_cmpint(vh_journal_load(f->fs, STATE_DIR, &j), ==, 0);
        g_assert_nonnull(j);
        return j;
}

static gboolean exists(Fixture *f, const char *rel) {
        g_autofree char *p = g_build_filename(f->root, rel, NULL);
        GStatBuf st;

        return g_lstat(p, &st) == 0;
}

/* The entries of the state directory, sorted. */
static char **state_dir_entries(Fixture *f) {
        g_autofree char *dir = g_build_filename(f->root, STATE_DIR, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *e;

        g_assert_nonnull(d);
        while ((e = g_dir_read_name(d)))
                g_ptr_array_add(names, g_strdup(e));
        g_ptr_array_sort(names, vh_unit_compare_strp);
        g_ptr_array_add(names, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

/* The file's text with all whitespace removed (no value contains any). */
static char *journal_text_compact(Fixture *f) {
        g_autofree char *s = vh_unit_read_file(f->root, JOURNAL);
        GString *out = g_string_new(NULL);

        for (const char *p = s; *p; p++)
                if (!g_ascii_isspace(*p))
                        g_string_append_c(out, *p);
        return g_string_free(out, FALSE);
}

/* ---- */

static void test_missing(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;

        j = load_ok(f);
        g_assert_cmpuint(j->n_entries, ==, 0);
        g_assert_cmpuint(j->next_txn, ==, 1);
        g_assert_null(vh_journal_find(j, GPU));
        /* loading creates nothing */
        g_assert_false(exists(f, "var"));
}

static void test_state_names(void) {
        g_assert_cmpstr(vh_journal_state_to_string(VH_JOURNAL_BINDING), ==, "binding");
        g_assert_cmpstr(vh_journal_state_to_string(VH_JOURNAL_BOUND), ==, "bound");
        g_assert_cmpstr(vh_journal_state_to_string(VH_JOURNAL_UNBINDING), ==, "unbinding");
        g_assert_null(vh_journal_state_to_string(_VH_JOURNAL_STATE_MAX));
        for (int s = 0; s < _VH_JOURNAL_STATE_MAX; s++)
                g_assert_cmpint(vh_journal_state_from_string(vh_journal_state_to_string(s)), ==, s);
        g_assert_cmpint(vh_journal_state_from_string("Bound"), ==, -EINVAL);
        g_assert_cmpint(vh_journal_state_from_string(""), ==, -EINVAL);
        g_assert_cmpint(vh_journal_state_from_string(NULL), ==, -EINVAL);
}

static void test_round_trip(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL, k = NULL;
        g_autofree char *text = NULL;
        uint64_t txn;
        VhJournalEntry *a, *b;

        j = load_ok(f);
        txn = vh_journal_new_txn(j);
        g_assert_cmpuint(txn, ==, 1);
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_BINDING, txn, true, "nvidia", NULL), ==, 0);
        g_assert_cmpint(vh_journal_put(j, AUDIO, VH_JOURNAL_BOUND, txn, true, NULL, "vfio-pci"), ==, 0);
        /* bound by someone else: the original driver is unknown, which is
         * not the same as "had no driver" */
        g_assert_cmpint(vh_journal_put(j, "0000:3b:02.1", VH_JOURNAL_UNBINDING, txn, false, NULL, NULL), ==, 0);
        /* a timestamp from the past survives as it is */
        vh_journal_find(j, AUDIO)->timestamp_usec = 1718031602153071;
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);

        /* the file says it in the documented format */
        text = journal_text_compact(f);
        g_test_message("journal: %s", text);
        g_assert_true(g_str_has_prefix(text, "{"));
        g_assert_nonnull(strstr(text, "\"version\":1"));
        g_assert_nonnull(strstr(text, "\"next_txn\":2"));
        g_assert_nonnull(strstr(text, "\"address\":\"0000:01:00.0\""));
        g_assert_nonnull(strstr(text, "\"state\":\"binding\""));
        g_assert_nonnull(strstr(text, "\"original_driver\":\"nvidia\""));
        g_assert_nonnull(strstr(text, "\"original_override\":null"));
        g_assert_nonnull(strstr(text, "\"original_override\":\"vfio-pci\""));
        g_assert_nonnull(strstr(text, "\"time\":1718031602153071"));
        g_assert_nonnull(strstr(text, "\"state\":\"unbinding\""));

        k = load_ok(f);
        g_assert_cmpuint(k->n_entries, ==, 3);
        g_assert_cmpuint(k->next_txn, ==, 2);
        for (size_t i = 0; i < 3; i++) {
                const VhJournalEntry *x = &j->entries[i], *y = &k->entries[i];

                g_assert_cmpstr(y->address, ==, x->address);
                g_assert_cmpint(y->state, ==, x->state);
                g_assert_cmpuint(y->txn, ==, x->txn);
                g_assert_cmpint(y->original_known, ==, x->original_known);
                g_assert_cmpstr(y->original_driver, ==, x->original_driver);
                g_assert_cmpstr(y->original_override, ==, x->original_override);
                g_assert_cmpuint(y->timestamp_usec, ==, x->timestamp_usec);
        }
        a = vh_journal_find(k, GPU);
        b = vh_journal_find(k, AUDIO);
        g_assert_nonnull(a);
        g_assert_nonnull(b);
        g_assert_cmpint(a->state, ==, VH_JOURNAL_BINDING);
        g_assert_cmpstr(a->original_driver, ==, "nvidia");
        g_assert_null(a->original_override);
        g_assert_cmpint(b->state, ==, VH_JOURNAL_BOUND);
        g_assert_null(b->original_driver);
        g_assert_cmpstr(b->original_override, ==, "vfio-pci");
        g_assert_cmpuint(b->timestamp_usec, ==, 1718031602153071);
        g_assert_cmpuint(a->timestamp_usec, >, 1600000000000000);
        g_assert_true(a->original_known);
        g_assert_true(b->original_known);
        g_assert_false(vh_journal_find(k, "0000:3b:02.1")->original_known);
        g_assert_cmpint(vh_journal_find(k, "0000:3b:02.1")->state, ==, VH_JOURNAL_UNBINDING);

        /* an empty journal round-trips too (what a finished unbind leaves) */
        vh_journal_remove(k, GPU);
        vh_journal_remove(k, AUDIO);
        vh_journal_remove(k, "0000:3b:02.1");
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, k), ==, 0);
        vh_journal_free(j);
        j = load_ok(f);
        g_assert_cmpuint(j->n_entries, ==, 0);
        g_assert_cmpuint(j->next_txn, ==, 2);
}

/* The fixture desktop-vfio-bound's journal, as written by the generator,
 * loads: the format in tests/data is the daemon's. */
static void test_fixture_journal(void) {
        g_autofree char *dir = vh_unit_host_dir("desktop-vfio-bound");
        g_autoptr(VhJournal) j = NULL;
        VhHostFs *fs = NULL;
        VhJournalEntry *e;

        g_assert_cmpint(vh_hostfs_new(dir, &fs), ==, 0);
        vh_hostfs_set_read_only(fs, true);
        g_assert_cmpint(vh_journal_load(fs, STATE_DIR, &j), ==, 0);
        g_assert_cmpuint(j->n_entries, ==, 2);
        g_assert_cmpuint(j->next_txn, ==, 2);
        e = vh_journal_find(j, GPU);
        g_assert_nonnull(e);
        g_assert_cmpint(e->state, ==, VH_JOURNAL_BOUND);
        g_assert_cmpstr(e->original_driver, ==, "nvidia");
        g_assert_null(e->original_override);
        e = vh_journal_find(j, AUDIO);
        g_assert_nonnull(e);
        g_assert_cmpstr(e->original_driver, ==, "snd_hda_intel");
        vh_hostfs_free(fs);
}

/* Saving replaces the file by rename: a reader holding the old file sees
 * the complete old content, the new file is another inode, no temporary
 * file stays behind, the directory holds exactly journal.json. */
static void test_atomic_replace(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL, k = NULL;
        g_autofree char *path = g_build_filename(f->root, JOURNAL, NULL);
        g_autofree char *old = NULL, *now = NULL;
        g_auto(GStrv) entries = NULL;
        const char *only_journal[] = { VH_JOURNAL_FILE, NULL };
        char buf[8192];
        struct stat st_old, st_new;
        ssize_t n;
        int fd;

        j = load_ok(f);
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_BINDING, vh_journal_new_txn(j), true, "nvidia", NULL), ==, 0);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);
        old = vh_unit_read_file(f->root, JOURNAL);
        entries = state_dir_entries(f);
        g_assert_cmpstrv(entries, only_journal);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fstat(fd, &st_old), ==, 0);
        g_assert_cmpint(st_old.st_mode & 07777, ==, 0644);

        vh_journal_set_state(j, GPU, VH_JOURNAL_BOUND, 1);
        g_assert_cmpint(vh_journal_put(j, AUDIO, VH_JOURNAL_BOUND, 1, true, "snd_hda_intel", NULL), ==, 0);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);

        /* the old inode still holds the old journal, untouched */
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        g_assert_cmpint(n, >=, 0);
        buf[n] = 0;
        g_assert_cmpstr(buf, ==, old);
        g_assert_cmpint(close(fd), ==, 0);

        g_assert_cmpint(stat(path, &st_new), ==, 0);
        g_assert_cmpuint(st_new.st_ino, !=, st_old.st_ino);
        g_assert_cmpint(st_new.st_mode & 07777, ==, 0644);
        now = vh_unit_read_file(f->root, JOURNAL);
        g_assert_cmpstr(now, !=, old);
        g_assert_nonnull(strstr(now, AUDIO));

        g_strfreev(entries);
        entries = state_dir_entries(f);
        g_assert_cmpstrv(entries, only_journal);

        k = load_ok(f);
        g_assert_cmpuint(k->n_entries, ==, 2);
        g_assert_cmpint(vh_journal_find(k, GPU)->state, ==, VH_JOURNAL_BOUND);
}

/* A damaged journal is refused with -EBADMSG; the file stays as it was. */
static void test_damaged(Fixture *f, gconstpointer data) {
        static const char *const bad[] = {
                "",
                "   \n",
                "{",
                "{\"version\":1,\"next_txn\":2,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bou",
                "null",
                "[]",
                "\"journal\"",
                "\x89PNG\r\n\x1a\n",
                "{\"next_txn\":2,\"devices\":[]}",                                    /* no version */
                "{\"version\":1}",                                                   /* no devices */
                "{\"version\":1,\"devices\":{}}",
                "{\"version\":1,\"devices\":[42]}",
                "{\"version\":1,\"devices\":[{\"state\":\"bound\",\"txn\":1}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00\",\"state\":\"bound\",\"txn\":1}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"../../etc\",\"state\":\"bound\",\"txn\":1}]}",
                "{\"version\":1,\"devices\":[{\"address\":1,\"state\":\"bound\",\"txn\":1}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"gone\",\"txn\":1}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"txn\":1}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\"}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":-1}]}",
                /* the largest next_txn as a txn: the next_txn it implies would not load */
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\","
                "\"txn\":4611686018427387904}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":\"1\"}]}",
                /* one good entry does not excuse a bad one */
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1},"
                "{\"address\":\"0000:01:00.1\",\"state\":\"bogus\",\"txn\":1}]}",
                /* two entries for one function, in either spelling */
                "{\"version\":1,\"devices\":[{\"address\":\"0000:0a:00.0\",\"state\":\"bound\",\"txn\":1},"
                "{\"address\":\"0000:0A:00.0\",\"state\":\"binding\",\"txn\":2}]}",
                /* driver names become path components: drivers/<name>/bind */
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"original_driver\":\"../../../etc\"}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"original_driver\":\"nvidia/unbind\"}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"original_driver\":\"\"}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"original_override\":\"..\"}]}",
                /* present with the wrong type is damage, not absence */
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"original_driver\":42}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"original_known\":\"yes\"}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"time\":\"now\"}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"time\":-5}]}",
                "{\"version\":1,\"next_txn\":\"2\",\"devices\":[]}",
                "{\"version\":1,\"next_txn\":99999999999999999999999,\"devices\":[]}",
                /* identities: all four ids, four hex digits each */
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"identity\":{\"vendor\":\"10de\"}}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"identity\":{\"vendor\":\"0x10de\",\"device\":\"2684\",\"subsystem_vendor\":\"10de\","
                "\"subsystem_device\":\"16f3\"}}]}",
                "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\",\"state\":\"bound\",\"txn\":1,"
                "\"identity\":\"10de:2684\"}]}",
                "{\"version\":1,\"devices\":[],\"notes\":{}}",
                "{\"version\":1,\"devices\":[],\"notes\":[{\"address\":\"x\",\"note\":\"n\"}]}",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *after = NULL;
                VhJournal *j = NULL;
                int r;

                vh_unit_write_file(f->root, JOURNAL, bad[i]);
                r = vh_journal_load(f->fs, STATE_DIR, &j);
                /* not fatal: report every journal that gets through */
                if (r != -EBADMSG) {
                        g_autofree char *text = g_strescape(bad[i], NULL);

                        g_test_fail_printf("damaged journal #%zu '%s' loaded with %d (%s), expected -EBADMSG",
                                           i, text, r, r < 0 ? g_strerror(-r) : "accepted");
                        vh_journal_free(j);
                        j = NULL;
                }
                g_assert_null(j);
                after = vh_unit_read_file(f->root, JOURNAL);
                g_assert_cmpstr(after, ==, bad[i]);
        }
}

/* Only version 1 is understood. */
static void test_unknown_version(Fixture *f, gconstpointer data) {
        static const char *const versions[] = { "0", "2", "-1", "null", "1.1e1", "[1]" };

        for (size_t i = 0; i < G_N_ELEMENTS(versions); i++) {
                g_autofree char *text = g_strdup_printf(
                        "{\"version\":%s,\"next_txn\":2,\"devices\":[{\"address\":\"0000:01:00.0\","
                        "\"state\":\"bound\",\"txn\":1,\"original_driver\":\"nvidia\"}]}", versions[i]);
                VhJournal *j = NULL;
                int r;

                vh_unit_write_file(f->root, JOURNAL, text);
                r = vh_journal_load(f->fs, STATE_DIR, &j);
                if (r != -EBADMSG) {
                        g_test_fail_printf("journal of version %s loaded with %d, expected -EBADMSG", versions[i], r);
                        vh_journal_free(j);
                        j = NULL;
                }
                g_assert_null(j);
        }

        /* and the same text with version 1 loads: the refusal was the version */
        {
                g_autoptr(VhJournal) j = NULL;

                vh_unit_write_file(f->root, JOURNAL,
                                   "{\"version\":1,\"next_txn\":2,\"devices\":[{\"address\":\"0000:01:00.0\","
                                   "\"state\":\"bound\",\"txn\":1,\"original_driver\":\"nvidia\"}]}");
                j = load_ok(f);
                g_assert_cmpuint(j->n_entries, ==, 1);
                g_assert_cmpstr(j->entries[0].original_driver, ==, "nvidia");
                /* written before original_known existed: known */
                g_assert_true(j->entries[0].original_known);
        }
}

/* A journal that cannot be read (here: a directory in its place) is an
 * error, not an empty journal. */
static void test_unreadable(Fixture *f, gconstpointer data) {
        g_autofree char *dir = g_build_filename(f->root, JOURNAL, NULL);
        VhJournal *j = NULL;
        int r;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        r = vh_journal_load(f->fs, STATE_DIR, &j);
        g_assert_cmpint(r, <, 0);
        g_assert_cmpint(r, !=, -ENOENT);
        g_assert_null(j);
}

static void test_edit(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;
        VhJournalEntry *e;
        uint64_t t0;

        j = load_ok(f);
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_BINDING, 1, true, "nvidia", NULL), ==, 0);
        g_assert_cmpint(vh_journal_put(j, AUDIO, VH_JOURNAL_BINDING, 1, true, "snd_hda_intel", NULL), ==, 0);
        g_assert_cmpuint(j->n_entries, ==, 2);

        /* put on an existing address replaces it in place */
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_UNBINDING, 7, true, "nouveau", "vfio-pci"), ==, 0);
        g_assert_cmpuint(j->n_entries, ==, 2);
        g_assert_cmpstr(j->entries[0].address, ==, GPU);
        e = vh_journal_find(j, GPU);
        g_assert_true(e == &j->entries[0]);
        g_assert_cmpint(e->state, ==, VH_JOURNAL_UNBINDING);
        g_assert_cmpuint(e->txn, ==, 7);
        g_assert_cmpstr(e->original_driver, ==, "nouveau");
        g_assert_cmpstr(e->original_override, ==, "vfio-pci");
        /* ... and NULL replaces a string */
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_UNBINDING, 7, true, NULL, NULL), ==, 0);
        g_assert_null(vh_journal_find(j, GPU)->original_driver);
        g_assert_null(vh_journal_find(j, GPU)->original_override);

        /* put copies the strings */
        {
                char driver[] = "snd_hda_intel";

                g_assert_cmpint(vh_journal_put(j, AUDIO, VH_JOURNAL_BINDING, 1, true, driver, NULL), ==, 0);
                driver[0] = 'X';
                g_assert_cmpstr(vh_journal_find(j, AUDIO)->original_driver, ==, "snd_hda_intel");
        }

        /* set_state changes the state, the transaction and the time, nothing else */
        e = vh_journal_find(j, AUDIO);
        e->timestamp_usec = 1;
        vh_journal_set_state(j, AUDIO, VH_JOURNAL_BOUND, 7);
        e = vh_journal_find(j, AUDIO);
        g_assert_cmpint(e->state, ==, VH_JOURNAL_BOUND);
        g_assert_cmpuint(e->timestamp_usec, >, 1);
        g_assert_cmpuint(e->txn, ==, 7);
        g_assert_cmpstr(e->original_driver, ==, "snd_hda_intel");
        t0 = e->timestamp_usec;
        vh_journal_set_state(j, "0000:05:00.0", VH_JOURNAL_BOUND, 8);        /* unknown: nothing */
        g_assert_cmpuint(j->n_entries, ==, 2);
        g_assert_cmpuint(vh_journal_find(j, AUDIO)->timestamp_usec, ==, t0);

        /* invalid input changes nothing */
        g_assert_cmpint(vh_journal_put(j, "01:00.0", VH_JOURNAL_BOUND, 1, true, NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(vh_journal_put(j, "0000:01:00.0/../x", VH_JOURNAL_BOUND, 1, true, NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(vh_journal_put(j, "0000:05:00.0", _VH_JOURNAL_STATE_MAX, 1, true, NULL, NULL), ==, -EINVAL);
        g_assert_cmpuint(j->n_entries, ==, 2);
        g_assert_null(vh_journal_find(j, "0000:05:00.0"));

        /* addresses are stored canonical */
        g_assert_cmpint(vh_journal_put(j, "0000:0A:00.0", VH_JOURNAL_BOUND, 2, true, "igc", NULL), ==, 0);
        g_assert_cmpuint(j->n_entries, ==, 3);
        g_assert_cmpstr(j->entries[2].address, ==, "0000:0a:00.0");
        g_assert_nonnull(vh_journal_find(j, "0000:0a:00.0"));

        /* remove keeps the others in order; unknown addresses are ignored */
        vh_journal_remove(j, GPU);
        g_assert_cmpuint(j->n_entries, ==, 2);
        g_assert_null(vh_journal_find(j, GPU));
        g_assert_cmpstr(j->entries[0].address, ==, AUDIO);
        g_assert_cmpstr(j->entries[1].address, ==, "0000:0a:00.0");
        g_assert_cmpstr(j->entries[1].original_driver, ==, "igc");
        vh_journal_remove(j, GPU);
        vh_journal_remove(j, "0000:09:00.0");
        g_assert_cmpuint(j->n_entries, ==, 2);
        vh_journal_remove(j, "0000:0a:00.0");
        vh_journal_remove(j, AUDIO);
        g_assert_cmpuint(j->n_entries, ==, 0);
}

/* Transaction numbers only grow, across saves and loads. */
static void test_next_txn(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;

        j = load_ok(f);
        g_assert_cmpuint(vh_journal_new_txn(j), ==, 1);
        g_assert_cmpuint(vh_journal_new_txn(j), ==, 2);
        g_assert_cmpuint(vh_journal_new_txn(j), ==, 3);
        /* no entries at all: the counter alone must survive */
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);
        vh_journal_free(j);
        j = load_ok(f);
        g_assert_cmpuint(j->n_entries, ==, 0);
        g_assert_cmpuint(j->next_txn, ==, 4);
        g_assert_cmpuint(vh_journal_new_txn(j), ==, 4);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);
        vh_journal_free(j);
        j = load_ok(f);
        g_assert_cmpuint(vh_journal_new_txn(j), ==, 5);
        vh_journal_free(j);

        /* a counter behind the entries (an older writer, a hand edit) never
         * hands out a number in use */
        vh_unit_write_file(f->root, JOURNAL,
                           "{\"version\":1,\"next_txn\":2,\"devices\":[{\"address\":\"0000:01:00.0\","
                           "\"state\":\"bound\",\"txn\":9,\"original_driver\":\"nvidia\"}]}");
        j = load_ok(f);
        g_assert_cmpuint(j->next_txn, ==, 10);
        vh_journal_free(j);
        vh_unit_write_file(f->root, JOURNAL,
                           "{\"version\":1,\"devices\":[{\"address\":\"0000:01:00.0\","
                           "\"state\":\"bound\",\"txn\":3,\"original_driver\":\"nvidia\"}]}");
        j = load_ok(f);
        g_assert_cmpuint(j->next_txn, ==, 4);
        vh_journal_free(j);

        /* The largest txn accepted: the next_txn it implies saves and loads
         * back (found by fuzz-journal: 2^62 loaded and could not reload). */
        vh_unit_write_file(f->root, JOURNAL,
                           "{\"version\":1,\"next_txn\":0,\"devices\":[{\"address\":\"0000:01:00.0\","
                           "\"state\":\"bound\",\"txn\":4611686018427387903,\"original_driver\":\"nvidia\"}]}");
        j = load_ok(f);
        g_assert_cmpuint(j->next_txn, ==, (guint64) 1 << 62);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);
        vh_journal_free(j);
        j = load_ok(f);
        g_assert_cmpuint(j->next_txn, ==, (guint64) 1 << 62);
}

/* Read-only: the save fails with -EROFS and writes nothing — no state
 * directory, no temporary file, an existing journal untouched. */
static void test_read_only(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;
        g_autoptr(GPtrArray) before = NULL;
        g_auto(GStrv) entries = NULL;
        const char *only_journal[] = { VH_JOURNAL_FILE, NULL };

        j = load_ok(f);
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_BINDING, vh_journal_new_txn(j), true, "nvidia", NULL), ==, 0);

        vh_hostfs_set_read_only(f->fs, true);
        before = vh_unit_snapshot(f->root);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, -EROFS);
        g_assert_false(exists(f, "var"));
        vh_unit_assert_tree_unchanged(f->root, before);

        /* with a journal present */
        vh_hostfs_set_read_only(f->fs, false);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);
        vh_hostfs_set_read_only(f->fs, true);
        g_ptr_array_unref(before);
        before = vh_unit_snapshot(f->root);
        vh_journal_remove(j, GPU);
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, -EROFS);
        vh_unit_assert_tree_unchanged(f->root, before);
        entries = state_dir_entries(f);
        g_assert_cmpstrv(entries, only_journal);

        /* and it still loads as it was */
        vh_journal_free(j);
        j = load_ok(f);
        g_assert_cmpuint(j->n_entries, ==, 1);
}

/* The state directory is made on the first save, parents included, beneath
 * the root and nowhere else. */
static void test_creates_state_dir(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL, k = NULL;
        g_autofree char *dir = g_build_filename(f->root, "var/lib/vfiohost-test/nested", NULL);
        VhJournal *bad = NULL;

        j = load_ok(f);
        g_assert_cmpint(vh_journal_put(j, GPU, VH_JOURNAL_BOUND, vh_journal_new_txn(j), true, "nvidia", NULL), ==, 0);
        g_assert_cmpint(vh_journal_save(f->fs, "var/lib/vfiohost-test/nested", j), ==, 0);
        g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
        g_assert_cmpint(vh_journal_load(f->fs, "var/lib/vfiohost-test/nested", &k), ==, 0);
        g_assert_cmpuint(k->n_entries, ==, 1);

        /* a state directory that climbs out of the root is refused */
        g_assert_cmpint(vh_journal_save(f->fs, "var/../..", j), <, 0);
        g_assert_cmpint(vh_journal_load(f->fs, "../var", &bad), <, 0);
        g_assert_null(bad);
}

/* Strictness beyond broken syntax: text after the journal object (two
 * journals run together, a stray write) and a version that is not the
 * integer 1 are damage too; loading them would be guessing. */
static void test_strict(Fixture *f, gconstpointer data) {
        static const char *const bad[] = {
                "{\"version\":1,\"next_txn\":2,\"devices\":[]}{\"version\":1,\"next_txn\":5,\"devices\":[]}",
                "{\"version\":1,\"next_txn\":2,\"devices\":[]}\n]}garbage",
                "{\"version\":1.5,\"next_txn\":2,\"devices\":[]}",
                "{\"version\":true,\"next_txn\":2,\"devices\":[]}",
                "{\"version\":\"1\",\"next_txn\":2,\"devices\":[]}",
        };

        g_autoptr(GString) failures = g_string_new(NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                VhJournal *j = NULL;
                int r;

                vh_unit_write_file(f->root, JOURNAL, bad[i]);
                r = vh_journal_load(f->fs, STATE_DIR, &j);
                /* not fatal: report every journal that gets through */
                if (r != -EBADMSG) {
                        g_autofree char *text = g_strescape(bad[i], NULL);

                        g_string_append_printf(failures, "%s'%s' loaded with %d (%s)", failures->len ? "; " : "",
                                               text, r, r < 0 ? g_strerror(-r) : "accepted");
                        vh_journal_free(j);
                }
        }
        if (failures->len > 0)
                g_test_fail_printf("damaged journals accepted (expected -EBADMSG): %s", failures->str);

        /* and a trailing newline is no damage */
        {
                g_autoptr(VhJournal) j = NULL;

                vh_unit_write_file(f->root, JOURNAL, "{\"version\":1,\"next_txn\":3,\"devices\":[]}\n\n");
                j = load_ok(f);
                g_assert_cmpuint(j->next_txn, ==, 3);
        }
}

/* Addresses in the file may be upper case: stored and found canonical,
 * every field with it (the "time" of such an entry once crashed the load,
 * looked up under the raw spelling). */
static void test_canonical(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;
        const VhJournalEntry *e;

        vh_unit_write_file(f->root, JOURNAL,
                           "{\"version\":1,\"next_txn\":4,\"devices\":[{\"address\":\"0000:0A:00.0\",\"state\":\"binding\","
                           "\"txn\":3,\"original_driver\":\"nvidia\",\"time\":1718031602153071,\"attempts\":2,"
                           "\"identity\":{\"vendor\":\"10DE\",\"device\":\"2684\",\"subsystem_vendor\":\"1043\","
                           "\"subsystem_device\":\"88e2\"}}],"
                           "\"notes\":[{\"address\":\"0000:0B:00.0\",\"note\":\"left alone\",\"time\":5}]}");
        j = load_ok(f);
        g_assert_cmpuint(j->n_entries, ==, 1);
        e = &j->entries[0];
        g_assert_cmpstr(e->address, ==, "0000:0a:00.0");
        g_assert_true(vh_journal_find(j, "0000:0A:00.0") == e);
        g_assert_true(vh_journal_find(j, "0000:0a:00.0") == e);
        g_assert_null(vh_journal_find(j, "not an address"));
        g_assert_cmpuint(e->timestamp_usec, ==, 1718031602153071);
        g_assert_cmpuint(e->attempts, ==, 2);
        g_assert_true(e->has_identity);
        g_assert_cmpuint(e->identity.vendor, ==, 0x10de);
        g_assert_cmpuint(e->identity.subsystem_device, ==, 0x88e2);
        g_assert_cmpuint(j->n_notes, ==, 1);
        g_assert_cmpstr(j->notes[0].address, ==, "0000:0b:00.0");

        /* Saved canonical, identity and notes included, and loaded back the same. */
        g_assert_cmpint(vh_journal_save(f->fs, STATE_DIR, j), ==, 0);
        {
                g_autofree char *text = vh_unit_read_file(f->root, JOURNAL);
                g_autoptr(VhJournal) k = NULL;

                g_assert_null(strstr(text, "0A"));
                g_assert_nonnull(strstr(text, "\"vendor\":\"10de\""));
                k = load_ok(f);
                g_assert_cmpuint(k->entries[0].identity.subsystem_vendor, ==, 0x1043);
                g_assert_cmpuint(k->entries[0].attempts, ==, 2);
                g_assert_cmpstr(k->notes[0].text, ==, "left alone");
        }
}

/* Notes are capped: the oldest go. */
static void test_notes_cap(Fixture *f, gconstpointer data) {
        g_autoptr(VhJournal) j = NULL;

        vh_unit_write_file(f->root, JOURNAL, "{\"version\":1,\"devices\":[]}");
        j = load_ok(f);
        for (unsigned i = 0; i < VH_JOURNAL_NOTES_MAX + 5; i++) {
                g_autofree char *text = g_strdup_printf("note %u", i);

                g_assert_cmpint(vh_journal_add_note(j, GPU, text), ==, 0);
        }
        g_assert_cmpint(vh_journal_add_note(j, "bogus", "x"), ==, -EINVAL);
        g_assert_cmpuint(j->n_notes, ==, VH_JOURNAL_NOTES_MAX);
        g_assert_cmpstr(j->notes[0].text, ==, "note 5");
        g_assert_cmpstr(j->notes[VH_JOURNAL_NOTES_MAX - 1].text, ==, "note 36");
}

static void test_driver_names(void) {
        static const char *const good[] = { "nvidia", "snd_hda_intel", "vfio-pci", "ehci-pci", "i801_smbus", "a" };
        static const char *const bad[] = { "", ".", "..", "a/b", "../x", "nv idia", "nvidia\n",
                                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                g_assert_true(vh_journal_driver_name_is_valid(good[i]));
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                g_assert_false(vh_journal_driver_name_is_valid(bad[i]));
        g_assert_false(vh_journal_driver_name_is_valid(NULL));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/journal/load/missing", test_missing);
        g_test_add_func("/journal/state-names", test_state_names);
        g_test_add_func("/journal/driver-names", test_driver_names);
        ADD("/journal/canonical", test_canonical);
        ADD("/journal/notes-cap", test_notes_cap);
        ADD("/journal/round-trip", test_round_trip);
        g_test_add_func("/journal/fixture", test_fixture_journal);
        ADD("/journal/save/atomic-replace", test_atomic_replace);
        ADD("/journal/load/damaged", test_damaged);
        ADD("/journal/load/unknown-version", test_unknown_version);
        ADD("/journal/load/unreadable", test_unreadable);
        ADD("/journal/edit", test_edit);
        ADD("/journal/next-txn", test_next_txn);
        ADD("/journal/save/read-only", test_read_only);
        ADD("/journal/save/creates-state-dir", test_creates_state_dir);
        /* last: what it finds does not keep the others from running */
        ADD("/journal/strict/load", test_strict);
#undef ADD

        return g_test_run();
}
