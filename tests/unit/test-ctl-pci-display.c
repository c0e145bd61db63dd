/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's table names (client/ctl-pci-display.c): vendor and device
 * names as pci.ids spells them, shortened; class words; --class. */

#include <glib.h>

#include "ctl-pci-display.h"

static void test_vendor(void) {
        static const char *const cases[][2] = {
                { "Advanced Micro Devices, Inc. [AMD/ATI]", "AMD/ATI" },
                { "Advanced Micro Devices, Inc. [AMD]", "AMD" },
                { "NVIDIA Corporation", "NVIDIA" },
                { "Intel Corporation", "Intel" },
                { "Samsung Electronics Co Ltd", "Samsung" },
                { "Realtek Semiconductor Co., Ltd.", "Realtek" },
                { "Broadcom Inc. and subsidiaries", "Broadcom" },
                { "Mellanox Technologies", "Mellanox" },
                { "Kingston Technology Company, Inc.", "Kingston" },
                { "Red Hat, Inc.", "Red Hat" },
                { "Texas Instruments", "Texas Instruments" },
                { "Western Digital", "Western Digital" },
                { "Silicon Motion, Inc.", "Silicon Motion" },
                { "Systems", "Systems" },       /* the first word always stays */
                { "", "" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *s = ctl_short_vendor_name(cases[i][0]);

                g_assert_cmpstr(s, ==, cases[i][1]);
        }
}

static void test_device(void) {
        static const char *const cases[][2] = {
                { "AD102 [GeForce RTX 4090]", "GeForce RTX 4090" },
                { "Navi 31 [Radeon RX 7900 XT/7900 XTX]", "Radeon RX 7900 XT/7900 XTX" },
                { "NVMe SSD Controller PM9A1/PM9A3/980PRO", "NVMe SSD Controller PM9A1/PM9A3/980PRO" },
                { "Device 1234", "Device 1234" },
                { "[] odd", "[] odd" },
                { "Thing []", "Thing []" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *s = ctl_short_device_name(cases[i][0]);

                g_assert_cmpstr(s, ==, cases[i][1]);
        }
}

static void test_class(void) {
        g_assert_cmpstr(ctl_class_label(0x030000), ==, "VGA");
        g_assert_cmpstr(ctl_class_label(0x010802), ==, "NVMe");
        g_assert_cmpstr(ctl_class_label(0x060400), ==, "PCI bridge");
        g_assert_cmpstr(ctl_class_label(0x0c0330), ==, "USB");
        g_assert_cmpstr(ctl_class_label(0x040300), ==, "Audio");
        g_assert_cmpstr(ctl_class_label(0x120000), ==, "Accelerator");
        g_assert_cmpstr(ctl_class_label(0xfe0000), ==, "Other");
}

static void test_filter(void) {
        CtlClassFilter f;

        g_assert_cmpint(ctl_class_filter_parse("gpu", &f), ==, 0);
        g_assert_true(ctl_class_filter_match(&f, 0x030000));
        g_assert_true(ctl_class_filter_match(&f, 0x030200));
        g_assert_false(ctl_class_filter_match(&f, 0x040300));
        g_assert_cmpint(ctl_class_filter_parse("AUDIO", &f), ==, 0);
        g_assert_true(ctl_class_filter_match(&f, 0x040300));
        g_assert_true(ctl_class_filter_match(&f, 0x040100));
        g_assert_false(ctl_class_filter_match(&f, 0x040000));
        g_assert_cmpint(ctl_class_filter_parse("usb", &f), ==, 0);
        g_assert_true(ctl_class_filter_match(&f, 0x0c0330));
        g_assert_false(ctl_class_filter_match(&f, 0x0c0500));
        g_assert_cmpint(ctl_class_filter_parse("0c", &f), ==, 0);
        g_assert_true(ctl_class_filter_match(&f, 0x0c0500));
        g_assert_cmpint(ctl_class_filter_parse("0108", &f), ==, 0);
        g_assert_true(ctl_class_filter_match(&f, 0x010802));
        g_assert_false(ctl_class_filter_match(&f, 0x010601));
        g_assert_cmpint(ctl_class_filter_parse("010802", &f), ==, 0);
        g_assert_true(ctl_class_filter_match(&f, 0x010802));
        g_assert_false(ctl_class_filter_match(&f, 0x010801));
        g_assert_cmpint(ctl_class_filter_parse("3", &f), <, 0);
        g_assert_cmpint(ctl_class_filter_parse("03x0", &f), <, 0);
        g_assert_cmpint(ctl_class_filter_parse("printer", &f), <, 0);
        g_assert_cmpint(ctl_class_filter_parse("", &f), <, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/ctl-pci-display/vendor", test_vendor);
        g_test_add_func("/ctl-pci-display/device", test_device);
        g_test_add_func("/ctl-pci-display/class", test_class);
        g_test_add_func("/ctl-pci-display/filter", test_filter);
        return g_test_run();
}
