/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ctl-bus: connecting to the system bus, fetching vfiohostd's objects into
 * plain structs, and turning bus errors into messages a user can act on. */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl-bus.h"
#include "vh-address.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

#define DBUS_PROPERTIES_INTERFACE       "org.freedesktop.DBus.Properties"
#define DBUS_OBJECT_MANAGER_INTERFACE   "org.freedesktop.DBus.ObjectManager"
/* What sd_bus_open_system() uses when DBUS_SYSTEM_BUS_ADDRESS is unset. */
#define DEFAULT_SYSTEM_BUS_ADDRESS      "unix:path=/run/dbus/system_bus_socket"

static bool type_is_string(char type) {
        return type == 's' || type == 'o' || type == 'g';
}

static void ctl_property_done(CtlProperty *p) {
        free(p->name);
        if (type_is_string(p->type))
                free(p->str);
        else if (p->type == 'a')
                vh_strv_free(p->strv);
}

CtlObject *ctl_object_free(CtlObject *o) {
        if (!o)
                return NULL;

        for (size_t i = 0; i < o->n_properties; i++)
                ctl_property_done(&o->properties[i]);
        free(o->properties);
        free(o->path);
        free(o);
        return NULL;
}

void ctl_object_array_free(CtlObject **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                ctl_object_free(a[i]);
        free(a);
}

CtlHost *ctl_host_free(CtlHost *h) {
        if (!h)
                return NULL;

        ctl_object_free(h->manager);
        ctl_object_array_free(h->devices, h->n_devices);
        ctl_object_array_free(h->groups, h->n_groups);
        ctl_object_array_free(h->vms, h->n_vms);
        ctl_object_array_free(h->processes, h->n_processes);
        free(h);
        return NULL;
}

CtlBindResult *ctl_bind_result_free(CtlBindResult *r) {
        if (!r)
                return NULL;

        ctl_object_free(r->result);
        ctl_object_array_free(r->devices, r->n_devices);
        ctl_object_free(r->assignment);
        free(r);
        return NULL;
}

CtlStaticSetup *ctl_static_setup_free(CtlStaticSetup *s) {
        if (!s)
                return NULL;

        ctl_object_free(s->result);
        ctl_object_array_free(s->parameters, s->n_parameters);
        free(s);
        return NULL;
}

CtlReadiness *ctl_readiness_free(CtlReadiness *r) {
        if (!r)
                return NULL;

        free(r->verdict);
        ctl_object_array_free(r->checks, r->n_checks);
        free(r);
        return NULL;
}

const CtlProperty *ctl_object_get(const CtlObject *o, const char *name) {
        assert(o);
        assert(name);

        for (size_t i = 0; i < o->n_properties; i++)
                if (strcmp(o->properties[i].name, name) == 0)
                        return &o->properties[i];
        return NULL;
}

const char *ctl_object_get_string(const CtlObject *o, const char *name) {
        const CtlProperty *p = ctl_object_get(o, name);

        return p && type_is_string(p->type) ? strempty(p->str) : "";
}

bool ctl_object_get_bool(const CtlObject *o, const char *name) {
        const CtlProperty *p = ctl_object_get(o, name);

        return p && p->type == 'b' && p->b;
}

int64_t ctl_object_get_int(const CtlObject *o, const char *name, int64_t fallback) {
        const CtlProperty *p = ctl_object_get(o, name);

        if (!p)
                return fallback;
        switch (p->type) {
        case 'n': case 'i': case 'x':
                return p->i;
        case 'y': case 'q': case 'u': case 't':
                return p->u > INT64_MAX ? fallback : (int64_t) p->u;
        default:
                return fallback;
        }
}

uint64_t ctl_object_get_unsigned(const CtlObject *o, const char *name, uint64_t fallback) {
        const CtlProperty *p = ctl_object_get(o, name);

        if (!p)
                return fallback;
        switch (p->type) {
        case 'y': case 'q': case 'u': case 't':
                return p->u;
        case 'n': case 'i': case 'x':
                return p->i < 0 ? fallback : (uint64_t) p->i;
        default:
                return fallback;
        }
}

char **ctl_object_get_strv(const CtlObject *o, const char *name) {
        const CtlProperty *p = ctl_object_get(o, name);

        return p && p->type == 'a' ? p->strv : NULL;
}

