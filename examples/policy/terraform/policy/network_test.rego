package main

test_public_bucket_is_denied if {
	deny["aws_s3_bucket.site: acl \"public-read\" makes the bucket public"] with input as {"resource": {"aws_s3_bucket": {"site": [{"acl": "public-read"}]}}}
}

test_private_versioned_bucket_passes if {
	count(deny) + count(warn) == 0 with input as {"resource": {"aws_s3_bucket": {"logs": [{"acl": "private", "versioning": [{"enabled": true}]}]}}}
}

test_ssh_from_anywhere_is_denied if {
	count(deny) == 1 with input as {"resource": {"aws_security_group": {"g": [{"ingress": [{"from_port": 0, "to_port": 65535, "cidr_blocks": ["0.0.0.0/0"]}]}]}}}
}

test_ssh_from_the_office_passes if {
	count(deny) == 0 with input as {"resource": {"aws_security_group": {"g": [{"ingress": [{"from_port": 22, "to_port": 22, "cidr_blocks": ["203.0.113.0/24"]}]}]}}}
}
