//! tokio programs that work on epoll and must work on every evmux backend;
//! three of them once hung on the poll(2) backend, where tokio (not told
//! `mio_unsupported_force_poll_poll`) takes a short read as proof that a
//! socket is drained. .ci/tokio.sh runs them with `--cfg evmux_force_poll`
//! and `--cfg evmux_force_pipe_waker` too. Each runs on a thread of its own
//! and fails if it has not finished within `DEADLINE`, so a hang is a
//! failure.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};

const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `body` on `runtime` on another thread; panics if it hangs.
fn bounded<F, Fut>(runtime: fn() -> Runtime, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<()>>,
{
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let result = runtime().block_on(body());
        let _ = done.send(result);
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(result) => result.expect("the program failed"),
        Err(_) => panic!("the program hung (no result within {DEADLINE:?})"),
    }
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn listener() -> io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// An echo server task: `io::copy` between the halves of `split()`.
async fn echo_server(listener: TcpListener) -> io::Result<()> {
    let (mut stream, _) = listener.accept().await?;
    let (mut reader, mut writer) = stream.split();
    tokio::io::copy(&mut reader, &mut writer).await?;
    Ok(())
}

/// `write_all` then `read_exact` of 11 bytes, `rounds` times.
async fn echo_client(addr: SocketAddr, rounds: usize) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = [0; 11];
    for round in 0..rounds {
        let message = format!("hello {round:05}");
        stream.write_all(message.as_bytes()).await?;
        stream.read_exact(&mut buf).await?;
        assert_eq!(&buf[..], message.as_bytes());
    }
    Ok(())
}

#[test]
fn the_mio_under_tokio_is_evmux() {
    let poll = mio::Poll::new().unwrap();
    assert!(format!("{:?}", poll.registry()).contains("poll_id"));
}

#[test]
fn echo_of_split_halves_on_a_current_thread_runtime() {
    bounded(current_thread, || async {
        let (listener, addr) = listener().await?;
        let server = tokio::spawn(echo_server(listener));
        echo_client(addr, 1024).await?;
        server.abort();
        Ok(())
    });
}

#[test]
fn try_read_and_try_write_loops() {
    bounded(current_thread, || async {
        let (listener, addr) = listener().await?;
        let client = TcpStream::connect(addr).await?;
        let (server, _) = listener.accept().await?;
        const TOTAL: usize = 1 << 20;
        let writer = tokio::spawn(async move {
            let chunk = [7u8; 4096];
            let mut sent = 0;
            while sent < TOTAL {
                client.writable().await?;
                match client.try_write(&chunk[..(TOTAL - sent).min(chunk.len())]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
            io::Result::Ok(client)
        });
        let mut received = 0;
        // Odd-sized reads, so that most leave data behind.
        let mut buf = [0u8; 1000];
        while received < TOTAL {
            server.readable().await?;
            match server.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => received += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        assert_eq!(received, TOTAL);
        writer.await.unwrap()?;
        Ok(())
    });
}

#[test]
fn copy_bidirectional_with_one_side_blocked() {
    bounded(current_thread, || async {
        // client <-> proxy(a) ... proxy(b) <-> echo server
        let (echo, echo_addr) = listener().await?;
        let (proxy, proxy_addr) = listener().await?;
        let echo_task = tokio::spawn(echo_server(echo));
        let proxy_task = tokio::spawn(async move {
            let (mut inbound, _) = proxy.accept().await?;
            let mut outbound = TcpStream::connect(echo_addr).await?;
            tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
        });
        let mut client = TcpStream::connect(proxy_addr).await?;
        // One side blocked: send much more than the socket buffers hold
        // before reading anything back.
        const TOTAL: usize = 8 << 20;
        let (mut reader, mut writer) = client.split();
        let write = async {
            let chunk = vec![3u8; 64 << 10];
            let mut sent = 0;
            while sent < TOTAL {
                writer.write_all(&chunk).await?;
                sent += chunk.len();
            }
            writer.shutdown().await?;
            io::Result::Ok(())
        };
        let read = async {
            let mut data = Vec::new();
            reader.read_to_end(&mut data).await?;
            io::Result::Ok(data.len())
        };
        let ((), got) = tokio::try_join!(write, read)?;
        assert_eq!(got, TOTAL);
        proxy_task.await.unwrap()?;
        echo_task.abort();
        Ok(())
    });
}

#[test]
fn client_and_server_on_a_local_set_under_a_multi_thread_runtime() {
    bounded(multi_thread, || async {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let (listener, addr) = listener().await?;
                let server = tokio::task::spawn_local(echo_server(listener));
                let client = tokio::task::spawn_local(echo_client(addr, 256));
                client.await.unwrap()?;
                server.abort();
                Ok(())
            })
            .await
    });
}
