//! TCP through tokio on evmux: echo, large transfers, half-close, and
//! 1,000 connections at once.

mod util;

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use util::{pattern, within};

/// Starts an echo server on loopback that serves every connection it
/// accepts until the peer closes; returns its address.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                tokio::io::copy(&mut reader, &mut writer).await.unwrap();
                writer.shutdown().await.unwrap();
            });
        }
    });
    addr
}

/// Sends `data`, closes the sending side, and returns all that comes back.
async fn echo(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let stream = within("connect", TcpStream::connect(addr)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let data = data.to_vec();
    let send = tokio::spawn(async move {
        writer.write_all(&data).await.unwrap();
        writer.shutdown().await.unwrap();
        writer
    });
    let mut back = Vec::new();
    within("read the echo to its end", reader.read_to_end(&mut back))
        .await
        .unwrap();
    within("send", send).await.unwrap();
    back
}

#[tokio::test]
async fn echo_small_messages_one_at_a_time() {
    let addr = echo_server().await;
    let mut stream = within("connect", TcpStream::connect(addr)).await.unwrap();
    let mut buf = [0; 64];
    for i in 0..500u32 {
        let message = pattern(64, i as u8);
        stream.write_all(&message).await.unwrap();
        within("an echo", stream.read_exact(&mut buf))
            .await
            .unwrap();
        assert_eq!(buf[..], message[..], "message {i}");
    }
}

#[tokio::test]
async fn echo_a_large_transfer_on_the_current_thread() {
    let addr = echo_server().await;
    let data = pattern(8 << 20, 7);
    assert!(echo(addr, &data).await == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_a_large_transfer_across_threads() {
    let addr = echo_server().await;
    let data = pattern(8 << 20, 9);
    assert!(echo(addr, &data).await == data);
}

#[tokio::test]
async fn the_peer_closing_ends_reads_and_fails_writes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let mut client = client.unwrap();
    let (server, _) = accepted.unwrap();
    drop(server);
    let mut buf = [0; 16];
    let n = within("EOF", client.read(&mut buf)).await.unwrap();
    assert_eq!(n, 0);
    // The first write may be accepted before the reset comes back.
    let failed = within("a write fails", async {
        loop {
            if client.write_all(b"x").await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
    });
    failed.await;
}

#[tokio::test]
async fn readiness_reflects_data_and_try_read_drains_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.unwrap();
    let (mut server, _) = accepted.unwrap();
    let mut buf = [0; 4096];
    for round in 0..200u32 {
        server.write_all(&round.to_le_bytes()).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 4 {
            within("readable", client.readable()).await.unwrap();
            match client.try_read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("try_read: {e}"),
            }
        }
        assert_eq!(got, round.to_le_bytes());
        let e = client.try_read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    }
}

/// 1,000 connections open at once, each echoing its own message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections() {
    const CONNECTIONS: usize = 1000;
    let limit = util::raise_descriptor_limit();
    assert!(
        limit >= 2 * CONNECTIONS as u64 + 100,
        "descriptor limit {limit} too low for the test"
    );
    let addr = echo_server().await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(CONNECTIONS));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                // All connections are open before any message is sent.
                barrier.wait().await;
                let message = pattern(100 + i % 400, i as u8);
                let mut buf = vec![0; message.len()];
                for _ in 0..3 {
                    stream.write_all(&message).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, message, "connection {i}");
                }
            })
        })
        .collect();
    within("every connection echoes", async {
        for client in clients {
            client.await.unwrap();
        }
    })
    .await;
}
