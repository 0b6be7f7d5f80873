//! Numeric CSV files: state tables in, accelerations and trajectories out.
//!
//! The format (LANGUAGE.md §5): comma separated, one header line of column names, then
//! rows of numbers. No quoting. Reading is strict and every error names the line (the
//! header is line 1) and the column:
//!
//! - Cells and names are trimmed of surrounding whitespace; `\n` and `\r\n` line endings
//!   are both accepted, as are a missing final newline and a leading UTF-8 byte-order mark.
//! - Blank (or whitespace-only) lines at the end of the file are ignored. A blank line
//!   anywhere else is an error ([`CsvErrorKind::BlankLine`]), not silently skipped, so the
//!   line numbers in messages are always the file's own.
//! - A cell is whatever [`str::parse::<f64>`] accepts: `1e-3`, `.5`, `5.`, `+1`, `-0`
//!   (read as -0.0), and `nan`, `inf`, `-inf`, `infinity` in any case.
//! - A cell starting with `"` is rejected with a clear message rather than misread.
//!
//! Writing ([`CsvWriter`]) produces files this reader reads back bit-exactly, except that
//! a zero is always written `0` (never `-0`, which only says which way a result rounded
//! to zero): finite values use Rust's shortest round-trip `{}` formatting (`2`, `0.1`),
//! NaN is `nan` and the infinities `inf`/`-inf`. Each row reaches the underlying writer in one `write_all`, so an
//! interrupted run never leaves a partial row behind.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Span};

mod write;
pub use write::{format_f64, CsvWriter};

/// A numeric CSV table: column names and rows of `f64`, every row as long as the header.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    /// Column names, trimmed, distinct and non-empty, in file order.
    pub header: Vec<String>,
    /// Data rows in file order; `rows[i]` is on line `i + 2` of the file.
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// The index of the column called `name`, if there is one.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The indices of `names`, in the order given; if any are missing, one error listing
    /// all the missing names and the columns the table does have.
    pub fn require_columns(&self, names: &[String]) -> Result<Vec<usize>, CsvError> {
        let mut found = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            match self.column(name) {
                Some(i) => found.push(i),
                None if !missing.contains(name) => missing.push(name.clone()),
                None => {}
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(CsvError::new(CsvErrorKind::MissingColumns {
                missing,
                available: self.header.clone(),
            }))
        }
    }
}

/// What went wrong reading a CSV file. `Display` is a complete one-line message.
#[derive(Debug, thiserror::Error)]
pub enum CsvErrorKind {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(#[source] io::Error),
    /// The bytes are not UTF-8 text; `line` is where the first bad byte is.
    #[error("line {line} is not valid UTF-8 text")]
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// Nothing but whitespace in the file.
    #[error("empty file (expected a header line)")]
    Empty,
    /// A blank line before the last non-blank one.
    #[error("line {line} is blank (blank lines are only allowed at the end of the file)")]
    BlankLine {
        /// 1-based line number.
        line: usize,
    },
    /// A header cell that is empty after trimming.
    #[error("line 1: column {column} of the header has no name")]
    UnnamedColumn {
        /// 1-based column position.
        column: usize,
    },
    /// A header cell starting with `"`.
    #[error("line 1: column {column} of the header is quoted (quoted names are not supported)")]
    QuotedName {
        /// 1-based column position.
        column: usize,
    },
    /// Two header cells with the same name.
    #[error("duplicate column {name:?}")]
    DuplicateColumn {
        /// The repeated name.
        name: String,
    },
    /// A data line with the wrong number of cells.
    #[error("line {line} has {found} cell{}, expected {expected}", if *found == 1 { "" } else { "s" })]
    RowLength {
        /// 1-based line number.
        line: usize,
        /// Cells on that line.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// An empty cell in a data line.
    #[error("line {line}, column {column:?}: missing value")]
    MissingValue {
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: String,
    },
    /// A data cell starting with `"`.
    #[error("line {line}, column {column:?}: quoted values are not supported")]
    QuotedValue {
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: String,
    },
    /// A data cell that does not parse as a number.
    #[error("line {line}, column {column:?}: {} is not a number", Shown(text))]
    NotANumber {
        /// 1-based line number.
        line: usize,
        /// The column's name.
        column: String,
        /// The cell, trimmed (shortened in the message if very long).
        text: String,
    },
    /// Columns asked for by [`Table::require_columns`] that the file lacks.
    #[error(
        "missing column{} {} (the file has: {})",
        if missing.len() == 1 { "" } else { "s" },
        Quoted(missing),
        available.join(", ")
    )]
    MissingColumns {
        /// Every requested name not in the header, first occurrence order.
        missing: Vec<String>,
        /// The header of the file.
        available: Vec<String>,
    },
}

/// A CSV error: what went wrong, and optionally which file and where in its text.
///
/// Displays as `FILE: MESSAGE` when the file is known (as from [`read_table`]), else just
/// `MESSAGE`, e.g. `states.csv: line 3, column "t1'": "abc" is not a number`.
#[derive(Debug)]
pub struct CsvError {
    /// The file, when known; [`read_table`] sets it, [`CsvError::in_file`] adds it.
    pub file: Option<PathBuf>,
    /// Byte range of the offending cell or line in the parsed text, when there is one.
    pub span: Option<Span>,
    /// What went wrong.
    pub kind: CsvErrorKind,
}

impl CsvError {
    /// An error with no file and no span.
    pub fn new(kind: CsvErrorKind) -> CsvError {
        CsvError {
            file: None,
            span: None,
            kind,
        }
    }

