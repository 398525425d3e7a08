//! One feature gate and one metered gate, decided by entitle and by its
//! peers over the same documents: the bundle and licenses in `data/`, read
//! here into plain facts that the Cedar entities, the Rego data and the
//! hand-written floor are all derived from.
//!
//! The gates, as every engine decides them: a license may use a feature
//! while its status is `active`, `now` is within its term (start included,
//! end excluded) and its tier or one of its add-ons grants the feature; it
//! may consume `amount` units of a metered feature under the same
//! conditions while `used + amount` stays within its limit (the tier's
//! quota plus its add-ons' increments). The bundle's quotas are all hard and
//! its expiry policy revokes access when the term ends, with no renewal
//! grace, so entitle's answer to these requests is exactly this rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod cedar;
pub mod cpu;
pub mod plain;
pub mod rego;
pub mod wasm;

use std::collections::BTreeMap;

use serde_json::Value;

/// The license every timed request names.
pub const LICENSE: &str = "lic-peers";
/// The boolean feature of the feature gate (granted by the `sso_pack` add-on).
pub const FEATURE: &str = "sso";
/// The metered feature of the metered gate.
pub const METRIC: &str = "api_calls";
/// The count so far in the timed metered request.
pub const USED: u64 = 131_500;
/// `now` in the timed requests.
pub const NOW: Instant = Instant {
    text: "2026-11-22T10:00:00Z",
    seconds: 1_795_341_600,
};

/// An instant, as entitle reads it (RFC 3339) and as the peers read it
/// (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    /// RFC 3339, UTC.
    pub text: &'static str,
    /// Seconds since the unix epoch.
    pub seconds: i64,
}

/// What a request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// May the license use this feature now?
    Feature(&'static str),
    /// May the license consume `amount` more units of this metered feature,
    /// `used` being counted so far in the current period?
    Consume {
        /// The metered feature.
        metric: &'static str,
        /// Units asked for.
        amount: u64,
        /// Units counted so far.
        used: u64,
    },
}

/// One request to every engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    /// The license's id.
    pub license: &'static str,
    /// What is asked.
    pub gate: Gate,
    /// When.
    pub now: Instant,
}

impl Input {
    /// The timed feature request.
    pub const FEATURE: Input = Input {
        license: LICENSE,
        gate: Gate::Feature(FEATURE),
        now: NOW,
    };
    /// The timed metered request: one more call.
    pub const METERED: Input = Input {
        license: LICENSE,
        gate: Gate::Consume {
            metric: METRIC,
            amount: 1,
            used: USED,
        },
        now: NOW,
    };

    /// The request as entitle's JSON entry takes it, the license named by id
    /// (loaded once beforehand).
    pub fn json(&self) -> String {
        let (license, now) = (self.license, self.now.text);
        match self.gate {
            Gate::Feature(feature) => format!(
                r#"{{"op":"check","license":"{license}","now":"{now}","feature":"{feature}"}}"#
            ),
            Gate::Consume {
                metric,
                amount,
                used,
            } => format!(
                r#"{{"op":"check","license":"{license}","now":"{now}","usage":{{"metrics":{{"{metric}":{{"used":{used}}}}}}},"metric":"{metric}","amount":{amount}}}"#
            ),
        }
    }