const CtlObject *ctl_host_find_device(const CtlHost *h, const char *path_or_address) {
        assert(h);
        assert(path_or_address);

        for (size_t i = 0; i < h->n_devices; i++)
                if (strcmp(h->devices[i]->path, path_or_address) == 0 ||
                    strcmp(ctl_object_get_string(h->devices[i], "Address"), path_or_address) == 0)
                        return h->devices[i];
        return NULL;
}

/* The variant's signature, or "" when too deep to be one of ours (the
 * property is then known by name only). */
static void property_set_signature(CtlProperty *p, const char *contents) {
        if (strlen(contents) >= sizeof(p->signature))
                p->signature[0] = '\0';
        else
                strcpy(p->signature, contents);
}

/* A basic value as D-Bus lays it out in memory (a 'b' is 4 bytes), as
 * sd_bus_message_read_basic() writes it and an array holds it, widened. */
static void property_set_basic(CtlProperty *p, char type, const void *value) {
        p->type = type;
        switch (type) {
        case 'b': p->b = *(const uint32_t *) value != 0; break;
        case 'y': p->u = *(const uint8_t *) value; break;
        case 'q': p->u = *(const uint16_t *) value; break;
        case 'u': p->u = *(const uint32_t *) value; break;
        case 't': p->u = *(const uint64_t *) value; break;
        case 'n': p->i = *(const int16_t *) value; break;
        case 'i': p->i = *(const int32_t *) value; break;
        case 'x': p->i = *(const int64_t *) value; break;
        case 'd': p->d = *(const double *) value; break;
        }
}

/* An "as", "ao" or "ag" the message is positioned on. */
static int property_read_strv(sd_bus_message *m, CtlProperty *p) {
        int r;

        r = sd_bus_message_read_strv(m, &p->strv);
        if (r < 0)
                return r;
        if (!p->strv) {
                /* An empty array reads as NULL: keep "present but empty" apart from "absent". */
                p->strv = calloc(1, sizeof(char *));
                if (!p->strv)
                        return -ENOMEM;
        }
        p->type = 'a';
        return 0;
}

/* Reads the variant of one property; the message is positioned on the 'v'. */
static int read_property_value(sd_bus_message *m, CtlProperty *p) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        property_set_signature(p, contents);

        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;

        type = contents[0];
        switch (type) {
        case 's': case 'o': case 'g': {
                const char *s;

                r = sd_bus_message_read_basic(m, type, &s);
                if (r < 0)
                        return r;
                p->str = strdup(s);
                if (!p->str)
                        return -ENOMEM;
                break;
        }
        case 'b': case 'y': case 'q': case 'u': case 't': case 'n': case 'i': case 'x': case 'd': {
                /* Room for the widest basic type, aligned for any. */
                union {
                        uint64_t t;
                        double d;
                } v;

                r = sd_bus_message_read_basic(m, type, &v);
                if (r < 0)
                        return r;
                property_set_basic(p, type, &v);
                break;
        }
        case 'a':
                if (strlen(contents) == 2 && strchr("sog", contents[1])) {
                        r = property_read_strv(m, p);
                        if (r < 0)
                                return r;
                        break;
                }
                /* Any other array: known by name only, like the default. */
                type = '\0';
                r = sd_bus_message_skip(m, contents);
                if (r < 0)
                        return r;
                break;
        default:
                /* A type the client has no rule for: known by name only. */
                type = '\0';
                r = sd_bus_message_skip(m, contents);
                if (r < 0)
                        return r;
        }
        p->type = type;

        return sd_bus_message_exit_container(m);
}

