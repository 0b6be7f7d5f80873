//! Weights for a command that evaluates a system: where they come from, and the net
//! evaluator and `learn` values they give.
//!
//! Order (LANGUAGE.md §4): the `--weights FILE` flag (a command-line path, relative to
//! the current directory), then the run block's `weights = "F"` (relative to the `.lag`
//! file's folder). A `train` earlier in the same `lagc run` comes third; the runner
//! passes those weights itself.

use super::Failure;
use crate::backend::SharedNets;
use crate::check::SystemModel;
use crate::nn::nets::learn_values;
use crate::nn::{SystemNets, Weights};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The weights file for a command: the `--weights` flag's path as given, else the
/// block's `weights =` resolved against the folder of `lag_file`; `None` when neither
/// is given.
pub fn resolve(flag: Option<&Path>, block: Option<&str>, lag_file: &Path) -> Option<PathBuf> {
    if let Some(w) = flag {
        return Some(w.to_path_buf());
    }
    block.map(|b| {
        let dir = lag_file.parent().unwrap_or_else(|| Path::new(""));
        dir.join(b)
    })
}

/// Reads and parses a weights file, refusing one larger than the memory limit (a
/// device such as `/dev/zero` is read up to the limit, then refused).
pub fn read(path: &Path) -> Result<Weights, Failure> {
    use std::io::Read;
    let fail = |e: String| {
        Failure::user(format!(
            "error: cannot read weights file {}: {e}\n",
            path.display()
        ))
    };
    let limit = crate::limits::max_memory();
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let len = file.metadata().map_or(0, |m| m.len());
    if len > limit {
        return Err(fail(
            crate::limits::refuse(len as f64, "the file").unwrap_or_default(),
        ));
    }
    let mut bytes = vec![];
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > limit {
        let why = crate::limits::refuse(bytes.len() as f64, "the file");
        return Err(fail(why.unwrap_or_default()));
    }
    Weights::from_bytes(&bytes)
        .map_err(|e| Failure::user(format!("error: weights file {}: {e}\n", path.display())))
}

/// Writes `weights` as a safetensors file, atomically (a temporary renamed over `path`).
pub fn write(path: &Path, weights: &Weights) -> Result<(), Failure> {
    let bytes = weights
        .to_bytes()
        .map_err(|e| Failure::user(format!("error: cannot encode weights: {e}\n")))?;
    crate::report::output::write_atomic(path, &bytes)
        .map_err(|e| Failure::user(format!("error: cannot write {}: {e}\n", path.display())))
}

/// The nets of `sys` and its `learn` values (in `sys.learns` order) from `weights`
/// (read from `path`, named in errors). Every net and every `learn` must be in the file.
pub fn from_weights(
    sys: &SystemModel,
    weights: &Weights,
    path: &Path,
) -> Result<(SystemNets, Vec<f64>), Failure> {
    let fail = |e: crate::nn::WeightsError| {
        Failure::user(format!(
            "error: weights file {} does not fit system `{}`: {e}\n",
            path.display(),
            sys.name
        ))
    };
    let nets = SystemNets::from_weights(sys, weights).map_err(fail)?;
    let learns = learn_values(sys, weights).map_err(fail)?;
    Ok((nets, learns))
}

/// The nets and `learn` values of `sys` for a command that evaluates it: from the
/// weights file `lag_file`'s command line (`flag`) or block (`block`, relative to the
/// `.lag` file's folder) names, in that order. Without a file, `learn` params take
/// their initial values and a system with nets is an error.
pub fn for_command(
    sys: &SystemModel,
    flag: Option<&Path>,
    block: Option<&str>,
    lag_file: &Path,
) -> Result<(Option<SharedNets>, Vec<f64>), Failure> {
    load_for(sys, resolve(flag, block, lag_file), None)
}

/// The nets and `learn` values of `sys` from the file `path` if given, else from
/// `trained` (weights trained earlier in the same `lagc run`) when they hold every
/// tensor the system needs, else the initial `learn` values (an error for a system
/// with nets).
pub fn load_for(
    sys: &SystemModel,
    path: Option<PathBuf>,
    trained: Option<&Weights>,
) -> Result<(Option<SharedNets>, Vec<f64>), Failure> {
    let initial: Vec<f64> = sys.learns.iter().map(|(_, v)| *v).collect();
    if sys.nets.is_empty() && sys.learns.is_empty() {
        return Ok((None, initial));
    }
    let shared = |nets: SystemNets| -> Option<SharedNets> {
        (!sys.nets.is_empty()).then(|| Arc::new(nets) as SharedNets)
    };
    if let Some(path) = path {
        let weights = read(&path)?;
        let (nets, learns) = from_weights(sys, &weights, &path)?;
        return Ok((shared(nets), learns));
    }
    let earlier = Path::new("(the weights trained earlier in this run)");
    match trained {
        Some(w) if from_weights(sys, w, earlier).is_ok() => {
            let (nets, learns) = from_weights(sys, w, earlier)?;
            Ok((shared(nets), learns))
        }
        _ if sys.nets.is_empty() => Ok((None, initial)),
        _ => Err(Failure::user(format!(
            "error: system `{}` calls neural nets, and it needs weights: give --weights FILE, `weights = \"FILE\";` in the block, or train it earlier in the file\n",
            sys.name
        ))),
    }
}
