#!/usr/bin/env bash
# Runs the example programs against real clients (bash's /dev/tcp and
# /dev/udp), so that the README's demo stays true.
set -euo pipefail
cd "$(dirname "$0")/.."

# EXAMPLES_DIR and EXAMPLE_RUNNER run examples built elsewhere, e.g. for
# Windows under Wine (.ci/windows.sh); the clients stay this machine's.
examples=${EXAMPLES_DIR:-target/debug/examples}
read -r -a runner <<<"${EXAMPLE_RUNNER:-}"
exe=${EXAMPLE_SUFFIX:-}
if [ -z "${EXAMPLES_DIR:-}" ]; then
    cargo build --quiet --examples --features os-ext,net
fi

# Starts an example server on a free port; prints its pid and address.
start_server() {
    local name=$1 log
    log=$(mktemp)
    "${runner[@]}" "$examples/$name$exe" 127.0.0.1:0 >"$log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
        if grep -qE '127\.0\.0\.1:[0-9]+' "$log"; then
            echo "$pid $(grep -oE '127\.0\.0\.1:[0-9]+' "$log" | head -1)"
            return
        fi
        sleep 0.1
    done
    echo "$name did not start:" >&2
    cat "$log" >&2
    kill "$pid"
    exit 1
}

read -r pid addr < <(start_server tcp_server)
trap 'kill $pid 2>/dev/null || true' EXIT
host=${addr%:*} port=${addr##*:}
for client in 1 2 3; do
    exec 3<>"/dev/tcp/$host/$port"
    echo "hello from client $client" >&3
    read -r -t 10 reply <&3
    exec 3>&-
    [ "$reply" = "hello from client $client" ] || { echo "tcp_server echoed '$reply'"; exit 1; }
done
# The example client (under the same runner: a second Wine process for
# Windows) gets its message back.
reply=$(timeout 20 "${runner[@]}" "$examples/tcp_client$exe" "$addr" "hello from tcp_client")
[ "$reply" = "hello from tcp_client" ] || { echo "tcp_client got '$reply'"; exit 1; }
# A second server on the same address fails, naming the address.
if message=$(timeout 10 "${runner[@]}" "$examples/tcp_server$exe" "$addr" 2>&1); then
    echo "a second tcp_server on $addr started"; exit 1
fi
grep -qF "$addr" <<<"$message" || { echo "the address-in-use error does not name $addr: $message"; exit 1; }
kill "$pid"
# Gone before the next check connects to its address (at most 10 s).
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
echo "tcp_server: echoed 3 clients and tcp_client; a second server on its address says: $message"

# Misuse says what went wrong: a refused connection names the address (the
# server just stopped, so nothing listens there), an address that is not
# IP:PORT says what is expected, and extra arguments are refused.
if message=$(timeout 20 "${runner[@]}" "$examples/tcp_client$exe" "$addr" hi 2>&1); then
    echo "tcp_client reached a stopped server at $addr"; exit 1
fi
grep -qF "cannot connect to $addr" <<<"$message" || { echo "a refused connect does not name $addr: $message"; exit 1; }
echo "tcp_client, nothing listening: $message"
for bad in localhost:7000 7000 127.0.0.1; do
    if message=$(timeout 20 "${runner[@]}" "$examples/tcp_client$exe" "$bad" 2>&1); then
        echo "tcp_client accepted the address $bad"; exit 1
    fi
    grep -qF "expected IP:PORT" <<<"$message" || { echo "tcp_client $bad says: $message"; exit 1; }
    echo "tcp_client, address $bad: $message"
done
if message=$(timeout 20 "${runner[@]}" "$examples/tcp_client$exe" "$addr" hello world 2>&1); then
    echo "tcp_client took three arguments"; exit 1
fi
grep -qF "usage: tcp_client" <<<"$message" || { echo "tcp_client with three arguments says: $message"; exit 1; }
echo "tcp_client, three arguments: $message"

read -r pid addr < <(start_server udp_server)
host=${addr%:*} port=${addr##*:}
exec 3<>"/dev/udp/$host/$port"
printf 'datagram' >&3
# One read(2) of up to 64 KiB takes exactly one datagram.
reply=$(timeout 10 dd bs=64k count=1 status=none <&3)
exec 3>&-
[ "$reply" = "datagram" ] || { echo "udp_server echoed '$reply'"; exit 1; }
reply=$(timeout 20 "${runner[@]}" "$examples/udp_client$exe" "$addr" "hello from udp_client")
[ "$reply" = "hello from udp_client" ] || { echo "udp_client got '$reply'"; exit 1; }
kill "$pid"
echo "udp_server: echoed a datagram and udp_client"

"${runner[@]}" "$examples/waker$exe" >/dev/null
echo "waker: ran"

# A periodic and a one-shot timer; the one-shot ends it after 550 ms.
output=$(timeout 20 "${runner[@]}" "$examples/timers$exe")
grep -q "done" <<<"$output" || { echo "timers did not finish: $output"; exit 1; }
echo "timers: $(tail -1 <<<"$output")"

# The Unix-only examples end on their own: signals sends itself three
# SIGUSR1s and a SIGTERM; child_exit waits for three children.
if [ -z "${EXAMPLES_DIR:-}" ]; then
    output=$(timeout 20 "$examples/signals")
    [ "$(grep -c '^SIGUSR1' <<<"$output")" -ge 1 ] && grep -q '^SIGTERM: stopping' <<<"$output" \
        || { echo "signals printed: $output"; exit 1; }
    echo "signals: handled SIGUSR1 and stopped on SIGTERM"
    output=$(timeout 20 "$examples/child_exit")
    for code in 1 2 3; do
        grep -q "exit status: $code" <<<"$output" || { echo "child_exit printed: $output"; exit 1; }
    done
    echo "child_exit: three exits reported, statuses collected"
fi

# Edge, level and one-shot registrations of unread sockets, round by round
# (the example checks each round itself).
timeout 20 "${runner[@]}" "$examples/trigger_modes$exe" | sed 's/^/trigger_modes: /'

# Sends itself a batch and a run of segments, and receives them all.
timeout 20 "${runner[@]}" "$examples/udp_batch$exe" | sed 's/^/udp_batch: /'
