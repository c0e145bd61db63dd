/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "vh-bus-errors.h"
#include "vh-names.h"

static const sd_bus_error_map vh_error_map[] = {
        SD_BUS_ERROR_MAP(VH_ERROR_INVALID_ADDRESS, EINVAL),
        SD_BUS_ERROR_MAP(VH_ERROR_NOT_FOUND, ENODEV),
        SD_BUS_ERROR_MAP(VH_ERROR_GROUP_NOT_VIABLE, EXDEV),
        SD_BUS_ERROR_MAP(VH_ERROR_IN_USE, EBUSY),
        SD_BUS_ERROR_MAP(VH_ERROR_HOST_CRITICAL, EPERM),
        SD_BUS_ERROR_MAP(VH_ERROR_VFIO_UNAVAILABLE, ENOPKG),
        SD_BUS_ERROR_MAP(VH_ERROR_BUSY, EAGAIN),
        SD_BUS_ERROR_MAP(VH_ERROR_TIMEOUT, ETIMEDOUT),
        SD_BUS_ERROR_MAP(VH_ERROR_FAILED, EIO),
        SD_BUS_ERROR_MAP_END
};

int vh_bus_errors_register(void) {
        return sd_bus_error_add_map(vh_error_map);
}
