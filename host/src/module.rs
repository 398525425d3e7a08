//! The wasmtime embedding: one engine per process, the module compiled once
//! (and cached on disk), its imports checked and linked as traps, and
//! instances made from one `InstancePre`.
//!
//! # Instances
//!
//! - [`WasmModule::evaluate`] makes a fresh store and instance for each call:
//!   nothing survives from one request to the next (memory, handles).
//!   Instantiation is cheap (the `InstancePre` is made once and memory is
//!   initialised copy-on-write), but it is the price of that isolation.
//! - [`WasmModule::instance`] gives a [`WasmInstance`] that is reused across
//!   calls; [`WasmModule::load_bundle`] gives a [`WasmBundle`], an instance
//!   with one bundle parsed once: the fast path a gateway uses.
//!
//! Every request gets the whole timeout; memory and tables are capped per
//! store (see [`Limits`]). When a call fails inside wasm (a trap, the
//! deadline, a limit) the instance is thrown away and the next call gets a new one (a
//! [`WasmBundle`] reloads its bundle into it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use wasmtime::{Cache, CacheConfig, Config, Engine, ExternType, InstancePre, Linker, Module};

use crate::abi::Abi;
use crate::error::HostError;
use crate::limits::{ImportTrap, Limits, StoreState, EPOCH_TICK};

/// The only import namespace the module may use: the one wasm-bindgen's
/// glue (`dist/entitle.js`) provides. Every import in it is linked as a trap.
pub const GLUE_NAMESPACE: &str = "./entitle_bg.js";

/// Where compiled modules are cached: `$ENTITLE_CACHE_DIR` if set (empty
/// disables the cache), else `wasmtime-cache` in the cargo target directory
/// holding this executable (the nearest ancestor with a `CACHEDIR.TAG`),
/// else no cache.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ENTITLE_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join("wasmtime-cache"))
}

/// The process's one engine: reference types and typed function references
/// (wasm-bindgen's output uses them), epoch interruption (a thread advances
/// the epoch every [`EPOCH_TICK`]), and the disk cache.
fn engine() -> Result<&'static Engine, HostError> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    static TICKER: OnceLock<Result<(), String>> = OnceLock::new();
    let engine = ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config
                .wasm_reference_types(true)
                .wasm_function_references(true)
                .epoch_interruption(true);
            if let Some(dir) = cache_dir() {
                let mut cache = CacheConfig::new();
                cache.with_directory(dir);
                // The cache only saves time: without it every run compiles.
                if let Ok(cache) = Cache::new(cache) {
                    config.cache(Some(cache));
                }
            }
            Engine::new(&config).map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|detail| HostError::EngineSetup {
            detail: detail.clone(),
        })?;
    TICKER
        .get_or_init(|| {
            std::thread::Builder::new()
                .name(String::from("entitle-epoch"))
                .spawn(move || loop {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                })
                .map(drop)
                .map_err(|error| format!("cannot start the epoch thread: {error}"))
        })
        .clone()
        .map_err(|detail| HostError::EngineSetup { detail })?;
    Ok(engine)
}

/// Lowercase hex sha256, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The versions a module reports through `entitle_version`.
#[derive(serde::Deserialize)]
struct ModuleVersion {
    engine: String,
    abi: u32,
}

/// The module, compiled and checked, ready to instantiate.
pub struct WasmModule {
    pre: InstancePre<StoreState>,
    sha256: String,
    path: Option<PathBuf>,
    trapped_imports: Vec<String>,
    abi_version: u32,
    engine_version: String,
    limits: Limits,
}

impl std::fmt::Debug for WasmModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmModule")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .field("abi_version", &self.abi_version)
            .field("engine_version", &self.engine_version)
            .finish_non_exhaustive()
    }
}

