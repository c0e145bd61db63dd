/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vh-cpu-virt: the VMX capability MSRs decoded bit by bit as the Intel SDM
 * (vol. 3, appendix A) lays them out; the kernel's "vmx flags" words;
 * AMD's CPUID 0x8000000A. */

#include <errno.h>

#include <glib.h>

#include "vh-cpu-virt.h"
#include "vh-hostfs.h"
#include "vh-unit.h"

/* A client part: EPT (with 1 GiB pages and A/D bits), VPID, unrestricted
 * guest, posted interrupts; no APIC-register virtualization, no VMCS
 * shadowing, no PML. IA32_VMX_BASIC: revision 4, 1024-byte VMCS regions,
 * write-back, INS/OUTS information, true controls. */
static const VhVmxMsrs client = {
        .basic = UINT64_C(0x00da040000000004),
        .pinbased = UINT64_C(0x000000ff00000016),
        .procbased = UINT64_C(0xfff9fffe04006172),
        .exit = UINT64_C(0x01ffffff00036dfb),
        .entry = UINT64_C(0x0003ffff000011fb),
        .procbased2 = UINT64_C(0x00553cfe00000000),
        .ept_vpid = UINT64_C(0x00000f0106734141),
};

static void assert_features(const VhCpuVirt *v, const bool want[_VH_VIRT_FEATURE_MAX]) {
        for (int f = 0; f < _VH_VIRT_FEATURE_MAX; f++)
                if (v->features[f] != want[f])
                        g_error("%s: %d, expected %d", vh_virt_feature_to_string(f), v->features[f], want[f]);
}

static void test_decode_client(void) {
        static const bool want[_VH_VIRT_FEATURE_MAX] = {
                [VH_VIRT_TWO_DIMENSIONAL_PAGING] = true,
                [VH_VIRT_UNRESTRICTED_GUEST] = true,
                [VH_VIRT_TAGGED_TLB] = true,
                [VH_VIRT_POSTED_INTERRUPTS] = true,
                [VH_VIRT_HUGE_PAGES_1G] = true,
        };
        VhCpuVirt v;

        vh_vmx_decode(&client, &v);
        g_assert_cmpint(v.source, ==, VH_VIRT_SOURCE_MSR);
        g_assert_cmpuint(v.vmcs_revision, ==, 4);
        g_assert_cmpuint(v.vmcs_size, ==, 1024);
        g_assert_cmpuint(v.vmcs_memory_type, ==, 6);
        g_assert_true(v.true_controls);
        assert_features(&v, want);
}

/* Every secondary control allowed: APICv, shadowing and PML too. Then the
 * same without "activate secondary controls": whatever procbased2 says
 * does not count (the MSR does not even exist then). */
