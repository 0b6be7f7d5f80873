//! `lagc train`: runs the train block of one system, command-line flags overriding its
//! settings; [`run_block`] is the same for one block of `lagc run`.
//!
//! Files: the weights (`save`, safetensors) and beside them the loss curve
//! (`NAME.loss.csv`: step, loss, val_loss, lr, and its plot `NAME.loss.png`); checkpoints go to `save` + `.ckpt`
//! (`SYSTEM.ckpt` without `save`) every `checkpoint` steps and on Ctrl-C.

use super::args::Common;
use super::Failure;
use crate::check::{RunSettings, Source, SystemModel, TrainSettings};
use crate::diagnostics::render;
use crate::driver;
use crate::nn::Weights;
use crate::report::csv::{self as csvio, CsvWriter};
use crate::report::output::OutputFile;
use crate::report::plot;
use crate::train::data::{self, DataError, Made};
use crate::train::nets::NnNets;
use crate::train::{checkpoint, TrainNets, Trainer};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Command-line overrides of a train block's settings (`None`: keep the block's).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--steps`
    pub steps: Option<usize>,
    /// `--batch`
    pub batch: Option<usize>,
    /// `--lr`
    pub lr: Option<f64>,
    /// `--lr-decay`
    pub lr_decay: Option<f64>,
    /// `--seed`
    pub seed: Option<u64>,
    /// `--val`
    pub val: Option<f64>,
    /// `--data` (relative to the current directory)
    pub data: Option<PathBuf>,
    /// `--save`
    pub save: Option<PathBuf>,
    /// `--checkpoint`
    pub checkpoint: Option<usize>,
    /// `--resume`
    pub resume: Option<PathBuf>,
}

/// What a finished training run produced.
pub struct Outcome {
    /// The trained parameters (learn params and net weights) as a weights file.
    pub weights: Weights,
    /// The report printed on stdout.
    pub report: String,
}

/// The trainable nets of a system with `nn`'s seeded initial weights for `seed`
/// (the same as `lagc bench` and `lagc simulate` use); `None` without nets.
fn nets_for(sys: &SystemModel, seed: u64) -> Option<Arc<dyn TrainNets>> {
    (!sys.nets.is_empty()).then(|| Arc::new(NnNets::init(sys, seed)) as Arc<dyn TrainNets>)
}

/// `lagc train FILE --system S [flags]`.
pub fn command(
    file: &Path,
    system: &str,
    over: &Overrides,
    common: &Common,
) -> Result<(), Failure> {
    let src = super::shared::load(file, common)?;
    let model = src.checked();
    let k = super::shared::system_index(&src, system)?;
    let Some(run) = model
        .runs
        .iter()
        .position(|r| r.system == k && matches!(r.settings, RunSettings::Train(_)))
    else {
        return Err(Failure::user(format!(
            "error: {} has no `train {system} {{ ... }}` block\n",
            file.display()
        )));
    };
    let out = run_block(&src, run, over, common)?;
    use std::io::Write;
    match std::io::stdout().lock().write_all(out.report.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::user(format!(
            "error: writing to stdout failed: {e}\n"
        ))),
        _ => Ok(()),
    }
}

fn usage(flag: &str, expected: &str) -> Failure {
    Failure::usage(format!("error: {flag}: expected {expected}\n"))
}

/// The block's settings with the flags applied (bad flag values are usage errors).
fn settings(block: &TrainSettings, o: &Overrides) -> Result<TrainSettings, Failure> {
    let mut s = block.clone();
    if let Some(x) = o.steps {
        if x == 0 {
            return Err(usage("--steps", "an integer >= 1"));
        }
        s.steps = x;
    }
    if let Some(x) = o.batch {
        if x == 0 {
            return Err(usage("--batch", "an integer >= 1"));
        }
        s.batch = x;
    }
    for (flag, v, slot) in [
        ("--lr", o.lr, &mut s.lr),
        ("--lr-decay", o.lr_decay, &mut s.lr_decay),
    ] {
        if let Some(x) = v {
            if !(x.is_finite() && x > 0.0) {
                return Err(usage(flag, "a number > 0"));
            }
            *slot = x;
        }
    }
    if let Some(x) = o.val {
        if !(0.0..1.0).contains(&x) {
            return Err(usage("--val", "a fraction in [0, 1)"));
        }
        s.val = x;
    }
    if let Some(x) = o.checkpoint {
        if x == 0 {
            return Err(usage("--checkpoint", "an integer >= 1"));
        }
        s.checkpoint = Some(x);
    }
    if let Some(x) = o.seed {
        s.seed = x;
    }
    if let Some(p) = &o.save {
        s.save = Some(p.display().to_string());
    }
    Ok(s)
}

/// Reads a CSV file; errors are rendered against the CSV text.
fn read_csv(path: &Path) -> Result<csvio::Table, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::user(format!("error: cannot read {}: {e}\n", path.display())))?;
    csvio::parse_table_bytes(&bytes).map_err(|e| csv_failure(path, &bytes, &e))
}

fn csv_failure(path: &Path, bytes: &[u8], e: &csvio::CsvError) -> Failure {
    let text = String::from_utf8_lossy(bytes);
    Failure::user(render(
        &path.display().to_string(),
        &text,
        &[e.to_diagnostic()],
    ))
}

/// Runs train block `run` of `src`, flags in `over` overriding it.
pub fn run_block(
    src: &driver::Model,
    run: usize,
    over: &Overrides,
    common: &Common,
) -> Result<Outcome, Failure> {
    let model = src.checked();
    let r = &model.runs[run];
    let RunSettings::Train(block) = &r.settings else {
        return Err(Failure::user("error: internal: not a train block\n"));
    };
    let settings = settings(block, over)?;
    // Per-sample params and the block's `set` need the systems re-checked (params
    // sampled per sample become inputs; `set` values replace the trained system's).
    let truth_idx = match (&over.data, &settings.data) {
        (None, Source::Sample(spec)) => spec.truth,
        _ => None,
    };
    let params = match (&settings.data, truth_idx) {
        (Source::Sample(spec), Some(t)) if over.data.is_none() => {
            data::sampled_params(spec, &model.systems[t])
        }
        _ => vec![],
    };
    let rewritten;
    let model = if params.is_empty() && r.set.is_empty() {
        model
    } else {
        let overrides = super::shared::parse_overrides(common)?;
        let systems: Vec<usize> = truth_idx.into_iter().chain([r.system]).collect();
        rewritten = data::per_sample_model(
            src.text(),
            src.ast(),
            &overrides,
            &systems,
            &params,
            (r.system, &r.set),
        )
        .map_err(|d| Failure::user(src.render(&d)))?;
        &rewritten
    };
    let sys = &model.systems[r.system];
    let lag_dir = src.dir().to_path_buf();
    let kind = super::shared::backend_kind(common);
    let made: Result<Made, DataError> = match (&over.data, &settings.data) {
        (Some(p), _) => {
            let table = read_csv(p)?;
            data::from_table(&table, sys).map_err(|e| with_file(e, p))
        }
        (None, Source::File(f)) => {
            let p = lag_dir.join(f);
            let table = read_csv(&p)?;
            data::from_table(&table, sys).map_err(|e| with_file(e, &p))
        }
        (None, Source::Sample(spec)) => match spec.truth.and_then(|t| model.systems.get(t)) {
            Some(truth) => data::from_sample(spec, truth, sys, settings.momenta, kind),
            None => Err(DataError::Other("`sample` names no truth system".into())),
        },
        (None, Source::Values(_)) => Err(DataError::Other("the block gives no data".into())),
    };
    let made = made.map_err(|e| match e {
        DataError::Source(d) => Failure::user(src.render(&[d])),
        DataError::Csv(c) => Failure::user(format!("error: {c}\n")),
        DataError::Other(s) => Failure::user(format!("error: train `{}`: {s}\n", sys.name)),
    })?;
    for w in &made.warnings {
        eprintln!("warning: train `{}`: {w}", sys.name);
    }
    if made.data.is_empty() {
        return Err(Failure::user(format!(
            "error: train `{}`: no usable training rows\n",
            sys.name
        )));
    }
    let nets = nets_for(sys, settings.seed);
    let mut learns: Vec<f64> = sys.learns.iter().map(|(_, v)| *v).collect();
    // Initial weights: --weights, then the block's `weights =` (relative to the .lag file).
    let initial = match (&common.weights, &settings.weights) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(w)) => Some(lag_dir.join(w)),
        _ => None,
    };
    if let Some(p) = initial {
        let file = super::weights::read(&p)?;
        let (l, flat) = crate::train::initial_from(sys, nets.as_deref(), &file)
            .map_err(|e| Failure::user(format!("error: {}: {e}\n", p.display())))?;
        learns = l;
        if let Some(n) = &nets {
            n.set_params(&flat);
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let fail =
        |e: crate::train::TrainError| Failure::user(format!("error: train `{}`: {e}\n", sys.name));
    let mut tr =
        Trainer::new(sys, &settings, &made.data, nets, &learns, kind, threads).map_err(fail)?;
    let ckpt_path = PathBuf::from(match &settings.save {
        Some(s) => format!("{s}.ckpt"),
        None => format!("{}.ckpt", sys.name),
    });
    let fp = tr.fingerprint();
    if let Some(p) = &over.resume {
        tr.state = checkpoint::load(p, fp, tr.n_params())
            .map_err(|e| Failure::user(format!("error: {e}\n")))?;
        if tr.state.step > settings.steps {
            return Err(Failure::user(format!(
                "error: {} is at step {}, past the run's {} steps\n",
                p.display(),
                tr.state.step,
                settings.steps
            )));
        }
    }
    let save_ckpt = |tr: &Trainer| {
        checkpoint::save(&ckpt_path, fp, &tr.state).map_err(|e| {
            Failure::user(format!(
                "error: cannot write {}: {e}\n",
                ckpt_path.display()
            ))
        })
    };
    let pb = if common.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(settings.steps as u64)
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "train {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed} < {eta})",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(sys.name.clone());
    pb.set_position(tr.state.step as u64);
    let stop = super::interrupt_flag();
    let t0 = std::time::Instant::now();
    let start_step = tr.state.step;
    // Where the bar cannot be drawn (a log file, a pipe), a plain line per tenth of
    // the run instead, so that a long background run can be watched.
    let log_lines = !common.quiet && !std::io::stderr().is_terminal();
    let every = settings.steps.div_ceil(10).max(1);
    while !tr.done() {
        let rep = tr.step().map_err(fail)?;
        pb.set_position(tr.state.step as u64);
        if let Some(p) = rep.point {
            pb.set_message(format!("loss {:.3e} val {:.3e}", p.loss, p.val_loss));
        }
        if log_lines && (tr.state.step % every == 0 || tr.done()) {
            if let Some(p) = tr.state.curve.last() {
                eprintln!(
                    "train {}: step {}/{}, loss {:.3e}, validation loss {:.3e}, {:.1} s",
                    sys.name,
                    tr.state.step,
                    settings.steps,
                    p.loss,
                    p.val_loss,
                    t0.elapsed().as_secs_f64()
                );
            }
        }
        // A checkpoint only after a step that was applied: a diverging run never
        // replaces the last good checkpoint with a state whose loss is not finite.
        if rep.applied
            && settings
                .checkpoint
                .is_some_and(|c| tr.state.step % c == 0 && !tr.done())
        {
            save_ckpt(&tr)?;
        }
        if stop.swap(false, Ordering::SeqCst) {
            pb.abandon();
            save_ckpt(&tr)?;
            return Err(Failure::user(format!(
                "error: train `{}` interrupted at step {} of {}; saved {}; continue with --resume {}\n",
                sys.name,
                tr.state.step,
                settings.steps,
                ckpt_path.display(),
                ckpt_path.display()
            )));
        }
    }
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let val = tr.val_loss_full().map_err(fail)?;
    if let Some(why) = tr.divergence(val) {
        return Err(Failure::user(format!(
            "error: train `{}` diverged: {why}; no weights were written (earlier weights and checkpoints are kept); try a smaller lr\n",
            sys.name
        )));
    }
    let weights = tr.weights();
    let mut written = vec![];
    if let Some(save) = &settings.save {
        let path = PathBuf::from(save);
        super::weights::write(&path, &weights)?;
        written.push(save.clone());
        let curve = curve_path(&path);
        write_curve(&curve, &tr).map_err(|e| {
            Failure::user(format!("error: cannot write {}: {e}\n", curve.display()))
        })?;
        written.push(curve.display().to_string());
        let png = curve.with_extension("png");
        plot::write(&png, &curve_figure(&sys.name, &tr))
            .map_err(|e| Failure::user(format!("error: cannot write {}: {e}\n", png.display())))?;
        written.push(png.display().to_string());
    }
    let st = &tr.state;
    let mut report = format!(
        "train {}: {} steps, batch {}, {} training and {} validation rows\n",
        sys.name,
        settings.steps,
        settings.batch,
        tr.train_data().len(),
        tr.val_data().len()
    );
    let last = st.curve.last().map_or(f64::NAN, |p| p.loss);
    report += &format!(
        "  loss {} (last curve point), validation loss {} ({})\n",
        fmt(last),
        fmt(val),
        match settings.loss {
            crate::check::Loss::Mse => "mse",
            crate::check::Loss::L1 => "l1",
        }
    );
    for (name, v) in tr.learns() {
        report += &format!("  {name} = {v}\n");
    }
    let done = st.step - start_step;
    report += &format!(
        "  {:.2} s, {:.0} samples/s\n",
        secs,
        (done * settings.batch) as f64 / secs.max(1e-9)
    );
    if st.skipped_steps > 0 || st.skipped_samples > 0 {
        report += &format!(
            "  skipped {} steps with a non-finite gradient and {} samples with a singular mass matrix or a non-finite prediction\n",
            st.skipped_steps, st.skipped_samples
        );
    }
    for w in &written {
        report += &format!("  wrote {w}\n");
    }
    Ok(Outcome { weights, report })
}

fn fmt(x: f64) -> String {
    format!("{x:.6e}")
}

fn with_file(e: DataError, p: &Path) -> DataError {
    match e {
        DataError::Csv(c) => DataError::Csv(c.in_file(p)),
        other => other,
    }
}

/// `w.safetensors` -> `w.loss.csv` (beside the weights).
fn curve_path(weights: &Path) -> PathBuf {
    let stem = weights
        .file_stem()
        .map_or_else(|| "weights".into(), |s| s.to_string_lossy().into_owned());
    weights.with_file_name(format!("{stem}.loss.csv"))
}

/// The loss curve as a figure: the training and validation losses above (a log scale),
/// the learning rate below (a log scale too), over the steps.
fn curve_figure(system: &str, tr: &Trainer) -> plot::Figure {
    let line = |label: &str, color: usize, f: &dyn Fn(&crate::train::Point) -> f64| plot::Series {
        label: Some(label.to_string()),
        color,
        points: tr
            .state
            .curve
            .iter()
            .map(|p| (p.step as f64, f(p)))
            .collect(),
    };
    plot::Figure {
        title: format!("training {system}: loss over steps"),
        rows: vec![
            plot::Panel {
                x_label: "step".into(),
                y_label: "loss".into(),
                series: vec![
                    line("loss", 0, &|p| p.loss.log10()),
                    line("validation loss", 1, &|p| p.val_loss.log10()),
                ],
                log10: true,
                ..plot::Panel::default()
            },
            plot::Panel {
                x_label: "step".into(),
                y_label: "learning rate".into(),
                series: vec![line("learning rate", 2, &|p| p.lr.log10())],
                log10: true,
                ..plot::Panel::default()
            },
        ],
        ..plot::Figure::default()
    }
}

fn write_curve(path: &Path, tr: &Trainer) -> std::io::Result<()> {
    let f = std::io::BufWriter::new(OutputFile::create(path)?);
    let header: Vec<String> = ["step", "loss", "val_loss", "lr"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut w = CsvWriter::new(f, &header)?;
    for p in &tr.state.curve {
        w.write_row(&[p.step as f64, p.loss, p.val_loss, p.lr])?;
    }
    w.into_inner()
        .into_inner()
        .map_err(|e| e.into_error())?
        .commit()
}
