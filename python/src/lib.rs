//! `lagc._lagc`: the native half of the Python package, a thin layer over the driver
//! (`lagc::driver`). Arrays come in as C-contiguous float64 views (the Python half
//! converts anything else once) and go out as new float64 arrays. The GIL is released
//! while compiled code runs. Every driver error becomes a Python exception: `LagError`
//! (a `ValueError` with `diagnostics`) for `.lag` errors, `ValueError`, `KeyError`,
//! `OSError` or `RuntimeError` otherwise; nothing panics across the boundary.

use lagc::driver::{self, Backend, Draw, ErrorKind, Method, SimOptions, Times, TrainOptions};
use lagc::nn::Weights;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
};
use pyo3::exceptions::{PyKeyError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

pyo3::create_exception!(
    _lagc,
    LagError,
    PyValueError,
    "A .lag source that does not parse or check; `diagnostics` lists (line, col, message)."
);

fn to_py(py: Python<'_>, e: driver::Error) -> PyErr {
    match e.kind {
        ErrorKind::Source => {
            let err = LagError::new_err(e.message.clone());
            let diags: Vec<(usize, usize, String)> = e
                .diagnostics
                .iter()
                .map(|d| (d.line, d.col, d.message.clone()))
                .collect();
            // Attaching the list cannot fail on a fresh exception object.
            let _ = err.value(py).setattr("raw_diagnostics", diags);
            err
        }
        ErrorKind::Usage => PyValueError::new_err(e.message),
        ErrorKind::Unknown => PyKeyError::new_err(e.message),
        ErrorKind::Io => PyOSError::new_err(e.message),
        ErrorKind::Runtime => PyRuntimeError::new_err(e.message),
    }
}

fn backend_of(name: &str) -> PyResult<Backend> {
    match name {
        "jit" => Ok(Backend::Jit),
        "interp" => Ok(Backend::Interp),
        _ => Err(PyValueError::new_err(format!(
            "backend must be \"jit\" or \"interp\", got {name:?}"
        ))),
    }
}

/// A checked `.lag` source.
#[pyclass(module = "lagc._lagc", frozen)]
struct Model {
    inner: driver::Model,
}

#[pymethods]
impl Model {
    /// Reads and checks a file, params overridden by `overrides` (name, value) pairs.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf, overrides: Vec<(String, f64)>) -> PyResult<Model> {
        let inner = py
            .detach(|| driver::Model::load(&path, &overrides))
            .map_err(|e| to_py(py, e))?;
        Ok(Model { inner })
    }

    /// Checks source text; `name` is the file name diagnostics show.
    #[staticmethod]
    fn loads(
        py: Python<'_>,
        text: &str,
        name: &str,
        overrides: Vec<(String, f64)>,
    ) -> PyResult<Model> {
        let inner = driver::Model::loads(text, name, &overrides).map_err(|e| to_py(py, e))?;
        Ok(Model { inner })
    }

    /// The same source with other overrides (no file is read again).
    fn instantiate(&self, py: Python<'_>, overrides: Vec<(String, f64)>) -> PyResult<Model> {
        let inner = self
            .inner
            .instantiate(&overrides)
            .map_err(|e| to_py(py, e))?;
        Ok(Model { inner })
    }

    #[getter]
    fn systems(&self) -> Vec<String> {
        self.inner.system_names()
    }

    #[getter]
    fn text(&self) -> &str {
        self.inner.text()
    }

    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    #[getter]
    fn dir(&self) -> PathBuf {
        self.inner.dir().to_path_buf()
    }

    #[getter]
    fn overrides(&self) -> Vec<(String, f64)> {
        self.inner.overrides().to_vec()
    }

    #[getter]
    fn warnings(&self) -> String {
        self.inner.warnings()
    }

    /// Derives and compiles system `name` on `backend` ("jit" or "interp").
    fn system(&self, py: Python<'_>, name: &str, backend: &str) -> PyResult<System> {
        let kind = backend_of(backend)?;
        let inner = py
            .detach(|| self.inner.system(name, kind))
            .map_err(|e| to_py(py, e))?;
        Ok(System { inner })
    }

    /// Params of system `name` with their values (after overrides).
    fn params(&self, py: Python<'_>, name: &str) -> PyResult<Vec<(String, f64)>> {
        let sys = self.inner.system_model(name).map_err(|e| to_py(py, e))?;
        Ok(sys.params.clone())
    }
}

/// A compiled system.
#[pyclass(module = "lagc._lagc")]
struct System {
    inner: driver::System,
}

