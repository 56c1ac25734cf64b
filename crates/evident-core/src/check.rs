use serde::{Deserialize, Serialize};

use crate::{Confidence, Severity};

/// What a check is: its permanent id and the metadata every finding of it carries.
///
/// Ids are kebab-case and permanent: renaming one breaks suppressions, exceptions and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub id: String,
    /// The scanner that owns the check (`secrets`, `iac`, …).
    pub scanner: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Framework control references such as `soc2:CC6.1` or `iso27001:A.8.4`.
    pub controls: Vec<String>,
    /// Why it matters, in one or two sentences.
    pub why: String,
    /// How to fix it.
    pub fix: String,
}

/// A check whose metadata is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error(
        "check id `{0}` is not kebab-case: use lower-case ASCII letters, digits and single dashes, e.g. `aws-access-key-id`"
    )]
    BadId(String),
    #[error("check `{id}` has an empty `{field}`: every check must say {hint}")]
    Empty {
        id: String,
        field: &'static str,
        hint: &'static str,
    },
    #[error("check `{0}` names no control: map it to at least one framework control")]
    NoControls(String),
}

impl Check {
    /// Is `id` a valid permanent check id (kebab-case ASCII)?
    pub fn is_valid_id(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= 80
            && !id.starts_with('-')
            && !id.ends_with('-')
            && !id.contains("--")
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && id.as_bytes()[0].is_ascii_lowercase()
    }

    /// Checks the metadata is complete. Control references are resolved by the caller against
    /// the catalogs (`evident-controls`), which this crate does not depend on.
    pub fn validate(&self) -> Result<(), CheckError> {
        if !Self::is_valid_id(&self.id) {
            return Err(CheckError::BadId(self.id.clone()));
        }
        for (field, value, hint) in [
            ("title", &self.title, "what it detects"),
            ("why", &self.why, "why the finding matters"),
            ("fix", &self.fix, "how to fix the finding"),
        ] {
            if value.trim().is_empty() {
                return Err(CheckError::Empty {
                    id: self.id.clone(),
                    field,
                    hint,
                });
            }
        }
        if self.controls.is_empty() {
            return Err(CheckError::NoControls(self.id.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_kebab_case() {
        for good in ["aws-access-key-id", "jwt", "pem-private-key2"] {
            assert!(Check::is_valid_id(good), "{good}");
        }
        for bad in ["", "AWS", "aws_key", "-a", "a-", "a--b", "1abc", "a b"] {
            assert!(!Check::is_valid_id(bad), "{bad}");
        }
    }
}
