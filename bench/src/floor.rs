//! The floor: each workload's loop written directly against epoll, eventfd
//! and the sockets, with no library in between. The sockets themselves are
//! std's (a std read or write is one system call), so that the difference
//! to evmux and mio is the event loop's own cost.

use std::hint::black_box;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::fixtures::{self, drain, MESSAGE};
use crate::harness::Bench;

/// An epoll instance and its event buffer.
pub struct Epoll {
    fd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    pub fn new(capacity: usize) -> Epoll {
        // SAFETY: epoll_create1 has no memory arguments.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1: {}", io::Error::last_os_error());
        // SAFETY: the descriptor was just created and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Epoll {
            fd,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; capacity],
        }
    }

    /// Registers `fd` edge-triggered for reading, as evmux and mio do.
    pub fn add(&self, fd: RawFd, token: u64) {
        let flags = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        let mut event = libc::epoll_event {
            events: flags,
            u64: token,
        };
        // SAFETY: the event struct lives across the call.
        let result =
            unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        assert_eq!(result, 0, "epoll_ctl ADD: {}", io::Error::last_os_error());
    }

    pub fn delete(&self, fd: RawFd) {
        // SAFETY: EPOLL_CTL_DEL takes no event.
        let result = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(result, 0, "epoll_ctl DEL: {}", io::Error::last_os_error());
    }

    /// Waits; returns the events. Waits again after `EINTR`: in a process
    /// that also runs evmux's io_uring backend, io_uring's task work
    /// interrupts a blocking `epoll_wait` without any signal (see the
    /// README's io_uring notes).
    pub fn wait(&mut self, timeout_ms: i32) -> &[libc::epoll_event] {
        let n = loop {
            // SAFETY: the buffer has room for `len` events, which the
            // kernel fills.
            let n = unsafe {
                libc::epoll_wait(
                    self.fd.as_raw_fd(),
                    self.events.as_mut_ptr(),
                    self.events.len() as i32,
                    timeout_ms,
                )
            };
            if n >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break n;
            }
        };
        assert!(n >= 0, "epoll_wait: {}", io::Error::last_os_error());
        &self.events[..n as usize]
    }

    /// Waits until an event for `token` arrives.
    pub fn wait_for(&mut self, token: u64) {
        while !self.wait(-1).iter().any(|event| event.u64 == token) {}
    }
}

pub struct Dispatch {
    epoll: Epoll,
    fds: Arc<Vec<OwnedFd>>,
    ready: Vec<usize>,
}

impl Dispatch {
    pub fn new(fds: &Arc<Vec<OwnedFd>>, ready: &[usize]) -> Dispatch {
        let epoll = Epoll::new(ready.len().max(64));
        for (index, fd) in fds.iter().enumerate() {
            epoll.add(fd.as_raw_fd(), index as u64);
        }
        Dispatch {
            epoll,
            fds: Arc::clone(fds),
            ready: ready.to_vec(),
        }
    }
}

impl Bench for Dispatch {
    fn run(&mut self, iters: u64) -> Duration {
        while !self.epoll.wait(0).is_empty() {}
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            for &index in &self.ready {
                fixtures::signal(&self.fds[index]);
            }
            let start = Instant::now();
            let mut delivered = 0;
            for event in self.epoll.wait(0) {
                black_box(event.u64);
                delivered += 1;
            }
            total += start.elapsed();
            assert_eq!(delivered, self.ready.len());
        }
        total
    }
}

pub struct Churn {
    epoll: Epoll,
    socket: UdpSocket,
}

impl Churn {
    pub fn new() -> Churn {
        let socket = UdpSocket::bind(fixtures::localhost()).expect("bind");
        socket.set_nonblocking(true).expect("nonblocking");
        Churn {
            epoll: Epoll::new(1),
            socket,
        }
    }
}

impl Bench for Churn {
    fn run(&mut self, iters: u64) -> Duration {
        let fd = self.socket.as_raw_fd();
        let start = Instant::now();
        for index in 0..iters {
            self.epoll.add(fd, index);
            self.epoll.delete(fd);
        }
        start.elapsed()
    }
}

pub struct WakerRoundTrip {
    epoll: Epoll,
    remote: Arc<OwnedFd>,
    stop: Arc<AtomicBool>,
    helper: Option<JoinHandle<()>>,
}

impl WakerRoundTrip {
    pub fn new() -> WakerRoundTrip {
        let epoll = Epoll::new(8);
        let back = fixtures::eventfd();
        epoll.add(back.as_raw_fd(), 0);
        let mut helper_epoll = Epoll::new(8);
        let remote = Arc::new(fixtures::eventfd());
        helper_epoll.add(remote.as_raw_fd(), 1);
        let stop = Arc::new(AtomicBool::new(false));
        let helper = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                fixtures::pin_to_cpu(fixtures::HELPER_CPU);
                loop {
                    let woken = !helper_epoll.wait(-1).is_empty();
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    if woken {
                        fixtures::signal(&back);
                    }
                }
            })
        };
        WakerRoundTrip {
            epoll,
            remote,
            stop,
            helper: Some(helper),
        }
    }
}