/// A float64 array of states as the caller gave it (no copy when it already is one),
/// or converted once by numpy (float32, integers, lists, non-arrays).
enum StatesArg<'py> {
    One(PyReadonlyArray1<'py, f64>),
    Many(PyReadonlyArray2<'py, f64>),
}

impl<'py> StatesArg<'py> {
    fn extract(x: &Bound<'py, PyAny>, what: &str) -> PyResult<StatesArg<'py>> {
        if let Some(a) = StatesArg::float64(x) {
            return Ok(a);
        }
        let np = x.py().import("numpy")?;
        let converted = np.call_method1("asarray", (x, "float64")).map_err(|e| {
            PyValueError::new_err(format!("{what} must be an array of numbers: {e}"))
        })?;
        if let Some(a) = StatesArg::float64(&converted) {
            return Ok(a);
        }
        let shape: Vec<usize> = converted.getattr("shape")?.extract()?;
        Err(PyValueError::new_err(format!(
            "{what} must have shape (n, 2*dof) or (2*dof,), got {shape:?}"
        )))
    }

    /// A float64 array of 1 or 2 dimensions as it is (a cast, no conversion).
    fn float64(x: &Bound<'py, PyAny>) -> Option<StatesArg<'py>> {
        if let Ok(a) = x.cast::<PyArray2<f64>>() {
            return a.try_readonly().ok().map(StatesArg::Many);
        }
        let a = x.cast::<PyArray1<f64>>().ok()?;
        a.try_readonly().ok().map(StatesArg::One)
    }

    fn view(&self) -> ndarray::ArrayView2<'_, f64> {
        match self {
            StatesArg::One(a) => a.as_array().insert_axis(ndarray::Axis(0)),
            StatesArg::Many(a) => a.as_array(),
        }
    }

    fn is_one(&self) -> bool {
        matches!(self, StatesArg::One(_))
    }
}

/// `work` on the states `arg` (one state, or an (n, width) batch) at the times `t`, with
/// the GIL released for big batches: its (n, k) result, and whether `arg` was one state.
fn per_state<'py>(
    py: Python<'py>,
    arg: &Bound<'py, PyAny>,
    name: &str,
    t: Option<&Bound<'py, PyAny>>,
    work: impl FnOnce(ndarray::ArrayView2<'_, f64>, Times) -> Result<ndarray::Array2<f64>, driver::Error>
        + Send,
) -> PyResult<(ndarray::Array2<f64>, bool)> {
    let x = StatesArg::extract(arg, name)?;
    let view = x.view();
    let ts = times_arg(t, view.nrows())?;
    let out = release_for(py, view.nrows(), || work(view, ts)).map_err(|e| to_py(py, e))?;
    Ok((out, x.is_one()))
}

/// A [`per_state`] result as numpy: (n, k), or (k,) for one state.
fn rows_or_row<'py>(
    py: Python<'py>,
    (out, one): (ndarray::Array2<f64>, bool),
) -> Bound<'py, PyAny> {
    if one {
        out.row(0).to_owned().into_pyarray(py).into_any()
    } else {
        out.into_pyarray(py).into_any()
    }
}

/// The times of a batch: none (0), a number, or one per state.
fn times_arg(t: Option<&Bound<'_, PyAny>>, n: usize) -> PyResult<Times> {
    let Some(t) = t.filter(|t| !t.is_none()) else {
        return Ok(Times::Zero);
    };
    if let Ok(x) = t.extract::<f64>() {
        return Ok(Times::One(x));
    }
    let np = t.py().import("numpy")?;
    let a = np.call_method1("asarray", (t, "float64"))?;
    let a: PyReadonlyArray1<'_, f64> = a.extract().map_err(|_| {
        PyValueError::new_err(format!("t must be a number or an array of shape ({n},)"))
    })?;
    Ok(Times::Each(a.as_array().to_vec()))
}

#[pymethods]
impl System {
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    #[getter]
    fn dof(&self) -> usize {
        self.inner.dof()
    }

    #[getter]
    fn coords(&self) -> Vec<String> {
        self.inner.coords().to_vec()
    }

    #[getter]
    fn inputs(&self) -> Vec<String> {
        self.inner.state_names().to_vec()
    }

    #[getter]
    fn outputs(&self) -> Vec<String> {
        self.inner.output_names().to_vec()
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.checked().dynamics.kind_name()
    }

