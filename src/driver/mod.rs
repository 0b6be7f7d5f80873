//! driver: the library API (the layer the command line and the Python package sit on).
//!
//! ```
//! let model = lagc::Model::loads("system p { coord x; param k = 4; L = x'^2/2 - k*x^2/2; }", "p.lag", &[]).unwrap();
//! let p = model.system("p", lagc::Backend::Jit).unwrap();
//! let a = p.accel(ndarray::array![[0.5, 0.0]].view(), None).unwrap();
//! assert_eq!(a[[0, 0]], -2.0);
//! ```
//!
//! [`Model`] is a checked `.lag` source with its param overrides; [`Model::system`]
//! derives and compiles one system into a [`System`], which evaluates, simulates and
//! trains on `ndarray` views. Architecture invariant: the driver prints nothing and
//! exits nothing; every failure is an [`Error`] whose message is what the command line
//! prints.

mod accel;
pub mod derive;
mod error;
mod export;
mod linearize;
mod simulate;
mod system;
mod train;

pub use derive::Style as DeriveStyle;
pub use error::{Error, ErrorKind, Located};
pub use export::Exported;
pub use linearize::{Linearization, Mode};
pub use simulate::{SimOptions, Trajectory};
pub use system::{derive_eom, System, Terms, Times};
pub use train::{Draw, Sampled, TrainOptions, TrainResult};

pub use crate::backend::Kind as Backend;
pub use crate::check::Method;

use crate::check::{self, SystemModel};
use crate::diagnostics::{line_col, render, Diagnostic};
use crate::syntax;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A checked `.lag` source: its systems and blocks, with params overridden by `set`.
#[derive(Clone, Debug)]
pub struct Model {
    name: String,
    text: String,
    dir: PathBuf,
    ast: Arc<syntax::ast::File>,
    overrides: Vec<(String, f64)>,
    model: check::Model,
    warnings: Vec<Diagnostic>,
}

impl Model {
    /// Reads and checks the file at `path`; relative files it names (weights, CSV)
    /// resolve against its folder, as on the command line.
    pub fn load(path: &Path, overrides: &[(String, f64)]) -> Result<Model, Error> {
        let text = read_source(path)?;
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        Model::parse(path.display().to_string(), text, dir, overrides)
    }

    /// Checks source text; `name` is the file name its diagnostics show, and relative
    /// files resolve against the current directory.
    pub fn loads(text: &str, name: &str, overrides: &[(String, f64)]) -> Result<Model, Error> {
        Model::parse(
            name.to_string(),
            text.to_string(),
            PathBuf::new(),
            overrides,
        )
    }

    /// The same source with other param overrides (replacing this model's): the parsed
    /// file is checked again, not read or parsed again.
    pub fn instantiate(&self, overrides: &[(String, f64)]) -> Result<Model, Error> {
        Model::check(
            self.name.clone(),
            self.text.clone(),
            self.dir.clone(),
            self.ast.clone(),
            overrides,
        )
    }

    fn parse(
        name: String,
        text: String,
        dir: PathBuf,
        overrides: &[(String, f64)],
    ) -> Result<Model, Error> {
        let ast = syntax::parse(&text).map_err(|d| Error::source(&name, &text, vec![d]))?;
        Model::check(name, text, dir, Arc::new(ast), overrides)
    }

    fn check(
        name: String,
        text: String,
        dir: PathBuf,
        ast: Arc<syntax::ast::File>,
        overrides: &[(String, f64)],
    ) -> Result<Model, Error> {
        let checked = check::check(&text, &ast, overrides);
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = checked
            .diagnostics
            .into_iter()
            .partition(Diagnostic::is_error);
        if !errors.is_empty() {
            let mut all = errors;
            all.extend(warnings);
            all.sort_by_key(|d| d.span.start);
            return Err(Error::source(&name, &text, all));
        }
        if let Some(p) = checked.unused_overrides.first() {
            return Err(Error::unknown(format!(
                "--set {p}=...: no system in {name} declares a param `{p}`"
            )));
        }
        let model = checked
            .model
            .ok_or_else(|| Error::usage(format!("{name} did not check")))?;
        Ok(Model {
            name,
            text,
            dir,
            ast,
            overrides: overrides.to_vec(),
            model,
            warnings,
        })
    }

