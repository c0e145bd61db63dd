/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Judges guest 2 (tests/e2e/guest2/scenarios.sh): the project installed as
 * a package on Debian 12 under systemd, dbus and polkitd. One test case per
 * scenario. VH_E2E_RESULTS names the results directory; "main" and
 * "reboot" are the two boots of one disk, install-manifest (next to it)
 * what meson install put there. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

#define RNG "0000:01:00.0"
#define NIC "0000:00:02.0"
#define POLKIT_CHALLENGE "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

static char *results_dir, *main_dir, *reboot_dir, *unpersisted_dir;

static void log_lines_with(const char *text, const char *needle) {
        g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);

        for (char **l = lines; *l; l++)
                if (strstr(*l, needle))
                        judge_msg("log: %s", *l);
}

/* "Key=Value" lines (systemctl show, a unit file, /proc/PID/status with
 * ':'); a key given twice keeps both values, newline-separated. */
static GHashTable *parse_pairs(const char *text, char sep) {
        GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_auto(GStrv) lines = g_strsplit(text ?: "", "\n", -1);

        for (char **l = lines; *l; l++) {
                const char *eq = strchr(*l, sep);
                char *key, *value;
                const char *old;

                if (!eq || **l == '#' || **l == ';' || **l == '[')
                        continue;
                key = g_strstrip(g_strndup(*l, eq - *l));
                value = g_strstrip(g_strdup(eq + 1));
                old = g_hash_table_lookup(h, key);
                if (old) {
                        char *joined = g_strconcat(old, "\n", value, NULL);
                        g_free(value);
                        value = joined;
                }
                g_hash_table_replace(h, key, value);
        }
        return h;
}

/* The [Service] section of a unit file only. */
static GHashTable *parse_unit_service(const char *unit) {
        g_auto(GStrv) lines = g_strsplit(unit ?: "", "\n", -1);
        g_autoptr(GString) service = g_string_new(NULL);
        gboolean in = FALSE;

        for (char **l = lines; *l; l++) {
                if (**l == '[')
                        in = strcmp(*l, "[Service]") == 0;
                else if (in)
                        g_string_append_printf(service, "%s\n", *l);
        }
        return parse_pairs(service->str, '=');
}

static const char *boolean_of(const char *v) {
        if (!v)
                return NULL;
        if (g_ascii_strcasecmp(v, "yes") == 0 || g_ascii_strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
            g_ascii_strcasecmp(v, "on") == 0)
                return "yes";
        if (g_ascii_strcasecmp(v, "no") == 0 || g_ascii_strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
            g_ascii_strcasecmp(v, "off") == 0)
                return "no";
        return v;
}

/* Both lists hold the same words, in any order and case. */
static gboolean same_words(const char *a, const char *b) {
        g_auto(GStrv) wa = g_strsplit_set(a ?: "", " \n", -1), wb = g_strsplit_set(b ?: "", " \n", -1);
        unsigned na = 0, nb = 0;

        for (char **w = wa; *w; w++) {
                gboolean found = FALSE;

                if (!**w)
                        continue;
                na++;
                for (char **x = wb; *x && !found; x++)
                        found = g_ascii_strcasecmp(*w, *x) == 0;
                if (!found)
                        return FALSE;
        }
        for (char **x = wb; *x; x++)
                if (**x)
                        nb++;
        return na == nb;
}

static const char *const cap_names[] = {
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
        "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
        "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
        "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
        "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
        "checkpoint_restore",
};

/* CapabilityBoundingSet='s names as /proc/PID/status's mask; ~0 when a
 * name is unknown (the comparison then fails and says so). */
static uint64_t cap_mask(const char *names) {
        g_auto(GStrv) words = g_strsplit(names ?: "", " ", -1);
        uint64_t mask = 0;

        for (char **w = words; *w; w++) {
                const char *n = g_ascii_strncasecmp(*w, "cap_", 4) == 0 ? *w + 4 : *w;
                gboolean found = FALSE;

                if (!**w)
                        continue;
                for (size_t i = 0; i < G_N_ELEMENTS(cap_names) && !found; i++)
                        if (g_ascii_strcasecmp(n, cap_names[i]) == 0) {
                                mask |= UINT64_C(1) << i;
                                found = TRUE;
                        }
                if (!found)
                        return UINT64_MAX;
        }
        return mask;
}

/* ---- boot 1 ------------------------------------------------------------ */

