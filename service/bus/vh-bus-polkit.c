/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-polkit.h"
#include "vh-log.h"
#include "vh-names.h"
#include "vh-macro.h"
#include "vh-strv.h"

#define POLKIT_BUS_NAME  "org.freedesktop.PolicyKit1"
#define POLKIT_PATH      "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"

/* CheckAuthorization flags */
#define POLKIT_ALLOW_USER_INTERACTION 1u

typedef struct Query Query;

struct Query {
        VhPolkitRegistry *registry;
        Query *next;

        sd_bus_message *request;        /* the call being authorized; the registry key */
        sd_bus_message *reply;          /* polkit's answer, once there */
        sd_bus_slot *slot;              /* the pending CheckAuthorization */
        sd_event_source *defer;         /* frees the query after the re-dispatch */

        char *action;
        char **details;
        uid_t uid;                      /* the caller, as the bus vouches for it */
};

struct VhPolkitRegistry {
        sd_event *event;
        Query *queries;
};

static void query_free(Query *q) {
        Query **p;

        if (!q)
                return;
        for (p = &q->registry->queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        break;
                }
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->defer);
        sd_bus_message_unref(q->request);
        sd_bus_message_unref(q->reply);
        free(q->action);
        vh_strv_free(q->details);
        free(q);
}

int vh_polkit_registry_new(sd_event *event, VhPolkitRegistry **ret) {
        VhPolkitRegistry *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(event);
        *ret = r;
        return 0;
}

VhPolkitRegistry *vh_polkit_registry_free(VhPolkitRegistry *r) {
        if (!r)
                return NULL;
        while (r->queries)
                query_free(r->queries);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

bool vh_polkit_registry_is_busy(const VhPolkitRegistry *r) {
        return r && r->queries;
}

/* Queries still waiting for polkit's answer, of one user or (uid -1) of all. */
static unsigned registry_count_pending(const VhPolkitRegistry *r, uid_t uid) {
        unsigned n = 0;

        for (const Query *q = r->queries; q; q = q->next)
                if (q->slot && (uid == (uid_t) -1 || q->uid == uid))
                        n++;
        return n;
}

/* The caller's uid from the bus (SO_PEERCRED at connect), never from /proc. */
static int sender_uid(sd_bus_message *call, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        if (sd_bus_creds_get_augmented_mask(creds) & SD_BUS_CREDS_EUID)
                return -EPERM;
        return sd_bus_creds_get_euid(creds, ret);
}

static Query *registry_find(VhPolkitRegistry *r, sd_bus_message *call) {
        for (Query *q = r->queries; q; q = q->next)
                if (q->request == call)
                        return q;
        return NULL;
}

static int on_defer(sd_event_source *s, void *userdata) {
        query_free(userdata);
        return 0;
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->reply = sd_bus_message_ref(reply);

        /* Dispatch the original call again: its handler re-validates
         * everything (the world may have changed) and finds our answer. */
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_debug_errno(r, "Failed to re-dispatch a call after polkit answered: %m");
                (void) sd_bus_reply_method_errno(q->request, r, NULL);
                query_free(q);
                return 0;
        }

        /* Free the query once the re-dispatched call was handled, or if it
         * never reaches the handler again (the object went away). */
        r = sd_event_add_defer(q->registry->event, &q->defer, on_defer, q);
        if (r >= 0)
                (void) sd_event_source_set_priority(q->defer, SD_EVENT_PRIORITY_IDLE);
        return 0;
}

static int answer_from_reply(Query *q, sd_bus_error *error) {
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(q->reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(q->reply);

                /* The bus refused the check (its cap on our pending calls):
                 * nothing was decided, so it is worth trying again. */
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_LIMITS_EXCEEDED))
                        return sd_bus_error_setf(error, VH_ERROR_BUSY,
                                                 "Too many authorization checks are waiting for polkit; "
                                                 "try again in a moment.");

                /* No polkit on this system: nobody but root may act. */
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                "Access denied: polkit is not running, so only root may do this.");
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: polkit could not decide (%s: %s).", e->name, strempty(e->message));
        }

        r = sd_bus_message_enter_container(q->reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(q->reply, "bb", &authorized, &challenge);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: malformed answer from polkit.");

        if (authorized)
                return 1;
        if (challenge)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required for %s; run it from a terminal or with an "
                                         "authentication agent (drop --no-ask-password).", q->action);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Access denied: polkit does not allow %s for this user.", q->action);
}