static int object_new(const char *path, CtlObject **ret) {
        _cleanup_(ctl_object_freep) CtlObject *o = NULL;

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->path = strdup(path);
        if (!o->path)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

/* Appends an empty property called name, counted at once so that a failure
 * while reading its value still frees the name. */
static int object_add_property(CtlObject *o, const char *name, CtlProperty **ret) {
        CtlProperty *a, *p;

        /* Grown by doubling: a device has some forty properties. */
        if (o->n_properties == o->n_allocated) {
                size_t n = o->n_allocated ? o->n_allocated * 2 : 16;

                a = reallocarray(o->properties, n, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                o->properties = a;
                o->n_allocated = n;
        }
        p = &o->properties[o->n_properties];
        *p = (CtlProperty) {};
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        o->n_properties++;

        *ret = p;
        return 0;
}

/* Reads an a{sv} of properties into a new object. */
static int read_properties(sd_bus_message *m, const char *path, CtlObject **ret) {
        _cleanup_(ctl_object_freep) CtlObject *o = NULL;
        int r;

        r = object_new(path, &o);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        for (;;) {
                CtlProperty *p;
                const char *name;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;

                r = object_add_property(o, name, &p);
                if (r < 0)
                        return r;

                r = read_property_value(m, p);
                if (r < 0)
                        return r;

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(o);
        return 0;
}

int ctl_bus_read_interface(sd_bus_message *m, const char *path, const char *interface, CtlObject **ret) {
        _cleanup_(ctl_object_freep) CtlObject *found = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (!found && strcmp(name, interface) == 0)
                        r = read_properties(m, path, &found);
                else
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(found);
        return 0;
}

static int object_array_push(CtlObject ***a, size_t *n, CtlObject *o) {
        CtlObject **b;

        b = reallocarray(*a, *n + 1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b[(*n)++] = o;
        *a = b;
        return 0;
}

static int device_compare(const void *a, const void *b) {
        const CtlObject *x = *(const CtlObject * const *) a, *y = *(const CtlObject * const *) b;

        return vh_address_compare(ctl_object_get_string(x, "Address"), ctl_object_get_string(y, "Address"));
}

static int group_compare(const void *a, const void *b) {
        const CtlObject *x = *(const CtlObject * const *) a, *y = *(const CtlObject * const *) b;
        int64_t i = ctl_object_get_int(x, "Id", -1), j = ctl_object_get_int(y, "Id", -1);

        return i < j ? -1 : i > j;
}

/* Reads the reply of GetManagedObjects: a{oa{sa{sv}}}. */
static int pid_compare(const void *a, const void *b) {
        uint64_t x = ctl_object_get_unsigned(*(CtlObject * const *) a, "Pid", 0);
        uint64_t y = ctl_object_get_unsigned(*(CtlObject * const *) b, "Pid", 0);

        return x < y ? -1 : x > y;
}

static int read_managed_objects(sd_bus_message *m, CtlHost *h) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;

        for (;;) {
                const char *path;

                r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                r = sd_bus_message_read(m, "o", &path);
                if (r < 0)
                        return r;

                r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
                if (r < 0)
                        return r;

                for (;;) {
                        _cleanup_(ctl_object_freep) CtlObject *o = NULL;
                        const char *interface;

                        r = sd_bus_message_enter_container(m, 'e', "sa{sv}");
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;

                        r = sd_bus_message_read(m, "s", &interface);
                        if (r < 0)
                                return r;

                        if (strcmp(interface, VH_DEVICE_INTERFACE) == 0 ||
                            strcmp(interface, VH_GROUP_INTERFACE) == 0 ||
                            strcmp(interface, VH_VM_INTERFACE) == 0 ||
                            strcmp(interface, VH_PROCESS_INTERFACE) == 0 ||
                            (strcmp(interface, VH_MANAGER_INTERFACE) == 0 && !h->manager)) {
                                r = read_properties(m, path, &o);
                                if (r < 0)
                                        return r;

                                if (strcmp(interface, VH_DEVICE_INTERFACE) == 0)
                                        r = object_array_push(&h->devices, &h->n_devices, o);
                                else if (strcmp(interface, VH_GROUP_INTERFACE) == 0)
                                        r = object_array_push(&h->groups, &h->n_groups, o);
                                else if (strcmp(interface, VH_VM_INTERFACE) == 0)
                                        r = object_array_push(&h->vms, &h->n_vms, o);
                                else if (strcmp(interface, VH_PROCESS_INTERFACE) == 0)
                                        r = object_array_push(&h->processes, &h->n_processes, o);
                                else {
                                        h->manager = o;
                                        r = 0;
                                }
                                if (r < 0)
                                        return r;
                                TAKE_PTR(o);
                        } else {
                                /* Interfaces a newer daemon may add: not ours to show. */
                                r = sd_bus_message_skip(m, "a{sv}");
                                if (r < 0)
                                        return r;
                        }

                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                }

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }

        return sd_bus_message_exit_container(m);
}

static int get_all_properties(
                sd_bus *bus,
                const char *path,
                const char *interface,
                CtlObject **ret,
                sd_bus_error *error) {

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, VH_BUS_NAME, path, DBUS_PROPERTIES_INTERFACE, "GetAll",
                               error, &reply, "s", interface);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "read the properties of vfiohostd's objects");

        r = read_properties(reply, path, ret);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");

        return 0;
}

int ctl_bus_connect(bool interactive, sd_bus **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        assert(ret);

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS") ?: DEFAULT_SYSTEM_BUS_ADDRESS;

                /* NoServer for every failure: scripts match one name, the message says why. */
                sd_bus_error_setf(error, SD_BUS_ERROR_NO_SERVER,
                                  "cannot connect to the system bus at %s: %s%s",
                                  address, strerror(-r),
                                  r == -ENOENT || r == -ECONNREFUSED ? ": is dbus-daemon running?" : "");
                return r;
        }

        /* Lets polkit ask for a password when vfiohostd needs one (mutating
         * calls); --no-ask-password makes such calls fail at once instead. */
        r = sd_bus_set_allow_interactive_authorization(bus, interactive);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "set up the bus connection");

        *ret = TAKE_PTR(bus);
        return 0;
}

