//! backend stage: evaluating kernel programs.
//!
//! [`interp::Interpreter`] is the reference backend; [`jit::JitKernel`] compiles the
//! same programs to native code with Cranelift. Both implement [`Backend`]. Architecture invariant: backends read
//! [`crate::kernel::Program`]s only, never the DAG or the source.

pub mod banded;
pub mod interp;
pub mod jit;
pub mod lattice;
pub mod solve;

pub use interp::Interpreter;

use crate::kernel::{EomProgram, NetEval, Program};
use std::sync::Arc;

/// Which backend evaluates kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Cranelift JIT-compiled native code (the default).
    Jit,
    /// The reference interpreter.
    Interp,
}

/// Net evaluator shared by the kernels of one system (and across threads).
pub type SharedNets = Arc<dyn NetEval + Send + Sync>;

/// Builds a backend of `kind` for `program`, with `nets` evaluating its net calls.
/// Should Cranelift fail on a program (a bug), this warns on stderr and interprets it.
pub fn create(program: Program, kind: Kind, nets: Option<SharedNets>) -> Box<dyn Backend + Send> {
    if kind == Kind::Jit {
        match jit::JitKernel::compile(&program, nets.clone()) {
            Ok(k) => return Box::new(k),
            Err(e) => eprintln!("warning: {e}; using the interpreter"),
        }
    }
    let interp = Interpreter::new(program);
    Box::new(match nets {
        Some(n) => interp.with_nets(n),
        None => interp,
    })
}

/// Builds a backend for a system kernel: [`create`] for a dense program, a
/// [`lattice::LatticeKernel`] (site programs on `kind`) for a lattice.
pub fn create_eom(
    program: EomProgram,
    kind: Kind,
    nets: Option<SharedNets>,
) -> Box<dyn Backend + Send> {
    match program {
        EomProgram::Dense(p) => create(p, kind, nets),
        EomProgram::Lattice(l) => Box::new(lattice::LatticeKernel::new(l, kind, nets)),
    }
}

/// What an evaluation noticed besides its outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvalReport {
    /// Number of rows whose linear system was singular (solved with the pseudo-inverse).
    pub singular: usize,
}

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvalError {
    /// The program calls nets but no net evaluator was supplied.
    #[error("the kernel calls neural nets but no net evaluator was supplied")]
    MissingNets,
    /// Input or output buffers do not fit the program.
    #[error("buffer sizes do not fit the kernel: {inputs} inputs and {outputs} outputs for {n_inputs} inputs and {n_outputs} outputs per row")]
    Shape {
        /// Input buffer length.
        inputs: usize,
        /// Output buffer length.
        outputs: usize,
        /// Inputs per row of the program.
        n_inputs: usize,
        /// Outputs per row of the program.
        n_outputs: usize,
    },
}

/// The number of rows in a batch of `inputs` and `outputs` for a kernel with `ni`
/// inputs and `no` outputs per row, or the shape error when they do not fit.
pub fn batch_rows(inputs: usize, outputs: usize, ni: usize, no: usize) -> Result<usize, EvalError> {
    let rows = inputs
        .checked_div(ni)
        .or_else(|| outputs.checked_div(no))
        .unwrap_or(0);
    rows_of(rows, inputs, outputs, ni, no).map(|()| rows)
}

/// Checks that `inputs` and `outputs` hold exactly `rows` rows of a kernel with `ni`
/// inputs and `no` outputs per row.
pub fn rows_of(
    rows: usize,
    inputs: usize,
    outputs: usize,
    ni: usize,
    no: usize,
) -> Result<(), EvalError> {
    if inputs != rows * ni || outputs != rows * no {
        return Err(EvalError::Shape {
            inputs,
            outputs,
            n_inputs: ni,
            n_outputs: no,
        });
    }
    Ok(())
}

/// A compiled kernel that maps input rows to output rows.
pub trait Backend {
    /// Inputs per row.
    fn n_inputs(&self) -> usize;
    /// Outputs per row.
    fn n_outputs(&self) -> usize;
    /// Evaluates one row: `input.len() == n_inputs()`, `output.len() == n_outputs()`.
    fn eval(&mut self, input: &[f64], output: &mut [f64]) -> Result<EvalReport, EvalError>;
    /// Evaluates many rows stored contiguously (row-major) in `inputs` into `outputs`.
    fn eval_batch(&mut self, inputs: &[f64], outputs: &mut [f64]) -> Result<EvalReport, EvalError>;
}
