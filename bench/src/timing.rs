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
    /// Median over requests.
    pub median: f64,
    /// Mean over requests.
    pub mean: f64,
    /// 99th percentile over requests.
    pub p99: f64,
    /// Allocations per decision (mean over one pass).
    pub allocs: f64,
    /// Decisions timed.
    #[allow(dead_code)]
    pub decisions: usize,
}

/// Times `decide` over requests `0..n`, within about `budget`.
pub fn measure(n: usize, budget: Duration, mut decide: impl FnMut(usize) -> bool) -> Figures {
    // Warm up, and learn the cost of one pass.
    let start = Instant::now();
    for i in 0..n {
        black_box(decide(black_box(i)));
    }
    let pass = start.elapsed().as_secs_f64().max(1e-9);
    let per = pass / n.max(1) as f64;
    let batch = ((2e-6 / per).ceil() as usize).clamp(1, 32);
    let passes = ((budget.as_secs_f64() / (pass * batch as f64)) as usize).clamp(3, 15);
    let mut samples = vec![Vec::with_capacity(passes); n];
    for _ in 0..passes {
        for (i, s) in samples.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(decide(black_box(i)));
            }
            s.push(t.elapsed().as_nanos() as f64 / batch as f64);
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
    Figures {
        median: per_request[n / 2],
        mean: per_request.iter().sum::<f64>() / n as f64,
        p99: per_request[(n * 99 / 100).min(n - 1)],
        allocs,
        decisions: n * passes * batch,
    }
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
