//! `lagc export`: a system's kernels as an object file and the C header declaring them.
//!
//! Invariant: the header describes exactly the object written with it: the same
//! system, input order (coordinates, velocities or momenta, t, learn params, as `lagc
//! accel`'s columns) and output order (q'' or (q', p'), then the energy). Lattices are
//! exported unrolled (a dense solve); systems with nets are refused.

use super::{Error, System};
use crate::backend::jit::{self, ObjectSpec};
use crate::kernel::{self, EomProgram, Program};

/// An exported system: the object file's bytes and the header's text.
pub struct Exported {
    /// The relocatable object file.
    pub object: Vec<u8>,
    /// The C header.
    pub header: String,
}

impl System {
    /// Compiles this system's kernels into an object file for `target` (a target
    /// triple; the host when `None`) and writes the header declaring them.
    pub fn export(&self, target: Option<&str>) -> Result<Exported, Error> {
        self.exportable()?;
        let name = self.name();
        let accel = match self.program() {
            EomProgram::Dense(p) => p.clone(),
            EomProgram::Lattice(_) => {
                let mut eom = self.derive_eom(Some("`lagc export` writes the unrolled form"))?;
                dense(kernel::eom_program(&mut eom, true, true), name)?
            }
        };
        let energy = accel.with_outputs(&[accel.outputs.len() - 1]);
        let spec = ObjectSpec {
            name,
            accel: &accel,
            energy: &energy,
            dof: self.dof(),
            hamiltonian: self.is_hamiltonian(),
        };
        let target_err = |e: jit::JitError| match e {
            jit::JitError::Target(_) => Error::unknown(e.to_string()),
            _ => Error::runtime(format!("internal: {e}")),
        };
        let isa = jit::target_isa(target).map_err(target_err)?;
        let triple = isa.triple().to_string();
        let object = jit::object_file(&spec, isa).map_err(target_err)?;
        Ok(Exported {
            object,
            header: self.header(&triple),
        })
    }

    /// Whether [`System::export`] can write this system: an error saying why not.
    pub fn exportable(&self) -> Result<(), Error> {
        let name = self.name();
        if let Some(net) = self.checked().nets.first() {
            return Err(Error::usage(format!(
                "system `{name}` uses net `{}`: `lagc export` cannot write nets yet (lagc evaluates them in Rust between compiled segments; compiling them into the kernels is issue 17)",
                net.name
            )));
        }
        if let Some(u) = self.checked().inputs.first() {
            return Err(Error::usage(format!(
                "system `{name}` has the measured input `{u}`: `lagc export` cannot write systems with inputs yet"
            )));
        }
        if !is_c_identifier(name) {
            return Err(Error::usage(format!(
                "system `{name}`: its name is not a C identifier, and the exported symbols are named after it"
            )));
        }
        Ok(())
    }

