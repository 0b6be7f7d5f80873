//! `lagc bench`: compile time and the cost of one batched evaluation per state, with the
//! JIT and with the interpreter, measured side by side in one run.

use std::time::{Duration, Instant};

use super::args::Common;
use super::shared::{backend_kind, stdout};
use super::Failure;
use crate::backend::{self, Backend, Kind};
use crate::check::{Model, SystemModel};
use crate::kernel;
use crate::nn::SystemNets;
use crate::symbolic::eom::{Eom, MAX_UNROLLED_DOF};
use std::sync::Arc;

/// What `lagc bench` measured for one system.
#[derive(Clone, Debug)]
pub struct BenchResult {
    /// System name.
    pub system: String,
    /// Number of states per batch.
    pub n: usize,
    /// Kernel instructions.
    pub instructions: usize,
    /// Symbolic derivation time.
    pub derive: Duration,
    /// Lowering to the kernel program.
    pub lower: Duration,
    /// Cranelift code generation and compilation.
    pub compile: Duration,
    /// JIT nanoseconds per state.
    pub jit_ns: f64,
    /// Interpreter nanoseconds per state.
    pub interp_ns: f64,
    /// Training samples per second (with `--train`).
    pub train_samples_per_s: Option<f64>,
    /// Sites of a lattice system (its costs are also reported per site).
    pub sites: Option<usize>,
}

impl BenchResult {
    /// The JSON object of LANGUAGE.md (`compile_ms`, `jit_ns_per_eval`,
    /// `interp_ns_per_eval`, and more).
    pub fn json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "system": self.system,
            "n": self.n,
            "instructions": self.instructions,
            "derive_ms": ms(self.derive),
            "lower_ms": ms(self.lower),
            "compile_ms": ms(self.compile),
            "jit_ns_per_eval": self.jit_ns,
            "interp_ns_per_eval": self.interp_ns,
            "speedup": self.interp_ns / self.jit_ns,
        });
        if let Some(t) = self.train_samples_per_s {
            v["train_samples_per_s"] = serde_json::json!(t);
        }
        if let Some(s) = self.sites {
            v["sites"] = serde_json::json!(s);
            v["jit_ns_per_site"] = serde_json::json!(self.jit_ns / s as f64);
            v["interp_ns_per_site"] = serde_json::json!(self.interp_ns / s as f64);
        }
        v
    }

    /// A short human-readable report.
    pub fn text(&self) -> String {
        let mut text = format!(
            "system {}: {} kernel instructions, batches of {} states\n\
             derive      {:>10.3} ms\n\
             lower       {:>10.3} ms\n\
             JIT compile {:>10.3} ms\n\
             JIT         {:>10.1} ns/state\n\
             interpreter {:>10.1} ns/state\n\
             speedup     {:>10.1}x\n",
            self.system,
            self.instructions,
            self.n,
            ms(self.derive),
            ms(self.lower),
            ms(self.compile),
            self.jit_ns,
            self.interp_ns,
            self.interp_ns / self.jit_ns
        );
        if let Some(s) = self.sites {
            let s = s as f64;
            text.push_str(&format!(
                "per site    {:>10.1} ns (JIT), {:.1} ns (interpreter); {s} sites, loop form\n",
                self.jit_ns / s,
                self.interp_ns / s
            ));
        }
        if let Some(t) = self.train_samples_per_s {
            text.push_str(&format!("training    {t:>10.0} samples/s\n"));
        }
        text
    }
}

/// Optimiser steps timed by `--train`.
const TRAIN_STEPS: usize = 30;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `lagc bench` on system `system` of `model`; with `train`, also the training
/// throughput of its first `train` block.
pub fn bench(
    model: &Model,
    system: usize,
    n: usize,
    json: bool,
    train: bool,
    common: &Common,
) -> Result<(), Failure> {
    if n == 0 {
        return Err(Failure::usage("error: --n must be at least 1\n"));
    }
    let sys = &model.systems[system];
    let mut result = measure(sys, n, common)?;
    if train {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let rate = crate::train::train_samples_per_s(
            model,
            system,
            None,
            backend_kind(common),
            threads,
            TRAIN_STEPS,
        )
        .map_err(|e| Failure::user(format!("error: system `{}`: {e}\n", sys.name)))?;
        result.train_samples_per_s = Some(rate);
    }
    if json {
        stdout(&format!("{}\n", result.json()))
    } else {
        stdout(&result.text())
    }
}

