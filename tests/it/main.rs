//! Every integration test in one binary, so the crate is linked once for all of them.
//! `tests/jit_memory.rs` stays alone: it measures the resident memory of its process.

#[path = "../common/mod.rs"]
mod common;

mod banded;
mod chain_growth;
mod check_examples;
mod checks;
mod cli_accel;
mod cli_bench;
mod cli_check;
mod cli_run;
mod cli_simulate;
mod constraints;
mod csv_props;
mod derive_snapshots;
mod doc_commands;
mod error_corpus;
mod events;
mod export;
mod four_bar;
mod fuzz_check;
mod inputs;
mod integrate_accuracy;
mod integrate_energy;
mod jit_backend;
mod kernel_interp;
mod kernel_scaling;
mod lattice;
mod linearize;
mod nn_fixture;
mod nn_jet;
mod numeric;
mod output_interval;
mod physicist_derive;
mod plots;
mod reference_accel;
mod sample_draw;
mod simplify_props;
mod stress;
mod symbolic_props;
mod symbolic_rules;
mod train_cli;
mod train_fit;
mod train_grad;
mod train_mlp;
mod vectors;
mod weights_fuzz;
