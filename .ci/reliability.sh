#!/usr/bin/env bash
# The reliability net's figures: on each run-testable backend (default,
# forced poll(2), forced pipe waker) the model-based fuzzer, the stress
# tests, fault injection and the known-defect regressions, each recording
# what it did; then target/reliability/RELIABILITY.md, the figures table
# (with the sanitizer runs of .ci/sanitizers.sh when they ran first).
#
# Quick mode (CI, a couple of minutes): 1,000 model sequences per backend,
# the stress and fault tests at their default counts.
# Long mode, for release checks: EVMUX_RELIABILITY=long .ci/reliability.sh
#   - 5,000 model sequences per backend (PROPTEST_CASES overrides), 10x the
#     stress counts (10 million registration operations and wakes per
#     thread, 20,000 connections, 1,000 rounds of 10,000 sources), 5,000
#     signal rounds;
#   - the libFuzzer target (fuzz/) built with nightly and run for
#     EVMUX_FUZZ_SECONDS (default 600) seconds; crashes land in
#     target/fuzz/artifacts, replay one with
#     target/fuzz/x86_64-unknown-linux-gnu/release/model FILE.
# The backends' target directories are those of .ci/platforms.sh, so that
# nothing is rebuilt after it.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${EVMUX_RELIABILITY:-quick}
out=target/reliability
mkdir -p "$out"
if [ "$mode" = long ]; then
    export EVMUX_RELIABILITY=long
else
    export PROPTEST_CASES="${PROPTEST_CASES:-1000}"
fi
tests=(--test model --test stress --test fault_descriptors --test fault_signals --test known_defects)

run_backend() {
    local name=$1 flags=$2 started=$SECONDS
    echo "=== reliability tests, $name backend ($mode mode)"
    rm -rf "${out:?}/$name"
    if [ -n "$flags" ]; then
        EVMUX_FIGURES="$out/$name" RUSTFLAGS="$flags" CARGO_TARGET_DIR="target/suite-$name" \
            cargo test --quiet --all-features "${tests[@]}"
    else
        EVMUX_FIGURES="$out/$name" cargo test --quiet --all-features "${tests[@]}"
    fi
    echo "=== $name backend: $((SECONDS - started))s"
}
run_backend default ""
run_backend poll "--cfg evmux_force_poll"
run_backend pipe-waker "--cfg evmux_force_pipe_waker"

rm -f "$out/fuzz.tsv"
if [ "$mode" = long ]; then
    started=$SECONDS
    seconds=${EVMUX_FUZZ_SECONDS:-600}
    echo "=== libFuzzer: the model for ${seconds}s"
    if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        cargo=(cargo +nightly)
    else
        export RUSTC_BOOTSTRAP=1
        cargo=(cargo)
    fi
    host=$(rustc -vV | sed -n 's/^host: //p')
    # The flags cargo-fuzz passes, so that cargo-fuzz is not needed.
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Zsanitizer=address --cfg fuzzing -Cdebug-assertions" \
        CARGO_TARGET_DIR=target/fuzz "${cargo[@]}" build --quiet --release \
        --manifest-path fuzz/Cargo.toml --target "$host"
    mkdir -p target/fuzz/corpus target/fuzz/artifacts
    target/fuzz/"$host"/release/model -max_total_time="$seconds" -timeout=30 -max_len=300 \
        -artifact_prefix=target/fuzz/artifacts/ target/fuzz/corpus 2>&1 | tee "$out/fuzz.log" | grep -E '^Done|DONE|ERROR|panicked' || true
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/fuzz.log" | tail -1)
    [ -n "$runs" ] || { echo "the fuzzer failed: see $out/fuzz.log"; exit 1; }
    printf 'libFuzzer\t%s inputs in %ss, 0 crashes\t%ds\n' "$runs" "$seconds" $((SECONDS - started)) >"$out/fuzz.tsv"
    echo "=== libFuzzer: $runs inputs, no crash: $((SECONDS - started))s"
fi

# The figures table.
fig() { awk -F'\t' -v key="$3" '$1 == key { value = $2 } END { print value }' "$out/$1/$2.tsv"; }
row() {
    local label=$1 file=$2 key=$3
    printf '| %s | %s | %s | %s |\n' "$label" "$(fig default "$file" "$key")" \
        "$(fig poll "$file" "$key")" "$(fig pipe-waker "$file" "$key")"
}
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
{
    echo "# Reliability figures"
    echo
    echo "Produced by \`.ci/sanitizers.sh\` and \`.ci/reliability.sh\` ($mode mode) on"
    echo "$(date -u +%Y-%m-%d), on $(nproc) cores of ${cpu:-an unknown CPU}, $(uname -sr),"
    echo "$(rustc --version). Every figure below is a check that passed:"
    echo "the scripts fail on any finding."
    echo
    echo "## Sanitizers"
    echo
    echo "| run | result | time |"
    echo "|---|---|---:|"
    if [ -s "$out/sanitizers.tsv" ]; then
        awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$out/sanitizers.tsv"
    else
        echo "| AddressSanitizer | not run in this pass (.ci/sanitizers.sh) | - |"
    fi
    echo
    echo "## Per backend"
    echo
    echo "| check | default (epoll, eventfd) | poll(2) | pipe waker |"
    echo "|---|---:|---:|---:|"
    row "model: operation sequences run (proptest)" model sequences
    row "model: operations executed" model operations
    row "model: events checked against the model" model events
    row "model: shrunk failures found" model failures
    row "sources registered at once (one descriptor each)" stress sources
    row "random readiness changes, each reported exactly once" stress readiness_changes
    row "registration operations from 4 threads while a 5th polls; none lost" stress churn_operations
    row "wakes from 8 threads; the last of each of 100 rounds seen" stress wakes
    row "TCP connections accepted, echoed byte-exact, closed" stress tcp_connections
    row "fault points: descriptor budgets tried (EMFILE, no leak, recovery)" faults descriptor_points
    row "  of which failed with EMFILE" faults descriptor_emfile
    row "  operations swept" faults descriptor_operations
    row "accept under EMFILE, connection kept (TCP and Unix)" faults accept_points
    row "polls interrupted by signals, no event lost" faults signal_interruptions
    echo
    echo "Known mio defects with a regression test (tests/known_defects.rs): $(grep -c '^#\[test\]' tests/known_defects.rs), passing on every backend above."
    if [ -s "$out/fuzz.tsv" ]; then
        echo
        echo "## Coverage-guided fuzzing"
        echo
        echo "| run | result | time |"
        echo "|---|---|---:|"
        awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$out/fuzz.tsv"
    fi
    echo
    echo "## How to reproduce"
    echo
    echo "CI runs \`.ci/sanitizers.sh\` then \`.ci/reliability.sh\` (quick mode). For a release"
    echo "check: \`EVMUX_RELIABILITY=long .ci/reliability.sh\` (10x the stress counts, 5,000"
    echo "model sequences per backend, and the libFuzzer target for \`EVMUX_FUZZ_SECONDS\`,"
    echo "default 600). A failing model sequence is printed shrunk to a minimal one; keep it"
    echo "as a regression test in tests/model.rs. The table is written to"
    echo "\`target/reliability/RELIABILITY.md\`; copy it here after a release check."
} >"$out/RELIABILITY.md"
echo "=== figures: $out/RELIABILITY.md"
cat "$out/RELIABILITY.md"
