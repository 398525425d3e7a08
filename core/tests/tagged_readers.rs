//! The internally tagged enums read without serde's buffering
//! (`reading::strict::tagged`) held to serde's own derive, kept here as it
//! was: through the strict reader, on hand-picked documents and on random
//! JSON near each schema (valid variants, unknown tags, a missing tag, a
//! tag that is not a string, extra fields, wrong field types, arrays,
//! nulls). The same documents read, to the same values; the same documents
//! are refused, with the same error code and message, at the same path or
//! a path inside the same object. Two differences are intended:
//! - a field of a variant that fails is named by its own path (the derive
//!   read the variant from a buffered copy that kept no path, so it named
//!   only the object; a nested case's missing field even landed beside it);
//! - a positional array where an object is expected is refused, as the
//!   strict reader refuses it everywhere (the derive read `["usage", ...]`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Debug;

use entitle_core::error::{Error, JsonPath};
use entitle_core::reading::json;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The enums as serde's derive reads them, named alike so that the values
/// print alike (their fields are only printed).
#[allow(dead_code)]
mod derived {
    use entitle_core::model::ids::{
        CaseId, CategoryId, EvidenceId, FeatureId, InstallationId, PhaseId, RoleId, SeverityId,
        SignalId,
    };
    use entitle_core::model::license::LicenseStatus;
    use entitle_core::model::time::{Timestamp, Zone};
    use entitle_core::support::case::Impact;
    use entitle_core::support::policy::ClockKind;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    pub enum ScenarioEvent {
        Usage {
            at: Timestamp,
            metric: FeatureId,
            amount: u64,
        },
        Seats {
            at: Timestamp,
            active: u64,
        },
        Contract {
            at: Timestamp,
            status: LicenseStatus,
        },
        Installation {
            at: Timestamp,
            installation: InstallationId,
            #[serde(default)]
            last_seen: Option<Timestamp>,
        },
        Deployment {
            at: Timestamp,
            installation: InstallationId,
        },
        Case {
            case: Case,
        },
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Case {
        pub case: CaseId,
        pub category: CategoryId,
        pub opened_at: Timestamp,
        pub bundle_version: String,
        #[serde(default)]
        pub customer_time_zone: Option<Zone>,
        #[serde(default)]
        pub impact: Impact,
        #[serde(default)]
        pub evidence: Vec<EvidenceId>,
        #[serde(default)]
        pub events: Vec<Event>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    pub enum Event {
        AgentReply {
            at: Timestamp,
        },
        CustomerReply {
            at: Timestamp,
        },
        WaitingOnCustomer {
            at: Timestamp,
        },
        Resumed {
            at: Timestamp,
        },
        PhaseEntered {
            at: Timestamp,
            phase: PhaseId,
        },
        EvidenceReceived {
            at: Timestamp,
            evidence: EvidenceId,
        },
        RiskSignal {
            at: Timestamp,
            signal: SignalId,
        },
        Escalated {
            at: Timestamp,
            by: RoleId,
            level: u32,
        },
        Override {
            at: Timestamp,
            by: RoleId,
            #[serde(default)]
            owner: Option<RoleId>,
            #[serde(default)]
            severity: Option<SeverityId>,
        },
        EscalationPaused {
            at: Timestamp,
            by: RoleId,
            until: Timestamp,
        },
        Resolved {
            at: Timestamp,
        },
        Reopened {
            at: Timestamp,
        },
    }

    #[derive(Debug, Deserialize)]
    #[serde(tag = "trigger", rename_all = "snake_case", deny_unknown_fields)]
    pub enum Trigger {
        SlaAtRisk {
            #[serde(default)]
            clock: Option<ClockKind>,
        },
        SlaBreached {
            #[serde(default)]
            clock: Option<ClockKind>,
        },
        PhaseOverdue {
            #[serde(default)]
            phase: Option<PhaseId>,
        },
        Severity {
            at_least: SeverityId,
        },
        RiskSignal {
            signal: SignalId,
        },
    }
}

/// Whether the strict reader refused what the derive read from its
/// buffered copy: a positional array, or a tag that is not a string (the
/// derive took `0` for the first variant inside a buffered object).
fn strict_refusal(error: &Error) -> bool {
    let detail = format!("{error:?}");
    detail.contains("invalid type: sequence, expected ")
        || detail.contains("expected variant identifier")
}

/// An error's Debug form without its path.
fn pathless(error: &Error) -> String {
    format!("{error:?}").replace(error.path().as_str(), "<path>")
}

/// Reads `doc` as the only item of a list, with `Ours` and with the
/// derive `Old`, and holds the two readings to each other (see the module
/// documentation).
fn same<Ours: DeserializeOwned + Debug, Old: DeserializeOwned + Debug>(doc: &Value) {
    let root = JsonPath::root();
    let list = Value::Array(vec![doc.clone()]);
    let ours = json::typed::<Vec<Ours>>(list.clone(), &root);
    let old = json::typed::<Vec<Old>>(list, &root);
    let item = root.index(0);
    let item = item.as_str();
    match (&ours, &old) {
        (Ok(ours), Ok(old)) => assert_eq!(format!("{ours:?}"), format!("{old:?}"), "{doc}"),
        (Err(e), Ok(_)) => assert!(
            strict_refusal(e),
            "{doc}: refused ({e:?}) but the derive read it"
        ),
        (Ok(ours), Err(e)) => panic!("{doc}: read ({ours:?}) but the derive refused it ({e:?})"),
        (Err(ours), Err(old)) if ours.path() == old.path() => {
            if !strict_refusal(ours) {
                assert_eq!(ours, old, "{doc}");
            }
        }
        (Err(ours), Err(old)) => {
            let (new_path, old_path) = (ours.path().as_str(), old.path().as_str());
            if strict_refusal(ours) {
                assert!(new_path.starts_with(item), "{doc}: {ours:?} / {old:?}");
                return;
            }
            // A field's own path where the derive named only its object
            // (and, for a missing or unknown field, the field's name).
            assert_eq!(ours.code(), old.code(), "{doc}: {ours:?} / {old:?}");
            assert_eq!(pathless(ours), pathless(old), "{doc}");
            assert!(
                new_path.starts_with(item) && new_path.len() > item.len(),
                "{doc}: {ours:?} / {old:?}"
            );
            let old_tail = old_path.strip_prefix(item);
            let last = ours.path().last_key();
            assert!(
                old_tail == Some("") || (old_tail.is_some() && old.path().last_key() == last),
                "{doc}: {ours:?} / {old:?}"
            );
        }
    }
}

const AT: &str = "2026-06-01T01:00:00Z";

fn a_case() -> Value {
    json!({
        "case": "c-1", "category": "outage", "opened_at": AT, "bundle_version": "1",
        "events": [{"type": "agent_reply", "at": AT}, {"type": "escalated", "at": AT, "by": "lead", "level": 2}]
    })
}

/// Values a field may be given: right for some field, wrong for others.
fn field_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(json!(AT)),
        Just(json!("2026-06-01")),
        Just(json!("not a time")),
        Just(json!("m")),
        Just(json!("")),
        Just(json!("active")),
        Just(json!("first_response")),
        Just(json!(0)),
        Just(json!(7)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(1.5)),
        Just(json!(true)),
        Just(Value::Null),
    ];
    prop_oneof![
        8 => scalar.clone(),
        1 => proptest::collection::vec(scalar.clone(), 0..3).prop_map(Value::Array),
        1 => Just(a_case()),
        1 => Just(json!({"case": "c-2"})),
        1 => Just(json!([])),
        1 => Just(json!({})),
    ]
}

