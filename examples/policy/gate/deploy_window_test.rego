package evident.gate.deploy_window

import rego.v1

test_weekday_is_quiet if {
	count(warn) == 0 with input as {"environment": "prod", "now": "2026-11-23T01:00:00Z"}
}

test_sunday_warns if {
	warn["production deployment on a Sunday; make sure someone is on call"] with input as {"environment": "prod", "now": "2026-11-22T10:00:00Z"}
}

test_staging_weekend_is_quiet if {
	count(warn) == 0 with input as {"environment": "staging", "now": "2026-11-22T10:00:00Z"}
}