int ctl_bus_get_host(sd_bus *bus, CtlHost **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        int r;

        assert(bus);
        assert(ret);

        h = calloc(1, sizeof(*h));
        if (!h)
                return ctl_bus_error_explain(error, -ENOMEM, "allocate memory");

        /* One round trip for every device and group with all properties. */
        r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, DBUS_OBJECT_MANAGER_INTERFACE,
                               "GetManagedObjects", error, &reply, NULL);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "list vfiohostd's objects");

        r = read_managed_objects(reply, h);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's list of objects");

        /* The ObjectManager lists the objects below itself, not itself. */
        if (!h->manager) {
                r = get_all_properties(bus, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, &h->manager, error);
                if (r < 0)
                        return r;
        }

        if (h->n_devices > 1)
                qsort(h->devices, h->n_devices, sizeof(h->devices[0]), device_compare);
        if (h->n_groups > 1)
                qsort(h->groups, h->n_groups, sizeof(h->groups[0]), group_compare);
        if (h->n_vms > 1)
                qsort(h->vms, h->n_vms, sizeof(h->vms[0]), pid_compare);
        if (h->n_processes > 1)
                qsort(h->processes, h->n_processes, sizeof(h->processes[0]), pid_compare);

        *ret = TAKE_PTR(h);
        return 0;
}

/* One column of ListDevices: the variant holds an array of element, one
 * value per device, in the order of the devices' paths. Fixed-size values
 * are read in one piece; strings and string vectors one at a time. */
static int read_column(sd_bus_message *m, const char *name, CtlObject **devices, size_t n) {
        const char *contents, *element;
        int r;

        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        if (contents[0] != 'a')
                return -EBADMSG;
        element = contents + 1;

        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;

        if (strlen(element) == 1 && strchr("bynqiuxtd", element[0])) {
                const void *values;
                size_t size, width;
                char type = element[0];

                r = sd_bus_message_read_array(m, type, &values, &size);
                if (r < 0)
                        return r;
                width = strchr("y", type) ? 1 : strchr("nq", type) ? 2 : strchr("biu", type) ? 4 : 8;
                if (size != n * width)
                        return -EBADMSG;
                for (size_t i = 0; i < n; i++) {
                        const uint8_t *v = (const uint8_t *) values + i * width;
                        CtlProperty *p;

                        r = object_add_property(devices[i], name, &p);
                        if (r < 0)
                                return r;
                        property_set_signature(p, element);
                        property_set_basic(p, type, v);
                }
                return sd_bus_message_exit_container(m);
        }

        r = sd_bus_message_enter_container(m, 'a', element);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                CtlProperty *p;

                r = object_add_property(devices[i], name, &p);
                if (r < 0)
                        return r;
                property_set_signature(p, element);

                if (type_is_string(element[0]) && element[1] == '\0') {
                        const char *str;

                        r = sd_bus_message_read_basic(m, element[0], &str);
                        if (r == 0)
                                return -EBADMSG;
                        if (r < 0)
                                return r;
                        p->str = strdup(str);
                        if (!p->str)
                                return -ENOMEM;
                        p->type = element[0];
                } else if (element[0] == 'a' && type_is_string(element[1]) && element[2] == '\0') {
                        r = property_read_strv(m, p);
                        if (r < 0)
                                return r;
                } else {
                        /* As read_property_value(): known by name only. */
                        r = sd_bus_message_skip(m, element);
                        if (r < 0)
                                return r;
                }
        }
        /* More values than devices: not a reply of ours. */
        r = sd_bus_message_at_end(m, false);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_device_columns(sd_bus_message *m, CtlHost *h) {
        const char *path;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "o");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(m, 'o', &path)) > 0) {
                _cleanup_(ctl_object_freep) CtlObject *o = NULL;

                r = object_new(path, &o);
                if (r < 0)
                        return r;
                r = object_array_push(&h->devices, &h->n_devices, o);
                if (r < 0)
                        return r;
                TAKE_PTR(o);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        return r;
                r = read_column(m, name, h->devices, h->n_devices);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int ctl_bus_list_devices(sd_bus *bus, char * const *properties, CtlHost **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(ctl_host_freep) CtlHost *h = NULL;
        int r;

        assert(bus);
        assert(ret);

        r = sd_bus_message_new_method_call(bus, &call, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                           "ListDevices");
        if (r >= 0)
                r = sd_bus_message_append_strv(call, (char **) properties);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "build the call");

        r = sd_bus_call(bus, call, 0, error, &reply);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "list vfiohostd's devices");

        h = calloc(1, sizeof(*h));
        if (!h)
                return ctl_bus_error_explain(error, -ENOMEM, "allocate memory");
        /* In address order already: ListDevices' contract, tested. */
        r = read_device_columns(reply, h);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's list of devices");

        *ret = TAKE_PTR(h);
        return 0;
}

