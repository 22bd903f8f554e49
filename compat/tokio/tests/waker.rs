//! Wake-ups from other threads: a runtime parked in evmux's `poll` is woken
//! through evmux's `Waker` (which skips the system call while an earlier
//! wake is still on its way), so a lost wake-up would hang these tests.

mod util;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use util::within;

#[test]
fn plain_threads_wake_a_parked_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (send, mut receive) = mpsc::unbounded_channel::<u64>();
    let senders: Vec<_> = (0..2u64)
        .map(|thread| {
            let send = send.clone();
            std::thread::spawn(move || {
                for i in 0..5_000u64 {
                    send.send(thread * 1_000_000 + i).unwrap();
                    if i % 64 == 0 {
                        // Let the runtime go back to sleep now and then.
                        std::thread::sleep(Duration::from_micros(50));
                    }
                }
            })
        })
        .collect();
    drop(send);
    let received = runtime.block_on(async {
        let mut next = [0u64; 2];
        while let Some(value) = within("a message", receive.recv()).await {
            let (thread, i) = ((value / 1_000_000) as usize, value % 1_000_000);
            assert_eq!(i, next[thread], "in order per sender");
            next[thread] += 1;
        }
        next
    });
    assert_eq!(received, [5_000, 5_000]);
    for sender in senders {
        sender.join().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_pong_between_a_runtime_and_a_thread() {
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let handle = tokio::runtime::Handle::current();
    let (ping2, pong2) = (ping.clone(), pong.clone());
    // A plain thread waits for each ping with `block_on` and answers; the
    // runtime's workers park in between.
    let thread = std::thread::spawn(move || {
        for _ in 0..2_000 {
            handle.block_on(ping2.notified());
            pong2.notify_one();
        }
    });
    for round in 0..2_000 {
        ping.notify_one();
        within(&format!("pong {round}"), pong.notified()).await;
    }
    within(
        "the thread ends",
        tokio::task::spawn_blocking(move || thread.join()),
    )
    .await
    .unwrap()
    .unwrap();
}
