//! clap definitions of every command in LANGUAGE.md §5.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// lagc: a compiler for Lagrangians.
#[derive(Parser, Debug)]
#[command(name = "lagc", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Evaluation backend.
    #[arg(long, value_enum, default_value_t = BackendKind::Jit, global = true)]
    pub backend: BackendKind,
    /// Override a param: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", global = true)]
    pub set: Vec<String>,
    /// Weights file (safetensors) for nets and learn params.
    #[arg(long, global = true)]
    pub weights: Option<PathBuf>,
    /// No progress output (warnings are still printed).
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Memory limit for sizes that come from the input (4G, 512M, bytes); default half
    /// the physical memory.
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        value_parser = crate::limits::parse_size,
        allow_negative_numbers = true
    )]
    pub max_memory: Option<u64>,
}

/// Which backend evaluates kernels.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Cranelift JIT-compiled native code.
    Jit,
    /// The reference interpreter.
    Interp,
}

/// Output formats of `lagc derive`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeriveFormat {
    /// Plain infix text.
    Text,
    /// LaTeX.
    Latex,
    /// One JSON object keyed by system.
    Json,
}

/// Output formats of `lagc linearize`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearizeFormat {
    /// Plain text.
    Text,
    /// One JSON object.
    Json,
}

/// Intermediate representations `lagc emit` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrKind {
    /// The kernel program (SSA over f64 slots).
    Kernel,
    /// The Cranelift IR.
    Clif,
}

/// What `lagc export` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// A relocatable object file, S.o.
    Object,
    /// A shared library, libS.so (linked by the C compiler: $CC, else cc).
    Shared,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every simulate and train block in the file, in order.
    Run {
        /// The .lag file.
        file: PathBuf,
        /// Skip the train blocks; later blocks use the weights they saved before.
        #[arg(long)]
        no_train: bool,
        /// Project initial states that violate constraints onto them.
        #[arg(long)]
        project_init: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Parse and check only.
    Check {
        /// The .lag file.
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Print dL/dq, dL/dq', H, M, the energy and the accelerations.
    Derive {
        /// The .lag file.
        file: PathBuf,
        /// Only this system.
        #[arg(long)]
        system: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DeriveFormat::Text)]
        format: DeriveFormat,
        #[command(flatten)]
        common: Common,
    },
    /// Linearise about a state at rest: the equilibrium check, M q'' + C q' + K q = 0
    /// and the normal modes.
    Linearize {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// The point: coordinate values NAME=VALUE,... (others 0; velocities 0).
        #[arg(long, value_name = "NAME=VALUE,...", default_value = "")]
        at: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = LinearizeFormat::Text)]
        format: LinearizeFormat,
        #[command(flatten)]
        common: Common,
    },
    /// Print the kernel program or the Cranelift IR of a system.
    Emit {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// Which IR.
        #[arg(long, value_enum, default_value_t = IrKind::Kernel)]
        ir: IrKind,
        #[command(flatten)]
        common: Common,
    },
    /// Accelerations (and energy) at each state row of a CSV file.
    Accel {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// Input states (CSV).
        #[arg(long)]
        states: PathBuf,
        /// Output CSV (stdout without it).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Integrate one trajectory.
    Simulate {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// Initial values: a=1,a'=2*pi/5 (expressions of numbers, pi and params).
        #[arg(long)]
        init: Option<String>,
        /// End time.
        #[arg(long = "t-end", allow_negative_numbers = true)]
        t_end: f64,
        /// Step of rk4 and variational; dopri5's largest first step. Also the output
        /// interval without --dt-out.
        #[arg(long, allow_negative_numbers = true)]
        dt: f64,
        /// Output interval (default: dt); for rk4 and variational a multiple of dt.
        #[arg(long = "dt-out", allow_negative_numbers = true)]
        dt_out: Option<f64>,
        /// rk4, dopri5 or variational.
        #[arg(long)]
        method: Option<String>,
        /// dopri5 relative tolerance.
        #[arg(long, allow_negative_numbers = true)]
        rtol: Option<f64>,
        /// dopri5 absolute tolerance.
        #[arg(long, allow_negative_numbers = true)]
        atol: Option<f64>,
        /// Trajectory CSV.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Plot (.png or .svg).
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Project an initial state that violates the constraints onto them.
        #[arg(long)]
        project_init: bool,
        /// The measured inputs: a CSV with columns t and one per input.
        #[arg(long)]
        inputs: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Run the train block of a system.
    Train {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// Optimiser steps.
        #[arg(long, allow_negative_numbers = true)]
        steps: Option<usize>,
        /// Batch size.
        #[arg(long, allow_negative_numbers = true)]
        batch: Option<usize>,
        /// Learning rate.
        #[arg(long, allow_negative_numbers = true)]
        lr: Option<f64>,
        /// Learning-rate decay.
        #[arg(long = "lr-decay", allow_negative_numbers = true)]
        lr_decay: Option<f64>,
        /// Seed.
        #[arg(long, allow_negative_numbers = true)]
        seed: Option<u64>,
        /// Validation fraction.
        #[arg(long, allow_negative_numbers = true)]
        val: Option<f64>,
        /// Training data CSV.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Output weights file.
        #[arg(long)]
        save: Option<PathBuf>,
        /// Steps between checkpoints.
        #[arg(long, allow_negative_numbers = true)]
        checkpoint: Option<usize>,
        /// Resume from a checkpoint.
        #[arg(long)]
        resume: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Write a system's compiled kernels as an object file (or shared library) and a C
    /// header.
    Export {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// Output folder (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Target triple, e.g. aarch64-unknown-linux-gnu (default: this machine).
        #[arg(long)]
        target: Option<String>,
        /// Object file or shared library.
        #[arg(long, value_enum, default_value_t = ExportFormat::Object)]
        format: ExportFormat,
        #[command(flatten)]
        common: Common,
    },
    /// Compile time and cost per state, JIT and interpreter.
    Bench {
        /// The .lag file.
        file: PathBuf,
        /// The system.
        #[arg(long)]
        system: String,
        /// Number of states.
        #[arg(long, default_value_t = 10_000, allow_negative_numbers = true)]
        n: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Also measure training throughput.
        #[arg(long)]
        train: bool,
        #[command(flatten)]
        common: Common,
    },
}
