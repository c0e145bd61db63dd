/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* A fake PCI core for the bus tests: it imitates the kernel's sysfs
 * semantics (Documentation/ABI/testing/sysfs-bus-pci) on a COPY of a
 * fixture host tree, reacting to the daemon's writes while the daemon runs
 * with --root on that copy. It runs on its own thread in the test process.
 *
 * What it imitates
 * - devices/ADDR/driver_override: a write stores the text up to the first
 *   newline; "\n" (nothing before the newline) clears it. The file then
 *   shows the kernel's view: "NAME\n", or "(null)\n" when unset. A 0-byte
 *   write does not reach a sysfs store at all (sysfs_kf_write returns for
 *   count 0), so an empty write is a no-op: the file is put back.
 * - drivers/X/unbind <- ADDR: when ADDR is bound to X, the device's `driver`
 *   link and `drivers/X/ADDR` go; leaving a VFIO driver (vfio-pci, or a
 *   variant: a driver whose `module` is in
 *   sys/module/vfio_pci_core/holders), the device's
 *   vfio-dev/vfioN (and dev/vfio/devices/vfioN, sys/class/vfio-dev/vfioN)
 *   go, and `dev/vfio/<group>` (with sys/class/vfio/<group>) goes once no
 *   member of the group is on a VFIO driver any more.
 * - drivers/X/bind <- ADDR: binds when ADDR has no driver and X matches:
 *   the override names X, or there is no override and X is the device's
 *   natural driver (the one whose id table matches: see below).
 * - drivers_probe <- ADDR: a device with no driver gets the override's
 *   driver when drivers/<override> exists (else it stays unbound — the
 *   write still "succeeds", as in the kernel), or with no override its
 *   natural driver.
 * - Binding creates `driver -> ../../../../bus/pci/drivers/X` (relative, the
 *   depth of the device's directory below sys/) and
 *   `drivers/X/ADDR -> ../../../../devices/...`; the `uevent` file's DRIVER=
 *   line follows. Binding to a VFIO driver creates `dev/vfio/<group>` (an empty
 *   regular file, as in the fixtures) and, when the host has
 *   `dev/vfio/devices` (iommufd cdev), `vfio-dev/vfioN/{dev,uevent}` with
 *   the lowest free N, `dev/vfio/devices/vfioN` and the class link.
 *   Created before the `driver` link, removed after it: whoever sees the
 *   link sees the nodes.
 * - The natural driver of a device is the driver it had when the fake
 *   kernel started (recorded then). A device that started driverless, or on
 *   a VFIO driver (which binds only through an override: vfio-pci has no id
 *   table, its variants' entries are override-only),
 *   has none, unless a test sets one; a natural driver whose drivers/ dir
 *   is gone does not bind.
 * - bind/unbind/drivers_probe are write-only in the kernel: their files are
 *   emptied again once the write is handled.
 * - devices/PF/sriov_numvfs <- M (a PF: it has sriov_totalvfs): from 0, M
 *   VFs appear beside the PF at its routing id + sriov_offset + i *
 *   sriov_stride, with the PF's ids but sriov_vf_device, `physfn`, the PF's
 *   `virtfnN`, `sys/bus/pci/devices/VF` and an IOMMU group of their own
 *   (one above the highest), then each is probed to its natural driver
 *   (the PF's first VF's at start, or vh_fake_kernel_set_vf_driver) unless
 *   sriov_drivers_autoprobe is 0 ("> VF ..." in the log). To 0, every VF
 *   is unbound and removed, newest first ("< VF ..."). What the kernel
 *   would refuse changes nothing and is logged with "!": N→M with both
 *   nonzero (EBUSY), a PF without a driver or whose driver cannot
 *   (vh_fake_kernel_set_sriov_unsupported: ENOENT), more than
 *   sriov_totalvfs (ERANGE). The file then shows the count.
 * - devices/PF/sriov_drivers_autoprobe <- a bool (kstrtobool); shows 0/1.
 *
 * Synchronous, like the kernel. A sysfs write returns after the store ran,
 * so a daemon may read the `driver` link right after an unbind. inotify
 * reports writes only after the fact, so the fake kernel uses fanotify: a
 * FAN_CLOSE_WRITE event per write (with a descriptor that lets it read and
 * rewrite the file without causing events of its own) and a FAN_OPEN_PERM
 * gate on every watched attribute: any later open of one of them (the
 * daemon's next write or read) waits until every earlier write has been
 * handled. What is not gated: link reads (readlink, stat). Right after a
 * write returns, the `driver` link can still show the state before it until
 * the next open of a watched attribute or a short moment later; a real
 * unbind has removed it when the write returns. The daemon never relies on
 * that (it polls the link after drivers_probe and bind, as it must for
 * drivers that probe asynchronously, and after an unbind it writes again
 * before it looks). Events are handled one at a time in the order they
 * happened, in well under a millisecond each. fanotify needs CAP_SYS_ADMIN
 * (the bus tests run as root anyway).
 *
 * What it cannot imitate: errors. A write to a real attribute can fail
 * (EBUSY, ENODEV, EINVAL for no such device) or hang in a driver's remove
 * path; here the write has already succeeded when the fake kernel sees it.
 * Inject those in the daemon's own sysfs layer (VFIOHOST_TEST_FAULTS, see
 * service/core/vh-hostfs.h): a failed or hanging write never reaches the
 * file, so the fake kernel never sees it. Also not imitated: new_id,
 * remove_id, rescan, remove, uevents (nothing is sent on netlink: VFs
 * appear and vanish silently, the daemon re-reads the host after its own
 * operations), a PF driver's unbind removing its VFs, netdevs of new VFs,
 * module loading (vfio_pci.enable_sriov is only a file), async probing
 * except through the probe delay knob below.
 *
 * Safety: vh_fake_kernel_new() aborts unless root is a test directory below
 * TMPDIR (vh_test_is_temp_dir()); it never touches anything outside root. */

typedef struct VhFakeKernel VhFakeKernel;

/* Records every device's natural driver, IOMMU group and override, starts
 * watching and returns. Returns NULL after g_test_skip() when fanotify is
 * unavailable (no CAP_SYS_ADMIN, a seccomp filter). */
VhFakeKernel *vh_fake_kernel_new(const char *root);
/* Stops the thread (pending permission checks are allowed) and frees. */
void vh_fake_kernel_free(VhFakeKernel *k);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhFakeKernel, vh_fake_kernel_free)

/* Waits until every write made so far has been handled, nothing is
 * deferred, and nothing new came for a short quiet period. FALSE on timeout. */
gboolean vh_fake_kernel_wait_idle(VhFakeKernel *k, double timeout_s);

/* Number of writes (closes of a watched attribute opened for writing,
 * anyone's) handled since the start or the last reset. */
guint vh_fake_kernel_n_writes(VhFakeKernel *k);
void vh_fake_kernel_reset(VhFakeKernel *k);

/* What happened, in order, since the start or the last reset:
 *   "W devices/0000:01:00.0/driver_override vfio-pci"   (a write; the value
 *   "W drivers/nvidia/unbind 0000:01:00.0"               g_strescape()d:
 *   "W drivers_probe 0000:01:00.0"                        "\n" reads "\\n")
 *   "+ 0000:01:00.0 vfio-pci"                            (bound)
 *   "- 0000:01:00.0 nvidia"                              (unbound)
 *   "! 0000:01:00.0 probe: no driver"                    (a write without effect, and why)
 *   "> 0000:3b:03.0 VF 0 of 0000:3b:00.1, group 42"      (a VF created)
 *   "< 0000:3b:03.0 VF 0 of 0000:3b:00.1 removed"        (a VF removed)
 * Returns a new NULL-terminated array. */
char **vh_fake_kernel_log(VhFakeKernel *k);
/* Only the "W " lines, without the prefix. */
char **vh_fake_kernel_writes(VhFakeKernel *k);
/* Waits until a log line equal to line has appeared. FALSE on timeout. */
gboolean vh_fake_kernel_wait_for(VhFakeKernel *k, const char *line, double timeout_s);

/* Knobs (any time; address "DDDD:BB:DD.F"). */
/* The natural driver; NULL: none. */
void vh_fake_kernel_set_natural_driver(VhFakeKernel *k, const char *address, const char *driver);
/* drivers_probe does not bring the natural driver back (its probe fails);
 * an explicit drivers/X/bind still works. */
void vh_fake_kernel_set_probe_refuses(VhFakeKernel *k, const char *address, gboolean refuses);
/* vfio-pci refuses the device: neither drivers_probe nor drivers/vfio-pci/bind
 * bind it (as vfio_pci_probe failing for a denylisted device). */
void vh_fake_kernel_set_vfio_refuses(VhFakeKernel *k, const char *address, gboolean refuses);
/* The PF's driver has no sriov_configure: sriov_numvfs writes change nothing. */
void vh_fake_kernel_set_sriov_unsupported(VhFakeKernel *k, const char *pf, gboolean unsupported);
/* The natural driver of the PF's future VFs; NULL: none. */
void vh_fake_kernel_set_vf_driver(VhFakeKernel *k, const char *pf, const char *driver);
/* drivers_probe binds only after this many seconds (asynchronous probing);
 * the write itself is handled at once. */
void vh_fake_kernel_set_probe_delay(VhFakeKernel *k, const char *address, double seconds);

/* ---------- tree snapshots ---------- */

/* Every entry below root: relative path → "d", "l TARGET" or "f CONTENT"
 * (content escaped). Symlinks are not followed. */
GHashTable *vh_test_tree_snapshot(const char *root);
/* The differences between two snapshots, one line each, leaving out paths
 * that start with one of the prefixes (NULL-terminated, may be NULL); NULL
 * when identical. */
char *vh_test_tree_diff(GHashTable *before, GHashTable *after, const char *const *ignore_prefixes);
