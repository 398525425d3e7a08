//! Runs the whole conformance corpus on every runtime (native, wasmtime,
//! Node, headless Chromium), fails on any byte of difference between them,
//! on a native output that misses its case's `expect`, and on a module hash
//! that differs from `dist/entitle.wasm.sha256`; ends with `N passed, M failed`.
//!
//! Positional arguments filter cases by a substring of their name;
//! `ENTITLE_RUNTIMES=native,node` limits the runtimes (native is always the
//! reference when it is listed).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use entitle_conformance::{
    conformance_dir, judge, repo_root, runner_for, Corpus, Dist, RuntimeRun, ALL_RUNTIMES,
};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtimes() -> Result<Vec<String>> {
    let Ok(list) = std::env::var("ENTITLE_RUNTIMES") else {
        return Ok(ALL_RUNTIMES.iter().map(|name| name.to_string()).collect());
    };
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    for name in &names {
        if !ALL_RUNTIMES.contains(&name.as_str()) {
            bail!(
                "ENTITLE_RUNTIMES names `{name}`; the runtimes are {}",
                ALL_RUNTIMES.join(", ")
            );
        }
    }
    if names.is_empty() {
        bail!("ENTITLE_RUNTIMES is empty");
    }
    Ok(names)
}

fn run() -> Result<bool> {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let runtimes = runtimes()?;
    let dist = Dist::new(&repo_root());
    let needs_module = runtimes.iter().any(|name| name != "native");
    if needs_module {
        dist.require_built()?;
    }
    let mut cases = Corpus::at(&conformance_dir()).load()?;
    if !filters.is_empty() {
        cases.retain(|case| filters.iter().any(|filter| case.name.contains(filter)));
    }
    println!(
        "conformance: {} case(s) from tests/conformance/cases on {}",
        cases.len(),
        runtimes.join(", ")
    );
    if cases.is_empty() {
        println!("0 passed, 0 failed");
        return Ok(true);
    }
    let requests: Vec<(String, Vec<u8>)> = cases
        .iter()
        .map(|case| (case.name.clone(), case.request.clone()))
        .collect();
    let mut runs = Vec::new();
    for name in &runtimes {
        let Some(mut runner) = runner_for(name) else {
            bail!("no runner for `{name}`");
        };
        println!("running {name}...");
        let started = Instant::now();
        let outputs = runner.run(&requests).map_err(|error| format!("{error:#}"));
        runs.push(RuntimeRun {
            name: runner.name().to_string(),
            description: runner.describe(),
            outputs,
            loads_module: runner.loads_module(),
            sha256: runner.module_sha256(),
            elapsed: started.elapsed(),
        });
    }
    let (recorded, actual) = if needs_module {
        (Some(dist.recorded_sha256()?), Some(dist.actual_sha256()?))
    } else {
        (None, None)
    };
    let verdict = judge(&cases, &runs, recorded.as_deref(), actual.as_deref());
    for line in &verdict.report {
        println!("{line}");
    }
    for problem in &verdict.problems {
        println!("PROBLEM: {problem}");
    }
    if !runtimes.iter().any(|name| name == "native") {
        println!(
            "note: native did not run; `expect` was checked against {}",
            runs.first().map_or("nothing", |run| run.name.as_str())
        );
    }
    println!("{} passed, {} failed", verdict.passed, verdict.failed);
    Ok(verdict.ok())
}