    #[getter]
    fn backend(&self) -> &'static str {
        match self.inner.backend() {
            Backend::Jit => "jit",
            Backend::Interp => "interp",
        }
    }

    #[getter]
    fn learn(&self) -> Vec<(String, f64)> {
        self.inner.learns()
    }

    #[getter]
    fn params(&self) -> Vec<(String, f64)> {
        self.inner.checked().params.clone()
    }

    #[getter]
    fn measured(&self) -> Vec<String> {
        self.inner.input_names().to_vec()
    }

    #[getter]
    fn nets(&self) -> Vec<(String, usize, Vec<usize>, usize, String)> {
        self.inner
            .checked()
            .nets
            .iter()
            .map(|n| {
                let w = n.widths();
                let hidden = w[1..w.len() - 1].to_vec();
                (
                    n.name.clone(),
                    n.inputs,
                    hidden,
                    n.outputs,
                    n.act.name().to_string(),
                )
            })
            .collect()
    }

    /// q'' at each state ((q', p') for H systems): (n, dof) or, for one state, (dof,).
    #[pyo3(signature = (states, t=None))]
    fn accel<'py>(
        &self,
        py: Python<'py>,
        states: &Bound<'py, PyAny>,
        t: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let a = per_state(py, states, "states", t, |v, ts| self.inner.accel_at(v, ts))?;
        Ok(rows_or_row(py, a))
    }

    /// The energy at each state: (n,) or, for one state, a float.
    #[pyo3(signature = (states, t=None))]
    fn energy<'py>(
        &self,
        py: Python<'py>,
        states: &Bound<'py, PyAny>,
        t: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (out, one) = per_state(py, states, "states", t, |v, ts| {
            Ok(self.inner.eval(v, ts)?.0)
        })?;
        let e = out.column(out.ncols() - 1).to_owned();
        Ok(if one {
            e[0].into_pyobject(py)?.into_any()
        } else {
            e.into_pyarray(py).into_any()
        })
    }

    /// dy/dt of the first-order form at y: (2*dof,) or (n, 2*dof).
    fn rhs<'py>(
        &self,
        py: Python<'py>,
        t: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dy = per_state(py, y, "y", Some(t), |v, ts| self.inner.rhs(ts, v))?;
        Ok(rows_or_row(py, dy))
    }

    /// H, M and dL/dq at each state.
    #[pyo3(signature = (states, t=None))]
    #[allow(clippy::type_complexity)]
    fn terms<'py>(
        &self,
        py: Python<'py>,
        states: PyReadonlyArray2<'py, f64>,
        t: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<(
        Bound<'py, PyArray3<f64>>,
        Bound<'py, PyArray3<f64>>,
        Bound<'py, PyArray2<f64>>,
    )> {
        let view = states.as_array();
        let t = t.map(|t| t.as_array().to_owned());
        let terms = py
            .detach(|| self.inner.terms(view, t.as_ref().map(|t| t.view())))
            .map_err(|e| to_py(py, e))?;
        Ok((
            terms.h.into_pyarray(py),
            terms.m.into_pyarray(py),
            terms.g.into_pyarray(py),
        ))
    }

    /// The derivation: "text", "latex" or "json" (a JSON string).
    fn derive(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let r = match format {
            "text" => self.inner.derive_text(driver::DeriveStyle::Text),
            "latex" => self.inner.derive_text(driver::DeriveStyle::Latex),
            "json" => self
                .inner
                .derive_json()
                .map(|v| serde_json::to_string(&v).unwrap_or_default()),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "format must be \"text\", \"latex\" or \"json\", got {format:?}"
                )))
            }
        };
        r.map_err(|e| to_py(py, e))
    }

    /// Integrates from each row of `init`; per run (t, y, outputs, error message or None).
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[pyo3(signature = (init, t_end, dt, method, rtol, atol, project_init, dt_out=None, inputs=None))]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        init: PyReadonlyArray2<'py, f64>,
        t_end: f64,
        dt: f64,
        method: &str,
        rtol: f64,
        atol: f64,
        project_init: bool,
        dt_out: Option<f64>,
        inputs: Option<(Vec<f64>, Vec<(String, Vec<f64>)>)>,
    ) -> PyResult<
        Vec<(
            Bound<'py, PyArray1<f64>>,
            Bound<'py, PyArray2<f64>>,
            Bound<'py, PyArray2<f64>>,
            Option<String>,
        )>,
    > {
        let method = Method::ALL
            .iter()
            .find(|(n, _)| *n == method)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "method must be \"rk4\", \"dopri5\" or \"variational\", got {method:?}"
                ))
            })?;
        let opts = SimOptions {
            t_end,
            dt,
            dt_out,
            method,
            rtol,
            atol,
            project_init,
        };
        let signals = match inputs {
            None => None,
            Some((t, cols)) => {
                let (names, values): (Vec<String>, Vec<Vec<f64>>) = cols.into_iter().unzip();
                Some(
                    lagc::integrate::Signals::new(names, t, values)
                        .map_err(|e| PyValueError::new_err(format!("inputs: {e}")))?,
                )
            }
        };
        let view = init.as_array();
        let stop = AtomicBool::new(false);
        let (runs, raised) = py.detach(|| {
            until_interrupt(&stop, || {
                self.inner
                    .simulate_with_inputs(view, &opts, signals.as_ref(), &stop)
            })
        });
        if let Some(e) = raised {
            return Err(e);
        }
        let runs = runs.map_err(|e| to_py(py, e))?;
        Ok(runs
            .into_iter()
            .map(|r| {
                let (tr, msg) = match r {
                    Ok(tr) => (tr, None),
                    Err(d) => (d.trajectory, Some(d.message)),
                };
                (
                    tr.t.into_pyarray(py),
                    tr.y.into_pyarray(py),
                    tr.out.into_pyarray(py),
                    msg,
                )
            })
            .collect())
    }

    /// Tensors of the nets and learn params: (name, shape, flat values).
    fn weights(&self) -> Vec<(String, Vec<usize>, Vec<f64>)> {
        tensors(&self.inner.weights())
    }

    /// Replaces nets and learn params from (name, shape, flat values) tensors.
    fn set_weights(
        &mut self,
        py: Python<'_>,
        tensors: Vec<(String, Vec<usize>, Vec<f64>)>,
    ) -> PyResult<()> {
        let mut w = Weights::new();
        for (name, shape, data) in tensors {
            w.insert(&name, &shape, data).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "tensor `{name}`: its values do not fill shape {shape:?}"
                ))
            })?;
        }
        self.inner.set_weights(&w).map_err(|e| to_py(py, e))
    }

    /// Writes the weights as a safetensors file.
    fn save_weights(&self, path: PathBuf) -> PyResult<()> {
        let bytes = self
            .inner
            .weights()
            .to_bytes()
            .map_err(|e| PyValueError::new_err(format!("cannot encode weights: {e}")))?;
        std::fs::write(&path, bytes)
            .map_err(|e| PyOSError::new_err(format!("cannot write {}: {e}", path.display())))
    }

    /// Reads a safetensors file into the nets and learn params.
    fn load_weights(&mut self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let bytes = std::fs::read(&path)
            .map_err(|e| PyOSError::new_err(format!("cannot read {}: {e}", path.display())))?;
        let w = Weights::from_bytes(&bytes)
            .map_err(|e| PyValueError::new_err(format!("weights file {}: {e}", path.display())))?;
        self.inner.set_weights(&w).map_err(|e| to_py(py, e))
    }

    /// Draws n states (ranges: name -> (kind, a, b) with kind "uniform", "normal" or
    /// "value") and evaluates the system there: (states, targets, t).
    #[allow(clippy::type_complexity)]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
        ranges: Vec<(String, String, f64, f64)>,
    ) -> PyResult<(
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let mut draws = vec![];
        for (name, kind, a, b) in ranges {
            let d = match kind.as_str() {
                "uniform" => Draw::Uniform(a, b),
                "normal" => Draw::Normal(a, b),
                "value" => Draw::Value(a),
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "{name}: a distribution is (\"uniform\", a, b) or (\"normal\", mu, sigma), got {kind:?}"
                    )))
                }
            };
            draws.push((name, d));
        }
        let s = py
            .detach(|| self.inner.sample(n, seed, &draws))
            .map_err(|e| to_py(py, e))?;
        Ok((
            s.states.into_pyarray(py),
            s.targets.into_pyarray(py),
            s.t.into_pyarray(py),
        ))
    }

    /// Trains on (states, targets[, t]); returns (per-step loss, curve steps, curve
    /// validation losses, final validation loss, skipped steps).
    #[pyo3(signature = (states, targets, t, steps, batch, lr, lr_decay, loss, seed, val, reg, reinit))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn train<'py>(
        &mut self,
        py: Python<'py>,
        states: PyReadonlyArray2<'py, f64>,
        targets: PyReadonlyArray2<'py, f64>,
        t: Option<PyReadonlyArray1<'py, f64>>,
        steps: usize,
        batch: usize,
        lr: f64,
        lr_decay: f64,
        loss: &str,
        seed: u64,
        val: f64,
        reg: f64,
        reinit: bool,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Vec<usize>,
        Bound<'py, PyArray1<f64>>,
        f64,
        usize,
    )> {
        let loss = match loss {
            "mse" => lagc::check::Loss::Mse,
            "l1" => lagc::check::Loss::L1,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "loss must be \"mse\" or \"l1\", got {loss:?}"
                )))
            }
        };
        let opts = TrainOptions {
            steps,
            batch,
            lr,
            lr_decay,
            loss,
            seed,
            val,
            reg,
            reinit,
        };
        let (sv, tv) = (states.as_array(), targets.as_array());
        let t = t.map(|t| t.as_array().to_owned());
        let inner = &mut self.inner;
        let stop = AtomicBool::new(false);
        let (r, raised) = py.detach(|| {
            until_interrupt(&stop, || {
                let t = t.as_ref().map(|t| t.view());
                inner.train(sv, tv, t, &opts, &|| stop.load(Ordering::Relaxed))
            })
        });
        // Ctrl-C: the weights trained so far are kept, then KeyboardInterrupt is raised.
        if let Some(e) = raised {
            return Err(e);
        }
        let r = r.map_err(|e| to_py(py, e))?;
        Ok((
            r.loss.into_pyarray(py),
            r.val_step,
            r.val_loss.into_pyarray(py),
            r.final_val_loss,
            r.skipped_steps,
        ))
    }
}