impl Bench for WakerRoundTrip {
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            fixtures::signal(&self.remote);
            self.epoll.wait_for(0);
        }
        start.elapsed()
    }
}

impl Drop for WakerRoundTrip {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        fixtures::signal(&self.remote);
        if let Some(helper) = self.helper.take() {
            let _ = helper.join();
        }
    }
}

pub struct CrossCoreWake {
    epoll: Epoll,
    requester: fixtures::Requester,
}

impl CrossCoreWake {
    pub fn new() -> CrossCoreWake {
        let epoll = Epoll::new(8);
        let waker = fixtures::eventfd();
        epoll.add(waker.as_raw_fd(), 0);
        let requester = fixtures::Requester::spawn(move || fixtures::signal(&waker));
        CrossCoreWake { epoll, requester }
    }
}

impl Bench for CrossCoreWake {
    fn run(&mut self, iters: u64) -> Duration {
        self.requester.start();
        let start = Instant::now();
        for _ in 0..iters {
            self.requester.request();
            while !self.epoll.wait(0).iter().any(|event| event.u64 == 0) {}
        }
        let elapsed = start.elapsed();
        self.requester.pause();
        elapsed
    }
}

pub struct WakeStorm {
    epoll: Epoll,
    waker: OwnedFd,
}

impl WakeStorm {
    pub fn new() -> WakeStorm {
        let epoll = Epoll::new(8);
        let waker = fixtures::eventfd();
        epoll.add(waker.as_raw_fd(), 0);
        WakeStorm { epoll, waker }
    }
}

impl Bench for WakeStorm {
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            for _ in 0..fixtures::WAKES {
                fixtures::signal(&self.waker);
            }
            assert_eq!(self.epoll.wait(0).len(), 1);
        }
        start.elapsed()
    }
}

/// A connected, non-blocking pair of TCP streams, registered with `epoll`.
fn tcp_pair(epoll: &Epoll, client_token: u64, server_token: u64) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(fixtures::localhost()).expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("local_addr")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    for stream in [&client, &server] {
        stream.set_nonblocking(true).expect("nonblocking");
        stream.set_nodelay(true).expect("nodelay");
    }
    epoll.add(client.as_raw_fd(), client_token);
    epoll.add(server.as_raw_fd(), server_token);
    (client, server)
}

pub struct TcpPingPong {
    epoll: Epoll,
    client: TcpStream,
    server: TcpStream,
}

impl TcpPingPong {
    pub fn new() -> TcpPingPong {
        let epoll = Epoll::new(8);
        let (client, server) = tcp_pair(&epoll, 0, 1);
        TcpPingPong {
            epoll,
            client,
            server,
        }
    }
}

impl Bench for TcpPingPong {
    fn run(&mut self, iters: u64) -> Duration {
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        for _ in 0..iters {
            self.client.write_all(&MESSAGE).expect("write");
            self.epoll.wait_for(1);
            let n = drain(&self.server, &mut buf);
            self.server.write_all(&buf[..n]).expect("write");
            let mut echoed = 0;
            while echoed < MESSAGE.len() {
                self.epoll.wait_for(0);
                echoed += drain(&self.client, &mut buf);
            }
        }
        start.elapsed()
    }
}

pub struct TcpEcho {
    epoll: Epoll,
    clients: Vec<TcpStream>,
    servers: Vec<TcpStream>,
}

impl TcpEcho {
    pub fn new() -> TcpEcho {
        let epoll = Epoll::new(256);
        let (clients, servers) = (0..fixtures::CONNECTIONS)
            .map(|i| tcp_pair(&epoll, 2 * i as u64, 2 * i as u64 + 1))
            .unzip();
        TcpEcho {
            epoll,
            clients,
            servers,
        }
    }
}

impl Bench for TcpEcho {
    fn run(&mut self, iters: u64) -> Duration {
        let mut buf = [0u8; 4096];
        let mut received = vec![0usize; self.clients.len()];
        let mut ready: Vec<u64> = Vec::with_capacity(256);
        let start = Instant::now();
        for _ in 0..iters {
            for client in &self.clients {
                (&*client).write_all(&MESSAGE).expect("write");
            }
            received.iter_mut().for_each(|count| *count = 0);
            let mut done = 0;
            while done < self.clients.len() {
                ready.clear();
                ready.extend(self.epoll.wait(-1).iter().map(|event| event.u64));
                for &token in &ready {
                    let index = token as usize / 2;
                    if token % 2 == 1 {
                        let server = &self.servers[index];
                        let n = drain(server, &mut buf);
                        (&*server).write_all(&buf[..n]).expect("write");
                    } else {
                        received[index] += drain(&self.clients[index], &mut buf);
                        if received[index] == MESSAGE.len() {
                            done += 1;
                        }
                    }
                }
            }
        }
        start.elapsed()
    }
}

pub struct UdpEcho {
    epoll: Epoll,
    client: UdpSocket,
    server: UdpSocket,
    server_address: SocketAddr,
}

