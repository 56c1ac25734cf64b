//! Infrastructure as code checked against the controls auditors test for secure configuration
//! and change management (SOC 2 CC6.x, CC7.1, CC8.1; ISO 27001 A.8.9, A.8.20, A.8.24, A.8.25).
//!
//! Inputs are loaded into one [`model`]: Terraform HCL ([`terraform`], evaluated as far as the
//! checks need: variables, tfvars, locals, references, `count`/`for_each`, `dynamic` blocks,
//! local modules), Terraform plan JSON ([`terraform::plan`]), Kubernetes manifests
//! ([`kubernetes`]), Dockerfiles ([`dockerfile`]) and CloudFormation ([`cloudformation`]).
//! The [`checks`] run on that model; [`engine`] finds the inputs, runs the checks in parallel
//! and honours inline `evident:ignore` suppressions ([`suppress`]).

use std::path::PathBuf;

use evident_core::ScanError;

pub mod checks;
pub mod cloudformation;
pub mod dockerfile;
pub mod engine;
pub mod kubernetes;
pub mod model;
pub mod suppress;
pub mod terraform;
pub mod yaml;

pub use engine::{scan, scan_files, scan_stdin};

/// The scanner name of these checks.
pub const SCANNER: &str = "iac";

/// The IaC policy from `[iac]` in evident.toml and the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Registries images may come from (`registry.example.com`, `ghcr.io/acme`): an image
    /// outside them is a finding. Empty: every registry is allowed.
    pub approved_registries: Vec<String>,
    /// Name globs of buckets that hold evidence or audit logs and must have versioning and
    /// Object Lock (`*-evidence*`). Empty: the built-in patterns (`*evidence*`, `*audit*`,
    /// `*cloudtrail*`).
    pub evidence_buckets: Vec<String>,
    /// Terraform variable files (`-var-file`), applied after `terraform.tfvars` and
    /// `*.auto.tfvars`.
    pub var_files: Vec<PathBuf>,
    /// Terraform variables (`-var name=value`), applied last.
    pub vars: Vec<(String, String)>,
}

/// What a loader produced from its input: resources, and what it could not read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub resources: Vec<model::Resource>,
    pub errors: Vec<ScanError>,
    /// Input files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Things the user should know that are not findings (e.g. a remote module not followed).
    pub notes: Vec<String>,
}

impl Loaded {
    pub fn merge(&mut self, other: Loaded) {
        self.resources.extend(other.resources);
        self.errors.extend(other.errors);
        self.files += other.files;
        self.bytes += other.bytes;
        self.notes.extend(other.notes);
    }

    /// A load that failed as a whole.
    pub fn error(path: &str, message: impl Into<String>) -> Self {
        Loaded {
            errors: vec![ScanError {
                path: path.to_owned(),
                message: message.into(),
            }],
            ..Loaded::default()
        }
    }
}
