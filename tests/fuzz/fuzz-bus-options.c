/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A caller's a{sv} options (Bind/Unbind's group, force, dry-run;
 * GetReadiness's device; GetStaticSetup's devices, hugepages,
 * isolate-cpus) through vh_bus_read_options(). sd-bus checks the
 * message itself; what a caller controls is which keys come, how often, and
 * what each variant holds. The input is decoded into such a dictionary:
 * byte 0 picks the table, then per entry a type byte, a key (length byte +
 * bytes) and a value of that type (basic values, arrays, nested
 * dictionaries and variants, structs). Inputs sd-bus would not accept
 * (invalid UTF-8) are skipped: no caller can send them. */

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-bus.h>

#include "vh-bus-options.h"
#include "vh-fuzz.h"
#include "vh-macro.h"
#include "vh-strv.h"

static sd_bus *bus;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        int fds[2];

        /* Messages need a bus that is at least starting; a socketpair whose
         * other end nobody reads is enough, nothing is ever sent. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&bus) < 0 ||
            sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
                abort();
        return 0;
}

typedef struct Reader {
        const uint8_t *p, *end;
} Reader;

static uint8_t next_byte(Reader *r) {
        return r->p < r->end ? *r->p++ : 0;
}

/* A string of up to 255 bytes, ending early at a NUL. */
static char *next_string(Reader *r) {
        size_t n = next_byte(r);

        if (n > (size_t) (r->end - r->p))
                n = (size_t) (r->end - r->p);
        char *s = vh_fuzz_strndup(r->p, n);
        r->p += n;
        return s;
}

/* Appends one value whose type the next byte picks; depth bounds nesting. */
static int append_value(sd_bus_message *m, Reader *r, unsigned depth) {
        uint8_t type = next_byte(r) % (depth < 3 ? 9 : 4);
        int k;

        switch (type) {
        case 0:
                return sd_bus_message_append(m, "v", "b", (int) (next_byte(r) & 1));
        case 1: {
                _cleanup_free_ char *s = next_string(r);
                return sd_bus_message_append(m, "v", "s", s);
        }
        case 2:
                return sd_bus_message_append(m, "v", "u", (uint32_t) next_byte(r));
        case 3:
                return sd_bus_message_append(m, "v", "o", "/org/vfiohost");
        case 4: {
                uint8_t n = next_byte(r) % 8;

                k = sd_bus_message_open_container(m, 'v', "as");
                if (k >= 0)
                        k = sd_bus_message_open_container(m, 'a', "s");
                for (uint8_t i = 0; k >= 0 && i < n; i++) {
                        _cleanup_free_ char *s = next_string(r);
                        k = sd_bus_message_append(m, "s", s);
                }
                if (k >= 0)
                        k = sd_bus_message_close_container(m);
                if (k >= 0)
                        k = sd_bus_message_close_container(m);
                return k;
        }
        case 5:
                return sd_bus_message_append(m, "v", "ay", (size_t) 3, "abc");
        case 6:
        case 7: {
                /* A nested a{sv} (or a variant of a variant): the reader
                 * must skip or refuse it, not read into it. */
                uint8_t n = next_byte(r) % 4;

                k = sd_bus_message_open_container(m, 'v', type == 6 ? "a{sv}" : "v");
                if (k >= 0 && type == 6) {
                        k = sd_bus_message_open_container(m, 'a', "{sv}");
                        for (uint8_t i = 0; k >= 0 && i < n; i++) {
                                _cleanup_free_ char *key = next_string(r);

                                k = sd_bus_message_open_container(m, 'e', "sv");
                                if (k >= 0)
                                        k = sd_bus_message_append(m, "s", key);
                                if (k >= 0)
                                        k = append_value(m, r, depth + 1);
                                if (k >= 0)
                                        k = sd_bus_message_close_container(m);
                        }
                        if (k >= 0)
                                k = sd_bus_message_close_container(m);
                } else if (k >= 0)
                        k = append_value(m, r, depth + 1);
                if (k >= 0)
                        k = sd_bus_message_close_container(m);
                return k;
        }
        default: {
                _cleanup_free_ char *s = next_string(r);
                return sd_bus_message_append(m, "v", "(bs)", (int) (next_byte(r) & 1), s);
        }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Reader reader = { .p = data, .end = data + size };
        bool group = false, force = false, dry_run = false;
        const char *device = NULL;
        const VhBusOption bind[] = {
                { "group", 'b', &group },
                { "force", 'b', &force },
                { "dry-run", 'b', &dry_run },
        };
        const VhBusOption readiness[] = {
                { "device", 's', &device },
        };
        _cleanup_strv_free_ char **devices = NULL;
        const char *hugepages = NULL, *isolate_cpus = NULL;
        const VhBusOption static_setup[] = {
                { "devices", 'a', &devices },
                { "hugepages", 's', &hugepages },
                { "isolate-cpus", 's', &isolate_cpus },
        };
        uint8_t table = next_byte(&reader) % 3;
        int r;

        if (sd_bus_message_new_method_call(bus, &m, "org.vfiohost", "/org/vfiohost", "org.vfiohost.Manager1",
                                           "Bind") < 0 ||
            sd_bus_message_open_container(m, 'a', "{sv}") < 0)
                abort();
        for (unsigned n = 0; reader.p < reader.end && n < 64; n++) {
                _cleanup_free_ char *key = next_string(&reader);

                if (sd_bus_message_open_container(m, 'e', "sv") < 0 || sd_bus_message_append(m, "s", key) < 0 ||
                    append_value(m, &reader, 0) < 0 || sd_bus_message_close_container(m) < 0)
                        return 0;
        }
        if (sd_bus_message_close_container(m) < 0 || sd_bus_message_seal(m, 1, 0) < 0 ||
            sd_bus_message_rewind(m, true) < 0)
                abort();

        r = table == 0 ? vh_bus_read_options(m, bind, ELEMENTSOF(bind), &error)
          : table == 1 ? vh_bus_read_options(m, readiness, ELEMENTSOF(readiness), &error)
                       : vh_bus_read_options(m, static_setup, ELEMENTSOF(static_setup), &error);
        /* Success sets no error; an error a caller caused names it. */
        if (r >= 0 && sd_bus_error_is_set(&error))
                abort();
        if (sd_bus_error_is_set(&error) && (r >= 0 || !sd_bus_error_has_name(&error, SD_BUS_ERROR_INVALID_ARGS)))
                abort();
        if (r >= 0 && device)
                (void) strlen(device);
        /* An array given is a vector, empty or not, of valid strings. */
        if (r >= 0 && devices)
                STRV_FOREACH(d, devices)
                        (void) strlen(*d);
        return 0;
}
