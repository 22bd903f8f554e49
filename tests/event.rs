//! The flags of real events: readable, writable, closed, error, priority.
// Unix only: raw descriptors through SourceFd.
#![cfg(all(unix, feature = "os-ext"))]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use evmux::unix::SourceFd;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, pipe, Readiness, READABLE, WRITABLE};

fn register(poll: &Poll, fd: &impl AsRawFd, token: Token, interests: Interest) {
    poll.registry()
        .register(&mut SourceFd(&fd.as_raw_fd()), token, interests)
        .unwrap();
}

const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);

#[test]
fn a_fresh_socket_is_writable_and_data_makes_it_readable() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    register(&poll, &a, Token(0), BOTH);
    let seen = expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    assert!(!seen[&Token(0)].readable && !seen[&Token(0)].read_closed);

    b.write_all(b"data").unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    assert!(!seen[&Token(0)].error);
}

#[test]
fn peer_close_is_read_closed() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    register(&poll, &a, Token(0), Interest::READABLE);
    drop(b);
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(0), closed)]);
    assert_eq!(a.read(&mut [0; 8]).unwrap(), 0);
}

#[test]
fn peer_shutdown_of_its_write_half_is_read_closed_only() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    register(&poll, &a, Token(0), BOTH);
    b.shutdown(std::net::Shutdown::Write).unwrap();
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    let seen = expect_events(&mut poll, &mut events, &[(Token(0), closed)]);
    assert!(!seen[&Token(0)].write_closed, "{seen:?}");
}

#[test]
fn pipe_writer_closed_is_read_closed_for_the_reader() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, writer) = pipe();
    register(&poll, &reader, Token(1), Interest::READABLE);
    drop(writer);
    let closed = Readiness {
        read_closed: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(1), closed)]);
}

#[test]
fn pipe_reader_closed_is_error_and_write_closed_for_the_writer() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, writer) = pipe();
    register(&poll, &writer, Token(2), Interest::WRITABLE);
    drop(reader);
    let broken = Readiness {
        error: true,
        write_closed: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(2), broken)]);
}

/// A TCP connect to a port nobody listens on, started without blocking.
fn refused_connect() -> OwnedFd {
    use rustix::net::{AddressFamily, SocketType};
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let socket = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    rustix::io::ioctl_fionbio(&socket, true).unwrap();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match rustix::net::connect(&socket, &addr) {
        Ok(()) | Err(rustix::io::Errno::INPROGRESS) | Err(rustix::io::Errno::CONNREFUSED) => {}
        Err(error) => panic!("connect: {error}"),
    }
    socket
}

#[test]
fn a_refused_connect_is_an_error_event() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let socket = refused_connect();
    register(&poll, &socket, Token(3), BOTH);
    let failed = Readiness {
        error: true,
        write_closed: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(3), failed)]);
    let error = rustix::net::sockopt::socket_error(socket.as_fd()).unwrap();
    assert_eq!(error, Err(rustix::io::Errno::CONNREFUSED));
}

// kqueue has no filter for out-of-band data (as in mio).
#[cfg(all(linux_like, not(evmux_selector = "kqueue")))]
#[test]
fn out_of_band_data_is_priority() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (receiver, _) = listener.accept().unwrap();
    receiver.set_nonblocking(true).unwrap();
    register(
        &poll,
        &receiver,
        Token(4),
        Interest::READABLE | Interest::PRIORITY,
    );

    rustix::net::send(&sender, b"!", rustix::net::SendFlags::OOB).unwrap();
    let urgent = Readiness {
        priority: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(4), urgent)]);
}

/// Out-of-band data wakes a registration for `PRIORITY` alone; ordinary
/// data does not, and is not priority with `READABLE | PRIORITY` either.
/// (io_uring's poll requests ignore `EPOLLPRI` when they match a wake-up
/// against the interest, so a priority-only request slept through the
/// urgent byte; and they report the wake-up's mask, in which a socket's
/// ordinary data carries `EPOLLPRI`.)
#[cfg(all(linux_like, not(evmux_selector = "kqueue")))]
#[test]
fn out_of_band_data_wakes_a_priority_only_interest() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let mut sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (receiver, _) = listener.accept().unwrap();
    receiver.set_nonblocking(true).unwrap();
    register(&poll, &receiver, Token(5), Interest::PRIORITY);
    util::expect_no_events(&mut poll, &mut events);
    sender.write_all(b"ordinary").unwrap();
    util::expect_no_events(&mut poll, &mut events);

    rustix::net::send(&sender, b"!", rustix::net::SendFlags::OOB).unwrap();
    let urgent = Readiness {
        priority: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(5), urgent)]);

    let mut sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (receiver, _) = listener.accept().unwrap();
    receiver.set_nonblocking(true).unwrap();
    register(
        &poll,
        &receiver,
        Token(6),
        Interest::READABLE | Interest::PRIORITY,
    );
    // Armed before the data arrives: woken by it.
    util::expect_no_events(&mut poll, &mut events);
    sender.write_all(b"ordinary").unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(6), READABLE)]);
    assert!(!seen[&Token(6)].priority, "{seen:?}");
}

#[test]
fn debug_names_the_os_flags() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    register(&poll, &a, Token(6), Interest::READABLE);
    b.write_all(b"x").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(6), READABLE)]);
    let event = events.iter().next().unwrap();
    let debug = format!("{event:?}");
    assert!(debug.contains("token: Token(6)"), "{debug}");
    assert!(debug.contains("readable: true"), "{debug}");
    // EPOLLIN, or POLLIN where poll(2) is the backend, or kqueue's filter.
    let flag = if cfg!(evmux_selector = "kqueue") {
        "EVFILT_READ"
    } else {
        "POLLIN"
    };
    assert!(debug.contains(flag), "{debug}");
    // Events can be cloned out of the buffer.
    let copy = event.clone();
    assert_eq!(copy.token(), Token(6));
}

#[test]
fn a_hung_up_source_is_reported_once_and_does_not_spin() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, writer) = pipe();
    register(&poll, &reader, Token(7), Interest::READABLE);
    drop(writer);
    let closed = Readiness {
        read_closed: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(7), closed)]);
    // Still hung up, but nothing changed: no event, and `poll` waits.
    util::expect_no_events(&mut poll, &mut events);
}
