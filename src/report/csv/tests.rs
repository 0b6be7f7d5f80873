//! The reader's and the writer's unit tests.
use super::*;
use std::io::Write;

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
