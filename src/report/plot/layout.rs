//! What a trajectory figure shows and where: the quantities to draw ([`plan`]), their
//! grouping into panels by scale ([`group_by_scale`]), and the figure itself
//! ([`trajectory_figure`]). Pure functions; the drawing is in `draw.rs`.

use super::{Colors, Figure, Panel, Series};

/// Lines share a panel only while the panel's range is at most this many times the
/// range of each of them (so none is squashed to under a tenth of the panel's height).
pub const SCALE_RATIO: f64 = 10.0;
/// Coordinates drawn over time when `plot_vars` does not choose.
pub const DEFAULT_QUANTITIES: usize = 8;
/// Phase-space panels at most (the first coordinates drawn).
pub const MAX_PHASE: usize = 3;
/// Runs drawn at most (the first ones of a block).
pub const MAX_RUNS: usize = 100;

/// The y range of the finite points of a line (`None` when there are none).
pub fn range_of(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            r = Some(r.map_or((y, y), |(a, b)| (a.min(y), b.max(y))));
        }
    }
    r
}

fn span((lo, hi): (f64, f64)) -> f64 {
    let s = hi - lo;
    // A span at the rounding level of the values is a constant.
    if s <= 1e-9 * lo.abs().max(hi.abs()) {
        0.0
    } else {
        s
    }
}

/// Groups lines into panels by scale. `ranges[i]` is line i's value range (`None`: no
/// finite value). Lines are taken in order; each joins the group in which the joint
/// range stays within [`SCALE_RATIO`] times the range of every varying member (itself
/// included), the one where that ratio is smallest when several qualify, else starts a
/// group. A constant line (a range at rounding level) only has to keep the others
/// within the rule (constants alone share a panel); lines without values join the
/// first group. Members keep their
/// order, and groups are ordered by their first member.
pub fn group_by_scale(ranges: &[Option<(f64, f64)>]) -> Vec<Vec<usize>> {
    // (members, joint range, smallest non-zero span of the members)
    let mut groups: Vec<(Vec<usize>, (f64, f64), f64)> = vec![];
    let mut empty = vec![];
    for (i, r) in ranges.iter().enumerate() {
        let Some(r) = *r else {
            empty.push(i);
            continue;
        };
        let s = span(r);
        // The ratio of the joint span to the smallest member span if `i` joined `g`.
        let ratio = |(_, joint, min): &(Vec<usize>, (f64, f64), f64)| -> Option<f64> {
            let js = span((joint.0.min(r.0), joint.1.max(r.1)));
            let smallest = if s > 0.0 { min.min(s) } else { *min };
            if js == 0.0 {
                Some(1.0)
            } else if smallest.is_infinite() {
                // Constants only: flat lines whatever their scale.
                Some(SCALE_RATIO)
            } else if js <= SCALE_RATIO * smallest {
                Some(js / smallest)
            } else {
                None
            }
        };
        let best = groups
            .iter()
            .enumerate()
            .filter_map(|(k, g)| ratio(g).map(|q| (k, q)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((k, _)) => {
                let g = &mut groups[k];
                g.0.push(i);
                g.1 = (g.1 .0.min(r.0), g.1 .1.max(r.1));
                if s > 0.0 {
                    g.2 = g.2.min(s);
                }
            }
            None => groups.push((vec![i], r, if s > 0.0 { s } else { f64::INFINITY })),
        }
    }
    let mut out: Vec<Vec<usize>> = groups.into_iter().map(|(m, _, _)| m).collect();
    if !empty.is_empty() {
        match out.first_mut() {
            Some(g) => {
                g.extend(empty);
                g.sort_unstable();
            }
            None => out.push(empty),
        }
    }
    out
}

/// What a trajectory plot tracks, as indices into the row's names (the state names,
/// then the output names: `header[1..]` of the CSV).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The row entries recorded per run (each once).
    pub columns: Vec<usize>,
    /// Drawn over time, in order: indices into `columns`.
    pub shown: Vec<usize>,
    /// Phase-space panels: (coordinate, its velocity or momentum), indices into
    /// `columns`.
    pub phase: Vec<(usize, usize)>,
    /// The orbit panel: (x, y), indices into `columns`.
    pub orbit: Option<(usize, usize)>,
}

