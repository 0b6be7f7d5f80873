//! The colours of plotted lines: ten distinct ones by quantity (or for up to ten runs),
//! and a continuous scale for many runs.

use super::{Colors, INK};
use plotters::style::RGBColor;

/// The ten distinct colours of lines coloured by quantity (and of up to ten runs).
pub(super) const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];
/// The colour scale of many runs (viridis, without its palest end).
const SCALE: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// The colour of colour number `k`.
pub(super) fn color(colors: Colors, k: usize) -> RGBColor {
    if k == INK {
        return RGBColor(40, 40, 40);
    }
    match colors {
        Colors::ByRun { drawn, .. } if drawn > PALETTE.len() => {
            let t = 0.9 * k as f64 / (drawn - 1) as f64;
            let x = t.clamp(0.0, 1.0) * (SCALE.len() - 1) as f64;
            let i = (x.floor() as usize).min(SCALE.len() - 2);
            let f = x - i as f64;
            let (a, b) = (SCALE[i], SCALE[i + 1]);
            let mix = |p: f64, q: f64| (p + f * (q - p)).round() as u8;
            RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
        }
        _ => {
            let (r, g, b) = PALETTE[k % PALETTE.len()];
            RGBColor(r, g, b)
        }
    }
}
