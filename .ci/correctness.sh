#!/usr/bin/env bash
# Issue 10's checks that the main suite does not run (the tokio programs
# that once hung on poll(2) run in .ci/tokio.sh, on every backend):
#  1. the loom model of wake de-duplication (src/wake_dedup.rs);
#  2. a source registered with two Polls in a release build (epoll, poll(2));
#  3. that `Poll::new` does not exist without `os-poll`.
# Each step prints its time. About two minutes on 2 cores, warm.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

timed() {
    local name=$1
    shift
    printf '\n=== %s\n' "$name"
    local start=$SECONDS
    "$@"
    printf '=== %s: %ss\n' "$name" $((SECONDS - start))
}

timed "loom model of wake de-duplication" env LOOM_MAX_PREEMPTIONS=4 RUSTFLAGS="--cfg loom" \
    CARGO_TARGET_DIR="$root/target/loom" cargo test --quiet --release --lib wake_dedup

release_two_polls() {
    local name=$1 flags=$2 dir=$3
    RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
        cargo test --quiet --release --all-features --test tcp_stream a_source_registered_with_two_polls
}
timed "release build, a source in two Polls: epoll" release_two_polls default "" "$root/target"
timed "release build, a source in two Polls: poll(2)" release_two_polls poll \
    "--cfg evmux_force_poll" "$root/target/suite-poll"

timed "no Poll::new without os-poll (compile_fail doctest)" \
    cargo test --quiet --no-default-features --doc features

echo "correctness: all green"
