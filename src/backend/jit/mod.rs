//! The Cranelift JIT backend: kernel programs compiled to native code.
//!
//! [`JitKernel::compile`] lowers a [`Program`] to one Cranelift function that loops
//! over rows (`codegen`), JIT-compiles it for the host with `opt_level = speed`, and
//! keeps the machine code alive for as long as the kernel lives (`ffi`, the only
//! module with `unsafe`). Elementary functions without a Cranelift instruction call the
//! Rust implementations in `runtime`, so results agree with the interpreter to the
//! last bit or nearly so; small linear solves are unrolled inline, larger or singular
//! ones call the interpreter's solver.
//!
//! Architecture invariant: like every backend, this reads [`Program`]s only.

mod codegen;
mod ffi;
mod runtime;

use std::time::{Duration, Instant};

use super::{Backend, EvalError, EvalReport, SharedNets};
use crate::kernel::{NetLane, Op, Program};

pub use codegen::INLINE_SOLVE_MAX;

/// Why a program could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// The host is not supported by Cranelift.
    #[error("the JIT does not support this machine: {0}")]
    Host(String),
    /// Cranelift rejected the generated code (a bug in lagc).
    #[error("internal: Cranelift failed to compile the kernel: {0}")]
    Codegen(String),
}

/// The net calls of a program, numbered in program order as the generated code numbers
/// them; the net callback receives this and a call number.
pub(crate) struct NetCalls {
    /// The evaluator, if the caller supplied one.
    nets: Option<SharedNets>,
    /// `(net, arity, lanes)` per call site.
    calls: Vec<(u32, usize, Box<[NetLane]>)>,
}

impl NetCalls {
    fn of(program: &Program, nets: Option<SharedNets>) -> NetCalls {
        let calls = program
            .insts
            .iter()
            .filter_map(|i| match &i.op {
                Op::Net { net, args, lanes } => Some((*net, args.len(), lanes.clone())),
                _ => None,
            })
            .collect();
        NetCalls { nets, calls }
    }

    /// Number of arguments and lanes of call site `call`.
    fn shape(&self, call: usize) -> Option<(usize, usize)> {
        self.calls.get(call).map(|c| (c.1, c.2.len()))
    }

    /// Evaluates call site `call` at `args` into `out` (NaN without an evaluator; the
    /// kernel refuses to run in that case, so that does not happen).
    fn eval(&self, call: usize, args: &[f64], out: &mut [f64]) {
        match (&self.nets, self.calls.get(call)) {
            (Some(nets), Some((net, _, lanes))) => nets.eval(*net, args, lanes, out),
            _ => out.fill(f64::NAN),
        }
    }
}

/// A program compiled to native code.
pub struct JitKernel {
    code: ffi::CompiledCode,
    calls: Box<NetCalls>,
    has_nets: bool,
    n_inputs: usize,
    n_outputs: usize,
    compile_time: Duration,
}

impl JitKernel {
    /// Compiles `program`; `nets` evaluates its net calls.
    pub fn compile(program: &Program, nets: Option<SharedNets>) -> Result<JitKernel, JitError> {
        let start = Instant::now();
        let compiled = codegen::compile(program, false)?;
        let code = ffi::CompiledCode::new(compiled.module, compiled.func)?;
        Ok(JitKernel {
            code,
            calls: Box::new(NetCalls::of(program, nets)),
            has_nets: program.has_nets(),
            n_inputs: program.n_inputs,
            n_outputs: program.outputs.len(),
            compile_time: start.elapsed(),
        })
    }

    /// Wall time spent generating and compiling the code.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    fn run(&self, inputs: &[f64], outputs: &mut [f64]) -> Result<EvalReport, EvalError> {
        let (ni, no) = (self.n_inputs, self.n_outputs);
        let rows = inputs
            .len()
            .checked_div(ni)
            .or_else(|| outputs.len().checked_div(no))
            .unwrap_or(0);
        if inputs.len() != rows * ni || outputs.len() != rows * no {
            return Err(EvalError::Shape {
                inputs: inputs.len(),
                outputs: outputs.len(),
                n_inputs: ni,
                n_outputs: no,
            });
        }
        if self.has_nets && self.calls.nets.is_none() {
            return Err(EvalError::MissingNets);
        }
        let singular = self.code.call(inputs, outputs, rows, ni, no, &self.calls);
        Ok(EvalReport { singular })
    }
}

impl Backend for JitKernel {
    fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    fn eval(&mut self, input: &[f64], output: &mut [f64]) -> Result<EvalReport, EvalError> {
        if input.len() != self.n_inputs || output.len() != self.n_outputs {
            return Err(EvalError::Shape {
                inputs: input.len(),
                outputs: output.len(),
                n_inputs: self.n_inputs,
                n_outputs: self.n_outputs,
            });
        }
        self.run(input, output)
    }

    fn eval_batch(&mut self, inputs: &[f64], outputs: &mut [f64]) -> Result<EvalReport, EvalError> {
        self.run(inputs, outputs)
    }
}

/// The Cranelift IR generated for `program`, as text (before Cranelift's own
/// optimisations), for `lagc emit --ir clif`.
pub fn clif_text(program: &Program) -> Result<String, JitError> {
    Ok(codegen::compile(program, true)?.text)
}
