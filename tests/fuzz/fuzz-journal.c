/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The binder's journal (var/lib/vfiohost/journal.json), which vfiohostd
 * trusts at start to decide what to roll back: a damaged or hostile file
 * must be refused, never half-read. Through vh_journal_load() only; a
 * journal that loads must also save and load back to the same entries. */

#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-journal.h"
#include "vh-macro.h"
#include "vh-strv.h"

#define STATE_DIR "state"
#define COPY_DIR  "copy"

static const VhHostFs *fs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* Writable: the round trip saves; the root is an empty temp dir. */
        fs = vh_fuzz_setup(NULL, true);
        return 0;
}

static void check_same(const VhJournal *a, const VhJournal *b) {
        if (a->n_entries != b->n_entries || a->next_txn != b->next_txn)
                abort();
        for (size_t i = 0; i < a->n_entries; i++) {
                const VhJournalEntry *x = &a->entries[i], *y = vh_journal_find(b, x->address);

                if (!y || x->state != y->state || x->txn != y->txn || x->original_known != y->original_known ||
                    !vh_streq_null(x->original_driver, y->original_driver) ||
                    !vh_streq_null(x->original_override, y->original_override) ||
                    x->timestamp_usec != y->timestamp_usec)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vh_journal_freep) VhJournal *j = NULL, *again = NULL;

        vh_fuzz_write(STATE_DIR "/" VH_JOURNAL_FILE, data, size);
        if (vh_journal_load(fs, STATE_DIR, &j) < 0)
                return 0;

        for (size_t i = 0; i < j->n_entries; i++)
                if (!vh_address_is_valid(j->entries[i].address) ||
                    vh_journal_find(j, j->entries[i].address) != &j->entries[i] ||
                    !vh_journal_state_to_string(j->entries[i].state))
                        abort();

        if (vh_journal_save(fs, COPY_DIR, j) < 0 || vh_journal_load(fs, COPY_DIR, &again) < 0)
                abort();
        check_same(j, again);
        return 0;
}
