//! Plots: trajectories (the chosen quantities over time in panels grouped by scale, the
//! energy error, phase spaces and the orbit) and training loss curves.
//!
//! A [`Figure`] is a stack of panels over one shared x axis (time, or training steps),
//! each with its legend in a strip to its right, then a row of square panels (phase
//! spaces, an orbit drawn with equal scales). [`layout`] decides what goes where (pure
//! functions, tested on their own), [`ticks`] picks round tick values, and the drawing
//! ([`draw`]) clips every line to its panel's axes.
//!
//! Drawn with plotters without system libraries: SVG for `.svg` paths, PNG (the bitmap
//! backend) otherwise. Text uses the bundled DejaVu Sans (`assets/fonts/`), registered
//! with plotters' `ab_glyph` font support, so no fontconfig is needed.

pub mod clip;
mod colors;
mod draw;
pub mod layout;
mod legend;
pub mod ticks;

pub use layout::{group_by_scale, plan, trajectory_figure, Plan, RunLines, Trajectory};

use super::output::Staged;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// The bundled font.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// At most this many points are drawn per line of a single run (longer series are
/// thinned evenly).
pub const MAX_POINTS: usize = 4000;
/// The colour number of a dark neutral line (an orbit, which is no one quantity's).
pub const INK: usize = usize::MAX;

/// One line of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend entry (`None`: not in the legend, e.g. one run of many).
    pub label: Option<String>,
    /// Colour number: lines with one number share a colour (a run number when the
    /// figure is coloured by run).
    pub color: usize,
    /// (t, value) points; non-finite values are skipped.
    pub points: Vec<(f64, f64)>,
}

/// A line gathered point by point in bounded memory: every `stride`-th point is kept,
/// and whenever `2 * limit` are held every other one is dropped and the stride doubles,
/// so a series of any length holds fewer than `2 * limit` points, evenly spaced, the
/// first always among them. Lines offered the same number of points keep the same
/// indices, so two of them can be zipped into a curve (a phase space, an orbit).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thinned {
    points: Vec<(f64, f64)>,
    stride: usize,
    seen: usize,
    limit: usize,
}

impl Thinned {
    /// An empty line holding fewer than `2 * MAX_POINTS` points.
    pub fn new() -> Thinned {
        Thinned::with_limit(MAX_POINTS)
    }

    /// An empty line holding fewer than `2 * limit` points (`limit` at least 1).
    pub fn with_limit(limit: usize) -> Thinned {
        Thinned {
            points: vec![],
            stride: 1,
            seen: 0,
            limit: limit.max(1),
        }
    }

    /// Offers the next point.
    pub fn push(&mut self, p: (f64, f64)) {
        if self.seen.is_multiple_of(self.stride) {
            if self.points.len() >= 2 * self.limit {
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

/// How lines are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Colors {
    /// One colour per quantity, from a palette of ten distinct colours.
    #[default]
    ByQuantity,
    /// One colour per run (colour numbers are run numbers): `drawn` runs of `total`.
    /// Up to ten runs take distinct colours and are listed; more take a colour scale
    /// from the first run to the last, shown as a bar.
    ByRun {
        /// Runs drawn (the first ones).
        drawn: usize,
        /// Runs in the block.
        total: usize,
    },
}

/// One panel: lines on two axes, ticks at round values, lines clipped to the axes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Panel {
    /// Caption above the panel (square panels; empty for none).
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Equal scales on both axes (an orbit).
    pub equal_aspect: bool,
    /// A dot where each line starts (curves that are not graphs over time).
    pub mark_start: bool,
    /// The y values are log10 of the quantity: ticks are labelled with the quantity.
    pub log10: bool,
}

/// A figure: a title, notes under it, panels stacked over one shared x axis with a
/// legend strip to the right of each, and a row of square panels below.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Figure {
    /// The title above everything.
    pub title: String,
    /// Lines of small text under the title.
    pub notes: Vec<String>,
    /// Panels over the shared x axis (time, steps), top to bottom.
    pub rows: Vec<Panel>,
    /// Square panels in one row below (phase spaces, an orbit).
    pub shapes: Vec<Panel>,
    /// How lines are coloured (and so what the legend strips show).
    pub colors: Colors,
}

/// Writes `fig` to `path`: SVG if the name ends in `.svg`, PNG otherwise.
pub fn write(path: &Path, fig: &Figure) -> Result<(), String> {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bundled font is valid; if registering ever failed, text would be missing
        // and drawing would report it.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
    let size = draw::size(fig);
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    // Drawn into a temporary beside the target, renamed over it when whole.
    let staged = Staged::new(path).map_err(err)?;
    if svg {
        draw::figure(
            SVGBackend::new(staged.path(), size).into_drawing_area(),
            fig,
        )?;
    } else {
        draw::figure(
            BitMapBackend::new(staged.path(), size).into_drawing_area(),
            fig,
        )?;
    }
    staged.commit().map_err(err)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
