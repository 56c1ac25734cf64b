# Production deployments need a recorded approval that names a change ticket.
package evident.gate.change_management

import rego.v1

# The controls this policy supports; every message cites them.
controls := ["soc2:CC8.1", "iso27001:A.8.32"]

deny contains msg if {
	input.environment == "prod"
	not ticketed_approval
	msg := {
		"msg": "production deployments need an approval that names a change ticket",
		"fix": "record an approval whose labels include ticket=<change ticket id>, e.g. ticket=CHG-1234",
	}
}

# Restricted data in production: two different people must approve.
deny contains msg if {
	input.environment == "prod"
	input.project.classification == "restricted"
	count({approval.actor | some approval in input.approvals}) < 2
	msg := {
		"msg": "restricted projects need approvals from two different people before a production deployment",
		"fix": "ask a second reviewer to record an approval",
		"controls": ["nist-800-53:CM-3"],
	}
}

ticketed_approval if {
	some approval in input.approvals
	regex.match(`^[A-Z][A-Z0-9]*-[0-9]+$`, approval.labels.ticket)
}
