//! No import cycle between core's modules.
//!
//! Each `.rs` file of `core/src` is a module (`a/b.rs` and `a/b/mod.rs` are
//! `a::b`). A module uses another when its code names a path into it:
//! `crate::…`, `super::…`, `self::…` or a submodule's name, in `use` trees
//! and inline (`crate::x::f()`), resolved to the longest module the path
//! names. Comments, strings, attributes and test code are not read.
//!
//! What is an edge:
//! - a path through a name a module re-exports (`pub use child::Item`) is
//!   an edge to the module the item comes from, not to the re-exporter;
//! - `mod` declarations and a module's `pub use` of its own submodules'
//!   items are not edges (they say where things are, not what uses what);
//!   a `pub use` of anything else is an edge, since the module may use it;
//! - edges to the crate root and to the module itself are dropped.
//!
//! What is a cycle: a strongly connected component of that graph
//! (Tarjan), except that a module and its own submodules may use each
//! other (a folder's `mod.rs` calling its files, a file using its parent's
//! types through `super::`): a component is reported unless one of its
//! modules contains all the others, and then what is left without that
//! module is checked again. So two siblings or unrelated modules that use
//! each other, directly or through others, are reported; a folder talking
//! to its own files is not.

use std::collections::{BTreeMap, BTreeSet};

use super::lex::{Kind, Token};
use super::source::{past_group, SourceFile};
use super::Finding;

/// Where a use of another module is written.
#[derive(Debug, Clone)]
pub struct Site {
    /// The file's path from the workspace root.
    pub path: String,
    /// The line.
    pub line: usize,
    /// The path as written.
    pub text: String,
}

/// The module graph of one crate.
#[derive(Debug, Default)]
pub struct Graph {
    /// Module paths (`a::b`), the root as an empty string; index = node.
    pub modules: Vec<String>,
    /// Each edge and every place that makes it.
    pub edges: BTreeMap<(usize, usize), Vec<Site>>,
}

/// A path one file names, made absolute (from the crate root).
struct Ref {
    path: Vec<String>,
    site: Site,
}

/// A file's uses and re-exports.
#[derive(Default)]
struct Uses {
    refs: Vec<Ref>,
    /// Re-exported name → the absolute path it re-exports.
    reexports: BTreeMap<String, Vec<String>>,
}

/// Builds the graph of a crate's modules.
pub fn graph(files: &[SourceFile]) -> Graph {
    let mut graph = Graph::default();
    let mut index: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let root = Vec::new();
    for module in files.iter().map(|f| &f.module).chain([&root]) {
        if let std::collections::btree_map::Entry::Vacant(entry) = index.entry(module.clone()) {
            entry.insert(graph.modules.len());
            graph.modules.push(module.join("::"));
        }
    }
    let module_set: BTreeSet<Vec<String>> = index.keys().cloned().collect();
    let uses: Vec<(usize, Uses)> = files
        .iter()
        .filter_map(|file| {
            let node = *index.get(&file.module)?;
            Some((node, read_uses(file, &module_set)))
        })
        .collect();
    let mut reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (file, (_, u)) in files.iter().zip(&uses) {
        reexports
            .entry(file.module.clone())
            .or_default()
            .extend(u.reexports.clone());
    }
    let root = index.get(&root).copied();
    for (from, u) in &uses {
        for r in &u.refs {
            let Some(target) = resolve(&r.path, &module_set, &reexports) else {
                continue;
            };
            let Some(&to) = index.get(&target) else {
                continue;
            };
            if to == *from || Some(to) == root {
                continue;
            }
            graph
                .edges
                .entry((*from, to))
                .or_default()
                .push(r.site.clone());
        }
    }
    graph
}

/// The module `path` lands in: its longest prefix that is a module,
/// following re-exports.
fn resolve(
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
    reexports: &BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
) -> Option<Vec<String>> {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let k = (0..=path.len())
            .rev()
            .find(|k| path.get(..*k).is_some_and(|p| modules.contains(p)))?;
        let module = path.get(..k)?.to_vec();
        let followed = path
            .get(k)
            .and_then(|name| reexports.get(&module)?.get(name))
            .filter(|target| !target.starts_with(&path))
            .map(|target| {
                let mut next = target.clone();
                next.extend(path.iter().skip(k + 1).cloned());
                next
            });
        match followed {
            Some(next) => path = next,
            None => return Some(module),
        }
    }
    None
}

fn word(tokens: &[Token], at: usize) -> Option<&str> {
    match tokens.get(at).map(|t| &t.kind) {
        Some(Kind::Ident(w)) => Some(w),
        _ => None,
    }
}

fn punct(tokens: &[Token], at: usize, c: char) -> bool {
    tokens.get(at).map(|t| &t.kind) == Some(&Kind::Punct(c))
}

fn sep(tokens: &[Token], at: usize) -> bool {
    tokens.get(at).map(|t| &t.kind) == Some(&Kind::PathSep)
}

