/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
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

/* As the kernel's MAXSYMLINKS: more links on one path is a loop. */
#define VH_HOSTFS_MAX_LINKS 40

typedef struct VhFault {
        char *attr;
        char *address;          /* NULL: any function */
        int error;              /* positive errno; 0: hang */
        unsigned nth;           /* 0: every match */
        unsigned seen;          /* matches so far (atomic) */
} VhFault;

struct VhHostFs {
        unsigned n_ref;         /* atomic: writer threads may outlive their caller */
        char *root;             /* canonical, no trailing slash; "" for "/" */
        int root_fd;            /* O_PATH of the root; -1 for "/" */
        VhHostFsResolve resolve;
        bool read_only;
        VhFault *faults;
        size_t n_faults;
};

static int sys_openat2(int dir_fd, const char *path, int flags, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t) flags,
                .resolve = resolve,
        };

        return (int) syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
}

/* openat2() with RESOLVE_IN_ROOT came with Linux 5.6. Older kernels say
 * ENOSYS; seccomp filters that predate it (older container runtimes) say
 * EPERM or ENOSYS. Asked once per root, harmlessly: the root itself. */
static bool openat2_works(int root_fd) {
        int fd = sys_openat2(root_fd, ".", O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);

        if (fd < 0)
                return false;
        close(fd);
        return true;
}

