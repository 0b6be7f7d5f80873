//! symbolic stage: the hash-consed expression DAG, differentiation and printing.
//!
//! Architecture invariant: symbolic never sees pest types; it works on `ExprId`s.
//! The equations of motion ([`eom`]) assemble dL/dq, H, M, the
//! energy and q'' from these primitives.

pub mod constraints;
pub mod dag;
mod diff;
pub mod eom;
mod func;
pub mod lattice;
mod lower;
pub mod print;
pub mod simplify;
mod walk;

pub use dag::{powi, Dag, ExprId, Func, MulParts, NetFn, NetInfo, Node, PowKind, VarId};
