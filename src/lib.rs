//! lagc: a compiler for Lagrangians.
//!
//! The pipeline, one module per stage:
//! `syntax` (text -> AST) -> `check` (AST -> Model) -> `symbolic` (Model -> expression
//! DAG and equations of motion) -> `kernel` (DAG -> straight-line program) -> `backend`
//! (interpreter and Cranelift JIT) -> `integrate` (rk4, dopri5, variational trajectories)
//! and `train` (fitting nets and `learn` params to data). `diagnostics`, `report`,
//! `nn` (MLPs, jets, weights files), `numeric` (elementary functions as kernels compute
//! them) and `sample` (seeded random samples of a system's
//! variables) are ground-floor helpers;
//! `driver` is the library API on top of the stages (load, derive, compile, evaluate,
//! simulate, train on `ndarray` arrays); `cli` and the Python package sit on it.
//!
//! A Rust user needs only the driver's types, re-exported here:
//!
//! ```
//! let m = lagc::Model::load("examples/pendulum.lag".as_ref(), &[]).unwrap();
//! let s = m.system("pendulum", lagc::Backend::Jit).unwrap();
//! let a = s.accel(ndarray::array![[1.0, 0.0]].view(), None).unwrap(); // theta'' = -(g/l) sin(theta)
//! assert!((a[[0, 0]] + 9.81 * 1f64.sin()).abs() < 1e-12);
//! ```

pub mod backend;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod driver;
pub mod integrate;
pub mod kernel;
pub mod limits;
pub mod nn;
pub mod numeric;
pub mod report;
pub mod sample;
pub mod symbolic;
pub mod syntax;
pub mod timeline;
pub mod train;

pub use driver::{Backend, Error, ErrorKind, Method, Model, SimOptions, System, Trajectory};
