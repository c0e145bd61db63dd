#!/bin/sh
# The layering rules of docs/architecture.md, checked on every test run:
# 1. service/core never includes sd-bus/sd-event (it is tested without a bus);
# 2. no module but vh-hostfs.c spells a host path: they come from vh-names.h,
#    so --root re-roots every read and write.
set -eu
service=$1
fail=0

if grep -rnE '#include *[<"](systemd/|sd-)' "$service/core"; then
        echo "service/core must not include sd-bus or other libsystemd headers" >&2
        fail=1
fi

# Comment lines are skipped; they may show paths as examples.
if grep -rnE --include='*.c' '"/?(sys|proc|dev|boot|lib/modules)(/|")' "$service/core" "$service/bus" "$service/main.c" \
        | grep -vE '^[^:]+:[0-9]+: *(/?\*|//)' | grep -v 'core/vh-hostfs\.c:'; then
        echo "host paths belong in service/common/vh-names.h and are joined only by vh-hostfs" >&2
        fail=1
fi

# 3. the repository stands on its own: nothing points at design notes that
#    are not in it (what a reader needs is in docs/).
top=$service/..
if grep -rnE 'DESIGN\.md|STYLE\.md|peers\.md|test-stack\.md|qemu-e2e\.md|\.\./shared|shared/notes' \
        "$top/service" "$top/client" "$top/tests" "$top/docs" "$top/dbus" "$top/polkit" "$top/README.md" \
        "$top/meson.build" --exclude-dir=data | grep -v 'check-layering\.sh:'; then
        echo "point at docs/ in this repository, not at notes outside it" >&2
        fail=1
fi

[ -d "$service/core" ] || { echo "no $service/core" >&2; exit 1; }
exit $fail
