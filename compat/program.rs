//! A program written for mio 1.x, built twice: against mio itself
//! (`real-mio`) and against evmux renamed as `mio` (`evmux-as-mio`). Not one
//! line differs. It runs a TCP echo, a UDP echo, a Unix-socket pair, a
//! pipe, a raw descriptor and a waker through one event loop, and exits
//! with an error if anything goes wrong. On Windows, a named pipe takes the
//! place of the Unix-only sources.

use std::error::Error;
use std::io::{self, Read, Write};
#[cfg(unix)]
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mio::event::{Event, Source};
#[cfg(unix)]
use mio::net::UnixStream;
use mio::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

const LISTENER: Token = Token(0);
const CLIENT: Token = Token(1);
const SERVER: Token = Token(2);
const UDP: Token = Token(3);
#[cfg(unix)]
const UNIX: Token = Token(4);
const PIPE: Token = Token(5);
#[cfg(unix)]
const RAW: Token = Token(6);
const WAKER: Token = Token(7);

/// What must work: tcp, udp, waker and a registry change everywhere; a
/// Unix socket, a pipe and a raw descriptor on Unix; a named pipe on
/// Windows.
#[cfg(unix)]
const EXPECTED: usize = 7;
#[cfg(windows)]
const EXPECTED: usize = 5;

/// A connected named pipe: the server end registered under `PIPE`, and a
/// client end that has written "pipe".
#[cfg(windows)]
fn named_pipe(registry: &Registry) -> io::Result<(mio::windows::NamedPipe, std::fs::File)> {
    use std::os::windows::fs::OpenOptionsExt;
    // FILE_FLAG_OVERLAPPED
    const OVERLAPPED: u32 = 0x4000_0000;
    let name = format!(r"\\.\pipe\compat-program-{}", std::process::id());
    let mut server = mio::windows::NamedPipe::new(&name)?;
    registry.register(&mut server, PIPE, Interest::READABLE)?;
    match server.connect() {
        Err(e) if !would_block(&e) => return Err(e),
        _ => {}
    }
    let mut client = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(OVERLAPPED)
        .open(&name)?;
    client.write_all(b"pipe")?;
    Ok((server, client))
}

fn would_block(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::WouldBlock
}

/// Reads everything available from a source.
fn drain(mut reader: impl Read) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0; 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(data),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if would_block(&e) => return Ok(data),
            Err(e) => return Err(e),
        }
    }
}

fn register_all<S: Source + ?Sized>(
    registry: &Registry,
    source: &mut S,
    token: Token,
) -> io::Result<()> {
    registry.register(source, token, Interest::READABLE | Interest::WRITABLE)
}

fn describe(event: &Event) -> String {
    format!(
        "{:?} readable={} writable={}",
        event.token(),
        event.is_readable(),
        event.is_writable()
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(64);
    let registry = poll.registry().try_clone()?;

    let mut listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
    registry.register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    register_all(&registry, &mut client, CLIENT)?;
    let mut server: Option<TcpStream> = None;

    let mut udp = UdpSocket::bind("127.0.0.1:0".parse()?)?;
    registry.register(&mut udp, UDP, Interest::READABLE)?;
    udp.send_to(b"udp", udp.local_addr()?)?;

    #[cfg(unix)]
    let (unix_a, _unix_b, mut receiver, _sender, raw_reader, raw_fd, _raw_writer) = {
        let (mut unix_a, unix_b) = UnixStream::pair()?;
        registry.register(&mut unix_a, UNIX, Interest::READABLE)?;
        (&unix_b).write_all(b"unix")?;

        let (mut sender, mut receiver) = pipe::new()?;
        registry.register(&mut receiver, PIPE, Interest::READABLE)?;
        sender.write_all(b"pipe")?;

        let (raw_reader, mut raw_writer) = std::os::unix::net::UnixStream::pair()?;
        raw_reader.set_nonblocking(true)?;
        let raw_fd = raw_reader.as_raw_fd();
        registry.register(&mut SourceFd(&raw_fd), RAW, Interest::READABLE)?;
        raw_writer.write_all(b"raw")?;
        (
            unix_a, unix_b, receiver, sender, raw_reader, raw_fd, raw_writer,
        )
    };
    #[cfg(windows)]
    let (mut receiver, _client) = named_pipe(&registry)?;

    let waker = Arc::new(Waker::new(&registry, WAKER)?);
    let remote = Arc::clone(&waker);
    thread::spawn(move || remote.wake())
        .join()
        .expect("waker thread")?;

    let mut seen: Vec<&str> = Vec::new();
    let mut sent_tcp = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < EXPECTED {
        if Instant::now() > deadline {
            return Err(format!("timed out; finished: {seen:?}").into());
        }
        poll.poll(&mut events, Some(Duration::from_millis(500)))?;
        for event in events.iter() {
            println!("event: {}", describe(event));
            match event.token() {
                LISTENER => {
                    let (mut stream, _) = listener.accept()?;
                    register_all(&registry, &mut stream, SERVER)?;
                    server = Some(stream);
                }
                CLIENT if event.is_writable() && !sent_tcp => {
                    client.write_all(b"tcp")?;
                    sent_tcp = true;
                }
                CLIENT if event.is_readable() && drain(&client)? == b"tcp" => seen.push("tcp"),
                SERVER if event.is_readable() => {
                    let stream = server.as_ref().expect("accepted");
                    let data = drain(stream)?;
                    (&*stream).write_all(&data)?;
                }
                UDP => {
                    let mut buf = [0; 16];
                    let (n, _) = udp.recv_from(&mut buf)?;
                    if &buf[..n] == b"udp" {
                        seen.push("udp");
                    }
                }
                #[cfg(unix)]
                UNIX if drain(&unix_a)? == b"unix" => seen.push("unix"),
                PIPE if drain(&mut receiver)? == b"pipe" => seen.push("pipe"),
                #[cfg(unix)]
                RAW if drain(&raw_reader)? == b"raw" => seen.push("raw fd"),
                WAKER => seen.push("waker"),
                _ => {}
            }
        }
        if seen.len() == EXPECTED - 1 && !seen.contains(&"registry") {
            #[cfg(unix)]
            registry.deregister(&mut SourceFd(&raw_fd))?;
            #[cfg(windows)]
            registry.deregister(&mut udp)?;
            seen.push("registry");
        }
    }
    println!("all of {seen:?} worked");
    Ok(())
}
