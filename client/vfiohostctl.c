/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl: the command-line client of vfiohostd. It talks D-Bus only;
 * everything it shows comes from the daemon (docs/architecture.md). This
 * file holds main, the global options and the verb table. */

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl-i18n.h"
#include "ctl-output.h"
#include "ctl-pager.h"
#include "ctl-verbs.h"
#include "vh-log.h"
#include "vh-macro.h"
#include "vh-strv.h"

/* The options only some verbs take. */
typedef enum VerbOption {
        VERB_OPTION_GROUP   = 1 << 0,
        VERB_OPTION_FORCE   = 1 << 1,
        VERB_OPTION_DRY_RUN = 1 << 2,
        VERB_OPTION_DEVICE  = 1 << 3,
        VERB_OPTION_NAME    = 1 << 7,
        VERB_OPTION_DEVICES = 1 << 4,   /* --device, more than once */
        VERB_OPTION_HUGEPAGES = 1 << 5,
        VERB_OPTION_ISOLATE_CPUS = 1 << 6,
        VERB_OPTION_DRIVER  = 1 << 8,
        VERB_OPTION_VFS     = 1 << 9,
        VERB_OPTION_CLASS   = 1 << 10,
        VERB_OPTION_TREE    = 1 << 11,
} VerbOption;

