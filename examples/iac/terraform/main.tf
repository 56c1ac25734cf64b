locals {
  name   = "acme-${var.environment}"
  owners = { platform = "platform-team", data = "data-team" }
}

# Evidence for auditors: kept for 7 years, versioned and locked.
resource "aws_s3_bucket" "evidence" {
  bucket              = "${local.name}-evidence"
  object_lock_enabled = true
}

resource "aws_s3_bucket_versioning" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.evidence.arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "evidence" {
  bucket                  = aws_s3_bucket.evidence.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_logging" "evidence" {
  bucket        = aws_s3_bucket.evidence.id
  target_bucket = "acme-access-logs"
  target_prefix = "evidence/"
}

resource "aws_s3_bucket_policy" "evidence" {
  bucket = aws_s3_bucket.evidence.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyPlainHttp"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::${local.name}-evidence", "arn:aws:s3:::${local.name}-evidence/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_kms_key" "evidence" {
  description         = "evidence bucket key"
  enable_key_rotation = true
}

# One bucket per team; the audit-log bucket of each has no versioning.
resource "aws_s3_bucket" "team_audit" {
  for_each = local.owners
  bucket   = "${local.name}-${each.key}-audit"
}

resource "aws_s3_bucket_public_access_block" "team_audit" {
  for_each            = local.owners
  bucket              = aws_s3_bucket.team_audit[each.key].id
  block_public_acls   = true
  block_public_policy = false
  ignore_public_acls  = true
  # evident:ignore aws-s3-public-access-block-disabled reason=fronted by CloudFront, reviewed in SEC-142
  restrict_public_buckets = true
}

resource "aws_db_instance" "orders" {
  identifier              = "${local.name}-orders"
  engine                  = "postgres"
  instance_class          = "db.t3.medium"
  allocated_storage       = 50
  storage_encrypted       = false
  publicly_accessible     = var.db_public
  backup_retention_period = 14
  deletion_protection     = true
}

resource "aws_iam_policy" "deployer" {
  name = "${local.name}-deployer"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["*"]
      Resource = "*"
    }]
  })
}

resource "aws_instance" "bastion" {
  count                       = 2
  ami                         = "ami-0abcdef1234567890"
  instance_type               = "t3.micro"
  associate_public_ip_address = true
  root_block_device {
    encrypted = true
  }
  metadata_options {
    http_tokens = "required"
  }
}

module "network" {
  source      = "./modules/network"
  name        = local.name
  admin_cidrs = var.admin_cidrs
}
