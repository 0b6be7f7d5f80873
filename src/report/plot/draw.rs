//! Drawing a [`Figure`] with plotters: the title and notes, the stacked panels over a
//! shared x axis with a legend strip to the right of each, then the square panels.

use super::clip::{clip, inside};
use super::colors::color;
use super::layout::range_of;
use super::legend::{legend_strip, run_legend};
use super::ticks::{self, Axis, Labels};
use super::{err, Colors, Figure, Panel, Series, FAMILY};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;

/// Figure width in pixels.
const WIDTH: u32 = 1200;
/// Width of the legend strip beside each stacked panel.
const LEGEND_W: u32 = 230;
/// Height of one stacked panel.
const ROW_H: u32 = 230;
/// Largest side of a square panel.
const SHAPE_MAX: u32 = 420;
/// Height of the caption above a square panel.
const CAPTION_H: u32 = 28;
const X_LABEL_H: u32 = 44;
const MARGIN: u32 = 10;
/// Segments per piece of a drawn line.
const CHUNK: usize = 12;

/// A polyline turning by more than 60 degrees at a point (cosine of the turn below this)
/// is drawn as two pieces there: a mitred join of a 2-pixel line at that turn reaches at
/// most about 1.2 line widths past the point.
const SHARP_TURN_COS: f64 = 0.5;

/// Text anchored at its top centre.
fn center_top() -> text_anchor::Pos {
    text_anchor::Pos::new(text_anchor::HPos::Center, text_anchor::VPos::Top)
}
/// The colour of the notes under the title.
const NOTE: RGBColor = RGBColor(90, 90, 90);

/// A linear axis whose ticks are exactly those of an [`Axis`] (plotters' own f64 axis
/// picks its own), with no minor grid lines.
struct Ticked(Axis);

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.0.lo) / (self.0.hi - self.0.lo);
        let px = limit.0 as f64 + f * (limit.1 - limit.0) as f64;
        // Lines are clipped to the axes first; this only keeps a stray value finite.
        px.clamp(-1e6, 1e6).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            vec![]
        } else {
            self.0.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.0.lo..self.0.hi
    }
}

fn title_height(fig: &Figure) -> u32 {
    44 + 20 * fig.notes.len() as u32
}

fn shape_side(n: usize) -> u32 {
    if n == 0 {
        0
    } else {
        SHAPE_MAX.min(WIDTH / n as u32)
    }
}

/// The figure's size in pixels: its width is fixed, its height grows with the panels.
pub fn size(fig: &Figure) -> (u32, u32) {
    let h = title_height(fig) + ROW_H * fig.rows.len() as u32 + shape_side(fig.shapes.len());
    (WIDTH, h.max(200) + 8)
}

fn width_of(colors: Colors) -> u32 {
    match colors {
        Colors::ByRun { drawn, .. } if drawn > 3 => 1,
        _ => 2,
    }
}

/// Draws `fig` on `root`.
pub fn figure<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    fig: &Figure,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let title_h = title_height(fig);
    root.draw(&Text::new(
        fig.title.clone(),
        (w as i32 / 2, 10),
        TextStyle::from((FAMILY, 24).into_font()).pos(center_top()),
    ))
    .map_err(err)?;
    for (i, note) in fig.notes.iter().enumerate() {
        root.draw(&Text::new(
            note.clone(),
            (w as i32 / 2, 40 + 20 * i as i32),
            (FAMILY, 15).into_font().color(&NOTE).pos(center_top()),
        ))
        .map_err(err)?;
    }
    // The stacked panels share the x axis and the width of the y label area.
    let xs: Vec<(f64, f64)> = fig
        .rows
        .iter()
        .flat_map(|p| &p.series)
        .filter_map(|s| x_range(&s.points))
        .collect();
    let (x0, x1) = union(&xs).unwrap_or((0.0, 1.0));
    let x_axis = ticks::axis(x0, x1, 0.0, 11);
    let y_axes: Vec<Axis> = fig
        .rows
        .iter()
        .map(|p| {
            let (lo, hi) = y_union(&p.series).unwrap_or((-1.0, 1.0));
            let steps = if p.log10 { 5 } else { 6 };
            let mut a = ticks::axis(lo, hi, 0.04, steps);
            if p.log10 {
                if let Some(t) = ticks::log_ticks(a.lo, a.hi, 7) {
                    a.ticks = t;
                }
            }
            a
        })
        .collect();
    let label_w = fig
        .rows
        .iter()
        .zip(&y_axes)
        .map(|(p, a)| label_width(a, p.log10))
        .max()
        .unwrap_or(60);
    let mut top = title_h as i32;
    for (k, (panel, y_axis)) in fig.rows.iter().zip(&y_axes).enumerate() {
        let area = root.clone().shrink((0, top), (WIDTH, ROW_H));
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_W);
        stacked(&plot, panel, &x_axis, y_axis, label_w, fig.colors)?;
        if k == 0 {
            if let Colors::ByRun { drawn, total } = fig.colors {
                run_legend(&legend, drawn, total, fig.colors)?;
                top += ROW_H as i32;
                continue;
            }
        }
        legend_strip(&legend, &panel.series, fig.colors)?;
        top += ROW_H as i32;
    }
    let side = shape_side(fig.shapes.len());
    let n = fig.shapes.len() as u32;
    for (i, panel) in fig.shapes.iter().enumerate() {
        let left = (WIDTH - n * side) / 2 + i as u32 * side;
        let area = root.clone().shrink((left, top), (side, side));
        square(&area, panel, fig.colors)?;
    }
    root.present().map_err(err)
}

