/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ctl-output: tables, colour, JSON and error reports. Human output is for
 * people and may change; --json is the stable interface for scripts and
 * puts nothing but JSON on stdout, errors included (fwupd#9997). */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl-i18n.h"
#include "ctl-output.h"
#include "vh-names.h"
#include "vh-strv.h"

static bool arg_json = false;
static CtlOutputSettings settings;
static int cached_color = -1;
static bool on_terminal;
static size_t cached_columns;

static size_t query_columns(void);

void ctl_output_init(const CtlOutputSettings *s) {
        settings = s ? *s : (CtlOutputSettings) {};
        arg_json = settings.json != CTL_JSON_OFF;
        cached_color = -1;
        on_terminal = isatty(STDOUT_FILENO);
        cached_columns = query_columns();
}

bool ctl_output_json(void) {
        return arg_json;
}

bool ctl_output_legend(void) {
        return !settings.no_legend;
}

bool ctl_output_full(void) {
        return settings.full;
}

bool ctl_output_on_terminal(void) {
        return on_terminal;
}

/* systemd's SYSTEMD_COLORS: a boolean, or a colour depth (on). -1 when
 * unset or unparsable. */
static int systemd_colors(void) {
        const char *e = getenv("SYSTEMD_COLORS");

        if (!e || !*e)
                return -1;
        if (strcmp(e, "0") == 0 || strcmp(e, "false") == 0 || strcmp(e, "no") == 0 || strcmp(e, "off") == 0)
                return 0;
        if (strcmp(e, "1") == 0 || strcmp(e, "true") == 0 || strcmp(e, "yes") == 0 || strcmp(e, "on") == 0 ||
            strcmp(e, "16") == 0 || strcmp(e, "256") == 0 || strcmp(e, "24bit") == 0)
                return 1;
        return -1;
}

/* Colour for a person at a terminal unless asked otherwise: --color
 * first, then SYSTEMD_COLORS (as systemctl), then NO_COLOR
 * (https://no-color.org). JSON never. */
static bool use_color(void) {
        if (cached_color < 0) {
                const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
                int forced = systemd_colors();

                if (arg_json || settings.color == CTL_COLOR_NEVER)
                        cached_color = 0;
                else if (settings.color == CTL_COLOR_ALWAYS)
                        cached_color = 1;
                else if (forced >= 0)
                        cached_color = forced;
                else
                        cached_color = on_terminal && !(no_color && *no_color) &&
                                       !(term && strcmp(term, "dumb") == 0);
        }
        return cached_color;
}

const char *ctl_ansi_bold(void) {
        return use_color() ? "\x1b[1m" : "";
}

const char *ctl_ansi_green(void) {
        return use_color() ? "\x1b[32m" : "";
}

const char *ctl_ansi_red(void) {
        return use_color() ? "\x1b[31m" : "";
}

const char *ctl_ansi_yellow(void) {
        return use_color() ? "\x1b[33m" : "";
}

const char *ctl_ansi_blue(void) {
        return use_color() ? "\x1b[34m" : "";
}

const char *ctl_ansi_magenta(void) {
        return use_color() ? "\x1b[35m" : "";
}

const char *ctl_ansi_normal(void) {
        return use_color() ? "\x1b[0m" : "";
}

size_t ctl_terminal_columns(void) {
        return cached_columns;
}

static size_t query_columns(void) {
        struct winsize ws = {};
        const char *e;

        if (!on_terminal)
                return 0;

        /* COLUMNS first, as systemd does: it lets a user or a test pin it. */
        e = getenv("COLUMNS");
        if (e) {
                char *end;
                unsigned long n;

                errno = 0;
                n = strtoul(e, &end, 10);
                if (errno == 0 && end != e && *end == '\0' && n > 0 && n < SIZE_MAX)
                        return n;
        }

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;

        return 80;
}

/* Display width of the first len bytes of UTF-8 text, one column per code
 * point: pci.ids names and the daemon's messages are ASCII with the odd
 * Latin letter or arrow, nothing wider. */
static size_t text_width_n(const char *s, size_t len) {
        size_t n = 0;

        for (size_t i = 0; i < len && s[i]; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80)
                        n++;
        return n;
}

static size_t text_width(const char *s) {
        return text_width_n(s, SIZE_MAX);
}

/* Writes at most width columns of s, ending in "…" when cut. */
static void print_ellipsized(const char *s, size_t width) {
        size_t n = text_width(s), cols = 0;
        const char *p;

        if (n <= width) {
                fputs(s, stdout);
                return;
        }
        if (width == 0)
                return;

        for (p = s; *p; p++) {
                if (((unsigned char) *p & 0xc0) != 0x80) {
                        if (cols == width - 1)
                                break;
                        cols++;
                }
                putchar(*p);
        }
        fputs("…", stdout);
}

void ctl_print_fitted(size_t column, const char *text) {
        size_t columns = settings.full ? 0 : ctl_terminal_columns();

        if (columns > column + 8)
                print_ellipsized(text, columns - column);
        else
                fputs(text, stdout);
        putchar('\n');
}

void ctl_print_wrapped(size_t column, const char *indent, const char *text) {
        size_t columns = ctl_terminal_columns(), indent_width;
        bool line_start = true;
        const char *p = text;

        assert(indent);
        assert(text);

        indent_width = text_width(indent);

        for (;;) {
                size_t len, width;

                p += strspn(p, " \t");
                if (*p == '\0')
                        break;
                if (*p == '\n') {
                        /* The daemon's own line break: keep it, indented. */
                        printf("\n%s", indent);
                        column = indent_width;
                        line_start = true;
                        p++;
                        continue;
                }

                len = strcspn(p, " \t\n");
                width = text_width_n(p, len);

                /* A word wider than the line goes on a line of its own, whole:
                 * cutting a path or an option in two would make it wrong. */
                if (!line_start && columns > 0 && column + 1 + width > columns) {
                        printf("\n%s", indent);
                        column = indent_width;
                } else if (!line_start) {
                        putchar(' ');
                        column++;
                }

                fwrite(p, 1, len, stdout);
                column += width;
                line_start = false;
                p += len;
        }

        putchar('\n');
}

#define TABLE_SEPARATOR "  "
/* The ellipsized column never gets narrower than this, even if the line
 * then overflows: a name cut to three letters helps nobody. */
#define TABLE_MIN_ELLIPSIZED_WIDTH 16

typedef struct CtlCell {
        char *text;
        const char *color;
} CtlCell;

struct CtlTable {
        size_t n_columns;
        CtlCell *cells;                 /* row-major, headers first */
        size_t n_cells;
        /* The columns that give way on a narrow terminal, in order, each
         * down to its minimum before the next one shrinks. */
        size_t ellipsize[4];
        size_t ellipsize_min[4];
        size_t n_ellipsize;
};

CtlTable *ctl_table_new(size_t n_columns, const char * const *headers) {
        CtlTable *t;

        assert(n_columns > 0);
        assert(headers);

        t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->n_columns = n_columns;

        for (size_t i = 0; i < n_columns; i++)
                if (ctl_table_add_cell(t, _(headers[i]), NULL) < 0)
                        return ctl_table_free(t);

        return t;
}

CtlTable *ctl_table_free(CtlTable *t) {
        if (!t)
                return NULL;

        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t);
        return NULL;
}

