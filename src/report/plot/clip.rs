//! Lines clipped to a panel's axes, in data coordinates, before they reach plotters
//! (which draws a point outside the axes wherever it maps, over the tick labels).

/// The parts of the polyline `points` inside the rectangle `x.0..=x.1` by `y.0..=y.1`:
/// each segment is cut where it leaves (Liang-Barsky), a part ends where the line leaves
/// and a new one starts where it comes back, and a non-finite point breaks the line.
/// Parts of fewer than two points are dropped.
pub fn clip(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![];
    let mut cur: Vec<(f64, f64)> = vec![];
    let mut prev: Option<(f64, f64)> = None;
    let mut flush = |cur: &mut Vec<(f64, f64)>| {
        if cur.len() >= 2 {
            out.push(std::mem::take(cur));
        } else {
            cur.clear();
        }
    };
    for &p in points {
        if !(p.0.is_finite() && p.1.is_finite()) {
            flush(&mut cur);
            prev = None;
            continue;
        }
        if let Some(a) = prev {
            match segment(a, p, x, y) {
                Some((s, e)) => {
                    if cur.last() != Some(&s) {
                        flush(&mut cur);
                        cur.push(s);
                    }
                    cur.push(e);
                }
                None => flush(&mut cur),
            }
        }
        prev = Some(p);
    }
    flush(&mut cur);
    out
}

/// Whether `p` lies in the rectangle.
pub fn inside(p: (f64, f64), x: (f64, f64), y: (f64, f64)) -> bool {
    p.0 >= x.0 && p.0 <= x.1 && p.1 >= y.0 && p.1 <= y.1
}

/// The part of segment a-b inside the rectangle (ends kept exactly when inside).
fn segment(
    a: (f64, f64),
    b: (f64, f64),
    x: (f64, f64),
    y: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x.0),
        (dx, x.1 - a.0),
        (-dy, a.1 - y.0),
        (dy, y.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    Some((
        if t0 == 0.0 { a } else { at(t0) },
        if t1 == 1.0 { b } else { at(t1) },
    ))
}
