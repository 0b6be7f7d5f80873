//! The `lagc` binary: runs the command line on a thread with a large stack, so that
//! deeply nested (but accepted) expressions never overflow it.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || lagc::cli::main_with_args(args))
        .expect("spawn the lagc worker thread");
    let status = worker.join().unwrap_or(101);
    std::process::exit(status);
}
