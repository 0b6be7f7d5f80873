//! The command line: clap definitions and one function per command.

mod args;
mod bench;
mod commands;
pub mod derive;
mod run;
mod simulate;
pub mod train;
pub mod weights;

pub use args::Cli;

use crate::diagnostics::{render, Diagnostic, Span};
use std::path::{Path, PathBuf};

/// Exit status of a user error (bad file, bad data, diverged run).
pub const EXIT_USER: i32 = 1;
/// Exit status of a bad command line.
pub const EXIT_USAGE: i32 = 2;

/// A failed command: what to print on stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// Rendered message(s).
    pub message: String,
    /// 1 or 2.
    pub status: i32,
}

impl Failure {
    /// A user error (exit 1).
    pub fn user(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_USER,
        }
    }

    /// A command-line error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_USAGE,
        }
    }
}

/// A `.lag` source file read from disk, kept for rendering diagnostics.
pub struct SourceFile {
    /// The path as given.
    pub path: PathBuf,
    /// Its text (invalid UTF-8 is rejected before this exists).
    pub text: String,
}

impl SourceFile {
    /// Reads a file; unreadable or non-UTF-8 files are user errors with a location.
    pub fn read(path: &Path) -> Result<SourceFile, Failure> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::user(format!("error: cannot read {name}: {e}\n")))?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile {
                path: path.to_path_buf(),
                text,
            }),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                // Offsets in the lossy text match the original up to the first bad byte.
                let d =
                    Diagnostic::error(Span::new(at, at + 1), "this file is not valid UTF-8 text")
                        .with_label(format!(
                            "expected UTF-8; found byte 0x{:02x}",
                            e.as_bytes()[at]
                        ));
                Err(Failure::user(render(&name, &lossy, &[d])))
            }
        }
    }

    /// Renders diagnostics against this file.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        render(&self.path.display().to_string(), &self.text, diags)
    }
}

/// Runs the command line `args` (including the program name); returns the exit status.
pub fn main_with_args(args: Vec<String>) -> i32 {
    use clap::Parser;
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match commands::run(cli) {
        Ok(()) => 0,
        Err(f) => {
            eprint!("{}", f.message);
            f.status
        }
    }
}

/// The Ctrl-C flag, shared by every command and block of the process: the handler is
/// installed once, on first use, and long loops check the flag between steps.
pub(crate) fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        // Should another handler already be installed, Ctrl-C simply ends the process.
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}
