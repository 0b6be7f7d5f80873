//! train stage: fitting net weights and `learn` params to data.
//!
//! [`data`] makes the rows (sampled from a truth system, or read from CSV), [`adjoint`]
//! builds the forward and gradient kernels, [`loss`] and [`adam`] are the objective and
//! the optimiser, [`checkpoint`] saves and restores runs. [`Trainer`] ties them
//! together: one [`Trainer::step`] draws a seeded minibatch, evaluates it in fixed chunks
//! spread over the worker threads, sums the chunks in chunk order (so results never
//! depend on thread timing or on the number of threads) and applies one Adam update.
//!
//! Within a chunk, each kernel runs once over all the chunk's samples
//! ([`Backend::eval_batch`]: the JIT hands every net call of the chunk to the net
//! evaluator at once) and each net call's reverse pass takes the whole chunk too, so
//! the dense layers are matrix-matrix products.
//!
//! Nets are reached through the [`TrainNets`] trait; [`nets::NnNets`] implements it
//! with the `nn` module's MLPs. Systems with only `learn` params (system
//! identification) need none.

pub mod adam;
pub mod adjoint;
pub mod checkpoint;
pub mod data;
pub mod loss;
pub mod nets;
mod worker;

use crate::backend::{self, EvalError, SharedNets};
use crate::check::{Model, RunSettings, Source, SystemModel, TrainSettings};
use crate::kernel::NetLane;
use crate::nn::{Weights, WeightsError};
use crate::sample::Rng;
use adam::Adam;
use adjoint::{AdjointError, Kernels};
use data::Dataset;
use std::sync::Arc;
use worker::{LearnSrc, Partial, Shared, Worker};

/// The nets of one system as the trainer sees them: flat weights that can be read and
/// replaced, an evaluator for the kernels, and the reverse jet pass.
///
/// The flat layout is the implementation's (net by net in the system's declaration
/// order is the natural one); the trainer only needs it to be the same in
/// [`TrainNets::params`], [`TrainNets::set_params`] and the `grad` of
/// [`TrainNets::jet_vjp`].
pub trait TrainNets: Send + Sync {
    /// Number of weights and biases of all the system's nets.
    fn n_params(&self) -> usize;
    /// The current weights, flat.
    fn params(&self) -> Vec<f64>;
    /// Replaces the weights. Called between evaluations only; evaluators returned by
    /// [`TrainNets::evaluator`] must see the new values from then on.
    fn set_params(&self, params: &[f64]);
    /// The net evaluator handed to [`backend::create`].
    fn evaluator(&self) -> SharedNets;
    /// Adds to `grad` (flat, like [`TrainNets::params`]) the gradient with respect to
    /// the weights of `sum_s sum_k cotangents[s, k] * lane_k(args_s)`, where lane k is
    /// the value or partial `lanes[k]` of net `net`, for the calls of rows `s`: `args`
    /// is `rows x arity` and `cotangents` is `rows x lanes.len()`, both row-major.
    fn jet_vjp(
        &self,
        net: u32,
        args: &[f64],
        lanes: &[NetLane],
        cotangents: &[f64],
        grad: &mut [f64],
    );
    /// The current weights as a weights file's tensors (`f.w0`, `f.b0`, ...).
    fn weights(&self) -> Weights;
    /// The flat weights (as [`TrainNets::params`]) that the tensors of `file` give;
    /// every tensor [`TrainNets::weights`] names must be there, with its shape.
    fn params_from(&self, file: &Weights) -> Result<Vec<f64>, WeightsError>;
}

/// Samples per evaluation chunk: the unit of work of a thread and of the fixed-order
/// reduction.
pub const CHUNK: usize = 16;
/// At most this many validation rows are evaluated for each point of the loss curve
/// (the first ones of the validation split; [`Trainer::val_loss_full`] uses all).
pub const VAL_ROWS: usize = 1024;
/// Points of the loss curve per run (about).
pub const CURVE_POINTS: usize = 200;

/// Why training could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Building the kernels failed.
    #[error(transparent)]
    Build(#[from] AdjointError),
    /// A kernel could not be evaluated.
    #[error("evaluation failed: {0}")]
    Eval(#[from] EvalError),
    /// The setup does not fit (a sentence for the user).
    #[error("{0}")]
    Setup(String),
}

/// One point of the loss curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Steps done.
    pub step: usize,
    /// Mean training loss over the steps since the previous point.
    pub loss: f64,
    /// Validation loss after this step (NaN without validation data).
    pub val_loss: f64,
    /// The learning rate of the last step.
    pub lr: f64,
}

