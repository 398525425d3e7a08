//! The plain byte ABI: JSON bytes in, JSON bytes out, for any host that can
//! call a WebAssembly export and read its linear memory (wasmtime, wasmer, a
//! browser without the JS glue, ...).
//!
//! Nothing reachable from these exports calls an import, so a host may link
//! every import of the module (they all belong to the wasm-bindgen glue) as a
//! function that traps and still use the whole ABI.
//!
//! # Exports
//!
//! All integers are wasm `i32`/`i64` read as unsigned. A *response* is a `u64`
//! packing a pointer and a length: `(ptr << 32) | len`. Every response is a
//! UTF-8 JSON envelope, `{"outcome":"ok",...}` or `{"outcome":"error","errors":[...]}`,
//! written into a fresh allocation that the caller owns and releases with
//! `entitle_free(ptr, len)`.
//!
//! | export | signature | what it does |
//! | --- | --- | --- |
//! | `entitle_abi_version` | `() -> u32` | the ABI version; a host refuses a module whose version it does not know |
//! | `entitle_version` | `() -> u64` | response `{"engine":"<engine version>","abi":<abi version>}` |
//! | `entitle_alloc` | `(len: u32) -> u32` | allocates `len` bytes for the caller to write into; returns `0` when memory is exhausted; `len == 0` returns a non-zero pointer that must not be written |
//! | `entitle_free` | `(ptr: u32, len: u32)` | releases an allocation made by `entitle_alloc` or a response, with the same length; `len == 0` does nothing |
//! | `entitle_evaluate` | `(ptr: u32, len: u32) -> u64` | evaluates a self-contained request (the bundle travels inside it) |
//! | `entitle_bundle_load` | `(ptr: u32, len: u32, handle_out: u32) -> u64` | parses and validates a bundle once; writes the handle as a little-endian `u32` at `handle_out` (`0` when the bundle is rejected; `handle_out == 0` skips the write) and responds with the bundle's description, or with the errors |
//! | `entitle_bundle_load_signed` | `(env_ptr: u32, env_len: u32, keys_ptr: u32, keys_len: u32, handle_out: u32) -> u64` | like `entitle_bundle_load`, for a bundle in a signed envelope verified against the key set at `keys_ptr`; the bundle keeps the key set, and takes only signed licenses |
//! | `entitle_bundle_evaluate` | `(handle: u32, ptr: u32, len: u32) -> u64` | evaluates a request that names no `bundle` against a loaded bundle; an unknown handle gets an `unknown_bundle_handle` error envelope |
//! | `entitle_bundle_load_license` | `(handle: u32, ptr: u32, len: u32) -> u64` | parses and validates a license against a loaded bundle and keeps it there, so requests may name it by id (`"license":"<id>"`); responds `{"license":id,"loaded":n}` or the errors |
//! | `entitle_bundle_unload_license` | `(handle: u32, ptr: u32, len: u32) -> u32` | forgets the license whose id is the UTF-8 bytes at `ptr`; `1` if it was loaded, else `0` |
//! | `entitle_bundle_free` | `(handle: u32)` | forgets a loaded bundle (and its licenses); unknown handles are ignored |
//! | `entitle_compact_resolve` | `(bundle: u32, lic_ptr: u32, lic_len: u32, name_ptr: u32, name_len: u32, kind: u32, handle_out: u32) -> u64` | compiles a loaded license for compact checks of one feature (`kind` 0) or metric (`kind` 1); see [`compact`] |
//! | `entitle_compact_check` | `(handle: u32, ask: u32, answer: u32) -> u32` | a 64-byte ask in, a 136-byte answer out; see [`compact`] |
//! | `entitle_compact_check_json` | `(handle: u32, ask: u32, answer: u32) -> u64` | the same check, and when it answers, the JSON envelope of the same check as a response (else the status in the low half); see [`compact`] |
//!
//! # One call
//!
//! 1. `ptr = entitle_alloc(len)` and copy the request bytes to `memory[ptr..ptr + len]`
//!    (`handle_out` for `entitle_bundle_load` is 4 bytes obtained the same way).
//! 2. `r = entitle_evaluate(ptr, len)`; the input is only read, and stays the
//!    caller's: free it, or keep it to reuse for the next request of a size that fits.
//! 3. Read `len = r & 0xffff_ffff` bytes at `ptr = r >> 32`; copy them out
//!    before the next call, which may grow (and so move) the host's view of memory.
//! 4. `entitle_free(r >> 32, r & 0xffff_ffff)`.
//!
//! Handles count up from 1 and are not reused before 2^32 - 1 loads, so a
//! freed handle keeps answering `unknown_bundle_handle` instead of reaching
//! another bundle. Bad input of any kind (invalid UTF-8, bad JSON, a wrong field) is
//! answered with an error envelope, never a trap. A trap means the instance
//! ran out of memory, or the host interrupted it: throw the instance away.
//!
//! The safe core of each export lives in [`calls`], which the rest of the crate
//! and native tests use; the `extern "C"` layer (wasm32 only) only moves bytes.

