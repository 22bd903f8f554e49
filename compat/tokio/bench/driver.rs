//! The tokio benchmark (echo and connection churn): tokio on evmux against
//! tokio on mio.
//!
//! ```text
//! # from compat/tokio (see .ci/tokio.sh for the quick mode CI runs)
//! cargo build --release --bins
//! cargo build --release --manifest-path on-mio/Cargo.toml --target-dir target
//! target/release/tokio-bench              # about two minutes
//! target/release/tokio-bench --quick      # under ten seconds
//! target/release/tokio-bench --rounds 121 # more samples on a noisy machine
//! target/release/tokio-bench --only churn # the connection churn only
//! # evmux on io_uring: its program built apart, then given to the driver
//! RUSTFLAGS="--cfg evmux_io_uring" CARGO_TARGET_DIR=target/uring-bench \
//!     cargo build --release --bin tokio-echo-evmux
//! target/release/tokio-bench --evmux target/uring-bench/release/tokio-echo-evmux
//! ```
//!
//! The same program, bench/echo.rs, is built twice: `tokio-echo-evmux` in
//! this workspace, where `[patch.crates-io]` puts evmux under tokio, and
//! `tokio-echo-mio` in on-mio/, a workspace without the patch. For each
//! workload the driver starts both, lets each warm up, then asks them in
//! turn for one sample at a time, alternating which goes first, so that
//! drift of a shared machine hits both alike. It reports medians over the
//! samples with their spread, in the benchmark table's format, and writes
//! them to `target/evmux-bench/tokio.{csv,md}` at the repository's root,
//! where the main benchmark (`evmux-bench`) adds them to its table and
//! chart, and every sample to `tokio-samples.csv`.
//!
//! The harness's own noise can be measured with the same program on both
//! sides (an A/A run): `tokio-bench --evmux target/release/tokio-echo-mio`.
//!
//! Workloads: TCP echo (16 connections on one thread; 1 connection with
//! client and server threads) and connection churn (see bench/churn.rs: a
//! fresh connection per request, 1 and 64 clients at once, on a
//! current-thread and on a two-worker multi-thread runtime). `--only TEXT`
//! runs the workloads whose name contains TEXT (e.g. `--only churn`; the
//! files written then hold those rows only, `--out DIR` puts them
//! elsewhere). On
//! Linux the driver names each program's backend as it finds it in the
//! program's descriptors (`io_uring` or `epoll`), so that a build with
//! `--cfg evmux_io_uring` is seen to run on io_uring (`EVMUX_IO_URING=0`
//! in the environment turns it off for the same binary).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// How long to measure.
#[derive(Clone, Copy)]
struct Config {
    rounds: usize,
    /// One sample's length.
    sample_ms: u64,
}

const FULL: Config = Config {
    rounds: 41,
    sample_ms: 250,
};
const QUICK: Config = Config {
    rounds: 5,
    sample_ms: 100,
};

/// One configuration of the echo program.
#[derive(Clone, Copy)]
enum Workload {
    /// TCP echo.
    Echo {
        connections: usize,
        /// Message size in bytes.
        size: usize,
        /// 1: server and client share one runtime thread; 2: a thread each.
        threads: usize,
    },
    /// Connection churn: `clients` at once, each one connection at a time.
    Churn { clients: usize, multi_thread: bool },
}

const WORKLOADS: [Workload; 6] = [
    Workload::Echo {
        connections: 16,
        size: 64,
        threads: 1,
    },
    Workload::Echo {
        connections: 1,
        size: 64,
        threads: 2,
    },
    Workload::Churn {
        clients: 1,
        multi_thread: false,
    },
    Workload::Churn {
        clients: 64,
        multi_thread: false,
    },
    Workload::Churn {
        clients: 1,
        multi_thread: true,
    },
    Workload::Churn {
        clients: 64,
        multi_thread: true,
    },
];

