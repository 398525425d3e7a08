//! The JSON entry against the example bundle with its license loaded, as
//! the gateway calls it: any bytes as a request.
#![no_main]

use std::sync::OnceLock;

use entitle_core::LoadedBundle;
use libfuzzer_sys::fuzz_target;

mod answer;

fn loaded() -> &'static LoadedBundle {
    static LOADED: OnceLock<LoadedBundle> = OnceLock::new();
    LOADED.get_or_init(|| {
        let example = |name: &str| {
            std::fs::read(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR")))
                .unwrap_or_default()
        };
        let mut loaded = match LoadedBundle::load(&example("bundle.json")) {
            Ok(loaded) => loaded,
            Err(envelope) => panic!("the example bundle does not load: {envelope}"),
        };
        loaded.load_license(&example("license.json"));
        loaded
    })
}

fuzz_target!(|data: &[u8]| {
    answer::assert_envelope(&loaded().evaluate(data));
});
