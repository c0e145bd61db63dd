/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Judges guest 1 (tests/e2e/guest1/scenarios.sh) from what it recorded:
 * one test case per scenario. VH_E2E_RESULTS names the results directory;
 * its "main" and "iommu-off" subdirectories are the two boots. */

#include <string.h>

#include "judge.h"
#include "vh-names.h"

#define NIC   "0000:00:02.0"
#define EDU   "0000:00:03.0"
#define NVME  "0000:01:00.0"
#define RNG   "0000:02:00.0"
#define BR_A  "0000:03:01.0"
#define BR_B  "0000:03:02.0"
#define SRIOV_PF "0000:04:00.0"
#define SRIOV_VF1 "0000:04:00.1"
#define SRIOV_VF2 "0000:04:00.2"

#define ERR_PREFIX "org.vfiohost.Error."

static char *main_dir, *off_dir;

static size_t count_words(const char *list) {
        g_auto(GStrv) words = g_strsplit(list, " ", -1);

        return g_strv_length(words);
}

/* sysfs's "0x8086" as the daemon's "8086". */
static const char *hex_of(const char *v) {
        return v && g_str_has_prefix(v, "0x") ? v + 2 : v;
}

static void test_activation(void) {
        const char *sc = "activation";
        g_autofree char *modules = NULL, *log = NULL;

        if (!judge_scenario_ran(sc))
                return;
        if (judge_rc(sc, "pid-before") == 0)
                judge_fail("vfiohostd was running before the first call: it must be started by the bus");
        if (judge_rc(sc, "pid-after") != 0)
                judge_fail("vfiohostd is not running after the first call");
        modules = judge_read(sc, "modules-before.out");
        if (judge_module_loaded(modules, "vfio_pci"))
                judge_fail("vfio_pci was loaded at boot; the scenario needs it absent");
        judge_assert_ok(sc, "status");
        /* dbus-daemon's own account: activated through the setuid helper
         * with Debian's system.conf, not started by hand. */
        log = judge_file_in(main_dir, "dbus-daemon.log");
        if (log && !(strstr(log, "Activating service name='org.vfiohost'") && strstr(log, "(using servicehelper)") &&
                     strstr(log, "Successfully activated service 'org.vfiohost'")))
                judge_fail("dbus-daemon's log does not show org.vfiohost activated through its service helper");
}

static void compare_device(struct json_object *d, GHashTable *sysfs) {
        const char *addr = judge_json_str(d, "address");
        struct {
                const char *json, *sysfs;
        } ids[] = {
                { "vendor_id", "vendor" },
                { "device_id", "device" },
                { "subsystem_vendor_id", "subsystem_vendor" },
                { "subsystem_device_id", "subsystem_device" },
                { "class", "class" },
        };
        const char *v;
        g_autofree char *resets = NULL;
        struct json_object *a;

        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
                v = hex_of(judge_state_get(sysfs, addr, ids[i].sysfs));
                if (g_ascii_strcasecmp(judge_json_str(d, ids[i].json) ?: "", v ?: "") != 0)
                        judge_fail("%s: %s is \"%s\", sysfs says \"%s\"", addr, ids[i].json,
                                           judge_json_str(d, ids[i].json), v);
        }

        v = judge_state_get(sysfs, addr, "driver");
        if (g_strcmp0(judge_json_str(d, "driver"), g_strcmp0(v, "-") == 0 ? "" : v) != 0)
                judge_fail("%s: driver \"%s\", sysfs says \"%s\"", addr, judge_json_str(d, "driver"), v);

        v = judge_state_get(sysfs, addr, "driver_override");
        if (g_strcmp0(judge_json_str(d, "driver_override"), g_strcmp0(v, "(null)") == 0 ? "" : v) != 0)
                judge_fail("%s: driver_override \"%s\", sysfs says \"%s\"", addr,
                                   judge_json_str(d, "driver_override"), v);

        v = judge_state_get(sysfs, addr, "iommu_group");
        if (json_object_get_int(judge_json_get(d, "iommu_group")) != (v && strcmp(v, "-") ? atoi(v) : -1))
                judge_fail("%s: iommu_group %d, sysfs says %s", addr,
                                   json_object_get_int(judge_json_get(d, "iommu_group")), v);

        v = judge_state_get(sysfs, addr, "numa_node");
        if (json_object_get_int(judge_json_get(d, "numa_node")) != (v && strcmp(v, "-") ? atoi(v) : -1))
                judge_fail("%s: numa_node %d, sysfs says %s", addr,
                                   json_object_get_int(judge_json_get(d, "numa_node")), v);

        v = judge_state_get(sysfs, addr, "boot_vga");
        if (json_object_get_boolean(judge_json_get(d, "boot_vga")) != (g_strcmp0(v, "1") == 0))
                judge_fail("%s: boot_vga %d, sysfs says %s", addr,
                                   json_object_get_boolean(judge_json_get(d, "boot_vga")), v);

        a = judge_json_get(d, "reset_methods");
        {
                GString *s = g_string_new(NULL);

                for (size_t i = 0; a && i < json_object_array_length(a); i++)
                        g_string_append_printf(s, "%s%s", i ? " " : "",
                                               json_object_get_string(json_object_array_get_idx(a, i)));
                resets = g_string_free(s, FALSE);
        }
        v = judge_state_get(sysfs, addr, "reset_method");
        if (g_strcmp0(resets, g_strcmp0(v, "-") == 0 ? "" : v) != 0)
                judge_fail("%s: reset_methods \"%s\", sysfs says \"%s\"", addr, resets, v);
}

/* Every function in list --json is in /sys with the same facts, and every
 * function in /sys is listed. Returns the sysfs state. */
static GHashTable *assert_list_matches_sysfs(const char *sc, const char *list_step, const char *state_name) {
        GHashTable *sysfs = judge_state(sc, state_name);
        g_autoptr(json_object) list = judge_json(sc, list_step);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter it;
        gpointer key;
        unsigned n_sysfs = 0;

        if (!list)
                return sysfs;
        if (!json_object_is_type(list, json_type_array)) {
                judge_fail("%s/%s is not an array: %s", sc, list_step, json_object_to_json_string(list));
                return sysfs;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                struct json_object *d = json_object_array_get_idx(list, i);
                const char *addr = judge_json_str(d, "address");

                if (!addr || !judge_state_get(sysfs, addr, "vendor")) {
                        judge_fail("list names %s, which is not in the guest's /sys", addr);
                        continue;
                }
                g_hash_table_add(seen, (gpointer) addr);
                compare_device(d, sysfs);
        }
        g_hash_table_iter_init(&it, sysfs);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                g_auto(GStrv) k = g_strsplit(key, " ", 2);

                if (strcmp(k[1], "vendor") != 0)
                        continue;
                n_sysfs++;
                if (!g_hash_table_contains(seen, k[0]))
                        judge_fail("%s is in /sys but not in list --json", k[0]);
        }
        judge_msg("%s/%s: %zu functions, /sys: %u", sc, list_step, json_object_array_length(list), n_sysfs);
        return sysfs;
}

