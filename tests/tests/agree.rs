//! Native core and the module in wasmtime answer random requests with the
//! same bytes: documents built from the demo ones with random usage, dates,
//! statuses, tiers, add-ons, exceptions and operations, valid or not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_host::{Native, WasmModule};
use proptest::prelude::*;
use serde_json::{json, Value};

fn example(name: &str) -> Value {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn module() -> WasmModule {
    let path = format!("{}/../dist/entitle.wasm", env!("CARGO_MANIFEST_DIR"));
    WasmModule::load(&path).expect("run `cargo xtask build-wasm` first")
}

/// An instant between 2025 and 2028, from minutes.
fn instant(minutes: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z").unwrap();
    (base + chrono::TimeDelta::minutes(minutes))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(Debug, Clone)]
struct Scenario {
    op: usize,
    tier: usize,
    status: usize,
    addons: (bool, bool),
    seats: u64,
    used: (u64, u64),
    crossed: Option<i64>,
    now: i64,
    exception: Option<(i64, i64, u64)>,
    zone: usize,
    anchor_day: u32,
    amount: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (
            0usize..7,
            0usize..10,
            0usize..6,
            any::<(bool, bool)>(),
            1u64..6,
        ),
        (
            (0u64..200_000, 0u64..150),
            proptest::option::of(0i64..1_500_000),
        ),
        (
            200_000i64..900_000,
            proptest::option::of((0i64..1_500_000, 1i64..200_000, 0u64..100_000)),
        ),
        (0usize..5, 1u32..32, 0u64..300_000),
    )
        .prop_map(
            |(
                (op, tier, status, addons, seats),
                (used, crossed),
                (now, exception),
                (zone, anchor_day, amount),
            )| Scenario {
                op,
                tier,
                status,
                addons,
                seats,
                used,
                crossed,
                now,
                exception,
                zone,
                anchor_day,
                amount,
            },
        )
}

fn request(s: &Scenario) -> Value {
    let mut license = example("license");
    // Mostly valid documents, with one in ten naming an unknown tier.
    let tier = [
        "starter",
        "starter",
        "starter",
        "team",
        "team",
        "team",
        "enterprise",
        "enterprise",
        "enterprise",
        "platinum",
    ][s.tier];
    license["tier"] = json!(tier);
    license["status"] = json!(
        [
            "active",
            "active",
            "active",
            "active",
            "suspended",
            "terminated"
        ][s.status]
    );
    let mut addons = Vec::new();
    if s.addons.0 && tier != "enterprise" {
        addons.push("extra_calls");
    }
    if s.addons.1 && tier == "team" {
        addons.push("sso_pack");
    }
    license["addons"] = json!(addons);
    license["seats"] = json!(s.seats);
    license["time_zone"] = json!(
        [
            "Europe/London",
            "America/New_York",
            "Australia/Sydney",
            "Asia/Kolkata",
            "America/St_Johns"
        ][s.zone]
    );
    license["anchor_date"] = json!(format!("2026-01-{:02}", s.anchor_day.min(31)));
    license["exceptions"] = match s.exception {
        None => json!([]),
        Some((start, length, extra)) => json!([{
            "id": "exc", "starts_at": instant(start), "expires_at": instant(start + length),
            "approver": "a", "reason": "r",
            "grants": {"features": ["priority_support"], "quota_increments": {"api_calls": extra}}
        }]),
    };
    let mut calls = json!({"used": s.used.0});
    if let Some(crossed) = s.crossed {
        calls["soft_exceeded_at"] = json!(instant(crossed));
    }
    let usage = json!({"metrics": {"api_calls": calls, "storage_gb": {"used": s.used.1}}, "active_seats": s.seats / 2});
    let mut request = json!({"bundle": example("bundle"), "license": license, "usage": usage, "now": instant(s.now)});
    let op = [
        "check",
        "check",
        "status",
        "quote",
        "transition",
        "validate",
        "check",
    ][s.op];
    request["op"] = json!(op);
    match s.op {
        0 => {
            request["feature"] = json!(
                [
                    "sso",
                    "audit_log",
                    "priority_support",
                    "api_calls",
                    "storage_gb"
                ][s.tier % 5]
            )
        }
        1 => {
            request["metric"] = json!("api_calls");
            request["amount"] = json!(s.amount);
        }
        4 => request["to"] = json!(["starter", "team", "enterprise"][s.tier % 3]),
        5 => {
            request.as_object_mut().unwrap().remove("now");
        }
        6 => {
            request["metric"] = json!("storage_gb");
            request["amount"] = json!(s.amount % 200);
        }
        _ => {}
    }
    request
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn native_and_wasm_answer_the_same_bytes(s in scenario()) {
        thread_local! {
            static INSTANCE: std::cell::RefCell<entitle_host::WasmInstance> =
                std::cell::RefCell::new(module().instance().unwrap());
        }
        let bytes = request(&s).to_string().into_bytes();
        let native = Native::new().evaluate(&bytes);
        let wasm = INSTANCE.with(|i| i.borrow_mut().evaluate(&bytes)).unwrap();
        prop_assert_eq!(&native, &wasm);
        // The answer is never a crash dressed up: it is an envelope.
        let envelope: Value = serde_json::from_str(&native).unwrap();
        prop_assert!(envelope["outcome"] == "ok" || envelope["outcome"] == "error");
    }

    #[test]
    fn native_and_wasm_agree_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        thread_local! {
            static INSTANCE: std::cell::RefCell<entitle_host::WasmInstance> =
                std::cell::RefCell::new(module().instance().unwrap());
        }
        let native = Native::new().evaluate(&bytes);
        let wasm = INSTANCE.with(|i| i.borrow_mut().evaluate(&bytes)).unwrap();
        prop_assert_eq!(native, wasm);
    }
}
