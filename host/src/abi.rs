//! One live instance of the module, driven through the plain byte ABI: copy
//! the request in, call, copy the response out, free it. Everything here is
//! safe wasmtime API; bytes are copied with bounds-checked reads and writes.

use wasmtime::{Instance, InstancePre, Memory, Store, Trap, TypedFunc, WasmParams, WasmResults};

use crate::error::HostError;
use crate::limits::{ImportTrap, LimitHit, Limits, StoreState};

/// Smallest input buffer kept between requests.
const MIN_SCRATCH: u32 = 4096;
/// Largest input buffer kept between requests; bigger ones are freed after use.
const MAX_KEPT_SCRATCH: u32 = 1 << 20;

/// `entitle_compact_resolve`'s parameters: the bundle's handle, the
/// license id and the name (pointer and length each), the kind, and where
/// the handle goes.
type ResolveParams = (u32, u32, u32, u32, u32, u32, u32);

/// A store, its instance and handles on every ABI export.
pub(crate) struct Abi {
    store: Store<StoreState>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    evaluate: TypedFunc<(u32, u32), u64>,
    bundle_load: TypedFunc<(u32, u32, u32), u64>,
    bundle_load_signed: TypedFunc<(u32, u32, u32, u32, u32), u64>,
    bundle_evaluate: TypedFunc<(u32, u32, u32), u64>,
    bundle_free: TypedFunc<u32, ()>,
    bundle_load_license: TypedFunc<(u32, u32, u32), u64>,
    bundle_unload_license: TypedFunc<(u32, u32, u32), u32>,
    abi_version: TypedFunc<(), u32>,
    version: TypedFunc<(), u64>,
    /// The compact check's exports; `None` for a module without them, whose
    /// checks then all go through the JSON entry.
    compact_resolve: Option<TypedFunc<ResolveParams, u64>>,
    compact_check: Option<TypedFunc<(u32, u32, u32), u32>>,
    /// `entitle_compact_check_json`; `None` for a module without it, whose
    /// compact checks then come without their JSON answer.
    compact_check_json: Option<TypedFunc<(u32, u32, u32), u64>>,
    /// The 200 bytes the compact check reads its ask from (the first 64)
    /// and writes its answer into (the next 136); `0` until first used.
    compact_buffer: u32,
    /// The caller-owned input buffer, reused across requests: (ptr, capacity).
    scratch: (u32, u32),
    /// Epoch ticks each request may run.
    ticks: u64,
    /// The timeout those ticks stand for, for messages.
    timeout_millis: u128,
    /// Set once a call fails inside wasm: the instance's state is then
    /// unknown, and its owner replaces it.
    poisoned: bool,
}

fn typed<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &mut Store<StoreState>,
    name: &'static str,
    expected: &'static str,
) -> Result<TypedFunc<P, R>, HostError> {
    instance
        .get_typed_func::<P, R>(store, name)
        .map_err(|_| HostError::MissingExport { name, expected })
}

/// An export a module may leave out: `None` when it is absent, an error
/// when it is there with another signature.
fn optional<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &mut Store<StoreState>,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<TypedFunc<P, R>>, HostError> {
    if instance.get_export(&mut *store, name).is_none() {
        return Ok(None);
    }
    typed(instance, store, name, expected).map(Some)
}

