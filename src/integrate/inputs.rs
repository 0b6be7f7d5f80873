//! Measured inputs as signals of time: samples (t_k, u_k) interpolated linearly.
//!
//! A system's `input u;` is a kernel input slot after its `learn` params; before each
//! evaluation at time t the integrator's [`super::System`] writes u(t) there. Between
//! rows u is the straight line through the neighbouring samples; at a row it is that
//! row's value exactly (the interpolation weight of the other end is zero). Outside the
//! rows the signal is held at the first or last value (the caller checks that the rows
//! cover the run, [`Signals::check_range`]).

/// Sampled signals on one increasing time grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Signals {
    names: Vec<String>,
    t: Vec<f64>,
    /// One column per signal, `t.len()` values each.
    values: Vec<Vec<f64>>,
}

impl Signals {
    /// Signals `names` sampled at the times `t` (`values[k]` is signal k's column).
    /// Errors (one sentence) unless t has at least one row, every value is finite and t
    /// increases strictly.
    pub fn new(names: Vec<String>, t: Vec<f64>, values: Vec<Vec<f64>>) -> Result<Signals, String> {
        if t.is_empty() {
            return Err("the inputs have no rows".into());
        }
        if values.len() != names.len() || values.iter().any(|c| c.len() != t.len()) {
            return Err("internal: input columns of different lengths".into());
        }
        for (k, w) in t.windows(2).enumerate() {
            if w[1] <= w[0] {
                return Err(format!(
                    "t does not increase at row {} (t = {} after {}): expected strictly increasing times",
                    k + 2,
                    w[1],
                    w[0]
                ));
            }
        }
        for (name, col) in
            std::iter::once(("t".to_string(), &t)).chain(names.iter().cloned().zip(&values))
        {
            if let Some(k) = col.iter().position(|v| !v.is_finite()) {
                return Err(format!(
                    "row {}, column {name:?}: {} is not a finite number",
                    k + 1,
                    col[k]
                ));
            }
        }
        Ok(Signals { names, t, values })
    }

    /// The signals' names, in slot order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The signals `names`, in that order (an error naming those missing).
    pub fn select(&self, names: &[String]) -> Result<Signals, String> {
        let missing: Vec<&str> = names
            .iter()
            .filter(|n| !self.names.contains(n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the inputs lack {} (they have {})",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if self.names.is_empty() {
                    "none".to_string()
                } else {
                    self.names
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
        }
        let values = names
            .iter()
            .map(|n| {
                let k = self.names.iter().position(|m| m == n).unwrap_or(0);
                self.values[k].clone()
            })
            .collect();
        Ok(Signals {
            names: names.to_vec(),
            t: self.t.clone(),
            values,
        })
    }

    /// The first and last sample times.
    pub fn range(&self) -> (f64, f64) {
        (self.t[0], self.t[self.t.len() - 1])
    }

    /// An error (one sentence) unless the samples cover [0, t_end].
    pub fn check_range(&self, t_end: f64) -> Result<(), String> {
        let (a, b) = self.range();
        if a > 0.0 || b < t_end {
            return Err(format!(
                "the inputs' t runs from {a} to {b}, which does not cover the run from 0 to t_end = {t_end}"
            ));
        }
        Ok(())
    }

    /// Writes every signal's value at time `t` into `out` (one per signal).
    pub fn at(&self, t: f64, out: &mut [f64]) {
        let ts = &self.t;
        let last = ts.len() - 1;
        // The segment [t_k, t_k+1] holding t (k = last: at or after the end).
        let k = match ts.partition_point(|&x| x <= t) {
            0 => {
                for (o, c) in out.iter_mut().zip(&self.values) {
                    *o = c[0];
                }
                return;
            }
            p => p - 1,
        };
        if k >= last {
            for (o, c) in out.iter_mut().zip(&self.values) {
                *o = c[last];
            }
            return;
        }
        let w = (t - ts[k]) / (ts[k + 1] - ts[k]);
        for (o, c) in out.iter_mut().zip(&self.values) {
            *o = if w == 0.0 {
                c[k]
            } else {
                c[k] + w * (c[k + 1] - c[k])
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> Signals {
        Signals::new(
            vec!["u".into(), "v".into()],
            vec![0.0, 0.1, 0.3, 0.7],
            vec![vec![1.0, -2.0, 0.5, 3.25], vec![0.1, 0.2, 0.3, 0.4]],
        )
        .unwrap()
    }

    #[test]
    fn exact_at_rows_and_linear_between() {
        let s = sig();
        let mut out = [0.0; 2];
        for (k, &t) in [0.0, 0.1, 0.3, 0.7].iter().enumerate() {
            s.at(t, &mut out);
            assert_eq!(out[0], [1.0, -2.0, 0.5, 3.25][k], "row {k}");
            assert_eq!(out[1], [0.1, 0.2, 0.3, 0.4][k], "row {k}");
        }
        s.at(0.2, &mut out);
        assert!((out[0] - (-0.75)).abs() < 1e-15, "{}", out[0]);
        assert!((out[1] - 0.25).abs() < 1e-15);
        s.at(0.05, &mut out);
        assert!((out[0] - (-0.5)).abs() < 1e-15);
        s.at(0.6, &mut out);
        assert!((out[0] - (0.5 + 0.75 * 2.75)).abs() < 1e-14);
        // Held outside the rows.
        s.at(-1.0, &mut out);
        assert_eq!(out, [1.0, 0.1]);
        s.at(9.0, &mut out);
        assert_eq!(out, [3.25, 0.4]);
    }

    #[test]
    fn refuses_bad_grids() {
        let e =
            Signals::new(vec!["u".into()], vec![0.0, 0.2, 0.2], vec![vec![0.0; 3]]).unwrap_err();
        assert!(e.contains("does not increase at row 3"), "{e}");
        let e =
            Signals::new(vec!["u".into()], vec![0.0, 1.0], vec![vec![0.0, f64::NAN]]).unwrap_err();
        assert!(e.contains("not a finite number"), "{e}");
        let s = sig();
        assert!(s.check_range(0.7).is_ok());
        assert!(s.check_range(0.71).unwrap_err().contains("does not cover"));
    }
}
