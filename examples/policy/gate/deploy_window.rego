# Weekend deployments to production are allowed but flagged.
package evident.gate.deploy_window

import rego.v1

controls := ["soc2:CC8.1"]

warn contains msg if {
	input.environment == "prod"
	day := time.weekday(time.parse_rfc3339_ns(input.now))
	day in {"Saturday", "Sunday"}
	msg := sprintf("production deployment on a %s; make sure someone is on call", [day])
}