static void test_decode_server(void) {
        VhVmxMsrs m = client;
        VhCpuVirt v;

        m.procbased2 = UINT64_C(0x003fffff00000000);
        vh_vmx_decode(&m, &v);
        for (int f = 0; f < _VH_VIRT_FEATURE_MAX; f++)
                g_assert_true(v.features[f]);

        /* APICv needs posted interrupts as well (KVM's cpu_has_vmx_apicv). */
        m.pinbased &= ~(UINT64_C(1) << (32 + 7));
        vh_vmx_decode(&m, &v);
        g_assert_false(v.features[VH_VIRT_POSTED_INTERRUPTS]);
        g_assert_false(v.features[VH_VIRT_APIC_VIRTUALIZATION]);

        m.procbased &= ~(UINT64_C(1) << (32 + 31));
        vh_vmx_decode(&m, &v);
        g_assert_false(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_false(v.features[VH_VIRT_TAGGED_TLB]);
        g_assert_false(v.features[VH_VIRT_UNRESTRICTED_GUEST]);
        g_assert_false(v.features[VH_VIRT_NESTED_ACCELERATION]);
        /* Bits in the allowed-0 half never mean "available". */
        m = client;
        m.procbased2 = UINT64_C(0x00000000ffffffff);
        vh_vmx_decode(&m, &v);
        g_assert_false(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
}

/* The kernel's own decoding, word by word: "ept_x_only" is not "ept",
 * "vapic" is not "vapic_reg". */
static void test_flags(void) {
        VhCpuVirt v;

        vh_vmx_decode_flags("vnmi preemption_timer posted_intr invvpid ept_x_only ept_ad ept_1gb flexpriority apicv "
                            "tsc_offset vtpr mtf vapic ept vpid unrestricted_guest vapic_reg vid ple shadow_vmcs pml "
                            "ept_mode_based_exec tsc_scaling", &v);
        g_assert_cmpint(v.source, ==, VH_VIRT_SOURCE_CPUINFO);
        for (int f = 0; f < _VH_VIRT_FEATURE_MAX; f++)
                g_assert_true(v.features[f]);
        g_assert_cmpuint(v.vmcs_revision, ==, 0);

        /* A nested guest's short list. */
        vh_vmx_decode_flags("vnmi invvpid ept_x_only ept_ad tsc_offset vtpr mtf vapic vpid unrestricted_guest", &v);
        g_assert_false(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_false(v.features[VH_VIRT_UNRESTRICTED_GUEST]);   /* needs EPT */
        g_assert_true(v.features[VH_VIRT_TAGGED_TLB]);
        g_assert_false(v.features[VH_VIRT_APIC_VIRTUALIZATION]);
        g_assert_false(v.features[VH_VIRT_DIRTY_LOGGING]);
}

static void test_svm(void) {
        VhCpuVirt v;

        /* NP, AVIC, virtual VMLOAD/VMSAVE, vGIF; 32768 ASIDs. */
        vh_svm_decode(1, 32768, (1u << 0) | (1u << 13) | (1u << 15) | (1u << 16), true, &v);
        g_assert_cmpint(v.source, ==, VH_VIRT_SOURCE_CPUID);
        g_assert_cmpuint(v.svm_revision, ==, 1);
        g_assert_cmpuint(v.asids, ==, 32768);
        g_assert_true(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_true(v.features[VH_VIRT_APIC_VIRTUALIZATION]);
        g_assert_true(v.features[VH_VIRT_POSTED_INTERRUPTS]);
        g_assert_true(v.features[VH_VIRT_NESTED_ACCELERATION]);
        g_assert_true(v.features[VH_VIRT_HUGE_PAGES_1G]);
        g_assert_true(v.features[VH_VIRT_TAGGED_TLB]);

        /* NP only, no 1 GiB pages on the host. */
        vh_svm_decode(1, 16, 1u << 0, false, &v);
        g_assert_true(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_false(v.features[VH_VIRT_APIC_VIRTUALIZATION]);
        g_assert_false(v.features[VH_VIRT_NESTED_ACCELERATION]);
        g_assert_false(v.features[VH_VIRT_HUGE_PAGES_1G]);

        vh_svm_decode(1, 16, 0, true, &v);
        g_assert_false(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_false(v.features[VH_VIRT_HUGE_PAGES_1G]);
}

/* The kernel's AMD words in the flags line: the same judgements as CPUID. */
static void test_svm_flags(void) {
        VhCpuVirt v;

        vh_svm_decode_flags("fpu pdpe1gb svm npt lbrv svm_lock nrip_save flushbyasid avic v_vmsave_vmload vgif", &v);
        g_assert_cmpint(v.source, ==, VH_VIRT_SOURCE_CPUINFO);
        g_assert_true(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_true(v.features[VH_VIRT_TAGGED_TLB]);
        g_assert_true(v.features[VH_VIRT_APIC_VIRTUALIZATION]);
        g_assert_true(v.features[VH_VIRT_NESTED_ACCELERATION]);
        g_assert_true(v.features[VH_VIRT_HUGE_PAGES_1G]);
        g_assert_false(v.features[VH_VIRT_DIRTY_LOGGING]);
        g_assert_cmpuint(v.asids, ==, 0);

        /* "x2avic" is not "avic"; no npt, no 1 GiB pages for guests. */
        vh_svm_decode_flags("fpu pdpe1gb svm x2avic vgif", &v);
        g_assert_false(v.features[VH_VIRT_APIC_VIRTUALIZATION]);
        g_assert_false(v.features[VH_VIRT_TWO_DIMENSIONAL_PAGING]);
        g_assert_false(v.features[VH_VIRT_HUGE_PAGES_1G]);
        g_assert_false(v.features[VH_VIRT_NESTED_ACCELERATION]);
}

static void read_msr(VhHostFs *fs, uint32_t index, uint64_t *ret) {
        int r = vh_hostfs_read_msr(fs, 0, index, ret);

        if (r < 0)
                g_error("MSR %#x: %s", index, g_strerror(-r));
}

/* A fixture's MSR file, read as vfiohostd reads it, decodes to what its
 * own vmx flags line says: the two sources of one CPU agree. */
static void test_fixture_msrs(gconstpointer data) {
        g_autofree char *dir = vh_unit_host_dir(data);
        g_autofree char *cpuinfo = NULL, *line = NULL;
        g_autofree char *cpuinfo_path = g_build_filename(dir, "proc", "cpuinfo", NULL);
        VhHostFs *fs = NULL;
        VhCpuVirt from_msrs, from_flags;
        VhVmxMsrs m = {};
        char *p, *end;
        uint64_t unused;

        g_assert_cmpint(vh_hostfs_new(dir, &fs), ==, 0);
        read_msr(fs, 0x480, &m.basic);
        read_msr(fs, 0x48d, &m.pinbased);
        read_msr(fs, 0x48e, &m.procbased);
        read_msr(fs, 0x48f, &m.exit);
        read_msr(fs, 0x490, &m.entry);
        read_msr(fs, 0x48b, &m.procbased2);
        read_msr(fs, 0x48c, &m.ept_vpid);
        vh_vmx_decode(&m, &from_msrs);
        /* Past the file's end is an MSR the CPU does not have. */
        g_assert_cmpint(vh_hostfs_read_msr(fs, 0, 0x491, &unused), ==, -EIO);
        g_assert_cmpint(vh_hostfs_read_msr(fs, 1, 0x480, &unused), ==, -ENOENT);

        vh_hostfs_free(fs);

        g_assert_true(g_file_get_contents(cpuinfo_path, &cpuinfo, NULL, NULL));
        p = strstr(cpuinfo, "vmx flags\t: ");
        g_assert_nonnull(p);
        p += strlen("vmx flags\t: ");
        end = strchr(p, '\n');
        line = g_strndup(p, end - p);
        vh_vmx_decode_flags(line, &from_flags);

        for (int f = 0; f < _VH_VIRT_FEATURE_MAX; f++)
                if (from_msrs.features[f] != from_flags.features[f])
                        g_error("%s: %s from the MSRs, %s from vmx flags", vh_virt_feature_to_string(f),
                                from_msrs.features[f] ? "yes" : "no", from_flags.features[f] ? "yes" : "no");
        g_assert_cmpuint(from_msrs.vmcs_revision, ==, 4);
        g_assert_true(from_msrs.true_controls);
}

static void test_names(void) {
        for (int f = 0; f < _VH_VIRT_FEATURE_MAX; f++)
                g_assert_nonnull(vh_virt_feature_to_string(f));
        g_assert_cmpstr(vh_virt_feature_to_string(VH_VIRT_TWO_DIMENSIONAL_PAGING), ==, "two-dimensional-paging");
        g_assert_null(vh_virt_feature_to_string(_VH_VIRT_FEATURE_MAX));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cpu-virt/decode/client", test_decode_client);
        g_test_add_func("/cpu-virt/decode/server", test_decode_server);
        g_test_add_func("/cpu-virt/flags", test_flags);
        g_test_add_func("/cpu-virt/svm", test_svm);
        g_test_add_func("/cpu-virt/svm-flags", test_svm_flags);
        g_test_add_data_func("/cpu-virt/fixture-msrs/desktop-intel", "desktop-intel", test_fixture_msrs);
        g_test_add_data_func("/cpu-virt/fixture-msrs/server-sriov", "server-sriov", test_fixture_msrs);
        g_test_add_func("/cpu-virt/names", test_names);
        return g_test_run();
}
