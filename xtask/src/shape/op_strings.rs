//! No op name matched as a string outside the op table.
//!
//! In the Rust of `core/src`, `wasm/src` and `host/src` (test code left out)
//! and the page's scripts under `web/`, a string literal whose whole text
//! is an op name (`"check"`, `"scan"`, …) is a finding, except in the op
//! table itself ([`TABLE`]). A literal that shares an op's name without
//! naming the op (a reason code, a JSON field, a CLI word) is allowed by a
//! marker comment on its line, `// shape: not an op (<reason>)`, or by a
//! line of `allowed_op_strings.txt`: `<path> <op> <reason>`, which allows
//! that op name anywhere in that file. An allowed line that matches nothing
//! any more is a finding too, so the list stays the work that remains.

use super::lex::Kind;
use super::source::SourceFile;
use super::Finding;

/// The op names, as requests spell them.
pub const OPS: &[&str] = &[
    "check",
    "seat",
    "status",
    "quote",
    "transition",
    "validate",
    "verify",
    "escalate",
    "simulate",
    "diff",
    "exception",
    "scan",
    "business_time",
];

/// The one file that may spell op names: the op table.
pub const TABLE: &str = "core/src/api/op.rs";

/// The list of allowed uses, from the workspace root.
pub const LIST: &str = "xtask/src/shape/allowed_op_strings.txt";

/// The start of the marker comment that allows one literal.
pub const MARKER: &str = "shape: not an op (";

/// One line of the list.
#[derive(Debug, PartialEq, Eq)]
pub struct Allowed {
    /// The file, from the workspace root.
    pub path: String,
    /// The op name allowed in it.
    pub op: String,
    /// The list's line.
    pub line: usize,
}

/// Reads the list: its entries, and a finding for each line that is not
/// `<path> <op> <reason>`.
pub fn read_list(text: &str) -> (Vec<Allowed>, Vec<Finding>) {
    let mut entries = Vec::new();
    let mut findings = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(path), Some(op), Some(_reason)) if OPS.contains(&op) => entries.push(Allowed {
                path: path.to_string(),
                op: op.to_string(),
                line: number + 1,
            }),
            _ => findings.push(Finding {
                path: LIST.to_string(),
                line: number + 1,
                message: format!("`{line}` is not `<path> <op> <reason>` with one of the op names"),
            }),
        }
    }
    (entries, findings)
}

/// Whether `comment` is the marker with a reason.
fn marks(comment: &str) -> Option<bool> {
    let rest = comment.split_once(MARKER)?.1;
    let reason = rest.split_once(')').map(|(reason, _)| reason.trim());
    Some(reason.is_some_and(|r| !r.is_empty()))
}

/// Every op name spelled as a string outside the table and not allowed.
pub fn check(files: &[SourceFile], allowed: &[Allowed]) -> Vec<Finding> {
    let mut used = vec![false; allowed.len()];
    let mut findings = Vec::new();
    for file in files.iter().filter(|f| f.path != TABLE) {
        for token in &file.lexed.tokens {
            let Kind::Str(text) = &token.kind else {
                continue;
            };
            if !OPS.contains(&text.as_str()) {
                continue;
            }
            let marker = file.lexed.comments_on(token.line).find_map(marks);
            match marker {
                Some(true) => continue,
                Some(false) => {
                    findings.push(Finding {
                        path: file.path.clone(),
                        line: token.line,
                        message: format!(
                            "the marker for `\"{text}\"` gives no reason: `// {MARKER}<reason>)`"
                        ),
                    });
                    continue;
                }
                None => {}
            }
            let entry = allowed
                .iter()
                .position(|a| a.path == file.path && a.op == *text);
            if let Some(flag) = entry.and_then(|at| used.get_mut(at)) {
                *flag = true;
                continue;
            }
            findings.push(Finding {
                path: file.path.clone(),
                line: token.line,
                message: format!("op name `\"{text}\"` as a string outside the op table"),
            });
        }
    }
    for (entry, used) in allowed.iter().zip(used) {
        if !used {
            findings.push(Finding {
                path: LIST.to_string(),
                line: entry.line,
                message: format!(
                    "`{}` no longer spells `\"{}\"`: remove the line",
                    entry.path, entry.op
                ),
            });
        }
    }
    findings
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::shape::lex::{lex, Lang};
    use crate::shape::source::rust_crate;

    fn rust(path: &str, text: &str) -> SourceFile {
        let mut files = rust_crate(vec![(
            "lib.rs".to_string(),
            path.to_string(),
            text.to_string(),
        )]);
        files.pop().unwrap()
    }

    fn js(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.to_string(),
            module: Vec::new(),
            lexed: lex(text, Lang::Js),
        }
    }

    fn lines(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{}:{}", f.path, f.line))
            .collect()
    }

    #[test]
    fn op_names_as_strings_are_found() {
        let files = [
            rust(
                "host/src/a.rs",
                "fn f(op: &str) {\n  match op { \"check\" => {}, \"checks\" => {}, _ => {} }\n  // \"status\"\n  let _ = r\"quote\";\n}\n#[cfg(test)]\nmod tests { const X: &str = \"scan\"; }\n",
            ),
            js(
                "web/app.js",
                "if (op === 'diff') {}\nconst t = `scan`;\nconst u = `${op}`; // 'verify'\nconst v = {check: 1};\n",
            ),
            rust("core/src/api/op.rs", "const OPS: [&str; 1] = [\"check\"];"),
        ];
        let findings = check(&files, &[]);
        assert_eq!(
            lines(&findings),
            vec![
                "host/src/a.rs:2",
                "host/src/a.rs:4",
                "web/app.js:1",
                "web/app.js:2"
            ]
        );
        assert!(findings
            .first()
            .unwrap()
            .message
            .starts_with("op name `\"check\"` as a string outside the op table"));
    }

    #[test]
    fn markers_and_the_list_allow_and_stale_lines_are_found() {
        let files = [rust(
            "host/src/cli.rs",
            "const A: &str = \"check\"; // shape: not an op (a metric label)\nconst B: &str = \"status\"; // shape: not an op ()\nconst C: &str = \"scan\";\nconst D: &str = \"scan\";\nconst E: &str = \"diff\";\n",
        )];
        let (allowed, bad) = read_list(
            "# comment\n\nhost/src/cli.rs scan a clap subcommand\nhost/src/cli.rs quote gone since\nhost/src/cli.rs diff\nhost/src/cli.rs nope because\n",
        );
        assert_eq!(lines(&bad), vec![format!("{LIST}:5"), format!("{LIST}:6")]);
        assert_eq!(allowed.len(), 2);
        let findings = check(&files, &allowed);
        assert_eq!(
            lines(&findings),
            vec![
                "host/src/cli.rs:2".to_string(),
                "host/src/cli.rs:5".to_string(),
                format!("{LIST}:4"),
            ]
        );
        assert!(findings
            .first()
            .unwrap()
            .message
            .contains("gives no reason"));
    }
}
