//! Running one simulate block (from a `.lag` file or from `lagc simulate` flags):
//! compile, set up initial states, integrate every run, write rows, plot, summarise.
//!
//! Output files are written whole-row by whole-row to a temporary unique to the run
//! beside `F` ([`crate::report::output`]), flushed at least every quarter second, and
//! synced and renamed to `F` when the block ends, whether it finished or stopped on a
//! fault or Ctrl-C (then the diagnostic names the last time kept). A file at the final
//! path therefore always ends on a whole row and was closed by lagc, even with two runs
//! writing the same `F`; a killed process leaves the previous `F` intact and its own
//! temporary behind. A special target (`/dev/null`, a FIFO) is written directly. A
//! finished trajectory's last row is at t = n*dt_out for every run; a stopped one's is
//! earlier.

use super::args::Common;
pub(super) use super::block_error::BlockError;
use super::initial::{init_state, initial_states};
use super::shared::{backend_kind, derive_eom, derive_unrolled};
use super::{interrupt_flag, weights, Failure};
use crate::backend::SharedNets;
use crate::check::{CExpr, Dynamics, Method, Model, SimulateSettings, Source, SystemModel};
use crate::integrate::{self, Fault, Settings, Stopped, System};
use crate::kernel;
use crate::nn::Weights;
use crate::report::csv::CsvWriter;
use crate::report::output::OutputFile;
use crate::report::plot::{self, layout, Thinned};
use crate::report::progress::Progress;
use crate::report::summary::{energy_error, BlockSummary, EnergyTracker};
use crate::symbolic::eom::Eom;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often rows are flushed to the output file at least.
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Where a block's rows go.
pub(super) enum Sink {
    /// A file (written to a temporary, renamed at the end).
    File(PathBuf),
    /// Standard output (`lagc simulate` without `--out`).
    Stdout,
    /// Nowhere (a `lagc run` block without `out`).
    None,
}

/// What the caller knows beyond the block's settings.
pub(super) struct Context<'a> {
    /// The checked model (with this block's `set` applied).
    pub model: &'a Model,
    /// The folder input paths are relative to (the `.lag` file's).
    pub input_dir: &'a Path,
    /// The command-line flags.
    pub common: &'a Common,
    /// Weights trained by earlier blocks of the same `lagc run`.
    pub trained: Option<&'a Weights>,
}

/// Nets and `learn` values of a system: from `--weights`, else the block's
/// `weights =` (relative to the `.lag` file's folder), else weights trained earlier in
/// the same `lagc run`; `learn` params without any take their initial values.
pub(super) fn parameters(
    sys: &SystemModel,
    ctx: &Context,
    block_weights: Option<&str>,
) -> Result<(Option<SharedNets>, Vec<f64>), BlockError> {
    let path = match (&ctx.common.weights, block_weights) {
        (Some(w), _) => Some(w.clone()),
        (None, Some(b)) => Some(ctx.input_dir.join(b)),
        (None, None) => None,
    };
    // Plain messages, so that `lagc run` points at the block.
    weights::load_for(sys, path, ctx.trained).map_err(|f| {
        BlockError::new(
            f.message
                .trim_start_matches("error: ")
                .trim_end()
                .to_string(),
        )
    })
}

/// The truth system's energy along a trajectory (`compare = TRUTH`).
struct Truth {
    name: String,
    kernel: Box<dyn crate::backend::Backend + Send>,
    /// For each state input of the truth kernel, the index in the simulated state.
    map: Vec<usize>,
    input: Vec<f64>,
    out: [f64; 1],
}

