//! The legend strips beside the stacked panels: labelled lines, or the runs' colours.

use super::colors::{color, PALETTE};
use super::{err, Colors, Series, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Legend line height.
const ENTRY_H: i32 = 22;

fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    at: (i32, i32),
) -> Result<(), String> {
    area.draw(&Text::new(s.to_string(), at, (FAMILY, 15)))
        .map_err(err)
}

fn swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y: i32,
    c: RGBColor,
) -> Result<(), String> {
    area.draw(&PathElement::new(vec![(8, y), (34, y)], c.stroke_width(3)))
        .map_err(err)
}

/// The labelled lines of a stacked panel, one per line of the strip (those that do not
/// fit are counted in a last line).
pub(super) fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    colors: Colors,
) -> Result<(), String> {
    let (_, h) = area.dim_in_pixel();
    let mut entries: Vec<(&str, usize)> = vec![];
    for s in series {
        if let Some(l) = &s.label {
            if !entries.iter().any(|(e, _)| *e == l) {
                entries.push((l, s.color));
            }
        }
    }
    let room = ((h as i32 - 40) / ENTRY_H).max(1) as usize;
    let shown = if entries.len() > room {
        room - 1
    } else {
        entries.len()
    };
    let mut y = 22;
    for (label, c) in &entries[..shown] {
        swatch(area, y, color(colors, *c))?;
        for (i, line) in wrap(label, 22).iter().take(2).enumerate() {
            if i > 0 {
                y += 18;
            }
            text(area, line, (42, y - 9))?;
        }
        y += ENTRY_H;
    }
    if shown < entries.len() {
        text(
            area,
            &format!("and {} more", entries.len() - shown),
            (42, y - 9),
        )?;
    }
    Ok(())
}

/// The legend of a figure coloured by run: each run listed (up to ten), or a colour bar
/// from the first run to the last.
pub(super) fn run_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    drawn: usize,
    total: usize,
    colors: Colors,
) -> Result<(), String> {
    let head = if drawn < total {
        format!("runs 0-{} of {total}", drawn.saturating_sub(1))
    } else {
        format!("{total} runs, a colour each")
    };
    text(area, &head, (8, 8))?;
    if drawn <= PALETTE.len() {
        let mut y = 40;
        for r in 0..drawn {
            swatch(area, y, color(colors, r))?;
            text(area, &format!("run {r}"), (42, y - 9))?;
            y += 18;
        }
        return Ok(());
    }
    let (top, bottom) = (36, 196);
    let n = 64;
    for i in 0..n {
        let y0 = top + (bottom - top) * i / n;
        let y1 = top + (bottom - top) * (i + 1) / n;
        let r = i as usize * (drawn - 1) / (n as usize - 1);
        area.draw(&Rectangle::new(
            [(8, y0), (34, y1)],
            color(colors, r).filled(),
        ))
        .map_err(err)?;
    }
    text(area, "run 0", (42, top))?;
    text(area, &format!("run {}", drawn - 1), (42, bottom - 16))?;
    Ok(())
}

/// `s` in lines of at most `n` characters, broken after a space (else an underscore)
/// where possible (the second line shortened with an ellipsis if still too long).
fn wrap(s: &str, n: usize) -> Vec<String> {
    if s.chars().count() <= n {
        return vec![s.to_string()];
    }
    let chars: Vec<char> = s.chars().collect();
    let after = |c: char| (1..=n).rev().find(|&k| chars[k - 1] == c);
    let cut = after(' ').or_else(|| after('_')).unwrap_or(n);
    let first: String = chars[..cut].iter().collect();
    let rest: String = chars[cut..].iter().collect();
    vec![first.trim_end().to_string(), shorten(rest.trim_start(), n)]
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
