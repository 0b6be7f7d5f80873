//! Neural terms: multilayer perceptrons, their seeded initialisation, second-order jets
//! through the layers (forward) and their reverse pass, and safetensors weights files.
//!
//! A net call is one block of the kernel program: [`SystemNets`] implements
//! [`crate::kernel::NetEval`], computing the value, the needed first derivatives and
//! the needed second derivatives of one call together ([`jet`]). The layout of the
//! parameters (flat, layer by layer: `w_k` row-major of shape (fan_in, fan_out), then
//! `b_k`) is the one of the weights files ([`weights`]) and of the gradients
//! [`Mlp::jet_vjp`] and [`Mlp::folded_vjp`] accumulate for the trainer.
//!
//! This is a ground-floor helper: it reads the checked net shapes
//! ([`crate::check::Net`]) and the kernel's lane descriptions
//! ([`crate::kernel::NetLane`]), both plain data, and nothing else of the pipeline.

pub mod fold;
pub mod init;
pub mod jet;
pub mod mlp;
pub mod nets;
pub mod weights;

pub use jet::{EvalPlan, JetPlan};
pub use mlp::Mlp;
pub use nets::SystemNets;
pub use weights::{Weights, WeightsError};
