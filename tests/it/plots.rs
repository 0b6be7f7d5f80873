//! Plots: round ticks, panels grouped by scale, lines clipped to their axes, what a
//! trajectory figure holds, `plot_vars` (checked against the system's columns), and
//! written PNG and SVG files.

use lagc::diagnostics::render;
use lagc::report::plot::clip::clip;
use lagc::report::plot::layout::{plan, range_of, trajectory_figure, RunLines, Trajectory};
use lagc::report::plot::ticks::{axis, decimals, nice_step, pow10_label, Labels};
use lagc::report::plot::{group_by_scale, write, Colors};
use std::path::Path;
use std::process::Command;

fn is_round(step: f64) -> bool {
    let m = step / 10f64.powf(step.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .any(|r| (m - r).abs() < 1e-9)
}

#[test]
fn ticks_are_round_multiples_that_cover_the_data() {
    let mut ranges = vec![
        (0.0, 10.0),
        (-1.0, 1.0),
        (0.0, 4.06),
        (1e-10, 3e-10),
        (-3.7e6, 1.2e5),
        (1000.0001, 1000.0003),
        (0.9, 1.4),
        (-0.013, 0.0),
        (7.0, 7.0),
        (0.0, 0.0),
    ];
    // And a spread of pseudo-random ranges over many decades.
    let mut s: u64 = 12345;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..500 {
        let scale = 10f64.powf(next() * 24.0 - 12.0);
        let (a, b) = ((next() - 0.5) * scale, (next() - 0.5) * scale);
        ranges.push((a.min(b), a.max(b)));
    }
    for (lo, hi) in ranges {
        for (pad, max) in [(0.0, 11), (0.04, 6), (0.05, 4)] {
            let a = axis(lo, hi, pad, max);
            let what = format!("{lo}..{hi} pad {pad} max {max}: {a:?}");
            assert!(a.lo <= lo && a.hi >= hi, "covers the data: {what}");
            assert!(is_round(a.step), "round step: {what}");
            assert!(
                a.ticks.len() >= 2 && a.ticks.len() <= max,
                "tick count: {what}"
            );
            for w in a.ticks.windows(2) {
                assert!(((w[1] - w[0]) / a.step - 1.0).abs() < 1e-6, "even: {what}");
            }
            for &t in &a.ticks {
                assert!(
                    t >= a.lo - 1e-9 * a.step && t <= a.hi + 1e-9 * a.step,
                    "{what}"
                );
                let k = t / a.step;
                assert!(
                    (k - k.round()).abs() < 1e-6,
                    "a multiple of the step: {what}"
                );
            }
        }
    }
}

#[test]
fn extreme_values_neither_hang_nor_break_a_figure() {
    for (lo, hi) in [(-1e308, 1e308), (0.0, f64::MAX), (5e-324, 1e-323)] {
        let a = axis(lo, hi, 0.04, 6);
        assert!(a.lo <= lo && a.hi >= hi && a.ticks.len() <= 6, "{a:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut tr = trajectory(1);
    tr.runs[0].columns[0][3].1 = 1e308;
    tr.runs[0].columns[0][4].1 = -1e308;
    tr.runs[0].columns[1][5].1 = f64::INFINITY;
    tr.runs[0].energy[0][6].1 = f64::NAN;
    write(&dir.path().join("x.png"), &trajectory_figure(&tr)).unwrap();
}

#[test]
fn familiar_ranges_get_the_familiar_ticks() {
    let a = axis(0.0, 10.0, 0.0, 11);
    assert_eq!((a.lo, a.hi, a.step), (0.0, 10.0, 1.0));
    assert_eq!(a.ticks, (0..=10).map(f64::from).collect::<Vec<_>>());
    let a = axis(-1.0, 1.0, 0.04, 6);
    assert_eq!(a.step, 0.5);
    assert_eq!(a.ticks, [-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert_eq!(axis(0.0, 4.06, 0.0, 11).step, 0.5);
    // 0.1 * 3 is not 0.3 in floating point; the tick is.
    let a = axis(0.0, 0.6, 0.0, 7);
    assert_eq!(a.step, 0.1);
    assert!(a.ticks.contains(&0.3), "{:?}", a.ticks);
    assert_eq!(nice_step(0.0, 1.0, 5), 0.25);
    assert_eq!(decimals(0.25), 2);
    assert_eq!(decimals(5.0), 0);
    assert_eq!(decimals(2.5e-3), 4);
    let a = axis(-1.0, 1.0, 0.04, 6);
    let l = Labels::for_axis(&a);
    let labels: Vec<String> = a.ticks.iter().map(|&v| l.format(v)).collect();
    assert_eq!(labels, ["-1.0", "-0.5", "0", "0.5", "1.0"]);
    let a = axis(1e-10, 3e-10, 0.04, 6);
    let l = Labels::for_axis(&a);
    assert_eq!(l, Labels::Scientific);
    let labels: Vec<String> = a.ticks.iter().map(|&v| l.format(v)).collect();
    assert_eq!(labels, ["1e-10", "1.5e-10", "2e-10", "2.5e-10", "3e-10"]);
    assert_eq!(pow10_label(-3.0), "1e-3");
    assert_eq!(pow10_label(0.0), "1");
    assert_eq!(pow10_label(-2.5), "3.16e-3");
}

#[test]
fn lines_share_a_panel_only_on_a_common_scale() {
    // r stays near 1.2 while theta grows to 100: r would be a flat line beside it.
    assert_eq!(
        group_by_scale(&[Some((1.0, 1.4)), Some((0.0, 100.0))]),
        [vec![0], vec![1]]
    );
    // Two angles of the same size share one.
    assert_eq!(
        group_by_scale(&[Some((-1.0, 1.0)), Some((-2.5, 2.5))]),
        [vec![0, 1]]
    );
    // The joint range counts, not the spans alone: a small swing far from 0.
    assert_eq!(
        group_by_scale(&[Some((1000.0, 1001.0)), Some((0.0, 1.0))]),
        [vec![0], vec![1]]
    );
    // Three lines, two scales; members keep their order, groups by first member.
    assert_eq!(
        group_by_scale(&[Some((0.0, 1.0)), Some((0.0, 1000.0)), Some((-0.5, 0.8))]),
        [vec![0, 2], vec![1]]
    );
    assert_eq!(
        group_by_scale(&[Some((0.0, 1000.0)), Some((0.0, 1.0)), Some((0.0, 50.0))]),
        [vec![0], vec![1], vec![2]]
    );
    // Where two panels would take a line, the one it fits best (x and y together, the
    // multiplier apart, as for the Cartesian pendulum).
    assert_eq!(
        group_by_scale(&[Some((0.0, 20.0)), Some((0.0, 1.0)), Some((0.0, 3.0))]),
        [vec![0], vec![1, 2]]
    );
    assert_eq!(
        group_by_scale(&[Some((-0.84, 0.84)), Some((-1.0, -0.54)), Some((2.6, 9.4))]),
        [vec![0, 1], vec![2]]
    );
    // Constants alone share a panel.
    assert_eq!(
        group_by_scale(&[Some((2.0, 2.0)), Some((0.5, 0.5))]),
        [vec![0, 1]]
    );
    // Exactly at the ratio still shares; just past it does not.
    assert_eq!(
        group_by_scale(&[Some((0.0, 10.0)), Some((0.0, 1.0))]),
        [vec![0, 1]]
    );
    assert_eq!(
        group_by_scale(&[Some((0.0, 10.5)), Some((0.0, 1.0))]),
        [vec![0], vec![1]]
    );
    // A constant joins a panel whose range it does not stretch; lines without values
    // go to the first panel.
    assert_eq!(
        group_by_scale(&[Some((0.0, 1.0)), Some((0.5, 0.5)), None]),
        [vec![0, 1, 2]]
    );
    assert_eq!(
        group_by_scale(&[Some((0.0, 1.0)), Some((50.0, 50.0))]),
        [vec![0], vec![1]]
    );
    assert!(group_by_scale(&[]).is_empty());
    assert_eq!(group_by_scale(&[None]), [vec![0]]);
}

#[test]
fn lines_are_clipped_to_the_axes() {
    let rect = ((0.0, 5.0), (0.0, 5.0));
    // Leaves through a corner.
    assert_eq!(
        clip(&[(0.0, 0.0), (10.0, 10.0)], rect.0, rect.1),
        [vec![(0.0, 0.0), (5.0, 5.0)]]
    );
    // Out and back in: two parts, each inside.
    let line = [(1.0, 1.0), (2.0, 9.0), (3.0, 1.0), (4.0, 2.0)];
    let parts = clip(&line, rect.0, rect.1);
    assert_eq!(parts.len(), 2, "{parts:?}");
    for p in parts.iter().flatten() {
        assert!(
            p.0 >= 0.0 && p.0 <= 5.0 && p.1 >= 0.0 && p.1 <= 5.0,
            "{p:?}"
        );
    }
    assert_eq!(parts[0][0], (1.0, 1.0));
    assert_eq!(*parts[1].last().unwrap(), (4.0, 2.0));
    // A non-finite point breaks the line; a line wholly outside is gone.
    let parts = clip(
        &[
            (1.0, 1.0),
            (2.0, 2.0),
            (f64::NAN, 1.0),
            (3.0, 3.0),
            (4.0, 4.0),
        ],
        rect.0,
        rect.1,
    );
    assert_eq!(parts.len(), 2);
    assert!(clip(&[(6.0, 6.0), (9.0, 7.0)], rect.0, rect.1).is_empty());
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_plan_picks_quantities_phase_spaces_and_the_orbit() {
    let pendulum = names(&["theta", "theta'", "theta''", "energy"]);
    let p = plan(&pendulum, 1, None).unwrap();
    assert_eq!(p.columns, [0, 1]);
    assert_eq!(p.shown, [0]);
    assert_eq!(p.phase, [(0, 1)]);
    assert_eq!(p.orbit, None);
    // Only the energy chosen: no coordinate is involved, so no phase space.
    let p = plan(&pendulum, 1, Some(&names(&["energy"]))).unwrap();
    assert_eq!((p.columns.as_slice(), p.phase.len()), ([3].as_slice(), 0));
    // An acceleration involves its coordinate.
    let p = plan(&pendulum, 1, Some(&names(&["theta''"]))).unwrap();
    assert_eq!(p.phase.len(), 1);
    assert!(plan(&pendulum, 1, Some(&names(&["omega"]))).is_err());
    // x and y: an orbit.
    let xy = names(&["x", "y", "x'", "y'", "x''", "y''", "lambda_rod", "energy"]);
    let p = plan(&xy, 2, None).unwrap();
    assert_eq!(p.phase.len(), 2);
    let (x, y) = p.orbit.expect("an orbit");
    assert_eq!((p.columns[x], p.columns[y]), (0, 1));
    let p = plan(&xy, 2, Some(&names(&["lambda_rod", "x"]))).unwrap();
    assert_eq!(p.orbit, None, "y is not involved");
    assert_eq!(p.shown.len(), 2);
    // Polar coordinates get no orbit.
    let polar = names(&["r", "theta", "r'", "theta'", "r''", "theta''", "energy"]);
    assert_eq!(plan(&polar, 2, None).unwrap().orbit, None);
}

/// A pendulum-like trajectory of one run (or several).
fn trajectory(runs: usize) -> Trajectory {
    let names = names(&["r", "theta", "r'", "theta'", "r''", "theta''", "energy"]);
    let p = plan(&names, 2, None).unwrap();
    let t: Vec<f64> = (0..=400).map(|k| k as f64 * 0.05).collect();
    let lines = |run: usize| {
        let a = 1.0 + 0.1 * run as f64;
        let col = |row: usize| -> Vec<(f64, f64)> {
            t.iter()
                .map(|&t| {
                    let v = match row {
                        0 => 1.2 + 0.2 * (3.0 * t).sin(),
                        1 => 5.0 * a * t,
                        2 => 0.6 * (3.0 * t).cos(),
                        _ => 5.0 * a,
                    };
                    (t, v)
                })
                .collect()
        };
        RunLines {
            columns: p.columns.iter().map(|&c| col(c)).collect(),
            energy: vec![t.iter().map(|&t| (t, 1e-9 * t.sin())).collect()],
        }
    };
    Trajectory {
        title: "spring (rk4, dt = 0.05)".into(),
        names,
        plan: p.clone(),
        runs: (0..runs).map(lines).collect(),
        total_runs: runs,
        energy: vec!["energy of spring".into()],
        notes: vec![],
    }
}

#[test]
fn a_trajectory_figure_separates_scales_and_adds_phase_spaces() {
    let fig = trajectory_figure(&trajectory(1));
    assert_eq!(fig.colors, Colors::ByQuantity);
    let labels: Vec<&str> = fig.rows.iter().map(|p| p.y_label.as_str()).collect();
    assert_eq!(labels, ["r", "theta", "(E - E0) / |E0|"]);
    assert_eq!(
        fig.rows[2].series[0].label.as_deref(),
        Some("energy of spring")
    );
    let titles: Vec<&str> = fig.shapes.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "phase space: r' against r",
            "phase space: theta' against theta"
        ]
    );
    // Each quantity keeps its colour in its phase space.
    assert_eq!(fig.shapes[1].series[0].color, fig.rows[1].series[0].color);
    // Many runs: one panel per quantity, one colour per run, no per-line legend.
    let fig = trajectory_figure(&trajectory(12));
    assert_eq!(
        fig.colors,
        Colors::ByRun {
            drawn: 12,
            total: 12
        }
    );
    assert_eq!(fig.rows.len(), 3);
    assert!(fig.rows.iter().all(|p| p.series.len() == 12));
    assert!(fig.rows[0].series.iter().all(|s| s.label.is_none()));
    assert_eq!(fig.rows[0].series[7].color, 7);
    assert_eq!(
        range_of(&[(0.0, f64::NAN), (1.0, 2.0), (2.0, -1.0)]),
        Some((-1.0, 2.0))
    );
}

#[test]
fn figures_are_written_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    for runs in [1, 3, 40] {
        let fig = trajectory_figure(&trajectory(runs));
        let png = dir.path().join(format!("f{runs}.png"));
        write(&png, &fig).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, 1200);
        // Three stacked panels and a row of two square ones.
        assert!(info.height > 3 * 200 + 350, "{}", info.height);
        // Not blank: some pixels are coloured.
        let coloured = buf
            .chunks(info.line_size / info.width as usize)
            .filter(|p| p.len() >= 3 && !(p[0] == p[1] && p[1] == p[2]))
            .count();
        assert!(coloured > 1000, "{coloured}");
        let svg = dir.path().join(format!("f{runs}.svg"));
        write(&svg, &fig).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..80]);
        for want in [
            "spring (rk4, dt = 0.05)",
            "phase space: r&apos; against r",
            "phase space: theta&apos; against theta",
            "(E - E0) / |E0|",
        ] {
            assert!(text.contains(want), "{runs} runs: `{want}` missing");
        }
        if runs == 1 {
            assert!(text.contains(">energy of spring<") || text.contains("energy of spring"));
        } else {
            assert!(
                text.contains(&format!("{runs} runs, a colour each")),
                "{runs}"
            );
            assert!(!text.contains("energy of spring"));
        }
    }
}

