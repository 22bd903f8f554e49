#!/usr/bin/env bash
# The io_uring backend (`--cfg evmux_io_uring`, src/sys/unix/selector/uring.rs),
# on a Linux kernel that allows io_uring (5.13+, `kernel.io_uring_disabled`
# not set, no seccomp filter refusing it):
#
#  1. the whole test suite (unit, integration with the model fuzzer, the
#     stress, fault and known-defect tests, tests/io_uring.rs with the forced
#     fallback to epoll, and doctests), with a count per test file;
#  2. tokio's tests of compat/tokio, tokio running on the io_uring backend.
#
# Fails at once if the kernel refuses io_uring: the suite would then run on
# the epoll fallback and prove nothing about io_uring. A test that does not
# apply to io_uring returns early, saying why in a comment (the README's
# io_uring section lists them).
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
    printf '\n=== io_uring: %s\n' "$*"
}

# Doctests are compiled by rustdoc, which takes RUSTDOCFLAGS.
export RUSTFLAGS="--cfg evmux_io_uring" RUSTDOCFLAGS="--cfg evmux_io_uring"
export CARGO_TARGET_DIR=$PWD/target/suite-uring
export PROPTEST_CASES=${PROPTEST_CASES:-1000}
unset EVMUX_IO_URING
out=$CARGO_TARGET_DIR/ci
mkdir -p "$out"

step "the kernel allows io_uring"
cargo test --quiet --all-features --test io_uring -- --exact backend_is_io_uring_here

step "clippy with the io_uring backend"
cargo clippy --quiet --all-targets --all-features -- -D warnings

step "the whole test suite on io_uring"
cargo test --all-features --no-fail-fast 2>&1 | tee "$out/suite.log" |
    grep -E '^test result|FAILED|panicked' || true
awk -f .ci/test-counts.awk "$out/suite.log" | tee "$out/counts.txt"
grep -q ' 0 failed$' <(tail -1 "$out/counts.txt")
.ci/suite-ratio.sh io_uring "$out/counts.txt"

step "tokio's tests on evmux's io_uring backend"
(cd compat/tokio && CARGO_TARGET_DIR=$PWD/target/uring cargo test --locked --workspace)

step "done"
printf 'io_uring: all steps passed in %d s\n' $((SECONDS - started))
