package main

import rego.v1

hardened := {
	"kind": "Deployment",
	"metadata": {"name": "web", "labels": {"owner": "web-team"}},
	"spec": {"template": {"spec": {
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "web", "image": "registry.example.com/web:2.3.1"}],
	}}},
}

test_hardened_deployment_passes if {
	count(deny) == 0 with input as hardened
	count(deny_unpinned_image) == 0 with input as hardened
	count(violation) == 0 with input as hardened
}

test_root_is_denied if {
	some msg in deny with input as json.remove(hardened, ["spec/template/spec/securityContext"])
	contains(msg, "may run as root")
}

test_latest_tag_is_denied if {
	latest := json.patch(hardened, [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "web:latest"}])
	count(deny_unpinned_image) == 1 with input as latest
}

test_annotation_grants_an_exception if {
	annotated := json.patch(hardened, [{"op": "add", "path": "/metadata/annotations", "value": {"policy.example.com/allow-latest": "true"}}])
	exception == {["unpinned_image"]} with input as annotated
}

test_missing_owner_is_a_violation if {
	some v in violation with input as json.remove(hardened, ["metadata/labels"])
	v.owner_label == "owner"
}

test_load_balancer_warns if {
	count(warn) == 1 with input as {"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}}
}
