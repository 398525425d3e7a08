//! A generation: the module, the bundle and the licenses the gateway answers
//! with, loaded together into a pool of instances before the first request
//! reaches them, and swapped whole on reload.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use entitle_core::{BundleMeta, CheckKind, CompactAnswer, CompactAsk, Envelope};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::HostError;
use crate::limits::Limits;
use crate::module::{Compact, CompactHandle, WasmBundle, WasmModule};

mod pool;

use pool::Pool;

/// Where a generation's documents come from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The module file.
    pub module: PathBuf,
    /// The bundle document.
    pub bundle: PathBuf,
    /// A directory of license documents (`*.json`).
    pub licenses: PathBuf,
    /// The key set the bundle and every license must be signed with; `None`
    /// takes unsigned documents (development only).
    pub keys: Option<PathBuf>,
    /// A directory of support cases, one folder per license id
    /// (`<license>/*.json`), handed to the portal with its documents.
    pub cases: Option<PathBuf>,
}

impl Sources {
    /// Size and modification time of every source file: when this changes,
    /// the files changed.
    pub fn fingerprint(&self) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
        let mut files = vec![self.module.clone(), self.bundle.clone()];
        files.extend(self.keys.clone());
        files.extend(license_files(&self.licenses));
        files
            .into_iter()
            .map(|path| {
                let meta = std::fs::metadata(&path).ok();
                let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
                let modified = meta.and_then(|m| m.modified().ok());
                (path, len, modified)
            })
            .collect()
    }
}

/// The `*.json` files of a directory, sorted; none when it cannot be read.
fn license_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// What a gateway does when the module cannot answer, as the bundle declares it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OnFailure {
    /// For requests whose feature is not known (routes).
    pub default: Mode,
    /// Per feature.
    pub features: HashMap<String, Mode>,
}

/// Closed refuses, open allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Refuse.
    #[default]
    Closed,
    /// Allow.
    Open,
}

/// What a signed bundle's description adds.
#[derive(Debug, Clone, Default, Deserialize)]
struct Signer {
    #[serde(default)]
    key_id: Option<String>,
}

/// What the module says of a bundle it loaded.
#[derive(Deserialize)]
struct Described {
    bundle: BundleMeta,
    on_failure: OnFailure,
    #[serde(default)]
    on_store_failure: HashMap<String, entitle_core::StoreFailure>,
    #[serde(flatten)]
    signer: Signer,
}

/// A license file the module refused, and why.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The file.
    pub path: PathBuf,
    /// The module's error codes and paths.
    pub detail: String,
}

/// One generation: everything a request is answered with.
pub struct Generation {
    /// Counts up from 1 with every generation of the process.
    pub id: u64,
    /// The module's sha256.
    pub module_sha256: String,
    /// The engine version the module reports.
    pub engine_version: String,
    /// The bundle, as the module described it.
    pub bundle: BundleMeta,
    /// Failure modes.
    pub on_failure: OnFailure,
    /// What a gateway of a fleet does with a consuming check of each
    /// metered feature while the store is unreachable.
    pub on_store_failure: HashMap<String, entitle_core::StoreFailure>,
    /// The key that signed the bundle; `None` when unsigned documents are taken.
    pub signed_by: Option<String>,
    /// Licenses loaded, by id.
    pub licenses: BTreeMap<String, PathBuf>,
    /// License files refused.
    pub refused: Vec<Refusal>,
    module: WasmModule,
    bundle_bytes: Vec<u8>,
    keys: Option<Vec<u8>>,
    license_bytes: Vec<Vec<u8>>,
    /// The index in `license_bytes` of each license's document, by id.
    license_index: BTreeMap<String, usize>,
    /// The sha256 of each license's document as loaded, by id.
    license_sha256: BTreeMap<String, String>,
    /// The instances, each locked by the check it answers.
    pool: Pool<Instance>,
}

