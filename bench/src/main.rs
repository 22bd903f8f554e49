//! evmux vs mio vs the raw syscalls, side by side, in one process.
//!
//! ```text
//! cargo run --release -p evmux-bench            # about two minutes
//! cargo run --release -p evmux-bench -- --quick # CI: under a minute
//! cargo run --release -p evmux-bench -- --only wake --rounds 101
//! ```
//!
//! `--only NAME` runs the workloads whose name contains NAME; `--rounds N`
//! sets how many rounds each takes (more rounds narrow the paired
//! intervals).
//!
//! Prints a table and writes `target/evmux-bench/summary.csv` and
//! `target/evmux-bench/summary.svg`. See harness.rs for how it measures.

mod alloc;
mod fixtures;
mod floor;
mod harness;
mod report;
mod timer;
mod timers_many;
mod udp_batch;
mod udp_raw;

/// The workloads on evmux.
mod on_evmux {
    pub use evmux as api;
    /// The waker of the storm workloads: evmux's coalescing one.
    fn coalescing_waker(registry: &api::Registry, token: api::Token) -> api::Waker {
        api::Waker::new_coalescing(registry, token).expect("Waker::new_coalescing")
    }
    include!("competitor.rs");
}

/// The same workloads, the same code, on mio.
mod on_mio {
    pub use mio as api;
    /// mio has one kind of waker.
    fn coalescing_waker(registry: &api::Registry, token: api::Token) -> api::Waker {
        api::Waker::new(registry, token).expect("Waker::new")
    }
    include!("competitor.rs");
}

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use harness::{measure, Bench, Config, Samples};
use report::Row;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// (sources registered, sources ready per poll)
const DISPATCH: [(usize, usize); 5] = [(10, 1), (1000, 1), (1000, 64), (10_000, 1), (10_000, 64)];

/// Datagram sizes of the batched UDP workloads: a small one and a QUIC
/// packet.
const UDP_SIZES: [usize; 2] = [64, 1200];

/// Datagrams per batched call.
const UDP_BATCHES: [usize; 3] = [8, 32, 64];

/// Sources registered, none ready, in the idle poll workload.
const IDLE_SOURCES: usize = 1000;

/// The same workload on evmux, on mio and on the floor, built on demand.
macro_rules! competitors {
    ($workload:ident) => {
        || -> [Box<dyn Bench>; 3] {
            [
                Box::new(on_evmux::$workload::new()),
                Box::new(on_mio::$workload::new()),
                Box::new(floor::$workload::new()),
            ]
        }
    };
}

/// The workloads to run and the rows they produced.
struct Run {
    config: Config,
    /// Only workloads whose name contains this run (`--only NAME`).
    only: Option<String>,
    rows: Vec<Row>,
}

impl Run {
    /// Measures the three competitors `make` builds, if `name` is wanted.
    fn measure(&self, name: &str, make: impl Fn() -> [Box<dyn Bench>; 3]) -> Option<[Samples; 3]> {
        self.measure_with(name, self.config, make)
    }

