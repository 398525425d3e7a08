//! Static checks of the final module: the byte ABI survived wasm-bindgen with
//! its documented signatures, every import belongs to the glue's namespace,
//! and no import can be reached from any ABI export.
//!
//! Reachability by direct calls is exact and must reach no import. Counting
//! indirect calls too (`call_indirect`, `call_ref` of type `T` taken to reach
//! every address-taken function of `T`'s signature) over-approximates: the
//! panic formatter's `dyn Display` calls match wasm-bindgen's `JsValue`
//! formatting, so imports reached only that way are reported, not refused.
//! The host's tests prove the calls at run time by linking every import as a
//! trap.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{bail, Context};
use wasmparser::{
    CompositeInnerType, ElementItems, ExternalKind, KnownCustom, Name, Operator, Parser, Payload,
    TypeRef, ValType,
};

/// The only import module the wasm-bindgen glue provides.
pub const GLUE_NAMESPACE: &str = "./entitle_bg.js";

/// The byte ABI: export name, parameter types, result types.
const ABI: &[(&str, &[ValType], &[ValType])] = &[
    ("entitle_abi_version", &[], &[ValType::I32]),
    ("entitle_version", &[], &[ValType::I64]),
    ("entitle_alloc", &[ValType::I32], &[ValType::I32]),
    ("entitle_free", &[ValType::I32, ValType::I32], &[]),
    (
        "entitle_evaluate",
        &[ValType::I32, ValType::I32],
        &[ValType::I64],
    ),
    (
        "entitle_bundle_load",
        &[ValType::I32, ValType::I32, ValType::I32],
        &[ValType::I64],
    ),
    (
        "entitle_bundle_load_signed",
        &[
            ValType::I32,
            ValType::I32,
            ValType::I32,
            ValType::I32,
            ValType::I32,
        ],
        &[ValType::I64],
    ),
    (
        "entitle_bundle_evaluate",
        &[ValType::I32, ValType::I32, ValType::I32],
        &[ValType::I64],
    ),
    (
        "entitle_bundle_load_license",
        &[ValType::I32, ValType::I32, ValType::I32],
        &[ValType::I64],
    ),
    (
        "entitle_bundle_unload_license",
        &[ValType::I32, ValType::I32, ValType::I32],
        &[ValType::I32],
    ),
    ("entitle_bundle_free", &[ValType::I32], &[]),
];

/// What the checks found, printed by the build.
pub struct Report {
    imports: usize,
    functions: usize,
    direct: usize,
    reachable: usize,
    only_indirect: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "abi: {} exports with their signatures; {} imports, all in `{GLUE_NAMESPACE}`",
            ABI.len(),
            self.imports
        )?;
        writeln!(
            f,
            "abi: {} of {} functions reachable by direct calls, no import among them",
            self.direct, self.functions
        )?;
        if self.only_indirect.is_empty() {
            write!(
                f,
                "abi: {} reachable counting indirect calls by signature, no import among them",
                self.reachable
            )
        } else {
            write!(
                f,
                "abi: {} reachable counting indirect calls by signature, an over-approximation \
                 that may reach {} (the host's trap-linked tests cover the real calls)",
                self.reachable,
                self.only_indirect.join(", ")
            )
        }
    }
}

/// One function's calls, as far as reachability cares.
#[derive(Default)]
struct Body {
    direct: BTreeSet<u32>,
    /// Type indices of its indirect calls.
    indirect: BTreeSet<u32>,
}

/// Everything the checks read from the module.
#[derive(Default)]
struct Module {
    func_types: Vec<(Vec<ValType>, Vec<ValType>)>,
    /// Type index of every function, imported ones first.
    functions: Vec<u32>,
    imports: Vec<(String, String)>,
    exports: BTreeMap<String, (ExternalKind, u32)>,
    address_taken: BTreeSet<u32>,
    bodies: Vec<Body>,
    /// Function names from the name section, when the module has one.
    names: BTreeMap<u32, String>,
}

impl Module {
    /// A function's name for messages: its import name, its name-section
    /// name, or its index.
    fn describe(&self, index: u32) -> String {
        if let Some((namespace, name)) = self.imports.get(index as usize) {
            return format!("`{namespace}.{name}`");
        }
        match self.names.get(&index) {
            Some(name) => format!("`{name}`"),
            None => format!("function {index}"),
        }
    }

    /// The call chain from an abi export to `index`, for messages.
    fn chain(&self, parents: &BTreeMap<u32, u32>, index: u32) -> String {
        let mut links = vec![self.describe(index)];
        let mut at = index;
        while let Some(parent) = parents.get(&at) {
            links.push(self.describe(*parent));
            at = *parent;
            if links.len() > 64 {
                break;
            }
        }
        links.reverse();
        links.join(" -> ")
    }
}

