//! The run summary printed after each simulate block, and the energy-error measure.
//!
//! The relative energy error of a trajectory at time t is |E(t) - E(0)| / |E(0)|; when
//! E(0) = 0 it is the absolute error |E(t)| instead (and the summary says so).

use std::fmt;
use std::time::Duration;

/// The energy error of `e` against the initial energy `e0`: relative, or absolute when
/// `e0` is zero. Signed (E - E0 over |E0|) so plots show drift direction.
pub fn energy_error(e: f64, e0: f64) -> f64 {
    if e0 != 0.0 {
        (e - e0) / e0.abs()
    } else {
        e - e0
    }
}

/// Largest absolute energy error over one trajectory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EnergyTracker {
    e0: Option<f64>,
    max: f64,
    absolute: bool,
    non_finite: bool,
}

impl EnergyTracker {
    /// A tracker that has seen no energy yet.
    pub fn new() -> EnergyTracker {
        EnergyTracker::default()
    }

    /// Records the energy of the next row (the first one is the reference).
    pub fn push(&mut self, e: f64) {
        match self.e0 {
            None => {
                self.e0 = Some(e);
                self.absolute = e == 0.0;
                self.non_finite = !e.is_finite();
            }
            Some(e0) => {
                let err = energy_error(e, e0).abs();
                if err.is_finite() {
                    self.max = self.max.max(err);
                } else {
                    self.non_finite = true;
                }
            }
        }
    }

    /// The initial energy, if any row was seen.
    pub fn initial(&self) -> Option<f64> {
        self.e0
    }

    /// The largest error, or `None` when the energy is undefined (NaN, as for `accel`
    /// systems) or non-finite somewhere.
    pub fn max_error(&self) -> Option<f64> {
        (self.e0.is_some() && !self.non_finite).then_some(self.max)
    }

    /// True when errors are absolute because E(0) = 0.
    pub fn is_absolute(&self) -> bool {
        self.absolute
    }
}

/// What one simulate block did, for the report on stdout.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSummary {
    /// The system's name.
    pub system: String,
    /// The method's name.
    pub method: String,
    /// Trajectories run (1 unless many initial conditions).
    pub runs: usize,
    /// Rows written.
    pub rows: usize,
    /// Accepted steps over all runs.
    pub steps: usize,
    /// Rejected steps (dopri5).
    pub rejected: usize,
    /// Events that fired over all runs (each wrote a row).
    pub events: usize,
    /// Wall time of the integration.
    pub wall: Duration,
    /// Energy error per run.
    pub energy: Vec<EnergyTracker>,
    /// False when forces, dissipation, events or explicit time dependence act: the energy then
    /// changes physically, and its change is reported as such, not as an error.
    pub conserved: bool,
    /// Truth energy error per run (with `compare`).
    pub truth: Option<(String, Vec<EnergyTracker>)>,
    /// Where the rows went.
    pub out: Option<String>,
    /// The plot file, if any.
    pub plot: Option<String>,
}

fn errors(label: &str, trackers: &[EnergyTracker], what: &str) -> String {
    let errs: Option<Vec<f64>> = trackers.iter().map(EnergyTracker::max_error).collect();
    let kind = if trackers.iter().any(EnergyTracker::is_absolute) {
        "absolute"
    } else {
        "relative"
    };
    match errs {
        Some(e) if e.is_empty() => format!("{label}: none"),
        Some(e) if e.len() == 1 => format!("max {kind} {label} {what} {:.3e}", e[0]),
        Some(e) => {
            let mean = e.iter().sum::<f64>() / e.len() as f64;
            let max = e.iter().copied().fold(0.0, f64::max);
            format!("max {kind} {label} {what} over runs: mean {mean:.3e}, max {max:.3e}")
        }
        None => format!("{label} {what}: n/a (energy undefined or non-finite)"),
    }
}

impl fmt::Display for BlockSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.wall.as_secs_f64();
        let rate = if secs > 0.0 {
            self.steps as f64 / secs
        } else {
            f64::INFINITY
        };
        write!(f, "simulate {} ({}): ", self.system, self.method)?;
        if self.runs != 1 {
            write!(f, "{} runs, ", self.runs)?;
        }
        write!(f, "{} steps", self.steps)?;
        if self.rejected > 0 {
            write!(f, " (+{} rejected)", self.rejected)?;
        }
        if self.events > 0 {
            write!(
                f,
                ", {} event{}",
                self.events,
                if self.events == 1 { "" } else { "s" }
            )?;
        }
        write!(
            f,
            ", {} rows in {}, {:.3e} steps/s; {}",
            self.rows,
            human(self.wall),
            rate,
            if self.conserved {
                errors("energy", &self.energy, "error")
            } else {
                errors(
                    "energy",
                    &self.energy,
                    "change (not conserved: forces, time dependence or events act)",
                )
            }
        )?;
        if let Some((name, t)) = &self.truth {
            write!(f, "; {}", errors(&format!("{name} energy"), t, "error"))?;
        }
        if let Some(o) = &self.out {
            write!(f, " -> {o}")?;
        }
        if let Some(p) = &self.plot {
            write!(f, ", {p}")?;
        }
        Ok(())
    }
}

/// `12.3 ms`, `4.56 s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1e-3 {
        format!("{:.1} us", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_relative_and_absolute() {
        let mut t = EnergyTracker::new();
        for e in [2.0, 2.002, 1.999] {
            t.push(e);
        }
        assert!((t.max_error().unwrap() - 1e-3).abs() < 1e-12);
        let mut z = EnergyTracker::new();
        z.push(0.0);
        z.push(-0.5);
        assert!(z.is_absolute());
        assert_eq!(z.max_error(), Some(0.5));
        let mut a = EnergyTracker::new();
        a.push(f64::NAN);
        a.push(f64::NAN);
        assert_eq!(a.max_error(), None);
    }
}
