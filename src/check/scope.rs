//! The names visible inside one system, in declaration order.

use super::model::{Builtin, Coord, Net};
use super::vector::VecFn;
pub use crate::diagnostics::closest;
use crate::diagnostics::Span;
use std::collections::HashMap;

/// What a name refers to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Name {
    /// Param number k (in [`super::model::SystemModel::params`]) with its folded value.
    Param(usize, f64),
    /// Coordinate number k.
    Coord(usize),
    /// The momentum of coordinate k.
    Momentum(usize),
    /// `learn` param number k.
    Learn(usize),
    /// Measured input number k.
    Input(usize),
    /// `let` binding number k.
    Let(usize),
    /// A vector `let`: its components are the consecutive `let` bindings
    /// `first..first + len`.
    Vector {
        /// The `let` binding of component 0.
        first: usize,
        /// Number of components.
        len: usize,
    },
    /// Net number k.
    Net(usize),
    /// A name whose declaration had an error (already reported): uses of it are
    /// invalid but not reported again.
    Broken,
}

impl Name {
    /// "a param", "a coordinate", ... for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Name::Param(..) => "a param",
            Name::Coord(_) => "a coordinate",
            Name::Momentum(_) => "a momentum",
            Name::Learn(_) => "a learn param",
            Name::Input(_) => "an input",
            Name::Let(_) => "a let binding",
            Name::Vector { .. } => "a vector",
            Name::Net(_) => "a net",
            Name::Broken => "a name declared with an error",
        }
    }
}

/// Names defined so far in a system, plus everything it declares later (for hints).
#[derive(Default)]
pub struct Scope {
    names: HashMap<String, (Name, Span)>,
    order: Vec<String>,
    /// Names declared anywhere in the system, with their line:col, for "declared later".
    pub declared_later: HashMap<String, String>,
    /// Coordinates so far.
    pub coords: Vec<Coord>,
    /// Nets so far.
    pub nets: Vec<Net>,
    /// Per `let` binding (vector components included): whether it depends on
    /// velocities, so that its own velocity would need accelerations.
    pub let_uses_velocity: Vec<bool>,
    /// The system is given by `H`: its velocities are not variables, so a `let`'s
    /// velocity cannot be taken.
    pub hamiltonian: bool,
    /// Params in system expressions resolve to [`super::model::CExpr::Param`] instead
    /// of their values (the model `lagc derive` prints).
    pub symbolic_params: bool,
}

impl Scope {
    /// What `name` refers to, if defined.
    pub fn get(&self, name: &str) -> Option<Name> {
        self.names.get(name).map(|(n, _)| *n)
    }

    /// Defines `name`; returns the earlier definition's span if it is taken.
    pub fn define(&mut self, name: &str, what: Name, span: Span) -> Result<(), Span> {
        if let Some((_, s)) = self.names.get(name) {
            return Err(*s);
        }
        self.names.insert(name.to_string(), (what, span));
        self.order.push(name.to_string());
        Ok(())
    }

    /// Marks `name` as declared with an error, unless it is already defined, so that
    /// its uses do not cascade into "unknown name" errors.
    pub fn poison(&mut self, name: &str, span: Span) {
        let _ = self.define(name, Name::Broken, span);
    }

    /// The position of a later declaration of an undefined `name`.
    pub fn later(&self, name: &str) -> Option<&str> {
        self.declared_later.get(name).map(String::as_str)
    }

    /// The closest defined name, if close enough to be a likely typo.
    pub fn suggest(&self, name: &str) -> Option<String> {
        closest(
            name,
            self.order.iter().map(String::as_str).chain(["pi", "t"]),
        )
    }

    /// The closest function or net name.
    pub fn suggest_function(&self, name: &str) -> Option<String> {
        let nets = self.nets.iter().map(|n| n.name.as_str());
        let builtins = Builtin::ALL.iter().map(|(n, _)| *n);
        closest(name, builtins.chain(VecFn::NAMES).chain(nets))
    }
}
