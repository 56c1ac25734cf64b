package evident.gate.change_management

import rego.v1

prod := {
	"environment": "prod",
	"project": {"name": "api", "tier": 1, "classification": "internal"},
	"approvals": [{"actor": "alice", "labels": {"ticket": "CHG-1"}}],
	"now": "2026-11-23T01:00:00Z",
}

test_ticketed_approval_passes if {
	count(deny) == 0 with input as prod
}

test_missing_ticket_is_denied if {
	some msg in deny with input as object.union(prod, {"approvals": [{"actor": "alice", "labels": {}}]})
	startswith(msg.msg, "production deployments need an approval")
}

test_malformed_ticket_is_denied if {
	count(deny) == 1 with input as object.union(prod, {"approvals": [{"actor": "alice", "labels": {"ticket": "soon"}}]})
}

test_staging_needs_no_ticket if {
	count(deny) == 0 with input as object.union(prod, {"environment": "staging", "approvals": []})
}

test_restricted_needs_two_approvers if {
	restricted := object.union(prod, {"project": {"classification": "restricted"}})
	some msg in deny with input as restricted
	msg.controls == ["nist-800-53:CM-3"]
	count(deny) == 0 with input as object.union(restricted, {"approvals": [
		{"actor": "alice", "labels": {"ticket": "CHG-1"}},
		{"actor": "bob", "labels": {}},
	]})
}