static void test_activation(void) {
        const char *sc = "activation";
        g_autofree char *before = NULL, *after = NULL, *pid = NULL, *cgroup = NULL, *file = NULL, *dbus = NULL,
                        *mods_before = NULL, *mods_after = NULL, *modprobe = NULL;
        g_autoptr(GHashTable) show_before = NULL, show_after = NULL, activation = NULL, mp = NULL;

        if (!judge_scenario_ran(sc))
                return;
        before = judge_read(sc, "show-before.out");
        show_before = parse_pairs(before, '=');
        if (judge_rc(sc, "pid-before") == 0 ||
            g_strcmp0(g_hash_table_lookup(show_before, "ActiveState"), "inactive") != 0 ||
            g_strcmp0(g_hash_table_lookup(show_before, "MainPID"), "0") != 0)
                judge_fail("vfiohostd was running at boot (%s); it must wait for the first call", before);
        if (g_strcmp0(g_hash_table_lookup(show_before, "LoadState"), "loaded") != 0)
                judge_fail("systemd does not know vfiohostd.service: %s", before);

        judge_assert_ok(sc, "status");

        after = judge_read(sc, "show-after.out");
        show_after = parse_pairs(after, '=');
        pid = g_strstrip(judge_read(sc, "pid-after.out") ?: g_strdup(""));
        if (g_strcmp0(g_hash_table_lookup(show_after, "ActiveState"), "active") != 0 ||
            g_strcmp0(g_hash_table_lookup(show_after, "SubState"), "running") != 0)
                judge_fail("after the first call systemd says vfiohostd.service is %s/%s",
                           (char *) g_hash_table_lookup(show_after, "ActiveState"),
                           (char *) g_hash_table_lookup(show_after, "SubState"));
        if (!*pid || g_strcmp0(g_hash_table_lookup(show_after, "MainPID"), pid) != 0)
                judge_fail("the running vfiohostd (pid %s) is not the unit's MainPID (%s)", pid,
                           (char *) g_hash_table_lookup(show_after, "MainPID"));
        else
                judge_msg("vfiohostd.service active, MainPID %s, %s", pid, after);
        cgroup = judge_read(sc, "cgroup.out");
        if (!cgroup || !strstr(cgroup, "/system.slice/vfiohostd.service"))
                judge_fail("vfiohostd is not in the unit's cgroup: %s", cgroup);

        /* The bus asked systemd: SystemdService= names the unit. */
        file = judge_read(sc, "activation-file.out");
        activation = parse_pairs(file, '=');
        if (g_strcmp0(g_hash_table_lookup(activation, "SystemdService"), "vfiohostd.service") != 0)
                judge_fail("the installed activation file has no SystemdService=vfiohostd.service: %s", file);
        dbus = judge_read(sc, "dbus-log.out");
        if (!dbus || !strstr(dbus, "Activating via systemd: service name='org.vfiohost' unit='vfiohostd.service'") ||
            !strstr(dbus, "Successfully activated service 'org.vfiohost'"))
                judge_fail("dbus-daemon's log does not show org.vfiohost activated via systemd: %s", dbus);
        else
                log_lines_with(dbus, "org.vfiohost");
        /* Not dbus-daemon's own setuid helper (guest 1's way). */
        if (dbus && strstr(dbus, "using servicehelper"))
                judge_fail("dbus-daemon activated org.vfiohost through its service helper, not systemd");

        /* ProtectKernelModules= keeps the daemon from loading vfio-pci:
         * modprobe@vfio_pci.service (the unit's Wants=) does. */
        mods_before = judge_read(sc, "modules-before.out");
        mods_after = judge_read(sc, "modules-after.out");
        if (judge_module_loaded(mods_before, "vfio_pci"))
                judge_fail("vfio_pci was loaded before the daemon started; the scenario needs it absent");
        if (!judge_module_loaded(mods_after, "vfio_pci"))
                judge_fail("vfio_pci is not loaded after the daemon started");
        modprobe = judge_read(sc, "modprobe-unit.out");
        mp = parse_pairs(modprobe, '=');
        if (g_strcmp0(g_hash_table_lookup(mp, "Result"), "success") != 0)
                judge_fail("modprobe@vfio_pci.service: %s", modprobe);
}

/* meson's list of what it installed, as the guest sees each file. The
 * unit goes where the build host's systemd.pc says, whatever the prefix:
 * /lib/systemd/system on Debian 12, /usr/lib/systemd/system elsewhere
 * ("|" separates what may stand there). */
