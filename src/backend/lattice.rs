//! Evaluating a lattice system: each site program runs over its sites in batches on an
//! inner backend (JIT or interpreter), its outputs are scattered into r and the banded
//! H, and q'' = H^-1 r comes from an O(N) banded solve. Cost per state is linear in N.

use super::banded::{Banded, BandedSolver};
use super::solve::pinv_solve;
use super::{create, Backend, EvalError, EvalReport, Kind, SharedNets};
use crate::kernel::{LatticeProgram, SiteProgram};
use crate::symbolic::eom::MAX_UNROLLED_DOF;

/// Sites per inner batch: bounds the buffers, keeps them in cache.
const BLOCK: usize = 512;

/// A lattice system's kernel (same inputs and outputs as a dense system kernel).
pub struct LatticeKernel {
    sites: usize,
    fields: usize,
    periodic: bool,
    n_learn: usize,
    accel: bool,
    energy: bool,
    terms: Vec<Term>,
    h: Banded,
    solver: BandedSolver,
    r: Vec<f64>,
    /// A copy of r, kept for the pseudo-inverse fallback of small singular systems.
    r_copy: Vec<f64>,
    rows_in: Vec<f64>,
    rows_out: Vec<f64>,
}

struct Term {
    site: SiteProgram,
    backend: Box<dyn Backend + Send>,
}

impl LatticeKernel {
    /// Builds the inner backends of `program`'s site programs on `kind`.
    pub fn new(program: LatticeProgram, kind: Kind, nets: Option<SharedNets>) -> LatticeKernel {
        let n = program.dof();
        let (lower, upper) = program.band;
        let terms = program
            .terms
            .into_iter()
            .map(|site| Term {
                backend: create(site.program.clone(), kind, nets.clone()),
                site,
            })
            .collect();
        LatticeKernel {
            sites: program.sites,
            fields: program.fields,
            periodic: program.periodic,
            n_learn: program.n_learn,
            accel: program.outputs.accel,
            energy: program.outputs.energy,
            terms,
            h: Banded::new(n, lower, upper, program.periodic),
            solver: BandedSolver::new(),
            r: vec![0.0; n],
            r_copy: vec![],
            rows_in: vec![],
            rows_out: vec![],
        }
    }

    fn dof(&self) -> usize {
        self.sites * self.fields
    }
}

/// The site `i` wrapped into `0..sites` (the checker proved non-periodic indices in range).
fn wrap(i: i64, sites: usize, periodic: bool) -> usize {
    debug_assert!(periodic || (0..sites as i64).contains(&i));
    i.rem_euclid(sites as i64) as usize
}

impl Backend for LatticeKernel {
    fn n_inputs(&self) -> usize {
        2 * self.dof() + 1 + self.n_learn
    }

    fn n_outputs(&self) -> usize {
        (if self.accel { self.dof() } else { 0 }) + usize::from(self.energy)
    }

    fn eval(&mut self, input: &[f64], output: &mut [f64]) -> Result<EvalReport, EvalError> {
        let (n_in, n_out) = (self.n_inputs(), self.n_outputs());
        if input.len() != n_in || output.len() != n_out {
            return Err(EvalError::Shape {
                inputs: input.len(),
                outputs: output.len(),
                n_inputs: n_in,
                n_outputs: n_out,
            });
        }
        let (n, m, big_n, periodic) = (self.dof(), self.fields, self.sites, self.periodic);
        let (t, learns) = (input[2 * n], &input[2 * n + 1..]);
        self.h.clear();
        self.r.iter_mut().for_each(|x| *x = 0.0);
        let mut energy = 0.0;
        let mut terms = std::mem::take(&mut self.terms);
        for term in &mut terms {
            let site = &term.site;
            let ns = site.slots.len();
            let (ki, ko) = (term.backend.n_inputs(), term.backend.n_outputs());
            let mut i0 = site.lo;
            while i0 < site.hi {
                let rows = (site.hi - i0).min(BLOCK as i64) as usize;
                self.rows_in.resize(rows * ki, 0.0);
                self.rows_out.resize(rows * ko, 0.0);
                for (r, row) in self.rows_in.chunks_exact_mut(ki).enumerate() {
                    let i = i0 + r as i64;
                    for (s, slot) in site.slots.iter().enumerate() {
                        let e = slot.field * big_n + wrap(i + slot.offset, big_n, periodic);
                        row[s] = input[e];
                        row[ns + s] = input[n + e];
                    }
                    row[2 * ns] = i as f64;
                    row[2 * ns + 1] = t;
                    row[2 * ns + 2..].copy_from_slice(learns);
                }
                term.backend.eval_batch(&self.rows_in, &mut self.rows_out)?;
                for (r, out) in self.rows_out.chunks_exact(ko).enumerate() {
                    let i = i0 + r as i64;
                    let unknown = |s: usize| {
                        let slot = site.slots[s];
                        wrap(i + slot.offset, big_n, periodic) * m + slot.field
                    };
                    for (k, &s) in site.rhs.iter().enumerate() {
                        self.r[unknown(s)] += out[k];
                    }
                    let base = site.rhs.len();
                    for (k, &(a, b)) in site.hess.iter().enumerate() {
                        let (sa, sb) = (site.slots[a], site.slots[b]);
                        let d =
                            (sb.offset - sa.offset) * m as i64 + sb.field as i64 - sa.field as i64;
                        self.h.add(unknown(a), d as isize, out[base + k]);
                    }
                    if self.energy {
                        energy += out[ko - 1];
                    }
                }
                i0 += rows as i64;
            }
        }
        self.terms = terms;
        let mut report = EvalReport::default();
        if self.accel {
            let small = n <= MAX_UNROLLED_DOF;
            if small {
                self.r_copy.clone_from(&self.r);
            }
            if !self.solver.solve(&self.h, &mut self.r) {
                report.singular = 1;
                if small {
                    let dense = self.h.to_dense();
                    let mut x = vec![0.0; n];
                    pinv_solve(n, &dense, &self.r_copy, &mut x);
                    self.r.copy_from_slice(&x);
                } else {
                    self.r.iter_mut().for_each(|x| *x = f64::NAN);
                }
            }
            for f in 0..m {
                for i in 0..big_n {
                    output[f * big_n + i] = self.r[i * m + f];
                }
            }
        }
        if self.energy {
            output[n_out - 1] = energy;
        }
        Ok(report)
    }

    fn eval_batch(&mut self, inputs: &[f64], outputs: &mut [f64]) -> Result<EvalReport, EvalError> {
        let (ni, no) = (self.n_inputs(), self.n_outputs());
        let rows = inputs.len() / ni.max(1);
        if inputs.len() != rows * ni || outputs.len() != rows * no {
            return Err(EvalError::Shape {
                inputs: inputs.len(),
                outputs: outputs.len(),
                n_inputs: ni,
                n_outputs: no,
            });
        }
        let mut report = EvalReport::default();
        for (x, y) in inputs.chunks_exact(ni).zip(outputs.chunks_exact_mut(no)) {
            report.singular += self.eval(x, y)?.singular;
        }
        Ok(report)
    }
}