impl Workload {
    /// The echo program's arguments.
    fn args(self) -> Vec<String> {
        match self {
            Workload::Echo {
                connections,
                size,
                threads,
            } => vec![
                "--connections".into(),
                connections.to_string(),
                "--size".into(),
                size.to_string(),
                "--threads".into(),
                threads.to_string(),
            ],
            Workload::Churn {
                clients,
                multi_thread,
            } => vec![
                "--churn".into(),
                clients.to_string(),
                "--runtime".into(),
                runtime_name(multi_thread).into(),
            ],
        }
    }

    /// The workload's name in the table.
    fn name(self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        match self {
            Workload::Echo {
                connections,
                size,
                threads,
            } => {
                let threads = if threads == 1 {
                    "one thread"
                } else {
                    "client and server threads"
                };
                format!(
                    "tokio TCP echo, {connections} connection{}, {size} B, {threads}",
                    plural(connections)
                )
            }
            Workload::Churn {
                clients,
                multi_thread,
            } => format!(
                "tokio connection churn, {clients} concurrent client{}, {} runtime",
                plural(clients),
                runtime_name(multi_thread)
            ),
        }
    }
}

fn runtime_name(multi_thread: bool) -> &'static str {
    if multi_thread {
        "multi-thread"
    } else {
        "current-thread"
    }
}

/// One sample: round trips (or connections) per second, the p50 and p99
/// round trip (or connection), and the processor time per round trip (or
/// connection).
#[derive(Clone, Copy, Debug)]
struct Sample {
    rate: f64,
    p50_us: f64,
    p99_us: f64,
    /// Processor time (both ends, user and kernel) per round trip.
    cpu_ns: f64,
}

/// A running echo program.
struct Echo {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Echo {
    fn start(program: &Path, workload: Workload) -> Echo {
        let mut child = Command::new(program)
            .args(workload.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let input = child.stdin.take().expect("stdin");
        let mut output = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        output.read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "ready", "{} did not start", program.display());
        Echo {
            child,
            input,
            output,
        }
    }

    fn sample(&mut self, millis: u64) -> Sample {
        writeln!(self.input, "run {millis}")
            .and_then(|()| self.input.flush())
            .expect("send a command");
        let mut line = String::new();
        self.output.read_line(&mut line).expect("read a result");
        let fields: Vec<f64> = line
            .split_whitespace()
            .map(|field| field.parse().expect("a number"))
            .collect();
        let [messages, nanos, p50, p99, cpu] = fields[..] else {
            panic!("unexpected result {line:?}");
        };
        Sample {
            rate: messages * 1e9 / nanos,
            p50_us: p50 / 1e3,
            p99_us: p99 / 1e3,
            cpu_ns: cpu / messages,
        }
    }