static void test_install(void) {
        const char *sc = "install";
        static const char *const expected[] = {
                "/usr/libexec/vfiohostd",
                "/usr/bin/vfiohostctl",
                "/lib/systemd/system/vfiohostd.service|/usr/lib/systemd/system/vfiohostd.service",
                "/usr/share/dbus-1/system-services/org.vfiohost.service",
                "/usr/share/dbus-1/system.d/org.vfiohost.conf",
                "/usr/share/dbus-1/interfaces/org.vfiohost.xml",
                "/usr/share/polkit-1/actions/org.vfiohost.policy",
                "/usr/share/polkit-1/rules.d/50-org.vfiohost.rules",
        };
        g_autofree char *manifest = NULL, *files = NULL, *show = NULL, *pkaction = NULL, *rules = NULL,
                        *group = NULL, *verify = NULL, *journal = NULL;
        g_autoptr(GHashTable) unit = NULL;
        g_auto(GStrv) lines = NULL;

        if (!judge_scenario_ran(sc))
                return;
        manifest = judge_file_in(results_dir, "../install-manifest");
        files = judge_read(sc, "files.out");
        for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
                g_auto(GStrv) alternatives = g_strsplit(expected[i], "|", -1);
                gboolean found = FALSE;

                for (char **a = alternatives; *a && !found; a++)
                        found = judge_word_in(manifest, *a);
                if (!found)
                        judge_fail("meson install did not install %s", expected[i]);
        }
        lines = g_strsplit(manifest ?: "", "\n", -1);
        for (char **l = lines; *l; l++) {
                g_autofree char *prefix = g_strconcat(*l, " ", NULL);
                g_auto(GStrv) flines = g_strsplit(files ?: "", "\n", -1);
                const char *found = NULL;

                if (!**l)
                        continue;
                for (char **f = flines; *f && !found; f++)
                        if (g_str_has_prefix(*f, prefix))
                                found = *f;
                if (!found)
                        judge_fail("%s was installed but the guest has no such file", *l);
                else if (!g_str_has_suffix(found, " root:root"))
                        judge_fail("not owned by root in the guest: %s", found);
                else
                        judge_msg("installed: %s", found);
        }

        show = judge_read(sc, "unit-show.out");
        unit = parse_pairs(show, '=');
        if (g_strcmp0(g_hash_table_lookup(unit, "LoadState"), "loaded") != 0 ||
            !g_str_has_suffix(g_hash_table_lookup(unit, "FragmentPath") ?: "", "/lib/systemd/system/vfiohostd.service"))
                judge_fail("systemd does not load the installed unit: %s", show);
        /* No [Install]: only bus activation starts it. */
        if (g_strcmp0(g_hash_table_lookup(unit, "UnitFileState"), "static") != 0)
                judge_fail("vfiohostd.service is %s, expected static (bus-activated only)",
                           (char *) g_hash_table_lookup(unit, "UnitFileState"));

        /* polkitd sees the action; its default asks for an admin, so what
         * lets the group in without a password is the rule. */
        pkaction = judge_read(sc, "pkaction.out");
        if (judge_rc(sc, "pkaction") != 0 || !pkaction || !strstr(pkaction, "org.vfiohost.bind:"))
                judge_fail("pkaction does not know org.vfiohost.bind: %s", pkaction);
        else if (!strstr(pkaction, "Hand a PCI device to virtual machines"))
                /* The merged policy (gettext-domain vfiohost, no catalog
                 * installed) still gives polkitd the English text. */
                judge_fail("pkaction shows no description for org.vfiohost.bind: %s", pkaction);
        else if (!strstr(pkaction, "implicit any:      auth_admin"))
                judge_fail("org.vfiohost.bind's default is not auth_admin: %s", pkaction);
        rules = judge_read(sc, "rules.out");
        if (!rules || !strstr(rules, "subject.isInGroup(\"vfio\")"))
                judge_fail("the installed rules file does not grant group vfio: %s", rules);
        group = judge_read(sc, "group.out");
        if (!group || !g_str_has_prefix(group, "vfio:"))
                judge_fail("the guest has no group vfio: %s", group);
        journal = judge_file_in(main_dir, "journal.log");
        if (journal && !strstr(journal, "Loading rules from directory /usr/share/polkit-1/rules.d"))
                judge_fail("polkitd did not read /usr/share/polkit-1/rules.d");
        else
                log_lines_with(journal, "compiling and executing");
        /* polkitd names a rules file only when it cannot use it. */
        if (journal && strstr(journal, "50-org.vfiohost.rules"))
                judge_fail("polkitd complains about the rules file: %s", strstr(journal, "50-org.vfiohost.rules"));

        /* systemd-analyze verify: nothing to say but, at most, that man
         * cannot show Documentation= (no man-db in the guest). */
        verify = judge_read(sc, "verify.err");
        {
                g_auto(GStrv) vl = g_strsplit(verify ?: "", "\n", -1);

                for (char **l = vl; *l; l++) {
                        if (!**l)
                                continue;
                        if (strstr(*l, "Command 'man "))
                                judge_msg("systemd-analyze verify: %s", *l);
                        else
                                judge_fail("systemd-analyze verify: %s", *l);
                }
        }
}

static void assert_bound(GHashTable *state, const char *name, const char *address) {
        const char *group = judge_state_get(state, address, "iommu_group");

        judge_assert_driver(state, name, address, "vfio-pci");
        if (!judge_word_in(judge_state_get(state, "host", "dev_vfio"), group))
                judge_fail("%s: /dev/vfio/%s is missing (/dev/vfio: %s)", name, group,
                           judge_state_get(state, "host", "dev_vfio"));
}

static const char *const ignore_daemon[] = { "host daemon_pid", "host journal", NULL };

static void test_root_bind(void) {
        const char *sc = "root-bind";
        g_autoptr(GHashTable) before = NULL, bound = NULL, restored = NULL;

        if (!judge_scenario_ran(sc))
                return;
        before = judge_state(sc, "before");
        bound = judge_state(sc, "bound");
        restored = judge_state(sc, "restored");
        judge_assert_driver(before, "before", RNG, "virtio-pci");
        judge_assert_ok(sc, "bind");
        assert_bound(bound, "bound", RNG);
        judge_assert_ok(sc, "unbind");
        judge_assert_driver(restored, "restored", RNG, "virtio-pci");
        judge_assert_states_equal(before, "before", restored, "restored", ignore_daemon);
}

/* The journal's entry for ADDRESS, NULL when none. */
static struct json_object *journal_entry(struct json_object *journal, const char *address) {
        struct json_object *devs = judge_json_get(journal, "devices");

        for (size_t i = 0; devs && i < json_object_array_length(devs); i++)
                if (g_strcmp0(judge_json_str(json_object_array_get_idx(devs, i), "address"), address) == 0)
                        return json_object_array_get_idx(devs, i);
        return NULL;
}

