//! The driver's one error type: a kind (which tells a binding which exception to
//! raise, and the command line which exit status) and the message the command line
//! prints.

use crate::diagnostics::{render, Diagnostic};

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The `.lag` source does not parse or check; [`Error::diagnostics`] locates it.
    Source,
    /// A bad argument: a shape, a value, an option.
    Usage,
    /// An unknown name (system, param, tensor).
    Unknown,
    /// Reading or writing a file failed.
    Io,
    /// A computation failed (data that cannot be used, a training that cannot run).
    Runtime,
}

/// One located diagnostic of a source error (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub col: usize,
    /// The message.
    pub message: String,
}

/// A failure of the driver: its kind, the text to show, and for source errors the
/// located diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The text to show: rendered diagnostics (file:line:col, the line, a caret) for
    /// source errors, one sentence otherwise.
    pub message: String,
    /// The located diagnostics of a source error (empty otherwise).
    pub diagnostics: Vec<Located>,
}

impl Error {
    /// A source error: `diags` rendered against `text` of file `name`.
    pub fn source(name: &str, text: &str, diags: Vec<Diagnostic>) -> Error {
        Error {
            kind: ErrorKind::Source,
            message: render(name, text, &diags),
            diagnostics: diags.iter().map(|d| super::locate(text, d)).collect(),
        }
    }

    fn plain(kind: ErrorKind, message: String) -> Error {
        Error {
            kind,
            message,
            diagnostics: vec![],
        }
    }

    /// A bad argument.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::plain(ErrorKind::Usage, message.into())
    }

    /// An unknown name.
    pub fn unknown(message: impl Into<String>) -> Error {
        Error::plain(ErrorKind::Unknown, message.into())
    }

    /// A failed read or write.
    pub fn io(message: impl Into<String>) -> Error {
        Error::plain(ErrorKind::Io, message.into())
    }

    /// A failed computation.
    pub fn runtime(message: impl Into<String>) -> Error {
        Error::plain(ErrorKind::Runtime, message.into())
    }

    /// The text the command line prints on stderr: rendered diagnostics as they are,
    /// any other message as one `error:` line.
    pub fn cli_text(&self) -> String {
        match self.kind {
            ErrorKind::Source => self.message.clone(),
            _ => format!("error: {}\n", self.message),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message.trim_end())
    }
}

impl std::error::Error for Error {}
