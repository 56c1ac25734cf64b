//! `evident init`: a commented configuration and the pre-commit hook.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use crate::cli::InitArgs;
use crate::{Failure, Outcome};

const TEMPLATE: &str = include_str!("../../templates/evident.toml");

const HOOK: &str = "#!/bin/sh\n# evident: block commits that add secrets (installed by `evident init`).\n# Bypass once with `git commit --no-verify` only if you are sure; the CI scan still runs.\nexec evident scan secrets --staged\n";

pub fn run(args: &InitArgs) -> Result<Outcome, Failure> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        return Err(anyhow!("{}: not a directory", dir.display()).into());
    }
    let config = dir.join(evident_core::config::FILE_NAME);
    let mut said = Vec::new();
    if config.exists() && !args.force {
        said.push(format!(
            "{} exists; left unchanged (use --force to overwrite)",
            config.display()
        ));
    } else {
        std::fs::write(&config, TEMPLATE)
            .with_context(|| format!("cannot write {}", config.display()))?;
        said.push(format!("wrote {}", config.display()));
    }
    if !args.no_hook {
        match install_hook(&dir, args.force)? {
            Some(path) => said.push(format!("installed pre-commit hook {}", path.display())),
            None => said.push("not a git repository: no pre-commit hook installed".into()),
        }
    }
    super::print(&(said.join("\n") + "\n"))?;
    Ok(Outcome::Clean)
}

fn install_hook(dir: &Path, force: bool) -> Result<Option<PathBuf>, Failure> {
    let git = dir.join(".git");
    if !git.is_dir() {
        if git.is_file() {
            return Err(anyhow!(
                "{} is a git worktree or submodule link; install the hook with the pre-commit framework (see .pre-commit-hooks.yaml) or copy it into the main repository's hooks directory",
                git.display()
            )
            .into());
        }
        return Ok(None);
    }
    let hooks = git.join("hooks");
    std::fs::create_dir_all(&hooks)
        .with_context(|| format!("cannot create {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if hook.exists() && !force {
        let existing = std::fs::read_to_string(&hook).unwrap_or_default();
        if existing.contains("evident scan secrets") {
            return Ok(Some(hook));
        }
        return Err(anyhow!(
            "{} already exists and is not evident's; add `evident scan secrets --staged` to it yourself, or use --force to replace it",
            hook.display()
        )
        .into());
    }
    std::fs::write(&hook, HOOK).with_context(|| format!("cannot write {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(Some(hook))
}
