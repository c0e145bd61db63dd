/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vh-hostfs.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-strv.h"
#include "vh-utf8.h"

/* sysfs attributes are at most a page; other files we read (cpuinfo,
 * config.gz contents, mounts) are bounded too. A cap keeps a hostile or
 * broken root from making us read for ever. */
#define VH_HOSTFS_READ_MAX (16u * 1024u * 1024u)

typedef struct VhFault {
        char *attr;
        char *address;          /* NULL: any function */
        int error;              /* positive errno; 0: hang */
        unsigned nth;           /* 0: every match */
        unsigned seen;          /* matches so far (atomic) */
} VhFault;

struct VhHostFs {
        char *root;             /* canonical, no trailing slash; "" for "/" */
        bool read_only;
        VhFault *faults;
        size_t n_faults;
};

int vh_hostfs_new(const char *root, VhHostFs **ret) {
        _cleanup_free_ char *canonical = NULL;
        VhHostFs *fs;
        struct stat st;

        /* No default: an empty root by mistake must not become a writable
         * view of the real host. Callers say "/" when they mean it. */
        if (!root || !*root)
                return -EINVAL;

        canonical = realpath(root, NULL);
        if (!canonical)
                return log_error_errno(errno, "Cannot resolve root directory %s: %m", root);
        if (stat(canonical, &st) < 0)
                return log_error_errno(errno, "Cannot stat root directory %s: %m", canonical);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "Root %s is not a directory.", canonical);

        fs = calloc(1, sizeof(*fs));
        if (!fs)
                return -ENOMEM;

        /* Store "/" as "" so joining always yields "<root>/<path>". */
        if (strcmp(canonical, "/") == 0)
                canonical[0] = 0;
        fs->root = TAKE_PTR(canonical);
        *ret = fs;
        return 0;
}

static void faults_clear(VhHostFs *fs) {
        for (size_t i = 0; i < fs->n_faults; i++) {
                free(fs->faults[i].attr);
                free(fs->faults[i].address);
        }
        free(fs->faults);
        fs->faults = NULL;
        fs->n_faults = 0;
}

VhHostFs *vh_hostfs_free(VhHostFs *fs) {
        if (!fs)
                return NULL;
        faults_clear(fs);
        free(fs->root);
        free(fs);
        return NULL;
}

const char *vh_hostfs_root(const VhHostFs *fs) {
        return fs->root[0] ? fs->root : "/";
}

bool vh_hostfs_is_host_root(const VhHostFs *fs) {
        return fs->root[0] == 0;
}

void vh_hostfs_set_read_only(VhHostFs *fs, bool read_only) {
        fs->read_only = read_only;
}

bool vh_hostfs_is_read_only(const VhHostFs *fs) {
        return fs->read_only;
}

/* A component may hold '/' (constant prefixes like "sys/bus/pci"), but no
 * piece between slashes may be empty, "." or "..": nothing may climb out of
 * the root or alias another path. */
static bool component_is_safe(const char *c) {
        const char *p = c;

        if (!*c)
                return false;

        while (*p) {
                size_t n = strcspn(p, "/");

                if (n == 0)
                        return false;
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += n;
                if (*p == '/') {
                        p++;
                        if (!*p)
                                return false;
                }
        }
        return true;
}

static char *path_join_va(const VhHostFs *fs, const char *first, va_list ap) {
        size_t len = strlen(fs->root) + 1;
        const char *c;
        va_list aq;
        char *path, *p;

        va_copy(aq, ap);
        for (c = first; c; c = va_arg(aq, const char *)) {
                if (!component_is_safe(c)) {
                        va_end(aq);
                        errno = EINVAL;
                        return NULL;
                }
                len += 1 + strlen(c);
        }
        va_end(aq);

        path = malloc(len);
        if (!path) {
                errno = ENOMEM;
                return NULL;
        }

        p = stpcpy(path, fs->root);
        for (c = first; c; c = va_arg(ap, const char *)) {
                *p++ = '/';
                p = stpcpy(p, c);
        }
        *p = 0;
        return path;
}

