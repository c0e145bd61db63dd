/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vh-error.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-journal.h"

/* Moving functions to vfio-pci and back (docs/binding.md).
 *
 * An operation is planned on the event loop thread — every check, reading
 * only — and executed on a worker thread: the sysfs writes can block for
 * ever in a driver's remove path, so each one runs under a timeout and the
 * bus keeps answering. Operations on different IOMMU groups may run at the
 * same time; the caller serializes operations on one group.
 *
 * Bind:   modprobe vfio-pci → journal (original driver + override) →
 *         driver_override=vfio-pci → unbind → drivers_probe → re-read the
 *         driver link → the VFIO node exists. Never new_id.
 * Unbind: journal → driver_override="\n" (or the recorded override) →
 *         unbind vfio-pci → drivers_probe → the recorded driver is back,
 *         else bind it through drivers/<name>/bind. A function that had no
 *         driver stays driverless.
 * Both are all-or-nothing: a failure at any step returns every function of
 * the operation to where it was (a bind to its original driver, an unbind
 * to vfio-pci), and the error says whether that worked.
 *
 * Every operation is one journal transaction: it marks the entries it
 * changes (binding/unbinding, its own txn) before the first write and
 * settles them when done. Entries it does not touch keep the state the
 * last completed operation left, and reconcile acts on nothing else
 * (docs/binding.md). */

typedef enum VhBindVerb {
        VH_BIND_VERB_BIND,
        VH_BIND_VERB_UNBIND,
} VhBindVerb;

typedef struct VhBindOptions {
        bool group;                     /* every non-bridge member of the IOMMU group */
        bool force;                     /* override host-critical refusals only */
        bool dry_run;                   /* check and report, change nothing */
        const char *driver;             /* bind: the VFIO driver (vfio-pci or a variant,
                                         * vh-vfio-driver.h); NULL: vfio-pci. Read during
                                         * vh_binder_plan() only: the plan keeps a copy */
} VhBindOptions;

typedef struct VhBindTarget {
        char address[VH_ADDRESS_MAX];
        char *driver_before;            /* at planning time; NULL: none */
        char *override_before;
        bool original_known;            /* bind: always; unbind: the journal knew it */
        char *original_driver;          /* what unbind restores; NULL: no driver */
        char *original_override;
        VhJournalIdentity identity;     /* ids at planning time, journaled */
        bool journaled_before;          /* unbind: the journal had an entry for it */
        bool noop;                      /* already where the operation takes it */
        char *vfio_driver;              /* bind: the VFIO driver it goes to; unbind: the one
                                         * it is on, where a failed unbind returns it */

        /* Filled by execution (or by the plan for dry runs). */
        char *driver_after;
        char *vfio_group_path;
        char *vfio_device_path;
        bool changed;
        bool restore_failed;            /* its rollback did not complete: keep it journaled */
} VhBindTarget;

/* Device nodes whose holders refuse the operation (a driver cannot let go
 * of a device someone has open: the unbind would hang in its remove path),
 * checked off the event loop by vh_binder_check_holders(): scanning every
 * process's fds can take long. */
typedef struct VhHolderCheck {
        char address[VH_ADDRESS_MAX];
        char **nodes;
        const char *advice;             /* what to do, static */
        /* The VFs of a PF the operation would remove (HasVirtualFunctions,
         * never overridable: removing a held VF blocks until its user lets
         * go): for each node the VF it belongs to, and what is refused. */
        char **node_vfs;                /* NULL for a plain check (InUse) */
        char *refusal;
} VhHolderCheck;

typedef struct VhBindPlan {
        char address[VH_ADDRESS_MAX];   /* the function asked for, canonical */
        VhBindVerb verb;
        VhBindOptions options;          /* options.driver points at driver */
        char *driver;                   /* bind: the VFIO driver asked for, never NULL */
        unsigned group;
        uint64_t txn;                   /* the journal transaction of this operation */
        VhBindTarget *targets;
        size_t n_targets;
        char **forced;                  /* host-critical and VF reasons overridden by force */
        VhHolderCheck *holder_checks;
        size_t n_holder_checks;
        /* "PID", "NAME" pairs: the bus layer's names for running VMs
         * (systemd-machined's, which libvirt users know them by), used over
         * the VMM's own in an InUse refusal. Copied in on the event loop, so
         * that the worker thread never reads the live VM table. NULL: none. */
        char **vm_names;
} VhBindPlan;