static void test_inventory(void) {
        const char *sc = "inventory";
        g_autoptr(GHashTable) sysfs = NULL;
        g_autoptr(json_object) groups = NULL;
        g_autoptr(GHashTable) group_members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GHashTableIter it;
        gpointer key, value;

        if (!judge_scenario_ran(sc))
                return;
        sysfs = assert_list_matches_sysfs(sc, "list", "sysfs");
        groups = judge_json(sc, "groups");
        if (!groups)
                return;

        /* Groups hold exactly the functions whose iommu_group link names
         * them. */
        g_hash_table_iter_init(&it, sysfs);
        while (g_hash_table_iter_next(&it, &key, &value)) {
                g_auto(GStrv) k = g_strsplit(key, " ", 2);
                char *members;

                if (strcmp(k[1], "iommu_group") != 0 || strcmp(value, "-") == 0)
                        continue;
                members = g_hash_table_lookup(group_members, value);
                g_hash_table_replace(group_members, g_strdup(value),
                                     members ? g_strconcat(members, " ", k[0], NULL) : g_strdup(k[0]));
        }
        if (json_object_array_length(groups) != g_hash_table_size(group_members))
                judge_fail("groups --json has %zu groups, /sys/kernel/iommu_groups %u",
                                   json_object_array_length(groups), g_hash_table_size(group_members));
        for (size_t i = 0; i < json_object_array_length(groups); i++) {
                struct json_object *g = json_object_array_get_idx(groups, i), *devs = judge_json_get(g, "devices");
                g_autofree char *id = g_strdup_printf("%d", json_object_get_int(judge_json_get(g, "id")));
                const char *members = g_hash_table_lookup(group_members, id);
                size_t n = devs ? json_object_array_length(devs) : 0;

                for (size_t k = 0; k < n; k++)
                        if (!judge_word_in(members, json_object_get_string(json_object_array_get_idx(devs, k))))
                                judge_fail("group %s lists %s; sysfs members: %s", id,
                                                   json_object_get_string(json_object_array_get_idx(devs, k)),
                                                   members);
                if (members && n != count_words(members))
                        judge_fail("group %s has %zu devices in groups --json; sysfs: %s", id, n, members);
        }
}

static void test_readiness(void) {
        const char *sc = "readiness";
        g_autoptr(json_object) check = NULL;

        if (!judge_scenario_ran(sc))
                return;
        check = judge_json(sc, "check");
        if (!check)
                return;
        judge_assert_ready(check, "check --json");
        if (judge_rc(sc, "check") != 0)
                judge_fail("check exited %d on a ready host", judge_rc(sc, "check"));
        /* READY without vfio-pci preloaded: the first bind loads it. */
        {
                g_autofree char *modules = judge_read(sc, "modules-after.out");
                g_autofree char *log = judge_file_in(main_dir, "dbus-daemon.log");

                if (judge_module_loaded(modules, "vfio_pci"))
                        judge_fail("vfio_pci was loaded before any bind");
                if (log && !strstr(log, "Loaded vfio-pci"))
                        judge_fail("the daemon never loaded vfio-pci (its log says nothing of it)");
        }
        /* The CPU's virtualization as the real kernel and CPUID show it:
         * TCG's "max" CPU is an AMD one with SVM and NPT, asked through
         * CPUID on the running host. */
        {
                g_autofree char *flags = judge_read(sc, "cpu-flags.out");
                struct json_object *checks = judge_json_get(check, "checks");
                struct json_object *caps = NULL, *npt = NULL;

                for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
                        struct json_object *k = json_object_array_get_idx(checks, i);

                        if (g_strcmp0(judge_json_str(k, "id"), "cpu.virt.capabilities") == 0)
                                caps = k;
                        if (g_strcmp0(judge_json_str(k, "id"), "cpu.virt.two-dimensional-paging") == 0)
                                npt = k;
                }
                if (!flags)
                        judge_fail("no CPU flags from the guest");
                else if (judge_word_in(flags, "svm")) {
                        if (!caps || !strstr(judge_json_str(caps, "summary"), "CPUID 0x8000000A: SVM revision"))
                                judge_fail("cpu.virt.capabilities does not come from CPUID: %s",
                                           caps ? judge_json_str(caps, "summary") : "(absent)");
                        if (!npt || g_strcmp0(judge_json_str(npt, "result"),
                                              judge_word_in(flags, "npt") ? "pass" : "warn") != 0)
                                judge_fail("cpu.virt.two-dimensional-paging is %s; flags %s npt",
                                           npt ? judge_json_str(npt, "result") : "absent",
                                           judge_word_in(flags, "npt") ? "have" : "lack");
                        judge_msg("%s", caps ? judge_json_str(caps, "summary") : "");
                } else if (!judge_word_in(flags, "vmx") && caps)
                        judge_fail("cpu.virt.capabilities on a CPU without vmx or svm");
        }
}

static void test_route_critical(void) {
        const char *sc = "route-critical";

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_refused(sc, "bind", ERR_PREFIX "HostCritical", "before", "after");
}

static void test_nic_bind(void) {
        const char *sc = "nic-bind";
        g_autoptr(GHashTable) before = NULL, bound = NULL, restored = NULL;
        g_autofree char *vfio = NULL, *modules = NULL;
        const char *group;
        /* The interface comes back without its address: the scenario restores
         * it (route-back), and final checks the whole boot state. */
        static const char *const ignore[] = { "host daemon_pid", "host journal", "host default_route", NULL };

        if (!judge_scenario_ran(sc))
                return;
        before = judge_state(sc, "before");
        bound = judge_state(sc, "bound");
        restored = judge_state(sc, "restored");

        judge_assert_ok(sc, "bind");
        judge_assert_driver(bound, "bound", NIC, "vfio-pci");
        group = judge_state_get(before, NIC, "iommu_group");
        if (!judge_word_in(judge_state_get(bound, "host", "dev_vfio"), group))
                judge_fail("/dev/vfio/%s is missing after the bind (/dev/vfio: %s)", group,
                                   judge_state_get(bound, "host", "dev_vfio"));
        if (judge_state_get(bound, NIC, "net"))
                judge_fail("the e1000e still has an interface on vfio-pci");

        vfio = judge_read(sc, "vfio.out");
        if (judge_rc(sc, "vfio") != 0 || !vfio || !strstr(vfio, "dma_map=ok") || !strstr(vfio, "done=ok"))
                judge_fail("the VFIO client failed: %s", vfio);
        else
                judge_msg("VFIO client: %s", g_strdelimit(vfio, "\n", ' '));

        judge_assert_ok(sc, "unbind");
        judge_assert_driver(restored, "restored", NIC, "e1000e");
        if (!judge_state_get(restored, NIC, "net"))
                judge_fail("the e1000e's interface did not come back");
        judge_assert_states_equal(before, "before", restored, "restored", ignore);
}