impl Generation {
    /// Loads the module, the bundle and every license into `instances`
    /// instances. Fails when the module or the bundle cannot be loaded;
    /// a license the module refuses is left out and reported in `refused`.
    pub fn load(
        id: u64,
        sources: &Sources,
        limits: Limits,
        instances: usize,
    ) -> Result<Generation, HostError> {
        let module = WasmModule::load(&sources.module)?.with_limits(limits);
        let bundle_bytes = std::fs::read(&sources.bundle)
            .map_err(|source| HostError::read(&sources.bundle, source))?;
        let keys = match &sources.keys {
            Some(path) => {
                Some(std::fs::read(path).map_err(|source| HostError::read(path, source))?)
            }
            None => None,
        };
        let (first, envelope) = load(&module, &bundle_bytes, keys.as_deref())?;
        let Some(mut first) = first else {
            return Err(HostError::Refused {
                path: sources.bundle.display().to_string(),
                detail: error_summary(&envelope),
            });
        };
        let described = match serde_json::from_str(&envelope) {
            Ok(Envelope::<Described>::Ok(success)) => success.result,
            Ok(Envelope::Error(_)) => {
                return Err(HostError::BadResponse {
                    detail: String::from("a bundle description without its result"),
                })
            }
            Err(e) => {
                return Err(HostError::BadResponse {
                    detail: format!("a bundle description that does not parse: {e}"),
                })
            }
        };

        let mut licenses = BTreeMap::new();
        let mut license_bytes = Vec::new();
        let mut license_index = BTreeMap::new();
        let mut license_sha256 = BTreeMap::new();
        let mut refused = Vec::new();
        for path in license_files(&sources.licenses) {
            let bytes = std::fs::read(&path).map_err(|source| HostError::read(&path, source))?;
            let answer = first.load_license(&bytes)?;
            match crate::module::loaded_license_id(&answer) {
                Some(license) => {
                    license_sha256.insert(license.clone(), crate::module::sha256_hex(&bytes));
                    license_index.insert(license.clone(), license_bytes.len());
                    licenses.insert(license, path);
                    license_bytes.push(bytes);
                }
                None => refused.push(Refusal {
                    path,
                    detail: error_summary(&answer),
                }),
            }
        }

        let mut generation = Generation {
            id,
            module_sha256: module.sha256().to_string(),
            engine_version: module.engine_version().to_string(),
            bundle: described.bundle,
            on_failure: described.on_failure,
            on_store_failure: described.on_store_failure,
            signed_by: described.signer.key_id,
            licenses,
            refused,
            module,
            bundle_bytes,
            keys,
            license_bytes,
            license_index,
            license_sha256,
            pool: Pool::new(Vec::new()),
        };
        let mut pool = vec![Instance::new(first)];
        for _ in 1..instances.max(1) {
            pool.push(generation.instance()?);
        }
        generation.pool = Pool::new(pool);
        Ok(generation)
    }

    /// A new instance with the bundle and every license loaded.
    fn instance(&self) -> Result<Instance, HostError> {
        let (session, envelope) = load(&self.module, &self.bundle_bytes, self.keys.as_deref())?;
        let mut session = session.ok_or_else(|| HostError::BadResponse {
            detail: format!(
                "a refusal of a bundle it loaded before: {}",
                error_summary(&envelope)
            ),
        })?;
        for license in &self.license_bytes {
            session.load_license(license)?;
        }
        Ok(Instance::new(session))
    }

    /// Evaluates a request (naming no bundle) on an instance of the pool;
    /// makes a new instance when every one is busy. An instance whose call
    /// failed reloads itself before its next request.
    pub fn evaluate(&self, request: &[u8]) -> Result<String, HostError> {
        self.with_instance(|instance| instance.bundle.evaluate(request))
    }

    /// A compact check of a loaded license's feature or metric, through the
    /// handle the instance resolved for it before (resolved now the first
    /// time, or again when it went stale). `None` when the JSON entry must
    /// answer: the module does not resolve the name (an unknown feature
    /// gets its error there), or these inputs need the full envelope.
    pub fn compact(
        &self,
        license: &str,
        name: &str,
        kind: CheckKind,
        ask: &CompactAsk,
    ) -> Result<Option<CompactAnswer>, HostError> {
        Ok(self
            .compact_with(license, name, kind, ask, false)?
            .map(|(answer, _)| answer))
    }

    /// [`Generation::compact`], with the JSON envelope of the same check
    /// when `json` asks for it and the module writes it (one call to the
    /// module either way).
    pub fn compact_with(
        &self,
        license: &str,
        name: &str,
        kind: CheckKind,
        ask: &CompactAsk,
        json: bool,
    ) -> Result<Option<(CompactAnswer, Option<String>)>, HostError> {
        if !self.licenses.contains_key(license) {
            return Ok(None);
        }
        self.with_instance(|instance| instance.compact(license, name, kind, ask, json))
    }

    /// Runs `call` on a free instance of the pool (a new one when every
    /// one is busy). An instance whose call failed reloads itself before
    /// its next request.
    fn with_instance<T>(
        &self,
        call: impl FnOnce(&mut Instance) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        self.pool.with(|| self.instance(), call)
    }

    /// The bundle's document exactly as loaded (a signed envelope when the
    /// gateway verifies).
    pub fn bundle_document(&self) -> &[u8] {
        &self.bundle_bytes
    }

