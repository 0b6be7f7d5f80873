//! The reference interpreter for kernel programs.

use super::solve::{lu_solve_in_place, pinv_solve};
use super::{Backend, EvalError, EvalReport, SharedNets};
use crate::kernel::{Op, Program};
use crate::symbolic::powi;

/// Interprets a [`Program`], reusing its scratch buffers (no allocation per row, except
/// in the pseudo-inverse fallback of a singular solve).
pub struct Interpreter {
    program: Program,
    nets: Option<SharedNets>,
    has_nets: bool,
    n_outputs: usize,
    slots: Vec<f64>,
    lu: Vec<f64>,
    x: Vec<f64>,
    args: Vec<f64>,
}

impl Interpreter {
    /// An interpreter for `program`, without a net evaluator.
    pub fn new(program: Program) -> Interpreter {
        let (mut lu, mut x, mut args) = (0, 0, 0);
        for inst in &program.insts {
            match &inst.op {
                Op::Solve { n, .. } => {
                    lu = lu.max((n * n) as usize);
                    x = x.max(*n as usize);
                }
                Op::Net { args: a, .. } => args = args.max(a.len()),
                _ => {}
            }
        }
        Interpreter {
            n_outputs: program.outputs.len(),
            slots: vec![0.0; program.n_slots],
            lu: vec![0.0; lu],
            x: vec![0.0; x],
            args: vec![0.0; args],
            nets: None,
            has_nets: program.has_nets(),
            program,
        }
    }

    /// Supplies the evaluator for the program's net instructions.
    pub fn with_nets(mut self, nets: SharedNets) -> Interpreter {
        self.nets = Some(nets);
        self
    }

    /// The program being interpreted.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Runs the program on one row; returns true when its solve was singular.
    fn run(&mut self, input: &[f64], output: &mut [f64]) -> bool {
        let mut singular = false;
        let s = &mut self.slots;
        for inst in &self.program.insts {
            let d = inst.dst as usize;
            let v = |i: &u32| s[*i as usize];
            s[d] = match &inst.op {
                Op::Const(c) => *c,
                Op::Input(i) => input[*i as usize],
                Op::Func(f, a) => f.apply(v(a)),
                Op::Neg(a) => -v(a),
                Op::Add(a, b) => v(a) + v(b),
                Op::Sub(a, b) => v(a) - v(b),
                Op::Mul(a, b) => v(a) * v(b),
                Op::Div(a, b) => v(a) / v(b),
                Op::Powi(a, n) => powi(v(a), *n),
                Op::Powf(a, b) => v(a).powf(v(b)),
                Op::Atan2(a, b) => crate::numeric::atan2(v(a), v(b)),
                Op::Net { net, args, lanes } => {
                    let buf = &mut self.args[..args.len()];
                    for (b, a) in buf.iter_mut().zip(args.iter()) {
                        *b = s[*a as usize];
                    }
                    let out = &mut s[d..d + lanes.len()];
                    match &self.nets {
                        Some(nets) => nets.eval(*net, buf, lanes, out),
                        None => out.fill(f64::NAN), // unreachable: checked before running
                    }
                    continue;
                }
                Op::Solve { n, matrix, rhs } => {
                    let n = *n as usize;
                    let (lu, x) = (&mut self.lu[..n * n], &mut self.x[..n]);
                    for (l, m) in lu.iter_mut().zip(matrix.iter()) {
                        *l = s[*m as usize];
                    }
                    for (xi, r) in x.iter_mut().zip(rhs.iter()) {
                        *xi = s[*r as usize];
                    }
                    if !lu_solve_in_place(n, lu, x) {
                        singular = true;
                        for (l, m) in lu.iter_mut().zip(matrix.iter()) {
                            *l = s[*m as usize];
                        }
                        let b: Vec<f64> = rhs.iter().map(|r| s[*r as usize]).collect();
                        pinv_solve(n, lu, &b, x);
                    }
                    s[d..d + n].copy_from_slice(x);
                    continue;
                }
            };
        }
        for (o, slot) in output.iter_mut().zip(&self.program.outputs) {
            *o = s[*slot as usize];
        }
        singular
    }

    fn check(&self, rows: usize, inputs: usize, outputs: usize) -> Result<(), EvalError> {
        super::rows_of(rows, inputs, outputs, self.program.n_inputs, self.n_outputs)?;
        if self.nets.is_none() && self.has_nets {
            return Err(EvalError::MissingNets);
        }
        Ok(())
    }
}

impl Backend for Interpreter {
    fn n_inputs(&self) -> usize {
        self.program.n_inputs
    }

    fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    fn eval(&mut self, input: &[f64], output: &mut [f64]) -> Result<EvalReport, EvalError> {
        self.check(1, input.len(), output.len())?;
        let singular = usize::from(self.run(input, output));
        Ok(EvalReport { singular })
    }

    fn eval_batch(&mut self, inputs: &[f64], outputs: &mut [f64]) -> Result<EvalReport, EvalError> {
        let (ni, no) = (self.program.n_inputs, self.n_outputs);
        let rows = super::batch_rows(inputs.len(), outputs.len(), ni, no)?;
        self.check(rows, inputs.len(), outputs.len())?;
        let mut report = EvalReport::default();
        for r in 0..rows {
            let out = &mut outputs[r * no..(r + 1) * no];
            report.singular += usize::from(self.run(&inputs[r * ni..(r + 1) * ni], out));
        }
        Ok(report)
    }
}
