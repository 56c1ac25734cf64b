//! `evident token create|list|revoke`: the API tokens of `evident serve`.
//!
//! The token file (`<store>/tokens.json`) keeps hashes only; the secret is printed once. Every
//! change is recorded as `security` evidence: here when the ledger's writer lock is free, else
//! by the running server that holds it (it watches the file), and in any case by the next
//! `evident token create|revoke` that finds the lock free.

use std::path::Path;

use anyhow::anyhow;
use evident_server::tokens::{self, Change, FileLock, Role, TokenFile};
use evident_store::Store;
use evident_store::keys::LogKey;
use jiff::Timestamp;
use serde_json::json;

use super::context;
use crate::cli::{KeyArgs, ListFormat, TokenCommand, TokenRole};
use crate::{Failure, Outcome};

pub fn run(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    command: &TokenCommand,
) -> Result<Outcome, Failure> {
    match command {
        TokenCommand::Create {
            role,
            name,
            expires,
            actor,
            key,
            format,
        } => create(
            store_opt,
            config_path,
            &Request {
                role: *role,
                name,
                expires: expires.as_deref(),
                actor: actor.as_deref(),
                key,
                format: *format,
            },
        ),
        TokenCommand::List { format } => list(store_opt, *format),
        TokenCommand::Revoke { id, actor, key } => {
            revoke(store_opt, config_path, id, actor.as_deref(), key)
        }
    }
}

struct Request<'a> {
    role: TokenRole,
    name: &'a str,
    expires: Option<&'a str>,
    actor: Option<&'a str>,
    key: &'a KeyArgs,
    format: ListFormat,
}

fn role(r: TokenRole) -> Role {
    match r {
        TokenRole::Admin => Role::Admin,
        TokenRole::Recorder => Role::Recorder,
        TokenRole::Auditor => Role::Auditor,
        TokenRole::Viewer => Role::Viewer,
    }
}

/// An expiry: a duration from now (`90d`, `12h`, `8w`) or a date / RFC 3339 time.
fn parse_expiry(text: &str, now: Timestamp) -> Result<Timestamp, Failure> {
    let text = text.trim();
    let unit_hours = match text.chars().last() {
        Some('h') => Some(1),
        Some('d') => Some(24),
        Some('w') => Some(24 * 7),
        _ => None,
    };
    if let Some(hours) = unit_hours
        && let Ok(n) = text[..text.len() - 1].parse::<i64>()
    {
        if n <= 0 {
            fail!("--expires {text}: the duration must be positive");
        }
        let span = n
            .checked_mul(hours)
            .map(jiff::SignedDuration::from_hours)
            .ok_or_else(|| anyhow!("--expires {text}: too far in the future"))?;
        return Ok(now
            .checked_add(span)
            .map_err(|_| anyhow!("--expires {text}: too far in the future"))?);
    }
    let t = context::parse_bound(text, true).map_err(|e| {
        anyhow!(
            "--expires {text}: expected a duration (90d, 12h, 8w) or a date: {:#}",
            e.0
        )
    })?;
    if t <= now {
        fail!("--expires {text} is in the past");
    }
    Ok(t)
}

fn retain_years(config_path: Option<&Path>) -> Result<i16, Failure> {
    let config = context::project_config(config_path)?;
    Ok(config
        .ledger
        .retention_years
        .unwrap_or(7)
        .try_into()
        .unwrap_or(i16::MAX))
}

/// What became of the changes waiting to be recorded.
enum Flush {
    /// Recorded as these entries.
    Recorded(Vec<u64>),
    /// The ledger is locked by another writer (a running server records them).
    Deferred,
}

/// Records the changes of `file` that are not in the ledger yet, if the ledger's writer lock
/// is free, and marks them in the file. The caller holds the token file's lock.
fn flush(
    dir: &Path,
    key: &LogKey,
    years: i16,
    file: &mut TokenFile,
) -> Result<(Vec<Change>, Flush), Failure> {
    let pending = file.pending();
    if pending.is_empty() {
        return Ok((pending, Flush::Recorded(Vec::new())));
    }
    // A running `evident serve` may hold the writer lock for a batch: do not wait for it (it
    // records what is pending itself).
    std::fs::create_dir_all(dir)?;
    let probe = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))?;
    match probe.try_lock() {
        Ok(()) => drop(probe),
        Err(std::fs::TryLockError::WouldBlock) => return Ok((pending, Flush::Deferred)),
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    let store = Store::open_with(dir, &super::context::store_options())?;
    let mut writer = store.writer(key)?;
    let batch = pending
        .iter()
        .map(|c| c.draft(years).build())
        .collect::<Result<Vec<_>, _>>()?;
    let seqs = writer.append(batch)?;
    for (change, seq) in pending.iter().zip(&seqs) {
        file.mark(change, *seq);
    }
    tokens::save(&tokens::file_path(dir), file)?;
    Ok((pending, Flush::Recorded(seqs)))
}

