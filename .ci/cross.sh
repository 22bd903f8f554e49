#!/usr/bin/env bash
# Type-checks evmux, with its tests and examples, for targets this Linux
# machine cannot run, using Debian's Rust (which ships the standard
# library's source) and -Zbuild-std. See ../shared/CROSS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(
    x86_64-apple-darwin
    aarch64-apple-ios
    x86_64-unknown-freebsd
    x86_64-unknown-netbsd
    x86_64-unknown-openbsd
    x86_64-unknown-dragonfly
    x86_64-unknown-illumos
    x86_64-pc-solaris
    aarch64-linux-android
    i686-unknown-linux-gnu
)
if [ $# -gt 0 ]; then
    TARGETS=("$@")
elif [ -s target/lint-targets/linted ]; then
    # .ci/lint-targets.sh just linted these with the current stable Rust
    # and rustup's std: a type-check is in that. What is lost is the proof
    # on Rust 1.85 for them alone; the other kqueue, epoll and event-ports
    # targets above keep it for the same code.
    kept=()
    for target in "${TARGETS[@]}"; do
        if grep -qx "$target" target/lint-targets/linted; then
            echo "=== $target: skipped (linted by .ci/lint-targets.sh)"
        else
            kept+=("$target")
        fi
    done
    TARGETS=("${kept[@]}")
fi

if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/src/rust ]; then
    sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src
fi

for target in "${TARGETS[@]}"; do
    echo "=== $target"
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/cross RUSTFLAGS="-D warnings" \
        /usr/bin/cargo check --quiet -Zbuild-std=std,panic_abort --target "$target" \
        -p evmux --all-targets --all-features
done
echo "type-checked ${#TARGETS[@]} targets"