    /// The usage document entitle's typed API reads for this request.
    pub fn usage(&self) -> String {
        match self.gate {
            Gate::Feature(_) => String::from(r#"{"metrics":{}}"#),
            Gate::Consume { metric, used, .. } => {
                format!(r#"{{"metrics":{{"{metric}":{{"used":{used}}}}}}}"#)
            }
        }
    }
}

/// Requests with the decision each must get, worked out by hand from the
/// documents in `data/` (`lic-peers`: team tier with `sso_pack` and
/// `extra_calls`, so `sso` and `audit_log` but not `priority_support`, and
/// 100,000 + 50,000 API calls a month; its term runs 2026-01-15 to
/// 2027-01-15). Every engine must answer each alike before anything is timed.
pub fn cases() -> Vec<(Input, bool)> {
    const START: Instant = Instant {
        text: "2026-01-15T00:00:00Z",
        seconds: 1_768_435_200,
    };
    const BEFORE_START: Instant = Instant {
        text: "2026-01-14T23:59:59Z",
        seconds: 1_768_435_199,
    };
    const LAST_SECOND: Instant = Instant {
        text: "2027-01-14T23:59:59Z",
        seconds: 1_799_971_199,
    };
    const END: Instant = Instant {
        text: "2027-01-15T00:00:00Z",
        seconds: 1_799_971_200,
    };
    const AFTER: Instant = Instant {
        text: "2027-02-01T00:00:00Z",
        seconds: 1_801_440_000,
    };
    let feature = |license, feature, now| Input {
        license,
        gate: Gate::Feature(feature),
        now,
    };
    let consume = |license, amount, used, now| Input {
        license,
        gate: Gate::Consume {
            metric: METRIC,
            amount,
            used,
        },
        now,
    };
    vec![
        // The feature gate.
        (Input::FEATURE, true),
        (feature(LICENSE, "audit_log", NOW), true),
        (feature(LICENSE, "priority_support", NOW), false),
        (feature(LICENSE, FEATURE, START), true),
        (feature(LICENSE, FEATURE, BEFORE_START), false),
        (feature(LICENSE, FEATURE, LAST_SECOND), true),
        (feature(LICENSE, FEATURE, END), false),
        (feature(LICENSE, FEATURE, AFTER), false),
        (feature("lic-suspended", FEATURE, NOW), false),
        (feature("lic-starter", FEATURE, NOW), false),
        (feature("lic-starter", "audit_log", NOW), false),
        (feature("lic-enterprise", FEATURE, NOW), true),
        (feature("lic-enterprise", "priority_support", NOW), true),
        // The metered gate.
        (Input::METERED, true),
        (consume(LICENSE, 1, 0, NOW), true),
        (consume(LICENSE, 1, 149_999, NOW), true),
        (consume(LICENSE, 1, 150_000, NOW), false),
        (consume(LICENSE, 10, 149_990, NOW), true),
        (consume(LICENSE, 10, 149_991, NOW), false),
        (consume(LICENSE, 1, USED, BEFORE_START), false),
        (consume(LICENSE, 1, USED, LAST_SECOND), true),
        (consume(LICENSE, 1, USED, END), false),
        (consume("lic-suspended", 1, 0, NOW), false),
        (consume("lic-starter", 1, 50_999, NOW), true),
        (consume("lic-starter", 1, 51_000, NOW), false),
        (consume("lic-enterprise", 1, 999_999, NOW), true),
        (consume("lic-enterprise", 2, 999_999, NOW), false),
    ]
}

/// The documents in `data/`.
pub struct Documents {
    /// The bundle's bytes.
    pub bundle: Vec<u8>,
    /// Every license's bytes, `lic-peers` first.
    pub licenses: Vec<Vec<u8>>,
}

impl Documents {
    /// Reads `data/bundle.json`, `data/license.json` and `data/licenses.json`.
    pub fn read() -> Documents {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
        let read = |name: &str| std::fs::read(format!("{dir}/{name}")).unwrap();
        let mut licenses = vec![read("license.json")];
        let more: Vec<Value> = serde_json::from_slice(&read("licenses.json")).unwrap();
        licenses.extend(more.iter().map(|l| serde_json::to_vec(l).unwrap()));
        Documents {
            bundle: read("bundle.json"),
            licenses,
        }
    }

    /// The facts the peers decide on.
    pub fn facts(&self) -> Facts {
        let bundle: Value = serde_json::from_slice(&self.bundle).unwrap();
        let licenses = self
            .licenses
            .iter()
            .map(|l| LicenseFacts::read(&bundle, &serde_json::from_slice(l).unwrap()))
            .collect();
        let mut features = BTreeMap::new();
        for name in bundle["features"].as_object().unwrap().keys() {
            let granting = |group: &str| -> Vec<String> {
                let mut ids: Vec<String> = bundle[group]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(_, v)| strings(&v["features"]).contains(name))
                    .map(|(id, _)| id.clone())
                    .collect();
                ids.sort();
                ids
            };
            features.insert(
                name.clone(),
                FeatureFacts {
                    tiers: granting("tiers"),
                    addons: granting("addons"),
                },
            );
        }
        Facts { licenses, features }
    }
}

/// What the peers know of the bundle and licenses: the same rules, with
/// each license's limits worked out beforehand.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Every license.
    pub licenses: Vec<LicenseFacts>,
    /// Every feature, by name.
    pub features: BTreeMap<String, FeatureFacts>,
}

