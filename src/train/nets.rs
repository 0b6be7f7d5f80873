//! The trainer's nets: the `nn` module's MLPs ([`SystemNets`]) behind a lock, so that
//! the kernels' evaluators see every parameter update.
//!
//! Flat layout: net by net in the system's declaration order, each in [`crate::nn::Mlp`]'s
//! layout (per layer `w_k` row-major (fan_in, fan_out), then `b_k`), the layout of
//! weights files. The reverse pass is [`crate::nn::Mlp::folded_vjp`]: the lane
//! cotangents of all the samples of a chunk folded into a few directions and pushed
//! through the layers together (matrix-matrix products).

use super::TrainNets;
use crate::backend::SharedNets;
use crate::check::{Net, SystemModel};
use crate::kernel::{NetEval, NetLane};
use crate::nn::{SystemNets, Weights, WeightsError};
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// [`SystemNets`] shared between the trainer (which replaces the weights between
/// evaluations) and the kernels (which read them).
struct Locked(RwLock<SystemNets>);

impl Locked {
    fn read(&self) -> RwLockReadGuard<'_, SystemNets> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl NetEval for Locked {
    fn eval(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        self.read().eval_batch(net, args, lanes, out);
    }

    fn eval_batch(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        self.read().eval_batch(net, args, lanes, out);
    }
}

/// The nets of one system as [`TrainNets`], backed by `nn`.
pub struct NnNets {
    decls: Vec<Net>,
    nets: Arc<Locked>,
}

impl NnNets {
    /// The nets of `sys` with the weights of `nets` (net `k` of `nets` is net `k` of
    /// `sys`).
    pub fn new(sys: &SystemModel, nets: SystemNets) -> NnNets {
        NnNets {
            decls: sys.nets.clone(),
            nets: Arc::new(Locked(RwLock::new(nets))),
        }
    }

    /// The nets of `sys` with `nn`'s seeded initial weights ([`SystemNets::init`]), the
    /// same as `lagc bench` and `lagc simulate` use for a seed.
    pub fn init(sys: &SystemModel, seed: u64) -> NnNets {
        NnNets::new(sys, SystemNets::init(sys, seed))
    }
}

impl TrainNets for NnNets {
    fn n_params(&self) -> usize {
        self.nets.read().mlps().iter().map(|m| m.n_params()).sum()
    }

    fn params(&self) -> Vec<f64> {
        let nets = self.nets.read();
        nets.mlps()
            .iter()
            .flat_map(|m| m.params().iter().copied())
            .collect()
    }

    fn set_params(&self, params: &[f64]) {
        let mut nets = self.nets.0.write().unwrap_or_else(|e| e.into_inner());
        let mut rest = params;
        for m in nets.mlps_mut() {
            let k = m.n_params().min(rest.len());
            m.params_mut()[..k].copy_from_slice(&rest[..k]);
            rest = &rest[k..];
        }
    }

    fn evaluator(&self) -> SharedNets {
        self.nets.clone()
    }

    fn jet_vjp(&self, net: u32, args: &[f64], lanes: &[NetLane], cot: &[f64], grad: &mut [f64]) {
        let nets = self.nets.read();
        let mlps = nets.mlps();
        let Some(m) = mlps.get(net as usize) else {
            return;
        };
        let off: usize = mlps[..net as usize].iter().map(|m| m.n_params()).sum();
        if let Some(g) = grad.get_mut(off..off + m.n_params()) {
            m.folded_vjp(args, lanes, cot, g);
        }
    }

    fn weights(&self) -> Weights {
        let nets = self.nets.read();
        let mut w = Weights::new();
        for (d, m) in self.decls.iter().zip(nets.mlps()) {
            w.insert_mlp(&d.name, m);
        }
        w
    }

    fn params_from(&self, file: &Weights) -> Result<Vec<f64>, WeightsError> {
        let mut flat = vec![];
        for d in &self.decls {
            flat.extend_from_slice(file.mlp(d)?.params());
        }
        Ok(flat)
    }
}
