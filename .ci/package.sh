#!/usr/bin/env bash
# The crate is publishable: `cargo publish --dry-run` builds the packaged
# crate on its own, and the package holds the library, its build script,
# README, CHANGELOG and LICENSE and nothing else (cargo adds its manifest,
# lock file and VCS info).
set -euo pipefail
cd "$(dirname "$0")/.."

unexpected=$(cargo package --list --allow-dirty -p evmux 2>/dev/null |
    grep -vxE 'src/.*\.rs|build\.rs|README\.md|CHANGELOG\.md|LICENSE|Cargo\.(toml|toml\.orig|lock)|\.cargo_vcs_info\.json' || true)
if [ -n "$unexpected" ]; then
    echo "the package holds files it should not:"
    echo "$unexpected"
    exit 1
fi
cargo package --list --allow-dirty -p evmux 2>/dev/null | grep -qx 'src/lib.rs'
cargo publish --dry-run --allow-dirty -p evmux 2>&1 | grep -vE "^warning: ignoring (test|example)"
echo "package: $(cargo package --list --allow-dirty -p evmux 2>/dev/null | wc -l) files, publish dry run passed"