fn describe(pending: &[Change], flushed: &Flush) -> String {
    match flushed {
        Flush::Recorded(seqs) => pending
            .iter()
            .zip(seqs)
            .map(|(c, seq)| format!("{} {} recorded as entry {seq}", c.action.as_str(), c.id))
            .collect::<Vec<_>>()
            .join("; "),
        Flush::Deferred => format!(
            "{} change(s) wait for the ledger, which another writer holds (a running `evident serve` records them within seconds)",
            pending.len()
        ),
    }
}

fn create(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    req: &Request<'_>,
) -> Result<Outcome, Failure> {
    let dir = context::store_dir(store_opt);
    let years = retain_years(config_path)?;
    // The creation must be recordable: no signing key, no token.
    let key = context::signing_key(&dir, req.key)?;
    let now = context::now();
    let expires = req.expires.map(|t| parse_expiry(t, now)).transpose()?;
    let actor = context::actor(req.actor);
    let path = tokens::file_path(&dir);
    let _lock = FileLock::acquire(&dir)?;
    let mut file = tokens::load(&path)?;
    let (secret, token) = file.create(req.name, role(req.role), expires, &actor, now)?;
    tokens::save(&path, &file)?;
    let (pending, flushed) = match flush(&dir, &key, years, &mut file) {
        Ok(done) => done,
        Err(e) => {
            // Not recorded: the token must not exist either.
            file.forget_unrecorded(&token.id);
            tokens::save(&path, &file)?;
            return Err(Failure(e.0.context(
                "cannot record the token's creation; no token was created",
            )));
        }
    };
    let entry = match &flushed {
        Flush::Recorded(seqs) => pending
            .iter()
            .zip(seqs)
            .find(|(c, _)| c.id == token.id)
            .map(|(_, s)| *s),
        Flush::Deferred => None,
    };
    match req.format {
        ListFormat::Json => super::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json!({
                "id": token.id,
                "name": token.name,
                "role": token.role.as_str(),
                "created": token.created,
                "expires": token.expires,
                "token": secret,
                "recorded_entry": entry,
            }))?
        ))?,
        ListFormat::Human => {
            super::print(&format!("{secret}\n"))?;
            eprintln!(
                "created token {} ({}, {}){}; {}",
                token.id,
                token.name,
                token.role,
                token
                    .expires
                    .as_deref()
                    .map(|e| format!(", expires {e}"))
                    .unwrap_or_default(),
                describe(&pending, &flushed)
            );
            eprintln!(
                "keep the token now: it is not shown again (the store keeps only its SHA-256)"
            );
        }
    }
    Ok(Outcome::Clean)
}

fn revoke(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    id: &str,
    actor: Option<&str>,
    key_args: &KeyArgs,
) -> Result<Outcome, Failure> {
    let dir = context::store_dir(store_opt);
    let years = retain_years(config_path)?;
    let key = context::signing_key(&dir, key_args)?;
    let path = tokens::file_path(&dir);
    let _lock = FileLock::acquire(&dir)?;
    let mut file = tokens::load(&path)?;
    let token = file.revoke(id, &context::actor(actor), context::now())?;
    // The revocation stands even if it cannot be recorded yet: it is pending in the file.
    tokens::save(&path, &file)?;
    let (pending, flushed) = flush(&dir, &key, years, &mut file)?;
    eprintln!(
        "revoked token {} ({}, {}); {}",
        token.id,
        token.name,
        token.role,
        describe(&pending, &flushed)
    );
    Ok(Outcome::Clean)
}

fn list(store_opt: Option<&Path>, format: ListFormat) -> Result<Outcome, Failure> {
    let dir = context::store_dir(store_opt);
    let file = tokens::load(&tokens::file_path(&dir))?;
    let now = context::now();
    let text = match format {
        ListFormat::Json => {
            let rows: Vec<_> = file
                .tokens
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id,
                        "name": t.name,
                        "role": t.role.as_str(),
                        "status": t.status(now),
                        "created": t.created,
                        "created_by": t.created_by,
                        "expires": t.expires,
                        "revoked": t.revoked,
                        "revoked_by": t.revoked_by,
                        "created_entry": t.created_entry,
                        "revoked_entry": t.revoked_entry,
                    })
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        }
        ListFormat::Human => {
            if file.tokens.is_empty() {
                "no tokens: create one with `evident token create --role … --name …`\n".to_owned()
            } else {
                let mut out = format!(
                    "{:<12}  {:<20} {:<8}  {:<7}  {:<20}  {:<20}  {}\n",
                    "ID", "NAME", "ROLE", "STATUS", "CREATED", "EXPIRES", "REVOKED"
                );
                for t in &file.tokens {
                    out.push_str(&format!(
                        "{:<12}  {:<20} {:<8}  {:<7}  {:<20}  {:<20}  {}\n",
                        t.id,
                        t.name,
                        t.role.as_str(),
                        t.status(now),
                        t.created,
                        t.expires.as_deref().unwrap_or("never"),
                        t.revoked.as_deref().unwrap_or("-"),
                    ));
                }
                out
            }
        }
    };
    super::print(&text)?;
    Ok(Outcome::Clean)
}
