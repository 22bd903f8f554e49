#!/usr/bin/env bash
# Proves the `rust-version` of Cargo.toml: builds and tests the crate with
# that exact Rust release. rustup here has only the current stable, so the
# compiler comes from Debian: its 1.85 packages are unpacked into
# target/msrv-toolchain (not installed, so that they do not replace the
# newer Debian Rust that .ci/cross.sh uses).
set -euo pipefail
cd "$(dirname "$0")/.."

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
debian_version="$msrv.0+dfsg3-1~deb12u3"
root="$PWD/target/msrv-toolchain"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$root/usr/bin/rustc" ]; then
    as_root apt-get update -qq
    # The shared libraries that Debian's rustc and cargo of that release link to.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        libllvm19 libpcre3 libhttp-parser2.9 libssh2-1 libcurl4 >/dev/null
    downloads=$(mktemp -d)
    (cd "$downloads" && apt-get download -qq \
        "rustc-web=$debian_version" "cargo-web=$debian_version" \
        "libstd-rust-web-dev=$debian_version" "libstd-rust-web-$msrv=$debian_version" 2>/dev/null)
    for package in "$downloads"/*.deb; do dpkg -x "$package" "$root"; done
    rm -rf "$downloads"
fi

export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu"
export RUSTC="$root/usr/bin/rustc" RUSTDOC="$root/usr/bin/rustdoc" CARGO_TARGET_DIR=target/msrv
"$RUSTC" --version | grep -q "^rustc $msrv.0 " || { echo "expected Rust $msrv, got $("$RUSTC" --version)"; exit 1; }
"$root/usr/bin/cargo" test --quiet -p evmux --all-features
"$root/usr/bin/cargo" check --quiet -p evmux --no-default-features
echo "rust-version $msrv: built and tested with $("$RUSTC" --version)"
