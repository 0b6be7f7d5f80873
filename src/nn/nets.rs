//! The nets of one system, as the kernel's net evaluator.

use super::init::init_mlp;
use super::jet::EvalPlan;
use super::mlp::Mlp;
use super::weights::{Weights, WeightsError};
use crate::check::SystemModel;
use crate::kernel::{NetEval, NetLane};

/// The MLPs of one system, indexed like [`SystemModel::nets`] (and so like the nets
/// of its DAG and kernel program). Implements [`NetEval`]: one call computes all the
/// lanes of a net block with one jet pass.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemNets {
    mlps: Vec<Mlp>,
}

impl SystemNets {
    /// Nets from MLPs (index `k` is net `k` of the system).
    pub fn new(mlps: Vec<Mlp>) -> SystemNets {
        SystemNets { mlps }
    }

    /// The seeded initial weights of every net of `sys` (see [`super::init`]).
    pub fn init(sys: &SystemModel, seed: u64) -> SystemNets {
        SystemNets::new(sys.nets.iter().map(|n| init_mlp(n, seed)).collect())
    }

    /// Every net of `sys` from a weights file.
    pub fn from_weights(sys: &SystemModel, weights: &Weights) -> Result<SystemNets, WeightsError> {
        let mlps = sys
            .nets
            .iter()
            .map(|n| weights.mlp(n))
            .collect::<Result<_, _>>()?;
        Ok(SystemNets::new(mlps))
    }

    /// The MLPs.
    pub fn mlps(&self) -> &[Mlp] {
        &self.mlps
    }

    /// The MLPs, mutable (for optimisers).
    pub fn mlps_mut(&mut self) -> &mut [Mlp] {
        &mut self.mlps
    }

    /// A weights file holding these nets (named as in `sys`) and the `learn` values
    /// `learns` (in `sys.learns` order).
    pub fn to_weights(&self, sys: &SystemModel, learns: &[f64]) -> Weights {
        let mut w = Weights::new();
        for (net, mlp) in sys.nets.iter().zip(&self.mlps) {
            w.insert_mlp(&net.name, mlp);
        }
        for ((name, _), &v) in sys.learns.iter().zip(learns) {
            w.insert_scalar(name, v);
        }
        w
    }

    /// Evaluates net `net` at many argument vectors at once: `args` is
    /// `rows x arity` row-major, `out` is `rows x lanes.len()`; row `s` of `out` gets
    /// the lanes at row `s` of `args`. The dense layers are matrix products over
    /// (samples x jet rows), so the weights are read once per block of samples. An
    /// unknown net, or buffers that do not fit its arity and the lanes, give NaN.
    pub fn eval_batch(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        let fits = |m: &Mlp| {
            let rows = args.len() / m.n_inputs().max(1);
            rows * m.n_inputs() == args.len() && rows * lanes.len() == out.len()
        };
        match self.mlps.get(net as usize).filter(|m| fits(m)) {
            Some(m) => {
                let plan = EvalPlan::new(lanes, m.n_inputs(), m.n_outputs());
                m.eval_lanes(&plan, args, out);
            }
            None => out.fill(f64::NAN),
        }
    }
}

impl NetEval for SystemNets {
    fn eval(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        SystemNets::eval_batch(self, net, args, lanes, out);
    }

    /// Many calls at once through the batched path ([`SystemNets::eval_batch`]): the
    /// dense layers become matrix-matrix products over (calls x jet rows).
    fn eval_batch(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        SystemNets::eval_batch(self, net, args, lanes, out);
    }
}

/// The `learn` values of `sys` from a weights file (scalar tensors named like them).
pub fn learn_values(sys: &SystemModel, weights: &Weights) -> Result<Vec<f64>, WeightsError> {
    sys.learns.iter().map(|(n, _)| weights.scalar(n)).collect()
}
