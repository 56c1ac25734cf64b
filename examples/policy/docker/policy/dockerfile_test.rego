package main

import rego.v1

from(image, stage) := {"Cmd": "from", "Flags": [], "JSON": false, "Stage": stage, "SubCmd": "", "Value": [image]}

user(name, stage) := {"Cmd": "user", "Flags": [], "JSON": false, "Stage": stage, "SubCmd": "", "Value": [name]}

test_pinned_image_with_user_passes if {
	count(deny) == 0 with input as [from("alpine:3.20", 0), user("app", 0)]
}

test_latest_base_image_is_denied if {
	deny["stage 0 starts from alpine:latest; pin a version"] with input as [from("alpine:latest", 0), user("app", 0)]
}

test_root_in_the_final_stage_is_denied if {
	count(deny) == 1 with input as [from("golang:1.22", 0), user("app", 0), from("alpine:3.20", 1)]
}
