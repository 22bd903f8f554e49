#!/usr/bin/env bash
# Keeps the benchmarks compiling and working: the quick mode (well under a
# minute), then checks that it wrote its outputs. No timing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

# bench/src/competitor.rs is included twice by main.rs, which `cargo fmt`
# does not follow.
rustfmt --edition 2021 --check bench/src/competitor.rs

cargo run --quiet --release -p evmux-bench -- --quick
out=target/evmux-bench
head -1 "$out/summary.csv" | grep -qx 'workload,unit,evmux,mio,floor,paired,paired_low,paired_high'
[ "$(wc -l < "$out/summary.csv")" -ge 31 ]
# The batched UDP rows, GSO/GRO included.
grep -q "UDP receive, 1200 B, GSO/GRO" "$out/summary.csv"
grep -q '<svg' "$out/summary.svg"
echo "benchmarks: quick run complete, $(($(wc -l < "$out/summary.csv") - 1)) rows"
