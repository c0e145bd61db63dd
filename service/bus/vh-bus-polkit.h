/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* Asynchronous polkit checks over sd-bus, the way systemd's bus-polkit.c
 * does them. A method handler calls vh_bus_polkit_check():
 *   1: authorized — act now;
 *   0: a query to polkit is on its way — return 0 without replying; when
 *      polkit answers, the same message is dispatched again and the handler
 *      runs a second time, now getting 1 or an error;
 *  <0: refused, error set (AccessDenied, InteractiveAuthorizationRequired).
 * So a handler must validate before asking and must not change anything
 * before it gets 1. root is authorized without asking polkit; a missing
 * polkit means denied. */

/* Checks waiting for polkit, at most: per user (all of a user's
 * connections together — a bound per connection is evaded by opening
 * more) and in total. Both stay far below dbus-daemon's cap on the
 * daemon's own pending calls (max_replies_per_connection, 128 by default),
 * which once reached would fail every further CheckAuthorization, for
 * everyone. The excess is answered with org.vfiohost.Error.Busy. */
#define VH_POLKIT_MAX_PENDING_PER_USER 4
#define VH_POLKIT_MAX_PENDING 32

typedef struct VhPolkitRegistry VhPolkitRegistry;

int vh_polkit_registry_new(sd_event *event, VhPolkitRegistry **ret);
VhPolkitRegistry *vh_polkit_registry_free(VhPolkitRegistry *r);
static inline void vh_polkit_registry_freep(VhPolkitRegistry **r) {
        vh_polkit_registry_free(*r);
}
/* Queries waiting for polkit: the daemon must not exit while any is. */
bool vh_polkit_registry_is_busy(const VhPolkitRegistry *r);

/* details: NULL-terminated key, value, key, value... */
int vh_bus_polkit_check(VhPolkitRegistry *registry, sd_bus_message *call, const char *action,
                        const char * const *details, sd_bus_error *error);
