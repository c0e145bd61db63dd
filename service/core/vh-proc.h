/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vh-hostfs.h"

/* procfs's text formats, as fs/proc/array.c and fs/proc/stat.c print them:
 * proc/PID/stat (and task/TID/stat), the "Key:\tvalue" lines of status,
 * schedstat, and proc/stat's btime. Shared by the holders scan (vh-holders,
 * vh-vms) and the vCPU reader (vh-vcpus). */

/* A proc directory entry that names a process or thread: decimal digits
 * only ("self", "thread-self", "12ab" and "-1" are not). */
bool vh_proc_is_pid(const char *s);

/* The fields of a stat line the callers use. The line is "PID (COMM) S ..."
 * where COMM (up to 15 bytes) may hold spaces and parentheses, so the
 * fields start after the LAST ')' of the line. */
typedef struct VhProcStat {
        char state;                     /* field 3: 'R', 'S', 'D', ... */
        uint64_t utime;                 /* 14: clock ticks in user mode (guest time included) */
        uint64_t stime;                 /* 15: clock ticks in the kernel */
        uint64_t start_time;            /* 22: clock ticks after boot */
        int processor;                  /* 39: the CPU it last ran on */
        uint64_t guest_time;            /* 43: clock ticks running a guest (a vCPU) */
} VhProcStat;

/* -EBADMSG when the line lacks one of these fields or one is not a number. */
int vh_proc_stat_parse(const char *line, VhProcStat *ret);
/* proc/PID/stat, or proc/PID/task/TID/stat when tid is not NULL. */
int vh_proc_stat_read(const VhHostFs *fs, const char *pid, const char *tid, VhProcStat *ret);

/* The value of "key:" in a status file, without the whitespace around it;
 * -ENOENT when there is no such line. */
int vh_proc_status_value(const char *status, const char *key, char **ret);
/* A "key:\t   812344 kB" line in bytes. */
int vh_proc_status_bytes(const char *status, const char *key, uint64_t *ret);

/* proc/stat's "btime": when the host booted, in seconds since the epoch. */
int vh_proc_boot_time(const VhHostFs *fs, uint64_t *ret);
/* Clock ticks (USER_HZ, sysconf(_SC_CLK_TCK)) as microseconds. */
uint64_t vh_proc_ticks_to_usec(uint64_t ticks);