impl WasmModule {
    /// Loads the module file at `path` (exactly those bytes: the sha256 is
    /// theirs), compiles it (or takes it from the cache), refuses imports
    /// outside [`GLUE_NAMESPACE`], links the others as traps, and checks the
    /// byte ABI: every export with its type, and the ABI version.
    pub fn load(path: impl AsRef<Path>) -> Result<WasmModule, HostError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| HostError::read(path, source))?;
        Self::compile(&bytes, Some(path.to_path_buf()))
    }

    /// Like [`WasmModule::load`], from bytes in memory (wasm binary only).
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmModule, HostError> {
        Self::compile(bytes, None)
    }

    fn compile(bytes: &[u8], path: Option<PathBuf>) -> Result<WasmModule, HostError> {
        let name = path
            .as_ref()
            .map_or_else(|| String::from("<bytes>"), |p| p.display().to_string());
        let engine = engine()?;
        let module = Module::new(engine, bytes).map_err(|error| HostError::Compile {
            module: name,
            detail: format!("{error:#}"),
        })?;

        let mut linker: Linker<StoreState> = Linker::new(engine);
        let mut trapped_imports = Vec::new();
        for import in module.imports() {
            let (namespace, field) = (import.module(), import.name());
            if namespace != GLUE_NAMESPACE {
                return Err(HostError::ForbiddenImport {
                    module: namespace.to_string(),
                    name: field.to_string(),
                    allowed: GLUE_NAMESPACE,
                });
            }
            let ExternType::Func(ty) = import.ty() else {
                return Err(HostError::UnsupportedImport {
                    module: namespace.to_string(),
                    name: field.to_string(),
                    kind: match import.ty() {
                        ExternType::Table(_) => "table",
                        ExternType::Memory(_) => "memory",
                        ExternType::Global(_) => "global",
                        _ => "tag",
                    },
                });
            };
            let full_name = format!("{namespace}.{field}");
            let trap_name = full_name.clone();
            linker
                .func_new(namespace, field, ty, move |_caller, _params, _results| {
                    Err(wasmtime::Error::new(ImportTrap(trap_name.clone())))
                })
                .map_err(|error| HostError::Instantiate {
                    detail: error.to_string(),
                })?;
            trapped_imports.push(full_name);
        }
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|error| HostError::Instantiate {
                detail: format!("{error:#}"),
            })?;

        let limits = Limits::default();
        let mut abi = Abi::new(&pre, &limits)?;
        let abi_version = abi.abi_version()?;
        let expected = entitle_core::api::ABI_VERSION;
        if abi_version != expected {
            return Err(HostError::AbiMismatch {
                found: abi_version,
                expected,
            });
        }
        let version = abi.version()?;
        let version: ModuleVersion =
            serde_json::from_str(&version).map_err(|error| HostError::BadResponse {
                detail: format!("a version that is not `{{\"engine\",\"abi\"}}`: {error}"),
            })?;
        if version.abi != abi_version {
            return Err(HostError::BadResponse {
                detail: format!("two abi versions, `{}` and `{abi_version}`", version.abi),
            });
        }

        Ok(WasmModule {
            pre,
            sha256: sha256_hex(bytes),
            path,
            trapped_imports,
            abi_version,
            engine_version: version.engine,
            limits,
        })
    }

    /// The same module with other limits for the instances made from now on.
    pub fn with_limits(mut self, limits: Limits) -> WasmModule {
        self.limits = limits;
        self
    }

    /// The limits every new instance gets.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The sha256 of the module's bytes, lowercase hex (as `sha256sum`).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The file the module came from, if it came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The byte ABI version the module reports.
    pub fn abi_version(&self) -> u32 {
        self.abi_version
    }

    /// The engine version the module reports.
    pub fn engine_version(&self) -> &str {
        &self.engine_version
    }

    /// Every import, as `namespace.name`, all linked as traps.
    pub fn trapped_imports(&self) -> &[String] {
        &self.trapped_imports
    }

    /// A new instance, reused across calls.
    pub fn instance(&self) -> Result<WasmInstance, HostError> {
        Ok(WasmInstance {
            pre: self.pre.clone(),
            limits: self.limits,
            abi: Some(Abi::new(&self.pre, &self.limits)?),
            instances: 1,
        })
    }

    /// Evaluates a self-contained request in a fresh instance.
    pub fn evaluate(&self, request: &[u8]) -> Result<String, HostError> {
        Abi::new(&self.pre, &self.limits)?.evaluate(request)
    }

    /// Loads a bundle once into a new instance of its own. Returns the
    /// envelope (the bundle's description, or its errors) and, when the
    /// bundle loaded, the session that evaluates requests against it.
    pub fn load_bundle(&self, bundle: &[u8]) -> Result<(Option<WasmBundle>, String), HostError> {
        let mut abi = Abi::new(&self.pre, &self.limits)?;
        let (handle, envelope) = abi.bundle_load(bundle)?;
        if handle == 0 {
            return Ok((None, envelope));
        }
        let session = WasmBundle {
            pre: self.pre.clone(),
            limits: self.limits,
            abi,
            handle,
            bundle: bundle.to_vec(),
            keys: None,
            licenses: BTreeMap::new(),
            instances: 1,
        };
        Ok((Some(session), envelope))
    }

    /// Verifies a signed bundle (an `entitle-signed/1` envelope) against a
    /// key set and loads it once into a new instance of its own, keeping
    /// the key set there: licenses loaded into the session, or sent in its
    /// requests, must then be signed. Returns the envelope (the bundle's
    /// description, or its errors) and, when the bundle loaded, the session.
    pub fn load_signed_bundle(
        &self,
        envelope: &[u8],
        keys: &[u8],
    ) -> Result<(Option<WasmBundle>, String), HostError> {
        let mut abi = Abi::new(&self.pre, &self.limits)?;
        let (handle, answer) = abi.bundle_load_signed(envelope, keys)?;
        if handle == 0 {
            return Ok((None, answer));
        }
        let session = WasmBundle {
            pre: self.pre.clone(),
            limits: self.limits,
            abi,
            handle,
            bundle: envelope.to_vec(),
            keys: Some(keys.to_vec()),
            licenses: BTreeMap::new(),
            instances: 1,
        };
        Ok((Some(session), answer))
    }
}