/// Everything that changes during a run: restoring it continues the run exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Steps done.
    pub step: usize,
    /// Parameters: learn params (declaration order), then the nets' flat weights.
    pub theta: Vec<f64>,
    /// The optimiser.
    pub adam: Adam,
    /// The loss curve so far.
    pub curve: Vec<Point>,
    /// Sum of the training losses since the last curve point.
    pub window_loss: f64,
    /// Number of those losses.
    pub window_n: usize,
    /// Steps skipped because their gradient was not finite (or no sample was usable).
    pub skipped_steps: usize,
    /// Samples left out of steps: singular mass matrix or non-finite prediction.
    pub skipped_samples: usize,
}

/// The loss of a batch and its gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// Mean loss over usable samples and components.
    pub loss: f64,
    /// Its gradient with respect to theta (empty when not asked for).
    pub grad: Vec<f64>,
    /// Usable samples.
    pub used: usize,
    /// Samples left out (singular H or non-finite prediction).
    pub skipped: usize,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// The batch loss (NaN if no sample was usable).
    pub loss: f64,
    /// False when the update was skipped (non-finite gradient).
    pub applied: bool,
    /// The curve point this step completed, if any.
    pub point: Option<Point>,
}

/// A training run of one system: data, kernels, workers and the changing [`State`].
pub struct Trainer {
    kernels: Kernels,
    settings: TrainSettings,
    train: Dataset,
    val: Dataset,
    nets: Option<Arc<dyn TrainNets>>,
    workers: Vec<Worker>,
    learn_src: Vec<LearnSrc>,
    learn_names: Vec<String>,
    record_every: usize,
    /// Seconds taken by the first gradient evaluations on one thread and on all
    /// workers; once both have a few, the faster way is kept (results are the same).
    timing: [Vec<f64>; 2],
    /// The run's state.
    pub state: State,
}

impl Trainer {
    /// A trainer for `sys` with `settings` on `data` (split into training and
    /// validation rows by `settings.val` and `settings.seed`). `nets` is required when
    /// the system has nets; `learns` are the initial values of every learn param
    /// (declaration order; those the data gives per sample, [`Dataset::params`], are
    /// inputs, not trained); `threads` workers evaluate each batch (at least 1).
    pub fn new(
        sys: &SystemModel,
        settings: &TrainSettings,
        data: &Dataset,
        nets: Option<Arc<dyn TrainNets>>,
        learns: &[f64],
        kind: backend::Kind,
        threads: usize,
    ) -> Result<Trainer, TrainError> {
        if !sys.nets.is_empty() && nets.is_none() {
            return Err(TrainError::Setup(format!(
                "system `{}` calls neural nets, and this build has no net implementation to train them",
                sys.name
            )));
        }
        if learns.len() != sys.learns.len() {
            return Err(TrainError::Setup(format!(
                "system `{}` has {} learn params, got {} initial values",
                sys.name,
                sys.learns.len(),
                learns.len()
            )));
        }
        // Measured inputs are kernel slots after the learn params, always from the data.
        let fixed: Vec<bool> = sys
            .learns
            .iter()
            .map(|(name, _)| data.params.iter().any(|p| p == name))
            .chain(sys.inputs.iter().map(|_| true))
            .collect();
        let kernels = adjoint::build(sys, settings.reg, &fixed)?;
        let mut learn_src = Vec::with_capacity(learns.len());
        let mut theta = vec![];
        let mut learn_names = vec![];
        for ((name, _), &v) in sys.learns.iter().zip(learns) {
            match data.params.iter().position(|p| p == name) {
                Some(c) => learn_src.push(LearnSrc::Data(c)),
                None => {
                    learn_src.push(LearnSrc::Theta(theta.len()));
                    theta.push(v);
                    learn_names.push(name.clone());
                }
            }
        }
        for name in &sys.inputs {
            match data.params.iter().position(|p| p == name) {
                Some(c) => learn_src.push(LearnSrc::Data(c)),
                None => {
                    return Err(TrainError::Setup(format!(
                        "system `{}` has the input `{name}`, and the training data has no column `{name}`",
                        sys.name
                    )))
                }
            }
        }
        if data.n_in != 2 * kernels.dof + 1 + data.params.len() || data.n_out != kernels.n_pred() {
            return Err(TrainError::Setup(format!(
                "the data has {} inputs and {} targets per row; system `{}` needs {} and {}",
                data.n_in,
                data.n_out,
                sys.name,
                2 * kernels.dof + 1 + data.params.len(),
                kernels.n_pred()
            )));
        }
        let (train, val) = data.split(settings.val, settings.seed);
        if train.is_empty() {
            return Err(TrainError::Setup("the training data has no rows".into()));
        }
        if let Some(n) = &nets {
            theta.extend(n.params());
        }
        let evaluator = nets.as_ref().map(|n| n.evaluator());
        let workers = (0..threads.max(1))
            .map(|_| Worker::new(&kernels, kind, evaluator.clone()))
            .collect();
        let n_theta = theta.len();
        Ok(Trainer {
            record_every: (settings.steps / CURVE_POINTS).max(1),
            settings: settings.clone(),
            learn_src,
            learn_names,
            timing: [vec![], vec![]],
            kernels,
            train,
            val,
            nets,
            workers,
            state: State {
                step: 0,
                theta,
                adam: Adam::new(n_theta),
                curve: vec![],
                window_loss: 0.0,
                window_n: 0,
                skipped_steps: 0,
                skipped_samples: 0,
            },
        })
    }

