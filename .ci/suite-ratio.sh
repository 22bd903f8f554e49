#!/usr/bin/env bash
# Usage: .ci/suite-ratio.sh BACKEND COUNTS_FILE
# Sets the tests a backend's suite passed (the "total" line of COUNTS_FILE,
# written by .ci/test-counts.awk) against the tests the default backend
# (epoll) runs, listed from its build (the README's test command, run
# earlier in .ci/run), and appends the line to COUNTS_FILE. The sets differ
# both ways: tests of a mechanism a backend lacks are compiled out there,
# and a backend's own tests (tests/io_uring.rs on io_uring) count only on
# it, so the ratio can pass 100%.
set -euo pipefail
backend=$1 counts=$2
listed() {
    env -u RUSTFLAGS -u RUSTDOCFLAGS -u CARGO_TARGET_DIR \
        cargo test --quiet --all-features -- --list "$@" 2>/dev/null | grep -c ': test$' || true
}
default=$(($(listed) - $(listed --ignored)))
passed=$(awk '$1 == "total" { print $2 }' "$counts")
printf '%s passes %d of the %d tests the default backend runs (%d.%d%%)\n' \
    "$backend" "$passed" "$default" $((passed * 100 / default)) $((passed * 1000 / default % 10)) |
    tee -a "$counts"
