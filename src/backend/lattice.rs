//! Evaluating a lattice system: each site program runs over its sites in batches on an
//! inner backend (JIT or interpreter), its outputs are scattered into r and the banded
//! H, and q'' = H^-1 r comes from an O(N) banded solve. Cost per state is linear in N.

use super::banded::{Banded, BandedSolver};
use super::solve::pinv_solve;
use super::{batch_rows, create, rows_of, Backend, EvalError, EvalReport, Kind, SharedNets};
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
    rows_in: Vec<f64>,
    rows_out: Vec<f64>,
    /// Added to H's diagonal before the solve (training's `reg`).
    reg: f64,
}

/// A site program on its backend, with its gather and scatter addresses worked out.
struct Term {
    site: SiteProgram,
    backend: Box<dyn Backend + Send>,
    /// Per slot: (offset, index of the field's first element in q).
    slots: Vec<(i64, usize)>,
    /// Per rhs output: (slot offset, field) of the unknown it adds to.
    rhs: Vec<(i64, usize)>,
    /// Per H output: (row slot offset, row field, diagonal of the column).
    hess: Vec<(i64, usize, isize)>,
}

impl Term {
    fn new(
        site: SiteProgram,
        backend: Box<dyn Backend + Send>,
        sites: usize,
        fields: usize,
    ) -> Term {
        let m = fields as i64;
        let slots = site
            .slots
            .iter()
            .map(|s| (s.offset, s.field * sites))
            .collect();
        let rhs = site
            .rhs
            .iter()
            .map(|&s| (site.slots[s].offset, site.slots[s].field))
            .collect();
        let hess = site
            .hess
            .iter()
            .map(|&(a, b)| {
                let (sa, sb) = (site.slots[a], site.slots[b]);
                let d = (sb.offset - sa.offset) * m + sb.field as i64 - sa.field as i64;
                (sa.offset, sa.field, d as isize)
            })
            .collect();
        Term {
            site,
            backend,
            slots,
            rhs,
            hess,
        }
    }
}

impl LatticeKernel {
    /// Builds the inner backends of `program`'s site programs on `kind`.
    pub fn new(program: LatticeProgram, kind: Kind, nets: Option<SharedNets>) -> LatticeKernel {
        let n = program.dof();
        let (lower, upper) = program.band;
        let terms = program
            .terms
            .into_iter()
            .map(|site| {
                let backend = create(site.program.clone(), kind, nets.clone());
                Term::new(site, backend, program.sites, program.fields)
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
            rows_in: vec![],
            rows_out: vec![],
            reg: 0.0,
        }
    }

    /// Solves with `H + reg I` instead of H.
    pub fn with_reg(mut self, reg: f64) -> LatticeKernel {
        self.reg = reg;
        self
    }

    /// lambda = (H + reg I)^-1 `cot` with the matrix of the last evaluation (H is
    /// symmetric, so this is also the adjoint solve). Both vectors are in output order
    /// (coordinate by coordinate). False when the matrix is singular.
    pub fn adjoint_solve(&mut self, cot: &[f64], lam: &mut [f64]) -> bool {
        let (m, big_n) = (self.fields, self.sites);
        for f in 0..m {
            for i in 0..big_n {
                self.r[i * m + f] = cot[f * big_n + i];
            }
        }
        let ok = self.solver.solve(&self.h, &mut self.r);
        for f in 0..m {
            for i in 0..big_n {
                lam[f * big_n + i] = self.r[i * m + f];
            }
        }
        ok
    }

    /// Appends to `rows`, for every site of term `term`, the inputs of its site program
    /// at the kernel input row `input`, followed by each vector of `extra` (one value
    /// per unknown, in output order) at the term's slots.
    pub fn site_rows(&self, term: usize, input: &[f64], extra: &[&[f64]], rows: &mut Vec<f64>) {
        let t = &self.terms[term];
        let width = t.backend.n_inputs() + extra.len() * t.slots.len();
        let shape = (self.sites, self.fields, self.periodic);
        for i in t.site.lo..t.site.hi {
            let start = rows.len();
            rows.resize(start + width, 0.0);
            gather(&t.slots, i, shape, input, extra, &mut rows[start..]);
        }
    }

    fn dof(&self) -> usize {
        self.sites * self.fields
    }
}

/// Fills `row` with site `i`'s inputs of a site program whose `slots` are (offset,
/// first element of the field) from a kernel input row (q, q', t, learns), then for
/// each vector of `extra` (one value per unknown, in output order) its values at the
/// slots.
fn gather(
    slots: &[(i64, usize)],
    i: i64,
    (sites, fields, periodic): (usize, usize, bool),
    input: &[f64],
    extra: &[&[f64]],
    row: &mut [f64],
) {
    let (ns, n) = (slots.len(), sites * fields);
    let (q, v) = input[..2 * n].split_at(n);
    let (head, rest) = row.split_at_mut(2 * ns);
    let (rq, rv) = head.split_at_mut(ns);
    for (s, &(off, base)) in slots.iter().enumerate() {
        let e = base + wrap(i + off, sites, periodic);
        rq[s] = q[e];
        rv[s] = v[e];
    }
    let learns = &input[2 * n + 1..];
    rest[0] = i as f64;
    rest[1] = input[2 * n];
    if !learns.is_empty() {
        rest[2..2 + learns.len()].copy_from_slice(learns);
    }
    let mut k = 2 + learns.len();
    for x in extra {
        for &(off, base) in slots {
            rest[k] = x[base + wrap(i + off, sites, periodic)];
            k += 1;
        }
    }
}

/// The site `i` wrapped into `0..sites` (the checker proved non-periodic indices in range).
fn wrap(i: i64, sites: usize, periodic: bool) -> usize {
    debug_assert!(periodic || (0..sites as i64).contains(&i));
    let n = sites as i64;
    // Offsets are small: one comparison usually does, not a division.
    if (0..n).contains(&i) {
        i as usize
    } else if (n..2 * n).contains(&i) {
        (i - n) as usize
    } else if (-n..0).contains(&i) {
        (i + n) as usize
    } else {
        i.rem_euclid(n) as usize
    }
}

impl Backend for LatticeKernel {
    fn n_inputs(&self) -> usize {
        2 * self.dof() + 1 + self.n_learn
    }

