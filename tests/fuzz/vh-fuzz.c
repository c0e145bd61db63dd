/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vh-fuzz.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-strv.h"

#ifndef VH_FUZZ_HOSTS
#error "VH_FUZZ_HOSTS must name tests/data/hosts"
#endif

static char *root;              /* canonical, beneath $TMPDIR, ".../vh-fuzz-XXXXXX" */
static VhHostFs *root_fs;
static const char *copy_from;   /* nftw has no user data */

static _noreturn_ _printf_(1, 2) void die(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("vh-fuzz: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

const char *vh_fuzz_root(void) {
        return root;
}

/* Whether p is root or beneath it. */
static bool is_inside_root(const char *p) {
        size_t n = strlen(root);

        return strncmp(p, root, n) == 0 && (p[n] == 0 || p[n] == '/');
}

static char *full_path(const char *path) {
        char *p;

        /* Harnesses name their files as constants: never absolute, never climbing. */
        if (!root || !*path || path[0] == '/' || strstr(path, "..") || strstr(path, "//"))
                die("refusing path '%s'", path);
        if (asprintf(&p, "%s/%s", root, path) < 0)
                die("out of memory");
        return p;
}

/* Fails unless the existing directory dir resolves beneath the root: a
 * symlink in a fixture must never lead a write out of it. */
static void check_dir(const char *dir) {
        _cleanup_free_ char *real = realpath(dir, NULL);

        if (!real)
                die("cannot resolve %s: %m", dir);
        if (!is_inside_root(real))
                die("%s resolves to %s, outside the fuzz root %s", dir, real, root);
}

/* mkdir -p of path's parent, checking every level as it goes. Harnesses
 * write the same few paths at every input and only ever replace leaves, so
 * a parent checked once stays good: remembering it saves a realpath() per
 * level per input. */
static void make_parents(char *path) {
        static char **checked = NULL;
        char *slash = strrchr(path, '/');
        int r;

        *slash = 0;
        if (vh_strv_contains(checked, path)) {
                *slash = '/';
                return;
        }
        r = vh_strv_extend(&checked, path);
        *slash = '/';
        if (r < 0)
                die("out of memory");

        for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        die("cannot create %s: %m", path);
                check_dir(path);
                *p = '/';
        }
}

static int copy_entry(const char *src, const struct stat *st, int type, struct FTW *ftw) {
        _cleanup_free_ char *dst = NULL;
        const char *rel = src + strlen(copy_from);

        if (asprintf(&dst, "%s%s", root, rel) < 0)
                die("out of memory");

        switch (type) {
        case FTW_D:
                if (*rel && mkdir(dst, 0755) < 0)
                        die("cannot create %s: %m", dst);
                return 0;
        case FTW_SL:
        case FTW_SLN: {
                char target[PATH_MAX];
                ssize_t n = readlink(src, target, sizeof(target) - 1);

                if (n < 0)
                        die("cannot read link %s: %m", src);
                target[n] = 0;
                /* Copied as they are: relative links resolve inside the
                 * copy, absolute ones (proc/PID/fd) are only ever read. */
                if (symlink(target, dst) < 0)
                        die("cannot create link %s: %m", dst);
                return 0;
        }
        case FTW_F: {
                _cleanup_close_ int in = -1, out = -1;
                char buf[65536];
                ssize_t n;

                in = open(src, O_RDONLY | O_CLOEXEC);
                out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
                if (in < 0 || out < 0)
                        die("cannot copy %s to %s: %m", src, dst);
                while ((n = read(in, buf, sizeof(buf))) > 0)
                        if (write(out, buf, (size_t) n) != n)
                                die("cannot write %s: %m", dst);
                if (n < 0)
                        die("cannot read %s: %m", src);
                return 0;
        }
        default:
                die("cannot copy %s (unreadable or unknown type)", src);
        }
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void remove_root(void) {
        /* Only ever the directory made below. */
        if (root && strstr(root, "/vh-fuzz-"))
                (void) nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

VhHostFs *vh_fuzz_setup(const char *host, bool writable) {
        _cleanup_free_ char *tmpl = NULL, *tmp_real = NULL;
        const char *tmp = getenv("TMPDIR"), *log = getenv("VH_FUZZ_LOG");
        int r;

        if (root_fs)
                return root_fs;

        /* Parsers log what they reject; at every input that is noise and
         * slow. VH_FUZZ_LOG=debug shows it when reproducing a crash. */
        vh_log_set_max_level(log ? vh_log_level_from_string(log) : LOG_EMERG);

        tmp_real = realpath(tmp && *tmp ? tmp : "/tmp", NULL);
        if (!tmp_real)
                die("cannot resolve TMPDIR: %m");
        /* Never beneath the kernel's own trees (/dev/shm is a tmpfs). */
        if (strcmp(tmp_real, "/") == 0 || strncmp(tmp_real, "/sys", 4) == 0 || strncmp(tmp_real, "/proc", 5) == 0 ||
            (strncmp(tmp_real, "/dev", 4) == 0 && strncmp(tmp_real, "/dev/shm/", 9) != 0))
                die("TMPDIR %s is not a place for a fuzz root", tmp_real);
        if (asprintf(&tmpl, "%s/vh-fuzz-XXXXXX", tmp_real) < 0)
                die("out of memory");
        if (!mkdtemp(tmpl))
                die("cannot create %s: %m", tmpl);
        root = realpath(tmpl, NULL);
        if (!root)
                die("cannot resolve %s: %m", tmpl);
        atexit(remove_root);

        if (host) {
                _cleanup_free_ char *src = NULL;
                const char *hosts = getenv("VH_FUZZ_HOSTS");

                if (asprintf(&src, "%s/%s", hosts && *hosts ? hosts : VH_FUZZ_HOSTS, host) < 0)
                        die("out of memory");
                copy_from = src;
                if (nftw(src, copy_entry, 16, FTW_PHYS) != 0)
                        die("cannot copy the fixture host %s: %m", src);
                copy_from = NULL;
        }

        r = vh_hostfs_new(root, &root_fs);
        if (r < 0)
                die("cannot open the fuzz root %s: %s", root, strerror(-r));
        vh_hostfs_set_read_only(root_fs, !writable);
        return root_fs;
}

void vh_fuzz_write(const char *path, const void *data, size_t size) {
        _cleanup_free_ char *p = full_path(path);
        _cleanup_close_ int fd = -1;
        const char *d = data;
        off_t offset = 0;

        make_parents(p);
        /* O_NOFOLLOW: a fixture link in its place is replaced, not followed.
         * No O_TRUNC but a trailing ftruncate(): ext4 flushes a file
         * truncated to zero and rewritten at close (auto_da_alloc), which
         * would make every input wait for the disk. */
        fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ELOOP) {
                if (unlink(p) < 0)
                        die("cannot remove %s: %m", p);
                fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        }
        if (fd < 0)
                die("cannot write %s: %m", p);
        while ((size_t) offset < size) {
                ssize_t n = pwrite(fd, d + offset, size - (size_t) offset, offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die("cannot write %s: %m", p);
                offset += n;
        }
        if (ftruncate(fd, (off_t) size) < 0)
                die("cannot truncate %s: %m", p);
}

void vh_fuzz_symlink(const char *path, const void *data, size_t size) {
        _cleanup_free_ char *p = full_path(path), *target = vh_fuzz_strndup(data, size);

        make_parents(p);
        if (unlink(p) < 0 && errno != ENOENT)
                die("cannot remove %s: %m", p);
        /* symlink() refuses an empty or overlong target; then there is no link. */
        if (symlink(target, p) < 0 && errno != ENOENT && errno != ENAMETOOLONG)
                die("cannot create link %s: %m", p);
}

void vh_fuzz_remove(const char *path) {
        _cleanup_free_ char *p = full_path(path);

        make_parents(p);
        if (unlink(p) < 0 && errno != ENOENT)
                die("cannot remove %s: %m", p);
}

void vh_fuzz_split(const uint8_t *data, size_t size, VhFuzzPart *parts, size_t n) {
        size_t i = 0;

        for (; i < n && data; i++) {
                const uint8_t *sep = i + 1 < n ? memchr(data, VH_FUZZ_SEPARATOR, size) : NULL;
                size_t len = sep ? (size_t) (sep - data) : size;

                parts[i] = (VhFuzzPart) {
                        .data = data,
                        .size = len,
                        .absent = len == 1 && data[0] == (uint8_t) VH_FUZZ_ABSENT,
                };
                if (!sep) {
                        i++;
                        break;
                }
                data = sep + 1;
                size -= len + 1;
        }
        for (; i < n; i++)
                parts[i] = (VhFuzzPart) { .absent = true };
}

void vh_fuzz_write_parts(const char * const *paths, const VhFuzzPart *parts, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (parts[i].absent)
                        vh_fuzz_remove(paths[i]);
                else
                        vh_fuzz_write(paths[i], parts[i].data, parts[i].size);
}

char *vh_fuzz_strndup(const void *data, size_t size) {
        /* Not strndup(): with strict_string_checks ASan reads its argument
         * up to a NUL, and fuzz inputs have none. */
        const char *nul = data ? memchr(data, 0, size) : NULL;
        size_t n = data ? (nul ? (size_t) (nul - (const char *) data) : size) : 0;
        char *s = malloc(n + 1);

        if (!s)
                die("out of memory");
        if (n > 0)
                memcpy(s, data, n);
        s[n] = 0;
        return s;
}