    /// A loaded license's document exactly as loaded, by id.
    pub fn license_document(&self, license: &str) -> Option<&[u8]> {
        self.license_index
            .get(license)
            .and_then(|i| self.license_bytes.get(*i))
            .map(Vec::as_slice)
    }

    /// The sha256 of a loaded license's document, by id.
    pub fn license_sha256(&self, license: &str) -> Option<&str> {
        self.license_sha256.get(license).map(String::as_str)
    }

    /// Whether documents are verified against a key set.
    pub fn verifies(&self) -> bool {
        self.keys.is_some()
    }

    /// What the bundle declares for a metric's consuming checks while the
    /// fleet's store is unreachable (`deny` unless it says otherwise).
    pub fn store_failure(&self, metric: &str) -> entitle_core::StoreFailure {
        self.on_store_failure
            .get(metric)
            .copied()
            .unwrap_or_default()
    }

    /// The failure mode for a feature, or the default when it is not known.
    pub fn failure_mode(&self, feature: Option<&str>) -> Mode {
        feature
            .and_then(|f| self.on_failure.features.get(f).copied())
            .unwrap_or(self.on_failure.default)
    }
}

/// The most compact handles an instance keeps; it forgets them all when
/// full (names come from requests, so they are bounded here).
const MOST_HANDLES: usize = 10_000;

/// What an instance resolved a name to, for a feature check and for a
/// consuming check: not asked yet, refused (`Some(None)`), or a handle.
type Resolved = [Option<Option<CompactHandle>>; 2];

/// An instance of the pool and the compact handles it resolved, by license
/// and name, for feature checks and consuming checks; `None` where the
/// module refused to resolve (the JSON entry answers those).
struct Instance {
    bundle: WasmBundle,
    handles: HashMap<String, HashMap<String, Resolved>>,
    resolved: usize,
}

impl Instance {
    fn new(bundle: WasmBundle) -> Instance {
        Instance {
            bundle,
            handles: HashMap::new(),
            resolved: 0,
        }
    }

    fn compact(
        &mut self,
        license: &str,
        name: &str,
        kind: CheckKind,
        ask: &CompactAsk,
        json: bool,
    ) -> Result<Option<(CompactAnswer, Option<String>)>, HostError> {
        let slot = usize::from(kind == CheckKind::Consume);
        // Once with the handle known, once more if it went stale.
        for _ in 0..2 {
            let known = self
                .handles
                .get(license)
                .and_then(|names| names.get(name))
                .and_then(|kinds| kinds.get(slot).copied().flatten());
            let handle = match known {
                Some(handle) => handle,
                None => self.resolve(license, name, kind, slot)?,
            };
            let Some(handle) = handle else {
                return Ok(None);
            };
            let (compact, envelope) = if json {
                self.bundle.compact_check_json(handle, ask)?
            } else {
                (self.bundle.compact_check(handle, ask)?, None)
            };
            match compact {
                Compact::Answered(answer) => return Ok(Some((answer, envelope))),
                Compact::AskJson => return Ok(None),
                Compact::StaleHandle => {
                    if let Some(kinds) = self
                        .handles
                        .get_mut(license)
                        .and_then(|names| names.get_mut(name))
                    {
                        kinds.iter_mut().for_each(|k| *k = None);
                    }
                }
            }
        }
        Ok(None)
    }

    fn resolve(
        &mut self,
        license: &str,
        name: &str,
        kind: CheckKind,
        slot: usize,
    ) -> Result<Option<CompactHandle>, HostError> {
        let (handle, _) = self.bundle.compact_resolve(license, name, kind)?;
        if self.resolved >= MOST_HANDLES {
            self.handles.clear();
            self.resolved = 0;
        }
        self.resolved += 1;
        let kinds = self
            .handles
            .entry(license.to_string())
            .or_default()
            .entry(name.to_string())
            .or_default();
        if let Some(known) = kinds.get_mut(slot) {
            *known = Some(handle);
        }
        Ok(handle)
    }
}

/// Loads the bundle into a new instance: verified against the key set when
/// there is one (the module then takes only licenses signed by its keys).
fn load(
    module: &WasmModule,
    bundle: &[u8],
    keys: Option<&[u8]>,
) -> Result<(Option<WasmBundle>, String), HostError> {
    match keys {
        Some(keys) => module.load_signed_bundle(bundle, keys),
        None => module.load_bundle(bundle),
    }
}

/// `code at path` of every error of an error envelope, for logs.
pub fn error_summary(envelope: &str) -> String {
    match serde_json::from_str::<Envelope<'_, IgnoredAny>>(envelope) {
        Ok(envelope) if !envelope.errors().is_empty() => envelope
            .errors()
            .iter()
            .map(|e| format!("{} at {}", e.code, e.path))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::from("an answer that is not an error envelope"),
    }
}
