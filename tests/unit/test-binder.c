/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-binder: planning (every refusal with its error code and a message that
 * names the blocker, force for host-critical only, no-op and dry-run plans)
 * on copies of the fixture hosts, which must stay byte for byte unchanged
 * by every refusal; and execution in a copy with faults injected into the
 * sysfs writes (an EIO, a write that never returns), which must roll back
 * and leave no journal entries behind.
 *
 * A successful bind cannot be verified here: without a kernel nothing moves
 * the driver link. That is the bus tests' job, with their fake kernel. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vh-binder.h"
#include "vh-host.h"
#include "vh-hostfs.h"
#include "vh-journal.h"
#include "vh-pci-names.h"
#include "vh-strv.h"
#include "vh-unit.h"
#include "vh-vfio-driver.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhBindPlan, vh_bind_plan_free)

#define BIND   VH_BIND_VERB_BIND
#define UNBIND VH_BIND_VERB_UNBIND

/* Write timeout for the ordinary tests; the hang test sets its own. */
#define WRITE_TIMEOUT_USEC (5 * G_USEC_PER_SEC)

typedef struct {
        char *copy;
        bool shared;                    /* a copy shared by the tests that only plan */
        VhHostFs *fs;
        VhPciNames *names;
        VhHost *host;
        VhBinder *binder;
        GPtrArray *before;              /* content, compared at teardown */
        GPtrArray *before_meta;         /* metadata, compared after every call */
        enum {
                CHANGES_NONE,           /* the tree stays byte for byte as it was */
                CHANGES_STATE,          /* vfiohostd's state directory may appear */
                CHANGES_SYSFS,          /* fixture attributes keep what was written */
        } changes;
} Fixture;

static double timeout_multiplier(void) {
        const char *m = g_getenv("VH_TEST_TIMEOUT_MULTIPLIER");
        double v = m ? g_ascii_strtod(m, NULL) : 1.0;

        return v >= 1.0 ? v : 1.0;
}

static void open_binder(Fixture *f, uint64_t write_timeout_usec) {
        vh_binder_free(f->binder);
        f->binder = NULL;
        g_assert_cmpint(vh_binder_new(f->fs, VH_JOURNAL_DEFAULT_DIR, write_timeout_usec, &f->binder), ==, 0);
}

static void load_host(Fixture *f) {
        vh_host_free(f->host);
        f->host = NULL;
        g_assert_cmpint(vh_host_load(f->fs, f->names, &f->host), ==, 0);
}

/* Takes the snapshots every later check compares with. */
static void snapshot(Fixture *f) {
        if (f->before)
                g_ptr_array_unref(f->before);
        if (f->before_meta)
                g_ptr_array_unref(f->before_meta);
        f->before = vh_unit_snapshot(f->copy);
        f->before_meta = vh_unit_snapshot_meta(f->copy);
}

/* The content snapshot of a fresh copy is the fixture's own: taken once
 * per host from tests/data (reading every file of a tree is what makes
 * these tests slow on a busy disk). */
static GPtrArray *pristine_snapshot(const char *host) {
        static GHashTable *cache;
        GPtrArray *s;

        if (!cache)
                cache = g_hash_table_new(g_str_hash, g_str_equal);
        s = g_hash_table_lookup(cache, host);
        if (!s) {
                g_autofree char *dir = vh_unit_host_dir(host);

                s = vh_unit_snapshot(dir);
                g_hash_table_insert(cache, (char *) host, s);
        }
        return g_ptr_array_ref(s);
}

static void open_copy(Fixture *f) {
        /* writable on purpose: a refusal that wrote anyway must show */
        g_assert_cmpint(vh_hostfs_new(f->copy, &f->fs), ==, 0);
        g_assert_false(vh_hostfs_is_host_root(f->fs));
        g_assert_cmpint(vh_pci_names_new(f->fs, &f->names), ==, 0);
        load_host(f);
        open_binder(f, WRITE_TIMEOUT_USEC);
}

/* A copy of its own, for tests that edit it or execute. */
static void fixture_setup_copy(Fixture *f, gconstpointer data) {
        f->copy = vh_unit_copy_host(data);
        open_copy(f);
        f->before = pristine_snapshot(data);
        f->before_meta = vh_unit_snapshot_meta(f->copy);
}

/* Tests that only plan share one copy per host: every call is checked to
 * have written nothing, and main() compares the contents at the end. */
static GHashTable *shared_copies;       /* host -> copy */

static void fixture_setup(Fixture *f, gconstpointer data) {
        char *copy;

        if (!shared_copies)
                shared_copies = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        copy = g_hash_table_lookup(shared_copies, data);
        if (!copy) {
                copy = vh_unit_copy_host(data);
                g_hash_table_insert(shared_copies, (char *) data, copy);
        }
        f->copy = g_strdup(copy);
        f->shared = true;
        open_copy(f);
        f->before = pristine_snapshot(data);
        f->before_meta = vh_unit_snapshot_meta(f->copy);
}

static void shared_copies_check_and_remove(void) {
        GHashTableIter i;
        gpointer host, copy;

        if (!shared_copies)
                return;
        g_hash_table_iter_init(&i, shared_copies);
        while (g_hash_table_iter_next(&i, &host, &copy)) {
                g_autoptr(GPtrArray) pristine = pristine_snapshot(host);

                vh_unit_assert_tree_unchanged(copy, pristine);
                vh_unit_remove_copy(copy);
        }
        g_hash_table_unref(shared_copies);
        shared_copies = NULL;
}

static void assert_unchanged_but_state(Fixture *f);
static void assert_unchanged(Fixture *f);

static void fixture_teardown(Fixture *f, gconstpointer data) {
        /* byte for byte what it was, file contents and link targets (a
         * shared copy at the end of the program) */
        if (f->changes == CHANGES_NONE && !f->shared)
                vh_unit_assert_tree_unchanged(f->copy, f->before);
        else if (f->changes == CHANGES_STATE)
                assert_unchanged_but_state(f);
        if (f->changes == CHANGES_NONE)
                assert_unchanged(f);
        g_ptr_array_unref(f->before);
        g_ptr_array_unref(f->before_meta);
        vh_binder_free(f->binder);
        vh_host_free(f->host);
        vh_pci_names_free(f->names);
        vh_hostfs_free(f->fs);
        if (!f->shared)
                vh_unit_remove_copy(f->copy);
        g_free(f->copy);
}

/* Not a single write since the snapshot (teardown compares contents). */
static void assert_unchanged(Fixture *f) {
        vh_unit_assert_tree_untouched(f->copy, f->before_meta);
}

static const char *code_name(VhErrorCode c) {
        static const char *const names[_VH_ERROR_CODE_MAX] = {
                [VH_ERROR_CODE_NONE] = "none",
                [VH_ERROR_CODE_INVALID_ADDRESS] = "InvalidAddress",
                [VH_ERROR_CODE_INVALID_ARGS] = "InvalidArgs",
                [VH_ERROR_CODE_NOT_FOUND] = "NotFound",
                [VH_ERROR_CODE_GROUP_NOT_VIABLE] = "GroupNotViable",
                [VH_ERROR_CODE_IN_USE] = "InUse",
                [VH_ERROR_CODE_HOST_CRITICAL] = "HostCritical",
                [VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS] = "HasVirtualFunctions",
                [VH_ERROR_CODE_VFIO_UNAVAILABLE] = "VfioUnavailable",
                [VH_ERROR_CODE_BUSY] = "Busy",
                [VH_ERROR_CODE_TIMEOUT] = "Timeout",
                [VH_ERROR_CODE_FAILED] = "Failed",
        };

        return c < _VH_ERROR_CODE_MAX ? names[c] : "?";
}

typedef struct {
        bool group, force, dry_run;
        const char *driver;
} Opts;

#define NEEDLES(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* A refused plan: the code, a message naming every needle, no plan, and
 * the tree exactly as it was. */
