//! Judging a corpus run: byte identity between runtimes, the native output
//! against each case's `expect`, the module hash each runtime reports, and
//! the summary printed at the end.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::case::Case;
use crate::expect::{context_around, first_difference, subset_mismatch};
use crate::runner::RUNTIME_FAILURE;

/// How many failing cases are described in full; the rest are only named.
const DETAILED_FAILURES: usize = 40;

/// Bytes of context shown either side of a difference.
const CONTEXT: usize = 60;

/// What one runtime did with the whole corpus.
#[derive(Debug)]
pub struct RuntimeRun {
    /// The runtime's name.
    pub name: String,
    /// A line about the runtime (version, route).
    pub description: String,
    /// One output per case, or why the runtime could not run at all.
    pub outputs: Result<Vec<String>, String>,
    /// Whether the runtime loads `dist/entitle.wasm` and must report its hash.
    pub loads_module: bool,
    /// The module hash the runtime reported, if it loads the module.
    pub sha256: Option<String>,
    /// Wall time of the whole batch.
    pub elapsed: Duration,
}

/// The outcome of a corpus run.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Cases that every runtime answered identically, as expected.
    pub passed: usize,
    /// Cases with any difference, any runtime failure or an unmet expectation.
    pub failed: usize,
    /// Problems not tied to one case (a runtime that did not run, a hash mismatch).
    pub problems: Vec<String>,
    /// The report to print, line by line.
    pub report: Vec<String>,
}

impl Verdict {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.problems.is_empty()
    }
}

/// Judges `runs` (the first is the reference, normally native) over `cases`.
/// `recorded_sha256` is the content of `dist/entitle.wasm.sha256`, when the
/// module is in play; `actual_sha256` the hash of the file as read here.
pub fn judge(
    cases: &[Case],
    runs: &[RuntimeRun],
    recorded_sha256: Option<&str>,
    actual_sha256: Option<&str>,
) -> Verdict {
    let mut verdict = Verdict::default();
    let reference = runs.iter().find(|run| run.outputs.is_ok());
    let mut identical = vec![0_usize; runs.len()];
    let mut detailed = 0_usize;
    let mut expect_met = 0_usize;
    for (index, case) in cases.iter().enumerate() {
        let mut failures = Vec::new();
        let mut not_run = Vec::new();
        let reference_output = reference.and_then(|run| match &run.outputs {
            Ok(outputs) => outputs.get(index).map(|out| (run.name.as_str(), out)),
            Err(_) => None,
        });
        for (slot, run) in runs.iter().enumerate() {
            let Ok(outputs) = &run.outputs else {
                not_run.push(run.name.as_str());
                continue;
            };
            let (Some(output), Some((ref_name, ref_output))) =
                (outputs.get(index), reference_output)
            else {
                failures.push(format!("{} gave no output", run.name));
                continue;
            };
            if let Some(failure) = output.strip_prefix(RUNTIME_FAILURE) {
                failures.push(format!("{} failed on this request: {failure}", run.name));
                continue;
            }
            match first_difference(ref_output.as_bytes(), output.as_bytes()) {
                None => {
                    if let Some(count) = identical.get_mut(slot) {
                        *count += 1;
                    }
                }
                Some(at) => {
                    let width = ref_name.len().max(run.name.len());
                    failures.push(format!(
                        "{ref_name} and {} differ at byte {at} ({} vs {} bytes):\n      {ref_name:<width$}: {}\n      {:<width$}: {}",
                        run.name,
                        ref_output.len(),
                        output.len(),
                        context_around(ref_output.as_bytes(), at, CONTEXT),
                        run.name,
                        context_around(output.as_bytes(), at, CONTEXT),
                    ));
                }
            }
        }
        if let Some((ref_name, ref_output)) = reference_output {
            match serde_json::from_str::<Value>(ref_output) {
                Ok(envelope) => match subset_mismatch(&case.expect, &envelope) {
                    None => expect_met += 1,
                    Some(mismatch) => failures.push(format!(
                        "{ref_name} output does not match `expect`: {mismatch}\n      output: {}",
                        clip(ref_output, 400)
                    )),
                },
                Err(error) => failures.push(format!(
                    "{ref_name} output is not JSON ({error}): {}",
                    clip(ref_output, 400)
                )),
            }
        }
        if failures.is_empty() && not_run.is_empty() {
            verdict.passed += 1;
            continue;
        }
        verdict.failed += 1;
        if failures.is_empty() {
            verdict.report.push(format!(
                "FAIL {} ({} did not run)",
                case.name,
                not_run.join(", ")
            ));
        } else if detailed < DETAILED_FAILURES {
            detailed += 1;
            verdict.report.push(format!(
                "FAIL {} ({}): {}",
                case.name,
                case.file.display(),
                case.about
            ));
            for failure in failures {
                verdict.report.push(format!("    {failure}"));
            }
        } else {
            verdict.report.push(format!("FAIL {}", case.name));
        }
    }
    if identical
        .iter()
        .zip(runs)
        .any(|(same, run)| run.outputs.is_ok() && *same < cases.len())
    {
        verdict.report.push(String::from(
            "hint: when the wasm runtimes differ from native on many cases, dist/ may be older than the sources: run `cargo xtask build-wasm`",
        ));
    }
    summarize(&mut verdict, cases.len(), runs, &identical, expect_met);
    check_hashes(&mut verdict, runs, recorded_sha256, actual_sha256);
    verdict
}

