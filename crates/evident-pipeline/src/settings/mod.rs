//! Repository settings: branch protection and rulesets (GitHub), protected branches and
//! approval rules (GitLab), checked against the change-management controls.

pub mod model;

pub use model::{BranchProtection, Origin, RepositorySettings};
