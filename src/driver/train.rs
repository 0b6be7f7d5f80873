//! Training on arrays, and sampled training data.
//!
//! The trainer is `lagc train`'s ([`crate::train::Trainer`]): the same split, batches,
//! adjoints and Adam, so the same data, seed and settings give the same numbers.

use super::system::System;
use super::Error;
use crate::check::{
    Assign, CExpr, Dynamics, Loss, Momenta, Random, SampleSpec, Source, TrainSettings,
};
use crate::diagnostics::Span;
use crate::train::nets::NnNets;
use crate::train::{data::Dataset, TrainNets, Trainer};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use std::sync::Arc;

/// Settings of one training run (the defaults of a `train` block).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Optimiser steps.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Learning-rate decay over the whole run.
    pub lr_decay: f64,
    /// `mse` or `l1`.
    pub loss: Loss,
    /// Seed of the split and batches (and of the initial weights when `reinit`).
    pub seed: u64,
    /// Validation fraction.
    pub val: f64,
    /// Tikhonov term added to H before the solve.
    pub reg: f64,
    /// Start the nets from their seeded initial weights for `seed` (as `lagc train`
    /// does) rather than from the system's current weights.
    pub reinit: bool,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            steps: 1000,
            batch: 32,
            lr: 1e-3,
            lr_decay: 1.0,
            loss: Loss::Mse,
            seed: 0,
            val: 0.1,
            reg: 0.0,
            reinit: false,
        }
    }
}

/// The losses of a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainResult {
    /// The batch loss of every step.
    pub loss: Vec<f64>,
    /// Steps at which the validation loss was recorded (the loss curve's points).
    pub val_step: Vec<usize>,
    /// The validation loss at those steps (NaN without validation rows).
    pub val_loss: Vec<f64>,
    /// The validation loss over every validation row after the last step.
    pub final_val_loss: f64,
    /// Steps skipped because their gradient was not finite.
    pub skipped_steps: usize,
}

impl TrainOptions {
    fn settings(&self) -> Result<TrainSettings, Error> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if self.steps == 0 || self.batch == 0 {
            return Err(Error::usage("steps and batch must be at least 1"));
        }
        if !positive(self.lr) || !positive(self.lr_decay) {
            return Err(Error::usage("lr and lr_decay must be finite numbers > 0"));
        }
        if !(0.0..1.0).contains(&self.val) {
            return Err(Error::usage("val must be a fraction in [0, 1)"));
        }
        if !(self.reg.is_finite() && self.reg >= 0.0) {
            return Err(Error::usage("reg must be a finite number >= 0"));
        }
        Ok(TrainSettings {
            data: Source::Values(vec![]),
            steps: self.steps,
            batch: self.batch,
            lr: self.lr,
            lr_decay: self.lr_decay,
            seed: self.seed,
            val: self.val,
            loss: self.loss,
            reg: self.reg,
            momenta: Momenta::Canonical,
            checkpoint: None,
            save: None,
            weights: None,
        })
    }
}

impl System {
    /// Number of targets per state: dof (q'') for L and accel systems, 2 dof ((q', p'))
    /// for H systems.
    pub fn n_targets(&self) -> usize {
        if self.is_hamiltonian() {
            2 * self.dof()
        } else {
            self.dof()
        }
    }

    /// Fits the nets and `learn` params to `targets` at `states` (at times `t`, else
    /// 0); the trained values replace the system's. `stop` is polled between steps
    /// (then the values so far are kept and the result covers the steps done).
    pub fn train(
        &mut self,
        states: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        t: Option<ArrayView1<f64>>,
        opts: &TrainOptions,
        stop: &dyn Fn() -> bool,
    ) -> Result<TrainResult, Error> {
        let settings = opts.settings()?;
        let data = self.dataset(states, targets, t)?;
        let sys = self.checked().clone();
        let nets: Option<Arc<dyn TrainNets>> = (!sys.nets.is_empty()).then(|| {
            let n = NnNets::init(&sys, opts.seed);
            if !opts.reinit {
                if let Ok((_, flat)) = crate::train::initial_from(&sys, Some(&n), &self.weights()) {
                    n.set_params(&flat);
                }
            }
            Arc::new(n) as Arc<dyn TrainNets>
        });
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let fail =
            |e: crate::train::TrainError| Error::runtime(format!("train `{}`: {e}", sys.name));
        let mut tr = Trainer::new(
            &sys,
            &settings,
            &data,
            nets,
            self.learn_values(),
            self.backend(),
            threads,
        )
        .map_err(fail)?;
        let mut loss = Vec::with_capacity(settings.steps);
        while !tr.done() && !stop() {
            loss.push(tr.step().map_err(fail)?.loss);
        }
        let final_val_loss = tr.val_loss_full().map_err(fail)?;
        if let Some(why) = tr.divergence(final_val_loss) {
            return Err(Error::runtime(format!(
                "train `{}` diverged: {why}; the system's weights are unchanged",
                sys.name
            )));
        }
        self.set_weights(&tr.weights())?;
        let curve = &tr.state.curve;
        Ok(TrainResult {
            loss,
            val_step: curve.iter().map(|p| p.step).collect(),
            val_loss: curve.iter().map(|p| p.val_loss).collect(),
            final_val_loss,
            skipped_steps: tr.state.skipped_steps,
        })
    }