static void test_state_dir(void) {
        const char *sc = "state-dir";
        g_autoptr(json_object) bound = NULL, unbound = NULL;
        g_autofree char *show = NULL, *environ = NULL, *stat = NULL, *unit_file = NULL;
        g_autoptr(GHashTable) props = NULL, unit = NULL;
        struct json_object *e;
        const char *dir;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "bind");
        bound = judge_json(sc, "journal-bound");
        e = journal_entry(bound, RNG);
        if (!e)
                judge_fail("/var/lib/vfiohost/journal.json has no entry for %s after the bind: %s", RNG,
                           json_object_to_json_string(bound));
        else if (g_strcmp0(judge_json_str(e, "state"), "bound") != 0 ||
                 g_strcmp0(judge_json_str(e, "original_driver"), "virtio-pci") != 0)
                judge_fail("the journal's entry: %s", json_object_to_json_string(e));
        else
                judge_msg("journal.json: %s", json_object_to_json_string(e));

        /* Where the unit says: StateDirectory=, given to the daemon as
         * $STATE_DIRECTORY. */
        unit_file = judge_read("sandbox", "unit.out");
        unit = parse_unit_service(unit_file);
        show = judge_read(sc, "show.out");
        props = parse_pairs(show, '=');
        dir = g_hash_table_lookup(unit, "StateDirectory");
        if (g_strcmp0(dir, "vfiohost") != 0 || g_strcmp0(g_hash_table_lookup(props, "StateDirectory"), dir) != 0)
                judge_fail("StateDirectory: the unit file says %s, systemd %s", dir,
                           (char *) g_hash_table_lookup(props, "StateDirectory"));
        environ = judge_read(sc, "environ.out");
        if (!environ || !strstr(environ, "STATE_DIRECTORY=/var/lib/vfiohost\n"))
                judge_fail("the daemon was not given STATE_DIRECTORY=/var/lib/vfiohost: %s", environ);
        stat = judge_read(sc, "stat.out");
        judge_msg("state directory: %s", stat);

        judge_assert_ok(sc, "unbind");
        unbound = judge_json(sc, "journal-unbound");
        if (unbound && journal_entry(unbound, RNG))
                judge_fail("the journal still holds %s after the unbind: %s", RNG,
                           json_object_to_json_string(unbound));
}

static void test_polkit_group(void) {
        const char *sc = "polkit-group";
        g_autofree char *id = NULL;
        g_autoptr(GHashTable) before = NULL, bound = NULL, restored = NULL;

        if (!judge_scenario_ran(sc))
                return;
        id = judge_read(sc, "id.out");
        if (!id || !strstr(id, "(vfio)") || g_str_has_prefix(id, "uid=0("))
                judge_fail("the caller is not an unprivileged member of vfio: %s", id);
        before = judge_state(sc, "before");
        bound = judge_state(sc, "bound");
        restored = judge_state(sc, "restored");
        judge_assert_ok(sc, "bind");
        assert_bound(bound, "bound", RNG);
        judge_assert_ok(sc, "unbind");
        judge_assert_driver(restored, "restored", RNG, "virtio-pci");
        judge_assert_states_equal(before, "before", restored, "restored", ignore_daemon);
}

static void test_polkit_outsider(void) {
        const char *sc = "polkit-outsider";
        g_autofree char *id = NULL;
        g_autoptr(GHashTable) bound = NULL;
        int proc_vfio, proc_none;

        if (!judge_scenario_ran(sc))
                return;
        id = judge_read(sc, "id.out");
        if (!id || strstr(id, "(vfio)") || g_str_has_prefix(id, "uid=0("))
                judge_fail("the outsider is root or in vfio: %s", id);
        judge_assert_refused(sc, "bind", POLKIT_CHALLENGE, "before", "after-bind");
        judge_assert_ok(sc, "root-bind");
        bound = judge_state(sc, "bound");
        assert_bound(bound, "bound", RNG);
        judge_assert_refused(sc, "unbind", POLKIT_CHALLENGE, "bound", "after-unbind");
        judge_assert_ok(sc, "root-unbind");

        /* isInGroup() goes by one of two lists: the caller's process
         * groups, or the user database's. Either is coherent; a rule that
         * let both or neither through would not be about the group. */
        proc_vfio = judge_rc(sc, "bind-proc-vfio");
        proc_none = judge_rc(sc, "bind-proc-none");
        if (proc_vfio == 0 && proc_none != 0)
                judge_msg("polkit went by the caller's process groups (setgroups), not /etc/group");
        else if (proc_vfio != 0 && proc_none == 0)
                judge_msg("polkit went by /etc/group (getgrouplist of the user), not the process's groups: "
                          "bob with vfio in his process groups was refused, alice without them allowed");
        else
                judge_fail("the rule's group test is incoherent: outsider with vfio in its process groups exit %d, "
                           "member without any exit %d", proc_vfio, proc_none);
}