/// The plan for a system whose row holds `names` (the `2n` state names, coordinates
/// first, then the outputs). `chosen` is `plot_vars` (names of the row); without it the
/// first [`DEFAULT_QUANTITIES`] coordinates are drawn. A coordinate is *involved* when
/// it, its velocity (momentum) or its acceleration is drawn; the first [`MAX_PHASE`]
/// involved coordinates get a phase-space panel, and when coordinates named exactly
/// `x` and `y` are both involved, an orbit panel shows y against x. An unknown name is
/// an error naming it.
pub fn plan(names: &[String], dof: usize, chosen: Option<&[String]>) -> Result<Plan, String> {
    let index = |n: &str| names.iter().position(|x| x == n);
    let shown_rows: Vec<usize> = match chosen {
        Some(c) => c
            .iter()
            .map(|n| index(n).ok_or_else(|| format!("`{n}` is not a column of this system")))
            .collect::<Result<_, _>>()?,
        None => (0..dof.min(DEFAULT_QUANTITIES)).collect(),
    };
    let accel = |c: usize| {
        let v = &names[dof + c];
        let a = format!("{v}'");
        names.iter().position(|x| *x == a)
    };
    let involved: Vec<usize> = (0..dof)
        .filter(|&c| {
            shown_rows
                .iter()
                .any(|&r| r == c || r == dof + c || Some(r) == accel(c))
        })
        .collect();
    let mut columns: Vec<usize> = vec![];
    let mut col = |r: usize| match columns.iter().position(|&x| x == r) {
        Some(k) => k,
        None => {
            columns.push(r);
            columns.len() - 1
        }
    };
    let mut shown = vec![];
    for &r in &shown_rows {
        let k = col(r);
        if !shown.contains(&k) {
            shown.push(k);
        }
    }
    let phase = involved
        .iter()
        .take(MAX_PHASE)
        .map(|&c| (col(c), col(dof + c)))
        .collect();
    let named = |n: &str| involved.iter().copied().find(|&c| names[c] == n);
    let orbit = match (named("x"), named("y")) {
        (Some(x), Some(y)) => Some((col(x), col(y))),
        _ => None,
    };
    Ok(Plan {
        columns,
        shown,
        phase,
        orbit,
    })
}

/// The recorded lines of one run.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RunLines {
    /// (t, value) per entry of [`Plan::columns`], all thinned alike.
    pub columns: Vec<Vec<(f64, f64)>>,
    /// (t, energy error) per entry of [`Trajectory::energy`] (an empty line: none, as
    /// for an accel system).
    pub energy: Vec<Vec<(f64, f64)>>,
}

/// Everything a trajectory figure is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// The figure's title.
    pub title: String,
    /// Names of the row entries (as in [`plan`]).
    pub names: Vec<String>,
    /// What is drawn.
    pub plan: Plan,
    /// The drawn runs (the first ones of the block).
    pub runs: Vec<RunLines>,
    /// Runs in the block.
    pub total_runs: usize,
    /// Legend labels of the energy-error lines (the system's, the truth's).
    pub energy: Vec<String>,
    /// Lines of text under the title.
    pub notes: Vec<String>,
}

/// The y label of the energy-error panels.
pub const ENERGY_LABEL: &str = "(E - E0) / |E0|";

