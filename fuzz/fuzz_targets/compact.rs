//! The compact check against the JSON check, on the example bundle with its
//! license loaded: the first byte picks the feature or metric (and, with its
//! top bit, a consuming check), the next 64 are the ask record. Whatever the
//! bytes, the compact check must not panic, and must be exactly the
//! projection of the JSON answer to the same request, or refuse where the
//! JSON check refuses.
#![no_main]

use std::sync::OnceLock;

use entitle_core::{
    CheckAnswer, CheckKind, CompactAnswer, CompactAsk, CompactRefusal, CompiledCheck, Envelope,
    LoadedBundle, ASK_BYTES,
};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

mod answer;

const NAMES: [&str; 5] = [
    "api_calls",
    "storage_gb",
    "sso",
    "audit_log",
    "priority_support",
];
const LICENSE: &str = "lic_7Q2M9";

struct Loaded {
    bundle: LoadedBundle,
    /// Feature checks of every name, then consuming checks of the metrics.
    compiled: Vec<CompiledCheck>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let example = |name: &str| {
            std::fs::read(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR")))
                .unwrap_or_default()
        };
        let mut bundle = match LoadedBundle::load(&example("bundle.json")) {
            Ok(loaded) => loaded,
            Err(envelope) => panic!("the example bundle does not load: {envelope}"),
        };
        bundle.load_license(&example("license.json"));
        let mut compiled = Vec::new();
        for (name, kind) in NAMES
            .iter()
            .map(|n| (n, CheckKind::Feature))
            .chain(NAMES[..2].iter().map(|n| (n, CheckKind::Consume)))
        {
            match bundle.compile(LICENSE, name, kind) {
                Ok(c) => compiled.push(c),
                Err(e) => panic!("the example license does not compile for {name}: {e}"),
            }
        }
        Loaded { bundle, compiled }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let loaded = loaded();
    let index = usize::from(selector & 0x7f) % NAMES.len();
    let consume = selector & 0x80 != 0 && index < 2;
    let compiled = &loaded.compiled[if consume { NAMES.len() + index } else { index }];
    let mut record = [0u8; ASK_BYTES];
    let n = rest.len().min(ASK_BYTES);
    record[..n].copy_from_slice(&rest[..n]);
    let Some(ask) = CompactAsk::read(&record) else {
        return;
    };
    let compact = compiled.check(&ask);
    if !consume && ask.amount != 0 {
        assert_eq!(compact, Err(CompactRefusal::AmountOnFeatureCheck));
        return;
    }
    let name = NAMES[index];
    let mut request = json!({"op": "check", "license": LICENSE, "now": ask.now.to_string()});
    if consume {
        request["metric"] = json!(name);
        request["amount"] = json!(ask.amount);
    } else {
        request["feature"] = json!(name);
    }
    if ask.used != 0 || ask.soft_exceeded_at.is_some() || ask.period_start.is_some() {
        let mut counted = json!({"used": ask.used});
        if let Some(at) = ask.soft_exceeded_at {
            counted["soft_exceeded_at"] = json!(at.to_string());
        }
        if let Some(at) = ask.period_start {
            counted["period_start"] = json!(at.to_string());
        }
        request["usage"] = json!({"metrics": {name: counted}});
    }
    let text = loaded.bundle.evaluate(request.to_string().as_bytes());
    answer::assert_envelope(&text);
    let envelope: Envelope<'_, CheckAnswer> = match serde_json::from_str(&text) {
        Ok(envelope) => envelope,
        Err(e) => panic!("a check answer that does not read back: {e}: {text}"),
    };
    match (envelope.result(), compact) {
        (Some(answer), Ok(compact)) => {
            let projected = CompactAnswer::project(answer, compiled.bases());
            assert_eq!(projected, Some(compact), "{request}");
        }
        (None, Err(_)) => {}
        (Some(answer), Err(refusal)) => {
            panic!("{request}: compact refused ({refusal:?}) where JSON answered {answer:?}")
        }
        (None, Ok(compact)) => {
            panic!("{request}: compact answered {compact:?} where JSON refused: {text}")
        }
    }
});
