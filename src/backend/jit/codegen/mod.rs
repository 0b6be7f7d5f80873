//! Kernel program -> Cranelift functions that evaluate it for every row of a batch:
//! `f(inputs, outputs, rows, scratch) -> singular rows`.
//!
//! One code generator for two kinds of module: the JIT's (`compile`) and an object
//! file's (`define_kernel` on a `cranelift_object::ObjectModule`, see `object`). They
//! differ only in what the code calls ([`Calls`]): the JIT calls lagc's Rust functions
//! by symbol; an object file calls the C library's math functions and an LU function
//! emitted into the same object, so it depends on nothing but libc and libm.
//!
//! A program without nets becomes one function; each program slot is an SSA value
//! inside the loop body, inputs are loaded from the row's input slice and outputs stored
//! to its output slice. A program with nets is cut at its net calls into segments, one
//! function each, that read and write a row-major slot table instead of the outputs;
//! the caller evaluates the net calls between segments for the whole batch at once. Solves of up to
//! [`INLINE_SOLVE_MAX`] unknowns are unrolled inline (the interpreter's Gaussian
//! elimination with partial pivoting, pivot choice by `select`), with a branch to the
//! Rust solver when a pivot is too small; larger solves call it directly. In an
//! object file a too-small pivot gives NaN and a large solve calls the emitted LU.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind,
    Type, UserFuncName, Value,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

use super::{ffi, inline_math, runtime, JitError};
use crate::backend::solve::PIVOT_TOL;
use crate::kernel::{Op, Program, Slot};
use crate::symbolic::Func;

mod math;
mod solve;

/// Largest linear system solved by inline unrolled code.
pub const INLINE_SOLVE_MAX: usize = 4;

/// Whether `sin` and `cos` outside the inline range are one call of the C library's
/// `sincos` (glibc's gives the same results as its `sin` and `cos`, which Rust's
/// `f64::sin` and `f64::cos` call; the JIT resolves it in the running process).
const SINCOS: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// One step of evaluating a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Run compiled function `k` (of [`Compiled::funcs`]).
    Code(usize),
    /// Evaluate the net call at instruction `i` of the program.
    Net(usize),
}

/// A finalized module holding the kernel's functions, and their IR text if asked for.
pub(super) struct Compiled {
    /// The module owning the machine code.
    pub module: JITModule,
    /// The functions, in [`Step::Code`] numbering.
    pub funcs: Vec<FuncId>,
    /// What to run, in order. A single `Code(0)` for programs without nets: it writes
    /// the outputs. Otherwise the functions read and write the slot table.
    pub steps: Vec<Step>,
    /// The Cranelift IR as text (empty unless requested).
    pub text: String,
}

/// The functions [`define_kernel`] declared and defined in a module.
pub(super) struct Defined {
    /// The functions, in [`Step::Code`] numbering.
    pub funcs: Vec<FuncId>,
    /// What to run, in order (see [`Compiled::steps`]).
    pub steps: Vec<Step>,
    /// The Cranelift IR as text (empty unless requested).
    pub text: String,
}

/// What the generated code calls for elementary functions and linear solves.
#[derive(Clone, Copy, Debug)]
pub(super) enum Calls {
    /// The JIT: lagc's Rust functions (`runtime`) and the `lagc_solve` callback, which
    /// falls back to the pseudo-inverse.
    Rust,
    /// An object file: the C library's functions (with `sincos` where the target's C
    /// library has it); a singular small solve gives NaN, and larger solves call
    /// `solve`, an LU function in the same object (see `lu`).
    Libm {
        /// Whether `sin` and `cos` of one argument are one call of `sincos`.
        sincos: bool,
        /// The emitted LU function, when the program has a large solve.
        solve: Option<FuncId>,
    },
}

impl Calls {
    /// The symbol implementing unary `f`, or `None` when it is computed inline.
    fn unary(self, f: Func) -> Option<&'static str> {
        match self {
            Calls::Rust => runtime::unary_symbol(f).map(|(name, _)| name),
            Calls::Libm { .. } => libm_unary(f),
        }
    }

    /// The symbol of `powf`.
    fn powf(self) -> &'static str {
        match self {
            Calls::Rust => "lagc_powf",
            Calls::Libm { .. } => "pow",
        }
    }

    fn sincos(self) -> bool {
        match self {
            Calls::Rust => SINCOS,
            Calls::Libm { sincos, .. } => sincos,
        }
    }
}

