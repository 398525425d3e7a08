//! The wasm-bindgen API, for JavaScript (browsers and Node through the one
//! `dist/entitle.js` glue).
//!
//! ```js
//! import init, { version, evaluate, evaluateJson, Bundle } from "./entitle.js";
//! await init({ module_or_path: wasmBytesOrUrl });
//! version();                          // { engine: "0.1.0", abi: 1 }
//! ops();                              // [{ op: "check", accepts: [...], requires: [...], license, now, section }, ...]
//! evaluate({ op: "check", bundle, license, usage, now, feature: "sso" }); // envelope object
//! evaluateJson('{"op":"check",...}'); // envelope JSON text, byte-identical to every other host
//! const b = new Bundle(bundleJsonText); // throws Error(message = error envelope JSON)
//! const s = Bundle.loadSigned(envelopeJsonText, keySetJsonText); // a signed bundle; licenses must then be signed too
//! b.describe();                       // envelope object describing the bundle
//! b.evaluate({ op: "check", license, usage, now, feature: "sso" });
//! b.evaluateJson('{"op":"check",...}');
//! b.loadLicense(license);             // then requests may say license: "<id>"
//! b.unloadLicense("<id>");            // true if it was loaded
//! b.free();                           // optional: release it before the GC does
//! ```
//!
//! `evaluate*` never throw: bad input of any kind is answered with the error
//! envelope. A request object is read through serde-wasm-bindgen (a value
//! JSON cannot hold is refused, not dropped); answers come back through
//! `JSON.parse`; both keep key order. `evaluateJson` is the byte-exact path.

use entitle_core::api::{self, LoadedBundle};
use entitle_core::{CheckKind, CompactAsk, CompiledCheck, ASK_BYTES};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The engine and ABI versions compiled into this module.
#[derive(Serialize)]
struct Version {
    engine: &'static str,
    abi: u32,
}

/// `{ engine, abi }`: the engine version and the byte ABI version.
#[wasm_bindgen]
pub fn version() -> JsValue {
    let version = Version {
        engine: api::ENGINE_VERSION,
        abi: api::ABI_VERSION,
    };
    to_js(&serde_json::to_string(&version).unwrap_or_default())
}

/// The operation table: one object per operation a request may name, with
/// the fields it `accepts` and `requires`, whether it takes a `license` and a
/// `now` (`required`, `optional`, `never`) and the bundle `section` it needs.
/// The page and the packages read it instead of keeping their own list.
#[wasm_bindgen]
pub fn ops() -> JsValue {
    to_js(&entitle_core::api::op::table_json())
}

/// Evaluates a self-contained request object (the bundle travels inside it)
/// and returns the envelope as an object. Never throws.
#[wasm_bindgen]
pub fn evaluate(request: JsValue) -> JsValue {
    let answer = match to_json(request) {
        Ok(bytes) => api::evaluate(&bytes),
        Err(envelope) => envelope,
    };
    to_js(&answer)
}

/// Evaluates a self-contained request given as JSON text and returns the
/// envelope as JSON text: the byte-exact path. Never throws.
#[wasm_bindgen(js_name = evaluateJson)]
pub fn evaluate_json(request: &str) -> String {
    api::evaluate(request.as_bytes())
}

/// A bundle parsed and validated once, then evaluated against many times.
#[wasm_bindgen]
pub struct Bundle {
    loaded: LoadedBundle,
}

