//! lagc: a compiler for Lagrangians.
//!
//! The pipeline, one module per stage:
//! `syntax` (text -> AST) -> `check` (AST -> Model) -> `symbolic` (Model -> expression
//! DAG and equations of motion) -> `kernel` (DAG -> straight-line program) -> `backend`
//! (interpreter). `diagnostics`, `report` and `nn` (MLPs, jets, weights files) are
//! ground-floor helpers; `cli` sits on top.

pub mod backend;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod kernel;
pub mod nn;
pub mod report;
pub mod symbolic;
pub mod syntax;