void ctl_table_add_ellipsize_column(CtlTable *t, size_t column, size_t min_width) {
        assert(t);
        assert(column < t->n_columns);
        assert(t->n_ellipsize < ELEMENTSOF(t->ellipsize));

        t->ellipsize[t->n_ellipsize] = column;
        t->ellipsize_min[t->n_ellipsize++] = min_width;
}

void ctl_table_set_ellipsize_column(CtlTable *t, size_t column) {
        ctl_table_add_ellipsize_column(t, column, TABLE_MIN_ELLIPSIZED_WIDTH);
}

int ctl_table_add_cell(CtlTable *t, const char *text, const char *color) {
        CtlCell *a;
        char *s;

        assert(t);

        s = strdup(text && *text ? text : "-");
        if (!s)
                return -ENOMEM;

        a = reallocarray(t->cells, t->n_cells + 1, sizeof(*a));
        if (!a) {
                free(s);
                return -ENOMEM;
        }
        t->cells = a;
        t->cells[t->n_cells++] = (CtlCell) { .text = s, .color = color && *color ? color : NULL };
        return 0;
}


int ctl_table_print(CtlTable *t) {
        _cleanup_free_ size_t *widths = NULL;
        size_t columns, total = 0;

        assert(t);
        assert(t->n_cells % t->n_columns == 0);

        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = text_width(t->cells[i].text);

                if (w > widths[i % t->n_columns])
                        widths[i % t->n_columns] = w;
        }
        for (size_t c = 0; c < t->n_columns; c++)
                total += widths[c] + (c > 0 ? strlen(TABLE_SEPARATOR) : 0);

        /* Only a terminal wraps lines; a pipe (and --full) gets every character. */
        columns = settings.full ? 0 : ctl_terminal_columns();
        for (size_t k = 0; columns > 0 && total > columns && k < t->n_ellipsize; k++) {
                size_t *w = &widths[t->ellipsize[k]], min = t->ellipsize_min[k];
                size_t excess = total - columns, before = *w;

                if (*w > min)
                        *w = *w > excess + min ? *w - excess : min;
                total -= before - *w;
        }

        for (size_t i = settings.no_legend ? t->n_columns : 0; i < t->n_cells; i++) {
                const CtlCell *cell = &t->cells[i];
                size_t c = i % t->n_columns;
                bool header = i < t->n_columns, last = c == t->n_columns - 1;
                const char *color = header ? ctl_ansi_bold() : strempty(cell->color);

                if (c > 0)
                        fputs(TABLE_SEPARATOR, stdout);

                fputs(color, stdout);
                print_ellipsized(cell->text, widths[c]);
                if (*color)
                        fputs(ctl_ansi_normal(), stdout);

                if (last)
                        putchar('\n');
                else
                        for (size_t n = text_width(cell->text); n < widths[c]; n++)
                                putchar(' ');
        }

        return 0;
}

