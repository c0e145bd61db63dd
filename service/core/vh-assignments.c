/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vh-assignments.h"
#include "vh-journal.h"
#include "vh-json-read.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"

/* Version 2 adds "vfs". A file is written as version 1 unless an entry
 * has it: a vfiohost that reads only version 1 would take a VF-count entry
 * for a bind of the PF itself, so it must refuse the file instead. */
#define ASSIGNMENTS_VERSION 1
#define ASSIGNMENTS_VERSION_VFS 2
#define NAME_MAX_LEN 64
/* Far beyond any real time, small enough for an int64. */
#define TIME_MAX ((int64_t) 1 << 62)

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

bool vh_assignment_name_is_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n < 2 || n > NAME_MAX_LEN)
                return false;
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
                return false;
        /* No colon: a name never looks like an address, so an argument
         * that takes either is never ambiguous. */
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

void vh_assignment_clear(VhAssignment *e) {
        free(e->name);
        free(e->driver);
}

VhAssignments *vh_assignments_free(VhAssignments *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n; i++)
                vh_assignment_clear(&a->entries[i]);
        free(a->entries);
        free(a);
        return NULL;
}

const VhAssignment *vh_assignments_find(const VhAssignments *a, const char *address_or_name) {
        char canonical[VH_ADDRESS_MAX];
        bool is_address = vh_address_normalize(address_or_name, canonical) >= 0;

        for (size_t i = 0; i < a->n; i++)
                if (is_address ? strcmp(a->entries[i].address, canonical) == 0
                               : (a->entries[i].name && strcmp(a->entries[i].name, address_or_name) == 0))
                        return &a->entries[i];
        return NULL;
}

static int compare_entries(const void *x, const void *y) {
        return vh_address_compare(((const VhAssignment *) x)->address, ((const VhAssignment *) y)->address);
}

int vh_assignments_set(VhAssignments *a, const VhAssignment *assignment) {
        char canonical[VH_ADDRESS_MAX];
        VhAssignment copy = {}, *slot = NULL, *entries;

        if (vh_address_normalize(assignment->address, canonical) < 0 ||
            (assignment->name && !vh_assignment_name_is_valid(assignment->name)) ||
            !assignment->driver || !vh_journal_driver_name_is_valid(assignment->driver) ||
            assignment->vfs > VH_ASSIGNMENT_VFS_MAX || (assignment->vfs > 0 && assignment->group))
                return -EINVAL;
        for (size_t i = 0; i < a->n; i++) {
                if (strcmp(a->entries[i].address, canonical) == 0)
                        slot = &a->entries[i];
                else if (assignment->name && a->entries[i].name && strcmp(a->entries[i].name, assignment->name) == 0)
                        return -EEXIST;
        }

        copy = *assignment;
        memcpy(copy.address, canonical, sizeof(canonical));
        copy.name = assignment->name ? strdup(assignment->name) : NULL;
        copy.driver = strdup(assignment->driver);
        if ((assignment->name && !copy.name) || !copy.driver) {
                vh_assignment_clear(&copy);
                return -ENOMEM;
        }
        if (slot) {
                vh_assignment_clear(slot);
                *slot = copy;
                return 0;
        }
        entries = realloc(a->entries, (a->n + 1) * sizeof(*entries));
        if (!entries) {
                vh_assignment_clear(&copy);
                return -ENOMEM;
        }
        a->entries = entries;
        a->entries[a->n++] = copy;
        qsort(a->entries, a->n, sizeof(*a->entries), compare_entries);
        return 0;
}

int vh_assignments_remove(VhAssignments *a, const char *address_or_name) {
        const VhAssignment *e = vh_assignments_find(a, address_or_name);
        size_t i;

        if (!e)
                return -ENOENT;
        i = (size_t) (e - a->entries);
        vh_assignment_clear(&a->entries[i]);
        memmove(&a->entries[i], &a->entries[i + 1], (a->n - i - 1) * sizeof(*a->entries));
        a->n--;
        return 0;
}

/* The serial number as 16 lowercase hex digits (lspci's "00-11-22-..."
 * is for people; this is for the file). */
static int get_dsn(json_object *o, bool *has, uint64_t *ret) {
        const char *s;

        if (vh_json_get_string(o, "dsn", &s) < 0)
                return -EBADMSG;
        *has = s != NULL;
        if (!s)
                return 0;
        if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
                return -EBADMSG;
        *ret = strtoull(s, NULL, 16);
        return 0;
}

static int parse_identity(json_object *o, VhIdentity *ret) {
        const char *class_text;

        if (!json_object_is_type(o, json_type_object) || vh_json_get_pci_id(o, "vendor", &ret->vendor) < 0 ||
            vh_json_get_pci_id(o, "device", &ret->device) < 0 ||
            vh_json_get_pci_id(o, "subsystem_vendor", &ret->subsystem_vendor) < 0 ||
            vh_json_get_pci_id(o, "subsystem_device", &ret->subsystem_device) < 0 ||
            vh_json_get_string(o, "class", &class_text) < 0 || !class_text || strlen(class_text) != 6 ||
            strspn(class_text, "0123456789abcdef") != 6 || get_dsn(o, &ret->has_dsn, &ret->dsn) < 0)
                return -EBADMSG;
        ret->class_code = (uint32_t) strtoul(class_text, NULL, 16);
        return 0;
}