static void test_bridge_group(void) {
        const char *sc = "bridge-group";
        g_autoptr(GHashTable) before = NULL, bound = NULL, restored = NULL;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_refused(sc, "bind-one", ERR_PREFIX "GroupNotViable", "before", "after-refusal");
        before = judge_state(sc, "before");
        bound = judge_state(sc, "bound");
        restored = judge_state(sc, "restored");
        judge_assert_ok(sc, "bind-group");
        judge_assert_driver(bound, "bound", BR_A, "vfio-pci");
        judge_assert_driver(bound, "bound", BR_B, "vfio-pci");
        judge_assert_ok(sc, "unbind-group");
        judge_assert_driver(restored, "restored", BR_A, "virtio-pci");
        judge_assert_driver(restored, "restored", BR_B, "virtio-pci");
        judge_assert_states_equal(before, "before", restored, "restored",
                                  (const char *const[]) { "host daemon_pid", "host journal", NULL });
}

static void test_nvme_critical(void) {
        const char *sc = "nvme-critical";
        g_autoptr(GHashTable) mounted = NULL, bound = NULL, restored = NULL;
        g_autofree char *data = NULL;

        if (!judge_scenario_ran(sc))
                return;
        mounted = judge_state(sc, "mounted");
        if (!strstr(judge_state_get(mounted, "host", "mounts") ?: "", ":/mnt/nvme"))
                judge_fail("the NVMe was not mounted: the refusal proves nothing");
        judge_assert_refused(sc, "bind-mounted", ERR_PREFIX "HostCritical", "mounted", "after-refusal");
        bound = judge_state(sc, "bound");
        restored = judge_state(sc, "restored");
        judge_assert_ok(sc, "bind");
        judge_assert_driver(bound, "bound", NVME, "vfio-pci");
        judge_assert_ok(sc, "unbind");
        judge_assert_driver(restored, "restored", NVME, "nvme");
        if (judge_rc(sc, "mount") != 0)
                judge_fail("the filesystem did not mount again after the unbind");
        data = judge_read(sc, "data.out");
        if (g_strcmp0(data, "vfiohost e2e data\n") != 0)
                judge_fail("the file on the NVMe reads \"%s\"", data);
}

static void test_in_use(void) {
        const char *sc = "in-use";
        g_autoptr(GHashTable) held = NULL, restored = NULL;
        g_autofree char *holder = NULL;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "bind");
        holder = judge_read(sc, "holder.out");
        if (!holder || !strstr(holder, "holding="))
                judge_fail("the holder never opened the group: %s", holder);
        judge_assert_refused(sc, "unbind", ERR_PREFIX "InUse", "held", "after-unbind");
        /* Dry runs: each reports, none changes anything. */
        judge_assert_refused(sc, "unbind-dry", ERR_PREFIX "InUse", "held", "after-dry");
        judge_assert_ok(sc, "bind-dry");
        judge_assert_ok(sc, "bind-group-dry");
        held = judge_state(sc, "held");
        restored = judge_state(sc, "restored");
        judge_assert_driver(held, "held", RNG, "vfio-pci");
        judge_assert_driver(held, "held", EDU, "-");
        judge_assert_ok(sc, "unbind-free");
        judge_assert_driver(restored, "restored", RNG, "virtio-pci");
}

/* The monitor.jsonl line of event for pid, NULL when none. */
static json_object *holder_event(const char *sc, const char *event, gint64 pid) {
        g_autofree char *monitor = judge_read(sc, "monitor.jsonl");
        g_auto(GStrv) lines = g_strsplit(monitor ?: "", "\n", -1);

        for (char **l = lines; *l; l++) {
                json_object *j = **l ? json_tokener_parse(*l) : NULL;
                json_object *p = j ? judge_json_get(j, "pid") : NULL;

                if (j && g_strcmp0(judge_json_str(j, "event"), event) == 0 && p && json_object_get_int64(p) == pid)
                        return j;
                if (j)
                        json_object_put(j);
        }
        return NULL;
}

/* "2026-12-03T09:41:02.204518Z" as µs since the epoch; -1 when unparsable. */
static gint64 iso_usec(const char *s) {
        g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
        g_autoptr(GDateTime) dt = s ? g_date_time_new_from_iso8601(s, utc) : NULL;

        return dt ? g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt) : -1;
}

static gboolean json_array_has_int(json_object *a, gint64 v) {
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (json_object_get_int64(json_object_array_get_idx(a, i)) == v)
                        return TRUE;
        return FALSE;
}

static gboolean json_array_has_string(json_object *a, const char *v) {
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (g_strcmp0(json_object_get_string(json_object_array_get_idx(a, i)), v) == 0)
                        return TRUE;
        return FALSE;
}

/* A VFIO user of the real kernel is a holder (Process1, HeldBy, the
 * monitor) and its exit clears it within a second (pidfd, inotify). */