char *ctl_camel_to_snake(const char *name) {
        char *ret, *p;

        assert(name);

        /* At most one '_' per input character. */
        ret = malloc(strlen(name) * 2 + 1);
        if (!ret)
                return NULL;

        p = ret;
        for (const char *s = name; *s; s++) {
                if (isupper((unsigned char) *s) && s > name) {
                        bool prev_lower = islower((unsigned char) s[-1]) || isdigit((unsigned char) s[-1]);
                        /* "PCIBridge" → "pci_bridge": an acronym ends before its last capital. */
                        bool acronym_end = isupper((unsigned char) s[-1]) && islower((unsigned char) s[1]);

                        if (prev_lower || acronym_end)
                                *p++ = '_';
                }
                *p++ = tolower((unsigned char) *s);
        }
        *p = '\0';

        return ret;
}

/* Id-typed properties are numbers on the bus and hex text for people and
 * scripts, as lspci -n prints them; the rule holds only for the type the
 * contract gives, so a changed type falls back to the generic rule. */
static const struct {
        const char *name;
        char type;
        int digits;
} hex_properties[] = {
        { "VendorId",          'q', 4 },
        { "DeviceId",          'q', 4 },
        { "SubsystemVendorId", 'q', 4 },
        { "SubsystemDeviceId", 'q', 4 },
        { "Revision",          'y', 2 },
        { "Class",             'u', 6 },
};

