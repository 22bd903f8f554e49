//! A tokio TCP echo server and its client, in one process: the program the
//! tokio benchmark builds twice, once on evmux (through the `mio` patch)
//! and once on mio, and that `tokio-bench` drives.
//!
//! ```text
//! tokio-echo-evmux --connections 16 --size 64 --threads 1
//! ```
//!
//! The client runs on the main thread in a current-thread runtime. With
//! `--threads 2` (the default) the server runs on a thread of its own with
//! another, so every message crosses two I/O drivers and wakes a sleeping
//! thread; with `--threads 1` the server's tasks share the client's
//! runtime, one thread that is never idle while a sample runs: the I/O
//! driver's cost with the least noise from thread wake-ups. The client's
//! thread is pinned to the first processor, the server's to the second.
//! Once connected the program prints `ready`, then serves commands from
//! standard input, one a line, until the input ends:
//!
//! - `run MILLIS`: every connection sends a message and waits for its echo,
//!   again and again, for MILLIS milliseconds; prints
//!   `MESSAGES NANOSECONDS P50_NS P99_NS CPU_NS` (the round trips
//!   completed, the time they took, the median and 99th-percentile round
//!   trip, and the processor time the process used meanwhile).
//!
//! With `--churn CLIENTS` it runs the connection churn of `churn.rs`
//! instead, under the same commands.

mod churn;

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Echoes everything each of `connections` clients sends.
async fn serve(listener: std::net::TcpListener, connections: usize, size: usize) {
    let listener = TcpListener::from_std(listener).expect("register the listener");
    let mut handlers = Vec::new();
    for _ in 0..connections {
        let (mut stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        handlers.push(tokio::spawn(async move {
            let mut buf = vec![0; size.max(4096)];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }));
    }
    for handler in handlers {
        let _ = handler.await;
    }
}

/// One connection's round trips until `deadline`, with their latencies in
/// nanoseconds.
async fn round_trips(
    mut stream: TcpStream,
    size: usize,
    deadline: Instant,
) -> (TcpStream, Vec<u32>) {
    let message = vec![0x5a; size];
    let mut buf = vec![0; size];
    let mut latencies = Vec::with_capacity(1 << 16);
    loop {
        let start = Instant::now();
        if start >= deadline {
            return (stream, latencies);
        }
        stream.write_all(&message).await.expect("send");
        stream.read_exact(&mut buf).await.expect("receive the echo");
        let nanos = start.elapsed().as_nanos();
        latencies.push(u32::try_from(nanos).unwrap_or(u32::MAX));
    }
}

/// Runs every connection for `length`; returns the result line.
fn measure(
    client: &Runtime,
    streams: &mut Vec<TcpStream>,
    size: usize,
    length: Duration,
) -> String {
    let cpu = cpu_time();
    let start = Instant::now();
    let deadline = start + length;
    let tasks: Vec<_> = streams
        .drain(..)
        .map(|stream| client.spawn(round_trips(stream, size, deadline)))
        .collect();
    let mut latencies = Vec::new();
    client.block_on(async {
        for task in tasks {
            let (stream, mut more) = task.await.expect("a client task");
            streams.push(stream);
            latencies.append(&mut more);
        }
    });
    result_line(latencies, start.elapsed(), cpu_time() - cpu)
}

/// A sample's result line: `COUNT NANOSECONDS P50_NS P99_NS CPU_NS`.
fn result_line(mut latencies: Vec<u32>, elapsed: Duration, cpu: Duration) -> String {
    latencies.sort_unstable();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    format!(
        "{} {} {} {} {}",
        latencies.len(),
        elapsed.as_nanos(),
        quantile(0.5),
        quantile(0.99),
        cpu.as_nanos()
    )
}

/// Pins the calling thread to one processor (modulo the processors there
/// are), as the main benchmark does, so that thread placement does not
/// change between samples.
#[cfg(target_os = "linux")]
fn pin_to_cpu(cpu: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET writes inside it;
    // sched_setaffinity reads it for the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu % cpus, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
    }
}

/// Elsewhere (the program is built for Windows with the tokio tests, which
/// need every binary of the package) threads are not pinned: the numbers
/// the project publishes come from Linux.
#[cfg(not(target_os = "linux"))]
fn pin_to_cpu(_cpu: usize) {}

/// The processor time this process has used, in user and kernel mode, on
/// all its threads: unlike the elapsed time, it does not grow while other
/// programs have the processor.
#[cfg(unix)]
fn cpu_time() -> Duration {
    // SAFETY: a zeroed timespec is valid; clock_gettime writes into it.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `now` is a live timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime: {}", std::io::Error::last_os_error());
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// As above, from `GetProcessTimes` (100 ns units).
#[cfg(windows)]
fn cpu_time() -> Duration {
    #[repr(C)]
    #[derive(Default)]
    struct FileTime {
        low: u32,
        high: u32,
    }
    #[link(name = "kernel32")]
    extern "system" {
        fn GetCurrentProcess() -> *mut std::ffi::c_void;
        fn GetProcessTimes(
            process: *mut std::ffi::c_void,
            creation: *mut FileTime,
            exit: *mut FileTime,
            kernel: *mut FileTime,
            user: *mut FileTime,
        ) -> i32;
    }
    let mut times: [FileTime; 4] = Default::default();
    let [creation, exit, kernel, user] = &mut times;
    // SAFETY: the pseudo-handle of this process; four live FILETIMEs.
    let ok = unsafe { GetProcessTimes(GetCurrentProcess(), creation, exit, kernel, user) };
    assert_ne!(
        ok,
        0,
        "GetProcessTimes: {}",
        std::io::Error::last_os_error()
    );
    let units = |time: &FileTime| (u64::from(time.high) << 32) | u64::from(time.low);
    Duration::from_nanos((units(kernel) + units(user)) * 100)
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |value| value.parse().expect("a number"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--churn") {
        let multi_thread = match args.iter().position(|arg| arg == "--runtime") {
            None => false,
            Some(i) => match args.get(i + 1).map(String::as_str) {
                Some("current-thread") => false,
                Some("multi-thread") => true,
                other => panic!("--runtime current-thread|multi-thread, not {other:?}"),
            },
        };
        let churn = churn::Churn::start(arg(&args, "--churn", 1), multi_thread);
        serve_commands(|length| churn.measure(length));
        return;
    }
    let connections = arg(&args, "--connections", 1);
    let size = arg(&args, "--size", 64);

    let threads = arg(&args, "--threads", 2);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr: SocketAddr = listener.local_addr().expect("the address");
    pin_to_cpu(0);
    let client = runtime();
    if threads == 1 {
        client.spawn(serve(listener, connections, size));
    } else {
        std::thread::spawn(move || {
            pin_to_cpu(1);
            runtime().block_on(serve(listener, connections, size));
        });
    }
    let mut streams: Vec<TcpStream> = client.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..connections {
            let stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("TCP_NODELAY");
            streams.push(stream);
        }
        streams
    });

    serve_commands(|length| measure(&client, &mut streams, size, length));
}

/// Prints `ready`, then runs `sample` for each `run MILLIS` command on
/// standard input and prints its result line, until the input ends.
fn serve_commands(mut sample: impl FnMut(Duration) -> String) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .expect("write");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("read a command");
        let millis = line
            .strip_prefix("run ")
            .and_then(|millis| millis.trim().parse().ok())
            .unwrap_or_else(|| panic!("unknown command {line:?}"));
        let result = sample(Duration::from_millis(millis));
        writeln!(out, "{result}")
            .and_then(|()| out.flush())
            .expect("write");
    }
}