static void refused(Fixture *f, VhBindVerb verb, const char *address, Opts o, VhErrorCode code,
                    const char *const *needles) {
        VhBindOptions options = { .group = o.group, .force = o.force, .dry_run = o.dry_run, .driver = o.driver };
        VhError e = VH_ERROR_NULL;
        VhBindPlan *p = NULL;
        int r;

        r = vh_binder_plan(f->binder, f->host, verb, address, &options, &p, &e);
        /* Holders are checked apart (off the loop in the daemon). */
        if (r >= 0) {
                r = vh_binder_check_holders(f->binder, p, &e);
                p = vh_bind_plan_free(p);
        }
        if (r >= 0)
                g_error("%s %s (group=%d force=%d): planned, expected %s", verb == BIND ? "bind" : "unbind",
                        address, o.group, o.force, code_name(code));
        g_assert_null(p);
        g_assert_true(vh_error_is_set(&e));
        g_assert_nonnull(e.message);
        g_test_message("%s %s%s%s: %s: %s", verb == BIND ? "bind" : "unbind", address, o.group ? " group" : "",
                       o.force ? " force" : "", code_name(e.code), e.message);
        if (e.code != code)
                g_error("%s: %s (%s), expected %s", address, code_name(e.code), e.message, code_name(code));
        g_assert_cmpint(r, ==, vh_error_code_to_errno(code));
        for (size_t i = 0; needles && needles[i]; i++)
                if (!strstr(e.message, needles[i]))
                        g_error("%s: message '%s' does not mention '%s'", address, e.message, needles[i]);
        vh_error_clear(&e);
        assert_unchanged(f);
}

static VhBindPlan *planned(Fixture *f, VhBindVerb verb, const char *address, Opts o) {
        VhBindOptions options = { .group = o.group, .force = o.force, .dry_run = o.dry_run, .driver = o.driver };
        VhError e = VH_ERROR_NULL;
        VhBindPlan *p = NULL;
        int r;

        r = vh_binder_plan(f->binder, f->host, verb, address, &options, &p, &e);
        if (r < 0)
                g_error("%s %s (group=%d force=%d): refused with %s: %s", verb == BIND ? "bind" : "unbind",
                        address, o.group, o.force, code_name(e.code), e.message);
        g_assert_false(vh_error_is_set(&e));
        g_assert_nonnull(p);
        g_assert_cmpint(p->verb, ==, verb);
        g_assert_cmpint(p->options.group, ==, o.group);
        g_assert_cmpint(p->options.force, ==, o.force);
        g_assert_cmpint(p->options.dry_run, ==, o.dry_run);
        assert_unchanged(f);
        return p;
}

static const VhBindTarget *target(const VhBindPlan *p, const char *address) {
        for (size_t i = 0; i < p->n_targets; i++)
                if (g_str_equal(p->targets[i].address, address))
                        return &p->targets[i];
        g_error("plan has no target %s", address);
        return NULL;
}

static char *targets_of(const VhBindPlan *p) {
        g_autoptr(GPtrArray) a = g_ptr_array_new();

        for (size_t i = 0; i < p->n_targets; i++)
                g_ptr_array_add(a, (char *) p->targets[i].address);
        g_ptr_array_add(a, NULL);
        return g_strjoinv(" ", (char **) a->pdata);
}

static size_t n_forced(const VhBindPlan *p) {
        return p->forced ? vh_strv_length(p->forced) : 0;
}

static char *driver_link(Fixture *f, const char *address) {
        g_autofree char *rel = g_build_filename("sys/bus/pci/devices", address, "driver", NULL);
        g_autofree char *path = g_build_filename(f->copy, rel, NULL);
        char *target = g_file_read_link(path, NULL);

        return target;
}

/* A check whose failure is reported without ending the test program, for
 * outcomes a broken implementation reaches without crashing the test
 * (meson runs the unit tests with --keep-going). */
#define CHECK(cond, ...)                                                        \
        do {                                                                    \
                if (!(cond)) {                                                  \
                        g_autofree char *_m = g_strdup_printf(__VA_ARGS__);     \
                        g_test_message("FAILED %s:%d: %s", __FILE__, __LINE__, _m); \
                        g_test_fail_printf("%s:%d: %s", __FILE__, __LINE__, _m); \
                }                                                               \
        } while (0)

/* The journal on disk (empty when absent) and in the binder must both be
 * empty; reports what each holds otherwise. */
static void check_journal_empty(Fixture *f) {
        VhJournal *j = NULL;
        size_t on_disk, in_memory;

        g_assert_cmpint(vh_journal_load(f->fs, VH_JOURNAL_DEFAULT_DIR, &j), ==, 0);
        on_disk = j->n_entries;
        vh_journal_free(j);
        pthread_mutex_lock(&f->binder->lock);
        in_memory = f->binder->journal->n_entries;
        pthread_mutex_unlock(&f->binder->lock);
        CHECK(on_disk == 0 && in_memory == 0,
              "journal not empty afterwards: %zu entries on disk, %zu in the binder", on_disk, in_memory);
}

/* ---- refusals */

static void test_invalid_address(Fixture *f, gconstpointer data) {
        static const char *const bad[] = {
                "", "01:00.0", "0000:01:00", "0000:01:00.0 ", " 0000:01:00.0", "0000:01:00.8", "0000:01:20.0",
                "zzzz:01:00.0", "0000:01:00.0/../../../..", "../../../sys/bus/pci/devices/0000:01:00.0",
                "0000:01:00.0\n", "00000:01:00.0",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                refused(f, BIND, bad[i], (Opts) {}, VH_ERROR_CODE_INVALID_ADDRESS, NEEDLES("DDDD:BB:DD.F"));
                refused(f, UNBIND, bad[i], (Opts) { .group = true }, VH_ERROR_CODE_INVALID_ADDRESS, NEEDLES("not a PCI address"));
                refused(f, BIND, bad[i], (Opts) { .force = true }, VH_ERROR_CODE_INVALID_ADDRESS, NULL);
        }
        refused(f, BIND, "0000:01:00.Q", (Opts) {}, VH_ERROR_CODE_INVALID_ADDRESS, NEEDLES("'0000:01:00.Q'"));
}

static void test_not_found(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:09:00.0", (Opts) {}, VH_ERROR_CODE_NOT_FOUND, NEEDLES("0000:09:00.0"));
        refused(f, UNBIND, "0000:09:00.0", (Opts) {}, VH_ERROR_CODE_NOT_FOUND, NEEDLES("0000:09:00.0"));
        refused(f, BIND, "0001:01:00.0", (Opts) { .group = true, .force = true }, VH_ERROR_CODE_NOT_FOUND, NULL);
        /* named in canonical form */
        refused(f, BIND, "0000:0A:00.0", (Opts) {}, VH_ERROR_CODE_NOT_FOUND, NEEDLES("0000:0a:00.0"));
        /* upper case of a present function is that function */
        {
                g_autoptr(VhBindPlan) p = NULL;

                p = planned(f, UNBIND, "0000:00:1F.0", (Opts) {});
                g_assert_cmpstr(p->address, ==, "0000:00:1f.0");
                g_assert_true(vh_bind_plan_is_noop(p));
        }
}

/* desktop-intel: the RTX 4090 alone leaves its HDMI audio on
 * snd_hda_intel; the RX 7900 XTX shares group 5 with its audio, the I225-V
 * and the ports; the LPC bridge shares the chipset group. */
static void test_group_not_viable(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:01:00.0", (Opts) {}, VH_ERROR_CODE_GROUP_NOT_VIABLE,
                NEEDLES("0000:01:00.1", "snd_hda_intel", "group 2", "--group"));
        refused(f, BIND, "0000:01:00.1", (Opts) {}, VH_ERROR_CODE_GROUP_NOT_VIABLE,
                NEEDLES("0000:01:00.0", "nvidia", "--group"));
        refused(f, BIND, "0000:05:00.0", (Opts) {}, VH_ERROR_CODE_GROUP_NOT_VIABLE,
                NEEDLES("0000:05:00.1", "group 5"));
        refused(f, BIND, "0000:06:00.0", (Opts) {}, VH_ERROR_CODE_GROUP_NOT_VIABLE, NEEDLES("0000:05:00.0", "amdgpu"));
        refused(f, BIND, "0000:00:1f.0", (Opts) {}, VH_ERROR_CODE_GROUP_NOT_VIABLE, NEEDLES("0000:00:1f.3"));
        refused(f, BIND, "0000:00:1f.3", (Opts) {}, VH_ERROR_CODE_GROUP_NOT_VIABLE, NEEDLES("0000:00:1f.0", "lpc_ich"));
        /* force is for host-critical refusals only */
        refused(f, BIND, "0000:01:00.0", (Opts) { .force = true }, VH_ERROR_CODE_GROUP_NOT_VIABLE, NEEDLES("0000:01:00.1"));
        refused(f, BIND, "0000:05:00.0", (Opts) { .force = true, .dry_run = true }, VH_ERROR_CODE_GROUP_NOT_VIABLE, NULL);
        /* the host bridge is alone in its group, but a chipset function */
        refused(f, BIND, "0000:00:00.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("chipset", "igen6_edac"));
}