fn x_range(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let swapped: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (y, x)).collect();
    range_of(&swapped)
}

fn union(ranges: &[(f64, f64)]) -> Option<(f64, f64)> {
    ranges
        .iter()
        .copied()
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

fn y_union(series: &[Series]) -> Option<(f64, f64)> {
    let r: Vec<(f64, f64)> = series.iter().filter_map(|s| range_of(&s.points)).collect();
    union(&r)
}

fn labels(axis: &Axis, log10: bool) -> Vec<String> {
    let l = Labels::for_axis(axis);
    axis.ticks
        .iter()
        .map(|&v| {
            if log10 {
                ticks::pow10_label(v)
            } else {
                l.format(v)
            }
        })
        .collect()
}

/// Pixels for the tick labels of `axis` and the axis description beside them.
fn label_width(axis: &Axis, log10: bool) -> u32 {
    let chars = labels(axis, log10)
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1) as u32;
    (chars * 9 + 36).clamp(60, 150)
}

/// Builds the chart of one panel on `area` and draws its mesh, frame and lines.
#[allow(clippy::too_many_arguments)]
fn chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: &Axis,
    y: &Axis,
    label_w: u32,
    colors: Colors,
    margins: (u32, u32, u32, u32),
) -> Result<(), String> {
    let (xl, yl) = (Labels::for_axis(x), Labels::for_axis(y));
    let log10 = panel.log10;
    let fmt_x = move |v: &f64| xl.format(*v);
    let fmt_y = move |v: &f64| {
        if log10 {
            ticks::pow10_label(*v)
        } else {
            yl.format(*v)
        }
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(margins.0)
        .margin_right(margins.1)
        .margin_bottom(margins.2)
        .margin_left(margins.3)
        .x_label_area_size(X_LABEL_H)
        .y_label_area_size(label_w)
        .build_cartesian_2d(Ticked(x.clone()), Ticked(y.clone()))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label.clone())
        .y_desc(panel.y_label.clone())
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .bold_line_style(BLACK.mix(0.1))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;
    let (xr, yr) = ((x.lo, x.hi), (y.lo, y.hi));
    let width = width_of(colors);
    for s in &panel.series {
        let c = color(colors, s.color);
        for part in clip(&s.points, xr, yr) {
            // Points closer than 2 pixels to the last one kept are dropped: plotters
            // draws a wide line badly across segments of a pixel or less (gaps, steps).
            let mut kept: Vec<(f64, f64)> = Vec::with_capacity(part.len());
            let mut last = (i32::MIN / 2, i32::MIN / 2);
            for (i, &p) in part.iter().enumerate() {
                let px = chart.backend_coord(&p);
                let far = (px.0 - last.0).abs().max((px.1 - last.1).abs()) >= 2;
                if far || i + 1 == part.len() {
                    if !far {
                        kept.pop();
                    }
                    kept.push(p);
                    last = px;
                }
            }
            // Short pieces: plotters fills a wide line as one polygon, and a line that
            // loops back over itself (a phase space, an orbit) would leave holes. A piece
            // also ends at every sharp turn, where plotters' mitred join would shoot a
            // spike far past the point (and out of the panel) on a noisy trace.
            let px: Vec<(i32, i32)> = kept.iter().map(|p| chart.backend_coord(p)).collect();
            let sharp = |i: usize| {
                let (a, b, c) = (px[i - 1], px[i], px[i + 1]);
                let (u, v) = ((b.0 - a.0, b.1 - a.1), (c.0 - b.0, c.1 - b.1));
                let dot = f64::from(u.0 * v.0 + u.1 * v.1);
                let norms = f64::from(u.0 * u.0 + u.1 * u.1).sqrt()
                    * f64::from(v.0 * v.0 + v.1 * v.1).sqrt();
                dot < SHARP_TURN_COS * norms
            };
            let mut start = 0;
            while start + 1 < kept.len() {
                let mut end = (start + CHUNK).min(kept.len() - 1);
                if let Some(k) = (start + 1..end).find(|&k| sharp(k)) {
                    end = k;
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        kept[start..=end].to_vec(),
                        c.stroke_width(width),
                    )))
                    .map_err(err)?;
                start = end;
            }
        }
        if panel.mark_start {
            if let Some(&p) = s.points.iter().find(|p| p.0.is_finite() && p.1.is_finite()) {
                if inside(p, xr, yr) {
                    chart
                        .draw_series(std::iter::once(Circle::new(p, 4, c.filled())))
                        .map_err(err)?;
                }
            }
        }
    }
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(x.lo, y.lo), (x.hi, y.hi)],
            BLACK.stroke_width(1),
        )))
        .map_err(err)?;
    Ok(())
}

