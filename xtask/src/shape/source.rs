//! The source files the shape checks read: a crate's `src/` as modules
//! (each `.rs` file one module, its path from the file's path), with test
//! code left out (`#[cfg(test)]` items, modules declared under
//! `#[cfg(test)]`, files named `tests.rs`), and the page's scripts.

use std::fs;
use std::path::Path;

use anyhow::Context;

use super::lex::{self, Kind, Lang, Lexed, Token};

/// One file read and lexed.
#[derive(Debug)]
pub struct SourceFile {
    /// Its path from the workspace root, with `/`.
    pub path: String,
    /// Its module path inside its crate (`a::b` for `a/b.rs` or
    /// `a/b/mod.rs`; empty for `lib.rs` and `main.rs`). Empty for scripts.
    pub module: Vec<String>,
    /// Its tokens (test code left out) and comments.
    pub lexed: Lexed,
}

/// Every file under `dir` (relative to `root`) whose name ends in one of
/// `extensions`, sorted, as (path from `dir`, path from `root`, text).
pub fn read_tree(
    root: &Path,
    dir: &str,
    extensions: &[&str],
) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    let mut pending = vec![root.join(dir)];
    while let Some(at) = pending.pop() {
        let entries = fs::read_dir(&at).with_context(|| format!("cannot read {}", at.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read {}", at.display()))?
                .path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "node_modules") {
                    pending.push(path);
                }
                continue;
            }
            let name = path.to_string_lossy().into_owned();
            if !extensions.iter().any(|e| name.ends_with(&format!(".{e}"))) {
                continue;
            }
            let text = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let from_root = slashed(path.strip_prefix(root).unwrap_or(&path));
            let from_dir = slashed(path.strip_prefix(root.join(dir)).unwrap_or(&path));
            out.push((from_dir, from_root, text));
        }
    }
    out.sort();
    Ok(out)
}