    fn dataset(
        &self,
        states: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        t: Option<ArrayView1<f64>>,
    ) -> Result<Dataset, Error> {
        let (n, w) = states.dim();
        let nt = self.n_targets();
        if w != 2 * self.dof() || targets.dim() != (n, nt) {
            return Err(Error::usage(format!(
                "training data of system `{}`: states must be (n, {}) and targets (n, {nt}); got {:?} and {:?}",
                self.name(),
                2 * self.dof(),
                states.dim(),
                targets.dim()
            )));
        }
        if t.as_ref().is_some_and(|t| t.len() != n) {
            return Err(Error::usage(format!(
                "t has {} values for {n} states",
                t.map_or(0, |t| t.len())
            )));
        }
        let mut inputs = Vec::with_capacity(n * (w + 1));
        for (i, row) in states.outer_iter().enumerate() {
            inputs.extend(row.iter());
            inputs.push(t.as_ref().map_or(0.0, |t| t[i]));
        }
        Ok(Dataset {
            n_in: w + 1,
            params: vec![],
            n_out: nt,
            inputs,
            targets: targets.iter().copied().collect(),
        })
    }

    /// Draws `n` states with `seed` (variables not in `ranges` are 0; `t` may be
    /// drawn too) and evaluates this system there: (states n x 2 dof, targets, t).
    /// `ranges` maps a state variable (`theta`, `theta'`, `p`) or `t` to a
    /// distribution, as `sample(...)` in a `.lag` file draws it.
    pub fn sample(&self, n: usize, seed: u64, ranges: &[(String, Draw)]) -> Result<Sampled, Error> {
        let spec = self.sample_spec(n, seed, ranges)?;
        let drawn =
            crate::sample::draw(&spec, self.checked()).map_err(|d| Error::usage(d.message))?;
        let n2 = 2 * self.dof();
        let t_col = drawn.column("t");
        let mut states = Array2::zeros((drawn.rows.len(), n2));
        let mut t = Array1::zeros(drawn.rows.len());
        for (i, row) in drawn.rows.iter().enumerate() {
            for j in 0..n2 {
                states[[i, j]] = row[j];
            }
            t[i] = t_col.map_or(0.0, |c| row[c]);
        }
        let (out, _) = self.eval(states.view(), super::system::Times::Each(t.to_vec()))?;
        let targets = out.slice_move(ndarray::s![.., ..self.n_targets()]);
        Ok(Sampled { states, targets, t })
    }

    fn sample_spec(
        &self,
        n: usize,
        seed: u64,
        ranges: &[(String, Draw)],
    ) -> Result<SampleSpec, Error> {
        let sys = self.checked();
        let is_h = matches!(sys.dynamics, Dynamics::Hamiltonian(_));
        let mut assigns = vec![];
        for (name, draw) in ranges {
            let (base, primes) = match name.strip_suffix('\'') {
                Some(b) => (b.to_string(), 1),
                None => (name.clone(), 0),
            };
            let known = name == "t"
                || sys
                    .coords
                    .iter()
                    .any(|c| c.name == base && !(is_h && primes > 0))
                || (is_h && sys.momenta.contains(name));
            if !known {
                return Err(Error::unknown(format!(
                    "`{name}` is not a state variable of `{}` or `t` (its states: {})",
                    sys.name,
                    self.state_names().join(", ")
                )));
            }
            let num = |x: f64| Box::new(CExpr::Num(x));
            let value = match *draw {
                Draw::Value(x) => CExpr::Num(x),
                Draw::Uniform(a, b) => CExpr::Random(Random::Uniform, num(a), num(b)),
                Draw::Normal(m, s) => CExpr::Random(Random::Normal, num(m), num(s)),
            };
            assigns.push(Assign {
                name: base,
                primes,
                element: None,
                value,
                span: Span::new(0, 0),
            });
        }
        Ok(SampleSpec {
            truth: None,
            n,
            seed,
            assigns,
        })
    }
}

/// How one variable is drawn by [`System::sample`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Draw {
    /// A fixed value.
    Value(f64),
    /// uniform(a, b).
    Uniform(f64, f64),
    /// normal(mu, sigma).
    Normal(f64, f64),
}

/// Sampled states, their targets and times ([`System::sample`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// n x 2 dof.
    pub states: Array2<f64>,
    /// n x targets.
    pub targets: Array2<f64>,
    /// n.
    pub t: Array1<f64>,
}