    fn at(kind: CsvErrorKind, start: usize, end: usize) -> CsvError {
        CsvError {
            file: None,
            span: Some(Span::new(start, end)),
            kind,
        }
    }

    /// The same error, attributed to `path` (replacing any file already set).
    pub fn in_file(mut self, path: impl Into<PathBuf>) -> CsvError {
        self.file = Some(path.into());
        self
    }

    /// A [`Diagnostic`] with the message (without the file name, which the renderer
    /// prints) and the span, or an empty span at the start if there is none.
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.span.unwrap_or_default(), self.kind.to_string())
    }
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

impl From<CsvErrorKind> for CsvError {
    fn from(kind: CsvErrorKind) -> CsvError {
        CsvError::new(kind)
    }
}

/// A cell as shown in a message: debug-quoted, cut to 40 characters.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 40;
        match self.0.char_indices().nth(MAX) {
            None => write!(f, "{:?}", self.0),
            Some((i, _)) => write!(f, "{:?}...", &self.0[..i]),
        }
    }
}

/// Names as `"a", "b"`.
struct Quoted<'a>(&'a [String]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n:?}")?;
        }
        Ok(())
    }
}

/// Reads and parses the CSV file at `path`; errors carry the path.
pub fn read_table(path: &Path) -> Result<Table, CsvError> {
    let bytes =
        std::fs::read(path).map_err(|e| CsvError::new(CsvErrorKind::Io(e)).in_file(path))?;
    parse_table_bytes(&bytes).map_err(|e| e.in_file(path))
}

/// Parses CSV bytes, which must be UTF-8 text (see [`parse_table`]).
pub fn parse_table_bytes(bytes: &[u8]) -> Result<Table, CsvError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_table(text),
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(CsvError::new(CsvErrorKind::NotUtf8 { line }))
        }
    }
}

/// One physical line: 1-based number, byte offset of its start, text without the ending.
struct Line<'a> {
    no: usize,
    start: usize,
    text: &'a str,
}

/// One comma-separated cell: byte range of the trimmed text, and the text.
struct Cell<'a> {
    start: usize,
    text: &'a str,
}

impl Cell<'_> {
    fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

fn cells<'a>(line: &Line<'a>) -> impl Iterator<Item = Cell<'a>> + 'a {
    let (text, mut offset) = (line.text, line.start);
    text.split(',').map(move |raw| {
        let lead = raw.len() - raw.trim_start().len();
        let cell = Cell {
            start: offset + lead,
            text: raw.trim(),
        };
        offset += raw.len() + 1;
        cell
    })
}

/// Parses CSV text into a [`Table`] (the rules are in the module documentation).
pub fn parse_table(text: &str) -> Result<Table, CsvError> {
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut lines = Vec::new();
    let mut start = bom;
    for (i, raw) in text[bom..].split('\n').enumerate() {
        let body = raw.strip_suffix('\r').unwrap_or(raw);
        lines.push(Line {
            no: i + 1,
            start,
            text: body,
        });
        start += raw.len() + 1;
    }
    // Blank lines at the end are ignored.
    while lines.last().is_some_and(|l| l.text.trim().is_empty()) {
        lines.pop();
    }
    let Some((head, data)) = lines.split_first() else {
        return Err(CsvErrorKind::Empty.into());
    };
    if head.text.trim().is_empty() {
        return Err(CsvError::at(
            CsvErrorKind::BlankLine { line: 1 },
            head.start,
            head.start,
        ));
    }

    let mut header = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (j, cell) in cells(head).enumerate() {
        if cell.text.is_empty() {
            return Err(CsvError::at(
                CsvErrorKind::UnnamedColumn { column: j + 1 },
                cell.start,
                cell.start,
            ));
        }
        if cell.text.starts_with('"') {
            return Err(CsvError::at(
                CsvErrorKind::QuotedName { column: j + 1 },
                cell.start,
                cell.end(),
            ));
        }
        if seen.insert(cell.text, j).is_some() {
            let kind = CsvErrorKind::DuplicateColumn {
                name: cell.text.to_string(),
            };
            return Err(CsvError::at(kind, cell.start, cell.end()));
        }
        header.push(cell.text.to_string());
    }

    let n = header.len();
    let mut rows = Vec::with_capacity(data.len());
    for line in data {
        let line_end = line.start + line.text.len();
        if line.text.trim().is_empty() {
            return Err(CsvError::at(
                CsvErrorKind::BlankLine { line: line.no },
                line.start,
                line_end,
            ));
        }
        let found = line.text.split(',').count();
        if found != n {
            let kind = CsvErrorKind::RowLength {
                line: line.no,
                found,
                expected: n,
            };
            return Err(CsvError::at(kind, line.start, line_end));
        }
        let mut row = Vec::with_capacity(n);
        for (cell, name) in cells(line).zip(&header) {
            let column = || name.clone();
            if cell.text.is_empty() {
                let kind = CsvErrorKind::MissingValue {
                    line: line.no,
                    column: column(),
                };
                return Err(CsvError::at(kind, cell.start, cell.start));
            }
            if cell.text.starts_with('"') {
                let kind = CsvErrorKind::QuotedValue {
                    line: line.no,
                    column: column(),
                };
                return Err(CsvError::at(kind, cell.start, cell.end()));
            }
            match cell.text.parse::<f64>() {
                Ok(x) => row.push(x),
                Err(_) => {
                    let kind = CsvErrorKind::NotANumber {
                        line: line.no,
                        column: column(),
                        text: cell.text.to_string(),
                    };
                    return Err(CsvError::at(kind, cell.start, cell.end()));
                }
            }
        }
        rows.push(row);
    }
    Ok(Table { header, rows })
}

#[cfg(test)]
mod tests;