/// An object near a tagged enum's schema: a tag (one of `tags`, unknown,
/// or not a string) or none, and some of `fields` (and an unknown one).
fn near(
    tag: &'static str,
    tags: &'static [&'static str],
    fields: &'static [&'static str],
) -> impl Strategy<Value = Value> {
    let tag_value = prop_oneof![
        6 => proptest::sample::select(tags).prop_map(|t| json!(t)),
        1 => Just(json!("nope")),
        1 => Just(json!(0)),
        1 => Just(Value::Null),
        1 => Just(json!(["usage"])),
    ];
    let key = prop_oneof![
        8 => proptest::sample::select(fields),
        1 => Just("x"),
        1 => Just("a b"),
    ];
    let object = (
        proptest::option::weighted(0.9, tag_value),
        proptest::collection::btree_map(key, field_value(), 0..5),
    )
        .prop_map(move |(tag_value, fields)| {
            let mut map: serde_json::Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            if let Some(t) = tag_value {
                map.insert(tag.to_string(), t);
            }
            Value::Object(map)
        });
    prop_oneof![
        4 => object,
        1 => field_value(),
        1 => proptest::collection::vec(field_value(), 0..4).prop_map(|mut items| {
            items.insert(0, json!(tags[0]));
            Value::Array(items)
        }),
    ]
}

