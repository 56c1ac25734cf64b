#!/usr/bin/env python3
"""Writes a synthetic infrastructure repository for the IaC benchmark.

Usage: make_iac_corpus.py OUT_DIR [RESOURCES]

Half of the resources are Terraform (AWS, Google Cloud and Azure, across many root modules,
with variables, locals, count, for_each and a local module), half Kubernetes workloads and
services, plus Dockerfiles. Every other resource is misconfigured, so both the passing and the
failing paths of the checks run. The output is deterministic.
"""

import os
import sys


def tf_module(i, n):
    """A root module with about n resources."""
    parts = [
        f'variable "env" {{\n  default = "env{i}"\n}}\n',
        f'locals {{\n  prefix = "${{var.env}}-svc{i}"\n  encrypted = {"true" if i % 2 else "false"}\n}}\n',
    ]
    k = 0
    while k < n:
        bad = (k + i) % 2 == 0
        parts.append(
            f'resource "aws_s3_bucket" "b{k}" {{\n'
            f'  bucket = "${{local.prefix}}-audit-{k}"\n'
            f'  tags = {{ team = "t{k % 7}" }}\n'
            f"}}\n"
            f'resource "aws_s3_bucket_public_access_block" "b{k}" {{\n'
            f"  bucket = aws_s3_bucket.b{k}.id\n"
            f"  block_public_acls       = true\n"
            f"  block_public_policy     = {'false' if bad else 'true'}\n"
            f"  ignore_public_acls      = true\n"
            f"  restrict_public_buckets = true\n"
            f"}}\n"
            f'resource "aws_s3_bucket_versioning" "b{k}" {{\n'
            f"  bucket = aws_s3_bucket.b{k}.id\n"
            f'  versioning_configuration {{\n    status = "{"Suspended" if bad else "Enabled"}"\n  }}\n'
            f"}}\n"
        )
        parts.append(
            f'resource "aws_security_group" "sg{k}" {{\n'
            f'  name = "${{local.prefix}}-sg{k}"\n'
            f"  ingress {{\n    from_port   = {22 if bad else 443}\n    to_port     = {22 if bad else 443}\n"
            f'    protocol    = "tcp"\n    cidr_blocks = ["{"0.0.0.0/0" if bad else "10.0.0.0/8"}"]\n  }}\n'
            f"}}\n"
        )
        parts.append(
            f'resource "aws_db_instance" "db{k}" {{\n'
            f'  identifier          = "${{local.prefix}}-db{k}"\n'
            f'  engine              = "postgres"\n'
            f'  instance_class      = "db.t3.micro"\n'
            f"  storage_encrypted   = local.encrypted\n"
            f"  publicly_accessible = {'true' if bad else 'false'}\n"
            f"  backup_retention_period = {0 if bad else 14}\n"
            f"  deletion_protection = true\n"
            f"}}\n"
        )
        parts.append(
            f'resource "aws_iam_policy" "p{k}" {{\n'
            f'  name   = "${{local.prefix}}-p{k}"\n'
            f"  policy = jsonencode({{\n"
            f'    Version = "2012-10-17"\n'
            f'    Statement = [{{ Effect = "Allow", Action = ["{"s3:*" if bad else "s3:GetObject"}"], '
            f'Resource = "{"*" if bad else "arn:aws:s3:::x/*"}" }}]\n'
            f"  }})\n"
            f"}}\n"
        )
        parts.append(
            f'resource "google_storage_bucket" "g{k}" {{\n'
            f'  name     = "${{local.prefix}}-g{k}"\n'
            f'  location = "EU"\n'
            f"  uniform_bucket_level_access = {'false' if bad else 'true'}\n"
            f"}}\n"
            f'resource "google_compute_firewall" "fw{k}" {{\n'
            f'  name    = "fw{k}"\n  network = "default"\n'
            f'  allow {{\n    protocol = "tcp"\n    ports    = ["{3389 if bad else 443}"]\n  }}\n'
            f'  source_ranges = ["{"0.0.0.0/0" if bad else "10.0.0.0/8"}"]\n'
            f"}}\n"
        )
        parts.append(
            f'resource "azurerm_storage_account" "sa{k}" {{\n'
            f'  name                     = "sa{i}x{k}"\n'
            f'  resource_group_name      = "rg"\n  location = "westeurope"\n'
            f'  account_tier             = "Standard"\n  account_replication_type = "GRS"\n'
            f'  min_tls_version          = "{"TLS1_0" if bad else "TLS1_2"}"\n'
            f"  https_traffic_only_enabled = {'false' if bad else 'true'}\n"
            f"}}\n"
        )
        k += 1
    parts.append(
        'resource "aws_kms_key" "keys" {\n  count = 3\n  description = "key ${count.index}"\n'
        "  enable_key_rotation = true\n}\n"
        'resource "aws_ebs_volume" "vols" {\n  for_each = toset(["a", "b"])\n'
        '  availability_zone = "eu-west-1a"\n  size = 10\n  encrypted = each.key == "a"\n}\n'
        'module "net" {\n  source = "../modules/net"\n  name = local.prefix\n  open = true\n}\n'
    )
    return "".join(parts)


