//! A repository's protection settings, normalised across GitHub (branch protection, rulesets,
//! the settings app's `settings.yml`) and GitLab (protected branches, approval rules).
//!
//! `None` means "not known from the input"; checks and drift treat it as unknown, never as
//! secure or insecure.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The protection of one branch (or branch pattern).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchProtection {
    /// Is the branch protected at all?
    pub protected: bool,
    /// Approving reviews required before merging.
    pub required_approvals: Option<u32>,
    /// New pushes dismiss earlier approvals.
    pub dismiss_stale_reviews: Option<bool>,
    /// Code owners must approve changes to the files they own.
    pub code_owner_review: Option<bool>,
    /// The last push must be approved by someone other than its author.
    pub last_push_approval: Option<bool>,
    /// Administrators are bound by the rules too.
    pub enforce_admins: Option<bool>,
    /// Status checks (job names) that must pass.
    pub required_status_checks: Option<BTreeSet<String>>,
    /// The branch must be up to date with the base before merging.
    pub strict_status_checks: Option<bool>,
    /// Force pushes are allowed (insecure when true).
    pub allow_force_pushes: Option<bool>,
    /// The branch may be deleted (insecure when true).
    pub allow_deletions: Option<bool>,
    /// Linear history is required.
    pub linear_history: Option<bool>,
    /// Review conversations must be resolved before merging.
    pub conversation_resolution: Option<bool>,
}

/// Where each branch's settings were read from, for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The input file, relative to where it was given.
    pub file: String,
    /// The 1-based line of the branch's entry, when the format has lines.
    pub line: Option<usize>,
}

/// Every protected branch of a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositorySettings {
    /// `github` or `gitlab`.
    pub platform: String,
    /// Branch name or pattern → its protection.
    pub branches: BTreeMap<String, BranchProtection>,
    /// Branch name or pattern → where it was read.
    #[serde(default)]
    pub origins: BTreeMap<String, Origin>,
    /// The input lists every protected branch (GitLab protected branches), so a branch missing
    /// from `branches` is known to be unprotected rather than unknown.
    #[serde(default)]
    pub lists_every_protected_branch: bool,
}
