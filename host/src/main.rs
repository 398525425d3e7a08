//! The `entitle` command line: see `entitle --help`.

use std::process::ExitCode;

// The gateway allocates on one worker thread and frees on another (a
// request's answer crosses to the thread that writes it, a staged record to
// the meter's writer); mimalloc's per-thread free lists keep that cheap
// where the system allocator contends and consolidates (BENCHMARKS.md,
// "Gateway under load").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The streams are locked per write, not for the whole run: `serve`
    // logs to stderr from every worker thread.
    let status = entitle_host::cli::run(
        std::env::args_os(),
        &mut std::io::stdin(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(status)
}
