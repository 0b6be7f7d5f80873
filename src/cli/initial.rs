//! Initial states of a simulate block (`init` values, a CSV, `sample(...)`) and of
//! `lagc simulate --init`.

use super::block_error::BlockError;
use super::shared::read_csv;
use super::Failure;
use crate::check::{CExpr, Dynamics, SampleSpec, Source, SystemModel};
use crate::sample;
use std::path::Path;

/// `init = sample(...)`: one initial state per sample (variables the spec does not
/// mention start at 0).
fn sample_states(spec: &SampleSpec, sys: &SystemModel) -> Result<Vec<Vec<f64>>, BlockError> {
    let sampled = sample::draw(spec, sys).map_err(BlockError::Source)?;
    let n2 = 2 * sys.dof();
    Ok(sampled.rows.into_iter().map(|r| r[..n2].to_vec()).collect())
}

/// The value of an `init` expression for array element `i`.
fn constant(e: &CExpr, i: i64) -> f64 {
    match e {
        CExpr::Num(x) => *x,
        CExpr::IndexVar(_) => i as f64,
        CExpr::Neg(a) => -constant(a, i),
        CExpr::Binary(op, a, b) => op.apply(constant(a, i), constant(b, i)),
        CExpr::Call(f, args) => f.apply(
            constant(&args[0], i),
            args.get(1).map_or(0.0, |b| constant(b, i)),
        ),
        _ => f64::NAN,
    }
}

/// Initial states (each `2 * dof` long) of a block.
pub(super) fn initial_states(
    sys: &SystemModel,
    state_names: &[String],
    init: &Source,
    input_dir: &Path,
) -> Result<Vec<Vec<f64>>, BlockError> {
    let n = sys.dof();
    match init {
        Source::Values(assigns) => {
            let is_h = matches!(sys.dynamics, Dynamics::Hamiltonian(_));
            let mut y = vec![0.0; 2 * n];
            let mut offset = 0;
            let offsets: Vec<usize> = sys
                .coords
                .iter()
                .map(|c| {
                    let o = offset;
                    offset += c.size();
                    o
                })
                .collect();
            for a in assigns {
                let (c, vel) = match sys.coords.iter().position(|c| c.name == a.name) {
                    Some(_) if is_h && a.primes > 0 => {
                        return Err(BlockError::new(format!(
                            "`init {}'`: `{}` is an H system, which starts from momenta ({})",
                            a.name,
                            sys.name,
                            sys.momenta.join(", ")
                        )))
                    }
                    Some(c) => (c, a.primes > 0),
                    None => match sys.momenta.iter().position(|p| *p == a.name) {
                        Some(c) => (c, true),
                        None => {
                            return Err(BlockError::new(format!(
                                "`init {}`: not a state variable of `{}`",
                                a.name, sys.name
                            )))
                        }
                    },
                };
                let coord = &sys.coords[c];
                let elements: Vec<usize> = match (a.element, coord.len) {
                    (Some(k), _) => vec![k],
                    (None, Some(len)) => (0..len).collect(),
                    (None, None) => vec![0],
                };
                for k in elements {
                    let x = constant(&a.value, k as i64);
                    if !x.is_finite() {
                        return Err(BlockError::new(format!(
                            "`init {}`: the value is not a finite number ({x})",
                            state_names[offsets[c] + k + if vel { n } else { 0 }]
                        )));
                    }
                    y[offsets[c] + k + if vel { n } else { 0 }] = x;
                }
            }
            Ok(vec![y])
        }
        Source::File(name) => {
            let path = input_dir.join(name);
            let table = read_csv(&path)?;
            let cols: Vec<Option<usize>> = state_names.iter().map(|s| table.column(s)).collect();
            if cols.iter().all(Option::is_none) {
                return Err(BlockError::new(format!(
                    "{}: no column names a state variable of `{}` (expected some of {}; found {})",
                    path.display(),
                    sys.name,
                    state_names.join(","),
                    table.header.join(",")
                )));
            }
            if table.rows.is_empty() {
                return Err(BlockError::new(format!(
                    "{}: no initial states (the file has a header but no rows)",
                    path.display()
                )));
            }
            Ok(table
                .rows
                .iter()
                .map(|row| cols.iter().map(|c| c.map_or(0.0, |c| row[c])).collect())
                .collect())
        }
        Source::Sample(spec) => sample_states(spec, sys),
    }
}

/// The initial state `--init NAME=VALUE,...` gives (values are expressions, as in a
/// block's `init`; unnamed variables start at 0). Anything wrong is a usage error,
/// located in the flag's text.
pub(super) fn init_state(
    sys: &SystemModel,
    names: &[String],
    text: &str,
) -> Result<Vec<f64>, Failure> {
    let assigns = crate::check::init_flag(sys, text)
        .map_err(|d| Failure::usage(crate::diagnostics::render("--init", text, &d)))?;
    let init = crate::check::Source::Values(assigns);
    let mut states = initial_states(sys, names, &init, Path::new("")).map_err(|e| {
        let f = e.plain_failure();
        Failure::usage(f.message.replacen("error: ", "error: --init: ", 1))
    })?;
    Ok(states.pop().unwrap_or_else(|| vec![0.0; names.len()]))
}