static int parse_entry(VhAssignments *a, json_object *o, int64_t version) {
        const char *address, *name, *driver;
        VhAssignment e = {};
        uint64_t created, vfs;
        json_object *identity;
        int r;

        if (!json_object_is_type(o, json_type_object) || vh_json_get_string(o, "address", &address) < 0 || !address ||
            vh_address_normalize(address, e.address) < 0 || vh_json_get_string(o, "name", &name) < 0 ||
            vh_json_get_string(o, "driver", &driver) < 0 || !driver || vh_json_get_bool(o, "group", false, &e.group) < 0 ||
            vh_json_get_uint(o, "time", TIME_MAX, 0, &created) < 0 ||
            vh_json_get_uint(o, "vfs", VH_ASSIGNMENT_VFS_MAX, 0, &vfs) < 0 ||
            !json_object_object_get_ex(o, "identity", &identity) || parse_identity(identity, &e.identity) < 0)
                return -EBADMSG;
        /* One entry per address and per name: which one would be true? */
        if (vh_assignments_find(a, e.address) || (name && vh_assignments_find(a, name)))
                return -EBADMSG;
        e.name = (char *) name;
        e.driver = (char *) driver;
        e.created_usec = created;
        if (vfs > 0 && version < ASSIGNMENTS_VERSION_VFS)
                return -EBADMSG;
        e.vfs = (unsigned) vfs;
        r = vh_assignments_set(a, &e);
        return r == -EINVAL || r == -EEXIST ? -EBADMSG : r;
}

int vh_assignments_load(const VhHostFs *fs, const char *state_dir, VhAssignments **ret) {
        _cleanup_(vh_assignments_freep) VhAssignments *a = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_free_ char *content = NULL;
        json_object *v, *entries;
        int64_t version;
        size_t size = 0;
        int r;

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;

        r = vh_hostfs_read_file(fs, &content, &size, state_dir, VH_ASSIGNMENTS_FILE, NULL);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(a);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read the assignments %s/%s: %m", state_dir, VH_ASSIGNMENTS_FILE);

        root = strlen(content) == size ? vh_json_parse_whole(content) : NULL;
        if (!root || !json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "version", &v) ||
            !json_object_is_type(v, json_type_int))
                return log_error_errno(EBADMSG, "The assignments %s/%s are damaged; nothing is assigned until "
                                       "the file is repaired or moved aside.", state_dir, VH_ASSIGNMENTS_FILE);
        /* A newer vfiohost wrote it: never guess what its fields mean. */
        version = json_object_get_int64(v);
        if (version < ASSIGNMENTS_VERSION || version > ASSIGNMENTS_VERSION_VFS)
                return log_error_errno(EPROTONOSUPPORT, "The assignments %s/%s are of version %" PRId64 ", this vfiohostd "
                                       "reads versions %d to %d; nothing is assigned.", state_dir, VH_ASSIGNMENTS_FILE,
                                       version, ASSIGNMENTS_VERSION, ASSIGNMENTS_VERSION_VFS);
        if (!json_object_object_get_ex(root, "assignments", &entries) || !json_object_is_type(entries, json_type_array))
                return log_error_errno(EBADMSG, "The assignments %s/%s are damaged (no list).", state_dir,
                                       VH_ASSIGNMENTS_FILE);
        for (size_t i = 0; i < json_object_array_length(entries); i++) {
                r = parse_entry(a, json_object_array_get_idx(entries, i), version);
                if (r < 0)
                        return log_error_errno(r, "The assignments %s/%s have a damaged entry %zu.", state_dir,
                                               VH_ASSIGNMENTS_FILE, i);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* Lowercase hex of width digits, as sysfs prints ids without the 0x. */
static int add_hex(json_object *o, const char *key, int width, uint64_t value) {
        char hex[24];

        snprintf(hex, sizeof(hex), "%0*" PRIx64, width, value);
        return json_object_object_add(o, key, json_object_new_string(hex));
}

int vh_assignments_save(const VhHostFs *fs, const char *state_dir, const VhAssignments *a) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *entries = json_object_new_array();
        const char *text;
        int version = ASSIGNMENTS_VERSION;
        int r;

        if (!root || !entries) {
                json_object_put(entries);
                return -ENOMEM;
        }
        for (size_t i = 0; i < a->n; i++)
                if (a->entries[i].vfs > 0)
                        version = ASSIGNMENTS_VERSION_VFS;
        json_object_object_add(root, "version", json_object_new_int(version));
        json_object_object_add(root, "assignments", entries);
        for (size_t i = 0; i < a->n; i++) {
                const VhAssignment *e = &a->entries[i];
                json_object *o = json_object_new_object(), *id = json_object_new_object();

                if (!o || !id) {
                        json_object_put(o);
                        json_object_put(id);
                        return -ENOMEM;
                }
                json_object_object_add(o, "address", json_object_new_string(e->address));
                json_object_object_add(o, "name", e->name ? json_object_new_string(e->name) : NULL);
                json_object_object_add(o, "driver", json_object_new_string(e->driver));
                json_object_object_add(o, "group", json_object_new_boolean(e->group));
                if (e->vfs > 0)
                        json_object_object_add(o, "vfs", json_object_new_int64(e->vfs));
                add_hex(id, "vendor", 4, e->identity.vendor);
                add_hex(id, "device", 4, e->identity.device);
                add_hex(id, "subsystem_vendor", 4, e->identity.subsystem_vendor);
                add_hex(id, "subsystem_device", 4, e->identity.subsystem_device);
                add_hex(id, "class", 6, e->identity.class_code);
                if (e->identity.has_dsn)
                        add_hex(id, "dsn", 16, e->identity.dsn);
                json_object_object_add(o, "identity", id);
                json_object_object_add(o, "time", json_object_new_int64((int64_t) e->created_usec));
                json_object_array_add(entries, o);
        }

        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        r = vh_hostfs_mkdir_p(fs, state_dir, NULL);
        if (r < 0)
                return r;
        return vh_hostfs_write_file_atomic(fs, text, strlen(text), state_dir, VH_ASSIGNMENTS_FILE, NULL);
}
