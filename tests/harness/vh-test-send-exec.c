/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-test-send-exec UID METHOD ADDRESS OPTIONS PROGRAM [ARG...]
 *
 * A caller that hands its bus connection to another program: drops to UID
 * (no supplementary groups), connects to $DBUS_SYSTEM_BUS_ADDRESS, sends
 * org.vfiohost.Manager1.METHOD(ADDRESS, OPTIONS) without waiting for the
 * reply, prints its unique name on stdout and execs PROGRAM with the
 * connection still open (the socket survives the exec). With a setuid-root
 * PROGRAM, /proc/PID/status then says euid 0 while the bus still knows the
 * connection as UID: the test that root is decided by what the bus vouches
 * for (tests/bus/test-polkit.c). OPTIONS is GVariant text for a{sv}. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

int main(int argc, char *argv[]) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusConnection) conn = NULL;
        g_autoptr(GDBusMessage) call = NULL;
        g_autofree char *method = NULL;
        GVariant *options;
        const char *address;
        GIOStream *stream;
        GSocket *socket;
        uid_t uid;
        int fd, flags;

        if (argc < 6) {
                fprintf(stderr, "usage: %s UID METHOD ADDRESS OPTIONS PROGRAM [ARG...]\n", argv[0]);
                return 2;
        }
        uid = (uid_t) strtoul(argv[1], NULL, 10);
        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
                fprintf(stderr, "cannot become uid %u: %s\n", (unsigned) uid, strerror(errno));
                return 2;
        }

        address = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
        if (!address) {
                fprintf(stderr, "DBUS_SYSTEM_BUS_ADDRESS is not set\n");
                return 2;
        }
        conn = g_dbus_connection_new_for_address_sync(address,
                                                      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                      NULL, NULL, &error);
        if (!conn) {
                fprintf(stderr, "cannot connect to %s: %s\n", address, error->message);
                return 2;
        }

        options = g_variant_parse(G_VARIANT_TYPE("a{sv}"), argv[4], NULL, NULL, &error);
        if (!options) {
                fprintf(stderr, "options %s: %s\n", argv[4], error->message);
                return 2;
        }
        method = g_strdup(argv[2]);
        call = g_dbus_message_new_method_call("org.vfiohost", "/org/vfiohost", "org.vfiohost.Manager1", method);
        g_dbus_message_set_body(call, g_variant_new("(s@a{sv})", argv[3], options));
        if (!g_dbus_connection_send_message(conn, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, &error) ||
            !g_dbus_connection_flush_sync(conn, NULL, &error)) {
                fprintf(stderr, "cannot send %s: %s\n", method, error->message);
                return 2;
        }

        /* The connection must outlive this program: keep its socket across
         * exec. */
        stream = g_dbus_connection_get_stream(conn);
        if (!G_IS_SOCKET_CONNECTION(stream)) {
                fprintf(stderr, "the bus connection is not a socket\n");
                return 2;
        }
        socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
        fd = g_socket_get_fd(socket);
        flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
                fprintf(stderr, "cannot keep the bus socket open across exec: %s\n", strerror(errno));
                return 2;
        }

        printf("%s\n", g_dbus_connection_get_unique_name(conn));
        fflush(stdout);

        execv(argv[5], argv + 5);
        fprintf(stderr, "cannot execute %s: %s\n", argv[5], strerror(errno));
        return 127;
}