/// Makes a path as written absolute, or `None` when it names something
/// outside the crate (another crate, a local item).
fn absolute(
    module: &[String],
    inline: &[String],
    children: &BTreeSet<String>,
    written: &[String],
) -> Option<Vec<String>> {
    let (first, rest) = written.split_first()?;
    let mut base: Vec<String> = module.iter().chain(inline).cloned().collect();
    match first.as_str() {
        "crate" => return Some(rest.to_vec()),
        "self" => {}
        "super" => {
            base.pop()?;
            let mut rest = rest;
            while let Some((next, more)) = rest.split_first() {
                if next != "super" {
                    break;
                }
                base.pop()?;
                rest = more;
            }
            base.extend(rest.iter().cloned());
            return Some(base);
        }
        name if inline.is_empty() && children.contains(name) => {
            base.push(name.to_string());
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The leaves of a `use` tree starting at `at`: each path, whether it is a
/// glob, and the name it binds (its alias or last segment).
fn use_tree(
    tokens: &[Token],
    at: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let mut path = prefix.to_vec();
    loop {
        if sep(tokens, *at) {
            *at += 1;
        } else if punct(tokens, *at, '*') {
            *at += 1;
            out.push((path, None));
            return;
        } else if punct(tokens, *at, '{') {
            *at += 1;
            while *at < tokens.len() && !punct(tokens, *at, '}') {
                let before = *at;
                use_tree(tokens, at, &path, out);
                if punct(tokens, *at, ',') || *at == before {
                    *at += 1;
                }
            }
            *at += 1;
            return;
        } else if let Some(segment) = word(tokens, *at) {
            *at += 1;
            if segment != "self" {
                path.push(segment.to_string());
            }
            if sep(tokens, *at) {
                continue;
            }
            let mut name = path.last().cloned();
            if word(tokens, *at) == Some("as") {
                name = word(tokens, *at + 1).map(str::to_string);
                *at += 2;
            }
            out.push((path, name));
            return;
        } else {
            return;
        }
    }
}

/// Whether the `use` at `at` is `pub` or `pub(…)`.
fn is_pub(tokens: &[Token], at: usize) -> bool {
    let Some(before) = at.checked_sub(1) else {
        return false;
    };
    if word(tokens, before) == Some("pub") {
        return true;
    }
    if !punct(tokens, before, ')') {
        return false;
    }
    let open = (0..before).rev().find(|i| punct(tokens, *i, '('));
    open.and_then(|o| o.checked_sub(1))
        .is_some_and(|p| word(tokens, p) == Some("pub"))
}

fn read_uses(file: &SourceFile, modules: &BTreeSet<Vec<String>>) -> Uses {
    let tokens = &file.lexed.tokens;
    let children: BTreeSet<String> = modules
        .iter()
        .filter(|m| m.len() == file.module.len() + 1 && m.starts_with(&file.module))
        .filter_map(|m| m.last().cloned())
        .collect();
    let mut uses = Uses::default();
    // The braces open here: `Some(name)` for an inline `mod name { … }`.
    let mut frames: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        let inline: Vec<String> = frames.iter().flatten().cloned().collect();
        let site = |text: String| Site {
            path: file.path.clone(),
            line: token.line,
            text,
        };
        match &token.kind {
            Kind::Punct('#') if punct(tokens, i + 1, '[') => i = past_group(tokens, i + 1),
            Kind::Punct('#') if punct(tokens, i + 1, '!') => i = past_group(tokens, i + 2),
            Kind::Punct('{') => {
                frames.push(None);
                i += 1;
            }
            Kind::Punct('}') => {
                frames.pop();
                i += 1;
            }
            Kind::Ident(w) if w == "mod" && word(tokens, i + 1).is_some() => {
                if punct(tokens, i + 2, '{') {
                    frames.push(word(tokens, i + 1).map(str::to_string));
                }
                i += if punct(tokens, i + 2, '{') { 3 } else { 2 };
            }
            Kind::Ident(w) if w == "use" => {
                let public = is_pub(tokens, i) && inline.is_empty();
                let mut at = i + 1;
                let mut leaves = Vec::new();
                use_tree(tokens, &mut at, &[], &mut leaves);
                for (written, name) in leaves {
                    let Some(path) = absolute(&file.module, &inline, &children, &written) else {
                        continue;
                    };
                    // A re-export of a submodule's item says where it is;
                    // anything else the module may use itself.
                    let own = path.len() > file.module.len() && path.starts_with(&file.module);
                    if public {
                        if let Some(name) = &name {
                            uses.reexports.insert(name.clone(), path.clone());
                        }
                        if own {
                            continue;
                        }
                    }
                    uses.refs.push(Ref {
                        path,
                        site: site(written.join("::")),
                    });
                }
                i = at.max(i + 1);
            }
            Kind::Ident(first) if sep(tokens, i + 1) && !sep(tokens, i.wrapping_sub(1)) => {
                let mut written = vec![first.clone()];
                let mut at = i + 1;
                while sep(tokens, at) {
                    let Some(next) = word(tokens, at + 1) else {
                        break;
                    };
                    written.push(next.to_string());
                    at += 2;
                }
                if let Some(path) = absolute(&file.module, &inline, &children, &written) {
                    uses.refs.push(Ref {
                        path,
                        site: site(written.join("::")),
                    });
                }
                i = at;
            }
            _ => i += 1,
        }
    }
    uses
}

/// Strongly connected components of the subgraph on `nodes` (Tarjan).
fn components(
    nodes: &BTreeSet<usize>,
    edges: &BTreeMap<(usize, usize), Vec<Site>>,
) -> Vec<Vec<usize>> {
    struct State<'a> {
        nodes: &'a BTreeSet<usize>,
        next: BTreeMap<usize, Vec<usize>>,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        let number = s.index.len();
        s.index.insert(v, number);
        s.low.insert(v, number);
        s.stack.push(v);
        s.on_stack.insert(v);
        let next = s.next.get(&v).cloned().unwrap_or_default();
        for w in next {
            if !s.index.contains_key(&w) {
                visit(s, w);
                let low = s.low.get(&v).copied().min(s.low.get(&w).copied());
                if let Some(low) = low {
                    s.low.insert(v, low);
                }
            } else if s.on_stack.contains(&w) {
                let low = s.low.get(&v).copied().min(s.index.get(&w).copied());
                if let Some(low) = low {
                    s.low.insert(v, low);
                }
            }
        }
        if s.low.get(&v) == s.index.get(&v) {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort_unstable();
            s.out.push(component);
        }
    }
    let mut next: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        if nodes.contains(from) && nodes.contains(to) {
            next.entry(*from).or_default().push(*to);
        }
    }
    let mut state = State {
        nodes,
        next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in state.nodes.iter().copied().collect::<Vec<_>>() {
        if !state.index.contains_key(&v) {
            visit(&mut state, v);
        }
    }
    state.out
}

/// Whether module `outer` contains module `inner` (or is it).
fn contains(outer: &str, inner: &str) -> bool {
    outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}::"))
}