static int property_hex_digits(const CtlProperty *p) {
        for (size_t i = 0; i < ELEMENTSOF(hex_properties); i++)
                if (p->type == hex_properties[i].type && strcmp(p->name, hex_properties[i].name) == 0)
                        return hex_properties[i].digits;
        return 0;
}

char *ctl_property_to_string(const CtlProperty *p) {
        char *s = NULL;
        int digits, r;

        assert(p);

        digits = property_hex_digits(p);
        if (digits > 0) {
                r = asprintf(&s, "%0*" PRIx64, digits, p->u);
                return r < 0 ? NULL : s;
        }

        switch (p->type) {
        case 's': case 'o': case 'g':
                return strdup(strempty(p->str));
        case 'b':
                return strdup(p->b ? "yes" : "no");
        case 'n': case 'i': case 'x':
                r = asprintf(&s, "%" PRIi64, p->i);
                break;
        case 'y': case 'q': case 'u': case 't':
                r = asprintf(&s, "%" PRIu64, p->u);
                break;
        case 'd':
                r = asprintf(&s, "%g", p->d);
                break;
        case 'a':
                return vh_strv_join(p->strv, ", ");
        default:
                return strdup("");
        }

        return r < 0 ? NULL : s;
}

struct json_object *ctl_property_to_json(const CtlProperty *p) {
        struct json_object *a;
        int digits;

        assert(p);

        digits = property_hex_digits(p);
        if (digits > 0) {
                char buf[32];

                snprintf(buf, sizeof(buf), "%0*" PRIx64, digits, p->u);
                return json_object_new_string(buf);
        }

        switch (p->type) {
        case 's': case 'o': case 'g':
                return json_object_new_string(strempty(p->str));
        case 'b':
                return json_object_new_boolean(p->b);
        case 'n': case 'i': case 'x':
                return json_object_new_int64(p->i);
        case 'y': case 'q': case 'u': case 't':
                return p->u > INT64_MAX ? json_object_new_uint64(p->u) : json_object_new_int64((int64_t) p->u);
        case 'd':
                return json_object_new_double(p->d);
        case 'a':
                a = json_object_new_array();
                if (!a)
                        return NULL;
                STRV_FOREACH(s, p->strv) {
                        struct json_object *e = json_object_new_string(*s);

                        if (!e || json_object_array_add(a, e) < 0) {
                                json_object_put(e);
                                json_object_put(a);
                                return NULL;
                        }
                }
                return a;
        default:
                return NULL;
        }
}

struct json_object *ctl_object_to_json(const CtlObject *o) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;

        assert(o);

        j = json_object_new_object();
        if (!j)
                return NULL;

        for (size_t i = 0; i < o->n_properties; i++) {
                const CtlProperty *p = &o->properties[i];
                _cleanup_free_ char *key = NULL;
                struct json_object *v;

                /* Skipped, not an error: a type added later that JSON has no rule for. */
                if (p->type == '\0')
                        continue;

                key = ctl_camel_to_snake(p->name);
                if (!key)
                        return NULL;
                v = ctl_property_to_json(p);
                if (!v)
                        return NULL;
                if (json_object_object_add(j, key, v) < 0) {
                        json_object_put(v);
                        return NULL;
                }
        }

        return TAKE_PTR(j);
}

