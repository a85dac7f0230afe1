//! Timing and allocation counting.
//!
//! Every request of the workload is decided `batch` times in a row under
//! one clock reading (so the clock's own cost is spread thin), in `passes`
//! passes over the whole workload; a request's time is the median of its
//! passes. The figures are then taken over the requests: median, mean and
//! 99th percentile per decision.

use std::hint::black_box;
use std::time::{Duration, Instant};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

/// The counting allocator (the binary's global allocator).
#[global_allocator]
pub static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Per-decision figures over a workload, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Median over requests of the warm time (a request decided again
    /// right after itself, as criterion and Cedar's own benchmarks do).
    pub median: f64,
    /// 99th percentile over requests of the warm time.
    pub p99: f64,
    /// The workload's mean: one pass over every request in order, each
    /// decided once (cold caches), divided by the number of requests;
    /// median over passes.
    pub mean: f64,
    /// Allocations per decision (mean over one pass).
    pub allocs: f64,
    /// Every `stride`-th request was timed warm.
    pub stride: usize,
}

/// Decisions per timed batch: enough to spread the clock's cost.
const BATCH: usize = 8;

/// Times `decide` over requests `0..n`, within about `budget`.
pub fn measure(n: usize, budget: Duration, mut decide: impl FnMut(usize) -> bool) -> Figures {
    let mut pass = || {
        let start = Instant::now();
        for i in 0..n {
            black_box(decide(black_box(i)));
        }
        start.elapsed().as_secs_f64()
    };
    pass();
    let one = pass();
    let mean = one * 1e9 / n.max(1) as f64;
    // A slow engine is timed warm on every `stride`-th request only, the
    // same subset for every engine that needs it, at least 3 passes.
    let warm = one * (BATCH + 1) as f64;
    let stride = ((warm * 3.0 / budget.as_secs_f64()).ceil() as usize).max(1);
    let passes = ((budget.as_secs_f64() * stride as f64 / warm) as usize).clamp(3, 15);
    let timed: Vec<usize> = (0..n).step_by(stride).collect();
    let mut samples = vec![Vec::with_capacity(passes); timed.len()];
    for _ in 0..passes {
        for (&i, s) in timed.iter().zip(samples.iter_mut()) {
            black_box(decide(black_box(i)));
            let t = Instant::now();
            for _ in 0..BATCH {
                black_box(decide(black_box(i)));
            }
            s.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
        }
    }
    let mut per_request: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    per_request.sort_by(f64::total_cmp);
    let region = Region::new(GLOBAL);
    for i in 0..n {
        black_box(decide(black_box(i)));
    }
    let allocs = region.change().allocations as f64 / n.max(1) as f64;
    let m = per_request.len();
    Figures { median: per_request[m / 2], p99: per_request[(m * 99 / 100).min(m - 1)], mean, allocs, stride }
}

/// The median wall time of `runs` runs of `f`.
pub fn median_time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
