#!/usr/bin/env bash
# Builds libkqueue (../shared/vendor, release 2.7.0) into $1 (an install
# prefix: lib/libkqueue.a, include/kqueue/sys/event.h), unless it is there.
#
# One change is made to its source first. libkqueue's Linux kevent() asks
# epoll_wait for as many events as the caller's event list holds, but one
# epoll event of a descriptor registered for reading and writing becomes
# two kevents; when the list fills up, the epoll events left over are
# dropped, and with EV_CLEAR (edge-triggered epoll below) never come back.
# A kernel kqueue keeps what does not fit queued for the next call. The
# change asks epoll_wait for half as many events as the list has room for
# (at least one), so that every event it returns fits. Found by
# tests/tcp_many.rs (128 of 1,000 connections echoed with 256 events per
# poll; all with 4,096).
set -euo pipefail
prefix=$1
[ -f "$prefix/lib/libkqueue.a" ] && exit 0
here=$(cd "$(dirname "$0")" && pwd)
vendor=$(ls "$here"/../../../shared/vendor/libkqueue-*.tar.gz | head -1)
if ! command -v cmake >/dev/null; then
    sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$vendor" -C "$work"
source=$(ls -d "$work"/*/)
wait_call='rv = kqops.kevent_wait(kq, nevents, timeout);'
grep -qF "$wait_call" "$source/src/common/kevent.c"
sed -i "s|$wait_call|rv = kqops.kevent_wait(kq, (el_end - el_p) > 1 ? (int) ((el_end - el_p) / 2) : 1, timeout);|" \
    "$source/src/common/kevent.c"
mkdir -p "$work/build"
(cd "$work/build" &&
    cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" "$source" >/dev/null &&
    make -j"$(nproc)" install >/dev/null)
test -f "$prefix/lib/libkqueue.a"
