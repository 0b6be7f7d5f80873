//! Lattice systems lowered: one straight-line site program per term shape, which a
//! backend runs over the term's sites, scattering into r and a banded H
//! ([`crate::backend::lattice`]). Nothing here grows with the number of sites.

use super::{lower, KernelSpec, LowerError, Output, Program};
use crate::symbolic::eom::Eom;
use crate::symbolic::lattice::Slot;
use crate::symbolic::ExprId;

/// What a lattice kernel outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatticeOutputs {
    /// q'' (one per element, coordinate by coordinate).
    pub accel: bool,
    /// The energy (after q'').
    pub energy: bool,
}

/// The lowered equations of motion of a lattice system.
///
/// Inputs are those of every system kernel: q, q' (element by element, coordinate by
/// coordinate), t, learn params. Outputs: q'' in the same order, then the energy, as
/// [`LatticeOutputs`] selects.
#[derive(Clone, Debug, PartialEq)]
pub struct LatticeProgram {
    /// Number of sites N.
    pub sites: usize,
    /// Number of fields (array coordinates).
    pub fields: usize,
    /// Whether indices wrap around.
    pub periodic: bool,
    /// Half-bandwidths (lower, upper) of H, unknowns interleaved site by site.
    pub band: (usize, usize),
    /// Number of learn params.
    pub n_learn: usize,
    /// Which outputs exist.
    pub outputs: LatticeOutputs,
    /// The site programs.
    pub terms: Vec<SiteProgram>,
}

/// One term's program, run at every site i in `lo..hi`.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteProgram {
    /// First site.
    pub lo: i64,
    /// One past the last site.
    pub hi: i64,
    /// The slots read (field, offset from i).
    pub slots: Vec<Slot>,
    /// Inputs: q of each slot, q' of each slot, i, t, learn params. Outputs: one per
    /// entry of `rhs`, one per entry of `hess`, then the energy share when the lattice
    /// program outputs the energy.
    pub program: Program,
    /// The slot whose unknown each rhs output adds to.
    pub rhs: Vec<usize>,
    /// The (row slot, column slot) each H output adds to.
    pub hess: Vec<(usize, usize)>,
}

impl LatticeProgram {
    /// Scalar unknowns (sites x fields).
    pub fn dof(&self) -> usize {
        self.sites * self.fields
    }

    /// Instructions over all site programs.
    pub fn n_instructions(&self) -> usize {
        self.terms.iter().map(|t| t.program.n_instructions()).sum()
    }
}

/// Lowers the lattice derivation of `eom` (which must be one) with the `outputs` asked
/// for. Terms that contribute nothing asked for are dropped.
pub fn lower_lattice(eom: &mut Eom, outputs: LatticeOutputs) -> Result<LatticeProgram, LowerError> {
    let zero = eom.dag.num(0.0);
    let Some(lat) = eom.lattice() else {
        return Err(LowerError::NotLattice);
    };
    let mut terms = vec![];
    for t in &lat.terms {
        let rhs: Vec<usize> = if outputs.accel {
            t.rhs.iter().map(|r| r.0).collect()
        } else {
            vec![]
        };
        let hess: Vec<(usize, usize)> = if outputs.accel {
            t.hess.iter().map(|h| (h.0, h.1)).collect()
        } else {
            vec![]
        };
        let mut outs: Vec<ExprId> = vec![];
        if outputs.accel {
            outs.extend(t.rhs.iter().map(|r| r.1));
            outs.extend(t.hess.iter().map(|h| h.2));
        }
        if outputs.energy {
            match t.energy {
                Some(e) => outs.push(e),
                None if outs.is_empty() => continue,
                None => outs.push(zero),
            }
        }
        if outs.is_empty() {
            continue;
        }
        let mut inputs: Vec<ExprId> = t.q.iter().chain(&t.v).copied().collect();
        inputs.push(lat.index);
        inputs.push(eom.t);
        inputs.extend(&eom.learns);
        let spec = KernelSpec {
            inputs,
            solve: None,
            outputs: outs.into_iter().map(Output::Expr).collect(),
        };
        terms.push(SiteProgram {
            lo: t.lo,
            hi: t.hi,
            slots: t.slots.clone(),
            program: lower(&eom.dag, &spec)?,
            rhs,
            hess,
        });
    }
    Ok(LatticeProgram {
        sites: lat.sites,
        fields: lat.fields.len(),
        periodic: lat.periodic,
        band: lat.band(),
        n_learn: eom.learns.len(),
        outputs,
        terms,
    })
}
