/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh-macro.h"
#include "vh-names.h"
#include "vh-proc.h"

bool vh_proc_is_pid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int parse_u64(const char *s, size_t len, uint64_t *ret) {
        char buf[32], *end;
        unsigned long long v;

        if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
                return -EBADMSG;
        memcpy(buf, s, len);
        buf[len] = 0;
        errno = 0;
        v = strtoull(buf, &end, 10);
        if (errno != 0 || *end)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int vh_proc_stat_parse(const char *line, VhProcStat *ret) {
        VhProcStat st = {};
        const char *p;
        unsigned field = 3;
        int r;

        /* The kernel prints comm as it is, ')' and all: only the last one
         * ends it. */
        p = strrchr(line, ')');
        if (!p || !strchr(line, '('))
                return -EBADMSG;
        p++;

        for (;;) {
                size_t len;
                uint64_t v;

                p += strspn(p, " ");
                len = strcspn(p, " \n");
                if (len == 0)
                        break;

                if (field == 3) {
                        if (len != 1)
                                return -EBADMSG;
                        st.state = *p;
                } else if (field == 14 || field == 15 || field == 22 || field == 39 || field == 43) {
                        r = parse_u64(p, len, &v);
                        if (r < 0)
                                return r;
                        if (field == 14)
                                st.utime = v;
                        else if (field == 15)
                                st.stime = v;
                        else if (field == 22)
                                st.start_time = v;
                        else if (field == 39) {
                                if (v > INT32_MAX)
                                        return -EBADMSG;
                                st.processor = (int) v;
                        } else
                                st.guest_time = v;
                }
                p += len;
                if (field == 43)
                        break;
                field++;
        }
        /* guest_time is field 43, there since 2.6.24 */
        if (field != 43)
                return -EBADMSG;

        *ret = st;
        return 0;
}

int vh_proc_stat_read(const VhHostFs *fs, const char *pid, const char *tid, VhProcStat *ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (tid)
                r = vh_hostfs_read_file(fs, &text, NULL, VH_PROC, pid, "task", tid, "stat", NULL);
        else
                r = vh_hostfs_read_file(fs, &text, NULL, VH_PROC, pid, "stat", NULL);
        if (r < 0)
                return r;
        return vh_proc_stat_parse(text, ret);
}

int vh_proc_status_value(const char *status, const char *key, char **ret) {
        size_t klen = strlen(key);

        for (const char *line = status; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t) (eol - line) : strlen(line);

                if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == ':') {
                        const char *v = line + klen + 1, *end = line + len;
                        char *s;

                        while (v < end && (*v == ' ' || *v == '\t'))
                                v++;
                        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                        s = strndup(v, end - v);
                        if (!s)
                                return -ENOMEM;
                        *ret = s;
                        return 0;
                }
                line = eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

int vh_proc_status_bytes(const char *status, const char *key, uint64_t *ret) {
        _cleanup_free_ char *v = NULL;
        uint64_t kib;
        size_t len;
        int r;

        r = vh_proc_status_value(status, key, &v);
        if (r < 0)
                return r;
        len = strcspn(v, " ");
        if (strcmp(v + len, " kB") != 0 || parse_u64(v, len, &kib) < 0 || kib > UINT64_MAX / 1024)
                return -EBADMSG;
        *ret = kib * 1024;
        return 0;
}

int vh_proc_boot_time(const VhHostFs *fs, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        const char *p;
        int r;

        r = vh_hostfs_read_file(fs, &text, NULL, VH_PROC_STAT, NULL);
        if (r < 0)
                return r;
        for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, "btime ", 6) == 0)
                        return parse_u64(p + 6, strcspn(p + 6, "\n"), ret);
        return -ENOENT;
}

uint64_t vh_proc_ticks_to_usec(uint64_t ticks) {
        long hz = sysconf(_SC_CLK_TCK);

        if (hz <= 0)
                hz = 100;
        /* whole seconds first: no overflow for any uptime */
        return ticks / (uint64_t) hz * 1000000 + ticks % (uint64_t) hz * 1000000 / (uint64_t) hz;
}
