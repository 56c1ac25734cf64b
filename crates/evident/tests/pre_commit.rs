//! The real pre-commit framework runs evident's hook definition: a commit that adds a secret is
//! blocked, a clean commit passes. scripts/test.sh installs pre-commit into its virtual
//! environment and exports EVIDENT_TEST_PRE_COMMIT.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixtures, git, git_command, new_repo};

fn pre_commit() -> PathBuf {
    let path = std::env::var_os("EVIDENT_TEST_PRE_COMMIT")
        .map_or_else(|| PathBuf::from("pre-commit"), PathBuf::from);
    let ok = Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the pre-commit framework is not available at {}: run the suite with `bash scripts/test.sh`, which installs it",
        path.display()
    );
    path
}

/// git with the binary under test first on PATH and pre-commit's cache in `home`.
fn git_with_hook(dir: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    let bin_dir = assert_cmd::cargo::cargo_bin("evident")
        .parent()
        .unwrap()
        .to_path_buf();
    let pre_commit_dir = pre_commit()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = std::env::join_paths([bin_dir, pre_commit_dir].into_iter().chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    git_command(dir)
        .args(args)
        .env("PATH", path)
        .env("HOME", home)
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_pre_commit_framework_blocks_a_secret_and_passes_a_clean_commit() {
    let pre_commit = pre_commit();
    let home = tempfile::tempdir().unwrap();

    // A hook repository holding exactly the .pre-commit-hooks.yaml this project ships.
    let hooks = tempfile::tempdir().unwrap();
    new_repo(hooks.path());
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.pre-commit-hooks.yaml");
    std::fs::copy(&shipped, hooks.path().join(".pre-commit-hooks.yaml")).unwrap();
    git(hooks.path(), &["add", "."]);
    git(hooks.path(), &["commit", "-qm", "hooks"]);
    let rev = git(hooks.path(), &["rev-parse", "HEAD"]);

    // A project that uses it.
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    new_repo(dir);
    std::fs::write(
        dir.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: evident-secrets\n",
            hooks.path().display()
        ),
    )
    .unwrap();
    let install = Command::new(&pre_commit)
        .arg("install")
        .current_dir(dir)
        .env("HOME", home.path())
        .env("PRE_COMMIT_HOME", home.path().join("pre-commit-cache"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    // A clean commit passes through the hook.
    std::fs::write(dir.join("README.md"), "# service\n").unwrap();
    git(dir, &["add", "README.md", ".pre-commit-config.yaml"]);
    let clean = git_with_hook(dir, home.path(), &["commit", "-m", "clean"]);
    let clean_out = format!(
        "{}{}",
        String::from_utf8_lossy(&clean.stdout),
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(
        clean.status.success(),
        "clean commit was blocked:\n{clean_out}"
    );
    assert!(
        clean_out.contains("evident secrets"),
        "the hook did not run:\n{clean_out}"
    );

    // A commit that adds a secret is blocked, and says what and where.
    std::fs::copy(fixtures().join("tree/src/client.py"), dir.join("client.py")).unwrap();
    git(dir, &["add", "client.py"]);
    let blocked = git_with_hook(dir, home.path(), &["commit", "-m", "add client"]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&blocked.stdout),
        String::from_utf8_lossy(&blocked.stderr)
    );
    assert!(
        !blocked.status.success(),
        "a commit with a secret went through:\n{out}"
    );
    assert!(
        out.contains("client.py:3") && out.contains("github-pat-classic"),
        "{out}"
    );
    assert!(out.contains("ghp_********"), "{out}");
    assert_eq!(
        git(dir, &["rev-list", "--count", "HEAD"]),
        "1",
        "the blocked commit must not exist"
    );
}
