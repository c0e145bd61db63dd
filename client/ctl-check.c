/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl check [--device ADDRESS]: is this host ready for VFIO
 * passthrough? The daemon runs the checks and gives the verdict
 * (Manager1.GetReadiness); this groups them by category, says what to do
 * about each one that did not pass, and exits 0 only when ready, so that
 * scripts can use "vfiohostctl check && ...". The last line is the
 * verdict, with counts taken from the same checks shown above it
 * (fwupd#6253). */

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl-i18n.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "vh-address.h"
#include "vh-macro.h"

#define VERDICT_READY "ready"

/* The keys of a check that --json carries, in this order, always as
 * strings ("" when the daemon sent none): the format scripts rely on. */
static const char * const check_keys[] = {
        "id",
        "category",
        "result",
        "summary",
        "detail",
        "remedy",
        "source",
};

/* Headings for the categories dbus/org.vfiohost.xml names; a category a
 * newer daemon adds is shown as it is called on the bus. */
static const struct {
        const char *category;
        const char *title;
} category_titles[] = {
        { "cpu",      N_("CPU and KVM")    },
        { "iommu",    N_("IOMMU")          },
        { "vfio",     N_("VFIO")           },
        { "kernel",   N_("Kernel")         },
        { "memory",   N_("Memory")         },
        { "devices",  N_("Device nodes")   },
        { "cgroups",  N_("Control groups") },
        { "security", N_("Security")       },
        { "system",   N_("System")         },
        { "device",   N_("PCI function")   },
};

typedef struct ResultStyle {
        const char *result;
        const char *tag;
        const char *(*color)(void);
} ResultStyle;

static const ResultStyle result_styles[] = {
        { "pass", "PASS", ctl_ansi_green   },
        { "fail", "FAIL", ctl_ansi_red     },
        { "warn", "WARN", ctl_ansi_yellow  },
        { "risk", "RISK", ctl_ansi_magenta },
        { "info", "INFO", ctl_ansi_blue    },
};

/* Every tag is this wide, so that the summaries line up. */
#define TAG_WIDTH 4
/* "  PASS  summary": where the summary, the detail and the remedy start. */
#define CHECK_INDENT "  "
#define TEXT_INDENT "        "
#define REMEDY_ARROW "→ "

static const ResultStyle *result_style(const char *result) {
        for (size_t i = 0; i < ELEMENTSOF(result_styles); i++)
                if (strcmp(result, result_styles[i].result) == 0)
                        return &result_styles[i];
        return NULL;
}

static struct json_object *check_to_json(const CtlObject *check) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;

        j = json_object_new_object();
        if (!j)
                return NULL;

        for (size_t i = 0; i < ELEMENTSOF(check_keys); i++) {
                struct json_object *v = json_object_new_string(ctl_object_get_string(check, check_keys[i]));

                if (!v || json_object_object_add(j, check_keys[i], v) < 0) {
                        json_object_put(v);
                        return NULL;
                }
        }

        return TAKE_PTR(j);
}

/* {"verdict": "not-ready", "checks": [{"id": ..., "source": ...}]} */
static struct json_object *readiness_to_json(const CtlReadiness *res, bool ready) {
        _cleanup_(json_object_putp) struct json_object *j = NULL, *checks = NULL;
        struct json_object *v;

        j = json_object_new_object();
        checks = json_object_new_array();
        if (!j || !checks)
                return NULL;

        v = json_object_new_string(ready ? VERDICT_READY : "not-ready");
        if (!v || json_object_object_add(j, "verdict", v) < 0) {
                json_object_put(v);
                return NULL;
        }

        for (size_t i = 0; i < res->n_checks; i++) {
                v = check_to_json(res->checks[i]);
                if (!v || json_object_array_add(checks, v) < 0) {
                        json_object_put(v);
                        return NULL;
                }
        }

        if (json_object_object_add(j, "checks", checks) < 0)
                return NULL;
        TAKE_PTR(checks);

        return TAKE_PTR(j);
}

