//! Loading documents from outside: any bytes as a bundle, then as a
//! license and a usage read against the example bundle.
#![no_main]

use std::sync::OnceLock;

use entitle_core::LoadedBundle;
use libfuzzer_sys::fuzz_target;

mod answer;

fn example() -> &'static LoadedBundle {
    static LOADED: OnceLock<LoadedBundle> = OnceLock::new();
    LOADED.get_or_init(|| {
        let path = format!("{}/../examples/bundle.json", env!("CARGO_MANIFEST_DIR"));
        match LoadedBundle::load(&std::fs::read(path).unwrap_or_default()) {
            Ok(loaded) => loaded,
            Err(envelope) => panic!("the example bundle does not load: {envelope}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    match LoadedBundle::load(data) {
        Ok(loaded) => answer::assert_envelope(&loaded.describe()),
        Err(envelope) => answer::assert_envelope(&envelope),
    }
    let mut loaded = example().clone();
    answer::assert_envelope(&loaded.load_license(data));
    let _ = loaded.license(data);
    let _ = loaded.usage(data);
});
