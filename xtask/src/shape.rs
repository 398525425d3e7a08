//! `cargo xtask shape`: structural checks over the source text.
//!
//! 1. No import cycle between core's modules ([`cycles`]).
//! 2. No op name spelled as a string outside the op table ([`op_strings`]).
//!
//! Each finding prints as `path:line: message`; any finding fails the task.

mod cycles;
mod lex;
mod op_strings;
mod source;

use std::fmt;
use std::fs;

use anyhow::{bail, Context};

use crate::workspace;

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, from the workspace root.
    pub path: String,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Runs both checks; fails when either finds anything.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask shape");
    }
    let root = workspace::root();
    let mut failed = Vec::new();

    let core = source::rust_crate(source::read_tree(&root, "core/src", &["rs"])?);
    let report = cycles::check(&core);
    println!("core's modules: {}", report.summary);
    if !report.cycles.is_empty() {
        failed.push("import cycles in core");
    }
    for (number, cycle) in report.cycles.iter().enumerate() {
        println!(
            "import cycle {} of {}, {} modules: {}",
            number + 1,
            report.cycles.len(),
            cycle.members.len(),
            cycle.members.join(", ")
        );
        if !cycle.mutual.is_empty() {
            let pairs: Vec<String> = cycle
                .mutual
                .iter()
                .map(|(a, b)| format!("{a} <-> {b}"))
                .collect();
            println!("  using each other directly: {}", pairs.join(", "));
        }
        for finding in &cycle.findings {
            println!("{finding}");
        }
    }

    let mut files = core;
    for dir in ["wasm/src", "host/src"] {
        files.extend(source::rust_crate(source::read_tree(&root, dir, &["rs"])?));
    }
    for (_, path, text) in source::read_tree(&root, "web", &["js", "mjs"])? {
        files.push(source::SourceFile {
            path,
            module: Vec::new(),
            lexed: lex::lex(&text, lex::Lang::Js),
        });
    }
    let list = fs::read_to_string(root.join(op_strings::LIST))
        .with_context(|| format!("cannot read {}", op_strings::LIST))?;
    let (allowed, mut findings) = op_strings::read_list(&list);
    findings.extend(op_strings::check(&files, &allowed));
    println!(
        "op names as strings: {} files read, {} allowed by {}, {} findings",
        files.len(),
        allowed.len(),
        op_strings::LIST,
        findings.len()
    );
    for finding in &findings {
        println!("{finding}");
    }
    if !findings.is_empty() {
        failed.push("op names spelled as strings outside the op table");
        println!(
            "(ask the op table, {}; a string that is not the op: end its line with `// {}<reason>)` or list it in {})",
            op_strings::TABLE,
            op_strings::MARKER,
            op_strings::LIST
        );
    }

    if !failed.is_empty() {
        bail!("shape: {}", failed.join("; "));
    }
    Ok(())
}
