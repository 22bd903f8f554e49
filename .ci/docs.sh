#!/usr/bin/env bash
# Builds the API docs as docs.rs builds them (all features, `--cfg docsrs`,
# which turns on the nightly `doc_cfg` notes; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain take them) and fails on:
#  - any rustdoc warning, a broken or private intra-doc link among them;
#  - a doc that names a file of evmux's source (`sys/...rs`), which a
#    docs.rs reader cannot open;
#  - an availability note ("Available on ... only") that names one of the
#    cfgs build.rs emits for evmux's own use (OS groups such as
#    `linux_like`, `evmux_*` backend and capability names) or a test-only
#    cfg (`loom`): a reader of docs.rs knows platforms and features only.
# The README's Rust snippets and every doc example run as doctests in the
# test step (`cargo test --all-features`; the README through
# `ReadmeDoctests` in src/lib.rs).
#
# Usage: .ci/docs.sh (from anywhere); the docs land in target/doc (the
# host) and target/doc-targets/TARGET/doc.
set -euo pipefail
cd "$(dirname "$0")/.."

# docs.rs builds for Linux, macOS and Windows; FreeBSD and illumos add
# their own items (kqueue's `Interest::LIO`, event ports). Each target's
# standard library comes from rustup (a download of a few tens of MB, as
# in .ci/lint-targets.sh); a target rustup cannot add is reported and
# skipped. DOC_TARGETS overrides the list (the host is always built).
read -r -a targets <<<"${DOC_TARGETS:-x86_64-apple-darwin x86_64-pc-windows-gnu x86_64-unknown-freebsd x86_64-unknown-illumos}"

# Every OS group build.rs names, plus the prefixes and names of the rest.
groups=$(sed -n '/^const GROUPS/,/^];/p' build.rs | grep -oE '"[a-z0-9_]+"' | tr -d '"' | paste -sd'|')
[ -n "$groups" ] || { echo "docs.sh: found no GROUPS list in build.rs"; exit 1; }
internal="\\b(evmux_[a-z0-9_]+|$groups|loom|mio_unsupported_force_poll_poll)\\b"

# check DIR: the checks below on the docs in DIR (a `doc/evmux` folder).
check() {
    local dir=$1 notes count leaks private pages
    # The notes: the banner on an item's page and the tag (and its title)
    # in module listings, both of class "stab portability".
    notes=$(grep -rhoP 'class="stab portability"[^>]*>.*?</(div|span)>' "$dir" | sed 's/<[^>]*>//g')
    count=$(grep -c . <<<"$notes" || true)
    [ "$count" -gt 0 ] || { echo "docs.sh: no availability notes in $dir: was doc_cfg on?"; exit 1; }
    if leaks=$(grep -rloP "class=\"stab portability\"[^>]*>(?:(?!</div>|</span>).)*?$internal" "$dir"); then
        echo "docs.sh: availability notes name internal cfgs in:"
        for page in $leaks; do
            echo "  $page:"
            grep -hoP 'class="stab portability"[^>]*>.*?</(div|span)>' "$page" | sed 's/<[^>]*>//g' \
                | grep -P "$internal" | sort -u | sed 's/^/    /'
        done
        exit 1
    fi
    # No doc points at a file of evmux's own source, which a docs.rs
    # reader cannot open (the repository's examples/ and tests/ are fine).
    pages=$(find "$dir" -name '*.html')
    # shellcheck disable=SC2086
    if private=$(grep -HoP '<code>[^<]*\b(src|sys)/[^<]*\.rs</code>' $pages); then
        echo "docs.sh: docs name private source files:"
        sed 's/^/  /' <<<"$private"
        exit 1
    fi
    echo "docs: $dir: $count availability notes, none names an internal cfg"
}

build() {
    RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="--cfg docsrs -D warnings" \
        cargo doc --quiet --no-deps --all-features "$@"
}

build
check target/doc/evmux
for target in "${targets[@]}"; do
    if ! rustup target add "$target" >/dev/null 2>&1; then
        echo "docs: $target: NOT CHECKED (rustup could not add the target's std)"
        continue
    fi
    CARGO_TARGET_DIR=target/doc-targets build --target "$target"
    check "target/doc-targets/$target/doc/evmux"
done
echo "docs: built as docs.rs builds them, for the host and ${#targets[@]} other targets"
