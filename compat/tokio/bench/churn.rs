//! Connection churn through tokio: a server task accepts TCP connections
//! (`tokio::net::TcpListener`), reads one small request from each, writes a
//! small reply and closes it; client tasks in the same runtime open a fresh
//! connection per request. What it costs is tokio's I/O driver at work on
//! short-lived connections: per connection, two registrations (the
//! accepted stream and the client's), their removal, and the waits.
//!
//! ```text
//! tokio-echo-evmux --churn 64 --runtime multi-thread
//! ```
//!
//! `--churn CLIENTS`: how many clients run at once, each one connection at
//! a time. `--runtime current-thread` (the default): server and clients
//! share one thread, pinned to the first processor; `--runtime
//! multi-thread`: a multi-thread runtime with two workers, not pinned.
//! Commands as for the echo workload: `run MILLIS` churns for MILLIS
//! milliseconds and prints `CONNECTIONS NANOSECONDS P50_NS P99_NS CPU_NS`
//! (the connections completed, the time they took, the median and
//! 99th-percentile connection from `connect` to the reply's end, and the
//! processor time the process used meanwhile).
//!
//! A client reads the reply to its end (the server closes first), then
//! closes with a reset (`SO_LINGER` 0), so that neither side is left in
//! `TIME_WAIT` and a long run does not pile up closed connections.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};

/// The request's and the reply's size in bytes.
const MESSAGE: usize = 64;

/// A runtime with the server running in it, and the clients' count.
pub struct Churn {
    runtime: Runtime,
    address: SocketAddr,
    clients: usize,
}

impl Churn {
    /// Starts the server; `multi_thread` picks the runtime (see the module
    /// docs).
    pub fn start(clients: usize, multi_thread: bool) -> Churn {
        let runtime = if multi_thread {
            Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        } else {
            crate::pin_to_cpu(0);
            Builder::new_current_thread().enable_all().build()
        }
        .expect("a tokio runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let address = listener.local_addr().expect("the address");
        runtime.spawn(serve(listener));
        Churn {
            runtime,
            address,
            clients,
        }
    }

    /// Runs every client for `length`; returns the result line.
    pub fn measure(&self, length: Duration) -> String {
        let cpu = crate::cpu_time();
        let start = Instant::now();
        let deadline = start + length;
        let tasks: Vec<_> = (0..self.clients)
            .map(|_| self.runtime.spawn(connections(self.address, deadline)))
            .collect();
        let latencies = self.runtime.block_on(async {
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.append(&mut task.await.expect("a client task"));
            }
            latencies
        });
        crate::result_line(latencies, start.elapsed(), crate::cpu_time() - cpu)
    }
}

/// Accepts connections for ever, each served by a task of its own.
async fn serve(listener: std::net::TcpListener) {
    let listener = TcpListener::from_std(listener).expect("register the listener");
    loop {
        let (stream, _) = listener.accept().await.expect("accept");
        tokio::spawn(reply(stream));
    }
}

/// Reads one request, writes the reply, closes.
async fn reply(mut stream: TcpStream) {
    let mut request = [0; MESSAGE];
    // The clients never leave early; if one did, its connection just ends.
    if stream.read_exact(&mut request).await.is_ok() {
        let _ = stream.write_all(&request).await;
    }
}

/// One client's connections until `deadline`, one at a time, with their
/// latencies in nanoseconds.
async fn connections(address: SocketAddr, deadline: Instant) -> Vec<u32> {
    let request = [0x5a; MESSAGE];
    let mut reply = Vec::with_capacity(2 * MESSAGE);
    let mut latencies = Vec::with_capacity(1 << 14);
    loop {
        let start = Instant::now();
        if start >= deadline {
            return latencies;
        }
        let mut stream = TcpStream::connect(address).await.expect("connect");
        stream.set_zero_linger().expect("SO_LINGER");
        stream.write_all(&request).await.expect("send the request");
        reply.clear();
        stream
            .read_to_end(&mut reply)
            .await
            .expect("receive the reply");
        assert_eq!(reply.len(), MESSAGE, "a short reply");
        drop(stream);
        let nanos = start.elapsed().as_nanos();
        latencies.push(u32::try_from(nanos).unwrap_or(u32::MAX));
    }
}
