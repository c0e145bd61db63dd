/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-objects.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

static int property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhIommuGroup *g = userdata;

        /* Only PCI functions have objects; others still show in Addresses
         * and in the viability reason. */
        return vh_bus_append_device_paths(reply, g->members);
}

static int property_get_viable(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const VhIommuGroup *g = userdata;

        return sd_bus_message_append(reply, "b", (int) g->viable);
}

static const sd_bus_vtable group_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(VhIommuGroup, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Addresses", "as", NULL, offsetof(VhIommuGroup, members), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Type", "s", NULL, offsetof(VhIommuGroup, type), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Viable", "b", property_get_viable, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ViabilityReason", "s", NULL, offsetof(VhIommuGroup, viability_reason), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Assignability", "s", NULL, offsetof(VhIommuGroup, assignability), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

static int group_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                             void **found, sd_bus_error *error) {
        VhDaemon *daemon = userdata;
        unsigned id;
        VhIommuGroup *g;

        if (vh_bus_group_id_from_path(path, &id) <= 0)
                return 0;

        g = vh_host_find_group(daemon->host, id);
        if (!g)
                return 0;

        *found = g;
        return 1;
}

static int group_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        VhDaemon *daemon = userdata;
        int r;

        l = calloc(daemon->host->n_groups + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (size_t i = 0; i < daemon->host->n_groups; i++) {
                r = vh_bus_group_path(daemon->host->groups[i]->id, &l[i]);
                if (r < 0)
                        return r;
        }

        *nodes = TAKE_PTR(l);
        return 1;
}

int vh_bus_group_register(VhDaemon *d) {
        int r;

        r = sd_bus_add_fallback_vtable(d->bus, NULL, VH_GROUP_PATH_PREFIX, VH_GROUP_INTERFACE,
                                       group_vtable, group_object_find, d);
        if (r < 0)
                return r;

        return sd_bus_add_node_enumerator(d->bus, NULL, VH_GROUP_PATH_PREFIX, group_node_enumerator, d);
}
