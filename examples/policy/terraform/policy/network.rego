# Terraform rules, in Rego v1 syntax without `import rego.v1` (the OPA 1.0 default).
#
# Conftest's hcl2 shape: input.resource.<type>.<name> is a list of block bodies, and nested
# blocks (ingress, versioning) are lists too.
package main

deny contains msg if {
	some name, bodies in input.resource.aws_s3_bucket
	some bucket in bodies
	bucket.acl in {"public-read", "public-read-write"}
	msg := sprintf("aws_s3_bucket.%s: acl %q makes the bucket public", [name, bucket.acl])
}

deny contains msg if {
	some name, bodies in input.resource.aws_security_group
	some group in bodies
	some rule in group.ingress
	"0.0.0.0/0" in rule.cidr_blocks
	rule.from_port <= 22
	rule.to_port >= 22
	msg := sprintf("aws_security_group.%s: SSH (port 22) is open to the whole internet", [name])
}

warn contains msg if {
	some name, bodies in input.resource.aws_s3_bucket
	some bucket in bodies
	not bucket.versioning
	msg := sprintf("aws_s3_bucket.%s: enable versioning so that overwritten objects can be recovered", [name])
}