/// The cycles worth reporting among `nodes` (see the module's docs).
pub fn tangles(graph: &Graph, nodes: &BTreeSet<usize>) -> Vec<Vec<usize>> {
    let name = |n: &usize| graph.modules.get(*n).map(String::as_str).unwrap_or("");
    let mut out = Vec::new();
    for component in components(nodes, &graph.edges) {
        if component.len() < 2 {
            continue;
        }
        let container = component
            .iter()
            .find(|outer| component.iter().all(|m| contains(name(outer), name(m))));
        match container {
            Some(outer) => {
                let rest = component.iter().filter(|m| *m != outer).copied().collect();
                out.extend(tangles(graph, &rest));
            }
            None => out.push(component),
        }
    }
    out
}

/// One cycle the check reports.
pub struct Cycle {
    /// Its modules.
    pub members: Vec<String>,
    /// The pairs of its modules, neither inside the other, that use each
    /// other directly: where to start untying it.
    pub mutual: Vec<(String, String)>,
    /// A finding per edge inside it.
    pub findings: Vec<Finding>,
}

/// What the check found: each cycle and a line of counts.
pub struct Report {
    /// Each cycle.
    pub cycles: Vec<Cycle>,
    /// Modules, edges and cycles counted.
    pub summary: String,
}

/// Finds every cycle worth reporting among a crate's modules.
pub fn check(files: &[SourceFile]) -> Report {
    let graph = graph(files);
    let nodes: BTreeSet<usize> = (0..graph.modules.len()).collect();
    let found = tangles(&graph, &nodes);
    let name = |n: usize| graph.modules.get(n).cloned().unwrap_or_default();
    let mut cycles = Vec::new();
    for (number, cycle) in found.iter().enumerate() {
        let members: Vec<String> = cycle.iter().map(|n| name(*n)).collect();
        let mut findings = Vec::new();
        for ((from, to), sites) in &graph.edges {
            if !cycle.contains(from) || !cycle.contains(to) {
                continue;
            }
            let Some(first) = sites.first() else { continue };
            let more = match sites.len() {
                1 => String::new(),
                n => format!(" (and {} more lines)", n - 1),
            };
            findings.push(Finding {
                path: first.path.clone(),
                line: first.line,
                message: format!(
                    "import cycle {}: `{}` uses `{}` through `{}`{more}",
                    number + 1,
                    name(*from),
                    name(*to),
                    first.text,
                ),
            });
        }
        let mutual = graph
            .edges
            .keys()
            .filter(|(from, to)| from < to && cycle.contains(from) && cycle.contains(to))
            .filter(|(from, to)| graph.edges.contains_key(&(*to, *from)))
            .map(|(from, to)| (name(*from), name(*to)))
            .filter(|(a, b)| !contains(a, b) && !contains(b, a))
            .collect();
        cycles.push(Cycle {
            members,
            mutual,
            findings,
        });
    }
    let summary = format!(
        "{} modules, {} edges, {} import cycles",
        graph.modules.len(),
        graph.edges.len(),
        found.len()
    );
    Report { cycles, summary }
}

#[cfg(test)]
mod tests;