/// Runs every check on the module bytes.
pub fn check(bytes: &[u8]) -> anyhow::Result<Report> {
    let module = read(bytes).context("cannot parse the module")?;

    for (namespace, name) in &module.imports {
        if namespace != GLUE_NAMESPACE {
            bail!("the module imports `{namespace}.{name}`, outside `{GLUE_NAMESPACE}`");
        }
    }

    let mut roots = Vec::new();
    for (name, params, results) in ABI {
        let Some(&(kind, index)) = module.exports.get(*name) else {
            bail!("the module lost the abi export `{name}`");
        };
        if kind != ExternalKind::Func {
            bail!("the abi export `{name}` is not a function");
        }
        let ty = module
            .functions
            .get(index as usize)
            .and_then(|ty| module.func_types.get(*ty as usize))
            .with_context(|| format!("the abi export `{name}` has no type"))?;
        if ty.0 != *params || ty.1 != *results {
            bail!(
                "the abi export `{name}` has type {:?} -> {:?}, expected {params:?} -> {results:?}",
                ty.0,
                ty.1
            );
        }
        roots.push(index);
    }
    if !matches!(
        module.exports.get("memory"),
        Some((ExternalKind::Memory, _))
    ) {
        bail!("the module does not export its `memory`");
    }

    let imported = module.imports.len() as u32;
    let (direct, parents) = reachable(&module, &roots, imported, false);
    let reached: Vec<String> = direct
        .iter()
        .filter(|index| **index < imported)
        .map(|index| module.chain(&parents, *index))
        .collect();
    if !reached.is_empty() {
        bail!("the byte abi calls imports:\n  {}", reached.join("\n  "));
    }
    let (reachable, _) = reachable(&module, &roots, imported, true);
    let only_indirect: Vec<String> = reachable
        .iter()
        .filter(|index| **index < imported)
        .map(|index| module.describe(*index))
        .collect();
    Ok(Report {
        imports: module.imports.len(),
        functions: module.functions.len(),
        direct: direct.len(),
        reachable: reachable.len(),
        only_indirect,
    })
}

/// Every function reachable from `roots` (by direct calls, and by indirect
/// ones when `indirect`), imported ones included, and for each one the
/// function through which it was first reached.
fn reachable(
    module: &Module,
    roots: &[u32],
    imported: u32,
    indirect: bool,
) -> (BTreeSet<u32>, BTreeMap<u32, u32>) {
    let signature = |index: &u32| {
        module
            .functions
            .get(*index as usize)
            .and_then(|ty| module.func_types.get(*ty as usize))
    };
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    let mut parents: BTreeMap<u32, u32> = BTreeMap::new();
    let mut stack: Vec<(u32, Option<u32>)> = roots.iter().map(|root| (*root, None)).collect();
    let mut indirect_types: BTreeSet<u32> = BTreeSet::new();
    while let Some((index, parent)) = stack.pop() {
        if !seen.insert(index) {
            continue;
        }
        if let Some(parent) = parent {
            parents.insert(index, parent);
        }
        let Some(defined) = index.checked_sub(imported) else {
            continue;
        };
        let Some(body) = module.bodies.get(defined as usize) else {
            continue;
        };
        let from = Some(index);
        stack.extend(
            body.direct
                .iter()
                .filter(|callee| !seen.contains(callee))
                .map(|callee| (*callee, from)),
        );
        for ty in body.indirect.iter().filter(|_| indirect) {
            if !indirect_types.insert(*ty) {
                continue;
            }
            let wanted = module.func_types.get(*ty as usize);
            stack.extend(
                module
                    .address_taken
                    .iter()
                    .filter(|callee| !seen.contains(callee))
                    .filter(|callee| wanted.is_none() || signature(callee) == wanted)
                    .map(|callee| (*callee, from)),
            );
        }
    }
    (seen, parents)
}

fn read(bytes: &[u8]) -> anyhow::Result<Module> {
    let mut module = Module::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group?.into_types() {
                        let ty = match &sub.composite_type.inner {
                            CompositeInnerType::Func(func) => {
                                (func.params().to_vec(), func.results().to_vec())
                            }
                            _ => (Vec::new(), Vec::new()),
                        };
                        module.func_types.push(ty);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    if let TypeRef::Func(ty) | TypeRef::FuncExact(ty) = import.ty {
                        module.functions.push(ty);
                    }
                    module
                        .imports
                        .push((import.module.to_string(), import.name.to_string()));
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    module.functions.push(ty?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    module
                        .exports
                        .insert(export.name.to_string(), (export.kind, export.index));
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    match element?.items {
                        ElementItems::Functions(functions) => {
                            for index in functions {
                                module.address_taken.insert(index?);
                            }
                        }
                        ElementItems::Expressions(_, exprs) => {
                            for expr in exprs {
                                for op in expr?.get_operators_reader() {
                                    if let Operator::RefFunc { function_index } = op? {
                                        module.address_taken.insert(function_index);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    for op in global?.init_expr.get_operators_reader() {
                        if let Operator::RefFunc { function_index } = op? {
                            module.address_taken.insert(function_index);
                        }
                    }
                }
            }
            Payload::CustomSection(section) => {
                if let KnownCustom::Name(reader) = section.as_known() {
                    for name in reader {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                module.names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut calls = Body::default();
                for op in body.get_operators_reader()? {
                    match op? {
                        Operator::Call { function_index }
                        | Operator::ReturnCall { function_index } => {
                            calls.direct.insert(function_index);
                        }
                        Operator::CallIndirect { type_index, .. }
                        | Operator::ReturnCallIndirect { type_index, .. }
                        | Operator::CallRef { type_index }
                        | Operator::ReturnCallRef { type_index } => {
                            calls.indirect.insert(type_index);
                        }
                        Operator::RefFunc { function_index } => {
                            module.address_taken.insert(function_index);
                        }
                        _ => {}
                    }
                }
                module.bodies.push(calls);
            }
            _ => {}
        }
    }
    Ok(module)
}
