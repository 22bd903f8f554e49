// The workloads written once against mio's API, which evmux shares. main.rs
// includes this file twice: in module `on_evmux` with `api` naming evmux, and
// in `on_mio` with `api` naming mio, so both run exactly the same code.
// (An included file is not reached by `cargo fmt`; .ci/bench.sh formats it.)

use std::hint::black_box;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use api::net::{TcpListener, TcpStream, UdpSocket};
use api::unix::SourceFd;
use api::{Events, Interest, Poll, Token, Waker};

use crate::fixtures::{self, drain, MESSAGE};
use crate::harness::Bench;

/// `Poll::poll`, again after `Interrupted`: evmux's io_uring wait can end
/// with `EINTR` when no signal was delivered (see the README's io_uring
/// notes), which a loop that polls again, as tokio's does, absorbs.
trait PollAgain {
    fn poll_again(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()>;
}

impl PollAgain for Poll {
    fn poll_again(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        loop {
            match self.poll(events, timeout) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }
}

/// Polls until an event for `token` arrives.
fn wait_for(poll: &mut Poll, events: &mut Events, token: Token) {
    loop {
        poll.poll_again(events, None).expect("poll");
        if events.iter().any(|event| event.token() == token) {
            return;
        }
    }
}

/// Poll dispatch: the sources registered, `ready` of them made ready
/// before each poll, which alone is timed.
pub struct Dispatch {
    poll: Poll,
    events: Events,
    fds: Arc<Vec<OwnedFd>>,
    ready: Vec<usize>,
}

impl Dispatch {
    /// The competitors share the descriptors (three sets of 10,000 would
    /// exceed the descriptor limit); each registers them with its own
    /// `Poll`.
    pub fn new(fds: &Arc<Vec<OwnedFd>>, ready: &[usize]) -> Dispatch {
        let poll = Poll::new().expect("Poll::new");
        for (index, fd) in fds.iter().enumerate() {
            let raw = fd.as_raw_fd();
            poll.registry()
                .register(&mut SourceFd(&raw), Token(index), Interest::READABLE)
                .expect("register");
        }
        let events = Events::with_capacity(ready.len().max(64));
        Dispatch {
            poll,
            events,
            fds: Arc::clone(fds),
            ready: ready.to_vec(),
        }
    }
}

impl Bench for Dispatch {
    fn run(&mut self, iters: u64) -> Duration {
        // Take the events the other competitors' signals left queued here.
        loop {
            self.poll
                .poll_again(&mut self.events, Some(Duration::ZERO))
                .expect("poll");
            if self.events.is_empty() {
                break;
            }
        }
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            for &index in &self.ready {
                fixtures::signal(&self.fds[index]);
            }
            let start = Instant::now();
            self.poll
                .poll_again(&mut self.events, Some(Duration::ZERO))
                .expect("poll");
            let mut delivered = 0;
            for event in self.events.iter() {
                black_box(event.token());
                delivered += 1;
            }
            total += start.elapsed();
            assert_eq!(delivered, self.ready.len());
        }
        total
    }
}

/// Registration churn: register and deregister one UDP socket.
pub struct Churn {
    poll: Poll,
    socket: UdpSocket,
}

impl Churn {
    pub fn new() -> Churn {
        let socket = UdpSocket::bind(fixtures::localhost()).expect("bind");
        Churn {
            poll: Poll::new().expect("Poll::new"),
            socket,
        }
    }
}

impl Bench for Churn {
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        let registry = self.poll.registry();
        for index in 0..iters {
            registry
                .register(&mut self.socket, Token(index as usize), Interest::READABLE)
                .expect("register");
            registry.deregister(&mut self.socket).expect("deregister");
        }
        start.elapsed()
    }
}

/// Waker round trip: wake a thread blocked in `poll`, which wakes us back.
pub struct WakerRoundTrip {
    poll: Poll,
    events: Events,
    remote: Arc<Waker>,
    stop: Arc<AtomicBool>,
    helper: Option<JoinHandle<()>>,
}

