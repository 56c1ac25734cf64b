//! API tokens: roles, the token file `<store>/tokens.json` (hashes only), and the evidence of
//! every change to it.
//!
//! A token's secret is `evt_` followed by 32 random bytes in unpadded base64url. It is shown
//! once, when created; the file keeps only its SHA-256. The file is written atomically (a
//! temporary file, synced, renamed into place) with owner-only permissions, and every
//! read-modify-write holds `<store>/tokens.lock`.
//!
//! Every creation and revocation is itself `security` evidence. The change is written to the
//! file first, marked as not yet recorded; whoever holds the ledger's writer lock records it
//! and marks it with its entry: the CLI when no server runs, else the running server (which
//! holds that lock for its lifetime and watches the file).

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine as _;
use evident_ledger::record::EvidenceKind;
use evident_store::draft::Draft;
use evident_store::timefmt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::auth::AuthFailure;
use crate::evidence::predicate_type_for;

/// The token file, relative to the store.
pub const FILE: &str = "tokens.json";
/// The lock of the token file's read-modify-write cycles, relative to the store.
pub const LOCK: &str = "tokens.lock";
/// The prefix of every token secret (lets secret scanners and humans recognise one).
pub const PREFIX: &str = "evt_";
/// The format version of the token file.
const VERSION: u32 = 1;

/// Why the token file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A filesystem error.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file is not a token file.
    #[error("{path} is not a valid token file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No randomness.
    #[error("cannot read random bytes for a new token: {0}")]
    Random(String),
    /// A request that cannot be done (unknown id, bad name, …).
    #[error("{0}")]
    Invalid(String),
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> TokenError + 'a {
    move |source| TokenError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Append evidence (CI); reads nothing.
    Recorder,
    /// Read everything and export auditor packages.
    Auditor,
    /// Read everything.
    Viewer,
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read evidence, proofs, the log.
    Read,
    /// Append evidence.
    Append,
    /// Export an auditor package.
    Export,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Recorder, Role::Auditor, Role::Viewer];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Recorder => "recorder",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    /// Whether the role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Recorder => permission == Permission::Append,
            Role::Auditor => matches!(permission, Permission::Read | Permission::Export),
            Role::Viewer => permission == Permission::Read,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown role `{s}`: expected admin, recorder, auditor or viewer")
            })
    }
}

/// One token, as the file keeps it: never the secret, only its SHA-256.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The token's id (12 hex digits), shown in lists and used to revoke it.
    pub id: String,
    /// A name for people (`ci-payments`).
    pub name: String,
    pub role: Role,
    /// When it was created (RFC 3339, UTC).
    pub created: String,
    /// Who created it.
    pub created_by: String,
    /// When it stops working, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// When it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
    /// Who revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// Hex SHA-256 of the secret.
    pub sha256: String,
    /// The ledger entry recording its creation; `None` until recorded.
    #[serde(default)]
    pub created_entry: Option<u64>,
    /// The ledger entry recording its revocation; `None` until recorded (or not revoked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_entry: Option<u64>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not even the hash.
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("created", &self.created)
            .field("expires", &self.expires)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// `active`, `revoked` or `expired` at `now`.
    pub fn status(&self, now: Timestamp) -> &'static str {
        if self.revoked.is_some() {
            "revoked"
        } else if self
            .expires
            .as_deref()
            .and_then(|e| timefmt::parse(e).ok())
            .is_some_and(|e| e <= now)
        {
            "expired"
        } else {
            "active"
        }
    }
}

/// The token file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFile {
    /// The format version (1).
    pub version: u32,
    /// Every token ever created, revoked ones included.
    pub tokens: Vec<Token>,
}

impl Default for TokenFile {
    fn default() -> Self {
        Self {
            version: VERSION,
            tokens: Vec::new(),
        }
    }
}

/// The token file of a store.
pub fn file_path(store: &Path) -> PathBuf {
    store.join(FILE)
}

