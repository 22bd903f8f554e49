//! The results: a table on standard output, `summary.csv` and a bar chart
//! in `summary.svg`.

use std::fmt::Write as _;
use std::path::Path;
use std::{fs, io};

use crate::harness::{Paired, Samples};

/// One workload's medians for `[evmux, mio, floor]`; a floor of NaN means
/// the workload has none (the tokio rows).
pub struct Row {
    pub workload: String,
    pub unit: String,
    pub values: [f64; 3],
    /// The largest relative interquartile range of the three.
    pub spread: f64,
    /// evmux's cost over mio's, paired by round (see `Paired`), where the
    /// row was measured in rounds.
    pub paired: Option<Paired>,
}

impl Row {
    /// A row of times per operation, from samples in nanoseconds, scaled
    /// by `per` (e.g. 1/64 for "per event" when an operation delivers 64).
    pub fn time(workload: String, unit: &'static str, samples: &[Samples; 3], per: f64) -> Row {
        Row {
            workload,
            unit: unit.into(),
            values: [0, 1, 2].map(|i| samples[i].median() * per),
            spread: samples.iter().map(Samples::spread).fold(0.0, f64::max),
            paired: Paired::of(&samples[0], &samples[1]),
        }
    }

    /// A row of rates: `count` things per operation, per second.
    pub fn rate(workload: String, unit: &'static str, samples: &[Samples; 3], count: f64) -> Row {
        Row {
            workload,
            unit: unit.into(),
            values: [0, 1, 2].map(|i| count * 1e9 / samples[i].median()),
            spread: samples.iter().map(Samples::spread).fold(0.0, f64::max),
            paired: Paired::of(&samples[0], &samples[1]),
        }
    }

    /// A row of rates from the fastest samples (see `Samples::best`).
    pub fn rate_best(
        workload: String,
        unit: &'static str,
        samples: &[Samples; 3],
        count: f64,
    ) -> Row {
        Row {
            values: [0, 1, 2].map(|i| count * 1e9 / samples[i].best()),
            ..Row::rate(workload, unit, samples, count)
        }
    }

    /// A row of exact values, measured once.
    pub fn exact(workload: String, unit: &'static str, values: [f64; 3]) -> Row {
        Row {
            workload,
            unit: unit.into(),
            values,
            spread: 0.0,
            paired: None,
        }
    }

    /// The rows of a `tokio.csv` that compat/tokio's driver wrote: columns
    /// `workload,unit,evmux,mio,floor,spread`, the floor empty.
    pub fn parse_tokio_csv(csv: &str) -> Vec<Row> {
        csv.lines()
            .skip(1)
            .filter_map(|line| {
                let (workload, rest) = line.strip_prefix('"')?.split_once("\",")?;
                let fields: Vec<&str> = rest.split(',').collect();
                let [unit, evmux, mio, _floor, spread] = fields[..] else {
                    return None;
                };
                Some(Row {
                    workload: workload.to_string(),
                    unit: unit.to_string(),
                    values: [evmux.parse().ok()?, mio.parse().ok()?, f64::NAN],
                    spread: spread.parse().ok()?,
                    paired: None,
                })
            })
            .collect()
    }

    /// evmux's cost relative to competitor `other` (1: mio, 2: floor): below
    /// 1 means evmux is cheaper, whether the unit is a time or a rate.
    pub fn cost_ratio(&self, other: usize) -> f64 {
        let [evmux, ..] = self.values;
        if self.unit.ends_with("/s") {
            self.values[other] / evmux
        } else {
            evmux / self.values[other]
        }
    }
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "–".into()
    } else if value >= 1000.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn format_paired(paired: Option<Paired>) -> String {
    paired.map_or_else(
        || "–".into(),
        |p| format!("{:.3} ({:.3}–{:.3})", p.median, p.low, p.high),
    )
}

fn format_ratio(ratio: f64) -> String {
    if ratio.is_nan() {
        "–".into()
    } else {
        format!("{ratio:.3}")
    }
}