int ctl_bus_get_device(sd_bus *bus, const char *address, CtlObject **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        assert(bus);
        assert(address);
        assert(ret);

        /* The daemon validates the address and answers InvalidAddress or
         * NotFound; the client does not build object paths itself. */
        r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                               "GetDevice", error, &reply, "s", address);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "look up the device");

        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");

        return get_all_properties(bus, path, VH_DEVICE_INTERFACE, ret, error);
}

int ctl_bus_get_device_by_path(sd_bus *bus, const char *path, CtlObject **ret, sd_bus_error *error) {
        assert(bus);
        assert(path);
        assert(ret);

        return get_all_properties(bus, path, VH_DEVICE_INTERFACE, ret, error);
}

char *ctl_address_expand(const char *s) {
        const char *colon;
        char *ret;

        assert(s);

        /* "01:00.0" is how lspci prints addresses in domain 0; the daemon
         * wants the domain, so add it. Anything else goes to the daemon
         * unchanged: it alone decides what a valid address is and says
         * InvalidAddress. */
        colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':')) {
                if (asprintf(&ret, "0000:%s", s) < 0)
                        return NULL;
                return ret;
        }
        return strdup(s);
}

/* An aa{sv} as one object per entry, any keys (bind result devices,
 * readiness checks). */
static int read_object_array(sd_bus_message *m, CtlObject ***objects, size_t *n_objects) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;

        for (;;) {
                CtlObject *o = NULL;

                r = sd_bus_message_at_end(m, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;

                r = read_properties(m, "", &o);
                if (r < 0)
                        return r;
                r = object_array_push(objects, n_objects, o);
                if (r < 0) {
                        ctl_object_free(o);
                        return r;
                }
        }

        return sd_bus_message_exit_container(m);
}

