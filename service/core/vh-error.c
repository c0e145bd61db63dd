/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vh-error.h"

void vh_error_clear(VhError *e) {
        if (!e)
                return;
        free(e->message);
        *e = VH_ERROR_NULL;
}

int vh_error_code_to_errno(VhErrorCode code) {
        static const int map[_VH_ERROR_CODE_MAX] = {
                [VH_ERROR_CODE_NONE] = 0,
                [VH_ERROR_CODE_INVALID_ADDRESS] = EINVAL,
                [VH_ERROR_CODE_INVALID_ARGS] = EINVAL,
                [VH_ERROR_CODE_NOT_FOUND] = ENODEV,
                [VH_ERROR_CODE_GROUP_NOT_VIABLE] = EXDEV,
                [VH_ERROR_CODE_IN_USE] = EBUSY,
                [VH_ERROR_CODE_HOST_CRITICAL] = EPERM,
                /* a PF's VFs are its dependents, as a directory's entries */
                [VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS] = ENOTEMPTY,
                [VH_ERROR_CODE_VFIO_UNAVAILABLE] = ENOPKG,
                [VH_ERROR_CODE_BUSY] = EAGAIN,
                [VH_ERROR_CODE_TIMEOUT] = ETIMEDOUT,
                [VH_ERROR_CODE_FAILED] = EIO,
        };

        return code < _VH_ERROR_CODE_MAX ? -map[code] : -EIO;
}

int vh_error_set(VhError *e, VhErrorCode code, const char *fmt, ...) {
        va_list ap;

        /* The first error is the cause; later ones are consequences. */
        if (e && !vh_error_is_set(e)) {
                char *m = NULL;

                va_start(ap, fmt);
                if (vasprintf(&m, fmt, ap) < 0)
                        m = NULL;
                va_end(ap);
                e->code = code;
                e->message = m;
        }
        return vh_error_code_to_errno(code);
}