typedef struct Verb {
        const char *name;
        unsigned min_args;              /* arguments after the verb */
        unsigned max_args;
        int (*fn)(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
        const char *args;               /* for --help, NULL when none */
        unsigned options;               /* VerbOption flags it accepts */
        const char *help;
        bool paged;                     /* long text: through the pager on a terminal */
} Verb;

static int verb_help(sd_bus *bus, int argc, char **argv, const CtlOptions *options);

/* The first entry is what runs when no verb is given. */
static const Verb verbs[] = {
        { "status", 0, 0, verb_status, NULL,      0, N_("Show a summary of the host (default)") },
        { "list",   0, 0, verb_list,   NULL,      VERB_OPTION_CLASS | VERB_OPTION_TREE, N_("List PCI functions"), true },
        { "show",   1, 1, verb_show,   "ADDRESS", 0, N_("Show every property of one PCI function"), true },
        { "groups", 0, 0, verb_groups, NULL,      0, N_("List IOMMU groups and their members"), true },
        { "vms",    0, 0, verb_vms,    NULL,      0, N_("List running VMs and the devices they hold"), true },
        { "vm",     1, 1, verb_vm,     "NAME|PID", 0, N_("Show one VM and its vCPU threads"), true },
        { "bind",   1, 1, verb_bind,   "ADDRESS",
          VERB_OPTION_GROUP | VERB_OPTION_FORCE | VERB_OPTION_DRY_RUN | VERB_OPTION_DRIVER,
          N_("Hand a PCI function to vfio-pci") },
        { "unbind", 1, 1, verb_unbind, "ADDRESS",
          VERB_OPTION_GROUP | VERB_OPTION_DRY_RUN,
          N_("Give a PCI function back to its own driver") },
        { "check",  0, 0, verb_check,  NULL,      VERB_OPTION_DEVICE,
          N_("Check whether the host is ready for VFIO passthrough"), true },
        { "monitor", 0, 0, verb_monitor, NULL,    0,
          N_("Print devices added, removed and changing driver, and VMs coming and going, as it happens") },
        { "persist", 1, 1, verb_persist, "ADDRESS",
          VERB_OPTION_GROUP | VERB_OPTION_DRY_RUN | VERB_OPTION_NAME | VERB_OPTION_DRIVER | VERB_OPTION_VFS,
          N_("Bind now and after every boot, while the same card is there") },
        { "unpersist", 1, 1, verb_unpersist, "ADDRESS|NAME", 0,
          N_("Forget a persistent assignment (the device stays bound until unbind)") },
        { "persisted", 0, 0, verb_persisted, NULL, 0, N_("List persistent assignments and where each stands"), true },
        { "vfs", 1, 2, verb_vfs, "PF [COUNT]",
          VERB_OPTION_FORCE | VERB_OPTION_DRY_RUN | VERB_OPTION_DRIVER,
          N_("Show an SR-IOV PF's virtual functions, or set how many it has") },
        { "config", 0, 0, verb_config, NULL,
          VERB_OPTION_DEVICE | VERB_OPTION_DEVICES | VERB_OPTION_HUGEPAGES | VERB_OPTION_ISOLATE_CPUS,
          N_("Print the boot-time VFIO setup (kernel command line, modprobe.d, initramfs) to review; writes nothing"),
          true },
        { "help", 0, 1, verb_help, "[COMMAND]", 0, N_("Show this help, or a command's") },
};

static const struct {
        VerbOption flag;
        const char *name;
} verb_option_names[] = {
        { VERB_OPTION_GROUP,   "--group"   },
        { VERB_OPTION_FORCE,   "--force"   },
        { VERB_OPTION_DRY_RUN, "--dry-run" },
        { VERB_OPTION_DEVICE,  "--device"  },
        { VERB_OPTION_NAME,    "--name"    },
        { VERB_OPTION_DRIVER,  "--driver"  },
        { VERB_OPTION_VFS,     "--vfs"     },
        { VERB_OPTION_HUGEPAGES, "--hugepages" },
        { VERB_OPTION_ISOLATE_CPUS, "--isolate-cpus" },
        { VERB_OPTION_CLASS,   "--class"   },
        { VERB_OPTION_TREE,    "--tree"    },
};

/* The verb options' help, for --help and COMMAND -h. */
static const struct {
        VerbOption flag;
        const char *text;
} verb_option_help[] = {
        { VERB_OPTION_GROUP,
          N_("     --group             bind, unbind, persist: every function of the device's\n"
             "                         IOMMU group (bridges excepted), all or nothing\n") },
        { VERB_OPTION_FORCE,
          N_("     --force             bind, vfs: go on although the host uses the device\n"
             "                         (a mounted disk, the default route, the boot\n"
             "                         display); never past a VF a process holds, never\n"
             "                         for a chipset function\n") },
        { VERB_OPTION_DRY_RUN,
          N_("     --dry-run           bind, unbind, persist, vfs: check and report, change\n"
             "                         nothing\n") },
        { VERB_OPTION_NAME,
          N_("     --name NAME         persist: a name for the assignment, accepted\n"
             "                         wherever an ADDRESS is\n") },
        { VERB_OPTION_DRIVER,
          N_("     --driver NAME       bind, persist: the VFIO driver to bind to, vfio-pci\n"
             "                         (the default) or a vfio-pci variant driver that\n"
             "                         supports the device (mlx5_vfio_pci, ...);\n"
             "                         vfs: the driver new VFs come up on, and on\n"
             "                         nothing else (vfio-pci)\n") },
        { VERB_OPTION_VFS,
          N_("     --vfs COUNT         persist: an SR-IOV PF's VF count instead of the\n"
             "                         PF itself: COUNT VFs on --driver (vfio-pci),\n"
             "                         made now and at every boot; the PF keeps its driver\n") },
        { VERB_OPTION_DEVICE,
          N_("     --device ADDRESS    check: also run the checks of this PCI function\n"
             "                         (IOMMU group, reset, boot display, D3cold);\n"
             "                         config: a device to cover (an address or the name\n"
             "                         of a persistent assignment), may be repeated;\n"
             "                         without it, every persisted assignment\n") },
        { VERB_OPTION_HUGEPAGES,
          N_("     --hugepages SIZE:COUNT\n"
             "                         config: huge pages to reserve at boot, SIZE 2M or\n"
             "                         1G (\"1G:16\")\n") },
        { VERB_OPTION_ISOLATE_CPUS,
          N_("     --isolate-cpus LIST config: CPUs to keep for the VMs' vCPUs (\"2-7,10\");\n"
             "                         CPU 0 and one more stay with the host\n") },
        { VERB_OPTION_CLASS,
          N_("     --class CLASS       list: only functions of this class: gpu, network,\n"
             "                         storage, usb, audio, or a class code in hex (\"03\",\n"
             "                         \"0300\", \"030000\")\n") },
        { VERB_OPTION_TREE,
          N_("     --tree              list: as a tree of root ports and bridges, VFs\n"
             "                         under their PF\n") },
};

static CtlOutputSettings arg_output = {};
static bool arg_pager = true;
static bool arg_quiet = false;
static CtlOptions arg_options = {
        .ask_password = true,
};
static unsigned arg_verb_options = 0;   /* VerbOption flags given */
static char **arg_devices = NULL;       /* arg_options.devices, owned here */

static void help(void) {
        printf(_("%s [OPTIONS...] [COMMAND] [ARGS...]\n\n"
               "Query vfiohostd about the host's PCI devices and IOMMU groups, and hand\n"
               "devices to vfio-pci for virtual machines.\n\n"
               "Commands:\n"),
               CTL_PROGRAM_NAME);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];

                snprintf(left, sizeof(left), "%s%s%s", verbs[i].name,
                         verbs[i].args ? " " : "", strempty(verbs[i].args));
                printf("  %-22s %s\n", left, _(verbs[i].help));
        }

        fputs(_("\nOptions:\n"
               "  -h --help              Show this help (after a command: that command's)\n"
               "     --version           Show the version\n"
               "     --json[=MODE]       Print JSON only, errors included, on stdout; MODE\n"
               "                         pretty (the default) or short (one line)\n"
               "     --no-ask-password   Do not ask for a password to authorize a change\n"
               "     --no-pager          Do not pipe long output into a pager\n"
               "     --no-legend         Print no column headers, hints or footers\n"
               "  -l --full              Do not shorten table cells to fit the terminal\n"
               "  -q --quiet             Print nothing on success (errors still go to\n"
               "                         stderr; no effect with --json)\n"
               "     --color=WHEN        Colour the output: auto (default), always, never\n"), stdout);
        for (size_t i = 0; i < ELEMENTSOF(verb_option_help); i++)
                fputs(_(verb_option_help[i].text), stdout);
        fputs(_(
               "\n"
               "ADDRESS is a PCI address, DDDD:BB:DD.F (\"0000:01:00.0\") or BB:DD.F\n"
               "(\"01:00.0\", domain 0000), or the name of a persistent assignment.\n"
               "\n"
               "persist binds as bind does and records the address and the card there\n"
               "(ids, class, serial number): at every boot and re-plug the function goes\n"
               "to vfio-pci again, but only while it is that card. It needs the polkit\n"
               "action org.vfiohost.manage. persisted shows each assignment's state:\n"
               "applied, not-applied, waiting (nothing at the address), mismatch\n"
               "(another card there: left alone) or refused, and why.\n"
               "\n"
               "vfs PF COUNT goes through 0 when the PF has VFs (the kernel refuses N to\n"
               "M) and is refused while a process holds one of them; it needs\n"
               "org.vfiohost.manage.\n"
               "\n"
               "bind and unbind need the polkit actions org.vfiohost.bind and\n"
               "org.vfiohost.unbind (root needs none); on a terminal the password is asked\n"
               "for there. Binding what is on vfio-pci already, or unbinding what is not,\n"
               "changes nothing and succeeds. A refused bind or unbind changes nothing.\n"
               "\n"
               "config prints what a boot-time VFIO setup needs and why, for you to review\n"
               "and apply: vfiohost never edits the boot loader or /etc.\n"
               "\n"
               "check prints each check (PASS, FAIL, WARN, RISK, INFO) by category, what\n"
               "to do about each one that did not pass, and last READY or NOT READY: the\n"
               "host is not ready when a check failed; warnings and risks do not change it.\n"
               "\n"
               "Exit status:\n"
               "  0  success (also when there was nothing to change)\n"
               "  1  failure: bind or unbind refused or failed (GroupNotViable, InUse,\n"
               "     HostCritical, HasVirtualFunctions, VfioUnavailable, Busy, Timeout,\n"
               "     Failed), not authorized\n"
               "     (AccessDenied, InteractiveAuthorizationRequired), an invalid address\n"
               "  2  usage error\n"
               "  3  not found (org.vfiohost.Error.NotFound)\n"
               "  4  vfiohostd unreachable: no system bus, not installed, its start\n"
               "     failed, or no reply (never a NOT READY)\n"
               "  check: 0 ready, 1 not ready (a check failed; or a failure as above),\n"
               "  3 no such --device, 4 unreachable\n"
               "\n"), stdout);
        /* The JSON examples stay as they are: keys and values are the
         * protocol; only the sentences around them are translated. */
        fputs(_("With --json, an error is printed on stdout as\n"), stdout);
        fputs("  {\"error\": {\"name\": \"org.vfiohost.Error.NotFound\", \"message\": \"...\"}}\n", stdout);
        fputs(_("and bind and unbind print what they did (or, with --dry-run, would do) as\n"), stdout);
        fputs("  {\"group\": 2, \"dry_run\": false, \"forced\": [],\n"
               "   \"devices\": [{\"address\": \"0000:01:00.0\", \"previous_driver\": \"nvidia\",\n"
               "                \"driver\": \"vfio-pci\", \"vfio_group_path\": \"/dev/vfio/2\",\n"
               "                \"vfio_device_path\": \"\", \"changed\": true}]}\n", stdout);
        fputs(_("and check prints the verdict and every check, all values strings, as\n"), stdout);
        fputs("  {\"verdict\": \"not-ready\", \"checks\": [{\"id\": \"iommu.kernel\",\n"
               "   \"category\": \"iommu\", \"result\": \"fail\", \"summary\": \"...\",\n"
               "   \"detail\": \"...\", \"remedy\": \"...\", \"source\": \"...\"}]}\n", stdout);
        fputs(_("and config prints the setup, every key always there, as\n"), stdout);
        fputs("  {\"kernel_command_line\": \"intel_iommu=on iommu=pt ...\",\n"
               "   \"kernel_parameters\": [{\"parameter\": \"intel_iommu=on\", \"reason\": \"...\"}],\n"
               "   \"modprobe_d\": \"...\", \"initramfs_tools_modules\": \"...\", \"dracut_conf\": \"...\",\n"
               "   \"devices\": [\"0000:01:00.0\"], \"notes\": [\"...\"]}\n", stdout);
        fputs(_("and monitor prints one object per line and event until interrupted,\n"), stdout);
        fputs("  {\"event\": \"driver-changed\", \"time\": \"...Z\", \"address\": \"0000:01:00.0\",\n"
               "   \"vendor_name\": \"...\", \"device_name\": \"...\", \"iommu_group\": 2,\n"
               "   \"old_driver\": \"nvidia\", \"new_driver\": \"vfio-pci\"}\n", stdout);
        fputs(_("  (\"device-added\" and \"device-removed\" carry \"driver\" instead of the two\n"
               "  drivers; \"daemon-stopped\" and \"daemon-started\" a \"message\").\n"
               "Text output may change between versions; scripts should use --json.\n"
               "On a terminal, long output goes through $SYSTEMD_PAGER or $PAGER (else\n"
               "less with LESS=FRSXMK); \"\" or \"cat\" turns it off, as --no-pager does.\n"
               "Colour follows --color, then SYSTEMD_COLORS, then NO_COLOR.\n"
               "VFIOHOSTCTL_LOG_LEVEL=debug shows what the client does (the polkit agent).\n"), stdout);
}