    /// The file name diagnostics show.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The folder relative file names resolve against.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The param overrides this model was checked with.
    pub fn overrides(&self) -> &[(String, f64)] {
        &self.overrides
    }

    /// The checker's warnings, rendered (empty when there are none).
    pub fn warnings(&self) -> String {
        if self.warnings.is_empty() {
            String::new()
        } else {
            render(&self.name, &self.text, &self.warnings)
        }
    }

    /// Renders diagnostics against this model's source.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        render(&self.name, &self.text, diags)
    }

    /// The names of the systems, in file order.
    pub fn system_names(&self) -> Vec<String> {
        self.model.systems.iter().map(|s| s.name.clone()).collect()
    }

    /// The parsed file.
    pub fn ast(&self) -> &syntax::ast::File {
        &self.ast
    }

    /// The checked model (for the command line's block runner).
    pub fn checked(&self) -> &check::Model {
        &self.model
    }

    /// The checked system `name`, or an [`ErrorKind::Unknown`] error listing the names.
    pub fn system_model(&self, name: &str) -> Result<&SystemModel, Error> {
        match self.model.system_index(name) {
            Some(k) => Ok(&self.model.systems[k]),
            None => Err(Error::unknown(format!(
                "no such system `{name}` (the file has: {})",
                self.system_names().join(", ")
            ))),
        }
    }

    /// The derivation of system `name` as `lagc derive` prints it: the equations with
    /// params as symbols (re-checked from the kept AST), their values listed once.
    pub fn derivation(&self, name: &str) -> Result<derive::Derivation, Error> {
        let folded = self.system_model(name)?;
        let symbolic = check::symbolic_system(&self.text, &self.ast, &self.overrides, name)
            .unwrap_or_else(|| folded.clone());
        let eom = derive_eom(&symbolic, None)?;
        Ok(derive::Derivation::new(&symbolic, eom))
    }

    /// The derivation of system `name` as text or LaTeX (what `lagc derive` prints).
    pub fn derive_text(&self, name: &str, style: DeriveStyle) -> Result<String, Error> {
        Ok(derive::render(&mut self.derivation(name)?, style))
    }

    /// The derivation of system `name` as `lagc derive --format json`'s value.
    pub fn derive_json(&self, name: &str) -> Result<serde_json::Value, Error> {
        Ok(derive::json(&mut self.derivation(name)?))
    }

    /// Derives and compiles system `name` on `backend`. A system with nets starts from
    /// the seeded initial weights of its nets (seed 0) until weights are set.
    pub fn system(&self, name: &str, backend: Backend) -> Result<System, Error> {
        System::compile(self, self.system_model(name)?, backend)
    }
}

/// Reads a `.lag` file; unreadable or non-UTF-8 files are errors (the latter located).
pub fn read_source(path: &Path) -> Result<String, Error> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read {name}: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // Offsets in the lossy text match the original up to the first bad byte.
            let span = crate::diagnostics::Span::new(at, at + 1);
            let d = Diagnostic::error(span, "this file is not valid UTF-8 text").with_label(
                format!("expected UTF-8; found byte 0x{:02x}", e.as_bytes()[at]),
            );
            Err(Error::source(&name, &lossy, vec![d]))
        }
    }
}

/// Line and column (1-based) of a byte offset, for [`Located`].
fn locate(text: &str, d: &Diagnostic) -> Located {
    let (line, col) = line_col(text, d.span.start);
    Located {
        line,
        col,
        message: d.message.clone(),
    }
}
