//! 1,000 concurrent TCP connections on one `Poll`, every byte echoed back.
// WASI preview 1 cannot create sockets, and these tests bind and connect on loopback
// (tests/wasi.rs covers what it can do).
#![cfg(all(feature = "os-ext", feature = "net", not(wasip1)))]

use std::collections::HashMap;
use std::io::{self, Read, Write};

use evmux::net::{TcpListener, TcpStream};
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{allow_descriptors, any_local_v4, DEADLINE};

/// On WASI preview 2 the program has 128 descriptors in all (accept
/// fails with `EMFILE` after 125 sockets under wasmtime 49): two per client
/// and the listener must fit.
const CLIENTS: usize = if cfg!(wasip2) { 60 } else { 1000 };
const MESSAGE: usize = 64;
const LISTENER: Token = Token(usize::MAX);

/// Client `i` uses token `i`; the server side of connection `i` uses
/// `SERVER_BASE + i`.
const SERVER_BASE: usize = 1 << 20;

struct Client {
    stream: TcpStream,
    message: Vec<u8>,
    sent: usize,
    received: Vec<u8>,
}

struct Server {
    stream: TcpStream,
    pending: Vec<u8>,
}

fn message_for(index: usize) -> Vec<u8> {
    (0..MESSAGE).map(|i| (index * 31 + i) as u8).collect()
}

/// Sends what is left of the client's message, until `WouldBlock`.
fn client_send(client: &mut Client) {
    while client.sent < client.message.len() {
        match client.stream.write(&client.message[client.sent..]) {
            Ok(n) => client.sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            // Not yet connected.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
            Err(e) => panic!("client write: {e}"),
        }
    }
}

/// Reads and echoes everything available, until `WouldBlock`.
fn server_echo(server: &mut Server) {
    let mut buf = [0; 256];
    loop {
        match server.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => server.pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("server read: {e}"),
        }
    }
    while !server.pending.is_empty() {
        match server.stream.write(&server.pending) {
            Ok(n) => {
                server.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("server write: {e}"),
        }
    }
}

fn client_receive(client: &mut Client) {
    let mut buf = [0; 256];
    loop {
        match client.stream.read(&mut buf) {
            Ok(0) => panic!("server closed early"),
            Ok(n) => client.received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("client read: {e}"),
        }
    }
}

#[test]
fn a_thousand_connections_echo_every_byte() {
    allow_descriptors(2 * CLIENTS as u64 + 256);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(256);
    let mut listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();

    let both = Interest::READABLE | Interest::WRITABLE;
    let mut clients: Vec<Client> = Vec::with_capacity(CLIENTS);
    let mut servers: HashMap<usize, Server> = HashMap::new();
    let mut done = 0;
    let start = std::time::Instant::now();
    while done < CLIENTS {
        assert!(start.elapsed() < 6 * DEADLINE, "{done} of {CLIENTS} echoed");
        // Connect in batches so the listen backlog never overflows.
        if clients.len() < CLIENTS && clients.len() - servers.len() < 64 {
            let index = clients.len();
            let mut stream = TcpStream::connect(addr).unwrap();
            poll.registry()
                .register(&mut stream, Token(index), both)
                .unwrap();
            clients.push(Client {
                stream,
                message: message_for(index),
                sent: 0,
                received: Vec::new(),
            });
            continue;
        }
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        for event in events.iter() {
            match event.token() {
                LISTENER => loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let index = SERVER_BASE + servers.len();
                            poll.registry()
                                .register(&mut stream, Token(index), both)
                                .unwrap();
                            servers.insert(
                                index,
                                Server {
                                    stream,
                                    pending: Vec::new(),
                                },
                            );
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("accept: {e}"),
                    }
                },
                Token(index) if index >= SERVER_BASE => {
                    server_echo(servers.get_mut(&index).unwrap())
                }
                Token(index) => {
                    let client = &mut clients[index];
                    client_send(client);
                    let before = client.received.len();
                    client_receive(client);
                    if before < MESSAGE && client.received.len() >= MESSAGE {
                        assert_eq!(client.received, client.message, "client {index}");
                        done += 1;
                    }
                }
            }
        }
    }
    assert_eq!(servers.len(), CLIENTS);
}