static void test_holders(void) {
        const char *sc = "holders";
        g_autofree char *pid_s = NULL, *group_s = NULL, *holder = NULL, *mon_rc = NULL, *process = NULL;
        g_autoptr(json_object) held = NULL, freed = NULL, unbind = NULL, added = NULL, removed = NULL;
        g_autoptr(GHashTable) restored = NULL;
        const char *released;
        gint64 pid, group, latency;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "bind");
        pid_s = judge_read(sc, "holder.pid");
        group_s = judge_read(sc, "group");
        holder = judge_read(sc, "holder.out");
        if (!pid_s || !group_s || !holder || !strstr(holder, "holding=")) {
                judge_fail("the holder never opened the group: %s", holder);
                return;
        }
        pid = g_ascii_strtoll(pid_s, NULL, 10);
        group = g_ascii_strtoll(group_s, NULL, 10);
        process = g_strdup_printf(VH_PROCESS_PATH_PREFIX "/%" G_GINT64_FORMAT, pid);

        /* While it holds: HeldBy names it, unbinding is refused naming it. */
        held = judge_json(sc, "show-held");
        if (!held || !json_array_has_string(judge_json_get(held, "held_by"), process))
                judge_fail("show's held_by does not name %s while it holds group %" G_GINT64_FORMAT ": %s", process,
                           group, held ? json_object_to_json_string(judge_json_get(held, "held_by")) : "(no JSON)");
        unbind = judge_json(sc, "unbind-held");
        if (judge_rc(sc, "unbind-held") == 0 || g_strcmp0(judge_error_name(unbind), ERR_PREFIX "InUse") != 0)
                judge_fail("unbind while held was not refused with InUse (rc %d)", judge_rc(sc, "unbind-held"));
        else if (!strstr(judge_json_str(judge_json_get(unbind, "error"), "message") ?: "", g_strstrip(pid_s)))
                judge_fail("the InUse refusal does not name pid %s: %s", pid_s,
                           judge_json_str(judge_json_get(unbind, "error"), "message"));

        /* The monitor saw it come and go. */
        added = holder_event(sc, "process-added", pid);
        removed = holder_event(sc, "process-removed", pid);
        if (!added)
                judge_fail("the monitor printed no process-added for pid %" G_GINT64_FORMAT, pid);
        else if (!json_array_has_int(judge_json_get(added, "groups"), group))
                judge_fail("process-added does not say group %" G_GINT64_FORMAT ": %s", group,
                           json_object_to_json_string(added));
        else if (g_strcmp0(judge_json_str(added, "command"), "vh-vfio-client") != 0)
                judge_fail("process-added names %s, not vh-vfio-client", judge_json_str(added, "command"));
        if (!removed) {
                judge_fail("the monitor printed no process-removed for pid %" G_GINT64_FORMAT, pid);
        } else {
                released = strstr(holder, "released_usec=");
                latency = released ? iso_usec(judge_json_str(removed, "time")) -
                                     g_ascii_strtoll(released + strlen("released_usec="), NULL, 10)
                                   : -1;
                judge_msg("holders: exit seen after %.1f ms", (double) latency / 1000.0);
                if (!released || latency < 0 || latency > G_USEC_PER_SEC)
                        judge_fail("the holder's exit was not seen within 1 s (%" G_GINT64_FORMAT " µs; %s)", latency,
                                   holder);
        }
        freed = judge_json(sc, "show-free");
        if (!freed || !judge_json_get(freed, "held_by") || json_object_array_length(judge_json_get(freed, "held_by")) != 0)
                judge_fail("held_by is not empty after the holder exited: %s",
                           freed ? json_object_to_json_string(judge_json_get(freed, "held_by")) : "(no JSON)");
        mon_rc = judge_read(sc, "monitor.rc");
        if (!mon_rc || atoi(mon_rc) != 0)
                judge_fail("vfiohostctl monitor exited %s on SIGINT", mon_rc ?: "(unknown)");
        judge_assert_ok(sc, "unbind");
        restored = judge_state(sc, "restored");
        judge_assert_driver(restored, "restored", RNG, "virtio-pci");
}

static void test_twice(void) {
        const char *sc = "twice";
        const char *steps[] = { "bind-2", "unbind-2" };

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "bind-1");
        judge_assert_ok(sc, "unbind-1");
        for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
                g_autoptr(json_object) j = judge_json(sc, steps[i]);
                g_autofree char *trace_name = g_strconcat(steps[i], ".trace", NULL);
                g_autofree char *trace = judge_read(sc, trace_name);
                struct json_object *devs = judge_json_get(j, "devices");
                g_auto(GStrv) lines = NULL;
                unsigned n = 0;

                judge_assert_ok(sc, steps[i]);
                for (size_t k = 0; devs && k < json_object_array_length(devs); k++)
                        if (json_object_get_boolean(judge_json_get(json_object_array_get_idx(devs, k), "changed")))
                                judge_fail("%s reports %s changed", steps[i],
                                                   judge_json_str(json_object_array_get_idx(devs, k), "address"));
                if (!trace)
                        continue;
                lines = g_strsplit(trace, "\n", -1);
                for (char **l = lines; *l; l++) {
                        if (!**l)
                                continue;
                        n++;
                        if ((strstr(*l, "write(") && (strstr(*l, "</sys/") || strstr(*l, "</var/lib/vfiohost"))) ||
                            (strstr(*l, "open") && (strstr(*l, "O_WRONLY") || strstr(*l, "O_RDWR") ||
                                                    strstr(*l, "O_CREAT"))) ||
                            strstr(*l, "rename") || strstr(*l, "unlink"))
                                judge_fail("%s wrote: %s", steps[i], *l);
                }
                /* The trace saw the call (it reads sysfs), or it proves nothing. */
                if (n == 0)
                        judge_fail("%s: the trace of the daemon is empty", steps[i]);
                judge_msg("%s: %u traced syscalls, none a write", steps[i], n);
        }
}

/* Persisted, removed, rescanned: back on vfio-pci with nobody calling. */
static void test_persist_replug(void) {
        const char *sc = "persist-replug";
        g_autoptr(GHashTable) persisted = NULL, removed = NULL, replugged = NULL, restored = NULL;
        g_autoptr(json_object) show = NULL, waiting = NULL, applied = NULL;
        g_autofree char *latency = NULL;
        struct json_object *e, *d;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "persist");
        persisted = judge_state(sc, "persisted");
        judge_assert_driver(persisted, "persisted", EDU, "vfio-pci");

        /* The name is an address. */
        judge_assert_ok(sc, "show-name");
        show = judge_json(sc, "show-name");
        d = show && json_object_is_type(show, json_type_array) ? json_object_array_get_idx(show, 0) : show;
        if (g_strcmp0(judge_json_str(d, "address"), EDU) != 0 || g_strcmp0(judge_json_str(d, "name"), "edu") != 0)
                judge_fail("show edu: address %s, name %s", judge_json_str(d, "address"), judge_json_str(d, "name"));

        removed = judge_state(sc, "removed");
        if (judge_state_get(removed, EDU, "driver"))
                judge_fail("%s is still there after remove", EDU);
        waiting = judge_json(sc, "persisted-removed");
        e = judge_only_assignment(waiting, "persisted after remove");
        if (e && g_strcmp0(judge_json_str(e, "state"), "waiting") != 0)
                judge_fail("after remove the assignment is %s, expected waiting", judge_json_str(e, "state"));

        replugged = judge_state(sc, "replugged");
        judge_assert_driver(replugged, "replugged", EDU, "vfio-pci");
        latency = judge_read(sc, "replug.latency");
        judge_msg("rescan -> %s on vfio-pci: %s ms", EDU, g_strstrip(latency ?: g_strdup("?")));
        applied = judge_json(sc, "persisted");
        e = judge_only_assignment(applied, "persisted after rescan");
        if (e && (g_strcmp0(judge_json_str(e, "state"), "applied") != 0 ||
                  g_strcmp0(judge_json_str(e, "name"), "edu") != 0))
                judge_fail("after rescan: state %s, name %s", judge_json_str(e, "state"), judge_json_str(e, "name"));

        judge_assert_ok(sc, "unpersist");
        judge_assert_ok(sc, "unbind");
        restored = judge_state(sc, "restored");
        judge_assert_driver(restored, "restored", EDU, "-");
}

