//! Training data: states of the trained system and their targets, sampled from a truth
//! system or read from a CSV table, and the seeded train/validation split.

use super::adjoint::Kind;
use crate::backend;
use crate::check::{Dynamics, Model, Momenta, SampleSpec, SystemModel};
use crate::diagnostics::Diagnostic;
use crate::integrate::{Projection, INITIAL_TOLERANCE};
use crate::kernel::{self, Output};
use crate::report::csv::{CsvError, Table};
use crate::sample::{self, state_names, Rng};
use crate::symbolic::eom::{velocity_name, Eom, EomKind};
use crate::syntax::ast;

/// Projections (each up to the integrator's Gauss-Newton iterations) of one sampled
/// state before it counts as off its constraints.
const PROJECTION_ROUNDS: usize = 8;

/// Rows of inputs `(q, v or p, t)` of the trained system and their targets (q'' for L
/// and accel systems, (q', p') for H systems), row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Inputs per row: 2 dof + 1 (q, v or p, t), then one per sampled param.
    pub n_in: usize,
    /// Names of the per-sample params after `t` in each input row.
    pub params: Vec<String>,
    /// Targets per row.
    pub n_out: usize,
    /// `rows * n_in` values.
    pub inputs: Vec<f64>,
    /// `rows * n_out` values.
    pub targets: Vec<f64>,
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.inputs.len().checked_div(self.n_in).unwrap_or(0)
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inputs of row `i`.
    pub fn input(&self, i: usize) -> &[f64] {
        &self.inputs[i * self.n_in..(i + 1) * self.n_in]
    }

    /// Targets of row `i`.
    pub fn target(&self, i: usize) -> &[f64] {
        &self.targets[i * self.n_out..(i + 1) * self.n_out]
    }

    fn push(&mut self, input: &[f64], target: &[f64]) {
        self.inputs.extend_from_slice(input);
        self.targets.extend_from_slice(target);
    }

    fn empty_like(&self) -> Dataset {
        Dataset {
            n_in: self.n_in,
            n_out: self.n_out,
            params: self.params.clone(),
            ..Dataset::default()
        }
    }

    /// Splits off a validation set of `round(val * len)` rows (at least one row stays
    /// for training), chosen by a seeded shuffle; both parts keep their file order.
    pub fn split(&self, val: f64, seed: u64) -> (Dataset, Dataset) {
        let n = self.len();
        let n_val = ((val * n as f64).round() as usize).min(n.saturating_sub(1));
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = Rng::new(seed ^ 0x5eed_0005_1117);
        for i in (1..n).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let mut is_val = vec![false; n];
        for &i in &order[..n_val] {
            is_val[i] = true;
        }
        let (mut train, mut valid) = (self.empty_like(), self.empty_like());
        for (i, &v) in is_val.iter().enumerate() {
            let part = if v { &mut valid } else { &mut train };
            part.push(self.input(i), self.target(i));
        }
        (train, valid)
    }
}

/// Why data could not be made.
#[derive(Debug)]
pub enum DataError {
    /// A located problem in the `.lag` file (a distribution that cannot be sampled).
    Source(Diagnostic),
    /// A problem with a CSV file.
    Csv(CsvError),
    /// Anything else, as one sentence.
    Other(String),
}

impl From<CsvError> for DataError {
    fn from(e: CsvError) -> DataError {
        DataError::Csv(e)
    }
}

/// Data and the warnings met making it.
pub struct Made {
    /// The rows.
    pub data: Dataset,
    /// Sentences for the user (dropped rows, singular truths, estimated derivatives).
    pub warnings: Vec<String>,
}

/// The trained system's kind.
pub fn kind_of(sys: &SystemModel) -> Kind {
    match sys.dynamics {
        Dynamics::Lagrangian(_) => Kind::Lagrangian,
        Dynamics::Hamiltonian(_) => Kind::Hamiltonian,
        Dynamics::Accel(_) => Kind::Accel,
    }
}

fn scalar_names(sys: &SystemModel) -> Vec<String> {
    let s = state_names(sys);
    s[..sys.dof()].to_vec()
}