    /// The settings the run follows.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// Training rows.
    pub fn train_data(&self) -> &Dataset {
        &self.train
    }

    /// Validation rows.
    pub fn val_data(&self) -> &Dataset {
        &self.val
    }

    /// The compiled kernels.
    pub fn kernels(&self) -> &Kernels {
        &self.kernels
    }

    /// The trained learn params' names and current values.
    pub fn learns(&self) -> Vec<(String, f64)> {
        self.learn_names
            .iter()
            .cloned()
            .zip(self.state.theta.iter().copied())
            .collect()
    }

    /// Number of trained parameters (learn params plus net weights).
    pub fn n_params(&self) -> usize {
        self.state.theta.len()
    }

    /// The minibatch of step `k`: `batch` training rows drawn uniformly (with
    /// replacement) from stream `k` of the seed.
    pub fn batch_rows(&self, k: usize) -> Vec<usize> {
        let mut rng = Rng::with_stream(self.settings.seed, k as u64);
        let n = self.train.len() as u64;
        (0..self.settings.batch)
            .map(|_| rng.below(n) as usize)
            .collect()
    }

    /// Loss (and, with `want_grad`, its gradient) at parameters `theta` over training
    /// rows `rows` (or validation rows with `val`).
    pub fn evaluate(
        &mut self,
        theta: &[f64],
        rows: &[usize],
        val: bool,
        want_grad: bool,
    ) -> Result<Evaluated, TrainError> {
        let nl = self.learn_names.len();
        if let Some(n) = &self.nets {
            n.set_params(&theta[nl..]);
        }
        let shared = Shared {
            kernels: &self.kernels,
            learn_src: &self.learn_src,
            n_theta_learn: nl,
            data: if val { &self.val } else { &self.train },
            theta,
            nets: self.nets.as_deref(),
            loss: self.settings.loss,
        };
        let chunks: Vec<&[usize]> = rows.chunks(CHUNK).collect();
        let all = self.workers.len().min(chunks.len()).max(1);
        // Threads pay off only when a batch is costly: time both ways a few times
        // (alternating), then keep the faster one.
        const TRIALS: usize = 3;
        let [one, many] = &self.timing;
        let parallel = if one.len() < TRIALS || many.len() < TRIALS {
            one.len() > many.len()
        } else {
            many.iter().sum::<f64>() < one.iter().sum::<f64>()
        };
        let t = if parallel { all } else { 1 };
        let t0 = std::time::Instant::now();
        let mut parts: Vec<Option<Result<Partial, EvalError>>> =
            (0..chunks.len()).map(|_| None).collect();
        let run = |w: usize, worker: &mut Worker| -> Vec<(usize, Result<Partial, EvalError>)> {
            (w..chunks.len())
                .step_by(t)
                .map(|c| (c, worker.chunk(&shared, chunks[c], want_grad)))
                .collect()
        };
        let (first, rest) = self.workers.split_at_mut(1);
        if t == 1 {
            for (c, r) in run(0, &mut first[0]) {
                parts[c] = Some(r);
            }
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = rest[..t - 1]
                    .iter_mut()
                    .enumerate()
                    .map(|(w, worker)| {
                        let run = &run;
                        s.spawn(move || run(w + 1, worker))
                    })
                    .collect();
                for (c, r) in run(0, &mut first[0]) {
                    parts[c] = Some(r);
                }
                for h in handles {
                    // A worker thread only panics on a bug; propagate it.
                    let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                    for (c, r) in done {
                        parts[c] = Some(r);
                    }
                }
            });
        }
        if want_grad && all > 1 {
            let trials = &mut self.timing[usize::from(parallel)];
            if trials.len() < TRIALS {
                trials.push(t0.elapsed().as_secs_f64());
            }
        }
        let mut total = Partial {
            grad: if want_grad {
                vec![0.0; theta.len()]
            } else {
                vec![]
            },
            ..Partial::default()
        };
        for p in parts.into_iter().flatten() {
            let p = p?;
            total.loss += p.loss;
            total.used += p.used;
            total.skipped += p.skipped;
            for (g, d) in total.grad.iter_mut().zip(&p.grad) {
                *g += d;
            }
        }
        let scale = 1.0 / (total.used * self.kernels.n_pred()) as f64;
        Ok(Evaluated {
            loss: if total.used > 0 {
                total.loss * scale
            } else {
                f64::NAN
            },
            grad: total.grad.iter().map(|g| g * scale).collect(),
            used: total.used,
            skipped: total.skipped,
        })
    }

    /// Validation loss on the first [`VAL_ROWS`] validation rows (NaN without any).
    pub fn val_loss(&mut self) -> Result<f64, TrainError> {
        let rows: Vec<usize> = (0..self.val.len().min(VAL_ROWS)).collect();
        self.val_loss_rows(&rows)
    }

    /// Validation loss on every validation row (NaN without any).
    pub fn val_loss_full(&mut self) -> Result<f64, TrainError> {
        let rows: Vec<usize> = (0..self.val.len()).collect();
        self.val_loss_rows(&rows)
    }

    fn val_loss_rows(&mut self, rows: &[usize]) -> Result<f64, TrainError> {
        if rows.is_empty() {
            return Ok(f64::NAN);
        }
        let theta = self.state.theta.clone();
        Ok(self.evaluate(&theta, rows, true, false)?.loss)
    }

    /// True when every step has been taken.
    pub fn done(&self) -> bool {
        self.state.step >= self.settings.steps
    }

    /// Takes one optimiser step.
    pub fn step(&mut self) -> Result<StepReport, TrainError> {
        let k = self.state.step;
        let rows = self.batch_rows(k);
        let theta = self.state.theta.clone();
        let ev = self.evaluate(&theta, &rows, false, true)?;
        let lr = adam::schedule(
            self.settings.lr,
            self.settings.lr_decay,
            k,
            self.settings.steps,
        );
        let st = &mut self.state;
        st.skipped_samples += ev.skipped;
        let applied = ev.used > 0 && ev.loss.is_finite() && ev.grad.iter().all(|g| g.is_finite());
        let mut applied = applied;
        if applied {
            let adam = st.adam.clone();
            st.adam.update(&mut st.theta, &ev.grad, lr);
            if st.theta.iter().all(|x| x.is_finite()) {
                st.window_loss += ev.loss;
                st.window_n += 1;
            } else {
                // An update that overflows is undone: the parameters stay the last
                // finite ones, and the step counts as skipped.
                st.theta.copy_from_slice(&theta);
                st.adam = adam;
                applied = false;
            }
        }
        if !applied {
            st.skipped_steps += 1;
        }
        st.step += 1;
        let mut point = None;
        if st.step.is_multiple_of(self.record_every) || st.step == self.settings.steps {
            let loss = if st.window_n > 0 {
                st.window_loss / st.window_n as f64
            } else {
                f64::NAN
            };
            self.state.window_loss = 0.0;
            self.state.window_n = 0;
            let val_loss = self.val_loss()?;
            let p = Point {
                step: self.state.step,
                loss,
                val_loss,
                lr,
            };
            self.state.curve.push(p);
            point = Some(p);
        }
        if let Some(n) = &self.nets {
            n.set_params(&self.state.theta[self.learn_names.len()..]);
        }
        Ok(StepReport {
            loss: ev.loss,
            applied,
            point,
        })
    }

    /// Why the run so far counts as diverged, given its final validation loss: every
    /// step skipped, the steps since the last curve point all skipped (a non-finite
    /// loss or gradient), or a non-finite validation loss. `None` for a usable run.
    pub fn divergence(&self, val_loss: f64) -> Option<String> {
        let st = &self.state;
        if st.step > 0 && st.skipped_steps >= st.step {
            return Some(format!(
                "all {} steps were skipped (no usable sample, or a non-finite loss or gradient)",
                st.step
            ));
        }
        if let Some(p) = st.curve.last().filter(|p| !p.loss.is_finite()) {
            return Some(format!(
                "the training loss is {} at step {} (every step since the previous curve point was skipped: the loss or its gradient is not finite)",
                p.loss, p.step
            ));
        }
        (!self.val.is_empty() && !val_loss.is_finite())
            .then(|| format!("the validation loss is {val_loss}"))
    }

    /// The trained parameters as a weights file: learn params as scalars, then the
    /// nets' tensors (written by `nn`).
    pub fn weights(&self) -> Weights {
        let mut w = match &self.nets {
            Some(n) => {
                n.set_params(&self.state.theta[self.learn_names.len()..]);
                n.weights()
            }
            None => Weights::new(),
        };
        for (name, v) in self.learns() {
            w.insert_scalar(&name, v);
        }
        w
    }

    /// A fingerprint of what the run trains and on which data: a checkpoint only
    /// resumes a run with the same fingerprint.
    pub fn fingerprint(&self) -> u64 {
        let mut h = checkpoint::Fnv::default();
        h.write_u64(self.state.theta.len() as u64);
        h.write_u64(self.train.len() as u64);
        h.write_u64(self.val.len() as u64);
        h.write_u64(self.settings.seed);
        h.write_u64(self.settings.batch as u64);
        for x in self
            .train
            .inputs
            .iter()
            .chain(&self.train.targets)
            .take(4096)
        {
            h.write_u64(x.to_bits());
        }
        h.finish()
    }
}