fn slashed(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A crate's files as modules: `files` are (path from `src/`, path from the
/// workspace root, text). Test-only modules are left out.
pub fn rust_crate(files: Vec<(String, String, String)>) -> Vec<SourceFile> {
    let mut parsed = Vec::new();
    let mut test_modules: Vec<Vec<String>> = Vec::new();
    for (in_src, path, text) in files {
        let module = module_path(&in_src);
        let mut lexed = lex::lex(&text, Lang::Rust);
        let (tokens, test_children) = without_tests(lexed.tokens);
        lexed.tokens = tokens;
        for child in test_children {
            let mut child_path = module.clone();
            child_path.push(child);
            test_modules.push(child_path);
        }
        if in_src.rsplit('/').next() == Some("tests.rs") {
            test_modules.push(module.clone());
        }
        parsed.push(SourceFile {
            path,
            module,
            lexed,
        });
    }
    parsed.retain(|file| {
        !test_modules
            .iter()
            .any(|test| file.module.starts_with(test) && !test.is_empty())
    });
    parsed
}

/// `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` the root.
pub fn module_path(in_src: &str) -> Vec<String> {
    let stem = in_src.strip_suffix(".rs").unwrap_or(in_src);
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    let last = parts.last().map(String::as_str);
    if last == Some("mod") || (parts.len() == 1 && matches!(last, Some("lib" | "main"))) {
        parts.pop();
    }
    parts
}

fn kind(tokens: &[Token], at: usize) -> Option<&Kind> {
    tokens.get(at).map(|t| &t.kind)
}

fn is_punct(tokens: &[Token], at: usize, c: char) -> bool {
    kind(tokens, at) == Some(&Kind::Punct(c))
}

fn is_ident(tokens: &[Token], at: usize, word: &str) -> bool {
    matches!(kind(tokens, at), Some(Kind::Ident(w)) if w == word)
}

/// Whether `#[cfg(test)]` (or `#![cfg(test)]` when `inner`) starts at `at`.
fn cfg_test_at(tokens: &[Token], at: usize, inner: bool) -> bool {
    let bang = usize::from(inner);
    is_punct(tokens, at, '#')
        && (!inner || is_punct(tokens, at + 1, '!'))
        && is_punct(tokens, at + 1 + bang, '[')
        && is_ident(tokens, at + 2 + bang, "cfg")
        && is_punct(tokens, at + 3 + bang, '(')
        && is_ident(tokens, at + 4 + bang, "test")
        && is_punct(tokens, at + 5 + bang, ')')
        && is_punct(tokens, at + 6 + bang, ']')
}

/// The index just past the bracketed group opening at `at`.
pub fn past_group(tokens: &[Token], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while let Some(k) = kind(tokens, i) {
        i += 1;
        match k {
            Kind::Punct('(' | '[' | '{') => depth += 1,
            Kind::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    i
}

/// The tokens without `#[cfg(test)]` items, and the names of the modules
/// declared under `#[cfg(test)]` (`#[cfg(test)] mod tests;`). A file that
/// opens with `#![cfg(test)]` has no tokens left.
pub fn without_tests(tokens: Vec<Token>) -> (Vec<Token>, Vec<String>) {
    if cfg_test_at(&tokens, 0, true) {
        return (Vec::new(), Vec::new());
    }
    let mut kept = Vec::new();
    let mut children = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !cfg_test_at(&tokens, i, false) {
            if let Some(token) = tokens.get(i) {
                kept.push(token.clone());
            }
            i += 1;
            continue;
        }
        // Skip the attribute, any further attributes, then the item: up to
        // a `;` outside brackets or the end of its first braced block.
        i += 7;
        while is_punct(&tokens, i, '#') && is_punct(&tokens, i + 1, '[') {
            i = past_group(&tokens, i + 1);
        }
        let start = i;
        while let Some(k) = kind(&tokens, i) {
            match k {
                Kind::Punct(';') => {
                    i += 1;
                    break;
                }
                Kind::Punct('{') => {
                    i = past_group(&tokens, i);
                    break;
                }
                Kind::Punct('(' | '[') => i = past_group(&tokens, i),
                _ => i += 1,
            }
        }
        let item = tokens.get(start..i).unwrap_or_default();
        let words: Vec<&Kind> = item.iter().map(|t| &t.kind).collect();
        if let [.., Kind::Ident(m), Kind::Ident(name), Kind::Punct(';')] = words.as_slice() {
            if m == "mod" {
                children.push(name.clone());
            }
        }
    }
    (kept, children)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String, String)> {
        list.iter()
            .map(|(path, text)| (path.to_string(), format!("src/{path}"), text.to_string()))
            .collect()
    }

    #[test]
    fn module_paths() {
        assert_eq!(module_path("lib.rs"), Vec::<String>::new());
        assert_eq!(module_path("a/b.rs"), vec!["a", "b"]);
        assert_eq!(module_path("a/b/mod.rs"), vec!["a", "b"]);
        assert_eq!(module_path("a/lib.rs"), vec!["a", "lib"]);
    }

    #[test]
    fn test_code_is_left_out() {
        let crate_files = rust_crate(files(&[
            (
                "lib.rs",
                "mod a;\n#[cfg(test)]\nmod helpers;\n#[cfg(test)]\n#[allow(x)]\nmod t { use crate::a::X; }\nfn keep() {}\n",
            ),
            ("a.rs", "#[cfg(test)]\nmod tests;\npub struct X;\n"),
            ("a/tests.rs", "use crate::b;"),
            ("helpers.rs", "use crate::a;"),
            ("helpers/deep.rs", "use crate::a;"),
            ("only_tests.rs", "#![cfg(test)]\nuse crate::a;"),
        ]));
        let paths: Vec<&str> = crate_files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["src/lib.rs", "src/a.rs", "src/only_tests.rs"]);
        let root = crate_files.first().unwrap();
        assert!(!root
            .lexed
            .tokens
            .iter()
            .any(|t| t.kind == Kind::Ident("X".into())));
        assert!(root
            .lexed
            .tokens
            .iter()
            .any(|t| t.kind == Kind::Ident("keep".into())));
        assert!(crate_files.get(2).unwrap().lexed.tokens.is_empty());
    }
}