    /// `measure`, with `config` instead of the run's.
    fn measure_with(
        &self,
        name: &str,
        config: Config,
        make: impl Fn() -> [Box<dyn Bench>; 3],
    ) -> Option<[Samples; 3]> {
        if self
            .only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
            return None;
        }
        let samples = measure(&make, config);
        eprintln!("  {name}: done");
        Some(samples)
    }

    /// The run's configuration, building the competitors anew each round
    /// (see harness.rs): for workloads that set up in milliseconds.
    fn fresh(&self) -> Config {
        Config {
            fresh: true,
            ..self.config
        }
    }

    /// A workload reported as time per operation, divided by `per_op`,
    /// with fresh competitors every round.
    fn time(
        &mut self,
        name: String,
        unit: &'static str,
        per_op: f64,
        make: impl Fn() -> [Box<dyn Bench>; 3],
    ) {
        if let Some(samples) = self.measure_with(&name, self.fresh(), make) {
            self.rows
                .push(Row::time(name, unit, &samples, 1.0 / per_op));
        }
    }

    /// A workload reported as `per_op` things per second. The same
    /// competitors all run long: these open connections, and building them
    /// every round would pile up closed ones.
    fn rate(
        &mut self,
        name: String,
        unit: &'static str,
        per_op: f64,
        make: impl Fn() -> [Box<dyn Bench>; 3],
    ) {
        if let Some(samples) = self.measure(&name, make) {
            self.rows.push(Row::rate(name, unit, &samples, per_op));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|arg| arg == "--quick");
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut config = if quick { Config::QUICK } else { Config::FULL };
    if let Some(rounds) = args
        .iter()
        .position(|arg| arg == "--rounds")
        .and_then(|i| args.get(i + 1))
    {
        config.rounds = rounds.parse().expect("--rounds takes a number");
    }
    fixtures::raise_descriptor_limit();
    if let Some(i) = args.iter().position(|arg| arg == "--churn-only") {
        churn_only(&args[i + 1..]);
        return;
    }
    let machine = format!(
        "{}, cache line round trip between the two pinned processors {:.0} ns",
        machine(),
        fixtures::cache_line_round_trip()
    );
    fixtures::pin_to_cpu(fixtures::MAIN_CPU);
    eprintln!(
        "measuring: {} rounds of {:?} per competitor and workload",
        config.rounds, config.sample
    );

    let mut run = Run {
        config,
        only,
        rows: Vec::new(),
    };
    for (n, k) in DISPATCH {
        let name = format!("poll dispatch, {n} sources, {k} ready");
        let make = || {
            let fds: Arc<Vec<OwnedFd>> = Arc::new((0..n).map(|_| fixtures::eventfd()).collect());
            let ready = fixtures::spread(n, k);
            let benches: [Box<dyn Bench>; 3] = [
                Box::new(on_evmux::Dispatch::new(&fds, &ready)),
                Box::new(on_mio::Dispatch::new(&fds, &ready)),
                Box::new(floor::Dispatch::new(&fds, &ready)),
            ];
            benches
        };
        if let Some(samples) = run.measure_with(&name, run.fresh(), make) {
            run.rows
                .push(Row::time(name.clone(), "ns/poll", &samples, 1.0));
            if k > 1 {
                run.rows
                    .push(Row::time(name, "ns/event", &samples, 1.0 / k as f64));
            }
        }
    }
    {
        let name = format!("idle poll, {IDLE_SOURCES} sources, zero timeout");
        let make = || {
            let fds: Arc<Vec<OwnedFd>> =
                Arc::new((0..IDLE_SOURCES).map(|_| fixtures::eventfd()).collect());
            let benches: [Box<dyn Bench>; 3] = [
                Box::new(on_evmux::Dispatch::new(&fds, &[])),
                Box::new(on_mio::Dispatch::new(&fds, &[])),
                Box::new(floor::Dispatch::new(&fds, &[])),
            ];
            benches
        };
        run.time(name, "ns/poll", 1.0, make);
    }
    run.time(
        "registration churn (register + deregister)".into(),
        "ns/op",
        1.0,
        competitors!(Churn),
    );
    run.time(
        "registration churn, ready socket (register + deregister)".into(),
        "ns/op",
        1.0,
        competitors!(ReadyChurn),
    );
    for wave in [1, 64] {
        run.time(
            format!("connection churn, {wave} concurrent clients"),
            "ns/conn",
            1.0,
            || -> [Box<dyn Bench>; 3] {
                [
                    Box::new(on_evmux::ConnChurn::new(wave)),
                    Box::new(on_mio::ConnChurn::new(wave)),
                    Box::new(floor::ConnChurn::new(wave)),
                ]
            },
        );
    }
    run.time(
        "waker: cross-thread wake, round trip".into(),
        "ns/rtt",
        1.0,
        competitors!(WakerRoundTrip),
    );
    run.time(
        "waker: cross-core single wake + poll".into(),
        "ns/wake",
        1.0,
        competitors!(CrossCoreWake),
    );
    run.time(
        "waker: cross-core single wake + poll, evmux coalescing".into(),
        "ns/wake",
        1.0,
        || -> [Box<dyn Bench>; 3] {
            [
                Box::new(on_evmux::CrossCoreWake::coalescing()),
                Box::new(on_mio::CrossCoreWake::new()),
                Box::new(floor::CrossCoreWake::new()),
            ]
        },
    );
    let wakes = fixtures::WAKES as f64;
    run.time(
        format!("waker: {} wakes per poll", fixtures::WAKES),
        "ns/wake",
        wakes,
        competitors!(WakeStorm),
    );
    run.time(
        format!(
            "waker: {} wakes per poll, evmux coalescing",
            fixtures::WAKES
        ),
        "ns/wake",
        wakes,
        || -> [Box<dyn Bench>; 3] {
            [
                Box::new(on_evmux::WakeStorm::coalescing()),
                Box::new(on_mio::WakeStorm::new()),
                Box::new(floor::WakeStorm::new()),
            ]
        },
    );
    run.rate(
        "TCP ping-pong, 1 connection, 64 B".into(),
        "rtt/s",
        1.0,
        competitors!(TcpPingPong),
    );
    let connections = fixtures::CONNECTIONS as f64;
    run.rate(
        format!("TCP echo, {} connections, 64 B", fixtures::CONNECTIONS),
        "msg/s",
        connections,
        competitors!(TcpEcho),
    );
    run.rate(
        "UDP echo, 64 B".into(),
        "dgram/s",
        1.0,
        competitors!(UdpEcho),
    );
    udp_batch_rows(&mut run);
    if run.only.is_none() {
        run.rows.push(Row::exact(
            "memory per registered UDP socket".into(),
            "bytes/source",
            [
                on_evmux::bytes_per_source(1000),
                on_mio::bytes_per_source(1000),
                floor::bytes_per_source(),
            ],
        ));
        run.rows.push(Row::exact(
            "memory per Events slot".into(),
            "bytes/slot",
            [
                on_evmux::bytes_per_event_slot(),
                on_mio::bytes_per_event_slot(),
                floor::bytes_per_event_slot(),
            ],
        ));
    }

    let dir = output_dir();
    if run
        .only
        .as_ref()
        .is_none_or(|only| "timer lateness".contains(only.as_str()))
    {
        let samples = if quick { 200 } else { 5000 };
        let table = timer::report(samples).expect("timer lateness");
        eprintln!("{table}");
        std::fs::create_dir_all(&dir).expect("create the output directory");
        std::fs::write(dir.join("timer.md"), &table).expect("write timer.md");
    }
    if run
        .only
        .as_ref()
        .is_none_or(|only| "timers: a million on one thread".contains(only.as_str()))
    {
        let rounds = if quick { 2 } else { 6 };
        let table = timers_many::report(rounds).expect("a million timers");
        eprintln!("{table}");
        std::fs::create_dir_all(&dir).expect("create the output directory");
        std::fs::write(dir.join("timers_many.md"), &table).expect("write timers_many.md");
    }
    run.rows.extend(tokio_rows(&dir, run.only.as_deref()));
    let table = report::table(&run.rows, &machine);
    println!("{table}");
    std::fs::create_dir_all(&dir).expect("create the output directory");
    std::fs::write(dir.join("summary.md"), &table).expect("write summary.md");
    report::write_csv(&run.rows, &dir.join("summary.csv")).expect("write summary.csv");
    report::write_svg(&run.rows, &machine, &dir.join("summary.svg")).expect("write summary.svg");
    eprintln!("wrote {}", dir.join("summary.{csv,svg,md}").display());
}

