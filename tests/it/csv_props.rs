//! Property tests for `lagc::report::csv`: no input panics the reader, written tables read
//! back bit-exactly (a -0 is written `0`), and a bad cell is reported at its own line and
//! column.

use lagc::report::csv::{parse_table, parse_table_bytes, CsvErrorKind, CsvWriter, Table};
use proptest::prelude::*;

/// Column names like those lagc writes: `t1`, `t1'`, `phi[0]`, `phi''[3]`.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,3}'{0,2}(\\[[0-9]\\])?"
}

/// Any f64, with NaN, infinities, -0.0 and subnormals made likely.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            5e-324,
            f64::MAX,
            f64::MIN,
            0.1,
            2.0,
        ]),
    ]
}

fn table() -> impl Strategy<Value = Table> {
    prop::collection::btree_set(name(), 1..6).prop_flat_map(|names| {
        let header: Vec<String> = names.into_iter().collect();
        let n = header.len();
        prop::collection::vec(prop::collection::vec(value(), n), 0..12).prop_map(move |rows| {
            Table {
                header: header.clone(),
                rows,
            }
        })
    })
}

fn write(t: &Table) -> String {
    let mut w = CsvWriter::new(Vec::new(), &t.header).unwrap();
    for r in &t.rows {
        w.write_row(r).unwrap();
    }
    String::from_utf8(w.into_inner()).unwrap()
}

/// Bits of every value, every NaN mapped to one (text cannot carry a NaN payload) and
/// -0 to 0 (the writer never writes `-0`).
fn bits(rows: &[Vec<f64>]) -> Vec<Vec<u64>> {
    let canon = |x: f64| {
        if x.is_nan() {
            f64::NAN.to_bits()
        } else if x == 0.0 {
            0
        } else {
            x.to_bits()
        }
    };
    rows.iter()
        .map(|r| r.iter().map(|&x| canon(x)).collect())
        .collect()
}

/// Text that is a plain cell (no comma, quote or line break, trimmed, non-empty) but
/// not a number.
fn non_number() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.+\\-_ ]{1,8}".prop_filter("a plain non-number cell", |s| {
        let t = s.trim();
        t == s && !t.is_empty() && t.parse::<f64>().is_err()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_table_bytes(&bytes);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,120}") {
        let _ = parse_table(&text);
        if let Err(e) = parse_table(&text) {
            let _ = e.to_string();
            if let Some(span) = e.span {
                prop_assert!(span.start <= span.end && span.end <= text.len());
            }
        }
    }

    #[test]
    fn csv_like_strings_never_panic(text in "[a-z0-9., \"'\\-\\n\\r]{0,80}") {
        if let Ok(t) = parse_table(&text) {
            prop_assert!(t.rows.iter().all(|r| r.len() == t.header.len()));
        }
    }

    #[test]
    fn tables_round_trip_exactly(t in table()) {
        let text = write(&t);
        prop_assert!(text.split([',', '\n']).all(|cell| cell != "-0"), "{}", text);
        let back = parse_table(&text).unwrap();
        prop_assert_eq!(&back.header, &t.header);
        prop_assert_eq!(bits(&back.rows), bits(&t.rows));
    }

    #[test]
    fn round_trip_survives_crlf_and_padding(t in table()) {
        let text = write(&t).replace(',', " ,\t").replace('\n', "\r\n") + "\r\n \n";
        let back = parse_table(&text).unwrap();
        prop_assert_eq!(&back.header, &t.header);
        prop_assert_eq!(bits(&back.rows), bits(&t.rows));
    }

    #[test]
    fn a_bad_cell_is_named_by_line_and_column(
        t in table().prop_filter("at least one row", |t| !t.rows.is_empty()),
        pick in any::<(prop::sample::Index, prop::sample::Index)>(),
        bad in non_number(),
    ) {
        let row = pick.0.index(t.rows.len());
        let col = pick.1.index(t.header.len());
        let mut lines: Vec<String> = write(&t).lines().map(str::to_string).collect();
        let mut cells: Vec<String> = lines[row + 1].split(',').map(str::to_string).collect();
        cells[col] = bad.clone();
        lines[row + 1] = cells.join(",");
        let e = parse_table(&(lines.join("\n") + "\n")).unwrap_err();
        match &e.kind {
            CsvErrorKind::NotANumber { line, column, text } => {
                prop_assert_eq!(*line, row + 2);
                prop_assert_eq!(column, &t.header[col]);
                prop_assert_eq!(text, &bad);
            }
            other => prop_assert!(false, "unexpected error {:?}", other),
        }
        let expected = format!("line {}, column {:?}: {:?} is not a number", row + 2, t.header[col], bad);
        prop_assert_eq!(e.to_string(), expected);
    }
}
