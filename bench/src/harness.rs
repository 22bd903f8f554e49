//! The measuring harness: every workload runs on evmux, mio and the
//! raw-syscall floor in the same process, in rounds that rotate the order
//! of the three, so that drift of the machine (frequency, other load) hits
//! all of them alike. Each sample times a calibrated batch of operations;
//! results are medians over the samples, with their spread.

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
}

impl Config {
    pub const FULL: Config = Config {
        rounds: 31,
        sample: Duration::from_millis(40),
    };
    /// Many short samples, for rows reported by their fastest sample.
    pub const MANY_SHORT: Config = Config {
        rounds: 61,
        sample: Duration::from_millis(10),
    };
    pub const QUICK: Config = Config {
        rounds: 5,
        sample: Duration::from_millis(8),
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

/// Measures the three competitors, `[evmux, mio, floor]`, alternating.
pub fn measure(benches: [&mut dyn Bench; 3], config: Config) -> [Samples; 3] {
    let mut benches = benches;
    let iters: Vec<u64> = benches
        .iter_mut()
        .map(|bench| calibrate(*bench, config.sample))
        .collect();
    let mut samples: [Samples; 3] = Default::default();
    for round in 0..config.rounds {
        for offset in 0..3 {
            let which = (round + offset) % 3;
            let start = Instant::now();
            let elapsed = benches[which].run(iters[which]);
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
    fn median_and_spread() {
        let samples = Samples(vec![4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!(samples.median(), 3.0);
        assert!((samples.spread() - 2.0 / 3.0).abs() < 1e-9);
    }
}
