//! Reporting helpers: numeric CSV reading and writing, plots, progress bars and the run
//! summary.

pub mod csv;
pub mod plot;
pub mod progress;
pub mod summary;
