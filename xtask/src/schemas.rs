//! `cargo xtask schemas`: writes the JSON Schema of every document to
//! `schemas/`, from the types the engine reads them into (entitle-core's
//! `schema` feature, enabled here and never in the wasm module). With
//! `--check`, changes nothing and fails when a file is not current; the
//! test `cargo test -p entitle-conformance --test schemas` checks the same.

use std::collections::BTreeSet;
use std::fs;

use anyhow::{anyhow, bail, Context};

use crate::workspace;

/// Writes (or with `--check`, compares) every schema file.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask schemas [--check]"),
    };
    let dir = workspace::root().join("schemas");
    let documents = entitle_core::schema::documents().map_err(|e| anyhow!(e))?;
    let mut stale = Vec::new();
    if !check {
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for document in &documents {
        let path = dir.join(document.file);
        let text = document.text();
        if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        stale.push(document.file.to_string());
        if !check {
            fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote schemas/{}", document.file);
        }
    }
    // A schema file no document has any more.
    let current: BTreeSet<&str> = documents.iter().map(|d| d.file).collect();
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".schema.json") && !current.contains(name.as_str()) {
                stale.push(name.clone());
                if !check {
                    fs::remove_file(entry.path())
                        .with_context(|| format!("cannot remove schemas/{name}"))?;
                    println!("removed schemas/{name}");
                }
            }
        }
    }
    if check && !stale.is_empty() {
        bail!(
            "schemas/ is not current ({}): run `cargo xtask schemas`",
            stale.join(", ")
        );
    }
    if stale.is_empty() {
        println!("schemas/ is current ({} files)", documents.len());
    }
    Ok(())
}
