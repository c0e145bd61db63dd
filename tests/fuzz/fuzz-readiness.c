/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One file the readiness checks parse (VH_FUZZ_PATH: proc/cpuinfo,
 * proc/cmdline, proc/modules, etc/group, ...), through vh_readiness_run()
 * on a copy of fixture host VH_FUZZ_HOST whose other files stay as
 * recorded. The host model is loaded once; every input runs every host
 * check. A report must keep its promises: each entry a known result with
 * every field set, and the verdict READY exactly when nothing fails. */

#include <stdlib.h>
#include <string.h>

#include "vh-fuzz.h"
#include "vh-host.h"
#include "vh-macro.h"
#include "vh-pci-names.h"
#include "vh-readiness.h"

#if !defined(VH_FUZZ_HOST) || !defined(VH_FUZZ_PATH)
#error "VH_FUZZ_HOST and VH_FUZZ_PATH name the fixture and the fuzzed file"
#endif

static const VhHostFs *fs;
static VhHost *host;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        VhPciNames *names = NULL;

        fs = vh_fuzz_setup(VH_FUZZ_HOST, false);
        if (vh_pci_names_new(fs, &names) < 0 || vh_host_load(fs, names, &host) < 0)
                abort();
        vh_pci_names_free(names);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vh_report_freep) VhReport *report = NULL;
        bool ready = true;

        vh_fuzz_write(VH_FUZZ_PATH, data, size);
        if (vh_readiness_run(fs, host, NULL, &report) < 0)
                abort();

        for (size_t i = 0; i < report->n_checks; i++) {
                const VhCheck *c = &report->checks[i];

                if (!c->id || !c->category || !vh_check_result_to_string(c->result) || !c->summary || !*c->summary ||
                    !c->detail || !c->remedy || !c->source)
                        abort();
                ready = ready && c->result != VH_CHECK_FAIL;
        }
        if (report->n_checks == 0 || ready != report->ready)
                abort();
        return 0;
}
