#!/usr/bin/env bash
# Every platform proven, not assumed:
#  1. the whole test suite on Linux three times: the default backend
#     (epoll + eventfd), the poll(2) fallback and the pipe waker, each
#     forced by a cfg, and the UDP tests with batched UDP's per-datagram
#     loop forced;
#  2. clippy for Windows, macOS, FreeBSD, illumos and both WASI previews
#     (.ci/lint-targets.sh), then the crate with its tests and examples
#     type-checked with Rust 1.85 for the other Unix targets this machine
#     cannot run (.ci/cross.sh), and the library alone for targets that
#     get the poll(2) fallback;
#  3. the feature combinations: none, each alone, all.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

# Lints and tests the whole crate with the backend that `flags` selects.
run_suite() {
    local name=$1 flags=$2
    step "test suite: $name"
    if [ -z "$flags" ]; then
        cargo clippy --quiet --all-targets --all-features -- -D warnings
        cargo test --quiet --all-features
    else
        export RUSTFLAGS="$flags" CARGO_TARGET_DIR="target/suite-$name"
        cargo clippy --quiet --all-targets --all-features -- -D warnings
        cargo test --quiet --all-features
        unset RUSTFLAGS CARGO_TARGET_DIR
    fi
}
run_suite default ""
run_suite poll "--cfg evmux_force_poll"
run_suite pipe-waker "--cfg evmux_force_pipe_waker"

# Batched UDP's fallbacks (a loop of sendmsg/recvmsg, segments cut in user
# space, no GRO), forced on Linux: only the UDP tests.
step "UDP tests: the per-datagram loop (evmux_force_udp_loop)"
RUSTFLAGS="--cfg evmux_force_udp_loop" CARGO_TARGET_DIR="target/suite-udp-loop" \
    cargo test --quiet --all-features --test udp_batch --test udp_socket

step "clippy for the other targets (Windows, macOS, FreeBSD, illumos, WASI)"
./.ci/lint-targets.sh

step "type-check for other targets"
./.ci/cross.sh
# WASI is built and run by .ci/wasi.sh, Windows by .ci/windows.sh.
echo "=== x86_64-unknown-haiku (library only: the poll(2) fallback)"
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/cross RUSTFLAGS="-D warnings" \
    /usr/bin/cargo check --quiet -Zbuild-std=std,panic_abort --target x86_64-unknown-haiku -p evmux --all-features

step "feature combinations: built, and linted with warnings denied"
cargo build --quiet --no-default-features
cargo clippy --quiet --no-default-features -- -D warnings
for feature in os-poll os-ext net log; do
    cargo build --quiet --no-default-features --features "$feature"
    cargo clippy --quiet --no-default-features --features "$feature" -- -D warnings
done
cargo clippy --quiet --all-features -- -D warnings
# The table-based poll(2) backend has code that only the I/O types use.
for feature in os-poll net; do
    RUSTFLAGS="--cfg evmux_force_poll" CARGO_TARGET_DIR="target/suite-poll" \
        cargo clippy --quiet --no-default-features --features "$feature" -- -D warnings
done
cargo test --quiet --no-default-features --test shell
echo "platforms: all green"
