//! Names the OS groups and picks the backend: the one place in evmux where
//! lists of target operating systems live.
//!
//! It emits, for the crate's code to test with plain `#[cfg]`:
//!
//! - OS groups: `linux_like`, `apple`, `bsd`, `freebsdlike`, `solarish`,
//!   `wasi` (every preview), `wasip1` (WASI preview 1: no sockets of its
//!   own, no threads), `wasip2` (WASI preview 2 and later: sockets and
//!   poll(2) through wasi-libc, no threads).
//! - `evmux_fd`: I/O handles are file descriptors (`std::os::fd`): Unix and
//!   WASI.
//! - `evmux_selector = "epoll" | "kqueue" | "event_ports" | "poll" | "iocp" | "wasi" | "shell"`:
//!   the readiness mechanism behind `Poll` (`iocp`: Windows' completion
//!   port with sockets polled through the AFD driver; `wasi`: WASI preview
//!   1's `poll_oneoff`; `poll` also serves WASI preview 2, through
//!   wasi-libc's poll(2)).
//! - `evmux_waker = "fd" | "uring" | "poll" | "kqueue" | "port" | "iocp" | "wasi" | "shell"`: how a
//!   `Waker` interrupts a blocked `poll`: a descriptor registered like any
//!   source (`fd`), a no-op request on the io_uring (`uring`, with `fd`'s
//!   eventfd where a `Poll` fell back to epoll), the poll(2) selector's own notification (`poll`),
//!   `EVFILT_USER` (`kqueue`), `port_send` (`port`),
//!   `PostQueuedCompletionStatus` (`iocp`); `wasi` has none.
//! - `evmux_no_waker`: the public `Waker` does not exist (WASI preview 1, as
//!   in mio: a single-threaded program has no other thread to wake it from,
//!   and the `poll_oneoff` selector has no queue for a wake made before
//!   `poll`).
//! - `evmux_wake_fd = "eventfd" | "pipe" | "none"`: the descriptor behind the
//!   `fd` and `poll` wakers; `none` on WASI preview 2, which has neither
//!   pipes nor threads: nothing can wake a waiting `poll`, and a wake made
//!   before it is queued in the selector's table.
//! - `evmux_errno = "__errno_location" | "__errno" | "__error" | "___errno" | "_errnop"`:
//!   the C library's function that locates `errno`, which a signal handler
//!   saves and restores (`unix::Signals`); unset where it is unknown
//!   (`evmux_errno` alone is set with any value).
//! - `evmux_selector_fd`: the selector is one descriptor (epoll, kqueue,
//!   event ports, or the shell on Unix), which `Poll` and `Registry` expose
//!   through `AsFd`; the poll(2) selector has none.
//! - Capabilities of the Unix system calls, where the safe answer for an
//!   unlisted system is "no":
//!   - `evmux_atomic_flags`: `SOCK_NONBLOCK | SOCK_CLOEXEC` for `socket` and
//!     `socketpair`, `accept4` and `pipe2`, so that descriptors are created
//!     close-on-exec and non-blocking in one system call;
//!   - `evmux_msg_nosignal`: `MSG_NOSIGNAL` keeps a send to a closed peer from
//!     raising `SIGPIPE` (Apple systems use `SO_NOSIGPIPE` instead, see
//!     `apple`);
//!   - `evmux_mmsg`: `sendmmsg` and `recvmmsg` (with `MSG_WAITFORONE`), for
//!     batched UDP.
//! - `evmux_uring`: the epoll selector is wrapped by the io_uring one
//!   (`--cfg evmux_io_uring` on Linux, when epoll is the backend): each
//!   `Poll` uses io_uring where the kernel allows it, epoll otherwise
//!   (`sys/unix/selector/uring_or_epoll.rs`).
//! - `evmux_libkqueue`: the kqueue selector runs over libkqueue on Linux
//!   (`--cfg evmux_force_kqueue`); only the binding of `struct kevent` and
//!   its constants (`sys/unix/kevent.rs`) looks at it.
//!
//! `--cfg evmux_io_uring` (see `evmux_uring`) selects the io_uring
//! backend on Linux. Three cfgs given by the user in RUSTFLAGS force other backends so that
//! the whole test suite can run against them on Linux:
//! `--cfg evmux_force_poll` (the poll(2) selector),
//! `--cfg evmux_force_pipe_waker` (the pipe waker), and
//! `--cfg evmux_force_kqueue` (the kqueue selector, its `EVFILT_USER` waker
//! and every kqueue source, over libkqueue, a user-space kqueue(2) for
//! Linux: its install prefix, with `lib/libkqueue.a`, is read from the
//! environment variable `EVMUX_LIBKQUEUE_DIR`; see `evmux_libkqueue`). mio's own switch for
//! its poll(2) backend, `--cfg mio_unsupported_force_poll_poll`, forces the
//! poll(2) selector too: tokio reads that cfg to stop treating a short
//! read as proof that a socket is drained, so a tokio program built with it
//! gets the backend it was told about.
//!
//! No dependencies: this must build before anything else.