impl WakerRoundTrip {
    pub fn new() -> WakerRoundTrip {
        let poll = Poll::new().expect("Poll::new");
        let back = Waker::new(poll.registry(), Token(0)).expect("Waker::new");
        let mut helper_poll = Poll::new().expect("Poll::new");
        let remote = Arc::new(Waker::new(helper_poll.registry(), Token(1)).expect("Waker::new"));
        let stop = Arc::new(AtomicBool::new(false));
        let helper = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                fixtures::pin_to_cpu(fixtures::HELPER_CPU);
                let mut events = Events::with_capacity(8);
                loop {
                    helper_poll.poll_again(&mut events, None).expect("poll");
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    if !events.is_empty() {
                        back.wake().expect("wake");
                    }
                }
            })
        };
        WakerRoundTrip {
            poll,
            events: Events::with_capacity(8),
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
            self.remote.wake().expect("wake");
            wait_for(&mut self.poll, &mut self.events, Token(0));
        }
        start.elapsed()
    }
}

impl Drop for WakerRoundTrip {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.remote.wake();
        if let Some(helper) = self.helper.take() {
            let _ = helper.join();
        }
    }
}

/// Cross-core single wake: a thread on another processor wakes the
/// `Poll` once; timed from the request to the (non-blocking) `poll` that
/// returns the event.
pub struct CrossCoreWake {
    poll: Poll,
    events: Events,
    requester: fixtures::Requester,
}

/// A `Poll` and a waker for it with token 0: the plain kind, or evmux's
/// coalescing one.
fn poll_with_waker(coalescing: bool) -> (Poll, Waker) {
    let poll = Poll::new().expect("Poll::new");
    let waker = if coalescing {
        coalescing_waker(poll.registry(), Token(0))
    } else {
        Waker::new(poll.registry(), Token(0)).expect("Waker::new")
    };
    (poll, waker)
}

impl CrossCoreWake {
    pub fn new() -> CrossCoreWake {
        CrossCoreWake::with(poll_with_waker(false))
    }

    /// With evmux's coalescing waker (mio's own on mio).
    #[allow(dead_code)]
    pub fn coalescing() -> CrossCoreWake {
        CrossCoreWake::with(poll_with_waker(true))
    }

    fn with((poll, waker): (Poll, Waker)) -> CrossCoreWake {
        let requester = fixtures::Requester::spawn(move || waker.wake().expect("wake"));
        CrossCoreWake {
            poll,
            events: Events::with_capacity(8),
            requester,
        }
    }
}

impl Bench for CrossCoreWake {
    fn run(&mut self, iters: u64) -> Duration {
        self.requester.start();
        let start = Instant::now();
        for _ in 0..iters {
            self.requester.request();
            loop {
                self.poll
                    .poll_again(&mut self.events, Some(Duration::ZERO))
                    .expect("poll");
                if self.events.iter().any(|event| event.token() == Token(0)) {
                    break;
                }
            }
        }
        let elapsed = start.elapsed();
        self.requester.pause();
        elapsed
    }
}

/// Wake storm: `fixtures::WAKES` wakes in a row, then the one `poll` that
/// collects them (as when many tasks are handed to a busy event loop).
pub struct WakeStorm {
    poll: Poll,
    events: Events,
    waker: Waker,
}

impl WakeStorm {
    pub fn new() -> WakeStorm {
        WakeStorm::with(poll_with_waker(false))
    }

    /// With evmux's coalescing waker (mio's own on mio).
    #[allow(dead_code)]
    pub fn coalescing() -> WakeStorm {
        WakeStorm::with(poll_with_waker(true))
    }

    fn with((poll, waker): (Poll, Waker)) -> WakeStorm {
        WakeStorm {
            poll,
            events: Events::with_capacity(8),
            waker,
        }
    }
}

