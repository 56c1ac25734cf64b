//! github CI definitions (not yet read).

use std::path::Path;

use evident_core::Check;

use crate::{FileResult, Options};

/// The checks of this module.
pub fn checks() -> Vec<Check> {
    Vec::new()
}

/// Finds and checks the CI files of this kind under `root`.
pub fn scan(_root: &Path, _options: &Options) -> FileResult {
    FileResult::default()
}