use std::env;

const SELECTORS: &[&str] = &[
    "epoll",
    "kqueue",
    "event_ports",
    "poll",
    "iocp",
    "wasi",
    "shell",
];
const WAKERS: &[&str] = &[
    "fd", "uring", "poll", "kqueue", "port", "iocp", "wasi", "shell",
];
const WAKE_FDS: &[&str] = &["eventfd", "pipe", "none"];
const ERRNOS: &[&str] = &[
    "__errno_location",
    "__errno",
    "__error",
    "___errno",
    "_errnop",
];
const GROUPS: &[&str] = &[
    "linux_like",
    "apple",
    "bsd",
    "freebsdlike",
    "solarish",
    "wasi",
    "wasip1",
    "wasip2",
];
const CAPABILITIES: &[&str] = &[
    "evmux_fd",
    "evmux_no_waker",
    "evmux_atomic_flags",
    "evmux_msg_nosignal",
    "evmux_mmsg",
    "evmux_selector_fd",
    "evmux_libkqueue",
    "evmux_uring",
];
const USER_CFGS: &[&str] = &[
    "evmux_force_poll",
    "evmux_force_pipe_waker",
    "evmux_force_kqueue",
    "evmux_io_uring",
    "mio_unsupported_force_poll_poll",
];

/// What build.rs knows about the target.
struct Target {
    os: String,
    env: String,
    family: String,
    os_poll: bool,
    force_poll: bool,
    force_pipe_waker: bool,
    force_kqueue: bool,
    io_uring: bool,
}

impl Target {
    fn from_env() -> Target {
        let var = |name: &str| env::var(name).unwrap_or_default();
        let set = |name: &str| env::var_os(name).is_some();
        Target {
            os: var("CARGO_CFG_TARGET_OS"),
            env: var("CARGO_CFG_TARGET_ENV"),
            family: var("CARGO_CFG_TARGET_FAMILY"),
            os_poll: set("CARGO_FEATURE_OS_POLL"),
            force_poll: set("CARGO_CFG_EVMUX_FORCE_POLL")
                || set("CARGO_CFG_MIO_UNSUPPORTED_FORCE_POLL_POLL"),
            force_pipe_waker: set("CARGO_CFG_EVMUX_FORCE_PIPE_WAKER"),
            force_kqueue: set("CARGO_CFG_EVMUX_FORCE_KQUEUE"),
            io_uring: set("CARGO_CFG_EVMUX_IO_URING"),
        }
    }

    fn is_unix(&self) -> bool {
        self.family.split(',').any(|family| family == "unix")
    }

    fn is_windows(&self) -> bool {
        self.os == "windows"
    }

    fn os_is(&self, names: &[&str]) -> bool {
        names.contains(&self.os.as_str())
    }

