//! The tokio echo benchmark: tokio on evmux against tokio on mio.
//!
//! ```text
//! # from compat/tokio (see .ci/tokio.sh for the quick mode CI runs)
//! cargo build --release --bins
//! cargo build --release --manifest-path on-mio/Cargo.toml --target-dir target
//! target/release/tokio-bench              # about a minute
//! target/release/tokio-bench --quick      # a few seconds
//! target/release/tokio-bench --rounds 121 # more samples on a noisy machine
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
struct Workload {
    connections: usize,
    /// Message size in bytes.
    size: usize,
    /// 1: server and client share one runtime thread; 2: a thread each.
    threads: usize,
}

const WORKLOADS: [Workload; 2] = [
    Workload {
        connections: 16,
        size: 64,
        threads: 1,
    },
    Workload {
        connections: 1,
        size: 64,
        threads: 2,
    },
];

/// One sample: round trips per second, the p50 and p99 round trip, and the
/// processor time per round trip.
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
            .args(["--connections", &workload.connections.to_string()])
            .args(["--size", &workload.size.to_string()])
            .args(["--threads", &workload.threads.to_string()])
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

/// One row of the table: medians for evmux and mio.
struct Row {
    workload: String,
    unit: &'static str,
    evmux: f64,
    mio: f64,
    /// evmux's cost relative to mio's (below 1: evmux is cheaper).
    ratio: f64,
    spread: f64,
}

impl Row {
    fn new(workload: &str, unit: &'static str, evmux: &[f64], mio: &[f64], rate: bool) -> Row {
        let (e, m) = (median(evmux), median(mio));
        Row {
            workload: workload.to_string(),
            unit,
            evmux: e,
            mio: m,
            ratio: if rate { m / e } else { e / m },
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

/// Measures one workload; returns its rows and a line on the paired ratios.
fn measure(
    programs: [&Path; 2],
    workload: Workload,
    config: &Config,
    raw: &mut String,
) -> Vec<Row> {
    let mut echoes = programs.map(|program| Echo::start(program, workload));
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
            "{},{},{},{round},{:.1},{:.1},{:.3},{:.3},{:.3},{:.3},{:.1},{:.1}",
            workload.connections,
            workload.size,
            workload.threads,
            e.rate,
            m.rate,
            e.p50_us,
            m.p50_us,
            e.p99_us,
            m.p99_us,
            e.cpu_ns,
            m.cpu_ns
        );
    }
    let field = |samples: &[Sample], get: fn(&Sample) -> f64| -> Vec<f64> {
        samples.iter().map(get).collect()
    };
    for (what, get) in [
        ("msg/s", (|s: &Sample| 1.0 / s.rate) as fn(&Sample) -> f64),
        ("CPU time per message", |s: &Sample| s.cpu_ns),
    ] {
        let paired: Vec<f64> = evmux
            .iter()
            .zip(mio)
            .map(|(e, m)| get(e) / get(m))
            .collect();
        eprintln!(
            "  {} connection(s), {} thread(s), {what}: evmux/mio cost, paired by round: \
             median {:.3}, quartiles {:.3}..{:.3}, range {:.3}..{:.3}",
            workload.connections,
            workload.threads,
            median(&paired),
            quantile(&paired, 0.25),
            quantile(&paired, 0.75),
            quantile(&paired, 0.0),
            quantile(&paired, 1.0),
        );
    }
    let name = |what: &str| {
        let Workload {
            connections,
            size,
            threads,
        } = workload;
        let plural = if connections == 1 { "" } else { "s" };
        let threads = if threads == 1 {
            "one thread"
        } else {
            "client and server threads"
        };
        format!("tokio TCP echo, {connections} connection{plural}, {size} B, {threads}{what}")
    };
    vec![
        Row::new(
            &name(""),
            "msg/s",
            &field(evmux, |s| s.rate),
            &field(mio, |s| s.rate),
            true,
        ),
        Row::new(
            &name(", CPU time"),
            "ns/msg",
            &field(evmux, |s| s.cpu_ns),
            &field(mio, |s| s.cpu_ns),
            false,
        ),
        Row::new(
            &name(", p50 round trip"),
            "µs",
            &field(evmux, |s| s.p50_us),
            &field(mio, |s| s.p50_us),
            false,
        ),
        Row::new(
            &name(", p99 round trip"),
            "µs",
            &field(evmux, |s| s.p99_us),
            &field(mio, |s| s.p99_us),
            false,
        ),
    ]
}

/// The rows in the main benchmark's table format (the floor has no tokio
/// counterpart: its cells stay empty).
fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | unit | evmux | mio | floor | evmux/mio | evmux/floor | spread |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | – | {:.3} | – | {:.1}% |",
            row.workload,
            row.unit,
            format_value(row.evmux),
            format_value(row.mio),
            row.ratio,
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
    let mut rows = Vec::new();
    let mut raw = String::from(
        "connections,size,threads,round,evmux_msg_s,mio_msg_s,evmux_p50_us,mio_p50_us,\
         evmux_p99_us,mio_p99_us,evmux_cpu_ns,mio_cpu_ns\n",
    );
    for workload in WORKLOADS {
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