static void test_in_use_bind(Fixture *f, gconstpointer data) {
        /* server-sriov: gdm's Xorg has the ASPEED open; its group (with the
         * driverless AST1150 bridge) is viable, it is no host-critical
         * device (no framebuffer) */
        refused(f, BIND, "0000:02:00.0", (Opts) {}, VH_ERROR_CODE_IN_USE,
                NEEDLES("pid 2201 (Xorg) holds /dev/dri/card0", "0000:02:00.0"));
        refused(f, BIND, "0000:02:00.0", (Opts) { .group = true }, VH_ERROR_CODE_IN_USE, NEEDLES("pid 2201 (Xorg)"));
        /* force never overrides it */
        refused(f, BIND, "0000:02:00.0", (Opts) { .force = true }, VH_ERROR_CODE_IN_USE, NEEDLES("pid 2201 (Xorg)"));
        refused(f, BIND, "0000:02:00.0", (Opts) { .force = true, .dry_run = true }, VH_ERROR_CODE_IN_USE, NULL);
}

/* desktop-vfio-bound: QEMU has /dev/vfio/2 open. */
static void test_in_use_unbind(Fixture *f, gconstpointer data) {
        refused(f, UNBIND, "0000:01:00.0", (Opts) {}, VH_ERROR_CODE_IN_USE,
                NEEDLES("pid 3456 (qemu-system-x86, VM win11) holds /dev/vfio/2"));
        refused(f, UNBIND, "0000:01:00.1", (Opts) {}, VH_ERROR_CODE_IN_USE, NEEDLES("qemu-system-x86", "/dev/vfio/2"));
        refused(f, UNBIND, "0000:01:00.0", (Opts) { .group = true }, VH_ERROR_CODE_IN_USE, NEEDLES("pid 3456"));
        refused(f, UNBIND, "0000:01:00.0", (Opts) { .force = true }, VH_ERROR_CODE_IN_USE, NEEDLES("pid 3456"));
        refused(f, UNBIND, "0000:01:00.0", (Opts) { .dry_run = true }, VH_ERROR_CODE_IN_USE, NULL);
        /* the displays are in use too, and host-critical first */
        refused(f, BIND, "0000:00:02.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("i915drmfb"));
        refused(f, BIND, "0000:00:02.0", (Opts) { .force = true }, VH_ERROR_CODE_IN_USE,
                NEEDLES("pid 1402 (gnome-shell)", "pid 1650 (Xwayland)"));
}

static void test_host_critical_desktop(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:02:00.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:02:00.0", "mounted on / ", "/dev/nvme0n1p2", "force"));
        refused(f, BIND, "0000:02:00.0", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("/dev/nvme0n1p2"));
        refused(f, BIND, "0000:02:00.0", (Opts) { .dry_run = true }, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("/dev/nvme0n1p2"));
        refused(f, BIND, "0000:00:02.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("boot VGA", "i915drmfb"));
        /* the NIC with the default route, reached through the group */
        refused(f, BIND, "0000:06:00.0", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("default route", "enp6s0"));
        refused(f, BIND, "0000:05:00.0", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:06:00.0 (in the same IOMMU group)", "enp6s0"));
        /* the chipset group: the LPC/ISA bridge on lpc_ich */
        refused(f, BIND, "0000:00:1f.3", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:00:1f.0", "chipset", "lpc_ich"));
}

static void test_host_critical_server(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:af:00.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("mounted on / ", "/dev/mapper/rhel-root"));
        refused(f, BIND, "0000:3b:00.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("default route", "bond0"));
        refused(f, BIND, "0000:3b:00.1", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("bond0"));
}

/* A chipset function is host-critical whether or not a driver is bound:
 * server-sriov's LPC bridge 00:1f.0 has none, its SMBus 00:1f.4 is on
 * i801_smbus; amd-desktop's ISA bridge 00:14.3 has none either. */
static void test_host_critical_chipset_driverless(Fixture *f, gconstpointer data) {
        if (strcmp(data, "server-sriov") == 0) {
                refused(f, BIND, "0000:00:1f.4", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL,
                        NEEDLES("0000:00:1f.0 is a chipset function", "no driver bound", "cannot be passed through safely"));
                refused(f, BIND, "0000:00:1f.4", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL,
                        NEEDLES("0000:00:1f.4 is a chipset function", "i801_smbus"));
        } else {
                refused(f, BIND, "0000:00:14.0", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL,
                        NEEDLES("0000:00:14.0 is a chipset function", "SMBus"));
        }
}

/* force is still the way past it, and says what it overrode. */
static void test_force_chipset_driverless(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = planned(f, BIND, "0000:00:1f.4", (Opts) { .group = true, .force = true });

        g_assert_cmpuint(p->n_targets, ==, 2);
        g_assert_cmpuint(n_forced(p), ==, 2);
        g_assert_nonnull(strstr(p->forced[0], "0000:00:1f.0 is a chipset function"));
        g_assert_nonnull(strstr(p->forced[1], "0000:00:1f.4 is a chipset function"));
}

static void test_host_critical_bridge(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:06:00.0", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("br0"));
}

/* Behind VMD: the disk has no group of its own; the VMD endpoint backs /. */
static void test_host_critical_vmd(Fixture *f, gconstpointer data) {
        refused(f, BIND, "10000:e1:00.0", (Opts) {}, VH_ERROR_CODE_VFIO_UNAVAILABLE, NEEDLES("10000:e1:00.0", "no IOMMU group"));
        refused(f, BIND, "10000:E1:00.0", (Opts) { .group = true, .force = true }, VH_ERROR_CODE_VFIO_UNAVAILABLE, NULL);
        refused(f, BIND, "10000:e0:06.0", (Opts) {}, VH_ERROR_CODE_VFIO_UNAVAILABLE, NULL);
        refused(f, BIND, "0000:00:0e.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:00:0e.0", "mounted on / ", "/dev/nvme0n1p2"));
        refused(f, BIND, "10001:e1:00.0", (Opts) {}, VH_ERROR_CODE_NOT_FOUND, NEEDLES("10001:e1:00.0"));
}

static void test_host_critical_amd(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:04:00.0", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("amdgpudrmfb"));
        refused(f, BIND, "0000:04:00.1", (Opts) { .group = true }, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:04:00.0", "amdgpudrmfb"));
        refused(f, BIND, "0000:01:00.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("/dev/nvme0n1p2"));
        /* forced past the framebuffer, GNOME still has the card open */
        refused(f, BIND, "0000:04:00.0", (Opts) { .group = true, .force = true }, VH_ERROR_CODE_IN_USE,
                NEEDLES("pid 1890 (gnome-shell) holds /dev/dri/card0"));
}

/* force turns host-critical refusals into plans that list what was
 * overridden; nothing else. */
static void test_force(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) nvme = NULL, chipset = NULL, plain = NULL;
        const VhBindTarget *t;

        nvme = planned(f, BIND, "0000:02:00.0", (Opts) { .force = true });
        g_assert_cmpuint(nvme->n_targets, ==, 1);
        g_assert_cmpuint(nvme->group, ==, 7);
        g_assert_false(vh_bind_plan_is_noop(nvme));
        t = target(nvme, "0000:02:00.0");
        g_assert_cmpstr(t->driver_before, ==, "nvme");
        g_assert_cmpstr(t->original_driver, ==, "nvme");
        g_assert_true(t->original_known);
        g_assert_false(t->noop);
        g_assert_null(t->driver_after);
        g_assert_cmpuint(n_forced(nvme), ==, 1);
        g_assert_nonnull(strstr(nvme->forced[0], "/dev/nvme0n1p2"));

        chipset = planned(f, BIND, "0000:00:1f.0", (Opts) { .group = true, .force = true });
        {
                g_autofree char *all = targets_of(chipset);
                g_assert_cmpstr(all, ==, "0000:00:1f.0 0000:00:1f.3 0000:00:1f.4 0000:00:1f.5");
        }
        g_assert_cmpuint(n_forced(chipset), >=, 1);
        g_assert_nonnull(strstr(chipset->forced[0], "chipset"));

        /* a plan that needed no force has nothing forced */
        plain = planned(f, BIND, "0000:01:00.0", (Opts) { .group = true, .force = true });
        g_assert_cmpuint(n_forced(plain), ==, 0);

        /* force past the framebuffer and the default route, not past users */
        refused(f, BIND, "0000:00:02.0", (Opts) { .force = true }, VH_ERROR_CODE_IN_USE,
                NEEDLES("pid 1234 (Xorg) holds /dev/dri/card0", "pid 2310 (firefox) holds /dev/dri/renderD128"));
        refused(f, BIND, "0000:05:00.0", (Opts) { .group = true, .force = true }, VH_ERROR_CODE_IN_USE,
                NEEDLES("pid 1234 (Xorg) holds /dev/dri/card1"));
        /* nor past viability, nor past a bridge */
        refused(f, BIND, "0000:05:00.0", (Opts) { .force = true }, VH_ERROR_CODE_GROUP_NOT_VIABLE, NULL);
        refused(f, BIND, "0000:00:01.0", (Opts) { .force = true }, VH_ERROR_CODE_INVALID_ARGS, NULL);
}

static void test_force_server(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) nvme = NULL, nic = NULL;

        nvme = planned(f, BIND, "0000:af:00.0", (Opts) { .force = true });
        g_assert_cmpuint(n_forced(nvme), ==, 1);
        g_assert_nonnull(strstr(nvme->forced[0], "/dev/mapper/rhel-root"));
        nic = planned(f, BIND, "0000:3b:00.0", (Opts) { .force = true, .dry_run = true });
        /* the default route, and its two VFs, which the bind removes */
        g_assert_cmpuint(n_forced(nic), ==, 2);
        g_assert_nonnull(strstr(nic->forced[0], "bond0"));
        g_assert_nonnull(strstr(nic->forced[1], "2 virtual functions"));
        g_assert_cmpstr(target(nic, "0000:3b:00.0")->driver_after, ==, "vfio-pci");
}

/* no-iommu: no group, and no VFIO in this kernel at all. */
static void test_vfio_unavailable_no_iommu(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;

        refused(f, BIND, "0000:01:00.0", (Opts) {}, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                NEEDLES("0000:01:00.0", "IOMMU group", "intel_iommu=on"));
        refused(f, BIND, "0000:01:00.0", (Opts) { .group = true, .force = true }, VH_ERROR_CODE_VFIO_UNAVAILABLE, NULL);
        refused(f, BIND, "0000:02:00.0", (Opts) { .force = true }, VH_ERROR_CODE_VFIO_UNAVAILABLE, NULL);
        refused(f, BIND, "0000:00:01.0", (Opts) {}, VH_ERROR_CODE_VFIO_UNAVAILABLE, NULL);
        /* nothing is on vfio-pci: unbinding is a no-op */
        p = planned(f, UNBIND, "0000:01:00.0", (Opts) {});
        g_assert_true(vh_bind_plan_is_noop(p));
}

/* An IOMMU host whose kernel has no vfio-pci (amd-desktop with vfio
 * removed from modules.dep). */
static void test_vfio_unavailable_kernel(Fixture *f, gconstpointer data) {
        g_autofree char *dep_rel = g_build_filename("lib/modules/6.1.0-18-amd64", "modules.dep", NULL);
        g_autofree char *dep = vh_unit_read_file(f->copy, dep_rel);
        g_auto(GStrv) lines = g_strsplit(dep, "\n", -1);
        g_autoptr(GString) out = g_string_new(NULL);
        size_t dropped = 0;

        g_assert_true(f->host->vfio_available);
        for (size_t i = 0; lines[i]; i++) {
                if (strstr(lines[i], "vfio")) {
                        dropped++;
                        continue;
                }
                if (*lines[i])
                        g_string_append_printf(out, "%s\n", lines[i]);
        }
        g_assert_cmpuint(dropped, >, 0);
        vh_unit_write_file(f->copy, dep_rel, out->str);
        load_host(f);
        g_assert_false(f->host->vfio_available);
        snapshot(f);

        refused(f, BIND, "0000:04:00.0", (Opts) { .group = true }, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                NEEDLES("vfio-pci", "CONFIG_VFIO_PCI"));
        refused(f, BIND, "0000:01:00.0", (Opts) { .force = true }, VH_ERROR_CODE_VFIO_UNAVAILABLE, NULL);
}

static void test_bridge(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:00:01.0", (Opts) {}, VH_ERROR_CODE_INVALID_ARGS, NEEDLES("0000:00:01.0", "bridge"));
        refused(f, BIND, "0000:00:06.0", (Opts) {}, VH_ERROR_CODE_INVALID_ARGS, NEEDLES("bridge"));
        refused(f, BIND, "0000:04:00.0", (Opts) { .force = true }, VH_ERROR_CODE_INVALID_ARGS, NEEDLES("bridge"));
        /* group 3 is the root port alone */
        refused(f, BIND, "0000:00:06.0", (Opts) { .group = true }, VH_ERROR_CODE_INVALID_ARGS, NEEDLES("only PCI bridges"));
}

/* Planning what is there already: bind of functions on vfio-pci, unbind of
 * functions not on it. */
static void test_noop(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) one = NULL, group = NULL, igpu = NULL, nic = NULL;
        VhError e = VH_ERROR_NULL;

        one = planned(f, BIND, "0000:01:00.0", (Opts) {});
        g_assert_true(vh_bind_plan_is_noop(one));
        g_assert_cmpuint(one->n_targets, ==, 1);
        g_assert_true(one->targets[0].noop);
        g_assert_cmpstr(one->targets[0].driver_before, ==, "vfio-pci");

        group = planned(f, BIND, "0000:01:00.1", (Opts) { .group = true });
        g_assert_true(vh_bind_plan_is_noop(group));
        {
                g_autofree char *all = targets_of(group);
                g_assert_cmpstr(all, ==, "0000:01:00.0 0000:01:00.1");
        }

        /* executing a no-op writes nothing and reports where things are */
        g_assert_cmpint(vh_binder_execute(f->binder, group, &e), ==, 0);
        g_assert_false(vh_error_is_set(&e));
        g_assert_cmpstr(target(group, "0000:01:00.0")->driver_after, ==, "vfio-pci");
        g_assert_cmpstr(target(group, "0000:01:00.0")->vfio_group_path, ==, "/dev/vfio/2");
        g_assert_cmpstr(target(group, "0000:01:00.1")->vfio_device_path, ==, "/dev/vfio/devices/vfio1");
        g_assert_false(target(group, "0000:01:00.0")->changed);
        assert_unchanged(f);

        igpu = planned(f, UNBIND, "0000:00:02.0", (Opts) {});
        g_assert_true(vh_bind_plan_is_noop(igpu));
        nic = planned(f, UNBIND, "0000:06:00.0", (Opts) { .group = true });
        g_assert_true(vh_bind_plan_is_noop(nic));
        g_assert_cmpint(vh_binder_execute(f->binder, nic, &e), ==, 0);
        assert_unchanged(f);
}

static void test_noop_server(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) vf = NULL, pf = NULL, vf0 = NULL;

        /* VF0 on iavf: only a subnet route on its interface, nobody holds
         * anything of it, alone in group 23 */
        vf0 = planned(f, BIND, "0000:3b:02.0", (Opts) {});
        g_assert_false(vh_bind_plan_is_noop(vf0));
        g_assert_cmpuint(vf0->n_targets, ==, 1);
        g_assert_cmpuint(vf0->group, ==, 23);
        g_assert_cmpuint(n_forced(vf0), ==, 0);
        g_assert_cmpstr(vf0->targets[0].driver_before, ==, "iavf");

        vf = planned(f, BIND, "0000:3b:02.1", (Opts) {});
        g_assert_true(vh_bind_plan_is_noop(vf));
        g_assert_cmpuint(vf->group, ==, 24);
        /* unbinding a function nobody moved to vfio-pci is a no-op even
         * when it is host-critical */
        pf = planned(f, UNBIND, "0000:3b:00.0", (Opts) {});
        g_assert_true(vh_bind_plan_is_noop(pf));
}

/* Plans that go through. */
static void test_plan_desktop(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) gpu = NULL, xhci = NULL;
        g_autofree char *all = NULL;

        gpu = planned(f, BIND, "0000:01:00.0", (Opts) { .group = true });
        all = targets_of(gpu);
        /* the PEG root port stays on pcieport */
        g_assert_cmpstr(all, ==, "0000:01:00.0 0000:01:00.1");
        g_assert_cmpuint(gpu->group, ==, 2);
        g_assert_cmpstr(gpu->address, ==, "0000:01:00.0");
        g_assert_false(vh_bind_plan_is_noop(gpu));
        g_assert_cmpuint(n_forced(gpu), ==, 0);
        g_assert_cmpstr(target(gpu, "0000:01:00.0")->driver_before, ==, "nvidia");
        g_assert_cmpstr(target(gpu, "0000:01:00.1")->driver_before, ==, "snd_hda_intel");
        g_assert_null(target(gpu, "0000:01:00.0")->override_before);
        for (size_t i = 0; i < gpu->n_targets; i++) {
                g_assert_true(gpu->targets[i].original_known);
                g_assert_cmpstr(gpu->targets[i].original_driver, ==, gpu->targets[i].driver_before);
                g_assert_null(gpu->targets[i].driver_after);
                g_assert_false(gpu->targets[i].changed);
        }

        /* the xHCI's group mate (shared SRAM) has no driver */
        xhci = planned(f, BIND, "0000:00:14.0", (Opts) {});
        g_assert_cmpuint(xhci->n_targets, ==, 1);
        g_assert_cmpuint(xhci->group, ==, 4);
}