/// Initial parameters from a weights file: each learn param from the scalar tensor of
/// its name (its declared value when the file has none), and the nets' weights from the
/// tensors [`TrainNets::weights`] names, which must all be there with their shapes.
/// Returns the learn values and the nets' flat weights.
pub fn initial_from(
    sys: &SystemModel,
    nets: Option<&dyn TrainNets>,
    file: &Weights,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let mut learns = vec![];
    for (name, v) in &sys.learns {
        learns.push(match file.scalar(name) {
            Ok(x) => x,
            Err(WeightsError::Missing(_)) => *v,
            Err(e) => return Err(format!("{e} (a learn param)")),
        });
    }
    let flat = match nets {
        Some(n) => n.params_from(file).map_err(|e| e.to_string())?,
        None => vec![],
    };
    Ok((learns, flat))
}

/// Training throughput in samples per second: `steps` optimiser steps (after one
/// warm-up step) of system `system`'s first `train` block in `model`, on at most 10,000
/// rows of its sampled data, all validation switched off. `nets` evaluates the
/// system's nets; without it, a system with nets gets `nn`'s seeded initial weights
/// for the block's seed ([`nets::NnNets::init`]). `threads` as in [`Trainer::new`]. This is what
/// `lagc bench --train` reports as `train_samples_per_s`.
pub fn train_samples_per_s(
    model: &Model,
    system: usize,
    nets: Option<Arc<dyn TrainNets>>,
    kind: backend::Kind,
    threads: usize,
    steps: usize,
) -> Result<f64, TrainError> {
    let sys = &model.systems[system];
    let settings = model
        .runs
        .iter()
        .find_map(|r| match &r.settings {
            RunSettings::Train(t) if r.system == system => Some(t.clone()),
            _ => None,
        })
        .ok_or_else(|| TrainError::Setup(format!("system `{}` has no train block", sys.name)))?;
    let Source::Sample(spec) = &settings.data else {
        return Err(TrainError::Setup(
            "the train block's data is not `sample(...)`".into(),
        ));
    };
    let truth = spec
        .truth
        .and_then(|k| model.systems.get(k))
        .ok_or_else(|| TrainError::Setup("the sample names no truth system".into()))?;
    let mut spec = spec.clone();
    spec.n = spec.n.min(10_000);
    let made = data::from_sample(&spec, truth, sys, settings.momenta, kind).map_err(|e| {
        TrainError::Setup(match e {
            data::DataError::Source(d) => d.message,
            data::DataError::Csv(c) => c.to_string(),
            data::DataError::Other(s) => s,
        })
    })?;
    let mut settings = settings;
    settings.val = 0.0;
    settings.steps = steps + 1;
    let learns: Vec<f64> = sys.learns.iter().map(|(_, v)| *v).collect();
    let nets = nets.or_else(|| {
        (!sys.nets.is_empty())
            .then(|| Arc::new(nets::NnNets::init(sys, settings.seed)) as Arc<dyn TrainNets>)
    });
    let mut tr = Trainer::new(sys, &settings, &made.data, nets, &learns, kind, threads)?;
    tr.record_every = usize::MAX;
    tr.step()?;
    let t0 = std::time::Instant::now();
    for _ in 0..steps {
        tr.step()?;
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok((steps * settings.batch) as f64 / secs)
}
