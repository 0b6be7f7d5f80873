//! Writing numeric CSV files: shortest round-trip numbers, `0` for both zeros, and each
//! row handed to the underlying writer whole (see the parent module's format notes).

use std::io::{self, Write};

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