/* COMMAND -h, help COMMAND. */
static void help_verb(const Verb *v) {
        unsigned flags = v->options & ~VERB_OPTION_DEVICES;

        printf("%s [OPTIONS...] %s%s%s\n\n%s.\n", CTL_PROGRAM_NAME, v->name, v->args ? " " : "",
               strempty(v->args), _(v->help));
        if (flags) {
                fputs(_("\nOptions:\n"), stdout);
                for (size_t i = 0; i < ELEMENTSOF(verb_option_help); i++)
                        if (flags & verb_option_help[i].flag)
                                fputs(_(verb_option_help[i].text), stdout);
        }
        printf(_("\nSee '%s --help' for the options every command takes, exit codes and JSON.\n"),
               CTL_PROGRAM_NAME);
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(name, verbs[i].name) == 0)
                        return &verbs[i];
        return NULL;
}

static int verb_help(sd_bus *bus, int argc, char **argv, const CtlOptions *options) {
        const Verb *v;

        if (argc < 2) {
                help();
                return CTL_EXIT_SUCCESS;
        }
        v = find_verb(argv[1]);
        if (!v)
                return ctl_report_usage("unknown command '%s'; see '%s --help'", argv[1], CTL_PROGRAM_NAME);
        help_verb(v);
        return CTL_EXIT_SUCCESS;
}