    /// The OS groups this target belongs to.
    fn groups(&self) -> Vec<&'static str> {
        let mut groups = Vec::new();
        if self.os_is(&["linux", "android"]) {
            groups.push("linux_like");
        }
        if self.os_is(&["macos", "ios", "tvos", "watchos", "visionos"]) {
            groups.push("apple");
        }
        if self.os_is(&["freebsd", "dragonfly"]) {
            groups.push("freebsdlike");
        }
        if self.os_is(&["freebsd", "dragonfly", "netbsd", "openbsd"]) {
            groups.push("bsd");
        }
        if self.os_is(&["illumos", "solaris"]) {
            groups.push("solarish");
        }
        if self.os == "wasi" {
            groups.push("wasi");
        }
        if self.os == "wasi" && self.env == "p1" {
            groups.push("wasip1");
        }
        // Preview 2 and later (`p2`, `p3`); the old `wasm32-wasi` target
        // (no `target_env`) was preview 1, and gets the shell.
        if self.os == "wasi" && !self.env.is_empty() && self.env != "p1" {
            groups.push("wasip2");
        }
        groups
    }

    /// The readiness mechanism: a chain that covers every target and ends in
    /// the shell.
    fn selector(&self, groups: &[&str]) -> &'static str {
        let has = |group: &str| groups.contains(&group);
        if !self.os_poll {
            "shell"
        } else if self.is_windows() {
            "iocp"
        } else if has("wasip1") {
            "wasi"
        } else if has("wasip2") {
            // wasi-libc's poll(2), over preview 2's pollables.
            "poll"
        } else if !self.is_unix() {
            "shell"
        } else if self.force_poll {
            "poll"
        } else if self.libkqueue(groups) {
            "kqueue"
        } else if has("linux_like") || self.os == "illumos" {
            // illumos has epoll, and mio uses it there: event ports'
            // one-shot associations need evmux's I/O to re-arm them, which
            // a raw descriptor registered once (tokio's `AsyncFd`) never
            // gets.
            "epoll"
        } else if has("apple") || has("bsd") {
            "kqueue"
        } else if has("solarish") {
            "event_ports"
        } else {
            "poll"
        }
    }

    /// The kqueue selector runs over libkqueue (Linux, forced).
    fn libkqueue(&self, groups: &[&str]) -> bool {
        self.force_kqueue && self.os_poll && groups.contains(&"linux_like")
    }

    /// The capabilities (see the module docs) of this target.
    fn capabilities(&self, groups: &[&str]) -> Vec<&'static str> {
        let has = |group: &str| groups.contains(&group);
        let mut capabilities = Vec::new();
        if has("linux_like") || has("bsd") || has("solarish") {
            capabilities.push("evmux_atomic_flags");
            capabilities.push("evmux_msg_nosignal");
        }
        // DragonFly has the calls too, but the `libc` crate does not
        // declare them there.
        if has("linux_like") || self.os_is(&["freebsd", "netbsd", "openbsd"]) {
            capabilities.push("evmux_mmsg");
        }
        if self.is_unix() || self.os == "wasi" {
            capabilities.push("evmux_fd");
        }
        if has("wasip1") {
            capabilities.push("evmux_no_waker");
        }
        capabilities
    }

    /// Whether the epoll selector is wrapped by the io_uring one
    /// (`evmux_uring`).
    fn uring(&self, selector: &str) -> bool {
        self.io_uring && selector == "epoll" && self.os == "linux"
    }

    /// How a `Waker` reaches the selector.
    fn waker(&self, selector: &str, groups: &[&str]) -> &'static str {
        let has = |group: &str| groups.contains(&group);
        match selector {
            "epoll" if self.uring(selector) && !self.force_pipe_waker => "uring",
            "shell" => "shell",
            "poll" => "poll",
            "iocp" => "iocp",
            "wasi" => "wasi",
            // Event ports always use port_send: a woken descriptor would be
            // dissociated after its first event.
            "event_ports" => "port",
            // EVFILT_USER: Apple, FreeBSD and DragonFly; NetBSD and OpenBSD
            // get a descriptor.
            "kqueue"
                if !self.force_pipe_waker
                    && (has("apple") || has("freebsdlike") || self.libkqueue(groups)) =>
            {
                "kqueue"
            }
            _ => "fd",
        }
    }

    /// The C library's function that returns the address of `errno`.
    fn errno(&self, groups: &[&str]) -> Option<&'static str> {
        let has = |group: &str| groups.contains(&group);
        if self.os_is(&["linux", "dragonfly", "hurd", "redox", "emscripten"]) {
            Some("__errno_location")
        } else if self.os_is(&["android", "netbsd", "openbsd", "cygwin", "nuttx"]) {
            Some("__errno")
        } else if has("apple") || self.os == "freebsd" {
            Some("__error")
        } else if has("solarish") {
            Some("___errno")
        } else if self.os == "haiku" {
            Some("_errnop")
        } else {
            None
        }
    }

    /// The descriptor behind the `fd` and `poll` wakers.
    fn wake_fd(&self, groups: &[&str]) -> &'static str {
        if groups.contains(&"wasip2") {
            "none"
        } else if groups.contains(&"linux_like") && !self.force_pipe_waker {
            "eventfd"
        } else {
            "pipe"
        }
    }
}