char *vh_hostfs_path(const VhHostFs *fs, const char *first, ...) {
        va_list ap;
        char *path;

        va_start(ap, first);
        path = path_join_va(fs, first, ap);
        va_end(ap);
        return path;
}

#define JOIN_OR_RETURN(path, fs, first)                         \
        do {                                                    \
                va_list _ap;                                    \
                va_start(_ap, first);                           \
                path = path_join_va(fs, first, _ap);            \
                va_end(_ap);                                    \
                if (!path)                                      \
                        return -errno;                          \
        } while (0)

/* What we read and write are regular files: sysfs attributes and procfs
 * files are. Device nodes only where asked for (msr). Errors as systemd's
 * stat_verify_regular(): a directory is EISDIR, anything else EBADFD. */
static int verify_type(int fd, bool char_device_ok) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode) || (char_device_ok && S_ISCHR(st.st_mode)))
                return 0;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return -EBADFD;
}

static int read_path(const char *path, bool text, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;
        int r;

        /* O_NONBLOCK: a FIFO put where a file belongs must not block us in
         * open() (a daemon hung at start with its signals blocked). */
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = verify_type(fd, false);
        if (r < 0)
                return r;

        for (;;) {
                ssize_t n;

                if (allocated - size < 4097) {
                        size_t want = allocated ? allocated * 2 : 4097;
                        char *b;

                        if (want > VH_HOSTFS_READ_MAX + 1)
                                return -EFBIG;
                        b = realloc(buf, want);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = want;
                }

                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }

        buf[size] = 0;
        /* Text goes into the model and onto the bus: valid UTF-8 only. NUL
         * bytes stay (proc/PID/cmdline separates arguments with them). */
        if (text) {
                r = vh_utf8_escape_invalid(&buf, &size, false);
                if (r < 0)
                        return r;
        }
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int vh_hostfs_read_file(const VhHostFs *fs, char **ret, size_t *ret_size, const char *first, ...) {
        _cleanup_free_ char *path = NULL;

        JOIN_OR_RETURN(path, fs, first);
        return read_path(path, true, ret, ret_size);
}

int vh_hostfs_read_binary(const VhHostFs *fs, char **ret, size_t *ret_size, const char *first, ...) {
        _cleanup_free_ char *path = NULL;

        JOIN_OR_RETURN(path, fs, first);
        return read_path(path, false, ret, ret_size);
}

static int read_string_va(const VhHostFs *fs, char **ret, const char *first, va_list ap) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        size_t n;
        int r;

        path = path_join_va(fs, first, ap);
        if (!path)
                return -errno;

        r = read_path(path, false, &s, &n);
        if (r < 0)
                return r;

        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                s[--n] = 0;

        /* A NUL inside an attribute would silently cut the string short:
         * escape it along with invalid UTF-8. */
        r = vh_utf8_escape_invalid(&s, &n, true);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

int vh_hostfs_read_string(const VhHostFs *fs, char **ret, const char *first, ...) {
        va_list ap;
        int r;

        va_start(ap, first);
        r = read_string_va(fs, ret, first, ap);
        va_end(ap);
        return r;
}

int vh_hostfs_read_ulong(const VhHostFs *fs, unsigned long *ret, const char *first, ...) {
        _cleanup_free_ char *s = NULL;
        unsigned long v;
        char *end;
        va_list ap;
        int r;

        va_start(ap, first);
        r = read_string_va(fs, &s, first, ap);
        va_end(ap);
        if (r < 0)
                return r;

        if (!*s || *s == '-')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno != 0)
                return -errno;
        if (*end)
                return -EINVAL;

        *ret = v;
        return 0;
}

int vh_hostfs_read_long(const VhHostFs *fs, long *ret, const char *first, ...) {
        _cleanup_free_ char *s = NULL;
        char *end;
        long v;
        va_list ap;
        int r;

        va_start(ap, first);
        r = read_string_va(fs, &s, first, ap);
        va_end(ap);
        if (r < 0)
                return r;

        if (!*s)
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0)
                return -errno;
        if (*end)
                return -EINVAL;

        *ret = v;
        return 0;
}

