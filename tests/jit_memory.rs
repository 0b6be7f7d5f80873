//! JIT-compiled code is freed when its kernel is dropped. Alone in its own test binary,
//! so no other test's allocations disturb the measurement.

mod common;

use common::{checked_model, compile_system};
use lagc::backend::jit::JitKernel;
use lagc::backend::Backend;

/// Resident memory in pages, from /proc (Linux); `None` elsewhere.
fn resident_pages() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn compiled_code_is_freed_when_dropped() {
    let src = std::fs::read_to_string("examples/double_pendulum.lag").unwrap();
    let m = checked_model(&src, &[]);
    let (_, program) = compile_system(&m, 0);
    let compile_some = |n: usize| {
        for _ in 0..n {
            let mut k = JitKernel::compile(&program, None).unwrap();
            let mut out = vec![0.0; program.outputs.len()];
            k.eval(&vec![0.1; program.n_inputs], &mut out).unwrap();
        }
    };
    // The allocator's high-water mark settles during the warm-up.
    compile_some(300);
    let Some(before) = resident_pages() else {
        return;
    };
    compile_some(1000);
    let after = resident_pages().unwrap_or(before);
    // Leaking one code page (4 KiB) per compile would add 1000 pages.
    assert!(
        after < before + 250,
        "resident memory grew from {before} to {after} pages over 1000 compiles"
    );
}
