//! Checkpoints: everything needed to continue a run exactly. (Weights files are the
//! `nn` module's, [`crate::nn::Weights`]; the trainer's are [`super::Trainer::weights`].)
//!
//! A checkpoint is a small binary file, all numbers little-endian: the magic
//! `LAGCCKPT`, a format version (u32), the run's fingerprint (u64), then the
//! [`State`] field by field (counts as u64, reals as f64 bits). It is written to a
//! temporary file, synced and renamed ([`crate::report::output`]), so an interrupted write
//! never leaves a broken checkpoint.

use super::adam::Adam;
use super::{Point, State};
use std::io;
use std::path::Path;

const MAGIC: &[u8; 8] = b"LAGCCKPT";
const VERSION: u32 = 1;

/// FNV-1a, 64 bit: a portable hash for run fingerprints.
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Hashes the 8 bytes of `x`.
    pub fn write_u64(&mut self, x: u64) {
        for b in x.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

struct Out(Vec<u8>);

impl Out {
    fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }
    fn vec(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|&x| self.f64(x));
    }
}

/// Writes a checkpoint of `state` for the run with `fingerprint`.
pub fn save(path: &Path, fingerprint: u64, state: &State) -> io::Result<()> {
    let mut o = Out(MAGIC.to_vec());
    o.0.extend_from_slice(&VERSION.to_le_bytes());
    o.u64(fingerprint);
    o.u64(state.step as u64);
    o.vec(&state.theta);
    o.vec(&state.adam.m);
    o.vec(&state.adam.v);
    o.u64(state.adam.t);
    o.u64(state.curve.len() as u64);
    for p in &state.curve {
        o.u64(p.step as u64);
        o.f64(p.loss);
        o.f64(p.val_loss);
        o.f64(p.lr);
    }
    o.f64(state.window_loss);
    o.u64(state.window_n as u64);
    o.u64(state.skipped_steps as u64);
    o.u64(state.skipped_samples as u64);
    crate::report::output::write_atomic(path, &o.0)
}

struct In<'a>(&'a [u8]);

impl In<'_> {
    fn u64(&mut self) -> Result<u64, String> {
        if self.0.len() < 8 {
            return Err("the file ends early".into());
        }
        let (a, b) = self.0.split_at(8);
        self.0 = b;
        let mut w = [0u8; 8];
        w.copy_from_slice(a);
        Ok(u64::from_le_bytes(w))
    }
    fn usize(&mut self) -> Result<usize, String> {
        usize::try_from(self.u64()?).map_err(|_| "a count is too large".to_string())
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn vec(&mut self) -> Result<Vec<f64>, String> {
        let n = self.usize()?;
        if n > self.0.len() / 8 {
            return Err("the file ends early".into());
        }
        (0..n).map(|_| self.f64()).collect()
    }
}

/// Reads a checkpoint written by [`save`] for a run with `fingerprint` and `n_params`
/// trained parameters; a file of another run or another format, or a parameter vector
/// of another length, is an error saying so.
pub fn load(path: &Path, fingerprint: u64, n_params: usize) -> Result<State, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bad = |why: String| format!("{} is not a usable checkpoint: {why}", path.display());
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(bad("it does not start like a lagc checkpoint".into()));
    }
    if bytes[8..12] != VERSION.to_le_bytes() {
        return Err(bad("it was written by another version of lagc".into()));
    }
    let mut i = In(&bytes[12..]);
    let read = |i: &mut In| -> Result<(u64, State), String> {
        let fp = i.u64()?;
        let step = i.usize()?;
        let theta = i.vec()?;
        let m = i.vec()?;
        let v = i.vec()?;
        let t = i.u64()?;
        let n = i.usize()?;
        if n > i.0.len() / 32 {
            return Err("the file ends early".into());
        }
        let mut curve = Vec::with_capacity(n);
        for _ in 0..n {
            curve.push(Point {
                step: i.usize()?,
                loss: i.f64()?,
                val_loss: i.f64()?,
                lr: i.f64()?,
            });
        }
        let state = State {
            step,
            theta,
            adam: Adam { m, v, t },
            curve,
            window_loss: i.f64()?,
            window_n: i.usize()?,
            skipped_steps: i.usize()?,
            skipped_samples: i.usize()?,
        };
        Ok((fp, state))
    };
    let (fp, state) = read(&mut i).map_err(bad)?;
    if fp != fingerprint {
        return Err(bad(
            "it belongs to another run (different system, data, seed or batch size)".into(),
        ));
    }
    let n = state.theta.len();
    if n != n_params {
        return Err(bad(format!(
            "it holds {n} parameters; the model has {n_params}"
        )));
    }
    if state.theta.iter().any(|x| !x.is_finite()) {
        return Err(bad("its parameters are not all finite numbers".into()));
    }
    if state.adam.m.len() != n || state.adam.v.len() != n {
        return Err(bad(
            "its optimiser state does not match its parameters".into()
        ));
    }
    Ok(state)
}
