/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vfiohostctl: the command-line client of vfiohostd. It talks D-Bus only;
 * everything it shows comes from the daemon (docs/architecture.md). This
 * file holds main, the global options and the verb table. */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl-output.h"
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
} VerbOption;

typedef struct Verb {
        const char *name;
        unsigned min_args;              /* arguments after the verb */
        unsigned max_args;
        int (*fn)(sd_bus *bus, int argc, char **argv, const CtlOptions *options);
        const char *args;               /* for --help, NULL when none */
        unsigned options;               /* VerbOption flags it accepts */
        const char *help;
} Verb;

/* The first entry is what runs when no verb is given. */
static const Verb verbs[] = {
        { "status", 0, 0, verb_status, NULL,      0, "Show a summary of the host (default)" },
        { "list",   0, 0, verb_list,   NULL,      0, "List PCI functions" },
        { "show",   1, 1, verb_show,   "ADDRESS", 0, "Show every property of one PCI function" },
        { "groups", 0, 0, verb_groups, NULL,      0, "List IOMMU groups and their members" },
        { "vms",    0, 0, verb_vms,    NULL,      0, "List running VMs and the devices they hold" },
        { "vm",     1, 1, verb_vm,     "NAME|PID", 0, "Show one VM and its vCPU threads" },
        { "bind",   1, 1, verb_bind,   "ADDRESS",
          VERB_OPTION_GROUP | VERB_OPTION_FORCE | VERB_OPTION_DRY_RUN | VERB_OPTION_DRIVER,
          "Hand a PCI function to vfio-pci" },
        { "unbind", 1, 1, verb_unbind, "ADDRESS",
          VERB_OPTION_GROUP | VERB_OPTION_DRY_RUN,
          "Give a PCI function back to its own driver" },
        { "check",  0, 0, verb_check,  NULL,      VERB_OPTION_DEVICE,
          "Check whether the host is ready for VFIO passthrough" },
        { "monitor", 0, 0, verb_monitor, NULL,    0, "Print devices added, removed and changing driver, as it happens" },
        { "persist", 1, 1, verb_persist, "ADDRESS",
          VERB_OPTION_GROUP | VERB_OPTION_DRY_RUN | VERB_OPTION_NAME | VERB_OPTION_DRIVER | VERB_OPTION_VFS,
          "Bind now and after every boot, while the same card is there" },
        { "unpersist", 1, 1, verb_unpersist, "ADDRESS|NAME", 0,
          "Forget a persistent assignment (the device stays bound until unbind)" },
        { "persisted", 0, 0, verb_persisted, NULL, 0, "List persistent assignments and where each stands" },
        { "vfs", 1, 2, verb_vfs, "PF [COUNT]",
          VERB_OPTION_FORCE | VERB_OPTION_DRY_RUN | VERB_OPTION_DRIVER,
          "Show an SR-IOV PF's virtual functions, or set how many it has" },
        { "config", 0, 0, verb_config, NULL,
          VERB_OPTION_DEVICE | VERB_OPTION_DEVICES | VERB_OPTION_HUGEPAGES | VERB_OPTION_ISOLATE_CPUS,
          "Print the boot-time VFIO setup (kernel command line, modprobe.d, initramfs) to review; writes nothing" },
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
};

static bool arg_json = false;
static CtlOptions arg_options = {
        .ask_password = true,
};
static unsigned arg_verb_options = 0;   /* VerbOption flags given */
static char **arg_devices = NULL;       /* arg_options.devices, owned here */

