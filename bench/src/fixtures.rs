//! What every competitor's workloads share: the message, the descriptors
//! that stand for ready sources, the connection count.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The message of the ping-pong and echo workloads.
pub const MESSAGE: [u8; 64] = [0x5a; 64];

/// The processor the measuring thread runs on, and the one the waker
/// workload's helper thread runs on: another one where there is one, so
/// that the wake crosses processors, as it does in a runtime.
pub const MAIN_CPU: usize = 0;
pub const HELPER_CPU: usize = 1;

/// Wakes per poll in the wake storm workload.
pub const WAKES: usize = 100;

/// Connections in the TCP echo workload.
pub const CONNECTIONS: usize = 100;

/// The loopback address with a port the OS picks.
pub fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A non-blocking eventfd: one descriptor per source.
pub fn eventfd() -> OwnedFd {
    // SAFETY: eventfd(2) has no memory arguments.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: the descriptor was just created and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Adds one to an eventfd: a new readiness edge.
pub fn signal(fd: &OwnedFd) {
    let one = 1u64.to_ne_bytes();
    // SAFETY: writes 8 bytes from a live buffer.
    let written = unsafe { libc::write(fd.as_raw_fd(), one.as_ptr().cast(), one.len()) };
    assert_eq!(
        written,
        8,
        "eventfd write: {}",
        std::io::Error::last_os_error()
    );
}

/// Reads until `WouldBlock`; returns the bytes read.
pub fn drain(mut reader: impl std::io::Read, buf: &mut [u8]) -> usize {
    let mut total = 0;
    loop {
        match reader.read(buf) {
            Ok(0) => panic!("the peer closed"),
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// `k` indices out of `n`, spread evenly.
pub fn spread(n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|i| i * n / k).collect()
}

/// Raises the soft limit on open descriptors as far as the hard limit
/// allows, for the workloads with thousands of sources.
pub fn raise_descriptor_limit() {
    // SAFETY: getrlimit/setrlimit read and write one live struct.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Pins the calling thread to one processor (modulo the processors there
/// are), so that thread placement does not change between samples.
pub fn pin_to_cpu(cpu: usize) {
    // Processors online, not `available_parallelism`, which counts the
    // calling thread's affinity: a thread spawned by the pinned main thread
    // would see one processor and pin itself next to it.
    // SAFETY: sysconf reads no memory of ours.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let cpus = usize::try_from(online).unwrap_or(1).max(1);
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET writes inside it;
    // sched_setaffinity reads it for the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu % cpus, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// A thread on `HELPER_CPU` that runs `wake` once per `request`, spinning
/// (not sleeping) in between while a run is active, so that what is timed
/// is the wake crossing processors, not the scheduler waking a thread.
/// Between runs it parks: the three competitors each have one, and three
/// threads spinning on one processor would make each wait for the others'
/// time slices.
pub struct Requester {
    shared: std::sync::Arc<RequesterState>,
    helper: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct RequesterState {
    requests: std::sync::atomic::AtomicU64,
    active: std::sync::atomic::AtomicBool,
    stop: std::sync::atomic::AtomicBool,
}

impl Requester {
    pub fn spawn(mut wake: impl FnMut() + Send + 'static) -> Requester {
        use std::sync::atomic::Ordering;
        let shared = std::sync::Arc::new(RequesterState::default());
        let helper = {
            let shared = std::sync::Arc::clone(&shared);
            std::thread::spawn(move || {
                pin_to_cpu(HELPER_CPU);
                let mut served = 0;
                while !shared.stop.load(Ordering::Acquire) {
                    if !shared.active.load(Ordering::Acquire) {
                        std::thread::park();
                        continue;
                    }
                    let wanted = shared.requests.load(Ordering::Acquire);
                    if wanted == served {
                        std::hint::spin_loop();
                        continue;
                    }
                    served = wanted;
                    wake();
                }
            })
        };
        Requester {
            shared,
            helper: Some(helper),
        }
    }

    /// Makes the helper spin, waiting for requests, until `pause`.
    pub fn start(&self) {
        self.shared
            .active
            .store(true, std::sync::atomic::Ordering::Release);
        self.unpark();
    }

    /// Lets the helper park.
    pub fn pause(&self) {
        self.shared
            .active
            .store(false, std::sync::atomic::Ordering::Release);
    }

    /// Asks the helper for one wake.
    pub fn request(&self) {
        self.shared
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    fn unpark(&self) {
        if let Some(helper) = &self.helper {
            helper.thread().unpark();
        }
    }
}

impl Drop for Requester {
    fn drop(&mut self) {
        self.shared
            .stop
            .store(true, std::sync::atomic::Ordering::Release);
        self.unpark();
        if let Some(helper) = self.helper.take() {
            let _ = helper.join();
        }
    }
}

/// The round trip of one cache line between `MAIN_CPU` and `HELPER_CPU`,
/// in nanoseconds: each side waits for the other's write, then writes.
/// What a wake costs beyond its system calls depends on it (on a VM, the
/// host's placement of the two virtual processors can change it between
/// runs), so the report states it. The median of 9 batches.
pub fn cache_line_round_trip() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    const TRIPS: u64 = 20_000;
    const BATCHES: u64 = 9;
    let line = Arc::new(AtomicU64::new(0));
    let helper = {
        let line = Arc::clone(&line);
        std::thread::spawn(move || {
            pin_to_cpu(HELPER_CPU);
            for i in 0..TRIPS * BATCHES {
                while line.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                line.store(2 * i + 2, Ordering::Release);
            }
        })
    };
    pin_to_cpu(MAIN_CPU);
    let mut batches = Vec::new();
    for batch in 0..BATCHES {
        let start = std::time::Instant::now();
        for i in batch * TRIPS..(batch + 1) * TRIPS {
            line.store(2 * i + 1, Ordering::Release);
            while line.load(Ordering::Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
        }
        batches.push(start.elapsed().as_nanos() as f64 / TRIPS as f64);
    }
    helper.join().expect("the round-trip helper");
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}

/// Clients of the connection churn: `n` connections to `address`, each
/// with its request sent, closed with a reset (`SO_LINGER` 0) so that a
/// long run leaves no `TIME_WAIT` sockets behind.
pub fn churn_clients(address: SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    use std::io::Write;
    (0..n)
        .map(|_| {
            let mut client = std::net::TcpStream::connect(address).expect("connect");
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: the option value lives across the call, with its size.
            let result = unsafe {
                libc::setsockopt(
                    client.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                )
            };
            assert_eq!(result, 0, "SO_LINGER: {}", std::io::Error::last_os_error());
            client.write_all(&MESSAGE).expect("request");
            client
        })
        .collect()
}

/// Reads each client's whole reply, then drops (resets) them.
pub fn finish_clients(clients: Vec<std::net::TcpStream>) {
    use std::io::Read;
    for mut client in clients {
        let mut reply = [0u8; MESSAGE.len()];
        client.read_exact(&mut reply).expect("reply");
    }
}
