/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

#include "vh-bus-polkit.h"

/* Deny by default (bolt's bouncer). One table lists every member of every
 * interface the daemon answers, its own and the standard ones sd-bus adds
 * to each object: read-only (anyone), mapped to a polkit action, or — for
 * org.freedesktop.DBus.Properties.Set — decided per property by setter
 * rows. A bus filter consults the table before any handler runs and
 * refuses a member it does not list with AccessDenied, so a method added
 * to a vtable without a row here can never be reached; a listed member
 * called with other arguments than its row's signature is InvalidArgs
 * (sd-bus itself lets extra arguments to Ping, GetMachineId or GetAll
 * pass). */

typedef enum VhBusAccess {
        VH_BUS_ACCESS_READ_ONLY,        /* anyone may call it */
        VH_BUS_ACCESS_POLKIT,           /* the handler asks polkit for the action, after validating */
        VH_BUS_ACCESS_PER_PROPERTY,     /* Properties.Set: the setter row of the property decides */
} VhBusAccess;

typedef struct VhBusRule {
        const char *interface;
        const char *member;             /* a method; in a setter row, the property */
        const char *signature;          /* of the call's arguments; a setter row: the property's type */
        bool setter;
        VhBusAccess access;
        const char *action;             /* VH_BUS_ACCESS_POLKIT only */
} VhBusRule;

/* The rule of a method, NULL when the table does not list it. */
const VhBusRule *vh_bus_bouncer_lookup(const char *interface, const char *member);
/* The rule of setting a property, NULL when the table does not list it
 * (today: every property, none is writable). */
const VhBusRule *vh_bus_bouncer_lookup_setter(const char *interface, const char *property);
/* The whole table, for the contract test. */
const VhBusRule *vh_bus_bouncer_rules(size_t *ret_n);

/* Adds the filter to bus; it must be the first filter added, so that no
 * other filter sees a call the table refuses. */
int vh_bus_bouncer_install(sd_bus *bus, sd_bus_slot **ret_slot);

/* For a handler of a VH_BUS_ACCESS_POLKIT member: vh_bus_polkit_check()
 * with the action the table maps the call's member to (never one the
 * handler picks). A member with another rule is refused. */
int vh_bus_authorize(VhPolkitRegistry *registry, sd_bus_message *call, const char * const *details,
                     sd_bus_error *error);