/// Reads a token file; a missing file holds no tokens.
pub fn load(path: &Path) -> Result<TokenFile, TokenError> {
    match fs::read(path) {
        Ok(bytes) => parse(path, &bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(e) => Err(io_error("read", path)(e)),
    }
}

/// Parses the bytes of a token file.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<TokenFile, TokenError> {
    let file: TokenFile = serde_json::from_slice(bytes).map_err(|e| TokenError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if file.version != VERSION {
        return Err(TokenError::Corrupt {
            path: path.to_owned(),
            reason: format!(
                "version {} is not supported (expected {VERSION})",
                file.version
            ),
        });
    }
    Ok(file)
}

/// Writes the token file atomically with owner-only permissions.
pub fn save(path: &Path, file: &TokenFile) -> Result<(), TokenError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    let mut bytes = serde_json::to_vec_pretty(file).map_err(|e| TokenError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = (|| {
        let mut out = options.open(&tmp)?;
        #[cfg(unix)]
        {
            // An existing temporary file keeps its mode: make sure.
            use std::os::unix::fs::PermissionsExt as _;
            out.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        out.write_all(&bytes)?;
        out.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(io_error("write", path))
}

/// The exclusive lock of the token file, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Waits for and takes the lock of the store's token file.
    pub fn acquire(store: &Path) -> Result<Self, TokenError> {
        fs::create_dir_all(store).map_err(io_error("create", store))?;
        let path = store.join(LOCK);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("open", &path))?;
        file.lock().map_err(io_error("lock", &path))?;
        Ok(Self { _file: file })
    }

    /// Takes the lock if it is free; `None` when someone else holds it.
    pub fn try_acquire(store: &Path) -> Result<Option<Self>, TokenError> {
        fs::create_dir_all(store).map_err(io_error("create", store))?;
        let path = store.join(LOCK);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("open", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(io_error("lock", &path)(e)),
        }
    }
}

/// SHA-256 of a secret.
pub fn hash_secret(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

fn random<const N: usize>() -> Result<[u8; N], TokenError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(bytes)
}

/// Checks a token name: 1 to 64 letters, digits, `.`, `_`, `-`, `@` or `:`.
pub fn check_name(name: &str) -> Result<(), TokenError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@:".contains(&b))
    {
        return Err(TokenError::Invalid(format!(
            "token name `{name}`: use 1 to 64 letters, digits, `.`, `_`, `-`, `@` or `:`"
        )));
    }
    Ok(())
}

impl TokenFile {
    /// Adds a new token; returns its secret (to show once) and its entry in the file.
    pub fn create(
        &mut self,
        name: &str,
        role: Role,
        expires: Option<Timestamp>,
        actor: &str,
        now: Timestamp,
    ) -> Result<(String, Token), TokenError> {
        check_name(name)?;
        if expires.is_some_and(|e| e <= now) {
            return Err(TokenError::Invalid(
                "the expiry is not in the future".to_owned(),
            ));
        }
        let id = loop {
            let id = hex::encode(random::<6>()?);
            if !self.tokens.iter().any(|t| t.id == id) {
                break id;
            }
        };
        let mut raw = random::<32>()?;
        let secret = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        );
        raw.fill(0);
        let token = Token {
            id,
            name: name.to_owned(),
            role,
            created: timefmt::format(now),
            created_by: actor.to_owned(),
            expires: expires.map(timefmt::format),
            revoked: None,
            revoked_by: None,
            sha256: hex::encode(hash_secret(secret.as_bytes())),
            created_entry: None,
            revoked_entry: None,
        };
        self.tokens.push(token.clone());
        Ok((secret, token))
    }

    /// Revokes token `id`.
    pub fn revoke(&mut self, id: &str, actor: &str, now: Timestamp) -> Result<Token, TokenError> {
        let token = self
            .tokens
            .iter_mut()
            .find(|t| t.id == id.trim())
            .ok_or_else(|| {
                TokenError::Invalid(format!("no token with id `{id}` (`evident token list`)"))
            })?;
        if let Some(when) = &token.revoked {
            return Err(TokenError::Invalid(format!(
                "token {id} was already revoked at {when}"
            )));
        }
        token.revoked = Some(timefmt::format(now));
        token.revoked_by = Some(actor.to_owned());
        Ok(token.clone())
    }

    /// Removes a token that was never recorded (undoing a creation that could not be recorded).
    pub fn forget_unrecorded(&mut self, id: &str) {
        self.tokens
            .retain(|t| t.id != id || t.created_entry.is_some());
    }

    /// The changes not yet recorded in the ledger, oldest first.
    pub fn pending(&self) -> Vec<Change> {
        let mut out = Vec::new();
        for t in &self.tokens {
            if t.created_entry.is_none() {
                out.push(Change::new(t, Action::Created, &t.created_by, &t.created));
            }
            if let (Some(at), None) = (&t.revoked, t.revoked_entry) {
                let by = t.revoked_by.as_deref().unwrap_or("unknown");
                out.push(Change::new(t, Action::Revoked, by, at));
            }
        }
        out.sort_by(|a, b| a.at.cmp(&b.at));
        out
    }

    /// Notes that `change` is recorded as ledger entry `seq`.
    pub fn mark(&mut self, change: &Change, seq: u64) {
        if let Some(t) = self.tokens.iter_mut().find(|t| t.id == change.id) {
            match change.action {
                Action::Created => t.created_entry = Some(seq),
                Action::Revoked => t.revoked_entry = Some(seq),
            }
        }
    }

    /// The tokens as the server checks them.
    pub fn credentials(&self) -> Vec<Credential> {
        self.tokens
            .iter()
            .filter_map(|t| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&t.sha256, &mut hash).ok()?;
                Some(Credential {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    role: t.role,
                    hash,
                    // An unreadable expiry counts as expired: fail closed.
                    expires: t
                        .expires
                        .as_ref()
                        .map(|e| timefmt::parse(e).unwrap_or(Timestamp::UNIX_EPOCH)),
                    revoked: t.revoked.is_some(),
                })
            })
            .collect()
    }
}

