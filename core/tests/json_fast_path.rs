//! The fast path of a preloaded `check` answers every request exactly as the
//! general path does, byte for byte: random checks of features and metrics
//! at random instants with random usages, and malformed ones (unknown,
//! duplicate, missing and mistyped fields, escapes, cut or padded text),
//! against several licenses loaded into the example bundle. Requests that
//! read without a problem must take the fast path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use entitle_core::api::{evaluate_fast, evaluate_general, LoadedBundle};
use proptest::prelude::*;
use serde_json::{json, Value};

fn example(name: &str) -> Value {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The example bundle with licenses of every standing loaded into it.
fn loaded() -> LoadedBundle {
    let mut loaded = LoadedBundle::load(example("bundle").to_string().as_bytes()).unwrap();
    let base = example("license");
    let variant = |id: &str, changes: Value| {
        let mut license = base.clone();
        license["license"] = json!(id);
        for (k, v) in changes.as_object().unwrap() {
            license[k] = v.clone();
        }
        license
    };
    let licenses = [
        base.clone(),
        variant(
            "lic_ent",
            json!({"tier": "enterprise", "addons": [], "exceptions": [],
                "time_zone": "America/New_York", "anchor_date": "2026-01-31"}),
        ),
        variant(
            "lic_susp",
            json!({"tier": "starter", "addons": ["extra_calls"], "seats": 5, "status": "suspended"}),
        ),
        variant(
            "lic_old",
            json!({"term": {"start": "2025-06-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"},
                "time_zone": "Asia/Kolkata", "anchor_date": "2025-06-01"}),
        ),
        variant(
            "lic_offline",
            json!({"issued_at": "2026-11-22T12:00:00Z",
                "offline": {"not_before": "2026-03-01T00:00:00Z", "not_after": "2026-12-01T00:00:00Z"}}),
        ),
    ];
    for license in licenses {
        let answer = loaded.load_license(license.to_string().as_bytes());
        assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
    }
    loaded
}

/// SplitMix64: every request is made from one seed, which a failure shows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Instants near what the licenses turn on: terms, periods, exceptions, grace.
const INSTANTS: &[&str] = &[
    "2025-06-01T00:00:00Z",
    "2026-01-15T00:00:00Z",
    "2026-05-31T23:59:59Z",
    "2026-06-01T00:00:00Z",
    "2026-06-15T00:00:00Z",
    "2026-10-31T04:00:00Z",
    "2026-11-15T00:00:00Z",
    "2026-11-16T00:00:00Z",
    "2026-11-20T14:05:00Z",
    "2026-11-22T10:00:00Z",
    "2026-11-22T12:00:00Z",
    "2026-11-23T14:05:00Z",
    "2026-11-30T00:00:00Z",
    "2026-12-01T00:00:00Z",
    "2026-12-15T00:00:00Z",
    "2027-01-15T00:00:00Z",
    "2027-01-29T00:00:00Z",
    "2027-02-01T00:00:00Z",
];

/// An instant as a request may write it, or sometimes a value that is none.
fn instant(rng: &mut Rng, valid: bool) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(rng.pick(INSTANTS)).unwrap();
    let t = if rng.chance(40) {
        base + chrono::TimeDelta::seconds(rng.below(40 * 86_400) as i64 - 20 * 86_400)
    } else {
        base
    };
    let text = match rng.below(if valid { 5 } else { 9 }) {
        0 | 1 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        2 => t
            .with_timezone(&chrono::FixedOffset::east_opt(19_800).unwrap())
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        3 => t.format("%Y-%m-%dT%H:%M:%S.250Z").to_string(),
        4 => t.format("%Y-%m-%dt%H:%M:%Sz").to_string(),
        5 => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        6 => return String::from("1764000000"),
        7 => String::from("2026-02-30T10:00:00Z"),
        _ => return String::from("null"),
    };
    format!("\"{text}\"")
}

/// A count as a request may write it, sometimes one that is not a count.
fn count(rng: &mut Rng, valid: bool) -> String {
    const COUNTS: &[&str] = &[
        "0",
        "1",
        "9999",
        "10000",
        "60000",
        "99999",
        "100000",
        "100001",
        "109999",
        "110000",
        "131500",
        "150000",
        "1000000",
        "1250000",
        "18446744073709551615",
    ];
    const WRONG: &[&str] = &["-1", "1.5", "1e3", "\"5\"", "null", "18446744073709551616"];
    if !valid && rng.chance(15) {
        return rng.pick(WRONG).to_string();
    }
    rng.pick(COUNTS).to_string()
}