/* Dry runs: every check, the expected outcome, no write. */
static void test_dry_run(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;
        VhError e = VH_ERROR_NULL;

        p = planned(f, BIND, "0000:01:00.0", (Opts) { .group = true, .dry_run = true });
        for (size_t i = 0; i < p->n_targets; i++) {
                g_assert_cmpstr(p->targets[i].driver_after, ==, "vfio-pci");
                g_assert_true(p->targets[i].changed);
                g_assert_false(p->targets[i].noop);
        }
        /* executing a dry run changes nothing, journal included */
        g_assert_cmpint(vh_binder_execute(f->binder, p, &e), ==, 0);
        g_assert_false(vh_error_is_set(&e));
        g_assert_cmpstr(target(p, "0000:01:00.0")->driver_after, ==, "vfio-pci");
        assert_unchanged(f);
        check_journal_empty(f);
        g_assert_false(vh_hostfs_exists(f->fs, VH_JOURNAL_DEFAULT_DIR, NULL));
}

/* An unbind's dry run names the driver it restores: the journal's, or
 * none known. */

/* The original driver the binder's journal holds for address, as a copy;
 * NULL when it holds none. */
static char *journaled_original_driver(VhBinder *b, const char *address) {
        const VhJournalEntry *e = vh_journal_find(b->journal, address);

        return e && e->original_driver ? g_strdup(e->original_driver) : NULL;
}

