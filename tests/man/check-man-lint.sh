#!/bin/sh
# Every built man page without a warning: mandoc's lint at warning level,
# and groff's through man-db (skipped, saying so, without man-db). Run in
# the C locale, the strictest: groff then has ASCII glyphs only.
#
# Usage: check-man-lint.sh PAGE...
set -u
export LC_ALL=C
export MANWIDTH=80

n=0
failed=0
for page in "$@"; do
        n=$((n + 1))
        if ! command -v mandoc >/dev/null; then
                echo "ok $n # SKIP mandoc not found: $page"
        else
                out=$(mandoc -T lint -W warning "$page" 2>&1)
                if [ -z "$out" ]; then
                        echo "ok $n - mandoc -T lint -W warning $page"
                else
                        printf '%s\n' "$out" | sed 's/^/# /'
                        echo "not ok $n - mandoc -T lint -W warning $page"
                        failed=1
                fi
        fi

        n=$((n + 1))
        if ! command -v man >/dev/null || ! man --version 2>/dev/null | grep -q '^man '; then
                echo "ok $n # SKIP man-db not found: $page"
                continue
        fi
        # man-db passes --warnings on to groff; the page itself goes to
        # /dev/null, the warnings (stderr) are what is judged.
        out=$(man --warnings -l "$page" 2>&1 >/dev/null)
        if [ -z "$out" ]; then
                echo "ok $n - man --warnings -l $page"
        else
                printf '%s\n' "$out" | sed 's/^/# /'
                echo "not ok $n - man --warnings -l $page"
                failed=1
        fi
done
echo "1..$n"
exit $failed
