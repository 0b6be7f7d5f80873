//! Axes with round tick values: the step is 1, 2, 2.5 or 5 times a power of ten and
//! every tick is a whole multiple of it.

/// One axis: the drawn range and the ticks inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Lower end of the drawn range.
    pub lo: f64,
    /// Upper end of the drawn range.
    pub hi: f64,
    /// Distance between ticks: 1, 2, 2.5 or 5 times a power of ten.
    pub step: f64,
    /// The ticks, ascending, whole multiples of `step` inside `lo..=hi`.
    pub ticks: Vec<f64>,
}

/// The round steps of one decade.
const MANTISSAS: [f64; 4] = [1.0, 2.0, 2.5, 5.0];

/// The range that is drawn for data in `lo..=hi`: the data widened by `pad` times its
/// span on each side. A single value (or an empty range) gets a range around it: +-1
/// about 0, otherwise +-10% of the value. Non-finite input gives -1..1.
pub fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (-1.0, 1.0);
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let span = hi - lo;
    let size = lo.abs().max(hi.abs());
    // A span at the rounding level of the values is no span.
    if span <= 1e-12 * size || span == 0.0 {
        let mid = 0.5 * (lo + hi);
        let half = if size == 0.0 { 1.0 } else { 0.1 * size };
        return (mid - half, mid + half);
    }
    let (a, b) = (lo - pad * span, hi + pad * span);
    // Near the ends of the doubles the padding (or the span) overflows: none then.
    if span.is_finite() && a.is_finite() && b.is_finite() {
        (a, b)
    } else {
        (lo, hi)
    }
}

/// The smallest round step that puts at most `max_ticks` ticks (at least 2) in `lo..=hi`.
pub fn nice_step(lo: f64, hi: f64, max_ticks: usize) -> f64 {
    if !(lo.is_finite() && hi.is_finite()) {
        return 1.0;
    }
    let max_ticks = max_ticks.max(2) as f64;
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    if !span.is_finite() {
        return 1e308;
    }
    // Start a decade below the step that would give max_ticks intervals.
    let mut exp = (span / max_ticks).log10().floor() as i32 - 1;
    loop {
        for m in MANTISSAS {
            let step = m * 10f64.powi(exp);
            if count(lo, hi, step) <= max_ticks {
                return step;
            }
        }
        exp += 1;
    }
}

fn count(lo: f64, hi: f64, step: f64) -> f64 {
    ((hi / step).floor() - (lo / step).ceil() + 1.0).max(0.0)
}

/// An axis over data in `lo..=hi`, widened by `pad` times the span on each side (see
/// [`padded`]), with at most `max_ticks` round ticks inside.
pub fn axis(lo: f64, hi: f64, pad: f64, max_ticks: usize) -> Axis {
    let (lo, hi) = padded(lo, hi, pad);
    let step = nice_step(lo, hi, max_ticks);
    Axis {
        lo,
        hi,
        step,
        ticks: ticks_in(lo, hi, step),
    }
}

/// The whole multiples of `step` in `lo..=hi` (each the multiple nearest to k*step).
pub fn ticks_in(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(step.is_finite() && step > 0.0 && (hi - lo) / step <= 1000.0) {
        return vec![];
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| clean(k as f64 * step))
        .filter(|v| *v >= lo - 1e-9 * step && *v <= hi + 1e-9 * step)
        .collect()
}

/// `v` without the floating-point noise of a product (0.30000000000000004 -> 0.3).
fn clean(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    format!("{v:.12e}").parse().unwrap_or(v)
}

/// How the tick labels of one axis are written: all with the same number of decimals,
/// or in scientific notation when the values are very large or very small.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Labels {
    /// Fixed notation with this many decimals.
    Fixed(usize),
    /// Scientific notation, shortest form (`2.5e-7`).
    Scientific,
}

impl Labels {
    /// The notation for the ticks of `axis`.
    pub fn for_axis(axis: &Axis) -> Labels {
        let big = axis.ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if big >= 1e5 || (big > 0.0 && big < 1e-3) {
            return Labels::Scientific;
        }
        Labels::Fixed(decimals(axis.step))
    }

    /// The label of tick `v`.
    pub fn format(self, v: f64) -> String {
        if v == 0.0 {
            return "0".into();
        }
        match self {
            Labels::Fixed(d) => {
                let s = format!("{v:.d$}");
                // No "-0.0" for a value that rounds to zero.
                if s.trim_start_matches('-')
                    .chars()
                    .all(|c| c == '0' || c == '.')
                {
                    "0".into()
                } else {
                    s
                }
            }
            Labels::Scientific => format!("{:e}", clean(v)),
        }
    }
}

/// The decimals needed to write multiples of `step` exactly (0.25 -> 2, 5 -> 0).
pub fn decimals(step: f64) -> usize {
    (0..16)
        .find(|&d| {
            let x = step * 10f64.powi(d as i32);
            (x - x.round()).abs() < 1e-6 * x.max(1.0)
        })
        .unwrap_or(16)
}

/// A label for a tick of an axis that holds log10 of a quantity: the quantity itself,
/// to 3 significant digits (`1e-3` for -3, `20` for log10(20), `3.16e-3` for -2.5);
/// plain from 0.01 to 10^4, scientific outside.
pub fn pow10_label(v: f64) -> String {
    let x: f64 = format!("{:.2e}", 10f64.powf(v)).parse().unwrap_or(f64::NAN);
    if (1e-2..1e4).contains(&x) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Ticks for an axis holding log10 of a quantity over `lo..=hi`: at 1, 2 and 5 times
/// each power of ten over at most two decades, at each power of ten over more, at most
/// `max_ticks`; `None` when the range spans less than a factor of 3 (round steps of
/// the logarithm do then).
pub fn log_ticks(lo: f64, hi: f64, max_ticks: usize) -> Option<Vec<f64>> {
    if !(lo.is_finite() && hi.is_finite()) || hi - lo < 0.5 {
        return None;
    }
    let (d0, d1) = (lo.floor() as i64, hi.ceil() as i64);
    let within = |v: &f64| *v >= lo && *v <= hi;
    if hi - lo <= 2.0 {
        let t: Vec<f64> = (d0..=d1)
            .flat_map(|d| [1.0f64, 2.0, 5.0].map(|m| d as f64 + m.log10()))
            .filter(within)
            .collect();
        if t.len() >= 2 && t.len() <= max_ticks {
            return Some(t);
        }
    }
    let step = [1i64, 2, 5, 10, 20, 50, 100]
        .into_iter()
        .find(|&st| ((d1 - d0) / st + 1) as usize <= max_ticks)
        .unwrap_or(1000);
    Some(
        (d0..=d1)
            .filter(|d| d.rem_euclid(step) == 0)
            .map(|d| d as f64)
            .filter(within)
            .collect(),
    )
}
