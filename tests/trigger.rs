//! Trigger modes (`evmux::trigger`): level, one-shot and exclusive
//! registrations, on evmux's own types and on raw descriptors, next to
//! mio's edge-triggered `register`, which must not change.
#![cfg(all(feature = "os-poll", feature = "net", not(wasip1)))]

mod util;

use std::io::{self, Read, Write};

use evmux::event::Source;
use evmux::net::TcpStream;
use evmux::trigger::Trigger;
use evmux::{Events, Interest, Poll, Registry, Token};

use util::{
    expect_events, expect_no_events, read_available, tcp_pair, write_all_within_deadline, QUIET,
    READABLE, WRITABLE,
};

const STREAM: Token = Token(1);

/// A poll, a connected pair, and the reader registered with `trigger`.
fn setup(trigger: Trigger) -> io::Result<(Poll, Events, TcpStream, TcpStream)> {
    let poll = Poll::new()?;
    let (mut reader, writer) = tcp_pair();
    poll.registry()
        .register_with(&mut reader, STREAM, Interest::READABLE, trigger)?;
    Ok((poll, Events::with_capacity(16), reader, writer))
}

#[test]
fn level_reports_at_every_poll_until_drained() {
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::LEVEL).unwrap();
    write_all_within_deadline(&mut writer, b"level");
    for _ in 0..3 {
        expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    }
    // A partial read leaves the rest, which is still reported.
    let mut one = [0; 1];
    assert_eq!(reader.read(&mut one).unwrap(), 1);
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    assert_eq!(read_available(&mut reader).0.len(), 4);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn oneshot_reports_once_until_reregistered() {
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::ONESHOT).unwrap();
    write_all_within_deadline(&mut writer, b"one");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    // Neither unread data nor I/O on the source (which re-arms an edge
    // registration on the emulating backends) arms it again.
    expect_no_events(&mut poll, &mut events);
    assert_eq!(read_available(&mut reader).0.len(), 3);
    write_all_within_deadline(&mut writer, b"two");
    expect_no_events(&mut poll, &mut events);
    poll.registry()
        .reregister_with(&mut reader, STREAM, Interest::READABLE, Trigger::ONESHOT)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    expect_no_events(&mut poll, &mut events);
    // A plain `reregister` makes it edge-triggered again.
    assert_eq!(read_available(&mut reader).0.len(), 3);
    poll.registry()
        .reregister(&mut reader, STREAM, Interest::READABLE)
        .unwrap();
    write_all_within_deadline(&mut writer, b"three");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    assert_eq!(read_available(&mut reader).0.len(), 5);
    write_all_within_deadline(&mut writer, b"four");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
}

#[test]
fn edge_through_register_with_is_register() {
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::EDGE).unwrap();
    write_all_within_deadline(&mut writer, b"edge");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    expect_no_events(&mut poll, &mut events);
    assert_eq!(read_available(&mut reader).0.len(), 4);
    write_all_within_deadline(&mut writer, b"again");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
}

