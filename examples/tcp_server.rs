//! A TCP echo server: every byte a client sends comes back to it. One
//! thread, one `Poll`, any number of clients.
//!
//! Run with:
//!
//! ```text
//! cargo run --example tcp_server --features os-poll,net [ADDRESS]
//! ```
//!
//! ADDRESS (`IP:PORT`) defaults to 127.0.0.1:9000. Talk to it from a
//! second terminal with the `tcp_client` example, which sends a message
//! and prints the echo:
//! `cargo run --example tcp_client --features os-poll,net -- 127.0.0.1:9000 hello`
//! (or with `nc 127.0.0.1 9000`, where netcat is installed: each line you
//! type is echoed back).
//!
//! WASI preview 1 cannot create sockets: there the server takes the
//! listener the host pre-opens as descriptor 3, e.g.
//! `wasmtime run --tcplisten 127.0.0.1:9000 tcp_server.wasm`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

use evmux::event::Event;
use evmux::net::{TcpListener, TcpStream};
use evmux::{Events, Interest, Poll, Registry, Token};

const SERVER: Token = Token(0);
mod common;

const DEFAULT_ADDRESS: &str = "127.0.0.1:9000";

/// One client: its socket, the bytes received but not yet echoed, and the
/// interest it is registered with.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    pending: Vec<u8>,
    interests: Interest,
}

fn main() {
    if let Err(error) = run() {
        eprintln!("tcp_server: {error}");
        std::process::exit(1);
    }
}

/// The listening socket: bound to `address`.
#[cfg(not(wasip1))]
fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(address)
}

/// The listening socket: on WASI preview 1, the one the host pre-opened as
/// descriptor 3 (the first after standard input, output and error).
#[cfg(wasip1)]
fn listen(_: SocketAddr) -> io::Result<TcpListener> {
    use std::os::fd::FromRawFd;
    // SAFETY: descriptor 3 is the listener the host pre-opened, and nothing
    // else in this program owns it.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(3) };
    listener.set_nonblocking(true)?;
    Ok(TcpListener::from_std(listener))
}

fn run() -> io::Result<()> {
    let args = common::optional_args("tcp_server", &["ADDRESS"]);
    let address = common::parse_address(args.first().map_or(DEFAULT_ADDRESS, String::as_str))?;

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut server = listen(address)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {address}: {e}")))?;
    poll.registry()
        .register(&mut server, SERVER, Interest::READABLE)?;
    // WASI preview 1 cannot tell a socket's address.
    match server.local_addr() {
        Ok(local) => println!("echo server listening on {local}"),
        Err(_) => println!("echo server listening"),
    }

    let mut connections: HashMap<Token, Connection> = HashMap::new();
    let mut next_token = 1;
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in &events {
            if event.token() == SERVER {
                // Accept until WouldBlock: several clients may be waiting.
                loop {
                    let (mut stream, peer) = match server.accept() {
                        Ok(accepted) => accepted,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            eprintln!("accept failed: {e}");
                            break;
                        }
                    };
                    let token = Token(next_token);
                    next_token += 1;
                    poll.registry()
                        .register(&mut stream, token, Interest::READABLE)?;
                    let interests = Interest::READABLE;
                    connections.insert(
                        token,
                        Connection {
                            stream,
                            peer,
                            pending: Vec::new(),
                            interests,
                        },
                    );
                }
            } else if let Some(connection) = connections.get_mut(&event.token()) {
                let open = serve(poll.registry(), connection, event)?;
                if !open {
                    let mut connection = connections.remove(&event.token()).expect("present");
                    poll.registry().deregister(&mut connection.stream)?;
                    println!("{} disconnected", connection.peer);
                }
            }
        }
    }
}

/// Handles one event for a client; returns false once it is gone.
fn serve(registry: &Registry, connection: &mut Connection, event: &Event) -> io::Result<bool> {
    let mut peer_closed = false;
    if event.is_readable() {
        let mut buf = [0; 4096];
        loop {
            match connection.stream.read(&mut buf) {
                Ok(0) => {
                    peer_closed = true;
                    break;
                }
                Ok(n) => connection.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Ok(false),
            }
        }
    }
    // Echo what we have; whatever does not fit waits for a writable event.
    while !connection.pending.is_empty() {
        match connection.stream.write(&connection.pending) {
            Ok(n) => {
                connection.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(false),
        }
    }
    if peer_closed && connection.pending.is_empty() {
        return Ok(false);
    }
    // Watch for writability only while output is queued.
    let interests = if connection.pending.is_empty() {
        Interest::READABLE
    } else {
        Interest::READABLE | Interest::WRITABLE
    };
    if interests != connection.interests {
        registry.reregister(&mut connection.stream, event.token(), interests)?;
        connection.interests = interests;
    }
    Ok(true)
}