/// One instance of the module, reused across calls (replaced after a failed
/// call). Bundles loaded through it live as long as the instance.
pub struct WasmInstance {
    pre: InstancePre<StoreState>,
    limits: Limits,
    abi: Option<Abi>,
    /// How many instances have been made: a compact handle holds the count
    /// it was given under.
    instances: u64,
}

impl WasmInstance {
    fn abi(&mut self) -> Result<&mut Abi, HostError> {
        if self.abi.as_ref().is_none_or(Abi::is_poisoned) {
            self.abi = None;
            self.abi = Some(Abi::new(&self.pre, &self.limits)?);
            self.instances = self.instances.wrapping_add(1);
        }
        self.abi.as_mut().ok_or(HostError::Instantiate {
            detail: String::from("no instance"),
        })
    }

    /// Evaluates a self-contained request.
    pub fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        self.abi()?.evaluate(request)
    }

    /// `entitle_bundle_load`: the handle (`0` when rejected) and the envelope.
    /// A handle dies with the instance, which a failed call replaces.
    pub fn bundle_load(&mut self, bundle: &[u8]) -> Result<(u32, String), HostError> {
        self.abi()?.bundle_load(bundle)
    }

    /// `entitle_bundle_load_signed`: the handle (`0` when rejected) and the
    /// envelope, for a signed bundle verified against a key set.
    pub fn bundle_load_signed(
        &mut self,
        envelope: &[u8],
        keys: &[u8],
    ) -> Result<(u32, String), HostError> {
        self.abi()?.bundle_load_signed(envelope, keys)
    }

    /// `entitle_bundle_evaluate`: a request (without `bundle`) against a handle.
    pub fn bundle_evaluate(&mut self, handle: u32, request: &[u8]) -> Result<String, HostError> {
        self.abi()?.bundle_evaluate(handle, request)
    }

    /// `entitle_bundle_load_license`: keeps a license in a loaded bundle.
    pub fn bundle_load_license(
        &mut self,
        handle: u32,
        license: &[u8],
    ) -> Result<String, HostError> {
        self.abi()?.bundle_load_license(handle, license)
    }

    /// `entitle_bundle_unload_license`: whether the license was loaded.
    pub fn bundle_unload_license(&mut self, handle: u32, id: &str) -> Result<bool, HostError> {
        self.abi()?.bundle_unload_license(handle, id)
    }

    /// `entitle_bundle_free`.
    pub fn bundle_free(&mut self, handle: u32) -> Result<(), HostError> {
        self.abi()?.bundle_free(handle)
    }

    /// `entitle_compact_resolve`: compiles a license loaded into the bundle
    /// under `bundle` for compact checks of `name`; the handle (`None` when
    /// refused) and the envelope.
    pub fn compact_resolve(
        &mut self,
        bundle: u32,
        license: &str,
        name: &str,
        kind: entitle_core::CheckKind,
    ) -> Result<(Option<CompactHandle>, String), HostError> {
        let (handle, envelope) = self.abi()?.compact_resolve(bundle, license, name, kind)?;
        Ok((CompactHandle::new(handle, self.instances), envelope))
    }

    /// `entitle_compact_check` through a handle; a handle of an instance a
    /// failed call replaced is stale.
    pub fn compact_check(
        &mut self,
        handle: CompactHandle,
        ask: &entitle_core::CompactAsk,
    ) -> Result<Compact, HostError> {
        self.abi()?;
        if handle.instance != self.instances {
            return Ok(Compact::StaleHandle);
        }
        let (status, answer) = self.abi()?.compact_check(handle.handle, &ask.write())?;
        Compact::of(status, &answer)
    }

    /// `entitle_compact_check_json` through a handle: the compact answer
    /// and, when it answered and the module writes it, the JSON envelope
    /// of the same check (the JSON entry's bytes).
    pub fn compact_check_json(
        &mut self,
        handle: CompactHandle,
        ask: &entitle_core::CompactAsk,
    ) -> Result<(Compact, Option<String>), HostError> {
        self.abi()?;
        if handle.instance != self.instances {
            return Ok((Compact::StaleHandle, None));
        }
        let (status, answer, envelope) = self
            .abi()?
            .compact_check_json(handle.handle, &ask.write())?;
        Ok((Compact::of(status, &answer)?, envelope))
    }
}

