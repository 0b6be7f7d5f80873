//! Measured inputs of a simulate block (`inputs = "u.csv";`): the file read as signals
//! of time, with the problems `lagc check` reports at the setting before anything runs.

use crate::integrate::Signals;
use crate::report::csv as csvio;
use std::path::Path;

/// The signals `names` of the CSV at `path` (columns `t` and one per name), checked to
/// cover [0, t_end]: an error sentence (without `error:`) naming what is wrong.
pub(super) fn read(path: &Path, names: &[String], t_end: f64) -> Result<Signals, String> {
    let table = csvio::read_table(path).map_err(|e| {
        e.to_string()
            .trim_start_matches("error: ")
            .trim_end()
            .to_string()
    })?;
    let mut wanted = vec!["t".to_string()];
    wanted.extend(names.iter().cloned());
    let cols = table.require_columns(&wanted).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            e.to_string().trim_start_matches("error: ").trim_end()
        )
    })?;
    let column = |c: usize| table.rows.iter().map(|r| r[c]).collect::<Vec<f64>>();
    let s = Signals::new(
        names.to_vec(),
        column(cols[0]),
        cols[1..].iter().map(|&c| column(c)).collect(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    s.check_range(t_end)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(s)
}
