#!/bin/sh
# The unit's hardening, checked on every test run: the exposure that
# `systemd-analyze security` computes stays at or below the recorded level,
# and the settings that would defeat the daemon's safety checks stay out
# (docs/architecture.md, "The unit").
set -eu
unit=$1
# Tenths, as --threshold takes them: 2.6 today (systemd-hostnamed: 1.5);
# CAP_SYS_RAWIO, for the VMX capability MSRs, costs 0.2 of it.
threshold=26
fail=0

# Settings, not the comments that say why they are absent.
for bad in '^PrivateNetwork=yes' '^CapabilityBoundingSet=.*CAP_SYS_MODULE' '^SystemCallFilter=[^~]*@module' \
           '^ProtectKernelTunables=yes' '^CapabilityBoundingSet=.*CAP_DAC_OVERRIDE'; do
        if grep -nE "$bad" "$unit"; then
                echo "$unit: '$bad' must not be set (see the comments in the unit)" >&2
                fail=1
        fi
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
        echo "systemd-analyze is not installed; exposure not checked" >&2
        [ $fail = 0 ] && exit 77
        exit $fail
fi
if ! systemd-analyze security --offline=yes --threshold=$threshold "$unit" >/dev/null 2>&1; then
        systemd-analyze security --offline=yes "$unit" 2>&1 | grep -v '^✓' >&2 || true
        echo "$unit: exposure above $threshold/10" >&2
        fail=1
fi
exit $fail