    /// The C header of the exported functions.
    fn header(&self, triple: &str) -> String {
        let s = self.name();
        let up = s.to_uppercase();
        let n = self.dof();
        let learns = self.learns();
        let state = self.state_names();
        let (y_doc, dy_doc) = if self.is_hamiltonian() {
            ("(q, p)", "(q', p')")
        } else {
            ("(q, q')", "(q', q'')")
        };
        let mut h = format!(
            "/* {s}.h: the equations of motion of system `{s}` of\n \
             * {file}, compiled by `lagc export` for {triple}.\n \
             * Link with {s}.o (or lib{s}.so) and -lm. Generated; do not edit. */\n\
             #ifndef LAGC_{up}_H\n#define LAGC_{up}_H\n\n#include <stdint.h>\n\n\
             #ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n",
            file = self.model().name(),
        );
        h += &format!("/* Scalar degrees of freedom. */\n#define LAGC_{up}_DOF {n}\n");
        h += &format!(
            "/* State values y of lagc_{s}_rhs and lagc_{s}_energy: {y_doc}. */\n#define LAGC_{up}_N_STATE {}\n",
            2 * n
        );
        h += &format!(
            "/* Learn params (the params argument). */\n#define LAGC_{up}_N_PARAMS {}\n",
            learns.len()
        );
        h += &format!(
            "/* Values per input row of lagc_{s}_accel: the state, t, the params. */\n#define LAGC_{up}_N_INPUTS {}\n",
            self.n_kernel_inputs()
        );
        h += &format!(
            "/* Values per output row of lagc_{s}_accel. */\n#define LAGC_{up}_N_OUTPUTS {}\n\n",
            self.output_names().len()
        );
        let inputs: Vec<String> = state
            .iter()
            .cloned()
            .chain(["t".to_string()])
            .chain(learns.iter().map(|(l, _)| l.clone()))
            .collect();
        h += &string_array(
            &format!("lagc_{s}_inputs"),
            "LAGC_{up}_N_INPUTS",
            &inputs,
            &up,
        );
        h += &string_array(
            &format!("lagc_{s}_outputs"),
            "LAGC_{up}_N_OUTPUTS",
            self.output_names(),
            &up,
        );
        if !learns.is_empty() {
            let values: Vec<String> = learns.iter().map(|(_, v)| format!("{v:?}")).collect();
            h += &format!(
                "/* The learn params' values when exported (from --weights or the file). */\n\
                 static const double lagc_{s}_param_values[LAGC_{up}_N_PARAMS] = {{{}}};\n",
                values.join(", ")
            );
        }
        h += &format!(
            "\n/* Evaluates `rows` rows: in[r * LAGC_{up}_N_INPUTS + k] is input k (lagc_{s}_inputs)\n \
             * of row r, out[r * LAGC_{up}_N_OUTPUTS + k] output k (lagc_{s}_outputs), in the\n \
             * column order of `lagc accel`. Returns the number of rows whose mass matrix\n \
             * d2L/dq'dq' was singular: their q'' are NaN here, where `lagc accel` uses the\n \
             * pseudo-inverse. Returns -1 if the scratch memory of a large solve cannot be\n \
             * allocated. Safe to call from several threads at once. */\n\
             int lagc_{s}_accel(const double *in, double *out, uint64_t rows);\n\n\
             /* The first-order form for ODE solvers: dydt = {dy_doc} at time t and state\n \
             * y = {y_doc} (LAGC_{up}_N_STATE values each; dydt may be y), with\n \
             * LAGC_{up}_N_PARAMS learn params (params may be NULL when there are none).\n \
             * Returns 1 when the mass matrix was singular (dydt then holds NaN), else 0. */\n\
             int lagc_{s}_rhs(double t, const double *y, double *dydt, const double *params);\n\n\
             /* The energy at time t and state y (as for lagc_{s}_rhs) into *energy.\n \
             * Returns 0. */\n\
             int lagc_{s}_energy(double t, const double *y, double *energy, const double *params);\n\n\
             #ifdef __cplusplus\n}}\n#endif\n\n#endif\n"
        );
        h
    }

    /// Values per kernel input row: the state, t, the learn params.
    fn n_kernel_inputs(&self) -> usize {
        2 * self.dof() + 1 + self.learn_values().len()
    }
}

/// `static const char *const name[LEN] = {...};` (LEN a macro of the header).
fn string_array(name: &str, len: &str, items: &[String], up: &str) -> String {
    let len = len.replace("{up}", up);
    let quoted: Vec<String> = items.iter().map(|s| c_string(s)).collect();
    format!(
        "static const char *const {name}[{len}] = {{{}}};\n",
        quoted.join(", ")
    )
}

/// A C string literal of `s`.
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out += &format!("\\{b:03o}");
                }
            }
        }
    }
    out.push('"');
    out
}

fn is_c_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The dense program of a lowered system (lattices were derived unrolled).
fn dense(p: Result<EomProgram, kernel::LowerError>, name: &str) -> Result<Program, Error> {
    match p {
        Ok(EomProgram::Dense(p)) => Ok(p),
        Ok(EomProgram::Lattice(_)) => Err(Error::runtime(format!(
            "internal: system `{name}` lowered to loop form for export"
        ))),
        Err(e) => Err(Error::runtime(format!(
            "internal: cannot lower system `{name}`: {e}"
        ))),
    }
}
