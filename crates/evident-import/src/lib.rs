//! Importers: other tools' findings as evident findings.
//!
//! [`import_sarif`] reads a SARIF 2.1.0 log from any tool (Semgrep, CodeQL, SonarQube, Trivy,
//! Checkov, gitleaks, OWASP ZAP, …) and turns each run into a [`ScanReport`] whose findings are
//! mapped to framework controls by the tool's [`Category`], so SAST/DAST/SCA/IaC evidence from
//! those tools can satisfy a policy gate.
//!
//! What is never copied: `region.snippet` and `contextRegion` text (of any tool), and for secrets
//! tools the result messages and rule descriptions as well — they hold the secret.
//!
//! [`ScanReport`]: evident_core::ScanReport

mod category;
mod error;
mod json;
mod levels;
mod sarif;
mod text;
mod uri;

pub use category::{Category, ParseCategoryError};
pub use error::ImportError;
pub use sarif::{ImportOptions, Imported, import_sarif};