/// The C library's name of unary `f`, or `None` when it is computed inline.
fn libm_unary(f: Func) -> Option<&'static str> {
    Some(match f {
        Func::Sin => "sin",
        Func::Cos => "cos",
        Func::Tan => "tan",
        Func::Asin => "asin",
        Func::Acos => "acos",
        Func::Sinh => "sinh",
        Func::Cosh => "cosh",
        Func::Atan | Func::Tanh | Func::Exp | Func::Log | Func::Sqrt | Func::Abs | Func::Sign => {
            return None
        }
    })
}

/// Where a function's results go.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// The program's outputs, to the output rows.
    Outputs,
    /// Slots used after instruction `end` (by index in `last_use`) to the slot table.
    Slots { end: usize, last_use: &'a [usize] },
}

fn codegen_err(e: impl std::fmt::Debug) -> JitError {
    JitError::Codegen(format!("{e:?}"))
}

/// Kernels with more instructions than this compile with the fast settings.
const LARGE_KERNEL: usize = 20_000;

/// Cranelift settings: optimised for speed (`large` kernels, above [`LARGE_KERNEL`]
/// instructions: no optimisation and the single-pass register allocator: their time
/// grows faster than the kernel); position-independent code when `pic` (object files,
/// which may be linked into shared libraries).
pub(super) fn flags(pic: bool, large: bool) -> Result<settings::Flags, JitError> {
    let mut flags = settings::builder();
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    let pic = if pic { "true" } else { "false" };
    for (k, v) in [
        ("opt_level", if large { "none" } else { "speed" }),
        (
            "regalloc_algorithm",
            if large { "single_pass" } else { "backtracking" },
        ),
        ("use_colocated_libcalls", "false"),
        ("is_pic", pic),
        ("enable_verifier", verify),
    ] {
        flags.set(k, v).map_err(codegen_err)?;
    }
    Ok(settings::Flags::new(flags))
}

