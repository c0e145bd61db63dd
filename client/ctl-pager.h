/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Long output through a pager, as systemctl does: only when stdout is a
 * terminal; $SYSTEMD_PAGER, else $PAGER, else less, else more; "" or
 * "cat" for none. less gets LESS=FRSXMK unless LESS is set ($SYSTEMD_LESS
 * overrides it), so one screenful or less is printed and it quits. */

#include <stdbool.h>

/* Starts the pager and points stdout at it. Nothing happens (and 0) when
 * stdout is no terminal or no pager is wanted; a pager that cannot start
 * leaves stdout as it was. */
int ctl_pager_open(void);
/* Flushes stdout, ends the pager's input and waits for it to quit. */
void ctl_pager_close(void);
