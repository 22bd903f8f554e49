//! The background drain of a dropped `Poll` (`sys/windows/reclaim.rs`),
//! seen from outside: its threads end when what they wait for is back, and
//! the process exits while one waits. Each case runs in a child process
//! (this binary, filtered to `child`), where the threads can be counted
//! without the other tests' threads.

#![cfg(all(windows, feature = "os-ext"))]

mod util;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{
    CloseHandle, GetHandleInformation, LocalFree, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcessId, GetThreadDescription, OpenThread, THREAD_QUERY_LIMITED_INFORMATION,
};

use evmux::windows::NamedPipe;
use evmux::{Events, Interest, Poll, Token};

const MODE: &str = "EVMUX_DRAIN_PROBE";

fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(r"\\.\pipe\evmux-drain-{}-{n}", std::process::id())
}

/// The threads of this process: all of them, and those named
/// `evmux-drain` (std names its threads with `SetThreadDescription`).
fn thread_counts() -> (usize, usize) {
    // SAFETY: a snapshot of every thread takes no pointers.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
    assert_ne!(snapshot, INVALID_HANDLE_VALUE);
    // SAFETY: plain data; dwSize is set before use.
    let mut entry: THREADENTRY32 = unsafe { std::mem::zeroed() };
    entry.dwSize = std::mem::size_of::<THREADENTRY32>() as u32;
    // SAFETY: no arguments.
    let me = unsafe { GetCurrentProcessId() };
    let (mut all, mut drains) = (0, 0);
    // SAFETY: `snapshot` is open and `entry` is a live, sized local.
    let mut more = unsafe { Thread32First(snapshot, &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == me {
            all += 1;
            if thread_name(entry.th32ThreadID).as_deref() == Some("evmux-drain") {
                drains += 1;
            }
        }
        // SAFETY: as above.
        more = unsafe { Thread32Next(snapshot, &mut entry) } != 0;
    }
    // SAFETY: the snapshot is ours, closed once.
    unsafe { CloseHandle(snapshot) };
    (all, drains)
}

/// The name of thread `id`, if it has one (and still runs).
fn thread_name(id: u32) -> Option<String> {
    // SAFETY: opening a thread by id takes no pointers; NULL on failure.
    let thread = unsafe { OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, id) };
    if thread.is_null() {
        return None;
    }
    let mut name: *mut u16 = std::ptr::null_mut();
    // SAFETY: `thread` is open; `name` is a live local the call writes.
    let result = unsafe { GetThreadDescription(thread, &mut name) };
    // SAFETY: opened above, closed once.
    unsafe { CloseHandle(thread) };
    if result < 0 || name.is_null() {
        return None;
    }
    // SAFETY: on success `name` is a NUL-terminated string the system
    // allocated with LocalAlloc, freed once below.
    let text = unsafe {
        let len = (0..).take_while(|&i| *name.add(i) != 0).count();
        let text = String::from_utf16_lossy(std::slice::from_raw_parts(name, len));
        LocalFree(name.cast());
        text
    };
    Some(text)
}

/// The threads of this process.
fn threads() -> usize {
    thread_counts().0
}

/// The handles this process holds, counted by asking about every handle
/// value in turn (Wine's `GetProcessHandleCount` answers 0).
fn handles() -> usize {
    (1..=0x4000)
        .filter(|value| {
            let mut flags = 0;
            let handle = (value * 4) as windows_sys::Win32::Foundation::HANDLE;
            // SAFETY: asking about a handle value that may not be open is
            // allowed (it fails); `flags` is a live local.
            unsafe { GetHandleInformation(handle, &mut flags) != 0 }
        })
        .count()
}

/// The drain threads of this process.
fn drain_threads() -> usize {
    thread_counts().1
}