static void help(void) {
        printf("%s [OPTIONS...] [COMMAND] [ARGS...]\n\n"
               "Query vfiohostd about the host's PCI devices and IOMMU groups, and hand\n"
               "devices to vfio-pci for virtual machines.\n\n"
               "Commands:\n",
               CTL_PROGRAM_NAME);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];

                snprintf(left, sizeof(left), "%s%s%s", verbs[i].name,
                         verbs[i].args ? " " : "", strempty(verbs[i].args));
                printf("  %-22s %s\n", left, verbs[i].help);
        }

        printf("\nOptions:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --json              Print JSON only, errors included, on stdout\n"
               "     --no-ask-password   Do not ask for a password to authorize a change\n"
               "     --group             bind, unbind: every function of the device's IOMMU\n"
               "                         group (bridges excepted), all or nothing\n"
               "     --force             bind, vfs: go on although the host uses the device\n"
               "                         (a mounted disk, the default route, the boot\n"
               "                         display); never past a VF a process holds\n"
               "     --dry-run           bind, unbind, vfs: check and report, change nothing\n"
               "     --name NAME         persist: a name for the assignment, accepted\n"
               "                         wherever an ADDRESS is\n"
               "     --driver NAME       bind, persist: the VFIO driver to bind to, vfio-pci\n"
               "                         (the default) or a vfio-pci variant driver that\n"
               "                         supports the device (mlx5_vfio_pci, ...);\n"
               "                         vfs: the driver new VFs come up on, and on\n"
               "                         nothing else (vfio-pci)\n"
               "     --vfs COUNT         persist: an SR-IOV PF's VF count instead of the\n"
               "                         PF itself: COUNT VFs on --driver (vfio-pci),\n"
               "                         made now and at every boot; the PF keeps its driver\n"
               "     --device ADDRESS    check: also run the checks of this PCI function\n"
               "                         (IOMMU group, reset, boot display, D3cold);\n"
               "                         config: a device to cover (an address or the name\n"
               "                         of a persistent assignment), may be repeated;\n"
               "                         without it, every persisted assignment\n"
               "     --hugepages SIZE:COUNT\n"
               "                         config: huge pages to reserve at boot, SIZE 2M or\n"
               "                         1G (\"1G:16\")\n"
               "     --isolate-cpus LIST config: CPUs to keep for the VMs' vCPUs (\"2-7,10\");\n"
               "                         CPU 0 and one more stay with the host\n"
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
               "     (AccessDenied, InteractiveAuthorizationRequired), an invalid address,\n"
               "     vfiohostd unreachable\n"
               "  2  usage error\n"
               "  3  not found (org.vfiohost.Error.NotFound)\n"
               "  check: 0 ready, 1 not ready (a check failed; or a failure as above),\n"
               "  3 no such --device\n"
               "\n"
               "With --json, an error is printed on stdout as\n"
               "  {\"error\": {\"name\": \"org.vfiohost.Error.NotFound\", \"message\": \"...\"}}\n"
               "and bind and unbind print what they did (or, with --dry-run, would do) as\n"
               "  {\"group\": 2, \"dry_run\": false, \"forced\": [],\n"
               "   \"devices\": [{\"address\": \"0000:01:00.0\", \"previous_driver\": \"nvidia\",\n"
               "                \"driver\": \"vfio-pci\", \"vfio_group_path\": \"/dev/vfio/2\",\n"
               "                \"vfio_device_path\": \"\", \"changed\": true}]}\n"
               "and check prints the verdict and every check, all values strings, as\n"
               "  {\"verdict\": \"not-ready\", \"checks\": [{\"id\": \"iommu.kernel\",\n"
               "   \"category\": \"iommu\", \"result\": \"fail\", \"summary\": \"...\",\n"
               "   \"detail\": \"...\", \"remedy\": \"...\", \"source\": \"...\"}]}\n"
               "and config prints the setup, every key always there, as\n"
               "  {\"kernel_command_line\": \"intel_iommu=on iommu=pt ...\",\n"
               "   \"kernel_parameters\": [{\"parameter\": \"intel_iommu=on\", \"reason\": \"...\"}],\n"
               "   \"modprobe_d\": \"...\", \"initramfs_tools_modules\": \"...\", \"dracut_conf\": \"...\",\n"
               "   \"devices\": [\"0000:01:00.0\"], \"notes\": [\"...\"]}\n"
               "and monitor prints one object per line and event until interrupted,\n"
               "  {\"event\": \"driver-changed\", \"time\": \"...Z\", \"address\": \"0000:01:00.0\",\n"
               "   \"vendor_name\": \"...\", \"device_name\": \"...\", \"iommu_group\": 2,\n"
               "   \"old_driver\": \"nvidia\", \"new_driver\": \"vfio-pci\"}\n"
               "  (\"device-added\" and \"device-removed\" carry \"driver\" instead of the two\n"
               "  drivers; \"daemon-stopped\" and \"daemon-started\" a \"message\").\n"
               "Text output may change between versions; scripts should use --json.\n"
               "VFIOHOSTCTL_LOG_LEVEL=debug shows what the client does (the polkit agent).\n");
}