/// Rows from which an evaluation releases the GIL: below, releasing and taking it
/// back again costs more than the kernel.
const RELEASE_GIL_ROWS: usize = 64;

/// Runs `work` with the GIL released when the batch is large enough to be worth it.
fn release_for<T: Send>(py: Python<'_>, rows: usize, work: impl FnOnce() -> T + Send) -> T {
    if rows >= RELEASE_GIL_ROWS {
        py.detach(work)
    } else {
        work()
    }
}

/// Runs `work` on a scoped thread while this (GIL-free) thread runs Python's signal
/// handlers every 50 ms; when one raises (Ctrl-C's KeyboardInterrupt), `stop` is set,
/// `work` winds down, and the exception is returned beside its result.
fn until_interrupt<T: Send>(
    stop: &AtomicBool,
    work: impl FnOnce() -> T + Send,
) -> (T, Option<PyErr>) {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    use std::time::Duration;
    std::thread::scope(|scope| {
        let (tx, rx) = channel();
        let handle = scope.spawn(move || {
            // The receiver outlives this thread's work, so the send cannot fail.
            let _ = tx.send(work());
        });
        let mut raised = None;
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(v) => return (v, raised),
                Err(RecvTimeoutError::Timeout) if raised.is_none() => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        stop.store(true, Ordering::Relaxed);
                        raised = Some(e);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => match handle.join() {
                    Err(p) => std::panic::resume_unwind(p),
                    Ok(()) => unreachable!("the work thread ended without sending its result"),
                },
            }
        }
    })
}

