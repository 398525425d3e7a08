//! Writes every conformance case's request bytes into a folder, one file a
//! case, as the seed corpus of the fuzz targets (`cargo xtask fuzz`).
//!
//! `cargo run -p entitle-conformance --example fuzz_seeds -- <folder>`

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use entitle_conformance::case::Corpus;
use entitle_conformance::conformance_dir;

/// Requests larger than this are left out: a fuzzer mutates small inputs.
const MAX_SEED: usize = 256 * 1024;

fn main() -> Result<()> {
    let Some(out) = std::env::args().nth(1).map(PathBuf::from) else {
        bail!("usage: fuzz_seeds <folder>");
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let cases = Corpus::at(&conformance_dir()).load()?;
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