#[test]
fn level_then_plain_register_of_another_source_is_edge() {
    // The mode applies to one call only: a later `register` is mio's.
    let (mut poll, mut events, _level_reader, _level_writer) = setup(Trigger::LEVEL).unwrap();
    let (mut reader, mut writer) = tcp_pair();
    poll.registry()
        .register(&mut reader, Token(2), Interest::READABLE)
        .unwrap();
    write_all_within_deadline(&mut writer, b"x");
    expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn exclusive_is_epoll_only_and_never_on_reregister() {
    let result = setup(Trigger::EDGE.exclusive());
    if !util::on_epoll() {
        let error = result.expect_err("exclusive outside epoll");
        assert_eq!(error.kind(), io::ErrorKind::Unsupported);
        return;
    }
    let (poll, _events, mut reader, _writer) = result.unwrap();
    let again = poll.registry().reregister_with(
        &mut reader,
        STREAM,
        Interest::READABLE,
        Trigger::EDGE.exclusive(),
    );
    assert_eq!(again.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    let oneshot = Trigger::ONESHOT.exclusive();
    let (mut other, _peer) = tcp_pair();
    let refused = poll
        .registry()
        .register_with(&mut other, Token(2), Interest::READABLE, oneshot);
    assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::InvalidInput);
}

/// Two `Poll`s watch one descriptor exclusively: a readiness wakes at
/// least one of them.
#[cfg(all(unix, feature = "os-ext"))]
#[test]
fn exclusive_wakes_at_least_one_of_two_polls() {
    use std::os::fd::AsRawFd;

    use evmux::unix::SourceFd;

    if !util::on_epoll() {
        return;
    }
    let (reader, mut writer) = tcp_pair();
    let fd = reader.as_raw_fd();
    let mut polls = [Poll::new().unwrap(), Poll::new().unwrap()];
    for (i, poll) in polls.iter().enumerate() {
        poll.registry()
            .register_with(
                &mut SourceFd(&fd),
                Token(i),
                Interest::READABLE,
                Trigger::LEVEL.exclusive(),
            )
            .unwrap();
    }
    write_all_within_deadline(&mut writer, b"herd");
    let mut events = Events::with_capacity(4);
    let start = std::time::Instant::now();
    let mut woken = 0;
    while woken == 0 {
        assert!(start.elapsed() < util::DEADLINE, "no poll was woken");
        for poll in &mut polls {
            poll.poll(&mut events, Some(std::time::Duration::from_millis(10)))
                .unwrap();
            woken += events.iter().count();
        }
    }
}

/// A raw descriptor registered level-triggered needs no `reregister` on
/// any backend, poll(2) included.
#[cfg(all(unix, feature = "os-ext"))]
#[test]
fn level_raw_descriptor_needs_no_reregister() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    use evmux::unix::SourceFd;

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = UnixStream::pair().unwrap();
    receiver.set_nonblocking(true).unwrap();
    let fd = receiver.as_raw_fd();
    poll.registry()
        .register_with(
            &mut SourceFd(&fd),
            STREAM,
            Interest::READABLE,
            Trigger::LEVEL,
        )
        .unwrap();
    for round in 0..3u8 {
        write_all_within_deadline(&mut sender, &[round]);
        expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
        let mut byte = [0; 1];
        receiver.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], round);
        expect_no_events(&mut poll, &mut events);
    }
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
}

/// A one-shot registration widened by `reregister_with` while its request
/// is in flight (the emulating backends, Windows' AFD poll among them,
/// cancel that request) reports the new interest: the cancellation is not
/// an event that disarms it.
#[test]
fn oneshot_reregistered_while_waiting_reports_the_new_interest() {
    let (mut poll, mut events, mut reader, _writer) = setup(Trigger::ONESHOT).unwrap();
    // Nothing to read: the request for readable is now in flight.
    expect_no_events(&mut poll, &mut events);
    poll.registry()
        .reregister_with(
            &mut reader,
            STREAM,
            Interest::READABLE | Interest::WRITABLE,
            Trigger::ONESHOT,
        )
        .unwrap();
    expect_events(&mut poll, &mut events, &[(STREAM, WRITABLE)]);
}

/// A one-shot registration narrowed by `reregister_with` while a request
/// for more is in flight: that request ending with what is no longer asked
/// for (writable) reports nothing and does not disarm the registration.
#[test]
fn oneshot_narrowed_while_waiting_stays_armed() {
    let poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut stream, mut peer) = tcp_pair();
    // Fill the connection until the stream is no longer writable.
    let chunk = [7u8; 16 * 1024];
    let mut written = 0;
    let start = std::time::Instant::now();
    loop {
        assert!(start.elapsed() < util::DEADLINE, "the stream never filled");
        match stream.write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    let mut poll = poll;
    poll.registry()
        .register_with(
            &mut stream,
            STREAM,
            Interest::READABLE | Interest::WRITABLE,
            Trigger::ONESHOT,
        )
        .unwrap();
    expect_no_events(&mut poll, &mut events);
    poll.registry()
        .reregister_with(&mut stream, STREAM, Interest::READABLE, Trigger::ONESHOT)
        .unwrap();
    // The peer drains the connection (the stream becomes writable), then
    // sends: only readable is asked for, and it must come.
    let mut drained = 0;
    let mut buf = vec![0; 64 * 1024];
    while drained < written {
        assert!(start.elapsed() < util::DEADLINE, "the peer never drained");
        match peer.read(&mut buf) {
            Ok(0) => panic!("end of stream"),
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => panic!("read: {e}"),
        }
    }
    // Give the selector the chance to see writable (and, before the fix,
    // to disarm): nothing is reported for it.
    expect_no_events(&mut poll, &mut events);
    write_all_within_deadline(&mut peer, b"data");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
}