fn stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    x: &Axis,
    y: &Axis,
    label_w: u32,
    colors: Colors,
) -> Result<(), String> {
    chart(area, panel, x, y, label_w, colors, (12, 16, 4, 8))
}

/// A square panel: the caption above, equal scales when asked.
fn square<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    colors: Colors,
) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    let (caption, body) = area.split_vertically(CAPTION_H);
    caption
        .draw(&Text::new(
            panel.title.clone(),
            (w as i32 / 2, 8),
            TextStyle::from((FAMILY, 15).into_font()).pos(center_top()),
        ))
        .map_err(err)?;
    let xs: Vec<(f64, f64)> = panel
        .series
        .iter()
        .filter_map(|s| x_range(&s.points))
        .collect();
    let (x0, x1) = union(&xs).unwrap_or((-1.0, 1.0));
    let (y0, y1) = y_union(&panel.series).unwrap_or((-1.0, 1.0));
    let mut x = ticks::axis(x0, x1, 0.05, 6);
    let mut y = ticks::axis(y0, y1, 0.05, 6);
    let label_w = label_width(&y, false);
    if panel.equal_aspect {
        let pw = w.saturating_sub(2 * MARGIN + label_w).max(10) as f64;
        let ph = (h - CAPTION_H)
            .saturating_sub(2 * MARGIN + X_LABEL_H)
            .max(10) as f64;
        // Pixels per unit on both axes: the tighter of the two; the other axis widens.
        let s = (pw / (x.hi - x.lo)).min(ph / (y.hi - y.lo));
        let widen = |a: &Axis, px: f64| {
            let mid = 0.5 * (a.lo + a.hi);
            (mid - 0.5 * px / s, mid + 0.5 * px / s)
        };
        let (xl, xh) = widen(&x, pw);
        let (yl, yh) = widen(&y, ph);
        let step = ticks::nice_step(xl, xh, 6).max(ticks::nice_step(yl, yh, 6));
        x = Axis {
            lo: xl,
            hi: xh,
            step,
            ticks: ticks::ticks_in(xl, xh, step),
        };
        y = Axis {
            lo: yl,
            hi: yh,
            step,
            ticks: ticks::ticks_in(yl, yh, step),
        };
    }
    let label_w = label_width(&y, false).max(label_w);
    chart(
        &body,
        panel,
        &x,
        &y,
        label_w,
        colors,
        (MARGIN, MARGIN + 6, MARGIN, MARGIN),
    )
}
