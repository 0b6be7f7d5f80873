//! Snapshots of `lagc derive` (text and LaTeX) for every shipped example, plus the
//! structure of the JSON output. Refresh with
//! `INSTA_UPDATE=always cargo test --release --test it derive_snapshots`, then read the diff.

use lagc::driver::derive::Style;
use lagc::driver::Model;

fn model(path: &str) -> Model {
    Model::load(std::path::Path::new(path), &[]).expect("example checks")
}

/// The whole `lagc derive` output of one file in one style.
fn derive_all(path: &str, style: Style) -> String {
    let m = model(path);
    let mut out = String::new();
    for name in m.system_names() {
        out.push_str(&m.derive_text(&name, style).expect("derives"));
    }
    out
}

macro_rules! example_snapshots {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let path = concat!("examples/", stringify!($name), ".lag");
            insta::assert_snapshot!(
                concat!(stringify!($name), "_text"),
                derive_all(path, Style::Text)
            );
            insta::assert_snapshot!(
                concat!(stringify!($name), "_latex"),
                derive_all(path, Style::Latex)
            );
        }
    )*};
}

example_snapshots!(
    bouncing_ball,
    charged_particle,
    double_pendulum,
    double_pendulum_vec,
    driven_oscillator,
    driven_pendulum,
    falling_ball,
    four_bar,
    hybrid_spring_pendulum,
    lnn_double_pendulum,
    pendulum,
    pendulum_cartesian,
    relativistic,
    repro_double_pendulum,
    repro_relativistic,
    repro_two_body,
    rolling_disk,
    two_body,
    wave,
);

/// Every example has a snapshot test above.
#[test]
fn every_example_is_covered() {
    let covered = [
        "bouncing_ball",
        "charged_particle",
        "double_pendulum",
        "double_pendulum_vec",
        "driven_oscillator",
        "driven_pendulum",
        "falling_ball",
        "four_bar",
        "hybrid_spring_pendulum",
        "lnn_double_pendulum",
        "pendulum",
        "pendulum_cartesian",
        "relativistic",
        "repro_double_pendulum",
        "repro_relativistic",
        "repro_two_body",
        "rolling_disk",
        "two_body",
        "wave",
    ];
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "lag") {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            assert!(
                covered.contains(&stem.as_str()),
                "no snapshot test for {stem}"
            );
        }
    }
}

#[test]
fn double_pendulum_json_structure() {
    let m = model("examples/double_pendulum.lag");
    let value = m.derive_json("double_pendulum").expect("derives");
    // It survives a round trip through text.
    let text = serde_json::to_string(&value).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let obj = v.as_object().expect("an object");
    for key in [
        "kind", "coords", "L", "dL_dq", "dL_dqdot", "H", "M", "energy", "rhs", "accel", "params",
    ] {
        assert!(obj.contains_key(key), "missing key {key} in {text}");
    }
    let strings = |key: &str| -> Vec<String> {
        obj[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not an array"))
            .iter()
            .map(|s| s.as_str().expect("expression string").to_string())
            .collect()
    };
    assert_eq!(strings("dL_dq").len(), 2);
    assert_eq!(strings("dL_dqdot").len(), 2);
    assert_eq!(strings("accel").len(), 2);
    assert!(obj["energy"].is_string());
    for key in ["H", "M"] {
        let rows = obj[key].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{key} has 2 rows");
        for r in rows {
            let r = r.as_array().unwrap();
            assert_eq!(r.len(), 2, "{key} rows have 2 entries");
            assert!(r.iter().all(|e| e.as_str().is_some_and(|s| !s.is_empty())));
        }
    }
    for s in strings("accel") {
        assert!(!s.is_empty());
    }
}
