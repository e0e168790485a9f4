//! Timing: a warm-up pass, then as many passes as fill the minimum sample time; medians
//! across runs.

use std::time::{Duration, Instant};

/// Seconds per pass of `pass`, measured over at least `min` after one warm-up pass.
pub(crate) fn seconds_per_pass(min: Duration, mut pass: impl FnMut()) -> f64 {
    let start = Instant::now();
    pass();
    let warm = start.elapsed().as_secs_f64().max(1e-9);
    let iters = (min.as_secs_f64() / warm).ceil().clamp(1.0, 1e6) as u32;
    let start = Instant::now();
    for _ in 0..iters {
        pass();
    }
    start.elapsed().as_secs_f64() / f64::from(iters)
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The smallest and largest of `values`, ignoring NaN.
pub(crate) fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .copied()
        .filter(|x| !x.is_nan())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        })
}