/// A change to a valid document.
#[derive(Debug, Clone)]
enum Change {
    /// Removes the field at this position (of the fields there are).
    Remove(usize),
    /// Sets a field.
    Set(&'static str, Value),
    /// Sets the tag to another variant's name.
    Retag(&'static str),
}

/// One of `valid` (a document per variant), read as it is or with a few
/// changes: fields removed, added or given other values, another tag.
fn changed(
    tag: &'static str,
    tags: &'static [&'static str],
    fields: &'static [&'static str],
    valid: Vec<Value>,
) -> impl Strategy<Value = Value> {
    let change = prop_oneof![
        (0..4_usize).prop_map(Change::Remove),
        (proptest::sample::select(fields), field_value()).prop_map(|(k, v)| Change::Set(k, v)),
        proptest::sample::select(tags).prop_map(Change::Retag),
    ];
    (
        proptest::sample::select(valid),
        proptest::collection::vec(change, 0..3),
    )
        .prop_map(move |(mut doc, changes)| {
            let map = doc.as_object_mut().unwrap();
            for change in changes {
                match change {
                    Change::Remove(i) => {
                        if let Some(key) = map.keys().nth(i % map.len().max(1)).cloned() {
                            map.remove(&key);
                        }
                    }
                    Change::Set(k, v) => {
                        map.insert(k.to_string(), v);
                    }
                    Change::Retag(t) => {
                        map.insert(tag.to_string(), json!(t));
                    }
                }
            }
            doc
        })
}

const SCENARIO_TAGS: &[&str] = &[
    "usage",
    "seats",
    "contract",
    "installation",
    "deployment",
    "case",
];
const SCENARIO_FIELDS: &[&str] = &[
    "at",
    "metric",
    "amount",
    "active",
    "status",
    "installation",
    "last_seen",
    "case",
];

type ScenarioEvent = entitle_core::simulate::scenario::ScenarioEvent;