static int version(void) {
        if (arg_json) {
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

/* Returns < 0 to go on to the verb, or the exit code to stop with. Parses
 * every option before reporting a usage error, so that a --json anywhere
 * on the line decides how the error is printed. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_ASK_PASSWORD,
                ARG_GROUP,
                ARG_FORCE,
                ARG_DRY_RUN,
                ARG_DEVICE,
                ARG_NAME,
                ARG_DRIVER,
                ARG_HUGEPAGES,
                ARG_ISOLATE_CPUS,
                ARG_VFS,
        };
        static const struct option options[] = {
                { "help",            no_argument, NULL, 'h'                 },
                { "version",         no_argument, NULL, ARG_VERSION         },
                { "json",            no_argument, NULL, ARG_JSON            },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "group",           no_argument, NULL, ARG_GROUP           },
                { "force",           no_argument, NULL, ARG_FORCE           },
                { "dry-run",         no_argument, NULL, ARG_DRY_RUN         },
                { "device",          required_argument, NULL, ARG_DEVICE    },
                { "name",            required_argument, NULL, ARG_NAME      },
                { "driver",          required_argument, NULL, ARG_DRIVER    },
                { "hugepages",       required_argument, NULL, ARG_HUGEPAGES },
                { "isolate-cpus",    required_argument, NULL, ARG_ISOLATE_CPUS },
                { "vfs",             required_argument, NULL, ARG_VFS       },
                {}
        };
        _cleanup_free_ char *bad_option = NULL, *missing_argument = NULL;
        bool show_help = false, show_version = false;
        int c;

        /* getopt's own messages would go to stderr in --json mode. */
        opterr = 0;

        /* The leading ':' makes a missing argument ':' rather than '?'. */
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        show_help = true;
                        break;
                case ARG_VERSION:
                        show_version = true;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg_options.ask_password = false;
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
                case ':':
                        /* Only long options take arguments: argv names the one. */
                        if (!bad_option && !missing_argument) {
                                missing_argument = strdup(argv[optind - 1]);
                                if (!missing_argument)
                                        missing_argument = strdup("?");
                        }
                        break;
                case '?':
                        if (!bad_option) {
                                if (optopt != 0)
                                        (void) asprintf(&bad_option, "-%c", optopt);
                                else
                                        bad_option = strdup(argv[optind - 1]);
                                if (!bad_option)
                                        bad_option = strdup("?");
                        }
                        break;
                default:
                        abort();
                }

        ctl_output_init(arg_json);

        if (bad_option)
                return ctl_report_usage("unknown option '%s'; see '%s --help'",
                                        bad_option, CTL_PROGRAM_NAME);
        if (missing_argument)
                return ctl_report_usage("option '%s' needs an argument; see '%s --help'",
                                        missing_argument, CTL_PROGRAM_NAME);
        if (show_help) {
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

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[0], verbs[i].name) == 0) {
                        verb = &verbs[i];
                        break;
                }
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

        r = ctl_bus_connect(arg_options.ask_password, &bus, &error);
        if (r < 0)
                return ctl_report_error(&error);

        return verb->fn(bus, argc, argv, &arg_options);
}

int main(int argc, char *argv[]) {
        const char *e;
        int r;

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

        /* A result that did not reach stdout (full disk, closed pipe) is a failure. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (errno != EPIPE)
                        fprintf(stderr, "%s: failed to write output: %m\n", CTL_PROGRAM_NAME);
                return CTL_EXIT_FAILURE;
        }

        return r;
}
