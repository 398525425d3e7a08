# The feature gate and the metered gate of data/gate.cedar, in Rego: the
# licenses and features are `data`, the request is `input`
# ({"license", "action": "use"|"consume", "feature", "now", "used", "amount"}).
package entitle

import rego.v1

default allow := false

license := data.licenses[input.license]

feature := data.features[input.feature]

in_force if {
	license.status == "active"
	license.term_start <= input.now
	input.now < license.term_end
}

granted if license.tier in feature.tiers

granted if {
	some addon in license.addons
	addon in feature.addons
}

allow if {
	input.action == "use"
	in_force
	granted
}

allow if {
	input.action == "consume"
	in_force
	granted
	input.used + input.amount <= license.limits[input.feature]
}