static int version(void) {
        if (ctl_output_json()) {
                struct json_object *j = json_object_new_object();

                if (!j || json_object_object_add(j, "version", json_object_new_string(VERSION)) < 0) {
                        json_object_put(j);
                        return ctl_report_errno(-ENOMEM, "failed to build JSON: %m");
                }
                return ctl_json_print(j) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_SUCCESS;
        }

        printf("%s %s\n", CTL_PROGRAM_NAME, VERSION);
        return CTL_EXIT_SUCCESS;
}

/* The option as the user typed it, for a parse error: "--json=x" whole,
 * "-x" for a short one (getopt's optopt is the option's value, which for
 * a long option without a letter is no character at all). */
static char *option_as_typed(char **argv, bool short_option, int c) {
        char *s;

        if (short_option && c > 0 && c < 0x80 && c != '?') {
                if (asprintf(&s, "-%c", c) < 0)
                        return NULL;
                return s;
        }
        return strdup(argv[optind - 1]);
}

static int parse_json_mode(const char *arg) {
        if (!arg || strcmp(arg, "pretty") == 0)
                return CTL_JSON_PRETTY;
        if (strcmp(arg, "short") == 0)
                return CTL_JSON_SHORT;
        return -EINVAL;
}

static int parse_color_mode(const char *arg) {
        if (!arg || strcmp(arg, "auto") == 0)
                return CTL_COLOR_AUTO;
        if (strcmp(arg, "always") == 0 || strcmp(arg, "yes") == 0)
                return CTL_COLOR_ALWAYS;
        if (strcmp(arg, "never") == 0 || strcmp(arg, "no") == 0)
                return CTL_COLOR_NEVER;
        return -EINVAL;
}

