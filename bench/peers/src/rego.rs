//! The gates in Rego, evaluated by regorus: `data/gate.rego`, with the
//! licenses and features as `data` (added once) and each request as
//! `input`.

use regorus::{Engine, Value};
use serde_json::json;

use crate::{Facts, Gate, Input};

/// An engine with the policy and data added once.
pub struct RegoGate {
    engine: Engine,
}

impl RegoGate {
    /// Adds `data/gate.rego` and the data made from `facts`.
    pub fn new(facts: &Facts) -> RegoGate {
        let mut engine = Engine::new();
        let policy =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/gate.rego"))
                .unwrap();
        engine.add_policy("gate.rego".to_string(), policy).unwrap();
        let licenses: serde_json::Map<String, serde_json::Value> = facts
            .licenses
            .iter()
            .map(|l| {
                (
                    l.id.clone(),
                    json!({
                        "status": l.status, "tier": l.tier, "addons": l.addons,
                        "term_start": l.term_start, "term_end": l.term_end, "limits": l.limits,
                    }),
                )
            })
            .collect();
        let features: serde_json::Map<String, serde_json::Value> = facts
            .features
            .iter()
            .map(|(name, f)| (name.clone(), json!({"tiers": f.tiers, "addons": f.addons})))
            .collect();
        let data = json!({"licenses": licenses, "features": features});
        engine
            .add_data(Value::from_json_str(&data.to_string()).unwrap())
            .unwrap();
        RegoGate { engine }
    }

    /// The `input` for a request.
    pub fn input(input: &Input) -> Value {
        let value = match input.gate {
            Gate::Feature(feature) => json!({
                "license": input.license, "action": "use", "feature": feature,
                "now": input.now.seconds,
            }),
            Gate::Consume {
                metric,
                amount,
                used,
            } => json!({
                "license": input.license, "action": "consume", "feature": metric,
                "now": input.now.seconds, "used": used, "amount": amount,
            }),
        };
        Value::from_json_str(&value.to_string()).unwrap()
    }

    /// Whether `data.entitle.allow` holds for `input`.
    pub fn allows(&mut self, input: Value) -> bool {
        self.engine.set_input(input);
        let allow = self
            .engine
            .eval_rule("data.entitle.allow".to_string())
            .unwrap();
        *allow.as_bool().unwrap()
    }
}
