#!/usr/bin/env bash
# Runs every test (`make test`). When some fail, their issues are repeated at the very end, where
# the tail of a long CI log shows them.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "---- what failed (swift test exited $status) ----"
    grep -E '^✘ Test .*(recorded an issue|failed)' "$log" | cut -c1-600 || true
    grep -E 'Fatal error|Crash|signal [0-9]+' "$log" | head -20 | cut -c1-600 || true
fi
exit "$status"
