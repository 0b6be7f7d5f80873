//! lagc: a compiler for Lagrangians.
//!
//! The pipeline, one module per stage:
//! `syntax` (text -> AST) -> `check` (AST -> Model) -> `symbolic` (Model -> expression
//! DAG and equations of motion) -> `kernel` (DAG -> straight-line program) -> `backend`
//! (interpreter and Cranelift JIT) -> `integrate` (rk4, dopri5, variational trajectories)
//! and `train` (fitting nets and `learn` params to data). `diagnostics`, `report`,
//! `nn` (MLPs, jets, weights files) and `sample` (seeded random samples of a system's
//! variables) are ground-floor helpers;
//! `cli` sits on top.

pub mod backend;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod integrate;
pub mod kernel;
pub mod nn;
pub mod report;
pub mod sample;
pub mod symbolic;
pub mod syntax;
pub mod train;