/// A license, as the peers see it.
#[derive(Debug, Clone)]
pub struct LicenseFacts {
    /// Its id.
    pub id: String,
    /// `active`, `suspended` or `terminated`.
    pub status: String,
    /// Its tier.
    pub tier: String,
    /// Its add-ons.
    pub addons: Vec<String>,
    /// Term start, unix seconds (included).
    pub term_start: i64,
    /// Term end, unix seconds (excluded).
    pub term_end: i64,
    /// Each metered feature's limit: the tier's quota plus the increments of
    /// the license's add-ons (unlimited quotas are absent).
    pub limits: BTreeMap<String, u64>,
}

impl LicenseFacts {
    fn read(bundle: &Value, license: &Value) -> LicenseFacts {
        let tier = license["tier"].as_str().unwrap().to_string();
        let addons = strings(&license["addons"]);
        let mut limits = BTreeMap::new();
        for (metric, quota) in bundle["tiers"][&tier]["quotas"].as_object().unwrap() {
            let Some(limit) = quota["limit"].as_u64() else {
                continue;
            };
            let increments: u64 = addons
                .iter()
                .filter_map(|a| bundle["addons"][a]["quota_increments"][metric].as_u64())
                .sum();
            limits.insert(metric.clone(), limit + increments);
        }
        LicenseFacts {
            id: license["license"].as_str().unwrap().to_string(),
            status: license["status"].as_str().unwrap().to_string(),
            tier,
            addons,
            term_start: unix_seconds(license["term"]["start"].as_str().unwrap()),
            term_end: unix_seconds(license["term"]["end"].as_str().unwrap()),
            limits,
        }
    }
}

/// A feature, as the peers see it.
#[derive(Debug, Clone)]
pub struct FeatureFacts {
    /// The tiers that grant it.
    pub tiers: Vec<String>,
    /// The add-ons that grant it.
    pub addons: Vec<String>,
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map_or_else(Vec::new, |items| {
        items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` as unix seconds (days from the civil date, as in
/// Howard Hinnant's `days_from_civil`).
pub fn unix_seconds(text: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| -> i64 { text[range].parse().unwrap() };
    assert!(text.len() == 20 && text.ends_with('Z'), "`{text}`");
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3_600 + n(14..16) * 60 + n(17..19)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_agree_with_date() {
        // `date -u -d 2026-11-22T10:00:00Z +%s` and so on.
        assert_eq!(unix_seconds("2026-11-22T10:00:00Z"), 1_795_341_600);
        assert_eq!(unix_seconds("2026-01-14T23:59:59Z"), 1_768_435_199);
        assert_eq!(unix_seconds("2027-02-01T00:00:00Z"), 1_801_440_000);
        for (input, _) in cases() {
            assert_eq!(unix_seconds(input.now.text), input.now.seconds);
        }
    }

    #[test]
    fn facts_hold_the_limits_worked_out_by_hand() {
        let facts = Documents::read().facts();
        let limit = |id: &str| facts.licenses.iter().find(|l| l.id == id).unwrap().limits[METRIC];
        assert_eq!(limit(LICENSE), 150_000);
        assert_eq!(limit("lic-starter"), 51_000);
        assert_eq!(limit("lic-enterprise"), 1_000_000);
        assert_eq!(facts.features[FEATURE].tiers, ["enterprise"]);
        assert_eq!(facts.features[FEATURE].addons, ["sso_pack"]);
    }
}
