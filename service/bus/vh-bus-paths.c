/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "vh-bus-paths.h"
#include "vh-macro.h"
#include "vh-names.h"

int vh_bus_device_path(const char *address, char **ret) {
        return sd_bus_path_encode(VH_DEVICE_PATH_PREFIX, address, ret);
}

int vh_bus_group_path(unsigned id, char **ret) {
        return asprintf(ret, VH_GROUP_PATH_PREFIX "/%u", id) < 0 ? -ENOMEM : 0;
}

int vh_bus_append_device_paths(sd_bus_message *m, char * const *addresses) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "o");
        if (r < 0)
                return r;
        for (char * const *a = addresses; a && *a; a++) {
                _cleanup_free_ char *p = NULL;

                if (!vh_address_is_valid(*a))
                        continue;
                r = vh_bus_device_path(*a, &p);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "o", p);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int vh_bus_append_group_paths(sd_bus_message *m, const unsigned *ids, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;

                r = vh_bus_group_path(ids[i], &p);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "o", p);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int vh_bus_device_address_from_path(const char *path, char ret[VH_ADDRESS_MAX]) {
        _cleanup_free_ char *address = NULL, *canonical_path = NULL;
        char canonical[VH_ADDRESS_MAX];
        int r;

        r = sd_bus_path_decode(path, VH_DEVICE_PATH_PREFIX, &address);
        if (r <= 0)
                return r;
        if (vh_address_normalize(address, canonical) < 0)
                return 0;

        /* sd_bus_path_decode() takes "_2E" for "_2e", an escaped letter or
         * digit, and uppercase hex in the address: many spellings of one
         * device. Only the path we publish names it, as with groups ("007"),
         * so clients comparing paths with signals and the object manager's
         * list are never told about a device under another name. */
        r = vh_bus_device_path(canonical, &canonical_path);
        if (r < 0)
                return r;
        if (strcmp(canonical_path, path) != 0)
                return 0;

        memcpy(ret, canonical, VH_ADDRESS_MAX);
        return 1;
}

/* The canonical decimal number after prefix "/", at most max: 1, else 0. */
static int number_from_path(const char *path, const char *prefix, unsigned long max, unsigned long *ret) {
        size_t n = strlen(prefix);
        const char *e;
        unsigned long v;
        char *end;

        if (strncmp(path, prefix, n) != 0 || path[n] != '/')
                return 0;
        e = path + n + 1;
        /* Canonical decimal only: "007" must not alias 7. */
        if (*e < '0' || *e > '9' || (e[0] == '0' && e[1]))
                return 0;

        errno = 0;
        v = strtoul(e, &end, 10);
        if (errno != 0 || *end || v > max)
                return 0;

        *ret = v;
        return 1;
}

int vh_bus_group_id_from_path(const char *path, unsigned *ret) {
        unsigned long id;

        if (number_from_path(path, VH_GROUP_PATH_PREFIX, INT32_MAX, &id) <= 0)
                return 0;
        *ret = (unsigned) id;
        return 1;
}

int vh_bus_vm_path(pid_t pid, char **ret) {
        return asprintf(ret, VH_VM_PATH_PREFIX "/%d", (int) pid) < 0 ? -ENOMEM : 0;
}

int vh_bus_process_path(pid_t pid, char **ret) {
        return asprintf(ret, VH_PROCESS_PATH_PREFIX "/%d", (int) pid) < 0 ? -ENOMEM : 0;
}

int vh_bus_pid_from_path(const char *path, const char *prefix, pid_t *ret) {
        unsigned long pid;

        /* pid 0 is no process */
        if (number_from_path(path, prefix, INT32_MAX, &pid) <= 0 || pid == 0)
                return 0;
        *ret = (pid_t) pid;
        return 1;
}