static void print_heading(const char *category, const char *device) {
        char canonical[VH_ADDRESS_MAX];
        const char *title = NULL;

        for (size_t i = 0; i < ELEMENTSOF(category_titles); i++)
                if (strcmp(category, category_titles[i].category) == 0) {
                        title = category_titles[i].title;
                        break;
                }

        printf("%s%s", ctl_ansi_bold(), title ? _(title) : (*category ? category : _("Other")));
        /* The device checks are about the function asked for: name it. */
        if (device && strcmp(category, "device") == 0)
                printf(" %s", vh_address_normalize(device, canonical) >= 0 ? canonical : device);
        printf("%s\n", ctl_ansi_normal());
}

static bool is_id_char(char c) {
        return isalnum((unsigned char) c) || c == '.' || c == '-' || c == '_';
}

/* Whether text names this check id as a word ("see cpu.virtualization"),
 * not as the start of a longer one (cpu.virt in cpu.virt.capabilities). */
static bool text_mentions_id(const char *text, const char *id) {
        size_t n = strlen(id);

        if (n == 0)
                return false;
        for (const char *p = strstr(text, id); p; p = strstr(p + 1, id)) {
                /* a sentence's full stop after the id still ends it */
                bool ends = !is_id_char(p[n]) || (p[n] == '.' && !is_id_char(p[n + 1]));

                if ((p == text || !is_id_char(p[-1])) && ends)
                        return true;
        }
        return false;
}

/* A check's id is shown where the reader needs it: on every check that
 * did not pass (what a bug report or a rules file names), and on any check
 * another one refers to, so "see iommu.kernel" leads somewhere. */
static bool check_id_wanted(const CtlReadiness *res, const CtlObject *check) {
        const char *id = ctl_object_get_string(check, "id");

        if (!*id)
                return false;
        if (strcmp(ctl_object_get_string(check, "result"), "pass") != 0)
                return true;
        for (size_t i = 0; i < res->n_checks; i++) {
                static const char * const fields[] = { "summary", "detail", "remedy" };

                if (res->checks[i] == check)
                        continue;
                for (size_t f = 0; f < ELEMENTSOF(fields); f++)
                        if (text_mentions_id(ctl_object_get_string(res->checks[i], fields[f]), id))
                                return true;
        }
        return false;
}

static void print_check(const CtlObject *check, bool show_id) {
        const char *result = ctl_object_get_string(check, "result");
        const char *detail = ctl_object_get_string(check, "detail");
        const char *remedy = ctl_object_get_string(check, "remedy");
        const char *summary;
        const ResultStyle *style = result_style(result);
        const char *color = style ? style->color() : "";
        char tag[TAG_WIDTH + 1] = {};

        /* A result a newer daemon adds: its name, as wide as the others. */
        if (style)
                snprintf(tag, sizeof(tag), "%s", style->tag);
        else
                for (size_t i = 0; i < TAG_WIDTH && result[i]; i++)
                        tag[i] = (char) toupper((unsigned char) result[i]);

        printf("%s%s%-*s%s  ", CHECK_INDENT, color, TAG_WIDTH, *tag ? tag : "?", *color ? ctl_ansi_normal() : "");
        /* A check without a summary is still one: name it by its id. */
        summary = ctl_object_get_string(check, "summary");
        if (!*summary) {
                summary = ctl_object_get_string(check, "id");
                show_id = false;
        }
        if (show_id) {
                _cleanup_free_ char *line = NULL;

                /* The id goes with the summary, wrapped with it. */
                if (asprintf(&line, "%s  [%s]", summary, ctl_object_get_string(check, "id")) >= 0) {
                        ctl_print_wrapped(strlen(TEXT_INDENT), TEXT_INDENT, line);
                        summary = NULL;
                }
        }
        if (summary)
                ctl_print_wrapped(strlen(TEXT_INDENT), TEXT_INDENT, *summary ? summary : "-");

        /* A pass needs nothing done; the rest say what was found and what to do. */
        if (style && strcmp(style->result, "pass") == 0)
                return;

        if (*detail) {
                fputs(TEXT_INDENT, stdout);
                ctl_print_wrapped(strlen(TEXT_INDENT), TEXT_INDENT, detail);
        }
        if (*remedy) {
                printf("%s%s", TEXT_INDENT, REMEDY_ARROW);
                ctl_print_wrapped(strlen(TEXT_INDENT) + 2, TEXT_INDENT "  ", remedy);
        }
}

