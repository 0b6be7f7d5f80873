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
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Span};

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

/// Formats `x` as the writer does: shortest round-trip `{}`, `nan`, `inf`, `-inf`, and
/// `0` for both zeros.
pub fn format_f64(x: f64, out: &mut String) {
    use std::fmt::Write as _;
    if x.is_nan() {
        out.push_str("nan");
    } else if x == 0.0 {
        out.push('0');
    } else {
        // Display never fails on a String; prints `inf`, `-inf`, `2`, `0.1`.
        let _ = write!(out, "{x}");
    }
}

/// Writes a numeric CSV file: the header on creation, then whole rows.
///
/// Every row is formatted into a buffer and handed to the underlying writer in one
/// `write_all`, so a failure or interruption never leaves half a row. The writer is not
/// flushed on drop; call [`CsvWriter::flush`] (or wrap a `BufWriter`, which flushes on drop).
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    out: W,
    columns: usize,
    line: String,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header line to `w`.
    ///
    /// Fails with `InvalidInput` if a name would not read back as itself: empty, with
    /// surrounding whitespace, containing a comma or line break, starting with `"`, or
    /// repeated; or if there are no names.
    pub fn new(w: W, header: &[String]) -> io::Result<Self> {
        if header.is_empty() {
            return Err(invalid("a CSV file needs at least one column".to_string()));
        }
        let mut seen = std::collections::HashSet::new();
        for name in header {
            let problem = if name.is_empty() {
                Some("is empty")
            } else if name.trim() != name {
                Some("has surrounding whitespace")
            } else if name.contains(',') {
                Some("contains a comma")
            } else if name.contains(['\n', '\r']) {
                Some("contains a line break")
            } else if name.starts_with('"') {
                Some("starts with a quote")
            } else if !seen.insert(name.as_str()) {
                Some("is repeated")
            } else {
                None
            };
            if let Some(p) = problem {
                return Err(invalid(format!(
                    "cannot write CSV column name {name:?}: it {p}"
                )));
            }
        }
        let mut w = CsvWriter {
            out: w,
            columns: header.len(),
            line: String::new(),
        };
        w.line.push_str(&header.join(","));
        w.line.push('\n');
        w.out.write_all(w.line.as_bytes())?;
        Ok(w)
    }

    /// Writes one row; `InvalidInput` (and nothing written) if its length is not the
    /// header's.
    pub fn write_row(&mut self, values: &[f64]) -> io::Result<()> {
        if values.len() != self.columns {
            return Err(invalid(format!(
                "CSV row has {} values, expected {}",
                values.len(),
                self.columns
            )));
        }
        self.line.clear();
        for (i, &x) in values.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            format_f64(x, &mut self.line);
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn err(text: &str) -> String {
        parse_table(text).unwrap_err().to_string()
    }

    fn bits(rows: &[Vec<f64>]) -> Vec<Vec<u64>> {
        let canon = |x: f64| {
            if x.is_nan() {
                f64::NAN.to_bits()
            } else {
                x.to_bits()
            }
        };
        rows.iter()
            .map(|r| r.iter().map(|&x| canon(x)).collect())
            .collect()
    }

    #[test]
    fn parses_plain_table() {
        let t = parse_table("t1, t1'\n1,2\n3.5,-4\n").unwrap();
        assert_eq!(t.header, names(&["t1", "t1'"]));
        assert_eq!(t.rows, vec![vec![1.0, 2.0], vec![3.5, -4.0]]);
    }

    #[test]
    fn accepts_crlf_no_final_newline_trailing_blanks_and_bom() {
        let want = Table {
            header: names(&["a", "b"]),
            rows: vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        };
        for text in [
            "a,b\r\n1,2\r\n3,4\r\n",
            "a,b\n1,2\n3,4",
            "a,b\n1,2\n3,4\n\n  \n\r\n",
            "\u{feff}a,b\n1,2\n3,4\n",
            "  a ,\tb\n 1 , 2 \n3,4\n",
        ] {
            assert_eq!(parse_table(text).unwrap(), want, "{text:?}");
        }
    }

    #[test]
    fn header_only_is_an_empty_table() {
        let t = parse_table("phi[0],phi''[3]\n").unwrap();
        assert_eq!(t.header, names(&["phi[0]", "phi''[3]"]));
        assert!(t.rows.is_empty());
    }

    #[test]
    fn number_syntax() {
        let t = parse_table("x\nnan\nNaN\ninf\n-INF\nInfinity\n1e-3\n.5\n-0\n5.\n+1\n").unwrap();
        let v: Vec<f64> = t.rows.iter().map(|r| r[0]).collect();
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!(&v[2..5], &[f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]);
        assert_eq!(&v[5..], &[1e-3, 0.5, -0.0, 5.0, 1.0]);
        assert!(v[7].is_sign_negative());
    }

    #[test]
    fn error_not_a_number() {
        let e = parse_table("t1,t1'\n1,2\n3,abc\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"line 3, column "t1'": "abc" is not a number"#
        );
        assert_eq!(e.span, Some(Span::new(13, 16)));
        assert_eq!(
            e.in_file("states.csv").to_string(),
            r#"states.csv: line 3, column "t1'": "abc" is not a number"#
        );
    }

    #[test]
    fn error_not_a_number_long_cell_is_shortened() {
        let long = "x".repeat(100);
        let msg = err(&format!("a\n{long}\n"));
        assert_eq!(
            msg,
            format!(
                "line 2, column \"a\": \"{}\"... is not a number",
                "x".repeat(40)
            )
        );
    }

    #[test]
    fn error_empty() {
        for text in ["", "\n", "  \r\n\n"] {
            assert_eq!(err(text), "empty file (expected a header line)");
        }
    }

    #[test]
    fn error_row_length() {
        assert_eq!(
            err("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n1,2,3\n"),
            "line 4 has 3 cells, expected 5"
        );
        assert_eq!(err("a\n1,2\n"), "line 2 has 2 cells, expected 1");
    }

    #[test]
    fn error_duplicate_column() {
        assert_eq!(err("x,y, x\n1,2,3\n"), r#"duplicate column "x""#);
    }

    #[test]
    fn error_missing_columns() {
        let t = parse_table("t1,t1'\n").unwrap();
        let e = t.require_columns(&names(&["t1", "t2'"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"missing column "t2'" (the file has: t1, t1')"#
        );
        let e = t
            .require_columns(&names(&["t2", "t1", "t2'", "t2"]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"missing columns "t2", "t2'" (the file has: t1, t1')"#
        );
        assert_eq!(
            t.require_columns(&names(&["t1'", "t1"])).unwrap(),
            vec![1, 0]
        );
        assert_eq!(t.column("t1'"), Some(1));
        assert_eq!(t.column("t2"), None);
    }

    #[test]
    fn error_blank_lines_in_the_middle() {
        assert_eq!(
            err("a,b\n1,2\n\n3,4\n"),
            "line 3 is blank (blank lines are only allowed at the end of the file)"
        );
        assert_eq!(
            err("\na,b\n1,2\n"),
            "line 1 is blank (blank lines are only allowed at the end of the file)"
        );
    }

    #[test]
    fn error_missing_value() {
        assert_eq!(err("a,b\n1,\n"), r#"line 2, column "b": missing value"#);
        assert_eq!(
            err("a,b\r\n1, \r\n"),
            r#"line 2, column "b": missing value"#
        );
    }

    #[test]
    fn error_quoted() {
        assert_eq!(
            err("a,b\n\"1\",2\n"),
            r#"line 2, column "a": quoted values are not supported"#
        );
        assert_eq!(
            err("a,\"b\"\n1,2\n"),
            "line 1: column 2 of the header is quoted (quoted names are not supported)"
        );
    }

    #[test]
    fn error_unnamed_column() {
        assert_eq!(
            err("a,,b\n1,2,3\n"),
            "line 1: column 2 of the header has no name"
        );
        assert_eq!(
            err("a,b,\n1,2,3\n"),
            "line 1: column 3 of the header has no name"
        );
    }

    #[test]
    fn error_not_utf8_and_io() {
        let e = parse_table_bytes(b"a\n1\n\xff\n").unwrap_err();
        assert_eq!(e.to_string(), "line 3 is not valid UTF-8 text");
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let e = read_table(&missing).unwrap_err();
        assert!(matches!(e.kind, CsvErrorKind::Io(_)));
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("{}: cannot read: ", missing.display())),
            "{msg}"
        );
        let bad = dir.path().join("states.csv");
        std::fs::write(&bad, "t1,t1'\n1,x\n").unwrap();
        let e = read_table(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 2, column \"t1'\": \"x\" is not a number",
                bad.display()
            )
        );
    }

    #[test]
    fn diagnostic_points_at_the_cell() {
        let text = "a,b\n1,  zz \n";
        let d = parse_table(text).unwrap_err().to_diagnostic();
        assert_eq!(&text[d.span.start..d.span.end], "zz");
        assert_eq!(d.message, r#"line 2, column "b": "zz" is not a number"#);
    }

    #[test]
    fn writer_formats_and_round_trips() {
        let header = names(&["t", "phi[0]", "phi''[3]", "energy"]);
        let rows = vec![
            vec![2.0, 0.1, -0.0, f64::NAN],
            vec![f64::INFINITY, f64::NEG_INFINITY, 1e300, 5e-324],
            vec![f64::MAX, f64::MIN_POSITIVE, -1.0 / 3.0, 0.0],
        ];
        let mut w = CsvWriter::new(Vec::new(), &header).unwrap();
        for r in &rows {
            w.write_row(r).unwrap();
        }
        w.flush().unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert!(
            text.starts_with("t,phi[0],phi''[3],energy\n2,0.1,0,nan\ninf,-inf,"),
            "{text}"
        );
        let t = parse_table(&text).unwrap();
        assert_eq!(t.header, header);
        // -0 is written as 0; every other value reads back bit for bit.
        let unsigned = |r: &[Vec<f64>]| -> Vec<Vec<f64>> {
            r.iter()
                .map(|row| {
                    row.iter()
                        .map(|&x| if x == 0.0 { 0.0 } else { x })
                        .collect()
                })
                .collect()
        };
        assert_eq!(bits(&t.rows), bits(&unsigned(&rows)));
    }

    #[test]
    fn writer_rejects_bad_rows_and_names() {
        let mut w = CsvWriter::new(Vec::new(), &names(&["a", "b"])).unwrap();
        let e = w.write_row(&[1.0]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "CSV row has 1 values, expected 2");
        assert_eq!(w.into_inner(), b"a,b\n");
        for bad in [
            &["a,b"][..],
            &[""],
            &[" a"],
            &["\"a"],
            &["a", "a"],
            &["a\nb"],
            &[],
        ] {
            let e = CsvWriter::new(Vec::new(), &names(bad)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        let e = CsvWriter::new(Vec::new(), &names(&["x", "a,b"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"cannot write CSV column name "a,b": it contains a comma"#
        );
    }

    /// A writer that accepts at most `limit` bytes, then fails.
    struct Limited {
        buf: Vec<u8>,
        limit: usize,
    }

    impl Write for Limited {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if self.buf.len() + data.len() > self.limit {
                return Err(io::Error::other("disk full"));
            }
            self.buf.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writer_never_leaves_a_partial_row() {
        let mut w = CsvWriter::new(
            Limited {
                buf: Vec::new(),
                limit: 12,
            },
            &names(&["a", "b"]),
        )
        .unwrap();
        w.write_row(&[1.0, 2.0]).unwrap();
        assert!(w.write_row(&[0.125, 0.5]).is_err());
        assert_eq!(w.into_inner().buf, b"a,b\n1,2\n");
    }
}
