//! Runs one check against a preloaded bundle and license many times, for profiling.
#![allow(clippy::unwrap_used)]
fn main() {
    let ex = |n: &str| std::fs::read_to_string(format!("examples/{n}.json")).unwrap();
    let mut loaded = entitle_core::api::LoadedBundle::load(ex("bundle").as_bytes()).unwrap();
    loaded.load_license(ex("license").as_bytes());
    let req = r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","usage":{"metrics":{"api_calls":{"used":131500,"soft_exceeded_at":"2026-11-20T14:05:00Z"}}},"metric":"api_calls","amount":1}"#;
    let mut n = 0;
    for _ in 0..400_000 {
        n += loaded.evaluate(req.as_bytes()).len();
    }
    println!("{n}");
}
