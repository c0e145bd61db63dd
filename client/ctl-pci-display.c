/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-pci-display.h"
#include "vh-macro.h"

/* Words that name the company's form, not the company. */
static const char *const company_words[] = {
        "Corporation", "Corp.", "Corp", "Incorporated", "Inc.", "Inc", "Co.", "Co", "Company", "Ltd.", "Ltd",
        "Limited", "LLC", "GmbH", "AG", "S.A.", "SA", "B.V.", "AB", "Technology", "Technologies",
        "Electronics", "Semiconductor", "Semiconductors", "International", "Systems", "Microsystems",
};

static bool is_company_word(const char *w, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(company_words); i++)
                if (strlen(company_words[i]) == len && strncmp(w, company_words[i], len) == 0)
                        return true;
        return false;
}

/* The text between the last '[' and its ']', when the name ends in one. */
static char *bracketed(const char *s) {
        const char *open = strrchr(s, '['), *close = open ? strchr(open, ']') : NULL;

        if (!open || !close || close == open + 1 || close[1] != '\0')
                return NULL;
        return strndup(open + 1, (size_t) (close - open - 1));
}

char *ctl_short_vendor_name(const char *vendor) {
        char *b = bracketed(vendor);
        size_t end, first_end;
        const char *p;

        if (b)
                return b;
        end = strcspn(vendor, ",");
        first_end = strcspn(vendor, " ");
        /* The first word stays, whatever it is ("Systems Inc" is rare). */
        for (p = vendor + first_end; p < vendor + end;) {
                size_t len;

                p += strspn(p, " ");
                len = strcspn(p, " ,");
                if (len > 0 && is_company_word(p, len)) {
                        end = (size_t) (p - vendor);
                        break;
                }
                p += len;
        }
        while (end > 0 && (vendor[end - 1] == ' ' || vendor[end - 1] == ','))
                end--;
        return strndup(vendor, end > 0 ? end : strlen(vendor));
}

char *ctl_short_device_name(const char *device) {
        return bracketed(device) ?: strdup(device);
}

const char *ctl_class_label(uint32_t class_code) {
        unsigned base = (class_code >> 16) & 0xff, sub = (class_code >> 8) & 0xff;

        switch (base) {
        case 0x00: return "Unclassified";
        case 0x01:
                switch (sub) {
                case 0x01: return "IDE";
                case 0x04: return "RAID";
                case 0x06: return "SATA";
                case 0x07: return "SAS";
                case 0x08: return "NVMe";
                default:   return "Storage";
                }
        case 0x02:
                switch (sub) {
                case 0x00: return "Ethernet";
                case 0x07: return "InfiniBand";
                default:   return "Network";
                }
        case 0x03:
                switch (sub) {
                case 0x00: return "VGA";
                case 0x02: return "3D";
                default:   return "Display";
                }
        case 0x04: return sub == 0x01 || sub == 0x03 ? "Audio" : "Multimedia";
        case 0x05: return "Memory";
        case 0x06:
                switch (sub) {
                case 0x00: return "Host bridge";
                case 0x01: return "ISA bridge";
                case 0x04: return "PCI bridge";
                default:   return "Bridge";
                }
        case 0x07: return "Serial";
        case 0x08: return sub == 0x06 ? "IOMMU" : "System";
        case 0x09: return "Input";
        case 0x0a: return "Docking";
        case 0x0b: return "Processor";
        case 0x0c:
                switch (sub) {
                case 0x03: return "USB";
                case 0x04: return "Fibre Chan.";
                case 0x05: return "SMBus";
                default:   return "Serial bus";
                }
        case 0x0d: return "Wireless";
        case 0x0e: return "Intelligent";
        case 0x0f: return "Satellite";
        case 0x10: return "Encryption";
        case 0x11: return "Signal proc.";
        case 0x12: return "Accelerator";
        case 0x13: return "Instrument.";
        default:   return "Other";
        }
}

int ctl_class_filter_parse(const char *arg, CtlClassFilter *ret) {
        static const struct {
                const char *word;
                CtlClassFilter filter;
        } words[] = {
                { "gpu",     { 0x030000, 0xff0000, 0x030000 } },
                { "display", { 0x030000, 0xff0000, 0x030000 } },
                { "network", { 0x020000, 0xff0000, 0x020000 } },
                { "storage", { 0x010000, 0xff0000, 0x010000 } },
                { "usb",     { 0x0c0300, 0xffff00, 0x0c0300 } },
                { "audio",   { 0x040100, 0xffff00, 0x040300 } },
        };
        size_t n = strlen(arg);
        char *end;
        unsigned long v;

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(arg, words[i].word) == 0) {
                        *ret = words[i].filter;
                        return 0;
                }
        if ((n != 2 && n != 4 && n != 6) || strspn(arg, "0123456789abcdefABCDEF") != n)
                return -EINVAL;
        errno = 0;
        v = strtoul(arg, &end, 16);
        if (errno != 0 || *end)
                return -EINVAL;
        ret->value = ret->value2 = (uint32_t) (v << (4 * (6 - n)));
        ret->mask = (uint32_t) (0xffffffu << (4 * (6 - n))) & 0xffffff;
        return 0;
}

bool ctl_class_filter_match(const CtlClassFilter *f, uint32_t class_code) {
        return (class_code & f->mask) == f->value || (class_code & f->mask) == f->value2;
}