fn summarize(
    verdict: &mut Verdict,
    total: usize,
    runs: &[RuntimeRun],
    identical: &[usize],
    expect_met: usize,
) {
    let reference = runs.iter().find(|run| run.outputs.is_ok());
    verdict.report.push(String::new());
    verdict.report.push(format!(
        "runtime summary ({total} cases, reference: {}; `expect` met by {expect_met}):",
        reference.map_or("none", |run| run.name.as_str())
    ));
    for (slot, run) in runs.iter().enumerate() {
        let mut line = format!("  {:<9}", run.name);
        match &run.outputs {
            Ok(_) => {
                let same = identical.get(slot).copied().unwrap_or_default();
                let _ = write!(
                    line,
                    " {same:>4}/{total} identical  {:>8.2} s",
                    run.elapsed.as_secs_f64()
                );
            }
            Err(error) => {
                let first = error.lines().next().unwrap_or_default();
                let _ = write!(line, " did not run: {first} (see below)");
                verdict
                    .problems
                    .push(format!("{} did not run: {error}", run.name));
            }
        }
        if let Some(sha) = &run.sha256 {
            let _ = write!(line, "  sha256 {sha}");
        }
        if !run.description.is_empty() {
            let _ = write!(line, "  ({})", run.description);
        }
        verdict.report.push(line);
    }
}

fn check_hashes(
    verdict: &mut Verdict,
    runs: &[RuntimeRun],
    recorded: Option<&str>,
    actual: Option<&str>,
) {
    let Some(recorded) = recorded else {
        return;
    };
    if let Some(actual) = actual {
        if actual != recorded {
            verdict.problems.push(format!(
                "dist/entitle.wasm hashes to {actual} but dist/entitle.wasm.sha256 says {recorded}: run `cargo xtask build-wasm`"
            ));
        }
    }
    for run in runs {
        if run.outputs.is_err() {
            continue;
        }
        match &run.sha256 {
            Some(sha) if sha != recorded => verdict.problems.push(format!(
                "{} loaded a module hashing to {sha}, not the {recorded} of dist/entitle.wasm.sha256",
                run.name
            )),
            None if run.loads_module => verdict.problems.push(format!(
                "{} loads the module but reported no sha256 for it",
                run.name
            )),
            _ => {}
        }
    }
    if verdict.problems.is_empty() {
        verdict.report.push(format!(
            "module sha256 {recorded}: dist/entitle.wasm.sha256 and every runtime that loads the module agree"
        ));
    }
}

fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let head: String = text.chars().take(limit).collect();
        format!("{head}…")
    }
}