/// `--churn-only WHO WAVE CONNECTIONS`: only the connection churn of one
/// competitor (`evmux`, `mio` or `floor`), for counting its system calls
/// with `strace -c -f` (see the README's io_uring section).
fn churn_only(args: &[String]) {
    let [who, wave, connections] = args else {
        panic!("--churn-only takes WHO WAVE CONNECTIONS");
    };
    let wave: usize = wave.parse().expect("WAVE is a number");
    let connections: u64 = connections.parse().expect("CONNECTIONS is a number");
    let mut bench: Box<dyn Bench> = match who.as_str() {
        "evmux" => Box::new(on_evmux::ConnChurn::new(wave)),
        "mio" => Box::new(on_mio::ConnChurn::new(wave)),
        "floor" => Box::new(floor::ConnChurn::new(wave)),
        _ => panic!("WHO is evmux, mio or floor"),
    };
    let spent = bench.run(connections);
    eprintln!(
        "{who}: {connections} connections, {wave} at a time: {:.0} ns/conn",
        spent.as_nanos() as f64 / connections as f64
    );
}

/// Batched UDP: evmux's batched calls (`send_many`/`recv_many`, GSO,
/// GRO) against mio's per-datagram `send_to`/`recv_from` and the raw
/// batched system calls, in datagrams per second. Reported by the fastest
/// of many short samples: loopback datagrams cost microseconds, and on a
/// shared machine the medians of these rows vary severalfold between runs.
fn udp_batch_rows(run: &mut Run) {
    use udp_batch::{Recv, Send, Way, Who};
    let config = if run.config.rounds < Config::MANY_SHORT.rounds {
        run.config
    } else {
        Config::MANY_SHORT
    };
    let mut rate = |name: String, count: usize, make: &dyn Fn() -> [Box<dyn Bench>; 3]| {
        if let Some(samples) = run.measure_with(&name, config, make) {
            let row = Row::rate_best(name, "dgram/s", &samples, count as f64);
            run.rows.push(row);
        }
    };
    for size in UDP_SIZES {
        // GSO/GRO: as many segments as one send takes (64, and at most
        // 64 KiB).
        let offload = 64.min(65_507 / size);
        let ways = UDP_BATCHES
            .iter()
            .map(|&count| (count, Way::Batch, format!("batches of {count}")))
            .chain([(
                offload,
                Way::Offload,
                format!("GSO/GRO, {offload} per call"),
            )]);
        for (count, way, label) in ways {
            rate(format!("UDP send, {size} B, {label}"), count, &|| {
                [Who::Evmux, Who::Mio, Who::Floor]
                    .map(|who| Box::new(Send::new(who, size, count, way)) as Box<dyn Bench>)
            });
            rate(format!("UDP receive, {size} B, {label}"), count, &|| {
                [Who::Evmux, Who::Mio, Who::Floor]
                    .map(|who| Box::new(Recv::new(who, size, count, way)) as Box<dyn Bench>)
            });
        }
    }
}

/// The tokio echo rows that compat/tokio's driver (`tokio-bench`, run by
/// .ci/tokio.sh) left in `tokio.csv`, if it did: tokio on evmux against
/// tokio on mio, measured alternately like every other row.
fn tokio_rows(dir: &std::path::Path, only: Option<&str>) -> Vec<Row> {
    let path = dir.join("tokio.csv");
    let Ok(csv) = std::fs::read_to_string(&path) else {
        eprintln!(
            "no {}: run compat/tokio's tokio-bench (see .ci/tokio.sh) for the tokio rows",
            path.display()
        );
        return Vec::new();
    };
    let rows: Vec<Row> = Row::parse_tokio_csv(&csv)
        .into_iter()
        .filter(|row| only.is_none_or(|only| row.workload.contains(only)))
        .collect();
    eprintln!("  {} tokio rows from {}", rows.len(), path.display());
    rows
}

/// `target/evmux-bench` in the workspace.
fn output_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("evmux-bench")
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