impl Truth {
    fn new(
        ctx: &Context,
        sys: &SystemModel,
        state_names: &[String],
        truth: &SystemModel,
        weights: Option<&str>,
    ) -> Result<Truth, BlockError> {
        let is_h = |s: &SystemModel| matches!(s.dynamics, Dynamics::Hamiltonian(_));
        if is_h(sys) != is_h(truth) {
            let (h, l) = if is_h(sys) {
                (sys, truth)
            } else {
                (truth, sys)
            };
            return Err(BlockError::new(format!(
                "compare = {}: `{}` is an H system (its state holds momenta) and `{}` is not (its state holds velocities), so the truth energy along this trajectory is not defined",
                truth.name, h.name, l.name
            )));
        }
        if let Some(u) = truth.inputs.first() {
            return Err(BlockError::new(format!(
                "compare = {}: the truth has the measured input `{u}`; compare with a system without inputs",
                truth.name
            )));
        }
        let (nets, learns) = parameters(truth, ctx, weights)?;
        let mut eom = derive_eom(truth)?;
        let program = kernel::eom_program(&mut eom, false, true).map_err(|e| {
            BlockError::new(format!(
                "internal: cannot lower system `{}`: {e}",
                truth.name
            ))
        })?;
        let names = eom.input_names();
        let n2 = 2 * eom.dof();
        let mut map = Vec::with_capacity(n2);
        for name in &names[..n2] {
            match state_names.iter().position(|s| s == name) {
                Some(k) => map.push(k),
                None => {
                    return Err(BlockError::new(format!(
                        "compare = {}: the truth system's variable `{name}` is not a state variable of `{}` (variables are matched by name)",
                        truth.name, sys.name
                    )))
                }
            }
        }
        let mut input = vec![0.0; names.len()];
        input[n2 + 1..].copy_from_slice(&learns);
        Ok(Truth {
            name: truth.name.clone(),
            kernel: crate::backend::create_eom(program, backend_kind(ctx.common), nets),
            map,
            input,
            out: [0.0],
        })
    }

    fn energy(&mut self, t: f64, y: &[f64]) -> Result<f64, String> {
        let n2 = self.map.len();
        for (k, &i) in self.map.iter().enumerate() {
            self.input[k] = y[i];
        }
        self.input[n2] = t;
        self.kernel
            .eval(&self.input, &mut self.out)
            .map_err(|e| format!("system `{}`: {e}", self.name))?;
        Ok(self.out[0])
    }
}

/// Where a [`RowWriter`] writes: standard output, or an output file committed at the end.
enum RowSink {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(std::io::BufWriter<OutputFile>, PathBuf),
}

impl Write for RowSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            RowSink::Stdout(w) => w.write(buf),
            RowSink::File(w, _) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            RowSink::Stdout(w) => w.flush(),
            RowSink::File(w, _) => w.flush(),
        }
    }
}

/// Writes rows as whole lines, flushing at least every [`FLUSH_EVERY`].
struct RowWriter {
    csv: CsvWriter<RowSink>,
    last_flush: Instant,
}

impl RowWriter {
    fn open(sink: &Sink, header: &[String]) -> Result<Option<RowWriter>, BlockError> {
        let w = match sink {
            Sink::None => return Ok(None),
            Sink::Stdout => RowSink::Stdout(std::io::BufWriter::new(std::io::stdout())),
            Sink::File(path) => {
                let file = OutputFile::create(path).map_err(|e| {
                    BlockError::new(format!("cannot write {}: {e}", path.display()))
                })?;
                RowSink::File(std::io::BufWriter::new(file), path.clone())
            }
        };
        let csv = CsvWriter::new(w, header)
            .map_err(|e| BlockError::new(format!("writing the output failed: {e}")))?;
        Ok(Some(RowWriter {
            csv,
            last_flush: Instant::now(),
        }))
    }

    fn row(&mut self, values: &[f64]) -> std::io::Result<()> {
        self.csv.write_row(values)?;
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.csv.flush()?;
            self.last_flush = Instant::now();
        }
        Ok(())
    }

    /// Flushes, and makes a file the output (synced, renamed over the target).
    fn close(self) -> Result<(), String> {
        match self.csv.into_inner() {
            RowSink::File(w, path) => w
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(OutputFile::commit)
                .map_err(|e| format!("writing {} failed: {e}", path.display())),
            RowSink::Stdout(mut w) => match w.flush() {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(format!("writing the output failed: {e}"))
                }
                _ => Ok(()),
            },
        }
    }
}

/// False when the system's energy changes physically: a dissipation function, a
/// generalized force, or `t` in its dynamics.
fn conserved(sys: &SystemModel) -> bool {
    let mut uses_t = false;
    let mut look = |e: &CExpr| crate::check::visit(e, &mut |x| uses_t |= matches!(x, CExpr::Time));
    match &sys.dynamics {
        Dynamics::Lagrangian(e) | Dynamics::Hamiltonian(e) => look(e),
        Dynamics::Accel(es) => es.iter().for_each(&mut look),
    }
    sys.lets.iter().for_each(|(_, e)| look(e));
    sys.dissipation.is_none()
        && sys.forces.iter().all(|f| *f == CExpr::Num(0.0))
        && !uses_t
        && sys.events.is_empty()
}

