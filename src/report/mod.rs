//! Reporting helpers: numeric CSV reading and writing.

pub mod csv;
