//! Reporting helpers: numeric CSV reading and writing, plots, atomic output files,
//! progress bars and the run summary.

pub mod csv;
pub mod output;
pub mod plot;
pub mod progress;
pub mod summary;
