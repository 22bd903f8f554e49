#!/usr/bin/env bash
# Clippy, warnings denied, for the targets this machine cannot run natively:
# the kqueue, event ports, IOCP and WASI code is linted like the Linux code.
# Uses rustup's prebuilt std for each target (a download of a few tens of
# MB); where rustup cannot fetch it, the target is reported as not linted
# and the type-check of .ci/cross.sh covers it (which skips the targets
# linted here when it runs after this script).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(x86_64-pc-windows-gnu x86_64-apple-darwin x86_64-unknown-freebsd x86_64-unknown-illumos wasm32-wasip1 wasm32-wasip2)
linted=0
# The targets linted here, one per line, for .ci/cross.sh to skip.
mkdir -p target/lint-targets
record=target/lint-targets/linted
: >"$record"
for target in "${TARGETS[@]}"; do
    started=$SECONDS
    if ! rustup target add "$target" >/dev/null 2>&1; then
        echo "=== $target: NOT LINTED (rustup could not add the target's std)"
        continue
    fi
    # The Windows type-check also covers the mio programs that run under Wine.
    packages=(-p evmux)
    if [ "$target" = x86_64-pc-windows-gnu ]; then
        packages+=(-p real-mio -p evmux-as-mio)
    fi
    CARGO_TARGET_DIR=target/lint-targets cargo clippy --quiet --target "$target" \
        --all-features --all-targets "${packages[@]}" -- -D warnings
    linted=$((linted + 1))
    echo "$target" >>"$record"
    echo "=== $target: clippy clean ($((SECONDS - started))s)"
done
echo "clippy: ${linted} of ${#TARGETS[@]} other targets linted"