static void append_text(char *buf, size_t size, const char *text) {
        size_t len = strlen(buf);

        if (len < size)
                snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "", text);
}

static void print_verdict(const CtlReadiness *res, bool ready) {
        size_t n_fail = 0, n_warn = 0, n_risk = 0;
        char counts[256] = "", one[80];

        for (size_t i = 0; i < res->n_checks; i++) {
                const char *result = ctl_object_get_string(res->checks[i], "result");

                if (strcmp(result, "fail") == 0)
                        n_fail++;
                else if (strcmp(result, "warn") == 0)
                        n_warn++;
                else if (strcmp(result, "risk") == 0)
                        n_risk++;
        }

        /* ngettext: the plural forms are the language's, not English's two. */
        if (n_fail > 0) {
                snprintf(one, sizeof(one), ngettext("%zu failed", "%zu failed", n_fail), n_fail);
                append_text(counts, sizeof(counts), one);
        }
        if (n_warn > 0) {
                snprintf(one, sizeof(one), ngettext("%zu warning", "%zu warnings", n_warn), n_warn);
                append_text(counts, sizeof(counts), one);
        }
        if (n_risk > 0) {
                snprintf(one, sizeof(one), ngettext("%zu risk", "%zu risks", n_risk), n_risk);
                append_text(counts, sizeof(counts), one);
        }

        printf("%s%s%s%s%s%s%s\n",
               ctl_ansi_bold(), ready ? ctl_ansi_green() : ctl_ansi_red(),
               ready ? "READY" : "NOT READY",
               ctl_ansi_normal(),
               *counts ? " (" : "", counts, *counts ? ")" : "");
}

static void print_readiness(const CtlReadiness *res, bool ready, const char *device) {
        _cleanup_free_ const char **categories = NULL;
        size_t n_categories = 0;

        /* Categories in the order they first appear, each check under its
         * own, in the daemon's order: related checks stay together even if
         * a daemon interleaves them. */
        categories = calloc(res->n_checks ?: 1, sizeof(char *));
        if (!categories) {
                /* Not worth failing over: the report ungrouped. */
                for (size_t i = 0; i < res->n_checks; i++)
                        print_check(res->checks[i], check_id_wanted(res, res->checks[i]));
        } else {
                for (size_t i = 0; i < res->n_checks; i++) {
                        const char *category = ctl_object_get_string(res->checks[i], "category");
                        bool seen = false;

                        for (size_t k = 0; k < n_categories && !seen; k++)
                                seen = strcmp(categories[k], category) == 0;
                        if (!seen)
                                categories[n_categories++] = category;
                }

                for (size_t k = 0; k < n_categories; k++) {
                        if (k > 0)
                                putchar('\n');
                        print_heading(categories[k], device);
                        for (size_t i = 0; i < res->n_checks; i++)
                                if (strcmp(ctl_object_get_string(res->checks[i], "category"), categories[k]) == 0)
                                        print_check(res->checks[i], check_id_wanted(res, res->checks[i]));
                }
        }

        if (res->n_checks > 0)
                putchar('\n');
        print_verdict(res, ready);
}

int verb_check(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_readiness_freep) CtlReadiness *res = NULL;
        _cleanup_free_ char *device = NULL;
        bool ready;
        int r;

        if (options->device) {
                device = ctl_address_expand(options->device);
                if (!device)
                        return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
        }

        r = ctl_bus_get_readiness(bus, device, &res, &error);
        if (r < 0)
                return ctl_report_error(&error);

        /* Anything but "ready", a verdict a newer daemon might add included,
         * is not ready: a script must not go ahead on a word it cannot read. */
        ready = strcmp(res->verdict, VERDICT_READY) == 0;

        if (ctl_output_json()) {
                r = ctl_json_output(readiness_to_json(res, ready));
                if (r != 0)
                        return r;
        } else
                print_readiness(res, ready, device);

        /* Not ready is an answer, not an error: stdout has the report, and
         * the exit code is what "check && start-the-vm" needs. */
        return ready ? CTL_EXIT_SUCCESS : CTL_EXIT_FAILURE;
}
