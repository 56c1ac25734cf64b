use serde::{Deserialize, Serialize};

/// What a piece of evidence is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    /// A commit of a repository.
    Commit { repo: String, commit: String },
    /// A build artifact identified by its digest (`sha256:…`).
    Artifact { digest: String },
    /// A deployment environment.
    Environment { name: String },
    /// A directory that is not (or not known to be) a git repository.
    Path { path: String },
}