/* The entry of a result that holds its records, positioned on its variant. */
static int read_records(sd_bus_message *m, CtlObject ***records, size_t *n_records) {
        int r;

        r = sd_bus_message_enter_container(m, 'v', "aa{sv}");
        if (r < 0)
                return r;
        r = read_object_array(m, records, n_records);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* An a{sv} result: the aa{sv} under records_key as one object per entry
 * (Bind's "devices", GetStaticSetup's "kernel-parameters"), the a{sv} under
 * object_key (SetPersistent's "assignment"; NULL: none) as *object, every
 * other key, known or added later, as a property of *result. */
static int read_result(sd_bus_message *m, const char *records_key, CtlObject **result, CtlObject ***records,
                       size_t *n_records, const char *object_key, CtlObject **object) {
        int r;

        r = object_new("", result);
        if (r < 0)
                return r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        for (;;) {
                const char *name, *contents;
                CtlProperty *p;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;

                if (strcmp(name, records_key) == 0 && strcmp(contents, "aa{sv}") == 0)
                        r = read_records(m, records, n_records);
                else if (object && !*object && strcmp(name, object_key) == 0 && strcmp(contents, "a{sv}") == 0) {
                        r = sd_bus_message_enter_container(m, 'v', "a{sv}");
                        if (r >= 0)
                                r = read_properties(m, "", object);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else {
                        r = object_add_property(*result, name, &p);
                        if (r < 0)
                                return r;
                        r = read_property_value(m, p);
                }
                if (r < 0)
                        return r;

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }

        return sd_bus_message_exit_container(m);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int append_option(sd_bus_message *m, const char *key, bool value) {
        /* Only what was asked for: the daemon's defaults are all false. */
        if (!value)
                return 0;
        return sd_bus_message_append(m, "{sv}", key, "b", 1);
}

static int append_string_option(sd_bus_message *m, const char *key, const char *value) {
        if (!value)
                return 0;
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

static const char *bind_verb_name(CtlBindVerb verb) {
        return verb == CTL_BIND_VERB_BIND ? "bind" : verb == CTL_BIND_VERB_UNBIND ? "unbind" :
               verb == CTL_BIND_VERB_PERSIST ? "persist" : "set the VF count of";
}

static const char *bind_verb_member(CtlBindVerb verb) {
        return verb == CTL_BIND_VERB_BIND ? "Bind" : verb == CTL_BIND_VERB_UNBIND ? "Unbind" :
               verb == CTL_BIND_VERB_PERSIST ? "SetPersistent" : "SetVfCount";
}

static const char *bind_verb_action(CtlBindVerb verb) {
        return verb == CTL_BIND_VERB_BIND ? VH_ACTION_BIND : verb == CTL_BIND_VERB_UNBIND ? VH_ACTION_UNBIND
                                                                                          : VH_ACTION_MANAGE;
}

#define ACCESS_DENIED_PREFIX "Access denied: "

/* Errors of Bind/Unbind that need the request to be explained: who may
 * do it, how to get asked for a password, what a timeout means here. */
static int bind_error_explain(sd_bus_error *error, int r, const CtlBindRequest *req, bool timed_out) {
        _cleanup_(sd_bus_error_free) sd_bus_error explained = SD_BUS_ERROR_NULL;
        const char *verb = bind_verb_name(req->verb);
        const char *action = bind_verb_action(req->verb);
        _cleanup_free_ char *what = NULL;

        if (asprintf(&what, "%s %s%s", verb, req->group ? "the IOMMU group of " : "", req->address) < 0)
                what = NULL;

        if (!sd_bus_error_is_set(error))
                return ctl_bus_error_explain(error, r, what ?: verb);

        /* NoReply also comes from the bus when the daemon went away with
         * the call pending: only our own timeout means "still working". */
        if (timed_out &&
            (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
             sd_bus_error_has_name(error, SD_BUS_ERROR_TIMEOUT)))
                sd_bus_error_setf(&explained, error->name,
                                  "vfiohostd did not answer within %llu s; it may still be working: "
                                  "see 'vfiohostctl show %s' and 'journalctl -u vfiohostd'",
                                  (unsigned long long) (CTL_BIND_TIMEOUT_USEC / 1000000), req->address);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY))
                sd_bus_error_setf(&explained, error->name,
                                  "vfiohostd went away without answering (%s); whether the %s happened, "
                                  "'vfiohostctl show %s' tells, and 'journalctl -u vfiohostd' why",
                                  error->message ?: error->name, verb, req->address);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED)) {
                const char *why = error->message ?: error->name;

                /* vfiohostd's reasons start so; ours says it already. */
                if (strncmp(why, ACCESS_DENIED_PREFIX, strlen(ACCESS_DENIED_PREFIX)) == 0)
                        why += strlen(ACCESS_DENIED_PREFIX);
                sd_bus_error_setf(&explained, error->name, "not authorized to %s (polkit action %s): %s",
                                  what ?: verb, action, why);
        }
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                sd_bus_error_setf(&explained, error->name,
                                  req->interactive ?
                                  "authentication required to %s (polkit action %s), and no authentication "
                                  "agent could ask for a password: run vfiohostctl on a terminal or in a "
                                  "desktop session, or as root" :
                                  "authentication required to %s (polkit action %s): drop --no-ask-password "
                                  "to be asked for a password, or run as root",
                                  what ?: verb, action);
        else if (req->typed && strcmp(req->typed, req->address) != 0 && error->message &&
                 strstr(error->message, req->address)) {
                /* The daemon says 0000:01:00.0; the user typed 01:00.0: say
                 * once that they are the same. */
                const char *at = strstr(error->message, req->address);

                sd_bus_error_setf(&explained, error->name, "%.*s%s (%s)%s", (int) (at - error->message),
                                  error->message, req->address, req->typed, at + strlen(req->address));
        } else
                return ctl_bus_error_explain(error, r, what ?: verb);

        sd_bus_error_free(error);
        *error = explained;
        explained = SD_BUS_ERROR_NULL;
        return r;
}

int ctl_bus_bind(sd_bus *bus, const CtlBindRequest *req, CtlBindResult **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(ctl_bind_result_freep) CtlBindResult *res = NULL;
        uint64_t start, end;
        int r;

        assert(bus);
        assert(req);
        assert(req->address);
        assert(ret);

        r = sd_bus_message_new_method_call(bus, &m, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE,
                                           bind_verb_member(req->verb));
        if (r >= 0)
                r = sd_bus_message_append(m, "s", req->address);
        if (r >= 0 && req->verb == CTL_BIND_VERB_SET_VF_COUNT)
                r = sd_bus_message_append(m, "u", req->vf_count);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_option(m, "group", req->group);
        if (r >= 0)
                r = append_option(m, "force", req->force);
        if (r >= 0)
                r = append_option(m, "dry-run", req->dry_run);
        if (r >= 0)
                r = append_string_option(m, "name", req->name);
        if (r >= 0)
                r = append_string_option(m, "driver", req->driver);
        /* SetPersistent: a PF's VF count rather than the PF itself. */
        if (r >= 0 && req->verb == CTL_BIND_VERB_PERSIST && req->vf_count > 0)
                r = sd_bus_message_append(m, "{sv}", "vfs", "u", req->vf_count);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "build the call to vfiohostd");

        /* The connection's allow-interactive-authorization setting is on the
         * message already; the timeout covers the password prompt too. */
        start = now_usec();
        r = sd_bus_call(bus, m, CTL_BIND_TIMEOUT_USEC, error, &reply);
        end = now_usec();
        if (r < 0)
                return bind_error_explain(error, r, req, end - start >= CTL_BIND_TIMEOUT_USEC);

        res = calloc(1, sizeof(*res));
        if (!res)
                return ctl_bus_error_explain(error, -ENOMEM, "allocate memory");

        r = read_result(reply, req->verb == CTL_BIND_VERB_SET_VF_COUNT || req->vf_count > 0 ? "vfs" : "devices", &res->result,
                        &res->devices, &res->n_devices, "assignment", &res->assignment);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");

        *ret = TAKE_PTR(res);
        return 0;
}


