/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vh-address.h"
#include "vh-hostfs.h"

/* What vfiohostd changed on the host, so it can be undone: for every
 * function it moved to vfio-pci, the driver and driver_override it had.
 * Written before the first sysfs write of an operation and after each
 * phase, atomically (vh_hostfs_write_file_atomic), so that a daemon killed
 * at any point finds on restart what to roll back (peers.md §3.12). */

typedef enum VhJournalState {
        VH_JOURNAL_BINDING,     /* on its way to vfio-pci; roll back if found at start */
        VH_JOURNAL_BOUND,       /* on vfio-pci, complete */
        VH_JOURNAL_UNBINDING,   /* on its way back; finish the restore if found at start */
        _VH_JOURNAL_STATE_MAX,
} VhJournalState;

typedef struct VhJournalEntry {
        char address[VH_ADDRESS_MAX];
        VhJournalState state;
        uint64_t txn;                   /* entries changed together share it */
        bool original_known;            /* false: bound by someone else, original unknown */
        char *original_driver;          /* NULL: had no driver (when known) */
        char *original_override;        /* NULL: had no override */
        uint64_t timestamp_usec;        /* CLOCK_REALTIME of the last change */
} VhJournalEntry;

typedef struct VhJournal {
        VhJournalEntry *entries;
        size_t n_entries;
        uint64_t next_txn;
} VhJournal;

/* The state directory beneath the host root. */
#define VH_JOURNAL_DEFAULT_DIR "var/lib/vfiohost"
#define VH_JOURNAL_FILE        "journal.json"

const char *vh_journal_state_to_string(VhJournalState s);
int vh_journal_state_from_string(const char *s);

/* An empty journal when the file does not exist. -EBADMSG when it cannot
 * be parsed: never guess what to undo. */
int vh_journal_load(const VhHostFs *fs, const char *state_dir, VhJournal **ret);
int vh_journal_save(const VhHostFs *fs, const char *state_dir, const VhJournal *j);
VhJournal *vh_journal_free(VhJournal *j);
static inline void vh_journal_freep(VhJournal **j) {
        vh_journal_free(*j);
}

VhJournalEntry *vh_journal_find(const VhJournal *j, const char *address);
/* Adds or replaces the entry for address (copies the strings). */
int vh_journal_put(VhJournal *j, const char *address, VhJournalState state, uint64_t txn,
                   bool original_known, const char *original_driver, const char *original_override);
void vh_journal_set_state(VhJournal *j, const char *address, VhJournalState state);
void vh_journal_remove(VhJournal *j, const char *address);
uint64_t vh_journal_new_txn(VhJournal *j);