/// Samples `spec` from the truth system `truth` and computes the targets of `trained`
/// with the truth's compiled kernel (`kind` picks the backend).
pub fn from_sample(
    spec: &SampleSpec,
    truth: &SystemModel,
    trained: &SystemModel,
    momenta: Momenta,
    kind: backend::Kind,
) -> Result<Made, DataError> {
    if !truth.nets.is_empty() {
        return Err(DataError::Other(format!(
            "the truth system `{}` calls neural nets; a truth must be analytic",
            truth.name
        )));
    }
    if let Some((who, u)) = [truth, trained]
        .iter()
        .find_map(|s| s.inputs.first().map(|u| (&s.name, u)))
    {
        return Err(DataError::Other(format!(
            "system `{who}` has the measured input `{u}`, which `sample(...)` cannot draw: train systems with inputs on a CSV with a column per input (`data = \"file.csv\";`)"
        )));
    }
    let drawn = sample::draw(spec, truth).map_err(DataError::Source)?;
    let n_state = 2 * truth.dof();
    // Sampled params are learn params of the (rewritten, see `per_sample_model`) truth.
    let sampled: Vec<String> = drawn.names[n_state..]
        .iter()
        .filter(|n| *n != "t")
        .cloned()
        .collect();
    if let Some(p) = sampled
        .iter()
        .find(|p| truth.learns.iter().all(|(l, _)| l != *p))
    {
        return Err(DataError::Other(format!(
            "internal: the sampled param `{p}` is not an input of the truth `{}`",
            truth.name
        )));
    }
    let t_col = drawn.column("t");
    let tq = scalar_names(truth);
    let n = tq.len();
    let trained_kind = kind_of(trained);
    let mut eom = Eom::derive(truth);
    let truth_is_l = matches!(eom.kind, EomKind::Lagrangian { .. } | EomKind::Lattice(_));
    let canonical =
        trained_kind == Kind::Hamiltonian && truth_is_l && momenta == Momenta::Canonical;
    if canonical && eom.lattice().is_some() {
        // Canonical momenta come from the dense dL/dq', H and M.
        eom = Eom::derive_unrolled(truth);
    }
    // Outputs: the truth's q'' (or q', p') without the energy, then for canonical
    // momenta p = dL/dq' and the pieces of p' = H q'' + M q' + dp/dt.
    let mut spec_k = kernel::spec_for(&mut eom);
    spec_k.outputs.pop();
    if canonical {
        if let EomKind::Lagrangian {
            dl_dv, hess, mixed, ..
        } = &eom.kind
        {
            let (dl_dv, hess, mixed) = (dl_dv.clone(), hess.clone(), mixed.clone());
            let outputs = &mut spec_k.outputs;
            outputs.extend(dl_dv.iter().map(|&e| Output::Expr(e)));
            outputs.extend(hess.iter().chain(&mixed).map(|&e| Output::Expr(e)));
            for &p in &dl_dv {
                let d = eom.dag.diff(p, eom.t);
                outputs.push(Output::Expr(d));
            }
        }
    }
    let truth_h = matches!(eom.kind, EomKind::Hamiltonian { .. });
    let program = if eom.lattice().is_some() {
        kernel::eom_program(&mut eom, true, false)
    } else {
        kernel::lower(&eom.dag, &spec_k).map(kernel::EomProgram::Dense)
    }
    .map_err(|e| DataError::Other(format!("internal: cannot lower the truth: {e}")))?;
    let mut be = backend::create_eom(program, kind, None);
    let (ni, no) = (be.n_inputs(), be.n_outputs());
    // Each truth learn param: its sampled column, or its initial value.
    let learn_cols: Vec<Result<usize, f64>> = truth
        .learns
        .iter()
        .map(|(n, v)| drawn.column(n).ok_or(*v))
        .collect();
    let rows = drawn.rows.len();
    let mut tin = Vec::with_capacity(rows * ni);
    for r in &drawn.rows {
        tin.extend_from_slice(&r[..n_state]);
        tin.push(t_col.map_or(0.0, |c| r[c]));
        tin.extend(learn_cols.iter().map(|c| match c {
            Ok(c) => r[*c],
            Err(v) => *v,
        }));
    }
    project_rows(&eom, kind, n_state, &mut tin, ni)?;
    let mut tout = vec![0.0; rows * no];
    let report = be
        .eval_batch(&tin, &mut tout)
        .map_err(|e| DataError::Other(format!("evaluating the truth `{}`: {e}", truth.name)))?;
    let mut warnings = vec![];
    if report.singular > 0 {
        warnings.push(format!(
            "the truth `{}` has a singular mass matrix at {} of {rows} sampled states (pseudo-inverse used)",
            truth.name, report.singular
        ));
    }
    // Map trained names to truth columns.
    let names = scalar_names(trained);
    let mut idx = Vec::with_capacity(names.len());
    for nm in &names {
        match tq.iter().position(|x| x == nm) {
            Some(k) => idx.push(k),
            None => {
                return Err(DataError::Other(format!(
                    "system `{}` has the coordinate `{nm}`, which the truth `{}` lacks (coordinates are matched by name)",
                    trained.name, truth.name
                )))
            }
        }
    }
    let m = names.len();
    match (trained_kind, truth_h) {
        (Kind::Lagrangian | Kind::Accel, true) => {
            return Err(DataError::Other(format!(
                "system `{}` needs accelerations, and the truth `{}` is a Hamiltonian system; train an H system on it",
                trained.name, truth.name
            )))
        }
        (Kind::Hamiltonian, false) if !truth_is_l && momenta == Momenta::Canonical => {
            return Err(DataError::Other(format!(
                "canonical momenta need a Lagrangian truth, and `{}` gives accelerations; use `momenta = velocity;`",
                truth.name
            )))
        }
        _ => {}
    }
    // The per-sample params the trained system takes (as its own param of that name).
    let params: Vec<String> = sampled
        .iter()
        .filter(|p| trained.learns.iter().any(|(l, _)| l == *p))
        .cloned()
        .collect();
    let param_cols: Vec<usize> = params.iter().filter_map(|p| drawn.column(p)).collect();
    let mut data = Dataset {
        n_in: 2 * m + 1 + params.len(),
        params,
        n_out: if trained_kind == Kind::Hamiltonian {
            2 * m
        } else {
            m
        },
        ..Dataset::default()
    };
    let mut input = vec![0.0; data.n_in];
    let mut target = vec![0.0; data.n_out];
    let mut dropped = 0;
    for r in 0..rows {
        let x = &tin[r * ni..(r + 1) * ni];
        let y = &tout[r * no..(r + 1) * no];
        for (i, &k) in idx.iter().enumerate() {
            input[i] = x[k];
            let (vel, acc) = (x[n + k], y[k]);
            match trained_kind {
                Kind::Lagrangian | Kind::Accel => {
                    input[m + i] = vel;
                    target[i] = acc;
                }
                Kind::Hamiltonian if truth_h => {
                    input[m + i] = vel; // the truth's momentum
                    target[i] = y[k];
                    target[m + i] = y[n + k];
                }
                Kind::Hamiltonian if canonical => {
                    let p = y[n + k];
                    let h = &y[2 * n + k * n..2 * n + (k + 1) * n];
                    let mx = &y[2 * n + n * n + k * n..2 * n + n * n + (k + 1) * n];
                    let dpdt = y[2 * n + 2 * n * n + k];
                    let mut pdot = dpdt;
                    for j in 0..n {
                        pdot += h[j] * y[j] + mx[j] * x[n + j];
                    }
                    input[m + i] = p;
                    target[i] = vel;
                    target[m + i] = pdot;
                }
                Kind::Hamiltonian => {
                    input[m + i] = vel;
                    target[i] = vel;
                    target[m + i] = acc;
                }
            }
        }
        input[2 * m] = x[n_state];
        for (j, &c) in param_cols.iter().enumerate() {
            input[2 * m + 1 + j] = drawn.rows[r][c];
        }
        if input.iter().chain(&target).all(|v| v.is_finite()) {
            data.push(&input, &target);
        } else {
            dropped += 1;
        }
    }
    if dropped > 0 {
        warnings.push(format!(
            "dropped {dropped} of {rows} samples whose truth values are not finite"
        ));
    }
    Ok(Made { data, warnings })
}