static int read_link_va(const VhHostFs *fs, char **ret, const char *first, va_list ap) {
        _cleanup_free_ char *path = NULL;

        path = path_join_va(fs, first, ap);
        if (!path)
                return -errno;

        for (size_t size = 256;; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return -ENOMEM;
                n = readlink(path, buf, size);
                if (n < 0)
                        return -errno;
                if ((size_t) n < size) {
                        size_t len = (size_t) n;
                        int r;

                        buf[n] = 0;
                        /* Link targets become driver names and paths in the model. */
                        r = vh_utf8_escape_invalid(&buf, &len, false);
                        if (r < 0)
                                return r;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
                if (size >= PATH_MAX * 4)
                        return -ENAMETOOLONG;
        }
}

int vh_hostfs_read_link(const VhHostFs *fs, char **ret, const char *first, ...) {
        va_list ap;
        int r;

        va_start(ap, first);
        r = read_link_va(fs, ret, first, ap);
        va_end(ap);
        return r;
}

int vh_hostfs_read_link_name(const VhHostFs *fs, char **ret, const char *first, ...) {
        _cleanup_free_ char *target = NULL;
        const char *base;
        char *name;
        size_t n;
        va_list ap;
        int r;

        va_start(ap, first);
        r = read_link_va(fs, &target, first, ap);
        va_end(ap);
        if (r < 0)
                return r;

        n = strlen(target);
        while (n > 1 && target[n - 1] == '/')
                target[--n] = 0;
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (!*base)
                return -EINVAL;

        name = strdup(base);
        if (!name)
                return -ENOMEM;
        *ret = name;
        return 0;
}

bool vh_hostfs_exists(const VhHostFs *fs, const char *first, ...) {
        _cleanup_free_ char *path = NULL;
        va_list ap;

        va_start(ap, first);
        path = path_join_va(fs, first, ap);
        va_end(ap);
        if (!path)
                return false;

        return access(path, F_OK) == 0;
}

int vh_hostfs_pread(const VhHostFs *fs, void *buf, size_t size, long long offset, const char *first, ...) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r;

        JOIN_OR_RETURN(path, fs, first);

        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* /dev/cpu/N/msr is a character device; fixture trees hold files. */
        r = verify_type(fd, true);
        if (r < 0)
                return r;
        n = pread(fd, buf, size, (off_t) offset);
        if (n < 0)
                return -errno;
        return (size_t) n == size ? 0 : -EIO;
}

int vh_hostfs_stat(const VhHostFs *fs, struct stat *ret, const char *first, ...) {
        _cleanup_free_ char *path = NULL;

        JOIN_OR_RETURN(path, fs, first);
        return stat(path, ret) < 0 ? -errno : 0;
}

/* A growing NULL-terminated vector: appends are amortised O(1), where
 * vh_strv_push() counts the list on each call (fine for a handful of
 * entries, quadratic for proc/PID/fd of a process with 100k descriptors). */
typedef struct Strv {
        char **l;
        size_t n, allocated;
} Strv;

static void strv_done(Strv *v) {
        vh_strv_free(v->l);
}

static int strv_append(Strv *v, char *s) {
        if (v->n + 2 > v->allocated) {
                size_t want = v->allocated ? v->allocated * 2 : 16;
                char **l = realloc(v->l, want * sizeof(char *));

                if (!l)
                        return -ENOMEM;
                v->l = l;
                v->allocated = want;
        }
        v->l[v->n++] = s;
        v->l[v->n] = NULL;
        return 0;
}

/* A directory entry's name as the model may hold it. An escaped name no
 * longer opens: such an entry is then as good as missing, never another. */
static int strv_append_name(Strv *v, const char *name) {
        size_t len = strlen(name);
        char *copy = strdup(name);
        int r;

        if (!copy)
                return -ENOMEM;
        r = vh_utf8_escape_invalid(&copy, &len, false);
        if (r >= 0)
                r = strv_append(v, copy);
        if (r < 0)
                free(copy);
        return r;
}