/// The table, as Markdown so that it can go into the README as it is.
pub fn table(rows: &[Row], machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Machine: {machine}\n");
    let _ = writeln!(
        out,
        "| workload | unit | evmux | mio | floor | evmux/mio | paired (95% CI) | evmux/floor | spread |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1}% |",
            row.workload,
            row.unit,
            format_value(row.values[0]),
            format_value(row.values[1]),
            format_value(row.values[2]),
            format_ratio(row.cost_ratio(1)),
            format_paired(row.paired),
            format_ratio(row.cost_ratio(2)),
            row.spread * 100.0,
        );
    }
    let _ = writeln!(
        out,
        "\nRatios compare costs: below 1.000 evmux is cheaper, whatever the unit \
         (a time: lower is better; a `/s` rate: higher is better). evmux/mio: \
         the ratio of the two medians. Paired: the median of the per-round \
         ratios of evmux's cost to mio's (each round runs both back to back, \
         so drift between rounds cancels) with its 95% confidence interval. \
         Spread: the largest interquartile range of the three, relative to \
         its median."
    );
    out
}

pub fn write_csv(rows: &[Row], path: &Path) -> io::Result<()> {
    let mut csv = String::from("workload,unit,evmux,mio,floor,paired,paired_low,paired_high\n");
    for row in rows {
        let [evmux, mio, floor] = row.values;
        let floor = if floor.is_nan() {
            String::new()
        } else {
            format!("{floor:.3}")
        };
        let paired = row.paired.map_or_else(
            || ",,".to_string(),
            |p| format!("{:.4},{:.4},{:.4}", p.median, p.low, p.high),
        );
        let _ = writeln!(
            csv,
            "\"{}\",{},{evmux:.3},{mio:.3},{floor},{paired}",
            row.workload, row.unit
        );
    }
    fs::write(path, csv)
}

/// A horizontal bar chart of evmux/mio and evmux/floor per workload.
pub fn write_svg(rows: &[Row], machine: &str, path: &Path) -> io::Result<()> {
    const LABELS: f64 = 390.0;
    const WIDTH: f64 = 1060.0;
    const ROW: f64 = 38.0;
    const TOP: f64 = 70.0;
    let plot = WIDTH - LABELS - 60.0;
    let max = rows
        .iter()
        .flat_map(|row| [row.cost_ratio(1), row.cost_ratio(2)])
        .fold(1.25_f64, f64::max)
        .ceil_to(0.25);
    let x = |ratio: f64| LABELS + ratio / max * plot;
    let height = TOP + ROW * rows.len() as f64 + 50.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="22" font-size="16" font-weight="bold">evmux's cost relative to mio and to the raw-syscall floor (lower is better)</text>"#
    );
    let legend = [("#3b6fb6", "evmux / mio"), ("#e08a2c", "evmux / floor")];
    for (i, (color, label)) in legend.iter().enumerate() {
        let lx = LABELS + i as f64 * 150.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="34" width="14" height="14" fill="{color}"/>"#
        );
        let _ = writeln!(svg, r#"<text x="{}" y="46">{label}</text>"#, lx + 20.0);
    }
    for tick in 0..=((max / 0.25) as usize) {
        let ratio = tick as f64 * 0.25;
        let tx = x(ratio);
        let (stroke, dash) = if ratio == 1.0 {
            ("#222", "")
        } else {
            ("#ddd", r#" stroke-dasharray="3,3""#)
        };
        let bottom = TOP + ROW * rows.len() as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{tx}" y1="{}" x2="{tx}" y2="{bottom}" stroke="{stroke}"{dash}/>"#,
            TOP - 6.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{tx}" y="{}" text-anchor="middle">{ratio:.2}</text>"#,
            bottom + 16.0
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let label = escape(&format!("{} ({})", row.workload, row.unit));
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#,
            LABELS - 8.0,
            y + ROW / 2.0 + 4.0
        );
        for (j, (color, _)) in legend.iter().enumerate() {
            let ratio = row.cost_ratio(j + 1);
            if ratio.is_nan() {
                continue;
            }
            let by = y + 4.0 + j as f64 * 15.0;
            let width = x(ratio) - LABELS;
            let _ = writeln!(
                svg,
                r#"<rect x="{LABELS}" y="{by}" width="{width:.1}" height="13" fill="{color}"/>"#
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="11">{ratio:.3}</text>"#,
                x(ratio) + 4.0,
                by + 11.0
            );
        }
    }
    let _ = writeln!(
        svg,
        r##"<text x="10" y="{}" font-size="11" fill="#555">{}</text>"##,
        height - 10.0,
        escape(machine)
    );
    svg.push_str("</svg>\n");
    fs::write(path, svg)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

trait CeilTo {
    fn ceil_to(self, step: f64) -> f64;
}

impl CeilTo for f64 {
    fn ceil_to(self, step: f64) -> f64 {
        (self / step).ceil() * step
    }
}