static void test_dry_run_unbind(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;

        /* the VM is shut down */
        vh_unit_unlink(f->copy, "proc/3456/fd/20");
        vh_unit_unlink(f->copy, "proc/3456/fd/19");
        snapshot(f);

        p = planned(f, UNBIND, "0000:01:00.0", (Opts) { .group = true, .dry_run = true });
        {
                g_autofree char *all = targets_of(p);
                g_assert_cmpstr(all, ==, "0000:01:00.0 0000:01:00.1");
        }
        g_assert_true(target(p, "0000:01:00.0")->original_known);
        g_assert_cmpstr(target(p, "0000:01:00.0")->original_driver, ==, "nvidia");
        g_assert_cmpstr(target(p, "0000:01:00.0")->driver_after, ==, "nvidia");
        g_assert_cmpstr(target(p, "0000:01:00.1")->driver_after, ==, "snd_hda_intel");
        g_assert_cmpstr(target(p, "0000:01:00.0")->driver_before, ==, "vfio-pci");
        g_assert_cmpstr(target(p, "0000:01:00.0")->override_before, ==, "vfio-pci");

        {
                g_autofree char *orig = journaled_original_driver(f->binder, "0000:01:00.1");
                g_assert_cmpstr(orig, ==, "snd_hda_intel");
        }
}

static void test_dry_run_unbind_unknown(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;
        const VhBindTarget *t;

        p = planned(f, UNBIND, "0000:3b:02.1", (Opts) { .dry_run = true });
        g_assert_cmpuint(p->group, ==, 24);
        t = target(p, "0000:3b:02.1");
        g_assert_false(t->noop);
        g_assert_false(t->original_known);
        g_assert_null(t->driver_after);
        g_assert_null(journaled_original_driver(f->binder, "0000:3b:02.1"));
}

/* ---- execution with faults */

/* Everything but vfiohostd's state directory is as it was. */
static void assert_unchanged_but_state(Fixture *f) {
        g_autoptr(GPtrArray) after = vh_unit_snapshot(f->copy);
        g_autoptr(GPtrArray) a = g_ptr_array_new(), b = g_ptr_array_new();

        for (guint i = 0; i < f->before->len; i++)
                if (!g_str_has_prefix(f->before->pdata[i], "var"))
                        g_ptr_array_add(b, f->before->pdata[i]);
        for (guint i = 0; i < after->len; i++)
                if (!g_str_has_prefix(after->pdata[i], "var"))
                        g_ptr_array_add(a, after->pdata[i]);
        for (guint i = 0; i < a->len || i < b->len; i++) {
                const char *x = i < b->len ? b->pdata[i] : "(nothing)";
                const char *y = i < a->len ? a->pdata[i] : "(nothing)";

                if (!g_str_equal(x, y))
                        g_error("tree changed: entry %u was '%s', is '%s'", i, x, y);
        }
}

/* Without a kernel a fixture attribute keeps the last value written: after
 * a rollback, driver_override holds what the rollback wrote to clear it. */
static void assert_override_cleared(Fixture *f, const char *address) {
        g_autofree char *rel = g_build_filename("sys/bus/pci/devices", address, "driver_override", NULL);
        g_autofree char *o = vh_unit_read_file(f->copy, rel);

        g_assert_cmpstr(o, ==, "\n");
}

static VhBindPlan *plan_gpu_group(Fixture *f) {
        return planned(f, BIND, "0000:01:00.0", (Opts) { .group = true });
}

/* driver_override cannot be written (every write fails): nothing moved,
 * the journal is empty again, the error says what failed. */
static void test_execute_override_eio(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = plan_gpu_group(f);
        g_autofree char *gpu_link = driver_link(f, "0000:01:00.0");
        g_autofree char *audio_link = driver_link(f, "0000:01:00.1");
        VhError e = VH_ERROR_NULL;
        int r;

        f->changes = CHANGES_STATE;
        g_assert_cmpint(vh_hostfs_set_faults(f->fs, "driver_override=EIO"), ==, 0);
        r = vh_binder_execute(f->binder, p, &e);
        g_test_message("execute: %d %s: %s", r, code_name(e.code), e.message);
        g_assert_cmpint(r, <, 0);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_FAILED);
        g_assert_nonnull(strstr(e.message, "0000:01:00.0"));
        g_assert_nonnull(strstr(e.message, "driver_override"));
        vh_error_clear(&e);

        {
                g_autofree char *g = driver_link(f, "0000:01:00.0");
                g_autofree char *a = driver_link(f, "0000:01:00.1");

                g_assert_cmpstr(g, ==, gpu_link);
                g_assert_cmpstr(a, ==, audio_link);
        }
        assert_unchanged_but_state(f);
        check_journal_empty(f);
        {
                g_autofree char *orig = journaled_original_driver(f->binder, "0000:01:00.0");
                CHECK(orig == NULL, "OriginalDriver of 0000:01:00.0 is '%s' after a bind that changed nothing", orig);
        }
}

/* Only the first write fails: the rollback's own writes go through. */
static void test_execute_override_eio_once(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = plan_gpu_group(f);
        g_autofree char *gpu_link = driver_link(f, "0000:01:00.0");
        VhError e = VH_ERROR_NULL;

        f->changes = CHANGES_SYSFS;
        g_assert_cmpint(vh_hostfs_set_faults(f->fs, "driver_override@0000:01:00.0=EIO#1"), ==, 0);
        g_assert_cmpint(vh_binder_execute(f->binder, p, &e), <, 0);
        g_test_message("execute: %s: %s", code_name(e.code), e.message);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_FAILED);
        g_assert_nonnull(strstr(e.message, "rolled back"));
        vh_error_clear(&e);
        {
                g_autofree char *g = driver_link(f, "0000:01:00.0");
                g_assert_cmpstr(g, ==, gpu_link);
        }
        check_journal_empty(f);
        /* the second function was never touched */
        {
                g_autofree char *o = vh_unit_read_file(f->copy, "sys/bus/pci/devices/0000:01:00.1/driver_override");
                g_assert_cmpstr(o, ==, "(null)\n");
        }
}