/// The figure of a trajectory. One run: the drawn quantities over time in panels
/// grouped by [`group_by_scale`], one colour per quantity, legends beside the panels;
/// the energy error in its own panel; phase spaces and the orbit below, each quantity in
/// its colour. Several runs: one panel per quantity, one colour per run.
pub fn trajectory_figure(tr: &Trajectory) -> Figure {
    let many = tr.total_runs > 1 || tr.runs.len() > 1;
    let name = |k: usize| tr.names[tr.plan.columns[k]].clone();
    let colors = if many {
        Colors::ByRun {
            drawn: tr.runs.len(),
            total: tr.total_runs,
        }
    } else {
        Colors::ByQuantity
    };
    let line = |run: usize, k: usize, color: usize, label: bool| Series {
        label: label.then(|| name(k)),
        color,
        points: tr.runs[run].columns[k].clone(),
    };
    let mut rows = vec![];
    if many {
        for &k in &tr.plan.shown {
            rows.push(Panel {
                y_label: name(k),
                x_label: "t".into(),
                series: (0..tr.runs.len()).map(|r| line(r, k, r, false)).collect(),
                ..Panel::default()
            });
        }
        for e in 0..tr.energy.len() {
            let series: Vec<Series> = (0..tr.runs.len())
                .filter_map(|r| {
                    tr.runs[r]
                        .energy
                        .get(e)
                        .filter(|p| !p.is_empty())
                        .map(|p| Series {
                            label: None,
                            color: r,
                            points: p.clone(),
                        })
                })
                .collect();
            if !series.is_empty() {
                rows.push(Panel {
                    y_label: match e {
                        0 => ENERGY_LABEL.to_string(),
                        _ => format!("truth {ENERGY_LABEL}"),
                    },
                    x_label: "t".into(),
                    series,
                    ..Panel::default()
                });
            }
        }
    } else if !tr.runs.is_empty() {
        let ranges: Vec<Option<(f64, f64)>> = tr
            .plan
            .shown
            .iter()
            .map(|&k| range_of(&tr.runs[0].columns[k]))
            .collect();
        for group in group_by_scale(&ranges) {
            let ks: Vec<usize> = group.iter().map(|&g| tr.plan.shown[g]).collect();
            rows.push(Panel {
                y_label: ks.iter().map(|&k| name(k)).collect::<Vec<_>>().join(", "),
                x_label: "t".into(),
                series: group
                    .iter()
                    .map(|&g| line(0, tr.plan.shown[g], g, true))
                    .collect(),
                ..Panel::default()
            });
        }
        let series: Vec<Series> = tr
            .energy
            .iter()
            .enumerate()
            .filter_map(|(e, label)| {
                tr.runs[0]
                    .energy
                    .get(e)
                    .filter(|p| !p.is_empty())
                    .map(|p| Series {
                        label: Some(label.clone()),
                        color: e,
                        points: p.clone(),
                    })
            })
            .collect();
        if !series.is_empty() {
            rows.push(Panel {
                y_label: ENERGY_LABEL.into(),
                x_label: "t".into(),
                series,
                ..Panel::default()
            });
        }
    }
    // A quantity's colour in the curves below: its colour over time when drawn.
    let color_of = |k: usize, fallback: usize| {
        tr.plan
            .shown
            .iter()
            .position(|&s| s == k)
            .unwrap_or(fallback)
    };
    let curve = |a: usize, b: usize, color: usize| -> Vec<Series> {
        tr.runs
            .iter()
            .enumerate()
            .map(|(r, run)| Series {
                label: None,
                color: if many { r } else { color },
                points: run.columns[a]
                    .iter()
                    .zip(&run.columns[b])
                    .map(|(p, q)| (p.1, q.1))
                    .collect(),
            })
            .collect()
    };
    let mut shapes = vec![];
    for (i, &(q, v)) in tr.plan.phase.iter().enumerate() {
        shapes.push(Panel {
            title: format!("phase space: {} against {}", name(v), name(q)),
            x_label: name(q),
            y_label: name(v),
            series: curve(q, v, color_of(q, tr.plan.shown.len() + i)),
            mark_start: true,
            ..Panel::default()
        });
    }
    if let Some((x, y)) = tr.plan.orbit {
        shapes.push(Panel {
            title: format!("orbit: {} against {} (equal scales)", name(y), name(x)),
            x_label: name(x),
            y_label: name(y),
            series: curve(x, y, super::INK),
            mark_start: true,
            equal_aspect: true,
            ..Panel::default()
        });
    }
    Figure {
        title: tr.title.clone(),
        notes: tr.notes.clone(),
        rows,
        shapes,
        colors,
    }
}