fn tensors(w: &Weights) -> Vec<(String, Vec<usize>, Vec<f64>)> {
    w.names()
        .filter_map(|n| {
            let shape = w.shape(n)?.to_vec();
            let data = w.get(n, &shape).ok()?.to_vec();
            Some((n.to_string(), shape, data))
        })
        .collect()
}

/// `lagc run FILE` in-process: every block's report line, in order.
#[pyfunction]
#[pyo3(signature = (path, no_train, quiet, overrides))]
fn run_file(
    py: Python<'_>,
    path: PathBuf,
    no_train: bool,
    quiet: bool,
    overrides: Vec<(String, f64)>,
) -> PyResult<(i32, String, String)> {
    let mut args = vec!["lagc".to_string(), "run".into(), path.display().to_string()];
    if no_train {
        args.push("--no-train".into());
    }
    if quiet {
        args.push("--quiet".into());
    }
    for (k, v) in overrides {
        args.push("--set".into());
        args.push(format!("{k}={v:?}"));
    }
    Ok(py.detach(|| lagc::cli::run_captured(args)))
}

#[pymodule]
fn _lagc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_class::<System>()?;
    m.add_function(wrap_pyfunction!(run_file, m)?)?;
    m.add("LagError", m.py().get_type::<LagError>())?;
    Ok(())
}