/* Returns < 0 to go on to the verb, or the exit code to stop with. Parses
 * every option before reporting a usage error, so that a --json anywhere
 * on the line decides how the error is printed. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_ASK_PASSWORD,
                ARG_NO_PAGER,
                ARG_NO_LEGEND,
                ARG_COLOR,
                ARG_GROUP,
                ARG_FORCE,
                ARG_DRY_RUN,
                ARG_DEVICE,
                ARG_NAME,
                ARG_DRIVER,
                ARG_HUGEPAGES,
                ARG_ISOLATE_CPUS,
                ARG_VFS,
                ARG_CLASS,
                ARG_TREE,
        };
        static const struct option options[] = {
                { "help",            no_argument, NULL, 'h'                 },
                { "version",         no_argument, NULL, ARG_VERSION         },
                { "json",            optional_argument, NULL, ARG_JSON      },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "no-pager",        no_argument, NULL, ARG_NO_PAGER        },
                { "no-legend",       no_argument, NULL, ARG_NO_LEGEND       },
                { "full",            no_argument, NULL, 'l'                 },
                { "quiet",           no_argument, NULL, 'q'                 },
                { "color",           optional_argument, NULL, ARG_COLOR     },
                { "group",           no_argument, NULL, ARG_GROUP           },
                { "force",           no_argument, NULL, ARG_FORCE           },
                { "dry-run",         no_argument, NULL, ARG_DRY_RUN         },
                { "device",          required_argument, NULL, ARG_DEVICE    },
                { "name",            required_argument, NULL, ARG_NAME      },
                { "driver",          required_argument, NULL, ARG_DRIVER    },
                { "hugepages",       required_argument, NULL, ARG_HUGEPAGES },
                { "isolate-cpus",    required_argument, NULL, ARG_ISOLATE_CPUS },
                { "vfs",             required_argument, NULL, ARG_VFS       },
                { "class",           required_argument, NULL, ARG_CLASS     },
                { "tree",            no_argument, NULL, ARG_TREE            },
                {}
        };
        _cleanup_free_ char *bad_option = NULL, *missing_argument = NULL, *bad_value = NULL;
        bool show_help = false, show_version = false;
        int c, long_index;

        /* getopt's own messages would go to stderr in --json mode. */
        opterr = 0;

        /* The leading ':' makes a missing argument ':' rather than '?'. */
        while ((long_index = -1, c = getopt_long(argc, argv, ":hlq", options, &long_index)) >= 0)
                switch (c) {
                case 'h':
                        show_help = true;
                        break;
                case 'l':
                        arg_output.full = true;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                case ARG_VERSION:
                        show_version = true;
                        break;
                case ARG_JSON: {
                        int m = parse_json_mode(optarg);

                        if (m < 0 && !bad_value)
                                (void) asprintf(&bad_value, "--json takes pretty or short, not '%s'", optarg);
                        else if (m >= 0)
                                arg_output.json = m;
                        break;
                }
                case ARG_COLOR: {
                        int m = parse_color_mode(optarg);

                        if (m < 0 && !bad_value)
                                (void) asprintf(&bad_value, "--color takes auto, always or never, not '%s'", optarg);
                        else if (m >= 0)
                                arg_output.color = m;
                        break;
                }
                case ARG_NO_ASK_PASSWORD:
                        arg_options.ask_password = false;
                        break;
                case ARG_NO_PAGER:
                        arg_pager = false;
                        break;
                case ARG_NO_LEGEND:
                        arg_output.no_legend = true;
                        break;
                case ARG_GROUP:
                        arg_options.group = true;
                        arg_verb_options |= VERB_OPTION_GROUP;
                        break;
                case ARG_FORCE:
                        arg_options.force = true;
                        arg_verb_options |= VERB_OPTION_FORCE;
                        break;
                case ARG_DRY_RUN:
                        arg_options.dry_run = true;
                        arg_verb_options |= VERB_OPTION_DRY_RUN;
                        break;
                case ARG_DEVICE:
                        arg_options.device = optarg;
                        if (vh_strv_extend(&arg_devices, optarg) < 0)
                                return ctl_report_errno(-ENOMEM, "failed to allocate memory: %m");
                        arg_options.devices = arg_devices;
                        arg_verb_options |= vh_strv_length(arg_devices) > 1 ? VERB_OPTION_DEVICES : VERB_OPTION_DEVICE;
                        break;
                case ARG_HUGEPAGES:
                        arg_options.hugepages = optarg;
                        arg_verb_options |= VERB_OPTION_HUGEPAGES;
                        break;
                case ARG_ISOLATE_CPUS:
                        arg_options.isolate_cpus = optarg;
                        arg_verb_options |= VERB_OPTION_ISOLATE_CPUS;
                        break;
                case ARG_NAME:
                        arg_options.name = optarg;
                        arg_verb_options |= VERB_OPTION_NAME;
                        break;
                case ARG_DRIVER:
                        arg_options.driver = optarg;
                        arg_verb_options |= VERB_OPTION_DRIVER;
                        break;
                case ARG_VFS:
                        arg_options.vfs = optarg;
                        arg_verb_options |= VERB_OPTION_VFS;
                        break;
                case ARG_CLASS:
                        arg_options.class_filter = optarg;
                        arg_verb_options |= VERB_OPTION_CLASS;
                        break;
                case ARG_TREE:
                        arg_options.tree = true;
                        arg_verb_options |= VERB_OPTION_TREE;
                        break;
                case ':':
                        if (!bad_option && !missing_argument) {
                                missing_argument = option_as_typed(argv, false, optopt);
                                if (!missing_argument)
                                        missing_argument = strdup("?");
                        }
                        break;
                case '?':
                        if (!bad_option) {
                                /* A long option (known with "=value" it takes none, or
                                 * unknown) starts with "--"; a short one may sit in a
                                 * cluster ("-qx"), so it is named by its letter. */
                                bool is_long = optind > 0 && optind <= argc && strncmp(argv[optind - 1], "--", 2) == 0;

                                bad_option = option_as_typed(argv, !is_long, optopt);
                                if (!bad_option)
                                        bad_option = strdup("?");
                        }
                        break;
                default:
                        abort();
                }

        ctl_output_init(&arg_output);

        if (bad_option) {
                const char *eq = strchr(bad_option, '=');

                /* "--group=yes": known, but takes no value. */
                if (eq && strncmp(bad_option, "--", 2) == 0) {
                        for (const struct option *o = options; o->name; o++)
                                if (o->has_arg == no_argument && strlen(o->name) == (size_t) (eq - bad_option - 2) &&
                                    strncmp(o->name, bad_option + 2, strlen(o->name)) == 0)
                                        return ctl_report_usage("option '--%s' takes no value (given '%s'); see '%s --help'",
                                                                o->name, bad_option, CTL_PROGRAM_NAME);
                }
                return ctl_report_usage("unknown option '%s'; see '%s --help'",
                                        bad_option, CTL_PROGRAM_NAME);
        }
        if (missing_argument)
                return ctl_report_usage("option '%s' needs an argument; see '%s --help'",
                                        missing_argument, CTL_PROGRAM_NAME);
        if (bad_value)
                return ctl_report_usage("%s; see '%s --help'", bad_value, CTL_PROGRAM_NAME);
        if (show_help) {
                /* "vfiohostctl bind -h": that command's help. */
                const Verb *v = optind < argc ? find_verb(argv[optind]) : NULL;

                if (v && v->fn != verb_help)
                        help_verb(v);
                else
                        help();
                return CTL_EXIT_SUCCESS;
        }
        if (show_version)
                return version();

        return -1;
}

