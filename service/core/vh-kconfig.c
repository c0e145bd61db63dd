/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "vh-kconfig.h"
#include "vh-kernel.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-names.h"
#include "vh-strv.h"

/* A kernel config is ~250 KiB; anything far beyond is not one. */
#define KCONFIG_MAX (16u * 1024u * 1024u)

struct VhKconfig {
        char *text;                     /* the whole config, NUL-terminated */
        char *source;
};

VhKconfig *vh_kconfig_free(VhKconfig *k) {
        if (!k)
                return NULL;
        free(k->text);
        free(k->source);
        free(k);
        return NULL;
}

static int gunzip(const char *in, size_t in_size, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t allocated = in_size * 8 + 4096, used = 0;
        z_stream z = {};
        int r;

        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;

        out = malloc(allocated);
        if (!out) {
                inflateEnd(&z);
                return -ENOMEM;
        }

        z.next_in = (Bytef *) in;
        z.avail_in = (uInt) in_size;
        for (;;) {
                if (allocated - used < 4096) {
                        char *o;

                        if (allocated * 2 > KCONFIG_MAX) {
                                inflateEnd(&z);
                                return -EFBIG;
                        }
                        allocated *= 2;
                        o = realloc(out, allocated);
                        if (!o) {
                                inflateEnd(&z);
                                return -ENOMEM;
                        }
                        out = o;
                }
                z.next_out = (Bytef *) out + used;
                z.avail_out = (uInt) (allocated - used - 1);
                r = inflate(&z, Z_NO_FLUSH);
                used = allocated - 1 - z.avail_out;
                if (r == Z_STREAM_END)
                        break;
                if (r != Z_OK) {
                        inflateEnd(&z);
                        return -EBADMSG;
                }
        }
        inflateEnd(&z);

        out[used] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int vh_kconfig_load(const VhHostFs *fs, VhKconfig **ret) {
        _cleanup_free_ char *compressed = NULL, *release = NULL, *name = NULL;
        _cleanup_(vh_kconfig_freep) VhKconfig *k = NULL;
        size_t size;
        int r;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;

        /* A damaged config.gz is as good as none: try /boot. */
        r = vh_hostfs_read_binary(fs, &compressed, &size, VH_PROC_CONFIG_GZ, NULL);
        if (r >= 0 && gunzip(compressed, size, &k->text) >= 0)
                k->source = strdup("/" VH_PROC_CONFIG_GZ);
        else {
                if (vh_kernel_release(fs, &release) < 0)
                        return -ENOENT;
                if (asprintf(&name, "config-%s", release) < 0)
                        return -ENOMEM;
                r = vh_hostfs_read_file(fs, &k->text, NULL, VH_BOOT, name, NULL);
                if (r < 0)
                        return -ENOENT;
                if (asprintf(&k->source, "/" VH_BOOT "/%s", name) < 0)
                        return -ENOMEM;
        }
        if (!k->source)
                return -ENOMEM;

        *ret = TAKE_PTR(k);
        return 0;
}

VhKconfigValue vh_kconfig_get(const VhKconfig *k, const char *symbol) {
        size_t n = strlen(symbol);

        /* Lines: "CONFIG_X=y". A symbol is only found at a line start
         * followed by '=', so CONFIG_VFIO does not match CONFIG_VFIO_PCI. */
        for (const char *p = k->text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strncmp(p, "CONFIG_", 7) != 0 || strncmp(p + 7, symbol, n) != 0 || p[7 + n] != '=')
                        continue;
                switch (p[8 + n]) {
                case 'y':
                        return VH_KCONFIG_BUILTIN;
                case 'm':
                        return VH_KCONFIG_MODULE;
                case 'n':
                        return VH_KCONFIG_UNSET;
                default:
                        return VH_KCONFIG_OTHER;
                }
        }
        return VH_KCONFIG_UNSET;
}

const char *vh_kconfig_source(const VhKconfig *k) {
        return k->source;
}