/// Projects each truth input row of `tin` (`ni` wide: the state (`n_state`), t, the
/// learn params) onto the constraints of `eom` as a simulation does (q by Gauss-Newton
/// onto phi = 0, then q' onto g = 0), so that a sampled state is one the truth can be in.
fn project_rows(
    eom: &Eom,
    kind: backend::Kind,
    n_state: usize,
    tin: &mut [f64],
    ni: usize,
) -> Result<(), DataError> {
    let Some(spec) = kernel::constraint_spec(eom) else {
        return Ok(());
    };
    let program = kernel::lower(&eom.dag, &spec)
        .map_err(|e| DataError::Other(format!("internal: cannot lower the constraints: {e}")))?;
    let cons = &eom.constraints;
    let mut p = Projection::new(
        backend::create(program, kind, None),
        cons.names.clone(),
        cons.holonomic(),
        n_state / 2,
        &vec![0.0; ni - n_state - 1],
    );
    for (r, row) in tin.chunks_exact_mut(ni).enumerate() {
        let (state, rest) = row.split_at_mut(n_state);
        p.set_learns(&rest[1..]);
        let t = rest[0];
        let fail = |why: String| {
            DataError::Other(format!(
                "cannot project sampled state {} onto the constraints of the truth: {why}",
                r + 1
            ))
        };
        // A drawn state may be far off: project until it is on, a few rounds at most.
        let mut off = None;
        for _ in 0..PROJECTION_ROUNDS {
            p.project(t, state).map_err(|e| fail(e.to_string()))?;
            let res = p.residuals(t, state).map_err(|e| fail(e.to_string()))?;
            let tol = INITIAL_TOLERANCE * (1.0 + state.iter().fold(0.0f64, |m, x| m.max(x.abs())));
            off = (res.size > tol)
                .then(|| format!("`{}` is still off by {:.3e}", res.name, res.size));
            if off.is_none() {
                break;
            }
        }
        if let Some(why) = off {
            return Err(fail(why));
        }
    }
    Ok(())
}

