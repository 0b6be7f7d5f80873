//! The progress bar of long runs, on stderr.
//!
//! A bar appears only once a run has taken more than a second, only when stderr is a
//! terminal, and never with `--quiet`; stdout is never touched, so it stays clean for data.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long a run goes before its bar is shown.
const DELAY: Duration = Duration::from_secs(1);

/// A progress bar over a known number of units (output rows).
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: bool,
}

impl Progress {
    /// A bar over `total` units labelled `label`; drawn only if `enabled` (and
    /// stderr is a terminal) after [`DELAY`].
    pub fn new(total: u64, label: &str, enabled: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:40}] {percent:>3}% {elapsed} (eta {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label.to_string());
        Progress {
            bar,
            start: Instant::now(),
            enabled: enabled && std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Advances by `delta` units.
    pub fn inc(&mut self, delta: u64) {
        self.bar.inc(delta);
        if self.enabled && !self.shown && self.start.elapsed() >= DELAY {
            self.shown = true;
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
