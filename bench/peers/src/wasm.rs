//! `dist/entitle.wasm` driven directly through wasmtime, for the byte-ABI
//! calls `entitle-host`'s wrapper does not expose. Configured as the host
//! configures its engine (reference types, typed function references, epoch
//! interruption with a deadline set before every call), every import linked
//! as a trap, one instance reused, the bundle and licenses loaded once.
//! Besides the JSON entry it makes the compact calls (wasm/ABI.md):
//! `entitle_compact_resolve` once per license and feature, then
//! `entitle_compact_check` with a 64-byte ask and a 136-byte answer written
//! in buffers allocated once.

use entitle_core::{ANSWER_BYTES, ASK_BYTES};
use wasmtime::{Config, Engine, ExternType, Linker, Memory, Module, Store, TypedFunc};

/// Epoch ticks each call may run: the host sets a deadline before every
/// call; nothing advances the epoch here, so any value is never reached.
const TICKS: u64 = 1 << 40;

/// `entitle_compact_resolve(bundle, lic_ptr, lic_len, name_ptr, name_len,
/// kind, handle_out) -> response`.
type CompactResolve = TypedFunc<(u32, u32, u32, u32, u32, u32, u32), u64>;

/// One instance with the bundle and licenses loaded.
pub struct RawInstance {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    bundle_evaluate: TypedFunc<(u32, u32, u32), u64>,
    /// `None` in a module built before the compact check (a baseline).
    compact_resolve: Option<CompactResolve>,
    compact_check: Option<TypedFunc<(u32, u32, u32), u32>>,
    /// The ask and answer records' buffer: the ask at `records`, the answer
    /// right after it.
    records: u32,
    /// The bundle's handle.
    pub handle: u32,
    /// The input buffer, reused: (ptr, capacity).
    scratch: (u32, u32),
}

impl RawInstance {
    /// Compiles `dist/entitle.wasm`, instantiates it, loads the bundle and
    /// the licenses (each must load).
    pub fn new(bundle: &[u8], licenses: &[Vec<u8>]) -> RawInstance {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist/entitle.wasm");
        RawInstance::of_module(path, bundle, licenses)
    }