/// A usage document: counts of metrics (and sometimes of what is no metric).
fn usage(rng: &mut Rng, valid: bool) -> String {
    let mut fields = Vec::new();
    if rng.chance(85) {
        let mut metrics = Vec::new();
        let mut names = vec!["api_calls", "storage_gb"];
        if !valid {
            names.extend(["sso", "nope", "bad id", "api_calls"]);
        }
        for i in (1..names.len()).rev() {
            names.swap(i, rng.below(i + 1));
        }
        for name in names.into_iter().take(rng.below(3)) {
            let mut entry = Vec::new();
            if valid || rng.chance(95) {
                entry.push(("used", count(rng, valid)));
            }
            if rng.chance(50) {
                entry.push(("soft_exceeded_at", instant(rng, valid)));
            }
            if rng.chance(25) {
                let start = rng.pick(&[
                    "\"2026-11-15T00:00:00Z\"",
                    "\"2026-10-15T00:00:00Z\"",
                    "\"2026-10-31T04:00:00Z\"",
                    "\"2026-01-15T00:00:00Z\"",
                    "null",
                ]);
                entry.push(("period_start", start.to_string()));
            }
            if rng.chance(20) {
                // In order and before every `now`, when valid.
                let at = |rng: &mut Rng, i: usize| match valid {
                    true => format!("\"2025-0{}-01T00:00:00Z\"", i + 1),
                    false => instant(rng, valid),
                };
                let readings: Vec<String> = (0..rng.below(3))
                    .map(|i| format!(r#"{{"at":{},"used":{}}}"#, at(rng, i), count(rng, valid)))
                    .collect();
                entry.push(("history", format!("[{}]", readings.join(","))));
            }
            if !valid && rng.chance(5) {
                entry.push(("extra", String::from("1")));
            }
            metrics.push((name, object(rng, entry, valid)));
        }
        let text = if !valid && rng.chance(3) {
            String::from("null")
        } else {
            object(rng, metrics, valid)
        };
        fields.push(("metrics", text));
    }
    if rng.chance(30) {
        fields.push(("active_seats", count(rng, valid)));
    }
    if !valid && rng.chance(4) {
        return String::from(rng.pick(&["null", "[]", "[{}]", "\"usage\""]));
    }
    object(rng, fields, valid)
}

/// An object of these fields in a random order, its keys sometimes escaped.
fn object(rng: &mut Rng, mut fields: Vec<(&str, String)>, valid: bool) -> String {
    for i in (1..fields.len()).rev() {
        fields.swap(i, rng.below(i + 1));
    }
    if !valid && !fields.is_empty() && rng.chance(4) {
        let twice = fields[rng.below(fields.len())].clone();
        fields.push(twice);
    }
    let items: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let key = if rng.chance(5) && !k.is_empty() {
                // The first letter as a \u escape: the same key, read.
                let mut chars = k.chars();
                let first = chars.next().unwrap();
                format!("\\u{:04x}{}", first as u32, chars.as_str())
            } else {
                k.to_string()
            };
            let space = if rng.chance(10) { " \n\t" } else { "" };
            format!("{space}\"{key}\"{space}:{space}{v}")
        })
        .collect();
    format!("{{{}}}", items.join(","))
}

