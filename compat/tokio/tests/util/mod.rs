//! Helpers shared by the tokio tests. Every wait goes through `within`.

#![allow(dead_code)] // Each test file uses a different subset.

use std::future::Future;
#[cfg(unix)]
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

/// The longest any step waits for something that should happen: generous,
/// because the machine may be loaded by parallel builds.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How long a test waits to see that something does not happen.
pub const QUIET: Duration = Duration::from_millis(100);

/// Awaits `future`, failing the test with `what` if it takes longer than
/// `DEADLINE`.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {DEADLINE:?}: {what}"),
    }
}

/// Raises the soft limit on open descriptors to the hard limit.
#[cfg(unix)]
pub fn raise_descriptor_limit() -> u64 {
    // SAFETY: getrlimit and setrlimit read and write one live struct.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
        limit.rlim_cur
    }
}

/// Windows has no limit on open handles to raise.
#[cfg(not(unix))]
pub fn raise_descriptor_limit() -> u64 {
    u64::MAX
}

/// A non-blocking, close-on-exec pipe: (read end, write end).
#[cfg(unix)]
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A non-blocking, close-on-exec eventfd with a zero counter.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn eventfd() -> OwnedFd {
    // SAFETY: eventfd takes no pointers.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: the descriptor is new and owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A path for a Unix-domain socket that no other test or process uses.
#[cfg(unix)]
pub fn socket_path(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "evmux-tokio-{}-{name}-{n}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// `len` bytes of a pattern that tells a shifted or reordered echo apart.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A connected pair of streams: a Unix-domain socket pair, or on Windows
/// (no socket pairs) two TCP streams on loopback.
#[cfg(unix)]
pub async fn stream_pair() -> (tokio::net::UnixStream, tokio::net::UnixStream) {
    tokio::net::UnixStream::pair().unwrap()
}

/// A connected pair of streams: a Unix-domain socket pair, or on Windows
/// (no socket pairs) two TCP streams on loopback.
#[cfg(not(unix))]
pub async fn stream_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = within("a loopback connection", async {
        tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept())
    })
    .await;
    (client.unwrap(), accepted.unwrap().0)
}
