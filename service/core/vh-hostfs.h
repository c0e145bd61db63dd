/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* The one module that touches the host's /sys, /proc, /dev, /boot (and
 * /lib/modules). Every path is given relative to the host root as
 * NULL-terminated components, e.g.
 *     vh_hostfs_read_string(fs, &s, "sys/bus/pci/devices", address, "vendor", NULL);
 * and joined to the root here, so `vfiohostd --root DIR` re-roots everything.
 * A component of ".." or an empty one is refused with -EINVAL: callers pass
 * names from the kernel or validated addresses, never free-form input.
 *
 * Beneath a root other than "/", every path is resolved as if the root
 * were "/" (openat2's RESOLVE_IN_ROOT, or the same done component by
 * component where the kernel lacks openat2): sysfs's relative links work,
 * an absolute link or ".." stays inside the tree, reads and writes alike.
 * Everything read is valid UTF-8 (vh-utf8.h); files must be regular files
 * and never block (FIFOs are refused). docs/host-files.md says why. */

typedef struct VhHostFs VhHostFs;

/* root: "/" for the real host, or a directory holding a recorded host tree.
 * The root is canonicalised (realpath) and must be a directory. NULL or ""
 * is -EINVAL: the real host is never a default. */
int vh_hostfs_new(const char *root, VhHostFs **ret);
/* Drops a reference; the last one frees. */
VhHostFs *vh_hostfs_free(VhHostFs *fs);
/* A reference for a thread that may outlive the owner (a sysfs write stuck
 * in a driver after its caller gave up on it); drop it with unref. */
const VhHostFs *vh_hostfs_ref(const VhHostFs *fs);
void vh_hostfs_unref(const VhHostFs *fs);
static inline void vh_hostfs_freep(VhHostFs **fs) {
        vh_hostfs_free(*fs);
}

/* "/" or the canonical root directory. */
const char *vh_hostfs_root(const VhHostFs *fs);
bool vh_hostfs_is_host_root(const VhHostFs *fs);

typedef enum VhHostFsResolve {
        VH_HOSTFS_RESOLVE_PATH,         /* root "/": absolute paths, as they are */
        VH_HOSTFS_RESOLVE_OPENAT2,      /* openat2(RESOLVE_IN_ROOT), Linux 5.6+ */
        VH_HOSTFS_RESOLVE_WALK,         /* the fallback: one component at a time */
} VhHostFsResolve;

/* How this root's paths are resolved: chosen at vh_hostfs_new() (openat2
 * when the kernel and any seccomp filter allow it; VFIOHOST_TEST_RESOLVE=walk
 * in the environment forces the walk, for tests). set_resolve lets tests
 * pick: -EINVAL for PATH on another root or anything else on "/",
 * -EOPNOTSUPP for OPENAT2 where openat2 does not work. */
VhHostFsResolve vh_hostfs_get_resolve(const VhHostFs *fs);
int vh_hostfs_set_resolve(VhHostFs *fs, VhHostFsResolve resolve);

/* In read-only mode every write fails with -EROFS before any open(). */
void vh_hostfs_set_read_only(VhHostFs *fs, bool read_only);
bool vh_hostfs_is_read_only(const VhHostFs *fs);

/* Fault injection for tests: spec is a ';'-separated list of rules
 *     ATTR[@ADDRESS]=ERROR[#N]
 * ATTR is the last component of the written path (driver_override, unbind,
 * bind, drivers_probe), ADDRESS restricts the rule to writes whose path or
 * value names that function, ERROR is an errno name (EBUSY, ENODEV, EIO,
 * EINVAL, EPERM) or "hang" (the write never returns, like a driver's remove
 * path stuck on a device in use), N makes the rule fire only on its Nth
 * match. Refused (-EPERM) on the real host root: faults are for test trees. */
int vh_hostfs_set_faults(VhHostFs *fs, const char *spec);

/* A host path from the command line ("/var/lib/vfiohost") as the relative
 * path the calls here take ("var/lib/vfiohost"): beneath the root like
 * every other. NULL when nothing is left ("/", ""). */
static inline const char *vh_hostfs_relative(const char *host_path) {
        const char *p = host_path + strspn(host_path, "/");

        return *p ? p : NULL;
}

/* Absolute path of a host path beneath the root; NULL on bad components or OOM. */
char *vh_hostfs_path(const VhHostFs *fs, const char *first, ...) __attribute__((sentinel));

