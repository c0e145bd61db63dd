/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "vh-macro.h"

/* Minimal leveled logging to stderr. When stderr is connected to the
 * journal (JOURNAL_STREAM), lines carry the "<N>" syslog priority prefix so
 * journald keeps the level. */

void vh_log_set_max_level(int level);
/* Parses "err", "warning", "notice", "info", "debug" or a number 0-7. */
int vh_log_level_from_string(const char *s);
void vh_log_set_program(const char *name);
/* Every line goes to syslog(3) too (the caller has called openlog()): for
 * programs whose stderr nobody reads, such as a udev helper. */
void vh_log_set_syslog(bool on);

/* Logs and returns -abs(error) (or 0 when error is 0), so callers can
 * "return log_error_errno(r, ...)". %m expands to strerror(error). */
int vh_log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) vh_log_internal(level, error, __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...)              ((void) vh_log_internal(level, 0, __FILE__, __LINE__, __VA_ARGS__))

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
