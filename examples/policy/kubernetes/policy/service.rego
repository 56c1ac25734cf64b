# Service rules and exceptions, written in Rego v1 syntax. Both syntaxes can share a package.
package main

import rego.v1

warn contains msg if {
	input.kind == "Service"
	input.spec.type == "LoadBalancer"
	msg := sprintf("Service %s is reachable from outside the cluster (type LoadBalancer)", [input.metadata.name])
}

# Workloads annotated as allowed to follow a moving tag are exempt from deny_unpinned_image.
exception contains ["unpinned_image"] if {
	input.metadata.annotations["policy.example.com/allow-latest"] == "true"
}