/* The host driver refuses to let go (unbind fails): rolled back. */
static void test_execute_unbind_eio(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = plan_gpu_group(f);
        g_autofree char *gpu_link = driver_link(f, "0000:01:00.0");
        VhError e = VH_ERROR_NULL;

        f->changes = CHANGES_SYSFS;
        g_assert_cmpint(vh_hostfs_set_faults(f->fs, "unbind=EIO"), ==, 0);
        g_assert_cmpint(vh_binder_execute(f->binder, p, &e), <, 0);
        g_test_message("execute: %s: %s", code_name(e.code), e.message);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_FAILED);
        g_assert_nonnull(strstr(e.message, "unbind"));
        g_assert_nonnull(strstr(e.message, "rolled back"));
        vh_error_clear(&e);
        {
                g_autofree char *g = driver_link(f, "0000:01:00.0");
                g_assert_cmpstr(g, ==, gpu_link);
        }
        assert_override_cleared(f, "0000:01:00.0");
        check_journal_empty(f);
}

/* A driver's remove path that never returns: the write times out, the
 * operation fails with Timeout promptly, and is rolled back. */
static void test_execute_unbind_hang(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;
        g_autofree char *gpu_link = driver_link(f, "0000:01:00.0");
        VhError e = VH_ERROR_NULL;
        gint64 start, elapsed;
        int r;

        f->changes = CHANGES_SYSFS;
        open_binder(f, 200 * 1000);
        p = plan_gpu_group(f);
        g_assert_cmpint(vh_hostfs_set_faults(f->fs, "unbind=hang"), ==, 0);

        start = g_get_monotonic_time();
        r = vh_binder_execute(f->binder, p, &e);
        elapsed = g_get_monotonic_time() - start;
        g_test_message("execute after %" G_GINT64_FORMAT " ms: %s: %s", elapsed / 1000, code_name(e.code), e.message);
        g_assert_cmpint(r, <, 0);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_TIMEOUT);
        g_assert_nonnull(strstr(e.message, "0000:01:00.0"));
        g_assert_cmpint(elapsed, >=, 200 * 1000);
        g_assert_cmpint(elapsed, <, (gint64) (1.0 * timeout_multiplier() * G_USEC_PER_SEC));
        vh_error_clear(&e);
        {
                g_autofree char *g = driver_link(f, "0000:01:00.0");
                g_assert_cmpstr(g, ==, gpu_link);
        }
        assert_override_cleared(f, "0000:01:00.0");
        check_journal_empty(f);
}

/* In a host tree vfiohostd never loads modules: vfio-pci installed but not
 * loaded is VfioUnavailable at execution, before anything is written. */
static void test_execute_not_loaded(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;
        VhError e = VH_ERROR_NULL;

        g_assert_true(f->host->vfio_available);
        p = planned(f, BIND, "0000:01:00.0", (Opts) { .force = true });
        g_assert_cmpint(vh_binder_execute(f->binder, p, &e), <, 0);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_VFIO_UNAVAILABLE);
        g_assert_nonnull(strstr(e.message, "Nothing was changed"));
        vh_error_clear(&e);
        assert_unchanged(f);
}

/* A read-only root: the journal cannot be written, so nothing is. */
static void test_execute_read_only(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = plan_gpu_group(f);
        VhError e = VH_ERROR_NULL;

        vh_hostfs_set_read_only(f->fs, true);
        g_assert_cmpint(vh_binder_execute(f->binder, p, &e), <, 0);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_FAILED);
        g_assert_nonnull(strstr(e.message, "journal"));
        vh_error_clear(&e);
        assert_unchanged(f);
        /* and the binder does not believe otherwise: no entry in memory
         * that the disk does not have, no original driver to show */
        check_journal_empty(f);
        {
                g_autofree char *orig = journaled_original_driver(f->binder, "0000:01:00.0");
                CHECK(orig == NULL, "OriginalDriver of 0000:01:00.0 is '%s' after a bind that changed nothing", orig);
        }
}

/* ---- SR-IOV: a PF's driver takes its VFs with it (docs/sriov.md) */

/* server-sriov without its default route on bond0 (the PFs' bond), so
 * that the PF is refused for its VFs alone. */
#define ROUTE_HEADER "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

static void sriov_routes(Fixture *f, const char *default_iface) {
        g_autofree char *route = NULL;

        route = default_iface ? g_strdup_printf(ROUTE_HEADER "%s\t00000000\t0100280A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
                                                default_iface)
                              : g_strdup(ROUTE_HEADER);
        vh_unit_write_file(f->copy, "proc/net/route", route);
        vh_unit_write_file(f->copy, "proc/net/ipv6_route", "");
}

/* A VM (pid 4242) that has VF1's group open. */
static void sriov_vm_holds_vf1(Fixture *f) {
        vh_unit_write_file(f->copy, "proc/4242/comm", "qemu-system-x86\n");
        vh_unit_symlink(f->copy, "proc/4242/fd/20", "/dev/vfio/24");
}

static void sriov_reload(Fixture *f) {
        load_host(f);
        snapshot(f);
}

#define PF_DRIVER "sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/driver"

static void test_sriov_bind(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) forced = NULL, idle = NULL, dry = NULL;
        VhError e = VH_ERROR_NULL;

        sriov_routes(f, NULL);
        sriov_reload(f);

        refused(f, BIND, "0000:3b:00.0", (Opts) {}, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                NEEDLES("Refusing to bind 0000:3b:00.0", "2 virtual functions enabled",
                        "0000:3b:02.0 on iavf, 0000:3b:02.1 on vfio-pci", "unbinding its driver i40e",
                        "set the VF count to 0 first", "vfiohostctl vfs 0000:3b:00.0 0", "force"));
        refused(f, BIND, "0000:3b:00.0", (Opts) { .group = true, .dry_run = true },
                VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS, NEEDLES("2 virtual functions"));

        /* force, nobody holds a VF: allowed, and said so */
        forced = planned(f, BIND, "0000:3b:00.0", (Opts) { .force = true });
        g_assert_cmpuint(n_forced(forced), ==, 1);
        g_assert_nonnull(strstr(forced->forced[0], "0000:3b:00.0 has 2 virtual functions"));
        g_assert_nonnull(strstr(forced->forced[0], "0000:3b:02.1 on vfio-pci"));
        g_assert_cmpint(vh_binder_check_holders(f->binder, forced, &e), ==, 0);
        g_assert_false(vh_error_is_set(&e));
        dry = planned(f, BIND, "0000:3b:00.0", (Opts) { .force = true, .dry_run = true });
        g_assert_cmpint(vh_binder_execute(f->binder, dry, &e), ==, 0);
        g_assert_cmpstr(target(dry, "0000:3b:00.0")->driver_after, ==, "vfio-pci");

        /* a PF that can have VFs and has none is no PF with VFs */
        idle = planned(f, BIND, "0000:3b:00.1", (Opts) {});
        g_assert_cmpuint(n_forced(idle), ==, 0);
        g_assert_false(vh_bind_plan_is_noop(idle));

        /* a VF a VM holds is never torn down, force or not */
        sriov_vm_holds_vf1(f);
        sriov_reload(f);
        refused(f, BIND, "0000:3b:00.0", (Opts) { .force = true }, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                NEEDLES("2 virtual functions enabled", "0000:3b:02.1 (pid 4242 (qemu-system-x86) holds /dev/vfio/24)",
                        "force does not override", "VF count to 0"));
        refused(f, BIND, "0000:3b:00.0", (Opts) { .force = true, .dry_run = true },
                VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS, NEEDLES("pid 4242"));
        refused(f, BIND, "0000:3b:00.0", (Opts) {}, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS, NEEDLES("2 virtual functions"));
        /* the VF itself is a plain function: binding VF0 is untouched by the VM on VF1 */
        g_clear_pointer(&idle, vh_bind_plan_free);
        idle = planned(f, BIND, "0000:3b:02.0", (Opts) {});
        g_assert_cmpint(vh_binder_check_holders(f->binder, idle, &e), ==, 0);
}

