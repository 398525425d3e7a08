//! Runs one preloaded check many times, for profiling.
#![allow(clippy::unwrap_used)]
fn main() {
    let ex = |n: &str| std::fs::read_to_string(format!("examples/{n}.json")).unwrap();
    let loaded = entitle_core::api::LoadedBundle::load(ex("bundle").as_bytes()).unwrap();
    let req = format!(
        r#"{{"op":"check","license":{},"usage":{},"now":"2026-11-22T10:00:00Z","feature":"sso"}}"#,
        ex("license"),
        ex("usage")
    );
    let mut n = 0;
    for _ in 0..200_000 {
        n += loaded.evaluate(req.as_bytes()).len();
    }
    println!("{n}");
}
