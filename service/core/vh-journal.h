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
 * at any point finds on restart what to roll back (docs/binding.md,
 * "The journal"). */

typedef enum VhJournalState {
        VH_JOURNAL_BINDING,     /* on its way to vfio-pci; roll back if found at start */
        VH_JOURNAL_BOUND,       /* on vfio-pci, complete */
        VH_JOURNAL_UNBINDING,   /* on its way back; finish the restore if found at start */
        _VH_JOURNAL_STATE_MAX,
} VhJournalState;

/* What was at the address when the entry was written: reconcile acts only
 * on the same device (a card moved or a slot renumbered is left alone). */
typedef struct VhJournalIdentity {
        uint16_t vendor;
        uint16_t device;
        uint16_t subsystem_vendor;
        uint16_t subsystem_device;
} VhJournalIdentity;

typedef struct VhJournalEntry {
        char address[VH_ADDRESS_MAX];
        VhJournalState state;
        uint64_t txn;                   /* the operation that last changed it; one per operation */
        bool original_known;            /* false: bound by someone else, original unknown */
        char *original_driver;          /* NULL: had no driver (when known) */
        char *original_override;        /* NULL: had no override */
        bool has_identity;              /* false in entries written before identities were */
        VhJournalIdentity identity;
        unsigned attempts;              /* reconciles that failed to finish it */
        char *driver;                   /* the VFIO driver it goes to or is on; NULL: vfio-pci
                                         * (entries written before variant drivers) */
        uint64_t timestamp_usec;        /* CLOCK_REALTIME of the last change */
} VhJournalEntry;

/* An action reconcile dropped instead of doing (another device at the
 * address, a device the host now needs, a restore that kept failing), kept
 * so that it is reported rather than retried at every start. */
typedef struct VhJournalNote {
        char address[VH_ADDRESS_MAX];
        char *text;
        uint64_t timestamp_usec;
} VhJournalNote;

/* The newest notes kept; older ones are dropped. */
#define VH_JOURNAL_NOTES_MAX 32

/* A change of a PF's VF count under way (docs/sriov.md, "SetVfCount"):
 * written before its first write, removed when it is done, so an entry
 * found at start is always unfinished. Kept apart from the per-function
 * entries ("vf_counts" beside "devices"): its fields are another kind. */
typedef struct VhJournalVfCount {
        char pf[VH_ADDRESS_MAX];
        uint64_t txn;
        unsigned count_before;
        unsigned count_after;
        char *driver;                   /* the VFs' driver asked for; NULL: autoprobe's */
        bool autoprobe_before;          /* sriov_drivers_autoprobe before the operation */
        uint64_t timestamp_usec;
} VhJournalVfCount;

typedef struct VhJournal {
        VhJournalEntry *entries;
        size_t n_entries;
        VhJournalNote *notes;
        size_t n_notes;
        VhJournalVfCount *vf_counts;
        size_t n_vf_counts;
        uint64_t next_txn;
} VhJournal;

/* The state directory beneath the host root. */
#define VH_JOURNAL_DEFAULT_DIR "var/lib/vfiohost"
#define VH_JOURNAL_FILE        "journal.json"

const char *vh_journal_state_to_string(VhJournalState s);
int vh_journal_state_from_string(const char *s);

/* An empty journal when the file does not exist. -EBADMSG when it cannot
 * be parsed or any field is invalid (an address that is not one, two
 * entries for one function, a driver name that is not a file name, a wrong
 * type): never guess what to undo. Addresses are stored canonical. The file
 * must be a regular file of sane size. */
int vh_journal_load(const VhHostFs *fs, const char *state_dir, VhJournal **ret);
int vh_journal_save(const VhHostFs *fs, const char *state_dir, const VhJournal *j);
VhJournal *vh_journal_free(VhJournal *j);
static inline void vh_journal_freep(VhJournal **j) {
        vh_journal_free(*j);
}

/* address in any case; NULL when absent or not an address. */
VhJournalEntry *vh_journal_find(const VhJournal *j, const char *address);
/* Adds or replaces the entry for address (copies the strings). */
int vh_journal_put(VhJournal *j, const char *address, VhJournalState state, uint64_t txn,
                   bool original_known, const char *original_driver, const char *original_override);
void vh_journal_set_identity(VhJournal *j, const char *address, const VhJournalIdentity *identity);
/* The VFIO driver the entry's function is bound to (copied; NULL or
 * "vfio-pci": vfio-pci, not written to the file). */
int vh_journal_set_driver(VhJournal *j, const char *address, const char *driver);
/* The entry's VFIO driver, never NULL. */
const char *vh_journal_entry_driver(const VhJournalEntry *e);
/* state and the operation now changing the entry. */
void vh_journal_set_state(VhJournal *j, const char *address, VhJournalState state, uint64_t txn);
void vh_journal_remove(VhJournal *j, const char *address);
uint64_t vh_journal_new_txn(VhJournal *j);
/* Appends a note (copied), dropping the oldest beyond VH_JOURNAL_NOTES_MAX. */
int vh_journal_add_note(VhJournal *j, const char *address, const char *text);

/* The record of the VF count change of pf; NULL when none. */
VhJournalVfCount *vh_journal_find_vf_count(const VhJournal *j, const char *pf);
/* Adds or replaces the record for e->pf (copies driver; sets the time). */
int vh_journal_put_vf_count(VhJournal *j, const VhJournalVfCount *e);
void vh_journal_remove_vf_count(VhJournal *j, const char *pf);

/* A kernel driver name usable as one path component: 1-64 characters of
 * [A-Za-z0-9_.-], not "." or "..". */
bool vh_journal_driver_name_is_valid(const char *s);