/* Reads a whole text file; the content is NUL-terminated (size excludes the
 * NUL). Every string read from the host (files, attributes, link targets,
 * directory entry names) is valid UTF-8: invalid bytes come back escaped as
 * "\xNN" (vh-utf8.h). NUL bytes inside a file are kept. */
int vh_hostfs_read_file(const VhHostFs *fs, char **ret, size_t *ret_size, const char *first, ...) __attribute__((sentinel));
/* The bytes of a file as they are (config space, compressed files): never
 * put them into a string of the model. */
int vh_hostfs_read_binary(const VhHostFs *fs, char **ret, size_t *ret_size, const char *first, ...) __attribute__((sentinel));
/* Reads a text attribute, trailing whitespace stripped, NUL bytes escaped
 * like invalid UTF-8. -ENOENT when missing. */
int vh_hostfs_read_string(const VhHostFs *fs, char **ret, const char *first, ...) __attribute__((sentinel));
/* Reads an unsigned number in any base strtoul accepts ("0x10de", "42"). */
int vh_hostfs_read_ulong(const VhHostFs *fs, unsigned long *ret, const char *first, ...) __attribute__((sentinel));
/* Reads a signed decimal number ("-1"). */
int vh_hostfs_read_long(const VhHostFs *fs, long *ret, const char *first, ...) __attribute__((sentinel));
/* Target of a symlink, as stored. */
int vh_hostfs_read_link(const VhHostFs *fs, char **ret, const char *first, ...) __attribute__((sentinel));
/* Last component of a symlink's target ("driver" -> "nvidia"). */
int vh_hostfs_read_link_name(const VhHostFs *fs, char **ret, const char *first, ...) __attribute__((sentinel));
/* Whether the path exists (following symlinks beneath the root). */
bool vh_hostfs_exists(const VhHostFs *fs, const char *first, ...) __attribute__((sentinel));
/* Reads size bytes at offset (device files such as /dev/cpu/0/msr);
 * -EIO on a short read. */
int vh_hostfs_pread(const VhHostFs *fs, void *buf, size_t size, long long offset, const char *first, ...) __attribute__((sentinel));
/* Model-specific register index of CPU cpu, from dev/cpu/CPU/msr. The
 * msr driver's character device reads 8 bytes at offset = index, so
 * adjacent MSRs overlap there; a regular file (a fixture tree) holds each
 * one at index * 8 instead (docs/host-files.md). -EIO: the CPU has no
 * such MSR (rdmsr faulted; in a file: past its end). -ENOENT: no msr
 * driver; -EACCES/-EPERM: not root or no CAP_SYS_RAWIO. */
int vh_hostfs_read_msr(const VhHostFs *fs, unsigned cpu, uint32_t index, uint64_t *ret);
/* stat() beneath the root, following symlinks. */
struct stat;
int vh_hostfs_stat(const VhHostFs *fs, struct stat *ret, const char *first, ...) __attribute__((sentinel));

/* Sorted entry names of a directory, without "." and "..". */
int vh_hostfs_list_dir(const VhHostFs *fs, char ***ret, const char *first, ...) __attribute__((sentinel));

/* The symlinks of a directory and their targets, in directory order, in
 * one pass (proc/PID/fd: one lookup per descriptor, not a path walk).
 * Entries that are not links, or vanish meanwhile, are skipped. */
int vh_hostfs_list_links(const VhHostFs *fs, char ***ret_names, char ***ret_targets, const char *first, ...) __attribute__((sentinel));

/* Creates a directory and its parents beneath the root (mode 0755). A
 * symlink on the way is followed beneath the root; a dangling one is
 * -ENOENT (nothing is made where it points). */
int vh_hostfs_mkdir_p(const VhHostFs *fs, const char *first, ...) __attribute__((sentinel));

/* Replaces a regular file atomically: temporary file in the same directory,
 * write, fsync, rename over the target, fsync the directory. A crash leaves
 * either the old or the new content. Refused with -EROFS in read-only mode. */
int vh_hostfs_write_file_atomic(const VhHostFs *fs, const char *content, size_t size, const char *first, ...) __attribute__((sentinel));

/* Removes a file (not a directory) in its directory, opened beneath the
 * root; -ENOENT when there is none. Refused with -EROFS in read-only mode. */
int vh_hostfs_remove(const VhHostFs *fs, const char *first, ...) __attribute__((sentinel));

/* Writes value in one write() call (sysfs attributes need that). */
int vh_hostfs_write_string(const VhHostFs *fs, const char *value, const char *first, ...) __attribute__((sentinel));