impl Bench for WakeStorm {
    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            for _ in 0..fixtures::WAKES {
                self.waker.wake().expect("wake");
            }
            self.poll
                .poll_again(&mut self.events, Some(Duration::ZERO))
                .expect("poll");
            assert_eq!(self.events.iter().count(), 1);
        }
        start.elapsed()
    }
}

/// A connected pair of TCP streams, registered readable with one `Poll`.
fn tcp_pair(poll: &Poll, client_token: Token, server_token: Token) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(fixtures::localhost()).expect("bind");
    let address: SocketAddr = listener.local_addr().expect("local_addr");
    let mut client = TcpStream::connect(address).expect("connect");
    let mut server = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::yield_now(),
            Err(e) => panic!("accept: {e}"),
        }
    };
    let registry = poll.registry();
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    registry
        .register(&mut client, client_token, Interest::READABLE)
        .expect("register");
    registry
        .register(&mut server, server_token, Interest::READABLE)
        .expect("register");
    (client, server)
}

/// TCP ping-pong: one connection, 64-byte messages, both ends on one `Poll`.
pub struct TcpPingPong {
    poll: Poll,
    events: Events,
    client: TcpStream,
    server: TcpStream,
}

impl TcpPingPong {
    pub fn new() -> TcpPingPong {
        let poll = Poll::new().expect("Poll::new");
        let (client, server) = tcp_pair(&poll, Token(0), Token(1));
        TcpPingPong {
            poll,
            events: Events::with_capacity(8),
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
            wait_for(&mut self.poll, &mut self.events, Token(1));
            let n = drain(&self.server, &mut buf);
            self.server.write_all(&buf[..n]).expect("write");
            let mut echoed = 0;
            while echoed < MESSAGE.len() {
                wait_for(&mut self.poll, &mut self.events, Token(0));
                echoed += drain(&self.client, &mut buf);
            }
        }
        start.elapsed()
    }
}

/// TCP echo: `CONNECTIONS` connections on one `Poll`; one operation is a
/// round in which every client sends 64 bytes and gets them back.
pub struct TcpEcho {
    poll: Poll,
    events: Events,
    clients: Vec<TcpStream>,
    servers: Vec<TcpStream>,
}

impl TcpEcho {
    pub fn new() -> TcpEcho {
        let poll = Poll::new().expect("Poll::new");
        let (clients, servers) = (0..fixtures::CONNECTIONS)
            .map(|i| tcp_pair(&poll, Token(2 * i), Token(2 * i + 1)))
            .unzip();
        TcpEcho {
            poll,
            events: Events::with_capacity(256),
            clients,
            servers,
        }
    }
}