#[wasm_bindgen]
impl Bundle {
    /// Loads a bundle from its JSON text. Throws an `Error` whose message is
    /// the error envelope JSON when the bundle is rejected.
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &str) -> Result<Bundle, JsError> {
        match LoadedBundle::load(bundle.as_bytes()) {
            Ok(loaded) => Ok(Bundle { loaded }),
            Err(envelope) => Err(JsError::new(&envelope)),
        }
    }

    /// Verifies a signed bundle (an `entitle-signed/1` envelope, JSON text)
    /// against a key set (JSON text) and loads it, keeping the key set:
    /// licenses loaded into it, or sent in requests to it, must then be
    /// signed by one of its keys. Throws an `Error` whose message is the
    /// error envelope JSON when the envelope or the bundle is rejected.
    #[wasm_bindgen(js_name = loadSigned)]
    pub fn load_signed(envelope: &str, keys: &str) -> Result<Bundle, JsError> {
        match LoadedBundle::load_signed(envelope.as_bytes(), keys.as_bytes()) {
            Ok(loaded) => Ok(Bundle { loaded }),
            Err(envelope) => Err(JsError::new(&envelope)),
        }
    }

    /// The success envelope describing the bundle, as an object.
    pub fn describe(&self) -> JsValue {
        to_js(&self.loaded.describe())
    }

    /// The success envelope describing the bundle, as JSON text.
    #[wasm_bindgen(js_name = describeJson)]
    pub fn describe_json(&self) -> String {
        self.loaded.describe()
    }

    /// Loads a license object into the bundle, so that requests may name it
    /// by id (`license: "<id>"`); returns `{license, loaded}` or the errors
    /// as an envelope object. Never throws.
    #[wasm_bindgen(js_name = loadLicense)]
    pub fn load_license(&mut self, license: JsValue) -> JsValue {
        let answer = match to_json(license) {
            Ok(bytes) => self.loaded.load_license(&bytes),
            Err(envelope) => envelope,
        };
        to_js(&answer)
    }

    /// Loads a license given as JSON text; the envelope as JSON text.
    #[wasm_bindgen(js_name = loadLicenseJson)]
    pub fn load_license_json(&mut self, license: &str) -> String {
        self.loaded.load_license(license.as_bytes())
    }

    /// Forgets a loaded license; whether it was loaded.
    #[wasm_bindgen(js_name = unloadLicense)]
    pub fn unload_license(&mut self, id: &str) -> bool {
        self.loaded.unload_license(id)
    }

    /// Evaluates a request object that names no `bundle`. Never throws.
    pub fn evaluate(&self, request: JsValue) -> JsValue {
        let answer = match to_json(request) {
            Ok(bytes) => self.loaded.evaluate(&bytes),
            Err(envelope) => envelope,
        };
        to_js(&answer)
    }

    /// Evaluates a request given as JSON text that names no `bundle`; the
    /// byte-exact path. Never throws.
    #[wasm_bindgen(js_name = evaluateJson)]
    pub fn evaluate_json(&self, request: &str) -> String {
        self.loaded.evaluate(request.as_bytes())
    }

    /// Compiles a loaded license for compact checks of one feature
    /// (`kind` 0) or metric (`kind` 1) (wasm/ABI.md, "The compact check").
    /// Throws an `Error` whose message is the error envelope JSON when the
    /// license is not loaded or the name does not fit the kind. Compile
    /// again after the license is loaded anew.
    pub fn compile(&self, license: &str, name: &str, kind: u32) -> Result<CompactCheck, JsError> {
        let kind = match kind {
            0 => CheckKind::Feature,
            1 => CheckKind::Consume,
            _ => {
                return Err(JsError::new(&entitle_core::api::not_json(
                    "`kind` is 0 (a feature check) or 1 (a consuming check)",
                )))
            }
        };
        match self.loaded.compile_json(license, name, kind) {
            Ok((compiled, described)) => Ok(CompactCheck {
                compiled,
                described,
            }),
            Err(envelope) => Err(JsError::new(&envelope)),
        }
    }
}

/// A license compiled for compact checks of one feature or metric.
#[wasm_bindgen]
pub struct CompactCheck {
    compiled: CompiledCheck,
    described: String,
}

#[wasm_bindgen]
impl CompactCheck {
    /// The success envelope describing it: `bases` and `reasons`, what the
    /// answer record's bits stand for; JSON text.
    #[wasm_bindgen(js_name = describeJson)]
    pub fn describe_json(&self) -> String {
        self.described.clone()
    }

    /// The compact check: a 64-byte ask record in, the 136-byte answer
    /// record out; `undefined` when these inputs need the JSON entry
    /// (`evaluateJson` of the same check answers them in full). Never throws.
    pub fn check(&self, ask: &[u8]) -> Option<Vec<u8>> {
        let ask: &[u8; ASK_BYTES] = ask.try_into().ok()?;
        let ask = CompactAsk::read(ask)?;
        self.compiled.check(&ask).ok().map(|a| a.write().to_vec())
    }
}

/// Writes a JS value as JSON bytes, keeping the object's key order. A value
/// JSON cannot hold (a symbol, a function, a `Map` with non-string keys, a
/// `BigInt` beyond 64 bits) is answered with an error envelope.
fn to_json(value: JsValue) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let deserializer = serde_wasm_bindgen::Deserializer::from(value);
    let mut serializer = serde_json::Serializer::new(&mut bytes);
    match serde_transcode::transcode(deserializer, &mut serializer) {
        Ok(()) => Ok(bytes),
        Err(error) => {
            let detail = error.to_string();
            Err(api::not_json(
                detail.strip_prefix("Error: ").unwrap_or(&detail),
            ))
        }
    }
}

/// Turns JSON text from core (an envelope, a table) into a JS value with
/// the engine's own `JSON.parse`: key order kept, integers beyond 2^53
/// rounded as any JS reader of the text would round them. Text it cannot
/// parse (there is none) would be returned as the string itself.
fn to_js(envelope: &str) -> JsValue {
    js_sys::JSON::parse(envelope).unwrap_or_else(|_| JsValue::from_str(envelope))
}