static void test_sandbox(void) {
        const char *sc = "sandbox";
        /* Unit key, systemctl show property, how to compare. */
        static const struct {
                const char *key, *prop;
                enum { SAME, BOOL, WORDS, CONTAINS } how;
        } table[] = {
                { "Type", "Type", SAME },
                { "BusName", "BusName", SAME },
                { "ExecStart", "ExecStart", CONTAINS },
                { "StateDirectory", "StateDirectory", SAME },
                { "WatchdogSec", "WatchdogUSec", SAME },
                { "CapabilityBoundingSet", "CapabilityBoundingSet", WORDS },
                { "DevicePolicy", "DevicePolicy", SAME },
                { "DeviceAllow", "DeviceAllow", CONTAINS },
                { "RestrictAddressFamilies", "RestrictAddressFamilies", WORDS },
                { "KeyringMode", "KeyringMode", SAME },
                { "LockPersonality", "LockPersonality", BOOL },
                { "MemoryDenyWriteExecute", "MemoryDenyWriteExecute", BOOL },
                { "NoNewPrivileges", "NoNewPrivileges", BOOL },
                { "PrivateMounts", "PrivateMounts", BOOL },
                { "PrivateTmp", "PrivateTmp", BOOL },
                { "ProtectClock", "ProtectClock", BOOL },
                { "ProtectControlGroups", "ProtectControlGroups", BOOL },
                { "ProtectHome", "ProtectHome", BOOL },
                { "ProtectHostname", "ProtectHostname", BOOL },
                { "ProtectKernelLogs", "ProtectKernelLogs", BOOL },
                { "ProtectKernelModules", "ProtectKernelModules", BOOL },
                { "ProtectSystem", "ProtectSystem", SAME },
                { "RestrictNamespaces", "RestrictNamespaces", BOOL },
                { "RestrictRealtime", "RestrictRealtime", BOOL },
                { "RestrictSUIDSGID", "RestrictSUIDSGID", BOOL },
                { "SystemCallArchitectures", "SystemCallArchitectures", SAME },
                { "UMask", "UMask", SAME },
        };
        g_autofree char *unit_file = NULL, *show = NULL, *status = NULL, *mountinfo = NULL, *security = NULL;
        g_autoptr(GHashTable) unit = NULL, props = NULL, proc = NULL, compared = NULL;
        g_autoptr(json_object) check = NULL;
        GHashTableIter it;
        gpointer key, value;
        uint64_t want, bnd, eff;

        if (!judge_scenario_ran(sc))
                return;
        judge_assert_ok(sc, "status");
        unit_file = judge_read(sc, "unit.out");
        show = judge_read(sc, "show.out");
        if (!unit_file || !show)
                return;
        unit = parse_unit_service(unit_file);
        props = parse_pairs(show, '=');
        compared = g_hash_table_new(g_str_hash, g_str_equal);

        for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
                const char *u = g_hash_table_lookup(unit, table[i].key);
                const char *p = g_hash_table_lookup(props, table[i].prop);
                gboolean ok;

                if (!u)
                        continue;
                g_hash_table_add(compared, (gpointer) table[i].key);
                switch (table[i].how) {
                case SAME:
                        ok = g_strcmp0(u, p) == 0;
                        break;
                case BOOL:
                        ok = g_strcmp0(boolean_of(u), boolean_of(p)) == 0;
                        break;
                case WORDS:
                        ok = same_words(u, p);
                        break;
                case CONTAINS:
                default: {
                        g_auto(GStrv) values = g_strsplit(u, "\n", -1);

                        ok = p != NULL;
                        for (char **v = values; ok && *v; v++)
                                ok = strstr(p, *v) != NULL;
                        break;
                }
                }
                if (!ok)
                        judge_fail("the unit says %s=%s, systemd shows %s=%s", table[i].key, u, table[i].prop,
                                   p ?: "(nothing)");
        }
        /* Spelled differently by systemctl show. */
        if (g_hash_table_lookup(unit, "IPAddressDeny")) {
                g_hash_table_add(compared, (gpointer) "IPAddressDeny");
                if (strcmp(g_hash_table_lookup(unit, "IPAddressDeny"), "any") != 0 ||
                    !same_words(g_hash_table_lookup(props, "IPAddressDeny"), "0.0.0.0/0 ::/0"))
                        judge_fail("IPAddressDeny: unit %s, systemd %s",
                                   (char *) g_hash_table_lookup(unit, "IPAddressDeny"),
                                   (char *) g_hash_table_lookup(props, "IPAddressDeny"));
        }
        if (g_hash_table_lookup(unit, "SystemCallErrorNumber")) {
                g_hash_table_add(compared, (gpointer) "SystemCallErrorNumber");
                if (strcmp(g_hash_table_lookup(unit, "SystemCallErrorNumber"), "EPERM") != 0 ||
                    g_strcmp0(g_hash_table_lookup(props, "SystemCallErrorNumber"), G_STRINGIFY(EPERM)) != 0)
                        judge_fail("SystemCallErrorNumber: unit %s, systemd %s",
                                   (char *) g_hash_table_lookup(unit, "SystemCallErrorNumber"),
                                   (char *) g_hash_table_lookup(props, "SystemCallErrorNumber"));
        }
        /* The expanded syscall list is not compared by name: the kernel
         * says a filter is in force (Seccomp: 2) below. */
        if (g_hash_table_lookup(unit, "SystemCallFilter")) {
                g_hash_table_add(compared, (gpointer) "SystemCallFilter");
                if (!*(char *) (g_hash_table_lookup(props, "SystemCallFilter") ?: ""))
                        judge_fail("the unit has SystemCallFilter=, systemd shows none");
        }
        g_hash_table_iter_init(&it, unit);
        while (g_hash_table_iter_next(&it, &key, &value))
                if (!g_hash_table_contains(compared, key))
                        judge_msg("not compared: %s=%s", (char *) key, (char *) value);
        judge_msg("compared %u settings of the unit file with systemctl show", g_hash_table_size(compared));

        /* What the kernel enforces on the running daemon. */
        status = judge_read(sc, "proc-status.out");
        proc = parse_pairs(status, ':');
        if (g_strcmp0(g_hash_table_lookup(proc, "NoNewPrivs"), "1") != 0)
                judge_fail("/proc/MAINPID/status: NoNewPrivs %s", (char *) g_hash_table_lookup(proc, "NoNewPrivs"));
        if (g_strcmp0(g_hash_table_lookup(proc, "Seccomp"), "2") != 0)
                judge_fail("/proc/MAINPID/status: Seccomp %s, expected 2 (filter)",
                           (char *) g_hash_table_lookup(proc, "Seccomp"));
        want = cap_mask(g_hash_table_lookup(unit, "CapabilityBoundingSet"));
        bnd = g_ascii_strtoull(g_hash_table_lookup(proc, "CapBnd") ?: "ffffffffffffffff", NULL, 16);
        eff = g_ascii_strtoull(g_hash_table_lookup(proc, "CapEff") ?: "ffffffffffffffff", NULL, 16);
        if (bnd != want)
                judge_fail("CapBnd is %016" PRIx64 ", the unit's CapabilityBoundingSet= makes %016" PRIx64, bnd, want);
        if (eff & ~bnd)
                judge_fail("CapEff %016" PRIx64 " holds capabilities outside CapBnd %016" PRIx64, eff, bnd);
        judge_msg("MAINPID: NoNewPrivs %s, Seccomp %s (%s filters), CapBnd %016" PRIx64 ", CapEff %016" PRIx64,
                  (char *) g_hash_table_lookup(proc, "NoNewPrivs"), (char *) g_hash_table_lookup(proc, "Seccomp"),
                  (char *) g_hash_table_lookup(proc, "Seccomp_filters"), bnd, eff);

        /* ProtectSystem=strict: / read-only but the state directory. */
        mountinfo = judge_read(sc, "mountinfo.out");
        {
                g_auto(GStrv) lines = g_strsplit(mountinfo ?: "", "\n", -1);
                gboolean root_ro = FALSE, state_rw = FALSE, home_gone = FALSE, tmp_private = FALSE;

                for (char **l = lines; *l; l++) {
                        g_auto(GStrv) f = g_strsplit(*l, " ", 7);

                        if (g_strv_length(f) < 6)
                                continue;
                        if (strcmp(f[4], "/") == 0)
                                root_ro = g_str_has_prefix(f[5], "ro");
                        else if (strcmp(f[4], "/var/lib/vfiohost") == 0)
                                state_rw = g_str_has_prefix(f[5], "rw");
                        else if (strcmp(f[4], "/home") == 0)
                                home_gone = strstr(f[3], "inaccessible") != NULL;
                        else if (strcmp(f[4], "/tmp") == 0)
                                tmp_private = strstr(f[3], "systemd-private-") != NULL;
                }
                if (!root_ro)
                        judge_fail("the daemon's / is not read-only (ProtectSystem=strict)");
                if (!state_rw)
                        judge_fail("the daemon's /var/lib/vfiohost is not a writable mount");
                if (!home_gone)
                        judge_fail("the daemon's /home is not inaccessible (ProtectHome=yes)");
                if (!tmp_private)
                        judge_fail("the daemon's /tmp is not private (PrivateTmp=yes)");
        }

        /* Sandboxed, it still sees enough of the host to judge it. */
        check = judge_json(sc, "check");
        judge_assert_ready(check, "check --json under the unit");
        security = judge_read(sc, "security.out");
        log_lines_with(security, "Overall exposure level");
}