/// Reads training data for `trained` from a table: the state columns (coordinates, then
/// velocities or momenta), an optional `t`, and the targets (`q''` columns, or `q'` and
/// `p'` columns for H systems). Without targets, a table with `t` is differentiated by
/// central differences (per `run` when there is a `run` column), with a warning.
pub fn from_table(table: &Table, trained: &SystemModel) -> Result<Made, DataError> {
    let kind = kind_of(trained);
    let state = state_names(trained);
    let m = trained.dof();
    let targets: Vec<String> = match kind {
        Kind::Hamiltonian => state.iter().map(|s| velocity_name(s)).collect(),
        _ => state[m..].iter().map(|s| velocity_name(s)).collect(),
    };
    let t_col = table.column("t");
    // Measured inputs: a column each, carried per row after `t` like per-sample params.
    let uc = table.require_columns(&trained.inputs)?;
    let n_in = 2 * m + 1 + uc.len();
    let n_out = targets.len();
    let mut data = Dataset {
        n_in,
        n_out,
        params: trained.inputs.clone(),
        ..Dataset::default()
    };
    let mut warnings = vec![];
    if targets.iter().all(|t| table.column(t).is_some()) {
        let sc = table.require_columns(&state)?;
        let tc = table.require_columns(&targets)?;
        let used: Vec<usize> = sc
            .iter()
            .chain(&tc)
            .chain(&uc)
            .copied()
            .chain(t_col)
            .collect();
        require_finite(table, &used)?;
        for row in &table.rows {
            let mut input: Vec<f64> = sc.iter().map(|&c| row[c]).collect();
            input.push(t_col.map_or(0.0, |c| row[c]));
            input.extend(uc.iter().map(|&c| row[c]));
            let target: Vec<f64> = tc.iter().map(|&c| row[c]).collect();
            data.push(&input, &target);
        }
        return Ok(Made { data, warnings });
    }
    let Some(tc) = t_col else {
        // Report the missing target columns (and any missing state columns).
        let mut all = state.clone();
        all.extend(targets);
        table.require_columns(&all)?;
        return Err(DataError::Other("internal: no missing column".into()));
    };
    // Central differences. Positions are required; velocities (L systems) are used when
    // present, else estimated too.
    let qc = table.require_columns(&state[..m])?;
    let vc = match kind {
        Kind::Hamiltonian => Some(table.require_columns(&state[m..])?),
        _ => state[m..]
            .iter()
            .map(|s| table.column(s))
            .collect::<Option<Vec<usize>>>(),
    };
    let run_col = table.column("run");
    let used: Vec<usize> = qc
        .iter()
        .chain(vc.iter().flatten())
        .copied()
        .chain([tc])
        .chain(run_col)
        .chain(uc.iter().copied())
        .collect();
    require_finite(table, &used)?;
    let rows = &table.rows;
    let mut start = 0;
    let mut dropped = 0;
    while start < rows.len() {
        let mut end = start + 1;
        while end < rows.len() && run_col.is_none_or(|c| rows[end][c] == rows[start][c]) {
            end += 1;
        }
        for k in start + 1..end.saturating_sub(1) {
            let (a, b, c) = (&rows[k - 1], &rows[k], &rows[k + 1]);
            let (h0, h1) = (b[tc] - a[tc], c[tc] - b[tc]);
            if h0 <= 0.0 || h1 <= 0.0 {
                dropped += 1;
                continue;
            }
            let deriv = |f: &dyn Fn(&Vec<f64>) -> f64| (f(c) - f(a)) / (h0 + h1);
            let second = |f: &dyn Fn(&Vec<f64>) -> f64| {
                ((f(c) - f(b)) / h1 - (f(b) - f(a)) / h0) * 2.0 / (h0 + h1)
            };
            let mut input = Vec::with_capacity(n_in);
            let mut target = Vec::with_capacity(n_out);
            for &q in &qc {
                input.push(b[q]);
            }
            match (&vc, kind) {
                (Some(vc), Kind::Hamiltonian) => {
                    input.extend(vc.iter().map(|&p| b[p]));
                    target.extend(qc.iter().map(|&q| deriv(&|r| r[q])));
                    target.extend(vc.iter().map(|&p| deriv(&|r| r[p])));
                }
                (Some(vc), _) => {
                    input.extend(vc.iter().map(|&v| b[v]));
                    target.extend(vc.iter().map(|&v| deriv(&|r| r[v])));
                }
                (None, _) => {
                    input.extend(qc.iter().map(|&q| deriv(&|r| r[q])));
                    target.extend(qc.iter().map(|&q| second(&|r| r[q])));
                }
            }
            input.push(b[tc]);
            input.extend(uc.iter().map(|&u| b[u]));
            data.push(&input, &target);
        }
        start = end;
    }
    warnings.push(format!(
        "the data has no {} columns: estimated them by central differences in t ({} rows used{})",
        targets.join(", "),
        data.len(),
        if dropped > 0 {
            format!(", {dropped} dropped where t does not increase")
        } else {
            String::new()
        }
    ));
    Ok(Made { data, warnings })
}