static int strv_finish(Strv *v, char ***ret) {
        if (!v->l) {
                v->l = calloc(1, sizeof(char *));
                if (!v->l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v->l);
        return 0;
}

static bool is_dot_or_dotdot(const char *name) {
        return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

int vh_hostfs_list_dir(const VhHostFs *fs, char ***ret, const char *first, ...) {
        _cleanup_free_ char *path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(strv_done) Strv l = {};
        struct dirent *de;
        int r;

        JOIN_OR_RETURN(path, fs, first);

        d = opendir(path);
        if (!d)
                return -errno;

        errno = 0;
        while ((de = readdir(d))) {
                if (!is_dot_or_dotdot(de->d_name)) {
                        r = strv_append_name(&l, de->d_name);
                        if (r < 0)
                                return r;
                }
                errno = 0;
        }
        if (errno != 0)
                return -errno;

        vh_strv_sort(l.l);
        return strv_finish(&l, ret);
}

/* readlinkat() relative to an open directory: one lookup per entry. */
static int read_link_at(int dir_fd, const char *name, char **ret) {
        for (size_t size = 256;; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return -ENOMEM;
                n = readlinkat(dir_fd, name, buf, size);
                if (n < 0)
                        return -errno;
                if ((size_t) n < size) {
                        size_t len = (size_t) n;
                        int r;

                        buf[n] = 0;
                        r = vh_utf8_escape_invalid(&buf, &len, false);
                        if (r < 0)
                                return r;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
                if (size >= PATH_MAX * 4)
                        return -ENAMETOOLONG;
        }
}

int vh_hostfs_list_links(const VhHostFs *fs, char ***ret_names, char ***ret_targets, const char *first, ...) {
        _cleanup_free_ char *path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(strv_done) Strv names = {}, targets = {};
        struct dirent *de;
        int r;

        JOIN_OR_RETURN(path, fs, first);

        d = opendir(path);
        if (!d)
                return -errno;

        errno = 0;
        while ((de = readdir(d))) {
                char *target = NULL;

                if (is_dot_or_dotdot(de->d_name))
                        goto next;
                /* Not a link, or gone meanwhile (a process closing fds). */
                r = read_link_at(dirfd(d), de->d_name, &target);
                if (r == -EINVAL || r == -ENOENT)
                        goto next;
                if (r < 0)
                        return r;
                r = strv_append(&targets, target);
                if (r < 0) {
                        free(target);
                        return r;
                }
                r = strv_append_name(&names, de->d_name);
                if (r < 0)
                        return r;
        next:
                errno = 0;
        }
        if (errno != 0)
                return -errno;

        r = strv_finish(&names, ret_names);
        if (r < 0)
                return r;
        r = strv_finish(&targets, ret_targets);
        if (r < 0) {
                *ret_names = vh_strv_free(*ret_names);
                return r;
        }
        return 0;
}

static int errno_from_name(const char *name) {
        static const struct { const char *name; int error; } table[] = {
                { "EBUSY", EBUSY }, { "ENODEV", ENODEV }, { "EIO", EIO },
                { "EINVAL", EINVAL }, { "EPERM", EPERM }, { "ENOENT", ENOENT },
                { "EEXIST", EEXIST }, { "ENOSPC", ENOSPC }, { "hang", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(name, table[i].name) == 0)
                        return table[i].error;
        return -EINVAL;
}

static int parse_fault(const char *rule, VhFault *f) {
        _cleanup_free_ char *copy = strdup(rule);
        char *eq, *at, *hash;
        int e;

        if (!copy)
                return -ENOMEM;
        eq = strchr(copy, '=');
        if (!eq)
                return -EINVAL;
        *eq = 0;
        hash = strchr(eq + 1, '#');
        if (hash) {
                char *end;

                *hash = 0;
                errno = 0;
                f->nth = (unsigned) strtoul(hash + 1, &end, 10);
                if (errno || *end || f->nth == 0)
                        return -EINVAL;
        }
        e = errno_from_name(eq + 1);
        if (e < 0)
                return e;
        f->error = e;

        at = strchr(copy, '@');
        if (at) {
                *at = 0;
                f->address = strdup(at + 1);
                if (!f->address)
                        return -ENOMEM;
        }
        if (!*copy)
                return -EINVAL;
        f->attr = strdup(copy);
        return f->attr ? 0 : -ENOMEM;
}

int vh_hostfs_set_faults(VhHostFs *fs, const char *spec) {
        _cleanup_strv_free_ char **rules = NULL;
        int r;

        if (vh_hostfs_is_host_root(fs))
                return -EPERM;

        faults_clear(fs);
        r = vh_strv_split(spec, ";", &rules);
        if (r < 0)
                return r;

        fs->faults = calloc(vh_strv_length(rules) + 1, sizeof(VhFault));
        if (!fs->faults)
                return -ENOMEM;
        STRV_FOREACH(rule, rules) {
                r = parse_fault(*rule, &fs->faults[fs->n_faults]);
                if (r < 0) {
                        free(fs->faults[fs->n_faults].attr);
                        free(fs->faults[fs->n_faults].address);
                        faults_clear(fs);
                        return r;
                }
                fs->n_faults++;
        }
        return 0;
}

/* Returns 0 to go on with the write, a negative errno to fail it; never
 * returns for "hang". */
static int inject_fault(const VhHostFs *fs, const char *path, const char *value) {
        const char *attr = strrchr(path, '/');

        attr = attr ? attr + 1 : path;
        for (size_t i = 0; i < fs->n_faults; i++) {
                VhFault *f = &fs->faults[i];
                unsigned seen;

                if (strcmp(f->attr, attr) != 0)
                        continue;
                if (f->address && !strstr(path, f->address) && strcmp(value, f->address) != 0)
                        continue;

                seen = __atomic_add_fetch(&f->seen, 1, __ATOMIC_SEQ_CST);
                if (f->nth && seen != f->nth)
                        continue;

                if (f->error == 0) {
                        log_debug("Fault injection: write of '%s' to %s hangs.", value, path);
                        for (;;)
                                pause();
                }
                log_debug("Fault injection: write of '%s' to %s fails with %s.", value, path, strerror(f->error));
                return -f->error;
        }
        return 0;
}

int vh_hostfs_write_string(const VhHostFs *fs, const char *value, const char *first, ...) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t n;
        int r;

        /* Checked before the path is even built: read-only means no open()
         * for writing can happen at all. */
        if (fs->read_only)
                return -EROFS;

        JOIN_OR_RETURN(path, fs, first);

        if (fs->n_faults > 0) {
                r = inject_fault(fs, path, value);
                if (r < 0)
                        return r;
        }

        /* No O_CREAT: sysfs attributes exist or the kernel does not support
         * them; creating files would hide that. O_TRUNC as the shell's
         * "echo >" does: sysfs ignores it, a fixture file then holds exactly
         * what was written. */
        fd = open(path, O_WRONLY | O_TRUNC | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        r = verify_type(fd, false);
        if (r < 0)
                return r;

        /* sysfs takes an attribute in one write(); a short write is an error. */
        n = write(fd, value, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;

        return 0;
}

static int mkdir_parents(char *path) {
        /* Every prefix ending before a '/' beyond the first character. */
        for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        *p = '/';
                        return r;
                }
                *p = '/';
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int vh_hostfs_mkdir_p(const VhHostFs *fs, const char *first, ...) {
        _cleanup_free_ char *path = NULL;

        if (fs->read_only)
                return -EROFS;

        JOIN_OR_RETURN(path, fs, first);
        return mkdir_parents(path);
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -1;
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        if (slash == dir)
                slash[1] = 0;
        else
                *slash = 0;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int vh_hostfs_write_file_atomic(const VhHostFs *fs, const char *content, size_t size, const char *first, ...) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t done = 0;
        int r;

        if (fs->read_only)
                return -EROFS;

        JOIN_OR_RETURN(path, fs, first);

        if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;

        while (done < size) {
                ssize_t n = write(fd, content + done, size - done);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                done += (size_t) n;
        }

        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }

        /* The rename is durable only once the directory is. */
        return fsync_directory_of(path);

fail:
        (void) unlink(tmp);
        return r;
}