/// The spelling of a method.
pub(super) fn method_name(m: Method) -> &'static str {
    Method::ALL
        .iter()
        .find(|(_, x)| *x == m)
        .map_or("?", |(n, _)| n)
}

/// The block's measured inputs (`inputs = "u.csv";`), for a system that has inputs.
fn signals(
    ctx: &Context,
    sys: &SystemModel,
    settings: &SimulateSettings,
) -> Result<Option<std::sync::Arc<integrate::Signals>>, BlockError> {
    if sys.inputs.is_empty() {
        return Ok(None);
    }
    let Some(file) = &settings.inputs else {
        return Err(BlockError::new(format!(
            "system `{}` has measured inputs ({}): give them with `inputs = \"FILE.csv\";` (columns t, {})",
            sys.name,
            sys.inputs.join(", "),
            sys.inputs.join(", ")
        )));
    };
    super::inputs::read(&ctx.input_dir.join(file), &sys.inputs, settings.t_end)
        .map(|s| Some(std::sync::Arc::new(s)))
        .map_err(BlockError::new)
}

/// Runs one simulate block of system `system` with `states` as initial states (or the
/// block's own `init` when `None`), writing rows to `sink`.
pub(super) fn run_block(
    ctx: &Context,
    system: usize,
    settings: &SimulateSettings,
    states: Option<Vec<Vec<f64>>>,
    sink: &Sink,
) -> Result<BlockSummary, BlockError> {
    let sys = &ctx.model.systems[system];
    let (nets, learns) = parameters(sys, ctx, settings.weights.as_deref())?;
    // The variational method needs the dense derivatives: arrays unrolled.
    let mut eom: Eom = if settings.method == Method::Variational {
        derive_unrolled(sys, "method = variational needs its dense Newton matrices")?
    } else {
        derive_eom(sys)?
    };
    let input_names = eom.input_names();
    let output_names = eom.output_names();
    let n2 = 2 * eom.dof();
    let state_names = &input_names[..n2];
    let mut integrator = System::new(
        &mut eom,
        backend_kind(ctx.common),
        nets,
        &learns,
        settings.method == Method::Variational,
    )
    .map_err(|e| BlockError::new(format!("internal: cannot lower system `{}`: {e}", sys.name)))?;
    let signals = signals(ctx, sys, settings)?;
    integrator.set_signals(signals.clone());
    let many = !matches!(settings.init, Source::Values(_));
    let states = match states {
        Some(s) => s,
        None => initial_states(sys, state_names, &settings.init, ctx.input_dir)?,
    };
    let mut truth = match settings.compare {
        Some(k) => Some(Truth::new(
            ctx,
            sys,
            state_names,
            &ctx.model.systems[k],
            settings.weights.as_deref(),
        )?),
        None => None,
    };

    let mut header = vec!["t".to_string()];
    header.extend(state_names.iter().cloned());
    header.extend(output_names.iter().cloned());
    if truth.is_some() {
        header.push("truth_energy".into());
    }
    header.extend(sys.inputs.iter().cloned());
    if many {
        header.push("run".into());
    }
    let integ = Settings {
        t_end: settings.t_end,
        dt: settings.dt,
        dt_out: settings.dt_out,
        method: settings.method,
        rtol: settings.rtol,
        atol: settings.atol,
        project_init: settings.project_init,
    };
    integ.steps_per_row().map_err(BlockError::new)?;
    let n_rows = integ.intervals() + 1;
    let stop = interrupt_flag();
    let mut writer = RowWriter::open(sink, &header)?;
    let mut progress = Progress::new(
        (n_rows * states.len()) as u64,
        &format!("{} ({})", sys.name, method_name(settings.method)),
        !ctx.common.quiet,
    );
    // Plot lines only with a plot, for the first runs, each thinned to a bounded number
    // of points (fewer when many runs are drawn, so that a block's lines are bounded).
    let plotting = settings.plot.is_some();
    let row_names = &header[1..1 + n2 + output_names.len()];
    let plan = match plotting {
        true => Some(
            plot::plan(row_names, n2 / 2, settings.plot_vars.as_deref())
                .map_err(|e| BlockError::new(format!("plot_vars: {e}")))?,
        ),
        false => None,
    };
    let drawn_runs = if plotting {
        states.len().min(layout::MAX_RUNS)
    } else {
        0
    };
    let limit = (plot::MAX_POINTS * 4 / drawn_runs.max(1)).clamp(500, plot::MAX_POINTS);
    let mut run_lines: Vec<plot::RunLines> = vec![];
    let mut summary = BlockSummary {
        system: sys.name.clone(),
        method: method_name(settings.method).to_string(),
        runs: states.len(),
        rows: 0,
        steps: 0,
        rejected: 0,
        events: 0,
        wall: Duration::ZERO,
        energy: vec![],
        conserved: conserved(sys),
        truth: truth.as_ref().map(|t| (t.name.clone(), vec![])),
        out: match sink {
            Sink::File(p) => Some(p.display().to_string()),
            _ => None,
        },
        plot: settings.plot.clone(),
    };
    let start = Instant::now();
    let mut failure: Option<(usize, Stopped, f64)> = None;
    // With many initial states, a run that diverges ends alone: the others still run,
    // and the block fails afterwards, naming them.
    let mut diverged: Vec<(usize, String)> = vec![];
    let mut row = vec![0.0; header.len()];
    let mut singular = 0;
    for (run, y0) in states.iter().enumerate() {
        let mut tracker = EnergyTracker::new();
        let mut truth_tracker = EnergyTracker::new();
        let draw = run < drawn_runs;
        let tracked: &[usize] = match &plan {
            Some(p) if draw => &p.columns,
            _ => &[],
        };
        let mut lines = vec![Thinned::with_limit(limit); tracked.len()];
        let mut e_line = Thinned::with_limit(limit);
        let mut te_line = Thinned::with_limit(limit);
        let mut last_t = 0.0;
        let result = integrate::simulate(&mut integrator, y0, &integ, &stop, &mut |r| {
            let energy = r.outputs[r.outputs.len() - 1];
            row[0] = r.t;
            row[1..1 + n2].copy_from_slice(r.state);
            row[1 + n2..1 + n2 + r.outputs.len()].copy_from_slice(r.outputs);
            let mut k = 1 + n2 + r.outputs.len();
            if let Some(tr) = truth.as_mut() {
                let te = tr.energy(r.t, r.state)?;
                row[k] = te;
                k += 1;
                truth_tracker.push(te);
                if draw {
                    te_line.push((r.t, energy_error(te, truth_tracker.initial().unwrap_or(te))));
                }
            }
            if let Some(u) = &signals {
                let ni = sys.inputs.len();
                u.at(r.t, &mut row[k..k + ni]);
                k += ni;
            }
            if many {
                row[k] = run as f64;
            }
            if let Some(w) = writer.as_mut() {
                w.row(&row)
                    .map_err(|e| format!("writing the output failed: {e}"))?;
            }
            tracker.push(energy);
            if draw {
                e_line.push((
                    r.t,
                    energy_error(energy, tracker.initial().unwrap_or(energy)),
                ));
            }
            for (line, &c) in lines.iter_mut().zip(tracked) {
                line.push((r.t, row[1 + c]));
            }
            last_t = r.t;
            progress.inc(1);
            Ok(())
        });
        let stats = match &result {
            Ok(s) => *s,
            Err(s) => s.stats,
        };
        summary.rows += stats.rows;
        summary.steps += stats.steps;
        summary.rejected += stats.rejected;
        summary.events += stats.events;
        singular = stats.singular;
        let lost = match &result {
            Err(stopped) if many && stopped.fault.is_divergence() => {
                diverged.push((run, stopped.fault.to_string()));
                true
            }
            _ => false,
        };
        if !lost {
            // The energy error over every step, not only over the rows.
            if let Some((lo, hi)) = stats.energy {
                tracker.push(lo);
                tracker.push(hi);
            }
            summary.energy.push(tracker);
            if let Some((_, t)) = summary.truth.as_mut() {
                t.push(truth_tracker);
            }
        }
        if draw {
            let has_energy = tracker.max_error().is_some();
            let mut energy = vec![if has_energy {
                e_line.into_points()
            } else {
                vec![]
            }];
            if truth.is_some() {
                energy.push(te_line.into_points());
            }
            run_lines.push(plot::RunLines {
                columns: lines.into_iter().map(Thinned::into_points).collect(),
                energy,
            });
        }
        match result {
            Err(_) if lost => {}
            Err(stopped) => {
                failure = Some((run, stopped, last_t));
                break;
            }
            Ok(_) => {}
        }
    }
    summary.wall = start.elapsed();
    progress.finish();
    let closed = writer.map(RowWriter::close).transpose();
    if let (Some(p), Some(plan)) = (&settings.plot, plan) {
        let mut title = format!(
            "{} ({}, dt = {}{})",
            sys.name,
            method_name(settings.method),
            settings.dt,
            settings
                .dt_out
                .map_or(String::new(), |d| format!(", dt_out = {d}"))
        );
        if states.len() > 1 {
            title += &format!(", {} runs", states.len());
        }
        let mut notes = vec![];
        if settings.plot_vars.is_none() && n2 / 2 > layout::DEFAULT_QUANTITIES {
            notes.push(format!(
                "the first {} of {} coordinates (`plot_vars = [...]` chooses)",
                layout::DEFAULT_QUANTITIES,
                n2 / 2
            ));
        }
        if matches!(sys.dynamics, Dynamics::Accel(_)) {
            notes.push("no energy error: an accel system has no energy".into());
        }
        let mut energy = vec!["energy error".to_string()];
        if let Some((name, _)) = &summary.truth {
            energy.push(format!("truth energy error ({name})"));
        }
        let fig = plot::trajectory_figure(&plot::Trajectory {
            title,
            names: row_names.to_vec(),
            plan,
            runs: run_lines,
            total_runs: states.len(),
            energy,
            notes,
        });
        plot::write(Path::new(p), &fig)
            .map_err(|e| BlockError::new(format!("cannot write the plot {p}: {e}")))?;
    }
    if singular > 0 {
        eprintln!(
            "warning: system `{}`: the mass matrix d2L/dq'dq' was singular at {singular} evaluations; used the pseudo-inverse there",
            sys.name
        );
    }
    if let Some((run, stopped, last_t)) = failure {
        let run_note = if states.len() > 1 {
            format!("run {run}: ")
        } else {
            String::new()
        };
        let kept = match sink {
            _ if states.len() == 1 && stopped.stats.rows == 0 => "no row was written".into(),
            Sink::File(p) => format!(
                "every row up to t = {} is kept in {}",
                integrate::time(last_t),
                p.display()
            ),
            Sink::Stdout => format!(
                "every row up to t = {} was written",
                integrate::time(last_t)
            ),
            Sink::None => format!(
                "the trajectory reached t = {} (no `out` file)",
                integrate::time(last_t)
            ),
        };
        let msg = match &stopped.fault {
            Fault::Output(m) if m.contains("Broken pipe") => {
                closed.map_err(BlockError::new)?;
                return Ok(summary);
            }
            f => format!("system `{}`: {run_note}{f}", sys.name),
        };
        if let Err(e) = closed {
            return Err(BlockError::Plain(msg, vec![e]));
        }
        return Err(BlockError::Plain(msg, vec![kept]));
    }
    closed.map_err(BlockError::new)?;
    if !diverged.is_empty() {
        let finished = states.len() - diverged.len();
        let mut notes: Vec<String> = diverged
            .iter()
            .map(|(run, fault)| format!("run {run}: {fault}"))
            .collect();
        notes.push(format!(
            "the other {finished} runs finished (every whole row of each run is kept); over them: {summary}"
        ));
        return Err(BlockError::Plain(
            format!(
                "system `{}`: {} of {} runs diverged",
                sys.name,
                diverged.len(),
                states.len()
            ),
            notes,
        ));
    }
    Ok(summary)
}

