/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "vh-identity.h"
#include "vh-macro.h"
#include "vh-names.h"

/* PCI Express extended capabilities start past the 256 bytes of the
 * conventional space; each header is ID (16 bits), version (4), next (12). */
#define EXT_CAP_START 0x100
#define EXT_CAP_ID_DSN 0x0003
#define CONFIG_SPACE_MAX 4096

VhIdentityMatch vh_identity_compare(const VhIdentity *recorded, const VhIdentity *present) {
        if (recorded->vendor != present->vendor || recorded->device != present->device ||
            recorded->subsystem_vendor != present->subsystem_vendor ||
            recorded->subsystem_device != present->subsystem_device || recorded->class_code != present->class_code)
                return VH_IDENTITY_OTHER_CARD;
        /* Two identical cards differ only here. */
        if (recorded->has_dsn && present->has_dsn && recorded->dsn != present->dsn)
                return VH_IDENTITY_OTHER_CARD;
        return VH_IDENTITY_SAME;
}

bool vh_identity_equal(const VhIdentity *a, const VhIdentity *b) {
        return vh_identity_compare(a, b) == VH_IDENTITY_SAME && a->has_dsn == b->has_dsn &&
               (!a->has_dsn || a->dsn == b->dsn);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int vh_pci_config_find_dsn(const uint8_t *config, size_t size, uint64_t *ret) {
        size_t offset = EXT_CAP_START;

        if (size > CONFIG_SPACE_MAX)
                size = CONFIG_SPACE_MAX;
        /* Each header is at least 4 bytes past the previous one, so a
         * damaged list (a loop, a pointer backwards) ends within this. */
        for (unsigned hops = 0; hops < (CONFIG_SPACE_MAX - EXT_CAP_START) / 4; hops++) {
                uint32_t header;
                size_t next;

                if (offset < EXT_CAP_START || offset + 4 > size)
                        return -ENODATA;
                header = le32(config + offset);
                /* No extended capabilities at all (conventional PCI, or a
                 * read that was cut to 256 bytes), or a function gone. */
                if (header == 0 || header == UINT32_MAX)
                        return -ENODATA;
                if ((header & 0xffff) == EXT_CAP_ID_DSN) {
                        if (offset + 12 > size)
                                return -ENODATA;
                        *ret = (uint64_t) le32(config + offset + 8) << 32 | le32(config + offset + 4);
                        return 0;
                }
                next = (header >> 20) & 0xffc;
                if (next <= offset)
                        return -ENODATA;
                offset = next;
        }
        return -ENODATA;
}

int vh_pci_read_dsn(const VhHostFs *fs, const char *address, uint64_t *ret) {
        _cleanup_free_ char *config = NULL;
        size_t size;
        int r;

        r = vh_hostfs_read_binary(fs, &config, &size, VH_SYSFS_PCI_DEVICES, address, VH_ATTR_CONFIG, NULL);
        if (r < 0)
                return -ENODATA;
        return vh_pci_config_find_dsn((const uint8_t *) config, size, ret);
}

void vh_identity_read(const VhHostFs *fs, const VhPciDevice *d, VhIdentity *ret) {
        *ret = (VhIdentity) {
                .vendor = d->vendor_id,
                .device = d->device_id,
                .subsystem_vendor = d->subsystem_vendor_id,
                .subsystem_device = d->subsystem_device_id,
                .class_code = d->class_code,
        };
        ret->has_dsn = vh_pci_read_dsn(fs, d->address, &ret->dsn) >= 0;
}

const char *vh_identity_format(const VhIdentity *id, char buf[static VH_IDENTITY_STRING_MAX]) {
        int n = snprintf(buf, VH_IDENTITY_STRING_MAX, "%04x:%04x subsystem %04x:%04x class %06" PRIx32, id->vendor,
                         id->device, id->subsystem_vendor, id->subsystem_device, id->class_code);

        if (id->has_dsn && n > 0 && n < VH_IDENTITY_STRING_MAX) {
                uint64_t s = id->dsn;

                /* The byte order lspci -vv prints ("Device Serial Number"). */
                snprintf(buf + n, VH_IDENTITY_STRING_MAX - (size_t) n,
                         " serial %02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x",
                         (unsigned) (s >> 56) & 0xff, (unsigned) (s >> 48) & 0xff, (unsigned) (s >> 40) & 0xff,
                         (unsigned) (s >> 32) & 0xff, (unsigned) (s >> 24) & 0xff, (unsigned) (s >> 16) & 0xff,
                         (unsigned) (s >> 8) & 0xff, (unsigned) s & 0xff);
        }
        return buf;
}