int vh_bus_polkit_check(VhPolkitRegistry *registry, sd_bus_message *call, const char *action,
                        const char * const *details, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *pk = NULL;
        const char *sender;
        uint32_t flags = 0;
        uid_t uid;
        Query *q;
        int r;

        /* Second round: polkit has answered. */
        q = registry_find(registry, call);
        if (q && q->reply) {
                /* The call asks for something else than what was
                 * authorized: do not reuse the answer. */
                if (strcmp(q->action, action) != 0 || !vh_strv_equal(q->details, (char * const *) details))
                        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                "Access denied: the request changed during authorization.");
                return answer_from_reply(q, error);
        }
        if (q)
                /* Still waiting (a duplicate dispatch): keep waiting. */
                return 0;

        /* root does not need polkit (systemd#2748). Who is root is decided
         * from what the bus vouches for: the uid dbus-daemon took from
         * SO_PEERCRED when the caller connected. Never from /proc/PID
         * (SD_BUS_CREDS_AUGMENT): a caller can change that after sending,
         * by exec'ing a setuid program that keeps the connection, and a pid
         * can be reused. sd_bus_query_sender_privilege() refuses augmented
         * credentials, as systemd's bus-polkit.c relies on. */
        r = sd_bus_query_sender_privilege(call, -1);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: the bus cannot say who the caller is (%s).", strerror(-r));
        if (r > 0)
                return 1;

        sender = sd_bus_message_get_sender(call);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: the caller has no bus name.");

        /* Bounded, so that one user's backlog (calls left hanging at an
         * authentication dialog, or a flood) cannot use up the bus's cap on
         * our pending calls and so deny everyone else. */
        r = sender_uid(call, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: the bus cannot say who the caller is (%s).", strerror(-r));
        if (registry_count_pending(registry, uid) >= VH_POLKIT_MAX_PENDING_PER_USER)
                return sd_bus_error_setf(error, VH_ERROR_BUSY,
                                         "%u authorization requests of this user are already waiting for polkit; "
                                         "answer or cancel them (an authentication dialog may be open) and try again.",
                                         VH_POLKIT_MAX_PENDING_PER_USER);
        if (registry_count_pending(registry, (uid_t) -1) >= VH_POLKIT_MAX_PENDING)
                return sd_bus_error_setf(error, VH_ERROR_BUSY,
                                         "%u authorization requests are already waiting for polkit; try again "
                                         "in a moment.", VH_POLKIT_MAX_PENDING);

        /* Interaction only when the caller said it can handle it. */
        if (sd_bus_message_get_allow_interactive_authorization(call) > 0)
                flags |= POLKIT_ALLOW_USER_INTERACTION;

        r = sd_bus_message_new_method_call(sd_bus_message_get_bus(call), &pk, POLKIT_BUS_NAME, POLKIT_PATH,
                                           POLKIT_INTERFACE, "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(pk, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(pk, 'a', "{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; details && details[i] && details[i + 1]; i += 2) {
                r = sd_bus_message_append(pk, "{ss}", details[i], details[i + 1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(pk);
        if (r < 0)
                return r;
        r = sd_bus_message_append(pk, "us", flags, "");
        if (r < 0)
                return r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        /* Linked first, so that query_free() can always unlink it. */
        q->registry = registry;
        q->next = registry->queries;
        registry->queries = q;

        q->request = sd_bus_message_ref(call);
        q->uid = uid;
        q->action = strdup(action);
        q->details = calloc(1, sizeof(char *));
        if (!q->action || !q->details) {
                query_free(q);
                return -ENOMEM;
        }
        for (size_t i = 0; details && details[i]; i++)
                if (vh_strv_extend(&q->details, details[i]) < 0) {
                        query_free(q);
                        return -ENOMEM;
                }

        /* No timeout of our own: an agent may take minutes for a password. */
        r = sd_bus_call_async(sd_bus_message_get_bus(call), &q->slot, pk, on_polkit_reply, q, UINT64_MAX);
        if (r < 0) {
                query_free(q);
                return r;
        }
        return 0;
}