/// The block settings and initial state of `lagc simulate`.
pub(super) struct Flags<'a> {
    /// `--init a=1,a'=0`.
    pub init: Option<&'a str>,
    /// `--t-end`.
    pub t_end: f64,
    /// `--dt`.
    pub dt: f64,
    /// `--dt-out`.
    pub dt_out: Option<f64>,
    /// `--method`.
    pub method: Option<&'a str>,
    /// `--rtol`.
    pub rtol: Option<f64>,
    /// `--atol`.
    pub atol: Option<f64>,
    /// `--out`.
    pub out: Option<&'a Path>,
    /// `--plot`.
    pub plot: Option<&'a Path>,
    /// `--project-init`.
    pub project_init: bool,
    /// `--inputs`: the measured inputs' CSV.
    pub inputs: Option<&'a Path>,
}

/// `lagc simulate`: one trajectory from flags. Without `--out` the CSV goes to stdout and
/// the summary to stderr (so stdout stays valid CSV).
pub(super) fn command(
    file: &Path,
    system: &str,
    flags: &Flags,
    common: &Common,
) -> Result<(), Failure> {
    let src = super::shared::load(file, common)?;
    let model = src.checked();
    let sys_index = super::shared::system_index(&src, system)?;
    let sys = &model.systems[sys_index];
    let usage = |m: String| Failure::usage(format!("error: {m}\n"));
    let method = match flags.method {
        None => Method::Rk4,
        Some(m) => Method::ALL
            .iter()
            .find(|(n, _)| *n == m)
            .map(|(_, x)| *x)
            .ok_or_else(|| usage(format!("--method {m}: expected rk4, dopri5 or variational")))?,
    };
    if method == Method::Variational && matches!(sys.dynamics, Dynamics::Accel(_)) {
        return Err(usage(format!(
            "--method variational: system `{}` gives explicit accelerations; variational needs L or H (use rk4 or dopri5)",
            sys.name
        )));
    }
    for (flag, v) in [
        ("--t-end", Some(flags.t_end)),
        ("--dt", Some(flags.dt)),
        ("--dt-out", flags.dt_out),
        ("--rtol", flags.rtol),
        ("--atol", flags.atol),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                return Err(usage(format!("{flag} {v}: expected a positive number")));
            }
        }
    }
    if flags.dt > flags.t_end {
        return Err(usage(format!(
            "--dt {} is longer than --t-end {}",
            flags.dt, flags.t_end
        )));
    }
    if let Some(why) = crate::limits::steps_problem(flags.t_end, flags.dt) {
        return Err(usage(format!("--t-end / --dt: too many steps: {why}")));
    }
    if let Some(d) = flags.dt_out {
        if d > flags.t_end {
            return Err(usage(format!(
                "--dt-out {d} is longer than --t-end {}",
                flags.t_end
            )));
        }
        if let Some(why) = crate::limits::steps_problem(flags.t_end, d) {
            return Err(usage(format!("--t-end / --dt-out: too many rows: {why}")));
        }
        if method != Method::Dopri5 {
            if let Err(near) = integrate::steps_per_row(flags.dt, d) {
                return Err(usage(format!(
                    "--dt-out {d} is not a multiple of --dt {}: {}",
                    flags.dt,
                    integrate::output_interval_hint(method == Method::Variational, &near)
                )));
            }
        }
    }
    let eom = derive_eom(sys)?;
    let state_names: Vec<String> = eom.input_names()[..2 * eom.dof()].to_vec();
    let y0 = init_state(sys, &state_names, flags.init.unwrap_or(""))?;
    let settings = SimulateSettings {
        init: Source::Values(vec![]),
        t_end: flags.t_end,
        dt: flags.dt,
        dt_out: flags.dt_out,
        method,
        rtol: flags.rtol.unwrap_or(1e-9),
        atol: flags.atol.unwrap_or(1e-9),
        compare: None,
        weights: None,
        out: flags.out.map(|p| p.display().to_string()),
        plot: flags.plot.map(|p| p.display().to_string()),
        plot_vars: None,
        project_init: flags.project_init,
        // Relative to the current folder (the block's key is relative to the .lag file).
        inputs: flags.inputs.map(|p| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        }),
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    let ctx = Context {
        model,
        input_dir: dir,
        common,
        trained: None,
    };
    let sink = match flags.out {
        Some(p) => Sink::File(p.to_path_buf()),
        None => Sink::Stdout,
    };
    let summary = run_block(&ctx, sys_index, &settings, Some(vec![y0]), &sink)
        .map_err(BlockError::plain_failure)?;
    match flags.out {
        Some(_) => super::shared::stdout(&format!("{summary}\n"))?,
        None if !common.quiet => eprintln!("{summary}"),
        None => {}
    }
    Ok(())
}