/* A Manager1 call whose one argument is an a{sv} of options: the message,
 * open inside the dictionary for the caller to append to. */
static int options_call_new(sd_bus *bus, const char *member, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, member);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* Closes the options (r: how appending them went) and makes the call;
 * action completes "failed to ..." in the error. */
static int options_call(sd_bus *bus, sd_bus_message *m, int r, const char *action, sd_bus_message **reply,
                        sd_bus_error *error) {
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "build the call to vfiohostd");
        r = sd_bus_call(bus, m, 0, error, reply);
        if (r < 0)
                return ctl_bus_error_explain(error, r, action);
        return 0;
}

int ctl_bus_get_readiness(sd_bus *bus, const char *device, CtlReadiness **ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(ctl_readiness_freep) CtlReadiness *res = NULL;
        const char *verdict;
        int r;

        assert(bus);
        assert(ret);

        r = options_call_new(bus, "GetReadiness", &m);
        if (r >= 0 && device)
                r = sd_bus_message_append(m, "{sv}", "device", "s", device);
        /* The daemon validates the address (InvalidAddress) and looks it up
         * (NotFound); its messages say so already. */
        r = options_call(bus, m, r, "run the readiness checks", &reply, error);
        if (r < 0)
                return r;

        res = calloc(1, sizeof(*res));
        if (!res)
                return ctl_bus_error_explain(error, -ENOMEM, "allocate memory");

        r = sd_bus_message_read(reply, "s", &verdict);
        if (r >= 0) {
                res->verdict = strdup(verdict);
                if (!res->verdict)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = read_object_array(reply, &res->checks, &res->n_checks);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");

        *ret = TAKE_PTR(res);
        return 0;
}

int ctl_bus_get_static_setup(sd_bus *bus, const CtlStaticSetupRequest *req, CtlStaticSetup **ret,
                             sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(ctl_static_setup_freep) CtlStaticSetup *res = NULL;
        int r;

        assert(bus);
        assert(req);
        assert(ret);

        r = options_call_new(bus, "GetStaticSetup", &m);
        /* Only what was asked for: absent devices mean "the persisted ones". */
        if (r >= 0 && req->devices) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "devices");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, req->devices);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && req->hugepages)
                r = sd_bus_message_append(m, "{sv}", "hugepages", "s", req->hugepages);
        if (r >= 0 && req->isolate_cpus)
                r = sd_bus_message_append(m, "{sv}", "isolate-cpus", "s", req->isolate_cpus);
        /* The daemon validates everything; its messages say what to do. */
        r = options_call(bus, m, r, "generate the static setup", &reply, error);
        if (r < 0)
                return r;

        res = calloc(1, sizeof(*res));
        if (!res)
                return ctl_bus_error_explain(error, -ENOMEM, "allocate memory");
        r = read_result(reply, "kernel-parameters", &res->result, &res->parameters, &res->n_parameters, NULL, NULL);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");

        *ret = TAKE_PTR(res);
        return 0;
}