#[test]
fn scenario_events_read_as_the_derive_reads_them() {
    let docs = [
        json!({"type": "usage", "at": AT, "metric": "api_calls", "amount": 3}),
        json!({"at": AT, "metric": "api_calls", "amount": 3, "type": "usage"}),
        json!({"type": "seats", "at": AT, "active": 2}),
        json!({"type": "seats", "at": AT, "active": 2, "a b": 1}),
        json!({"type": "contract", "at": AT, "status": "suspended"}),
        json!({"type": "contract", "at": AT, "status": "nope"}),
        json!({"type": "installation", "at": AT, "installation": "i-1"}),
        json!({"type": "installation", "at": AT, "installation": "i-1", "last_seen": AT}),
        json!({"type": "installation", "at": AT, "installation": "i-1", "last_seen": null}),
        json!({"type": "deployment", "at": AT, "installation": "i-1"}),
        json!({"type": "case", "case": a_case()}),
        json!({"type": "case", "case": {"case": "c-1"}}),
        json!({"type": "case", "case": {"case": "c-1", "category": "o", "opened_at": AT, "bundle_version": "1", "events": [{"type": 0}]}}),
        json!({"type": "usage", "at": "bad", "metric": "m", "amount": 1}),
        json!({"type": "usage", "at": AT, "metric": "m", "amount": -1}),
        json!({"type": "usage", "at": AT, "metric": "m", "amount": 1.5}),
        json!({"type": "usage", "at": AT, "metric": "m"}),
        json!({"type": "usage", "at": AT, "metric": "m", "amount": 1, "active": 2}),
        json!({"type": "usagex", "at": AT}),
        json!({"type": 0, "at": AT}),
        json!({"type": null}),
        json!({"type": ["usage"]}),
        json!({"at": AT}),
        json!({}),
        json!(null),
        json!("usage"),
        json!(3),
        json!(["usage", AT, "m", 1]),
        json!([]),
    ];
    for doc in &docs {
        same::<ScenarioEvent, derived::ScenarioEvent>(doc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn scenario_events_near_the_schema(doc in near("type", SCENARIO_TAGS, SCENARIO_FIELDS)) {
        same::<ScenarioEvent, derived::ScenarioEvent>(&doc);
    }

    #[test]
    fn scenario_events_changed(doc in changed("type", SCENARIO_TAGS, SCENARIO_FIELDS, vec![
        json!({"type": "usage", "at": AT, "metric": "api_calls", "amount": 3}),
        json!({"type": "seats", "at": AT, "active": 2}),
        json!({"type": "contract", "at": AT, "status": "suspended"}),
        json!({"type": "installation", "at": AT, "installation": "i-1", "last_seen": AT}),
        json!({"type": "deployment", "at": AT, "installation": "i-1"}),
        json!({"type": "case", "case": a_case()}),
    ])) {
        same::<ScenarioEvent, derived::ScenarioEvent>(&doc);
    }
}

const CASE_EVENT_TAGS: &[&str] = &[
    "agent_reply",
    "customer_reply",
    "waiting_on_customer",
    "resumed",
    "phase_entered",
    "evidence_received",
    "risk_signal",
    "escalated",
    "override",
    "escalation_paused",
    "resolved",
    "reopened",
];
const CASE_EVENT_FIELDS: &[&str] = &[
    "at", "phase", "evidence", "signal", "by", "level", "owner", "severity", "until",
];

type CaseEvent = entitle_core::support::case::Event;

#[test]
fn case_events_read_as_the_derive_reads_them() {
    let mut docs = vec![
        json!({"type": "escalated", "at": AT, "by": "lead", "level": 2}),
        json!({"type": "escalated", "at": AT, "by": "lead", "level": -2}),
        json!({"type": "escalated", "at": AT, "by": "lead", "level": 4_294_967_296_u64}),
        json!({"type": "override", "at": AT, "by": "lead"}),
        json!({"type": "override", "at": AT, "by": "lead", "owner": "x", "severity": null}),
        json!({"type": "override", "at": AT, "by": "lead", "owner": 3}),
        json!({"type": "escalation_paused", "at": AT, "by": "lead", "until": "soon"}),
        json!({"type": "phase_entered", "at": AT}),
        json!({"type": "risk_signal", "at": AT, "signal": "churn", "evidence": "e"}),
        json!({"type": "reopened", "at": AT, "x": 1}),
        json!({"type": "reopened", "at": AT, "type2": 1}),
        json!({"type": 0, "at": AT}),
        json!({"type": "Reopened", "at": AT}),
        json!({"at": AT}),
        json!(["agent_reply", AT]),
        json!(null),
    ];
    for tag in CASE_EVENT_TAGS {
        docs.push(json!({"type": tag, "at": AT}));
        docs.push(json!({"type": tag, "at": AT, "phase": "p", "evidence": "e", "signal": "s"}));
    }
    for doc in &docs {
        same::<CaseEvent, derived::Event>(doc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn case_events_near_the_schema(doc in near("type", CASE_EVENT_TAGS, CASE_EVENT_FIELDS)) {
        same::<CaseEvent, derived::Event>(&doc);
    }

    #[test]
    fn case_events_changed(doc in changed("type", CASE_EVENT_TAGS, CASE_EVENT_FIELDS, vec![
        json!({"type": "agent_reply", "at": AT}),
        json!({"type": "customer_reply", "at": AT}),
        json!({"type": "waiting_on_customer", "at": AT}),
        json!({"type": "resumed", "at": AT}),
        json!({"type": "phase_entered", "at": AT, "phase": "validation"}),
        json!({"type": "evidence_received", "at": AT, "evidence": "logs"}),
        json!({"type": "risk_signal", "at": AT, "signal": "churn"}),
        json!({"type": "escalated", "at": AT, "by": "lead", "level": 2}),
        json!({"type": "override", "at": AT, "by": "lead", "owner": "o", "severity": "high"}),
        json!({"type": "escalation_paused", "at": AT, "by": "lead", "until": AT}),
        json!({"type": "resolved", "at": AT}),
        json!({"type": "reopened", "at": AT}),
    ])) {
        same::<CaseEvent, derived::Event>(&doc);
    }
}

const TRIGGER_TAGS: &[&str] = &[
    "sla_at_risk",
    "sla_breached",
    "phase_overdue",
    "severity",
    "risk_signal",
];
const TRIGGER_FIELDS: &[&str] = &["clock", "phase", "at_least", "signal"];

type Trigger = entitle_core::support::policy::Trigger;

#[test]
fn triggers_read_as_the_derive_reads_them() {
    let mut docs = vec![
        json!({"trigger": "sla_breached", "clock": "resolution"}),
        json!({"trigger": "sla_breached", "clock": "never"}),
        json!({"trigger": "sla_breached", "clock": null}),
        json!({"trigger": "sla_at_risk", "clock": 1}),
        json!({"trigger": "phase_overdue", "phase": "investigation"}),
        json!({"trigger": "severity", "at_least": "high"}),
        json!({"trigger": "severity"}),
        json!({"trigger": "risk_signal", "signal": "legal_threat", "clock": "update"}),
        json!({"trigger": "risk_signal", "signal": ["legal_threat"]}),
        json!({"trigger": 3}),
        json!({"trigger": "sla_breach"}),
        json!({"type": "sla_breached"}),
        json!(["sla_breached", "resolution"]),
        json!(["sla_breached"]),
        json!("sla_breached"),
    ];
    for tag in TRIGGER_TAGS {
        docs.push(json!({ "trigger": tag }));
    }
    for doc in &docs {
        same::<Trigger, derived::Trigger>(doc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn triggers_near_the_schema(doc in near("trigger", TRIGGER_TAGS, TRIGGER_FIELDS)) {
        same::<Trigger, derived::Trigger>(&doc);
    }

    #[test]
    fn triggers_changed(doc in changed("trigger", TRIGGER_TAGS, TRIGGER_FIELDS, vec![
        json!({"trigger": "sla_at_risk", "clock": "update"}),
        json!({"trigger": "sla_breached", "clock": "resolution"}),
        json!({"trigger": "phase_overdue", "phase": "validation"}),
        json!({"trigger": "severity", "at_least": "high"}),
        json!({"trigger": "risk_signal", "signal": "churn"}),
    ])) {
        same::<Trigger, derived::Trigger>(&doc);
    }
}
