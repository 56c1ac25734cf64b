# Deployment rules, written in Rego v0 syntax (rule bodies without `if`).
package main

deny[msg] {
	input.kind == "Deployment"
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("Deployment %s may run as root; set spec.template.spec.securityContext.runAsNonRoot: true", [input.metadata.name])
}

# Named `deny_<suffix>` so that an exception can exempt it by `unpinned_image`.
deny_unpinned_image[msg] {
	input.kind == "Deployment"
	container := input.spec.template.spec.containers[_]
	endswith(container.image, ":latest")
	msg := sprintf("Deployment %s: container %s uses the moving tag of %s; pin a version or digest", [input.metadata.name, container.name, container.image])
}

# A message can carry metadata next to `msg`.
violation[{"msg": msg, "owner_label": "owner"}] {
	input.kind == "Deployment"
	not input.metadata.labels.owner
	msg := sprintf("Deployment %s has no owner label", [input.metadata.name])
}
