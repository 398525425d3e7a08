//! The `entitle` command line: see `entitle --help`.

use std::process::ExitCode;

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
