/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Translatable client text (docs/translations.md): _() translates now,
 * N_() only marks a string stored in a table and translated where it is
 * printed. Only what a person reads: never JSON, D-Bus names or values,
 * option names or tokens a script compares. glibc holds libintl. */

#include <libintl.h>

#define _(s) gettext(s)
#define N_(s) (s)
