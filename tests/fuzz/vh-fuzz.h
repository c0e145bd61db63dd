/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the libFuzzer targets: each target gets one temporary host root
 * (a copy of a fixture host, or empty) beneath $TMPDIR, made on first use
 * and removed at exit, and writes every input as a file beneath it before
 * calling the parser through its public entry point. Nothing here touches
 * the real /sys or /proc: paths are relative to that root, and a write
 * whose directory resolves outside it aborts. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vh-hostfs.h"

/* The libFuzzer entry points (no header ships them). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits an input meant for several files: parts are separated by this
 * byte, which no text file the kernel writes contains. */
#define VH_FUZZ_SEPARATOR '\x1e'
/* A part consisting of only this byte stands for "no such file". */
#define VH_FUZZ_ABSENT '\x18'

/* Creates the root (once per process) as a copy of tests/data/hosts/<host>,
 * or empty when host is NULL, and a hostfs on it, read-only unless
 * writable. Fixtures are found at VH_FUZZ_HOSTS (compiled in, or from the
 * environment variable of that name). Aborts on any failure: a target
 * without its root would test nothing. Quietens logging. */
VhHostFs *vh_fuzz_setup(const char *host, bool writable);

/* The canonical root directory. */
const char *vh_fuzz_root(void);

/* Replaces root/path with data (parent directories created). */
void vh_fuzz_write(const char *path, const void *data, size_t size);
/* Replaces root/path with a symlink whose target is data (up to a NUL). */
void vh_fuzz_symlink(const char *path, const void *data, size_t size);
/* Removes root/path if it exists (a file or a symlink, not a directory). */
void vh_fuzz_remove(const char *path);

typedef struct VhFuzzPart {
        const uint8_t *data;
        size_t size;
        bool absent;
} VhFuzzPart;

/* Splits data on VH_FUZZ_SEPARATOR into at most n parts (the last takes the
 * rest); parts beyond those present are absent. */
void vh_fuzz_split(const uint8_t *data, size_t size, VhFuzzPart *parts, size_t n);

/* Writes each part to its path, removing the path for an absent part. */
void vh_fuzz_write_parts(const char * const *paths, const VhFuzzPart *parts, size_t n);

/* A NUL-terminated copy (it ends at the first NUL of data); aborts on OOM. */
char *vh_fuzz_strndup(const void *data, size_t size);
