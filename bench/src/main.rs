//! nbio vs mio vs the raw syscalls, side by side, in one process.
//!
//! ```text
//! cargo run --release -p nbio-bench            # about two minutes
//! cargo run --release -p nbio-bench -- --quick # CI: under a minute
//! ```
//!
//! Prints a table and writes `target/nbio-bench/summary.csv` and
//! `target/nbio-bench/summary.svg`. See harness.rs for how it measures.

mod alloc;
mod fixtures;
mod floor;
mod harness;
mod report;

/// The workloads on nbio.
mod on_nbio {
    pub use nbio as api;
    include!("competitor.rs");
}

/// The same workloads, the same code, on mio.
mod on_mio {
    pub use mio as api;
    include!("competitor.rs");
}

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use harness::{measure, Config};
use report::Row;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// (sources registered, sources ready per poll)
const DISPATCH: [(usize, usize); 5] = [(10, 1), (1000, 1), (1000, 64), (10_000, 1), (10_000, 64)];

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let config = if quick { Config::QUICK } else { Config::FULL };
    fixtures::raise_descriptor_limit();
    fixtures::pin_to_cpu(fixtures::MAIN_CPU);
    let machine = machine();
    eprintln!(
        "measuring ({} rounds of {:?} per competitor and workload)...",
        config.rounds, config.sample
    );

    let mut rows = Vec::new();
    for (n, k) in DISPATCH {
        let fds: Arc<Vec<OwnedFd>> = Arc::new((0..n).map(|_| fixtures::eventfd()).collect());
        let ready = fixtures::spread(n, k);
        let samples = measure(
            [
                &mut on_nbio::Dispatch::new(&fds, &ready),
                &mut on_mio::Dispatch::new(&fds, &ready),
                &mut floor::Dispatch::new(&fds, &ready),
            ],
            config,
        );
        let name = format!("poll dispatch, {n} sources, {k} ready");
        rows.push(Row::time(name.clone(), "ns/poll", &samples, 1.0));
        if k > 1 {
            rows.push(Row::time(name, "ns/event", &samples, 1.0 / k as f64));
        }
        eprintln!("  dispatch {n}/{k} done");
    }

    let samples = measure(
        [
            &mut on_nbio::Churn::new(),
            &mut on_mio::Churn::new(),
            &mut floor::Churn::new(),
        ],
        config,
    );
    rows.push(Row::time(
        "registration churn (register + deregister)".into(),
        "ns/op",
        &samples,
        1.0,
    ));

    let samples = measure(
        [
            &mut on_nbio::WakerRoundTrip::new(),
            &mut on_mio::WakerRoundTrip::new(),
            &mut floor::WakerRoundTrip::new(),
        ],
        config,
    );
    rows.push(Row::time(
        "waker: cross-thread wake, round trip".into(),
        "ns/rtt",
        &samples,
        1.0,
    ));

    let samples = measure(
        [
            &mut on_nbio::TcpPingPong::new(),
            &mut on_mio::TcpPingPong::new(),
            &mut floor::TcpPingPong::new(),
        ],
        config,
    );
    rows.push(Row::rate(
        "TCP ping-pong, 1 connection, 64 B".into(),
        "rtt/s",
        &samples,
        1.0,
    ));

    let samples = measure(
        [
            &mut on_nbio::TcpEcho::new(),
            &mut on_mio::TcpEcho::new(),
            &mut floor::TcpEcho::new(),
        ],
        config,
    );
    let name = format!("TCP echo, {} connections, 64 B", fixtures::CONNECTIONS);
    rows.push(Row::rate(
        name,
        "msg/s",
        &samples,
        fixtures::CONNECTIONS as f64,
    ));

    let samples = measure(
        [
            &mut on_nbio::UdpEcho::new(),
            &mut on_mio::UdpEcho::new(),
            &mut floor::UdpEcho::new(),
        ],
        config,
    );
    rows.push(Row::rate("UDP echo, 64 B".into(), "dgram/s", &samples, 1.0));

    rows.push(Row::exact(
        "memory per registered UDP socket".into(),
        "bytes/source",
        [
            on_nbio::bytes_per_source(1000),
            on_mio::bytes_per_source(1000),
            floor::bytes_per_source(),
        ],
    ));
    rows.push(Row::exact(
        "memory per Events slot".into(),
        "bytes/slot",
        [
            on_nbio::bytes_per_event_slot(),
            on_mio::bytes_per_event_slot(),
            floor::bytes_per_event_slot(),
        ],
    ));

    let table = report::table(&rows, &machine);
    println!("{table}");
    let dir = output_dir();
    std::fs::create_dir_all(&dir).expect("create the output directory");
    std::fs::write(dir.join("summary.md"), &table).expect("write summary.md");
    report::write_csv(&rows, &dir.join("summary.csv")).expect("write summary.csv");
    report::write_svg(&rows, &machine, &dir.join("summary.svg")).expect("write summary.svg");
    eprintln!("wrote {}", dir.join("summary.{csv,svg,md}").display());
}

/// `target/nbio-bench` in the workspace.
fn output_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("nbio-bench")
}

/// The processor, core count and kernel, for the report.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown processor".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}", kernel.trim())
}
