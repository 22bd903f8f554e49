//! Timers mixed with I/O: the I/O driver's poll timeout is what makes
//! tokio's timers fire, while sockets stay ready as usual.

mod util;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use util::within;

#[tokio::test]
async fn a_server_that_answers_after_a_delay() {
    const DELAY: Duration = Duration::from_millis(20);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut byte = [0];
        while stream.read_exact(&mut byte).await.is_ok() {
            tokio::time::sleep(DELAY).await;
            stream.write_all(&byte).await.unwrap();
        }
    });
    // Meanwhile an interval ticks: timers fire while I/O is pending.
    let ticker = tokio::spawn(async {
        let mut interval = tokio::time::interval(Duration::from_millis(5));
        let mut ticks = 0u32;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(150) {
            interval.tick().await;
            ticks += 1;
        }
        ticks
    });
    let mut stream = within("connect", TcpStream::connect(addr)).await.unwrap();
    for i in 0..10u8 {
        let start = Instant::now();
        stream.write_all(&[i]).await.unwrap();
        let mut byte = [0];
        within("a delayed answer", stream.read_exact(&mut byte))
            .await
            .unwrap();
        assert_eq!(byte, [i]);
        assert!(start.elapsed() >= DELAY, "answered after the delay");
    }
    let ticks = within("the ticker", ticker).await.unwrap();
    assert!(ticks >= 5, "the interval kept ticking: {ticks} ticks");
}

#[tokio::test]
async fn reads_time_out_while_idle_and_complete_when_data_comes() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    let mut buf = [0; 16];
    for round in 0..20u8 {
        let idle = tokio::time::timeout(Duration::from_millis(10), a.recv_from(&mut buf)).await;
        assert!(idle.is_err(), "nothing arrives while nothing is sent");
        b.send(&[round]).await.unwrap();
        let (n, _) = within("the datagram", a.recv_from(&mut buf)).await.unwrap();
        assert_eq!(buf[..n], [round]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_timers_while_traffic_flows() {
    let sleepers: Vec<_> = (0..1000u64)
        .map(|i| {
            tokio::spawn(async move {
                let duration = Duration::from_millis(1 + i % 50);
                let start = Instant::now();
                tokio::time::sleep(duration).await;
                assert!(start.elapsed() >= duration);
            })
        })
        .collect();
    let (a, b) = util::stream_pair().await;
    let (mut a, mut b) = (a, b);
    let echo = tokio::spawn(async move {
        let mut buf = [0; 8];
        while b.read_exact(&mut buf).await.is_ok() {
            b.write_all(&buf).await.unwrap();
        }
    });
    let mut buf = [0; 8];
    let start = Instant::now();
    let mut round = 0u64;
    while start.elapsed() < Duration::from_millis(100) {
        a.write_all(&round.to_le_bytes()).await.unwrap();
        within("an echo", a.read_exact(&mut buf)).await.unwrap();
        assert_eq!(u64::from_le_bytes(buf), round);
        round += 1;
    }
    within("every timer fires", async {
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
    })
    .await;
    drop(a);
    within("the echo ends", echo).await.unwrap();
}

#[tokio::test]
async fn select_between_a_socket_and_a_deadline() {
    let (mut a, mut b) = util::stream_pair().await;
    let mut timeouts = 0;
    let mut messages = 0u8;
    let mut buf = [0; 1];
    for round in 0..40u8 {
        // A byte every other round: the odd rounds find the socket idle.
        if round % 2 == 0 {
            b.write_all(&[round]).await.unwrap();
        }
        tokio::select! {
            read = a.read_exact(&mut buf) => {
                read.unwrap();
                assert_eq!(buf, [2 * messages], "bytes arrive in order");
                messages += 1;
            }
            _ = tokio::time::sleep(Duration::from_millis(10)) => timeouts += 1,
        }
    }
    // A ready socket can lose the race only if the machine stalls for the
    // whole 10 ms; an idle one always times out.
    assert_eq!(timeouts + messages, 40);
    assert!(timeouts >= 20, "{timeouts} timeouts");
    assert!(messages >= 15, "{messages} messages");
}