/* The PF on vfio-pci: unbinding vfio-pci disables SR-IOV as well. */
static void test_sriov_unbind(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) forced = NULL;
        VhError e = VH_ERROR_NULL;

        vh_unit_symlink(f->copy, PF_DRIVER, "../../../../bus/pci/drivers/vfio-pci");
        sriov_reload(f);

        refused(f, UNBIND, "0000:3b:00.0", (Opts) {}, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                NEEDLES("Refusing to unbind 0000:3b:00.0", "2 virtual functions enabled", "unbinding vfio-pci from it",
                        "0000:3b:02.0 on iavf", "VF count to 0"));
        refused(f, UNBIND, "0000:3b:00.0", (Opts) { .dry_run = true }, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS, NULL);
        forced = planned(f, UNBIND, "0000:3b:00.0", (Opts) { .force = true });
        g_assert_cmpuint(n_forced(forced), ==, 1);
        g_assert_nonnull(strstr(forced->forced[0], "which the unbind removes"));
        g_assert_cmpint(vh_binder_check_holders(f->binder, forced, &e), ==, 0);

        sriov_vm_holds_vf1(f);
        sriov_reload(f);
        refused(f, UNBIND, "0000:3b:00.0", (Opts) { .force = true }, VH_ERROR_CODE_HAS_VIRTUAL_FUNCTIONS,
                NEEDLES("pid 4242 (qemu-system-x86)", "0000:3b:02.1"));
        /* unbinding the held VF itself is InUse, as ever */
        refused(f, UNBIND, "0000:3b:02.1", (Opts) { .force = true }, VH_ERROR_CODE_IN_USE, NEEDLES("pid 4242"));
}

/* VF0's interface carries the default route: its PF is host-critical. */
static void test_sriov_critical(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) forced = NULL, other = NULL;

        sriov_routes(f, "ens1f0v0");
        sriov_reload(f);

        refused(f, BIND, "0000:3b:00.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL,
                NEEDLES("0000:3b:02.0 (VF 0 of this PF) carries the default route (interface ens1f0v0)"));
        /* VF0 itself, of course */
        refused(f, BIND, "0000:3b:02.0", (Opts) {}, VH_ERROR_CODE_HOST_CRITICAL, NEEDLES("ens1f0v0"));
        /* the other PF has no VFs: nothing of VF0 is its */
        other = planned(f, BIND, "0000:3b:00.1", (Opts) {});
        g_assert_cmpuint(n_forced(other), ==, 0);
        forced = planned(f, BIND, "0000:3b:00.0", (Opts) { .force = true });
        g_assert_cmpuint(n_forced(forced), ==, 2);
        g_assert_nonnull(strstr(forced->forced[0], "VF 0 of this PF"));
        g_assert_nonnull(strstr(forced->forced[1], "2 virtual functions"));
}

/* ---- Variant drivers (docs/binding.md, "Variant drivers") ------------- */

#define VARIANT "mlx5_vfio_pci"

static void test_variant_lookup(Fixture *f, gconstpointer data) {
        /* Registered on vfio_pci_core, installed on it, registered without it. */
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, VARIANT), ==, VH_VFIO_DRIVER_REGISTERED);
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "pds_vfio_pci"), ==, VH_VFIO_DRIVER_INSTALLED);
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "pds-vfio-pci"), ==, VH_VFIO_DRIVER_INSTALLED);
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "vfio-pci"), ==, VH_VFIO_DRIVER_REGISTERED);
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "mlx5_core"), ==, VH_VFIO_DRIVER_OTHER);
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "nvme"), ==, VH_VFIO_DRIVER_OTHER);
        /* Installed, not loaded, and not on vfio_pci_core. */
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "igc"), ==, VH_VFIO_DRIVER_OTHER);
        g_assert_cmpint(vh_vfio_driver_lookup(f->fs, "virtio_vfio_pci"), ==, VH_VFIO_DRIVER_UNKNOWN);

        g_assert_true(vh_vfio_driver_is(f->fs, VARIANT));
        g_assert_true(vh_vfio_driver_is(f->fs, "vfio-pci"));
        g_assert_false(vh_vfio_driver_is(f->fs, "mlx5_core"));
        g_assert_false(vh_vfio_driver_is(f->fs, "pds_vfio_pci"));     /* not loaded: nothing is on it */
        g_assert_false(vh_vfio_driver_is(f->fs, NULL));

        /* The ConnectX VFs are listed, the ConnectX PF and the X710's VF not. */
        g_assert_true(vh_vfio_driver_supports(f->fs, VARIANT, "0000:3c:00.2"));
        g_assert_false(vh_vfio_driver_supports(f->fs, VARIANT, "0000:3c:00.0"));
        g_assert_false(vh_vfio_driver_supports(f->fs, VARIANT, "0000:3b:02.0"));
        g_assert_false(vh_vfio_driver_supports(f->fs, "pds_vfio_pci", "0000:3c:00.2"));
        g_assert_true(vh_vfio_driver_supports(f->fs, "vfio-pci", "0000:3b:02.0"));

        /* The model: a function on the variant is on a VFIO driver. */
        g_assert_true(vh_pci_device_is_bound_to_vfio(vh_host_find_device(f->host, "0000:3c:00.4")));
        g_assert_nonnull(vh_host_find_device(f->host, "0000:3c:00.4")->vfio_device_path);
        g_assert_false(vh_pci_device_is_bound_to_vfio(vh_host_find_device(f->host, "0000:3c:00.2")));
}

static void test_variant_plan(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL, moves = NULL, back = NULL, dry = NULL;

        /* From the host driver to the variant. */
        p = planned(f, BIND, "0000:3c:00.2", (Opts) { .driver = VARIANT });
        g_assert_cmpstr(p->driver, ==, VARIANT);
        g_assert_cmpstr(target(p, "0000:3c:00.2")->vfio_driver, ==, VARIANT);
        g_assert_false(vh_bind_plan_is_noop(p));

        /* On vfio-pci, asked for the variant: it moves; and back. */
        moves = planned(f, BIND, "0000:3c:00.3", (Opts) { .driver = VARIANT });
        g_assert_false(vh_bind_plan_is_noop(moves));
        back = planned(f, BIND, "0000:3c:00.4", (Opts) {});
        g_assert_false(vh_bind_plan_is_noop(back));
        g_assert_cmpstr(target(back, "0000:3c:00.4")->vfio_driver, ==, "vfio-pci");

        dry = planned(f, BIND, "0000:3c:00.2", (Opts) { .driver = VARIANT, .dry_run = true });
        g_assert_cmpstr(target(dry, "0000:3c:00.2")->driver_after, ==, VARIANT);
        g_assert_true(target(dry, "0000:3c:00.2")->changed);
}

static void test_variant_noop(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL, q = NULL, group = NULL;

        p = planned(f, BIND, "0000:3c:00.4", (Opts) { .driver = VARIANT });
        g_assert_true(vh_bind_plan_is_noop(p));
        q = planned(f, BIND, "0000:3c:00.3", (Opts) { .driver = "vfio-pci", .dry_run = true });
        g_assert_true(vh_bind_plan_is_noop(q));
        g_assert_nonnull(target(q, "0000:3c:00.3")->vfio_device_path);

        /* Group 33 holds one function on each: the group goes to the variant. */
        group = planned(f, BIND, "0000:3c:00.4", (Opts) { .group = true, .driver = VARIANT });
        g_assert_cmpuint(group->n_targets, ==, 2);
        g_assert_cmpstr(target(group, "0000:3c:00.3")->vfio_driver, ==, VARIANT);
        g_assert_false(target(group, "0000:3c:00.3")->noop);
        g_assert_true(target(group, "0000:3c:00.4")->noop);
}

static void test_variant_refused(Fixture *f, gconstpointer data) {
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "nvme" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("nvme is not a VFIO driver", "vfio_pci_core", "vfio-pci"));
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "mlx5_core" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("mlx5_core is not a VFIO driver"));
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "igc" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("igc is not a VFIO driver"));
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "../vfio-pci" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("not a driver name"));
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "" }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("not a driver name"));
        /* A variant that does not list the device. */
        refused(f, BIND, "0000:3b:02.0", (Opts) { .driver = VARIANT }, VH_ERROR_CODE_INVALID_ARGS,
                NEEDLES("mlx5_vfio_pci does not support 0000:3b:02.0", "8086:154c", "modules.alias"));
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "pds_vfio_pci", .dry_run = true },
                VH_ERROR_CODE_INVALID_ARGS, NEEDLES("pds_vfio_pci does not support 0000:3c:00.2"));
        /* Neither loaded nor installed. */
        refused(f, BIND, "0000:3c:00.2", (Opts) { .driver = "virtio_vfio_pci" }, VH_ERROR_CODE_VFIO_UNAVAILABLE,
                NEEDLES("virtio_vfio_pci is not available"));
}

