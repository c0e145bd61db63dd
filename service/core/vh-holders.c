/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-holders.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"
#include "vh-strv.h"
#include "vh-vms.h"

void vh_holders_free(VhHolder *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(h[i].comm);
                free(h[i].node);
                free(h[i].vm_name);
        }
        free(h);
}

static int add_node(char ***l, const char *dir, const char *name) {
        char *node;
        int r;

        if (asprintf(&node, "/%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = vh_strv_push(l, node);
        if (r < 0)
                free(node);
        return r;
}

/* "Device Minor: 0" in the NVIDIA driver's per-GPU information file. */
static int nvidia_minor(const VhHostFs *fs, const char *address, unsigned *ret) {
        _cleanup_free_ char *info = NULL;
        const char *p;

        if (vh_hostfs_read_file(fs, &info, NULL, VH_PROC_NVIDIA_GPUS, address, "information", NULL) < 0)
                return -ENOENT;

        p = strstr(info, "Device Minor:");
        if (!p || sscanf(p, "Device Minor: %u", ret) != 1)
                return -EBADMSG;
        return 0;
}

int vh_holders_driver_nodes(const VhHostFs *fs, const VhPciDevice *d, char ***ret) {
        _cleanup_strv_free_ char **l = NULL, **drm = NULL;
        unsigned minor;
        int r;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        /* drm/card0, drm/renderD128 are the nodes in /dev/dri. */
        if (vh_hostfs_list_dir(fs, &drm, VH_SYSFS_PCI_DEVICES, d->address, "drm", NULL) >= 0)
                STRV_FOREACH(e, drm)
                        if (strncmp(*e, "card", 4) == 0 || strncmp(*e, "renderD", 7) == 0) {
                                r = add_node(&l, VH_DEV_DRI, *e);
                                if (r < 0)
                                        return r;
                        }

        if (nvidia_minor(fs, d->address, &minor) >= 0) {
                char name[32];

                snprintf(name, sizeof(name), "nvidia%u", minor);
                r = add_node(&l, VH_DEV, name);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static int add_holder(VhHolder **h, size_t *n, const VhHostFs *fs, const char *pid, const char *node) {
        _cleanup_free_ char *comm = NULL, *n_copy = NULL, *vm_name = NULL;
        _cleanup_(vh_vm_done) VhVm vm = {};
        VhHolder *a;

        if (vh_hostfs_read_string(fs, &comm, VH_PROC, pid, "comm", NULL) < 0)
                comm = strdup("");
        n_copy = strdup(node);
        if (!comm || !n_copy)
                return -ENOMEM;
        /* A refusal that says "VM win11" tells the user which guest to stop;
         * a pid alone sends them to ps. Only holders are read again. */
        if (vh_vm_read(fs, (pid_t) strtol(pid, NULL, 10), &vm) >= 0 && vm.is_vm && vm.name) {
                vm_name = strdup(vm.name);
                if (!vm_name)
                        return -ENOMEM;
        }

        a = realloc(*h, sizeof(VhHolder) * (*n + 1));
        if (!a)
                return -ENOMEM;
        *h = a;
        a[*n] = (VhHolder) {
                .pid = (pid_t) strtol(pid, NULL, 10),
                .comm = TAKE_PTR(comm),
                .node = TAKE_PTR(n_copy),
                .vm_name = TAKE_PTR(vm_name),
        };
        (*n)++;
        return 0;
}

int vh_holders_find(const VhHostFs *fs, char * const *nodes, VhHolder **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **pids = NULL;
        VhHolder *h = NULL;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!nodes || !nodes[0])
                return 0;

        r = vh_hostfs_list_dir(fs, &pids, VH_PROC, NULL);
        if (r < 0)
                return log_debug_errno(r, "Cannot list proc: %m");

        STRV_FOREACH(pid, pids) {
                _cleanup_strv_free_ char **fds = NULL, **targets = NULL;

                if (!vh_proc_is_pid(*pid))
                        continue;
                /* Processes come and go, and some are not ours to read. One
                 * pass over the fd directory: a process may have 100k. */
                if (vh_hostfs_list_links(fs, &fds, &targets, VH_PROC, *pid, "fd", NULL) < 0)
                        continue;

                STRV_FOREACH(target, targets) {
                        if (!vh_strv_contains(nodes, *target))
                                continue;

                        r = add_holder(&h, &n, fs, *pid, *target);
                        if (r < 0) {
                                vh_holders_free(h, n);
                                return r;
                        }
                        /* One line per process and node is enough. */
                        break;
                }
        }

        *ret = h;
        *ret_n = n;
        return 0;
}

char *vh_holders_describe(const VhHolder *h, size_t n) {
        char *s = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&s, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%spid %d (%s%s%s) holds %s", i > 0 ? ", " : "", (int) h[i].pid,
                        h[i].comm[0] ? h[i].comm : "?", h[i].vm_name ? ", VM " : "", strempty(h[i].vm_name),
                        h[i].node);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}