    fn stop(self) {
        let Echo {
            mut child, input, ..
        } = self;
        drop(input);
        let _ = child.wait();
    }
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The interquartile range relative to the median.
fn spread(values: &[f64]) -> f64 {
    (quantile(values, 0.75) - quantile(values, 0.25)) / median(values)
}

/// The distribution-free 95% interval for a median of `n` samples: the
/// largest `k` such that the `k`-th smallest and the `k`-th largest
/// (0-based) enclose the median with probability at least 95%, that is
/// P(Binomial(n, 1/2) <= k) <= 2.5%; `None` for fewer than 6 samples.
/// (The main benchmark's rows use the same interval.)
fn median_interval_rank(n: usize) -> Option<usize> {
    let mut term = 0.5_f64.powi(n as i32);
    let mut below = 0.0;
    let mut k = None;
    for j in 0..n {
        below += term;
        if below > 0.025 {
            break;
        }
        k = Some(j);
        term *= (n - j) as f64 / (j + 1) as f64;
    }
    k.filter(|&k| k < n / 2)
}

/// evmux's cost over mio's, round by round: the median of the ratios and
/// its 95% interval.
#[derive(Clone, Copy)]
struct Paired {
    median: f64,
    low: f64,
    high: f64,
}

impl Paired {
    /// From per-round costs (times, not rates).
    fn of(evmux: &[f64], mio: &[f64]) -> Option<Paired> {
        let mut ratios: Vec<f64> = evmux.iter().zip(mio).map(|(e, m)| e / m).collect();
        ratios.sort_by(f64::total_cmp);
        let k = median_interval_rank(ratios.len())?;
        Some(Paired {
            median: median(&ratios),
            low: ratios[k],
            high: ratios[ratios.len() - 1 - k],
        })
    }
}

/// One row of the table: medians for evmux and mio.
struct Row {
    workload: String,
    unit: &'static str,
    evmux: f64,
    mio: f64,
    /// evmux's cost relative to mio's (below 1: evmux is cheaper).
    ratio: f64,
    paired: Option<Paired>,
    spread: f64,
}

impl Row {
    /// A row of times per operation (`rate` false) or of rates, with the
    /// paired ratio of the costs.
    fn new(workload: String, unit: &'static str, evmux: &[f64], mio: &[f64], rate: bool) -> Row {
        let (e, m) = (median(evmux), median(mio));
        let cost = |values: &[f64]| -> Vec<f64> {
            values
                .iter()
                .map(|&v| if rate { 1.0 / v } else { v })
                .collect()
        };
        Row {
            workload,
            unit,
            evmux: e,
            mio: m,
            ratio: if rate { m / e } else { e / m },
            paired: Paired::of(&cost(evmux), &cost(mio)),
            spread: spread(evmux).max(spread(mio)),
        }
    }
}

fn format_value(value: f64) -> String {
    if value >= 1000.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The backend a running program's tokio sits on, as its descriptors show
/// it (Linux): an io_uring instance or an epoll instance.
#[cfg(target_os = "linux")]
fn backend(child: &Child) -> &'static str {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{}/fd", child.id())) else {
        return "unknown";
    };
    let links: Vec<String> = entries
        .flatten()
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .map(|link| link.to_string_lossy().into_owned())
        .collect();
    if links.iter().any(|link| link == "anon_inode:[io_uring]") {
        "io_uring"
    } else if links.iter().any(|link| link == "anon_inode:[eventpoll]") {
        "epoll"
    } else {
        "unknown"
    }
}

#[cfg(not(target_os = "linux"))]
fn backend(_child: &Child) -> &'static str {
    "unknown"
}

/// Measures one workload; returns its rows and appends every sample to
/// `raw`.
fn measure(
    programs: [&Path; 2],
    workload: Workload,
    config: &Config,
    raw: &mut String,
) -> Vec<Row> {
    let name = workload.name();
    let mut echoes = programs.map(|program| Echo::start(program, workload));
    eprintln!(
        "{name}: evmux's program on {}, mio's on {}",
        backend(&echoes[0].child),
        backend(&echoes[1].child)
    );
    for echo in &mut echoes {
        echo.sample(config.sample_ms); // warm-up
    }
    let mut samples: [Vec<Sample>; 2] = Default::default();
    for round in 0..config.rounds {
        for offset in 0..2 {
            let which = (round + offset) % 2;
            samples[which].push(echoes[which].sample(config.sample_ms));
        }
    }
    for echo in echoes {
        echo.stop();
    }
    let [evmux, mio] = &samples;
    for (round, (e, m)) in evmux.iter().zip(mio).enumerate() {
        let _ = writeln!(
            raw,
            "\"{name}\",{round},{:.1},{:.1},{:.3},{:.3},{:.3},{:.3},{:.1},{:.1}",
            e.rate, m.rate, e.p50_us, m.p50_us, e.p99_us, m.p99_us, e.cpu_ns, m.cpu_ns
        );
    }
    let row = |what: &str, unit, get: fn(&Sample) -> f64, rate| {
        let field = |samples: &[Sample]| -> Vec<f64> { samples.iter().map(get).collect() };
        Row::new(
            format!("{name}{what}"),
            unit,
            &field(evmux),
            &field(mio),
            rate,
        )
    };
    match workload {
        Workload::Echo { .. } => vec![
            row("", "msg/s", |s| s.rate, true),
            row(", CPU time", "ns/msg", |s| s.cpu_ns, false),
            row(", p50 round trip", "µs", |s| s.p50_us, false),
            row(", p99 round trip", "µs", |s| s.p99_us, false),
        ],
        Workload::Churn { .. } => vec![
            row("", "ns/conn", |s| 1e9 / s.rate, false),
            row(", CPU time", "ns/conn", |s| s.cpu_ns, false),
        ],
    }
}