/* Lost uevents on the real kernel: logged, and the rescan still finds
 * the unbind made among them. */
static void test_overflow(void) {
        const char *sc = "overflow";
        g_autoptr(json_object) show = NULL, back = NULL;
        g_autofree char *log = NULL, *pid = NULL, *pid_after = NULL, *rmem = NULL;
        struct json_object *d;

        if (!judge_scenario_ran(sc))
                return;
        rmem = judge_read(sc, "rmem_max");
        judge_msg("net.core.rmem_max: %s", rmem ? g_strstrip(rmem) : "?");
        log = judge_read(sc, "log.out");
        if (log && !strstr(log, "udev events were lost"))
                judge_fail("the daemon did not report lost uevents (its log: %.400s)", log);
        pid = judge_read(sc, "pid");
        pid_after = judge_read(sc, "pid-after");
        if (pid && pid_after && strcmp(g_strstrip(pid), g_strstrip(pid_after)) != 0)
                judge_fail("the daemon was replaced (%s, then %s): lost events must not be fatal", pid, pid_after);
        show = judge_json(sc, "show");
        d = json_object_is_type(show, json_type_array) ? json_object_array_get_idx(show, 0) : show;
        if (show && g_strcmp0(judge_json_str(d, "driver"), "") != 0)
                judge_fail("after the lost events show says driver \"%s\"; the unbind made among them was missed",
                           judge_json_str(d, "driver"));
        back = judge_json(sc, "show-back");
        d = json_object_is_type(back, json_type_array) ? json_object_array_get_idx(back, 0) : back;
        if (back && g_strcmp0(judge_json_str(d, "driver"), "virtio-pci") != 0)
                judge_fail("after binding it back by hand show says driver \"%s\"", judge_json_str(d, "driver"));
}

static void test_final(void) {
        g_autoptr(GHashTable) boot = NULL, final = NULL;

        if (!judge_scenario_ran("final"))
                return;
        boot = judge_state("boot", "boot");
        final = judge_state("final", "final");
        judge_assert_states_equal(boot, "boot", final, "final", ignore_daemon);
        if (strstr(judge_state_get(final, "host", "journal") ?: "", "\"address\""))
                judge_fail("the journal still holds entries: %s", judge_state_get(final, "host", "journal"));
}

/* ---- boot 1 → boot 2 ----------------------------------------------------- */