impl Bench for TcpEcho {
    fn run(&mut self, iters: u64) -> Duration {
        let mut buf = [0u8; 4096];
        let mut received = vec![0usize; self.clients.len()];
        let start = Instant::now();
        for _ in 0..iters {
            for client in &self.clients {
                (&*client).write_all(&MESSAGE).expect("write");
            }
            received.iter_mut().for_each(|count| *count = 0);
            let mut done = 0;
            while done < self.clients.len() {
                self.poll.poll_again(&mut self.events, None).expect("poll");
                for event in self.events.iter() {
                    let index = event.token().0 / 2;
                    if event.token().0 % 2 == 1 {
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

/// UDP echo: a datagram to a socket that sends it back, both on one `Poll`.
pub struct UdpEcho {
    poll: Poll,
    events: Events,
    client: UdpSocket,
    server: UdpSocket,
    server_address: SocketAddr,
}

impl UdpEcho {
    pub fn new() -> UdpEcho {
        let poll = Poll::new().expect("Poll::new");
        let mut client = UdpSocket::bind(fixtures::localhost()).expect("bind");
        let mut server = UdpSocket::bind(fixtures::localhost()).expect("bind");
        let server_address = server.local_addr().expect("local_addr");
        poll.registry()
            .register(&mut client, Token(0), Interest::READABLE)
            .expect("register");
        poll.registry()
            .register(&mut server, Token(1), Interest::READABLE)
            .expect("register");
        UdpEcho {
            poll,
            events: Events::with_capacity(8),
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
            wait_for(&mut self.poll, &mut self.events, Token(1));
            loop {
                match self.server.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        self.server.send_to(&buf[..n], from).expect("send_to");
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("recv_from: {e}"),
                }
            }
            wait_for(&mut self.poll, &mut self.events, Token(0));
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

/// Bytes per registered source: the socket type's own size plus what
/// registering `count` of them allocates, per socket.
pub fn bytes_per_source(count: usize) -> f64 {
    let poll = Poll::new().expect("Poll::new");
    let mut sockets: Vec<UdpSocket> = (0..count)
        .map(|_| UdpSocket::bind(fixtures::localhost()).expect("bind"))
        .collect();
    let before = crate::alloc::allocated();
    for (index, socket) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(socket, Token(index), Interest::READABLE)
            .expect("register");
    }
    let heap = crate::alloc::allocated().saturating_sub(before);
    std::mem::size_of::<UdpSocket>() as f64 + heap as f64 / count as f64
}

/// Bytes per `Events` slot.
pub fn bytes_per_event_slot() -> f64 {
    std::mem::size_of::<api::event::Event>() as f64
}

/// Registration churn of a ready socket: register and deregister a UDP
/// socket that has a datagram waiting, on one thread, without polling.
pub struct ReadyChurn {
    churn: Churn,
    _sender: std::net::UdpSocket,
}

impl ReadyChurn {
    pub fn new() -> ReadyChurn {
        let churn = Churn::new();
        let sender = std::net::UdpSocket::bind(fixtures::localhost()).expect("bind");
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

/// The listener's token in the connection churn.
const LISTENER: Token = Token(usize::MAX - 1);

/// Connection churn, a single-threaded mio-style server: accept, register,
/// read the request, write the reply, deregister, close; `wave` clients at
/// a time. The clients (blocking std sockets on the same thread: connect,
/// send the request, read the reply, close with a reset) are timed too, so
/// that no work of the server's is left out: io_uring finishes some of it
/// (the file's release after a removal) in task work that runs at the
/// thread's next system call, whichever it is.
pub struct ConnChurn {
    poll: Poll,
    events: Events,
    listener: TcpListener,
    address: SocketAddr,
    wave: usize,
    streams: Vec<Option<TcpStream>>,
    free: Vec<usize>,
}

impl ConnChurn {
    pub fn new(wave: usize) -> ConnChurn {
        let poll = Poll::new().expect("Poll::new");
        let mut listener = TcpListener::bind(fixtures::localhost()).expect("bind");
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .expect("register");
        ConnChurn {
            address: listener.local_addr().expect("local_addr"),
            poll,
            events: Events::with_capacity(256),
            listener,
            wave,
            streams: (0..wave).map(|_| None).collect(),
            free: (0..wave).collect(),
        }
    }

    /// Serves `n` connections whose requests were sent.
    fn serve(&mut self, n: usize) {
        let mut buf = [0u8; 256];
        let mut done = 0;
        while done < n {
            self.poll.poll_again(&mut self.events, None).expect("poll");
            for event in self.events.iter() {
                if event.token() == LISTENER {
                    loop {
                        match self.listener.accept() {
                            Ok((mut stream, _)) => {
                                let slot = self.free.pop().expect("more clients than the wave");
                                self.poll
                                    .registry()
                                    .register(&mut stream, Token(slot), Interest::READABLE)
                                    .expect("register");
                                self.streams[slot] = Some(stream);
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(e) => panic!("accept: {e}"),
                        }
                    }
                    continue;
                }
                let slot = event.token().0;
                let Some(stream) = self.streams[slot].as_mut() else {
                    continue;
                };
                match io::Read::read(stream, &mut buf) {
                    Ok(0) => panic!("a client left early"),
                    Ok(k) => {
                        stream.write_all(&buf[..k]).expect("reply");
                        self.poll.registry().deregister(stream).expect("deregister");
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