fn format_paired(paired: Option<Paired>) -> String {
    paired.map_or_else(
        || "–".into(),
        |p| format!("{:.3} ({:.3}–{:.3})", p.median, p.low, p.high),
    )
}

/// The rows in the main benchmark's table format (the floor has no tokio
/// counterpart: its cells stay empty).
fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | unit | evmux | mio | floor | evmux/mio | paired (95% CI) | evmux/floor | spread |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | – | {:.3} | {} | – | {:.1}% |",
            row.workload,
            row.unit,
            format_value(row.evmux),
            format_value(row.mio),
            row.ratio,
            format_paired(row.paired),
            row.spread * 100.0
        );
    }
    out
}

/// The main benchmark's CSV columns (the floor left empty), and the spread
/// as a fraction, which `evmux-bench` shows in its table.
fn csv(rows: &[Row]) -> String {
    let mut out = String::from("workload,unit,evmux,mio,floor,spread\n");
    for row in rows {
        let _ = writeln!(
            out,
            "\"{}\",{},{:.3},{:.3},,{:.4}",
            row.workload, row.unit, row.evmux, row.mio, row.spread
        );
    }
    out
}

fn flag_value(args: &[String], name: &str) -> Option<PathBuf> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut config = if args.iter().any(|arg| arg == "--quick") {
        QUICK
    } else {
        FULL
    };
    if let Some(rounds) = flag_value(&args, "--rounds") {
        config.rounds = rounds
            .to_str()
            .and_then(|n| n.parse().ok())
            .expect("--rounds N");
    }
    let here = std::env::current_exe().expect("this program's path");
    let dir = here.parent().expect("its directory");
    let evmux = flag_value(&args, "--evmux").unwrap_or_else(|| dir.join("tokio-echo-evmux"));
    let mio = flag_value(&args, "--mio").unwrap_or_else(|| dir.join("tokio-echo-mio"));
    let out = flag_value(&args, "--out")
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/evmux-bench"));
    eprintln!(
        "measuring tokio on evmux ({}) against tokio on mio ({}): {} rounds of {} ms",
        evmux.display(),
        mio.display(),
        config.rounds,
        config.sample_ms
    );
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .map(|i| args.get(i + 1).expect("--only TEXT").clone());
    let mut rows = Vec::new();
    let mut raw = String::from(
        "workload,round,evmux_per_s,mio_per_s,evmux_p50_us,mio_p50_us,\
         evmux_p99_us,mio_p99_us,evmux_cpu_ns,mio_cpu_ns\n",
    );
    for workload in WORKLOADS {
        if only
            .as_deref()
            .is_some_and(|only| !workload.name().contains(only))
        {
            continue;
        }
        rows.extend(measure([&evmux, &mio], workload, &config, &mut raw));
    }
    let table = table(&rows);
    println!("{table}");
    std::fs::create_dir_all(&out).expect("create the output directory");
    std::fs::write(out.join("tokio.md"), &table).expect("write tokio.md");
    std::fs::write(out.join("tokio.csv"), csv(&rows)).expect("write tokio.csv");
    std::fs::write(out.join("tokio-samples.csv"), raw).expect("write tokio-samples.csv");
    eprintln!(
        "wrote {} and every sample to tokio-samples.csv",
        out.join("tokio.{csv,md}").display()
    );
}