/* A group mate the variant does not list goes to vfio-pci (here: on it
 * already), and the assignment of the group is judged the same way. */
static void test_variant_group_mate(Fixture *f, gconstpointer data) {
        g_autoptr(VhBindPlan) p = NULL;

        vh_unit_write_file(f->copy, "sys/bus/pci/devices/0000:3c:00.3/modalias",
                           "pci:v000015B3d00001017sv000015B3sd00000016bc02sc00i00\n");
        f->changes = CHANGES_SYSFS;
        snapshot(f);
        p = planned(f, BIND, "0000:3c:00.4", (Opts) { .group = true, .driver = VARIANT });
        g_assert_cmpstr(target(p, "0000:3c:00.3")->vfio_driver, ==, "vfio-pci");
        g_assert_true(target(p, "0000:3c:00.3")->noop);
        g_assert_true(vh_bind_plan_is_noop(p));
}

/* Not loaded in a host tree: VfioUnavailable at execution, nothing written. */
static void test_variant_not_loaded(Fixture *f, gconstpointer data) {
        g_autofree char *alias = vh_unit_read_file(f->copy, "lib/modules/6.8.0-45-generic/modules.alias");
        g_autofree char *more = g_strconcat(alias, "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* pds_vfio_pci\n", NULL);
        g_autoptr(VhBindPlan) p = NULL;
        VhError e = VH_ERROR_NULL;

        vh_unit_write_file(f->copy, "lib/modules/6.8.0-45-generic/modules.alias", more);
        f->changes = CHANGES_SYSFS;
        snapshot(f);
        p = planned(f, BIND, "0000:3c:00.2", (Opts) { .driver = "pds_vfio_pci" });
        g_assert_cmpint(vh_binder_execute(f->binder, p, &e), ==, -ENOPKG);
        g_assert_cmpint(e.code, ==, VH_ERROR_CODE_VFIO_UNAVAILABLE);
        g_assert_nonnull(strstr(e.message, "pds_vfio_pci is not loaded in the host tree"));
        vh_error_clear(&e);
        assert_unchanged(f);
        g_assert_cmpuint(f->binder->journal->n_entries, ==, 0);
}

/* An entry marked bound is judged against its own driver: kept on the
 * variant, dropped when the function is on vfio-pci instead. An entry
 * without a driver (older journals) means vfio-pci. */
static void test_variant_drop_stale(Fixture *f, gconstpointer data) {
        vh_unit_write_file(f->copy, "var/lib/vfiohost/journal.json",
                           "{ \"version\": 1, \"next_txn\": 5, \"devices\": ["
                           "{ \"address\": \"0000:3c:00.4\", \"state\": \"bound\", \"txn\": 1, "
                           "\"original_driver\": \"mlx5_core\", \"original_override\": null, "
                           "\"driver\": \"mlx5_vfio_pci\", \"time\": 1 },"
                           "{ \"address\": \"0000:3c:00.3\", \"state\": \"bound\", \"txn\": 2, "
                           "\"original_driver\": \"mlx5_core\", \"original_override\": null, "
                           "\"driver\": \"mlx5_vfio_pci\", \"time\": 1 },"
                           "{ \"address\": \"0000:3b:02.1\", \"state\": \"bound\", \"txn\": 3, "
                           "\"original_driver\": \"iavf\", \"original_override\": null, \"time\": 1 } ] }");
        f->changes = CHANGES_STATE;
        open_binder(f, WRITE_TIMEOUT_USEC);
        g_assert_cmpuint(vh_binder_drop_stale(f->binder), ==, 1);
        g_assert_nonnull(vh_journal_find(f->binder->journal, "0000:3c:00.4"));
        g_assert_cmpstr(vh_journal_entry_driver(vh_journal_find(f->binder->journal, "0000:3c:00.4")), ==, VARIANT);
        g_assert_null(vh_journal_find(f->binder->journal, "0000:3c:00.3"));
        g_assert_cmpstr(vh_journal_entry_driver(vh_journal_find(f->binder->journal, "0000:3b:02.1")), ==, "vfio-pci");
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);

#define ADD(path, host, fn) g_test_add(path, Fixture, host, fixture_setup, fn, fixture_teardown)
#define ADD_COPY(path, host, fn) g_test_add(path, Fixture, host, fixture_setup_copy, fn, fixture_teardown)
        ADD("/binder/plan/invalid-address", "desktop-intel", test_invalid_address);
        ADD("/binder/plan/not-found", "desktop-intel", test_not_found);
        ADD("/binder/plan/group-not-viable", "desktop-intel", test_group_not_viable);
        ADD("/binder/plan/in-use/bind", "server-sriov", test_in_use_bind);
        ADD("/binder/plan/in-use/unbind", "desktop-vfio-bound", test_in_use_unbind);
        ADD("/binder/plan/host-critical/desktop-intel", "desktop-intel", test_host_critical_desktop);
        ADD("/binder/plan/host-critical/server-sriov", "server-sriov", test_host_critical_server);
        ADD("/binder/plan/host-critical/bridge", "desktop-vfio-bound", test_host_critical_bridge);
        ADD("/binder/plan/host-critical/amd-desktop", "amd-desktop", test_host_critical_amd);
        ADD("/binder/plan/host-critical/chipset-driverless/server-sriov", "server-sriov",
            test_host_critical_chipset_driverless);
        ADD("/binder/plan/host-critical/chipset-driverless/amd-desktop", "amd-desktop",
            test_host_critical_chipset_driverless);
        ADD("/binder/plan/force/chipset-driverless", "server-sriov", test_force_chipset_driverless);
        ADD("/binder/plan/host-critical/desktop-vmd", "desktop-vmd", test_host_critical_vmd);
        ADD("/binder/plan/force/desktop-intel", "desktop-intel", test_force);
        ADD("/binder/plan/force/server-sriov", "server-sriov", test_force_server);
        ADD("/binder/plan/vfio-unavailable/no-iommu", "no-iommu", test_vfio_unavailable_no_iommu);
        ADD_COPY("/binder/plan/vfio-unavailable/kernel", "amd-desktop", test_vfio_unavailable_kernel);
        ADD("/binder/plan/bridge", "desktop-intel", test_bridge);
        ADD("/binder/plan/noop/desktop-vfio-bound", "desktop-vfio-bound", test_noop);
        ADD("/binder/plan/noop/server-sriov", "server-sriov", test_noop_server);
        ADD("/binder/plan/ok", "desktop-intel", test_plan_desktop);
        ADD("/binder/plan/dry-run/bind", "desktop-intel", test_dry_run);
        ADD_COPY("/binder/plan/dry-run/unbind", "desktop-vfio-bound", test_dry_run_unbind);
        ADD("/binder/plan/dry-run/unbind-unknown", "server-sriov", test_dry_run_unbind_unknown);
        ADD_COPY("/binder/plan/sriov/bind", "server-sriov", test_sriov_bind);
        ADD_COPY("/binder/plan/sriov/unbind", "server-sriov", test_sriov_unbind);
        ADD_COPY("/binder/plan/sriov/host-critical", "server-sriov", test_sriov_critical);
        ADD_COPY("/binder/execute/not-loaded", "amd-desktop", test_execute_not_loaded);
        ADD_COPY("/binder/execute/read-only", "desktop-intel", test_execute_read_only);
        ADD_COPY("/binder/execute/unbind-eio", "desktop-intel", test_execute_unbind_eio);
        ADD_COPY("/binder/execute/unbind-hang", "desktop-intel", test_execute_unbind_hang);
        ADD_COPY("/binder/execute/override-eio-once", "desktop-intel", test_execute_override_eio_once);
        ADD_COPY("/binder/execute/override-eio", "desktop-intel", test_execute_override_eio);
        ADD("/binder/variant/lookup", "server-variant", test_variant_lookup);
        ADD("/binder/variant/plan", "server-variant", test_variant_plan);
        ADD("/binder/variant/noop", "server-variant", test_variant_noop);
        ADD("/binder/variant/refused", "server-variant", test_variant_refused);
        ADD_COPY("/binder/variant/group-mate", "server-variant", test_variant_group_mate);
        ADD_COPY("/binder/variant/not-loaded", "server-variant", test_variant_not_loaded);
        ADD_COPY("/binder/variant/drop-stale", "server-variant", test_variant_drop_stale);
#undef ADD
#undef ADD_COPY

        r = g_test_run();
        shared_copies_check_and_remove();
        return r;
}
