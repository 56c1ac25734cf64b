//! `gemfile` lockfiles (not yet read).

use std::path::Path;

use crate::model::{ParseError, Parsed};

pub fn parse(_root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    Err(ParseError::new(
        rel,
        None,
        "this lockfile format is not read yet",
    ))
}
