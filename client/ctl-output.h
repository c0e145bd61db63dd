/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Everything that reaches the user: tables, colour, JSON, errors, exit
 * codes. The output mode is set once by main(), the way a log target is. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "vh-macro.h"

/* fwupdmgr's exit codes, so scripts can tell "not there" from "broken". */
enum {
        CTL_EXIT_SUCCESS = 0,
        CTL_EXIT_FAILURE = 1,
        CTL_EXIT_USAGE = 2,
        CTL_EXIT_NOT_FOUND = 3,
        /* vfiohostd could not be reached (no bus, not installed, activation
         * failed, no reply): not the host's answer, so never NOT READY. */
        CTL_EXIT_UNREACHABLE = 4,
};

/* Fixed rather than argv[0]: scripts and tests match "vfiohostctl: " and
 * "vfiohostctl VERSION" however the binary was started. */
#define CTL_PROGRAM_NAME "vfiohostctl"

/* Client-side error names for --json errors that did not come from the bus. */
#define CTL_ERROR_USAGE "org.vfiohost.ctl.Error.Usage"

typedef enum CtlJsonFormat {
        CTL_JSON_OFF,
        CTL_JSON_PRETTY,                /* --json, --json=pretty */
        CTL_JSON_SHORT,                 /* --json=short: one line */
} CtlJsonFormat;

typedef enum CtlColorMode {
        CTL_COLOR_AUTO,                 /* SYSTEMD_COLORS, else NO_COLOR, else a terminal */
        CTL_COLOR_ALWAYS,
        CTL_COLOR_NEVER,
} CtlColorMode;

typedef struct CtlOutputSettings {
        CtlJsonFormat json;
        CtlColorMode color;
        bool no_legend;                 /* tables without headers, no hints */
        bool full;                      /* never ellipsize */
} CtlOutputSettings;

/* Also remembers whether stdout is a terminal and how wide: call it before
 * a pager takes stdout, so tables still fit the terminal under less -S. */
void ctl_output_init(const CtlOutputSettings *settings);
bool ctl_output_json(void);
/* Whether headers, footers and hints are wanted (not --no-legend). */
bool ctl_output_legend(void);
/* Whether tables are printed whole (-l, --full). */
bool ctl_output_full(void);
/* Whether stdout was a terminal when the client started. */
bool ctl_output_on_terminal(void);

/* ANSI sequences, or "" when colour is off (--color, SYSTEMD_COLORS,
 * NO_COLOR, no terminal, TERM=dumb, --json). */
const char *ctl_ansi_bold(void);
const char *ctl_ansi_green(void);
const char *ctl_ansi_red(void);
const char *ctl_ansi_yellow(void);
const char *ctl_ansi_blue(void);
const char *ctl_ansi_magenta(void);
const char *ctl_ansi_normal(void);

/* A table of text cells, printed with each column as wide as its widest
 * cell. On a terminal the ellipsize column shrinks so that a line fits.
 * ctl_table_new() translates the headers: mark them N_() (ctl-i18n.h). */
typedef struct CtlTable CtlTable;

CtlTable *ctl_table_new(size_t n_columns, const char * const *headers);
CtlTable *ctl_table_free(CtlTable *t);
static inline void ctl_table_freep(CtlTable **t) {
        ctl_table_free(*t);
}
/* The column that shrinks (down to 16 columns) when a line would not fit. */
void ctl_table_set_ellipsize_column(CtlTable *t, size_t column);
/* Another that gives way, after those added before it, down to min_width. */
void ctl_table_add_ellipsize_column(CtlTable *t, size_t column, size_t min_width);
/* Adds a cell to the current row; rows wrap after n_columns cells. color
 * is an ANSI sequence from above or NULL; text NULL or "" prints "-". */
int ctl_table_add_cell(CtlTable *t, const char *text, const char *color);
int ctl_table_print(CtlTable *t);

/* Number of columns of the terminal on stdout (as at ctl_output_init),
 * 0 when it is none. */
size_t ctl_terminal_columns(void);

/* Prints text word by word on a line where column columns are taken
 * already, then a newline. On a terminal, a word that would pass its right
 * edge starts a new line, after indent (plain spaces); a newline in text
 * does so everywhere. A pipe gets each paragraph on one line. */
void ctl_print_wrapped(size_t column, const char *indent, const char *text);

/* Prints text on a line where column columns are taken already, cut with
 * "…" at the terminal's edge (not with --full, nor on a pipe), then a
 * newline. */
void ctl_print_fitted(size_t column, const char *text);

/* "SriovNumVfs" → "sriov_num_vfs". */
char *ctl_camel_to_snake(const char *name);

/* A property's value as text: ids in hex ("10de", "a1", "030000"),
 * booleans "yes"/"no", vectors joined with ", ", "" for unknown types. */
char *ctl_property_to_string(const CtlProperty *p);
/* The same value as JSON; NULL for a type JSON cannot carry (skipped). */
struct json_object *ctl_property_to_json(const CtlProperty *p);
/* All properties of an object as one JSON object with snake_case keys. */
struct json_object *ctl_object_to_json(const CtlObject *o);

/* Adds v under key (to an array); takes v, also on failure (-ENOMEM, also
 * for v NULL), so calls chain: r = ctl_json_add(j, "k", json_object_new_…()). */
int ctl_json_add(struct json_object *j, const char *key, struct json_object *v);
int ctl_json_add_array(struct json_object *a, struct json_object *v);
/* A bus key as a JSON key: "previous-driver" → "previous_driver". */
char *ctl_key_to_snake(const char *key);
/* The entries of o a newer daemon added, under snake_case keys, after the
 * known ones; never replaces a key set already. */
int ctl_json_add_others(struct json_object *j, const CtlObject *o);
/* A JSON array of strings; NULL gives []. NULL on OOM. */
struct json_object *ctl_strv_to_json(char **l);

/* A verb's --json result: prints j (NULL: it could not be built) and
 * drops it; 0, or the exit code of the failure it reported. */
int ctl_json_output(struct json_object *j);

/* Prints o pretty-printed to stdout, then drops the reference. */
int ctl_json_print(struct json_object *o);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);

/* Reports an error the way the mode asks (--json: an "error" object on
 * stdout; else "vfiohostctl: message" on stderr) and returns the exit code
 * that belongs to its name. */
int ctl_report_error(const sd_bus_error *error);
/* "vfiohostctl: warning: ..." on stderr, in either mode: stdout stays the
 * result's. */
void ctl_report_warning(const char *format, ...) _printf_(1, 2);
/* Reports a usage error and returns CTL_EXIT_USAGE. */
int ctl_report_usage(const char *format, ...) _printf_(1, 2);
/* Reports a local failure (errno r) and returns CTL_EXIT_FAILURE. */
int ctl_report_errno(int r, const char *format, ...) _printf_(2, 3);