/// Names a failed call precisely: a limit, an import, the deadline, or
/// another trap.
pub(crate) fn call_error(error: &wasmtime::Error, timeout_millis: u128) -> HostError {
    if let Some(hit) = error.downcast_ref::<LimitHit>() {
        return HostError::LimitExceeded {
            resource: hit.resource,
            desired: hit.desired,
            limit: hit.limit,
        };
    }
    if let Some(ImportTrap(import)) = error.downcast_ref::<ImportTrap>() {
        return HostError::ImportCalled {
            import: import.clone(),
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => HostError::Timeout {
            millis: timeout_millis,
        },
        Some(trap) => HostError::Trap {
            detail: trap.to_string(),
        },
        None => HostError::Trap {
            detail: error.to_string(),
        },
    }
}

/// Calls an export (a field of `Abi`), poisoning the instance if the call fails.
macro_rules! call {
    ($abi:ident . $func:ident, $params:expr) => {
        $abi.$func.call(&mut $abi.store, $params).map_err(|error| {
            $abi.poisoned = true;
            call_error(&error, $abi.timeout_millis)
        })
    };
}

impl Abi {
    /// Instantiates the module in a fresh store with these limits.
    pub(crate) fn new(pre: &InstancePre<StoreState>, limits: &Limits) -> Result<Abi, HostError> {
        let mut store = Store::new(pre.module().engine(), StoreState::new(limits));
        store.limiter(|state| &mut state.limiter);
        let ticks = limits.ticks();
        let timeout_millis = limits.timeout.as_millis();
        store.set_epoch_deadline(ticks);
        let instance = pre.instantiate(&mut store).map_err(|error| {
            match call_error(&error, timeout_millis) {
                HostError::Trap { detail } => HostError::Instantiate { detail },
                other => other,
            }
        })?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(HostError::MissingExport {
                name: "memory",
                expected: "memory",
            })?;
        Ok(Abi {
            alloc: typed(&instance, &mut store, "entitle_alloc", "(i32) -> i32")?,
            free: typed(&instance, &mut store, "entitle_free", "(i32, i32) -> ()")?,
            evaluate: typed(
                &instance,
                &mut store,
                "entitle_evaluate",
                "(i32, i32) -> i64",
            )?,
            bundle_load: typed(
                &instance,
                &mut store,
                "entitle_bundle_load",
                "(i32, i32, i32) -> i64",
            )?,
            bundle_load_signed: typed(
                &instance,
                &mut store,
                "entitle_bundle_load_signed",
                "(i32, i32, i32, i32, i32) -> i64",
            )?,
            bundle_evaluate: typed(
                &instance,
                &mut store,
                "entitle_bundle_evaluate",
                "(i32, i32, i32) -> i64",
            )?,
            bundle_free: typed(&instance, &mut store, "entitle_bundle_free", "(i32) -> ()")?,
            bundle_load_license: typed(
                &instance,
                &mut store,
                "entitle_bundle_load_license",
                "(i32, i32, i32) -> i64",
            )?,
            bundle_unload_license: typed(
                &instance,
                &mut store,
                "entitle_bundle_unload_license",
                "(i32, i32, i32) -> i32",
            )?,
            abi_version: typed(&instance, &mut store, "entitle_abi_version", "() -> i32")?,
            version: typed(&instance, &mut store, "entitle_version", "() -> i64")?,
            compact_resolve: optional(
                &instance,
                &mut store,
                "entitle_compact_resolve",
                "(i32, i32, i32, i32, i32, i32, i32) -> i64",
            )?,
            compact_check: optional(
                &instance,
                &mut store,
                "entitle_compact_check",
                "(i32, i32, i32) -> i32",
            )?,
            compact_check_json: optional(
                &instance,
                &mut store,
                "entitle_compact_check_json",
                "(i32, i32, i32) -> i64",
            )?,
            compact_buffer: 0,
            store,
            memory,
            scratch: (0, 0),
            ticks,
            timeout_millis,
            poisoned: false,
        })
    }

    /// Whether a call failed inside wasm, leaving the instance unusable.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Sets the deadline: every request gets the whole timeout.
    fn begin(&mut self) -> Result<(), HostError> {
        self.store.set_epoch_deadline(self.ticks);
        Ok(())
    }

    /// Copies `bytes` into the input buffer, with `extra` bytes after them
    /// for the module to write into; returns the buffer's pointer and the length.
    fn write_input(&mut self, bytes: &[u8], extra: u32) -> Result<(u32, u32), HostError> {
        let too_large = HostError::TooLarge { len: bytes.len() };
        let len = u32::try_from(bytes.len()).map_err(|_| too_large)?;
        let need = len
            .checked_add(extra)
            .ok_or(HostError::TooLarge { len: bytes.len() })?;
        if self.scratch.1 < need {
            self.release_scratch()?;
            let capacity = need.max(MIN_SCRATCH);
            let ptr = call!(self.alloc, capacity)?;
            if ptr == 0 {
                return Err(HostError::AllocFailed {
                    len: capacity as usize,
                });
            }
            self.scratch = (ptr, capacity);
        }
        let ptr = self.scratch.0;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|_| {
                self.poisoned = true;
                HostError::BadResponse {
                    detail: format!("an allocation at `{ptr}` outside its memory"),
                }
            })?;
        Ok((ptr, len))
    }

    /// Frees the input buffer.
    fn release_scratch(&mut self) -> Result<(), HostError> {
        let (ptr, capacity) = self.scratch;
        if capacity > 0 {
            self.scratch = (0, 0);
            call!(self.free, (ptr, capacity))?;
        }
        Ok(())
    }

    /// Keeps the input buffer for the next request unless it grew large.
    fn trim_scratch(&mut self) -> Result<(), HostError> {
        if self.scratch.1 > MAX_KEPT_SCRATCH {
            self.release_scratch()?;
        }
        Ok(())
    }

    /// Copies a response out of memory and frees it.
    fn take_response(&mut self, packed: u64) -> Result<String, HostError> {
        let ptr = (packed >> 32) as u32;
        let len = (packed & 0xffff_ffff) as u32;
        let start = ptr as usize;
        let bytes = self
            .memory
            .data(&self.store)
            .get(start..start.saturating_add(len as usize))
            .map(<[u8]>::to_vec);
        let Some(bytes) = bytes else {
            self.poisoned = true;
            return Err(HostError::BadResponse {
                detail: format!("`{len}` bytes at `{ptr}`, outside its memory"),
            });
        };
        call!(self.free, (ptr, len))?;
        self.trim_scratch()?;
        String::from_utf8(bytes).map_err(|error| HostError::BadResponse {
            detail: format!("bytes that are not utf-8: {error}"),
        })
    }

    /// `entitle_abi_version()`.
    pub(crate) fn abi_version(&mut self) -> Result<u32, HostError> {
        self.begin()?;
        call!(self.abi_version, ())
    }

    /// `entitle_version()`: `{"engine":..., "abi":...}`.
    pub(crate) fn version(&mut self) -> Result<String, HostError> {
        self.begin()?;
        let packed = call!(self.version, ())?;
        self.take_response(packed)
    }

    /// `entitle_evaluate`: a self-contained request.
    pub(crate) fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        self.begin()?;
        let (ptr, len) = self.write_input(request, 0)?;
        let packed = call!(self.evaluate, (ptr, len))?;
        self.take_response(packed)
    }

    /// `entitle_bundle_load`: the handle (0 when rejected) and the envelope.
    pub(crate) fn bundle_load(&mut self, bundle: &[u8]) -> Result<(u32, String), HostError> {
        self.begin()?;
        let (ptr, len) = self.write_input(bundle, 4)?;
        let handle_out = ptr
            .checked_add(len)
            .ok_or(HostError::TooLarge { len: bundle.len() })?;
        let packed = call!(self.bundle_load, (ptr, len, handle_out))?;
        let handle = self.read_handle(handle_out)?;
        let envelope = self.take_response(packed)?;
        Ok((handle, envelope))
    }

    /// `entitle_bundle_load_signed`: the handle (0 when rejected) and the
    /// envelope. The signed envelope and the key set share one input buffer.
    pub(crate) fn bundle_load_signed(
        &mut self,
        envelope: &[u8],
        keys: &[u8],
    ) -> Result<(u32, String), HostError> {
        self.begin()?;
        let too_large = || HostError::TooLarge {
            len: envelope.len().saturating_add(keys.len()),
        };
        let env_len = u32::try_from(envelope.len()).map_err(|_| too_large())?;
        let mut both = Vec::with_capacity(envelope.len().saturating_add(keys.len()));
        both.extend_from_slice(envelope);
        both.extend_from_slice(keys);
        let (ptr, len) = self.write_input(&both, 4)?;
        let keys_ptr = ptr.checked_add(env_len).ok_or_else(too_large)?;
        let keys_len = len.checked_sub(env_len).ok_or_else(too_large)?;
        let handle_out = ptr.checked_add(len).ok_or_else(too_large)?;
        let packed = call!(
            self.bundle_load_signed,
            (ptr, env_len, keys_ptr, keys_len, handle_out)
        )?;
        let handle = self.read_handle(handle_out)?;
        let envelope = self.take_response(packed)?;
        Ok((handle, envelope))
    }

    /// Reads the handle the module wrote at `handle_out`.
    fn read_handle(&mut self, handle_out: u32) -> Result<u32, HostError> {
        let mut handle = [0u8; 4];
        self.memory
            .read(&self.store, handle_out as usize, &mut handle)
            .map_err(|_| HostError::BadResponse {
                detail: format!("a handle at `{handle_out}` outside its memory"),
            })?;
        Ok(u32::from_le_bytes(handle))
    }

    /// `entitle_bundle_evaluate`: a request against a loaded bundle.
    pub(crate) fn bundle_evaluate(
        &mut self,
        handle: u32,
        request: &[u8],
    ) -> Result<String, HostError> {
        self.begin()?;
        let (ptr, len) = self.write_input(request, 0)?;
        let packed = call!(self.bundle_evaluate, (handle, ptr, len))?;
        self.take_response(packed)
    }

    /// `entitle_bundle_load_license`: a license kept in a loaded bundle.
    pub(crate) fn bundle_load_license(
        &mut self,
        handle: u32,
        license: &[u8],
    ) -> Result<String, HostError> {
        self.begin()?;
        let (ptr, len) = self.write_input(license, 0)?;
        let packed = call!(self.bundle_load_license, (handle, ptr, len))?;
        self.take_response(packed)
    }

    /// `entitle_bundle_unload_license`: whether the license was loaded.
    pub(crate) fn bundle_unload_license(
        &mut self,
        handle: u32,
        id: &str,
    ) -> Result<bool, HostError> {
        self.begin()?;
        let (ptr, len) = self.write_input(id.as_bytes(), 0)?;
        let unloaded = call!(self.bundle_unload_license, (handle, ptr, len))?;
        self.trim_scratch()?;
        Ok(unloaded != 0)
    }

    /// `entitle_bundle_free`.
    pub(crate) fn bundle_free(&mut self, handle: u32) -> Result<(), HostError> {
        self.begin()?;
        call!(self.bundle_free, handle)
    }

    /// `entitle_compact_resolve`: the handle (`0` when refused) and the
    /// envelope describing the compiled check, or its errors.
    pub(crate) fn compact_resolve(
        &mut self,
        bundle: u32,
        license: &str,
        name: &str,
        kind: entitle_core::CheckKind,
    ) -> Result<(u32, String), HostError> {
        let Some(resolve) = self.compact_resolve.clone() else {
            return Ok((
                0,
                entitle_core::api::not_json("this module has no compact check: ask the JSON entry"),
            ));
        };
        self.begin()?;
        let mut both = Vec::with_capacity(license.len().saturating_add(name.len()));
        both.extend_from_slice(license.as_bytes());
        both.extend_from_slice(name.as_bytes());
        let too_large = || HostError::TooLarge { len: both.len() };
        let lic_len = u32::try_from(license.len()).map_err(|_| too_large())?;
        let (ptr, len) = self.write_input(&both, 4)?;
        let name_ptr = ptr.checked_add(lic_len).ok_or_else(too_large)?;
        let name_len = len.checked_sub(lic_len).ok_or_else(too_large)?;
        let handle_out = ptr.checked_add(len).ok_or_else(too_large)?;
        let kind = match kind {
            entitle_core::CheckKind::Feature => 0,
            entitle_core::CheckKind::Consume => 1,
        };
        let packed = resolve
            .call(
                &mut self.store,
                (bundle, ptr, lic_len, name_ptr, name_len, kind, handle_out),
            )
            .map_err(|error| {
                self.poisoned = true;
                call_error(&error, self.timeout_millis)
            })?;
        let handle = self.read_handle(handle_out)?;
        let envelope = self.take_response(packed)?;
        Ok((handle, envelope))
    }

    /// Writes an ask into the compact buffer (allocated the first time);
    /// where the ask and the answer sit.
    fn compact_ask(
        &mut self,
        ask: &[u8; entitle_core::ASK_BYTES],
    ) -> Result<(u32, u32), HostError> {
        const BYTES: usize = entitle_core::ASK_BYTES + entitle_core::ANSWER_BYTES;
        if self.compact_buffer == 0 {
            let ptr = call!(self.alloc, BYTES as u32)?;
            if ptr == 0 {
                return Err(HostError::AllocFailed { len: BYTES });
            }
            self.compact_buffer = ptr;
        }
        let ask_ptr = self.compact_buffer;
        let answer_ptr = ask_ptr.saturating_add(entitle_core::ASK_BYTES as u32);
        self.memory
            .write(&mut self.store, ask_ptr as usize, ask)
            .map_err(|_| compact_outside("ask"))?;
        Ok((ask_ptr, answer_ptr))
    }

    /// `entitle_compact_check_json`: the module's status, the answer record
    /// when it answered, and the JSON envelope of the same check. A module
    /// without the export answers through `entitle_compact_check`, with no
    /// envelope.
    pub(crate) fn compact_check_json(
        &mut self,
        handle: u32,
        ask: &[u8; entitle_core::ASK_BYTES],
    ) -> Result<(u32, [u8; entitle_core::ANSWER_BYTES], Option<String>), HostError> {
        let Some(check) = self.compact_check_json.clone() else {
            let (status, answer) = self.compact_check(handle, ask)?;
            return Ok((status, answer, None));
        };
        let mut answer = [0u8; entitle_core::ANSWER_BYTES];
        self.begin()?;
        let (ask_ptr, answer_ptr) = self.compact_ask(ask)?;
        let packed = check
            .call(&mut self.store, (handle, ask_ptr, answer_ptr))
            .map_err(|error| {
                self.poisoned = true;
                call_error(&error, self.timeout_millis)
            })?;
        if packed >> 32 == 0 {
            return Ok(((packed & 0xffff_ffff) as u32, answer, None));
        }
        self.memory
            .read(&self.store, answer_ptr as usize, &mut answer)
            .map_err(|_| compact_outside("answer"))?;
        let envelope = self.take_response(packed)?;
        Ok((0, answer, Some(envelope)))
    }

    /// `entitle_compact_check`: the module's status and, when it answered,
    /// the answer record.
    pub(crate) fn compact_check(
        &mut self,
        handle: u32,
        ask: &[u8; entitle_core::ASK_BYTES],
    ) -> Result<(u32, [u8; entitle_core::ANSWER_BYTES]), HostError> {
        let mut answer = [0u8; entitle_core::ANSWER_BYTES];
        // Without the export, every check asks the JSON entry (status 2).
        let Some(check) = self.compact_check.clone() else {
            return Ok((2, answer));
        };
        self.begin()?;
        let (ask_ptr, answer_ptr) = self.compact_ask(ask)?;
        let status = check
            .call(&mut self.store, (handle, ask_ptr, answer_ptr))
            .map_err(|error| {
                self.poisoned = true;
                call_error(&error, self.timeout_millis)
            })?;
        if status == 0 {
            self.memory
                .read(&self.store, answer_ptr as usize, &mut answer)
                .map_err(|_| compact_outside("answer"))?;
        }
        Ok((status, answer))
    }
}

fn compact_outside(what: &str) -> HostError {
    HostError::BadResponse {
        detail: format!("a compact {what} outside its memory"),
    }
}