static void test_reboot(void) {
        g_autoptr(GHashTable) bound = NULL, before = NULL, after = NULL;
        g_autoptr(json_object) journal1 = NULL, journal2 = NULL;
        g_autofree char *log = NULL, *reconciled = NULL;
        struct json_object *e;

        if (!judge_scenario_ran("reboot-before"))
                return;
        judge_assert_ok("reboot-before", "bind");
        bound = judge_state("reboot-before", "bound");
        assert_bound(bound, "reboot-before", RNG);
        journal1 = judge_json("reboot-before", "journal");
        e = journal_entry(journal1, RNG);
        if (!e || g_strcmp0(judge_json_str(e, "state"), "bound") != 0)
                judge_fail("at power-off the journal does not say %s is bound: %s", RNG,
                           json_object_to_json_string(journal1));

        judge_init(reboot_dir);
        if (!judge_scenario_ran("reboot-after")) {
                judge_init(main_dir);
                return;
        }
        if (judge_rc("reboot-after", "pid-before") == 0)
                judge_fail("vfiohostd was running at boot 2 before any call");
        before = judge_state("reboot-after", "before");
        judge_assert_driver(before, "boot 2", RNG, "virtio-pci");
        if (!strstr(judge_state_get(before, "host", "journal") ?: "", RNG))
                judge_fail("boot 2 found no journal entry for %s: the scenario proves nothing (%s)", RNG,
                           judge_state_get(before, "host", "journal"));

        judge_assert_ok("reboot-after", "status");
        reconciled = judge_read("reboot-after", "reconciled.rc");
        if (g_strcmp0(g_strstrip(reconciled ?: g_strdup("")), "0") != 0)
                judge_fail("the daemon did not finish reconciling within 60 s");
        after = judge_state("reboot-after", "after");
        judge_assert_driver(after, "after reconcile", RNG, "virtio-pci");
        journal2 = judge_json("reboot-after", "journal");
        if (journal2 && journal_entry(journal2, RNG))
                judge_fail("after the reboot the daemon kept the stale entry for %s (on virtio-pci now): %s", RNG,
                           json_object_to_json_string(journal_entry(journal2, RNG)));
        {
                g_autoptr(json_object) show = judge_json("reboot-after", "show");

                if (show && *(judge_json_str(show, "original_driver") ?: ""))
                        judge_fail("after reconcile OriginalDriver is still \"%s\" (from the dropped entry)",
                                   judge_json_str(show, "original_driver"));
        }
        log = judge_read("reboot-after", "log.out");
        if (!log || !strstr(log, RNG " is no longer on vfio-pci (now virtio-pci); dropping its journal entry."))
                judge_fail("journalctl -u vfiohostd does not say the stale entry was dropped: %s", log);
        else
                log_lines_with(log, "dropping");
        {
                g_autofree char *boots = judge_read("reboot-after", "boots.out"),
                                *log1 = judge_read("reboot-after", "log-boot1.out");
                g_auto(GStrv) lines = g_strsplit(g_strstrip(boots ?: g_strdup("")), "\n", -1);

                /* A header line and one per boot. */
                if (g_strv_length(lines) < 3)
                        judge_fail("the journal does not know of two boots: %s", boots);
                if (!log1 || !strstr(log1, "Bind of " RNG))
                        judge_fail("boot 2's journal has no bind of %s in boot 1: %s", RNG, log1);
        }
        judge_init(main_dir);
}

/* Persist in boot 1 → boot 2: on vfio-pci before anyone called, because
 * udev set driver_override before e1000e loaded; unpersist → boot 3: on
 * e1000e again. */