int ctl_json_print(struct json_object *o) {
        const char *s;

        s = json_object_to_json_string_ext(o, (settings.json == CTL_JSON_SHORT ? JSON_C_TO_STRING_PLAIN
                                                                               : JSON_C_TO_STRING_PRETTY) |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
        if (s)
                puts(s);
        json_object_put(o);
        return s ? 0 : -ENOMEM;
}

/* The bus's own errors for a bus or a service that is not there or not
 * answering (ctl_bus_connect reports every connect failure as NoServer). */
static bool is_unreachable(const char *name) {
        static const char *const names[] = {
                SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_NO_SERVER,
                SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_DISCONNECTED, SD_BUS_ERROR_TIMEOUT,
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(name, names[i]) == 0)
                        return true;
        /* Activation failed: org.freedesktop.DBus.Error.Spawn.ChildExited, ... */
        return strncmp(name, "org.freedesktop.DBus.Error.Spawn.", strlen("org.freedesktop.DBus.Error.Spawn.")) == 0;
}

static int exit_code_for_error(const char *name) {
        if (name && strcmp(name, VH_ERROR_NOT_FOUND) == 0)
                return CTL_EXIT_NOT_FOUND;
        if (name && is_unreachable(name))
                return CTL_EXIT_UNREACHABLE;
        if (name && strcmp(name, CTL_ERROR_USAGE) == 0)
                return CTL_EXIT_USAGE;
        return CTL_EXIT_FAILURE;
}

static void print_error(const char *name, const char *message) {
        if (arg_json) {
                struct json_object *o, *e;

                /* Built by hand when memory is short: the contract is JSON on stdout. */
                o = json_object_new_object();
                e = json_object_new_object();
                if (!o || !e) {
                        json_object_put(o);
                        json_object_put(e);
                        puts("{\"error\": {\"name\": \"org.freedesktop.DBus.Error.NoMemory\", \"message\": \"out of memory\"}}");
                        return;
                }
                json_object_object_add(e, "name", json_object_new_string(name));
                json_object_object_add(e, "message", json_object_new_string(message));
                json_object_object_add(o, "error", e);
                (void) ctl_json_print(o);
                return;
        }

        fflush(stdout);
        fprintf(stderr, "%s: %s\n", CTL_PROGRAM_NAME, message);
}

int ctl_report_error(const sd_bus_error *error) {
        const char *name, *message;

        assert(error);

        name = error->name ?: SD_BUS_ERROR_FAILED;
        message = error->message ?: name;

        print_error(name, message);
        return exit_code_for_error(name);
}

void ctl_report_warning(const char *format, ...) {
        va_list ap;

        fflush(stdout);
        fprintf(stderr, "%s: warning: ", CTL_PROGRAM_NAME);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int ctl_report_usage(const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0)
                message = NULL;

        print_error(CTL_ERROR_USAGE, message ?: "usage error");
        return CTL_EXIT_USAGE;
}

int ctl_report_errno(int r, const char *format, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;

        assert(r < 0);

        va_start(ap, format);
        sd_bus_error_set_errnofv(&error, r, format, ap);
        va_end(ap);

        (void) ctl_report_error(&error);
        return CTL_EXIT_FAILURE;
}

int ctl_json_add(struct json_object *j, const char *key, struct json_object *v) {
        if (!v || json_object_object_add(j, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int ctl_json_add_array(struct json_object *a, struct json_object *v) {
        if (!v || json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

char *ctl_key_to_snake(const char *key) {
        char *s = strdup(key);

        if (s)
                for (char *p = s; *p; p++)
                        if (*p == '-')
                                *p = '_';
        return s;
}

int ctl_json_add_others(struct json_object *j, const CtlObject *o) {
        for (size_t i = 0; i < o->n_properties; i++) {
                const CtlProperty *p = &o->properties[i];
                _cleanup_free_ char *key = NULL;

                if (p->type == '\0')
                        continue;
                key = ctl_key_to_snake(p->name);
                if (!key)
                        return -ENOMEM;
                if (json_object_object_get_ex(j, key, NULL))
                        continue;
                if (ctl_json_add(j, key, ctl_property_to_json(p)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

struct json_object *ctl_strv_to_json(char **l) {
        _cleanup_(json_object_putp) struct json_object *a = NULL;

        a = json_object_new_array();
        if (!a)
                return NULL;
        STRV_FOREACH(s, l)
                if (ctl_json_add_array(a, json_object_new_string(*s)) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

int ctl_json_output(struct json_object *j) {
        int r;

        if (!j)
                return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
        r = ctl_json_print(j);
        if (r < 0)
                return ctl_report_errno(r, "failed to print JSON: %m");
        return 0;
}