/// The tokens of one poll that waits at most `QUIET`: a level-triggered
/// source that is ready is in it at once.
fn reported(poll: &mut Poll, events: &mut Events) -> Vec<Token> {
    poll.poll(events, Some(QUIET)).expect("poll failed");
    events.iter().map(|event| event.token()).collect()
}

#[test]
fn plain_reregister_after_level_is_edge() {
    // The mode belongs to the call, as in `polling`'s `modify`: a plain
    // `reregister` is mio's, edge-triggered, whatever came before.
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::LEVEL).unwrap();
    write_all_within_deadline(&mut writer, b"level");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    assert_eq!(reported(&mut poll, &mut events), [STREAM]);
    poll.registry()
        .reregister(&mut reader, STREAM, Interest::READABLE)
        .unwrap();
    // Re-registering reports what is ready once, then nothing: edge.
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    expect_no_events(&mut poll, &mut events);
    // And `reregister_with` makes it level-triggered again.
    poll.registry()
        .reregister_with(&mut reader, STREAM, Interest::READABLE, Trigger::LEVEL)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    assert_eq!(reported(&mut poll, &mut events), [STREAM]);
    assert_eq!(read_available(&mut reader).0.len(), 5);
    expect_no_events(&mut poll, &mut events);
}

const HELPER: Token = Token(7);

/// How `Composite` registers its helper: the two ways of asking for mio's
/// edge triggering from inside `register_with`.
#[derive(Clone, Copy)]
enum HelperCall {
    /// `register_with(.., Trigger::EDGE)` / `reregister_with`.
    ExplicitEdge,
    /// Plain `register` / `reregister`.
    Plain,
}

/// A source made of two descriptors: `main`, registered in the mode the
/// application asks for, and `helper`, an internal channel the source
/// always registers edge-triggered under its own token (as a source with a
/// wake-up pipe would). It forwards the mode to `main` only.
struct Composite {
    main: TcpStream,
    helper: TcpStream,
    call: HelperCall,
}

impl Composite {
    fn helper(&mut self, registry: &Registry, again: bool) -> io::Result<()> {
        let (helper, read) = (&mut self.helper, Interest::READABLE);
        match (self.call, again) {
            (HelperCall::ExplicitEdge, false) => {
                registry.register_with(helper, HELPER, read, Trigger::EDGE)
            }
            (HelperCall::ExplicitEdge, true) => {
                registry.reregister_with(helper, HELPER, read, Trigger::EDGE)
            }
            (HelperCall::Plain, false) => registry.register(helper, HELPER, read),
            (HelperCall::Plain, true) => registry.reregister(helper, HELPER, read),
        }
    }
}

impl Source for Composite {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.register_with(registry, token, interests, Trigger::EDGE)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.reregister_with(registry, token, interests, Trigger::EDGE)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut self.helper)?;
        registry.deregister(&mut self.main)
    }

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        // The helper first: its registration must not change the mode
        // that the outer call hands to `main`.
        self.helper(registry, false)?;
        registry.register_with(&mut self.main, token, interests, trigger)
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.helper(registry, true)?;
        registry.reregister_with(&mut self.main, token, interests, trigger)
    }
}

