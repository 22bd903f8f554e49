//! The measuring harness: every workload runs on evmux, mio and the
//! raw-syscall floor in the same process, in rounds that rotate the order
//! of the three, so that drift of the machine (frequency, other load) hits
//! all of them alike. Each sample times a calibrated batch of operations;
//! results are medians over the samples, with their spread.
//!
//! With `Config::fresh`, each round builds the three anew (after dropping
//! the last ones) and warms them up: what one instance happens to get
//! (where its memory and kernel objects land, its helper thread) then
//! varies from round to round and shows in the paired interval, instead of
//! biasing a whole run one way. On the benchmark VM the cross-core wake
//! moved by ±10% between runs with instances kept, for the floor as much
//! as for evmux.

use std::time::{Duration, Instant};

/// One competitor's implementation of a workload.
pub trait Bench {
    /// Performs `iters` operations and returns the time they took, which
    /// may leave out per-operation set-up that is not being measured.
    fn run(&mut self, iters: u64) -> Duration;
}

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Rounds; each takes one sample of every competitor.
    pub rounds: usize,
    /// The time one sample aims for.
    pub sample: Duration,
    /// Build the competitors anew for every round (see the module docs).
    pub fresh: bool,
}

impl Config {
    pub const FULL: Config = Config {
        rounds: 31,
        sample: Duration::from_millis(40),
        fresh: false,
    };
    /// Many short samples, for rows reported by their fastest sample.
    pub const MANY_SHORT: Config = Config {
        rounds: 61,
        sample: Duration::from_millis(10),
        fresh: false,
    };
    pub const QUICK: Config = Config {
        rounds: 5,
        sample: Duration::from_millis(8),
        fresh: false,
    };
}

/// The samples of one competitor, in nanoseconds per operation.
#[derive(Clone, Debug, Default)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    fn sorted(&self) -> Vec<f64> {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
    }

    fn quantile(sorted: &[f64], q: f64) -> f64 {
        let position = q * (sorted.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
    }

    pub fn median(&self) -> f64 {
        Samples::quantile(&self.sorted(), 0.5)
    }

    /// The fastest sample: what an operation costs when nothing else
    /// takes the processor, the robust figure on a loaded machine.
    pub fn best(&self) -> f64 {
        self.0.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The interquartile range relative to the median: the noise of this
    /// measurement.
    pub fn spread(&self) -> f64 {
        let sorted = self.sorted();
        let median = Samples::quantile(&sorted, 0.5);
        (Samples::quantile(&sorted, 0.75) - Samples::quantile(&sorted, 0.25)) / median
    }
}

/// A ratio of costs, paired by round: the median of the per-round ratios
/// and a 95% confidence interval for it. Both competitors of a round ran
/// back to back, so drift of the machine between rounds cancels out.
#[derive(Clone, Copy, Debug)]
pub struct Paired {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

impl Paired {
    /// `a`'s cost over `b`'s, round by round (the samples are times per
    /// operation, so this is a cost ratio whatever unit a row reports).
    /// `None` with fewer rounds than a 95% interval needs (6).
    pub fn of(a: &Samples, b: &Samples) -> Option<Paired> {
        let mut ratios: Vec<f64> = a.0.iter().zip(&b.0).map(|(a, b)| a / b).collect();
        ratios.sort_by(f64::total_cmp);
        let k = median_interval_rank(ratios.len())?;
        Some(Paired {
            median: Samples::quantile(&ratios, 0.5),
            low: ratios[k],
            high: ratios[ratios.len() - 1 - k],
        })
    }
}

/// The distribution-free 95% interval for a median of `n` samples: the
/// largest `k` such that the `k`-th smallest and the `k`-th largest
/// (0-based) enclose the median with probability at least 95%, that is
/// P(Binomial(n, 1/2) <= k) <= 2.5%. `None` when even the extremes do
/// not (n < 6).
fn median_interval_rank(n: usize) -> Option<usize> {
    // P(X <= j) for X ~ Binomial(n, 1/2), accumulated term by term in
    // floating point (n is at most a few hundred rounds).
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

/// Finds how many operations fill one sample, warming the competitor up.
fn calibrate(bench: &mut dyn Bench, target: Duration) -> u64 {
    let mut iters = 1u64;
    loop {
        let elapsed = bench.run(iters);
        if elapsed >= target / 4 || iters >= 1 << 30 {
            let per_op = elapsed.as_secs_f64() / iters as f64;
            return ((target.as_secs_f64() / per_op.max(1e-9)) as u64).max(1);
        }
        iters *= 2;
    }
}

/// Measures the three competitors `make` builds, `[evmux, mio, floor]`,
/// alternating.
pub fn measure(make: &dyn Fn() -> [Box<dyn Bench>; 3], config: Config) -> [Samples; 3] {
    let mut benches = Some(make());
    let iters: Vec<u64> = benches
        .iter_mut()
        .flatten()
        .map(|bench| calibrate(&mut **bench, config.sample))
        .collect();
    let mut samples: [Samples; 3] = Default::default();
    for round in 0..config.rounds {
        if config.fresh && round > 0 {
            // The old ones go first: a workload may hold thousands of
            // descriptors.
            drop(benches.take());
            let mut new = make();
            for (bench, &iters) in new.iter_mut().zip(&iters) {
                bench.run((iters / 8).max(1));
            }
            benches = Some(new);
        }
        let current = benches.as_mut().expect("built above");
        for offset in 0..3 {
            let which = (round + offset) % 3;
            let start = Instant::now();
            let elapsed = current[which].run(iters[which]);
            debug_assert!(start.elapsed() >= elapsed);
            samples[which]
                .0
                .push(elapsed.as_nanos() as f64 / iters[which] as f64);
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_interval_ranks_match_the_binomial_tables() {
        // Published values: n = 6 -> the extremes; n = 31 -> 10th and
        // 22nd (1-based); n = 61 -> 23rd and 39th; n = 5 -> none.
        assert_eq!(median_interval_rank(5), None);
        assert_eq!(median_interval_rank(6), Some(0));
        assert_eq!(median_interval_rank(31), Some(9));
        assert_eq!(median_interval_rank(61), Some(22));
    }

    #[test]
    fn paired_ratios_cancel_drift_between_rounds() {
        // The machine slows down tenfold over the rounds; evmux is always
        // 2% dearer than mio in the same round.
        let mio: Vec<f64> = (1..=31).map(|r| r as f64 * 10.0).collect();
        let evmux = mio.iter().map(|m| m * 1.02).collect();
        let paired = Paired::of(&Samples(evmux), &Samples(mio)).unwrap();
        for value in [paired.median, paired.low, paired.high] {
            assert!((value - 1.02).abs() < 1e-9, "{paired:?}");
        }
    }

    #[test]
    fn median_and_spread() {
        let samples = Samples(vec![4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!(samples.median(), 3.0);
        assert!((samples.spread() - 2.0 / 3.0).abs() < 1e-9);
    }
}
