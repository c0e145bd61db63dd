/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vh-assignment-match.h"
#include "vh-holders.h"
#include "vh-idle-bindings.h"
#include "vh-macro.h"
#include "vh-strv.h"

void vh_idle_bindings_free(VhIdleBinding *b, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(b[i].driver);
                free(b[i].original_driver);
        }
        free(b);
}

/* The journal's entry is about this card: reconcile's rule, too. */
static bool same_card(const VhJournalEntry *e, const VhPciDevice *d) {
        return !e->has_identity ||
               (e->identity.vendor == d->vendor_id && e->identity.device == d->device_id &&
                e->identity.subsystem_vendor == d->subsystem_vendor_id &&
                e->identity.subsystem_device == d->subsystem_device_id);
}

static bool held(const VhPciDevice *d, const VhHolder *holders, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((d->vfio_group_path && strcmp(holders[i].node, d->vfio_group_path) == 0) ||
                    (d->vfio_device_path && strcmp(holders[i].node, d->vfio_device_path) == 0))
                        return true;
        return false;
}

static int compare_address(const void *a, const void *b) {
        return strcmp(((const VhIdleBinding *) a)->address, ((const VhIdleBinding *) b)->address);
}

int vh_idle_bindings_find(const VhHostFs *fs, const VhHost *host, const VhJournal *journal,
                          const VhAssignments *assignments, bool assignments_unreadable,
                          VhIdleBinding **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **nodes = NULL;
        _cleanup_free_ const VhPciDevice **candidates = NULL;
        _cleanup_free_ const VhJournalEntry **entries = NULL;
        VhIdleBinding *out = NULL;
        VhHolder *holders = NULL;
        size_t n_candidates = 0, n_holders = 0, n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!journal || journal->n_entries == 0 || assignments_unreadable)
                return 0;

        candidates = calloc(journal->n_entries, sizeof(*candidates));
        entries = calloc(journal->n_entries, sizeof(*entries));
        nodes = calloc(1, sizeof(char *));
        if (!candidates || !entries || !nodes)
                return -ENOMEM;

        for (size_t i = 0; i < journal->n_entries; i++) {
                const VhJournalEntry *e = &journal->entries[i];
                const VhPciDevice *d = vh_host_find_device(host, e->address);

                /* Only finished binds of ours, still on the driver we put them on. */
                if (e->state != VH_JOURNAL_BOUND || !d || !d->driver ||
                    strcmp(d->driver, e->driver ?: "vfio-pci") != 0 || !same_card(e, d))
                        continue;
                if (assignments && vh_assignments_covering(assignments, host, e->address))
                        continue;
                if ((d->vfio_group_path && vh_strv_extend(&nodes, d->vfio_group_path) < 0) ||
                    (d->vfio_device_path && vh_strv_extend(&nodes, d->vfio_device_path) < 0))
                        return -ENOMEM;
                entries[n_candidates] = e;
                candidates[n_candidates++] = d;
        }
        if (n_candidates == 0)
                return 0;

        /* One scan of every process for all of them. */
        r = vh_holders_find(fs, nodes, &holders, &n_holders);
        if (r < 0)
                return r;

        out = calloc(n_candidates, sizeof(*out));
        if (!out) {
                vh_holders_free(holders, n_holders);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_candidates; i++) {
                const VhJournalEntry *e = entries[i];
                VhIdleBinding *b = &out[n];

                if (held(candidates[i], holders, n_holders))
                        continue;
                memcpy(b->address, e->address, sizeof(b->address));
                b->driver = strdup(candidates[i]->driver);
                b->original_known = e->original_known;
                b->original_driver = e->original_driver ? strdup(e->original_driver) : NULL;
                b->since_usec = e->timestamp_usec;
                n++;
                if (!b->driver || (e->original_driver && !b->original_driver)) {
                        vh_holders_free(holders, n_holders);
                        vh_idle_bindings_free(out, n);
                        return -ENOMEM;
                }
        }
        vh_holders_free(holders, n_holders);
        if (n == 0) {
                free(out);
                return 0;
        }
        qsort(out, n, sizeof(*out), compare_address);
        *ret = out;
        *ret_n = n;
        return 0;
}

char *vh_idle_bindings_describe(const VhIdleBinding *b, size_t n) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                time_t t = (time_t) (b[i].since_usec / 1000000);
                char when[32] = "";
                struct tm tm;

                if (b[i].since_usec && gmtime_r(&t, &tm))
                        strftime(when, sizeof(when), " since %Y-%m-%d %H:%M UTC", &tm);
                fprintf(f, "%s%s (on %s%s; unbinding gives it back to %s)", i ? ", " : "", b[i].address,
                        b[i].driver, when,
                        !b[i].original_known ? "the driver the kernel picks" :
                        b[i].original_driver ?: "no driver, as it was");
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(text);
}
