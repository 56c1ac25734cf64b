# Dockerfile rules. Conftest's dockerfile shape: input is the list of instructions, each
# {"Cmd": "from", "Flags": [...], "Value": [...], "Stage": 0, "JSON": false, "SubCmd": ""}.
package main

import rego.v1

deny contains msg if {
	some instruction in input
	instruction.Cmd == "from"
	image := instruction.Value[0]
	endswith(image, ":latest")
	msg := sprintf("stage %d starts from %s; pin a version", [instruction.Stage, image])
}

deny contains msg if {
	last := max({instruction.Stage | some instruction in input})
	not runs_as_user(last)
	msg := "the final stage runs as root; add a USER instruction with a non-root user"
}

warn contains msg if {
	some instruction in input
	instruction.Cmd == "add"
	msg := sprintf("stage %d: prefer COPY to ADD (%s)", [instruction.Stage, concat(" ", instruction.Value)])
}

runs_as_user(stage) if {
	some instruction in input
	instruction.Cmd == "user"
	instruction.Stage == stage
	not instruction.Value[0] in {"root", "0", "0:0"}
}