static void test_persist_reboot(void) {
        g_autoptr(GHashTable) before = NULL, persisted = NULL, boot2 = NULL, unpersisted = NULL, boot3 = NULL;
        g_autoptr(json_object) list1 = NULL, list2 = NULL, list3 = NULL;
        g_autofree char *udev_log = NULL, *record = NULL, *store2 = NULL;
        struct json_object *e;

        if (!judge_scenario_ran("persist"))
                return;
        before = judge_state("persist", "before");
        judge_assert_driver(before, "before persist", NIC, "e1000e");
        judge_assert_ok("persist", "persist");
        persisted = judge_state("persist", "persisted");
        assert_bound(persisted, "persisted", NIC);
        list1 = judge_json("persist", "persisted");
        e = judge_only_assignment(list1, "boot 1");
        if (e && (g_strcmp0(judge_json_str(e, "state"), "applied") != 0 || g_strcmp0(judge_json_str(e, "name"), "nic")))
                judge_fail("boot 1: the assignment is %s", json_object_to_json_string(e));

        judge_init(reboot_dir);
        if (!judge_scenario_ran("persist-reboot")) {
                judge_fail("boot 2 did not run the persist-reboot scenario");
                judge_init(main_dir);
                return;
        }
        boot2 = judge_state("persist-reboot", "boot");
        assert_bound(boot2, "boot 2, before any call", NIC);
        if (g_strcmp0(judge_state_get(boot2, NIC, "driver_override"), "vfio-pci") != 0)
                judge_fail("boot 2: %s's driver_override is %s, expected vfio-pci", NIC,
                           judge_state_get(boot2, NIC, "driver_override"));
        /* udev did it, not the daemon: nothing had started it. */
        if (judge_rc("reboot-after", "pid-before") == 0)
                judge_fail("vfiohostd was running at boot 2 before any call: the assignment was not udev's doing");
        udev_log = judge_read("persist-reboot", "udev-log.out");
        if (!udev_log || !strstr(udev_log, NIC ": driver_override set to vfio-pci"))
                judge_fail("the udev helper's journal does not show the override of %s: %s", NIC, udev_log);
        record = judge_read("persist-reboot", "record.out");
        if (!record || !strstr(record, "vfio-pci"))
                judge_fail("/run/vfiohost/boot/%s does not record the override: %s", NIC, record);
        list2 = judge_json("persist-reboot", "persisted");
        e = judge_only_assignment(list2, "boot 2");
        if (e && g_strcmp0(judge_json_str(e, "state"), "applied") != 0)
                judge_fail("boot 2: the assignment is %s", json_object_to_json_string(e));
        judge_assert_ok("persist-reboot", "unpersist");
        unpersisted = judge_state("persist-reboot", "unpersisted");
        assert_bound(unpersisted, "unpersisted (until the next boot)", NIC);
        store2 = judge_read("persist-reboot", "store.out");
        if (store2 && strstr(store2, NIC))
                judge_fail("boot 2: the store still has %s after unpersist: %s", NIC, store2);

        judge_init(unpersisted_dir);
        if (!judge_scenario_ran("unpersisted")) {
                judge_fail("boot 3 did not run");
                judge_init(main_dir);
                return;
        }
        boot3 = judge_state("unpersisted", "boot");
        judge_assert_driver(boot3, "boot 3", NIC, "e1000e");
        if (judge_rc("unpersisted", "record") == 0)
                judge_fail("boot 3: /run/vfiohost/boot exists: something set an override");
        list3 = judge_json("unpersisted", "persisted");
        if (!list3 || json_object_array_length(list3) != 0)
                judge_fail("boot 3: assignments remain: %s", list3 ? json_object_to_json_string(list3) : "none");
        judge_init(main_dir);
}

/* Every boot: no unit failed, nothing at priority err or worse in the
 * journal, no kernel warning. */
static void test_health(void) {
        const char *dirs[] = { main_dir, reboot_dir, unpersisted_dir };

        for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
                g_autofree char *exit_code = judge_file_in(dirs[i], "exit"), *failed = judge_file_in(dirs[i], "failed-units"),
                                *err = judge_file_in(dirs[i], "journal-err.log"), *dmesg = judge_file_in(dirs[i], "dmesg");
                g_autofree char *multi_user = g_build_filename(dirs[i], "multi-user", NULL), *ts = NULL;
                g_auto(GStrv) lines = NULL;

                if (g_file_get_contents(multi_user, &ts, NULL, NULL) && strchr(ts, '='))
                        judge_msg("%s: multi-user.target reached %.1f s after the kernel started", dirs[i],
                                  g_ascii_strtod(strchr(ts, '=') + 1, NULL) / 1e6);
                if (exit_code && strcmp(g_strstrip(exit_code), "0") != 0)
                        judge_fail("%s: the scenario script exited %s", dirs[i], exit_code);
                if (failed && *g_strstrip(failed))
                        judge_fail("%s: failed units: %s", dirs[i], failed);
                lines = g_strsplit(err ?: "", "\n", -1);
                for (char **l = lines; *l; l++)
                        if (**l && !strstr(*l, "-- No entries --"))
                                judge_fail("%s: journal: %s", dirs[i], *l);
                g_strfreev(lines);
                lines = g_strsplit(dmesg ?: "", "\n", -1);
                for (char **l = lines; *l; l++)
                        if (strstr(*l, "WARNING:") || strstr(*l, "BUG:") || strstr(*l, "Call Trace"))
                                judge_fail("%s: dmesg: %s", dirs[i], *l);
        }
}

int main(int argc, char **argv) {
        const char *results = g_getenv("VH_E2E_RESULTS");
        int r;

        g_test_init(&argc, &argv, NULL);
        g_test_set_nonfatal_assertions();
        if (!results) {
                g_printerr("VH_E2E_RESULTS is not set (tests/e2e/run-guest2.sh sets it)\n");
                return 2;
        }
        results_dir = g_strdup(results);
        main_dir = g_build_filename(results, "main", NULL);
        reboot_dir = g_build_filename(results, "reboot", NULL);
        unpersisted_dir = g_build_filename(results, "unpersisted", NULL);
        judge_init(main_dir);

        g_test_add_func("/e2e/guest2/activation", test_activation);
        g_test_add_func("/e2e/guest2/install", test_install);
        g_test_add_func("/e2e/guest2/root-bind", test_root_bind);
        g_test_add_func("/e2e/guest2/state-dir", test_state_dir);
        g_test_add_func("/e2e/guest2/polkit-group", test_polkit_group);
        g_test_add_func("/e2e/guest2/polkit-outsider", test_polkit_outsider);
        g_test_add_func("/e2e/guest2/sandbox", test_sandbox);
        g_test_add_func("/e2e/guest2/overflow", test_overflow);
        g_test_add_func("/e2e/guest2/final", test_final);
        g_test_add_func("/e2e/guest2/reboot", test_reboot);
        g_test_add_func("/e2e/guest2/persist-reboot", test_persist_reboot);
        g_test_add_func("/e2e/guest2/health", test_health);
        r = g_test_run();
        g_free(results_dir);
        g_free(main_dir);
        g_free(reboot_dir);
        g_free(unpersisted_dir);
        return r;
}