NET_MODULE = """variable "name" {}
variable "open" { default = false }
resource "aws_security_group" "this" {
  name = "${var.name}-net"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.open ? "0.0.0.0/0" : "10.0.0.0/8"]
  }
}
"""


def k8s_doc(i):
    bad = i % 2 == 0
    image = "nginx:latest" if bad else "registry.example.com/web@sha256:" + "ab" * 32
    sc = (
        "          securityContext:\n            privileged: true\n"
        if bad
        else "          securityContext:\n            runAsNonRoot: true\n"
        "            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n"
        "            capabilities:\n              drop: [ALL]\n"
    )
    limits = (
        ""
        if bad
        else "          resources:\n            limits:\n              cpu: 500m\n              memory: 256Mi\n"
        "            requests:\n              cpu: 100m\n              memory: 128Mi\n"
    )
    password = "hunter2" if bad else '""'  # evident:allow synthetic password in a generated fixture
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata:\n  name: web{i}\n  namespace: team{i % 9}\n"
        "spec:\n  replicas: 2\n  selector:\n    matchLabels:\n"
        f"      app: web{i}\n  template:\n    metadata:\n      labels:\n        app: web{i}\n"
        f"    spec:\n      hostNetwork: {'true' if bad else 'false'}\n"
        "      containers:\n"
        f"        - name: web\n          image: {image}\n"
        f"          env:\n            - name: DB_PASSWORD\n              value: {password}\n"
        f"{sc}{limits}"
        "---\napiVersion: v1\nkind: Service\n"
        f"metadata:\n  name: web{i}\n  namespace: team{i % 9}\n"
        f"spec:\n  type: {'LoadBalancer' if bad else 'ClusterIP'}\n  selector:\n    app: web{i}\n"
        "  ports:\n    - port: 80\n"
    )


DOCKERFILE_BAD = """FROM node:latest
ENV API_TOKEN=abc123
ADD https://example.com/app.tar.gz /app/
RUN curl -sSL https://example.com/install.sh | sh
EXPOSE 22
CMD ["node", "server.js"]
"""

DOCKERFILE_GOOD = """FROM docker.io/library/node:20.11.1@sha256:%s AS build
WORKDIR /src
COPY . .
RUN --mount=type=secret,id=npm npm ci && npm run build

FROM docker.io/library/node:20.11.1@sha256:%s
COPY --from=build /src/dist /app
USER 10001
HEALTHCHECK CMD ["node", "/app/health.js"]
CMD ["node", "/app/server.js"]
""" % ("cd" * 32, "cd" * 32)


def main():
    out = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    # Terraform: each module unit (k) is 9 resources; modules hold 4 units plus 6 extras.
    tf_target = total // 2
    per_module = 4 * 9 + 6
    modules = max(1, tf_target // per_module)
    os.makedirs(os.path.join(out, "modules", "net"), exist_ok=True)
    with open(os.path.join(out, "modules", "net", "main.tf"), "w") as f:
        f.write(NET_MODULE)
    tf_count = 0
    for i in range(modules):
        d = os.path.join(out, "terraform", f"stack{i:04d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "main.tf"), "w") as f:
            f.write(tf_module(i, 4).replace("../modules/net", "../../modules/net"))
        tf_count += per_module
    k8s_target = total - tf_count
    docs = max(1, k8s_target // 2)
    kdir = os.path.join(out, "k8s")
    os.makedirs(kdir, exist_ok=True)
    per_file = 50
    for start in range(0, docs, per_file):
        with open(os.path.join(kdir, f"apps{start // per_file:03d}.yaml"), "w") as f:
            f.write("---\n".join(k8s_doc(i) for i in range(start, min(docs, start + per_file))))
    for i in range(20):
        d = os.path.join(out, "services", f"svc{i:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "Dockerfile"), "w") as f:
            f.write(DOCKERFILE_BAD if i % 2 == 0 else DOCKERFILE_GOOD)
    print(f"{out}: {tf_count} Terraform resources in {modules} root modules, "
          f"{docs * 2} Kubernetes objects, 20 Dockerfiles")


if __name__ == "__main__":
    main()
