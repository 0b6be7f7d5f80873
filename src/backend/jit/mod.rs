//! The Cranelift JIT backend: kernel programs compiled to native code.
//!
//! [`JitKernel::compile`] lowers a [`Program`] to Cranelift functions that loop over
//! rows (`codegen`), JIT-compiles them for the host with `opt_level = speed` (kernels
//! above 20,000 instructions with `opt_level = none` and the single-pass register
//! allocator, whose time grows linearly), and
//! keeps the machine code alive for as long as the kernel lives (`ffi`, the one
//! module that calls through raw pointers). `sin` and `cos` are inline code
//! (`inline_math`, the algorithm of [`crate::numeric`]); other elementary functions
//! without a Cranelift instruction call the Rust implementations in `runtime`, so
//! results agree with the interpreter to the last bit or nearly so; small linear solves are unrolled inline, larger or singular
//! ones call the interpreter's solver. A program with nets runs as compiled segments
//! over a slot table, chunk of rows by chunk of rows, with each net call evaluated for
//! the whole chunk in one [`crate::kernel::NetEval::eval_batch`] (weights read once
//! per chunk).
//!
//! The same code generator writes object files ahead of time (`object`, for `lagc
//! export`): there the code calls libm instead of lagc's Rust functions, and an LU
//! function emitted into the object (`lu`) instead of the Rust solver.
//!
//! Architecture invariant: like every backend, this reads [`Program`]s only.

mod codegen;
mod ffi;
mod inline_math;
mod lu;
mod object;
mod runtime;

use std::time::{Duration, Instant};

use super::{Backend, EvalError, EvalReport, SharedNets};
use crate::kernel::{NetLane, Op, Program, Slot};
use codegen::Step;

pub use codegen::INLINE_SOLVE_MAX;
pub use object::{object_file, target_isa, ObjectSpec};

/// Why a program could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// The host is not supported by Cranelift.
    #[error("the JIT does not support this machine: {0}")]
    Host(String),
    /// The target of an object file is not one Cranelift can generate code for.
    #[error("--target {0}")]
    Target(String),
    /// Cranelift rejected the generated code (a bug in lagc).
    #[error("internal: Cranelift failed to compile the kernel: {0}")]
    Codegen(String),
}

/// Rows evaluated together by programs with nets (the slot table holds this many rows).
const CHUNK: usize = 256;

/// One net call of a program, evaluated between compiled segments.
struct NetCall {
    net: u32,
    args: Box<[Slot]>,
    dst: Slot,
    lanes: Box<[NetLane]>,
}

/// How a program with nets runs: compiled segments and net calls over a slot table.
struct Segmented {
    steps: Vec<Step>,
    calls: Vec<Option<NetCall>>,
    n_slots: usize,
    outputs: Vec<Slot>,
    nets: Option<SharedNets>,
    table: Vec<f64>,
    args: Vec<f64>,
    lanes: Vec<f64>,
}

/// A program compiled to native code.
pub struct JitKernel {
    code: ffi::CompiledCode,
    /// Room for the large solves' matrices (see `codegen::scratch_len`).
    scratch: Vec<f64>,
    /// `None` for programs without nets (one function writes the outputs).
    segmented: Option<Segmented>,
    n_inputs: usize,
    n_outputs: usize,
    compile_time: Duration,
}

impl JitKernel {
    /// Compiles `program`; `nets` evaluates its net calls.
    pub fn compile(program: &Program, nets: Option<SharedNets>) -> Result<JitKernel, JitError> {
        let start = Instant::now();
        let compiled = codegen::compile(program, false)?;
        let scratch = vec![0.0; codegen::scratch_len(program)];
        let code = ffi::CompiledCode::new(compiled.module, &compiled.funcs, scratch.len())?;
        let segmented = program.has_nets().then(|| Segmented {
            calls: program
                .insts
                .iter()
                .map(|i| match &i.op {
                    Op::Net { net, args, lanes } => Some(NetCall {
                        net: *net,
                        args: args.clone(),
                        dst: i.dst,
                        lanes: lanes.clone(),
                    }),
                    _ => None,
                })
                .collect(),
            steps: compiled.steps,
            n_slots: program.n_slots,
            outputs: program.outputs.clone(),
            nets,
            table: Vec::new(),
            args: Vec::new(),
            lanes: Vec::new(),
        });
        Ok(JitKernel {
            code,
            scratch,
            segmented,
            n_inputs: program.n_inputs,
            n_outputs: program.outputs.len(),
            compile_time: start.elapsed(),
        })
    }

    /// Wall time spent generating and compiling the code.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    fn run(&mut self, inputs: &[f64], outputs: &mut [f64]) -> Result<EvalReport, EvalError> {
        let (ni, no) = (self.n_inputs, self.n_outputs);
        let rows = super::batch_rows(inputs.len(), outputs.len(), ni, no)?;
        let singular = match &mut self.segmented {
            None => self
                .code
                .call(0, inputs, outputs, rows, ni, no, &mut self.scratch),
            Some(seg) => seg.run(&self.code, inputs, outputs, rows, ni, no, &mut self.scratch)?,
        };
        Ok(EvalReport { singular })
    }
}

impl Segmented {
    /// Runs the steps chunk by chunk of rows; returns the number of singular solves.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        code: &ffi::CompiledCode,
        inputs: &[f64],
        outputs: &mut [f64],
        rows: usize,
        ni: usize,
        no: usize,
        scratch: &mut [f64],
    ) -> Result<usize, EvalError> {
        let Some(nets) = self.nets.clone() else {
            return Err(EvalError::MissingNets);
        };
        let w = self.n_slots;
        let mut singular = 0;
        for start in (0..rows).step_by(CHUNK) {
            let r = CHUNK.min(rows - start);
            self.table.resize(r * w, 0.0);
            let table = &mut self.table[..r * w];
            let inp = &inputs[start * ni..(start + r) * ni];
            for step in &self.steps {
                match *step {
                    Step::Code(k) => singular += code.call(k, inp, table, r, ni, w, scratch),
                    Step::Net(i) => {
                        let Some(call) = &self.calls[i] else { continue };
                        let (na, nl) = (call.args.len(), call.lanes.len());
                        self.args.resize(r * na, 0.0);
                        self.lanes.resize(r * nl, 0.0);
                        for row in 0..r {
                            for (k, &a) in call.args.iter().enumerate() {
                                self.args[row * na + k] = table[row * w + a as usize];
                            }
                        }
                        nets.eval_batch(call.net, &self.args, &call.lanes, &mut self.lanes);
                        let d = call.dst as usize;
                        for row in 0..r {
                            table[row * w + d..row * w + d + nl]
                                .copy_from_slice(&self.lanes[row * nl..(row + 1) * nl]);
                        }
                    }
                }
            }
            for row in 0..r {
                for (k, &s) in self.outputs.iter().enumerate() {
                    outputs[(start + row) * no + k] = table[row * w + s as usize];
                }
            }
        }
        Ok(singular)
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
