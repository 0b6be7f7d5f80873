//! Trajectory plots: the coordinates over time above, the energy error over time below.
//!
//! Drawn with plotters without system libraries: SVG for `.svg` paths, PNG (the bitmap
//! backend) otherwise. Text uses the bundled DejaVu Sans (`assets/fonts/`), registered
//! with plotters' `ab_glyph` font support, so no fontconfig is needed.

use super::output::Staged;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// The bundled font.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// At most this many points are drawn per line (longer series are thinned evenly).
const MAX_POINTS: usize = 4000;

/// One line of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend entry (`None`: not in the legend, e.g. the second run of a coordinate).
    pub label: Option<String>,
    /// Colour number: lines with one number share a colour.
    pub color: usize,
    /// (t, value) points; non-finite values are skipped.
    pub points: Vec<(f64, f64)>,
}

/// A line gathered point by point in bounded memory: every `stride`-th point is kept,
/// and whenever `2 * MAX_POINTS` are held every other one is dropped and the stride
/// doubles, so a series of any length holds fewer than `2 * MAX_POINTS` points, evenly
/// spaced, the first always among them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thinned {
    points: Vec<(f64, f64)>,
    stride: usize,
    seen: usize,
}

impl Thinned {
    /// An empty line.
    pub fn new() -> Thinned {
        Thinned {
            points: vec![],
            stride: 1,
            seen: 0,
        }
    }

    /// Offers the next point.
    pub fn push(&mut self, p: (f64, f64)) {
        if self.seen.is_multiple_of(self.stride) {
            if self.points.len() == 2 * MAX_POINTS {
                let mut k = 0;
                self.points.retain(|_| {
                    k += 1;
                    k % 2 == 1
                });
                self.stride *= 2;
            }
            if self.seen.is_multiple_of(self.stride) {
                self.points.push(p);
            }
        }
        self.seen += 1;
    }

    /// The points kept.
    pub fn into_points(self) -> Vec<(f64, f64)> {
        self.points
    }
}

/// A two-panel figure.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Figure {
    /// The title above both panels.
    pub title: String,
    /// The x axis label of both panels (`t` when empty).
    pub x_label: String,
    /// The y axis label of the upper panel.
    pub top_label: String,
    /// Lines of the upper panel.
    pub top: Vec<Series>,
    /// The y axis label of the lower panel.
    pub bottom_label: String,
    /// Lines of the lower panel (a note is drawn instead when there are none).
    pub bottom: Vec<Series>,
    /// Shown in the lower panel when it has no lines.
    pub bottom_note: String,
}

/// Writes `fig` to `path`: SVG if the name ends in `.svg`, PNG otherwise.
pub fn write(path: &Path, fig: &Figure) -> Result<(), String> {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bundled font is valid; if registering ever failed, text would be missing
        // and drawing would report it.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
    let size = (1200, 800);
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    // Drawn into a temporary beside the target, renamed over it when whole.
    let staged = Staged::new(path).map_err(err)?;
    if svg {
        draw(
            SVGBackend::new(staged.path(), size).into_drawing_area(),
            fig,
        )?;
    } else {
        draw(
            BitMapBackend::new(staged.path(), size).into_drawing_area(),
            fig,
        )?;
    }
    staged.commit().map_err(err)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &Figure) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let titled = root.titled(&fig.title, (FAMILY, 24)).map_err(err)?;
    let (upper, lower) = titled.split_vertically(titled.dim_in_pixel().1 * 3 / 5);
    panel(&upper, &fig.x_label, &fig.top_label, &fig.top, "")?;
    panel(
        &lower,
        &fig.x_label,
        &fig.bottom_label,
        &fig.bottom,
        &fig.bottom_note,
    )?;
    root.present().map_err(err)
}

/// Evenly thinned finite points of a series.
fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    let mut out: Vec<(f64, f64)> = points
        .iter()
        .step_by(stride)
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if let Some(&last) = points.last() {
        if stride > 1 && last.0.is_finite() && last.1.is_finite() {
            out.push(last);
        }
    }
    out
}

fn bounds(series: &[Vec<(f64, f64)>]) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for s in series {
        for &(x, y) in s {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if !(x0.is_finite() && x1.is_finite()) {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if !(y0.is_finite() && y1.is_finite()) {
        (y0, y1) = (-1.0, 1.0);
    }
    let span = y1 - y0;
    let pad = if span > 0.0 {
        0.05 * span
    } else {
        0.1 * y0.abs().max(1e-12)
    };
    (x0, x1, y0 - pad, y1 + pad)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    note: &str,
) -> Result<(), String> {
    let lines: Vec<Vec<(f64, f64)>> = series.iter().map(|s| thin(&s.points)).collect();
    let (x0, x1, y0, y1) = bounds(&lines);
    let big = y0.abs().max(y1.abs());
    let scientific = !(1e-2..1e4).contains(&big);
    let tiny = 1e-9 * (y1 - y0);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let fmt_y = |v: &f64| {
        if v.abs() < tiny {
            "0".to_string()
        } else if scientific {
            format!("{v:.1e}")
        } else {
            format!("{v:.2}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(if x_label.is_empty() { "t" } else { x_label })
        .y_desc(y_label)
        .y_label_formatter(&fmt_y)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(err)?;
    let mut labelled = false;
    for (s, pts) in series.iter().zip(lines) {
        let color = Palette99::pick(s.color).to_rgba();
        let drawn = chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(err)?;
        if let Some(label) = &s.label {
            labelled = true;
            drawn.label(label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    if series.is_empty() && !note.is_empty() {
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            note.to_string(),
            (w as i32 / 3, h as i32 / 2),
            (FAMILY, 18),
        ))
        .map_err(err)?;
    }
    Ok(())
}
