/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager1.ListDevices: every device's Device1 properties in one reply,
 * a column per property (docs/dbus-api.md, "Listing a large host").
 *
 * GetManagedObjects sends each property as a dict entry holding a variant:
 * name, signature and value again for every device, every group and the
 * standard interfaces. On a host of thousands of SR-IOV functions that is
 * most of what the daemon, dbus-daemon and the client spend on a listing
 * (docs/performance.md), and the reply outgrows dbus-daemon's message size
 * limit. Here a property's name and type come once, its values follow as
 * one array in device order, and a caller asks only for the properties it
 * prints. The values come from the same vtables and getters as
 * Properties.Get, so the two cannot drift apart. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh-bus-objects.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

typedef struct DeviceColumn {
        const sd_bus_vtable *property;
        bool held_by;                   /* userdata is the VM tracker, not the device */
} DeviceColumn;

static const sd_bus_vtable * const device_vtables[] = { vh_bus_device_vtable, vh_bus_device_held_by_vtable };

static bool vtable_is_property(const sd_bus_vtable *v) {
        return v->type == _SD_BUS_VTABLE_PROPERTY || v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY;
}

/* Every Device1 property, in GetManagedObjects' order, into out (NULL:
 * only counted); returns how many. */
static size_t all_columns(DeviceColumn *out) {
        size_t n = 0;

        for (size_t k = 0; k < ELEMENTSOF(device_vtables); k++)
                for (const sd_bus_vtable *v = device_vtables[k]; v->type != _SD_BUS_VTABLE_END; v++) {
                        if (!vtable_is_property(v))
                                continue;
                        if (out)
                                out[n] = (DeviceColumn) { .property = v, .held_by = k == 1 };
                        n++;
                }
        return n;
}

/* What sd-bus's own getter does for a property without one: the field at
 * the offset, NULL strings as "" and NULL string vectors as empty. Only the
 * types Device1 uses this way; a new one fails loudly in the tests. */
static int append_field(sd_bus_message *reply, const char *signature, const void *field) {
        if (strcmp(signature, "s") == 0 || strcmp(signature, "o") == 0) {
                const char *s = *(char * const *) field;

                return sd_bus_message_append_basic(reply, signature[0], s ?: "");
        }
        if (strcmp(signature, "as") == 0)
                return sd_bus_message_append_strv(reply, *(char ** const *) field);
        if (strlen(signature) == 1 && strchr("yqui", signature[0]))
                return sd_bus_message_append_basic(reply, signature[0], field);
        return -EOPNOTSUPP;
}

static int append_column(sd_bus *bus, sd_bus_message *reply, VhDaemon *d, const DeviceColumn *c, char **paths,
                         sd_bus_error *error) {
        const sd_bus_vtable *v = c->property;
        const char *signature = v->x.property.signature;
        _cleanup_free_ char *array = NULL;
        int r;

        if (asprintf(&array, "a%s", signature) < 0)
                return -ENOMEM;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', v->x.property.member);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', array);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', signature);
        if (r < 0)
                return r;

        for (size_t i = 0; i < d->host->n_devices; i++) {
                uint8_t *userdata = c->held_by ? (uint8_t *) d->vms : (uint8_t *) d->host->devices[i];

                userdata += v->x.property.offset;
                if (v->x.property.get)
                        r = v->x.property.get(bus, paths[i], VH_DEVICE_INTERFACE, v->x.property.member, reply,
                                              userdata, error);
                else
                        r = append_field(reply, signature, userdata);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* The columns asked for, each once, in the order asked; none asked: every
 * property, in GetManagedObjects' order. */
static int pick_columns(char **names, DeviceColumn **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_free_ DeviceColumn *all = NULL, *columns = NULL;
        size_t n_all = all_columns(NULL), n = 0;

        all = calloc(n_all, sizeof(*all));
        if (!all)
                return -ENOMEM;
        all_columns(all);
        if (vh_strv_length(names) == 0) {
                *ret = TAKE_PTR(all);
                *ret_n = n_all;
                return 0;
        }

        columns = calloc(vh_strv_length(names), sizeof(*columns));
        if (!columns)
                return -ENOMEM;
        STRV_FOREACH(name, names) {
                const DeviceColumn *c = NULL;
                bool seen = false;

                for (size_t i = 0; !c && i < n_all; i++)
                        if (strcmp(all[i].property->x.property.member, *name) == 0)
                                c = &all[i];
                if (!c)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY,
                                                 VH_DEVICE_INTERFACE " has no property '%.64s': ask for "
                                                 "those org.vfiohost(7) lists, or none for all of them",
                                                 *name);
                for (size_t j = 0; j < n; j++)
                        seen = seen || columns[j].property == c->property;
                if (!seen)
                        columns[n++] = *c;
        }

        *ret = TAKE_PTR(columns);
        *ret_n = n;
        return 0;
}

int vh_bus_method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL, **paths = NULL;
        _cleanup_free_ DeviceColumn *columns = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        VhDaemon *d = userdata;
        size_t n_columns = 0;
        int r;

        r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                return r;

        r = pick_columns(names, &columns, &n_columns, error);
        if (r < 0)
                return r;

        paths = calloc(d->host->n_devices + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < d->host->n_devices; i++) {
                r = vh_bus_device_path(d->host->devices[i]->address, &paths[i]);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < d->host->n_devices; i++)
                r = sd_bus_message_append_basic(reply, 'o', paths[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        for (size_t c = 0; r >= 0 && c < n_columns; c++)
                r = append_column(bus, reply, d, &columns[c], paths, error);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;

        return sd_bus_send(NULL, reply, NULL);
}
