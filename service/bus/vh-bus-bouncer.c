/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "vh-bus-bouncer.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-utf8.h"

#define PROPERTIES_INTERFACE     "org.freedesktop.DBus.Properties"
#define INTROSPECTABLE_INTERFACE "org.freedesktop.DBus.Introspectable"
#define PEER_INTERFACE           "org.freedesktop.DBus.Peer"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"

#define READ_ONLY(i, m, s)      { .interface = (i), .member = (m), .signature = (s), .access = VH_BUS_ACCESS_READ_ONLY }
#define POLKIT(i, m, s, a)      { .interface = (i), .member = (m), .signature = (s), .access = VH_BUS_ACCESS_POLKIT, \
                                  .action = (a) }

/* Every member the daemon answers, on every object. Adding a method to a
 * vtable without a row here makes it unreachable (AccessDenied), so each
 * new member is a decision. The contract test (tests/bus/test-bouncer.c)
 * walks the live introspection of the manager, a device and a group and
 * fails on any method or writable property without a row. */
static const VhBusRule rules[] = {
        /* org.vfiohost.Manager1 */
        READ_ONLY(VH_MANAGER_INTERFACE, "GetDevice", "s"),
        /* The Device1 properties anyone may read, in columns. */
        READ_ONLY(VH_MANAGER_INTERFACE, "ListDevices", "as"),
        READ_ONLY(VH_MANAGER_INTERFACE, "GetReadiness", "a{sv}"),
        /* Read-only although it is about persistent configuration: it
         * writes nothing (the texts are for a person to apply), and all it
         * shows — devices, drivers, assignments, kernel facts — is open to
         * every caller already (ListPersistent, the Device1 properties,
         * GetReadiness). Asking for a password to print text would only
         * train people to type it. docs/dbus-api.md. */
        READ_ONLY(VH_MANAGER_INTERFACE, "GetStaticSetup", "a{sv}"),
        POLKIT(VH_MANAGER_INTERFACE, "Bind", "sa{sv}", VH_ACTION_BIND),
        POLKIT(VH_MANAGER_INTERFACE, "Unbind", "sa{sv}", VH_ACTION_UNBIND),
        POLKIT(VH_MANAGER_INTERFACE, "SetPersistent", "sa{sv}", VH_ACTION_MANAGE),
        POLKIT(VH_MANAGER_INTERFACE, "ClearPersistent", "s", VH_ACTION_MANAGE),
        /* VFs are lasting host configuration, like an assignment. */
        POLKIT(VH_MANAGER_INTERFACE, "SetVfCount", "sua{sv}", VH_ACTION_MANAGE),
        /* What is persisted is no secret: anyone may list it, as anyone
         * may list the devices. */
        READ_ONLY(VH_MANAGER_INTERFACE, "ListPersistent", ""),
        READ_ONLY(VH_MANAGER_INTERFACE, "Subscribe", ""),
        READ_ONLY(VH_MANAGER_INTERFACE, "Unsubscribe", ""),

        /* org.vfiohost.Device1, org.vfiohost.Group1 and
         * org.vfiohost.Process1 have properties only, all read-only. */

        /* org.vfiohost.VirtualMachine1: reads /proc, which anyone may
         * (task/TID/stat and status are world-readable). */
        READ_ONLY(VH_VM_INTERFACE, "GetVcpus", ""),

        /* What sd-bus adds to every object. */
        READ_ONLY(PROPERTIES_INTERFACE, "Get", "ss"),
        READ_ONLY(PROPERTIES_INTERFACE, "GetAll", "s"),
        { .interface = PROPERTIES_INTERFACE, .member = "Set", .signature = "ssv", .access = VH_BUS_ACCESS_PER_PROPERTY },
        READ_ONLY(INTROSPECTABLE_INTERFACE, "Introspect", ""),
        READ_ONLY(PEER_INTERFACE, "Ping", ""),
        READ_ONLY(PEER_INTERFACE, "GetMachineId", ""),
        READ_ONLY(OBJECT_MANAGER_INTERFACE, "GetManagedObjects", ""),

        /* Property setters: none. A writable property would get a row
         * { .interface, .member = property, .signature = its type,
         *   .setter = true, .access = VH_BUS_ACCESS_POLKIT, .action }. */
};

