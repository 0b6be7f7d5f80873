//! The memory limit: sizes that come from the input (sum ranges, net weights, sample
//! counts, batches, weights files) are estimated before anything is allocated, and a
//! size over the limit is refused with an error instead of ending in an abort.
//!
//! The limit is `--max-memory` when given, else half the machine's physical memory
//! (`MemTotal` of `/proc/meminfo`; 4 GiB where that cannot be read), lowered to half
//! the process's address-space limit when one is set (`ulimit -v`, `prlimit --as`), so
//! that under such a limit a refusal comes before the allocator's abort. Estimates are
//! rough (within a small factor): they exist to turn `sum(i in 0..1e12, ...)` or
//! `hidden: [100000, 100000]` into a message, not to account for every byte. The count
//! of output intervals of a trajectory has its own cap, [`MAX_STEPS`].

use std::sync::atomic::{AtomicU64, Ordering};

/// The limit where physical memory cannot be read.
const FALLBACK: u64 = 4 << 30;

/// The limit in bytes; 0 until set or first asked for.
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// Sets the limit for the process.
pub fn set_max_memory(bytes: u64) {
    LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// The limit in bytes.
pub fn max_memory() -> u64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let m = physical_memory().map_or(FALLBACK, |m| m / 2);
            let m = address_space_limit().map_or(m, |a| m.min(a / 2));
            LIMIT.store(m, Ordering::Relaxed);
            m
        }
        m => m,
    }
}

/// `None` when `bytes` (an estimate of what `what` needs) fits the limit, else the
/// message to give.
pub fn refuse(bytes: f64, what: &str) -> Option<String> {
    let limit = max_memory();
    (bytes.is_nan() || bytes > limit as f64).then(|| {
        format!(
            "{what} needs about {}, over the memory limit of {} (set it with --max-memory)",
            human(bytes),
            human(limit as f64)
        )
    })
}

/// Most output intervals t_end/dt a trajectory may have (beyond this the step count
/// is no longer an exact integer in f64, and no run would finish anyway).
pub const MAX_STEPS: f64 = 1e12;

/// `None` when t_end/dt is a usable step count, else why not (for messages).
pub fn steps_problem(t_end: f64, dt: f64) -> Option<String> {
    let r = t_end / dt;
    (r.is_nan() || r > MAX_STEPS)
        .then(|| format!("t_end / dt = {r:e} output intervals; at most {MAX_STEPS:e} are allowed"))
}

/// Bytes as `12.3 GB`.
pub fn human(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut x = bytes;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < UNITS.len() {
        x /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{x} bytes")
    } else if x.is_finite() {
        format!("{x:.1} {}", UNITS[u])
    } else {
        "an unbounded amount".into()
    }
}

/// Parses a size for `--max-memory`: bytes, or a number with a suffix K, M, G or T
/// (powers of 1024; `4G`, `512M`, `1.5G`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, shift) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 10),
        Some('M') => (&t[..t.len() - 1], 20),
        Some('G') => (&t[..t.len() - 1], 30),
        Some('T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    match num.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x * ((1u64 << shift) as f64) < 1.8e19 => {
            Ok((x * (1u64 << shift) as f64) as u64)
        }
        _ => Err(format!(
            "`{text}`: expected a size such as 4G, 512M or a number of bytes"
        )),
    }
}

/// Physical memory in bytes, from `/proc/meminfo`.
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The soft address-space limit in bytes, from `/proc/self/limits`; `None` when
/// unlimited or unreadable.
fn address_space_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    soft_limit(&limits, "Max address space")
}

/// The soft limit (the first value) of the row `name` of a `/proc/PID/limits` text.
fn soft_limit(limits: &str, name: &str) -> Option<u64> {
    let row = limits.lines().find(|l| l.starts_with(name))?;
    row[name.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("-1G").is_err() && parse_size("lots").is_err());
        assert_eq!(human(8e10), "80.0 GB");
    }

    #[test]
    fn address_space_limits_read() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max stack size            8388608              unlimited            bytes     \n\
                    Max address space         2147483648           4294967296           bytes     \n";
        assert_eq!(soft_limit(text, "Max address space"), Some(2147483648));
        assert_eq!(soft_limit(text, "Max stack size"), Some(8388608));
        let open =
            "Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(soft_limit(open, "Max address space"), None);
        assert_eq!(soft_limit(open, "Max core file size"), None);
    }
}