int vh_hostfs_new(const char *root, VhHostFs **ret) {
        _cleanup_free_ char *canonical = NULL;
        _cleanup_close_ int root_fd = -1;
        VhHostFs *fs;
        struct stat st;
        const char *e;

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

        /* Everything beneath another root is opened relative to this
         * descriptor, so a symlink in the tree can never lead out of it. */
        if (strcmp(canonical, "/") != 0) {
                root_fd = open(canonical, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0)
                        return log_error_errno(errno, "Cannot open root directory %s: %m", canonical);
        }

        fs = calloc(1, sizeof(*fs));
        if (!fs)
                return -ENOMEM;

        fs->n_ref = 1;
        if (root_fd < 0)
                fs->resolve = VH_HOSTFS_RESOLVE_PATH;
        else if (!((e = getenv("VFIOHOST_TEST_RESOLVE")) && strcmp(e, "walk") == 0) && openat2_works(root_fd))
                fs->resolve = VH_HOSTFS_RESOLVE_OPENAT2;
        else
                fs->resolve = VH_HOSTFS_RESOLVE_WALK;
        log_debug("Host root %s: paths resolved %s.", canonical,
                  fs->resolve == VH_HOSTFS_RESOLVE_PATH ? "as they are" :
                  fs->resolve == VH_HOSTFS_RESOLVE_OPENAT2 ? "with openat2(RESOLVE_IN_ROOT)" :
                  "component by component beneath the root");

        /* Store "/" as "" so joining always yields "<root>/<path>". */
        if (strcmp(canonical, "/") == 0)
                canonical[0] = 0;
        fs->root = TAKE_PTR(canonical);
        fs->root_fd = TAKE_FD(root_fd);
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

const VhHostFs *vh_hostfs_ref(const VhHostFs *fs) {
        /* The count is the one thing a holder of a const view may change. */
        __atomic_add_fetch(&((VhHostFs *) fs)->n_ref, 1, __ATOMIC_SEQ_CST);
        return fs;
}

void vh_hostfs_unref(const VhHostFs *fs) {
        vh_hostfs_free((VhHostFs *) fs);
}

VhHostFs *vh_hostfs_free(VhHostFs *fs) {
        if (!fs)
                return NULL;
        if (__atomic_sub_fetch(&fs->n_ref, 1, __ATOMIC_SEQ_CST) > 0)
                return NULL;
        faults_clear(fs);
        if (fs->root_fd >= 0)
                close(fs->root_fd);
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

VhHostFsResolve vh_hostfs_get_resolve(const VhHostFs *fs) {
        return fs->resolve;
}

int vh_hostfs_set_resolve(VhHostFs *fs, VhHostFsResolve resolve) {
        /* "/" has nothing to stay beneath; the others need a root fd. */
        if ((resolve == VH_HOSTFS_RESOLVE_PATH) != (fs->root_fd < 0))
                return -EINVAL;
        if (resolve == VH_HOSTFS_RESOLVE_OPENAT2 && !openat2_works(fs->root_fd))
                return -EOPNOTSUPP;
        fs->resolve = resolve;
        return 0;
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

/* "<root>/<c1>/<c2>..." with the root, or "c1/c2/..." relative to it. */
static char *path_join_va(const VhHostFs *fs, bool with_root, const char *first, va_list ap) {
        const char *prefix = with_root ? fs->root : NULL;
        size_t len = (prefix ? strlen(prefix) : 0) + 1;
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

        p = prefix ? stpcpy(path, prefix) : path;
        for (c = first; c; c = va_arg(ap, const char *)) {
                if (p != path || prefix)
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
        path = path_join_va(fs, true, first, ap);
        va_end(ap);
        return path;
}

/* The relative host path from the components; returns -errno on refusal. */
#define JOIN_OR_RETURN(path, fs, first)                         \
        do {                                                    \
                va_list _ap;                                    \
                va_start(_ap, first);                           \
                path = path_join_va(fs, false, first, _ap);     \
                va_end(_ap);                                    \
                if (!path)                                      \
                        return -errno;                          \
        } while (0)

/* ---------- resolution beneath the root ---------- */

typedef struct FdStack {
        int *fd;
        size_t n, allocated;
} FdStack;

static void fd_stack_pop(FdStack *s) {
        if (s->n > 0)
                close(s->fd[--s->n]);
}

static void fd_stack_done(FdStack *s) {
        while (s->n > 0)
                fd_stack_pop(s);
        free(s->fd);
}

static int fd_stack_push(FdStack *s, int fd) {
        if (s->n == s->allocated) {
                size_t want = s->allocated ? s->allocated * 2 : 16;
                int *a = realloc(s->fd, want * sizeof(int));

                if (!a)
                        return -ENOMEM;
                s->fd = a;
                s->allocated = want;
        }
        s->fd[s->n++] = fd;
        return 0;
}

/* The target of the symlink fd (an O_PATH|O_NOFOLLOW descriptor). */
static int read_link_fd(int fd, char **ret) {
        for (size_t size = 256;; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return -ENOMEM;
                n = readlinkat(fd, "", buf, size);
                if (n < 0)
                        return -errno;
                if ((size_t) n < size) {
                        buf[n] = 0;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
                if (size >= PATH_MAX * 4)
                        return -ENAMETOOLONG;
        }
}

/* The fallback for kernels without openat2(): what RESOLVE_IN_ROOT does,
 * done in user space, one component at a time with O_NOFOLLOW. The
 * directories walked through are kept open on a stack: ".." pops one (and
 * stays at the root when there is none to pop), a symlink's target is read
 * from the very object that was checked and put in front of what is left
 * of the path (an absolute target starts again at the root). O_NOFOLLOW in
 * flags keeps a final symlink as it is. */
static int walk_open(int root_fd, const char *rel, int flags) {
        _cleanup_(fd_stack_done) FdStack stack = {};
        _cleanup_free_ char *todo = strdup(rel);
        bool follow_last = !(flags & O_NOFOLLOW);
        unsigned links = 0;
        char *p = todo;
        int r;

        if (!todo)
                return -ENOMEM;

        for (;;) {
                int cur = stack.n > 0 ? stack.fd[stack.n - 1] : root_fd;
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *target = NULL;
                char *c, *rest;
                size_t len;
                bool last;
                struct stat st;

                p += strspn(p, "/");
                if (!*p) {
                        /* The path ends in the directory we are in ("..", a
                         * link to a directory). */
                        fd = openat(cur, ".", flags & ~O_NOFOLLOW);
                        return fd < 0 ? -errno : TAKE_FD(fd);
                }

                c = p;
                len = strcspn(p, "/");
                rest = p + len;
                if (*rest)
                        *rest++ = 0;
                last = rest[strspn(rest, "/")] == 0;

                if (len == 1 && c[0] == '.') {
                        p = rest;
                        continue;
                }
                if (len == 2 && c[0] == '.' && c[1] == '.') {
                        fd_stack_pop(&stack);
                        p = rest;
                        continue;
                }

                if (last && !follow_last) {
                        fd = openat(cur, c, flags);
                        return fd < 0 ? -errno : TAKE_FD(fd);
                }

                fd = openat(cur, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                if (fstat(fd, &st) < 0)
                        return -errno;

                if (S_ISLNK(st.st_mode)) {
                        char *next;

                        if (++links > VH_HOSTFS_MAX_LINKS)
                                return -ELOOP;
                        r = read_link_fd(fd, &target);
                        if (r < 0)
                                return r;
                        if (!*target)
                                return -ENOENT;
                        if (target[0] == '/')
                                while (stack.n > 0)
                                        fd_stack_pop(&stack);
                        if (asprintf(&next, "%s/%s", target, rest) < 0)
                                return -ENOMEM;
                        free(todo);
                        todo = p = next;
                        continue;
                }

                if (!last) {
                        if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                        r = fd_stack_push(&stack, fd);
                        if (r < 0)
                                return r;
                        fd = -1;
                        p = rest;
                        continue;
                }

                /* The last component, not a link: open it as asked. Should
                 * it have become a link since, O_NOFOLLOW fails the open
                 * (ELOOP) rather than follow it unchecked. */
                close(TAKE_FD(fd));
                fd = openat(cur, c, flags | O_NOFOLLOW);
                return fd < 0 ? -errno : TAKE_FD(fd);
        }
}

/* Opens a host path (relative, components checked) as open(2) would with
 * flags, resolved beneath the root: symlinks are followed as if the root
 * were "/" (what RESOLVE_IN_ROOT does), so sysfs's relative links work and
 * nothing leads out of the tree. With root "/" there is nothing to stay
 * beneath: the absolute path is opened as it is (which is also what
 * umockdev's preload can see; it cannot see openat2's raw syscall). */
static int open_beneath(const VhHostFs *fs, const char *rel, int flags) {
        int fd;

        switch (fs->resolve) {
        case VH_HOSTFS_RESOLVE_PATH: {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "/%s", rel) < 0)
                        return -ENOMEM;
                fd = open(path, flags);
                return fd < 0 ? -errno : fd;
        }
        case VH_HOSTFS_RESOLVE_OPENAT2:
                /* EAGAIN: a rename raced with the lookup; the kernel asks to retry. */
                for (unsigned i = 0; i < 16; i++) {
                        fd = sys_openat2(fs->root_fd, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
                        if (fd >= 0 || errno != EAGAIN)
                                break;
                }
                return fd < 0 ? -errno : fd;
        case VH_HOSTFS_RESOLVE_WALK:
                return walk_open(fs->root_fd, rel, flags);
        }
        return -EINVAL;
}

/* The directory a path is in, opened beneath the root with flags, and the
 * last component's name (pointing into rel). */
static int open_parent(const VhHostFs *fs, const char *rel, int flags, const char **ret_name) {
        _cleanup_free_ char *parent = NULL;
        const char *slash = strrchr(rel, '/');

        if (!slash) {
                *ret_name = rel;
                if (fs->resolve == VH_HOSTFS_RESOLVE_PATH) {
                        int fd = open("/", flags);
                        return fd < 0 ? -errno : fd;
                }
                return open_beneath(fs, ".", flags);
        }
        *ret_name = slash + 1;
        parent = strndup(rel, (size_t) (slash - rel));
        if (!parent)
                return -ENOMEM;
        return open_beneath(fs, parent, flags);
}

/* ---------- reads ---------- */

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

/* O_NONBLOCK: a FIFO put where a file belongs must not block us in open()
 * (a daemon hung at start with its signals blocked). */
#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

static int read_rel(const VhHostFs *fs, const char *rel, bool text, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;
        bool sysfs = strncmp(rel, "sys/", 4) == 0;
        int r;

        fd = open_beneath(fs, rel, READ_FLAGS);
        if (fd < 0)
                return fd;
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
                /* A sysfs attribute comes whole at the first read (one show()
                 * of at most a page): a short read is its end, and the read
                 * that would say so is saved, one syscall in three. */
                if (sysfs && (size_t) n < allocated - (size - (size_t) n) - 1)
                        break;
        }

        buf[size] = 0;
        /* What was read often lives as long as the daemon (a group's type,
         * a reset method): keep that, not the 8 KiB the loop grew to. */
        if (allocated > size + 1) {
                char *b = realloc(buf, size + 1);

                if (b)
                        buf = b;
        }
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
        _cleanup_free_ char *rel = NULL;

        JOIN_OR_RETURN(rel, fs, first);
        return read_rel(fs, rel, true, ret, ret_size);
}

int vh_hostfs_read_binary(const VhHostFs *fs, char **ret, size_t *ret_size, const char *first, ...) {
        _cleanup_free_ char *rel = NULL;

        JOIN_OR_RETURN(rel, fs, first);
        return read_rel(fs, rel, false, ret, ret_size);
}

static int read_string_va(const VhHostFs *fs, char **ret, const char *first, va_list ap) {
        _cleanup_free_ char *rel = NULL, *s = NULL;
        size_t n;
        int r;

        rel = path_join_va(fs, false, first, ap);
        if (!rel)
                return -errno;

        r = read_rel(fs, rel, false, &s, &n);
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
        _cleanup_free_ char *rel = NULL, *target = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len;
        int r;

        rel = path_join_va(fs, false, first, ap);
        if (!rel)
                return -errno;

        /* The link itself (O_NOFOLLOW), its directories resolved beneath
         * the root like any other path. */
        fd = open_beneath(fs, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode))
                return -EINVAL;
        r = read_link_fd(fd, &target);
        if (r < 0)
                return r;

        /* Link targets become driver names and paths in the model. */
        len = strlen(target);
        r = vh_utf8_escape_invalid(&target, &len, false);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(target);
        return 0;
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
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;
        va_list ap;

        va_start(ap, first);
        rel = path_join_va(fs, false, first, ap);
        va_end(ap);
        if (!rel)
                return false;

        fd = open_beneath(fs, rel, O_PATH | O_CLOEXEC);
        return fd >= 0;
}

int vh_hostfs_pread(const VhHostFs *fs, void *buf, size_t size, long long offset, const char *first, ...) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r;

        JOIN_OR_RETURN(rel, fs, first);

        fd = open_beneath(fs, rel, READ_FLAGS);
        if (fd < 0)
                return fd;
        /* /dev/cpu/N/msr is a character device; fixture trees hold files. */
        r = verify_type(fd, true);
        if (r < 0)
                return r;
        n = pread(fd, buf, size, (off_t) offset);
        if (n < 0)
                return -errno;
        return (size_t) n == size ? 0 : -EIO;
}

int vh_hostfs_read_msr(const VhHostFs *fs, unsigned cpu, uint32_t index, uint64_t *ret) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        uint64_t value;
        ssize_t n;

        if (asprintf(&rel, "dev/cpu/%u/msr", cpu) < 0)
                return -ENOMEM;
        fd = open_beneath(fs, rel, READ_FLAGS);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
        n = pread(fd, &value, sizeof(value), S_ISCHR(st.st_mode) ? (off_t) index : (off_t) index * 8);
        if (n < 0)
                return -errno;
        if ((size_t) n != sizeof(value))
                return -EIO;
        *ret = value;
        return 0;
}

int vh_hostfs_stat(const VhHostFs *fs, struct stat *ret, const char *first, ...) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;

        JOIN_OR_RETURN(rel, fs, first);

        fd = open_beneath(fs, rel, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return fd;
        return fstat(fd, ret) < 0 ? -errno : 0;
}

/* ---------- listing ---------- */

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

static int open_dir_va(const VhHostFs *fs, DIR **ret, const char *first, va_list ap) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;
        DIR *d;

        rel = path_join_va(fs, false, first, ap);
        if (!rel)
                return -errno;

        fd = open_beneath(fs, rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        *ret = d;
        return 0;
}

int vh_hostfs_list_dir(const VhHostFs *fs, char ***ret, const char *first, ...) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(strv_done) Strv l = {};
        struct dirent *de;
        va_list ap;
        int r;

        va_start(ap, first);
        r = open_dir_va(fs, &d, first, ap);
        va_end(ap);
        if (r < 0)
                return r;

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
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(strv_done) Strv names = {}, targets = {};
        struct dirent *de;
        va_list ap;
        int r;

        va_start(ap, first);
        r = open_dir_va(fs, &d, first, ap);
        va_end(ap);
        if (r < 0)
                return r;

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

/* ---------- writes ---------- */

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
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t n;
        int r;

        /* Checked before the path is even built: read-only means no open()
         * for writing can happen at all. */
        if (fs->read_only)
                return -EROFS;

        JOIN_OR_RETURN(rel, fs, first);

        if (fs->n_faults > 0) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/%s", fs->root, rel) < 0)
                        return -ENOMEM;
                r = inject_fault(fs, path, value);
                if (r < 0)
                        return r;
        }

        /* No O_CREAT: sysfs attributes exist or the kernel does not support
         * them; creating files would hide that. O_TRUNC as the shell's
         * "echo >" does: sysfs ignores it, a fixture file then holds exactly
         * what was written. O_NONBLOCK: a FIFO without a reader fails
         * (ENXIO) instead of blocking. */
        fd = open_beneath(fs, rel, O_WRONLY | O_TRUNC | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return fd;
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

/* One directory beneath the root: made in its parent (itself resolved
 * beneath the root) when missing. A symlink in the way is followed beneath
 * the root like any other; if it dangles, nothing is made for it. */
static int ensure_dir(const VhHostFs *fs, const char *rel) {
        _cleanup_close_ int fd = -1, parent = -1;
        const char *name;

        fd = open_beneath(fs, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 || fd != -ENOENT)
                return fd < 0 ? fd : 0;

        parent = open_parent(fs, rel, O_PATH | O_DIRECTORY | O_CLOEXEC, &name);
        if (parent < 0)
                return parent;
        if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                return -errno;

        fd = open_beneath(fs, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? fd : 0;
}

int vh_hostfs_mkdir_p(const VhHostFs *fs, const char *first, ...) {
        _cleanup_free_ char *rel = NULL;
        int r;

        if (fs->read_only)
                return -EROFS;

        JOIN_OR_RETURN(rel, fs, first);

        /* Every prefix ending before a '/', then the whole path. */
        for (char *p = strchr(rel, '/');; p = strchr(p + 1, '/')) {
                if (p)
                        *p = 0;
                r = ensure_dir(fs, rel);
                if (p)
                        *p = '/';
                if (r < 0)
                        return r;
                if (!p)
                        return 0;
        }
}

/* The directory a file is replaced or removed in, opened beneath the root
 * (after the read-only check): everything then happens in it, so a
 * symlinked state directory cannot move the file out of it. */
#define OPEN_PARENT_FOR_WRITE_OR_RETURN(dir_fd, rel, name, fs, first)                   \
        do {                                                                            \
                if ((fs)->read_only)                                                    \
                        return -EROFS;                                                  \
                JOIN_OR_RETURN(rel, fs, first);                                         \
                dir_fd = open_parent(fs, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &name); \
                if (dir_fd < 0)                                                         \
                        return dir_fd;                                                  \
        } while (0)

/* "journal.json.tmp-1a2b3c4d5e6f": unpredictable enough that a second
 * writer (there is none: the binder serialises) never takes the same. */
static void temp_name(char *buf, size_t size, const char *name, unsigned attempt) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(buf, size, "%s.tmp-%x%lx%x", name, (unsigned) getpid(), (unsigned long) ts.tv_nsec, attempt);
}

int vh_hostfs_write_file_atomic(const VhHostFs *fs, const char *content, size_t size, const char *first, ...) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int dir_fd = -1, fd = -1;
        const char *name;
        char tmp[NAME_MAX + 1];
        size_t done = 0;
        int r;

        OPEN_PARENT_FOR_WRITE_OR_RETURN(dir_fd, rel, name, fs, first);
        if (strlen(name) + 32 > sizeof(tmp))
                return -ENAMETOOLONG;

        for (unsigned attempt = 0; fd < 0; attempt++) {
                temp_name(tmp, sizeof(tmp), name, attempt);
                fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0 && (errno != EEXIST || attempt >= 16))
                        return -errno;
        }

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
        /* renameat() replaces whatever the name was, a symlink included,
         * and never follows it. */
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                goto fail;
        }

        /* The rename is durable only once the directory is. */
        return fsync(dir_fd) < 0 ? -errno : 0;

fail:
        (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

int vh_hostfs_remove(const VhHostFs *fs, const char *first, ...) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int dir_fd = -1;
        const char *name;

        /* The name itself is never followed. */
        OPEN_PARENT_FOR_WRITE_OR_RETURN(dir_fd, rel, name, fs, first);
        return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
}