/// A compact handle, tied to the instance that gave it: a replaced instance
/// makes it stale instead of reaching another check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompactHandle {
    handle: u32,
    instance: u64,
}

impl CompactHandle {
    fn new(handle: u32, instance: u64) -> Option<CompactHandle> {
        (handle != 0).then_some(CompactHandle { handle, instance })
    }
}

/// What a compact check gives a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compact {
    /// The answer record, read.
    Answered(entitle_core::CompactAnswer),
    /// The handle is unknown or stale: resolve again.
    StaleHandle,
    /// These inputs need the JSON entry, which answers them in full.
    AskJson,
}

impl Compact {
    fn of(status: u32, answer: &[u8; entitle_core::ANSWER_BYTES]) -> Result<Compact, HostError> {
        match status {
            0 => entitle_core::CompactAnswer::read(answer)
                .map(Compact::Answered)
                .ok_or_else(|| HostError::BadResponse {
                    detail: String::from("a compact answer record the engine does not write"),
                }),
            1 => Ok(Compact::StaleHandle),
            2 => Ok(Compact::AskJson),
            other => Err(HostError::BadResponse {
                detail: format!("compact check status `{other}`"),
            }),
        }
    }
}

/// The id in a `load_license` success envelope, `{"result":{"license":id}}`.
pub(crate) fn loaded_license_id(envelope: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Loaded {
        license: String,
    }
    let envelope: entitle_core::Envelope<'_, Loaded> = serde_json::from_str(envelope).ok()?;
    envelope.result().map(|loaded| loaded.license.clone())
}