const VhBusRule *vh_bus_bouncer_rules(size_t *ret_n) {
        *ret_n = ELEMENTSOF(rules);
        return rules;
}

static const VhBusRule *lookup(const char *interface, const char *member, bool setter) {
        if (!interface || !member)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (rules[i].setter == setter && strcmp(rules[i].interface, interface) == 0 &&
                    strcmp(rules[i].member, member) == 0)
                        return &rules[i];
        return NULL;
}

const VhBusRule *vh_bus_bouncer_lookup(const char *interface, const char *member) {
        return lookup(interface, member, false);
}

const VhBusRule *vh_bus_bouncer_lookup_setter(const char *interface, const char *property) {
        return lookup(interface, property, true);
}

/* Properties.Set: the setter row of the property decides. */
static int check_set(sd_bus_message *m, sd_bus_error *error) {
        char qi[VH_EXCERPT_SIZE], qp[VH_EXCERPT_SIZE];
        const char *interface = NULL, *property = NULL;
        const VhBusRule *rule;
        int r;

        r = sd_bus_message_read(m, "ss", &interface, &property);
        (void) sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;

        rule = vh_bus_bouncer_lookup_setter(interface, property);
        if (!rule)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: Set of %s.%s: no property of vfiohost is writable; "
                                         "Manager1.Bind and Unbind change drivers.",
                                         vh_utf8_excerpt(interface, qi), vh_utf8_excerpt(property, qp));
        /* A listed setter authorizes in its handler, as a method does. */
        return 0;
}

static int bouncer_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *interface, *member;
        const VhBusRule *rule;

        /* Replies and signals are not requests. */
        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;

        interface = sd_bus_message_get_interface(m);
        member = sd_bus_message_get_member(m);
        if (!interface)
                /* sd-bus would not dispatch it either; say what to do. */
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: %s was called without an interface; name it "
                                         "(e.g. " VH_MANAGER_INTERFACE ").", strempty(member));

        rule = vh_bus_bouncer_lookup(interface, member);
        if (!rule) {
                log_debug("Refusing %s.%s on %s from %s: not in the authorization table.", interface,
                          strempty(member), strempty(sd_bus_message_get_path(m)),
                          strempty(sd_bus_message_get_sender(m)));
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: %s.%s is not a member of vfiohost's API "
                                         "(see dbus/org.vfiohost.xml); nothing was done.",
                                         interface, strempty(member));
        }

        if (!sd_bus_message_has_signature(m, rule->signature))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid arguments '%s' to call %s.%s(), expecting '%s'.",
                                         strempty(sd_bus_message_get_signature(m, true)), interface, member,
                                         rule->signature);

        if (rule->access == VH_BUS_ACCESS_PER_PROPERTY)
                return check_set(m, error);

        /* Read-only: anyone. Polkit-mapped: the handler validates, then asks
         * polkit through vh_bus_authorize() for the action of this row. */
        return 0;
}

int vh_bus_bouncer_install(sd_bus *bus, sd_bus_slot **ret_slot) {
        /* Filters run on every incoming message before sd-bus dispatches it
         * to a vtable or answers it itself (Peer, Introspectable,
         * Properties, ObjectManager), re-dispatched calls included. */
        return sd_bus_add_filter(bus, ret_slot, bouncer_filter, NULL);
}

int vh_bus_authorize(VhPolkitRegistry *registry, sd_bus_message *call, const char * const *details,
                     sd_bus_error *error) {
        const char *interface = sd_bus_message_get_interface(call);
        const char *member = sd_bus_message_get_member(call);
        const VhBusRule *rule = vh_bus_bouncer_lookup(interface, member);

        if (!rule || rule->access != VH_BUS_ACCESS_POLKIT) {
                log_error("Refusing %s.%s: the authorization table maps no polkit action to it.",
                          strempty(interface), strempty(member));
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: %s has no authorization rule.", strempty(member));
        }
        return vh_bus_polkit_check(registry, call, rule->action, details, error);
}
