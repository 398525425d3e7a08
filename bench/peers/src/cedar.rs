//! The gates in Cedar: `data/gate.cedar`, with the licenses as principals
//! (status, tier, add-ons, term, limits) and the features as resources (the
//! tiers and add-ons that grant each), parsed once; `now`, `used` and
//! `amount` travel in the request's context.

use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityId, EntityUid, PolicySet, Request,
    RestrictedExpression,
};
use serde_json::{json, Value};

use crate::{Facts, Gate, Input};

/// The policy set and entities, parsed once.
pub struct CedarGate {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    use_feature: EntityUid,
    consume: EntityUid,
}

impl CedarGate {
    /// Parses `data/gate.cedar` and makes the entities from `facts`.
    pub fn new(facts: &Facts) -> CedarGate {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/gate.cedar"))
            .unwrap();
        let policies = PolicySet::from_str(&text).unwrap();
        let entities = Entities::from_json_value(entities_json(facts), None).unwrap();
        CedarGate {
            authorizer: Authorizer::new(),
            policies,
            entities,
            use_feature: uid("Action", "use"),
            consume: uid("Action", "consume"),
        }
    }

    /// The request for `input`: principal, action, resource and context.
    pub fn request(&self, input: &Input) -> Request {
        let principal = uid("License", input.license);
        let now = (
            "now".to_string(),
            RestrictedExpression::new_long(input.now.seconds),
        );
        let (action, resource, context) = match input.gate {
            Gate::Feature(feature) => (
                self.use_feature.clone(),
                uid("Feature", feature),
                Context::from_pairs([now]).unwrap(),
            ),
            Gate::Consume {
                metric,
                amount,
                used,
            } => (
                self.consume.clone(),
                uid("Feature", metric),
                Context::from_pairs([
                    now,
                    ("used".to_string(), long(used)),
                    ("amount".to_string(), long(amount)),
                ])
                .unwrap(),
            ),
        };
        Request::new(principal, action, resource, context, None).unwrap()
    }

    /// Whether the policies permit `request`.
    pub fn allows(&self, request: &Request) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}

fn uid(kind: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(kind.parse().unwrap(), EntityId::new(id))
}

fn long(n: u64) -> RestrictedExpression {
    RestrictedExpression::new_long(i64::try_from(n).unwrap())
}

/// The entities in Cedar's JSON form.
fn entities_json(facts: &Facts) -> Value {
    let mut entities: Vec<Value> = facts
        .licenses
        .iter()
        .map(|l| {
            json!({
                "uid": {"type": "License", "id": l.id},
                "attrs": {
                    "status": l.status,
                    "tier": l.tier,
                    "addons": l.addons,
                    "term_start": l.term_start,
                    "term_end": l.term_end,
                    "limits": l.limits,
                },
                "parents": []
            })
        })
        .collect();
    entities.extend(facts.features.iter().map(|(name, f)| {
        json!({
            "uid": {"type": "Feature", "id": name},
            "attrs": {"tiers": f.tiers, "addons": f.addons},
            "parents": []
        })
    }));
    Value::Array(entities)
}