impl UdpEcho {
    pub fn new() -> UdpEcho {
        let epoll = Epoll::new(8);
        let client = UdpSocket::bind(fixtures::localhost()).expect("bind");
        let server = UdpSocket::bind(fixtures::localhost()).expect("bind");
        for socket in [&client, &server] {
            socket.set_nonblocking(true).expect("nonblocking");
        }
        epoll.add(client.as_raw_fd(), 0);
        epoll.add(server.as_raw_fd(), 1);
        let server_address = server.local_addr().expect("local_addr");
        UdpEcho {
            epoll,
            client,
            server,
            server_address,
        }
    }
}

impl Bench for UdpEcho {
    fn run(&mut self, iters: u64) -> Duration {
        let mut buf = [0u8; 2048];
        let start = Instant::now();
        for _ in 0..iters {
            self.client
                .send_to(&MESSAGE, self.server_address)
                .expect("send_to");
            self.epoll.wait_for(1);
            loop {
                match self.server.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        self.server.send_to(&buf[..n], from).expect("send_to");
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("recv_from: {e}"),
                }
            }
            self.epoll.wait_for(0);
            loop {
                match self.client.recv(&mut buf) {
                    Ok(n) => assert_eq!(n, MESSAGE.len()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("recv: {e}"),
                }
            }
        }
        start.elapsed()
    }
}

/// A registered socket with no library: its descriptor, and no heap.
pub fn bytes_per_source() -> f64 {
    std::mem::size_of::<OwnedFd>() as f64
}

pub fn bytes_per_event_slot() -> f64 {
    std::mem::size_of::<libc::epoll_event>() as f64
}

/// Registration churn of a ready socket (see `competitor.rs`).
pub struct ReadyChurn {
    churn: Churn,
    _sender: UdpSocket,
}

impl ReadyChurn {
    pub fn new() -> ReadyChurn {
        let churn = Churn::new();
        let sender = UdpSocket::bind(fixtures::localhost()).expect("bind");
        let address = churn.socket.local_addr().expect("local_addr");
        sender.send_to(&MESSAGE, address).expect("send_to");
        ReadyChurn {
            churn,
            _sender: sender,
        }
    }
}

impl Bench for ReadyChurn {
    fn run(&mut self, iters: u64) -> Duration {
        self.churn.run(iters)
    }
}

const LISTENER: u64 = u64::MAX - 1;

/// Connection churn on raw epoll (see `competitor.rs`): `accept4` with
/// `SOCK_NONBLOCK`, `EPOLL_CTL_ADD`, read, write, `EPOLL_CTL_DEL`, close.
pub struct ConnChurn {
    epoll: Epoll,
    listener: TcpListener,
    address: SocketAddr,
    wave: usize,
    streams: Vec<Option<TcpStream>>,
    free: Vec<usize>,
}

impl ConnChurn {
    pub fn new(wave: usize) -> ConnChurn {
        let listener = TcpListener::bind(fixtures::localhost()).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let epoll = Epoll::new(256);
        epoll.add(listener.as_raw_fd(), LISTENER);
        ConnChurn {
            address: listener.local_addr().expect("local_addr"),
            epoll,
            listener,
            wave,
            streams: (0..wave).map(|_| None).collect(),
            free: (0..wave).collect(),
        }
    }

    fn accept(&self) -> Option<TcpStream> {
        let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: null address and length: the peer's address is not asked.
        let fd = unsafe {
            libc::accept4(
                self.listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                flags,
            )
        };
        if fd < 0 {
            let error = io::Error::last_os_error();
            assert_eq!(error.kind(), io::ErrorKind::WouldBlock, "accept4: {error}");
            return None;
        }
        // SAFETY: a new descriptor that nothing else owns.
        Some(unsafe { TcpStream::from_raw_fd(fd) })
    }

    fn serve(&mut self, n: usize) {
        let mut buf = [0u8; 256];
        let mut done = 0;
        while done < n {
            let tokens: Vec<u64> = self.epoll.wait(-1).iter().map(|e| e.u64).collect();
            for token in tokens {
                if token == LISTENER {
                    while let Some(stream) = self.accept() {
                        let slot = self.free.pop().expect("more clients than the wave");
                        self.epoll.add(stream.as_raw_fd(), slot as u64);
                        self.streams[slot] = Some(stream);
                    }
                    continue;
                }
                let slot = token as usize;
                let Some(stream) = self.streams[slot].as_mut() else {
                    continue;
                };
                match io::Read::read(stream, &mut buf) {
                    Ok(0) => panic!("a client left early"),
                    Ok(k) => {
                        stream.write_all(&buf[..k]).expect("reply");
                        self.epoll.delete(stream.as_raw_fd());
                        self.streams[slot] = None;
                        self.free.push(slot);
                        done += 1;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
    }
}

impl Bench for ConnChurn {
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        let mut served = 0;
        while served < iters {
            let n = self.wave.min((iters - served) as usize);
            let clients = fixtures::churn_clients(self.address, n);
            self.serve(n);
            fixtures::finish_clients(clients);
            served += n as u64;
        }
        start.elapsed()
    }
}
