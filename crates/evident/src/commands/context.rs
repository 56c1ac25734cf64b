//! What the ledger commands share: where the store is, which key signs, which key is trusted,
//! the current commit, and how times and controls given on the command line are read.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context as _, anyhow};
use evident_core::{Clock as _, Config, SystemClock};
use evident_ledger::note::Verifier;
use evident_store::keys::LogKey;
use evident_store::{Store, default_key_path, timefmt};
use jiff::Timestamp;

use crate::Failure;
use crate::cli::{KeyArgs, VkeyArgs};

/// The repository root above `dir`, if any.
pub fn repo_root(dir: &Path) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The store directory: explicit, or `.evident/` at the repository root or here.
pub fn store_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    let here = PathBuf::from(".");
    repo_root(&here).unwrap_or(here).join(".evident")
}

static DATABASE_URL: OnceLock<Option<String>> = OnceLock::new();

/// Keeps the global `--database-url` / `EVIDENT_DATABASE_URL` for the run (set once, before
/// any command opens the store).
pub fn set_database_url(url: Option<String>) {
    let _ = DATABASE_URL.set(url.filter(|u| !u.trim().is_empty()));
}

/// The database holding the store's index, when it is not the embedded SQLite file.
pub fn database_url() -> Option<String> {
    DATABASE_URL.get().cloned().flatten()
}

static BLOB_URL: OnceLock<Option<String>> = OnceLock::new();

/// Keeps the global `--blob-url` / `EVIDENT_BLOB_URL` for the run (set once, before any command
/// opens the store).
pub fn set_blob_url(url: Option<String>) {
    let _ = BLOB_URL.set(url.filter(|u| !u.trim().is_empty()));
}

/// Where the log and the content blobs live, when not in the store directory.
pub fn blob_url() -> Option<String> {
    BLOB_URL.get().cloned().flatten()
}

/// Where the store keeps its index, log and blobs beyond its directory (the global options).
pub fn store_options() -> evident_store::StoreOptions {
    evident_store::StoreOptions {
        database_url: database_url(),
        blob_url: blob_url(),
    }
}

/// Opens the store, with its index, log and blobs where the global options say.
pub fn open_store(explicit: Option<&Path>) -> Result<Store, Failure> {
    let dir = store_dir(explicit);
    Ok(Store::open_with(&dir, &store_options())
        .with_context(|| format!("cannot open the evidence store {}", dir.display()))?)
}

/// Opens a store that must already hold a log (for read-only commands).
pub fn open_existing_store(explicit: Option<&Path>) -> Result<Store, Failure> {
    let dir = store_dir(explicit);
    // With the log in a bucket, the directory only holds the lock (and maybe the index): a
    // host that never wrote reads the bucket's log all the same.
    if blob_url().is_none() && !dir.join("log").is_dir() {
        return Err(anyhow!(
            "no evidence store at {}: record evidence first (`evident record …` or `evident scan … --record`), or point --store / EVIDENT_STORE at one",
            dir.display()
        )
        .into());
    }
    open_store(explicit)
}

/// The signing key: EVIDENT_SIGNING_KEY (the key text), `--key` / EVIDENT_SIGNING_KEY_FILE, or
/// the store's default key file.
pub fn signing_key(store: &Path, args: &KeyArgs) -> Result<LogKey, Failure> {
    if let Ok(text) = std::env::var("EVIDENT_SIGNING_KEY")
        && !text.trim().is_empty()
    {
        return Ok(LogKey::parse(&text, "EVIDENT_SIGNING_KEY")?);
    }
    let path = args.key.clone().unwrap_or_else(|| default_key_path(store));
    if !path.exists() {
        fail!(
            "no signing key at {}: create one with `evident keys generate`{} (in CI, set EVIDENT_SIGNING_KEY to the key text)",
            path.display(),
            if args.key.is_some() {
                " --out that path"
            } else {
                ""
            }
        );
    }
    Ok(LogKey::read(&path)?)
}

/// Where the trusted verifier key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// `--vkey` or EVIDENT_VERIFIER_KEY.
    Explicit,
    /// `[ledger] verifier_key` in evident.toml.
    Config,
    /// Derived from the signing key at hand.
    SigningKey,
    /// Read from beside the log itself: proves integrity, not authorship.
    Store,
}

impl Trust {
    /// A sentence for the human output.
    pub fn describe(self) -> &'static str {
        match self {
            Trust::Explicit => "the key given with --vkey",
            Trust::Config => "the key pinned in evident.toml",
            Trust::SigningKey => "the local signing key",
            Trust::Store => {
                "the key stored beside the log (pin it with `[ledger] verifier_key` in evident.toml or pass --vkey, or a replaced key goes unnoticed)"
            }
        }
    }
}

/// Parses a verifier key given as text or as a file holding it.
pub fn parse_vkey(text_or_file: &str) -> anyhow::Result<Verifier> {
    let text = if Path::new(text_or_file).is_file() {
        std::fs::read_to_string(text_or_file)
            .with_context(|| format!("cannot read {text_or_file}"))?
    } else {
        text_or_file.to_owned()
    };
    text.trim().parse::<Verifier>().map_err(|e| {
        anyhow!(
            "`{}` is not a verifier key (name+keyid+base64): {e}",
            text.trim()
        )
    })
}

