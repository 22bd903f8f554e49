#!/usr/bin/env bash
# tokio on evmux: the `mio` crate that re-exports evmux (compat/tokio/mio),
# the tokio integration tests with `[patch.crates-io]` active, and the tokio
# echo and connection-churn benchmark in its quick mode (tokio on evmux against tokio on mio).
# Everything happens in compat/tokio, a workspace of its own, so the main
# workspace keeps the real mio its API pins and benchmarks compare against.
# Run it before .ci/bench.sh: the main benchmark adds the tokio rows that
# this writes (target/evmux-bench/tokio.csv) to its table and chart.
set -euo pipefail
cd "$(dirname "$0")/../compat/tokio"

# One target directory for both workspaces (patched and on-mio): they share
# every dependency but mio and tokio.
export CARGO_TARGET_DIR="$PWD/target"

started=$SECONDS
step_start=$SECONDS
step() {
    if [ -n "${step_name:-}" ]; then
        printf '    (%s: %d s)\n' "$step_name" $((SECONDS - step_start))
    fi
    step_name="$*"
    step_start=$SECONDS
    printf '\n=== tokio: %s\n' "$*"
}

step "the patch is active: tokio's mio is compat/tokio/mio"
tree=$(cargo tree --locked --edges normal --invert mio --prefix none)
echo "$tree"
grep -qE "^mio v1\.[0-9.]+ \($PWD/mio\)" <<<"$tree"
grep -qE '^tokio v1\.' <<<"$tree"
# ... and the baseline's is the real one.
cargo tree --locked --manifest-path on-mio/Cargo.toml --edges normal --invert mio --prefix none |
    grep -E '^mio v1\.[0-9.]+$'

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "tests, tokio on evmux"
cargo test --locked --workspace

step "tests, tokio on evmux's poll(2) backend"
# tokio is not told (no mio_unsupported_force_poll_poll): it then takes a
# short read as proof that a socket is drained, the harder case, which
# evmux's poll(2) backend handles by re-arming after every I/O call
# (tests/patterns.rs once hung here). A target directory of its own, since
# RUSTFLAGS rebuild everything.
RUSTFLAGS="--cfg evmux_force_poll" \
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR/force-poll" cargo test --locked --workspace

step "tests, tokio on evmux with the pipe waker"
RUSTFLAGS="--cfg evmux_force_pipe_waker" \
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR/pipe-waker" cargo test --locked --workspace

step "benchmark: build tokio-echo on evmux and on mio, and the driver"
cargo build --locked --release --bins
cargo build --locked --release --manifest-path on-mio/Cargo.toml

step "benchmark, quick mode"
"$CARGO_TARGET_DIR/release/tokio-bench" --quick
out=../../target/evmux-bench
head -1 "$out/tokio.csv" | grep -qx 'workload,unit,evmux,mio,floor,spread'
[ "$(wc -l <"$out/tokio.csv")" -ge 9 ]

step "done"
printf 'tokio: all steps passed in %d s\n' $((SECONDS - started))