static bool error_name_startswith(const sd_bus_error *e, const char *prefix) {
        return e->name && strncmp(e->name, prefix, strlen(prefix)) == 0;
}

int ctl_bus_error_explain(sd_bus_error *error, int r, const char *action) {
        _cleanup_(sd_bus_error_free) sd_bus_error explained = SD_BUS_ERROR_NULL;
        const char *message;

        assert(error);
        assert(r < 0);
        assert(action);

        if (!sd_bus_error_is_set(error)) {
                /* A local failure (memory, a dropped connection, a bad reply):
                 * sd-bus maps the errno to an error name for --json. */
                sd_bus_error_set_errnof(error, r, "failed to %s: %s", action, strerror(-r));
                return r;
        }

        message = error->message ?: error->name;

        if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                sd_bus_error_setf(&explained, error->name,
                                  "vfiohostd is not running and could not be activated: %s", message);
        else if (error_name_startswith(error, "org.freedesktop.DBus.Error.Spawn."))
                /* bolt#70: an activation failure must say so, not look like a timeout. */
                sd_bus_error_setf(&explained, error->name,
                                  "activating vfiohostd failed: %s (see 'journalctl -u vfiohostd')", message);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_TIMEOUT))
                sd_bus_error_setf(&explained, error->name,
                                  "vfiohostd did not answer in time: %s (see 'journalctl -u vfiohostd')", message);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                sd_bus_error_setf(&explained, error->name, "access denied: %s", message);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                sd_bus_error_setf(&explained, error->name,
                                  "authentication required: %s (drop --no-ask-password to be asked)", message);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
                 sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_PROPERTY))
                sd_bus_error_setf(&explained, error->name,
                                  "failed to %s: %s (is vfiohostd older than vfiohostctl?)", action, message);
        else if (error_name_startswith(error, VH_ERROR_PREFIX))
                /* The daemon's own errors already say what blocked and what to do. */
                return r;
        else
                sd_bus_error_setf(&explained, error->name, "failed to %s: %s", action, message);

        sd_bus_error_free(error);
        *error = explained;
        explained = SD_BUS_ERROR_NULL;
        return r;
}

int ctl_bus_clear_persistent(sd_bus *bus, const char *address_or_name, bool interactive, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CtlBindRequest req = { .verb = CTL_BIND_VERB_PERSIST, .address = address_or_name, .interactive = interactive };
        int r;

        r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "ClearPersistent", error,
                               &reply, "s", address_or_name);
        if (r < 0)
                /* The same advice as persist's: the action is manage. */
                return bind_error_explain(error, r, &req, false);
        return 0;
}

int ctl_bus_get_vcpus(sd_bus *bus, const char *path, CtlObject ***ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CtlObject **vcpus = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, VH_BUS_NAME, path, VH_VM_INTERFACE, "GetVcpus", error, &reply, NULL);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "read the VM's vCPUs");
        r = read_object_array(reply, &vcpus, &n);
        if (r < 0) {
                ctl_object_array_free(vcpus, n);
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");
        }
        *ret = vcpus;
        *ret_n = n;
        return 0;
}

int ctl_bus_list_persistent(sd_bus *bus, CtlObject ***ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CtlObject **objects = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, VH_BUS_NAME, VH_MANAGER_PATH, VH_MANAGER_INTERFACE, "ListPersistent", error,
                               &reply, NULL);
        if (r < 0)
                return ctl_bus_error_explain(error, r, "list the persistent assignments");
        r = read_object_array(reply, &objects, &n);
        if (r < 0) {
                ctl_object_array_free(objects, n);
                return ctl_bus_error_explain(error, r, "parse vfiohostd's reply");
        }
        *ret = objects;
        *ret_n = n;
        return 0;
}
