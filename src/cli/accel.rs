//! `lagc accel`: q'' (and the energy) at every state row of a CSV file.

use super::args::Common;
use super::shared::{backend_kind, read_csv, render_csv_error, system_index};
use super::weights;
use super::Failure;
use crate::driver::{self, Times};
use crate::report::csv::CsvWriter;
use crate::report::output::OutputFile;
use std::path::Path;

/// `lagc accel`: accelerations and energy at every state row of a CSV file.
pub fn command(
    model: &driver::Model,
    system: &str,
    states: &Path,
    out: Option<&Path>,
    common: &Common,
) -> Result<(), Failure> {
    system_index(model, system)?;
    let mut s = model.system(system, backend_kind(common))?;
    let sys = s.checked().clone();
    // Every net and learn param must be in the weights file; nets need one.
    let path = common.weights.as_deref();
    weights::for_command(&sys, path, None, Path::new(""))?;
    if let Some(p) = path {
        s.set_weights(&weights::read(p)?)?;
    }
    let table = read_csv(states)?;
    // State columns are required; `t` defaults to 0.
    let cols = table
        .require_columns(s.state_names())
        .map_err(|e| Failure::user(render_csv_error(states, &e.in_file(states))))?;
    let rows = table.rows.len();
    // Measured inputs: a column each.
    let ucols = table
        .require_columns(s.input_names())
        .map_err(|e| Failure::user(render_csv_error(states, &e.in_file(states))))?;
    let used = |c: &str| {
        c == "t" || s.state_names().iter().any(|n| n == c) || s.input_names().iter().any(|n| n == c)
    };
    if let Some(e) = super::preflight::non_finite(&table, used) {
        return Err(Failure::user(format!("error: {}: {e}\n", states.display())));
    }
    if rows == 0 {
        eprintln!(
            "warning: {}: the file has a header but no rows; the output has a header only",
            states.display()
        );
    }
    let state = ndarray::Array2::from_shape_fn((rows, cols.len()), |(i, j)| table.rows[i][cols[j]]);
    let t: Vec<f64> = match table.column("t") {
        Some(c) => table.rows.iter().map(|r| r[c]).collect(),
        None => vec![0.0; rows],
    };
    // Every row is evaluated before the output is opened, so a failure leaves no file.
    let inputs =
        ndarray::Array2::from_shape_fn((rows, ucols.len()), |(i, j)| table.rows[i][ucols[j]]);
    let inputs = (!ucols.is_empty()).then(|| inputs.view());
    let (results, singular) = s.eval_with_inputs(state.view(), Times::Each(t), inputs)?;
    let io_err =
        |e: std::io::Error| Failure::user(format!("error: writing the output failed: {e}\n"));
    match out {
        Some(p) => {
            let file = OutputFile::create(p).map_err(|e| {
                Failure::user(format!("error: cannot write {}: {e}\n", p.display()))
            })?;
            let file = write_rows(std::io::BufWriter::new(file), s.output_names(), &results)
                .map_err(io_err)?;
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(OutputFile::commit)
                .map_err(io_err)?;
        }
        None => {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            write_rows(stdout, s.output_names(), &results).map_err(io_err)?;
        }
    }
    if singular > 0 {
        eprintln!(
            "warning: system `{}`: the mass matrix d2L/dq'dq' is singular at {singular} of {rows} states; used the pseudo-inverse there",
            sys.name,
        );
    }
    Ok(())
}

/// Writes a header and `rows` as CSV to `w`, flushed; returns `w`.
fn write_rows<W: std::io::Write>(
    w: W,
    header: &[String],
    rows: &ndarray::Array2<f64>,
) -> std::io::Result<W> {
    let mut writer = CsvWriter::new(w, header)?;
    for row in rows.rows() {
        writer.write_row(&row.to_vec())?;
    }
    writer.flush()?;
    Ok(writer.into_inner())
}