/// A bundle loaded once into an instance of its own; evaluates requests that
/// name no `bundle`. Licenses may be loaded into it too. After a failed call
/// it reloads the bundle and its licenses into a new instance before the
/// next request.
pub struct WasmBundle {
    pre: InstancePre<StoreState>,
    limits: Limits,
    abi: Abi,
    handle: u32,
    /// The bundle as loaded: the document, or its signed envelope.
    bundle: Vec<u8>,
    /// The key set of a bundle loaded signed.
    keys: Option<Vec<u8>>,
    /// The licenses loaded, by id, to reload after a failed call.
    licenses: BTreeMap<String, Vec<u8>>,
    /// How many instances have run the bundle: a compact handle holds the
    /// count it was given under.
    instances: u64,
}

impl WasmBundle {
    /// The handle the module gave the bundle (in the current instance).
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Evaluates a request (without `bundle`) against the bundle.
    pub fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        self.reload_if_poisoned()?;
        self.abi.bundle_evaluate(self.handle, request)
    }

    /// Loads a license into the bundle, so that requests may name it by id;
    /// returns the envelope (`{"license":id,"loaded":n}` or the errors).
    pub fn load_license(&mut self, license: &[u8]) -> Result<String, HostError> {
        self.reload_if_poisoned()?;
        let envelope = self.abi.bundle_load_license(self.handle, license)?;
        if let Some(id) = loaded_license_id(&envelope) {
            self.licenses.insert(id, license.to_vec());
        }
        Ok(envelope)
    }

    /// Forgets a loaded license; whether it was loaded.
    pub fn unload_license(&mut self, id: &str) -> Result<bool, HostError> {
        self.reload_if_poisoned()?;
        self.licenses.remove(id);
        self.abi.bundle_unload_license(self.handle, id)
    }

    /// `entitle_compact_resolve` on this bundle. Handles die with the
    /// instance: after a failed call the check answers
    /// [`Compact::StaleHandle`], and the caller resolves again.
    pub fn compact_resolve(
        &mut self,
        license: &str,
        name: &str,
        kind: entitle_core::CheckKind,
    ) -> Result<(Option<CompactHandle>, String), HostError> {
        self.reload_if_poisoned()?;
        let (handle, envelope) = self.abi.compact_resolve(self.handle, license, name, kind)?;
        Ok((CompactHandle::new(handle, self.instances), envelope))
    }

    /// `entitle_compact_check` through a handle of this bundle.
    pub fn compact_check(
        &mut self,
        handle: CompactHandle,
        ask: &entitle_core::CompactAsk,
    ) -> Result<Compact, HostError> {
        self.reload_if_poisoned()?;
        if handle.instance != self.instances {
            return Ok(Compact::StaleHandle);
        }
        let (status, answer) = self.abi.compact_check(handle.handle, &ask.write())?;
        Compact::of(status, &answer)
    }

    /// `entitle_compact_check_json` through a handle of this bundle: the
    /// compact answer and, when it answered and the module writes it, the
    /// JSON envelope of the same check (the JSON entry's bytes).
    pub fn compact_check_json(
        &mut self,
        handle: CompactHandle,
        ask: &entitle_core::CompactAsk,
    ) -> Result<(Compact, Option<String>), HostError> {
        self.reload_if_poisoned()?;
        if handle.instance != self.instances {
            return Ok((Compact::StaleHandle, None));
        }
        let (status, answer, envelope) =
            self.abi.compact_check_json(handle.handle, &ask.write())?;
        Ok((Compact::of(status, &answer)?, envelope))
    }

    fn reload_if_poisoned(&mut self) -> Result<(), HostError> {
        if !self.abi.is_poisoned() {
            return Ok(());
        }
        let mut abi = Abi::new(&self.pre, &self.limits)?;
        let (handle, _) = match &self.keys {
            Some(keys) => abi.bundle_load_signed(&self.bundle, keys)?,
            None => abi.bundle_load(&self.bundle)?,
        };
        if handle == 0 {
            return Err(HostError::BadResponse {
                detail: String::from("a refusal of a bundle it had loaded before"),
            });
        }
        for license in self.licenses.values() {
            abi.bundle_load_license(handle, license)?;
        }
        self.abi = abi;
        self.handle = handle;
        self.instances = self.instances.wrapping_add(1);
        Ok(())
    }
}
