//! The time grid of a trajectory's rows: how many steps and output intervals fit in
//! t_end, the exact decimal times of the rows ([`Clock`]), and times in messages.
//!
//! A leaf: the checker (which refuses a `dt_out` that is not a multiple of `dt`), the
//! integrators and the reports all use the same definitions.

/// How many steps of `dt` make `dt_out` when `dt_out` is a positive multiple of `dt`
/// (within 1e-9 relative); else multiples of dt near dt_out (for messages).
pub fn steps_per_row(dt: f64, dt_out: f64) -> Result<usize, String> {
    let r = dt_out / dt;
    let k = r.round();
    if (1.0..=crate::limits::MAX_STEPS).contains(&k) && (r - k).abs() <= 1e-9 * r {
        return Ok(k as usize);
    }
    let clock = Clock::new(dt);
    let below = r.floor();
    Err(if (1.0..crate::limits::MAX_STEPS).contains(&below) {
        let b = below as usize;
        format!("{} or {}", time(clock.at(b)), time(clock.at(b + 1)))
    } else if r < 1.0 {
        time(dt)
    } else {
        time(k * dt)
    })
}

/// The explanation of a dt_out that is not a multiple of dt under rk4 (or `variational`),
/// given the
/// nearby multiples of [`steps_per_row`].
pub fn output_interval_hint(variational: bool, near: &str) -> String {
    let name = if variational { "variational" } else { "rk4" };
    format!("{name} writes rows at the ends of its steps of dt; expected a multiple of dt such as {near} (or method = dopri5, whose rows come from its dense output)")
}

/// Number of intervals n of length dt in t_end (steps, or output intervals with dt_out
/// in place of dt): n = round(t_end/dt) when t_end/dt is within 1e-9 relative of an
/// integer, else its floor.
pub fn n_steps(t_end: f64, dt: f64) -> usize {
    let r = t_end / dt;
    if !r.is_finite() || r <= 0.0 {
        return 0;
    }
    let k = r.round();
    if (r - k).abs() <= 1e-9 * r.max(1.0) {
        k as usize
    } else {
        r.floor() as usize
    }
}

/// The times of a trajectory's rows: t_k is the double nearest to k times dt's shortest
/// decimal (m / 10^d), computed as (k*m) / 10^d, one correctly rounded division of exact
/// numbers, so that rows at dt = 0.1 fall at 0.3, not at 3*0.1 = 0.30000000000000004.
/// When k*m passes 2^53 (or dt has no short decimal) t_k = k*dt.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    dt: f64,
    /// `(m, 10^d)` with dt = m / 10^d, when d is in 1..=22 (10^d is then exact).
    decimal: Option<(u64, f64)>,
}

impl Clock {
    /// The clock of step `dt`.
    pub fn new(dt: f64) -> Clock {
        Clock {
            dt,
            decimal: decimal_parts(dt),
        }
    }

    /// The time of row `k`.
    pub fn at(&self, k: usize) -> f64 {
        match self.decimal {
            Some((m, scale)) => match (k as u64).checked_mul(m) {
                Some(km) if km < 1 << 53 => km as f64 / scale,
                _ => k as f64 * self.dt,
            },
            None => k as f64 * self.dt,
        }
    }
}

/// `(m, 10^d)` with `x = m / 10^d` in x's shortest decimal, when 1 <= d <= 22.
fn decimal_parts(x: f64) -> Option<(u64, f64)> {
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let d = frac.len() as i32 - exp;
    let m: u64 = format!("{int}{frac}").parse().ok()?;
    (1..=22)
        .contains(&d)
        .then(|| (m, format!("1e{d}").parse().unwrap_or(f64::NAN)))
}

/// A time for messages: 12 significant digits, so k*dt prints as `0.95`, not
/// `0.9500000000000001`.
pub fn time(t: f64) -> String {
    let s = format!("{t:.12e}");
    s.parse::<f64>().map_or(s, |x| x.to_string())
}
