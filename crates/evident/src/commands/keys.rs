//! `evident keys generate|show`

use std::path::Path;

use anyhow::Context as _;
use evident_store::default_key_path;
use evident_store::keys::LogKey;

use super::context;
use crate::cli::KeysCommand;
use crate::{Failure, Outcome};

pub fn run(store: Option<&Path>, command: &KeysCommand) -> Result<Outcome, Failure> {
    let store_dir = context::store_dir(store);
    match command {
        KeysCommand::Generate { name, out, force } => {
            let name = match name {
                Some(n) => n.clone(),
                None => default_name()?,
            };
            let key = LogKey::generate(&name)?;
            let path = out.clone().unwrap_or_else(|| default_key_path(&store_dir));
            key.write(&path, *force)?;
            eprintln!(
                "wrote the private signing key to {} (owner-only). Keep it secret; in CI, put its text in EVIDENT_SIGNING_KEY.",
                path.display()
            );
            eprintln!(
                "Publish the verifier key and pin it in evident.toml:\n\n[ledger]\nverifier_key = \"{}\"\n",
                key.verifier_text()
            );
            super::print(&format!("{}\n", key.verifier_text()))?;
        }
        KeysCommand::Show { key } => {
            let key = context::signing_key(&store_dir, key)?;
            super::print(&format!("{}\n", key.verifier_text()))?;
        }
    }
    Ok(Outcome::Clean)
}

/// `evident.local/<directory name>` for the repository (or current directory).
fn default_name() -> Result<String, Failure> {
    let here = Path::new(".")
        .canonicalize()
        .context("cannot resolve the current directory")?;
    let root = context::repo_root(&here).unwrap_or(here);
    let dir: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let dir = if dir.is_empty() {
        "ledger".to_owned()
    } else {
        dir
    };
    Ok(format!("evident.local/{dir}"))
}