/// Registers a `Composite` level-triggered (or re-registers it so, after
/// an edge registration), makes both descriptors readable, and checks that
/// `main` is level-triggered and the helper edge-triggered.
fn composite_keeps_each_mode(call: HelperCall, reregister: bool) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (main, mut main_peer) = tcp_pair();
    let (helper, mut helper_peer) = tcp_pair();
    let mut source = Composite { main, helper, call };
    let (registry, read) = (poll.registry(), Interest::READABLE);
    if reregister {
        registry.register(&mut source, STREAM, read).unwrap();
        registry
            .reregister_with(&mut source, STREAM, read, Trigger::LEVEL)
            .unwrap();
    } else {
        registry
            .register_with(&mut source, STREAM, read, Trigger::LEVEL)
            .unwrap();
    }
    write_all_within_deadline(&mut main_peer, b"main");
    write_all_within_deadline(&mut helper_peer, b"helper");
    let both = [(STREAM, READABLE), (HELPER, READABLE)];
    expect_events(&mut poll, &mut events, &both);
    // Unread, `main` is reported at every poll; the helper was reported
    // once and is not again.
    for _ in 0..3 {
        assert_eq!(reported(&mut poll, &mut events), [STREAM]);
    }
    assert_eq!(read_available(&mut source.main).0.len(), 4);
    expect_no_events(&mut poll, &mut events);
    poll.registry().deregister(&mut source).unwrap();
}

#[test]
fn composite_with_edge_helper_keeps_its_main_descriptor_level() {
    composite_keeps_each_mode(HelperCall::ExplicitEdge, false);
}

#[test]
fn helper_registered_plainly_inside_register_with_stays_edge() {
    composite_keeps_each_mode(HelperCall::Plain, false);
}

#[test]
fn composite_keeps_each_mode_through_reregister_with() {
    composite_keeps_each_mode(HelperCall::ExplicitEdge, true);
    composite_keeps_each_mode(HelperCall::Plain, true);
}

/// A source that implements only mio's three methods, forwarding to a
/// stream it owns.
struct MioStyle(TcpStream);

impl Source for MioStyle {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.0.register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.0.reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.0.deregister(registry)
    }
}

#[test]
fn a_source_that_does_not_forward_modes_is_refused_them() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = tcp_pair();
    let mut source = MioStyle(reader);
    for trigger in [Trigger::LEVEL, Trigger::ONESHOT] {
        let refused = poll
            .registry()
            .register_with(&mut source, STREAM, Interest::READABLE, trigger)
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported, "{refused}");
        assert!(refused.to_string().contains("register_with"), "{refused}");
    }
    // Nothing was registered; edge is mio's `register`.
    poll.registry()
        .register_with(&mut source, STREAM, Interest::READABLE, Trigger::EDGE)
        .unwrap();
    write_all_within_deadline(&mut writer, b"edge");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    expect_no_events(&mut poll, &mut events);
    let refused = poll
        .registry()
        .reregister_with(&mut source, STREAM, Interest::READABLE, Trigger::LEVEL)
        .unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
}

/// What the backend of this build offers, as the module docs' table says.
#[test]
fn capability_queries_name_the_backend_modes() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    // By the backend's name, not by asking `supports`.
    let epoll = util::backend(&poll) == "epoll";
    assert!(registry.supports_edge());
    assert!(registry.supports_level());
    assert!(registry.supports_oneshot());
    assert_eq!(registry.supports_exclusive(), epoll);
    assert_eq!(registry.supports(Trigger::LEVEL.exclusive()), epoll);
    assert!(!registry.supports(Trigger::ONESHOT.exclusive()));
}

/// Every answer of `supports` is what `register_with` then does: a mode
/// said to be supported is accepted and behaves as that mode, one said
/// not to be is refused before the source is touched.
#[test]
fn capability_queries_match_what_registration_does() {
    let modes = [
        Trigger::EDGE,
        Trigger::LEVEL,
        Trigger::ONESHOT,
        Trigger::EDGE.exclusive(),
        Trigger::LEVEL.exclusive(),
    ];
    for trigger in modes {
        let supported = Poll::new().unwrap().registry().supports(trigger);
        let result = setup(trigger);
        if !supported {
            let error = result.expect_err("an unsupported mode was accepted");
            assert_eq!(error.kind(), io::ErrorKind::Unsupported, "{trigger:?}");
            continue;
        }
        let (mut poll, mut events, mut reader, mut writer) =
            result.unwrap_or_else(|e| panic!("{trigger:?} is said to be supported: {e}"));
        write_all_within_deadline(&mut writer, b"ready");
        expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
        if trigger.is_level() {
            assert_eq!(reported(&mut poll, &mut events), [STREAM], "{trigger:?}");
        } else {
            expect_no_events(&mut poll, &mut events);
        }
        assert_eq!(read_available(&mut reader).0.len(), 5);
        write_all_within_deadline(&mut writer, b"again");
        if trigger.is_oneshot() {
            expect_no_events(&mut poll, &mut events);
        } else {
            expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
        }
    }
}