/// Waits until at most `want` drain threads are left, and still are
/// `QUIET` later (a thread spawned just now is named by itself once it
/// runs); returns the count.
fn wait_for_drains(want: usize) -> usize {
    let start = Instant::now();
    loop {
        let now = drain_threads();
        if now <= want {
            thread::sleep(util::QUIET);
            let again = drain_threads();
            if again <= want {
                return again;
            }
        }
        if start.elapsed() > util::DEADLINE {
            return now;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A `Poll` with a pipe whose write (more than the pipe holds) is in
/// flight to a client that has not read, both dropped; the client end.
fn drop_a_poll_with_a_write_pending() -> File {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let name = unique_name();
    let mut server = NamedPipe::new(&name).unwrap();
    poll.registry()
        .register(&mut server, Token(0), Interest::WRITABLE)
        .unwrap();
    let _ = server.connect();
    let client = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    let start = Instant::now();
    while events.is_empty() {
        assert!(start.elapsed() < util::DEADLINE, "no writable event");
        poll.poll(&mut events, Some(util::DEADLINE)).unwrap();
    }
    assert_eq!(server.write(&[7; 1 << 20]).unwrap(), 1 << 20);
    drop(server);
    drop(poll);
    client
}

/// Runs this binary's `child` with `mode`; its exit status and how long it
/// took (killed past `limit`).
fn run_child(mode: &str, limit: Duration) -> (bool, Duration, String) {
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
            return (status.success(), start.elapsed(), out);
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the child ({mode}) still runs after {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The body of the child process (does nothing unless run by a test).
#[test]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let mut out = std::io::stdout();
    match mode.as_str() {
        "exit" => {
            // A drain waits for this write; the client stays, not
            // reading, until the process ends.
            std::mem::forget(drop_a_poll_with_a_write_pending());
        }
        "leave" => {
            let base = drain_threads();
            for _ in 0..16 {
                drop(drop_a_poll_with_a_write_pending());
            }
            let after = wait_for_drains(base);
            writeln!(out, "drain threads: {base} before, {after} after").unwrap();
            assert!(after <= base, "{} drain threads left", after - base);
        }
        "stay" => {
            let base = drain_threads();
            let clients: Vec<File> = (0..16)
                .map(|_| drop_a_poll_with_a_write_pending())
                .collect();
            let during = drain_threads();
            writeln!(
                out,
                "drain threads: {base} before, {during} with 16 drains ({} threads in all)",
                threads()
            )
            .unwrap();
            drop(clients);
            let after = wait_for_drains(base);
            writeln!(out, "drain threads: {after} after the clients left").unwrap();
            assert!(after <= base, "{} drain threads left", after - base);
        }
        "socket" => {
            let base = drain_threads();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            for _ in 0..8 {
                let mut poll = Poll::new().unwrap();
                let mut events = Events::with_capacity(8);
                let mut stream =
                    evmux::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
                let (_accepted, _) = listener.accept().unwrap();
                poll.registry()
                    .register(&mut stream, Token(1), Interest::READABLE)
                    .unwrap();
                // Issues the request; nothing is readable.
                poll.poll(&mut events, Some(Duration::from_millis(20)))
                    .unwrap();
                drop(poll);
                drop(stream);
            }
            let after = wait_for_drains(base);
            writeln!(out, "drain threads: {base} before, {after} after").unwrap();
            assert!(after <= base, "{} drain threads left", after - base);
        }
        "mixed" => {
            let base = drain_threads();
            mixed_use();
            let after = wait_for_drains(base);
            writeln!(out, "drain threads: {base} before, {after} after").unwrap();
            assert!(after <= base, "{} drain threads left", after - base);
        }
        "tls" => {
            tls_drop();
            writeln!(out, "tls: done").unwrap();
        }
        "leftover" => {
            let base = drain_threads();
            leftover();
            let after = wait_for_drains(base);
            writeln!(out, "drain threads: {base} before, {after} after").unwrap();
            assert!(after <= base, "{} drain threads left", after - base);
        }
        "handles" => {
            // Warm up: Winsock, the first pipe, the first Poll.
            drop(drop_a_poll_with_a_write_pending());
            mixed_use();
            wait_for_drains(0);
            let base = handles();
            // The count sees one handle more.
            let pipe = NamedPipe::new(unique_name()).unwrap();
            assert_eq!(handles(), base + 1);
            drop(pipe);
            for _ in 0..20 {
                drop(drop_a_poll_with_a_write_pending());
                mixed_use();
            }
            assert_eq!(wait_for_drains(0), 0, "drain threads left");
            let after = handles();
            writeln!(out, "handles: {base} before, {after} after 20 rounds").unwrap();
            assert!(after <= base, "{} handles more", after - base);
        }
        other => panic!("unknown mode {other}"),
    }
}

/// The process exits at once while a drain thread waits for a write no
/// client reads: nothing waits for the thread.
#[test]
fn the_process_exits_while_a_drain_waits() {
    let (ok, took, _) = run_child("exit", Duration::from_secs(60));
    assert!(ok, "the child failed");
    assert!(took < Duration::from_secs(20), "the child took {took:?}");
}

/// Sixteen `Poll`s dropped in a row, each with a write to a client that
/// then leaves: every drain thread ends.
#[test]
fn drain_threads_end_when_their_clients_leave() {
    let (ok, _, out) = run_child("leave", Duration::from_secs(60));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
}

/// Sixteen drains waiting for clients that do not read: one thread each,
/// until the clients leave.
#[test]
fn drain_threads_wait_for_clients_and_end_when_they_leave() {
    let (ok, _, out) = run_child("stay", Duration::from_secs(60));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
}

/// A socket whose AFD poll is in flight, dropped after its `Poll`: the
/// cancelled request comes back at once, so no drain thread lingers.
#[test]
fn a_socket_dropped_after_its_poll_leaves_no_drain_thread() {
    let (ok, _, out) = run_child("socket", Duration::from_secs(60));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
}

/// An evmux client end of the pipe `name`.
fn pipe_client(name: &str) -> NamedPipe {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::{FromRawHandle, IntoRawHandle};
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED)
        .open(name)
        .unwrap();
    // SAFETY: just opened, overlapped, owned by nobody else.
    unsafe { NamedPipe::from_raw_handle(file.into_raw_handle()) }
}

/// Every kind of operation a selector lends, each `Poll` dropped when all
/// of it has come back (nothing left for a drain to wait for): pipe
/// transfers both ways, connects found connected, writes after the client
/// left, `disconnect` with a read in flight, socket transfers, wakes.
fn mixed_use() {
    use std::io::Read;
    // Pipes, both ends evmux, through `transfer`'s own `Poll`.
    for server_writes in [true, false] {
        let name = unique_name();
        let mut server = NamedPipe::new(&name).unwrap();
        let mut client = pipe_client(&name);
        if server_writes {
            util::transfer(&mut server, &mut client, 1 << 20, 100_000, 10_000);
        } else {
            util::transfer(&mut client, &mut server, 1 << 20, 100_000, 10_000);
        }
        drop((server, client));
    }

    // Sockets.
    let (mut a, mut b) = util::tcp_pair();
    util::transfer(&mut a, &mut b, 1 << 20, 100_000, 10_000);
    drop((a, b));

    // A connect that finds the client there, a write after it left, a
    // disconnect with a read in flight, and wakes.
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = evmux::Waker::new(poll.registry(), Token(9)).unwrap();
    let name = unique_name();
    let mut server = NamedPipe::new(&name).unwrap();
    let client = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    poll.registry()
        .register(
            &mut server,
            Token(0),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    server.connect().unwrap();
    util::expect_events(&mut poll, &mut events, &[(Token(0), util::WRITABLE)]);
    let mut buf = [0; 8];
    assert_eq!(
        server.read(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    drop(client);
    util::expect_events(&mut poll, &mut events, &[(Token(0), util::READABLE)]);
    assert!(server.write(b"gone").is_err());
    server.disconnect().unwrap();
    assert_eq!(
        server.connect().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    let _client = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    util::expect_events(&mut poll, &mut events, &[(Token(0), util::WRITABLE)]);
    for _ in 0..5 {
        waker.wake().unwrap();
        util::expect_events(&mut poll, &mut events, &[(Token(9), util::READABLE)]);
    }
    // A read in flight when the pipe goes (cancelled).
    let _ = server.read(&mut buf);
    drop(server);
    drop(waker);
    drop(poll);
}

/// After a mix of every operation, each `Poll` dropped with nothing in
/// flight: no drain thread is left (a miscount of what is lent would keep
/// one waiting for the drain's limits, 35 s).
#[test]
fn no_drain_thread_is_left_after_ordinary_use() {
    let (ok, _, out) = run_child("mixed", Duration::from_secs(90));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
}

thread_local! {
    static KEPT: std::cell::RefCell<Option<(Poll, NamedPipe)>> =
        const { std::cell::RefCell::new(None) };
}

/// A thread keeps its `Poll` and a pipe with a write in flight in a
/// thread-local, and exits: the `Poll` goes in the thread's TLS
/// destructors, which hand the write to a drain; the client reading
/// afterwards gets every byte and the end of stream.
fn tls_drop() {
    use std::io::Read;
    let name = unique_name();
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 239) as u8).collect();
    let (client_tx, client_rx) = std::sync::mpsc::channel();
    let thread = {
        let name = name.clone();
        let data = data.clone();
        thread::spawn(move || {
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(8);
            let mut server = NamedPipe::new(&name).unwrap();
            poll.registry()
                .register(&mut server, Token(0), Interest::WRITABLE)
                .unwrap();
            let _ = server.connect();
            let client = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&name)
                .unwrap();
            util::expect_events(&mut poll, &mut events, &[(Token(0), util::WRITABLE)]);
            assert_eq!(server.write(&data).unwrap(), data.len());
            client_tx.send(client).unwrap();
            KEPT.with(|kept| *kept.borrow_mut() = Some((poll, server)));
        })
    };
    let mut client = client_rx.recv_timeout(util::DEADLINE).unwrap();
    let start = Instant::now();
    while !thread.is_finished() {
        assert!(start.elapsed() < util::DEADLINE, "the thread did not exit");
        thread::sleep(Duration::from_millis(10));
    }
    thread.join().unwrap();
    let got = util::within_deadline(move || {
        let mut got = Vec::new();
        client.read_to_end(&mut got).map(|_| got)
    })
    .expect("read the client end");
    assert!(got == data, "got {} of {} bytes", got.len(), data.len());
}

/// A `Poll` dropped by a thread's TLS destructors, with a write in flight:
/// the drain starts from there (no abort, no hang) and delivers.
#[test]
fn a_poll_dropped_in_tls_destructors_drains() {
    let (ok, took, out) = run_child("tls", Duration::from_secs(60));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
    assert!(took < Duration::from_secs(30), "the child took {took:?}");
}

/// Sources that outlive their `Poll` and get completions nobody dequeues:
/// a waker woken many times, a coalescing one, a child's exit, a socket
/// with data arriving, a pipe whose client writes and leaves. Dropping
/// them takes every completion back at once: no drain thread is left.
fn leftover() {
    use std::io::Write as _;
    let poll = Poll::new().unwrap();
    let waker = evmux::Waker::new(poll.registry(), Token(1)).unwrap();
    let coalescing = evmux::Waker::new_coalescing(poll.registry(), Token(2)).unwrap();
    let mut child = std::process::Command::new("cmd")
        .args(["/c", "exit 3"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut exit = evmux::process::ChildExit::new(&child).unwrap();
    poll.registry()
        .register(&mut exit, Token(3), Interest::READABLE)
        .unwrap();
    let (mut a, mut b) = util::tcp_pair();
    poll.registry()
        .register(&mut a, Token(4), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    let name = unique_name();
    let mut server = NamedPipe::new(&name).unwrap();
    let mut client = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    poll.registry()
        .register(&mut server, Token(5), Interest::READABLE)
        .unwrap();
    let _ = server.connect();
    drop(poll);
    for _ in 0..1000 {
        waker.wake().unwrap();
        coalescing.wake().unwrap();
    }
    util::write_all_within_deadline(&mut b, b"data for a");
    client.write_all(b"data for the server").unwrap();
    drop(client);
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < util::DEADLINE, "the child runs on");
        thread::sleep(Duration::from_millis(10));
    }
    let start = Instant::now();
    drop((waker, coalescing, exit, a, b, server));
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "dropping took {took:?}");
}

/// See `leftover`.
#[test]
fn completions_nobody_dequeued_are_taken_back_without_a_drain_thread() {
    let (ok, _, out) = run_child("leftover", Duration::from_secs(90));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
}

/// Twenty rounds of drains that end (clients that leave) and of ordinary
/// use: the process holds no more handles than before (a pipe, port, AFD
/// or thread handle kept would show).
#[test]
fn drains_leave_no_handles_behind() {
    let (ok, _, out) = run_child("handles", Duration::from_secs(120));
    print!("{out}");
    assert!(ok, "the child failed: {out}");
}