static void test_idle_exit(void) {
        const char *sc = "idle-exit";
        g_autoptr(GHashTable) idle = NULL, restored = NULL;
        g_autoptr(json_object) show = NULL;
        g_autofree char *pid1 = NULL, *pid2 = NULL, *gone = NULL;
        struct json_object *d;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "bind");
        gone = judge_read(sc, "gone.rc");
        if (g_strcmp0(g_strstrip(gone ?: g_strdup("")), "0") != 0)
                judge_fail("vfiohostd did not exit when idle");
        idle = judge_state(sc, "idle");
        judge_assert_driver(idle, "idle", RNG, "vfio-pci");
        if (!strstr(judge_state_get(idle, "host", "journal") ?: "", RNG))
                judge_fail("the journal does not record %s while the daemon is gone", RNG);
        pid1 = judge_read(sc, "pid-1");
        pid2 = judge_read(sc, "pid-2");
        if (!pid2 || !*g_strstrip(pid2) || g_strcmp0(g_strstrip(pid1), pid2) == 0)
                judge_fail("no new daemon was activated (pids %s, %s)", pid1, pid2);
        show = judge_json(sc, "show");
        d = json_object_is_type(show, json_type_array) ? json_object_array_get_idx(show, 0) : show;
        if (g_strcmp0(judge_json_str(d, "original_driver"), "virtio-pci") != 0)
                judge_fail("the new daemon's OriginalDriver is \"%s\", the journal says virtio-pci",
                                   judge_json_str(d, "original_driver"));
        judge_assert_ok(sc, "unbind");
        restored = judge_state(sc, "restored");
        judge_assert_driver(restored, "restored", RNG, "virtio-pci");
}

static void test_kill_mid_bind(void) {
        const char *sc = "kill-mid-bind";
        g_autoptr(GHashTable) killed = NULL, reconciled = NULL, cleaned = NULL;
        g_autofree char *gone = NULL;
        const char *a, *b;

        if (!judge_scenario_ran(sc))
                return;
        gone = judge_read(sc, "gone.rc");
        if (g_strcmp0(g_strstrip(gone ?: g_strdup("")), "0") != 0)
                judge_fail("the daemon was not killed during the bind");
        killed = judge_state(sc, "killed");
        a = judge_state_get(killed, BR_A, "driver");
        b = judge_state_get(killed, BR_B, "driver");
        judge_msg("at the kill: %s on %s, %s on %s", BR_A, a, BR_B, b);
        if (g_strcmp0(a, "vfio-pci") != 0 || g_strcmp0(b, "vfio-pci") == 0)
                judge_fail("the kill did not land between the two functions (%s on %s, %s on %s)", BR_A, a,
                                   BR_B, b);

        reconciled = judge_state(sc, "reconciled");
        a = judge_state_get(reconciled, BR_A, "driver");
        b = judge_state_get(reconciled, BR_B, "driver");
        if (!(g_strcmp0(a, b) == 0 && (g_strcmp0(a, "virtio-pci") == 0 || g_strcmp0(a, "vfio-pci") == 0)))
                judge_fail("after reconcile: %s on %s, %s on %s — a mix", BR_A, a, BR_B, b);
        else
                judge_msg("reconciled to all %s", a);
        if (g_strcmp0(judge_state_get(reconciled, BR_A, "driver_override"),
                      g_strcmp0(a, "vfio-pci") == 0 ? "vfio-pci" : "(null)") != 0)
                judge_fail("after reconcile %s's driver_override is %s", BR_A,
                                   judge_state_get(reconciled, BR_A, "driver_override"));

        {
                g_autofree char *contents = judge_file_in(main_dir, "dbus-daemon.log");

                if (!contents || !strstr(contents, "Reconcile"))
                        judge_fail("the daemon's log does not say what reconcile did");
                else {
                        g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);

                        for (char **l = lines; *l; l++)
                                if (strstr(*l, "Reconcile"))
                                        judge_msg("log: %s", *l);
                }
        }
        cleaned = judge_state(sc, "cleaned");
        judge_assert_driver(cleaned, "cleaned", BR_A, "virtio-pci");
        judge_assert_driver(cleaned, "cleaned", BR_B, "virtio-pci");
}

/* Without polkit on the bus only root may change the host; the daemon
 * says so (org.freedesktop.DBus.Error.AccessDenied, as systemd's
 * bus-polkit does). */
static void assert_unprivileged_refused(const char *sc, const char *step, const char *before, const char *after) {
        g_autoptr(json_object) j = judge_json(sc, step);
        g_autofree char *out_name = g_strconcat(step, ".out", NULL);
        g_autofree char *out = judge_read(sc, out_name);

        judge_assert_refused(sc, step, "org.freedesktop.DBus.Error.AccessDenied", before, after);
        if (out && !strstr(out, "polkit"))
                judge_fail("%s/%s: the refusal does not say polkit was needed: %s", sc, step, out);
}

static void test_unprivileged(void) {
        const char *sc = "unprivileged";
        g_autoptr(GHashTable) bound = NULL;

        if (!judge_scenario_ran(sc))
                return;
        assert_unprivileged_refused(sc, "bind", "before", "after-bind");
        judge_assert_ok(sc, "root-bind");
        bound = judge_state(sc, "bound");
        judge_assert_driver(bound, "bound", RNG, "vfio-pci");
        assert_unprivileged_refused(sc, "unbind", "bound", "after-unbind");
        judge_assert_ok(sc, "root-unbind");
}

/* dbus-monitor's text: a PropertiesChanged of path naming property. */
static gboolean dbus_monitor_saw(const char *log, const char *path, const char *property) {
        g_auto(GStrv) blocks = g_strsplit(log ?: "", "\nsignal ", -1);
        g_autofree char *path_field = g_strdup_printf("path=%s;", path);
        g_autofree char *prop = g_strdup_printf("string \"%s\"", property);

        for (char **b = blocks; *b; b++)
                if (strstr(*b, path_field) && strstr(*b, "member=PropertiesChanged") && strstr(*b, prop))
                        return TRUE;
        return FALSE;
}

