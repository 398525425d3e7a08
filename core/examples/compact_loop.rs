//! Runs the compact form of `loop.rs`'s two checks (a consuming check of
//! `api_calls` and a feature check of `sso`, same license, usage and
//! instant) N times (the first argument, 4,000,000 when absent), for
//! counting instructions on a machine too noisy to time (BENCHMARKS.md).
#![allow(clippy::unwrap_used)]
use entitle_core::{CheckKind, CompactAsk, LoadedBundle, Timestamp};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(4_000_000, |n| n.parse().unwrap());
    let ex = |n: &str| std::fs::read_to_string(format!("examples/{n}.json")).unwrap();
    let mut loaded = LoadedBundle::load(ex("bundle").as_bytes()).unwrap();
    loaded.load_license(ex("license").as_bytes());
    let metric = loaded
        .compile("lic_7Q2M9", "api_calls", CheckKind::Consume)
        .unwrap();
    let feature = loaded
        .compile("lic_7Q2M9", "sso", CheckKind::Feature)
        .unwrap();
    let now = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
    let consume = CompactAsk {
        amount: 1,
        used: 131_500,
        soft_exceeded_at: Timestamp::parse("2026-11-20T14:05:00Z"),
        period_start: None,
        now,
    };
    let gate = CompactAsk {
        amount: 0,
        used: 0,
        soft_exceeded_at: None,
        period_start: None,
        now,
    };
    let mut total = 0u64;
    for _ in 0..n {
        let a = metric.check(std::hint::black_box(&consume)).unwrap();
        let b = feature.check(std::hint::black_box(&gate)).unwrap();
        total += a.remaining.unwrap_or(0) + u64::from(b.http_status);
    }
    println!("{total}");
}
