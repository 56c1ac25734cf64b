provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

resource "aws_s3_bucket" "reports" {
  bucket = "acme-${var.region}-reports"
  acl    = "public-read"
}

resource "aws_s3_bucket" "audit" {
  bucket = "acme-audit"

  versioning {
    enabled = true
  }
}

resource "aws_security_group" "bastion" {
  name = "bastion"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