/// The verifier key to trust, and where it came from.
pub fn trusted_verifier(
    store: &Path,
    vkey: &VkeyArgs,
    config: &Config,
) -> Result<(Verifier, Trust), Failure> {
    if let Some(text) = &vkey.vkey {
        return Ok((parse_vkey(text)?, Trust::Explicit));
    }
    if let Some(text) = &config.ledger.verifier_key {
        let v = parse_vkey(text).context("evident.toml [ledger] verifier_key")?;
        return Ok((v, Trust::Config));
    }
    if let Ok(key) = signing_key(store, &KeyArgs { key: None }) {
        return Ok((key.verifier(), Trust::SigningKey));
    }
    let (text, place) = if let Some(url) = blob_url() {
        // The log (and the key written beside it) is in a bucket.
        let opened = Store::open_with(store, &store_options())
            .with_context(|| format!("cannot open the evidence store {}", store.display()))?;
        let bytes = opened
            .tiles()
            .read_resource("vkey")
            .map_err(|e| anyhow!("{url}: {e}"))?;
        (
            bytes.and_then(|b| String::from_utf8(b).ok()),
            format!("{}/vkey", opened.tiles().location()),
        )
    } else {
        let path = store.join("log").join("vkey");
        (
            std::fs::read_to_string(&path).ok(),
            path.display().to_string(),
        )
    };
    let text = text.ok_or_else(|| {
        anyhow!(
            "no verifier key: pass --vkey or pin `[ledger] verifier_key` in evident.toml ({place} is missing)"
        )
    })?;
    Ok((parse_vkey(text.trim())?, Trust::Store))
}

/// The project configuration at the repository root (or here).
pub fn project_config(explicit: Option<&Path>) -> Result<Config, Failure> {
    if let Some(path) = explicit {
        return Ok(Config::load(path)?);
    }
    let here = PathBuf::from(".");
    let root = repo_root(&here).unwrap_or(here);
    Ok(Config::discover(&root)?.0)
}

/// The commit checked out in the repository around `dir`.
pub fn current_commit(dir: &Path) -> Result<String, Failure> {
    let head = gix::discover(dir)
        .map_err(|e| e.to_string())
        .and_then(|repo| {
            repo.head_id()
                .map(|id| id.to_string())
                .map_err(|e| e.to_string())
        });
    match head {
        Ok(id) => Ok(id),
        Err(e) => fail!(
            "cannot tell the current commit of {} ({e}); pass --subject git:<commit>, sha256:<digest> or env:<name>",
            dir.display()
        ),
    }
}

/// Normalises a subject given on the command line: a bare commit id becomes `git:<id>`.
pub fn parse_subject(text: &str) -> Result<String, Failure> {
    let text = text.trim();
    let candidate =
        if text.len() >= 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) && !text.contains(':') {
            format!("git:{}", text.to_ascii_lowercase())
        } else {
            text.to_owned()
        };
    evident_ledger::record::subject_digest(&candidate).map_err(|e| anyhow!("--subject {e}"))?;
    Ok(candidate)
}

/// The subject: given, or the current commit.
pub fn subject_or_head(given: Option<&str>) -> Result<String, Failure> {
    match given {
        Some(text) => parse_subject(text),
        None => Ok(format!("git:{}", current_commit(Path::new("."))?)),
    }
}

/// Normalises a control reference (`CC8.1` alone is accepted when it names one control).
pub fn parse_control(text: &str) -> Result<String, Failure> {
    let reference = if text.contains(':') {
        text.to_owned()
    } else {
        match evident_controls::resolve(text) {
            Err(evident_controls::ControlError::MissingPrefix { candidates, .. })
                if candidates.len() == 1 =>
            {
                candidates[0].clone()
            }
            _ => text.to_owned(),
        }
    };
    let (fw, control) = evident_controls::resolve(&reference).map_err(|e| anyhow!("{e}"))?;
    Ok(format!("{}:{}", fw.id, control.id))
}

/// Who is recording: given, or the CI user, or the login name.
pub fn actor(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| {
            ["GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER", "USERNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A time bound given as RFC 3339, `YYYY-MM-DD` or `YYYY-MM`. For `end`, a date or month means
/// the end of that day or month (read as the server's API reads it).
pub fn parse_bound(text: &str, end: bool) -> Result<Timestamp, Failure> {
    evident_package::parse_bound(text, end).map_err(|e| anyhow!(e).into())
}

/// Now, as a record time.
pub fn now() -> Timestamp {
    SystemClock.now()
}

/// When a record made now must be kept until.
pub fn retain_until(
    given: Option<&str>,
    config: &Config,
    now: Timestamp,
) -> Result<Timestamp, Failure> {
    if let Some(text) = given {
        let t = parse_bound(text, false)?;
        if t < now {
            fail!("--retain-until {text} is in the past");
        }
        return Ok(t);
    }
    let years = config.ledger.retention_years.unwrap_or(7);
    Ok(timefmt::add_years(now, years.try_into().unwrap_or(i16::MAX)).map_err(|e| anyhow!(e))?)
}