const SYSTEM: &str = "system spring {
    coord r, theta;
    param m = 1, k = 40, g = 9.81;
    L = 0.5*m*(r'^2 + r^2*theta'^2) - 0.5*k*(r - 1)^2 + m*g*r*cos(theta);
}
";

fn checked(block: &str) -> (String, lagc::check::Checked) {
    let src = format!("{SYSTEM}{block}");
    let ast =
        lagc::syntax::parse(&src).unwrap_or_else(|d| panic!("{}", render("t.lag", &src, &[d])));
    let c = lagc::check::check(&src, &ast, &[]);
    (src, c)
}

#[test]
fn plot_vars_names_columns() {
    let (src, c) = checked(
        "simulate spring { init r = 1.2, theta = 1; t_end = 1; dt = 0.1; plot_vars = [theta, r', theta'', energy]; }\n",
    );
    let m = c
        .model
        .unwrap_or_else(|| panic!("{}", render("t.lag", &src, &c.diagnostics)));
    let lagc::check::RunSettings::Simulate(s) = &m.runs[0].settings else {
        panic!("a simulate block")
    };
    assert_eq!(
        s.plot_vars.as_deref(),
        Some(names(&["theta", "r'", "theta''", "energy"]).as_slice())
    );
}

#[test]
fn plot_vars_with_an_unknown_name_is_a_located_error() {
    let (src, c) = checked(
        "simulate spring {\n    init r = 1.2;\n    t_end = 1; dt = 0.1;\n    plot_vars = [r, thetaa'];\n}\n",
    );
    assert!(c.model.is_none());
    let text = render("plot_vars.lag", &src, &c.diagnostics);
    assert!(text.contains("plot_vars.lag:9:21"), "{text}");
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("plot_vars_unknown_name", text));
    // Not a list, and a list of something else.
    for (block, want) in [
        ("plot_vars = theta;", "`plot_vars` takes a list"),
        ("plot_vars = [theta + 1];", "not a column name"),
        ("plot_vars = [];", "`plot_vars` with 0 names"),
        (
            "plot_vars = [lambda_rod];",
            "unknown plot quantity `lambda_rod`",
        ),
    ] {
        let (src, c) = checked(&format!(
            "simulate spring {{ t_end = 1; dt = 0.1; {block} }}\n"
        ));
        let text = render("t.lag", &src, &c.diagnostics);
        assert!(c.model.is_none() && text.contains(want), "{block}: {text}");
    }
}

#[test]
fn a_run_with_plot_vars_draws_those_quantities() {
    let dir = tempfile::tempdir().unwrap();
    let lag = dir.path().join("p.lag");
    std::fs::write(
        &lag,
        format!(
            "{SYSTEM}simulate spring {{ init r = 1.2, theta = 1; t_end = 2; dt = 0.01; plot = \"p.svg\"; plot_vars = [theta', r]; }}\n"
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(["run", "p.lag", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(Path::new(dir.path()).join("p.svg")).unwrap();
    assert!(svg.contains("theta&apos;"), "theta' is drawn");
    assert!(svg.contains("phase space: theta&apos; against theta"));
    assert!(svg.contains("phase space: r&apos; against r"));
    assert!(svg.contains("(E - E0) / |E0|"), "the energy error");
    assert!(!svg.contains("orbit"), "r and theta are no x and y");
}