/// A `check` request: valid ones only, or any.
fn request(seed: u64, valid: bool) -> String {
    let rng = &mut Rng(seed);
    let mut fields = Vec::new();
    let op = if valid || rng.chance(90) {
        "\"check\""
    } else {
        rng.pick(&["\"status\"", "\"Check\"", "1", "\"chec\\u006b\""])
    };
    if valid || rng.chance(97) {
        fields.push(("op", op.to_string()));
    }
    let license = if valid || rng.chance(90) {
        rng.pick(&["lic_7Q2M9", "lic_ent", "lic_susp", "lic_old", "lic_offline"])
    } else {
        rng.pick(&["lic_none", "", "lic_7Q2M9 "])
    };
    if valid || rng.chance(97) {
        fields.push(("license", format!("\"{license}\"")));
    }
    if valid || rng.chance(97) {
        fields.push(("now", instant(rng, valid)));
    }
    if rng.chance(70) {
        fields.push(("usage", usage(rng, valid)));
    }
    let features = [
        "sso",
        "audit_log",
        "priority_support",
        "api_calls",
        "storage_gb",
    ];
    let metrics = ["api_calls", "storage_gb"];
    let (feature, metric, amount) = match rng.below(if valid { 2 } else { 6 }) {
        0 => (Some(rng.pick(&features)), None, false),
        1 => (None, Some(rng.pick(&metrics)), true),
        2 => (Some(rng.pick(&features)), None, true),
        3 => (
            None,
            Some(rng.pick(&["sso", "nope", "api_calls"])),
            rng.chance(50),
        ),
        4 => (
            Some(rng.pick(&["nope", "bad id", "sso"])),
            rng.chance(50).then_some("api_calls"),
            false,
        ),
        _ => (None, None, rng.chance(50)),
    };
    if let Some(feature) = feature {
        fields.push(("feature", format!("\"{feature}\"")));
    }
    if let Some(metric) = metric {
        fields.push(("metric", format!("\"{metric}\"")));
    }
    if amount {
        fields.push(("amount", count(rng, valid)));
    }
    if !valid && rng.chance(8) {
        let (k, v) = [
            ("route", r#"{"method":"GET","path":"/v1/reports"}"#),
            ("bundle", "{}"),
            ("keys", "{}"),
            ("what_if", "1"),
            ("license", "null"),
        ][rng.below(5)];
        fields.push((k, v.to_string()));
    }
    let mut text = object(rng, fields, valid);
    if !valid && rng.chance(5) {
        match rng.below(3) {
            0 => text.truncate(rng.below(text.len())),
            1 => text.push_str(" x"),
            _ => text = format!("[{text}]"),
        }
    }
    text
}

fn same(loaded: &LoadedBundle, request: &str) -> Result<(), TestCaseError> {
    let general = evaluate_general(loaded, request.as_bytes());
    prop_assert_eq!(
        &loaded.evaluate(request.as_bytes()),
        &general,
        "{}",
        request
    );
    if let Some(fast) = evaluate_fast(loaded, request.as_bytes()) {
        prop_assert_eq!(&fast, &general, "{}", request);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_check_is_answered_as_the_general_path_answers_it(seed in any::<u64>()) {
        let loaded = loaded_once();
        same(loaded, &request(seed, false))?;
    }

    #[test]
    fn a_check_that_reads_takes_the_fast_path(seed in any::<u64>()) {
        let loaded = loaded_once();
        let request = request(seed, true);
        prop_assert!(evaluate_fast(loaded, request.as_bytes()).is_some(), "{}", request);
        same(loaded, &request)?;
    }
}

fn loaded_once() -> &'static LoadedBundle {
    static LOADED: std::sync::OnceLock<LoadedBundle> = std::sync::OnceLock::new();
    LOADED.get_or_init(loaded)
}

#[test]
fn the_gateway_checks_take_the_fast_path_and_answer_as_before() {
    let loaded = loaded_once();
    let metric = r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","usage":{"metrics":{"api_calls":{"used":131500,"soft_exceeded_at":"2026-11-20T14:05:00Z"}}},"metric":"api_calls","amount":1}"#;
    let feature =
        r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","feature":"sso"}"#;
    for request in [metric, feature] {
        let fast = evaluate_fast(loaded, request.as_bytes()).expect("the fast path answers");
        assert_eq!(fast, evaluate_general(loaded, request.as_bytes()));
    }
    // Worked out by hand: the team tier's 100,000 calls plus the launch
    // exception's 20,000 make 120,000; 10% grace reaches 132,000; 131,500
    // used and one more asked is in grace, which started on 20 November
    // 14:05 and lasts 72 hours; the period runs from the 15th (London).
    let answer = evaluate_fast(loaded, metric.as_bytes()).unwrap();
    for part in [
        r#"{"outcome":"ok","op":"check","result":{"decision":"allow_in_grace","reason":"soft_limit_grace""#,
        r#""remaining":499,"#,
        r#""limit":120000,"grace_limit":132000,"grace_ends_at":"2026-11-23T14:05:00Z""#,
        r#""period":{"kind":"month","start":"2026-11-15T00:00:00Z","end":"2026-12-15T00:00:00Z"}"#,
        r#""record":{"metric":"api_calls","#,
        r#""used":131501,"soft_exceeded_at":"2026-11-20T14:05:00Z"}"#,
    ] {
        assert!(answer.contains(part), "{part} in {answer}");
    }
}

/// The fast path decides through checks compiled from the license loaded
/// when they were first needed: loading the license anew (here suspended,
/// then back on a tier without `sso`) and unloading it must change the
/// answers at once, each still the general path's.
#[test]
fn a_license_loaded_anew_is_not_answered_from_its_old_compiled_checks() {
    let mut loaded = LoadedBundle::load(example("bundle").to_string().as_bytes()).unwrap();
    let license = example("license");
    let feature =
        r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","feature":"sso"}"#;
    let decision = |loaded: &LoadedBundle| {
        let fast = evaluate_fast(loaded, feature.as_bytes());
        let general = evaluate_general(loaded, feature.as_bytes());
        assert_eq!(fast.as_deref().unwrap_or(&general), general);
        let answer: Value = serde_json::from_str(&general).unwrap();
        (
            answer["outcome"].clone(),
            answer["result"]["reason"].clone(),
        )
    };
    let load = |loaded: &mut LoadedBundle, license: &Value| {
        let answer = loaded.load_license(license.to_string().as_bytes());
        assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
    };
    load(&mut loaded, &license);
    // The example license is on team with the sso_pack add-on: allowed.
    assert_eq!(decision(&loaded), (json!("ok"), json!("entitled")));
    let mut suspended = license.clone();
    suspended["status"] = json!("suspended");
    load(&mut loaded, &suspended);
    assert_eq!(decision(&loaded), (json!("ok"), json!("license_suspended")));
    let mut starter = license.clone();
    starter["tier"] = json!("starter");
    starter["addons"] = json!([]);
    starter["exceptions"] = json!([]);
    starter["seats"] = json!(5);
    load(&mut loaded, &starter);
    assert_eq!(
        decision(&loaded),
        (json!("ok"), json!("feature_not_entitled"))
    );
    assert!(loaded.unload_license("lic_7Q2M9"));
    assert_eq!(decision(&loaded).0, json!("error"));
}
