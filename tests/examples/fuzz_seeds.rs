//! Writes every conformance case's request bytes into a folder, one file a
//! case, as the seed corpus of the fuzz targets (`cargo xtask fuzz`); with
//! `--compact`, the ask record of every compact check the corpus holds,
//! behind the byte the `compact` target reads its feature or metric from.
//!
//! `cargo run -p entitle-conformance --example fuzz_seeds -- [--compact] <folder>`

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use entitle_conformance::case::Corpus;
use entitle_conformance::conformance_dir;

/// Requests larger than this are left out: a fuzzer mutates small inputs.
const MAX_SEED: usize = 256 * 1024;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let compact = args.iter().any(|a| a == "--compact");
    let Some(out) = args.iter().find(|a| *a != "--compact").map(PathBuf::from) else {
        bail!("usage: fuzz_seeds [--compact] <folder>");
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let cases = Corpus::at(&conformance_dir()).load()?;
    if compact {
        return compact_seeds(&cases, &out);
    }
    let mut written = 0;
    for case in cases.iter().filter(|case| case.request.len() <= MAX_SEED) {
        let file = out.join(case.name.replace('/', "__"));
        std::fs::write(&file, &case.request)
            .with_context(|| format!("writing {}", file.display()))?;
        written += 1;
    }
    println!(
        "{written} of {} cases written to {}",
        cases.len(),
        out.display()
    );
    Ok(())
}

/// The names the `compact` fuzz target picks from, in its order.
const COMPACT_NAMES: [&str; 5] = [
    "api_calls",
    "storage_gb",
    "sso",
    "audit_log",
    "priority_support",
];

fn compact_seeds(cases: &[entitle_conformance::Case], out: &std::path::Path) -> Result<()> {
    let mut written = 0;
    for case in cases {
        let Some(c) = entitle_conformance::compact::from_case(case) else {
            continue;
        };
        let Some(ask) = c.ask else {
            continue;
        };
        let index = COMPACT_NAMES
            .iter()
            .position(|n| *n == c.name_checked)
            .unwrap_or(case.name.len() % COMPACT_NAMES.len());
        let consume = matches!(c.kind, entitle_core::CheckKind::Consume);
        let selector = u8::try_from(index).unwrap_or(0) | if consume { 0x80 } else { 0 };
        let mut seed = vec![selector];
        seed.extend_from_slice(&ask.write());
        let file = out.join(case.name.replace('/', "__"));
        std::fs::write(&file, &seed).with_context(|| format!("writing {}", file.display()))?;
        written += 1;
    }
    println!("{written} compact seeds written to {}", out.display());
    Ok(())
}
