#!/usr/bin/env bash
# The kqueue backend, run on Linux over libkqueue (a user-space kqueue(2)
# over epoll; ../shared/vendor, built by .ci/kqueue/build-libkqueue.sh):
# `--cfg evmux_force_kqueue` compiles the same selector, waker, timer and
# process-exit code that macOS and the BSDs compile, against libkqueue's
# `struct kevent` and constants (src/sys/unix/kevent/).
#
#  1. the whole test suite (unit, integration with the model fuzzer, the
#     stress, fault and known-defect tests, and doctests), with a count per
#     test file, set against the tests the default backend has;
#  2. the examples against real clients (.ci/examples.sh);
#  3. tokio's tests of compat/tokio, tokio running on the kqueue backend.
#
# A test skipped here says why in its `ignore` reason: each is a documented
# difference between libkqueue and a BSD or macOS kernel.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step_start=$SECONDS
step() {
    if [ -n "${step_name:-}" ]; then
        printf '    (%s: %d s)\n' "$step_name" $((SECONDS - step_start))
    fi
    step_name="$*"
    step_start=$SECONDS
    printf '\n=== kqueue: %s\n' "$*"
}

out=$PWD/target/kqueue
mkdir -p "$out"
step "build libkqueue"
export EVMUX_LIBKQUEUE_DIR=$PWD/target/libkqueue
.ci/kqueue/build-libkqueue.sh "$EVMUX_LIBKQUEUE_DIR"

# Doctests are compiled by rustdoc, which takes RUSTDOCFLAGS.
export RUSTFLAGS="--cfg evmux_force_kqueue" RUSTDOCFLAGS="--cfg evmux_force_kqueue"
export CARGO_TARGET_DIR=$PWD/target/suite-kqueue
export PROPTEST_CASES=${PROPTEST_CASES:-1000}

step "clippy with the kqueue backend"
cargo clippy --quiet --all-targets --all-features -- -D warnings

step "the whole test suite on kqueue"
cargo test --all-features --no-fail-fast 2>&1 | tee "$out/suite.log" |
    grep -E '^test result|FAILED|panicked' || true
awk -f .ci/test-counts.awk "$out/suite.log" | tee "$out/counts.txt"
grep -q ' 0 failed$' <(tail -1 "$out/counts.txt")
.ci/suite-ratio.sh kqueue "$out/counts.txt"

step "examples on kqueue"
cargo build --quiet --examples --features os-ext,net
EXAMPLES_DIR=$CARGO_TARGET_DIR/debug/examples ./.ci/examples.sh

step "tokio's tests on evmux's kqueue backend"
(cd compat/tokio && CARGO_TARGET_DIR=$PWD/target/kqueue cargo test --locked --workspace)

step "done"
printf 'kqueue: all steps passed in %d s\n' $((SECONDS - started))
