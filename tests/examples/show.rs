//! Prints, for each case whose name contains one of the arguments, the
//! resolved request bytes and the native output, to help write `expect`:
//! `cargo run -p entitle-conformance --example show -- smoke/unknown_op`.
//! With `--request-only` it prints only the requests.

use std::io::Write as _;
use std::process::ExitCode;

use entitle_conformance::{conformance_dir, Corpus};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let request_only = args.iter().any(|arg| arg == "--request-only");
    let filters: Vec<&String> = args.iter().filter(|arg| !arg.starts_with("--")).collect();
    let cases = match Corpus::at(&conformance_dir()).load() {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    for case in cases
        .iter()
        .filter(|case| filters.is_empty() || filters.iter().any(|f| case.name.contains(f.as_str())))
    {
        let request = String::from_utf8_lossy(&case.request);
        let _ = writeln!(out, "== {} ({})", case.name, case.about);
        let _ = writeln!(out, "request: {request}");
        if !request_only {
            let _ = writeln!(
                out,
                "native:  {}",
                entitle_core::api::evaluate(&case.request)
            );
        }
    }
    ExitCode::SUCCESS
}
