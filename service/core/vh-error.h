/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "vh-macro.h"

/* A refusal or failure from the core, with a message that says what
 * blocked and what to do. The bus layer maps the code to an
 * org.vfiohost.Error.* name; core never sees sd-bus. */

typedef enum VhErrorCode {
        VH_ERROR_CODE_NONE = 0,
        VH_ERROR_CODE_INVALID_ADDRESS,
        VH_ERROR_CODE_INVALID_ARGS,
        VH_ERROR_CODE_NOT_FOUND,
        VH_ERROR_CODE_GROUP_NOT_VIABLE,
        VH_ERROR_CODE_IN_USE,
        VH_ERROR_CODE_HOST_CRITICAL,
        VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
        VH_ERROR_CODE_VFIO_UNAVAILABLE,
        VH_ERROR_CODE_BUSY,
        VH_ERROR_CODE_TIMEOUT,
        VH_ERROR_CODE_FAILED,
        _VH_ERROR_CODE_MAX,
} VhErrorCode;

typedef struct VhError {
        VhErrorCode code;
        char *message;
} VhError;

#define VH_ERROR_NULL ((VhError) {})

void vh_error_clear(VhError *e);
static inline bool vh_error_is_set(const VhError *e) {
        return e && e->code != VH_ERROR_CODE_NONE;
}

/* Sets e (if not set yet) and returns -errno_of(code), so callers can
 * "return vh_error_set(e, ...)". */
int vh_error_set(VhError *e, VhErrorCode code, const char *fmt, ...) _printf_(3, 4);

/* The negative errno that stands for a code (EBUSY for IN_USE, ...). */
int vh_error_code_to_errno(VhErrorCode code);
