//! UDP through tokio on evmux.

mod util;

use tokio::net::UdpSocket;
use util::{pattern, within};

#[tokio::test]
async fn echo_between_unconnected_sockets() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server_addr = server.local_addr().unwrap();
    let echo = tokio::spawn(async move {
        let mut buf = [0; 2048];
        loop {
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            server.send_to(&buf[..n], from).await.unwrap();
        }
    });
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut buf = [0; 2048];
    for i in 0..500usize {
        let message = pattern(1 + i % 1400, i as u8);
        client.send_to(&message, server_addr).await.unwrap();
        let (n, from) = within("an echo", client.recv_from(&mut buf)).await.unwrap();
        assert_eq!(from, server_addr);
        assert_eq!(buf[..n], message[..], "datagram {i}");
    }
    client.send_to(&[], server_addr).await.unwrap();
    within("the server stops", echo).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_sockets_across_threads() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    let pong = tokio::spawn(async move {
        let mut buf = [0; 64];
        for _ in 0..1000 {
            let n = b.recv(&mut buf).await.unwrap();
            b.send(&buf[..n]).await.unwrap();
        }
    });
    let mut buf = [0; 64];
    for i in 0..1000u32 {
        a.send(&i.to_le_bytes()).await.unwrap();
        let n = within("a reply", a.recv(&mut buf)).await.unwrap();
        assert_eq!(buf[..n], i.to_le_bytes());
    }
    within("the other side finishes", pong).await.unwrap();
}

#[tokio::test]
async fn readiness_and_try_recv() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = b.local_addr().unwrap();
    let mut buf = [0; 64];
    for round in 0..200u8 {
        // A burst of datagrams, then drain them until WouldBlock.
        for k in 0..5 {
            a.send_to(&[round, k], to).await.unwrap();
        }
        let mut got = Vec::new();
        while got.len() < 5 {
            within("readable", b.readable()).await.unwrap();
            loop {
                match b.try_recv_from(&mut buf) {
                    Ok((n, _)) => got.push(buf[..n].to_vec()),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("try_recv_from: {e}"),
                }
            }
        }
        let expected: Vec<Vec<u8>> = (0..5).map(|k| vec![round, k]).collect();
        assert_eq!(got, expected);
    }
}
