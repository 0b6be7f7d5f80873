//! [`Program::verify`]: the IR's rules, checked.

use super::{Op, Program};

impl Program {
    /// Checks the invariants of the module doc: every instruction writes slots inside
    /// `0..n_slots` that nothing wrote before; every operand and output slot was written
    /// by an earlier instruction; inputs, nets and solve shapes are in range; and no
    /// instruction is dead (some slot it writes is read later or is an output). Lowering
    /// checks its result with it in debug builds; the tests check every example's programs.
    pub fn verify(&self) -> Result<(), String> {
        let mut written = vec![false; self.n_slots];
        let mut read = vec![false; self.n_slots];
        for &o in &self.outputs {
            if let Some(r) = read.get_mut(o as usize) {
                *r = true;
            }
        }
        for (k, inst) in self.insts.iter().enumerate() {
            let mut bad = None;
            inst.op.for_each_operand(|s| {
                if !written.get(s as usize).copied().unwrap_or(false) {
                    bad.get_or_insert(format!(
                        "instruction {k} reads slot {s} before it is written"
                    ));
                }
                if let Some(r) = read.get_mut(s as usize) {
                    *r = true;
                }
            });
            if let Some(b) = bad {
                return Err(b);
            }
            match &inst.op {
                Op::Input(i) if *i as usize >= self.n_inputs => {
                    return Err(format!(
                        "instruction {k} reads input {i} of {}",
                        self.n_inputs
                    ));
                }
                Op::Net { net, lanes, .. }
                    if *net as usize >= self.nets.len() || lanes.is_empty() =>
                {
                    return Err(format!(
                        "instruction {k} calls net {net} with {} lanes",
                        lanes.len()
                    ));
                }
                Op::Solve { n, matrix, rhs }
                    if matrix.len() != (*n as usize).pow(2) || rhs.len() != *n as usize =>
                {
                    return Err(format!(
                        "instruction {k} solves a system of the wrong shape"
                    ));
                }
                _ => {}
            }
            let (d, w) = (inst.dst as usize, inst.op.width() as usize);
            if w == 0 || d + w > self.n_slots {
                return Err(format!(
                    "instruction {k} writes slots {d}..{} of {}",
                    d + w,
                    self.n_slots
                ));
            }
            if written[d..d + w].iter().any(|&x| x) {
                return Err(format!("instruction {k} writes slot {d} a second time"));
            }
            written[d..d + w].fill(true);
        }
        if let Some(o) = self
            .outputs
            .iter()
            .find(|&&o| !written.get(o as usize).copied().unwrap_or(false))
        {
            return Err(format!("output slot {o} is never written"));
        }
        let dead = self.insts.iter().position(|inst| {
            let d = inst.dst as usize;
            !read[d..d + inst.op.width() as usize].iter().any(|&r| r)
        });
        match dead {
            Some(k) => Err(format!("instruction {k} is dead")),
            None => Ok(()),
        }
    }
}