/// Derives, lowers and compiles `sys`, then times both backends on `n` random states.
pub fn measure(sys: &SystemModel, n: usize, common: &Common) -> Result<BenchResult, Failure> {
    let start = Instant::now();
    let mut eom = Eom::derive(sys);
    let derive = start.elapsed();
    let start = Instant::now();
    let program = kernel::eom_program(&mut eom, true, true)
        .map_err(|e| Failure::user(format!("error: internal: {e}\n")))?;
    let lower = start.elapsed();
    let sites = eom.lattice().map(|l| l.sites);
    if sites.is_none() && eom.dof() > MAX_UNROLLED_DOF {
        return Err(Failure::user(format!(
            "error: system `{}` has {} scalar coordinates unrolled; at most {MAX_UNROLLED_DOF}\n",
            sys.name,
            eom.dof()
        )));
    }
    let nets = net_evaluator(sys, common)?;
    let instructions = program.n_instructions();
    let start = Instant::now();
    let mut jit = backend::create_eom(program.clone(), Kind::Jit, nets.clone());
    let compile = start.elapsed();
    let mut interp = backend::create_eom(program, Kind::Interp, nets);
    // Large lattices: batches of at most ~1e7 input values.
    let per_row = jit.n_inputs().max(1);
    let n = n.min((10_000_000 / per_row).max(1));
    let inputs = random_states(&eom, sys, n);
    let mut outputs = vec![0.0; n * jit.n_outputs()];
    let jit_ns = ns_per_state(jit.as_mut(), &inputs, &mut outputs, n)?;
    let interp_ns = ns_per_state(interp.as_mut(), &inputs, &mut outputs, n)?;
    Ok(BenchResult {
        system: sys.name.clone(),
        n,
        instructions,
        derive,
        lower,
        compile,
        jit_ns,
        interp_ns,
        train_samples_per_s: None,
        sites,
    })
}

/// The nets of `sys` for benchmarking: from `--weights`, else its seeded initial
/// weights (with a note on stderr).
fn net_evaluator(
    sys: &SystemModel,
    common: &Common,
) -> Result<Option<crate::backend::SharedNets>, Failure> {
    if sys.nets.is_empty() {
        return Ok(None);
    }
    if let Some(w) = &common.weights {
        let weights = super::weights::read(w)?;
        let (nets, _) = super::weights::from_weights(sys, &weights, w)?;
        return Ok(Some(Arc::new(nets)));
    }
    if !common.quiet {
        eprintln!(
            "note: system `{}` has no weights (--weights); benchmarking its seeded initial weights",
            sys.name
        );
    }
    Ok(Some(Arc::new(SystemNets::init(sys, 0))))
}

/// `n` input rows: coordinates uniform in [-pi, pi), velocities (or momenta) in
/// [-1, 1), t = 0, learn params at their initial values, measured inputs in [-1, 1);
/// a fixed seed.
fn random_states(eom: &Eom, sys: &SystemModel, n: usize) -> Vec<f64> {
    let dof = eom.dof();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut uniform = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut rows = Vec::with_capacity(n * (2 * dof + 1 + sys.learns.len() + sys.inputs.len()));
    for _ in 0..n {
        rows.extend((0..dof).map(|_| std::f64::consts::PI * (2.0 * uniform() - 1.0)));
        rows.extend((0..dof).map(|_| 2.0 * uniform() - 1.0));
        rows.push(0.0);
        rows.extend(sys.learns.iter().map(|(_, v)| *v));
        rows.extend(sys.inputs.iter().map(|_| 2.0 * uniform() - 1.0));
    }
    rows
}

/// Nanoseconds per state of one batched evaluation: the best of several timed
/// repetitions, each at least ~50 ms long, after a warm-up.
fn ns_per_state(
    backend: &mut dyn Backend,
    inputs: &[f64],
    outputs: &mut [f64],
    n: usize,
) -> Result<f64, Failure> {
    let mut run = |reps: usize| -> Result<Duration, Failure> {
        let start = Instant::now();
        for _ in 0..reps {
            backend
                .eval_batch(inputs, outputs)
                .map_err(|e| Failure::user(format!("error: {e}\n")))?;
        }
        Ok(start.elapsed())
    };
    let once = run(1)?.max(Duration::from_nanos(1));
    let reps = ((0.05 / once.as_secs_f64()).ceil() as usize).clamp(1, 1_000_000);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = run(reps)?;
        best = best.min(t.as_secs_f64() / reps as f64);
    }
    Ok(best * 1e9 / n as f64)
}