VhBindPlan *vh_bind_plan_free(VhBindPlan *p);
static inline void vh_bind_plan_freep(VhBindPlan **p) {
        vh_bind_plan_free(*p);
}
/* True when nothing would be written (binding what is on its VFIO driver already). */
bool vh_bind_plan_is_noop(const VhBindPlan *p);

typedef struct VhBinder {
        const VhHostFs *fs;
        char *state_dir;
        uint64_t write_timeout_usec;

        pthread_mutex_t lock;           /* guards journal */
        VhJournal *journal;
} VhBinder;

/* Loads the journal from state_dir (beneath the root). */
int vh_binder_new(const VhHostFs *fs, const char *state_dir, uint64_t write_timeout_usec, VhBinder **ret);
VhBinder *vh_binder_free(VhBinder *b);
static inline void vh_binder_freep(VhBinder **b) {
        vh_binder_free(*b);
}

/* Every check but the holders, no write; cheap enough for the event loop.
 * On refusal returns a negative errno and sets error (InvalidAddress,
 * NotFound, VfioUnavailable, GroupNotViable, HostCritical,
 * HasVirtualFunctions, InvalidArgs). A PF with VFs enabled is refused
 * unless forced (docs/sriov.md); its VFs' nodes join the holder checks.
 * A bind's driver must be a VFIO driver (else InvalidArgs), registered or
 * installed (else VfioUnavailable), and a variant must list the function
 * asked for (else InvalidArgs); with group, the members it does not list go
 * to vfio-pci (docs/binding.md, "Variant drivers"). */
int vh_binder_plan(VhBinder *b, const VhHost *host, VhBindVerb verb, const char *address,
                   const VhBindOptions *options, VhBindPlan **ret, VhError *error);

/* Whether a process holds a node of the plan's functions: InUse, naming
 * the processes; or of a VF the plan would remove: HasVirtualFunctions,
 * force or not. Reads every process's fds (run it off the event loop). */
int vh_binder_check_holders(VhBinder *b, const VhBindPlan *plan, VhError *error);

/* Adds to p a holder check over the nodes of pf's VFs (their host
 * drivers' and their VFIO nodes): a process holding one refuses the
 * operation with HasVirtualFunctions, refusal (taken) and advice (static)
 * in the message, naming the VF, the pid and the command. */
int vh_binder_add_vf_holder_check(VhBinder *b, const VhHost *host, const VhPciDevice *pf, VhBindPlan *p,
                                  char *refusal, const char *advice);

/* Carries a plan out — the holder check first, for dry runs too, so that
 * it sees the host as it is when the writes start; may block (run it off
 * the event loop). On failure the plan's functions are rolled back and
 * error says what failed, at which step, and whether the rollback restored
 * everything. */
int vh_binder_execute(VhBinder *b, VhBindPlan *plan, VhError *error);

/* The functions an interrupted operation left unfinished (journal state
 * binding or unbinding): what reconcile will act on. */
int vh_binder_unfinished(VhBinder *b, char ***ret);

/* Drops the entries marked bound whose function is gone or no longer on
 * the VFIO driver journaled (after a reboot): no sysfs write, so it may run on the event
 * loop, and it must run at every start, unfinished entries or not.
 * Returns how many it dropped. */
unsigned vh_binder_drop_stale(VhBinder *b);

/* At start, off the event loop (it writes): finishes or undoes only what
 * an interrupted operation was changing — a bind is rolled back to the
 * original driver, an unbind is finished — so every function is either on
 * its original driver or fully bound. Entries marked bound are left alone
 * (dropped from the journal only when the function is no longer on
 * vfio-pci or gone). An action is dropped, with a note in the journal and
 * a warning, when the function at the address is another device than the
 * one journaled, when the host now needs it (host-critical), or after
 * failing at VH_RECONCILE_ATTEMPTS_MAX starts; a function a process holds
 * open is left for a later start. Returns the number of functions
 * restored. */
#define VH_RECONCILE_ATTEMPTS_MAX 3
int vh_binder_reconcile(VhBinder *b);

/* The binder's primitives, for operations that change the host's PCI
 * functions otherwise (service/core/vh-vf-count.c): a write to the
 * attribute named by up to three path components under the write timeout
 * (-ETIMEDOUT; the write goes on in its own thread); re-reading a driver
 * link until it names want or the driver wait is over (*ret: the last
 * read); waiting for t's VFIO node (-ENOENT when none appeared). */
int vh_binder_timed_write(VhBinder *b, const char *value, const char *p0, const char *p1, const char *p2);
void vh_binder_wait_for_driver(VhBinder *b, const char *address, const char *want, char **ret);
int vh_binder_wait_for_vfio_node(VhBinder *b, VhBindTarget *t, int group);