/* sd_bus_path_encode() of an address, as the daemon names devices. */
static char *device_path(const char *address) {
        GString *s = g_string_new(VH_DEVICE_PATH_PREFIX "/");

        for (const char *p = address; *p; p++)
                if (g_ascii_isalnum(*p) && !(p == address && g_ascii_isdigit(*p)))
                        g_string_append_c(s, *p);
                else
                        g_string_append_printf(s, "_%02x", (unsigned char) *p);
        return g_string_free(s, FALSE);
}

static void test_hotplug(void) {
        const char *sc = "hotplug";
        static const char *const changes[] = {
                "unbind-by-hand", "bind-by-hand", "edu-remove", "edu-rescan", "nic-remove", "nic-rescan",
        };
        g_autoptr(GHashTable) sysfs = NULL;
        g_autofree char *monitor = NULL, *dbus_log = NULL, *rng_path = device_path(RNG), *driver = NULL;
        g_auto(GStrv) lines = NULL;
        gboolean to_vfio = FALSE, back = FALSE;
        unsigned n_to_vfio = 0, n_back = 0;

        if (!judge_scenario_ran(sc))
                return;
        for (size_t i = 0; i < G_N_ELEMENTS(changes); i++) {
                g_autofree char *rc_name = g_strconcat(changes[i], ".rc", NULL);
                g_autofree char *lat_name = g_strconcat(changes[i], ".latency", NULL);
                g_autofree char *rc = judge_read(sc, rc_name), *lat = judge_read(sc, lat_name);

                if (!rc || !lat)
                        continue;
                if (atoi(rc) != 0)
                        judge_fail("%s: vfiohostctl monitor printed nothing within 5 s", changes[i]);
                else if (atoi(lat) > 2000)
                        judge_fail("%s: the event took %d ms to reach vfiohostctl monitor (at most 2000)", changes[i],
                                   atoi(lat));
                else
                        judge_msg("%s: seen by vfiohostctl monitor after %d ms", changes[i], atoi(lat));
        }

        /* show agrees with the changes made by hand. */
        {
                g_autoptr(json_object) unbound = judge_json(sc, "show-unbound"), bound = judge_json(sc, "show-bound");
                struct json_object *u = json_object_is_type(unbound, json_type_array) ?
                                                json_object_array_get_idx(unbound, 0) : unbound;
                struct json_object *b = json_object_is_type(bound, json_type_array) ?
                                                json_object_array_get_idx(bound, 0) : bound;

                if (g_strcmp0(judge_json_str(u, "driver"), "") != 0)
                        judge_fail("after the unbind by hand show says driver \"%s\"", judge_json_str(u, "driver"));
                if (g_strcmp0(judge_json_str(b, "driver"), "virtio-pci") != 0)
                        judge_fail("after the bind by hand show says driver \"%s\"", judge_json_str(b, "driver"));
        }

        dbus_log = judge_read(sc, "dbus-monitor.log");
        if (dbus_log && !dbus_monitor_saw(dbus_log, rng_path, "Driver"))
                judge_fail("dbus-monitor saw no PropertiesChanged of %s's Driver", RNG);

        /* After remove and rescan the model equals /sys again. */
        sysfs = assert_list_matches_sysfs(sc, "list", "sysfs");

        /* The monitor saw vfiohostd's own bind and unbind, and exited
         * cleanly on SIGINT. */
        judge_assert_ok(sc, "bind");
        judge_assert_ok(sc, "unbind");
        monitor = judge_read(sc, "monitor.jsonl");
        lines = g_strsplit(monitor ?: "", "\n", -1);
        for (char **l = lines; *l; l++) {
                g_autoptr(json_object) j = NULL;

                if (!**l)
                        continue;
                j = json_tokener_parse(*l);
                if (!j) {
                        judge_fail("monitor --json printed a line that is not JSON: %s", *l);
                        continue;
                }
                if (g_strcmp0(judge_json_str(j, "event"), "driver-changed") != 0 || g_strcmp0(judge_json_str(j, "address"), RNG) != 0)
                        continue;
                if (g_strcmp0(judge_json_str(j, "new_driver"), "vfio-pci") == 0) {
                        to_vfio = TRUE;
                        n_to_vfio++;
                }
                if (to_vfio && g_strcmp0(judge_json_str(j, "old_driver"), "vfio-pci") == 0) {
                        back = TRUE;
                        n_back++;
                }
        }
        if (!to_vfio || !back)
                judge_fail("monitor --json did not see the bind (%d) and the unbind (%d) of %s", to_vfio, back, RNG);
        /* vfiohostd's own change and the uevents it caused: one signal. */
        if (n_to_vfio > 1 || n_back > 1)
                judge_fail("the bind and unbind of %s were signalled %u and %u times", RNG, n_to_vfio, n_back);
        driver = judge_read(sc, "monitor.rc");
        if (driver && atoi(driver) != 0)
                judge_fail("vfiohostctl monitor exited %d on SIGINT", atoi(driver));
}

/* How many lines of the scenario's monitor.jsonl are event for address. */
static guint monitor_count(const char *sc, const char *event, const char *address) {
        g_autofree char *monitor = judge_read(sc, "monitor.jsonl");
        g_auto(GStrv) lines = g_strsplit(monitor ?: "", "\n", -1);
        guint n = 0;

        for (char **l = lines; *l; l++) {
                g_autoptr(json_object) j = **l ? json_tokener_parse(*l) : NULL;

                if (j && g_strcmp0(judge_json_str(j, "event"), event) == 0 &&
                    g_strcmp0(judge_json_str(j, "address"), address) == 0)
                        n++;
        }
        return n;
}

