//! `lagc export`: writes `DIR/S.o` (or `DIR/libS.so`) and `DIR/S.h`.
//!
//! Invariant: an existing file is only ever replaced whole: everything is written to a
//! temporary name in `DIR` and renamed into place, and nothing is renamed unless every
//! part was produced.

use super::args::{Common, ExportFormat};
use super::shared::{stdout, system_index};
use super::{weights, Failure};
use crate::driver::{self, Backend};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The command's flags besides the file and system.
pub struct Flags<'a> {
    /// Output folder.
    pub out: &'a Path,
    /// Target triple; the host when `None`.
    pub target: Option<&'a str>,
    /// Object file or shared library.
    pub format: ExportFormat,
}

/// Runs `lagc export`.
pub fn command(
    model: &driver::Model,
    system: &str,
    flags: &Flags,
    common: &Common,
) -> Result<(), Failure> {
    system_index(model, system)?;
    let mut s = model.system(system, Backend::Interp)?;
    s.exportable()?;
    if let Some(p) = common.weights.as_deref() {
        s.set_weights(&weights::read(p)?)?;
    }
    let exported = s.export(flags.target)?;
    let dir = flags.out;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::user(format!("error: cannot create {}: {e}\n", dir.display())))?;
    let name = s.name();
    let object = Temp::write(dir, &format!("{name}.o"), &exported.object)?;
    let header = Temp::write(dir, &format!("{name}.h"), exported.header.as_bytes())?;
    let lib = match flags.format {
        ExportFormat::Object => object,
        ExportFormat::Shared => link(&object, dir, name, flags.target)?,
    };
    let lib_path = lib.commit()?;
    let header_path = header.commit()?;
    if !common.quiet {
        stdout(&format!(
            "wrote {} and {}\n",
            lib_path.display(),
            header_path.display()
        ))?;
    }
    Ok(())
}

/// A file written under a temporary name, removed on drop unless committed.
struct Temp {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Temp {
    /// Writes `bytes` to a temporary file in `dir` that [`Temp::commit`] renames to
    /// `dir/name`.
    fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<Temp, Failure> {
        let t = Temp::named(dir, name);
        std::fs::write(&t.tmp, bytes).map_err(|e| {
            Failure::user(format!("error: cannot write {}: {e}\n", t.dest.display()))
        })?;
        Ok(t)
    }

    fn named(dir: &Path, name: &str) -> Temp {
        Temp {
            tmp: dir.join(format!(".{name}.{}.tmp", std::process::id())),
            dest: dir.join(name),
            committed: false,
        }
    }

    fn commit(mut self) -> Result<PathBuf, Failure> {
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| {
            Failure::user(format!(
                "error: cannot write {}: {e}\n",
                self.dest.display()
            ))
        })?;
        self.committed = true;
        Ok(self.dest.clone())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Links `object` into `dir/libS.so` with the C compiler (`$CC`, else `cc` for the
/// host; another target needs `$CC`).
fn link(object: &Temp, dir: &Path, name: &str, target: Option<&str>) -> Result<Temp, Failure> {
    let host = target_lexicon::Triple::host().to_string();
    let foreign = target.filter(|t| *t != host);
    let cc = match (std::env::var("CC"), foreign) {
        (Ok(cc), _) if !cc.trim().is_empty() => cc,
        (_, None) => "cc".to_string(),
        (_, Some(t)) => {
            return Err(Failure::usage(format!(
                "error: --format shared --target {t}: set CC to a C compiler for {t} to link the library, or use --format object\n"
            )))
        }
    };
    let lib = Temp::named(dir, &format!("lib{name}.so"));
    let run = Command::new(&cc)
        .arg("-shared")
        .arg("-o")
        .arg(&lib.tmp)
        .arg(&object.tmp)
        .arg("-lm")
        .output()
        .map_err(|e| {
            Failure::user(format!(
                "error: --format shared needs a C compiler to link; cannot run `{cc}`: {e}\n"
            ))
        })?;
    if !run.status.success() {
        let why = String::from_utf8_lossy(&run.stderr);
        let first = why.lines().next().unwrap_or("no message");
        return Err(Failure::user(format!(
            "error: linking lib{name}.so with `{cc}` failed: {first}\n"
        )));
    }
    Ok(lib)
}
