#!/usr/bin/env bash
# Builds libkqueue (../shared/vendor, release 2.7.0) into $1 (an install
# prefix: lib/libkqueue.a, include/kqueue/sys/event.h), unless this same
# script built it there already (a stamp holds the script's SHA-256, so a
# build made before a change to the patches below is made again).
#
# Four changes are made to its source first, each toward what a kernel's
# kqueue does, where libkqueue's Linux code differs in a way evmux's tests
# meet (each found by a test, named below):
#
#  1. Its kevent() asks epoll_wait for as many events as the caller's list
#     holds, but one epoll event of a descriptor registered for reading and
#     writing becomes two kevents; when the list fills up, the epoll events
#     left over are dropped, and with EV_CLEAR (edge-triggered epoll below)
#     never come back. A kernel keeps what does not fit for the next call.
#     Here epoll_wait is asked for half as many events as the list has room
#     for (at least one), so that every event it returns fits.
#     (tests/tcp_many.rs: 128 of 1,000 connections echoed with 256 events
#     per poll.)
#  2. It converts a timeout to epoll_wait's int milliseconds by multiplying
#     the seconds by 1,000, which wraps above 24.8 days (mio's defect #1948,
#     in libkqueue). The milliseconds are clamped to INT_MAX instead.
#     (tests/known_defects.rs: a wait of 2^32 + 50 ms ended after 50 ms.)
#  3. Its read and write filters read a socket's pending error with
#     getsockopt(SO_ERROR) to report it in the event's fflags, which clears
#     it; a kernel copies so_error into fflags and leaves it pending, for
#     the program's recv or take_error. Here fflags says EIO and the error
#     stays with the socket (evmux reads fflags only as "an error").
#     (tests/udp_socket.rs, tests/udp_batch.rs, tests/tcp_stream.rs,
#     tests/event.rs: the refusal that the event reported was gone.)
#  4. A socket with a read and a write filter has one epoll registration,
#     for both. When the second filter is added, or one of the two is
#     deleted or disabled, the registration is rewritten with only EPOLLIN
#     and EPOLLOUT and the options of the filter being changed, so the
#     other filter's options are dropped: EPOLLRDHUP of the read filter
#     once the write filter is added, EPOLLET of the one that stays. Without
#     EPOLLRDHUP, a peer's FIN that comes while data is still unread (after
#     a short read) is reported without EV_EOF: the read filter infers EOF
#     only from FIONREAD being 0, and with EV_CLEAR no event follows once
#     the data is read. A kernel sets EV_EOF whenever the read direction
#     is shut, data or not (kevent(2), EVFILT_READ). Here the registration
#     carries the epoll options of every filter it covers.
#     (tests/tcp_stream.rs: a shutdown after a short read, registered for
#     reading and writing; tests/proxy.rs and compat/tokio's
#     copy_bidirectional and 8 MiB echoes stalled at their end.)
set -euo pipefail
prefix=$1
stamp=$prefix/evmux-build-libkqueue.sha256
script_sum=$(sha256sum "$0" | cut -d' ' -f1)
[ -f "$prefix/lib/libkqueue.a" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$script_sum" ] && exit 0
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
# 1. Every epoll event fits the caller's list.
wait_call='rv = kqops.kevent_wait(kq, nevents, timeout);'
grep -qF "$wait_call" "$source/src/common/kevent.c"
sed -i "s|$wait_call|rv = kqops.kevent_wait(kq, (el_end - el_p) > 1 ? (int) ((el_end - el_p) / 2) : 1, timeout);|" \
    "$source/src/common/kevent.c"
# 2. No wrapped timeout.
millis='timeout = (1000 \* ts->tv_sec) + (ts->tv_nsec / 1000000);'
grep -q "$millis" "$source/src/linux/platform.c"
sed -i "s|$millis|timeout = ts->tv_sec >= INT_MAX / 1000 ? INT_MAX : (int) ((1000 * ts->tv_sec) + (ts->tv_nsec / 1000000));|" \
    "$source/src/linux/platform.c"
grep -q '#include <limits.h>' "$source/src/linux/platform.c" ||
    sed -i '0,/#include/s|#include|#include <limits.h>\n#include|' "$source/src/linux/platform.c"
# 3. A socket's pending error stays pending.
so_error='ret = getsockopt(src->kev.ident, SOL_SOCKET, SO_ERROR, \&serr, \&slen);'
for filter in read write; do
    grep -q "$so_error" "$source/src/linux/$filter.c"
    sed -i "s|$so_error|ret = 0; serr = EIO; (void) slen;|" "$source/src/linux/$filter.c"
done
# 4. A registration shared by two filters keeps both filters' options.
fds_events='#define EPOLL_EV_FDS(_events, _fds) \&(struct epoll_event){ .events = (uint32_t) (_events),'
grep -q "$fds_events" "$source/src/linux/platform.h"
sed -i "s|$fds_events|#define EPOLL_EV_FDS(_events, _fds) \&(struct epoll_event){ .events = (uint32_t) ((_events) \| (((_events) \& EPOLLIN) \&\& (_fds)->fds_read ? (_fds)->fds_read->epoll_events : 0) \| (((_events) \& EPOLLOUT) \&\& (_fds)->fds_write ? (_fds)->fds_write->epoll_events : 0)),|" \
    "$source/src/linux/platform.h"
mkdir -p "$work/build"
(cd "$work/build" &&
    cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" "$source" >/dev/null &&
    make -j"$(nproc)" install >/dev/null)
test -f "$prefix/lib/libkqueue.a"
echo "$script_sum" >"$stamp"