/// Registers `source` level-triggered, makes it ready with `ready`, and
/// checks that it is reported at every poll: the mode reached its
/// descriptor. Goes through `Box<dyn Source>`, which must forward it too.
#[cfg(all(unix, feature = "os-ext"))]
fn forwards_level(name: &str, mut source: Box<dyn Source + '_>, ready: impl FnOnce()) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register_with(&mut source, STREAM, Interest::READABLE, Trigger::LEVEL)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    ready();
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    for _ in 0..2 {
        let tokens = reported(&mut poll, &mut events);
        assert_eq!(tokens, [STREAM], "{name} is not level-triggered");
    }
    poll.registry().deregister(&mut source).unwrap();
}

#[cfg(all(unix, feature = "os-ext"))]
#[test]
fn every_source_type_forwards_the_mode() {
    use std::io::Write;
    use std::os::fd::AsRawFd;

    use evmux::net::{TcpListener, UdpSocket, UnixDatagram, UnixListener, UnixStream};
    use evmux::process::ChildExit;
    use evmux::unix::{pipe, Signals, SourceFd};

    let any = util::any_local_v4();
    let udp = UdpSocket::bind(any).unwrap();
    let address = udp.local_addr().unwrap();
    let to_udp = std::net::UdpSocket::bind(any).unwrap();
    forwards_level("UdpSocket", Box::new(udp), || {
        to_udp.send_to(b"datagram", address).unwrap();
    });

    let listener = TcpListener::bind(any).unwrap();
    let address = listener.local_addr().unwrap();
    let mut clients = Vec::new();
    forwards_level("TcpListener", Box::new(listener), || {
        clients.push(std::net::TcpStream::connect(address).unwrap());
    });

    let (stream, mut peer) = UnixStream::pair().unwrap();
    forwards_level("UnixStream", Box::new(stream), || {
        peer.write_all(b"stream").unwrap();
    });

    let (datagram, peer) = UnixDatagram::pair().unwrap();
    forwards_level("UnixDatagram", Box::new(datagram), || {
        peer.send(b"datagram").unwrap();
    });

    let dir = util::TempDir::new("trigger");
    let path = dir.path("listener");
    let listener = UnixListener::bind(&path).unwrap();
    let mut unix_client = None;
    forwards_level("UnixListener", Box::new(listener), || {
        unix_client = Some(std::os::unix::net::UnixStream::connect(&path).unwrap());
    });

    let (mut sender, receiver) = pipe::new().unwrap();
    forwards_level("pipe::Receiver", Box::new(receiver), || {
        sender.write_all(b"pipe").unwrap();
    });

    let (fd_reader, mut fd_writer) = std::os::unix::net::UnixStream::pair().unwrap();
    let fd = fd_reader.as_raw_fd();
    forwards_level("SourceFd", Box::new(SourceFd(&fd)), || {
        fd_writer.write_all(b"fd").unwrap();
    });

    // The only signal this test binary raises.
    let signals = Signals::new(&[libc::SIGUSR2]).unwrap();
    forwards_level("Signals", Box::new(signals), || {
        // SAFETY: raise with a valid signal number has no memory effects;
        // `signals` has installed its handler for it.
        assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
    });

    let mut child = std::process::Command::new("true").spawn().unwrap();
    let mut exit = ChildExit::new(&child).unwrap();
    if cfg!(evmux_selector = "kqueue") {
        // kqueue reports an exit once: level is refused, not ignored.
        let poll = Poll::new().unwrap();
        let refused = poll
            .registry()
            .register_with(&mut exit, STREAM, Interest::READABLE, Trigger::LEVEL)
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
    } else {
        forwards_level("ChildExit", Box::new(exit), || {});
    }
    child.wait().unwrap();
}
