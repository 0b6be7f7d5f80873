//! The command line: clap definitions and one function per command.

mod accel;
mod args;
mod bench;
mod block_error;
mod commands;
mod export;
mod initial;
mod inputs;
mod preflight;
mod run;
mod shared;
mod simulate;
pub mod train;
pub mod weights;

pub use args::Cli;

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

impl From<crate::driver::Error> for Failure {
    /// Unknown names are command-line errors (exit 2); everything else is a user error.
    fn from(e: crate::driver::Error) -> Failure {
        Failure {
            message: e.cli_text(),
            status: match e.kind {
                crate::driver::ErrorKind::Unknown => EXIT_USAGE,
                _ => EXIT_USER,
            },
        }
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

thread_local! {
    /// Where [`shared::stdout`] writes instead of stdout while [`run_captured`] runs.
    static CAPTURED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// True while a command runs inside another program ([`run_captured`]): no Ctrl-C
/// handler is installed then (the host owns its signals).
static EMBEDDED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Runs the command line `args` inside a host program (the Python package's
/// `Model.run`), on a thread with a large stack: returns the exit status, what the
/// command printed on stdout, and its error message (warnings and progress still go
/// to stderr).
pub fn run_captured(args: Vec<String>) -> (i32, String, String) {
    use clap::Parser;
    EMBEDDED.store(true, std::sync::atomic::Ordering::SeqCst);
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            CAPTURED.with(|c| *c.borrow_mut() = Some(String::new()));
            let result = match Cli::try_parse_from(args) {
                Ok(cli) => commands::run(cli),
                Err(e) => Err(Failure::usage(e.to_string())),
            };
            let out = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
            match result {
                Ok(()) => (0, out, String::new()),
                Err(f) => (f.status, out, f.message),
            }
        });
    match worker.map(|w| w.join()) {
        Ok(Ok(r)) => r,
        _ => (
            EXIT_USER,
            String::new(),
            "error: internal: the command failed to run\n".into(),
        ),
    }
}

/// The interrupt flag, shared by every command and block of the process: the handler
/// (for SIGINT, SIGTERM and SIGHUP alike) is installed once, on first use, and long
/// loops check the flag between steps.
pub(crate) fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        if EMBEDDED.load(Ordering::SeqCst) {
            return flag;
        }
        let f = flag.clone();
        // Should another handler already be installed, Ctrl-C simply ends the process.
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}
