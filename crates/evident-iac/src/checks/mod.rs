//! The IaC checks: one entry each (id, title, severity, controls, why, fix), the resource kinds
//! it looks at and its logic. Every check has a fixture folder under
//! `tests/fixtures/checks/<id>/` with failing (`fail*`) and passing (`pass*`) inputs.

use std::collections::HashMap;
use std::sync::OnceLock;

use evident_core::{Check, Confidence, Severity};

use crate::Options;
use crate::model::{Model, Resource};

pub mod aws;
pub mod azure;
pub(crate) mod common;
pub mod docker;
pub mod gcp;
pub mod kubernetes;

/// What a check can see besides the resource: the whole model (to follow references between
/// resources) and the policy from evident.toml.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub options: &'a Options,
}

/// One place a check failed on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The 1-based line of the offending attribute (the resource's line when it is missing).
    pub line: u32,
    /// What is wrong here, naming the attribute and its value (never a secret's value).
    pub message: String,
    /// What tells several hits on one resource apart (a container name, an instruction line's
    /// text); empty when a check hits a resource once.
    pub key: String,
}

impl Hit {
    pub fn new(line: u32, message: impl Into<String>) -> Self {
        Hit {
            line,
            message: message.into(),
            key: String::new(),
        }
    }

    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }
}

/// A check's logic: pushes a [`Hit`] for every failure it finds on the resource.
pub type Run = fn(&Ctx<'_>, &Resource, &mut Vec<Hit>);

/// A check of this scanner: its metadata, the kinds it applies to and its logic.
pub struct IacCheck {
    pub meta: Check,
    /// Resource kinds (`aws_s3_bucket`, `AWS::S3::Bucket`, `Deployment`, `Dockerfile`).
    pub kinds: &'static [&'static str],
    pub run: Run,
    /// The offending line may hold a secret's value: findings carry no source snippet.
    pub secret_bearing: bool,
}

impl std::fmt::Debug for IacCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IacCheck")
            .field("id", &self.meta.id)
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl IacCheck {
    /// Marks a check whose offending line may hold a secret (its findings never quote the
    /// source line).
    #[must_use]
    pub fn handles_secrets(mut self) -> Self {
        self.secret_bearing = true;
        self
    }

    /// Lowers the confidence (the default is high).
    #[must_use]
    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.meta.confidence = confidence;
        self
    }
}

/// Declares a check.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check(
    id: &str,
    title: &str,
    severity: Severity,
    controls: &[&str],
    why: &str,
    fix: &str,
    kinds: &'static [&'static str],
    run: Run,
) -> IacCheck {
    IacCheck {
        meta: Check {
            id: id.to_owned(),
            scanner: crate::SCANNER.to_owned(),
            title: title.to_owned(),
            severity,
            confidence: Confidence::High,
            controls: controls.iter().map(|c| (*c).to_owned()).collect(),
            why: why.to_owned(),
            fix: fix.to_owned(),
        },
        kinds,
        run,
        secret_bearing: false,
    }
}

/// Every IaC check, sorted by id.
pub fn all() -> &'static [IacCheck] {
    static ALL: OnceLock<Vec<IacCheck>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut checks = aws::checks();
        checks.extend(gcp::checks());
        checks.extend(azure::checks());
        checks.extend(kubernetes::checks());
        checks.extend(docker::checks());
        checks.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        checks
    })
}

/// The checks that apply to each resource kind.
pub(crate) fn by_kind() -> &'static HashMap<&'static str, Vec<&'static IacCheck>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<&'static IacCheck>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: HashMap<&'static str, Vec<&'static IacCheck>> = HashMap::new();
        for c in all() {
            for kind in c.kinds {
                index.entry(kind).or_default().push(c);
            }
        }
        index
    })
}

/// The metadata of every check, for `evident checks` and the docs.
pub fn metadata() -> Vec<Check> {
    all().iter().map(|c| c.meta.clone()).collect()
}