    /// [`RawInstance::new`] for the module at `path`: a baseline built from
    /// an earlier commit, whose JSON entry is timed beside today's in the
    /// same run. Compact calls need a module that has them.
    pub fn of_module(path: &str, bundle: &[u8], licenses: &[Vec<u8>]) -> RawInstance {
        let bytes = std::fs::read(path).expect("run `cargo xtask build-wasm` first");
        let mut config = Config::new();
        config
            .wasm_reference_types(true)
            .wasm_function_references(true)
            .epoch_interruption(true);
        if std::env::var_os("PEERS_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &bytes).unwrap();
        let mut linker: Linker<()> = Linker::new(&engine);
        for import in module.imports() {
            let ExternType::Func(ty) = import.ty() else {
                panic!("a non-function import `{}`", import.name());
            };
            let name = format!("{}.{}", import.module(), import.name());
            linker
                .func_new(import.module(), import.name(), ty, move |_, _, _| {
                    Err(wasmtime::Error::msg(format!("import `{name}` called")))
                })
                .unwrap();
        }
        let mut store = Store::new(&engine, ());
        store.set_epoch_deadline(TICKS);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let mut raw = RawInstance {
            alloc: instance
                .get_typed_func(&mut store, "entitle_alloc")
                .unwrap(),
            free: instance.get_typed_func(&mut store, "entitle_free").unwrap(),
            bundle_evaluate: instance
                .get_typed_func(&mut store, "entitle_bundle_evaluate")
                .unwrap(),
            compact_resolve: instance
                .get_typed_func(&mut store, "entitle_compact_resolve")
                .ok(),
            compact_check: instance
                .get_typed_func(&mut store, "entitle_compact_check")
                .ok(),
            records: 0,
            store,
            memory,
            handle: 0,
            scratch: (0, 0),
        };
        let load: TypedFunc<(u32, u32, u32), u64> = instance
            .get_typed_func(&mut raw.store, "entitle_bundle_load")
            .unwrap();
        let (ptr, len) = raw.write(bundle, 4);
        let answer = load.call(&mut raw.store, (ptr, len, ptr + len)).unwrap();
        let answer = raw.response(answer);
        assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
        raw.handle = raw.read_u32(ptr + len);
        let load_license: TypedFunc<(u32, u32, u32), u64> = instance
            .get_typed_func(&mut raw.store, "entitle_bundle_load_license")
            .unwrap();
        for license in licenses {
            let (ptr, len) = raw.write(license, 0);
            let answer = load_license
                .call(&mut raw.store, (raw.handle, ptr, len))
                .unwrap();
            let answer = raw.response(answer);
            assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
        }
        let records = u32::try_from(ASK_BYTES + ANSWER_BYTES).unwrap();
        raw.records = raw.alloc.call(&mut raw.store, records).unwrap();
        assert_ne!(raw.records, 0);
        raw
    }

    /// `entitle_compact_resolve`: the handle of the loaded license `license`
    /// compiled for `name`, a feature (`kind` 0) or a metric (`kind` 1).
    pub fn compact_resolve(&mut self, license: &str, name: &str, kind: u32) -> u32 {
        let text = format!("{license}{name}");
        let (ptr, _) = self.write(text.as_bytes(), 4);
        let (lic_len, name_len) = (license.len() as u32, name.len() as u32);
        let out = ptr + lic_len + name_len;
        let answer = self
            .compact_resolve
            .as_ref()
            .expect("a module with the compact check")
            .call(
                &mut self.store,
                (
                    self.handle,
                    ptr,
                    lic_len,
                    ptr + lic_len,
                    name_len,
                    kind,
                    out,
                ),
            )
            .unwrap();
        let answer = self.response(answer);
        assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
        let handle = self.read_u32(out);
        assert_ne!(handle, 0);
        handle
    }

    /// `entitle_compact_check`: writes the ask, calls, and reads the answer
    /// record; the status (`0`: answered) and the record.
    pub fn compact_check(
        &mut self,
        handle: u32,
        ask: &[u8; ASK_BYTES],
    ) -> (u32, [u8; ANSWER_BYTES]) {
        self.store.set_epoch_deadline(TICKS);
        let (ask_at, answer_at) = (self.records, self.records + ASK_BYTES as u32);
        self.memory
            .write(&mut self.store, ask_at as usize, ask)
            .unwrap();
        let status = self
            .compact_check
            .as_ref()
            .expect("a module with the compact check")
            .call(&mut self.store, (handle, ask_at, answer_at))
            .unwrap();
        let mut answer = [0u8; ANSWER_BYTES];
        self.memory
            .read(&self.store, answer_at as usize, &mut answer)
            .unwrap();
        (status, answer)
    }

    /// A request (naming no bundle) against the bundle: the answer's bytes.
    pub fn evaluate(&mut self, request: &[u8]) -> String {
        self.store.set_epoch_deadline(TICKS);
        let (ptr, len) = self.write(request, 0);
        let answer = self
            .bundle_evaluate
            .call(&mut self.store, (self.handle, ptr, len))
            .unwrap();
        self.response(answer)
    }

    /// Copies `bytes` into the input buffer (growing it if need be) with
    /// `extra` bytes after them.
    fn write(&mut self, bytes: &[u8], extra: u32) -> (u32, u32) {
        let len = u32::try_from(bytes.len()).unwrap();
        if self.scratch.1 < len + extra {
            if self.scratch.1 > 0 {
                self.free
                    .call(&mut self.store, (self.scratch.0, self.scratch.1))
                    .unwrap();
            }
            let capacity = (len + extra).max(4096);
            let ptr = self.alloc.call(&mut self.store, capacity).unwrap();
            assert_ne!(ptr, 0);
            self.scratch = (ptr, capacity);
        }
        let ptr = self.scratch.0;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .unwrap();
        (ptr, len)
    }

    fn read_u32(&self, ptr: u32) -> u32 {
        let mut bytes = [0u8; 4];
        self.memory
            .read(&self.store, ptr as usize, &mut bytes)
            .unwrap();
        u32::from_le_bytes(bytes)
    }

    /// Copies a response out and frees it.
    fn response(&mut self, packed: u64) -> String {
        let (ptr, len) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as u32);
        let mut bytes = vec![0u8; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut bytes)
            .unwrap();
        self.free.call(&mut self.store, (ptr, len)).unwrap();
        String::from_utf8(bytes).unwrap()
    }
}