/// What happened to a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Revoked,
}

impl Action {
    /// The event name in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "token-created",
            Action::Revoked => "token-revoked",
        }
    }
}

/// A change to the token file that the ledger must record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub action: Action,
    pub actor: String,
    /// When it happened (RFC 3339).
    pub at: String,
    pub expires: Option<String>,
}

impl Change {
    fn new(t: &Token, action: Action, actor: &str, at: &str) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role,
            action,
            actor: actor.to_owned(),
            at: at.to_owned(),
            expires: t.expires.clone(),
        }
    }

    /// The ledger subject of a token's records.
    pub fn subject(&self) -> String {
        format!("env:evident-token-{}", self.id)
    }

    /// The `security` evidence of this change: who did what to which token, when; never the
    /// secret or its hash. Kept `retain_years` from the change.
    pub fn draft(&self, retain_years: i16) -> Draft {
        let now = timefmt::parse(&self.at).unwrap_or(Timestamp::UNIX_EPOCH);
        let labels = [
            ("event", self.action.as_str()),
            ("token", &self.id),
            ("name", &self.name),
            ("role", self.role.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut predicate = Map::new();
        predicate.insert("event".into(), json!(self.action.as_str()));
        predicate.insert("token".into(), json!(self.id));
        predicate.insert("name".into(), json!(self.name));
        predicate.insert("role".into(), json!(self.role.as_str()));
        if let (Action::Created, Some(e)) = (self.action, &self.expires) {
            predicate.insert("expires".into(), json!(e));
        }
        Draft {
            kind: EvidenceKind::Security,
            subject: self.subject(),
            // Credentials issued and removed by role: access provisioning and revocation.
            controls: [
                "iso27001:A.5.17",
                "iso27001:A.5.18",
                "soc2:CC6.2",
                "soc2:CC6.3",
            ]
            .map(str::to_owned)
            .to_vec(),
            predicate_type: predicate_type_for(EvidenceKind::Security),
            actor: self.actor.clone(),
            now,
            retain_until: timefmt::add_years(now, retain_years).unwrap_or(now),
            labels,
            predicate,
            content: Vec::new(),
        }
    }
}

/// A token as the server checks it.
#[derive(Clone)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub role: Role,
    hash: [u8; 32],
    expires: Option<Timestamp>,
    revoked: bool,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Finds the token of an `Authorization: Bearer <secret>` header: the secret's hash is compared
/// with every token's in constant time. Revoked and expired tokens do not authenticate.
pub fn authenticate<'a>(
    credentials: &'a [Credential],
    header: Option<&[u8]>,
    now: Timestamp,
) -> Result<&'a Credential, AuthFailure> {
    let header = header.ok_or(AuthFailure::Missing)?;
    let given = header
        .strip_prefix(b"Bearer ")
        .or_else(|| header.strip_prefix(b"bearer "))
        .ok_or(AuthFailure::Malformed)?;
    let given = given.trim_ascii();
    if given.is_empty() {
        return Err(AuthFailure::Malformed);
    }
    let digest = hash_secret(given);
    let mut hit = None;
    for (i, c) in credentials.iter().enumerate() {
        if bool::from(c.hash.ct_eq(&digest)) {
            hit = Some(i);
        }
    }
    let c = &credentials[hit.ok_or(AuthFailure::Mismatch)?];
    if c.revoked || c.expires.is_some_and(|e| e <= now) {
        return Err(AuthFailure::Mismatch);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn roles_grant_what_they_say() {
        assert!(Role::Admin.allows(Permission::Read) && Role::Admin.allows(Permission::Append));
        assert!(Role::Recorder.allows(Permission::Append));
        assert!(!Role::Recorder.allows(Permission::Read));
        for r in [Role::Auditor, Role::Viewer] {
            assert!(r.allows(Permission::Read) && !r.allows(Permission::Append));
        }
        // Exports: auditors and admins only.
        let exporters: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.allows(Permission::Export))
            .collect();
        assert_eq!(exporters, [Role::Admin, Role::Auditor]);
        assert_eq!("Recorder".parse::<Role>(), Ok(Role::Recorder));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn a_secret_authenticates_until_revoked_or_expired() {
        let mut file = TokenFile::default();
        let (secret, token) = file
            .create("ci", Role::Recorder, None, "ada", now())
            .unwrap();
        assert!(secret.starts_with(PREFIX) && secret.len() == 4 + 43);
        assert_ne!(token.sha256, secret);
        let later: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
        let (short, _) = file
            .create("short", Role::Viewer, Some(later), "ada", now())
            .unwrap();
        let creds = file.credentials();
        let header = format!("Bearer {secret}");
        let found = authenticate(&creds, Some(header.as_bytes()), now()).unwrap();
        assert_eq!(found.id, token.id);
        assert_eq!(found.role, Role::Recorder);
        assert_eq!(
            authenticate(&creds, Some(b"Bearer evt_nope"), now()).unwrap_err(),
            AuthFailure::Mismatch
        );
        assert_eq!(
            authenticate(&creds, None, now()).unwrap_err(),
            AuthFailure::Missing
        );
        assert_eq!(
            authenticate(&creds, Some(secret.as_bytes()), now()).unwrap_err(),
            AuthFailure::Malformed
        );
        let short_header = format!("Bearer {short}");
        assert!(authenticate(&creds, Some(short_header.as_bytes()), now()).is_ok());
        assert!(authenticate(&creds, Some(short_header.as_bytes()), later).is_err());

        file.revoke(&token.id, "bob", now()).unwrap();
        assert!(file.revoke(&token.id, "bob", now()).is_err());
        let creds = file.credentials();
        assert!(authenticate(&creds, Some(header.as_bytes()), now()).is_err());
        assert_eq!(file.tokens[0].status(now()), "revoked");
        assert_eq!(file.tokens[1].status(later), "expired");
        let debug = format!("{file:?} {creds:?}");
        assert!(!debug.contains(&file.tokens[0].sha256), "{debug}");
    }

    #[test]
    fn changes_are_pending_until_marked_and_never_carry_the_secret() {
        let mut file = TokenFile::default();
        let (secret, token) = file.create("ci", Role::Admin, None, "ada", now()).unwrap();
        file.revoke(&token.id, "bob", now()).unwrap();
        let pending = file.pending();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].action, Action::Created);
        assert_eq!(pending[1].actor, "bob");
        let ev = pending[1].draft(7).build().unwrap();
        assert_eq!(ev.record.kind, EvidenceKind::Security);
        assert_eq!(ev.record.subject, format!("env:evident-token-{}", token.id));
        let text = serde_json::to_string(&ev.statement).unwrap();
        assert!(!text.contains(&secret) && !text.contains(&token.sha256));
        file.mark(&pending[0], 3);
        file.mark(&pending[1], 4);
        assert!(file.pending().is_empty());
    }

    #[test]
    fn the_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path());
        assert_eq!(load(&path).unwrap(), TokenFile::default());
        let mut file = TokenFile::default();
        file.create("ci", Role::Viewer, None, "ada", now()).unwrap();
        let _lock = FileLock::acquire(dir.path()).unwrap();
        save(&path, &file).unwrap();
        assert_eq!(load(&path).unwrap(), file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(&path, b"{").unwrap();
        assert!(matches!(load(&path), Err(TokenError::Corrupt { .. })));
        assert!(check_name("ci payments").is_err());
    }
}