static void test_sriov(void) {
        const char *sc = "sriov";
        static const char *const vfs[] = { SRIOV_VF1, SRIOV_VF2 };
        g_autoptr(GHashTable) before = NULL, created = NULL, zero = NULL;
        g_autoptr(json_object) bind = NULL;
        g_autofree char *latency = NULL, *holder = NULL, *dmesg = NULL;
        const char *groups;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "show-pf");
        before = judge_state(sc, "before");
        if (g_strcmp0(judge_state_get(before, SRIOV_PF, "sriov_numvfs"), "0") != 0 ||
            g_strcmp0(judge_state_get(before, SRIOV_PF, "driver"), "nvme") != 0)
                judge_fail("the PF did not start on nvme without VFs");
        /* Refused or dry: nothing changed. */
        judge_assert_refused(sc, "over-total", "org.freedesktop.DBus.Error.InvalidArgs", "before", "after-dry");
        judge_assert_ok(sc, "dry-run");

        /* Created on vfio-pci, each VF with its group node, autoprobe back. */
        judge_assert_ok(sc, "create");
        latency = judge_read(sc, "create.latency");
        judge_msg("2 VFs on vfio-pci in %s ms", g_strstrip(latency ?: g_strdup("?")));
        created = judge_state(sc, "created");
        if (g_strcmp0(judge_state_get(created, SRIOV_PF, "sriov_numvfs"), "2") != 0)
                judge_fail("sriov_numvfs is %s after create, expected 2", judge_state_get(created, SRIOV_PF, "sriov_numvfs"));
        if (g_strcmp0(judge_state_get(created, SRIOV_PF, "sriov_drivers_autoprobe"), "1") != 0)
                judge_fail("sriov_drivers_autoprobe was not restored to 1");
        groups = judge_state_get(created, "host", "dev_vfio");
        for (size_t i = 0; i < G_N_ELEMENTS(vfs); i++) {
                const char *g = judge_state_get(created, vfs[i], "iommu_group");

                judge_assert_driver(created, "created", vfs[i], "vfio-pci");
                if (!g || !judge_word_in(groups, g))
                        judge_fail("%s: no /dev/vfio/%s (nodes: %s)", vfs[i], g, groups);
                if (monitor_count(sc, "device-added", vfs[i]) != 1)
                        judge_fail("monitor: %u device-added for %s, expected 1", monitor_count(sc, "device-added", vfs[i]), vfs[i]);
        }
        /* Never on a host driver: nvme logs every controller it probes. */
        dmesg = judge_file_in(main_dir, "dmesg");
        if (dmesg && (strstr(dmesg, "pci function " SRIOV_VF1) || strstr(dmesg, "pci function " SRIOV_VF2)))
                judge_fail("nvme probed a VF: the host driver touched it");

        /* A held VF: the PF is not taken from nvme (its VFs would go),
         * force or not, and the VFs are not removed. */
        holder = judge_read(sc, "holder.pid");
        judge_assert_refused(sc, "bind-pf", ERR_PREFIX "HasVirtualFunctions", "created", "held");
        judge_assert_refused(sc, "bind-pf-force", ERR_PREFIX "HasVirtualFunctions", "created", "held");
        judge_assert_refused(sc, "zero-held", ERR_PREFIX "HasVirtualFunctions", "created", "held");
        bind = judge_json(sc, "bind-pf-force");
        if (holder && bind && !strstr(json_object_to_json_string(bind), g_strstrip(holder)))
                judge_fail("the forced bind's refusal does not name the holder (pid %s)", holder);

        /* Free again: back to 0, the PF as it was. */
        judge_assert_ok(sc, "zero");
        zero = judge_state(sc, "zero");
        for (size_t i = 0; i < G_N_ELEMENTS(vfs); i++) {
                if (judge_state_get(zero, vfs[i], "driver"))
                        judge_fail("%s is still there after going back to 0", vfs[i]);
                if (monitor_count(sc, "device-removed", vfs[i]) != 1)
                        judge_fail("monitor: %u device-removed for %s, expected 1",
                                   monitor_count(sc, "device-removed", vfs[i]), vfs[i]);
        }
        if (g_strcmp0(judge_state_get(zero, SRIOV_PF, "sriov_numvfs"), "0") != 0 ||
            g_strcmp0(judge_state_get(zero, SRIOV_PF, "driver"), "nvme") != 0 ||
            g_strcmp0(judge_state_get(zero, SRIOV_PF, "sriov_drivers_autoprobe"), "1") != 0)
                judge_fail("after 0 the PF is not as it was (numvfs %s, driver %s, autoprobe %s)",
                           judge_state_get(zero, SRIOV_PF, "sriov_numvfs"), judge_state_get(zero, SRIOV_PF, "driver"),
                           judge_state_get(zero, SRIOV_PF, "sriov_drivers_autoprobe"));
}

/* The persisted assignment's ListPersistent entry in step's output. */
static const char *persisted_state(const char *sc, const char *step) {
        static char state[32];
        g_autoptr(json_object) j = judge_json(sc, step);
        json_object *e;

        if (!j || !json_object_is_type(j, json_type_array) || json_object_array_length(j) != 1)
                return NULL;
        e = json_object_array_get_idx(j, 0);
        g_strlcpy(state, judge_json_str(e, "state") ?: "", sizeof(state));
        return state;
}

static void assert_vfs_on_vfio(GHashTable *state, const char *snap) {
        judge_assert_driver(state, snap, SRIOV_VF1, "vfio-pci");
        judge_assert_driver(state, snap, SRIOV_VF2, "vfio-pci");
        if (g_strcmp0(judge_state_get(state, SRIOV_PF, "sriov_numvfs"), "2") != 0 ||
            g_strcmp0(judge_state_get(state, SRIOV_PF, "driver"), "nvme") != 0)
                judge_fail("%s: the PF has %s VFs on %s, expected 2 on nvme", snap,
                           judge_state_get(state, SRIOV_PF, "sriov_numvfs"), judge_state_get(state, SRIOV_PF, "driver"));
}

/* A persisted VF count: made at once; made again by the PF's bind uevent
 * alone, and at start; the PF keeps nvme throughout. */