    fn n_outputs(&self) -> usize {
        (if self.accel { self.dof() } else { 0 }) + usize::from(self.energy)
    }

    fn eval(&mut self, input: &[f64], output: &mut [f64]) -> Result<EvalReport, EvalError> {
        let n_out = self.n_outputs();
        rows_of(1, input.len(), output.len(), self.n_inputs(), n_out)?;
        let (n, m, big_n, periodic) = (self.dof(), self.fields, self.sites, self.periodic);
        self.h.clear();
        self.r.iter_mut().for_each(|x| *x = 0.0);
        let mut energy = 0.0;
        let mut terms = std::mem::take(&mut self.terms);
        let shape = (big_n, m, periodic);
        for term in &mut terms {
            let (lo, hi) = (term.site.lo, term.site.hi);
            let (ki, ko) = (term.backend.n_inputs(), term.backend.n_outputs());
            let mut i0 = lo;
            while i0 < hi {
                let rows = (hi - i0).min(BLOCK as i64) as usize;
                self.rows_in.resize(rows * ki, 0.0);
                self.rows_out.resize(rows * ko, 0.0);
                for (r, row) in self.rows_in.chunks_exact_mut(ki).enumerate() {
                    gather(&term.slots, i0 + r as i64, shape, input, &[], row);
                }
                term.backend.eval_batch(&self.rows_in, &mut self.rows_out)?;
                let base = term.rhs.len();
                for (r, out) in self.rows_out.chunks_exact(ko).enumerate() {
                    let i = i0 + r as i64;
                    for (&(off, f), &x) in term.rhs.iter().zip(out) {
                        self.r[wrap(i + off, big_n, periodic) * m + f] += x;
                    }
                    for (&(off, f, d), &x) in term.hess.iter().zip(&out[base..]) {
                        self.h.add(wrap(i + off, big_n, periodic) * m + f, d, x);
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
            if self.reg != 0.0 {
                for j in 0..n {
                    self.h.add(j, 0, self.reg);
                }
            }
            // A failed solve leaves r as it was: small systems fall back to the
            // pseudo-inverse of the dense matrix, as dense kernels do.
            if !self.solver.solve(&self.h, &mut self.r) {
                report.singular = 1;
                if n <= MAX_UNROLLED_DOF {
                    let dense = self.h.to_dense();
                    let mut x = vec![0.0; n];
                    pinv_solve(n, &dense, &self.r, &mut x);
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
        batch_rows(inputs.len(), outputs.len(), ni, no)?;
        let mut report = EvalReport::default();
        for (x, y) in inputs.chunks_exact(ni).zip(outputs.chunks_exact_mut(no)) {
            report.singular += self.eval(x, y)?.singular;
        }
        Ok(report)
    }
}