/// An error naming the first cell of columns `cols` that is NaN or infinite (line
/// numbers are the file's: the header is line 1).
fn require_finite(table: &Table, cols: &[usize]) -> Result<(), DataError> {
    for (r, row) in table.rows.iter().enumerate() {
        if let Some(&c) = cols.iter().find(|&&c| !row[c].is_finite()) {
            return Err(DataError::Other(format!(
                "line {}, column {:?}: {} is not a finite number (training data must be finite)",
                r + 2,
                table.header[c],
                row[c]
            )));
        }
    }
    Ok(())
}

/// The sampled params of a spec: the names it assigns that are neither state variables
/// nor `t` (params of the truth system).
pub fn sampled_params(spec: &SampleSpec, truth: &SystemModel) -> Vec<String> {
    let state = state_names(truth);
    let mut out: Vec<String> = vec![];
    for a in &spec.assigns {
        let is_state = truth.coords.iter().any(|c| c.name == a.name)
            || truth.momenta.contains(&a.name)
            || state.contains(&a.name);
        if !is_state && a.name != "t" && !out.contains(&a.name) {
            out.push(a.name.clone());
        }
    }
    out
}

/// Re-checks `file` with the params `params` of the systems `systems` (indices into the
/// model's systems, which are the file's system blocks in order) declared as `learn`
/// params instead, so that they become kernel inputs that can vary per sample, and with
/// `set` (a block's `set NAME = VALUE;`) replacing param values of system `set.0`.
/// Errors are the checker's diagnostics (e.g. another param defined from a sampled one).
pub fn per_sample_model(
    src: &str,
    file: &ast::File,
    overrides: &[(String, f64)],
    systems: &[usize],
    params: &[String],
    set: (usize, &[(String, f64)]),
) -> Result<Model, Vec<Diagnostic>> {
    let mut file = file.clone();
    // Run blocks are not needed (and their `sample(...)` would now name learn params).
    file.blocks.retain(|b| matches!(b, ast::Block::System(_)));
    let mut k = 0;
    for block in &mut file.blocks {
        let ast::Block::System(sys) = block else {
            continue;
        };
        let sampled = systems.contains(&k);
        let sets: &[(String, f64)] = if set.0 == k { set.1 } else { &[] };
        k += 1;
        let mut items = Vec::with_capacity(sys.items.len());
        for item in std::mem::take(&mut sys.items) {
            let ast::Item::Param(bindings) = item else {
                items.push(item);
                continue;
            };
            let mut run: Vec<ast::Binding> = vec![];
            for mut b in bindings {
                if let Some((_, v)) = sets.iter().find(|(n, _)| *n == b.name.name) {
                    b.value.kind = ast::ExprKind::Num(*v);
                }
                if sampled && params.contains(&b.name.name) {
                    if !run.is_empty() {
                        items.push(ast::Item::Param(std::mem::take(&mut run)));
                    }
                    items.push(ast::Item::Learn(vec![b]));
                } else {
                    run.push(b);
                }
            }
            if !run.is_empty() {
                items.push(ast::Item::Param(run));
            }
        }
        sys.items = items;
    }
    crate::check::check(src, &file, overrides).into_model()
}
