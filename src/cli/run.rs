//! `lagc run`: every run block of a file, in file order, stopping at the first failure.

use super::args::Common;
use super::shared::{load, parse_overrides, stdout};
use super::simulate::{self, BlockError, Context, Sink};
use super::Failure;
use super::{train, weights};
use crate::check::{Run, RunSettings, SimulateSettings};
use crate::diagnostics::{Diagnostic, Span};
use crate::driver;
use crate::nn::Weights;
use std::path::Path;

/// Runs every block of `file`; the summary of each goes to stdout as it finishes. With
/// `no_train`, train blocks are skipped and the weights files they `save` stand in for
/// their results.
pub(super) fn command(
    file: &Path,
    no_train: bool,
    project_init: bool,
    common: &Common,
) -> Result<(), Failure> {
    let src = load(file, common)?;
    super::preflight::blocks(&src, file, common, no_train)?;
    let model = src.checked();
    if model.runs.is_empty() {
        stdout(&format!(
            "{}: no simulate or train blocks to run\n",
            file.display()
        ))?;
        return Ok(());
    }
    let input_dir = file.parent().unwrap_or(Path::new("."));
    // Weights trained by earlier blocks: later blocks of any system whose nets and
    // `learn` params they all hold use them (unless the block names a file).
    let mut trained: Option<Weights> = None;
    for (k, run) in model.runs.iter().enumerate() {
        match &run.settings {
            RunSettings::Train(t) if no_train => {
                let sys = &model.systems[run.system].name;
                let saved = t.save.as_deref().map(Path::new).filter(|p| p.exists());
                match saved {
                    Some(p) => {
                        trained
                            .get_or_insert_with(Weights::new)
                            .merge(weights::read(p)?);
                        stdout(&format!(
                            "train {sys}: skipped (--no-train); using {}\n",
                            p.display()
                        ))?;
                    }
                    None => stdout(&format!("train {sys}: skipped (--no-train)\n"))?,
                }
            }
            RunSettings::Train(_) => {
                let outcome = train::run_block(&src, k, &Default::default(), common)?;
                trained
                    .get_or_insert_with(Weights::new)
                    .merge(outcome.weights);
                stdout(&outcome.report)?;
            }
            RunSettings::Simulate(s) => {
                let block_model = with_block_set(&src, run, common)?;
                let ctx = Context {
                    model: block_model.checked(),
                    input_dir,
                    common,
                    trained: trained.as_ref(),
                };
                let sink = match &s.out {
                    Some(o) => Sink::File(o.into()),
                    None => Sink::None,
                };
                let s = SimulateSettings {
                    project_init,
                    ..s.clone()
                };
                let summary = simulate::run_block(&ctx, run.system, &s, None, &sink)
                    .map_err(|e| located(&src, run, e))?;
                stdout(&format!("{summary}\n"))?;
            }
        }
    }
    Ok(())
}

/// The model with the block's `set` overrides applied on top of `--set` (params
/// defined from an overridden one are recomputed, in every system that declares it, so
/// a `compare` truth sees the same constants).
fn with_block_set(
    src: &driver::Model,
    run: &Run,
    common: &Common,
) -> Result<driver::Model, Failure> {
    if run.set.is_empty() {
        return Ok(src.clone());
    }
    let mut overrides = parse_overrides(common)?;
    overrides.extend(run.set.iter().cloned());
    Ok(src.instantiate(&overrides)?)
}

/// A block's failure, located at the block's first line.
fn located(src: &driver::Model, run: &Run, e: BlockError) -> Failure {
    match e {
        BlockError::Done(f) => f,
        BlockError::Source(d) => Failure::user(src.render(&[d])),
        BlockError::Plain(msg, notes) => {
            let start = run.span.start;
            let line_end = src.text()[start..]
                .find('\n')
                .map_or(run.span.end, |k| start + k);
            let mut d = Diagnostic::error(Span::new(start, line_end.min(run.span.end)), msg)
                .with_label("this block failed");
            for n in notes {
                d = d.with_note(n);
            }
            Failure::user(src.render(&[d]))
        }
    }
}
