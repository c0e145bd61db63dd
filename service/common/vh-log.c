/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vh-log.h"

static int max_level = LOG_INFO;
static const char *program = "vfiohost";
static bool to_syslog = false;

static const char * const level_names[] = {
        [LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",       [LOG_WARNING] = "warning",
        [LOG_NOTICE] = "notice", [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void vh_log_set_max_level(int level) {
        if (level >= LOG_EMERG && level <= LOG_DEBUG)
                max_level = level;
}

void vh_log_set_program(const char *name) {
        program = name;
}

void vh_log_set_syslog(bool on) {
        to_syslog = on;
}

int vh_log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int) i;
        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        return -EINVAL;
}

/* stderr goes to the journal when JOURNAL_STREAM names its device:inode;
 * then a "<N>" prefix keeps the priority. */
static bool stderr_is_journal(void) {
        static int cached = -1;
        const char *e;
        unsigned long long dev, ino;
        struct stat st;

        if (cached >= 0)
                return cached;

        cached = 0;
        e = getenv("JOURNAL_STREAM");
        if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
                cached = (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
        return cached;
}

int vh_log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved_errno = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level > max_level)
                goto finish;

        /* %m refers to the passed error, not to whatever errno holds. */
        errno = error;

        if (stderr_is_journal())
                fprintf(stderr, "<%d>", level);
        else
                fprintf(stderr, "%s: ", program);
        if (max_level >= LOG_DEBUG)
                fprintf(stderr, "(%s:%d) ", file, line);

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);

        if (to_syslog) {
                errno = error;
                va_start(ap, fmt);
                vsyslog(level, fmt, ap);
                va_end(ap);
        }

finish:
        errno = saved_errno;
        return -error;
}
