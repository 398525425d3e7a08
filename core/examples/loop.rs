//! Runs a preloaded `check` of a metric and one of a feature, N times
//! (the first argument, 400,000 when absent), for profiling and for
//! counting instructions on a machine too noisy to time (see BENCHMARKS.md).
//! With `general` as the second argument, through the general path only
//! (the one every request took before the JSON fast path).
#![allow(clippy::unwrap_used)]
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(400_000, |n| n.parse().unwrap());
    let ex = |n: &str| std::fs::read_to_string(format!("examples/{n}.json")).unwrap();
    let mut loaded = entitle_core::api::LoadedBundle::load(ex("bundle").as_bytes()).unwrap();
    loaded.load_license(ex("license").as_bytes());
    let metric = r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","usage":{"metrics":{"api_calls":{"used":131500,"soft_exceeded_at":"2026-11-20T14:05:00Z"}}},"metric":"api_calls","amount":1}"#;
    let feature =
        r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","feature":"sso"}"#;
    let general = std::env::args().nth(2).is_some_and(|a| a == "general");
    let evaluate = |request: &str| match general {
        true => entitle_core::api::evaluate_general(&loaded, request.as_bytes()),
        false => loaded.evaluate(request.as_bytes()),
    };
    let mut total = 0;
    for _ in 0..n {
        total += evaluate(metric).len();
        total += evaluate(feature).len();
    }
    println!("{total}");
}