static int run_verb(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        static char *default_argv[] = { (char *) "status", NULL };
        const Verb *verb = NULL;
        unsigned n_args;
        int r;

        if (argc <= 0) {
                argc = 1;
                argv = default_argv;
        }

        verb = find_verb(argv[0]);
        if (!verb)
                return ctl_report_usage("unknown command '%s'; see '%s --help'",
                                        argv[0], CTL_PROGRAM_NAME);

        n_args = (unsigned) argc - 1;
        if (n_args < verb->min_args)
                return ctl_report_usage("missing argument: usage: %s %s %s",
                                        CTL_PROGRAM_NAME, verb->name, strempty(verb->args));
        if (n_args > verb->max_args)
                return ctl_report_usage("too many arguments for '%s'; see '%s --help'",
                                        verb->name, CTL_PROGRAM_NAME);
        for (size_t i = 0; i < ELEMENTSOF(verb_option_names); i++)
                if ((arg_verb_options & verb_option_names[i].flag) && !(verb->options & verb_option_names[i].flag))
                        return ctl_report_usage("'%s' does not take %s; see '%s --help'",
                                                verb->name, verb_option_names[i].name, CTL_PROGRAM_NAME);
        /* A second --device is never dropped silently. */
        if ((arg_verb_options & VERB_OPTION_DEVICES) && !(verb->options & VERB_OPTION_DEVICES))
                return ctl_report_usage("'%s' takes one --device; see '%s --help'", verb->name, CTL_PROGRAM_NAME);

        if (verb->fn == verb_help)
                return verb_help(NULL, argc, argv, &arg_options);

        /* -q: the result is the exit code; errors still reach stderr. */
        if (arg_quiet && !ctl_output_json() && !freopen("/dev/null", "w", stdout))
                return ctl_report_errno(-errno, "cannot silence the output: %m");
        if (verb->paged && arg_pager && !ctl_output_json()) {
                r = ctl_pager_open();
                if (r < 0)
                        ctl_report_warning("cannot start a pager: %s", strerror(-r));
        }

        r = ctl_bus_connect(arg_options.ask_password, &bus, &error);
        if (r < 0)
                return ctl_report_error(&error);

        return verb->fn(bus, argc, argv, &arg_options);
}

int main(int argc, char *argv[]) {
        const char *e;
        int r;

        /* The user's language for what a person reads (docs/translations.md).
         * Numbers stay C: JSON and anything a script parses must not turn
         * 1.5 into "1,5" in a de_DE session. The daemon never does this:
         * its messages are D-Bus errors. */
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        textdomain(GETTEXT_PACKAGE);

        /* Quiet unless asked: what the user reads is the verb's output. */
        vh_log_set_program(CTL_PROGRAM_NAME);
        vh_log_set_max_level(LOG_WARNING);
        e = getenv("VFIOHOSTCTL_LOG_LEVEL");
        if (e && vh_log_level_from_string(e) >= 0)
                vh_log_set_max_level(vh_log_level_from_string(e));

        r = parse_argv(argc, argv);
        if (r >= 0)
                return r;

        r = run_verb(argc - optind, argv + optind);
        arg_devices = vh_strv_free(arg_devices);
        ctl_pager_close();

        /* A result that did not reach stdout (full disk, closed pipe) is a failure. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (errno != EPIPE)
                        fprintf(stderr, "%s: failed to write output: %m\n", CTL_PROGRAM_NAME);
                return CTL_EXIT_FAILURE;
        }

        return r;
}
