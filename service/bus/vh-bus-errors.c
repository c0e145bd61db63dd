/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "vh-bus-errors.h"
#include "vh-macro.h"
#include "vh-names.h"

static const sd_bus_error_map vh_error_map[] = {
        SD_BUS_ERROR_MAP(VH_ERROR_INVALID_ADDRESS, EINVAL),
        SD_BUS_ERROR_MAP(VH_ERROR_NOT_FOUND, ENODEV),
        SD_BUS_ERROR_MAP(VH_ERROR_GROUP_NOT_VIABLE, EXDEV),
        SD_BUS_ERROR_MAP(VH_ERROR_IN_USE, EBUSY),
        SD_BUS_ERROR_MAP(VH_ERROR_HOST_CRITICAL, EPERM),
        SD_BUS_ERROR_MAP(VH_ERROR_HAS_VIRTUAL_FUNCTIONS, ENOTEMPTY),
        SD_BUS_ERROR_MAP(VH_ERROR_VFIO_UNAVAILABLE, ENOPKG),
        SD_BUS_ERROR_MAP(VH_ERROR_BUSY, EAGAIN),
        SD_BUS_ERROR_MAP(VH_ERROR_TIMEOUT, ETIMEDOUT),
        SD_BUS_ERROR_MAP(VH_ERROR_FAILED, EIO),
        SD_BUS_ERROR_MAP_END
};

int vh_bus_errors_register(void) {
        return sd_bus_error_add_map(vh_error_map);
}

const char *vh_bus_error_name(VhErrorCode code) {
        static const char * const names[_VH_ERROR_CODE_MAX] = {
                [VH_ERROR_CODE_INVALID_ADDRESS] = VH_ERROR_INVALID_ADDRESS,
                [VH_ERROR_CODE_INVALID_ARGS] = SD_BUS_ERROR_INVALID_ARGS,
                [VH_ERROR_CODE_NOT_FOUND] = VH_ERROR_NOT_FOUND,
                [VH_ERROR_CODE_GROUP_NOT_VIABLE] = VH_ERROR_GROUP_NOT_VIABLE,
                [VH_ERROR_CODE_IN_USE] = VH_ERROR_IN_USE,
                [VH_ERROR_CODE_HOST_CRITICAL] = VH_ERROR_HOST_CRITICAL,
                [VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS] = VH_ERROR_HAS_VIRTUAL_FUNCTIONS,
                [VH_ERROR_CODE_VFIO_UNAVAILABLE] = VH_ERROR_VFIO_UNAVAILABLE,
                [VH_ERROR_CODE_BUSY] = VH_ERROR_BUSY,
                [VH_ERROR_CODE_TIMEOUT] = VH_ERROR_TIMEOUT,
                [VH_ERROR_CODE_FAILED] = VH_ERROR_FAILED,
        };

        return code > VH_ERROR_CODE_NONE && code < _VH_ERROR_CODE_MAX ? names[code] : VH_ERROR_FAILED;
}

int vh_bus_error_set(sd_bus_error *error, const VhError *e) {
        return sd_bus_error_set(error, vh_bus_error_name(e->code), e->message ?: "Operation failed.");
}

int vh_bus_reply_error(sd_bus_message *call, const VhError *e) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        (void) vh_bus_error_set(&error, e);
        return sd_bus_reply_method_error(call, &error);
}
