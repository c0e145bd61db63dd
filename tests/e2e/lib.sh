# Shared by the e2e scripts (sourced, POSIX sh). See docs/testing.md, "End to
# end in QEMU": a stock Debian kernel under TCG with an emulated Intel IOMMU.

E2E_DIR=$(cd "$(dirname "$0")" && pwd)

# Packages the guests are built from. --no-install-recommends: QEMU's
# recommends pull a desktop's worth of GStreamer and Mesa.
E2E_PACKAGES="qemu-system-x86 busybox-static cpio kmod dbus-bin e2fsprogs xz-utils"

# Where the kernel (and later the debootstrapped root) is kept between runs
# of the same machine; a fresh machine fills it.
if [ -z "${VH_E2E_CACHE:-}" ]; then
        if [ "$(id -u)" = 0 ]; then
                VH_E2E_CACHE=/var/cache/vfiohost-e2e
        else
                VH_E2E_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vfiohost-e2e
        fi
fi

e2e_now() {
        # Milliseconds since the epoch; phases are printed as they end.
        date +%s%3N
}

e2e_phase_start() {
        E2E_PHASE=$1
        E2E_PHASE_T0=$(e2e_now)
}

e2e_phase_end() {
        t=$(e2e_now)
        printf '# phase %-28s %6d ms\n' "$E2E_PHASE" $((t - E2E_PHASE_T0))
}

e2e_skip() {
        echo "SKIP: $*"
        exit 77
}

e2e_die() {
        echo "ERROR: $*" >&2
        exit 1
}

e2e_retry() {
        n=0
        until "$@"; do
                n=$((n + 1))
                [ "$n" -ge 20 ] && return 1
                echo "e2e: '$*' failed (dpkg lock held?), retrying in 5 s" >&2
                sleep 5
        done
}

e2e_missing_packages() {
        m=
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || m="$m $p"
        done
        echo "$m"
}

# Installs what is missing; skips (77) only when that is impossible.
e2e_ensure_packages() {
        # shellcheck disable=SC2086
        missing=$(e2e_missing_packages "$@")
        [ -z "$missing" ] && return 0
        command -v apt-get >/dev/null 2>&1 || e2e_skip "not Debian: cannot install$missing"
        if [ "$(id -u)" = 0 ]; then
                sudo=
        elif sudo -n true 2>/dev/null; then
                sudo="sudo -n"
        else
                e2e_skip "not root and no sudo: cannot install$missing"
        fi
        echo "e2e: installing$missing"
        # shellcheck disable=SC2086
        if ! { e2e_retry $sudo apt-get update -qq &&
               DEBIAN_FRONTEND=noninteractive e2e_retry $sudo apt-get install -y -qq --no-install-recommends $missing; } \
                >"${TMPDIR:-/tmp}/vfiohost-e2e-apt.log" 2>&1; then
                tail -n 20 "${TMPDIR:-/tmp}/vfiohost-e2e-apt.log" >&2
                e2e_skip "apt-get could not install$missing"
        fi
}

# The kernel Debian's linux-image-amd64 points at today, unpacked with its
# modules and an uncompressed vmlinux (3-4 s faster to boot under TCG).
# Sets E2E_KV and E2E_KDIR.
e2e_ensure_kernel() {
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
        [ -n "$pkg" ] || e2e_skip "apt cannot resolve linux-image-amd64 to a kernel package"
        E2E_KV=${pkg#linux-image-}
        E2E_KDIR=$VH_E2E_CACHE/$pkg
        if [ -f "$E2E_KDIR/.complete" ]; then
                return 0
        fi
        rm -rf "$E2E_KDIR"
        mkdir -p "$E2E_KDIR/deb"
        if ! (cd "$E2E_KDIR/deb" && e2e_retry apt-get download -qq "$pkg") >/dev/null 2>&1; then
                rm -rf "$E2E_KDIR"
                e2e_skip "apt-get download $pkg failed"
        fi
        dpkg -x "$E2E_KDIR"/deb/*.deb "$E2E_KDIR/root" || e2e_die "dpkg -x of $pkg failed"
        rm -rf "$E2E_KDIR/deb"
        vmlinuz=$E2E_KDIR/root/boot/vmlinuz-$E2E_KV
        [ -f "$vmlinuz" ] || e2e_die "$pkg holds no /boot/vmlinuz-$E2E_KV"
        # The xz stream inside the bzImage is the kernel proper.
        off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
        # xz complains about the bytes after the stream: judge by the ELF
        # magic, and boot the bzImage when that failed.
        if [ -n "$off" ]; then
                tail -c +$((off + 1)) "$vmlinuz" | xz -dc >"$E2E_KDIR/vmlinux" 2>/dev/null || :
        fi
        if [ "$(head -c 4 "$E2E_KDIR/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
                cp "$vmlinuz" "$E2E_KDIR/vmlinux"
        fi
        # The package ships no modules.dep.
        moddir=$E2E_KDIR/root/lib/modules
        [ -d "$moddir/$E2E_KV" ] || moddir=$E2E_KDIR/root/usr/lib/modules
        depmod -b "${moddir%/lib/modules}" "$E2E_KV" || e2e_die "depmod failed for $pkg"
        E2E_MODDIR=$moddir/$E2E_KV
        echo "$moddir/$E2E_KV" >"$E2E_KDIR/moddir"
        touch "$E2E_KDIR/.complete"
}

# A Debian package unpacked (not installed) into the cache: for programs
# the guest needs but this machine must not run, such as systemd-udevd.
# Prints the directory.
e2e_ensure_deb() {
        pkg=$1
        ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
        [ -n "$ver" ] && [ "$ver" != "(none)" ] || e2e_skip "apt knows no package $pkg"
        dir=$VH_E2E_CACHE/deb-$pkg-$ver
        if [ ! -f "$dir/.complete" ]; then
                rm -rf "$dir"
                mkdir -p "$dir/deb"
                (cd "$dir/deb" && e2e_retry apt-get download -qq "$pkg") >/dev/null 2>&1 ||
                        e2e_skip "apt-get download $pkg failed"
                dpkg -x "$dir"/deb/*.deb "$dir/root" || e2e_die "dpkg -x of $pkg failed"
                rm -rf "$dir/deb"
                touch "$dir/.complete"
        fi
        echo "$dir/root"
}

e2e_moddir() {
        cat "$E2E_KDIR/moddir"
}
