//! Repository settings: branch protection and rulesets (GitHub), protected branches and
//! approval rules (GitLab), checked against the change-management controls.

pub mod model;

pub use model::{BranchProtection, Origin, RepositorySettings};

pub mod checks;
mod github;
mod gitlab;
mod read;
mod tree;

pub use checks::{check_settings, checks};
pub use read::{PROJECT, SettingsError, parse_settings, read_settings};