fn declare(name: &str, values: &[&str]) {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    println!(
        "cargo:rustc-check-cfg=cfg({name}, values({}))",
        quoted.join(", ")
    );
}

/// Links libkqueue, statically, from the prefix in `EVMUX_LIBKQUEUE_DIR`.
fn link_libkqueue() {
    println!("cargo:rerun-if-env-changed=EVMUX_LIBKQUEUE_DIR");
    let Some(prefix) = env::var_os("EVMUX_LIBKQUEUE_DIR") else {
        panic!(
            "--cfg evmux_force_kqueue runs the kqueue backend over libkqueue: set \
             EVMUX_LIBKQUEUE_DIR to libkqueue's install prefix (the folder holding \
             lib/libkqueue.a; .ci/kqueue.sh builds one)"
        );
    };
    let lib = std::path::Path::new(&prefix).join("lib");
    if !lib.join("libkqueue.a").is_file() {
        panic!(
            "EVMUX_LIBKQUEUE_DIR={}: no lib/libkqueue.a there",
            lib.parent().unwrap_or(&lib).display()
        );
    }
    // A rebuilt libkqueue is linked again.
    println!(
        "cargo:rerun-if-changed={}",
        lib.join("libkqueue.a").display()
    );
    println!("cargo:rustc-cfg=evmux_libkqueue");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=static=kqueue");
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    declare("evmux_selector", SELECTORS);
    declare("evmux_waker", WAKERS);
    declare("evmux_wake_fd", WAKE_FDS);
    declare("evmux_errno", ERRNOS);
    println!("cargo:rustc-check-cfg=cfg(evmux_errno)");
    for name in GROUPS.iter().chain(CAPABILITIES).chain(USER_CFGS) {
        println!("cargo:rustc-check-cfg=cfg({name})");
    }

    let target = Target::from_env();
    let groups = target.groups();
    let selector = target.selector(&groups);
    let waker = target.waker(selector, &groups);
    for name in groups.iter().chain(&target.capabilities(&groups)) {
        println!("cargo:rustc-cfg={name}");
    }
    println!("cargo:rustc-cfg=evmux_selector=\"{selector}\"");
    println!("cargo:rustc-cfg=evmux_waker=\"{waker}\"");
    if let Some(errno) = target.errno(&groups).filter(|_| target.is_unix()) {
        println!("cargo:rustc-cfg=evmux_errno");
        println!("cargo:rustc-cfg=evmux_errno=\"{errno}\"");
    }
    if target.libkqueue(&groups) {
        link_libkqueue();
    }
    if target.uring(selector) {
        println!("cargo:rustc-cfg=evmux_uring");
    }
    if target.is_unix() && selector != "poll" {
        println!("cargo:rustc-cfg=evmux_selector_fd");
    }
    if waker == "fd" || waker == "uring" || waker == "poll" {
        println!(
            "cargo:rustc-cfg=evmux_wake_fd=\"{}\"",
            target.wake_fd(&groups)
        );
    }
}