#![allow(unsafe_code)]

pub mod compact;

/// The safe half of the ABI: the handle table and the byte-level calls,
/// independent of where the bytes live.
pub mod calls {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, PoisonError};

    use entitle_core::api::{self, LoadedBundle};

    /// Loaded bundles by handle; handle `0` is never issued.
    struct Table {
        next: u32,
        bundles: BTreeMap<u32, LoadedBundle>,
    }

    static TABLE: Mutex<Table> = Mutex::new(Table {
        next: 1,
        bundles: BTreeMap::new(),
    });

    fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> R {
        let mut guard = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// `{"engine":"<engine version>","abi":<abi version>}`.
    pub fn version() -> String {
        format!(
            r#"{{"engine":{},"abi":{}}}"#,
            serde_json::Value::from(api::ENGINE_VERSION),
            api::ABI_VERSION
        )
    }

    /// The operation table as JSON: one object per operation with `op`,
    /// `accepts`, `requires`, `license`, `now` and `section`.
    pub fn ops() -> String {
        entitle_core::api::op::table_json()
    }

    /// Evaluates a self-contained request.
    pub fn evaluate(request: &[u8]) -> String {
        api::evaluate(request)
    }

    /// Loads a bundle; returns its handle (`0` when rejected) and the envelope.
    pub fn bundle_load(bundle: &[u8]) -> (u32, String) {
        keep(LoadedBundle::load(bundle))
    }

    /// Verifies a signed bundle against a key set and loads it, keeping the
    /// key set; returns its handle (`0` when rejected) and the envelope.
    pub fn bundle_load_signed(envelope: &[u8], keys: &[u8]) -> (u32, String) {
        keep(LoadedBundle::load_signed(envelope, keys))
    }

    /// Puts a loaded bundle in the table under a new handle.
    fn keep(loaded: Result<LoadedBundle, String>) -> (u32, String) {
        match loaded {
            Ok(loaded) => {
                let describe = loaded.describe();
                let handle = with_table(|table| {
                    let mut handle = table.next;
                    // Skip 0 and any handle still in use after a wrap-around.
                    while handle == 0 || table.bundles.contains_key(&handle) {
                        handle = handle.wrapping_add(1);
                    }
                    table.next = handle.wrapping_add(1);
                    table.bundles.insert(handle, loaded);
                    handle
                });
                (handle, describe)
            }
            Err(envelope) => (0, envelope),
        }
    }

    /// Evaluates a request against the bundle loaded under `handle`.
    pub fn bundle_evaluate(handle: u32, request: &[u8]) -> String {
        with_table(|table| match table.bundles.get(&handle) {
            Some(loaded) => loaded.evaluate(request),
            None => api::unknown_bundle_handle(handle),
        })
    }

    /// Loads a license into the bundle under `handle`.
    pub fn bundle_load_license(handle: u32, license: &[u8]) -> String {
        let envelope = with_table(|table| match table.bundles.get_mut(&handle) {
            Some(loaded) => loaded.load_license(license),
            None => api::unknown_bundle_handle(handle),
        });
        // A license loaded anew makes its compiled checks stale.
        let loaded = serde_json::from_str::<serde_json::Value>(&envelope);
        if let Some(id) = loaded
            .ok()
            .filter(|e| e.get("outcome").and_then(|o| o.as_str()) == Some("ok"))
            .and_then(|e| e.get("result").and_then(|r| r.get("license")).cloned())
            .and_then(|id| id.as_str().map(str::to_string))
        {
            super::compact::calls::forget(handle, Some(&id));
        }
        envelope
    }

    /// Forgets the license `id` (UTF-8 bytes) in the bundle under `handle`;
    /// whether it was loaded.
    pub fn bundle_unload_license(handle: u32, id: &[u8]) -> bool {
        let Ok(id) = std::str::from_utf8(id) else {
            return false;
        };
        let unloaded = with_table(|table| {
            table
                .bundles
                .get_mut(&handle)
                .is_some_and(|loaded| loaded.unload_license(id))
        });
        super::compact::calls::forget(handle, Some(id));
        unloaded
    }

    /// Forgets the bundle loaded under `handle`; unknown handles are ignored.
    pub fn bundle_free(handle: u32) {
        with_table(|table| table.bundles.remove(&handle));
        super::compact::calls::forget(handle, None);
    }

    /// Runs `f` on the bundle under `handle`; `None` when there is none.
    pub(crate) fn with_bundle<R>(handle: u32, f: impl FnOnce(&LoadedBundle) -> R) -> Option<R> {
        with_table(|table| table.bundles.get(&handle).map(f))
    }

    /// How many bundles are loaded (for tests and diagnostics).
    pub fn bundles_loaded() -> usize {
        with_table(|table| table.bundles.len())
    }
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use std::alloc::{alloc, dealloc, Layout};
    use std::ptr::NonNull;

    use super::calls;

    /// Reads the caller's input; a zero length never dereferences `ptr`.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be memory the caller obtained from `entitle_alloc`
    /// (or otherwise owns) and initialised; it is only read during the call.
    pub(super) unsafe fn input<'a>(ptr: u32, len: u32) -> &'a [u8] {
        if len == 0 || ptr == 0 {
            return &[];
        }
        // SAFETY: the caller guarantees `ptr..ptr + len` is initialised memory
        // of this instance that nothing writes during the call (see above).
        unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
    }

    /// Hands a response to the caller as `(ptr << 32) | len`.
    pub(super) fn respond(response: String) -> u64 {
        let bytes = response.into_bytes().into_boxed_slice();
        let len = bytes.len() as u64;
        let ptr = Box::into_raw(bytes) as *mut u8 as usize as u64;
        (ptr << 32) | len
    }

    /// The ABI version.
    #[no_mangle]
    pub extern "C" fn entitle_abi_version() -> u32 {
        entitle_core::api::ABI_VERSION
    }

    /// `{"engine":..., "abi":...}` as a response.
    #[no_mangle]
    pub extern "C" fn entitle_version() -> u64 {
        respond(calls::version())
    }

    /// The operation table (see `calls::ops`) as a response.
    #[no_mangle]
    pub extern "C" fn entitle_ops() -> u64 {
        respond(calls::ops())
    }

    /// Allocates `len` bytes for the caller; `0` when memory is exhausted.
    #[no_mangle]
    pub extern "C" fn entitle_alloc(len: u32) -> u32 {
        if len == 0 {
            return NonNull::<u8>::dangling().as_ptr() as usize as u32;
        }
        match Layout::from_size_align(len as usize, 1) {
            // SAFETY: the layout has a non-zero size, as `alloc` requires.
            Ok(layout) => unsafe { alloc(layout) as usize as u32 },
            Err(_) => 0,
        }
    }

    /// Releases `len` bytes at `ptr`, from `entitle_alloc` or a response.
    ///
    /// # Safety
    /// `ptr` and `len` must be exactly those of one live allocation returned
    /// by `entitle_alloc` or packed in a response, released only once.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_free(ptr: u32, len: u32) {
        if len == 0 || ptr == 0 {
            return;
        }
        if let Ok(layout) = Layout::from_size_align(len as usize, 1) {
            // SAFETY: per the contract above, `ptr` came from the global
            // allocator with this very layout (`alloc` with size `len` and
            // align 1, or a `Box<[u8]>` of length `len`, whose layout is the same).
            unsafe { dealloc(ptr as usize as *mut u8, layout) }
        }
    }

    /// Evaluates a self-contained request.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be initialised memory the caller owns.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_evaluate(ptr: u32, len: u32) -> u64 {
        // SAFETY: forwarded from this function's contract.
        let request = unsafe { input(ptr, len) };
        respond(calls::evaluate(request))
    }

    /// Loads a bundle and writes its handle (`0` when rejected) at `handle_out`.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be initialised memory the caller owns, and
    /// `handle_out..handle_out + 4` writable memory the caller owns (or `0`
    /// to skip writing the handle).
    #[no_mangle]
    pub unsafe extern "C" fn entitle_bundle_load(ptr: u32, len: u32, handle_out: u32) -> u64 {
        // SAFETY: forwarded from this function's contract.
        let bundle = unsafe { input(ptr, len) };
        let (handle, envelope) = calls::bundle_load(bundle);
        // SAFETY: forwarded from this function's contract.
        unsafe { write_handle(handle, handle_out) };
        respond(envelope)
    }

    /// Verifies and loads a signed bundle and writes its handle (`0` when
    /// rejected) at `handle_out`.
    ///
    /// # Safety
    /// `env_ptr..env_ptr + env_len` and `keys_ptr..keys_ptr + keys_len` must
    /// be initialised memory the caller owns, and `handle_out..handle_out + 4`
    /// writable memory the caller owns (or `0` to skip writing the handle).
    #[no_mangle]
    pub unsafe extern "C" fn entitle_bundle_load_signed(
        env_ptr: u32,
        env_len: u32,
        keys_ptr: u32,
        keys_len: u32,
        handle_out: u32,
    ) -> u64 {
        // SAFETY: forwarded from this function's contract.
        let (envelope, keys) = unsafe { (input(env_ptr, env_len), input(keys_ptr, keys_len)) };
        let (handle, envelope) = calls::bundle_load_signed(envelope, keys);
        // SAFETY: forwarded from this function's contract.
        unsafe { write_handle(handle, handle_out) };
        respond(envelope)
    }

    /// Writes a handle as a little-endian `u32` at `handle_out`, unless it is `0`.
    ///
    /// # Safety
    /// `handle_out..handle_out + 4` must be writable memory the caller owns,
    /// or `handle_out` must be `0`.
    pub(super) unsafe fn write_handle(handle: u32, handle_out: u32) {
        if handle_out != 0 {
            let bytes = handle.to_le_bytes();
            // SAFETY: the caller guarantees 4 writable bytes at `handle_out`;
            // `copy_nonoverlapping` with u8 has no alignment requirement.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), handle_out as usize as *mut u8, 4);
            }
        }
    }

    /// Evaluates a request against a loaded bundle.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be initialised memory the caller owns.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_bundle_evaluate(handle: u32, ptr: u32, len: u32) -> u64 {
        // SAFETY: forwarded from this function's contract.
        let request = unsafe { input(ptr, len) };
        respond(calls::bundle_evaluate(handle, request))
    }

    /// Loads a license into a loaded bundle.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be initialised memory the caller owns.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_bundle_load_license(handle: u32, ptr: u32, len: u32) -> u64 {
        // SAFETY: forwarded from this function's contract.
        let license = unsafe { input(ptr, len) };
        respond(calls::bundle_load_license(handle, license))
    }

    /// Forgets a license of a loaded bundle: `1` if it was loaded, else `0`.
    ///
    /// # Safety
    /// `ptr..ptr + len` must be initialised memory the caller owns.
    #[no_mangle]
    pub unsafe extern "C" fn entitle_bundle_unload_license(handle: u32, ptr: u32, len: u32) -> u32 {
        // SAFETY: forwarded from this function's contract.
        let id = unsafe { input(ptr, len) };
        u32::from(calls::bundle_unload_license(handle, id))
    }

    /// Forgets a loaded bundle.
    #[no_mangle]
    pub extern "C" fn entitle_bundle_free(handle: u32) {
        calls::bundle_free(handle);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::calls;

    /// The demo bundle shipped in `examples/`.
    fn example_bundle() -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bundle.json");
        std::fs::read(path).unwrap()
    }

    #[test]
    fn handles_are_never_zero_and_never_reused() {
        let bundle = example_bundle();
        let (first, describe) = calls::bundle_load(&bundle);
        assert_ne!(first, 0, "{describe}");
        let (second, _) = calls::bundle_load(&bundle);
        assert_ne!(second, 0);
        assert_ne!(first, second);
        calls::bundle_free(first);
        let (third, _) = calls::bundle_load(&bundle);
        assert_ne!(third, first);
        let after_free = calls::bundle_evaluate(first, b"{}");
        assert_eq!(after_free, entitle_core::api::unknown_bundle_handle(first));
        calls::bundle_free(second);
        calls::bundle_free(third);
    }

    #[test]
    fn a_rejected_bundle_gets_handle_zero_and_its_errors() {
        let (handle, envelope) = calls::bundle_load(b"{");
        assert_eq!(handle, 0);
        assert_eq!(
            Err(envelope),
            entitle_core::api::LoadedBundle::load(b"{").map(|_| ())
        );
    }

    #[test]
    fn licenses_load_into_a_bundle_and_unload_by_id() {
        let bundle = example_bundle();
        let license = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/license.json"
        ))
        .unwrap();
        let (handle, _) = calls::bundle_load(&bundle);
        let mut native = entitle_core::api::LoadedBundle::load(&bundle).unwrap();
        assert_eq!(
            calls::bundle_load_license(handle, &license),
            native.load_license(&license)
        );
        let answer: serde_json::Value =
            serde_json::from_str(&calls::bundle_load_license(handle, &license)).unwrap();
        let id = answer["result"]["license"].as_str().unwrap().to_string();
        assert!(calls::bundle_unload_license(handle, id.as_bytes()));
        assert!(!calls::bundle_unload_license(handle, id.as_bytes()));
        assert!(!calls::bundle_unload_license(handle, &[0xff]));
        assert_eq!(
            calls::bundle_load_license(0, &license),
            entitle_core::api::unknown_bundle_handle(0)
        );
        calls::bundle_free(handle);
    }

    /// A file of the conformance corpus's signed fixtures.
    fn signed_fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/conformance/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    #[test]
    fn a_signed_bundle_loads_and_keeps_its_keys() {
        let envelope = signed_fixture("signature/bundle.envelope.json");
        let keys = signed_fixture("keys/keys.json");
        let (handle, describe) = calls::bundle_load_signed(&envelope, &keys);
        assert_ne!(handle, 0, "{describe}");
        assert!(describe.contains(r#""key_id":"test-only-a""#), "{describe}");
        let license = signed_fixture("signature/license.envelope.json");
        let loaded: serde_json::Value =
            serde_json::from_str(&calls::bundle_load_license(handle, &license)).unwrap();
        assert_eq!(loaded["result"]["license"], "lic-signed-1", "{loaded}");
        // A plain license is refused by a bundle loaded signed.
        let plain = signed_fixture("signature/license.payload.json");
        let refused: serde_json::Value =
            serde_json::from_str(&calls::bundle_load_license(handle, &plain)).unwrap();
        assert_eq!(refused["errors"][0]["code"], "signature_required");
        calls::bundle_free(handle);
        // An empty key set verifies nothing.
        let (zero, _) = calls::bundle_load_signed(&envelope, b"{\"keys\":[]}");
        assert_eq!(zero, 0);
    }

    #[test]
    fn unknown_handle_is_an_error_envelope() {
        let answer = calls::bundle_evaluate(0, b"{}");
        assert_eq!(answer, entitle_core::api::unknown_bundle_handle(0));
    }

    #[test]
    fn version_is_json() {
        let version: serde_json::Value = serde_json::from_str(&calls::version()).unwrap();
        assert_eq!(version["engine"], entitle_core::api::ENGINE_VERSION);
        assert_eq!(version["abi"], entitle_core::api::ABI_VERSION);
    }
}