static void test_sriov_persist(void) {
        const char *sc = "sriov-persist";
        g_autoptr(GHashTable) persisted = NULL, zeroed = NULL, unbound = NULL, rebound = NULL, stopped = NULL, restarted = NULL,
                              cleaned = NULL;
        g_autofree char *latency = NULL, *rebound_rc = NULL, *restarted_rc = NULL;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "persist");
        persisted = judge_state(sc, "persisted");
        assert_vfs_on_vfio(persisted, "persisted");

        zeroed = judge_state(sc, "zeroed");
        if (g_strcmp0(judge_state_get(zeroed, SRIOV_PF, "sriov_numvfs"), "0") != 0 ||
            judge_state_get(zeroed, SRIOV_VF1, "vendor"))
                judge_fail("zeroed: VFs removed by hand were made again (sriov_numvfs %s)",
                           judge_state_get(zeroed, SRIOV_PF, "sriov_numvfs"));
        unbound = judge_state(sc, "unbound");
        if (judge_state_get(unbound, SRIOV_VF1, "vendor") ||
            g_strcmp0(judge_state_get(unbound, SRIOV_PF, "driver"), "-") != 0)
                judge_fail("unbound: the PF has driver %s, or VFs", judge_state_get(unbound, SRIOV_PF, "driver"));

        rebound_rc = judge_read(sc, "rebound.rc");
        latency = judge_read(sc, "rebound.latency");
        if (g_strcmp0(g_strstrip(rebound_rc ?: g_strdup("?")), "0") != 0)
                judge_fail("the VFs were not made again after the PF's driver came back");
        judge_msg("PF re-bound to nvme -> 2 VFs on vfio-pci in %s ms (no call)", g_strstrip(latency ?: g_strdup("?")));
        rebound = judge_state(sc, "rebound");
        assert_vfs_on_vfio(rebound, "rebound");
        if (g_strcmp0(judge_state_get(rebound, SRIOV_PF, "sriov_drivers_autoprobe"), "1") != 0)
                judge_fail("rebound: sriov_drivers_autoprobe was not restored to 1");
        judge_assert_ok(sc, "persisted-rebound");
        if (g_strcmp0(persisted_state(sc, "persisted-rebound"), "applied") != 0)
                judge_fail("persisted after the re-bind: state %s, expected applied",
                           persisted_state(sc, "persisted-rebound"));

        stopped = judge_state(sc, "stopped");
        if (g_strcmp0(judge_state_get(stopped, SRIOV_PF, "sriov_numvfs"), "0") != 0)
                judge_fail("stopped: the VFs were not removed by hand");
        judge_assert_ok(sc, "persisted-start");
        restarted_rc = judge_read(sc, "restarted.rc");
        if (g_strcmp0(g_strstrip(restarted_rc ?: g_strdup("?")), "0") != 0)
                judge_fail("vfiohostd did not make the VFs at start");
        restarted = judge_state(sc, "restarted");
        assert_vfs_on_vfio(restarted, "restarted");

        judge_assert_ok(sc, "unpersist");
        judge_assert_ok(sc, "zero");
        cleaned = judge_state(sc, "cleaned");
        if (g_strcmp0(judge_state_get(cleaned, SRIOV_PF, "sriov_numvfs"), "0") != 0)
                judge_fail("cleaned: the PF still has VFs");
}

static void test_final(void) {
        g_autoptr(GHashTable) boot = NULL, final = NULL;
        g_autofree char *dmesg = NULL;
        static const char *const ignore[] = { "host daemon_pid", "host journal", NULL };

        if (!judge_scenario_ran("final"))
                return;
        boot = judge_state("boot", "boot");
        final = judge_state("final", "final");
        judge_assert_states_equal(boot, "boot", final, "final", ignore);
        if (strstr(judge_state_get(final, "host", "journal") ?: "", "\"address\""))
                judge_fail("the journal still holds entries: %s", judge_state_get(final, "host", "journal"));

        dmesg = judge_file_in(main_dir, "dmesg");
        if (!dmesg)
                return;
        {
                g_auto(GStrv) lines = g_strsplit(dmesg, "\n", -1);

                for (char **l = lines; *l; l++)
                        if (strstr(*l, "WARNING:") || strstr(*l, "BUG:") || strstr(*l, "Call Trace"))
                                judge_fail("dmesg: %s", *l);
        }
}

static void test_readiness_off(void) {
        const char *sc = "readiness-off";
        g_autoptr(json_object) check = NULL;
        struct json_object *checks;
        gboolean names_cause = FALSE;

        judge_init(off_dir);
        if (!judge_scenario_ran(sc))
                return;
        check = judge_json(sc, "check");
        if (!check)
                return;
        if (g_strcmp0(judge_json_str(check, "verdict"), "not-ready") != 0)
                judge_fail("check with intel_iommu=off: verdict %s, expected not-ready",
                                   judge_json_str(check, "verdict"));
        checks = judge_json_get(check, "checks");
        for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
                struct json_object *k = json_object_array_get_idx(checks, i);
                g_autofree char *text = NULL;

                if (g_strcmp0(judge_json_str(k, "result"), "fail") != 0)
                        continue;
                text = g_strconcat(judge_json_str(k, "summary"), " ", judge_json_str(k, "detail"), " ", judge_json_str(k, "remedy"),
                                   NULL);
                judge_msg("FAIL %s: %s", judge_json_str(k, "id"), text);
                if (strstr(text, "intel_iommu=off"))
                        names_cause = TRUE;
                /* The guest has an Intel vIOMMU (DMAR): no talk of AMD or of
                 * adding one. */
                if (strstr(text, "amd_iommu") || strstr(text, "AMD") || strstr(text, "give it a virtual IOMMU"))
                        judge_fail("%s reasons about the wrong IOMMU: %s", judge_json_str(k, "id"), text);
        }
        if (!names_cause)
                judge_fail("no failing check names intel_iommu=off as the cause");
}

int main(int argc, char **argv) {
        const char *results = g_getenv("VH_E2E_RESULTS");
        int r;
        g_test_init(&argc, &argv, NULL);
        g_test_set_nonfatal_assertions();
        if (!results) {
                g_printerr("VH_E2E_RESULTS is not set (tests/e2e/run-guest1.sh sets it)\n");
                return 2;
        }
        main_dir = g_build_filename(results, "main", NULL);
        off_dir = g_build_filename(results, "iommu-off", NULL);
        judge_init(main_dir);

        g_test_add_func("/e2e/guest1/activation", test_activation);
        g_test_add_func("/e2e/guest1/inventory", test_inventory);
        g_test_add_func("/e2e/guest1/readiness", test_readiness);
        g_test_add_func("/e2e/guest1/route-critical", test_route_critical);
        g_test_add_func("/e2e/guest1/nic-bind", test_nic_bind);
        g_test_add_func("/e2e/guest1/bridge-group", test_bridge_group);
        g_test_add_func("/e2e/guest1/nvme-critical", test_nvme_critical);
        g_test_add_func("/e2e/guest1/in-use", test_in_use);
        g_test_add_func("/e2e/guest1/holders", test_holders);
        g_test_add_func("/e2e/guest1/twice", test_twice);
        g_test_add_func("/e2e/guest1/idle-exit", test_idle_exit);
        g_test_add_func("/e2e/guest1/kill-mid-bind", test_kill_mid_bind);
        g_test_add_func("/e2e/guest1/unprivileged", test_unprivileged);
        g_test_add_func("/e2e/guest1/hotplug", test_hotplug);
        g_test_add_func("/e2e/guest1/persist-replug", test_persist_replug);
        g_test_add_func("/e2e/guest1/sriov", test_sriov);
        g_test_add_func("/e2e/guest1/sriov-persist", test_sriov_persist);
        g_test_add_func("/e2e/guest1/final", test_final);
        g_test_add_func("/e2e/guest1/readiness-off", test_readiness_off);
        r = g_test_run();
        g_free(main_dir);
        g_free(off_dir);
        return r;
}