/// Generates, compiles and finalizes the kernel of `program` for the host.
pub(super) fn compile(program: &Program, want_text: bool) -> Result<Compiled, JitError> {
    let isa: OwnedTargetIsa = cranelift_native::builder()
        .map_err(|e| JitError::Host(e.to_string()))?
        .finish(flags(false, program.n_instructions() > LARGE_KERNEL)?)
        .map_err(|e| JitError::Host(e.to_string()))?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    let unary = Func::ALL.iter().filter_map(|&f| runtime::unary_symbol(f));
    for (name, ptr) in unary
        .chain(runtime::binary_symbols())
        .chain(ffi::callback_symbols())
    {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let defined = define_kernel(&mut module, program, Calls::Rust, "", want_text)?;
    module.finalize_definitions().map_err(codegen_err)?;
    Ok(Compiled {
        module,
        funcs: defined.funcs,
        steps: defined.steps,
        text: defined.text,
    })
}

/// The signature of every kernel function: `(inputs, outputs, rows, scratch) -> i64`.
pub(super) fn kernel_signature<M: Module>(module: &M) -> cranelift_codegen::ir::Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params
        .extend([ptr, ptr, types::I64, ptr].map(AbiParam::new));
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// Declares and defines the functions of `program`'s kernel in `module` (local
/// symbols named `{prefix}lagc_kernel0`, ...), calling what `calls` says.
pub(super) fn define_kernel<M: Module>(
    module: &mut M,
    program: &Program,
    calls: Calls,
    prefix: &str,
    want_text: bool,
) -> Result<Defined, JitError> {
    let ptr = module.target_config().pointer_type();
    let sig = kernel_signature(module);
    // The pieces: all instructions at once, or the runs between net calls.
    let mut pieces: Vec<std::ops::Range<usize>> = Vec::new();
    let mut steps = Vec::new();
    let mut start = 0;
    for (i, inst) in program.insts.iter().enumerate() {
        if let Op::Net { .. } = inst.op {
            if start < i {
                steps.push(Step::Code(pieces.len()));
                pieces.push(start..i);
            }
            steps.push(Step::Net(i));
            start = i + 1;
        }
    }
    if start < program.insts.len() || pieces.is_empty() && steps.is_empty() {
        steps.push(Step::Code(pieces.len()));
        pieces.push(start..program.insts.len());
    }
    let has_nets = program.has_nets();
    let last_use = last_uses(program);

    let mut ctx = module.make_context();
    let mut fbc = FunctionBuilderContext::new();
    let target = module.target_config();
    let mut names: Vec<(u32, &'static str)> = Vec::new();
    let mut texts = Vec::new();
    let mut funcs = Vec::new();
    for (k, piece) in pieces.into_iter().enumerate() {
        let name: &'static str = if has_nets {
            "lagc_segment"
        } else {
            "lagc_kernel"
        };
        let func = module
            .declare_function(&format!("{prefix}{name}{k}"), Linkage::Local, &sig)
            .map_err(codegen_err)?;
        names.push((func.as_u32(), name));
        ctx.func.signature = sig.clone();
        ctx.func.name = UserFuncName::user(0, func.as_u32());
        {
            let b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
            let mut g = Gen {
                b,
                module: &mut *module,
                calls,
                ptr,
                funcs: HashMap::new(),
                names: &mut names,
                vals: vec![None; program.n_slots],
                table: None,
                scratch: None,
            };
            let mode = if has_nets {
                Mode::Slots {
                    end: piece.end,
                    last_use: &last_use,
                }
            } else {
                Mode::Outputs
            };
            g.function(program, piece, mode)?;
            g.b.finalize(target);
        }
        if want_text {
            texts.push(ctx.func.display().to_string());
        }
        module
            .define_function(func, &mut ctx)
            .map_err(codegen_err)?;
        module.clear_context(&mut ctx);
        funcs.push(func);
    }
    let text = if want_text {
        let legend: Vec<String> = names
            .iter()
            .map(|(id, name)| format!("; u0:{id} = {name}"))
            .collect();
        format!("{}\n{}", legend.join("\n"), texts.join("\n"))
    } else {
        String::new()
    };
    Ok(Defined { funcs, steps, text })
}

/// The scratch buffer the compiled functions need: room for the matrix, right-hand side,
/// solution and LU workspace of the largest solve that calls the Rust solver.
pub(super) fn scratch_len(p: &Program) -> usize {
    p.insts
        .iter()
        .filter_map(|i| match i.op {
            Op::Solve { n, .. } => Some(2 * n as usize * (n as usize + 1)),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// For every slot, the index of the last instruction reading it; `usize::MAX` for
/// outputs (read after the program).
fn last_uses(p: &Program) -> Vec<usize> {
    let mut last = vec![0; p.n_slots];
    for (i, inst) in p.insts.iter().enumerate() {
        inst.op.for_each_operand(|s| last[s as usize] = i);
    }
    for &o in &p.outputs {
        last[o as usize] = usize::MAX;
    }
    last
}

struct Gen<'a, M: Module> {
    b: FunctionBuilder<'a>,
    module: &'a mut M,
    calls: Calls,
    ptr: Type,
    funcs: HashMap<&'static str, FuncRef>,
    /// Function ids and symbols, for the IR listing's legend.
    names: &'a mut Vec<(u32, &'static str)>,
    vals: Vec<Option<Value>>,
    /// The current row of the slot table (segments of programs with nets).
    table: Option<Value>,
    /// The scratch buffer of [`scratch_len`] f64s (large solves).
    scratch: Option<Value>,
}

const F64: Type = types::F64;

impl<M: Module> Gen<'_, M> {
    /// The row loop over instructions `insts` of `p`.
    fn function(
        &mut self,
        p: &Program,
        insts: std::ops::Range<usize>,
        mode: Mode,
    ) -> Result<(), JitError> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let (inp, outp, rows) = (params[0], params[1], params[2]);
        self.scratch = Some(params[3]);
        let count = self.b.declare_var(types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(count, zero);
        let header = self.b.create_block();
        let i = self.b.append_block_param(header, types::I64);
        let body = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(header, &[BlockArg::Value(zero)]);

        self.b.switch_to_block(header);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, rows);
        self.b.ins().brif(more, body, &[], exit, &[]);

        self.b.switch_to_block(body);
        let in_off = self.b.ins().imul_imm_s(i, 8 * p.n_inputs as i64);
        let in_base = self.b.ins().iadd(inp, in_off);
        let out_width = match mode {
            Mode::Outputs => p.outputs.len(),
            Mode::Slots { .. } => p.n_slots,
        };
        let out_off = self.b.ins().imul_imm_s(i, 8 * out_width as i64);
        let out_base = self.b.ins().iadd(outp, out_off);
        if let Mode::Slots { .. } = mode {
            self.table = Some(out_base);
        }
        let mut sincos: HashMap<Slot, (Value, Value)> = HashMap::new();
        for inst in &p.insts[insts.clone()] {
            let d = inst.dst as usize;
            let v = match &inst.op {
                Op::Const(c) => self.b.ins().f64const(*c),
                Op::Input(k) => {
                    self.b
                        .ins()
                        .load(F64, MemFlagsData::trusted(), in_base, 8 * *k as i32)
                }
                Op::Func(f @ (Func::Sin | Func::Cos), a) => {
                    let (sin, cos) = match sincos.get(a) {
                        Some(&pair) => pair,
                        None => {
                            let x = self.val(*a);
                            let pair = self.sincos(x)?;
                            sincos.insert(*a, pair);
                            pair
                        }
                    };
                    if *f == Func::Sin {
                        sin
                    } else {
                        cos
                    }
                }
                Op::Func(f, a) => {
                    let a = self.val(*a);
                    self.func(*f, a)?
                }
                Op::Neg(a) => {
                    let a = self.val(*a);
                    self.b.ins().fneg(a)
                }
                Op::Add(a, c) => {
                    let (a, c) = (self.val(*a), self.val(*c));
                    self.b.ins().fadd(a, c)
                }
                Op::Sub(a, c) => {
                    let (a, c) = (self.val(*a), self.val(*c));
                    self.b.ins().fsub(a, c)
                }
                Op::Mul(a, c) => {
                    let (a, c) = (self.val(*a), self.val(*c));
                    self.b.ins().fmul(a, c)
                }
                Op::Div(a, c) => {
                    let (a, c) = (self.val(*a), self.val(*c));
                    self.b.ins().fdiv(a, c)
                }
                Op::Powi(a, n) => {
                    let a = self.val(*a);
                    self.powi(a, *n)
                }
                Op::Powf(a, c) => {
                    let (a, c) = (self.val(*a), self.val(*c));
                    self.call_f64(self.calls.powf(), &[a, c])?
                }
                Op::Atan2(a, c) => {
                    let (a, c) = (self.val(*a), self.val(*c));
                    inline_math::atan2(&mut self.b, a, c)
                }
                Op::Net { .. } => {
                    return Err(JitError::Codegen(
                        "a net call inside a compiled segment".into(),
                    ))
                }
                Op::Solve { n, matrix, rhs } => {
                    let a: Vec<Value> = matrix.iter().map(|&s| self.val(s)).collect();
                    let r: Vec<Value> = rhs.iter().map(|&s| self.val(s)).collect();
                    let (x, singular) = self.solve(*n as usize, &a, &r)?;
                    for (k, xv) in x.into_iter().enumerate() {
                        self.vals[d + k] = Some(xv);
                    }
                    let c = self.b.use_var(count);
                    let c = self.b.ins().iadd(c, singular);
                    self.b.def_var(count, c);
                    continue;
                }
            };
            self.vals[d] = Some(v);
        }
        match mode {
            Mode::Outputs => {
                for (k, &s) in p.outputs.iter().enumerate() {
                    let v = self.val(s);
                    self.b
                        .ins()
                        .store(MemFlagsData::trusted(), v, out_base, 8 * k as i32);
                }
            }
            Mode::Slots { end, last_use } => {
                for inst in &p.insts[insts] {
                    for s in inst.dst..inst.dst + inst.op.width() {
                        if last_use[s as usize] >= end {
                            let v = self.val(s);
                            self.b
                                .ins()
                                .store(MemFlagsData::trusted(), v, out_base, 8 * s as i32);
                        }
                    }
                }
            }
        }
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(header, &[BlockArg::Value(next)]);

        self.b.switch_to_block(exit);
        let c = self.b.use_var(count);
        self.b.ins().return_(&[c]);
        self.b.seal_all_blocks();
        Ok(())
    }

    /// The value of slot `s`: computed in this function, or (in a segment) loaded from
    /// the slot table, where an earlier segment or net call left it.
    fn val(&mut self, s: Slot) -> Value {
        if let Some(v) = self.vals[s as usize] {
            return v;
        }
        // Programs are SSA with operands defined before use (kernel invariant), so a
        // value not computed here comes from the table.
        let table = self.table.expect("kernel operand defined before use");
        let v = self
            .b
            .ins()
            .load(F64, MemFlagsData::trusted(), table, 8 * s as i32);
        self.vals[s as usize] = Some(v);
        v
    }

    /// A reference to the imported function `name` taking `n_f64` f64s (and, for the
    /// callbacks, the given integer/pointer parameters) returning `ret`.
    fn import(
        &mut self,
        name: &'static str,
        params: &[Type],
        ret: Option<Type>,
    ) -> Result<FuncRef, JitError> {
        if let Some(&f) = self.funcs.get(name) {
            return Ok(f);
        }
        let mut sig = self.module.make_signature();
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns.extend(ret.map(AbiParam::new));
        let id = self
            .module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(codegen_err)?;
        let f = self.module.declare_func_in_func(id, self.b.func);
        self.funcs.insert(name, f);
        self.names.push((id.as_u32(), name));
        Ok(f)
    }

    fn call_f64(&mut self, name: &'static str, args: &[Value]) -> Result<Value, JitError> {
        let f = self.import(name, &vec![F64; args.len()], Some(F64))?;
        let call = self.b.ins().call(f, args);
        Ok(self.b.inst_results(call)[0])
    }
}
