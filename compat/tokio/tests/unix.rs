//! Unix-domain sockets through tokio on evmux.
// Unix-domain sockets are Unix only in tokio.
#![cfg(unix)]

mod util;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixDatagram, UnixListener, UnixStream};
use util::{pattern, socket_path, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_echo_through_a_listener() {
    let path = socket_path("listener");
    let listener = UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        for _ in 0..3 {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                tokio::io::copy(&mut reader, &mut writer).await.unwrap();
                writer.shutdown().await.unwrap();
            });
        }
    });
    for seed in 0..3u8 {
        let stream = within("connect", UnixStream::connect(&path)).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let data = pattern(1 << 20, seed);
        let sent = data.clone();
        let send = tokio::spawn(async move {
            writer.write_all(&sent).await.unwrap();
            writer.shutdown().await.unwrap();
        });
        let mut back = Vec::new();
        within("the echo", reader.read_to_end(&mut back))
            .await
            .unwrap();
        within("send", send).await.unwrap();
        assert!(back == data, "connection {seed}");
    }
    within("the server accepted three", server).await.unwrap();
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn stream_pair_ping_pong() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let pong = tokio::spawn(async move {
        let mut buf = [0; 8];
        while b.read_exact(&mut buf).await.is_ok() {
            b.write_all(&buf).await.unwrap();
        }
    });
    let mut buf = [0; 8];
    for i in 0..1000u64 {
        a.write_all(&i.to_le_bytes()).await.unwrap();
        within("a reply", a.read_exact(&mut buf)).await.unwrap();
        assert_eq!(u64::from_le_bytes(buf), i);
    }
    drop(a);
    within("the other side sees the close", pong).await.unwrap();
}

#[tokio::test]
async fn datagrams_bound_and_paired() {
    let path = socket_path("datagram");
    let server = UnixDatagram::bind(&path).unwrap();
    let client = UnixDatagram::unbound().unwrap();
    client.connect(&path).unwrap();
    let mut buf = [0; 256];
    for i in 0..200u8 {
        client.send(&[i; 100]).await.unwrap();
        let n = within("a datagram", server.recv(&mut buf)).await.unwrap();
        assert_eq!(buf[..n], [i; 100]);
    }
    std::fs::remove_file(&path).unwrap();

    let (a, b) = UnixDatagram::pair().unwrap();
    for i in 0..200u8 {
        a.send(&[i; 3]).await.unwrap();
        let n = within("a datagram", b.recv(&mut buf)).await.unwrap();
        assert_eq!(buf[..n], [i; 3]);
    }
}
